//! Condition operators and their evaluation against the request context.
//!
//! Rules (IAM reference, "Condition operators" and "multivalued context keys"): operators in a
//! block are AND'ed, keys under an operator AND'ed, values of a key OR'ed. A negated operator is
//! true when the request value matches none of the values. A missing key makes positive operators
//! false and negated ones true; `...IfExists` makes it true; `ForAllValues:` is true and
//! `ForAnyValue:` false on a missing or empty key.

use crate::ast::ConditionValue;
use crate::pattern::{Glob, Template};
use crate::request::Context;
use crate::value::{cmp_numbers, decode_base64, parse_bool, parse_number, IpNet, Timestamp};
use std::borrow::Cow;
use std::cmp::Ordering;

/// The base operators, without qualifier or `IfExists`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum OpKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// Every base operator with its name.
pub const OPERATORS: &[(&str, OpKind)] = &[
    ("StringEquals", OpKind::StringEquals),
    ("StringNotEquals", OpKind::StringNotEquals),
    ("StringEqualsIgnoreCase", OpKind::StringEqualsIgnoreCase),
    ("StringNotEqualsIgnoreCase", OpKind::StringNotEqualsIgnoreCase),
    ("StringLike", OpKind::StringLike),
    ("StringNotLike", OpKind::StringNotLike),
    ("NumericEquals", OpKind::NumericEquals),
    ("NumericNotEquals", OpKind::NumericNotEquals),
    ("NumericLessThan", OpKind::NumericLessThan),
    ("NumericLessThanEquals", OpKind::NumericLessThanEquals),
    ("NumericGreaterThan", OpKind::NumericGreaterThan),
    ("NumericGreaterThanEquals", OpKind::NumericGreaterThanEquals),
    ("DateEquals", OpKind::DateEquals),
    ("DateNotEquals", OpKind::DateNotEquals),
    ("DateLessThan", OpKind::DateLessThan),
    ("DateLessThanEquals", OpKind::DateLessThanEquals),
    ("DateGreaterThan", OpKind::DateGreaterThan),
    ("DateGreaterThanEquals", OpKind::DateGreaterThanEquals),
    ("Bool", OpKind::Bool),
    ("BinaryEquals", OpKind::BinaryEquals),
    ("IpAddress", OpKind::IpAddress),
    ("NotIpAddress", OpKind::NotIpAddress),
    ("ArnEquals", OpKind::ArnEquals),
    ("ArnLike", OpKind::ArnLike),
    ("ArnNotEquals", OpKind::ArnNotEquals),
    ("ArnNotLike", OpKind::ArnNotLike),
    ("Null", OpKind::Null),
];

/// The type of value an operator compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// Text.
    String,
    /// Integers and decimals.
    Numeric,
    /// ISO 8601 dates or epoch seconds.
    Date,
    /// `true` / `false`.
    Bool,
    /// Base64-encoded bytes.
    Binary,
    /// IPv4/IPv6 addresses and CIDR ranges.
    Ip,
    /// ARNs.
    Arn,
    /// `Null`'s `true`/`false` (key absent / present).
    Null,
}

impl OpKind {
    /// The operator's name.
    pub fn name(self) -> &'static str {
        OPERATORS.iter().find(|(_, k)| *k == self).map_or("", |(n, _)| n)
    }

    /// Whether the operator is true when the value matches none of the policy values.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            OpKind::StringNotEquals
                | OpKind::StringNotEqualsIgnoreCase
                | OpKind::StringNotLike
                | OpKind::NumericNotEquals
                | OpKind::DateNotEquals
                | OpKind::NotIpAddress
                | OpKind::ArnNotEquals
                | OpKind::ArnNotLike
        )
    }

    /// The type of value the operator compares.
    pub fn value_type(self) -> ValueType {
        use OpKind::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => ValueType::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => ValueType::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => ValueType::Date,
            Bool => ValueType::Bool,
            BinaryEquals => ValueType::Binary,
            IpAddress | NotIpAddress => ValueType::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => ValueType::Arn,
            Null => ValueType::Null,
        }
    }

    /// Whether `*` and `?` in policy values are wildcards.
    pub fn has_wildcards(self) -> bool {
        matches!(
            self,
            OpKind::StringLike
                | OpKind::StringNotLike
                | OpKind::ArnEquals
                | OpKind::ArnLike
                | OpKind::ArnNotEquals
                | OpKind::ArnNotLike
        )
    }
}

