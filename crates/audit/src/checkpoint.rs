//! Signed checkpoints: a log's commitment to its size and root at a time, in the C2SP tlog
//! checkpoint layout (<https://c2sp.org/tlog-checkpoint>) inside a signed note ([`crate::note`]).
//!
//! The checkpoint's text (the note's body) is four lines, each ending in a newline:
//!
//! ```text
//! <origin>                      the log's identity, e.g. `hermetic/audit/111122223333`
//! <tree size>                   decimal, no sign, no leading zeros
//! <root hash>                   standard base64 (with padding) of the 32-byte RFC 6962 root
//! <timestamp>                   milliseconds since the Unix epoch, decimal
//! ```
//!
//! The first three lines are exactly the C2SP checkpoint; the timestamp is its one extension
//! line, which generic checkpoint verifiers carry along unread. The signed note adds a blank line
//! and one `— <key name> <base64(key id || Ed25519 signature)>` line per signer. The signature
//! covers all four lines, so changing any field, or the origin it is checked against, fails.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::merkle::{self, CompactRange, Hash, MerkleError};
use crate::note::{self, NoteError, SigningKey, VerifierKey};

/// What went wrong making, parsing or checking a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// An origin that is empty or holds a control character.
    #[error("origin `{0}` is empty or contains a control character")]
    InvalidOrigin(String),
    /// A checkpoint body that does not have the four lines in their canonical form.
    #[error("checkpoint is malformed: {0}")]
    Malformed(&'static str),
    /// A checkpoint of a different log than the one expected.
    #[error("checkpoint is for origin `{found}`, expected `{expected}`")]
    WrongOrigin {
        /// The origin the caller expected.
        expected: String,
        /// The origin the checkpoint names.
        found: String,
    },
    /// A newer checkpoint with an older time than the one it extends.
    #[error("checkpoint time goes backwards")]
    TimeGoesBackwards,
    /// The signed-note envelope failed.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// A proof against the checkpoint failed.
    #[error(transparent)]
    Merkle(#[from] MerkleError),
}

/// A log's size and root at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    timestamp_ms: u64,
}

impl Checkpoint {
    /// A checkpoint of the log `origin` holding `size` entries with root `root`, made at
    /// `timestamp_ms` (milliseconds since the Unix epoch; the caller's clock).
    ///
    /// # Errors
    /// [`CheckpointError::InvalidOrigin`] if `origin` is empty or holds a control character.
    pub fn new(
        origin: &str,
        size: u64,
        root: Hash,
        timestamp_ms: u64,
    ) -> Result<Self, CheckpointError> {
        if origin.is_empty() || origin.chars().any(char::is_control) {
            return Err(CheckpointError::InvalidOrigin(origin.to_owned()));
        }
        Ok(Self { origin: origin.to_owned(), size, root, timestamp_ms })
    }

    /// The checkpoint of a log's current frontier.
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn of_range(
        origin: &str,
        range: &CompactRange,
        timestamp_ms: u64,
    ) -> Result<Self, CheckpointError> {
        Self::new(origin, range.size(), range.root(), timestamp_ms)
    }

    /// The log's origin.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The number of entries the checkpoint commits to.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 6962 root of those entries.
    #[must_use]
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// When the checkpoint was made, in milliseconds since the Unix epoch.
    #[must_use]
    pub fn timestamp_ms(&self) -> u64 {
        self.timestamp_ms
    }

