//! Questions about one caller under a whole scenario (decision 006, §4.8 and §5): identity
//! policies, permissions boundaries, session policies, a resource policy, SCP and RCP levels,
//! exactly as `policy::evaluate` combines them. The caller is given; the request context is
//! symbolic, and so is the resource when a pattern is asked about.
//!
//! - `can-access`: [`decide`] looks for a context (and resource) the scenario allows (or, for
//!   "under every context", one it denies).
//! - `effective`: [`effective`] sorts every action into allowed always, allowed only in some
//!   contexts, or never, and writes the first two as a minimal policy.

use crate::encode::{Query, Unsupported, View};
use crate::ir::{Formula, Re};
use crate::principal::Kind;
use crate::{Answer, Sat, Solver, Witness};
use policy::pattern::Glob;
use policy::{Effect, Policy, PolicySet, Principal, PrincipalType, Request};

/// The kind of caller a principal is, as the resource view models it.
fn kind_of(p: &Principal) -> Result<Kind, Unsupported> {
    Ok(match p.kind {
        PrincipalType::User => Kind::User,
        PrincipalType::AssumedRole => Kind::AssumedRole,
        PrincipalType::FederatedUser => Kind::FederatedUser,
        PrincipalType::Root => Kind::Root,
        PrincipalType::Service => Kind::Service,
        PrincipalType::WebIdentity => Kind::WebIdentity,
        PrincipalType::Anonymous => Kind::Anonymous,
        PrincipalType::Role => return Err(Unsupported("a role acting without a session".into())),
    })
}

fn policies<'a>(set: &'a PolicySet<'a>) -> Vec<&'a Policy> {
    let mut out: Vec<&Policy> = Vec::new();
    out.extend(set.identity.iter().map(|n| n.policy));
    out.extend(set.resource.iter().map(|n| n.policy));
    out.extend(set.boundaries.iter().map(|n| n.policy));
    out.extend(set.session.iter().map(|n| n.policy));
    for level in set.service_control.iter().chain(&set.resource_control) {
        out.extend(level.policies.iter().map(|n| n.policy));
    }
    out
}

/// The caller, the scenario and the question's vocabulary.
struct Setup<'a> {
    query: Query,
    kind: Kind,
    principal: &'a Principal,
    owner: String,
    set: &'a PolicySet<'a>,
}

