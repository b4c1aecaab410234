//! S3 (REST, path-style and virtual-hosted-style): buckets and objects that exist only as
//! ciphertext. Every object gets a fresh data key from KMS, asked **as the caller** (a forward
//! access session: `kms:ViaService` is `s3.REGION.amazonaws.com` and the encryption context is
//! `aws:s3:arn`), so a caller who may not decrypt with the bucket's key cannot read the object.
//! Object data is sealed in segments (`crypto::object`) in blob files under the data
//! directory; metadata and the audit event commit together, after the blob is durable, so a
//! crash leaves no partial object.

mod bpa;
mod objects;
mod sse;
pub(crate) mod sweep;
mod versions;

use crate::protocol::xml;

use crate::error::ApiError;
use crate::pipeline::authorize::{authorize, AuthzExtra};
use crate::pipeline::events::{self, RequestFacts};
use crate::pipeline::identity::{Caller, OPERATOR_ACCOUNT};
use crate::pipeline::{Reply, State};
use serde_json::{json, Value};
use store::{PutMode, Record};

/// The largest request body read whole (bucket configuration, small objects and parts); an
/// object or part body above [`STREAM_ABOVE`] bytes streams instead.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// Object and part bodies longer than this stream to their blob as they arrive.
pub const STREAM_ABOVE: u64 = 1024 * 1024;
/// The largest object one PUT (or one part) may hold, as in S3: 5 GiB.
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// An S3 error as its XML.
pub fn error_xml(e: &ApiError, request_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{}</Code><Message>{}</Message><RequestId>{request_id}</RequestId></Error>",
        xml::escape(&e.code),
        xml::escape(&e.message)
    )
}

/// A body too large for an operation that reads it whole.
fn too_big() -> ApiError {
    s3err(400, "MaxMessageLengthExceeded", "Your request was too big.")
}

pub(crate) fn s3err(status: u16, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::sender(status, code, message)
}

pub(crate) fn db(_: store::StoreError) -> ApiError {
    ApiError::unavailable("the store is unavailable")
}

/// One S3 request, decoded.
pub(crate) struct S3Request<'a> {
    pub method: &'a str,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub query: Vec<(String, String)>,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Vec<u8>,
    /// A large PutObject or UploadPart body, not read yet (then `body` is empty); taken by the
    /// operation that consumes it.
    pub stream: std::cell::RefCell<Option<objects::Source>>,
}

impl S3Request<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    pub fn has(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The bucket's record, found through the global name index.
pub(crate) fn bucket(state: &State, name: &str) -> Result<Record, ApiError> {
    let mut tx = state.store.read().map_err(db)?;
    let missing =
        || s3err(404, "NoSuchBucket", format!("The specified bucket does not exist: {name}"));
    let index =
        tx.get_record(OPERATOR_ACCOUNT, "s3_bucket_name", name).map_err(db)?.ok_or_else(missing)?;
    let owner = index.body.get("Account").and_then(Value::as_str).unwrap_or_default().to_string();
    tx.get_record(&owner, "s3_bucket", name).map_err(db)?.ok_or_else(missing)
}

fn bucket_gone(bucket: &Record) -> ApiError {
    s3err(404, "NoSuchBucket", format!("The specified bucket does not exist: {}", bucket.key))
}

/// `bucket` read again in `tx` and locked until `tx` ends against every other transaction
/// that locks or holds it: what changes the bucket's record (its configuration, DeleteBucket)
/// works on its latest version and one at a time, and not beside an object write that
/// [`hold_bucket`]s it. NoSuchBucket if it is gone.
pub(crate) fn lock_bucket(tx: &mut dyn store::Tx, bucket: &Record) -> Result<Record, ApiError> {
    tx.get_record_for_update(&bucket.account, "s3_bucket", &bucket.key)
        .map_err(db)?
        .ok_or_else(|| bucket_gone(bucket))
}

/// Holds `bucket` until `tx` ends against [`lock_bucket`], for a write of its objects or
/// uploads: such writes run side by side, but a DeleteBucket waits for them (and they for it,
/// then find the bucket gone), and so does a configuration change. NoSuchBucket if the bucket
/// the request found is gone (deleted, or deleted and made again); returns it as it is now.
pub(crate) fn hold_bucket(tx: &mut dyn store::Tx, bucket: &Record) -> Result<Record, ApiError> {
    let now = tx
        .get_record_for_share(&bucket.account, "s3_bucket", &bucket.key)
        .map_err(db)?
        .ok_or_else(|| bucket_gone(bucket))?;
    if now.body.get("CreatedMs") != bucket.body.get("CreatedMs") {
        return Err(bucket_gone(bucket));
    }
    Ok(now)
}

/// Refuses a write prepared under another versioning status than `held`'s (the bucket as
/// [`hold_bucket`] found it): the status changed while the write's body was sealed. S3 answers
/// a conflicting operation with OperationAborted, which the client may retry.
pub(crate) fn same_versioning(held: &Record, bucket: &Record) -> Result<(), ApiError> {
    if versions::status(held) != versions::status(bucket) {
        return Err(s3err(
            409,
            "OperationAborted",
            "A conflicting conditional operation is currently in progress against this resource. Please try again.",
        ));
    }
    Ok(())
}

fn valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !name.contains("..")
        && !name.split('.').all(|p| p.parse::<u8>().is_ok())
}

