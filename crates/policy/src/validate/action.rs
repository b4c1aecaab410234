//! `Action` and `NotAction`: wildcard service prefixes, grants of everything, `iam:PassRole` and
//! `iam:CreateServiceLinkedRole` on any role, and redundant entries.

use super::glob;
use super::redundancy::MAX_ENTRIES;
use super::{label, Ctx, Findings, PolicyKind};
use crate::ast::{ActionPattern, Effect, Location, Statement};

/// Every action check of one statement.
pub(crate) fn check(cx: &Ctx, st: &Statement, out: &mut Findings) {
    for a in &st.action.actions {
        if a.raw != "*" && a.service.contains(['*', '?']) {
            out.emit(
                "WILDCARD_IN_SERVICE_NAME",
                &a.location,
                format!(
                    "`{}` has a wildcard in its service prefix, which can match services you did \
                     not mean, including future ones",
                    a.raw
                ),
            );
        }
    }
    redundant(cx, &st.action.actions, out);
    if st.effect != Effect::Allow || !matches!(cx.kind, PolicyKind::Identity | PolicyKind::Resource)
    {
        return;
    }
    broad(st, out);
    if cx.kind == PolicyKind::Identity {
        sensitive(st, &PASS_ROLE, out);
        sensitive(st, &CREATE_SLR, out);
    }
}

/// `Allow` of everything, or of everything but a list.
fn broad(st: &Statement, out: &mut Findings) {
    let resource = st.resource.as_ref();
    let star_resource =
        resource.is_some_and(|r| !r.negated && r.resources.iter().any(|x| x.raw == "*"));
    if !st.action.negated && star_resource && st.conditions.is_empty() {
        if let Some(a) = st.action.actions.iter().find(|a| a.raw == "*") {
            out.emit(
                "FULL_ADMIN_ACCESS",
                &a.location,
                format!(
                    "{} allows every action on every resource without a condition (full \
                     administrator access): grant only the actions and resources needed",
                    label(st)
                ),
            );
        }
    }
    if st.action.negated {
        out.emit(
            "ALLOW_WITH_NOT_ACTION",
            &st.action.location,
            format!(
                "`Allow` with `NotAction` grants every action not listed, including actions of \
                 services added later: list the allowed actions in `Action` ({})",
                label(st)
            ),
        );
    }
    if let Some(r) = resource.filter(|r| r.negated && !r.resources.iter().any(|x| x.raw == "*")) {
        out.emit(
            "ALLOW_WITH_NOT_RESOURCE",
            &r.location,
            format!(
                "`Allow` with `NotResource` grants access to every resource not listed, \
                 including resources created later: list the allowed resources in `Resource` ({})",
                label(st)
            ),
        );
    }
}

/// An action that is dangerous to allow on every resource, with the codes for each way a
/// statement can do that.
struct Sensitive {
    action: &'static str,
    /// The condition key that limits the grant enough to silence the finding.
    limiting_key: &'static str,
    star_in_resource: &'static str,
    star_in_action_and_resource: &'static str,
    not_resource: &'static str,
    star_in_action_and_not_resource: &'static str,
    not_action_and_not_resource: &'static str,
    star_in_resource_and_not_action: &'static str,
    risk: &'static str,
}

const PASS_ROLE: Sensitive = Sensitive {
    action: "iam:passrole",
    limiting_key: "iam:passedtoservice",
    star_in_resource: "PASS_ROLE_WITH_STAR_IN_RESOURCE",
    star_in_action_and_resource: "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
    not_resource: "PASS_ROLE_WITH_NOT_RESOURCE",
    star_in_action_and_not_resource: "PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
    not_action_and_not_resource: "PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE",
    star_in_resource_and_not_action: "PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION",
    risk: "lets the principal pass any role to a service, and so act with that role's \
           permissions; name the roles, or add an `iam:PassedToService` condition",
};

