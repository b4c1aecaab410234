//! Hermetic's persistence: accounts, access keys, versioned JSON records and each account's
//! RFC 6962 audit log, in SQLite (the embedded default) or PostgreSQL (several servers on one
//! database), behind one synchronous trait.
//!
//! The unit of work is a transaction that carries an effect **and** its audit event:
//!
//! ```no_run
//! # fn demo(store: &dyn store::Store, record: &store::Record, event: &[u8]) -> Result<(), store::StoreError> {
//! let leaf = audit::merkle::leaf_hash(event);
//! let mut tx = store.begin()?;
//! tx.put_record(record, store::PutMode::Create)?;
//! tx.append_event(&record.account, event, &leaf)?;
//! tx.commit()?; // both or neither; dropping `tx` instead rolls both back
//! # Ok(()) }
//! ```
//!
//! The store is synchronous (the async server calls it on a blocking pool). It holds no secrets
//! in plaintext: access-key secrets arrive wrapped, events and record bodies are opaque to it.
//! Schema changes are forward migrations, one version at a time, applied when a store opens
//! ([`SqliteStore::open`], [`PostgresStore::connect`]). Every stored value carries a version:
//! typed columns that of the schema, record bodies their own `format_version`, wrapped secrets,
//! events and checkpoint notes the version inside their own formats.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit_log;
mod authenticated;
pub mod blobs;
mod error;
mod manifest;
mod model;
mod postgres;
pub mod private;
mod read_only;
mod slots;
mod sqlite;

use std::ops::Range;

pub use authenticated::{Authenticated, RowKey};
pub use blobs::{
    BlobEntry, BlobError, BlobRead, BlobRef, BlobStats, BlobStore, BlobWrite, LocalBlobs,
    S3BlobOptions, S3Blobs,
};
pub use error::StoreError;
pub use model::{
    AccessKey, AccessKeyStatus, Account, AccountStatus, AuditEvent, AuditHead, AuditHeadRow,
    BlobGarbage, Checkpoint, Hash, KeyAndRecord, Page, PutMode, Record, RecordQuery, RowId,
};
pub use postgres::{PostgresOptions, PostgresStore};
pub use read_only::ReadOnly;
pub use slots::PoolStats;
pub use sqlite::{SqliteOptions, SqliteStore};

/// The newest schema version this build knows; [`Store::schema_version`] of an opened store.
pub const SCHEMA_VERSION: u32 = 6;

/// A database holding Hermetic's state. Cheap to share (`&dyn Store` across threads); each
/// transaction takes one connection for its lifetime.
pub trait Store: Send + Sync {
    /// Starts a read-write transaction. Appends to one account's audit log take that log's
    /// head row, so sequence numbers are linear across every store on the database.
    ///
    /// Waits for a free connection when all are taken: a thread must not hold a transaction
    /// while it begins another on a store with a single connection.
    ///
    /// # Errors
    /// [`StoreError::Busy`] if another process held SQLite's write lock past the busy timeout;
    /// [`StoreError::Backend`] if the database is unreachable.
    fn begin(&self) -> Result<Box<dyn Tx + '_>, StoreError>;

    /// Starts a read-only transaction that sees one consistent snapshot.
    ///
    /// # Errors
    /// As [`Store::begin`].
    fn read(&self) -> Result<Box<dyn ReadTx + '_>, StoreError>;

    /// The schema version recorded in the database.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if it cannot be read.
    fn schema_version(&self) -> Result<u32, StoreError>;

    /// Which backend this is: `"sqlite"` or `"postgres"` (for logs and metrics).
    fn backend(&self) -> &'static str;

    /// What each of its connection pools measured (waits for a connection, timeouts), for the
    /// server's metrics; none for a store without pools.
    fn pool_stats(&self) -> Vec<PoolStats> {
        Vec::new()
    }

    /// Housekeeping for an idle moment, called about once a second (the server's audit
    /// writer calls it): on PostgreSQL it ends the read transactions that dropped readers left
    /// open on connections idle for a second or more (their `ROLLBACK` otherwise goes with the
    /// connection's next `BEGIN`), so that no idle connection keeps an old snapshot. It takes
    /// only free connections and waits for none. Nothing to do for SQLite.
    fn maintain(&self) {}
}

