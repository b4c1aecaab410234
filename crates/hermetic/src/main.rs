//! `hermetic`: the command-line entry point.

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hermetic",
    version,
    about = "A data service that hosts its tenants' data without being able to access it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (IAM, STS, ... on one endpoint).
    Serve(Box<ServeArgs>),
    /// Work with the audit trail.
    #[command(subcommand)]
    Trail(TrailCommand),
    /// Run a witness: cosigns a Hermetic server's checkpoints after checking each extends the
    /// last one it cosigned (run by a tenant or a third party, not the operator).
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Manage tenant accounts (operator only).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Ask for access to a tenant account, which the tenant's approval team decides (operator
    /// only).
    #[command(subcommand)]
    Access(AccessCommand),
    /// Answer approval sessions (an approver, with its own credentials in the usual AWS
    /// environment variables).
    #[command(subcommand)]
    Approvals(ApprovalsCommand),
    /// Work with IAM policies offline.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Initialise a data directory whose root of trust is split among custodians (Shamir):
    /// prints each share once; the key itself is never stored.
    Init(InitArgs),
    /// Send one custodian's share (read from standard input) to a sealed server.
    Unseal {
        /// The server's data directory (where its unseal socket is).
        #[arg(long, default_value = "hermetic-data")]
        data_dir: std::path::PathBuf,
        /// Only report whether the server is sealed.
        #[arg(long)]
        status: bool,
    },
    /// Seal a server: it stops serving and drops every key it holds until unsealed again.
    Seal {
        /// The server's data directory (where its unseal socket is).
        #[arg(long, default_value = "hermetic-data")]
        data_dir: std::path::PathBuf,
    },
    /// Prove things about policies (automated reasoning with Z3). Exit codes: 0 answered or
    /// PASS, 1 FAIL, 3 unknown, 4 a witness that did not replay (a bug), 2 bad input.
    #[command(subcommand)]
    Analyze(AnalyzeCommand),
}

/// `hermetic init` settings.
#[derive(clap::Args)]
struct InitArgs {
    /// The root-of-trust provider to initialise (only `shamir` needs it).
    #[arg(long, default_value = "shamir")]
    root_of_trust: String,
    /// How many custodians get a share.
    #[arg(long)]
    shares: usize,
    /// How many shares unseal the server (at least 2).
    #[arg(long)]
    threshold: usize,
    /// The data directory to initialise (its `shamir.json`), for a single node on SQLite.
    #[arg(long, default_value = "hermetic-data")]
    data_dir: std::path::PathBuf,
    /// Initialise the PostgreSQL database the nodes will share instead: the setup is kept
    /// there, where every node reads it (no data directory is written).
    #[arg(long)]
    database_url: Option<String>,
    /// Its schema (created if missing).
    #[arg(long, requires = "database_url")]
    database_schema: Option<String>,
    /// Print the shares as JSON.
    #[arg(long)]
    json: bool,
}

