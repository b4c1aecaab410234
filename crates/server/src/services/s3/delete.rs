//! Deletes: `DeleteObject` (one object, or one version for good) and `DeleteObjects`. In a
//! versioned bucket a delete without a version id writes a delete marker and keeps the data.

use super::blobs::blob_files;
use super::input::DeleteObjects;
use super::objects::{begin_versioned_write, object_key, ObjectRecord};
use super::versions::VersionRecord;
use super::{empty, s3err, xml, xml_reply, Bucket};
use crate::error::ApiError;
use crate::pipeline::service::{Ctx, Effect};
use crate::pipeline::Reply;
use crate::records::s3::Object;
use store::BlobRef;
use store::PutMode;

/// A delete marker for `key`.
fn marker(key: &str, version_id: &str, now: i64) -> Object {
    Object {
        key: key.to_string(),
        version_id: Some(version_id.to_string()),
        delete_marker: true,
        last_modified_ms: now,
        ..Object::default()
    }
}

/// `DeleteObject`.
pub(super) fn object<'s>(
    ctx: &Ctx<'s>,
    version: Option<&str>,
    bypass: bool,
    bucket: &Bucket,
    key: &str,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    // Authorized before: authorization reads on connections of its own, which
    // must not be waited for while the transaction holds locks.
    let mut tx = begin_versioned_write(state, bucket)?;
    if let Some(v) = version {
        // One version goes for good; the current object follows the newest
        // remaining version.
        let mut headers = vec![("x-amz-version-id".to_string(), v.to_string())];
        let deleted = delete_version(tx.as_mut(), bucket, (key, v, bypass), facts.time_ms)?;
        effect.tx = Some(tx);
        if let Some((marker, garbage)) = deleted {
            if marker {
                headers.push(("x-amz-delete-marker".into(), "true".into()));
            }
            effect.garbage = garbage;
        }
        return Ok(empty(204, headers));
    }
    let (marker_id, garbage) = delete_current(tx.as_mut(), bucket, key, facts.time_ms)?;
    effect.tx = Some(tx);
    effect.garbage = garbage;
    Ok(empty(
        204,
        match marker_id {
            Some(id) => {
                vec![("x-amz-delete-marker".into(), "true".into()), ("x-amz-version-id".into(), id)]
            }
            None => Vec::new(),
        },
    ))
}

/// Deletes the current object of `key` in `tx`, as a delete without a version id does (and a
/// lifecycle expiration): in a bucket with versioning a delete marker becomes the newest
/// version (a `null` one, replacing the `null` version, while versioning is suspended) and the
/// data stays with its version; without versioning the object goes. Returns the marker's
/// version id, if one was written, and the blobs to remove once `tx` commits.
pub(super) fn delete_current(
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
    key: &str,
    now: i64,
) -> Result<(Option<String>, Vec<BlobRef>), ApiError> {
    let k = object_key(bucket, key);
    let marker_id = super::versions::new_id(bucket);
    let mut garbage = Vec::new();
    if let Some(id) = &marker_id {
        // Versioned: a delete marker becomes the newest version; the data stays.
        let replaced = super::versions::record(tx, bucket, &marker(key, id, now), now)?;
        if let Some(old) = replaced {
            garbage.extend(blob_files(&bucket.account, &old.body.0));
        }
    }
    if let Some(old) = ObjectRecord::get_for_update(tx, &bucket.account, &k)? {
        ObjectRecord::delete(tx, &bucket.account, &k)?;
        if marker_id.is_none() {
            garbage.extend(blob_files(&bucket.account, &old.body));
        }
    }
    Ok((marker_id, garbage))
}

/// Deletes version `version_id` of `key` for good in `tx`; the current object becomes the newest
/// remaining version (none if that is a delete marker). Returns whether it was a delete marker
/// and the blobs to remove once `tx` commits, or `None` if there is no such version. A version
/// Object Lock protects is refused (`bypass`: the caller may bypass governance retention; a
/// lifecycle expiration never does).
pub(super) fn delete_version(
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
    (key, version_id, bypass): (&str, &str, bool),
    now: i64,
) -> Result<Option<(bool, Vec<BlobRef>)>, ApiError> {
    // The key's current object is what every version write locks first (`versions::record`):
    // two deletes of a key's newest versions, or a delete beside a PUT, take turns.
    let k = object_key(bucket, key);
    let current = ObjectRecord::get_for_update(tx, &bucket.account, &k)?;
    let Some(found) = super::versions::find(tx, bucket, key, version_id)? else {
        // The `null` version of a key written while the bucket was never versioned is its
        // current object itself.
        return match current.filter(|c| version_id == "null" && c.body.version_id.is_none()) {
            Some(object) => {
                super::lock::check_delete(&object.body, now, bypass)?;
                ObjectRecord::delete(tx, &bucket.account, &k)?;
                Ok(Some((false, blob_files(&bucket.account, &object.body))))
            }
            None => Ok(None),
        };
    };
    super::lock::check_delete(&found.body.0, now, bypass)?;
    VersionRecord::delete(tx, &bucket.account, &found.key)?;
    match super::versions::of_key(tx, bucket, key)?.into_iter().next() {
        Some(newest) if !newest.body.0.delete_marker => {
            ObjectRecord::new(&bucket.account, &k, newest.body.0, now).put(tx, PutMode::Upsert)?;
        }
        _ => {
            if current.is_some() {
                ObjectRecord::delete(tx, &bucket.account, &k)?;
            }
        }
    }
    let marker = found.body.0.delete_marker;
    Ok(Some((marker, blob_files(&bucket.account, &found.body.0))))
}

