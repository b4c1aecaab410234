//! What an operator sees of a running server without seeing its tenants' data: Prometheus
//! metrics, health and readiness on a listener of their own (`--metrics-listen`), and log lines
//! on stderr (decision 019).
//!
//! - [`exposition`]: the text format, histograms with fixed buckets.
//! - [`metrics`]: what is measured; labels only from fixed sets.
//! - [`listener`]: `GET /metrics`, `/healthz`, `/readyz`.
//! - [`logs`]: `tracing` on stderr as text or JSON; what a log line may say.

pub mod exposition;
pub mod listener;
pub mod logs;
pub mod metrics;

pub use metrics::{Metrics, Outcome, RequestLabels};

use crate::config::Config;
use crate::protocol::payload;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::Duration;

/// How long the store has to answer a readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Readiness probes at most in flight at once (a store that hangs holds each for up to the
/// store's own wait): more are answered `store` at once.
const MAX_PROBES: usize = 4;

/// The store and blob store a server serves from, held weakly.
type Serving = (Weak<dyn store::Store>, Weak<dyn store::BlobStore>);

/// What the metrics listener reports, for the whole life of the process (across seals): the
/// measurements, whether the server is sealed, and the store it serves from while its main
/// listener is bound.
pub struct Observer {
    /// The measurements; the server's state shares them.
    pub metrics: Arc<Metrics>,
    sealed: AtomicBool,
    /// The store and the blob store, while the main listener is bound (weak: sealing drops
    /// them, and their keys).
    serving: RwLock<Option<Serving>>,
    probes: AtomicUsize,
    /// `sqlite` or `postgres`.
    store_kind: &'static str,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer")
            .field("sealed", &self.sealed.load(Ordering::Relaxed))
            .field("store_kind", &self.store_kind)
            .finish_non_exhaustive()
    }
}

/// Why a server is not ready: the word `/readyz` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotReady {
    /// Waiting for its custodians' shares (Shamir).
    Sealed,
    /// Its store is not open yet, its main listener not bound, or the store did not answer
    /// within two seconds.
    Store,
    /// Its blob store did not answer within two seconds.
    Blobs,
}

impl NotReady {
    /// The reason word.
    pub fn as_str(self) -> &'static str {
        match self {
            NotReady::Sealed => "sealed",
            NotReady::Store => "store",
            NotReady::Blobs => "blobs",
        }
    }
}

impl Observer {
    /// The observer of a server started with `config`: sealed from the start with the Shamir
    /// root of trust, serving nothing yet.
    pub fn new(config: &Config) -> Observer {
        Observer {
            metrics: Arc::default(),
            sealed: AtomicBool::new(config.shamir),
            serving: RwLock::new(None),
            probes: AtomicUsize::new(0),
            store_kind: if config.database_url.is_some() { "postgres" } else { "sqlite" },
        }
    }

    /// Whether the server waits for its custodians.
    pub fn set_sealed(&self, sealed: bool) {
        self.sealed.store(sealed, Ordering::Relaxed);
    }

    /// The store and blob store the server serves from once its main listener is bound;
    /// `None` when it stops.
    pub(crate) fn set_serving(
        &self,
        serving: Option<(&Arc<dyn store::Store>, &Arc<dyn store::BlobStore>)>,
    ) {
        #![allow(clippy::type_complexity)]
        *self.serving.write().unwrap_or_else(PoisonError::into_inner) =
            serving.map(|(store, blobs)| (Arc::downgrade(store), Arc::downgrade(blobs)));
    }

    fn store(&self) -> Option<Arc<dyn store::Store>> {
        let serving = self.serving.read().unwrap_or_else(PoisonError::into_inner);
        serving.as_ref().and_then(|(store, _)| store.upgrade())
    }

    fn blobs(&self) -> Option<Arc<dyn store::BlobStore>> {
        let serving = self.serving.read().unwrap_or_else(PoisonError::into_inner);
        serving.as_ref().and_then(|(_, blobs)| blobs.upgrade())
    }