/// Reads, inside a transaction. A `Tx` reads its own writes.
///
/// Every method fails with [`StoreError::Backend`] on a database fault, [`StoreError::Corrupt`]
/// when a stored value cannot be decoded, and [`StoreError::Conflict`] / [`StoreError::Busy`]
/// when the transaction lost a race.
pub trait ReadTx {
    /// The account with this id, if any.
    ///
    /// # Errors
    /// See the trait.
    fn get_account(&mut self, id: &str) -> Result<Option<Account>, StoreError>;

    /// The account with this name, if any.
    ///
    /// # Errors
    /// See the trait.
    fn get_account_by_name(&mut self, name: &str) -> Result<Option<Account>, StoreError>;

    /// Accounts in id order, those after `after` only, at most `limit`.
    ///
    /// # Errors
    /// See the trait.
    fn list_accounts(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Account>, StoreError>;

    /// The access key with this id, if any.
    ///
    /// # Errors
    /// See the trait.
    fn get_access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError>;

    /// The access keys of one owner in `account`, oldest first.
    ///
    /// # Errors
    /// See the trait.
    fn list_access_keys(
        &mut self,
        account: &str,
        owner_kind: &str,
        owner_key: &str,
    ) -> Result<Vec<AccessKey>, StoreError>;

    /// Every access key of every account, by id, after `after`, at most `limit` (for a scan).
    ///
    /// # Errors
    /// See the trait.
    fn list_all_access_keys(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AccessKey>, StoreError>;

    /// The record `(account, kind, key)`, if any.
    ///
    /// # Errors
    /// See the trait; [`StoreError::Corrupt`] if the stored body is not JSON.
    fn get_record(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError>;

    /// Records of a kind in key order, filtered and paged by `query`.
    ///
    /// # Errors
    /// See the trait.
    fn list_records(&mut self, query: &RecordQuery<'_>) -> Result<Page<Record>, StoreError>;

    /// Two records of one account, read together (one round trip where the backend can): the
    /// one at (`kind`, `key`) and the one at (`other_kind`, `other_key`).
    ///
    /// # Errors
    /// See the trait.
    fn get_record_pair(
        &mut self,
        account: &str,
        (kind, key): (&str, &str),
        (other_kind, other_key): (&str, &str),
    ) -> Result<(Option<Record>, Option<Record>), StoreError> {
        Ok((self.get_record(account, kind, key)?, self.get_record(account, other_kind, other_key)?))
    }

    /// An access key, its account and the record at (`kind`, `key`) of that account, read
    /// together (one round trip where the backend can).
    ///
    /// # Errors
    /// See the trait.
    fn get_access_key_and_record(
        &mut self,
        access_key_id: &str,
        (kind, key): (&str, &str),
    ) -> Result<KeyAndRecord, StoreError> {
        let Some(found) = self.get_access_key(access_key_id)? else {
            return Ok(KeyAndRecord::default());
        };
        let account = self.get_account(&found.account)?;
        let record = self.get_record(&found.account, kind, key)?;
        Ok(KeyAndRecord { key: Some(found), account, record })
    }

    /// Records that carry no MAC, in (account, kind, key) order, at most `limit` (rows written
    /// before MACs existed, for [`Authenticated::bind_unauthenticated`]).
    ///
    /// # Errors
    /// See the trait.
    fn unauthenticated_records(&mut self, limit: usize) -> Result<Vec<Record>, StoreError>;

    /// Every (account, kind) that has at least one record, in that order (for
    /// [`Authenticated::build_manifests`], once per database).
    ///
    /// # Errors
    /// See the trait.
    fn record_kinds(&mut self) -> Result<Vec<(String, String)>, StoreError>;

    /// Whether any account, access key or record carries a MAC.
    ///
    /// # Errors
    /// See the trait.
    fn has_authenticated_rows(&mut self) -> Result<bool, StoreError>;

    /// The size and root of `account`'s audit log (size 0 and `SHA-256("")` if it has none).
    ///
    /// # Errors
    /// See the trait.
    fn audit_head(&mut self, account: &str) -> Result<AuditHead, StoreError> {
        Ok(match self.audit_head_row(account)? {
            Some(row) => AuditHead { size: row.size, root: row.root },
            None => AuditHead { size: 0, root: audit_log::empty_root() },
        })
    }

    /// `account`'s audit head row as stored, if it has one.
    ///
    /// # Errors
    /// See the trait.
    fn audit_head_row(&mut self, account: &str) -> Result<Option<AuditHeadRow>, StoreError>;

    /// The events of `account` whose sequence numbers lie in `seqs`, in order.
    ///
    /// # Errors
    /// See the trait.
    fn audit_events(
        &mut self,
        account: &str,
        seqs: Range<u64>,
    ) -> Result<Vec<AuditEvent>, StoreError>;

    /// The hash of the perfect subtree `(level, index)` of `account`'s log (level 0: a leaf),
    /// if that subtree is complete.
    ///
    /// # Errors
    /// See the trait.
    fn audit_subtree(
        &mut self,
        account: &str,
        level: u8,
        index: u64,
    ) -> Result<Option<Hash>, StoreError>;

    /// Checkpoints of `account` with size at least `from_size`, by size then time, at most
    /// `limit`.
    ///
    /// # Errors
    /// See the trait.
    fn list_checkpoints(
        &mut self,
        account: &str,
        from_size: u64,
        limit: usize,
    ) -> Result<Page<Checkpoint>, StoreError>;

    /// The latest checkpoint of `account` (largest size, then latest time), if any.
    ///
    /// # Errors
    /// See the trait.
    fn latest_checkpoint(&mut self, account: &str) -> Result<Option<Checkpoint>, StoreError>;

    // The operator's bookkeeping (schema 6): rows without MACs, which grant nothing
    // (`docs/SECURITY.md`); [`Authenticated`] passes them through unchecked.

    /// Queued deletions dropped before `before_ms`, oldest first, at most `limit`.
    ///
    /// The rows are not authenticated (anyone who can write the database can plant one): a
    /// deleter must check that no record names a blob before it deletes it
    /// (`docs/SECURITY.md`, the blob deletion queue).
    ///
    /// # Errors
    /// See the trait.
    fn due_blob_deletions(
        &mut self,
        before_ms: i64,
        limit: usize,
    ) -> Result<Vec<BlobGarbage>, StoreError>;

    /// The names of an account's blobs queued for deletion (the sweeper leaves them to the
    /// deleter), in name order.
    ///
    /// # Errors
    /// See the trait; [`StoreError::InvalidInput`] for an account with a NUL character.
    fn queued_blob_deletions(&mut self, account: &str) -> Result<Vec<String>, StoreError>;

    /// The node setting `name` (settings every node on the database reads before it can
    /// open anything else, such as the Shamir setup), if there is one.
    ///
    /// # Errors
    /// See the trait; [`StoreError::InvalidInput`] for an empty name or a NUL character.
    fn node_setting(&mut self, name: &str) -> Result<Option<String>, StoreError>;

    /// The root of the first `size` events of `account`'s log, from at most 64 stored subtrees.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] if `size` exceeds the log; [`StoreError::Corrupt`] if a
    /// subtree is missing.
    fn audit_root_at(&mut self, account: &str, size: u64) -> Result<Hash, StoreError> {
        let head = self.audit_head(account)?;
        if size > head.size {
            return Err(StoreError::InvalidInput(format!(
                "size {size} exceeds the log's {}",
                head.size
            )));
        }
        if size == head.size {
            return Ok(head.root);
        }
        let mut failure = None;
        let root = audit::merkle::root_from_store(size, |level, index| {
            lookup(self, account, level, index, &mut failure)
        });
        finish_lookup(root, failure)
    }

    /// The RFC 6962 inclusion proof of event `index` in the first `size` events.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] if `index >= size` or `size` exceeds the log.
    fn audit_inclusion_proof(
        &mut self,
        account: &str,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>, StoreError> {
        check_size(self, account, size)?;
        let mut failure = None;
        let proof = audit::merkle::inclusion_proof_from_store(index, size, |level, i| {
            lookup(self, account, level, i, &mut failure)
        });
        finish_lookup(proof, failure)
    }

    /// The RFC 6962 consistency proof from the first `old_size` events to the first `new_size`.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] if `old_size > new_size` or `new_size` exceeds the log.
    fn audit_consistency_proof(
        &mut self,
        account: &str,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<Hash>, StoreError> {
        check_size(self, account, new_size)?;
        let mut failure = None;
        let proof = audit::merkle::consistency_proof_from_store(old_size, new_size, |level, i| {
            lookup(self, account, level, i, &mut failure)
        });
        finish_lookup(proof, failure)
    }
}

/// Writes, inside a transaction. Nothing is visible to others until [`Tx::commit`]; dropping a
/// `Tx` without committing rolls everything back.
pub trait Tx: ReadTx {
    /// Reads a record and holds its key against concurrent writers until this transaction
    /// ends, whether or not the record exists: the read of a read-modify-write (PostgreSQL: an
    /// advisory lock on the key, then `SELECT ... FOR UPDATE`; SQLite: its single writer
    /// already excludes them). Of two transactions that read an absent record this way, the
    /// second waits and then finds the record the first wrote. A plain [`ReadTx::get_record`]
    /// followed by a write may lose a concurrent update on PostgreSQL.
    ///
    /// # Errors
    /// As [`ReadTx::get_record`].
    fn get_record_for_update(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError>;

    /// Reads a record and holds its key against [`Tx::get_record_for_update`] (but not against
    /// other shared holders) until this transaction ends, whether or not the record exists:
    /// for writes that depend on a record they do not change (an S3 object write on its
    /// bucket's existence and versioning), so that they run side by side and the record's own
    /// changes wait for them (PostgreSQL: a shared advisory lock on the key, then a read whose
    /// snapshot is taken after the wait; SQLite: its single writer already excludes them).
    /// The record stays as read only if every change of it locks it for update first. By
    /// default the lock is [`Tx::get_record_for_update`]'s, which holds it at least as well.
    ///
    /// # Errors
    /// As [`ReadTx::get_record`].
    fn get_record_for_share(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        self.get_record_for_update(account, kind, key)
    }

    /// The record at (`account`, `kind`, `key`), locked against other writers as
    /// [`Tx::get_record_for_update`] locks it, in fewer round trips where the backend can when
    /// the record exists (PostgreSQL: a row lock alone; the key lock only for an absent record).
    ///
    /// # Errors
    /// See the trait.
    fn lock_record(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        self.get_record_for_update(account, kind, key)
    }

    /// Inserts or replaces each of `records` ([`PutMode::Upsert`]), in one statement where the
    /// backend can.
    ///
    /// # Errors
    /// See the trait.
    fn upsert_records(&mut self, records: &[Record]) -> Result<(), StoreError> {
        records.iter().try_for_each(|r| self.put_record(r, PutMode::Upsert))
    }

    /// [`Tx::get_record_for_update`] of the record at (`kind`, `key`), and a plain read of the
    /// one at (`other_kind`, `other_key`) of the same account, together where the backend can
    /// (PostgreSQL: the key lock, then one statement for both).
    ///
    /// # Errors
    /// See the trait.
    fn get_record_for_update_and_record(
        &mut self,
        account: &str,
        (kind, key): (&str, &str),
        (other_kind, other_key): (&str, &str),
    ) -> Result<(Option<Record>, Option<Record>), StoreError> {
        let locked = self.get_record_for_update(account, kind, key)?;
        Ok((locked, self.get_record(account, other_kind, other_key)?))
    }

    /// Upserts `records` only if the row of the last of them exists and its MAC is `expected`
    /// (read under the row's lock, which is then held to the end of the transaction), and says
    /// whether it did: a compare-and-swap on that row, in one statement where the backend can.
    /// Nothing is written when it answers `false`.
    ///
    /// # Errors
    /// See the trait; [`StoreError::InvalidInput`] for no records.
    fn upsert_records_if(
        &mut self,
        records: &[Record],
        expected: &[u8],
    ) -> Result<bool, StoreError> {
        upsert_records_if_locked(self, records, expected)
    }

    /// Creates an account.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] if the id or the name is taken;
    /// [`StoreError::InvalidInput`] if the id is not twelve digits or the name is empty.
    fn create_account(&mut self, account: &Account) -> Result<(), StoreError>;

    /// Sets an account's status.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such account.
    fn set_account_status(&mut self, id: &str, status: AccountStatus) -> Result<(), StoreError>;

    /// Stores a new access key.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] if the id is taken; [`StoreError::InvalidInput`] if the id
    /// is empty.
    fn insert_access_key(&mut self, key: &AccessKey) -> Result<(), StoreError>;

    /// Sets an access key's status.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such key.
    fn set_access_key_status(
        &mut self,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<(), StoreError>;

    /// Replaces an access key's wrapped secret (re-wrapped for another context).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such key.
    fn set_access_key_secret(
        &mut self,
        access_key_id: &str,
        secret_wrapped: &[u8],
    ) -> Result<(), StoreError>;

    /// Records when an access key was last used.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such key.
    fn set_access_key_last_used(
        &mut self,
        access_key_id: &str,
        at_ms: i64,
        service: &str,
        region: &str,
    ) -> Result<(), StoreError>;

    /// Deletes an access key.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such key.
    fn delete_access_key(&mut self, access_key_id: &str) -> Result<(), StoreError>;

    /// Writes a record as `mode` says.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] (create-only, key taken); [`StoreError::NotFound`]
    /// (update-only, no such record); [`StoreError::InvalidInput`] if kind or key is empty.
    fn put_record(&mut self, record: &Record, mode: PutMode) -> Result<(), StoreError>;

    /// Sets the MAC of one row (the job of [`Authenticated`], which refuses it to others).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such row.
    fn set_mac(&mut self, row: RowId<'_>, mac: &[u8]) -> Result<(), StoreError>;

    /// Deletes a record.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] if there is no such record.
    fn delete_record(&mut self, account: &str, kind: &str, key: &str) -> Result<(), StoreError>;

    /// Appends an event to `account`'s audit log and returns its sequence number: the log's
    /// size before the append, so numbers run 0, 1, 2, ... without gaps. Stores the event and
    /// `leaf_hash` (which the caller computed, as RFC 6962's `SHA-256(0x00 || entry)` of the
    /// entry it chose), every perfect subtree the leaf completes, and the new head.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] / [`StoreError::Busy`] if the head row could not be had;
    /// [`StoreError::Corrupt`] if the stored head is malformed.
    fn append_event(
        &mut self,
        account: &str,
        event: &[u8],
        leaf_hash: &Hash,
    ) -> Result<u64, StoreError> {
        self.append_events(account, &[(event, *leaf_hash)])
    }

    /// Appends `events` (each with its leaf hash) to `account`'s log in order, as
    /// [`Tx::append_event`] one after the other would; returns the first one's sequence number.
    ///
    /// # Errors
    /// As [`Tx::append_event`].
    fn append_events(
        &mut self,
        account: &str,
        events: &[(&[u8], Hash)],
    ) -> Result<u64, StoreError> {
        self.append_events_sealed(account, events, &Unsealed)
    }

    /// [`Tx::append_events`] with `seal` checking the stored head before it is extended and
    /// giving each new event row and the new head its MAC. Backends do it in one read of the
    /// head and one write of each table.
    ///
    /// # Errors
    /// As [`Tx::append_event`]; [`StoreError::Forged`] if `seal` refuses the stored head.
    fn append_events_sealed(
        &mut self,
        account: &str,
        events: &[(&[u8], Hash)],
        seal: &dyn AuditSeal,
    ) -> Result<u64, StoreError>;

    /// Stores a checkpoint of `account`'s log.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] if its size exceeds the log or its root is not the log's
    /// root at that size; [`StoreError::AlreadyExists`] if one with the same size and time is
    /// stored.
    fn insert_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StoreError>;

    /// Queues blobs, each `(account, name)`, for deletion (idempotent: an already-queued blob
    /// keeps its time).
    ///
    /// # Errors
    /// See the trait; [`StoreError::InvalidInput`] for an empty account or name, or a NUL
    /// character (then nothing is queued).
    fn queue_blob_deletions(
        &mut self,
        blobs: &[(String, String)],
        dropped_at_ms: i64,
    ) -> Result<(), StoreError>;

    /// Removes a queued deletion once its blob is gone (a missing row is not an error).
    ///
    /// # Errors
    /// See the trait; [`StoreError::InvalidInput`] for a NUL character.
    fn forget_blob_deletion(&mut self, account: &str, name: &str) -> Result<(), StoreError>;

    /// Takes the lease `name` for `holder` if it is free, expired (its expiry at or before
    /// `now_ms`), void (its expiry later than `now_ms + 2 × ttl_ms`, which no holder renewing
    /// with this lifetime writes, allowing for a clock a lifetime ahead: an edited row) or
    /// already `holder`'s, and extends it to `now_ms + ttl_ms`; says whether `holder` holds it
    /// now. Leases only spare work: whoever relies on one for correctness is wrong (clocks
    /// differ between nodes, and a holder may stall past its expiry).
    ///
    /// # Errors
    /// See the trait; [`StoreError::InvalidInput`] for an empty name or holder, or a NUL
    /// character.
    fn try_lease(
        &mut self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Gives up the lease `name` if `holder` holds it (another's, or none, is left as it is),
    /// so that another node takes it at its next try instead of after its expiry.
    ///
    /// # Errors
    /// See the trait; [`StoreError::InvalidInput`] for an empty name or holder, or a NUL
    /// character.
    fn release_lease(&mut self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// Writes the node setting `name` as `mode` says.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] (create-only, already set); [`StoreError::NotFound`]
    /// (update-only, not set); [`StoreError::InvalidInput`] for an empty name or a NUL
    /// character.
    fn put_node_setting(
        &mut self,
        name: &str,
        value: &str,
        mode: PutMode,
    ) -> Result<(), StoreError>;

    /// Commits: every write of the transaction becomes visible, durably, or none does.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] / [`StoreError::Busy`] (retryable, nothing committed);
    /// [`StoreError::Backend`] otherwise (for a lost connection the outcome is unknown).
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// What checks and MACs an account's audit rows as [`Tx::append_events_sealed`] writes them
/// ([`Authenticated`]'s row key).
pub trait AuditSeal {
    /// Refuses a stored head (of a non-empty log) that is not one this seal wrote.
    ///
    /// # Errors
    /// [`StoreError::Forged`] for a head this seal did not write.
    fn check_head(&self, account: &str, head: &AuditHeadRow) -> Result<(), StoreError>;
    /// The MAC of event `seq` whose leaf hash is `leaf`.
    fn event_mac(&self, account: &str, seq: u64, leaf: &Hash) -> Vec<u8>;
    /// The MAC of the head `(size, root, frontier)`.
    fn head_mac(&self, account: &str, size: u64, root: &Hash, frontier: &[u8]) -> Vec<u8>;
}

/// No seal: every head accepted, every MAC empty (a store used without [`Authenticated`]).
pub(crate) struct Unsealed;

impl AuditSeal for Unsealed {
    fn check_head(&self, _account: &str, _head: &AuditHeadRow) -> Result<(), StoreError> {
        Ok(())
    }
    fn event_mac(&self, _account: &str, _seq: u64, _leaf: &Hash) -> Vec<u8> {
        Vec::new()
    }
    fn head_mac(&self, _account: &str, _size: u64, _root: &Hash, _frontier: &[u8]) -> Vec<u8> {
        Vec::new()
    }
}

/// Runs `work` in a transaction and commits it, starting over (up to `attempts` times in all)
/// when the transaction fails with a retryable error.
///
/// # Errors
/// The last error of `work` or of the commit.
pub fn with_retries<T, F>(store: &dyn Store, attempts: u32, mut work: F) -> Result<T, StoreError>
where
    F: FnMut(&mut dyn Tx) -> Result<T, StoreError>,
{
    let mut left = attempts.max(1);
    loop {
        left -= 1;
        let outcome = store.begin().and_then(|mut tx| {
            let value = work(&mut *tx)?;
            tx.commit()?;
            Ok(value)
        });
        match outcome {
            Err(e) if e.is_retryable() && left > 0 => continue,
            other => return other,
        }
    }
}

/// A subtree lookup for `audit::merkle`'s `*_from_store` functions, which take infallible
/// closures: a store failure is kept in `failure` and reported by [`finish_lookup`].
fn lookup<T: ReadTx + ?Sized>(
    tx: &mut T,
    account: &str,
    level: u8,
    index: u64,
    failure: &mut Option<StoreError>,
) -> Option<Hash> {
    if failure.is_some() {
        return None;
    }
    match tx.audit_subtree(account, level, index) {
        Ok(found) => found,
        Err(e) => {
            *failure = Some(e);
            None
        }
    }
}

fn finish_lookup<T>(
    result: Result<T, audit::merkle::MerkleError>,
    failure: Option<StoreError>,
) -> Result<T, StoreError> {
    if let Some(e) = failure {
        return Err(e);
    }
    result.map_err(|e| match e {
        audit::merkle::MerkleError::MissingNode { .. } => {
            StoreError::Corrupt(format!("audit log: {e}"))
        }
        other => StoreError::InvalidInput(format!("audit log: {other}")),
    })
}

fn check_size<T: ReadTx + ?Sized>(tx: &mut T, account: &str, size: u64) -> Result<(), StoreError> {
    let head = tx.audit_head(account)?;
    if size > head.size {
        return Err(StoreError::InvalidInput(format!(
            "size {size} exceeds the log's {}",
            head.size
        )));
    }
    Ok(())
}

/// [`Tx::upsert_records_if`] in steps: the last record's row locked ([`Tx::lock_record`]) and
/// compared, then the writes. Every backend's fallback.
pub(crate) fn upsert_records_if_locked<T: Tx + ?Sized>(
    tx: &mut T,
    records: &[Record],
    expected: &[u8],
) -> Result<bool, StoreError> {
    let Some(last) = records.last() else {
        return Err(StoreError::InvalidInput("no records to write".into()));
    };
    match tx.lock_record(&last.account, &last.kind, &last.key)? {
        Some(current) if !expected.is_empty() && current.mac == expected => {
            tx.upsert_records(records)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}
