//! `hermetic policy simulate`: load evaluation cases from JSON and run them through the policy
//! engine. The same loader runs the corpus in `cargo test`.
//!
//! Policies are read with `policy::parse_policy_lenient`: a few forms IAM refuses but AWS
//! still evaluates (malformed actions, a bare ARN as principal, an empty `Statement`) are kept,
//! and each case's output lists the warnings saying how they were read.

use policy::validate::Finding;
use policy::{
    evaluate, parse_policy_lenient, Context, Decision, Evaluation, NamedPolicy, OrgLevel, Policy,
    PolicySet, Principal, Request,
};
use serde_json::Value;

/// A policy of a case, with the name explanations use.
#[derive(Debug)]
pub struct CasePolicy {
    /// `identity policy 1`, `resource policy`, `SCP r-root 1`...
    pub name: String,
    /// The parsed policy.
    pub policy: Policy,
    /// Forms IAM would refuse that the lenient parse kept, and how it read them.
    pub findings: Vec<Finding>,
}

/// One level of SCPs or RCPs.
#[derive(Debug)]
pub struct CaseLevel {
    /// Root, OU or account id.
    pub org_identifier: String,
    /// The policies attached there.
    pub policies: Vec<CasePolicy>,
}

/// One loaded simulation case.
#[derive(Debug)]
pub struct Case {
    /// The case name.
    pub name: String,
    /// The request.
    pub request: Request,
    /// Identity-based policies.
    pub identity: Vec<CasePolicy>,
    /// The resource policy.
    pub resource: Option<CasePolicy>,
    /// Permissions boundaries.
    pub boundaries: Vec<CasePolicy>,
    /// The session policy.
    pub session: Option<CasePolicy>,
    /// SCP levels.
    pub scps: Vec<CaseLevel>,
    /// RCP levels.
    pub rcps: Vec<CaseLevel>,
    /// The expected decision, if given.
    pub expected: Option<Decision>,
}

/// A case that could not be loaded, or a file that is not a case list.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is not JSON.
    #[error("the cases file is not valid JSON: {0}")]
    Json(String),
    /// The top level is not an array.
    #[error("the cases file must hold a JSON array of cases")]
    NotArray,
    /// One case is malformed.
    #[error("case `{name}`: {message}")]
    Case {
        /// The case name (or its position).
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// Loads every case of a cases file; a malformed case is an error for that case only.
pub fn load_cases(text: &str) -> Result<Vec<Result<Case, LoadError>>, LoadError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| LoadError::Json(e.to_string()))?;
    let Value::Array(items) = doc else { return Err(LoadError::NotArray) };
    Ok(items.iter().enumerate().map(|(i, item)| load_case(i, item)).collect())
}

/// What a case's `principal` may be.
const PRINCIPAL_FORMS: &str = "`principal` must be a string (an ARN, a service or provider \
                               name, `*`) or {\"type\": \"Anonymous\"}";

/// `{"type": "Anonymous"}` (the type in any case): the object form of an anonymous caller.
fn is_anonymous(map: &serde_json::Map<String, Value>) -> bool {
    map.len() == 1
        && map
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("anonymous"))
}

fn load_case(position: usize, item: &Value) -> Result<Case, LoadError> {
    let name = item
        .get("name")
        .and_then(Value::as_str)
        .map_or_else(|| format!("#{}", position + 1), str::to_string);
    let fail = |message: String| LoadError::Case { name: name.clone(), message };
    let request = item.get("request").ok_or_else(|| fail("has no `request`".into()))?;
    let str_field = |v: &Value, key: &str| -> Result<String, LoadError> {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| fail(format!("`{key}` must be a string")))
    };
    let principal = match request.get("principal") {
        Some(Value::String(text)) => Principal::parse(text),
        // `{"type": "Anonymous"}`: an unauthenticated caller, as `"*"`.
        Some(Value::Object(map)) if is_anonymous(map) => Principal::parse("*"),
        _ => return Err(fail(PRINCIPAL_FORMS.into())),
    }
    .map_err(|e| fail(e.to_string()))?;
    let action = str_field(request, "action")?;
    let (resource, account) = match request.get("resource") {
        Some(Value::String(s)) => (s.clone(), None),
        Some(r @ Value::Object(_)) => {
            let account = match r.get("accountId") {
                None | Some(Value::Null) => None,
                Some(Value::String(a)) => Some(a.clone()),
                Some(_) => return Err(fail("`accountId` must be a string".into())),
            };
            (str_field(r, "resource")?, account)
        }
        None => ("*".to_string(), None),
        Some(_) => return Err(fail("`resource` must be an object or a string".into())),
    };
    let mut context = Context::new();
    match request.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                match value {
                    Value::String(s) => context.set(key, s.clone()),
                    Value::Array(items) => {
                        let values = items
                            .iter()
                            .map(|v| v.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| {
                                fail(format!("context key `{key}`: values must be strings"))
                            })?;
                        context.set_multi(key, values);
                    }
                    Value::Bool(b) => context.set(key, b.to_string()),
                    Value::Number(n) => context.set(key, n.to_string()),
                    _ => {
                        return Err(fail(format!(
                            "context key `{key}` must be a string or an array of strings"
                        )))
                    }
                }
            }
        }
        Some(_) => return Err(fail("`context` must be an object".into())),
    }
    let request = Request::new(principal, &action, &resource, account.as_deref(), context);

    let one = |v: &Value, label: String| -> Result<CasePolicy, LoadError> {
        let text = serde_json::to_string_pretty(v).map_err(|e| fail(e.to_string()))?;
        let (policy, findings) =
            parse_policy_lenient(&text).map_err(|e| fail(format!("{label} is invalid: {e}")))?;
        Ok(CasePolicy { name: label, policy, findings })
    };
    let list = |key: &str, label: &str| -> Result<Vec<CasePolicy>, LoadError> {
        match item.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, p)| one(p, format!("{label} {}", i + 1)))
                .collect(),
            Some(p @ Value::Object(_)) => Ok(vec![one(p, format!("{label} 1"))?]),
            Some(_) => Err(fail(format!("`{key}` must be an array of policies"))),
        }
    };
    let single = |key: &str, label: &str| -> Result<Option<CasePolicy>, LoadError> {
        match item.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(p) => one(p, label.to_string()).map(Some),
        }
    };
    let levels = |key: &str, label: &str| -> Result<Vec<CaseLevel>, LoadError> {
        let Some(value) = item.get(key).filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
        let Value::Array(levels) = value else {
            return Err(fail(format!("`{key}` must be an array of {{orgIdentifier, policies}}")));
        };
        levels
            .iter()
            .map(|level| {
                let org = str_field(level, "orgIdentifier")?;
                let policies = match level.get("policies") {
                    Some(Value::Array(ps)) => ps
                        .iter()
                        .enumerate()
                        .map(|(i, p)| one(p, format!("{label} {org} {}", i + 1)))
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => return Err(fail(format!("`{key}` levels need a `policies` array"))),
                };
                Ok(CaseLevel { org_identifier: org, policies })
            })
            .collect()
    };
    let expected = match item.get("expected").and_then(|e| e.get("response")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "Allowed" => Decision::Allowed,
            "ExplicitlyDenied" => Decision::ExplicitlyDenied,
            "ImplicitlyDenied" => Decision::ImplicitlyDenied,
            other => return Err(fail(format!("unknown expected response `{other}`"))),
        }),
        Some(_) => return Err(fail("`expected.response` must be a string".into())),
    };
    Ok(Case {
        request,
        identity: list("identityPolicies", "identity policy")?,
        resource: single("resourcePolicy", "resource policy")?,
        boundaries: list("permissionBoundaries", "permissions boundary")?,
        session: single("sessionPolicy", "session policy")?,
        scps: levels("serviceControlPolicies", "SCP")?,
        rcps: levels("resourceControlPolicies", "RCP")?,
        expected,
        name,
    })
}