    /// Whether the server is ready: unsealed, listening, its store answers `schema_version()`
    /// and its blob store a probe (an S3 listing of at most one key) within two seconds
    /// (asked on a thread of its own: the PostgreSQL client cannot run on a runtime's thread).
    pub async fn readiness(self: &Arc<Self>) -> Result<(), NotReady> {
        if self.sealed.load(Ordering::Relaxed) {
            return Err(NotReady::Sealed);
        }
        let store = self.store().ok_or(NotReady::Store)?;
        let blobs = self.blobs().ok_or(NotReady::Store)?;
        if self.probes.fetch_add(1, Ordering::AcqRel) >= MAX_PROBES {
            self.probes.fetch_sub(1, Ordering::AcqRel);
            return Err(NotReady::Store);
        }
        let (done, answer) = tokio::sync::oneshot::channel();
        let observer = self.clone();
        let spawned = std::thread::Builder::new().name("readyz".into()).spawn(move || {
            let answered = if store.schema_version().is_err() {
                Err(NotReady::Store)
            } else if blobs.probe().is_err() {
                Err(NotReady::Blobs)
            } else {
                Ok(())
            };
            drop((store, blobs));
            observer.probes.fetch_sub(1, Ordering::AcqRel);
            let _ = done.send(answered);
        });
        if spawned.is_err() {
            self.probes.fetch_sub(1, Ordering::AcqRel);
            return Err(NotReady::Store);
        }
        match tokio::time::timeout(PROBE_TIMEOUT, answer).await {
            Ok(Ok(answered)) => answered,
            _ => Err(NotReady::Store),
        }
    }

    /// The exposition of one scrape: the registry's families, the store's pools, whether the
    /// server is sealed, its streaming slots, and what build it is.
    pub fn render(&self) -> String {
        let mut out = exposition::Exposition::new();
        self.metrics.render(&mut out);
        let pools = self.store().map(|s| s.pool_stats()).unwrap_or_default();
        out.family(
            "store_pool_wait_seconds",
            exposition::Kind::Histogram,
            "Time spent waiting for a store connection, by pool (read, write, postgres).",
        );
        for stats in &pools {
            let snapshot = exposition::HistogramSnapshot::from(stats.clone());
            out.histogram(
                "store_pool_wait_seconds",
                &[("pool", pool_label(stats.pool))],
                &snapshot,
            );
        }
        out.family(
            "store_pool_timeouts_total",
            exposition::Kind::Counter,
            "Waits for a store connection that gave up (the request failed), by pool.",
        );
        for stats in &pools {
            out.count(
                "store_pool_timeouts_total",
                &[("pool", pool_label(stats.pool))],
                stats.timeouts,
            );
        }
        let blobs = self.blobs();
        let (backend, stats) = blobs
            .as_ref()
            .map_or(("none", store::BlobStats::default()), |b| (b.backend(), b.stats()));
        for (name, help, value) in [
            (
                "blob_bytes_written_total",
                "Bytes written to the blob store (ciphertext).",
                stats.bytes_written,
            ),
            (
                "blob_bytes_read_total",
                "Bytes read from the blob store (ciphertext).",
                stats.bytes_read,
            ),
            (
                "blob_requests_total",
                "Requests to the blob store (S3 requests, or file operations).",
                stats.requests,
            ),
            ("blob_request_errors_total", "Requests to the blob store that failed.", stats.errors),
        ] {
            out.counter(name, help, value);
        }
        out.gauge(
            "sealed",
            "1 while the server waits for its custodians' shares (Shamir), else 0.",
            if self.sealed.load(Ordering::Relaxed) { 1.0 } else { 0.0 },
        );
        out.gauge(
            "streams_in_use",
            "Request bodies streaming now (large S3 uploads), each holding one of hermetic_streams_max slots.",
            whole(payload::streams_in_use()),
        );
        out.gauge(
            "streams_max",
            "Request bodies that may stream at once; one more waits for a slot, then is answered SlowDown.",
            whole(payload::MAX_STREAMS),
        );
        out.family(
            "build_info",
            exposition::Kind::Gauge,
            "Always 1: the build, its store and its blob store (none while not serving).",
        );
        out.sample(
            "build_info",
            &[
                ("version", env!("CARGO_PKG_VERSION")),
                ("store", self.store_kind),
                ("blob_backend", backend),
            ],
            1.0,
        );
        out.finish()
    }
}

