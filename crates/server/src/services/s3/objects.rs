//! S3 objects: put, get and head (ranges, conditions), and tagging; the operations on objects
//! dispatch from here to [`super::copy`], [`super::delete`], [`super::listing`] and
//! [`super::multipart`]. An object is one or more sealed parts ([`super::blobs`]) under one
//! data key KMS issued for it as the caller ([`super::sse`]).

use super::blobs::{self, ObjectReader, Source, STREAM_CHUNK};
use super::input::{GetObject, Input, PutObject};
use super::router::S3Operation;
use super::sse;
use super::{empty, s3err, xml, xml_reply, Bucket, S3Request};
use crate::error::ApiError;
use crate::pipeline::events::RequestFacts;
use crate::pipeline::service::{Ctx, Effect, Operation};
use crate::pipeline::{Reply, State};
use crate::records::s3::{Acl, ChecksumType, Object, ObjectLock};
use crate::records::Stored;
use std::collections::BTreeMap;
use store::BlobRef;
use store::PutMode;

/// An object record as stored.
pub(super) type ObjectRecord = Stored<Object>;

/// The record key of object `key` of `bucket`.
pub(super) fn object_key(bucket: &Bucket, key: &str) -> String {
    format!("{}/{key}", bucket.key)
}

/// A write transaction on `bucket`'s objects or uploads, holding the bucket
/// ([`super::hold_bucket`]).
pub(super) fn begin_write<'s>(
    state: &'s State,
    bucket: &Bucket,
) -> Result<Box<dyn store::Tx + 's>, ApiError> {
    let mut tx = state.store.begin()?;
    super::hold_bucket(tx.as_mut(), bucket)?;
    Ok(tx)
}

/// [`begin_write`] for a write that depends on the bucket's versioning (what an object write
/// or delete leaves behind): the status must still be the one the request found
/// ([`super::same_versioning`]).
pub(super) fn begin_versioned_write<'s>(
    state: &'s State,
    bucket: &Bucket,
) -> Result<Box<dyn store::Tx + 's>, ApiError> {
    let mut tx = state.store.begin()?;
    let held = super::hold_bucket(tx.as_mut(), bucket)?;
    super::same_versioning(&held, bucket)?;
    Ok(tx)
}

/// RFC 7231 date for `Last-Modified`.
pub(crate) fn http_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let months =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let wd = weekday.get(usize::try_from(days.rem_euclid(7)).unwrap_or(0)).unwrap_or(&"Thu");
    let mon = months.get(usize::try_from(m - 1).unwrap_or(0)).unwrap_or(&"Jan");
    format!("{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02} GMT", rem / 3600, rem % 3600 / 60, rem % 60)
}

pub(super) fn parse_http_date(text: &str) -> Option<i64> {
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, mon, year, time, _] = parts.as_slice() else { return None };
    let months =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let m = i64::try_from(months.iter().position(|x| x == mon)? + 1).ok()?;
    let (d, y): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time.split(':').filter_map(|p| p.parse().ok()).collect();
    let [h, mi, s] = hms.as_slice() else { return None };
    let (yy, mm) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + s) * 1000)
}

fn metadata_headers(object: &Object, user: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut out = vec![
        ("etag".to_string(), object.etag.clone()),
        ("last-modified".to_string(), http_date(object.last_modified_ms)),
        (
            "content-type".to_string(),
            Some(object.content_type.as_str())
                .filter(|c| !c.is_empty())
                .unwrap_or("binary/octet-stream")
                .to_string(),
        ),
        ("accept-ranges".to_string(), "bytes".to_string()),
    ];
    for (k, v) in user {
        out.push((format!("x-amz-meta-{k}"), v.clone()));
    }
    for (header, value) in [
        ("cache-control", &object.cache_control),
        ("content-disposition", &object.content_disposition),
        ("content-encoding", &object.content_encoding),
        ("content-language", &object.content_language),
        ("expires", &object.expires),
    ] {
        if !value.is_empty() {
            out.push((header.into(), value.clone()));
        }
    }
    if !object.tags.is_empty() {
        out.push(("x-amz-tagging-count".into(), object.tags.len().to_string()));
    }
    out
}

