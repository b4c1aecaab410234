//! Multipart uploads: create, upload a part (or copy one), list parts, abort, complete. An
//! upload's data key is made when it is created; every part is sealed under it, and the
//! completed object keeps it. Each part's blob is named by its part record until the upload
//! completes (the object's record names it then) or is aborted. An upload may ask for an
//! additional checksum ([`super::checksums`]): each part keeps one, and the completed object
//! one made from them. A completion is remembered for a day ([`CompletedUpload`]), so that
//! the same CompleteMultipartUpload sent again is answered as the first was.

use super::blobs::{self, part_file, ObjectReader, Source};
use super::checksums::{self, Sealer, Sum};
use super::input::{CompleteMultipartUpload, Input};
use super::objects::{
    begin_versioned_write, begin_write, object_key, replaced_blobs, ObjectRecord,
};
use super::sse;
use super::{empty, s3err, xml, xml_reply, Bucket, S3Request};
use crate::error::ApiError;
use crate::pipeline::service::{Ctx, Effect};
use crate::pipeline::Reply;
use crate::records::s3::{ChecksumAlgorithm, ChecksumType, CompletedUpload, Object, Part, Upload};
use crate::records::Stored;
use md5::{Digest, Md5};
use store::PutMode;

/// Smallest part but the last (AWS's 5 MiB).
pub const MIN_PART: u64 = 5 * 1024 * 1024;
/// Most parts in one upload.
pub const MAX_PARTS: u32 = 10_000;

/// An upload as stored.
pub(super) type UploadRecord = Stored<Upload>;
/// A part as stored.
type PartRecord = Stored<Part>;
/// A completion as stored.
type CompletedRecord = Stored<CompletedUpload>;

/// The part records of an upload, in part-number order.
fn upload_parts(
    tx: &mut dyn store::ReadTx,
    account: &str,
    upload_key: &str,
) -> Result<Vec<PartRecord>, ApiError> {
    PartRecord::list(tx, account, &format!("{upload_key}/"), MAX_PARTS as usize)
}

/// Deletes an upload's remaining part records and the upload itself in `tx`; returns the part
/// records, whose blobs go once the transaction has committed.
fn drop_upload(
    tx: &mut dyn store::Tx,
    account: &str,
    upload_key: &str,
) -> Result<Vec<PartRecord>, ApiError> {
    let parts = upload_parts(tx, account, upload_key)?;
    for p in &parts {
        PartRecord::delete(tx, account, &p.key)?;
    }
    UploadRecord::delete(tx, account, upload_key)?;
    Ok(parts)
}

/// Aborts the upload whose record is at `upload_key` in `tx` (AbortMultipartUpload, and a
/// lifecycle rule's `AbortIncompleteMultipartUpload`): its parts' records and its own go;
/// returns the parts' blob files, which go once `tx` has committed.
pub(super) fn abort_upload(
    tx: &mut dyn store::Tx,
    account: &str,
    upload_key: &str,
) -> Result<Vec<store::BlobRef>, ApiError> {
    let parts = drop_upload(tx, account, upload_key)?;
    Ok(parts.iter().map(|p| part_file(account, &p.body.part)).collect())
}

/// Aborts every unfinished upload of `bucket` in `tx` (a bucket deleted with only uploads in
/// it, as S3 does) and forgets its completed ones; returns the parts' blob files, which go
/// once `tx` has committed.
pub(super) fn drop_all_uploads(
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
) -> Result<Vec<store::BlobRef>, ApiError> {
    let prefix = format!("{}/", bucket.key);
    let uploads = UploadRecord::list(tx, &bucket.account, &prefix, usize::MAX)?;
    let mut files = Vec::new();
    for upload in uploads {
        files.extend(abort_upload(tx, &bucket.account, &upload.key)?);
    }
    for completed in CompletedRecord::list(tx, &bucket.account, &prefix, usize::MAX)? {
        CompletedRecord::delete(tx, &bucket.account, &completed.key)?;
    }
    Ok(files)
}

