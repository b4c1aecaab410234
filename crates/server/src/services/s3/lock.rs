//! S3 Object Lock: a bucket's lock and default retention, and each object version's retention
//! (`GOVERNANCE` or `COMPLIANCE`, until a date) and legal hold. A version under retention or
//! on legal hold cannot be deleted for good (a delete without a version id still writes a delete
//! marker, as in S3); `GOVERNANCE` gives way to a caller who asks
//! (`x-amz-bypass-governance-retention: true`) and may (`s3:BypassGovernanceRetention`);
//! `COMPLIANCE` gives way to no one, the owner and the operator included, until it ends.
//!
//! The lock state is part of the object's (and version's) record, which the store binds with
//! its row MAC: an operator who edits a row to shorten or lift a retention makes the row
//! unreadable, and the delete it wanted is refused.

use super::input::{Input, LockHeaders, ObjectLockConfiguration};
use super::objects::{begin_versioned_write, object_key, ObjectRecord};
use super::{empty, lock_bucket, s3err, xml, xml_reply, Bucket, S3Request};
use crate::error::ApiError;
use crate::pipeline::service::{Ctx, Effect};
use crate::pipeline::{Reply, State};
use crate::records::s3::{
    DefaultRetention, Object, ObjectLock, ObjectLockConfig, RetentionMode, Versioning,
};
use crate::support::time::{iso8601_millis, parse_iso8601};
use store::PutMode;

/// A day, in milliseconds.
const DAY_MS: i64 = 86_400_000;
/// The longest default retention S3 accepts: 100 years (36,500 days).
const MAX_DAYS: i64 = 36_500;
const MAX_YEARS: i64 = 100;

/// A bucket without Object Lock is asked for it.
pub(super) fn not_a_lock_bucket() -> ApiError {
    s3err(400, "InvalidRequest", "Bucket is missing Object Lock Configuration")
}

fn protected() -> ApiError {
    s3err(403, "AccessDenied", "Access Denied because object protected by object lock.")
}

fn invalid_argument(message: &str) -> ApiError {
    s3err(400, "InvalidArgument", message)
}

