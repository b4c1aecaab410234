//! S3 objects: put, get (ranges, conditions), head, delete (one and many), copy, list (v1 and
//! v2), multipart uploads, tagging. An object is one or more sealed parts (`crypto::object`),
//! each a blob file, under one data key KMS issued for it as the caller.

use super::router::S3Operation;
use super::sse::{self, COPY_SOURCE, CUSTOMER};
use super::{empty, s3err, xml, xml_reply, Bucket, S3Request};
use crate::error::ApiError;
use crate::pipeline::events::RequestFacts;
use crate::pipeline::service::{Ctx, Effect, Operation};
use crate::pipeline::{Reply, State};
use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{json, Value};
use std::path::PathBuf;
use store::{PutMode, Record};

/// Smallest part but the last (AWS's 5 MiB).
pub const MIN_PART: u64 = 5 * 1024 * 1024;
/// Most parts in one upload.
pub const MAX_PARTS: u32 = 10_000;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn blob_dir(state: &State, account: &str) -> PathBuf {
    state.config.data_dir.join("blobs").join(account)
}

/// A blob being written: a temporary file that becomes the blob on [`BlobWriter::commit`]
/// (fsync, rename, directory fsync) and is removed if dropped before.
struct BlobWriter {
    dir: PathBuf,
    name: String,
    file: Option<std::fs::File>,
}

fn store_failed<E>(_: E) -> ApiError {
    ApiError::unavailable("the object could not be stored")
}

impl BlobWriter {
    fn create(state: &State, account: &str) -> Result<BlobWriter, ApiError> {
        let dir = blob_dir(state, account);
        std::fs::create_dir_all(&dir).map_err(store_failed)?;
        let name = crate::support::ids::uuid();
        let file = std::fs::File::create(dir.join(format!("{name}.tmp"))).map_err(store_failed)?;
        Ok(BlobWriter { dir, name, file: Some(file) })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ApiError> {
        use std::io::Write;
        let file = self.file.as_mut().ok_or_else(|| store_failed(()))?;
        file.write_all(bytes).map_err(store_failed)
    }

    /// Makes the blob durable under its name; returns the name.
    fn commit(mut self) -> Result<String, ApiError> {
        let file = self.file.take().ok_or_else(|| store_failed(()))?;
        let tmp = self.dir.join(format!("{}.tmp", self.name));
        let durable =
            file.sync_all().and_then(|()| std::fs::rename(&tmp, self.dir.join(&self.name)));
        if let Err(e) = durable {
            let _ = std::fs::remove_file(&tmp);
            return Err(store_failed(e));
        }
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(std::mem::take(&mut self.name))
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(self.dir.join(format!("{}.tmp", self.name)));
        }
    }
}

/// A write transaction on `bucket`'s objects or uploads, holding the bucket
/// ([`super::hold_bucket`]).
fn begin_write<'s>(state: &'s State, bucket: &Bucket) -> Result<Box<dyn store::Tx + 's>, ApiError> {
    let mut tx = state.store.begin()?;
    super::hold_bucket(tx.as_mut(), bucket)?;
    Ok(tx)
}

/// [`begin_write`] for a write that depends on the bucket's versioning (what an object write
/// or delete leaves behind): the status must still be the one the request found
/// ([`super::same_versioning`]).
fn begin_versioned_write<'s>(
    state: &'s State,
    bucket: &Bucket,
) -> Result<Box<dyn store::Tx + 's>, ApiError> {
    let mut tx = state.store.begin()?;
    let held = super::hold_bucket(tx.as_mut(), bucket)?;
    super::same_versioning(&held, bucket)?;
    Ok(tx)
}

/// The blob files of an object's parts, to be removed once the transaction that drops the last
/// record naming them has committed (see [`super::Effect::garbage`]).
fn blob_files(state: &State, account: &str, body: &Value) -> Vec<PathBuf> {
    body.get("Parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|part| part_file(state, account, part))
        .collect()
}

/// The blob file of one sealed part (an entry of an object's `Parts`).
fn part_file(state: &State, account: &str, part: &Value) -> Option<PathBuf> {
    part.get("Blob").and_then(Value::as_str).map(|name| blob_dir(state, account).join(name))
}

/// The part records of an upload, in part-number order.
fn upload_parts(
    tx: &mut dyn store::ReadTx,
    account: &str,
    upload_key: &str,
) -> Result<Vec<Record>, ApiError> {
    crate::support::records::list(
        tx,
        account,
        "s3_part",
        &format!("{upload_key}/"),
        MAX_PARTS as usize,
    )
}

/// Deletes an upload's remaining part records and the upload itself in `tx`; returns the part
/// records, whose blobs go once the transaction has committed.
fn drop_upload(
    tx: &mut dyn store::Tx,
    account: &str,
    upload_key: &str,
) -> Result<Vec<Record>, ApiError> {
    let parts = upload_parts(tx, account, upload_key)?;
    for p in &parts {
        tx.delete_record(account, "s3_part", &p.key)?;
    }
    tx.delete_record(account, "s3_upload", upload_key)?;
    Ok(parts)
}

/// The sealed part a part record holds.
fn part_of(body: &Value) -> &Value {
    body.get("Part").unwrap_or(&Value::Null)
}

fn text<'a>(body: &'a Value, key: &str) -> &'a str {
    body.get(key).and_then(Value::as_str).unwrap_or_default()
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