/// `DeleteObjects`.
pub(super) fn objects<'s>(
    ctx: &Ctx<'s>,
    input: &DeleteObjects,
    bucket: &Bucket,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    let objects = input.objects.clone();
    if objects.len() > 1000 {
        return Err(s3err(400, "MalformedXML", "At most 1000 keys can be deleted at once."));
    }
    let quiet = input.quiet;
    // Every key is authorized before the transaction begins: authorization reads the store on
    // connections of its own, which must not be waited for while this one holds locks that
    // others wait on.
    let mut allowed = Vec::with_capacity(objects.len());
    for (key, version_id) in objects {
        let arn = format!("arn:aws:s3:::{}/{key}", bucket.key);
        let verdict = super::check_now(ctx, "s3:DeleteObject", &arn, Some(bucket), Vec::new())
            .and_then(|()| match &version_id {
                Some(v) => {
                    let context = vec![("s3:VersionId".into(), v.clone())];
                    super::check_now(ctx, "s3:DeleteObjectVersion", &arn, Some(bucket), context)?;
                    super::lock::may_bypass(ctx, bucket, &key, input.bypass)
                }
                None => Ok(false),
            });
        match verdict {
            // A store failure fails the whole request.
            Err(e) if e.status >= 500 => return Err(e),
            verdict => allowed.push((key, version_id, verdict)),
        }
    }
    let mut tx = begin_versioned_write(state, bucket)?;
    // The keys are locked in key order first, so two batches that name the same keys in other
    // orders take turns instead of deadlocking.
    let mut keys: Vec<String> = allowed
        .iter()
        .filter(|(_, _, verdict)| verdict.is_ok())
        .map(|(key, _, _)| format!("{}/{key}", bucket.key))
        .collect();
    keys.sort();
    keys.dedup();
    for k in &keys {
        ObjectRecord::get_for_update(tx.as_mut(), &bucket.account, k)?;
    }
    let mut out = xml::Writer::new();
    let mut garbage = Vec::new();
    for (key, version_id, verdict) in allowed {
        let deleted = verdict.and_then(|bypass| match &version_id {
            // One version, for good (as DeleteObject with a versionId).
            Some(v) => {
                let found = delete_version(tx.as_mut(), bucket, (&key, v, bypass), facts.time_ms)?;
                let marker = found.as_ref().is_some_and(|(marker, _)| *marker);
                garbage.extend(found.map(|(_, files)| files).unwrap_or_default());
                Ok(xml::build(|w| {
                    w.text("VersionId", v);
                    if marker {
                        w.value("DeleteMarker", true);
                    }
                }))
            }
            None => {
                // Versioned: a delete marker, the data staying with its version; else the
                // object goes.
                let (marker_id, files) = delete_current(tx.as_mut(), bucket, &key, facts.time_ms)?;
                garbage.extend(files);
                Ok(xml::build(|w| {
                    if let Some(id) = &marker_id {
                        w.value("DeleteMarker", true).text("DeleteMarkerVersionId", id);
                    }
                }))
            }
        });
        match deleted {
            Ok(details) => {
                if !quiet {
                    out.elem("Deleted", |w| {
                        w.text("Key", &key).fragment(&details);
                    });
                }
            }
            // A store failure fails the whole request (the transaction is not committed).
            Err(e) if e.status >= 500 => return Err(e),
            Err(e) => {
                out.elem("Error", |w| {
                    w.text("Key", &key)
                        .opt("VersionId", version_id.as_deref())
                        .text("Code", &e.code)
                        .text("Message", &e.message);
                });
            }
        }
    }
    effect.tx = Some(tx);
    effect.garbage = garbage;
    let out = out.into_xml();
    Ok(xml_reply(
        200,
        xml::document("DeleteResult", xml::NS, |w| {
            w.fragment(&out);
        }),
    ))
}
