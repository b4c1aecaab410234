//! The IAM policy language, as a pure library: parse policies with source positions, validate
//! them like IAM Access Analyzer, evaluate a request against every policy type with AWS's
//! decision logic, and explain the decision in the words AWS's `AccessDenied` messages use.
//!
//! No I/O, no async, no clock: time arrives in the request context (`aws:CurrentTime`).

#![forbid(unsafe_code)]

#[cfg(feature = "arbitrary")]
pub mod arb;

pub mod ast;
pub mod aws_rules;
pub mod catalog;
pub mod condition;
pub mod evaluate;
pub mod explain;
pub mod fasthash;
pub mod index;
pub mod json;
pub mod parse;
pub mod pattern;
pub mod request;
pub mod validate;
pub mod value;

pub use ast::{Effect, Location, Policy, Statement, Version};
pub use evaluate::{
    evaluate, AwsRule, Decision, Evaluation, NamedPolicy, OrgLevel, PolicySet, PolicyType,
    StatementRef,
};
pub use parse::{parse_policy, parse_policy_lenient, ParseError, ParseErrors};
pub use request::{Context, Principal, PrincipalType, Request};
