#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Issue 16's attacks, tried as an operator (or a former holder of credentials) would, on both
//! stores: each must be refused or detected.
//!
//! - Stale credentials (`scripts/stale_credentials.py`): a role session after its role was
//!   deleted and made again under the same name, and its presigned URL; long-term keys sent
//!   with a session token.
//! - Files: everything the server wrote in the data directory (database, WAL, keys, operator
//!   credentials, checkpoints, sealed blobs) is readable by the server's user only.
//! - A moved credential: the operator redeems an invitation of its own (an account it controls)
//!   and, with write access to the database, moves that account's root key row into a tenant's
//!   account. The key no longer opens where it stands: refused (InternalFailure), an alarm in
//!   the tenant's log, never the tenant's root.
//! - An edited invitation: before the tenant redeems, the operator writes into the invited
//!   account's invitation the hash of a code it chose. The invitation is sealed for its account
//!   by the root of trust: the operator's code is refused (InternalFailure, an alarm in the
//!   account's log), and so is the tenant's, visibly.
//! - Edited records: with write access to the database, the operator edits a tenant's inline
//!   policy, role (trust policy), KMS key (key policy), alias, bucket (bucket policy), an access
//!   key's status, the account row, and copies a tenant's user into its own account. Every row
//!   carries a MAC under a key the root of trust holds: each edited row is refused
//!   (InternalFailure, an alarm in the affected account's log), never acted upon.
//! - A planted lifecycle rule: the operator writes an expiration rule into a tenant's bucket
//!   row (lifecycle rules live in the bucket's record), hoping S3's own lifecycle pass deletes
//!   the tenant's objects for it. The row is refused like any edited row: the pass deletes
//!   nothing, and once the row is as it was the object is there and the bucket has no rules.
//! - Reading the database: an object's user metadata and the audit events' request and
//!   response parameters are sealed under the account's key; a dump of the whole database
//!   (and SQLite's files, WAL included) holds neither, while the tenant reads both back.
//! - The blob store (issue 20): with the S3 bucket's own credentials the operator reads every
//!   blob (ciphertext under account ids and UUIDs, no metadata, no names), swaps two blobs of
//!   an account and puts another account's blob in place, flips a byte, truncates, deletes and
//!   plants blobs (`scripts/blob_operator.py`). Each is a failed read, never another object's
//!   data or a wrong byte; a range in an untouched segment still reads; a deleted blob's object
//!   still answers HEAD; a planted blob is never listed. The audit trail is untouched.

mod common;

use common::{start_on, Backend};

fn stale_credentials(backend: Backend) {
    let server = start_on("stale-creds", backend, &[]);
    let t = common::create_tenant(&server, "acme");
    let out =
        common::run_script("stale_credentials", &[&server.url, &t.account, &t.key, &t.secret]);
    assert!(out.trim_end().ends_with("ok"), "{out}");
}

#[test]
fn stale_credentials_are_refused_on_sqlite() {
    stale_credentials(Backend::Sqlite);
}

#[test]
fn stale_credentials_are_refused_on_postgres() {
    stale_credentials(Backend::Postgres);
}

/// Every file under `dir` is 0600 and every directory 0700; returns how many files there are.
#[cfg(unix)]
fn assert_private(dir: &std::path::Path) -> usize {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(dir).unwrap();
    let mode = meta.permissions().mode() & 0o777;
    if meta.is_dir() {
        assert_eq!(mode, 0o700, "{}", dir.display());
        std::fs::read_dir(dir).unwrap().map(|e| assert_private(&e.unwrap().path())).sum()
    } else {
        assert_eq!(mode, 0o600, "{}", dir.display());
        1
    }
}

