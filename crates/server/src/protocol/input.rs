//! A request's input, parsed once at routing against its operation's shape in the service's
//! model: the query protocol's flattened parameters (`Tags.member.1.Key`) or the JSON
//! protocol's body become one JSON value of the shape's types (lists as arrays, numbers as
//! numbers, unknown members dropped), the model's constraints are checked with AWS's validation
//! messages, and the value deserializes into the operation's typed input.
//!
//! Validation messages never quote the value (it may be a secret, a policy document or a
//! ciphertext): "Value at 'userName' failed to satisfy constraint: Member must have length less
//! than or equal to 64", as AWS writes them for sensitive members.

use super::model::{Api, Kind, Member, Model, Shape};
use crate::error::ApiError;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Where an input comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Source<'a> {
    /// The query protocol's parameters (IAM, STS).
    Query(&'a [(String, String)]),
    /// A JSON body (KMS, CloudTrail).
    Json(&'a Value),
    /// A REST-JSON request (Access Analyzer, MPA): the body, the query string and the path's
    /// labels (percent-decoded, by their `locationName`) for the members the model places there.
    RestJson(&'a Value, &'a [(String, String)], &'a [(&'a str, String)]),
}

/// How much of the model a service checks at routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rules {
    /// Required members, types, lengths, ranges and enum values, with AWS's validation errors.
    All,
    /// Required members and types only: the service answers bounds with errors of its own
    /// (CloudTrail's `InvalidMaxResultsException`).
    Shape,
}

/// Parses `operation`'s input from `source` (see the module's documentation).
pub(crate) fn parse<T: DeserializeOwned>(
    service: Api,
    operation: &str,
    source: Source<'_>,
    rules: Rules,
) -> Result<T, ApiError> {
    let model =
        service.model().ok_or_else(|| ApiError::internal("the service's model is unreadable"))?;
    let query = matches!(source, Source::Query(_));
    let code = if query { "ValidationError" } else { "ValidationException" };
    let value = match model.operations.get(operation).and_then(|op| op.input.as_deref()) {
        None => Value::Object(Map::new()),
        Some(input) => {
            let shape = shape(model, input)?;
            let value = match source {
                Source::Query(params) => from_query(model, shape, params, "")?,
                Source::Json(body) => from_json(model, shape, body, "")?,
                Source::RestJson(body, query, labels) => {
                    let mut value = from_json(model, shape, body, "")?;
                    from_located(model, shape, query, labels, &mut value)?;
                    value
                }
            };
            let mut violations = Vec::new();
            check(model, shape, &value, "", rules, &mut violations);
            if !violations.is_empty() {
                return Err(ApiError::sender(400, code, report(&violations)));
            }
            value
        }
    };
    serde_json::from_value(value).map_err(|e| {
        ApiError::sender(
            400,
            if query { "ValidationError" } else { "SerializationException" },
            format!("the input of {operation} cannot be read: {}", strip_values(&e.to_string())),
        )
    })
}

/// serde's message without the quoted input it may repeat.
fn strip_values(message: &str) -> String {
    message.split(" at line").next().unwrap_or(message).replace('`', "'")
}

fn shape<'m>(model: &'m Model, name: &str) -> Result<&'m Shape, ApiError> {
    model.shapes.get(name).ok_or_else(|| ApiError::internal("the service's model is incomplete"))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        lower_first(name)
    } else {
        format!("{path}.{}", lower_first(name))
    }
}

fn wire_name<'a>(name: &'a str, member: &'a Member) -> &'a str {
    member.location_name.as_deref().unwrap_or(name)
}

fn malformed(code: &str, path: &str, what: &str) -> ApiError {
    ApiError::sender(400, code, format!("the value at '{path}' is not {what}"))
}

/// A structure from query parameters under `prefix` (`""` or `Name.`).
fn from_query(
    model: &Model,
    s: &Shape,
    params: &[(String, String)],
    prefix: &str,
) -> Result<Value, ApiError> {
    let mut out = Map::new();
    for (name, member) in &s.members {
        let key = format!("{prefix}{}", wire_name(name, member));
        if let Some(v) = query_value(model, member, params, &key, &lower_first(name))? {
            out.insert(name.clone(), v);
        }
    }
    Ok(Value::Object(out))
}

