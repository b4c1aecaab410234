#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! What the operator sees, with the real binary and boto3: `--metrics-listen` serves
//! `/metrics` (Prometheus text, every name `hermetic_`), `/healthz` and `/readyz` and nothing
//! else, and the main listener serves none of them; requests are counted by service, operation
//! and outcome, the audit group commit and the store's pools are measured; a Shamir node is not
//! ready while sealed. And the grep test: after a workload whose every tenant-chosen name and
//! value is a canary, neither the server's stdout and stderr (JSON log lines) nor a scrape
//! holds a canary or a secret (the invitation code, the tenant's root secret, a user's secret
//! access key, an STS session's secret and token, the operator's secret, SSE-C customer keys and
//! their MD5s; raw, base64 or URL-encoded, a key also as hex and as bytes), and every log line's
//! `request_id` is an audit event's `requestID`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A server started with `--metrics-listen 127.0.0.1:0 --log-format json` (and any other
/// flags), its stderr in a file and the rest of its stdout read by a thread.
struct Observed {
    server: common::Server,
    metrics: String,
    stderr: PathBuf,
    stdout: Option<std::thread::JoinHandle<String>>,
    /// The lines read before the thread took over.
    first_lines: String,
}

impl Observed {
    fn start(tag: &str, extra: &[&str]) -> Observed {
        let dir = common::unique_dir(tag);
        let stderr =
            dir.with_file_name(format!("{}.stderr", dir.file_name().unwrap().to_string_lossy()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .args(["--metrics-listen", "127.0.0.1:0", "--log-format", "json"])
            .args(["--checkpoint-interval-secs", "1"])
            .args(extra)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut read_line = || {
            let mut line = String::new();
            lines.read_line(&mut line).unwrap();
            line
        };
        let (first, second, third) = (read_line(), read_line(), read_line());
        let url = first.trim().strip_prefix("hermetic listening on ").unwrap().to_string();
        assert!(second.starts_with("operator credentials: "), "{second}");
        let metrics = third.trim().strip_prefix("hermetic metrics on ").unwrap().to_string();
        let stdout = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = lines.read_to_string(&mut rest);
            rest
        });
        Observed {
            server: common::Server {
                child,
                url,
                dir,
                db_args: Vec::new(),
                blob_args: Vec::new(),
                schema: None,
            },
            metrics,
            stderr,
            stdout: Some(stdout),
            first_lines: format!("{first}{second}{third}"),
        }
    }

    /// Stops the server gracefully; its whole stdout and stderr.
    fn stop(&mut self) -> (String, String) {
        common::stop_gracefully(&mut self.server.child);
        let rest = self.stdout.take().map(|t| t.join().unwrap()).unwrap_or_default();
        let stderr = std::fs::read_to_string(&self.stderr).unwrap();
        (format!("{}{rest}", self.first_lines), stderr)
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.stderr);
    }
}

/// Checks `text` is the Prometheus text format as Hermetic writes it and returns its samples
/// (`name{labels}` → value): every family has `# HELP` and `# TYPE`, every sample's name starts
/// with `hermetic_` and belongs to a declared family, every value is a number.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut helped = BTreeSet::new();
    let mut families = BTreeMap::new();
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(name.starts_with("hermetic_"), "{line}");
            helped.insert(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(helped.contains(name), "TYPE before HELP: {line}");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(families.insert(name.to_string(), kind.to_string()).is_none(), "{line}");
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "unexpected line `{line}`");
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of `{line}`"));
        let name = series.split('{').next().unwrap();
        assert!(name.starts_with("hermetic_"), "{line}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "name of `{line}`");
        let family = match families.get(name).map(String::as_str) {
            Some(_) => name,
            None => ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .filter(|f| families.get(*f).map(String::as_str) == Some("histogram"))
                .unwrap_or_else(|| panic!("`{line}` is of no declared family")),
        };
        assert!(families.contains_key(family));
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            }
        }
        assert!(samples.insert(series.to_string(), value).is_none(), "repeated `{line}`");
    }
    samples
}

/// `hermetic_requests_total` of one (service, operation, outcome), 0 if absent.
fn requests(samples: &BTreeMap<String, f64>, service: &str, operation: &str, outcome: &str) -> f64 {
    let key = format!(
        "hermetic_requests_total{{service=\"{service}\",operation=\"{operation}\",outcome=\"{outcome}\"}}"
    );
    samples.get(&key).copied().unwrap_or(0.0)
}

