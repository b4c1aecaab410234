//! Accounts, access keys and records: CRUD, unique constraints, listing order and pages,
//! rollback, snapshots.

use store::{
    AccessKey, AccessKeyStatus, AccountStatus, Checkpoint, PutMode, RecordQuery, Store, StoreError,
    SCHEMA_VERSION,
};

use super::{account, account_id, record, Harness};

pub fn schema_is_current(store: &dyn Store) {
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(["sqlite", "postgres"].contains(&store.backend()));
}

pub fn accounts_crud(store: &dyn Store) {
    let a = account(1);
    let mut tx = store.begin().unwrap();
    tx.create_account(&a).unwrap();
    tx.commit().unwrap();

    let mut r = store.read().unwrap();
    assert_eq!(r.get_account(&a.id).unwrap(), Some(a.clone()));
    assert_eq!(r.get_account_by_name(&a.name).unwrap(), Some(a.clone()));
    assert_eq!(r.get_account(&account_id(2)).unwrap(), None);
    assert_eq!(r.get_account_by_name("nobody").unwrap(), None);
    drop(r);

    let mut tx = store.begin().unwrap();
    // The same id, or the same name under another id, is taken.
    assert_eq!(tx.create_account(&a), Err(StoreError::AlreadyExists));
    let mut same_name = account(2);
    same_name.name = a.name.clone();
    assert_eq!(tx.create_account(&same_name), Err(StoreError::AlreadyExists));
    let mut bad = account(3);
    bad.id = "12345".into();
    assert!(matches!(tx.create_account(&bad), Err(StoreError::InvalidInput(_))));
    bad.id = account_id(3);
    bad.name = String::new();
    assert!(matches!(tx.create_account(&bad), Err(StoreError::InvalidInput(_))));

    tx.set_account_status(&a.id, AccountStatus::Suspended).unwrap();
    assert_eq!(
        tx.set_account_status(&account_id(9), AccountStatus::Active),
        Err(StoreError::NotFound)
    );
    tx.commit().unwrap();

    let got = store.read().unwrap().get_account(&a.id).unwrap().unwrap();
    assert_eq!(got.status, AccountStatus::Suspended);
    assert_eq!(got.created_at_ms, a.created_at_ms);
}

pub fn accounts_listing(store: &dyn Store) {
    let mut tx = store.begin().unwrap();
    for n in [5, 1, 4, 2, 3] {
        tx.create_account(&account(n)).unwrap();
    }
    tx.commit().unwrap();

    let mut r = store.read().unwrap();
    let all = r.list_accounts(None, 100).unwrap();
    assert!(!all.truncated);
    let ids: Vec<_> = all.items.iter().map(|a| a.id.clone()).collect();
    assert_eq!(ids, (1..=5).map(account_id).collect::<Vec<_>>());

    let first = r.list_accounts(None, 2).unwrap();
    assert!(first.truncated);
    assert_eq!(first.items.len(), 2);
    let second = r.list_accounts(Some(&first.items[1].id), 2).unwrap();
    assert!(second.truncated);
    assert_eq!(second.items[0].id, account_id(3));
    let third = r.list_accounts(Some(&second.items[1].id), 2).unwrap();
    assert!(!third.truncated);
    assert_eq!(third.items.len(), 1);
    assert_eq!(third.items[0].id, account_id(5));
    let none = r.list_accounts(None, 0).unwrap();
    assert!(none.items.is_empty() && none.truncated);
}

fn key(id: &str, owner: &str, created_at_ms: i64) -> AccessKey {
    AccessKey {
        mac: Vec::new(),
        access_key_id: id.into(),
        account: account_id(1),
        owner_kind: "user".into(),
        owner_key: owner.into(),
        status: AccessKeyStatus::Active,
        secret_wrapped: (0..=255u8).chain([0, 0, 1]).collect(),
        created_at_ms,
        last_used_at_ms: None,
        last_used_service: None,
        last_used_region: None,
    }
}

