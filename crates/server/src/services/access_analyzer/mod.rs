//! IAM Access Analyzer's custom policy checks (`access-analyzer`, rest-json):
//! CheckNoNewAccess, CheckAccessNotGranted (identity and resource policies) and
//! CheckNoPublicAccess, answered by the `reason` crate (Z3), each FAIL with a witness that
//! replayed through the policy engine. What the analyzer cannot reason about yet is refused
//! with `UnprocessableEntityException` rather than guessed.

pub(crate) mod validate;

use crate::error::ApiError;
use crate::pipeline::service::{
    operations, Authorization, Check, Ctx, Effect, Named, Operation, Request, Service, Unrouted,
};
use crate::pipeline::Reply;
use reason::{Answer, View, Z3};
use serde_json::{json, Value};

operations! {
    /// The Access Analyzer operations served here: custom policy checks and validation.
    AnalyzerOperation {
        CheckNoNewAccess => "access-analyzer:CheckNoNewAccess", Read;
        CheckAccessNotGranted => "access-analyzer:CheckAccessNotGranted", Read;
        CheckNoPublicAccess => "access-analyzer:CheckNoPublicAccess", Read;
        ValidatePolicy => "access-analyzer:ValidatePolicy", Read;
    }
}

impl AnalyzerOperation {
    /// The operation a request's method and path name (rest-json).
    fn of(method: &str, path: &str) -> Option<AnalyzerOperation> {
        match (method, path) {
            ("POST", "/policy/check-no-new-access") => Some(AnalyzerOperation::CheckNoNewAccess),
            ("POST", "/policy/check-access-not-granted") => {
                Some(AnalyzerOperation::CheckAccessNotGranted)
            }
            ("POST", "/policy/check-no-public-access") => {
                Some(AnalyzerOperation::CheckNoPublicAccess)
            }
            ("POST", "/policy/validation") => Some(AnalyzerOperation::ValidatePolicy),
            _ => None,
        }
    }
}

/// IAM Access Analyzer (rest-json).
pub(crate) struct AccessAnalyzer;

/// An Access Analyzer call: the operation, its JSON body and its query string.
pub(crate) struct Call {
    operation: AnalyzerOperation,
    input: Value,
}

impl Service for AccessAnalyzer {
    type Operation = AnalyzerOperation;
    type Call = Call;
    const EVENT_SOURCE: &'static str = "access-analyzer.amazonaws.com";
    const TENANT_ONLY: bool = false;

    fn route(req: &Request<'_>) -> Result<Call, Unrouted<AnalyzerOperation>> {
        // An unknown operation is refused (and recorded).
        let operation = AnalyzerOperation::of(req.method, req.path).ok_or_else(|| {
            Unrouted::unknown(ApiError::sender(
                404,
                "UnknownOperationException",
                format!("`{} {}` is not an operation served here", req.method, req.path),
            ))
        })?;
        let input = req.json().map_err(|e| Unrouted::input(operation, e))?;
        Ok(Call { operation, input })
    }

    fn operation(call: &Call) -> AnalyzerOperation {
        call.operation
    }

    fn named(_: &Request<'_>, _: Option<&Call>) -> Vec<Named> {
        Vec::new()
    }

    /// The policies a check reads are the caller's data: the event names the operation, not
    /// the documents.
    fn parameters(_: &Request<'_>, _: &Call) -> Option<Value> {
        None
    }

    fn authorization(
        _: &Ctx<'_>,
        _: &Request<'_>,
        call: &mut Call,
    ) -> Result<Authorization, ApiError> {
        Ok(Authorization::Checks(vec![Check::new(call.operation.action(), "*")]))
    }

    fn execute<'s>(
        _: &Ctx<'s>,
        req: &Request<'_>,
        call: Call,
        _: &mut Effect<'s>,
    ) -> Result<Reply, ApiError> {
        respond(call.operation.name(), &call.input, &req.query_params).map(|v| Reply::json(&v))
    }
}

/// Answers one operation: ValidatePolicy (which also reads the query string's paging
/// parameters) in [`crate::services::access_analyzer::validate`], the checks in [`handle`].
pub fn respond(
    operation: &str,
    input: &Value,
    query: &[(String, String)],
) -> Result<Value, ApiError> {
    match operation {
        "ValidatePolicy" => {
            crate::services::access_analyzer::validate::validate_policy(input, query)
        }
        other => handle(other, input),
    }
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::sender(400, "ValidationException", message)
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::sender(422, "UnprocessableEntityException", message)
}

fn document(input: &Value, field: &str) -> Result<policy::Policy, ApiError> {
    let text = input
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| validation(format!("{field} is required")))?;
    policy::parse_policy(text).map_err(|e| {
        let first = e.0.first().map(|e| e.message.clone()).unwrap_or_default();
        validation(format!("{field} is not a valid policy: {first}"))
    })
}

