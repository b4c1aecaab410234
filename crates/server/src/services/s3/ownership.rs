//! Object Ownership and the ACL operations: `Get/Put/DeleteBucketOwnershipControls`,
//! `Get/PutBucketAcl`, `Get/PutObjectAcl`, the ACL a write gives its object (PutObject,
//! CopyObject, POST, CreateMultipartUpload) or CreateBucket its bucket, and the resource policy
//! a check is evaluated with: the bucket policy and, while the bucket's ACLs are enabled, the
//! statements its ACL and the object's ACL stand for ([`super::acl`]). The grants are
//! evaluated by the pipeline's one evaluator, nowhere else (decision 018).
//!
//! While Object Ownership is `BucketOwnerEnforced` (every new bucket's, as in AWS), ACLs read as
//! the owner's full control, grant nothing, and only an ACL that says as much is accepted
//! (`AccessControlListNotSupported` otherwise). Stored ACLs are kept then, and count again once
//! ACLs are enabled, as in S3. Every object is the bucket owner's, whatever the setting
//! (objects are sealed under the bucket owner's keys): under `ObjectWriter` (and
//! `BucketOwnerPreferred` without `bucket-owner-full-control`) a writer of another account gets
//! full control of what it wrote instead of owning it.

use super::acl::{self, On, Requested};
use super::buckets::acl_not_supported;
use super::input::{AclHeaders, Input, PutAcl};
use super::objects::{self, ObjectRecord};
use super::{empty, lock_bucket, s3err, xml, xml_reply, Bucket, S3Request};
use crate::error::ApiError;
use crate::pipeline::service::{Ctx, Effect};
use crate::pipeline::{Reply, State};
use crate::records::s3::{Acl, Object, ObjectOwnership};
use store::PutMode;

/// A change to `BucketOwnerEnforced` while the bucket's ACL grants others (S3's refusal).
fn ownership_conflict() -> ApiError {
    s3err(
        400,
        "InvalidBucketAclWithObjectOwnership",
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    )
}

/// The bucket's ACL as it counts: its own while ACLs are enabled (the default if none was
/// set), the owner's full control while they are disabled.
pub(super) fn bucket_acl(bucket: &Bucket) -> Acl {
    match &bucket.body.acl {
        Some(acl) if bucket.body.acls_enabled() => acl.clone(),
        _ => Acl::private(&bucket.account),
    }
}

/// An object's ACL as it counts (see [`bucket_acl`]).
pub(super) fn object_acl(bucket: &Bucket, object: &Object) -> Acl {
    match &object.acl {
        Some(acl) if bucket.body.acls_enabled() => acl.clone(),
        _ => Acl::private(&bucket.account),
    }
}

/// The resource policy a check on `bucket` (and on the object whose ACL is `object`) is
/// evaluated with: the bucket policy, and while the bucket's ACLs are enabled the statements of
/// its ACL and the object's after it. With `IgnorePublicAcls` (the bucket's or the account's)
/// public grants count for nothing.
pub(super) fn resource_policy(
    state: &State,
    bucket: &Bucket,
    object: Option<&Acl>,
) -> Result<Option<String>, ApiError> {
    let policy = bucket.body.policy.as_deref();
    if !bucket.body.acls_enabled() {
        return Ok(policy.map(str::to_string));
    }
    let own = bucket_acl(bucket);
    let public = own.is_public() || object.is_some_and(Acl::is_public);
    let ignore_public = public && super::bpa::effective(state, bucket)?.ignore_public_acls;
    let mut extra = acl::statements(&own, On::Bucket, &bucket.key, ignore_public);
    if let Some(object) = object {
        extra.extend(acl::statements(object, On::Object, &bucket.key, ignore_public));
    }
    acl::merged_policy(policy, extra)
}

/// A requested ACL resolved for a resource `owner` owns: each other account it names must
/// exist (read before any write transaction begins).
fn resolve(ctx: &Ctx<'_>, requested: &Requested, owner: &str) -> Result<Acl, ApiError> {
    acl::resolve(requested, owner, |id| ctx.read(|tx| Ok(tx.get_account(id)?.is_some())))
}

