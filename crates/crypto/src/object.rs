//! The object format: how a tenant's S3 object is stored, as AES-256-GCM ciphertext in segments
//! so that large objects can be written as a stream and byte ranges read without decrypting the
//! rest.
//!
//! Version 1. An object of `n` plaintext bytes is sealed under a fresh 32-byte data key
//! ([`new_data_key`]) and cut into segments of [`SEGMENT`] plaintext bytes, the last one shorter
//! (an empty object is one empty final segment, so there are `max(1, ceil(n / SEGMENT))`):
//!
//! ```text
//! header   = 0x01 | nonce prefix (8 random bytes) | n (u64 big-endian)          17 bytes
//! object   = header | segment 0 | segment 1 | ... | segment last
//! segment  = AES-256-GCM ciphertext of the segment's plaintext | tag (16 bytes)
//! nonce i  = nonce prefix | i (u32 big-endian)
//! aad i    = header | identity | i (u64 big-endian) | final (u8: 1 for the last segment, else 0)
//! ```
//!
//! `identity` names the object (the server passes the bucket, key and version or upload id), so a
//! segment cannot be moved to another object or position, reordering, dropping or duplicating
//! segments fails, and so does truncation: the header's length fixes the number of segments and
//! the total length, and only the last segment carries the final flag. Every segment binds the
//! whole header, so the length and nonce prefix cannot be changed either. The identity is the
//! only variable-length part of the associated data and sits between two fixed-size fields, so
//! it is unambiguous.
//!
//! Segment indices are 32 bits in the nonce, so an object holds at most 2^32 segments
//! ([`MAX_PLAINTEXT_LEN`], 256 TiB). Data keys are meant to be used for one object each; the
//! random 64-bit prefix keeps nonces distinct even if a key is reused for a few objects.

use crate::secret::SecretBytes;
use rand_core::{OsRng, RngCore};
use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_256_GCM};
use std::fmt;
use zeroize::Zeroizing;

/// The current format version, the first byte of every object.
pub const VERSION: u8 = 1;
/// Plaintext bytes per segment (every segment but the last is exactly this long).
pub const SEGMENT: usize = 65536;
/// Header length: version (1), nonce prefix (8), plaintext length (8).
pub const HEADER_LEN: usize = 17;
/// The AES-GCM tag that follows each segment's ciphertext.
pub const TAG_LEN: usize = 16;
/// The longest object the format can hold: 2^32 segments of [`SEGMENT`] bytes.
pub const MAX_PLAINTEXT_LEN: u64 = (1 << 32) * SEGMENT as u64;

const KEY_LEN: usize = 32;
const PREFIX_LEN: usize = 8;
const MAX_SEGMENTS: u64 = 1 << 32;

/// Why an object cannot be encrypted or decrypted. Messages never include key or plaintext bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// Not a version 1 object, a length that does not match the header, an object too large for
    /// the format, or an [`Encryptor`] fed more or fewer bytes than it was promised.
    #[error("the data is not a well-formed version {VERSION} encrypted object")]
    Malformed,
    /// Authentication failed: tampered, rearranged, or opened with another key or identity.
    #[error("the object failed authentication")]
    Unauthentic,
    /// The data key has the wrong length.
    #[error("an object data key must be 32 bytes")]
    BadKey,
    /// The range starts at or past the end of the object, or ends before it starts.
    #[error("the requested range is not satisfiable")]
    RangeNotSatisfiable,
}

/// A fresh random 32-byte data key, for one object.
pub fn new_data_key() -> SecretBytes {
    let mut key = Zeroizing::new(vec![0u8; KEY_LEN]);
    OsRng.fill_bytes(&mut key);
    SecretBytes::new(std::mem::take(&mut *key))
}

/// The stored length of an object of `plaintext_len` bytes: header, plaintext and one tag per
/// segment. Saturates at `u64::MAX` for lengths the format cannot hold.
pub fn ciphertext_len(plaintext_len: u64) -> u64 {
    total_len(plaintext_len, SEGMENT as u64)
}

/// The plaintext length recorded in an object's header, after checking the version and that the
/// object's total length matches it. Needs no key; proves nothing about authenticity.
pub fn plaintext_len(ciphertext: &[u8]) -> Result<u64, ObjectError> {
    parse(ciphertext, SEGMENT).map(|(layout, _)| layout.len)
}

