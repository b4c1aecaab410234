//! Blob stores: where sealed object data lives. A blob is opaque ciphertext (an object part in
//! `crypto::object`'s format) under a name the server makes (a UUID) within an account; nothing
//! here sees a key, plaintext, a bucket name or an object key.
//!
//! Two backends, one synchronous interface (the server calls it from its store threads):
//! - [`LocalBlobs`]: files under a directory (`DIR/blobs/ACCOUNT/NAME`), made durable with
//!   fsync and rename;
//! - [`S3Blobs`]: any S3-compatible object store (`PREFIX/blobs/ACCOUNT/NAME` in one bucket),
//!   through the `object_store` crate on a private runtime.
//!
//! A blob becomes visible only when its writer commits ([`BlobWrite::commit`]); a writer
//! dropped before leaves nothing (a temporary file removed, a multipart upload aborted).

mod local;
mod s3;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

pub use local::LocalBlobs;
pub use s3::{S3BlobOptions, S3Blobs};

/// Why a blob operation failed. The messages name no tenant data and no credential; the
/// backend's own error text (which may name its endpoint) is not kept.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The blob does not exist, or is shorter than its record says.
    #[error("a blob is missing")]
    Missing,
    /// The backend did not answer, or refused the request.
    #[error("the blob store is unavailable ({0})")]
    Unavailable(&'static str),
}

/// One blob of an account.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BlobRef {
    /// The account the blob belongs to (its directory or key prefix).
    pub account: String,
    /// The blob's name within the account (a UUID the server chose).
    pub name: String,
}

/// A blob found by [`BlobStore::list`].
#[derive(Clone, Debug)]
pub struct BlobEntry {
    /// The blob's name (a temporary file's `NAME.tmp` included, for the local backend).
    pub name: String,
    /// When it was last written, by the backend's clock.
    pub modified: SystemTime,
}

/// Counters of a blob store's traffic since it opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlobStats {
    /// Bytes written to committed or abandoned blobs.
    pub bytes_written: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Requests to the backend (S3 requests, or file operations).
    pub requests: u64,
    /// Requests that failed.
    pub errors: u64,
}

/// Where blobs live.
pub trait BlobStore: Send + Sync {
    /// Starts a new blob under a fresh name the caller chose (a UUID), invisible until
    /// [`BlobWrite::commit`].
    ///
    /// # Errors
    /// [`BlobError::Unavailable`] if it cannot be started.
    fn create(&self, blob: &BlobRef) -> Result<Box<dyn BlobWrite>, BlobError>;

    /// Opens a blob for reading; `len` is the length it must have (its record knows it). The
    /// local backend opens the file now, so a later deletion cannot break a read that began.
    ///
    /// # Errors
    /// [`BlobError::Missing`] if it does not exist or has another length (when the backend can
    /// tell without a request); [`BlobError::Unavailable`].
    fn open(&self, blob: &BlobRef, len: u64) -> Result<Box<dyn BlobRead>, BlobError>;

    /// Removes a blob; a missing one is not an error.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`].
    fn delete(&self, blob: &BlobRef) -> Result<(), BlobError>;

    /// The accounts that have blobs (or had: an empty directory may remain).
    ///
    /// # Errors
    /// [`BlobError::Unavailable`].
    fn accounts(&self) -> Result<Vec<String>, BlobError>;

    /// An account's blobs with their last-modified times.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`].
    fn list(&self, account: &str) -> Result<Vec<BlobEntry>, BlobError>;

    /// Whether blobs dropped by a commit must be kept for a while before they are deleted:
    /// a read that began before the commit fetches ranges of them later (S3). The local
    /// backend reads through descriptors opened at the start, so it deletes at once.
    fn deferred_deletion(&self) -> bool;

    /// A cheap request that shows the backend answers (readiness, start-up).
    ///
    /// # Errors
    /// [`BlobError::Unavailable`].
    fn probe(&self) -> Result<(), BlobError>;

    /// Traffic counters since the store opened.
    fn stats(&self) -> BlobStats;

    /// `"local"` or `"s3"`.
    fn backend(&self) -> &'static str;
}

/// A blob being written.
pub trait BlobWrite: Send {
    /// Appends bytes.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`]; the blob is then abandoned.
    fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError>;

    /// Makes the blob durable and visible under its name.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`]: nothing became visible.
    fn commit(self: Box<Self>) -> Result<(), BlobError>;
}

/// A blob being read.
pub trait BlobRead: Send {
    /// Fills `buf` with the blob's bytes from `offset`.
    ///
    /// # Errors
    /// [`BlobError::Missing`] if the blob ends before `buf` is full or is gone;
    /// [`BlobError::Unavailable`].
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlobError>;
}

/// The atomic counters behind [`BlobStats`].
#[derive(Default)]
struct Counters {
    bytes_written: AtomicU64,
    bytes_read: AtomicU64,
    requests: AtomicU64,
    errors: AtomicU64,
}

impl Counters {
    fn wrote(&self, n: usize) {
        self.bytes_written.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn read(&self, n: usize) {
        self.bytes_read.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Counts one request and passes its result through.
    fn request<T, E>(&self, result: Result<T, E>) -> Result<T, E> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if result.is_err() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn snapshot(&self) -> BlobStats {
        BlobStats {
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}

/// Whether `name` is one the server could have made: letters, digits, `-` and a `.` that
/// starts nothing (a UUID, an account id, a temporary file's `UUID.tmp`), so a name can never
/// climb out of an account's directory or prefix.
fn plain(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains("..")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}
