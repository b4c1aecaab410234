//! IAM Access Analyzer's `ValidatePolicy` (`POST /policy/validation`, rest-json): the policy
//! validator's findings ([`policy::validate`]) in Access Analyzer's shape, each located by a path
//! through the document's JSON and a span of its text.
//!
//! The document is the caller's data: it is never logged nor copied into the audit event. A
//! document that is not JSON is answered with findings (the syntax errors), as AWS does, not with
//! an error. Pages are cut from the full list of findings, which validation computes the same way
//! for the same document, so the token is simply the index of the next finding.

use crate::error::ApiError;
use policy::json::{self, Json, JsonValue, Member, Position};
use policy::validate::{Finding, Limits, PolicyKind};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The page the IAM User Guide's policy grammar is on: the link of findings without their own.
const GRAMMAR: &str =
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html";

/// The locales Access Analyzer accepts; findings are written in English whichever is asked for.
const LOCALES: [&str; 10] = ["DE", "EN", "ES", "FR", "IT", "JA", "KO", "PT_BR", "ZH_CN", "ZH_TW"];

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::sender(400, "ValidationException", message)
}

/// `ValidatePolicy`'s input: the body's members and the query's `maxResults` and
/// `nextToken`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValidatePolicy {
    locale: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    policy_document: String,
    policy_type: String,
    validate_policy_resource_type: Option<String>,
}

/// The rules and quotas a request asks for: its `policyType` and `validatePolicyResourceType`.
fn kind_and_limits(input: &ValidatePolicy) -> Result<(PolicyKind, Limits), ApiError> {
    let policy_type = input.policy_type.as_str();
    let resource_type = input.validate_policy_resource_type.as_deref();
    let kind = match policy_type {
        "IDENTITY_POLICY" => PolicyKind::Identity,
        "RESOURCE_POLICY" => PolicyKind::Resource,
        "SERVICE_CONTROL_POLICY" => PolicyKind::ServiceControl,
        "RESOURCE_CONTROL_POLICY" => PolicyKind::ResourceControl,
        other => {
            return Err(validation(format!(
                "policyType `{other}` is not one of IDENTITY_POLICY, RESOURCE_POLICY, \
                 SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY"
            )))
        }
    };
    let Some(resource_type) = resource_type else {
        return Ok((kind, Limits::for_kind(kind)));
    };
    if kind != PolicyKind::Resource {
        return Err(validation(
            "validatePolicyResourceType may be given only when policyType is RESOURCE_POLICY",
        ));
    }
    match resource_type {
        "AWS::IAM::AssumeRolePolicyDocument" => {
            Ok((PolicyKind::Trust, Limits::for_kind(PolicyKind::Trust)))
        }
        "AWS::S3::Bucket" => Ok((PolicyKind::Resource, Limits::S3_BUCKET)),
        "AWS::S3::AccessPoint"
        | "AWS::S3::MultiRegionAccessPoint"
        | "AWS::S3ObjectLambda::AccessPoint"
        | "AWS::DynamoDB::Table" => Ok((PolicyKind::Resource, Limits::RESOURCE)),
        other => Err(validation(format!(
            "validatePolicyResourceType `{other}` is not one of AWS::S3::Bucket, \
             AWS::S3::AccessPoint, AWS::S3::MultiRegionAccessPoint, \
             AWS::S3ObjectLambda::AccessPoint, AWS::IAM::AssumeRolePolicyDocument, \
             AWS::DynamoDB::Table"
        ))),
    }
}

/// Which findings a request asks for: from the `nextToken` index, at most `maxResults` of them
/// (all when absent). Read before validating, so a bad page costs no validation.
fn page(input: &ValidatePolicy) -> Result<(usize, usize), ApiError> {
    let start = match input.next_token.as_deref() {
        None => 0,
        Some(token) => token
            .parse::<usize>()
            .ok()
            .filter(|_| token.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(bad_token)?,
    };
    let size = match input.max_results {
        None => usize::MAX,
        Some(n) => Some(n)
            .filter(|n| *n >= 1)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| validation("maxResults must be a whole number of at least 1"))?,
    };
    Ok((start, size))
}

fn bad_token() -> ApiError {
    validation("nextToken is not a token this operation returned")
}

