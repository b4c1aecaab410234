//! Files and directories only their owner can read: what the store writes beside its database
//! (blob files), and what the server writes in its data directory, is made with these (mode
//! 0600 files, 0700 directories; issue 16).

use std::path::Path;

/// Creates `dir` and its missing parents, each new one mode 0700.
///
/// # Errors
/// The file system's.
pub fn create_dirs(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates (or truncates) `path` for writing, mode 0600 when new.
///
/// # Errors
/// The file system's.
pub fn create_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
