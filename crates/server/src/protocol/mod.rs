//! The wire protocols: the query protocol (IAM, STS), JSON (KMS, CloudTrail, the operator API,
//! Access Analyzer), REST-XML (S3), and request payloads (whole, streamed, aws-chunked).

pub mod form;
pub(crate) mod input;
pub(crate) mod model;
pub mod payload;
pub mod query;
pub mod xml;
