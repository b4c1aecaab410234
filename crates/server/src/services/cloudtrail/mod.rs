//! CloudTrail (JSON 1.1, target `CloudTrail_20131101.<Operation>`): `LookupEvents` (an
//! account's management events, newest first, filtered by one lookup attribute and a time
//! range) and trails ([`trails`]).

pub(crate) mod delivery;
mod keys;
mod proofs;
mod trails;

use crate::error::ApiError;
use crate::pipeline::service::Operation;
use crate::pipeline::service::{
    operations, Authorization, Check, Ctx, Effect, Named, Request, Service, Unrouted,
};
use crate::pipeline::Reply;
use crate::protocol::input::{parse, Rules, Source};
use crate::protocol::model::Api;
use audit::event::EventRecord;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

operations! {
    /// CloudTrail's operations.
    CloudTrailOperation {
        LookupEvents => "cloudtrail:LookupEvents", Read;
        CreateTrail => "cloudtrail:CreateTrail", Write;
        UpdateTrail => "cloudtrail:UpdateTrail", Write;
        DeleteTrail => "cloudtrail:DeleteTrail", Write;
        GetTrail => "cloudtrail:GetTrail", Read;
        DescribeTrails => "cloudtrail:DescribeTrails", Read;
        ListTrails => "cloudtrail:ListTrails", Read;
        StartLogging => "cloudtrail:StartLogging", Write;
        StopLogging => "cloudtrail:StopLogging", Write;
        GetTrailStatus => "cloudtrail:GetTrailStatus", Read;
        PutEventSelectors => "cloudtrail:PutEventSelectors", Write;
        GetEventSelectors => "cloudtrail:GetEventSelectors", Read;
        AddTags => "cloudtrail:AddTags", Write;
        RemoveTags => "cloudtrail:RemoveTags", Write;
        ListTags => "cloudtrail:ListTags", Read;
        ListPublicKeys => "cloudtrail:ListPublicKeys", Read;
        GetLogCheckpoint => "cloudtrail:GetLogCheckpoint", Read;
        GetLogInclusionProof => "cloudtrail:GetLogInclusionProof", Read;
        GetLogConsistencyProof => "cloudtrail:GetLogConsistencyProof", Read;
    }
}

/// CloudTrail (JSON 1.1).
pub(crate) struct CloudTrail;

/// A CloudTrail call: the operation and its input.
pub(crate) struct Call {
    operation: CloudTrailOperation,
    input: Input,
    /// The ARNs of the trails the call names, as authorization found them.
    arns: Vec<String>,
}

/// One operation's input.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Input {
    LookupEvents(LookupEvents),
    CreateTrail(trails::Settings),
    UpdateTrail(trails::Settings),
    DeleteTrail(trails::Named),
    GetTrail(trails::Named),
    DescribeTrails(trails::Describe),
    ListTrails(trails::List),
    StartLogging(trails::Named),
    StopLogging(trails::Named),
    GetTrailStatus(trails::Named),
    PutEventSelectors(trails::Selectors),
    GetEventSelectors(trails::Selectors),
    AddTags(trails::Tags),
    RemoveTags(trails::Tags),
    ListTags(trails::ListTags),
    ListPublicKeys(ListPublicKeys),
    GetLogCheckpoint(proofs::Latest),
    GetLogInclusionProof(proofs::Inclusion),
    GetLogConsistencyProof(proofs::Consistency),
}

