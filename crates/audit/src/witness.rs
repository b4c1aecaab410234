//! Witnesses (issue 17): cosignatures in the C2SP `cosignature/v1` format
//! (<https://c2sp.org/tlog-cosignature>) and the decision of the C2SP tlog-witness protocol's
//! `add-checkpoint` (<https://c2sp.org/tlog-witness>). A witness cosigns a log's checkpoint only
//! after checking it is signed by the log's key and consistent with the last checkpoint of that
//! log it cosigned; a history forked from one it saw is refused, so a checkpoint cosigned by
//! enough independent witnesses is one every one of them saw extend what it saw before.
//!
//! A cosignature line is `— <name> <base64(key id || time (8 bytes, big-endian) || signature)>`,
//! the key id the first 4 bytes of `SHA-256(name || "\n" || 0x04 || public key)`, and the
//! Ed25519 signature over `cosignature/v1\ntime <time>\n<checkpoint text>`.
//!
//! Pure: keys, times and the witness's last state are parameters.

use crate::checkpoint::Checkpoint;
use crate::merkle::{self, Hash};
use crate::note::{self, NoteError, VerifierKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, Verifier as _};
use std::fmt;
use zeroize::Zeroizing;

/// The signature type byte of `cosignature/v1` keys.
pub const ALG_COSIGNATURE: u8 = 0x04;
/// Most proof lines an `add-checkpoint` request may carry (a consistency proof of a 2^63 log).
const MAX_PROOF: usize = 63;
const PREFIX: &str = "\u{2014} ";

fn message(text: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{text}")
}

/// A witness's signing key. Its bytes are zeroized on drop and never printed.
pub struct WitnessKey {
    name: String,
    key: ed25519_dalek::SigningKey,
    id: [u8; 4],
}

impl fmt::Debug for WitnessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl WitnessKey {
    /// The key `name` from a 32-byte Ed25519 seed.
    ///
    /// # Errors
    /// [`NoteError::InvalidKeyName`] or [`NoteError::InvalidSeedLength`].
    pub fn from_seed(name: &str, seed: &[u8]) -> Result<Self, NoteError> {
        note::check_key_name(name)?;
        let seed: Zeroizing<[u8; 32]> =
            Zeroizing::new(seed.try_into().map_err(|_| NoteError::InvalidSeedLength(seed.len()))?);
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let id = note::key_id(ALG_COSIGNATURE, name, key.verifying_key().as_bytes());
        Ok(Self { name: name.to_owned(), key, id })
    }

    /// The matching verifier key, to publish.
    #[must_use]
    pub fn verifier(&self) -> WitnessVerifier {
        WitnessVerifier { name: self.name.clone(), key: self.key.verifying_key(), id: self.id }
    }

    /// The cosignature line (newline included) of this key over checkpoint `text` at `time`
    /// (seconds since the epoch).
    #[must_use]
    pub fn cosign(&self, text: &str, time: u64) -> String {
        let sig = self.key.sign(message(text, time).as_bytes());
        let mut blob = Vec::with_capacity(4 + 8 + 64);
        blob.extend_from_slice(&self.id);
        blob.extend_from_slice(&time.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        format!("{PREFIX}{} {}\n", self.name, BASE64.encode(blob))
    }
}

/// A witness's public key: `<name>+<key id hex>+<base64(0x04 || public key)>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessVerifier {
    name: String,
    key: ed25519_dalek::VerifyingKey,
    id: [u8; 4],
}

impl WitnessVerifier {
    /// Parses a witness verifier key string, checking its key id.
    ///
    /// # Errors
    /// [`NoteError::InvalidVerifierKey`], [`NoteError::InvalidKeyName`] or
    /// [`NoteError::InvalidPublicKey`].
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let (name, key, id) = note::parse_vkey(vkey, ALG_COSIGNATURE, "not a cosignature/v1 key")?;
        Ok(Self { name, key, id })
    }

    /// The key's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The time of this witness's valid cosignature on signed note `note`, if it has one.
    #[must_use]
    pub fn cosigned(&self, note: &str) -> Option<u64> {
        let split = note.rfind("\n\n")?;
        let text = note.get(..=split)?;
        let lines = note.get(split + 2..)?;
        lines.lines().find_map(|line| {
            let (name, blob) = note::parse_signature_line(line).ok()?;
            if name != self.name {
                return None;
            }
            let (id, rest) = blob.split_first_chunk::<4>()?;
            let (time, sig) = rest.split_first_chunk::<8>()?;
            if *id != self.id {
                return None;
            }
            let time = u64::from_be_bytes(*time);
            let sig = ed25519_dalek::Signature::from_slice(sig).ok()?;
            self.key.verify(message(text, time).as_bytes(), &sig).ok().map(|()| time)
        })
    }
}

