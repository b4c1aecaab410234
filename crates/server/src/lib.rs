//! Hermetic's HTTP front: one endpoint for every service, routed by the SigV4 credential
//! scope's service name, through one pipeline (decode → authenticate → authorize → handle →
//! audit → encode). The only async crate of the workspace.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod analyzer;
pub mod analyzer_validate;
pub mod audit_trail;
pub mod authz;
pub mod body;
pub mod bootstrap;
pub mod cloudtrail;
pub mod config;
pub mod error;
pub mod group_commit;
pub mod groups;
pub mod http;
pub mod iam;
pub mod identity;
pub mod inline;
pub mod kms;
pub mod managed;
pub mod mfa;
pub mod pool;
pub mod query;
pub mod quotas;
pub mod reports;
pub mod roles;
pub mod s3;
pub mod sessions;
pub mod simulate;
pub mod sts;
pub mod tags;
pub mod trail;

pub use config::Config;
pub use http::{run, serve};