fn sample(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

/// Runs `scripts/observability.py` as `tenant` (over HTTPS trusting `ca`, with SSE-C, if
/// given): its JSON answer.
fn workload(
    server: &common::Server,
    tenant: &common::Tenant,
    tag: &str,
    ca: Option<&str>,
) -> serde_json::Value {
    let mut args = vec![
        server.url.as_str(),
        tenant.account.as_str(),
        tenant.key.as_str(),
        tenant.secret.as_str(),
        tag,
    ];
    args.extend(ca);
    let out = common::run_script("observability", &args);
    let line = out.lines().rev().nth(1).unwrap();
    serde_json::from_str(line).unwrap()
}

fn tag() -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}

#[test]
fn health_readiness_and_request_metrics() {
    let mut observed = Observed::start("observe-metrics", &[]);
    let m = observed.metrics.clone();
    assert_eq!(common::http_get(&m, "/healthz").0, 200);
    let (status, _, body) = common::http_get(&m, "/readyz");
    assert_eq!((status, body.trim()), (200, "ready"));
    assert_eq!(common::http_get(&m, "/nothing-here").0, 404);
    assert_eq!(common::http_get(&m, "/").0, 404);

    let tenant = common::create_tenant(&observed.server, "acme");
    let (status, content_type, before) = common::http_get(&m, "/metrics");
    assert_eq!((status, content_type.as_str()), (200, "text/plain; version=0.0.4"));
    let before = parse(&before);
    let answer = workload(&observed.server, &tenant, &tag(), None);
    assert!(answer["ids"]["ListUsers denied"].is_string(), "{answer}");
    let (_, _, after) = common::http_get(&m, "/metrics");
    let after = parse(&after);

    for (service, operation, outcome) in [
        ("iam", "ListUsers", "ok"),
        ("iam", "ListUsers", "denied"),
        ("s3", "PutObject", "ok"),
        ("s3", "GetObject", "ok"),
        ("sts", "AssumeRole", "ok"),
    ] {
        let grew = requests(&after, service, operation, outcome)
            - requests(&before, service, operation, outcome);
        assert!(grew >= 1.0, "{service} {operation} {outcome}: {grew}");
        let count = format!(
            "hermetic_request_duration_seconds_count{{service=\"{service}\",operation=\"{operation}\",outcome=\"{outcome}\"}}"
        );
        assert_eq!(sample(&after, &count), requests(&after, service, operation, outcome));
    }
    // Reads and denials are committed by the group commit.
    for series in ["hermetic_audit_batch_events_count", "hermetic_audit_wait_seconds_count"] {
        assert!(sample(&after, series) > sample(&before, series), "{series}");
    }
    assert_eq!(sample(&after, "hermetic_audit_failures_total"), 0.0);
    assert!(sample(&after, "hermetic_store_pool_wait_seconds_count{pool=\"read\"}") > 0.0);
    assert!(sample(&after, "hermetic_store_pool_wait_seconds_count{pool=\"write\"}") > 0.0);
    assert_eq!(sample(&after, "hermetic_sealed"), 0.0);
    // No upload is in flight: every streaming slot is free.
    assert_eq!(after.get("hermetic_streams_in_use"), Some(&0.0));
    assert_eq!(after.get("hermetic_streams_max"), Some(&8.0));
    assert!(after
        .keys()
        .any(|k| k.starts_with("hermetic_build_info{") && k.contains("store=\"sqlite\"")));
    assert!(sample(&after, "hermetic_checkpoint_pass_timestamp_seconds") > 1.0e9);
    // No label value but the fixed ones: no account id, key, bucket or name.
    for key in after.keys() {
        assert!(!key.contains(&tenant.account) && !key.contains("cnry"), "{key}");
    }

    // The main listener serves none of these: there, GET /metrics is an S3 request (anonymous,
    // for a bucket named `metrics`).
    let main = observed.server.url.strip_prefix("http://").unwrap().to_string();
    for path in ["/metrics", "/readyz", "/healthz"] {
        let (status, _, body) = common::http_get(&main, path);
        assert!(status == 403 || status == 404, "{path}: {status} {body}");
        assert!(body.contains("<Error>") && !body.contains("hermetic_"), "{path}: {body}");
    }
    let _ = observed.stop();
}

/// Every way a canary could be written down: as it is, base64, URL-encoded (`%20` and `+`).
fn forms(value: &str) -> Vec<String> {
    use base64::Engine;
    let mut encoded = String::new();
    let mut plus = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            encoded.push(char::from(b));
            plus.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
            plus.push_str(&if b == b' ' { "+".to_string() } else { format!("%{b:02X}") });
        }
    }
    vec![
        value.to_string(),
        base64::engine::general_purpose::STANDARD.encode(value),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(value),
        encoded.to_lowercase(),
        encoded,
        plus,
    ]
}

