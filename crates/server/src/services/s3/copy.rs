//! `CopyObject` (and the source side of `UploadPartCopy`): the source is read with the caller's
//! permissions, its data key opened, and its plaintext streamed into the new object's blobs.

use super::blobs::{ObjectReader, Source};
use super::objects::{self, ObjectRecord};
use super::sse::{self, COPY_SOURCE};
use super::{s3err, xml, xml_reply, Bucket, S3Request};
use crate::error::ApiError;
use crate::pipeline::service::{Ctx, Effect};
use crate::pipeline::{Reply, State};

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
pub(super) struct CopySource {
    pub bucket: Bucket,
    pub record: ObjectRecord,
    pub data_key: crypto::SecretBytes,
}

impl CopySource {
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
        None => objects::object(state, &bucket, src_key)?,
        Some(v) => {
            let mut tx = state.store.read()?;
            super::versions::find(tx.as_mut(), &bucket, src_key, v)?.map(super::versions::as_object)
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
pub(super) fn copy_source(ctx: &Ctx<'_>, req: &S3Request<'_>) -> Result<CopySource, ApiError> {
    let named = copy_source_of(ctx.state, req)?;
    let (bucket, key) = (named.bucket, named.key);
    let record = objects::read_target(ctx, &bucket, &key, named.version_id.as_deref())?;
    let (data_key, _) = sse::open_key(
        ctx,
        sse::customer_key(req, COPY_SOURCE, ctx.facts)?,
        &record.body.data_key,
        &bucket,
        &key,
    )?;
    Ok(CopySource { bucket, record, data_key })
}

/// The headers of a copy: the request's, with the source's metadata and tags unless the
/// directives say REPLACE, and without the request's digests (they do not describe the copy).
pub(super) fn copy_headers(req: &S3Request<'_>, record: &ObjectRecord) -> Vec<(String, String)> {
    let replace_metadata = req.header("x-amz-metadata-directive") == Some("REPLACE");
    let replace_tags = req.header("x-amz-tagging-directive") == Some("REPLACE");
    let source = &record.body;
    let metadata_headers: [(&str, &str); 5] = [
        ("content-type", &source.content_type),
        ("cache-control", &source.cache_control),
        ("content-disposition", &source.content_disposition),
        ("content-encoding", &source.content_encoding),
        ("content-language", &source.content_language),
    ];
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .filter(|(n, _)| {
            let metadata =
                n.starts_with("x-amz-meta-") || metadata_headers.iter().any(|(h, _)| h == n);
            !(n == "content-md5"
                || n == "content-length"
                || n.starts_with("x-amz-checksum-")
                || (metadata && !replace_metadata)
                || (n == "x-amz-tagging" && !replace_tags))
        })
        .collect();
    if !replace_metadata {
        for (header, value) in metadata_headers {
            if !value.is_empty() {
                headers.push((header.to_string(), value.to_string()));
            }
        }
        for (k, v) in &source.metadata {
            headers.push((format!("x-amz-meta-{k}"), v.clone()));
        }
    }
    if !replace_tags {
        let tags: Vec<String> = source
            .tags
            .iter()
            .map(|(k, v)| {
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

/// `CopyObject`.
pub(super) fn object<'s>(
    ctx: &Ctx<'s>,
    req: &S3Request<'_>,
    bucket: &Bucket,
    key: &str,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, facts) = (ctx.state, ctx.facts);
    let source = copy_source(ctx, req)?;
    let record = &source.record;
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
    let written = objects::put(ctx, &copy_req, bucket, key, effect)?;
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
