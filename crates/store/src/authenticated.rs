//! [`Authenticated`]: a [`Store`] in front of another that gives every account, access-key and
//! record row a MAC on write and refuses, on read, every row whose MAC does not match: a row
//! edited, moved to another account, name or kind, or copied from elsewhere in the database.
//!
//! The MAC covers everything about a row that decides what it grants: an account's id, name,
//! status and creation time; an access key's id, account, owner, status, wrapped secret and
//! creation time (not when it was last used); a record's account, kind, key, format version,
//! write time and body. The key is the caller's ([`RowKey`]); the store never holds it.
//!
//! Each audit event row carries a MAC over its account, sequence number and leaf hash (checked
//! against the event's bytes on read), and each account's audit head a MAC over its size, root
//! and frontier, checked before an append extends it and whenever it is read: whoever can write
//! the database cannot append an event the server will sign a checkpoint over, deliver or serve,
//! nor edit one before a checkpoint covers it. (Interior tree nodes carry none: a proof built
//! from an edited node fails against the root the head vouches for.)
//!
//! A MAC per row does not show a row deleted, or put back as it was at an earlier write (its MAC
//! was valid then): each account's manifest ([`crate::manifest`]) does, for every kind of record
//! but those the caller names as unindexed ([`Authenticated::unindexed`]) and for every access
//! key but a session's.
//!
//! The operator's bookkeeping (blobs queued for deletion, leases on background work, node
//! settings such as the Shamir setup) passes through unchecked: it grants nothing, and what an
//! operator gains by editing it is written down in `docs/SECURITY.md`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use subtle::ConstantTimeEq;

use crate::manifest::{self, Cache, Entries, Head, Pending, Tag};
use crate::{
    AccessKey, AccessKeyStatus, Account, AccountStatus, AuditEvent, AuditHeadRow, AuditSeal,
    BlobGarbage, Checkpoint, Hash, Page, PutMode, ReadTx, Record, RecordQuery, RowId, Store,
    StoreError, Tx,
};

/// The version byte that starts every stored MAC.
const MAC_VERSION: u8 = 1;
/// Rows bound per transaction by [`Authenticated::bind_unauthenticated`].
const BIND_BATCH: usize = 500;
/// The owner kind of a session's access key: made once, never changed, and bound to a session
/// record that carries its expiry, so it is left out of the manifest.
const SESSION_OWNER: &str = "session";
/// How many times a writer reads a row and its manifest again before refusing ([`Checked::again`]).
const REREADS: u32 = 3;

/// A keyed MAC (HMAC-SHA-256 in the server): the key never leaves the implementation.
pub trait RowKey: Send + Sync {
    /// The 32-byte tag of `message`.
    fn tag(&self, message: &[u8]) -> [u8; 32];
}

/// A store whose rows carry MACs under a [`RowKey`].
pub struct Authenticated {
    inner: Arc<dyn Store>,
    key: Arc<dyn RowKey>,
    /// Record kinds left out of the manifests.
    unindexed: Vec<String>,
    cache: Cache,
}

impl std::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated").field("backend", &self.inner.backend()).finish()
    }
}

impl Authenticated {
    /// Puts `key`'s MACs in front of `inner`.
    #[must_use]
    pub fn new(inner: Arc<dyn Store>, key: Arc<dyn RowKey>) -> Authenticated {
        Authenticated { inner, key, unindexed: Vec::new(), cache: Cache::default() }
    }

    /// Leaves records of `kinds` out of the manifests: their MACs are still checked, but one put
    /// back as it was at an earlier write, or deleted, is not noticed. For kinds written at a
    /// rate a manifest cannot follow (objects) and kinds that never change once written.
    #[must_use]
    pub fn unindexed(mut self, kinds: &[&str]) -> Authenticated {
        self.unindexed = kinds.iter().map(|k| (*k).to_owned()).collect();
        self
    }

    fn indexed(&self, kind: &str) -> bool {
        indexed(&self.unindexed, kind)
    }

    /// Writes every account's manifest from its rows as they stand (rows whose MAC does not
    /// check are left out, so they stay refused), and returns how many rows of each account it
    /// named. For a database whose rows have MACs but no manifest yet; whoever calls it vouches
    /// for the rows' versions, as for [`Authenticated::bind_unauthenticated`].
    ///
    /// # Errors
    /// Any store error; accounts already written stay written.
    pub fn build_manifests(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut found: BTreeMap<String, (Option<Tag>, BTreeMap<String, Entries>)> = BTreeMap::new();
        let key = &*self.key;
        let mut after: Option<String> = None;
        loop {
            let page = self.inner.read()?.list_accounts(after.as_deref(), BIND_BATCH)?;
            for a in &page.items {
                if verify(key, &account_message(a), &a.mac) {
                    found.entry(a.id.clone()).or_default().0 = manifest::tag_of(&a.mac);
                }
            }
            after = page.items.last().map(|a| a.id.clone());
            if !page.truncated {
                break;
            }
        }
        let mut after: Option<String> = None;
        loop {
            let keys = self.inner.read()?.list_all_access_keys(after.as_deref(), BIND_BATCH)?;
            for k in &keys {
                let (Some(entry), Some(tag)) = (key_entry(k), manifest::tag_of(&k.mac)) else {
                    continue;
                };
                if verify(key, &access_key_message(k), &k.mac) {
                    let shards = &mut found.entry(k.account.clone()).or_default().1;
                    shards.entry(manifest::ACCESS_KEYS.to_owned()).or_default().insert(entry, tag);
                }
            }
            after = keys.last().map(|k| k.access_key_id.clone());
            if keys.len() < BIND_BATCH {
                break;
            }
        }
        let kinds = self.inner.read()?.record_kinds()?;
        for (account, kind) in kinds.iter().filter(|(_, kind)| self.indexed(kind)) {
            let mut after: Option<String> = None;
            loop {
                let q = RecordQuery {
                    account,
                    kind,
                    prefix: "",
                    after: after.as_deref(),
                    limit: BIND_BATCH,
                };
                let page = self.inner.read()?.list_records(&q)?;
                for r in &page.items {
                    if let (true, Some(tag)) =
                        (verify(key, &record_message(r)?, &r.mac), manifest::tag_of(&r.mac))
                    {
                        let shards = &mut found.entry(account.clone()).or_default().1;
                        shards.entry(kind.clone()).or_default().insert(r.key.clone(), tag);
                    }
                }
                after = page.items.last().map(|r| r.key.clone());
                if !page.truncated {
                    break;
                }
            }
        }
        let mut named = BTreeMap::new();
        for (account, (account_tag, shards)) in found {
            let mut tx = Checked::new(self.inner.begin()?, self);
            tx.head(&account, true)?;
            let mut head = Head { account: account_tag, shards: BTreeMap::new() };
            let count = shards.values().map(|e| e.len() as u64).sum::<u64>()
                + u64::from(account_tag.is_some());
            for (name, entries) in shards {
                let tag = tx.put_manifest_row(&account, &name, manifest::shard_body(&entries))?;
                head.shards.insert(name, tag);
            }
            tx.put_manifest_row(&account, manifest::HEAD, head.to_body())?;
            Box::new(tx).commit()?;
            named.insert(account, count);
        }
        Ok(named)
    }

