//! Policy validation like IAM Access Analyzer's `ValidatePolicy`: every problem in a policy
//! document as a [`Finding`] with a stable code, a severity, a message and the place in the
//! document it concerns.
//!
//! A document that does not parse yields the parser's errors (each an `ERROR` with the parser's
//! code) plus the few checks that need only the JSON; a document that parses goes through the
//! semantic checks: grammar rules per policy type (identity, resource-based, SCP, RCP,
//! permissions boundary, role trust), principals, actions, resource ARNs, conditions and policy
//! variables, security warnings about overly broad grants, and redundancy; and, against the
//! service catalog ([`crate::catalog`]), unknown services, actions and condition keys, operator
//! types against key types, and resources that no action of their statement acts on. [`CHECKS`]
//! lists every code with its severity.
//!
//! Validation is total: any input yields a list of findings, never a panic.

mod action;
mod catalog_adapter;
mod catalog_checks;
mod codes;
mod condition;
mod document;
mod glob;
mod keys;
mod kinds;
mod principal;
mod raw;
mod redundancy;
mod resource;
mod values;
mod variables;

#[cfg(test)]
mod tests;

pub use codes::CHECKS;

use crate::ast::{Location, Policy, Statement};
use crate::json::{self, Json};
use catalog_checks::ServiceCatalog;
use std::fmt;
use std::str::FromStr;

/// The kind of policy a document is, which decides the grammar rules and quotas that apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// An identity-based policy attached to a user, group or role (managed or inline).
    Identity,
    /// A resource-based policy (S3 bucket, KMS key, SQS queue, ...).
    Resource,
    /// An AWS Organizations service control policy.
    ServiceControl,
    /// An AWS Organizations resource control policy.
    ResourceControl,
    /// A permissions boundary (an identity policy used as a ceiling).
    PermissionsBoundary,
    /// A role trust policy (`AssumeRolePolicyDocument`).
    Trust,
}

impl PolicyKind {
    /// Every kind.
    pub const ALL: [PolicyKind; 6] = [
        PolicyKind::Identity,
        PolicyKind::Resource,
        PolicyKind::ServiceControl,
        PolicyKind::ResourceControl,
        PolicyKind::PermissionsBoundary,
        PolicyKind::Trust,
    ];

    /// The short name accepted by [`FromStr`]: `identity`, `resource`, `scp`, `rcp`, `boundary`,
    /// `trust`.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity",
            PolicyKind::Resource => "resource",
            PolicyKind::ServiceControl => "scp",
            PolicyKind::ResourceControl => "rcp",
            PolicyKind::PermissionsBoundary => "boundary",
            PolicyKind::Trust => "trust",
        }
    }

    /// A human name for messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            PolicyKind::Identity => "identity-based policies",
            PolicyKind::Resource => "resource-based policies",
            PolicyKind::ServiceControl => "service control policies",
            PolicyKind::ResourceControl => "resource control policies",
            PolicyKind::PermissionsBoundary => "permissions boundaries",
            PolicyKind::Trust => "role trust policies",
        }
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy kind name that is not one of `identity`, `resource`, `scp`, `rcp`, `boundary`,
/// `trust`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown policy type `{0}`: use identity, resource, scp, rcp, boundary or trust")]
pub struct UnknownPolicyKind(
    /// The name that was given.
    pub String,
);

impl FromStr for PolicyKind {
    type Err = UnknownPolicyKind;

    fn from_str(s: &str) -> Result<PolicyKind, UnknownPolicyKind> {
        PolicyKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownPolicyKind(s.to_string()))
    }
}

/// How much a finding matters, in Access Analyzer's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Part of the policy does not work, or IAM would reject the document.
    Error,
    /// The policy grants access that is likely broader than intended.
    SecurityWarning,
    /// The policy works but does not follow policy-writing best practice.
    Warning,
    /// A stylistic improvement that does not change access.
    Suggestion,
}

impl Severity {
    /// The severity as Access Analyzer names it (`ERROR`, `SECURITY_WARNING`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::SecurityWarning => "SECURITY_WARNING",
            Severity::Warning => "WARNING",
            Severity::Suggestion => "SUGGESTION",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Stable code (see [`CHECKS`]).
    pub code: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// Lowercase message; user input quoted in backticks.
    pub message: String,
    /// Where in the document.
    pub location: Location,
    /// A documentation page about the finding.
    pub learn_more: Option<&'static str>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {} at {}", self.severity, self.code, self.message, self.location)
    }
}