impl fmt::Display for WitnessVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        note::write_vkey(f, &self.name, self.id, ALG_COSIGNATURE, self.key.as_bytes())
    }
}

/// What a witness last cosigned of one log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witnessed {
    /// The size.
    pub size: u64,
    /// The root.
    pub root: Hash,
}

/// Why an `add-checkpoint` is refused, with the protocol's HTTP status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 400: the request does not parse, or the checkpoint is smaller than `old`.
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    /// 403: the checkpoint is not signed by the log's key.
    #[error("the checkpoint is not signed by the log's key")]
    Unsigned,
    /// 404: the witness does not know the log.
    #[error("unknown log `{0}`")]
    UnknownLog(String),
    /// 409: `old` is not the size this witness last cosigned (which it answers).
    #[error("the witness's latest size for this log is {0}")]
    Conflict(u64),
    /// 422: the checkpoint does not extend what the witness last cosigned.
    #[error("the checkpoint is not consistent with the witness's latest")]
    Inconsistent,
}

impl Refusal {
    /// The HTTP status the protocol answers it with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) => 400,
            Refusal::Unsigned => 403,
            Refusal::UnknownLog(_) => 404,
            Refusal::Conflict(_) => 409,
            Refusal::Inconsistent => 422,
        }
    }
}

/// A parsed `add-checkpoint` request body: `old <size>`, proof hashes one per line in base64, a
/// blank line, the signed checkpoint.
#[derive(Debug)]
pub struct AddCheckpoint<'a> {
    /// The size the request's proof starts from.
    pub old: u64,
    /// The consistency proof from `old` to the checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint.
    pub note: &'a str,
}

/// Parses an `add-checkpoint` body.
///
/// # Errors
/// [`Refusal::Malformed`].
pub fn parse_add_checkpoint(body: &str) -> Result<AddCheckpoint<'_>, Refusal> {
    let (head, note) = body.split_once("\n\n").ok_or(Refusal::Malformed("no blank line"))?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or(Refusal::Malformed("the first line must be `old <size>`"))?;
    let mut proof = Vec::new();
    for line in lines {
        if proof.len() == MAX_PROOF {
            return Err(Refusal::Malformed("too many proof lines"));
        }
        let raw =
            BASE64.decode(line).map_err(|_| Refusal::Malformed("a proof line is not base64"))?;
        proof.push(raw.try_into().map_err(|_| Refusal::Malformed("a proof hash is not 32 bytes"))?);
    }
    Ok(AddCheckpoint { old, proof, note })
}

