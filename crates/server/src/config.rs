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
    /// PEM certificate chain and private key: serve HTTPS (rustls) instead of HTTP.
    pub tls: Option<(PathBuf, PathBuf)>,
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
            tls: None,
        }
    }
}
