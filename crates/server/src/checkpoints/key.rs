//! The checkpoint signing key, kept in the database (issue 20) so that every node on one
//! database signs with the same key: a record of the operator realm ([`KEY_KIND`]/[`KEY_RECORD`])
//! with the public key and either the 32-byte Ed25519 seed sealed by the root of trust
//! ([`SEALING_CONTEXT`]) or, when the root of trust holds keys of its own (an HSM), the label of
//! the token's key. The row is MAC'd and named in the operator realm's manifest: one edited,
//! put back or deleted is refused, and the start with it.
//!
//! At start: the row's key is opened (and must match its public key); else a key the data
//! directory holds from an earlier version (`checkpoint.key.sealed`, or the plaintext
//! `checkpoint.key` of an older one) is imported, once; else the HSM's key is recorded; else a
//! database that already holds checkpoints refuses to start (they were signed by a key it no
//! longer has: never silently a new one); else a new seed is made and sealed. A data directory
//! whose key differs from the row's refuses the start. `checkpoint.pub` is written to the data
//! directory as a convenience copy.

use std::path::Path;
use std::sync::Arc;

use audit::note::{SigningKey, VerifierKey};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{HSM_LABEL, KEY_FILE, KEY_NAME, LEGACY_KEY_FILE, PUBLIC_FILE, SEALING_CONTEXT};
use crate::pipeline::identity::OPERATOR_ACCOUNT;

/// The record kind that holds the key, in the operator realm.
pub const KEY_KIND: &str = "checkpoint_key";
/// The record's key: the key's algorithm and version.
pub const KEY_RECORD: &str = "ed25519-v1";
/// The record's body format.
const FORMAT: u32 = 1;
/// How many times a start tries again after losing a race with another node.
const ATTEMPTS: u32 = 5;

/// The record's body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct StoredKey {
    /// The verifier key (`name+keyid+base64`): public.
    public: String,
    /// The seed as the root of trust sealed it, base64; empty when the root holds the key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    sealed_seed: String,
    /// The label of the key in the root of trust (an HSM) that holds it and signs there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    held_label: Option<String>,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Loads the checkpoint signing key from the database, importing the data directory's key, or
/// recording the HSM's, or making one, on a database that has none (see the module doc), and
/// writes `checkpoint.pub`.
///
/// `store` must be the authenticated store ([`crate::row_macs::authenticate`]), so that an
/// edited row is refused.
///
/// # Errors
/// A row that fails its integrity check or does not open; a data directory's key that differs
/// from the row's; checkpoints without a key; store, file and root-of-trust trouble.
pub fn load_or_create_key(
    store: &dyn store::Store,
    root: &Arc<dyn crypto::RootOfTrust>,
    data_dir: &Path,
    now_ms: i64,
) -> Result<SigningKey, String> {
    let legacy = data_dir.join(LEGACY_KEY_FILE);
    let from_dir = directory_seed(&data_dir.join(KEY_FILE), &legacy, root.as_ref())?;
    let mut left = ATTEMPTS;
    let key = loop {
        left -= 1;
        match attempt(store, root, from_dir.as_deref(), now_ms) {
            Err(Failure::Store(e)) if e.is_retryable() && left > 0 => continue,
            Err(e) => return Err(e.to_string()),
            Ok(key) => break key,
        }
    };
    // The plaintext seed of an older version is in the database now, sealed: gone from disk.
    if legacy.exists() {
        std::fs::remove_file(&legacy).map_err(|e| format!("{}: {e}", legacy.display()))?;
    }
    write_public(&data_dir.join(PUBLIC_FILE), &key.verifier())?;
    Ok(key)
}

/// Why an attempt failed: the store (perhaps retryable), or anything else.
enum Failure {
    Store(store::StoreError),
    Refused(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Store(store::StoreError::Forged { account, row }) => write!(
                f,
                "{row} of account {account} failed its integrity check (edited, put back or deleted in the database): refusing to start"
            ),
            Failure::Store(e) => write!(f, "the database: {e}"),
            Failure::Refused(why) => f.write_str(why),
        }
    }
}

