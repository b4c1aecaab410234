//! The compact range (frontier) of a log: the roots of the perfect subtrees that tile leaves
//! `[0, size)`, largest first, at most one per bit of `size`. Appending a leaf merges equal-sized
//! subtrees like a binary counter carries, so it costs one leaf hash plus, amortized, one node
//! hash, and the root is a right fold of at most 64 hashes.

use super::{empty_root, node_hash, Hash, MerkleError, NodeId};

/// The frontier of a log of `size` leaves: enough to append and to compute the root without the
/// leaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    // INVARIANT: hashes.len() == size.count_ones(), and hashes[i] is the hash of
    // frontier_nodes(size)[i].
    hashes: Vec<Hash>,
}

impl CompactRange {
    /// The frontier of the empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A frontier restored from storage: `hashes` are the stored hashes of
    /// [`frontier_nodes`]`(size)`, in that order.
    ///
    /// # Errors
    /// [`MerkleError::WrongFrontierLength`] if there is not exactly one hash per bit set in
    /// `size`.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Self, MerkleError> {
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(MerkleError::WrongFrontierLength { size, expected, actual: hashes.len() });
        }
        Ok(Self { size, hashes })
    }

    /// The number of leaves appended so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The frontier's hashes, largest subtree first (see [`frontier_nodes`]).
    #[must_use]
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The nodes whose hashes [`Self::hashes`] holds.
    #[must_use]
    pub fn nodes(&self) -> Vec<NodeId> {
        frontier_nodes(self.size)
    }

    /// Appends a leaf hash.
    ///
    /// # Errors
    /// [`MerkleError::LogFull`] if the log already holds `u64::MAX` leaves.
    pub fn append(&mut self, leaf_hash: Hash) -> Result<(), MerkleError> {
        self.append_with(leaf_hash, |_, _| {})
    }

    /// Appends a leaf hash and reports every perfect subtree it completes, from the leaf itself
    /// (level 0) up: exactly the nodes a store must write so that
    /// [`super::inclusion_proof_from_store`] and [`super::consistency_proof_from_store`] can
    /// answer for any size up to the new one. Each node is reported once, ever.
    ///
    /// # Errors
    /// [`MerkleError::LogFull`] if the log already holds `u64::MAX` leaves.
    pub fn append_with<F>(&mut self, leaf_hash: Hash, mut visit: F) -> Result<(), MerkleError>
    where
        F: FnMut(NodeId, &Hash),
    {
        let index = self.size;
        let new_size = index.checked_add(1).ok_or(MerkleError::LogFull)?;
        visit(NodeId::leaf(index), &leaf_hash);
        let mut hash = leaf_hash;
        let mut level: u8 = 0;
        let mut at = index;
        // Each one bit at the bottom of the old size is a complete left sibling to merge with.
        while at & 1 == 1 {
            // INVARIANT: one hash per one bit of the size, so a sibling is there to pop.
            let Some(left) = self.hashes.pop() else {
                break;
            };
            hash = node_hash(&left, &hash);
            level = level.saturating_add(1);
            at >>= 1;
            visit(NodeId::new(level, at), &hash);
        }
        self.hashes.push(hash);
        self.size = new_size;
        Ok(())
    }

    /// The root of the log so far (RFC 6962 Merkle Tree Hash); [`empty_root`] when empty.
    #[must_use]
    pub fn root(&self) -> Hash {
        let mut iter = self.hashes.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |right, left| node_hash(left, &right))
    }
}

/// The perfect subtrees that tile leaves `[0, size)`, largest first: one per bit set in `size`.
/// A store that keeps every node [`CompactRange::append_with`] reports can rebuild the frontier
/// of any past size from these.
#[must_use]
pub fn frontier_nodes(size: u64) -> Vec<NodeId> {
    let mut out = Vec::with_capacity(size.count_ones() as usize);
    let mut begin = 0u64;
    for level in (0u8..64).rev() {
        let width = 1u64 << level;
        if size & width != 0 {
            out.push(NodeId::new(level, begin >> level));
            begin += width;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, root};

    #[test]
    fn frontier_of_small_sizes() {
        assert_eq!(frontier_nodes(0), vec![]);
        assert_eq!(frontier_nodes(1), vec![NodeId::new(0, 0)]);
        assert_eq!(
            frontier_nodes(7),
            vec![NodeId::new(2, 0), NodeId::new(1, 2), NodeId::new(0, 6)]
        );
        assert_eq!(frontier_nodes(u64::MAX).len(), 64);
    }

    #[test]
    fn append_reports_completed_nodes_once() {
        let mut cr = CompactRange::new();
        let mut seen = Vec::new();
        for i in 0..4u8 {
            let ok = cr.append_with(leaf_hash(&[i]), |id, _| seen.push(id));
            assert_eq!(ok, Ok(()));
        }
        assert_eq!(
            seen,
            vec![
                NodeId::new(0, 0),
                NodeId::new(0, 1),
                NodeId::new(1, 0),
                NodeId::new(0, 2),
                NodeId::new(0, 3),
                NodeId::new(1, 1),
                NodeId::new(2, 0),
            ]
        );
        let leaves: Vec<Hash> = (0..4u8).map(|i| leaf_hash(&[i])).collect();
        assert_eq!(cr.root(), root(&leaves));
    }

    #[test]
    fn from_parts_checks_length_and_full_log_refuses() {
        assert!(CompactRange::from_parts(3, vec![[0; 32]]).is_err());
        let mut full = CompactRange::from_parts(u64::MAX, vec![[0; 32]; 64]);
        assert!(full.is_ok());
        if let Ok(cr) = full.as_mut() {
            assert_eq!(cr.append([1; 32]), Err(MerkleError::LogFull));
        }
    }
}
