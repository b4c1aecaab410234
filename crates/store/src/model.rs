//! The values the store keeps: accounts, access keys, versioned records, audit events, heads and
//! checkpoints. Times are milliseconds since the Unix epoch, passed in by the caller.

use std::fmt;

use crate::StoreError;

/// A SHA-256 hash of the audit log (a leaf hash, a subtree hash or a root).
pub type Hash = audit::merkle::Hash;

/// Whether a tenant account may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountStatus {
    /// The account serves requests.
    Active,
    /// The operator suspended the account: its principals are refused.
    Suspended,
    /// The operator invited a tenant; until the tenant redeems the invitation the account has
    /// no credential and serves nothing.
    Invited,
}

impl AccountStatus {
    /// The stored spelling: `active`, `suspended` or `invited`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Invited => "invited",
        }
    }

    pub(crate) fn from_stored(s: &str) -> Result<Self, StoreError> {
        match s {
            "active" => Ok(Self::Active),
            "suspended" => Ok(Self::Suspended),
            "invited" => Ok(Self::Invited),
            other => Err(StoreError::Corrupt(format!("unknown account status `{other}`"))),
        }
    }
}

/// A tenant account: a 12-digit id, a unique name, a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Twelve ASCII digits, as AWS account ids are.
    pub id: String,
    /// A name unique across the service.
    pub name: String,
    /// Active, suspended or invited.
    pub status: AccountStatus,
    /// When the account was created.
    pub created_at_ms: i64,
    /// The row's MAC, written and checked by [`crate::Authenticated`]; callers leave it empty
    /// (empty in rows written before MACs existed or below that layer).
    pub mac: Vec<u8>,
}

/// Whether an access key may sign requests (AWS's `Active` / `Inactive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessKeyStatus {
    /// The key signs requests.
    Active,
    /// The key is disabled; requests signed with it are refused.
    Inactive,
}

impl AccessKeyStatus {
    /// The stored spelling: `active` or `inactive`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }

    pub(crate) fn from_stored(s: &str) -> Result<Self, StoreError> {
        match s {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            other => Err(StoreError::Corrupt(format!("unknown access key status `{other}`"))),
        }
    }
}

/// A long-term or session access key. The secret is stored only as `secret_wrapped`, bytes the
/// caller produced by wrapping the secret (the `crypto` envelope); the store never sees it in
/// plaintext.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// The access key id (`AKIA...`, `ASIA...`), unique across the service.
    pub access_key_id: String,
    /// The account that owns the key.
    pub account: String,
    /// What kind of principal owns it (for example `root`, `user`, `session`).
    pub owner_kind: String,
    /// Which principal of that kind (for example the user name); empty for the root user.
    pub owner_key: String,
    /// Active or inactive.
    pub status: AccessKeyStatus,
    /// The wrapped secret: opaque, versioned ciphertext.
    pub secret_wrapped: Vec<u8>,
    /// When the key was created.
    pub created_at_ms: i64,
    /// When the key last signed an accepted request, if ever.
    pub last_used_at_ms: Option<i64>,
    /// The service (`iam`, `sts`, ...) of that request.
    pub last_used_service: Option<String>,
    /// The region that request was signed for.
    pub last_used_region: Option<String>,
    /// The row's MAC, written and checked by [`crate::Authenticated`]; callers leave it empty
    /// (empty in rows written before MACs existed or below that layer).
    pub mac: Vec<u8>,
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("account", &self.account)
            .field("owner_kind", &self.owner_kind)
            .field("owner_key", &self.owner_key)
            .field("status", &self.status)
            .field("secret_wrapped", &format_args!("[{} bytes]", self.secret_wrapped.len()))
            .field("created_at_ms", &self.created_at_ms)
            .field("last_used_at_ms", &self.last_used_at_ms)
            .field("last_used_service", &self.last_used_service)
            .field("last_used_region", &self.last_used_region)
            .field("mac", &format_args!("[{} bytes]", self.mac.len()))
            .finish()
    }
}

