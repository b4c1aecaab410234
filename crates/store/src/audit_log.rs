//! The backend-independent part of appending to an account's audit log: from the stored head
//! (size and frontier) and a leaf hash, what to write. The hashing is `audit::merkle`'s.
//!
//! Storage model: `audit_events` holds every leaf hash (level 0); `audit_nodes` holds every
//! completed perfect subtree of level 1 and up, written exactly once; `audit_heads` holds the
//! size, the root and the frontier (the hashes of [`audit::merkle::frontier_nodes`] of the size,
//! concatenated), so an append reads one row instead of up to 64 nodes.

use audit::merkle::{CompactRange, HASH_LEN};

use crate::model::{hash_from_bytes, AuditHeadRow, Hash};
use crate::{AuditSeal, StoreError};

/// What one append of a batch of events writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppendPlan {
    /// The first new event's sequence number (the old size).
    pub first: u64,
    /// Each new event's MAC, in order (sequence numbers `first`, `first + 1`, ...).
    pub event_macs: Vec<Vec<u8>>,
    /// The perfect subtrees of level 1 and up that the leaves complete: `(level, index, hash)`.
    pub nodes: Vec<(u8, u64, Hash)>,
    /// The new size.
    pub size: u64,
    /// The new root.
    pub root: Hash,
    /// The new frontier, encoded for `audit_heads.frontier`.
    pub frontier: Vec<u8>,
    /// The new head's MAC.
    pub mac: Vec<u8>,
}

/// Plans the append of `events` to `account`'s log whose head is `head` as stored (`None`: no
/// head row yet). `seal` checks a non-empty head before it is extended and gives the new rows
/// their MACs.
pub(crate) fn plan_appends(
    account: &str,
    head: Option<&AuditHeadRow>,
    events: &[(&[u8], Hash)],
    seal: &dyn AuditSeal,
) -> Result<AppendPlan, StoreError> {
    let (size, frontier) = match head {
        Some(row) => {
            if row.size > 0 {
                seal.check_head(account, row)?;
            }
            (row.size, row.frontier.as_slice())
        }
        None => (0, EMPTY_FRONTIER),
    };
    let mut range = CompactRange::from_parts(size, decode_frontier(frontier)?)
        .map_err(|e| StoreError::Corrupt(format!("audit head: {e}")))?;
    let mut nodes = Vec::new();
    let mut event_macs = Vec::with_capacity(events.len());
    for (_, leaf) in events {
        event_macs.push(seal.event_mac(account, range.size(), leaf));
        range
            .append_with(*leaf, |id, hash| {
                if id.level > 0 {
                    nodes.push((id.level, id.index, *hash));
                }
            })
            .map_err(|e| StoreError::InvalidInput(format!("audit log: {e}")))?;
    }
    let root = range.root();
    let frontier = range.hashes().concat();
    Ok(AppendPlan {
        first: size,
        event_macs,
        nodes,
        size: range.size(),
        mac: seal.head_mac(account, range.size(), &root, &frontier),
        root,
        frontier,
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
    use crate::Unsealed;
    use audit::merkle::{leaf_hash, root};

    fn row(plan: &AppendPlan) -> AuditHeadRow {
        AuditHeadRow {
            size: plan.size,
            root: plan.root,
            frontier: plan.frontier.clone(),
            mac: plan.mac.clone(),
        }
    }

    #[test]
    fn plans_chain_into_the_rfc_root() {
        let mut head: Option<AuditHeadRow> = None;
        let mut leaves = Vec::new();
        let mut nodes = Vec::new();
        for i in 0..9u8 {
            let leaf = leaf_hash(&[i]);
            leaves.push(leaf);
            let plan = plan_appends("a", head.as_ref(), &[(&[i][..], leaf)], &Unsealed).unwrap();
            assert_eq!(plan.first, u64::from(i));
            assert_eq!(plan.root, root(&leaves));
            nodes.extend(plan.nodes.iter().map(|(l, x, _)| (*l, *x)));
            head = Some(row(&plan));
        }
        assert_eq!(nodes, vec![(1, 0), (1, 1), (2, 0), (1, 2), (1, 3), (2, 1), (3, 0)]);
        let batch: Vec<(&[u8], Hash)> = (0..9u8).map(|i| (&[][..], leaf_hash(&[i]))).collect();
        let plan = plan_appends("a", None, &batch, &Unsealed).unwrap();
        assert_eq!((plan.first, plan.size, plan.root), (0, 9, root(&leaves)));
        assert_eq!(plan.nodes.len(), nodes.len());
    }

    #[test]
    fn refuses_a_frontier_that_does_not_fit() {
        let head = |size, frontier: &[u8]| AuditHeadRow {
            size,
            root: [0; 32],
            frontier: frontier.to_vec(),
            mac: Vec::new(),
        };
        let one: &[(&[u8], Hash)] = &[(b"e", [0; 32])];
        for bad in [head(1, &[]), head(1, &[0; 31]), head(0, &[0; 32])] {
            let plan = plan_appends("a", Some(&bad), one, &Unsealed);
            assert!(matches!(plan, Err(StoreError::Corrupt(_))), "{bad:?}");
        }
    }

    /// A seal that refuses every head and numbers its MACs.
    struct Strict;
    impl AuditSeal for Strict {
        fn check_head(&self, account: &str, _: &AuditHeadRow) -> Result<(), StoreError> {
            Err(StoreError::Forged { account: account.into(), row: "head".into() })
        }
        fn event_mac(&self, _: &str, seq: u64, _: &Hash) -> Vec<u8> {
            seq.to_be_bytes().to_vec()
        }
        fn head_mac(&self, _: &str, size: u64, _: &Hash, _: &[u8]) -> Vec<u8> {
            vec![u8::try_from(size).unwrap()]
        }
    }

    #[test]
    fn a_seal_checks_a_non_empty_head_and_macs_every_new_row() {
        let two: &[(&[u8], Hash)] = &[(b"e", leaf_hash(b"e")), (b"f", leaf_hash(b"f"))];
        let empty =
            AuditHeadRow { size: 0, root: empty_root(), frontier: Vec::new(), mac: Vec::new() };
        let plan = plan_appends("a", Some(&empty), two, &Strict).unwrap();
        assert_eq!(plan.event_macs, vec![0u64.to_be_bytes().to_vec(), 1u64.to_be_bytes().to_vec()]);
        assert_eq!(plan.mac, vec![2]);
        let refused = plan_appends("a", Some(&row(&plan)), two, &Strict);
        assert!(matches!(refused, Err(StoreError::Forged { .. })));
    }
}
