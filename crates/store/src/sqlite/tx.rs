//! A transaction on one SQLite connection, held for its lifetime. `BEGIN IMMEDIATE` for writers
//! (the write lock is taken up front, so no upgrade can deadlock), plain `BEGIN` for readers;
//! `ROLLBACK` on drop unless committed.

mod bookkeeping;

use crate::slots::Slot;
use std::ops::Range;

use rusqlite::types::FromSql;
use rusqlite::{params, Connection, Params, Row};

use super::sql_err;
use crate::audit_log::plan_appends;
use crate::model::{
    check_text, from_i64, hash_from_bytes, into_page, limit_plus_one, prefix_upper_bound, to_i64,
};
use crate::{
    AccessKey, AccessKeyStatus, Account, AccountStatus, AuditEvent, AuditHeadRow, AuditSeal,
    BlobGarbage, Checkpoint, Hash, Page, PutMode, ReadTx, Record, RecordQuery, RowId, StoreError,
    Tx,
};

/// A transaction that owns its connection until it ends.
pub(super) struct SqliteTx<'a> {
    conn: Slot<'a, Connection>,
    open: bool,
    failed: bool,
}

/// Rolls back a transaction a previous holder left open (only after a panic inside a
/// transaction's own code, which the guard's drop normally covers).
pub(super) fn reset(conn: &Connection) {
    if !conn.is_autocommit() {
        // Best effort: if this fails, the BEGIN that follows fails and reports it.
        let _ = conn.execute_batch("ROLLBACK");
    }
}

impl<'a> SqliteTx<'a> {
    pub(super) fn begin(conn: Slot<'a, Connection>, write: bool) -> Result<Self, StoreError> {
        reset(&conn);
        conn.execute_batch(if write { "BEGIN IMMEDIATE" } else { "BEGIN DEFERRED" })
            .map_err(sql_err)?;
        Ok(Self { conn, open: true, failed: false })
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if self.open {
            // Best effort; `reset` retries when the connection is next taken.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

fn col<T: FromSql>(row: &Row<'_>, i: usize) -> Result<T, StoreError> {
    row.get(i).map_err(sql_err)
}

impl SqliteTx<'_> {
    /// Refuses to go on once a statement failed or SQLite rolled the transaction back on its own
    /// (it does on I/O errors, a full disk, ...): later statements would run in autocommit mode
    /// and break atomicity.
    fn check(&self) -> Result<(), StoreError> {
        if self.failed || self.conn.is_autocommit() {
            return Err(StoreError::Backend(
                "the transaction was rolled back by an earlier error".into(),
            ));
        }
        Ok(())
    }

    fn fail(&mut self, e: rusqlite::Error) -> StoreError {
        self.failed = true;
        sql_err(e)
    }

    fn exec<P: Params>(&mut self, sql: &str, params: P) -> Result<usize, StoreError> {
        self.check()?;
        let result = self.conn.prepare_cached(sql).and_then(|mut s| s.execute(params));
        result.map_err(|e| self.fail(e))
    }

    fn query_all<T, P: Params>(
        &mut self,
        sql: &str,
        params: P,
        decode: fn(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.check()?;
        let mut out = Vec::new();
        let result = (|| -> rusqlite::Result<()> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let mut rows = stmt.query(params)?;
            while let Some(row) = rows.next()? {
                out.push(decode(row));
            }
            Ok(())
        })();
        result.map_err(|e| self.fail(e))?;
        out.into_iter().collect()
    }

    fn query_opt<T, P: Params>(
        &mut self,
        sql: &str,
        params: P,
        decode: fn(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.check()?;
        let result = (|| -> rusqlite::Result<Option<Result<T, StoreError>>> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let mut rows = stmt.query(params)?;
            Ok(rows.next()?.map(decode))
        })();
        result.map_err(|e| self.fail(e))?.transpose()
    }
}

/// A MAC as stored: NULL when there is none.
fn stored_mac(mac: &[u8]) -> Option<&[u8]> {
    (!mac.is_empty()).then_some(mac)
}

/// An update or delete of one row: 0 rows means the row is not there.
fn exactly_one(n: usize) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

fn account_row(row: &Row<'_>) -> Result<Account, StoreError> {
    Ok(Account {
        id: col(row, 0)?,
        name: col(row, 1)?,
        status: AccountStatus::from_stored(&col::<String>(row, 2)?)?,
        created_at_ms: col(row, 3)?,
        mac: col::<Option<Vec<u8>>>(row, 4)?.unwrap_or_default(),
    })
}

fn access_key_row(row: &Row<'_>) -> Result<AccessKey, StoreError> {
    Ok(AccessKey {
        access_key_id: col(row, 0)?,
        account: col(row, 1)?,
        owner_kind: col(row, 2)?,
        owner_key: col(row, 3)?,
        status: AccessKeyStatus::from_stored(&col::<String>(row, 4)?)?,
        secret_wrapped: col(row, 5)?,
        created_at_ms: col(row, 6)?,
        last_used_at_ms: col(row, 7)?,
        last_used_service: col(row, 8)?,
        last_used_region: col(row, 9)?,
        mac: col::<Option<Vec<u8>>>(row, 10)?.unwrap_or_default(),
    })
}

fn record_row(row: &Row<'_>) -> Result<Record, StoreError> {
    let version: i64 = col(row, 3)?;
    let body: String = col(row, 4)?;
    Ok(Record {
        account: col(row, 0)?,
        kind: col(row, 1)?,
        key: col(row, 2)?,
        format_version: u32::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("record format version {version}")))?,
        body: serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("record body: {e}")))?,
        updated_at_ms: col(row, 5)?,
        mac: col::<Option<Vec<u8>>>(row, 6)?.unwrap_or_default(),
    })
}

