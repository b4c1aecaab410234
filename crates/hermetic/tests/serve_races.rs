#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Requests that race each other (`scripts/races.py`), on both stores: IAM attachment counts,
//! a user deleted while a key is made for it, a boundary and a tag put at once, two bucket
//! configuration changes at once, a bucket deleted while objects are written to it, the two
//! newest versions of a key deleted at once, one named KMS grant asked for at once, and two
//! accounts assuming each other's roles at once. Then no blob is left that no record names.

mod common;

use common::{python, start_on, Backend};
use std::process::Command;

fn scenario(backend: Backend) {
    let mut server = start_on("races", backend, &[]);
    let a = common::create_tenant(&server, "acme");
    let b = common::create_tenant(&server, "globex");
    let path = format!("{}/tests/scripts/races.py", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python())
        .arg(&path)
        .args([&server.url, &a.key, &a.secret, &b.key, &b.secret])
        .output()
        .unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.trim().ends_with("ok"), "{stdout}\n{stderr}");
    let unnamed = common::unnamed_blobs(&server);
    assert!(unnamed.is_empty(), "{}", common::explain_unnamed(&server, &[&a.account], &unnamed));
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn races_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn races_on_postgres() {
    scenario(Backend::Postgres);
}
