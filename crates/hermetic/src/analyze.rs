//! `hermetic analyze`: questions the `reason` crate answers about policy files, for people
//! (text) and for CI gates (`--json`, exit codes: 0 answered or PASS, 1 FAIL, 3 unknown,
//! 4 a witness that did not replay, 2 bad input).

use reason::{Answer, Comparison, Verdict, View, Z3};
use serde_json::{json, Value};

/// An answer for the terminal and its exit code.
#[derive(Debug)]
pub struct Report {
    pub json: Value,
    pub text: String,
    pub code: u8,
}

fn read_policy(path: &std::path::Path) -> Result<policy::Policy, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    policy::parse_policy(&text).map_err(|e| {
        let first = e.0.first().map(|e| e.message.clone()).unwrap_or_default();
        format!("`{}` is not a policy: {first}", path.display())
    })
}

fn answer_json(answer: &Answer) -> Value {
    match answer {
        Answer::Yes(w) => json!({ "answer": "yes", "witness": witness_json(w) }),
        Answer::No => json!({ "answer": "no" }),
        Answer::Unknown(why) => json!({ "answer": "unknown", "reason": why }),
        Answer::Bug(why) => json!({ "answer": "bug", "reason": why }),
    }
}

/// A witness as JSON: the request and its context (multivalued keys as arrays).
fn witness_json(w: &reason::Witness) -> Value {
    let context: serde_json::Map<String, Value> = w
        .context
        .iter()
        .map(|(key, values, multi)| {
            let value = if *multi { json!(values) } else { json!(values.first()) };
            (key.clone(), value)
        })
        .collect();
    json!({ "principal": w.principal, "action": w.action, "resource": w.resource, "context": context })
}

fn answer_text(answer: &Answer) -> String {
    match answer {
        Answer::Yes(w) => format!("yes: {}", w.describe()),
        Answer::No => "no (proved)".into(),
        Answer::Unknown(why) => format!("unknown: {why}"),
        Answer::Bug(why) => format!("BUG (a witness did not replay; please report): {why}"),
    }
}

/// The report of a question that ended unknown (or, with a `bug:` reason, in a replay bug).
fn unanswered(why: &str) -> Report {
    let bug = why.starts_with("bug:");
    Report {
        json: json!({ "answer": if bug { "bug" } else { "unknown" }, "reason": why }),
        text: format!("unknown: {why}\n"),
        code: if bug { 4 } else { 3 },
    }
}

/// The exit code an unanswered comparison direction forces, if any.
fn trouble(answers: &[&Answer]) -> Option<u8> {
    if answers.iter().any(|a| matches!(a, Answer::Bug(_))) {
        return Some(4);
    }
    answers.iter().any(|a| matches!(a, Answer::Unknown(_))).then_some(3)
}

/// Which side a policy is read from: `None` for an identity policy, else a resource policy of
/// a resource in this account (the one its resources name when not given).
fn view(resource: bool, owner: Option<&str>, p: &policy::Policy) -> View {
    if resource {
        View::Resource { owner: owner.map_or_else(|| reason::owner_of(p), str::to_string) }
    } else {
        View::Identity
    }
}

/// `compare A B`: is A more permissive than B, less, equivalent, or incomparable?
pub fn compare(
    a: &std::path::Path,
    b: &std::path::Path,
    resource: bool,
    owner: Option<&str>,
) -> Result<Report, String> {
    let (pa, pb) = (read_policy(a)?, read_policy(b)?);
    let c: Comparison =
        Z3::default().session(|s| reason::compare_in(&view(resource, owner, &pa), &pa, &pb, s));
    let (a_name, b_name) = (a.display(), b.display());
    let (verdict, relation) = match c.verdict() {
        Verdict::Equivalent => ("equivalent", format!("{a_name} and {b_name} are equivalent")),
        Verdict::MorePermissive => {
            ("more permissive", format!("{a_name} is more permissive than {b_name}"))
        }
        Verdict::LessPermissive => {
            ("less permissive", format!("{a_name} is less permissive than {b_name}"))
        }
        Verdict::Incomparable => {
            ("incomparable", format!("{a_name} and {b_name} are incomparable"))
        }
        Verdict::Unknown => ("unknown", format!("how {a_name} relates to {b_name} is unknown")),
    };
    let text = format!(
        "{relation}\n  allowed by {a_name} only: {}\n  allowed by {b_name} only: {}\n",
        answer_text(&c.a_not_b),
        answer_text(&c.b_not_a)
    );
    let json = json!({
        "verdict": verdict,
        "onlyFirst": answer_json(&c.a_not_b),
        "onlySecond": answer_json(&c.b_not_a),
    });
    Ok(Report { json, text, code: trouble(&[&c.a_not_b, &c.b_not_a]).unwrap_or(0) })
}