/// `hermetic serve` settings: flags override the config file, which overrides the defaults.
#[derive(clap::Args, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeArgs {
    /// A TOML file with any of these settings (keys as the flags, with underscores).
    #[arg(long)]
    #[serde(skip)]
    config: Option<std::path::PathBuf>,
    /// Address to listen on [default: 127.0.0.1:4566].
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Data directory, created on first start [default: hermetic-data].
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
    /// Seconds between signed checkpoints of the audit logs [default: 60].
    #[arg(long)]
    checkpoint_interval_secs: Option<u64>,
    /// Keep metadata and audit logs in PostgreSQL (`postgres://user@host:5432/db`) instead
    /// of the embedded SQLite database.
    #[arg(long)]
    database_url: Option<String>,
    /// PostgreSQL schema (created if missing).
    #[arg(long)]
    database_schema: Option<String>,
    /// How many PostgreSQL connections this node keeps open, 1 to 256 [default: 8]; the
    /// database's `max_connections` must cover every node's.
    #[arg(long)]
    database_connections: Option<usize>,
    /// PEM certificate chain: serve HTTPS (with `--tls-key`).
    #[arg(long)]
    tls_cert: Option<std::path::PathBuf>,
    /// PEM private key for `--tls-cert`.
    #[arg(long)]
    tls_key: Option<std::path::PathBuf>,
    /// Which root of trust holds the root key: `key-file` (development), `pkcs11` (with
    /// `--pkcs11-module`) or `shamir` (split among custodians by `hermetic init`; the server
    /// starts sealed until `hermetic unseal`) [default: key-file, or pkcs11 when configured].
    #[arg(long)]
    root_of_trust: Option<String>,
    /// The development root key file [default: DIR.root.key beside the data directory DIR,
    /// never inside it]; unused with an HSM.
    #[arg(long)]
    root_key_file: Option<std::path::PathBuf>,
    /// Keep the root of trust in an HSM: the PKCS#11 module (e.g.
    /// /usr/lib/softhsm/libsofthsm2.so) instead of the development key file.
    #[arg(long)]
    pkcs11_module: Option<std::path::PathBuf>,
    /// The HSM token's label (with `--pkcs11-module`).
    #[arg(long)]
    pkcs11_token_label: Option<String>,
    /// The label of the root key in the token, created if missing [default: hermetic-root].
    #[arg(long)]
    pkcs11_key_label: Option<String>,
    /// A file holding the token's user PIN; without it, HERMETIC_PKCS11_PIN.
    #[arg(long)]
    pkcs11_pin_file: Option<std::path::PathBuf>,
    /// Keep object data (sealed blobs, ciphertext only) in an S3-compatible bucket,
    /// `s3://BUCKET[/PREFIX]`, instead of the data directory: what several nodes share. Its
    /// endpoint, region and credentials come from `--blob-endpoint`, `--blob-region` and
    /// `--blob-credentials-file`, else AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, AWS_REGION,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) [default: files in
    /// DIR/blobs].
    #[arg(long)]
    blob_store: Option<String>,
    /// The blob store's endpoint (`http://127.0.0.1:9000`, `https://s3.example.net`) [default:
    /// AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS S3].
    #[arg(long)]
    blob_endpoint: Option<String>,
    /// The blob store's region [default: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1].
    #[arg(long)]
    blob_region: Option<String>,
    /// A JSON file (readable only by its owner) with the blob store's `AccessKeyId`,
    /// `SecretAccessKey` and optional `SessionToken` [default: the AWS_* variables].
    #[arg(long)]
    blob_credentials_file: Option<std::path::PathBuf>,
    /// Virtual-hosted-style requests to the blob store (`BUCKET.endpoint`) instead of
    /// path-style.
    #[arg(long)]
    blob_virtual_hosted: Option<bool>,
    /// Seconds a blob a commit dropped (an overwrite, a delete) stays in an S3 blob store for
    /// the GETs that began before it [default: 900].
    #[arg(long)]
    blob_read_grace_secs: Option<u64>,
    /// Seconds an S3 blob no record names is kept before the sweeper removes it (what a crash
    /// mid-upload leaves); at least 600 [default: 3600].
    #[arg(long)]
    blob_grace_secs: Option<u64>,
    /// Seconds between deliveries of a logging trail's events to its bucket [default: 300].
    #[arg(long)]
    trail_delivery_secs: Option<u64>,
    /// Seconds between signed digest files of a trail with log file validation [default: 3600].
    #[arg(long)]
    trail_digest_secs: Option<u64>,
    /// Seconds a digest signing key signs before a new one takes over [default: 2592000, 30
    /// days].
    #[arg(long)]
    trail_key_rotation_secs: Option<u64>,
    /// Seconds an approval session's approvers have to answer before it expires [default:
    /// 86400].
    #[arg(long)]
    approval_voting_secs: Option<u64>,
    /// Seconds between passes applying S3 buckets' lifecycle rules [default: 3600].
    #[arg(long)]
    lifecycle_interval_secs: Option<u64>,
    /// How long a lifecycle day is, in seconds: for tests only (as Ceph's
    /// rgw_lc_debug_interval), and refused by release builds; with anything but a day, `Days`
    /// count from the write without rounding to midnight [default: 86400].
    #[arg(long)]
    lifecycle_day_secs: Option<u64>,
    /// A witness (`http://host:port`) each new checkpoint is sent to for its cosignature
    /// (repeatable).
    #[arg(long)]
    #[serde(default)]
    witness: Vec<String>,
    /// How many witnesses should cosign each checkpoint [default: all of them].
    #[arg(long)]
    witness_quorum: Option<usize>,
    /// Serve `GET /metrics` (Prometheus text), `/healthz` and `/readyz` on this address, plain
    /// HTTP with no authentication: bind it to a private interface. Its address is printed as
    /// `hermetic metrics on ADDR`.
    #[arg(long)]
    metrics_listen: Option<std::net::SocketAddr>,
    /// How log lines are written on stderr: `text` or `json` (one object per line) [default:
    /// text].
    #[arg(long)]
    log_format: Option<String>,
    /// The least severe log lines written: error, warn, info, debug, trace or off; RUST_LOG
    /// overrides it [default: info].
    #[arg(long)]
    log_level: Option<String>,
}

/// The S3 blob store of `--blob-store URL`: flags first, then the standard AWS variables.
fn blob_options(
    url: &str,
    endpoint: Option<String>,
    region: Option<String>,
    credentials_file: Option<std::path::PathBuf>,
    virtual_hosted: bool,
) -> Result<store::S3BlobOptions, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (bucket, prefix) = store::S3BlobOptions::parse_url(url)?;
    let endpoint =
        endpoint.or_else(|| env("AWS_ENDPOINT_URL_S3")).or_else(|| env("AWS_ENDPOINT_URL"));
    let region = region
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    let (access_key_id, secret_access_key, session_token) = match credentials_file {
        Some(path) => {
            #[derive(serde::Deserialize)]
            #[serde(rename_all = "PascalCase")]
            struct Credentials {
                access_key_id: String,
                secret_access_key: String,
                session_token: Option<String>,
            }
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?,
            );
            let c: Credentials = serde_json::from_str(&text).map_err(|_| {
                format!("`{}` is not {{\"AccessKeyId\", \"SecretAccessKey\"}} JSON", path.display())
            })?;
            (
                Some(c.access_key_id),
                Some(zeroize::Zeroizing::new(c.secret_access_key)),
                c.session_token.map(zeroize::Zeroizing::new),
            )
        }
        None => (
            env("AWS_ACCESS_KEY_ID"),
            env("AWS_SECRET_ACCESS_KEY").map(zeroize::Zeroizing::new),
            env("AWS_SESSION_TOKEN").map(zeroize::Zeroizing::new),
        ),
    };
    if access_key_id.is_some() != secret_access_key.is_some() {
        return Err("the blob store needs both an access key id and its secret".into());
    }
    Ok(store::S3BlobOptions {
        bucket,
        prefix,
        endpoint,
        region,
        access_key_id,
        secret_access_key,
        session_token,
        virtual_hosted,
    })
}

/// The shortest grace period the blob sweeper may be given (ten minutes).
const MIN_BLOB_GRACE_SECS: u64 = 600;