/// Whether `completed` is past [`CompletedUpload::KEPT_MS`] at `now_ms`.
fn expired(completed: &CompletedUpload, now_ms: i64) -> bool {
    completed.completed_ms.saturating_add(CompletedUpload::KEPT_MS) < now_ms
}

/// Forgets `account`'s completions older than [`CompletedUpload::KEPT_MS`] at `now_ms` (the
/// blob sweeper's pass); returns how many. A completion names no blob.
///
/// # Errors
/// A store failure.
pub(crate) fn expire_completions(
    state: &crate::pipeline::State,
    account: &str,
    now_ms: i64,
) -> Result<usize, ApiError> {
    let old: Vec<String> = {
        let mut tx = state.store.read()?;
        CompletedRecord::list(tx.as_mut(), account, "", usize::MAX)?
            .into_iter()
            .filter(|c| expired(&c.body, now_ms))
            .map(|c| c.key)
            .collect()
    };
    if old.is_empty() {
        return Ok(0);
    }
    let mut tx = state.store.begin()?;
    let mut removed = 0;
    for key in old {
        // Read again under the write: a completion is only ever written once, but a bucket
        // deleted meanwhile took its completions with it.
        let found = CompletedRecord::get_for_update(tx.as_mut(), account, &key)?;
        if found.is_some_and(|c| expired(&c.body, now_ms)) {
            CompletedRecord::delete(tx.as_mut(), account, &key)?;
            removed += 1;
        }
    }
    tx.commit().map_err(|_| ApiError::unavailable("the change could not be committed"))?;
    Ok(removed)
}

