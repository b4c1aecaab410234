//! [`store::Authenticated`] on each backend: rows written through it read back; a row edited,
//! moved or copied behind its back (as an operator with write access to the database would)
//! is refused with [`StoreError::Forged`], never returned.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use store::{
    AccessKey, AccessKeyStatus, AccountStatus, Authenticated, PutMode, RecordQuery, RowId, RowKey,
    Store, StoreError,
};

use super::{account, account_id, record, Harness};

/// A keyed hash, enough for these tests (the server uses HMAC-SHA-256).
struct TestKey;
impl RowKey for TestKey {
    fn tag(&self, message: &[u8]) -> [u8; 32] {
        Sha256::new().chain_update(b"test key").chain_update(message).finalize().into()
    }
}

fn authenticated(harness: &dyn Harness) -> Authenticated {
    Authenticated::new(Arc::from(harness.open()), Arc::new(TestKey))
}

fn key(id: &str, n: u32) -> AccessKey {
    AccessKey {
        access_key_id: id.into(),
        account: account_id(n),
        owner_kind: "root".into(),
        owner_key: String::new(),
        status: AccessKeyStatus::Active,
        secret_wrapped: vec![1, 2, 3],
        created_at_ms: 5,
        last_used_at_ms: None,
        last_used_service: None,
        last_used_region: None,
        mac: Vec::new(),
    }
}

/// Two accounts, a root key each, a policy record each; written through `store`.
fn populate(store: &dyn Store) {
    let mut tx = store.begin().unwrap();
    for n in [1, 2] {
        tx.create_account(&account(n)).unwrap();
        tx.insert_access_key(&key(&format!("AKIAKEY{n}"), n)).unwrap();
        tx.put_record(&record(&account_id(n), "role_policy", "admin/p"), PutMode::Create).unwrap();
        tx.put_record(&record(&account_id(n), "role_policy", "admin/q"), PutMode::Create).unwrap();
    }
    tx.commit().unwrap();
}

fn forged<T: std::fmt::Debug>(result: Result<T, StoreError>, account: &str) {
    match result {
        Err(StoreError::Forged { account: a, .. }) => assert_eq!(a, account),
        other => panic!("expected Forged in {account}, got {other:?}"),
    }
}

pub fn rows_written_through_it_read_back(harness: &dyn Harness) {
    let store = authenticated(harness);
    populate(&store);
    let mut tx = store.begin().unwrap();
    tx.set_account_status(&account_id(1), AccountStatus::Suspended).unwrap();
    tx.set_access_key_status("AKIAKEY1", AccessKeyStatus::Inactive).unwrap();
    tx.set_access_key_secret("AKIAKEY2", &[9, 9]).unwrap();
    tx.set_access_key_last_used("AKIAKEY2", 77, "iam", "us-east-1").unwrap();
    let mut p = record(&account_id(1), "role_policy", "admin/p");
    p.body = serde_json::json!({ "Statement": [{ "Effect": "Deny", "n": 1.5e300 }] });
    p.updated_at_ms += 1;
    tx.put_record(&p, PutMode::Upsert).unwrap();
    tx.commit().unwrap();

    let mut r = store.read().unwrap();
    assert_eq!(r.get_account(&account_id(1)).unwrap().unwrap().status, AccountStatus::Suspended);
    assert_eq!(r.list_accounts(None, 10).unwrap().items.len(), 2);
    let k1 = r.get_access_key("AKIAKEY1").unwrap().unwrap();
    assert_eq!(k1.status, AccessKeyStatus::Inactive);
    assert_eq!(k1.mac.len(), 33);
    assert_eq!(r.get_access_key("AKIAKEY2").unwrap().unwrap().secret_wrapped, vec![9, 9]);
    assert_eq!(
        r.get_record(&account_id(1), "role_policy", "admin/p").unwrap().unwrap().body,
        p.body
    );
    let q = RecordQuery {
        account: &account_id(2),
        kind: "role_policy",
        prefix: "admin/",
        after: None,
        limit: 10,
    };
    assert_eq!(r.list_records(&q).unwrap().items.len(), 2);
    drop(r);
    // Nobody but the authenticating store writes a MAC.
    let mut tx = store.begin().unwrap();
    assert!(matches!(
        tx.set_mac(RowId::Account(&account_id(1)), &[1; 33]),
        Err(StoreError::InvalidInput(_))
    ));
}

