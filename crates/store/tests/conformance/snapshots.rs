//! Dropped readers and [`Store::maintain`]: on PostgreSQL a dropped reader's `ROLLBACK` waits
//! for its connection's next `BEGIN` (or for `maintain`), and nothing may see the snapshot it
//! leaves behind. SQLite ends its readers at once and its `maintain` does nothing; the same
//! bodies hold for both.

use std::time::Duration;

use store::{PutMode, ReadTx, Store};

use super::{account_id, record, Harness};

/// The `updated_at` of record `user/a` of `account`, as `r` sees it.
fn seen<R: ReadTx + ?Sized>(r: &mut R, account: &str) -> Option<i64> {
    r.get_record(account, "user", "a").unwrap().map(|rec| rec.updated_at_ms)
}

/// Commits record `user/a` of `account` on `store`, with `at` as its `updated_at`.
fn put(store: &dyn Store, account: &str, at: i64) {
    let mut rec = record(account, "user", "a");
    rec.updated_at_ms = at;
    let mut tx = store.begin().unwrap();
    tx.put_record(&rec, PutMode::Upsert).unwrap();
    tx.commit().unwrap();
}

/// A reader dropped on one store (one server), a commit on another: the first store's next
/// transaction, reader or writer, sees that commit and not the dropped reader's snapshot.
pub fn a_dropped_read_leaves_no_snapshot_behind(harness: &dyn Harness) {
    let (one, two) = (harness.open(), harness.open());
    let acct = account_id(1);
    put(&*one, &acct, 1);

    // A reader dropped, a commit elsewhere, then a new reader.
    let mut r = one.read().unwrap();
    assert_eq!(seen(&mut *r, &acct), Some(1));
    drop(r);
    put(&*two, &acct, 2);
    let mut r = one.read().unwrap();
    assert_eq!(seen(&mut *r, &acct), Some(2));
    drop(r);

    // A reader dropped, a commit elsewhere, then a writer: it reads the commit and writes
    // over it.
    put(&*two, &acct, 3);
    let mut tx = one.begin().unwrap();
    assert_eq!(seen(&mut *tx, &acct), Some(3));
    let mut rec = record(&acct, "user", "a");
    rec.updated_at_ms = 4;
    tx.put_record(&rec, PutMode::Update).unwrap();
    tx.commit().unwrap();
    assert_eq!(seen(&mut *two.read().unwrap(), &acct), Some(4));

    // A reader dropped, then a writer on the same store: the writer's commit stands.
    assert_eq!(seen(&mut *one.read().unwrap(), &acct), Some(4));
    put(&*one, &acct, 5);
    assert_eq!(seen(&mut *two.read().unwrap(), &acct), Some(5));
    assert_eq!(seen(&mut *one.read().unwrap(), &acct), Some(5));
}

/// `maintain`, before and after a second has passed since readers were dropped, changes
/// nothing committed and leaves every connection usable for readers and writers.
pub fn maintain_leaves_the_store_usable(harness: &dyn Harness) {
    let (one, two) = (harness.open(), harness.open());
    let acct = account_id(1);
    put(&*one, &acct, 1);
    one.maintain();

    // Two readers at once (two connections), both dropped.
    let (mut r1, mut r2) = (one.read().unwrap(), one.read().unwrap());
    assert_eq!((seen(&mut *r1, &acct), seen(&mut *r2, &acct)), (Some(1), Some(1)));
    drop((r1, r2));
    one.maintain();
    put(&*two, &acct, 2);
    std::thread::sleep(Duration::from_millis(1100));
    one.maintain();
    two.maintain();

    let (mut r1, mut r2) = (one.read().unwrap(), one.read().unwrap());
    assert_eq!((seen(&mut *r1, &acct), seen(&mut *r2, &acct)), (Some(2), Some(2)));
    drop((r1, r2));
    put(&*one, &acct, 3);
    one.maintain();
    assert_eq!(seen(&mut *two.read().unwrap(), &acct), Some(3));
    assert_eq!(seen(&mut *one.read().unwrap(), &acct), Some(3));
}

/// Transactions that run no statement (a reader dropped unused, a writer committed empty) leave
/// every connection as it was: a reader dropped before them does not leave its snapshot to
/// the transactions after them, and an empty commit commits nothing.
pub fn transactions_that_run_nothing_change_nothing(harness: &dyn Harness) {
    let (one, two) = (harness.open(), harness.open());
    let acct = account_id(1);
    put(&*one, &acct, 1);
    let mut r = one.read().unwrap();
    assert_eq!(seen(&mut *r, &acct), Some(1));
    drop(r);

    drop(one.read().unwrap());
    one.begin().unwrap().commit().unwrap();
    drop(one.begin().unwrap());
    put(&*two, &acct, 2);
    assert_eq!(seen(&mut *one.read().unwrap(), &acct), Some(2));
    let mut tx = one.begin().unwrap();
    assert_eq!(seen(&mut *tx, &acct), Some(2));
    drop(tx);
    one.maintain();
    put(&*one, &acct, 3);
    assert_eq!(seen(&mut *two.read().unwrap(), &acct), Some(3));
}

/// A writer that reads a record, changes it and reads it again sees its change; a reader that
/// reads it twice sees its snapshot both times, whatever commits in between.
pub fn rereads_see_the_transactions_own_state(harness: &dyn Harness) {
    let (one, two) = (harness.open(), harness.open());
    let acct = account_id(1);
    put(&*one, &acct, 1);

    let mut tx = one.begin().unwrap();
    assert_eq!(seen(&mut *tx, &acct), Some(1));
    let mut rec = record(&acct, "user", "a");
    rec.updated_at_ms = 2;
    tx.put_record(&rec, PutMode::Update).unwrap();
    assert_eq!(seen(&mut *tx, &acct), Some(2));
    tx.delete_record(&acct, "user", "a").unwrap();
    assert_eq!(seen(&mut *tx, &acct), None);
    drop(tx);

    let mut r = one.read().unwrap();
    assert_eq!(seen(&mut *r, &acct), Some(1));
    assert!(r.get_record(&acct, "user", "b").unwrap().is_none());
    put(&*two, &acct, 3);
    let mut b = record(&acct, "user", "b");
    b.updated_at_ms = 3;
    let mut tx = two.begin().unwrap();
    tx.put_record(&b, PutMode::Create).unwrap();
    tx.commit().unwrap();
    assert_eq!(seen(&mut *r, &acct), Some(1));
    assert!(r.get_record(&acct, "user", "b").unwrap().is_none());
    drop(r);
    let mut r = one.read().unwrap();
    assert_eq!(seen(&mut *r, &acct), Some(3));
    assert!(r.get_record(&acct, "user", "b").unwrap().is_some());
}