fn event_row(row: &Row<'_>) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        seq: from_i64("sequence number", col(row, 0)?)?,
        leaf_hash: hash_from_bytes(&col::<Vec<u8>>(row, 1)?)?,
        event: col(row, 2)?,
        mac: col::<Option<Vec<u8>>>(row, 3)?.unwrap_or_default(),
    })
}

fn checkpoint_row(row: &Row<'_>) -> Result<Checkpoint, StoreError> {
    Ok(Checkpoint {
        account: col(row, 0)?,
        size: from_i64("checkpoint size", col(row, 1)?)?,
        time_ms: col(row, 2)?,
        root: hash_from_bytes(&col::<Vec<u8>>(row, 3)?)?,
        note: col(row, 4)?,
    })
}

fn hash_row(row: &Row<'_>) -> Result<Hash, StoreError> {
    hash_from_bytes(&col::<Vec<u8>>(row, 0)?)
}

fn head_row(row: &Row<'_>) -> Result<AuditHeadRow, StoreError> {
    Ok(AuditHeadRow {
        size: from_i64("audit log size", col(row, 0)?)?,
        frontier: col(row, 1)?,
        root: hash_from_bytes(&col::<Vec<u8>>(row, 2)?)?,
        mac: col::<Option<Vec<u8>>>(row, 3)?.unwrap_or_default(),
    })
}

/// The columns [`head_row`] reads.
const HEAD_COLS: &str = "SELECT size, frontier, root, mac FROM audit_heads WHERE account = ?1";

const ACCOUNT_COLS: &str = "id, name, status, created_at, mac";
const KEY_COLS: &str = "access_key_id, account, owner_kind, owner_key, status, secret_wrapped, \
                        created_at, last_used_at, last_used_service, last_used_region, mac";
const RECORD_COLS: &str = "account, kind, key, format_version, body, updated_at, mac";

