//! AWS's policy evaluation logic over every policy type.
//!
//! The order follows the IAM user guide ("Policy evaluation logic"): an explicit deny in any
//! applicable policy wins; then every level of the organization's SCPs must allow (for IAM
//! principals) and every level of its RCPs must allow (for the resource, on the services RCPs
//! cover); then resource-based and identity-based policies decide, bounded by permissions
//! boundaries and session policies, with the same-account and cross-account rules. Two rules
//! of AWS's own come around that ([`crate::aws_rules`]): an action that needs no permission is
//! allowed before any policy is read, and a change to a resource AWS owns is refused right
//! after the explicit-deny step. [`evaluate`] is total: it returns a decision, never an error,
//! and anything it cannot interpret denies.

use crate::ast::{Effect, Policy, PrincipalKind, PrincipalSet, Statement};
use crate::aws_rules::{self, AwsOwned};
use crate::condition::{self, Outcome};
use crate::request::{PrincipalType, Request};

/// The kinds of policy a request is evaluated against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyType {
    /// Service control policies of the principal's organization.
    ServiceControl,
    /// Resource control policies of the resource owner's organization.
    ResourceControl,
    /// Policies attached to the principal (user, role, group).
    Identity,
    /// The policy attached to the resource (bucket policy, key policy, trust policy...).
    Resource,
    /// The principal's permissions boundary.
    PermissionsBoundary,
    /// The policy passed when the session was created.
    Session,
}

impl PolicyType {
    /// The name AWS's `AccessDenied` messages use (`identity-based policy`).
    pub fn phrase(self) -> &'static str {
        match self {
            PolicyType::ServiceControl => "service control policy",
            PolicyType::ResourceControl => "resource control policy",
            PolicyType::Identity => "identity-based policy",
            PolicyType::Resource => "resource-based policy",
            PolicyType::PermissionsBoundary => "permissions boundary",
            PolicyType::Session => "session policy",
        }
    }

    /// The phrase with its article (`an identity-based policy`).
    pub fn with_article(self) -> String {
        let phrase = self.phrase();
        let article = if phrase.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        format!("{article} {phrase}")
    }
}

/// A policy with the name the explanation uses for it.
#[derive(Clone, Copy, Debug)]
pub struct NamedPolicy<'a> {
    /// How the explanation refers to the policy (a name, ARN or position).
    pub name: &'a str,
    /// The policy.
    pub policy: &'a Policy,
}

/// The policies of one level of an organization (root, an OU, or the account).
#[derive(Clone, Debug, Default)]
pub struct OrgLevel<'a> {
    /// The root, OU or account id.
    pub org_identifier: &'a str,
    /// The SCPs or RCPs attached at this level; at least one must allow.
    pub policies: Vec<NamedPolicy<'a>>,
}

/// Every policy that applies to a request.
#[derive(Clone, Debug, Default)]
pub struct PolicySet<'a> {
    /// Identity-based policies of the principal.
    pub identity: Vec<NamedPolicy<'a>>,
    /// The resource's policy, if it has one.
    pub resource: Option<NamedPolicy<'a>>,
    /// Permissions boundaries (each must allow).
    pub boundaries: Vec<NamedPolicy<'a>>,
    /// Session policies (each must allow).
    pub session: Vec<NamedPolicy<'a>>,
    /// SCPs, one entry per level of the hierarchy from the root down to the account.
    pub service_control: Vec<OrgLevel<'a>>,
    /// RCPs, one entry per level of the hierarchy.
    pub resource_control: Vec<OrgLevel<'a>>,
}

/// The three outcomes of evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The request is allowed.
    Allowed,
    /// A `Deny` statement matched.
    ExplicitlyDenied,
    /// Nothing allowed the request (or a policy type that must allow did not).
    ImplicitlyDenied,
}

impl Decision {
    /// The name used by the simulator (`Allowed`, `ExplicitlyDenied`, `ImplicitlyDenied`).
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "Allowed",
            Decision::ExplicitlyDenied => "ExplicitlyDenied",
            Decision::ImplicitlyDenied => "ImplicitlyDenied",
        }
    }
}

