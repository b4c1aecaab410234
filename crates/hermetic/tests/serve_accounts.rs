#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The operator's first session: `hermetic account invite` (no credential for the operator),
//! the tenant's `hermetic account redeem` (once, before it expires; an operator who redeems
//! first makes the tenant's redeem fail visibly), the tenant's root key working with aws-cli and
//! managed by the tenant itself, suspension and reactivation, the operator-only API, and every
//! request recorded in the audit logs (the account's first events: invited, redeemed, from
//! where) whose Merkle heads match a recomputation. Neither the code nor a secret is stored.

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

    // The operator invites: no credential in the answer, the account waits for its tenant.
    let (ok, stdout, stderr) = op(&["account", "invite", "acme", "--json"]);
    assert!(ok, "{stderr}");
    assert!(stdout.trim_start().starts_with("{\"AccountId\": "), "{stdout}");
    let invited: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let keys: Vec<&str> = invited.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["AccountId", "InviteCode"]);
    let account = invited["AccountId"].as_str().unwrap().to_string();
    let code = invited["InviteCode"].as_str().unwrap().to_string();
    assert_eq!(account.len(), 12);
    let (ok, stdout, _) = op(&["account", "list"]);
    assert!(ok && stdout.contains("INVITED"), "{stdout}");
    // The operator cannot make an invited account active in the tenant's place.
    let (ok, _, stderr) = op(&["account", "reactivate", &account]);
    assert!(!ok && stderr.contains("InvalidAccountStateException"), "{stderr}");

    // A wrong code (the right account, a guessed secret) is refused.
    let guessed =
        format!("{}{}", &code[..code.len() - 1], if code.ends_with('A') { 'B' } else { 'A' });
    let err = common::redeem(&endpoint, &guessed, &[]).unwrap_err();
    assert!(err.contains("InvalidInvitationException"), "{err}");

    // The tenant redeems, with no operator credential.
    let created = common::redeem(&endpoint, &code, &[]).unwrap();
    let keys: Vec<&str> = created.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["AccessKeyId", "AccountId", "SecretAccessKey"]);
    assert_eq!(created["AccountId"], account.as_str());
    let key = created["AccessKeyId"].as_str().unwrap().to_string();
    let secret = created["SecretAccessKey"].as_str().unwrap().to_string();
    // Once.
    let err = common::redeem(&endpoint, &code, &[]).unwrap_err();
    assert!(err.contains("InvitationAlreadyRedeemedException"), "{err}");

    // The tenant's root key works with aws-cli.
    let (ok, stdout, stderr) = aws(&endpoint, &key, &secret, &["sts", "get-caller-identity"]);
    assert!(ok, "{stderr}");
    let me: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(me["Account"], account.as_str());
    assert_eq!(me["Arn"], format!("arn:aws:iam::{account}:root"));

    // An operator who redeems a code itself gets an account its tenant never uses, and the
    // tenant's own redeem fails visibly.
    let (_, stolen) = common::invite(&endpoint, &data_dir, "globex", &[]);
    assert!(common::redeem(&endpoint, &stolen, &[]).is_ok());
    let err = common::redeem(&endpoint, &stolen, &[]).unwrap_err();
    assert!(err.contains("InvitationAlreadyRedeemedException") && err.contains("not you"), "{err}");
    // An expired code is refused.
    let (_, late) = common::invite(&endpoint, &data_dir, "initech", &["--expires-in", "1s"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let err = common::redeem(&endpoint, &late, &[]).unwrap_err();
    assert!(err.contains("ExpiredInvitationException"), "{err}");

    // Names are unique; the operator API is the operator's alone.
    let (ok, _, stderr) = op(&["account", "invite", "acme"]);
    assert!(!ok);
    assert!(stderr.contains("DuplicateAccountException"), "{stderr}");
    let (ok, stdout, _) = op(&["account", "list"]);
    assert!(ok);
    assert!(stdout.contains(&account), "{stdout}");

    // The root user manages its own access keys, as in AWS: at most two.
    let root = |args: &[&str]| aws(&endpoint, &key, &secret, args);
    let (ok, out, err) = root(&["iam", "create-access-key"]);
    assert!(ok, "{err}");
    let second: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (key2, secret2) = (
        second["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string(),
        second["AccessKey"]["SecretAccessKey"].as_str().unwrap().to_string(),
    );
    assert!(second["AccessKey"].get("UserName").is_none(), "{out}");
    let (ok, _, err) = root(&["iam", "create-access-key"]);
    assert!(!ok && err.contains("LimitExceeded"), "{err}");
    let (ok, out, _) = root(&["iam", "list-access-keys"]);
    assert!(ok && out.contains(&key) && out.contains(&key2), "{out}");
    let (ok, _, err) = aws(
        &endpoint,
        &key2,
        &secret2,
        &["iam", "update-access-key", "--access-key-id", &key2, "--status", "Inactive"],
    );
    assert!(ok, "{err}");
    assert!(!aws(&endpoint, &key2, &secret2, &["sts", "get-caller-identity"]).0);
    let (ok, _, err) = root(&["iam", "delete-access-key", "--access-key-id", &key2]);
    assert!(ok, "{err}");
    let (ok, out, _) = root(&["iam", "list-access-keys"]);
    assert!(ok && out.contains(&key) && !out.contains(&key2), "{out}");
    // A user's key is not the root user's to name without the user.
    let (ok, _, err) = root(&["iam", "create-user", "--user-name", "u"]);
    assert!(ok, "{err}");
    let (user_key, _) = common::create_user_key(&endpoint, &key, &secret, "u");
    let (ok, _, err) = root(&["iam", "delete-access-key", "--access-key-id", &user_key]);
    assert!(!ok && err.contains("NoSuchEntity"), "{err}");

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

    // Every request is in the audit logs; no secret or code reached the database; heads verify.
    check_audit_and_stop(server, &account, &secret, &code);
}

fn check_audit_and_stop(server: common::Server, account: &str, secret: &str, code: &str) {
    if server.schema.is_none() {
        let bytes = std::fs::read(server.dir.join("hermetic.db")).unwrap();
        let wal = std::fs::read(server.dir.join("hermetic.db-wal")).unwrap_or_default();
        for (what, text) in [("a secret", secret), ("the invitation code", code)] {
            let found = |b: &[u8]| b.windows(text.len()).any(|w| w == text.as_bytes());
            assert!(!found(&bytes) && !found(&wal), "{what} reached the database");
        }
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
        let out = std::process::Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-At", "-c"])
            .arg(format!("select count(*) from {schema}.records where body::text like '%{code}%'"))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "0",
            "the code reached the database"
        );
    }
    let store = common::open_store(&server);
    let mut tx = store.read().unwrap();
    // Tenant: invite, the refused reactivate, the guessed and the good redeem, the second
    // redeem, 3 GetCallerIdentity (one refused), its key operations, suspend, reactivate, the
    // denied call. Operator: invites, the duplicate, lists, suspend, reactivate.
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
        assert!(names.iter().any(|n| n == "InviteAccount"), "{log}: {names:?}");
        if log == account {
            // The account's first events: invited, then redeemed (after a guess), from where.
            let first: Vec<_> = events[..4]
                .iter()
                .map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).unwrap())
                .collect();
            let outcome: Vec<(&str, Option<&str>)> =
                first.iter().map(|e| (e.event_name.as_str(), e.error_code.as_deref())).collect();
            assert_eq!(
                outcome[..3],
                [
                    ("InviteAccount", None),
                    ("ReactivateAccount", Some("InvalidAccountStateException")),
                    ("RedeemInvitation", Some("InvalidInvitationException")),
                ],
                "{outcome:?}"
            );
            assert_eq!(outcome[3], ("RedeemInvitation", None));
            assert_eq!(first[3].source_ip_address, "127.0.0.1");
            assert!(!format!("{:?}", first[3]).contains(secret), "the secret is not in the event");
            assert!(names.iter().filter(|n| *n == "GetCallerIdentity").count() >= 3, "{names:?}");
            let failed = events
                .iter()
                .map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).unwrap())
                .filter(|e| e.error_code.as_deref() == Some("InvalidClientTokenId"))
                .count();
            assert_eq!(failed, 2, "the refused calls while suspended and with the inactive key");
        }
    }
}
