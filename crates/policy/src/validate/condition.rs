//! Condition keys and operators: the key's form and existence, the operator's type against the
//! key's type, set qualifiers against single- and multivalued keys, and `IfExists`.

use super::keys::{self, KeyInfo, KeyKind, Presence};
use super::{label, Ctx, Findings, PolicyKind};
use crate::ast::{Condition, Effect, Statement};
use crate::condition::{OpKind, SetQualifier, ValueType};

/// What is known about a condition key: the global table first (it knows presence and callers),
/// then the service catalog.
pub(crate) fn key_info(cx: &Ctx, key: &str) -> Option<KeyInfo> {
    keys::global(key).or_else(|| cx.catalog.and_then(|c| super::catalog_checks::key_info(c, key)))
}

/// The key's prefix when it names a service the catalog knows.
pub(crate) fn known_service_prefix<'k>(cx: &Ctx, key: &'k str) -> Option<&'k str> {
    let (prefix, _) = key.split_once(':')?;
    cx.catalog.and_then(|c| c.service(prefix)).map(|_| prefix)
}

/// Every key and operator check of one statement.
pub(crate) fn check(cx: &Ctx, st: &Statement, out: &mut Findings) {
    for c in &st.conditions {
        one(cx, st, c, out);
    }
    paired(st, out);
}

fn one(cx: &Ctx, st: &Statement, c: &Condition, out: &mut Findings) {
    let well_formed = c.key.split_once(':').is_some_and(|(p, n)| {
        !p.is_empty() && !n.is_empty() && !c.key.contains(char::is_whitespace)
    });
    if !well_formed {
        out.emit(
            "INVALID_CONDITION_KEY_FORMAT",
            &c.key_location,
            format!("`{}` is not a condition key: keys have the form `service:name`", c.key),
        );
        return;
    }
    if keys::is_tag_prefix_without_key(&c.key) {
        out.emit(
            "MISSING_TAG_KEY_IN_CONDITION",
            &c.key_location,
            format!("`{}` needs a tag key: write `{}/tag-key`", c.key, c.key.trim_end_matches('/')),
        );
        return;
    }
    service_mismatch(st, c, out);
    let Some(info) = key_info(cx, &c.key) else {
        if let Some(prefix) = known_service_prefix(cx, &c.key) {
            out.emit(
                "UNKNOWN_CONDITION_KEY",
                &c.key_location,
                format!("`{}` is not a condition key of `{prefix}`", c.key),
            );
        } else if keys::is_aws_key(&c.key) {
            out.emit(
                "UNKNOWN_CONDITION_KEY",
                &c.key_location,
                format!(
                    "`{}` is not a global condition key: requests never carry it, so the \
                     condition {}",
                    c.key,
                    if c.operator.if_exists
                        || c.operator.kind.is_negated()
                        || c.operator.qualifier == SetQualifier::ForAllValues
                    {
                        "always holds"
                    } else {
                        "never holds"
                    }
                ),
            );
        }
        return;
    };
    if c.key_lower == "aws:arn" {
        out.emit(
            "DEPRECATED_GLOBAL_CONDITION_KEY",
            &c.key_location,
            "`aws:ARN` is deprecated: use `aws:PrincipalArn` for the caller or `aws:SourceArn` for \
             the resource making a service-to-service request"
                .into(),
        );
    }
    let vt = c.operator.kind.value_type();
    if !compatible(info.kind, &c.key_lower, vt) {
        out.emit(
            "TYPE_MISMATCH",
            &c.location,
            format!(
                "`{}` compares {} values, but `{}` is of type {}: use {}",
                c.operator_raw,
                type_name(vt),
                c.key,
                info.kind.name(),
                info.kind.operators()
            ),
        );
    }
    let always = match info.presence {
        Presence::Always => true,
        Presence::Signed => cx.is_identity_side() || cx.kind == PolicyKind::ServiceControl,
        Presence::Sometimes => false,
    };
    if c.operator.if_exists && always {
        out.emit(
            "UNNECESSARY_IF_EXISTS",
            &c.location,
            format!(
                "{} carries `{}`, so `IfExists` in `{}` changes nothing: remove it",
                if info.presence == Presence::Signed {
                    "every request this policy applies to"
                } else {
                    "every request"
                },
                c.key,
                c.operator_raw
            ),
        );
    }
    qualifiers(st, c, &info, out);
}

