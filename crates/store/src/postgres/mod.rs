//! The backend for several servers on one database: PostgreSQL through `tokio_postgres`, driven
//! synchronously ([`client`]), a fixed set of connections, `READ COMMITTED` writers that lock what they
//! read-modify-write (`SELECT ... FOR UPDATE` on the audit head row, and on records read with
//! [`crate::Tx::get_record_for_update`]), and `REPEATABLE READ READ ONLY` readers.
//!
//! Each connection runs its own small runtime; call the store from plain threads (the async
//! server uses its blocking pool), never from inside an async task. A transaction's `BEGIN`
//! goes out with its first statement, in one round trip.
//!
//! A dropped reader does not send its `ROLLBACK`: the connection's next transaction sends it
//! with its `BEGIN`, in one round trip, and [`Store::maintain`] sends it on connections left
//! idle with one pending for `PENDING_ROLLBACK_MAX` (an idle connection in a transaction
//! keeps its snapshot, which holds back vacuum, and its tables' `ACCESS SHARE` locks, which
//! hold back DDL). A PostgreSQL `idle_in_transaction_session_timeout` must stay above that.

mod client;
mod schema;
mod tx;

use crate::slots::Slot;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;
use tokio_postgres::{Config, Statement};

use client::{ConnectError, PgClient};

use crate::slots::Slots;
use crate::{ReadTx, Store, StoreError, Tx, SCHEMA_VERSION};

use tx::PgTx;

/// The advisory lock that serializes migrations of servers starting at once ("Hermetic").
const MIGRATION_LOCK: i64 = 0x4865_726d_6574_6963;

/// How long a free connection keeps a dropped reader's transaction open before
/// [`Store::maintain`] rolls it back.
const PENDING_ROLLBACK_MAX: Duration = Duration::from_secs(1);

/// How to connect a PostgreSQL store.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// A libpq-style URL or key-value string: `postgres://user@host:5432/db`.
    pub url: String,
    /// The schema to keep the tables in (created if missing); `None`: the server's default
    /// `search_path`.
    pub schema: Option<String>,
    /// How many connections the store keeps open (at least one). Read and write transactions
    /// share them, so a thread that holds one transaction while it starts another needs two.
    pub connections: usize,
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("PostgresOptions")
            .field("url", &"[redacted]")
            .field("schema", &self.schema)
            .field("connections", &self.connections)
            .finish()
    }
}

impl PostgresOptions {
    /// Options for `url` with the default schema and four connections.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), schema: None, connections: 4 }
    }
}

/// One pooled connection with its prepared statements.
pub(super) struct PgConn {
    client: PgClient,
    statements: HashMap<&'static str, Statement>,
    /// Set when a rollback failed: the connection's transaction state is unknown.
    broken: bool,
    /// When a read-only transaction on it was dropped without its `ROLLBACK`, which the
    /// connection's next `BEGIN` then carries (or [`PgConn::settle`] sends). Until then the
    /// connection is still in that transaction, with its snapshot.
    rollback_pending: Option<Instant>,
}

impl PgConn {
    fn open(config: &Config) -> Result<Self, StoreError> {
        let client = PgClient::connect(config).map_err(connect_err)?;
        Ok(Self { client, statements: HashMap::new(), broken: false, rollback_pending: None })
    }

    /// Ends the transaction a dropped reader left open, if there is one. If that fails the
    /// connection's state is unknown: it is marked broken, and replaced before its next use.
    fn settle(&mut self) -> Result<(), StoreError> {
        if self.rollback_pending.take().is_some() {
            if let Err(e) = self.client.batch_execute("ROLLBACK") {
                self.broken = true;
                return Err(pg_err(e));
            }
        }
        Ok(())
    }
}

/// The PostgreSQL store.
pub struct PostgresStore {
    config: Config,
    slots: Slots<PgConn>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("connections", &self.slots.len()).finish()
    }
}

impl PostgresStore {
    /// Connects with four connections in the default schema and migrates the database forward
    /// to [`SCHEMA_VERSION`].
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for a malformed URL; [`StoreError::SchemaTooNew`] if a newer
    /// build migrated the database; [`StoreError::Backend`] if it is unreachable or a
    /// migration fails.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(&PostgresOptions::new(url))
    }

    /// Connects with `options`; see [`PostgresStore::connect`].
    ///
    /// # Errors
    /// As [`PostgresStore::connect`], and [`StoreError::InvalidInput`] for a schema name that
    /// is not a plain identifier.
    pub fn connect_with(options: &PostgresOptions) -> Result<Self, StoreError> {
        let mut config = Config::from_str(&options.url)
            .map_err(|e| StoreError::InvalidInput(format!("postgres url: {e}")))?;
        // An `application_name` in the URL tells one node's connections from another's.
        if config.get_application_name().is_none() {
            config.application_name("hermetic");
        }
        config.connect_timeout(Duration::from_secs(10));
        if let Some(schema) = &options.schema {
            check_identifier(schema)?;
            // Create the schema if it is missing (several servers may race: tolerate that).
            let mut client = PgClient::connect(&config).map_err(connect_err)?;
            if let Err(e) = client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")) {
                let exists = e.code() == Some(&SqlState::UNIQUE_VIOLATION)
                    || e.code() == Some(&SqlState::DUPLICATE_SCHEMA);
                if !exists {
                    return Err(pg_err(e));
                }
            }
            config.options(format!("-c search_path={schema}"));
        }
        let slots = Slots::open(options.connections, || PgConn::open(&config))?;
        let store = Self { config, slots };
        store.migrate()?;
        Ok(store)
    }

    /// Applies any migrations the database lacks and returns its version; running it again
    /// changes nothing. Servers starting together take turns on an advisory lock.
    ///
    /// # Errors
    /// As [`PostgresStore::connect`].
    pub fn migrate(&self) -> Result<u32, StoreError> {
        let mut conn = self.take()?;
        conn.settle()?;
        loop {
            let step = migrate_once(&mut conn.client);
            if step.is_err() {
                // Its transaction may still be open: the connection is replaced before its
                // next use, which rolls it back.
                conn.broken = true;
            }
            if let Some(version) = step? {
                return Ok(version);
            }
        }
    }

    /// Takes a connection, replacing it first if it was closed or left in an unknown state. It
    /// may still be in a dropped reader's transaction: [`PgTx::begin`] ends that with its
    /// `BEGIN`, anything else calls [`PgConn::settle`] first.
    fn take(&self) -> Result<Slot<'_, PgConn>, StoreError> {
        let mut conn = self.slots.take()?;
        if conn.broken || conn.client.is_closed() {
            *conn = PgConn::open(&self.config)?;
        }
        Ok(conn)
    }
}