/// How an operator treats multivalued keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// No qualifier: the key is treated as single-valued.
    Single,
    /// `ForAllValues:`: every request value must match.
    ForAllValues,
    /// `ForAnyValue:`: at least one request value must match.
    ForAnyValue,
}

/// A full condition operator: base, set qualifier and `IfExists`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operator {
    /// The base operator.
    pub kind: OpKind,
    /// The set qualifier.
    pub qualifier: SetQualifier,
    /// Whether `IfExists` was appended.
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name such as `ForAnyValue:StringLikeIfExists`. Operator names are
    /// case-sensitive, as in IAM. `Null` takes neither `IfExists` nor a set qualifier.
    pub fn parse(text: &str) -> Option<Operator> {
        let (qualifier, rest) = if let Some(r) = text.strip_prefix("ForAllValues:") {
            (SetQualifier::ForAllValues, r)
        } else if let Some(r) = text.strip_prefix("ForAnyValue:") {
            (SetQualifier::ForAnyValue, r)
        } else {
            (SetQualifier::Single, text)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let kind = OPERATORS.iter().find(|(n, _)| *n == base).map(|(_, k)| *k)?;
        if kind == OpKind::Null && (if_exists || qualifier != SetQualifier::Single) {
            return None;
        }
        Some(Operator { kind, qualifier, if_exists })
    }
}

/// A condition value parsed for its operator's type (when it has no variables).
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    /// Compared as text (strings, ARNs) or not yet known (has variables).
    Text,
    /// A number.
    Number(f64),
    /// A date.
    Date(Timestamp),
    /// A boolean.
    Bool(bool),
    /// An IP network.
    Ip(IpNet),
    /// Bytes.
    Binary(Vec<u8>),
    /// Not valid for the operator's type: matches nothing (the validator reports it).
    Invalid,
}

impl Typed {
    /// Parses `text` for operator `kind`.
    pub fn parse(kind: OpKind, text: &str) -> Typed {
        let parsed = match kind.value_type() {
            ValueType::String | ValueType::Arn => Some(Typed::Text),
            ValueType::Numeric => parse_number(text).map(Typed::Number),
            ValueType::Date => Timestamp::parse(text).map(Typed::Date),
            ValueType::Bool | ValueType::Null => parse_bool(text).map(Typed::Bool),
            ValueType::Ip => IpNet::parse(text).map(Typed::Ip),
            ValueType::Binary => decode_base64(text).map(Typed::Binary),
        };
        parsed.unwrap_or(Typed::Invalid)
    }
}

/// The outcome of evaluating one condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// A policy variable could not be resolved: the statement matches nothing.
    Unresolved,
    /// The request value could not be interpreted: the request is denied (fail closed).
    Error(String),
}

