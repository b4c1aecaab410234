#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The conformance suite on a real PostgreSQL server (`HERMETIC_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`): each test gets a schema of its own, created
//! before and dropped after. Plus the migration runner.

#[macro_use]
mod conformance;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use conformance::{account, Harness};
use store::{PostgresOptions, PostgresStore, Store, StoreError, SCHEMA_VERSION};

fn url() -> String {
    std::env::var("HERMETIC_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn admin() -> postgres::Client {
    postgres::Client::connect(&url(), postgres::NoTls)
        .unwrap_or_else(|e| panic!("PostgreSQL at HERMETIC_TEST_POSTGRES_URL is required: {e}"))
}

/// A schema of its own, dropped with everything in it at the end of the test.
struct PgHarness {
    schema: String,
}

impl PgHarness {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let schema = format!(
            "store_test_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin().batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
        Self { schema }
    }

    fn options(&self) -> PostgresOptions {
        PostgresOptions {
            schema: Some(self.schema.clone()),
            connections: 2,
            ..PostgresOptions::new(url())
        }
    }
}

impl Drop for PgHarness {
    fn drop(&mut self) {
        let _ = admin().batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
    }
}

impl Harness for PgHarness {
    fn open(&self) -> Box<dyn Store> {
        Box::new(PostgresStore::connect_with(&self.options()).unwrap())
    }

    fn drop_table(&self, table: &str) {
        admin().batch_execute(&format!("DROP TABLE {}.{table}", self.schema)).unwrap();
    }

    fn sql(&self, statements: &str) {
        admin().batch_execute(&format!("SET search_path = {}; {statements}", self.schema)).unwrap();
    }
}

conformance_tests!(PgHarness::new());

#[test]
fn a_writer_with_a_stale_head_commits_over_the_newer_one() {
    conformance::authenticated::a_writer_with_a_stale_head_commits_over_the_newer_one(
        &PgHarness::new(),
    );
}

#[test]
fn migrations_are_idempotent() {
    let h = PgHarness::new();
    let a = account(1);
    let store = PostgresStore::connect_with(&h.options()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mut tx = store.begin().unwrap();
    tx.create_account(&a).unwrap();
    tx.commit().unwrap();
    assert_eq!(store.migrate().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.migrate().unwrap(), SCHEMA_VERSION);
    drop(store);

    // Several servers starting at once on a v1 database: each finds nothing to do.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let store = PostgresStore::connect_with(&h.options()).unwrap();
                assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
            });
        }
    });
    let store = PostgresStore::connect_with(&h.options()).unwrap();
    assert_eq!(store.read().unwrap().get_account(&a.id).unwrap(), Some(a));
    let mut admin = admin();
    let rows: i64 = admin
        .query_one(&format!("SELECT count(*) FROM {}.schema_version", h.schema), &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    // The tables went into the test's schema, not `public`.
    let here: i64 = admin
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
            &[&h.schema],
        )
        .unwrap()
        .get(0);
    assert_eq!(here, 11);
}

#[test]
fn concurrent_first_migrations_apply_once() {
    let h = PgHarness::new();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let store = PostgresStore::connect_with(&h.options()).unwrap();
                assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
            });
        }
    });
}

#[test]
fn a_newer_schema_is_refused() {
    let h = PgHarness::new();
    drop(PostgresStore::connect_with(&h.options()).unwrap());
    admin().batch_execute(&format!("UPDATE {}.schema_version SET version = 99", h.schema)).unwrap();
    let err = PostgresStore::connect_with(&h.options()).unwrap_err();
    assert_eq!(err, StoreError::SchemaTooNew { found: 99, supported: SCHEMA_VERSION });
}

#[test]
fn bad_options_are_refused() {
    let mut o = PostgresOptions::new(url());
    o.schema = Some("x; DROP TABLE y".into());
    assert!(matches!(PostgresStore::connect_with(&o), Err(StoreError::InvalidInput(_))));
    assert!(matches!(PostgresStore::connect("postgres://[bad"), Err(StoreError::InvalidInput(_))));
}