impl From<store::StoreError> for Failure {
    fn from(e: store::StoreError) -> Failure {
        Failure::Store(e)
    }
}

fn attempt(
    store: &dyn store::Store,
    root: &Arc<dyn crypto::RootOfTrust>,
    from_dir: Option<&[u8; 32]>,
    now_ms: i64,
) -> Result<SigningKey, Failure> {
    let mut tx = store.begin()?;
    if let Some(record) = tx.get_record_for_update(OPERATOR_ACCOUNT, KEY_KIND, KEY_RECORD)? {
        drop(tx);
        let stored = parse(record).map_err(Failure::Refused)?;
        let key = open(&stored, root).map_err(Failure::Refused)?;
        if let Some(seed) = from_dir {
            let theirs = SigningKey::from_slice(KEY_NAME, seed)
                .map_err(|e| Failure::Refused(e.to_string()))?
                .verifier();
            if theirs.to_string() != key.verifier().to_string() {
                return Err(Failure::Refused(format!(
                    "the data directory's checkpoint key ({theirs}) is not the database's ({}): refusing to start; move `{KEY_FILE}` (and `{LEGACY_KEY_FILE}`) out of the data directory if the database's key is the one tenants pinned",
                    key.verifier()
                )));
            }
        }
        return Ok(key);
    }
    let (stored, key) = match from_dir {
        Some(seed) => seal(seed, root.as_ref()).map_err(Failure::Refused)?,
        None => match held(root).map_err(Failure::Refused)? {
            Some(found) => found,
            None => {
                if any_checkpoint(tx.as_mut())? {
                    return Err(Failure::Refused(
                        "the database holds signed checkpoints but no checkpoint key (deleted?): refusing to start rather than sign with a new key".into(),
                    ));
                }
                let mut seed = Zeroizing::new([0u8; 32]);
                rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut_slice());
                seal(&seed, root.as_ref()).map_err(Failure::Refused)?
            }
        },
    };
    let record = store::Record {
        mac: Vec::new(),
        account: OPERATOR_ACCOUNT.into(),
        kind: KEY_KIND.into(),
        key: KEY_RECORD.into(),
        format_version: FORMAT,
        body: serde_json::to_value(&stored).map_err(|e| Failure::Refused(e.to_string()))?,
        updated_at_ms: now_ms,
    };
    // Another node made it first (it held the record's lock until it committed): theirs is
    // read on the next attempt.
    match tx.put_record(&record, store::PutMode::Create).and_then(|()| tx.commit()) {
        Err(store::StoreError::AlreadyExists) => Err(Failure::Store(store::StoreError::Conflict)),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(key),
    }
}

/// The row's body, read as [`StoredKey`].
fn parse(record: store::Record) -> Result<StoredKey, String> {
    if record.format_version != FORMAT {
        return Err(format!("the checkpoint key record has format {}", record.format_version));
    }
    serde_json::from_value(record.body)
        .map_err(|e| format!("the checkpoint key record cannot be read: {e}"))
}

/// The key the row names, checked against the row's public key.
fn open(stored: &StoredKey, root: &Arc<dyn crypto::RootOfTrust>) -> Result<SigningKey, String> {
    let key = match &stored.held_label {
        Some(label) => {
            let public = root
                .ed25519_signing_key(label)
                .map_err(|e| format!("{label}: {e}"))?
                .ok_or_else(|| {
                    format!("the checkpoint key is held by a root of trust (`{label}`), and this one holds no keys")
                })?;
            external(root, label, &public)?
        }
        None => {
            let sealed = b64()
                .decode(&stored.sealed_seed)
                .map_err(|_| "the checkpoint key record's sealed seed is not base64".to_string())?;
            let seed = root
                .unwrap(SEALING_CONTEXT, &sealed)
                .map_err(|e| format!("the root of trust cannot open the checkpoint key: {e}"))?;
            SigningKey::from_slice(KEY_NAME, seed.expose()).map_err(|e| e.to_string())?
        }
    };
    if key.verifier().to_string() != stored.public {
        return Err(format!(
            "the checkpoint key ({}) is not the one its record names ({}): refusing to start",
            key.verifier(),
            stored.public
        ));
    }
    Ok(key)
}