#[cfg(unix)]
#[test]
fn every_file_in_the_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = start_on("private-files", Backend::Sqlite, &[]);
    let t = common::create_tenant(&server, "acme");
    let body = server.dir.join("object.bin");
    std::fs::write(&body, vec![7u8; 3 << 20]).unwrap();
    let body_path = body.display().to_string();
    for args in [
        vec!["s3api", "create-bucket", "--bucket", "private-files"],
        vec![
            "s3api",
            "put-object",
            "--bucket",
            "private-files",
            "--key",
            "big",
            "--body",
            &body_path,
        ],
    ] {
        let (ok, _, err) = common::aws(&server.url, &t.key, &t.secret, &args);
        assert!(ok, "{err}");
    }
    std::fs::remove_file(&body).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500)); // a checkpoint is written
    let files = assert_private(&server.dir);
    assert!(files >= 5, "{files} files");
    // The development root key is not in the data directory: a copy of the directory does not
    // open its secrets. It is beside it, private too.
    assert!(!server.dir.join("root.key").exists());
    let key_file = server::bootstrap::root_key_path(&server.dir, None);
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600,
        "{}",
        key_file.display()
    );
    assert!(server.dir.join("blobs").join(&t.account).is_dir());

    // A data directory an earlier version left readable is made private at start.
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    let db = server.dir.join("hermetic.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&server.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (child, _, _) = common::start_in(&server.dir);
    server.child = child;
    assert_private(&server.dir);
}

/// Runs one SQL statement on the server's database (SQLite through Python, or PostgreSQL).
fn moved_credential(backend: Backend) {
    let server = start_on("moved-key", backend, &[]);
    let tenant = common::create_tenant(&server, "acme");
    // The operator's own account, from an invitation it redeemed itself.
    let own = common::create_tenant(&server, "evil");
    let (ok, _, err) =
        common::aws(&server.url, &own.key, &own.secret, &["sts", "get-caller-identity"]);
    assert!(ok, "{err}");
    common::edit_database(
        &server,
        &format!(
            "update access_keys set account = '{a}', owner_key = '{a}' where access_key_id = '{k}'",
            a = tenant.account,
            k = own.key
        ),
    );
    let (ok, out, err) =
        common::aws(&server.url, &own.key, &own.secret, &["s3api", "list-buckets"]);
    assert!(!ok, "the moved key acted in the tenant's account: {out}");
    assert!(err.contains("InternalFailure"), "{err}");
    let (ok, out, err) =
        common::aws(&server.url, &own.key, &own.secret, &["sts", "get-caller-identity"]);
    assert!(!ok && !out.contains(&tenant.account), "{out}{err}");
    // The tenant's log has the alarm; the tenant's own key still works.
    let store = common::open_store(&server);
    let mut tx = store.read().unwrap();
    let size = tx.audit_head(&tenant.account).unwrap().size;
    let alarms = tx
        .audit_events(&tenant.account, 0..size)
        .unwrap()
        .iter()
        .map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).unwrap())
        .filter(|e| {
            e.error_code.as_deref() == Some("InternalFailure")
                && e.user_identity.access_key_id.as_deref() == Some(own.key.as_str())
        })
        .count();
    assert!(alarms >= 2, "{alarms} alarm events in the tenant's log");
    let (ok, _, err) =
        common::aws(&server.url, &tenant.key, &tenant.secret, &["sts", "get-caller-identity"]);
    assert!(ok, "{err}");
}

#[test]
fn a_moved_access_key_is_refused_on_sqlite() {
    moved_credential(Backend::Sqlite);
}

#[test]
fn a_moved_access_key_is_refused_on_postgres() {
    moved_credential(Backend::Postgres);
}

