//! Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`) in `Resource` and in
//! String and ARN condition values: their syntax, whether the key exists and can be substituted,
//! and whether the policy's version substitutes variables at all.

use super::condition::{key_info, known_service_prefix};
use super::keys;
use super::{Ctx, Findings};
use crate::ast::{Location, Statement, Version};
use crate::condition::ValueType;

/// Every variable check of one statement.
pub(crate) fn check(cx: &Ctx, st: &Statement, out: &mut Findings) {
    let mut texts: Vec<(&str, &Location)> = Vec::new();
    if let Some(r) = &st.resource {
        texts.extend(r.resources.iter().map(|x| (x.raw.as_str(), &x.location)));
    }
    for c in &st.conditions {
        if matches!(c.operator.kind.value_type(), ValueType::String | ValueType::Arn) {
            texts.extend(c.values.iter().map(|v| (v.raw.as_str(), &v.location)));
        }
    }
    for (text, at) in texts {
        if !text.contains("${") {
            continue;
        }
        if cx.policy.version == Version::V2008_10_17 {
            out.emit(
                "VARIABLE_UNSUPPORTED_IN_VERSION",
                at,
                format!(
                    "`{text}` has a policy variable, but version 2008-10-17 reads it as literal \
                     text: set `\"Version\": \"2012-10-17\"`"
                ),
            );
        } else {
            scan(cx, text, at, out);
        }
    }
}

/// Reports every malformed or unknown variable in `text`.
fn scan(cx: &Ctx, text: &str, at: &Location, out: &mut Findings) {
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = rest.get(i + 2..).unwrap_or_default();
        if ["*}", "?}", "$}"].iter().any(|e| after.starts_with(e)) {
            rest = after.get(2..).unwrap_or_default();
            continue;
        }
        let mut quoted = false;
        let mut end = None;
        for (k, ch) in after.char_indices() {
            match ch {
                '\'' => quoted = !quoted,
                '}' if !quoted => {
                    end = Some(k);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            out.emit(
                "MISSING_BRACE_IN_VARIABLE",
                at,
                format!("`{text}`: the variable starting at `${{` has no closing `}}`"),
            );
            return;
        };
        let body = after.get(..end).unwrap_or_default();
        rest = after.get(end + 1..).unwrap_or_default();
        variable(cx, text, body, at, out);
    }
}

/// Checks the inside of one `${...}`.
fn variable(cx: &Ctx, text: &str, body: &str, at: &Location, out: &mut Findings) {
    let (key, default) = match body.split_once(',') {
        Some((k, d)) => (k.trim(), Some(d.trim())),
        None => (body.trim(), None),
    };
    if key.is_empty() {
        out.emit(
            "EMPTY_VARIABLE",
            at,
            format!("`{text}` has an empty variable: name a key inside `${{...}}` or remove it"),
        );
        return;
    }
    if key.contains(char::is_whitespace) {
        out.emit(
            "UNSUPPORTED_SPACE_IN_VARIABLE",
            at,
            format!("`{text}`: the variable key `{key}` cannot contain spaces"),
        );
        return;
    }
    if let Some(bad) = key.chars().find(|c| {
        !(c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '.' | '-' | '@' | '+' | '='))
    }) {
        out.emit(
            "UNSUPPORTED_SYMBOL_IN_VARIABLE",
            at,
            format!("`{text}`: the variable key `{key}` cannot contain `{bad}`"),
        );
        return;
    }
    if let Some(d) = default {
        if d.len() < 2 || !d.starts_with('\'') || !d.ends_with('\'') {
            out.emit(
                "MISSING_QUOTE_IN_VARIABLE",
                at,
                format!(
                    "`{text}`: the default value `{d}` must be in single quotes, as in \
                     `${{{key}, 'default'}}`"
                ),
            );
            return;
        }
    }
    let checkable =
        !key.contains(':') || keys::is_aws_key(key) || known_service_prefix(cx, key).is_some();
    if checkable && key_info(cx, key).is_none() {
        out.emit(
            "UNKNOWN_VARIABLE_KEY",
            at,
            format!(
                "`${{{key}}}` names no condition key a request carries, so the element matches \
                 nothing unless a default is given"
            ),
        );
    } else if keys::is_multivalued(key) {
        out.emit(
            "VARIABLE_WITH_MULTIVALUED_KEY",
            at,
            format!(
                "`{key}` can have several values, and multivalued keys are never substituted: \
                 the element matches nothing unless a default is given"
            ),
        );
    }
}