    /// The checkpoint's text: the four lines the signature covers.
    #[must_use]
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root),
            self.timestamp_ms
        )
    }

    /// Parses a checkpoint's text, accepting only the canonical form [`Self::body`] writes.
    ///
    /// # Errors
    /// [`CheckpointError::Malformed`] or [`CheckpointError::InvalidOrigin`].
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let lines = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed("text must end with a newline"))?;
        let mut it = lines.split('\n');
        let (Some(origin), Some(size), Some(root), Some(time), None) =
            (it.next(), it.next(), it.next(), it.next(), it.next())
        else {
            return Err(CheckpointError::Malformed("expected four lines"));
        };
        let size = parse_decimal(size).ok_or(CheckpointError::Malformed("bad tree size"))?;
        let root = parse_root(root).ok_or(CheckpointError::Malformed("bad root hash"))?;
        let time = parse_decimal(time).ok_or(CheckpointError::Malformed("bad timestamp"))?;
        Self::new(origin, size, root, time)
    }

    /// The signed note of this checkpoint, signed by `key`.
    ///
    /// # Errors
    /// [`CheckpointError::Note`] if the text cannot be a note (it always can for a checkpoint
    /// made by [`Self::new`]).
    pub fn sign(&self, key: &SigningKey) -> Result<String, CheckpointError> {
        Ok(note::sign_note(&self.body(), &[key])?)
    }

    /// Opens a signed checkpoint of the log `origin`: checks `verifier`'s signature, parses the
    /// text, and checks the origin. Signatures by other keys (say, witnesses') are ignored.
    ///
    /// # Errors
    /// [`CheckpointError::Note`] if the signature is missing or bad,
    /// [`CheckpointError::Malformed`] if the text is not a checkpoint,
    /// [`CheckpointError::WrongOrigin`] if it is another log's.
    pub fn open(
        signed: &str,
        origin: &str,
        verifier: &VerifierKey,
    ) -> Result<Self, CheckpointError> {
        let text = note::open_note(signed, verifier)?;
        let cp = Self::parse_body(text)?;
        if cp.origin != origin {
            return Err(CheckpointError::WrongOrigin {
                expected: origin.to_owned(),
                found: cp.origin,
            });
        }
        Ok(cp)
    }

    /// Checks an inclusion proof of `leaf_hash` at `index` against this checkpoint.
    ///
    /// # Errors
    /// [`MerkleError`] from [`merkle::verify_inclusion`].
    pub fn verify_inclusion(
        &self,
        leaf_hash: &Hash,
        index: u64,
        proof: &[Hash],
    ) -> Result<(), MerkleError> {
        merkle::verify_inclusion(leaf_hash, index, self.size, proof, &self.root)
    }

    /// Checks that `newer` extends this checkpoint: same log, time not going backwards, and a
    /// valid consistency proof from this size and root to `newer`'s.
    ///
    /// # Errors
    /// [`CheckpointError::WrongOrigin`], [`CheckpointError::TimeGoesBackwards`] or
    /// [`CheckpointError::Merkle`].
    pub fn verify_extended_by(
        &self,
        newer: &Checkpoint,
        proof: &[Hash],
    ) -> Result<(), CheckpointError> {
        if newer.origin != self.origin {
            return Err(CheckpointError::WrongOrigin {
                expected: self.origin.clone(),
                found: newer.origin.clone(),
            });
        }
        if newer.timestamp_ms < self.timestamp_ms {
            return Err(CheckpointError::TimeGoesBackwards);
        }
        merkle::verify_consistency(self.size, newer.size, proof, &self.root, &newer.root)?;
        Ok(())
    }
}

/// A canonical unsigned decimal: digits only, no leading zero unless it is `0`.
fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical {
        s.parse().ok()
    } else {
        None
    }
}

/// Standard padded base64 of exactly 32 bytes, in its one canonical spelling.
fn parse_root(s: &str) -> Option<Hash> {
    let raw = BASE64.decode(s).ok()?;
    let root: Hash = raw.try_into().ok()?;
    (BASE64.encode(root) == s).then_some(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_canonical() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        for bad in ["", "00", "01", "+1", "-1", " 1", "1 ", "18446744073709551616", "１"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn origins_are_checked() {
        assert!(Checkpoint::new("", 0, [0; 32], 0).is_err());
        assert!(Checkpoint::new("a\nb", 0, [0; 32], 0).is_err());
        assert!(Checkpoint::new("hermetic/audit/111122223333", 0, [0; 32], 0).is_ok());
    }
}