fn malformed() -> ApiError {
    s3err(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// Whether `lock`'s retention is in force at `now`.
fn retained(lock: &ObjectLock, now: i64) -> bool {
    lock.mode.is_some() && lock.retain_until_ms.is_some_and(|until| until > now)
}

/// The lock a new version written to `bucket` gets: what the write's headers say, else the
/// bucket's default retention from `now`. Headers on a bucket without Object Lock, a mode
/// without a date (or the other way round), an unknown mode, a date that does not read or has
/// passed, and a legal hold other than `ON`/`OFF` are refused, as S3 refuses them.
pub(super) fn for_write(
    bucket: &Bucket,
    headers: &LockHeaders,
    now: i64,
) -> Result<ObjectLock, ApiError> {
    let Some(config) = bucket.body.object_lock else {
        if headers.any() {
            return Err(not_a_lock_bucket());
        }
        return Ok(ObjectLock::default());
    };
    let legal_hold = match headers.legal_hold.as_deref() {
        None => None,
        Some("ON") => Some(true),
        Some("OFF") => Some(false),
        Some(_) => return Err(invalid_argument("Legal Hold must be either of 'ON' or 'OFF'")),
    };
    let (mode, retain_until_ms) = match (headers.mode.as_deref(), headers.retain_until.as_deref()) {
        (None, None) => match config.default_retention {
            Some(rule) => (Some(rule.mode), Some(now.saturating_add(default_period(rule)))),
            None => (None, None),
        },
        (Some(mode), Some(until)) => {
            let mode = RetentionMode::parse(mode)
                .ok_or_else(|| invalid_argument("Unknown wormMode directive."))?;
            let until = parse_iso8601(until).ok_or_else(|| {
                invalid_argument("The retain until date must be provided in ISO 8601 format")
            })?;
            if until <= now {
                return Err(invalid_argument("The retain until date must be in the future!"));
            }
            (Some(mode), Some(until))
        }
        _ => return Err(invalid_argument(
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
        )),
    };
    Ok(ObjectLock { mode, retain_until_ms, legal_hold })
}

/// The lock of the object a multipart upload completes into: the upload's own (from
/// `CreateMultipartUpload`'s headers), else the bucket's default retention from `now`, with
/// the upload's legal hold either way.
pub(super) fn at_completion(bucket: &Bucket, upload: ObjectLock, now: i64) -> ObjectLock {
    if upload.mode.is_some() {
        return upload;
    }
    let rule = bucket.body.object_lock.and_then(|c| c.default_retention);
    ObjectLock {
        mode: rule.map(|r| r.mode),
        retain_until_ms: rule.map(|r| now.saturating_add(default_period(r))),
        legal_hold: upload.legal_hold,
    }
}

/// A default retention's length.
fn default_period(rule: DefaultRetention) -> i64 {
    let days = match (rule.days, rule.years) {
        (Some(d), _) => i64::from(d),
        (None, Some(y)) => i64::from(y) * 365,
        (None, None) => 0,
    };
    days * DAY_MS
}

/// The condition keys a write's lock sets (`s3:object-lock-*`), for its authorization.
pub(super) fn context(headers: &LockHeaders, now: i64) -> Vec<(String, String)> {
    let mut context = Vec::new();
    if let Some(mode) = &headers.mode {
        context.push(("s3:object-lock-mode".into(), mode.clone()));
    }
    if let Some(until) = &headers.retain_until {
        context.push(("s3:object-lock-retain-until-date".into(), until.clone()));
        if let Some(ms) = parse_iso8601(until) {
            let days = (ms - now).max(0) / DAY_MS;
            context.push(("s3:object-lock-remaining-retention-days".into(), days.to_string()));
        }
    }
    if let Some(hold) = &headers.legal_hold {
        context.push(("s3:object-lock-legal-hold".into(), hold.clone()));
    }
    context
}

/// The extra permissions a write's lock headers need, as in S3: `s3:PutObjectRetention` for a
/// retention, `s3:PutObjectLegalHold` for a legal hold.
pub(super) fn write_actions(headers: &LockHeaders) -> Vec<&'static str> {
    let mut actions = Vec::new();
    if headers.mode.is_some() || headers.retain_until.is_some() {
        actions.push("s3:PutObjectRetention");
    }
    if headers.legal_hold.is_some() {
        actions.push("s3:PutObjectLegalHold");
    }
    actions
}

/// The headers HEAD and GET answer for a version's lock.
pub(super) fn headers(lock: &ObjectLock) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if let (Some(mode), Some(until)) = (lock.mode, lock.retain_until_ms) {
        headers.push(("x-amz-object-lock-mode".into(), mode.as_str().into()));
        headers.push(("x-amz-object-lock-retain-until-date".into(), iso8601_millis(until)));
    }
    if let Some(hold) = lock.legal_hold {
        headers
            .push(("x-amz-object-lock-legal-hold".into(), if hold { "ON" } else { "OFF" }.into()));
    }
    headers
}

/// Whether the caller asked to bypass governance retention and may: `s3:BypassGovernanceRetention`
/// on the object, evaluated through the pipeline's evaluator. Asked before the write's
/// transaction begins (authorization reads on connections of its own).
pub(super) fn may_bypass(
    ctx: &Ctx<'_>,
    bucket: &Bucket,
    key: &str,
    asked: bool,
) -> Result<bool, ApiError> {
    if !asked || bucket.body.object_lock.is_none() {
        return Ok(false);
    }
    let arn = format!("arn:aws:s3:::{}/{key}", bucket.key);
    match super::check_now(ctx, "s3:BypassGovernanceRetention", &arn, Some(bucket), Vec::new()) {
        Ok(()) => Ok(true),
        Err(e) if e.status >= 500 => Err(e),
        Err(_) => Ok(false),
    }
}

/// Refuses deleting a version for good while it is on legal hold, or under retention:
/// `COMPLIANCE` always, `GOVERNANCE` unless the caller may bypass it.
pub(super) fn check_delete(object: &Object, now: i64, bypass: bool) -> Result<(), ApiError> {
    if object.lock.legal_hold == Some(true) {
        return Err(protected());
    }
    if retained(&object.lock, now) {
        match object.lock.mode {
            Some(RetentionMode::Governance) if bypass => {}
            _ => return Err(protected()),
        }
    }
    Ok(())
}

