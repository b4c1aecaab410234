//! Keys derived from other keys: HKDF-SHA256 (RFC 5869), and the one derivation the server
//! makes with it, an S3 object's data key from its bucket's S3 Bucket Key.
//!
//! With an S3 Bucket Key, KMS is asked for one bucket-level key per bucket, KMS key and period
//! instead of one data key per object; each object's data key is then
//!
//! ```text
//! data key = HKDF-SHA256(salt = the object's 32 random bytes,
//!                        IKM  = the bucket key,
//!                        info = "hermetic:s3-bucket-key/v1" | 0x00 | the object's ARN,
//!                        L    = 32)
//! ```
//!
//! so no two objects share a data key (the salt is fresh for each, and the ARN binds the key to
//! the object it was made for) and a data key tells nothing about the bucket key or another
//! object's key. The salt is not secret: it is stored with the object.

use crate::secret::SecretBytes;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The length of an object's salt, in bytes.
pub const SALT_LEN: usize = 32;
/// The length of a bucket key and of the data keys derived from it, in bytes.
pub const KEY_LEN: usize = 32;
/// SHA-256's output length: HKDF-SHA256 expands at most 255 such blocks.
const HASH_LEN: usize = 32;
/// What separates object keys derived from bucket keys from any other use of HKDF.
const OBJECT_LABEL: &[u8] = b"hermetic:s3-bucket-key/v1";

/// Why a key cannot be derived. Messages never include key bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeriveError {
    /// The key derived from is not [`KEY_LEN`] bytes long.
    #[error("a bucket key must be 32 bytes")]
    BadKey,
    /// The salt is not [`SALT_LEN`] bytes long.
    #[error("an object's salt must be 32 bytes")]
    BadSalt,
    /// More output than HKDF-SHA256 gives (255 × 32 bytes), or none.
    #[error("HKDF-SHA256 derives 1 to 8160 bytes")]
    BadLength,
}

/// A fresh random salt for one object.
pub fn new_salt() -> [u8; SALT_LEN] {
    let mut salt = [0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    salt
}

/// HKDF-SHA256 (RFC 5869): `len` bytes derived from `ikm` with `salt` and `info`.
///
/// # Errors
/// [`DeriveError::BadLength`] unless `len` is 1 to 8160.
pub fn hkdf_sha256(
    salt: &[u8],
    ikm: &[u8],
    info: &[u8],
    len: usize,
) -> Result<SecretBytes, DeriveError> {
    if len == 0 || len > 255 * HASH_LEN {
        return Err(DeriveError::BadLength);
    }
    // Extract: PRK = HMAC-SHA256(salt, IKM).
    let prk = hmac_sha256(salt, &[ikm])?;
    // Expand: T(i) = HMAC-SHA256(PRK, T(i-1) | info | i), OKM = T(1) | T(2) | ... cut to len.
    let mut okm = Zeroizing::new(Vec::with_capacity(len + HASH_LEN));
    let mut previous = Zeroizing::new(Vec::new());
    let mut counter: u8 = 0;
    while okm.len() < len {
        counter = counter.checked_add(1).ok_or(DeriveError::BadLength)?;
        let counter_byte = [counter];
        let parts: [&[u8]; 3] = [previous.as_slice(), info, &counter_byte];
        let block = hmac_sha256(&prk, &parts)?;
        okm.extend_from_slice(&block);
        previous = block;
    }
    okm.truncate(len);
    Ok(SecretBytes::new(std::mem::take(&mut *okm)))
}

/// The data key of the object `object` (its ARN) sealed under `bucket_key` with `salt`: see
/// the module's documentation.
///
/// # Errors
/// [`DeriveError::BadKey`] or [`DeriveError::BadSalt`] for inputs of the wrong length.
pub fn object_key(
    bucket_key: &SecretBytes,
    salt: &[u8],
    object: &str,
) -> Result<SecretBytes, DeriveError> {
    if bucket_key.len() != KEY_LEN {
        return Err(DeriveError::BadKey);
    }
    if salt.len() != SALT_LEN {
        return Err(DeriveError::BadSalt);
    }
    let mut info = Vec::with_capacity(OBJECT_LABEL.len() + 1 + object.len());
    info.extend_from_slice(OBJECT_LABEL);
    info.push(0);
    info.extend_from_slice(object.as_bytes());
    hkdf_sha256(salt, bucket_key.expose(), &info, KEY_LEN)
}

/// HMAC-SHA256 under `key` of the concatenation of `parts`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>, DeriveError> {
    // HMAC takes keys of any length: this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| DeriveError::BadKey)?;
    for part in parts {
        mac.update(part);
    }
    Ok(Zeroizing::new(mac.finalize().into_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// RFC 5869, appendix A, test cases 1 and 3 (SHA-256).
    #[test]
    fn rfc_5869_vectors() {
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0u8..=0x0c).collect();
        let info: Vec<u8> = (0xf0u8..=0xf9).collect();
        let okm = hkdf_sha256(&salt, &ikm, &info, 42).unwrap();
        assert_eq!(
            okm.expose(),
            hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        );
        let okm = hkdf_sha256(&[], &ikm, &[], 42).unwrap();
        assert_eq!(
            okm.expose(),
            hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
        );
        assert_eq!(hkdf_sha256(&salt, &ikm, &info, 0), Err(DeriveError::BadLength));
        assert_eq!(hkdf_sha256(&salt, &ikm, &info, 255 * 32 + 1), Err(DeriveError::BadLength));
        assert_eq!(hkdf_sha256(&salt, &ikm, &info, 255 * 32).unwrap().len(), 255 * 32);
    }

    /// Objects under one bucket key get distinct keys: another salt, or another object, gives
    /// another key; the same inputs give the same key (what a read derives again).
    #[test]
    fn object_keys_are_distinct_per_object() {
        let bucket_key = SecretBytes::new(vec![7u8; KEY_LEN]);
        let (s1, s2) = (new_salt(), new_salt());
        assert_ne!(s1, s2, "salts are random");
        let a = "arn:aws:s3:::b/a";
        let k1 = object_key(&bucket_key, &s1, a).unwrap();
        assert_eq!(k1.len(), KEY_LEN);
        assert_eq!(k1, object_key(&bucket_key, &s1, a).unwrap(), "deterministic");
        assert_ne!(k1, object_key(&bucket_key, &s2, a).unwrap(), "another salt");
        assert_ne!(k1, object_key(&bucket_key, &s1, "arn:aws:s3:::b/b").unwrap(), "another object");
        let other = SecretBytes::new(vec![8u8; KEY_LEN]);
        assert_ne!(k1, object_key(&other, &s1, a).unwrap(), "another bucket key");
        assert_ne!(k1.expose(), bucket_key.expose(), "never the bucket key itself");
        // Many objects, no two keys alike.
        let keys: std::collections::HashSet<Vec<u8>> = (0..256)
            .map(|i| object_key(&bucket_key, &new_salt(), &format!("arn:aws:s3:::b/{i}")))
            .map(|k| k.unwrap().expose().to_vec())
            .collect();
        assert_eq!(keys.len(), 256);
    }

    #[test]
    fn wrong_lengths_are_refused() {
        let salt = new_salt();
        let short = SecretBytes::new(vec![1u8; 16]);
        assert_eq!(object_key(&short, &salt, "o"), Err(DeriveError::BadKey));
        let key = SecretBytes::new(vec![1u8; KEY_LEN]);
        assert_eq!(object_key(&key, &salt[..16], "o"), Err(DeriveError::BadSalt));
    }
}