/// S3 sub-resources this server does not implement: a request naming one is refused with
/// `NotImplemented` rather than taken for the plain bucket or object operation (a `DELETE
/// /bucket?cors` must never delete the bucket).
const UNSUPPORTED_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "analytics",
    "attributes",
    "cors",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "policyStatus",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "session",
    "torrent",
    "website",
];

/// The S3 operation a request is, by method, path and sub-resource.
fn operation(req: &S3Request<'_>) -> Result<&'static str, ApiError> {
    let copy = req.header("x-amz-copy-source").is_some();
    if let Some(sub) = UNSUPPORTED_SUBRESOURCES.iter().find(|sub| req.has(sub)) {
        return Err(s3err(
            501,
            "NotImplemented",
            format!("A header or query you provided implies functionality that is not implemented: ?{sub}."),
        ));
    }
    let bucket_tagging = req.key.is_none() && req.has("tagging");
    if bucket_tagging {
        return Err(s3err(
            501,
            "NotImplemented",
            "A header or query you provided implies functionality that is not implemented: bucket ?tagging.",
        ));
    }
    Ok(match (req.method, req.bucket.is_some(), req.key.is_some()) {
        ("GET", false, false) => "ListBuckets",
        ("GET", true, false) if req.has("acl") => "GetBucketAcl",
        ("PUT", true, false) if req.has("acl") => "PutBucketAcl",
        ("GET", true, true) if req.has("acl") => "GetObjectAcl",
        ("PUT", true, true) if req.has("acl") => "PutObjectAcl",
        ("GET", true, false) if req.has("ownershipControls") => "GetBucketOwnershipControls",
        ("PUT", true, false) if req.has("ownershipControls") => "PutBucketOwnershipControls",
        ("DELETE", true, false) if req.has("ownershipControls") => "DeleteBucketOwnershipControls",
        (_, _, _) if req.has("acl") || req.has("ownershipControls") => {
            return Err(s3err(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ))
        }
        ("PUT", true, false) if req.has("policy") => "PutBucketPolicy",
        ("GET", true, false) if req.has("policy") => "GetBucketPolicy",
        ("DELETE", true, false) if req.has("policy") => "DeleteBucketPolicy",
        ("PUT", true, false) if req.has("publicAccessBlock") => "PutPublicAccessBlock",
        ("GET", true, false) if req.has("publicAccessBlock") => "GetPublicAccessBlock",
        ("DELETE", true, false) if req.has("publicAccessBlock") => "DeletePublicAccessBlock",
        ("PUT", true, false) if req.has("encryption") => "PutBucketEncryption",
        ("GET", true, false) if req.has("encryption") => "GetBucketEncryption",
        ("DELETE", true, false) if req.has("encryption") => "DeleteBucketEncryption",
        ("GET", true, false) if req.has("location") => "GetBucketLocation",
        ("GET", true, false) if req.has("versioning") => "GetBucketVersioning",
        ("PUT", true, false) if req.has("versioning") => "PutBucketVersioning",
        ("GET", true, false) if req.has("versions") => "ListObjectVersions",
        ("GET", true, false) if req.has("uploads") => "ListMultipartUploads",
        ("POST", true, false) if req.has("delete") => "DeleteObjects",
        ("GET", true, false) if req.param("list-type") == Some("2") => "ListObjectsV2",
        ("GET", true, false) => "ListObjects",
        ("PUT", true, false) => "CreateBucket",
        ("HEAD", true, false) => "HeadBucket",
        ("DELETE", true, false) => "DeleteBucket",
        ("PUT", true, true) if req.has("tagging") => "PutObjectTagging",
        ("GET", true, true) if req.has("tagging") => "GetObjectTagging",
        ("DELETE", true, true) if req.has("tagging") => "DeleteObjectTagging",
        ("PUT", true, true) if req.has("partNumber") && copy => "UploadPartCopy",
        ("PUT", true, true) if req.has("partNumber") => "UploadPart",
        ("PUT", true, true) if copy => "CopyObject",
        ("PUT", true, true) => "PutObject",
        ("GET", true, true) if req.has("uploadId") => "ListParts",
        ("GET", true, true) => "GetObject",
        ("HEAD", true, true) => "HeadObject",
        ("DELETE", true, true) if req.has("uploadId") => "AbortMultipartUpload",
        ("DELETE", true, true) => "DeleteObject",
        ("POST", true, true) if req.has("uploads") => "CreateMultipartUpload",
        ("POST", true, true) if req.has("uploadId") => "CompleteMultipartUpload",
        _ => {
            return Err(s3err(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ))
        }
    })
}

/// The IAM action an operation is authorized as.
fn action(operation: &str) -> &'static str {
    match operation {
        "ListBuckets" => "s3:ListAllMyBuckets",
        "ListObjects" | "ListObjectsV2" | "HeadBucket" => "s3:ListBucket",
        "CreateBucket" => "s3:CreateBucket",
        "DeleteBucket" => "s3:DeleteBucket",
        "GetBucketLocation" => "s3:GetBucketLocation",
        "GetBucketVersioning" => "s3:GetBucketVersioning",
        "PutBucketVersioning" => "s3:PutBucketVersioning",
        "ListObjectVersions" => "s3:ListBucketVersions",
        "PutBucketPolicy" => "s3:PutBucketPolicy",
        "GetBucketPolicy" => "s3:GetBucketPolicy",
        "DeleteBucketPolicy" => "s3:DeleteBucketPolicy",
        "PutBucketEncryption" | "DeleteBucketEncryption" => "s3:PutEncryptionConfiguration",
        "GetBucketEncryption" => "s3:GetEncryptionConfiguration",
        "GetBucketAcl" => "s3:GetBucketAcl",
        "PutBucketAcl" => "s3:PutBucketAcl",
        "GetObjectAcl" => "s3:GetObjectAcl",
        "PutObjectAcl" => "s3:PutObjectAcl",
        "GetBucketOwnershipControls" => "s3:GetBucketOwnershipControls",
        "PutBucketOwnershipControls" | "DeleteBucketOwnershipControls" => {
            "s3:PutBucketOwnershipControls"
        }
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => "s3:PutBucketPublicAccessBlock",
        "GetPublicAccessBlock" => "s3:GetBucketPublicAccessBlock",
        "ListMultipartUploads" => "s3:ListBucketMultipartUploads",
        "GetObject" | "HeadObject" => "s3:GetObject",
        "DeleteObject" | "DeleteObjects" => "s3:DeleteObject",
        "AbortMultipartUpload" => "s3:AbortMultipartUpload",
        "ListParts" => "s3:ListMultipartUploadParts",
        "PutObjectTagging" => "s3:PutObjectTagging",
        "GetObjectTagging" => "s3:GetObjectTagging",
        "DeleteObjectTagging" => "s3:DeleteObjectTagging",
        _ => "s3:PutObject",
    }
}