/// Whether a retention in force may become `mode` until `until` (neither: removed): only
/// extended in the same mode, unless it is `GOVERNANCE` and the caller may bypass it.
fn check_retention_change(
    old: &ObjectLock,
    mode: Option<RetentionMode>,
    until: Option<i64>,
    now: i64,
    bypass: bool,
) -> Result<(), ApiError> {
    if !retained(old, now) {
        return Ok(());
    }
    let extends = mode == old.mode
        && until.is_some_and(|u| old.retain_until_ms.is_some_and(|old_until| u >= old_until));
    match old.mode {
        _ if extends => Ok(()),
        Some(RetentionMode::Governance) if bypass => Ok(()),
        _ => Err(protected()),
    }
}

/// A bucket's `PutObjectLockConfiguration` body, validated as S3 does.
fn parse_config(input: &ObjectLockConfiguration) -> Result<ObjectLockConfig, ApiError> {
    if input.enabled.as_deref() != Some("Enabled") {
        return Err(malformed());
    }
    if !input.rule {
        return Ok(ObjectLockConfig { default_retention: None });
    }
    let mode = input.mode.as_deref().and_then(RetentionMode::parse).ok_or_else(malformed)?;
    let period = |text: &Option<String>, max: i64| -> Result<Option<u32>, ApiError> {
        let Some(text) = text else { return Ok(None) };
        let n: i64 = text.trim().parse().map_err(|_| malformed())?;
        if n <= 0 || n > max {
            return Err(s3err(
                400,
                "InvalidRetentionPeriod",
                "Default retention period must be a positive integer value.",
            ));
        }
        Ok(u32::try_from(n).ok())
    };
    let (days, years) = (period(&input.days, MAX_DAYS)?, period(&input.years, MAX_YEARS)?);
    if days.is_some() == years.is_some() {
        return Err(malformed());
    }
    Ok(ObjectLockConfig { default_retention: Some(DefaultRetention { mode, days, years }) })
}

/// `GetObjectLockConfiguration` and `PutObjectLockConfiguration` (the owner's, as all bucket
/// configuration). Object Lock is turned on for a bucket whose versioning is `Enabled`, and
/// never off again.
pub(super) fn bucket_config<'s>(
    state: &'s State,
    operation: &str,
    req: &S3Request<'_>,
    bucket: Bucket,
    now: i64,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    if operation == "GetObjectLockConfiguration" {
        let Some(config) = bucket.body.object_lock else {
            return Err(s3err(
                404,
                "ObjectLockConfigurationNotFoundError",
                "Object Lock configuration does not exist for this bucket",
            ));
        };
        return Ok(xml_reply(
            200,
            xml::document("ObjectLockConfiguration", xml::NS, |w| {
                w.text("ObjectLockEnabled", "Enabled");
                if let Some(rule) = config.default_retention {
                    w.elem("Rule", |w| {
                        w.elem("DefaultRetention", |w| {
                            w.text("Mode", rule.mode.as_str());
                            if let Some(d) = rule.days {
                                w.value("Days", d);
                            }
                            if let Some(y) = rule.years {
                                w.value("Years", y);
                            }
                        });
                    });
                }
            }),
        ));
    }
    let Input::PutObjectLockConfiguration(input) = req.input else {
        return Err(ApiError::internal("the input is not PutObjectLockConfiguration's"));
    };
    let config = parse_config(input)?;
    let mut tx = state.store.begin()?;
    let mut bucket = lock_bucket(tx.as_mut(), &bucket)?;
    if bucket.body.object_lock.is_none() && bucket.body.versioning != Some(Versioning::Enabled) {
        return Err(s3err(
            409,
            "InvalidBucketState",
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
        ));
    }
    bucket.body.object_lock = Some(config);
    bucket.updated_at_ms = now;
    bucket.put(tx.as_mut(), PutMode::Update)?;
    effect.tx = Some(tx);
    Ok(empty(200, Vec::new()))
}