/// A seed sealed by the root of trust: the record and the key.
fn seal(
    seed: &[u8; 32],
    root: &dyn crypto::RootOfTrust,
) -> Result<(StoredKey, SigningKey), String> {
    let key = SigningKey::from_slice(KEY_NAME, seed).map_err(|e| e.to_string())?;
    let sealed = root
        .wrap(SEALING_CONTEXT, seed)
        .map_err(|e| format!("the root of trust cannot seal the checkpoint key: {e}"))?;
    let stored = StoredKey {
        public: key.verifier().to_string(),
        sealed_seed: b64().encode(sealed),
        held_label: None,
    };
    Ok((stored, key))
}

/// The key a root of trust with keys of its own (an HSM) holds under [`HSM_LABEL`], made there
/// on first use; `None` for one without.
fn held(root: &Arc<dyn crypto::RootOfTrust>) -> Result<Option<(StoredKey, SigningKey)>, String> {
    let Some(public) =
        root.ed25519_signing_key(HSM_LABEL).map_err(|e| format!("{HSM_LABEL}: {e}"))?
    else {
        return Ok(None);
    };
    let key = external(root, HSM_LABEL, &public)?;
    let stored = StoredKey {
        public: key.verifier().to_string(),
        sealed_seed: String::new(),
        held_label: Some(HSM_LABEL.into()),
    };
    Ok(Some((stored, key)))
}

/// The key labelled `label` in the root of trust, signing there.
fn external(
    root: &Arc<dyn crypto::RootOfTrust>,
    label: &str,
    public: &[u8; 32],
) -> Result<SigningKey, String> {
    let (held, label) = (root.clone(), label.to_string());
    let sign: audit::note::ExternalSigner =
        Arc::new(move |m: &[u8]| held.sign_ed25519(&label, m).map_err(|e| e.to_string()));
    SigningKey::external(KEY_NAME, public, sign).map_err(|e| e.to_string())
}

/// Whether any log has a checkpoint (the operator realm's, then every account's).
fn any_checkpoint<T: store::ReadTx + ?Sized>(tx: &mut T) -> Result<bool, store::StoreError> {
    if tx.latest_checkpoint(OPERATOR_ACCOUNT)?.is_some() {
        return Ok(true);
    }
    let mut after: Option<String> = None;
    loop {
        let page = tx.list_accounts(after.as_deref(), 1000)?;
        for a in &page.items {
            if tx.latest_checkpoint(&a.id)?.is_some() {
                return Ok(true);
            }
        }
        if !page.truncated {
            return Ok(false);
        }
        after = page.items.last().map(|a| a.id.clone());
    }
}

