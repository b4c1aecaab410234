//! The services, one folder each.

pub mod access_analyzer;
pub mod cloudtrail;
pub mod iam;
pub mod kms;
pub mod mpa;
pub mod onboarding;
pub mod operator;
pub mod s3;
pub mod sts;
