#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Two `hermetic serve` processes on one PostgreSQL database (and one data directory, which
//! holds the development root key both use: `stateless_nodes.rs` runs nodes with directories of
//! their own on an HSM): concurrent writes through both stay
//! consistent, a name is created once, every write has its audit event, and the account's log
//! is one linear history that verifies.

mod common;

use common::{aws, python, start_on, start_with, Backend};
use std::process::Command;

#[test]
fn two_servers_on_one_postgres_database() {
    let mut a = start_on("multi", Backend::Postgres, &["--checkpoint-interval-secs", "1"]);
    let mut extra: Vec<&str> = a.db_args.iter().map(String::as_str).collect();
    extra.extend(["--checkpoint-interval-secs", "1"]);
    let (mut b_child, b_url, _) = start_with(&a.dir, &extra);
    let tenant = common::create_tenant(&a, "acme");
    let script = format!("{}/tests/scripts/create_users.py", env!("CARGO_MANIFEST_DIR"));
    let spawn = |url: &str, prefix: &str| {
        Command::new(python())
            .args([&script, url, &tenant.key, &tenant.secret, prefix, "25"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let runs = [spawn(&a.url, "via-a"), spawn(&b_url, "via-b")];
    let mut outcomes = Vec::new();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        outcomes.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    outcomes.sort();
    assert_eq!(outcomes, ["EntityAlreadyExists", "created"], "one `shared`, one refusal");
    // Each server sees everything either wrote; `shared` exists once.
    for url in [&a.url, &b_url] {
        let (ok, out, err) =
            aws(url, &tenant.key, &tenant.secret, &["iam", "list-users", "--page-size", "20"]);
        assert!(ok, "{err}");
        let users: serde_json::Value = serde_json::from_str(&out).unwrap();
        let names: Vec<&str> = users["Users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["UserName"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 51, "{names:?}");
        assert_eq!(names.iter().filter(|n| **n == "shared").count(), 1);
    }

    // Every successful CreateUser has its event, in one log of consecutive indexes.
    let store = common::open_store(&a);
    let mut tx = store.read().unwrap();
    let head = tx.audit_head(&tenant.account).unwrap();
    let events = tx.audit_events(&tenant.account, 0..head.size).unwrap();
    assert_eq!(events.len() as u64, head.size);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64, "the log is linear");
    }
    let created = events
        .iter()
        .filter_map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).ok())
        .filter(|r| r.event_name == "CreateUser" && r.error_code.is_none())
        .count();
    assert_eq!(created, 51);
    let refused = events
        .iter()
        .filter_map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).ok())
        .filter(|r| r.error_code.as_deref() == Some("EntityAlreadyExists"))
        .count();
    assert_eq!(refused, 1, "the losing `shared` is recorded as refused");
    drop(tx);

    let _ = b_child.kill();
    let _ = b_child.wait();
    common::stop_and_verify_trail(&mut a);
}
