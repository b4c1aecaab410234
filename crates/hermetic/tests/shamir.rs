#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The Shamir root of trust, end to end with the real binary: `hermetic init` splits the root
//! key among custodians and stores no key; the server starts sealed and serves nothing until a
//! threshold of shares arrives over its unseal socket; a wrong share set is refused; `hermetic
//! seal` stops serving and drops the keys, and unsealing again with other shares gives the same
//! tenant data back. No share ever reaches the server's log.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn hermetic(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            writeln!(input, "{text}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn init(dir: &std::path::Path, shares: usize, threshold: usize) -> Vec<String> {
    let (ok, out, err) = hermetic(
        &[
            "init",
            "--root-of-trust",
            "shamir",
            "--shares",
            &shares.to_string(),
            "--threshold",
            &threshold.to_string(),
            "--data-dir",
            &dir.display().to_string(),
            "--json",
        ],
        None,
    );
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    doc["Shares"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

fn unseal(dir: &std::path::Path, share: &str) -> serde_json::Value {
    let (_, out, err) =
        hermetic(&["unseal", "--data-dir", &dir.display().to_string()], Some(share));
    serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}"))
}

fn run(backend: common::Backend) {
    let dir = common::unique_dir("shamir");
    let shares = init(&dir, 3, 2);
    assert_eq!(shares.len(), 3);
    // Nothing that could be the key is stored: no key file beside or in the directory, and the
    // setup file holds no share.
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    assert!(!dir.with_file_name(format!("{name}.root.key")).exists());
    let meta = std::fs::read_to_string(dir.join("shamir.json")).unwrap();
    for s in &shares {
        assert!(!meta.contains(s.rsplit('-').next().unwrap()));
    }
    // Initialising twice is refused (it would make another key).
    let (ok, _, err) = hermetic(
        &["init", "--shares", "3", "--threshold", "2", "--data-dir", &dir.display().to_string()],
        None,
    );
    assert!(!ok && err.contains("already initialised"), "{err}");

    let mut args = vec![
        "serve".to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        dir.display().to_string(),
        "--root-of-trust".into(),
        "shamir".into(),
    ];
    let schema = format!("t_{}", name.replace('-', "_"));
    if backend == common::Backend::Postgres {
        args.extend([
            "--database-url".into(),
            common::POSTGRES_URL.into(),
            "--database-schema".into(),
            schema.clone(),
        ]);
    }
    let log = dir.with_file_name(format!("{name}.log"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("hermetic sealed: waiting for 2"), "{first}");
    let status = hermetic(&["unseal", "--status", "--data-dir", &dir.display().to_string()], None);
    assert!(status.1.contains(r#""Sealed":true"#), "{status:?}");

    // A share of another setup, a malformed one, and the same share twice are refused.
    let other_dir = common::unique_dir("shamir-other");
    let other = init(&other_dir, 3, 2);
    std::fs::remove_dir_all(&other_dir).unwrap();
    assert_eq!(unseal(&dir, &shares[0])["Progress"], 1);
    assert!(unseal(&dir, &shares[0])["Error"].as_str().unwrap().contains("already given"));
    assert!(unseal(&dir, "HSS1-2-9-zz")["Error"].is_string());
    let wrong = unseal(&dir, &other[1]);
    assert!(wrong["Error"].as_str().unwrap().contains("do not make"), "{wrong}");
    // Still sealed; a right pair unseals.
    assert_eq!(unseal(&dir, &shares[0])["Progress"], 1);
    assert_eq!(unseal(&dir, &shares[2])["Sealed"], false);
    let listening = lines.next().unwrap().unwrap();
    let url = listening.strip_prefix("hermetic listening on ").unwrap().to_string();
    let _creds = lines.next().unwrap().unwrap();

    // A tenant, a KMS key and a ciphertext.
    let server = common::Server {
        child,
        url: url.clone(),
        dir: dir.clone(),
        db_args: Vec::new(),
        blob_args: Vec::new(),
        schema: (backend == common::Backend::Postgres).then(|| schema.clone()),
    };
    let tenant = common::create_tenant(&server, "acme");
    let (ok, out, err) = common::aws(
        &url,
        &tenant.key,
        &tenant.secret,
        &["kms", "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"],
    );
    assert!(ok, "{err}");
    let key_id = out.trim().to_string();
    let (ok, blob, err) = common::aws(
        &url,
        &tenant.key,
        &tenant.secret,
        &[
            "kms",
            "encrypt",
            "--key-id",
            &key_id,
            "--plaintext",
            "aGVsbG8=",
            "--query",
            "CiphertextBlob",
            "--output",
            "text",
        ],
    );
    assert!(ok, "{err}");

    // Sealed: nothing is served.
    let (ok, out, err) = hermetic(&["seal", "--data-dir", &dir.display().to_string()], None);
    assert!(ok && out.contains(r#""Sealed":true"#), "{out}{err}");
    let sealed = lines.next().unwrap().unwrap();
    assert!(sealed.starts_with("hermetic sealed"), "{sealed}");
    let (ok, _, _) =
        common::aws(&url, &tenant.key, &tenant.secret, &["sts", "get-caller-identity"]);
    assert!(!ok, "a sealed server answered");

    // Two other custodians unseal it; the tenant's ciphertext opens again.
    assert_eq!(unseal(&dir, &shares[1])["Progress"], 1);
    assert_eq!(unseal(&dir, &shares[2])["Sealed"], false);
    let listening = lines.next().unwrap().unwrap();
    let url = listening.strip_prefix("hermetic listening on ").unwrap().to_string();
    let blob_file = dir.with_file_name(format!("{name}.blob"));
    {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD.decode(blob.trim()).unwrap();
        std::fs::write(&blob_file, raw).unwrap();
    }
    let (ok, out, err) = common::aws(
        &url,
        &tenant.key,
        &tenant.secret,
        &[
            "kms",
            "decrypt",
            "--ciphertext-blob",
            &format!("fileb://{}", blob_file.display()),
            "--query",
            "Plaintext",
            "--output",
            "text",
        ],
    );
    assert!(ok, "{err}");
    // aws-cli v1 sends --plaintext as it is written; the answer is base64 of those bytes.
    {
        use base64::Engine;
        let plain = base64::engine::general_purpose::STANDARD.decode(out.trim()).unwrap();
        assert_eq!(plain, b"aGVsbG8=");
    }
    drop(server);
    let _ = std::fs::remove_file(&blob_file);
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_file(&log).unwrap();
    let log = text;
    for s in shares.iter().chain(&other) {
        assert!(!log.contains(s.rsplit('-').next().unwrap()), "a share reached the log");
    }
    assert!(log.contains("unseal progress 1 of 2"), "{log}");
}

#[test]
fn shamir_unseal_and_seal_on_sqlite() {
    run(common::Backend::Sqlite);
}

#[test]
fn shamir_unseal_and_seal_on_postgres() {
    run(common::Backend::Postgres);
}

/// `hermetic serve --root-of-trust shamir` on `dir` with `extra`, sealed: the child and its
/// stdout's lines.
fn sealed_node(
    dir: &std::path::Path,
    extra: &[&str],
) -> (std::process::Child, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["serve", "--listen", "127.0.0.1:0", "--root-of-trust", "shamir", "--data-dir"])
        .arg(dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("hermetic sealed: waiting for 2"), "{first}");
    (child, lines)
}

/// Unseals the node on `dir` with `shares`: the URL it then listens on, and its operator
/// credentials line.
fn unseal_node(
    dir: &std::path::Path,
    shares: &[&String],
    lines: &mut std::io::Lines<BufReader<std::process::ChildStdout>>,
) -> (String, String) {
    for (i, share) in shares.iter().enumerate() {
        let answer = unseal(dir, share);
        assert_eq!(answer["Sealed"], i + 1 < shares.len(), "{answer}");
    }
    let listening = lines.next().unwrap().unwrap();
    let url = listening.strip_prefix("hermetic listening on ").unwrap().to_string();
    (url, lines.next().unwrap().unwrap())
}

/// Several nodes on one database (issue 20): `hermetic init --database-url` keeps the Shamir
/// setup in the database (no data directory is written); two nodes started with empty data
/// directories each read it there and are unsealed by the same custodians (any threshold of
/// the shares); what the first made under the root the shares make (the operator's key, the
/// checkpoint key's sealed seed) the other uses, and the checkpoints both signed verify with
/// the one public key the database names. The setup is not authenticated: the operator edits
/// its key check, and the shares no longer unseal (never another key let in).
#[test]
fn a_shamir_setup_in_the_database_unseals_every_node() {
    let base = common::unique_dir("shamir-nodes");
    let name = base.file_name().unwrap().to_string_lossy().to_string();
    let schema = format!("t_{}", name.replace('-', "_"));
    let db = ["--database-url", common::POSTGRES_URL, "--database-schema", schema.as_str()];
    let base_arg = base.display().to_string();
    let mut init_args = vec!["init", "--root-of-trust", "shamir", "--shares", "3"];
    init_args.extend(["--threshold", "2", "--json", "--data-dir", base_arg.as_str()]);
    init_args.extend(db);
    let (ok, out, err) = hermetic(&init_args, None);
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let shares: Vec<String> =
        doc["Shares"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().into()).collect();
    assert!(!base.exists(), "no data directory was written: the setup is in the database");
    let (ok, _, err) = hermetic(&init_args, None);
    assert!(!ok && err.contains("already initialised"), "{err}");

    let mut extra = db.to_vec();
    extra.extend(["--checkpoint-interval-secs", "1"]);
    let (a_dir, b_dir) = (base.join("a"), base.join("b"));
    let (a_child, mut a_lines) = sealed_node(&a_dir, &extra);
    let (b_child, mut b_lines) = sealed_node(&b_dir, &extra);
    let (a_url, line) = unseal_node(&a_dir, &[&shares[0], &shares[1]], &mut a_lines);
    assert!(line.ends_with("(created)"), "{line}");
    let (b_url, line) = unseal_node(&b_dir, &[&shares[2], &shares[0]], &mut b_lines);
    assert!(line.ends_with("(copied from the database)"), "{line}");
    let db_args: Vec<String> = db.iter().map(|s| s.to_string()).collect();
    let mut a = common::Server {
        child: a_child,
        url: a_url,
        dir: a_dir.clone(),
        db_args: db_args.clone(),
        blob_args: Vec::new(),
        schema: Some(schema.clone()),
    };
    let mut b = common::Server {
        child: b_child,
        url: b_url,
        dir: b_dir.clone(),
        db_args,
        blob_args: Vec::new(),
        schema: None,
    };

    // One operator key and one root: a tenant made through A acts through B.
    assert_eq!(common::operator_creds(&a_dir), common::operator_creds(&b_dir));
    let tenant = common::create_tenant(&a, "acme");
    common::tenant_events(&b.url, &tenant);
    common::stop_gracefully(&mut a.child);
    common::tenant_events(&b.url, &tenant);
    common::stop_gracefully(&mut b.child);
    let public = std::fs::read_to_string(a_dir.join("checkpoint.pub")).unwrap();
    assert_eq!(std::fs::read_to_string(b_dir.join("checkpoint.pub")).unwrap(), public);
    let nowhere = base.join("nowhere").display().to_string();
    common::verify_shared_trail(&nowhere, &db, &a_dir.join("checkpoint.pub"));

    // The operator edits the setup's key check: the custodians' shares no longer unseal.
    common::edit_database(
        &a,
        "update node_settings set value = replace(value, '\"KeyCheck\":\"', '\"KeyCheck\":\"00') \
         where name = 'shamir_setup'",
    );
    let c_dir = base.join("c");
    let (mut c_child, _c_lines) = sealed_node(&c_dir, &extra);
    assert_eq!(unseal(&c_dir, &shares[0])["Progress"], 1);
    let refused = unseal(&c_dir, &shares[1]);
    assert!(refused["Error"].as_str().unwrap().contains("do not make"), "{refused}");
    let _ = c_child.kill();
    let _ = c_child.wait();
    drop(b);
    drop(a);
    let _ = std::fs::remove_dir_all(&base);
}
