//! What each S3 operation is authorized as: the bucket (read on a snapshot, its owner's log
//! touched), the object's tags or a copy's source when the checks depend on them (and the
//! object's ACL while the bucket's ACLs are enabled: its grants join the checks' resource
//! policy, decision 018), and the checks, which the pipeline evaluates (STYLE 13). Checks that
//! depend on what the execution reads under its locks go through the same evaluator from there:
//! the KMS key of the object version actually read or written (`kms:ViaService`), and each key
//! of a `DeleteObjects`.

use super::input::{GetObject, Input, LockHeaders, UploadPart};
use super::router::{Level, S3Operation};
use super::Bucket;
use super::{copy, listing, lock, objects, s3_check, s3_object_check, s3err, S3Request};
use crate::error::ApiError;
use crate::pipeline::identity::OPERATOR_ACCOUNT;
use crate::pipeline::service::{Authorization, Check, Ctx, Operation};
use crate::records::s3::{Acl, ObjectOwnership};

/// The checks of one call, and the bucket it names as authorization read it (see the module's
/// documentation).
pub(super) fn authorization(
    ctx: &Ctx<'_>,
    op: S3Operation,
    req: &S3Request<'_>,
) -> Result<(Authorization, Option<Bucket>), ApiError> {
    use S3Operation as Op;
    let caller = ctx.caller;
    let name = req.bucket.clone().unwrap_or_default();
    let bucket_arn = format!("arn:aws:s3:::{name}");
    let checks = |list: Vec<Check>| Authorization::Checks(list);
    match op.level() {
        None if op == Op::ListBuckets => {
            return Ok((checks(vec![s3_check(ctx, op.action(), "*", None, Vec::new())?]), None));
        }
        None => {
            // The account's own Block Public Access: its principals only.
            if caller.account == OPERATOR_ACCOUNT || caller.is_anonymous() {
                return Err(s3err(403, "AccessDenied", "Access Denied"));
            }
            return Ok((checks(vec![s3_check(ctx, op.action(), "*", None, Vec::new())?]), None));
        }
        Some(_) if op == Op::CreateBucket => {
            let asks = create_bucket_input(req, &caller.account)?;
            let mut list = vec![s3_check(ctx, op.action(), &bucket_arn, None, Vec::new())?];
            // A bucket made with Object Lock is also a lock configuration and a versioning
            // change, and needs both permissions, as in S3; so is one made with an Object
            // Ownership (`s3:PutBucketOwnershipControls`) or an ACL that grants more than the
            // owner's full control (`s3:PutBucketAcl`).
            let mut more = Vec::new();
            if asks.object_lock {
                more.extend(["s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"]);
            }
            if asks.ownership {
                more.push("s3:PutBucketOwnershipControls");
            }
            if asks.acl {
                more.push("s3:PutBucketAcl");
            }
            for action in more {
                list.push(s3_check(ctx, action, &bucket_arn, None, Vec::new())?);
            }
            return Ok((checks(list), None));
        }
        Some(_) if op == Op::PreflightRequest => {
            // A browser's CORS preflight: unsigned, so anyone's, and no IAM action authorizes
            // it (as in S3). Its question is checked first, as S3 answers it whatever the path
            // names; then only the bucket's record is read, for its CORS rules.
            let Input::Preflight(asked) = req.input else { return Err(unexpected()) };
            asked.asked()?;
            let bucket = super::bucket(ctx.state, &name).map_err(|e| {
                if e.code == "NoSuchBucket" {
                    super::cors::no_bucket()
                } else {
                    e
                }
            })?;
            ctx.touch(&bucket.account);
            return Ok((Authorization::AnyCaller, Some(bucket)));
        }
        Some(_) => {}
    }
    let bucket = super::bucket(ctx.state, &name)?;
    ctx.touch(&bucket.account);
    let b = Some(&bucket);
    let key = req.key.clone().unwrap_or_default();
    if op.level() == Some(Level::Object) && key.len() > 1024 {
        return Err(s3err(400, "KeyTooLongError", "Your key is too long"));
    }
    let object_arn = format!("{bucket_arn}/{key}");
    let list: Vec<Check> = match op {
        // Each key is authorized as the execution comes to it, refused or not one by one.
        Op::DeleteObjects => return Ok((Authorization::PerItem, Some(bucket))),
        Op::ListObjects | Op::ListObjectsV2 => {
            let Input::ListObjects(input) = req.input else { return Err(unexpected()) };
            let context = listing::list_context(input)?;
            vec![s3_check(ctx, op.action(), &bucket_arn, b, context)?]
        }
        Op::ListObjectVersions => {
            let Input::ListObjectVersions(input) = req.input else { return Err(unexpected()) };
            let context = vec![("s3:prefix".into(), input.prefix.clone())];
            vec![s3_check(ctx, op.action(), &bucket_arn, b, context)?]
        }
        Op::GetObject
        | Op::HeadObject
        | Op::GetObjectAttributes
        | Op::GetObjectTagging
        | Op::PutObjectTagging
        | Op::DeleteObjectTagging => {
            let version = match req.input {
                Input::GetObject(GetObject { version_id, .. }) => version_id.as_deref(),
                _ => None,
            };
            let found = objects::for_checks(ctx.state, &bucket, &key, version)?;
            let acl = found.acl.as_ref();
            let mut list =
                vec![s3_object_check(ctx, op.action(), &object_arn, b, acl, found.tags)?];
            if let Some(v) = version {
                let action = if op == Op::GetObjectAttributes {
                    "s3:GetObjectVersionAttributes"
                } else {
                    "s3:GetObjectVersion"
                };
                list.push(version_check(ctx, action, &object_arn, b, acl, v)?);
            }
            list
        }
        Op::GetObjectAcl | Op::PutObjectAcl => {
            let version = match req.input {
                Input::ObjectVersion { version_id } => version_id.as_deref(),
                Input::PutAcl(input) => input.version_id.as_deref(),
                _ => return Err(unexpected()),
            };
            let found = objects::for_checks(ctx.state, &bucket, &key, version)?;
            let acl = found.acl.as_ref();
            let mut list =
                vec![s3_object_check(ctx, op.action(), &object_arn, b, acl, found.tags)?];
            if let Some(v) = version {
                let action = if op == Op::GetObjectAcl {
                    "s3:GetObjectVersionAcl"
                } else {
                    "s3:PutObjectVersionAcl"
                };
                list.push(version_check(ctx, action, &object_arn, b, acl, v)?);
            }
            list
        }
        Op::DeleteObject => {
            let mut list = vec![s3_check(ctx, op.action(), &object_arn, b, Vec::new())?];
            if let Input::DeleteObject { version_id: Some(v), .. } = req.input {
                list.push(version_check(ctx, "s3:DeleteObjectVersion", &object_arn, b, None, v)?);
            }
            list
        }
        Op::PutObject | Op::PostObject => {
            // A browser form is a PutObject of its fields, once the form itself holds.
            let input = match req.input {
                Input::PutObject(input) => input,
                Input::PostObject(post) => {
                    let signed = !ctx.caller.is_anonymous();
                    super::post::check_form(post, &name, signed, ctx.facts.time_ms)?;
                    &post.put
                }
                _ => return Err(unexpected()),
            };
            super::ownership::check_headers(&bucket, &input.acl)?;
            let context = objects::put_context(input, ctx.facts.time_ms)?;
            let mut list = vec![s3_check(ctx, op.action(), &object_arn, b, context)?];
            list.extend(lock_checks(ctx, &bucket, &input.lock, &object_arn)?);
            list
        }
        Op::CreateMultipartUpload => {
            let Input::CreateMultipartUpload(input) = req.input else { return Err(unexpected()) };
            super::ownership::check_headers(&bucket, &input.acl)?;
            let mut context = super::sse::context(&input.encryption)?;
            context.extend(lock::context(&input.lock, ctx.facts.time_ms));
            let mut list = vec![s3_check(ctx, op.action(), &object_arn, b, context)?];
            list.extend(lock_checks(ctx, &bucket, &input.lock, &object_arn)?);
            list
        }
        Op::PutObjectRetention | Op::PutObjectLegalHold => {
            let context = match req.input {
                Input::PutObjectRetention { mode, retain_until, .. } => {
                    let headers = LockHeaders {
                        mode: mode.clone(),
                        retain_until: retain_until.clone(),
                        legal_hold: None,
                    };
                    lock::context(&headers, ctx.facts.time_ms)
                }
                Input::PutObjectLegalHold { status, .. } => {
                    let headers =
                        LockHeaders { legal_hold: status.clone(), ..LockHeaders::default() };
                    lock::context(&headers, ctx.facts.time_ms)
                }
                _ => return Err(unexpected()),
            };
            vec![s3_check(ctx, op.action(), &object_arn, b, context)?]
        }
        Op::CopyObject | Op::UploadPartCopy => {
            let copy_source = match req.input {
                Input::CopyObject(input) => &input.source,
                Input::UploadPart(UploadPart { source: Some(source), .. }) => source,
                _ => return Err(unexpected()),
            };
            let source = copy::copy_source_of(ctx.state, copy_source)?;
            ctx.touch(&source.bucket.account);
            let src = Some(&source.bucket);
            // The source object's ACL grants its reads, as for a GetObject of it.
            let source_acl = source
                .record
                .as_ref()
                .filter(|_| source.bucket.body.acls_enabled())
                .map(|r| super::ownership::object_acl(&source.bucket, &r.body));
            let acl = source_acl.as_ref();
            let mut list =
                vec![s3_object_check(ctx, "s3:GetObject", &source.arn, src, acl, Vec::new())?];
            if let Some(v) = &source.version_id {
                list.push(version_check(ctx, "s3:GetObjectVersion", &source.arn, src, acl, v)?);
            }
            // A copy is a PutObject of the copied headers (the source's metadata and tags
            // unless the request replaces them).
            let context = match (req.input, &source.record) {
                (Input::CopyObject(input), Some(record)) => {
                    objects::put_context(&copy::copied_put(input, record), ctx.facts.time_ms)?
                }
                _ => Vec::new(),
            };
            list.push(s3_check(ctx, "s3:PutObject", &object_arn, b, context)?);
            if let Input::CopyObject(input) = req.input {
                list.extend(lock_checks(ctx, &bucket, &input.put.lock, &object_arn)?);
            }
            list
        }
        _ if op.level() == Some(Level::Object) => {
            vec![s3_check(ctx, op.action(), &object_arn, b, Vec::new())?]
        }
        _ => vec![s3_check(ctx, op.action(), &bucket_arn, b, Vec::new())?],
    };
    Ok((checks(list), Some(bucket)))
}

