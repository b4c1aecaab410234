//! Small support modules every part of the server uses.

pub mod account_keys;
pub mod ids;
pub mod pool;
pub mod private;
pub(crate) mod records;
pub(crate) mod time;
