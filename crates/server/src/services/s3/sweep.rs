//! The blob sweeper: removes blobs that no record names. They are what a crash leaves
//! between writing a blob and committing the record that names it (and `.tmp` files cut off
//! mid-write) or a commit whose outcome the store could not tell. Deletes, overwrites,
//! replaced `null` versions and parts uploaded again under their number remove the blobs they
//! drop once they commit; a request that fails after writing its blob removes that blob.
//!
//! The same pass forgets completed multipart uploads once they are a day old
//! ([`crate::records::s3::CompletedUpload`]).
//!
//! A blob is only a candidate once it is older than the grace period: a request in flight may
//! have written its blob and not yet committed. The records consulted are read in one snapshot,
//! so a blob that moves from one record to another meanwhile (a part becoming part of a
//! completed object) is seen in one of them.

use crate::error::ApiError;
use crate::pipeline::State;
use crate::records::s3::{Object, Part, Version};
use crate::records::Stored;
use std::collections::HashSet;
use std::time::{Duration, SystemTime};

/// Sweeps every account's blobs; returns how many it removed.
///
/// # Errors
/// A store or blob-store failure (nothing more is removed for the account being swept).
pub fn sweep(state: &State, now: SystemTime, grace: Duration) -> Result<usize, ApiError> {
    let unavailable = |_| ApiError::unavailable("the blob store could not be listed");
    let accounts = state.blobs.accounts().map_err(unavailable)?;
    let cutoff = now.checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH);
    let now_ms = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let mut removed = 0;
    for account in accounts {
        // Completed uploads are remembered for a day (they name no blob).
        super::multipart::expire_completions(state, &account, now_ms)?;
        // Blobs old enough first, then the snapshot: a blob listed here was written before
        // the snapshot began, so a record naming it that committed is in the snapshot.
        let old: Vec<String> = state
            .blobs
            .list(&account)
            .map_err(unavailable)?
            .into_iter()
            .filter(|blob| blob.modified < cutoff)
            .map(|blob| blob.name)
            .collect();
        if old.is_empty() {
            continue;
        }
        let named = kept_blobs(state, &account)?;
        for name in old {
            let blob = store::BlobRef { account: account.clone(), name };
            if !named.contains(&blob.name) && state.blobs.delete(&blob).is_ok() {
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Every blob name the account's records hold (objects, versions and parts) and every blob
/// queued for deletion (the deleter's, after the read grace), read in one snapshot: a commit
/// that drops a blob queues it in the same transaction, so the snapshot sees the blob in one or
/// the other. A record that does not read fails the sweep of the account: nothing is removed
/// on a guess.
fn kept_blobs(state: &State, account: &str) -> Result<HashSet<String>, ApiError> {
    let mut tx = state.store.read()?;
    let mut named: HashSet<String> = tx.queued_blob_deletions(account)?.into_iter().collect();
    named.extend(named_blobs(tx.as_mut(), account)?);
    Ok(named)
}

/// Every blob name the account's records hold (objects, versions and parts) in `tx`'s snapshot.
fn named_blobs(tx: &mut dyn store::ReadTx, account: &str) -> Result<HashSet<String>, ApiError> {
    let mut named = HashSet::new();
    for object in Stored::<Object>::list(tx, account, "", usize::MAX)? {
        named.extend(object.body.parts.into_iter().map(|p| p.blob));
    }
    for version in Stored::<Version>::list(tx, account, "", usize::MAX)? {
        named.extend(version.body.0.parts.into_iter().map(|p| p.blob));
    }
    for part in Stored::<Part>::list(tx, account, "", usize::MAX)? {
        named.insert(part.body.part.blob);
    }
    Ok(named)
}

/// Queued deletions handled per pass (the rest wait for the next).
const DELETE_BATCH: usize = 1000;

/// The deleter: removes the blobs commits dropped and queued (a blob store with deferred
/// deletion) once they were dropped more than `read_grace` before `now_ms`, then forgets them;
/// returns how many it removed. A queued blob that a record names after all (a row the
/// operator planted in the queue, which is not authenticated) is only forgotten, never
/// deleted. A blob that fails to go stays queued for the next pass.
///
/// # Errors
/// A store failure (what was removed before it stays removed and forgotten).
pub fn delete_dropped(state: &State, now_ms: i64, read_grace: Duration) -> Result<usize, ApiError> {
    let grace_ms = i64::try_from(read_grace.as_millis()).unwrap_or(i64::MAX);
    let due =
        state.store.read()?.due_blob_deletions(now_ms.saturating_sub(grace_ms), DELETE_BATCH)?;
    let mut by_account: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for garbage in due {
        by_account.entry(garbage.account).or_default().push(garbage.name);
    }
    let mut removed = 0;
    for (account, names) in by_account {
        let named = named_blobs(state.store.read()?.as_mut(), &account)?;
        for name in names {
            let blob = store::BlobRef { account: account.clone(), name };
            if !named.contains(&blob.name) {
                if state.blobs.delete(&blob).is_err() {
                    continue;
                }
                removed += 1;
            }
            store::with_retries(state.store.as_ref(), 3, |tx| {
                tx.forget_blob_deletion(&blob.account, &blob.name)
            })?;
        }
    }
    Ok(removed)
}
