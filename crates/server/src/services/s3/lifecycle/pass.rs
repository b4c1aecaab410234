//! The lifecycle pass: S3 applying its tenants' lifecycle rules itself, on the server's timer.
//! Every account's buckets with rules are read on a snapshot to plan what is due; each action
//! then runs in a transaction of its own that holds the bucket, reads the rules and the object,
//! version or upload again under their locks (a write since the plan may have replaced it, the
//! rules may have changed), acts only if it is still due, and appends its event to the bucket
//! owner's log in the same transaction: S3's own action (`userIdentity.type` `AWSService`,
//! `invokedBy` `s3.amazonaws.com`, `eventType` `AwsServiceEvent`), naming the object, the
//! version or upload and the rule. Blobs the action drops go once it has committed.
//!
//! The actions are the ones a request would take, through the same code: an expiring current
//! object is deleted as a DeleteObject without a version id deletes it (gone without
//! versioning, a delete marker with it, the `null` marker while suspended); a noncurrent
//! version or a lone delete marker is deleted as a DeleteObject of that version id; an upload is
//! aborted as AbortMultipartUpload aborts it.
//!
//! Fail closed: a record that does not read (an edited row, a record of an unknown format)
//! fails what needed it (that account's or bucket's plan, or that action), which is skipped;
//! nothing is deleted on a guess, and the other accounts and buckets go on.

use super::rules::{self, Facts, Subject};
use crate::error::ApiError;
use crate::pipeline::events::{self, RequestFacts};
use crate::pipeline::service::Effect;
use crate::pipeline::State;
use crate::records::s3::Object;
use crate::services::s3::multipart::UploadRecord;
use crate::services::s3::objects::{object_key, ObjectRecord};
use crate::services::s3::versions::{self, VersionRecord};
use crate::services::s3::{delete, hold_bucket, multipart, Bucket};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use store::BlobRef;

/// Who acts: S3 itself.
const S3: &str = "s3.amazonaws.com";

/// One thing a pass is to do.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    /// The current object of `key` expires.
    Expire { key: String },
    /// Version `version_id` of `key`, noncurrent, goes for good.
    ExpireNoncurrent { key: String, version_id: String },
    /// The delete marker `version_id`, the only version of `key` left, goes.
    RemoveMarker { key: String, version_id: String },
    /// The multipart upload `upload_id` of `key` is aborted.
    Abort { key: String, upload_id: String },
}

impl Action {
    /// The event's name.
    fn event_name(&self) -> &'static str {
        match self {
            Action::Expire { .. } => "S3LifecycleExpiration",
            Action::ExpireNoncurrent { .. } => "S3LifecycleNoncurrentExpiration",
            Action::RemoveMarker { .. } => "S3LifecycleExpiredDeleteMarker",
            Action::Abort { .. } => "S3LifecycleAbortMultipartUpload",
        }
    }

    /// The object key it acts on.
    fn key(&self) -> &str {
        match self {
            Action::Expire { key }
            | Action::ExpireNoncurrent { key, .. }
            | Action::RemoveMarker { key, .. }
            | Action::Abort { key, .. } => key,
        }
    }
}

/// What an applied action did, for its event and for after its commit.
struct Done {
    /// The rule that made it due.
    rule_id: String,
    /// The version it expired or removed (the current object's, if it had one).
    version_id: Option<String>,
    /// The upload it aborted.
    upload_id: Option<String>,
    /// The delete marker an expiration wrote.
    marker: Option<String>,
    /// Blob files no record names once the action has committed.
    garbage: Vec<BlobRef>,
}

/// Applies what every bucket's lifecycle rules make due at `now_ms`, a lifecycle day lasting
/// `day_ms` (a real day, except in tests); returns how many actions it applied. What fails is
/// skipped (see the module's documentation) and tried again by the next pass.
///
/// # Errors
/// A store failure listing the accounts.
pub fn pass(state: &State, now_ms: i64, day_ms: i64) -> Result<usize, ApiError> {
    let accounts = {
        let mut tx = state.store.read()?;
        crate::checkpoints::accounts(tx.as_mut())?
    };
    // An account whose buckets do not read is skipped; the others go on. The operator realm
    // has no buckets.
    Ok(accounts
        .iter()
        .filter(|a| a.as_str() != crate::pipeline::identity::OPERATOR_ACCOUNT)
        .map(|a| account_pass(state, a, now_ms, day_ms).unwrap_or(0))
        .sum())
}

