#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! kill -9 during a burst of S3 uploads (single and multipart): after a restart every
//! acknowledged object reads back intact, and every object the bucket lists reads back whole (no
//! partial or corrupt object is ever visible).

mod common;

use common::{python, start_with, Backend};
use std::io::BufRead;
use std::process::{Command, Stdio};

fn scenario(backend: Backend) {
    let mut server = common::start_on("s3crash", backend, &[]);
    let tenant = common::create_tenant(&server, "acme");
    let (ok, _, err) =
        common::aws(&server.url, &tenant.key, &tenant.secret, &["s3", "mb", "s3://acme-burst"]);
    assert!(ok, "{err}");
    let script = format!("{}/tests/scripts/s3_burst.py", env!("CARGO_MANIFEST_DIR"));
    let mut burst = Command::new(python())
        .args([&script, &server.url, &tenant.key, &tenant.secret, "acme-burst", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reader = std::io::BufReader::new(burst.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Let a few uploads (including a multipart one) finish, then kill the server mid-burst.
    let mut acknowledged = Vec::new();
    while acknowledged.len() < 8 {
        acknowledged.push(rx.recv_timeout(std::time::Duration::from_secs(60)).unwrap());
    }
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = server.child.kill();
    let _ = server.child.wait();
    let _ = burst.wait();
    acknowledged.extend(rx.try_iter());

    // Blobs no record names, as a crash between writing a blob and committing leaves them: the
    // sweeper removes them once they are older than its grace period (an hour by default) and
    // nothing else. Every blob file is made two hours old, as if the restart came that late.
    // (An S3 bucket's times cannot be back-dated: there the sweeper is shown in process, by
    // `crates/server/tests/blob_store.rs`, and the orphans a kill can leave are counted.)
    let on_files = backend != Backend::PostgresS3;
    if on_files {
        let account_blobs = server.dir.join("blobs").join(&tenant.account);
        std::fs::write(account_blobs.join("orphan-of-a-crash"), b"sealed bytes").unwrap();
        std::fs::write(account_blobs.join("cut-off.tmp"), b"sealed by").unwrap();
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        for file in std::fs::read_dir(&account_blobs).unwrap() {
            let file = std::fs::File::options().write(true).open(file.unwrap().path()).unwrap();
            file.set_modified(two_hours_ago).unwrap();
        }
    }
    let extra: Vec<&str> = server.state_args();
    let (ok, _, err) = common::hermetic(&[
        "serve",
        "--data-dir",
        server.dir.to_str().unwrap(),
        "--blob-grace-secs",
        "60",
    ]);
    assert!(!ok && err.contains("at least 600"), "{err}");
    let (child, url, _) = start_with(&server.dir, &extra);
    server.child = child;
    server.url = url.clone();
    let mut waited = 0;
    if !on_files {
        // The uploads in flight when the node died: at most one blob each.
        let orphans = common::unnamed_blobs(&server);
        assert!(orphans.len() <= 4, "{orphans:?}");
    }
    while on_files && !common::unnamed_blobs(&server).is_empty() {
        assert!(waited < 300, "the sweeper left {:?}", common::unnamed_blobs(&server));
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    let check = format!(
        "import boto3, hashlib, sys\n\
         s3 = boto3.client('s3', endpoint_url='{url}', region_name='us-east-1', aws_access_key_id='{}', aws_secret_access_key='{}')\n\
         acked = dict(l.split() for l in sys.stdin.read().splitlines())\n\
         listed = [o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket='acme-burst') for o in p.get('Contents', [])]\n\
         for k in listed:\n    body = s3.get_object(Bucket='acme-burst', Key=k)['Body'].read()\n    assert len(body) == s3.head_object(Bucket='acme-burst', Key=k)['ContentLength'], k\n    if k in acked:\n        assert hashlib.md5(body).hexdigest() == acked[k], k\n\
         missing = [k for k in acked if k not in listed]\n\
         assert not missing, missing\n\
         print(len(acked), len(listed))\n",
        tenant.key, tenant.secret
    );
    let mut verify = Command::new(python())
        .arg("-c")
        .arg(check)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = verify.stdin.take().unwrap();
        stdin.write_all(acknowledged.join("\n").as_bytes()).unwrap();
    }
    let out = verify.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn kill_during_uploads_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn kill_during_uploads_on_postgres() {
    scenario(Backend::Postgres);
}

#[test]
fn kill_during_uploads_on_postgres_and_an_s3_blob_store() {
    scenario(Backend::PostgresS3);
}
