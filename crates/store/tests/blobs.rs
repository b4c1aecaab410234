#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The blob stores' contract, on local files and on a real S3-compatible server (moto's,
//! started by the test): writes become visible only on commit, a dropped writer leaves nothing
//! (an S3 multipart upload is aborted), reads return exactly what was written at any offset,
//! across the single-PUT/multipart boundary, and deletes, listings and probes behave.

#[path = "../../hermetic/tests/common/moto.rs"]
mod moto;

use store::{BlobRef, BlobStore, LocalBlobs, S3Blobs};

const ACCOUNT: &str = "111122223333";

fn blob(name: &str) -> BlobRef {
    BlobRef { account: ACCOUNT.into(), name: name.into() }
}

/// Bytes that differ at every offset (so a read at the wrong offset is seen).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ (i / 251) as u8).collect()
}

fn write(store: &dyn BlobStore, name: &str, bytes: &[u8], chunk: usize) {
    let mut writer = store.create(&blob(name)).unwrap();
    for piece in bytes.chunks(chunk.max(1)) {
        writer.write(piece).unwrap();
    }
    writer.commit().unwrap();
}

fn names(store: &dyn BlobStore) -> Vec<String> {
    let mut names: Vec<String> = store.list(ACCOUNT).unwrap().into_iter().map(|b| b.name).collect();
    names.sort();
    names
}

fn contract(store: &dyn BlobStore) {
    store.probe().unwrap();
    assert!(names(store).is_empty());

    // Every size around the single-request / multipart boundary, read back whole and in
    // pieces that straddle the boundaries.
    const MIB: usize = 1024 * 1024;
    for (i, len) in [0, 1, 8 * MIB - 1, 8 * MIB, 8 * MIB + 1, 20 * MIB].into_iter().enumerate() {
        let bytes = pattern(len);
        let name = format!("size-{i}");
        write(store, &name, &bytes, 3 * MIB + 7);
        let mut reader = store.open(&blob(&name), len as u64).unwrap();
        let mut whole = vec![0u8; len];
        reader.read_at(0, &mut whole).unwrap();
        assert!(whole == bytes, "{len}");
        for (at, n) in [(0, 17), (1, 65_552), (8 * MIB - 3, 7), (len.saturating_sub(5), 5)] {
            if at + n <= len {
                let mut buf = vec![0u8; n];
                reader.read_at(at as u64, &mut buf).unwrap();
                assert_eq!(buf, bytes[at..at + n], "{len} at {at}");
            }
        }
        // Past the end is an error, not short data.
        let mut buf = vec![0u8; 2];
        assert!(reader.read_at(len as u64, &mut buf).is_err());
    }

    // A writer dropped before its commit leaves nothing, small or multipart.
    let before = names(store);
    for len in [100, 9 * MIB] {
        let mut writer = store.create(&blob("abandoned")).unwrap();
        writer.write(&pattern(len)).unwrap();
        drop(writer);
    }
    assert_eq!(names(store), before);
    assert!(store
        .open(&blob("abandoned"), 100)
        .and_then(|mut r| r.read_at(0, &mut [0u8; 1]))
        .is_err());

    // Listings: the account, each blob with a recent modification time.
    assert!(store.accounts().unwrap().contains(&ACCOUNT.to_string()));
    let now = std::time::SystemTime::now();
    for entry in store.list(ACCOUNT).unwrap() {
        let age = now.duration_since(entry.modified).unwrap_or_default();
        assert!(age < std::time::Duration::from_secs(600), "{entry:?}");
    }

    // Deletes: gone, and deleting again (or a blob that never was) is fine.
    store.delete(&blob("size-1")).unwrap();
    store.delete(&blob("size-1")).unwrap();
    store.delete(&blob("never-written")).unwrap();
    assert!(!names(store).contains(&"size-1".to_string()));

    // Names that could climb out of the account are refused.
    for bad in ["../x", "a/b", "", ".hidden"] {
        assert!(store.create(&blob(bad)).is_err(), "{bad}");
        assert!(store.delete(&blob(bad)).is_err(), "{bad}");
    }
    let stats = store.stats();
    assert!(stats.bytes_written >= (36 * MIB) as u64 && stats.bytes_read > 0, "{stats:?}");
}

#[test]
fn local_files_keep_the_contract() {
    let dir = std::env::temp_dir().join(format!("hermetic-blobs-{}", std::process::id()));
    let store = LocalBlobs::new(dir.join("blobs"));
    contract(&store);
    // A blob of another length than its record says is missing (a truncated file).
    write(&store, "short", b"abc", 3);
    assert!(store.open(&blob("short"), 4).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_s3_bucket_keeps_the_contract() {
    let bucket = moto::bucket("contract");
    let store = S3Blobs::new(&moto::options(&bucket, "pre/fix")).unwrap();
    contract(&store);
    // Keys are PREFIX/blobs/ACCOUNT/NAME and nothing else; no multipart upload is left.
    let listed = moto::s3_call(&format!(
        "print('\\n'.join(o['Key'] for o in s3.list_objects_v2(Bucket={bucket:?}).get('Contents', [])))\n\
         print('uploads', len(s3.list_multipart_uploads(Bucket={bucket:?}).get('Uploads', [])))"
    ));
    for line in listed.lines().filter(|l| !l.starts_with("uploads")) {
        assert!(line.starts_with(&format!("pre/fix/blobs/{ACCOUNT}/size-")), "{line}");
    }
    assert!(listed.contains("uploads 0"), "{listed}");
}

#[test]
fn a_missing_bucket_fails_the_probe() {
    let _ = moto::endpoint();
    let store = S3Blobs::new(&moto::options("no-such-bucket-here", "")).unwrap();
    assert!(store.probe().is_err());
    let shown = format!("{}", store.probe().unwrap_err());
    assert!(!shown.contains(moto::SECRET) && !shown.contains("no-such-bucket"), "{shown}");
}
