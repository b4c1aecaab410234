#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Signed checkpoints are written while the server runs; `hermetic trail verify` proves every
//! stored event against them, and notices a tampered event, a forged checkpoint or a rewritten
//! history.

mod common;

use common::{aws, hermetic, operator_creds, start_on, Backend};
use std::process::Command;

#[test]
fn checkpoints_verify_and_tampering_is_detected_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn checkpoints_verify_and_tampering_is_detected_on_postgres() {
    scenario(Backend::Postgres);
}

fn scenario(backend: Backend) {
    let mut server = start_on("trail", backend, &["--checkpoint-interval-secs", "1"]);
    let url = server.url.clone();
    let dir = server.dir.clone();
    let data_dir = dir.display().to_string();
    let created = common::invite_and_redeem(&url, &data_dir, "acme");
    let (k, s) =
        (created["AccessKeyId"].as_str().unwrap(), created["SecretAccessKey"].as_str().unwrap());
    for _ in 0..3 {
        assert!(aws(&url, k, s, &["sts", "get-caller-identity"]).0);
    }
    std::thread::sleep(std::time::Duration::from_millis(1600));
    for _ in 0..2 {
        assert!(aws(&url, k, s, &["iam", "list-users"]).0);
    }
    let (ok_key, ok_secret) = operator_creds(&dir);
    assert!(aws(&url, &ok_key, &ok_secret, &["sts", "get-caller-identity"]).0);
    std::thread::sleep(std::time::Duration::from_millis(1600));
    // Graceful stop writes a final checkpoint too; a kill is enough here (the timer ran).
    let _ = server.child.kill();
    let _ = server.child.wait();
    let mut verify_args = vec!["trail", "verify", "--data-dir", data_dir.as_str()];
    verify_args.extend(server.db_args.iter().map(String::as_str));

    let (ok, out, err) = hermetic(&verify_args);
    assert!(ok, "{out}{err}");
    let account = created["AccountId"].as_str().unwrap();
    let line = out.lines().find(|l| l.starts_with(account)).unwrap();
    assert!(line.ends_with(": ok"), "{out}");
    let checkpoints: usize =
        line.split(", ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(checkpoints >= 2, "at least two checkpoints, so consistency is proved: {out}");
    assert!(out.trim_end().ends_with("2 passed, 0 failed"), "{out}");

    // Tamper with one stored event (a byte of its JSON): verification fails.
    match &server.schema {
        None => {
            let script = format!(
                "import sqlite3; c = sqlite3.connect('{}'); c.execute(\"update audit_events set event = cast(replace(cast(event as text), 'GetCallerIdentity', 'GetCallerIdentitz') as blob) where account = '{account}' and seq = 2\"); c.commit()",
                dir.join("hermetic.db").display()
            );
            let out = Command::new(common::python()).arg("-c").arg(script).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        Some(schema) => common::psql(&format!(
            "update {schema}.audit_events set event = convert_to(replace(convert_from(event, 'UTF8'), 'GetCallerIdentity', 'GetCallerIdentitz'), 'UTF8') where account = '{account}' and seq = 2"
        )),
    }
    let (ok, out, _) = hermetic(&verify_args);
    assert!(!ok, "{out}");
    assert!(out.contains("event 2: stored leaf hash does not match the event"), "{out}");
}
