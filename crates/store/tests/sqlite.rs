#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The conformance suite on SQLite (one temporary database file per test), plus what only the
//! embedded backend has: durability across reopening, and its migration runner.

#[macro_use]
mod conformance;

use std::path::PathBuf;

use conformance::{account, record, Harness};
use store::{PutMode, SqliteStore, Store, StoreError, SCHEMA_VERSION};

/// A temporary directory holding `hermetic.db`.
struct SqliteHarness {
    dir: tempfile::TempDir,
}

impl SqliteHarness {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("hermetic.db")
    }
}

impl Harness for SqliteHarness {
    fn open(&self) -> Box<dyn Store> {
        Box::new(SqliteStore::open(self.path()).unwrap())
    }

    fn drop_table(&self, table: &str) {
        let conn = rusqlite::Connection::open(self.path()).unwrap();
        conn.execute_batch(&format!("DROP TABLE {table}")).unwrap();
    }

    fn sql(&self, statements: &str) {
        let conn = rusqlite::Connection::open(self.path()).unwrap();
        conn.execute_batch(statements).unwrap();
    }
}

conformance_tests!(SqliteHarness::new());

#[test]
fn committed_writes_survive_reopening() {
    let h = SqliteHarness::new();
    let a = account(1);
    let rec = record(&a.id, "user", "alice");
    {
        let store = SqliteStore::open(h.path()).unwrap();
        let mut tx = store.begin().unwrap();
        tx.create_account(&a).unwrap();
        tx.put_record(&rec, PutMode::Create).unwrap();
        tx.append_event(&a.id, b"created", &[9; 32]).unwrap();
        tx.commit().unwrap();
        // An uncommitted write at the moment the process goes away.
        let mut tx = store.begin().unwrap();
        tx.put_record(&record(&a.id, "user", "uncommitted"), PutMode::Create).unwrap();
        std::mem::forget(tx);
        drop(store);
    }
    let store = SqliteStore::open(h.path()).unwrap();
    let mut r = store.read().unwrap();
    assert_eq!(r.get_account(&a.id).unwrap(), Some(a.clone()));
    assert_eq!(r.get_record(&a.id, "user", "alice").unwrap(), Some(rec));
    assert_eq!(r.get_record(&a.id, "user", "uncommitted").unwrap(), None);
    assert_eq!(r.audit_head(&a.id).unwrap().size, 1);
}

#[test]
fn migrations_are_idempotent() {
    let h = SqliteHarness::new();
    let a = account(1);
    let store = SqliteStore::open(h.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mut tx = store.begin().unwrap();
    tx.create_account(&a).unwrap();
    tx.commit().unwrap();
    assert_eq!(store.migrate().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.migrate().unwrap(), SCHEMA_VERSION);
    drop(store);

    // Reopening a v1 database applies nothing and keeps the data.
    let store = SqliteStore::open(h.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.read().unwrap().get_account(&a.id).unwrap(), Some(a));
    drop(store);
    let conn = rusqlite::Connection::open(h.path()).unwrap();
    let rows: i64 =
        conn.query_row("SELECT count(*) FROM schema_version", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 1);
}

#[test]
fn a_newer_schema_is_refused() {
    let h = SqliteHarness::new();
    drop(SqliteStore::open(h.path()).unwrap());
    let conn = rusqlite::Connection::open(h.path()).unwrap();
    conn.execute("UPDATE schema_version SET version = 99", []).unwrap();
    drop(conn);
    let err = SqliteStore::open(h.path()).unwrap_err();
    assert_eq!(err, StoreError::SchemaTooNew { found: 99, supported: SCHEMA_VERSION });
}

#[test]
fn a_writer_waiting_too_long_is_busy_and_retryable() {
    let h = SqliteHarness::new();
    let options = store::SqliteOptions {
        busy_timeout: std::time::Duration::from_millis(50),
        ..store::SqliteOptions::default()
    };
    let first = SqliteStore::open_with(h.path(), &options).unwrap();
    let second = SqliteStore::open_with(h.path(), &options).unwrap();
    let tx = first.begin().unwrap();
    let err = second.begin().err().unwrap();
    assert_eq!(err, StoreError::Busy);
    assert!(err.is_retryable());
    drop(tx);
    second.begin().unwrap().commit().unwrap();
}