/// Evaluates `op key values` against the context.
pub fn evaluate(
    op: Operator,
    key_lower: &str,
    values: &[ConditionValue],
    context: &Context,
) -> Outcome {
    let present = context.get(key_lower).filter(|v| !v.values.is_empty());
    if op.kind == OpKind::Null {
        let mut any = false;
        for v in values {
            match &v.typed {
                Typed::Bool(want_absent) => any |= *want_absent == present.is_none(),
                _ => return Outcome::Error(format!("`{}` is not true or false", v.raw)),
            }
        }
        return if any { Outcome::True } else { Outcome::False };
    }
    let Some(request_values) = present else {
        let holds = op.if_exists
            || match op.qualifier {
                SetQualifier::ForAllValues => true,
                SetQualifier::ForAnyValue => false,
                SetQualifier::Single => op.kind.is_negated(),
            };
        return if holds { Outcome::True } else { Outcome::False };
    };
    // Resolve every policy value once.
    let mut resolved = Vec::with_capacity(values.len());
    for v in values {
        match resolve_value(op.kind, v, context) {
            Some(r) => resolved.push(r),
            None => return Outcome::Unresolved,
        }
    }
    let matches_one = |request_value: &str| -> Result<bool, String> {
        for policy_value in &resolved {
            if value_matches(op.kind, request_value, policy_value)? {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let negated = op.kind.is_negated();
    let result = (|| -> Result<bool, String> {
        Ok(match op.qualifier {
            SetQualifier::Single => {
                let mut any = false;
                for rv in &request_values.values {
                    any |= matches_one(rv)?;
                }
                any != negated
            }
            SetQualifier::ForAnyValue => {
                let mut any = false;
                for rv in &request_values.values {
                    any |= matches_one(rv)? != negated;
                }
                any
            }
            SetQualifier::ForAllValues => {
                let mut all = true;
                for rv in &request_values.values {
                    all &= matches_one(rv)? != negated;
                }
                all
            }
        })
    })();
    match result {
        Ok(true) => Outcome::True,
        Ok(false) => Outcome::False,
        Err(e) => Outcome::Error(e),
    }
}

/// A policy value ready to compare.
enum Resolved<'a> {
    Pattern(Cow<'a, Glob>),
    Typed(Cow<'a, Typed>),
}

fn resolve_value<'a>(
    kind: OpKind,
    v: &'a ConditionValue,
    context: &Context,
) -> Option<Resolved<'a>> {
    match kind.value_type() {
        ValueType::String | ValueType::Arn => v.template.resolve(context).map(Resolved::Pattern),
        _ if v.template.has_variables() => {
            let text = resolve_text(&v.template, context)?;
            Some(Resolved::Typed(Cow::Owned(Typed::parse(kind, &text))))
        }
        _ => Some(Resolved::Typed(Cow::Borrowed(&v.typed))),
    }
}

fn resolve_text(t: &Template, context: &Context) -> Option<String> {
    Some(t.resolve(context)?.text())
}

/// The positive form of the operator applied to one request value and one policy value.
fn value_matches(kind: OpKind, request: &str, policy: &Resolved) -> Result<bool, String> {
    use OpKind::*;
    let typed = match policy {
        Resolved::Pattern(glob) => {
            return Ok(match kind {
                StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                    glob.to_lowercase().matches(&request.to_lowercase())
                }
                ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => glob.matches_arn(request),
                _ => glob.matches(request),
            })
        }
        Resolved::Typed(t) => t.as_ref(),
    };
    let bad = |what: &str| Err(format!("request value `{request}` is not {what}"));
    match (kind.value_type(), typed) {
        (_, Typed::Invalid) => Ok(false),
        (ValueType::Numeric, Typed::Number(p)) => match parse_number(request) {
            Some(r) => Ok(ordering_holds(kind, cmp_numbers(r, *p))),
            None => bad("a number"),
        },
        (ValueType::Date, Typed::Date(p)) => match Timestamp::parse(request) {
            Some(r) => Ok(ordering_holds(kind, r.cmp(p))),
            None => bad("a date"),
        },
        (ValueType::Bool, Typed::Bool(p)) => match parse_bool(request) {
            Some(r) => Ok(r == *p),
            None => bad("a boolean"),
        },
        (ValueType::Ip, Typed::Ip(net)) => match IpNet::parse(request) {
            Some(r) => Ok(net.contains(&r)),
            None => bad("an IP address"),
        },
        (ValueType::Binary, Typed::Binary(p)) => match decode_base64(request) {
            Some(r) => Ok(r == *p),
            None => bad("base64"),
        },
        _ => Ok(false),
    }
}

fn ordering_holds(kind: OpKind, ord: Ordering) -> bool {
    use OpKind::*;
    match kind {
        NumericEquals | NumericNotEquals | DateEquals | DateNotEquals => ord == Ordering::Equal,
        NumericLessThan | DateLessThan => ord == Ordering::Less,
        NumericLessThanEquals | DateLessThanEquals => ord != Ordering::Greater,
        NumericGreaterThan | DateGreaterThan => ord == Ordering::Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ord != Ordering::Less,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names() {
        let op = Operator::parse("ForAnyValue:StringLikeIfExists").unwrap();
        assert_eq!(op.kind, OpKind::StringLike);
        assert_eq!(op.qualifier, SetQualifier::ForAnyValue);
        assert!(op.if_exists);
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("stringequals").is_none());
        assert!(Operator::parse("StringEqualz").is_none());
        for (name, kind) in OPERATORS {
            assert_eq!(kind.name(), *name);
        }
    }
}
