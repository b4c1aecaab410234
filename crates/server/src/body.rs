//! Request bodies that are not buffered: a large S3 upload's bytes arrive on the store thread a
//! frame at a time ([`BodyStream`]) and are decoded and verified as they come
//! ([`PayloadReader`]): `aws-chunked` chunk signatures and trailing checksums chunk by chunk,
//! a signed `x-amz-content-sha256` once the last byte is in. Nothing read from a stream may be
//! acted on before [`PayloadReader::read`] has returned `None` (the end, verified).

use crate::error::ApiError;
use bytes::Bytes;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

/// Most bodies streaming at once: each holds a store thread while it lasts, so they may take
/// at most half of the pool. A request past that waits (without a thread) for a slot, up to
/// [`QUEUE_WAIT`], then is refused with `SlowDown`, as S3 does under load.
pub const MAX_STREAMS: usize = 8;
/// How long a streaming request may wait for a slot.
pub const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a streaming body may send nothing before it is cut off (`RequestTimeout`, as S3
/// closes idle uploads).
pub const IDLE: std::time::Duration = std::time::Duration::from_secs(20);

static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_STREAMS);

/// Why a body stopped early.
#[derive(Debug)]
enum Cut {
    /// The connection failed or closed mid-body.
    Broken,
    /// Nothing arrived for [`IDLE`].
    Idle,
}

/// Frames of a request body, forwarded from the connection's task.
pub struct BodyStream {
    frames: tokio::sync::mpsc::Receiver<Result<Bytes, Cut>>,
    /// One of [`MAX_STREAMS`] slots, given back when the stream is dropped.
    _slot: tokio::sync::SemaphorePermit<'static>,
}

impl BodyStream {
    /// Waits for a streaming slot, then starts forwarding `body`'s data frames (at most `depth`
    /// waiting) to a new stream.
    pub async fn start(body: hyper::body::Incoming, depth: usize) -> Result<BodyStream, ApiError> {
        let slot = match tokio::time::timeout(QUEUE_WAIT, SLOTS.acquire()).await {
            Ok(Ok(slot)) => slot,
            _ => return Err(ApiError::sender(503, "SlowDown", "Please reduce your request rate.")),
        };
        let (tx, frames) = tokio::sync::mpsc::channel(depth.max(1));
        tokio::spawn(async move {
            let mut body = body;
            loop {
                let item = match tokio::time::timeout(IDLE, body.frame()).await {
                    Err(_) => Err(Cut::Idle),
                    Ok(None) => break,
                    Ok(Some(Ok(frame))) => match frame.into_data() {
                        Ok(data) => Ok(data),
                        Err(_) => continue, // HTTP trailers: not used by S3 clients.
                    },
                    Ok(Some(Err(_))) => Err(Cut::Broken),
                };
                let failed = item.is_err();
                if tx.send(item).await.is_err() || failed {
                    break;
                }
            }
        });
        Ok(BodyStream { frames, _slot: slot })
    }

    /// The next frame (blocking the calling thread, which must not be a runtime thread), or
    /// `None` at the end of the body.
    fn next(&mut self) -> Result<Option<Bytes>, ApiError> {
        match self.frames.blocking_recv() {
            Some(Ok(data)) => Ok(Some(data)),
            Some(Err(Cut::Broken)) => Err(incomplete()),
            Some(Err(Cut::Idle)) => Err(ApiError::sender(
                400,
                "RequestTimeout",
                "Your socket connection to the server was not read from or written to within the timeout period.",
            )),
            None => Ok(None),
        }
    }
}

impl std::fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyStream").finish_non_exhaustive()
    }
}

/// A body shorter than it said it would be.
pub fn incomplete() -> ApiError {
    ApiError::sender(
        400,
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    )
}

enum Decoding {
    /// Bytes as sent; a signed payload hash is checked at the end.
    Plain { expected: Option<[u8; 32]>, hash: Box<Sha256> },
    /// `aws-chunked`: chunk signatures (or the unsigned framing) and any trailing checksum.
    Chunked(Box<sigv4::ChunkDecoder>),
}

/// A streamed body decoded and verified as the signature says it must be.
pub struct PayloadReader {
    stream: BodyStream,
    decoding: Decoding,
    done: bool,
}

impl PayloadReader {
    /// Reads `stream` as `payload` (what signature verification said about the body) with the
    /// request's headers (for `x-amz-trailer`).
    pub fn new(
        stream: BodyStream,
        payload: sigv4::PayloadMode,
        headers: &[(&str, &str)],
    ) -> Result<PayloadReader, ApiError> {
        let trailer = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-trailer"))
            .map(|(_, v)| v.trim().to_ascii_lowercase());
        let bad = |e: sigv4::Error| ApiError::from_sigv4(&e, true);
        let chunked = |mut decoder: sigv4::ChunkDecoder| -> Result<Decoding, ApiError> {
            if let Some(name) = &trailer {
                decoder = decoder.expect_checksum(name).map_err(bad)?;
            }
            Ok(Decoding::Chunked(Box::new(decoder)))
        };
        let decoding = match payload {
            sigv4::PayloadMode::SignedChunks(seed) => chunked(sigv4::ChunkDecoder::signed(seed))?,
            sigv4::PayloadMode::UnsignedChunks => chunked(sigv4::ChunkDecoder::unsigned_trailer())?,
            sigv4::PayloadMode::Sha256(expected) => {
                Decoding::Plain { expected: Some(expected), hash: Box::default() }
            }
            // `Verified` needs the whole body, which a stream never is: refuse rather than
            // pass unverified bytes (fail closed).
            sigv4::PayloadMode::Verified => {
                return Err(ApiError::internal("a streamed body cannot be verified as a whole"))
            }
            sigv4::PayloadMode::Unsigned => {
                Decoding::Plain { expected: None, hash: Box::default() }
            }
        };
        Ok(PayloadReader { stream, decoding, done: false })
    }

    /// The next decoded bytes (possibly empty), or `None` once the body has ended and been
    /// verified. An error (a bad chunk signature or checksum, a payload hash mismatch, a body
    /// cut short) means nothing read so far may be used.
    pub fn read(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let bad = |e: sigv4::Error| ApiError::from_sigv4(&e, true);
        match self.stream.next()? {
            Some(frame) => match &mut self.decoding {
                Decoding::Plain { hash, .. } => {
                    hash.update(&frame);
                    Ok(Some(frame.to_vec()))
                }
                Decoding::Chunked(decoder) => {
                    let mut out = Vec::with_capacity(frame.len());
                    decoder.push(&frame, &mut out).map_err(bad)?;
                    Ok(Some(out))
                }
            },
            None => {
                match &mut self.decoding {
                    Decoding::Plain { expected: Some(expected), hash } => {
                        let got: [u8; 32] = std::mem::take(hash.as_mut()).finalize().into();
                        if got != *expected {
                            return Err(ApiError::sender(
                                400,
                                "XAmzContentSHA256Mismatch",
                                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                            ));
                        }
                    }
                    Decoding::Plain { expected: None, .. } => {}
                    Decoding::Chunked(decoder) => {
                        decoder.finish().map_err(bad)?;
                    }
                }
                self.done = true;
                Ok(None)
            }
        }
    }
}

impl std::fmt::Debug for PayloadReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadReader").field("done", &self.done).finish_non_exhaustive()
    }
}
