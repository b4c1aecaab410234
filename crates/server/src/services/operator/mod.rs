//! The operator API (JSON 1.1 protocol, signing service `hermetic`, target prefix
//! `HermeticOperator.`): create, list, suspend and reactivate tenant accounts. Only the operator
//! may call it; a new account's root access key is returned once and stored only wrapped by the
//! root key.

use crate::error::ApiError;
use crate::pipeline::events::{self, RequestFacts};
use crate::pipeline::identity::{Caller, OPERATOR_ACCOUNT};
use crypto::RootOfTrust;
use serde_json::{json, Value};
use store::{AccessKey, AccessKeyStatus, Account, AccountStatus, StoreError};

/// The `X-Amz-Target` prefix of operator operations.
pub const TARGET_PREFIX: &str = "HermeticOperator.";

/// The context a root access key's secret is wrapped for.
pub fn secret_context(access_key_id: &str) -> Vec<u8> {
    format!("access-key/{access_key_id}").into_bytes()
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::AlreadyExists => ApiError::sender(
            400,
            "DuplicateAccountException",
            "an account with that name already exists",
        ),
        StoreError::NotFound => {
            ApiError::sender(400, "AccountNotFoundException", "no such account")
        }
        _ => ApiError::unavailable("the store is unavailable"),
    }
}

fn valid_name(name: &str) -> bool {
    (1..=50).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn new_account_id() -> String {
    loop {
        let digits = crate::support::ids::random_text(b"01234567890123456789012345678901", 12);
        if !digits.starts_with('0') {
            return digits;
        }
    }
}

/// Handles one operator operation; the effect and its audit events commit together.
pub fn handle(
    store: &dyn store::Store,
    root: &dyn RootOfTrust,
    caller: &Caller,
    operation: &str,
    input: &Value,
    facts: &RequestFacts,
) -> Result<Value, ApiError> {
    if caller.account != OPERATOR_ACCOUNT {
        return Err(ApiError::sender(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: hermetic:{operation} because only the operator may manage accounts",
                caller.arn
            ),
        ));
    }
    let field = |name: &str| -> Result<&str, ApiError> {
        input.get(name).and_then(Value::as_str).ok_or_else(|| {
            ApiError::sender(
                400,
                "ValidationException",
                format!("`{name}` is required and must be a string"),
            )
        })
    };
    let now = facts.time_ms;
    let mut tx = store.begin().map_err(store_error)?;
    let (output, account_log, params) = match operation {
        "CreateAccount" => {
            let name = field("AccountName")?;
            if !valid_name(name) {
                return Err(ApiError::sender(
                    400,
                    "ValidationException",
                    "`AccountName` must be 1 to 50 lowercase letters, digits or hyphens",
                ));
            }
            let id = new_account_id();
            tx.create_account(&Account {
                id: id.clone(),
                name: name.to_string(),
                status: AccountStatus::Active,
                created_at_ms: now,
            })
            .map_err(store_error)?;
            let (key_id, secret) = crate::support::ids::new_access_key("AKIA");
            let wrapped = root
                .wrap(&secret_context(&key_id), secret.expose())
                .map_err(|_| ApiError::unavailable("the root of trust is unavailable"))?;
            tx.insert_access_key(&AccessKey {
                access_key_id: key_id.clone(),
                account: id.clone(),
                owner_kind: "root".into(),
                owner_key: id.clone(),
                status: AccessKeyStatus::Active,
                secret_wrapped: wrapped,
                created_at_ms: now,
                last_used_at_ms: None,
                last_used_service: None,
                last_used_region: None,
            })
            .map_err(store_error)?;
            let secret_text = String::from_utf8_lossy(secret.expose()).into_owned();
            (
                json!({ "AccountId": id, "AccessKeyId": key_id, "SecretAccessKey": secret_text }),
                Some(id),
                json!({ "accountName": name }),
            )
        }
        "ListAccounts" => {
            let page = tx.list_accounts(None, 1000).map_err(store_error)?;
            let accounts: Vec<Value> = page
                .items
                .iter()
                .map(|a| json!({ "Id": a.id, "Name": a.name, "Status": a.status.as_str().to_uppercase(), "CreatedAt": a.created_at_ms / 1000 }))
                .collect();
            (json!({ "Accounts": accounts }), None, json!({}))
        }
        "SuspendAccount" | "ReactivateAccount" => {
            let id = field("AccountId")?.to_string();
            let status = if operation == "SuspendAccount" {
                AccountStatus::Suspended
            } else {
                AccountStatus::Active
            };
            tx.set_account_status(&id, status).map_err(store_error)?;
            (json!({}), Some(id.clone()), json!({ "accountId": id }))
        }
        other => {
            return Err(ApiError::sender(
                400,
                "UnknownOperationException",
                format!("unknown operation `{other}`"),
            ))
        }
    };
    // The operator's own log, and the affected account's log, in the same transaction.
    let mut response = output.clone();
    if let Some(obj) = response.as_object_mut() {
        obj.remove("SecretAccessKey");
    }
    let event = events::event(
        facts,
        Some(caller),
        OPERATOR_ACCOUNT,
        Some(params.clone()),
        Some(response.clone()),
        None,
    )?;
    // The operator realm's id (all zeros) sorts first: logs in account order, as everywhere.
    events::append(tx.as_mut(), OPERATOR_ACCOUNT, &event)?;
    if let Some(account) = &account_log {
        let event =
            events::event(facts, Some(caller), account, Some(params), Some(response), None)?;
        events::append(tx.as_mut(), account, &event)?;
    }
    tx.commit().map_err(|_| ApiError::unavailable("the change could not be committed"))?;
    Ok(output)
}
