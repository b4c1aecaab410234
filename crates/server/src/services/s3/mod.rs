//! S3 (REST, path-style and virtual-hosted-style): buckets and objects that exist only as
//! ciphertext. Every object gets a fresh data key from KMS, asked **as the caller** (a forward
//! access session: `kms:ViaService` is `s3.REGION.amazonaws.com` and the encryption context is
//! `aws:s3:arn`), so a caller who may not decrypt with the bucket's key cannot read the object.
//! Object data is sealed in segments (`crypto::object`) in blob files under the data
//! directory; metadata and the audit event commit together, after the blob is durable, so a
//! crash leaves no partial object.

mod acl;
mod blobs;
mod bpa;
pub(crate) mod bucket_keys;
mod buckets;
mod checks;
mod checksums;
mod copy;
mod cors;
mod delete;
mod input;
pub(crate) mod lifecycle;
mod listing;
mod lock;
mod metadata;
mod multipart;
mod objects;
mod ownership;
mod post;
pub(crate) mod router;
mod sse;
pub(crate) mod sweep;
mod versions;

use crate::protocol::xml;

use crate::error::ApiError;
use crate::pipeline::identity::OPERATOR_ACCOUNT;
use crate::pipeline::service::{
    Authorization, Check, Ctx, Effect, Named, Operation, Request, Service, Unrouted,
};
use crate::pipeline::{Reply, State};
use crate::records::s3::{Acl, Bucket as BucketBody, BucketName, PublicAccessBlock};
use crate::records::{PutError, Stored};
use router::S3Operation;
use serde_json::{json, Value};
use store::PutMode;

/// The largest request body read whole (bucket configuration, small objects and parts); an
/// object or part body above [`STREAM_ABOVE`] bytes streams instead.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// Object and part bodies longer than this stream to their blob as they arrive.
pub const STREAM_ABOVE: u64 = 1024 * 1024;
/// The largest object one PUT (or one part) may hold, as in S3: 5 GiB.
pub const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// An S3 error as its XML.
pub fn error_xml(e: &ApiError, request_id: &str) -> String {
    let error = xml::Writer::new()
        .elem("Error", |w| {
            w.text("Code", &e.code).text("Message", &e.message).text("RequestId", request_id);
        })
        .finish();
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{error}")
}

/// A body too large for an operation that reads it whole.
fn too_big() -> ApiError {
    s3err(400, "MaxMessageLengthExceeded", "Your request was too big.")
}

pub(crate) fn s3err(status: u16, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::sender(status, code, message)
}

/// One S3 request as its operation sees it: the bucket and key it names and its typed input
/// (never the headers, query or body themselves).
pub(crate) struct S3Request<'a> {
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// S3 Control's `AccountId` (`x-amz-account-id`), for the account's settings.
    pub account_id: Option<String>,
    pub input: &'a input::Input,
    /// A PutObject or UploadPart body read whole (empty when it streams).
    pub body: Vec<u8>,
    /// A large PutObject or UploadPart body, not read yet; taken by the operation that
    /// consumes it.
    pub stream: std::cell::RefCell<Option<blobs::Source>>,
}

impl S3Request<'_> {
    /// The body to seal: the stream, else the body read whole.
    pub fn take_body(&self) -> blobs::Source {
        self.stream
            .borrow_mut()
            .take()
            .unwrap_or_else(|| blobs::Source::Whole(Some(self.body.clone())))
    }
}

/// A bucket as stored.
pub(crate) type Bucket = Stored<BucketBody>;

/// The bucket's record, found through the global name index.
pub(crate) fn bucket(state: &State, name: &str) -> Result<Bucket, ApiError> {
    let mut tx = state.store.read()?;
    let missing =
        || s3err(404, "NoSuchBucket", format!("The specified bucket does not exist: {name}"));
    let index =
        Stored::<BucketName>::get(tx.as_mut(), OPERATOR_ACCOUNT, name)?.ok_or_else(missing)?;
    Bucket::get(tx.as_mut(), &index.body.account, name)?.ok_or_else(missing)
}

fn bucket_gone(bucket: &Bucket) -> ApiError {
    s3err(404, "NoSuchBucket", format!("The specified bucket does not exist: {}", bucket.key))
}

