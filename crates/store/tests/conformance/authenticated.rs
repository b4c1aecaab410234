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
    // Bound rows are named by no manifest yet: refused until the manifests are built.
    forged(store.read().unwrap().get_account(&account_id(1)), &account_id(1));
    let named = store.build_manifests().unwrap();
    assert_eq!(named.get(&account_id(1)), Some(&4));
    assert!(inner.read().unwrap().has_authenticated_rows().unwrap());
    assert!(inner.read().unwrap().unauthenticated_records(10).unwrap().is_empty());
    let mut r = store.read().unwrap();
    assert!(r.get_account(&account_id(1)).unwrap().is_some());
    assert!(r.get_access_key("AKIAKEY2").unwrap().is_some());
    assert!(r.get_record(&account_id(2), "role_policy", "admin/q").unwrap().is_some());
    drop(r);
    assert!(store.bind_unauthenticated().unwrap().is_empty());
    // Rows written after the build go on reading.
    let mut tx = store.begin().unwrap();
    tx.put_record(&record(&account_id(1), "role_policy", "admin/z"), PutMode::Create).unwrap();
    tx.commit().unwrap();
    let q = RecordQuery {
        account: &account_id(1),
        kind: "role_policy",
        prefix: "",
        after: None,
        limit: 10,
    };
    assert_eq!(store.read().unwrap().list_records(&q).unwrap().items.len(), 3);
}

/// Keeps a copy of every row, as an operator with a backup would.
fn snapshot(harness: &dyn Harness) {
    harness.sql(
        "CREATE TABLE old_records AS SELECT * FROM records;
         CREATE TABLE old_keys AS SELECT * FROM access_keys;
         CREATE TABLE old_accounts AS SELECT * FROM accounts;",
    );
}

/// Puts one record back as the snapshot had it.
fn put_back_record(harness: &dyn Harness, account: &str, kind: &str, key: &str) {
    let row = format!("account = '{account}' AND kind = '{kind}' AND key = '{key}'");
    harness.sql(&format!(
        "DELETE FROM records WHERE {row}; INSERT INTO records SELECT * FROM old_records WHERE {row};"
    ));
}

pub fn rows_put_back_as_they_were_are_refused(harness: &dyn Harness) {
    let store = authenticated(harness);
    populate(&store);
    let (a1, a2) = (account_id(1), account_id(2));
    snapshot(harness);
    // The tenant changes a policy, deactivates a key, its account is suspended; the other
    // account changes nothing.
    let mut tx = store.begin().unwrap();
    let mut p = record(&a1, "role_policy", "admin/p");
    p.body = serde_json::json!({ "Statement": [{ "Effect": "Deny" }] });
    p.updated_at_ms += 1;
    tx.put_record(&p, PutMode::Upsert).unwrap();
    tx.set_access_key_status("AKIAKEY1", AccessKeyStatus::Inactive).unwrap();
    tx.set_account_status(&a1, AccountStatus::Suspended).unwrap();
    tx.delete_record(&a1, "role_policy", "admin/q").unwrap();
    tx.commit().unwrap();
    let now = store.read().unwrap().get_record(&a1, "role_policy", "admin/p").unwrap().unwrap();
    assert_eq!(now.body, p.body);

    // The policy put back: its MAC is valid, but not the current version.
    put_back_record(harness, &a1, "role_policy", "admin/p");
    forged(store.read().unwrap().get_record(&a1, "role_policy", "admin/p"), &a1);
    forged(store.begin().unwrap().get_record(&a1, "role_policy", "admin/p"), &a1);
    forged(store.begin().unwrap().get_record_for_update(&a1, "role_policy", "admin/p"), &a1);
    let q = RecordQuery { account: &a1, kind: "role_policy", prefix: "", after: None, limit: 10 };
    forged(store.read().unwrap().list_records(&q), &a1);
    // A deleted record put back.
    put_back_record(harness, &a1, "role_policy", "admin/q");
    forged(store.read().unwrap().get_record(&a1, "role_policy", "admin/q"), &a1);
    // The access key re-activated by putting its old row back.
    harness.sql(
        "DELETE FROM access_keys WHERE access_key_id = 'AKIAKEY1';
         INSERT INTO access_keys SELECT * FROM old_keys WHERE access_key_id = 'AKIAKEY1';",
    );
    forged(store.read().unwrap().get_access_key("AKIAKEY1"), &a1);
    forged(store.read().unwrap().list_access_keys(&a1, "root", ""), &a1);
    forged(store.begin().unwrap().get_access_key("AKIAKEY1"), &a1);
    // The account's old status.
    harness.sql(&format!(
        "DELETE FROM accounts WHERE id = '{a1}';
         INSERT INTO accounts SELECT * FROM old_accounts WHERE id = '{a1}';"
    ));
    forged(store.read().unwrap().get_account(&a1), &a1);
    forged(store.read().unwrap().list_accounts(None, 10), &a1);
    // The other account is untouched and reads.
    let mut r = store.read().unwrap();
    assert!(r.get_account(&a2).unwrap().is_some());
    assert!(r.get_access_key("AKIAKEY2").unwrap().is_some());
    assert_eq!(r.list_records(&RecordQuery { account: &a2, ..q }).unwrap().items.len(), 2);
}

