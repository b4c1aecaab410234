#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! boto3 against `hermetic serve`, on both stores, one test per feature of a script, each on a
//! fresh server: virtual MFA devices and MFA-authenticated sessions, session tags with
//! transitive keys, source identity, DecodeAuthorizationMessage, access-key last use and the
//! trail of sessions (`scripts/mfa_sessions.py`, tests `mfa_*`); account reports, policy
//! simulation, pagination and quotas (`scripts/reports.py`, tests `reports_*`). Each ends by
//! checking that the trail verifies.

mod common;

use common::{python, start_on, Backend};
use std::process::Command;

/// Runs `scripts/SCRIPT.py` with its feature `name` on a fresh server (tenant acme): it must
/// print only `ok`. Then everything that happened is in a log that verifies against its
/// checkpoints.
fn feature(script: &str, name: &str, backend: Backend) {
    let mut server = start_on(script, backend, &["--checkpoint-interval-secs", "1"]);
    let tenant = common::create_tenant(&server, "acme");
    let path = format!("{}/tests/scripts/{script}.py", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python())
        .args([&path, &server.url, &tenant.account, &tenant.key, &tenant.secret, name])
        .output()
        .unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.trim() == "ok", "{stdout}\n{stderr}");
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn mfa_virtual_mfa_device_on_sqlite() {
    feature("mfa_sessions", "virtual_mfa_device", Backend::Sqlite);
}

#[test]
fn mfa_virtual_mfa_device_on_postgres() {
    feature("mfa_sessions", "virtual_mfa_device", Backend::Postgres);
}

#[test]
fn mfa_decode_authorization_message_on_sqlite() {
    feature("mfa_sessions", "decode_authorization_message", Backend::Sqlite);
}

#[test]
fn mfa_decode_authorization_message_on_postgres() {
    feature("mfa_sessions", "decode_authorization_message", Backend::Postgres);
}

#[test]
fn mfa_session_tokens_on_sqlite() {
    feature("mfa_sessions", "session_tokens", Backend::Sqlite);
}

#[test]
fn mfa_session_tokens_on_postgres() {
    feature("mfa_sessions", "session_tokens", Backend::Postgres);
}

#[test]
fn mfa_role_with_mfa_tags_source_identity_on_sqlite() {
    feature("mfa_sessions", "role_with_mfa_tags_source_identity", Backend::Sqlite);
}

#[test]
fn mfa_role_with_mfa_tags_source_identity_on_postgres() {
    feature("mfa_sessions", "role_with_mfa_tags_source_identity", Backend::Postgres);
}

#[test]
fn mfa_role_chaining_on_sqlite() {
    feature("mfa_sessions", "role_chaining", Backend::Sqlite);
}

#[test]
fn mfa_role_chaining_on_postgres() {
    feature("mfa_sessions", "role_chaining", Backend::Postgres);
}

#[test]
fn mfa_access_key_last_used_on_sqlite() {
    feature("mfa_sessions", "access_key_last_used", Backend::Sqlite);
}

#[test]
fn mfa_access_key_last_used_on_postgres() {
    feature("mfa_sessions", "access_key_last_used", Backend::Postgres);
}

#[test]
fn mfa_deletion_conflicts_on_sqlite() {
    feature("mfa_sessions", "deletion_conflicts", Backend::Sqlite);
}

#[test]
fn mfa_deletion_conflicts_on_postgres() {
    feature("mfa_sessions", "deletion_conflicts", Backend::Postgres);
}

#[test]
fn mfa_trail_on_sqlite() {
    feature("mfa_sessions", "trail", Backend::Sqlite);
}

#[test]
fn mfa_trail_on_postgres() {
    feature("mfa_sessions", "trail", Backend::Postgres);
}

#[test]
fn reports_pagination_on_sqlite() {
    feature("reports", "pagination", Backend::Sqlite);
}

#[test]
fn reports_pagination_on_postgres() {
    feature("reports", "pagination", Backend::Postgres);
}

#[test]
fn reports_account_summary_on_sqlite() {
    feature("reports", "account_summary", Backend::Sqlite);
}

#[test]
fn reports_account_summary_on_postgres() {
    feature("reports", "account_summary", Backend::Postgres);
}

#[test]
fn reports_authorization_details_on_sqlite() {
    feature("reports", "authorization_details", Backend::Sqlite);
}

#[test]
fn reports_authorization_details_on_postgres() {
    feature("reports", "authorization_details", Backend::Postgres);
}

#[test]
fn reports_simulate_principal_policy_on_sqlite() {
    feature("reports", "simulate_principal_policy", Backend::Sqlite);
}

#[test]
fn reports_simulate_principal_policy_on_postgres() {
    feature("reports", "simulate_principal_policy", Backend::Postgres);
}

#[test]
fn reports_simulate_custom_policy_on_sqlite() {
    feature("reports", "simulate_custom_policy", Backend::Sqlite);
}

#[test]
fn reports_simulate_custom_policy_on_postgres() {
    feature("reports", "simulate_custom_policy", Backend::Postgres);
}

#[test]
fn reports_quotas_on_sqlite() {
    feature("reports", "quotas", Backend::Sqlite);
}

#[test]
fn reports_quotas_on_postgres() {
    feature("reports", "quotas", Backend::Postgres);
}
