#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Roles and STS AssumeRole through aws-cli, on both stores: the trust policy and the caller's
//! identity policies must both allow; the session acts with the role's policies intersected with
//! its session policy; temporary credentials need their session token.

mod common;

use common::{aws, aws_session, start_on, Backend};

#[test]
fn assume_role_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn assume_role_on_postgres() {
    scenario(Backend::Postgres);
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap()
}

fn scenario(backend: Backend) {
    let server = start_on("roles", backend, &[]);
    let url = server.url.clone();
    let tenant = common::create_tenant(&server, "acme");
    let account = tenant.account.clone();
    let (rk, rs) = (tenant.key.clone(), tenant.secret.clone());
    let root = |args: &[&str]| aws(&url, &rk, &rs, args);

    // A role trusting the account (delegation to identity policies) with an external id, allowed
    // to read users.
    assert!(root(&["iam", "create-user", "--user-name", "bob"]).0);
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"tenant-42"}}}}}}}}"#
    );
    let (ok, out, err) = root(&[
        "iam",
        "create-role",
        "--role-name",
        "reader",
        "--assume-role-policy-document",
        &trust,
    ]);
    assert!(ok, "{err}");
    let role_arn = json(&out)["Role"]["Arn"].as_str().unwrap().to_string();
    assert!(root(&["iam", "put-role-policy", "--role-name", "reader", "--policy-name", "read", "--policy-document",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:ListUsers","iam:GetRole"],"Resource":"*"}}"#]).0);
    let (bk, bs) = common::create_user_key(&url, &rk, &rs, "bob");
    let bob = |args: &[&str]| aws(&url, &bk, &bs, args);

    // Bob's identity policy must allow sts:AssumeRole, and the trust policy's condition hold.
    let assume = [
        "sts",
        "assume-role",
        "--role-arn",
        role_arn.as_str(),
        "--role-session-name",
        "bob-session",
        "--external-id",
        "tenant-42",
    ];
    let (ok, _, err) = bob(&assume);
    assert!(
        !ok && err.contains("no identity-based policy allows the sts:AssumeRole action"),
        "{err}"
    );
    assert!(root(&["iam", "put-user-policy", "--user-name", "bob", "--policy-name", "assume", "--policy-document",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}"#]).0);
    let (ok, _, err) =
        bob(&["sts", "assume-role", "--role-arn", &role_arn, "--role-session-name", "s1"]);
    assert!(!ok && err.contains("AccessDenied"), "no external id: {err}");
    // A role whose trust policy names only bob: the root user is refused by it.
    let bob_only = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:user/bob"}},"Action":"sts:AssumeRole"}}}}"#
    );
    let (ok, out, err) = root(&[
        "iam",
        "create-role",
        "--role-name",
        "bob-only",
        "--assume-role-policy-document",
        &bob_only,
    ]);
    assert!(ok, "{err}");
    let bob_only_arn = json(&out)["Role"]["Arn"].as_str().unwrap().to_string();
    let (ok, _, err) =
        root(&["sts", "assume-role", "--role-arn", &bob_only_arn, "--role-session-name", "rt"]);
    assert!(
        !ok && err.contains("no resource-based policy allows the sts:AssumeRole action"),
        "{err}"
    );
    // A role that does not exist is refused the same way as one that does not trust the caller.
    let (ok, _, err) = bob(&[
        "sts",
        "assume-role",
        "--role-arn",
        &format!("arn:aws:iam::{account}:role/nope"),
        "--role-session-name",
        "s2",
    ]);
    assert!(!ok && err.contains("AccessDenied"), "{err}");

    let (ok, out, err) = bob(&assume);
    assert!(ok, "{err}");
    let creds = json(&out);
    let (sk, ss, st) = (
        creds["Credentials"]["AccessKeyId"].as_str().unwrap().to_string(),
        creds["Credentials"]["SecretAccessKey"].as_str().unwrap().to_string(),
        creds["Credentials"]["SessionToken"].as_str().unwrap().to_string(),
    );
    assert!(sk.starts_with("ASIA"));
    assert_eq!(
        creds["AssumedRoleUser"]["Arn"],
        format!("arn:aws:sts::{account}:assumed-role/reader/bob-session")
    );
    let session = |args: &[&str]| aws_session(&url, &sk, &ss, Some(&st), args);

    let (ok, out, err) = session(&["sts", "get-caller-identity"]);
    assert!(ok, "{err}");
    assert_eq!(
        json(&out)["Arn"],
        format!("arn:aws:sts::{account}:assumed-role/reader/bob-session")
    );
    assert!(session(&["iam", "list-users"]).0, "the role's policy allows it");
    let (ok, _, err) = session(&["iam", "create-user", "--user-name", "x"]);
    assert!(
        !ok && err.contains("no identity-based policy allows the iam:CreateUser action"),
        "{err}"
    );
    // Without its token, or with another, the temporary key is refused.
    let (ok, _, err) = aws_session(&url, &sk, &ss, None, &["sts", "get-caller-identity"]);
    assert!(!ok && err.contains("InvalidClientTokenId"), "{err}");
    let (ok, _, err) = aws_session(&url, &sk, &ss, Some("forged"), &["sts", "get-caller-identity"]);
    assert!(!ok && err.contains("InvalidClientTokenId"), "{err}");

    // A session policy narrows the session: the role allows ListUsers, the session does not.
    let (ok, out, err) = bob(&[
        "sts",
        "assume-role",
        "--role-arn",
        &role_arn,
        "--role-session-name",
        "narrow",
        "--external-id",
        "tenant-42",
        "--policy",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}}"#,
    ]);
    assert!(ok, "{err}");
    let c = json(&out);
    let narrow = |args: &[&str]| {
        aws_session(
            &url,
            c["Credentials"]["AccessKeyId"].as_str().unwrap(),
            c["Credentials"]["SecretAccessKey"].as_str().unwrap(),
            c["Credentials"]["SessionToken"].as_str(),
            args,
        )
    };
    let (ok, _, err) = narrow(&["iam", "list-users"]);
    assert!(!ok && err.contains("no session policy allows the iam:ListUsers action"), "{err}");
    assert!(narrow(&["iam", "get-role", "--role-name", "reader"]).0);

    // Durations beyond the role's maximum are refused.
    let (ok, _, err) = bob(&[
        "sts",
        "assume-role",
        "--role-arn",
        &role_arn,
        "--role-session-name",
        "long",
        "--external-id",
        "tenant-42",
        "--duration-seconds",
        "7200",
    ]);
    assert!(!ok && err.contains("ValidationError"), "{err}");

    // GetSessionToken: temporary credentials with exactly bob's own permissions.
    let (ok, out, err) = bob(&["sts", "get-session-token", "--duration-seconds", "900"]);
    assert!(ok, "{err}");
    let t = json(&out);
    let temp = |args: &[&str]| {
        aws_session(
            &url,
            t["Credentials"]["AccessKeyId"].as_str().unwrap(),
            t["Credentials"]["SecretAccessKey"].as_str().unwrap(),
            t["Credentials"]["SessionToken"].as_str(),
            args,
        )
    };
    let (ok, out, err) = temp(&["sts", "get-caller-identity"]);
    assert!(ok, "{err}");
    assert_eq!(json(&out)["Arn"], format!("arn:aws:iam::{account}:user/bob"));
    // As in AWS, GetSessionToken credentials without MFA cannot call IAM at all.
    let (ok, _, err) = temp(&["iam", "get-user"]);
    assert!(!ok && err.contains("GetSessionToken credentials need MFA to call IAM"), "{err}");
    let (ok, _, err) = temp(&["sts", "get-session-token"]);
    assert!(!ok && err.contains("AccessDenied"), "not from session credentials: {err}");
    // GetAccessKeyInfo names the account of a key.
    let (ok, out, _) = root(&["sts", "get-access-key-info", "--access-key-id", &bk]);
    assert!(ok);
    assert_eq!(json(&out)["Account"], account.as_str());

    // The operator guardrail: a role trusting everyone still cannot be assumed by the operator.
    let open_trust = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}}"#;
    let (ok, out, err) = root(&[
        "iam",
        "create-role",
        "--role-name",
        "open",
        "--assume-role-policy-document",
        open_trust,
    ]);
    assert!(ok, "{err}");
    let open_arn = json(&out)["Role"]["Arn"].as_str().unwrap().to_string();
    let (ok_key, ok_secret) = common::operator_creds(&server.dir);
    let (ok, _, err) = aws(
        &url,
        &ok_key,
        &ok_secret,
        &["sts", "assume-role", "--role-arn", &open_arn, "--role-session-name", "peek"],
    );
    assert!(!ok && err.contains("explicit deny in the Hermetic operator guardrail"), "{err}");

    // The audit log shows the AssumeRole calls, who made them, and the session's own calls.
    let (ok, out, _) = root(&[
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=AssumeRole",
    ]);
    assert!(ok);
    let events = json(&out)["Events"].as_array().unwrap().clone();
    // Denied: bob without permission, bob without external id, root on bob-only, the missing
    // role, the too-long duration, the operator's attempt; granted: bob-session and narrow.
    assert_eq!(events.len(), 8, "{out}");
    assert!(
        events.iter().any(|e| e["CloudTrailEvent"]
            .as_str()
            .unwrap()
            .contains("arn:aws:iam::000000000000:user/operator")),
        "the operator's refused attempt is in the tenant's own log: {out}"
    );
    let granted = events
        .iter()
        .filter(|e| !e["CloudTrailEvent"].as_str().unwrap().contains("errorCode"))
        .count();
    assert_eq!(granted, 2);
    assert!(
        events.iter().all(|e| !e["CloudTrailEvent"].as_str().unwrap().contains(&ss)),
        "no secret in the trail"
    );
}