impl ServeArgs {
    /// Flags first, then the config file, then the defaults.
    fn resolve(self) -> Result<server::Config, String> {
        let file: ServeArgs = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| format!("`{}`: {e}", path.display()))?
            }
            None => ServeArgs::default(),
        };
        let defaults = server::Config::default();
        let tls = match (self.tls_cert.or(file.tls_cert), self.tls_key.or(file.tls_key)) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => return Err("`tls_cert` and `tls_key` go together".into()),
        };
        let pkcs11 = match (
            self.pkcs11_module.or(file.pkcs11_module),
            self.pkcs11_token_label.or(file.pkcs11_token_label),
        ) {
            (Some(module), Some(token_label)) => Some(server::config::Pkcs11Settings {
                module,
                token_label,
                key_label: self
                    .pkcs11_key_label
                    .or(file.pkcs11_key_label)
                    .unwrap_or_else(|| "hermetic-root".into()),
                pin_file: self.pkcs11_pin_file.or(file.pkcs11_pin_file),
            }),
            (None, None) => None,
            _ => return Err("`pkcs11_module` and `pkcs11_token_label` go together".into()),
        };
        let shamir = match self.root_of_trust.or(file.root_of_trust).as_deref() {
            None | Some("key-file") if pkcs11.is_none() => false,
            None | Some("pkcs11") if pkcs11.is_some() => false,
            Some("shamir") if pkcs11.is_none() => true,
            Some("pkcs11") => return Err("`root_of_trust = pkcs11` needs `pkcs11_module`".into()),
            Some(other @ ("key-file" | "shamir")) => {
                return Err(format!("`root_of_trust = {other}` does not go with `pkcs11_module`"))
            }
            Some(other) => {
                return Err(format!("unknown root of trust `{other}` (key-file, pkcs11 or shamir)"))
            }
            None => false,
        };
        let log_format = match self.log_format.or(file.log_format).as_deref() {
            None | Some("text") => server::config::LogFormat::Text,
            Some("json") => server::config::LogFormat::Json,
            Some(other) => return Err(format!("unknown log format `{other}` (text or json)")),
        };
        let log_level = self.log_level.or(file.log_level).unwrap_or_else(|| "info".into());
        if !server::observe::logs::LEVELS.contains(&log_level.as_str()) {
            return Err(format!(
                "unknown log level `{log_level}` ({})",
                server::observe::logs::LEVELS.join(", ")
            ));
        }
        let database_url = self.database_url.or(file.database_url);
        let database_schema = self.database_schema.or(file.database_schema);
        if database_schema.is_some() && database_url.is_none() {
            return Err("`database_schema` needs `database_url`".into());
        }
        let database_connections = self.database_connections.or(file.database_connections);
        if database_connections.is_some() && database_url.is_none() {
            return Err("`database_connections` needs `database_url`".into());
        }
        let database_connections = database_connections.unwrap_or(defaults.database_connections);
        if !(1..=256).contains(&database_connections) {
            return Err(format!(
                "`database_connections` is {database_connections}: it must be 1 to 256"
            ));
        }
        let blob_store = match self.blob_store.or(file.blob_store) {
            None => server::config::BlobStoreConfig::Local,
            Some(url) => server::config::BlobStoreConfig::S3(blob_options(
                &url,
                self.blob_endpoint.or(file.blob_endpoint),
                self.blob_region.or(file.blob_region),
                self.blob_credentials_file.or(file.blob_credentials_file),
                self.blob_virtual_hosted.or(file.blob_virtual_hosted).unwrap_or(false),
            )?),
        };
        Ok(server::Config {
            blob_store,
            listen: self.listen.or(file.listen).unwrap_or(defaults.listen),
            data_dir: self.data_dir.or(file.data_dir).unwrap_or(defaults.data_dir),
            checkpoint_interval: std::time::Duration::from_secs(
                self.checkpoint_interval_secs
                    .or(file.checkpoint_interval_secs)
                    .unwrap_or(60)
                    .max(1),
            ),
            database_url,
            database_schema,
            database_connections,
            tls,
            pkcs11,
            root_key_file: self.root_key_file.or(file.root_key_file),
            shamir,
            blob_read_grace: std::time::Duration::from_secs(
                self.blob_read_grace_secs.or(file.blob_read_grace_secs).unwrap_or(900).max(1),
            ),
            blob_grace: match self.blob_grace_secs.or(file.blob_grace_secs) {
                None => defaults.blob_grace,
                // Shorter than an upload may stall for, the sweeper could take a blob whose
                // record is about to commit.
                Some(secs) if secs < MIN_BLOB_GRACE_SECS => {
                    return Err(format!("`blob_grace_secs` must be at least {MIN_BLOB_GRACE_SECS}"))
                }
                Some(secs) => std::time::Duration::from_secs(secs),
            },
            trail_delivery: std::time::Duration::from_secs(
                self.trail_delivery_secs.or(file.trail_delivery_secs).unwrap_or(300).max(1),
            ),
            trail_digest: std::time::Duration::from_secs(
                self.trail_digest_secs.or(file.trail_digest_secs).unwrap_or(3600).max(1),
            ),
            trail_key_rotation: std::time::Duration::from_secs(
                self.trail_key_rotation_secs
                    .or(file.trail_key_rotation_secs)
                    .unwrap_or(30 * 86_400)
                    .max(1),
            ),
            approval_voting: std::time::Duration::from_secs(
                self.approval_voting_secs.or(file.approval_voting_secs).unwrap_or(86_400).max(1),
            ),
            lifecycle_interval: std::time::Duration::from_secs(
                self.lifecycle_interval_secs
                    .or(file.lifecycle_interval_secs)
                    .unwrap_or(3600)
                    .max(1),
            ),
            lifecycle_day: match self.lifecycle_day_secs.or(file.lifecycle_day_secs) {
                None | Some(86_400) => std::time::Duration::from_secs(86_400),
                // A shorter day would let whoever runs the server hasten every tenant's
                // expirations: only test builds take one.
                Some(secs) if cfg!(debug_assertions) => std::time::Duration::from_secs(secs.max(1)),
                Some(_) => {
                    return Err(
                        "`lifecycle_day_secs` is for tests: only a debug build takes a day other than 86400 s"
                            .to_string(),
                    )
                }
            },
            witness_quorum: self.witness_quorum.or(file.witness_quorum).unwrap_or(
                if self.witness.is_empty() { file.witness.len() } else { self.witness.len() },
            ),
            witnesses: if self.witness.is_empty() { file.witness } else { self.witness },
            metrics_listen: self.metrics_listen.or(file.metrics_listen),
            log_format,
            log_level,
            ..defaults
        })
    }
}

