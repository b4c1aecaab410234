//! KMS key material: the symmetric ciphertext blob format, asymmetric keys (RSA, ECC) for
//! signing, encryption and data key pairs, HMAC keys, and the RSA-OAEP unwrapping of imported
//! key material. Pure: randomness comes from the operating system, nothing else is touched.

pub mod asymmetric;
pub mod blob;
pub mod mac;
