//! Random identifiers: request and event ids, access keys, texts from an alphabet.

const KEY_ID_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// An IAM unique id: its kind's prefix (`AIDA` user, `AROA` role, `AGPA` group, `ANPA`
/// policy, `AIPA` instance profile) and 17 random base32 characters, as AWS makes them.
pub fn iam_id(prefix: &str) -> String {
    format!("{prefix}{}", random_text(KEY_ID_ALPHABET, 17))
}

/// Random text from an alphabet of 32 or 64 symbols (unbiased: both divide 256).
pub fn random_text(alphabet: &[u8], len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    let n = alphabet.len().max(1);
    bytes
        .iter()
        .map(|b| char::from(alphabet.get(usize::from(*b) % n).copied().unwrap_or(b'A')))
        .collect()
}

/// A random version-4-style UUID (request and event ids).
pub fn uuid() -> String {
    let t = random_text(b"0123456789abcdef0123456789abcdef", 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        t.get(0..8).unwrap_or(""),
        t.get(8..12).unwrap_or(""),
        t.get(13..16).unwrap_or(""),
        t.get(17..20).unwrap_or(""),
        t.get(20..32).unwrap_or("")
    )
}

/// A new access key id (`AKIA` + 16 characters) and secret (40 characters).
pub fn new_access_key(prefix: &str) -> (String, sigv4::Secret) {
    (
        format!("{prefix}{}", random_text(KEY_ID_ALPHABET, 16)),
        sigv4::Secret::new(random_text(SECRET_ALPHABET, 40)),
    )
}
