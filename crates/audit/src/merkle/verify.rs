//! Proof verification, following RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency)
//! step by step. The verifier needs only the proof, the sizes and the roots: no tree.

use super::{empty_root, node_hash, Hash, MerkleError};

/// The root that an inclusion proof of `leaf_hash` at `index` implies for a tree of `tree_size`
/// leaves (RFC 9162 §2.1.3.2 steps 1–4).
///
/// # Errors
/// [`MerkleError::IndexOutOfRange`] if `index >= tree_size`; [`MerkleError::ProofTooLong`] or
/// [`MerkleError::ProofTooShort`] if the proof's length does not fit the tree's shape.
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
) -> Result<Hash, MerkleError> {
    // Step 1.
    if index >= tree_size {
        return Err(MerkleError::IndexOutOfRange { index, size: tree_size });
    }
    // Step 2: fn is the leaf's index, sn the last index, both shifted up level by level.
    let (mut f_n, mut s_n) = (index, tree_size - 1);
    // Step 3.
    let mut r = *leaf_hash;
    // Step 4.
    for p in proof {
        if s_n == 0 {
            return Err(MerkleError::ProofTooLong);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                // A right-edge node with no sibling at this level: climb until it has one.
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 5 (first half): the proof must reach the root.
    if s_n != 0 {
        return Err(MerkleError::ProofTooShort);
    }
    Ok(r)
}

/// Checks that `proof` proves `leaf_hash` is the leaf at `index` of the tree of `tree_size`
/// leaves whose root is `root` (RFC 9162 §2.1.3.2).
///
/// # Errors
/// As [`root_from_inclusion_proof`], and [`MerkleError::RootMismatch`] if the recomputed root
/// differs from `root`.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    let computed = root_from_inclusion_proof(leaf_hash, index, tree_size, proof)?;
    if &computed == root {
        Ok(())
    } else {
        Err(MerkleError::RootMismatch)
    }
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of `old_size`
/// leaves with root `old_root`, given the consistency proof `proof` (RFC 9162 §2.1.4.2).
///
/// Edge cases, which RFC 9162 leaves to the caller: equal sizes need equal roots and an empty
/// proof; an old size of 0 needs the empty tree's root as `old_root` and an empty proof.
///
/// # Errors
/// [`MerkleError::SizesOutOfOrder`], [`MerkleError::EmptyProof`],
/// [`MerkleError::NonEmptyProof`], [`MerkleError::ProofTooLong`], [`MerkleError::ProofTooShort`],
/// [`MerkleError::OldRootMismatch`] or [`MerkleError::NewRootMismatch`].
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), MerkleError> {
    if old_size > new_size {
        return Err(MerkleError::SizesOutOfOrder { old: old_size, new: new_size });
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return Err(MerkleError::NonEmptyProof);
        }
        return if *old_root == empty_root() { Ok(()) } else { Err(MerkleError::OldRootMismatch) };
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(MerkleError::NonEmptyProof);
        }
        return if old_root == new_root { Ok(()) } else { Err(MerkleError::NewRootMismatch) };
    }
    // Step 1.
    let Some((first, rest)) = proof.split_first() else {
        return Err(MerkleError::EmptyProof);
    };
    // Step 2: when the old tree is a perfect subtree, its root is the proof's implicit first
    // element.
    let (start, rest) = if old_size.is_power_of_two() { (old_root, proof) } else { (first, rest) };
    // Step 3.
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    // Step 4: skip the levels where the old tree's last node is a right child.
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 5.
    let (mut fr, mut sr) = (*start, *start);
    // Step 6.
    for c in rest {
        if s_n == 0 {
            return Err(MerkleError::ProofTooLong);
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 7.
    if s_n != 0 {
        return Err(MerkleError::ProofTooShort);
    }
    if &fr != old_root {
        return Err(MerkleError::OldRootMismatch);
    }
    if &sr != new_root {
        return Err(MerkleError::NewRootMismatch);
    }
    Ok(())
}