/// Object-level operations are CloudTrail data events.
fn is_data_event(operation: &str) -> bool {
    !matches!(
        operation,
        "ListBuckets"
            | "CreateBucket"
            | "DeleteBucket"
            | "GetBucketLocation"
            | "GetBucketVersioning"
            | "PutBucketVersioning"
            | "PutBucketPolicy"
            | "GetBucketPolicy"
            | "DeleteBucketPolicy"
            | "PutBucketEncryption"
            | "GetBucketEncryption"
            | "DeleteBucketEncryption"
            | "PutPublicAccessBlock"
            | "GetPublicAccessBlock"
            | "DeletePublicAccessBlock"
            | "HeadBucket"
            | "GetBucketAcl"
            | "PutBucketAcl"
            | "GetBucketOwnershipControls"
            | "PutBucketOwnershipControls"
            | "DeleteBucketOwnershipControls"
    )
}

fn is_read(operation: &str) -> bool {
    operation.starts_with("Get") || operation.starts_with("List") || operation.starts_with("Head")
}

/// Authorizes `action` on `resource` for the caller against the bucket's policy; `extra`
/// condition keys join the S3 ones every request has.
pub(crate) fn check(
    state: &State,
    caller: &Caller,
    facts: &RequestFacts,
    action: &str,
    resource: &str,
    bucket: Option<&Record>,
    mut context: Vec<(String, String)>,
) -> Result<(), ApiError> {
    if let Some(b) = bucket {
        bpa::restrict(state, caller, b)?;
    }
    let owner = bucket.map(|b| b.account.clone());
    context.push(("s3:signatureversion".into(), "AWS4-HMAC-SHA256".into()));
    let auth_type = if facts.presigned { "REST-QUERY-STRING" } else { "REST-HEADER" };
    context.push(("s3:authType".into(), auth_type.into()));
    if let Some(age) = facts.signature_age_ms {
        context.push(("s3:signatureAge".into(), age.to_string()));
    }
    if let Some((version, _, _)) = &facts.tls {
        context.push(("s3:TlsVersion".into(), version.trim_start_matches("TLSv").to_string()));
    }
    if let Some(o) = &owner {
        context.push(("s3:ResourceAccount".into(), o.clone()));
    }
    let policy =
        bucket.and_then(|b| b.body.get("Policy")).and_then(Value::as_str).map(str::to_string);
    authorize(
        state,
        caller,
        action,
        resource,
        facts,
        &AuthzExtra {
            resource_account: owner.as_deref(),
            resource_policy: policy.as_deref(),
            context,
            ..AuthzExtra::default()
        },
    )
}

