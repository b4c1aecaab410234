//! Hermetic's cryptography: secret types that zeroize and never print, the versioned envelope
//! format (AES-256-GCM) every stored secret is sealed in, and root-of-trust providers that hold
//! the key at the top of the hierarchy.
//!
//! Formats are pure (keys and nonces come in as values); only [`root::LocalKeyFile`] touches the
//! file system, and randomness comes from the operating system through [`rand_core::OsRng`].

#![forbid(unsafe_code)]

pub mod derive;
pub mod envelope;
pub mod kms;
pub mod object;
pub mod pkcs11;
pub mod root;
pub mod secret;
pub mod shamir;
pub mod totp;

pub use envelope::{open, seal, seal_with_nonce, EnvelopeError, KeyId, NONCE_LEN};
pub use root::{LocalKeyFile, RootKey, RootOfTrust};
pub use secret::SecretBytes;