fn edited_invitation(backend: Backend) {
    let server = start_on("edited-invite", backend, &[]);
    let data_dir = server.dir.display().to_string();
    let (account, tenant_code) = common::invite(&server.url, &data_dir, "acme", &[]);
    // A code of the operator's choosing for the same account, and its hash.
    let chosen = format!("HINV-{account}-{}", "A".repeat(40));
    let out = std::process::Command::new(common::python())
        .args([
            "-c",
            "import hashlib, sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())",
        ])
        .arg(&chosen)
        .output()
        .unwrap();
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let set = match backend {
        Backend::Sqlite => format!("json_set(body, '$.CodeSha256', '{hash}')"),
        Backend::Postgres | Backend::PostgresS3 => {
            format!("jsonb_set(body::jsonb, '{{CodeSha256}}', '\"{hash}\"')::text")
        }
    };
    common::edit_database(
        &server,
        &format!(
            "update records set body = {set} where account = '{account}' and kind = 'invitation'"
        ),
    );
    let err = common::redeem(&server.url, &chosen, &[]).unwrap_err();
    assert!(err.contains("InternalFailure"), "the operator's code: {err}");
    let err = common::redeem(&server.url, &tenant_code, &[]).unwrap_err();
    assert!(err.contains("InternalFailure"), "the tenant sees it fail: {err}");
    let store = common::open_store(&server);
    let mut tx = store.read().unwrap();
    assert_eq!(tx.get_account(&account).unwrap().unwrap().status, store::AccountStatus::Invited);
    let size = tx.audit_head(&account).unwrap().size;
    let alarms = tx
        .audit_events(&account, 0..size)
        .unwrap()
        .iter()
        .map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).unwrap())
        .filter(|e| {
            e.event_name == "RedeemInvitation" && e.error_code.as_deref() == Some("InternalFailure")
        })
        .count();
    assert_eq!(alarms, 2, "both attempts are in the account's log");
}

#[test]
fn an_edited_invitation_is_refused_on_sqlite() {
    edited_invitation(Backend::Sqlite);
}

#[test]
fn an_edited_invitation_is_refused_on_postgres() {
    edited_invitation(Backend::Postgres);
}

/// The error a tenant's call ends with, asserting it failed with InternalFailure.
fn refused(server: &common::Server, who: &common::Tenant, args: &[&str]) {
    let (ok, out, err) = common::aws(&server.url, &who.key, &who.secret, args);
    assert!(!ok, "{args:?} acted on an edited row: {out}");
    assert!(err.contains("InternalFailure"), "{args:?}: {err}");
}

/// A user of `tenant` with one inline policy and an access key, as a caller.
fn user_with_policy(
    server: &common::Server,
    tenant: &common::Tenant,
    user: &str,
    policy_name: &str,
    policy: &str,
) -> common::Tenant {
    for args in [
        &["iam", "create-user", "--user-name", user][..],
        &[
            "iam",
            "put-user-policy",
            "--user-name",
            user,
            "--policy-name",
            policy_name,
            "--policy-document",
            policy,
        ],
    ] {
        let (ok, _, err) = common::aws(&server.url, &tenant.key, &tenant.secret, args);
        assert!(ok, "{args:?}: {err}");
    }
    let (key, secret) = common::create_user_key(&server.url, &tenant.key, &tenant.secret, user);
    common::Tenant { account: tenant.account.clone(), key, secret }
}

