//! The operator's bookkeeping tables (schema 6) on each backend: blobs queued for deletion,
//! leases on background work, node settings; and that [`store::Authenticated`] passes them
//! through (they carry no MAC).

use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use store::{
    with_retries, Authenticated, BlobGarbage, PutMode, ReadOnly, RowKey, Store, StoreError, Tx,
};

use super::{account_id, Harness};

fn blobs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, n)| ((*a).to_owned(), (*n).to_owned())).collect()
}

fn garbage(account: &str, name: &str, dropped_at_ms: i64) -> BlobGarbage {
    BlobGarbage { account: account.to_owned(), name: name.to_owned(), dropped_at_ms }
}

pub fn blob_deletions_are_queued_once_and_listed_oldest_first(store: &dyn Store) {
    let (a, b) = (account_id(1), account_id(2));
    let mut tx = store.begin().unwrap();
    tx.queue_blob_deletions(&blobs(&[(&b, "y"), (&a, "x")]), 10).unwrap();
    tx.queue_blob_deletions(&blobs(&[(&a, "w")]), 20).unwrap();
    // Queued again (and twice in one call): each keeps its first time.
    tx.queue_blob_deletions(&blobs(&[(&a, "x"), (&a, "x"), (&a, "v")]), 30).unwrap();
    tx.queue_blob_deletions(&[], 40).unwrap();
    tx.commit().unwrap();

    let mut r = store.read().unwrap();
    assert_eq!(
        r.due_blob_deletions(15, 10).unwrap(),
        [garbage(&a, "x", 10), garbage(&b, "y", 10)],
        "dropped before 15, oldest first, then by account and name"
    );
    assert!(r.due_blob_deletions(10, 10).unwrap().is_empty(), "strictly before");
    assert_eq!(
        r.due_blob_deletions(i64::MAX, 3).unwrap(),
        [garbage(&a, "x", 10), garbage(&b, "y", 10), garbage(&a, "w", 20)]
    );
    assert!(r.due_blob_deletions(i64::MAX, 0).unwrap().is_empty());
    assert_eq!(r.queued_blob_deletions(&a).unwrap(), ["v", "w", "x"]);
    assert_eq!(r.queued_blob_deletions(&b).unwrap(), ["y"]);
    assert!(r.queued_blob_deletions(&account_id(3)).unwrap().is_empty());
    drop(r);

    let mut tx = store.begin().unwrap();
    tx.forget_blob_deletion(&a, "x").unwrap();
    // A row already gone is not an error.
    tx.forget_blob_deletion(&a, "x").unwrap();
    tx.forget_blob_deletion(&account_id(3), "never").unwrap();
    tx.commit().unwrap();
    let mut r = store.read().unwrap();
    assert_eq!(r.queued_blob_deletions(&a).unwrap(), ["v", "w"]);
    assert_eq!(r.due_blob_deletions(15, 10).unwrap(), [garbage(&b, "y", 10)]);
    drop(r);

    // Uncommitted work is rolled back; bad input is refused before anything is written.
    let mut tx = store.begin().unwrap();
    tx.queue_blob_deletions(&blobs(&[(&a, "rolled-back")]), 1).unwrap();
    drop(tx);
    let mut tx = store.begin().unwrap();
    for bad in [blobs(&[(&a, "ok"), (&a, "")]), blobs(&[(&a, "ok"), ("", "n")])] {
        assert!(matches!(tx.queue_blob_deletions(&bad, 1), Err(StoreError::InvalidInput(_))));
    }
    let nul = blobs(&[(&a, "a\0b")]);
    assert!(matches!(tx.queue_blob_deletions(&nul, 1), Err(StoreError::InvalidInput(_))));
    assert!(matches!(tx.forget_blob_deletion(&a, "a\0"), Err(StoreError::InvalidInput(_))));
    assert!(matches!(tx.queued_blob_deletions("a\0"), Err(StoreError::InvalidInput(_))));
    // Nothing failed in the database: the transaction goes on.
    tx.forget_blob_deletion(&a, "v").unwrap();
    tx.commit().unwrap();
    let mut r = store.read().unwrap();
    assert_eq!(r.queued_blob_deletions(&a).unwrap(), ["w"]);
}