impl Input {
    fn parse(operation: CloudTrailOperation, body: &Value) -> Result<Input, ApiError> {
        use CloudTrailOperation as O;
        fn p<T: serde::de::DeserializeOwned>(
            op: CloudTrailOperation,
            body: &Value,
        ) -> Result<T, ApiError> {
            parse(Api::CloudTrail, op.name(), Source::Json(body), Rules::Shape)
        }
        Ok(match operation {
            O::LookupEvents => Input::LookupEvents(p(operation, body)?),
            O::CreateTrail => Input::CreateTrail(p(operation, body)?),
            O::UpdateTrail => Input::UpdateTrail(p(operation, body)?),
            O::DeleteTrail => Input::DeleteTrail(p(operation, body)?),
            O::GetTrail => Input::GetTrail(p(operation, body)?),
            O::DescribeTrails => Input::DescribeTrails(p(operation, body)?),
            O::ListTrails => Input::ListTrails(p(operation, body)?),
            O::StartLogging => Input::StartLogging(p(operation, body)?),
            O::StopLogging => Input::StopLogging(p(operation, body)?),
            O::GetTrailStatus => Input::GetTrailStatus(p(operation, body)?),
            O::PutEventSelectors => Input::PutEventSelectors(p(operation, body)?),
            O::GetEventSelectors => Input::GetEventSelectors(p(operation, body)?),
            O::AddTags => Input::AddTags(p(operation, body)?),
            O::RemoveTags => Input::RemoveTags(p(operation, body)?),
            O::ListTags => Input::ListTags(p(operation, body)?),
            O::ListPublicKeys => Input::ListPublicKeys(p(operation, body)?),
            // Hermetic's extension: not in AWS's model.
            O::GetLogCheckpoint => Input::GetLogCheckpoint(proofs::parse(body)?),
            O::GetLogInclusionProof => Input::GetLogInclusionProof(proofs::parse(body)?),
            O::GetLogConsistencyProof => Input::GetLogConsistencyProof(proofs::parse(body)?),
        })
    }

    /// The trails the call names (by name, ARN or resource id), checked as names.
    fn trails(&self) -> Result<Vec<trails::TrailRef>, ApiError> {
        let one = |n: &str| trails::TrailRef::parse(n).map(|t| vec![t]);
        match self {
            Input::CreateTrail(s) | Input::UpdateTrail(s) => one(&s.name),
            Input::DeleteTrail(n)
            | Input::GetTrail(n)
            | Input::StartLogging(n)
            | Input::StopLogging(n)
            | Input::GetTrailStatus(n) => one(&n.name),
            Input::PutEventSelectors(s) | Input::GetEventSelectors(s) => one(&s.trail_name),
            Input::AddTags(t) | Input::RemoveTags(t) => one(&t.resource_id),
            Input::ListTags(l) => {
                l.resource_id_list.iter().map(|r| trails::TrailRef::parse(r)).collect()
            }
            Input::LookupEvents(_)
            | Input::DescribeTrails(_)
            | Input::ListTrails(_)
            | Input::ListPublicKeys(_)
            | Input::GetLogCheckpoint(_)
            | Input::GetLogInclusionProof(_)
            | Input::GetLogConsistencyProof(_) => Ok(Vec::new()),
        }
    }
}

/// A CloudTrail error (400).
pub(crate) fn err(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::sender(400, code, message.into())
}

/// `LookupEvents`' input. Bounds are CloudTrail's own errors (`InvalidMaxResultsException`,
/// `InvalidTimeRangeException`), so the model checks only shapes.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LookupEvents {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    lookup_attributes: Vec<LookupAttribute>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_time: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_results: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// `ListPublicKeys`' input.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListPublicKeys {
    #[serde(skip_serializing_if = "Option::is_none")]
    start_time: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// One lookup attribute.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LookupAttribute {
    attribute_key: String,
    attribute_value: String,
}

impl Service for CloudTrail {
    type Operation = CloudTrailOperation;
    type Call = Call;
    const EVENT_SOURCE: &'static str = "cloudtrail.amazonaws.com";
    const TENANT_ONLY: bool = false;

    fn route(req: &Request<'_>) -> Result<Call, Unrouted<CloudTrailOperation>> {
        let target = req.target.unwrap_or_default();
        let name = target.rsplit('.').next().unwrap_or(target);
        let operation = CloudTrailOperation::from_name(name)
            .ok_or_else(|| Unrouted::unknown_operation(name))?;
        let input = req
            .json()
            .and_then(|body| Input::parse(operation, &body))
            .map_err(|e| Unrouted::input(operation, e))?;
        // A trail named by a malformed name or ARN is refused before anything else.
        input.trails().map_err(|e| Unrouted::input(operation, e))?;
        Ok(Call { operation, input, arns: Vec::new() })
    }

    fn operation(call: &Call) -> CloudTrailOperation {
        call.operation
    }

    fn named(_: &Request<'_>, call: Option<&Call>) -> Vec<Named> {
        // A trail named by ARN names its account: that account's log gets the event (and the
        // operator guardrail refuses the operator a tenant's trail).
        let trails = call.and_then(|c| c.input.trails().ok()).unwrap_or_default();
        trails
            .into_iter()
            .filter_map(|t| t.scope.map(|(_, account)| Named::Account(account)))
            .collect()
    }

