#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The published RFC 6962 vectors of the certificate-transparency reference tree
//! (`tests/data/rfc6962.json`): roots, inclusion and consistency proofs, the node ids a store
//! serves them from, and the corruptions a verifier must reject.

use std::collections::HashMap;

use audit::merkle::{
    consistency_plan, consistency_proof, consistency_proof_from_store, empty_root, inclusion_plan,
    inclusion_proof, inclusion_proof_from_store, leaf_hash, root_from_store, root_of_entries,
    verify_consistency, verify_inclusion, CompactRange, Hash, NodeId,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    leaves: Vec<String>,
    empty_root: String,
    roots: Vec<RootVector>,
    inclusion: Vec<InclusionVector>,
    consistency: Vec<ConsistencyVector>,
    inclusion_nodes: Vec<InclusionNodes>,
    consistency_nodes: Vec<ConsistencyNodes>,
}

#[derive(Deserialize)]
struct RootVector {
    size: u64,
    root: String,
}

#[derive(Deserialize)]
struct InclusionVector {
    index: u64,
    size: u64,
    proof: Vec<String>,
}

#[derive(Deserialize)]
struct ConsistencyVector {
    old_size: u64,
    new_size: u64,
    proof: Vec<String>,
}

#[derive(Deserialize)]
struct InclusionNodes {
    index: u64,
    size: u64,
    nodes: Vec<Vec<(u8, u64)>>,
}

#[derive(Deserialize)]
struct ConsistencyNodes {
    old_size: u64,
    new_size: u64,
    nodes: Vec<Vec<(u8, u64)>>,
}