/// A versioned JSON record of one kind in one account: an IAM user, group, role, policy,
/// policy version, session, ... (ADR 004's `records` table).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The account the record belongs to.
    pub account: String,
    /// The record kind (`user`, `role`, `policy`, ...).
    pub kind: String,
    /// The key within the kind; records list in key order (byte order of the UTF-8).
    pub key: String,
    /// The format version of `body`, so that readers can migrate old bodies forward.
    pub format_version: u32,
    /// The body.
    pub body: serde_json::Value,
    /// When the record was last written.
    pub updated_at_ms: i64,
    /// The row's MAC, written and checked by [`crate::Authenticated`]; callers leave it empty
    /// (empty in rows written before MACs existed or below that layer).
    pub mac: Vec<u8>,
}

/// Which row [`crate::Tx::set_mac`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowId<'a> {
    /// The account with this id.
    Account(&'a str),
    /// The access key with this id.
    AccessKey(&'a str),
    /// The record `(account, kind, key)`.
    Record {
        /// The account.
        account: &'a str,
        /// The kind.
        kind: &'a str,
        /// The key.
        key: &'a str,
    },
    /// Event `seq` of `account`'s audit log.
    AuditEvent {
        /// The account.
        account: &'a str,
        /// The event's sequence number.
        seq: u64,
    },
    /// The head of `account`'s audit log.
    AuditHead(&'a str),
}

/// How [`crate::Tx::put_record`] treats an existing record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutMode {
    /// Insert only: [`StoreError::AlreadyExists`] if the key is taken.
    Create,
    /// Replace only: [`StoreError::NotFound`] if there is no such record.
    Update,
    /// Insert or replace.
    Upsert,
}

/// Which records [`crate::ReadTx::list_records`] returns: those of `kind` in `account` whose key
/// starts with `prefix` and sorts after `after`, in key order, at most `limit` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordQuery<'a> {
    /// The account.
    pub account: &'a str,
    /// The record kind.
    pub kind: &'a str,
    /// Only keys starting with this (empty: all).
    pub prefix: &'a str,
    /// Only keys sorting strictly after this (the last key of the previous page).
    pub after: Option<&'a str>,
    /// At most this many records.
    pub limit: usize,
}

/// An access key with its account and one record of that account, as
/// [`crate::ReadTx::get_access_key_and_record`] reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyAndRecord {
    /// The key (`None`: no such key, and then nothing else is read).
    pub key: Option<AccessKey>,
    /// The key's account.
    pub account: Option<Account>,
    /// The record asked for, of the key's account.
    pub record: Option<Record>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, in listing order.
    pub items: Vec<T>,
    /// Whether more items follow the last one (AWS's `IsTruncated`).
    pub truncated: bool,
}

/// One entry of an account's audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// The entry's position: 0 for the first event of the account.
    pub seq: u64,
    /// Its RFC 6962 leaf hash, as the caller computed it.
    pub leaf_hash: Hash,
    /// The event's bytes, opaque to the store (CloudTrail records carry their own
    /// `eventVersion`).
    pub event: Vec<u8>,
    /// The row's MAC, over the account, `seq` and `leaf_hash` ([`crate::Authenticated`];
    /// empty below that layer and in rows older than it).
    pub mac: Vec<u8>,
}

/// An account's audit head row as stored: what an append extends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHeadRow {
    /// How many events the log holds.
    pub size: u64,
    /// The RFC 6962 Merkle Tree Hash of those events.
    pub root: Hash,
    /// The hashes of the perfect subtrees the next append combines, concatenated.
    pub frontier: Vec<u8>,
    /// The row's MAC, over the account, size, root and frontier ([`crate::Authenticated`]).
    pub mac: Vec<u8>,
}

/// The current size and root of an account's audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditHead {
    /// How many events the log holds.
    pub size: u64,
    /// The RFC 6962 Merkle Tree Hash of those events; `SHA-256("")` when empty.
    pub root: Hash,
}

/// A checkpoint of an account's audit log: its size and root at a time, with the signed note
/// that commits to them (the note's own format carries its version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The account whose log it covers.
    pub account: String,
    /// The log size it commits to.
    pub size: u64,
    /// The root of the first `size` events.
    pub root: Hash,
    /// When it was made.
    pub time_ms: i64,
    /// The signed note text.
    pub note: String,
}

/// A blob queued for deletion (`blob_garbage`, schema 6): operator bookkeeping without a MAC,
/// read by the deleter, which removes the blob once no record names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobGarbage {
    /// The account whose blob it is.
    pub account: String,
    /// The blob's name within the account.
    pub name: String,
    /// When it was queued (ms since the epoch).
    pub dropped_at_ms: i64,
}

