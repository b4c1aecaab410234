//! Proof generation: which subtrees a proof is made of (a *plan*), and their hashes computed
//! either from leaf hashes or from stored perfect-subtree hashes.
//!
//! Every element of an RFC 6962 audit path or consistency proof is the hash of one subtree of the
//! RFC 6962 tree, a leaf range `[begin, end)` that the tree's recursive split produces. Such a
//! range is either a perfect subtree (one stored node) or, on the tree's right edge, a run of
//! perfect subtrees of decreasing size whose hashes fold right to left. A store therefore needs
//! only perfect-subtree hashes, which never change once written.

use super::{node_hash, root, split_point, Hash, MerkleError};

/// A perfect subtree of the log: the `2^level` leaves `[index * 2^level, (index + 1) * 2^level)`.
/// Level 0 nodes are the leaf hashes themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves (0 for a leaf, at most 64).
    pub level: u8,
    /// Position within the level, counting from 0 at the left.
    pub index: u64,
}

impl NodeId {
    /// The node at `level` and `index`.
    #[must_use]
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// The leaf node at `index`.
    #[must_use]
    pub const fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    /// The first leaf this node covers, or `None` if that overflows `u64`.
    #[must_use]
    pub fn begin(&self) -> Option<u64> {
        let width = 1u64.checked_shl(u32::from(self.level))?;
        self.index.checked_mul(width)
    }

    /// One past the last leaf this node covers, or `None` if that overflows `u64`.
    #[must_use]
    pub fn end(&self) -> Option<u64> {
        let width = 1u64.checked_shl(u32::from(self.level))?;
        self.index.checked_add(1)?.checked_mul(width)
    }
}

/// One element of a proof: the RFC 6962 subtree over leaves `[begin, end)`.
///
/// Only the plans ([`inclusion_plan`], [`consistency_plan`]) make these, so a range is always a
/// subtree of the RFC 6962 tree: its `begin` is a multiple of the smallest power of two that is
/// at least its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubtreeRange {
    begin: u64,
    end: u64,
}

impl SubtreeRange {
    /// The first leaf of the range.
    #[must_use]
    pub const fn begin(&self) -> u64 {
        self.begin
    }

    /// One past the last leaf of the range.
    #[must_use]
    pub const fn end(&self) -> u64 {
        self.end
    }

    /// The perfect subtrees that make up the range, left to right, largest first. A perfect range
    /// is one node; a right-edge range is several, and its hash is their hashes folded from the
    /// right: `node_hash(n0, node_hash(n1, ... node_hash(n_{k-2}, n_{k-1})))`.
    #[must_use]
    pub fn nodes(&self) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut at = self.begin;
        while at < self.end {
            let len = self.end - at;
            // The largest perfect subtree starting at `at` that fits: limited by the alignment
            // of `at` and by the remaining length. Both are at most 63, so the shifts are safe.
            let align = if at == 0 { 63 } else { at.trailing_zeros() };
            let fit = 63 - len.leading_zeros();
            let level = align.min(fit);
            out.push(NodeId { level: u8::try_from(level).unwrap_or(63), index: at >> level });
            at += 1u64 << level;
        }
        out
    }
}

/// The subtrees whose hashes form the inclusion proof of leaf `index` in a tree of `size`
/// leaves, in proof order (from the leaf's sibling up to the root's child): RFC 6962 §2.1.1
/// `PATH(m, D[n])`.
///
/// # Errors
/// [`MerkleError::IndexOutOfRange`] if `index >= size`.
pub fn inclusion_plan(index: u64, size: u64) -> Result<Vec<SubtreeRange>, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    let (mut begin, mut end) = (0u64, size);
    // INVARIANT: begin <= index < end, and [begin, end) is a subtree of the RFC 6962 tree.
    while end - begin > 1 {
        let mid = begin + split_point(end - begin);
        if index < mid {
            out.push(SubtreeRange { begin: mid, end });
            end = mid;
        } else {
            out.push(SubtreeRange { begin, end: mid });
            begin = mid;
        }
    }
    out.reverse();
    Ok(out)
}

