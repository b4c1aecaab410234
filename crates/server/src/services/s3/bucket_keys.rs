//! The S3 Bucket Keys this server holds in memory: the cryptography KMS did for S3, kept for a
//! few minutes so that it is not done again for every object (as AWS's S3 keeps a bucket key
//! for a time-limited period). Never written anywhere, bounded in number and in age (expired
//! entries are dropped, zeroized, whenever the cache is used and on the server's periodic
//! timer), and dropped with the server's state.
//!
//! **What this saves is KMS's cryptography, never its authorization.** Every request that uses
//! an entry has first been authorized as its caller for the KMS operation it stands for
//! (`kms:GenerateDataKey` for a write, `kms:Decrypt` for a read, with `kms:ViaService` and the
//! bucket's ARN as encryption context) and found the key usable; only then does `sse` look
//! here. A read's entry is found by the exact KMS ciphertext the object's record holds (and the
//! encryption context it opens with), so an entry gives exactly what KMS would have given that
//! caller for that ciphertext, and nothing to a caller KMS would have refused.

use std::collections::HashMap;
use std::sync::Mutex;

/// How long a bucket key is used for new objects, and kept opened for reads, after KMS made or
/// opened it (milliseconds): five minutes.
pub(crate) const LIFETIME_MS: i64 = 5 * 60 * 1000;
/// How many bucket keys are kept for writes, and how many opened ones for reads, at most.
pub(crate) const MAX_ENTRIES: usize = 1024;

/// Which bucket key a write uses: one per bucket (a bucket made again is another), per KMS key.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub(crate) struct WriteKey {
    /// The bucket's owner.
    pub account: String,
    /// The bucket's name.
    pub bucket: String,
    /// When the bucket was made.
    pub created_ms: i64,
    /// The KMS key's ARN (as resolved for this request: an alias moved to another key names
    /// another entry).
    pub key_arn: String,
}

/// A bucket key for writes: its KMS ciphertext (what objects' records keep) and its plaintext.
struct Issued {
    wrapped: Vec<u8>,
    plaintext: crypto::SecretBytes,
    made_ms: i64,
}

/// A bucket key KMS opened (or made) for a read: its plaintext.
struct Opened {
    plaintext: crypto::SecretBytes,
    made_ms: i64,
}

/// The entries, by what finds them.
#[derive(Default)]
struct Entries {
    issued: HashMap<WriteKey, Issued>,
    /// By (encryption context, KMS ciphertext).
    opened: HashMap<(String, Vec<u8>), Opened>,
}

impl Entries {
    /// Drops (zeroizes) every entry past its lifetime at `now_ms`.
    fn purge(&mut self, now_ms: i64) {
        self.issued.retain(|_, e| fresh(e.made_ms, now_ms));
        self.opened.retain(|_, e| fresh(e.made_ms, now_ms));
    }
}

/// The server's bucket keys (one per server process, in [`crate::pipeline::State`]).
#[derive(Default)]
pub(crate) struct BucketKeys {
    entries: Mutex<Entries>,
}

impl std::fmt::Debug for BucketKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BucketKeys")
    }
}

/// Whether an entry made at `made_ms` may still be used at `now_ms`: less than a lifetime
/// apart, either way (requests served side by side carry times a little apart; a clock that
/// went back a lifetime or more ends it).
fn fresh(made_ms: i64, now_ms: i64) -> bool {
    let age = now_ms.saturating_sub(made_ms);
    age > -LIFETIME_MS && age < LIFETIME_MS
}

/// Makes room for one more entry in `map`: drops what has expired, then, if it is still full,
/// the oldest.
fn make_room<K: Clone + Eq + std::hash::Hash, V>(
    map: &mut HashMap<K, V>,
    made: impl Fn(&V) -> i64,
    now_ms: i64,
) {
    if map.len() < MAX_ENTRIES {
        return;
    }
    map.retain(|_, v| fresh(made(&*v), now_ms));
    while map.len() >= MAX_ENTRIES {
        let oldest = map.iter().min_by_key(|entry| made(entry.1)).map(|(k, _)| k.clone());
        match oldest {
            Some(k) => {
                map.remove(&k);
            }
            None => break,
        }
    }
}

impl BucketKeys {
    /// The bucket key writes under `key` use now, if one was made less than
    /// [`LIFETIME_MS`] ago: (its KMS ciphertext, its plaintext). The caller must have been
    /// authorized for `kms:GenerateDataKey` on the key, through S3, for this request.
    pub fn for_writing(
        &self,
        key: &WriteKey,
        now_ms: i64,
    ) -> Option<(Vec<u8>, crypto::SecretBytes)> {
        // A poisoned lock is a cache that answers nothing: KMS is asked instead.
        let mut entries = self.entries.lock().ok()?;
        entries.purge(now_ms);
        entries.issued.get(key).map(|e| (e.wrapped.clone(), e.plaintext.clone()))
    }

    /// Keeps a bucket key KMS just made for writes under `key` with encryption context
    /// `context`; reads of the objects sealed with it find it too.
    pub fn issued(
        &self,
        key: WriteKey,
        context: &str,
        wrapped: &[u8],
        plaintext: &crypto::SecretBytes,
        now_ms: i64,
    ) {
        let Ok(mut entries) = self.entries.lock() else { return };
        entries.purge(now_ms);
        make_room(&mut entries.issued, |e: &Issued| e.made_ms, now_ms);
        entries.issued.insert(
            key,
            Issued { wrapped: wrapped.to_vec(), plaintext: plaintext.clone(), made_ms: now_ms },
        );
        Self::insert_opened(&mut entries, context, wrapped, plaintext, now_ms);
    }

