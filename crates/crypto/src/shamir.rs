//! Shamir's secret sharing over GF(2^8), byte by byte: a secret split into `n` shares of which
//! any `m` give it back and fewer give nothing about it. The root of trust's `shamir` provider
//! splits the root key this way among custodians, so that no single person holds it.
//!
//! Field arithmetic runs in constant time (no table indexed by a secret byte, no branch on one).
//! A share prints as `HSS1-<m>-<index>-<64 hex digits>` for a 32-byte secret.

use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use crate::secret::SecretBytes;

/// Why shares cannot be made or combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShamirError {
    /// The threshold or the count is out of range (2 <= m <= n <= 255).
    #[error("a threshold of {m} of {n} shares is out of range (2 <= threshold <= shares <= 255)")]
    BadParameters {
        /// The threshold asked for.
        m: usize,
        /// The count asked for.
        n: usize,
    },
    /// The text is not a share.
    #[error("not a share (expected HSS1-<threshold>-<index>-<hex>)")]
    Malformed,
    /// Fewer distinct shares than the threshold, or shares of different secrets or thresholds.
    #[error("need {needed} distinct shares of one secret, have {have}")]
    NotEnough {
        /// The threshold.
        needed: usize,
        /// Distinct usable shares given.
        have: usize,
    },
}

/// One custodian's share: its x coordinate (1..=255), the threshold, and the y bytes.
pub struct Share {
    /// The x coordinate, never 0.
    pub index: u8,
    /// How many shares give the secret back.
    pub threshold: u8,
    value: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Share {{ index: {}, threshold: {}, value: [redacted] }}",
            self.index, self.threshold
        )
    }
}

impl Share {
    /// The share as text, `HSS1-<m>-<index>-<hex>`.
    #[must_use]
    pub fn encode(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(format!("HSS1-{}-{}-", self.threshold, self.index));
        for b in self.value.iter() {
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 15));
        }
        out
    }

    /// Reads a share's text (surrounding white space ignored).
    ///
    /// # Errors
    /// [`ShamirError::Malformed`].
    pub fn parse(text: &str) -> Result<Share, ShamirError> {
        let mut parts = text.trim().splitn(4, '-');
        let (Some("HSS1"), Some(m), Some(i), Some(hex)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ShamirError::Malformed);
        };
        let threshold: u8 = m.parse().map_err(|_| ShamirError::Malformed)?;
        let index: u8 = i.parse().map_err(|_| ShamirError::Malformed)?;
        if threshold < 2 || index == 0 || hex.is_empty() || hex.len() % 2 != 0 {
            return Err(ShamirError::Malformed);
        }
        let mut value = Zeroizing::new(Vec::with_capacity(hex.len() / 2));
        for pair in hex.as_bytes().chunks(2) {
            let digit = |c: u8| char::from(c).to_digit(16).ok_or(ShamirError::Malformed);
            let (Some(&hi), Some(&lo)) = (pair.first(), pair.get(1)) else {
                return Err(ShamirError::Malformed);
            };
            value.push(
                u8::try_from(digit(hi)? * 16 + digit(lo)?).map_err(|_| ShamirError::Malformed)?,
            );
        }
        Ok(Share { index, threshold, value })
    }
}

/// The lowercase hex digit of a nibble, without a table lookup or a branch on it.
fn hex_digit(nibble: u8) -> char {
    // 9 - n borrows (its top bit set) exactly when n > 9: then add the gap from '0' + 10 to 'a'.
    char::from(nibble + b'0' + ((9u8.wrapping_sub(nibble) >> 7) * 39))
}

/// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1, in constant time.
fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1b & carry);
        b >>= 1;
    }
    product
}