/// The subtrees whose hashes form the consistency proof from a tree of `old_size` leaves to one
/// of `new_size`, in proof order: RFC 6962 §2.1.2 `PROOF(m, D[n])`. Empty when the sizes are
/// equal or `old_size` is 0 (every tree extends the empty tree).
///
/// # Errors
/// [`MerkleError::SizesOutOfOrder`] if `old_size > new_size`.
pub fn consistency_plan(old_size: u64, new_size: u64) -> Result<Vec<SubtreeRange>, MerkleError> {
    if old_size > new_size {
        return Err(MerkleError::SizesOutOfOrder { old: old_size, new: new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let (mut begin, mut end) = (0u64, new_size);
    // `whole` is SUBPROOF's flag b: the old tree is exactly the left edge of [begin, end), so
    // the verifier already knows its hash (the old root) and it is left out of the proof.
    let mut whole = true;
    // INVARIANT: begin < old_size <= end.
    loop {
        if old_size == end {
            if !whole {
                out.push(SubtreeRange { begin, end });
            }
            break;
        }
        let mid = begin + split_point(end - begin);
        if old_size <= mid {
            out.push(SubtreeRange { begin: mid, end });
            end = mid;
        } else {
            out.push(SubtreeRange { begin, end: mid });
            begin = mid;
            whole = false;
        }
    }
    out.reverse();
    Ok(out)
}

/// The hash of one proof element from stored perfect-subtree hashes; `lookup(level, index)`
/// returns the stored hash of [`NodeId`] `(level, index)`.
///
/// # Errors
/// [`MerkleError::MissingNode`] if `lookup` has no hash for a node the range needs.
pub fn range_hash_from_store<F>(range: &SubtreeRange, lookup: &mut F) -> Result<Hash, MerkleError>
where
    F: FnMut(u8, u64) -> Option<Hash>,
{
    let mut acc: Option<Hash> = None;
    for node in range.nodes().iter().rev() {
        let h = lookup(node.level, node.index)
            .ok_or(MerkleError::MissingNode { level: node.level, index: node.index })?;
        acc = Some(match acc {
            None => h,
            Some(right) => node_hash(&h, &right),
        });
    }
    // Plans never make empty ranges; an empty one would be the empty tree.
    Ok(acc.unwrap_or_else(super::empty_root))
}

/// The root of the first `size` leaves from stored perfect-subtree hashes.
///
/// # Errors
/// [`MerkleError::MissingNode`] if `lookup` lacks one of the (at most 64) frontier nodes.
pub fn root_from_store<F>(size: u64, mut lookup: F) -> Result<Hash, MerkleError>
where
    F: FnMut(u8, u64) -> Option<Hash>,
{
    range_hash_from_store(&SubtreeRange { begin: 0, end: size }, &mut lookup)
}

/// The inclusion proof of leaf `index` in the tree of the first `size` leaves, from stored
/// perfect-subtree hashes: at most 2·log2(size) lookups.
///
/// # Errors
/// [`MerkleError::IndexOutOfRange`] if `index >= size`; [`MerkleError::MissingNode`] if a needed
/// node is not stored.
pub fn inclusion_proof_from_store<F>(
    index: u64,
    size: u64,
    mut lookup: F,
) -> Result<Vec<Hash>, MerkleError>
where
    F: FnMut(u8, u64) -> Option<Hash>,
{
    inclusion_plan(index, size)?.iter().map(|r| range_hash_from_store(r, &mut lookup)).collect()
}

/// The consistency proof from the tree of the first `old_size` leaves to that of the first
/// `new_size`, from stored perfect-subtree hashes.
///
/// # Errors
/// [`MerkleError::SizesOutOfOrder`] if `old_size > new_size`; [`MerkleError::MissingNode`] if a
/// needed node is not stored.
pub fn consistency_proof_from_store<F>(
    old_size: u64,
    new_size: u64,
    mut lookup: F,
) -> Result<Vec<Hash>, MerkleError>
where
    F: FnMut(u8, u64) -> Option<Hash>,
{
    consistency_plan(old_size, new_size)?
        .iter()
        .map(|r| range_hash_from_store(r, &mut lookup))
        .collect()
}

/// The inclusion proof of leaf `index` in the tree of the first `tree_size` of `leaf_hashes`.
///
/// # Errors
/// [`MerkleError::NotEnoughLeaves`] if `tree_size` exceeds the leaves given;
/// [`MerkleError::IndexOutOfRange`] if `index >= tree_size`.
pub fn inclusion_proof(
    leaf_hashes: &[Hash],
    index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, MerkleError> {
    let plan = inclusion_plan(index, tree_size)?;
    hashes_from_leaves(leaf_hashes, tree_size, &plan)
}

/// The consistency proof from the tree of the first `old_size` of `leaf_hashes` to the tree of
/// the first `new_size`.
///
/// # Errors
/// [`MerkleError::NotEnoughLeaves`] if `new_size` exceeds the leaves given;
/// [`MerkleError::SizesOutOfOrder`] if `old_size > new_size`.
pub fn consistency_proof(
    leaf_hashes: &[Hash],
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, MerkleError> {
    let plan = consistency_plan(old_size, new_size)?;
    hashes_from_leaves(leaf_hashes, new_size, &plan)
}

/// The Merkle Tree Hash of each planned range, computed from the leaves.
fn hashes_from_leaves(
    leaf_hashes: &[Hash],
    tree_size: u64,
    plan: &[SubtreeRange],
) -> Result<Vec<Hash>, MerkleError> {
    let available = u64::try_from(leaf_hashes.len()).unwrap_or(u64::MAX);
    if tree_size > available {
        return Err(MerkleError::NotEnoughLeaves { size: tree_size, available });
    }
    plan.iter()
        .map(|r| {
            let (b, e) = (usize::try_from(r.begin), usize::try_from(r.end));
            match (b, e) {
                (Ok(b), Ok(e)) => leaf_hashes
                    .get(b..e)
                    .map(root)
                    .ok_or(MerkleError::NotEnoughLeaves { size: tree_size, available }),
                _ => Err(MerkleError::NotEnoughLeaves { size: tree_size, available }),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(plan: &[SubtreeRange]) -> Vec<Vec<(u8, u64)>> {
        plan.iter().map(|r| r.nodes().iter().map(|n| (n.level, n.index)).collect()).collect()
    }

    #[test]
    fn plans_reject_bad_parameters() {
        assert!(inclusion_plan(0, 0).is_err());
        assert!(inclusion_plan(7, 7).is_err());
        assert!(consistency_plan(9, 8).is_err());
        assert_eq!(inclusion_plan(0, 1), Ok(vec![]));
        assert_eq!(consistency_plan(0, 5), Ok(vec![]));
        assert_eq!(consistency_plan(5, 5), Ok(vec![]));
    }

    #[test]
    fn right_edge_ranges_decompose_largest_first() {
        let r = SubtreeRange { begin: 0, end: 7 };
        assert_eq!(r.nodes(), vec![NodeId::new(2, 0), NodeId::new(1, 2), NodeId::new(0, 6)]);
        let r = SubtreeRange { begin: 8, end: 15 };
        assert_eq!(r.nodes(), vec![NodeId::new(2, 2), NodeId::new(1, 6), NodeId::new(0, 14)]);
    }

    #[test]
    fn seven_leaf_inclusion_plan_matches_rfc_figure() {
        // Leaf 0 of 7: b, h, then l = hash(i, j).
        assert_eq!(
            ids(&inclusion_plan(0, 7).unwrap_or_default()),
            vec![vec![(0, 1)], vec![(1, 1)], vec![(1, 2), (0, 6)]]
        );
    }

    #[test]
    fn node_bounds() {
        assert_eq!(NodeId::new(3, 2).begin(), Some(16));
        assert_eq!(NodeId::new(3, 2).end(), Some(24));
        assert_eq!(NodeId::new(64, 1).begin(), None);
        assert_eq!(NodeId::new(1, u64::MAX).end(), None);
    }
}
