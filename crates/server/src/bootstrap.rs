//! First start: the data directory, the root key, the node's id, and the operator's
//! credentials ([`operator_credentials`], kept in the database).

mod operator_key;

use crate::pipeline::identity::{Caller, KeyEntry, OPERATOR_ACCOUNT};
use std::path::{Path, PathBuf};

pub use operator_key::{operator_credentials, OWNER as OPERATOR_KEY_OWNER};

/// Why the data directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// File system trouble.
    #[error("data directory `{path}`: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        source: std::io::Error,
    },
    /// The root key file is unusable.
    #[error(transparent)]
    RootKey(#[from] crypto::root::KeyFileError),
    /// The HSM cannot be used as the root of trust.
    #[error("pkcs11 root of trust: {0}")]
    Pkcs11(String),
    /// The checkpoint signing key is unusable.
    #[error("checkpoint key: {0}")]
    CheckpointKey(String),
    /// The operator credentials file is not what we wrote.
    #[error("operator credentials file `{0}` is malformed")]
    Credentials(PathBuf),
    /// The operator's key in the database cannot be used (or the file disagrees with it).
    #[error("operator key: {0}")]
    OperatorKey(String),
    /// The database failed.
    #[error("the database: {0}")]
    Store(#[from] store::StoreError),
}

/// The operator's access key (kept in the database), with the operator's copy of it in the
/// data directory.
#[derive(Debug)]
pub struct OperatorCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret: sigv4::Secret,
    /// The file the operator's copy is in.
    pub path: PathBuf,
    /// How this start came by that file.
    pub file: CredentialsFile,
}

/// How a start came by the operator's credentials file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialsFile {
    /// This start made the key, and wrote the file.
    Created,
    /// The file was there (and holds the database's key, or was imported into it).
    Existing,
    /// The key was in the database, and this start wrote the operator's copy.
    Copied,
}

impl CredentialsFile {
    /// How the server's start line says it (`created`, `existing`, `copied from the database`).
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialsFile::Created => "created",
            CredentialsFile::Existing => "existing",
            CredentialsFile::Copied => "copied from the database",
        }
    }
}

/// The name of the operator credentials file in the data directory.
pub const OPERATOR_CREDENTIALS_FILE: &str = "operator-credentials.json";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BootstrapError + '_ {
    move |source| BootstrapError::Io { path: path.to_path_buf(), source }
}

/// Creates the data directory (mode 0700) and root key on first start, and loads or creates the
/// operator credentials (mode 0600). Returns the root key and the credentials.
/// The root of trust the server holds: whichever provider is configured.
pub type Root = std::sync::Arc<dyn crypto::RootOfTrust>;

/// Where the development key file lives: `configured`, else beside the data directory
/// (`DIR.root.key` for data directory `DIR`), never inside it, so that a copy of the data
/// directory is not a copy of the key that opens it.
pub fn root_key_path(data_dir: &Path, configured: Option<&Path>) -> PathBuf {
    if let Some(path) = configured {
        return path.to_path_buf();
    }
    let dir = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let name = dir
        .file_name()
        .map_or_else(|| "hermetic-data".to_string(), |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!("{name}.root.key"))
}

/// The key file's place before it moved out of the data directory.
const LEGACY_ROOT_KEY: &str = "root.key";

