//! The `hermetic` command's library: the subcommands, kept testable.

#![forbid(unsafe_code)]

pub mod analyze;
pub mod client;
pub mod simulate;
pub mod tenant_verify;
pub mod validate;