pub fn rows_deleted_or_manifests_edited_are_refused(harness: &dyn Harness) {
    let store = authenticated(harness);
    populate(&store);
    let (a1, a2) = (account_id(1), account_id(2));
    snapshot(harness);
    let mut tx = store.begin().unwrap();
    tx.put_record(&record(&a1, "role_policy", "admin/r"), PutMode::Create).unwrap();
    tx.put_record(&record(&a2, "role_policy", "admin/r"), PutMode::Create).unwrap();
    tx.commit().unwrap();
    // A record deleted behind the store's back (a Deny an operator wants gone).
    harness.sql(&format!("DELETE FROM records WHERE account = '{a1}' AND key = 'admin/p'"));
    forged(store.read().unwrap().get_record(&a1, "role_policy", "admin/p"), &a1);
    let q = RecordQuery { account: &a1, kind: "role_policy", prefix: "", after: None, limit: 10 };
    forged(store.read().unwrap().list_records(&q), &a1);
    // A page that skips it is refused too, and one past it reads.
    forged(store.read().unwrap().list_records(&RecordQuery { limit: 1, ..q }), &a1);
    let past = RecordQuery { after: Some("admin/p"), ..q };
    assert_eq!(store.read().unwrap().list_records(&past).unwrap().items.len(), 2);
    // A record written after the snapshot, deleted.
    harness.sql(&format!("DELETE FROM records WHERE account = '{a2}' AND key = 'admin/r'"));
    forged(store.read().unwrap().get_record(&a2, "role_policy", "admin/r"), &a2);
    // The head put back alone: it names a shard that is no longer there. (A new store: the
    // first one keeps the checked shards it read in memory and would not read them again.)
    harness.sql("CREATE TABLE cur_records AS SELECT * FROM records");
    put_back_record(harness, &a2, "~manifest", "~head");
    forged(authenticated(harness).read().unwrap().get_record(&a2, "role_policy", "admin/q"), &a2);
    let head = format!("account = '{a2}' AND kind = '~manifest' AND key = '~head'");
    harness.sql(&format!(
        "DELETE FROM records WHERE {head}; INSERT INTO records SELECT * FROM cur_records WHERE {head};"
    ));
    assert!(authenticated(harness)
        .read()
        .unwrap()
        .get_record(&a2, "role_policy", "admin/q")
        .unwrap()
        .is_some());
    // A shard put back alone: the head names the newer one.
    put_back_record(harness, &a2, "~manifest", "role_policy");
    forged(authenticated(harness).read().unwrap().get_record(&a2, "role_policy", "admin/q"), &a2);
    // The head deleted: every row of the account is refused (none is named).
    harness.sql(&format!("DELETE FROM records WHERE {head}"));
    forged(authenticated(harness).read().unwrap().get_account(&a2), &a2);
    forged(authenticated(harness).read().unwrap().get_access_key("AKIAKEY2"), &a2);
    // A manifest row written by hand is refused like any record.
    harness.sql(&format!(
        "UPDATE records SET body = '{{\"Entries\":{{}}}}' WHERE account = '{a1}' AND kind = '~manifest' AND key = 'role_policy'"
    ));
    forged(authenticated(harness).read().unwrap().get_record(&a1, "role_policy", "admin/q"), &a1);
}

