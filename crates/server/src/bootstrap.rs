//! First start: the data directory, the root key, and the operator's credentials.

use crate::pipeline::identity::{Caller, KeyEntry, OPERATOR_ACCOUNT};
use serde_json::json;
use std::path::{Path, PathBuf};

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
}

/// The operator's access key, as stored in the credentials file.
#[derive(Debug)]
pub struct OperatorCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret: sigv4::Secret,
    /// The file they are in.
    pub path: PathBuf,
    /// Whether this start created them.
    pub created: bool,
}

/// The name of the operator credentials file in the data directory.
pub const OPERATOR_CREDENTIALS_FILE: &str = "operator-credentials.json";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BootstrapError + '_ {
    move |source| BootstrapError::Io { path: path.to_path_buf(), source }
}

/// Creates the data directory (mode 0700) and root key on first start, and loads or creates the
/// operator credentials (mode 0600). Returns the root key and the credentials.
/// The root of trust the server holds: whichever provider is configured.
pub type Root = Box<dyn crypto::RootOfTrust>;

/// Opens the configured root of trust: the HSM when PKCS#11 is configured, else the
/// development key file in the data directory (with a loud warning).
pub fn open_root(
    data_dir: &Path,
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
            Ok(Box::new(root))
        }
        None => {
            let path = data_dir.join("root.key");
            let root = crypto::LocalKeyFile::load_or_create(&path)?;
            eprintln!(
                "WARNING: the root of trust is the key file {} (for development only): whoever can \
                 read it can open every stored secret. Use an HSM (--pkcs11-module) in production.",
                path.display()
            );
            Ok(Box::new(root))
        }
    }
}

/// Creates the data directory if needed, opens the configured root of trust, and loads (or
/// creates, once) the operator's credentials.
pub fn init_with(
    data_dir: &Path,
    pkcs11: Option<&crate::config::Pkcs11Settings>,
) -> Result<(Root, OperatorCredentials), BootstrapError> {
    prepare(data_dir)?;
    let root = open_root(data_dir, pkcs11)?;
    Ok((root, credentials(data_dir)?))
}

/// `init_with` for the development key file.
pub fn init(data_dir: &Path) -> Result<(Root, OperatorCredentials), BootstrapError> {
    init_with(data_dir, None)
}

fn prepare(data_dir: &Path) -> Result<(), BootstrapError> {
    crate::support::private::create_dirs(data_dir).map_err(io(data_dir))?;
    // Whatever an earlier version or a hand left readable to others is made private.
    crate::support::private::tighten(data_dir).map_err(io(data_dir))
}

fn credentials(data_dir: &Path) -> Result<OperatorCredentials, BootstrapError> {
    let path = data_dir.join(OPERATOR_CREDENTIALS_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let doc: serde_json::Value =
            serde_json::from_str(&text).map_err(|_| BootstrapError::Credentials(path.clone()))?;
        let field = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let (Some(id), Some(secret)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
            return Err(BootstrapError::Credentials(path));
        };
        return Ok(OperatorCredentials {
            access_key_id: id,
            secret: sigv4::Secret::new(secret),
            path,
            created: false,
        });
    }
    let (id, secret) = crate::support::ids::new_access_key("AKIA");
    let secret_text = String::from_utf8_lossy(secret.expose()).into_owned();
    let doc = json!({ "AccessKeyId": id, "SecretAccessKey": secret_text });
    write_private(&path, doc.to_string().as_bytes()).map_err(io(&path))?;
    Ok(OperatorCredentials { access_key_id: id, secret, path, created: true })
}

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