    /// Gives `account`'s audit log its MACs as it stands, if its head has none that checks:
    /// every event (whose leaf hash must be its bytes') and the head (which must be the root
    /// and frontier of those leaves). Returns how many events it bound (`None`: nothing to
    /// bind). For a log written before audit rows carried MACs; whoever calls it vouches for
    /// the log as it stands, as for [`Authenticated::bind_unauthenticated`].
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the log does not hold together (then nothing is bound, and
    /// the log stays refused); any store error.
    pub fn bind_audit_log(&self, account: &str) -> Result<Option<u64>, StoreError> {
        let key = &*self.key;
        let mut tx = self.inner.begin()?;
        let Some(head) = tx.audit_head_row(account)? else {
            return Ok(None);
        };
        if check_audit_head(key, account, &head).is_ok() {
            return Ok(None);
        }
        let corrupt = |what: String| StoreError::Corrupt(format!("audit log of {account}: {what}"));
        let mut range = audit::merkle::CompactRange::new();
        while range.size() < head.size {
            let from = range.size();
            let to = head.size.min(from + BIND_BATCH as u64);
            for e in tx.audit_events(account, from..to)? {
                if e.seq != range.size() {
                    return Err(corrupt(format!("event {} is missing", range.size())));
                }
                if audit::merkle::leaf_hash(&e.event) != e.leaf_hash {
                    return Err(corrupt(format!("event {} does not hash to its leaf", e.seq)));
                }
                let mac = seal(key, &audit_event_message(account, e.seq, &e.leaf_hash));
                tx.set_mac(RowId::AuditEvent { account, seq: e.seq }, &mac)?;
                range.append(e.leaf_hash).map_err(|e| corrupt(e.to_string()))?;
            }
            if range.size() < to {
                return Err(corrupt(format!("event {} is missing", range.size())));
            }
        }
        let frontier = range.hashes().concat();
        if range.root() != head.root || frontier != head.frontier {
            return Err(corrupt("the head is not the root of its events".into()));
        }
        let mac = seal(key, &audit_head_message(account, head.size, &head.root, &frontier));
        tx.set_mac(RowId::AuditHead(account), &mac)?;
        tx.commit()?;
        Ok(Some(head.size))
    }

    /// Gives every row that has no MAC one, as it stands now, and returns how many rows of
    /// each account it bound (the operator realm included). For a database written before
    /// rows had MACs; whoever calls it vouches for the rows it binds.
    ///
    /// # Errors
    /// Any store error; rows bound by batches already committed stay bound.
    pub fn bind_unauthenticated(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut bound: BTreeMap<String, u64> = BTreeMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.inner.read()?.list_accounts(after.as_deref(), BIND_BATCH)?;
            let mut tx = self.inner.begin()?;
            for a in page.items.iter().filter(|a| a.mac.is_empty()) {
                tx.set_mac(RowId::Account(&a.id), &seal(&*self.key, &account_message(a)))?;
                *bound.entry(a.id.clone()).or_default() += 1;
            }
            tx.commit()?;
            after = page.items.last().map(|a| a.id.clone());
            if !page.truncated {
                break;
            }
        }
        let mut after: Option<String> = None;
        loop {
            let keys = self.inner.read()?.list_all_access_keys(after.as_deref(), BIND_BATCH)?;
            let mut tx = self.inner.begin()?;
            for k in keys.iter().filter(|k| k.mac.is_empty()) {
                let mac = seal(&*self.key, &access_key_message(k));
                tx.set_mac(RowId::AccessKey(&k.access_key_id), &mac)?;
                *bound.entry(k.account.clone()).or_default() += 1;
            }
            tx.commit()?;
            after = keys.last().map(|k| k.access_key_id.clone());
            if keys.len() < BIND_BATCH {
                break;
            }
        }
        loop {
            let mut tx = self.inner.begin()?;
            let records = tx.unauthenticated_records(BIND_BATCH)?;
            for r in &records {
                let row = RowId::Record { account: &r.account, kind: &r.kind, key: &r.key };
                tx.set_mac(row, &seal(&*self.key, &record_message(r)?))?;
                *bound.entry(r.account.clone()).or_default() += 1;
            }
            tx.commit()?;
            if records.len() < BIND_BATCH {
                break;
            }
        }
        Ok(bound)
    }
}

impl Store for Authenticated {
    fn begin(&self) -> Result<Box<dyn Tx + '_>, StoreError> {
        Ok(Box::new(Checked::new(self.inner.begin()?, self)))
    }

    fn read(&self) -> Result<Box<dyn ReadTx + '_>, StoreError> {
        Ok(Box::new(Checked::new(self.inner.read()?, self)))
    }

    fn schema_version(&self) -> Result<u32, StoreError> {
        self.inner.schema_version()
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn pool_stats(&self) -> Vec<crate::PoolStats> {
        self.inner.pool_stats()
    }

    fn maintain(&self) {
        self.inner.maintain();
    }
}