/// A statement that contributed to the decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementRef {
    /// The type of the policy holding it.
    pub policy_type: PolicyType,
    /// The policy's name.
    pub policy: String,
    /// For SCPs and RCPs, the level it is attached to.
    pub org_identifier: Option<String>,
    /// The statement's position in the policy, from 0.
    pub index: usize,
    /// The statement's `Sid`.
    pub sid: Option<String>,
    /// Its effect.
    pub effect: Effect,
}

/// A rule of AWS's own that decided a request without the policies (see [`crate::aws_rules`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AwsRule {
    /// The action needs no permission (`sts:GetCallerIdentity` by an authenticated caller):
    /// allowed before any policy, explicit denies included.
    NoPermissionRequired,
    /// The action would change a resource AWS owns: implicitly denied whatever the policies
    /// allow (an explicit deny still decides first).
    AwsOwned(AwsOwned),
}

/// A decision with what decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// The decision.
    pub decision: Decision,
    /// For `ExplicitlyDenied`, the matching deny statements; for `Allowed`, the allow statements
    /// that granted access (none when [`Evaluation::rule`] allowed it).
    pub statements: Vec<StatementRef>,
    /// For `ImplicitlyDenied`, the policy type that lacked an allow.
    pub missing_allow: Option<PolicyType>,
    /// The rule of AWS's that decided instead of the policies, if one did.
    pub rule: Option<AwsRule>,
    /// Request values that could not be interpreted (each denies what it touches).
    pub errors: Vec<String>,
}

/// How a matching statement named the principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Named {
    /// The statement has no principal element (identity-side policies).
    Implicit,
    /// By the principal's account (delegation to the account's identity policies).
    Account,
    /// By the role of a role session, or by its own ARN for a role acting directly (either
    /// way bounded by the permissions boundary and session policy).
    Role,
    /// By the principal itself (user, session, federated user, service, provider, or `*`).
    Direct,
}

enum Match {
    No,
    Yes(Named),
    Error(String),
}

/// What one policy type said about the request.
#[derive(Default)]
struct Verdicts {
    denies: Vec<StatementRef>,
    allows: Vec<(StatementRef, Named)>,
    errors: Vec<String>,
}