/// One account's buckets with rules; returns how many actions were applied.
fn account_pass(state: &State, account: &str, now_ms: i64, day_ms: i64) -> Result<usize, ApiError> {
    let buckets = {
        let mut tx = state.store.read()?;
        Bucket::list(tx.as_mut(), account, "", usize::MAX)?
    };
    let mut applied = 0;
    for bucket in buckets.iter().filter(|b| b.body.lifecycle.is_some()) {
        // A bucket whose records do not read is skipped, and so is an action that fails.
        let Ok(actions) = plan(state, bucket, now_ms, day_ms) else { continue };
        for action in &actions {
            if apply(state, bucket, action, now_ms, day_ms).unwrap_or(false) {
                applied += 1;
            }
        }
    }
    Ok(applied)
}

/// What the filters see of an object or version.
fn facts(object: &Object) -> Facts<'_> {
    Facts { key: &object.key, size: Some(object.size), tags: &object.tags }
}

/// Each version's last-modified time and whether it is a delete marker, newest first (what
/// [`rules::version_subject`] places a version by).
fn shape(newest_first: &[VersionRecord]) -> Vec<(i64, bool)> {
    newest_first.iter().map(|v| (v.body.0.last_modified_ms, v.body.0.delete_marker)).collect()
}

/// What is due in `bucket`, read on one snapshot: current objects to expire, noncurrent
/// versions and lone delete markers to remove, uploads to abort.
fn plan(state: &State, bucket: &Bucket, now_ms: i64, day_ms: i64) -> Result<Vec<Action>, ApiError> {
    let Some(lifecycle) = &bucket.body.lifecycle else { return Ok(Vec::new()) };
    let mut tx = state.store.read()?;
    let prefix = format!("{}/", bucket.key);
    let mut actions = Vec::new();
    for current in ObjectRecord::list(tx.as_mut(), &bucket.account, &prefix, usize::MAX)? {
        let object = &current.body;
        let subject = Subject::Current { last_modified_ms: object.last_modified_ms };
        if !object.delete_marker
            && rules::due(lifecycle, subject, facts(object), now_ms, day_ms).is_some()
        {
            actions.push(Action::Expire { key: object.key.clone() });
        }
    }
    // Only a bucket that has had versioning has versions.
    if bucket.body.versioning.is_some() {
        let all = versions::of_bucket(tx.as_mut(), bucket)?;
        for of_key in all.chunk_by(|a, b| a.body.0.key == b.body.0.key) {
            let shape = shape(of_key);
            for (index, version) in of_key.iter().enumerate() {
                let object = &version.body.0;
                let (Some(subject), Some(version_id)) =
                    (rules::version_subject(&shape, index), object.version_id.clone())
                else {
                    continue;
                };
                if rules::due(lifecycle, subject, facts(object), now_ms, day_ms).is_none() {
                    continue;
                }
                let key = object.key.clone();
                actions.push(match subject {
                    Subject::LoneMarker => Action::RemoveMarker { key, version_id },
                    _ => Action::ExpireNoncurrent { key, version_id },
                });
            }
        }
    }
    let none = BTreeMap::new();
    for upload in UploadRecord::list(tx.as_mut(), &bucket.account, &prefix, usize::MAX)? {
        let upload = &upload.body;
        let subject = Subject::Upload { created_ms: upload.created_ms };
        let seen = Facts { key: &upload.key, size: None, tags: &none };
        if rules::due(lifecycle, subject, seen, now_ms, day_ms).is_some() {
            actions.push(Action::Abort {
                key: upload.key.clone(),
                upload_id: upload.upload_id.clone(),
            });
        }
    }
    Ok(actions)
}

