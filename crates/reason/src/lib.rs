//! Automated reasoning over IAM policies (issue 7; design in docs/decisions/006): policies are
//! encoded as formulas over a symbolic request, a [`Solver`] (Z3) decides them, and every
//! satisfying model is decoded into a concrete request and **replayed through
//! `policy::evaluate`** before it is reported. A model that does not replay is reported as a
//! bug, never as a finding.
//!
//! Questions about identity policies are answered in the identity view (an IAM user of one
//! account, with any name, acting on its own account's resources, with any request context);
//! constructs not encoded yet are answered [`Answer::Unknown`] with the reason.

pub mod encode;
pub mod ir;
pub mod solver;

use encode::{Query, Unsupported};
use ir::Formula;
use policy::pattern::Glob;
use policy::{Decision, NamedPolicy, Policy, PolicySet, Principal, Request};
pub use solver::{Sat, Solver, Z3};

/// The account of the identity view.
pub const ACCOUNT: &str = "111122223333";

/// A concrete request that shows an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// Context keys (lowercase) with their values, and whether the key is multivalued.
    pub context: Vec<(String, Vec<String>, bool)>,
}

impl Witness {
    /// The request context.
    pub fn context(&self) -> policy::Context {
        let mut context = policy::Context::new();
        for (key, values, multi) in &self.context {
            if *multi {
                context.set_multi(key, values.clone());
            } else if let Some(v) = values.first() {
                context.set(key, v.clone());
            }
        }
        context
    }

    /// One line: who does what on which resource, and with which context.
    pub fn describe(&self) -> String {
        let mut out = format!("{} may {} on {}", self.principal, self.action, self.resource);
        for (i, (key, values, multi)) in self.context.iter().enumerate() {
            out.push_str(if i == 0 { " with " } else { ", " });
            if *multi {
                out.push_str(&format!("{key} = {values:?}"));
            } else {
                out.push_str(&format!("{key} = {:?}", values.first().map_or("", String::as_str)));
            }
        }
        out
    }
}

/// An answer: yes (with a witness that replayed), no (proved), unknown (with the reason), or a
/// bug (a model that did not replay: an encoder defect, reported as such).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Yes(Witness),
    No,
    Unknown(String),
    Bug(String),
}

/// How two policies compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// Something `a` allows and `b` does not.
    pub a_not_b: Answer,
    /// Something `b` allows and `a` does not.
    pub b_not_a: Answer,
}

/// The verdict of a [`Comparison`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Equivalent,
    MorePermissive,
    LessPermissive,
    Incomparable,
    Unknown,
}

impl Comparison {
    /// `a` compared with `b`.
    pub fn verdict(&self) -> Verdict {
        match (&self.a_not_b, &self.b_not_a) {
            (Answer::No, Answer::No) => Verdict::Equivalent,
            (Answer::Yes(_), Answer::No) => Verdict::MorePermissive,
            (Answer::No, Answer::Yes(_)) => Verdict::LessPermissive,
            (Answer::Yes(_), Answer::Yes(_)) => Verdict::Incomparable,
            _ => Verdict::Unknown,
        }
    }
}

/// Compares two identity policies: is there a request one allows and the other does not, in
/// each direction?
pub fn compare(a: &Policy, b: &Policy, solver: &mut dyn Solver) -> Comparison {
    let query = match Query::new(&[a, b], &[]) {
        Ok(q) => q,
        Err(Unsupported(why)) => {
            return Comparison {
                a_not_b: Answer::Unknown(why.clone()),
                b_not_a: Answer::Unknown(why),
            }
        }
    };
    let one_way = |x: &Policy, y: &Policy, solver: &mut dyn Solver| -> Answer {
        let formula = match (query.allows(x), query.allows(y)) {
            (Ok(fx), Ok(fy)) => Formula::and(vec![fx, fy.negate()]),
            (Err(Unsupported(why)), _) | (_, Err(Unsupported(why))) => return Answer::Unknown(why),
        };
        solve(solver, &formula, &query, &[(x, true), (y, false)])
    };
    Comparison { a_not_b: one_way(a, b, solver), b_not_a: one_way(b, a, solver) }
}

