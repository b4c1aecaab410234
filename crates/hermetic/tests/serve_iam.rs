#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! IAM users, access keys and inline policies through aws-cli, with every request authorized by
//! the policy engine: a new user can do nothing; an inline policy grants exactly what it says;
//! an explicit deny wins; AccessDenied names the policy type, as AWS's messages do.

mod common;

use common::{aws, start_on, Backend};

#[test]
fn users_keys_and_inline_policies_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
fn users_keys_and_inline_policies_on_postgres() {
    scenario(Backend::Postgres);
}

fn scenario(backend: Backend) {
    let server = start_on("iam", backend, &[]);
    let url = server.url.clone();
    let tenant = common::create_tenant(&server, "acme");
    let account = tenant.account.clone();
    let (rk, rs) = (tenant.key.clone(), tenant.secret.clone());
    let root = |args: &[&str]| aws(&url, &rk, &rs, args);

    // The root user creates a user and a key for it.
    let (ok, out, err) = root(&["iam", "create-user", "--user-name", "alice"]);
    assert!(ok, "{err}");
    let user: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(user["User"]["Arn"], format!("arn:aws:iam::{account}:user/alice"));
    let (ok, _, err) = root(&["iam", "create-user", "--user-name", "alice"]);
    assert!(!ok && err.contains("EntityAlreadyExists"), "{err}");
    let (ak, sk) = common::create_user_key(&url, &rk, &rs, "alice");
    let alice = |args: &[&str]| aws(&url, &ak, &sk, args);

    // Alice authenticates (GetCallerIdentity needs no permission) but may do nothing else yet.
    let (ok, out, err) = alice(&["sts", "get-caller-identity"]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("arn:aws:iam::{account}:user/alice")), "{out}");
    let (ok, _, err) = alice(&["iam", "list-users"]);
    assert!(!ok);
    assert!(err.contains("AccessDenied"), "{err}");
    assert!(
        err.contains("because no identity-based policy allows the iam:ListUsers action"),
        "{err}"
    );

    // An inline policy grants exactly what it says.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetUser"],"Resource":"*"},{"Effect":"Deny","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/admin*"}]}"#;
    let (ok, _, err) = root(&[
        "iam",
        "put-user-policy",
        "--user-name",
        "alice",
        "--policy-name",
        "read",
        "--policy-document",
        policy,
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = alice(&["iam", "list-users"]);
    assert!(ok, "{err}");
    assert!(out.contains("\"UserName\": \"alice\""), "{out}");
    let (ok, _, err) = alice(&["iam", "create-user", "--user-name", "mallory"]);
    assert!(
        !ok && err.contains("no identity-based policy allows the iam:CreateUser action"),
        "{err}"
    );
    assert!(root(&["iam", "create-user", "--user-name", "admin-bob"]).0);
    let (ok, _, err) = alice(&["iam", "get-user", "--user-name", "admin-bob"]);
    assert!(!ok && err.contains("with an explicit deny in an identity-based policy"), "{err}");
    assert!(alice(&["iam", "get-user"]).0, "alice reads herself");

    // An inactive key stops working until it is made active again.
    assert!(
        root(&[
            "iam",
            "update-access-key",
            "--user-name",
            "alice",
            "--access-key-id",
            &ak,
            "--status",
            "Inactive"
        ])
        .0
    );
    let (ok, _, err) = alice(&["sts", "get-caller-identity"]);
    assert!(!ok && err.contains("InvalidClientTokenId"), "{err}");
    let (ok, out, _) = root(&["iam", "list-access-keys", "--user-name", "alice"]);
    assert!(ok && out.contains("\"Inactive\""), "{out}");
    assert!(
        root(&[
            "iam",
            "update-access-key",
            "--user-name",
            "alice",
            "--access-key-id",
            &ak,
            "--status",
            "Active"
        ])
        .0
    );
    assert!(alice(&["sts", "get-caller-identity"]).0);

    // A malformed policy is refused with AWS's code and changes nothing.
    let (ok, _, err) = root(&[
        "iam",
        "put-user-policy",
        "--user-name",
        "alice",
        "--policy-name",
        "bad",
        "--policy-document",
        "{\"Statement\":{\"Effect\":\"Maybe\"}}",
    ]);
    assert!(!ok && err.contains("MalformedPolicyDocument"), "{err}");
    let (ok, out, _) = root(&["iam", "list-user-policies", "--user-name", "alice"]);
    assert!(ok);
    assert!(out.contains("read") && !out.contains("bad"), "{out}");
    let (ok, out, _) =
        root(&["iam", "get-user-policy", "--user-name", "alice", "--policy-name", "read"]);
    assert!(ok && out.contains("iam:ListUsers"), "{out}");

    // Deleting a user with keys and policies conflicts; cleaning up first works.
    let (ok, _, err) = root(&["iam", "delete-user", "--user-name", "alice"]);
    assert!(!ok && err.contains("DeleteConflict"), "{err}");
    assert!(
        root(&["iam", "delete-user-policy", "--user-name", "alice", "--policy-name", "read"]).0
    );
    assert!(root(&["iam", "delete-access-key", "--user-name", "alice", "--access-key-id", &ak]).0);
    assert!(root(&["iam", "delete-user", "--user-name", "alice"]).0);
    let (ok, _, err) = root(&["iam", "get-user", "--user-name", "alice"]);
    assert!(!ok && err.contains("NoSuchEntity"), "{err}");
    // Alice's deleted key no longer works.
    let (ok, _, err) = alice(&["sts", "get-caller-identity"]);
    assert!(!ok && err.contains("InvalidClientTokenId"), "{err}");

    // CloudTrail shows who did what: the root's CreateUser calls, alice's refused call.
    let (ok, out, err) = root(&[
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=CreateUser",
    ]);
    assert!(ok, "{err}");
    let found: serde_json::Value = serde_json::from_str(&out).unwrap();
    let events = found["Events"].as_array().unwrap();
    assert_eq!(events.len(), 4, "alice, the duplicate alice, mallory (denied), admin-bob: {out}");
    assert!(events.iter().all(|e| e["EventName"] == "CreateUser"));
    let denied: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| {
            e["CloudTrailEvent"].as_str().unwrap().contains("\"errorCode\":\"AccessDenied\"")
        })
        .collect();
    assert_eq!(denied.len(), 1, "{out}");
    assert_eq!(denied[0]["Username"], "alice");
    let (ok, out, _) = root(&[
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=Username,AttributeValue=alice",
    ]);
    assert!(ok);
    let by_alice: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(by_alice["Events"].as_array().unwrap().len() >= 6, "{out}");
    // Pages of two, newest first, cover every event exactly once.
    let (ok, out, err) = root(&["cloudtrail", "lookup-events", "--page-size", "2"]);
    assert!(ok, "{err}");
    let all: serde_json::Value = serde_json::from_str(&out).unwrap();
    let times: Vec<i64> = all["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventTime"].as_f64().unwrap() as i64)
        .collect();
    // The invitation and its redeem, 24 calls in the account (the last GetCallerIdentity with
    // a deleted key names no account and goes to the operator realm's log) and the two lookups
    // before this one.
    assert_eq!(times.len(), 28);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let ids: std::collections::HashSet<&str> =
        all["Events"].as_array().unwrap().iter().map(|e| e["EventId"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), times.len(), "no event repeated across pages");

    // Groups: a group's policies apply to its members, and only while they are members.
    assert!(root(&["iam", "create-user", "--user-name", "gina"]).0);
    let (gk, gs) = common::create_user_key(&url, &rk, &rs, "gina");
    let gina = |args: &[&str]| aws(&url, &gk, &gs, args);
    assert!(root(&["iam", "create-group", "--group-name", "readers"]).0);
    assert!(root(&["iam", "put-group-policy", "--group-name", "readers", "--policy-name", "list", "--policy-document",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListGroups","Resource":"*"}}"#]).0);
    let (ok, _, err) = gina(&["iam", "list-groups"]);
    assert!(
        !ok && err.contains("no identity-based policy allows the iam:ListGroups action"),
        "{err}"
    );
    assert!(
        root(&["iam", "add-user-to-group", "--group-name", "readers", "--user-name", "gina"]).0
    );
    let (ok, out, err) = gina(&["iam", "list-groups"]);
    assert!(ok, "{err}");
    assert!(out.contains("\"GroupName\": \"readers\""), "{out}");
    let (ok, out, _) = root(&["iam", "get-group", "--group-name", "readers"]);
    assert!(ok && out.contains("\"UserName\": \"gina\""), "{out}");
    let (ok, out, _) = root(&["iam", "list-groups-for-user", "--user-name", "gina"]);
    assert!(ok && out.contains("readers"), "{out}");
    let (ok, _, err) = root(&["iam", "delete-group", "--group-name", "readers"]);
    assert!(!ok && err.contains("DeleteConflict"), "{err}");
    let (ok, _, err) = root(&["iam", "delete-user", "--user-name", "gina"]);
    assert!(!ok && err.contains("DeleteConflict"), "a member cannot be deleted: {err}");
    assert!(
        root(&["iam", "remove-user-from-group", "--group-name", "readers", "--user-name", "gina"])
            .0
    );
    let (ok, _, err) = gina(&["iam", "list-groups"]);
    assert!(!ok && err.contains("AccessDenied"), "{err}");
    assert!(
        root(&["iam", "delete-group-policy", "--group-name", "readers", "--policy-name", "list"]).0
    );
    assert!(root(&["iam", "delete-group", "--group-name", "readers"]).0);
}
