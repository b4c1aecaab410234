//! The policy document as parsed: every element with its source location, and every pattern
//! compiled once (wildcards tokenized, policy variables split out, typed condition values parsed)
//! so evaluation does no parsing.

use crate::condition::Operator;
use crate::json::Position;
use crate::pattern::Template;
use std::fmt;

/// Where an element is in the source: position and JSON path (`$.Statement[0].Action[1]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Location {
    /// Line and column where the element starts.
    pub pos: Position,
    /// JSON path of the element.
    pub path: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.path, self.pos)
    }
}

/// The policy language version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2012-10-17`: the current version; policy variables are substituted.
    V2012_10_17,
    /// `2008-10-17`: the old version; `${...}` is literal text.
    V2008_10_17,
}

impl Version {
    /// The version string as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2012_10_17 => "2012-10-17",
            Version::V2008_10_17 => "2008-10-17",
        }
    }
}

/// A parsed policy document.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// The language version (`2008-10-17` when the document does not say).
    pub version: Version,
    /// Whether the document has a `Version` element.
    pub version_explicit: bool,
    /// The optional `Id` element.
    pub id: Option<String>,
    /// The statements in document order.
    pub statements: Vec<Statement>,
    /// Whether `Statement` was written as an array (rather than a single object).
    pub statement_is_array: bool,
    /// The document length in characters, not counting whitespace (how IAM measures quotas).
    pub size: usize,
    /// The statements indexed by action, for evaluation.
    pub index: crate::index::ActionIndex,
}

/// One statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// Position of the statement among the policy's statements, from 0.
    pub index: usize,
    /// The optional `Sid`.
    pub sid: Option<String>,
    /// `Allow` or `Deny`.
    pub effect: Effect,
    /// `Principal` or `NotPrincipal`, when present.
    pub principal: Option<PrincipalClause>,
    /// `Action` or `NotAction`.
    pub action: ActionClause,
    /// `Resource` or `NotResource`, when present (trust policies have none).
    pub resource: Option<ResourceClause>,
    /// Condition entries: one per (operator, key), in document order.
    pub conditions: Vec<Condition>,
    /// Where the statement is.
    pub location: Location,
}

/// A statement's effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Grants the access the statement matches.
    Allow,
    /// Refuses the access the statement matches, whatever else allows it.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Clone, Debug, PartialEq)]
pub struct PrincipalClause {
    /// True for `NotPrincipal`.
    pub negated: bool,
    /// The principals named.
    pub set: PrincipalSet,
    /// Where the element is.
    pub location: Location,
}

/// The principals a `Principal` element names.
#[derive(Clone, Debug, PartialEq)]
pub enum PrincipalSet {
    /// `"*"`: everyone, including anonymous callers.
    Any,
    /// `{"AWS": ..., "Service": ..., ...}`.
    Named(Vec<PrincipalEntry>),
}

/// One principal named in a `Principal` map.
#[derive(Clone, Debug, PartialEq)]
pub struct PrincipalEntry {
    /// Which map key it was under.
    pub kind: PrincipalKind,
    /// The value as written.
    pub value: String,
    /// Where it is.
    pub location: Location,
}

/// The keys of a `Principal` map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// `AWS`: accounts, users, roles, sessions, or `*`.
    Aws,
    /// `Service`: AWS service principals such as `ec2.amazonaws.com`.
    Service,
    /// `Federated`: identity providers.
    Federated,
    /// `CanonicalUser`: S3 canonical user ids.
    CanonicalUser,
}

impl PrincipalKind {
    /// The map key as written in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }
}

/// `Action` or `NotAction`.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionClause {
    /// True for `NotAction`.
    pub negated: bool,
    /// The action patterns.
    pub actions: Vec<ActionPattern>,
    /// Where the element is.
    pub location: Location,
}

/// One action pattern such as `s3:Get*` or `*`.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionPattern {
    /// As written.
    pub raw: String,
    /// The service prefix, lowercased (`s3`); `*` for the bare wildcard.
    pub service: String,
    /// The action name pattern, lowercased (`get*`).
    pub name: String,
    /// Compiled, case-folded pattern over the whole `service:name` text.
    pub pattern: crate::pattern::Glob,
    /// A malformed action (a comma, a space, an empty name) kept by
    /// [`crate::parse::parse_policy_lenient`]: it matches no action, as in AWS. The strict
    /// parser refuses such actions, so its patterns never have this set.
    pub never: bool,
    /// Where it is.
    pub location: Location,
}

/// `Resource` or `NotResource`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceClause {
    /// True for `NotResource`.
    pub negated: bool,
    /// The resource patterns.
    pub resources: Vec<ResourcePattern>,
    /// Where the element is.
    pub location: Location,
}

/// One resource pattern: an ARN with wildcards and policy variables, or `*`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourcePattern {
    /// As written.
    pub raw: String,
    /// Compiled (variables split out when the version substitutes them).
    pub template: Template,
    /// Where it is.
    pub location: Location,
}

/// One condition: an operator applied to a key with one or more values.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The operator, with its set qualifier and `IfExists`.
    pub operator: Operator,
    /// The operator as written.
    pub operator_raw: String,
    /// The key as written.
    pub key: String,
    /// The key lowercased (keys are case-insensitive).
    pub key_lower: String,
    /// The values (OR'ed, or NOR'ed for negated operators).
    pub values: Vec<ConditionValue>,
    /// Whether the values were written as an array.
    pub values_is_array: bool,
    /// Where the operator is.
    pub location: Location,
    /// Where the key is.
    pub key_location: Location,
}

/// A condition value: text (JSON strings, numbers and booleans are all text to IAM), compiled.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionValue {
    /// The value as text.
    pub raw: String,
    /// The JSON type it was written as (`string`, `number`, `boolean`).
    pub json_kind: &'static str,
    /// Compiled (variables split out when the version substitutes them).
    pub template: Template,
    /// The value parsed for the operator's type, when it has no variables.
    pub typed: crate::condition::Typed,
    /// Where it is.
    pub location: Location,
}
