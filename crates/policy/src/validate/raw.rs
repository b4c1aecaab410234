//! Checks that read the JSON itself: they run even when the document does not parse (so the
//! finding names the real cause next to the parser's error), and they see what the parsed form
//! leaves out (element positions, empty blocks).

use super::Findings;
use crate::ast::Location;
use crate::json::{Json, JsonValue, Member};

/// One statement object of the document with its JSON path.
pub(crate) struct RawStatement<'a> {
    /// The statement's members.
    pub(crate) members: &'a [Member],
    /// `$.Statement[i]`, or `$.Statement` when the statement is a single object.
    pub(crate) path: String,
}

/// The statement objects of the document, in order (entries that are not objects are skipped
/// but keep their index).
pub(crate) fn statements(root: &Json) -> Vec<(usize, RawStatement<'_>)> {
    let JsonValue::Object(members) = &root.value else { return Vec::new() };
    let Some(st) = member(members, "Statement") else { return Vec::new() };
    match &st.value.value {
        JsonValue::Object(m) => {
            vec![(0, RawStatement { members: m, path: "$.Statement".into() })]
        }
        JsonValue::Array(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match &item.value {
                JsonValue::Object(m) => {
                    Some((i, RawStatement { members: m, path: format!("$.Statement[{i}]") }))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The first member named `name`.
pub(crate) fn member<'a>(members: &'a [Member], name: &str) -> Option<&'a Member> {
    members.iter().find(|m| m.name == name)
}

/// The location of a top-level element's value, or of the document when it is absent.
pub(crate) fn top_level(root: &Json, name: &str) -> Location {
    if let JsonValue::Object(members) = &root.value {
        if let Some(m) = member(members, name) {
            return Location { pos: m.value.pos, path: format!("$.{name}") };
        }
    }
    Location { pos: root.pos, path: "$".into() }
}

/// The location of a statement member's value (`Sid`, ...), when the statement has it.
pub(crate) fn statement_member(root: &Json, index: usize, name: &str) -> Option<Location> {
    statements(root).into_iter().find(|(i, _)| *i == index).and_then(|(_, st)| {
        member(st.members, name)
            .map(|m| Location { pos: m.value.pos, path: format!("{}.{name}", st.path) })
    })
}

/// The JSON-level checks.
pub(crate) fn checks(root: &Json, out: &mut Findings) {
    for (_, st) in statements(root) {
        for m in st.members {
            let path = format!("{}.{}", st.path, m.name);
            match m.name.as_str() {
                "Action" | "NotAction" | "Principal" | "NotPrincipal" => {
                    variables_in(&m.value, &path, &m.name, out);
                }
                "Condition" => condition_block(m, &path, out),
                _ => {}
            }
        }
    }
}

/// Strings holding `${` in an element that does not take policy variables.
fn variables_in(v: &Json, path: &str, element: &str, out: &mut Findings) {
    match &v.value {
        JsonValue::String(s) if s.contains("${") => out.emit(
            "VARIABLE_UNSUPPORTED_IN_ELEMENT",
            &Location { pos: v.pos, path: path.to_string() },
            format!(
                "`{s}` has a policy variable, but `{element}` does not take variables (only \
                 `Resource` and condition values do)"
            ),
        ),
        JsonValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                variables_in(item, &format!("{path}[{i}]"), element, out);
            }
        }
        JsonValue::Object(members) => {
            for m in members {
                variables_in(&m.value, &format!("{path}.{}", m.name), element, out);
            }
        }
        _ => {}
    }
}

fn condition_block(m: &Member, path: &str, out: &mut Findings) {
    let JsonValue::Object(ops) = &m.value.value else { return };
    if ops.is_empty() {
        out.emit(
            "EMPTY_OBJECT_CONDITION",
            &Location { pos: m.value.pos, path: path.to_string() },
            "the `Condition` block is empty and changes nothing: remove it or add conditions"
                .into(),
        );
    }
    for op in ops {
        let at = Location { pos: op.name_pos, path: format!("{path}.{}", op.name) };
        let (qualified, rest) = match op.name.split_once(':') {
            Some((q, rest)) if q == "ForAllValues" || q == "ForAnyValue" => (true, rest),
            _ => (false, op.name.as_str()),
        };
        if rest == "NullIfExists" {
            out.emit(
                "NULL_WITH_IF_EXISTS",
                &at,
                format!(
                    "`{}`: `Null` cannot take `IfExists`, it already tests whether the key exists",
                    op.name
                ),
            );
        } else if qualified && rest == "Null" {
            out.emit(
                "NULL_WITH_QUALIFIER",
                &at,
                format!(
                    "`{}`: `Null` with a set qualifier is always true (`ForAllValues`) or always \
                     false (`ForAnyValue`); use plain `Null`",
                    op.name
                ),
            );
        }
    }
}
