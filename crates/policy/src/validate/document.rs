//! Document-level checks: version, `Id`, statement ids, quotas, required elements and
//! statements that can never match.

use super::raw;
use super::{label, Ctx, Findings, Limits, PolicyKind, SizeUnit};
use crate::ast::{Location, Version};
use crate::json::Position;

/// The size quota (runs on the text, whether or not it parses).
pub(crate) fn size(text: &str, limits: &Limits, out: &mut Findings) {
    let (size, unit) = match limits.unit {
        SizeUnit::CharsWithoutWhitespace => (
            text.chars().filter(|c| !c.is_whitespace()).count(),
            "characters (whitespace not counted)",
        ),
        SizeUnit::Chars => (text.chars().count(), "characters"),
        SizeUnit::Bytes => (text.len(), "bytes"),
    };
    if size > limits.max_size {
        out.emit(
            "POLICY_SIZE_EXCEEDED",
            &Location { pos: Position { line: 1, column: 1 }, path: "$".into() },
            format!(
                "the policy is {size} {unit}, more than the {} allowed for {}: split it into \
                 several smaller policies",
                limits.max_size, limits.name
            ),
        );
    }
}

/// Every document-level check.
pub(crate) fn check(cx: &Ctx, out: &mut Findings) {
    version(cx, out);
    id(cx, out);
    statements(cx, out);
}

fn version(cx: &Ctx, out: &mut Findings) {
    let p = cx.policy;
    if !p.version_explicit {
        let note = if cx.kind == PolicyKind::ResourceControl {
            "; resource control policies must state `\"Version\": \"2012-10-17\"`"
        } else {
            ""
        };
        out.emit(
            "MISSING_VERSION",
            &Location { pos: cx.raw.pos, path: "$".into() },
            format!(
                "the policy has no `Version`, so it is read as version 2008-10-17, in which \
                 policy variables are literal text: add `\"Version\": \"2012-10-17\"`{note}"
            ),
        );
    } else if p.version == Version::V2008_10_17 {
        out.emit(
            "OUTDATED_VERSION",
            &raw::top_level(cx.raw, "Version"),
            "version `2008-10-17` treats policy variables as literal text and lacks newer \
             features: use `2012-10-17`"
                .into(),
        );
    }
}

fn id(cx: &Ctx, out: &mut Findings) {
    if cx.policy.id.is_some() && (cx.is_identity_side() || cx.kind == PolicyKind::Trust) {
        out.emit(
            "ID_IN_IDENTITY_POLICY",
            &raw::top_level(cx.raw, "Id"),
            format!(
                "`Id` is meant for resource-based policies (such as SQS and SNS); {} do not use it",
                cx.kind.describe()
            ),
        );
    }
}

fn statements(cx: &Ctx, out: &mut Findings) {
    let p = cx.policy;
    if let Some(max) = cx.limits.max_statements {
        if p.statements.len() > max {
            out.emit(
                "TOO_MANY_STATEMENTS",
                &raw::top_level(cx.raw, "Statement"),
                format!(
                    "the policy has {} statements, more than the {max} allowed for {}",
                    p.statements.len(),
                    cx.limits.name
                ),
            );
        }
    }
    let iam_sid = cx.is_identity_side();
    for st in &p.statements {
        if let Some(sid) = &st.sid {
            let at = raw::statement_member(cx.raw, st.index, "Sid")
                .unwrap_or_else(|| st.location.clone());
            if sid.is_empty() {
                out.emit(
                    "EMPTY_SID_VALUE",
                    &at,
                    "`Sid` is an empty string: give the statement a name or remove `Sid`".into(),
                );
            } else if iam_sid && !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                out.emit(
                    "UNSUPPORTED_SID",
                    &at,
                    format!(
                        "`Sid` `{sid}` has characters IAM does not accept: use only letters \
                         (A-Z, a-z) and digits (0-9)"
                    ),
                );
            }
        }
        // Trust policies have no resource, and some resource-based policies (ECR repository
        // policies) leave it out: the resource is the one the policy is attached to.
        if st.resource.is_none() && !matches!(cx.kind, PolicyKind::Trust | PolicyKind::Resource) {
            out.emit(
                "MISSING_RESOURCE",
                &st.location,
                format!(
                    "{} has no `Resource` or `NotResource`; {} need one",
                    label(st),
                    cx.kind.describe()
                ),
            );
        }
        if st.action.negated && st.action.actions.iter().any(|a| a.raw == "*") {
            out.emit(
                "INEFFECTIVE_STATEMENT",
                &st.action.location,
                format!(
                    "`NotAction` includes `*`, so {} matches no action and has no effect",
                    label(st)
                ),
            );
        }
        if let Some(r) = &st.resource {
            if r.negated && r.resources.iter().any(|x| x.raw == "*") {
                out.emit(
                    "INEFFECTIVE_STATEMENT",
                    &r.location,
                    format!(
                        "`NotResource` includes `*`, so {} matches no resource and has no effect",
                        label(st)
                    ),
                );
            }
        }
    }
}
