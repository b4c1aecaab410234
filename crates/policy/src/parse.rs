//! From JSON text to a [`Policy`]: every error IAM would reject the document for, each with a
//! stable code, a message and a location. Parsing continues past an error so a document's
//! problems are reported together.
//!
//! [`parse_policy`] is strict: it is what the server and the validator use. The simulator reads
//! test cases with [`parse_policy_lenient`], which keeps a few malformed forms that AWS still
//! evaluates, each with a warning finding saying how it is read.

use crate::ast::*;
use crate::condition::{Operator, Typed};
use crate::json::{self, Json, JsonValue, Member};
use crate::pattern::{Glob, Template};
use crate::validate::{Finding, Severity};
use std::fmt;

/// One reason a document is not a valid policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Stable code (`INVALID_JSON`, `UNKNOWN_ELEMENT`, ...).
    pub code: &'static str,
    /// Lowercase message; user input quoted in backticks.
    pub message: String,
    /// Where.
    pub location: Location,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.message, self.location)
    }
}

/// Every reason a document is not a valid policy (never empty).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ParseErrors(pub Vec<ParseError>);

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for e in &self.0 {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Parses a policy document, refusing everything IAM would refuse.
pub fn parse_policy(text: &str) -> Result<Policy, ParseErrors> {
    parse(text, false).map(|(policy, _)| policy)
}

/// Parses a policy document the way `hermetic policy simulate` reads test cases: forms IAM
/// refuses but AWS's evaluation still gives a meaning to are kept, each with a `WARNING`
/// finding (the strict parser's code) saying how it is read:
///
/// - an action with a comma, a space or an empty part (`s3:GetObject,PutObject`, `s3: Get*`,
///   `s3:`) matches no action (so in `NotAction` it excludes nothing);
/// - a bare ARN as `Principal` or `NotPrincipal` (`"Principal": "arn:aws:iam::1:role/r"`) is read
///   as `{"AWS": ...}`;
/// - an empty `Statement` array is a policy without statements, which allows nothing.
///
/// Everything else is refused as [`parse_policy`] refuses it.
pub fn parse_policy_lenient(text: &str) -> Result<(Policy, Vec<Finding>), ParseErrors> {
    parse(text, true)
}

fn parse(text: &str, lenient: bool) -> Result<(Policy, Vec<Finding>), ParseErrors> {
    let doc = json::parse(text).map_err(|e| {
        ParseErrors(vec![ParseError {
            code: "INVALID_JSON",
            message: format!("the policy is not valid JSON: {}", e.message),
            location: Location { pos: e.pos, path: "$".into() },
        }])
    })?;
    let size = text.chars().filter(|c| !c.is_whitespace()).count();
    let mut p = Parser { errors: Vec::new(), lenient, tolerated: Vec::new() };
    let policy = p.policy(&doc, size);
    match policy {
        Some(policy) if p.errors.is_empty() => Ok((policy, p.tolerated)),
        _ => {
            if p.errors.is_empty() {
                p.err("INVALID_POLICY", "the policy is not valid".into(), &doc, "$");
            }
            Err(ParseErrors(p.errors))
        }
    }
}

struct Parser {
    errors: Vec<ParseError>,
    /// Whether forms AWS still evaluates are kept (with a finding) rather than refused.
    lenient: bool,
    /// The findings for the forms kept.
    tolerated: Vec<Finding>,
}

fn loc(v: &Json, path: &str) -> Location {
    Location { pos: v.pos, path: path.to_string() }
}

fn member_loc(m: &Member, path: &str) -> Location {
    Location { pos: m.name_pos, path: path.to_string() }
}

impl Parser {
    fn err(&mut self, code: &'static str, message: String, at: &Json, path: &str) {
        self.errors.push(ParseError { code, message, location: loc(at, path) });
    }

    fn err_at(&mut self, code: &'static str, message: String, location: Location) {
        self.errors.push(ParseError { code, message, location });
    }

    /// A form IAM refuses that AWS still evaluates: in lenient mode a warning saying how it is
    /// read (`reading`), and true (the caller keeps it); in strict mode an error, and false.
    fn tolerate(
        &mut self,
        code: &'static str,
        message: String,
        location: Location,
        reading: &str,
    ) -> bool {
        if !self.lenient {
            self.err_at(code, message, location);
            return false;
        }
        self.tolerated.push(Finding {
            code,
            severity: Severity::Warning,
            message: format!(
                "{message}; IAM would refuse the policy, the simulator reads it {reading}"
            ),
            location,
            learn_more: crate::validate::learn_more(code),
        });
        true
    }

    /// Checks an object's member names against `allowed`, reporting unknown and duplicate ones.
    fn members<'a>(
        &mut self,
        members: &'a [Member],
        allowed: &[&str],
        path: &str,
    ) -> Vec<&'a Member> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for m in members {
            let here = format!("{path}.{}", m.name);
            if !allowed.contains(&m.name.as_str()) {
                let hint = allowed
                    .iter()
                    .find(|a| a.eq_ignore_ascii_case(&m.name))
                    .map(|a| format!(" (element names are case-sensitive: use `{a}`)"))
                    .unwrap_or_default();
                self.err_at(
                    "UNKNOWN_ELEMENT",
                    format!("unknown element `{}`{hint}", m.name),
                    member_loc(m, &here),
                );
                continue;
            }
            if seen.contains(&m.name.as_str()) {
                self.err_at(
                    "DUPLICATE_ELEMENT",
                    format!("element `{}` appears more than once", m.name),
                    member_loc(m, &here),
                );
                continue;
            }
            seen.push(&m.name);
            out.push(m);
        }
        out
    }

    fn policy(&mut self, doc: &Json, size: usize) -> Option<Policy> {
        let JsonValue::Object(members) = &doc.value else {
            self.err(
                "NOT_AN_OBJECT",
                format!("a policy must be a JSON object, not {}", doc.value.kind()),
                doc,
                "$",
            );
            return None;
        };
        let members = self.members(members, &["Version", "Id", "Statement"], "$");
        let find = |name: &str| members.iter().find(|m| m.name == name).map(|m| &m.value);
        let mut version = Version::V2008_10_17;
        let version_explicit = find("Version").is_some();
        if let Some(v) = find("Version") {
            match &v.value {
                JsonValue::String(s) if s == "2012-10-17" => version = Version::V2012_10_17,
                JsonValue::String(s) if s == "2008-10-17" => version = Version::V2008_10_17,
                other => self.err(
                    "INVALID_VERSION",
                    format!(
                        "`Version` must be \"2012-10-17\" or \"2008-10-17\", not {}",
                        describe(other)
                    ),
                    v,
                    "$.Version",
                ),
            }
        }
        let id = match find("Id") {
            Some(Json { value: JsonValue::String(s), .. }) => Some(s.clone()),
            Some(other) => {
                self.err("INVALID_ID", "`Id` must be a string".into(), other, "$.Id");
                None
            }
            None => None,
        };
        let substitute = version == Version::V2012_10_17;
        let (statements, statement_is_array) = match find("Statement") {
            None => {
                self.err("MISSING_STATEMENT", "the policy has no `Statement`".into(), doc, "$");
                (Vec::new(), false)
            }
            Some(s @ Json { value: JsonValue::Object(_), .. }) => {
                (self.statement(s, 0, "$.Statement", substitute).into_iter().collect(), false)
            }
            Some(s @ Json { value: JsonValue::Array(items), .. }) => {
                if items.is_empty() {
                    self.tolerate(
                        "MISSING_STATEMENT",
                        "`Statement` must have at least one statement".into(),
                        loc(s, "$.Statement"),
                        "as a policy without statements, which allows nothing",
                    );
                }
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let path = format!("$.Statement[{i}]");
                    if let Some(st) = self.statement(item, i, &path, substitute) {
                        out.push(st);
                    }
                }
                (out, true)
            }
            Some(other) => {
                self.err(
                    "INVALID_STATEMENT",
                    format!(
                        "`Statement` must be an object or an array, not {}",
                        other.value.kind()
                    ),
                    other,
                    "$.Statement",
                );
                (Vec::new(), false)
            }
        };
        let mut sids: Vec<(&str, &Location)> = Vec::new();
        let mut dup = Vec::new();
        for st in &statements {
            if let Some(sid) = &st.sid {
                if sids.iter().any(|(s, _)| *s == sid) {
                    dup.push((sid.clone(), st.location.clone()));
                }
                sids.push((sid, &st.location));
            }
        }
        for (sid, location) in dup {
            self.err_at(
                "DUPLICATE_SID",
                format!("statement ids must be unique within a policy: `{sid}` is repeated"),
                location,
            );
        }
        let index = crate::index::ActionIndex::build(&statements);
        Some(Policy { version, version_explicit, id, statements, statement_is_array, size, index })
    }

    fn statement(
        &mut self,
        v: &Json,
        index: usize,
        path: &str,
        substitute: bool,
    ) -> Option<Statement> {
        let JsonValue::Object(members) = &v.value else {
            self.err(
                "INVALID_STATEMENT",
                format!("a statement must be an object, not {}", v.value.kind()),
                v,
                path,
            );
            return None;
        };
        let members = self.members(
            members,
            &[
                "Sid",
                "Effect",
                "Principal",
                "NotPrincipal",
                "Action",
                "NotAction",
                "Resource",
                "NotResource",
                "Condition",
            ],
            path,
        );
        let find = |name: &str| members.iter().find(|m| m.name == name).map(|m| &m.value);
        let errors_before = self.errors.len();
        let sid = match find("Sid") {
            Some(Json { value: JsonValue::String(s), .. }) => Some(s.clone()),
            Some(other) => {
                self.err(
                    "INVALID_SID",
                    "`Sid` must be a string".into(),
                    other,
                    &format!("{path}.Sid"),
                );
                None
            }
            None => None,
        };
        let effect = match find("Effect") {
            Some(Json { value: JsonValue::String(s), .. }) if s == "Allow" => Some(Effect::Allow),
            Some(Json { value: JsonValue::String(s), .. }) if s == "Deny" => Some(Effect::Deny),
            Some(other) => {
                self.err(
                    "INVALID_EFFECT",
                    format!(
                        "`Effect` must be \"Allow\" or \"Deny\", not {}",
                        describe(&other.value)
                    ),
                    other,
                    &format!("{path}.Effect"),
                );
                None
            }
            None => {
                self.err("MISSING_EFFECT", "the statement has no `Effect`".into(), v, path);
                None
            }
        };
        let principal = match (find("Principal"), find("NotPrincipal")) {
            (Some(_), Some(_)) => {
                self.err(
                    "PRINCIPAL_AND_NOTPRINCIPAL",
                    "a statement cannot have both `Principal` and `NotPrincipal`".into(),
                    v,
                    path,
                );
                None
            }
            (Some(p), None) => self.principal(p, false, &format!("{path}.Principal")),
            (None, Some(p)) => self.principal(p, true, &format!("{path}.NotPrincipal")),
            (None, None) => None,
        };
        let action = match (find("Action"), find("NotAction")) {
            (Some(_), Some(_)) => {
                self.err(
                    "ACTION_AND_NOTACTION",
                    "a statement cannot have both `Action` and `NotAction`".into(),
                    v,
                    path,
                );
                None
            }
            (Some(a), None) => self.actions(a, false, &format!("{path}.Action")),
            (None, Some(a)) => self.actions(a, true, &format!("{path}.NotAction")),
            (None, None) => {
                self.err(
                    "MISSING_ACTION",
                    "the statement has no `Action` or `NotAction`".into(),
                    v,
                    path,
                );
                None
            }
        };
        let resource = match (find("Resource"), find("NotResource")) {
            (Some(_), Some(_)) => {
                self.err(
                    "RESOURCE_AND_NOTRESOURCE",
                    "a statement cannot have both `Resource` and `NotResource`".into(),
                    v,
                    path,
                );
                None
            }
            (Some(r), None) => self.resources(r, false, &format!("{path}.Resource"), substitute),
            (None, Some(r)) => self.resources(r, true, &format!("{path}.NotResource"), substitute),
            (None, None) => None,
        };
        let conditions = match find("Condition") {
            Some(c) => self.conditions(c, &format!("{path}.Condition"), substitute),
            None => Vec::new(),
        };
        if self.errors.len() > errors_before {
            return None;
        }
        Some(Statement {
            index,
            sid,
            effect: effect?,
            principal,
            action: action?,
            resource,
            conditions,
            location: loc(v, path),
        })
    }

    /// A string or a non-empty array of strings.
    fn strings<'a>(&mut self, v: &'a Json, path: &str, what: &str) -> Vec<(&'a str, Location)> {
        match &v.value {
            JsonValue::String(s) => vec![(s.as_str(), loc(v, path))],
            JsonValue::Array(items) => {
                if items.is_empty() {
                    self.err(
                        "EMPTY_ARRAY",
                        format!("`{what}` must not be an empty array"),
                        v,
                        path,
                    );
                }
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    match &item.value {
                        JsonValue::String(s) => out.push((s.as_str(), loc(item, &p))),
                        other => self.err(
                            "INVALID_TYPE",
                            format!("every `{what}` entry must be a string, not {}", other.kind()),
                            item,
                            &p,
                        ),
                    }
                }
                out
            }
            other => {
                self.err(
                    "INVALID_TYPE",
                    format!(
                        "`{what}` must be a string or an array of strings, not {}",
                        other.kind()
                    ),
                    v,
                    path,
                );
                Vec::new()
            }
        }
    }

    fn principal(&mut self, v: &Json, negated: bool, path: &str) -> Option<PrincipalClause> {
        let what = if negated { "NotPrincipal" } else { "Principal" };
        let set = match &v.value {
            JsonValue::String(s) if s == "*" => PrincipalSet::Any,
            JsonValue::Object(members) => {
                let members =
                    self.members(members, &["AWS", "Service", "Federated", "CanonicalUser"], path);
                let mut entries = Vec::new();
                for m in members {
                    let kind = match m.name.as_str() {
                        "AWS" => PrincipalKind::Aws,
                        "Service" => PrincipalKind::Service,
                        "Federated" => PrincipalKind::Federated,
                        _ => PrincipalKind::CanonicalUser,
                    };
                    let p = format!("{path}.{}", m.name);
                    for (value, location) in self.strings(&m.value, &p, what) {
                        entries.push(PrincipalEntry { kind, value: value.to_string(), location });
                    }
                }
                if entries.is_empty() {
                    self.err("EMPTY_PRINCIPAL", format!("`{what}` names no principal"), v, path);
                }
                PrincipalSet::Named(entries)
            }
            other => {
                let message = format!(
                    "`{what}` must be \"*\" or an object with `AWS`, `Service`, `Federated` or `CanonicalUser`, not {}",
                    describe(other)
                );
                // A bare ARN (or account) string: read as `{"AWS": ...}`.
                let JsonValue::String(value) = other else {
                    self.err("INVALID_PRINCIPAL", message, v, path);
                    return None;
                };
                let reading = format!("as {{\"AWS\": \"{value}\"}}");
                if !self.tolerate("INVALID_PRINCIPAL", message, loc(v, path), &reading) {
                    return None;
                }
                PrincipalSet::Named(vec![PrincipalEntry {
                    kind: PrincipalKind::Aws,
                    value: value.clone(),
                    location: loc(v, path),
                }])
            }
        };
        Some(PrincipalClause { negated, set, location: loc(v, path) })
    }

    fn actions(&mut self, v: &Json, negated: bool, path: &str) -> Option<ActionClause> {
        let what = if negated { "NotAction" } else { "Action" };
        let mut actions = Vec::new();
        for (raw, location) in self.strings(v, path, what) {
            if raw == "*" {
                actions.push(ActionPattern {
                    raw: raw.into(),
                    service: "*".into(),
                    name: "*".into(),
                    pattern: Glob::new("*", true),
                    never: false,
                    location,
                });
                continue;
            }
            let Some((service, name)) = raw.split_once(':') else {
                self.err_at(
                    "INVALID_ACTION",
                    format!("action `{raw}` must be `*` or have the form `service:action`"),
                    location,
                );
                continue;
            };
            let service_ok = !service.is_empty()
                && service
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*' || b == b'?');
            let name_ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '?' | '-' | '_' | '.'));
            if !service_ok || !name_ok {
                // A comma, a space or an empty part: AWS compares the text with the request's
                // action, so it matches nothing.
                let kept = self.tolerate(
                    "INVALID_ACTION",
                    format!("action `{raw}` is not a valid service prefix and action name"),
                    location.clone(),
                    "as an action that matches nothing",
                );
                if kept {
                    actions.push(ActionPattern {
                        raw: raw.into(),
                        service: service.to_lowercase(),
                        name: name.to_lowercase(),
                        pattern: Glob::new(&raw.to_lowercase(), false),
                        never: true,
                        location,
                    });
                }
                continue;
            }
            let lower = raw.to_lowercase();
            actions.push(ActionPattern {
                raw: raw.into(),
                service: service.to_lowercase(),
                name: name.to_lowercase(),
                pattern: Glob::new(&lower, true),
                never: false,
                location,
            });
        }
        Some(ActionClause { negated, actions, location: loc(v, path) })
    }

    fn resources(
        &mut self,
        v: &Json,
        negated: bool,
        path: &str,
        substitute: bool,
    ) -> Option<ResourceClause> {
        let what = if negated { "NotResource" } else { "Resource" };
        let mut resources = Vec::new();
        for (raw, location) in self.strings(v, path, what) {
            if raw != "*" && !raw.starts_with("arn:") {
                self.err_at(
                    "INVALID_RESOURCE",
                    format!("resource `{raw}` must be an ARN (`arn:...`) or `*`"),
                    location,
                );
                continue;
            }
            if raw != "*" && raw.splitn(6, ':').count() < 6 && !raw.contains('*') {
                self.err_at(
                    "INVALID_RESOURCE",
                    format!(
                        "resource `{raw}` is not a complete ARN: it needs six `:`-separated parts"
                    ),
                    location,
                );
                continue;
            }
            resources.push(ResourcePattern {
                raw: raw.into(),
                template: Template::new(raw, substitute, true),
                location,
            });
        }
        Some(ResourceClause { negated, resources, location: loc(v, path) })
    }

    fn conditions(&mut self, v: &Json, path: &str, substitute: bool) -> Vec<Condition> {
        let JsonValue::Object(ops) = &v.value else {
            self.err(
                "INVALID_CONDITION",
                format!("`Condition` must be an object, not {}", v.value.kind()),
                v,
                path,
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut seen_ops: Vec<&str> = Vec::new();
        for op_member in ops {
            let op_path = format!("{path}.{}", op_member.name);
            if seen_ops.contains(&op_member.name.as_str()) {
                self.err_at(
                    "DUPLICATE_ELEMENT",
                    format!("condition operator `{}` appears more than once", op_member.name),
                    member_loc(op_member, &op_path),
                );
                continue;
            }
            seen_ops.push(&op_member.name);
            let Some(operator) = Operator::parse(&op_member.name) else {
                self.err_at(
                    "UNKNOWN_CONDITION_OPERATOR",
                    format!("`{}` is not a condition operator", op_member.name),
                    member_loc(op_member, &op_path),
                );
                continue;
            };
            let JsonValue::Object(keys) = &op_member.value.value else {
                self.err(
                    "INVALID_CONDITION",
                    format!("condition operator `{}` must map keys to values", op_member.name),
                    &op_member.value,
                    &op_path,
                );
                continue;
            };
            if keys.is_empty() {
                self.err(
                    "INVALID_CONDITION",
                    format!("condition operator `{}` has no keys", op_member.name),
                    &op_member.value,
                    &op_path,
                );
            }
            let mut seen_keys: Vec<String> = Vec::new();
            for key_member in keys {
                let key_path = format!("{op_path}.{}", key_member.name);
                let key_lower = key_member.name.to_lowercase();
                if seen_keys.contains(&key_lower) {
                    self.err_at(
                        "DUPLICATE_ELEMENT",
                        format!(
                            "condition key `{}` appears more than once under `{}`",
                            key_member.name, op_member.name
                        ),
                        member_loc(key_member, &key_path),
                    );
                    continue;
                }
                if key_member.name.is_empty() {
                    self.err_at(
                        "INVALID_CONDITION",
                        "a condition key must not be empty".into(),
                        member_loc(key_member, &key_path),
                    );
                    continue;
                }
                seen_keys.push(key_lower.clone());
                let (raw_values, values_is_array) =
                    self.condition_values(&key_member.value, &key_path);
                let values = raw_values
                    .into_iter()
                    .map(|(raw, json_kind, location)| ConditionValue {
                        template: Template::new(&raw, substitute, operator.kind.has_wildcards()),
                        typed: Typed::parse(operator.kind, &raw),
                        raw,
                        json_kind,
                        location,
                    })
                    .collect();
                out.push(Condition {
                    operator,
                    operator_raw: op_member.name.clone(),
                    key: key_member.name.clone(),
                    key_lower,
                    values,
                    values_is_array,
                    location: member_loc(op_member, &op_path),
                    key_location: member_loc(key_member, &key_path),
                });
            }
        }
        out
    }

    /// Condition values: a scalar (string, number, boolean) or a non-empty array of scalars.
    fn condition_values(
        &mut self,
        v: &Json,
        path: &str,
    ) -> (Vec<(String, &'static str, Location)>, bool) {
        let scalar = |j: &Json| -> Option<(String, &'static str)> {
            match &j.value {
                JsonValue::String(s) => Some((s.clone(), "string")),
                JsonValue::Number(n) => Some((n.clone(), "number")),
                JsonValue::Bool(b) => Some((b.to_string(), "boolean")),
                _ => None,
            }
        };
        if let Some((s, kind)) = scalar(v) {
            return (vec![(s, kind, loc(v, path))], false);
        }
        let JsonValue::Array(items) = &v.value else {
            self.err(
                "INVALID_CONDITION_VALUE",
                format!(
                    "a condition value must be a string, number, boolean or array of them, not {}",
                    v.value.kind()
                ),
                v,
                path,
            );
            return (Vec::new(), false);
        };
        if items.is_empty() {
            self.err("EMPTY_ARRAY", "a condition needs at least one value".into(), v, path);
        }
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            match scalar(item) {
                Some((s, kind)) => out.push((s, kind, loc(item, &p))),
                None => self.err(
                    "INVALID_CONDITION_VALUE",
                    format!(
                        "a condition value must be a string, number or boolean, not {}",
                        item.value.kind()
                    ),
                    item,
                    &p,
                ),
            }
        }
        (out, true)
    }
}

fn describe(v: &JsonValue) -> String {
    match v {
        JsonValue::String(s) => format!("`{s}`"),
        other => other.kind().to_string(),
    }
}