/// The value of one member at `key`, if the parameters hold it.
fn query_value(
    model: &Model,
    member: &Member,
    params: &[(String, String)],
    key: &str,
    path: &str,
) -> Result<Option<Value>, ApiError> {
    let s = shape(model, &member.shape)?;
    let below = format!("{key}.");
    let exact = params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let nested = params.iter().any(|(k, _)| k.starts_with(&below));
    match s.kind {
        Kind::Structure => {
            if nested {
                Ok(Some(from_query(model, s, params, &below)?))
            } else {
                Ok(None)
            }
        }
        Kind::List => {
            let Some(item) = &s.member else { return Ok(None) };
            let flattened = s.flattened || member.flattened;
            let item_prefix = if flattened {
                below.clone()
            } else {
                format!("{below}{}.", item.location_name.as_deref().unwrap_or("member"))
            };
            let indices = indices(params, &item_prefix);
            if indices.is_empty() {
                // An empty list is sent as the bare name (`Name=`).
                return Ok(exact.map(|_| Value::Array(Vec::new())));
            }
            let mut items = Vec::new();
            for n in indices {
                let item_key = format!("{item_prefix}{n}");
                if let Some(v) =
                    query_value(model, item, params, &item_key, &format!("{path}.{n}.member"))?
                {
                    items.push(v);
                }
            }
            Ok(Some(Value::Array(items)))
        }
        Kind::Map => {
            let (Some(k), Some(v)) = (&s.key, &s.value) else { return Ok(None) };
            let entry_prefix = if s.flattened { below.clone() } else { format!("{below}entry.") };
            let mut map = Map::new();
            for n in indices(params, &entry_prefix) {
                let base = format!("{entry_prefix}{n}.");
                let key_name = k.location_name.as_deref().unwrap_or("key");
                let value_name = v.location_name.as_deref().unwrap_or("value");
                let key_text = params
                    .iter()
                    .find(|(p, _)| *p == format!("{base}{key_name}"))
                    .map(|(_, t)| t.clone());
                let value = query_value(model, v, params, &format!("{base}{value_name}"), path)?;
                if let (Some(kt), Some(value)) = (key_text, value) {
                    map.insert(kt, value);
                }
            }
            Ok(if map.is_empty() && !nested { None } else { Some(Value::Object(map)) })
        }
        kind => match exact {
            None => Ok(None),
            Some(text) => scalar_from_text(kind, text, path, "ValidationError").map(Some),
        },
    }
}

/// The item numbers under `prefix` (`Name.member.`), in order.
fn indices(params: &[(String, String)], prefix: &str) -> Vec<u32> {
    let mut out: Vec<u32> = params
        .iter()
        .filter_map(|(k, _)| k.strip_prefix(prefix))
        .filter_map(|rest| rest.split('.').next())
        .filter_map(|n| n.parse().ok())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn scalar_from_text(kind: Kind, text: &str, path: &str, code: &str) -> Result<Value, ApiError> {
    let bad = |what| malformed(code, path, what);
    Ok(match kind {
        Kind::Integer | Kind::Long => {
            Value::from(text.trim().parse::<i64>().map_err(|_| bad("an integer"))?)
        }
        Kind::Double | Kind::Float => {
            let n: f64 = text.trim().parse().map_err(|_| bad("a number"))?;
            serde_json::Number::from_f64(n).map(Value::Number).ok_or_else(|| bad("a number"))?
        }
        Kind::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad("a boolean")),
        },
        _ => Value::String(text.to_string()),
    })
}

/// The members a REST request carries in its query string and path, added to the body's.
fn from_located(
    model: &Model,
    s: &Shape,
    query: &[(String, String)],
    labels: &[(&str, String)],
    value: &mut Value,
) -> Result<(), ApiError> {
    let Value::Object(out) = value else { return Ok(()) };
    for (name, member) in &s.members {
        let key = wire_name(name, member);
        let text = match member.location.as_deref() {
            Some("querystring") => query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()),
            Some("uri") => labels.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str()),
            _ => None,
        };
        if let Some(text) = text {
            let kind = shape(model, &member.shape)?.kind;
            let path = lower_first(name);
            out.insert(name.clone(), scalar_from_text(kind, text, &path, "ValidationException")?);
        }
    }
    Ok(())
}

