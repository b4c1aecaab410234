//! CloudTrail trails, as AWS shapes them: CreateTrail, UpdateTrail, DeleteTrail, GetTrail,
//! DescribeTrails, ListTrails, StartLogging, StopLogging, GetTrailStatus, Put/GetEventSelectors,
//! AddTags, RemoveTags, ListTags. A trail is a record of its account (`records::cloudtrail`);
//! its bucket must exist and its policy must let `cloudtrail.amazonaws.com` write the trail's
//! files, as AWS checks at CreateTrail and UpdateTrail.

use super::{err, CloudTrailOperation, Input};
use crate::error::ApiError;
use crate::pipeline::service::{Ctx, Effect};
use crate::records::cloudtrail::{Trail, TrailDelivery, TrailTag};
use crate::records::s3::Bucket;
use crate::records::{PutError, Stored};
use crate::support::time::{epoch_seconds, iso8601};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use store::{PutMode, StoreError};

/// Most trails an account has in a region (AWS's quota).
pub const MAX_TRAILS: usize = 5;
/// Most tags on a trail (AWS's quota).
pub const MAX_TAGS: usize = 50;
/// Most basic event selectors on a trail, and data resource values across them (AWS's quotas).
const MAX_SELECTORS: usize = 5;
const MAX_DATA_RESOURCE_VALUES: usize = 250;
/// Most advanced event selectors, and conditions across them (AWS's quotas).
const MAX_ADVANCED: usize = 500;
/// A key no record has, locked by every CreateTrail of an account (so two cannot both pass the
/// quota).
const TRAIL_LOCK: (&str, &str) = ("trail_lock", "trails");
/// The service principal that writes a trail's files.
pub const SERVICE_PRINCIPAL: &str = "cloudtrail.amazonaws.com";

/// A tag as the requests carry it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagInput {
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
}

/// `CreateTrail`'s and `UpdateTrail`'s input.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Settings {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s3_bucket_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s3_key_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sns_topic_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    include_global_service_events: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is_multi_region_trail: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enable_log_file_validation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cloud_watch_logs_log_group_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cloud_watch_logs_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is_organization_trail: Option<bool>,
    #[serde(default, skip_serializing)]
    tags_list: Vec<TagInput>,
}

/// The input of an operation on one trail named by `Name`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Named {
    pub name: String,
}

/// `PutEventSelectors`' and `GetEventSelectors`' input.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Selectors {
    pub trail_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_selectors: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    advanced_event_selectors: Option<Vec<Value>>,
}

/// `DescribeTrails`' input (its members are camelCase in AWS's model).
#[derive(Debug, Default, Deserialize, Serialize)]
pub(crate) struct Describe {
    #[serde(rename = "trailNameList", default, skip_serializing_if = "Vec::is_empty")]
    trail_name_list: Vec<String>,
    #[serde(rename = "includeShadowTrails", default, skip_serializing_if = "Option::is_none")]
    include_shadow_trails: Option<bool>,
}

/// `ListTrails`' input.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct List {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// `AddTags`' and `RemoveTags`' input.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tags {
    pub resource_id: String,
    #[serde(default)]
    tags_list: Vec<TagInput>,
}

/// `ListTags`' input.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTags {
    pub resource_id_list: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// Whether `name` is a valid trail name: 3 to 128 letters, digits, `.`, `_` and `-`, starting
/// and ending with a letter or digit, no two of `._-` in a row, not an IP address.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    let punct = |c: &u8| b"._-".contains(c);
    (3..=128).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_alphanumeric() || punct(c))
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && !b.windows(2).any(|w| w.iter().all(punct))
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// A trail as a request names it: by name, or by ARN (`arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TrailRef {
    /// The ARN's region and account, when named by ARN.
    pub scope: Option<(String, String)>,
    pub name: String,
}