/// Runs a multipart operation on object `key` of `bucket`.
pub(super) fn handle<'s>(
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
    let upload_id = match req.input {
        Input::UploadPart(i) => i.upload_id.clone(),
        Input::Upload { upload_id } => upload_id.clone(),
        Input::CompleteMultipartUpload(i) => i.upload_id.clone(),
        _ => String::new(),
    };
    let upload_key = format!("{name}/{key}/{upload_id}");
    let load_upload = || -> Result<UploadRecord, ApiError> {
        let mut tx = state.store.read()?;
        UploadRecord::get(tx.as_mut(), &bucket.account, &upload_key)?.ok_or_else(no_such_upload)
    };
    // The upload's record, held until `tx` ends: what changes an upload's parts (UploadPart,
    // Complete, Abort) takes it first, so none of them works on an upload another has ended
    // (a part committed after a Complete or Abort listed the parts would be named by a record
    // no upload owns, and its blob kept forever).
    let lock_upload = |tx: &mut dyn store::Tx| -> Result<UploadRecord, ApiError> {
        UploadRecord::get_for_update(tx, &bucket.account, &upload_key)?.ok_or_else(no_such_upload)
    };
    match (operation, req.input) {
        ("CreateMultipartUpload", Input::CreateMultipartUpload(input)) => {
            // The completed object's ACL, its grantees found before anything is written.
            let acl = super::ownership::for_write(ctx, bucket, &input.acl)?;
            // The upload keeps what its headers ask; the bucket's default retention is the
            // completed object's, from when it is completed.
            let lock = if input.lock.any() {
                super::lock::for_write(bucket, &input.lock, facts.time_ms)?
            } else {
                crate::records::s3::ObjectLock::default()
            };
            let mode = checksums::upload_mode(
                input.checksum_algorithm.as_deref(),
                input.checksum_type.as_deref(),
            )?;
            let sealing = sse::new_key(ctx, &input.encryption, bucket, key)?;
            let id =
                sigv4::encode::hex(&sigv4::key::sha256(crate::support::ids::uuid().as_bytes()));
            let upload = Upload {
                key: key.to_string(),
                upload_id: id.clone(),
                created_ms: facts.time_ms,
                content_type: input.fields.content_type.clone(),
                cache_control: input.fields.cache_control.clone(),
                content_disposition: input.fields.content_disposition.clone(),
                content_encoding: input.fields.content_encoding.clone(),
                content_language: input.fields.content_language.clone(),
                expires: input.fields.expires.clone(),
                metadata: std::collections::BTreeMap::new(),
                sealed_metadata: super::metadata::seal(
                    state,
                    &bucket.account,
                    &bucket.key,
                    key,
                    &input.fields.metadata,
                )?,
                tags: input.fields.tagging.clone(),
                data_key: sealing.wrapped,
                lock,
                checksum_algorithm: mode.map(|(algorithm, _)| algorithm),
                checksum_type: mode.map(|(_, kind)| kind),
                acl,
            };
            let record = UploadRecord::new(
                &bucket.account,
                &format!("{name}/{key}/{id}"),
                upload,
                facts.time_ms,
            );
            let mut tx = begin_write(state, bucket)?;
            super::ownership::check_held(tx.as_mut(), bucket, record.body.acl.as_ref())?;
            record.put(tx.as_mut(), PutMode::Create)?;
            effect.tx = Some(tx);
            let mut reply = xml_reply(
                200,
                xml::document("InitiateMultipartUploadResult", xml::NS, |w| {
                    w.text("Bucket", name).text("Key", key).text("UploadId", &id);
                }),
            );
            reply.headers.extend(sealing.headers);
            if let Some((algorithm, kind)) = mode {
                reply.headers.push(("x-amz-checksum-algorithm".into(), algorithm.as_str().into()));
                reply.headers.push(("x-amz-checksum-type".into(), kind.as_str().into()));
            }
            Ok(reply)
        }
        ("UploadPart" | "UploadPartCopy", Input::UploadPart(input)) => {
            let upload = load_upload()?;
            let number: u32 =
                input.part_number.filter(|n| (1..=MAX_PARTS).contains(n)).ok_or_else(|| {
                    s3err(
                        400,
                        "InvalidArgument",
                        "Part number must be an integer between 1 and 10000, inclusive",
                    )
                })?;
            // The part's checksum is the upload's (sent, or computed as it is sealed).
            let wanted = upload.body.checksum_algorithm;
            if input.source.is_none() {
                let sent = input
                    .digests
                    .checksums
                    .iter()
                    .filter_map(|(header, _)| ChecksumAlgorithm::from_header(header))
                    .chain(input.digests.trailer);
                checksums::part_matches_upload(wanted, sent)?;
            }
            let body = if let Some(copy) = &input.source {
                let source = super::copy::copy_source(ctx, copy)?;
                let record = &source.record;
                let size = record.body.size;
                let (first, last) = match copy.copy_source_range.as_deref() {
                    Some(r) => copy_range(r, size)?,
                    None => (0, size.saturating_sub(1)),
                };
                super::copy::copy_size_allowed(if size == 0 { 0 } else { last - first + 1 })?;
                let reader = ObjectReader::open(
                    state,
                    &source.bucket.account,
                    &record.body,
                    &source.data_key,
                    first,
                    last,
                )?;
                Source::Copy(reader)
            } else {
                req.take_body()
            };
            let (data_key, sse_headers) = sse::open_key(
                ctx,
                sse::customer_key(&input.customer, facts)?,
                &upload.body.data_key,
                bucket,
                key,
            )?;
            let identity = format!("{object_arn}|{upload_id}|{number}");
            let (mut part, sum) = blobs::seal_body(
                state,
                body,
                (&input.digests, sse::keyed_etag(&upload.body.data_key), wanted),
                (&bucket.account, &identity),
                &data_key,
                &mut effect.fresh,
            )?;
            if let Some(sum) = &sum {
                part.checksum = Some(Sealer::new(state, &bucket.account, name, key)?.seal(sum)?);
            }
            let md5 = part.md5.clone();
            let record = PartRecord::new(
                &bucket.account,
                &format!("{upload_key}/{number:05}"),
                Part { part_number: number, part, last_modified_ms: facts.time_ms },
                facts.time_ms,
            );
            let mut tx = begin_write(state, bucket)?;
            // The upload may have been completed or aborted while the part was sealed.
            lock_upload(tx.as_mut())?;
            // A part uploaded again under its number replaces the earlier one, whose blob
            // goes once this commits.
            if let Some(old) =
                PartRecord::get_for_update(tx.as_mut(), &bucket.account, &record.key)?
            {
                effect.garbage.push(part_file(&bucket.account, &old.body.part));
            }
            record.put(tx.as_mut(), PutMode::Upsert)?;
            effect.tx = Some(tx);
            let etag = format!("\"{md5}\"");
            if operation == "UploadPartCopy" {
                let mut reply = xml_reply(
                    200,
                    xml::document("CopyPartResult", xml::NS, |w| {
                        w.text("LastModified", &crate::support::time::iso8601(facts.time_ms))
                            .text("ETag", &etag);
                        if let Some(sum) = &sum {
                            checksums::members(w, sum, None);
                        }
                    }),
                );
                reply.headers.extend(sse_headers);
                return Ok(reply);
            }
            let mut headers = vec![("etag".into(), etag)];
            if let Some(sum) = &sum {
                headers.extend(checksums::headers(sum, None));
            }
            headers.extend(sse_headers);
            Ok(empty(200, headers))
        }
        ("ListParts", _) => {
            let upload = load_upload()?.body;
            let parts = {
                let mut tx = state.store.read()?;
                upload_parts(tx.as_mut(), &bucket.account, &upload_key)?
            };
            let sums: Vec<Option<Sum>> = if parts.iter().any(|p| p.body.part.checksum.is_some()) {
                let sealer = Sealer::new(state, &bucket.account, name, key)?;
                parts.iter().map(|p| sealer.open_part(&p.body.part)).collect::<Result<_, _>>()?
            } else {
                vec![None; parts.len()]
            };
            Ok(xml_reply(
                200,
                xml::document("ListPartsResult", xml::NS, |w| {
                    w.text("Bucket", name)
                        .text("Key", key)
                        .text("UploadId", &upload_id)
                        .value("IsTruncated", false);
                    if let Some(algorithm) = upload.checksum_algorithm {
                        w.text("ChecksumAlgorithm", algorithm.as_str());
                    }
                    if let Some(kind) = upload.checksum_type {
                        w.text("ChecksumType", kind.as_str());
                    }
                    for (p, sum) in parts.iter().zip(&sums) {
                        w.elem("Part", |w| {
                            w.value("PartNumber", p.body.part_number)
                                .text(
                                    "LastModified",
                                    &crate::support::time::iso8601(p.body.last_modified_ms),
                                )
                                .text("ETag", &format!("\"{}\"", p.body.part.md5))
                                .value("Size", p.body.part.size);
                            if let Some(sum) = sum {
                                checksums::members(w, sum, None);
                            }
                        });
                    }
                }),
            ))
        }
        ("AbortMultipartUpload", _) => {
            let mut tx = begin_write(state, bucket)?;
            lock_upload(tx.as_mut())?;
            let garbage = abort_upload(tx.as_mut(), &bucket.account, &upload_key)?;
            effect.tx = Some(tx);
            effect.garbage = garbage;
            Ok(empty(204, Vec::new()))
        }
        ("CompleteMultipartUpload", Input::CompleteMultipartUpload(input)) => {
            complete(ctx, bucket, key, &upload_key, input, effect)
        }
        _ => Err(ApiError::internal("the input is not the operation's")),
    }
}

