//! A transaction on one PostgreSQL connection, held for its lifetime. Its `BEGIN` goes out with
//! its first statement (one round trip); a writer dropped before its commit sends `ROLLBACK`;
//! a reader dropped leaves it to the connection's next `BEGIN` (`ROLLBACK; BEGIN ...`, the same
//! round trip), or to [`crate::Store::maintain`]. Statements are prepared once per connection.
//! A reader answers a record it has already read from what it read (its snapshot cannot
//! change).

mod bookkeeping;

use crate::slots::Slot;
use std::collections::HashMap;
use std::ops::Range;
use std::time::Instant;

use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{Row, Statement};

use super::{pg_err, PgConn};
use crate::audit_log::{empty_root, plan_appends, EMPTY_FRONTIER};
use crate::model::{
    check_text, from_i64, hash_from_bytes, into_page, limit_plus_one, prefix_upper_bound, to_i64,
};
use crate::{
    AccessKey, AccessKeyStatus, Account, AccountStatus, AuditEvent, AuditHeadRow, AuditSeal,
    BlobGarbage, Checkpoint, Hash, KeyAndRecord, Page, PutMode, ReadTx, Record, RecordQuery, RowId,
    StoreError, Tx,
};

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

/// The first key of the advisory locks [`Tx::get_record_for_update`] and
/// [`Tx::get_record_for_share`] take on a record's key ("RECD"); the second is the key's hash.
/// They are in the two-int4 space (the migration lock is a bigint, a space of its own), and
/// each is its own statement, so that the read after it takes its snapshot after the wait and
/// sees what the holder committed. Two keys that share a hash only wait for each other.
const RECORD_LOCKS: i32 = 0x5245_4344;

/// A transaction that owns its connection until it ends.
pub(super) struct PgTx<'a> {
    conn: Slot<'a, PgConn>,
    open: bool,
    /// A statement failed: PostgreSQL has aborted the transaction, and `COMMIT` would silently
    /// roll back, so [`Tx::commit`] refuses.
    failed: bool,
    /// A read-write transaction (else `READ ONLY`, whose `ROLLBACK` may wait).
    write: bool,
    /// The `BEGIN` not sent yet (it goes with the first statement), and the pending rollback
    /// of a dropped reader that it carries, to give back to the connection if no statement
    /// ever runs.
    unsent: Option<(&'static str, Option<Instant>)>,
    /// A reader's records by (account, kind, key), as its snapshot has them.
    seen: HashMap<(String, String, String), Option<Record>>,
}

impl<'a> PgTx<'a> {
    /// A transaction on `conn`; its `BEGIN` (which first ends a transaction a dropped reader
    /// left open on the connection) is sent with its first statement.
    pub(super) fn begin(mut conn: Slot<'a, PgConn>, write: bool) -> Self {
        let pending = conn.rollback_pending.take();
        let sql = match (write, pending.is_some()) {
            (true, false) => "BEGIN ISOLATION LEVEL READ COMMITTED",
            (true, true) => "ROLLBACK; BEGIN ISOLATION LEVEL READ COMMITTED",
            (false, false) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            (false, true) => "ROLLBACK; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        Self {
            conn,
            open: true,
            failed: false,
            write,
            unsent: Some((sql, pending)),
            seen: HashMap::new(),
        }
    }

    fn fail(&mut self, e: tokio_postgres::Error) -> StoreError {
        self.failed = true;
        pg_err(e)
    }

    /// Sends the `BEGIN` on its own, if it has not gone yet (before a statement that must not
    /// run outside the transaction).
    fn send_begin(&mut self) -> Result<(), StoreError> {
        if let Some((sql, _)) = self.unsent.take() {
            let began = self.conn.client.batch_execute(sql);
            began.map_err(|e| self.begin_failed(e))?;
        }
        Ok(())
    }

    /// The `BEGIN` failed: the connection's state is unknown, so it is marked broken (replaced
    /// before its next use), and the transaction failed.
    fn begin_failed(&mut self, e: tokio_postgres::Error) -> StoreError {
        self.conn.broken = true;
        self.fail(e)
    }

    /// If no statement was sent (the `BEGIN` still waits for one), gives the connection back
    /// the rollback it owed before this transaction, and says so: there is nothing to end.
    fn nothing_sent(&mut self) -> bool {
        match self.unsent.take() {
            Some((_, pending)) => {
                self.conn.rollback_pending = pending;
                true
            }
            None => false,
        }
    }