/// The seed the data directory holds from an earlier version: sealed at `sealed`, else in the
/// clear at `legacy`; `None` when it holds neither.
fn directory_seed(
    sealed: &Path,
    legacy: &Path,
    root: &dyn crypto::RootOfTrust,
) -> Result<Option<Zeroizing<[u8; 32]>>, String> {
    fn at(p: &Path, e: impl std::fmt::Display) -> String {
        format!("{}: {e}", p.display())
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    if sealed.exists() {
        let bytes = std::fs::read(sealed).map_err(|e| at(sealed, e))?;
        let opened = root.unwrap(SEALING_CONTEXT, &bytes).map_err(|e| at(sealed, e))?;
        let opened: &[u8; 32] =
            opened.expose().try_into().map_err(|_| at(sealed, "not a 32-byte seed"))?;
        seed.copy_from_slice(opened);
    } else if legacy.exists() {
        let bytes = Zeroizing::new(std::fs::read(legacy).map_err(|e| at(legacy, e))?);
        let bytes: &[u8; 32] =
            bytes.as_slice().try_into().map_err(|_| at(legacy, "not a 32-byte seed"))?;
        seed.copy_from_slice(bytes);
    } else {
        return Ok(None);
    }
    Ok(Some(seed))
}

/// Writes `checkpoint.pub`, the convenience copy of the verifier key, when it is missing or
/// names another key (said on stderr: a verifier that pinned the old one should know).
fn write_public(path: &Path, verifier: &VerifierKey) -> Result<(), String> {
    let text = format!("{verifier}\n");
    match std::fs::read_to_string(path) {
        Ok(current) if current == text => return Ok(()),
        Ok(current) => {
            eprintln!(
                "WARNING: {} named the checkpoint key {}; the database's is {verifier}: the file is replaced",
                path.display(),
                current.trim()
            );
            std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Err(_) => {}
    }
    crate::support::private::write_private(path, text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The verifier key the database's checkpoint key record names, read as it is stored: without
/// the root of trust nothing vouches for it (whoever can write the database can replace it
/// along with the history it signs), as for the data directory's `checkpoint.pub`.
///
/// # Errors
/// The store's, or a record that cannot be read.
pub fn stored_verifier(store: &dyn store::Store) -> Result<Option<VerifierKey>, String> {
    let mut tx = store.read().map_err(|e| e.to_string())?;
    let Some(record) =
        tx.get_record(OPERATOR_ACCOUNT, KEY_KIND, KEY_RECORD).map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let stored = parse(record)?;
    VerifierKey::parse(&stored.public).map(Some).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn root(byte: u8) -> Arc<dyn crypto::RootOfTrust> {
        Arc::new(crypto::RootKey::from_bytes(crypto::SecretBytes::new(vec![byte; 32])).unwrap())
    }

    /// A database (SQLite) and the authenticated store over it, as a start opens them.
    struct Db {
        dir: std::path::PathBuf,
        inner: Arc<dyn store::Store>,
    }

    impl Db {
        fn new(tag: &str) -> Db {
            let dir =
                std::env::temp_dir().join(format!("hermetic-cpkey-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let inner: Arc<dyn store::Store> =
                Arc::new(store::SqliteStore::open(dir.join("hermetic.db")).unwrap());
            Db { dir, inner }
        }

        fn start(
            &self,
            data_dir: &Path,
            root: &Arc<dyn crypto::RootOfTrust>,
        ) -> Result<SigningKey, String> {
            std::fs::create_dir_all(data_dir).unwrap();
            let (checked, _) = crate::row_macs::authenticate(self.inner.clone(), root.as_ref(), 1)
                .map_err(|e| e.to_string())?;
            load_or_create_key(checked.as_ref(), root, data_dir, 2)
        }
    }

    impl Drop for Db {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// One key for every node on the database, whatever their data directories; its seed is
    /// in the row sealed, never in the clear; a verifier without the root reads its public key.
    #[test]
    fn one_key_for_every_node_kept_sealed_in_the_database() {
        let db = Db::new("shared");
        let r = root(1);
        let (a, b) = (db.dir.join("a"), db.dir.join("b"));
        let first = db.start(&a, &r).unwrap().verifier().to_string();
        assert_eq!(db.start(&b, &r).unwrap().verifier().to_string(), first);
        assert_eq!(db.start(&a, &r).unwrap().verifier().to_string(), first);
        for dir in [&a, &b] {
            assert_eq!(std::fs::read_to_string(dir.join(PUBLIC_FILE)).unwrap().trim(), first);
            assert!(!dir.join(KEY_FILE).exists(), "no key file is written any more");
        }
        assert_eq!(stored_verifier(db.inner.as_ref()).unwrap().unwrap().to_string(), first);
        // Another root of trust cannot open it.
        assert!(db.start(&a, &root(2)).is_err());
    }

    /// An earlier version's keys are imported: the plaintext seed (then removed) and the sealed
    /// file; a data directory whose key differs from the database's refuses the start.
    #[test]
    fn directory_keys_are_imported_once_and_a_different_one_refused() {
        let db = Db::new("import");
        let r = root(1);
        let (a, b) = (db.dir.join("a"), db.dir.join("b"));
        std::fs::create_dir_all(&a).unwrap();
        let seed = [7u8; 32];
        std::fs::write(a.join(LEGACY_KEY_FILE), seed).unwrap();
        let expected = SigningKey::from_slice(KEY_NAME, &seed).unwrap().verifier().to_string();
        assert_eq!(db.start(&a, &r).unwrap().verifier().to_string(), expected);
        assert!(!a.join(LEGACY_KEY_FILE).exists(), "the plaintext seed is gone");
        let mut raw = db.inner.read().unwrap();
        let row = raw.get_record(OPERATOR_ACCOUNT, KEY_KIND, KEY_RECORD).unwrap().unwrap();
        drop(raw);
        let body = row.body.to_string();
        assert!(!body.contains(&b64().encode(seed)), "the seed is sealed in the row");
        // Another node whose directory holds another sealed key: refused, left as it was.
        std::fs::create_dir_all(&b).unwrap();
        let other = r.wrap(SEALING_CONTEXT, &[9u8; 32]).unwrap();
        std::fs::write(b.join(KEY_FILE), &other).unwrap();
        let refused = db.start(&b, &r).unwrap_err();
        assert!(refused.contains("is not the database's"), "{refused}");
        assert_eq!(std::fs::read(b.join(KEY_FILE)).unwrap(), other);
        // The same key sealed in a file agrees with the row.
        std::fs::write(b.join(KEY_FILE), r.wrap(SEALING_CONTEXT, &seed).unwrap()).unwrap();
        assert_eq!(db.start(&b, &r).unwrap().verifier().to_string(), expected);

        // A fresh database imports a sealed file.
        let fresh = Db::new("import-sealed");
        assert_eq!(fresh.start(&b, &r).unwrap().verifier().to_string(), expected);
    }

    /// The key's row edited or deleted (the operator's write access to the database): the
    /// start is refused, never signed with a new key; so is a database with checkpoints and no
    /// key.
    #[test]
    fn an_edited_or_missing_key_refuses_the_start() {
        let db = Db::new("edited");
        let r = root(1);
        let a = db.dir.join("a");
        db.start(&a, &r).unwrap();
        let mut tx = db.inner.begin().unwrap();
        let mut row = tx.get_record(OPERATOR_ACCOUNT, KEY_KIND, KEY_RECORD).unwrap().unwrap();
        let mut stored: StoredKey = serde_json::from_value(row.body.clone()).unwrap();
        let (planted, _) = seal(&[1u8; 32], r.as_ref()).unwrap();
        stored.sealed_seed = planted.sealed_seed;
        row.body = serde_json::to_value(&stored).unwrap();
        tx.put_record(&row, store::PutMode::Update).unwrap();
        tx.commit().unwrap();
        let refused = db.start(&a, &r).unwrap_err();
        assert!(refused.contains("integrity check"), "{refused}");
        let mut tx = db.inner.begin().unwrap();
        tx.delete_record(OPERATOR_ACCOUNT, KEY_KIND, KEY_RECORD).unwrap();
        tx.commit().unwrap();
        let refused = db.start(&a, &r).unwrap_err();
        assert!(refused.contains("integrity check"), "{refused}");

        // A database with a checkpoint and no key (one that never had the row): refused.
        let bare = Db::new("bare");
        let account = "111122223333";
        let mut tx = bare.inner.begin().unwrap();
        tx.create_account(&store::Account {
            id: account.into(),
            name: "acme".into(),
            status: store::AccountStatus::Active,
            created_at_ms: 1,
            mac: Vec::new(),
        })
        .unwrap();
        let leaf = audit::merkle::leaf_hash(b"{}");
        tx.append_event(account, b"{}", &leaf).unwrap();
        tx.insert_checkpoint(&store::Checkpoint {
            account: account.into(),
            size: 1,
            root: leaf,
            time_ms: 1,
            note: "note".into(),
        })
        .unwrap();
        tx.commit().unwrap();
        let refused = bare.start(&bare.dir.join("a"), &r).unwrap_err();
        assert!(refused.contains("no checkpoint key"), "{refused}");
    }
}
