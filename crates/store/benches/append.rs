#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The request pipeline's write path, per backend: one transaction that puts a record, appends
//! its audit event (Merkle head update included) and commits durably.
//!
//! `cargo bench -p store --bench append`. PostgreSQL at `HERMETIC_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), in a schema created for the run and dropped after;
//! skipped with a note when unreachable.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use store::{PostgresOptions, PostgresStore, PutMode, Record, SqliteStore, Store};

const ACCOUNT: &str = "123456789012";

fn write_one(store: &dyn Store, i: u64) {
    let record = Record {
        mac: Vec::new(),
        account: ACCOUNT.into(),
        kind: "user".into(),
        key: format!("user-{i:012}"),
        format_version: 1,
        body: serde_json::json!({ "UserName": format!("user-{i}"), "Path": "/", "Tags": [] }),
        updated_at_ms: 1_700_000_000_000,
    };
    let event = format!(
        "{{\"eventVersion\":\"1.09\",\"eventName\":\"CreateUser\",\"requestParameters\":\
         {{\"userName\":\"user-{i}\"}},\"recipientAccountId\":\"{ACCOUNT}\"}}"
    );
    let leaf = audit::merkle::leaf_hash(event.as_bytes());
    let mut tx = store.begin().unwrap();
    tx.put_record(&record, PutMode::Create).unwrap();
    tx.append_event(ACCOUNT, event.as_bytes(), &leaf).unwrap();
    tx.commit().unwrap();
}

fn bench_store(c: &mut Criterion, name: &str, store: &dyn Store) {
    let mut group = c.benchmark_group("put_append_commit");
    group.sample_size(30).measurement_time(Duration::from_secs(8));
    let mut i = 0u64;
    group.bench_function(name, |b| {
        b.iter(|| {
            write_one(store, i);
            i += 1;
        });
    });
    group.finish();
}

fn sqlite(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("hermetic.db")).unwrap();
    bench_store(c, "sqlite", &store);
}

fn postgres(c: &mut Criterion) {
    let url = std::env::var("HERMETIC_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let mut admin = match postgres::Client::connect(&url, postgres::NoTls) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("skipping the postgres bench: {e}");
            return;
        }
    };
    let schema = format!("store_bench_{}", std::process::id());
    admin.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
    let options = PostgresOptions { schema: Some(schema.clone()), ..PostgresOptions::new(url) };
    let store = PostgresStore::connect_with(&options).unwrap();
    bench_store(c, "postgres", &store);
    drop(store);
    admin.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