/// A call whose input is not its operation's (a routing bug): refused.
fn unexpected() -> ApiError {
    ApiError::internal("the input is not the operation's")
}

/// `s3:GetObjectVersion`, `s3:DeleteObjectVersion` and the like with `s3:VersionId`, the
/// version's ACL granting too (when its bucket's ACLs are enabled).
fn version_check(
    ctx: &Ctx<'_>,
    action: &str,
    arn: &str,
    bucket: Option<&Bucket>,
    acl: Option<&Acl>,
    version: &str,
) -> Result<Check, ApiError> {
    let context = vec![("s3:VersionId".into(), version.to_string())];
    s3_object_check(ctx, action, arn, bucket, acl, context)
}

/// A write's Object Lock headers, checked against the bucket before the body is read (they are
/// checked again, at the write's own time, when the version is made), and the permissions they
/// need besides the write's own.
fn lock_checks(
    ctx: &Ctx<'_>,
    bucket: &Bucket,
    headers: &LockHeaders,
    object_arn: &str,
) -> Result<Vec<Check>, ApiError> {
    lock::for_write(bucket, headers, ctx.facts.time_ms)?;
    lock::write_actions(headers)
        .into_iter()
        .map(|action| s3_check(ctx, action, object_arn, Some(bucket), Vec::new()))
        .collect()
}

