//! A synchronous PostgreSQL connection: a `tokio_postgres` client whose connection is driven
//! by a current-thread runtime of its own, inside each call (as the `postgres` crate does), so
//! the store stays synchronous and is called from plain threads, never from an async task.
//!
//! What the `postgres` crate cannot do is pipelining: [`PgClient::begin_then_query`] sends a
//! transaction's `BEGIN` and its first statement together, one round trip for both.

use tokio::runtime::Runtime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Config, Error, NoTls, Row, Statement};

type Params<'p> = &'p [&'p (dyn ToSql + Sync)];

/// One connection and the runtime that drives it.
pub(super) struct PgClient {
    runtime: Runtime,
    client: tokio_postgres::Client,
}

/// How a connection attempt failed.
pub(super) enum ConnectError {
    /// The runtime could not be made (out of threads or file descriptors).
    Runtime(std::io::Error),
    Postgres(Error),
}

impl PgClient {
    /// Connects with `config` (its connect timeout applies).
    pub(super) fn connect(config: &Config) -> Result<Self, ConnectError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(ConnectError::Runtime)?;
        let (client, connection) =
            runtime.block_on(config.connect(NoTls)).map_err(ConnectError::Postgres)?;
        // The connection's task ends when the client is dropped or the socket closes; it runs
        // only while a call below blocks on the runtime, which is when there is work for it.
        // Its error, if any, reaches the client as a closed connection.
        runtime.spawn(async move {
            let _ = connection.await;
        });
        Ok(Self { runtime, client })
    }

    pub(super) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    pub(super) fn prepare(&mut self, sql: &str) -> Result<Statement, Error> {
        self.runtime.block_on(self.client.prepare(sql))
    }

    pub(super) fn query(
        &mut self,
        stmt: &Statement,
        params: Params<'_>,
    ) -> Result<Vec<Row>, Error> {
        self.runtime.block_on(self.client.query(stmt, params))
    }

    pub(super) fn execute(&mut self, stmt: &Statement, params: Params<'_>) -> Result<u64, Error> {
        self.runtime.block_on(self.client.execute(stmt, params))
    }

    /// Runs `sql` (one or more statements, no parameters) with the simple query protocol.
    pub(super) fn batch_execute(&mut self, sql: &str) -> Result<(), Error> {
        self.runtime.block_on(self.client.batch_execute(sql))
    }

    /// Prepares `sql` unnamed and runs it (for statements run once: migrations).
    pub(super) fn query_once(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>, Error> {
        self.runtime.block_on(self.client.query(sql, params))
    }

    /// Sends `begin` (a simple query) and then `stmt` with `params` without waiting between
    /// them: both go out in one write and their answers come back together. If `begin` fails,
    /// the statement still runs, outside any transaction: the caller sends only a statement
    /// that changes nothing when that happens (a read, or a lock that then ends with it), and
    /// discards its result.
    pub(super) fn begin_then_query(
        &mut self,
        begin: &str,
        stmt: &Statement,
        params: Params<'_>,
    ) -> (Result<(), Error>, Result<Vec<Row>, Error>) {
        let client = &self.client;
        self.runtime.block_on(async {
            // `join` polls the first future, which queues its messages, before the second:
            // the connection sends them in that order.
            futures_util::future::join(client.batch_execute(begin), client.query(stmt, params))
                .await
        })
    }
}