/// Refuses anything but twelve ASCII digits.
fn check_account_id(id: &str) -> Result<(), StoreError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(StoreError::InvalidInput(format!("account id `{id}` is not twelve digits")))
    }
}

/// Refuses an empty value of a field that names something, or one with a NUL character.
pub(crate) fn check_non_empty(field: &str, value: &str) -> Result<(), StoreError> {
    if value.is_empty() {
        return Err(StoreError::InvalidInput(format!("{field} is empty")));
    }
    check_text(field, value)
}

/// Refuses text with a NUL character, which PostgreSQL cannot store in `TEXT` (SQLite can):
/// both backends take the same values.
pub(crate) fn check_text(field: &str, value: &str) -> Result<(), StoreError> {
    if value.contains('\0') {
        Err(StoreError::InvalidInput(format!("{field} contains a NUL character")))
    } else {
        Ok(())
    }
}

impl Account {
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        check_account_id(&self.id)?;
        check_non_empty("account name", &self.name)
    }
}

impl AccessKey {
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        check_non_empty("access key id", &self.access_key_id)?;
        check_text("account", &self.account)?;
        check_text("owner kind", &self.owner_kind)?;
        check_text("owner key", &self.owner_key)
    }
}

impl Record {
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        check_text("account", &self.account)?;
        check_non_empty("record kind", &self.kind)?;
        check_non_empty("record key", &self.key)
    }
}

impl Checkpoint {
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        check_text("account", &self.account)?;
        check_text("checkpoint note", &self.note)
    }
}

/// The smallest string greater than every string starting with `prefix`, in code point order
/// (which is UTF-8 byte order); `None` when no such bound exists (empty prefix, or only
/// `char::MAX`s).
pub(crate) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last).saturating_add(1);
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Converts a count or sequence number to the databases' signed 64-bit integers.
pub(crate) fn to_i64(what: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::InvalidInput(format!("{what} {v} is too large")))
}

/// Converts a stored signed integer back to a count or sequence number.
pub(crate) fn from_i64(what: &str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what} {v}")))
}

/// A listing limit as a SQL `LIMIT` for one row more than asked (to tell whether more follow).
pub(crate) fn limit_plus_one(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX - 1).saturating_add(1)
}

/// Cuts the extra row a listing fetched to learn whether it is truncated.
pub(crate) fn into_page<T>(mut items: Vec<T>, limit: usize) -> Page<T> {
    let truncated = items.len() > limit;
    items.truncate(limit);
    Page { items, truncated }
}

/// Reads a stored 32-byte hash.
pub(crate) fn hash_from_bytes(bytes: &[u8]) -> Result<Hash, StoreError> {
    Hash::try_from(bytes)
        .map_err(|_| StoreError::Corrupt(format!("hash of {} bytes, not 32", bytes.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bounds() {
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_upper_bound("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
    }

    #[test]
    fn account_ids() {
        assert!(check_account_id("123456789012").is_ok());
        assert!(check_account_id("12345678901").is_err());
        assert!(check_account_id("12345678901a").is_err());
        assert!(check_account_id("１２３４５６７８９０１２").is_err());
    }

    #[test]
    fn pages() {
        assert_eq!(into_page(vec![1, 2, 3], 2), Page { items: vec![1, 2], truncated: true });
        assert_eq!(into_page(vec![1, 2], 2), Page { items: vec![1, 2], truncated: false });
        assert_eq!(limit_plus_one(usize::MAX), i64::MAX);
    }

    #[test]
    fn access_key_debug_hides_the_wrapped_secret() {
        let k = AccessKey {
            mac: Vec::new(),
            access_key_id: "AKIA".into(),
            account: "123456789012".into(),
            owner_kind: "root".into(),
            owner_key: String::new(),
            status: AccessKeyStatus::Active,
            secret_wrapped: vec![0xAB; 40],
            created_at_ms: 0,
            last_used_at_ms: None,
            last_used_service: None,
            last_used_region: None,
        };
        let s = format!("{k:?}");
        assert!(s.contains("[40 bytes]"));
        assert!(!s.contains("171"));
    }
}