/// The needles an SSE-C customer key (`name`, sent as `b64`) makes: its base64 (whose [`forms`]
/// cover the URL-encoded header value) and the raw key's hex, in both cases, and bytes as Rust's
/// `{:?}` writes them.
fn customer_key_forms(name: &str, b64: &str) -> Vec<(String, String)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    assert_eq!(raw.len(), 32, "{name}: {b64}");
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        (name.to_string(), b64.to_string()),
        (format!("{name} (hex)"), hex.to_uppercase()),
        (format!("{name} (hex)"), hex),
        (format!("{name} (bytes)"), format!("{raw:?}")),
    ]
}

/// Every `requestID` in the audit logs of the stopped server's store.
fn audited_request_ids(server: &common::Server) -> BTreeSet<String> {
    let store = common::open_store(server);
    let mut tx = store.read().unwrap();
    let mut accounts = vec!["000000000000".to_string()];
    accounts.extend(tx.list_accounts(None, 1000).unwrap().items.into_iter().map(|a| a.id));
    let mut ids = BTreeSet::new();
    for account in accounts {
        let head = tx.audit_head(&account).unwrap();
        for entry in tx.audit_events(&account, 0..head.size).unwrap() {
            let event = audit::event::EventRecord::from_canonical_bytes(&entry.event).unwrap();
            ids.extend(event.request_id);
        }
    }
    ids
}

#[test]
fn no_tenant_data_or_secret_in_logs_or_metrics() {
    // Over TLS: S3 refuses SSE-C, whose customer keys are secrets too, on plain HTTP.
    let certs = common::unique_dir("observe-grep-tls");
    let (cert, cert_key) = common::self_signed_cert(&certs);
    let (cert, cert_key) = (cert.display().to_string(), cert_key.display().to_string());
    let mut observed =
        Observed::start("observe-grep", &["--tls-cert", &cert, "--tls-key", &cert_key]);
    assert!(observed.server.url.starts_with("https://"), "{}", observed.server.url);
    let tls = ["--ca-bundle", cert.as_str()];
    // The invitation code is a secret too: the tenant's proof when it redeems.
    let data_dir = observed.server.dir.display().to_string();
    let (account, code) = common::invite(&observed.server.url, &data_dir, "acme", &tls);
    let redeemed = common::redeem(&observed.server.url, &code, &tls).unwrap();
    let tenant = common::Tenant {
        account,
        key: redeemed["AccessKeyId"].as_str().unwrap().to_string(),
        secret: redeemed["SecretAccessKey"].as_str().unwrap().to_string(),
    };
    let answer = workload(&observed.server, &tenant, &tag(), Some(cert.as_str()));
    let (_, _, scrape) = common::http_get(&observed.metrics, "/metrics");
    let (stdout, stderr) = observed.stop();
    assert!(stderr.contains("\"request_id\""), "no request lines on stderr: {stderr}");

    let (_, operator_secret) = common::operator_creds(&observed.server.dir);
    let mut needles: Vec<(String, String)> = Vec::new();
    for group in ["canaries", "secrets"] {
        for (name, value) in answer[group].as_object().unwrap() {
            needles.push((name.clone(), value.as_str().unwrap().to_string()));
        }
    }
    needles.push(("tenant root secret".into(), tenant.secret.clone()));
    needles.push(("invitation code".into(), code));
    needles.push(("operator secret".into(), operator_secret));
    // The SSE-C calls were made and answered (the script checks the content came back under
    // its key, and the key's MD5 echoed): two keys sent, looked for in every form.
    let customer_keys = answer["customer_keys"].as_object().unwrap();
    assert_eq!(customer_keys.len(), 2, "{answer}");
    for (name, value) in customer_keys {
        needles.extend(customer_key_forms(name, value.as_str().unwrap()));
    }
    assert!(answer["secrets"]["sse-c key md5"].is_string(), "{answer}");
    assert!(answer["ids"]["HeadObject ok"].is_string(), "{answer}");
    for (name, value) in &needles {
        assert!(value.len() >= 16, "{name} is too short to look for: {value}");
        for form in forms(value) {
            for (what, text) in [("stdout", &stdout), ("stderr", &stderr), ("/metrics", &scrape)] {
                assert!(!text.contains(&form), "{name} (`{form}`) is in the server's {what}");
            }
        }
    }

    // Every stderr line is a JSON object; those of a request carry its id, which is an audit
    // event's requestID, as is every id a call was answered with.
    let mut logged = BTreeSet::new();
    let mut access = BTreeMap::new();
    for line in stderr.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let id = v["request_id"].as_str().or_else(|| v["span"]["request_id"].as_str());
        let Some(id) = id.map(str::to_string) else { continue };
        logged.insert(id.clone());
        if v["target"] == "hermetic::access" {
            access.insert(id, v);
        }
    }
    let audited = audited_request_ids(&observed.server);
    for id in &logged {
        assert!(audited.contains(id), "the log's request {id} is no audit event's requestID");
    }
    for (name, id) in answer["ids"].as_object().unwrap() {
        let id = id.as_str().unwrap();
        assert!(audited.contains(id), "{name}: {id} is not in the audit log");
        let line = access.get(id).unwrap_or_else(|| panic!("{name}: no access line for {id}"));
        let (operation, outcome) = name.split_once(' ').unwrap();
        assert_eq!(line["operation"], operation, "{line}");
        assert_eq!(line["outcome"], outcome, "{line}");
        assert!(line["status"].is_u64() && line["duration_ms"].is_number(), "{line}");
        assert!(line["service"].is_string(), "{line}");
    }
    let _ = std::fs::remove_dir_all(&certs);
}

