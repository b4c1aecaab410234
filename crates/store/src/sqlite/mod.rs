//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, so a commit that
//! returned survives a crash or power loss. One writer connection, a pool of one (SQLite has a
//! single writer anyway, and `BEGIN IMMEDIATE` takes its lock up front, so appends are linear;
//! a writer waits for it at most the pool's bounded wait), and a few read-only connections,
//! each reading one WAL snapshot per transaction.

mod schema;
mod tx;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::slots::Slots;
use crate::{ReadTx, Store, StoreError, Tx, SCHEMA_VERSION};

use tx::SqliteTx;

/// How to open an SQLite store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// How many read-only connections serve [`Store::read`] (at least one).
    pub readers: usize,
    /// How long a connection waits for a lock held by another process before
    /// [`StoreError::Busy`].
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self { readers: 4, busy_timeout: Duration::from_secs(5) }
    }
}

/// The SQLite store: `hermetic.db` of the data directory.
pub struct SqliteStore {
    path: PathBuf,
    writer: Slots<Connection>,
    readers: Slots<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("readers", &self.readers.len())
            .finish()
    }
}

/// Creates the database file readable by its owner only (0600) when it does not exist yet:
/// SQLite would create it with the process's default mode, and gives its WAL and shared-memory
/// files the database file's mode.
fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Backend(format!("{}: {e}", path.display()))),
    }
}

impl SqliteStore {
    /// Opens (creating if need be) the database file at `path` with default options and migrates
    /// it forward to [`SCHEMA_VERSION`]. The path must name a file: readers open it separately,
    /// so `:memory:` will not do.
    ///
    /// # Errors
    /// [`StoreError::SchemaTooNew`] if a newer build wrote it; [`StoreError::Backend`] if it
    /// cannot be opened or migrated.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, &SqliteOptions::default())
    }

    /// Opens with `options`; see [`SqliteStore::open`].
    ///
    /// # Errors
    /// As [`SqliteStore::open`].
    pub fn open_with(path: impl AsRef<Path>, options: &SqliteOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        create_private(&path)?;
        let mut writer = Connection::open(&path).map_err(sql_err)?;
        configure(&writer, options)?;
        let mode: String =
            writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(sql_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!("journal mode is `{mode}`, not wal")));
        }
        migrate(&mut writer)?;
        let readers = Slots::open(options.readers, || {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn = Connection::open_with_flags(&path, flags).map_err(sql_err)?;
            configure(&conn, options)?;
            Ok(conn)
        })?;
        let mut writer = Some(writer);
        let writer = Slots::open(1, || {
            writer.take().ok_or_else(|| StoreError::Backend("one writer connection".into()))
        })?;
        Ok(Self { path, writer, readers })
    }

    /// Applies any migrations the database lacks and returns its version; running it again
    /// changes nothing.
    ///
    /// # Errors
    /// As [`SqliteStore::open`].
    pub fn migrate(&self) -> Result<u32, StoreError> {
        let mut conn = self.writer.take()?;
        tx::reset(&conn);
        migrate(&mut conn)
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Store for SqliteStore {
    fn begin(&self) -> Result<Box<dyn Tx + '_>, StoreError> {
        let conn = self.writer.take()?;
        Ok(Box::new(SqliteTx::begin(conn, true)?))
    }

    fn read(&self) -> Result<Box<dyn ReadTx + '_>, StoreError> {
        let conn = self.readers.take()?;
        Ok(Box::new(SqliteTx::begin(conn, false)?))
    }

    fn schema_version(&self) -> Result<u32, StoreError> {
        let conn = self.readers.take()?;
        read_version(&conn)
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn pool_stats(&self) -> Vec<crate::PoolStats> {
        vec![self.readers.stats("read"), self.writer.stats("write")]
    }
}

/// Per-connection settings: durability, lock waits, foreign keys.
fn configure(conn: &Connection, options: &SqliteOptions) -> Result<(), StoreError> {
    conn.busy_timeout(options.busy_timeout).map_err(sql_err)?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;").map_err(sql_err)
}

