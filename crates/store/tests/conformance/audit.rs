//! The audit log: atomicity with the effect, linear sequence numbers, roots and stored subtrees
//! against an independent RFC 6962 computation, checkpoints.

use sha2::{Digest, Sha256};
use store::{Checkpoint, Hash, PutMode, Store, StoreError};

use super::{account_id, record};

/// RFC 6962 §2.1, written out here independently of the `audit` crate.
pub fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            let mut h = Sha256::new();
            h.update([1u8]);
            h.update(mth(&leaves[..k]));
            h.update(mth(&leaves[k..]));
            h.finalize().into()
        }
    }
}

/// `SHA-256(0x00 || data)`.
pub fn leaf(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

fn event(i: usize) -> Vec<u8> {
    format!("{{\"eventVersion\":\"1.09\",\"n\":{i}}}").into_bytes()
}

pub fn effect_and_event_are_atomic(store: &dyn Store) {
    let acct = account_id(1);
    let mut tx = store.begin().unwrap();
    tx.put_record(&record(&acct, "user", "taken"), PutMode::Create).unwrap();
    tx.append_event(&acct, &event(0), &leaf(&event(0))).unwrap();
    tx.commit().unwrap();
    let before = store.read().unwrap().audit_head(&acct).unwrap();

    // The pipeline's shape: effect, event, then a failure before commit (`?` drops the tx).
    let attempt = || -> Result<(), StoreError> {
        let mut tx = store.begin()?;
        tx.put_record(&record(&acct, "user", "new"), PutMode::Create)?;
        assert_eq!(tx.append_event(&acct, &event(1), &leaf(&event(1)))?, 1);
        tx.put_record(&record(&acct, "user", "taken"), PutMode::Create)?;
        tx.commit()
    };
    assert_eq!(attempt(), Err(StoreError::AlreadyExists));
    // And a failure after the effect, before the event.
    let attempt = || -> Result<(), StoreError> {
        let mut tx = store.begin()?;
        tx.put_record(&record(&acct, "user", "new"), PutMode::Create)?;
        tx.put_record(&record(&acct, "user", "taken"), PutMode::Create)?;
        tx.append_event(&acct, &event(1), &leaf(&event(1)))?;
        tx.commit()
    };
    assert_eq!(attempt(), Err(StoreError::AlreadyExists));

    let mut r = store.read().unwrap();
    assert_eq!(r.get_record(&acct, "user", "new").unwrap(), None);
    assert_eq!(r.audit_head(&acct).unwrap(), before);
    assert_eq!(r.audit_events(&acct, 0..10).unwrap().len(), 1);
    assert_eq!(r.audit_subtree(&acct, 0, 1).unwrap(), None);
    drop(r);

    // Both commit together; the rolled-back sequence number is reused, so no gap.
    let mut tx = store.begin().unwrap();
    tx.put_record(&record(&acct, "user", "new"), PutMode::Create).unwrap();
    assert_eq!(tx.append_event(&acct, &event(1), &leaf(&event(1))).unwrap(), 1);
    tx.commit().unwrap();
    let mut r = store.read().unwrap();
    assert!(r.get_record(&acct, "user", "new").unwrap().is_some());
    let head = r.audit_head(&acct).unwrap();
    assert_eq!(head.size, 2);
    assert_eq!(head.root, mth(&[leaf(&event(0)), leaf(&event(1))]));
}

pub fn roots_match_recomputation(store: &dyn Store) {
    let acct = account_id(7);
    let mut leaves: Vec<Hash> = Vec::new();
    {
        let mut r = store.read().unwrap();
        let head = r.audit_head(&acct).unwrap();
        assert_eq!(head.size, 0);
        assert_eq!(head.root, mth(&[]));
        assert_eq!(
            hex(&head.root),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
    for i in 0..70usize {
        // Up to three events per transaction: sequencing within one transaction is linear too.
        let mut tx = store.begin().unwrap();
        for j in 0..(i % 3 + 1) {
            let n = leaves.len();
            if n >= 70 {
                break;
            }
            let e = event(n);
            assert_eq!(tx.append_event(&acct, &e, &leaf(&e)).unwrap(), n as u64, "{i}/{j}");
            leaves.push(leaf(&e));
        }
        tx.commit().unwrap();
        let head = store.read().unwrap().audit_head(&acct).unwrap();
        assert_eq!(head.size, leaves.len() as u64);
        assert_eq!(head.root, mth(&leaves), "root at size {}", leaves.len());
        if leaves.len() >= 70 {
            break;
        }
    }
    assert_eq!(leaves.len(), 70);

    let mut r = store.read().unwrap();
    // Every size's root, from the stored subtrees alone.
    for size in 0..=70usize {
        assert_eq!(r.audit_root_at(&acct, size as u64).unwrap(), mth(&leaves[..size]), "{size}");
    }
    assert!(matches!(r.audit_root_at(&acct, 71), Err(StoreError::InvalidInput(_))));
    // Every complete perfect subtree is stored, and no incomplete one.
    for level in 0..8u8 {
        let width = 1usize << level;
        for index in 0..(70 / width + 2) {
            let got = r.audit_subtree(&acct, level, index as u64).unwrap();
            let end = (index + 1) * width;
            if end <= 70 {
                assert_eq!(got, Some(mth(&leaves[index * width..end])), "({level}, {index})");
            } else {
                assert_eq!(got, None, "({level}, {index})");
            }
        }
    }
    // Events come back in order, with their leaf hashes.
    let events = r.audit_events(&acct, 10..20).unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), (10..20).collect::<Vec<_>>());
    for e in &events {
        assert_eq!(e.event, event(e.seq as usize));
        assert_eq!(e.leaf_hash, leaves[e.seq as usize]);
    }
    assert_eq!(r.audit_events(&acct, 0..u64::MAX).unwrap().len(), 70);
    assert!(r.audit_events(&acct, 70..80).unwrap().is_empty());
    // Proofs from the stored subtrees verify with the audit crate's verifier.
    let root = mth(&leaves);
    for index in [0u64, 1, 31, 63, 64, 69] {
        let proof = r.audit_inclusion_proof(&acct, index, 70).unwrap();
        assert!(audit::merkle::verify_inclusion(&leaves[index as usize], index, 70, &proof, &root)
            .is_ok());
    }
    for old in [1u64, 7, 32, 64, 69, 70] {
        let proof = r.audit_consistency_proof(&acct, old, 70).unwrap();
        let old_root = mth(&leaves[..old as usize]);
        assert!(audit::merkle::verify_consistency(old, 70, &proof, &old_root, &root).is_ok());
    }
    assert!(matches!(r.audit_inclusion_proof(&acct, 70, 70), Err(StoreError::InvalidInput(_))));
    assert!(matches!(r.audit_inclusion_proof(&acct, 0, 71), Err(StoreError::InvalidInput(_))));
}

pub fn batched_appends_match_single_ones(store: &dyn Store) {
    let acct = account_id(9);
    let mut leaves: Vec<Hash> = Vec::new();
    // Batches of 0, 1, 2, ... events, interleaved with single appends, up to 60 events.
    let mut batch_len = 0usize;
    while leaves.len() < 60 {
        let mut tx = store.begin().unwrap();
        let start = leaves.len();
        let events: Vec<Vec<u8>> = (start..start + batch_len).map(event).collect();
        let batch: Vec<(&[u8], Hash)> = events.iter().map(|e| (e.as_slice(), leaf(e))).collect();
        assert_eq!(tx.append_events(&acct, &batch).unwrap(), start as u64);
        leaves.extend(batch.iter().map(|(_, l)| *l));
        let single = event(leaves.len());
        assert_eq!(tx.append_event(&acct, &single, &leaf(&single)).unwrap(), leaves.len() as u64);
        leaves.push(leaf(&single));
        tx.commit().unwrap();
        batch_len += 1;
    }
    let mut r = store.read().unwrap();
    let size = leaves.len();
    let head = r.audit_head(&acct).unwrap();
    assert_eq!((head.size, head.root), (size as u64, mth(&leaves)));
    for s in 0..=size {
        assert_eq!(r.audit_root_at(&acct, s as u64).unwrap(), mth(&leaves[..s]), "{s}");
    }
    let stored = r.audit_events(&acct, 0..size as u64).unwrap();
    for (i, e) in stored.iter().enumerate() {
        assert_eq!((e.seq, &e.event, e.leaf_hash), (i as u64, &event(i), leaves[i]));
    }
}

pub fn logs_are_per_account(store: &dyn Store) {
    let (a, b) = (account_id(1), account_id(2));
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.append_event(&a, b"a0", &leaf(b"a0")).unwrap(), 0);
    assert_eq!(tx.append_event(&b, b"b0", &leaf(b"b0")).unwrap(), 0);
    assert_eq!(tx.append_event(&a, b"a1", &leaf(b"a1")).unwrap(), 1);
    tx.commit().unwrap();
    let mut r = store.read().unwrap();
    assert_eq!(r.audit_head(&a).unwrap().root, mth(&[leaf(b"a0"), leaf(b"a1")]));
    assert_eq!(r.audit_head(&b).unwrap().root, mth(&[leaf(b"b0")]));
    assert_eq!(r.audit_head(&account_id(3)).unwrap().size, 0);
}

