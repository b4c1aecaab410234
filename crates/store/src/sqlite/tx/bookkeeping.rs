//! The operator's bookkeeping tables on SQLite (schema 6): blobs queued for deletion, leases on
//! background work, and node settings. No row carries a MAC: none grants anything
//! (`docs/SECURITY.md`).

use rusqlite::params;

use super::{col, exactly_one, SqliteTx};
use crate::model::{check_non_empty, check_text};
use crate::{BlobGarbage, PutMode, StoreError};

pub(super) fn due_blob_deletions(
    tx: &mut SqliteTx<'_>,
    before_ms: i64,
    limit: usize,
) -> Result<Vec<BlobGarbage>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    tx.query_all(
        "SELECT account, name, dropped_at_ms FROM blob_garbage WHERE dropped_at_ms < ?1
         ORDER BY dropped_at_ms, account, name LIMIT ?2",
        params![before_ms, limit],
        |row| {
            Ok(BlobGarbage {
                account: col(row, 0)?,
                name: col(row, 1)?,
                dropped_at_ms: col(row, 2)?,
            })
        },
    )
}

pub(super) fn queued_blob_deletions(
    tx: &mut SqliteTx<'_>,
    account: &str,
) -> Result<Vec<String>, StoreError> {
    check_text("account", account)?;
    tx.query_all(
        "SELECT name FROM blob_garbage WHERE account = ?1 ORDER BY name",
        [account],
        |row| col(row, 0),
    )
}

pub(super) fn node_setting(
    tx: &mut SqliteTx<'_>,
    name: &str,
) -> Result<Option<String>, StoreError> {
    check_non_empty("setting name", name)?;
    tx.query_opt("SELECT value FROM node_settings WHERE name = ?1", [name], |row| col(row, 0))
}

pub(super) fn queue_blob_deletions(
    tx: &mut SqliteTx<'_>,
    blobs: &[(String, String)],
    dropped_at_ms: i64,
) -> Result<(), StoreError> {
    for (account, name) in blobs {
        check_non_empty("account", account)?;
        check_non_empty("blob name", name)?;
    }
    for (account, name) in blobs {
        tx.exec(
            "INSERT INTO blob_garbage (account, name, dropped_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (account, name) DO NOTHING",
            params![account, name, dropped_at_ms],
        )?;
    }
    Ok(())
}

pub(super) fn forget_blob_deletion(
    tx: &mut SqliteTx<'_>,
    account: &str,
    name: &str,
) -> Result<(), StoreError> {
    check_text("account", account)?;
    check_text("blob name", name)?;
    tx.exec("DELETE FROM blob_garbage WHERE account = ?1 AND name = ?2", [account, name]).map(drop)
}

pub(super) fn try_lease(
    tx: &mut SqliteTx<'_>,
    name: &str,
    holder: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<bool, StoreError> {
    check_non_empty("lease name", name)?;
    check_non_empty("lease holder", holder)?;
    let ttl_ms = ttl_ms.max(0);
    let expires = now_ms.saturating_add(ttl_ms);
    let void_after = expires.saturating_add(ttl_ms);
    // Inserted, or updated where the WHERE holds: one row changed; a lease held by another
    // and not expired: none.
    let changed = tx.exec(
        "INSERT INTO leases (name, holder, expires_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
         WHERE leases.holder = excluded.holder OR leases.expires_ms <= ?4
            OR leases.expires_ms > ?5",
        params![name, holder, expires, now_ms, void_after],
    )?;
    Ok(changed > 0)
}

pub(super) fn release_lease(
    tx: &mut SqliteTx<'_>,
    name: &str,
    holder: &str,
) -> Result<(), StoreError> {
    check_non_empty("lease name", name)?;
    check_non_empty("lease holder", holder)?;
    tx.exec("DELETE FROM leases WHERE name = ?1 AND holder = ?2", params![name, holder]).map(drop)
}

pub(super) fn put_node_setting(
    tx: &mut SqliteTx<'_>,
    name: &str,
    value: &str,
    mode: PutMode,
) -> Result<(), StoreError> {
    check_non_empty("setting name", name)?;
    check_text("setting value", value)?;
    match mode {
        PutMode::Create => {
            let n = tx.exec(
                "INSERT INTO node_settings (name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                [name, value],
            )?;
            if n == 0 {
                return Err(StoreError::AlreadyExists);
            }
            Ok(())
        }
        PutMode::Update => exactly_one(
            tx.exec("UPDATE node_settings SET value = ?2 WHERE name = ?1", [name, value])?,
        ),
        PutMode::Upsert => tx
            .exec(
                "INSERT INTO node_settings (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [name, value],
            )
            .map(drop),
    }
}