/// Encrypts a whole object under `key` (see [`new_data_key`]) for `identity`.
pub fn encrypt(
    key: &SecretBytes,
    identity: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, ObjectError> {
    encrypt_with(key, identity, plaintext, SEGMENT)
}

/// Decrypts and authenticates a whole object; fails unless every segment is intact and in place.
pub fn decrypt(
    key: &SecretBytes,
    identity: &[u8],
    ciphertext: &[u8],
) -> Result<SecretBytes, ObjectError> {
    decrypt_with(key, identity, ciphertext, SEGMENT)
}

/// Plaintext bytes `first..=last` (inclusive, as HTTP ranges), decrypting only the segments that
/// hold them. As in HTTP, a `last` at or past the end means "to the end"; a `first` at or past
/// the end (any range of an empty object) or after `last` is [`ObjectError::RangeNotSatisfiable`].
/// Only the segments read are authenticated, which is all the bytes returned depend on.
pub fn decrypt_range(
    key: &SecretBytes,
    identity: &[u8],
    ciphertext: &[u8],
    first: u64,
    last: u64,
) -> Result<Vec<u8>, ObjectError> {
    decrypt_range_with(key, identity, ciphertext, first, last, SEGMENT)
}

/// Streaming encryption for large uploads: feed plaintext in any chunk sizes; the total length
/// must be known up front (it is in the header). The concatenation of the header from
/// [`Encryptor::new`], everything [`Encryptor::push`] appended and what [`Encryptor::finish`]
/// appended is an object in exactly the format of [`encrypt`].
///
/// Holds at most one segment of plaintext, zeroized when dropped. After any error the encryptor
/// is poisoned: further calls fail, so its output can never be mistaken for a whole object.
pub struct Encryptor {
    key: SecretBytes,
    segments: Segments,
    layout: Layout,
    /// The next segment to seal.
    index: u64,
    /// Plaintext bytes accepted so far.
    pushed: u64,
    /// Plaintext of segment `index`, not yet sealed.
    pending: Zeroizing<Vec<u8>>,
    poisoned: bool,
}

impl Encryptor {
    /// Starts an object of exactly `total_len` plaintext bytes; returns the encryptor and the
    /// header, which is the first [`HEADER_LEN`] bytes of the object.
    pub fn new(
        key: &SecretBytes,
        identity: &[u8],
        total_len: u64,
    ) -> Result<(Encryptor, Vec<u8>), ObjectError> {
        Encryptor::with_segment(key, identity, total_len, SEGMENT)
    }

    fn with_segment(
        key: &SecretBytes,
        identity: &[u8],
        total_len: u64,
        segment: usize,
    ) -> Result<(Encryptor, Vec<u8>), ObjectError> {
        cipher(key)?;
        let layout = Layout::new(total_len, segment)?;
        let mut prefix = [0u8; PREFIX_LEN];
        OsRng.fill_bytes(&mut prefix);
        let header = header(prefix, total_len);
        let encryptor = Encryptor {
            key: key.clone(),
            segments: Segments::new(&header, identity),
            layout,
            index: 0,
            pushed: 0,
            // Never reallocated: it holds at most one segment and at most `total_len` bytes.
            pending: Zeroizing::new(Vec::with_capacity(
                segment.min(usize::try_from(total_len).unwrap_or(usize::MAX)),
            )),
            poisoned: false,
        };
        Ok((encryptor, header.to_vec()))
    }

    /// Accepts more plaintext and appends every segment it completes to `out`. The last segment
    /// is held back until [`Encryptor::finish`]. Fails, without consuming anything, if the bytes
    /// pushed would exceed the total length given to [`Encryptor::new`].
    pub fn push(&mut self, mut plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), ObjectError> {
        if self.poisoned {
            return Err(ObjectError::Malformed);
        }
        self.poisoned = true; // Until this push succeeds.
        self.pushed = u64::try_from(plaintext.len())
            .ok()
            .and_then(|n| self.pushed.checked_add(n))
            .filter(|&pushed| pushed <= self.layout.len)
            .ok_or(ObjectError::Malformed)?;
        let segment = to_usize(self.layout.segment)?;
        while !plaintext.is_empty() {
            let last = self.layout.is_final(self.index);
            if self.pending.is_empty() && !last {
                // A whole segment straight from the input, without copying it first.
                if let Some((whole, rest)) = plaintext.split_at_checked(segment) {
                    self.seal(whole, out)?;
                    plaintext = rest;
                    continue;
                }
            }
            let room = segment.saturating_sub(self.pending.len());
            let (head, rest) = plaintext
                .split_at_checked(room.min(plaintext.len()))
                .ok_or(ObjectError::Malformed)?;
            if head.is_empty() {
                // INVARIANT: unreachable, as `pushed <= len` keeps the last segment in bounds.
                return Err(ObjectError::Malformed);
            }
            self.pending.extend_from_slice(head);
            plaintext = rest;
            if self.pending.len() == segment && !last {
                let pending = std::mem::take(&mut self.pending);
                self.seal(&pending, out)?;
                self.pending = pending;
                self.pending.clear();
            }
        }
        self.poisoned = false;
        Ok(())
    }

    /// Seals the last segment and appends it to `out`. Fails if the bytes pushed are not exactly
    /// the total length given to [`Encryptor::new`], or after an earlier error.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), ObjectError> {
        if self.poisoned || self.pushed != self.layout.len || !self.layout.is_final(self.index) {
            return Err(ObjectError::Malformed);
        }
        let pending = std::mem::take(&mut self.pending);
        self.seal(&pending, out)
    }

    /// Seals `plaintext` as segment `index` and moves on to the next.
    fn seal(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), ObjectError> {
        // A cipher per segment: its key schedule (which ring does not zeroize) lives only as long.
        let cipher = cipher(&self.key)?;
        let last = self.layout.is_final(self.index);
        self.segments.seal(&cipher, self.index, last, plaintext, out)?;
        self.index = self.index.checked_add(1).ok_or(ObjectError::Malformed)?;
        Ok(())
    }
}

impl fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryptor")
            .field("total_len", &self.layout.len)
            .field("pushed", &self.pushed)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

fn encrypt_with(
    key: &SecretBytes,
    identity: &[u8],
    plaintext: &[u8],
    segment: usize,
) -> Result<Vec<u8>, ObjectError> {
    let len = u64::try_from(plaintext.len()).map_err(|_| ObjectError::Malformed)?;
    let (mut encryptor, mut out) = Encryptor::with_segment(key, identity, len, segment)?;
    out.reserve(to_usize(total_len(len, segment as u64))?.saturating_sub(HEADER_LEN));
    encryptor.push(plaintext, &mut out)?;
    encryptor.finish(&mut out)?;
    Ok(out)
}

fn decrypt_with(
    key: &SecretBytes,
    identity: &[u8],
    ciphertext: &[u8],
    segment: usize,
) -> Result<SecretBytes, ObjectError> {
    let cipher = cipher(key)?;
    let (layout, header) = parse(ciphertext, segment)?;
    let mut segments = Segments::new(&header, identity);
    let body = ciphertext.get(HEADER_LEN..).ok_or(ObjectError::Malformed)?;
    let mut sealed = body.chunks(segment.saturating_add(TAG_LEN));
    // Exact capacity: the plaintext is never reallocated, so no unzeroized copy is left behind.
    let mut plaintext = Zeroizing::new(Vec::with_capacity(to_usize(layout.len)?));
    for index in 0..layout.count {
        let chunk = sealed.next().ok_or(ObjectError::Malformed)?;
        segments.open(&cipher, index, layout.is_final(index), chunk, &mut plaintext)?;
    }
    if sealed.next().is_some() {
        return Err(ObjectError::Malformed);
    }
    Ok(SecretBytes::new(std::mem::take(&mut *plaintext)))
}

