#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Signed checkpoints are written while the server runs; `hermetic trail verify` proves every
//! stored event against them, and notices a tampered event, a forged checkpoint or a rewritten
//! history.

mod common;

use common::{aws, hermetic, operator_creds, start_on, Backend};
use std::process::Command;

#[test]
fn checkpoints_verify_and_tampering_is_detected_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn checkpoints_verify_and_tampering_is_detected_on_postgres() {
    scenario(Backend::Postgres);
}

fn scenario(backend: Backend) {
    let mut server = start_on("trail", backend, &["--checkpoint-interval-secs", "1"]);
    let url = server.url.clone();
    let dir = server.dir.clone();
    let data_dir = dir.display().to_string();
    let created = common::invite_and_redeem(&url, &data_dir, "acme");
    let (k, s) =
        (created["AccessKeyId"].as_str().unwrap(), created["SecretAccessKey"].as_str().unwrap());
    for _ in 0..3 {
        assert!(aws(&url, k, s, &["sts", "get-caller-identity"]).0);
    }
    std::thread::sleep(std::time::Duration::from_millis(1600));
    for _ in 0..2 {
        assert!(aws(&url, k, s, &["iam", "list-users"]).0);
    }
    let (ok_key, ok_secret) = operator_creds(&dir);
    assert!(aws(&url, &ok_key, &ok_secret, &["sts", "get-caller-identity"]).0);
    std::thread::sleep(std::time::Duration::from_millis(1600));
    // Graceful stop writes a final checkpoint too; a kill is enough here (the timer ran).
    let _ = server.child.kill();
    let _ = server.child.wait();
    let mut verify_args = vec!["trail", "verify", "--data-dir", data_dir.as_str()];
    verify_args.extend(server.db_args.iter().map(String::as_str));

    let (ok, out, err) = hermetic(&verify_args);
    assert!(ok, "{out}{err}");
    let account = created["AccountId"].as_str().unwrap();
    let line = out.lines().find(|l| l.starts_with(account)).unwrap();
    assert!(line.ends_with(": ok"), "{out}");
    let checkpoints: usize =
        line.split(", ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(checkpoints >= 2, "at least two checkpoints, so consistency is proved: {out}");
    assert!(out.trim_end().ends_with("2 passed, 0 failed"), "{out}");

    // Tamper with one stored event (a byte of its JSON): verification fails.
    match &server.schema {
        None => {
            let script = format!(
                "import sqlite3; c = sqlite3.connect('{}'); c.execute(\"update audit_events set event = cast(replace(cast(event as text), 'GetCallerIdentity', 'GetCallerIdentitz') as blob) where account = '{account}' and seq = 2\"); c.commit()",
                dir.join("hermetic.db").display()
            );
            let out = Command::new(common::python()).arg("-c").arg(script).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        Some(schema) => common::psql(&format!(
            "update {schema}.audit_events set event = convert_to(replace(convert_from(event, 'UTF8'), 'GetCallerIdentity', 'GetCallerIdentitz'), 'UTF8') where account = '{account}' and seq = 2"
        )),
    }
    let (ok, out, _) = hermetic(&verify_args);
    assert!(!ok, "{out}");
    assert!(out.contains("event 2: stored leaf hash does not match the event"), "{out}");
}

#[test]
fn deleted_checkpoints_and_a_replaced_key_are_detected_on_sqlite() {
    rewritten(Backend::Sqlite);
}

#[test]
fn deleted_checkpoints_and_a_replaced_key_are_detected_on_postgres() {
    rewritten(Backend::Postgres);
}

/// The operator's rewrites that a verifier pinning the public key catches: every checkpoint of
/// one account deleted (that account fails, the others are still reported), then every
/// checkpoint deleted and the signing key replaced (its record deleted with the root of trust's
/// powers: the development key file), the server restarted to sign the history anew (the data
/// directory's key then vouches for it; the pinned one does not).
fn rewritten(backend: Backend) {
    let mut server = start_on("trail-rewrite", backend, &["--checkpoint-interval-secs", "1"]);
    let (url, dir) = (server.url.clone(), server.dir.clone());
    let data_dir = dir.display().to_string();
    let acme = common::invite_and_redeem(&url, &data_dir, "acme");
    let globex = common::invite_and_redeem(&url, &data_dir, "globex");
    for t in [&acme, &globex] {
        let (k, s) = (t["AccessKeyId"].as_str().unwrap(), t["SecretAccessKey"].as_str().unwrap());
        assert!(aws(&url, k, s, &["sts", "get-caller-identity"]).0);
    }
    common::stop_gracefully(&mut server.child);
    // The verifier's pinned copy, taken at the first start.
    let pinned = dir.with_extension("pinned.pub");
    std::fs::copy(dir.join("checkpoint.pub"), &pinned).unwrap();
    let pinned_text = pinned.display().to_string();
    let mut args = vec!["trail", "verify", "--data-dir", data_dir.as_str()];
    args.extend(server.db_args.iter().map(String::as_str));
    let mut pinned_args = args.clone();
    pinned_args.extend(["--public-key", pinned_text.as_str()]);
    let (ok, out, err) = hermetic(&pinned_args);
    assert!(ok, "{out}{err}");
    assert!(!err.contains("warning"), "a pinned key needs no warning: {err}");
    let (ok, _, err) = hermetic(&args);
    assert!(
        ok && err.contains("warning: the checkpoint public key is read from the data directory"),
        "{err}"
    );

    let sql = |statement: &str| match &server.schema {
        Some(schema) => common::psql(&format!("set search_path to {schema}; {statement}")),
        None => {
            let script = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()";
            let out = Command::new(common::python())
                .args(["-c", script])
                .arg(dir.join("hermetic.db"))
                .arg(statement)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    };
    // One account's checkpoints deleted: it fails, the others are still verified and pass.
    let (a, g) = (acme["AccountId"].as_str().unwrap(), globex["AccountId"].as_str().unwrap());
    sql(&format!("delete from audit_checkpoints where account = '{a}'"));
    let (ok, out, _) = hermetic(&pinned_args);
    assert!(!ok, "{out}");
    let line = |who: &str| out.lines().find(|l| l.starts_with(who)).unwrap_or_default().to_string();
    assert!(line(a).ends_with("FAILED"), "{out}");
    assert!(out.contains("but no checkpoint vouches for them"), "{out}");
    assert!(line(g).ends_with(": ok"), "{out}");

    // Every checkpoint deleted, the signing key replaced, the history signed anew.
    sql("delete from audit_checkpoints");
    common::delete_checkpoint_key(&server);
    std::fs::remove_file(dir.join("checkpoint.pub")).unwrap();
    let mut restart: Vec<&str> = server.db_args.iter().map(String::as_str).collect();
    restart.extend(["--checkpoint-interval-secs", "1"]);
    let (child, _, _) = common::start_with(&dir, &restart);
    server.child = child;
    common::stop_gracefully(&mut server.child);
    // The data directory's new key vouches for the rewritten history ...
    let (ok, out, _) = hermetic(&args);
    assert!(ok, "the re-signed history verifies under the replaced key: {out}");
    // ... the pinned key does not.
    let (ok, out, _) = hermetic(&pinned_args);
    assert!(!ok, "{out}");
    assert!(line_has(&out, a, "FAILED") && line_has(&out, g, "FAILED"), "{out}");

    // What one account's proofs need deleted (its Merkle tree's stored nodes): reading them
    // fails for that account alone, and the others are still verified.
    sql(&format!("delete from audit_nodes where account = '{a}'"));
    let (ok, out, _) = hermetic(&args);
    assert!(!ok, "{out}");
    assert!(line_has(&out, a, "FAILED") && out.contains("the log cannot be read"), "{out}");
    assert!(line_has(&out, g, ": ok"), "{out}");
    assert!(out.trim_end().ends_with("1 failed"), "{out}");
    let _ = std::fs::remove_file(&pinned);
}

fn line_has(out: &str, who: &str, what: &str) -> bool {
    out.lines().any(|l| l.starts_with(who) && l.ends_with(what))
}

#[test]
fn a_tenant_detects_a_replaced_key_and_an_edited_event_on_sqlite() {
    tenant_checks(Backend::Sqlite);
}

#[test]
fn a_tenant_detects_a_replaced_key_and_an_edited_event_on_postgres() {
    tenant_checks(Backend::Postgres);
}

fn restart(server: &mut common::Server) {
    let mut args: Vec<&str> = server.db_args.iter().map(String::as_str).collect();
    args.extend_from_slice(&["--checkpoint-interval-secs", "1"]);
    let (child, url, _) = common::start_with(&server.dir, &args);
    server.child = child;
    server.url = url;
}

/// Each of the operator's rewrites a tenant's own check catches, with nothing of the
/// operator's: an event edited in place (then put back: the check passes again), and the
/// signing key replaced with the history signed anew.
fn tenant_checks(backend: Backend) {
    let mut server = start_on("tenant-verify", backend, &["--checkpoint-interval-secs", "1"]);
    let t = common::create_tenant(&server, "acme");
    let state = server.dir.with_extension("tenant-state.json");
    let _ = std::fs::remove_file(&state);
    common::tenant_events(&server.url, &t);
    let (ok, out) = common::tenant_verify(&server.url, &t, &state, &[]);
    assert!(ok && out.contains("first run"), "{out}");
    common::tenant_events(&server.url, &t);
    let (ok, out) = common::tenant_verify(&server.url, &t, &state, &[]);
    assert!(ok && out.contains("consistent with the last one seen"), "{out}");
    assert!(out.contains("recent events proven"), "{out}");

    // An event edited in place in the database.
    let edit = |from: &str, to: &str| {
        let sql = match backend {
            Backend::Sqlite => format!(
                "update audit_events set event = cast(replace(cast(event as text), '{from}', '{to}') as blob) where account = '{}'",
                t.account
            ),
            Backend::Postgres | Backend::PostgresS3 => format!(
                "update audit_events set event = convert_to(replace(convert_from(event, 'UTF8'), '{from}', '{to}'), 'UTF8') where account = '{}'",
                t.account
            ),
        };
        common::edit_database(&server, &sql);
    };
    // Each event row carries a MAC: the server itself refuses to serve the edited ones.
    edit("\"eventName\":\"ListUsers\"", "\"eventName\":\"ListRoles\"");
    let (ok, out) = common::tenant_verify(&server.url, &t, &state, &[]);
    assert!(!ok && out.contains("failed its integrity check"), "{out}");
    edit("\"eventName\":\"ListRoles\"", "\"eventName\":\"ListUsers\"");
    let (ok, out) = common::tenant_verify(&server.url, &t, &state, &[]);
    assert!(ok, "{out}");

    // The signing key replaced (by an operator holding the root of trust, here the
    // development key file), every checkpoint deleted, the history signed anew.
    common::stop_gracefully(&mut server.child);
    common::delete_checkpoint_key(&server);
    std::fs::remove_file(server.dir.join(server::checkpoints::PUBLIC_FILE)).unwrap();
    common::edit_database(&server, "delete from audit_checkpoints");
    restart(&mut server);
    common::tenant_events(&server.url, &t);
    let (ok, out) = common::tenant_verify(&server.url, &t, &state, &[]);
    assert!(!ok && out.contains("another key than the pinned one"), "{out}");
    let _ = std::fs::remove_file(&state);
}

#[test]
fn an_event_the_operator_appends_is_refused_on_sqlite() {
    forged_append(Backend::Sqlite);
}

#[test]
fn an_event_the_operator_appends_is_refused_on_postgres() {
    forged_append(Backend::Postgres);
}

/// The operator appends an event of their own making to a tenant's log, below the server (the
/// store used directly, so the tree nodes and the head are rewritten to match, as anyone with
/// write access to the database could): the server signs no checkpoint over it, serves it to
/// nobody, and records nothing more in that log (the tenant's requests fail, loudly); the
/// tenant's check fails.
fn forged_append(backend: Backend) {
    let server = start_on("forged-append", backend, &["--checkpoint-interval-secs", "1"]);
    let t = common::create_tenant(&server, "acme");
    let state = server.dir.with_extension("tenant-state.json");
    let _ = std::fs::remove_file(&state);
    common::tenant_events(&server.url, &t);
    let (ok, out) = common::tenant_verify(&server.url, &t, &state, &[]);
    assert!(ok, "{out}");

    let raw = common::open_store(&server);
    let head = raw.read().unwrap().audit_head(&t.account).unwrap();
    let last = raw.read().unwrap().audit_events(&t.account, head.size - 1..head.size).unwrap();
    let mut event: serde_json::Value = serde_json::from_slice(&last[0].event).unwrap();
    event["eventName"] = "DeleteUser".into();
    let forged = serde_json::to_string(&event).unwrap();
    let mut tx = raw.begin().unwrap();
    let seq = tx
        .append_event(&t.account, forged.as_bytes(), &audit::merkle::leaf_hash(forged.as_bytes()))
        .unwrap();
    tx.commit().unwrap();

    let (ok, _, err) = aws(&server.url, &t.key, &t.secret, &["iam", "list-users"]);
    assert!(!ok && err.contains("InternalFailure"), "{err}");
    let (ok, _, err) = aws(&server.url, &t.key, &t.secret, &["cloudtrail", "lookup-events"]);
    assert!(!ok && err.contains("integrity check"), "{err}");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let signed = raw.read().unwrap().latest_checkpoint(&t.account).unwrap().unwrap();
    assert!(
        signed.size <= seq,
        "a checkpoint of size {} covers the forged event {seq}",
        signed.size
    );
    let (ok, out) = common::tenant_verify(&server.url, &t, &state, &[]);
    assert!(!ok && out.contains("failed its integrity check"), "{out}");
    // Other accounts go on.
    let other = common::create_tenant(&server, "other");
    common::tenant_events(&server.url, &other);
    let _ = std::fs::remove_file(&state);
}

/// The whole database put back as a backup had it (issue 16's open point), the server then
/// going on: every row is consistent with every other and the server signs the new history
/// itself, but the tenant's recorded checkpoint is not in it.
#[test]
fn a_tenant_detects_a_database_put_back_on_sqlite() {
    let mut server =
        start_on("tenant-putback", Backend::Sqlite, &["--checkpoint-interval-secs", "1"]);
    let t = common::create_tenant(&server, "acme");
    let state = server.dir.with_extension("tenant-state.json");
    let _ = std::fs::remove_file(&state);
    common::tenant_events(&server.url, &t);
    let backup = server.dir.with_extension("backup");
    common::put_database_back(&mut server, &t, &backup, restart, |server| {
        let (ok, out) = common::tenant_verify(&server.url, &t, &state, &[]);
        assert!(ok, "{out}");
    });
    let (ok, out) = common::tenant_verify(&server.url, &t, &state, &[]);
    assert!(!ok && (out.contains("rewritten") || out.contains("cut back")), "{out}");
    let _ = std::fs::remove_dir_all(&backup);
    let _ = std::fs::remove_file(&state);
}

/// The tenant's check over TLS, trusting the server's certificate through `AWS_CA_BUNDLE` (and
/// refusing a server it cannot authenticate).
#[test]
fn a_tenant_verifies_over_tls() {
    let dir = common::unique_dir("tenant-tls");
    let (cert, key) = common::self_signed_cert(&dir.with_extension("pki"));
    let (cert_s, key_s) = (cert.display().to_string(), key.display().to_string());
    let (mut child, url, _) = common::start_with(
        &dir,
        &["--tls-cert", &cert_s, "--tls-key", &key_s, "--checkpoint-interval-secs", "1"],
    );
    assert!(url.starts_with("https://"), "{url}");
    let created = common::create_account_over_tls(&url, &cert, &dir, "acme");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let state = dir.with_extension("tenant-state.json");
    let run = |bundle: Option<&std::path::Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hermetic"));
        cmd.args(["trail", "verify", "--endpoint", &url, "--state"])
            .arg(&state)
            .env("AWS_ACCESS_KEY_ID", created["AccessKeyId"].as_str().unwrap())
            .env("AWS_SECRET_ACCESS_KEY", created["SecretAccessKey"].as_str().unwrap())
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_CA_BUNDLE");
        if let Some(b) = bundle {
            cmd.env("AWS_CA_BUNDLE", b);
        }
        let out = cmd.output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (ok, out) = run(None);
    assert!(!ok, "a server it cannot authenticate: {out}");
    let (ok, out) = run(Some(&cert));
    assert!(ok && out.contains("first run"), "{out}");
    common::stop_gracefully(&mut child);
    let _ = std::fs::remove_file(&state);
    let _ = std::fs::remove_file(server::bootstrap::root_key_path(&dir, None));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(dir.with_extension("pki"));
}

/// With an HSM (SoftHSM2 here) the checkpoint key is made in the token, non-extractable, and
/// signs there: no sealed key in the data directory, the same key after a restart (the tenant's
/// pinned key still verifies), and the public key file is the token key's.
#[test]
fn the_checkpoint_key_is_made_and_used_in_an_hsm() {
    let dir = common::unique_dir("checkpoint-hsm");
    let (conf, hsm) = common::softhsm_token(&dir);
    let data = dir.join("data");
    let mut args: Vec<&str> = hsm.iter().map(String::as_str).collect();
    args.extend_from_slice(&["--checkpoint-interval-secs", "1"]);
    let env = [("SOFTHSM2_CONF", conf.as_path())];
    let (child, url, _) = common::start_with_env(&data, &args, &env);
    let mut server = common::Server {
        child,
        url,
        dir: data.clone(),
        db_args: Vec::new(),
        blob_args: Vec::new(),
        schema: None,
    };
    let t = common::create_tenant(&server, "acme");
    let state = dir.join("tenant-state.json");
    common::tenant_events(&server.url, &t);
    let (ok, out) = common::tenant_verify(&server.url, &t, &state, &[]);
    assert!(ok && out.contains("first run"), "{out}");
    assert!(!data.join(server::checkpoints::KEY_FILE).exists(), "no sealed key: the token's");
    assert!(!data.join(server::checkpoints::LEGACY_KEY_FILE).exists());
    let public = std::fs::read_to_string(data.join(server::checkpoints::PUBLIC_FILE)).unwrap();
    let pinned = std::fs::read_to_string(&state).unwrap();
    assert!(pinned.contains(public.trim()), "the tenant pinned the token's key: {pinned}");

    common::stop_gracefully(&mut server.child);
    let (child, url, _) = common::start_with_env(&data, &args, &env);
    server.child = child;
    server.url = url;
    common::tenant_events(&server.url, &t);
    let (ok, out) = common::tenant_verify(&server.url, &t, &state, &[]);
    assert!(ok && out.contains("consistent with the last one seen"), "{out}");
    common::stop_gracefully(&mut server.child);
    let _ = std::fs::remove_dir_all(&dir);
}
