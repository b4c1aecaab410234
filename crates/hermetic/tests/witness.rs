#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `hermetic witness serve` with a server that sends it its checkpoints (`--witness`): a
//! tenant's `trail verify --witness-key` accepts a checkpoint the witness cosigned; after the
//! database is put back and the server signs a forked history, the witness refuses it (it saw
//! the other), so a tenant requiring its cosignature refuses it too, even with no state of its
//! own. And the witness answers malformed and inconsistent requests as the protocol says.

mod common;

use common::{start_with, Backend};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

/// A witness process, killed when the test ends (passed or not).
struct Witness(std::process::Child);

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a witness for the logs `log_key` signs: (child, address, its verifier key).
fn witness(
    dir: &std::path::Path,
    log_key: &std::path::Path,
) -> (std::process::Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["witness", "serve", "--listen", "127.0.0.1:0", "--name", "tenant-witness"])
        .arg("--key-file")
        .arg(dir.join("witness.key"))
        .arg("--state-file")
        .arg(dir.join("witness-state.json"))
        .arg("--log-key")
        .arg(log_key)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first.strip_prefix("hermetic witness listening on http://").unwrap().to_string();
    let second = lines.next().unwrap().unwrap();
    let key = second.strip_prefix("witness key: ").unwrap().to_string();
    (child, addr, key)
}

/// POSTs `body` to the witness: (status, answer).
fn post(addr: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /add-checkpoint HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, raw.split_once("\r\n\r\n").unwrap().1.to_string())
}

#[test]
fn a_witness_refuses_a_forked_history_and_tenants_requiring_it_do_too() {
    let mut server =
        common::start_on("witness", Backend::Sqlite, &["--checkpoint-interval-secs", "1"]);
    let t = common::create_tenant(&server, "acme");
    common::stop_gracefully(&mut server.child);
    let dir = server.dir.with_extension("witness");
    std::fs::create_dir_all(&dir).unwrap();
    let log_key = dir.join("log.pub");
    std::fs::copy(server.dir.join(server::checkpoints::PUBLIC_FILE), &log_key).unwrap();
    let (w, addr, key) = witness(&dir, &log_key);
    let _w = Witness(w);
    let url_arg = format!("http://{addr}");
    let args = ["--checkpoint-interval-secs", "1", "--witness", url_arg.as_str()];
    let restart = |server: &mut common::Server| {
        let (child, url, _) = start_with(&server.dir, &args);
        server.child = child;
        server.url = url;
    };
    restart(&mut server);
    common::tenant_events(&server.url, &t);
    // Cosigned: the tenant, requiring the witness, accepts.
    let state = dir.join("tenant-state.json");
    let (ok, out) = common::tenant_verify(&server.url, &t, &state, &["--witness-key", &key]);
    assert!(ok, "{out}");
    // The database put back as a backup had it; the server goes on and signs a new history.
    common::put_database_back(&mut server, &t, &dir.join("backup"), restart, |server| {
        let (ok, out) = common::tenant_verify(&server.url, &t, &state, &["--witness-key", &key]);
        assert!(ok, "{out}");
    });
    // A tenant with no state of its own still refuses it: the witness did not cosign.
    let fresh = dir.join("fresh-state.json");
    let (ok, out) = common::tenant_verify(&server.url, &t, &fresh, &["--witness-key", &key]);
    assert!(!ok && out.contains("fewer than the quorum"), "{out}");
    // The witness's own answers: a malformed request, an inconsistent size.
    assert_eq!(post(&addr, "nonsense").0, 400);
    let note = std::fs::read_to_string(&log_key).unwrap();
    let (status, _) = post(&addr, &format!("old 0\n\n{note}"));
    assert!(status == 403 || status == 404, "{status}");
    common::stop_gracefully(&mut server.child);
    let _ = std::fs::remove_dir_all(&dir);
}