/// Applies `action` in a transaction of its own if it is still due (see the module's
/// documentation); returns whether it was applied.
fn apply(
    state: &State,
    found: &Bucket,
    action: &Action,
    now_ms: i64,
    day_ms: i64,
) -> Result<bool, ApiError> {
    let mut tx = state.store.begin()?;
    // The bucket as it is now, held against DeleteBucket and configuration changes until the
    // action commits (gone, or deleted and made again: nothing happens).
    let bucket = hold_bucket(tx.as_mut(), found)?;
    let Some(lifecycle) = bucket.body.lifecycle.clone() else { return Ok(false) };
    let key = action.key();
    let done = match action {
        Action::Expire { .. } => {
            let record_key = object_key(&bucket, key);
            let Some(current) =
                ObjectRecord::get_for_update(tx.as_mut(), &bucket.account, &record_key)?
            else {
                return Ok(false);
            };
            let object = &current.body;
            let subject = Subject::Current { last_modified_ms: object.last_modified_ms };
            let Some(rule) = rules::due(&lifecycle, subject, facts(object), now_ms, day_ms) else {
                return Ok(false);
            };
            let (marker, garbage) = delete::delete_current(tx.as_mut(), &bucket, key, now_ms)?;
            Done {
                rule_id: rule.id.clone(),
                version_id: object.version_id.clone(),
                upload_id: None,
                marker,
                garbage,
            }
        }
        Action::ExpireNoncurrent { version_id, .. } | Action::RemoveMarker { version_id, .. } => {
            // The key's current object first, as every version write locks it.
            ObjectRecord::get_for_update(tx.as_mut(), &bucket.account, &object_key(&bucket, key))?;
            let of_key = versions::of_key(tx.as_mut(), &bucket, key)?;
            let Some(index) = of_key
                .iter()
                .position(|v| v.body.0.version_id.as_deref() == Some(version_id.as_str()))
            else {
                return Ok(false);
            };
            let (Some(subject), Some(version)) =
                (rules::version_subject(&shape(&of_key), index), of_key.get(index))
            else {
                return Ok(false);
            };
            // Still what was planned: a noncurrent version has not become a lone marker's
            // place, nor the reverse.
            if (subject == Subject::LoneMarker) != matches!(action, Action::RemoveMarker { .. }) {
                return Ok(false);
            }
            let Some(rule) =
                rules::due(&lifecycle, subject, facts(&version.body.0), now_ms, day_ms)
            else {
                return Ok(false);
            };
            let rule_id = rule.id.clone();
            let Some((_, garbage)) =
                delete::delete_version(tx.as_mut(), &bucket, (key, version_id, false), now_ms)?
            else {
                return Ok(false);
            };
            Done {
                rule_id,
                version_id: Some(version_id.clone()),
                upload_id: None,
                marker: None,
                garbage,
            }
        }
        Action::Abort { upload_id, .. } => {
            let upload_key = format!("{}/{key}/{upload_id}", bucket.key);
            let Some(upload) =
                UploadRecord::get_for_update(tx.as_mut(), &bucket.account, &upload_key)?
            else {
                return Ok(false);
            };
            let none = BTreeMap::new();
            let subject = Subject::Upload { created_ms: upload.body.created_ms };
            let seen = Facts { key, size: None, tags: &none };
            let Some(rule) = rules::due(&lifecycle, subject, seen, now_ms, day_ms) else {
                return Ok(false);
            };
            let rule_id = rule.id.clone();
            let garbage = multipart::abort_upload(tx.as_mut(), &bucket.account, &upload_key)?;
            Done {
                rule_id,
                version_id: None,
                upload_id: Some(upload_id.clone()),
                marker: None,
                garbage,
            }
        }
    };
    append_event(state, tx.as_mut(), &bucket, action.event_name(), key, &done, now_ms)?;
    let mut effect = Effect::with_blobs(&state.blobs);
    effect.garbage.extend(done.garbage);
    effect.commit(tx)?;
    Ok(true)
}

/// Appends the event of an applied action to the bucket owner's log in `tx` (its request
/// parameters sealed under the account's key, as every event's are).
fn append_event(
    state: &State,
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
    name: &str,
    key: &str,
    done: &Done,
    now_ms: i64,
) -> Result<(), ApiError> {
    let facts = RequestFacts {
        request_id: crate::support::ids::uuid(),
        event_source: S3.into(),
        event_name: name.into(),
        region: bucket.body.region.clone(),
        source_ip: S3.into(),
        time_ms: now_ms,
        ..RequestFacts::default()
    };
    let mut parameters = Map::new();
    parameters.insert("bucketName".into(), json!(bucket.key));
    parameters.insert("key".into(), json!(key));
    if let Some(v) = &done.version_id {
        parameters.insert("versionId".into(), json!(v));
    }
    if let Some(u) = &done.upload_id {
        parameters.insert("uploadId".into(), json!(u));
    }
    parameters.insert("lifecycleRuleId".into(), json!(done.rule_id));
    let response =
        done.marker.as_ref().map(|m| json!({ "deleteMarker": true, "deleteMarkerVersionId": m }));
    let mut event = events::event(
        &facts,
        None,
        &bucket.account,
        Some(Value::Object(parameters)),
        response,
        None,
    )?;
    event.event_type = audit::event::EventType::AwsServiceEvent;
    event.user_identity.identity_type = audit::event::IdentityType::AwsService;
    event.user_identity.invoked_by = Some(S3.into());
    event.resources = Some(vec![
        audit::event::Resource {
            account_id: None,
            resource_type: Some("AWS::S3::Object".into()),
            arn: Some(format!("arn:aws:s3:::{}/{key}", bucket.key)),
        },
        audit::event::Resource {
            account_id: Some(bucket.account.clone()),
            resource_type: Some("AWS::S3::Bucket".into()),
            arn: Some(format!("arn:aws:s3:::{}", bucket.key)),
        },
    ]);
    let sealed = events::for_account(state, Some(&mut *tx), &event, &bucket.account)?;
    events::append(tx, &bucket.account, &sealed)?;
    Ok(())
}