/// Brings the database to [`SCHEMA_VERSION`], one version per transaction. Each step re-reads
/// the version under the write lock, so several processes opening one file at once apply each
/// migration once.
fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    conn.execute_batch(schema::VERSION_TABLE).map_err(sql_err)?;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_err)?;
        let current = read_version(&tx)?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew { found: current, supported: SCHEMA_VERSION });
        }
        if current == SCHEMA_VERSION {
            tx.commit().map_err(sql_err)?;
            return Ok(current);
        }
        let step = usize::try_from(current)
            .ok()
            .and_then(|i| schema::MIGRATIONS.get(i))
            .ok_or_else(|| StoreError::Backend(format!("no migration from version {current}")))?;
        tx.execute_batch(step).map_err(|e| {
            StoreError::Backend(format!("migration to version {}: {e}", current + 1))
        })?;
        tx.execute(
            "INSERT INTO schema_version (id, version) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            [current + 1],
        )
        .map_err(sql_err)?;
        tx.commit().map_err(sql_err)?;
    }
}

/// The recorded schema version; 0 for a database that has none yet.
fn read_version(conn: &Connection) -> Result<u32, StoreError> {
    let v: Option<i64> = conn
        .query_row("SELECT version FROM schema_version WHERE id = 1", [], |r| r.get(0))
        .optional()
        .map_err(sql_err)?;
    let v = v.unwrap_or(0);
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("schema version {v}")))
}

/// Maps an SQLite error to what it means for the caller.
pub(crate) fn sql_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => return StoreError::Busy,
            ErrorCode::ConstraintViolation
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                return StoreError::AlreadyExists
            }
            _ => {}
        }
    }
    StoreError::Backend(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_version_matches_the_migrations() {
        assert_eq!(usize::try_from(SCHEMA_VERSION).unwrap(), schema::MIGRATIONS.len());
    }

    #[test]
    fn a_version_1_database_migrates_forward_keeping_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(schema::VERSION_TABLE).unwrap();
            conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
            conn.execute_batch(
                "INSERT INTO schema_version (id, version) VALUES (1, 1);
                 INSERT INTO accounts (id, name, status, created_at)
                     VALUES ('123456789012', 'acme', 'active', 1);
                 INSERT INTO access_keys (access_key_id, account, owner_kind, owner_key, status,
                                          secret_wrapped, created_at, last_used_at)
                     VALUES ('AKIAOLDOLDOLDOLDOLD1', '123456789012', 'root', '123456789012',
                             'active', x'00', 1, 5);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let mut tx = store.begin().unwrap();
        let key = tx.get_access_key("AKIAOLDOLDOLDOLDOLD1").unwrap().unwrap();
        assert_eq!((key.last_used_at_ms, key.last_used_service), (Some(5), None));
        tx.set_access_key_last_used("AKIAOLDOLDOLDOLDOLD1", 9, "sts", "eu-west-1").unwrap();
        tx.commit().unwrap();
        let key = store.read().unwrap().get_access_key("AKIAOLDOLDOLDOLDOLD1").unwrap().unwrap();
        assert_eq!(key.last_used_region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn opens_in_wal_with_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("h.db")).unwrap();
        let conn = store.writer.take().unwrap();
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
    }

    #[cfg(unix)]
    #[test]
    fn the_database_and_its_wal_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("h.db")).unwrap();
        let mut tx = store.begin().unwrap();
        tx.create_account(&crate::Account {
            mac: Vec::new(),
            id: "111122223333".into(),
            name: "a".into(),
            status: crate::AccountStatus::Active,
            created_at_ms: 1,
        })
        .unwrap();
        tx.commit().unwrap();
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let entry = entry.unwrap();
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            seen.push(entry.file_name().to_string_lossy().into_owned());
            assert_eq!(mode, 0o600, "{:?}", entry.file_name());
        }
        seen.sort();
        assert_eq!(seen, ["h.db", "h.db-shm", "h.db-wal"]);
    }
}
