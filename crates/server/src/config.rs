//! Server settings.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the server listens and keeps its data.
#[derive(Clone, Debug)]
pub struct Config {
    /// Listen address (default `127.0.0.1:4566`).
    pub listen: SocketAddr,
    /// Data directory (default `./hermetic-data`).
    pub data_dir: PathBuf,
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// How often every grown audit log gets a signed checkpoint.
    pub checkpoint_interval: std::time::Duration,
    /// `postgres://...` to keep metadata and audit logs in PostgreSQL (several servers may share
    /// it); `None` for the embedded SQLite database in the data directory.
    pub database_url: Option<String>,
    /// The PostgreSQL schema to use (created if missing); `None` for the default search path.
    pub database_schema: Option<String>,
    /// How many PostgreSQL connections the node keeps open (default 8).
    pub database_connections: usize,
    /// PEM certificate chain and private key: serve HTTPS (rustls) instead of HTTP.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The root of trust in an HSM (PKCS#11) instead of the development key file.
    pub pkcs11: Option<Pkcs11Settings>,
    /// The development key file; `None` for `DIR.root.key` beside data directory `DIR` (never
    /// inside it).
    pub root_key_file: Option<PathBuf>,
    /// The Shamir root of trust: the server starts sealed until custodians unseal it
    /// ([`crate::vault`]).
    pub shamir: bool,
    /// Where object data lives: files in the data directory, or an S3-compatible bucket.
    pub blob_store: BlobStoreConfig,
    /// How long a blob store with deferred deletion (S3) keeps a blob a commit dropped, for the
    /// reads that began before it (a GET streams ranges of it as it goes).
    pub blob_read_grace: std::time::Duration,
    /// How old a blob no record names must be before the sweeper removes it (longer than any
    /// request takes between writing a blob and committing its record).
    pub blob_grace: std::time::Duration,
    /// How often logging trails get the events logged since their last file (AWS: 5 minutes).
    pub trail_delivery: std::time::Duration,
    /// How often a trail with log file validation gets a signed digest (AWS: an hour).
    pub trail_digest: std::time::Duration,
    /// How long a digest signing key signs before the next one takes over.
    pub trail_key_rotation: std::time::Duration,
    /// Witnesses (`http://host:port`) each new checkpoint is sent to for cosigning.
    pub witnesses: Vec<String>,
    /// How many of them should cosign each checkpoint (fewer is reported on stderr).
    pub witness_quorum: usize,
    /// How long an approval session's approvers have to answer before it expires (issue 18).
    pub approval_voting: std::time::Duration,
    /// How often S3 applies its buckets' lifecycle rules (default an hour; AWS's own runs are
    /// about daily, and a rule's actions are due at a midnight).
    pub lifecycle_interval: std::time::Duration,
    /// How long a lifecycle day is (a real day; shorter only for tests, as Ceph's
    /// `rgw_lc_debug_interval`: with another length, `Days` count from the write without
    /// rounding to midnight).
    pub lifecycle_day: std::time::Duration,
    /// Where to serve `GET /metrics`, `/healthz` and `/readyz` (plain HTTP, no authentication:
    /// a private address); `None` serves none of them ([`crate::observe`]).
    pub metrics_listen: Option<SocketAddr>,
    /// How log lines are written on stderr.
    pub log_format: LogFormat,
    /// The least severe log lines written (`error`, `warn`, `info`, `debug`, `trace`);
    /// `RUST_LOG` overrides it.
    pub log_level: String,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Where object data (sealed blobs) lives.
#[derive(Clone, Debug, Default)]
pub enum BlobStoreConfig {
    /// Files under `DATA_DIR/blobs` (one node, or nodes sharing a file system).
    #[default]
    Local,
    /// An S3-compatible bucket (`--blob-store s3://BUCKET[/PREFIX]`); its `Debug` hides the
    /// credentials.
    S3(store::S3BlobOptions),
}

/// Where the PKCS#11 root of trust lives.
#[derive(Clone, Debug)]
pub struct Pkcs11Settings {
    /// The PKCS#11 module (`/usr/lib/softhsm/libsofthsm2.so`, a vendor's library).
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The label of the AES key in the token (created if missing).
    pub key_label: String,
    /// A file holding the user PIN (readable only by its owner); without it, the
    /// `HERMETIC_PKCS11_PIN` environment variable.
    pub pin_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 4566)),
            data_dir: PathBuf::from("hermetic-data"),
            max_body: 1024 * 1024,
            checkpoint_interval: std::time::Duration::from_secs(60),
            database_url: None,
            database_schema: None,
            database_connections: 8,
            tls: None,
            pkcs11: None,
            root_key_file: None,
            shamir: false,
            blob_store: BlobStoreConfig::Local,
            blob_grace: std::time::Duration::from_secs(3600),
            blob_read_grace: std::time::Duration::from_secs(900),
            trail_delivery: std::time::Duration::from_secs(300),
            trail_digest: std::time::Duration::from_secs(3600),
            trail_key_rotation: std::time::Duration::from_secs(30 * 86_400),
            witnesses: Vec::new(),
            witness_quorum: 0,
            approval_voting: std::time::Duration::from_secs(86_400),
            lifecycle_interval: std::time::Duration::from_secs(3600),
            lifecycle_day: std::time::Duration::from_secs(86_400),
            metrics_listen: None,
            log_format: LogFormat::Text,
            log_level: "info".to_string(),
        }
    }
}
