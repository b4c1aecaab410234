//! The symmetric KMS ciphertext blob: what `Encrypt` and `GenerateDataKey` return and `Decrypt`
//! takes. Documented in `docs/kms-ciphertext.md`.
//!
//! Version 1, all header fields fixed-size:
//!
//! ```text
//! "HK" | 0x01 | account (12 ASCII digits) | key id (UUID, 16 bytes) | backing key version
//! (u32, big-endian) | nonce (12 bytes) | AES-256-GCM ciphertext and 16-byte tag
//! ```
//!
//! The header names the key (so `Decrypt` needs no key id) and is authenticated: the associated
//! data is the header followed by the canonical encryption context (pairs sorted by key, each
//! key and value as a u32 big-endian length and its UTF-8 bytes). A blob cannot be re-labelled
//! with another account, key or version, and opens only with the exact encryption context it was
//! sealed with.

use crate::secret::SecretBytes;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};

/// The magic bytes every blob starts with.
pub const MAGIC: &[u8; 2] = b"HK";
/// The current format version.
pub const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Header length: magic, version, account, key id, backing version, nonce.
pub const HEADER_LEN: usize = 2 + 1 + 12 + 16 + 4 + NONCE_LEN;
/// The most plaintext one blob holds (KMS's `Encrypt` limit).
pub const MAX_PLAINTEXT: usize = 4096;

/// Why a blob cannot be made or opened. Messages never carry key or plaintext bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// Not a blob of this format (too short, wrong magic or version, bad header fields).
    #[error("the ciphertext is not a Hermetic KMS ciphertext")]
    Malformed,
    /// Authentication failed: tampered, another key, or another encryption context.
    #[error("the ciphertext failed authentication")]
    Unauthentic,
    /// The key is not 32 bytes, the account not 12 digits, or the key id not a UUID.
    #[error("invalid key, account or key id")]
    BadInput,
    /// The plaintext is empty or larger than [`MAX_PLAINTEXT`].
    #[error("the plaintext must be 1 to 4096 bytes")]
    PlaintextSize,
}

/// Which key sealed a blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The 12-digit account that owns the key.
    pub account: String,
    /// The key id (a UUID, lowercase with dashes).
    pub key_id: String,
    /// The key's backing version (rotation adds versions; old ones keep decrypting).
    pub version: u32,
}

