//! The Shamir root of trust (`--root-of-trust shamir`): no one holds the root key.
//!
//! `hermetic init --root-of-trust shamir --shares N --threshold M` makes a random root key,
//! splits it into N shares ([`crypto::shamir`]), prints each once and keeps only what checks a
//! reconstruction (the [`Setup`]: the threshold, the count and a hash of the key), in
//! `shamir.json` for a single node on SQLite, or with `--database-url` in the database's node
//! settings ([`SETUP_SETTING`]), where every node on the database reads it (a node's
//! `shamir.json` is imported there once, and must agree with it after that). The setup is not
//! authenticated (it is read before anything can be): an edited one gains nothing, since a
//! threshold that is not the shares' does not combine, and a key check of another key either
//! refuses the custodians' shares or lets in a root that opens none of the rows. The server
//! then starts **sealed**: it opens nothing and listens for nothing but the unseal socket
//! (`DIR/unseal.sock`, owner-only) until M custodians have each sent a share with
//! `hermetic unseal`. The shares are combined in memory, checked against the hash, and the
//! key is handed to the server, which opens the store and serves. `hermetic seal` stops
//! serving and drops every key the server held (zeroized), back to sealed.
//!
//! The protocol on the socket is one JSON line each way: `{"Unseal":"HSS1-..."}`,
//! `{"Seal":true}` or `{"Status":true}`, answered by `{"Sealed":..,"Progress":..,
//! "Threshold":..}` or `{"Error":".."}`. A share is never logged, echoed or written anywhere.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The file that says how the root key was split (no secret in it), for a node on SQLite.
pub const META_FILE: &str = "shamir.json";
/// The node setting that says it, for the nodes on a database.
pub const SETUP_SETTING: &str = "shamir_setup";
/// The socket custodians send their shares to.
pub const SOCKET_FILE: &str = "unseal.sock";
/// The longest line the socket reads (a share is about 80 bytes).
const MAX_LINE: u64 = 4096;

/// Why the vault cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// File or socket trouble.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        source: std::io::Error,
    },
    /// The data directory was not initialised for Shamir, or already was.
    #[error("{0}")]
    State(String),
    /// The shares cannot be made.
    #[error(transparent)]
    Shamir(#[from] crypto::shamir::ShamirError),
    /// The database failed.
    #[error("the database: {0}")]
    Store(#[from] store::StoreError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VaultError + '_ {
    move |source| VaultError::Io { path: path.to_path_buf(), source }
}

/// What checks a reconstructed key: `SHA-256("hermetic:shamir-key-check/v1\0" || key)`.
fn key_check(key: &[u8]) -> String {
    let digest =
        Sha256::new().chain_update(b"hermetic:shamir-key-check/v1\0").chain_update(key).finalize();
    sigv4::encode::hex(&digest)
}

/// How the root key was split: no secret, only what checks a reconstruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setup {
    /// How many custodians got a share.
    pub shares: usize,
    /// How many shares unseal (at least 2).
    pub threshold: usize,
    /// [`key_check`] of the root key.
    key_check: String,
}

impl Setup {
    /// The stored form (`shamir.json`'s, and the node setting's).
    fn to_json(&self) -> String {
        json!({
            "Version": 1,
            "Shares": self.shares,
            "Threshold": self.threshold,
            "KeyCheck": self.key_check,
        })
        .to_string()
    }

    /// Reads the stored form; `whence` names it in errors.
    fn parse(text: &str, whence: &str) -> Result<Setup, VaultError> {
        let meta: Value =
            serde_json::from_str(text).map_err(|e| VaultError::State(format!("{whence}: {e}")))?;
        let count =
            |k: &str| meta.get(k).and_then(Value::as_u64).and_then(|t| usize::try_from(t).ok());
        let threshold = count("Threshold")
            .filter(|t| *t >= 2)
            .ok_or_else(|| VaultError::State(format!("{whence}: no threshold")))?;
        let key_check = meta
            .get("KeyCheck")
            .and_then(Value::as_str)
            .ok_or_else(|| VaultError::State(format!("{whence}: no key check")))?
            .to_string();
        Ok(Setup { shares: count("Shares").unwrap_or(0), threshold, key_check })
    }
}

/// A new random root key split into `shares`: its setup and the shares (the key itself is gone
/// when this returns).
fn split(shares: usize, threshold: usize) -> Result<(Setup, Vec<Zeroizing<String>>), VaultError> {
    let mut key = Zeroizing::new([0u8; 32]);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, key.as_mut_slice());
    let split = crypto::shamir::split(key.as_slice(), threshold, shares, &mut rand_core::OsRng)?;
    let setup = Setup { shares, threshold, key_check: key_check(key.as_slice()) };
    Ok((setup, split.iter().map(crypto::shamir::Share::encode).collect()))
}