/// The backend transaction under a [`Checked`]: a read-only one or a writer.
trait Source {
    /// A writer: on PostgreSQL it reads `READ COMMITTED`, so two reads can see two commits.
    const WRITER: bool;
    fn reads(&mut self) -> &mut dyn ReadTx;
    /// An account's manifest head, read under the lock writers of the manifest take (a plain
    /// read for readers).
    fn lock_head(&mut self, account: &str) -> Result<Option<Record>, StoreError>;
    /// A record read under the lock writers take before changing it (a plain read for readers).
    fn get_locked(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError>;
    /// [`Source::get_locked`] and a plain read of another record of the account, together.
    fn get_locked_and(
        &mut self,
        account: &str,
        locked: (&str, &str),
        other: (&str, &str),
    ) -> Result<(Option<Record>, Option<Record>), StoreError>;
}

impl<'a> Source for Box<dyn ReadTx + 'a> {
    const WRITER: bool = false;
    fn reads(&mut self) -> &mut dyn ReadTx {
        &mut **self
    }
    fn lock_head(&mut self, account: &str) -> Result<Option<Record>, StoreError> {
        self.get_record(account, manifest::KIND, manifest::HEAD)
    }
    fn get_locked(&mut self, a: &str, kind: &str, key: &str) -> Result<Option<Record>, StoreError> {
        self.get_record(a, kind, key)
    }
    fn get_locked_and(
        &mut self,
        a: &str,
        locked: (&str, &str),
        other: (&str, &str),
    ) -> Result<(Option<Record>, Option<Record>), StoreError> {
        self.get_record_pair(a, locked, other)
    }
}

impl<'a> Source for Box<dyn Tx + 'a> {
    const WRITER: bool = true;
    fn reads(&mut self) -> &mut dyn ReadTx {
        &mut **self
    }
    fn lock_head(&mut self, account: &str) -> Result<Option<Record>, StoreError> {
        self.lock_record(account, manifest::KIND, manifest::HEAD)
    }
    fn get_locked(&mut self, a: &str, kind: &str, key: &str) -> Result<Option<Record>, StoreError> {
        self.get_record_for_update(a, kind, key)
    }
    fn get_locked_and(
        &mut self,
        a: &str,
        locked: (&str, &str),
        other: (&str, &str),
    ) -> Result<(Option<Record>, Option<Record>), StoreError> {
        self.get_record_for_update_and_record(a, locked, other)
    }
}

/// A transaction of [`Authenticated`]: `B` is the backend's `Box<dyn Tx>` or `Box<dyn ReadTx>`.
struct Checked<'a, B> {
    inner: B,
    key: &'a dyn RowKey,
    cache: &'a Cache,
    unindexed: &'a [String],
    /// Each account's head as this transaction last read it, with the head row's MAC (empty
    /// when there is no row).
    heads: HashMap<String, (Arc<Head>, Vec<u8>)>,
    /// Account rows a reader read along with an access key, not yet asked for.
    prefetched: HashMap<String, Account>,
    /// Accounts whose head this transaction holds the lock of.
    locked: HashSet<String>,
    /// What this transaction's writes change in each account's manifest.
    pending: BTreeMap<String, Pending>,
}

/// A manifest change ready to write ([`Checked::plan`]).
#[derive(Default)]
struct Plan {
    /// The account's head once written.
    next: Head,
    /// The rows to write: changed shards, then the head if it changed (last, as
    /// [`Tx::upsert_records_if`] compares it).
    rows: Vec<Record>,
    /// The changed shards with their tags, for the cache.
    shards: Vec<(String, Tag, Entries)>,
    /// Shards left empty, to delete.
    emptied: Vec<String>,
    /// The new head's tag, if the head changed.
    head: Option<Tag>,
}

/// Appends a length-prefixed field.
fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn message(row: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + fields.iter().map(|f| f.len() + 8).sum::<usize>());
    out.extend_from_slice(b"hermetic-row-mac/v1\0");
    field(&mut out, row.as_bytes());
    for f in fields {
        field(&mut out, f);
    }
    out
}

fn account_message(a: &Account) -> Vec<u8> {
    message(
        "account",
        &[
            a.id.as_bytes(),
            a.name.as_bytes(),
            a.status.as_str().as_bytes(),
            &a.created_at_ms.to_be_bytes(),
        ],
    )
}

fn access_key_message(k: &AccessKey) -> Vec<u8> {
    message(
        "access_key",
        &[
            k.access_key_id.as_bytes(),
            k.account.as_bytes(),
            k.owner_kind.as_bytes(),
            k.owner_key.as_bytes(),
            k.status.as_str().as_bytes(),
            &k.secret_wrapped,
            &k.created_at_ms.to_be_bytes(),
        ],
    )
}

fn record_message(r: &Record) -> Result<Vec<u8>, StoreError> {
    // serde_json's maps are ordered by key, so a body serializes to the same bytes each time.
    let body = serde_json::to_vec(&r.body)
        .map_err(|e| StoreError::InvalidInput(format!("record body: {e}")))?;
    Ok(message(
        "record",
        &[
            r.account.as_bytes(),
            r.kind.as_bytes(),
            r.key.as_bytes(),
            &r.format_version.to_be_bytes(),
            &r.updated_at_ms.to_be_bytes(),
            &body,
        ],
    ))
}

fn audit_event_message(account: &str, seq: u64, leaf: &Hash) -> Vec<u8> {
    message("audit_event", &[account.as_bytes(), &seq.to_be_bytes(), leaf])
}

fn audit_head_message(account: &str, size: u64, root: &Hash, frontier: &[u8]) -> Vec<u8> {
    message("audit_head", &[account.as_bytes(), &size.to_be_bytes(), root, frontier])
}

/// Refuses a head this key did not write. The empty log's head needs no MAC (it vouches for
/// nothing), but must be the empty log's.
fn check_audit_head(
    key: &dyn RowKey,
    account: &str,
    head: &AuditHeadRow,
) -> Result<(), StoreError> {
    let valid = if head.size == 0 {
        head.root == crate::audit_log::empty_root() && head.frontier.is_empty()
    } else {
        verify(key, &audit_head_message(account, head.size, &head.root, &head.frontier), &head.mac)
    };
    if valid {
        Ok(())
    } else {
        Err(forged(account, format!("the audit log's head (size {})", head.size)))
    }
}

/// The row key as an [`AuditSeal`].
struct AuditKey<'a>(&'a dyn RowKey);

impl AuditSeal for AuditKey<'_> {
    fn check_head(&self, account: &str, head: &AuditHeadRow) -> Result<(), StoreError> {
        check_audit_head(self.0, account, head)
    }
    fn event_mac(&self, account: &str, seq: u64, leaf: &Hash) -> Vec<u8> {
        seal(self.0, &audit_event_message(account, seq, leaf))
    }
    fn head_mac(&self, account: &str, size: u64, root: &Hash, frontier: &[u8]) -> Vec<u8> {
        seal(self.0, &audit_head_message(account, size, root, frontier))
    }
}

fn seal(key: &dyn RowKey, message: &[u8]) -> Vec<u8> {
    let mut mac = Vec::with_capacity(33);
    mac.push(MAC_VERSION);
    mac.extend_from_slice(&key.tag(message));
    mac
}

