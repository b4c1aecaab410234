//! Verification of AWS Signature Version 4, as a pure library: the caller parses HTTP, looks up
//! the secret and reads the clock; this crate decides whether a signature is genuine.
//!
//! - [`parse`] reads the `Authorization` header or a presigned query and returns the access key
//!   id and scope, touching no secret.
//! - [`Unverified::verify`] recomputes the canonical request and signature with the secret the
//!   caller looked up, checks the time (15 minutes of skew, presigned expiry up to 7 days) and the
//!   payload hash, and returns the verified identity facts.
//! - [`ChunkDecoder`] checks `aws-chunked` bodies chunk by chunk, as they stream.
//!
//! Secrets and derived keys zeroize on drop and print as `[redacted]`; signatures compare in
//! constant time.

#![forbid(unsafe_code)]

pub mod checksum;
pub mod chunked;
pub mod encode;
pub mod error;
pub mod key;
pub mod post;
pub mod sign;
pub mod time;
pub mod verify;

pub use chunked::{ChunkDecoder, ChunkSeed};
pub use error::Error;
pub use key::{KeyCache, Secret, SigningKey};
pub use verify::{
    parse, verify_request, Canonicalization, Credential, Form, HttpRequest, Payload, PayloadMode,
    Unverified, Verified,
};
