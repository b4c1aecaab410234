//! The backend-independent part of appending to an account's audit log: from the stored head
//! (size and frontier) and a leaf hash, what to write. The hashing is `audit::merkle`'s.
//!
//! Storage model: `audit_events` holds every leaf hash (level 0); `audit_nodes` holds every
//! completed perfect subtree of level 1 and up, written exactly once; `audit_heads` holds the
//! size, the root and the frontier (the hashes of [`audit::merkle::frontier_nodes`] of the size,
//! concatenated), so an append reads one row instead of up to 64 nodes.

use audit::merkle::{CompactRange, HASH_LEN};

use crate::model::{hash_from_bytes, Hash};
use crate::StoreError;

/// What one append writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppendPlan {
    /// The new event's sequence number (the old size).
    pub seq: u64,
    /// The perfect subtrees of level 1 and up that this leaf completes: `(level, index, hash)`.
    pub nodes: Vec<(u8, u64, Hash)>,
    /// The new size.
    pub size: u64,
    /// The new root.
    pub root: Hash,
    /// The new frontier, encoded for `audit_heads.frontier`.
    pub frontier: Vec<u8>,
}

/// Plans the append of `leaf` to a log whose head is `size` with `frontier` (as stored).
pub(crate) fn plan_append(
    size: u64,
    frontier: &[u8],
    leaf: &Hash,
) -> Result<AppendPlan, StoreError> {
    let hashes = decode_frontier(frontier)?;
    let mut range = CompactRange::from_parts(size, hashes)
        .map_err(|e| StoreError::Corrupt(format!("audit head: {e}")))?;
    let mut nodes = Vec::new();
    range
        .append_with(*leaf, |id, hash| {
            if id.level > 0 {
                nodes.push((id.level, id.index, *hash));
            }
        })
        .map_err(|e| StoreError::InvalidInput(format!("audit log: {e}")))?;
    Ok(AppendPlan {
        seq: size,
        nodes,
        size: range.size(),
        root: range.root(),
        frontier: range.hashes().concat(),
    })
}

/// The stored frontier of the empty log.
pub(crate) const EMPTY_FRONTIER: &[u8] = &[];

/// Splits a stored frontier into hashes.
fn decode_frontier(bytes: &[u8]) -> Result<Vec<Hash>, StoreError> {
    let chunks = bytes.chunks_exact(HASH_LEN);
    if !chunks.remainder().is_empty() {
        return Err(StoreError::Corrupt(format!("audit frontier of {} bytes", bytes.len())));
    }
    chunks.map(hash_from_bytes).collect()
}

/// The root of the empty log, `SHA-256("")`.
pub(crate) fn empty_root() -> Hash {
    audit::merkle::empty_root()
}

#[cfg(test)]
mod tests {
    use super::*;
    use audit::merkle::{leaf_hash, root};

    #[test]
    fn plans_chain_into_the_rfc_root() {
        let mut size = 0;
        let mut frontier = EMPTY_FRONTIER.to_vec();
        let mut leaves = Vec::new();
        let mut nodes = Vec::new();
        for i in 0..9u8 {
            let leaf = leaf_hash(&[i]);
            leaves.push(leaf);
            let plan = plan_append(size, &frontier, &leaf).unwrap();
            assert_eq!(plan.seq, u64::from(i));
            assert_eq!(plan.root, root(&leaves));
            nodes.extend(plan.nodes.iter().map(|(l, x, _)| (*l, *x)));
            size = plan.size;
            frontier = plan.frontier;
        }
        assert_eq!(nodes, vec![(1, 0), (1, 1), (2, 0), (1, 2), (1, 3), (2, 1), (3, 0)]);
    }

    #[test]
    fn refuses_a_frontier_that_does_not_fit() {
        assert!(matches!(plan_append(1, &[], &[0; 32]), Err(StoreError::Corrupt(_))));
        assert!(matches!(plan_append(1, &[0; 31], &[0; 32]), Err(StoreError::Corrupt(_))));
    }
}