pub fn access_keys_crud(store: &dyn Store) {
    let k1 = key("AKIAAAAAAAAAAAAAAAA2", "alice", 10);
    let k2 = key("AKIAAAAAAAAAAAAAAAA1", "alice", 20);
    let k3 = key("AKIAAAAAAAAAAAAAAAA3", "bob", 5);
    let mut tx = store.begin().unwrap();
    for k in [&k1, &k2, &k3] {
        tx.insert_access_key(k).unwrap();
    }
    assert_eq!(tx.insert_access_key(&k1), Err(StoreError::AlreadyExists));
    let mut empty = k1.clone();
    empty.access_key_id = String::new();
    assert!(matches!(tx.insert_access_key(&empty), Err(StoreError::InvalidInput(_))));
    tx.commit().unwrap();

    let mut r = store.read().unwrap();
    assert_eq!(r.get_access_key(&k1.access_key_id).unwrap(), Some(k1.clone()));
    assert_eq!(r.get_access_key("AKIANOPE").unwrap(), None);
    // Oldest first, whatever the ids.
    assert_eq!(
        r.list_access_keys(&k1.account, "user", "alice").unwrap(),
        vec![k1.clone(), k2.clone()]
    );
    assert_eq!(r.list_access_keys(&k1.account, "user", "bob").unwrap(), vec![k3.clone()]);
    assert!(r.list_access_keys(&k1.account, "role", "alice").unwrap().is_empty());
    assert!(r.list_access_keys(&account_id(2), "user", "alice").unwrap().is_empty());
    drop(r);

    let mut tx = store.begin().unwrap();
    tx.set_access_key_status(&k1.access_key_id, AccessKeyStatus::Inactive).unwrap();
    tx.set_access_key_last_used(&k1.access_key_id, 99, "iam", "us-east-1").unwrap();
    tx.delete_access_key(&k3.access_key_id).unwrap();
    assert_eq!(tx.delete_access_key(&k3.access_key_id), Err(StoreError::NotFound));
    assert_eq!(
        tx.set_access_key_status("AKIANOPE", AccessKeyStatus::Active),
        Err(StoreError::NotFound)
    );
    assert_eq!(
        tx.set_access_key_last_used("AKIANOPE", 1, "iam", "us-east-1"),
        Err(StoreError::NotFound)
    );
    tx.commit().unwrap();

    let mut r = store.read().unwrap();
    let got = r.get_access_key(&k1.access_key_id).unwrap().unwrap();
    assert_eq!(got.status, AccessKeyStatus::Inactive);
    assert_eq!(got.last_used_at_ms, Some(99));
    assert_eq!(got.last_used_service.as_deref(), Some("iam"));
    assert_eq!(got.last_used_region.as_deref(), Some("us-east-1"));
    assert_eq!(got.secret_wrapped, k1.secret_wrapped);
    assert_eq!(r.get_access_key(&k3.access_key_id).unwrap(), None);
}