/// `bucket` read again in `tx` and locked until `tx` ends against every other transaction
/// that locks or holds it: what changes the bucket's record (its configuration, DeleteBucket)
/// works on its latest version and one at a time, and not beside an object write that
/// [`hold_bucket`]s it. NoSuchBucket if it is gone.
pub(crate) fn lock_bucket(tx: &mut dyn store::Tx, bucket: &Bucket) -> Result<Bucket, ApiError> {
    Bucket::get_for_update(tx, &bucket.account, &bucket.key)?.ok_or_else(|| bucket_gone(bucket))
}

/// Holds `bucket` until `tx` ends against [`lock_bucket`], for a write of its objects or
/// uploads: such writes run side by side, but a DeleteBucket waits for them (and they for it,
/// then find the bucket gone), and so does a configuration change. NoSuchBucket if the bucket
/// the request found is gone (deleted, or deleted and made again); returns it as it is now.
pub(crate) fn hold_bucket(tx: &mut dyn store::Tx, bucket: &Bucket) -> Result<Bucket, ApiError> {
    let now = Bucket::get_for_share(tx, &bucket.account, &bucket.key)?
        .ok_or_else(|| bucket_gone(bucket))?;
    if now.body.created_ms != bucket.body.created_ms {
        return Err(bucket_gone(bucket));
    }
    Ok(now)
}