fn qualifiers(st: &Statement, c: &Condition, info: &KeyInfo, out: &mut Findings) {
    if c.operator.kind == OpKind::Null {
        return;
    }
    match (c.operator.qualifier, info.multi) {
        (SetQualifier::ForAllValues, false) => out.emit(
            "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
            &c.location,
            format!(
                "`{}` is single-valued: `ForAllValues` also holds when the key is absent, which \
                 can grant more than intended; remove `ForAllValues:`",
                c.key
            ),
        ),
        (SetQualifier::ForAnyValue, false) => out.emit(
            "FORANYVALUE_WITH_SINGLE_VALUED_KEY",
            &c.location,
            format!(
                "`{}` is single-valued, so `ForAnyValue` adds nothing: remove `ForAnyValue:`",
                c.key
            ),
        ),
        (SetQualifier::Single, true) => out.emit(
            "MISSING_QUALIFIER",
            &c.location,
            format!(
                "`{}` can have several values: say how they are compared with `ForAnyValue:{}` \
                 or `ForAllValues:{}`",
                c.key, c.operator_raw, c.operator_raw
            ),
        ),
        (SetQualifier::ForAllValues, true) => {
            let null_checked = st.conditions.iter().any(|n| {
                n.operator.kind == OpKind::Null
                    && n.key_lower == c.key_lower
                    && n.values.iter().all(|v| v.raw.eq_ignore_ascii_case("false"))
            });
            if st.effect == Effect::Allow && !c.operator.kind.is_negated() && !null_checked {
                out.emit(
                    "FORALLVALUES_ALLOWS_MISSING_KEY",
                    &c.location,
                    format!(
                        "`{}` holds when the request has no `{}` at all, so {} also allows \
                         requests without it: add `\"Null\": {{\"{}\": \"false\"}}`",
                        c.operator_raw,
                        c.key,
                        label(st),
                        c.key
                    ),
                );
            }
        }
        (SetQualifier::ForAnyValue, true) | (SetQualifier::Single, false) => {}
    }
}

fn compatible(key: KeyKind, key_lower: &str, vt: ValueType) -> bool {
    match vt {
        ValueType::Null => true,
        _ if key == KeyKind::Any => true,
        ValueType::String => matches!(key, KeyKind::String | KeyKind::Arn),
        ValueType::Arn => key == KeyKind::Arn,
        ValueType::Numeric => key == KeyKind::Numeric || key_lower == "aws:epochtime",
        ValueType::Date => key == KeyKind::Date,
        ValueType::Bool => key == KeyKind::Bool,
        ValueType::Ip => key == KeyKind::Ip,
        ValueType::Binary => key == KeyKind::Binary,
    }
}

pub(crate) fn type_name(vt: ValueType) -> &'static str {
    match vt {
        ValueType::String => "String",
        ValueType::Numeric => "Numeric",
        ValueType::Date => "Date",
        ValueType::Bool => "Bool",
        ValueType::Binary => "Binary",
        ValueType::Ip => "IP address",
        ValueType::Arn => "ARN",
        ValueType::Null => "Null",
    }
}

/// A service key in a statement none of whose actions belong to that service: requests for
/// those actions never carry the key.
fn service_mismatch(st: &Statement, c: &Condition, out: &mut Findings) {
    let Some((prefix, _)) = c.key_lower.split_once(':') else { return };
    if prefix == "aws" || prefix == "saml" || prefix.contains('.') || keys::global(&c.key).is_some()
    {
        return;
    }
    let actions = &st.action.actions;
    if st.action.negated
        || actions.is_empty()
        || actions.iter().any(|a| a.raw == "*" || a.service.contains(['*', '?']))
        || actions.iter().any(|a| super::resource::related(&a.service, prefix))
    {
        return;
    }
    out.emit(
        "CONDITION_KEY_SERVICE_MISMATCH",
        &c.key_location,
        format!(
            "`{}` is a key of `{prefix}`, but {} has no `{prefix}` actions, whose requests are the \
             only ones to carry it",
            c.key,
            label(st)
        ),
    );
}

/// Keys that are only safe together with others.
fn paired(st: &Statement, out: &mut Findings) {
    const VPC_KEYS: &[&str] = &["aws:sourcevpc", "aws:sourcevpce", "aws:sourcevpcarn"];
    let has = |k: &str| st.conditions.iter().any(|c| c.key_lower == k);
    if let Some(c) = st.conditions.iter().find(|c| c.key_lower == "aws:vpcsourceip") {
        if !VPC_KEYS.iter().any(|k| has(k)) {
            out.emit(
                "MISSING_PAIRED_CONDITION_KEYS",
                &c.key_location,
                "`aws:VpcSourceIp` matches the address in any VPC, including VPCs of other \
                 accounts: pair it with `aws:SourceVpc` or `aws:SourceVpce` in the same statement"
                    .into(),
            );
        }
    }
}
