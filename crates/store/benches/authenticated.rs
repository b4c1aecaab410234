#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! What a MAC per row costs ([`store::Authenticated`], HMAC-SHA-256 as the server keys it): a
//! record read, and a record write in its own transaction, on SQLite, with and without the
//! layer; and for the audit log, a group commit's append of 16 events and a `LookupEvents`-sized
//! read of 50. `cargo bench -p store --bench authenticated`.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use store::{Authenticated, PutMode, Record, RowKey, SqliteStore, Store};

const ACCOUNT: &str = "123456789012";

struct HmacKey([u8; 32]);
impl RowKey for HmacKey {
    fn tag(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }
}

/// A role-sized record: a trust policy, tags, ids (about 700 bytes of JSON).
fn role(i: u64) -> Record {
    Record {
        mac: Vec::new(),
        account: ACCOUNT.into(),
        kind: "role".into(),
        key: format!("role-{i:06}"),
        format_version: 1,
        body: serde_json::json!({
            "RoleName": format!("role-{i}"), "RoleId": "AROAEXAMPLEEXAMPLE0001", "Path": "/",
            "Arn": format!("arn:aws:iam::{ACCOUNT}:role/role-{i}"), "CreateDate": 1_700_000_000,
            "AssumeRolePolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:root\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{\"Bool\":{\"aws:MultiFactorAuthPresent\":\"true\"}}}]}",
            "MaxSessionDuration": 3600, "Description": "a role of the benchmark",
            "Tags": [{"Key": "team", "Value": "payments"}, {"Key": "env", "Value": "prod"}],
        }),
        updated_at_ms: 1_700_000_000_000,
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let raw: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("hermetic.db")).unwrap());
    let authenticated = Authenticated::new(raw.clone(), Arc::new(HmacKey([7; 32])));
    {
        let mut tx = authenticated.begin().unwrap();
        for i in 0..1000 {
            tx.put_record(&role(i), PutMode::Create).unwrap();
        }
        tx.commit().unwrap();
    }
    let mut group = c.benchmark_group("record");
    group.sample_size(50).measurement_time(Duration::from_secs(5));
    for (name, store) in [("raw", raw.as_ref()), ("authenticated", &authenticated as &dyn Store)] {
        let mut i = 0u64;
        group.bench_function(format!("get/{name}"), |b| {
            b.iter(|| {
                let mut r = store.read().unwrap();
                let got = r.get_record(ACCOUNT, "role", &format!("role-{:06}", i % 1000)).unwrap();
                assert!(got.is_some());
                i += 1;
            });
        });
        let mut j = 0u64;
        group.bench_function(format!("put/{name}"), |b| {
            b.iter(|| {
                // Written under another kind: the raw store's writes carry no MAC, and the reads
                // above must keep finding MAC'd rows.
                let mut record = role(j % 1000);
                record.kind = format!("role_{name}");
                record.updated_at_ms += i64::try_from(j).unwrap();
                let mut tx = store.begin().unwrap();
                tx.put_record(&record, PutMode::Upsert).unwrap();
                tx.commit().unwrap();
                j += 1;
            });
        });
    }
    group.finish();
}

/// An event of the size the server writes (about 900 bytes of CloudTrail JSON).
fn event(i: u64) -> Vec<u8> {
    format!(
        "{{\"eventVersion\":\"1.11\",\"userIdentity\":{{\"type\":\"Root\",\"principalId\":\"{ACCOUNT}\",\
         \"arn\":\"arn:aws:iam::{ACCOUNT}:root\",\"accountId\":\"{ACCOUNT}\",\"accessKeyId\":\"AKIAEXAMPLEEXAMPLE01\"}},\
         \"eventTime\":\"2026-12-06T19:51:54Z\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"GetUser\",\
         \"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"127.0.0.1\",\"userAgent\":\"aws-cli/2.22.0 Python/3.12.6\",\
         \"requestParameters\":{{\"hermeticSealed\":\"AUNQzapR7zM+JABeTcX4im8XCtRFLBTaq/CJ3aXecZnucfHfiAeuUnGKSz+O9VTVJhe3WJZewrUp5SYb8YC4CKgqj5itYMzpk5SNzYSLEZ6nnTWSGi1EdjZY8MrIoKCpH829gA==\"}},\
         \"requestID\":\"46da233c-ef17-4c13-aaf4-{i:012}\",\"eventID\":\"103f123a-4d75-4fbc-adc8-{i:012}\",\
         \"readOnly\":true,\"eventType\":\"AwsApiCall\",\"managementEvent\":true,\
         \"recipientAccountId\":\"{ACCOUNT}\",\"eventCategory\":\"Management\"}}"
    )
    .into_bytes()
}

fn bench_audit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let raw: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("hermetic.db")).unwrap());
    let authenticated = Authenticated::new(raw.clone(), Arc::new(HmacKey([7; 32])));
    let mut group = c.benchmark_group("audit");
    group.sample_size(50).measurement_time(Duration::from_secs(5));
    // Each store appends to its own account's log (the raw store's rows carry no MAC).
    for (name, store, account) in [
        ("raw", raw.as_ref(), "111111111111"),
        ("authenticated", &authenticated as &dyn Store, "222222222222"),
    ] {
        let mut n = 0u64;
        group.bench_function(format!("append16/{name}"), |b| {
            b.iter(|| {
                let events: Vec<Vec<u8>> = (n..n + 16).map(event).collect();
                let batch: Vec<(&[u8], store::Hash)> =
                    events.iter().map(|e| (e.as_slice(), audit::merkle::leaf_hash(e))).collect();
                let mut tx = store.begin().unwrap();
                tx.append_events(account, &batch).unwrap();
                tx.commit().unwrap();
                n += 16;
            });
        });
        let size = store.read().unwrap().audit_head(account).unwrap().size;
        let mut k = 0u64;
        group.bench_function(format!("read50/{name}"), |b| {
            b.iter(|| {
                let from = (k * 50) % (size - 50);
                let got = store.read().unwrap().audit_events(account, from..from + 50).unwrap();
                assert_eq!(got.len(), 50);
                k += 1;
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench, bench_audit);
criterion_main!(benches);
