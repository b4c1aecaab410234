//! Merkle log hot paths: appending a leaf to a compact range, and generating and verifying
//! inclusion and consistency proofs in a 1,000,000-leaf log from stored perfect-subtree hashes
//! (the way the `store` crate will serve them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use audit::merkle::{
    consistency_proof_from_store, inclusion_proof_from_store, leaf_hash, verify_consistency,
    verify_inclusion, CompactRange, Hash,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

const LEAVES: u64 = 1_000_000;

/// Every perfect-subtree hash of the log, by level then index: what a store persists.
struct Store {
    levels: Vec<Vec<Hash>>,
    roots: Vec<Hash>,
}

impl Store {
    fn build(n: u64) -> Self {
        let mut levels: Vec<Vec<Hash>> = Vec::new();
        let mut roots = Vec::new();
        let mut cr = CompactRange::new();
        for i in 0..n {
            cr.append_with(leaf_hash(&i.to_be_bytes()), |id, h| {
                let level = usize::from(id.level);
                if levels.len() <= level {
                    levels.resize_with(level + 1, Vec::new);
                }
                assert_eq!(levels[level].len() as u64, id.index);
                levels[level].push(*h);
            })
            .unwrap();
            if (i + 1) % 1000 == 0 {
                roots.push(cr.root());
            }
        }
        Self { levels, roots }
    }

    fn get(&self, level: u8, index: u64) -> Option<Hash> {
        self.levels.get(usize::from(level))?.get(index as usize).copied()
    }

    /// The root at a size that is a multiple of 1000.
    fn root_at(&self, size: u64) -> Hash {
        self.roots[(size / 1000 - 1) as usize]
    }
}

fn bench_append(c: &mut Criterion) {
    let mut cr = CompactRange::new();
    for i in 0..LEAVES {
        cr.append(leaf_hash(&i.to_be_bytes())).unwrap();
    }
    let leaf = leaf_hash(b"an event");
    c.bench_function("compact_range_append (1M-leaf log)", |b| {
        b.iter(|| cr.append(black_box(leaf)).unwrap())
    });
    c.bench_function("compact_range_root (1M-leaf log)", |b| b.iter(|| black_box(&cr).root()));
    let mut cr2 = CompactRange::new();
    let entry = [0x5a_u8; 1024];
    c.bench_function("leaf_hash 1 KiB entry + append", |b| {
        b.iter(|| cr2.append(leaf_hash(black_box(&entry))).unwrap())
    });
}

fn bench_proofs(c: &mut Criterion) {
    let store = Store::build(LEAVES);
    let root = store.root_at(LEAVES);
    let lookup = |l: u8, i: u64| store.get(l, i);
    let mut index = 0u64;
    c.bench_function("inclusion proof from store + verify (1M leaves)", |b| {
        b.iter(|| {
            index = (index + 7_919) % LEAVES;
            let proof = inclusion_proof_from_store(index, LEAVES, lookup).unwrap();
            let leaf = store.get(0, index).unwrap();
            verify_inclusion(&leaf, index, LEAVES, &proof, &root).unwrap();
        })
    });
    let mut old = 0u64;
    c.bench_function("consistency proof from store + verify (1M leaves)", |b| {
        b.iter(|| {
            old = (old + 7_000) % (LEAVES - 1000) + 1000;
            old -= old % 1000;
            let proof = consistency_proof_from_store(old, LEAVES, lookup).unwrap();
            verify_consistency(old, LEAVES, &proof, &store.root_at(old), &root).unwrap();
        })
    });
}

criterion_group!(benches, bench_append, bench_proofs);
criterion_main!(benches);