impl TrailRef {
    /// Parses a `Name`/`TrailName`/`ResourceId`: `InvalidTrailNameException` for a bad name,
    /// `CloudTrailARNInvalidException` for a bad ARN.
    pub fn parse(given: &str) -> Result<TrailRef, ApiError> {
        if given.is_empty() {
            return Err(err("TrailNotProvidedException", "Trail name or ARN must be provided."));
        }
        if given.starts_with("arn:") {
            let parts: Vec<&str> = given.splitn(6, ':').collect();
            let bad =
                || err("CloudTrailARNInvalidException", format!("Invalid trail ARN: {given}"));
            let [_, partition, "cloudtrail", region, account, resource] = parts.as_slice() else {
                return Err(bad());
            };
            let name = resource.strip_prefix("trail/").ok_or_else(bad)?;
            let account_ok = account.len() == 12 && account.bytes().all(|c| c.is_ascii_digit());
            if partition.is_empty() || region.is_empty() || !account_ok || !valid_name(name) {
                return Err(bad());
            }
            return Ok(TrailRef {
                scope: Some(((*region).to_string(), (*account).to_string())),
                name: name.to_string(),
            });
        }
        if !valid_name(given) {
            return Err(err(
                "InvalidTrailNameException",
                "Trail name must be 3-128 characters: letters, numbers, periods (.), underscores (_) and dashes (-), starting and ending with a letter or number, with no two of ._- together, and not an IP address.",
            ));
        }
        Ok(TrailRef { scope: None, name: given.to_string() })
    }

    /// The trail's ARN for a caller in `account` and `region`.
    pub fn arn(&self, account: &str, region: &str) -> String {
        let (region, account) = match &self.scope {
            Some((r, a)) => (r.as_str(), a.as_str()),
            None => (region, account),
        };
        trail_arn(region, account, &self.name)
    }

    /// Whether it names a trail of `account` in `region` (an ARN of another names none here).
    fn local(&self, account: &str, region: &str) -> bool {
        self.scope.as_ref().is_none_or(|(r, a)| r == region && a == account)
    }
}

fn trail_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}")
}

fn not_found(name: &str, account: &str) -> ApiError {
    err("TrailNotFoundException", format!("Unknown trail: {name} for the user: {account}"))
}

/// A trail as DescribeTrails and GetTrail answer it.
fn described(t: &Trail) -> Value {
    let mut out = json!({
        "Name": t.name,
        "S3BucketName": t.s3_bucket_name,
        "IncludeGlobalServiceEvents": t.include_global_service_events,
        "IsMultiRegionTrail": t.is_multi_region_trail,
        "HomeRegion": t.home_region,
        "TrailARN": t.trail_arn,
        "LogFileValidationEnabled": t.log_file_validation_enabled,
        "HasCustomEventSelectors": t.event_selectors.is_some() || t.advanced_event_selectors.is_some(),
        "HasInsightSelectors": false,
        "IsOrganizationTrail": false,
    });
    if let Some(obj) = out.as_object_mut() {
        if let Some(p) = &t.s3_key_prefix {
            obj.insert("S3KeyPrefix".into(), json!(p));
        }
        if let Some(k) = &t.kms_key_id {
            obj.insert("KmsKeyId".into(), json!(k));
        }
    }
    out
}

/// A trail as CreateTrail and UpdateTrail answer it.
fn settings_reply(t: &Trail) -> Value {
    let mut out = described(t);
    if let Some(obj) = out.as_object_mut() {
        for k in ["HomeRegion", "HasCustomEventSelectors", "HasInsightSelectors"] {
            obj.remove(k);
        }
    }
    out
}

fn tags_from(input: &[TagInput]) -> Result<Vec<TrailTag>, ApiError> {
    input
        .iter()
        .map(|t| {
            let key_ok = (1..=128).contains(&t.key.chars().count());
            let value_ok = t.value.as_ref().is_none_or(|v| v.chars().count() <= 256);
            if !key_ok || !value_ok {
                return Err(err(
                    "InvalidTagParameterException",
                    "A tag key must be 1-128 characters and a tag value at most 256.",
                ));
            }
            Ok(TrailTag { key: t.key.clone(), value: t.value.clone() })
        })
        .collect()
}