pub fn records_modes(store: &dyn Store) {
    let acct = account_id(1);
    let mut rec = record(&acct, "user", "alice");
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.put_record(&rec, PutMode::Update), Err(StoreError::NotFound));
    tx.put_record(&rec, PutMode::Create).unwrap();
    assert_eq!(tx.put_record(&rec, PutMode::Create), Err(StoreError::AlreadyExists));
    // A transaction reads its own writes.
    assert_eq!(tx.get_record(&acct, "user", "alice").unwrap(), Some(rec.clone()));
    tx.commit().unwrap();

    rec.format_version = 2;
    rec.body = serde_json::json!({ "name": "alice", "path": "/ops/", "n": 1.5, "s": "é\u{0}" });
    rec.updated_at_ms += 1;
    let mut tx = store.begin().unwrap();
    tx.put_record(&rec, PutMode::Update).unwrap();
    let bob = record(&acct, "user", "bob");
    tx.put_record(&bob, PutMode::Upsert).unwrap();
    let mut bob2 = bob.clone();
    bob2.body = serde_json::json!(["replaced"]);
    tx.put_record(&bob2, PutMode::Upsert).unwrap();
    let mut empty = bob.clone();
    empty.key = String::new();
    assert!(matches!(tx.put_record(&empty, PutMode::Upsert), Err(StoreError::InvalidInput(_))));
    tx.commit().unwrap();

    let mut r = store.read().unwrap();
    assert_eq!(r.get_record(&acct, "user", "alice").unwrap(), Some(rec.clone()));
    assert_eq!(r.get_record(&acct, "user", "bob").unwrap(), Some(bob2.clone()));
    // Kind and account are part of the key.
    assert_eq!(r.get_record(&acct, "role", "alice").unwrap(), None);
    assert_eq!(r.get_record(&account_id(2), "user", "alice").unwrap(), None);
    drop(r);

    let mut tx = store.begin().unwrap();
    assert_eq!(tx.get_record_for_update(&acct, "user", "bob").unwrap(), Some(bob2));
    tx.delete_record(&acct, "user", "bob").unwrap();
    assert_eq!(tx.delete_record(&acct, "user", "bob"), Err(StoreError::NotFound));
    assert_eq!(tx.get_record_for_update(&acct, "user", "bob").unwrap(), None);
    tx.commit().unwrap();
    assert_eq!(store.read().unwrap().get_record(&acct, "user", "bob").unwrap(), None);
}

pub fn records_listing(store: &dyn Store) {
    let acct = account_id(1);
    // Byte order: uppercase before lowercase, '/' (0x2F) before letters, 'é' after 'z'.
    let keys = ["b", "a/2", "B", "a", "a/1", "é", "a/10", "z", "ab", "a\u{10FFFF}", "a0"];
    let mut tx = store.begin().unwrap();
    for k in keys {
        tx.put_record(&record(&acct, "user", k), PutMode::Create).unwrap();
    }
    tx.put_record(&record(&acct, "role", "a/x"), PutMode::Create).unwrap();
    tx.put_record(&record(&account_id(2), "user", "a/y"), PutMode::Create).unwrap();
    tx.commit().unwrap();

    let mut sorted: Vec<&str> = keys.to_vec();
    sorted.sort_unstable();
    let mut r = store.read().unwrap();
    let list = |r: &mut dyn store::ReadTx, prefix: &str, after: Option<&str>, limit: usize| {
        let q = RecordQuery { account: &acct, kind: "user", prefix, after, limit };
        let page = r.list_records(&q).unwrap();
        (page.items.into_iter().map(|rec| rec.key).collect::<Vec<_>>(), page.truncated)
    };
    assert_eq!(
        list(&mut *r, "", None, 100),
        (sorted.iter().map(|s| s.to_string()).collect(), false)
    );
    assert_eq!(
        list(&mut *r, "a", None, 100).0,
        ["a", "a/1", "a/10", "a/2", "a0", "ab", "a\u{10FFFF}"]
    );
    assert_eq!(list(&mut *r, "a/", None, 100).0, ["a/1", "a/10", "a/2"]);
    assert_eq!(list(&mut *r, "a/1", None, 100).0, ["a/1", "a/10"]);
    assert_eq!(list(&mut *r, "q", None, 100).0, Vec::<String>::new());

    // Pages of two through the "a" prefix, each starting after the previous page's last key.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let (page, truncated) = list(&mut *r, "a", after.as_deref(), 2);
        assert!(page.len() <= 2);
        seen.extend(page.iter().cloned());
        after = page.last().cloned();
        if !truncated {
            break;
        }
    }
    assert_eq!(seen, list(&mut *r, "a", None, 100).0);
    // `after` outside the prefix range.
    assert_eq!(list(&mut *r, "a/", Some("a"), 100).0, ["a/1", "a/10", "a/2"]);
    assert!(list(&mut *r, "a/", Some("a/2"), 100).0.is_empty());
    assert_eq!(list(&mut *r, "", Some("ab"), 100).0, ["a\u{10FFFF}", "b", "z", "é"]);
}

