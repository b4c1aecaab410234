#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Three stateless nodes (issue 20, item 2): `hermetic serve` A, B and C, each started with its
//! own empty data directory, share one PostgreSQL schema, one S3 bucket (moto's server) for
//! object data and one HSM holding the root of trust. (The HSM is a SoftHSM2 token whose
//! directory every process opens: the test's stand-in for a network HSM, not a file Hermetic
//! shares between nodes.) No node keeps a file another needs.
//!
//! A Python driver (`scripts/mixed_load.py`) spreads a mixed write load over the three, one
//! call to the next node: IAM users and their tags, KMS keys and ciphertexts, S3 objects of
//! 4 KiB and 3 MiB (streamed) and multipart uploads whose steps land on different nodes, and
//! one user name raced on every node. Mid-run B is killed (SIGKILL). Then:
//! - no acknowledged write is lost: every one reads back (`scripts/mixed_check.py`: users and
//!   tags, keys, ciphertexts decrypting to their plaintexts, objects by MD5 and by ranges)
//!   through A and through D, a new node started after the kill on a fresh data directory;
//! - the raced name was created once, and every other attempt was refused;
//! - the account has one linear audit history (`seq` 0..n) holding exactly one event without
//!   an error code per acknowledged `RequestId` (and the refusal per refused attempt);
//! - the operator's `trail verify` on the database passes with the one checkpoint key every
//!   node used, and the tenant's own `trail verify` through C passes, and stays consistent
//!   after more writes;
//! - the kill leaves at most a few blobs no record names (a blob written whose record was
//!   not: the sweeper removes such orphans after its grace period of an hour).
//!
//! Bounded: the load runs 20 s; the whole test about a minute or two.

mod common;

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{python, Server, POSTGRES_URL};

/// The driver's threads: also the most blobs a kill may leave unnamed (one upload each).
const THREADS: usize = 6;
/// How long the driver writes (seconds).
const SECONDS: &str = "20";
/// When B is killed, after the first acknowledged write.
const KILL_AFTER: Duration = Duration::from_secs(6);
/// The tenant's bucket.
const BUCKET: &str = "mixed-load";
/// The user name every thread tries to create on every node.
const RACED: &str = "raced";

/// A node started on `dir` (empty) with `args`: its server (owning neither the schema nor the
/// blob store: node A's drop cleans those up) and its start's second line.
fn node(dir: &Path, args: &[&str], env: &[(&str, &Path)], db_args: &[String]) -> (Server, String) {
    assert!(!dir.exists(), "{} is not fresh", dir.display());
    let (child, url, line) = common::start_with_env(dir, args, env);
    let server = Server {
        child,
        url,
        dir: dir.to_path_buf(),
        db_args: db_args.to_vec(),
        blob_args: Vec::new(),
        schema: None,
    };
    (server, line)
}

/// The kind (first word) and the `RequestId` (last word) of one of the driver's lines.
fn kind_and_id(line: &str) -> (&str, &str) {
    let mut words = line.split_whitespace();
    let kind = words.next().unwrap_or_default();
    (kind, words.last().unwrap_or_default())
}

