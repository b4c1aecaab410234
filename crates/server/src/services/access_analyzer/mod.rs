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
use serde::Deserialize;
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

/// An Access Analyzer call: the operation and its typed input.
pub(crate) struct Call {
    operation: AnalyzerOperation,
    input: Input,
}

/// `CheckNoNewAccess`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckNoNewAccess {
    new_policy_document: String,
    existing_policy_document: String,
    policy_type: String,
}

/// `CheckAccessNotGranted`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckAccessNotGranted {
    policy_document: String,
    access: Vec<AccessEntry>,
    policy_type: String,
}

/// One entry of `access`.
#[derive(Debug, Deserialize)]
pub(crate) struct AccessEntry {
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
}

/// `CheckNoPublicAccess`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CheckNoPublicAccess {
    policy_document: String,
    resource_type: String,
}

/// One operation's input.
#[derive(Debug)]
pub(crate) enum Input {
    CheckNoNewAccess(CheckNoNewAccess),
    CheckAccessNotGranted(CheckAccessNotGranted),
    CheckNoPublicAccess(CheckNoPublicAccess),
    ValidatePolicy(validate::ValidatePolicy),
}

impl Input {
    fn parse(operation: AnalyzerOperation, req: &Request<'_>) -> Result<Input, ApiError> {
        use crate::protocol::input::{parse, Rules, Source};
        use crate::protocol::model::Api;
        let body = req.json()?;
        let source = Source::RestJson(&body, &req.query_params, &[]);
        let name = operation.name();
        let s = Api::AccessAnalyzer;
        Ok(match operation {
            AnalyzerOperation::CheckNoNewAccess => {
                Input::CheckNoNewAccess(parse(s, name, source, Rules::All)?)
            }
            AnalyzerOperation::CheckAccessNotGranted => {
                Input::CheckAccessNotGranted(parse(s, name, source, Rules::All)?)
            }
            AnalyzerOperation::CheckNoPublicAccess => {
                Input::CheckNoPublicAccess(parse(s, name, source, Rules::All)?)
            }
            AnalyzerOperation::ValidatePolicy => {
                Input::ValidatePolicy(parse(s, name, source, Rules::All)?)
            }
        })
    }
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
        let input = Input::parse(operation, req).map_err(|e| Unrouted::input(operation, e))?;
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
        let _ = req;
        respond(&call.input).map(|v| Reply::json(&v))
    }
}

/// Answers one operation: ValidatePolicy in [`validate`], the checks in [`handle`].
pub(crate) fn respond(input: &Input) -> Result<Value, ApiError> {
    match input {
        Input::ValidatePolicy(i) => validate::validate_policy(i),
        other => handle(other),
    }
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::sender(400, "ValidationException", message)
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::sender(422, "UnprocessableEntityException", message)
}

fn document(text: &str, field: &str) -> Result<policy::Policy, ApiError> {
    policy::parse_policy(text).map_err(|e| {
        let first = e.0.first().map(|e| e.message.clone()).unwrap_or_default();
        validation(format!("{field} is not a valid policy: {first}"))
    })
}

/// The side `policyType` reads a policy from: an identity policy of a user acting in its own
/// account, or a resource policy of a resource in the account its ARNs name.
fn view_of(policy_type: &str, p: &policy::Policy) -> Result<View, ApiError> {
    match policy_type {
        "IDENTITY_POLICY" => Ok(View::Identity),
        "RESOURCE_POLICY" => Ok(View::Resource { owner: reason::owner_of(p) }),
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
pub(crate) fn handle(input: &Input) -> Result<Value, ApiError> {
    match input {
        Input::CheckNoNewAccess(input) => {
            let new = document(&input.new_policy_document, "newPolicyDocument")?;
            let existing = document(&input.existing_policy_document, "existingPolicyDocument")?;
            let view = view_of(&input.policy_type, &new)?;
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
        Input::CheckAccessNotGranted(input) => {
            let p = document(&input.policy_document, "policyDocument")?;
            let view = view_of(&input.policy_type, &p)?;
            if input.access.is_empty() {
                return Err(validation("access must list at least one entry"));
            }
            // One budget for the whole request.
            let mut z3 = Z3::with_budget(BUDGET);
            for entry in &input.access {
                let (actions, resources) = (&entry.actions, &entry.resources);
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
        Input::CheckNoPublicAccess(input) => {
            let p = document(&input.policy_document, "policyDocument")?;
            let resource_type = input.resource_type.as_str();
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
        Input::ValidatePolicy(i) => validate::validate_policy(i),
    }
}