pub fn expected_errors_leave_the_transaction_usable(store: &dyn Store) {
    let acct = account_id(1);
    let mut tx = store.begin().unwrap();
    tx.create_account(&account(1)).unwrap();
    tx.put_record(&record(&acct, "user", "alice"), PutMode::Create).unwrap();
    assert_eq!(tx.create_account(&account(1)), Err(StoreError::AlreadyExists));
    assert_eq!(
        tx.put_record(&record(&acct, "user", "alice"), PutMode::Create),
        Err(StoreError::AlreadyExists)
    );
    assert_eq!(
        tx.put_record(&record(&acct, "user", "x"), PutMode::Update),
        Err(StoreError::NotFound)
    );
    assert_eq!(tx.delete_record(&acct, "user", "x"), Err(StoreError::NotFound));
    tx.put_record(&record(&acct, "user", "bob"), PutMode::Create).unwrap();
    tx.append_event(&acct, b"e", &[7; 32]).unwrap();
    tx.commit().unwrap();

    let mut r = store.read().unwrap();
    assert!(r.get_account(&acct).unwrap().is_some());
    assert!(r.get_record(&acct, "user", "alice").unwrap().is_some());
    assert!(r.get_record(&acct, "user", "bob").unwrap().is_some());
    assert_eq!(r.audit_head(&acct).unwrap().size, 1);
}

pub fn rollback_on_drop(store: &dyn Store) {
    let acct = account_id(1);
    let mut tx = store.begin().unwrap();
    tx.put_record(&record(&acct, "user", "keep"), PutMode::Create).unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin().unwrap();
    tx.create_account(&account(1)).unwrap();
    tx.insert_access_key(&key("AKIAROLLBACK", "alice", 1)).unwrap();
    tx.put_record(&record(&acct, "user", "gone"), PutMode::Create).unwrap();
    tx.put_record(&record(&acct, "user", "keep"), PutMode::Upsert).unwrap();
    tx.delete_record(&acct, "user", "keep").unwrap();
    tx.append_event(&acct, b"never", &[1; 32]).unwrap();
    drop(tx);

    let mut r = store.read().unwrap();
    assert_eq!(r.get_account(&acct).unwrap(), None);
    assert_eq!(r.get_access_key("AKIAROLLBACK").unwrap(), None);
    assert_eq!(r.get_record(&acct, "user", "gone").unwrap(), None);
    assert!(r.get_record(&acct, "user", "keep").unwrap().is_some());
    assert_eq!(r.audit_head(&acct).unwrap().size, 0);
    assert!(r.audit_events(&acct, 0..10).unwrap().is_empty());
    drop(r);

    // The connection is reusable after the rollback.
    let mut tx = store.begin().unwrap();
    tx.create_account(&account(1)).unwrap();
    tx.commit().unwrap();
    assert!(store.read().unwrap().get_account(&acct).unwrap().is_some());
}

pub fn reads_see_one_snapshot(store: &dyn Store) {
    let acct = account_id(1);
    let mut tx = store.begin().unwrap();
    tx.put_record(&record(&acct, "user", "a"), PutMode::Create).unwrap();
    tx.commit().unwrap();

    let mut r = store.read().unwrap();
    assert!(r.get_record(&acct, "user", "a").unwrap().is_some());

    let mut tx = store.begin().unwrap();
    tx.delete_record(&acct, "user", "a").unwrap();
    tx.put_record(&record(&acct, "user", "b"), PutMode::Create).unwrap();
    tx.append_event(&acct, b"x", &[2; 32]).unwrap();
    tx.commit().unwrap();

    // The open read transaction still sees the state it started in.
    assert!(r.get_record(&acct, "user", "a").unwrap().is_some());
    assert!(r.get_record(&acct, "user", "b").unwrap().is_none());
    assert_eq!(r.audit_head(&acct).unwrap().size, 0);
    drop(r);
    let mut r = store.read().unwrap();
    assert!(r.get_record(&acct, "user", "a").unwrap().is_none());
    assert_eq!(r.audit_head(&acct).unwrap().size, 1);
}