/// `GetObjectRetention`, `PutObjectRetention`, `GetObjectLegalHold`, `PutObjectLegalHold`: the
/// version named (else the current one) of a key in a bucket with Object Lock.
pub(super) fn object<'s>(
    ctx: &Ctx<'s>,
    operation: &str,
    req: &S3Request<'_>,
    bucket: &Bucket,
    key: &str,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let (state, now) = (ctx.state, ctx.facts.time_ms);
    if bucket.body.object_lock.is_none() {
        return Err(not_a_lock_bucket());
    }
    let version_id = match req.input {
        Input::ObjectVersion { version_id }
        | Input::PutObjectRetention { version_id, .. }
        | Input::PutObjectLegalHold { version_id, .. } => version_id.clone(),
        _ => return Err(ApiError::internal("the input is not the operation's")),
    };
    let none_set = || {
        s3err(
            404,
            "NoSuchObjectLockConfiguration",
            "The specified object does not have a ObjectLock configuration",
        )
    };
    if operation.starts_with("Get") {
        let mut tx = state.store.read()?;
        let object = target(tx.as_mut(), bucket, key, version_id.as_deref())?;
        let lock = object.lock;
        return Ok(xml_reply(
            200,
            if operation == "GetObjectRetention" {
                let (Some(mode), Some(until)) = (lock.mode, lock.retain_until_ms) else {
                    return Err(none_set());
                };
                xml::document("Retention", xml::NS, |w| {
                    w.text("Mode", mode.as_str()).text("RetainUntilDate", &iso8601_millis(until));
                })
            } else {
                let Some(hold) = lock.legal_hold else { return Err(none_set()) };
                xml::document("LegalHold", xml::NS, |w| {
                    w.text("Status", if hold { "ON" } else { "OFF" });
                })
            },
        ));
    }
    // What the change would be, before the transaction (the bypass is authorized on
    // connections of its own).
    let change = match req.input {
        Input::PutObjectRetention { mode, retain_until, bypass, .. } => {
            let mode = match mode.as_deref() {
                None => None,
                Some(m) => Some(RetentionMode::parse(m).ok_or_else(malformed)?),
            };
            let until = match retain_until.as_deref() {
                None => None,
                Some(u) => Some(parse_iso8601(u).ok_or_else(malformed)?),
            };
            if mode.is_some() != until.is_some() {
                return Err(malformed());
            }
            if until.is_some_and(|u| u <= now) {
                return Err(invalid_argument("The retain until date must be in the future!"));
            }
            Change::Retention { mode, until, bypass: may_bypass(ctx, bucket, key, *bypass)? }
        }
        Input::PutObjectLegalHold { status, .. } => match status.as_deref() {
            Some("ON") => Change::LegalHold(true),
            Some("OFF") => Change::LegalHold(false),
            _ => return Err(malformed()),
        },
        _ => return Err(ApiError::internal("the input is not the operation's")),
    };
    let change = |lock: &mut ObjectLock| change.apply(lock, now);
    let mut tx = begin_versioned_write(state, bucket)?;
    // The key's current object first, as every version write locks it.
    let current_key = object_key(bucket, key);
    let current = ObjectRecord::get_for_update(tx.as_mut(), &bucket.account, &current_key)?;
    let wanted = match version_id.as_deref() {
        Some(v) => Some(v.to_string()),
        None => match &current {
            Some(c) if !c.body.delete_marker => c.body.version_id.clone(),
            _ => return Err(super::objects::no_such_key(key)),
        },
    };
    let version = match wanted.as_deref() {
        Some(v) => super::versions::find(tx.as_mut(), bucket, key, v)?,
        None => None,
    };
    let mut changed = None;
    if let Some(mut version) = version {
        if version.body.0.delete_marker {
            return Err(s3err(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            ));
        }
        change(&mut version.body.0.lock)?;
        changed = Some(version.body.0.lock);
        version.updated_at_ms = now;
        version.put(tx.as_mut(), PutMode::Update)?;
    }
    if let Some(mut current) = current.filter(|c| c.body.version_id == wanted) {
        match changed {
            Some(lock) => current.body.lock = lock,
            None => change(&mut current.body.lock)?,
        }
        changed = Some(current.body.lock);
        current.updated_at_ms = now;
        current.put(tx.as_mut(), PutMode::Update)?;
    }
    if changed.is_none() {
        return Err(match version_id {
            Some(_) => s3err(404, "NoSuchVersion", "The specified version does not exist."),
            None => super::objects::no_such_key(key),
        });
    }
    effect.tx = Some(tx);
    Ok(empty(200, Vec::new()))
}