/// Makes the root key of a new data directory and splits it: the shares, to be printed once.
/// Nothing but `shamir.json` is written; the key itself is gone when this returns.
///
/// # Errors
/// [`VaultError::State`] if the directory already holds a database or a Shamir setup;
/// [`VaultError::Shamir`] for a threshold or count out of range.
pub fn initialise(
    data_dir: &Path,
    shares: usize,
    threshold: usize,
) -> Result<Vec<Zeroizing<String>>, VaultError> {
    let meta = data_dir.join(META_FILE);
    if meta.exists() || data_dir.join("hermetic.db").exists() {
        return Err(VaultError::State(format!(
            "{} is already initialised: its root key cannot be split again",
            data_dir.display()
        )));
    }
    let (setup, shares) = split(shares, threshold)?;
    crate::support::private::create_dirs(data_dir).map_err(io(data_dir))?;
    crate::support::private::write_private(&meta, setup.to_json().as_bytes()).map_err(io(&meta))?;
    Ok(shares)
}

/// As [`initialise`], for the nodes on a database: the setup is written to the database's node
/// settings, where each node reads it ([`load_setup`]).
///
/// # Errors
/// [`VaultError::State`] if the database already holds a Shamir setup, or rows a root key
/// sealed; [`VaultError::Shamir`] for a threshold or count out of range; the store's.
pub fn initialise_in_database(
    store: &dyn store::Store,
    shares: usize,
    threshold: usize,
) -> Result<Vec<Zeroizing<String>>, VaultError> {
    let initialised = || {
        VaultError::State(
            "the database is already initialised: its root key cannot be split again".into(),
        )
    };
    let mut tx = store.begin()?;
    let (kind, name) = crate::row_macs::KEY_RECORD;
    if tx.node_setting(SETUP_SETTING)?.is_some()
        || tx.has_authenticated_rows()?
        || tx.get_record(crate::pipeline::identity::OPERATOR_ACCOUNT, kind, name)?.is_some()
    {
        return Err(initialised());
    }
    let (setup, shares) = split(shares, threshold)?;
    match tx.put_node_setting(SETUP_SETTING, &setup.to_json(), store::PutMode::Create) {
        Err(store::StoreError::AlreadyExists) => return Err(initialised()),
        other => other?,
    }
    tx.commit()?;
    Ok(shares)
}

/// The Shamir setup a node uses: `shamir.json` in its data directory, or with a database the
/// database's (a `shamir.json` found beside it is imported once, and must agree with it).
///
/// # Errors
/// [`VaultError::State`] when there is none, when one cannot be read, or when the file and the
/// database disagree; file and store trouble.
pub fn load_setup(data_dir: &Path, store: Option<&dyn store::Store>) -> Result<Setup, VaultError> {
    let meta_path = data_dir.join(META_FILE);
    let file = match std::fs::read_to_string(&meta_path) {
        Ok(text) => Some(Setup::parse(&text, &meta_path.display().to_string())?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&meta_path)(e)),
    };
    let Some(store) = store else {
        return file.ok_or_else(|| {
            VaultError::State(format!(
                "{} has no Shamir setup: run `hermetic init --root-of-trust shamir` first",
                data_dir.display()
            ))
        });
    };
    let mut attempts = 3;
    loop {
        attempts -= 1;
        let mut tx = store.begin()?;
        let stored = match tx.node_setting(SETUP_SETTING)? {
            Some(text) => Some(Setup::parse(&text, "the database's Shamir setup")?),
            None => None,
        };
        return match (stored, &file) {
            (Some(stored), Some(file)) if stored != *file => Err(VaultError::State(format!(
                "{} is not the database's Shamir setup: refusing to start (move the file away if the database's is the one the custodians' shares are of)",
                meta_path.display()
            ))),
            (Some(stored), _) => Ok(stored),
            (None, Some(file)) => {
                let imported = tx
                    .put_node_setting(SETUP_SETTING, &file.to_json(), store::PutMode::Create)
                    .and_then(|()| tx.commit());
                match imported {
                    // Another node imported one at the same time: compared on the next round.
                    Err(e) if attempts > 0 && (e.is_retryable() || e == store::StoreError::AlreadyExists) => {
                        continue
                    }
                    Err(e) => Err(e.into()),
                    Ok(()) => Ok(file.clone()),
                }
            }
            (None, None) => Err(VaultError::State(
                "the database has no Shamir setup: run `hermetic init --root-of-trust shamir --database-url ...` first".into(),
            )),
        };
    }
}

/// The unseal socket's side of the server: hands out the root key once enough shares came, and
/// tells when a custodian asked to seal.
pub struct Vault {
    keys: tokio::sync::mpsc::Receiver<crypto::RootKey>,
    seal: Arc<tokio::sync::Notify>,
    /// How many shares unseal.
    pub threshold: usize,
    /// The socket's path.
    pub socket: PathBuf,
}

