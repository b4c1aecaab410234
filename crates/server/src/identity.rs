//! Who a verified request comes from, and the access keys the server knows.

use std::collections::HashMap;
use std::sync::RwLock;

/// The principal behind an access key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The 12-digit account (`000000000000` is the operator realm).
    pub account: String,
    /// The principal's ARN.
    pub arn: String,
    /// The unique id AWS reports as `UserId`.
    pub user_id: String,
    /// For a role session, the inline session policy it was created with.
    pub session_policy: Option<String>,
    /// Whether the request was signed with temporary credentials (a session).
    pub temporary: bool,
}

/// The operator realm's account id: reserved, never a tenant.
pub const OPERATOR_ACCOUNT: &str = "000000000000";

/// An access key: its secret and its owner.
#[derive(Clone, Debug)]
pub struct KeyEntry {
    /// The secret access key.
    pub secret: sigv4::Secret,
    /// The owner.
    pub caller: Caller,
}

/// The access keys the server accepts, by access key id.
#[derive(Debug, Default)]
pub struct Keys {
    keys: RwLock<HashMap<String, KeyEntry>>,
}

impl Keys {
    /// Adds or replaces a key.
    pub fn insert(&self, access_key_id: &str, entry: KeyEntry) {
        if let Ok(mut k) = self.keys.write() {
            k.insert(access_key_id.to_string(), entry);
        }
    }

    /// Looks a key up; a poisoned lock finds nothing (fail closed).
    pub fn get(&self, access_key_id: &str) -> Option<KeyEntry> {
        self.keys.read().ok().and_then(|k| k.get(access_key_id).cloned())
    }
}