/// The inverse of a non-zero element: a^254.
fn inv(a: u8) -> u8 {
    let mut result = 1u8;
    let mut base = a;
    let mut e = 254u8;
    while e > 0 {
        if e & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    result
}

/// Splits `secret` into `n` shares, any `m` of which give it back.
///
/// # Errors
/// [`ShamirError::BadParameters`] unless 2 <= m <= n <= 255.
pub fn split<R: RngCore + CryptoRng>(
    secret: &[u8],
    m: usize,
    n: usize,
    rng: &mut R,
) -> Result<Vec<Share>, ShamirError> {
    let (Ok(m8), Ok(n8)) = (u8::try_from(m), u8::try_from(n)) else {
        return Err(ShamirError::BadParameters { m, n });
    };
    if m8 < 2 || m8 > n8 {
        return Err(ShamirError::BadParameters { m, n });
    }
    let mut shares: Vec<Share> = (1..=n8)
        .map(|index| Share { index, threshold: m8, value: Zeroizing::new(vec![0; secret.len()]) })
        .collect();
    // One polynomial per byte: the secret byte, then m - 1 random coefficients.
    let mut coefficients = Zeroizing::new(vec![0u8; m]);
    for (at, &byte) in secret.iter().enumerate() {
        if let Some((first, rest)) = coefficients.split_first_mut() {
            *first = byte;
            rng.fill_bytes(rest);
        }
        for share in &mut shares {
            // Horner's rule, from the highest coefficient down.
            let y = coefficients.iter().rev().fold(0u8, |acc, &c| mul(acc, share.index) ^ c);
            if let Some(slot) = share.value.get_mut(at) {
                *slot = y;
            }
        }
    }
    coefficients.zeroize();
    Ok(shares)
}

/// The secret of `shares`: the first `threshold` shares of distinct indices are used.
///
/// # Errors
/// [`ShamirError::NotEnough`] if fewer than the threshold are given, or their thresholds or
/// lengths differ.
pub fn combine(shares: &[Share]) -> Result<SecretBytes, ShamirError> {
    let Some(first) = shares.first() else {
        return Err(ShamirError::NotEnough { needed: 2, have: 0 });
    };
    let needed = usize::from(first.threshold);
    let mut chosen: Vec<&Share> = Vec::with_capacity(needed);
    for s in shares {
        if s.threshold != first.threshold || s.value.len() != first.value.len() {
            return Err(ShamirError::NotEnough { needed, have: 0 });
        }
        if chosen.len() < needed && chosen.iter().all(|c| c.index != s.index) {
            chosen.push(s);
        }
    }
    if chosen.len() < needed {
        return Err(ShamirError::NotEnough { needed, have: chosen.len() });
    }
    // Lagrange interpolation at x = 0; in GF(2^8) subtraction is xor.
    let weights: Vec<u8> = chosen
        .iter()
        .map(|j| {
            chosen
                .iter()
                .filter(|k| k.index != j.index)
                .fold(1u8, |w, k| mul(w, mul(k.index, inv(k.index ^ j.index))))
        })
        .collect();
    let mut secret = vec![0u8; first.value.len()];
    for (share, &w) in chosen.iter().zip(&weights) {
        for (out, &y) in secret.iter_mut().zip(share.value.iter()) {
            *out ^= mul(y, w);
        }
    }
    Ok(SecretBytes::new(secret))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use rand_core::OsRng;

    #[test]
    fn field_arithmetic() {
        // FIPS-197's worked example: {57} * {83} = {c1}.
        assert_eq!(mul(0x57, 0x83), 0xc1);
        assert_eq!(mul(0x57, 0x13), 0xfe);
        for a in 1..=255u8 {
            assert_eq!(mul(a, inv(a)), 1, "{a}");
            assert_eq!(mul(a, 1), a);
            assert_eq!(mul(a, 0), 0);
        }
    }

    #[test]
    fn any_threshold_of_the_shares_gives_the_secret_back() {
        let secret: Vec<u8> = (0..32).map(|i| i * 7 + 3).collect();
        let shares = split(&secret, 3, 5, &mut OsRng).unwrap();
        assert_eq!(shares.len(), 5);
        for a in 0..5 {
            for b in 0..5 {
                for c in 0..5 {
                    if a == b || b == c || a == c {
                        continue;
                    }
                    let picked: Vec<Share> = [a, b, c]
                        .iter()
                        .map(|&i| Share::parse(&shares[i].encode()).unwrap())
                        .collect();
                    assert_eq!(combine(&picked).unwrap().expose(), secret.as_slice());
                }
            }
        }
    }

    #[test]
    fn fewer_than_the_threshold_give_nothing() {
        let secret = [0xAAu8; 32];
        let shares = split(&secret, 3, 5, &mut OsRng).unwrap();
        let two: Vec<Share> =
            shares.iter().take(2).map(|s| Share::parse(&s.encode()).unwrap()).collect();
        assert_eq!(combine(&two).unwrap_err(), ShamirError::NotEnough { needed: 3, have: 2 });
        // The same share twice counts once.
        let twice: Vec<Share> =
            [0, 0, 1].iter().map(|&i| Share::parse(&shares[i].encode()).unwrap()).collect();
        assert!(combine(&twice).is_err());
        // Two shares interpolated as if the threshold were 2 do not give the secret.
        let forged: Vec<Share> = shares
            .iter()
            .take(2)
            .map(|s| {
                let text = s.encode().replacen("HSS1-3-", "HSS1-2-", 1);
                Share::parse(&text).unwrap()
            })
            .collect();
        assert_ne!(combine(&forged).unwrap().expose(), &secret);
    }

    #[test]
    fn parameters_and_text_are_checked() {
        assert!(split(b"k", 1, 3, &mut OsRng).is_err());
        assert!(split(b"k", 4, 3, &mut OsRng).is_err());
        assert!(split(b"k", 2, 256, &mut OsRng).is_err());
        for bad in [
            "",
            "HSS1-2-1",
            "HSS2-2-1-00",
            "HSS1-2-0-00",
            "HSS1-1-1-00",
            "HSS1-2-1-0",
            "HSS1-2-1-zz",
        ] {
            assert_eq!(Share::parse(bad).unwrap_err(), ShamirError::Malformed, "{bad}");
        }
        let share = split(&[1, 2], 2, 2, &mut OsRng).unwrap().remove(0);
        let text = share.encode();
        let hex = text.rsplit('-').next().unwrap();
        assert!(!format!("{share:?}").contains(hex));
        assert_eq!((0..16).map(hex_digit).collect::<String>(), "0123456789abcdef");
    }
}
