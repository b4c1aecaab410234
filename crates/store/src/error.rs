//! What can go wrong talking to the store.

/// What went wrong in a store operation.
///
/// `AlreadyExists` and `NotFound` are answers about the data (a create-only write found a row,
/// an update-only write or a delete found none); `Conflict` and `Busy` mean the transaction lost
/// a race and may be retried from the start ([`StoreError::is_retryable`]); the rest are faults.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A create-only write found a row with the same key (or another unique value).
    #[error("already exists")]
    AlreadyExists,
    /// An update-only write, a status change or a delete found no such row.
    #[error("not found")]
    NotFound,
    /// A concurrent transaction touched the same rows (serialization failure or deadlock); the
    /// transaction was rolled back and may be retried.
    #[error("conflict with a concurrent transaction; retry")]
    Conflict,
    /// SQLite was locked by another process for longer than the busy timeout, or PostgreSQL
    /// refused a lock or a connection; nothing was written and the transaction may be retried.
    #[error("database is busy; retry")]
    Busy,
    /// The caller passed a value the store refuses (a malformed account id, an empty key, text
    /// with a NUL character, a checkpoint that does not match the log, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A stored value could not be decoded (a hash of the wrong length, an unknown status, a
    /// body that is not JSON, a negative sequence number).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A row failed its integrity check ([`crate::Authenticated`]): edited, moved or copied
    /// outside Hermetic. Never acted upon.
    #[error("a stored row failed its integrity check: {row} of account {account}")]
    Forged {
        /// The account the row names.
        account: String,
        /// Which row (`record iam_role Admin`, `access key AKIA...`, `account 1234...`).
        row: String,
    },
    /// The database was written by a newer build: its schema version is past the newest
    /// migration this build knows.
    #[error(
        "database schema version {found} is newer than version {supported} this build supports"
    )]
    SchemaTooNew {
        /// The version recorded in the database.
        found: u32,
        /// The newest version this build can migrate to.
        supported: u32,
    },
    /// Any other database failure (I/O, a lost connection, a failed migration), with the
    /// backend's message.
    #[error("database error: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether the whole transaction may be retried from `begin`: a serialization failure, a
    /// deadlock, or a busy database. Such failures guarantee that nothing was committed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Conflict | Self::Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_races_are_retryable() {
        assert!(StoreError::Conflict.is_retryable());
        assert!(StoreError::Busy.is_retryable());
        assert!(!StoreError::AlreadyExists.is_retryable());
        assert!(!StoreError::NotFound.is_retryable());
        assert!(!StoreError::Backend("x".into()).is_retryable());
    }

    #[test]
    fn messages_are_lowercase() {
        let e = StoreError::SchemaTooNew { found: 3, supported: 1 };
        assert_eq!(
            e.to_string(),
            "database schema version 3 is newer than version 1 this build supports"
        );
    }
}