/// How a policy's size is measured against its quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeUnit {
    /// Characters not counting whitespace (IAM policies).
    CharsWithoutWhitespace,
    /// Every character (Organizations policies).
    Chars,
    /// UTF-8 bytes (resource-based policies stored by their service).
    Bytes,
}

/// The quotas a policy is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// What the quota applies to, for messages (`managed policies`).
    pub name: &'static str,
    /// The largest size accepted.
    pub max_size: usize,
    /// How size is measured.
    pub unit: SizeUnit,
    /// The most statements accepted, when the service has such a quota.
    pub max_statements: Option<usize>,
}

impl Limits {
    /// Customer managed policies (identity policies and permissions boundaries): 6,144
    /// characters without whitespace.
    pub const MANAGED: Limits = Limits::iam("managed policies", 6_144);
    /// Inline policies of one user, together: 2,048 characters.
    pub const INLINE_USER: Limits = Limits::iam("a user's inline policies", 2_048);
    /// Inline policies of one role, together: 10,240 characters.
    pub const INLINE_ROLE: Limits = Limits::iam("a role's inline policies", 10_240);
    /// Inline policies of one group, together: 5,120 characters.
    pub const INLINE_GROUP: Limits = Limits::iam("a group's inline policies", 5_120);
    /// Role trust policies: 2,048 characters by default.
    pub const TRUST: Limits = Limits::iam("role trust policies", 2_048);
    /// Service control policies: 5,120 characters, whitespace included.
    pub const SCP: Limits = Limits::org("service control policies");
    /// Resource control policies: 5,120 characters, whitespace included.
    pub const RCP: Limits = Limits::org("resource control policies");
    /// Resource-based policies in general: 20,480 bytes.
    pub const RESOURCE: Limits = Limits::bytes("resource-based policies", 20_480, None);
    /// S3 bucket policies: 20 KB.
    pub const S3_BUCKET: Limits = Limits::bytes("S3 bucket policies", 20_480, None);
    /// KMS key policies: 32 KB.
    pub const KMS_KEY: Limits = Limits::bytes("KMS key policies", 32_768, None);
    /// SQS queue policies: 8,192 bytes and 20 statements.
    pub const SQS_QUEUE: Limits = Limits::bytes("SQS queue policies", 8_192, Some(20));

    const fn iam(name: &'static str, max_size: usize) -> Limits {
        Limits { name, max_size, unit: SizeUnit::CharsWithoutWhitespace, max_statements: None }
    }

    const fn org(name: &'static str) -> Limits {
        Limits { name, max_size: 5_120, unit: SizeUnit::Chars, max_statements: None }
    }

    const fn bytes(name: &'static str, max_size: usize, max_statements: Option<usize>) -> Limits {
        Limits { name, max_size, unit: SizeUnit::Bytes, max_statements }
    }

    /// The default quotas of a policy kind.
    pub fn for_kind(kind: PolicyKind) -> Limits {
        match kind {
            PolicyKind::Identity | PolicyKind::PermissionsBoundary => Limits::MANAGED,
            PolicyKind::Resource => Limits::RESOURCE,
            PolicyKind::ServiceControl => Limits::SCP,
            PolicyKind::ResourceControl => Limits::RCP,
            PolicyKind::Trust => Limits::TRUST,
        }
    }
}

/// Validates `text` as a policy of `kind` with that kind's default quotas. Findings are sorted by
/// position in the document.
pub fn validate(text: &str, kind: PolicyKind) -> Vec<Finding> {
    validate_with(text, kind, &Limits::for_kind(kind))
}

/// Validates `text` as a policy of `kind` against the given quotas (for example
/// [`Limits::S3_BUCKET`] for a bucket policy).
pub fn validate_with(text: &str, kind: PolicyKind, limits: &Limits) -> Vec<Finding> {
    validate_with_catalog(text, kind, limits, default_catalog())
}

/// The documentation page of a finding code (the policy grammar when the code has none).
pub(crate) fn learn_more(code: &str) -> Option<&'static str> {
    codes::learn_more(code)
}

/// The service catalog the validator checks actions, resources and condition keys against.
fn default_catalog() -> Option<&'static dyn ServiceCatalog> {
    Some(crate::catalog::catalog())
}