/// Opens the configured root of trust: the HSM when PKCS#11 is configured, else the
/// development key file outside the data directory ([`root_key_path`]; with a loud warning).
/// A key file an earlier version left inside the data directory is moved out first.
pub fn open_root(
    data_dir: &Path,
    root_key_file: Option<&Path>,
    pkcs11: Option<&crate::config::Pkcs11Settings>,
) -> Result<Root, BootstrapError> {
    match pkcs11 {
        Some(settings) => {
            let pin = match &settings.pin_file {
                Some(path) => std::fs::read_to_string(path)
                    .map_err(io(path))?
                    .trim_end_matches(['\r', '\n'])
                    .as_bytes()
                    .to_vec(),
                None => std::env::var("HERMETIC_PKCS11_PIN")
                    .map_err(|_| {
                        BootstrapError::Pkcs11(
                            "no PIN: set `pkcs11_pin_file` or HERMETIC_PKCS11_PIN".into(),
                        )
                    })?
                    .into_bytes(),
            };
            let config = crypto::pkcs11::Pkcs11Config {
                module: settings.module.clone(),
                token_label: settings.token_label.clone(),
                pin: crypto::SecretBytes::new(pin),
                key_label: settings.key_label.clone(),
            };
            let root = crypto::pkcs11::Pkcs11Root::open(&config)
                .map_err(|e| BootstrapError::Pkcs11(e.to_string()))?;
            Ok(std::sync::Arc::new(root))
        }
        None => {
            let path = root_key_path(data_dir, root_key_file);
            let legacy = data_dir.join(LEGACY_ROOT_KEY);
            if !path.exists() && legacy.exists() {
                std::fs::rename(&legacy, &path).map_err(|source| BootstrapError::Io {
                    path: legacy.clone(),
                    source: std::io::Error::new(
                        source.kind(),
                        format!(
                            "cannot move the root key out of the data directory to `{}` ({source}): move it there, or pass --root-key-file",
                            path.display()
                        ),
                    ),
                })?;
                tracing::warn!(
                    "moved the root key file out of the data directory: {} -> {}",
                    legacy.display(),
                    path.display()
                );
            }
            if legacy.exists() {
                tracing::warn!(
                    "WARNING: {} is a root key file inside the data directory; the root key in use is {}",
                    legacy.display(),
                    path.display()
                );
            }
            let root = crypto::LocalKeyFile::load_or_create(&path)?;
            tracing::warn!(
                "WARNING: the root of trust is the key file {} (for development only): whoever can \
                 read it can open every stored secret. Use an HSM (--pkcs11-module) in production.",
                path.display()
            );
            Ok(std::sync::Arc::new(root))
        }
    }
}

/// Creates the data directory (owner-only) and makes private whatever in it is not.
///
/// # Errors
/// File system trouble.
pub fn prepare(data_dir: &Path) -> Result<(), BootstrapError> {
    crate::support::private::create_dirs(data_dir).map_err(io(data_dir))?;
    // Whatever an earlier version or a hand left readable to others is made private.
    crate::support::private::tighten(data_dir).map_err(io(data_dir))
}

/// The name of the file that holds a node's id in its data directory.
pub const NODE_ID_FILE: &str = "node-id";

/// This node's id: a UUID made at its first start and kept in the data directory (not a
/// secret, and needed by no other node), so that a node restarted on its directory holds its
/// leases on background work again at once instead of waiting for them to expire. A node
/// started with an empty directory gets a new one.
///
/// # Errors
/// File system trouble.
pub fn node_id(data_dir: &Path) -> Result<String, BootstrapError> {
    let path = data_dir.join(NODE_ID_FILE);
    let valid = |id: &str| {
        !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if valid(text.trim()) => return Ok(text.trim().to_string()),
        // Unreadable as an id: replaced by a new one.
        Ok(_) => std::fs::remove_file(&path).map_err(io(&path))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&path)(e)),
    }
    let id = crate::support::ids::uuid();
    crate::support::private::write_private(&path, format!("{id}\n").as_bytes())
        .map_err(io(&path))?;
    Ok(id)
}

/// Re-wraps, once, every access key's secret that was wrapped for its key id alone (before
/// secrets were bound to their account and owner, issue 16) for
/// [`crate::pipeline::identity::secret_context`]. A key that opens for neither context is left
/// as it is: authentication refuses it (fail closed) and says so.
///
/// What this cannot tell apart: a legacy row that an operator moved to another account before
/// this upgrade ran (or restored from a copy made before it) is bound to where it stands.
///
/// # Errors
/// The store's, when it cannot be read or written.
pub fn bind_access_keys(
    store: &dyn store::Store,
    root: &dyn crypto::RootOfTrust,
) -> Result<usize, store::StoreError> {
    use crate::pipeline::identity::{legacy_secret_context, secret_context};
    let mut rebound = 0;
    let mut after: Option<String> = None;
    loop {
        let page = store.read()?.list_all_access_keys(after.as_deref(), 500)?;
        let Some(last) = page.last() else {
            return Ok(rebound);
        };
        after = Some(last.access_key_id.clone());
        let mut tx = store.begin()?;
        let mut changed = false;
        for key in &page {
            let id = &key.access_key_id;
            let context = secret_context(&key.account, &key.owner_kind, &key.owner_key, id);
            if root.unwrap(&context, &key.secret_wrapped).is_ok() {
                continue;
            }
            let Ok(secret) = root.unwrap(&legacy_secret_context(id), &key.secret_wrapped) else {
                continue;
            };
            let Ok(wrapped) = root.wrap(&context, secret.expose()) else {
                continue;
            };
            tx.set_access_key_secret(id, &wrapped)?;
            changed = true;
            rebound += 1;
        }
        if changed {
            tx.commit()?;
        }
    }
}

