#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Crash test: kill -9 the server during a burst of IAM writes; after a restart every
//! acknowledged write is there, each has its audit event, and the audit log verifies.

mod common;

use common::{hermetic, start_on, Backend};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn acknowledged_writes_survive_kill_9_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn acknowledged_writes_survive_kill_9_on_postgres() {
    scenario(Backend::Postgres);
}

fn scenario(backend: Backend) {
    let mut server = start_on("crash", backend, &[]);
    let data_dir = server.dir.display().to_string();
    let created = common::invite_and_redeem(&server.url, &data_dir, "acme");
    let (key, secret) = (
        created["AccessKeyId"].as_str().unwrap().to_string(),
        created["SecretAccessKey"].as_str().unwrap().to_string(),
    );
    let account = created["AccountId"].as_str().unwrap().to_string();

    // Writers: 4 threads creating users as fast as they can; each prints a name once acknowledged.
    let script = format!(
        "import boto3, sys, threading\n\
         from botocore.config import Config\n\
         c = boto3.client('iam', endpoint_url='{url}', region_name='us-east-1', aws_access_key_id='{key}', aws_secret_access_key='{secret}', config=Config(retries={{'max_attempts': 0}}))\n\
         lock = threading.Lock()\n\
         def run(t):\n    i = 0\n    while True:\n        name = 'u-%d-%d' % (t, i)\n        try:\n            c.create_user(UserName=name)\n        except Exception:\n            return\n        with lock:\n            print(name, flush=True)\n        i += 1\n\
         ts = [threading.Thread(target=run, args=(t,)) for t in range(4)]\n\
         [t.start() for t in ts]\n[t.join() for t in ts]\n",
        url = server.url
    );
    let mut writer = Command::new(common::python())
        .arg("-c")
        .arg(script)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(writer.stdout.take().unwrap()).lines();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut acknowledged = Vec::new();
    let started = Instant::now();
    while acknowledged.len() < 40 && started.elapsed() < Duration::from_secs(60) {
        if let Ok(name) = rx.recv_timeout(Duration::from_secs(5)) {
            acknowledged.push(name);
        }
    }
    // kill -9 mid-burst.
    Command::new("kill").args(["-9", &server.child.id().to_string()]).status().unwrap();
    let _ = server.child.wait();
    let _ = writer.wait();
    while let Ok(name) = rx.recv_timeout(Duration::from_millis(200)) {
        acknowledged.push(name);
    }
    assert!(acknowledged.len() >= 40, "the burst acknowledged only {} writes", acknowledged.len());

    // Restart on the same data; every acknowledged user exists and has its audit event.
    let mut args: Vec<&str> = server.db_args.iter().map(String::as_str).collect();
    args.extend(["--checkpoint-interval-secs", "1"]);
    let (mut child, _url, second) = common::start_with(&server.dir, &args);
    assert!(second.ends_with("(existing)"), "{second}");
    let store = common::open_store(&server);
    let mut read = store.read().unwrap();
    for name in &acknowledged {
        assert!(
            read.get_record(&account, "user", name).unwrap().is_some(),
            "acknowledged user {name} was lost"
        );
    }
    let head = read.audit_head(&account).unwrap();
    let events = read.audit_events(&account, 0..head.size).unwrap();
    // The parameters are sealed under the account's key: opened with the server's root of trust.
    let root = server::bootstrap::open_root(&server.dir, None, None).unwrap();
    let keys = server::support::account_keys::AccountKeys::default();
    let created_users: std::collections::HashSet<String> = events
        .iter()
        .map(|e| {
            let mut e = audit::event::EventRecord::from_canonical_bytes(&e.event).unwrap();
            server::pipeline::events::open_parameters(
                &keys,
                &root,
                read.as_mut(),
                &mut e,
                &account,
            )
            .unwrap();
            e
        })
        .filter(|e| e.event_name == "CreateUser" && e.error_code.is_none())
        .filter_map(|e| {
            e.request_parameters.and_then(|p| {
                p.as_value().get("userName").and_then(|v| v.as_str().map(str::to_string))
            })
        })
        .collect();
    for name in &acknowledged {
        assert!(created_users.contains(name), "acknowledged user {name} has no audit event");
    }
    drop(read);
    std::thread::sleep(Duration::from_millis(1500));
    let _ = child.kill();
    let _ = child.wait();
    let mut verify = vec!["trail", "verify", "--data-dir", data_dir.as_str()];
    verify.extend(server.db_args.iter().map(String::as_str));
    let (ok, out, err) = hermetic(&verify);
    assert!(ok, "{out}{err}");
}