/// A JSON value checked against its shape's types: unknown members dropped, nulls absent.
fn from_json(model: &Model, s: &Shape, v: &Value, path: &str) -> Result<Value, ApiError> {
    let code = "SerializationException";
    let here = if path.is_empty() { "the input" } else { path };
    Ok(match s.kind {
        Kind::Structure => {
            let Value::Object(object) = v else { return Err(malformed(code, here, "an object")) };
            let mut out = Map::new();
            for (name, member) in s.members.iter().filter(|(_, m)| m.location.is_none()) {
                match object.get(name) {
                    None | Some(Value::Null) => {}
                    Some(value) => {
                        let inner = shape(model, &member.shape)?;
                        out.insert(
                            name.clone(),
                            from_json(model, inner, value, &join(path, name))?,
                        );
                    }
                }
            }
            Value::Object(out)
        }
        Kind::List => {
            let Value::Array(items) = v else { return Err(malformed(code, here, "a list")) };
            let item = s
                .member
                .as_ref()
                .ok_or_else(|| ApiError::internal("a list shape has no member"))?;
            let inner = shape(model, &item.shape)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, value) in items.iter().enumerate() {
                out.push(from_json(model, inner, value, &format!("{path}.{}.member", i + 1))?);
            }
            Value::Array(out)
        }
        Kind::Map => {
            let Value::Object(object) = v else { return Err(malformed(code, here, "a map")) };
            let value_ref =
                s.value.as_ref().ok_or_else(|| ApiError::internal("a map shape has no value"))?;
            let inner = shape(model, &value_ref.shape)?;
            let mut out = Map::new();
            for (k, value) in object {
                out.insert(k.clone(), from_json(model, inner, value, path)?);
            }
            Value::Object(out)
        }
        Kind::String | Kind::Blob => match v {
            Value::String(_) => v.clone(),
            _ => return Err(malformed(code, here, "a string")),
        },
        Kind::Integer | Kind::Long => match v.as_i64() {
            Some(_) => v.clone(),
            None => return Err(malformed(code, here, "an integer")),
        },
        Kind::Double | Kind::Float => match v {
            Value::Number(_) => v.clone(),
            _ => return Err(malformed(code, here, "a number")),
        },
        Kind::Boolean => match v {
            Value::Bool(_) => v.clone(),
            _ => return Err(malformed(code, here, "a boolean")),
        },
        Kind::Timestamp => match v {
            Value::Number(_) | Value::String(_) => v.clone(),
            _ => return Err(malformed(code, here, "a timestamp")),
        },
    })
}

/// The model's constraints on `v`, as AWS words each failure.
fn check(model: &Model, s: &Shape, v: &Value, path: &str, rules: Rules, out: &mut Vec<String>) {
    match (s.kind, v) {
        (Kind::Structure, Value::Object(object)) => {
            for name in &s.required {
                if object.get(name).is_none_or(Value::is_null) {
                    out.push(format!(
                        "Value null at '{}' failed to satisfy constraint: Member must not be null",
                        join(path, name)
                    ));
                }
            }
            for (name, member) in &s.members {
                if let (Some(value), Some(inner)) =
                    (object.get(name), model.shapes.get(&member.shape))
                {
                    check(model, inner, value, &join(path, name), rules, out);
                }
            }
            return;
        }
        (Kind::List, Value::Array(items)) => {
            if let Some(inner) = s.member.as_ref().and_then(|m| model.shapes.get(&m.shape)) {
                for (i, item) in items.iter().enumerate() {
                    check(model, inner, item, &format!("{path}.{}.member", i + 1), rules, out);
                }
            }
        }
        (Kind::Map, Value::Object(entries)) => {
            if let Some(inner) = s.value.as_ref().and_then(|m| model.shapes.get(&m.shape)) {
                for value in entries.values() {
                    check(model, inner, value, path, rules, out);
                }
            }
        }
        _ => {}
    }
    if rules == Rules::Shape {
        return;
    }
    let at = |constraint: String| {
        format!("Value at '{path}' failed to satisfy constraint: {constraint}")
    };
    let length = match v {
        Value::String(text) if s.kind == Kind::Blob => Some(blob_length(text)),
        Value::String(text) => Some(text.chars().count()),
        Value::Array(items) => Some(items.len()),
        Value::Object(entries) if s.kind == Kind::Map => Some(entries.len()),
        _ => None,
    };
    #[allow(clippy::cast_precision_loss)]
    if let Some(n) = length.map(|n| n as f64) {
        if let Some(min) = s.min.filter(|min| n < *min) {
            out.push(at(format!("Member must have length greater than or equal to {min}")));
        }
        if let Some(max) = s.max.filter(|max| n > *max) {
            out.push(at(format!("Member must have length less than or equal to {max}")));
        }
    }
    if let (Some(n), Kind::Integer | Kind::Long | Kind::Double | Kind::Float) = (v.as_f64(), s.kind)
    {
        if let Some(min) = s.min.filter(|min| n < *min) {
            out.push(at(format!("Member must have value greater than or equal to {min}")));
        }
        if let Some(max) = s.max.filter(|max| n > *max) {
            out.push(at(format!("Member must have value less than or equal to {max}")));
        }
    }
    if let (Value::String(text), false) = (v, s.values.is_empty()) {
        if !s.values.contains(text) {
            out.push(at(format!("Member must satisfy enum value set: [{}]", s.values.join(", "))));
        }
    }
}

