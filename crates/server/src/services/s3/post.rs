//! Browser uploads (S3's POST object): a `multipart/form-data` form posted to the bucket,
//! whose fields name the key and carry the object's headers. A signed form's signature (over
//! its policy document) is verified by the pipeline's authentication, as every signature is;
//! here the policy itself is held to: it must not have expired, and every field of the form
//! must be one its conditions allow, with the value they allow. The write is then a PutObject
//! of the file, authorized as one (`s3:PutObject` on the key, with its condition keys).
//!
//! The form is read whole: at most [`super::MAX_BODY`] bytes (16 MiB), where S3 takes 5 GB.

use super::blobs::Source;
use super::input::PostObject;
use super::{s3err, xml, xml_reply, Bucket};
use crate::error::ApiError;
use crate::pipeline::service::{Ctx, Effect};
use crate::pipeline::Reply;
use base64::Engine;
use serde_json::Value;

/// Fields no condition needs to name (S3's rule): the signature, the file, the policy itself,
/// and any `x-ignore-` field.
fn exempt(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_str(), "x-amz-signature" | "file" | "policy")
        || lower.starts_with("x-ignore-")
}

fn policy_failed(message: impl std::fmt::Display) -> ApiError {
    s3err(403, "AccessDenied", format!("Invalid according to Policy: {message}"))
}

fn invalid_policy(message: &str) -> ApiError {
    s3err(400, "InvalidPolicyDocument", format!("Invalid Policy: {message}"))
}

/// The form's own checks, before it is authorized as a write: it reads, it names a key and
/// carries a file; a signed form's policy holds (an unsigned form has no policy to hold to:
/// only a bucket policy that lets anyone write lets it through).
pub(super) fn check_form(
    post: &PostObject,
    bucket: &str,
    signed: bool,
    now_ms: i64,
) -> Result<(), ApiError> {
    if !post.readable {
        return Err(s3err(
            400,
            "MalformedPOSTRequest",
            "The body of your POST request is not well-formed multipart/form-data.",
        ));
    }
    if post.key.as_deref().is_none_or(str::is_empty) {
        return Err(s3err(
            400,
            "InvalidArgument",
            "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
        ));
    }
    let Some(file) = &post.file else {
        return Err(s3err(
            400,
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
        ));
    };
    if !signed {
        return Ok(());
    }
    let Some(policy) = &post.policy else {
        return Err(invalid_policy("a signed form must carry its policy"));
    };
    let text = base64::engine::general_purpose::STANDARD
        .decode(policy.trim())
        .map_err(|_| invalid_policy("the policy is not base64"))?;
    let document: Value =
        serde_json::from_slice(&text).map_err(|_| invalid_policy("the policy is not JSON"))?;
    let expiration = document
        .get("expiration")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid_policy("Policy missing expiration."))?;
    let expires = crate::support::time::parse_iso8601(expiration)
        .ok_or_else(|| invalid_policy("Invalid 'expiration' value"))?;
    if expires <= now_ms {
        return Err(policy_failed("Policy expired."));
    }
    let conditions = document
        .get("conditions")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid_policy("Policy missing conditions."))?;
    let key = post.key.clone().unwrap_or_default();
    let value_of = |name: &str| -> Option<String> {
        match name.to_ascii_lowercase().as_str() {
            "bucket" => Some(bucket.to_string()),
            "key" => Some(key.clone()),
            lower => post
                .fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(lower))
                .map(|(_, v)| v.clone()),
        }
    };
    let mut covered: Vec<String> = vec!["bucket".into()];
    for condition in conditions {
        let failed = || policy_failed(format!("Policy Condition failed: {condition}"));
        match condition {
            // `{"field": "value"}`: exactly that value.
            Value::Object(pairs) => {
                for (name, wanted) in pairs {
                    let wanted = wanted
                        .as_str()
                        .ok_or_else(|| invalid_policy("a condition's value is not text"))?;
                    if value_of(name).as_deref() != Some(wanted) {
                        return Err(failed());
                    }
                    covered.push(name.to_ascii_lowercase());
                }
            }
            Value::Array(parts) => {
                let op =
                    parts.first().and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
                if op == "content-length-range" {
                    let bound = |i: usize| parts.get(i).and_then(Value::as_u64);
                    let (Some(min), Some(max)) = (bound(1), bound(2)) else {
                        return Err(invalid_policy("content-length-range needs two whole numbers"));
                    };
                    let size = file.len() as u64;
                    if size > max {
                        return Err(s3err(
                            400,
                            "EntityTooLarge",
                            "Your proposed upload exceeds the maximum allowed size",
                        ));
                    }
                    if size < min {
                        return Err(s3err(
                            400,
                            "EntityTooSmall",
                            "Your proposed upload is smaller than the minimum allowed size",
                        ));
                    }
                    continue;
                }
                let (Some(field), Some(wanted)) =
                    (parts.get(1).and_then(Value::as_str), parts.get(2).and_then(Value::as_str))
                else {
                    return Err(invalid_policy("a condition must name a field and a value"));
                };
                let Some(name) = field.strip_prefix('$') else {
                    return Err(invalid_policy("a condition's field must start with '$'"));
                };
                let value = value_of(name).unwrap_or_default();
                let holds = match op.as_str() {
                    "eq" => value == wanted,
                    "starts-with" => value.starts_with(wanted),
                    _ => return Err(invalid_policy("unknown condition operator")),
                };
                if !holds {
                    return Err(failed());
                }
                covered.push(name.to_ascii_lowercase());
            }
            _ => return Err(invalid_policy("a condition is neither an object nor an array")),
        }
    }
    for (name, _) in &post.fields {
        let lower = name.to_ascii_lowercase();
        if !exempt(&lower) && !covered.contains(&lower) {
            return Err(policy_failed(format!("Extra input fields: {name}")));
        }
    }
    Ok(())
}