/// Answers `ValidatePolicy`: the body's `policyDocument`, `policyType`, `locale` and
/// `validatePolicyResourceType`, the query's `maxResults` and `nextToken`.
pub(crate) fn validate_policy(input: &ValidatePolicy) -> Result<Value, ApiError> {
    let text = input.policy_document.as_str();
    let (kind, limits) = kind_and_limits(input)?;
    match input.locale.as_deref() {
        None => {}
        Some(l) if LOCALES.contains(&l) => {}
        Some(_) => return Err(validation(format!("locale must be one of {}", LOCALES.join(", ")))),
    }
    let (start, size) = page(input)?;
    let findings = policy::validate::validate_with(text, kind, &limits);
    if start > findings.len() {
        return Err(bad_token());
    }
    let shown: Vec<&Finding> = findings.iter().skip(start).take(size).collect();
    // Locating findings reads the document again: only when there is one to locate.
    let listed: Vec<Value> = if shown.is_empty() {
        Vec::new()
    } else {
        let doc = Document::new(text);
        shown.into_iter().map(|f| doc.finding(f)).collect()
    };
    let next = start.saturating_add(listed.len());
    let mut answer = json!({ "findings": listed });
    if next < findings.len() {
        if let Some(obj) = answer.as_object_mut() {
            obj.insert("nextToken".into(), json!(next.to_string()));
        }
    }
    Ok(answer)
}

/// One step of a location's path, as Access Analyzer's `PathElement` union.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathElement {
    /// An element of an array.
    Index(usize),
    /// The name of an object member (the finding is about the name itself).
    Key(String),
    /// The value of an object member.
    Value(String),
}

impl PathElement {
    fn to_json(&self) -> Value {
        match self {
            PathElement::Index(i) => json!({ "index": i }),
            PathElement::Key(k) => json!({ "key": k }),
            PathElement::Value(v) => json!({ "value": v }),
        }
    }
}

/// A place in the document text: line from 1, column and offset from 0, in characters (Unicode
/// scalar values), lines ending at `\n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextPosition {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 0.
    pub column: usize,
    /// The offset from the start of the document, from 0.
    pub offset: usize,
}

impl TextPosition {
    fn to_json(self) -> Value {
        json!({ "line": self.line, "column": self.column, "offset": self.offset })
    }
}

/// The policy document, indexed to turn the validator's locations into paths and spans.
pub struct Document {
    chars: Vec<char>,
    /// The offset each line starts at.
    line_starts: Vec<usize>,
    /// The document's JSON when it parses.
    tree: Option<Json>,
    /// Span ends already computed, by start offset.
    ends: std::cell::RefCell<HashMap<usize, usize>>,
}

impl Document {
    /// Indexes `text`.
    pub fn new(text: &str) -> Document {
        let chars: Vec<char> = text.chars().collect();
        let mut line_starts = vec![0];
        line_starts.extend(
            chars.iter().enumerate().filter(|(_, c)| **c == '\n').map(|(i, _)| i.saturating_add(1)),
        );
        Document {
            chars,
            line_starts,
            tree: json::parse(text).ok(),
            ends: std::cell::RefCell::new(HashMap::new()),
        }
    }

    /// One finding in Access Analyzer's shape.
    fn finding(&self, f: &Finding) -> Value {
        let locations: Vec<Value> = self
            .location(&f.location)
            .map(|(path, start, end)| {
                json!({
                    "path": path.iter().map(PathElement::to_json).collect::<Vec<_>>(),
                    "span": { "start": start.to_json(), "end": end.to_json() },
                })
            })
            .into_iter()
            .collect();
        json!({
            "findingDetails": f.message,
            "findingType": f.severity.as_str(),
            "issueCode": f.code,
            "learnMoreLink": f.learn_more.unwrap_or(GRAMMAR),
            "locations": locations,
        })
    }

    /// The path and span (start inclusive, end exclusive) of a validator location; none when
    /// the finding has no place in the document.
    pub fn location(
        &self,
        location: &policy::Location,
    ) -> Option<(Vec<PathElement>, TextPosition, TextPosition)> {
        if location.path.is_empty() || location.pos.line == 0 {
            return None;
        }
        let path = self.path(&location.path, location.pos);
        let start = self.offset(location.pos);
        let end = self.span_end(start);
        Some((path, self.position(start), self.position(end)))
    }

