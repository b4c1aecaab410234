//! Reading records of one kind: the store's listing, as the services use it.

use crate::error::ApiError;
use store::{Record, RecordQuery};

/// The records of `kind` in `account` whose keys start with `prefix`, in key order (at most
/// `limit`: listings are one page for now).
pub(crate) fn list(
    tx: &mut dyn store::ReadTx,
    account: &str,
    kind: &str,
    prefix: &str,
    limit: usize,
) -> Result<Vec<Record>, ApiError> {
    Ok(tx.list_records(&RecordQuery { account, kind, prefix, after: None, limit })?.items)
}