/// What real tools call on roles and boundaries (`scripts/iam_updates.py`, issue 19): a role's
/// `Description`, `UpdateRole`, `UpdateRoleDescription`, and the boundary `CreateRole` and
/// `CreateUser` set, with the `iam:PermissionsBoundary` condition key.
fn updates(backend: Backend) {
    let server = start_on("iam-updates", backend, &[]);
    let a = common::create_tenant(&server, "acme");
    let b = common::create_tenant(&server, "globex");
    common::run_with_tenants(&server, "iam_updates", &a, &b, &[]);
    // aws-cli, unmodified.
    let (ok, out, err) = aws(
        &server.url,
        &a.key,
        &a.secret,
        &["iam", "update-role-description", "--role-name", "app", "--description", "by aws-cli"],
    );
    assert!(ok, "{err}");
    assert_eq!(json(&out)["Role"]["Description"], "by aws-cli", "{out}");
}

#[test]
fn role_updates_and_boundaries_on_sqlite() {
    updates(Backend::Sqlite);
}

#[test]
fn role_updates_and_boundaries_on_postgres() {
    updates(Backend::Postgres);
}

/// IAM operations real tools call (`scripts/iam_tools.py`, issue 19): instance profiles,
/// renames, policy tags, account aliases, the password policy, ListEntitiesForPolicy, context
/// keys, GetMFADevice and AWS's managed policy set. Then the operator, with write access to the
/// database, puts a role into an instance profile by editing its row: the row fails its MAC
/// and is refused, never served.
fn tools(backend: Backend) {
    let server = start_on("iam-tools", backend, &[]);
    let a = common::create_tenant(&server, "acme");
    let b = common::create_tenant(&server, "globex");
    common::run_with_tenants(&server, "iam_tools", &a, &b, &[]);
    // aws-cli, unmodified: Terraform's destroy-time call.
    let cli = |args: &[&str]| {
        let (ok, out, err) = aws(&server.url, &a.key, &a.secret, args);
        assert!(ok, "{args:?}: {err}");
        json(&out)
    };
    cli(&["iam", "create-instance-profile", "--instance-profile-name", "cli-profile"]);
    let listed = cli(&["iam", "list-instance-profiles-for-role", "--role-name", "db"]);
    assert_eq!(listed["InstanceProfiles"][0]["InstanceProfileName"], "db-profile", "{listed}");
    let policies =
        cli(&["iam", "list-policies", "--scope", "AWS", "--path-prefix", "/job-function/"]);
    assert!(policies["Policies"].as_array().unwrap().len() >= 10, "{policies}");

    common::edit_database(
        &server,
        &format!(
            "update records set body = replace(body, '\"InstanceProfileName\":\"cli-profile\"', '\"InstanceProfileName\":\"cli-profile\",\"Roles\":[\"db\"]') where account = '{}' and kind = 'instance_profile'",
            a.account
        ),
    );
    let (ok, _, err) = aws(
        &server.url,
        &a.key,
        &a.secret,
        &["iam", "get-instance-profile", "--instance-profile-name", "cli-profile"],
    );
    assert!(!ok && err.contains("integrity check"), "{err}");
}

#[test]
fn iam_tools_on_sqlite() {
    tools(Backend::Sqlite);
}

#[test]
fn iam_tools_on_postgres() {
    tools(Backend::Postgres);
}
