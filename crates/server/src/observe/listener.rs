//! The metrics listener (`--metrics-listen`): plain HTTP/1.1 serving only `GET /metrics`
//! (Prometheus text), `GET /healthz` (200 while the process runs) and `GET /readyz` (200 when
//! ready, else 503 and the reason word); anything else is 404. It has no authentication and
//! says nothing of any tenant: bind it to a private address. The main listener does not serve
//! these paths (there, `GET /metrics` is an S3 request).

use super::Observer;
use crate::listener::ServeError;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;

/// Binds `addr`; returns the listener and the address it took (a port 0 resolved).
pub(crate) async fn bind(
    addr: SocketAddr,
) -> Result<(tokio::net::TcpListener, SocketAddr), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let bound = listener.local_addr().map_err(|source| ServeError::Listen { addr, source })?;
    Ok((listener, bound))
}

/// Serves `listener` until the task is aborted.
pub(crate) fn spawn(
    listener: tokio::net::TcpListener,
    observer: Arc<Observer>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let observer = observer.clone();
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let observer = observer.clone();
                    async move {
                        let answer = answer(&observer, req.method(), req.uri().path()).await;
                        Ok::<_, std::convert::Infallible>(answer)
                    }
                });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

/// The answer to `method` `path`.
pub(crate) async fn answer(
    observer: &Arc<Observer>,
    method: &Method,
    path: &str,
) -> Response<Full<Bytes>> {
    if method != Method::GET {
        return text(StatusCode::NOT_FOUND, "text/plain", "not found\n".into());
    }
    match path {
        "/metrics" => text(StatusCode::OK, super::exposition::CONTENT_TYPE, observer.render()),
        "/healthz" => text(StatusCode::OK, "text/plain", "ok\n".into()),
        "/readyz" => match observer.readiness().await {
            Ok(()) => text(StatusCode::OK, "text/plain", "ready\n".into()),
            Err(why) => {
                text(StatusCode::SERVICE_UNAVAILABLE, "text/plain", format!("{}\n", why.as_str()))
            }
        },
        _ => text(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn get(observer: &Arc<Observer>, method: &Method, path: &str) -> (u16, String, String) {
        let response = answer(observer, method, path).await;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, content_type, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn only_three_paths_are_served() {
        let config = crate::Config { shamir: true, ..crate::Config::default() };
        let observer = Arc::new(Observer::new(&config));
        let (status, content_type, body) = get(&observer, &Method::GET, "/metrics").await;
        assert_eq!((status, content_type.as_str()), (200, "text/plain; version=0.0.4"));
        assert!(body.contains("hermetic_sealed 1\n"), "{body}");
        assert_eq!(get(&observer, &Method::GET, "/healthz").await.0, 200);
        let (status, _, body) = get(&observer, &Method::GET, "/readyz").await;
        assert_eq!((status, body.as_str()), (503, "sealed\n"));
        assert_eq!(get(&observer, &Method::GET, "/").await.0, 404);
        assert_eq!(get(&observer, &Method::GET, "/metrics/x").await.0, 404);
        assert_eq!(get(&observer, &Method::POST, "/metrics").await.0, 404);
        assert_eq!(get(&observer, &Method::HEAD, "/healthz").await.0, 404);
    }
}
