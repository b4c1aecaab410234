//! Hermetic's HTTP front: one endpoint for every service, routed by the SigV4 credential
//! scope's service name, through one pipeline (decode → authenticate → authorize → handle →
//! audit → encode). The only async crate of the workspace.
//!
//! - [`listener`]: connections, TLS, background tasks.
//! - [`pipeline`]: the one path every request takes.
//! - [`protocol`]: the wire formats.
//! - [`services`]: one folder per service.
//! - `records`: the stored records' types.
//! - [`support`]: ids, the store thread pool.
//! - [`observe`]: metrics, health and readiness, log lines.
//! - [`testing`]: the server in-process, for tests.

#![forbid(unsafe_code)]

pub mod bootstrap;
pub mod checkpoints;
pub mod config;
pub mod error;
pub mod listener;
pub mod observe;
pub mod pipeline;
pub mod protocol;
pub(crate) mod records;
pub mod row_macs;
pub mod services;
pub mod support;
pub mod testing;
pub mod vault;
pub mod witness;

pub use config::Config;
pub use listener::{run, serve};
