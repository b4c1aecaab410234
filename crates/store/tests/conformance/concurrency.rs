//! Several writers at once, through several stores on one database (several processes or
//! servers): audit sequencing stays linear, and locked read-modify-writes lose nothing.

use std::sync::Mutex;

use store::{with_retries, PutMode, Store};

use super::audit::{leaf, mth};
use super::{account_id, record, Harness};

const THREADS: usize = 8;
const STORES: usize = 4;

pub fn concurrent_appends_are_linear(harness: &dyn Harness) {
    const PER_THREAD: usize = 25;
    let acct = account_id(1);
    let stores: Vec<Box<dyn Store>> = (0..STORES).map(|_| harness.open()).collect();
    let appended = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let store = &*stores[t % STORES];
            let (acct, appended) = (&acct, &appended);
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    let event = format!("thread {t} event {i}").into_bytes();
                    let seq = with_retries(store, 50, |tx| {
                        let key = format!("t{t}-{i}");
                        tx.put_record(&record(acct, "session", &key), PutMode::Upsert)?;
                        tx.append_event(acct, &event, &leaf(&event))
                    })
                    .unwrap();
                    appended.lock().unwrap().push((seq, event));
                }
            });
        }
    });

    let mut appended = appended.into_inner().unwrap();
    appended.sort();
    let n = THREADS * PER_THREAD;
    // Every sequence number exactly once: no gap, no duplicate.
    assert_eq!(
        appended.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (0..n as u64).collect::<Vec<_>>()
    );

    let mut r = stores[0].read().unwrap();
    let stored = r.audit_events(&acct, 0..n as u64 + 10).unwrap();
    assert_eq!(stored.len(), n);
    for (e, (seq, event)) in stored.iter().zip(&appended) {
        assert_eq!((e.seq, &e.event), (*seq, event));
    }
    let leaves: Vec<_> = appended.iter().map(|(_, e)| leaf(e)).collect();
    let head = r.audit_head(&acct).unwrap();
    assert_eq!(head.size, n as u64);
    assert_eq!(head.root, mth(&leaves));
    for size in [1, 63, 64, 65, 127, 128, 199] {
        assert_eq!(r.audit_root_at(&acct, size as u64).unwrap(), mth(&leaves[..size]));
    }
    let page = r
        .list_records(&store::RecordQuery {
            account: &acct,
            kind: "session",
            prefix: "t",
            after: None,
            limit: 1000,
        })
        .unwrap();
    assert_eq!(page.items.len(), n);
}

pub fn read_modify_write_loses_no_update(harness: &dyn Harness) {
    const PER_THREAD: u64 = 20;
    let acct = account_id(1);
    let stores: Vec<Box<dyn Store>> = (0..STORES).map(|_| harness.open()).collect();
    let mut counter = record(&acct, "counter", "c");
    counter.body = serde_json::json!(0);
    let mut tx = stores[0].begin().unwrap();
    tx.put_record(&counter, PutMode::Create).unwrap();
    tx.commit().unwrap();

    std::thread::scope(|s| {
        for t in 0..THREADS {
            let store = &*stores[t % STORES];
            let acct = &acct;
            s.spawn(move || {
                for _ in 0..PER_THREAD {
                    with_retries(store, 50, |tx| {
                        let mut rec = tx.get_record_for_update(acct, "counter", "c")?.unwrap();
                        rec.body = serde_json::json!(rec.body.as_u64().unwrap() + 1);
                        tx.put_record(&rec, PutMode::Update)
                    })
                    .unwrap();
                }
            });
        }
    });

    let got = stores[0].read().unwrap().get_record(&acct, "counter", "c").unwrap().unwrap();
    assert_eq!(got.body, serde_json::json!(THREADS as u64 * PER_THREAD));
}

/// Read-modify-writes of records that do not exist yet: every thread creates or increments the
/// same fresh keys at once. The threads that find a key absent must take turns (on PostgreSQL
/// `FOR UPDATE` alone locks no row there, and the second creator replaced the first's record).
pub fn read_modify_write_of_an_absent_record_loses_no_update(harness: &dyn Harness) {
    const KEYS: usize = 40;
    let acct = account_id(1);
    let stores: Vec<Box<dyn Store>> = (0..STORES).map(|_| harness.open()).collect();
    let start = std::sync::Barrier::new(THREADS);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let store = &*stores[t % STORES];
            let (acct, start) = (&acct, &start);
            s.spawn(move || {
                start.wait();
                for k in 0..KEYS {
                    let key = format!("k{k:03}");
                    with_retries(store, 50, |tx| {
                        let mut rec = match tx.get_record_for_update(acct, "counter", &key)? {
                            Some(rec) => rec,
                            None => {
                                let mut rec = record(acct, "counter", &key);
                                rec.body = serde_json::json!(0);
                                rec
                            }
                        };
                        rec.body = serde_json::json!(rec.body.as_u64().unwrap() + 1);
                        tx.put_record(&rec, PutMode::Upsert)
                    })
                    .unwrap();
                }
            });
        }
    });

    let mut r = stores[0].read().unwrap();
    for k in 0..KEYS {
        let got = r.get_record(&acct, "counter", &format!("k{k:03}")).unwrap().unwrap();
        assert_eq!(got.body, serde_json::json!(THREADS as u64), "k{k:03}");
    }
}

/// A record read for share is held against writers that lock it for update: the writer waits
/// until the reader's transaction ends, and then sees what the reader wrote (on PostgreSQL the
/// reader's lock; on SQLite the single writer). The reader takes its time on purpose, so a
/// writer that did not wait would find the reader's note missing.
pub fn a_shared_read_holds_the_record_against_updates(harness: &dyn Harness) {
    let acct = account_id(1);
    let (reader, writer) = (harness.open(), harness.open());
    let mut tx = reader.begin().unwrap();
    tx.put_record(&record(&acct, "bucket", "b"), PutMode::Create).unwrap();
    tx.commit().unwrap();

    let (held, wait) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        let acct = &acct;
        let reader = &*reader;
        s.spawn(move || {
            let mut tx = reader.begin().unwrap();
            assert!(tx.get_record_for_share(acct, "bucket", "b").unwrap().is_some());
            held.send(()).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            tx.put_record(&record(acct, "object", "b/o"), PutMode::Create).unwrap();
            tx.commit().unwrap();
        });
        wait.recv().unwrap();
        with_retries(&*writer, 50, |tx| {
            tx.get_record_for_update(acct, "bucket", "b")?.unwrap();
            assert!(
                tx.get_record(acct, "object", "b/o")?.is_some(),
                "the update ran while the shared read was held"
            );
            tx.delete_record(acct, "bucket", "b")
        })
        .unwrap();
    });
}
