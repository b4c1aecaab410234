//! Rules of particular policy types: resource control policies (deny-only, `*` principal, a
//! subset of services) and role trust policies (assume-role actions, no resource, federated
//! trusts bound to a token audience or subject).

use super::principal::{oidc_host, provider_arn};
use super::raw;
use super::{label, Ctx, Findings, PolicyKind};
use crate::ast::{Effect, PrincipalKind, PrincipalSet, Statement};
use crate::aws_rules::RCP_SERVICES;

/// The actions a role trust policy can allow.
const TRUST_ACTIONS: &[&str] = &[
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
];

/// The checks of the policy's type.
pub(crate) fn check(cx: &Ctx, out: &mut Findings) {
    for st in &cx.policy.statements {
        match cx.kind {
            PolicyKind::ResourceControl => rcp(cx, st, out),
            PolicyKind::Trust => trust(st, out),
            _ => {}
        }
    }
}

fn rcp(cx: &Ctx, st: &Statement, out: &mut Findings) {
    if st.effect == Effect::Allow && !is_rcp_full_access(st) {
        let at = raw::statement_member(cx.raw, st.index, "Effect")
            .unwrap_or_else(|| st.location.clone());
        out.emit(
            "RCP_ALLOW_NOT_SUPPORTED",
            &at,
            format!(
                "{}: resource control policies can only deny (`Allow` is reserved for the \
                 RCPFullAWSAccess policy); write the restriction as a `Deny`",
                label(st)
            ),
        );
    }
    if st.action.negated {
        out.emit(
            "RCP_UNSUPPORTED_ELEMENT",
            &st.action.location,
            "resource control policies cannot have `NotAction`: list the actions in `Action`"
                .into(),
        );
    }
    for a in &st.action.actions {
        if a.raw == "*" || a.service.contains(['*', '?']) {
            continue;
        }
        if !RCP_SERVICES.contains(&a.service.as_str()) {
            out.emit(
                "RCP_UNSUPPORTED_SERVICE",
                &a.location,
                format!(
                    "`{}`: resource control policies do not apply to `{}`; they cover {}",
                    a.raw,
                    a.service,
                    RCP_SERVICES.join(", ")
                ),
            );
        }
    }
}

/// The shape of RCPFullAWSAccess: allow every principal every action on every resource.
fn is_rcp_full_access(st: &Statement) -> bool {
    st.principal.as_ref().is_some_and(|p| !p.negated && p.set == PrincipalSet::Any)
        && !st.action.negated
        && st.action.actions.iter().all(|a| a.raw == "*")
        && st
            .resource
            .as_ref()
            .is_some_and(|r| !r.negated && r.resources.iter().all(|x| x.raw == "*"))
        && st.conditions.is_empty()
}

fn trust(st: &Statement, out: &mut Findings) {
    if let Some(r) = &st.resource {
        out.emit(
            "TRUST_POLICY_WITH_RESOURCE",
            &r.location,
            format!(
                "role trust policies cannot have `{}`: the resource is the role itself",
                if r.negated { "NotResource" } else { "Resource" }
            ),
        );
    }
    if !st.action.negated {
        for a in &st.action.actions {
            let allowed = TRUST_ACTIONS.iter().filter(|t| a.pattern.matches(t)).count();
            if allowed == 0 {
                out.emit(
                    "TRUST_POLICY_UNSUPPORTED_ACTION",
                    &a.location,
                    format!(
                        "`{}` cannot be allowed by a role trust policy: use `sts:AssumeRole`, \
                         `sts:AssumeRoleWithSAML`, `sts:AssumeRoleWithWebIdentity`, \
                         `sts:TagSession`, `sts:SetSourceIdentity` or `sts:SetContext`",
                        a.raw
                    ),
                );
            } else if a.pattern.has_wildcard() {
                out.emit(
                    "TRUST_POLICY_WILDCARD_ACTION",
                    &a.location,
                    format!(
                        "`{}` matches {allowed} assume-role actions: name the ones the principals \
                         need",
                        a.raw
                    ),
                );
            }
        }
    }
    mismatch(st, out);
    if st.effect == Effect::Allow {
        federated_conditions(st, out);
    }
}

fn allows(st: &Statement, action: &str) -> bool {
    if st.action.negated {
        !st.action.actions.iter().any(|a| a.pattern.matches(action))
    } else {
        st.action.actions.iter().any(|a| a.pattern.matches(action))
    }
}

/// The action each principal type assumes a role with.
fn mismatch(st: &Statement, out: &mut Findings) {
    let Some(p) = &st.principal else { return };
    let PrincipalSet::Named(entries) = &p.set else { return };
    let federated = entries.iter().filter(|e| e.kind == PrincipalKind::Federated);
    for e in federated {
        let (needed, name) = if oidc_host(&e.value).is_some() {
            ("sts:assumerolewithwebidentity", "sts:AssumeRoleWithWebIdentity")
        } else if provider_arn(&e.value).is_some() {
            ("sts:assumerolewithsaml", "sts:AssumeRoleWithSAML")
        } else {
            continue;
        };
        if !allows(st, needed) {
            out.emit(
                "TRUST_ACTION_PRINCIPAL_MISMATCH",
                &e.location,
                format!(
                    "`{}` signs in with `{name}`, which {} does not allow: the principal cannot \
                     assume the role",
                    e.value,
                    label(st)
                ),
            );
        }
    }
    let only_direct =
        entries.iter().all(|e| matches!(e.kind, PrincipalKind::Aws | PrincipalKind::Service));
    if only_direct && !st.action.negated && !allows(st, "sts:assumerole") {
        let federated_only = st.action.actions.iter().find(|a| {
            !a.pattern.has_wildcard()
                && matches!(a.name.as_str(), "assumerolewithsaml" | "assumerolewithwebidentity")
        });
        if let Some(a) = federated_only {
            out.emit(
                "TRUST_ACTION_PRINCIPAL_MISMATCH",
                &a.location,
                format!(
                    "`{}` is for federated principals, but {} names AWS or service principals, \
                     which assume roles with `sts:AssumeRole`",
                    a.raw,
                    label(st)
                ),
            );
        }
    }
}

/// Federated trusts need a condition on the token: otherwise any identity the provider vouches
/// for (for a public OIDC provider, anyone with an account there) can assume the role.
fn federated_conditions(st: &Statement, out: &mut Findings) {
    let Some(p) = &st.principal else { return };
    let PrincipalSet::Named(entries) = &p.set else { return };
    for e in entries.iter().filter(|e| e.kind == PrincipalKind::Federated) {
        let (prefix, what) = match oidc_host(&e.value) {
            Some(host) => (format!("{}:", host.to_ascii_lowercase()), "`aud` or `sub` claim"),
            None if provider_arn(&e.value).is_some() => ("saml:".to_string(), "SAML assertion"),
            None => continue,
        };
        let bound = st.conditions.iter().any(|c| c.key_lower.starts_with(&prefix));
        if !bound {
            out.emit(
                "FEDERATED_TRUST_WITHOUT_CONDITION",
                &e.location,
                format!(
                    "{} trusts `{}` without a condition on the {what}: every identity the \
                     provider issues tokens for can assume the role; add a condition such as \
                     `{prefix}{}`",
                    label(st),
                    e.value,
                    if what.starts_with('`') { "sub" } else { "aud" }
                ),
            );
        }
    }
}