fn vectors() -> Vectors {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc6962.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn h(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn hs(v: &[String]) -> Vec<Hash> {
    v.iter().map(|s| h(s)).collect()
}

fn entries(v: &Vectors) -> Vec<Vec<u8>> {
    v.leaves.iter().map(|s| hex::decode(s).unwrap()).collect()
}

fn leaf_hashes(v: &Vectors) -> Vec<Hash> {
    entries(v).iter().map(|e| leaf_hash(e)).collect()
}

/// Every perfect-subtree node of the tree, as a store keeps them.
fn store_of(leaves: &[Hash]) -> HashMap<(u8, u64), Hash> {
    let mut store = HashMap::new();
    let mut cr = CompactRange::new();
    for l in leaves {
        cr.append_with(*l, |id, hash| {
            store.insert((id.level, id.index), *hash);
        })
        .unwrap();
    }
    store
}

fn root_for(v: &Vectors, size: u64) -> Hash {
    h(&v.roots.iter().find(|r| r.size == size).unwrap().root)
}

#[test]
fn roots_of_every_prefix() {
    let v = vectors();
    let entries = entries(&v);
    let leaves = leaf_hashes(&v);
    let store = store_of(&leaves);
    assert_eq!(empty_root(), h(&v.empty_root));
    assert_eq!(root_of_entries::<&[u8]>(&[]), h(&v.empty_root));
    let mut cr = CompactRange::new();
    assert_eq!(cr.root(), h(&v.empty_root));
    for r in &v.roots {
        let n = r.size as usize;
        assert_eq!(root_of_entries(&entries[..n]), h(&r.root), "size {n}");
        cr.append(leaves[n - 1]).unwrap();
        assert_eq!(cr.root(), h(&r.root), "compact range, size {n}");
        let from_store = root_from_store(r.size, |l, i| store.get(&(l, i)).copied()).unwrap();
        assert_eq!(from_store, h(&r.root), "store, size {n}");
    }
}

#[test]
fn published_inclusion_proofs_are_generated_and_verify() {
    let v = vectors();
    let leaves = leaf_hashes(&v);
    let store = store_of(&leaves);
    for t in &v.inclusion {
        let want = hs(&t.proof);
        let root = root_for(&v, t.size);
        let leaf = leaves[t.index as usize];
        assert_eq!(inclusion_proof(&leaves, t.index, t.size).unwrap(), want);
        let stored =
            inclusion_proof_from_store(t.index, t.size, |l, i| store.get(&(l, i)).copied());
        assert_eq!(stored.unwrap(), want);
        verify_inclusion(&leaf, t.index, t.size, &want, &root).unwrap();
        for (desc, probe) in corrupt_inclusion(t.index, t.size, &want, root, leaf) {
            let r =
                verify_inclusion(&probe.leaf, probe.index, probe.size, &probe.proof, &probe.root);
            assert!(r.is_err(), "{desc} verified for index {} size {}", t.index, t.size);
        }
    }
}

#[test]
fn published_consistency_proofs_are_generated_and_verify() {
    let v = vectors();
    let leaves = leaf_hashes(&v);
    let store = store_of(&leaves);
    for t in &v.consistency {
        let want = hs(&t.proof);
        let (r1, r2) = (root_for(&v, t.old_size), root_for(&v, t.new_size));
        assert_eq!(consistency_proof(&leaves, t.old_size, t.new_size).unwrap(), want);
        let stored = consistency_proof_from_store(t.old_size, t.new_size, |l, i| {
            store.get(&(l, i)).copied()
        });
        assert_eq!(stored.unwrap(), want);
        verify_consistency(t.old_size, t.new_size, &want, &r1, &r2).unwrap();
        if want.is_empty() {
            continue;
        }
        for (desc, p) in corrupt_consistency(t.old_size, t.new_size, r1, r2, &want) {
            let r = verify_consistency(p.old_size, p.new_size, &p.proof, &p.old_root, &p.new_root);
            assert!(r.is_err(), "{desc} verified for {} -> {}", t.old_size, t.new_size);
        }
    }
}

#[test]
fn plans_name_the_published_node_ids() {
    let v = vectors();
    let group = |plan: Vec<audit::merkle::SubtreeRange>| -> Vec<Vec<(u8, u64)>> {
        plan.iter()
            .map(|r| r.nodes().iter().map(|n: &NodeId| (n.level, n.index)).collect())
            .collect()
    };
    for t in &v.inclusion_nodes {
        let got = group(inclusion_plan(t.index, t.size).unwrap());
        assert_eq!(got, t.nodes, "inclusion of {} in {}", t.index, t.size);
    }
    for t in &v.consistency_nodes {
        let got = group(consistency_plan(t.old_size, t.new_size).unwrap());
        assert_eq!(got, t.nodes, "consistency {} -> {}", t.old_size, t.new_size);
    }
}

#[test]
fn degenerate_sizes() {
    let some = leaf_hash(b"data");
    // A one-leaf tree's root is its leaf hash and the proof is empty.
    verify_inclusion(&some, 0, 1, &[], &some).unwrap();
    assert!(verify_inclusion(&some, 0, 1, &[], &empty_root()).is_err());
    for (index, size) in [(0, 0), (1, 0), (2, 1), (1, 1)] {
        assert!(verify_inclusion(&some, index, size, &[], &some).is_err());
    }
    // Consistency from the empty tree needs the empty root and no proof.
    verify_consistency(0, 5, &[], &empty_root(), &some).unwrap();
    assert!(verify_consistency(0, 5, &[], &some, &some).is_err());
    assert!(verify_consistency(0, 5, &[some], &empty_root(), &some).is_err());
    // Equal sizes need equal roots and no proof; sizes must not go backwards.
    verify_consistency(3, 3, &[], &some, &some).unwrap();
    assert!(verify_consistency(3, 3, &[], &some, &empty_root()).is_err());
    assert!(verify_consistency(3, 3, &[some], &some, &some).is_err());
    assert!(verify_consistency(2, 1, &[], &some, &some).is_err());
    assert!(verify_consistency(1, 2, &[], &some, &some).is_err());
}

struct InclusionProbe {
    index: u64,
    size: u64,
    leaf: Hash,
    root: Hash,
    proof: Vec<Hash>,
}

/// The corruptions of transparency-dev/merkle's `corruptInclusionProof`.
fn corrupt_inclusion(
    index: u64,
    size: u64,
    proof: &[Hash],
    root: Hash,
    leaf: Hash,
) -> Vec<(String, InclusionProbe)> {
    let probe = |index: u64, size: u64, leaf: Hash, root: Hash, proof: Vec<Hash>| InclusionProbe {
        index,
        size,
        leaf,
        root,
        proof,
    };
    let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    let p = proof.to_vec();
    let with = |front: Option<Hash>, back: Option<Hash>| {
        let mut v: Vec<Hash> = front.into_iter().collect();
        v.extend_from_slice(proof);
        v.extend(back);
        v
    };
    let mut out = vec![
        ("index - 1".into(), probe(index.wrapping_sub(1), size, leaf, root, p.clone())),
        ("index + 1".into(), probe(index + 1, size, leaf, root, p.clone())),
        ("index ^ 2".into(), probe(index ^ 2, size, leaf, root, p.clone())),
        ("size * 2".into(), probe(index, size * 2, leaf, root, p.clone())),
        ("size / 2".into(), probe(index, size / 2, leaf, root, p.clone())),
        ("wrong leaf".into(), probe(index, size, leaf_hash(b"WrongLeaf"), root, p.clone())),
        ("empty root".into(), probe(index, size, leaf, empty_root(), p.clone())),
        ("random root".into(), probe(index, size, leaf, some, p.clone())),
        ("trailing root".into(), probe(index, size, leaf, root, with(None, Some(root)))),
        ("preceding root".into(), probe(index, size, leaf, root, with(Some(root), None))),
    ];
    for i in 0..proof.len() {
        let mut q = p.clone();
        q[i][0] ^= 8;
        out.push((format!("modified proof[{i}]"), probe(index, size, leaf, root, q)));
    }
    if !proof.is_empty() {
        out.push((
            "removed component".into(),
            probe(index, size, leaf, root, p[..p.len() - 1].to_vec()),
        ));
    }
    if proof.len() > 1 {
        let mut q = vec![p[0], some];
        q.extend_from_slice(&p[1..]);
        out.push(("inserted component".into(), probe(index, size, leaf, root, q)));
    }
    out
}

struct ConsistencyProbe {
    old_size: u64,
    new_size: u64,
    old_root: Hash,
    new_root: Hash,
    proof: Vec<Hash>,
}

/// The corruptions of transparency-dev/merkle's `corruptConsistencyProof`.
fn corrupt_consistency(
    old: u64,
    new: u64,
    r1: Hash,
    r2: Hash,
    proof: &[Hash],
) -> Vec<(String, ConsistencyProbe)> {
    let probe = |old_size, new_size, old_root, new_root, proof| ConsistencyProbe {
        old_size,
        new_size,
        old_root,
        new_root,
        proof,
    };
    let wrong = leaf_hash(b"WrongRoot");
    let p = proof.to_vec();
    let with = |front: Option<Hash>, back: Option<Hash>| {
        let mut v: Vec<Hash> = front.into_iter().collect();
        v.extend_from_slice(proof);
        v.extend(back);
        v
    };
    let mut out = vec![
        ("old - 1".into(), probe(old - 1, new, r1, r2, p.clone())),
        ("old + 1".into(), probe(old + 1, new, r1, r2, p.clone())),
        ("old ^ 2".into(), probe(old ^ 2, new, r1, r2, p.clone())),
        ("new * 2".into(), probe(old, new * 2, r1, r2, p.clone())),
        ("new / 2".into(), probe(old, new / 2, r1, r2, p.clone())),
        ("wrong old root".into(), probe(old, new, wrong, r2, p.clone())),
        ("wrong new root".into(), probe(old, new, r1, wrong, p.clone())),
        ("swapped roots".into(), probe(old, new, r2, r1, p.clone())),
        ("empty proof".into(), probe(old, new, r1, r2, vec![])),
        ("trailing root1".into(), probe(old, new, r1, r2, with(None, Some(r1)))),
        ("trailing root2".into(), probe(old, new, r1, r2, with(None, Some(r2)))),
        ("preceding root1".into(), probe(old, new, r1, r2, with(Some(r1), None))),
        ("preceding root2".into(), probe(old, new, r1, r2, with(Some(r2), None))),
        ("preceding proof[0]".into(), probe(old, new, r1, r2, with(Some(p[0]), None))),
        ("truncated".into(), probe(old, new, r1, r2, p[..p.len() - 1].to_vec())),
    ];
    for i in 0..proof.len() {
        let mut q = p.clone();
        q[i][0] ^= 16;
        out.push((format!("modified proof[{i}]"), probe(old, new, r1, r2, q)));
    }
    out
}
