//! The listener: TLS, HTTP/1.1 connections, background tasks, graceful shutdown.

use crate::bootstrap;
use crate::config::Config;
use crate::pipeline::identity::Keys;
use crate::pipeline::{handle, State, TlsSession};
use crate::support::time::now_ms;
use audit::note::SigningKey;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Data directory trouble.
    #[error(transparent)]
    Bootstrap(#[from] bootstrap::BootstrapError),
    /// The store could not be opened.
    #[error("cannot open the store: {0}")]
    Store(#[from] store::StoreError),
    /// The rows' MAC key cannot be had.
    #[error(transparent)]
    RowKey(#[from] crate::row_macs::RowKeyError),
    /// The Shamir root of trust cannot be used.
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultError),
    /// The blob store cannot be reached.
    #[error("cannot use the blob store: {0}")]
    Blobs(String),
    /// The TLS certificate or key cannot be used.
    #[error("tls: {0}")]
    Tls(String),
    /// Listening failed.
    #[error("cannot listen on `{addr}`: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The error.
        source: std::io::Error,
    },
}

/// What a server is made of, before it listens.
pub(crate) type Parts = (
    Config,
    Keys,
    Arc<dyn store::Store>,
    bootstrap::Root,
    crate::pipeline::group_commit::AuditWriter,
    crate::support::pool::Pool,
    crate::support::account_keys::AccountKeys,
    Arc<SigningKey>,
    Arc<dyn store::BlobStore>,
    Arc<crate::observe::Metrics>,
);

/// Opens the blob store the configuration names; an S3 bucket must answer (a listing of one
/// key) before the server serves.
async fn open_blobs(
    config: &Config,
    pool: &crate::support::pool::Pool,
) -> Result<Arc<dyn store::BlobStore>, ServeError> {
    match &config.blob_store {
        crate::config::BlobStoreConfig::Local => {
            Ok(Arc::new(store::LocalBlobs::new(config.data_dir.join("blobs"))))
        }
        crate::config::BlobStoreConfig::S3(options) => {
            let blobs: Arc<dyn store::BlobStore> = Arc::new(
                store::S3Blobs::new(options).map_err(|e| ServeError::Blobs(e.to_string()))?,
            );
            let probe = blobs.clone();
            let bucket = options.bucket.clone();
            pool.run(move || probe.probe())
                .await
                .ok_or_else(|| ServeError::Blobs("the store thread failed".into()))?
                .map_err(|e| ServeError::Blobs(format!("bucket {bucket}: {e}")))?;
            Ok(blobs)
        }
    }
}

/// The store `config` names: PostgreSQL at its database URL with `connections` connections,
/// else SQLite in its data directory. Blocking: run it on a store thread
/// ([`crate::support::pool::Pool`]), never on one tokio drives.
fn open_store(
    config: &Config,
    connections: usize,
) -> Result<Arc<dyn store::Store>, store::StoreError> {
    Ok(match &config.database_url {
        Some(url) => Arc::new(store::PostgresStore::connect_with(&store::PostgresOptions {
            url: url.clone(),
            schema: config.database_schema.clone(),
            connections,
        })?),
        None => Arc::new(store::SqliteStore::open(config.data_dir.join("hermetic.db"))?),
    })
}

/// How often the housekeeping thread calls [`store::Store::maintain`].
const MAINTAIN_EVERY: Duration = Duration::from_millis(500);

/// Starts the store's housekeeping ([`store::Store::maintain`]) on a thread of its own, every
/// [`MAINTAIN_EVERY`] until the store is gone (the server stopped): nothing a request or the
/// audit writer waits for (a lock a migration's DDL requested, behind a connection that still
/// owes a reader's rollback) holds it back.
fn start_housekeeping(store: &Arc<dyn store::Store>) {
    let store = Arc::downgrade(store);
    std::thread::Builder::new()
        .name("store-maintain".into())
        .spawn(move || loop {
            std::thread::sleep(MAINTAIN_EVERY);
            match store.upgrade() {
                Some(store) => store.maintain(),
                None => return,
            }
        })
        .ok();
}