/// The ACL a PutBucketAcl or PutObjectAcl asks for, its grantees resolved. `None` when the
/// bucket's ACLs are disabled and the ACL asked for is the owner's full control, which every
/// ACL is there (accepted; nothing changes); any other ACL is then refused.
fn asked_acl(ctx: &Ctx<'_>, req: &S3Request<'_>, bucket: &Bucket) -> Result<Option<Acl>, ApiError> {
    let Input::PutAcl(input) = req.input else {
        return Err(ApiError::internal("the input is not an ACL's"));
    };
    let owner = bucket.account.clone();
    let asked = requested(input, &owner)?;
    if !bucket.body.acls_enabled() {
        return if asked.is_owner_full_control(&owner) {
            Ok(None)
        } else {
            Err(acl_not_supported())
        };
    }
    resolve(ctx, &asked, &owner).map(Some)
}

/// What a PutBucketAcl or PutObjectAcl asks: its headers or its body, not both, not neither.
fn requested(input: &PutAcl, owner: &str) -> Result<Requested, ApiError> {
    match (acl::from_headers(&input.acl, owner)?, &input.policy) {
        (Some(_), Some(_)) => {
            Err(s3err(400, "UnexpectedContent", "This request does not support content"))
        }
        (Some(requested), None) => Ok(requested),
        (None, Some(body)) => body.clone(),
        (None, None) => {
            Err(s3err(400, "MissingSecurityHeader", "Your request was missing a required header"))
        }
    }
}

/// A write's ACL headers, checked before it is authorized: while the bucket's ACLs are
/// disabled only what grants nobody else is taken (as [`super::buckets::refuse_acls`] says);
/// while they are enabled, the headers must read (their grantees are resolved when the write
/// runs).
pub(super) fn check_headers(bucket: &Bucket, headers: &AclHeaders) -> Result<(), ApiError> {
    if !bucket.body.acls_enabled() {
        return super::buckets::refuse_acls(headers);
    }
    acl::from_headers(headers, &bucket.account).map(|_| ())
}

/// The ACL a write gives the object it makes (PutObject, CopyObject, POST,
/// CreateMultipartUpload for its completion): none (the default) while the bucket's ACLs are
/// disabled; else what the headers ask (the default if nothing), with full control for a
/// writer of another account unless the bucket takes the object (`BucketOwnerPreferred` with
/// `bucket-owner-full-control`). A public ACL is refused under `BlockPublicAcls`, here on the
/// settings as they are and again in the write's transaction ([`check_held`]).
pub(super) fn for_write(
    ctx: &Ctx<'_>,
    bucket: &Bucket,
    headers: &AclHeaders,
) -> Result<Option<Acl>, ApiError> {
    if !bucket.body.acls_enabled() {
        super::buckets::refuse_acls(headers)?;
        return Ok(None);
    }
    let owner = &bucket.account;
    let asked = acl::from_headers(headers, owner)?;
    let mut acl = match &asked {
        Some(requested) => resolve(ctx, requested, owner)?,
        None => Acl::private(owner),
    };
    let caller = ctx.caller;
    let taken_by_bucket = bucket.body.object_ownership
        == Some(ObjectOwnership::BucketOwnerPreferred)
        && asked.as_ref().and_then(|r| r.canned.as_deref()) == Some("bucket-owner-full-control");
    let an_account =
        caller.account.len() == 12 && caller.account.bytes().all(|b| b.is_ascii_digit());
    if an_account && !caller.is_anonymous() && caller.account != *owner && !taken_by_bucket {
        acl::grant_writer(&mut acl, &caller.account);
    }
    if acl.is_public() && super::bpa::effective(ctx.state, bucket)?.block_public_acls {
        return Err(super::bpa::public_acl_blocked());
    }
    Ok((!acl.is_private()).then_some(acl))
}

