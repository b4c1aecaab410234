//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys: the envelope that
//! carries a checkpoint and its signatures, readable by any signed-note verifier (Go's
//! `golang.org/x/mod/sumdb/note`, the transparency-dev tools, witnesses).
//!
//! A signed note is the text (non-empty, ending in a newline), a blank line, then one line per
//! signature: `— <key name> <base64(key id || signature)>`, where `—` is U+2014. The key id is
//! the first 4 bytes of `SHA-256(key name || "\n" || 0x01 || public key)`, 0x01 naming Ed25519,
//! and the signature is Ed25519 over the text exactly (final newline included). A verifier
//! ignores signatures by keys it does not know, and fails on a bad signature by a key it does.
//!
//! Keys arrive as bytes from the caller (the `crypto` crate's root of trust), or stay with it
//! (an HSM's key, [`SigningKey::external`]); this module never generates, stores or logs them.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SECRET_KEY_LENGTH};
use sha2::{Digest, Sha256};
use zeroize::{ZeroizeOnDrop, Zeroizing};

/// The signed-note algorithm byte of Ed25519 keys.
pub const ALG_ED25519: u8 = 0x01;

/// Verifiers stop reading after this many signature lines (the limit Go's `note.Open` applies).
pub const MAX_SIGNATURES: usize = 100;

/// The start of a signature line: an em dash and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Length of a key id.
const KEY_ID_LEN: usize = 4;