/// `check-no-new-access NEW --reference OLD`: PASS unless NEW allows something OLD does not.
pub fn check_no_new_access(
    new: &std::path::Path,
    reference: &std::path::Path,
    resource: bool,
    owner: Option<&str>,
) -> Result<Report, String> {
    let (pn, po) = (read_policy(new)?, read_policy(reference)?);
    let c = Z3::default().session(|s| reason::compare_in(&view(resource, owner, &pn), &pn, &po, s));
    Ok(check_report(&c.a_not_b, "the policy grants access the reference does not"))
}

/// `check-access-not-granted POLICY --actions .. --resources ..`: PASS unless the policy
/// allows one of the actions on one of the resources.
pub fn check_access_not_granted(
    path: &std::path::Path,
    actions: &[String],
    resources: &[String],
    resource: bool,
    owner: Option<&str>,
) -> Result<Report, String> {
    if actions.is_empty() && resources.is_empty() {
        return Err("give --actions, --resources or both".into());
    }
    let p = read_policy(path)?;
    let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
    let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
    let answer = Z3::default()
        .session(|s| reason::grants_in(&view(resource, owner, &p), &p, &actions, &resources, s));
    Ok(check_report(&answer, "the policy grants a listed action on a listed resource"))
}

/// `public POLICY`: does the resource policy grant access to anyone (an anonymous caller, or
/// any caller of an account it does not name, with no fixing condition key pinned)?
pub fn public(
    path: &std::path::Path,
    owner: Option<&str>,
    actions: &[String],
    resources: &[String],
) -> Result<Report, String> {
    let p = read_policy(path)?;
    let owner = owner.map_or_else(|| reason::owner_of(&p), str::to_string);
    let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
    let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
    let answer = Z3::default().session(|s| reason::public(&p, &owner, &actions, &resources, s));
    let text = format!("public: {}\n", answer_text(&answer));
    let json = json!({ "public": answer_json(&answer) });
    let code = match answer {
        Answer::Yes(_) | Answer::No => 0,
        Answer::Unknown(_) => 3,
        Answer::Bug(_) => 4,
    };
    Ok(Report { json, text, code })
}

/// `external POLICY`: which callers outside the zone of trust (the owner and `trust`) the
/// resource policy lets in, as Access Analyzer findings.
pub fn external(
    path: &std::path::Path,
    owner: Option<&str>,
    trust: &[String],
) -> Result<Report, String> {
    let p = read_policy(path)?;
    let owner = owner.map_or_else(|| reason::owner_of(&p), str::to_string);
    match Z3::default().session(|s| reason::external::external(&p, &owner, trust, s)) {
        Ok(findings) => {
            let mut text = format!("{} finding(s) for a resource of {owner}\n", findings.len());
            let mut list = Vec::new();
            for f in &findings {
                let condition: serde_json::Map<String, Value> =
                    f.condition.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                text.push_str(&format!(
                    "  {} {}{}: {}{}\n",
                    f.principal.0,
                    f.principal.1,
                    if f.is_public { " (public)" } else { "" },
                    f.actions.join(", "),
                    if f.condition.is_empty() {
                        String::new()
                    } else {
                        format!(" when {}", Value::Object(condition.clone()))
                    }
                ));
                list.push(json!({
                    "principal": { f.principal.0.clone(): f.principal.1 },
                    "isPublic": f.is_public,
                    "action": f.actions,
                    "condition": condition,
                    "witness": witness_json(&f.witness),
                }));
            }
            Ok(Report { json: json!({ "findings": list }), text, code: 0 })
        }
        Err(why) => Ok(unanswered(&why)),
    }
}

/// A scenario file: the keys of a `policy simulate` case without `request` and `expected`
/// (`identityPolicies`, `resourcePolicy`, `permissionBoundaries`, `sessionPolicy`,
/// `serviceControlPolicies`, `resourceControlPolicies`).
fn load_scenario(path: &std::path::Path, principal: &str) -> Result<crate::simulate::Case, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut doc: Value = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not JSON: {e}", path.display()))?;
    let Some(object) = doc.as_object_mut() else {
        return Err(format!("`{}` must hold a JSON object of policies", path.display()));
    };
    object.insert(
        "request".into(),
        json!({ "principal": principal, "action": "x:y", "resource": "*" }),
    );
    let mut cases = crate::simulate::load_cases(&Value::Array(vec![doc]).to_string())
        .map_err(|e| e.to_string())?;
    match cases.pop() {
        Some(case) => case.map_err(|e| e.to_string()),
        None => Err("the scenario is empty".into()),
    }
}

