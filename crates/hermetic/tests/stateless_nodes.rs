#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Nodes with no local state (issue 20): two `hermetic serve` processes on one PostgreSQL
//! schema, each started with its own empty data directory, the root of trust in one HSM. (The
//! HSM is a SoftHSM2 token whose directory both processes open: the test's stand-in for a
//! network HSM, not a file Hermetic shares between nodes.) What the first node made, the other
//! uses: the operator's key (its credentials work on either), the checkpoint key (checkpoints
//! signed by both verify with the one public key the database names), a tenant's credentials.
//!
//! And the operator's write access to that database: the operator-key row or the
//! checkpoint-key row edited (or deleted) refuses the start, never lets the operator in and
//! never makes a new key; put back as it was, the same key serves again.
//!
//! (Objects are not used: blobs are still files in each node's data directory.)

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{aws, Server, POSTGRES_URL};

/// Runs `hermetic serve` on `dir` with `args`, which must refuse to start: its error output.
fn start_refused(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started on an edited database");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!status.success(), "{err}");
    err
}

/// A node started on `dir` (empty at first) with `args`, on PostgreSQL schema `schema` (dropped
/// when the server is, if `owner`).
fn node(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &Path)],
    schema: &str,
    owner: bool,
) -> (Server, String) {
    let (child, url, line) = common::start_with_env(dir, args, env);
    let db_args =
        ["--database-url", POSTGRES_URL, "--database-schema", schema].map(String::from).to_vec();
    let schema = owner.then(|| schema.to_string());
    (Server { child, url, dir: dir.to_path_buf(), db_args, blob_args: Vec::new(), schema }, line)
}