fn verify(key: &dyn RowKey, message: &[u8], mac: &[u8]) -> bool {
    match mac.split_first() {
        Some((&MAC_VERSION, tag)) => bool::from(key.tag(message).as_slice().ct_eq(tag)),
        _ => false,
    }
}

fn forged(account: &str, row: String) -> StoreError {
    StoreError::Forged { account: account.to_owned(), row }
}

fn rolled_back(account: &str, row: String) -> StoreError {
    forged(
        account,
        format!("{row}: not the version its account's manifest names (put back or deleted)"),
    )
}

/// The manifest entry of a long-term access key (`None` for a session's: see the module doc).
fn key_entry(k: &AccessKey) -> Option<String> {
    (k.owner_kind != SESSION_OWNER)
        .then(|| format!("{}/{}/{}", k.owner_kind, k.owner_key, k.access_key_id))
}

/// Whether records of `kind` are in the manifests.
fn indexed(unindexed: &[String], kind: &str) -> bool {
    kind != manifest::KIND && !unindexed.iter().any(|k| k == kind)
}

/// The expected page of a listing over `entries`, the shard with this transaction's changes.
fn expected_page(entries: &Entries, q: &RecordQuery<'_>) -> (Vec<(String, Tag)>, bool) {
    let mut matching = entries
        .range::<str, _>((std::ops::Bound::Included(q.prefix), std::ops::Bound::Unbounded))
        .take_while(|(k, _)| k.starts_with(q.prefix))
        .filter(|(k, _)| q.after.is_none_or(|a| k.as_str() > a));
    let items: Vec<(String, Tag)> =
        matching.by_ref().take(q.limit).map(|(k, t)| (k.clone(), *t)).collect();
    (items, matching.next().is_some())
}

impl<'a, B> Checked<'a, B> {
    fn new(inner: B, store: &'a Authenticated) -> Self {
        Checked {
            inner,
            key: &*store.key,
            cache: &store.cache,
            unindexed: &store.unindexed,
            heads: HashMap::new(),
            prefetched: HashMap::new(),
            locked: HashSet::new(),
            pending: BTreeMap::new(),
        }
    }

    fn indexed(&self, kind: &str) -> bool {
        indexed(self.unindexed, kind)
    }

    fn account(&self, a: Account) -> Result<Account, StoreError> {
        if verify(self.key, &account_message(&a), &a.mac) {
            Ok(a)
        } else {
            Err(forged(&a.id, format!("account {}", a.id)))
        }
    }

    fn access_key(&self, k: AccessKey) -> Result<AccessKey, StoreError> {
        if verify(self.key, &access_key_message(&k), &k.mac) {
            Ok(k)
        } else {
            Err(forged(&k.account, format!("access key {}", k.access_key_id)))
        }
    }

    fn record(&self, r: Record) -> Result<Record, StoreError> {
        if verify(self.key, &record_message(&r)?, &r.mac) {
            Ok(r)
        } else {
            Err(forged(&r.account, format!("record {} {}", r.kind, r.key)))
        }
    }

    fn note(&mut self, account: &str, shard: &str, key: &str, mac: Option<&[u8]>) {
        let tag = mac.and_then(manifest::tag_of);
        let pending = self.pending.entry(account.to_owned()).or_default();
        pending.shards.entry(shard.to_owned()).or_default().insert(key.to_owned(), tag);
    }
}

