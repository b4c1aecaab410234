#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! A trail's delivery against `hermetic serve` with short intervals, on both stores: the files
//! hold every event LookupEvents lists, once, after a graceful restart and after `kill -9`s at
//! arbitrary moments (`scripts/trail_delivery.py`); then `aws cloudtrail validate-logs`,
//! unmodified, finds the files valid, and invalid after each kind of tampering
//! (`scripts/trail_validate.py`).

mod common;

use common::{run_script as run, start_on, start_with, Backend, Server};

/// Short intervals, and a digest key that rotates every few seconds (so validate-logs checks
/// digests signed by several keys).
const INTERVALS: [&str; 6] =
    ["--trail-delivery-secs", "1", "--trail-digest-secs", "2", "--trail-key-rotation-secs", "5"];

/// Starts the server again on its data directory (and database), with the short intervals.
fn restart(server: &mut Server) {
    let mut args: Vec<&str> = server.db_args.iter().map(String::as_str).collect();
    args.extend_from_slice(&INTERVALS);
    let (child, url, _) = start_with(&server.dir, &args);
    server.child = child;
    server.url = url;
}

/// Stops the server gracefully.
fn stop(server: &mut Server) {
    let _ =
        std::process::Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status();
    let _ = server.child.wait();
}

fn delivery(backend: Backend) {
    let mut server = start_on("trail-delivery", backend, &INTERVALS);
    let t = common::create_tenant(&server, "acme");
    let phase = |server: &Server, phase: &str| {
        run("trail_delivery", &[&server.url, &t.account, &t.key, &t.secret, phase]);
    };
    phase(&server, "setup");
    phase(&server, "traffic");
    phase(&server, "check");
    // A graceful restart: delivery goes on where it stood.
    let _ =
        std::process::Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status();
    let _ = server.child.wait();
    restart(&mut server);
    phase(&server, "traffic");
    phase(&server, "check");
    // kill -9 while events are being made and delivered, at a different moment each time:
    // nothing committed is lost, nothing is delivered twice.
    for wait_ms in [300, 650, 1000, 1400] {
        let mut burst = std::process::Command::new(common::python())
            .arg(format!("{}/tests/scripts/trail_delivery.py", env!("CARGO_MANIFEST_DIR")))
            .args([&server.url, &t.account, &t.key, &t.secret, "burst"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        server.child.kill().unwrap();
        let _ = server.child.wait();
        let _ = burst.wait();
        restart(&mut server);
    }
    phase(&server, "check");
    let aws = common::aws_cli();
    run(
        "trail_validate",
        &[&server.url, &t.account, &t.key, &t.secret, &aws.display().to_string()],
    );
    // The operator rewinds the trail's cursor in the database, to have its events delivered
    // again (or, the other way, skipped): the row no longer authenticates, and delivery stops
    // rather than deliver anything twice.
    let files = |server: &Server| {
        run("trail_delivery", &[&server.url, &t.account, &t.key, &t.secret, "files"])
    };
    stop(&mut server);
    common::edit_database(
        &server,
        "update records set body = replace(body, '\"Next\":', '\"Next\":0,\"Was\":') where kind = 'trail_delivery'",
    );
    restart(&mut server);
    let before = files(&server);
    phase(&server, "traffic");
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(files(&server), before, "delivery went on from an edited cursor");
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn delivery_on_sqlite() {
    delivery(Backend::Sqlite);
}

#[test]
fn delivery_on_postgres() {
    delivery(Backend::Postgres);
}

/// With the root of trust in an HSM (SoftHSM2 through PKCS#11), the digest keys are made in the
/// HSM, non-extractable, and sign there: the database keeps only their public halves and
/// labels, and validate-logs checks their digests.
#[test]
fn digest_keys_in_an_hsm() {
    let dir = common::unique_dir("trail-hsm");
    let (conf, hsm) = common::softhsm_token(&dir);
    let data = dir.join("data");
    let mut args: Vec<&str> = hsm.iter().map(String::as_str).collect();
    args.extend_from_slice(&INTERVALS);
    let (child, url, _) = common::start_with_env(&data, &args, &[("SOFTHSM2_CONF", &conf)]);
    let mut server = Server {
        child,
        url,
        dir: data.clone(),
        db_args: Vec::new(),
        blob_args: Vec::new(),
        schema: None,
    };
    // Accounts are invited with the operator's credentials, which the server wrote to `data`.
    let t = common::create_tenant(&server, "acme");
    for phase in ["setup", "traffic", "check"] {
        run("trail_delivery", &[&server.url, &t.account, &t.key, &t.secret, phase]);
    }
    let aws = common::aws_cli();
    run(
        "trail_validate",
        &[&server.url, &t.account, &t.key, &t.secret, &aws.display().to_string()],
    );
    stop(&mut server);
    let out = std::process::Command::new(common::python())
        .args([
            "-c",
            "import sqlite3, sys; print('\\n'.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute(\"select body from records where kind = 'digest_key'\")))",
        ])
        .arg(data.join("hermetic.db"))
        .output()
        .unwrap();
    let bodies = String::from_utf8_lossy(&out.stdout);
    assert!(bodies.lines().count() >= 2, "{bodies}");
    for body in bodies.lines() {
        assert!(body.contains("\"HeldLabel\":\"hermetic-digest-"), "{body}");
        assert!(!body.contains("SealedPrivateKey"), "{body}");
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