#[test]
fn two_nodes_with_empty_data_directories_share_the_database() {
    let base = common::unique_dir("nodes");
    let (conf, hsm) = common::softhsm_token(&base);
    let schema = format!("t_{}", base.file_name().unwrap().to_string_lossy().replace('-', "_"));
    let mut args: Vec<&str> = hsm.iter().map(String::as_str).collect();
    args.extend([
        "--database-url",
        POSTGRES_URL,
        "--database-schema",
        &schema,
        "--checkpoint-interval-secs",
        "1",
    ]);
    let env = [("SOFTHSM2_CONF", conf.as_path())];
    let (a_dir, b_dir) = (base.join("a"), base.join("b"));

    // Node A starts first (the HSM's keys are made then), then B, each on an empty directory.
    let (mut a, line) = node(&a_dir, &args, &env, &schema, true);
    assert!(line.ends_with("(created)"), "{line}");
    assert!(!b_dir.exists());
    let (mut b, line) = node(&b_dir, &args, &env, &schema, false);
    assert!(line.ends_with("(copied from the database)"), "{line}");

    // One operator key: A's works on B, through the CLI's --credentials-file too.
    let (op_key, op_secret) = common::operator_creds(&a_dir);
    assert_eq!(common::operator_creds(&b_dir), (op_key.clone(), op_secret.clone()));
    let (ok, out, err) = aws(&b.url, &op_key, &op_secret, &["sts", "get-caller-identity"]);
    assert!(ok && out.contains("000000000000"), "{out}{err}");
    let a_file = a_dir.join("operator-credentials.json").display().to_string();
    let nowhere = base.join("no-data-dir").display().to_string();
    let (account, code) =
        common::invite(&b.url, &nowhere, "acme", &["--credentials-file", &a_file]);
    // A tenant invited through B redeems on A and acts on both.
    let redeemed = common::redeem(&a.url, &code, &[]).unwrap();
    assert_eq!(redeemed["AccountId"], account.as_str());
    let tenant = common::Tenant {
        account: account.clone(),
        key: redeemed["AccessKeyId"].as_str().unwrap().into(),
        secret: redeemed["SecretAccessKey"].as_str().unwrap().into(),
    };
    common::tenant_events(&a.url, &tenant);
    common::tenant_events(&b.url, &tenant);

    // Checkpoints signed by A (its last at its stop) and then by B, over events B recorded
    // after A stopped: one public key verifies them all, the one the database names (read
    // there: no data directory at hand), and each node's copy is that key.
    common::stop_gracefully(&mut a.child);
    common::tenant_events(&b.url, &tenant);
    common::stop_gracefully(&mut b.child);
    let public = std::fs::read_to_string(a_dir.join("checkpoint.pub")).unwrap();
    assert_eq!(std::fs::read_to_string(b_dir.join("checkpoint.pub")).unwrap(), public);
    let db = ["--database-url", POSTGRES_URL, "--database-schema", &schema];
    // The key as it is now, pinned apart from the nodes' copies.
    let pinned = base.join("pinned.pub");
    std::fs::write(&pinned, &public).unwrap();
    common::verify_shared_trail(&nowhere, &db, &pinned);

    // The operator edits the operator-key row (re-activating a key it revoked would be the
    // same edit): refused, the operator let in by no node; as it was, the same key again.
    let operator_keys = "access_keys where account = '000000000000'";
    common::edit_database(
        &a,
        "update access_keys set status = 'inactive' where account = '000000000000'",
    );
    let err = start_refused(&b_dir, &args, &env);
    assert!(err.contains("operator key") && err.contains("integrity check"), "{err}");
    common::edit_database(
        &a,
        "update access_keys set status = 'active' where account = '000000000000'",
    );
    // The row deleted: refused too (the operator realm's manifest names it), and a node with
    // an empty directory makes no key of its own.
    common::edit_database(
        &a,
        &format!(
            "create table op_saved as select * from {operator_keys}; delete from {operator_keys}"
        ),
    );
    let fresh = base.join("c");
    let err = start_refused(&fresh, &args, &env);
    assert!(err.contains("integrity check"), "{err}");
    assert!(!fresh.join("operator-credentials.json").exists());
    common::edit_database(
        &a,
        "insert into access_keys select * from op_saved; drop table op_saved",
    );

    // The checkpoint key's row edited, or deleted while checkpoints exist: refused, never a
    // new key; put back, the same key signs on.
    let key_row = "account = '000000000000' and kind = 'checkpoint_key'";
    common::edit_database(
        &a,
        &format!("update records set updated_at = updated_at + 1 where {key_row}"),
    );
    let err = start_refused(&b_dir, &args, &env);
    assert!(err.contains("checkpoint key") && err.contains("integrity check"), "{err}");
    common::edit_database(
        &a,
        &format!("update records set updated_at = updated_at - 1 where {key_row}"),
    );
    common::edit_database(
        &a,
        &format!(
            "create table cp_saved as select * from records where {key_row}; \
             delete from records where {key_row}"
        ),
    );
    let err = start_refused(&b_dir, &args, &env);
    assert!(err.contains("checkpoint key") && err.contains("integrity check"), "{err}");
    common::edit_database(&a, "insert into records select * from cp_saved; drop table cp_saved");

    let (child, url, line) = common::start_with_env(&b_dir, &args, &env);
    assert!(line.ends_with("(existing)"), "{line}");
    b.child = child;
    b.url = url;
    let (ok, _, err) = aws(&b.url, &op_key, &op_secret, &["sts", "get-caller-identity"]);
    assert!(ok, "{err}");
    common::tenant_events(&b.url, &tenant);
    common::stop_gracefully(&mut b.child);
    assert_eq!(std::fs::read_to_string(b_dir.join("checkpoint.pub")).unwrap(), public);
    common::verify_shared_trail(&nowhere, &db, &pinned);
    drop(b);
    drop(a);
    let _ = std::fs::remove_dir_all(&base);
}