impl<B: Source> Checked<'_, B> {
    /// `account`'s head: as read earlier in this transaction, or read now (under its lock if
    /// `lock`, and then always read again).
    fn head(&mut self, account: &str, lock: bool) -> Result<Arc<Head>, StoreError> {
        if !lock {
            if let Some((head, _)) = self.heads.get(account) {
                return Ok(head.clone());
            }
        }
        let row = if lock {
            self.inner.lock_head(account)?
        } else {
            self.inner.reads().get_record(account, manifest::KIND, manifest::HEAD)?
        };
        self.adopt_head(account, row, lock)
    }

    /// Takes `row` (read just now) as `account`'s head for the rest of the transaction.
    fn adopt_head(
        &mut self,
        account: &str,
        row: Option<Record>,
        lock: bool,
    ) -> Result<Arc<Head>, StoreError> {
        let mac = row.as_ref().map(|r| r.mac.clone()).unwrap_or_default();
        let head = match row {
            None => Arc::new(Head::default()),
            Some(row) => {
                let tag = manifest::tag_of(&row.mac)
                    .ok_or_else(|| forged(account, "manifest head".into()))?;
                match self.cache.head(account, &tag) {
                    Some(head) => head,
                    None => {
                        let row = self.record(row)?;
                        let head = Head::from_body(&row.body)
                            .ok_or_else(|| forged(account, "manifest head".into()))?;
                        let head = Arc::new(head);
                        self.cache.put_head(account, tag, head.clone());
                        head
                    }
                }
            }
        };
        if lock {
            self.locked.insert(account.to_owned());
        }
        self.heads.insert(account.to_owned(), (head.clone(), mac));
        Ok(head)
    }

    /// The shard `name` of `account` as its head (this transaction's) names it.
    fn shard(&mut self, account: &str, name: &str) -> Result<Arc<Entries>, StoreError> {
        let head = self.head(account, false)?;
        let Some(tag) = head.shards.get(name) else {
            return Ok(Arc::new(Entries::new()));
        };
        if let Some(entries) = self.cache.shard(account, name, tag) {
            return Ok(entries);
        }
        let what = || format!("manifest shard {name}");
        let row = self
            .inner
            .reads()
            .get_record(account, manifest::KIND, name)?
            .ok_or_else(|| rolled_back(account, what()))?;
        let row = self.record(row)?;
        if manifest::tag_of(&row.mac).as_ref() != Some(tag) {
            return Err(rolled_back(account, what()));
        }
        let entries =
            Arc::new(manifest::shard_from(&row.body).ok_or_else(|| forged(account, what()))?);
        self.cache.put_shard(account, name, *tag, entries.clone());
        Ok(entries)
    }

    /// The shard `name` of `account` with this transaction's own changes applied (the cached
    /// entries themselves when it has none).
    fn shard_as_written(&mut self, account: &str, name: &str) -> Result<Arc<Entries>, StoreError> {
        let shard = self.shard(account, name)?;
        match self.pending.get(account).and_then(|p| p.shards.get(name)) {
            Some(changes) => {
                let mut entries = (*shard).clone();
                manifest::apply(&mut entries, changes);
                Ok(Arc::new(entries))
            }
            None => Ok(shard),
        }
    }

    /// Whether `mac` (`None`: no row) is what the manifest names for `key` in `shard`.
    fn current(
        &mut self,
        account: &str,
        shard: &str,
        key: &str,
        mac: Option<&[u8]>,
    ) -> Result<bool, StoreError> {
        let found = mac.and_then(manifest::tag_of);
        let pending = self.pending.get(account).and_then(|p| p.shards.get(shard));
        if let Some(tag) = pending.and_then(|p| p.get(key)) {
            return Ok(*tag == found);
        }
        Ok(self.shard(account, shard)?.get(key).copied() == found)
    }

    /// For a writer, reads again what did not match (`read` answers `None` while it still does
    /// not) before refusing: on PostgreSQL a writer's statements each see the latest commit, so
    /// a row and its manifest read a moment apart can straddle another writer's commit. The
    /// head is read afresh each time, and under its lock the last time (the lock is held to the
    /// end of the transaction, which can deadlock with a writer waiting for the head at its
    /// commit: PostgreSQL then fails one of them as a conflict, which the caller retries).
    fn again<T>(
        &mut self,
        account: &str,
        mut read: impl FnMut(&mut Self) -> Result<Option<T>, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        for attempt in 1..=REREADS {
            if !B::WRITER || self.locked.contains(account) {
                break;
            }
            self.heads.remove(account);
            self.head(account, attempt == REREADS)?;
            if let Some(found) = read(self)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    fn account_current(&mut self, a: &Account) -> Result<bool, StoreError> {
        let found = manifest::tag_of(&a.mac);
        if let Some(tag) = self.pending.get(&a.id).and_then(|p| p.account) {
            return Ok(Some(tag) == found);
        }
        Ok(self.head(&a.id, false)?.account == found)
    }

    /// An account row, checked: its MAC, and that it is the current one.
    fn fresh_account(&mut self, a: Account) -> Result<Account, StoreError> {
        let a = self.account(a)?;
        if self.account_current(&a)? {
            return Ok(a);
        }
        let again = self.again(&a.id, |s| {
            let Some(again) = s.inner.reads().get_account(&a.id)? else { return Ok(None) };
            let again = s.account(again)?;
            Ok(s.account_current(&again)?.then_some(again))
        })?;
        again.ok_or_else(|| rolled_back(&a.id, format!("account {}", a.id)))
    }

    /// An access key, checked: its MAC, and for a long-term key that it is the current one.
    fn fresh_access_key(&mut self, k: AccessKey) -> Result<AccessKey, StoreError> {
        let k = self.access_key(k)?;
        let Some(entry) = key_entry(&k) else { return Ok(k) };
        if self.current(&k.account, manifest::ACCESS_KEYS, &entry, Some(&k.mac))? {
            return Ok(k);
        }
        let again = self.again(&k.account, |s| {
            let Some(again) = s.inner.reads().get_access_key(&k.access_key_id)? else {
                return Ok(None);
            };
            let again = s.access_key(again)?;
            let same = again.account == k.account && key_entry(&again).as_ref() == Some(&entry);
            Ok((same && s.current(&k.account, manifest::ACCESS_KEYS, &entry, Some(&again.mac))?)
                .then_some(again))
        })?;
        again.ok_or_else(|| rolled_back(&k.account, format!("access key {}", k.access_key_id)))
    }

    fn fetch_record(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
        lock: bool,
    ) -> Result<Option<Record>, StoreError> {
        let row = if self.indexed(kind) && !self.heads.contains_key(account) {
            // The first read of the account in this transaction brings its head along.
            let head = (manifest::KIND, manifest::HEAD);
            let (row, head) = if lock {
                self.inner.get_locked_and(account, (kind, key), head)?
            } else {
                self.inner.reads().get_record_pair(account, (kind, key), head)?
            };
            self.adopt_head(account, head, false)?;
            row
        } else if lock {
            self.inner.get_locked(account, kind, key)?
        } else {
            self.inner.reads().get_record(account, kind, key)?
        };
        row.map(|r| self.record(r)).transpose()
    }

    /// A record (or its absence), checked: its MAC, and that it is the current version.
    fn fresh_record(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
        lock: bool,
    ) -> Result<Option<Record>, StoreError> {
        let found = self.fetch_record(account, kind, key, lock)?;
        if !self.indexed(kind) {
            return Ok(found);
        }
        if self.current(account, kind, key, found.as_ref().map(|r| r.mac.as_slice()))? {
            return Ok(found);
        }
        let again = self.again(account, |s| {
            let found = s.fetch_record(account, kind, key, lock)?;
            let mac = found.as_ref().map(|r| r.mac.as_slice());
            Ok(s.current(account, kind, key, mac)?.then_some(found))
        })?;
        again.ok_or_else(|| rolled_back(account, format!("record {kind} {key}")))
    }

    /// Whether `page` is exactly what the manifest says the listing holds.
    fn listing_current(
        &mut self,
        q: &RecordQuery<'_>,
        page: &Page<Record>,
    ) -> Result<bool, StoreError> {
        let entries = self.shard_as_written(q.account, q.kind)?;
        let (expected, truncated) = expected_page(&entries, q);
        let found = page.items.iter().map(|r| Some((r.key.clone(), manifest::tag_of(&r.mac)?)));
        Ok(truncated == page.truncated
            && expected.len() == page.items.len()
            && found.zip(&expected).all(|(f, e)| f.as_ref() == Some(e)))
    }

    fn fetch_listing(&mut self, q: &RecordQuery<'_>) -> Result<Page<Record>, StoreError> {
        let page = self.inner.reads().list_records(q)?;
        let items = page.items.into_iter().map(|r| self.record(r)).collect::<Result<_, _>>()?;
        Ok(Page { items, truncated: page.truncated })
    }

    fn fresh_listing(&mut self, q: &RecordQuery<'_>) -> Result<Page<Record>, StoreError> {
        let page = self.fetch_listing(q)?;
        if !self.indexed(q.kind) || self.listing_current(q, &page)? {
            return Ok(page);
        }
        let again = self.again(q.account, |s| {
            let page = s.fetch_listing(q)?;
            Ok(s.listing_current(q, &page)?.then_some(page))
        })?;
        again.ok_or_else(|| rolled_back(q.account, format!("listing of {} records", q.kind)))
    }

    /// Whether `keys` are exactly the long-term keys the manifest names for the owner.
    fn keys_current(
        &mut self,
        account: &str,
        prefix: &str,
        keys: &[AccessKey],
    ) -> Result<bool, StoreError> {
        let entries = self.shard_as_written(account, manifest::ACCESS_KEYS)?;
        let expected: BTreeMap<&str, Tag> = entries
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, t)| (k.as_str(), *t))
            .collect();
        let mut found = BTreeMap::new();
        for k in keys {
            let (Some(entry), Some(tag)) = (key_entry(k), manifest::tag_of(&k.mac)) else {
                return Ok(false);
            };
            found.insert(entry, tag);
        }
        Ok(found.len() == expected.len()
            && found.iter().zip(&expected).all(|((fk, ft), (ek, et))| fk == ek && ft == et))
    }

    fn fetch_keys(
        &mut self,
        account: &str,
        owner_kind: &str,
        owner_key: &str,
    ) -> Result<Vec<AccessKey>, StoreError> {
        let keys = self.inner.reads().list_access_keys(account, owner_kind, owner_key)?;
        keys.into_iter().map(|k| self.access_key(k)).collect()
    }

    fn fresh_keys(
        &mut self,
        account: &str,
        owner_kind: &str,
        owner_key: &str,
    ) -> Result<Vec<AccessKey>, StoreError> {
        let keys = self.fetch_keys(account, owner_kind, owner_key)?;
        if owner_kind == SESSION_OWNER {
            return Ok(keys);
        }
        let prefix = format!("{owner_kind}/{owner_key}/");
        if self.keys_current(account, &prefix, &keys)? {
            return Ok(keys);
        }
        let again = self.again(account, |s| {
            let keys = s.fetch_keys(account, owner_kind, owner_key)?;
            Ok(s.keys_current(account, &prefix, &keys)?.then_some(keys))
        })?;
        again
            .ok_or_else(|| rolled_back(account, format!("access keys of {owner_kind} {owner_key}")))
    }
}

