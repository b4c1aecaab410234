//! `hermetic trail verify --endpoint URL --state FILE`: a tenant's own check of its audit log,
//! with its own credentials and nothing of the operator's. The first run records the log's
//! signed checkpoint and its verifier key in FILE (trust on first use, or the key given with
//! `--public-key`); each later run checks the new checkpoint's signature against that key, the
//! consistency proof from the checkpoint in FILE to the new one, and the inclusion of the
//! account's recent events (as `LookupEvents` shows them) in the signed log, then advances FILE.
//! A history rewritten (even re-signed by the server), a replaced key, a log cut back and an
//! edited event each fail with the reason.

use crate::client::{self, Endpoint};
use audit::checkpoint::Checkpoint;
use audit::note::VerifierKey;
use base64::Engine;
use serde_json::{json, Value};
use std::path::Path;

/// Where the extension's operations are addressed (signed for `cloudtrail`).
const TARGET: &str = "HermeticCloudTrail";
/// CloudTrail's own operations.
const CLOUDTRAIL: &str = "CloudTrail_20131101";

/// What FILE holds.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct State {
    /// The verifier key pinned at the first run.
    public_key: String,
    /// The checkpoint's origin (`hermetic/ACCOUNT`).
    origin: String,
    /// The last checkpoint seen, as signed.
    checkpoint: String,
}

fn call(
    endpoint: &Endpoint,
    creds: &client::Credentials,
    target: &str,
    input: &Value,
) -> Result<Value, String> {
    client::call_as(endpoint, target, input, creds.signer("cloudtrail"))
        .map_err(|e| format!("{target}: {e}"))
}

fn hashes(answer: &Value) -> Result<Vec<audit::merkle::Hash>, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    answer
        .get("Hashes")
        .and_then(Value::as_array)
        .ok_or("the proof has no hashes")?
        .iter()
        .map(|h| {
            let bytes =
                h.as_str().and_then(|t| b64.decode(t).ok()).ok_or("a proof hash is not base64")?;
            bytes.try_into().map_err(|_| "a proof hash is not 32 bytes".to_string())
        })
        .collect()
}