#[test]
fn a_version_1_database_migrates_forward_keeping_its_data() {
    let h = PgHarness::new();
    {
        let store = PostgresStore::connect_with(&h.options()).unwrap();
        let mut tx = store.begin().unwrap();
        tx.create_account(&account(1)).unwrap();
        tx.commit().unwrap();
    }
    // Back to version 1 (version 2 only added the last-used columns).
    let mut client = admin();
    client
        .batch_execute(&format!(
            "SET search_path = {s};
             ALTER TABLE access_keys DROP COLUMN last_used_service, DROP COLUMN last_used_region;
             ALTER TABLE accounts DROP COLUMN mac;
             ALTER TABLE access_keys DROP COLUMN mac;
             ALTER TABLE records DROP COLUMN mac;
             ALTER TABLE audit_events DROP COLUMN mac;
             ALTER TABLE audit_heads DROP COLUMN mac;
             DROP TABLE blob_garbage, leases, node_settings;
             UPDATE schema_version SET version = 1;
             INSERT INTO access_keys (access_key_id, account, owner_kind, owner_key, status,
                                      secret_wrapped, created_at, last_used_at)
                 VALUES ('AKIAOLDOLDOLDOLDOLD1', '{a}', 'root', '{a}',
                         'active', '\\x00', 1, 5);",
            s = h.schema,
            a = conformance::account_id(1)
        ))
        .unwrap();
    let store = PostgresStore::connect_with(&h.options()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let mut tx = store.begin().unwrap();
    let key = tx.get_access_key("AKIAOLDOLDOLDOLDOLD1").unwrap().unwrap();
    assert_eq!((key.last_used_at_ms, key.last_used_service), (Some(5), None));
    tx.set_access_key_last_used("AKIAOLDOLDOLDOLDOLD1", 9, "sts", "eu-west-1").unwrap();
    tx.commit().unwrap();
    let key = store.read().unwrap().get_access_key("AKIAOLDOLDOLDOLDOLD1").unwrap().unwrap();
    assert_eq!(key.last_used_region.as_deref(), Some("eu-west-1"));
}

/// Whether `table` of the harness's schema can be locked `ACCESS EXCLUSIVE` within `wait`: not
/// while a connection is in a transaction that read it.
fn lockable(h: &PgHarness, table: &str, wait: Duration) -> bool {
    admin()
        .batch_execute(&format!(
            "BEGIN; SET LOCAL lock_timeout = '{}ms';
             LOCK TABLE {}.{table} IN ACCESS EXCLUSIVE MODE; ROLLBACK",
            wait.as_millis(),
            h.schema
        ))
        .is_ok()
}

/// A dropped reader's transaction stays open on its connection (the next `BEGIN` carries its
/// `ROLLBACK`) until `maintain` finds the connection idle for a second and ends it.
#[test]
fn maintain_ends_a_dropped_readers_transaction() {
    let h = PgHarness::new();
    let options = PostgresOptions { connections: 1, ..h.options() };
    let store = PostgresStore::connect_with(&options).unwrap();
    let a = account(1);
    let mut tx = store.begin().unwrap();
    tx.create_account(&a).unwrap();
    tx.commit().unwrap();
    assert!(lockable(&h, "accounts", Duration::from_secs(5)));

    let mut r = store.read().unwrap();
    assert!(r.get_account(&a.id).unwrap().is_some());
    drop(r);
    assert!(!lockable(&h, "accounts", Duration::from_millis(100)));
    std::thread::sleep(Duration::from_millis(1100));
    store.maintain();
    assert!(lockable(&h, "accounts", Duration::from_secs(5)));
    // And the connection serves the next reader.
    assert_eq!(store.read().unwrap().get_account(&a.id).unwrap(), Some(a));
}

/// A store on one connection, holding account 1, whose last reader was dropped: the
/// connection still owes its `ROLLBACK` (and holds `accounts`' `ACCESS SHARE` lock).
fn owing_a_rollback(h: &PgHarness) -> (PostgresStore, store::Account) {
    let options = PostgresOptions { connections: 1, ..h.options() };
    let store = PostgresStore::connect_with(&options).unwrap();
    let a = account(1);
    let mut tx = store.begin().unwrap();
    tx.create_account(&a).unwrap();
    tx.commit().unwrap();
    let mut r = store.read().unwrap();
    assert!(r.get_account(&a.id).unwrap().is_some());
    drop(r);
    (store, a)
}

/// A connection killed while its reader's rollback waits: the store does not go on with it
/// silently. The next transaction either finds it closed and reconnects, or fails on it and
/// marks it broken; the one after works on a new connection.
#[test]
fn a_connection_lost_with_a_rollback_pending_is_replaced() {
    let h = PgHarness::new();
    let (store, a) = owing_a_rollback(&h);

    // The store's only connection is the one still in the reader's transaction on `accounts`.
    let mut admin = admin();
    let pid: i32 = admin
        .query_one(
            &format!(
                "SELECT pid FROM pg_locks WHERE relation = '{}.accounts'::regclass
                   AND mode = 'AccessShareLock' AND pid <> pg_backend_pid()",
                h.schema
            ),
            &[],
        )
        .unwrap()
        .get(0);
    admin.execute("SELECT pg_terminate_backend($1)", &[&pid]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while admin
        .query_opt("SELECT 1 FROM pg_stat_activity WHERE pid = $1", &[&pid])
        .unwrap()
        .is_some()
    {
        assert!(Instant::now() < deadline, "backend {pid} outlived its termination");
        std::thread::sleep(Duration::from_millis(20));
    }

    if let Ok(mut r) = store.read() {
        // Reconnected before `BEGIN`, or the statement fails on the dead connection.
        if let Ok(found) = r.get_account(&a.id) {
            assert_eq!(found, Some(a.clone()));
        }
    }
    assert_eq!(store.read().unwrap().get_account(&a.id).unwrap(), Some(a));
}

/// A transaction's `BEGIN` waits for its first statement: one that runs none sends nothing, and
/// the rollback a dropped reader left owed on the connection is still owed after it (and still
/// ended by `maintain`).
#[test]
fn a_transaction_that_runs_nothing_keeps_the_rollback_owed() {
    let h = PgHarness::new();
    let (store, a) = owing_a_rollback(&h);
    assert!(!lockable(&h, "accounts", Duration::from_millis(100)));

    drop(store.read().unwrap());
    store.begin().unwrap().commit().unwrap();
    drop(store.begin().unwrap());
    assert!(!lockable(&h, "accounts", Duration::from_millis(100)));
    std::thread::sleep(Duration::from_millis(1100));
    store.maintain();
    assert!(lockable(&h, "accounts", Duration::from_secs(5)));
    assert_eq!(store.read().unwrap().get_account(&a.id).unwrap(), Some(a));
}

/// A writer whose first statement changes something sends its `BEGIN` first: dropped, it
/// leaves nothing, even on a connection that owed a reader's rollback.
#[test]
fn a_writers_first_change_is_inside_its_transaction() {
    let h = PgHarness::new();
    let options = PostgresOptions { connections: 1, ..h.options() };
    let store = PostgresStore::connect_with(&options).unwrap();
    drop(store.read().unwrap().get_account(&account(9).id).unwrap());
    let a = account(1);
    let mut tx = store.begin().unwrap();
    tx.create_account(&a).unwrap();
    drop(tx);
    assert_eq!(store.read().unwrap().get_account(&a.id).unwrap(), None);
    let mut tx = store.begin().unwrap();
    tx.create_account(&a).unwrap();
    tx.commit().unwrap();
    assert_eq!(store.read().unwrap().get_account(&a.id).unwrap(), Some(a));
}