/// S3's answer for an upload that does not exist (or no longer does).
fn no_such_upload() -> ApiError {
    s3err(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}

/// `CompleteMultipartUpload` of the upload at `upload_key` (`{bucket}/{key}/{upload id}`):
/// the parts the request names, each as it was uploaded (its ETag, and its checksum where the
/// request gives one), become the object, with the checksum the upload asked for made from
/// theirs (and checked against the one the request gives); the completion is recorded in the
/// same transaction. An upload that is gone is answered from its completion
/// ([`completed_again`]).
fn complete<'s>(
    ctx: &Ctx<'s>,
    bucket: &Bucket,
    key: &str,
    upload_key: &str,
    input: &CompleteMultipartUpload,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    let name = &bucket.key;
    let found = {
        let mut tx = state.store.read()?;
        UploadRecord::get(tx.as_mut(), &bucket.account, upload_key)?
    };
    let Some(found) = found else {
        return completed_again(ctx, bucket, key, upload_key, input);
    };
    super::objects::refuse_unsupported_conditions(input.if_none_match.as_deref())?;
    let numbers = &input.part_numbers;
    let etags = &input.etags;
    if numbers.is_empty() || numbers.len() != etags.len() {
        return Err(s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"));
    }
    if numbers.windows(2).any(|w| w.first() >= w.get(1)) {
        return Err(s3err(400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number."));
    }
    // The upload's checksum algorithm and type (a request that names a type names its own).
    let mode = found
        .body
        .checksum_algorithm
        .map(|a| (a, found.body.checksum_type.unwrap_or_else(|| checksums::default_type(a))));
    if let Some(given) = input.checksum_type.as_deref() {
        if ChecksumType::parse(given).is_none() || ChecksumType::parse(given) != mode.map(|m| m.1) {
            return Err(s3err(
                400,
                "InvalidRequest",
                format!(
                    "The upload was created using the {} checksum mode. The complete request must use the same checksum mode.",
                    mode.map_or("null", |m| m.1.as_str())
                ),
            ));
        }
    }
    // Made before the transaction: the account's key may have to be read.
    let sealer = Sealer::new(state, &bucket.account, name, key)?;
    let mut tx = begin_versioned_write(state, bucket)?;
    let Some(upload) = UploadRecord::get_for_update(tx.as_mut(), &bucket.account, upload_key)?
    else {
        // Completed (or aborted) since it was read.
        drop(tx);
        return completed_again(ctx, bucket, key, upload_key, input);
    };
    let conditions = (input.if_match.as_deref(), input.if_none_match.as_deref());
    super::objects::write_conditions(tx.as_mut(), bucket, key, conditions)?;
    let mut parts = Vec::new();
    // Each part's checksum (opened) and size.
    let mut sums: Vec<(Option<Sum>, u64)> = Vec::new();
    let mut md5s = Vec::new();
    let mut size = 0u64;
    let count = numbers.len();
    for (i, (n, etag)) in numbers.iter().zip(etags).enumerate() {
        let rec = PartRecord::get_for_update(
            tx.as_mut(),
            &bucket.account,
            &format!("{upload_key}/{n:05}"),
        )?
        .ok_or_else(|| {
            s3err(
                400,
                "InvalidPart",
                format!("One or more of the specified parts could not be found: part {n}"),
            )
        })?;
        let mut part = rec.body.part;
        let md5 = part.md5.clone();
        if etag.trim_matches('"') != md5 {
            return Err(s3err(400, "InvalidPart", format!("The ETag of part {n} does not match.")));
        }
        // A checksum the request gives for the part must be the one it was uploaded with.
        let sum = sealer.open_part(&part)?;
        if let Some((_, algorithm, given)) = input.part_checksums.iter().find(|(p, _, _)| p == n) {
            if !sum.as_ref().is_some_and(|s| s.matches(*algorithm, given)) {
                return Err(s3err(
                    400,
                    "InvalidPart",
                    format!("The checksum of part {n} does not match."),
                ));
            }
        }
        let psize = part.size;
        if i + 1 < count && psize < MIN_PART {
            return Err(s3err(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size.",
            ));
        }
        size += psize;
        md5s.extend(hex_bytes(&md5));
        // An upload that asked for no checksum keeps none of its parts'.
        if mode.is_none() {
            part.checksum = None;
        }
        sums.push((sum, psize));
        parts.push(part);
        PartRecord::delete(tx.as_mut(), &bucket.account, &rec.key)?;
    }
    let checksum = match mode {
        None => None,
        Some((algorithm, kind)) => {
            let mut of = Vec::with_capacity(sums.len());
            for (sum, psize) in sums {
                // Every part was sealed with the upload's checksum (sent or computed).
                let sum = sum.filter(|s| s.algorithm == algorithm).ok_or_else(|| {
                    s3err(
                        400,
                        "InvalidPart",
                        format!(
                            "One or more of the specified parts has no {} checksum.",
                            algorithm.as_str()
                        ),
                    )
                })?;
                of.push((sum, psize));
            }
            Some((checksums::of_parts(algorithm, kind, &of)?, kind))
        }
    };
    if let Some((algorithm, given)) = &input.checksum {
        if !checksum.as_ref().is_some_and(|(s, _)| s.matches(*algorithm, given)) {
            return Err(s3err(
                400,
                "BadDigest",
                format!(
                    "The {} you specified did not match the calculated checksum.",
                    algorithm.header()
                ),
            ));
        }
    }
    // Parts uploaded but not named are discarded.
    let leftovers = drop_upload(tx.as_mut(), &bucket.account, upload_key)?;
    let etag = format!("\"{}-{count}\"", sigv4::encode::hex(Md5::digest(&md5s).as_slice()));
    let upload = upload.body;
    // The upload's data key (sealed by KMS or the customer's key) is the object's.
    let object = Object {
        key: key.to_string(),
        version_id: super::versions::new_id(bucket),
        delete_marker: false,
        last_modified_ms: facts.time_ms,
        size,
        etag: etag.clone(),
        content_type: upload.content_type,
        cache_control: upload.cache_control,
        content_disposition: upload.content_disposition,
        content_encoding: upload.content_encoding,
        content_language: upload.content_language,
        expires: upload.expires,
        metadata: upload.metadata,
        sealed_metadata: upload.sealed_metadata,
        tags: upload.tags,
        parts,
        data_key: upload.data_key,
        lock: super::lock::at_completion(bucket, upload.lock, facts.time_ms),
        checksum: checksum.as_ref().map(|(s, _)| sealer.seal(s)).transpose()?,
        checksum_type: checksum.as_ref().map(|(_, kind)| *kind),
        acl: upload.acl,
    };
    let record_key = object_key(bucket, key);
    let mut replaced = replaced_blobs(tx.as_mut(), bucket, &record_key)?;
    if object.version_id.is_some() {
        let null = super::versions::record(tx.as_mut(), bucket, &object, facts.time_ms)?;
        replaced.extend(
            null.map(|r| blobs::blob_files(&bucket.account, &r.body.0)).unwrap_or_default(),
        );
    }
    let headers = completion_headers(&object);
    // What a repeated completion is answered from.
    let completed = CompletedUpload {
        key: key.to_string(),
        upload_id: input.upload_id.clone(),
        completed_ms: facts.time_ms,
        version_id: object.version_id.clone(),
        etag: etag.clone(),
    };
    CompletedRecord::new(&bucket.account, upload_key, completed, facts.time_ms)
        .put(tx.as_mut(), PutMode::Upsert)?;
    let record = ObjectRecord::new(&bucket.account, &record_key, object, facts.time_ms);
    record.put(tx.as_mut(), PutMode::Upsert)?;
    effect.tx = Some(tx);
    effect.garbage = leftovers
        .iter()
        .map(|p| part_file(&bucket.account, &p.body.part))
        .chain(replaced)
        .collect();
    let checksum = checksum.as_ref().map(|(s, kind)| (s, Some(*kind)));
    Ok(completion_reply(name, key, &etag, checksum, headers))
}

/// A CompleteMultipartUpload of an upload that is gone. If it was completed within the last
/// [`CompletedUpload::KEPT_MS`], the object (or version) that completion made is still there,
/// and the request names the same parts with the same ETags (and checksums, where it gives
/// them), it is answered as the first completion was: S3 answers a repeated completion so,
/// and clients retry one whose answer they did not get. Anything else is `NoSuchUpload`, as
/// for an upload that was aborted; a whole-object checksum that does not match is
/// `BadDigest`, as the first time.
fn completed_again(
    ctx: &Ctx<'_>,
    bucket: &Bucket,
    key: &str,
    upload_key: &str,
    input: &CompleteMultipartUpload,
) -> Result<Reply, ApiError> {
    let state = ctx.state;
    let (done, object) = {
        let mut tx = state.store.read()?;
        let Some(done) = CompletedRecord::get(tx.as_mut(), &bucket.account, upload_key)? else {
            return Err(no_such_upload());
        };
        let done = done.body;
        let object = match &done.version_id {
            Some(v) => super::versions::find_object(tx.as_mut(), bucket, key, v)?,
            None => ObjectRecord::get(tx.as_mut(), &bucket.account, &object_key(bucket, key))?,
        };
        (done, object.map(|o| o.body))
    };
    let fresh = !expired(&done, ctx.facts.time_ms);
    // Its parts' blobs are bound to the upload (`{object ARN}|{upload id}|{part number}`).
    let made = |o: &Object| {
        !o.delete_marker
            && o.etag == done.etag
            && o.parts
                .first()
                .is_some_and(|p| p.identity.rsplit('|').nth(1) == Some(done.upload_id.as_str()))
    };
    let object = object.filter(|o| fresh && made(o)).ok_or_else(no_such_upload)?;
    let named = input.part_numbers.len() == input.etags.len()
        && object.parts.len() == input.part_numbers.len()
        && object.parts.iter().zip(input.part_numbers.iter().zip(&input.etags)).all(
            |(p, (n, etag))| {
                checksums::part_number(p) == Some(*n) && etag.trim_matches('"') == p.md5
            },
        );
    if !named {
        return Err(no_such_upload());
    }
    let sealer = Sealer::new(state, &bucket.account, &bucket.key, key)?;
    for (n, algorithm, given) in &input.part_checksums {
        let part = object.parts.iter().find(|p| checksums::part_number(p) == Some(*n));
        let sum = part.map(|p| sealer.open_part(p)).transpose()?.flatten();
        if !sum.is_some_and(|s| s.matches(*algorithm, given)) {
            return Err(no_such_upload());
        }
    }
    let checksum = object.checksum.as_deref().map(|s| sealer.open(s)).transpose()?;
    if let Some((algorithm, given)) = &input.checksum {
        if !checksum.as_ref().is_some_and(|s| s.matches(*algorithm, given)) {
            return Err(s3err(
                400,
                "BadDigest",
                format!(
                    "The {} you specified did not match the calculated checksum.",
                    algorithm.header()
                ),
            ));
        }
    }
    let headers = completion_headers(&object);
    let checksum = checksum.as_ref().map(|s| (s, object.checksum_type));
    Ok(completion_reply(&bucket.key, key, &object.etag, checksum, headers))
}

/// As PutObject answers: the encryption (not SSE-C's, whose request carries the key) and the
/// version, unless the write is the `null` version.
fn completion_headers(object: &Object) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if let Some(v) = object.version_id.as_deref().filter(|v| *v != "null") {
        headers.push(("x-amz-version-id".to_string(), v.to_string()));
    }
    if !sse::is_customer(&object.data_key) {
        headers.extend(sse::stored_headers(&object.data_key));
    }
    headers
}

/// CompleteMultipartUpload's answer: the object's ETag and checksum, and `headers`.
fn completion_reply(
    bucket: &str,
    key: &str,
    etag: &str,
    checksum: Option<(&Sum, Option<ChecksumType>)>,
    headers: Vec<(String, String)>,
) -> Reply {
    let mut reply = xml_reply(
        200,
        xml::document("CompleteMultipartUploadResult", xml::NS, |w| {
            w.text("Location", &format!("/{bucket}/{key}"))
                .text("Bucket", bucket)
                .text("Key", key)
                .text("ETag", etag);
            if let Some((sum, kind)) = checksum {
                checksums::members(w, sum, kind);
            }
        }),
    );
    reply.headers.extend(headers);
    reply
}

/// `x-amz-copy-source-range`: unlike a GET's `Range`, exactly `bytes=FIRST-LAST` within the
/// source (S3 answers anything else `InvalidRange`).
fn copy_range(range: &str, size: u64) -> Result<(u64, u64), ApiError> {
    let invalid = || s3err(416, "InvalidRange", "The requested range is not satisfiable");
    let (first, last) = range
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .and_then(|(f, l)| Some((f.parse::<u64>().ok()?, l.parse::<u64>().ok()?)))
        .ok_or_else(invalid)?;
    if first > last || last >= size {
        return Err(invalid());
    }
    Ok((first, last))
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    hex.as_bytes()
        .chunks_exact(2)
        .filter_map(|pair| {
            std::str::from_utf8(pair).ok().and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}