fn thread_failed() -> ServeError {
    ServeError::Store(store::StoreError::Backend("the store thread failed".into()))
}

/// Opens the store and, under the root of trust, what the data directory and the database keep
/// (the rows' MAC key, the operator's key, the checkpoint key), and starts the audit writer:
/// everything a server needs but its listener.
pub(crate) async fn open(
    config: Config,
    root: bootstrap::Root,
    metrics: Arc<crate::observe::Metrics>,
) -> Result<(Parts, bootstrap::OperatorCredentials), ServeError> {
    // The data directory was made private by `bootstrap::prepare` before the root was opened.
    // A store thread per PostgreSQL connection, so that every connection can be busy, and no
    // more (`support::pool`); streamed bodies have lanes of their own.
    let pool = {
        use crate::support::pool::{Pool, DOWNLOAD_THREADS, STORE_THREADS};
        Pool::with_lanes(
            STORE_THREADS.max(config.database_connections),
            crate::protocol::payload::MAX_STREAMS,
            DOWNLOAD_THREADS,
        )
    };
    // The blob store first: a store dropped here on a later error would block this runtime.
    let blobs = open_blobs(&config, &pool).await?;
    let store: Arc<dyn store::Store> = {
        let config = config.clone();
        let connections = config.database_connections.max(1);
        pool.run(move || open_store(&config, connections)).await.ok_or_else(thread_failed)??
    };
    // Every row read is checked against its MAC from here on; a database that predates MACs
    // has its rows bound once, and each account whose rows were bound is told in its log.
    // (The store moves to the store thread: no handle of it stays here, where dropping it on
    // an error would block the runtime.)
    let (root, authenticated) = {
        pool.run(move || {
            let now = crate::support::time::now_ms();
            let unchecked = store.clone();
            let authenticated = crate::row_macs::authenticate(store, root.as_ref(), now).and_then(
                |(store, bound)| {
                    // Every account has its sealing key, opened, before anything is recorded.
                    let account_keys = crate::support::account_keys::AccountKeys::open_all(
                        store.as_ref(),
                        unchecked.as_ref(),
                        root.as_ref(),
                        now,
                    )?;
                    Ok((store, bound, account_keys))
                },
            );
            (root, authenticated)
        })
        .await
        .ok_or_else(thread_failed)?
    };
    let (store, bound, account_keys) = authenticated?;
    for (account, rows) in
        bound.iter().filter(|(a, _)| *a != crate::pipeline::identity::OPERATOR_ACCOUNT)
    {
        tracing::info!(account = %account, rows, "bound stored rows to their MACs");
    }
    // The operator's key and the checkpoint key: the database's (one for every node on it),
    // made by the first start, checked against their MACs.
    // The store moves to the store thread and back: on an error it is dropped there (the
    // PostgreSQL client must not be dropped on a runtime's thread).
    let (store, creds, checkpoint_key) = {
        let (root, data_dir) = (root.clone(), config.data_dir.clone());
        pool.run(move || -> Result<_, ServeError> {
            let now = now_ms();
            let creds =
                bootstrap::operator_credentials(store.as_ref(), root.as_ref(), &data_dir, now)?;
            let key = crate::checkpoints::load_or_create_key(store.as_ref(), &root, &data_dir, now)
                .map_err(bootstrap::BootstrapError::CheckpointKey)?;
            Ok((store, creds, key))
        })
        .await
        .ok_or_else(thread_failed)??
    };
    let keys = Keys::default();
    keys.insert(&creds.access_key_id, bootstrap::operator_key(&creds));
    let checkpoint_key = Arc::new(checkpoint_key);
    let audit = crate::pipeline::group_commit::AuditWriter::start(store.clone(), metrics.clone());
    start_housekeeping(&store);
    Ok((
        (config, keys, store, root, audit, pool, account_keys, checkpoint_key, blobs, metrics),
        creds,
    ))
}

