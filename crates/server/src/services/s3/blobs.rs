//! Object data on disk: blob files, each one sealed part of an object (`crypto::object`
//! format) under the object's data key, written durably before the record naming them commits
//! and read back a chunk at a time.

use super::checksums::Sum;
use super::input::BodyDigests;
use super::s3err;
use crate::error::ApiError;
use crate::pipeline::State;
use crate::records::s3::{ChecksumAlgorithm, Object, SealedPart};
use base64::Engine;
use md5::{Digest, Md5};
use store::BlobRef;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The blobs of an object's parts, to be removed once the transaction that drops the last
/// record naming them has committed (see [`crate::pipeline::service::Effect::garbage`]).
pub(super) fn blob_files(account: &str, object: &Object) -> Vec<BlobRef> {
    object.parts.iter().map(|part| part_file(account, part)).collect()
}

/// The blob of one sealed part.
pub(super) fn part_file(account: &str, part: &SealedPart) -> BlobRef {
    BlobRef { account: account.to_string(), name: part.blob.clone() }
}

fn store_failed<E>(_: E) -> ApiError {
    ApiError::unavailable("the object could not be stored")
}

/// `Content-MD5`, the `x-amz-checksum-*` headers and the ETag's MD5, computed as the body goes
/// by and checked at the end; and the additional checksum the object keeps, computed in the
/// same pass.
struct Integrity {
    md5: Md5,
    content_md5: Option<String>,
    sums: Vec<(String, String, sigv4::checksum::Checksum)>,
    /// The checksum kept when no header declares one: the trailer's (which the body's decoder
    /// checks against the trailer's value) or the one the write asks for.
    computed: Option<(ChecksumAlgorithm, sigv4::checksum::Checksum)>,
}

/// A running checksum of `algorithm`.
fn running(algorithm: ChecksumAlgorithm) -> Option<(ChecksumAlgorithm, sigv4::checksum::Checksum)> {
    Some((algorithm, sigv4::checksum::Checksum::for_header(algorithm.header())?))
}

impl Integrity {
    fn new(digests: &BodyDigests) -> Integrity {
        let sums: Vec<_> = digests
            .checksums
            .iter()
            .filter_map(|(name, value)| {
                let sum = sigv4::checksum::Checksum::for_header(name)?;
                Some((name.clone(), value.clone(), sum))
            })
            .collect();
        let computed = if sums.is_empty() { digests.trailer.and_then(running) } else { None };
        Integrity { md5: Md5::new(), content_md5: digests.content_md5.clone(), sums, computed }
    }

    /// Only the MD5 (the ETag), no declared digest to check.
    fn none() -> Integrity {
        Integrity { md5: Md5::new(), content_md5: None, sums: Vec::new(), computed: None }
    }

    /// Computes `algorithm`'s checksum too, to keep, if the body declares none.
    fn keeping(mut self, algorithm: Option<ChecksumAlgorithm>) -> Integrity {
        if self.sums.is_empty() && self.computed.is_none() {
            self.computed = algorithm.and_then(running);
        }
        self
    }

    fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        for (_, _, sum) in &mut self.sums {
            sum.update(bytes);
        }
        if let Some((_, sum)) = &mut self.computed {
            sum.update(bytes);
        }
    }

    /// Checks the declared digests; returns the body's MD5 (hex), its ETag, and the checksum
    /// kept: the first a header declares (checked), else the one computed.
    fn finish(self) -> Result<(String, Option<Sum>), ApiError> {
        let md5 = self.md5.finalize();
        if let Some(given) = &self.content_md5 {
            let expected = b64().decode(given).map_err(|_| {
                s3err(400, "InvalidDigest", "The Content-MD5 you specified was invalid.")
            })?;
            if expected.as_slice() != md5.as_slice() {
                return Err(s3err(
                    400,
                    "BadDigest",
                    "The Content-MD5 you specified did not match what we received.",
                ));
            }
        }
        for (name, expected, sum) in &self.sums {
            if sum.finish_base64() != *expected {
                return Err(s3err(
                    400,
                    "BadDigest",
                    format!("The {name} you specified did not match the calculated checksum."),
                ));
            }
        }
        let declared = self.sums.first().and_then(|(name, value, _)| {
            Some(Sum { algorithm: ChecksumAlgorithm::from_header(name)?, value: value.clone() })
        });
        let kept = declared.or_else(|| {
            self.computed.map(|(algorithm, sum)| Sum { algorithm, value: sum.finish_base64() })
        });
        Ok((sigv4::encode::hex(md5.as_slice()), kept))
    }
}