    /// The character offset of a validator position (line and column from 1), clamped to the
    /// line it names and to the document.
    fn offset(&self, pos: Position) -> usize {
        let line = usize::try_from(pos.line).unwrap_or(usize::MAX).saturating_sub(1);
        let Some(start) = self.line_starts.get(line) else {
            return self.chars.len();
        };
        // The line's last character is its `\n` (or the document's end).
        let last = self
            .line_starts
            .get(line.saturating_add(1))
            .map_or(self.chars.len(), |next| next.saturating_sub(1));
        let column = usize::try_from(pos.column).unwrap_or(usize::MAX).saturating_sub(1);
        start.saturating_add(column).min(last)
    }

    /// The line, column and offset of a character offset.
    fn position(&self, offset: usize) -> TextPosition {
        let line = self.line_starts.partition_point(|s| *s <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        TextPosition { line, column: offset.saturating_sub(start), offset }
    }

    /// Where the JSON token or value starting at `start` ends (exclusive): a whole string, number,
    /// literal, object or array; one character when none starts there (a syntax error's place).
    fn span_end(&self, start: usize) -> usize {
        if let Some(end) = self.ends.borrow().get(&start) {
            return *end;
        }
        let end = scan_value(&self.chars, start);
        self.ends.borrow_mut().insert(start, end);
        end
    }

    /// The path elements of a validator JSON path (`$.Statement[0].Action[1]`), following the
    /// document's JSON so member names holding `.` or `[` are read whole; where the document has
    /// no such element (or is not JSON), the rest of the path is split on `.` and `[`.
    fn path(&self, path: &str, pos: Position) -> Vec<PathElement> {
        let mut rest = path.strip_prefix('$').unwrap_or(path);
        let mut node = self.tree.as_ref();
        let mut out = Vec::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let Some((digits, tail)) = after.split_once(']') else { break };
                let Ok(index) = digits.parse::<usize>() else { break };
                out.push(PathElement::Index(index));
                node = node.and_then(|n| match &n.value {
                    JsonValue::Array(items) => items.get(index),
                    _ => None,
                });
                rest = tail;
            } else if let Some(after) = rest.strip_prefix('.') {
                match node.and_then(|n| member(n, after, pos)) {
                    Some(m) => {
                        let tail = after.get(m.name.len()..).unwrap_or("");
                        out.push(if tail.is_empty() && m.name_pos == pos {
                            PathElement::Key(m.name.clone())
                        } else {
                            PathElement::Value(m.name.clone())
                        });
                        node = Some(&m.value);
                        rest = tail;
                    }
                    None => {
                        let cut = after.find(['.', '[']).unwrap_or(after.len());
                        let (name, tail) = after.split_at_checked(cut).unwrap_or((after, ""));
                        out.push(PathElement::Value(name.to_string()));
                        node = None;
                        rest = tail;
                    }
                }
            } else {
                break;
            }
        }
        out
    }
}

/// The member of object `n` that path text `after` (what follows a `.`) names: among the
/// members whose name is followed in the path by its end, `.` or `[`, the last one starting at
/// or before `pos` (the one whose subtree holds the located element), else the first.
fn member<'a>(n: &'a Json, after: &str, pos: Position) -> Option<&'a Member> {
    let JsonValue::Object(members) = &n.value else { return None };
    let named = |m: &&Member| {
        after
            .strip_prefix(m.name.as_str())
            .is_some_and(|tail| tail.is_empty() || tail.starts_with('.') || tail.starts_with('['))
    };
    members
        .iter()
        .filter(named)
        .filter(|m| m.name_pos <= pos)
        .max_by_key(|m| m.name_pos)
        .or_else(|| members.iter().find(named))
}