/// What went wrong signing or opening a signed note.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key name that is empty or holds whitespace or `+`.
    #[error("key name `{0}` is empty or contains whitespace or `+`")]
    InvalidKeyName(String),
    /// A private key seed of the wrong length.
    #[error("an ed25519 private key seed is 32 bytes, not {0}")]
    InvalidSeedLength(usize),
    /// A public key that is not a valid Ed25519 point.
    #[error("public key is not a valid ed25519 key")]
    InvalidPublicKey,
    /// A verifier key string that does not parse.
    #[error("verifier key is malformed: {0}")]
    InvalidVerifierKey(&'static str),
    /// Note text that is empty, lacks its final newline, holds a blank line or a control
    /// character.
    #[error("note text must be non-empty, end with a newline, and hold no blank lines or control characters")]
    InvalidText,
    /// A signed note whose layout is wrong.
    #[error("signed note is malformed: {0}")]
    Malformed(&'static str),
    /// An external signer failed, or gave a signature its public key does not verify.
    #[error("the note signer failed: {0}")]
    Signer(String),
    /// More signature lines than a verifier reads.
    #[error("signed note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// No signature by the verifier's key.
    #[error("signed note has no signature by key `{0}`")]
    NoSignature(String),
    /// A signature by the verifier's key that does not verify.
    #[error("signature by key `{0}` does not verify")]
    BadSignature(String),
}

/// Signs a message with a key held elsewhere (an HSM): the 64-byte Ed25519 signature.
pub type ExternalSigner = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, String> + Send + Sync>;

/// An Ed25519 note-signing key with its name: its private key in memory (zeroized when dropped,
/// never printed: `{:?}` shows `[redacted]`), or held by an external signer.
pub struct SigningKey {
    name: String,
    key: Key,
    id: [u8; KEY_ID_LEN],
}

enum Key {
    Local(ed25519_dalek::SigningKey),
    External { public: ed25519_dalek::VerifyingKey, sign: ExternalSigner },
}

// `ed25519_dalek::SigningKey` zeroizes its secret on drop (its `zeroize` feature is on), and it
// is the only secret `SigningKey` holds.
const _: fn() = || {
    fn zeroizes_on_drop<T: ZeroizeOnDrop>() {}
    zeroizes_on_drop::<ed25519_dalek::SigningKey>();
};
impl ZeroizeOnDrop for SigningKey {}

impl SigningKey {
    /// The key `name` with the 32-byte Ed25519 private key seed `seed` (RFC 8032's secret key).
    ///
    /// # Errors
    /// [`NoteError::InvalidKeyName`] if `name` is empty or holds whitespace or `+`.
    pub fn from_seed(name: &str, seed: &[u8; SECRET_KEY_LENGTH]) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        let id = key_id(ALG_ED25519, name, key.verifying_key().as_bytes());
        Ok(Self { name: name.to_owned(), key: Key::Local(key), id })
    }

    /// The key `name` whose private half `sign` holds (an HSM's), with the 32-byte public key
    /// `public`. Each signature it gives is checked against `public` before it is used.
    ///
    /// # Errors
    /// [`NoteError::InvalidKeyName`] or [`NoteError::InvalidPublicKey`].
    pub fn external(
        name: &str,
        public: &[u8; 32],
        sign: ExternalSigner,
    ) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let public = ed25519_dalek::VerifyingKey::from_bytes(public)
            .map_err(|_| NoteError::InvalidPublicKey)?;
        let id = key_id(ALG_ED25519, name, public.as_bytes());
        Ok(Self { name: name.to_owned(), key: Key::External { public, sign }, id })
    }

    /// Whether the private key is held by an external signer.
    #[must_use]
    pub fn is_external(&self) -> bool {
        matches!(self.key, Key::External { .. })
    }

    /// As [`Self::from_seed`], from a slice that must be 32 bytes long.
    ///
    /// # Errors
    /// [`NoteError::InvalidSeedLength`] or [`NoteError::InvalidKeyName`].
    pub fn from_slice(name: &str, seed: &[u8]) -> Result<Self, NoteError> {
        let seed: Zeroizing<[u8; SECRET_KEY_LENGTH]> =
            Zeroizing::new(seed.try_into().map_err(|_| NoteError::InvalidSeedLength(seed.len()))?);
        Self::from_seed(name, &seed)
    }

    /// The key's name (for a log, its origin or a name naming the log operator).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id: 4 bytes that, with the name, pick the key out of a list.
    #[must_use]
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// The matching verifier key, to publish.
    #[must_use]
    pub fn verifier(&self) -> VerifierKey {
        let key = match &self.key {
            Key::Local(key) => key.verifying_key(),
            Key::External { public, .. } => *public,
        };
        VerifierKey { name: self.name.clone(), key, id: self.id }
    }

    /// The signature line of this key over `text`, newline included.
    fn signature_line(&self, text: &str) -> Result<String, NoteError> {
        let sig = match &self.key {
            Key::Local(key) => key.sign(text.as_bytes()).to_bytes(),
            Key::External { public, sign } => {
                let bytes = sign(text.as_bytes()).map_err(NoteError::Signer)?;
                let sig = ed25519_dalek::Signature::from_slice(&bytes).map_err(|_| {
                    NoteError::Signer(format!("a signature of {} bytes", bytes.len()))
                })?;
                public.verify_strict(text.as_bytes(), &sig).map_err(|_| {
                    NoteError::Signer("a signature its public key does not verify".into())
                })?;
                sig.to_bytes()
            }
        };
        let mut blob = Vec::with_capacity(KEY_ID_LEN + ed25519_dalek::SIGNATURE_LENGTH);
        blob.extend_from_slice(&self.id);
        blob.extend_from_slice(&sig);
        Ok(format!("{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(blob)))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A named Ed25519 public key that verifies signed notes. Its text form, the verifier key
/// string, is `<name>+<key id, 8 hex digits>+<base64(0x01 || public key)>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key: ed25519_dalek::VerifyingKey,
    id: [u8; KEY_ID_LEN],
}

impl VerifierKey {
    /// The key `name` with the 32-byte Ed25519 public key `public`.
    ///
    /// # Errors
    /// [`NoteError::InvalidKeyName`] or [`NoteError::InvalidPublicKey`].
    pub fn new(name: &str, public: &[u8; 32]) -> Result<Self, NoteError> {
        check_key_name(name)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(public)
            .map_err(|_| NoteError::InvalidPublicKey)?;
        Ok(Self { name: name.to_owned(), key, id: key_id(ALG_ED25519, name, public) })
    }

    /// Parses a verifier key string, checking that its key id matches its name and key.
    ///
    /// # Errors
    /// [`NoteError::InvalidVerifierKey`], [`NoteError::InvalidKeyName`] or
    /// [`NoteError::InvalidPublicKey`].
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let (name, key, id) = parse_vkey(vkey, ALG_ED25519, "not an ed25519 key")?;
        Ok(Self { name, key, id })
    }

    /// The key's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    #[must_use]
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// The 32-byte Ed25519 public key.
    #[must_use]
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_vkey(f, &self.name, self.id, ALG_ED25519, self.key.as_bytes())
    }
}