impl ReadTx for SqliteTx<'_> {
    fn get_account(&mut self, id: &str) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ?1");
        self.query_opt(&sql, [id], account_row)
    }

    fn get_account_by_name(&mut self, name: &str) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE name = ?1");
        self.query_opt(&sql, [name], account_row)
    }

    fn list_accounts(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Account>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE (?1 IS NULL OR id > ?1) ORDER BY id LIMIT ?2"
        );
        let rows = self.query_all(&sql, params![after, limit_plus_one(limit)], account_row)?;
        Ok(into_page(rows, limit))
    }

    fn get_access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        let sql = format!("SELECT {KEY_COLS} FROM access_keys WHERE access_key_id = ?1");
        self.query_opt(&sql, [access_key_id], access_key_row)
    }

    fn list_all_access_keys(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AccessKey>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLS} FROM access_keys WHERE access_key_id > ?1
             ORDER BY access_key_id LIMIT ?2"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query_all(&sql, rusqlite::params![after.unwrap_or(""), limit], access_key_row)
    }

    fn list_access_keys(
        &mut self,
        account: &str,
        owner_kind: &str,
        owner_key: &str,
    ) -> Result<Vec<AccessKey>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLS} FROM access_keys
             WHERE account = ?1 AND owner_kind = ?2 AND owner_key = ?3
             ORDER BY created_at, access_key_id"
        );
        self.query_all(&sql, [account, owner_kind, owner_key], access_key_row)
    }

    fn get_record(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLS} FROM records WHERE account = ?1 AND kind = ?2 AND key = ?3"
        );
        self.query_opt(&sql, [account, kind, key], record_row)
    }

    fn list_records(&mut self, q: &RecordQuery<'_>) -> Result<Page<Record>, StoreError> {
        let upper = prefix_upper_bound(q.prefix);
        let sql = format!(
            "SELECT {RECORD_COLS} FROM records
             WHERE account = ?1 AND kind = ?2 AND key >= ?3
               AND (?4 IS NULL OR key < ?4) AND (?5 IS NULL OR key > ?5)
             ORDER BY key LIMIT ?6"
        );
        let rows = self.query_all(
            &sql,
            params![q.account, q.kind, q.prefix, upper, q.after, limit_plus_one(q.limit)],
            record_row,
        )?;
        Ok(into_page(rows, q.limit))
    }

    fn audit_head_row(&mut self, account: &str) -> Result<Option<AuditHeadRow>, StoreError> {
        self.query_opt(HEAD_COLS, [account], head_row)
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
             WHERE account = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq",
            params![account, start, end],
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
                "SELECT leaf_hash FROM audit_events WHERE account = ?1 AND seq = ?2",
                params![account, index],
                hash_row,
            )
        } else {
            self.query_opt(
                "SELECT hash FROM audit_nodes WHERE account = ?1 AND level = ?2 AND idx = ?3",
                params![account, level, index],
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
             WHERE account = ?1 AND size >= ?2 ORDER BY size, time_ms LIMIT ?3",
            params![account, from, limit_plus_one(limit)],
            checkpoint_row,
        )?;
        Ok(into_page(rows, limit))
    }

    fn unauthenticated_records(&mut self, limit: usize) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLS} FROM records WHERE mac IS NULL ORDER BY account, kind, key
             LIMIT ?1"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query_all(&sql, [limit], record_row)
    }

    fn record_kinds(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        self.query_all(
            "SELECT DISTINCT account, kind FROM records ORDER BY account, kind",
            [],
            |row| Ok((col(row, 0)?, col(row, 1)?)),
        )
    }

    fn has_authenticated_rows(&mut self) -> Result<bool, StoreError> {
        let found = self.query_opt(
            "SELECT 1 FROM accounts WHERE mac IS NOT NULL
             UNION ALL SELECT 1 FROM access_keys WHERE mac IS NOT NULL
             UNION ALL SELECT 1 FROM records WHERE mac IS NOT NULL LIMIT 1",
            [],
            |_| Ok(()),
        )?;
        Ok(found.is_some())
    }

    fn latest_checkpoint(&mut self, account: &str) -> Result<Option<Checkpoint>, StoreError> {
        self.query_opt(
            "SELECT account, size, time_ms, root, note FROM audit_checkpoints
             WHERE account = ?1 ORDER BY size DESC, time_ms DESC LIMIT 1",
            [account],
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

impl Tx for SqliteTx<'_> {
    fn get_record_for_update(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        // BEGIN IMMEDIATE holds the database's write lock: no other writer runs meanwhile.
        self.get_record(account, kind, key)
    }

    fn create_account(&mut self, a: &Account) -> Result<(), StoreError> {
        a.validate()?;
        let n = self.exec(
            "INSERT INTO accounts (id, name, status, created_at, mac) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO NOTHING",
            params![a.id, a.name, a.status.as_str(), a.created_at_ms, stored_mac(&a.mac)],
        )?;
        if n == 0 {
            return Err(StoreError::AlreadyExists);
        }
        Ok(())
    }

    fn set_account_status(&mut self, id: &str, status: AccountStatus) -> Result<(), StoreError> {
        exactly_one(
            self.exec("UPDATE accounts SET status = ?2 WHERE id = ?1", [id, status.as_str()])?,
        )
    }

    fn insert_access_key(&mut self, k: &AccessKey) -> Result<(), StoreError> {
        k.validate()?;
        let n = self.exec(
            "INSERT INTO access_keys (access_key_id, account, owner_kind, owner_key, status,
                                      secret_wrapped, created_at, last_used_at,
                                      last_used_service, last_used_region, mac)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT DO NOTHING",
            params![
                k.access_key_id,
                k.account,
                k.owner_kind,
                k.owner_key,
                k.status.as_str(),
                k.secret_wrapped,
                k.created_at_ms,
                k.last_used_at_ms,
                k.last_used_service,
                k.last_used_region,
                stored_mac(&k.mac)
            ],
        )?;
        if n == 0 {
            return Err(StoreError::AlreadyExists);
        }
        Ok(())
    }

    fn set_access_key_status(
        &mut self,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<(), StoreError> {
        exactly_one(self.exec(
            "UPDATE access_keys SET status = ?2 WHERE access_key_id = ?1",
            [access_key_id, status.as_str()],
        )?)
    }

    fn set_access_key_secret(
        &mut self,
        access_key_id: &str,
        secret_wrapped: &[u8],
    ) -> Result<(), StoreError> {
        exactly_one(self.exec(
            "UPDATE access_keys SET secret_wrapped = ?2 WHERE access_key_id = ?1",
            rusqlite::params![access_key_id, secret_wrapped],
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
            "UPDATE access_keys SET last_used_at = ?2, last_used_service = ?3,
                                    last_used_region = ?4
             WHERE access_key_id = ?1",
            params![access_key_id, at_ms, service, region],
        )?)
    }

    fn delete_access_key(&mut self, access_key_id: &str) -> Result<(), StoreError> {
        exactly_one(self.exec("DELETE FROM access_keys WHERE access_key_id = ?1", [access_key_id])?)
    }

    fn put_record(&mut self, r: &Record, mode: PutMode) -> Result<(), StoreError> {
        r.validate()?;
        let body = serde_json::to_string(&r.body)
            .map_err(|e| StoreError::InvalidInput(format!("record body: {e}")))?;
        let mac = stored_mac(&r.mac);
        let p = params![r.account, r.kind, r.key, r.format_version, body, r.updated_at_ms, mac];
        match mode {
            PutMode::Create => {
                let n = self.exec(
                    "INSERT INTO records (account, kind, key, format_version, body, updated_at,
                                          mac)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                    p,
                )?;
                if n == 0 {
                    return Err(StoreError::AlreadyExists);
                }
                Ok(())
            }
            PutMode::Update => exactly_one(self.exec(
                "UPDATE records SET format_version = ?4, body = ?5, updated_at = ?6, mac = ?7
                 WHERE account = ?1 AND kind = ?2 AND key = ?3",
                p,
            )?),
            PutMode::Upsert => self
                .exec(
                    "INSERT INTO records (account, kind, key, format_version, body, updated_at,
                                      mac)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (account, kind, key) DO UPDATE SET
                   format_version = excluded.format_version, body = excluded.body,
                   updated_at = excluded.updated_at, mac = excluded.mac",
                    p,
                )
                .map(drop),
        }
    }

    fn set_mac(&mut self, row: RowId<'_>, mac: &[u8]) -> Result<(), StoreError> {
        let mac = stored_mac(mac);
        exactly_one(match row {
            RowId::Account(id) => {
                self.exec("UPDATE accounts SET mac = ?2 WHERE id = ?1", params![id, mac])?
            }
            RowId::AccessKey(id) => self.exec(
                "UPDATE access_keys SET mac = ?2 WHERE access_key_id = ?1",
                params![id, mac],
            )?,
            RowId::Record { account, kind, key } => self.exec(
                "UPDATE records SET mac = ?4 WHERE account = ?1 AND kind = ?2 AND key = ?3",
                params![account, kind, key, mac],
            )?,
            RowId::AuditEvent { account, seq } => self.exec(
                "UPDATE audit_events SET mac = ?3 WHERE account = ?1 AND seq = ?2",
                params![account, to_i64("sequence number", seq)?, mac],
            )?,
            RowId::AuditHead(account) => self.exec(
                "UPDATE audit_heads SET mac = ?2 WHERE account = ?1",
                params![account, mac],
            )?,
        })
    }

    fn delete_record(&mut self, account: &str, kind: &str, key: &str) -> Result<(), StoreError> {
        exactly_one(self.exec(
            "DELETE FROM records WHERE account = ?1 AND kind = ?2 AND key = ?3",
            [account, kind, key],
        )?)
    }

    fn append_events_sealed(
        &mut self,
        account: &str,
        events: &[(&[u8], Hash)],
        seal: &dyn AuditSeal,
    ) -> Result<u64, StoreError> {
        check_text("account", account)?;
        // The transaction holds SQLite's write lock (BEGIN IMMEDIATE): nobody else appends
        // between this read and the writes below.
        let head = self.query_opt(HEAD_COLS, [account], head_row)?;
        let plan = plan_appends(account, head.as_ref(), events, seal)?;
        for (i, ((event, leaf), mac)) in events.iter().zip(&plan.event_macs).enumerate() {
            let seq = to_i64("sequence number", plan.first + i as u64)?;
            self.exec(
                "INSERT INTO audit_events (account, seq, leaf_hash, event, mac)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![account, seq, &leaf[..], event, stored_mac(mac)],
            )?;
        }
        for (level, index, hash) in &plan.nodes {
            self.exec(
                "INSERT INTO audit_nodes (account, level, idx, hash) VALUES (?1, ?2, ?3, ?4)",
                params![account, level, to_i64("node index", *index)?, &hash[..]],
            )?;
        }
        self.exec(
            "INSERT INTO audit_heads (account, size, root, frontier, mac) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (account) DO UPDATE SET size = excluded.size, root = excluded.root,
               frontier = excluded.frontier, mac = excluded.mac",
            params![
                account,
                to_i64("audit log size", plan.size)?,
                &plan.root[..],
                plan.frontier,
                stored_mac(&plan.mac)
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
        let n = self.exec(
            "INSERT INTO audit_checkpoints (account, size, time_ms, root, note)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            params![c.account, to_i64("checkpoint size", c.size)?, c.time_ms, &c.root[..], c.note],
        )?;
        if n == 0 {
            return Err(StoreError::AlreadyExists);
        }
        Ok(())
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
        self.conn.execute_batch("COMMIT").map_err(sql_err)?;
        self.open = false;
        Ok(())
    }
}