/// The side `policyType` reads a policy from: an identity policy of a user acting in its own
/// account, or a resource policy of a resource in the account its ARNs name.
fn view_of(input: &Value, p: &policy::Policy) -> Result<View, ApiError> {
    match input.get("policyType").and_then(Value::as_str) {
        Some("IDENTITY_POLICY") => Ok(View::Identity),
        Some("RESOURCE_POLICY") => Ok(View::Resource { owner: reason::owner_of(p) }),
        _ => Err(validation("policyType must be IDENTITY_POLICY or RESOURCE_POLICY")),
    }
}

/// PASS, or FAIL with the statements that let the witness through.
fn result(
    answer: Answer,
    view: &View,
    p: &policy::Policy,
    pass: &str,
    fail: &str,
) -> Result<Value, ApiError> {
    match answer {
        Answer::No => Ok(json!({ "result": "PASS", "message": pass })),
        Answer::Yes(w) => {
            let reasons: Vec<Value> = reason::allowing_statements(view, p, &w)
                .into_iter()
                .map(|(index, sid)| {
                    let mut r = json!({
                        "description": format!("The statement allows a request such as: {}.", w.describe()),
                        "statementIndex": index,
                    });
                    if let (Some(sid), Some(obj)) = (sid, r.as_object_mut()) {
                        obj.insert("statementId".into(), json!(sid));
                    }
                    r
                })
                .collect();
            Ok(json!({ "result": "FAIL", "message": fail, "reasons": reasons }))
        }
        Answer::Unknown(why) => {
            Err(unprocessable(format!("The policy cannot be analyzed: {why}.")))
        }
        Answer::Bug(_) => Err(ApiError::internal("the analyzer could not confirm its answer")),
    }
}

/// The most time one request's analysis may take (a check past it is answered as one the
/// analyzer cannot decide): a policy crafted to be hard holds a worker no longer.
const BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

/// Runs one check.
pub fn handle(operation: &str, input: &Value) -> Result<Value, ApiError> {
    match operation {
        "CheckNoNewAccess" => {
            let new = document(input, "newPolicyDocument")?;
            let existing = document(input, "existingPolicyDocument")?;
            let view = view_of(input, &new)?;
            let c =
                Z3::with_budget(BUDGET).session(|s| reason::compare_in(&view, &new, &existing, s));
            result(
                c.a_not_b,
                &view,
                &new,
                "The updated policy does not grant new access.",
                "The updated policy grants new access.",
            )
        }
        "CheckAccessNotGranted" => {
            let p = document(input, "policyDocument")?;
            let view = view_of(input, &p)?;
            let access = input
                .get("access")
                .and_then(Value::as_array)
                .ok_or_else(|| validation("access is required"))?;
            if access.is_empty() {
                return Err(validation("access must list at least one entry"));
            }
            let strings = |entry: &Value, field: &str| -> Vec<String> {
                entry
                    .get(field)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            };
            // One budget for the whole request.
            let mut z3 = Z3::with_budget(BUDGET);
            for entry in access {
                let (actions, resources) = (strings(entry, "actions"), strings(entry, "resources"));
                if actions.is_empty() && resources.is_empty() {
                    return Err(validation("an access entry needs actions, resources or both"));
                }
                let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
                let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
                let answer = z3.session(|s| reason::grants_in(&view, &p, &actions, &resources, s));
                if answer != Answer::No {
                    return result(
                        answer,
                        &view,
                        &p,
                        "",
                        "The policy document grants access to perform one or more of the listed actions or resources.",
                    );
                }
            }
            result(
                Answer::No,
                &view,
                &p,
                "The policy document does not grant access to perform the listed actions or resources.",
                "",
            )
        }
        "CheckNoPublicAccess" => {
            let p = document(input, "policyDocument")?;
            let resource_type = input
                .get("resourceType")
                .and_then(Value::as_str)
                .ok_or_else(|| validation("resourceType is required"))?;
            let Some((actions, resources)) = reason::resource_type_scope(resource_type) else {
                return Err(ApiError::sender(
                    400,
                    "ValidationException",
                    format!("resourceType {resource_type} is not supported"),
                ));
            };
            let owner = reason::owner_of(&p);
            let answer = Z3::with_budget(BUDGET)
                .session(|s| reason::public(&p, &owner, actions, resources, s));
            result(
                answer,
                &View::Resource { owner },
                &p,
                "The resource policy does not grant public access for the given resource type.",
                "The resource policy grants public access for the given resource type.",
            )
        }
        other => Err(ApiError::sender(
            404,
            "UnknownOperationException",
            format!("unknown operation `{other}`"),
        )),
    }
}