fn decrypt_range_with(
    key: &SecretBytes,
    identity: &[u8],
    ciphertext: &[u8],
    first: u64,
    last: u64,
    segment: usize,
) -> Result<Vec<u8>, ObjectError> {
    let stored = u64::try_from(ciphertext.len()).map_err(|_| ObjectError::Malformed)?;
    let mut opener = Opener::with_segment(key, identity, ciphertext, stored, segment)?;
    let (offset, len) = opener.span(first, last)?;
    let start = to_usize(offset)?;
    let end = to_usize(offset.saturating_add(len))?;
    let mut buf = ciphertext.get(start..end).ok_or(ObjectError::Malformed)?.to_vec();
    opener.open(first, last, &mut buf)?;
    Ok(buf)
}

/// Decrypts byte ranges of a stored object that is read piecemeal (from a file), so that a
/// large read never holds the whole object: built from the object's header and stored length,
/// it names the stored bytes a range needs ([`Opener::span`]) and opens them in place
/// ([`Opener::open`]). Only the segments read are authenticated, as with [`decrypt_range`].
pub struct Opener {
    key: SecretBytes,
    layout: Layout,
    segments: Segments,
}

impl Opener {
    /// Checks the header (the object's first [`HEADER_LEN`] bytes; more are ignored) against the
    /// object's stored length.
    pub fn new(
        key: &SecretBytes,
        identity: &[u8],
        header: &[u8],
        stored_len: u64,
    ) -> Result<Opener, ObjectError> {
        Opener::with_segment(key, identity, header, stored_len, SEGMENT)
    }

    fn with_segment(
        key: &SecretBytes,
        identity: &[u8],
        header: &[u8],
        stored_len: u64,
        segment: usize,
    ) -> Result<Opener, ObjectError> {
        cipher(key)?;
        let (layout, header) = parse_header(header, stored_len, segment)?;
        Ok(Opener { key: key.clone(), layout, segments: Segments::new(&header, identity) })
    }

    /// The object's plaintext length.
    pub fn len(&self) -> u64 {
        self.layout.len
    }

    /// Whether the object is empty.
    pub fn is_empty(&self) -> bool {
        self.layout.len == 0
    }

    /// The stored bytes, as `(offset, length)`, that hold plaintext bytes `first..=last`: the
    /// whole segments they lie in. Ranges are as in [`decrypt_range`].
    pub fn span(&self, first: u64, last: u64) -> Result<(u64, u64), ObjectError> {
        let (from, to) = self.segment_range(first, last)?;
        let start = self.layout.offset(from);
        let end = self.layout.offset(to).saturating_add(self.layout.plain_len(to));
        Ok((start, end.saturating_add(TAG_LEN as u64).saturating_sub(start)))
    }

    /// Opens `buf`, which holds exactly the stored bytes of [`Opener::span`] for the same range,
    /// in place: on success it holds plaintext bytes `first..=last`; on failure it is emptied.
    pub fn open(&mut self, first: u64, last: u64, buf: &mut Vec<u8>) -> Result<(), ObjectError> {
        let result = self.open_in_place(first, last, buf);
        if result.is_err() {
            buf.clear();
        }
        result
    }

    fn open_in_place(
        &mut self,
        first: u64,
        last: u64,
        buf: &mut Vec<u8>,
    ) -> Result<(), ObjectError> {
        // A cipher per call: its key schedule (which ring does not zeroize) lives only as long.
        let cipher = cipher(&self.key)?;
        let (from, to) = self.segment_range(first, last)?;
        let last = last.min(self.layout.len.saturating_sub(1));
        let (mut read, mut write) = (0usize, 0usize);
        for index in from..=to {
            let plain = to_usize(self.layout.plain_len(index))?;
            let end = read.saturating_add(plain);
            let tag = buf.get(end..end.saturating_add(TAG_LEN)).ok_or(ObjectError::Malformed)?;
            let tag = <[u8; TAG_LEN]>::try_from(tag).map_err(|_| ObjectError::Malformed)?;
            let (nonce, aad) = self.segments.bind(index, self.layout.is_final(index))?;
            let segment = buf.get_mut(read..end).ok_or(ObjectError::Malformed)?;
            cipher.open(nonce, aad, segment, tag)?;
            // The part of the range in this segment, moved down over the tags before it. Every
            // segment opened holds at least one byte of the range, so `plain >= 1`.
            let base = index.saturating_mul(self.layout.segment);
            let keep_from = to_usize(first.max(base).saturating_sub(base))?;
            let keep_to = to_usize(last.min(base.saturating_add(plain as u64 - 1)) - base)?;
            let span = read.saturating_add(keep_from)..=read.saturating_add(keep_to);
            buf.copy_within(span, write);
            write = write.saturating_add(keep_to - keep_from + 1);
            read = end.saturating_add(TAG_LEN);
        }
        if read != buf.len() {
            return Err(ObjectError::Malformed);
        }
        buf.truncate(write);
        Ok(())
    }

    /// The first and last segment holding plaintext bytes `first..=last`.
    fn segment_range(&self, first: u64, last: u64) -> Result<(u64, u64), ObjectError> {
        if first > last || first >= self.layout.len {
            return Err(ObjectError::RangeNotSatisfiable);
        }
        // `first < len`, so `len >= 1`.
        let last = last.min(self.layout.len.saturating_sub(1));
        Ok((first / self.layout.segment, last / self.layout.segment))
    }
}

impl fmt::Debug for Opener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opener").field("len", &self.layout.len).finish_non_exhaustive()
    }
}

/// Where an object's segments lie, from its plaintext length and segment size.
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// Plaintext length.
    len: u64,
    /// Plaintext bytes per segment ([`SEGMENT`], smaller in tests).
    segment: u64,
    /// Number of segments, at least 1 and at most [`MAX_SEGMENTS`].
    count: u64,
}

