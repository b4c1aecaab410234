//! `CopyObject` (and the source side of `UploadPartCopy`): the source is read with the caller's
//! permissions, its data key opened, and its plaintext streamed into the new object's blobs.

use super::blobs::{ObjectReader, Source};
use super::input::{BodyDigests, CopyObject, CopySource, ObjectFields, PutObject};
use super::objects::{self, ObjectRecord};
use super::sse;
use super::{s3err, xml, xml_reply, Bucket};
use crate::error::ApiError;
use crate::pipeline::service::{Ctx, Effect};
use crate::pipeline::{Reply, State};
use crate::records::s3::ChecksumAlgorithm;

/// Copies read their source whole (at most 5 GiB, S3's limit for one copy).
pub(super) fn copy_size_allowed(size: u64) -> Result<(), ApiError> {
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
pub(super) struct OpenSource {
    pub bucket: Bucket,
    pub record: ObjectRecord,
    pub data_key: crypto::SecretBytes,
}

impl OpenSource {
    /// `x-amz-copy-source-version-id` when the source is a version.
    fn version_header(&self) -> Vec<(String, String)> {
        self.record
            .body
            .version_id
            .as_ref()
            .map(|v| vec![("x-amz-copy-source-version-id".to_string(), v.clone())])
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
    pub record: Option<ObjectRecord>,
}

/// Resolves a copy's source (see [`SourceRef`]).
pub(super) fn copy_source_of(state: &State, input: &CopySource) -> Result<SourceRef, ApiError> {
    let header = input.copy_source.as_str();
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
        None => objects::object(state, &bucket, src_key)?,
        Some(v) => {
            let mut tx = state.store.read()?;
            super::versions::find_object(tx.as_mut(), &bucket, src_key, v)?
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
pub(super) fn copy_source(ctx: &Ctx<'_>, input: &CopySource) -> Result<OpenSource, ApiError> {
    let named = copy_source_of(ctx.state, input)?;
    let (bucket, key) = (named.bucket, named.key);
    let record = objects::read_target(ctx, &bucket, &key, named.version_id.as_deref())?;
    let (data_key, _) = sse::open_key(
        ctx,
        sse::customer_key(&input.customer, ctx.facts)?,
        &record.body.data_key,
        &bucket,
        &key,
    )?;
    Ok(OpenSource { bucket, record, data_key })
}

/// What a copy writes: a `PutObject` with the request's members, but the source's metadata
/// and tags unless the directives say `REPLACE`, and without the request's digests (they do
/// not describe the copy).
pub(super) fn copied_put(input: &CopyObject, source: &ObjectRecord) -> PutObject {
    let source = &source.body;
    let mut put = PutObject { digests: BodyDigests::default(), ..input.put.clone() };
    if !input.replace_metadata {
        put.fields = ObjectFields {
            content_type: source.content_type.clone(),
            cache_control: source.cache_control.clone(),
            content_disposition: source.content_disposition.clone(),
            content_encoding: source.content_encoding.clone(),
            content_language: source.content_language.clone(),
            expires: source.expires.clone(),
            metadata: source.metadata.clone(),
            tagging: put.fields.tagging,
        };
    }
    if !input.replace_tagging {
        put.fields.tagging = source.tags.clone();
    }
    put
}

/// `CopyObject`.
pub(super) fn object<'s>(
    ctx: &Ctx<'s>,
    input: &CopyObject,
    bucket: &Bucket,
    key: &str,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    let source = copy_source(ctx, &input.source)?;
    let record = &source.record;
    // A copy onto itself must change something, as in S3.
    let encryption = &input.put.encryption;
    let changes_encryption = encryption.server_side_encryption.is_some()
        || encryption.ssekms_key_id.is_some()
        || encryption.customer.algorithm.is_some();
    if source.bucket.key == bucket.key
        && record.body.key == key
        && !input.source.copy_source.contains("?versionId=")
        && !input.replace_metadata
        && !changes_encryption
    {
        return Err(s3err(400, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."));
    }
    let size = record.body.size;
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
    let mut put = copied_put(input, record);
    // The copy's checksum: of the algorithm the request names, else of the source's (computed
    // over the bytes copied, a full-object checksum), else none.
    if put.checksum_algorithm.is_none() {
        if let Some(sealed) = &record.body.checksum {
            let source_bucket = &source.bucket;
            let sealer = super::checksums::Sealer::new(
                state,
                &source_bucket.account,
                &source_bucket.key,
                &record.body.key,
            )?;
            put.checksum_algorithm = Some(sealer.open(sealed)?.algorithm.as_str().to_string());
        }
    }
    if !input.replace_metadata {
        let source_bucket = &source.bucket;
        put.fields.metadata = super::metadata::open(
            state,
            &source_bucket.account,
            &source_bucket.key,
            &record.body.key,
            &record.body,
        )?;
    }
    let written = objects::put(ctx, &put, Source::Copy(reader), bucket, key, effect)?;
    let etag = written
        .headers
        .iter()
        .find(|(n, _)| n == "etag")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    // The copy's checksum, which CopyObject answers in its body.
    let checksum: Vec<(&'static str, String)> = written
        .headers
        .iter()
        .filter_map(|(n, v)| match ChecksumAlgorithm::from_header(n) {
            Some(algorithm) => Some((algorithm.member(), v.clone())),
            None => (n == "x-amz-checksum-type").then(|| ("ChecksumType", v.clone())),
        })
        .collect();
    let mut reply = xml_reply(
        200,
        xml::document("CopyObjectResult", xml::NS, |w| {
            w.text("LastModified", &crate::support::time::iso8601(facts.time_ms))
                .text("ETag", &etag);
            for (member, value) in &checksum {
                w.text(member, value);
            }
        }),
    );
    // How the copy is sealed, and its version and its source's.
    reply.headers.extend(
        written
            .headers
            .into_iter()
            .filter(|(name, _)| name != "etag" && !name.starts_with("x-amz-checksum-")),
    );
    reply.headers.extend(source.version_header());
    Ok(reply)
}