/// Serves until `shutdown` completes; in-flight requests finish first.
///
/// With the Shamir root of trust the server starts sealed: it serves nothing (not even its
/// listener is bound) until custodians unseal it, and a custodian's `hermetic seal` stops
/// serving and drops every key, back to sealed; `ready` is called each time serving starts.
///
/// With `metrics_listen`, the metrics listener ([`crate::observe::listener`]) is bound first,
/// before any unseal, and serves until the end; its address is said on stdout once, as
/// `hermetic metrics on ADDR`: after `ready`'s first lines, or, sealed, after the first
/// `hermetic sealed: ...` line.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()>,
    mut ready: impl FnMut(std::net::SocketAddr, &bootstrap::OperatorCredentials),
) -> Result<(), ServeError> {
    tokio::pin!(shutdown);
    bootstrap::prepare(&config.data_dir)?;
    let observer = Arc::new(crate::observe::Observer::new(&config));
    let announce = std::cell::Cell::new(None);
    let _metrics_listener = match config.metrics_listen {
        Some(addr) => {
            let (listener, bound) = crate::observe::listener::bind(addr).await?;
            announce.set(Some(bound));
            Some(AbortOnDrop(crate::observe::listener::spawn(listener, observer.clone())))
        }
        None => None,
    };
    let say_metrics = || {
        if let Some(addr) = announce.take() {
            say(&format!("hermetic metrics on {addr}"));
        }
    };
    let mut ready = |addr: std::net::SocketAddr, creds: &bootstrap::OperatorCredentials| {
        ready(addr, creds);
        say_metrics();
    };
    let node: Arc<str> = Arc::from(bootstrap::node_id(&config.data_dir)?);
    if !config.shamir {
        let root = bootstrap::open_root(
            &config.data_dir,
            config.root_key_file.as_deref(),
            config.pkcs11.as_ref(),
        )?;
        let stop = async {
            (&mut shutdown).await;
            Stop::Shutdown
        };
        serve_unsealed(config, root, &node, stop, &mut ready, &observer).await?;
        return Ok(());
    }
    // The Shamir setup: the database's when there is one (every node on it reads the same),
    // read before anything is unsealed (it is not authenticated: see `vault`).
    let setup = {
        let config = config.clone();
        crate::support::pool::Pool::new(1)
            .run(move || -> Result<crate::vault::Setup, ServeError> {
                let store = match config.database_url {
                    Some(_) => Some(open_store(&config, 1)?),
                    None => None,
                };
                Ok(crate::vault::load_setup(&config.data_dir, store.as_deref())?)
            })
            .await
            .ok_or_else(thread_failed)??
    };
    let mut vault = crate::vault::Vault::open(&config.data_dir, &setup)?;
    loop {
        observer.set_sealed(true);
        say(&format!(
            "hermetic sealed: waiting for {} custodians' shares (hermetic unseal --data-dir {})",
            vault.threshold,
            config.data_dir.display()
        ));
        say_metrics();
        let root = tokio::select! {
            root = vault.unsealed() => root?,
            () = &mut shutdown => return Ok(()),
        };
        observer.set_sealed(false);
        let stop = async {
            tokio::select! {
                () = &mut shutdown => Stop::Shutdown,
                () = vault.seal_requested() => Stop::Seal,
            }
        };
        if serve_unsealed(
            config.clone(),
            std::sync::Arc::new(root),
            &node,
            stop,
            &mut ready,
            &observer,
        )
        .await?
            == Stop::Shutdown
        {
            return Ok(());
        }
        // Sealed: everything `serve_unsealed` held (the root key, the rows' MAC key, the
        // store) is dropped and zeroized by now.
    }
}

/// Writes one line on stdout, flushed. A closed stdout (the reader went away) must not stop
/// the server.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Aborts a task when dropped (the metrics listener, when [`run`] ends).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Why serving stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// The process is shutting down.
    Shutdown,
    /// A custodian sealed the server.
    Seal,
}

