//! The symmetric KMS ciphertext blob.