pub fn a_failed_statement_fails_the_commit(harness: &dyn Harness) {
    // PostgreSQL aborts a transaction at its first failing statement and answers a later
    // COMMIT with a silent rollback; SQLite rolls back on its own after some errors and would
    // then run later statements outside any transaction. The store reports the failure instead.
    let store = harness.open();
    harness.drop_table("audit_checkpoints");
    let mut tx = store.begin().unwrap();
    tx.create_account(&account(1)).unwrap();
    let cp = Checkpoint {
        account: account_id(1),
        size: 0,
        root: super::audit::mth(&[]),
        time_ms: 1,
        note: "n".into(),
    };
    assert!(matches!(tx.insert_checkpoint(&cp), Err(StoreError::Backend(_))));
    assert!(matches!(tx.create_account(&account(2)), Err(StoreError::Backend(_))));
    assert!(matches!(tx.commit(), Err(StoreError::Backend(_))));
    let mut r = store.read().unwrap();
    assert_eq!(r.get_account(&account_id(1)).unwrap(), None);
    assert_eq!(r.get_account(&account_id(2)).unwrap(), None);
    drop(r);
    // The connection is fine for the next transaction.
    let mut tx = store.begin().unwrap();
    tx.create_account(&account(1)).unwrap();
    tx.commit().unwrap();
    assert!(store.read().unwrap().get_account(&account_id(1)).unwrap().is_some());
}

pub fn nul_characters_are_refused(store: &dyn Store) {
    let mut tx = store.begin().unwrap();
    let mut a = account(1);
    a.name = "a\0b".into();
    assert!(matches!(tx.create_account(&a), Err(StoreError::InvalidInput(_))));
    let rec = record(&account_id(1), "user", "a\0");
    assert!(matches!(tx.put_record(&rec, PutMode::Upsert), Err(StoreError::InvalidInput(_))));
    assert!(matches!(tx.append_event("x\0", b"e", &[0; 32]), Err(StoreError::InvalidInput(_))));
    // Nothing failed in the database: the transaction goes on.
    tx.create_account(&account(1)).unwrap();
    tx.commit().unwrap();
}

pub fn pairs_read_together(store: &dyn Store) {
    let acct = account_id(1);
    let mut tx = store.begin().unwrap();
    tx.create_account(&account(1)).unwrap();
    tx.insert_access_key(&key("AKIAPAIR000000000001", "alice", 1)).unwrap();
    tx.put_record(&record(&acct, "user", "alice"), PutMode::Create).unwrap();
    tx.put_record(&record(&acct, "~manifest", "~head"), PutMode::Create).unwrap();
    tx.put_record(&record(&account_id(2), "user", "bob"), PutMode::Create).unwrap();
    tx.commit().unwrap();
    let mut r = store.read().unwrap();
    let (a, h) = r.get_record_pair(&acct, ("user", "alice"), ("~manifest", "~head")).unwrap();
    assert_eq!((a.unwrap().key, h.unwrap().key), ("alice".to_string(), "~head".to_string()));
    let (a, h) = r.get_record_pair(&acct, ("user", "carol"), ("~manifest", "~head")).unwrap();
    assert!(a.is_none() && h.is_some());
    // The same key asked for twice, and a record of another account never returned.
    let (a, b) = r.get_record_pair(&acct, ("user", "bob"), ("user", "bob")).unwrap();
    assert!(a.is_none() && b.is_none());
    let found =
        r.get_access_key_and_record("AKIAPAIR000000000001", ("~manifest", "~head")).unwrap();
    assert_eq!(found.key.unwrap().owner_key, "alice");
    assert_eq!(found.account.unwrap(), account(1));
    assert_eq!(found.record.unwrap().account, acct);
    let found = r.get_access_key_and_record("AKIAPAIR000000000001", ("user", "bob")).unwrap();
    assert!(found.key.is_some() && found.account.is_some() && found.record.is_none());
    let found = r.get_access_key_and_record("AKIANONE000000000000", ("user", "alice")).unwrap();
    assert_eq!(found, store::KeyAndRecord::default());
    drop(r);
    // A locked read and a plain one together: both found, or each absent on its own.
    let mut tx = store.begin().unwrap();
    let (a, h) = tx
        .get_record_for_update_and_record(&acct, ("user", "alice"), ("~manifest", "~head"))
        .unwrap();
    assert_eq!((a.unwrap().key, h.unwrap().key), ("alice".to_string(), "~head".to_string()));
    let (a, h) = tx
        .get_record_for_update_and_record(&acct, ("user", "carol"), ("~manifest", "~head"))
        .unwrap();
    assert!(a.is_none() && h.is_some());
    let (a, b) =
        tx.get_record_for_update_and_record(&acct, ("user", "bob"), ("user", "x")).unwrap();
    assert!(a.is_none() && b.is_none());
}