/// How many of a task's intervals its lease lasts: the holder renews it at every tick, and
/// another node takes over within this many intervals of the holder stopping (at once when it
/// stops gracefully: it gives its leases up).
const LEASE_INTERVALS: u32 = 3;

/// The leases on background work, one node at a time each.
mod lease {
    pub(super) const KMS_ROTATION: &str = "kms-rotation";
    pub(super) const TRAIL_DELIVERY: &str = "trail-delivery";
    pub(super) const TRAIL_DIGESTS: &str = "trail-digests";
    pub(super) const BLOB_SWEEP: &str = "blob-sweep";
    pub(super) const BLOB_DELETE: &str = "blob-delete";
    pub(super) const S3_LIFECYCLE: &str = "s3-lifecycle";
    /// Every one of them, which a node stopping gracefully gives up.
    pub(super) const ALL: [&str; 6] =
        [KMS_ROTATION, TRAIL_DELIVERY, TRAIL_DIGESTS, BLOB_SWEEP, BLOB_DELETE, S3_LIFECYCLE];
}

/// Gives up the leases node `node` holds (its background tasks have stopped), so that another
/// node takes the work over at its next tick. A failure leaves them to expire.
async fn release_leases(state: &Arc<State>, node: &Arc<str>) {
    let (store, node) = (state.store.clone(), node.clone());
    let released = state
        .pool
        .run(move || {
            store::with_retries(store.as_ref(), 3, |tx| {
                lease::ALL.iter().try_for_each(|name| tx.release_lease(name, &node))
            })
        })
        .await;
    if !matches!(released, Some(Ok(()))) {
        tracing::warn!("the node's leases on background work could not be released; they expire");
    }
}