impl<'a> Setup<'a> {
    fn new(
        set: &'a PolicySet<'a>,
        principal: &'a Principal,
        owner: &str,
        extra: &[Glob],
    ) -> Result<Setup<'a>, Unsupported> {
        let kind = kind_of(principal)?;
        if principal.partition != "aws" {
            return Err(Unsupported(format!(
                "a caller in the `{}` partition",
                principal.partition
            )));
        }
        let view = View::Caller { owner: owner.to_string(), principal: principal.clone() };
        // RCPs apply only to the services they cover: split the classes by those services.
        let mut extra = extra.to_vec();
        if !set.resource_control.is_empty() {
            extra.extend(rcp_globs());
        }
        let query = Query::new(&policies(set), &extra, view)?;
        Ok(Setup { query, kind, principal, owner: owner.to_string(), set })
    }

    /// The caller's variables pinned to the given principal.
    fn caller(&self) -> Formula {
        let q = &self.query;
        let p = self.principal;
        match self.kind {
            Kind::Anonymous => Formula::True,
            Kind::AssumedRole => Formula::and(vec![
                Formula::In(q.principal, Re::Lit(p.role_arn.clone().unwrap_or_default())),
                Formula::In(q.session, Re::Lit(p.name.clone().unwrap_or_default())),
            ]),
            _ => Formula::In(q.principal, Re::Lit(p.arn.clone())),
        }
    }

    /// When the scenario allows the request (decision 006, §4.8), with AWS's own rules
    /// (`policy::aws_rules`): an action that needs no permission is allowed to an
    /// authenticated caller before any policy, a change to an AWS-owned resource is refused
    /// after the explicit denies, and RCPs bind only the services they cover.
    fn allowed(&self) -> Result<Formula, Unsupported> {
        let q = &self.query;
        let set = self.set;
        let kind = Some(self.kind);
        let iam = self.principal.has_identity_policies();
        let root = self.principal.kind == PrincipalType::Root;
        let bounded = iam && !root && !set.boundaries.is_empty();
        // The actions RCPs cover (their classes, split by `rcp_globs` in `Setup::new`).
        let mut rcp_classes: Vec<usize> = Vec::new();
        for g in rcp_globs() {
            for c in q.actions.matching(&g) {
                if !rcp_classes.contains(&c) {
                    rcp_classes.push(c);
                }
            }
        }
        let rcp_scope = Formula::ActionIn(rcp_classes);
        let mut deny = Vec::new();
        // Allows of a list of policies, denies (for actions in `scope`) collected.
        let mut run = |list: &[&Policy],
                       resource_side: bool,
                       scope: &Formula|
         -> Result<Vec<crate::encode::Applies>, Unsupported> {
            let mut allows = Vec::new();
            for p in list {
                for s in &p.statements {
                    let a = q.statement_in(s, kind, resource_side, bounded)?;
                    match s.effect {
                        Effect::Deny => deny.push(Formula::and(vec![
                            scope.clone(),
                            Formula::or(vec![a.matched, a.failed]),
                        ])),
                        Effect::Allow => allows.push(a),
                    }
                }
            }
            Ok(allows)
        };
        let any = |allows: &[crate::encode::Applies]| {
            Formula::or(allows.iter().map(|a| a.matched.clone()).collect())
        };
        let always = Formula::True;
        let mut scp_ok = Vec::new();
        if iam && !set.service_control.is_empty() {
            for level in &set.service_control {
                let list: Vec<&Policy> = level.policies.iter().map(|n| n.policy).collect();
                scp_ok.push(any(&run(&list, false, &always)?));
            }
        }
        // Outside the services RCPs cover, a level need not allow (and its denies are void).
        let mut rcp_ok = Vec::new();
        for level in &set.resource_control {
            let list: Vec<&Policy> = level.policies.iter().map(|n| n.policy).collect();
            let level_ok = any(&run(&list, true, &rcp_scope)?);
            rcp_ok.push(Formula::or(vec![rcp_scope.clone().negate(), level_ok]));
        }
        let resource_allows = match &set.resource {
            Some(n) => run(&[n.policy], true, &always)?,
            None => Vec::new(),
        };
        let (mut identity_ok, mut boundary_ok, mut session_ok) =
            (Formula::from(root), Vec::new(), Vec::new());
        if iam && !root {
            let list: Vec<&Policy> = set.identity.iter().map(|n| n.policy).collect();
            identity_ok = any(&run(&list, false, &always)?);
            for b in &set.boundaries {
                boundary_ok.push(any(&run(&[b.policy], false, &always)?));
            }
            for s in &set.session {
                session_ok.push(any(&run(&[s.policy], false, &always)?));
            }
        }
        let level = |pick: fn(&crate::encode::Applies) -> Formula| {
            Formula::or(
                resource_allows
                    .iter()
                    .map(|a| Formula::and(vec![a.matched.clone(), pick(a)]))
                    .collect(),
            )
        };
        let d = level(|a| a.direct.clone());
        let r = level(|a| a.role.clone());
        let acct = level(|a| a.account.clone());
        let named = Formula::or(vec![d.clone(), r.clone(), acct]);
        let b_ok = Formula::and(boundary_ok);
        let s_ok = Formula::and(session_ok);
        let path = Formula::and(vec![Formula::from(iam), identity_ok, b_ok.clone(), s_ok.clone()]);
        let same = self.principal.account.as_deref() == Some(self.owner.as_str());
        let grant = if !iam {
            d
        } else if same {
            Formula::or(vec![
                d.clone(),
                Formula::and(vec![r.clone(), b_ok, s_ok]),
                Formula::and(vec![
                    d.negate(),
                    r.negate(),
                    Formula::and(vec![q.must_resource_allow(), named.clone().negate()]).negate(),
                    path.clone(),
                ]),
            ])
        } else {
            Formula::and(vec![path, named])
        };
        let by_policies = Formula::and(vec![
            Formula::or(deny).negate(),
            q.aws_owned().negate(),
            Formula::and(scp_ok),
            Formula::and(rcp_ok),
            grant,
        ]);
        let free = if iam { q.no_permission_needed() } else { Formula::False };
        Ok(Formula::or(vec![free, by_policies]))
    }

    /// Looks for a request (action in `actions`, resource in `resource`) the scenario allows
    /// (`allowed`) or does not, replayed through the evaluator with the scenario itself.
    fn find(
        &self,
        actions: &[usize],
        resource: &Re,
        allowed: bool,
        solver: &mut dyn Solver,
    ) -> Answer {
        let q = &self.query;
        let decision = match self.allowed() {
            Ok(f) => f,
            Err(Unsupported(why)) => return Answer::Unknown(why),
        };
        let formula = Formula::and(vec![
            q.space(Some(self.kind)),
            self.caller(),
            Formula::ActionIn(actions.to_vec()),
            Formula::In(q.resource, resource.clone()),
            if allowed { decision } else { decision.negate() },
        ]);
        match solver.check(&formula, &q.vars, q.actions.classes.len()) {
            Sat::No => Answer::No,
            Sat::Unknown(why) => Answer::Unknown(why),
            Sat::Yes(model) => {
                let Some(mut w) = q.decode(&model, Some(self.kind)) else {
                    return Answer::Bug(format!(
                        "action class {} out of range",
                        model.action_class
                    ));
                };
                w.principal = self.principal.arn.clone();
                let request = Request::new(
                    self.principal.clone(),
                    &w.action,
                    &w.resource,
                    Some(&self.owner),
                    w.context(),
                );
                let got =
                    policy::evaluate(&request, self.set).decision == policy::Decision::Allowed;
                if got == allowed {
                    Answer::Yes(w)
                } else {
                    Answer::Bug(format!(
                        "the witness {w:?} does not replay: the evaluator says allowed = {got}, the formula {allowed}"
                    ))
                }
            }
        }
    }
}

