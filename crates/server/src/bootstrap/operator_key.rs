//! The operator's access key, kept in the database (issue 20), so that every node on one
//! database accepts the same operator: an `access_keys` row of the operator realm, owner
//! `operator`, its secret wrapped by the root of trust for its account, owner and id
//! ([`secret_context`]) like every tenant key, the row MAC'd and named in the operator realm's
//! manifest by [`store::Authenticated`]. The database alone yields nothing: the secret opens only
//! under the root of trust, and a row edited, moved, put back or deleted is refused, and the
//! start with it.
//!
//! At start, under a lock that starts on several nodes at once take in turn: the database's key
//! is opened; else the data directory's `operator-credentials.json`, if there is one, is imported
//! (a deployment keeps the credentials it had); else a new key is made.
//!
//! The file is the operator's copy of the key (mode 0600): a node whose data directory has none
//! writes it, so that the operator's commands find it on any node (the operator holds the key
//! anyway, and every node holds it in memory to authenticate the operator). A file that names
//! another key than the database's refuses the start: it is neither overwritten (it may be the
//! only copy of a key the operator still uses elsewhere) nor imported beside the database's.

use std::path::Path;

use serde_json::json;

use super::{io, BootstrapError, CredentialsFile, OperatorCredentials, OPERATOR_CREDENTIALS_FILE};
use crate::pipeline::identity::{secret_context, OPERATOR_ACCOUNT};

/// The owner kind, and owner key, of the operator's access key rows.
pub const OWNER: &str = "operator";
/// A record no one writes, locked while a start looks for the key and makes it.
const LOCK: (&str, &str) = ("operator_key_lock", "v1");
/// How many times a start tries again after losing a race with another node.
const ATTEMPTS: u32 = 5;

/// Loads the operator's key from the database (importing the data directory's credentials file
/// into it, or making a new key, on a database that has none), writes the operator's copy of it
/// when the data directory has none, and returns it.
///
/// `store` must be the authenticated store ([`crate::row_macs::authenticate`]), so that an
/// edited row is refused.
///
/// # Errors
/// [`BootstrapError::OperatorKey`] for a row that fails its integrity check, a key the root of
/// trust cannot open, or a credentials file that names another key; file and store trouble.
pub fn operator_credentials(
    store: &dyn store::Store,
    root: &dyn crypto::RootOfTrust,
    data_dir: &Path,
    now_ms: i64,
) -> Result<OperatorCredentials, BootstrapError> {
    let path = data_dir.join(OPERATOR_CREDENTIALS_FILE);
    let mut left = ATTEMPTS;
    loop {
        left -= 1;
        match attempt(store, root, &path, now_ms) {
            Err(BootstrapError::Store(e)) if e.is_retryable() && left > 0 => continue,
            other => return other,
        }
    }
}

