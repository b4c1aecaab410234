#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Managed policies through aws-cli: versions (at most five, a default), attachment to users,
//! groups and roles, AWS-managed job-function policies, and enforcement of the default version.

mod common;

use common::{aws, start_on, Backend};

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap()
}

#[test]
fn managed_policies_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn managed_policies_on_postgres() {
    scenario(Backend::Postgres);
}

fn scenario(backend: Backend) {
    let server = start_on("managed", backend, &[]);
    let url = server.url.clone();
    let tenant = common::create_tenant(&server, "acme");
    let (rk, rs) = (tenant.key.clone(), tenant.secret.clone());
    let root = |args: &[&str]| aws(&url, &rk, &rs, args);

    assert!(root(&["iam", "create-user", "--user-name", "dana"]).0);
    let (dk, ds) = common::create_user_key(&url, &rk, &rs, "dana");
    let dana = |args: &[&str]| aws(&url, &dk, &ds, args);

    // A customer-managed policy: v1 allows ListUsers.
    let (ok, out, err) = root(&[
        "iam",
        "create-policy",
        "--policy-name",
        "lister",
        "--policy-document",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}}"#,
    ]);
    assert!(ok, "{err}");
    let arn = json(&out)["Policy"]["Arn"].as_str().unwrap().to_string();
    assert!(!dana(&["iam", "list-users"]).0);
    assert!(root(&["iam", "attach-user-policy", "--user-name", "dana", "--policy-arn", &arn]).0);
    assert!(dana(&["iam", "list-users"]).0, "attached v1 allows");
    let (ok, out, _) = root(&["iam", "get-policy", "--policy-arn", &arn]);
    assert!(ok && json(&out)["Policy"]["AttachmentCount"] == 1, "{out}");

    // v2 (default) allows ListRoles instead: the default version is what counts.
    let (ok, _, err) = root(&[
        "iam",
        "create-policy-version",
        "--policy-arn",
        &arn,
        "--set-as-default",
        "--policy-document",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}}"#,
    ]);
    assert!(ok, "{err}");
    assert!(!dana(&["iam", "list-users"]).0, "v1 no longer applies");
    assert!(dana(&["iam", "list-roles"]).0);
    assert!(
        root(&["iam", "set-default-policy-version", "--policy-arn", &arn, "--version-id", "v1"]).0
    );
    assert!(dana(&["iam", "list-users"]).0, "back to v1");
    let (ok, _, err) =
        root(&["iam", "delete-policy-version", "--policy-arn", &arn, "--version-id", "v1"]);
    assert!(!ok && err.contains("DeleteConflict"), "the default version stays: {err}");
    // At most five versions.
    for _ in 0..3 {
        assert!(root(&["iam", "create-policy-version", "--policy-arn", &arn, "--policy-document",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}"#]).0);
    }
    let (ok, _, err) = root(&[
        "iam",
        "create-policy-version",
        "--policy-arn",
        &arn,
        "--policy-document",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}"#,
    ]);
    assert!(!ok && err.contains("LimitExceeded"), "{err}");
    let (ok, out, _) = root(&["iam", "list-policy-versions", "--policy-arn", &arn]);
    assert!(ok && json(&out)["Versions"].as_array().unwrap().len() == 5, "{out}");
    let (ok, _, err) = root(&["iam", "delete-policy", "--policy-arn", &arn]);
    assert!(!ok && err.contains("DeleteConflict"), "attached: {err}");

    // AWS-managed job-function policies exist and work: ReadOnlyAccess via a group, on a role.
    let (ok, out, _) = root(&["iam", "list-policies", "--scope", "AWS"]);
    assert!(
        ok && out.contains("arn:aws:iam::aws:policy/ReadOnlyAccess")
            && out.contains("AdministratorAccess"),
        "{out}"
    );
    assert!(root(&["iam", "create-group", "--group-name", "auditors"]).0);
    assert!(
        root(&[
            "iam",
            "attach-group-policy",
            "--group-name",
            "auditors",
            "--policy-arn",
            "arn:aws:iam::aws:policy/ReadOnlyAccess"
        ])
        .0
    );
    assert!(root(&["iam", "detach-user-policy", "--user-name", "dana", "--policy-arn", &arn]).0);
    assert!(!dana(&["iam", "list-groups"]).0);
    assert!(
        root(&["iam", "add-user-to-group", "--group-name", "auditors", "--user-name", "dana"]).0
    );
    assert!(dana(&["iam", "list-groups"]).0, "ReadOnlyAccess through the group");
    let (ok, _, err) = dana(&["iam", "create-user", "--user-name", "nope"]);
    assert!(!ok && err.contains("AccessDenied"), "read-only: {err}");
    let (ok, out, _) = root(&["iam", "list-attached-group-policies", "--group-name", "auditors"]);
    assert!(ok && out.contains("ReadOnlyAccess"), "{out}");

    // A permissions boundary caps what dana's policies grant: ReadOnlyAccess (via the group)
    // allows ListGroups, a boundary allowing only ListUsers takes it away.
    let (ok, out, err) = root(&[
        "iam",
        "create-policy",
        "--policy-name",
        "cap",
        "--policy-document",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}}"#,
    ]);
    assert!(ok, "{err}");
    let cap = json(&out)["Policy"]["Arn"].as_str().unwrap().to_string();
    assert!(
        root(&[
            "iam",
            "put-user-permissions-boundary",
            "--user-name",
            "dana",
            "--permissions-boundary",
            &cap
        ])
        .0
    );
    let (ok, out, _) = root(&["iam", "get-user", "--user-name", "dana"]);
    assert!(
        ok && json(&out)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == cap.as_str(),
        "{out}"
    );
    let (ok, _, err) = dana(&["iam", "list-groups"]);
    assert!(
        !ok && err.contains("no permissions boundary allows the iam:ListGroups action"),
        "{err}"
    );
    assert!(dana(&["iam", "list-users"]).0, "allowed by both the group policy and the boundary");
    let (ok, _, err) = root(&[
        "iam",
        "put-user-permissions-boundary",
        "--user-name",
        "dana",
        "--permissions-boundary",
        "arn:aws:iam::aws:policy/NoSuchPolicy",
    ]);
    assert!(!ok && err.contains("InvalidInput"), "{err}");
    assert!(root(&["iam", "delete-user-permissions-boundary", "--user-name", "dana"]).0);
    assert!(dana(&["iam", "list-groups"]).0, "without the boundary");

    // Tags and attribute-based access: eve may read users of her own team, and tag users only
    // with her team.
    let (ok, _, err) =
        root(&["iam", "create-user", "--user-name", "eve", "--tags", "Key=team,Value=blue"]);
    assert!(ok, "{err}");
    assert!(
        root(&["iam", "create-user", "--user-name", "blue1", "--tags", "Key=team,Value=blue"]).0
    );
    assert!(root(&["iam", "create-user", "--user-name", "red1"]).0);
    assert!(
        root(&[
            "iam",
            "tag-user",
            "--user-name",
            "red1",
            "--tags",
            "Key=team,Value=red",
            "Key=env,Value=prod"
        ])
        .0
    );
    let (ok, out, _) = root(&["iam", "list-user-tags", "--user-name", "red1"]);
    assert!(ok && out.contains("\"env\"") && out.contains("\"red\""), "{out}");
    // GetUser answers with the user's tags too, as IAM does (ListUsers does not).
    let (ok, out, _) = root(&["iam", "get-user", "--user-name", "red1"]);
    let tags = &json(&out)["User"]["Tags"];
    assert!(ok && tags.as_array().is_some_and(|t| t.len() == 2), "{out}");
    assert!(tags.as_array().unwrap().contains(&serde_json::json!({"Key": "env", "Value": "prod"})));
    let (ok, out, _) = root(&["iam", "get-user", "--user-name", "dana"]);
    assert!(ok && json(&out)["User"].get("Tags").is_none(), "no tags, no Tags: {out}");
    assert!(root(&["iam", "untag-user", "--user-name", "red1", "--tag-keys", "env"]).0);
    let (ok, out, _) = root(&["iam", "list-user-tags", "--user-name", "red1"]);
    assert!(ok && !out.contains("\"env\""), "{out}");
    assert!(root(&["iam", "put-user-policy", "--user-name", "eve", "--policy-name", "abac", "--policy-document",
        r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"iam:GetUser","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}},
            {"Effect":"Allow","Action":"iam:TagUser","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"${aws:PrincipalTag/team}"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}]}"#]).0);
    let (ek, es) = common::create_user_key(&url, &rk, &rs, "eve");
    let eve = |args: &[&str]| aws(&url, &ek, &es, args);
    assert!(eve(&["iam", "get-user", "--user-name", "blue1"]).0, "same team");
    let (ok, _, err) = eve(&["iam", "get-user", "--user-name", "red1"]);
    assert!(!ok && err.contains("AccessDenied"), "other team: {err}");
    assert!(
        eve(&["iam", "tag-user", "--user-name", "red1", "--tags", "Key=team,Value=blue"]).0,
        "her team's tag"
    );
    let (ok, _, err) =
        eve(&["iam", "tag-user", "--user-name", "red1", "--tags", "Key=team,Value=green"]);
    assert!(!ok && err.contains("AccessDenied"), "another team's tag: {err}");
    let (ok, _, err) = eve(&[
        "iam",
        "tag-user",
        "--user-name",
        "red1",
        "--tags",
        "Key=team,Value=blue",
        "Key=cost,Value=1",
    ]);
    assert!(!ok && err.contains("AccessDenied"), "a key outside the allowed set: {err}");
    assert!(eve(&["iam", "get-user", "--user-name", "red1"]).0, "red1 is blue now");

    // Detached and with one version left, the policy can go.
    for v in ["v2", "v3", "v4", "v5"] {
        assert!(
            root(&["iam", "delete-policy-version", "--policy-arn", &arn, "--version-id", v]).0,
            "{v}"
        );
    }
    assert!(root(&["iam", "delete-policy", "--policy-arn", &arn]).0);
    let (ok, _, err) = root(&["iam", "get-policy", "--policy-arn", &arn]);
    assert!(!ok && err.contains("NoSuchEntity"), "{err}");
}