/// Whether node `node` holds the lease `name` on a task run every `every` (taking it when it
/// is free or expired, extending it when it is this node's). Leases only keep the task's
/// work to one node at a time; each task is safe run by several at once, so a store failure
/// answers no and the task waits for its next tick.
async fn holds_lease(
    state: &Arc<State>,
    node: &Arc<str>,
    name: &'static str,
    every: Duration,
) -> bool {
    let ttl_ms =
        i64::try_from(every.saturating_mul(LEASE_INTERVALS).as_millis()).unwrap_or(i64::MAX);
    let (store, node) = (state.store.clone(), node.clone());
    state
        .pool
        .run(move || {
            store::with_retries(store.as_ref(), 3, |tx| tx.try_lease(name, &node, now_ms(), ttl_ms))
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
}

/// Opens the store with `root` and serves until `stop`; `node` is this node's id, the holder of
/// its leases on background work; `observer` sees the store while the listener is bound.
async fn serve_unsealed(
    config: Config,
    root: bootstrap::Root,
    node: &Arc<str>,
    stop: impl Future<Output = Stop>,
    ready: &mut impl FnMut(std::net::SocketAddr, &bootstrap::OperatorCredentials),
    observer: &crate::observe::Observer,
) -> Result<Stop, ServeError> {
    let (opened, creds) = open(config, root, observer.metrics.clone()).await?;
    let (config, keys, store, root, audit, pool, account_keys, checkpoint_key, blobs, metrics) =
        opened;
    let witnesses = Arc::new(crate::checkpoints::Witnesses::new(
        config.witnesses.clone(),
        config.witness_quorum,
    ));
    let mut tasks = Vec::new();
    {
        // Signed checkpoints at least once per interval.
        let (store, key, every, pool, witnesses, metrics) = (
            store.clone(),
            checkpoint_key.clone(),
            config.checkpoint_interval,
            pool.clone(),
            witnesses.clone(),
            metrics.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let (store, key, witnesses) = (store.clone(), key.clone(), witnesses.clone());
                let pass = pool
                    .run(move || {
                        let now = now_ms();
                        let pass = crate::checkpoints::checkpoint_pass(
                            store.as_ref(),
                            &key,
                            &witnesses,
                            now,
                        );
                        (now, pass)
                    })
                    .await;
                if let Some((now, Ok(pass))) = pass {
                    metrics.checkpoint_pass(now, pass.uncovered_since_ms);
                }
            }
        }));
    }
    let tls = match &config.tls {
        Some((cert, key)) => Some(tls_acceptor(cert, key)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    let state = Arc::new(State::new((
        config,
        keys,
        store,
        root,
        audit,
        pool,
        account_keys,
        checkpoint_key.clone(),
        blobs,
        metrics,
    )));
    // Ready (to `/readyz`) before the listening line is said, which tests and scripts wait for.
    observer.set_serving(Some((&state.store, &state.blobs)));
    ready(addr, &creds);
    {
        // As often as checkpoints are written: KMS keys due for automatic rotation, held
        // operations whose sessions were approved but have not run (the server stopped
        // before, or failed itself), the first time at start, by the node holding the lease;
        // and on every node, S3 Bucket Keys past their lifetime dropped from its memory even
        // where no request touches them.
        let (state, every, node) = (state.clone(), state.config.checkpoint_interval, node.clone());
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let held = holds_lease(&state, &node, lease::KMS_ROTATION, every).await;
                let inner = state.clone();
                let pending = state
                    .pool
                    .run(move || {
                        inner.bucket_keys.purge(now_ms());
                        let mut pending = Vec::new();
                        if held {
                            let _ = crate::services::kms::rotate_due(&inner, now_ms());
                            crate::services::mpa::protected::sweep(&inner, &mut pending);
                        }
                        pending
                    })
                    .await
                    .unwrap_or_default();
                let _ = crate::pipeline::record(&state, pending).await;
            }
        }));
    }
    for digest in [false, true] {
        // Trails' files: their events every delivery interval, their signed digests every
        // digest interval.
        let every = if digest { state.config.trail_digest } else { state.config.trail_delivery };
        let lease = if digest { lease::TRAIL_DIGESTS } else { lease::TRAIL_DELIVERY };
        let (state, node) = (state.clone(), node.clone());
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if holds_lease(&state, &node, lease, every).await {
                    crate::services::cloudtrail::delivery::pass(&state, digest).await;
                }
            }
        }));
    }
    {
        // Blobs no record names (a crash mid-upload), swept at start and then every half
        // grace period (at most hourly).
        let grace = state.config.blob_grace;
        let every = (grace / 2).clamp(Duration::from_secs(1), Duration::from_secs(3600));
        let (state, node) = (state.clone(), node.clone());
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if !holds_lease(&state, &node, lease::BLOB_SWEEP, every).await {
                    continue;
                }
                let inner = state.clone();
                let now = std::time::SystemTime::now();
                let _ = state
                    .pool
                    .run(move || crate::services::s3::sweep::sweep(&inner, now, grace))
                    .await;
            }
        }));
    }
    if state.blobs.deferred_deletion() {
        // Blobs commits dropped from a blob store that keeps them for the read grace (S3),
        // deleted once it has passed.
        let grace = state.config.blob_read_grace;
        let every = (grace / 3).clamp(Duration::from_secs(1), Duration::from_secs(300));
        let (state, node) = (state.clone(), node.clone());
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if !holds_lease(&state, &node, lease::BLOB_DELETE, every).await {
                    continue;
                }
                let inner = state.clone();
                let _ = state
                    .pool
                    .run(move || {
                        crate::services::s3::sweep::delete_dropped(&inner, now_ms(), grace)
                    })
                    .await;
            }
        }));
    }
    {
        // Buckets' lifecycle rules, applied at start and then every lifecycle interval.
        let every = state.config.lifecycle_interval.max(Duration::from_secs(1));
        let day_ms =
            i64::try_from(state.config.lifecycle_day.as_millis()).unwrap_or(i64::MAX).max(1);
        let (state, node) = (state.clone(), node.clone());
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if !holds_lease(&state, &node, lease::S3_LIFECYCLE, every).await {
                    continue;
                }
                let inner = state.clone();
                let _ = state
                    .pool
                    .run(move || crate::services::s3::lifecycle::pass(&inner, now_ms(), day_ms))
                    .await;
            }
        }));
    }
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(stop);
    let reason = loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let state = state.clone();
                let service = move |session: Option<Arc<TlsSession>>| {
                    hyper::service::service_fn(move |req| {
                        let (state, session) = (state.clone(), session.clone());
                        async move {
                            Ok::<_, std::convert::Infallible>(handle(state, req, peer, session).await)
                        }
                    })
                };
                let watcher = graceful.watcher();
                match tls.clone() {
                    None => {
                        let conn = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service(None));
                        tokio::spawn(async move {
                            let _ = watcher.watch(conn).await;
                        });
                    }
                    Some(acceptor) => {
                        tokio::spawn(async move {
                            // A failed handshake is the client's problem; nothing was requested.
                            let Ok(stream) = acceptor.accept(stream).await else { return };
                            let (_, connection) = stream.get_ref();
                            let session = TlsSession {
                                version: match connection.protocol_version() {
                                    Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".into(),
                                    Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".into(),
                                    Some(other) => format!("{other:?}"),
                                    None => String::new(),
                                },
                                cipher_suite: connection
                                    .negotiated_cipher_suite()
                                    .and_then(|c| c.suite().as_str())
                                    .unwrap_or_default()
                                    .to_string(),
                            };
                            let conn = hyper::server::conn::http1::Builder::new().serve_connection(
                                hyper_util::rt::TokioIo::new(stream),
                                service(Some(Arc::new(session))),
                            );
                            let _ = watcher.watch(conn).await;
                        });
                    }
                }
            }
            reason = &mut stop => break reason,
        }
    };
    drop(listener);
    observer.set_serving(None);
    graceful.shutdown().await;
    // A last checkpoint covers everything answered before shutdown.
    let (store, key) = (state.store.clone(), checkpoint_key.clone());
    let _ = state
        .pool
        .run(move || crate::checkpoints::checkpoint_all(store.as_ref(), &key, &witnesses, now_ms()))
        .await;
    for task in tasks {
        task.abort();
        let _ = task.await;
    }
    release_leases(&state, node).await;
    Ok(reason)
}

fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor, ServeError> {
    let bad = |what: String| ServeError::Tls(what);
    let certs: Vec<_> = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(cert).map_err(|e| bad(format!("{}: {e}", cert.display())))?,
    ))
    .collect::<Result<_, _>>()
    .map_err(|e| bad(format!("{}: {e}", cert.display())))?;
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(key).map_err(|e| bad(format!("{}: {e}", key.display())))?,
    ))
    .map_err(|e| bad(format!("{}: {e}", key.display())))?
    .ok_or_else(|| bad(format!("{}: no private key", key.display())))?;
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| bad(e.to_string()))?;
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

/// Serves until SIGINT or SIGTERM, printing where it listens and where the operator's
/// credentials are (never the secret itself).
pub fn serve(config: Config) -> Result<(), ServeError> {
    crate::observe::logs::init(config.log_format, &config.log_level);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    // The signals are taken before the server says it listens: a SIGTERM that follows at once
    // stops it gracefully (its last checkpoint written), never by the default action.
    let signals = runtime.block_on(async { Signals::take() });
    runtime.block_on(run(config, signals.wait(), |addr, creds| {
        say(&format!(
            "hermetic listening on {scheme}://{addr}\noperator credentials: {} ({})",
            creds.path.display(),
            creds.file.as_str()
        ));
    }))
}

/// SIGTERM and SIGINT, registered (unix; elsewhere Ctrl-C, registered when awaited).
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn take() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Signals {
                term: signal(SignalKind::terminate()).ok(),
                interrupt: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            let (Some(mut term), Some(mut interrupt)) = (self.term, self.interrupt) else {
                let _ = tokio::signal::ctrl_c().await;
                return;
            };
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