    /// The statement `sql`, prepared on this connection once.
    fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(stmt) = self.conn.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.conn.client.prepare(sql).map_err(|e| self.fail(e))?;
        self.conn.statements.insert(sql, stmt.clone());
        Ok(stmt)
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.failed {
            return Err(StoreError::Backend(
                "the transaction was rolled back by an earlier error".into(),
            ));
        }
        Ok(())
    }

    fn rows(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
        self.check()?;
        if !goes_with_begin(sql) {
            self.send_begin()?;
        }
        // Preparing (once per connection) runs outside any transaction.
        let stmt = self.statement(sql)?;
        match self.unsent.take() {
            None => self.conn.client.query(&stmt, params).map_err(|e| self.fail(e)),
            Some((begin, _)) => {
                let (began, rows) = self.conn.client.begin_then_query(begin, &stmt, params);
                began.map_err(|e| self.begin_failed(e))?;
                rows.map_err(|e| self.fail(e))
            }
        }
    }

    fn exec(&mut self, sql: &'static str, params: Params<'_>) -> Result<u64, StoreError> {
        self.check()?;
        if goes_with_begin(sql) {
            return self.rows(sql, params).map(|rows| rows.len() as u64);
        }
        self.send_begin()?;
        let stmt = self.statement(sql)?;
        self.conn.client.execute(&stmt, params).map_err(|e| self.fail(e))
    }

    /// Takes the advisory lock on a record's key ([`RECORD_LOCKS`]), shared or exclusive, until
    /// the transaction ends.
    fn lock_key(
        &mut self,
        shared: bool,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        let sql = if shared {
            concat!(
                "SELECT pg_advisory_xact_lock_shared($4::INT4,",
                " hashtext($1::TEXT || '/' || $2::TEXT || '/' || $3::TEXT))"
            )
        } else {
            concat!(
                "SELECT pg_advisory_xact_lock($4::INT4,",
                " hashtext($1::TEXT || '/' || $2::TEXT || '/' || $3::TEXT))"
            )
        };
        self.exec(sql, &[&account, &kind, &key, &RECORD_LOCKS]).map(drop)
    }

    fn query_all<T>(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
        decode: fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.rows(sql, params)?.iter().map(decode).collect()
    }

    fn query_opt<T>(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
        decode: fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.rows(sql, params)?.first().map(decode).transpose()
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        if self.nothing_sent() {
            return;
        }
        if !self.write && !self.failed {
            // A reader wrote and locked nothing (no row locks, no advisory locks): ending its
            // transaction can wait for the connection's next `BEGIN`, which carries the
            // `ROLLBACK`, or for `Store::maintain`. A reader whose statement failed rolls back
            // now, so that a dead connection is found here, as before.
            self.conn.rollback_pending = Some(Instant::now());
        } else if self.conn.client.batch_execute("ROLLBACK").is_err() {
            // State unknown: the store replaces the connection before its next use.
            self.conn.broken = true;
        }
    }
}

/// Whether `sql` may go out with its transaction's `BEGIN` (one round trip): a `SELECT`
/// changes nothing should the `BEGIN` fail (it ran on its own, a read or a lock released as
/// it ended, and its answer is dropped). Anything else waits for the `BEGIN` to succeed.
fn goes_with_begin(sql: &str) -> bool {
    sql.starts_with("SELECT ")
}

fn col<'r, T: FromSql<'r>>(row: &'r Row, i: usize) -> Result<T, StoreError> {
    row.try_get(i).map_err(pg_err)
}

fn exactly_one(n: u64) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A record's format version and body as stored, once it is checked.
fn stored_fields(r: &Record) -> Result<(i64, String), StoreError> {
    r.validate()?;
    let body = serde_json::to_string(&r.body)
        .map_err(|e| StoreError::InvalidInput(format!("record body: {e}")))?;
    Ok((i64::from(r.format_version), body))
}

/// A MAC as stored: NULL when there is none.
fn stored_mac(mac: &[u8]) -> Option<&[u8]> {
    (!mac.is_empty()).then_some(mac)
}

fn created(n: u64) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::AlreadyExists)
    } else {
        Ok(())
    }
}

fn account_row(row: &Row) -> Result<Account, StoreError> {
    account_at(row, 0)
}

/// The account whose columns start at `base`.
fn account_at(row: &Row, base: usize) -> Result<Account, StoreError> {
    Ok(Account {
        id: col(row, base)?,
        name: col(row, base + 1)?,
        status: AccountStatus::from_stored(col(row, base + 2)?)?,
        created_at_ms: col(row, base + 3)?,
        mac: col::<Option<Vec<u8>>>(row, base + 4)?.unwrap_or_default(),
    })
}

fn access_key_row(row: &Row) -> Result<AccessKey, StoreError> {
    Ok(AccessKey {
        access_key_id: col(row, 0)?,
        account: col(row, 1)?,
        owner_kind: col(row, 2)?,
        owner_key: col(row, 3)?,
        status: AccessKeyStatus::from_stored(col(row, 4)?)?,
        secret_wrapped: col(row, 5)?,
        created_at_ms: col(row, 6)?,
        last_used_at_ms: col(row, 7)?,
        last_used_service: col(row, 8)?,
        last_used_region: col(row, 9)?,
        mac: col::<Option<Vec<u8>>>(row, 10)?.unwrap_or_default(),
    })
}

