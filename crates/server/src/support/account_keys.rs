//! Each account's sealing key: 32 random bytes, wrapped by the root of trust for that account
//! (record `account_key`/`seal/v1` of the account), that seals what an operator reading the
//! database should not read but that is not an object's body: audit events' request and
//! response parameters, and objects' user metadata (`x-amz-meta-*`).
//!
//! Every account gets its key when it is made (and, for accounts older than this, at start);
//! a key that is missing when something must be sealed fails the request (fail closed), never
//! leaves the value in the clear. Opened keys are kept in memory for the server's lifetime
//! (dropped, zeroized, when it stops or is sealed).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use crypto::RootOfTrust;
use serde_json::{json, Value};

use crate::error::ApiError;

const KIND: &str = "account_key";
const NAME: &str = "seal/v1";
/// The field a sealed JSON value is kept under.
pub const SEALED: &str = "hermeticSealed";

fn context(account: &str) -> Vec<u8> {
    format!("hermetic:account-seal-key/v1\0{account}").into_bytes()
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The opened keys, by account.
#[derive(Default)]
pub struct AccountKeys {
    opened: Mutex<HashMap<String, Arc<crypto::RootKey>>>,
}

impl std::fmt::Debug for AccountKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountKeys")
    }
}

/// Makes `account`'s key in `tx` if it has none.
///
/// # Errors
/// The store's; the root of trust's as [`store::StoreError::Backend`].
pub fn ensure(
    tx: &mut dyn store::Tx,
    root: &dyn RootOfTrust,
    account: &str,
    now_ms: i64,
) -> Result<(), store::StoreError> {
    if tx.get_record_for_update(account, KIND, NAME)?.is_some() {
        return Ok(());
    }
    let key = crypto::object::new_data_key();
    let wrapped = root
        .wrap(&context(account), key.expose())
        .map_err(|e| store::StoreError::Backend(format!("the root of trust: {e}")))?;
    tx.put_record(
        &store::Record {
            account: account.to_string(),
            kind: KIND.into(),
            key: NAME.into(),
            format_version: 1,
            body: json!({ "Wrapped": b64().encode(wrapped) }),
            updated_at_ms: now_ms,
            mac: Vec::new(),
        },
        store::PutMode::Create,
    )
}

