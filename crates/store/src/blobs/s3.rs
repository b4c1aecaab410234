//! Blobs in any S3-compatible object store: `PREFIX/blobs/ACCOUNT/NAME` in one bucket, through
//! the `object_store` crate. Its client is async; this backend owns a small private runtime and
//! waits on it from the calling (store) thread, so the store's interface stays synchronous.
//!
//! Writes buffer [`PART`] bytes: a blob that ends below that is one PUT, a longer one a
//! multipart upload of [`PART`]-sized parts (S3's minimum is 5 MiB) completed on commit and
//! aborted if the writer is dropped before. Reads are ranged GETs, with a read-ahead of about
//! one streamed chunk so a small object is one request.

use super::Counters;
use super::{plain, BlobEntry, BlobError, BlobRead, BlobRef, BlobStats, BlobStore, BlobWrite};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

/// Bytes per multipart part (and the largest blob written with one PUT).
pub const PART: usize = 8 * 1024 * 1024;

/// Bytes a read fetches at least: the header and the first streamed chunk (16 sealed 64 KiB
/// segments) of a blob in one request.
const READ_AHEAD: usize = 1024 * 1024 + 4096;

/// Where the bucket is and how to reach it. `Debug` shows no credential.
#[derive(Clone, Default)]
pub struct S3BlobOptions {
    /// The bucket.
    pub bucket: String,
    /// A key prefix within it (no leading or trailing `/`; may be empty).
    pub prefix: String,
    /// The endpoint (`http://127.0.0.1:9000`, `https://s3.example.net`); `None` for AWS.
    pub endpoint: Option<String>,
    /// The region requests are signed for.
    pub region: String,
    /// The access key; `None` to let the client find credentials (instance metadata).
    pub access_key_id: Option<String>,
    /// Its secret.
    pub secret_access_key: Option<Zeroizing<String>>,
    /// A session token, with temporary credentials.
    pub session_token: Option<Zeroizing<String>>,
    /// Virtual-hosted-style requests (`BUCKET.endpoint`) instead of path-style.
    pub virtual_hosted: bool,
}

impl std::fmt::Debug for S3BlobOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobOptions")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "[redacted]"))
            .field("session_token", &self.session_token.as_ref().map(|_| "[redacted]"))
            .field("virtual_hosted", &self.virtual_hosted)
            .finish()
    }
}

impl S3BlobOptions {
    /// The bucket and prefix of `s3://BUCKET[/PREFIX]`.
    ///
    /// # Errors
    /// A message saying what is wrong with the URL.
    pub fn parse_url(url: &str) -> Result<(String, String), String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("a blob store is s3://BUCKET[/PREFIX], not {url:?}"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket {
            return Err(format!("{bucket:?} is not a bucket name"));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|part| part == "." || part == "..")
            || prefix.contains("//")
            || prefix.chars().any(char::is_control)
        {
            return Err(format!("{prefix:?} is not a key prefix"));
        }
        Ok((bucket.to_string(), prefix.to_string()))
    }
}

/// Blobs in an S3-compatible bucket.
pub struct S3Blobs {
    inner: Arc<Inner>,
    /// `PREFIX/blobs`, the parent of every account's blobs.
    root: String,
}

/// The client and its runtime, shared with open readers and writers.
struct Inner {
    s3: Arc<AmazonS3>,
    runtime: Option<tokio::runtime::Runtime>,
    counters: Counters,
}

fn unavailable(e: &object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { .. } => BlobError::Missing,
        _ => BlobError::Unavailable("the blob store did not answer"),
    }
}

impl S3Blobs {
    /// A client for the bucket `options` names (no request is made: see [`BlobStore::probe`]).
    ///
    /// # Errors
    /// [`BlobError::Unavailable`] if the options are unusable or the runtime cannot start.
    pub fn new(options: &S3BlobOptions) -> Result<S3Blobs, BlobError> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&options.bucket)
            .with_region(&options.region)
            .with_virtual_hosted_style_request(options.virtual_hosted)
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..RetryConfig::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(120))
                    .with_allow_http(
                        options.endpoint.as_deref().is_some_and(|e| e.starts_with("http://")),
                    ),
            );
        if let Some(endpoint) = &options.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(id) = &options.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &options.secret_access_key {
            builder = builder.with_secret_access_key(secret.as_str());
        }
        if let Some(token) = &options.session_token {
            builder = builder.with_token(token.as_str());
        }
        let s3 = builder
            .build()
            .map_err(|_| BlobError::Unavailable("the blob store's settings are unusable"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hermetic-blobs")
            .enable_all()
            .build()
            .map_err(|_| BlobError::Unavailable("the blob store's runtime did not start"))?;
        let root = if options.prefix.is_empty() {
            "blobs".to_string()
        } else {
            format!("{}/blobs", options.prefix)
        };
        let inner =
            Inner { s3: Arc::new(s3), runtime: Some(runtime), counters: Counters::default() };
        Ok(S3Blobs { inner: Arc::new(inner), root })
    }

    fn run<T, F>(&self, work: F) -> Result<T, BlobError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, object_store::Error>> + Send + 'static,
    {
        self.inner.run(work)
    }

    fn s3(&self) -> Arc<AmazonS3> {
        Arc::clone(&self.inner.s3)
    }
}