fn record_row(row: &Row) -> Result<Record, StoreError> {
    record_at(row, 0)
}

/// The record whose columns start at `base`.
fn record_at(row: &Row, base: usize) -> Result<Record, StoreError> {
    let version: i64 = col(row, base + 3)?;
    let body: &str = col(row, base + 4)?;
    Ok(Record {
        account: col(row, base)?,
        kind: col(row, base + 1)?,
        key: col(row, base + 2)?,
        format_version: u32::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("record format version {version}")))?,
        body: serde_json::from_str(body)
            .map_err(|e| StoreError::Corrupt(format!("record body: {e}")))?,
        updated_at_ms: col(row, base + 5)?,
        mac: col::<Option<Vec<u8>>>(row, base + 6)?.unwrap_or_default(),
    })
}

/// An access key and, from the columns after it, its account and a record of that account
/// where there are.
fn key_and_record_row(row: &Row) -> Result<KeyAndRecord, StoreError> {
    let account = match col::<Option<String>>(row, 11)? {
        Some(_) => Some(account_at(row, 11)?),
        None => None,
    };
    let record = match col::<Option<String>>(row, 16)? {
        Some(_) => Some(record_at(row, 16)?),
        None => None,
    };
    Ok(KeyAndRecord { key: Some(access_key_row(row)?), account, record })
}

/// The rows of a two-record read sorted out: the one at `first` and the one at `second` (the
/// same row for both when they name one).
fn pair(
    rows: Vec<Record>,
    (kind, key): (&str, &str),
    (other_kind, other_key): (&str, &str),
) -> (Option<Record>, Option<Record>) {
    let (mut first, mut second) = (None, None);
    for r in rows {
        if r.kind == kind && r.key == key {
            first = Some(r.clone());
        }
        if r.kind == other_kind && r.key == other_key {
            second = Some(r);
        }
    }
    (first, second)
}

fn event_row(row: &Row) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        seq: from_i64("sequence number", col(row, 0)?)?,
        leaf_hash: hash_from_bytes(col(row, 1)?)?,
        event: col(row, 2)?,
        mac: col::<Option<Vec<u8>>>(row, 3)?.unwrap_or_default(),
    })
}

fn checkpoint_row(row: &Row) -> Result<Checkpoint, StoreError> {
    Ok(Checkpoint {
        account: col(row, 0)?,
        size: from_i64("checkpoint size", col(row, 1)?)?,
        time_ms: col(row, 2)?,
        root: hash_from_bytes(col(row, 3)?)?,
        note: col(row, 4)?,
    })
}

fn hash_row(row: &Row) -> Result<Hash, StoreError> {
    hash_from_bytes(col(row, 0)?)
}

fn head_row(row: &Row) -> Result<AuditHeadRow, StoreError> {
    Ok(AuditHeadRow {
        size: from_i64("audit log size", col(row, 0)?)?,
        frontier: col(row, 1)?,
        root: hash_from_bytes(col(row, 2)?)?,
        mac: col::<Option<Vec<u8>>>(row, 3)?.unwrap_or_default(),
    })
}

/// The columns [`head_row`] reads.
const HEAD_COLS: &str = "SELECT size, frontier, root, mac FROM audit_heads WHERE account = $1";

macro_rules! account_cols {
    () => {
        "id, name, status, created_at, mac"
    };
}
macro_rules! key_cols {
    () => {
        "access_key_id, account, owner_kind, owner_key, status, secret_wrapped, created_at, \
         last_used_at, last_used_service, last_used_region, mac"
    };
}
macro_rules! record_cols {
    () => {
        "account, kind, key, format_version, body, updated_at, mac"
    };
}

impl PgTx<'_> {
    /// The record, its row locked (nothing locked if it is absent).
    fn select_for_update(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        self.query_opt(
            concat!(
                "SELECT ",
                record_cols!(),
                " FROM records WHERE account = $1 AND kind = $2 AND key = $3 FOR UPDATE"
            ),
            &[&account, &kind, &key],
            record_row,
        )
    }
}