const CREATE_SLR: Sensitive = Sensitive {
    action: "iam:createservicelinkedrole",
    limiting_key: "iam:awsservicename",
    star_in_resource: "CREATE_SLR_WITH_STAR_IN_RESOURCE",
    star_in_action_and_resource: "CREATE_SLR_WITH_STAR_IN_ACTION_AND_RESOURCE",
    not_resource: "CREATE_SLR_WITH_NOT_RESOURCE",
    star_in_action_and_not_resource: "CREATE_SLR_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
    not_action_and_not_resource: "CREATE_SLR_WITH_NOT_ACTION_AND_NOT_RESOURCE",
    star_in_resource_and_not_action: "CREATE_SLR_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION",
    risk: "lets the principal create service-linked roles for any service; name the roles' \
           ARNs, or add an `iam:AWSServiceName` condition",
};

/// How a statement's actions reach the sensitive action.
enum Reach<'a> {
    Named(&'a ActionPattern),
    Wildcard(&'a ActionPattern),
    NotAction,
}

fn reach<'a>(st: &'a Statement, action: &str) -> Option<Reach<'a>> {
    if st.action.negated {
        let excluded = st.action.actions.iter().any(|a| a.pattern.matches(action));
        return (!excluded).then_some(Reach::NotAction);
    }
    let matching = st.action.actions.iter().filter(|a| a.pattern.matches(action));
    let mut wildcard = None;
    for a in matching {
        if !a.pattern.has_wildcard() {
            return Some(Reach::Named(a));
        }
        wildcard = wildcard.or(Some(a));
    }
    wildcard.map(Reach::Wildcard)
}

/// A resource that names every role: `*`, or a role ARN whose name is `*`.
fn any_role(raw: &str) -> bool {
    if raw == "*" {
        return true;
    }
    let Some(resource) = raw.splitn(6, ':').nth(5) else { return false };
    let name = resource.strip_prefix("role/").unwrap_or(resource);
    let name = name.strip_prefix("aws-service-role/").unwrap_or(name);
    name == "*"
}

fn sensitive(st: &Statement, s: &Sensitive, out: &mut Findings) {
    let Some(r) = &st.resource else { return };
    let Some(how) = reach(st, s.action) else { return };
    let limited = st.conditions.iter().any(|c| c.key_lower == s.limiting_key);
    let star = !r.negated && r.resources.iter().any(|x| any_role(&x.raw));
    let not_resource = r.negated && !r.resources.iter().any(|x| x.raw == "*");
    let (code, at, what): (&str, &Location, String) = match (&how, not_resource, star) {
        (Reach::NotAction, true, _) => (
            s.not_action_and_not_resource,
            &st.action.location,
            "`NotAction` with `NotResource`".into(),
        ),
        (Reach::NotAction, false, true) => (
            s.star_in_resource_and_not_action,
            &st.action.location,
            "`NotAction` with a wildcard resource".into(),
        ),
        (Reach::Wildcard(a), true, _) => (
            s.star_in_action_and_not_resource,
            &a.location,
            format!("`{}` with `NotResource`", a.raw),
        ),
        (Reach::Wildcard(a), false, true) => (
            s.star_in_action_and_resource,
            &a.location,
            format!("`{}` on a wildcard resource", a.raw),
        ),
        (Reach::Named(a), true, _) => {
            (s.not_resource, &a.location, format!("`{}` with `NotResource`", a.raw))
        }
        (Reach::Named(a), false, true) => {
            (s.star_in_resource, &a.location, format!("`{}` on a wildcard resource", a.raw))
        }
        _ => return,
    };
    if limited && !not_resource {
        return;
    }
    out.emit(code, at, format!("{what} in {} {}", label(st), s.risk));
}

/// Entries already covered by another entry of the same element.
fn redundant(cx: &Ctx, actions: &[ActionPattern], out: &mut Findings) {
    if actions.len() > MAX_ENTRIES {
        return;
    }
    for (i, a) in actions.iter().enumerate() {
        let by = actions.iter().enumerate().find(|(j, b)| {
            *j != i && {
                let same = a.pattern == b.pattern;
                (same && *j < i)
                    || (!same
                        && cx.afford(a.pattern.toks().len(), b.pattern.toks().len())
                        && glob::covers(b.pattern.toks(), a.pattern.toks(), true))
            }
        });
        if let Some((_, b)) = by {
            out.emit(
                "REDUNDANT_ACTION",
                &a.location,
                format!("`{}` is already covered by `{}`: remove it", a.raw, b.raw),
            );
        }
    }
}