impl Inner {
    /// Runs `work` on the private runtime and waits for it from this thread (which may be any
    /// thread, inside another runtime or not: the wait is a plain channel).
    fn run<T, F>(&self, work: F) -> Result<T, BlobError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, object_store::Error>> + Send + 'static,
    {
        let runtime =
            self.runtime.as_ref().ok_or(BlobError::Unavailable("the blob store is closed"))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = tx.send(work.await);
        });
        let result = rx.recv().map_err(|_| BlobError::Unavailable("the blob store is closed"))?;
        self.counters.request(result).map_err(|e| unavailable(&e))
    }
}

impl S3Blobs {
    fn account_dir(&self, account: &str) -> Result<Path, BlobError> {
        if plain(account) {
            Ok(Path::from(format!("{}/{account}", self.root)))
        } else {
            Err(BlobError::Unavailable("not a blob name"))
        }
    }

    fn path(&self, blob: &BlobRef) -> Result<Path, BlobError> {
        if plain(&blob.account) && plain(&blob.name) {
            Ok(Path::from(format!("{}/{}/{}", self.root, blob.account, blob.name)))
        } else {
            Err(BlobError::Unavailable("not a blob name"))
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropping a runtime waits for its threads, which is refused inside another runtime.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl BlobStore for S3Blobs {
    fn create(&self, blob: &BlobRef) -> Result<Box<dyn BlobWrite>, BlobError> {
        let path = self.path(blob)?;
        let store = Arc::clone(&self.inner);
        Ok(Box::new(S3Writer { store, path, buffer: Vec::new(), upload: None, done: false }))
    }

    fn open(&self, blob: &BlobRef, len: u64) -> Result<Box<dyn BlobRead>, BlobError> {
        let path = self.path(blob)?;
        Ok(Box::new(S3Reader { store: Arc::clone(&self.inner), path, len, cached: None }))
    }

    fn delete(&self, blob: &BlobRef) -> Result<(), BlobError> {
        let path = self.path(blob)?;
        let s3 = self.s3();
        match self.run(async move { s3.delete(&path).await }) {
            Ok(()) | Err(BlobError::Missing) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn accounts(&self) -> Result<Vec<String>, BlobError> {
        let s3 = self.s3();
        let root = Path::from(self.root.as_str());
        let listed = self.run(async move { s3.list_with_delimiter(Some(&root)).await })?;
        Ok(listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .filter(|name| plain(name))
            .collect())
    }

    fn list(&self, account: &str) -> Result<Vec<BlobEntry>, BlobError> {
        let s3 = self.s3();
        let dir = self.account_dir(account)?;
        let listed = self.run(async move {
            use futures_util::TryStreamExt;
            s3.list(Some(&dir)).try_collect::<Vec<_>>().await
        })?;
        Ok(listed
            .into_iter()
            .filter_map(|meta| {
                let name = meta.location.filename()?.to_string();
                let millis = u64::try_from(meta.last_modified.timestamp_millis()).ok()?;
                let modified = SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(millis))?;
                plain(&name).then_some(BlobEntry { name, modified })
            })
            .collect())
    }

    fn deferred_deletion(&self) -> bool {
        true
    }

    fn probe(&self) -> Result<(), BlobError> {
        let s3 = self.s3();
        let root = Path::from(self.root.as_str());
        self.run(async move { s3.list_with_delimiter(Some(&root)).await }).map(|_| ())
    }

    fn stats(&self) -> BlobStats {
        self.inner.counters.snapshot()
    }

    fn backend(&self) -> &'static str {
        "s3"
    }
}

/// A blob being written: buffered, then one PUT or a multipart upload.
struct S3Writer {
    store: Arc<Inner>,
    path: Path,
    buffer: Vec<u8>,
    /// The multipart upload once the blob outgrew one part, and its parts so far.
    upload: Option<(String, Vec<PartId>)>,
    /// Committed (or failed for good): nothing to abort.
    done: bool,
}

impl S3Writer {
    /// Uploads `bytes` as the next part, starting the multipart upload first if needed.
    fn put_part(&mut self, bytes: Vec<u8>) -> Result<(), BlobError> {
        let store = Arc::clone(&self.store);
        if self.upload.is_none() {
            let (s3, path) = (Arc::clone(&store.s3), self.path.clone());
            let id = store.run(async move { s3.create_multipart(&path).await })?;
            self.upload = Some((id, Vec::new()));
        }
        let Some((id, parts)) = self.upload.as_mut() else {
            return Err(BlobError::Unavailable("a multipart upload was lost"));
        };
        let (s3, path, upload, index) =
            (Arc::clone(&store.s3), self.path.clone(), id.clone(), parts.len());
        let n = bytes.len();
        let part = store.run(async move {
            s3.put_part(&path, &upload, index, PutPayload::from(bytes)).await
        })?;
        store.counters.wrote(n);
        parts.push(part);
        Ok(())
    }
}

impl BlobWrite for S3Writer {
    fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        if self.done {
            return Err(BlobError::Unavailable("a blob was abandoned"));
        }
        self.buffer.extend_from_slice(bytes);
        while self.buffer.len() >= PART {
            let rest = self.buffer.split_off(PART);
            let part = std::mem::replace(&mut self.buffer, rest);
            self.put_part(part)?;
        }
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<(), BlobError> {
        let buffer = std::mem::take(&mut self.buffer);
        let store = Arc::clone(&self.store);
        if self.upload.is_none() {
            let (s3, path, n) = (Arc::clone(&store.s3), self.path.clone(), buffer.len());
            store.run(async move { s3.put(&path, PutPayload::from(buffer)).await })?;
            store.counters.wrote(n);
            self.done = true;
            return Ok(());
        }
        if !buffer.is_empty() {
            self.put_part(buffer)?;
        }
        let Some((id, parts)) = self.upload.clone() else {
            return Err(BlobError::Unavailable("a multipart upload was lost"));
        };
        let (s3, path) = (Arc::clone(&store.s3), self.path.clone());
        store.run(async move { s3.complete_multipart(&path, &id, parts).await })?;
        self.done = true;
        Ok(())
    }
}

impl Drop for S3Writer {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // An abandoned multipart upload is aborted (its parts freed); a failed abort leaves it
        // to the bucket's AbortIncompleteMultipartUpload lifecycle rule. A single PUT that was
        // never sent left nothing.
        if let Some((id, _)) = self.upload.take() {
            let (s3, path) = (Arc::clone(&self.store.s3), self.path.clone());
            let _ = self.store.run(async move { s3.abort_multipart(&path, &id).await });
        }
    }
}

/// A blob being read with ranged GETs; the last range fetched is kept for the next read.
struct S3Reader {
    store: Arc<Inner>,
    path: Path,
    len: u64,
    cached: Option<(u64, bytes::Bytes)>,
}

impl BlobRead for S3Reader {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlobError> {
        let want = buf.len() as u64;
        let end =
            offset.checked_add(want).filter(|end| *end <= self.len).ok_or(BlobError::Missing)?;
        if want == 0 {
            return Ok(());
        }
        if let Some((start, bytes)) = &self.cached {
            if offset >= *start && end <= start.saturating_add(bytes.len() as u64) {
                let from = usize::try_from(offset - start).map_err(|_| BlobError::Missing)?;
                let slice =
                    bytes.get(from..from.saturating_add(buf.len())).ok_or(BlobError::Missing)?;
                buf.copy_from_slice(slice);
                return Ok(());
            }
        }
        let fetch_end = end.max(offset.saturating_add(READ_AHEAD as u64)).min(self.len);
        let (s3, path) = (Arc::clone(&self.store.s3), self.path.clone());
        let bytes = self.store.run(async move { s3.get_range(&path, offset..fetch_end).await })?;
        if (bytes.len() as u64) != fetch_end - offset {
            return Err(BlobError::Missing);
        }
        self.store.counters.read(bytes.len());
        let slice = bytes.get(..buf.len()).ok_or(BlobError::Missing)?;
        buf.copy_from_slice(slice);
        self.cached = Some((offset, bytes));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn blob_store_urls() {
        assert_eq!(
            S3BlobOptions::parse_url("s3://bucket").unwrap(),
            ("bucket".into(), String::new())
        );
        assert_eq!(
            S3BlobOptions::parse_url("s3://my-bucket/a/b/").unwrap(),
            ("my-bucket".into(), "a/b".into())
        );
        for bad in [
            "bucket",
            "s3://",
            "s3://ab",
            "s3://Bucket",
            "s3://b_c/x",
            "s3://bucket/a//b",
            "s3://bucket/../x",
        ] {
            assert!(S3BlobOptions::parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_never_show_their_secret() {
        let options = S3BlobOptions {
            secret_access_key: Some(Zeroizing::new("wJalrXUtnFEMI-canary".into())),
            session_token: Some(Zeroizing::new("token-canary".into())),
            ..S3BlobOptions::default()
        };
        let shown = format!("{options:?}");
        assert!(!shown.contains("canary"), "{shown}");
    }
}