/// One pattern per service resource control policies cover (`svc:*`).
fn rcp_globs() -> impl Iterator<Item = Glob> {
    policy::aws_rules::RCP_SERVICES.iter().map(|s| Glob::new(&format!("{s}:*"), true))
}

/// The resource account of a request: `owner` if given, else the account in the resource ARN,
/// else the caller's (as `Request::new` defaults it).
fn owner_for(principal: &Principal, resource: &str, owner: Option<&str>) -> String {
    owner
        .or_else(|| policy::request::account_in_arn(resource))
        .map(str::to_string)
        .or_else(|| principal.account.clone())
        .unwrap_or_else(|| crate::ACCOUNT.to_string())
}

/// `can-access`: a context in which the scenario allows (`allowed`) — or denies — `principal`
/// doing `action` on `resource` (a resource ARN, or an ARN pattern for "some resource").
pub fn decide(
    set: &PolicySet<'_>,
    principal: &Principal,
    action: &str,
    resource: &str,
    owner: Option<&str>,
    allowed: bool,
    solver: &mut dyn Solver,
) -> Answer {
    let owner = owner_for(principal, resource, owner);
    let glob = Glob::new(&action.to_lowercase(), false);
    let setup = match Setup::new(set, principal, &owner, std::slice::from_ref(&glob)) {
        Ok(s) => s,
        Err(Unsupported(why)) => return Answer::Unknown(why),
    };
    let classes = setup.query.actions.matching(&glob);
    let resource = crate::encode::resource_re(&Glob::new(resource, true));
    setup.find(&classes, &resource, allowed, solver)
}

/// What a caller can do on resources matching a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    /// Allowed under every context, for every matching resource.
    pub always: Vec<String>,
    /// Allowed for some context or resource only, each with a witness.
    pub sometimes: Vec<(Vec<String>, Witness)>,
}

impl Effective {
    /// The result as a policy document: an `Always` statement and a `Conditional` one.
    pub fn policy(&self, resource: &str) -> serde_json::Value {
        let mut statements = Vec::new();
        if !self.always.is_empty() {
            statements.push(serde_json::json!({
                "Sid": "Always", "Effect": "Allow", "Action": compress(&self.always), "Resource": resource,
            }));
        }
        let sometimes: Vec<String> =
            self.sometimes.iter().flat_map(|(a, _)| a.iter().cloned()).collect();
        if !sometimes.is_empty() {
            statements.push(serde_json::json!({
                "Sid": "Conditional", "Effect": "Allow", "Action": compress(&sometimes), "Resource": resource,
            }));
        }
        serde_json::json!({ "Version": "2012-10-17", "Statement": statements })
    }
}

/// Actions written compactly: a service's whole catalog as `svc:*`.
fn compress(actions: &[String]) -> Vec<String> {
    let mut by_service: std::collections::BTreeMap<&str, Vec<&String>> = Default::default();
    for a in actions {
        by_service.entry(a.split(':').next().unwrap_or_default()).or_default().push(a);
    }
    let mut out = Vec::new();
    for (service, list) in by_service {
        let catalog = policy::catalog::catalog()
            .service(service)
            .map(|s| s.actions().count())
            .unwrap_or(usize::MAX);
        if list.len() >= catalog {
            out.push(format!("{service}:*"));
        } else {
            out.extend(list.into_iter().cloned());
        }
    }
    out
}

/// `effective`: every action `principal` may perform on resources matching `pattern` under
/// the scenario, sorted into always and sometimes.
pub fn effective(
    set: &PolicySet<'_>,
    principal: &Principal,
    pattern: &str,
    owner: Option<&str>,
    solver: &mut dyn Solver,
) -> Result<Effective, String> {
    let owner = owner_for(principal, pattern, owner);
    let setup = Setup::new(set, principal, &owner, &[]).map_err(|Unsupported(why)| why)?;
    let resource = crate::encode::resource_re(&Glob::new(pattern, true));
    let mut out = Effective { always: Vec::new(), sometimes: Vec::new() };
    for class in 0..setup.query.actions.classes.len() {
        let witness = match setup.find(&[class], &resource, true, solver) {
            Answer::No => continue,
            Answer::Yes(w) => w,
            Answer::Unknown(why) => return Err(why),
            Answer::Bug(why) => return Err(format!("bug: {why}")),
        };
        let members = setup.query.actions.members(class);
        match setup.find(&[class], &resource, false, solver) {
            Answer::No => out.always.extend(members),
            Answer::Yes(_) => out.sometimes.push((members, witness)),
            Answer::Unknown(why) => return Err(why),
            Answer::Bug(why) => return Err(format!("bug: {why}")),
        }
    }
    out.always.sort();
    Ok(out)
}