/// The write: the file as a PutObject of the form's headers, answered as the form asks
/// (`success_action_redirect`, else `success_action_status`: 200, 201 with the object's
/// location, or 204 by default).
pub(super) fn object<'s>(
    ctx: &Ctx<'s>,
    post: &PostObject,
    bucket: &Bucket,
    key: &str,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let file = post.file.clone().unwrap_or_default();
    let written =
        super::objects::put(ctx, &post.put, Source::Whole(Some(file)), bucket, key, effect)?;
    let etag = written
        .headers
        .iter()
        .find(|(n, _)| n == "etag")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let location = format!("/{}/{key}", bucket.key);
    let mut headers = written.headers;
    headers.push(("location".into(), location.clone()));
    if let Some(redirect) = post
        .success_action_redirect
        .as_deref()
        .filter(|r| r.starts_with("http://") || r.starts_with("https://"))
    {
        let query = format!(
            "bucket={}&key={}&etag={}",
            sigv4::encode::uri_encode(&bucket.key, false),
            sigv4::encode::uri_encode(key, false),
            sigv4::encode::uri_encode(&etag, false)
        );
        let separator = if redirect.contains('?') { '&' } else { '?' };
        headers.retain(|(n, _)| n != "location");
        headers.push(("location".into(), format!("{redirect}{separator}{query}")));
        return Ok(super::empty(303, headers));
    }
    match post.success_action_status.as_deref() {
        Some("200") => Ok(super::empty(200, headers)),
        Some("201") => {
            let mut reply = xml_reply(
                201,
                xml::document("PostResponse", xml::NS, |w| {
                    w.text("Location", &location)
                        .text("Bucket", &bucket.key)
                        .text("Key", key)
                        .text("ETag", &etag);
                }),
            );
            reply.headers.extend(headers);
            Ok(reply)
        }
        _ => Ok(super::empty(204, headers)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const NOW: i64 = 1_893_456_000_000; // 2030-01-01

    fn form(fields: &[(&str, &str)], policy: &Value) -> PostObject {
        let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
        let mut named: Vec<(String, String)> =
            fields.iter().map(|(n, v)| ((*n).to_string(), (*v).to_string())).collect();
        named.push(("policy".into(), policy.clone()));
        named.push(("x-amz-signature".into(), "ab".into()));
        PostObject {
            readable: true,
            key: fields.iter().find(|(n, _)| *n == "key").map(|(_, v)| (*v).to_string()),
            file: Some(b"hello".to_vec()),
            policy: Some(policy),
            fields: named,
            ..PostObject::default()
        }
    }

    fn policy(conditions: Value) -> Value {
        serde_json::json!({ "expiration": "2030-01-02T00:00:00Z", "conditions": conditions })
    }

    #[test]
    fn a_form_within_its_policy_passes() {
        let p = policy(serde_json::json!([
            {"bucket": "b"}, ["starts-with", "$key", "user/"], {"Content-Type": "text/plain"},
            ["content-length-range", 1, 10], ["starts-with", "$x-amz-meta-tag", ""],
        ]));
        let fields = [
            ("key", "user/a.txt"),
            ("Content-Type", "text/plain"),
            ("x-amz-meta-tag", "t"),
            ("x-ignore-me", "1"),
        ];
        check_form(&form(&fields, &p), "b", true, NOW).unwrap();
        // Unsigned: no policy to hold to (authorization decides).
        check_form(&form(&fields, &policy(serde_json::json!([]))), "b", false, NOW).unwrap();
    }

    #[test]
    fn forms_outside_their_policy_are_refused() {
        let code = |fields: &[(&str, &str)], p: &Value, bucket: &str, now: i64| {
            check_form(&form(fields, p), bucket, true, now).unwrap_err().code
        };
        let key_only =
            policy(serde_json::json!([{"bucket": "b"}, ["starts-with", "$key", "user/"]]));
        assert_eq!(code(&[("key", "user/a")], &key_only, "other", NOW), "AccessDenied");
        assert_eq!(code(&[("key", "admin/a")], &key_only, "b", NOW), "AccessDenied");
        assert_eq!(
            code(&[("key", "user/a"), ("x-amz-meta-x", "1")], &key_only, "b", NOW),
            "AccessDenied",
            "an extra field"
        );
        assert_eq!(
            code(&[("key", "user/a")], &key_only, "b", NOW + 86_400_000),
            "AccessDenied",
            "expired"
        );
        let small = policy(
            serde_json::json!([{"bucket": "b"}, ["starts-with", "$key", ""], ["content-length-range", 0, 2]]),
        );
        assert_eq!(code(&[("key", "k")], &small, "b", NOW), "EntityTooLarge");
        let large = policy(
            serde_json::json!([{"bucket": "b"}, ["starts-with", "$key", ""], ["content-length-range", 10, 20]]),
        );
        assert_eq!(code(&[("key", "k")], &large, "b", NOW), "EntityTooSmall");
        let no_expiry = serde_json::json!({ "conditions": [] });
        assert_eq!(code(&[("key", "k")], &no_expiry, "b", NOW), "InvalidPolicyDocument");
        let bad_op = policy(serde_json::json!([["matches", "$key", "k"]]));
        assert_eq!(code(&[("key", "k")], &bad_op, "b", NOW), "InvalidPolicyDocument");
        let mut no_key = form(&[("key", "k")], &key_only);
        no_key.key = None;
        assert_eq!(check_form(&no_key, "b", true, NOW).unwrap_err().code, "InvalidArgument");
        let mut no_file = form(&[("key", "k")], &key_only);
        no_file.file = None;
        assert_eq!(check_form(&no_file, "b", true, NOW).unwrap_err().code, "InvalidArgument");
    }
}
