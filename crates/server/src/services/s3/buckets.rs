//! Bucket configuration the owner sets: policy, default encryption, versioning, tags and
//! lifecycle rules ([`super::lifecycle`]). Object Ownership and ACLs are
//! [`super::ownership`]'s.

use super::input::{self, Input};
use super::{empty, lock_bucket, s3err, xml, xml_reply, Bucket, S3Request};
use crate::error::ApiError;
use crate::pipeline::service::Effect;
use crate::pipeline::{Reply, State};
use crate::records::s3::Versioning;
use store::PutMode;

/// Refusal of an ACL a bucket whose ACLs are disabled does not take.
pub(super) fn acl_not_supported() -> ApiError {
    s3err(400, "AccessControlListNotSupported", "The bucket does not allow ACLs")
}

/// Refuses a write that sets an ACL granting anyone but the owner (an `x-amz-acl` other than
/// `private` or `bucket-owner-full-control`, which say the same here, or any `x-amz-grant-*`
/// header), as S3 does while a bucket's ACLs are disabled. (rclone sends `private` by default.)
pub(crate) fn refuse_acls(acl: &input::AclHeaders) -> Result<(), ApiError> {
    if acl.acl.as_deref().is_some_and(|acl| acl != "bucket-owner-full-control" && acl != "private")
    {
        return Err(acl_not_supported());
    }
    if !acl.grants.is_empty() {
        return Err(acl_not_supported());
    }
    Ok(())
}

/// Most tags on one bucket (S3's quota).
const MAX_BUCKET_TAGS: usize = 50;