/// The end (exclusive) of the JSON value or token that starts at `start` in `chars`.
fn scan_value(chars: &[char], start: usize) -> usize {
    let len = chars.len();
    let Some(first) = chars.get(start) else { return len.min(start) };
    match first {
        '"' => scan_string(chars, start),
        '{' | '[' => {
            let mut depth = 0usize;
            let mut at = start;
            while let Some(c) = chars.get(at) {
                match c {
                    '"' => {
                        at = scan_string(chars, at);
                        continue;
                    }
                    '{' | '[' => depth = depth.saturating_add(1),
                    '}' | ']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return at.saturating_add(1);
                        }
                    }
                    _ => {}
                }
                at = at.saturating_add(1);
            }
            len
        }
        c if c.is_alphanumeric() || *c == '-' || *c == '+' || *c == '.' => {
            let mut at = start;
            while chars.get(at).is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '+' | '.'))
            {
                at = at.saturating_add(1);
            }
            at
        }
        _ => start.saturating_add(1),
    }
}

/// The end (exclusive) of the string whose opening quote is at `start`: just after its closing
/// quote, or the document's end when it has none.
fn scan_string(chars: &[char], start: usize) -> usize {
    let mut at = start.saturating_add(1);
    while let Some(c) = chars.get(at) {
        match c {
            '"' => return at.saturating_add(1),
            '\\' => at = at.saturating_add(2),
            _ => at = at.saturating_add(1),
        }
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;
    use policy::Location;

    fn loc(line: u32, column: u32, path: &str) -> Location {
        Location { pos: Position { line, column }, path: path.into() }
    }

    fn pos(line: usize, column: usize, offset: usize) -> TextPosition {
        TextPosition { line, column, offset }
    }

    const DOC: &str = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"Allow\",\n    \"Action\": [\"s3:GetObject\", \"s3:Nope\"],\n    \"Resource\": \"*\",\n    \"Condition\": {\"StringEquals\": {\"aws:ResourceTag/app.name\": \"x\"}}\n  }]\n}";

    #[test]
    fn paths_map_to_path_elements() {
        let doc = Document::new(DOC);
        // `"s3:Nope"` on line 5: 4 spaces, `"Action": [` (11 characters), `"s3:GetObject", `.
        let (path, start, end) = doc.location(&loc(5, 32, "$.Statement[0].Action[1]")).unwrap();
        assert_eq!(
            path,
            vec![
                PathElement::Value("Statement".into()),
                PathElement::Index(0),
                PathElement::Value("Action".into()),
                PathElement::Index(1),
            ]
        );
        let line5 = DOC.split('\n').take(4).map(|l| l.chars().count() + 1).sum::<usize>();
        assert_eq!(start, pos(5, 31, line5 + 31));
        assert_eq!(end, pos(5, 40, line5 + 40));
        let chars: Vec<char> = DOC.chars().collect();
        assert_eq!(chars[start.offset..end.offset].iter().collect::<String>(), "\"s3:Nope\"");

        // A member name holding a `.`, located at the name itself: a `key` element. On line 7:
        // 4 spaces, `"Condition": {` (14 characters), `"StringEquals": {` (17).
        let key = "$.Statement[0].Condition.StringEquals.aws:ResourceTag/app.name";
        let (path, start, end) = doc.location(&loc(7, 36, key)).unwrap();
        assert_eq!(path.last(), Some(&PathElement::Key("aws:ResourceTag/app.name".into())));
        assert_eq!(path.len(), 5, "{path:?}");
        assert_eq!(start.column, 35);
        assert_eq!(end.column - start.column, "\"aws:ResourceTag/app.name\"".len());
        // The same path at the value: a `value` element.
        let value_column = DOC.lines().nth(6).unwrap().find("\"x\"").unwrap() as u32 + 1;
        let (path, start, _) = doc.location(&loc(7, value_column, key)).unwrap();
        assert_eq!(path.last(), Some(&PathElement::Value("aws:ResourceTag/app.name".into())));
        assert_eq!(chars[start.offset], '"');

        // A whole statement spans its braces; the document spans everything.
        let (_, start, end) = doc.location(&loc(3, 17, "$.Statement[0]")).unwrap();
        assert_eq!((start.line, start.column, end.line, end.column), (3, 16, 8, 3));
        let (path, start, end) = doc.location(&loc(1, 1, "$")).unwrap();
        assert!(path.is_empty());
        assert_eq!((start.offset, end.offset), (0, DOC.chars().count()));

        // An element the document does not have: the path is read as written.
        let (path, _, _) = doc.location(&loc(3, 17, "$.Statement[0].NotResource")).unwrap();
        assert_eq!(path.last(), Some(&PathElement::Value("NotResource".into())));
        assert!(doc.location(&Location::default()).is_none());
    }

    #[test]
    fn spans_of_documents_that_are_not_json() {
        let doc = Document::new("{\"Version\": \"2012-10-17\",\n \"Statement\": [}");
        let (path, start, end) = doc.location(&loc(2, 16, "$")).unwrap();
        assert!(path.is_empty());
        assert_eq!((start, end), (pos(2, 15, 41), pos(2, 16, 42)));
        // Past the end: an empty span at the end.
        let (_, start, end) = doc.location(&loc(9, 9, "$")).unwrap();
        assert_eq!((start.offset, end.offset), (42, 42));
        // Unicode: columns and offsets count characters, not bytes.
        let doc = Document::new("{\"Sid\": \"é\", \"X\": 1}");
        let (_, start, end) = doc.location(&loc(1, 19, "$.X")).unwrap();
        assert_eq!((start, end), (pos(1, 18, 18), pos(1, 19, 19)));
    }

    #[test]
    fn every_finding_of_every_truncation_is_located_inside_the_document() {
        let doc = format!("\u{feff}{DOC}é");
        let chars: Vec<char> = doc.chars().collect();
        for cut in 0..=chars.len() {
            let text: String = chars[..cut].iter().collect();
            let indexed = Document::new(&text);
            for f in policy::validate::validate(&text, PolicyKind::Identity) {
                if let Some((_, start, end)) = indexed.location(&f.location) {
                    assert!(start.offset <= end.offset && end.offset <= cut, "{f} in {text:?}");
                    assert_eq!(indexed.position(start.offset), start);
                }
            }
        }
    }

    #[test]
    fn requests_are_checked() {
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let validate_policy = |input: &Value, query: &[(String, String)]| {
            crate::protocol::input::parse::<ValidatePolicy>(
                crate::protocol::model::Api::AccessAnalyzer,
                "ValidatePolicy",
                crate::protocol::input::Source::RestJson(input, query, &[]),
                crate::protocol::input::Rules::All,
            )
            .and_then(|i| super::validate_policy(&i))
        };
        let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:NoSuchAction","Resource":"*"}}"#;
        let input = json!({ "policyDocument": doc, "policyType": "IDENTITY_POLICY" });
        let all = validate_policy(&input, &[]).unwrap();
        let n = all["findings"].as_array().unwrap().len();
        assert!(n >= 1, "{all}");
        assert!(all.get("nextToken").is_none());
        let first = validate_policy(&input, &q(&[("maxResults", "1")])).unwrap();
        assert_eq!(first["findings"].as_array().unwrap().len(), 1);
        if n > 1 {
            assert_eq!(first["nextToken"], "1");
        }
        for bad in
            [("nextToken", "x"), ("nextToken", "+1"), ("nextToken", "999"), ("maxResults", "0")]
        {
            let e = validate_policy(&input, &q(&[bad])).unwrap_err();
            assert_eq!(e.code, "ValidationException", "{bad:?}");
        }
        for input in [
            json!({ "policyType": "IDENTITY_POLICY" }),
            json!({ "policyDocument": doc }),
            json!({ "policyDocument": doc, "policyType": "NOPE" }),
            json!({ "policyDocument": doc, "policyType": "IDENTITY_POLICY", "locale": "XX" }),
            json!({ "policyDocument": doc, "policyType": "IDENTITY_POLICY",
                    "validatePolicyResourceType": "AWS::S3::Bucket" }),
            json!({ "policyDocument": doc, "policyType": "RESOURCE_POLICY",
                    "validatePolicyResourceType": "AWS::Nope" }),
        ] {
            let e = validate_policy(&input, &[]).unwrap_err();
            assert_eq!((e.status, e.code.as_str()), (400, "ValidationException"), "{input}");
        }
        // Not JSON: findings, not an error.
        let input = json!({ "policyDocument": "{not json", "policyType": "IDENTITY_POLICY" });
        let answer = validate_policy(&input, &[]).unwrap();
        assert_eq!(answer["findings"][0]["findingType"], "ERROR", "{answer}");
    }
}