/// Parses a verifier key string `<name>+<key id hex>+<base64(alg || public key)>` of key type
/// `alg`, checking its name and that its key id matches: (name, key, id). `wrong_type` is the
/// refusal of another key type.
pub(crate) fn parse_vkey(
    vkey: &str,
    alg: u8,
    wrong_type: &'static str,
) -> Result<(String, ed25519_dalek::VerifyingKey, [u8; KEY_ID_LEN]), NoteError> {
    let (name, rest) =
        vkey.split_once('+').ok_or(NoteError::InvalidVerifierKey("missing `+` separators"))?;
    let (id_hex, key_b64) =
        rest.split_once('+').ok_or(NoteError::InvalidVerifierKey("missing `+` separators"))?;
    let id = parse_key_id(id_hex).ok_or(NoteError::InvalidVerifierKey("bad key id"))?;
    let raw = BASE64.decode(key_b64).map_err(|_| NoteError::InvalidVerifierKey("bad base64"))?;
    let (found, public) = raw.split_first().ok_or(NoteError::InvalidVerifierKey("empty key"))?;
    if *found != alg {
        return Err(NoteError::InvalidVerifierKey(wrong_type));
    }
    let public: &[u8; 32] =
        public.try_into().map_err(|_| NoteError::InvalidVerifierKey("wrong key length"))?;
    check_key_name(name)?;
    let key =
        ed25519_dalek::VerifyingKey::from_bytes(public).map_err(|_| NoteError::InvalidPublicKey)?;
    if key_id(alg, name, public) != id {
        return Err(NoteError::InvalidVerifierKey("key id does not match"));
    }
    Ok((name.to_owned(), key, id))
}

/// Writes a verifier key string (see [`parse_vkey`]).
pub(crate) fn write_vkey(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    id: [u8; KEY_ID_LEN],
    alg: u8,
    public: &[u8; 32],
) -> fmt::Result {
    let mut raw = Vec::with_capacity(33);
    raw.push(alg);
    raw.extend_from_slice(public);
    write!(f, "{name}+")?;
    for b in id {
        write!(f, "{b:02x}")?;
    }
    write!(f, "+{}", BASE64.encode(raw))
}

/// Signs `text` with every key in `signers`, giving the signed note.
///
/// # Errors
/// [`NoteError::InvalidText`] if `text` is empty, lacks its final newline, or holds a blank line
/// or a control character other than newline; [`NoteError::Signer`] if an external signer fails.
pub fn sign_note(text: &str, signers: &[&SigningKey]) -> Result<String, NoteError> {
    check_text(text)?;
    let mut out = String::with_capacity(text.len() + 1 + signers.len() * 100);
    out.push_str(text);
    out.push('\n');
    for s in signers {
        out.push_str(&s.signature_line(text)?);
    }
    Ok(out)
}

/// Checks that `note` carries a valid signature by `verifier` and returns its text.
/// Signatures by other keys are ignored, as the format requires.
///
/// # Errors
/// [`NoteError::Malformed`], [`NoteError::InvalidText`], [`NoteError::TooManySignatures`],
/// [`NoteError::NoSignature`] if `verifier` did not sign, [`NoteError::BadSignature`] if its
/// signature does not verify.
pub fn open_note<'a>(note: &'a str, verifier: &VerifierKey) -> Result<&'a str, NoteError> {
    let split =
        note.rfind("\n\n").ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let text =
        note.get(..=split).ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let signatures = note.get(split + 2..).ok_or(NoteError::Malformed("no signatures"))?;
    check_text(text)?;
    let lines = signatures
        .strip_suffix('\n')
        .ok_or(NoteError::Malformed("signatures must end with a newline"))?;
    let mut verified = false;
    for (count, line) in lines.split('\n').enumerate() {
        if count >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let (name, blob) = parse_signature_line(line)?;
        let Some((id, sig)) = blob.split_first_chunk::<KEY_ID_LEN>() else {
            return Err(NoteError::Malformed("signature shorter than a key id"));
        };
        if name != verifier.name || *id != verifier.id {
            continue;
        }
        let sig = ed25519_dalek::Signature::from_slice(sig)
            .map_err(|_| NoteError::BadSignature(verifier.name.clone()))?;
        verifier
            .key
            .verify_strict(text.as_bytes(), &sig)
            .map_err(|_| NoteError::BadSignature(verifier.name.clone()))?;
        verified = true;
    }
    if verified {
        Ok(text)
    } else {
        Err(NoteError::NoSignature(verifier.name.clone()))
    }
}

