//! A streaming decoder for `aws-chunked` bodies. Each chunk's signature is checked in sequence
//! (seed signature → chunk 1 → ... → the final empty chunk → the trailer signature) before its
//! data is released, so at most one chunk is buffered and a bad chunk stops the stream at once.

use crate::checksum::Checksum;
use crate::encode::{hex, unhex32};
use crate::error::Error;
use crate::key::{sha256, signatures_equal, SigningKey};
use crate::verify::EMPTY_SHA256;

/// Largest chunk accepted (S3 clients send 64 KiB to 8 MiB chunks).
pub const MAX_CHUNK_SIZE: usize = 16 * 1024 * 1024;
/// Longest chunk header or trailer line accepted.
const MAX_LINE: usize = 8 * 1024;
/// Most trailer headers accepted.
const MAX_TRAILERS: usize = 16;

/// What the header verification hands to the chunk decoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkSeed {
    /// The signing key of the request's scope.
    pub key: SigningKey,
    /// The request time as signed.
    pub amz_date: String,
    /// `date/region/service/aws4_request`.
    pub scope: String,
    /// The request's own signature: the first chunk chains from it.
    pub seed_signature: [u8; 32],
    /// Whether trailing headers with a trailer signature follow the final chunk.
    pub trailer: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    Header,
    Data { size: usize, signature: Option<[u8; 32]> },
    Trailer,
    Done,
}

/// Decodes an `aws-chunked` body incrementally.
#[derive(Debug)]
pub struct ChunkDecoder {
    seed: Option<ChunkSeed>,
    previous: [u8; 32],
    pending: Vec<u8>,
    state: State,
    trailers: Vec<(String, String)>,
    trailer_expected: bool,
    checksum: Option<Checksum>,
}

impl ChunkDecoder {
    /// A decoder for signed chunks (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`).
    pub fn signed(seed: ChunkSeed) -> ChunkDecoder {
        ChunkDecoder {
            previous: seed.seed_signature,
            trailer_expected: seed.trailer,
            seed: Some(seed),
            pending: Vec::new(),
            state: State::Header,
            trailers: Vec::new(),
            checksum: None,
        }
    }

    /// A decoder for unsigned chunks with trailers (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
    pub fn unsigned_trailer() -> ChunkDecoder {
        ChunkDecoder {
            seed: None,
            previous: [0; 32],
            pending: Vec::new(),
            state: State::Header,
            trailers: Vec::new(),
            trailer_expected: true,
            checksum: None,
        }
    }

    /// Checks the trailing checksum named by the request's `x-amz-trailer` header
    /// (`x-amz-checksum-crc32`, `-crc32c`, `-sha1` or `-sha256`) against the decoded body.
    pub fn expect_checksum(mut self, trailer_name: &str) -> Result<ChunkDecoder, Error> {
        let checksum = Checksum::for_header(trailer_name).ok_or_else(|| {
            Error::Chunk(format!("unsupported trailing checksum `{trailer_name}`"))
        })?;
        self.checksum = Some(checksum);
        Ok(self)
    }

