//! `SimulatePrincipalPolicy` and `SimulateCustomPolicy`, answered by the same engine that
//! authorizes requests: each action × resource is evaluated and reported with the statements
//! that decided it and the condition keys the policies wanted but the context lacked.

use crate::error::ApiError;
use crate::pipeline::authorize::{load_entity, named, Loaded};
use crate::protocol::xml::{self, Xml};
use crate::services::iam::input::Input;
use crate::services::iam::required;
use crate::services::iam::IamOperation::{self, self as Op};
use policy::{Decision, PolicyType};

/// Most actions or resources one simulation takes (AWS's bounds on the input lists).
const MAX_ITEMS: usize = 1000;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::sender(400, "InvalidInput", message)
}

/// `ContextEntries`: each a key, its type and its values.
fn context_entries(input: &Input) -> Result<policy::Context, ApiError> {
    let mut context = policy::Context::new();
    let entries = match input {
        Input::SimulatePrincipalPolicy(i) => i.context_entries.as_slice(),
        Input::SimulateCustomPolicy(i) => i.context_entries.as_slice(),
        _ => &[],
    };
    for entry in entries {
        let Some(name) = entry.context_key_name.as_deref() else { continue };
        let kind = entry.context_key_type.as_deref().unwrap_or("string");
        const KINDS: &[&str] = &[
            "string",
            "stringList",
            "numeric",
            "numericList",
            "boolean",
            "booleanList",
            "ip",
            "ipList",
            "binary",
            "binaryList",
            "date",
            "dateList",
        ];
        if !KINDS.contains(&kind) {
            return Err(invalid(format!("ContextKeyType {kind} is not a valid type")));
        }
        let values = entry.context_key_values.clone();
        if kind.ends_with("List") {
            context.set_multi(name, values);
        } else {
            let [value] = values.as_slice() else {
                return Err(invalid(format!("context key {name} of type {kind} takes one value")));
            };
            context.set(name, value.clone());
        }
    }
    Ok(context)
}

fn parse(name: &str, document: &str) -> Result<(String, policy::Policy), ApiError> {
    policy::parse_policy(document).map(|p| (name.to_string(), p)).map_err(|e| {
        ApiError::sender(
            400,
            "MalformedPolicyDocument",
            format!("{name}: {}", e.0.first().map_or_else(String::new, ToString::to_string)),
        )
    })
}

/// AWS's `SourcePolicyType` for a statement the engine reports.
fn source_type(policy_type: PolicyType, name: &str, entity_kind: &str) -> &'static str {
    match policy_type {
        PolicyType::Resource => "resource",
        PolicyType::Identity if name.starts_with("arn:aws:iam::aws:policy/") => "aws-managed",
        PolicyType::Identity if name.starts_with("arn:") => "user-managed",
        PolicyType::Identity if name.starts_with("group ") => "group",
        PolicyType::Identity if name.starts_with("PolicyInputList.") => "none",
        PolicyType::Identity => match entity_kind {
            "user" => "user",
            "role" => "role",
            "group" => "group",
            _ => "none",
        },
        _ => "none",
    }
}

/// The condition keys of statements that apply to `action` which `context` does not have.
fn missing_keys(
    policies: &[&(String, policy::Policy)],
    action: &str,
    context: &policy::Context,
) -> Vec<String> {
    let action = action.to_lowercase();
    let mut out: Vec<String> = Vec::new();
    for (_, p) in policies {
        for s in &p.statements {
            let listed = s.action.actions.iter().any(|a| a.pattern.to_lowercase().matches(&action));
            if listed == s.action.negated {
                continue;
            }
            for c in &s.conditions {
                if context.get(&c.key_lower).is_none() && !out.contains(&c.key) {
                    out.push(c.key.clone());
                }
            }
        }
    }
    out
}

/// Everything one simulation evaluates.
struct Simulation {
    principal_arn: String,
    entity_kind: &'static str,
    account: String,
    identity: Vec<(String, policy::Policy)>,
    boundaries: Vec<(String, policy::Policy)>,
    resource_policy: Option<(String, policy::Policy)>,
    resource_owner: Option<String>,
}

