//! Each account's manifest: which version of each of its rows is current, so that a row put
//! back as it was at an earlier write (a valid MAC, but not the latest), or deleted, is refused
//! by [`crate::Authenticated`] like an edited one.
//!
//! The manifest is itself made of records (kind [`KIND`], MAC'd like every record): one
//! *shard* per record kind (key: the kind; entries: each record's key and the first 16 bytes of
//! its MAC), one shard [`ACCESS_KEYS`] for the account's long-term access keys, and a *head*
//! ([`HEAD`]) naming the account row's MAC and each shard's. A read checks the row against its
//! shard and the shard against the head; the head is read in every transaction that reads a
//! row of the account (one row), and a shard's parsed entries are kept in memory by MAC, so a
//! shard is read from the database only when it changed. A transaction's writes update the
//! shards and the head when it commits, under the head's lock.
//!
//! What the manifest does not show: the whole account — head, shards and rows together — put
//! back as it was. Only something outside the database can show that (issue 17's checkpoints
//! that tenants keep).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

/// The record kind of manifest rows.
pub(crate) const KIND: &str = "~manifest";
/// The key of an account's head.
pub(crate) const HEAD: &str = "~head";
/// The shard of an account's long-term access keys.
pub(crate) const ACCESS_KEYS: &str = "~access_key";

/// The first 16 bytes of a row's MAC tag: what a manifest remembers of a row.
pub(crate) type Tag = [u8; 16];

/// A shard: each row's key and tag.
pub(crate) type Entries = BTreeMap<String, Tag>;

/// How many parsed heads and shards are kept in memory before the cache starts over.
const CACHE_LIMIT: usize = 4096;

/// The tag of a stored MAC (version byte, then the 32-byte tag); `None` if it has none.
pub(crate) fn tag_of(mac: &[u8]) -> Option<Tag> {
    mac.get(1..17).and_then(|t| t.try_into().ok())
}

/// An account's head.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    /// The account row's tag (`None`: no account row, as for the operator realm).
    pub account: Option<Tag>,
    /// Each shard's tag, by shard name.
    pub shards: BTreeMap<String, Tag>,
}

