//! CloudTrail `LookupEvents` (JSON 1.1, target `CloudTrail_20131101.LookupEvents`): an
//! account's management events, newest first, filtered by one lookup attribute and a time range.

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
    }
}

/// CloudTrail (JSON 1.1).
pub(crate) struct CloudTrail;

/// A CloudTrail call: the operation and its input.
pub(crate) struct Call {
    operation: CloudTrailOperation,
    input: LookupEvents,
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
            .and_then(|body| {
                parse(Api::CloudTrail, operation.name(), Source::Json(&body), Rules::Shape)
            })
            .map_err(|e| Unrouted::input(operation, e))?;
        Ok(Call { operation, input })
    }

    fn operation(call: &Call) -> CloudTrailOperation {
        call.operation
    }

    fn named(_: &Request<'_>, _: Option<&Call>) -> Vec<Named> {
        Vec::new()
    }

    fn parameters(_: &Request<'_>, call: &Call) -> Option<Value> {
        serde_json::to_value(&call.input).ok()
    }

    fn authorization(
        _: &Ctx<'_>,
        _: &Request<'_>,
        _: &mut Call,
    ) -> Result<Authorization, ApiError> {
        Ok(Authorization::Checks(vec![Check::new("cloudtrail:LookupEvents", "*")]))
    }

    fn execute<'s>(
        ctx: &Ctx<'s>,
        _: &Request<'_>,
        call: Call,
        _: &mut Effect<'s>,
    ) -> Result<Reply, ApiError> {
        match call.operation {
            CloudTrailOperation::LookupEvents => {
                lookup_events(ctx.state, &ctx.caller.account, &call.input).map(|v| Reply::json(&v))
            }
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
        "ResourceType" | "ResourceName" => false,
        other => return Err(invalid(&format!("lookup attribute key `{other}` is not supported"))),
    })
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
            out.push(json!({
                "EventId": event.event_id,
                "EventName": event.event_name,
                "ReadOnly": event.read_only.map(|r| r.to_string()),
                "AccessKeyId": event.user_identity.access_key_id,
                "EventTime": event.event_time.unix_seconds(),
                "EventSource": event.event_source,
                "Username": user_name,
                "Resources": [],
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
