//! Block Public Access, at account level (the S3 Control API's
//! `/v20180820/configuration/publicAccessBlock`) and bucket level (`?publicAccessBlock`), and
//! what "public" means for a bucket policy, as AWS defines it: a statement that allows everyone
//! (`*`) without a condition that fixes the caller or its network to known values. An ACL is
//! public when it grants `AllUsers` or `AuthenticatedUsers` (`records::s3::Acl::is_public`):
//! `BlockPublicAcls` refuses setting one ([`check_acl`]), `IgnorePublicAcls` makes its public
//! grants count for nothing where ACLs are evaluated (`ownership::resource_policy`).

use super::input::Input;
use super::router::S3Operation;
use super::Bucket;
use super::{empty, s3err, xml, xml_reply, S3Request};
use crate::error::ApiError;
use crate::pipeline::identity::Caller;
use crate::pipeline::service::{Ctx, Effect};
use crate::pipeline::{Reply, State};
use crate::records::s3::{AccountConfig, Acl, PublicAccessBlock};
use crate::records::Stored;
use serde_json::Value;
use store::PutMode;

/// The key of an account's own settings.
const ACCOUNT_KEY: &str = "publicAccessBlock";
const CONTROL_NS: &str = "http://awss3control.amazonaws.com/doc/2018-08-20/";

/// The S3 Control path of the account-level settings.
pub const ACCOUNT_PATH: &str = "/v20180820/configuration/publicAccessBlock";

/// Condition keys that, fixed to known values, make an allow to `*` not public.
const FIXING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:userid",
    "aws:principalservicename",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

fn grants_everyone(principal: &Value) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(m) => m.get("AWS").is_some_and(|a| match a {
            Value::String(s) => s == "*",
            Value::Array(list) => list.iter().any(|v| v.as_str() == Some("*")),
            _ => false,
        }),
        _ => false,
    }
}

fn fixed_by_condition(condition: Option<&Value>) -> bool {
    let Some(Value::Object(operators)) = condition else { return false };
    operators.iter().any(|(operator, keys)| {
        let lower = operator.to_ascii_lowercase();
        let exact = !lower.contains("like")
            && !lower.contains("not")
            && !lower.contains("ifexists")
            && lower != "null";
        exact
            && keys.as_object().is_some_and(|keys| {
                keys.iter().any(|(key, values)| {
                    let no_wildcards = |v: &Value| {
                        v.as_str().is_some_and(|s| {
                            !s.contains('*') && !s.contains('?') && s != "0.0.0.0/0" && s != "::/0"
                        })
                    };
                    FIXING_KEYS.contains(&key.to_ascii_lowercase().as_str())
                        && match values {
                            Value::Array(list) => !list.is_empty() && list.iter().all(no_wildcards),
                            other => no_wildcards(other),
                        }
                })
            })
    })
}

/// Whether a bucket policy is public (AWS's definition, above).
pub fn is_public(policy_text: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy_text) else { return false };
    let statements = match doc.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Allow")
            && s.get("Principal").is_some_and(grants_everyone)
            && !fixed_by_condition(s.get("Condition"))
    })
}

fn account_settings(state: &State, account: &str) -> Result<Option<PublicAccessBlock>, ApiError> {
    let mut tx = state.store.read()?;
    Ok(Stored::<AccountConfig>::get(tx.as_mut(), account, ACCOUNT_KEY)?
        .map(|r| r.body.public_access_block))
}

/// The account's settings, held in `tx` against a concurrent change ([`account_config`]).
fn held_account_settings(
    tx: &mut dyn store::Tx,
    account: &str,
) -> Result<Option<PublicAccessBlock>, ApiError> {
    Ok(Stored::<AccountConfig>::get_for_share(tx, account, ACCOUNT_KEY)?
        .map(|r| r.body.public_access_block))
}

/// The settings in force for a bucket: the account's and the bucket's, either one blocking.
pub fn effective(state: &State, bucket: &Bucket) -> Result<PublicAccessBlock, ApiError> {
    Ok(combine(account_settings(state, &bucket.account)?, bucket))
}

/// The account's settings (if any) and the bucket's, either one blocking.
fn combine(account: Option<PublicAccessBlock>, bucket: &Bucket) -> PublicAccessBlock {
    account.unwrap_or_default().or(bucket.body.public_access_block.unwrap_or_default())
}

/// `RestrictPublicBuckets`: while a bucket's policy is public, only principals of the owner's
/// account get access through it.
pub fn restrict(state: &State, caller: &Caller, bucket: &Bucket) -> Result<(), ApiError> {
    let Some(policy) = bucket.body.policy.as_deref() else { return Ok(()) };
    if caller.account == bucket.account || !is_public(policy) {
        return Ok(());
    }
    if effective(state, bucket)?.restrict_public_buckets {
        return Err(s3err(403, "AccessDenied", "Access Denied: the bucket's policy is public and its RestrictPublicBuckets block public access setting is on"));
    }
    Ok(())
}

/// `BlockPublicPolicy`: a public policy cannot be put on the bucket (`bucket` as locked in `tx`,
/// whose snapshot the account's settings are read in too).
pub fn check_policy(
    tx: &mut dyn store::Tx,
    bucket: &Bucket,
    policy_text: &str,
) -> Result<(), ApiError> {
    let settings = combine(held_account_settings(tx, &bucket.account)?, bucket);
    if is_public(policy_text) && settings.block_public_policy {
        return Err(s3err(403, "AccessDenied", "Access Denied: public policies are blocked by the BlockPublicPolicy block public access setting."));
    }
    Ok(())
}

