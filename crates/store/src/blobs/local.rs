//! Blobs as files: `ROOT/ACCOUNT/NAME`, written as `NAME.tmp` and renamed once synced, every
//! directory 0700 and every file 0600.

use super::Counters;
use super::{plain, BlobEntry, BlobError, BlobRead, BlobRef, BlobStats, BlobStore, BlobWrite};
use crate::private::{create_dirs, create_file};
use std::path::PathBuf;
use std::sync::Arc;

/// Blobs in a directory of the data directory (`DIR/blobs`).
pub struct LocalBlobs {
    root: PathBuf,
    counters: Arc<Counters>,
}

impl LocalBlobs {
    /// Blobs under `root` (created on the first write).
    #[must_use]
    pub fn new(root: PathBuf) -> LocalBlobs {
        LocalBlobs { root, counters: Arc::default() }
    }

    fn dir(&self, account: &str) -> Result<PathBuf, BlobError> {
        if plain(account) {
            Ok(self.root.join(account))
        } else {
            Err(BlobError::Unavailable("not a blob name"))
        }
    }

    fn path(&self, blob: &BlobRef) -> Result<PathBuf, BlobError> {
        if plain(&blob.name) {
            Ok(self.dir(&blob.account)?.join(&blob.name))
        } else {
            Err(BlobError::Unavailable("not a blob name"))
        }
    }
}

fn unavailable<E>(_: E) -> BlobError {
    BlobError::Unavailable("a blob file could not be written")
}

impl BlobStore for LocalBlobs {
    fn create(&self, blob: &BlobRef) -> Result<Box<dyn BlobWrite>, BlobError> {
        let dir = self.dir(&blob.account)?;
        self.path(blob)?;
        let name = blob.name.clone();
        let file = self
            .counters
            .request(create_dirs(&dir).and_then(|()| create_file(&dir.join(format!("{name}.tmp")))))
            .map_err(unavailable)?;
        Ok(Box::new(FileWriter { counters: self.counters.clone(), dir, name, file: Some(file) }))
    }

    fn open(&self, blob: &BlobRef, len: u64) -> Result<Box<dyn BlobRead>, BlobError> {
        let file = self
            .counters
            .request(std::fs::File::open(self.path(blob)?))
            .map_err(|_| BlobError::Missing)?;
        let stored = file.metadata().map_err(|_| BlobError::Missing)?.len();
        if stored != len {
            return Err(BlobError::Missing);
        }
        Ok(Box::new(FileReader { counters: self.counters.clone(), file }))
    }

    fn delete(&self, blob: &BlobRef) -> Result<(), BlobError> {
        match self.counters.request(std::fs::remove_file(self.path(blob)?)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(_) => Err(BlobError::Unavailable("a blob file could not be removed")),
        }
    }

    fn accounts(&self) -> Result<Vec<String>, BlobError> {
        let dirs = match std::fs::read_dir(&self.root) {
            Ok(dirs) => dirs,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(_) => return Err(BlobError::Unavailable("the blob directory could not be read")),
        };
        Ok(dirs
            .flatten()
            .map(|d| d.file_name().to_string_lossy().into_owned())
            .filter(|name| plain(name))
            .collect())
    }

    fn list(&self, account: &str) -> Result<Vec<BlobEntry>, BlobError> {
        let files = match std::fs::read_dir(self.dir(account)?) {
            Ok(files) => files,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(_) => return Err(BlobError::Unavailable("a blob directory could not be read")),
        };
        Ok(files
            .flatten()
            .filter_map(|f| {
                let modified = f.metadata().and_then(|m| m.modified()).ok()?;
                Some(BlobEntry { name: f.file_name().to_string_lossy().into_owned(), modified })
            })
            .filter(|entry| plain(&entry.name))
            .collect())
    }

    fn deferred_deletion(&self) -> bool {
        false
    }

    fn probe(&self) -> Result<(), BlobError> {
        Ok(())
    }

    fn stats(&self) -> BlobStats {
        self.counters.snapshot()
    }

    fn backend(&self) -> &'static str {
        "local"
    }
}

/// A blob being written: `NAME.tmp`, renamed to `NAME` on commit and removed if dropped before.
struct FileWriter {
    counters: Arc<Counters>,
    dir: PathBuf,
    name: String,
    file: Option<std::fs::File>,
}

impl BlobWrite for FileWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        use std::io::Write;
        let file = self.file.as_mut().ok_or(BlobError::Unavailable("a blob was abandoned"))?;
        file.write_all(bytes).map_err(unavailable)?;
        self.counters.wrote(bytes.len());
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<(), BlobError> {
        let file = self.file.take().ok_or(BlobError::Unavailable("a blob was abandoned"))?;
        let tmp = self.dir.join(format!("{}.tmp", self.name));
        let durable =
            file.sync_all().and_then(|()| std::fs::rename(&tmp, self.dir.join(&self.name)));
        if let Err(e) = self.counters.request(durable) {
            let _ = std::fs::remove_file(&tmp);
            return Err(unavailable(e));
        }
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(self.dir.join(format!("{}.tmp", self.name)));
        }
    }
}

/// A blob opened for reading: the descriptor keeps it readable after an unlink.
struct FileReader {
    counters: Arc<Counters>,
    file: std::fs::File,
}

impl BlobRead for FileReader {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BlobError> {
        use std::os::unix::fs::FileExt;
        self.counters
            .request(self.file.read_exact_at(buf, offset))
            .map_err(|_| BlobError::Missing)?;
        self.counters.read(buf.len());
        Ok(())
    }
}
