//! Secrets and signing keys: zeroized on drop, printed as `[redacted]`, compared in constant
//! time; and a small cache of derived signing keys.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

type HmacSha256 = Hmac<Sha256>;

/// A secret access key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret access key.
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret's bytes, for key derivation only.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

/// A derived SigV4 signing key (`kSigning`).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SigningKey([u8; 32]);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &SigningKey) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SigningKey {}

/// HMAC-SHA256.
pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // INVARIANT: HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0u8; 32],
    }
}

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

impl SigningKey {
    /// Derives `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
    pub fn derive(secret: &Secret, date: &str, region: &str, service: &str) -> SigningKey {
        let mut k_secret = Zeroizing::new(Vec::with_capacity(4 + secret.expose().len()));
        k_secret.extend_from_slice(b"AWS4");
        k_secret.extend_from_slice(secret.expose());
        let k_date = Zeroizing::new(hmac(&k_secret, date.as_bytes()));
        let k_region = Zeroizing::new(hmac(k_date.as_ref(), region.as_bytes()));
        let k_service = Zeroizing::new(hmac(k_region.as_ref(), service.as_bytes()));
        SigningKey(hmac(k_service.as_ref(), b"aws4_request"))
    }

    /// Signs `data` with this key.
    pub fn sign(&self, data: &[u8]) -> [u8; 32] {
        hmac(&self.0, data)
    }
}

/// Compares two signatures in constant time.
pub fn signatures_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}

/// A small cache of signing keys keyed by (secret, date, region, service), so a
/// busy client's requests cost one HMAC chain per day instead of five HMACs per request.
/// The caller owns it (one per worker); it holds at most `capacity` keys, evicting the oldest.
#[derive(Debug)]
pub struct KeyCache {
    entries: Vec<(CacheKey, SigningKey)>,
    capacity: usize,
    next: usize,
}

/// The secret is kept (zeroized on drop) and compared in constant time, so a lookup costs no
/// hashing.
#[derive(PartialEq, Eq)]
struct CacheKey {
    secret: Secret,
    scope: String,
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({})", self.scope)
    }
}

impl KeyCache {
    /// A cache holding at most `capacity` keys (at least one).
    pub fn new(capacity: usize) -> KeyCache {
        KeyCache { entries: Vec::new(), capacity: capacity.max(1), next: 0 }
    }

    /// The signing key for the scope, derived on a miss.
    pub fn get(&mut self, secret: &Secret, date: &str, region: &str, service: &str) -> SigningKey {
        let hit = self.entries.iter().find(|(c, _)| {
            let mut parts = c.scope.splitn(3, '/');
            parts.next() == Some(date)
                && parts.next() == Some(region)
                && parts.next() == Some(service)
                && c.secret == *secret
        });
        if let Some((_, k)) = hit {
            return k.clone();
        }
        let key = CacheKey { secret: secret.clone(), scope: format!("{date}/{region}/{service}") };
        let derived = SigningKey::derive(secret, date, region, service);
        if self.entries.len() < self.capacity {
            self.entries.push((key, derived.clone()));
        } else if let Some(slot) = self.entries.get_mut(self.next) {
            *slot = (key, derived.clone());
            self.next = (self.next + 1) % self.capacity;
        }
        derived
    }

    /// How many keys are cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Default for KeyCache {
    fn default() -> KeyCache {
        KeyCache::new(64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_matches_the_aws_documentation_example() {
        // The signing key example of the SigV4 documentation ("Examples of how to derive a
        // signing key"): secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam.
        let key = SigningKey::derive(
            &Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            crate::encode::hex(&key.0),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("abc")), "[redacted]");
        let key = SigningKey::derive(&Secret::new("abc"), "20200101", "r", "s");
        assert_eq!(format!("{key:?}"), "[redacted]");
    }

    #[test]
    fn cache_hits_and_evicts() {
        let mut cache = KeyCache::new(2);
        let s = Secret::new("s");
        let a = cache.get(&s, "20200101", "r", "s3");
        assert_eq!(cache.get(&s, "20200101", "r", "s3"), a);
        assert_eq!(cache.len(), 1);
        cache.get(&s, "20200102", "r", "s3");
        cache.get(&s, "20200103", "r", "s3");
        assert_eq!(cache.len(), 2);
        assert_ne!(cache.get(&Secret::new("t"), "20200101", "r", "s3"), a);
    }
}
