#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `hermetic serve` driven by real clients: aws-cli and boto3 call STS GetCallerIdentity with
//! the operator's credentials; a wrong secret and an unknown key are refused with AWS's codes.

mod common;

use common::{aws, operator_creds as creds, python, start, start_in};
use std::process::Command;

#[test]
fn aws_cli_and_boto3_get_caller_identity() {
    let server = start("sts");
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
    let (ok, stdout, stderr) = aws(&server.url, &key, &secret, &["sts", "get-caller-identity"]);
    assert!(ok, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["Account"], "000000000000");
    assert_eq!(doc["Arn"], "arn:aws:iam::000000000000:user/operator");
    assert_eq!(doc["UserId"], key.as_str());

    let (ok, _, stderr) = aws(&server.url, &key, "wrong-secret", &["sts", "get-caller-identity"]);
    assert!(!ok);
    assert!(stderr.contains("SignatureDoesNotMatch"), "{stderr}");
    let (ok, _, stderr) =
        aws(&server.url, "AKIANOSUCHKEY0000000", &secret, &["sts", "get-caller-identity"]);
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
    let server = start("restart");
    let first = creds(&server.dir);
    let dir = server.dir.clone();
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    let (mut child, _, second) = start_in(&dir);
    assert!(second.ends_with("(existing)"), "{second}");
    assert_eq!(creds(&dir), first);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn config_file_settings_and_flag_precedence() {
    use std::io::BufRead;
    let dir = common::unique_dir("config");
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("from-file");
    let config = dir.join("hermetic.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\ncheckpoint_interval_secs = 5\n",
            data.display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("hermetic listening on ").unwrap().to_string();
    let (key, secret) = creds(&data);
    assert!(
        aws(&url, &key, &secret, &["sts", "get-caller-identity"]).0,
        "the file's data_dir is used"
    );
    let _ = child.kill();
    let _ = child.wait();
    // Unknown settings and half a TLS pair are refused before anything starts.
    std::fs::write(&config, "listn = \"127.0.0.1:0\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("listn"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&config, "tls_cert = \"/nope.pem\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}
