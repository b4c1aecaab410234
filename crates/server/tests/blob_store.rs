#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! S3 over an S3-compatible blob store (moto's server, started by the test), in process: what
//! a commit drops stays for the read grace (a GET that began before streams ranges of it) and
//! goes after, through the deleter; the sweeper takes only blobs nothing names or queues; a
//! failed write leaves nothing; and the deletion queue, which the operator can write, never
//! makes the deleter remove a blob a record names.

#[path = "../../hermetic/tests/common/moto.rs"]
mod moto;

mod common;

use common::Harness;
use std::time::{Duration, SystemTime};

fn now_ms() -> i64 {
    i64::try_from(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis())
        .unwrap()
}

async fn on_s3(tag: &str) -> Harness {
    let bucket = moto::bucket(tag);
    let options = moto::options(&bucket, "node");
    Harness::with_blobs(tag, server::config::BlobStoreConfig::S3(options)).await
}

fn blob_names(h: &Harness, account: &str) -> Vec<String> {
    let mut names: Vec<String> =
        h.app.blobs().list(account).unwrap().into_iter().map(|b| b.name).collect();
    names.sort();
    names
}

fn queued(h: &Harness) -> Vec<store::BlobGarbage> {
    h.app.store().read().unwrap().due_blob_deletions(i64::MAX, 100).unwrap()
}

/// 3 MiB of bytes that differ at every offset (a streamed body; three reads of ranges).
fn body(seed: u8) -> Vec<u8> {
    (0..3 * 1024 * 1024).map(|i: usize| (i % 251) as u8 ^ seed).collect()
}

#[tokio::test]
async fn an_overwritten_object_keeps_its_blob_for_the_read_grace() {
    let h = on_s3("overwrite").await;
    assert_eq!(h.app.blobs().backend(), "s3");
    let (account, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-grace", b"").await.status, 200);
    let first = body(1);
    assert_eq!(root.s3("PUT", "/acme-grace/k", &first).await.status, 200);
    let old = blob_names(&h, &account);
    assert_eq!(old.len(), 1);
    let second = body(2);
    assert_eq!(root.s3("PUT", "/acme-grace/k", &second).await.status, 200);

    // The overwritten blob is queued, not deleted: a GET that began before still reads it.
    assert_eq!(blob_names(&h, &account).len(), 2);
    let due = queued(&h);
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].account.as_str(), due[0].name.as_str()),
        (account.as_str(), old[0].as_str())
    );
    assert_eq!(h.app.delete_dropped(now_ms()).unwrap(), 0);
    assert_eq!(blob_names(&h, &account).len(), 2);

    // After the read grace (15 minutes), the deleter removes it and forgets it.
    let later = now_ms() + 16 * 60 * 1000;
    assert_eq!(h.app.delete_dropped(later).unwrap(), 1);
    let left = blob_names(&h, &account);
    assert_eq!(left.len(), 1);
    assert_ne!(left[0], old[0]);
    assert!(queued(&h).is_empty());
    let r = root.s3("GET", "/acme-grace/k", b"").await;
    assert_eq!(r.status, 200);
    assert!(r.body == second);

    // A delete queues the last blob too; the object is gone at once, its blob after the grace.
    assert_eq!(root.s3("DELETE", "/acme-grace/k", b"").await.status, 204);
    assert_eq!(root.s3("GET", "/acme-grace/k", b"").await.status, 404);
    assert_eq!(queued(&h).len(), 1);
    assert_eq!(h.app.delete_dropped(later).unwrap(), 1);
    assert!(blob_names(&h, &account).is_empty());
}

#[tokio::test]
async fn the_sweeper_takes_only_what_nothing_names_or_queues() {
    let h = on_s3("sweep").await;
    let (account, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-sweep", b"").await.status, 200);
    assert_eq!(root.s3("PUT", "/acme-sweep/k", b"one").await.status, 200);
    assert_eq!(root.s3("PUT", "/acme-sweep/k", b"two").await.status, 200);
    // What a crash between a blob and its record leaves: a blob nothing names.
    let orphan = store::BlobRef { account: account.clone(), name: "orphan-of-a-crash".into() };
    let mut writer = h.app.blobs().create(&orphan).unwrap();
    writer.write(b"sealed bytes").unwrap();
    writer.commit().unwrap();
    assert_eq!(blob_names(&h, &account).len(), 3);

    // Within the grace nothing goes; two hours later only the orphan does (the named blob
    // stays, and so does the queued one: the deleter's, after the read grace).
    let grace = Duration::from_secs(3600);
    assert_eq!(h.app.sweep(SystemTime::now(), grace).unwrap(), 0);
    let later = SystemTime::now() + Duration::from_secs(7200);
    assert_eq!(h.app.sweep(later, grace).unwrap(), 1);
    let left = blob_names(&h, &account);
    assert_eq!(left.len(), 2);
    assert!(!left.contains(&orphan.name));
    assert_eq!(queued(&h).len(), 1);
    let r = root.s3("GET", "/acme-sweep/k", b"").await;
    assert_eq!((r.status, r.body.as_slice()), (200, &b"two"[..]));
}

#[tokio::test]
async fn a_failed_write_leaves_no_blob() {
    let h = on_s3("failed").await;
    let (account, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-failed", b"").await.status, 200);
    // Content-MD5 of other bytes: refused after the body was sealed and stored.
    let wrong_md5 = "XrY7u+Ae7tCTyyK7j1rNww==";
    for data in [b"small".to_vec(), body(3)] {
        let r =
            root.send("s3", "PUT", "/acme-failed/k", &[("content-md5", wrong_md5)], &data).await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains("BadDigest"), "{}", r.text());
    }
    assert!(blob_names(&h, &account).is_empty());
    assert!(queued(&h).is_empty());
}

/// The operator's write access to the database: a deletion queued for a blob a record still
/// names (the queue is bookkeeping, not authenticated) is forgotten, never carried out.
#[tokio::test]
async fn a_planted_deletion_never_removes_a_named_blob() {
    let h = on_s3("planted").await;
    let (account, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-planted", b"").await.status, 200);
    assert_eq!(root.s3("PUT", "/acme-planted/k", b"kept").await.status, 200);
    let named = blob_names(&h, &account);
    assert_eq!(named.len(), 1);
    let mut tx = h.app.store().begin().unwrap();
    tx.queue_blob_deletions(&[(account.clone(), named[0].clone())], 0).unwrap();
    tx.commit().unwrap();
    assert_eq!(h.app.delete_dropped(now_ms()).unwrap(), 0);
    assert_eq!(blob_names(&h, &account), named);
    assert!(queued(&h).is_empty());
    let r = root.s3("GET", "/acme-planted/k", b"").await;
    assert_eq!((r.status, r.body.as_slice()), (200, &b"kept"[..]));
}
