//! The audit log's pure core (being written): event records, RFC 6962 Merkle hashing, proofs and
//! signed checkpoints.

#![forbid(unsafe_code)]