/// `BlockPublicAcls`' refusal of a public ACL (403, as S3 answers it).
pub fn public_acl_blocked() -> ApiError {
    s3err(
        403,
        "AccessDenied",
        "Access Denied: public ACLs are blocked by the BlockPublicAcls block public access setting.",
    )
}

/// `BlockPublicAcls`: a public ACL (one that grants `AllUsers` or `AuthenticatedUsers`) cannot
/// be set on the bucket or its objects (`bucket` as locked or held in `tx`, whose snapshot the
/// account's settings are read in too). `IgnorePublicAcls` is applied where ACLs are evaluated
/// (`ownership::resource_policy`).
pub fn check_acl(tx: &mut dyn store::Tx, bucket: &Bucket, acl: &Acl) -> Result<(), ApiError> {
    if !acl.is_public() {
        return Ok(());
    }
    if combine(held_account_settings(tx, &bucket.account)?, bucket).block_public_acls {
        return Err(public_acl_blocked());
    }
    Ok(())
}

/// The settings a `PutPublicAccessBlock` gives (`MalformedXML` without a
/// `PublicAccessBlockConfiguration`).
fn given_config(input: &Input) -> Result<PublicAccessBlock, ApiError> {
    match input {
        Input::PutPublicAccessBlock(Some(config)) => Ok(*config),
        _ => Err(s3err(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")),
    }
}

fn config_xml(w: &mut xml::Writer, settings: PublicAccessBlock, ns: &'static str) {
    w.root("PublicAccessBlockConfiguration", ns, |w| {
        w.value("BlockPublicAcls", settings.block_public_acls)
            .value("IgnorePublicAcls", settings.ignore_public_acls)
            .value("BlockPublicPolicy", settings.block_public_policy)
            .value("RestrictPublicBuckets", settings.restrict_public_buckets);
    });
}

/// Bucket-level `Get/Put/DeletePublicAccessBlock` on the owner's bucket.
pub fn bucket_config<'s>(
    state: &'s State,
    operation: &str,
    req: &S3Request<'_>,
    bucket: Bucket,
    now: i64,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    if operation == "GetPublicAccessBlock" {
        let settings = bucket.body.public_access_block.ok_or_else(|| {
            s3err(
                404,
                "NoSuchPublicAccessBlockConfiguration",
                "The public access block configuration was not found",
            )
        })?;
        let answer = xml::build(|w| config_xml(w, settings, xml::NS)).into_string();
        return Ok(xml_reply(200, answer));
    }
    let config =
        if operation == "PutPublicAccessBlock" { Some(given_config(req.input)?) } else { None };
    // The change applies to the bucket as it is now (a concurrent configuration change is
    // kept).
    let mut tx = state.store.begin()?;
    let mut bucket = super::lock_bucket(tx.as_mut(), &bucket)?;
    bucket.body.public_access_block = config;
    bucket.updated_at_ms = now;
    bucket.put(tx.as_mut(), PutMode::Update)?;
    effect.tx = Some(tx);
    Ok(empty(if operation == "DeletePublicAccessBlock" { 204 } else { 200 }, Vec::new()))
}

/// Account-level settings (S3 Control): the caller's own account only.
pub fn account_config<'s>(
    ctx: &Ctx<'s>,
    op: S3Operation,
    req: &S3Request<'_>,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, caller) = (ctx.state, ctx.caller);
    let named = req.account_id.as_deref().unwrap_or_default();
    if named != caller.account {
        return Err(s3err(
            403,
            "AccessDenied",
            "Account-level settings can only be read or changed by principals of that account.",
        ));
    }
    if op == S3Operation::GetAccountPublicAccessBlock {
        let settings = account_settings(state, &caller.account)?.ok_or_else(|| {
            s3err(
                404,
                "NoSuchPublicAccessBlockConfiguration",
                "The public access block configuration was not found",
            )
        })?;
        let answer = xml::document("GetPublicAccessBlockOutput", CONTROL_NS, |w| {
            config_xml(w, settings, CONTROL_NS);
        });
        return Ok(xml_reply(200, answer));
    }
    let mut tx = state.store.begin()?;
    // Locked: a bucket policy being put checks it with a shared lock (`check_policy`), so the
    // policy commits before the block does (and the block then restricts it) or after (and is
    // refused), never beside it unchecked.
    let existing =
        Stored::<AccountConfig>::get_for_update(tx.as_mut(), &caller.account, ACCOUNT_KEY)?;
    if op == S3Operation::PutAccountPublicAccessBlock {
        let config = AccountConfig { public_access_block: given_config(req.input)? };
        Stored::new(&caller.account, ACCOUNT_KEY, config, ctx.now())
            .put(tx.as_mut(), PutMode::Upsert)?;
    } else if existing.is_some() {
        Stored::<AccountConfig>::delete(tx.as_mut(), &caller.account, ACCOUNT_KEY)?;
    }
    effect.tx = Some(tx);
    let status = if op == S3Operation::DeleteAccountPublicAccessBlock { 204 } else { 200 };
    Ok(empty(status, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_as_aws_defines_it() {
        let public = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert!(is_public(public));
        let aws_star = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"s3:*","Resource":"*"}}"#;
        assert!(is_public(aws_star));
        let fixed = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}"#;
        assert!(!is_public(fixed));
        let wildcard = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"aws:SourceArn":"arn:aws:*"}}}]}"#;
        assert!(is_public(wildcard));
        let open_ip = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}]}"#;
        assert!(is_public(open_ip));
        let account = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}]}"#;
        assert!(!is_public(account));
        let deny =
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;
        assert!(!is_public(deny));
    }
}