/// `BlockPublicAcls` in a write's transaction, on the bucket as it is held there and the
/// account's settings as they are: a public ACL is refused (nothing else is read).
pub(super) fn check_held(
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
    acl: Option<&Acl>,
) -> Result<(), ApiError> {
    let Some(acl) = acl.filter(|a| a.is_public()) else { return Ok(()) };
    let held = super::hold_bucket(tx, bucket)?;
    super::bpa::check_acl(tx, &held, acl)
}

/// CreateBucket's Object Ownership (`x-amz-object-ownership`, `BucketOwnerEnforced` without
/// it) and ACL (what its headers ask, resolved; none for the default). The headers were
/// checked before authorization (`checks`); a public ACL is refused, as the new bucket blocks
/// public ACLs (Block Public Access is on for every new bucket).
pub(super) fn for_new_bucket(
    ctx: &Ctx<'_>,
    input: &Input,
) -> Result<(ObjectOwnership, Option<Acl>), ApiError> {
    let Input::CreateBucket { acl: headers, object_ownership, .. } = input else {
        return Err(ApiError::internal("the input is not CreateBucket's"));
    };
    let ownership = new_bucket_ownership(object_ownership.as_deref())?;
    if ownership == ObjectOwnership::BucketOwnerEnforced {
        return Ok((ownership, None));
    }
    let owner = &ctx.caller.account;
    let acl = match acl::from_headers(headers, owner)? {
        Some(requested) => resolve(ctx, &requested, owner)?,
        None => return Ok((ownership, None)),
    };
    if acl.is_public() {
        return Err(super::bpa::public_acl_blocked());
    }
    Ok((ownership, (!acl.is_private()).then_some(acl)))
}

/// The Object Ownership `x-amz-object-ownership` asks of a new bucket: `BucketOwnerEnforced`
/// without one; `InvalidArgument` for a value S3 does not know.
pub(super) fn new_bucket_ownership(header: Option<&str>) -> Result<ObjectOwnership, ApiError> {
    match header.map(str::trim) {
        None => Ok(ObjectOwnership::BucketOwnerEnforced),
        Some(text) => ObjectOwnership::parse(text).ok_or_else(|| {
            s3err(
                400,
                "InvalidArgument",
                format!("Invalid x-amz-object-ownership header: `{text}`"),
            )
        }),
    }
}

/// `Get/Put/DeleteBucketOwnershipControls`, `GetBucketAcl`, `PutBucketAcl` on `bucket` (the
/// owner-only check of bucket configuration, where it applies, was made by the caller).
pub(super) fn bucket_config<'s>(
    ctx: &Ctx<'s>,
    operation: &str,
    req: &S3Request<'_>,
    bucket: Bucket,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, now) = (ctx.state, ctx.now());
    match operation {
        "GetBucketAcl" => Ok(xml_reply(200, acl::document(&bucket_acl(&bucket)))),
        "GetBucketOwnershipControls" => {
            let ownership = bucket.body.object_ownership.ok_or_else(|| {
                s3err(
                    404,
                    "OwnershipControlsNotFoundError",
                    "The bucket ownership controls were not found",
                )
            })?;
            Ok(xml_reply(
                200,
                xml::document("OwnershipControls", xml::NS, |w| {
                    w.elem("Rule", |w| {
                        w.text("ObjectOwnership", ownership.as_str());
                    });
                }),
            ))
        }
        "PutBucketAcl" => {
            let Some(acl) = asked_acl(ctx, req, &bucket)? else {
                return Ok(empty(200, Vec::new()));
            };
            // The change applies to the bucket as it is now (its ownership and blocks).
            let mut tx = state.store.begin()?;
            let mut bucket = lock_bucket(tx.as_mut(), &bucket)?;
            if !bucket.body.acls_enabled() {
                return Err(acl_not_supported());
            }
            super::bpa::check_acl(tx.as_mut(), &bucket, &acl)?;
            bucket.body.acl = (!acl.is_private()).then_some(acl);
            bucket.updated_at_ms = now;
            bucket.put(tx.as_mut(), PutMode::Update)?;
            effect.tx = Some(tx);
            Ok(empty(200, Vec::new()))
        }
        "PutBucketOwnershipControls" | "DeleteBucketOwnershipControls" => {
            let ownership = match req.input {
                Input::PutBucketOwnershipControls { object_ownership } => Some(
                    object_ownership
                        .as_deref()
                        .and_then(|o| ObjectOwnership::parse(o.trim()))
                        .ok_or_else(|| {
                            s3err(
                                400,
                                "MalformedXML",
                                "The XML you provided was not well-formed or did not validate against our published schema",
                            )
                        })?,
                ),
                _ if operation == "DeleteBucketOwnershipControls" => None,
                _ => return Err(ApiError::internal("the input is not PutBucketOwnershipControls'")),
            };
            let mut tx = state.store.begin()?;
            let mut bucket = lock_bucket(tx.as_mut(), &bucket)?;
            // ACLs are disabled only once the bucket's grants nobody but its owner.
            let own = bucket.body.acl.clone().unwrap_or_else(|| Acl::private(&bucket.account));
            if ownership == Some(ObjectOwnership::BucketOwnerEnforced) && !own.grants_only_owner() {
                return Err(ownership_conflict());
            }
            bucket.body.object_ownership = ownership;
            bucket.updated_at_ms = now;
            bucket.put(tx.as_mut(), PutMode::Update)?;
            effect.tx = Some(tx);
            Ok(empty(if ownership.is_none() { 204 } else { 200 }, Vec::new()))
        }
        _ => Err(ApiError::internal("not an ACL or ownership operation")),
    }
}

