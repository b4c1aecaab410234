//! User metadata (`x-amz-meta-*`) sealed under the account's key
//! ([`crate::support::account_keys`]): an object's (and an upload's) record keeps it only as
//! ciphertext bound to its bucket and key, so reading the database shows none of it. Records
//! written before keep theirs in the clear and are read as they are.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use crypto::RootOfTrust;

use crate::error::ApiError;
use crate::pipeline::State;
use crate::records::s3::Object;

fn context(bucket: &str, key: &str) -> String {
    format!("hermetic:object-metadata/v1\0{bucket}\0{key}")
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn account_key(state: &State, account: &str) -> Result<Arc<crypto::RootKey>, ApiError> {
    match state.account_keys.cached(account) {
        Some(key) => Ok(key),
        None => state.account_keys.get(state.store.read()?.as_mut(), &state.root, account),
    }
}

/// `metadata` sealed for object `key` of `bucket` (owned by `account`); `None` when empty.
pub(super) fn seal(
    state: &State,
    account: &str,
    bucket: &str,
    key: &str,
    metadata: &BTreeMap<String, String>,
) -> Result<Option<String>, ApiError> {
    if metadata.is_empty() {
        return Ok(None);
    }
    let bytes = serde_json::to_vec(metadata)
        .map_err(|_| ApiError::unavailable("the metadata could not be sealed"))?;
    let sealed = account_key(state, account)?
        .wrap(context(bucket, key).as_bytes(), &bytes)
        .map_err(|_| ApiError::unavailable("the metadata could not be sealed"))?;
    Ok(Some(b64().encode(sealed)))
}

/// The user metadata of `object` (key `key` of `bucket`, owned by `account`).
pub(super) fn open(
    state: &State,
    account: &str,
    bucket: &str,
    key: &str,
    object: &Object,
) -> Result<BTreeMap<String, String>, ApiError> {
    let Some(sealed) = &object.sealed_metadata else {
        return Ok(object.metadata.clone());
    };
    let refused = || ApiError::internal("an object's metadata failed its integrity check");
    let wrapped = b64().decode(sealed).map_err(|_| refused())?;
    let bytes = account_key(state, account)?
        .unwrap(context(bucket, key).as_bytes(), &wrapped)
        .map_err(|_| refused())?;
    serde_json::from_slice(bytes.expose()).map_err(|_| refused())
}