pub(super) fn config<'s>(
    state: &'s State,
    operation: &str,
    req: &S3Request<'_>,
    mut bucket: Bucket,
    now: i64,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    match operation {
        "GetBucketPolicy" => match bucket.body.policy.as_deref() {
            Some(p) => Ok(Reply {
                status: 200,
                raw: Some(p.as_bytes().to_vec()),
                headers: vec![("content-type".into(), "application/json".into())],
                ..Reply::default()
            }),
            None => Err(s3err(404, "NoSuchBucketPolicy", "The bucket policy does not exist")),
        },
        "GetBucketTagging" => {
            if bucket.body.tags.is_empty() {
                return Err(s3err(404, "NoSuchTagSet", "The TagSet does not exist"));
            }
            Ok(xml_reply(
                200,
                xml::document("Tagging", xml::NS, |w| {
                    w.elem("TagSet", |w| {
                        for (k, v) in &bucket.body.tags {
                            w.elem("Tag", |w| {
                                w.text("Key", k).text("Value", v);
                            });
                        }
                    });
                }),
            ))
        }
        "GetBucketLifecycleConfiguration" => super::lifecycle::get(&bucket),
        "GetBucketPolicyStatus" => {
            // As in S3: a bucket without a policy has no policy status.
            let Some(policy) = bucket.body.policy.as_deref() else {
                return Err(s3err(404, "NoSuchBucketPolicy", "The bucket policy does not exist"));
            };
            let public = super::bpa::is_public(policy);
            Ok(xml_reply(
                200,
                xml::document("PolicyStatus", xml::NS, |w| {
                    w.value("IsPublic", public);
                }),
            ))
        }
        "GetBucketEncryption" => {
            // What PutBucketEncryption set (the algorithm, the key as it was named, and
            // BucketKeyEnabled); a bucket that has none answers S3's default, SSE-S3 without a
            // bucket key.
            let key = bucket.body.kms_key_id.as_deref();
            let algorithm = super::sse::bucket_default(&bucket.body);
            Ok(xml_reply(
                200,
                xml::document("ServerSideEncryptionConfiguration", xml::NS, |w| {
                    w.elem("Rule", |w| {
                        w.elem("ApplyServerSideEncryptionByDefault", |w| {
                            w.text("SSEAlgorithm", algorithm).opt("KMSMasterKeyID", key);
                        });
                        w.value("BucketKeyEnabled", bucket.body.bucket_key_enabled);
                    });
                }),
            ))
        }
        _ => {
            // The change applies to the bucket as it is now, not as the request found it (a
            // concurrent PutPublicAccessBlock's setting is kept, and checked against).
            let mut tx = state.store.begin()?;
            bucket = lock_bucket(tx.as_mut(), &bucket)?;
            let policy =
                match req.input {
                    Input::PutBucketPolicy { policy } => Some(policy.clone().ok_or_else(|| {
                        s3err(400, "MalformedPolicy", "Policies must be UTF-8 JSON")
                    })?),
                    _ => None,
                };
            if let Some(text) = &policy {
                super::bpa::check_policy(tx.as_mut(), &bucket, text)?;
            }
            let body = &mut bucket.body;
            match operation {
                "PutBucketPolicy" => {
                    let text = policy.unwrap_or_default();
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
                    body.policy = Some(text);
                }
                "DeleteBucketPolicy" => {
                    body.policy = None;
                }
                "PutBucketTagging" => {
                    let Input::PutObjectTagging { tags } = req.input else {
                        return Err(ApiError::internal("the input is not PutBucketTagging's"));
                    };
                    super::objects::check_tags(tags.iter().map(|(k, v)| (k, v)), MAX_BUCKET_TAGS)?;
                    body.tags = tags.iter().cloned().collect();
                }
                "DeleteBucketTagging" => {
                    body.tags.clear();
                }
                "PutBucketLifecycleConfiguration" => {
                    let Input::PutBucketLifecycle(lifecycle) = req.input else {
                        return Err(ApiError::internal("the input is not a lifecycle's"));
                    };
                    body.lifecycle = Some(super::lifecycle::with_ids(lifecycle.clone()?));
                }
                "DeleteBucketLifecycle" => {
                    body.lifecycle = None;
                }
                "PutBucketVersioning" => {
                    let status = match req.input {
                        Input::PutBucketVersioning { status: Some(s) } if s == "Enabled" => {
                            Versioning::Enabled
                        }
                        Input::PutBucketVersioning { status: Some(s) } if s == "Suspended" => {
                            Versioning::Suspended
                        }
                        _ => {
                            return Err(s3err(
                                400,
                                "MalformedXML",
                                "Versioning Status must be Enabled or Suspended",
                            ))
                        }
                    };
                    // Object Lock needs every version kept.
                    if body.object_lock.is_some() && status != Versioning::Enabled {
                        return Err(s3err(
                            409,
                            "InvalidBucketState",
                            "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
                        ));
                    }
                    body.versioning = Some(status);
                }
                "PutBucketEncryption" => {
                    let Input::PutBucketEncryption {
                        sse_algorithm,
                        kms_master_key_id,
                        bucket_key_enabled,
                    } = req.input
                    else {
                        return Err(ApiError::internal("the input is not PutBucketEncryption's"));
                    };
                    // Kept as given, whatever the algorithm (S3 answers it back so); only
                    // SSE-KMS writes use a bucket key (`sse`).
                    let bucket_key = match bucket_key_enabled.as_deref() {
                        None => false,
                        Some(v) if v.eq_ignore_ascii_case("true") => true,
                        Some(v) if v.eq_ignore_ascii_case("false") => false,
                        Some(_) => {
                            return Err(s3err(
                                400,
                                "MalformedXML",
                                "BucketKeyEnabled must be true or false",
                            ))
                        }
                    };
                    let algorithm = sse_algorithm.as_str();
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
                    body.kms_key_id = kms_master_key_id
                        .clone()
                        .filter(|k| !k.is_empty() && algorithm != "AES256");
                    body.sse_algorithm = Some(algorithm.to_string());
                    body.bucket_key_enabled = bucket_key;
                }
                _ => {
                    body.kms_key_id = None;
                    body.sse_algorithm = None;
                    body.bucket_key_enabled = false;
                }
            }
            bucket.updated_at_ms = now;
            bucket.put(tx.as_mut(), PutMode::Update)?;
            effect.tx = Some(tx);
            // S3 answers deletions and PutBucketPolicy with 204 No Content.
            let no_content = operation.starts_with("Delete") || operation == "PutBucketPolicy";
            Ok(empty(if no_content { 204 } else { 200 }, Vec::new()))
        }
    }
}