/// Evaluates `request` against `policies`.
pub fn evaluate(request: &Request, policies: &PolicySet<'_>) -> Evaluation {
    // 0. An action that needs no permission, by an authenticated caller: no policy is read,
    // not even an explicit deny (STS API reference, GetCallerIdentity).
    if aws_rules::needs_no_permission(request) {
        return Evaluation {
            decision: Decision::Allowed,
            statements: Vec::new(),
            missing_allow: None,
            rule: Some(AwsRule::NoPermissionRequired),
            errors: Vec::new(),
        };
    }
    let principal = &request.principal;
    let iam_principal = principal.has_identity_policies();
    let is_root = principal.kind == PrincipalType::Root;
    let scps_apply = iam_principal && !policies.service_control.is_empty();
    // RCPs bind every caller, services included (AWS's data-perimeter RCPs exempt services with
    // an `aws:PrincipalIsAWSService` condition, which only makes sense if they apply), but only
    // for actions of the services RCPs cover: for any other action they are not read at all.
    let rcps_apply =
        !policies.resource_control.is_empty() && aws_rules::rcp_covers(request.service());

    // Whether the principal has a permissions boundary (changes how NotPrincipal applies).
    let bounded = iam_principal && !is_root && !policies.boundaries.is_empty();
    let mut errors = Vec::new();
    let mut denies = Vec::new();

    let mut run = |ptype: PolicyType, list: &[NamedPolicy<'_>], org: Option<&str>| -> Verdicts {
        let mut v = Verdicts::default();
        for named in list {
            check_policy(request, ptype, named, org, bounded, &mut v);
        }
        errors.extend(v.errors.iter().cloned());
        denies.extend(v.denies.iter().cloned());
        v
    };

    let scp_levels: Vec<Verdicts> = if scps_apply {
        policies
            .service_control
            .iter()
            .map(|l| run(PolicyType::ServiceControl, &l.policies, Some(l.org_identifier)))
            .collect()
    } else {
        Vec::new()
    };
    let rcp_levels: Vec<Verdicts> = if rcps_apply {
        policies
            .resource_control
            .iter()
            .map(|l| run(PolicyType::ResourceControl, &l.policies, Some(l.org_identifier)))
            .collect()
    } else {
        Vec::new()
    };
    let resource = run(PolicyType::Resource, policies.resource.as_slice(), None);
    let (identity, boundary, session) = if iam_principal && !is_root {
        (
            run(PolicyType::Identity, &policies.identity, None),
            policies
                .boundaries
                .iter()
                .map(|b| run(PolicyType::PermissionsBoundary, std::slice::from_ref(b), None))
                .collect::<Vec<_>>(),
            policies
                .session
                .iter()
                .map(|s| run(PolicyType::Session, std::slice::from_ref(s), None))
                .collect::<Vec<_>>(),
        )
    } else {
        (Verdicts::default(), Vec::new(), Vec::new())
    };

    // 1. An explicit deny anywhere wins.
    if !denies.is_empty() {
        denies.sort_by_key(|d| d.policy_type);
        return Evaluation {
            decision: Decision::ExplicitlyDenied,
            statements: denies,
            missing_allow: None,
            rule: None,
            errors,
        };
    }
    // 1b. A change to a resource AWS owns: refused whatever the policies allow.
    if let Some(owned) = aws_rules::aws_owned(&request.action_lower, &request.resource) {
        return Evaluation {
            decision: Decision::ImplicitlyDenied,
            statements: Vec::new(),
            missing_allow: None,
            rule: Some(AwsRule::AwsOwned(owned)),
            errors,
        };
    }
    let implicit = |missing: PolicyType, errors: Vec<String>| Evaluation {
        decision: Decision::ImplicitlyDenied,
        statements: Vec::new(),
        missing_allow: Some(missing),
        rule: None,
        errors,
    };
    // 2. Every SCP level must allow; 3. every RCP level must allow.
    if scp_levels.iter().any(|l| l.allows.is_empty()) {
        return implicit(PolicyType::ServiceControl, errors);
    }
    if rcp_levels.iter().any(|l| l.allows.is_empty()) {
        return implicit(PolicyType::ResourceControl, errors);
    }

    // 4. Resource-based and identity-based policies.
    let resource_named = resource.allows.iter().map(|(_, n)| *n).max();
    let boundary_ok = boundary.iter().all(|b| !b.allows.is_empty());
    let session_ok = session.iter().all(|s| !s.allows.is_empty());
    let identity_ok = is_root || !identity.allows.is_empty();
    // Which policy type the identity path lacks, if any.
    let identity_gap = if !iam_principal || !identity_ok {
        Some(PolicyType::Identity)
    } else if !boundary_ok {
        Some(PolicyType::PermissionsBoundary)
    } else if !session_ok {
        Some(PolicyType::Session)
    } else {
        None
    };
    let must_resource_allow = resource_policy_required(request);
    let granted_by = |with_identity: bool, with_resource: bool| {
        let mut out = Vec::new();
        if with_resource {
            out.extend(resource.allows.iter().map(|(s, _)| s.clone()));
        }
        if with_identity {
            out.extend(identity.allows.iter().map(|(s, _)| s.clone()));
        }
        out
    };
    let allowed = |statements: Vec<StatementRef>, errors: Vec<String>| Evaluation {
        decision: Decision::Allowed,
        statements,
        missing_allow: None,
        rule: None,
        errors,
    };

    if !iam_principal {
        // Services, anonymous callers and identity providers: only a resource policy can allow.
        return match resource_named {
            Some(Named::Direct) => allowed(granted_by(false, true), errors),
            _ => implicit(PolicyType::Resource, errors),
        };
    }
    if !request.is_cross_account() {
        match resource_named {
            Some(Named::Direct) => return allowed(granted_by(false, true), errors),
            Some(Named::Role) => {
                return match [
                    (!boundary_ok).then_some(PolicyType::PermissionsBoundary),
                    (!session_ok).then_some(PolicyType::Session),
                ]
                .into_iter()
                .flatten()
                .next()
                {
                    None => allowed(granted_by(false, true), errors),
                    Some(gap) => implicit(gap, errors),
                };
            }
            Some(Named::Account) | Some(Named::Implicit) | None => {
                if must_resource_allow && resource_named.is_none() {
                    return implicit(PolicyType::Resource, errors);
                }
                return match identity_gap {
                    None => allowed(granted_by(true, resource_named.is_some()), errors),
                    Some(gap) => implicit(gap, errors),
                };
            }
        }
    }
    // Cross-account: both sides must allow.
    match (identity_gap, resource_named) {
        (Some(gap), _) => implicit(gap, errors),
        (None, None) => implicit(PolicyType::Resource, errors),
        (None, Some(_)) => allowed(granted_by(true, true), errors),
    }
}

