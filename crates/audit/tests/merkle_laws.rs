#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Laws of the Merkle log on generated logs: a proof verifies iff the entry is in the log; every
//! inclusion and consistency proof verifies and any tampering fails; the compact range, the
//! store-backed proofs and the leaf-backed proofs agree with a naive RFC 6962 recursion.

use std::collections::HashMap;

use audit::merkle::{
    consistency_proof, consistency_proof_from_store, frontier_nodes, inclusion_proof,
    inclusion_proof_from_store, leaf_hash, node_hash, root, root_from_store, verify_consistency,
    verify_inclusion, CompactRange, Hash,
};
use proptest::prelude::*;

/// RFC 6962 §2.1's definition, written down literally: the reference the library is held to.
fn naive_mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => audit::merkle::empty_root(),
        1 => leaves[0],
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            node_hash(&naive_mth(&leaves[..k]), &naive_mth(&leaves[k..]))
        }
    }
}

fn entries(max: usize) -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..4), 1..max)
}

fn hashes(entries: &[Vec<u8>]) -> Vec<Hash> {
    entries.iter().map(|e| leaf_hash(e)).collect()
}

fn store_of(leaves: &[Hash]) -> HashMap<(u8, u64), Hash> {
    let mut store = HashMap::new();
    let mut cr = CompactRange::new();
    for l in leaves {
        cr.append_with(*l, |id, h| {
            assert!(store.insert((id.level, id.index), *h).is_none(), "node written twice");
        })
        .unwrap();
    }
    store
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut h = *h;
    h[(bit / 8) % 32] ^= 1 << (bit % 8);
    h
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A Merkle proof verifies iff the entry is in the log at that index.
    #[test]
    fn proof_verifies_iff_entry_is_in_log(
        log in entries(40),
        pick in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        foreign in prop::collection::vec(any::<u8>(), 0..4),
        use_foreign in any::<bool>(),
    ) {
        let leaves = hashes(&log);
        let n = leaves.len() as u64;
        let i = at.index(log.len());
        let candidate = if use_foreign { foreign } else { log[pick.index(log.len())].clone() };
        let proof = inclusion_proof(&leaves, i as u64, n).unwrap();
        let verified = verify_inclusion(&leaf_hash(&candidate), i as u64, n, &proof, &root(&leaves)).is_ok();
        prop_assert_eq!(verified, log[i] == candidate);
    }

    /// Every inclusion proof verifies, and fails for a different leaf, index, size, root or
    /// proof element.
    #[test]
    fn inclusion_proofs_verify_and_tampering_fails(log in entries(48), bit in 0usize..256) {
        let leaves = hashes(&log);
        let n = leaves.len() as u64;
        let r = naive_mth(&leaves);
        let store = store_of(&leaves);
        for i in 0..n {
            let leaf = leaves[i as usize];
            let proof = inclusion_proof(&leaves, i, n).unwrap();
            let stored = inclusion_proof_from_store(i, n, |l, x| store.get(&(l, x)).copied()).unwrap();
            prop_assert_eq!(&stored, &proof);
            prop_assert!(verify_inclusion(&leaf, i, n, &proof, &r).is_ok());
            // A different leaf (an entry that is not this one).
            let other = leaf_hash(&[log[i as usize].as_slice(), b"!"].concat());
            prop_assert!(verify_inclusion(&other, i, n, &proof, &r).is_err());
            // A different index: every other position in the tree.
            for j in (0..n).filter(|&j| j != i && leaves[j as usize] != leaf) {
                prop_assert!(verify_inclusion(&leaf, j, n, &proof, &r).is_err(), "index {} as {}", i, j);
            }
            // A different size.
            prop_assert!(verify_inclusion(&leaf, i, n * 2, &proof, &r).is_err());
            prop_assert!(verify_inclusion(&leaf, i, n / 2, &proof, &r).is_err());
            // A different root.
            prop_assert!(verify_inclusion(&leaf, i, n, &proof, &flip(&r, bit)).is_err());
            // A tampered, dropped or extra proof element.
            for k in 0..proof.len() {
                let mut bad = proof.clone();
                bad[k] = flip(&bad[k], bit);
                prop_assert!(verify_inclusion(&leaf, i, n, &bad, &r).is_err());
            }
            if let Some((_, shorter)) = proof.split_last() {
                prop_assert!(verify_inclusion(&leaf, i, n, shorter, &r).is_err());
            }
            let mut longer = proof.clone();
            longer.push(r);
            prop_assert!(verify_inclusion(&leaf, i, n, &longer, &r).is_err());
        }
    }

    /// Consistency proofs verify between every pair of sizes m <= n and fail for a tampered
    /// root or proof element.
    #[test]
    fn consistency_proofs_verify_and_tampering_fails(log in entries(40), bit in 0usize..256) {
        let leaves = hashes(&log);
        let n_max = leaves.len();
        let store = store_of(&leaves);
        let roots: Vec<Hash> = (0..=n_max).map(|m| naive_mth(&leaves[..m])).collect();
        for n in 1..=n_max as u64 {
            for m in 0..=n {
                let (r1, r2) = (roots[m as usize], roots[n as usize]);
                let proof = consistency_proof(&leaves, m, n).unwrap();
                let stored = consistency_proof_from_store(m, n, |l, x| store.get(&(l, x)).copied()).unwrap();
                prop_assert_eq!(&stored, &proof);
                prop_assert!(verify_consistency(m, n, &proof, &r1, &r2).is_ok(), "{} -> {}", m, n);
                prop_assert!(verify_consistency(m, n, &proof, &flip(&r1, bit), &r2).is_err());
                if m > 0 {
                    prop_assert!(verify_consistency(m, n, &proof, &r1, &flip(&r2, bit)).is_err());
                }
                for k in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[k] = flip(&bad[k], bit);
                    prop_assert!(verify_consistency(m, n, &bad, &r1, &r2).is_err());
                }
                if m > 0 && m < n {
                    prop_assert!(verify_consistency(m, n, &[], &r1, &r2).is_err());
                    let mut longer = proof.clone();
                    longer.push(r2);
                    prop_assert!(verify_consistency(m, n, &longer, &r1, &r2).is_err());
                }
            }
        }
    }

    /// The compact range's root equals the full recomputation at every size, as do the store's
    /// root and a compact range restored from the store's frontier nodes.
    #[test]
    fn compact_range_matches_full_recomputation(log in entries(80)) {
        let leaves = hashes(&log);
        let store = store_of(&leaves);
        let mut cr = CompactRange::new();
        for (k, l) in leaves.iter().enumerate() {
            cr.append(*l).unwrap();
            let n = k as u64 + 1;
            let want = naive_mth(&leaves[..=k]);
            prop_assert_eq!(cr.root(), want);
            prop_assert_eq!(root(&leaves[..=k]), want);
            prop_assert_eq!(root_from_store(n, |l, x| store.get(&(l, x)).copied()).unwrap(), want);
            prop_assert_eq!(cr.nodes(), frontier_nodes(n));
            let restored: Vec<Hash> = frontier_nodes(n)
                .iter()
                .map(|id| store[&(id.level, id.index)])
                .collect();
            prop_assert_eq!(&CompactRange::from_parts(n, restored).unwrap(), &cr);
        }
    }
}