fn parse_http_date(text: &str) -> Option<i64> {
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

fn metadata_headers(body: &Value) -> Vec<(String, String)> {
    let mut out = vec![
        ("etag".to_string(), text(body, "ETag").to_string()),
        (
            "last-modified".to_string(),
            http_date(body.get("LastModifiedMs").and_then(Value::as_i64).unwrap_or(0)),
        ),
        (
            "content-type".to_string(),
            Some(text(body, "ContentType"))
                .filter(|c| !c.is_empty())
                .unwrap_or("binary/octet-stream")
                .to_string(),
        ),
        ("accept-ranges".to_string(), "bytes".to_string()),
    ];
    for (k, v) in body.get("Metadata").and_then(Value::as_object).into_iter().flatten() {
        out.push((format!("x-amz-meta-{k}"), v.as_str().unwrap_or_default().to_string()));
    }
    for name in ["CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage"] {
        let v = text(body, name);
        if !v.is_empty() {
            let header = match name {
                "CacheControl" => "cache-control",
                "ContentDisposition" => "content-disposition",
                "ContentEncoding" => "content-encoding",
                _ => "content-language",
            };
            out.push((header.into(), v.to_string()));
        }
    }
    let tags = body.get("Tags").and_then(Value::as_object).map_or(0, serde_json::Map::len);
    if tags > 0 {
        out.push(("x-amz-tagging-count".into(), tags.to_string()));
    }
    out
}

/// `s3:ExistingObjectTag/*` of an object, if it exists (empty otherwise).
pub(super) fn existing_tags(
    state: &State,
    bucket: &Bucket,
    key: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    Ok(object(state, bucket, key)?
        .and_then(|r| r.body.get("Tags").and_then(Value::as_object).cloned())
        .map(|tags| {
            tags.iter()
                .map(|(k, v)| {
                    (
                        format!("s3:ExistingObjectTag/{k}"),
                        v.as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}

/// The object's record, if it exists.
fn object(state: &State, bucket: &Bucket, key: &str) -> Result<Option<Record>, ApiError> {
    let mut tx = state.store.read()?;
    tx.get_record(&bucket.account, "s3_object", &format!("{}/{key}", bucket.key))
        .map_err(ApiError::from)
}

fn no_such_key(key: &str) -> ApiError {
    s3err(404, "NoSuchKey", format!("The specified key does not exist: {key}"))
}

/// `Content-MD5`, the `x-amz-checksum-*` headers and the ETag's MD5, computed as the body goes
/// by and checked at the end.
struct Integrity {
    md5: Md5,
    content_md5: Option<String>,
    sums: Vec<(String, String, sigv4::checksum::Checksum)>,
}

impl Integrity {
    fn new(req: &S3Request<'_>) -> Integrity {
        let sums = req
            .headers
            .iter()
            .filter_map(|(name, value)| {
                let lower = name.to_ascii_lowercase();
                let sum = sigv4::checksum::Checksum::for_header(&lower)?;
                Some((lower, value.trim().to_string(), sum))
            })
            .collect();
        let content_md5 = req.header("content-md5").map(|m| m.trim().to_string());
        Integrity { md5: Md5::new(), content_md5, sums }
    }

    /// Only the MD5 (the ETag), no declared digest to check.
    fn none() -> Integrity {
        Integrity { md5: Md5::new(), content_md5: None, sums: Vec::new() }
    }

    fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        for (_, _, sum) in &mut self.sums {
            sum.update(bytes);
        }
    }

    /// Checks the declared digests; returns the body's MD5 (hex), its ETag.
    fn finish(self) -> Result<String, ApiError> {
        let md5 = self.md5.finalize();
        if let Some(given) = &self.content_md5 {
            let expected = b64().decode(given).map_err(|_| {
                s3err(400, "InvalidDigest", "The Content-MD5 you specified was invalid.")
            })?;
            if expected.as_slice() != md5.as_slice() {
                return Err(s3err(
                    400,
                    "BadDigest",
                    "The Content-MD5 you specified did not match what we received.",
                ));
            }
        }
        for (name, expected, sum) in &self.sums {
            if sum.finish_base64() != *expected {
                return Err(s3err(
                    400,
                    "BadDigest",
                    format!("The {name} you specified did not match the calculated checksum."),
                ));
            }
        }
        Ok(sigv4::encode::hex(md5.as_slice()))
    }
}

fn user_metadata(req: &S3Request<'_>) -> Value {
    let mut map = serde_json::Map::new();
    for (name, value) in req.headers {
        let lower = name.to_ascii_lowercase();
        if let Some(k) = lower.strip_prefix("x-amz-meta-") {
            map.insert(k.to_string(), json!(value));
        }
    }
    Value::Object(map)
}

fn tags_from_query(text: &str) -> serde_json::Map<String, Value> {
    crate::protocol::query::parse_form(text).into_iter().map(|(k, v)| (k, json!(v))).collect()
}

/// Seals a request's body as one part under `data_key`: the streamed body if the request has
/// one, else `plaintext` (its buffered body, or a copy's bytes). Checks the body's digests and
/// writes its blob durably, listing it in `fresh` (see [`super::Effect::fresh`]); returns the
/// part entry (`Blob`, `Size`, `Identity`, `MD5`).
fn seal_body(
    state: &State,
    req: &S3Request<'_>,
    (account, identity): (&str, &str),
    data_key: &crypto::SecretBytes,
    plaintext: &[u8],
    fresh: &mut Vec<PathBuf>,
) -> Result<Value, ApiError> {
    let sealing_failed = |_| ApiError::internal("the object could not be encrypted");
    // A copy's bytes are another object's: the request's digests do not describe them.
    let source = req.stream.borrow_mut().take();
    let mut integrity = if matches!(source, Some(Source::Copy(_))) {
        Integrity::none()
    } else {
        Integrity::new(req)
    };
    let mut source = source.unwrap_or_else(|| Source::Whole(Some(plaintext.to_vec())));
    let len = source.len(req)?;
    let mut blob = BlobWriter::create(state, account)?;
    let (mut encryptor, header) =
        crypto::object::Encryptor::new(data_key, identity.as_bytes(), len)
            .map_err(sealing_failed)?;
    blob.write(&header)?;
    let mut out = Vec::with_capacity(2 * crypto::object::SEGMENT);
    let mut total = 0u64;
    while let Some(bytes) = source.read()? {
        total = total.saturating_add(bytes.len() as u64);
        if total > len {
            return Err(crate::protocol::payload::incomplete());
        }
        integrity.update(&bytes);
        encryptor.push(&bytes, &mut out).map_err(sealing_failed)?;
        blob.write(&out)?;
        out.clear();
    }
    if total != len {
        return Err(crate::protocol::payload::incomplete());
    }
    encryptor.finish(&mut out).map_err(sealing_failed)?;
    blob.write(&out)?;
    let mut md5 = integrity.finish()?;
    // The caller has opened or sealed the data key already, so SSE-C headers mean SSE-C here.
    if req.header(&format!("{CUSTOMER}algorithm")).is_some() {
        // SSE-C: the ETag is not the plaintext's MD5 (as in S3), and nothing stored hashes the
        // plaintext without a key: an HMAC of the MD5 under the object's data key.
        let keyed = sigv4::key::hmac(data_key.expose(), md5.as_bytes());
        md5 = sigv4::encode::hex(keyed.get(..16).unwrap_or_default());
    }
    let name = blob.commit()?;
    fresh.push(blob_dir(state, account).join(&name));
    Ok(json!({ "Blob": name, "Size": len, "Identity": identity, "MD5": md5 }))
}

/// The object bytes a streamed body declares: `x-amz-decoded-content-length` for
/// `aws-chunked` bodies, else `Content-Length`; at most 5 GiB, as in S3.
fn declared_length(req: &S3Request<'_>) -> Result<u64, ApiError> {
    let len = req
        .header("x-amz-decoded-content-length")
        .or_else(|| req.header("content-length"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            s3err(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
        })?;
    if len > super::MAX_PUT {
        return Err(s3err(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed object size.",
        ));
    }
    Ok(len)
}

/// Plaintext bytes per chunk read (16 segments): the unit of a streamed GET or copy.
const STREAM_CHUNK: u64 = 1024 * 1024;

/// A part's blob, opened, and where the part lies in its object's plaintext.
struct OpenPart {
    file: std::fs::File,
    /// The part's first plaintext byte in the object.
    start: u64,
    size: u64,
    identity: String,
}

/// Reads plaintext bytes `first..=last` of an object a chunk at a time, reading from each
/// part's blob only the segments a chunk needs. Every blob is opened when the reader is made:
/// an overwrite or delete that commits meanwhile removes blob files, and an open file stays
/// readable, so a read that has begun always finishes. A malformed or unauthentic blob is an
/// internal error.
pub(crate) struct ObjectReader {
    parts: std::vec::IntoIter<OpenPart>,
    data_key: crypto::SecretBytes,
    first: u64,
    last: u64,
    /// The part being read, its opener and the next and last part-relative bytes to read.
    current: Option<(OpenPart, crypto::object::Opener, u64, u64)>,
    /// Plaintext bytes the reader yields in all.
    len: u64,
}

impl ObjectReader {
    fn open(
        state: &State,
        account: &str,
        body: &Value,
        data_key: &crypto::SecretBytes,
        first: u64,
        last: u64,
    ) -> Result<ObjectReader, ApiError> {
        let dir = blob_dir(state, account);
        let mut parts = Vec::new();
        let mut start = 0u64;
        for part in body.get("Parts").and_then(Value::as_array).into_iter().flatten() {
            let size = part.get("Size").and_then(Value::as_u64).unwrap_or(0);
            let end = start
                .checked_add(size)
                .ok_or_else(|| ApiError::internal("an object's record is malformed"))?;
            if size > 0 && end > first && start <= last {
                let file = std::fs::File::open(dir.join(text(part, "Blob")))
                    .map_err(|_| ApiError::internal("an object's data is missing"))?;
                let identity = text(part, "Identity").to_string();
                parts.push(OpenPart { file, start, size, identity });
            }
            start = end;
        }
        let len = if first > last || first >= start { 0 } else { last.min(start - 1) - first + 1 };
        Ok(ObjectReader {
            parts: parts.into_iter(),
            data_key: data_key.clone(),
            first,
            last,
            current: None,
            len,
        })
    }

    /// The next chunk of plaintext, or `None` at the end of the range.
    fn read(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        use std::os::unix::fs::FileExt;
        let missing = |_| ApiError::internal("an object's data is missing");
        let corrupt = |_| ApiError::internal("an object failed authentication");
        loop {
            if let Some((part, opener, from, to)) = &mut self.current {
                if *from <= *to {
                    let chunk_end = from.saturating_add(STREAM_CHUNK - 1).min(*to);
                    let (at, len) = opener.span(*from, chunk_end).map_err(corrupt)?;
                    let len = usize::try_from(len)
                        .map_err(|_| ApiError::internal("an object is too large to read"))?;
                    let mut buf = vec![0u8; len];
                    part.file.read_exact_at(&mut buf, at).map_err(missing)?;
                    opener.open(*from, chunk_end, &mut buf).map_err(corrupt)?;
                    *from = chunk_end + 1;
                    return Ok(Some(buf));
                }
            }
            let Some(part) = self.parts.next() else { return Ok(None) };
            let stored = part.file.metadata().map_err(missing)?.len();
            let mut header = [0u8; crypto::object::HEADER_LEN];
            part.file.read_exact_at(&mut header, 0).map_err(missing)?;
            let opener = crypto::object::Opener::new(
                &self.data_key,
                part.identity.as_bytes(),
                &header,
                stored,
            )
            .map_err(corrupt)?;
            // `open` kept only parts that overlap the range, with `size >= 1`.
            let from = self.first.saturating_sub(part.start);
            let to = self.last.min(part.start + part.size - 1) - part.start;
            self.current = Some((part, opener, from, to));
        }
    }
}

/// Where a part's bytes come from.
pub(crate) enum Source {
    /// A request body, decoded and verified as it arrives.
    Upload(crate::protocol::payload::PayloadReader),
    /// Another object's plaintext (CopyObject, UploadPartCopy).
    Copy(ObjectReader),
    /// A body read whole, handed over once.
    Whole(Option<Vec<u8>>),
}

impl Source {
    fn read(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        match self {
            Source::Upload(reader) => reader.read(),
            Source::Copy(reader) => reader.read(),
            Source::Whole(bytes) => Ok(bytes.take()),
        }
    }

    /// The plaintext bytes the source holds in all (before any is read): what an upload
    /// declares, a copy's range, a whole body's length.
    fn len(&self, req: &S3Request<'_>) -> Result<u64, ApiError> {
        match self {
            Source::Upload(_) => declared_length(req),
            Source::Copy(reader) => Ok(reader.len),
            Source::Whole(bytes) => Ok(bytes.as_ref().map_or(0, |b| b.len() as u64)),
        }
    }
}

fn parse_range(header: &str, size: u64) -> Result<(u64, u64), ApiError> {
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
fn conditions(req: &S3Request<'_>, body: &Value) -> Result<(), ApiError> {
    let etag = text(body, "ETag");
    let modified = body.get("LastModifiedMs").and_then(Value::as_i64).unwrap_or(0) / 1000 * 1000;
    let matches = |list: &str| list.split(',').any(|t| t.trim() == "*" || t.trim() == etag);
    if let Some(m) = req.header("if-match") {
        if !matches(m) {
            return Err(s3err(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
    } else if let Some(t) = req.header("if-unmodified-since").and_then(parse_http_date) {
        if modified > t {
            return Err(s3err(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
    }
    if let Some(m) = req.header("if-none-match") {
        if matches(m) {
            return Err(s3err(304, "NotModified", "Not Modified"));
        }
    } else if let Some(t) = req.header("if-modified-since").and_then(parse_http_date) {
        if modified <= t {
            return Err(s3err(304, "NotModified", "Not Modified"));
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
    let (state, facts) = (ctx.state, ctx.facts);
    let operation = op.name();
    let name = bucket.key.clone();
    let now = facts.time_ms;
    match operation {
        "ListObjects" | "ListObjectsV2" => list(ctx, operation, req, bucket),
        "ListMultipartUploads" => {
            let mut tx = state.store.read()?;
            let uploads = crate::support::records::list(
                tx.as_mut(),
                &bucket.account,
                "s3_upload",
                &format!("{name}/"),
                10_000,
            )?;
            let items: String = uploads
                .iter()
                .map(|u| format!("<Upload><Key>{}</Key><UploadId>{}</UploadId><Initiated>{}</Initiated><StorageClass>STANDARD</StorageClass></Upload>", xml::escape(text(&u.body, "Key")), xml::escape(text(&u.body, "UploadId")), crate::support::time::iso8601(u.body.get("CreatedMs").and_then(Value::as_i64).unwrap_or(0))))
                .collect();
            Ok(xml_reply(200, format!("<ListMultipartUploadsResult xmlns=\"{}\"><Bucket>{}</Bucket><IsTruncated>false</IsTruncated>{items}</ListMultipartUploadsResult>", xml::NS, xml::escape(&name))))
        }
        "DeleteObjects" => delete_objects(ctx, req, bucket, effect),
        _ => {
            let key = req.key.clone().unwrap_or_default();
            if key.len() > 1024 {
                return Err(s3err(400, "KeyTooLongError", "Your key is too long"));
            }
            match operation {
                "PutObject" => put(ctx, req, bucket, &key, effect),
                "CopyObject" => copy(ctx, req, bucket, &key, effect),
                "GetObject" | "HeadObject" => {
                    let record = read_target(ctx, bucket, &key, req.param("versionId"))?;
                    let open = || {
                        sse::open_key(
                            ctx,
                            sse::customer_key(req, CUSTOMER, facts)?,
                            &record.body,
                            bucket,
                            &key,
                        )
                    };
                    // An SSE-C object answers nothing, not even a precondition, without its key.
                    let customer_opened =
                        if sse::is_customer(&record.body) { Some(open()?) } else { None };
                    conditions(req, &record.body)?;
                    let size = record.body.get("Size").and_then(Value::as_u64).unwrap_or(0);
                    let mut headers = metadata_headers(&record.body);
                    if let Some(v) = record.body.get("VersionId").and_then(Value::as_str) {
                        headers.push(("x-amz-version-id".into(), v.to_string()));
                    }
                    let range = match req.header("range") {
                        Some(r) => Some(parse_range(r, size)?),
                        None => None,
                    };
                    if operation == "HeadObject" && customer_opened.is_none() {
                        let arn = text(&record.body, "KmsKeyArn");
                        headers.extend(sse::kms_headers(arn));
                        headers.push(("content-length".into(), size.to_string()));
                        return Ok(empty(200, headers));
                    }
                    let (data_key, sse_headers) = match customer_opened {
                        Some(opened) => opened,
                        None => open()?,
                    };
                    headers.extend(sse_headers);
                    if operation == "HeadObject" {
                        headers.push(("content-length".into(), size.to_string()));
                        return Ok(empty(200, headers));
                    }
                    let (status, first, last) = match range {
                        Some((f, l)) => {
                            headers.push(("content-range".into(), format!("bytes {f}-{l}/{size}")));
                            (206, f, l)
                        }
                        None => (200, 0, size.saturating_sub(1)),
                    };
                    let mut reader = ObjectReader::open(
                        state,
                        &bucket.account,
                        &record.body,
                        &data_key,
                        first,
                        last,
                    )?;
                    if reader.len <= STREAM_CHUNK {
                        // Small reads (an empty object too) answer whole.
                        let mut bytes = Vec::new();
                        while let Some(chunk) = reader.read()? {
                            bytes.extend_from_slice(&chunk);
                        }
                        return Ok(Reply { status, raw: Some(bytes), headers, ..Reply::default() });
                    }
                    // Large reads stream: decrypted a chunk at a time while the previous chunk
                    // is being sent. An error mid-stream ends the body short (the client sees a
                    // length mismatch), as a storage fault mid-response does in S3.
                    headers.push(("content-length".into(), reader.len.to_string()));
                    let producer: crate::pipeline::Producer = Box::new(move |send| {
                        while let Ok(Some(bytes)) = reader.read() {
                            if !send(bytes) {
                                break;
                            }
                        }
                    });
                    Ok(Reply { status, headers, stream: Some(producer), ..Reply::default() })
                }
                "DeleteObject" => {
                    let version = req.param("versionId");
                    // Authorized before: authorization reads on connections of its own, which
                    // must not be waited for while the transaction holds locks.
                    let mut tx = begin_versioned_write(state, bucket)?;
                    let k = format!("{name}/{key}");
                    if let Some(v) = version {
                        // One version goes for good; the current object follows the newest
                        // remaining version.
                        let mut headers = vec![("x-amz-version-id".to_string(), v.to_string())];
                        let deleted = delete_version(state, tx.as_mut(), bucket, &key, v, facts)?;
                        effect.tx = Some(tx);
                        if let Some((marker, garbage)) = deleted {
                            if marker {
                                headers.push(("x-amz-delete-marker".into(), "true".into()));
                            }
                            effect.garbage = garbage;
                        }
                        return Ok(empty(204, headers));
                    }
                    if let Some(marker_id) = super::versions::new_id(bucket) {
                        // Versioned: a delete marker becomes the newest version; data stays.
                        let marker = json!({ "Key": key, "VersionId": marker_id, "DeleteMarker": true, "LastModifiedMs": facts.time_ms });
                        let replaced = super::versions::record(
                            tx.as_mut(),
                            bucket,
                            &key,
                            &marker,
                            facts.time_ms,
                        )?;
                        effect.garbage = replaced
                            .map(|r| blob_files(state, &bucket.account, &r.body))
                            .unwrap_or_default();
                        if tx.get_record_for_update(&bucket.account, "s3_object", &k)?.is_some() {
                            tx.delete_record(&bucket.account, "s3_object", &k)?;
                        }
                        effect.tx = Some(tx);
                        return Ok(empty(
                            204,
                            vec![
                                ("x-amz-delete-marker".into(), "true".into()),
                                ("x-amz-version-id".into(), marker_id),
                            ],
                        ));
                    }
                    if let Some(old) = tx.get_record_for_update(&bucket.account, "s3_object", &k)? {
                        tx.delete_record(&bucket.account, "s3_object", &k)?;
                        effect.tx = Some(tx);
                        effect.garbage = blob_files(state, &bucket.account, &old.body);
                    } else {
                        effect.tx = Some(tx);
                    }
                    Ok(empty(204, Vec::new()))
                }
                "GetObjectTagging" | "PutObjectTagging" | "DeleteObjectTagging" => {
                    let mut tx = begin_write(state, bucket)?;
                    let k = format!("{name}/{key}");
                    let mut record = tx
                        .get_record_for_update(&bucket.account, "s3_object", &k)?
                        .ok_or_else(|| no_such_key(&key))?;
                    if operation == "GetObjectTagging" {
                        let tags: String = record
                            .body
                            .get("Tags")
                            .and_then(Value::as_object)
                            .into_iter()
                            .flatten()
                            .map(|(k, v)| {
                                format!(
                                    "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
                                    xml::escape(k),
                                    xml::escape(v.as_str().unwrap_or_default())
                                )
                            })
                            .collect();
                        return Ok(xml_reply(
                            200,
                            format!(
                                "<Tagging xmlns=\"{}\"><TagSet>{tags}</TagSet></Tagging>",
                                xml::NS
                            ),
                        ));
                    }
                    let tags: serde_json::Map<String, Value> = if operation == "PutObjectTagging" {
                        let keys = xml::elements(&req.body, "Key");
                        let values = xml::elements(&req.body, "Value");
                        if keys.len() > 10 {
                            return Err(s3err(
                                400,
                                "BadRequest",
                                "Object tags cannot be greater than 10",
                            ));
                        }
                        keys.into_iter().zip(values).map(|(k, v)| (k, json!(v))).collect()
                    } else {
                        serde_json::Map::new()
                    };
                    if let Some(obj) = record.body.as_object_mut() {
                        obj.insert("Tags".into(), Value::Object(tags));
                    }
                    record.updated_at_ms = now;
                    tx.put_record(&record, PutMode::Update)?;
                    effect.tx = Some(tx);
                    Ok(empty(
                        if operation == "DeleteObjectTagging" { 204 } else { 200 },
                        Vec::new(),
                    ))
                }
                _ => multipart(ctx, operation, req, bucket, &key, effect),
            }
        }
    }
}

fn put<'s>(
    ctx: &Ctx<'s>,
    req: &S3Request<'_>,
    bucket: &Bucket,
    key: &str,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    let name = &bucket.key;
    let object_arn = format!("arn:aws:s3:::{name}/{key}");
    super::refuse_acls(req)?;
    let tags = req.header("x-amz-tagging").map(tags_from_query).unwrap_or_default();
    let sealing = sse::new_key(ctx, req, bucket, key)?;
    let identity = format!("{object_arn}|{}|1", crate::support::ids::uuid());
    let part = seal_body(
        state,
        req,
        (&bucket.account, &identity),
        &sealing.data_key,
        &req.body,
        &mut effect.fresh,
    )?;
    let etag = format!("\"{}\"", text(&part, "MD5"));
    let size = part.get("Size").cloned().unwrap_or(json!(0));
    let body = json!({
        "Key": key, "Size": size, "ETag": etag, "LastModifiedMs": facts.time_ms,
        "ContentType": req.header("content-type").unwrap_or_default(),
        "CacheControl": req.header("cache-control").unwrap_or_default(),
        "ContentDisposition": req.header("content-disposition").unwrap_or_default(),
        "ContentEncoding": req.header("content-encoding").filter(|e| *e != "aws-chunked").unwrap_or_default(),
        "ContentLanguage": req.header("content-language").unwrap_or_default(),
        "Metadata": user_metadata(req), "Tags": Value::Object(tags),
        "Parts": [part],
    });
    let version = super::versions::new_id(bucket);
    let mut body = body;
    if let Some(obj) = body.as_object_mut() {
        obj.extend(sealing.fields);
        if let Some(v) = &version {
            obj.insert("VersionId".into(), json!(v));
        }
    }
    commit_object(state, bucket, key, body, facts, effect)?;
    let mut headers: Vec<(String, String)> =
        version.map(|v| vec![("x-amz-version-id".to_string(), v)]).unwrap_or_default();
    headers.push(("etag".into(), etag));
    headers.extend(sealing.headers);
    Ok(empty(200, headers))
}

/// The blobs of the current object a write to `record_key` replaces in a bucket without
/// versioning (with versioning, they stay with the object's version; a suspended bucket's
/// replaced `null` version is what `versions::record` returns).
fn replaced_blobs(
    state: &State,
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
    record_key: &str,
) -> Result<Vec<PathBuf>, ApiError> {
    if super::versions::status(bucket).is_some() {
        return Ok(Vec::new());
    }
    let old = tx.get_record_for_update(&bucket.account, "s3_object", record_key)?;
    Ok(old.map(|old| blob_files(state, &bucket.account, &old.body)).unwrap_or_default())
}

/// Writes an object's record in the transaction the event joins. The blobs of an object it
/// replaces go once it has committed (removing them first would lose the old object if the
/// commit failed).
fn commit_object<'s>(
    state: &'s State,
    bucket: &Bucket,
    key: &str,
    body: Value,
    facts: &RequestFacts,
    effect: &mut Effect<'s>,
) -> Result<(), ApiError> {
    let mut tx = begin_versioned_write(state, bucket)?;
    if body.get("VersionId").is_some() {
        let replaced = super::versions::record(tx.as_mut(), bucket, key, &body, facts.time_ms)?;
        effect.garbage.extend(
            replaced.map(|r| blob_files(state, &bucket.account, &r.body)).unwrap_or_default(),
        );
    }
    let record = Record {
        account: bucket.account.clone(),
        kind: "s3_object".into(),
        key: format!("{}/{key}", bucket.key),
        format_version: 1,
        body,
        updated_at_ms: facts.time_ms,
    };
    effect.garbage.extend(replaced_blobs(state, tx.as_mut(), bucket, &record.key)?);
    tx.put_record(&record, PutMode::Upsert)?;
    effect.tx = Some(tx);
    Ok(())
}

/// The object a read names: the version `version_id` (authorized as `s3:GetObjectVersion`
/// too, and not a delete marker), else the current object.
fn read_target(
    ctx: &Ctx<'_>,
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
) -> Result<Record, ApiError> {
    let state = ctx.state;
    let Some(v) = version_id else {
        return object(state, bucket, key)?.ok_or_else(|| no_such_key(key));
    };
    let mut tx = state.store.read()?;
    let found = super::versions::find(tx.as_mut(), bucket, key, v)?
        .ok_or_else(|| s3err(404, "NoSuchVersion", "The specified version does not exist."))?;
    if found.body.get("DeleteMarker").and_then(Value::as_bool) == Some(true) {
        return Err(s3err(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against a delete marker.",
        ));
    }
    Ok(found)
}

/// Copies read their source whole (at most 5 GiB, S3's limit for one copy).
fn copy_size_allowed(size: u64) -> Result<(), ApiError> {
    if size > super::MAX_PUT {
        return Err(s3err(
            400,
            "InvalidRequest",
            format!(
                "The specified copy source is larger than the maximum allowable size for a copy source: {}",
                super::MAX_PUT
            ),
        ));
    }
    Ok(())
}

/// A copy's source, read with the caller's permissions, and its opened data key.
struct CopySource {
    bucket: Bucket,
    record: Record,
    data_key: crypto::SecretBytes,
}

impl CopySource {
    /// `x-amz-copy-source-version-id` when the source is a version.
    fn version_header(&self) -> Vec<(String, String)> {
        self.record
            .body
            .get("VersionId")
            .and_then(Value::as_str)
            .map(|v| vec![("x-amz-copy-source-version-id".to_string(), v.to_string())])
            .unwrap_or_default()
    }
}

/// What `x-amz-copy-source` (`[/]bucket/key`, URL-encoded, optionally `?versionId=ID`) names:
/// the source bucket (`NoSuchBucket` if it does not exist), the object's ARN and version, and
/// the object as it is now, if it exists (authorization reads it for the copied tags).
pub(super) struct SourceRef {
    pub bucket: Bucket,
    pub key: String,
    pub arn: String,
    pub version_id: Option<String>,
    pub record: Option<Record>,
}

/// Resolves a copy's source (see [`SourceRef`]).
pub(super) fn copy_source_of(state: &State, req: &S3Request<'_>) -> Result<SourceRef, ApiError> {
    let header = req.header("x-amz-copy-source").unwrap_or_default();
    let (path, version_id) = match header.split_once("?versionId=") {
        Some((path, v)) => (path, Some(sigv4::encode::percent_decode(v).into_owned())),
        None => (header, None),
    };
    let path = sigv4::encode::percent_decode(path.trim_start_matches('/')).into_owned();
    let (src_bucket, src_key) =
        path.split_once('/').filter(|(_, k)| !k.is_empty()).ok_or_else(|| {
            s3err(
                400,
                "InvalidArgument",
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            )
        })?;
    let bucket = super::bucket(state, src_bucket)?;
    let record = match &version_id {
        None => object(state, &bucket, src_key)?,
        Some(v) => {
            let mut tx = state.store.read()?;
            super::versions::find(tx.as_mut(), &bucket, src_key, v)?
        }
    };
    Ok(SourceRef {
        arn: format!("arn:aws:s3:::{src_bucket}/{src_key}"),
        key: src_key.to_string(),
        bucket,
        version_id,
        record,
    })
}

/// A copy's source, read (authorized as `s3:GetObject`, and `s3:GetObjectVersion` for a
/// version), with its data key opened (with the
/// `x-amz-copy-source-server-side-encryption-customer-*` key for SSE-C).
fn copy_source(ctx: &Ctx<'_>, req: &S3Request<'_>) -> Result<CopySource, ApiError> {
    let named = copy_source_of(ctx.state, req)?;
    let (bucket, key) = (named.bucket, named.key);
    let record = read_target(ctx, &bucket, &key, named.version_id.as_deref())?;
    let (data_key, _) = sse::open_key(
        ctx,
        sse::customer_key(req, COPY_SOURCE, ctx.facts)?,
        &record.body,
        &bucket,
        &key,
    )?;
    Ok(CopySource { bucket, record, data_key })
}

/// The headers of a copy: the request's, with the source's metadata and tags unless the
/// directives say REPLACE, and without the request's digests (they do not describe the copy).
pub(super) fn copy_headers(req: &S3Request<'_>, record: &Record) -> Vec<(String, String)> {
    let replace_metadata = req.header("x-amz-metadata-directive") == Some("REPLACE");
    let replace_tags = req.header("x-amz-tagging-directive") == Some("REPLACE");
    const METADATA_HEADERS: [(&str, &str); 5] = [
        ("content-type", "ContentType"),
        ("cache-control", "CacheControl"),
        ("content-disposition", "ContentDisposition"),
        ("content-encoding", "ContentEncoding"),
        ("content-language", "ContentLanguage"),
    ];
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .filter(|(n, _)| {
            let metadata =
                n.starts_with("x-amz-meta-") || METADATA_HEADERS.iter().any(|(h, _)| h == n);
            !(n == "content-md5"
                || n == "content-length"
                || n.starts_with("x-amz-checksum-")
                || (metadata && !replace_metadata)
                || (n == "x-amz-tagging" && !replace_tags))
        })
        .collect();
    if !replace_metadata {
        for (header, field) in METADATA_HEADERS {
            let value = text(&record.body, field);
            if !value.is_empty() {
                headers.push((header.to_string(), value.to_string()));
            }
        }
        for (k, v) in record.body.get("Metadata").and_then(Value::as_object).into_iter().flatten() {
            headers.push((format!("x-amz-meta-{k}"), v.as_str().unwrap_or_default().to_string()));
        }
    }
    if !replace_tags {
        let tags: Vec<String> = record
            .body
            .get("Tags")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let v = v.as_str().unwrap_or_default();
                format!(
                    "{}={}",
                    sigv4::encode::uri_encode(k, false),
                    sigv4::encode::uri_encode(v, false)
                )
            })
            .collect();
        if !tags.is_empty() {
            headers.push(("x-amz-tagging".into(), tags.join("&")));
        }
    }
    headers
}

/// The condition keys of a write: its encryption headers' and `s3:RequestObjectTag/*`.
pub(super) fn put_context(req: &S3Request<'_>) -> Result<Vec<(String, String)>, ApiError> {
    let mut context = sse::context(req)?;
    let tags = req.header("x-amz-tagging").map(tags_from_query).unwrap_or_default();
    for (k, v) in &tags {
        context
            .push((format!("s3:RequestObjectTag/{k}"), v.as_str().unwrap_or_default().to_string()));
    }
    Ok(context)
}

fn copy<'s>(
    ctx: &Ctx<'s>,
    req: &S3Request<'_>,
    bucket: &Bucket,
    key: &str,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    let source = copy_source(ctx, req)?;
    let record = &source.record;
    let size = record.body.get("Size").and_then(Value::as_u64).unwrap_or(0);
    copy_size_allowed(size)?;
    // Streamed from the source's blobs into the new object's, a chunk at a time.
    let reader = ObjectReader::open(
        state,
        &source.bucket.account,
        &record.body,
        &source.data_key,
        0,
        size.saturating_sub(1),
    )?;
    let headers = copy_headers(req, record);
    let header_refs: Vec<(&str, &str)> =
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let copy_req = S3Request {
        method: "PUT",
        bucket: req.bucket.clone(),
        key: req.key.clone(),
        query: Vec::new(),
        headers: &header_refs,
        body: Vec::new(),
        stream: std::cell::RefCell::new(Some(Source::Copy(reader))),
    };
    let written = put(ctx, &copy_req, bucket, key, effect)?;
    let etag = written
        .headers
        .iter()
        .find(|(n, _)| n == "etag")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut reply = xml_reply(200, format!(
        "<CopyObjectResult xmlns=\"{}\"><LastModified>{}</LastModified><ETag>{}</ETag></CopyObjectResult>",
        xml::NS, crate::support::time::iso8601(facts.time_ms), xml::escape(&etag)
    ));
    // How the copy is sealed, and its version and its source's.
    reply.headers.extend(written.headers.into_iter().filter(|(name, _)| name != "etag"));
    reply.headers.extend(source.version_header());
    Ok(reply)
}

/// Deletes version `version_id` of `key` for good in `tx`; the current object becomes the newest
/// remaining version (none if that is a delete marker). Returns whether it was a delete marker
/// and the blobs to remove once `tx` commits, or `None` if there is no such version.
fn delete_version(
    state: &State,
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
    key: &str,
    version_id: &str,
    facts: &RequestFacts,
) -> Result<Option<(bool, Vec<PathBuf>)>, ApiError> {
    // The key's current object is what every version write locks first (`versions::record`):
    // two deletes of a key's newest versions, or a delete beside a PUT, take turns.
    let k = format!("{}/{key}", bucket.key);
    let current = tx.get_record_for_update(&bucket.account, "s3_object", &k)?;
    let Some(found) = super::versions::find(tx, bucket, key, version_id)? else {
        return Ok(None);
    };
    tx.delete_record(&bucket.account, "s3_version", &found.key)?;
    match super::versions::of_key(tx, bucket, key)?.into_iter().next() {
        Some(newest) if newest.body.get("DeleteMarker").and_then(Value::as_bool) != Some(true) => {
            let current = Record {
                account: bucket.account.clone(),
                kind: "s3_object".into(),
                key: k,
                format_version: 1,
                body: newest.body,
                updated_at_ms: facts.time_ms,
            };
            tx.put_record(&current, PutMode::Upsert)?;
        }
        _ => {
            if current.is_some() {
                tx.delete_record(&bucket.account, "s3_object", &k)?;
            }
        }
    }
    let marker = found.body.get("DeleteMarker").and_then(Value::as_bool) == Some(true);
    Ok(Some((marker, blob_files(state, &bucket.account, &found.body))))
}

fn delete_objects<'s>(
    ctx: &Ctx<'s>,
    req: &S3Request<'_>,
    bucket: &Bucket,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    let objects = xml::delete_objects(&req.body);
    if objects.len() > 1000 {
        return Err(s3err(400, "MalformedXML", "At most 1000 keys can be deleted at once."));
    }
    let quiet = xml::element(&req.body, "Quiet").as_deref() == Some("true");
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
                    super::check_now(ctx, "s3:DeleteObjectVersion", &arn, Some(bucket), context)
                }
                None => Ok(()),
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
        tx.get_record_for_update(&bucket.account, "s3_object", k)?;
    }
    let mut out = String::new();
    let mut garbage = Vec::new();
    for (key, version_id, verdict) in allowed {
        let deleted = verdict.and_then(|()| match &version_id {
                // One version, for good (as DeleteObject with a versionId).
                Some(v) => {
                    let found = delete_version(state, tx.as_mut(), bucket, &key, v, facts)?;
                    let marker = found.as_ref().is_some_and(|(marker, _)| *marker);
                    garbage.extend(found.map(|(_, files)| files).unwrap_or_default());
                    Ok(format!(
                        "<VersionId>{}</VersionId>{}",
                        xml::escape(v),
                        if marker { "<DeleteMarker>true</DeleteMarker>" } else { "" }
                    ))
                }
                None => {
                    let k = format!("{}/{key}", bucket.key);
                    let marker_id = super::versions::new_id(bucket);
                    if let Some(id) = &marker_id {
                        // Versioned: a delete marker; the data stays with its version.
                        let marker = json!({ "Key": key, "VersionId": id, "DeleteMarker": true, "LastModifiedMs": facts.time_ms });
                        let replaced = super::versions::record(
                            tx.as_mut(),
                            bucket,
                            &key,
                            &marker,
                            facts.time_ms,
                        )?;
                        if let Some(old) = replaced {
                            garbage.extend(blob_files(state, &bucket.account, &old.body));
                        }
                    }
                    if let Some(old) =
                        tx.get_record_for_update(&bucket.account, "s3_object", &k)?
                    {
                        tx.delete_record(&bucket.account, "s3_object", &k)?;
                        if marker_id.is_none() {
                            garbage.extend(blob_files(state, &bucket.account, &old.body));
                        }
                    }
                    Ok(marker_id
                        .map(|id| {
                            format!(
                                "<DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>{}</DeleteMarkerVersionId>",
                                xml::escape(&id)
                            )
                        })
                        .unwrap_or_default())
                }
            });
        match deleted {
            Ok(details) => {
                if !quiet {
                    out.push_str(&format!(
                        "<Deleted><Key>{}</Key>{details}</Deleted>",
                        xml::escape(&key)
                    ));
                }
            }
            // A store failure fails the whole request (the transaction is not committed).
            Err(e) if e.status >= 500 => return Err(e),
            Err(e) => out.push_str(&format!(
                "<Error><Key>{}</Key>{}<Code>{}</Code><Message>{}</Message></Error>",
                xml::escape(&key),
                version_id
                    .as_ref()
                    .map(|v| format!("<VersionId>{}</VersionId>", xml::escape(v)))
                    .unwrap_or_default(),
                xml::escape(&e.code),
                xml::escape(&e.message)
            )),
        }
    }
    effect.tx = Some(tx);
    effect.garbage = garbage;
    Ok(xml_reply(200, format!("<DeleteResult xmlns=\"{}\">{out}</DeleteResult>", xml::NS)))
}

/// The condition keys of a listing: `s3:prefix`, `s3:max-keys` and `s3:delimiter`.
pub(super) fn list_context(req: &S3Request<'_>) -> Result<Vec<(String, String)>, ApiError> {
    let max_keys: usize = match req.param("max-keys") {
        Some(m) => {
            m.parse().map_err(|_| s3err(400, "InvalidArgument", "max-keys must be an integer"))?
        }
        None => 1000,
    };
    let mut context = vec![
        ("s3:prefix".to_string(), req.param("prefix").unwrap_or_default().to_string()),
        ("s3:max-keys".to_string(), max_keys.min(1000).to_string()),
    ];
    if let Some(d) = req.param("delimiter").filter(|d| !d.is_empty()) {
        context.push(("s3:delimiter".into(), d.to_string()));
    }
    Ok(context)
}

fn list(
    ctx: &Ctx<'_>,
    operation: &str,
    req: &S3Request<'_>,
    bucket: &Bucket,
) -> Result<Reply, ApiError> {
    let state = ctx.state;
    let name = &bucket.key;
    let prefix = req.param("prefix").unwrap_or_default().to_string();
    let delimiter = req.param("delimiter").unwrap_or_default().to_string();
    let max_keys: usize = match req.param("max-keys") {
        Some(m) => {
            m.parse().map_err(|_| s3err(400, "InvalidArgument", "max-keys must be an integer"))?
        }
        None => 1000,
    };
    let max_keys = max_keys.min(1000);
    let v2 = operation == "ListObjectsV2";
    let start_after = if v2 {
        match req.param("continuation-token") {
            Some(t) => Some(
                String::from_utf8(b64().decode(t).map_err(|_| {
                    s3err(400, "InvalidArgument", "The continuation token provided is incorrect")
                })?)
                .map_err(|_| {
                    s3err(400, "InvalidArgument", "The continuation token provided is incorrect")
                })?,
            ),
            None => req.param("start-after").map(str::to_string),
        }
    } else {
        req.param("marker").map(str::to_string)
    };
    let mut contents: Vec<Record> = Vec::new();
    let mut common: Vec<String> = Vec::new();
    let mut after = start_after.clone().map(|s| format!("{name}/{s}"));
    let full_prefix = format!("{name}/{prefix}");
    let mut truncated = false;
    let mut last_seen: Option<String> = None;
    'outer: loop {
        let page = {
            let mut tx = state.store.read()?;
            tx.list_records(&store::RecordQuery {
                account: &bucket.account,
                kind: "s3_object",
                prefix: &full_prefix,
                after: after.as_deref(),
                limit: 1000,
            })?
        };
        for record in &page.items {
            let key =
                record.key.strip_prefix(&format!("{name}/")).unwrap_or(&record.key).to_string();
            if contents.len() + common.len() >= max_keys {
                truncated = true;
                break 'outer;
            }
            if !delimiter.is_empty() {
                if let Some(pos) = key.get(prefix.len()..).and_then(|rest| rest.find(&delimiter)) {
                    let cp =
                        key.get(..prefix.len() + pos + delimiter.len()).unwrap_or(&key).to_string();
                    if common.last() != Some(&cp) {
                        common.push(cp.clone());
                    }
                    last_seen = Some(cp.clone());
                    // Skip every key under this common prefix.
                    after = Some(format!("{name}/{cp}\u{10FFFF}"));
                    continue 'outer;
                }
            }
            last_seen = Some(key.clone());
            contents.push(record.clone());
        }
        if !page.truncated {
            break;
        }
        after = page.items.last().map(|r| r.key.clone());
    }
    let entries: String = contents
        .iter()
        .map(|r| {
            format!(
                "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
                xml::escape(text(&r.body, "Key")),
                crate::support::time::iso8601(r.body.get("LastModifiedMs").and_then(Value::as_i64).unwrap_or(0)),
                xml::escape(text(&r.body, "ETag")),
                r.body.get("Size").and_then(Value::as_u64).unwrap_or(0)
            )
        })
        .collect();
    let prefixes: String = common
        .iter()
        .map(|p| format!("<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>", xml::escape(p)))
        .collect();
    let delim = if delimiter.is_empty() {
        String::new()
    } else {
        format!("<Delimiter>{}</Delimiter>", xml::escape(&delimiter))
    };
    let body = if v2 {
        let token = req
            .param("continuation-token")
            .map(|t| format!("<ContinuationToken>{}</ContinuationToken>", xml::escape(t)))
            .unwrap_or_default();
        let next = match (truncated, &last_seen) {
            (true, Some(l)) => {
                format!("<NextContinuationToken>{}</NextContinuationToken>", b64().encode(l))
            }
            _ => String::new(),
        };
        let start = req
            .param("start-after")
            .map(|s| format!("<StartAfter>{}</StartAfter>", xml::escape(s)))
            .unwrap_or_default();
        format!(
            "<ListBucketResult xmlns=\"{}\"><Name>{}</Name><Prefix>{}</Prefix>{delim}<MaxKeys>{max_keys}</MaxKeys><KeyCount>{}</KeyCount><IsTruncated>{truncated}</IsTruncated>{token}{next}{start}{entries}{prefixes}</ListBucketResult>",
            xml::NS, xml::escape(name), xml::escape(&prefix), contents.len() + common.len()
        )
    } else {
        let marker = req.param("marker").unwrap_or_default();
        let next = match (truncated, &last_seen) {
            (true, Some(l)) => format!("<NextMarker>{}</NextMarker>", xml::escape(l)),
            _ => String::new(),
        };
        format!(
            "<ListBucketResult xmlns=\"{}\"><Name>{}</Name><Prefix>{}</Prefix><Marker>{}</Marker>{delim}<MaxKeys>{max_keys}</MaxKeys><IsTruncated>{truncated}</IsTruncated>{next}{entries}{prefixes}</ListBucketResult>",
            xml::NS, xml::escape(name), xml::escape(&prefix), xml::escape(marker)
        )
    };
    Ok(xml_reply(200, body))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn multipart<'s>(
    ctx: &Ctx<'s>,
    operation: &str,
    req: &S3Request<'_>,
    bucket: &Bucket,
    key: &str,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    let name = &bucket.key;
    let object_arn = format!("arn:aws:s3:::{name}/{key}");
    let upload_id = req.param("uploadId").unwrap_or_default().to_string();
    let upload_key = format!("{name}/{key}/{upload_id}");
    let no_upload = || {
        s3err(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
    };
    let load_upload = || -> Result<Record, ApiError> {
        let mut tx = state.store.read()?;
        tx.get_record(&bucket.account, "s3_upload", &upload_key)?.ok_or_else(no_upload)
    };
    // The upload's record, held until `tx` ends: what changes an upload's parts (UploadPart,
    // Complete, Abort) takes it first, so none of them works on an upload another has ended
    // (a part committed after a Complete or Abort listed the parts would be named by a record
    // no upload owns, and its blob kept forever).
    let lock_upload = |tx: &mut dyn store::Tx| -> Result<Record, ApiError> {
        tx.get_record_for_update(&bucket.account, "s3_upload", &upload_key)?.ok_or_else(no_upload)
    };
    match operation {
        "CreateMultipartUpload" => {
            super::refuse_acls(req)?;
            let sealing = sse::new_key(ctx, req, bucket, key)?;
            let id =
                sigv4::encode::hex(&sigv4::key::sha256(crate::support::ids::uuid().as_bytes()));
            let record = Record {
                account: bucket.account.clone(),
                kind: "s3_upload".into(),
                key: format!("{name}/{key}/{id}"),
                format_version: 1,
                body: json!({
                    "Key": key, "UploadId": id, "CreatedMs": facts.time_ms,
                    "ContentType": req.header("content-type").unwrap_or_default(),
                    "Metadata": user_metadata(req),
                    "Tags": Value::Object(req.header("x-amz-tagging").map(tags_from_query).unwrap_or_default()),
                }),
                updated_at_ms: facts.time_ms,
            };
            let mut record = record;
            if let Some(obj) = record.body.as_object_mut() {
                obj.extend(sealing.fields);
            }
            let mut tx = begin_write(state, bucket)?;
            tx.put_record(&record, PutMode::Create)?;
            effect.tx = Some(tx);
            let mut reply = xml_reply(200, format!(
                "<InitiateMultipartUploadResult xmlns=\"{}\"><Bucket>{}</Bucket><Key>{}</Key><UploadId>{id}</UploadId></InitiateMultipartUploadResult>",
                xml::NS, xml::escape(name), xml::escape(key)
            ));
            reply.headers.extend(sealing.headers);
            Ok(reply)
        }
        "UploadPart" | "UploadPartCopy" => {
            let upload = load_upload()?;
            let number: u32 = req
                .param("partNumber")
                .and_then(|n| n.parse().ok())
                .filter(|n| (1..=MAX_PARTS).contains(n))
                .ok_or_else(|| {
                    s3err(
                        400,
                        "InvalidArgument",
                        "Part number must be an integer between 1 and 10000, inclusive",
                    )
                })?;
            let plaintext = if operation == "UploadPartCopy" {
                let source = copy_source(ctx, req)?;
                let record = &source.record;
                let size = record.body.get("Size").and_then(Value::as_u64).unwrap_or(0);
                let (first, last) = match req.header("x-amz-copy-source-range") {
                    Some(r) => parse_range(r, size)?,
                    None => (0, size.saturating_sub(1)),
                };
                copy_size_allowed(if size == 0 { 0 } else { last - first + 1 })?;
                let reader = ObjectReader::open(
                    state,
                    &source.bucket.account,
                    &record.body,
                    &source.data_key,
                    first,
                    last,
                )?;
                *req.stream.borrow_mut() = Some(Source::Copy(reader));
                Vec::new()
            } else {
                req.body.clone()
            };
            let (data_key, sse_headers) = sse::open_key(
                ctx,
                sse::customer_key(req, CUSTOMER, facts)?,
                &upload.body,
                bucket,
                key,
            )?;
            let identity = format!("{object_arn}|{upload_id}|{number}");
            let part = seal_body(
                state,
                req,
                (&bucket.account, &identity),
                &data_key,
                &plaintext,
                &mut effect.fresh,
            )?;
            let md5 = text(&part, "MD5").to_string();
            let record = Record {
                account: bucket.account.clone(),
                kind: "s3_part".into(),
                key: format!("{upload_key}/{number:05}"),
                format_version: 1,
                body: json!({ "PartNumber": number, "Part": part, "LastModifiedMs": facts.time_ms }),
                updated_at_ms: facts.time_ms,
            };
            let mut tx = begin_write(state, bucket)?;
            // The upload may have been completed or aborted while the part was sealed.
            lock_upload(tx.as_mut())?;
            // A part uploaded again under its number replaces the earlier one, whose blob
            // goes once this commits.
            if let Some(old) = tx.get_record_for_update(&bucket.account, "s3_part", &record.key)? {
                effect.garbage.extend(part_file(state, &bucket.account, part_of(&old.body)));
            }
            tx.put_record(&record, PutMode::Upsert)?;
            effect.tx = Some(tx);
            let etag = format!("\"{md5}\"");
            if operation == "UploadPartCopy" {
                let mut reply = xml_reply(200, format!("<CopyPartResult xmlns=\"{}\"><LastModified>{}</LastModified><ETag>{}</ETag></CopyPartResult>", xml::NS, crate::support::time::iso8601(facts.time_ms), xml::escape(&etag)));
                reply.headers.extend(sse_headers);
                return Ok(reply);
            }
            let mut headers = vec![("etag".into(), etag)];
            headers.extend(sse_headers);
            Ok(empty(200, headers))
        }
        "ListParts" => {
            load_upload()?;
            let mut tx = state.store.read()?;
            let parts = upload_parts(tx.as_mut(), &bucket.account, &upload_key)?;
            let items: String = parts.iter().map(|p| format!(
                "<Part><PartNumber>{}</PartNumber><LastModified>{}</LastModified><ETag>\"{}\"</ETag><Size>{}</Size></Part>",
                p.body.get("PartNumber").and_then(Value::as_u64).unwrap_or(0),
                crate::support::time::iso8601(p.body.get("LastModifiedMs").and_then(Value::as_i64).unwrap_or(0)),
                text(part_of(&p.body), "MD5"),
                part_of(&p.body).get("Size").and_then(Value::as_u64).unwrap_or(0)
            )).collect();
            Ok(xml_reply(200, format!("<ListPartsResult xmlns=\"{}\"><Bucket>{}</Bucket><Key>{}</Key><UploadId>{}</UploadId><IsTruncated>false</IsTruncated>{items}</ListPartsResult>", xml::NS, xml::escape(name), xml::escape(key), xml::escape(&upload_id))))
        }
        "AbortMultipartUpload" => {
            let mut tx = begin_write(state, bucket)?;
            lock_upload(tx.as_mut())?;
            let parts = drop_upload(tx.as_mut(), &bucket.account, &upload_key)?;
            effect.tx = Some(tx);
            effect.garbage = parts
                .iter()
                .filter_map(|p| part_file(state, &bucket.account, part_of(&p.body)))
                .collect();
            Ok(empty(204, Vec::new()))
        }
        _ => {
            // CompleteMultipartUpload
            load_upload()?;
            let numbers: Vec<u32> = xml::elements(&req.body, "PartNumber")
                .iter()
                .filter_map(|n| n.parse().ok())
                .collect();
            let etags = xml::elements(&req.body, "ETag");
            if numbers.is_empty() || numbers.len() != etags.len() {
                return Err(s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"));
            }
            if numbers.windows(2).any(|w| w.first() >= w.get(1)) {
                return Err(s3err(400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number."));
            }
            let mut tx = begin_versioned_write(state, bucket)?;
            let upload = lock_upload(tx.as_mut())?;
            let mut parts = Vec::new();
            let mut md5s = Vec::new();
            let mut size = 0u64;
            let count = numbers.len();
            for (i, (n, etag)) in numbers.iter().zip(&etags).enumerate() {
                let rec = tx
                    .get_record_for_update(
                        &bucket.account,
                        "s3_part",
                        &format!("{upload_key}/{n:05}"),
                    )?
                    .ok_or_else(|| {
                        s3err(
                            400,
                            "InvalidPart",
                            format!(
                                "One or more of the specified parts could not be found: part {n}"
                            ),
                        )
                    })?;
                let part = rec.body.get("Part").cloned().unwrap_or(Value::Null);
                let md5 = text(&part, "MD5").to_string();
                if etag.trim_matches('"') != md5 {
                    return Err(s3err(
                        400,
                        "InvalidPart",
                        format!("The ETag of part {n} does not match."),
                    ));
                }
                let psize = part.get("Size").and_then(Value::as_u64).unwrap_or(0);
                if i + 1 < count && psize < MIN_PART {
                    return Err(s3err(
                        400,
                        "EntityTooSmall",
                        "Your proposed upload is smaller than the minimum allowed object size.",
                    ));
                }
                size += psize;
                md5s.extend(hex_bytes(&md5));
                parts.push(part);
                tx.delete_record(&bucket.account, "s3_part", &rec.key)?;
            }
            // Parts uploaded but not named are discarded.
            let leftovers = drop_upload(tx.as_mut(), &bucket.account, &upload_key)?;
            let etag = format!("\"{}-{count}\"", sigv4::encode::hex(Md5::digest(&md5s).as_slice()));
            let k = format!("{name}/{key}");
            let record = Record {
                account: bucket.account.clone(),
                kind: "s3_object".into(),
                key: k,
                format_version: 1,
                body: json!({
                    "Key": key, "Size": size, "ETag": etag, "LastModifiedMs": facts.time_ms,
                    "ContentType": text(&upload.body, "ContentType"), "Metadata": upload.body.get("Metadata").cloned().unwrap_or(json!({})),
                    "Tags": upload.body.get("Tags").cloned().unwrap_or(json!({})),
                    "Parts": parts,
                }),
                updated_at_ms: facts.time_ms,
            };
            let mut record = record;
            if let Some(obj) = record.body.as_object_mut() {
                // The upload's data key (sealed by KMS or the customer's key) is the object's.
                for field in ["WrappedKey", "KmsKeyArn", "CustomerWrappedKey"] {
                    if let Some(v) = upload.body.get(field) {
                        obj.insert(field.into(), v.clone());
                    }
                }
                if let Some(v) = super::versions::new_id(bucket) {
                    obj.insert("VersionId".into(), json!(v));
                }
            }
            let mut replaced = replaced_blobs(state, tx.as_mut(), bucket, &record.key)?;
            if record.body.get("VersionId").is_some() {
                let null =
                    super::versions::record(tx.as_mut(), bucket, key, &record.body, facts.time_ms)?;
                replaced.extend(
                    null.map(|r| blob_files(state, &bucket.account, &r.body)).unwrap_or_default(),
                );
            }
            tx.put_record(&record, PutMode::Upsert)?;
            effect.tx = Some(tx);
            effect.garbage = leftovers
                .iter()
                .filter_map(|p| part_file(state, &bucket.account, part_of(&p.body)))
                .chain(replaced)
                .collect();
            Ok(xml_reply(200, format!(
                "<CompleteMultipartUploadResult xmlns=\"{}\"><Location>/{}/{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
                xml::NS, xml::escape(name), xml::escape(key), xml::escape(name), xml::escape(key), xml::escape(&etag)
            )))
        }
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    hex.as_bytes()
        .chunks_exact(2)
        .filter_map(|pair| {
            std::str::from_utf8(pair).ok().and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
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