impl<B: Source> ReadTx for Checked<'_, B> {
    fn get_account(&mut self, id: &str) -> Result<Option<Account>, StoreError> {
        // A reader's snapshot does not change: the row read with an access key is the row.
        let row = match self.prefetched.remove(id) {
            Some(a) => Some(a),
            None => self.inner.reads().get_account(id)?,
        };
        row.map(|a| self.fresh_account(a)).transpose()
    }

    fn get_account_by_name(&mut self, name: &str) -> Result<Option<Account>, StoreError> {
        self.inner.reads().get_account_by_name(name)?.map(|a| self.fresh_account(a)).transpose()
    }

    fn list_accounts(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Account>, StoreError> {
        let page = self.inner.reads().list_accounts(after, limit)?;
        let items =
            page.items.into_iter().map(|a| self.fresh_account(a)).collect::<Result<_, _>>()?;
        Ok(Page { items, truncated: page.truncated })
    }

    fn get_access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        // The key's account and its head come with it (one round trip on PostgreSQL).
        let head = (manifest::KIND, manifest::HEAD);
        let found = self.inner.reads().get_access_key_and_record(access_key_id, head)?;
        let Some(k) = found.key else { return Ok(None) };
        if !self.heads.contains_key(&k.account) {
            self.adopt_head(&k.account, found.record, false)?;
        }
        if let (false, Some(a)) = (B::WRITER, found.account) {
            if a.id == k.account {
                self.prefetched.insert(a.id.clone(), a);
            }
        }
        self.fresh_access_key(k).map(Some)
    }

    fn list_access_keys(
        &mut self,
        account: &str,
        owner_kind: &str,
        owner_key: &str,
    ) -> Result<Vec<AccessKey>, StoreError> {
        self.fresh_keys(account, owner_kind, owner_key)
    }

    fn list_all_access_keys(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AccessKey>, StoreError> {
        let keys = self.inner.reads().list_all_access_keys(after, limit)?;
        keys.into_iter().map(|k| self.fresh_access_key(k)).collect()
    }

    fn get_record(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        self.fresh_record(account, kind, key, false)
    }

    fn list_records(&mut self, query: &RecordQuery<'_>) -> Result<Page<Record>, StoreError> {
        self.fresh_listing(query)
    }

    fn unauthenticated_records(&mut self, limit: usize) -> Result<Vec<Record>, StoreError> {
        // Unchecked by definition: they are the rows that have no MAC.
        self.inner.reads().unauthenticated_records(limit)
    }

    fn record_kinds(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        self.inner.reads().record_kinds()
    }

    fn has_authenticated_rows(&mut self) -> Result<bool, StoreError> {
        self.inner.reads().has_authenticated_rows()
    }

    // `audit_head` is the trait's: from `audit_head_row` below, so checked too.

    fn audit_head_row(&mut self, account: &str) -> Result<Option<AuditHeadRow>, StoreError> {
        let row = self.inner.reads().audit_head_row(account)?;
        if let Some(head) = &row {
            check_audit_head(self.key, account, head)?;
        }
        Ok(row)
    }

    fn audit_events(
        &mut self,
        account: &str,
        seqs: Range<u64>,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let events = self.inner.reads().audit_events(account, seqs.clone())?;
        for (e, expected) in events.iter().zip(seqs.start..) {
            let message = audit_event_message(account, e.seq, &e.leaf_hash);
            if e.seq != expected
                || audit::merkle::leaf_hash(&e.event) != e.leaf_hash
                || !verify(self.key, &message, &e.mac)
            {
                return Err(forged(account, format!("audit event {expected}")));
            }
        }
        // A short answer must end at the head: an event deleted below it is refused too.
        let next = seqs.start + events.len() as u64;
        if next < seqs.end && next < self.audit_head(account)?.size {
            return Err(forged(account, format!("audit event {next} (deleted)")));
        }
        Ok(events)
    }

    fn audit_subtree(
        &mut self,
        account: &str,
        level: u8,
        index: u64,
    ) -> Result<Option<Hash>, StoreError> {
        self.inner.reads().audit_subtree(account, level, index)
    }

    fn list_checkpoints(
        &mut self,
        account: &str,
        from_size: u64,
        limit: usize,
    ) -> Result<Page<Checkpoint>, StoreError> {
        self.inner.reads().list_checkpoints(account, from_size, limit)
    }

    fn latest_checkpoint(&mut self, account: &str) -> Result<Option<Checkpoint>, StoreError> {
        self.inner.reads().latest_checkpoint(account)
    }

    // The operator's bookkeeping carries no MAC (see the module doc): passed through.

    fn due_blob_deletions(
        &mut self,
        before_ms: i64,
        limit: usize,
    ) -> Result<Vec<BlobGarbage>, StoreError> {
        self.inner.reads().due_blob_deletions(before_ms, limit)
    }

    fn queued_blob_deletions(&mut self, account: &str) -> Result<Vec<String>, StoreError> {
        self.inner.reads().queued_blob_deletions(account)
    }

    fn node_setting(&mut self, name: &str) -> Result<Option<String>, StoreError> {
        self.inner.reads().node_setting(name)
    }
}