/// What a `CreateBucket` asks besides the bucket, each needing a permission of its own.
struct CreateAsks {
    /// Object Lock (`x-amz-bucket-object-lock-enabled`).
    object_lock: bool,
    /// An Object Ownership (`x-amz-object-ownership`).
    ownership: bool,
    /// An ACL other than the owner's full control (`x-amz-acl` other than `private`, or
    /// `x-amz-grant-*` headers).
    acl: bool,
}

/// `CreateBucket`'s input: a valid name, a known Object Ownership, and no ACL that grants
/// others under `BucketOwnerEnforced` (the default, as in AWS) or that does not read; what it
/// asks for.
fn create_bucket_input(req: &S3Request<'_>, caller: &str) -> Result<CreateAsks, ApiError> {
    let name = req.bucket.clone().unwrap_or_default();
    if !super::valid_bucket_name(&name) {
        return Err(s3err(400, "InvalidBucketName", "The specified bucket is not valid."));
    }
    let Input::CreateBucket { acl, object_lock, object_ownership, .. } = req.input else {
        return Err(unexpected());
    };
    let ownership = super::ownership::new_bucket_ownership(object_ownership.as_deref())?;
    let grants_others =
        acl.acl.as_deref().is_some_and(|a| a != "private") || !acl.grants.is_empty();
    if ownership == ObjectOwnership::BucketOwnerEnforced {
        if grants_others {
            return Err(s3err(
                400,
                "InvalidBucketAclWithObjectOwnership",
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            ));
        }
    } else {
        super::acl::from_headers(acl, caller)?;
    }
    Ok(CreateAsks {
        object_lock: *object_lock,
        ownership: object_ownership.is_some(),
        acl: grants_others,
    })
}