pub fn edited_rows_are_refused(harness: &dyn Harness) {
    let store = authenticated(harness);
    populate(&store);
    let (a1, a2) = (account_id(1), account_id(2));
    // An account's status, edited.
    harness.sql(&format!("UPDATE accounts SET status = 'suspended' WHERE id = '{a1}'"));
    forged(store.read().unwrap().get_account(&a1), &a1);
    forged(store.read().unwrap().list_accounts(None, 10), &a1);
    forged(store.begin().unwrap().set_account_status(&a1, AccountStatus::Active), &a1);
    // An access key moved to another account.
    harness
        .sql(&format!("UPDATE access_keys SET account = '{a2}' WHERE access_key_id = 'AKIAKEY1'"));
    forged(store.read().unwrap().get_access_key("AKIAKEY1"), &a2);
    // An access key's status, edited back to active.
    harness.sql("UPDATE access_keys SET status = 'inactive' WHERE access_key_id = 'AKIAKEY2'");
    forged(store.read().unwrap().get_access_key("AKIAKEY2"), &a2);
    forged(store.begin().unwrap().set_access_key_status("AKIAKEY2", AccessKeyStatus::Active), &a2);
    // A policy's body, edited.
    harness.sql(&format!(
        "UPDATE records SET body = '{{\"Statement\":\"*\"}}' WHERE account = '{a1}' AND key = 'admin/p'"
    ));
    forged(store.read().unwrap().get_record(&a1, "role_policy", "admin/p"), &a1);
    let q = RecordQuery { account: &a1, kind: "role_policy", prefix: "", after: None, limit: 10 };
    forged(store.read().unwrap().list_records(&q), &a1);
    forged(store.begin().unwrap().get_record_for_update(&a1, "role_policy", "admin/p"), &a1);
    // A record moved to another name.
    harness.sql(&format!(
        "UPDATE records SET key = 'admin/r' WHERE account = '{a2}' AND key = 'admin/q'"
    ));
    forged(store.read().unwrap().get_record(&a2, "role_policy", "admin/r"), &a2);
    // A record copied from another account, its MAC with it.
    harness.sql(&format!(
        "INSERT INTO records (account, kind, key, format_version, body, updated_at, mac)
         SELECT '{a2}', kind, 'admin/copied', format_version, body, updated_at, mac
         FROM records WHERE account = '{a2}' AND key = 'admin/p'"
    ));
    forged(store.read().unwrap().get_record(&a2, "role_policy", "admin/copied"), &a2);
    // A MAC removed.
    harness
        .sql(&format!("UPDATE records SET mac = NULL WHERE account = '{a2}' AND key = 'admin/p'"));
    forged(store.read().unwrap().get_record(&a2, "role_policy", "admin/p"), &a2);
    // A row left alone still reads.
    assert!(store.read().unwrap().get_account(&a2).unwrap().is_some());
}

pub fn rows_without_macs_are_bound_once(harness: &dyn Harness) {
    let inner: Arc<dyn Store> = Arc::from(harness.open());
    populate(inner.as_ref());
    let store = Authenticated::new(inner.clone(), Arc::new(TestKey));
    assert!(!inner.read().unwrap().has_authenticated_rows().unwrap());
    forged(store.read().unwrap().get_account(&account_id(1)), &account_id(1));
    let bound = store.bind_unauthenticated().unwrap();
    assert_eq!(bound.get(&account_id(1)), Some(&4));
    assert_eq!(bound.get(&account_id(2)), Some(&4));
    assert!(inner.read().unwrap().has_authenticated_rows().unwrap());
    assert!(inner.read().unwrap().unauthenticated_records(10).unwrap().is_empty());
    let mut r = store.read().unwrap();
    assert!(r.get_account(&account_id(1)).unwrap().is_some());
    assert!(r.get_access_key("AKIAKEY2").unwrap().is_some());
    assert!(r.get_record(&account_id(2), "role_policy", "admin/q").unwrap().is_some());
    drop(r);
    assert!(store.bind_unauthenticated().unwrap().is_empty());
}
