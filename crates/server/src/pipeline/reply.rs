//! Replies: the body (whole or streamed), the response headers, and errors as each protocol
//! renders them.

use super::State;
use crate::error::ApiError;
use crate::protocol::query;
use crate::services::sts;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use std::sync::Arc;

/// Produces a streamed response body on a download-lane thread: it hands each chunk to the
/// sender, and stops when the sender says the client has gone (or stalled: [`send_within`]).
pub(crate) type Producer = Box<dyn FnOnce(&mut dyn FnMut(Vec<u8>) -> bool) + Send>;

/// A response body: whole, or streamed from a [`Producer`].
pub(crate) type Body = http_body_util::Either<Full<Bytes>, ChannelBody>;

/// The streamed half of [`Body`]: chunks from a channel.
pub(crate) struct ChannelBody {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.rx.poll_recv(cx).map(|chunk| chunk.map(|b| Ok(http_body::Frame::data(b))))
    }
}

/// What a request is answered with, before the protocol's framing.
#[derive(Default)]
pub(crate) struct Reply {
    pub status: u16,
    pub json: bool,
    pub body: String,
    /// A raw body (S3 objects) instead of `body`, with its own headers.
    pub raw: Option<Vec<u8>>,
    /// Extra response headers (S3: ETag, Content-Type, x-amz-*).
    pub headers: Vec<(String, String)>,
    /// A body produced while it is sent (large S3 objects), instead of `raw`.
    pub stream: Option<Producer>,
}

impl Reply {
    /// A JSON protocol's 200 answer.
    pub fn json(value: &serde_json::Value) -> Reply {
        Reply { status: 200, json: true, body: value.to_string(), ..Reply::default() }
    }

    /// A query protocol's 200 answer (its XML document).
    pub fn xml(body: String) -> Reply {
        Reply { status: 200, json: false, body, ..Reply::default() }
    }
}

/// Hands `chunk` to a streamed answer's body from a thread outside the runtime: `false` if
/// the client is gone, or took nothing for `idle` (the answer then ends short and frees its
/// thread, as S3 cuts off a reader that stalls).
fn send_within(
    runtime: &tokio::runtime::Handle,
    tx: &tokio::sync::mpsc::Sender<Bytes>,
    chunk: Bytes,
    idle: std::time::Duration,
) -> bool {
    // A runtime that has stopped has dropped the body (and a timer on it would panic).
    if tx.is_closed() {
        return false;
    }
    runtime
        .block_on(async { matches!(tokio::time::timeout(idle, tx.send(chunk)).await, Ok(Ok(()))) })
}

pub(crate) fn respond(state: &Arc<State>, mut reply: Reply, request_id: &str) -> Response<Body> {
    let has_raw = reply.raw.is_some() || reply.stream.is_some();
    let body = match reply.stream.take() {
        Some(producer) => {
            // The producer runs on the download lane (a slow reader holds no store thread); a
            // full channel holds it back until the client reads (at most four chunks in
            // flight).
            let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
            let pool = state.pool.clone();
            let runtime = tokio::runtime::Handle::current();
            tokio::spawn(async move {
                let _ = pool
                    .run_in(crate::support::pool::Lane::Download, move || {
                        let mut send = |chunk: Vec<u8>| {
                            send_within(
                                &runtime,
                                &tx,
                                Bytes::from(chunk),
                                crate::protocol::payload::IDLE,
                            )
                        };
                        producer(&mut send);
                    })
                    .await;
            });
            http_body_util::Either::Right(ChannelBody { rx })
        }
        None => http_body_util::Either::Left(Full::new(match reply.raw.take() {
            Some(raw) => Bytes::from(raw),
            None => Bytes::from(std::mem::take(&mut reply.body)),
        })),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    if !has_raw {
        let content_type = if reply.json { "application/x-amz-json-1.1" } else { "text/xml" };
        headers.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(content_type),
        );
    }
    for (name, value) in &reply.headers {
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    if let Ok(v) = hyper::header::HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v.clone());
        headers.insert("x-amz-request-id", v);
    }
    resp
}

pub(crate) fn error_reply(e: &ApiError, json: bool, s3: bool, request_id: &str) -> Reply {
    let body = if json {
        serde_json::json!({ "__type": e.code, "message": e.message }).to_string()
    } else if s3 {
        crate::services::s3::error_xml(e, request_id)
    } else {
        query::error_response(e, sts::NAMESPACE, request_id)
    };
    Reply { status: e.status, json, body, headers: e.headers.clone(), ..Default::default() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_streamed_answer_stops_for_a_reader_that_stalls_or_left() {
        let runtime = tokio::runtime::Handle::current();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(1);
        // From a thread outside the runtime, as the download lane's.
        let sender = std::thread::spawn(move || {
            let idle = Duration::from_millis(50);
            let first = send_within(&runtime, &tx, Bytes::from_static(b"a"), idle);
            // The channel is full and nobody reads: cut off after `idle`.
            let stalled = send_within(&runtime, &tx, Bytes::from_static(b"b"), idle);
            (first, stalled, tx, runtime)
        });
        let (first, stalled, tx, runtime) =
            tokio::task::spawn_blocking(move || sender.join()).await.unwrap().unwrap();
        assert!(first);
        assert!(!stalled);
        assert_eq!(rx.recv().await.unwrap(), Bytes::from_static(b"a"));
        // A reader that takes its chunks gets them; one that left stops the producer.
        let reader = tokio::spawn(async move { rx.recv().await });
        let tx2 = tx.clone();
        let runtime2 = runtime.clone();
        let sent = tokio::task::spawn_blocking(move || {
            send_within(&runtime2, &tx2, Bytes::from_static(b"c"), Duration::from_secs(600))
        })
        .await
        .unwrap();
        assert!(sent);
        assert_eq!(reader.await.unwrap().unwrap(), Bytes::from_static(b"c"));
        let gone = tokio::task::spawn_blocking(move || {
            send_within(&runtime, &tx, Bytes::from_static(b"d"), Duration::from_secs(600))
        })
        .await
        .unwrap();
        assert!(!gone);
    }
}