fn named(list: &[CasePolicy]) -> Vec<NamedPolicy<'_>> {
    list.iter().map(|p| NamedPolicy { name: &p.name, policy: &p.policy }).collect()
}

fn org_levels(levels: &[CaseLevel]) -> Vec<OrgLevel<'_>> {
    levels
        .iter()
        .map(|l| OrgLevel { org_identifier: &l.org_identifier, policies: named(&l.policies) })
        .collect()
}

impl Case {
    /// Evaluates the case.
    pub fn run(&self) -> Evaluation {
        evaluate(&self.request, &self.policy_set())
    }

    /// Every policy of the case, in the order the fields are listed.
    pub fn policies(&self) -> impl Iterator<Item = &CasePolicy> {
        self.identity
            .iter()
            .chain(self.resource.iter())
            .chain(self.boundaries.iter())
            .chain(self.session.iter())
            .chain(self.scps.iter().flat_map(|l| l.policies.iter()))
            .chain(self.rcps.iter().flat_map(|l| l.policies.iter()))
    }

    /// The lenient parse's warnings, one line each, naming the policy.
    pub fn warnings(&self) -> Vec<String> {
        self.policies()
            .flat_map(|p| p.findings.iter().map(move |f| format!("{}: {f}", p.name)))
            .collect()
    }

    /// The case's policies as the evaluator takes them.
    pub fn policy_set(&self) -> PolicySet<'_> {
        PolicySet {
            identity: named(&self.identity),
            resource: self
                .resource
                .as_ref()
                .map(|p| NamedPolicy { name: &p.name, policy: &p.policy }),
            boundaries: named(&self.boundaries),
            session: named(self.session.as_slice()),
            service_control: org_levels(&self.scps),
            resource_control: org_levels(&self.rcps),
        }
    }
}

/// The outcome of running a cases file.
#[derive(Debug, Default)]
pub struct Report {
    /// Printable output, one block per case.
    pub output: String,
    /// Cases whose decision matched the expectation (or that had none, without `--check`).
    pub passed: usize,
    /// Cases that failed to load or, with `check`, whose decision differed.
    pub failed: usize,
    /// One line per failure.
    pub failures: Vec<String>,
}

/// Runs every case of a cases file.
pub fn run_cases(text: &str, check: bool) -> Result<Report, LoadError> {
    let mut report = Report::default();
    for case in load_cases(text)? {
        match case {
            Err(e) => {
                report.output.push_str(&format!("{e}\n"));
                report.failures.push(e.to_string());
                report.failed += 1;
            }
            Ok(case) => {
                let result = case.run();
                report.output.push_str(&format!(
                    "{}: {}",
                    case.name,
                    result.explain(&case.request)
                ));
                for warning in case.warnings() {
                    report.output.push_str(&format!("  warning: {warning}\n"));
                }
                match case.expected {
                    Some(want) if check && want != result.decision => {
                        report.failures.push(format!(
                            "{}: expected {} but got {} ({})",
                            case.name,
                            want.as_str(),
                            result.decision.as_str(),
                            result.reason(&case.request)
                        ));
                        report.failed += 1;
                    }
                    _ => report.passed += 1,
                }
            }
        }
    }
    Ok(report)
}
