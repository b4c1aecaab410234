#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `hermetic serve` driven by real clients: aws-cli and boto3 call STS GetCallerIdentity with
//! the operator's credentials; a wrong secret and an unknown key are refused with AWS's codes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Server {
    child: Child,
    url: String,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start() -> Server {
    let dir = std::env::temp_dir().join(format!(
        "hermetic-serve-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("hermetic listening on ").unwrap().to_string();
    let second = lines.next().unwrap().unwrap();
    assert!(second.starts_with("operator credentials: "), "{second}");
    Server { child, url, dir }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

fn python() -> String {
    std::env::var("HERMETIC_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn aws_cli() -> PathBuf {
    let py = PathBuf::from(python());
    match py.parent() {
        Some(bin) if bin.join("aws").exists() => bin.join("aws"),
        _ => PathBuf::from("aws"),
    }
}

fn creds(dir: &Path) -> (String, String) {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("operator-credentials.json")).unwrap(),
    )
    .unwrap();
    (doc["AccessKeyId"].as_str().unwrap().into(), doc["SecretAccessKey"].as_str().unwrap().into())
}

fn aws(server: &Server, key: &str, secret: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(aws_cli())
        .args(["--endpoint-url", &server.url, "--region", "us-east-1", "--output", "json"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("aws-cli runs (./scripts/test.sh installs it into .venv)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn aws_cli_and_boto3_get_caller_identity() {
    let server = start();
    let (key, secret) = creds(&server.dir);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(server.dir.join("operator-credentials.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "credentials readable only by their owner");
    }
    let (ok, stdout, stderr) = aws(&server, &key, &secret, &["sts", "get-caller-identity"]);
    assert!(ok, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["Account"], "000000000000");
    assert_eq!(doc["Arn"], "arn:aws:iam::000000000000:user/operator");
    assert_eq!(doc["UserId"], key.as_str());

    let (ok, _, stderr) = aws(&server, &key, "wrong-secret", &["sts", "get-caller-identity"]);
    assert!(!ok);
    assert!(stderr.contains("SignatureDoesNotMatch"), "{stderr}");
    let (ok, _, stderr) =
        aws(&server, "AKIANOSUCHKEY0000000", &secret, &["sts", "get-caller-identity"]);
    assert!(!ok);
    assert!(stderr.contains("InvalidClientTokenId"), "{stderr}");

    let script = format!(
        "import boto3\n\
         c = boto3.client('sts', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='{}', aws_secret_access_key='{}')\n\
         print(c.get_caller_identity()['Arn'])",
        server.url, key, secret
    );
    let out = Command::new(python()).arg("-c").arg(script).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "arn:aws:iam::000000000000:user/operator"
    );

    // A restart keeps the same credentials.
    drop(server);
}

#[test]
fn restart_keeps_operator_credentials() {
    let server = start();
    let first = creds(&server.dir);
    let dir = server.dir.clone();
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _ = lines.next();
    let second = lines.next().unwrap().unwrap();
    assert!(second.ends_with("(existing)"), "{second}");
    assert_eq!(creds(&dir), first);
    let _ = child.kill();
    let _ = child.wait();
}
