//! `hermetic analyze`: questions the `reason` crate answers about policy files, for people
//! (text) and for CI gates (`--json`, exit codes: 0 answered or PASS, 1 FAIL, 3 unknown,
//! 4 a witness that did not replay, 2 bad input).

use reason::{Answer, Comparison, Verdict, Z3};
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

/// The exit code an unanswered comparison direction forces, if any.
fn trouble(answers: &[&Answer]) -> Option<u8> {
    if answers.iter().any(|a| matches!(a, Answer::Bug(_))) {
        return Some(4);
    }
    answers.iter().any(|a| matches!(a, Answer::Unknown(_))).then_some(3)
}

/// `compare A B`: is A more permissive than B, less, equivalent, or incomparable?
pub fn compare(a: &std::path::Path, b: &std::path::Path) -> Result<Report, String> {
    let (pa, pb) = (read_policy(a)?, read_policy(b)?);
    let c: Comparison = reason::compare(&pa, &pb, &mut Z3::default());
    let verdict = match c.verdict() {
        Verdict::Equivalent => "equivalent",
        Verdict::MorePermissive => "more permissive",
        Verdict::LessPermissive => "less permissive",
        Verdict::Incomparable => "incomparable",
        Verdict::Unknown => "unknown",
    };
    let text = format!(
        "{} is {verdict} than {}\n  allowed by {} only: {}\n  allowed by {} only: {}\n",
        a.display(),
        b.display(),
        a.display(),
        answer_text(&c.a_not_b),
        b.display(),
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
) -> Result<Report, String> {
    let (pn, po) = (read_policy(new)?, read_policy(reference)?);
    let c = reason::compare(&pn, &po, &mut Z3::default());
    Ok(check_report(&c.a_not_b, "the policy grants access the reference does not"))
}

/// `check-access-not-granted POLICY --actions .. --resources ..`: PASS unless the policy
/// allows one of the actions on one of the resources.
pub fn check_access_not_granted(
    path: &std::path::Path,
    actions: &[String],
    resources: &[String],
) -> Result<Report, String> {
    if actions.is_empty() && resources.is_empty() {
        return Err("give --actions, --resources or both".into());
    }
    let p = read_policy(path)?;
    let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
    let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
    let answer = reason::grants(&p, &actions, &resources, &mut Z3::default());
    Ok(check_report(&answer, "the policy grants a listed action on a listed resource"))
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
