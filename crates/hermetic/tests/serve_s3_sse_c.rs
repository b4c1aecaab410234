#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! SSE-C over HTTPS (`scripts/s3_sse_c.py` with boto3, then aws-cli's `--sse-c`): objects
//! sealed under customer-provided keys, which the server never stores: neither the keys nor
//! their base64 form are anywhere in the data directory afterwards.

mod common;

use base64::Engine;
use common::{start_with, unique_dir};

#[test]
fn sse_c_over_tls() {
    let dir = unique_dir("sse-c");
    let (cert, key) = common::self_signed_cert(&dir);
    let data = dir.join("data");
    let (child, url, _) = start_with(
        &data,
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
    );
    // Killed on drop, also when an assertion fails.
    let mut server = common::Server {
        child,
        url: url.clone(),
        dir: dir.clone(),
        db_args: vec![],
        blob_args: Vec::new(),
        schema: None,
    };
    let created = common::create_account_over_tls(&url, &cert, &data, "acme");
    let (k, s) =
        (created["AccessKeyId"].as_str().unwrap(), created["SecretAccessKey"].as_str().unwrap());
    let stdout = common::run_script("s3_sse_c", &[&url, cert.to_str().unwrap(), k, s]);
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for line in stdout.lines().filter(|l| *l != "ok") {
        keys.push(line.as_bytes().to_vec());
        keys.push(base64::engine::general_purpose::STANDARD.decode(line).unwrap());
    }

    // aws-cli: `s3 cp --sse-c` up and down with a key file.
    let key_file = dir.join("customer.key");
    let customer_key: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
    std::fs::write(&key_file, &customer_key).unwrap();
    keys.push(customer_key);
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("up.bin"), &content).unwrap();
    let ca = cert.to_str().unwrap();
    let fileb = format!("fileb://{}", key_file.display());
    let cli = |args: &[&str]| {
        let mut all = vec!["--ca-bundle", ca];
        all.extend_from_slice(args);
        common::aws(&url, k, s, &all)
    };
    let up = dir.join("up.bin").display().to_string();
    let down = dir.join("down.bin").display().to_string();
    let (ok, _, err) =
        cli(&["s3", "cp", &up, "s3://sse-c/cli.bin", "--sse-c", "AES256", "--sse-c-key", &fileb]);
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&["s3", "cp", "s3://sse-c/cli.bin", &down]);
    assert!(!ok, "read without the key: {err}");
    let (ok, _, err) =
        cli(&["s3", "cp", "s3://sse-c/cli.bin", &down, "--sse-c", "AES256", "--sse-c-key", &fileb]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read(&down).unwrap(), content);

    // The server kept no customer key, raw or base64, anywhere in its data directory.
    fn walk(dir: &std::path::Path, keys: &[Vec<u8>]) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, keys);
            } else if let Ok(bytes) = std::fs::read(&path) {
                for key in keys {
                    assert!(
                        !bytes.windows(key.len()).any(|w| w == key.as_slice()),
                        "a customer key found in {}",
                        path.display()
                    );
                }
            }
        }
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
    walk(&data, &keys);
}
