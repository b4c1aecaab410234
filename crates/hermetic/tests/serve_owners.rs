#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Every request is recorded in the log of every account whose resource it names, as well as
//! the caller's, whether it is allowed or refused (`scripts/owners.py`): the operator's and a
//! second tenant's refused S3, KMS, STS, IAM and operator-API calls on a tenant's bucket,
//! object, key, ciphertext and roles (one that does not exist too) are in that tenant's log.

mod common;

use audit::event::EventRecord;
use common::{start_on, Backend};

/// Every event of `account`'s log.
fn log_of(store: &dyn store::Store, account: &str) -> Vec<EventRecord> {
    let mut tx = store.read().unwrap();
    let size = tx.audit_head(account).unwrap().size;
    tx.audit_events(account, 0..size)
        .unwrap()
        .iter()
        .map(|stored| EventRecord::from_canonical_bytes(&stored.event).unwrap())
        .collect()
}

fn scenario(backend: Backend) {
    let mut server = start_on("owners", backend, &[]);
    let a = common::create_tenant(&server, "acme");
    let b = common::create_tenant(&server, "globex");
    let out = common::run_with_tenants(&server, "owners", &a, &b, &[]);
    let refused: Vec<serde_json::Value> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(refused.len() >= 30, "{out}");
    let store = common::open_store(&server);
    let owner_log = log_of(store.as_ref(), &a.account);
    let other_log = log_of(store.as_ref(), &b.account);
    let operator_log = log_of(store.as_ref(), "000000000000");
    let operator_arn = "arn:aws:iam::000000000000:user/operator";
    let other_arn = format!("arn:aws:iam::{}:root", b.account);
    for r in &refused {
        let (who, source, name, code) = (
            r["caller"].as_str().unwrap(),
            r["source"].as_str().unwrap(),
            r["name"].as_str().unwrap(),
            r["code"].as_str().unwrap(),
        );
        let arn = if who == "operator" { operator_arn } else { other_arn.as_str() };
        let matches = |e: &&EventRecord| {
            e.event_source == source
                && e.event_name == name
                && e.error_code.as_deref() == Some(code)
                && e.user_identity.arn.as_deref() == Some(arn)
        };
        let in_owner = owner_log.iter().filter(matches).count();
        assert!(in_owner >= 1, "{who}'s refused {name} ({code}) is not in the owner's log");
        assert!(
            owner_log.iter().filter(matches).all(|e| e.recipient_account_id == a.account),
            "{name}: the owner's copy names the owner as its recipient"
        );
        // The caller's own log has it too.
        let caller_log = if who == "operator" { &operator_log } else { &other_log };
        assert!(caller_log.iter().any(|e| matches(&e)), "{who}'s {name} is not in its own log");
    }
    // Each kind of call is there for both callers.
    for who in ["operator", "other"] {
        for name in [
            "GetObject",
            "GetBucketCors",
            "Encrypt",
            "Decrypt",
            "AssumeRole",
            "SimulatePrincipalPolicy",
        ] {
            assert!(
                refused.iter().any(|r| r["caller"] == who && r["name"] == name),
                "{who} {name} was not tried"
            );
        }
    }
    drop(store);
    common::stop_and_verify_trail(&mut server);
}

/// Every sub-resource of botocore's S3 model that is not served here is refused with
/// NotImplemented by the real server, and none of them changes the bucket or its object.
#[test]
fn s3_routing_is_exact() {
    let mut server = start_on("router", Backend::Sqlite, &[]);
    let a = common::create_tenant(&server, "acme");
    common::run_script("s3_router", &[&server.url, &a.key, &a.secret]);
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn refused_requests_reach_the_owners_log_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn refused_requests_reach_the_owners_log_on_postgres() {
    scenario(Backend::Postgres);
}