/// A count as a sample's value (a count past `u32::MAX` is written as that).
fn whole(n: usize) -> f64 {
    f64::from(u32::try_from(n).unwrap_or(u32::MAX))
}

/// A pool's label: one of `read`, `write`, `postgres`, else `other`.
fn pool_label(pool: &str) -> &'static str {
    ["read", "write", "postgres"].into_iter().find(|p| *p == pool).unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sample line's name starts with `hermetic_`, and every family has HELP and TYPE.
    #[test]
    fn a_scrape_is_prometheus_text_with_the_prefix() {
        let observer = Observer::new(&Config::default());
        observer.metrics.request(
            RequestLabels { service: "s3", operation: "PutObject" },
            Outcome::Ok,
            Duration::from_millis(1),
        );
        let text = observer.render();
        let mut families = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                families.push(rest.split(' ').next().unwrap().to_string());
                continue;
            }
            if line.starts_with('#') {
                assert!(line.starts_with("# HELP hermetic_"), "{line}");
                continue;
            }
            assert!(line.starts_with("hermetic_"), "{line}");
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
        for family in &families {
            assert!(text.contains(&format!("# HELP {family} ")), "{family}");
        }
        assert!(text.contains("hermetic_sealed 0\n"));
        // No body streams in this test binary's process: every slot is free.
        assert!(text.contains("# TYPE hermetic_streams_in_use gauge\n"), "{text}");
        assert!(text.contains("hermetic_streams_in_use 0\n"), "{text}");
        assert!(text.contains("# TYPE hermetic_streams_max gauge\n"), "{text}");
        assert!(text.contains("hermetic_streams_max 8\n"), "{text}");
        assert!(text.contains("hermetic_build_info{version=\""), "{text}");
        assert!(text.contains("store=\"sqlite\",blob_backend=\"none\"} 1\n"), "{text}");
    }

    #[tokio::test]
    async fn a_sealed_server_is_not_ready_and_names_why() {
        let config = Config { shamir: true, ..Config::default() };
        let observer = Arc::new(Observer::new(&config));
        assert_eq!(observer.readiness().await, Err(NotReady::Sealed));
        assert!(observer.render().contains("hermetic_sealed 1\n"));
        observer.set_sealed(false);
        // Unsealed, but no store serves yet.
        assert_eq!(observer.readiness().await, Err(NotReady::Store));
    }

    #[tokio::test]
    async fn a_store_that_answers_makes_the_server_ready() {
        let dir = std::env::temp_dir().join(format!(
            "hermetic-observe-{}-{}",
            std::process::id(),
            crate::support::ids::uuid()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store: Arc<dyn store::Store> =
            Arc::new(store::SqliteStore::open(dir.join("hermetic.db")).unwrap());
        let observer = Arc::new(Observer::new(&Config::default()));
        let blobs: Arc<dyn store::BlobStore> = Arc::new(store::LocalBlobs::new(dir.join("blobs")));
        observer.set_serving(Some((&store, &blobs)));
        assert_eq!(observer.readiness().await, Ok(()));
        let text = observer.render();
        assert!(text.contains("hermetic_store_pool_wait_seconds_count{pool=\"read\"}"), "{text}");
        assert!(text.contains("hermetic_store_pool_timeouts_total{pool=\"write\"} 0\n"), "{text}");
        assert!(text.contains("hermetic_blob_bytes_written_total 0\n"), "{text}");
        assert!(text.contains("blob_backend=\"local\""), "{text}");
        // Dropped (sealed, or stopped): the observer keeps nothing alive.
        drop(store);
        assert_eq!(observer.readiness().await, Err(NotReady::Store));
        observer.set_serving(None);
        assert!(!observer.render().contains("pool=\"read\""));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