/// Runs the check; `Ok(summary)` when everything held (FILE advanced), `Err(reason)` otherwise
/// (FILE unchanged).
///
/// `witnesses` are the verifier keys of the witnesses the tenant trusts and how many of them
/// must have cosigned the checkpoint (a checkpoint of a forked history is cosigned by none that
/// saw the other).
pub fn run(
    endpoint: &Endpoint,
    state_file: &Path,
    pinned: Option<&Path>,
    witnesses: (&[String], usize),
) -> Result<String, String> {
    let creds = client::Credentials::from_env()?;
    let previous: Option<State> =
        match std::fs::read_to_string(state_file) {
            Ok(text) => Some(serde_json::from_str(&text).map_err(|e| {
                format!("the state file {} cannot be read: {e}", state_file.display())
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("the state file {}: {e}", state_file.display())),
        };
    let latest = call(endpoint, &creds, &format!("{TARGET}.GetLogCheckpoint"), &json!({}))?;
    let note =
        latest.get("Checkpoint").and_then(Value::as_str).ok_or("no checkpoint in the answer")?;
    let served_key = latest.get("PublicKey").and_then(Value::as_str).unwrap_or_default();
    let key_text = match (pinned, &previous) {
        (Some(path), _) => std::fs::read_to_string(path)
            .map_err(|e| format!("the public key {}: {e}", path.display()))?
            .trim()
            .to_string(),
        (None, Some(p)) => p.public_key.clone(),
        (None, None) => served_key.to_string(),
    };
    if let Some(p) = &previous {
        if p.public_key != key_text {
            return Err(format!(
                "the pinned key differs from the one in the state file {}",
                state_file.display()
            ));
        }
    }
    if served_key != key_text {
        return Err(format!(
            "the log is signed with another key than the pinned one: the server's is `{served_key}`, the pinned `{key_text}` (a replaced signing key)"
        ));
    }
    let verifier = VerifierKey::parse(&key_text).map_err(|e| format!("the pinned key: {e}"))?;
    // The origin is the account's; the first run takes it from the checkpoint itself.
    let origin = match &previous {
        Some(p) => p.origin.clone(),
        None => audit::note::open_note(note, &verifier)
            .ok()
            .and_then(|body| body.lines().next().map(str::to_string))
            .filter(|o| o.starts_with("hermetic/"))
            .ok_or("the checkpoint is not signed by the pinned key")?,
    };
    let new = Checkpoint::open(note, &origin, &verifier)
        .map_err(|e| format!("the checkpoint does not verify with the pinned key: {e}"))?;
    let (keys, quorum) = witnesses;
    let mut cosigned = 0;
    for k in keys {
        let w = audit::witness::WitnessVerifier::parse(k.trim())
            .map_err(|e| format!("the witness key `{k}`: {e}"))?;
        cosigned += usize::from(w.cosigned(note).is_some());
    }
    if cosigned < quorum {
        return Err(format!(
            "the checkpoint of {} events is cosigned by {cosigned} of the witnesses, fewer than the quorum of {quorum}: no witness vouches that it extends what they saw",
            new.size()
        ));
    }
    if let Some(p) = &previous {
        let old = Checkpoint::open(&p.checkpoint, &origin, &verifier)
            .map_err(|e| format!("the state file's checkpoint does not verify: {e}"))?;
        if new.size() < old.size() {
            return Err(format!(
                "the log has {} events, fewer than the {} of the checkpoint last seen: its history was cut back or rewritten",
                new.size(),
                old.size()
            ));
        }
        if new.size() == old.size() && new.root() != old.root() {
            return Err(format!(
                "two different logs of {} events were signed: a forked history",
                new.size()
            ));
        }
        if new.size() > old.size() {
            let proof = call(
                endpoint,
                &creds,
                &format!("{TARGET}.GetLogConsistencyProof"),
                &json!({ "FirstSize": old.size(), "SecondSize": new.size() }),
            )?;
            old.verify_extended_by(&new, &hashes(&proof)?).map_err(|e| {
                format!(
                    "the log of {} events does not extend the {} seen before ({e}): its history was rewritten",
                    new.size(),
                    old.size()
                )
            })?;
        }
    }
    let checked = check_events(endpoint, &creds, &new)?;
    let state = State { public_key: key_text, origin, checkpoint: note.to_string() };
    let text = serde_json::to_string_pretty(&state).map_err(|e| e.to_string())?;
    let temp = state_file.with_extension("tmp");
    std::fs::write(&temp, text)
        .and_then(|()| std::fs::rename(&temp, state_file))
        .map_err(|e| format!("the state file {}: {e}", state_file.display()))?;
    Ok(format!(
        "{}: {} events, checkpoint verified{}; {checked} recent events proven in it",
        new.origin(),
        new.size(),
        if previous.is_some() {
            " and consistent with the last one seen"
        } else {
            " (first run: recorded)"
        },
    ))
}

/// Proves the account's newest events (LookupEvents' first page) in the signed log: each one
/// the checkpoint covers must be there, as shown.
fn check_events(
    endpoint: &Endpoint,
    creds: &client::Credentials,
    cp: &Checkpoint,
) -> Result<usize, String> {
    let page =
        call(endpoint, creds, &format!("{CLOUDTRAIL}.LookupEvents"), &json!({ "MaxResults": 50 }))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut proven = 0;
    for e in page.get("Events").and_then(Value::as_array).into_iter().flatten() {
        let id = e.get("EventId").and_then(Value::as_str).unwrap_or_default();
        let shown: Value = e
            .get("CloudTrailEvent")
            .and_then(Value::as_str)
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(Value::Null);
        let answer = match call(
            endpoint,
            creds,
            &format!("{TARGET}.GetLogInclusionProof"),
            &json!({ "EventId": id, "TreeSize": cp.size() }),
        ) {
            Ok(a) => a,
            // Logged after the checkpoint: the next run proves it.
            Err(e) if e.contains("EventNotFoundException") => {
                let time = shown.get("eventTime").and_then(Value::as_str).unwrap_or_default();
                let at = audit::event::EventTime::parse(time).map(|t| t.unix_seconds() * 1000);
                if at.is_ok_and(|ms| ms + 1000 < cp.timestamp_ms()) {
                    return Err(format!(
                        "event {id} is older than the checkpoint but not in the signed log: it was inserted or edited"
                    ));
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        let data = answer
            .get("LeafData")
            .and_then(Value::as_str)
            .and_then(|t| b64.decode(t).ok())
            .ok_or("the proof has no leaf")?;
        let index =
            answer.get("LeafIndex").and_then(Value::as_u64).ok_or("the proof has no index")?;
        cp.verify_inclusion(&audit::merkle::leaf_hash(&data), index, &hashes(&answer)?).map_err(|err| {
            format!("event {id} (position {index}) is not in the signed log as stored: it was edited ({err})")
        })?;
        // The stored event is the one shown (its parameters are sealed in the log; the rest is
        // compared as is).
        let stored: Value = serde_json::from_slice(&data).map_err(|_| "a leaf is not an event")?;
        for field in [
            "eventID",
            "eventName",
            "eventSource",
            "eventTime",
            "userIdentity",
            "sourceIPAddress",
            "errorCode",
        ] {
            if stored.get(field) != shown.get(field) {
                return Err(format!(
                    "event {id}: `{field}` differs between LookupEvents and the signed log: it was edited"
                ));
            }
        }
        proven += 1;
    }
    Ok(proven)
}
