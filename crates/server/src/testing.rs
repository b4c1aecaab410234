//! The server in-process, for tests that show a service's behaviour in Rust (STYLE 15): an app
//! over a data directory and its SQLite store, as `hermetic serve` opens them, driven one
//! request at a time through the same pipeline a connection's requests take (authentication,
//! the guardrail, authorization and the audit log included). Nothing listens and nothing is
//! bypassed: a request must be signed like any other.

use crate::listener::ServeError;
use crate::pipeline::State;
use crate::Config;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use std::path::Path;
use std::sync::Arc;

/// A server without a listener.
pub struct App {
    state: Arc<State>,
    operator: (String, String),
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("state", &self.state).finish_non_exhaustive()
    }
}

/// A response, whole.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The headers (names lowercase).
    pub headers: Vec<(String, String)>,
    /// The body, read to its end.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl App {
    /// Opens an app over `data_dir` (created if missing) with its embedded SQLite store, as
    /// `hermetic serve --data-dir DATA_DIR` would, and the key-file root of trust.
    pub async fn open(data_dir: &Path) -> Result<App, ServeError> {
        App::open_with(Config { data_dir: data_dir.to_path_buf(), ..Config::default() }).await
    }

    /// Opens an app with `config` (its data directory, store and blob store) and the key-file
    /// root of trust beside its data directory.
    pub async fn open_with(config: Config) -> Result<App, ServeError> {
        let data_dir = config.data_dir.clone();
        let data_dir = data_dir.as_path();
        crate::bootstrap::prepare(data_dir)?;
        let root = crate::bootstrap::open_root(data_dir, None, None)?;
        let (parts, creds) = crate::listener::open(config, root, Arc::default()).await?;
        let operator = (
            creds.access_key_id.clone(),
            String::from_utf8_lossy(creds.secret.expose()).into_owned(),
        );
        let state = Arc::new(State::new(parts));
        Ok(App { state, operator })
    }

    /// The operator's access key id and secret.
    pub fn operator(&self) -> (&str, &str) {
        (&self.operator.0, &self.operator.1)
    }

    /// The store behind the app (to look at what a request left).
    pub fn store(&self) -> &dyn store::Store {
        self.state.store.as_ref()
    }

    /// The blob store behind the app.
    pub fn blobs(&self) -> &dyn store::BlobStore {
        self.state.blobs.as_ref()
    }

    /// Runs the blob sweeper as the server's timer does, as if it were `now`, with grace
    /// `grace`; returns how many blobs it removed.
    pub fn sweep(
        &self,
        now: std::time::SystemTime,
        grace: std::time::Duration,
    ) -> Result<usize, String> {
        crate::services::s3::sweep::sweep(&self.state, now, grace).map_err(|e| e.message)
    }

    /// Runs the deleter of dropped blobs as the server's timer does, as if it were `now_ms`;
    /// returns how many blobs it removed.
    pub fn delete_dropped(&self, now_ms: i64) -> Result<usize, String> {
        crate::services::s3::sweep::delete_dropped(
            &self.state,
            now_ms,
            self.state.config.blob_read_grace,
        )
        .map_err(|e| e.message)
    }

    /// Runs S3's lifecycle pass as the server's timer does, as if it were `now_ms` and a
    /// lifecycle day lasted `day_ms`; returns how many actions it applied (or the store's
    /// error listing the accounts).
    pub fn lifecycle_pass(&self, now_ms: i64, day_ms: i64) -> Result<usize, String> {
        crate::services::s3::lifecycle::pass(&self.state, now_ms, day_ms).map_err(|e| e.message)
    }

    /// Sends one request through the pipeline, from 127.0.0.1 over plain HTTP.
    pub async fn send(
        &self,
        method: &str,
        uri: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Response {
        let mut builder = hyper::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let Ok(request) = builder.body(Full::new(Bytes::from(body))) else {
            return Response { status: 0, headers: Vec::new(), body: b"bad request".to_vec() };
        };
        let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 40000));
        let response = crate::pipeline::handle(self.state.clone(), request, peer, None).await;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect();
        // A streamed body that ends early reads as what arrived.
        let body = response
            .into_body()
            .collect()
            .await
            .map(|collected| collected.to_bytes().to_vec())
            .unwrap_or_default();
        Response { status, headers, body }
    }
}