impl AccountKeys {
    /// At start: gives every account (and the operator realm) a key if it has none, and opens
    /// them all, so that a request seldom has to read one while it holds a transaction. An
    /// account whose key does not open is left to fail its requests.
    ///
    /// # Errors
    /// The store's, when a missing key cannot be made.
    pub fn open_all(
        store: &dyn store::Store,
        unchecked: &dyn store::Store,
        root: &dyn RootOfTrust,
        now_ms: i64,
    ) -> Result<AccountKeys, store::StoreError> {
        // The ids come from the store behind the MACs: an account whose rows fail their checks
        // must not keep every other account from being served. Its own rows are refused when
        // read, here (its key is then not opened) and on each request.
        let mut accounts = vec![crate::pipeline::identity::OPERATOR_ACCOUNT.to_string()];
        let mut after: Option<String> = None;
        loop {
            let page = unchecked.read()?.list_accounts(after.as_deref(), 500)?;
            accounts.extend(page.items.iter().map(|a| a.id.clone()));
            after = page.items.last().map(|a| a.id.clone());
            if !page.truncated {
                break;
            }
        }
        let keys = AccountKeys::default();
        for account in accounts {
            // The reader ends before a missing key is made (that takes a connection too).
            let found = store.read()?.get_record(&account, KIND, NAME);
            let opened = found.and_then(|found| {
                if found.is_none() {
                    match store::with_retries(store, 3, |tx| ensure(tx, root, &account, now_ms)) {
                        // Another server on the database made it at the same moment.
                        Ok(()) | Err(store::StoreError::AlreadyExists) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            });
            match opened {
                Ok(()) => {
                    let _ = keys.get(store.read()?.as_mut(), root, &account);
                }
                Err(store::StoreError::Forged { account, row }) => {
                    tracing::error!(
                        account = %account,
                        "ALARM: {} of account {account} failed its integrity check: the account is not served",
                        crate::observe::logs::loggable_row(&row)
                    );
                }
                Err(e) => return Err(e),
            }
        }
        Ok(keys)
    }

    /// `account`'s key: the one opened already, else read in a transaction of its own (for a
    /// caller that holds none).
    ///
    /// # Errors
    /// As [`AccountKeys::get`].
    pub fn of(
        &self,
        store: &dyn store::Store,
        root: &dyn RootOfTrust,
        account: &str,
    ) -> Result<Arc<crypto::RootKey>, ApiError> {
        match self.cached(account) {
            Some(key) => Ok(key),
            None => self.get(store.read()?.as_mut(), root, account),
        }
    }

    /// `account`'s key if it was opened already.
    pub fn cached(&self, account: &str) -> Option<Arc<crypto::RootKey>> {
        self.opened.lock().ok().and_then(|m| m.get(account).cloned())
    }

    /// `account`'s key, opened once and kept; read through `tx` the first time (the caller's
    /// transaction, so that no second connection is needed while it holds one).
    ///
    /// # Errors
    /// `ServiceUnavailable` if the account has no key or it does not open; a row that failed
    /// its integrity check as such.
    pub fn get(
        &self,
        tx: &mut dyn store::ReadTx,
        root: &dyn RootOfTrust,
        account: &str,
    ) -> Result<Arc<crypto::RootKey>, ApiError> {
        if let Some(key) = self.cached(account) {
            return Ok(key);
        }
        let record = tx
            .get_record(account, KIND, NAME)?
            .ok_or_else(|| ApiError::unavailable("the account's sealing key is missing"))?;
        let wrapped = record
            .body
            .get("Wrapped")
            .and_then(Value::as_str)
            .and_then(|w| b64().decode(w).ok())
            .ok_or_else(|| ApiError::internal("the account's sealing key is malformed"))?;
        let bytes = root
            .unwrap(&context(account), &wrapped)
            .map_err(|_| ApiError::unavailable("the account's sealing key does not open"))?;
        let key = Arc::new(
            crypto::RootKey::from_bytes(bytes)
                .map_err(|_| ApiError::internal("the account's sealing key is malformed"))?,
        );
        if let Ok(mut map) = self.opened.lock() {
            map.insert(account.to_string(), key.clone());
        }
        Ok(key)
    }
}

/// Seals `value`, as JSON, for `context` under `key`: the base64 of the envelope. `what` names
/// it in the error.
///
/// # Errors
/// `ServiceUnavailable` if sealing fails.
pub fn seal_text<T: serde::Serialize + ?Sized>(
    key: &crypto::RootKey,
    context: &str,
    value: &T,
    what: &str,
) -> Result<String, ApiError> {
    let failed = || ApiError::unavailable(format!("the {what} could not be sealed"));
    let bytes = serde_json::to_vec(value).map_err(|_| failed())?;
    let sealed = key.wrap(context.as_bytes(), &bytes).map_err(|_| failed())?;
    Ok(b64().encode(sealed))
}

/// Opens what [`seal_text`] sealed for `context`.
///
/// # Errors
/// `InternalFailure` if it does not open (edited or moved) or is not a `T`.
pub fn open_text<T: serde::de::DeserializeOwned>(
    key: &crypto::RootKey,
    context: &str,
    sealed: &str,
    what: &str,
) -> Result<T, ApiError> {
    let refused = || ApiError::internal(format!("{what} failed its integrity check"));
    let wrapped = b64().decode(sealed).map_err(|_| refused())?;
    let bytes = key.unwrap(context.as_bytes(), &wrapped).map_err(|_| refused())?;
    serde_json::from_slice(bytes.expose()).map_err(|_| refused())
}

/// Seals a JSON value for `context` under `key`: `{"hermeticSealed": "<base64>"}`.
///
/// # Errors
/// `ServiceUnavailable` if sealing fails.
pub fn seal_value(key: &crypto::RootKey, context: &str, value: &Value) -> Result<Value, ApiError> {
    Ok(json!({ SEALED: seal_text(key, context, value, "value")? }))
}

/// Opens what [`seal_value`] sealed for `context`; a value that is not sealed is returned as it
/// is (written before values were sealed).
///
/// # Errors
/// `InternalFailure` if a sealed value does not open (edited or moved).
pub fn open_value(key: &crypto::RootKey, context: &str, value: &Value) -> Result<Value, ApiError> {
    match value.get(SEALED).and_then(Value::as_str) {
        Some(sealed) => open_text(key, context, sealed, "a sealed value"),
        None => Ok(value.clone()),
    }
}
