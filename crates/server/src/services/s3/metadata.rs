//! User metadata (`x-amz-meta-*`) sealed under the account's key
//! ([`crate::support::account_keys`]): an object's (and an upload's) record keeps it only as
//! ciphertext bound to its bucket and key, so reading the database shows none of it. Records
//! written before keep theirs in the clear and are read as they are.

use std::collections::BTreeMap;

use crate::error::ApiError;
use crate::pipeline::State;
use crate::records::s3::Object;
use crate::support::account_keys::{open_text, seal_text};

fn context(bucket: &str, key: &str) -> String {
    format!("hermetic:object-metadata/v1\0{bucket}\0{key}")
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
    let sealing = state.account_keys.of(state.store.as_ref(), &state.root, account)?;
    seal_text(&sealing, &context(bucket, key), metadata, "metadata").map(Some)
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
    let sealing = state.account_keys.of(state.store.as_ref(), &state.root, account)?;
    open_text(&sealing, &context(bucket, key), sealed, "an object's metadata")
}