/// Whether the resource's own policy must allow whatever identity policies say: role trust
/// policies (`sts:AssumeRole*` on a role) and KMS key policies.
pub fn resource_policy_required(request: &Request) -> bool {
    let mut parts = request.resource.splitn(6, ':');
    let service = parts.nth(2).unwrap_or_default();
    let resource = parts.nth(2).unwrap_or_default();
    let trust = request.action_lower.starts_with("sts:assumerole")
        && service == "iam"
        && resource.starts_with("role/");
    let key = service == "kms" && resource.starts_with("key/");
    trust || key
}

fn check_policy(
    request: &Request,
    ptype: PolicyType,
    named: &NamedPolicy<'_>,
    org: Option<&str>,
    bounded: bool,
    out: &mut Verdicts,
) {
    let policy = named.policy;
    let candidates =
        policy.index.candidates(&request.action_lower, request.service(), request.service_bit);
    for &i in candidates.as_slice() {
        let Some(st) = policy.statements.get(i) else { continue };
        let reference = || StatementRef {
            policy_type: ptype,
            policy: named.name.to_string(),
            org_identifier: org.map(str::to_string),
            index: st.index,
            sid: st.sid.clone(),
            effect: st.effect,
        };
        let resource_side = matches!(ptype, PolicyType::Resource | PolicyType::ResourceControl);
        match statement_matches(st, request, resource_side, bounded) {
            Match::No => {}
            Match::Yes(named_as) => match st.effect {
                Effect::Allow => out.allows.push((reference(), named_as)),
                Effect::Deny => out.denies.push(reference()),
            },
            Match::Error(e) => {
                out.errors.push(format!(
                    "{} `{}` statement {}: {e}",
                    ptype.phrase(),
                    named.name,
                    st.index
                ));
                // Fail closed: an uninterpretable Deny denies; an uninterpretable Allow grants nothing.
                if st.effect == Effect::Deny {
                    out.denies.push(reference());
                }
            }
        }
    }
}

fn statement_matches(
    st: &Statement,
    request: &Request,
    resource_side: bool,
    bounded: bool,
) -> Match {
    // Action (a malformed action a lenient parse kept matches nothing).
    let action_hit =
        st.action.actions.iter().any(|a| !a.never && a.pattern.matches(&request.action_lower));
    if action_hit == st.action.negated {
        return Match::No;
    }
    // Resource.
    if let Some(clause) = &st.resource {
        let mut hit = false;
        for r in &clause.resources {
            match r.template.resolve(&request.context) {
                Some(glob) if glob.matches_resource(&request.resource) => {
                    hit = true;
                    break;
                }
                Some(_) => {}
                // An unresolvable variable in NotResource would widen the statement: skip it whole.
                None if clause.negated => return Match::No,
                None => {}
            }
        }
        if hit == clause.negated {
            return Match::No;
        }
    }
    // Principal.
    let named = match &st.principal {
        None if resource_side => return Match::No,
        None => Named::Implicit,
        Some(clause) => match principal_named(&clause.set, request) {
            Some(n) if !clause.negated => n,
            None if !clause.negated => return Match::No,
            // An Allow with NotPrincipal (which AWS no longer supports) grants only to callers
            // it does not name at all: naming the caller, its role or its account excludes it.
            Some(_) if st.effect == Effect::Allow => return Match::No,
            None if st.effect == Effect::Allow => Named::Direct,
            _ => {
                // A Deny with NotPrincipal applies unless every identity of the caller is
                // listed, and always to a principal with a permissions boundary (IAM user
                // guide, NotPrincipal).
                let always = bounded && st.effect == Effect::Deny && resource_side;
                if !always && every_identity_listed(&clause.set, request) {
                    return Match::No;
                }
                Named::Direct
            }
        },
    };
    // Conditions.
    for c in &st.conditions {
        match condition::evaluate(c.operator, &c.key_lower, &c.values, &request.context) {
            Outcome::True => {}
            Outcome::False | Outcome::Unresolved => return Match::No,
            Outcome::Error(e) => {
                return Match::Error(format!("condition `{}` on `{}`: {e}", c.operator_raw, c.key))
            }
        }
    }
    Match::Yes(named)
}

