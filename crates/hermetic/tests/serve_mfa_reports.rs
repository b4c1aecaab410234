#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! boto3 against `hermetic serve`, on both stores: virtual MFA devices and MFA-authenticated
//! sessions, session tags with transitive keys, source identity, DecodeAuthorizationMessage,
//! access-key last use and the trail of sessions (`scripts/mfa_sessions.py`); account reports,
//! policy simulation and pagination (`scripts/reports.py`).

mod common;

use common::{python, start_on, Backend};
use std::process::Command;

fn run_script(script: &str, backend: Backend) {
    let mut server = start_on(script, backend, &["--checkpoint-interval-secs", "1"]);
    let tenant = common::create_tenant(&server, "acme");
    let path = format!("{}/tests/scripts/{script}.py", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python())
        .args([&path, &server.url, &tenant.account, &tenant.key, &tenant.secret])
        .output()
        .unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.trim() == "ok", "{stdout}\n{stderr}");
    // Everything that happened is in a log that verifies against its checkpoints.
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn mfa_and_sessions_on_sqlite() {
    run_script("mfa_sessions", Backend::Sqlite);
}

#[test]
fn mfa_and_sessions_on_postgres() {
    run_script("mfa_sessions", Backend::Postgres);
}

#[test]
fn reports_simulation_and_pages_on_sqlite() {
    run_script("reports", Backend::Sqlite);
}

#[test]
fn reports_simulation_and_pages_on_postgres() {
    run_script("reports", Backend::Postgres);
}