#[test]
fn three_nodes_share_postgres_an_hsm_and_a_bucket_and_survive_a_kill() {
    let base = common::unique_dir("three");
    let (conf, hsm) = common::softhsm_token(&base);
    let schema = format!("t_{}", base.file_name().unwrap().to_string_lossy().replace('-', "_"));
    let (a_dir, b_dir, c_dir, d_dir) =
        (base.join("a"), base.join("b"), base.join("c"), base.join("d"));
    let db_args =
        ["--database-url", POSTGRES_URL, "--database-schema", &schema].map(String::from).to_vec();
    let blob_args = common::s3_blob_args("three", &a_dir);
    let mut args: Vec<&str> = hsm.iter().map(String::as_str).collect();
    args.extend(db_args.iter().map(String::as_str));
    args.extend(blob_args.iter().map(String::as_str));
    args.extend(["--checkpoint-interval-secs", "1"]);
    let env = [("SOFTHSM2_CONF", conf.as_path())];

    // A first: the HSM's keys, the operator's key and the checkpoint key are made then. A owns
    // the schema and the blob store's credentials file (dropped last, it removes them).
    let (child, url, line) = common::start_with_env(&a_dir, &args, &env);
    assert!(line.ends_with("(created)"), "{line}");
    let mut a = Server {
        child,
        url,
        dir: a_dir.clone(),
        db_args: db_args.clone(),
        blob_args: blob_args.clone(),
        schema: Some(schema.clone()),
    };
    let (mut b, line) = node(&b_dir, &args, &env, &db_args);
    assert!(line.ends_with("(copied from the database)"), "{line}");
    let (mut c, line) = node(&c_dir, &args, &env, &db_args);
    assert!(line.ends_with("(copied from the database)"), "{line}");

    let tenant = common::create_tenant(&a, "acme");
    let (ok, _, err) =
        common::aws(&c.url, &tenant.key, &tenant.secret, &["s3", "mb", &format!("s3://{BUCKET}")]);
    assert!(ok, "{err}");

    // The load over A, B and C; B killed once writes have been acknowledged for a while.
    let endpoints = [a.url.as_str(), b.url.as_str(), c.url.as_str()].join(",");
    let script = format!("{}/tests/scripts/mixed_load.py", env!("CARGO_MANIFEST_DIR"));
    let threads = THREADS.to_string();
    let mut driver = Command::new(python())
        .args([&script, &endpoints, &tenant.account, &tenant.key, &tenant.secret])
        .args([BUCKET, SECONDS, RACED, threads.as_str()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let reader = std::io::BufReader::new(driver.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines: Vec<String> = Vec::new();
    let mut first: Option<Instant> = None;
    let mut at_kill: Option<usize> = None;
    loop {
        let line = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) => line,
            Err(e) => panic!("the driver stopped without `done` ({e}) after {} lines", lines.len()),
        };
        if line == "done" {
            break;
        }
        lines.push(line);
        let started = *first.get_or_insert_with(Instant::now);
        if at_kill.is_none() && started.elapsed() >= KILL_AFTER {
            b.child.kill().unwrap();
            b.child.wait().unwrap();
            at_kill = Some(lines.len());
        }
    }
    let status = driver.wait().unwrap();
    assert!(status.success(), "the driver failed: {status}");
    let at_kill = at_kill.expect("the load ended before B was killed");
    let after = lines[at_kill..].iter().filter(|l| kind_and_id(l).0 != "error").count();
    assert!(after > 0, "no write was acknowledged after B was killed");

    let count = |kind: &str| lines.iter().filter(|l| kind_and_id(l).0 == kind).count();
    let errors: Vec<&String> = lines.iter().filter(|l| kind_and_id(l).0 == "error").collect();
    assert!(errors.is_empty(), "a live node answered errors: {errors:#?}");
    for kind in ["user", "tag", "key", "enc", "obj"] {
        assert!(count(kind) > 0, "no `{kind}` write was acknowledged");
    }
    for size in ["/big ", "/multi "] {
        assert!(
            lines.iter().any(|l| l.starts_with("obj ") && l.contains(size)),
            "no `{size}` object was acknowledged"
        );
    }
    assert_eq!(count("raced"), 1, "`{RACED}` is created exactly once");
    assert!(count("lost") > 0, "the other attempts at `{RACED}` are refused");
    println!(
        "{} acknowledged writes ({} after B's kill): {} users, {} tags, {} keys, {} \
         ciphertexts, {} objects; {} refused attempts at `{RACED}`",
        lines.len() - count("lost"),
        after,
        count("user"),
        count("tag"),
        count("key"),
        count("enc"),
        count("obj"),
        count("lost"),
    );

    // A new node on a fresh directory; every acknowledged write, through A and through D.
    let (mut d, line) = node(&d_dir, &args, &env, &db_args);
    assert!(line.ends_with("(copied from the database)"), "{line}");
    assert_eq!(common::operator_creds(&d_dir), common::operator_creds(&a_dir));
    let checks = [
        common::start_mixed_check(&a.url, &tenant, BUCKET, RACED, &lines),
        common::start_mixed_check(&d.url, &tenant, BUCKET, RACED, &lines),
    ];
    for check in checks {
        common::finish_mixed_check(check);
    }

    // One linear history, one event per acknowledged request (and per refused attempt).
    {
        let store = common::open_store(&a);
        let mut tx = store.read().unwrap();
        let head = tx.audit_head(&tenant.account).unwrap();
        let events = tx.audit_events(&tenant.account, 0..head.size).unwrap();
        assert_eq!(events.len() as u64, head.size);
        let mut by_id: HashMap<String, Vec<Option<String>>> = HashMap::new();
        for (i, entry) in events.iter().enumerate() {
            assert_eq!(entry.seq, i as u64, "the log is linear");
            let event = audit::event::EventRecord::from_canonical_bytes(&entry.event).unwrap();
            if let Some(id) = event.request_id {
                by_id.entry(id).or_default().push(event.error_code);
            }
        }
        let ok_event = [None::<String>];
        let refused_event = [Some("EntityAlreadyExists".to_string())];
        for line in &lines {
            let (kind, id) = kind_and_id(line);
            let found = by_id.get(id).map(Vec::as_slice).unwrap_or_default();
            let want = if kind == "lost" { &refused_event[..] } else { &ok_event[..] };
            assert_eq!(found, want, "the events of `{line}`");
        }
        println!("{} events in the tenant's log", head.size);
    }

    // The tenant's own check through C, and again after more writes.
    let state = base.join("tenant-state.json");
    let (ok, out) = common::tenant_verify(&c.url, &tenant, &state, &[]);
    assert!(ok && out.contains("first run"), "{out}");
    common::tenant_events(&c.url, &tenant);
    let (ok, out) = common::tenant_verify(&c.url, &tenant, &state, &[]);
    assert!(ok && out.contains("consistent with the last one seen"), "{out}");

    // What the kill may leave: blobs whose records were never committed, one per upload in
    // flight on B at most.
    let unnamed = common::unnamed_blobs(&a);
    println!("blobs no record names after the kill: {unnamed:?}");
    assert!(unnamed.len() <= THREADS, "{unnamed:#?}");

    // The operator's check of every log, with the key the database names (no data directory
    // at hand) and with node A's copy of it pinned; D's copy is the same key.
    for server in [&mut c, &mut d, &mut a] {
        common::stop_gracefully(&mut server.child);
    }
    let public = std::fs::read_to_string(a_dir.join("checkpoint.pub")).unwrap();
    assert_eq!(std::fs::read_to_string(d_dir.join("checkpoint.pub")).unwrap(), public);
    let nowhere = base.join("no-data-dir").display().to_string();
    let db = ["--database-url", POSTGRES_URL, "--database-schema", &schema];
    common::verify_shared_trail(&nowhere, &db, &a_dir.join("checkpoint.pub"));

    drop(d);
    drop(c);
    drop(b);
    drop(a);
    let _ = std::fs::remove_dir_all(&base);
}