pub fn concurrent_writers_see_no_false_rollback(harness: &dyn Harness) {
    let store = Arc::new(authenticated(harness));
    populate(store.as_ref());
    let a1 = account_id(1);
    std::thread::scope(|s| {
        for t in 0..4 {
            let (store, a1) = (store.clone(), a1.clone());
            s.spawn(move || {
                for i in 0..40 {
                    store::with_retries(store.as_ref(), 20, |tx| {
                        let q = RecordQuery {
                            account: &a1,
                            kind: "role_policy",
                            prefix: "",
                            after: None,
                            limit: 100,
                        };
                        tx.list_records(&q)?;
                        tx.get_record(&a1, "role_policy", "admin/p")?;
                        tx.get_access_key("AKIAKEY1")?;
                        let mut mine = record(&a1, "role_policy", &format!("t{t}"));
                        mine.updated_at_ms += i;
                        tx.put_record(&mine, PutMode::Upsert)?;
                        let mut shared = record(&a1, "role_policy", "admin/p");
                        shared.updated_at_ms += i * 4 + t;
                        tx.put_record(&shared, PutMode::Upsert)
                    })
                    .unwrap();
                    let mut r = store.read().unwrap();
                    r.get_record(&a1, "role_policy", "admin/p").unwrap().unwrap();
                    r.list_records(&RecordQuery {
                        account: &a1,
                        kind: "role_policy",
                        prefix: "",
                        after: None,
                        limit: 100,
                    })
                    .unwrap();
                }
            });
        }
    });
    let q = RecordQuery { account: &a1, kind: "role_policy", prefix: "", after: None, limit: 100 };
    assert_eq!(store.read().unwrap().list_records(&q).unwrap().items.len(), 6);
}

/// A writer whose manifest head another writer changed after it read it commits over the
/// newer head (its swap fails, and it takes the head's lock instead): both writes stand and
/// read back, and neither is taken for a rollback. Backends with concurrent writers only (on
/// SQLite the second writer would wait for the first).
#[allow(dead_code)]
pub fn a_writer_with_a_stale_head_commits_over_the_newer_one(harness: &dyn Harness) {
    let store = authenticated(harness);
    populate(&store);
    let a1 = account_id(1);
    let mut first = store.begin().unwrap();
    // Reads the head (with the record), unlocked.
    first.get_record(&a1, "role_policy", "admin/p").unwrap().unwrap();
    let mut second = store.begin().unwrap();
    let mut theirs = record(&a1, "role_policy", "admin/q");
    theirs.updated_at_ms += 1;
    second.put_record(&theirs, PutMode::Upsert).unwrap();
    second.put_record(&record(&a1, "role_policy", "new/r"), PutMode::Create).unwrap();
    second.commit().unwrap();
    let mut mine = record(&a1, "role_policy", "admin/p");
    mine.updated_at_ms += 2;
    first.put_record(&mine, PutMode::Upsert).unwrap();
    first.commit().unwrap();
    let mut r = store.read().unwrap();
    let q = RecordQuery { account: &a1, kind: "role_policy", prefix: "", after: None, limit: 10 };
    let page = r.list_records(&q).unwrap();
    let found: Vec<(&str, i64)> =
        page.items.iter().map(|r| (r.key.as_str(), r.updated_at_ms)).collect();
    let base = record(&a1, "role_policy", "x").updated_at_ms;
    assert_eq!(found, [("admin/p", base + 2), ("admin/q", base + 1), ("new/r", base)]);
    drop(r);
    // A fresh store (no cache) agrees.
    let fresh = authenticated(harness);
    assert_eq!(fresh.read().unwrap().list_records(&q).unwrap().items.len(), 3);
}

/// `n` events appended to `account`'s log through `store`, as the server does (one, then a
/// batch); their bytes.
fn append(store: &dyn Store, account: &str, n: u8) -> Vec<Vec<u8>> {
    let events: Vec<Vec<u8>> =
        (0..n).map(|i| format!("{account} event {i}").into_bytes()).collect();
    let mut tx = store.begin().unwrap();
    if let Some((first, rest)) = events.split_first() {
        tx.append_event(account, first, &audit::merkle::leaf_hash(first)).unwrap();
        let batch: Vec<(&[u8], store::Hash)> =
            rest.iter().map(|e| (e.as_slice(), audit::merkle::leaf_hash(e))).collect();
        tx.append_events(account, &batch).unwrap();
    }
    tx.commit().unwrap();
    events
}

