//! Who a verified request comes from, and the access keys the server knows.

use std::collections::HashMap;
use std::sync::RwLock;

/// The principal behind an access key.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Caller {
    /// The 12-digit account (`000000000000` is the operator realm).
    pub account: String,
    /// The principal's ARN.
    pub arn: String,
    /// The unique id AWS reports as `UserId`.
    pub user_id: String,
    /// The session behind temporary credentials; `None` for long-term keys.
    pub session: Option<Session>,
}

impl Caller {
    /// The anonymous principal of unsigned S3 requests (no account).
    pub fn anonymous() -> Caller {
        Caller {
            account: String::new(),
            arn: "anonymous".into(),
            user_id: "anonymous".into(),
            session: None,
        }
    }

    /// Whether this is the anonymous principal.
    pub fn is_anonymous(&self) -> bool {
        self.account.is_empty() && self.arn == "anonymous"
    }

    /// Whether the request was signed with temporary credentials.
    pub fn temporary(&self) -> bool {
        self.session.is_some()
    }
}

/// What temporary credentials carry from the call that issued them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Session {
    /// When the credentials were issued (ms since the epoch): `aws:TokenIssueTime`.
    pub issued_ms: i64,
    /// When MFA was last proven for them (ms), if it was: `aws:MultiFactorAuth*`.
    pub mfa_ms: Option<i64>,
    /// For a role session, the session policies it was created with (name, document): the
    /// inline one and the managed ones' documents as they were then.
    pub policies: Vec<(String, String)>,
    /// For a role session, the role (ARN, unique id).
    pub role: Option<(String, String)>,
    /// Session tags (`aws:PrincipalTag/*`, over the role's own tags).
    pub tags: Vec<(String, String)>,
    /// Keys of the session tags that pass on to chained role sessions.
    pub transitive_keys: Vec<String>,
    /// The source identity set when the role was assumed (`aws:SourceIdentity`).
    pub source_identity: Option<String>,
    /// For an operator's approved access (issue 18), the approval session's ARN: its session
    /// policies are then its identity policies too, and the approval is checked on every
    /// request.
    pub approved_access: Option<String>,
    /// The principal that began the chain of sessions these credentials end (a user or the
    /// root user): who acts, whatever role it took on the way (issue 18's two-person rule).
    #[serde(default)]
    pub origin: Option<String>,
    /// For a user's session (`GetSessionToken`), when the long-term access key that asked for
    /// it was made (ms): an approval session's answer needs credentials older than the session.
    #[serde(default)]
    pub origin_key_ms: Option<i64>,
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

/// Whose a new access key is.
#[derive(Clone, Copy, Debug)]
pub enum KeyOwner<'a> {
    /// An IAM user of the account, by name.
    User(&'a str),
    /// The account's root user.
    Root,
    /// Temporary credentials (`ASIA...`): the key is its own owner.
    Session,
}

/// Makes a new access key for `owner` in `account`: a fresh id and secret, the secret wrapped
/// by the root of trust for [`secret_context`] and stored in `tx`. The one place a key is made,
/// so no key is ever wrapped for another binding. Returns the id and the secret (shown once).
///
/// # Errors
/// `ServiceUnavailable` when the root of trust or the store fails.
pub fn issue_access_key(
    tx: &mut dyn store::Tx,
    root: &dyn crypto::RootOfTrust,
    account: &str,
    owner: KeyOwner<'_>,
    now_ms: i64,
) -> Result<(String, sigv4::Secret), crate::error::ApiError> {
    let prefix = if matches!(owner, KeyOwner::Session) { "ASIA" } else { "AKIA" };
    let (key_id, secret) = crate::support::ids::new_access_key(prefix);
    let (owner_kind, owner_key) = match owner {
        KeyOwner::User(name) => ("user", name),
        KeyOwner::Root => ("root", account),
        KeyOwner::Session => ("session", key_id.as_str()),
    };
    let wrapped = root
        .wrap(&secret_context(account, owner_kind, owner_key, &key_id), secret.expose())
        .map_err(|_| crate::error::ApiError::unavailable("the root of trust is unavailable"))?;
    tx.insert_access_key(&store::AccessKey {
        mac: Vec::new(),
        access_key_id: key_id.clone(),
        account: account.to_string(),
        owner_kind: owner_kind.into(),
        owner_key: owner_key.to_string(),
        status: store::AccessKeyStatus::Active,
        secret_wrapped: wrapped,
        created_at_ms: now_ms,
        last_used_at_ms: None,
        last_used_service: None,
        last_used_region: None,
    })?;
    Ok((key_id, secret))
}

/// The context an access key's secret is wrapped for by the root of trust: bound to the key's
/// id, its account and its owner, so that a row moved to another account or owner (an operator
/// with write access to the database) no longer opens (issue 16). The parts are joined with NUL,
/// which none of them can contain.
pub fn secret_context(
    account: &str,
    owner_kind: &str,
    owner_key: &str,
    access_key_id: &str,
) -> Vec<u8> {
    format!("access-key/v2\0{account}\0{owner_kind}\0{owner_key}\0{access_key_id}").into_bytes()
}

/// The context secrets were wrapped for before they were bound to their account and owner:
/// read only to re-wrap them once, at start ([`crate::bootstrap::bind_access_keys`]).
pub fn legacy_secret_context(access_key_id: &str) -> Vec<u8> {
    format!("access-key/{access_key_id}").into_bytes()
}