fn hex(tag: &Tag) -> String {
    tag.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Tag> {
    let bytes = text.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (byte, pair) in out.iter_mut().zip(bytes.chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

fn tags_body(tags: &BTreeMap<String, Tag>) -> Value {
    Value::Object(tags.iter().map(|(k, t)| (k.clone(), Value::String(hex(t)))).collect())
}

fn tags_from(value: &Value) -> Option<BTreeMap<String, Tag>> {
    value.as_object()?.iter().map(|(k, v)| Some((k.clone(), unhex(v.as_str()?)?))).collect()
}

impl Head {
    /// The head's record body.
    pub fn to_body(&self) -> Value {
        let mut body = Map::new();
        if let Some(account) = &self.account {
            body.insert("Account".into(), Value::String(hex(account)));
        }
        body.insert("Shards".into(), tags_body(&self.shards));
        Value::Object(body)
    }

    /// A head read back; `None` if the body is not one.
    pub fn from_body(body: &Value) -> Option<Head> {
        let account = match body.get("Account") {
            None => None,
            Some(v) => Some(unhex(v.as_str()?)?),
        };
        Some(Head { account, shards: tags_from(body.get("Shards")?)? })
    }
}

/// A shard's record body.
pub(crate) fn shard_body(entries: &Entries) -> Value {
    let mut body = Map::new();
    body.insert("Entries".into(), tags_body(entries));
    Value::Object(body)
}

/// A shard read back; `None` if the body is not one.
pub(crate) fn shard_from(body: &Value) -> Option<Entries> {
    tags_from(body.get("Entries")?)
}

/// Applies a transaction's changes to a shard's entries (`None`: deleted).
pub(crate) fn apply(entries: &mut Entries, changes: &BTreeMap<String, Option<Tag>>) {
    for (key, tag) in changes {
        match tag {
            Some(tag) => entries.insert(key.clone(), *tag),
            None => entries.remove(key),
        };
    }
}

/// What a transaction changed in one account's manifest, applied when it commits.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// The account row's new tag, if it was written.
    pub account: Option<Tag>,
    /// Per shard, each changed key's new tag (`None`: deleted).
    pub shards: BTreeMap<String, BTreeMap<String, Option<Tag>>>,
}

/// A cached row: its account and name (checked on every hit), and what it says.
type Cached<T> = (String, String, Arc<T>);

/// Parsed heads and shards, by tag: only ever filled with what was read from a row whose MAC
/// was checked, so a hit for the same account and name stands for the checked row. (Keyed by
/// the tag alone so that a lookup, on every read of a row, allocates nothing.)
#[derive(Debug, Default)]
pub(crate) struct Cache {
    heads: Mutex<HashMap<Tag, Cached<Head>>>,
    shards: Mutex<HashMap<Tag, Cached<Entries>>>,
}

fn get<T>(
    map: &Mutex<HashMap<Tag, Cached<T>>>,
    account: &str,
    name: &str,
    tag: &Tag,
) -> Option<Arc<T>> {
    let map = map.lock().ok()?;
    let (a, n, value) = map.get(tag)?;
    (a == account && n == name).then(|| value.clone())
}

fn put<T>(
    map: &Mutex<HashMap<Tag, Cached<T>>>,
    account: &str,
    name: &str,
    tag: Tag,
    value: Arc<T>,
) {
    if let Ok(mut map) = map.lock() {
        if map.len() >= CACHE_LIMIT {
            map.clear();
        }
        map.insert(tag, (account.to_owned(), name.to_owned(), value));
    }
}

impl Cache {
    pub fn head(&self, account: &str, tag: &Tag) -> Option<Arc<Head>> {
        get(&self.heads, account, HEAD, tag)
    }

    pub fn put_head(&self, account: &str, tag: Tag, head: Arc<Head>) {
        put(&self.heads, account, HEAD, tag, head);
    }

    pub fn shard(&self, account: &str, name: &str, tag: &Tag) -> Option<Arc<Entries>> {
        get(&self.shards, account, name, tag)
    }

    pub fn put_shard(&self, account: &str, name: &str, tag: Tag, entries: Arc<Entries>) {
        put(&self.shards, account, name, tag, entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_and_shards_read_back() {
        let head = Head {
            account: Some([7; 16]),
            shards: BTreeMap::from([("user".to_owned(), [0xab; 16])]),
        };
        assert_eq!(Head::from_body(&head.to_body()), Some(head));
        let none = Head::default();
        assert_eq!(Head::from_body(&none.to_body()), Some(none));
        let entries = Entries::from([("a/b".to_owned(), [1; 16]), ("c".to_owned(), [0xff; 16])]);
        assert_eq!(shard_from(&shard_body(&entries)), Some(entries));
        assert_eq!(shard_from(&serde_json::json!({ "Entries": { "a": "00" } })), None);
        assert_eq!(Head::from_body(&serde_json::json!({ "Account": 3, "Shards": {} })), None);
    }

    #[test]
    fn a_cache_hit_needs_the_same_account_and_name() {
        let cache = Cache::default();
        cache.put_shard("111", "user", [1; 16], Arc::new(Entries::new()));
        assert!(cache.shard("111", "user", &[1; 16]).is_some());
        assert!(cache.shard("222", "user", &[1; 16]).is_none());
        assert!(cache.shard("111", "role", &[1; 16]).is_none());
        assert!(cache.shard("111", "user", &[2; 16]).is_none());
        cache.put_head("111", [3; 16], Arc::new(Head::default()));
        assert!(cache.head("111", &[3; 16]).is_some());
        assert!(cache.head("222", &[3; 16]).is_none());
    }

    #[test]
    fn a_tag_is_the_mac_after_its_version_byte() {
        let mut mac = vec![1u8];
        mac.extend(0..32u8);
        assert_eq!(tag_of(&mac), Some(core::array::from_fn(|i| i as u8)));
        assert_eq!(tag_of(&[1, 2, 3]), None);
    }
}
