//! Files and directories only the server's own user can read: every file the server writes in
//! the data directory is mode 0600 and every directory 0700 (issue 16). (The SQLite store
//! makes its database file 0600 itself; SQLite gives its WAL and shared-memory files the
//! database file's mode.)

use std::path::Path;

/// The store's: blob files and the data directory are made private the same way.
pub use store::private::{create_dirs, create_file};

/// Writes a new file readable only by its owner (mode 0600), synced.
#[cfg(unix)]
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Writes a new file (no permission model off Unix).
#[cfg(not(unix))]
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// Takes group and other permissions away from `root` and everything under it (files written
/// before this rule, or by hand): files become at most 0600, directories at most 0700.
/// Symbolic links are not followed.
#[cfg(unix)]
pub fn tighten(root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(root)?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(root)? {
            tighten(&entry?.path())?;
        }
    }
    Ok(())
}

/// No permission model off Unix.
#[cfg(not(unix))]
pub fn tighten(_root: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_and_dirs_are_private_and_old_ones_are_tightened() {
        let root = std::env::temp_dir().join(format!("hermetic-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        create_dirs(&root.join("a/b")).unwrap();
        assert_eq!(mode(&root.join("a")), 0o700);
        assert_eq!(mode(&root.join("a/b")), 0o700);
        create_file(&root.join("a/b/f")).unwrap();
        assert_eq!(mode(&root.join("a/b/f")), 0o600);

        std::fs::write(root.join("a/loose"), b"x").unwrap();
        std::fs::set_permissions(root.join("a/loose"), std::fs::Permissions::from_mode(0o664))
            .unwrap();
        std::fs::set_permissions(root.join("a"), std::fs::Permissions::from_mode(0o755)).unwrap();
        tighten(&root).unwrap();
        assert_eq!(mode(&root.join("a/loose")), 0o600);
        assert_eq!(mode(&root.join("a")), 0o700);
        assert_eq!(mode(&root.join("a/b/f")), 0o600);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