pub fn leases_are_taken_when_free_expired_or_held(store: &dyn Store) {
    let lease = |name: &str, holder: &str, now: i64| {
        with_retries(store, 5, |tx| tx.try_lease(name, holder, now, 50)).unwrap()
    };
    assert!(lease("sweep", "node-a", 100), "free");
    assert!(!lease("sweep", "node-b", 120), "held by another until 150");
    assert!(lease("sweep", "node-a", 140), "ours: extended to 190");
    assert!(!lease("sweep", "node-b", 170), "still held");
    assert!(lease("other", "node-b", 170), "each lease on its own");
    assert!(lease("sweep", "node-b", 190), "expired at 190");
    assert!(!lease("sweep", "node-a", 200), "node-b's now");
    // Released by its holder, free at once; released by another, held still.
    with_retries(store, 5, |tx| tx.release_lease("sweep", "node-a")).unwrap();
    assert!(!lease("sweep", "node-a", 201), "node-a released nothing of node-b's");
    with_retries(store, 5, |tx| tx.release_lease("sweep", "node-b")).unwrap();
    assert!(lease("sweep", "node-a", 202), "released");
    with_retries(store, 5, |tx| tx.release_lease("never-taken", "node-a")).unwrap();
    // An expiry further off than two lifetimes was written by no holder renewing with this
    // lifetime (an edited row): the lease is void; within two lifetimes (a clock ahead) it
    // stands.
    assert!(lease("edited", "node-x", 1000), "free");
    let mut tx = store.begin().unwrap();
    assert!(tx.try_lease("edited", "node-x", 1000, 1_000_000).unwrap(), "node-x's own");
    tx.commit().unwrap();
    assert!(lease("edited", "node-b", 1000), "expiry 1,001,000 > 1000 + 2 × 50: void");
    assert!(lease("ahead", "node-x", 1040), "held until 1090");
    assert!(!lease("ahead", "node-b", 1000), "1090 ≤ 1000 + 2 × 50: a clock ahead, held");
    // A lease taken in a transaction rolled back was never taken.
    let mut tx = store.begin().unwrap();
    assert!(tx.try_lease("rolled-back", "node-a", 0, 1000).unwrap());
    drop(tx);
    assert!(lease("rolled-back", "node-b", 1));
    let mut tx = store.begin().unwrap();
    for (name, holder) in [("", "h"), ("n", ""), ("n\0", "h"), ("n", "h\0")] {
        assert!(matches!(tx.try_lease(name, holder, 0, 1), Err(StoreError::InvalidInput(_))));
        assert!(matches!(tx.release_lease(name, holder), Err(StoreError::InvalidInput(_))));
    }
    tx.commit().unwrap();
}

/// Nodes racing for one lease at the same moment, each through its own store: exactly one
/// holds it.
pub fn one_node_of_many_takes_a_lease(harness: &dyn Harness) {
    let stores: Vec<Box<dyn Store>> = (0..3).map(|_| harness.open()).collect();
    let holders = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for n in 0..6 {
            let (store, holders) = (&*stores[n % stores.len()], &holders);
            s.spawn(move || {
                let holder = format!("node-{n}");
                let held =
                    with_retries(store, 50, |tx| tx.try_lease("race", &holder, 1_000, 60_000))
                        .unwrap();
                if held {
                    holders.lock().unwrap().push(holder);
                }
            });
        }
    });
    assert_eq!(holders.into_inner().unwrap().len(), 1);
}