/// A change to a version's lock.
enum Change {
    /// `PutObjectRetention` (neither mode nor date: removed); `bypass`: the caller may bypass
    /// governance retention.
    Retention { mode: Option<RetentionMode>, until: Option<i64>, bypass: bool },
    /// `PutObjectLegalHold`: on or off.
    LegalHold(bool),
}

impl Change {
    /// Applies the change to `lock`, or refuses it while the retention in force forbids it.
    fn apply(&self, lock: &mut ObjectLock, now: i64) -> Result<(), ApiError> {
        match *self {
            Change::Retention { mode, until, bypass } => {
                check_retention_change(lock, mode, until, now, bypass)?;
                lock.mode = mode;
                lock.retain_until_ms = until;
            }
            Change::LegalHold(on) => lock.legal_hold = Some(on),
        }
        Ok(())
    }
}

/// The version a lock read names (else the current object), not a delete marker.
fn target(
    tx: &mut dyn store::ReadTx,
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
) -> Result<Object, ApiError> {
    let found = match version_id {
        Some(v) => super::versions::find_object(tx, bucket, key, v)?.map(|o| o.body),
        None => ObjectRecord::get(tx, &bucket.account, &object_key(bucket, key))?.map(|o| o.body),
    };
    match found {
        Some(o) if o.delete_marker => Err(s3err(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        )),
        Some(o) => Ok(o),
        None if version_id.is_some() => {
            Err(s3err(404, "NoSuchVersion", "The specified version does not exist."))
        }
        None => Err(super::objects::no_such_key(key)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn lock(mode: RetentionMode, until: i64, hold: Option<bool>) -> ObjectLock {
        ObjectLock { mode: Some(mode), retain_until_ms: Some(until), legal_hold: hold }
    }

    #[test]
    fn deletes_wait_for_retention_and_legal_hold() {
        let now = 1_000;
        let object = |l: ObjectLock| Object { lock: l, ..Object::default() };
        let gov = object(lock(RetentionMode::Governance, now + 1, None));
        assert!(check_delete(&gov, now, false).is_err());
        assert!(check_delete(&gov, now, true).is_ok(), "governance gives way to a bypass");
        let comp = object(lock(RetentionMode::Compliance, now + 1, None));
        assert!(check_delete(&comp, now, true).is_err(), "compliance gives way to no one");
        assert!(
            check_delete(&comp, now + 1, false).is_ok(),
            "a retention that ended holds nothing"
        );
        let held = object(ObjectLock { legal_hold: Some(true), ..ObjectLock::default() });
        assert_eq!(check_delete(&held, now, true).unwrap_err().code, "AccessDenied");
        let released = object(ObjectLock { legal_hold: Some(false), ..ObjectLock::default() });
        assert!(check_delete(&released, now, false).is_ok());
        assert!(check_delete(&Object::default(), now, false).is_ok());
    }

    #[test]
    fn retention_is_only_extended_unless_governance_is_bypassed() {
        let now = 1_000;
        let (gov, comp) = (RetentionMode::Governance, RetentionMode::Compliance);
        let g = lock(gov, now + 100, None);
        assert!(check_retention_change(&g, Some(gov), Some(now + 200), now, false).is_ok());
        assert!(check_retention_change(&g, Some(gov), Some(now + 50), now, false).is_err());
        assert!(check_retention_change(&g, Some(gov), Some(now + 50), now, true).is_ok());
        assert!(check_retention_change(&g, Some(comp), Some(now + 100), now, false).is_err());
        assert!(check_retention_change(&g, Some(comp), Some(now + 100), now, true).is_ok());
        assert!(check_retention_change(&g, None, None, now, false).is_err());
        assert!(check_retention_change(&g, None, None, now, true).is_ok());
        let c = lock(comp, now + 100, None);
        assert!(check_retention_change(&c, Some(comp), Some(now + 200), now, false).is_ok());
        for bypass in [false, true] {
            assert!(check_retention_change(&c, Some(comp), Some(now + 99), now, bypass).is_err());
            assert!(check_retention_change(&c, Some(gov), Some(now + 200), now, bypass).is_err());
            assert!(check_retention_change(&c, None, None, now, bypass).is_err());
        }
        // Once it has ended, anything goes.
        assert!(check_retention_change(&c, None, None, now + 100, false).is_ok());
    }

    #[test]
    fn configurations_are_validated_as_s3_does() {
        let config = |enabled: &str, mode: &str, days: Option<&str>, years: Option<&str>| {
            parse_config(&ObjectLockConfiguration {
                enabled: Some(enabled.into()),
                rule: true,
                mode: Some(mode.into()),
                days: days.map(Into::into),
                years: years.map(Into::into),
            })
        };
        let ok = config("Enabled", "GOVERNANCE", Some("1"), None).unwrap();
        assert_eq!(ok.default_retention.unwrap().days, Some(1));
        assert!(config("Enabled", "COMPLIANCE", None, Some("1")).is_ok());
        let code = |r: Result<ObjectLockConfig, ApiError>| r.unwrap_err().code;
        assert_eq!(code(config("Disabled", "GOVERNANCE", Some("1"), None)), "MalformedXML");
        assert_eq!(code(config("Enabled", "governance", Some("1"), None)), "MalformedXML");
        assert_eq!(code(config("Enabled", "GOVERNANCE", Some("1"), Some("1"))), "MalformedXML");
        assert_eq!(code(config("Enabled", "GOVERNANCE", None, None)), "MalformedXML");
        assert_eq!(
            code(config("Enabled", "GOVERNANCE", Some("0"), None)),
            "InvalidRetentionPeriod"
        );
        assert_eq!(
            code(config("Enabled", "GOVERNANCE", None, Some("-1"))),
            "InvalidRetentionPeriod"
        );
        let no_rule =
            ObjectLockConfiguration { enabled: Some("Enabled".into()), ..Default::default() };
        assert_eq!(parse_config(&no_rule).unwrap(), ObjectLockConfig::default());
    }

    #[test]
    fn writes_take_their_headers_or_the_default_retention() {
        let bucket = |lock: Option<ObjectLockConfig>| {
            let body = crate::records::s3::Bucket {
                name: "b".into(),
                region: "us-east-1".into(),
                created_ms: 0,
                object_ownership: Some(crate::records::s3::ObjectOwnership::BucketOwnerEnforced),
                acl: None,
                public_access_block: None,
                policy: None,
                kms_key_id: None,
                sse_algorithm: None,
                bucket_key_enabled: false,
                versioning: Some(Versioning::Enabled),
                tags: Default::default(),
                object_lock: lock,
                cors: None,
                lifecycle: None,
            };
            Bucket::new("111122223333", "b", body, 0)
        };
        let now = 1_893_456_000_000 - 10 * DAY_MS;
        let headers = |mode: Option<&str>, until: Option<&str>, hold: Option<&str>| LockHeaders {
            mode: mode.map(Into::into),
            retain_until: until.map(Into::into),
            legal_hold: hold.map(Into::into),
        };
        let plain = bucket(None);
        assert_eq!(for_write(&plain, &LockHeaders::default(), now).unwrap(), ObjectLock::default());
        let refused = for_write(&plain, &headers(None, None, Some("ON")), now).unwrap_err();
        assert_eq!((refused.status, refused.code.as_str()), (400, "InvalidRequest"));

        let rule = DefaultRetention { mode: RetentionMode::Governance, days: Some(2), years: None };
        let locked = bucket(Some(ObjectLockConfig { default_retention: Some(rule) }));
        let by_default = for_write(&locked, &LockHeaders::default(), now).unwrap();
        assert_eq!(by_default.retain_until_ms, Some(now + 2 * DAY_MS));
        let given = headers(Some("COMPLIANCE"), Some("2030-01-01T00:00:00Z"), Some("OFF"));
        let given = for_write(&locked, &given, now).unwrap();
        assert_eq!(given, lock(RetentionMode::Compliance, 1_893_456_000_000, Some(false)));
        for bad in [
            headers(Some("GOVERNANCE"), None, None),
            headers(Some("governance"), Some("2030-01-01T00:00:00Z"), None),
            headers(Some("GOVERNANCE"), Some("2000-01-01T00:00:00Z"), None),
            headers(Some("GOVERNANCE"), Some("20300101"), None),
            headers(None, None, Some("on")),
        ] {
            assert_eq!(
                for_write(&locked, &bad, now).unwrap_err().code,
                "InvalidArgument",
                "{bad:?}"
            );
        }
    }
}
