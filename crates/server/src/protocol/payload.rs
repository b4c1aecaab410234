//! Request bodies that are not buffered: a large S3 upload's bytes arrive on an upload-lane thread a
//! frame at a time ([`BodyStream`]) and are decoded and verified as they come
//! ([`PayloadReader`]): `aws-chunked` chunk signatures and trailing checksums chunk by chunk,
//! a signed `x-amz-content-sha256` once the last byte is in. Nothing read from a stream may be
//! acted on before [`PayloadReader::read`] has returned `None` (the end, verified).

use crate::error::ApiError;
use bytes::Bytes;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

/// Most bodies streaming at once: each holds a thread of the pool's upload lane (this many
/// threads) while it lasts. A request past that waits (without a thread) for a slot, up to
/// [`QUEUE_WAIT`], then is refused with `SlowDown`, as S3 does under load.
pub const MAX_STREAMS: usize = 8;
/// How long a streaming request may wait for a slot.
pub const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a streaming body may send nothing before it is cut off (`RequestTimeout`, as S3
/// closes idle uploads).
pub const IDLE: std::time::Duration = std::time::Duration::from_secs(20);

static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_STREAMS);

/// How many of the [`MAX_STREAMS`] slots bodies streaming now hold (the process's, across
/// seals: the slots are not the server state's).
pub fn streams_in_use() -> usize {
    MAX_STREAMS.saturating_sub(SLOTS.available_permits())
}

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
    pub async fn start<B>(body: B, depth: usize) -> Result<BodyStream, ApiError>
    where
        B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    {
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

/// Decodes and verifies a body, whole or a piece at a time, as the signature says it must be.
pub struct Decoder {
    decoding: Decoding,
}

impl Decoder {
    /// A decoder for a body sent as `payload` (what signature verification said about it) with
    /// the request's headers (for `x-amz-trailer`). `Verified` (the hash already checked over
    /// the whole body) is accepted only for a body given `whole`.
    pub fn new(
        payload: sigv4::PayloadMode,
        headers: &[(&str, &str)],
        whole: bool,
    ) -> Result<Decoder, ApiError> {
        let trailer = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-trailer"))
            .map(|(_, v)| v.trim().to_ascii_lowercase());
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
            // A streamed body is never whole: refuse rather than pass unverified bytes.
            sigv4::PayloadMode::Verified if !whole => {
                return Err(ApiError::internal("a streamed body cannot be verified as a whole"))
            }
            sigv4::PayloadMode::Verified | sigv4::PayloadMode::Unsigned => {
                Decoding::Plain { expected: None, hash: Box::default() }
            }
        };
        Ok(Decoder { decoding })
    }

    /// Decodes the next piece of the body.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<u8>, ApiError> {
        match &mut self.decoding {
            Decoding::Plain { expected, hash } => {
                if expected.is_some() {
                    hash.update(bytes);
                }
                Ok(bytes.to_vec())
            }
            Decoding::Chunked(decoder) => {
                let mut out = Vec::with_capacity(bytes.len());
                decoder.push(bytes, &mut out).map_err(bad)?;
                Ok(out)
            }
        }
    }

    /// Checks what can only be checked at the end: the payload hash, the final chunk and the
    /// trailers.
    pub fn finish(&mut self) -> Result<(), ApiError> {
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
                Ok(())
            }
            Decoding::Plain { expected: None, .. } => Ok(()),
            Decoding::Chunked(decoder) => decoder.finish().map(|_| ()).map_err(bad),
        }
    }
}

fn bad(e: sigv4::Error) -> ApiError {
    ApiError::from_sigv4(&e, true)
}

/// The object bytes of a whole request body: as sent, or decoded from `aws-chunked` (chunk
/// signatures and any trailing checksum verified), its payload hash checked.
pub fn decode_whole(
    payload: sigv4::PayloadMode,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let mut decoder = Decoder::new(payload, headers, true)?;
    let out = decoder.push(body)?;
    decoder.finish()?;
    Ok(out)
}

/// A streamed body decoded and verified as the signature says it must be.
pub struct PayloadReader {
    stream: BodyStream,
    decoder: Decoder,
    done: bool,
}

impl PayloadReader {
    /// Reads `stream` as `payload` with the request's headers (see [`Decoder::new`]).
    pub fn new(
        stream: BodyStream,
        payload: sigv4::PayloadMode,
        headers: &[(&str, &str)],
    ) -> Result<PayloadReader, ApiError> {
        Ok(PayloadReader { stream, decoder: Decoder::new(payload, headers, false)?, done: false })
    }

    /// The next decoded bytes (possibly empty), or `None` once the body has ended and been
    /// verified. An error (a bad chunk signature or checksum, a payload hash mismatch, a body
    /// cut short) means nothing read so far may be used.
    pub fn read(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        match self.stream.next()? {
            Some(frame) => self.decoder.push(&frame).map(Some),
            None => {
                self.decoder.finish()?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn sha(bytes: &[u8]) -> [u8; 32] {
        Sha256::digest(bytes).into()
    }

    #[test]
    fn a_signed_payload_hash_is_checked_at_the_end() {
        let mode = sigv4::PayloadMode::Sha256(sha(b"hello world"));
        let mut d = Decoder::new(mode.clone(), &[], false).unwrap();
        assert_eq!(d.push(b"hello ").unwrap(), b"hello ");
        assert_eq!(d.push(b"world").unwrap(), b"world");
        assert!(d.finish().is_ok());
        let mut d = Decoder::new(mode.clone(), &[], false).unwrap();
        d.push(b"hello there").unwrap();
        assert_eq!(d.finish().unwrap_err().code, "XAmzContentSHA256Mismatch");
        assert_eq!(decode_whole(mode, &[], b"hello world").unwrap(), b"hello world");
    }

    #[test]
    fn a_stream_is_never_taken_as_verified_whole() {
        assert!(Decoder::new(sigv4::PayloadMode::Verified, &[], false).is_err());
        assert_eq!(decode_whole(sigv4::PayloadMode::Verified, &[], b"x").unwrap(), b"x");
        assert_eq!(decode_whole(sigv4::PayloadMode::Unsigned, &[], b"y").unwrap(), b"y");
    }

    #[test]
    fn unsigned_chunks_decode_piecewise_and_need_their_end() {
        let body = b"5\r\nhello\r\n0\r\n\r\n";
        let mut d = Decoder::new(sigv4::PayloadMode::UnsignedChunks, &[], false).unwrap();
        let mut out = Vec::new();
        for piece in body.chunks(3) {
            out.extend(d.push(piece).unwrap());
        }
        assert_eq!(out, b"hello");
        assert!(d.finish().is_ok());
        let mut d = Decoder::new(sigv4::PayloadMode::UnsignedChunks, &[], false).unwrap();
        d.push(b"5\r\nhel").unwrap();
        assert!(d.finish().is_err());
    }
}
