//! The keys that sign trails' digest files (SHA256withRSA, as AWS signs them). A key signs for
//! a rotation period, then the next one takes over; `ListPublicKeys` serves every public key
//! whose validity overlaps the asked range, so digests signed by a retired key still verify.
//! With an HSM root of trust (PKCS#11) a key is made in the HSM, non-extractable, and signs
//! there; otherwise its private half is kept sealed by the root of trust, bound to its
//! fingerprint. Either way the data directory and the database hold no usable signing key.

use crate::error::ApiError;
use crate::pipeline::identity::OPERATOR_ACCOUNT;
use crate::pipeline::State;
use crate::records::cloudtrail::DigestKey;
use crate::records::Stored;
use base64::Engine;
use crypto::kms::asymmetric::{self, AsymmetricSpec, MessageType, SigningAlgorithm};
use md5::{Digest, Md5};
use serde_json::{json, Value};
use store::PutMode;

/// A key no record has, locked while a new digest key is made (one at a time).
const LOCK: (&str, &str) = ("digest_key_lock", "digest-keys");
/// Most digest keys listed.
const MAX_KEYS: usize = 10_000;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn sealing_context(fingerprint: &str) -> Vec<u8> {
    format!("hermetic:cloudtrail-digest-key/v1\0{fingerprint}").into_bytes()
}

/// Where a signing key's private half is.
enum Private {
    /// Opened from its sealed form, in memory.
    Opened(crypto::SecretBytes),
    /// In the HSM, under this label: it signs there.
    Held(String),
}

/// The key signing digests now.
pub(crate) struct Signer {
    pub fingerprint: String,
    private: Private,
}

impl Signer {
    /// Signs `message` (SHA256withRSA, PKCS #1 v1.5).
    pub fn sign(&self, state: &State, message: &[u8]) -> Result<Vec<u8>, ApiError> {
        let failed = |_| ApiError::unavailable("the digest could not be signed");
        match &self.private {
            Private::Opened(key) => asymmetric::sign(
                AsymmetricSpec::Rsa2048,
                key.expose(),
                SigningAlgorithm::RsassaPkcs1V15Sha256,
                message,
                MessageType::Raw,
            )
            .map_err(|_| ApiError::unavailable("the digest could not be signed")),
            Private::Held(label) => {
                crypto::RootOfTrust::sign_rsa_sha256(&state.root, label, message).map_err(failed)
            }
        }
    }
}

/// A key's fingerprint: the MD5 of its PKCS #1 public key, hex.
fn fingerprint(public_pkcs1: &[u8]) -> String {
    super::delivery::hex(&Md5::digest(public_pkcs1))
}

fn open(state: &State, key: &Stored<DigestKey>) -> Result<Signer, ApiError> {
    if let Some(label) = &key.body.held_label {
        return Ok(Signer { fingerprint: key.key.clone(), private: Private::Held(label.clone()) });
    }
    let sealed = b64()
        .decode(&key.body.sealed_private_key)
        .map_err(|_| ApiError::unavailable("a digest key could not be read"))?;
    let private = crypto::RootOfTrust::unwrap(&state.root, &sealing_context(&key.key), &sealed)
        .map_err(|_| ApiError::unavailable("a digest key could not be opened"))?;
    // The record's public key must be the sealed private key's.
    let public = asymmetric::rsa_public_pkcs1_der(private.expose())
        .map_err(|_| ApiError::unavailable("a digest key could not be opened"))?;
    if fingerprint(&public) != key.key || b64().encode(&public) != key.body.public_key {
        return Err(ApiError::unavailable("a digest key does not match its public key"));
    }
    Ok(Signer { fingerprint: key.key.clone(), private: Private::Opened(private) })
}

fn valid_at(key: &Stored<DigestKey>, now: i64) -> bool {
    key.body.valid_from_ms <= now && now < key.body.valid_until_ms
}

