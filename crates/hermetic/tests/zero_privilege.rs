#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Issue 16's attacks, tried as an operator (or a former holder of credentials) would, on both
//! stores: each must be refused or detected.
//!
//! - Stale credentials (`scripts/stale_credentials.py`): a role session after its role was
//!   deleted and made again under the same name, and its presigned URL; long-term keys sent
//!   with a session token.
//! - Files: everything the server wrote in the data directory (database, WAL, keys, operator
//!   credentials, checkpoints, sealed blobs) is readable by the server's user only.

mod common;

use common::{start_on, Backend};

fn stale_credentials(backend: Backend) {
    let server = start_on("stale-creds", backend, &[]);
    let t = common::create_tenant(&server, "acme");
    let out =
        common::run_script("stale_credentials", &[&server.url, &t.account, &t.key, &t.secret]);
    assert!(out.trim_end().ends_with("ok"), "{out}");
}

#[test]
fn stale_credentials_are_refused_on_sqlite() {
    stale_credentials(Backend::Sqlite);
}

#[test]
fn stale_credentials_are_refused_on_postgres() {
    stale_credentials(Backend::Postgres);
}

/// Every file under `dir` is 0600 and every directory 0700; returns how many files there are.
#[cfg(unix)]
fn assert_private(dir: &std::path::Path) -> usize {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(dir).unwrap();
    let mode = meta.permissions().mode() & 0o777;
    if meta.is_dir() {
        assert_eq!(mode, 0o700, "{}", dir.display());
        std::fs::read_dir(dir).unwrap().map(|e| assert_private(&e.unwrap().path())).sum()
    } else {
        assert_eq!(mode, 0o600, "{}", dir.display());
        1
    }
}

#[cfg(unix)]
#[test]
fn every_file_in_the_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = start_on("private-files", Backend::Sqlite, &[]);
    let t = common::create_tenant(&server, "acme");
    let body = server.dir.join("object.bin");
    std::fs::write(&body, vec![7u8; 3 << 20]).unwrap();
    let body_path = body.display().to_string();
    for args in [
        vec!["s3api", "create-bucket", "--bucket", "private-files"],
        vec![
            "s3api",
            "put-object",
            "--bucket",
            "private-files",
            "--key",
            "big",
            "--body",
            &body_path,
        ],
    ] {
        let (ok, _, err) = common::aws(&server.url, &t.key, &t.secret, &args);
        assert!(ok, "{err}");
    }
    std::fs::remove_file(&body).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500)); // a checkpoint is written
    let files = assert_private(&server.dir);
    assert!(files >= 5, "{files} files");
    assert!(server.dir.join("blobs").join(&t.account).is_dir());

    // A data directory an earlier version left readable is made private at start.
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    let db = server.dir.join("hermetic.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&server.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (child, _, _) = common::start_in(&server.dir);
    server.child = child;
    assert_private(&server.dir);
}