/// The length in bytes of a base64 blob (what the model bounds), without decoding it.
fn blob_length(text: &str) -> usize {
    let t = text.trim_end_matches('=');
    t.len() * 3 / 4
}

/// AWS's validation error text: "N validation error(s) detected: ...; ...".
fn report(violations: &[String]) -> String {
    let n = violations.len();
    let noun = if n == 1 { "error" } else { "errors" };
    format!("{n} validation {noun} detected: {}", violations.join("; "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use serde::Deserialize;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct CreateUser {
        user_name: String,
        path: Option<String>,
        #[serde(default)]
        tags: Vec<Tag>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Tag {
        key: String,
        value: String,
    }

    #[test]
    fn query_parameters_become_the_shape() {
        let params = p(&[
            ("UserName", "alice"),
            ("Tags.member.2.Key", "b"),
            ("Tags.member.2.Value", "2"),
            ("Tags.member.1.Key", "a"),
            ("Tags.member.1.Value", "1"),
            ("Unknown", "ignored"),
        ]);
        let input: CreateUser =
            parse(Api::Iam, "CreateUser", Source::Query(&params), Rules::All).unwrap();
        assert_eq!(input.user_name, "alice");
        assert_eq!(input.path, None);
        let tags: Vec<(&str, &str)> =
            input.tags.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect();
        assert_eq!(tags, [("a", "1"), ("b", "2")]);
    }

    #[test]
    fn violations_read_as_aws_writes_them_without_the_values() {
        let long = "x".repeat(65);
        let params = p(&[("UserName", &long), ("Path", "")]);
        let e = parse::<CreateUser>(Api::Iam, "CreateUser", Source::Query(&params), Rules::All)
            .unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, "ValidationError"));
        assert!(e.message.starts_with("2 validation errors detected: "), "{}", e.message);
        assert!(e.message.contains("Value at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"), "{}", e.message);
        assert!(e.message.contains("Value at 'path' failed to satisfy constraint: Member must have length greater than or equal to 1"), "{}", e.message);
        assert!(!e.message.contains(&long));
        let e = parse::<CreateUser>(Api::Iam, "CreateUser", Source::Query(&[]), Rules::All)
            .unwrap_err();
        assert_eq!(e.message, "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null");
    }

    #[test]
    fn json_types_and_enums_are_checked() {
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Encrypt {
            key_id: String,
        }
        let body = serde_json::json!({ "KeyId": 7, "Plaintext": "aGk=" });
        let e = parse::<Encrypt>(Api::Kms, "Encrypt", Source::Json(&body), Rules::All).unwrap_err();
        assert_eq!(e.code, "SerializationException", "{}", e.message);
        let body = serde_json::json!({ "KeyId": "k", "Plaintext": "aGk=", "EncryptionAlgorithm": "ROT13" });
        let e = parse::<Encrypt>(Api::Kms, "Encrypt", Source::Json(&body), Rules::All).unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert!(e.message.contains("'encryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [SYMMETRIC_DEFAULT,"), "{}", e.message);
        let body = serde_json::json!({ "KeyId": "k", "Plaintext": "aGk=", "Stray": [1] });
        let ok: Encrypt = parse(Api::Kms, "Encrypt", Source::Json(&body), Rules::All).unwrap();
        assert_eq!(ok.key_id, "k");
    }

    #[test]
    fn shape_rules_leave_bounds_to_the_service() {
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Lookup {
            max_results: Option<i64>,
        }
        let body = serde_json::json!({ "MaxResults": 500 });
        let ok: Lookup =
            parse(Api::CloudTrail, "LookupEvents", Source::Json(&body), Rules::Shape).unwrap();
        assert_eq!(ok.max_results, Some(500));
        assert!(parse::<Lookup>(Api::CloudTrail, "LookupEvents", Source::Json(&body), Rules::All)
            .is_err());
    }
}
