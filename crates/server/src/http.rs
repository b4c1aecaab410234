//! The listener and the request pipeline.

use crate::bootstrap;
use crate::config::Config;
use crate::error::ApiError;
use crate::identity::{KeyEntry, Keys};
use crate::{query, sts};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::future::Future;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Shared server state.
#[derive(Debug)]
pub struct State {
    /// Settings.
    pub config: Config,
    /// Known access keys.
    pub keys: Keys,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Data directory trouble.
    #[error(transparent)]
    Bootstrap(#[from] bootstrap::BootstrapError),
    /// Listening failed.
    #[error("cannot listen on `{addr}`: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The error.
        source: std::io::Error,
    },
}

fn request_id() -> String {
    let t = bootstrap::random_text(b"0123456789abcdef0123456789abcdef", 32);
    format!(
        "{}-{}-{}-{}-{}",
        t.get(0..8).unwrap_or(""),
        t.get(8..12).unwrap_or(""),
        t.get(12..16).unwrap_or(""),
        t.get(16..20).unwrap_or(""),
        t.get(20..32).unwrap_or("")
    )
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

fn xml(status: u16, body: String, request_id: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/xml"));
    if let Ok(v) = hyper::header::HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    resp
}

/// Runs one request through the pipeline.
async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let id = request_id();
    match pipeline(&state, req, &id).await {
        Ok(body) => xml(200, body, &id),
        Err(e) => xml(e.status, query::error_response(&e, sts::NAMESPACE, &id), &id),
    }
}

async fn pipeline(state: &State, req: Request<Incoming>, id: &str) -> Result<String, ApiError> {
    let (parts, body) = req.into_parts();
    let body = Limited::new(body, state.config.max_body)
        .collect()
        .await
        .map_err(|_| {
            ApiError::sender(413, "RequestEntityTooLarge", "the request body is too large")
        })?
        .to_bytes();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let header_refs: Vec<(&str, &str)> =
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let path = parts.uri.path();
    let query_text = parts.uri.query().unwrap_or("");
    let signed = sigv4::HttpRequest {
        method: parts.method.as_str(),
        path,
        query: query_text,
        headers: &header_refs,
    };
    let unverified = sigv4::parse(&signed).map_err(|e| ApiError::from_sigv4(&e, false))?;
    let service = unverified.credential.service.clone();
    let Some(KeyEntry { secret, caller }) = state.keys.get(unverified.access_key_id()) else {
        return Err(ApiError::sender(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ));
    };
    let mut cache = sigv4::KeyCache::new(1);
    unverified
        .verify(&secret, now(), sigv4::Payload::Bytes(&body), &mut cache)
        .map_err(|e| ApiError::from_sigv4(&e, false))?;
    let form_text = if parts.method == hyper::Method::POST {
        String::from_utf8_lossy(&body).into_owned()
    } else {
        query_text.to_string()
    };
    let params = query::parse_form(&form_text);
    match service.as_str() {
        "sts" => sts::handle(&caller, &params, id),
        other => Err(ApiError::sender(
            400,
            "UnknownService",
            format!("the service `{other}` is not served here yet"),
        )),
    }
}

/// Serves until `shutdown` completes; in-flight requests finish first.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()>,
    ready: impl FnOnce(std::net::SocketAddr, &bootstrap::OperatorCredentials),
) -> Result<(), ServeError> {
    let (_root, creds) = bootstrap::init(&config.data_dir)?;
    let keys = Keys::default();
    keys.insert(&creds.access_key_id, bootstrap::operator_key(&creds));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    ready(addr, &creds);
    let state = Arc::new(State { config, keys });
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let state = state.clone();
                let service = hyper::service::service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, std::convert::Infallible>(handle(state, req).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    graceful.shutdown().await;
    Ok(())
}

/// Serves until SIGINT or SIGTERM, printing where it listens and where the operator's
/// credentials are (never the secret itself).
pub fn serve(config: Config) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    runtime.block_on(run(config, shutdown_signal(), |addr, creds| {
        println!("hermetic listening on http://{addr}");
        println!(
            "operator credentials: {} ({})",
            creds.path.display(),
            if creds.created { "created" } else { "existing" }
        );
    }))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