/// Handles one S3 request; its event is appended with the effect or through the group commit.
#[allow(clippy::too_many_arguments)]
pub(crate) fn handle(
    state: &State,
    caller: &Caller,
    method: &str,
    path: &str,
    query_text: &str,
    headers: &[(&str, &str)],
    (body, stream): (Vec<u8>, Option<crate::protocol::payload::PayloadReader>),
    facts: &mut RequestFacts,
    pending: &mut Vec<(String, audit::event::EventRecord)>,
) -> Result<Reply, ApiError> {
    if path == bpa::ACCOUNT_PATH {
        if stream.is_some() {
            return Err(too_big());
        }
        let stream = std::cell::RefCell::new(None);
        let req =
            S3Request { method, bucket: None, key: None, query: Vec::new(), headers, body, stream };
        facts.event_name = format!(
            "{}PublicAccessBlock",
            match method {
                "GET" => "Get",
                "PUT" => "Put",
                _ => "Delete",
            }
        );
        facts.event_source = "s3-control.amazonaws.com".into();
        facts.read_only = method == "GET";
        let mut effect = Effect::default();
        let result = if caller.account == OPERATOR_ACCOUNT || caller.is_anonymous() {
            Err(s3err(403, "AccessDenied", "Access Denied"))
        } else {
            bpa::account_config(state, caller, &req, facts, &mut effect)
        };
        let log = if caller.is_anonymous() {
            OPERATOR_ACCOUNT.to_string()
        } else {
            caller.account.clone()
        };
        let event = events::event(
            facts,
            Some(caller),
            &log,
            Some(json!({ "accountId": req.header("x-amz-account-id") })),
            None,
            result.as_ref().err(),
        )?;
        match (effect.tx.take(), result.is_ok()) {
            (Some(mut tx), true) => {
                events::append(tx.as_mut(), &log, &event)?;
                effect.commit(tx)?;
            }
            _ => pending.push((log, event)),
        }
        return result;
    }
    let decoded = sigv4::encode::percent_decode(path).into_owned();
    let trimmed = decoded.strip_prefix('/').unwrap_or(&decoded);
    // Virtual-hosted style: `BUCKET.s3.HOST` or `BUCKET.localhost`.
    let host = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.split(':').next().unwrap_or_default())
        .unwrap_or_default();
    let virtual_bucket = host
        .split_once(".s3.")
        .map(|(b, _)| b)
        .or_else(|| host.strip_suffix(".localhost"))
        .filter(|b| !b.is_empty())
        .map(str::to_string);
    let (bucket, key) = match virtual_bucket {
        Some(b) => (Some(b), Some(trimmed.to_string()).filter(|k| !k.is_empty())),
        None => match trimmed.split_once('/') {
            Some((b, k)) => (Some(b.to_string()), Some(k.to_string()).filter(|k| !k.is_empty())),
            None => (Some(trimmed.to_string()).filter(|b| !b.is_empty()), None),
        },
    };
    let req = S3Request {
        method,
        bucket,
        key,
        query: crate::protocol::query::parse_form(query_text),
        headers,
        body,
        stream: std::cell::RefCell::new(stream.map(objects::Source::Upload)),
    };
    let operation = operation(&req)?;
    if req.stream.borrow().is_some() && !matches!(operation, "PutObject" | "UploadPart") {
        return Err(too_big());
    }
    facts.event_name = operation.to_string();
    facts.read_only = is_read(operation);
    let mut effect = Effect::default();
    let result = if caller.account == OPERATOR_ACCOUNT {
        Err(s3err(403, "AccessDenied", format!("User: {} is not authorized to perform: {} with an explicit deny in the Hermetic operator guardrail", caller.arn, action(operation))))
    } else {
        run(state, caller, operation, &req, facts, &mut effect)
    };
    // The event: request parameters as CloudTrail writes them for S3.
    let mut params = serde_json::Map::new();
    if let Some(b) = &req.bucket {
        params.insert("bucketName".into(), json!(b));
        params.insert("Host".into(), json!(host));
    }
    if let Some(k) = &req.key {
        params.insert("key".into(), json!(k));
    }
    for (k, v) in &req.query {
        if !k.starts_with("X-Amz-") {
            params.insert(k.clone(), json!(v));
        }
    }
    let error = result.as_ref().err();
    let mut event = events::event(
        facts,
        Some(caller),
        effect.log.as_deref().unwrap_or(&caller.account),
        Some(Value::Object(params)),
        effect.response.clone(),
        error,
    )?;
    if is_data_event(operation) {
        event.event_category = audit::event::EventCategory::Data;
        event.management_event = false;
    }
    let mut resources = Vec::new();
    if let (Some(b), Some(k)) = (&req.bucket, &req.key) {
        resources.push(audit::event::Resource {
            account_id: None,
            resource_type: Some("AWS::S3::Object".into()),
            arn: Some(format!("arn:aws:s3:::{b}/{k}")),
        });
    }
    if let Some(b) = &req.bucket {
        resources.push(audit::event::Resource {
            account_id: effect.log.clone(),
            resource_type: Some("AWS::S3::Bucket".into()),
            arn: Some(format!("arn:aws:s3:::{b}")),
        });
    }
    if !resources.is_empty() {
        event.resources = Some(resources);
    }
    let mut logs = Vec::new();
    if !caller.is_anonymous() {
        logs.push(caller.account.clone());
    }
    if let Some(owner) = &effect.log {
        if owner != &caller.account {
            logs.push(owner.clone());
        }
    }
    if logs.is_empty() {
        // An anonymous request that names no bucket is the operator realm's record.
        logs.push(OPERATOR_ACCOUNT.to_string());
    }
    // Audit heads are locked in account order in every transaction (`events::append`).
    logs.sort();
    match (effect.tx.take(), error) {
        (Some(mut tx), None) => {
            for log in &logs {
                let mut e = event.clone();
                e.recipient_account_id = log.clone();
                events::append(tx.as_mut(), log, &e)?;
            }
            effect.commit(tx)?;
        }
        _ => {
            for log in logs {
                let mut e = event.clone();
                e.recipient_account_id = log.clone();
                pending.push((log, e));
            }
        }
    }
    result
}