fn attempt(
    store: &dyn store::Store,
    root: &dyn crypto::RootOfTrust,
    path: &Path,
    now_ms: i64,
) -> Result<OperatorCredentials, BootstrapError> {
    let file = read_file(path)?;
    let mut tx = store.begin()?;
    tx.get_record_for_update(OPERATOR_ACCOUNT, LOCK.0, LOCK.1).map_err(refused)?;
    let stored = tx.list_access_keys(OPERATOR_ACCOUNT, OWNER, OWNER).map_err(refused)?;
    if let Some(row) = stored.first() {
        let row = stored.iter().find(|k| k.status == store::AccessKeyStatus::Active).ok_or_else(
            || {
                BootstrapError::OperatorKey(format!(
                    "the operator's key {} in the database is inactive",
                    row.access_key_id
                ))
            },
        )?;
        let id = row.access_key_id.clone();
        let context = secret_context(OPERATOR_ACCOUNT, OWNER, OWNER, &id);
        let opened = root.unwrap(&context, &row.secret_wrapped).map_err(|e| {
            BootstrapError::OperatorKey(format!(
                "the root of trust cannot open the operator's key {id} ({e}): refusing to start"
            ))
        })?;
        let secret = sigv4::Secret::new(String::from_utf8_lossy(opened.expose()).into_owned());
        drop(tx);
        let file_state = match file {
            Some((file_id, file_secret)) if file_id == id && file_secret == secret => {
                CredentialsFile::Existing
            }
            Some((file_id, _)) => {
                return Err(BootstrapError::OperatorKey(format!(
                    "`{}` holds the operator key {file_id}, but the database's is {id}: move the file away (the database's key is then written in its place), or point this node at the database that key belongs to",
                    path.display()
                )))
            }
            None => {
                write_file(path, &id, &secret)?;
                CredentialsFile::Copied
            }
        };
        return Ok(OperatorCredentials {
            access_key_id: id,
            secret,
            path: path.to_path_buf(),
            file: file_state,
        });
    }
    // No key in the database: the file's, imported once, or a new one.
    let (id, secret, file_state) = match file {
        Some((id, secret)) => (id, secret, CredentialsFile::Existing),
        None => {
            let (id, secret) = crate::support::ids::new_access_key("AKIA");
            (id, secret, CredentialsFile::Created)
        }
    };
    let context = secret_context(OPERATOR_ACCOUNT, OWNER, OWNER, &id);
    let wrapped = root.wrap(&context, secret.expose()).map_err(|e| {
        BootstrapError::OperatorKey(format!(
            "the root of trust cannot wrap the operator's key: {e}"
        ))
    })?;
    tx.insert_access_key(&store::AccessKey {
        mac: Vec::new(),
        access_key_id: id.clone(),
        account: OPERATOR_ACCOUNT.into(),
        owner_kind: OWNER.into(),
        owner_key: OWNER.into(),
        status: store::AccessKeyStatus::Active,
        secret_wrapped: wrapped,
        created_at_ms: now_ms,
        last_used_at_ms: None,
        last_used_service: None,
        last_used_region: None,
    })
    .map_err(|e| match e {
        store::StoreError::AlreadyExists => BootstrapError::OperatorKey(format!(
            "the operator key {id} of `{}` is already a key of another owner in the database",
            path.display()
        )),
        other => BootstrapError::Store(other),
    })?;
    tx.commit()?;
    if file_state == CredentialsFile::Created {
        // After the commit: a failure here leaves the key in the database, and the next start
        // writes the copy.
        write_file(path, &id, &secret)?;
    }
    Ok(OperatorCredentials {
        access_key_id: id,
        secret,
        path: path.to_path_buf(),
        file: file_state,
    })
}

/// A row the authenticated store refused, said as what it means for the start.
fn refused(e: store::StoreError) -> BootstrapError {
    match e {
        store::StoreError::Forged { account, row } => BootstrapError::OperatorKey(format!(
            "{row} of account {account} failed its integrity check (edited, moved, put back or deleted in the database): refusing to start"
        )),
        other => BootstrapError::Store(other),
    }
}

/// The key in the credentials file at `path`, if there is one.
fn read_file(path: &Path) -> Result<Option<(String, sigv4::Secret)>, BootstrapError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => zeroize::Zeroizing::new(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| BootstrapError::Credentials(path.to_path_buf()))?;
    let field = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_string);
    match (field("AccessKeyId"), field("SecretAccessKey")) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok(Some((id, sigv4::Secret::new(secret))))
        }
        _ => Err(BootstrapError::Credentials(path.to_path_buf())),
    }
}

