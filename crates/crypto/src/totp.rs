//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA-1, 30-second steps,
//! six digits, as authenticator apps and AWS virtual MFA devices use them; and the RFC 4648
//! base32 text their seeds are exchanged in.

use crate::secret::SecretBytes;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use subtle::ConstantTimeEq;

/// Seconds per time step.
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Seed length in bytes (160 bits, RFC 4226's recommendation).
pub const SEED_LEN: usize = 20;

/// A new random seed.
pub fn new_seed() -> SecretBytes {
    let mut seed = vec![0u8; SEED_LEN];
    OsRng.fill_bytes(&mut seed);
    SecretBytes::new(seed)
}

/// The time step `unix_seconds` falls in.
pub fn step_of(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

/// The HOTP value of `seed` at `counter`, `digits` long (RFC 4226 §5.3).
pub fn hotp(seed: &[u8], counter: u64, digits: u32) -> String {
    let Ok(mut mac) = <Hmac<sha1::Sha1> as Mac>::new_from_slice(seed) else {
        // HMAC takes keys of any length; this cannot happen.
        return String::new();
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.get(19).copied().unwrap_or(0) & 0x0f);
    let mut word = [0u8; 4];
    for (i, b) in word.iter_mut().enumerate() {
        *b = digest.get(offset + i).copied().unwrap_or(0);
    }
    let binary = u32::from_be_bytes(word) & 0x7fff_ffff;
    let modulus = 10u64.pow(digits);
    let width = usize::try_from(digits).unwrap_or(6);
    format!("{:0width$}", u64::from(binary) % modulus)
}

/// The code at time step `step`.
pub fn code_at(seed: &[u8], step: u64) -> String {
    hotp(seed, step, DIGITS)
}

/// The step in `from..=to` whose code is `code`, compared in constant time per step.
pub fn find_step(seed: &[u8], code: &str, from: u64, to: u64) -> Option<u64> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut found = None;
    for step in from..=to {
        let matches: bool = code_at(seed, step).as_bytes().ct_eq(code.as_bytes()).into();
        if matches && found.is_none() {
            found = Some(step);
        }
    }
    found
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let index = usize::try_from((buffer >> bits) & 31).unwrap_or(0);
            out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
        }
    }
    if bits > 0 {
        let index = usize::try_from((buffer << (5 - bits)) & 31).unwrap_or(0);
        out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
    }
    out
}

/// Decodes RFC 4648 base32 (padding and case ignored); `None` for any other character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let c = c.to_ascii_uppercase();
        let value = u32::try_from(ALPHABET.iter().position(|&a| a == c)?).ok()?;
        buffer = ((buffer << 5) | value) & 0xffff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4226_appendix_d() {
        let seed = b"12345678901234567890";
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(hotp(seed, counter as u64, 6), *want);
        }
    }

    #[test]
    fn rfc_6238_appendix_b_sha1() {
        let seed = b"12345678901234567890";
        for (time, want) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(hotp(seed, step_of(time), 8), want);
        }
    }

    #[test]
    fn finding_a_step() {
        let seed = b"12345678901234567890";
        let step = step_of(1_234_567_890);
        let code = code_at(seed, step);
        assert_eq!(find_step(seed, &code, step - 1, step + 1), Some(step));
        assert_eq!(find_step(seed, &code, step + 1, step + 3), None);
        assert_eq!(find_step(seed, "12345", step, step), None);
        assert_eq!(find_step(seed, "abcdef", step, step), None);
    }

    #[test]
    fn base32_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        assert!(base32_decode("MZ1").is_none());
        let seed = new_seed();
        assert_eq!(base32_decode(&base32(seed.expose())).unwrap(), seed.expose());
    }
}
