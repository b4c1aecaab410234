//! Starting the real `hermetic serve` and driving it with aws-cli and boto3.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod moto;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Where a test server keeps its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite database in the data directory.
    Sqlite,
    /// The machine's PostgreSQL (127.0.0.1:5432, database `test`), in a schema of its own.
    Postgres,
    /// PostgreSQL as [`Backend::Postgres`], and object data in a bucket of its own on the test
    /// process's moto server (`--blob-store s3://...`): what several nodes share.
    PostgresS3,
}

/// The PostgreSQL URL tests use.
pub const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A running server in a fresh data directory; killed and cleaned up on drop.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub dir: PathBuf,
    /// `--database-url ... --database-schema ...` when on PostgreSQL.
    pub db_args: Vec<String>,
    /// The `--blob-*` flags of an S3 blob store (with `db_args`, what another node on the
    /// same state is started with).
    pub blob_args: Vec<String>,
    pub schema: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The development root key lives beside the data directory.
        let _ = std::fs::remove_file(server::bootstrap::root_key_path(&self.dir, None));
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(schema) = &self.schema {
            psql(&format!("drop schema if exists {schema} cascade"));
        }
        if let Some(file) = flag(&self.blob_args, "--blob-credentials-file") {
            let _ = std::fs::remove_file(file);
        }
    }
}

impl Server {
    /// The flags another `serve` on this server's state takes: its database and blob store.
    pub fn state_args(&self) -> Vec<&str> {
        self.db_args.iter().chain(&self.blob_args).map(String::as_str).collect()
    }
}

/// The value of `name` in `args`.
pub fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// The S3 blob store a server was started with (`--blob-store s3://BUCKET/PREFIX`).
pub fn s3_blobs(server: &Server) -> Option<store::S3Blobs> {
    let url = flag(&server.blob_args, "--blob-store")?;
    let (bucket, prefix) = store::S3BlobOptions::parse_url(url).unwrap();
    Some(store::S3Blobs::new(&moto::options(&bucket, &prefix)).unwrap())
}

/// Runs one SQL statement on the test PostgreSQL database.
pub fn psql(sql: &str) {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "test",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .expect("psql runs");
    assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
}

/// Starts a server on `backend` with extra `serve` arguments.
pub fn start_on(tag: &str, backend: Backend, extra: &[&str]) -> Server {
    let dir = unique_dir(tag);
    let (db_args, schema) = match backend {
        Backend::Sqlite => (Vec::new(), None),
        Backend::Postgres | Backend::PostgresS3 => {
            let schema =
                format!("t_{}", dir.file_name().unwrap().to_string_lossy().replace('-', "_"));
            (
                vec![
                    "--database-url".to_string(),
                    POSTGRES_URL.to_string(),
                    "--database-schema".to_string(),
                    schema.clone(),
                ],
                Some(schema),
            )
        }
    };
    let blob_args =
        if backend == Backend::PostgresS3 { s3_blob_args(tag, &dir) } else { Vec::new() };
    let mut args: Vec<&str> = db_args.iter().chain(&blob_args).map(String::as_str).collect();
    args.extend_from_slice(extra);
    let (child, url, _) = start_with(&dir, &args);
    Server { child, url, dir, db_args, blob_args, schema }
}