    /// The plaintext of the bucket key whose KMS ciphertext is `wrapped`, opened with
    /// encryption context `context` less than [`LIFETIME_MS`] ago. The caller must have been
    /// authorized for `kms:Decrypt` of `wrapped` with `context`, through S3, for this request.
    pub fn opened(
        &self,
        context: &str,
        wrapped: &[u8],
        now_ms: i64,
    ) -> Option<crypto::SecretBytes> {
        let mut entries = self.entries.lock().ok()?;
        entries.purge(now_ms);
        entries.opened.get(&(context.to_string(), wrapped.to_vec())).map(|e| e.plaintext.clone())
    }

    /// Keeps a bucket key KMS just opened (`wrapped`, with encryption context `context`).
    pub fn remember_opened(
        &self,
        context: &str,
        wrapped: &[u8],
        plaintext: &crypto::SecretBytes,
        now_ms: i64,
    ) {
        let Ok(mut entries) = self.entries.lock() else { return };
        entries.purge(now_ms);
        Self::insert_opened(&mut entries, context, wrapped, plaintext, now_ms);
    }

    /// Drops every entry past its lifetime at `now_ms` (the server's periodic timer calls this,
    /// so that no bucket key outlives its lifetime by more than a timer's interval).
    pub fn purge(&self, now_ms: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.purge(now_ms);
        }
    }

    fn insert_opened(
        entries: &mut Entries,
        context: &str,
        wrapped: &[u8],
        plaintext: &crypto::SecretBytes,
        now_ms: i64,
    ) {
        make_room(&mut entries.opened, |e: &Opened| e.made_ms, now_ms);
        entries.opened.insert(
            (context.to_string(), wrapped.to_vec()),
            Opened { plaintext: plaintext.clone(), made_ms: now_ms },
        );
    }

    /// How many entries are kept: (for writes, opened for reads).
    #[cfg(test)]
    fn len(&self) -> (usize, usize) {
        self.entries.lock().map(|e| (e.issued.len(), e.opened.len())).unwrap_or((0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_key(bucket: &str) -> WriteKey {
        WriteKey {
            account: "111122223333".into(),
            bucket: bucket.into(),
            created_ms: 1,
            key_arn: "arn:aws:kms:us-east-1:111122223333:key/k".into(),
        }
    }

    fn secret(byte: u8) -> crypto::SecretBytes {
        crypto::SecretBytes::new(vec![byte; 32])
    }

    /// A key made for writes serves writes and reads of the same ciphertext for its lifetime,
    /// then neither.
    #[test]
    fn entries_expire() {
        let keys = BucketKeys::default();
        let (ctx, now) = ("arn:aws:s3:::b", 1_000_000);
        assert!(keys.for_writing(&write_key("b"), now).is_none());
        keys.issued(write_key("b"), ctx, b"wrapped", &secret(1), now);
        let (wrapped, plain) = keys.for_writing(&write_key("b"), now + LIFETIME_MS - 1).unwrap();
        assert_eq!((wrapped.as_slice(), plain), (b"wrapped".as_slice(), secret(1)));
        assert_eq!(keys.opened(ctx, b"wrapped", now + 1), Some(secret(1)));
        // Another bucket, another context, another ciphertext: nothing.
        assert!(keys.for_writing(&write_key("c"), now).is_none());
        assert!(keys.opened("arn:aws:s3:::c", b"wrapped", now).is_none());
        assert!(keys.opened(ctx, b"wrapped2", now).is_none());
        let made_again = WriteKey { created_ms: 2, ..write_key("b") };
        assert!(keys.for_writing(&made_again, now).is_none(), "a bucket made again");
        // Expired: gone, for writes and reads.
        assert!(keys.for_writing(&write_key("b"), now + LIFETIME_MS).is_none());
        assert!(keys.opened(ctx, b"wrapped", now + LIFETIME_MS).is_none());
        assert_eq!(keys.len(), (0, 0));
        // The periodic purge drops what no request touches.
        keys.issued(write_key("d"), ctx, b"w3", &secret(5), now);
        keys.purge(now + LIFETIME_MS - 1);
        assert_eq!(keys.len(), (1, 1));
        keys.purge(now + LIFETIME_MS);
        assert_eq!(keys.len(), (0, 0));
        // A request that started a little before the entry was made finds it; a clock that went
        // back a lifetime ends it.
        keys.remember_opened(ctx, b"w", &secret(2), now);
        assert_eq!(keys.opened(ctx, b"w", now - 1), Some(secret(2)));
        assert!(keys.opened(ctx, b"w", now - LIFETIME_MS).is_none());
    }

    /// At most MAX_ENTRIES of each kind: expired ones go first, then the oldest.
    #[test]
    fn entries_are_bounded() {
        let keys = BucketKeys::default();
        let now = 10_000_000;
        for i in 0..MAX_ENTRIES + 10 {
            let at = now + i as i64;
            keys.issued(
                write_key(&format!("b{i}")),
                "ctx",
                format!("w{i}").as_bytes(),
                &secret(3),
                at,
            );
        }
        assert_eq!(keys.len(), (MAX_ENTRIES, MAX_ENTRIES));
        let last = now + (MAX_ENTRIES + 9) as i64;
        assert!(keys.for_writing(&write_key("b0"), last).is_none(), "the oldest went");
        assert!(keys.opened("ctx", b"w0", last).is_none());
        let newest = format!("b{}", MAX_ENTRIES + 9);
        assert!(keys.for_writing(&write_key(&newest), last).is_some());
        // Once they have all expired, a new entry makes room by dropping them all.
        let later = last + LIFETIME_MS;
        keys.remember_opened("ctx", b"fresh", &secret(4), later);
        assert_eq!(keys.len().1, 1);
        assert_eq!(keys.opened("ctx", b"fresh", later), Some(secret(4)));
    }
}