/// What an operation leaves for its event.
#[derive(Default)]
pub(crate) struct Effect<'s> {
    /// The transaction holding a mutation (committed with the event).
    pub tx: Option<Box<dyn store::Tx + 's>>,
    /// The bucket owner's account, whose log gets the event too.
    pub log: Option<String>,
    /// CloudTrail's `responseElements`.
    pub response: Option<Value>,
    /// Blob files no record names once `tx` has committed: removed after the commit, never
    /// before (a failed commit must leave every object readable). Blobs a crash leaves behind
    /// are the sweeper's ([`sweep`]).
    pub garbage: Vec<std::path::PathBuf>,
    /// Blob files this request wrote, which only records in `tx` name: removed when the
    /// request ends without committing `tx` (an error after the blob was written, or a commit
    /// that lost a race), kept once it has committed. A commit whose outcome is unknown (a
    /// lost connection) keeps them: the sweeper removes them later if no record names them.
    pub fresh: Vec<std::path::PathBuf>,
}

impl Effect<'_> {
    /// Commits `tx`, then removes the garbage it leaves; on failure the request's own blobs go
    /// (when the store says nothing was committed) and the caller answers 503.
    fn commit(&mut self, tx: Box<dyn store::Tx + '_>) -> Result<(), ApiError> {
        match tx.commit() {
            Ok(()) => {
                self.fresh.clear();
                for file in self.garbage.drain(..) {
                    let _ = std::fs::remove_file(file);
                }
                Ok(())
            }
            Err(e) => {
                if !e.is_retryable() {
                    self.fresh.clear();
                }
                Err(ApiError::unavailable("the change could not be committed"))
            }
        }
    }
}

impl Drop for Effect<'_> {
    fn drop(&mut self) {
        for file in self.fresh.drain(..) {
            let _ = std::fs::remove_file(file);
        }
    }
}

pub(crate) fn xml_reply(status: u16, body: String) -> Reply {
    Reply {
        status,
        body: format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{body}"),
        headers: vec![("content-type".into(), "application/xml".into())],
        raw: None,
        json: false,
        stream: None,
    }
}

pub(crate) fn empty(status: u16, headers: Vec<(String, String)>) -> Reply {
    Reply { status, raw: Some(Vec::new()), headers, ..Reply::default() }
}