/// Audit events and heads written through the authenticating store carry MACs; an event edited,
/// copied over another or deleted, and an event appended behind the store's back (with its
/// head rewritten to match), are refused on every read and by the next append.
pub fn audit_rows_are_sealed(harness: &dyn Harness) {
    let store = authenticated(harness);
    let raw = harness.open();
    let (a1, a2, a3, a4) = (account_id(1), account_id(2), account_id(3), account_id(4));
    let events = append(&store, &a1, 4);
    let read = store.read().unwrap().audit_events(&a1, 0..10).unwrap();
    assert_eq!(read.iter().map(|e| e.event.clone()).collect::<Vec<_>>(), events);
    assert!(read.iter().all(|e| e.mac.len() == 33));
    assert_eq!(store.read().unwrap().audit_head(&a1).unwrap().size, 4);
    // An empty log needs nothing.
    assert_eq!(store.read().unwrap().audit_head(&a4).unwrap().size, 0);
    assert!(store.read().unwrap().audit_events(&a4, 0..10).unwrap().is_empty());
    // Nobody but the authenticating store seals.
    let mut tx = store.begin().unwrap();
    assert!(matches!(
        tx.set_mac(RowId::AuditHead(&a1), &[1; 33]),
        Err(StoreError::InvalidInput(_))
    ));
    drop(tx);

    // An event appended below the authenticating store, head and nodes written to match.
    let mut tx = raw.begin().unwrap();
    tx.append_event(&a1, b"forged", &audit::merkle::leaf_hash(b"forged")).unwrap();
    tx.commit().unwrap();
    forged(store.read().unwrap().audit_head(&a1), &a1);
    forged(store.read().unwrap().audit_events(&a1, 0..10), &a1);
    let mut tx = store.begin().unwrap();
    forged(tx.append_event(&a1, b"next", &audit::merkle::leaf_hash(b"next")), &a1);
    drop(tx);
    // The events before it still read.
    assert_eq!(store.read().unwrap().audit_events(&a1, 0..4).unwrap().len(), 4);

    // An event's bytes edited; another's copied over its neighbour.
    append(&store, &a2, 3);
    harness.sql(&format!(
        "UPDATE audit_events SET event = leaf_hash WHERE account = '{a2}' AND seq = 1"
    ));
    forged(store.read().unwrap().audit_events(&a2, 0..3), &a2);
    assert_eq!(store.read().unwrap().audit_events(&a2, 0..1).unwrap().len(), 1);
    harness.sql(&format!(
        "UPDATE audit_events SET (event, leaf_hash, mac) =
             (SELECT event, leaf_hash, mac FROM audit_events WHERE account = '{a2}' AND seq = 0)
         WHERE account = '{a2}' AND seq = 2"
    ));
    forged(store.read().unwrap().audit_events(&a2, 2..3), &a2);
    // The head is untouched: appends go on (the tenant's proofs show the edited events).
    append(&store, &a2, 1);

    // An event deleted below the head.
    append(&store, &a3, 3);
    harness.sql(&format!("DELETE FROM audit_events WHERE account = '{a3}' AND seq = 1"));
    forged(store.read().unwrap().audit_events(&a3, 0..3), &a3);
    forged(store.read().unwrap().audit_events(&a3, 1..2), &a3);
    assert_eq!(store.read().unwrap().audit_events(&a3, 2..9).unwrap().len(), 1);
}

/// A log written before audit rows carried MACs is bound once, as it stands, and then reads
/// and appends; one that does not hold together is not bound and stays refused.
pub fn audit_logs_without_macs_are_bound_once(harness: &dyn Harness) {
    let store = authenticated(harness);
    let raw = harness.open();
    let (a1, a2) = (account_id(1), account_id(2));
    let events = append(raw.as_ref(), &a1, 7);
    forged(store.read().unwrap().audit_head(&a1), &a1);
    assert_eq!(store.bind_audit_log(&a1).unwrap(), Some(7));
    assert_eq!(store.bind_audit_log(&a1).unwrap(), None);
    let read = store.read().unwrap().audit_events(&a1, 0..7).unwrap();
    assert_eq!(read.iter().map(|e| e.event.clone()).collect::<Vec<_>>(), events);
    append(&store, &a1, 2);
    assert_eq!(store.read().unwrap().audit_head(&a1).unwrap().size, 9);
    assert_eq!(store.bind_audit_log(&account_id(3)).unwrap(), None);

    append(raw.as_ref(), &a2, 3);
    harness.sql(&format!(
        "UPDATE audit_events SET event = leaf_hash WHERE account = '{a2}' AND seq = 1"
    ));
    assert!(matches!(store.bind_audit_log(&a2), Err(StoreError::Corrupt(_))));
    forged(store.read().unwrap().audit_head(&a2), &a2);
}
