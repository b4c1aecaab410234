//! Typed records (STYLE 14): each main kind's body is a serde struct with enums for its states,
//! read and written only through [`Stored`], instead of `serde_json::Value` lookups with
//! defaults. A body that does not read as its struct is refused (fail closed): the request
//! answers `ServiceUnavailable`, never acts on a guess.
//!
//! The JSON layout of every body is the one the server has always written (format version 1),
//! so no migration is needed; a later layout bumps [`Body::FORMAT`] and migrates forward here.

pub(crate) mod accounts;
pub(crate) mod cloudtrail;
pub(crate) mod iam;
pub(crate) mod kms;
pub(crate) mod mpa;
pub(crate) mod s3;

use crate::error::ApiError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use store::{PutMode, Record, RecordQuery, StoreError};

/// A record kind's body.
pub(crate) trait Body: Serialize + DeserializeOwned {
    /// The store's kind (`user`, `s3_bucket`, ...).
    const KIND: &'static str;
    /// The body's format version.
    const FORMAT: u32 = 1;
}

/// A record of kind `T`, as stored.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stored<T> {
    /// The account it belongs to.
    pub account: String,
    /// Its key within the kind.
    pub key: String,
    /// Its body.
    pub body: T,
    /// When it was last written.
    pub updated_at_ms: i64,
}

fn malformed(kind: &str) -> ApiError {
    ApiError::unavailable(format!("a stored {kind} record cannot be read"))
}

impl<T: Body> Stored<T> {
    /// A new record.
    pub fn new(account: &str, key: &str, body: T, now_ms: i64) -> Stored<T> {
        Stored { account: account.to_string(), key: key.to_string(), body, updated_at_ms: now_ms }
    }

    /// The typed form of a stored record; one of another kind or format, or a body that does
    /// not read as `T`, is refused.
    pub fn from_record(record: Record) -> Result<Stored<T>, ApiError> {
        if record.kind != T::KIND || record.format_version != T::FORMAT {
            return Err(malformed(T::KIND));
        }
        let body = serde_json::from_value(record.body).map_err(|_| malformed(T::KIND))?;
        Ok(Stored {
            account: record.account,
            key: record.key,
            body,
            updated_at_ms: record.updated_at_ms,
        })
    }

    /// The store's form.
    pub fn to_record(&self) -> Result<Record, ApiError> {
        Ok(Record {
            mac: Vec::new(),
            account: self.account.clone(),
            kind: T::KIND.to_string(),
            key: self.key.clone(),
            format_version: T::FORMAT,
            body: serde_json::to_value(&self.body).map_err(|_| malformed(T::KIND))?,
            updated_at_ms: self.updated_at_ms,
        })
    }

    /// The record at `key`, if there is one.
    pub fn get(
        tx: &mut dyn store::ReadTx,
        account: &str,
        key: &str,
    ) -> Result<Option<Stored<T>>, ApiError> {
        tx.get_record(account, T::KIND, key)?.map(Stored::from_record).transpose()
    }

    /// The record at `key`, locked until `tx` ends (`Tx::get_record_for_update`).
    pub fn get_for_update(
        tx: &mut dyn store::Tx,
        account: &str,
        key: &str,
    ) -> Result<Option<Stored<T>>, ApiError> {
        tx.get_record_for_update(account, T::KIND, key)?.map(Stored::from_record).transpose()
    }

    /// The record at `key`, held shared until `tx` ends (`Tx::get_record_for_share`).
    pub fn get_for_share(
        tx: &mut dyn store::Tx,
        account: &str,
        key: &str,
    ) -> Result<Option<Stored<T>>, ApiError> {
        tx.get_record_for_share(account, T::KIND, key)?.map(Stored::from_record).transpose()
    }

    /// The records whose keys start with `prefix`, in key order (at most `limit`).
    pub fn list(
        tx: &mut dyn store::ReadTx,
        account: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<Stored<T>>, ApiError> {
        tx.list_records(&RecordQuery { account, kind: T::KIND, prefix, after: None, limit })?
            .items
            .into_iter()
            .map(Stored::from_record)
            .collect()
    }

    /// One page of the records whose keys start with `prefix`, after key `after`.
    pub fn page(
        tx: &mut dyn store::ReadTx,
        account: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<store::Page<Stored<T>>, ApiError> {
        let page =
            tx.list_records(&RecordQuery { account, kind: T::KIND, prefix, after, limit })?;
        Ok(store::Page {
            items: page.items.into_iter().map(Stored::from_record).collect::<Result<_, _>>()?,
            truncated: page.truncated,
        })
    }

    /// Writes the record (the store's error kept, so a caller can tell `AlreadyExists`).
    pub fn put(&self, tx: &mut dyn store::Tx, mode: PutMode) -> Result<(), PutError> {
        let record = self.to_record().map_err(PutError::Api)?;
        tx.put_record(&record, mode).map_err(PutError::Store)
    }

    /// Deletes the record at `key`.
    pub fn delete(tx: &mut dyn store::Tx, account: &str, key: &str) -> Result<(), ApiError> {
        Ok(tx.delete_record(account, T::KIND, key)?)
    }
}

/// Why a record could not be written.
#[derive(Debug)]
pub(crate) enum PutError {
    /// The store refused it (`AlreadyExists`, `NotFound`) or failed.
    Store(StoreError),
    /// The body could not be encoded.
    Api(ApiError),
}

impl From<PutError> for ApiError {
    fn from(e: PutError) -> ApiError {
        match e {
            PutError::Store(e) => e.into(),
            PutError::Api(e) => e,
        }
    }
}