fn run(sim: &Simulation, input: &Input) -> Result<Xml, ApiError> {
    let actions = input.list("ActionNames").to_vec();
    if actions.is_empty() || actions.len() > MAX_ITEMS {
        return Err(invalid("ActionNames must list 1 to 1000 actions"));
    }
    let mut resources = input.list("ResourceArns").to_vec();
    if resources.len() > MAX_ITEMS {
        return Err(invalid("ResourceArns may list at most 1000 resources"));
    }
    if resources.is_empty() {
        resources.push("*".into());
    }
    let context = context_entries(input)?;
    let principal = policy::Principal::parse(&sim.principal_arn)
        .map_err(|_| invalid(format!("{} is not a principal ARN", sim.principal_arn)))?;
    let set = policy::PolicySet {
        identity: sim.identity.iter().map(named).collect(),
        boundaries: sim.boundaries.iter().map(named).collect(),
        resource: sim.resource_policy.as_ref().map(named),
        ..policy::PolicySet::default()
    };
    let all: Vec<&(String, policy::Policy)> = sim
        .identity
        .iter()
        .chain(sim.boundaries.iter())
        .chain(sim.resource_policy.iter())
        .collect();
    // Pagination over the (action, resource) pairs.
    let pairs: Vec<(&String, &String)> =
        actions.iter().flat_map(|a| resources.iter().map(move |r| (a, r))).collect();
    let (start, limit) = crate::services::iam::page_window(input)?;
    // Only the requested page is evaluated; `paged` cuts the same window.
    let mut out = vec![Xml::default(); pairs.len()];
    for (slot, (action_name, resource)) in out.iter_mut().zip(pairs.iter()).skip(start).take(limit)
    {
        let owner = sim.resource_owner.clone().unwrap_or_else(|| sim.account.clone());
        let request = policy::Request::new(
            principal.clone(),
            action_name,
            resource,
            Some(owner.as_str()),
            context.clone(),
        );
        let evaluation = policy::evaluate(&request, &set);
        let decision = match evaluation.decision {
            Decision::Allowed => "allowed",
            Decision::ExplicitlyDenied => "explicitDeny",
            Decision::ImplicitlyDenied => "implicitDeny",
        };
        let missing = missing_keys(&all, action_name, &request.context);
        let boundary = (!sim.boundaries.is_empty()).then(|| {
            evaluation.missing_allow != Some(PolicyType::PermissionsBoundary)
                && !evaluation
                    .statements
                    .iter()
                    .any(|s| s.policy_type == PolicyType::PermissionsBoundary)
        });
        *slot = xml::build(|w| {
            w.elem("member", |w| {
                w.text("EvalActionName", action_name)
                    .text("EvalResourceName", resource)
                    .text("EvalDecision", decision);
                w.elem("MatchedStatements", |w| {
                    for s in &evaluation.statements {
                        let position = all
                            .iter()
                            .find(|(n, _)| *n == s.policy)
                            .and_then(|(_, p)| p.statements.get(s.index));
                        w.elem("member", |w| {
                            w.text("SourcePolicyId", &s.policy).text(
                                "SourcePolicyType",
                                source_type(s.policy_type, &s.policy, sim.entity_kind),
                            );
                            if let Some(st) = position {
                                w.elem("StartPosition", |w| {
                                    w.value("Line", st.location.pos.line)
                                        .value("Column", st.location.pos.column);
                                });
                            }
                        });
                    }
                });
                w.elem("MissingContextValues", |w| {
                    for k in &missing {
                        w.text("member", k);
                    }
                });
                if let Some(allowed) = boundary {
                    w.elem("PermissionsBoundaryDecisionDetail", |w| {
                        w.value("AllowedByPermissionsBoundary", allowed);
                    });
                }
            });
        });
    }
    crate::services::iam::paged(input, "EvaluationResults", out)
}

fn input_policies(input: &Input, list: &str) -> Result<Vec<(String, policy::Policy)>, ApiError> {
    input
        .list(list)
        .iter()
        .enumerate()
        .map(|(i, doc)| parse(&format!("{list}.{}", i + 1), doc))
        .collect()
}