impl Layout {
    fn new(len: u64, segment: usize) -> Result<Layout, ObjectError> {
        let segment = u64::try_from(segment).map_err(|_| ObjectError::Malformed)?;
        let count = len.div_ceil(segment.max(1)).max(1);
        if segment == 0 || count > MAX_SEGMENTS {
            return Err(ObjectError::Malformed);
        }
        Ok(Layout { len, segment, count })
    }

    fn is_final(&self, index: u64) -> bool {
        index.saturating_add(1) == self.count
    }

    /// Plaintext length of segment `index` (< `count`).
    fn plain_len(&self, index: u64) -> u64 {
        if self.is_final(index) {
            let before = self.count.saturating_sub(1).saturating_mul(self.segment);
            self.len.saturating_sub(before)
        } else {
            self.segment
        }
    }

    /// Where segment `index` starts in the object.
    fn offset(&self, index: u64) -> u64 {
        let stride = self.segment.saturating_add(TAG_LEN as u64);
        index.saturating_mul(stride).saturating_add(HEADER_LEN as u64)
    }
}

/// The stored length of `len` plaintext bytes in segments of `segment`, saturating.
fn total_len(len: u64, segment: u64) -> u64 {
    let count = len.div_ceil(segment.max(1)).max(1);
    len.saturating_add(count.saturating_mul(TAG_LEN as u64)).saturating_add(HEADER_LEN as u64)
}

fn header(prefix: [u8; PREFIX_LEN], len: u64) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    let fields = [VERSION].into_iter().chain(prefix).chain(len.to_be_bytes());
    header.iter_mut().zip(fields).for_each(|(byte, field)| *byte = field);
    header
}

/// Checks the version and that the total length matches the header's plaintext length.
fn parse(ciphertext: &[u8], segment: usize) -> Result<(Layout, [u8; HEADER_LEN]), ObjectError> {
    let stored = u64::try_from(ciphertext.len()).map_err(|_| ObjectError::Malformed)?;
    parse_header(ciphertext, stored, segment)
}

/// Checks the version in the first [`HEADER_LEN`] bytes of `bytes` and that the object's stored
/// length matches the header's plaintext length.
fn parse_header(
    bytes: &[u8],
    stored: u64,
    segment: usize,
) -> Result<(Layout, [u8; HEADER_LEN]), ObjectError> {
    let header: [u8; HEADER_LEN] = bytes
        .get(..HEADER_LEN)
        .and_then(|header| header.try_into().ok())
        .ok_or(ObjectError::Malformed)?;
    let len = Some(header)
        .filter(|header| header.first() == Some(&VERSION))
        .and_then(|header| <[u8; 8]>::try_from(header.get(1 + PREFIX_LEN..)?).ok())
        .map(u64::from_be_bytes)
        .ok_or(ObjectError::Malformed)?;
    let layout = Layout::new(len, segment)?;
    if stored != total_len(len, layout.segment) {
        return Err(ObjectError::Malformed);
    }
    Ok((layout, header))
}

/// Seals and opens the segments of one object: its nonce prefix and associated data.
struct Segments {
    prefix: [u8; PREFIX_LEN],
    /// `header | identity`, followed while in use by the segment's index and final flag.
    aad: Vec<u8>,
    base: usize,
}

impl Segments {
    fn new(header: &[u8; HEADER_LEN], identity: &[u8]) -> Segments {
        let mut prefix = [0u8; PREFIX_LEN];
        prefix.iter_mut().zip(header.iter().skip(1)).for_each(|(byte, header)| *byte = *header);
        let mut aad = Vec::with_capacity(HEADER_LEN + identity.len() + 9);
        aad.extend_from_slice(header);
        aad.extend_from_slice(identity);
        let base = aad.len();
        Segments { prefix, aad, base }
    }

    /// The nonce and associated data of segment `index`.
    fn bind(&mut self, index: u64, last: bool) -> Result<([u8; 12], &[u8]), ObjectError> {
        let counter = u32::try_from(index).map_err(|_| ObjectError::Malformed)?;
        let mut nonce = [0u8; 12];
        nonce
            .iter_mut()
            .zip(self.prefix.into_iter().chain(counter.to_be_bytes()))
            .for_each(|(byte, field)| *byte = field);
        self.aad.truncate(self.base);
        self.aad.extend_from_slice(&index.to_be_bytes());
        self.aad.push(u8::from(last));
        Ok((nonce, &self.aad))
    }