/// Seals a request's body as one part under `data_key`: the streamed body if the request has
/// one, else its body read whole, or a copy's bytes). Checks the body's `digests` and writes
/// its blob durably, listing it in `fresh` (see [`crate::pipeline::service::Effect::fresh`]);
/// returns the sealed part (its checksum not set) and the additional checksum to keep: the
/// one the body declares, else `keep`'s computed over the body. For SSE-KMS and SSE-C
/// (`keyed`), the part's ETag is keyed.
pub(super) fn seal_body(
    state: &State,
    mut source: Source,
    (digests, keyed, keep): (&BodyDigests, bool, Option<ChecksumAlgorithm>),
    (account, identity): (&str, &str),
    data_key: &crypto::SecretBytes,
    fresh: &mut Vec<BlobRef>,
) -> Result<(SealedPart, Option<Sum>), ApiError> {
    let sealing_failed = |_| ApiError::internal("the object could not be encrypted");
    // A copy's bytes are another object's: the request's digests do not describe them.
    let integrity =
        if matches!(source, Source::Copy(_)) { Integrity::none() } else { Integrity::new(digests) };
    let mut integrity = integrity.keeping(keep);
    let len = source.len(digests)?;
    let blob_ref = BlobRef { account: account.to_string(), name: crate::support::ids::uuid() };
    let mut blob = state.blobs.create(&blob_ref).map_err(store_failed)?;
    let (mut encryptor, header) =
        crypto::object::Encryptor::new(data_key, identity.as_bytes(), len)
            .map_err(sealing_failed)?;
    blob.write(&header).map_err(store_failed)?;
    let mut out = Vec::with_capacity(2 * crypto::object::SEGMENT);
    let mut total = 0u64;
    while let Some(bytes) = source.read()? {
        total = total.saturating_add(bytes.len() as u64);
        if total > len {
            return Err(crate::protocol::payload::incomplete());
        }
        integrity.update(&bytes);
        encryptor.push(&bytes, &mut out).map_err(sealing_failed)?;
        blob.write(&out).map_err(store_failed)?;
        out.clear();
    }
    if total != len {
        return Err(crate::protocol::payload::incomplete());
    }
    encryptor.finish(&mut out).map_err(sealing_failed)?;
    blob.write(&out).map_err(store_failed)?;
    let (mut md5, kept) = integrity.finish()?;
    if keyed {
        // SSE-KMS and SSE-C: the ETag is not the plaintext's MD5 (as in S3), and nothing stored
        // hashes the plaintext without a key: an HMAC of the MD5 under the object's data key.
        let keyed = sigv4::key::hmac(data_key.expose(), md5.as_bytes());
        md5 = sigv4::encode::hex(keyed.get(..16).unwrap_or_default());
    }
    blob.commit().map_err(store_failed)?;
    let name = blob_ref.name.clone();
    fresh.push(blob_ref);
    let part =
        SealedPart { blob: name, size: len, identity: identity.to_string(), md5, checksum: None };
    Ok((part, kept))
}