/// Adds `new` to `tags` (a key given again takes the new value), within [`MAX_TAGS`].
fn merge_tags(tags: &mut Vec<TrailTag>, new: Vec<TrailTag>) -> Result<(), ApiError> {
    for t in new {
        match tags.iter_mut().find(|o| o.key == t.key) {
            Some(o) => o.value = t.value,
            None => tags.push(t),
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(err(
            "TagsLimitExceededException",
            format!("A trail can have at most {MAX_TAGS} tags."),
        ));
    }
    Ok(())
}

/// Whether the policy of `bucket` lets CloudTrail write the files of `trail_arn` (as AWS
/// checks: `s3:GetBucketAcl` on the bucket, `s3:PutObject` under the prefix's
/// `AWSLogs/ACCOUNT/` with `bucket-owner-full-control`).
pub(crate) fn bucket_policy_allows(
    bucket: &Stored<Bucket>,
    prefix: Option<&str>,
    account: &str,
    trail_arn: &str,
) -> Result<bool, ApiError> {
    let Some(document) = bucket.body.policy.as_deref() else { return Ok(false) };
    let parsed = crate::pipeline::authorize::parse_stored("bucket policy", document)?;
    let principal = policy::Principal::parse(SERVICE_PRINCIPAL)
        .map_err(|_| ApiError::internal("the CloudTrail service principal does not parse"))?;
    let name = &bucket.key;
    let prefix = prefix.filter(|p| !p.is_empty()).map(|p| format!("{p}/")).unwrap_or_default();
    let questions = [
        ("s3:GetBucketAcl", format!("arn:aws:s3:::{name}")),
        ("s3:PutObject", format!("arn:aws:s3:::{name}/{prefix}AWSLogs/{account}/CloudTrail/x")),
    ];
    for (action, resource) in questions {
        let mut context = policy::Context::new();
        context.set("aws:SourceArn", trail_arn.to_string());
        context.set("aws:SourceAccount", account.to_string());
        if action == "s3:PutObject" {
            context.set("s3:x-amz-acl", "bucket-owner-full-control");
        }
        let request = policy::Request::new(
            principal.clone(),
            action,
            &resource,
            Some(&bucket.account),
            context,
        );
        let set = policy::PolicySet {
            resource: Some(crate::pipeline::authorize::named(&parsed)),
            ..policy::PolicySet::default()
        };
        if policy::evaluate(&request, &set).decision != policy::Decision::Allowed {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The trail's bucket, checked as AWS checks it; its owner's log gets the request's event.
fn check_bucket(
    ctx: &Ctx<'_>,
    name: &str,
    prefix: Option<&str>,
    trail_arn: &str,
) -> Result<(), ApiError> {
    if !(3..=63).contains(&name.len()) {
        return Err(err("InvalidS3BucketNameException", format!("Invalid S3 bucket name: {name}")));
    }
    if prefix.is_some_and(|p| p.len() > 200) {
        return Err(err("InvalidS3PrefixException", "The S3 key prefix is longer than 200."));
    }
    let bucket = crate::services::s3::bucket(ctx.state, name).map_err(|e| {
        if e.code == "NoSuchBucket" {
            err("S3BucketDoesNotExistException", format!("S3 bucket {name} does not exist."))
        } else {
            e
        }
    })?;
    ctx.touch(&bucket.account);
    if !bucket_policy_allows(&bucket, prefix, &ctx.caller.account, trail_arn)? {
        return Err(err(
            "InsufficientS3BucketPolicyException",
            format!("Incorrect S3 bucket policy is detected for bucket: {name}"),
        ));
    }
    Ok(())
}

/// What the server does not have to deliver to: SNS, CloudWatch Logs, organizations.
fn unsupported_settings(s: &Settings) -> Result<(), ApiError> {
    if s.is_organization_trail == Some(true) {
        return Err(err(
            "OrganizationsNotInUseException",
            "This account is not a member of an organization.",
        ));
    }
    if s.sns_topic_name.as_deref().is_some_and(|t| !t.is_empty()) {
        return Err(err(
            "UnsupportedOperationException",
            "SNS notifications are not available on this server.",
        ));
    }
    let cw = [&s.cloud_watch_logs_log_group_arn, &s.cloud_watch_logs_role_arn];
    if cw.iter().any(|v| v.as_deref().is_some_and(|t| !t.is_empty())) {
        return Err(err(
            "UnsupportedOperationException",
            "Delivery to CloudWatch Logs is not available on this server.",
        ));
    }
    Ok(())
}

/// The KMS key a trail names, as its ARN; it must be a key of the caller's account.
fn kms_key_arn(ctx: &Ctx<'_>, key_id: &str) -> Result<String, ApiError> {
    let account = &ctx.caller.account;
    let found = ctx.read(|tx| {
        let key_ref = crate::services::kms::resolve(tx, account, key_id)?;
        crate::services::kms::load(tx, &key_ref, ctx.now())
    });
    match found {
        Ok(key) if key.account == *account => Ok(key.body.arn.clone()),
        Ok(_) | Err(_) => Err(err(
            "KmsKeyNotFoundException",
            format!("KMS key {key_id} does not exist or is not in this account."),
        )),
    }
}

fn store_conflict(e: PutError, name: &str, account: &str) -> ApiError {
    match e {
        PutError::Store(StoreError::AlreadyExists) => err(
            "TrailAlreadyExistsException",
            format!("Trail {name} already exists for customer: {account}"),
        ),
        other => other.into(),
    }
}

/// Runs one trail operation.
pub(super) fn run<'s>(
    ctx: &Ctx<'s>,
    operation: CloudTrailOperation,
    input: Input,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    let account = ctx.caller.account.clone();
    let region = ctx.facts.region.clone();
    let now = ctx.now();
    match input {
        Input::CreateTrail(s) => {
            let name = TrailRef::parse(&s.name)?;
            if name.scope.is_some() {
                return Err(err(
                    "InvalidTrailNameException",
                    "CreateTrail takes a name, not an ARN.",
                ));
            }
            unsupported_settings(&s)?;
            let bucket = s.s3_bucket_name.clone().unwrap_or_default();
            let arn = trail_arn(&region, &account, &name.name);
            let prefix = s.s3_key_prefix.clone().filter(|p| !p.is_empty());
            check_bucket(ctx, &bucket, prefix.as_deref(), &arn)?;
            let kms_key_id = match s.kms_key_id.as_deref().filter(|k| !k.is_empty()) {
                Some(k) => Some(kms_key_arn(ctx, k)?),
                None => None,
            };
            let tags = tags_from(&s.tags_list)?;
            let mut checked = Vec::new();
            merge_tags(&mut checked, tags)?;
            let trail = Trail {
                name: name.name.clone(),
                trail_arn: arn,
                home_region: region,
                s3_bucket_name: bucket,
                s3_key_prefix: prefix,
                include_global_service_events: s.include_global_service_events.unwrap_or(true),
                is_multi_region_trail: s.is_multi_region_trail.unwrap_or(false),
                log_file_validation_enabled: s.enable_log_file_validation.unwrap_or(false),
                kms_key_id,
                is_logging: false,
                start_logging_ms: None,
                stop_logging_ms: None,
                event_selectors: None,
                advanced_event_selectors: None,
                tags: checked,
            };
            let mut tx = ctx.state.store.begin()?;
            // The account's trails take turns, so two creates cannot both pass the quota.
            tx.get_record_for_update(&account, TRAIL_LOCK.0, TRAIL_LOCK.1)?;
            let existing = Stored::<Trail>::list(tx.as_mut(), &account, "", MAX_TRAILS + 1)?;
            if existing.iter().any(|t| t.key == trail.name) {
                return Err(store_conflict(
                    PutError::Store(StoreError::AlreadyExists),
                    &trail.name,
                    &account,
                ));
            }
            if existing.len() >= MAX_TRAILS {
                return Err(err(
                    "MaximumNumberOfTrailsExceededException",
                    format!(
                        "User: {account} already has {MAX_TRAILS} trails in {}.",
                        trail.home_region
                    ),
                ));
            }
            let reply = settings_reply(&trail);
            let key = trail.name.clone();
            Stored::new(&account, &key, trail, now)
                .put(tx.as_mut(), PutMode::Create)
                .map_err(|e| store_conflict(e, &name.name, &account))?;
            effect.tx = Some(tx);
            Ok(reply)
        }
        Input::UpdateTrail(s) => {
            let name = TrailRef::parse(&s.name)?;
            unsupported_settings(&s)?;
            let mut tx = ctx.state.store.begin()?;
            let mut trail = locked(tx.as_mut(), &name, &account, &region)?;
            let t = &mut trail.body;
            if let Some(p) = &s.s3_key_prefix {
                t.s3_key_prefix = Some(p.clone()).filter(|p| !p.is_empty());
            }
            if let Some(b) = s.s3_bucket_name.as_ref().filter(|b| !b.is_empty()) {
                t.s3_bucket_name = b.clone();
            }
            if s.s3_bucket_name.is_some() || s.s3_key_prefix.is_some() {
                check_bucket(ctx, &t.s3_bucket_name, t.s3_key_prefix.as_deref(), &t.trail_arn)?;
            }
            if let Some(v) = s.include_global_service_events {
                t.include_global_service_events = v;
            }
            if let Some(v) = s.is_multi_region_trail {
                t.is_multi_region_trail = v;
            }
            if let Some(v) = s.enable_log_file_validation {
                t.log_file_validation_enabled = v;
            }
            if let Some(k) = &s.kms_key_id {
                t.kms_key_id = if k.is_empty() { None } else { Some(kms_key_arn(ctx, k)?) };
            }
            let reply = settings_reply(t);
            trail.updated_at_ms = now;
            trail.put(tx.as_mut(), PutMode::Upsert).map_err(ApiError::from)?;
            effect.tx = Some(tx);
            Ok(reply)
        }
        Input::DeleteTrail(n) => {
            let name = TrailRef::parse(&n.name)?;
            let mut tx = ctx.state.store.begin()?;
            let trail = locked(tx.as_mut(), &name, &account, &region)?;
            Stored::<Trail>::delete(tx.as_mut(), &account, &trail.key)?;
            if Stored::<TrailDelivery>::get_for_update(tx.as_mut(), &account, &trail.key)?.is_some()
            {
                Stored::<TrailDelivery>::delete(tx.as_mut(), &account, &trail.key)?;
            }
            effect.tx = Some(tx);
            Ok(json!({}))
        }
        Input::StartLogging(n) | Input::StopLogging(n) => {
            let start = operation == CloudTrailOperation::StartLogging;
            let name = TrailRef::parse(&n.name)?;
            let mut tx = ctx.state.store.begin()?;
            let mut trail = locked(tx.as_mut(), &name, &account, &region)?;
            if trail.body.is_logging != start {
                trail.body.is_logging = start;
                if start {
                    trail.body.start_logging_ms = Some(now);
                } else {
                    trail.body.stop_logging_ms = Some(now);
                }
                trail.updated_at_ms = now;
                trail.put(tx.as_mut(), PutMode::Upsert).map_err(ApiError::from)?;
                super::delivery::logging_changed(tx.as_mut(), &account, &trail.body, start, now)?;
            }
            effect.tx = Some(tx);
            Ok(json!({}))
        }
        Input::GetTrail(n) => {
            let name = TrailRef::parse(&n.name)?;
            let trail = read(ctx, &name)?;
            Ok(json!({ "Trail": described(&trail.body) }))
        }
        Input::GetTrailStatus(n) => {
            let name = TrailRef::parse(&n.name)?;
            let t = read(ctx, &name)?.body;
            let mut out = Map::new();
            out.insert("IsLogging".into(), json!(t.is_logging));
            if let Some(ms) = t.start_logging_ms {
                out.insert("StartLoggingTime".into(), epoch_seconds(ms));
                out.insert("TimeLoggingStarted".into(), json!(iso8601(ms)));
            }
            if let Some(ms) = t.stop_logging_ms {
                out.insert("StopLoggingTime".into(), epoch_seconds(ms));
                out.insert("TimeLoggingStopped".into(), json!(iso8601(ms)));
            }
            let delivery = ctx.read(|tx| Stored::<TrailDelivery>::get(tx, &account, &t.name))?;
            if let Some(d) = delivery.map(|d| d.body).filter(|d| d.trail_arn == t.trail_arn) {
                if let Some(ms) = d.last_delivery_ms {
                    out.insert("LatestDeliveryTime".into(), epoch_seconds(ms));
                }
                if let Some(ms) = d.last_digest_ms {
                    out.insert("LatestDigestDeliveryTime".into(), epoch_seconds(ms));
                }
                if let Some(code) = d.delivery_error {
                    out.insert("LatestDeliveryError".into(), json!(code));
                }
                if let Some(code) = d.digest_error {
                    out.insert("LatestDigestDeliveryError".into(), json!(code));
                }
            }
            Ok(Value::Object(out))
        }
        Input::DescribeTrails(d) => {
            let trails = all(ctx)?;
            let wanted: Vec<TrailRef> =
                d.trail_name_list.iter().map(|n| TrailRef::parse(n)).collect::<Result<_, _>>()?;
            let list: Vec<Value> = trails
                .iter()
                .filter(|t| {
                    wanted.is_empty()
                        || wanted.iter().any(|w| w.local(&account, &region) && w.name == t.key)
                })
                .map(|t| described(&t.body))
                .collect();
            Ok(json!({ "trailList": list }))
        }
        Input::ListTrails(l) => {
            if l.next_token.as_deref().is_some_and(|t| !t.is_empty()) {
                return Err(err("InvalidNextTokenException", "The NextToken is not valid."));
            }
            let list: Vec<Value> = all(ctx)?
                .iter()
                .map(|t| {
                    json!({
                        "TrailARN": t.body.trail_arn,
                        "Name": t.body.name,
                        "HomeRegion": t.body.home_region,
                    })
                })
                .collect();
            Ok(json!({ "Trails": list }))
        }
        Input::PutEventSelectors(s) => {
            let name = TrailRef::parse(&s.trail_name)?;
            let (basic, advanced) = match (s.event_selectors, s.advanced_event_selectors) {
                (Some(_), Some(_)) => {
                    return Err(err(
                        "InvalidParameterCombinationException",
                        "Specify either EventSelectors or AdvancedEventSelectors, not both.",
                    ))
                }
                (Some(b), None) => (Some(basic_selectors(b)?), None),
                (None, Some(a)) => (None, Some(advanced_selectors(a)?)),
                (None, None) => {
                    return Err(err(
                        "InvalidEventSelectorsException",
                        "Specify EventSelectors or AdvancedEventSelectors.",
                    ))
                }
            };
            let mut tx = ctx.state.store.begin()?;
            let mut trail = locked(tx.as_mut(), &name, &account, &region)?;
            trail.body.event_selectors = basic;
            trail.body.advanced_event_selectors = advanced;
            trail.updated_at_ms = now;
            let reply = selectors_reply(&trail.body);
            trail.put(tx.as_mut(), PutMode::Upsert).map_err(ApiError::from)?;
            effect.tx = Some(tx);
            Ok(reply)
        }
        Input::GetEventSelectors(s) => {
            let name = TrailRef::parse(&s.trail_name)?;
            Ok(selectors_reply(&read(ctx, &name)?.body))
        }
        Input::AddTags(t) | Input::RemoveTags(t) => {
            let adding = operation == CloudTrailOperation::AddTags;
            let name = resource_trail(&t.resource_id)?;
            let mut tx = ctx.state.store.begin()?;
            let mut trail = locked(tx.as_mut(), &name, &account, &region)
                .map_err(|_| resource_not_found(&t.resource_id))?;
            let given = tags_from(&t.tags_list)?;
            if adding {
                merge_tags(&mut trail.body.tags, given)?;
            } else {
                trail.body.tags.retain(|o| !given.iter().any(|g| g.key == o.key));
            }
            trail.updated_at_ms = now;
            trail.put(tx.as_mut(), PutMode::Upsert).map_err(ApiError::from)?;
            effect.tx = Some(tx);
            Ok(json!({}))
        }
        Input::ListTags(l) => {
            if l.next_token.as_deref().is_some_and(|t| !t.is_empty()) {
                return Err(err("InvalidTokenException", "The NextToken is not valid."));
            }
            let mut out = Vec::new();
            for id in &l.resource_id_list {
                let name = resource_trail(id)?;
                let trail = read(ctx, &name).map_err(|_| resource_not_found(id))?;
                out.push(json!({ "ResourceId": id, "TagsList": trail.body.tags }));
            }
            Ok(json!({ "ResourceTagList": out }))
        }
        Input::LookupEvents(_)
        | Input::ListPublicKeys(_)
        | Input::GetLogCheckpoint(_)
        | Input::GetLogInclusionProof(_)
        | Input::GetLogConsistencyProof(_) => Err(ApiError::internal("not a trail operation")),
    }
}

fn resource_not_found(id: &str) -> ApiError {
    err("ResourceNotFoundException", format!("Resource {id} does not exist."))
}

/// A `ResourceId`: a trail's ARN.
fn resource_trail(id: &str) -> Result<TrailRef, ApiError> {
    let name = TrailRef::parse(id)?;
    if name.scope.is_none() {
        return Err(err("CloudTrailARNInvalidException", format!("Invalid trail ARN: {id}")));
    }
    Ok(name)
}

/// The caller's trails, in name order.
fn all(ctx: &Ctx<'_>) -> Result<Vec<Stored<Trail>>, ApiError> {
    ctx.read(|tx| Stored::<Trail>::list(tx, &ctx.caller.account, "", MAX_TRAILS * 4))
}

/// The trail `name` names, read on a snapshot.
fn read(ctx: &Ctx<'_>, name: &TrailRef) -> Result<Stored<Trail>, ApiError> {
    let (account, region) = (&ctx.caller.account, &ctx.facts.region);
    if !name.local(account, region) {
        return Err(not_found(&name.arn(account, region), account));
    }
    ctx.read(|tx| Stored::<Trail>::get(tx, account, &name.name))?
        .ok_or_else(|| not_found(&name.name, account))
}

/// The trail `name` names, locked for a change in `tx`.
fn locked(
    tx: &mut dyn store::Tx,
    name: &TrailRef,
    account: &str,
    region: &str,
) -> Result<Stored<Trail>, ApiError> {
    if !name.local(account, region) {
        return Err(not_found(&name.arn(account, region), account));
    }
    Stored::<Trail>::get_for_update(tx, account, &name.name)?
        .ok_or_else(|| not_found(&name.name, account))
}

/// The default event selector: every management event, no data event.
fn default_selectors() -> Vec<Value> {
    vec![json!({
        "ReadWriteType": "All",
        "IncludeManagementEvents": true,
        "DataResources": [],
        "ExcludeManagementEventSources": [],
    })]
}

fn selectors_reply(t: &Trail) -> Value {
    match &t.advanced_event_selectors {
        Some(a) => json!({ "TrailARN": t.trail_arn, "AdvancedEventSelectors": a }),
        None => json!({
            "TrailARN": t.trail_arn,
            "EventSelectors": t.event_selectors.clone().unwrap_or_else(default_selectors),
        }),
    }
}

fn invalid_selectors(message: impl Into<String>) -> ApiError {
    err("InvalidEventSelectorsException", message)
}

/// Basic event selectors, checked and with AWS's defaults filled in.
fn basic_selectors(given: Vec<Value>) -> Result<Vec<Value>, ApiError> {
    if given.is_empty() || given.len() > MAX_SELECTORS {
        return Err(invalid_selectors(format!(
            "A trail has 1 to {MAX_SELECTORS} event selectors."
        )));
    }
    let mut values = 0;
    let mut out = Vec::new();
    for s in given {
        let obj =
            s.as_object().ok_or_else(|| invalid_selectors("An event selector is an object."))?;
        let rw = obj.get("ReadWriteType").and_then(Value::as_str).unwrap_or("All");
        if !["ReadOnly", "WriteOnly", "All"].contains(&rw) {
            return Err(invalid_selectors(format!("ReadWriteType {rw} is not valid.")));
        }
        let management =
            obj.get("IncludeManagementEvents").and_then(Value::as_bool).unwrap_or(true);
        let mut resources = Vec::new();
        for r in obj.get("DataResources").and_then(Value::as_array).into_iter().flatten() {
            let kind = r.get("Type").and_then(Value::as_str).unwrap_or_default();
            let list: Vec<String> = r
                .get("Values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            values += list.len();
            let ok = match kind {
                "AWS::S3::Object" => {
                    list.iter().all(|v| v == "arn:aws:s3" || v.starts_with("arn:aws:s3:::"))
                }
                "AWS::Lambda::Function" => {
                    list.iter().all(|v| v == "arn:aws:lambda" || v.starts_with("arn:aws:lambda:"))
                }
                "AWS::DynamoDB::Table" => list
                    .iter()
                    .all(|v| v == "arn:aws:dynamodb" || v.starts_with("arn:aws:dynamodb:")),
                _ => false,
            };
            if !ok {
                return Err(invalid_selectors(format!(
                    "Data resource type {kind} with values {list:?} is not valid."
                )));
            }
            resources.push(json!({ "Type": kind, "Values": list }));
        }
        let excluded = obj.get("ExcludeManagementEventSources").cloned().unwrap_or(json!([]));
        out.push(json!({
            "ReadWriteType": rw,
            "IncludeManagementEvents": management,
            "DataResources": resources,
            "ExcludeManagementEventSources": excluded,
        }));
    }
    if values > MAX_DATA_RESOURCE_VALUES {
        return Err(invalid_selectors(format!(
            "At most {MAX_DATA_RESOURCE_VALUES} data resource values across a trail's selectors."
        )));
    }
    Ok(out)
}

/// The fields an advanced event selector can test.
const ADVANCED_FIELDS: &[&str] = &[
    "eventCategory",
    "eventSource",
    "eventName",
    "eventType",
    "readOnly",
    "resources.type",
    "resources.ARN",
    "userIdentity.arn",
    "errorCode",
    "sessionCredentialFromConsole",
    "vpcEndpointId",
];
const OPERATORS: &[&str] =
    &["Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith"];

/// Advanced event selectors, checked: each tests known fields with at least one condition, and
/// names its `eventCategory` with `Equals`.
fn advanced_selectors(given: Vec<Value>) -> Result<Vec<Value>, ApiError> {
    if given.is_empty() || given.len() > MAX_ADVANCED {
        return Err(invalid_selectors(format!(
            "A trail has 1 to {MAX_ADVANCED} advanced event selectors."
        )));
    }
    let mut conditions = 0;
    for s in &given {
        let fields = s
            .get("FieldSelectors")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid_selectors("An advanced event selector needs FieldSelectors."))?;
        let mut category = false;
        for f in fields {
            let field = f.get("Field").and_then(Value::as_str).unwrap_or_default();
            if !ADVANCED_FIELDS.contains(&field) {
                return Err(invalid_selectors(format!("Field {field} is not valid.")));
            }
            let mut any = false;
            for op in OPERATORS {
                if let Some(list) = f.get(*op) {
                    let list = list.as_array().filter(|l| !l.is_empty()).ok_or_else(|| {
                        invalid_selectors(format!("{op} of {field} needs values."))
                    })?;
                    conditions += list.len();
                    any = true;
                }
            }
            if !any {
                return Err(invalid_selectors(format!("Field {field} has no condition.")));
            }
            category |= field == "eventCategory" && f.get("Equals").is_some();
        }
        if !category {
            return Err(invalid_selectors(
                "Each advanced event selector names eventCategory with Equals.",
            ));
        }
    }
    if conditions > MAX_ADVANCED {
        return Err(invalid_selectors(format!(
            "At most {MAX_ADVANCED} conditions across a trail's advanced event selectors."
        )));
    }
    Ok(given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_names_follow_aws_rules() {
        for ok in ["abc", "my-trail", "My_Trail.2", &"a".repeat(128)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["ab", "-abc", "abc-", "a--b", "a._b", "my trail", "10.0.0.1", &"a".repeat(129)]
        {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn trails_are_named_by_name_or_arn() {
        let by_name = TrailRef::parse("t1x").unwrap();
        assert_eq!(
            by_name.arn("123456789012", "us-east-1"),
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/t1x"
        );
        let by_arn =
            TrailRef::parse("arn:aws:cloudtrail:eu-west-1:210987654321:trail/t2x").unwrap();
        assert_eq!(by_arn.name, "t2x");
        assert!(!by_arn.local("123456789012", "us-east-1"));
        assert!(by_arn.local("210987654321", "eu-west-1"));
        let code = |r: Result<TrailRef, ApiError>| r.unwrap_err().code;
        assert_eq!(code(TrailRef::parse("arn:aws:s3:::bucket")), "CloudTrailARNInvalidException");
        assert_eq!(
            code(TrailRef::parse("arn:aws:cloudtrail:us-east-1:1:trail/abc")),
            "CloudTrailARNInvalidException"
        );
        assert_eq!(code(TrailRef::parse("a")), "InvalidTrailNameException");
        assert_eq!(code(TrailRef::parse("")), "TrailNotProvidedException");
    }

    #[test]
    fn selectors_are_checked_and_defaulted() {
        let out = basic_selectors(vec![
            json!({"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::b/"]}]}),
        ])
        .unwrap();
        assert_eq!(out[0]["ReadWriteType"], "All");
        assert_eq!(out[0]["IncludeManagementEvents"], true);
        assert!(basic_selectors(vec![json!({"ReadWriteType": "Some"})]).is_err());
        assert!(basic_selectors(vec![
            json!({"DataResources": [{"Type": "AWS::S3::Object", "Values": ["bucket"]}]})
        ])
        .is_err());
        assert!(basic_selectors(vec![json!({}); 6]).is_err());
        let adv = json!({"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]});
        assert!(advanced_selectors(vec![adv]).is_ok());
        assert!(advanced_selectors(vec![
            json!({"FieldSelectors": [{"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]})
        ])
        .is_err());
        assert!(advanced_selectors(vec![
            json!({"FieldSelectors": [{"Field": "nope", "Equals": ["x"]}]})
        ])
        .is_err());
    }
}
