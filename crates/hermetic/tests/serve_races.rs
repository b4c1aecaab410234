#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Requests that race each other (`scripts/races.py`), on both stores: IAM attachment counts,
//! a user deleted while a key is made for it, a boundary and a tag put at once, two bucket
//! configuration changes at once, a bucket deleted while objects are written to it, the two
//! newest versions of a key deleted at once, one named KMS grant asked for at once, and two
//! accounts assuming each other's roles at once. Then no blob is left that no record names.

mod common;

use common::{start_on, Backend};

fn scenario(backend: Backend) {
    let mut server = start_on("races", backend, &[]);
    let a = common::create_tenant(&server, "acme");
    let b = common::create_tenant(&server, "globex");
    common::run_script("races", &[&server.url, &a.key, &a.secret, &b.key, &b.secret]);
    common::assert_no_unnamed_blobs(&server, &[&a.account]);
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