/// The body of an `add-checkpoint` request for `note` from `old` with `proof`.
#[must_use]
pub fn add_checkpoint_body(old: u64, proof: &[Hash], note: &str) -> String {
    let mut out = format!("old {old}\n");
    for h in proof {
        out.push_str(&BASE64.encode(h));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(note);
    out
}

/// The witness's decision on `request` for a log whose checkpoints `log_key` signs (origins
/// `known` accepts), given what it last cosigned of that origin: the checkpoint to cosign (and
/// record), or the refusal.
///
/// # Errors
/// A [`Refusal`], as the protocol answers it.
pub fn decide(
    request: &AddCheckpoint<'_>,
    log_key: &VerifierKey,
    known: impl Fn(&str) -> bool,
    last: impl Fn(&str) -> Option<Witnessed>,
) -> Result<Checkpoint, Refusal> {
    let origin = request.note.split('\n').next().unwrap_or_default();
    if !known(origin) {
        return Err(Refusal::UnknownLog(origin.to_owned()));
    }
    let cp = Checkpoint::open(request.note, origin, log_key).map_err(|_| Refusal::Unsigned)?;
    let seen = last(origin);
    let latest = seen.as_ref().map_or(0, |w| w.size);
    if request.old != latest {
        return Err(Refusal::Conflict(latest));
    }
    if cp.size() < request.old {
        return Err(Refusal::Malformed("the checkpoint is smaller than `old`"));
    }
    match seen {
        None if request.proof.is_empty() => Ok(cp),
        None => Err(Refusal::Malformed("a proof from size 0 is empty")),
        Some(w) if w.size == cp.size() => {
            if request.proof.is_empty() && w.root == *cp.root() {
                Ok(cp)
            } else {
                Err(Refusal::Inconsistent)
            }
        }
        Some(w) => {
            merkle::verify_consistency(w.size, cp.size(), &request.proof, &w.root, cp.root())
                .map(|()| cp)
                .map_err(|_| Refusal::Inconsistent)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use crate::merkle::{consistency_proof_from_store, leaf_hash, CompactRange};
    use crate::note::SigningKey;
    use std::collections::HashMap;

    /// A log of `n` entries named by `tag`, its stored subtrees, and its signed checkpoint.
    fn log(tag: &str, n: u64, key: &SigningKey) -> (HashMap<(u8, u64), Hash>, String, Checkpoint) {
        let mut range = CompactRange::new();
        let mut nodes = HashMap::new();
        for i in 0..n {
            range
                .append_with(leaf_hash(format!("{tag} {i}").as_bytes()), |id, h| {
                    nodes.insert((id.level, id.index), *h);
                })
                .unwrap();
        }
        let cp = Checkpoint::of_range("hermetic/111122223333", &range, 1000).unwrap();
        (nodes, cp.sign(key).unwrap(), cp)
    }

    fn proof(nodes: &HashMap<(u8, u64), Hash>, old: u64, new: u64) -> Vec<Hash> {
        consistency_proof_from_store(old, new, |l, i| nodes.get(&(l, i)).copied()).unwrap()
    }

    #[test]
    fn cosigns_what_extends_and_refuses_a_fork() {
        let log_key = SigningKey::from_seed("hermetic-checkpoint", &[1; 32]).unwrap();
        let witness = WitnessKey::from_seed("w1", &[2; 32]).unwrap();
        let verifier = WitnessVerifier::parse(&witness.verifier().to_string()).unwrap();
        let known = |o: &str| o.starts_with("hermetic/");
        let (_, first, cp5) = log("a", 5, &log_key);
        let body = add_checkpoint_body(0, &[], &first);
        let req = parse_add_checkpoint(&body).unwrap();
        let got = decide(&req, &log_key.verifier(), known, |_| None).unwrap();
        assert_eq!(got, cp5);
        let cosigned = format!("{first}{}", witness.cosign(&cp5.body(), 77));
        assert_eq!(verifier.cosigned(&cosigned), Some(77));
        assert_eq!(verifier.cosigned(&first), None);
        let seen = |_: &str| Some(Witnessed { size: 5, root: *cp5.root() });

        // The same history, grown: cosigned with the proof; from the wrong size: 409.
        let (nodes, grown, _) = log("a", 9, &log_key);
        let body = add_checkpoint_body(5, &proof(&nodes, 5, 9), &grown);
        assert!(
            decide(&parse_add_checkpoint(&body).unwrap(), &log_key.verifier(), known, seen).is_ok()
        );
        let body = add_checkpoint_body(0, &[], &grown);
        assert_eq!(
            decide(&parse_add_checkpoint(&body).unwrap(), &log_key.verifier(), known, seen),
            Err(Refusal::Conflict(5))
        );

        // A forked history signed by the log's own key: larger, or of the same size.
        let (fork_nodes, forked, _) = log("b", 9, &log_key);
        let body = add_checkpoint_body(5, &proof(&fork_nodes, 5, 9), &forked);
        let refused =
            decide(&parse_add_checkpoint(&body).unwrap(), &log_key.verifier(), known, seen);
        assert_eq!(refused.map(|_| ()).unwrap_err().status(), 422);
        let (_, same_size, _) = log("b", 5, &log_key);
        let body = add_checkpoint_body(5, &[], &same_size);
        assert_eq!(
            decide(&parse_add_checkpoint(&body).unwrap(), &log_key.verifier(), known, seen),
            Err(Refusal::Inconsistent)
        );

        // Signed by another key, or of another log.
        let other = SigningKey::from_seed("hermetic-checkpoint", &[3; 32]).unwrap();
        let (_, foreign, _) = log("a", 9, &other);
        let body = add_checkpoint_body(5, &proof(&nodes, 5, 9), &foreign);
        assert_eq!(
            decide(&parse_add_checkpoint(&body).unwrap(), &log_key.verifier(), known, seen),
            Err(Refusal::Unsigned)
        );
        let body = add_checkpoint_body(0, &[], &first);
        assert!(matches!(
            decide(&parse_add_checkpoint(&body).unwrap(), &log_key.verifier(), |_| false, seen),
            Err(Refusal::UnknownLog(_))
        ));
        assert!(parse_add_checkpoint("nonsense").is_err());
    }
}