/// The object bytes a streamed body declares: `x-amz-decoded-content-length` for
/// `aws-chunked` bodies, else `Content-Length`; at most 5 GiB, as in S3.
fn declared_length(digests: &BodyDigests) -> Result<u64, ApiError> {
    let len = digests.length.ok_or_else(|| {
        s3err(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
    })?;
    if len > super::MAX_PUT {
        return Err(s3err(
            400,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed object size.",
        ));
    }
    Ok(len)
}

/// Plaintext bytes per chunk read (16 segments): the unit of a streamed GET or copy.
pub(super) const STREAM_CHUNK: u64 = 1024 * 1024;

/// A part's blob, opened, and where the part lies in its object's plaintext.
struct OpenPart {
    blob: Box<dyn store::BlobRead>,
    /// The blob's length (a function of the part's size).
    stored: u64,
    /// The part's first plaintext byte in the object.
    start: u64,
    size: u64,
    identity: String,
}

/// Reads plaintext bytes `first..=last` of an object a chunk at a time, reading from each
/// part's blob only the segments a chunk needs. Every blob is opened when the reader is made:
/// an overwrite or delete that commits meanwhile drops blobs, and an open file stays readable
/// (local files) or the dropped blob outlives the read grace (S3, deferred deletion), so a
/// read that has begun finishes. A malformed or unauthentic blob is an internal error.
pub(crate) struct ObjectReader {
    parts: std::vec::IntoIter<OpenPart>,
    data_key: crypto::SecretBytes,
    first: u64,
    last: u64,
    /// The part being read, its opener and the next and last part-relative bytes to read.
    current: Option<(OpenPart, crypto::object::Opener, u64, u64)>,
    /// Plaintext bytes the reader yields in all.
    len: u64,
}

impl ObjectReader {
    pub(super) fn open(
        state: &State,
        account: &str,
        object: &Object,
        data_key: &crypto::SecretBytes,
        first: u64,
        last: u64,
    ) -> Result<ObjectReader, ApiError> {
        let mut parts = Vec::new();
        let mut start = 0u64;
        for part in &object.parts {
            let size = part.size;
            let end = start
                .checked_add(size)
                .ok_or_else(|| ApiError::internal("an object's record is malformed"))?;
            if size > 0 && end > first && start <= last {
                let stored = crypto::object::ciphertext_len(size);
                let blob = state
                    .blobs
                    .open(&part_file(account, part), stored)
                    .map_err(|_| ApiError::internal("an object's data is missing"))?;
                let identity = part.identity.clone();
                parts.push(OpenPart { blob, stored, start, size, identity });
            }
            start = end;
        }
        let len = if first > last || first >= start { 0 } else { last.min(start - 1) - first + 1 };
        Ok(ObjectReader {
            parts: parts.into_iter(),
            data_key: data_key.clone(),
            first,
            last,
            current: None,
            len,
        })
    }

    /// Plaintext bytes the reader yields in all.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// The next chunk of plaintext, or `None` at the end of the range.
    pub(super) fn read(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        let missing = |_| ApiError::internal("an object's data is missing");
        let corrupt = |_| ApiError::internal("an object failed authentication");
        loop {
            if let Some((part, opener, from, to)) = &mut self.current {
                if *from <= *to {
                    let chunk_end = from.saturating_add(STREAM_CHUNK - 1).min(*to);
                    let (at, len) = opener.span(*from, chunk_end).map_err(corrupt)?;
                    let len = usize::try_from(len)
                        .map_err(|_| ApiError::internal("an object is too large to read"))?;
                    let mut buf = vec![0u8; len];
                    part.blob.read_at(at, &mut buf).map_err(missing)?;
                    opener.open(*from, chunk_end, &mut buf).map_err(corrupt)?;
                    *from = chunk_end + 1;
                    return Ok(Some(buf));
                }
            }
            let Some(mut part) = self.parts.next() else { return Ok(None) };
            let stored = part.stored;
            let mut header = [0u8; crypto::object::HEADER_LEN];
            part.blob.read_at(0, &mut header).map_err(missing)?;
            let opener = crypto::object::Opener::new(
                &self.data_key,
                part.identity.as_bytes(),
                &header,
                stored,
            )
            .map_err(corrupt)?;
            // `open` kept only parts that overlap the range, with `size >= 1`.
            let from = self.first.saturating_sub(part.start);
            let to = self.last.min(part.start + part.size - 1) - part.start;
            self.current = Some((part, opener, from, to));
        }
    }
}

/// Where a part's bytes come from.
pub(crate) enum Source {
    /// A request body, decoded and verified as it arrives.
    Upload(crate::protocol::payload::PayloadReader),
    /// Another object's plaintext (CopyObject, UploadPartCopy).
    Copy(ObjectReader),
    /// A body read whole, handed over once.
    Whole(Option<Vec<u8>>),
}

impl Source {
    pub(super) fn read(&mut self) -> Result<Option<Vec<u8>>, ApiError> {
        match self {
            Source::Upload(reader) => reader.read(),
            Source::Copy(reader) => reader.read(),
            Source::Whole(bytes) => Ok(bytes.take()),
        }
    }

    /// The plaintext bytes the source holds in all (before any is read): what an upload
    /// declares, a copy's range, a whole body's length.
    fn len(&self, digests: &BodyDigests) -> Result<u64, ApiError> {
        match self {
            Source::Upload(_) => declared_length(digests),
            Source::Copy(reader) => Ok(reader.len),
            Source::Whole(bytes) => Ok(bytes.as_ref().map_or(0, |b| b.len() as u64)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn digests(checksums: &[(&str, &str)], trailer: Option<ChecksumAlgorithm>) -> BodyDigests {
        BodyDigests {
            checksums: checksums
                .iter()
                .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
                .collect(),
            trailer,
            ..BodyDigests::default()
        }
    }

    fn over_hello_world(mut integrity: Integrity) -> Result<(String, Option<Sum>), ApiError> {
        integrity.update(b"Hello ");
        integrity.update(b"world");
        integrity.finish()
    }

    fn sum(algorithm: ChecksumAlgorithm, value: &str) -> Option<Sum> {
        Some(Sum { algorithm, value: value.to_string() })
    }

    /// The checksum kept is the one a header declares (checked), else the trailer's, else the
    /// one the write asks for, computed in the MD5's pass ("Hello world": CRC-32 `i9aeUg==`,
    /// CRC-32C `crUfeA==`).
    #[test]
    fn the_kept_checksum_is_declared_or_computed() {
        use ChecksumAlgorithm as A;
        let declared = Integrity::new(&digests(&[("x-amz-checksum-crc32", "i9aeUg==")], None));
        let (md5, kept) = over_hello_world(declared.keeping(Some(A::Sha256))).unwrap();
        assert_eq!(md5, "3e25960a79dbc69b674cd4ec67a72c62");
        assert_eq!(kept, sum(A::Crc32, "i9aeUg=="));
        let trailer = Integrity::new(&digests(&[], Some(A::Crc32c)));
        assert_eq!(
            over_hello_world(trailer.keeping(Some(A::Crc32))).unwrap().1,
            sum(A::Crc32c, "crUfeA==")
        );
        let asked = Integrity::none().keeping(Some(A::Crc32));
        assert_eq!(over_hello_world(asked).unwrap().1, sum(A::Crc32, "i9aeUg=="));
        assert_eq!(over_hello_world(Integrity::none()).unwrap().1, None);
        let wrong = Integrity::new(&digests(&[("x-amz-checksum-crc32", "AAAAAA==")], None));
        assert_eq!(over_hello_world(wrong).unwrap_err().code, "BadDigest");
    }
}