pub fn checkpoints(store: &dyn Store) {
    let acct = account_id(1);
    let mut leaves = Vec::new();
    let mut tx = store.begin().unwrap();
    for i in 0..5 {
        let e = event(i);
        tx.append_event(&acct, &e, &leaf(&e)).unwrap();
        leaves.push(leaf(&e));
    }
    tx.commit().unwrap();

    let cp = |size: usize, time_ms: i64| Checkpoint {
        account: acct.clone(),
        size: size as u64,
        root: mth(&leaves[..size]),
        time_ms,
        note: format!("hermetic/{acct}\n{size}\n...\n"),
    };
    let mut tx = store.begin().unwrap();
    tx.insert_checkpoint(&cp(3, 100)).unwrap();
    tx.insert_checkpoint(&cp(5, 200)).unwrap();
    tx.insert_checkpoint(&cp(5, 300)).unwrap();
    tx.insert_checkpoint(&cp(0, 50)).unwrap();
    assert_eq!(tx.insert_checkpoint(&cp(5, 300)), Err(StoreError::AlreadyExists));
    let mut wrong = cp(4, 400);
    wrong.root = mth(&leaves[..3]);
    assert!(matches!(tx.insert_checkpoint(&wrong), Err(StoreError::InvalidInput(_))));
    let mut beyond = cp(5, 500);
    beyond.size = 6;
    assert!(matches!(tx.insert_checkpoint(&beyond), Err(StoreError::InvalidInput(_))));
    tx.commit().unwrap();

    let mut r = store.read().unwrap();
    let all = r.list_checkpoints(&acct, 0, 10).unwrap();
    assert!(!all.truncated);
    assert_eq!(all.items, vec![cp(0, 50), cp(3, 100), cp(5, 200), cp(5, 300)]);
    let page = r.list_checkpoints(&acct, 4, 1).unwrap();
    assert!(page.truncated);
    assert_eq!(page.items, vec![cp(5, 200)]);
    assert_eq!(r.latest_checkpoint(&acct).unwrap(), Some(cp(5, 300)));
    assert_eq!(r.latest_checkpoint(&account_id(2)).unwrap(), None);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