    /// Feeds bytes; verified chunk data is appended to `out`. Fails on the first bad chunk, and
    /// keeps failing afterwards.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if self.state == State::Done && !input.is_empty() {
            return Err(Error::Chunk("data after the final chunk".into()));
        }
        self.pending.extend_from_slice(input);
        let mut at = 0;
        let result = self.drain(&mut at, out);
        self.pending.drain(..at.min(self.pending.len()));
        if result.is_err() {
            self.state = State::Done;
            self.pending.clear();
            self.pending.push(0);
        }
        result
    }

    /// Whether the final chunk (and trailers) have been read and verified.
    pub fn is_done(&self) -> bool {
        self.state == State::Done && self.pending.is_empty()
    }

    /// The trailing headers (lowercase names), once done; the trailer signature is excluded.
    pub fn finish(&self) -> Result<&[(String, String)], Error> {
        if self.is_done() {
            Ok(&self.trailers)
        } else {
            Err(Error::Chunk("the body ended before its final chunk".into()))
        }
    }

    fn line(pending: &[u8], at: usize) -> Result<Option<(&[u8], usize)>, Error> {
        let rest = pending.get(at..).unwrap_or_default();
        match rest.windows(2).position(|w| w == b"\r\n") {
            Some(end) if end > MAX_LINE => Err(Error::Chunk("chunk header line too long".into())),
            Some(end) => Ok(Some((rest.get(..end).unwrap_or_default(), at + end + 2))),
            None if rest.len() > MAX_LINE => Err(Error::Chunk("chunk header line too long".into())),
            None => Ok(None),
        }
    }

    fn drain(&mut self, at: &mut usize, out: &mut Vec<u8>) -> Result<(), Error> {
        loop {
            match self.state {
                State::Done => return Ok(()),
                State::Header => {
                    let Some((line, next)) = Self::line(&self.pending, *at)? else { return Ok(()) };
                    let line = std::str::from_utf8(line)
                        .map_err(|_| Error::Chunk("chunk header is not text".into()))?;
                    let (size_text, ext) = line.split_once(';').unwrap_or((line, ""));
                    let size = usize::from_str_radix(size_text.trim(), 16)
                        .ok()
                        .filter(|s| *s <= MAX_CHUNK_SIZE && !size_text.trim().is_empty())
                        .ok_or_else(|| Error::Chunk(format!("invalid chunk size `{size_text}`")))?;
                    let signature = if self.seed.is_some() {
                        let sig =
                            ext.strip_prefix("chunk-signature=").and_then(unhex32).ok_or_else(
                                || Error::Chunk("chunk is missing its chunk-signature".into()),
                            )?;
                        Some(sig)
                    } else {
                        None
                    };
                    *at = next;
                    self.state = State::Data { size, signature };
                }
                State::Data { size, signature } => {
                    let available = self.pending.len().saturating_sub(*at);
                    let last = size == 0;
                    // The final chunk of a trailer body has no CRLF of its own before the trailers.
                    let tail = if last && self.trailer_expected { 0 } else { 2 };
                    if available < size + tail {
                        return Ok(());
                    }
                    let data = self.pending.get(*at..*at + size).unwrap_or_default();
                    if tail == 2 && self.pending.get(*at + size..*at + size + 2) != Some(b"\r\n") {
                        return Err(Error::Chunk("chunk data is not followed by CRLF".into()));
                    }
                    if let (Some(seed), Some(sig)) = (&self.seed, signature) {
                        let to_sign = format!(
                            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{}",
                            seed.amz_date,
                            seed.scope,
                            hex(&self.previous),
                            hex(&sha256(data))
                        );
                        if !signatures_equal(&seed.key.sign(to_sign.as_bytes()), &sig) {
                            return Err(Error::ChunkSignatureDoesNotMatch);
                        }
                        self.previous = sig;
                    }
                    if let Some(c) = &mut self.checksum {
                        c.update(data);
                    }
                    out.extend_from_slice(data);
                    *at += size + tail;
                    self.state = if !last {
                        State::Header
                    } else if self.trailer_expected {
                        State::Trailer
                    } else {
                        State::Done
                    };
                }
                State::Trailer => {
                    let Some((line, next)) = Self::line(&self.pending, *at)? else { return Ok(()) };
                    *at = next;
                    if line.is_empty() {
                        return self.finish_trailer();
                    }
                    let line = std::str::from_utf8(line)
                        .map_err(|_| Error::Chunk("trailer is not text".into()))?;
                    let (name, value) = line
                        .split_once(':')
                        .ok_or_else(|| Error::Chunk(format!("malformed trailer `{line}`")))?;
                    if self.trailers.len() >= MAX_TRAILERS {
                        return Err(Error::Chunk("too many trailers".into()));
                    }
                    self.trailers
                        .push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                }
            }
        }
    }

    fn finish_trailer(&mut self) -> Result<(), Error> {
        let signature_at = self.trailers.iter().position(|(n, _)| n == "x-amz-trailer-signature");
        match (&self.seed, signature_at) {
            (Some(seed), Some(i)) => {
                let (_, sig_text) = self.trailers.remove(i);
                let sig = unhex32(&sig_text)
                    .ok_or_else(|| Error::Chunk("malformed x-amz-trailer-signature".into()))?;
                let mut canonical = String::new();
                for (n, v) in &self.trailers {
                    canonical.push_str(n);
                    canonical.push(':');
                    canonical.push_str(v);
                    canonical.push('\n');
                }
                let to_sign = format!(
                    "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
                    seed.amz_date,
                    seed.scope,
                    hex(&self.previous),
                    hex(&sha256(canonical.as_bytes()))
                );
                if !signatures_equal(&seed.key.sign(to_sign.as_bytes()), &sig) {
                    return Err(Error::ChunkSignatureDoesNotMatch);
                }
            }
            (Some(_), None) => return Err(Error::Chunk("the trailer signature is missing".into())),
            (None, Some(_)) => {
                return Err(Error::Chunk(
                    "an unsigned body cannot carry a trailer signature".into(),
                ))
            }
            (None, None) => {}
        }
        if let Some(c) = &self.checksum {
            let name = c.header_name();
            let sent = self.trailers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
            match sent {
                Some(v) if v == c.finish_base64() => {}
                Some(_) => {
                    return Err(Error::Chunk(format!(
                        "the `{name}` trailer does not match the body"
                    )))
                }
                None => return Err(Error::Chunk(format!("the `{name}` trailer is missing"))),
            }
        }
        self.state = State::Done;
        Ok(())
    }
}