impl ReadTx for PgTx<'_> {
    fn get_account(&mut self, id: &str) -> Result<Option<Account>, StoreError> {
        self.query_opt(
            concat!("SELECT ", account_cols!(), " FROM accounts WHERE id = $1"),
            &[&id],
            account_row,
        )
    }

    fn get_account_by_name(&mut self, name: &str) -> Result<Option<Account>, StoreError> {
        self.query_opt(
            concat!("SELECT ", account_cols!(), " FROM accounts WHERE name = $1"),
            &[&name],
            account_row,
        )
    }

    fn list_accounts(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Account>, StoreError> {
        let rows = self.query_all(
            concat!(
                "SELECT ",
                account_cols!(),
                " FROM accounts WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2"
            ),
            &[&after, &limit_plus_one(limit)],
            account_row,
        )?;
        Ok(into_page(rows, limit))
    }

    fn get_access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        self.query_opt(
            concat!("SELECT ", key_cols!(), " FROM access_keys WHERE access_key_id = $1"),
            &[&access_key_id],
            access_key_row,
        )
    }

    fn list_all_access_keys(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AccessKey>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let after = after.unwrap_or("");
        self.query_all(
            concat!(
                "SELECT ",
                key_cols!(),
                " FROM access_keys WHERE access_key_id > $1 ORDER BY access_key_id LIMIT $2"
            ),
            &[&after, &limit],
            access_key_row,
        )
    }

    fn list_access_keys(
        &mut self,
        account: &str,
        owner_kind: &str,
        owner_key: &str,
    ) -> Result<Vec<AccessKey>, StoreError> {
        self.query_all(
            concat!(
                "SELECT ",
                key_cols!(),
                " FROM access_keys WHERE account = $1 AND owner_kind = $2 AND owner_key = $3
                  ORDER BY created_at, access_key_id"
            ),
            &[&account, &owner_kind, &owner_key],
            access_key_row,
        )
    }

    fn get_record(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        let id = (!self.write).then(|| (account.to_string(), kind.to_string(), key.to_string()));
        if let Some(record) = id.as_ref().and_then(|id| self.seen.get(id)) {
            return Ok(record.clone());
        }
        let record = self.query_opt(
            concat!(
                "SELECT ",
                record_cols!(),
                " FROM records WHERE account = $1 AND kind = $2 AND key = $3"
            ),
            &[&account, &kind, &key],
            record_row,
        )?;
        if let Some(id) = id {
            self.seen.insert(id, record.clone());
        }
        Ok(record)
    }

    fn get_record_pair(
        &mut self,
        account: &str,
        (kind, key): (&str, &str),
        (other_kind, other_key): (&str, &str),
    ) -> Result<(Option<Record>, Option<Record>), StoreError> {
        let rows = self.query_all(
            concat!(
                // Two primary-key lookups (an `OR` would scan the whole account).
                "SELECT ",
                record_cols!(),
                " FROM records WHERE account = $1 AND kind = $2 AND key = $3
                 UNION ALL SELECT ",
                record_cols!(),
                " FROM records WHERE account = $1 AND kind = $4 AND key = $5"
            ),
            &[&account, &kind, &key, &other_kind, &other_key],
            record_row,
        )?;
        Ok(pair(rows, (kind, key), (other_kind, other_key)))
    }

    fn get_access_key_and_record(
        &mut self,
        access_key_id: &str,
        (kind, key): (&str, &str),
    ) -> Result<KeyAndRecord, StoreError> {
        let row = self.query_opt(
            "SELECT k.access_key_id, k.account, k.owner_kind, k.owner_key, k.status,
                    k.secret_wrapped, k.created_at, k.last_used_at, k.last_used_service,
                    k.last_used_region, k.mac,
                    a.id, a.name, a.status, a.created_at, a.mac,
                    r.account, r.kind, r.key, r.format_version, r.body, r.updated_at, r.mac
               FROM access_keys k
               LEFT JOIN accounts a ON a.id = k.account
               LEFT JOIN LATERAL (
                   SELECT * FROM records
                    WHERE account = k.account AND kind = $2 AND key = $3
                   OFFSET 0) r ON true
              WHERE k.access_key_id = $1",
            &[&access_key_id, &kind, &key],
            key_and_record_row,
        )?;
        Ok(row.unwrap_or_default())
    }

    fn list_records(&mut self, q: &RecordQuery<'_>) -> Result<Page<Record>, StoreError> {
        let upper = prefix_upper_bound(q.prefix);
        let rows = self.query_all(
            concat!(
                "SELECT ",
                record_cols!(),
                " FROM records WHERE account = $1 AND kind = $2 AND key >= $3
                   AND ($4::text IS NULL OR key < $4) AND ($5::text IS NULL OR key > $5)
                  ORDER BY key LIMIT $6"
            ),
            &[&q.account, &q.kind, &q.prefix, &upper, &q.after, &limit_plus_one(q.limit)],
            record_row,
        )?;
        Ok(into_page(rows, q.limit))
    }

    fn audit_head_row(&mut self, account: &str) -> Result<Option<AuditHeadRow>, StoreError> {
        self.query_opt(HEAD_COLS, &[&account], head_row)
    }

    fn audit_events(
        &mut self,
        account: &str,
        seqs: Range<u64>,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let start = i64::try_from(seqs.start).unwrap_or(i64::MAX);
        let end = i64::try_from(seqs.end).unwrap_or(i64::MAX);
        self.query_all(
            "SELECT seq, leaf_hash, event, mac FROM audit_events
             WHERE account = $1 AND seq >= $2 AND seq < $3 ORDER BY seq",
            &[&account, &start, &end],
            event_row,
        )
    }

    fn audit_subtree(
        &mut self,
        account: &str,
        level: u8,
        index: u64,
    ) -> Result<Option<Hash>, StoreError> {
        let Ok(index) = i64::try_from(index) else {
            return Ok(None);
        };
        if level == 0 {
            self.query_opt(
                "SELECT leaf_hash FROM audit_events WHERE account = $1 AND seq = $2",
                &[&account, &index],
                hash_row,
            )
        } else {
            self.query_opt(
                "SELECT hash FROM audit_nodes WHERE account = $1 AND level = $2 AND idx = $3",
                &[&account, &i16::from(level), &index],
                hash_row,
            )
        }
    }

    fn list_checkpoints(
        &mut self,
        account: &str,
        from_size: u64,
        limit: usize,
    ) -> Result<Page<Checkpoint>, StoreError> {
        let from = i64::try_from(from_size).unwrap_or(i64::MAX);
        let rows = self.query_all(
            "SELECT account, size, time_ms, root, note FROM audit_checkpoints
             WHERE account = $1 AND size >= $2 ORDER BY size, time_ms LIMIT $3",
            &[&account, &from, &limit_plus_one(limit)],
            checkpoint_row,
        )?;
        Ok(into_page(rows, limit))
    }

    fn unauthenticated_records(&mut self, limit: usize) -> Result<Vec<Record>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query_all(
            concat!(
                "SELECT ",
                record_cols!(),
                " FROM records WHERE mac IS NULL ORDER BY account, kind, key LIMIT $1"
            ),
            &[&limit],
            record_row,
        )
    }

    fn record_kinds(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        self.query_all(
            "SELECT DISTINCT account, kind FROM records ORDER BY account, kind",
            &[],
            |row| Ok((col(row, 0)?, col(row, 1)?)),
        )
    }

    fn has_authenticated_rows(&mut self) -> Result<bool, StoreError> {
        let rows = self.rows(
            "SELECT 1 FROM accounts WHERE mac IS NOT NULL
             UNION ALL SELECT 1 FROM access_keys WHERE mac IS NOT NULL
             UNION ALL SELECT 1 FROM records WHERE mac IS NOT NULL LIMIT 1",
            &[],
        )?;
        Ok(!rows.is_empty())
    }

    fn latest_checkpoint(&mut self, account: &str) -> Result<Option<Checkpoint>, StoreError> {
        self.query_opt(
            "SELECT account, size, time_ms, root, note FROM audit_checkpoints
             WHERE account = $1 ORDER BY size DESC, time_ms DESC LIMIT 1",
            &[&account],
            checkpoint_row,
        )
    }

    fn due_blob_deletions(
        &mut self,
        before_ms: i64,
        limit: usize,
    ) -> Result<Vec<BlobGarbage>, StoreError> {
        bookkeeping::due_blob_deletions(self, before_ms, limit)
    }

    fn queued_blob_deletions(&mut self, account: &str) -> Result<Vec<String>, StoreError> {
        bookkeeping::queued_blob_deletions(self, account)
    }

    fn node_setting(&mut self, name: &str) -> Result<Option<String>, StoreError> {
        bookkeeping::node_setting(self, name)
    }
}

