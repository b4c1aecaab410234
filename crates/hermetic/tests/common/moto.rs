//! A real S3-compatible server for tests: moto's server (`pip install 'moto[server]'`, in the
//! project's `.venv`), one per test process, and a fresh bucket per test. Shared by the
//! `store`, `server` and `hermetic` tests (`#[path]`-included).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The credentials moto accepts (any); never real ones.
pub const KEY: &str = "moto-test-key";
/// Their secret.
pub const SECRET: &str = "moto-test-secret";

fn python() -> String {
    std::env::var("HERMETIC_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The moto server's endpoint (`http://127.0.0.1:PORT`), started on first use. It runs under a
/// shell that kills it when this process's end of its standard input closes, so it never
/// outlives the test process.
pub fn endpoint() -> &'static str {
    static MOTO: OnceLock<(String, Mutex<Child>)> = OnceLock::new();
    &MOTO
        .get_or_init(|| {
            let port =
                std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let script = format!(
                "\"$0\" -m moto.server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
                 read _ignored; kill $m"
            );
            let child = Command::new("sh")
                .args(["-c", &script, &python()])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            let endpoint = format!("http://127.0.0.1:{port}");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "moto's server did not start (is `moto[server]` installed in {}?)",
                    python()
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            (endpoint, Mutex::new(child))
        })
        .0
}

/// Makes a fresh bucket on the moto server; returns its name.
pub fn bucket(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "{}-{}-{}",
        tag.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    s3_call(&format!("s3.create_bucket(Bucket={name:?})"));
    name
}

/// Runs `code` with `s3`, a boto3 client of the moto server; returns what it printed.
pub fn s3_call(code: &str) -> String {
    let script = format!(
        "import boto3\ns3 = boto3.client('s3', endpoint_url={:?}, region_name='us-east-1', \
         aws_access_key_id={KEY:?}, aws_secret_access_key={SECRET:?})\n{code}",
        endpoint()
    );
    let out = Command::new(python()).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "boto3 on moto: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The options of a blob store in `bucket` under `prefix` on the moto server.
pub fn options(bucket: &str, prefix: &str) -> store::S3BlobOptions {
    store::S3BlobOptions {
        bucket: bucket.to_string(),
        prefix: prefix.to_string(),
        endpoint: Some(endpoint().to_string()),
        region: "us-east-1".into(),
        access_key_id: Some(KEY.into()),
        secret_access_key: Some(zeroize::Zeroizing::new(SECRET.into())),
        session_token: None,
        virtual_hosted: false,
    }
}
