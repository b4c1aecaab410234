#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Issue 20's blob-store contract with the real binary: `hermetic serve --blob-store
//! s3://BUCKET[/PREFIX]` takes its endpoint, region and credentials from the standard AWS
//! variables (`AWS_ENDPOINT_URL_S3` before `AWS_ENDPOINT_URL`), objects go to that bucket and
//! come back through aws-cli, the metrics count blob bytes and `/readyz` says `blobs` when the
//! bucket stops answering; a bucket that does not answer refuses the start, naming the bucket
//! and never the secret; `serve --help` names the flags.

mod common;

use common::moto;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// `GET path` over plain HTTP/1.1: (status, body).
fn get(addr: &str, path: &str) -> (u16, String) {
    let (status, _, body) = common::http_get(addr, path);
    (status, body)
}

/// A sample's value in a scrape (`name{labels} value` or `name value`).
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in\n{text}"))
}

#[test]
fn the_blob_store_comes_from_the_aws_environment() {
    let bucket = moto::bucket("env");
    let dir = common::unique_dir("blob-env");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&dir)
        .args(["--blob-store", &format!("s3://{bucket}/from-env/")])
        // The S3-specific endpoint wins over the general one (which answers nothing).
        .env("AWS_ENDPOINT_URL_S3", moto::endpoint())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", moto::KEY)
        .env("AWS_SECRET_ACCESS_KEY", moto::SECRET)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url =
        lines.next().unwrap().unwrap().strip_prefix("hermetic listening on ").unwrap().to_string();
    let creds = lines.next().unwrap().unwrap();
    assert!(creds.starts_with("operator credentials: "), "{creds}");
    let metrics =
        lines.next().unwrap().unwrap().strip_prefix("hermetic metrics on ").unwrap().to_string();
    let mut server = common::Server {
        child,
        url,
        dir,
        db_args: Vec::new(),
        blob_args: Vec::new(),
        schema: None,
    };
    let tenant = common::create_tenant(&server, "acme");
    let aws = |args: &[&str]| common::aws(&server.url, &tenant.key, &tenant.secret, args);
    assert!(aws(&["s3", "mb", "s3://acme-env"]).0);
    let work = common::unique_dir("blob-env-files");
    std::fs::create_dir_all(&work).unwrap();
    let content: Vec<u8> = (0..(9 * 1024 * 1024)).map(|i: u32| (i % 253) as u8).collect();
    std::fs::write(work.join("up.bin"), &content).unwrap();
    let (ok, _, err) = aws(&["s3", "cp", work.join("up.bin").to_str().unwrap(), "s3://acme-env/k"]);
    assert!(ok, "{err}");
    let (ok, _, err) =
        aws(&["s3", "cp", "s3://acme-env/k", work.join("down.bin").to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(std::fs::read(work.join("down.bin")).unwrap() == content);

    // The bucket holds the blobs, under the prefix; the data directory holds none.
    let listed = moto::s3_call(&format!(
        "print(len([o for o in s3.list_objects_v2(Bucket={bucket:?}, Prefix='from-env/blobs/{}/').get('Contents', [])]))",
        tenant.account
    ));
    assert_ne!(listed.trim(), "0", "{listed}");
    assert!(!server.dir.join("blobs").join(&tenant.account).exists());

    // Metrics: ciphertext bytes both ways, the backend named; ready.
    let (status, text) = get(&metrics, "/metrics");
    assert_eq!(status, 200);
    assert!(sample(&text, "hermetic_blob_bytes_written_total") > content.len() as f64, "{text}");
    assert!(sample(&text, "hermetic_blob_bytes_read_total") > content.len() as f64, "{text}");
    assert!(text.contains("blob_backend=\"s3\""), "{text}");
    assert_eq!(get(&metrics, "/readyz").0, 200);

    // The bucket goes away: not ready, and the reason is the blob store.
    moto::s3_call(&format!(
        "b = {bucket:?}\n\
         for o in s3.list_objects_v2(Bucket=b).get('Contents', []): s3.delete_object(Bucket=b, Key=o['Key'])\n\
         s3.delete_bucket(Bucket=b)"
    ));
    let (status, body) = get(&metrics, "/readyz");
    assert_eq!((status, body.trim()), (503, "blobs"));
    let _ = server.child.kill();
    let _ = server.child.wait();
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn a_bucket_that_does_not_answer_refuses_the_start() {
    let dir = common::unique_dir("blob-missing");
    let out = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .args(["--blob-store", "s3://no-such-bucket-for-hermetic/p"])
        .args(["--blob-endpoint", moto::endpoint()])
        .env("AWS_ACCESS_KEY_ID", moto::KEY)
        .env("AWS_SECRET_ACCESS_KEY", moto::SECRET)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("no-such-bucket-for-hermetic"), "{err}");
    assert!(!err.contains(moto::SECRET), "{err}");
    let _ = std::fs::remove_file(server::bootstrap::root_key_path(&dir, None));
    let _ = std::fs::remove_dir_all(&dir);

    // Half a credential, or a malformed URL, is refused before anything starts.
    for (args, env, says) in [
        (vec!["--blob-store", "s3://b_c"], vec![], "not a bucket name"),
        (vec!["--blob-store", "s3://bucket"], vec![("AWS_ACCESS_KEY_ID", "AKIA")], "both"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_hermetic"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .args(&args)
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .envs(env)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn serve_help_names_the_blob_store_flags() {
    let (ok, out, err) = common::hermetic(&["serve", "--help"]);
    assert!(ok, "{err}");
    for flag in [
        "--blob-store",
        "--blob-endpoint",
        "--blob-region",
        "--blob-credentials-file",
        "--blob-read-grace-secs",
        "AWS_ENDPOINT_URL_S3",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        assert!(out.contains(flag), "{flag} not in\n{out}");
    }
}