/// Writes the operator's copy of the key (mode 0600; never over an existing file).
fn write_file(path: &Path, id: &str, secret: &sigv4::Secret) -> Result<(), BootstrapError> {
    let secret_text =
        zeroize::Zeroizing::new(String::from_utf8_lossy(secret.expose()).into_owned());
    let doc = zeroize::Zeroizing::new(
        json!({ "AccessKeyId": id, "SecretAccessKey": secret_text.as_str() }).to_string(),
    );
    crate::support::private::write_private(path, doc.as_bytes()).map_err(io(path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::sync::Arc;

    struct Node {
        dir: std::path::PathBuf,
        inner: Arc<dyn store::Store>,
        root: crypto::RootKey,
    }

    impl Node {
        fn new(tag: &str) -> Node {
            let dir =
                std::env::temp_dir().join(format!("hermetic-opkey-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let inner: Arc<dyn store::Store> =
                Arc::new(store::SqliteStore::open(dir.join("hermetic.db")).unwrap());
            let root = crypto::RootKey::from_bytes(crypto::SecretBytes::new(vec![4; 32])).unwrap();
            Node { dir, inner, root }
        }

        fn checked(&self) -> Arc<dyn store::Store> {
            crate::row_macs::authenticate(self.inner.clone(), &self.root, 1).unwrap().0
        }

        /// A start on `data_dir`.
        fn start(&self, data_dir: &Path) -> Result<OperatorCredentials, BootstrapError> {
            std::fs::create_dir_all(data_dir).unwrap();
            operator_credentials(self.checked().as_ref(), &self.root, data_dir, 5)
        }
    }

    impl Drop for Node {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn file_key(dir: &Path) -> (String, sigv4::Secret) {
        read_file(&dir.join(OPERATOR_CREDENTIALS_FILE)).unwrap().unwrap()
    }

    /// The first start makes the key and its file; another node's start (an empty data
    /// directory) loads the same key and writes its copy; a restart finds both.
    #[test]
    fn one_key_for_every_node_with_a_copy_in_each_directory() {
        let node = Node::new("shared");
        let (a, b) = (node.dir.join("a"), node.dir.join("b"));
        let made = node.start(&a).unwrap();
        assert_eq!(made.file, CredentialsFile::Created);
        assert_eq!(file_key(&a), (made.access_key_id.clone(), made.secret.clone()));
        let other = node.start(&b).unwrap();
        assert_eq!(other.file, CredentialsFile::Copied);
        assert_eq!((&other.access_key_id, &other.secret), (&made.access_key_id, &made.secret));
        assert_eq!(file_key(&b).0, made.access_key_id);
        let again = node.start(&a).unwrap();
        assert_eq!(again.file, CredentialsFile::Existing);
        assert_eq!(again.access_key_id, made.access_key_id);
        // The row holds the secret wrapped, never in the clear.
        let rows = node.inner.read().unwrap().list_access_keys(OPERATOR_ACCOUNT, OWNER, OWNER);
        let rows = rows.unwrap();
        assert_eq!(rows.len(), 1);
        let secret = made.secret.expose();
        assert!(!rows[0].secret_wrapped.windows(secret.len()).any(|w| w == secret));
    }

    /// An existing deployment's file is imported once; a file naming another key than the
    /// database's refuses the start and is left as it was.
    #[test]
    fn an_existing_file_is_imported_once_and_another_refused() {
        let node = Node::new("import");
        let (a, b) = (node.dir.join("a"), node.dir.join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let old = sigv4::Secret::new("an-existing-secret-of-forty-characters-x");
        write_file(&a.join(OPERATOR_CREDENTIALS_FILE), "AKIAEXISTING00000001", &old).unwrap();
        let imported = node.start(&a).unwrap();
        assert_eq!(imported.file, CredentialsFile::Existing);
        assert_eq!(
            (imported.access_key_id.as_str(), &imported.secret),
            ("AKIAEXISTING00000001", &old)
        );
        let stray = sigv4::Secret::new("another-secret-of-forty-characters-xxxxx");
        write_file(&b.join(OPERATOR_CREDENTIALS_FILE), "AKIASTRAY00000000001", &stray).unwrap();
        let refused = node.start(&b).unwrap_err().to_string();
        assert!(refused.contains("AKIASTRAY00000000001"), "{refused}");
        assert_eq!(file_key(&b).0, "AKIASTRAY00000000001");
        assert_eq!(node.start(&a).unwrap().access_key_id, "AKIAEXISTING00000001");
    }

    /// The key row edited or deleted in the database (the operator's write access): the start
    /// is refused, never a new key made.
    #[test]
    fn an_edited_or_deleted_key_row_refuses_the_start() {
        let node = Node::new("edited");
        let a = node.dir.join("a");
        let made = node.start(&a).unwrap();
        let mut tx = node.inner.begin().unwrap();
        tx.set_access_key_status(&made.access_key_id, store::AccessKeyStatus::Inactive).unwrap();
        tx.commit().unwrap();
        let refused = node.start(&a).unwrap_err().to_string();
        assert!(refused.contains("integrity check"), "{refused}");
        let mut tx = node.inner.begin().unwrap();
        tx.delete_access_key(&made.access_key_id).unwrap();
        tx.commit().unwrap();
        std::fs::remove_file(a.join(OPERATOR_CREDENTIALS_FILE)).unwrap();
        let refused = node.start(&a).unwrap_err().to_string();
        assert!(refused.contains("integrity check"), "{refused}");
        assert!(!a.join(OPERATOR_CREDENTIALS_FILE).exists(), "no new key was made");
    }
}
