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

/// A response body with its protocol.
/// Produces a streamed response body on a store thread: it hands each chunk to the sender,
/// and stops when the sender says the client has gone.
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

pub(crate) fn respond(state: &Arc<State>, mut reply: Reply, request_id: &str) -> Response<Body> {
    let has_raw = reply.raw.is_some() || reply.stream.is_some();
    let body = match reply.stream.take() {
        Some(producer) => {
            // The producer runs on a store thread; a full channel holds it back until the
            // client reads (at most four chunks in flight).
            let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
            let pool = state.pool.clone();
            tokio::spawn(async move {
                let _ = pool
                    .run(move || {
                        let mut send =
                            |chunk: Vec<u8>| tx.blocking_send(Bytes::from(chunk)).is_ok();
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