/// What the checks of an object operation read of the object.
pub(super) struct ForChecks {
    /// `s3:ExistingObjectTag/*` of the current object, if it exists (empty otherwise).
    pub tags: Vec<(String, String)>,
    /// The ACL of the object the request names (the version `versionId` names, else the
    /// current object), as it counts, while the bucket's ACLs are enabled and the object
    /// exists: its grants join the checks' resource policy.
    pub acl: Option<Acl>,
}

/// Reads what the checks of an operation on `key` (its version `version_id`, if named) need:
/// the current object once, and a version's record only when the request names one that is
/// not the current object and the bucket's ACLs are enabled.
pub(super) fn for_checks(
    state: &State,
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
) -> Result<ForChecks, ApiError> {
    let current = object(state, bucket, key)?;
    let tags = current
        .as_ref()
        .map(|r| {
            r.body
                .tags
                .iter()
                .map(|(k, v)| (format!("s3:ExistingObjectTag/{k}"), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    if !bucket.body.acls_enabled() {
        return Ok(ForChecks { tags, acl: None });
    }
    let named = match (version_id, current) {
        (None, current) => current.map(|r| r.body),
        (Some(v), Some(current)) if current.body.version_id.as_deref() == Some(v) => {
            Some(current.body)
        }
        (Some(v), _) => {
            let mut tx = state.store.read()?;
            super::versions::find_object(tx.as_mut(), bucket, key, v)?.map(|r| r.body)
        }
    };
    let acl = named.filter(|o| !o.delete_marker).map(|o| super::ownership::object_acl(bucket, &o));
    Ok(ForChecks { tags, acl })
}

/// The object's record, if it exists.
pub(super) fn object(
    state: &State,
    bucket: &Bucket,
    key: &str,
) -> Result<Option<ObjectRecord>, ApiError> {
    let mut tx = state.store.read()?;
    ObjectRecord::get(tx.as_mut(), &bucket.account, &object_key(bucket, key))
}

pub(super) fn no_such_key(key: &str) -> ApiError {
    s3err(404, "NoSuchKey", format!("The specified key does not exist: {key}"))
}

pub(super) fn parse_range(header: &str, size: u64) -> Result<(u64, u64), ApiError> {
    let unsatisfiable = || s3err(416, "InvalidRange", "The requested range is not satisfiable");
    let spec = header.trim().strip_prefix("bytes=").ok_or_else(unsatisfiable)?;
    let (a, b) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let (first, last) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().map_err(|_| unsatisfiable())?;
            if n == 0 {
                return Err(unsatisfiable());
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (start, "") => (start.parse().map_err(|_| unsatisfiable())?, size.saturating_sub(1)),
        (start, end) => {
            let (s, e): (u64, u64) = (
                start.parse().map_err(|_| unsatisfiable())?,
                end.parse().map_err(|_| unsatisfiable())?,
            );
            (s, e.min(size.saturating_sub(1)))
        }
    };
    if size == 0 || first >= size || first > last {
        return Err(unsatisfiable());
    }
    Ok((first, last))
}

/// `If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`.
fn conditions(input: &GetObject, object: &Object) -> Result<(), ApiError> {
    let etag = object.etag.as_str();
    let modified = object.last_modified_ms / 1000 * 1000;
    let matches = |list: &str| list.split(',').any(|t| t.trim() == "*" || t.trim() == etag);
    if let Some(m) = input.if_match.as_deref() {
        if !matches(m) {
            return Err(s3err(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
    } else if let Some(t) = input.if_unmodified_since {
        if modified > t {
            return Err(s3err(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
    }
    // A 304 names the object it refers to, as S3's does.
    let not_modified = || {
        s3err(304, "NotModified", "Not Modified")
            .with_header("etag", etag)
            .with_header("last-modified", http_date(object.last_modified_ms))
    };
    if let Some(m) = input.if_none_match.as_deref() {
        if matches(m) {
            return Err(not_modified());
        }
    } else if let Some(t) = input.if_modified_since {
        if modified <= t {
            return Err(not_modified());
        }
    }
    Ok(())
}

/// Runs an authorized object (or object listing) operation on `bucket`.
pub(crate) fn handle<'s>(
    ctx: &Ctx<'s>,
    op: S3Operation,
    req: &S3Request<'_>,
    bucket: &Bucket,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let operation = op.name();
    let key = req.key.clone().unwrap_or_default();
    if op.level() == Some(super::router::Level::Object) && key.len() > 1024 {
        return Err(s3err(400, "KeyTooLongError", "Your key is too long"));
    }
    match (operation, req.input) {
        ("ListObjects" | "ListObjectsV2", Input::ListObjects(input)) => {
            super::listing::objects(ctx, operation, input, bucket)
        }
        ("ListMultipartUploads", _) => super::listing::uploads(ctx, bucket),
        ("DeleteObjects", Input::DeleteObjects(input)) => {
            super::delete::objects(ctx, input, bucket, effect)
        }
        ("PostObject", Input::PostObject(post)) => {
            super::post::object(ctx, post, bucket, &key, effect)
        }
        ("PutObject", Input::PutObject(input)) => {
            put(ctx, input, req.take_body(), bucket, &key, effect)
        }
        ("CopyObject", Input::CopyObject(input)) => {
            super::copy::object(ctx, input, bucket, &key, effect)
        }
        ("GetObject" | "HeadObject", Input::GetObject(input)) => {
            get(ctx, operation, input, bucket, &key)
        }
        ("GetObjectAttributes", Input::GetObject(input)) => attributes(ctx, input, bucket, &key),
        ("DeleteObject", Input::DeleteObject { version_id, bypass }) => {
            let bypass = super::lock::may_bypass(ctx, bucket, &key, *bypass)?;
            super::delete::object(ctx, version_id.as_deref(), bypass, bucket, &key, effect)
        }
        (
            "GetObjectRetention" | "PutObjectRetention" | "GetObjectLegalHold"
            | "PutObjectLegalHold",
            _,
        ) => super::lock::object(ctx, operation, req, bucket, &key, effect),
        ("GetObjectTagging" | "PutObjectTagging" | "DeleteObjectTagging", input) => {
            tagging(ctx, operation, input, bucket, &key, effect)
        }
        (
            "CreateMultipartUpload"
            | "UploadPart"
            | "UploadPartCopy"
            | "ListParts"
            | "AbortMultipartUpload"
            | "CompleteMultipartUpload",
            _,
        ) => super::multipart::handle(ctx, operation, req, bucket, &key, effect),
        _ => Err(ApiError::internal("the input is not the operation's")),
    }
}

/// The Object Lock headers of a read: the retention only to a caller who may read it
/// (`s3:GetObjectRetention`), the legal hold only to one who may read that
/// (`s3:GetObjectLegalHold`), as in S3.
fn lock_headers(
    ctx: &Ctx<'_>,
    bucket: &Bucket,
    key: &str,
    object: &Object,
) -> Result<Vec<(String, String)>, ApiError> {
    if object.lock.is_empty() {
        return Ok(Vec::new());
    }
    let arn = format!("arn:aws:s3:::{}/{key}", bucket.key);
    let may = |action: &str| match super::check_now(ctx, action, &arn, Some(bucket), Vec::new()) {
        Ok(()) => Ok(true),
        Err(e) if e.status >= 500 => Err(e),
        Err(_) => Ok(false),
    };
    let mut shown = ObjectLock::default();
    if object.lock.mode.is_some() && may("s3:GetObjectRetention")? {
        shown.mode = object.lock.mode;
        shown.retain_until_ms = object.lock.retain_until_ms;
    }
    if object.lock.legal_hold.is_some() && may("s3:GetObjectLegalHold")? {
        shown.legal_hold = object.lock.legal_hold;
    }
    Ok(super::lock::headers(&shown))
}

/// `GetObject` and `HeadObject`.
fn get(
    ctx: &Ctx<'_>,
    operation: &str,
    input: &GetObject,
    bucket: &Bucket,
    key: &str,
) -> Result<Reply, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    if input.write_encryption {
        return Err(s3err(
            400,
            "InvalidArgument",
            "x-amz-server-side-encryption header is not supported for this operation.",
        ));
    }
    let record = read_target(ctx, bucket, key, input.version_id.as_deref())?;
    let object = &record.body;
    let open = || {
        sse::open_key(
            ctx,
            sse::customer_key(&input.customer, facts)?,
            &object.data_key,
            bucket,
            key,
        )
    };
    // An SSE-C object answers nothing, not even a precondition, without its key.
    let customer_opened = if sse::is_customer(&object.data_key) { Some(open()?) } else { None };
    conditions(input, object)?;
    let size = object.size;
    let user = super::metadata::open(state, &bucket.account, &bucket.key, key, object)?;
    let mut headers = metadata_headers(object, &user);
    if let Some(v) = &object.version_id {
        headers.push(("x-amz-version-id".into(), v.clone()));
    }
    headers.extend(lock_headers(ctx, bucket, key, object)?);
    // `response-*` parameters replace headers of the answer; S3 allows them only to signed
    // requests.
    if !input.overrides.is_empty() {
        if ctx.caller.is_anonymous() {
            return Err(s3err(
                400,
                "InvalidRequest",
                "Request specific response headers cannot be used for anonymous GET requests.",
            ));
        }
        for (header, value) in &input.overrides {
            headers.retain(|(n, _)| n != header);
            headers.push((header.clone(), value.clone()));
        }
    }
    let range = match (input.range.as_deref(), input.part_number.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(s3err(
                400,
                "InvalidRequest",
                "Cannot specify both Range header and partNumber query parameter",
            ))
        }
        (Some(r), None) => Some(parse_range(r, size)?),
        (None, Some(n)) => {
            let (first, last, count) = part_range(object, n)?;
            if let Some(count) = count {
                headers.push(("x-amz-mp-parts-count".into(), count.to_string()));
            }
            Some((first, last))
        }
        (None, None) => None,
    };
    headers.extend(super::checksums::read_headers(state, input, bucket, key, object)?);
    // A HEAD of one part answers as its GET would: 206, the part's length and range.
    let head = |mut headers: Vec<(String, String)>| match (input.part_number.is_some(), range) {
        (true, Some((f, l))) => {
            headers.push(("content-range".into(), format!("bytes {f}-{l}/{size}")));
            headers.push(("content-length".into(), (l + 1 - f).to_string()));
            empty(206, headers)
        }
        _ => {
            headers.push(("content-length".into(), size.to_string()));
            empty(200, headers)
        }
    };
    if operation == "HeadObject" && customer_opened.is_none() {
        // Without opening the key (an SSE-C object's HEAD opened it to check the customer's).
        headers.extend(sse::stored_headers(&object.data_key));
        return Ok(head(headers));
    }
    let (data_key, sse_headers) = match customer_opened {
        Some(opened) => opened,
        None => open()?,
    };
    headers.extend(sse_headers);
    if operation == "HeadObject" {
        return Ok(head(headers));
    }
    let (status, first, last) = match range {
        Some((f, l)) => {
            headers.push(("content-range".into(), format!("bytes {f}-{l}/{size}")));
            (206, f, l)
        }
        None => (200, 0, size.saturating_sub(1)),
    };
    let mut reader = ObjectReader::open(state, &bucket.account, object, &data_key, first, last)?;
    if reader.len() <= STREAM_CHUNK {
        // Small reads (an empty object too) answer whole.
        let mut bytes = Vec::new();
        while let Some(chunk) = reader.read()? {
            bytes.extend_from_slice(&chunk);
        }
        return Ok(Reply { status, raw: Some(bytes), headers, ..Reply::default() });
    }
    // Large reads stream: decrypted a chunk at a time while the previous chunk is being sent.
    // An error mid-stream ends the body short (the client sees a length mismatch), as a
    // storage fault mid-response does in S3.
    headers.push(("content-length".into(), reader.len().to_string()));
    let producer: crate::pipeline::Producer = Box::new(move |send| {
        while let Ok(Some(bytes)) = reader.read() {
            if !send(bytes) {
                break;
            }
        }
    });
    Ok(Reply { status, headers, stream: Some(producer), ..Reply::default() })
}

/// `GetObjectAttributes`: what `x-amz-object-attributes` asks of an object, without its data
/// (its ETag unquoted, size, storage class, and for an object uploaded in parts a page of its
/// parts). An SSE-C object answers only with its key, as its GET does.
fn attributes(
    ctx: &Ctx<'_>,
    input: &GetObject,
    bucket: &Bucket,
    key: &str,
) -> Result<Reply, ApiError> {
    const KNOWN: &[&str] = &["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"];
    let wanted = &input.object_attributes;
    if wanted.is_empty() || wanted.iter().any(|a| !KNOWN.contains(&a.as_str())) {
        return Err(s3err(400, "InvalidArgument", "Invalid attribute name specified."));
    }
    let number = |v: &Option<String>, default: usize| -> Result<usize, ApiError> {
        v.as_deref().map_or(Ok(default), |t| {
            t.parse().map_err(|_| s3err(400, "InvalidArgument", format!("Invalid value: {t}")))
        })
    };
    let max_parts = number(&input.max_parts, 1000)?.min(1000);
    let marker = number(&input.part_number_marker, 0)?;
    let record = read_target(ctx, bucket, key, input.version_id.as_deref())?;
    let object = &record.body;
    if sse::is_customer(&object.data_key) {
        sse::open_key(
            ctx,
            sse::customer_key(&input.customer, ctx.facts)?,
            &object.data_key,
            bucket,
            key,
        )?;
    }
    let has = |a: &str| wanted.iter().any(|w| w == a);
    let multipart = object.etag.trim_matches('"').rsplit_once('-').is_some();
    // (number, size, sealed checksum) of each part, in order.
    let parts: Vec<(u64, u64, Option<&str>)> = object
        .parts
        .iter()
        .filter_map(|p| {
            Some((p.identity.rsplit('|').next()?.parse().ok()?, p.size, p.checksum.as_deref()))
        })
        .collect();
    let after: Vec<&(u64, u64, Option<&str>)> =
        parts.iter().filter(|(n, _, _)| *n > marker as u64).collect();
    let page: Vec<&&(u64, u64, Option<&str>)> = after.iter().take(max_parts).collect();
    let truncated = after.len() > page.len();
    // The object's checksum and its parts' (those on the page), opened.
    let sealed_parts = has("ObjectParts") && page.iter().any(|(_, _, c)| c.is_some());
    let sealer = if (has("Checksum") && object.checksum.is_some()) || sealed_parts {
        Some(super::checksums::Sealer::new(ctx.state, &bucket.account, &bucket.key, key)?)
    } else {
        None
    };
    let open = |sealed: Option<&str>| match (&sealer, sealed) {
        (Some(sealer), Some(sealed)) => sealer.open(sealed).map(Some),
        _ => Ok(None),
    };
    let checksum = if has("Checksum") { open(object.checksum.as_deref())? } else { None };
    let part_sums: Vec<Option<super::checksums::Sum>> =
        page.iter().map(|(_, _, c)| open(*c)).collect::<Result<_, _>>()?;
    let mut headers = vec![("last-modified".to_string(), http_date(object.last_modified_ms))];
    if let Some(v) = &object.version_id {
        headers.push(("x-amz-version-id".into(), v.clone()));
    }
    let body = xml::document("GetObjectAttributesResponse", xml::NS, |w| {
        if has("ETag") {
            w.text("ETag", object.etag.trim_matches('"'));
        }
        if let Some(sum) = &checksum {
            w.elem("Checksum", |w| super::checksums::members(w, sum, object.checksum_type));
        }
        if has("ObjectParts") && multipart {
            w.elem("ObjectParts", |w| {
                w.value("PartsCount", parts.len())
                    .value("PartNumberMarker", marker)
                    .value(
                        "NextPartNumberMarker",
                        page.last().map_or(marker as u64, |(n, _, _)| *n),
                    )
                    .value("MaxParts", max_parts)
                    .value("IsTruncated", truncated);
                for ((n, size, _), sum) in page.iter().zip(&part_sums) {
                    w.elem("Part", |w| {
                        w.value("PartNumber", n).value("Size", size);
                        if let Some(sum) = sum {
                            super::checksums::members(w, sum, None);
                        }
                    });
                }
            });
        }
        if has("StorageClass") {
            w.text("StorageClass", "STANDARD");
        }
        if has("ObjectSize") {
            w.value("ObjectSize", object.size);
        }
    });
    let mut reply = xml_reply(200, body);
    reply.headers.extend(headers);
    Ok(reply)
}

/// The byte range of part `n` (`partNumber`) of `object`, and its number of parts when it was
/// uploaded in parts (its ETag ends `-N`). Part 1 of an object written whole is all of it; a
/// part it does not have is `InvalidPartNumber` (416), as in S3.
pub(super) fn part_range(object: &Object, n: &str) -> Result<(u64, u64, Option<usize>), ApiError> {
    let n: u64 = n.parse().ok().filter(|n| (1..=10_000).contains(n)).ok_or_else(|| {
        s3err(
            400,
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
        )
    })?;
    let unsatisfiable =
        || s3err(416, "InvalidPartNumber", "The requested partnumber is not satisfiable");
    let count =
        object.etag.trim_matches('"').rsplit_once('-').and_then(|(_, c)| c.parse::<usize>().ok());
    let whole = (0, object.size.saturating_sub(1), count);
    let Some(count) = count else {
        return if n == 1 { Ok(whole) } else { Err(unsatisfiable()) };
    };
    // Each sealed part is bound to its part number (the last field of its identity).
    let mut first = 0u64;
    for part in &object.parts {
        let number = part.identity.rsplit('|').next().and_then(|p| p.parse::<u64>().ok());
        if number == Some(n) {
            return Ok((first, (first + part.size).saturating_sub(1), Some(count)));
        }
        first += part.size;
    }
    Err(unsatisfiable())
}

/// `GetObjectTagging`, `PutObjectTagging`, `DeleteObjectTagging`.
fn tagging<'s>(
    ctx: &Ctx<'s>,
    operation: &str,
    input: &Input,
    bucket: &Bucket,
    key: &str,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let mut tx = begin_write(ctx.state, bucket)?;
    let mut record =
        ObjectRecord::get_for_update(tx.as_mut(), &bucket.account, &object_key(bucket, key))?
            .ok_or_else(|| no_such_key(key))?;
    if operation == "GetObjectTagging" {
        return Ok(xml_reply(
            200,
            xml::document("Tagging", xml::NS, |w| {
                w.elem("TagSet", |w| {
                    for (k, v) in &record.body.tags {
                        w.elem("Tag", |w| {
                            w.text("Key", k).text("Value", v);
                        });
                    }
                });
            }),
        ));
    }
    record.body.tags = match input {
        Input::PutObjectTagging { tags } => {
            check_tags(tags.iter().map(|(k, v)| (k, v)), 10)?;
            tags.iter().cloned().collect()
        }
        _ => BTreeMap::new(),
    };
    record.updated_at_ms = ctx.now();
    record.put(tx.as_mut(), PutMode::Update)?;
    effect.tx = Some(tx);
    Ok(empty(if operation == "DeleteObjectTagging" { 204 } else { 200 }, Vec::new()))
}

/// `PutObject` of `body` (and a copy's write, with the source streamed in as the body).
pub(super) fn put<'s>(
    ctx: &Ctx<'s>,
    input: &PutObject,
    body: Source,
    bucket: &Bucket,
    key: &str,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    let object_arn = format!("arn:aws:s3:::{}/{key}", bucket.key);
    // The request's ACL (a copy's too: not its source's), its grantees found before the body
    // is read.
    let acl = super::ownership::for_write(ctx, bucket, &input.acl)?;
    // S3's conditional writes: `If-None-Match: *` and `If-Match: ETAG`.
    refuse_unsupported_conditions(input.if_none_match.as_deref())?;
    let keep = super::checksums::algorithm(input.checksum_algorithm.as_deref())?;
    let sealing = sse::new_key(ctx, &input.encryption, bucket, key)?;
    let identity = format!("{object_arn}|{}|1", crate::support::ids::uuid());
    let (part, sum) = blobs::seal_body(
        state,
        body,
        (&input.digests, sealing.keyed_etag(), keep),
        (&bucket.account, &identity),
        &sealing.data_key,
        &mut effect.fresh,
    )?;
    // The checksum is the whole object's (its only part keeps none of its own).
    let checksum = match &sum {
        Some(sum) => Some(
            super::checksums::Sealer::new(state, &bucket.account, &bucket.key, key)?.seal(sum)?,
        ),
        None => None,
    };
    let etag = format!("\"{}\"", part.md5);
    let version = super::versions::new_id(bucket);
    let fields = input.fields.clone();
    let lock = super::lock::for_write(bucket, &input.lock, facts.time_ms)?;
    let object = Object {
        key: key.to_string(),
        version_id: version.clone(),
        delete_marker: false,
        last_modified_ms: facts.time_ms,
        size: part.size,
        etag: etag.clone(),
        content_type: fields.content_type,
        cache_control: fields.cache_control,
        content_disposition: fields.content_disposition,
        content_encoding: fields.content_encoding,
        content_language: fields.content_language,
        expires: fields.expires,
        metadata: BTreeMap::new(),
        sealed_metadata: super::metadata::seal(
            state,
            &bucket.account,
            &bucket.key,
            key,
            &fields.metadata,
        )?,
        tags: fields.tagging,
        parts: vec![part],
        data_key: sealing.wrapped,
        lock,
        checksum,
        checksum_type: sum.as_ref().map(|_| ChecksumType::FullObject),
        acl,
    };
    commit_object(state, bucket, object, (input, facts), effect)?;
    // A write that is the `null` version (a suspended bucket) answers no version, as in S3.
    let mut headers: Vec<(String, String)> = version
        .filter(|v| v != "null")
        .map(|v| vec![("x-amz-version-id".to_string(), v)])
        .unwrap_or_default();
    headers.push(("etag".into(), etag));
    if let Some(sum) = &sum {
        headers.extend(super::checksums::headers(sum, Some(ChecksumType::FullObject)));
    }
    headers.extend(sealing.headers);
    Ok(empty(200, headers))
}

/// The blobs of the current object a write to `record_key` replaces in a bucket without
/// versioning (with versioning, they stay with the object's version; a suspended bucket's
/// replaced `null` version is what `versions::record` returns).
pub(super) fn replaced_blobs(
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
    record_key: &str,
) -> Result<Vec<BlobRef>, ApiError> {
    if super::versions::status(bucket).is_some() {
        return Ok(Vec::new());
    }
    let old = ObjectRecord::get_for_update(tx, &bucket.account, record_key)?;
    Ok(old.map(|old| blobs::blob_files(&bucket.account, &old.body)).unwrap_or_default())
}

/// Writes an object's record in the transaction the event joins. The blobs of an object it
/// replaces go once it has committed (removing them first would lose the old object if the
/// commit failed).
fn commit_object<'s>(
    state: &'s State,
    bucket: &Bucket,
    object: Object,
    (input, facts): (&PutObject, &RequestFacts),
    effect: &mut Effect<'s>,
) -> Result<(), ApiError> {
    let mut tx = begin_versioned_write(state, bucket)?;
    super::ownership::check_held(tx.as_mut(), bucket, object.acl.as_ref())?;
    let conditions = (input.if_match.as_deref(), input.if_none_match.as_deref());
    write_conditions(tx.as_mut(), bucket, &object.key, conditions)?;
    if object.version_id.is_some() {
        let replaced = super::versions::record(tx.as_mut(), bucket, &object, facts.time_ms)?;
        effect.garbage.extend(
            replaced.map(|r| blobs::blob_files(&bucket.account, &r.body.0)).unwrap_or_default(),
        );
    }
    let record_key = object_key(bucket, &object.key);
    effect.garbage.extend(replaced_blobs(tx.as_mut(), bucket, &record_key)?);
    ObjectRecord::new(&bucket.account, &record_key, object, facts.time_ms)
        .put(tx.as_mut(), PutMode::Upsert)?;
    effect.tx = Some(tx);
    Ok(())
}

/// `If-None-Match: *` (501 for any other value, as in S3) before a write does any work.
pub(super) fn refuse_unsupported_conditions(if_none_match: Option<&str>) -> Result<(), ApiError> {
    if if_none_match.is_some_and(|v| v.trim() != "*") {
        return Err(s3err(
            501,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
        ));
    }
    Ok(())
}

/// A conditional write (`If-Match`, `If-None-Match: *`), checked against the key's current
/// object under the key's lock in the write's transaction, so that of two racing
/// `If-None-Match: *` writes one fails.
pub(super) fn write_conditions(
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
    key: &str,
    (if_match, if_none_match): (Option<&str>, Option<&str>),
) -> Result<(), ApiError> {
    if if_match.is_none() && if_none_match.is_none() {
        return Ok(());
    }
    let current = ObjectRecord::get_for_update(tx, &bucket.account, &object_key(bucket, key))?
        .filter(|c| !c.body.delete_marker);
    let failed = || {
        s3err(
            412,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
        )
    };
    if if_none_match.is_some() && current.is_some() {
        return Err(failed());
    }
    if let Some(wanted) = if_match {
        let Some(current) = &current else { return Err(no_such_key(key)) };
        let wanted = wanted.trim().trim_matches('"');
        if wanted != "*" && wanted != current.body.etag.trim_matches('"') {
            return Err(failed());
        }
    }
    Ok(())
}

/// The object a read names: the version `version_id` (authorized as `s3:GetObjectVersion`
/// too, and not a delete marker), else the current object.
pub(super) fn read_target(
    ctx: &Ctx<'_>,
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
) -> Result<ObjectRecord, ApiError> {
    let state = ctx.state;
    let Some(v) = version_id else {
        if let Some(current) = object(state, bucket, key)? {
            return Ok(current);
        }
        // A key whose newest version is a delete marker says so, as S3's 404 does. Only a
        // bucket that has had versioning has markers: another's miss reads nothing more.
        if bucket.body.versioning.is_none() {
            return Err(no_such_key(key));
        }
        let mut tx = state.store.read()?;
        let newest = super::versions::of_key(tx.as_mut(), bucket, key)?.into_iter().next();
        return Err(match newest.filter(|n| n.body.0.delete_marker) {
            Some(marker) => no_such_key(key)
                .with_header("x-amz-delete-marker", "true")
                .with_header("x-amz-version-id", marker.body.0.version_id.unwrap_or_default()),
            None => no_such_key(key),
        });
    };
    let mut tx = state.store.read()?;
    let found = super::versions::find_object(tx.as_mut(), bucket, key, v)?
        .ok_or_else(|| s3err(404, "NoSuchVersion", "The specified version does not exist."))?;
    if found.body.delete_marker {
        return Err(s3err(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against a delete marker.",
        )
        .with_header("x-amz-delete-marker", "true")
        .with_header("last-modified", http_date(found.body.last_modified_ms)));
    }
    Ok(found)
}

/// S3's rules for a tag set of at most `max` tags: keys of 1 to 128 characters, values of at
/// most 256, each key once, none in the reserved `aws:` namespace. Too many object tags is
/// `BadRequest` (S3's answer), anything else `InvalidTag`.
pub(super) fn check_tags<'a>(
    tags: impl IntoIterator<Item = (&'a String, &'a String)>,
    max: usize,
) -> Result<(), ApiError> {
    let invalid = |m: String| s3err(400, "InvalidTag", m);
    let mut seen = std::collections::BTreeSet::new();
    for (k, v) in tags {
        if !(1..=128).contains(&k.chars().count()) {
            return Err(invalid("The TagKey you have provided is invalid".into()));
        }
        if v.chars().count() > 256 {
            return Err(invalid("The TagValue you have provided is invalid".into()));
        }
        if k.starts_with("aws:") {
            return Err(invalid("System tags cannot be added/updated by requester".into()));
        }
        if !seen.insert(k) {
            return Err(invalid("Cannot provide multiple Tags with the same key".into()));
        }
    }
    if seen.len() > max {
        return Err(if max == 10 {
            s3err(400, "BadRequest", "Object tags cannot be greater than 10")
        } else {
            invalid(format!("Bucket tag count cannot be greater than {max}"))
        });
    }
    Ok(())
}

/// The condition keys of a write: its encryption headers', its ACL's (`s3:x-amz-acl`,
/// `s3:x-amz-grant-*`) and `s3:RequestObjectTag/*`.
pub(super) fn put_context(input: &PutObject, now: i64) -> Result<Vec<(String, String)>, ApiError> {
    check_tags(&input.fields.tagging, 10)?;
    let mut context = sse::context(&input.encryption)?;
    if let Some(acl) = &input.acl.acl {
        context.push(("s3:x-amz-acl".into(), acl.clone()));
    }
    for (permission, value) in &input.acl.grants {
        context.push((format!("s3:{}", permission.header()), value.clone()));
    }
    for (k, v) in &input.fields.tagging {
        context.push((format!("s3:RequestObjectTag/{k}"), v.clone()));
    }
    context.extend(super::lock::context(&input.lock, now));
    Ok(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_round_trip() {
        assert_eq!(http_date(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(parse_http_date("nonsense"), None);
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100).unwrap(), (0, 9));
        assert_eq!(parse_range("bytes=90-", 100).unwrap(), (90, 99));
        assert_eq!(parse_range("bytes=-10", 100).unwrap(), (90, 99));
        assert_eq!(parse_range("bytes=95-200", 100).unwrap(), (95, 99));
        assert!(parse_range("bytes=100-", 100).is_err());
        assert!(parse_range("bytes=5-1", 100).is_err());
        assert!(parse_range("items=0-1", 100).is_err());
    }
}
