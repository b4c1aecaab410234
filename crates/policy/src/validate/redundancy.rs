//! Statements that match nothing another statement of the same effect does not already match.

use super::glob;
use super::{label, Ctx, Findings};
use crate::ast::{
    ActionClause, Condition, PrincipalClause, PrincipalSet, ResourceClause, Statement,
};

/// Elements with more entries than this are not searched for redundancy (the search is
/// quadratic).
pub(crate) const MAX_ENTRIES: usize = 256;

/// Policies with more statements than this are not searched for redundant statements.
const MAX_STATEMENTS: usize = 128;

/// Redundant statements.
pub(crate) fn check(cx: &Ctx, out: &mut Findings) {
    let sts = &cx.policy.statements;
    if sts.len() > MAX_STATEMENTS {
        return;
    }
    for a in sts {
        let by = sts.iter().find(|b| {
            b.index != a.index && within(cx, a, b) && (b.index < a.index || !within(cx, b, a))
        });
        if let Some(b) = by {
            out.emit(
                "REDUNDANT_STATEMENT",
                &a.location,
                format!(
                    "{} is redundant: {} has the same effect and matches every request it does; \
                     remove one of them",
                    label(a),
                    label(b)
                ),
            );
        }
    }
}

/// Whether every request `a` matches is matched by `b` with the same effect.
fn within(cx: &Ctx, a: &Statement, b: &Statement) -> bool {
    a.effect == b.effect
        && same_principals(&a.principal, &b.principal)
        && conditions_within(&a.conditions, &b.conditions)
        && actions_within(cx, &a.action, &b.action)
        && resources_within(cx, &a.resource, &b.resource)
}

fn principal_key(p: &Option<PrincipalClause>) -> Option<(bool, Vec<(&'static str, &str)>)> {
    let p = p.as_ref()?;
    let mut entries = match &p.set {
        PrincipalSet::Any => vec![("*", "*")],
        PrincipalSet::Named(es) => es.iter().map(|e| (e.kind.as_str(), e.value.as_str())).collect(),
    };
    entries.sort_unstable();
    entries.dedup();
    Some((p.negated, entries))
}

fn same_principals(a: &Option<PrincipalClause>, b: &Option<PrincipalClause>) -> bool {
    principal_key(a) == principal_key(b)
}

/// `a` has every condition of `b` (so `a` is at least as narrow).
fn conditions_within(a: &[Condition], b: &[Condition]) -> bool {
    b.iter().all(|cb| {
        a.iter().any(|ca| {
            ca.operator == cb.operator
                && ca.key_lower == cb.key_lower
                && ca.values.len() == cb.values.len()
                && ca.values.iter().zip(&cb.values).all(|(x, y)| x.raw == y.raw)
        })
    })
}

fn actions_within(cx: &Ctx, a: &ActionClause, b: &ActionClause) -> bool {
    if a.negated || b.negated {
        return a.negated == b.negated
            && same_raw(a.actions.iter().map(|x| &x.raw), b.actions.iter().map(|x| &x.raw));
    }
    a.actions.len() <= MAX_ENTRIES
        && b.actions.len() <= MAX_ENTRIES
        && a.actions.iter().all(|x| {
            b.actions.iter().any(|y| {
                x.pattern == y.pattern
                    || cx.afford(x.pattern.toks().len(), y.pattern.toks().len())
                        && glob::covers(y.pattern.toks(), x.pattern.toks(), true)
            })
        })
}

fn resources_within(cx: &Ctx, a: &Option<ResourceClause>, b: &Option<ResourceClause>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) if a.negated || b.negated => {
            a.negated == b.negated
                && same_raw(a.resources.iter().map(|x| &x.raw), b.resources.iter().map(|x| &x.raw))
        }
        (Some(a), Some(b)) => {
            a.resources.len() <= MAX_ENTRIES
                && b.resources.len() <= MAX_ENTRIES
                && a.resources.iter().all(|x| {
                    b.resources.iter().any(|y| {
                        x.raw == y.raw
                            || match (x.template.fixed(), y.template.fixed()) {
                                (Some(gx), Some(gy)) => {
                                    cx.afford(gx.toks().len(), gy.toks().len())
                                        && glob::covers(gy.toks(), gx.toks(), gy.is_match_all())
                                }
                                _ => false,
                            }
                    })
                })
        }
        _ => false,
    }
}

fn same_raw<'a>(a: impl Iterator<Item = &'a String>, b: impl Iterator<Item = &'a String>) -> bool {
    let mut a: Vec<&String> = a.collect();
    let mut b: Vec<&String> = b.collect();
    a.sort_unstable();
    a.dedup();
    b.sort_unstable();
    b.dedup();
    a == b
}
