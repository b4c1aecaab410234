//! S3 versioning: a bucket whose versioning is `Enabled` keeps every version of every object
//! (and a delete marker for each delete without a version id); `Suspended` writes the `null`
//! version. Versions are records of kind `s3_version`, keyed so that a key's versions list
//! newest first; the current version stays the `s3_object` record, as without versioning.

use super::{db, xml, xml_reply};
use crate::error::ApiError;
use crate::http::Reply;
use serde_json::Value;
use store::{PutMode, Record};

/// Separates bucket, key and order in a version record's key (S3 keys do not contain it in
/// practice; the record also carries the key itself).
const SEP: char = '\u{1}';

/// The bucket's versioning status: `Enabled`, `Suspended`, or `None` if never enabled.
pub fn status(bucket: &Record) -> Option<&str> {
    bucket.body.get("Versioning").and_then(Value::as_str)
}

/// A new version id for this write: a random one when enabled, `null` when suspended.
pub fn new_id(bucket: &Record) -> Option<String> {
    match status(bucket) {
        Some("Enabled") => Some(
            sigv4::encode::hex(&sigv4::key::sha256(crate::bootstrap::uuid().as_bytes()))
                .chars()
                .take(32)
                .collect(),
        ),
        Some(_) => Some("null".into()),
        None => None,
    }
}

fn prefix(bucket: &str, key: &str) -> String {
    format!("{bucket}{SEP}{key}{SEP}")
}

/// Every version of a key, newest first.
pub fn of_key(
    tx: &mut dyn store::ReadTx,
    bucket: &Record,
    key: &str,
) -> Result<Vec<Record>, ApiError> {
    crate::iam::records(tx, &bucket.account, "s3_version", &prefix(&bucket.key, key), 100_000)
}

/// One version of a key.
pub fn find(
    tx: &mut dyn store::ReadTx,
    bucket: &Record,
    key: &str,
    version_id: &str,
) -> Result<Option<Record>, ApiError> {
    Ok(of_key(tx, bucket, key)?
        .into_iter()
        .find(|r| r.body.get("VersionId").and_then(Value::as_str) == Some(version_id)))
}

/// Records `body` (which carries its `VersionId`) as the newest version of `key`; a `null`
/// version replaces the previous `null` version, which is returned (its blobs go once the
/// transaction commits).
pub fn record(
    tx: &mut dyn store::Tx,
    bucket: &Record,
    key: &str,
    body: &Value,
    now: i64,
) -> Result<Option<Record>, ApiError> {
    let id = body.get("VersionId").and_then(Value::as_str).unwrap_or("null").to_string();
    let mut replaced = None;
    if id == "null" {
        if let Some(old) = find(tx, bucket, key, "null")? {
            tx.delete_record(&bucket.account, "s3_version", &old.key).map_err(db)?;
            replaced = Some(old);
        }
    }
    let order = i64::MAX - now;
    let record = Record {
        account: bucket.account.clone(),
        kind: "s3_version".into(),
        key: format!("{}{order:019}{id}", prefix(&bucket.key, key)),
        format_version: 1,
        body: body.clone(),
        updated_at_ms: now,
    };
    tx.put_record(&record, PutMode::Upsert).map_err(db)?;
    Ok(replaced)
}

/// Whether the bucket holds any version.
pub fn any(tx: &mut dyn store::ReadTx, bucket: &Record) -> Result<bool, ApiError> {
    Ok(!crate::iam::records(tx, &bucket.account, "s3_version", &format!("{}{SEP}", bucket.key), 1)?
        .is_empty())
}

/// `ListObjectVersions` (prefix; one page of up to `max-keys`).
pub fn list(
    tx: &mut dyn store::ReadTx,
    bucket: &Record,
    prefix_text: &str,
    max_keys: usize,
) -> Result<Reply, ApiError> {
    let all = crate::iam::records(
        tx,
        &bucket.account,
        "s3_version",
        &format!("{}{SEP}{prefix_text}", bucket.key),
        100_000,
    )?;
    let mut out = String::new();
    let mut previous_key: Option<String> = None;
    let mut truncated = false;
    for (count, r) in all.iter().enumerate() {
        if count >= max_keys {
            truncated = true;
            break;
        }
        let key = r.body.get("Key").and_then(Value::as_str).unwrap_or_default().to_string();
        let latest = previous_key.as_deref() != Some(key.as_str());
        previous_key = Some(key.clone());
        let id = r.body.get("VersionId").and_then(Value::as_str).unwrap_or("null");
        let modified =
            crate::iam::date(r.body.get("LastModifiedMs").and_then(Value::as_i64).unwrap_or(0));
        if r.body.get("DeleteMarker").and_then(Value::as_bool) == Some(true) {
            out.push_str(&format!(
                "<DeleteMarker><Key>{}</Key><VersionId>{id}</VersionId><IsLatest>{latest}</IsLatest><LastModified>{modified}</LastModified></DeleteMarker>",
                xml::escape(&key)
            ));
        } else {
            out.push_str(&format!(
                "<Version><Key>{}</Key><VersionId>{id}</VersionId><IsLatest>{latest}</IsLatest><LastModified>{modified}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Version>",
                xml::escape(&key),
                xml::escape(r.body.get("ETag").and_then(Value::as_str).unwrap_or_default()),
                r.body.get("Size").and_then(Value::as_u64).unwrap_or(0)
            ));
        }
    }
    Ok(xml_reply(200, format!(
        "<ListVersionsResult xmlns=\"{}\"><Name>{}</Name><Prefix>{}</Prefix><MaxKeys>{max_keys}</MaxKeys><IsTruncated>{truncated}</IsTruncated>{out}</ListVersionsResult>",
        xml::NS,
        xml::escape(&bucket.key),
        xml::escape(prefix_text)
    )))
}
