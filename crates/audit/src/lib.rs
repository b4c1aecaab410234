//! The audit log's pure core: CloudTrail-format event records, the RFC 6962 Merkle log over
//! them, inclusion and consistency proofs, and signed checkpoints.
//!
//! Every request to the service yields an [`event::EventRecord`]; its canonical bytes
//! ([`event::EventRecord::canonical_bytes`]) are one leaf of the affected account's log
//! ([`merkle`]). A [`checkpoint::Checkpoint`] commits to the log's size and root at a time and is
//! signed as a C2SP signed note ([`note`]); a verifier checks inclusion and consistency proofs
//! against checkpoints.
//!
//! No I/O, no clock, no randomness: times and keys are parameters, and the `store` crate
//! persists what this crate computes.
//!
//! ```
//! use audit::checkpoint::Checkpoint;
//! use audit::merkle::{inclusion_proof_from_store, leaf_hash, CompactRange};
//! use audit::note::SigningKey;
//! use std::collections::HashMap;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Append entries, keeping every completed subtree hash as a store would.
//! let mut log = CompactRange::new();
//! let mut nodes = HashMap::new();
//! for entry in [&b"event 0"[..], b"event 1", b"event 2"] {
//!     log.append_with(leaf_hash(entry), |id, hash| {
//!         nodes.insert((id.level, id.index), *hash);
//!     })?;
//! }
//! // Sign a checkpoint (the key bytes come from the caller's root of trust).
//! let key = SigningKey::from_seed("hermetic/audit/111122223333", &[7; 32])?;
//! let signed = Checkpoint::of_range(key.name(), &log, 1_700_000_000_000)?.sign(&key)?;
//! // A verifier opens the checkpoint and checks that entry 1 is in the log.
//! let checkpoint = Checkpoint::open(&signed, "hermetic/audit/111122223333", &key.verifier())?;
//! let proof = inclusion_proof_from_store(1, checkpoint.size(), |l, i| nodes.get(&(l, i)).copied())?;
//! checkpoint.verify_inclusion(&leaf_hash(b"event 1"), 1, &proof)?;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod checkpoint;
pub mod event;
pub mod merkle;
pub mod note;
pub mod witness;