/// Runs a simulation; the result is the response body up to (not including) the response
/// metadata, which `iam::handle` adds.
pub fn handle(
    operation: IamOperation,
    tx: &mut dyn store::ReadTx,
    account: &str,
    input: &Input,
) -> Result<Xml, ApiError> {
    let mut go = || -> Result<Xml, ApiError> {
        let resource_policy = match input.text("ResourcePolicy") {
            Some(d) => Some(parse("ResourcePolicy", d)?),
            None => None,
        };
        let resource_owner = input.text("ResourceOwner").map(|o| {
            o.strip_prefix("arn:aws:iam::")
                .and_then(|r| r.split(':').next())
                .unwrap_or(o)
                .to_string()
        });
        let mut boundaries = input_policies(input, "PermissionsBoundaryPolicyInputList")?;
        let sim = if operation == Op::SimulatePrincipalPolicy {
            let source = required(input, "PolicySourceArn")?;
            let prefix = format!("arn:aws:iam::{account}:");
            let rest = source.strip_prefix(&prefix).ok_or_else(|| {
                ApiError::sender(
                    404,
                    "NoSuchEntity",
                    format!("The entity {source} cannot be found."),
                )
            })?;
            let (kind, path_and_name) = rest
                .split_once('/')
                .ok_or_else(|| invalid(format!("{source} is not a user, group or role ARN")))?;
            let kind: &'static str = match kind {
                "user" => "user",
                "role" => "role",
                "group" => "group",
                _ => return Err(invalid(format!("{source} is not a user, group or role ARN"))),
            };
            let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
            if tx.get_record(account, kind, name)?.is_none() {
                return Err(ApiError::sender(
                    404,
                    "NoSuchEntity",
                    format!("The {kind} with name {name} cannot be found."),
                ));
            }
            let Loaded { identity, boundary, .. } = load_entity(tx, account, kind, name)?;
            let excluded = input.list("PolicyExclusionList").to_vec();
            let mut parsed: Vec<(String, policy::Policy)> = identity
                .iter()
                .filter(|(n, _)| !excluded.contains(n))
                .map(|(n, d)| parse(n, d))
                .collect::<Result<_, _>>()?;
            parsed.extend(input_policies(input, "PolicyInputList")?);
            if boundaries.is_empty() {
                if let Some((arn, doc)) = boundary {
                    boundaries.push(parse(&arn, &doc)?);
                }
            }
            let principal_arn = match input.text("CallerArn") {
                Some(c) => c.to_string(),
                // A group is simulated as a member of it.
                None if kind == "group" => format!("arn:aws:iam::{account}:user/{name}-member"),
                None => source.to_string(),
            };
            Simulation {
                principal_arn,
                entity_kind: kind,
                account: account.to_string(),
                identity: parsed,
                boundaries,
                resource_policy,
                resource_owner,
            }
        } else {
            let identity = input_policies(input, "PolicyInputList")?;
            if identity.is_empty() {
                return Err(invalid("PolicyInputList must hold at least one policy"));
            }
            Simulation {
                principal_arn: input
                    .text("CallerArn")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("arn:aws:iam::{account}:user/SimulatedUser")),
                entity_kind: "none",
                account: account.to_string(),
                identity,
                boundaries,
                resource_policy,
                resource_owner,
            }
        };
        run(&sim, input)
    };
    match operation {
        Op::SimulatePrincipalPolicy | Op::SimulateCustomPolicy => go(),
        Op::GetContextKeysForCustomPolicy | Op::GetContextKeysForPrincipalPolicy => {
            context_keys(operation, tx, account, input)
        }
        _ => Err(ApiError::internal("not a simulation")),
    }
}

/// `GetContextKeysFor*Policy`: every condition key the policies use, once each (compared
/// without case, as keys are), in the order they first appear.
fn context_keys(
    operation: IamOperation,
    tx: &mut dyn store::ReadTx,
    account: &str,
    input: &Input,
) -> Result<Xml, ApiError> {
    let mut policies = Vec::new();
    if operation == Op::GetContextKeysForPrincipalPolicy {
        let source = required(input, "PolicySourceArn")?;
        let missing = || {
            ApiError::sender(404, "NoSuchEntity", format!("The entity {source} cannot be found."))
        };
        let rest = source.strip_prefix(&format!("arn:aws:iam::{account}:")).ok_or_else(missing)?;
        let (kind, path_and_name) = rest.split_once('/').ok_or_else(missing)?;
        let kind =
            ["user", "role", "group"].into_iter().find(|k| *k == kind).ok_or_else(missing)?;
        let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
        if tx.get_record(account, kind, name)?.is_none() {
            return Err(missing());
        }
        let Loaded { identity, .. } = load_entity(tx, account, kind, name)?;
        for (n, d) in &identity {
            policies.push(parse(n, d)?);
        }
    }
    policies.extend(input_policies(input, "PolicyInputList")?);
    let mut keys: Vec<String> = Vec::new();
    for (_, p) in &policies {
        for statement in &p.statements {
            for c in &statement.conditions {
                if !keys.iter().any(|k| k.eq_ignore_ascii_case(&c.key)) {
                    keys.push(c.key.clone());
                }
            }
        }
    }
    Ok(xml::build(|w| {
        w.elem("ContextKeyNames", |w| {
            for k in &keys {
                w.text("member", k);
            }
        });
    }))
}