fn uuid_bytes(id: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = id.bytes().filter(|b| *b != b'-').collect();
    let shaped = id.len() == 36
        && [8usize, 13, 18, 23].iter().all(|&i| id.as_bytes().get(i) == Some(&b'-'))
        && hex.len() == 32;
    if !shaped {
        return None;
    }
    let mut out = [0u8; 16];
    for (slot, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

fn uuid_text(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or_default().to_string();
    format!("{}-{}-{}-{}-{}", part(0, 8), part(8, 12), part(12, 16), part(16, 20), part(20, 32))
}

/// The canonical bytes of an encryption context: pairs sorted by key, each key and value as a
/// u32 big-endian length and its bytes.
pub fn canonical_context(context: &[(String, String)]) -> Vec<u8> {
    let mut pairs: Vec<&(String, String)> = context.iter().collect();
    pairs.sort();
    let mut out = Vec::new();
    for (k, v) in pairs {
        for text in [k, v] {
            out.extend_from_slice(&u32::try_from(text.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
    }
    out
}

fn header_bytes(header: &Header, nonce: &[u8; NONCE_LEN]) -> Result<Vec<u8>, BlobError> {
    let account_ok =
        header.account.len() == 12 && header.account.bytes().all(|b| b.is_ascii_digit());
    let key = uuid_bytes(&header.key_id).ok_or(BlobError::BadInput)?;
    if !account_ok {
        return Err(BlobError::BadInput);
    }
    let mut out = Vec::with_capacity(HEADER_LEN);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(header.account.as_bytes());
    out.extend_from_slice(&key);
    out.extend_from_slice(&header.version.to_be_bytes());
    out.extend_from_slice(nonce);
    Ok(out)
}

/// Reads the header of a blob (which key to open it with) without opening it.
pub fn parse_header(blob: &[u8]) -> Result<Header, BlobError> {
    if blob.len() < HEADER_LEN + TAG_LEN
        || blob.get(..2) != Some(MAGIC.as_slice())
        || blob.get(2) != Some(&VERSION)
    {
        return Err(BlobError::Malformed);
    }
    let account = blob.get(3..15).ok_or(BlobError::Malformed)?;
    if !account.iter().all(u8::is_ascii_digit) {
        return Err(BlobError::Malformed);
    }
    let key = blob.get(15..31).ok_or(BlobError::Malformed)?;
    let mut version = [0u8; 4];
    version.copy_from_slice(blob.get(31..35).ok_or(BlobError::Malformed)?);
    Ok(Header {
        account: String::from_utf8_lossy(account).into_owned(),
        key_id: uuid_text(key),
        version: u32::from_be_bytes(version),
    })
}

fn aad(header: &[u8], context: &[(String, String)]) -> Vec<u8> {
    let mut out = header.to_vec();
    out.extend_from_slice(&canonical_context(context));
    out
}

/// Seals `plaintext` (1 to 4096 bytes) under the 32-byte backing `key` named by `header`.
pub fn seal(
    key: &SecretBytes,
    header: &Header,
    context: &[(String, String)],
    plaintext: &[u8],
) -> Result<Vec<u8>, BlobError> {
    if plaintext.is_empty() || plaintext.len() > MAX_PLAINTEXT {
        return Err(BlobError::PlaintextSize);
    }
    let cipher = Aes256Gcm::new_from_slice(key.expose()).map_err(|_| BlobError::BadInput)?;
    let mut nonce = [0u8; NONCE_LEN];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
    let head = header_bytes(header, &nonce)?;
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad(&head, context) })
        .map_err(|_| BlobError::Unauthentic)?;
    let mut out = head;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a blob with its backing `key` and the encryption context it was sealed with.
pub fn open(
    key: &SecretBytes,
    blob: &[u8],
    context: &[(String, String)],
) -> Result<SecretBytes, BlobError> {
    parse_header(blob)?;
    let cipher = Aes256Gcm::new_from_slice(key.expose()).map_err(|_| BlobError::BadInput)?;
    let head = blob.get(..HEADER_LEN).ok_or(BlobError::Malformed)?;
    let nonce = head.get(HEADER_LEN - NONCE_LEN..).ok_or(BlobError::Malformed)?;
    let body = blob.get(HEADER_LEN..).ok_or(BlobError::Malformed)?;
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: &aad(head, context) })
        .map(SecretBytes::new)
        .map_err(|_| BlobError::Unauthentic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SecretBytes {
        SecretBytes::new(vec![b; 32])
    }

    fn header() -> Header {
        Header {
            account: "111122223333".into(),
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            version: 3,
        }
    }

    fn ctx(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect()
    }

    #[test]
    fn round_trip_and_header() {
        let c = ctx(&[("purpose", "test"), ("app", "x")]);
        let blob = seal(&key(7), &header(), &c, b"data key").unwrap();
        assert_eq!(blob.len(), HEADER_LEN + 8 + TAG_LEN);
        assert_eq!(parse_header(&blob).unwrap(), header());
        // The context's order does not matter; its content does.
        let reordered = ctx(&[("app", "x"), ("purpose", "test")]);
        assert_eq!(open(&key(7), &blob, &reordered).unwrap().expose(), b"data key");
        assert_eq!(open(&key(7), &blob, &[]), Err(BlobError::Unauthentic));
        assert_eq!(
            open(&key(7), &blob, &ctx(&[("purpose", "test"), ("app", "y")])),
            Err(BlobError::Unauthentic)
        );
        assert_eq!(open(&key(8), &blob, &c), Err(BlobError::Unauthentic));
        // Two seals of the same plaintext differ (fresh nonces).
        assert_ne!(blob, seal(&key(7), &header(), &c, b"data key").unwrap());
    }

    #[test]
    fn every_flipped_bit_fails() {
        let blob = seal(&key(1), &header(), &[], b"secret").unwrap();
        for i in 0..blob.len() * 8 {
            let mut bad = blob.clone();
            bad[i / 8] ^= 1 << (i % 8);
            assert!(open(&key(1), &bad, &[]).is_err(), "bit {i}");
        }
        assert_eq!(open(&key(1), &blob[..blob.len() - 1], &[]), Err(BlobError::Unauthentic));
        assert_eq!(parse_header(&blob[..HEADER_LEN]), Err(BlobError::Malformed));
    }

    #[test]
    fn context_encoding_is_unambiguous() {
        assert_ne!(
            canonical_context(&ctx(&[("ab", "c")])),
            canonical_context(&ctx(&[("a", "bc")]))
        );
        assert_eq!(canonical_context(&[]), Vec::<u8>::new());
    }

    #[test]
    fn bad_inputs_are_refused() {
        let mut h = header();
        h.account = "12345".into();
        assert_eq!(seal(&key(1), &h, &[], b"x"), Err(BlobError::BadInput));
        let mut h = header();
        h.key_id = "not-a-uuid".into();
        assert_eq!(seal(&key(1), &h, &[], b"x"), Err(BlobError::BadInput));
        assert_eq!(seal(&key(1), &header(), &[], b""), Err(BlobError::PlaintextSize));
        assert_eq!(seal(&key(1), &header(), &[], &[0; 4097]), Err(BlobError::PlaintextSize));
        assert_eq!(
            seal(&SecretBytes::new(vec![0; 16]), &header(), &[], b"x"),
            Err(BlobError::BadInput)
        );
        assert_eq!(parse_header(b"XX"), Err(BlobError::Malformed));
    }
}