/// The `--blob-*` flags of a fresh bucket on the moto server, with its credentials in a file
/// beside `dir` (never inside: a test may compare or remove data directories).
pub fn s3_blob_args(tag: &str, dir: &Path) -> Vec<String> {
    let bucket = moto::bucket(tag);
    let credentials = dir.with_extension("blob-credentials.json");
    let json =
        format!(r#"{{"AccessKeyId": "{}", "SecretAccessKey": "{}"}}"#, moto::KEY, moto::SECRET);
    std::fs::write(&credentials, json).unwrap();
    vec![
        "--blob-store".to_string(),
        format!("s3://{bucket}/node"),
        "--blob-endpoint".to_string(),
        moto::endpoint().to_string(),
        "--blob-credentials-file".to_string(),
        credentials.to_string_lossy().into_owned(),
    ]
}

/// Runs one SQL statement on a server's database behind its back (the operator's write access
/// to the database).
#[allow(dead_code)]
pub fn edit_database(server: &Server, sql: &str) {
    match &server.schema {
        Some(schema) => psql(&format!("set search_path to {schema}; {sql}")),
        None => {
            let script = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()";
            let out = std::process::Command::new(python())
                .args(["-c", script])
                .arg(server.dir.join("hermetic.db"))
                .arg(sql)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

/// Opens the store a server used (after it stopped, or alongside it).
pub fn open_store(server: &Server) -> Box<dyn store::Store> {
    match &server.schema {
        Some(schema) => Box::new(
            store::PostgresStore::connect_with(&store::PostgresOptions {
                url: POSTGRES_URL.to_string(),
                schema: Some(schema.clone()),
                connections: 2,
            })
            .unwrap(),
        ),
        None => Box::new(store::SqliteStore::open(server.dir.join("hermetic.db")).unwrap()),
    }
}

/// Opens the store a server used with the server's own powers: its root key file and the rows'
/// MAC key, so that rows a test writes are accepted (for setting up what the API cannot, such
/// as a rotation date in the past). An operator without the root of trust cannot do this.
#[allow(dead_code)]
pub fn open_trusted_store(server: &Server) -> std::sync::Arc<dyn store::Store> {
    let inner: std::sync::Arc<dyn store::Store> = std::sync::Arc::from(open_store(server));
    let root = server::bootstrap::open_root(&server.dir, None, None).unwrap();
    server::row_macs::authenticate(inner, root.as_ref(), 0).unwrap().0
}

/// Deletes the checkpoint key's record with the server's own powers ([`open_trusted_store`]):
/// what an operator who holds the root of trust (here the development key file) does to sign a
/// rewritten history with a new key. Without the root of trust the deletion is refused at the
/// next start (the operator realm's manifest names the record).
#[allow(dead_code)]
pub fn delete_checkpoint_key(server: &Server) {
    let store = open_trusted_store(server);
    let mut tx = store.begin().unwrap();
    tx.delete_record(
        server::pipeline::identity::OPERATOR_ACCOUNT,
        server::checkpoints::KEY_KIND,
        server::checkpoints::KEY_RECORD,
    )
    .unwrap();
    tx.commit().unwrap();
}

pub fn unique_dir(tag: &str) -> PathBuf {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    std::env::temp_dir().join(format!("hermetic-{tag}-{}-{nanos}", std::process::id()))
}

/// Starts `hermetic serve` on a free port; returns once it listens.
pub fn start_in(dir: &Path) -> (Child, String, String) {
    start_with(dir, &[])
}

/// Starts `hermetic serve` with extra arguments.
pub fn start_with(dir: &Path, extra: &[&str]) -> (Child, String, String) {
    start_with_env(dir, extra, &[])
}

/// Starts `hermetic serve` with extra arguments and environment variables.
pub fn start_with_env(
    dir: &Path,
    extra: &[&str],
    env: &[(&str, &Path)],
) -> (Child, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hermetic"));
    // Warnings and alarms only (not every request's access line) on the test's stderr, unless
    // the run asks for more.
    if std::env::var_os("RUST_LOG").is_none() {
        command.env("RUST_LOG", "warn");
    }
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first.strip_prefix("hermetic listening on ").unwrap().to_string();
    assert!(url.starts_with("http://") || url.starts_with("https://"), "{url}");
    let second = lines.next().unwrap().unwrap();
    assert!(second.starts_with("operator credentials: "), "{second}");
    (child, url, second)
}

pub fn start(tag: &str) -> Server {
    start_on(tag, Backend::Sqlite, &[])
}

pub fn python() -> String {
    std::env::var("HERMETIC_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs `tests/scripts/SCRIPT.py` with `args` and checks that it succeeded and printed `ok`
/// last (its output is the failure's message); returns what it printed.
pub fn run_script(script: &str, args: &[&str]) -> String {
    let path = format!("{}/tests/scripts/{script}.py", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python()).arg(&path).args(args).output().unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.trim().ends_with("ok"), "{stdout}\n{stderr}");
    stdout.into_owned()
}

/// Runs `scripts/SCRIPT.py URL A_ACCOUNT A_KEY A_SECRET B_ACCOUNT B_KEY B_SECRET OP_KEY
/// OP_SECRET [EXTRA...]`: tenant `a` acting, tenant `b` as the other account, and the
/// operator's credentials from `server`'s data directory. Returns what it printed.
#[allow(dead_code)]
pub fn run_with_tenants(
    server: &Server,
    script: &str,
    a: &Tenant,
    b: &Tenant,
    extra: &[&str],
) -> String {
    let (op_key, op_secret) = operator_creds(&server.dir);
    let mut args = vec![
        server.url.as_str(),
        &a.account,
        &a.key,
        &a.secret,
        &b.account,
        &b.key,
        &b.secret,
        &op_key,
        &op_secret,
    ];
    args.extend_from_slice(extra);
    run_script(script, &args)
}

pub fn aws_cli() -> PathBuf {
    let py = PathBuf::from(python());
    match py.parent() {
        Some(bin) if bin.join("aws").exists() => bin.join("aws"),
        _ => PathBuf::from("aws"),
    }
}

pub fn operator_creds(dir: &Path) -> (String, String) {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("operator-credentials.json")).unwrap(),
    )
    .unwrap();
    (doc["AccessKeyId"].as_str().unwrap().into(), doc["SecretAccessKey"].as_str().unwrap().into())
}

/// Runs aws-cli with the given credentials: (success, stdout, stderr).
pub fn aws(url: &str, key: &str, secret: &str, args: &[&str]) -> (bool, String, String) {
    aws_session(url, key, secret, None, args)
}

/// Runs aws-cli with temporary credentials (a session token).
pub fn aws_session(
    url: &str,
    key: &str,
    secret: &str,
    token: Option<&str>,
    args: &[&str],
) -> (bool, String, String) {
    let mut cmd = Command::new(aws_cli());
    if let Some(t) = token {
        cmd.env("AWS_SESSION_TOKEN", t);
    } else {
        cmd.env_remove("AWS_SESSION_TOKEN");
    }
    let out = cmd
        .args(["--endpoint-url", url, "--region", "us-east-1", "--output", "json"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("aws-cli runs (./scripts/test.sh installs it into .venv)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Runs `hermetic ARGS` (for `account ...`): (success, stdout, stderr).
pub fn hermetic(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hermetic")).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A tenant account: invited by the operator, redeemed by the tenant.
pub struct Tenant {
    pub account: String,
    pub key: String,
    pub secret: String,
}

/// `hermetic account invite NAME --json` as the operator of `data_dir`: (account, code).
pub fn invite(url: &str, data_dir: &str, name: &str, extra: &[&str]) -> (String, String) {
    let mut args =
        vec!["account", "invite", name, "--json", "--endpoint", url, "--data-dir", data_dir];
    args.extend_from_slice(extra);
    let (ok, stdout, stderr) = hermetic(&args);
    assert!(ok, "{stderr}");
    let invited: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let keys: Vec<&str> = invited.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["AccountId", "InviteCode"], "{stdout}");
    (invited["AccountId"].as_str().unwrap().into(), invited["InviteCode"].as_str().unwrap().into())
}

/// `hermetic account redeem CODE --json` as the tenant (no operator credential): the answer
/// `{"AccountId", "AccessKeyId", "SecretAccessKey"}`, or the error output.
pub fn redeem(url: &str, code: &str, extra: &[&str]) -> Result<serde_json::Value, String> {
    let mut args = vec!["account", "redeem", code, "--json", "--endpoint", url];
    args.extend_from_slice(extra);
    let (ok, stdout, stderr) = hermetic(&args);
    if !ok {
        return Err(stderr);
    }
    Ok(serde_json::from_str(&stdout).unwrap())
}

/// Invites a tenant and redeems its code: `{"AccountId", "AccessKeyId", "SecretAccessKey"}`.
pub fn invite_and_redeem(url: &str, data_dir: &str, name: &str) -> serde_json::Value {
    let (account, code) = invite(url, data_dir, name, &[]);
    let redeemed = redeem(url, &code, &[]).unwrap();
    assert_eq!(redeemed["AccountId"], account.as_str());
    redeemed
}

/// Creates a tenant account through the operator's invitation and the tenant's redeem.
pub fn create_tenant(server: &Server, name: &str) -> Tenant {
    let data_dir = server.dir.display().to_string();
    let created = invite_and_redeem(&server.url, &data_dir, name);
    let field = |k: &str| created[k].as_str().unwrap().to_string();
    Tenant {
        account: field("AccountId"),
        key: field("AccessKeyId"),
        secret: field("SecretAccessKey"),
    }
}

/// `aws iam create-access-key --user-name USER` with the given credentials: (key id, secret).
pub fn create_user_key(url: &str, key: &str, secret: &str, user: &str) -> (String, String) {
    let (ok, out, err) = aws(url, key, secret, &["iam", "create-access-key", "--user-name", user]);
    assert!(ok, "{err}");
    let created: serde_json::Value = serde_json::from_str(&out).unwrap();
    let field = |k: &str| created["AccessKey"][k].as_str().unwrap().to_string();
    (field("AccessKeyId"), field("SecretAccessKey"))
}

/// Stops the server gracefully and checks that `hermetic trail verify` proves every stored
/// event against the checkpoints.
pub fn stop_and_verify_trail(server: &mut Server) {
    // A graceful stop (SIGTERM) writes a last checkpoint over everything answered, which a log
    // with events needs to verify.
    let _ = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status();
    let _ = server.child.wait();
    let data_dir = server.dir.display().to_string();
    let mut verify = vec!["trail", "verify", "--data-dir", data_dir.as_str()];
    verify.extend(server.db_args.iter().map(String::as_str));
    let (ok, out, err) = hermetic(&verify);
    assert!(ok, "{out}\n{err}");
}

/// Blobs (files under the data directory, or keys in the S3 blob store) that no S3 record
/// names (objects, versions, parts) and no commit queued for deletion.
pub fn unnamed_blobs(server: &Server) -> Vec<PathBuf> {
    use store::BlobStore;
    let store = open_store(server);
    let mut tx = store.read().unwrap();
    let mut unnamed = Vec::new();
    let blobs: Box<dyn BlobStore> = match s3_blobs(server) {
        Some(s3) => Box::new(s3),
        None => Box::new(store::LocalBlobs::new(server.dir.join("blobs"))),
    };
    for account in blobs.accounts().unwrap() {
        // Blobs a commit dropped from an S3 blob store wait out the read grace in the deletion
        // queue (the deleter's, not orphans): kept, as the sweeper keeps them.
        let mut named: std::collections::HashSet<String> =
            tx.queued_blob_deletions(&account).unwrap().into_iter().collect();
        for kind in ["s3_object", "s3_version", "s3_part"] {
            let query = store::RecordQuery {
                account: &account,
                kind,
                prefix: "",
                after: None,
                limit: usize::MAX,
            };
            for record in tx.list_records(&query).unwrap().items {
                let parts = record.body["Parts"].as_array().cloned().unwrap_or_default();
                for entry in parts.iter().chain(std::iter::once(&record.body["Part"])) {
                    if let Some(blob) = entry["Blob"].as_str() {
                        named.insert(blob.to_string());
                    }
                }
            }
        }
        for blob in blobs.list(&account).unwrap() {
            if !named.contains(&blob.name) {
                unnamed.push(PathBuf::from(format!("blobs/{account}/{}", blob.name)));
            }
        }
    }
    unnamed
}

/// Checks that every blob file is named by a record ([`unnamed_blobs`]); if not, the failure
/// says which blobs and what may have left them ([`explain_unnamed`]).
pub fn assert_no_unnamed_blobs(server: &Server, accounts: &[&str]) {
    let unnamed = unnamed_blobs(server);
    assert!(unnamed.is_empty(), "{}", explain_unnamed(server, accounts, &unnamed));
}

/// What a test that found `unnamed` blobs reports: each blob's size and age, and the S3
/// requests in `accounts`' audit logs that failed (a request that wrote a blob and then failed
/// is where an orphan usually comes from) with their times, so one CI failure says which.
fn explain_unnamed(server: &Server, accounts: &[&str], unnamed: &[PathBuf]) -> String {
    let now = std::time::SystemTime::now();
    let mut out = String::from("blobs no record names:\n");
    for path in unnamed {
        let meta = std::fs::metadata(server.dir.join(path)).ok();
        let size = meta.as_ref().map_or(0, std::fs::Metadata::len);
        let age = meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| now.duration_since(t).ok())
            .map_or(-1.0, |d| d.as_secs_f64());
        out.push_str(&format!("  {} ({size} bytes, written {age:.1} s ago)\n", path.display()));
    }
    out.push_str("failed S3 requests:\n");
    let store = open_store(server);
    let mut tx = store.read().unwrap();
    for account in accounts {
        let head = tx.audit_head(account).unwrap();
        for entry in tx.audit_events(account, 0..head.size).unwrap() {
            let e = audit::event::EventRecord::from_canonical_bytes(&entry.event).unwrap();
            if e.event_source == "s3.amazonaws.com" && e.error_code.is_some() {
                let params = e.request_parameters.as_ref().map(|p| p.as_value().to_string());
                out.push_str(&format!(
                    "  {:?} {} {:?} {:?} {}\n",
                    e.event_time,
                    e.event_name,
                    e.error_code,
                    e.error_message,
                    params.unwrap_or_default()
                ));
            }
        }
    }
    out
}

/// A self-signed P-256 certificate for 127.0.0.1 in `dir`: (cert.pem, key.pem).
pub fn self_signed_cert(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
        .args(["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        // A server certificate, not a CA (`hermetic account`'s TLS refuses a CA as a server's).
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

/// Creates a tenant account on an HTTPS server, both `hermetic account` commands speaking TLS
/// and trusting `cert` (`--ca-bundle`). Returns `{"AccountId", "AccessKeyId", "SecretAccessKey"}`.
pub fn create_account_over_tls(
    url: &str,
    cert: &Path,
    data_dir: &Path,
    name: &str,
) -> serde_json::Value {
    let cert = cert.display().to_string();
    let data_dir = data_dir.display().to_string();
    let (_, code) = invite(url, &data_dir, name, &["--ca-bundle", &cert]);
    redeem(url, &code, &["--ca-bundle", &cert]).unwrap()
}

/// A fresh SoftHSM2 token `hermetic-ci` (user PIN 1234, in a file) under `dir`: (its
/// `SOFTHSM2_CONF`, the `hermetic serve` flags that keep the root of trust in it).
#[allow(dead_code)]
pub fn softhsm_token(dir: &Path) -> (PathBuf, Vec<String>) {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let init = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            "hermetic-ci",
            "--so-pin",
            "5678",
            "--pin",
            "1234",
        ])
        .output()
        .expect("softhsm2-util runs (apt-get install softhsm2; ./scripts/test.sh installs it)");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let pin = dir.join("pin");
    std::fs::write(&pin, "1234\n").unwrap();
    let module =
        ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("the SoftHSM2 module is installed");
    let args = [
        "--pkcs11-module",
        module,
        "--pkcs11-token-label",
        "hermetic-ci",
        "--pkcs11-pin-file",
        &pin.display().to_string(),
    ]
    .map(String::from)
    .to_vec();
    (conf, args)
}

/// `hermetic trail verify --endpoint URL --state FILE [EXTRA]`, run by a tenant with its own
/// credentials: (success, output).
#[allow(dead_code)]
pub fn tenant_verify(url: &str, t: &Tenant, state: &Path, extra: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["trail", "verify", "--endpoint", url, "--state"])
        .arg(state)
        .args(extra)
        .env("AWS_ACCESS_KEY_ID", &t.key)
        .env("AWS_SECRET_ACCESS_KEY", &t.secret)
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// A few of the tenant's own events, then time for a checkpoint over them (servers started
/// with `--checkpoint-interval-secs 1`).
#[allow(dead_code)]
pub fn tenant_events(url: &str, t: &Tenant) {
    for _ in 0..3 {
        let (ok, _, err) = aws(url, &t.key, &t.secret, &["iam", "list-users"]);
        assert!(ok, "{err}");
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
}

/// Stops a server gracefully (SIGTERM: its final checkpoint is written) and waits for it.
#[allow(dead_code)]
pub fn stop_gracefully(child: &mut Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

/// The operator's put-back of a whole SQLite database: stops `server`, keeps a copy of its
/// database at `backup`, restarts it (`restart`), has tenant `t` act, and runs `checked` (the
/// tenant's check of the history so far); then puts the copy back, restarts, and has the tenant
/// act three times more, so that the server signs a new history over the one `checked` saw.
#[allow(dead_code)]
pub fn put_database_back(
    server: &mut Server,
    t: &Tenant,
    backup: &Path,
    restart: impl Fn(&mut Server),
    checked: impl FnOnce(&Server),
) {
    stop_gracefully(&mut server.child);
    copy_sqlite(&server.dir, backup);
    restart(server);
    tenant_events(&server.url, t);
    checked(server);
    stop_gracefully(&mut server.child);
    copy_sqlite(backup, &server.dir);
    restart(server);
    for _ in 0..3 {
        tenant_events(&server.url, t);
    }
}

/// Copies a stopped server's SQLite database (its main file, WAL and shared memory) from
/// directory `from` to `to`, replacing what `to` had: a backup, or putting one back.
#[allow(dead_code)]
pub fn copy_sqlite(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["hermetic.db", "hermetic.db-wal", "hermetic.db-shm"] {
        let _ = std::fs::remove_file(to.join(f));
        if from.join(f).exists() {
            std::fs::copy(from.join(f), to.join(f)).unwrap();
        }
    }
}

/// `GET path` over plain HTTP/1.1: (status, content type, body).
pub fn http_get(addr: &str, path: &str) -> (u16, String, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut stream, &mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type").then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    (status, content_type, body.to_string())
}

/// The operator's `trail verify` of a database several nodes shared, with no data directory at
/// hand (`nowhere`): the checkpoint key is read from the database (said on stderr) and every
/// log verifies (`2 passed, 0 failed`: the operator realm's and one tenant's); then again with
/// `public` (a node's copy of the key) pinned, without a warning.
pub fn verify_shared_trail(nowhere: &str, db_args: &[&str], public: &Path) {
    let mut verify = vec!["trail", "verify", "--data-dir", nowhere];
    verify.extend_from_slice(db_args);
    let (ok, out, err) = hermetic(&verify);
    assert!(ok, "{out}{err}");
    assert!(err.contains("read from the database"), "{err}");
    assert!(out.trim_end().ends_with("2 passed, 0 failed"), "{out}");
    let pinned = public.display().to_string();
    verify.extend(["--public-key", pinned.as_str()]);
    let (ok, out, err) = hermetic(&verify);
    assert!(ok && !err.contains("warning"), "{out}{err}");
}

/// Starts `scripts/mixed_check.py` through `url` for `tenant` (its bucket, its raced user
/// name), fed `lines`, what `scripts/mixed_load.py` printed.
pub fn start_mixed_check(
    url: &str,
    tenant: &Tenant,
    bucket: &str,
    raced: &str,
    lines: &[impl AsRef<str>],
) -> Child {
    use std::io::Write;
    let script = format!("{}/tests/scripts/mixed_check.py", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(python())
        .args([script.as_str(), url, tenant.key.as_str(), tenant.secret.as_str(), bucket, raced])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text: Vec<&str> = lines.iter().map(AsRef::as_ref).collect();
    stdin.write_all(text.join("\n").as_bytes()).unwrap();
    drop(stdin);
    child
}

/// Waits for a check started by [`start_mixed_check`]; it must pass.
pub fn finish_mixed_check(child: Child) {
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{}", stdout.trim_end());
    assert!(out.status.success() && stdout.trim_end().ends_with("ok"), "{stdout}\n{stderr}");
}
