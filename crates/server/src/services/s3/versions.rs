//! S3 versioning: a bucket whose versioning is `Enabled` keeps every version of every object
//! (and a delete marker for each delete without a version id); `Suspended` writes the `null`
//! version. Versions are records of kind `s3_version`, keyed so that a key's versions list
//! newest first; the current version stays the `s3_object` record, as without versioning.

use super::Bucket;
use super::{xml, xml_reply};
use crate::error::ApiError;
use crate::pipeline::Reply;
use crate::records::s3::{Object, Version};
use crate::records::Stored;
use store::PutMode;

/// A version as stored.
pub(super) type VersionRecord = Stored<Version>;

/// Separates bucket, key and order in a version record's key (S3 keys do not contain it in
/// practice; the record also carries the key itself).
const SEP: char = '\u{1}';

/// The bucket's versioning status: `Enabled`, `Suspended`, or `None` if never enabled.
pub fn status(bucket: &Bucket) -> Option<&str> {
    bucket.body.versioning.map(crate::records::s3::Versioning::as_str)
}

/// A new version id for this write: a random one when enabled, `null` when suspended.
pub fn new_id(bucket: &Bucket) -> Option<String> {
    match status(bucket) {
        Some("Enabled") => Some(
            sigv4::encode::hex(&sigv4::key::sha256(crate::support::ids::uuid().as_bytes()))
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
    bucket: &Bucket,
    key: &str,
) -> Result<Vec<VersionRecord>, ApiError> {
    VersionRecord::list(tx, &bucket.account, &prefix(&bucket.key, key), 100_000)
}

/// Every version of every key of the bucket, in key order and newest first within a key.
pub fn of_bucket(
    tx: &mut dyn store::ReadTx,
    bucket: &Bucket,
) -> Result<Vec<VersionRecord>, ApiError> {
    VersionRecord::list(tx, &bucket.account, &format!("{}{SEP}", bucket.key), usize::MAX)
}

/// One version of a key.
pub fn find(
    tx: &mut dyn store::ReadTx,
    bucket: &Bucket,
    key: &str,
    version_id: &str,
) -> Result<Option<VersionRecord>, ApiError> {
    Ok(of_key(tx, bucket, key)?
        .into_iter()
        .find(|r| r.body.0.version_id.as_deref() == Some(version_id)))
}

/// Version `version_id` of `key` as the object it was: its version record, or for `null` the
/// current object when it was written while the bucket was never versioned (it has no
/// version record; S3 lists it as the `null` version).
pub(super) fn find_object(
    tx: &mut dyn store::ReadTx,
    bucket: &Bucket,
    key: &str,
    version_id: &str,
) -> Result<Option<Stored<Object>>, ApiError> {
    if let Some(found) = find(tx, bucket, key, version_id)? {
        return Ok(Some(as_object(found)));
    }
    if version_id != "null" {
        return Ok(None);
    }
    Ok(Stored::<Object>::get(tx, &bucket.account, &super::objects::object_key(bucket, key))?
        .filter(|o| o.body.version_id.is_none()))
}

/// A version as the object it was (for a read or copy of that version).
pub(super) fn as_object(version: VersionRecord) -> Stored<Object> {
    Stored {
        account: version.account,
        key: version.key,
        body: version.body.0,
        updated_at_ms: version.updated_at_ms,
    }
}

/// Records `object` (which carries its version id) as the newest version of its key; a `null`
/// version replaces the previous `null` version, which is returned (its blobs go once the
/// transaction commits). Call it before the current object record changes: an object written
/// before versioning was enabled (it has no version id) first becomes the `null` version, as S3
/// keeps it, so that the new version does not drop the only record naming its data.
pub fn record(
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
    object: &Object,
    now: i64,
) -> Result<Option<VersionRecord>, ApiError> {
    let key = object.key.as_str();
    let current_key = format!("{}/{key}", bucket.key);
    if let Some(current) = Stored::<Object>::get_for_update(tx, &bucket.account, &current_key)? {
        if current.body.version_id.is_none() {
            let mut kept = current.body;
            kept.version_id = Some("null".into());
            let at = kept.last_modified_ms.min(now);
            insert(tx, bucket, key, &kept, at)?;
        }
    }
    insert(tx, bucket, key, object, now)
}

/// Adds a version record (see [`record`]).
fn insert(
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
    key: &str,
    object: &Object,
    now: i64,
) -> Result<Option<VersionRecord>, ApiError> {
    let id = object.version_id.clone().unwrap_or_else(|| "null".into());
    let mut replaced = None;
    if id == "null" {
        if let Some(old) = find(tx, bucket, key, "null")? {
            VersionRecord::delete(tx, &bucket.account, &old.key)?;
            replaced = Some(old);
        }
    }
    // Newest first: the order falls with time, and below the key's newest version even within
    // one millisecond (the `null` version just removed aside).
    let mut order = i64::MAX - now;
    let prefix = prefix(&bucket.key, key);
    if let Some(newest) = VersionRecord::list(tx, &bucket.account, &prefix, 1)?.first() {
        let newest_order = newest
            .key
            .strip_prefix(&prefix)
            .and_then(|rest| rest.get(..19))
            .and_then(|digits| digits.parse::<i64>().ok());
        if let Some(n) = newest_order {
            order = order.min(n.saturating_sub(1));
        }
    }
    let record = VersionRecord::new(
        &bucket.account,
        &format!("{prefix}{order:019}{id}"),
        Version(object.clone()),
        now,
    );
    record.put(tx, PutMode::Upsert)?;
    Ok(replaced)
}

/// Whether the bucket holds any version.
pub fn any(tx: &mut dyn store::ReadTx, bucket: &Bucket) -> Result<bool, ApiError> {
    Ok(!VersionRecord::list(tx, &bucket.account, &format!("{}{SEP}", bucket.key), 1)?.is_empty())
}

/// One entry of a version listing: a version or delete marker, or a common prefix.
enum Entry<'r> {
    Version { object: &'r Object, latest: bool },
    Prefix(String),
}

/// `ListObjectVersions`: versions and delete markers in key order, newest first within a key,
/// after the key (and version id) marker; keys past `prefix` that contain `delimiter` roll up
/// into common prefixes. Each version, marker or prefix counts against `max-keys`; a truncated
/// page names where the next one starts (`NextKeyMarker`, `NextVersionIdMarker`).
pub fn list(
    tx: &mut dyn store::ReadTx,
    bucket: &Bucket,
    q: &super::input::ListObjectVersions,
) -> Result<Reply, ApiError> {
    let all = VersionRecord::list(
        tx,
        &bucket.account,
        &format!("{}{SEP}{}", bucket.key, q.prefix),
        usize::MAX,
    )?;
    let (prefix, delimiter) = (q.prefix.as_str(), q.delimiter.as_deref());
    let (key_marker, version_id_marker) = (q.key_marker.as_deref(), q.version_id_marker.as_deref());
    // Objects written while the bucket was never versioned have no version record: each is
    // its key's `null` version, and its latest (a later versioned write moves it aside).
    let unversioned: Vec<Stored<Object>> = Stored::<Object>::list(
        tx,
        &bucket.account,
        &super::objects::object_key(bucket, &q.prefix),
        usize::MAX,
    )?
    .into_iter()
    .filter(|o| o.body.version_id.is_none())
    .collect();
    let mut merged: Vec<&Object> = Vec::with_capacity(all.len() + unversioned.len());
    let (mut versions, mut plain) = (all.iter().peekable(), unversioned.iter().peekable());
    loop {
        let plain_first = match (versions.peek(), plain.peek()) {
            (Some(v), Some(p)) => p.body.key <= v.body.0.key,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        match if plain_first {
            plain.next().map(|p| &p.body)
        } else {
            versions.next().map(|v| &v.body.0)
        } {
            Some(object) => merged.push(object),
            None => break,
        }
    }
    // A version id is `null` or 32 hex digits; any other marker is refused, as S3 does. One
    // that names no version of the marker key (deleted since the page that named it, as a
    // cleanup deletes each page before it asks for the next) cannot be placed: the key's
    // remaining versions are listed from its newest.
    if let Some(v) = version_id_marker {
        let well_formed =
            v == "null" || (v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()));
        if !well_formed {
            return Err(super::s3err(400, "InvalidArgument", "Invalid version id specified"));
        }
    }
    let marker_found = match (key_marker, version_id_marker) {
        (Some(k), Some(v)) => {
            merged.iter().any(|o| o.key == k && o.version_id.as_deref().unwrap_or("null") == v)
        }
        _ => false,
    };
    let mut entries: Vec<Entry<'_>> = Vec::new();
    let mut previous_key: Option<String> = None;
    // With a version id marker, the marker key's versions up to and including it are skipped.
    let mut passed_version = false;
    for object in merged {
        let key = object.key.clone();
        let latest = previous_key.as_deref() != Some(key.as_str());
        previous_key = Some(key.clone());
        if let Some(marker) = key_marker {
            if key.as_str() < marker {
                continue;
            }
            if key == marker {
                // Without a version id marker the marker key is done; with one, its versions
                // up to and including that one are.
                let Some(version_marker) = version_id_marker else { continue };
                if marker_found && !passed_version {
                    passed_version =
                        object.version_id.as_deref().unwrap_or("null") == version_marker;
                    continue;
                }
            }
        }
        let rolled = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
            let rest = key.get(prefix.len()..)?;
            let at = rest.find(d)?;
            rest.get(..at + d.len()).map(|head| format!("{}{head}", prefix))
        });
        match rolled {
            Some(cp) => {
                if key_marker.is_some_and(|m| m.starts_with(&cp)) {
                    continue;
                }
                if !matches!(entries.last(), Some(Entry::Prefix(last)) if *last == cp) {
                    entries.push(Entry::Prefix(cp));
                }
            }
            None => entries.push(Entry::Version { object, latest }),
        }
    }
    let truncated = q.max_keys > 0 && entries.len() > q.max_keys;
    entries.truncate(q.max_keys);
    Ok(xml_reply(
        200,
        xml::document("ListVersionsResult", xml::NS, |w| {
            w.text("Name", &bucket.key)
                .text("Prefix", prefix)
                .text("KeyMarker", key_marker.unwrap_or_default())
                .text("VersionIdMarker", version_id_marker.unwrap_or_default())
                .opt("Delimiter", delimiter)
                .value("MaxKeys", q.max_keys)
                .value("IsTruncated", truncated);
            match entries.last().filter(|_| truncated) {
                Some(Entry::Version { object, .. }) => {
                    w.text("NextKeyMarker", &object.key).text(
                        "NextVersionIdMarker",
                        object.version_id.as_deref().unwrap_or("null"),
                    );
                }
                Some(Entry::Prefix(cp)) => {
                    w.text("NextKeyMarker", cp);
                }
                None => {}
            }
            for entry in &entries {
                let (object, latest) = match entry {
                    Entry::Prefix(cp) => {
                        w.elem("CommonPrefixes", |w| {
                            w.text("Prefix", cp);
                        });
                        continue;
                    }
                    Entry::Version { object, latest } => (object, *latest),
                };
                let name = if object.delete_marker { "DeleteMarker" } else { "Version" };
                w.elem(name, |w| {
                    w.text("Key", &object.key)
                        .text("VersionId", object.version_id.as_deref().unwrap_or("null"))
                        .value("IsLatest", latest)
                        .text(
                            "LastModified",
                            &crate::support::time::iso8601(object.last_modified_ms),
                        );
                    if !object.delete_marker {
                        w.text("ETag", &object.etag)
                            .value("Size", object.size)
                            .text("StorageClass", "STANDARD");
                    }
                });
            }
        }),
    ))
}