impl Vault {
    /// Listens on the data directory's unseal socket for shares of `setup`'s key.
    ///
    /// # Errors
    /// The socket's.
    pub fn open(data_dir: &Path, setup: &Setup) -> Result<Vault, VaultError> {
        let (threshold, check) = (setup.threshold, setup.key_check.clone());
        let socket = data_dir.join(SOCKET_FILE);
        // A socket left by an earlier run is only a name in the directory.
        let _ = std::fs::remove_file(&socket);
        let listener = UnixListener::bind(&socket).map_err(io(&socket))?;
        crate::support::private::tighten(&socket).map_err(io(&socket))?;
        let (tx, keys) = tokio::sync::mpsc::channel(1);
        let seal = Arc::new(tokio::sync::Notify::new());
        let worker = Custodians { threshold, check, shares: Vec::new(), unsealed: false };
        let notify = seal.clone();
        std::thread::Builder::new()
            .name("hermetic-unseal".into())
            .spawn(move || worker.serve(&listener, &tx, &notify))
            .map_err(io(&socket))?;
        Ok(Vault { keys, seal, threshold, socket })
    }

    /// Waits until custodians have unsealed: the root key.
    ///
    /// # Errors
    /// [`VaultError::State`] if the socket's thread ended.
    pub async fn unsealed(&mut self) -> Result<crypto::RootKey, VaultError> {
        self.keys.recv().await.ok_or_else(|| VaultError::State("the unseal socket closed".into()))
    }

    /// Waits until a custodian asks to seal.
    pub async fn seal_requested(&self) {
        self.seal.notified().await;
    }
}

/// The socket thread's state: shares so far, and whether the key was handed out.
struct Custodians {
    threshold: usize,
    check: String,
    shares: Vec<crypto::shamir::Share>,
    unsealed: bool,
}

impl Custodians {
    fn serve(
        mut self,
        listener: &UnixListener,
        keys: &tokio::sync::mpsc::Sender<crypto::RootKey>,
        seal: &tokio::sync::Notify,
    ) {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let answer = self.answer(&stream, keys, seal);
            let mut stream = stream;
            let _ = writeln!(stream, "{answer}");
            if keys.is_closed() {
                return;
            }
        }
    }

    fn status(&self) -> Value {
        json!({
            "Sealed": !self.unsealed,
            "Progress": if self.unsealed { self.threshold } else { self.shares.len() },
            "Threshold": self.threshold,
        })
    }

    fn answer(
        &mut self,
        stream: &UnixStream,
        keys: &tokio::sync::mpsc::Sender<crypto::RootKey>,
        seal: &tokio::sync::Notify,
    ) -> Value {
        let mut line = Zeroizing::new(String::new());
        if BufReader::new(stream.take(MAX_LINE)).read_line(&mut line).is_err() {
            return json!({ "Error": "unreadable request" });
        }
        let Ok(request) = serde_json::from_str::<Value>(&line) else {
            return json!({ "Error": "not a JSON request" });
        };
        if request.get("Status").is_some() {
            return self.status();
        }
        if request.get("Seal").is_some() {
            self.shares.clear();
            if self.unsealed {
                self.unsealed = false;
                seal.notify_one();
                tracing::warn!("sealed by a custodian; every key is being dropped");
            }
            return self.status();
        }
        let Some(text) = request.get("Unseal").and_then(Value::as_str) else {
            return json!({ "Error": "expected Unseal, Seal or Status" });
        };
        if self.unsealed {
            return json!({ "Error": "the server is already unsealed" });
        }
        let Ok(share) = crypto::shamir::Share::parse(text) else {
            return json!({ "Error": "not a share" });
        };
        if usize::from(share.threshold) != self.threshold {
            return json!({ "Error": "a share of another setup (its threshold differs)" });
        }
        if self.shares.iter().any(|s| s.index == share.index) {
            return json!({ "Error": format!("share {} was already given", share.index) });
        }
        self.shares.push(share);
        tracing::info!("unseal progress {} of {}", self.shares.len(), self.threshold);
        if self.shares.len() < self.threshold {
            return self.status();
        }
        let combined = crypto::shamir::combine(&self.shares);
        self.shares.clear();
        let Ok(secret) = combined else {
            return json!({ "Error": "the shares do not combine; start again" });
        };
        if key_check(secret.expose()) != self.check {
            tracing::warn!("the shares given do not make the root key; unseal starts again");
            return json!({ "Error": "the shares do not make this server's root key; start again" });
        }
        let Ok(root) = crypto::RootKey::from_bytes(secret) else {
            return json!({ "Error": "the shares do not make a key" });
        };
        if keys.blocking_send(root).is_err() {
            return json!({ "Error": "the server is stopping" });
        }
        self.unsealed = true;
        tracing::info!("unsealed");
        self.status()
    }
}

/// Sends one request to a server's unseal socket and returns its answer (the client side of
/// `hermetic unseal` and `hermetic seal`).
///
/// # Errors
/// The socket's, or an answer that is not JSON.
pub fn request(data_dir: &Path, request: &Value) -> Result<Value, VaultError> {
    let path = data_dir.join(SOCKET_FILE);
    let mut stream = UnixStream::connect(&path).map_err(io(&path))?;
    let line = Zeroizing::new(format!("{request}\n"));
    stream.write_all(line.as_bytes()).map_err(io(&path))?;
    let mut answer = String::new();
    BufReader::new(stream.take(MAX_LINE)).read_line(&mut answer).map_err(io(&path))?;
    serde_json::from_str(&answer).map_err(|e| {
        VaultError::State(format!("{}: an answer that is not JSON: {e}", path.display()))
    })
}