#[derive(clap::Args)]
struct OperatorArgs {
    /// The server's endpoint (http:// or https://).
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    endpoint: String,
    /// PEM certificates to trust for an https:// endpoint (default: AWS_CA_BUNDLE, else the
    /// system's bundle).
    #[arg(long)]
    ca_bundle: Option<std::path::PathBuf>,
    /// The server's data directory (where the operator credentials are).
    #[arg(long, default_value = "hermetic-data")]
    data_dir: std::path::PathBuf,
    /// The operator's credentials file [default: DIR/operator-credentials.json in the data
    /// directory; every node writes its copy there].
    #[arg(long)]
    credentials_file: Option<std::path::PathBuf>,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
}

impl OperatorArgs {
    /// The operator's credentials file: `--credentials-file`, else the data directory's copy.
    fn credentials(&self) -> std::path::PathBuf {
        self.credentials_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join(server::bootstrap::OPERATOR_CREDENTIALS_FILE))
    }
}

#[derive(Subcommand)]
enum WitnessCommand {
    /// Serve `POST /add-checkpoint` (the C2SP tlog-witness protocol's shape); prints its
    /// address and its verifier key.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:4567")]
        listen: std::net::SocketAddr,
        /// The witness's Ed25519 seed (created, mode 0600, if missing).
        #[arg(long, default_value = "witness.key")]
        key_file: std::path::PathBuf,
        /// What it last cosigned of each log (created if missing).
        #[arg(long, default_value = "witness-state.json")]
        state_file: std::path::PathBuf,
        /// The name of its key in cosignatures.
        #[arg(long, default_value = "hermetic-witness")]
        name: String,
        /// A file holding the logs' verifier key (the server's `checkpoint.pub`).
        #[arg(long)]
        log_key: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum TrailCommand {
    /// The operator's check (`--data-dir`): every account's stored audit log against its signed
    /// checkpoints (leaf hashes, roots, checkpoint signatures, consistency between checkpoints,
    /// inclusion of every event). A tenant's check (`--endpoint URL --state FILE`, with its
    /// credentials in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY[, AWS_SESSION_TOKEN]): the
    /// account's signed checkpoint against the key pinned in FILE, consistent with the one
    /// FILE recorded, and its recent events proven in it; the first run records FILE.
    Verify {
        /// The server's data directory (holds the checkpoint public key, and the SQLite
        /// database unless `--database-url` is given).
        #[arg(long, default_value = "hermetic-data")]
        data_dir: std::path::PathBuf,
        /// The PostgreSQL database the server used, if any.
        #[arg(long)]
        database_url: Option<String>,
        /// Its schema.
        #[arg(long, requires = "database_url")]
        database_schema: Option<String>,
        /// The checkpoint verifier key to trust: a copy of `checkpoint.pub` kept outside the
        /// data directory since the server first wrote it. Without it the data directory's
        /// copy is used (with `--database-url` and no copy there, the database's key record),
        /// which whoever can write there can replace along with the history.
        #[arg(long)]
        public_key: Option<std::path::PathBuf>,
        /// A tenant's check against this server (with `--state`), instead of the data
        /// directory.
        #[arg(long, requires = "state")]
        endpoint: Option<String>,
        /// The tenant's record of its log (created by the first run, advanced by each run that
        /// passes).
        #[arg(long, requires = "endpoint")]
        state: Option<std::path::PathBuf>,
        /// PEM certificates to trust for an `https://` endpoint [default: AWS_CA_BUNDLE, else
        /// the system's].
        #[arg(long)]
        ca_bundle: Option<std::path::PathBuf>,
        /// A witness's verifier key whose cosignature counts (repeatable; with `--endpoint`).
        #[arg(long)]
        witness_key: Vec<String>,
        /// How many of the `--witness-key`s must have cosigned the checkpoint [default: all].
        #[arg(long)]
        witness_quorum: Option<usize>,
    },
}

#[derive(Subcommand)]
enum AccessCommand {
    /// Open an approval session on the account's operator-access team asking for ACTIONS on
    /// RESOURCES for a time; prints its ARN (`{"SessionArn": ...}` with --json).
    Request {
        /// The tenant account.
        #[arg(long)]
        account: String,
        /// The actions, comma-separated (`s3:GetObject,kms:Decrypt`).
        #[arg(long, value_delimiter = ',', required = true)]
        actions: Vec<String>,
        /// The resources' ARNs, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        resources: Vec<String>,
        /// How long the access lasts once approved: 5 to 43200 seconds.
        #[arg(long)]
        duration_secs: i64,
        /// Why (the tenant's approvers read it).
        #[arg(long)]
        justification: String,
        /// Emergency access, open at once without approval: only where the tenant allowed it in
        /// advance, for at most 3600 seconds, and every approver is notified in the tenant's log.
        #[arg(long)]
        break_glass: bool,
        #[command(flatten)]
        operator: OperatorArgs,
    },
    /// Print temporary credentials for an approved session (`{"AccessKeyId", "SecretAccessKey",
    /// "SessionToken", "Expiration"}` with --json); fails before approval, after rejection,
    /// cancellation or expiry.
    Credentials {
        /// The approval session's ARN (from `access request`).
        session_arn: String,
        #[command(flatten)]
        operator: OperatorArgs,
    },
}

#[derive(Subcommand)]
enum ApprovalsCommand {
    /// Approve or reject an approval session, as the approver whose credentials are in the
    /// environment.
    Vote {
        /// The session's ARN.
        session_arn: String,
        /// Approve it.
        #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
        approve: bool,
        /// Reject it.
        #[arg(long)]
        reject: bool,
        /// The server's endpoint (http:// or https://).
        #[arg(long, default_value = "http://127.0.0.1:4566")]
        endpoint: String,
        /// PEM certificates to trust for an https:// endpoint (default: AWS_CA_BUNDLE, else
        /// the system's bundle).
        #[arg(long)]
        ca_bundle: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Invite a tenant: make an account in state "invited" and print its single-use invitation
    /// code (no credential: the tenant redeems the code with the server itself).
    Invite {
        /// Account name: lowercase letters, digits and hyphens.
        name: String,
        /// How long the code may be redeemed: seconds, or a number with s, m, h or d (at most
        /// 30d).
        #[arg(long, default_value = "7d", value_parser = parse_duration)]
        expires_in: i64,
        #[command(flatten)]
        operator: OperatorArgs,
    },
    /// Redeem an invitation (the tenant; no operator credential): print the account's id and
    /// its root access key, shown only now.
    Redeem {
        /// The invitation code the operator passed on.
        code: String,
        /// The server's endpoint (http:// or https://).
        #[arg(long, default_value = "http://127.0.0.1:4566")]
        endpoint: String,
        /// PEM certificates to trust for an https:// endpoint (default: AWS_CA_BUNDLE, else
        /// the system's bundle).
        #[arg(long)]
        ca_bundle: Option<std::path::PathBuf>,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the tenant accounts.
    List {
        #[command(flatten)]
        operator: OperatorArgs,
    },
    /// Suspend an account: its credentials stop working.
    Suspend {
        /// The 12-digit account id.
        account_id: String,
        #[command(flatten)]
        operator: OperatorArgs,
    },
    /// Reactivate a suspended account.
    Reactivate {
        /// The 12-digit account id.
        account_id: String,
        #[command(flatten)]
        operator: OperatorArgs,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Check policies like IAM Access Analyzer's ValidatePolicy; exits non-zero on an ERROR.
    Validate {
        /// Policy JSON files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// The policy type: identity, resource, scp, rcp, boundary or trust.
        #[arg(long = "type", default_value = "identity")]
        kind: String,
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate the requests of a cases file against its policies and explain each decision.
    Simulate {
        /// A JSON array of cases.
        cases: std::path::PathBuf,
        /// Compare each decision with the case's `expected.response`; exit non-zero on a mismatch.
        #[arg(long)]
        check: bool,
    },
}

/// Which side policies are read from.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PolicyKindArg {
    /// Identity policies of an IAM user acting in its own account.
    Identity,
    /// Resource policies facing every kind of caller.
    Resource,
}

/// The view options shared by the policy questions.
#[derive(clap::Args)]
struct ViewArgs {
    /// Whether the policies are identity or resource policies.
    #[arg(long = "type", value_enum, default_value = "identity")]
    kind: PolicyKindArg,
    /// The account owning the resource (resource policies; default: the one their ARNs name).
    #[arg(long)]
    owner: Option<String>,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum AnalyzeCommand {
    /// Is policy A more permissive than B, less, equivalent, or incomparable?
    Compare {
        a: std::path::PathBuf,
        b: std::path::PathBuf,
        #[command(flatten)]
        view: ViewArgs,
    },
    /// PASS unless NEW allows a request that the reference policy does not.
    CheckNoNewAccess {
        new: std::path::PathBuf,
        #[arg(long)]
        reference: std::path::PathBuf,
        #[command(flatten)]
        view: ViewArgs,
    },
    /// PASS unless the policy allows one of the actions on one of the resources.
    CheckAccessNotGranted {
        policy: std::path::PathBuf,
        /// Actions (IAM patterns), comma-separated.
        #[arg(long, value_delimiter = ',')]
        actions: Vec<String>,
        /// Resources (ARN patterns), comma-separated.
        #[arg(long, value_delimiter = ',')]
        resources: Vec<String>,
        #[command(flatten)]
        view: ViewArgs,
    },
    /// Does a resource policy grant access to anyone outside the accounts it names?
    Public {
        policy: std::path::PathBuf,
        /// The account owning the resource (default: the one its ARNs name).
        #[arg(long)]
        owner: Option<String>,
        /// Only these actions (IAM patterns), comma-separated.
        #[arg(long, value_delimiter = ',')]
        actions: Vec<String>,
        /// Only these resources (ARN patterns), comma-separated.
        #[arg(long, value_delimiter = ',')]
        resources: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Can the principal perform the action on the resource under a scenario of policies?
    CanAccess {
        /// Scenario: identityPolicies, resourcePolicy, permissionBoundaries, sessionPolicy,
        /// serviceControlPolicies, resourceControlPolicies (as in `policy simulate`).
        #[arg(long)]
        policies: std::path::PathBuf,
        #[arg(long)]
        principal: String,
        #[arg(long)]
        action: String,
        /// A resource ARN (or an ARN pattern: some matching resource).
        #[arg(long)]
        resource: String,
        /// The account owning the resource (default: from its ARN, else the principal's).
        #[arg(long)]
        resource_account: Option<String>,
        /// Ask whether it is allowed under every context (default: under some context).
        #[arg(long)]
        all_contexts: bool,
        #[arg(long)]
        json: bool,
    },
    /// What the principal can do on resources matching a pattern, as a minimal policy.
    Effective {
        #[arg(long)]
        policies: std::path::PathBuf,
        #[arg(long)]
        principal: String,
        /// A resource ARN pattern.
        #[arg(long)]
        resource: String,
        #[arg(long)]
        resource_account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Which callers outside the zone of trust a resource policy lets in (findings).
    External {
        policy: std::path::PathBuf,
        /// The account owning the resource (default: the one its ARNs name).
        #[arg(long)]
        owner: Option<String>,
        /// Other accounts of the zone of trust, comma-separated.
        #[arg(long, value_delimiter = ',')]
        trust: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// PASS unless a resource policy grants public access to a resource of the type.
    CheckNoPublicAccess {
        policy: std::path::PathBuf,
        /// An Access Analyzer resource type, such as AWS::S3::Bucket or AWS::KMS::Key.
        #[arg(long)]
        resource_type: String,
        #[arg(long)]
        json: bool,
    },
}

fn analyze(command: AnalyzeCommand) -> ExitCode {
    use hermetic::analyze;
    let (report, json) = match command {
        AnalyzeCommand::Compare { a, b, view } => {
            let resource = view.kind == PolicyKindArg::Resource;
            (analyze::compare(&a, &b, resource, view.owner.as_deref()), view.json)
        }
        AnalyzeCommand::CheckNoNewAccess { new, reference, view } => {
            let resource = view.kind == PolicyKindArg::Resource;
            let owner = view.owner.as_deref();
            (analyze::check_no_new_access(&new, &reference, resource, owner), view.json)
        }
        AnalyzeCommand::CheckAccessNotGranted { policy, actions, resources, view } => {
            let resource = view.kind == PolicyKindArg::Resource;
            let owner = view.owner.as_deref();
            let report =
                analyze::check_access_not_granted(&policy, &actions, &resources, resource, owner);
            (report, view.json)
        }
        AnalyzeCommand::Public { policy, owner, actions, resources, json } => {
            (analyze::public(&policy, owner.as_deref(), &actions, &resources), json)
        }
        AnalyzeCommand::CanAccess {
            policies,
            principal,
            action,
            resource,
            resource_account,
            all_contexts,
            json,
        } => {
            let account = resource_account.as_deref();
            let report = analyze::can_access(
                &policies,
                &principal,
                &action,
                &resource,
                account,
                all_contexts,
            );
            (report, json)
        }
        AnalyzeCommand::Effective { policies, principal, resource, resource_account, json } => {
            let account = resource_account.as_deref();
            (analyze::effective(&policies, &principal, &resource, account), json)
        }
        AnalyzeCommand::External { policy, owner, trust, json } => {
            (analyze::external(&policy, owner.as_deref(), &trust), json)
        }
        AnalyzeCommand::CheckNoPublicAccess { policy, resource_type, json } => {
            (analyze::check_no_public_access(&policy, &resource_type), json)
        }
    };
    match report {
        Ok(r) => {
            if json {
                println!("{}", r.json);
            } else {
                print!("{}", r.text);
            }
            ExitCode::from(r.code)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let config = match args.resolve() {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            match server::serve(config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Account(cmd) => account(cmd),
        Command::Access(AccessCommand::Request {
            account,
            actions,
            resources,
            duration_secs,
            justification,
            break_glass,
            operator,
        }) => {
            let input = serde_json::json!({
                "AccountId": account,
                "Actions": actions,
                "Resources": resources,
                "DurationSeconds": duration_secs,
                "Justification": justification,
                "BreakGlass": break_glass,
            });
            let endpoint = hermetic::client::Endpoint {
                url: operator.endpoint.clone(),
                ca_bundle: operator.ca_bundle.clone(),
            };
            match hermetic::client::call(
                &endpoint,
                &operator.credentials(),
                "RequestAccess",
                &input,
            ) {
                Ok(answer) if operator.json => {
                    let arn = answer.get("SessionArn").cloned().unwrap_or_default();
                    println!("{}", serde_json::json!({ "SessionArn": arn }));
                    ExitCode::SUCCESS
                }
                Ok(answer) => {
                    let arn = answer.get("SessionArn").and_then(|v| v.as_str()).unwrap_or_default();
                    println!("access requested: approval session {arn}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hermetic access request: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Access(AccessCommand::Credentials { session_arn, operator }) => {
            let endpoint = hermetic::client::Endpoint {
                url: operator.endpoint.clone(),
                ca_bundle: operator.ca_bundle.clone(),
            };
            let input = serde_json::json!({ "SessionArn": session_arn });
            match hermetic::client::call(
                &endpoint,
                &operator.credentials(),
                "GetAccessCredentials",
                &input,
            ) {
                Ok(answer) => {
                    let field = |k: &str| answer.get(k).cloned().unwrap_or_default();
                    if operator.json {
                        println!(
                            "{}",
                            serde_json::json!({
                                "AccessKeyId": field("AccessKeyId"),
                                "SecretAccessKey": field("SecretAccessKey"),
                                "SessionToken": field("SessionToken"),
                                "Expiration": field("Expiration"),
                            })
                        );
                    } else {
                        for k in ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"] {
                            println!("{k}: {}", field(k).as_str().unwrap_or_default());
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hermetic access credentials: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Approvals(ApprovalsCommand::Vote {
            session_arn,
            approve,
            reject: _,
            endpoint,
            ca_bundle,
        }) => {
            let creds = match hermetic::client::Credentials::from_env() {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("hermetic approvals vote: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let endpoint = hermetic::client::Endpoint { url: endpoint, ca_bundle };
            match hermetic::client::vote(&endpoint, &session_arn, approve, creds.signer("mpa")) {
                Ok(answer) => {
                    println!("{answer}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hermetic approvals vote: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Init(args) => init(&args),
        Command::Unseal { data_dir, status } => unseal(&data_dir, status),
        Command::Seal { data_dir } => {
            vault_request(&data_dir, &serde_json::json!({ "Seal": true }))
        }
        Command::Witness(WitnessCommand::Serve { listen, key_file, state_file, name, log_key }) => {
            witness_serve(listen, key_file, state_file, name, &log_key)
        }
        Command::Trail(TrailCommand::Verify {
            endpoint: Some(url),
            state: Some(state),
            public_key,
            ca_bundle,
            witness_key,
            witness_quorum,
            ..
        }) => {
            let endpoint = hermetic::client::Endpoint { url, ca_bundle };
            let quorum = witness_quorum.unwrap_or(witness_key.len());
            let witnesses = (witness_key.as_slice(), quorum);
            match hermetic::tenant_verify::run(&endpoint, &state, public_key.as_deref(), witnesses)
            {
                Ok(summary) => {
                    println!("{summary}: ok");
                    ExitCode::SUCCESS
                }
                Err(reason) => {
                    println!("FAILED: {reason}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Trail(TrailCommand::Verify {
            data_dir,
            database_url,
            database_schema,
            public_key,
            ..
        }) => trail_verify(&data_dir, database_url, database_schema, public_key.as_deref()),
        Command::Analyze(command) => analyze(command),
        Command::Policy(PolicyCommand::Simulate { cases, check }) => simulate(&cases, check),
        Command::Policy(PolicyCommand::Validate { files, kind, json }) => {
            validate(&files, &kind, json)
        }
    }
}

fn init(args: &InitArgs) -> ExitCode {
    if args.root_of_trust != "shamir" {
        eprintln!("error: only the shamir root of trust is initialised ahead of `serve`");
        return ExitCode::from(2);
    }
    let made = match &args.database_url {
        Some(url) => match store::PostgresStore::connect_with(&store::PostgresOptions {
            url: url.clone(),
            schema: args.database_schema.clone(),
            connections: 1,
        }) {
            Ok(store) => server::vault::initialise_in_database(&store, args.shares, args.threshold),
            Err(e) => {
                eprintln!("error: cannot open the store: {e}");
                return ExitCode::from(2);
            }
        },
        None => server::vault::initialise(&args.data_dir, args.shares, args.threshold),
    };
    let shares = match made {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The only time the shares exist outside the custodians' hands: give one to each.
    if args.json {
        let list: Vec<&str> = shares.iter().map(|s| s.as_str()).collect();
        println!("{}", serde_json::json!({ "Threshold": args.threshold, "Shares": list }));
    } else {
        println!(
            "Root key split into {} shares; any {} unseal the server. Give one to each custodian; they are not stored anywhere.",
            args.shares, args.threshold
        );
        for (i, share) in shares.iter().enumerate() {
            println!("share {}: {}", i + 1, share.as_str());
        }
    }
    ExitCode::SUCCESS
}

fn unseal(data_dir: &std::path::Path, status: bool) -> ExitCode {
    if status {
        return vault_request(data_dir, &serde_json::json!({ "Status": true }));
    }
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprint!("share: ");
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    if std::io::stdin().read_line(&mut line).is_err() || line.trim().is_empty() {
        eprintln!("error: no share on standard input");
        return ExitCode::from(2);
    }
    vault_request(data_dir, &serde_json::json!({ "Unseal": line.trim() }))
}

fn vault_request(data_dir: &std::path::Path, request: &serde_json::Value) -> ExitCode {
    match server::vault::request(data_dir, request) {
        Ok(answer) => {
            println!("{answer}");
            if answer.get("Error").is_some() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn simulate(path: &std::path::Path, check: bool) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let report = match hermetic::simulate::run_cases(&text, check) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: `{}`: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    print!("{}", report.output);
    if check {
        if !report.failures.is_empty() {
            println!();
            println!("mismatches:");
            for f in &report.failures {
                println!("  {f}");
            }
        }
        println!("{} passed, {} failed", report.passed, report.failed);
    }
    if report.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn validate(files: &[std::path::PathBuf], kind: &str, json: bool) -> ExitCode {
    let kind: policy::validate::PolicyKind = match kind.parse() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut reports = Vec::new();
    for path in files {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", path.display());
                return ExitCode::from(2);
            }
        };
        reports.push(hermetic::validate::validate_file(&path.display().to_string(), &text, kind));
    }
    if json {
        let doc = hermetic::validate::render_json(&reports);
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{}", hermetic::validate::render_text(&reports));
    }
    if reports.iter().any(hermetic::validate::FileReport::has_error) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Seconds of `7d`, `12h`, `30m`, `45s` or `60`.
fn parse_duration(text: &str) -> Result<i64, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let n: i64 = digits.parse().map_err(|_| format!("`{text}` is not a duration like 7d"))?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(format!("`{text}`: the unit must be s, m, h or d")),
    };
    n.checked_mul(scale)
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("`{text}` is not a positive duration"))
}

fn account(cmd: AccountCommand) -> ExitCode {
    use serde_json::json;
    let (operation, input, operator) = match cmd {
        AccountCommand::Redeem { code, endpoint, ca_bundle, json } => {
            return redeem(&code, &hermetic::client::Endpoint { url: endpoint, ca_bundle }, json)
        }
        AccountCommand::Invite { name, expires_in, operator } => (
            "InviteAccount",
            json!({ "AccountName": name, "ExpiresInSeconds": expires_in }),
            operator,
        ),
        AccountCommand::List { operator } => ("ListAccounts", json!({}), operator),
        AccountCommand::Suspend { account_id, operator } => {
            ("SuspendAccount", json!({ "AccountId": account_id }), operator)
        }
        AccountCommand::Reactivate { account_id, operator } => {
            ("ReactivateAccount", json!({ "AccountId": account_id }), operator)
        }
    };
    let endpoint = hermetic::client::Endpoint {
        url: operator.endpoint.clone(),
        ca_bundle: operator.ca_bundle.clone(),
    };
    match hermetic::client::call(&endpoint, &operator.credentials(), operation, &input) {
        Ok(answer) => {
            let field =
                |k: &str| answer.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            if operator.json && operation == "InviteAccount" {
                // Exactly these two keys, in this order.
                let q = |k: &str| serde_json::Value::String(field(k));
                println!(
                    "{{\"AccountId\": {}, \"InviteCode\": {}}}",
                    q("AccountId"),
                    q("InviteCode")
                );
            } else if operator.json || operation != "InviteAccount" {
                println!("{answer}");
            } else {
                println!("account {} invited", field("AccountId"));
                println!("invitation code: {}", field("InviteCode"));
                println!(
                    "(give it to the tenant; it works once, and only the tenant should redeem it)"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `hermetic account redeem`: the tenant's side of onboarding.
fn redeem(code: &str, endpoint: &hermetic::client::Endpoint, json: bool) -> ExitCode {
    match hermetic::client::redeem(endpoint, code) {
        Ok(answer) => {
            let field = |k: &str| {
                serde_json::Value::String(
                    answer.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string(),
                )
            };
            if json {
                // Exactly these three keys, in this order.
                println!(
                    "{{\"AccountId\": {}, \"AccessKeyId\": {}, \"SecretAccessKey\": {}}}",
                    field("AccountId"),
                    field("AccessKeyId"),
                    field("SecretAccessKey")
                );
            } else {
                let text = |k: &str| field(k).as_str().unwrap_or_default().to_string();
                println!("account {} is yours", text("AccountId"));
                println!("root access key id:     {}", text("AccessKeyId"));
                println!("root secret access key: {}", text("SecretAccessKey"));
                println!("(the secret is shown only now; store it safely, and make IAM users for daily work)");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn witness_serve(
    listen: std::net::SocketAddr,
    key_file: std::path::PathBuf,
    state_file: std::path::PathBuf,
    name: String,
    log_key: &std::path::Path,
) -> ExitCode {
    let log_key = match std::fs::read_to_string(log_key) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: the log key {}: {e}", log_key.display());
            return ExitCode::from(2);
        }
    };
    let config = server::witness::WitnessConfig { listen, key_file, state_file, name, log_key };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let served = runtime.block_on(server::witness::serve(config, stop, |addr, key| {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "hermetic witness listening on http://{addr}");
        let _ = writeln!(out, "witness key: {key}");
        let _ = out.flush();
    }));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn trail_verify(
    data_dir: &std::path::Path,
    database_url: Option<String>,
    database_schema: Option<String>,
    pinned: Option<&std::path::Path>,
) -> ExitCode {
    let on_postgres = database_url.is_some();
    let opened: Result<Box<dyn store::Store>, store::StoreError> = match database_url {
        Some(url) => store::PostgresStore::connect_with(&store::PostgresOptions {
            url,
            schema: database_schema,
            connections: 2,
        })
        .map(|s| Box::new(s) as Box<dyn store::Store>),
        None => store::SqliteStore::open(data_dir.join("hermetic.db"))
            .map(|s| Box::new(s) as Box<dyn store::Store>),
    };
    let store = match opened {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot open the store: {e}");
            return ExitCode::from(2);
        }
    };
    let unpinned = |whence: &str| {
        eprintln!(
            "warning: the checkpoint public key is read from {whence}: whoever can write there can replace it together with the history it vouches for. Keep a copy elsewhere and pass it with --public-key."
        );
    };
    let in_directory = data_dir.join(server::checkpoints::PUBLIC_FILE);
    let public = match pinned {
        Some(path) => Some(path.to_path_buf()),
        // A node on PostgreSQL need keep no data directory: the database's record names the key.
        None if on_postgres && !in_directory.exists() => None,
        None => {
            unpinned(&format!("the data directory ({})", in_directory.display()));
            Some(in_directory)
        }
    };
    let verifier = match &public {
        Some(public) => match std::fs::read_to_string(public)
            .map_err(|e| e.to_string())
            .and_then(|t| audit::note::VerifierKey::parse(t.trim()).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                eprintln!(
                    "error: cannot read the checkpoint public key `{}`: {e}",
                    public.display()
                );
                return ExitCode::from(2);
            }
        },
        None => {
            unpinned("the database (its checkpoint key record)");
            match server::checkpoints::stored_verifier(store.as_ref()) {
                Ok(Some(v)) => v,
                Ok(None) => {
                    eprintln!("error: the database has no checkpoint key record: pass the public key with --public-key");
                    return ExitCode::from(2);
                }
                Err(e) => {
                    eprintln!("error: cannot read the database's checkpoint public key: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    match server::checkpoints::verify(store.as_ref(), &verifier) {
        Ok(reports) => {
            let mut failed = 0;
            for r in &reports {
                if r.problems.is_empty() {
                    println!(
                        "{}: {} events, {} checkpoints: ok",
                        r.account, r.events, r.checkpoints
                    );
                } else {
                    failed += 1;
                    println!(
                        "{}: {} events, {} checkpoints: FAILED",
                        r.account, r.events, r.checkpoints
                    );
                    for p in &r.problems {
                        println!("  {p}");
                    }
                }
            }
            println!("{} passed, {failed} failed", reports.len() - failed);
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