impl<'a> Checked<'_, Box<dyn Tx + 'a>> {
    /// Writes this transaction's changes to each account's manifest: swapped for the head this
    /// transaction read when that is still the account's head, else under the head's lock.
    fn write_manifests(&mut self) -> Result<(), StoreError> {
        for (account, changes) in std::mem::take(&mut self.pending) {
            if self.swap_manifest(&account, &changes)? {
                continue;
            }
            let head = self.head(&account, true)?;
            let plan = self.plan(&account, &head, &changes, false)?.ok_or_else(|| {
                StoreError::Backend("a manifest change could not be planned".into())
            })?;
            for name in &plan.emptied {
                self.inner.delete_record(&account, manifest::KIND, name)?;
            }
            // The changed shards and the head in one statement where the backend can.
            self.inner.upsert_records(&plan.rows)?;
            self.remember(&account, plan);
        }
        Ok(())
    }

    /// Writes `changes` over the head this transaction read (unlocked) and the shards it names,
    /// if that head is still the account's: one compare-and-swap of the head row, which carries
    /// the changed shard with it. Says whether it wrote; when it did not (no head read, a shard
    /// not at hand, a shard left empty, or the head changed since), nothing was written and the
    /// caller takes the head's lock instead.
    fn swap_manifest(&mut self, account: &str, changes: &Pending) -> Result<bool, StoreError> {
        if self.locked.contains(account) {
            return Ok(false);
        }
        let Some((head, expected)) = self.heads.get(account).cloned() else { return Ok(false) };
        if expected.is_empty() {
            return Ok(false);
        }
        let Some(plan) = self.plan(account, &head, changes, true)? else { return Ok(false) };
        if plan.next == *head {
            return Ok(true);
        }
        if !self.inner.upsert_records_if(&plan.rows, &expected)? {
            return Ok(false);
        }
        self.remember(account, plan);
        Ok(true)
    }

    /// The manifest rows that write `changes` over `head`: each changed shard (or, for a shard
    /// left empty, its name to delete), then the new head if it changed. With `cached_only`,
    /// shards come only from the cache under the tags `head` names (a read could see a shard
    /// newer than an unlocked head), and `None` answers a shard not at hand or left empty;
    /// otherwise they are read as the transaction's head names them.
    fn plan(
        &mut self,
        account: &str,
        head: &Head,
        changes: &Pending,
        cached_only: bool,
    ) -> Result<Option<Plan>, StoreError> {
        let mut plan = Plan { next: head.clone(), ..Plan::default() };
        if let Some(tag) = changes.account {
            plan.next.account = Some(tag);
        }
        for (name, edits) in &changes.shards {
            let mut entries = if cached_only {
                match head.shards.get(name).map(|tag| self.cache.shard(account, name, tag)) {
                    Some(Some(entries)) => (*entries).clone(),
                    Some(None) => return Ok(None),
                    None => Entries::new(),
                }
            } else {
                (*self.shard(account, name)?).clone()
            };
            manifest::apply(&mut entries, edits);
            if entries.is_empty() {
                if cached_only {
                    return Ok(None);
                }
                if plan.next.shards.remove(name).is_some() {
                    plan.emptied.push(name.clone());
                }
                continue;
            }
            let (row, tag) = self.manifest_row(account, name, manifest::shard_body(&entries))?;
            plan.rows.push(row);
            plan.next.shards.insert(name.clone(), tag);
            plan.shards.push((name.clone(), tag, entries));
        }
        if plan.next != *head {
            let (row, tag) = self.manifest_row(account, manifest::HEAD, plan.next.to_body())?;
            plan.rows.push(row);
            plan.head = Some(tag);
        }
        Ok(Some(plan))
    }

    /// Caches what a plan wrote: its shards, and its head if it changed.
    fn remember(&self, account: &str, plan: Plan) {
        for (name, tag, entries) in plan.shards {
            self.cache.put_shard(account, &name, tag, Arc::new(entries));
        }
        if let Some(tag) = plan.head {
            self.cache.put_head(account, tag, Arc::new(plan.next));
        }
    }

    fn put_manifest_row(
        &mut self,
        account: &str,
        name: &str,
        body: serde_json::Value,
    ) -> Result<Tag, StoreError> {
        let (row, tag) = self.manifest_row(account, name, body)?;
        self.inner.put_record(&row, PutMode::Upsert)?;
        Ok(tag)
    }

    /// A manifest row with its MAC, and its tag.
    fn manifest_row(
        &self,
        account: &str,
        name: &str,
        body: serde_json::Value,
    ) -> Result<(Record, Tag), StoreError> {
        let mut row = Record {
            account: account.to_owned(),
            kind: manifest::KIND.to_owned(),
            key: name.to_owned(),
            format_version: 1,
            body,
            updated_at_ms: 0,
            mac: Vec::new(),
        };
        row.mac = seal(self.key, &record_message(&row)?);
        let tag = manifest::tag_of(&row.mac)
            .ok_or_else(|| StoreError::InvalidInput("a MAC without a tag".into()))?;
        Ok((row, tag))
    }
}

