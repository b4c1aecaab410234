//! What each S3 operation is authorized as: the bucket (read on a snapshot, its owner's log
//! touched), the object's tags or a copy's source when the checks depend on them, and the
//! checks, which the pipeline evaluates (STYLE 13). Checks that depend on what the execution
//! reads under its locks go through the same evaluator from there: the KMS key of the object
//! version actually read or written (`kms:ViaService`), and each key of a `DeleteObjects`.

use super::input::{GetObject, Input, LockHeaders, UploadPart};
use super::router::{Level, S3Operation};
use super::Bucket;
use super::{copy, listing, lock, objects, s3_check, s3err, S3Request};
use crate::error::ApiError;
use crate::pipeline::identity::OPERATOR_ACCOUNT;
use crate::pipeline::service::{Authorization, Check, Ctx, Operation};

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
            let object_lock = create_bucket_input(req)?;
            let mut list = vec![s3_check(ctx, op.action(), &bucket_arn, None, Vec::new())?];
            // A bucket made with Object Lock is also a lock configuration and a versioning
            // change, and needs both permissions, as in S3.
            if object_lock {
                for action in ["s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"] {
                    list.push(s3_check(ctx, action, &bucket_arn, None, Vec::new())?);
                }
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
            let tags = objects::existing_tags(ctx.state, &bucket, &key)?;
            let mut list = vec![s3_check(ctx, op.action(), &object_arn, b, tags)?];
            if let Input::GetObject(GetObject { version_id: Some(v), .. }) = req.input {
                let action = if op == Op::GetObjectAttributes {
                    "s3:GetObjectVersionAttributes"
                } else {
                    "s3:GetObjectVersion"
                };
                list.push(version_check(ctx, action, &object_arn, b, v)?);
            }
            list
        }
        Op::DeleteObject => {
            let mut list = vec![s3_check(ctx, op.action(), &object_arn, b, Vec::new())?];
            if let Input::DeleteObject { version_id: Some(v), .. } = req.input {
                list.push(version_check(ctx, "s3:DeleteObjectVersion", &object_arn, b, v)?);
            }
            list
        }
        Op::PutObject => {
            let Input::PutObject(input) = req.input else { return Err(unexpected()) };
            super::buckets::refuse_acls(&input.acl)?;
            let context = objects::put_context(input, ctx.facts.time_ms)?;
            let mut list = vec![s3_check(ctx, op.action(), &object_arn, b, context)?];
            list.extend(lock_checks(ctx, &bucket, &input.lock, &object_arn)?);
            list
        }
        Op::PostObject => {
            let Input::PostObject(post) = req.input else { return Err(unexpected()) };
            let signed = !ctx.caller.is_anonymous();
            super::post::check_form(post, &name, signed, ctx.facts.time_ms)?;
            let input = &post.put;
            super::buckets::refuse_acls(&input.acl)?;
            let context = objects::put_context(input, ctx.facts.time_ms)?;
            let mut list = vec![s3_check(ctx, op.action(), &object_arn, b, context)?];
            list.extend(lock_checks(ctx, &bucket, &input.lock, &object_arn)?);
            list
        }
        Op::CreateMultipartUpload => {
            let Input::CreateMultipartUpload(input) = req.input else { return Err(unexpected()) };
            super::buckets::refuse_acls(&input.acl)?;
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
            let mut list = vec![s3_check(ctx, "s3:GetObject", &source.arn, src, Vec::new())?];
            if let Some(v) = &source.version_id {
                list.push(version_check(ctx, "s3:GetObjectVersion", &source.arn, src, v)?);
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

/// `s3:GetObjectVersion` or `s3:DeleteObjectVersion` with `s3:VersionId`.
fn version_check(
    ctx: &Ctx<'_>,
    action: &str,
    arn: &str,
    bucket: Option<&Bucket>,
    version: &str,
) -> Result<Check, ApiError> {
    s3_check(ctx, action, arn, bucket, vec![("s3:VersionId".into(), version.to_string())])
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

/// `CreateBucket`'s input: a valid name and no ACL (Object Ownership is always
/// `BucketOwnerEnforced`); whether it asks for Object Lock.
fn create_bucket_input(req: &S3Request<'_>) -> Result<bool, ApiError> {
    let name = req.bucket.clone().unwrap_or_default();
    if !super::valid_bucket_name(&name) {
        return Err(s3err(400, "InvalidBucketName", "The specified bucket is not valid."));
    }
    let Input::CreateBucket { acl, object_lock, .. } = req.input else {
        return Err(unexpected());
    };
    if acl.acl.as_deref().is_some_and(|a| a != "private") || acl.grants {
        return Err(s3err(
            400,
            "InvalidBucketAclWithObjectOwnership",
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        ));
    }
    Ok(*object_lock)
}
