//! The audit log's Merkle tree, exactly as RFC 6962 §2.1 defines it.
//!
//! * A leaf's hash is `SHA-256(0x00 || entry)`, an interior node's `SHA-256(0x01 || left || right)`.
//! * The Merkle Tree Hash of `n` leaves splits them at `k`, the largest power of two below `n`:
//!   `MTH(D[n]) = node_hash(MTH(D[0:k]), MTH(D[k:n]))`; the empty tree's hash is `SHA-256("")`.
//! * Inclusion and consistency proofs are RFC 6962 §2.1.1 / §2.1.2 audit paths; verification is
//!   RFC 9162 §2.1.3.2 / §2.1.4.2.
//!
//! Three ways to compute, for three callers:
//! * from a slice of leaf hashes ([`root`], [`inclusion_proof`], [`consistency_proof`]): tests and
//!   small logs;
//! * from a [`CompactRange`] (the "frontier" of at most log2(n) perfect-subtree roots): appending
//!   an entry costs O(1) amortized hashes and yields the new root without reading old leaves;
//! * from stored perfect-subtree hashes through a lookup closure ([`inclusion_proof_from_store`],
//!   [`consistency_proof_from_store`], [`root_from_store`]): the `store` crate persists every node
//!   that [`CompactRange::append_with`] reports and answers proofs with O(log n) lookups.
//!
//! A node is named by a [`NodeId`] `(level, index)`: the perfect subtree over leaves
//! `[index * 2^level, (index + 1) * 2^level)`; level 0 is the leaves themselves. Perfect subtrees
//! never change once complete, so a store writes each exactly once.

mod compact;
mod proof;
mod verify;

use sha2::{Digest, Sha256};

pub use compact::{frontier_nodes, CompactRange};
pub use proof::{
    consistency_plan, consistency_proof, consistency_proof_from_store, inclusion_plan,
    inclusion_proof, inclusion_proof_from_store, range_hash_from_store, root_from_store, NodeId,
    SubtreeRange,
};
pub use verify::{root_from_inclusion_proof, verify_consistency, verify_inclusion};

/// The length of every hash in the tree (SHA-256).
pub const HASH_LEN: usize = 32;

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; HASH_LEN];

/// Domain-separation prefix of a leaf hash (RFC 6962 §2.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash (RFC 6962 §2.1).
const NODE_PREFIX: u8 = 0x01;

/// What went wrong computing or checking a Merkle proof.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// A leaf index at or past the end of the tree.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree size it was asked in.
        size: u64,
    },
    /// A consistency proof asked from a larger tree to a smaller one.
    #[error("old tree size {old} is larger than new tree size {new}")]
    SizesOutOfOrder {
        /// The first (old) size.
        old: u64,
        /// The second (new) size.
        new: u64,
    },
    /// A tree size larger than the leaves supplied.
    #[error("tree size {size} exceeds the {available} leaves given")]
    NotEnoughLeaves {
        /// The tree size asked for.
        size: u64,
        /// How many leaf hashes were given.
        available: u64,
    },
    /// The store's lookup found no hash for a node a proof needs.
    #[error("no stored hash for node (level {level}, index {index})")]
    MissingNode {
        /// The node's level.
        level: u8,
        /// The node's index within its level.
        index: u64,
    },
    /// The proof has fewer hashes than the tree's shape requires.
    #[error("proof is too short for the tree sizes")]
    ProofTooShort,
    /// The proof has more hashes than the tree's shape allows.
    #[error("proof is too long for the tree sizes")]
    ProofTooLong,
    /// A consistency proof between different sizes was empty.
    #[error("consistency proof is empty")]
    EmptyProof,
    /// A proof that must be empty (equal sizes, or from the empty tree) was not.
    #[error("proof must be empty for these tree sizes")]
    NonEmptyProof,
    /// The root recomputed from an inclusion proof differs from the expected root.
    #[error("recomputed root does not match the expected root")]
    RootMismatch,
    /// The old root recomputed from a consistency proof differs from the expected old root.
    #[error("recomputed old root does not match the expected old root")]
    OldRootMismatch,
    /// The new root recomputed from a consistency proof differs from the expected new root.
    #[error("recomputed new root does not match the expected new root")]
    NewRootMismatch,
    /// A compact range was given a number of hashes that does not fit its size.
    #[error("a compact range of size {size} holds {expected} hashes, not {actual}")]
    WrongFrontierLength {
        /// The range's size.
        size: u64,
        /// How many hashes that size needs (its number of one bits).
        expected: usize,
        /// How many were given.
        actual: usize,
    },
    /// The log holds `u64::MAX` entries already.
    #[error("the log is full")]
    LogFull,
}

/// The hash of the empty tree: `SHA-256("")`.
#[must_use]
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The hash of a leaf whose entry is `data`: `SHA-256(0x00 || data)`.
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The Merkle Tree Hash of a list of leaf hashes (RFC 6962 §2.1); the empty list gives
/// [`empty_root`].
///
/// Computed bottom-up: pair neighbours level by level, carrying a lone last node up unchanged,
/// which yields the same tree as RFC 6962's split at the largest power of two.
#[must_use]
pub fn root(leaf_hashes: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = leaf_hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .filter_map(|pair| match (pair.first(), pair.get(1)) {
                (Some(l), Some(r)) => Some(node_hash(l, r)),
                (Some(lone), None) => Some(*lone),
                (None, _) => None,
            })
            .collect();
    }
    level.first().copied().unwrap_or_else(empty_root)
}

/// The Merkle Tree Hash of a list of entries: [`root`] of their [`leaf_hash`]es.
#[must_use]
pub fn root_of_entries<T: AsRef<[u8]>>(entries: &[T]) -> Hash {
    let hashes: Vec<Hash> = entries.iter().map(|e| leaf_hash(e.as_ref())).collect();
    root(&hashes)
}

/// The largest power of two strictly below `n`, for `n >= 2` (RFC 6962's split point `k`).
/// Returns 0 for `n < 2`, where the tree does not split.
fn split_point(n: u64) -> u64 {
    if n < 2 {
        return 0;
    }
    // n - 1 >= 1, so its leading zeros are at most 63 and the shift is at most 63.
    1u64 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(0), 0);
        assert_eq!(split_point(1), 0);
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn empty_and_single_leaf_roots() {
        assert_eq!(root(&[]), empty_root());
        let h = leaf_hash(b"x");
        assert_eq!(root(&[h]), h);
        assert_eq!(root(&[h, h, h]), node_hash(&node_hash(&h, &h), &h));
    }
}