/// Whether `p` allows any request whose action matches one of `actions` and whose resource
/// matches one of `resources` (IAM patterns; an empty list means any). Access Analyzer's
/// CheckAccessNotGranted fails exactly when this is yes.
pub fn grants(p: &Policy, actions: &[&str], resources: &[&str], solver: &mut dyn Solver) -> Answer {
    let action_globs: Vec<Glob> =
        actions.iter().map(|a| Glob::new(&a.to_lowercase(), true)).collect();
    let resource_globs: Vec<Glob> = resources.iter().map(|r| Glob::new(r, true)).collect();
    let query = match Query::new(&[p], &action_globs) {
        Ok(q) => q,
        Err(Unsupported(why)) => return Answer::Unknown(why),
    };
    let allowed = match query.allows(p) {
        Ok(f) => f,
        Err(Unsupported(why)) => return Answer::Unknown(why),
    };
    let action_in = if action_globs.is_empty() {
        Formula::True
    } else {
        let mut all = Vec::new();
        for g in &action_globs {
            for c in query.actions.matching(g) {
                if !all.contains(&c) {
                    all.push(c);
                }
            }
        }
        Formula::ActionIn(all)
    };
    let resource_in = if resource_globs.is_empty() {
        Formula::True
    } else {
        Formula::or(
            resource_globs
                .iter()
                .map(|g| Formula::In(query.resource, encode::resource_re(g)))
                .collect(),
        )
    };
    let formula = Formula::and(vec![allowed, action_in, resource_in]);
    solve(solver, &formula, &query, &[(p, true)])
}

/// Solves `formula` within the request space and replays a model against `expected`: each
/// policy's identity-view decision must be `Allowed` exactly when its flag says so.
fn solve(
    solver: &mut dyn Solver,
    formula: &Formula,
    query: &Query,
    expected: &[(&Policy, bool)],
) -> Answer {
    let full = Formula::and(vec![query.space(), formula.clone()]);
    match solver.check(&full, &query.vars, query.actions.classes.len()) {
        Sat::No => Answer::No,
        Sat::Unknown(why) => Answer::Unknown(why),
        Sat::Yes(model) => {
            let Some(witness) = query.decode(&model) else {
                return Answer::Bug(format!("action class {} out of range", model.action_class));
            };
            for (p, allowed) in expected {
                match identity_view_allows(p, &witness) {
                    Ok(got) if got == *allowed => {}
                    Ok(got) => {
                        return Answer::Bug(format!(
                            "the witness {witness:?} does not replay: the evaluator says allowed = {got}, the formula {allowed}"
                        ))
                    }
                    Err(e) => return Answer::Bug(e),
                }
            }
            Answer::Yes(witness)
        }
    }
}

/// The `Allow` statements of `p` (index and `Sid`) that let the witness through in the
/// identity view: the reasons a check names.
pub fn allowing_statements(p: &Policy, witness: &Witness) -> Vec<(usize, Option<String>)> {
    identity_view(p, witness)
        .map(|evaluation| {
            evaluation
                .statements
                .iter()
                .filter(|s| s.policy == "policy" && s.effect == policy::Effect::Allow)
                .map(|s| (s.index, s.sid.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The evaluator's decision for `witness` with `p` as the principal's only identity policy and
/// a resource policy that delegates to the account (so the identity policy decides).
pub fn identity_view_allows(p: &Policy, witness: &Witness) -> Result<bool, String> {
    identity_view(p, witness).map(|evaluation| evaluation.decision == Decision::Allowed)
}

fn identity_view(p: &Policy, witness: &Witness) -> Result<policy::Evaluation, String> {
    let delegate = policy::parse_policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"*","Resource":"*"}}]}}"#
    ))
    .map_err(|e| format!("the delegation policy does not parse: {e:?}"))?;
    let principal = Principal::parse(&witness.principal)
        .map_err(|_| format!("the witness principal {} does not parse", witness.principal))?;
    let request = Request::new(
        principal,
        &witness.action,
        &witness.resource,
        Some(ACCOUNT),
        witness.context(),
    );
    let set = PolicySet {
        identity: vec![NamedPolicy { name: "policy", policy: p }],
        resource: Some(NamedPolicy { name: "delegation", policy: &delegate }),
        ..PolicySet::default()
    };
    Ok(policy::evaluate(&request, &set))
}