/// `GetObjectAcl` and `PutObjectAcl` (of the current object, or of a version with
/// `versionId`). A PutObjectAcl changes the version it names and, when that version is the
/// current object, the current object too.
pub(super) fn object<'s>(
    ctx: &Ctx<'s>,
    operation: &str,
    req: &S3Request<'_>,
    bucket: &Bucket,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let key = req.key.clone().unwrap_or_default();
    let version_id = match req.input {
        Input::ObjectVersion { version_id } => version_id.as_deref(),
        Input::PutAcl(input) => input.version_id.as_deref(),
        _ => None,
    };
    let found = objects::read_target(ctx, bucket, &key, version_id)?;
    if operation == "GetObjectAcl" {
        return Ok(xml_reply(200, acl::document(&object_acl(bucket, &found.body))));
    }
    let Some(acl) = asked_acl(ctx, req, bucket)? else {
        return Ok(empty(200, Vec::new()));
    };
    let stored = (!acl.is_private()).then(|| acl.clone());
    let now = ctx.now();
    let mut tx = ctx.state.store.begin()?;
    let held = super::hold_bucket(tx.as_mut(), bucket)?;
    if !held.body.acls_enabled() {
        return Err(acl_not_supported());
    }
    super::bpa::check_acl(tx.as_mut(), &held, &acl)?;
    let target = found.body.version_id.clone();
    let mut changed = false;
    let current_key = objects::object_key(bucket, &key);
    if let Some(mut current) =
        ObjectRecord::get_for_update(tx.as_mut(), &bucket.account, &current_key)?
            .filter(|c| c.body.version_id == target && !c.body.delete_marker)
    {
        current.body.acl = stored.clone();
        current.updated_at_ms = now;
        current.put(tx.as_mut(), PutMode::Update)?;
        changed = true;
    }
    if let Some(v) = &target {
        if let Some(mut version) = super::versions::find(tx.as_mut(), bucket, &key, v)? {
            version.body.0.acl = stored;
            version.updated_at_ms = now;
            version.put(tx.as_mut(), PutMode::Update)?;
            changed = true;
        }
    }
    // Deleted (or overwritten, without versioning) since it was read.
    if !changed {
        return Err(objects::no_such_key(&key));
    }
    effect.tx = Some(tx);
    Ok(empty(200, Vec::new()))
}