/// Splits `— <name> <base64>` into the name and the decoded blob.
pub(crate) fn parse_signature_line(line: &str) -> Result<(&str, Vec<u8>), NoteError> {
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or(NoteError::Malformed("signature line must start with an em dash"))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or(NoteError::Malformed("signature line needs a name and a signature"))?;
    if check_key_name(name).is_err() {
        return Err(NoteError::Malformed("signature line has an invalid key name"));
    }
    let blob = BASE64.decode(b64).map_err(|_| NoteError::Malformed("signature is not base64"))?;
    Ok((name, blob))
}

/// The key id of a key of type `alg`: `SHA-256(name || "\n" || alg || public)[..4]`.
pub(crate) fn key_id(alg: u8, name: &str, public: &[u8; 32]) -> [u8; KEY_ID_LEN] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(public);
    let digest: [u8; 32] = h.finalize().into();
    let mut id = [0u8; KEY_ID_LEN];
    for (dst, src) in id.iter_mut().zip(digest) {
        *dst = src;
    }
    id
}

/// Parses 8 lowercase hex digits.
fn parse_key_id(s: &str) -> Option<[u8; KEY_ID_LEN]> {
    if s.len() != 2 * KEY_ID_LEN || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u32::from_str_radix(s, 16).ok().map(u32::to_be_bytes)
}

/// Key names are non-empty and hold no whitespace and no `+`.
pub(crate) fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::InvalidKeyName(name.to_owned()));
    }
    Ok(())
}

/// Note text is non-empty, ends with a newline, and holds no blank line or control character
/// other than newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    let ok = text.ends_with('\n')
        && !text.starts_with('\n')
        && !text.contains("\n\n")
        && !text.chars().any(|c| c.is_control() && c != '\n');
    if ok {
        Ok(())
    } else {
        Err(NoteError::InvalidText)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let k = SigningKey::from_seed("log", &[7; 32]);
        assert_eq!(k.map(|k| format!("{k:?}")), Ok("[redacted]".to_owned()));
    }

    #[test]
    fn an_external_signer_signs_as_the_local_key_would_and_is_checked() {
        let local = SigningKey::from_seed("log", &[9; 32]).unwrap();
        let public = local.verifier().public_key();
        let held = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let external = SigningKey::external(
            "log",
            &public,
            Arc::new(move |m: &[u8]| Ok(held.sign(m).to_bytes().to_vec())),
        )
        .unwrap();
        assert!(external.is_external() && !local.is_external());
        assert_eq!(external.verifier().to_string(), local.verifier().to_string());
        // Ed25519 is deterministic: the same note.
        let text = "hello\n";
        let signed = sign_note(text, &[&external]).unwrap();
        assert_eq!(signed, sign_note(text, &[&local]).unwrap());
        assert_eq!(open_note(&signed, &external.verifier()), Ok(text));
        // A signer that fails, or signs with another key, signs nothing.
        let failing =
            SigningKey::external("log", &public, Arc::new(|_: &[u8]| Err("token gone".into())))
                .unwrap();
        assert_eq!(sign_note(text, &[&failing]), Err(NoteError::Signer("token gone".into())));
        let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
        let lying = SigningKey::external(
            "log",
            &public,
            Arc::new(move |m: &[u8]| Ok(other.sign(m).to_bytes().to_vec())),
        )
        .unwrap();
        assert!(matches!(sign_note(text, &[&lying]), Err(NoteError::Signer(_))));
    }

    #[test]
    fn key_names_and_texts_are_checked() {
        assert!(SigningKey::from_seed("", &[1; 32]).is_err());
        assert!(SigningKey::from_seed("a b", &[1; 32]).is_err());
        assert!(SigningKey::from_seed("a+b", &[1; 32]).is_err());
        assert!(SigningKey::from_slice("a", &[1; 31]).is_err());
        assert!(check_text("").is_err());
        assert!(check_text("a").is_err());
        assert!(check_text("a\n\nb\n").is_err());
        assert!(check_text("a\tb\n").is_err());
        assert!(check_text("a\nb\n").is_ok());
    }
}