/// Validates against a given service catalog (or none: the checks that need one are skipped).
pub(crate) fn validate_with_catalog(
    text: &str,
    kind: PolicyKind,
    limits: &Limits,
    catalog: Option<&dyn ServiceCatalog>,
) -> Vec<Finding> {
    let mut out = Findings::default();
    document::size(text, limits, &mut out);
    let raw = json::parse(text).ok();
    match crate::parse::parse_policy(text) {
        Err(errors) => {
            for e in errors.0 {
                out.push(Finding {
                    code: e.code,
                    severity: Severity::Error,
                    learn_more: codes::learn_more(e.code),
                    message: e.message,
                    location: e.location,
                });
            }
            if let Some(raw) = &raw {
                raw::checks(raw, &mut out);
            }
        }
        Ok(policy) => {
            if let Some(raw) = &raw {
                raw::checks(raw, &mut out);
                let work = std::cell::Cell::new(WORK_BUDGET);
                let cx = Ctx { kind, policy: &policy, raw, limits, catalog, work };
                run(&cx, &mut out);
            }
        }
    }
    out.finish()
}

fn run(cx: &Ctx, out: &mut Findings) {
    document::check(cx, out);
    kinds::check(cx, out);
    for st in &cx.policy.statements {
        principal::check(cx, st, out);
        action::check(cx, st, out);
        resource::check(cx, st, out);
        condition::check(cx, st, out);
        values::check(cx, st, out);
        variables::check(cx, st, out);
        catalog_checks::check(cx, st, out);
    }
    redundancy::check(cx, out);
}

/// What every check reads: the policy, its JSON and the rules that apply.
pub(crate) struct Ctx<'a> {
    pub(crate) kind: PolicyKind,
    pub(crate) policy: &'a Policy,
    pub(crate) raw: &'a Json,
    pub(crate) limits: &'a Limits,
    pub(crate) catalog: Option<&'a dyn ServiceCatalog>,
    /// What is left of the work budget for pattern comparisons (table cells), so a hostile
    /// document cannot make the quadratic redundancy checks run for long.
    pub(crate) work: std::cell::Cell<u64>,
}

/// Table cells the pattern comparisons of one validation may fill.
const WORK_BUDGET: u64 = 20_000_000;

impl Ctx<'_> {
    /// Takes the work of comparing patterns of `m` and `n` tokens from the budget; false (and
    /// nothing taken) when it does not fit, in which case the comparison is skipped.
    pub(crate) fn afford(&self, m: usize, n: usize) -> bool {
        let cost = (m as u64 + 1).saturating_mul(n as u64 + 1);
        let left = self.work.get();
        if cost > left {
            return false;
        }
        self.work.set(left - cost);
        true
    }

    /// Whether the policy type is an identity-side policy (no principals).
    pub(crate) fn is_identity_side(&self) -> bool {
        matches!(self.kind, PolicyKind::Identity | PolicyKind::PermissionsBoundary)
    }
}

/// The findings gathered so far.
#[derive(Default)]
pub(crate) struct Findings(Vec<Finding>);

impl Findings {
    /// Records a finding of `code` (its severity and documentation come from the code table).
    pub(crate) fn emit(&mut self, code: &'static str, location: &Location, message: String) {
        self.push(Finding {
            code,
            severity: codes::severity(code),
            message,
            location: location.clone(),
            learn_more: codes::learn_more(code),
        });
    }

    fn push(&mut self, f: Finding) {
        self.0.push(f);
    }

    /// Sorted by position, without repeats of the same code at the same place.
    fn finish(mut self) -> Vec<Finding> {
        self.0.sort_by_key(|f| f.location.pos);
        let mut out: Vec<Finding> = Vec::with_capacity(self.0.len());
        for f in self.0 {
            let repeat =
                out.iter().rev().take_while(|g| g.location.pos == f.location.pos).any(|g| {
                    g.code == f.code && g.location.path == f.location.path && g.message == f.message
                });
            if !repeat {
                out.push(f);
            }
        }
        out
    }
}

/// How a statement is named in messages: by its `Sid`, or by its position from 1.
pub(crate) fn label(st: &Statement) -> String {
    match &st.sid {
        Some(sid) if !sid.is_empty() => format!("statement `{sid}`"),
        _ => format!("statement {}", st.index + 1),
    }
}