/// Refuses a write prepared under another versioning status than `held`'s (the bucket as
/// [`hold_bucket`] found it): the status changed while the write's body was sealed. S3 answers
/// a conflicting operation with OperationAborted, which the client may retry.
pub(crate) fn same_versioning(held: &Bucket, bucket: &Bucket) -> Result<(), ApiError> {
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

/// The check of `action` on `resource` against the bucket's policy (and, while the bucket's
/// ACLs are enabled, the statements its ACL stands for); `context` joins the S3 condition keys
/// every request has. Refused outright while the bucket's public policy is restricted to its
/// own account (`RestrictPublicBuckets`).
pub(crate) fn s3_check(
    ctx: &Ctx<'_>,
    action: &str,
    resource: &str,
    bucket: Option<&Bucket>,
    context: Vec<(String, String)>,
) -> Result<Check, ApiError> {
    s3_object_check(ctx, action, resource, bucket, None, context)
}

/// [`s3_check`] of an action on one object, whose ACL (`object_acl`, as it counts:
/// `ownership::object_acl`) grants too while its bucket's ACLs are enabled. Its grants join
/// the resource policy the one evaluator reads (decision 018).
pub(crate) fn s3_object_check(
    ctx: &Ctx<'_>,
    action: &str,
    resource: &str,
    bucket: Option<&Bucket>,
    object_acl: Option<&Acl>,
    mut context: Vec<(String, String)>,
) -> Result<Check, ApiError> {
    let facts = ctx.facts;
    if let Some(b) = bucket {
        bpa::restrict(ctx.state, ctx.caller, b)?;
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
    let policy = match bucket {
        Some(b) => ownership::resource_policy(ctx.state, b, object_acl)?,
        None => None,
    };
    Ok(Check { owner, resource_policy: policy, context, ..Check::new(action, resource) })
}

/// Evaluates one check now, through the pipeline's evaluator (what execution finds it must
/// authorize: each key of a DeleteObjects batch).
pub(crate) fn check_now(
    ctx: &Ctx<'_>,
    action: &str,
    resource: &str,
    bucket: Option<&Bucket>,
    context: Vec<(String, String)>,
) -> Result<(), ApiError> {
    ctx.authorize(&s3_check(ctx, action, resource, bucket, context)?)
}

/// S3 (REST-XML).
pub(crate) struct S3;

/// An S3 call: the operation, the bucket and key it names, its input, its decoded body, and
/// what authorization found.
pub(crate) struct Call {
    pub operation: S3Operation,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The `Host` header's name (virtual-hosted style), for the event.
    pub host: String,
    /// S3 Control's `AccountId`.
    pub account_id: Option<String>,
    /// The operation's members, read once at routing.
    pub input: input::Input,
    /// The decoded body of a PutObject or UploadPart (empty when it streams; other operations'
    /// bodies are read into `input`).
    pub body: Vec<u8>,
    /// A large PutObject or UploadPart body, not read yet.
    pub stream: Option<crate::protocol::payload::PayloadReader>,
    /// The bucket's record, as authorization read it.
    pub found: Option<Bucket>,
}

impl Call {
    /// A view of the call for the operation's code.
    fn view(&self, body: Vec<u8>) -> S3Request<'_> {
        S3Request {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            account_id: self.account_id.clone(),
            input: &self.input,
            body,
            stream: std::cell::RefCell::new(None),
        }
    }
}

/// The bucket and key a path names, path-style or virtual-hosted style (`BUCKET.s3.HOST`,
/// `BUCKET.localhost`), and the host.
fn target(req: &Request<'_>) -> (Option<String>, Option<String>, String) {
    let decoded = sigv4::encode::percent_decode(req.path).into_owned();
    let trimmed = decoded.strip_prefix('/').unwrap_or(&decoded);
    let host =
        req.header("host").map(|h| h.split(':').next().unwrap_or_default()).unwrap_or_default();
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
    (bucket, key, host.to_string())
}

impl Service for S3 {
    type Operation = S3Operation;
    type Call = Call;
    const EVENT_SOURCE: &'static str = "s3.amazonaws.com";
    /// The operator is refused everything.
    const TENANT_ONLY: bool = true;

    fn route(req: &Request<'_>) -> Result<Call, Unrouted<S3Operation>> {
        let (bucket, key, host) =
            if req.path == bpa::ACCOUNT_PATH { (None, None, String::new()) } else { target(req) };
        let operation = if req.path == bpa::ACCOUNT_PATH {
            router::account_operation(req.method)
        } else {
            router::route(&router::Target {
                method: req.method,
                level: match (&bucket, &key) {
                    (None, _) => None,
                    (Some(_), None) => Some(router::Level::Bucket),
                    (Some(_), Some(_)) => Some(router::Level::Object),
                },
                query: req.query_params.iter().map(|(k, _)| k.as_str()).collect(),
                list_type: req
                    .query_params
                    .iter()
                    .find(|(k, _)| k == "list-type")
                    .map(|(_, v)| v.as_str()),
                copy: req.header("x-amz-copy-source").is_some(),
                form: req
                    .header("content-type")
                    .and_then(crate::protocol::form::boundary)
                    .is_some(),
            })
        }
        .map_err(|refused| Unrouted {
            operation: None,
            name: refused.name,
            error: refused.error,
        })?;
        let refuse = |e| Unrouted::input(operation, e);
        let (body, stream) = match req.stream.borrow_mut().take() {
            Some(stream) => {
                if !matches!(operation, S3Operation::PutObject | S3Operation::UploadPart) {
                    return Err(refuse(too_big()));
                }
                let reader = crate::protocol::payload::PayloadReader::new(
                    stream,
                    req.payload.clone(),
                    req.headers,
                )
                .map_err(refuse)?;
                (Vec::new(), Some(reader))
            }
            None => (
                crate::protocol::payload::decode_whole(req.payload.clone(), req.headers, req.body)
                    .map_err(refuse)?,
                None,
            ),
        };
        let input = input::Input::read(operation, req, &body);
        // A form names its object in its `key` field.
        let key = match &input {
            input::Input::PostObject(post) => post.key.clone(),
            _ => key,
        };
        // Only a PutObject's or UploadPart's body is needed past its input.
        let body = match operation {
            S3Operation::PutObject | S3Operation::UploadPart => body,
            _ => Vec::new(),
        };
        let account_id = req.header("x-amz-account-id").map(str::to_string);
        Ok(Call { operation, bucket, key, host, account_id, input, body, stream, found: None })
    }

    fn operation(call: &Call) -> S3Operation {
        call.operation
    }

    /// The bucket, a copy's source bucket, and the account of a KMS key named by its ARN.
    fn named(req: &Request<'_>, call: Option<&Call>) -> Vec<Named> {
        let mut named = Vec::new();
        let bucket = match call {
            Some(c) => c.bucket.clone(),
            None if req.path != bpa::ACCOUNT_PATH => target(req).0,
            None => None,
        };
        named.extend(bucket.map(Named::Bucket));
        if let Some(source) = req.header("x-amz-copy-source") {
            let path = sigv4::encode::percent_decode(source.trim_start_matches('/')).into_owned();
            if let Some((b, _)) = path.split_once('/') {
                named.push(Named::Bucket(b.to_string()));
            }
        }
        let kms_account = req
            .header("x-amz-server-side-encryption-aws-kms-key-id")
            .and_then(|k| k.strip_prefix("arn:aws:kms:"))
            .and_then(|arn| arn.split(':').nth(1));
        named.extend(kms_account.map(|a| Named::Account(a.to_string())));
        named
    }

    /// Request parameters as CloudTrail writes them for S3.
    fn parameters(req: &Request<'_>, call: &Call) -> Option<Value> {
        let mut params = serde_json::Map::new();
        if req.path == bpa::ACCOUNT_PATH {
            params.insert("accountId".into(), json!(req.header("x-amz-account-id")));
            return Some(Value::Object(params));
        }
        if let Some(b) = &call.bucket {
            params.insert("bucketName".into(), json!(b));
            params.insert("Host".into(), json!(call.host));
        }
        if let Some(k) = &call.key {
            params.insert("key".into(), json!(k));
        }
        for (k, v) in &req.query_params {
            if !k.starts_with("X-Amz-") {
                params.insert(k.clone(), json!(v));
            }
        }
        Some(Value::Object(params))
    }

    fn resources(call: &Call) -> Vec<audit::event::Resource> {
        let mut resources = Vec::new();
        if let (Some(b), Some(k)) = (&call.bucket, &call.key) {
            resources.push(audit::event::Resource {
                account_id: None,
                resource_type: Some("AWS::S3::Object".into()),
                arn: Some(format!("arn:aws:s3:::{b}/{k}")),
            });
        }
        if let Some(b) = &call.bucket {
            resources.push(audit::event::Resource {
                account_id: call.found.as_ref().map(|f| f.account.clone()),
                resource_type: Some("AWS::S3::Bucket".into()),
                arn: Some(format!("arn:aws:s3:::{b}")),
            });
        }
        resources
    }

    /// The CORS headers of a request from a browser origin that the bucket's CORS rules allow
    /// for its method: its answer carries them, allowed or refused (a preflight makes its own).
    fn answer_headers(req: &Request<'_>, call: &Call) -> Vec<(String, String)> {
        match (req.header("origin"), &call.found) {
            (Some(origin), Some(bucket)) if call.operation != S3Operation::PreflightRequest => {
                cors::actual(bucket, origin, req.method)
            }
            _ => Vec::new(),
        }
    }

    fn authorization(
        ctx: &Ctx<'_>,
        req: &Request<'_>,
        call: &mut Call,
    ) -> Result<Authorization, ApiError> {
        let _ = req;
        let view = call.view(Vec::new());
        let (authorization, found) = checks::authorization(ctx, call.operation, &view)?;
        call.found = found;
        Ok(authorization)
    }

    fn execute<'s>(
        ctx: &Ctx<'s>,
        req: &Request<'_>,
        mut call: Call,
        effect: &mut Effect<'s>,
    ) -> Result<Reply, ApiError> {
        let _ = req;
        let body = std::mem::take(&mut call.body);
        let stream = call.stream.take().map(blobs::Source::Upload);
        let found = call.found.take();
        let view = call.view(body);
        *view.stream.borrow_mut() = stream;
        run(ctx, call.operation, &view, found, effect)
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

/// Runs an authorized call; `found` is the bucket authorization read.
fn run<'s>(
    ctx: &Ctx<'s>,
    op: S3Operation,
    req: &S3Request<'_>,
    found: Option<Bucket>,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, caller, facts) = (ctx.state, ctx.caller, ctx.facts);
    let operation = op.name();
    let now = facts.time_ms;
    if op.level().is_none() && op != S3Operation::ListBuckets {
        return bpa::account_config(ctx, op, req, effect);
    }
    if op == S3Operation::ListBuckets {
        let input::Input::ListBuckets(input) = &req.input else {
            return Err(ApiError::internal("the input is not ListBuckets'"));
        };
        return listing::buckets(ctx, input);
    }
    let name = req.bucket.clone().unwrap_or_default();
    let bucket_arn = format!("arn:aws:s3:::{name}");
    if op == S3Operation::CreateBucket {
        let region = match req.input {
            input::Input::CreateBucket { location_constraint: Some(r), .. } if !r.is_empty() => {
                r.clone()
            }
            _ => facts.region.clone(),
        };
        // A bucket made with Object Lock is versioned from the start, and stays so.
        let object_lock = matches!(req.input, input::Input::CreateBucket { object_lock: true, .. });
        let _ = bucket_arn;
        // Its Object Ownership and ACL, the ACL's grantees found before the write begins.
        let (object_ownership, acl) = ownership::for_new_bucket(ctx, req.input)?;
        let mut tx = state.store.begin()?;
        if let Some(existing) = Stored::<BucketName>::get(tx.as_mut(), OPERATOR_ACCOUNT, &name)? {
            return Err(if existing.body.account == caller.account {
                // In us-east-1 S3 answers the owner's repeated create with 200 and changes
                // nothing; elsewhere with BucketAlreadyOwnedByYou.
                let own = Bucket::get(tx.as_mut(), &caller.account, &name)?;
                if own.is_some_and(|b| b.body.region == "us-east-1") && region == "us-east-1" {
                    return Ok(empty(200, vec![("location".into(), format!("/{name}"))]));
                }
                s3err(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
            } else {
                s3err(409, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
            });
        }
        let index = BucketName { account: caller.account.clone() };
        Stored::new(OPERATOR_ACCOUNT, &name, index, now)
            .put(tx.as_mut(), PutMode::Create)
            .map_err(|e| match e {
                PutError::Store(store::StoreError::AlreadyExists) => {
                    s3err(409, "BucketAlreadyExists", "The requested bucket name is not available.")
                }
                other => ApiError::from(other),
            })?;
        let body = BucketBody {
            name: name.clone(),
            region,
            created_ms: now,
            object_ownership: Some(object_ownership),
            acl,
            // Everything blocked, as AWS sets new buckets.
            public_access_block: Some(PublicAccessBlock::ALL),
            policy: None,
            kms_key_id: None,
            sse_algorithm: None,
            bucket_key_enabled: false,
            versioning: object_lock.then_some(crate::records::s3::Versioning::Enabled),
            tags: std::collections::BTreeMap::new(),
            object_lock: object_lock.then(crate::records::s3::ObjectLockConfig::default),
            cors: None,
            lifecycle: None,
        };
        Bucket::new(&caller.account, &name, body, now).put(tx.as_mut(), PutMode::Create)?;
        effect.tx = Some(tx);
        return Ok(empty(200, vec![("location".into(), format!("/{name}"))]));
    }
    let bucket = found.ok_or_else(|| ApiError::internal("the bucket was not authorized"))?;
    match operation {
        // Answered from the bucket's CORS rules alone: nothing of its objects is read.
        "PreflightRequest" => cors::preflight(req, &bucket),
        "HeadBucket" => {
            Ok(empty(200, vec![("x-amz-bucket-region".into(), bucket.body.region.clone())]))
        }
        "GetBucketLocation" => {
            let region = bucket.body.region.as_str();
            let region = if region == "us-east-1" { "" } else { region };
            Ok(xml_reply(
                200,
                xml::document("LocationConstraint", xml::NS, |w| {
                    w.chars(region);
                }),
            ))
        }
        "GetBucketVersioning" => Ok(xml_reply(
            200,
            xml::document("VersioningConfiguration", xml::NS, |w| {
                w.opt("Status", versions::status(&bucket));
            }),
        )),
        "ListObjectVersions" => {
            let input::Input::ListObjectVersions(q) = req.input else {
                return Err(ApiError::internal("the input is not ListObjectVersions'"));
            };
            if q.version_id_marker.is_some() && q.key_marker.is_none() {
                return Err(s3err(
                    400,
                    "InvalidArgument",
                    "A version-id marker cannot be specified without a key marker.",
                ));
            }
            let mut tx = state.store.read()?;
            versions::list(tx.as_mut(), &bucket, q)
        }
        "DeleteBucket" => {
            let mut tx = state.store.begin()?;
            // Object writes hold the bucket: they have committed, or will find it gone.
            lock_bucket(tx.as_mut(), &bucket)?;
            let objects =
                objects::ObjectRecord::list(tx.as_mut(), &bucket.account, &format!("{name}/"), 1)?;
            if !objects.is_empty() || versions::any(tx.as_mut(), &bucket)? {
                return Err(s3err(
                    409,
                    "BucketNotEmpty",
                    "The bucket you tried to delete is not empty",
                ));
            }
            // Unfinished uploads do not keep a bucket: S3 aborts them with it.
            effect.garbage = multipart::drop_all_uploads(tx.as_mut(), &bucket)?;
            Bucket::delete(tx.as_mut(), &bucket.account, &name)?;
            Stored::<BucketName>::delete(tx.as_mut(), OPERATOR_ACCOUNT, &name)?;
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
        | "DeleteBucketOwnershipControls"
        | "GetBucketTagging"
        | "PutBucketTagging"
        | "DeleteBucketTagging"
        | "GetBucketPolicyStatus"
        | "GetObjectLockConfiguration"
        | "PutObjectLockConfiguration"
        | "GetBucketCors"
        | "PutBucketCors"
        | "DeleteBucketCors"
        | "GetBucketLifecycleConfiguration"
        | "PutBucketLifecycleConfiguration"
        | "DeleteBucketLifecycle" => {
            // Bucket configuration is the owner's alone; its ACL is also whoever's the
            // evaluator allowed (an ACL's READ_ACP and WRITE_ACP grants, a bucket policy).
            let acl_operation = operation == "GetBucketAcl" || operation == "PutBucketAcl";
            if bucket.account != caller.account && !acl_operation {
                return Err(s3err(
                    403,
                    "AccessDenied",
                    "Bucket configuration belongs to the bucket owner.",
                ));
            }
            if operation.ends_with("ObjectLockConfiguration") {
                lock::bucket_config(state, operation, req, bucket, now, effect)
            } else if operation.ends_with("PublicAccessBlock") {
                bpa::bucket_config(state, operation, req, bucket, now, effect)
            } else if operation.ends_with("Acl") || operation.ends_with("OwnershipControls") {
                ownership::bucket_config(ctx, operation, req, bucket, effect)
            } else if operation.ends_with("Cors") {
                cors::config(state, operation, req, bucket, now, effect)
            } else {
                buckets::config(state, operation, req, bucket, now, effect)
            }
        }
        "GetObjectAcl" | "PutObjectAcl" => ownership::object(ctx, operation, req, &bucket, effect),
        _ => objects::handle(ctx, op, req, &bucket, effect),
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
        let blobs: std::sync::Arc<dyn store::BlobStore> =
            std::sync::Arc::new(store::LocalBlobs::new(dir.join("blobs")));
        let file = |name: &str| {
            let blob = store::BlobRef { account: "111122223333".into(), name: name.into() };
            let mut writer = blobs.create(&blob).unwrap();
            writer.write(b"sealed").unwrap();
            writer.commit().unwrap();
            let path = dir.join("blobs/111122223333").join(name);
            (blob, path)
        };
        let store = store::SqliteStore::open(dir.join("hermetic.db")).unwrap();

        // An error after the blob was written: no transaction, or one that is never committed.
        let (lost, lost_path) = file("lost");
        assert!(lost_path.exists());
        let mut effect = Effect::with_blobs(&blobs);
        effect.fresh.push(lost);
        effect.tx = Some(store.begin().unwrap());
        drop(effect);
        assert!(!lost_path.exists());

        // A commit: the new blob stays, the one it replaced goes.
        let ((new, new_path), (old, old_path)) = (file("new"), file("old"));
        let mut effect = Effect::with_blobs(&blobs);
        effect.fresh.push(new);
        effect.garbage.push(old);
        effect.commit(store.begin().unwrap()).unwrap();
        drop(effect);
        assert!(new_path.exists() && !old_path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
