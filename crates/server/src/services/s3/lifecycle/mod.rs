//! S3 Lifecycle: the rules a bucket's owner sets (`PutBucketLifecycleConfiguration`,
//! `GetBucketLifecycleConfiguration`, `DeleteBucketLifecycle`) and S3 applying them itself.
//!
//! - `configuration`: the configuration document, read and checked as S3 does and answered
//!   as it was given.
//! - `date`: a rule's `Date`, which must be a midnight UTC.
//! - `rules`: which rule makes an object, a version or an upload due, a pure function of the
//!   rules, the thing, the time and the length of a day.
//! - `pass`: the timer's pass over every bucket with rules, each action a transaction of its
//!   own that also appends its event (`S3Lifecycle*`, by `s3.amazonaws.com`) to the bucket
//!   owner's log.
//!
//! Hermetic has one storage class, so transitions are refused, never stored. The rules live in
//! the bucket's record, which the store authenticates: a rule the operator writes into the
//! database is refused with the record, never applied.

mod configuration;
mod date;
mod pass;
mod rules;

pub(crate) use configuration::{get, read, with_ids};
pub use pass::pass;
