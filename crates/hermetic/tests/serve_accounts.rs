#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The operator's first session: `hermetic account create`, the tenant's root key working with
//! aws-cli, suspension and reactivation, the operator-only API, and every request recorded in
//! the audit logs whose Merkle heads match a recomputation.

mod common;

use common::{aws, hermetic, start_on, Backend};

#[test]
fn account_lifecycle_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn account_lifecycle_on_postgres() {
    scenario(Backend::Postgres);
}

fn scenario(backend: Backend) {
    let server = start_on("accounts", backend, &[]);
    let endpoint = server.url.clone();
    let data_dir = server.dir.display().to_string();
    let op = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--endpoint", &endpoint, "--data-dir", &data_dir]);
        hermetic(&all)
    };

    let (ok, stdout, stderr) = op(&["account", "create", "acme", "--json"]);
    assert!(ok, "{stderr}");
    assert!(stdout.trim_start().starts_with("{\"AccountId\": "), "{stdout}");
    let created: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let keys: Vec<&str> = created.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 3);
    let account = created["AccountId"].as_str().unwrap().to_string();
    let key = created["AccessKeyId"].as_str().unwrap().to_string();
    let secret = created["SecretAccessKey"].as_str().unwrap().to_string();
    assert_eq!(account.len(), 12);

    // The tenant's root key works with aws-cli.
    let (ok, stdout, stderr) = aws(&endpoint, &key, &secret, &["sts", "get-caller-identity"]);
    assert!(ok, "{stderr}");
    let me: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(me["Account"], account.as_str());
    assert_eq!(me["Arn"], format!("arn:aws:iam::{account}:root"));

    // Names are unique; the operator API is the operator's alone.
    let (ok, _, stderr) = op(&["account", "create", "acme"]);
    assert!(!ok);
    assert!(stderr.contains("DuplicateAccountException"), "{stderr}");
    let (ok, stdout, _) = op(&["account", "list"]);
    assert!(ok);
    assert!(stdout.contains(&account), "{stdout}");

    // Suspended: the credentials stop working; reactivated: they work again.
    assert!(op(&["account", "suspend", &account]).0);
    let (ok, _, stderr) = aws(&endpoint, &key, &secret, &["sts", "get-caller-identity"]);
    assert!(!ok);
    assert!(stderr.contains("InvalidClientTokenId"), "{stderr}");
    assert!(op(&["account", "reactivate", &account]).0);
    assert!(aws(&endpoint, &key, &secret, &["sts", "get-caller-identity"]).0);

    // A tenant calling the operator API is denied (signed with the tenant's key via boto3).
    let script = format!(
        "import boto3, botocore\n\
         from botocore.auth import SigV4Auth\n\
         from botocore.awsrequest import AWSRequest\n\
         from botocore.credentials import Credentials\n\
         import urllib.request\n\
         req = AWSRequest(method='POST', url='{endpoint}/', data=b'{{}}', headers={{'X-Amz-Target': 'HermeticOperator.ListAccounts', 'Content-Type': 'application/x-amz-json-1.1'}})\n\
         SigV4Auth(Credentials('{key}', '{secret}'), 'hermetic', 'us-east-1').add_auth(req)\n\
         r = urllib.request.Request(req.url, data=req.body, headers=dict(req.headers.items()), method='POST')\n\
         try:\n    urllib.request.urlopen(r)\n    print('allowed')\n\
         except urllib.error.HTTPError as e:\n    print(e.code, e.read().decode())\n"
    );
    let out = std::process::Command::new(common::python()).arg("-c").arg(script).output().unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.starts_with("403") && printed.contains("AccessDenied"),
        "{printed} {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Every request is in the audit logs; no secret reached the database; heads verify.
    check_audit_and_stop(server, &account, &secret);
}

fn check_audit_and_stop(server: common::Server, account: &str, secret: &str) {
    if server.schema.is_none() {
        let bytes = std::fs::read(server.dir.join("hermetic.db")).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "a secret reached the database"
        );
    } else {
        let schema = server.schema.clone().unwrap();
        let out = std::process::Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-At", "-c"])
            .arg(format!("select count(*) from {schema}.access_keys where position(convert_to('{secret}', 'UTF8') in secret_wrapped) > 0"))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "0",
            "a secret reached the database"
        );
    }
    let store = common::open_store(&server);
    let mut tx = store.read().unwrap();
    // Tenant: create, 3 GetCallerIdentity (one refused), suspend, reactivate, the denied call.
    // Operator: create, the duplicate create, list, suspend, reactivate.
    for (log, at_least) in [(account, 7u64), ("000000000000", 5)] {
        let head = tx.audit_head(log).unwrap();
        assert!(head.size >= at_least, "{log}: {} events", head.size);
        let events = tx.audit_events(log, 0..head.size).unwrap();
        let leaves: Vec<_> = events.iter().map(|e| audit::merkle::leaf_hash(&e.event)).collect();
        assert_eq!(audit::merkle::root(&leaves), head.root, "{log}: stored head matches");
        let names: Vec<String> = events
            .iter()
            .map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).unwrap().event_name)
            .collect();
        assert!(names.iter().any(|n| n == "CreateAccount"), "{log}: {names:?}");
        if log == account {
            assert!(names.iter().filter(|n| *n == "GetCallerIdentity").count() >= 3, "{names:?}");
            let failed = events
                .iter()
                .map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).unwrap())
                .filter(|e| e.error_code.as_deref() == Some("InvalidClientTokenId"))
                .count();
            assert_eq!(failed, 1, "the refused call while suspended is recorded");
        }
    }
}