    /// Appends the sealed segment (ciphertext and tag) to `out`.
    fn seal(
        &mut self,
        cipher: &Cipher,
        index: u64,
        last: bool,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ObjectError> {
        let (nonce, aad) = self.bind(index, last)?;
        let start = out.len();
        out.extend_from_slice(plaintext);
        let buffer = out.get_mut(start..).ok_or(ObjectError::Malformed)?;
        let tag = cipher.seal(nonce, aad, buffer)?;
        out.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Authenticates the sealed segment and appends its plaintext to `out`.
    fn open(
        &mut self,
        cipher: &Cipher,
        index: u64,
        last: bool,
        sealed: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ObjectError> {
        let (ciphertext, tag) = sealed
            .len()
            .checked_sub(TAG_LEN)
            .and_then(|at| sealed.split_at_checked(at))
            .ok_or(ObjectError::Malformed)?;
        let tag = <[u8; TAG_LEN]>::try_from(tag).map_err(|_| ObjectError::Malformed)?;
        let (nonce, aad) = self.bind(index, last)?;
        let start = out.len();
        out.extend_from_slice(ciphertext);
        let buffer = out.get_mut(start..).ok_or(ObjectError::Malformed)?;
        cipher.open(nonce, aad, buffer, tag).inspect_err(|_| out.truncate(start))
    }
}

/// AES-256-GCM over one data key (ring's implementation, which uses the CPU's AES and carry-less
/// multiplication instructions, including their vector forms where present).
struct Cipher(LessSafeKey);

impl Cipher {
    /// Encrypts `buffer` in place; returns the tag.
    fn seal(&self, nonce: [u8; 12], aad: &[u8], buffer: &mut [u8]) -> Result<Tag, ObjectError> {
        let nonce = Nonce::assume_unique_for_key(nonce);
        self.0
            .seal_in_place_separate_tag(nonce, Aad::from(aad), buffer)
            .map_err(|_| ObjectError::Malformed)
    }

    /// Authenticates and decrypts `buffer` in place. On failure `buffer` holds no plaintext
    /// that could be taken for authentic (callers discard it).
    fn open(
        &self,
        nonce: [u8; 12],
        aad: &[u8],
        buffer: &mut [u8],
        tag: [u8; TAG_LEN],
    ) -> Result<(), ObjectError> {
        let nonce = Nonce::assume_unique_for_key(nonce);
        self.0
            .open_in_place_separate_tag(nonce, Aad::from(aad), Tag::from(tag), buffer, 0..)
            .map(|_| ())
            .map_err(|_| ObjectError::Unauthentic)
    }
}

fn cipher(key: &SecretBytes) -> Result<Cipher, ObjectError> {
    let key = UnboundKey::new(&AES_256_GCM, key.expose()).map_err(|_| ObjectError::BadKey)?;
    Ok(Cipher(LessSafeKey::new(key)))
}

fn to_usize(n: u64) -> Result<usize, ObjectError> {
    usize::try_from(n).map_err(|_| ObjectError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &[u8] = b"arn:aws:s3:::bucket/key#version-1";
    /// A small segment size, so that every bit of a multi-segment object can be flipped.
    const SMALL: usize = 32;

    fn data(len: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; len];
        OsRng.fill_bytes(&mut bytes);
        bytes
    }

    /// Where segment `index` starts and ends in an object of `len` plaintext bytes.
    fn segment_at(len: u64, segment: usize, index: u64) -> std::ops::Range<usize> {
        let layout = Layout::new(len, segment).unwrap();
        let start = layout.offset(index) as usize;
        start..start + layout.plain_len(index) as usize + TAG_LEN
    }

    fn with_len(ciphertext: &[u8], len: u64) -> Vec<u8> {
        let mut changed = ciphertext.to_vec();
        changed[9..17].copy_from_slice(&len.to_be_bytes());
        changed
    }

    #[test]
    fn round_trips() {
        let key = new_data_key();
        let around_200k = 200 * 1024 - 4096 + (OsRng.next_u64() % 8192) as usize;
        for len in [0, 1, 65535, 65536, 65537, 3 * 65536, around_200k] {
            let plaintext = data(len);
            let ciphertext = encrypt(&key, ID, &plaintext).unwrap();
            assert_eq!(ciphertext.len() as u64, ciphertext_len(len as u64), "{len}");
            assert_eq!(plaintext_len(&ciphertext), Ok(len as u64));
            assert_eq!(ciphertext[0], VERSION);
            let opened = decrypt(&key, ID, &ciphertext).unwrap();
            assert_eq!(opened.expose(), &plaintext[..], "{len}");
        }
    }

    /// The format as documented, checked with an independent AES-GCM implementation: objects
    /// sealed before and after a change of implementation must stay readable.
    #[test]
    fn segments_are_standard_aes_gcm_as_documented() {
        use aes_gcm::aead::AeadInPlace;
        use aes_gcm::{Aes256Gcm, KeyInit};
        let key = new_data_key();
        let plaintext = data(SEGMENT + 5);
        let ciphertext = encrypt(&key, ID, &plaintext).unwrap();
        let header = &ciphertext[..HEADER_LEN];
        let independent = Aes256Gcm::new_from_slice(key.expose()).unwrap();
        for (index, range) in [(0u64, 0..SEGMENT), (1, SEGMENT..SEGMENT + 5)] {
            let mut nonce = header[1..9].to_vec();
            nonce.extend_from_slice(&(index as u32).to_be_bytes());
            let mut aad = header.to_vec();
            aad.extend_from_slice(ID);
            aad.extend_from_slice(&index.to_be_bytes());
            aad.push(u8::from(index == 1));
            let sealed = &ciphertext[segment_at(plaintext.len() as u64, SEGMENT, index)];
            let (body, tag) = sealed.split_at(sealed.len() - TAG_LEN);
            let mut buffer = body.to_vec();
            independent
                .decrypt_in_place_detached(
                    aes_gcm::Nonce::from_slice(&nonce),
                    &aad,
                    &mut buffer,
                    aes_gcm::Tag::from_slice(tag),
                )
                .unwrap();
            assert_eq!(buffer, &plaintext[range], "segment {index}");
        }
    }

    #[test]
    fn lengths_agree() {
        assert_eq!(ciphertext_len(0), 17 + 16);
        assert_eq!(ciphertext_len(1), 17 + 1 + 16);
        assert_eq!(ciphertext_len(65536), 17 + 65536 + 16);
        assert_eq!(ciphertext_len(65537), 17 + 65537 + 32);
        assert_eq!(ciphertext_len(3 * 65536), 17 + 3 * 65536 + 48);
        assert_eq!(ciphertext_len(u64::MAX), u64::MAX);
        let max = ciphertext_len(MAX_PLAINTEXT_LEN);
        assert_eq!(max, 17 + MAX_PLAINTEXT_LEN + 16 * (1 << 32));
        let ciphertext = encrypt(&new_data_key(), ID, &data(1000)).unwrap();
        assert_eq!(plaintext_len(&ciphertext), Ok(1000));
        assert_eq!(plaintext_len(&ciphertext[..16]), Err(ObjectError::Malformed));
        assert_eq!(plaintext_len(&[]), Err(ObjectError::Malformed));
        for len in [999, 1001, MAX_PLAINTEXT_LEN + 1, u64::MAX] {
            let changed = with_len(&ciphertext, len);
            assert_eq!(plaintext_len(&changed), Err(ObjectError::Malformed), "{len}");
        }
        let mut version_2 = ciphertext.clone();
        version_2[0] = 2;
        assert_eq!(plaintext_len(&version_2), Err(ObjectError::Malformed));
    }

    #[test]
    fn ranges() {
        let key = new_data_key();
        let len = 3 * 65536 + 100;
        let plaintext = data(len);
        let ciphertext = encrypt(&key, ID, &plaintext).unwrap();
        let n = len as u64;
        let cases = [
            (10, 20),               // inside one segment
            (0, 0),                 // the first byte
            (65530, 65545),         // across a boundary
            (65535, 65536),         // the two bytes either side of a boundary
            (65536, 2 * 65536 - 1), // exactly one segment
            (100, 2 * 65536 + 5),   // across two boundaries
            (0, n - 1),             // the whole object
            (n - 1, n - 1),         // the last byte
            (3 * 65536, n - 1),     // the short last segment
        ];
        for (first, last) in cases {
            let got = decrypt_range(&key, ID, &ciphertext, first, last).unwrap();
            assert_eq!(got, &plaintext[first as usize..=last as usize], "{first}-{last}");
        }
        // As in HTTP, a last byte past the end means "to the end".
        let tail = decrypt_range(&key, ID, &ciphertext, n - 5, u64::MAX).unwrap();
        assert_eq!(tail, &plaintext[len - 5..]);
        let whole = decrypt_range(&key, ID, &ciphertext, 0, n).unwrap();
        assert_eq!(whole, plaintext);
        for (first, last) in [(n, n), (n, u64::MAX), (u64::MAX, u64::MAX), (5, 4)] {
            let result = decrypt_range(&key, ID, &ciphertext, first, last);
            assert_eq!(result, Err(ObjectError::RangeNotSatisfiable), "{first}-{last}");
        }
        let empty = encrypt(&key, ID, &[]).unwrap();
        let result = decrypt_range(&key, ID, &empty, 0, 0);
        assert_eq!(result, Err(ObjectError::RangeNotSatisfiable));
        // Only the segments holding the range are read: damage elsewhere goes unnoticed there,
        // damage inside is caught.
        let mut damaged = ciphertext.clone();
        damaged[segment_at(n, SEGMENT, 2).start] ^= 1;
        assert!(decrypt_range(&key, ID, &damaged, 0, 65536 + 10).is_ok());
        let result = decrypt_range(&key, ID, &damaged, 65536, 2 * 65536);
        assert_eq!(result, Err(ObjectError::Unauthentic));
        let result = decrypt_range(&key, &ID[1..], &ciphertext, 10, 20);
        assert_eq!(result, Err(ObjectError::Unauthentic));
    }

    #[test]
    fn ranges_with_small_segments() {
        let key = new_data_key();
        for len in [1, SMALL - 1, SMALL, SMALL + 1, 3 * SMALL, 3 * SMALL + 7] {
            let plaintext = data(len);
            let ciphertext = encrypt_with(&key, ID, &plaintext, SMALL).unwrap();
            for first in 0..len {
                for last in first..len + 2 {
                    let got =
                        decrypt_range_with(&key, ID, &ciphertext, first as u64, last as u64, SMALL)
                            .unwrap();
                    assert_eq!(got, &plaintext[first..=last.min(len - 1)]);
                }
            }
        }
    }

    /// Reads `first..=last` through an [`Opener`] as a server does from a file.
    fn open_piecemeal(
        key: &SecretBytes,
        ciphertext: &[u8],
        first: u64,
        last: u64,
        segment: usize,
    ) -> Result<Vec<u8>, ObjectError> {
        let stored = ciphertext.len() as u64;
        let mut opener = Opener::with_segment(key, ID, &ciphertext[..HEADER_LEN], stored, segment)?;
        let (offset, len) = opener.span(first, last)?;
        let mut buf = ciphertext[offset as usize..(offset + len) as usize].to_vec();
        opener.open(first, last, &mut buf)?;
        Ok(buf)
    }

    #[test]
    fn opener_reads_ranges_piecemeal() {
        let key = new_data_key();
        for len in [1, SMALL - 1, SMALL, SMALL + 1, 3 * SMALL, 3 * SMALL + 7] {
            let plaintext = data(len);
            let ciphertext = encrypt_with(&key, ID, &plaintext, SMALL).unwrap();
            for first in 0..len as u64 {
                for last in first..len as u64 + 2 {
                    let got = open_piecemeal(&key, &ciphertext, first, last, SMALL).unwrap();
                    let end = last.min(len as u64 - 1) as usize;
                    assert_eq!(got, &plaintext[first as usize..=end], "{len}: {first}-{last}");
                }
            }
        }
        // With full-size segments, consecutive 1 MiB reads rebuild the object.
        let plaintext = data(3 * 1024 * 1024 + 12345);
        let ciphertext = encrypt(&key, ID, &plaintext).unwrap();
        let opener = Opener::new(&key, ID, &ciphertext, ciphertext.len() as u64).unwrap();
        assert_eq!(opener.len(), plaintext.len() as u64);
        let mut rebuilt = Vec::new();
        let mut first = 0u64;
        while first < opener.len() {
            let last = (first + (1 << 20) - 1).min(opener.len() - 1);
            rebuilt.extend(open_piecemeal(&key, &ciphertext, first, last, SEGMENT).unwrap());
            first = last + 1;
        }
        assert_eq!(rebuilt, plaintext);
    }

    #[test]
    fn opener_refuses_bad_input() {
        let key = new_data_key();
        let plaintext = data(3 * SMALL + 7);
        let ciphertext = encrypt_with(&key, ID, &plaintext, SMALL).unwrap();
        let stored = ciphertext.len() as u64;
        let header = &ciphertext[..HEADER_LEN];
        // A stored length that does not match the header, a short header, a wrong key size.
        for wrong in [stored - 1, stored + 1, 0] {
            let result = Opener::with_segment(&key, ID, header, wrong, SMALL);
            assert_eq!(result.err(), Some(ObjectError::Malformed), "{wrong}");
        }
        let result = Opener::with_segment(&key, ID, &header[..16], stored, SMALL);
        assert_eq!(result.err(), Some(ObjectError::Malformed));
        let short_key = SecretBytes::new(vec![0u8; 16]);
        let result = Opener::with_segment(&short_key, ID, header, stored, SMALL);
        assert_eq!(result.err(), Some(ObjectError::BadKey));
        let mut opener = Opener::with_segment(&key, ID, header, stored, SMALL).unwrap();
        let n = plaintext.len() as u64;
        assert_eq!(opener.span(n, n), Err(ObjectError::RangeNotSatisfiable));
        assert_eq!(opener.span(5, 4), Err(ObjectError::RangeNotSatisfiable));
        // A span one byte short or long, every flipped bit of a span, and another identity.
        let (offset, len) = opener.span(SMALL as u64 - 3, 2 * SMALL as u64 + 1).unwrap();
        let span = &ciphertext[offset as usize..(offset + len) as usize];
        for wrong in [&span[..span.len() - 1], &[span, &[0u8][..]].concat()[..]] {
            let mut buf = wrong.to_vec();
            let result = opener.open(SMALL as u64 - 3, 2 * SMALL as u64 + 1, &mut buf);
            assert_eq!(result, Err(ObjectError::Malformed));
            assert!(buf.is_empty());
        }
        for bit in 0..span.len() * 8 {
            let mut buf = span.to_vec();
            buf[bit / 8] ^= 1 << (bit % 8);
            let result = opener.open(SMALL as u64 - 3, 2 * SMALL as u64 + 1, &mut buf);
            assert_eq!(result, Err(ObjectError::Unauthentic), "bit {bit}");
            assert!(buf.is_empty(), "bit {bit}");
        }
        let mut other = Opener::with_segment(&key, b"other", header, stored, SMALL).unwrap();
        let mut buf = span.to_vec();
        let result = other.open(SMALL as u64 - 3, 2 * SMALL as u64 + 1, &mut buf);
        assert_eq!(result, Err(ObjectError::Unauthentic));
    }

    #[test]
    fn every_flipped_bit_fails() {
        let key = new_data_key();
        let plaintext = data(SMALL + 9);
        let ciphertext = encrypt_with(&key, ID, &plaintext, SMALL).unwrap();
        assert_eq!(ciphertext.len(), HEADER_LEN + SMALL + 9 + 2 * TAG_LEN);
        assert!(decrypt_with(&key, ID, &ciphertext, SMALL).is_ok());
        for bit in 0..ciphertext.len() * 8 {
            let mut flipped = ciphertext.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let result = decrypt_with(&key, ID, &flipped, SMALL);
            assert!(
                matches!(result, Err(ObjectError::Malformed | ObjectError::Unauthentic)),
                "bit {bit}"
            );
        }
    }

    #[test]
    fn flipped_bits_fail_with_full_segments() {
        // Every bit of the header, both tags and the short last segment, the first and last
        // bytes of the first segment, and a sample of the rest (all of it would be too slow).
        let key = new_data_key();
        let len = SEGMENT + 1;
        let ciphertext = encrypt(&key, ID, &data(len)).unwrap();
        let first_end = HEADER_LEN + SEGMENT + TAG_LEN;
        let bytes = (0..HEADER_LEN + 64)
            .chain(first_end - TAG_LEN - 64..ciphertext.len())
            .chain((HEADER_LEN..first_end).step_by(997));
        for byte in bytes {
            for bit in 0..8 {
                let mut flipped = ciphertext.clone();
                flipped[byte] ^= 1 << bit;
                assert!(decrypt(&key, ID, &flipped).is_err(), "byte {byte} bit {bit}");
            }
        }
    }

    #[test]
    fn rearranged_segments_fail() {
        let key = new_data_key();
        let len = 3 * SEGMENT + 10;
        let n = len as u64;
        let ciphertext = encrypt(&key, ID, &data(len)).unwrap();
        let seg = |i| ciphertext[segment_at(n, SEGMENT, i)].to_vec();
        let header = ciphertext[..HEADER_LEN].to_vec();
        let assemble = |parts: &[Vec<u8>]| {
            let mut out = header.clone();
            parts.iter().for_each(|part| out.extend_from_slice(part));
            out
        };
        assert_eq!(assemble(&[seg(0), seg(1), seg(2), seg(3)]), ciphertext);

        let swapped = assemble(&[seg(1), seg(0), seg(2), seg(3)]);
        assert_eq!(decrypt(&key, ID, &swapped), Err(ObjectError::Unauthentic));
        let duplicated = assemble(&[seg(0), seg(0), seg(2), seg(3)]);
        assert_eq!(decrypt(&key, ID, &duplicated), Err(ObjectError::Unauthentic));
        let inserted = assemble(&[seg(0), seg(0), seg(1), seg(2), seg(3)]);
        assert_eq!(decrypt(&key, ID, &inserted), Err(ObjectError::Malformed));
        let inserted = with_len(&inserted, n + SEGMENT as u64);
        assert_eq!(decrypt(&key, ID, &inserted), Err(ObjectError::Unauthentic));

        // Dropping the last segment: the length no longer matches, and with the header's length
        // changed to match, the header and the missing final flag fail authentication.
        let dropped = assemble(&[seg(0), seg(1), seg(2)]);
        assert_eq!(decrypt(&key, ID, &dropped), Err(ObjectError::Malformed));
        let dropped = with_len(&dropped, 3 * SEGMENT as u64);
        assert_eq!(decrypt(&key, ID, &dropped), Err(ObjectError::Unauthentic));
        let result = decrypt_range(&key, ID, &dropped, 0, 10);
        assert_eq!(result, Err(ObjectError::Unauthentic));
    }

    #[test]
    fn truncation_fails() {
        let key = new_data_key();
        let ciphertext = encrypt(&key, ID, &data(2 * SEGMENT + 3)).unwrap();
        for cut in 0..ciphertext.len() {
            let result = decrypt(&key, ID, &ciphertext[..cut]);
            assert_eq!(result, Err(ObjectError::Malformed), "{cut}");
            let result = decrypt_range(&key, ID, &ciphertext[..cut], 0, 0);
            assert_eq!(result, Err(ObjectError::Malformed), "{cut}");
        }
        // With the length field rewritten to match the truncation, authentication fails.
        let small = encrypt_with(&key, ID, &data(3 * SMALL + 5), SMALL).unwrap();
        for len in 0..3 * SMALL as u64 + 5 {
            let cut = &small[..total_len(len, SMALL as u64) as usize];
            let relabelled = with_len(cut, len);
            assert!(decrypt_with(&key, ID, &relabelled, SMALL).is_err(), "{len}");
        }
    }

    #[test]
    fn wrong_identity_key_or_length_fails() {
        let key = new_data_key();
        let plaintext = data(SEGMENT + 100);
        let ciphertext = encrypt(&key, ID, &plaintext).unwrap();
        let longer = [ID, b"\0"].concat();
        for other in [b"", &b"arn:aws:s3:::bucket/key#version-2"[..], &ID[1..], &longer] {
            assert_eq!(decrypt(&key, other, &ciphertext), Err(ObjectError::Unauthentic));
        }
        let other_key = new_data_key();
        assert_ne!(other_key, key);
        assert_eq!(decrypt(&other_key, ID, &ciphertext), Err(ObjectError::Unauthentic));
        for bad in [SecretBytes::new(vec![]), SecretBytes::new(vec![7; 16])] {
            assert_eq!(decrypt(&bad, ID, &ciphertext).unwrap_err(), ObjectError::BadKey);
            assert_eq!(encrypt(&bad, ID, &plaintext).unwrap_err(), ObjectError::BadKey);
            assert_eq!(Encryptor::new(&bad, ID, 1).unwrap_err(), ObjectError::BadKey);
        }
        // The length field: inconsistent with the total length, or consistent after cutting.
        let n = plaintext.len() as u64;
        for len in [0, 1, n - 1, n + 1, 2 * SEGMENT as u64] {
            let changed = with_len(&ciphertext, len);
            assert_eq!(decrypt(&key, ID, &changed).unwrap_err(), ObjectError::Malformed);
        }
        let mut shorter = with_len(&ciphertext, n - 1);
        shorter.remove(HEADER_LEN + SEGMENT + TAG_LEN);
        assert_eq!(decrypt(&key, ID, &shorter).unwrap_err(), ObjectError::Unauthentic);
    }

    #[test]
    fn encryptor_matches_encrypt() {
        let key = new_data_key();
        let lens = [0, 1, 2 * SEGMENT, 3 * SEGMENT + 12345];
        for len in lens {
            let plaintext = data(len);
            for chunk in [1, 7, 65535, 65536, 70000, 1 << 20] {
                let (mut encryptor, mut out) = Encryptor::new(&key, ID, len as u64).unwrap();
                assert_eq!(out.len(), HEADER_LEN);
                for piece in plaintext.chunks(chunk) {
                    encryptor.push(piece, &mut out).unwrap();
                    // Only whole segments come out, and the last is held back.
                    assert_eq!((out.len() - HEADER_LEN) % (SEGMENT + TAG_LEN), 0);
                }
                encryptor.push(&[], &mut out).unwrap();
                encryptor.finish(&mut out).unwrap();
                assert_eq!(out.len() as u64, ciphertext_len(len as u64), "{len} {chunk}");
                let opened = decrypt(&key, ID, &out).unwrap();
                assert_eq!(opened.expose(), &plaintext[..], "{len} {chunk}");
            }
        }
    }

    #[test]
    fn encryptor_needs_exactly_the_promised_bytes() {
        let key = new_data_key();
        let (mut encryptor, mut out) = Encryptor::new(&key, ID, 100).unwrap();
        encryptor.push(&[1; 99], &mut out).unwrap();
        assert_eq!(encryptor.finish(&mut out), Err(ObjectError::Malformed));

        let (encryptor, mut out) = Encryptor::new(&key, ID, 1).unwrap();
        assert_eq!(encryptor.finish(&mut out), Err(ObjectError::Malformed));

        // Too many: the push fails and poisons the encryptor, so finishing fails too.
        let (mut encryptor, mut out) = Encryptor::new(&key, ID, 100).unwrap();
        encryptor.push(&[1; 100], &mut out).unwrap();
        assert_eq!(encryptor.push(&[1], &mut out), Err(ObjectError::Malformed));
        assert_eq!(encryptor.push(&[], &mut out), Err(ObjectError::Malformed));
        assert_eq!(encryptor.finish(&mut out), Err(ObjectError::Malformed));

        let (mut encryptor, mut out) = Encryptor::new(&key, ID, 0).unwrap();
        assert_eq!(encryptor.push(&[1], &mut out), Err(ObjectError::Malformed));
        assert_eq!(encryptor.finish(&mut out), Err(ObjectError::Malformed));

        let too_big = Encryptor::new(&key, ID, MAX_PLAINTEXT_LEN + 1);
        assert_eq!(too_big.unwrap_err(), ObjectError::Malformed);
        assert!(Encryptor::new(&key, ID, MAX_PLAINTEXT_LEN).is_ok());
    }

    #[test]
    fn encryptions_differ() {
        let key = new_data_key();
        let plaintext = data(SEGMENT + 1);
        let one = encrypt(&key, ID, &plaintext).unwrap();
        let two = encrypt(&key, ID, &plaintext).unwrap();
        assert_ne!(one, two);
        assert_ne!(one[1..9], two[1..9], "nonce prefixes");
        assert_eq!(one[9..17], two[9..17]);
        assert_ne!(new_data_key(), new_data_key());
        assert_eq!(new_data_key().len(), 32);
    }

    #[test]
    fn nothing_secret_is_printed() {
        let (mut encryptor, mut out) = Encryptor::new(&new_data_key(), ID, 10).unwrap();
        encryptor.push(b"plaintext", &mut out).unwrap();
        let printed = format!("{encryptor:?}");
        assert_eq!(printed, "Encryptor { total_len: 10, pushed: 9, poisoned: false, .. }");
        let message = ObjectError::Unauthentic.to_string();
        assert_eq!(message, "the object failed authentication");
    }
}