/// The key that signs digests at `now`, made (and the last one retired) when there is none.
pub(crate) fn current(state: &State, now: i64) -> Result<Signer, ApiError> {
    let newest = |keys: Vec<Stored<DigestKey>>| {
        keys.into_iter().filter(|k| valid_at(k, now)).max_by_key(|k| k.body.valid_from_ms)
    };
    {
        let mut tx = state.store.read()?;
        let keys = Stored::<DigestKey>::list(tx.as_mut(), OPERATOR_ACCOUNT, "", MAX_KEYS)?;
        if let Some(key) = newest(keys) {
            return open(state, &key);
        }
    }
    let mut tx = state.store.begin()?;
    tx.get_record_for_update(OPERATOR_ACCOUNT, LOCK.0, LOCK.1)?;
    let keys = Stored::<DigestKey>::list(tx.as_mut(), OPERATOR_ACCOUNT, "", MAX_KEYS)?;
    if let Some(key) = newest(keys) {
        return open(state, &key);
    }
    let unavailable = |_| ApiError::unavailable("a digest key could not be made");
    // An HSM makes the key and keeps it; otherwise it is made here and kept sealed.
    let label = format!("hermetic-digest-{}", crate::support::ids::uuid());
    let held = crypto::RootOfTrust::create_rsa_signing_key(&state.root, &label)
        .map_err(|_| ApiError::unavailable("the root of trust is unavailable"))?;
    let (public, private, sealed) = match held {
        Some(public) => (public, Private::Held(label.clone()), String::new()),
        None => {
            let private = asymmetric::generate(AsymmetricSpec::Rsa2048).map_err(unavailable)?;
            let public = asymmetric::rsa_public_pkcs1_der(private.expose()).map_err(unavailable)?;
            let context = sealing_context(&fingerprint(&public));
            let sealed = crypto::RootOfTrust::wrap(&state.root, &context, private.expose())
                .map_err(|_| ApiError::unavailable("the root of trust is unavailable"))?;
            (public, Private::Opened(private), b64().encode(sealed))
        }
    };
    let print = fingerprint(&public);
    let rotation = i64::try_from(state.config.trail_key_rotation.as_millis()).unwrap_or(i64::MAX);
    let held_label = matches!(private, Private::Held(_)).then_some(label);
    let body = DigestKey {
        public_key: b64().encode(&public),
        sealed_private_key: sealed,
        held_label,
        valid_from_ms: now,
        valid_until_ms: now.saturating_add(rotation),
    };
    Stored::new(OPERATOR_ACCOUNT, &print, body, now)
        .put(tx.as_mut(), PutMode::Create)
        .map_err(ApiError::from)?;
    tx.commit().map_err(|_| ApiError::unavailable("the change could not be committed"))?;
    Ok(Signer { fingerprint: print, private })
}

/// `ListPublicKeys`: every digest key valid at some time of `[start_ms, end_ms]`, oldest first.
/// `Value` is the PKCS #1 DER (a blob: base64 in the JSON, which aws-cli keeps as text and
/// decodes itself).
pub(crate) fn list_public_keys(
    state: &State,
    start_ms: i64,
    end_ms: i64,
) -> Result<Value, ApiError> {
    let mut tx = state.store.read()?;
    let mut keys = Stored::<DigestKey>::list(tx.as_mut(), OPERATOR_ACCOUNT, "", MAX_KEYS)?;
    keys.retain(|k| k.body.valid_from_ms <= end_ms && k.body.valid_until_ms >= start_ms);
    keys.sort_by_key(|k| k.body.valid_from_ms);
    let list: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "Value": k.body.public_key,
                "ValidityStartTime": crate::support::time::epoch_seconds(k.body.valid_from_ms),
                "ValidityEndTime": crate::support::time::epoch_seconds(k.body.valid_until_ms),
                "Fingerprint": k.key,
            })
        })
        .collect();
    Ok(json!({ "PublicKeyList": list }))
}
