//! Root-of-trust providers: where the key at the top of the hierarchy lives.
//!
//! Development and single-node deployments use [`LocalKeyFile`]: 32 random bytes in a file
//! readable only by its owner. Later providers (a PKCS#11 HSM, an M-of-N Shamir unseal) implement
//! the same trait, so everything above only ever asks the root to wrap or unwrap.

use crate::envelope::{self, EnvelopeError, KeyId};
use crate::secret::SecretBytes;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What every root-of-trust provider does: seal and open secrets bound to a context.
pub trait RootOfTrust: Send + Sync {
    /// Seals `plaintext` for `context`.
    fn wrap(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, EnvelopeError>;
    /// Opens what [`RootOfTrust::wrap`] sealed for the same context.
    fn unwrap(&self, context: &[u8], wrapped: &[u8]) -> Result<SecretBytes, EnvelopeError>;

    /// Makes an RSA-2048 signing key that the root of trust holds itself and never lets out (an
    /// HSM's non-extractable key), labelled `label`, and returns its public key as PKCS #1 DER.
    /// `None` when the root holds no keys of its own: the caller then makes the key and keeps
    /// it sealed with [`RootOfTrust::wrap`].
    fn create_rsa_signing_key(&self, _label: &str) -> Result<Option<Vec<u8>>, EnvelopeError> {
        Ok(None)
    }

    /// Signs `message` (SHA-256, RSASSA-PKCS1-v1_5) with the key labelled `label` that
    /// [`RootOfTrust::create_rsa_signing_key`] made.
    fn sign_rsa_sha256(&self, _label: &str, _message: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        Err(EnvelopeError::BadKey)
    }

    /// The Ed25519 signing key labelled `label` that the root of trust holds itself and never
    /// lets out (an HSM's non-extractable key), made on first use: its 32-byte public key.
    /// `None` when the root holds no keys of its own: the caller then makes the key and keeps
    /// it sealed with [`RootOfTrust::wrap`].
    fn ed25519_signing_key(&self, _label: &str) -> Result<Option<[u8; 32]>, EnvelopeError> {
        Ok(None)
    }

    /// Signs `message` (pure Ed25519, RFC 8032) with the key labelled `label` that
    /// [`RootOfTrust::ed25519_signing_key`] made: the 64-byte signature.
    fn sign_ed25519(&self, _label: &str, _message: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        Err(EnvelopeError::BadKey)
    }
}

/// A boxed or shared provider is a provider (so the server can hold whichever one is
/// configured, and share it with what signs for it).
macro_rules! forward {
    ($($holder:ident)::+) => {
        impl<T: RootOfTrust + ?Sized> RootOfTrust for $($holder)::+<T> {
            fn wrap(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
                (**self).wrap(context, plaintext)
            }

            fn unwrap(&self, context: &[u8], wrapped: &[u8]) -> Result<SecretBytes, EnvelopeError> {
                (**self).unwrap(context, wrapped)
            }

            fn create_rsa_signing_key(&self, label: &str) -> Result<Option<Vec<u8>>, EnvelopeError> {
                (**self).create_rsa_signing_key(label)
            }

            fn sign_rsa_sha256(&self, label: &str, message: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
                (**self).sign_rsa_sha256(label, message)
            }

            fn ed25519_signing_key(&self, label: &str) -> Result<Option<[u8; 32]>, EnvelopeError> {
                (**self).ed25519_signing_key(label)
            }

            fn sign_ed25519(&self, label: &str, message: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
                (**self).sign_ed25519(label, message)
            }
        }
    };
}
forward!(Box);
forward!(std::sync::Arc);

/// A 256-bit root key held in memory.
#[derive(Debug)]
pub struct RootKey {
    key: SecretBytes,
    id: KeyId,
}

impl RootKey {
    /// Wraps 32 key bytes.
    pub fn from_bytes(bytes: SecretBytes) -> Result<RootKey, EnvelopeError> {
        if bytes.len() != 32 {
            return Err(EnvelopeError::BadKey);
        }
        let digest = Sha256::digest(bytes.expose());
        let mut id = [0u8; 8];
        id.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
        Ok(RootKey { key: bytes, id: KeyId(id) })
    }

    /// The key's id (not secret: it names the key in envelopes).
    pub fn id(&self) -> KeyId {
        self.id
    }
}

impl RootOfTrust for RootKey {
    fn wrap(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        envelope::seal(&self.key, self.id, context, plaintext)
    }

    fn unwrap(&self, context: &[u8], wrapped: &[u8]) -> Result<SecretBytes, EnvelopeError> {
        envelope::open(&self.key, self.id, context, wrapped)
    }
}

/// Why the key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Reading or creating the file failed.
    #[error("root key file `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file exists but does not hold exactly 32 bytes.
    #[error("root key file `{0}` is not a 32-byte key")]
    Corrupt(PathBuf),
    /// The file is readable by others than its owner.
    #[error("root key file `{0}` must be readable only by its owner (mode 0600)")]
    Permissions(PathBuf),
}

/// The development root of trust: a key file in the data directory.
#[derive(Debug)]
pub struct LocalKeyFile;

impl LocalKeyFile {
    /// Loads the key at `path`, creating it (32 random bytes, mode 0600) if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<RootKey, KeyFileError> {
        let io = |source| KeyFileError::Io { path: path.to_path_buf(), source };
        if !path.exists() {
            let mut bytes = vec![0u8; 32];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
            let secret = SecretBytes::new(bytes);
            write_owner_only(path, secret.expose()).map_err(io)?;
        }
        check_owner_only(path)?;
        let bytes = std::fs::read(path).map_err(io)?;
        RootKey::from_bytes(SecretBytes::new(bytes))
            .map_err(|_| KeyFileError::Corrupt(path.to_path_buf()))
    }
}

#[cfg(unix)]
fn write_owner_only(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_owner_only(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(unix)]
fn check_owner_only(path: &Path) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .map_err(|source| KeyFileError::Io { path: path.to_path_buf(), source })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(KeyFileError::Permissions(path.to_path_buf()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_only(_path: &Path) -> Result<(), KeyFileError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_private_and_reloads() {
        let dir = std::env::temp_dir().join(format!("hermetic-rootkey-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("root.key");
        let _ = std::fs::remove_file(&path);
        let a = LocalKeyFile::load_or_create(&path).unwrap();
        let wrapped = a.wrap(b"ctx", b"secret").unwrap();
        let b = LocalKeyFile::load_or_create(&path).unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(b.unwrap(b"ctx", &wrapped).unwrap().expose(), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                LocalKeyFile::load_or_create(&path),
                Err(KeyFileError::Permissions(_))
            ));
        }
        std::fs::write(dir.join("short.key"), b"short").ok();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(format!("{:?}", SecretBytes::new(vec![1, 2])), "[redacted]");
    }
}