    fn parameters(_: &Request<'_>, call: &Call) -> Option<Value> {
        serde_json::to_value(&call.input).ok()
    }

    fn authorization(
        ctx: &Ctx<'_>,
        _: &Request<'_>,
        call: &mut Call,
    ) -> Result<Authorization, ApiError> {
        let action = call.operation.action();
        let named = call.input.trails()?;
        if named.is_empty() {
            return Ok(Authorization::Checks(vec![Check::new(action, "*")]));
        }
        let (account, region) = (&ctx.caller.account, &ctx.facts.region);
        call.arns = named.iter().map(|t| t.arn(account, region)).collect();
        Ok(Authorization::Checks(call.arns.iter().map(|arn| Check::new(action, arn)).collect()))
    }

    fn resources(call: &Call) -> Vec<audit::event::Resource> {
        call.arns
            .iter()
            .map(|arn| audit::event::Resource {
                account_id: arn.split(':').nth(4).map(str::to_string),
                resource_type: Some("AWS::CloudTrail::Trail".into()),
                arn: Some(arn.clone()),
            })
            .collect()
    }

    fn refusal(e: ApiError) -> ApiError {
        e.denied_as_exception(400)
    }

    fn execute<'s>(
        ctx: &Ctx<'s>,
        _: &Request<'_>,
        call: Call,
        effect: &mut Effect<'s>,
    ) -> Result<Reply, ApiError> {
        match call.input {
            Input::LookupEvents(input) => {
                lookup_events(ctx.state, &ctx.caller.account, &input).map(|v| Reply::json(&v))
            }
            Input::ListPublicKeys(input) => list_public_keys(ctx, &input).map(|v| Reply::json(&v)),
            Input::GetLogCheckpoint(_) => proofs::checkpoint(ctx).map(|v| Reply::json(&v)),
            Input::GetLogInclusionProof(input) => {
                proofs::inclusion(ctx, &input).map(|v| Reply::json(&v))
            }
            Input::GetLogConsistencyProof(input) => {
                proofs::consistency(ctx, &input).map(|v| Reply::json(&v))
            }
            input => trails::run(ctx, call.operation, input, effect).map(|v| Reply::json(&v)),
        }
    }
}

/// Most events per page (AWS's limit).
pub const MAX_RESULTS: usize = 50;

fn invalid(message: &str) -> ApiError {
    ApiError::sender(400, "InvalidLookupAttributesException", message.to_string())
}

fn matches(event: &EventRecord, key: &str, value: &str) -> Result<bool, ApiError> {
    let user_name = event.user_identity.user_name.clone().or_else(|| {
        event
            .user_identity
            .arn
            .as_ref()
            .filter(|a| a.ends_with(":root"))
            .map(|_| "root".to_string())
    });
    Ok(match key {
        "EventName" => event.event_name == value,
        "EventId" => event.event_id == value,
        "EventSource" => event.event_source == value,
        "ReadOnly" => event.read_only.map(|r| r.to_string()).as_deref() == Some(value),
        "Username" => user_name.as_deref() == Some(value),
        "AccessKeyId" => event.user_identity.access_key_id.as_deref() == Some(value),
        "ResourceType" => resources(event).any(|(t, _)| t == value),
        // A resource's ARN, or its name (the ARN's last `/` or `:` segment).
        "ResourceName" => resources(event)
            .any(|(_, arn)| arn == value || arn.rsplit(['/', ':']).next() == Some(value)),
        other => return Err(invalid(&format!("lookup attribute key `{other}` is not supported"))),
    })
}

/// An event's resources as (type, ARN).
pub(super) fn resources(event: &EventRecord) -> impl Iterator<Item = (&str, &str)> {
    event
        .resources
        .iter()
        .flatten()
        .filter_map(|r| Some((r.resource_type.as_deref()?, r.arn.as_deref()?)))
}

fn seconds(v: Option<&Value>) -> Result<Option<f64>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => {
            Err(ApiError::sender(400, "InvalidTimeRangeException", "times must be epoch seconds"))
        }
    }
}