pub fn node_settings_are_written_as_asked(store: &dyn Store) {
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.node_setting("shamir_setup").unwrap(), None);
    tx.put_node_setting("shamir_setup", "{\"Threshold\":2}", PutMode::Create).unwrap();
    assert_eq!(
        tx.put_node_setting("shamir_setup", "other", PutMode::Create),
        Err(StoreError::AlreadyExists)
    );
    assert_eq!(tx.put_node_setting("missing", "v", PutMode::Update), Err(StoreError::NotFound));
    tx.commit().unwrap();
    let mut r = store.read().unwrap();
    assert_eq!(r.node_setting("shamir_setup").unwrap().as_deref(), Some("{\"Threshold\":2}"));
    assert_eq!(r.node_setting("missing").unwrap(), None);
    drop(r);
    let mut tx = store.begin().unwrap();
    tx.put_node_setting("shamir_setup", "updated", PutMode::Update).unwrap();
    tx.put_node_setting("new", "upserted", PutMode::Upsert).unwrap();
    tx.put_node_setting("new", "upserted again", PutMode::Upsert).unwrap();
    for name in ["", "a\0"] {
        assert!(matches!(tx.node_setting(name), Err(StoreError::InvalidInput(_))));
        assert!(matches!(
            tx.put_node_setting(name, "v", PutMode::Upsert),
            Err(StoreError::InvalidInput(_))
        ));
    }
    tx.commit().unwrap();
    let mut r = store.read().unwrap();
    assert_eq!(r.node_setting("shamir_setup").unwrap().as_deref(), Some("updated"));
    assert_eq!(r.node_setting("new").unwrap().as_deref(), Some("upserted again"));
}

struct TestKey;
impl RowKey for TestKey {
    fn tag(&self, message: &[u8]) -> [u8; 32] {
        Sha256::new().chain_update(b"bookkeeping").chain_update(message).finalize().into()
    }
}

/// The bookkeeping carries no MAC: an authenticated store passes it through both ways (rows
/// written below it read back through it, and the other way round), and a read-only
/// transaction reads it and refuses to write it.
pub fn bookkeeping_passes_through_authenticated_stores(harness: &dyn Harness) {
    let inner: Arc<dyn Store> = Arc::from(harness.open());
    let checked = Authenticated::new(inner.clone(), Arc::new(TestKey));
    let a = account_id(1);
    let mut tx = inner.begin().unwrap();
    tx.queue_blob_deletions(&blobs(&[(&a, "below")]), 5).unwrap();
    tx.put_node_setting("set-below", "v", PutMode::Create).unwrap();
    tx.commit().unwrap();
    let mut tx = checked.begin().unwrap();
    assert_eq!(tx.queued_blob_deletions(&a).unwrap(), ["below"]);
    assert_eq!(tx.node_setting("set-below").unwrap().as_deref(), Some("v"));
    tx.queue_blob_deletions(&blobs(&[(&a, "through")]), 6).unwrap();
    tx.forget_blob_deletion(&a, "below").unwrap();
    assert!(tx.try_lease("lease", "node", 0, 10).unwrap());
    tx.release_lease("lease", "node").unwrap();
    assert!(tx.try_lease("lease", "other", 1, 10).unwrap());
    tx.put_node_setting("set-through", "w", PutMode::Create).unwrap();
    tx.commit().unwrap();
    let mut r = inner.read().unwrap();
    assert_eq!(r.due_blob_deletions(i64::MAX, 10).unwrap(), [garbage(&a, "through", 6)]);
    assert_eq!(r.node_setting("set-through").unwrap().as_deref(), Some("w"));
    drop(r);
    let mut r = checked.read().unwrap();
    assert_eq!(r.due_blob_deletions(i64::MAX, 10).unwrap(), [garbage(&a, "through", 6)]);
    drop(r);
    let mut ro: Box<dyn Tx + '_> = Box::new(ReadOnly(checked.read().unwrap()));
    assert_eq!(ro.queued_blob_deletions(&a).unwrap(), ["through"]);
    assert_eq!(ro.node_setting("set-through").unwrap().as_deref(), Some("w"));
    assert!(matches!(ro.try_lease("lease", "other", 100, 10), Err(StoreError::InvalidInput(_))));
    assert!(matches!(ro.release_lease("lease", "other"), Err(StoreError::InvalidInput(_))));
    assert!(matches!(
        ro.queue_blob_deletions(&blobs(&[(&a, "n")]), 1),
        Err(StoreError::InvalidInput(_))
    ));
    assert!(matches!(ro.forget_blob_deletion(&a, "through"), Err(StoreError::InvalidInput(_))));
    assert!(matches!(
        ro.put_node_setting("x", "y", PutMode::Upsert),
        Err(StoreError::InvalidInput(_))
    ));
    ro.commit().unwrap();
}