/// `upsert_records_if` writes every record when the last one's row has the MAC it names, and
/// nothing at all otherwise, whatever the number of records.
pub fn records_swapped_only_when_unchanged(store: &dyn Store) {
    let acct = account_id(1);
    let with_mac = |kind: &str, key: &str, body: &str, mac: &[u8]| {
        let mut r = record(&acct, kind, key);
        r.body = serde_json::json!({ "v": body });
        r.mac = mac.to_vec();
        r
    };
    let mut tx = store.begin().unwrap();
    tx.create_account(&account(1)).unwrap();
    tx.put_record(&with_mac("m", "head", "0", b"mac-0"), PutMode::Create).unwrap();
    tx.commit().unwrap();
    let body = |kind: &str, key: &str| -> Option<serde_json::Value> {
        let mut r = store.read().unwrap();
        r.get_record(&acct, kind, key).unwrap().map(|r| r.body["v"].clone())
    };
    for n in 1..=3usize {
        let shards: Vec<store::Record> =
            (1..n).map(|i| with_mac("m", &format!("shard{i}"), &format!("{n}"), b"s")).collect();
        let mut rows = shards.clone();
        // A stale MAC: nothing is written.
        rows.push(with_mac("m", "head", &format!("{n}"), format!("mac-{n}").as_bytes()));
        let mut tx = store.begin().unwrap();
        assert!(!tx.upsert_records_if(&rows, b"stale").unwrap(), "{n} rows, stale");
        assert!(!tx.upsert_records_if(&rows, b"").unwrap(), "{n} rows, empty");
        tx.commit().unwrap();
        assert_eq!(body("m", "head"), Some(serde_json::json!(format!("{}", n - 1))));
        for (i, s) in (1..).zip(&shards) {
            let before = (i + 1 < n).then(|| serde_json::json!(format!("{}", n - 1)));
            assert_eq!(body("m", &s.key), before, "{n} rows, shard {i}");
        }
        // The current MAC: everything is written.
        let mut tx = store.begin().unwrap();
        let current = format!("mac-{}", n - 1);
        assert!(tx.upsert_records_if(&rows, current.as_bytes()).unwrap(), "{n} rows");
        tx.commit().unwrap();
        assert_eq!(body("m", "head"), Some(serde_json::json!(format!("{n}"))));
        for s in &shards {
            assert_eq!(body("m", &s.key), Some(serde_json::json!(format!("{n}"))));
        }
    }
    // No such row: nothing is written.
    let mut tx = store.begin().unwrap();
    let rows = [with_mac("m", "shard9", "x", b"s"), with_mac("m", "absent", "x", b"m")];
    assert!(!tx.upsert_records_if(&rows, b"m").unwrap());
    assert!(matches!(tx.upsert_records_if(&[], b"m"), Err(StoreError::InvalidInput(_))));
    tx.commit().unwrap();
    assert_eq!(body("m", "shard9"), None);
    assert_eq!(body("m", "absent"), None);
}