impl<'a> Tx for Checked<'_, Box<dyn Tx + 'a>> {
    fn get_record_for_update(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        self.fresh_record(account, kind, key, true)
    }

    fn get_record_for_share(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        let found = self.inner.get_record_for_share(account, kind, key)?;
        let found = found.map(|r| self.record(r)).transpose()?;
        if !self.indexed(kind)
            || self.current(account, kind, key, found.as_ref().map(|r| r.mac.as_slice()))?
        {
            return Ok(found);
        }
        // Read again as `get_record` does (the share lock is held from the first read).
        self.fresh_record(account, kind, key, false)
    }

    fn create_account(&mut self, account: &Account) -> Result<(), StoreError> {
        let mac = seal(self.key, &account_message(account));
        self.inner.create_account(&Account { mac: mac.clone(), ..account.clone() })?;
        self.pending.entry(account.id.clone()).or_default().account = manifest::tag_of(&mac);
        Ok(())
    }

    fn set_account_status(&mut self, id: &str, status: AccountStatus) -> Result<(), StoreError> {
        // The row is checked before it changes: a status change never vouches for an edit.
        let current = self.get_account(id)?.ok_or(StoreError::NotFound)?;
        self.inner.set_account_status(id, status)?;
        let mac = seal(self.key, &account_message(&Account { status, ..current }));
        self.inner.set_mac(RowId::Account(id), &mac)?;
        self.pending.entry(id.to_owned()).or_default().account = manifest::tag_of(&mac);
        Ok(())
    }

    fn insert_access_key(&mut self, key: &AccessKey) -> Result<(), StoreError> {
        let mac = seal(self.key, &access_key_message(key));
        let key = AccessKey { mac, ..key.clone() };
        self.inner.insert_access_key(&key)?;
        if let Some(entry) = key_entry(&key) {
            self.note(&key.account, manifest::ACCESS_KEYS, &entry, Some(&key.mac));
        }
        Ok(())
    }

    fn set_access_key_status(
        &mut self,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<(), StoreError> {
        let current = self.get_access_key(access_key_id)?.ok_or(StoreError::NotFound)?;
        self.inner.set_access_key_status(access_key_id, status)?;
        let changed = AccessKey { status, ..current };
        self.rebind_key(changed)
    }

    fn set_access_key_secret(
        &mut self,
        access_key_id: &str,
        secret_wrapped: &[u8],
    ) -> Result<(), StoreError> {
        let current = self.get_access_key(access_key_id)?.ok_or(StoreError::NotFound)?;
        self.inner.set_access_key_secret(access_key_id, secret_wrapped)?;
        self.rebind_key(AccessKey { secret_wrapped: secret_wrapped.to_vec(), ..current })
    }

    fn set_access_key_last_used(
        &mut self,
        access_key_id: &str,
        at_ms: i64,
        service: &str,
        region: &str,
    ) -> Result<(), StoreError> {
        // Not covered by the MAC: it grants nothing.
        self.inner.set_access_key_last_used(access_key_id, at_ms, service, region)
    }

    fn delete_access_key(&mut self, access_key_id: &str) -> Result<(), StoreError> {
        let current = self.get_access_key(access_key_id)?;
        self.inner.delete_access_key(access_key_id)?;
        if let Some(entry) = current.as_ref().and_then(key_entry) {
            let account = current.map(|k| k.account).unwrap_or_default();
            self.note(&account, manifest::ACCESS_KEYS, &entry, None);
        }
        Ok(())
    }

    fn put_record(&mut self, record: &Record, mode: PutMode) -> Result<(), StoreError> {
        let mac = seal(self.key, &record_message(record)?);
        self.inner.put_record(&Record { mac: mac.clone(), ..record.clone() }, mode)?;
        if self.indexed(&record.kind) {
            self.note(&record.account, &record.kind, &record.key, Some(&mac));
        }
        Ok(())
    }

    fn set_mac(&mut self, _row: RowId<'_>, _mac: &[u8]) -> Result<(), StoreError> {
        Err(StoreError::InvalidInput("MACs are written by the authenticating store only".into()))
    }

    fn delete_record(&mut self, account: &str, kind: &str, key: &str) -> Result<(), StoreError> {
        self.inner.delete_record(account, kind, key)?;
        if self.indexed(kind) {
            self.note(account, kind, key, None);
        }
        Ok(())
    }

    fn append_events(
        &mut self,
        account: &str,
        events: &[(&[u8], Hash)],
    ) -> Result<u64, StoreError> {
        self.inner.append_events_sealed(account, events, &AuditKey(self.key))
    }

    fn append_events_sealed(
        &mut self,
        _account: &str,
        _events: &[(&[u8], Hash)],
        _seal: &dyn AuditSeal,
    ) -> Result<u64, StoreError> {
        Err(StoreError::InvalidInput(
            "audit rows are sealed by the authenticating store only".into(),
        ))
    }

    fn insert_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        self.inner.insert_checkpoint(checkpoint)
    }

    fn queue_blob_deletions(
        &mut self,
        blobs: &[(String, String)],
        dropped_at_ms: i64,
    ) -> Result<(), StoreError> {
        self.inner.queue_blob_deletions(blobs, dropped_at_ms)
    }

    fn forget_blob_deletion(&mut self, account: &str, name: &str) -> Result<(), StoreError> {
        self.inner.forget_blob_deletion(account, name)
    }

    fn try_lease(
        &mut self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        self.inner.try_lease(name, holder, now_ms, ttl_ms)
    }

    fn release_lease(&mut self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.inner.release_lease(name, holder)
    }

    fn put_node_setting(
        &mut self,
        name: &str,
        value: &str,
        mode: PutMode,
    ) -> Result<(), StoreError> {
        self.inner.put_node_setting(name, value, mode)
    }

    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.write_manifests()?;
        self.inner.commit()
    }
}

impl<'a> Checked<'_, Box<dyn Tx + 'a>> {
    /// A key's row changed in place: a new MAC, and the manifest told.
    fn rebind_key(&mut self, changed: AccessKey) -> Result<(), StoreError> {
        let mac = seal(self.key, &access_key_message(&changed));
        self.inner.set_mac(RowId::AccessKey(&changed.access_key_id), &mac)?;
        if let Some(entry) = key_entry(&changed) {
            self.note(&changed.account, manifest::ACCESS_KEYS, &entry, Some(&mac));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Xor;
    impl RowKey for Xor {
        fn tag(&self, message: &[u8]) -> [u8; 32] {
            let mut out = [0u8; 32];
            for (i, b) in message.iter().enumerate() {
                out[i % 32] ^= b.wrapping_add(i as u8);
            }
            out
        }
    }

    #[test]
    fn fields_are_length_prefixed() {
        assert_ne!(message("r", &[b"ab", b"c"]), message("r", &[b"a", b"bc"]));
        assert_ne!(message("account", &[b"x"]), message("record", &[b"x"]));
    }

    #[test]
    fn a_mac_checks_only_its_own_message() {
        let mac = seal(&Xor, b"one");
        assert!(verify(&Xor, b"one", &mac));
        assert!(!verify(&Xor, b"two", &mac));
        assert!(!verify(&Xor, b"one", &mac[1..]));
        assert!(!verify(&Xor, b"one", &[]));
    }
}