/// What one SQL query prints (unaligned, tuples only) on the test database.
fn psql_text(sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-Atc", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The connections of one node, by the `application_name` its URL gives them.
fn connections_named(app: &str) -> usize {
    psql_text(&format!("select count(*) from pg_stat_activity where application_name = '{app}'"))
        .parse()
        .unwrap()
}

/// Waits up to 30 s for `query` to print `want`.
fn wait_for(query: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = psql_text(query);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "{query}: {got:?}, not {want:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The leases on background work, against the operator's write access to them: a row edited
/// to a made-up holder with an expiry decades off (which would stop that work on every node
/// until removed) is void, and the node takes the lease back at its next tick; a node stopped
/// gracefully gives its leases up, so that another takes the work over at once.
#[test]
fn leases_edited_far_ahead_are_void_and_a_stopping_node_gives_its_up() {
    let mut server =
        common::start_on("leases", common::Backend::Postgres, &["--checkpoint-interval-secs", "1"]);
    let schema = server.schema.clone().unwrap();
    let node = std::fs::read_to_string(server.dir.join("node-id")).unwrap();
    let node = node.trim();
    let holder = format!("select holder from {schema}.leases where name = 'kms-rotation'");
    wait_for(&holder, node);
    common::psql(&format!(
        "update {schema}.leases set holder = 'ghost', expires_ms = 9000000000000000
          where name = 'kms-rotation'"
    ));
    assert_eq!(psql_text(&holder), "ghost");
    wait_for(&holder, node);

    common::stop_gracefully(&mut server.child);
    assert_eq!(
        psql_text(&format!("select count(*) from {schema}.leases where holder = '{node}'")),
        "0"
    );
}

/// A node on a PostgreSQL schema of its own (dropped with it), whose connections carry an
/// `application_name` of their own (returned): `pg_stat_activity` tells them from others'.
fn named_node(tag: &str, extra: &[&str]) -> (Server, String) {
    let dir = common::unique_dir(tag);
    let schema = format!("t_{tag}_{}", std::process::id());
    let app = format!("hermetic_{tag}_{}", std::process::id());
    let url = format!("{POSTGRES_URL}?application_name={app}");
    let db_args =
        vec!["--database-url".to_string(), url, "--database-schema".into(), schema.clone()];
    let mut args: Vec<&str> = db_args.iter().map(String::as_str).collect();
    args.extend(extra);
    let (child, url, _) = common::start_with(&dir, &args);
    let server = Server { child, url, dir, db_args, blob_args: Vec::new(), schema: Some(schema) };
    (server, app)
}

/// `--database-connections N`: the node keeps N connections to PostgreSQL open and serves on
/// them; 0, more than 256, or without a database, it refuses to start.
#[test]
fn a_node_keeps_the_database_connections_it_is_given() {
    let (server, app) = named_node("connections", &["--database-connections", "3"]);
    assert_eq!(connections_named(&app), 3);
    let (key, secret) = common::operator_creds(&server.dir);
    let (ok, out, err) = aws(&server.url, &key, &secret, &["sts", "get-caller-identity"]);
    assert!(ok, "{out}{err}");
    assert_eq!(connections_named(&app), 3);
    drop(server);

    let other = common::unique_dir("connections-refused");
    for (extra, says) in [
        (vec!["--database-connections", "0"], "1 to 256"),
        (vec!["--database-connections", "257"], "1 to 256"),
    ] {
        // Refused before anything connects.
        let mut args = vec!["--database-url", POSTGRES_URL];
        args.extend(extra);
        let err = start_refused(&other, &args, &[]);
        assert!(err.contains(says), "{err}");
    }
    let err = start_refused(&other, &["--database-connections", "4"], &[]);
    assert!(err.contains("needs `database_url`"), "{err}");
    let _ = std::fs::remove_dir_all(&other);
}

/// A reader's deferred `ROLLBACK` does not wait on the audit writer: with the writer stuck
/// behind a lock (a migration's DDL, here a psql session holding `audit_heads`), the connection
/// the request read on still ends its transaction within a couple of seconds, so the DDL's own
/// wait is bounded.
#[test]
fn a_stuck_audit_writer_does_not_hold_a_readers_snapshot() {
    use std::io::Write;
    let (server, app) = named_node("housekeeping", &[]);
    let schema = server.schema.clone().unwrap();
    let mut locker = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut sql = locker.stdin.take().unwrap();
    writeln!(sql, "BEGIN; LOCK TABLE {schema}.audit_heads IN ACCESS EXCLUSIVE MODE;").unwrap();
    sql.flush().unwrap();
    wait_for(
        &format!(
            "select count(*) from pg_locks where relation = '{schema}.audit_heads'::regclass
               and mode = 'AccessExclusiveLock' and granted"
        ),
        "1",
    );

    let (key, secret) = common::operator_creds(&server.dir);
    let endpoint = server.url.clone();
    let request = std::thread::spawn(move || {
        aws(&endpoint, &key, &secret, &["sts", "get-caller-identity"]).0
    });
    // The request's event waits on the lock; its read transaction has ended.
    wait_for(
        &format!(
            "select count(*) > 0 from pg_stat_activity
              where application_name = '{app}' and wait_event_type = 'Lock'"
        ),
        "t",
    );
    wait_for(
        &format!(
            "select count(*) from pg_stat_activity
              where application_name = '{app}' and state = 'idle in transaction'"
        ),
        "0",
    );
    writeln!(sql, "ROLLBACK;").unwrap();
    drop(sql);
    let _ = locker.wait();
    assert!(request.join().unwrap(), "the request answered once the lock was gone");
    drop(server);
}

/// A thread never holds two of the store's connections at once (decision 010): a node given
/// one connection serves a mixed IAM/KMS/S3 load (streamed and multipart uploads, streamed
/// downloads, reads back of every acknowledged write) and STS (the operator's and a tenant's
/// `GetCallerIdentity`, `AssumeRole`, and calls with the session). A request that took a second
/// connection while holding one would wait for itself and be refused (`Busy` after the pool's
/// 30 s wait, a 503), which the load reports as an error.
#[test]
fn one_connection_serves_every_service() {
    let (server, app) = named_node("oneconn", &["--database-connections", "1"]);
    assert_eq!(connections_named(&app), 1);
    let tenant = common::create_tenant(&server, "acme");
    let bucket = "oneconn-bucket";
    let as_tenant = |args: &[&str]| aws(&server.url, &tenant.key, &tenant.secret, args);
    let (ok, _, err) = as_tenant(&["s3", "mb", &format!("s3://{bucket}")]);
    assert!(ok, "{err}");

    let script = format!("{}/tests/scripts/mixed_load.py", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(common::python())
        .args([&script, &server.url, &tenant.account, &tenant.key, &tenant.secret])
        .args([bucket, "6", "raced-oneconn", "4"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().filter(|l| *l != "done").collect();
    let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("error ")).collect();
    assert!(errors.is_empty(), "errors with one connection: {errors:#?}");
    for kind in ["user ", "tag ", "key ", "enc ", "obj "] {
        assert!(lines.iter().any(|l| l.starts_with(kind)), "no `{kind}` write acknowledged");
    }
    common::finish_mixed_check(common::start_mixed_check(
        &server.url,
        &tenant,
        bucket,
        "raced-oneconn",
        &lines,
    ));

    // STS: the operator's identity, a tenant's, and a role session's calls.
    let (key, secret) = common::operator_creds(&server.dir);
    let (ok, out, err) = aws(&server.url, &key, &secret, &["sts", "get-caller-identity"]);
    assert!(ok, "{out}{err}");
    let (ok, out, err) = as_tenant(&["sts", "get-caller-identity"]);
    assert!(ok && out.contains(&tenant.account), "{out}{err}");
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
        tenant.account
    );
    let (ok, _, err) = as_tenant(&[
        "iam",
        "create-role",
        "--role-name",
        "oneconn",
        "--assume-role-policy-document",
        &trust,
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = as_tenant(&[
        "iam",
        "attach-role-policy",
        "--role-name",
        "oneconn",
        "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ]);
    assert!(ok, "{err}");
    let role = format!("arn:aws:iam::{}:role/oneconn", tenant.account);
    let (ok, out, err) =
        as_tenant(&["sts", "assume-role", "--role-arn", &role, "--role-session-name", "one"]);
    assert!(ok, "{out}{err}");
    let session: serde_json::Value = serde_json::from_str(&out).unwrap();
    let field = |k: &str| session["Credentials"][k].as_str().unwrap().to_string();
    let (id, secret, token) =
        (field("AccessKeyId"), field("SecretAccessKey"), field("SessionToken"));
    for args in [
        &["sts", "get-caller-identity"][..],
        &["iam", "get-role", "--role-name", "oneconn"][..],
        &["s3api", "list-objects-v2", "--bucket", bucket, "--max-items", "1"][..],
    ] {
        let (ok, out, err) = common::aws_session(&server.url, &id, &secret, Some(&token), args);
        assert!(ok, "{args:?}: {out}{err}");
    }
    assert_eq!(connections_named(&app), 1);
}