/// `can-access`: can the principal perform the action on the resource under the scenario, in
/// some context (or, with `all`, in every context)?
pub fn can_access(
    scenario: &std::path::Path,
    principal: &str,
    action: &str,
    resource: &str,
    account: Option<&str>,
    all: bool,
) -> Result<Report, String> {
    let case = load_scenario(scenario, principal)?;
    let set = case.policy_set();
    let who = case.request.principal.clone();
    let answer = Z3::default()
        .session(|s| reason::scenario::decide(&set, &who, action, resource, account, !all, s));
    let (verdict, code) = match (&answer, all) {
        (Answer::Yes(_), false) | (Answer::No, true) => ("yes", 0),
        (Answer::No, false) | (Answer::Yes(_), true) => ("no", 1),
        (Answer::Unknown(_), _) => ("unknown", 3),
        (Answer::Bug(_), _) => ("unknown", 4),
    };
    let scope = if all { "under every context" } else { "under some context" };
    let mut text = format!("{verdict} ({scope})\n");
    let mut json = json!({ "answer": verdict, "contexts": if all { "all" } else { "some" } });
    match &answer {
        Answer::Yes(w) => {
            let role = if all { "denied" } else { "allowed" };
            text.push_str(&format!("  {role}, for example: {}\n", w.describe()));
            if let Some(o) = json.as_object_mut() {
                o.insert("witness".into(), witness_json(w));
            }
        }
        Answer::No => text.push_str("  proved\n"),
        Answer::Unknown(why) | Answer::Bug(why) => {
            text.push_str(&format!("  {}\n", answer_text(&answer)));
            if let Some(o) = json.as_object_mut() {
                o.insert("reason".into(), json!(why));
            }
        }
    }
    Ok(Report { json, text, code })
}

/// `effective`: what the principal can do on resources matching the pattern under the
/// scenario, as a minimal policy (allowed always, allowed in some contexts only).
pub fn effective(
    scenario: &std::path::Path,
    principal: &str,
    pattern: &str,
    account: Option<&str>,
) -> Result<Report, String> {
    let case = load_scenario(scenario, principal)?;
    let set = case.policy_set();
    let who = case.request.principal.clone();
    match Z3::default().session(|s| reason::scenario::effective(&set, &who, pattern, account, s)) {
        Ok(e) => {
            let policy = e.policy(pattern);
            let witnesses: Vec<Value> = e
                .sometimes
                .iter()
                .map(|(actions, w)| json!({ "actions": actions, "witness": witness_json(w) }))
                .collect();
            let text = format!(
                "{}\n",
                serde_json::to_string_pretty(&policy).unwrap_or_else(|_| policy.to_string())
            );
            Ok(Report {
                json: json!({ "policy": policy, "conditional": witnesses }),
                text,
                code: 0,
            })
        }
        Err(why) => Ok(unanswered(&why)),
    }
}

/// `check-no-public-access POLICY --resource-type T`: PASS unless the resource policy grants
/// public access to a resource of the type (Access Analyzer's resource types).
pub fn check_no_public_access(
    path: &std::path::Path,
    resource_type: &str,
) -> Result<Report, String> {
    let p = read_policy(path)?;
    let Some((actions, resources)) = reason::resource_type_scope(resource_type) else {
        return Err(format!("resource type `{resource_type}` is not supported"));
    };
    let answer =
        Z3::default().session(|s| reason::public(&p, &reason::owner_of(&p), actions, resources, s));
    Ok(check_report(&answer, "the policy grants public access"))
}

/// PASS when `failure` is proved impossible, FAIL with its witness when it is possible.
fn check_report(failure: &Answer, description: &str) -> Report {
    let (result, code) = match failure {
        Answer::No => ("PASS", 0),
        Answer::Yes(_) => ("FAIL", 1),
        Answer::Unknown(_) => ("UNKNOWN", 3),
        Answer::Bug(_) => ("UNKNOWN", 4),
    };
    let mut text = format!("{result}\n");
    let json = match failure {
        Answer::Yes(w) => {
            text.push_str(&format!("  {description}: {}\n", answer_text(failure)));
            json!({ "result": result, "message": description, "reasons": [{
                "description": description,
                "witness": witness_json(w),
            }] })
        }
        Answer::No => json!({ "result": result, "message": "proved: no request does this" }),
        Answer::Unknown(why) | Answer::Bug(why) => {
            text.push_str(&format!("  {}\n", answer_text(failure)));
            json!({ "result": result, "message": description, "reason": why })
        }
    };
    Report { json, text, code }
}