/// `ListPublicKeys`: the digest keys valid in the range (default: the last day until now).
fn list_public_keys(ctx: &Ctx<'_>, input: &ListPublicKeys) -> Result<Value, ApiError> {
    if input.next_token.as_deref().is_some_and(|t| !t.is_empty()) {
        return Err(err("InvalidTokenException", "The NextToken is not valid."));
    }
    let ms = |s: f64| {
        #[allow(clippy::cast_possible_truncation)]
        let ms = (s * 1000.0) as i64;
        ms
    };
    let now = ctx.now();
    let end = seconds(input.end_time.as_ref())?.map_or(now, ms);
    let start = seconds(input.start_time.as_ref())?.map_or(end - 86_400_000, ms);
    if start > end {
        return Err(ApiError::sender(
            400,
            "InvalidTimeRangeException",
            "StartTime must be before EndTime",
        ));
    }
    keys::list_public_keys(ctx.state, start, end)
}

/// Answers `LookupEvents` for `account`.
pub(crate) fn lookup_events(
    state: &crate::pipeline::State,
    account: &str,
    input: &LookupEvents,
) -> Result<Value, ApiError> {
    if input.lookup_attributes.len() > 1 {
        return Err(invalid("only one lookup attribute may be given"));
    }
    let filter = input
        .lookup_attributes
        .first()
        .map(|a| (a.attribute_key.clone(), a.attribute_value.clone()));
    let start = seconds(input.start_time.as_ref())?;
    let end = seconds(input.end_time.as_ref())?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(ApiError::sender(
                400,
                "InvalidTimeRangeException",
                "StartTime must be before EndTime",
            ));
        }
    }
    let limit = match input.max_results {
        Some(n) if (1..=MAX_RESULTS as i64).contains(&n) => {
            usize::try_from(n).unwrap_or(MAX_RESULTS)
        }
        Some(_) => {
            return Err(ApiError::sender(
                400,
                "InvalidMaxResultsException",
                "MaxResults must be between 1 and 50",
            ))
        }
        None => MAX_RESULTS,
    };
    let mut tx = state.store.read()?;
    let head = tx.audit_head(account)?;
    // NextToken is the sequence number to continue below (newest first).
    let mut cursor = match input.next_token.as_deref() {
        Some(t) => t.parse::<u64>().ok().filter(|n| *n <= head.size).ok_or_else(|| {
            ApiError::sender(400, "InvalidNextTokenException", "invalid NextToken")
        })?,
        None => head.size,
    };
    let mut out = Vec::new();
    // Where the next page continues (below this sequence number), when this one is full.
    let mut next: Option<u64> = None;
    const BATCH: u64 = 256;
    'pages: while cursor > 0 {
        let from = cursor.saturating_sub(BATCH);
        let events = tx.audit_events(account, from..cursor)?;
        for stored in events.iter().rev() {
            let Ok(mut event) = EventRecord::from_canonical_bytes(&stored.event) else { continue };
            let t = event.event_time.unix_seconds() as f64;
            if start.is_some_and(|s| t < s) || end.is_some_and(|e| t > e) || !event.management_event
            {
                continue;
            }
            if let Some((k, v)) = &filter {
                if !matches(&event, k, v)? {
                    continue;
                }
            }
            if out.len() == limit {
                next = Some(stored.seq + 1);
                break 'pages;
            }
            let user_name = event.user_identity.user_name.clone().or_else(|| {
                event
                    .user_identity
                    .arn
                    .as_ref()
                    .filter(|a| a.ends_with(":root"))
                    .map(|_| "root".to_string())
            });
            // The account reads its own parameters in the clear; the log keeps them sealed.
            crate::pipeline::events::opened(state, tx.as_mut(), &mut event, account)?;
            let text = event
                .canonical_bytes()
                .map_err(|_| ApiError::unavailable("the audit event could not be encoded"))?;
            let listed: Vec<Value> = resources(&event)
                .map(|(t, arn)| json!({ "ResourceType": t, "ResourceName": arn }))
                .collect();
            out.push(json!({
                "EventId": event.event_id,
                "EventName": event.event_name,
                "ReadOnly": event.read_only.map(|r| r.to_string()),
                "AccessKeyId": event.user_identity.access_key_id,
                "EventTime": event.event_time.unix_seconds(),
                "EventSource": event.event_source,
                "Username": user_name,
                "Resources": listed,
                "CloudTrailEvent": String::from_utf8_lossy(&text),
            }));
        }
        cursor = from;
    }
    let mut answer = json!({ "Events": out });
    if let (Some(n), Some(obj)) = (next, answer.as_object_mut()) {
        obj.insert("NextToken".into(), Value::String(n.to_string()));
    }
    Ok(answer)
}