impl Tx for PgTx<'_> {
    fn get_record_for_update(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        // `FOR UPDATE` locks rows, and an absent record has none: two transactions that both
        // find it absent would both write it, and the later write would replace the earlier
        // unseen (an S3 object's blob no record names). So the key itself is locked first.
        self.lock_key(false, account, kind, key)?;
        self.select_for_update(account, kind, key)
    }

    fn get_record_for_share(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        // Every writer of the record holds the exclusive lock (`get_record_for_update`), so
        // the shared one alone keeps the record as read until this transaction ends.
        self.lock_key(true, account, kind, key)?;
        self.get_record(account, kind, key)
    }

    fn create_account(&mut self, a: &Account) -> Result<(), StoreError> {
        a.validate()?;
        created(self.exec(
            "INSERT INTO accounts (id, name, status, created_at, mac) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            &[&a.id, &a.name, &a.status.as_str(), &a.created_at_ms, &stored_mac(&a.mac)],
        )?)
    }

    fn set_account_status(&mut self, id: &str, status: AccountStatus) -> Result<(), StoreError> {
        exactly_one(
            self.exec("UPDATE accounts SET status = $2 WHERE id = $1", &[&id, &status.as_str()])?,
        )
    }

    fn insert_access_key(&mut self, k: &AccessKey) -> Result<(), StoreError> {
        k.validate()?;
        created(self.exec(
            "INSERT INTO access_keys (access_key_id, account, owner_kind, owner_key, status,
                                      secret_wrapped, created_at, last_used_at,
                                      last_used_service, last_used_region, mac)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
            &[
                &k.access_key_id,
                &k.account,
                &k.owner_kind,
                &k.owner_key,
                &k.status.as_str(),
                &k.secret_wrapped,
                &k.created_at_ms,
                &k.last_used_at_ms,
                &k.last_used_service,
                &k.last_used_region,
                &stored_mac(&k.mac),
            ],
        )?)
    }

    fn set_access_key_status(
        &mut self,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<(), StoreError> {
        exactly_one(self.exec(
            "UPDATE access_keys SET status = $2 WHERE access_key_id = $1",
            &[&access_key_id, &status.as_str()],
        )?)
    }

    fn set_access_key_secret(
        &mut self,
        access_key_id: &str,
        secret_wrapped: &[u8],
    ) -> Result<(), StoreError> {
        exactly_one(self.exec(
            "UPDATE access_keys SET secret_wrapped = $2 WHERE access_key_id = $1",
            &[&access_key_id, &secret_wrapped],
        )?)
    }

    fn set_access_key_last_used(
        &mut self,
        access_key_id: &str,
        at_ms: i64,
        service: &str,
        region: &str,
    ) -> Result<(), StoreError> {
        exactly_one(self.exec(
            "UPDATE access_keys SET last_used_at = $2, last_used_service = $3,
                                    last_used_region = $4
             WHERE access_key_id = $1",
            &[&access_key_id, &at_ms, &service, &region],
        )?)
    }

    fn delete_access_key(&mut self, access_key_id: &str) -> Result<(), StoreError> {
        exactly_one(
            self.exec("DELETE FROM access_keys WHERE access_key_id = $1", &[&access_key_id])?,
        )
    }

    fn put_record(&mut self, r: &Record, mode: PutMode) -> Result<(), StoreError> {
        let (version, body) = stored_fields(r)?;
        let mac = stored_mac(&r.mac);
        let p: Params<'_> = &[&r.account, &r.kind, &r.key, &version, &body, &r.updated_at_ms, &mac];
        match mode {
            PutMode::Create => created(self.exec(
                concat!(
                    "INSERT INTO records (",
                    record_cols!(),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
                ),
                p,
            )?),
            PutMode::Update => exactly_one(self.exec(
                "UPDATE records SET format_version = $4, body = $5, updated_at = $6, mac = $7
                 WHERE account = $1 AND kind = $2 AND key = $3",
                p,
            )?),
            PutMode::Upsert => self
                .exec(
                    concat!(
                        "INSERT INTO records (",
                        record_cols!(),
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (account, kind, key) DO UPDATE SET
                           format_version = excluded.format_version, body = excluded.body,
                           updated_at = excluded.updated_at, mac = excluded.mac"
                    ),
                    p,
                )
                .map(drop),
        }
    }

    fn lock_record(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        // An existing row: its row lock serializes writers (a waiter re-reads the row's latest
        // version when the holder commits). An absent one has no row to lock: the key lock.
        match self.select_for_update(account, kind, key)? {
            Some(r) => Ok(Some(r)),
            None => self.get_record_for_update(account, kind, key),
        }
    }

    fn upsert_records(&mut self, records: &[Record]) -> Result<(), StoreError> {
        let [a, b] = records else {
            return records.iter().try_for_each(|r| self.put_record(r, PutMode::Upsert));
        };
        let mut owned = Vec::with_capacity(2);
        for r in [a, b] {
            let (version, body) = stored_fields(r)?;
            owned.push((version, body, stored_mac(&r.mac)));
        }
        let [(va, ba, ma), (vb, bb, mb)] = owned.as_slice() else {
            return Err(StoreError::InvalidInput("two records expected".into()));
        };
        self.exec(
            concat!(
                "INSERT INTO records (",
                record_cols!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14)
                 ON CONFLICT (account, kind, key) DO UPDATE SET
                   format_version = excluded.format_version, body = excluded.body,
                   updated_at = excluded.updated_at, mac = excluded.mac"
            ),
            &[
                &a.account,
                &a.kind,
                &a.key,
                va,
                ba,
                &a.updated_at_ms,
                ma,
                &b.account,
                &b.kind,
                &b.key,
                vb,
                bb,
                &b.updated_at_ms,
                mb,
            ],
        )
        .map(drop)
    }

    fn get_record_for_update_and_record(
        &mut self,
        account: &str,
        (kind, key): (&str, &str),
        (other_kind, other_key): (&str, &str),
    ) -> Result<(Option<Record>, Option<Record>), StoreError> {
        // The key lock first, in a statement of its own (as `get_record_for_update`), so the
        // read after it takes its snapshot once the lock is held.
        self.lock_key(false, account, kind, key)?;
        let rows = self.query_all(
            concat!(
                "WITH locked AS MATERIALIZED (SELECT ",
                record_cols!(),
                " FROM records WHERE account = $1 AND kind = $2 AND key = $3 FOR UPDATE)
                 SELECT ",
                record_cols!(),
                " FROM locked UNION ALL SELECT ",
                record_cols!(),
                " FROM records WHERE account = $1 AND kind = $4 AND key = $5"
            ),
            &[&account, &kind, &key, &other_kind, &other_key],
            record_row,
        )?;
        Ok(pair(rows, (kind, key), (other_kind, other_key)))
    }

    fn upsert_records_if(
        &mut self,
        records: &[Record],
        expected: &[u8],
    ) -> Result<bool, StoreError> {
        // The last row alone (a head whose shards did not change) or one row and the last: one
        // statement, the swap of the last row deciding whether the other is written. Any other
        // shape takes the lock, compares and writes.
        let (first, last) = match records {
            [last] => (None, last),
            [first, last] => (Some(first), last),
            _ => return crate::upsert_records_if_locked(self, records, expected),
        };
        if expected.is_empty() {
            return Ok(false);
        }
        let (lv, lb) = stored_fields(last)?;
        let lm = stored_mac(&last.mac);
        let Some(first) = first else {
            let n = self.exec(
                "UPDATE records SET format_version = $4, body = $5, updated_at = $6, mac = $7
                  WHERE account = $1 AND kind = $2 AND key = $3 AND mac = $8",
                &[
                    &last.account,
                    &last.kind,
                    &last.key,
                    &lv,
                    &lb,
                    &last.updated_at_ms,
                    &lm,
                    &expected,
                ],
            )?;
            return Ok(n == 1);
        };
        let (fv, fb) = stored_fields(first)?;
        let fm = stored_mac(&first.mac);
        let n = self.exec(
            concat!(
                "WITH swapped AS (
                   UPDATE records SET format_version = $11, body = $12, updated_at = $13, mac = $14
                    WHERE account = $8 AND kind = $9 AND key = $10 AND mac = $15
                   RETURNING 1)
                 INSERT INTO records (",
                record_cols!(),
                ") SELECT $1::TEXT, $2::TEXT, $3::TEXT, $4::BIGINT, $5::TEXT, $6::BIGINT, $7::BYTEA
                   WHERE EXISTS (SELECT 1 FROM swapped)
                 ON CONFLICT (account, kind, key) DO UPDATE SET
                   format_version = excluded.format_version, body = excluded.body,
                   updated_at = excluded.updated_at, mac = excluded.mac"
            ),
            &[
                &first.account,
                &first.kind,
                &first.key,
                &fv,
                &fb,
                &first.updated_at_ms,
                &fm,
                &last.account,
                &last.kind,
                &last.key,
                &lv,
                &lb,
                &last.updated_at_ms,
                &lm,
                &expected,
            ],
        )?;
        Ok(n == 1)
    }

    fn set_mac(&mut self, row: RowId<'_>, mac: &[u8]) -> Result<(), StoreError> {
        let mac = stored_mac(mac);
        exactly_one(match row {
            RowId::Account(id) => {
                self.exec("UPDATE accounts SET mac = $2 WHERE id = $1", &[&id, &mac])?
            }
            RowId::AccessKey(id) => {
                self.exec("UPDATE access_keys SET mac = $2 WHERE access_key_id = $1", &[&id, &mac])?
            }
            RowId::Record { account, kind, key } => self.exec(
                "UPDATE records SET mac = $4 WHERE account = $1 AND kind = $2 AND key = $3",
                &[&account, &kind, &key, &mac],
            )?,
            RowId::AuditEvent { account, seq } => self.exec(
                "UPDATE audit_events SET mac = $3 WHERE account = $1 AND seq = $2",
                &[&account, &to_i64("sequence number", seq)?, &mac],
            )?,
            RowId::AuditHead(account) => {
                self.exec("UPDATE audit_heads SET mac = $2 WHERE account = $1", &[&account, &mac])?
            }
        })
    }

    fn delete_record(&mut self, account: &str, kind: &str, key: &str) -> Result<(), StoreError> {
        exactly_one(self.exec(
            "DELETE FROM records WHERE account = $1 AND kind = $2 AND key = $3",
            &[&account, &kind, &key],
        )?)
    }

    fn append_events_sealed(
        &mut self,
        account: &str,
        events: &[(&[u8], Hash)],
        seal: &dyn AuditSeal,
    ) -> Result<u64, StoreError> {
        check_text("account", account)?;
        if events.is_empty() {
            return Ok(self.audit_head_row(account)?.map_or(0, |h| h.size));
        }
        const LOCK_HEAD: &str =
            "SELECT size, frontier, root, mac FROM audit_heads WHERE account = $1 FOR UPDATE";
        // Lock the head row: appenders on other connections (other servers) wait here until
        // this transaction ends, then read the head it wrote (READ COMMITTED re-reads the
        // locked row's latest version). The first append of an account creates the row; a
        // racing creator waits on the insert and then does nothing. The head lock, then one
        // statement that inserts the events and the nodes and updates the head: two round
        // trips for the whole batch (the first append of an account: four).
        let mut head = self.query_opt(LOCK_HEAD, &[&account], head_row)?;
        if head.is_none() {
            self.exec(
                "INSERT INTO audit_heads (account, size, root, frontier) VALUES ($1, 0, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&account, &&empty_root()[..], &EMPTY_FRONTIER],
            )?;
            head = self.query_opt(LOCK_HEAD, &[&account], head_row)?;
        }
        let head = head.ok_or_else(|| {
            StoreError::Backend("the audit head row vanished after its creation".into())
        })?;
        let plan = plan_appends(account, Some(&head), events, seal)?;
        let (mut seqs, mut leaves, mut bodies, mut macs) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (i, ((event, leaf), mac)) in events.iter().zip(&plan.event_macs).enumerate() {
            seqs.push(to_i64("sequence number", plan.first + i as u64)?);
            leaves.push(&leaf[..]);
            bodies.push(*event);
            macs.push(stored_mac(mac));
        }
        let (mut levels, mut indexes, mut hashes) = (Vec::new(), Vec::new(), Vec::new());
        for (level, index, hash) in &plan.nodes {
            levels.push(i16::from(*level));
            indexes.push(to_i64("node index", *index)?);
            hashes.push(&hash[..]);
        }
        // Each part of a data-modifying `WITH` runs exactly once, to completion, whether or not
        // the rest reads it; none of the three reads what another writes. No nodes (an empty
        // array) insert nothing.
        self.exec(
            "WITH events AS (
                 INSERT INTO audit_events (account, seq, leaf_hash, event, mac)
                 SELECT $1::TEXT, s, l, e, m
                 FROM UNNEST($2::BIGINT[], $3::BYTEA[], $4::BYTEA[], $5::BYTEA[])
                     AS t(s, l, e, m)),
             nodes AS (
                 INSERT INTO audit_nodes (account, level, idx, hash)
                 SELECT $1::TEXT, v, i, h
                 FROM UNNEST($6::SMALLINT[], $7::BIGINT[], $8::BYTEA[]) AS t(v, i, h))
             UPDATE audit_heads SET size = $9, root = $10, frontier = $11, mac = $12
             WHERE account = $1",
            &[
                &account,
                &seqs,
                &leaves,
                &bodies,
                &macs,
                &levels,
                &indexes,
                &hashes,
                &to_i64("audit log size", plan.size)?,
                &&plan.root[..],
                &plan.frontier,
                &stored_mac(&plan.mac),
            ],
        )?;
        Ok(plan.first)
    }

    fn insert_checkpoint(&mut self, c: &Checkpoint) -> Result<(), StoreError> {
        c.validate()?;
        if self.audit_root_at(&c.account, c.size)? != c.root {
            return Err(StoreError::InvalidInput(format!(
                "checkpoint root does not match the log at size {}",
                c.size
            )));
        }
        created(self.exec(
            "INSERT INTO audit_checkpoints (account, size, time_ms, root, note)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[&c.account, &to_i64("checkpoint size", c.size)?, &c.time_ms, &&c.root[..], &c.note],
        )?)
    }

    fn queue_blob_deletions(
        &mut self,
        blobs: &[(String, String)],
        dropped_at_ms: i64,
    ) -> Result<(), StoreError> {
        bookkeeping::queue_blob_deletions(self, blobs, dropped_at_ms)
    }

    fn forget_blob_deletion(&mut self, account: &str, name: &str) -> Result<(), StoreError> {
        bookkeeping::forget_blob_deletion(self, account, name)
    }

    fn try_lease(
        &mut self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        bookkeeping::try_lease(self, name, holder, now_ms, ttl_ms)
    }

    fn release_lease(&mut self, name: &str, holder: &str) -> Result<(), StoreError> {
        bookkeeping::release_lease(self, name, holder)
    }

    fn put_node_setting(
        &mut self,
        name: &str,
        value: &str,
        mode: PutMode,
    ) -> Result<(), StoreError> {
        bookkeeping::put_node_setting(self, name, value, mode)
    }

    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.check()?;
        if self.nothing_sent() {
            self.open = false;
            return Ok(());
        }
        self.conn.client.batch_execute("COMMIT").map_err(pg_err)?;
        self.open = false;
        Ok(())
    }
}
