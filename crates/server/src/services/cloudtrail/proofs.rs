//! Proofs for tenants (issue 17): an extension of CloudTrail, documented in API.md, that lets an
//! account check its own audit log without trusting the operator. `GetLogCheckpoint` answers
//! the latest signed checkpoint of the caller's log (a C2SP signed note) and the verifier key;
//! `GetLogInclusionProof` the RFC 6962 inclusion proof of one event (by id or position) in the
//! first `TreeSize` events, with the event as the log stores it (its parameters sealed);
//! `GetLogConsistencyProof` the proof that one size's tree extends another's. A tenant keeps
//! the checkpoints it saw (`hermetic trail verify --endpoint`): a rewritten history, a replaced
//! key or an edited event then fails one of the proofs.

use super::err;
use crate::error::ApiError;
use crate::pipeline::service::Ctx;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Events searched per read when an inclusion proof is asked by event id.
const SEARCH_BATCH: u64 = 512;

/// `GetLogInclusionProof`'s input: `EventId` or `LeafIndex`, and the tree size to prove in.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct Inclusion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    leaf_index: Option<u64>,
    tree_size: u64,
}

/// `GetLogConsistencyProof`'s input.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct Consistency {
    first_size: u64,
    second_size: u64,
}

/// `GetLogCheckpoint`'s input (none).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Latest {}

/// Reads an extension operation's input (not in AWS's model): its members, or
/// `ValidationException`.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: &Value) -> Result<T, ApiError> {
    serde_json::from_value(body.clone())
        .map_err(|e| ApiError::sender(400, "ValidationException", format!("invalid input: {e}")))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn invalid(message: impl Into<String>) -> ApiError {
    err("InvalidParameterException", message)
}

/// `GetLogCheckpoint`: the newest signed checkpoint of the caller's log.
pub(crate) fn checkpoint(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let account = &ctx.caller.account;
    let latest = ctx.read(|tx| Ok(tx.latest_checkpoint(account)?))?;
    let Some(cp) = latest else {
        return Err(err(
            "CheckpointNotFoundException",
            "The account's log has no signed checkpoint yet.",
        ));
    };
    Ok(json!({
        "Checkpoint": cp.note,
        "TreeSize": cp.size,
        "PublicKey": ctx.state.checkpoint_key.verifier().to_string(),
    }))
}

/// `GetLogInclusionProof`.
pub(crate) fn inclusion(ctx: &Ctx<'_>, input: &Inclusion) -> Result<Value, ApiError> {
    let account = &ctx.caller.account;
    let size = input.tree_size;
    ctx.read(|tx| {
        let head = tx.audit_head(account)?.size;
        if size == 0 || size > head {
            return Err(invalid(format!("TreeSize must be between 1 and the log's size, {head}")));
        }
        let (index, data) = match (&input.event_id, input.leaf_index) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(invalid("Give exactly one of EventId and LeafIndex."))
            }
            (None, Some(i)) if i >= size => {
                return Err(invalid("LeafIndex must be below TreeSize."))
            }
            (None, Some(i)) => {
                let found = tx.audit_events(account, i..i + 1)?;
                let event = found.into_iter().next().ok_or_else(|| invalid("no such leaf"))?;
                (i, event.event)
            }
            (Some(id), None) => {
                // Newest first, as the event asked for is most likely recent.
                let needle =
                    format!("\"eventID\":{}", serde_json::to_string(id).unwrap_or_default());
                let mut end = size;
                loop {
                    if end == 0 {
                        return Err(err(
                            "EventNotFoundException",
                            format!("No event {id} in the first {size} events of the log."),
                        ));
                    }
                    let start = end.saturating_sub(SEARCH_BATCH);
                    let batch = tx.audit_events(account, start..end)?;
                    let hit = batch
                        .into_iter()
                        .rev()
                        .find(|e| e.event.windows(needle.len()).any(|w| w == needle.as_bytes()));
                    if let Some(e) = hit {
                        break (e.seq, e.event);
                    }
                    end = start;
                }
            }
        };
        let proof = tx.audit_inclusion_proof(account, index, size)?;
        let hashes: Vec<String> = proof.iter().map(|h| b64(h)).collect();
        Ok(json!({
            "LeafIndex": index,
            "TreeSize": size,
            "LeafData": b64(&data),
            "Hashes": hashes,
        }))
    })
}

/// `GetLogConsistencyProof`.
pub(crate) fn consistency(ctx: &Ctx<'_>, input: &Consistency) -> Result<Value, ApiError> {
    let account = &ctx.caller.account;
    ctx.read(|tx| {
        let head = tx.audit_head(account)?.size;
        if input.first_size > input.second_size || input.second_size > head {
            return Err(invalid(format!(
                "FirstSize must not exceed SecondSize, nor SecondSize the log's size, {head}"
            )));
        }
        let proof = tx.audit_consistency_proof(account, input.first_size, input.second_size)?;
        let hashes: Vec<String> = proof.iter().map(|h| b64(h)).collect();
        Ok(json!({
            "FirstSize": input.first_size,
            "SecondSize": input.second_size,
            "Hashes": hashes,
        }))
    })
}