/// The key entry of the operator.
pub fn operator_key(creds: &OperatorCredentials) -> KeyEntry {
    KeyEntry {
        secret: creds.secret.clone(),
        caller: Caller {
            account: OPERATOR_ACCOUNT.into(),
            arn: format!("arn:aws:iam::{OPERATOR_ACCOUNT}:user/operator"),
            user_id: creds.access_key_id.clone(),
            session: None,
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pipeline::identity::{legacy_secret_context, secret_context};
    use crypto::RootOfTrust;
    use store::Store;

    fn key(id: &str, account: &str, wrapped: Vec<u8>) -> store::AccessKey {
        store::AccessKey {
            mac: Vec::new(),
            access_key_id: id.into(),
            account: account.into(),
            owner_kind: "root".into(),
            owner_key: account.into(),
            status: store::AccessKeyStatus::Active,
            secret_wrapped: wrapped,
            created_at_ms: 1,
            last_used_at_ms: None,
            last_used_service: None,
            last_used_region: None,
        }
    }

    #[test]
    fn legacy_secrets_are_bound_once_and_bound_ones_are_left() {
        let dir = std::env::temp_dir().join(format!("hermetic-bind-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = store::SqliteStore::open(dir.join("h.db")).unwrap();
        let root = crypto::RootKey::from_bytes(crypto::SecretBytes::new(vec![7; 32])).unwrap();
        let legacy = root.wrap(&legacy_secret_context("AKIALEGACY"), b"old secret").unwrap();
        let bound = root
            .wrap(&secret_context("111122223333", "root", "111122223333", "AKIABOUND"), b"new")
            .unwrap();
        let mut tx = store.begin().unwrap();
        tx.insert_access_key(&key("AKIALEGACY", "111122223333", legacy)).unwrap();
        tx.insert_access_key(&key("AKIABOUND", "111122223333", bound.clone())).unwrap();
        tx.commit().unwrap();

        assert_eq!(bind_access_keys(&store, &root).unwrap(), 1);
        let mut r = store.read().unwrap();
        let rebound = r.get_access_key("AKIALEGACY").unwrap().unwrap();
        let context = secret_context("111122223333", "root", "111122223333", "AKIALEGACY");
        assert_eq!(root.unwrap(&context, &rebound.secret_wrapped).unwrap().expose(), b"old secret");
        assert!(root
            .unwrap(&legacy_secret_context("AKIALEGACY"), &rebound.secret_wrapped)
            .is_err());
        assert_eq!(r.get_access_key("AKIABOUND").unwrap().unwrap().secret_wrapped, bound);
        drop(r);
        // Nothing is left to bind.
        assert_eq!(bind_access_keys(&store, &root).unwrap(), 0);
        // A bound secret does not open for another account.
        let other = secret_context("999988887777", "root", "999988887777", "AKIALEGACY");
        assert!(root.unwrap(&other, &rebound.secret_wrapped).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_key_file_lives_beside_the_data_directory_and_an_old_one_moves_out() {
        let base = std::env::temp_dir().join(format!("hermetic-keyfile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let data = base.join("data");
        std::fs::create_dir_all(&data).unwrap();
        assert_eq!(root_key_path(&data, None), base.canonicalize().unwrap().join("data.root.key"));
        let chosen = base.join("elsewhere.key");
        assert_eq!(root_key_path(&data, Some(&chosen)), chosen);

        // An earlier version's key inside the data directory moves out, and still opens what
        // it sealed.
        let old = crypto::LocalKeyFile::load_or_create(&data.join(LEGACY_ROOT_KEY)).unwrap();
        let sealed = old.wrap(b"ctx", b"secret").unwrap();
        let root = open_root(&data, None, None).unwrap();
        assert!(!data.join(LEGACY_ROOT_KEY).exists());
        assert!(root_key_path(&data, None).exists());
        assert_eq!(root.unwrap(b"ctx", &sealed).unwrap().expose(), b"secret");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