/// `hermetic unseal` with `share` on its standard input: its JSON answer.
fn unseal(dir: &Path, share: &str) -> serde_json::Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["unseal", "--data-dir"])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{share}").unwrap();
    let out = child.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
}

fn next_line(lines: &mut impl BufRead) -> String {
    let mut line = String::new();
    lines.read_line(&mut line).unwrap();
    line.trim_end().to_string()
}

#[test]
fn a_sealed_node_is_not_ready_until_unsealed() {
    let dir = common::unique_dir("observe-shamir");
    let d = dir.display().to_string();
    let (ok, out, err) = common::hermetic(&[
        "init",
        "--root-of-trust",
        "shamir",
        "--shares",
        "3",
        "--threshold",
        "2",
        "--data-dir",
        d.as_str(),
        "--json",
    ]);
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let shares: Vec<String> =
        doc["Shares"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().into()).collect();
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", d.as_str()])
        .args(["--root-of-trust", "shamir"])
        .args(["--metrics-listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    assert!(next_line(&mut lines).starts_with("hermetic sealed: "));
    let m = next_line(&mut lines).strip_prefix("hermetic metrics on ").unwrap().to_string();
    let server = common::Server {
        child,
        url: String::new(),
        dir: dir.clone(),
        db_args: Vec::new(),
        blob_args: Vec::new(),
        schema: None,
    };

    // Sealed: alive, not ready, and the metrics say so.
    assert_eq!(common::http_get(&m, "/healthz").0, 200);
    let (status, _, body) = common::http_get(&m, "/readyz");
    assert_eq!((status, body.trim()), (503, "sealed"));
    let samples = parse(&common::http_get(&m, "/metrics").2);
    assert_eq!(sample(&samples, "hermetic_sealed"), 1.0);

    // Unsealed: ready once it listens.
    assert_eq!(unseal(&dir, &shares[0])["Progress"], 1);
    assert_eq!(unseal(&dir, &shares[2])["Sealed"], false);
    assert!(next_line(&mut lines).starts_with("hermetic listening on "));
    assert!(next_line(&mut lines).starts_with("operator credentials: "));
    let (status, _, body) = common::http_get(&m, "/readyz");
    assert_eq!((status, body.trim()), (200, "ready"));
    assert_eq!(sample(&parse(&common::http_get(&m, "/metrics").2), "hermetic_sealed"), 0.0);

    // Sealed again by a custodian: not ready again.
    let (ok, out, err) = common::hermetic(&["seal", "--data-dir", d.as_str()]);
    assert!(ok, "{out}{err}");
    assert!(next_line(&mut lines).starts_with("hermetic sealed: "));
    let (status, _, body) = common::http_get(&m, "/readyz");
    assert_eq!((status, body.trim()), (503, "sealed"));
    drop(server);
}

/// A node whose database stops answering (its PostgreSQL schema dropped under it, as an outage
/// of the store would look) is alive but not ready, and says why: `store`.
#[test]
fn a_node_whose_store_is_gone_is_not_ready() {
    let dir = common::unique_dir("observe-store");
    let schema = format!("t_{}", dir.file_name().unwrap().to_string_lossy().replace('-', "_"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&dir)
        .args(["--database-url", common::POSTGRES_URL, "--database-schema", &schema])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines.next().unwrap().unwrap();
    assert!(url.starts_with("hermetic listening on "), "{url}");
    assert!(lines.next().unwrap().unwrap().starts_with("operator credentials: "));
    let m =
        lines.next().unwrap().unwrap().strip_prefix("hermetic metrics on ").unwrap().to_string();
    let server = common::Server {
        child,
        url: String::new(),
        dir,
        db_args: Vec::new(),
        blob_args: Vec::new(),
        schema: Some(schema.clone()),
    };
    assert_eq!(common::http_get(&m, "/readyz").0, 200);
    common::psql(&format!("drop schema {schema} cascade"));
    let (status, _, body) = common::http_get(&m, "/readyz");
    assert_eq!((status, body.trim()), (503, "store"));
    assert_eq!(common::http_get(&m, "/healthz").0, 200);
    drop(server);
}