fn run<'s>(
    state: &'s State,
    caller: &Caller,
    operation: &str,
    req: &S3Request<'_>,
    facts: &RequestFacts,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let now = facts.time_ms;
    if operation == "ListBuckets" {
        check(state, caller, facts, "s3:ListAllMyBuckets", "*", None, Vec::new())?;
        let mut tx = state.store.read().map_err(db)?;
        let buckets =
            crate::services::iam::records(tx.as_mut(), &caller.account, "s3_bucket", "", 100_000)?;
        let items: String = buckets
            .iter()
            .map(|b| {
                format!(
                    "<Bucket><Name>{}</Name><CreationDate>{}</CreationDate></Bucket>",
                    xml::escape(&b.key),
                    crate::services::iam::date(
                        b.body.get("CreatedMs").and_then(Value::as_i64).unwrap_or(0)
                    )
                )
            })
            .collect();
        return Ok(xml_reply(200, format!(
            "<ListAllMyBucketsResult xmlns=\"{}\"><Owner><ID>{}</ID></Owner><Buckets>{items}</Buckets></ListAllMyBucketsResult>",
            xml::NS, caller.account
        )));
    }
    let name = req.bucket.clone().unwrap_or_default();
    let bucket_arn = format!("arn:aws:s3:::{name}");
    if operation == "CreateBucket" {
        if !valid_bucket_name(&name) {
            return Err(s3err(400, "InvalidBucketName", "The specified bucket is not valid."));
        }
        let acl = req.header("x-amz-acl").filter(|a| *a != "private");
        let grants =
            req.headers.iter().any(|(n, _)| n.to_ascii_lowercase().starts_with("x-amz-grant-"));
        if acl.is_some() || grants {
            return Err(s3err(
                400,
                "InvalidBucketAclWithObjectOwnership",
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            ));
        }
        let region = match xml::element(&req.body, "LocationConstraint") {
            Some(r) if !r.is_empty() => r,
            _ => facts.region.clone(),
        };
        check(state, caller, facts, "s3:CreateBucket", &bucket_arn, None, Vec::new())?;
        let mut tx = state.store.begin().map_err(db)?;
        if let Some(existing) =
            tx.get_record(OPERATOR_ACCOUNT, "s3_bucket_name", &name).map_err(db)?
        {
            let owner = existing.body.get("Account").and_then(Value::as_str).unwrap_or_default();
            return Err(if owner == caller.account {
                s3err(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
            } else {
                s3err(409, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
            });
        }
        let index = Record {
            account: OPERATOR_ACCOUNT.into(),
            kind: "s3_bucket_name".into(),
            key: name.clone(),
            format_version: 1,
            body: json!({ "Account": caller.account }),
            updated_at_ms: now,
        };
        tx.put_record(&index, PutMode::Create).map_err(|e| match e {
            store::StoreError::AlreadyExists => {
                s3err(409, "BucketAlreadyExists", "The requested bucket name is not available.")
            }
            other => db(other),
        })?;
        let record = Record {
            account: caller.account.clone(),
            kind: "s3_bucket".into(),
            key: name.clone(),
            format_version: 1,
            body: json!({
                "Name": name, "Region": region, "CreatedMs": now,
                "ObjectOwnership": "BucketOwnerEnforced", "PublicAccessBlock": bpa::new_bucket_default(),
            }),
            updated_at_ms: now,
        };
        tx.put_record(&record, PutMode::Create).map_err(db)?;
        effect.tx = Some(tx);
        effect.log = Some(caller.account.clone());
        return Ok(empty(200, vec![("location".into(), format!("/{name}"))]));
    }
    let bucket = bucket(state, &name)?;
    effect.log = Some(bucket.account.clone());
    match operation {
        "HeadBucket" => {
            check(state, caller, facts, "s3:ListBucket", &bucket_arn, Some(&bucket), Vec::new())?;
            let region = bucket
                .body
                .get("Region")
                .and_then(Value::as_str)
                .unwrap_or("us-east-1")
                .to_string();
            Ok(empty(200, vec![("x-amz-bucket-region".into(), region)]))
        }
        "GetBucketLocation" => {
            check(
                state,
                caller,
                facts,
                "s3:GetBucketLocation",
                &bucket_arn,
                Some(&bucket),
                Vec::new(),
            )?;
            let region = bucket.body.get("Region").and_then(Value::as_str).unwrap_or("us-east-1");
            let region = if region == "us-east-1" { "" } else { region };
            Ok(xml_reply(
                200,
                format!("<LocationConstraint xmlns=\"{}\">{region}</LocationConstraint>", xml::NS),
            ))
        }
        "GetBucketVersioning" => {
            check(
                state,
                caller,
                facts,
                "s3:GetBucketVersioning",
                &bucket_arn,
                Some(&bucket),
                Vec::new(),
            )?;
            let status = versions::status(&bucket)
                .map(|s| format!("<Status>{s}</Status>"))
                .unwrap_or_default();
            Ok(xml_reply(
                200,
                format!(
                    "<VersioningConfiguration xmlns=\"{}\">{status}</VersioningConfiguration>",
                    xml::NS
                ),
            ))
        }
        "ListObjectVersions" => {
            let prefix = req.param("prefix").unwrap_or_default().to_string();
            check(
                state,
                caller,
                facts,
                "s3:ListBucketVersions",
                &bucket_arn,
                Some(&bucket),
                vec![("s3:prefix".into(), prefix.clone())],
            )?;
            let max_keys = req
                .param("max-keys")
                .and_then(|m| m.parse::<usize>().ok())
                .unwrap_or(1000)
                .min(1000);
            if req.param("version-id-marker").is_some_and(|m| !m.is_empty())
                && req.param("key-marker").is_none_or(str::is_empty)
            {
                return Err(s3err(
                    400,
                    "InvalidArgument",
                    "A version-id marker cannot be specified without a key marker.",
                ));
            }
            let mut tx = state.store.read().map_err(db)?;
            let listing = versions::Listing {
                prefix: &prefix,
                delimiter: req.param("delimiter"),
                key_marker: req.param("key-marker").filter(|m| !m.is_empty()),
                version_id_marker: req.param("version-id-marker").filter(|m| !m.is_empty()),
                max_keys,
            };
            versions::list(tx.as_mut(), &bucket, &listing)
        }
        "DeleteBucket" => {
            check(state, caller, facts, "s3:DeleteBucket", &bucket_arn, Some(&bucket), Vec::new())?;
            let mut tx = state.store.begin().map_err(db)?;
            // Object writes hold the bucket: they have committed, or will find it gone.
            lock_bucket(tx.as_mut(), &bucket)?;
            let objects = crate::services::iam::records(
                tx.as_mut(),
                &bucket.account,
                "s3_object",
                &format!("{name}/"),
                1,
            )?;
            let uploads = crate::services::iam::records(
                tx.as_mut(),
                &bucket.account,
                "s3_upload",
                &format!("{name}/"),
                1,
            )?;
            if !objects.is_empty() || !uploads.is_empty() || versions::any(tx.as_mut(), &bucket)? {
                return Err(s3err(
                    409,
                    "BucketNotEmpty",
                    "The bucket you tried to delete is not empty",
                ));
            }
            tx.delete_record(&bucket.account, "s3_bucket", &name).map_err(db)?;
            tx.delete_record(OPERATOR_ACCOUNT, "s3_bucket_name", &name).map_err(db)?;
            effect.tx = Some(tx);
            Ok(empty(204, Vec::new()))
        }
        "GetBucketPolicy"
        | "PutBucketPolicy"
        | "DeleteBucketPolicy"
        | "GetBucketEncryption"
        | "PutBucketEncryption"
        | "DeleteBucketEncryption"
        | "PutBucketVersioning"
        | "GetPublicAccessBlock"
        | "PutPublicAccessBlock"
        | "DeletePublicAccessBlock"
        | "GetBucketAcl"
        | "PutBucketAcl"
        | "GetBucketOwnershipControls"
        | "PutBucketOwnershipControls"
        | "DeleteBucketOwnershipControls" => {
            check(state, caller, facts, action(operation), &bucket_arn, Some(&bucket), Vec::new())?;
            // Bucket configuration is the owner's alone.
            if bucket.account != caller.account {
                return Err(s3err(
                    403,
                    "AccessDenied",
                    "Bucket configuration belongs to the bucket owner.",
                ));
            }
            if operation.ends_with("PublicAccessBlock") {
                bpa::bucket_config(state, operation, req, bucket, now, effect)
            } else if operation.ends_with("Acl") || operation.ends_with("OwnershipControls") {
                acls_disabled(operation, req, &bucket)
            } else {
                bucket_config(state, operation, req, bucket, now, effect)
            }
        }
        "GetObjectAcl" | "PutObjectAcl" => {
            let key = req.key.clone().unwrap_or_default();
            let arn = format!("{bucket_arn}/{key}");
            check(state, caller, facts, action(operation), &arn, Some(&bucket), Vec::new())?;
            let mut tx = state.store.read().map_err(db)?;
            let k = format!("{name}/{key}");
            if tx.get_record(&bucket.account, "s3_object", &k).map_err(db)?.is_none() {
                return Err(s3err(404, "NoSuchKey", "The specified key does not exist."));
            }
            acls_disabled(operation, req, &bucket)
        }
        _ => objects::handle(state, caller, operation, req, &bucket, facts, effect),
    }
}

/// ACLs are disabled on every bucket (Object Ownership `BucketOwnerEnforced`, as for new AWS
/// buckets): ACLs read as the owner's full control, and only ACLs that say as much are accepted.
/// The owner cannot turn ACLs on (a difference from AWS, where it may).
fn acls_disabled(operation: &str, req: &S3Request<'_>, bucket: &Record) -> Result<Reply, ApiError> {
    match operation {
        "GetBucketAcl" | "GetObjectAcl" => Ok(xml_reply(200, owner_acl(&bucket.account))),
        "PutBucketAcl" | "PutObjectAcl" => {
            refuse_acls(req)?;
            let body = String::from_utf8_lossy(&req.body);
            if body.contains("<Grant>") && !grants_only_owner(&body, &bucket.account) {
                return Err(acl_not_supported());
            }
            Ok(empty(200, Vec::new()))
        }
        "GetBucketOwnershipControls" => Ok(xml_reply(200, format!(
            "<OwnershipControls xmlns=\"{}\"><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>",
            xml::NS
        ))),
        "PutBucketOwnershipControls"
            if xml::element(&req.body, "ObjectOwnership").as_deref()
                == Some("BucketOwnerEnforced") =>
        {
            Ok(empty(200, Vec::new()))
        }
        _ => Err(s3err(
            400,
            "InvalidRequest",
            "Object Ownership is always BucketOwnerEnforced here: ACLs stay disabled.",
        )),
    }
}

fn acl_not_supported() -> ApiError {
    s3err(400, "AccessControlListNotSupported", "The bucket does not allow ACLs")
}

/// Refuses a write that sets an ACL granting anyone but the owner (an `x-amz-acl` other than
/// `private` or `bucket-owner-full-control`, which say the same here, or any `x-amz-grant-*`
/// header), as S3 does when ACLs are disabled. (rclone sends `private` by default.)
pub(crate) fn refuse_acls(req: &S3Request<'_>) -> Result<(), ApiError> {
    if req
        .header("x-amz-acl")
        .is_some_and(|acl| acl != "bucket-owner-full-control" && acl != "private")
    {
        return Err(acl_not_supported());
    }
    if req.headers.iter().any(|(name, _)| name.to_ascii_lowercase().starts_with("x-amz-grant-")) {
        return Err(acl_not_supported());
    }
    Ok(())
}

/// Whether an `AccessControlPolicy` grants only the owner (by canonical id, which is the
/// account id here) full control.
fn grants_only_owner(body: &str, owner: &str) -> bool {
    let grants = body.matches("<Grant>").count();
    grants == 1
        && !body.contains("<URI>")
        && !body.contains("<EmailAddress>")
        && body.contains("<Permission>FULL_CONTROL</Permission>")
        && xml::elements(body.as_bytes(), "ID").iter().all(|id| id == owner)
}

/// The ACL every bucket and object has: the owner's full control.
fn owner_acl(owner: &str) -> String {
    format!(
        "<AccessControlPolicy xmlns=\"{ns}\"><Owner><ID>{owner}</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>{owner}</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>",
        ns = xml::NS,
        owner = xml::escape(owner)
    )
}

fn bucket_config<'s>(
    state: &'s State,
    operation: &str,
    req: &S3Request<'_>,
    mut bucket: Record,
    now: i64,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    match operation {
        "GetBucketPolicy" => match bucket.body.get("Policy").and_then(Value::as_str) {
            Some(p) => Ok(Reply {
                status: 200,
                raw: Some(p.as_bytes().to_vec()),
                headers: vec![("content-type".into(), "application/json".into())],
                ..Reply::default()
            }),
            None => Err(s3err(404, "NoSuchBucketPolicy", "The bucket policy does not exist")),
        },
        "GetBucketEncryption" => {
            let key = bucket.body.get("KmsKeyId").and_then(Value::as_str);
            let key_xml = key
                .map(|k| format!("<KMSMasterKeyID>{}</KMSMasterKeyID>", xml::escape(k)))
                .unwrap_or_default();
            Ok(xml_reply(200, format!(
                "<ServerSideEncryptionConfiguration xmlns=\"{}\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm>{key_xml}</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>",
                xml::NS
            )))
        }
        _ => {
            // The change applies to the bucket as it is now, not as the request found it (a
            // concurrent PutPublicAccessBlock's setting is kept, and checked against).
            let mut tx = state.store.begin().map_err(db)?;
            bucket = lock_bucket(tx.as_mut(), &bucket)?;
            if operation == "PutBucketPolicy" {
                bpa::check_policy(tx.as_mut(), &bucket, &String::from_utf8_lossy(&req.body))?;
            }
            let obj = bucket
                .body
                .as_object_mut()
                .ok_or_else(|| ApiError::internal("a bucket record is malformed"))?;
            match operation {
                "PutBucketPolicy" => {
                    let text = String::from_utf8(req.body.clone()).map_err(|_| {
                        s3err(400, "MalformedPolicy", "Policies must be UTF-8 JSON")
                    })?;
                    let findings =
                        policy::validate::validate(&text, policy::validate::PolicyKind::Resource);
                    if let Some(e) =
                        findings.iter().find(|f| f.severity == policy::validate::Severity::Error)
                    {
                        return Err(s3err(400, "MalformedPolicy", e.message.clone()));
                    }
                    if text.len() > 20 * 1024 {
                        return Err(s3err(
                            400,
                            "PolicyTooLarge",
                            "Bucket policies are at most 20 KB.",
                        ));
                    }
                    obj.insert("Policy".into(), json!(text));
                }
                "DeleteBucketPolicy" => {
                    obj.remove("Policy");
                }
                "PutBucketVersioning" => {
                    let status = xml::element(&req.body, "Status").unwrap_or_default();
                    if status != "Enabled" && status != "Suspended" {
                        return Err(s3err(
                            400,
                            "MalformedXML",
                            "Versioning Status must be Enabled or Suspended",
                        ));
                    }
                    obj.insert("Versioning".into(), json!(status));
                }
                "PutBucketEncryption" => {
                    let algorithm = xml::element(&req.body, "SSEAlgorithm").unwrap_or_default();
                    if algorithm != "aws:kms"
                        && algorithm != "AES256"
                        && algorithm != "aws:kms:dsse"
                    {
                        return Err(s3err(
                            400,
                            "MalformedXML",
                            "SSEAlgorithm must be AES256 or aws:kms",
                        ));
                    }
                    match xml::element(&req.body, "KMSMasterKeyID")
                        .filter(|k| !k.is_empty() && algorithm != "AES256")
                    {
                        Some(k) => obj.insert("KmsKeyId".into(), json!(k)),
                        None => obj.remove("KmsKeyId"),
                    };
                }
                _ => {
                    obj.remove("KmsKeyId");
                }
            }
            bucket.updated_at_ms = now;
            tx.put_record(&bucket, PutMode::Update).map_err(db)?;
            effect.tx = Some(tx);
            Ok(empty(if operation.starts_with("Delete") { 204 } else { 200 }, Vec::new()))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::Effect;
    use store::Store;

    /// The blobs of a request that did not commit go; a commit keeps them and removes what it
    /// replaced.
    #[test]
    fn a_request_that_does_not_commit_leaves_no_blob() {
        let dir = std::env::temp_dir().join(format!(
            "hermetic-effect-{}-{}",
            std::process::id(),
            crate::support::ids::uuid()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str| {
            let path = dir.join(name);
            std::fs::write(&path, b"sealed").unwrap();
            path
        };
        let store = store::SqliteStore::open(dir.join("hermetic.db")).unwrap();

        // An error after the blob was written: no transaction, or one that is never committed.
        let lost = file("lost");
        let mut effect = Effect::default();
        effect.fresh.push(lost.clone());
        effect.tx = Some(store.begin().unwrap());
        drop(effect);
        assert!(!lost.exists());

        // A commit: the new blob stays, the one it replaced goes.
        let (new, old) = (file("new"), file("old"));
        let mut effect = Effect::default();
        effect.fresh.push(new.clone());
        effect.garbage.push(old.clone());
        effect.commit(store.begin().unwrap()).unwrap();
        drop(effect);
        assert!(new.exists() && !old.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