/// The strongest way the principal element names the caller, if it does.
fn principal_named(set: &PrincipalSet, request: &Request) -> Option<Named> {
    let entries = match set {
        PrincipalSet::Any => return Some(Named::Direct),
        PrincipalSet::Named(entries) => entries,
    };
    entries.iter().filter_map(|e| entry_names(e.kind, &e.value, request)).max()
}

fn entry_names(kind: PrincipalKind, value: &str, request: &Request) -> Option<Named> {
    let p = &request.principal;
    match kind {
        PrincipalKind::Aws => {
            if value == "*" {
                return Some(Named::Direct);
            }
            // A role acting directly, named by its own ARN: the grant is to the role, and a
            // grant to a role ARN is bounded by the permissions boundary and session policy
            // (IAM user guide, "How AWS enforcement code logic evaluates requests").
            if p.kind == PrincipalType::Role && same_role(value, &p.arn) {
                return Some(Named::Role);
            }
            if value == p.arn
                && p.kind != PrincipalType::Service
                && p.kind != PrincipalType::WebIdentity
            {
                return Some(Named::Direct);
            }
            if let Some(account) = account_of(value) {
                return (p.account.as_deref() == Some(account)).then_some(
                    if p.kind == PrincipalType::Root { Named::Direct } else { Named::Account },
                );
            }
            if let Some(role_arn) = &p.role_arn {
                if same_role(value, role_arn) {
                    return Some(Named::Role);
                }
            }
            None
        }
        PrincipalKind::Service => {
            (p.kind == PrincipalType::Service && p.arn == value).then_some(Named::Direct)
        }
        PrincipalKind::Federated => {
            (p.kind == PrincipalType::WebIdentity && p.arn == value).then_some(Named::Direct)
        }
        // Canonical user ids identify S3 accounts; requests here carry ARNs, so none matches.
        PrincipalKind::CanonicalUser => None,
    }
}

/// The account a principal value names as a whole: a 12-digit id or `arn:PARTITION:iam::ID:root`.
pub fn account_of(value: &str) -> Option<&str> {
    let is_id = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if is_id(value) {
        return Some(value);
    }
    let mut parts = value.splitn(6, ':');
    let (arn, _partition, service, region, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (arn == "arn" && service == "iam" && region.is_empty() && resource == "root" && is_id(account))
        .then_some(account)
}

/// Whether `value` names the role `role_arn` (a role ARN's path is not in a session's ARN, so
/// roles compare by partition, account and name).
fn same_role(value: &str, role_arn: &str) -> bool {
    let split = |s: &str| -> Option<(String, String)> {
        let mut parts = s.splitn(6, ':');
        let (arn, partition, service, _region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if arn != "arn" || service != "iam" {
            return None;
        }
        let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
        Some((format!("{partition}:{account}"), name.to_string()))
    };
    matches!((split(value), split(role_arn)), (Some(a), Some(b)) if a == b)
}

fn every_identity_listed(set: &PrincipalSet, request: &Request) -> bool {
    let entries = match set {
        PrincipalSet::Any => return true,
        PrincipalSet::Named(entries) => entries,
    };
    if entries.iter().any(|e| e.kind == PrincipalKind::Aws && e.value == "*") {
        return true;
    }
    let p = &request.principal;
    let listed =
        |want: Named| entries.iter().any(|e| entry_names(e.kind, &e.value, request) == Some(want));
    match p.kind {
        PrincipalType::Anonymous => false,
        PrincipalType::Service | PrincipalType::WebIdentity | PrincipalType::Root => {
            listed(Named::Direct)
        }
        PrincipalType::AssumedRole => {
            listed(Named::Direct) && listed(Named::Role) && listed(Named::Account)
        }
        // A role acting directly is named by its ARN as a role (see `entry_names`).
        PrincipalType::Role => listed(Named::Role) && listed(Named::Account),
        PrincipalType::User | PrincipalType::FederatedUser => {
            listed(Named::Direct) && listed(Named::Account)
        }
    }
}