impl Store for PostgresStore {
    fn begin(&self) -> Result<Box<dyn Tx + '_>, StoreError> {
        Ok(Box::new(PgTx::begin(self.take()?, true)))
    }

    fn read(&self) -> Result<Box<dyn ReadTx + '_>, StoreError> {
        Ok(Box::new(PgTx::begin(self.take()?, false)))
    }

    fn schema_version(&self) -> Result<u32, StoreError> {
        let mut conn = self.take()?;
        conn.settle()?;
        read_version(&mut conn.client)
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn pool_stats(&self) -> Vec<crate::PoolStats> {
        vec![self.slots.stats("postgres")]
    }

    fn maintain(&self) {
        self.slots.for_each_free(|conn| {
            let stale =
                conn.rollback_pending.is_some_and(|at| at.elapsed() >= PENDING_ROLLBACK_MAX);
            if stale {
                // A connection whose rollback fails is marked broken by `settle`, and replaced
                // before its next use: nobody waits for this result.
                let _ = conn.settle();
            }
        });
    }
}

/// One step of [`PostgresStore::migrate`], in a transaction of its own under the migration
/// lock: the current version if there is nothing left to do (`Some`), else `None` once the
/// next migration is committed.
fn migrate_once(client: &mut PgClient) -> Result<Option<u32>, StoreError> {
    client.batch_execute("BEGIN").map_err(pg_err)?;
    client.query_once("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(pg_err)?;
    client.batch_execute(schema::VERSION_TABLE).map_err(pg_err)?;
    let current = read_version(client)?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew { found: current, supported: SCHEMA_VERSION });
    }
    if current == SCHEMA_VERSION {
        client.batch_execute("COMMIT").map_err(pg_err)?;
        return Ok(Some(current));
    }
    let step = usize::try_from(current)
        .ok()
        .and_then(|i| schema::MIGRATIONS.get(i))
        .ok_or_else(|| StoreError::Backend(format!("no migration from version {current}")))?;
    client.batch_execute(step).map_err(|e| {
        StoreError::Backend(format!("migration to version {}: {}", current + 1, describe(&e)))
    })?;
    client
        .query_once(
            "INSERT INTO schema_version (id, version) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            &[&(i64::from(current) + 1)],
        )
        .map_err(pg_err)?;
    client.batch_execute("COMMIT").map_err(pg_err)?;
    Ok(None)
}

/// The recorded schema version; 0 for a database that has none yet.
fn read_version(client: &mut PgClient) -> Result<u32, StoreError> {
    let rows = client
        .query_once("SELECT version FROM schema_version WHERE id = 1", &[])
        .map_err(pg_err)?;
    let v: i64 = match rows.first() {
        Some(row) => row.try_get(0).map_err(pg_err)?,
        None => 0,
    };
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("schema version {v}")))
}

/// A schema name must be a plain identifier: it goes into the connection's options unquoted.
fn check_identifier(name: &str) -> Result<(), StoreError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if first_ok && rest_ok && name.len() <= 63 {
        Ok(())
    } else {
        Err(StoreError::InvalidInput(format!("schema name `{name}` is not a plain identifier")))
    }
}

/// The error's SQLSTATE and message (the client's own `Display` says only "db error").
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Maps a PostgreSQL error to what it means for the caller.
pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => StoreError::Conflict,
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => StoreError::Conflict,
        Some(c) if *c == SqlState::LOCK_NOT_AVAILABLE => StoreError::Busy,
        Some(c) if *c == SqlState::TOO_MANY_CONNECTIONS => StoreError::Busy,
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::AlreadyExists,
        _ => StoreError::Backend(describe(&e)),
    }
}

/// Maps a failed connection attempt.
fn connect_err(e: ConnectError) -> StoreError {
    match e {
        ConnectError::Postgres(e) => pg_err(e),
        ConnectError::Runtime(e) => {
            StoreError::Backend(format!("postgres connection runtime: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_version_matches_the_migrations() {
        assert_eq!(usize::try_from(SCHEMA_VERSION).unwrap(), schema::MIGRATIONS.len());
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(check_identifier("hermetic_1").is_ok());
        assert!(check_identifier("_x").is_ok());
        assert!(check_identifier("").is_err());
        assert!(check_identifier("1x").is_err());
        assert!(check_identifier("a b").is_err());
        assert!(check_identifier("a;drop").is_err());
        assert!(check_identifier(&"a".repeat(64)).is_err());
    }

    #[test]
    fn options_hide_the_url() {
        let o = PostgresOptions::new("postgres://u:secret@h/db");
        assert!(!format!("{o:?}").contains("secret"));
    }
}