fn edited_records(backend: Backend) {
    let server = start_on("edited-records", backend, &[]);
    let tenant = common::create_tenant(&server, "acme");
    let evil = common::create_tenant(&server, "evil");
    let a = tenant.account.as_str();
    let run = |args: &[&str]| -> String {
        let (ok, out, err) = common::aws(&server.url, &tenant.key, &tenant.secret, args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let deny =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{a}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let alice = user_with_policy(&server, &tenant, "alice", "deny", deny);
    run(&["iam", "create-role", "--role-name", "ops", "--assume-role-policy-document", &trust]);
    let key: serde_json::Value = serde_json::from_str(&run(&["kms", "create-key"])).unwrap();
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    run(&["kms", "create-alias", "--alias-name", "alias/main", "--target-key-id", &key_id]);
    let bucket = format!("acme-{a}");
    run(&["s3api", "create-bucket", "--bucket", &bucket]);
    let bucket_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::{bucket}"}}]}}"#
    );
    run(&["s3api", "put-bucket-policy", "--bucket", &bucket, "--policy", &bucket_policy]);
    run(&[
        "iam",
        "update-access-key",
        "--user-name",
        "alice",
        "--access-key-id",
        &alice.key,
        "--status",
        "Inactive",
    ]);

    // A deactivated key set active again.
    common::edit_database(
        &server,
        &format!("update access_keys set status = 'active' where access_key_id = '{}'", alice.key),
    );
    refused(&server, &alice, &["sts", "get-caller-identity"]);
    // The inline Deny turned into an Allow.
    common::edit_database(&server, &format!("update records set body = replace(body, 'Deny', 'Allow') where account = '{a}' and kind = 'user_policy'"));
    refused(
        &server,
        &tenant,
        &["iam", "get-user-policy", "--user-name", "alice", "--policy-name", "deny"],
    );
    // A trust policy opened to another account.
    common::edit_database(&server, &format!("update records set body = replace(body, ':{a}:root', ':{}:root') where account = '{a}' and kind = 'role'", evil.account));
    refused(&server, &tenant, &["iam", "get-role", "--role-name", "ops"]);
    refused(
        &server,
        &evil,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &format!("arn:aws:iam::{a}:role/ops"),
            "--role-session-name",
            "evil",
        ],
    );
    // A key policy (in the KMS key's record) edited.
    common::edit_database(&server, &format!("update records set body = replace(body, ':{a}:root', ':{}:root') where account = '{a}' and kind = 'kms_key'", evil.account));
    refused(&server, &tenant, &["kms", "describe-key", "--key-id", &key_id]);
    // An alias pointed elsewhere.
    common::edit_database(&server, &format!("update records set body = replace(body, '{key_id}', '00000000-0000-0000-0000-000000000000') where account = '{a}' and kind = 'kms_alias'"));
    refused(&server, &tenant, &["kms", "list-aliases"]);
    // The bucket policy's Deny removed (it lives in the bucket's record).
    common::edit_database(&server, &format!("update records set body = replace(body, 'Deny', 'Allow') where account = '{a}' and kind = 's3_bucket'"));
    refused(&server, &tenant, &["s3api", "get-bucket-policy", "--bucket", &bucket]);
    // The tenant's user copied into the operator's own account, MAC and all.
    common::edit_database(
        &server,
        &format!(
            "insert into records (account, kind, key, format_version, body, updated_at, mac) \
         select '{}', kind, key, format_version, body, updated_at, mac from records \
         where account = '{a}' and kind = 'user' and key = 'alice'",
            evil.account
        ),
    );
    refused(&server, &evil, &["iam", "get-user", "--user-name", "alice"]);
    // A trail's logging switched off (and its delivery bucket redirected) in its row.
    let logs = format!("acme-logs-{a}");
    run(&["s3api", "create-bucket", "--bucket", &logs]);
    let logs_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::{logs}"}},{{"Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::{logs}/AWSLogs/{a}/*"}}]}}"#
    );
    run(&["s3api", "put-bucket-policy", "--bucket", &logs, "--policy", &logs_policy]);
    run(&["cloudtrail", "create-trail", "--name", "main", "--s3-bucket-name", &logs]);
    run(&["cloudtrail", "start-logging", "--name", "main"]);
    common::edit_database(&server, &format!("update records set body = replace(replace(body, '\"IsLogging\":true', '\"IsLogging\":false'), '{logs}', 'evil-bucket') where account = '{a}' and kind = 'trail'"));
    refused(&server, &tenant, &["cloudtrail", "get-trail-status", "--name", "main"]);
    // The account row itself.
    common::edit_database(
        &server,
        &format!("update accounts set name = 'renamed' where id = '{a}'"),
    );
    refused(&server, &tenant, &["sts", "get-caller-identity"]);

    // Every refusal in the tenant's account is in the tenant's log.
    let store = common::open_store(&server);
    let mut tx = store.read().unwrap();
    let size = tx.audit_head(a).unwrap().size;
    let alarms = tx
        .audit_events(a, 0..size)
        .unwrap()
        .iter()
        .map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).unwrap())
        .filter(|e| e.error_code.as_deref() == Some("InternalFailure"))
        .count();
    assert!(alarms >= 8, "{alarms} alarm events in the tenant's log");
}

#[test]
fn edited_records_are_refused_on_sqlite() {
    edited_records(Backend::Sqlite);
}

#[test]
fn edited_records_are_refused_on_postgres() {
    edited_records(Backend::Postgres);
}

fn planted_lifecycle_rule(backend: Backend) {
    // A lifecycle day of a second, a pass every second: a rule that acted would act at once.
    let flags = ["--lifecycle-day-secs", "1", "--lifecycle-interval-secs", "1"];
    let server = start_on("planted-lifecycle", backend, &flags);
    let tenant = common::create_tenant(&server, "acme");
    let a = tenant.account.as_str();
    let run = |args: &[&str]| -> String {
        let (ok, out, err) = common::aws(&server.url, &tenant.key, &tenant.secret, args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let bucket = format!("acme-kept-{a}");
    run(&["s3api", "create-bucket", "--bucket", &bucket]);
    run(&["s3api", "put-object", "--bucket", &bucket, "--key", "doomed"]);
    // Every object expires a day after its write, if the server took the rule.
    let rule = r#""Lifecycle":{"Rules":[{"ID":"planted","Status":"Enabled","Filter":{},"Expiration":{"Days":1}}]},"#;
    common::edit_database(
        &server,
        &format!("update records set body = replace(body, '\"Region\":', '{rule}\"Region\":') where account = '{a}' and kind = 's3_bucket'"),
    );
    // Several passes run over the planted rule.
    std::thread::sleep(std::time::Duration::from_secs(4));
    refused(
        &server,
        &tenant,
        &["s3api", "get-bucket-lifecycle-configuration", "--bucket", &bucket],
    );
    // The row as it was: it reads again, the object was not deleted, and there are no rules.
    common::edit_database(
        &server,
        &format!("update records set body = replace(body, '{rule}', '') where account = '{a}' and kind = 's3_bucket'"),
    );
    run(&["s3api", "head-object", "--bucket", &bucket, "--key", "doomed"]);
    let (ok, _, err) = common::aws(
        &server.url,
        &tenant.key,
        &tenant.secret,
        &["s3api", "get-bucket-lifecycle-configuration", "--bucket", &bucket],
    );
    assert!(!ok && err.contains("NoSuchLifecycleConfiguration"), "{err}");
    // S3 acted on nothing: no lifecycle event in the tenant's log.
    let store = common::open_store(&server);
    let mut tx = store.read().unwrap();
    let size = tx.audit_head(a).unwrap().size;
    let acted = tx
        .audit_events(a, 0..size)
        .unwrap()
        .iter()
        .map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).unwrap())
        .filter(|e| e.event_name.starts_with("S3Lifecycle"))
        .count();
    assert_eq!(acted, 0);
}

#[test]
fn a_planted_lifecycle_rule_is_refused_on_sqlite() {
    planted_lifecycle_rule(Backend::Sqlite);
}

#[test]
fn a_planted_lifecycle_rule_is_refused_on_postgres() {
    planted_lifecycle_rule(Backend::Postgres);
}

/// Everything the database holds, as the operator could read it: SQLite's files (WAL included)
/// or a dump of the PostgreSQL schema, with bytea columns also searched as hex.
fn database_bytes(server: &common::Server) -> Vec<u8> {
    match &server.schema {
        Some(schema) => {
            let out = std::process::Command::new("pg_dump")
                .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-n", schema])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        }
        None => {
            let mut all = Vec::new();
            for name in ["hermetic.db", "hermetic.db-wal"] {
                all.extend(std::fs::read(server.dir.join(name)).unwrap_or_default());
            }
            all
        }
    }
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
    [needle.as_bytes(), hex.as_bytes()].iter().any(|n| haystack.windows(n.len()).any(|w| w == *n))
}

fn sealed_metadata(backend: Backend) {
    let server = start_on("sealed-metadata", backend, &[]);
    let tenant = common::create_tenant(&server, "acme");
    let run = |args: &[&str]| -> String {
        let (ok, out, err) = common::aws(&server.url, &tenant.key, &tenant.secret, args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let bucket = format!("meta-{}", tenant.account);
    run(&["s3api", "create-bucket", "--bucket", &bucket]);
    let body = server.dir.with_extension("body");
    std::fs::write(&body, b"hello").unwrap();
    let body_arg = body.display().to_string();
    run(&[
        "s3api",
        "put-object",
        "--bucket",
        &bucket,
        "--key",
        "a",
        "--body",
        &body_arg,
        "--metadata",
        "note=CANARYMETA1",
    ]);
    run(&[
        "s3api",
        "create-multipart-upload",
        "--bucket",
        &bucket,
        "--key",
        "m",
        "--metadata",
        "note=CANARYMETA2",
    ]);
    run(&[
        "s3api",
        "copy-object",
        "--bucket",
        &bucket,
        "--key",
        "c",
        "--copy-source",
        &format!("{bucket}/a"),
    ]);
    let key_id = run(&["kms", "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"]);
    run(&[
        "kms",
        "encrypt",
        "--key-id",
        key_id.trim(),
        "--plaintext",
        "aGVsbG8=",
        "--encryption-context",
        "purpose=CANARYCTX",
    ]);
    // An SSE-KMS object of content the operator knows (and an SSE-S3 one, the positive control).
    let put = |key: &str, content: &[u8], sse: &[&str]| -> String {
        std::fs::write(&body, content).unwrap();
        let mut args = vec!["s3api", "put-object", "--bucket", &bucket, "--key", key];
        args.extend_from_slice(&["--body", &body_arg]);
        args.extend_from_slice(sse);
        let out: serde_json::Value = serde_json::from_str(&run(&args)).unwrap();
        out["ETag"].as_str().unwrap().trim_matches('"').to_string()
    };
    let kms_etag =
        put("kms", b"a file the operator also has", &["--server-side-encryption", "aws:kms"]);
    let s3_etag = put("s3", b"a control file", &[]);
    std::fs::remove_file(&body).unwrap();
    // The MD5s of those bytes, as the operator would compute them for files it has.
    let (known_md5, control_md5) =
        ("353f1bea2bd29a269527271593ed07b8", "aa5130379d11c3e38bcd2c5440b7ac28");
    assert_eq!(s3_etag, control_md5, "SSE-S3's ETag is the MD5, as in S3");
    assert_ne!(kms_etag, known_md5, "SSE-KMS's ETag is not");

    // The tenant reads all of it back.
    assert!(
        run(&["s3api", "head-object", "--bucket", &bucket, "--key", "a"]).contains("CANARYMETA1")
    );
    assert!(
        run(&["s3api", "head-object", "--bucket", &bucket, "--key", "c"]).contains("CANARYMETA1")
    );
    let events = run(&[
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=Encrypt",
    ]);
    assert!(events.contains("CANARYCTX"), "{events}");

    // The database holds none of it.
    let _ = common::aws(&server.url, &tenant.key, &tenant.secret, &["sts", "get-caller-identity"]);
    let bytes = database_bytes(&server);
    for canary in ["CANARYMETA1", "CANARYMETA2", "CANARYCTX"] {
        assert!(!holds(&bytes, canary), "{canary} is in the database in the clear");
    }
    // Nor the MD5 of the SSE-KMS object's bytes (its keyed ETag is there instead). The checks
    // can fail: the SSE-S3 object's MD5 is found, as is the bucket name, which stays visible.
    assert!(!holds(&bytes, known_md5), "the SSE-KMS object's MD5 is in the database");
    assert!(holds(&bytes, &kms_etag));
    assert!(holds(&bytes, control_md5));
    assert!(holds(&bytes, &bucket));
}

#[test]
fn metadata_and_audit_parameters_are_sealed_on_sqlite() {
    sealed_metadata(Backend::Sqlite);
}

#[test]
fn metadata_and_audit_parameters_are_sealed_on_postgres() {
    sealed_metadata(Backend::Postgres);
}

/// Puts the rows `filter` selects back as the operator's copy `old_records` has them.
fn put_back(server: &common::Server, filter: &str) {
    common::edit_database(server, &format!("delete from records where {filter}"));
    common::edit_database(
        server,
        &format!("insert into records select * from old_records where {filter}"),
    );
}

fn rolled_back_records(backend: Backend) {
    let server = start_on("rolled-back", backend, &[]);
    let tenant = common::create_tenant(&server, "acme");
    let evil = common::create_tenant(&server, "evil");
    let (a, e) = (tenant.account.as_str(), evil.account.as_str());
    let run = |args: &[&str]| -> String {
        let (ok, out, err) = common::aws(&server.url, &tenant.key, &tenant.secret, args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let deny =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
    let allow =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let trust = |who: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{who}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        )
    };
    let key_policy = |who: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{who}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
        )
    };
    // Once, the tenant trusted the other account with a role and a key, and alice could do
    // anything with an active key.
    let alice = user_with_policy(&server, &tenant, "alice", "all", allow);
    run(&["iam", "create-group", "--group-name", "frozen"]);
    run(&[
        "iam",
        "put-group-policy",
        "--group-name",
        "frozen",
        "--policy-name",
        "deny",
        "--policy-document",
        deny,
    ]);
    let trust_both = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{a}:root","arn:aws:iam::{e}:root"]}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let key_policy_both = trust_both.replace("sts:AssumeRole\"", "kms:*\",\"Resource\":\"*\"");
    run(&[
        "iam",
        "create-role",
        "--role-name",
        "ops",
        "--assume-role-policy-document",
        &trust_both,
    ]);
    run(&[
        "iam",
        "put-role-policy",
        "--role-name",
        "ops",
        "--policy-name",
        "all",
        "--policy-document",
        allow,
    ]);
    let key: serde_json::Value =
        serde_json::from_str(&run(&["kms", "create-key", "--policy", &key_policy_both])).unwrap();
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let evil_can = |args: &[&str]| common::aws(&server.url, &evil.key, &evil.secret, args).0;
    let assume = [
        "sts",
        "assume-role",
        "--role-arn",
        &format!("arn:aws:iam::{a}:role/ops"),
        "--role-session-name",
        "evil",
    ];
    let describe =
        ["kms", "describe-key", "--key-id", &format!("arn:aws:kms:us-east-1:{a}:key/{key_id}")];
    // A second key the other account may use through a grant, and a bucket without a policy.
    let granted: serde_json::Value = serde_json::from_str(&run(&["kms", "create-key"])).unwrap();
    let granted_id = granted["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let grant: serde_json::Value = serde_json::from_str(&run(&[
        "kms",
        "create-grant",
        "--key-id",
        &granted_id,
        "--grantee-principal",
        &format!("arn:aws:iam::{e}:root"),
        "--operations",
        "DescribeKey",
    ]))
    .unwrap();
    let grant_id = grant["GrantId"].as_str().unwrap().to_string();
    let describe_granted =
        ["kms", "describe-key", "--key-id", &format!("arn:aws:kms:us-east-1:{a}:key/{granted_id}")];
    let bucket = format!("rolled-{a}");
    run(&["s3api", "create-bucket", "--bucket", &bucket]);
    assert!(evil_can(&assume));
    assert!(evil_can(&describe));
    assert!(evil_can(&describe_granted));
    assert!(common::aws(&server.url, &alice.key, &alice.secret, &["iam", "list-users"]).0);

    // The operator keeps a copy of the database as it is now.
    common::edit_database(&server, "create table old_records as select * from records");
    common::edit_database(&server, "create table old_keys as select * from access_keys");

    // The tenant takes it all back: the role trusts only itself, the key policy names only
    // the tenant, alice's key is deactivated, and alice joins the group that denies everything.
    run(&[
        "iam",
        "update-assume-role-policy",
        "--role-name",
        "ops",
        "--policy-document",
        &trust(a),
    ]);
    run(&[
        "kms",
        "put-key-policy",
        "--key-id",
        &key_id,
        "--policy-name",
        "default",
        "--policy",
        &key_policy(a),
    ]);
    run(&["iam", "add-user-to-group", "--group-name", "frozen", "--user-name", "alice"]);
    let alice_can = |args: &[&str]| common::aws(&server.url, &alice.key, &alice.secret, args);
    let (ok, _, err) = alice_can(&["iam", "list-users"]);
    assert!(!ok && err.contains("AccessDenied"), "{err}");
    assert!(!evil_can(&assume));
    assert!(!evil_can(&describe));

    // Each, put back as the copy has it: every row carries a MAC the server made, but not the
    // current one, so each is refused rather than acted upon.
    put_back(&server, &format!("account = '{a}' and kind = 'role' and key = 'ops'"));
    refused(&server, &evil, &assume);
    refused(&server, &tenant, &["iam", "get-role", "--role-name", "ops"]);
    put_back(&server, &format!("account = '{a}' and kind = 'kms_key'"));
    refused(&server, &evil, &describe);
    // The grant revoked, then put back.
    run(&["kms", "revoke-grant", "--key-id", &granted_id, "--grant-id", &grant_id]);
    assert!(!evil_can(&describe_granted));
    put_back(&server, &format!("account = '{a}' and kind = 'kms_grant'"));
    refused(&server, &evil, &describe_granted);
    // A bucket policy that denies deleting the bucket, and the bucket's row from before it.
    let no_delete = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::{bucket}"}}]}}"#
    );
    run(&["s3api", "put-bucket-policy", "--bucket", &bucket, "--policy", &no_delete]);
    put_back(&server, &format!("account = '{a}' and kind = 's3_bucket' and key = '{bucket}'"));
    refused(&server, &tenant, &["s3api", "delete-bucket", "--bucket", &bucket]);
    refused(&server, &tenant, &["s3api", "get-bucket-policy", "--bucket", &bucket]);
    // The group membership deleted, as it was before alice joined.
    common::edit_database(
        &server,
        &format!(
            "delete from records where account = '{a}' and kind in ('group_member', 'user_group')"
        ),
    );
    refused(&server, &alice, &["iam", "list-users"]);
    // The tenant deactivates alice's key; the operator puts the active row back.
    run(&[
        "iam",
        "update-access-key",
        "--user-name",
        "alice",
        "--access-key-id",
        &alice.key,
        "--status",
        "Inactive",
    ]);
    common::edit_database(
        &server,
        &format!("delete from access_keys where access_key_id = '{}'", alice.key),
    );
    common::edit_database(
        &server,
        &format!(
            "insert into access_keys select * from old_keys where access_key_id = '{}'",
            alice.key
        ),
    );
    refused(&server, &alice, &["sts", "get-caller-identity"]);
    // The operator deletes the account's manifest to have nothing to compare with.
    common::edit_database(
        &server,
        &format!("delete from records where account = '{a}' and kind = '~manifest'"),
    );
    refused(&server, &tenant, &["iam", "list-users"]);
    // Restarting changes nothing: the manifests are built once, never from rows as they stand.
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
    let db_args: Vec<&str> = server.db_args.iter().map(String::as_str).collect();
    let (child, url, _) = common::start_with(&server.dir, &db_args);
    (server.child, server.url) = (child, url);
    refused(&server, &tenant, &["iam", "list-users"]);
    // The other account is untouched.
    assert!(common::aws(&server.url, &evil.key, &evil.secret, &["iam", "list-users"]).0);
}

#[test]
fn rolled_back_records_are_refused_on_sqlite() {
    rolled_back_records(Backend::Sqlite);
}

#[test]
fn rolled_back_records_are_refused_on_postgres() {
    rolled_back_records(Backend::Postgres);
}

#[test]
fn the_operator_with_the_blob_stores_credentials_changes_nothing_unseen() {
    let mut server =
        start_on("blob-operator", Backend::PostgresS3, &["--checkpoint-interval-secs", "1"]);
    let a = common::create_tenant(&server, "acme");
    let b = common::create_tenant(&server, "globex");
    let url = common::flag(&server.blob_args, "--blob-store").unwrap();
    let (bucket, prefix) = store::S3BlobOptions::parse_url(url).unwrap();
    common::run_with_tenants(
        &server,
        "blob_operator",
        &a,
        &b,
        &[common::moto::endpoint(), &bucket, &prefix, common::moto::KEY, common::moto::SECRET],
    );
    common::stop_and_verify_trail(&mut server);
}
