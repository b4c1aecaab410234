#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The one pipeline, in-process: what it does for every service, one behaviour per test.

mod common;

use common::{json_of, Harness, OPERATOR};
use serde_json::json;

/// Whether `log` holds a refused `name` by the principal `arn`.
fn refused_in(log: &[audit::event::EventRecord], name: &str, arn: &str) -> bool {
    log.iter().any(|e| {
        e.event_name == name
            && e.error_code.is_some()
            && e.user_identity.arn.as_deref() == Some(arn)
    })
}

const OPERATOR_ARN: &str = "arn:aws:iam::000000000000:user/operator";

#[tokio::test]
async fn the_operators_refused_s3_call_is_in_the_tenants_log() {
    let h = Harness::new("guardrail-s3").await;
    let (acme, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-data", b"").await.status, 200);
    assert_eq!(root.s3("PUT", "/acme-data/report", b"numbers").await.status, 200);
    let r = h.operator().s3("GET", "/acme-data/report", b"").await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("explicit deny in the Hermetic operator guardrail"), "{}", r.text());
    assert!(refused_in(&h.log(&acme), "GetObject", OPERATOR_ARN), "the owner's log");
    assert!(refused_in(&h.log(OPERATOR), "GetObject", OPERATOR_ARN), "the caller's log");
}

#[tokio::test]
async fn a_refused_kms_call_by_key_arn_is_in_the_key_owners_log() {
    let h = Harness::new("owner-kms").await;
    let (acme, a) = h.tenant("acme").await;
    let (globex, b) = h.tenant("globex").await;
    let created = a.json("kms", "TrentService.CreateKey", json!({})).await;
    let arn = json_of(&created)["KeyMetadata"]["Arn"].as_str().unwrap().to_string();
    let r =
        b.json("kms", "TrentService.Encrypt", json!({ "KeyId": arn, "Plaintext": "aGk=" })).await;
    assert_eq!(r.status, 400);
    assert_eq!(json_of(&r)["__type"], "AccessDeniedException");
    let b_arn = format!("arn:aws:iam::{globex}:root");
    assert!(refused_in(&h.log(&acme), "Encrypt", &b_arn), "the key owner's log");
    assert!(refused_in(&h.log(&globex), "Encrypt", &b_arn), "the caller's log");
}

#[tokio::test]
async fn assuming_a_role_that_does_not_exist_is_in_the_named_accounts_log() {
    let h = Harness::new("owner-sts").await;
    let (acme, _) = h.tenant("acme").await;
    let (globex, b) = h.tenant("globex").await;
    let role = format!("arn:aws:iam::{acme}:role/no-such-role");
    let r = b
        .query("sts", &[("Action", "AssumeRole"), ("RoleArn", &role), ("RoleSessionName", "s1")])
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(refused_in(&h.log(&acme), "AssumeRole", &format!("arn:aws:iam::{globex}:root")));
}

#[tokio::test]
async fn an_unknown_s3_subresource_is_refused_and_changes_nothing() {
    let h = Harness::new("router").await;
    let (_, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-data", b"").await.status, 200);
    assert_eq!(root.s3("PUT", "/acme-data/k", b"kept").await.status, 200);
    for (method, path) in [
        ("DELETE", "/acme-data?metadataConfiguration"),
        ("DELETE", "/acme-data/k?annotation"),
        ("PUT", "/acme-data/k?encryption"),
        ("DELETE", "/acme-data?cors"),
    ] {
        let r = root.s3(method, path, b"<x/>").await;
        assert_eq!(r.status, 501, "{method} {path}: {}", r.text());
        assert!(r.text().contains("<Code>NotImplemented</Code>"), "{}", r.text());
    }
    let r = root.s3("GET", "/acme-data/k", b"").await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"kept".as_slice()));
}

#[tokio::test]
async fn an_iam_denial_names_the_policy_type_and_decodes_for_the_account_only() {
    let h = Harness::new("iam-deny").await;
    let (_, root) = h.tenant("acme").await;
    let (_, other) = h.tenant("globex").await;
    assert_eq!(
        root.query("iam", &[("Action", "CreateUser"), ("UserName", "alice")]).await.status,
        200
    );
    let key = root.query("iam", &[("Action", "CreateAccessKey"), ("UserName", "alice")]).await;
    let text = key.text();
    let field = |name: &str| {
        let start = text.find(&format!("<{name}>")).unwrap() + name.len() + 2;
        text[start..].split('<').next().unwrap().to_string()
    };
    let alice = common::Client {
        app: &h.app,
        key: field("AccessKeyId"),
        secret: field("SecretAccessKey"),
        token: None,
    };
    let r = alice.query("iam", &[("Action", "ListUsers")]).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(
        r.text().contains("no identity-based policy allows the iam:ListUsers action"),
        "{}",
        r.text()
    );
    let encoded = r
        .text()
        .split("Encoded authorization failure message: ")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let decode = [("Action", "DecodeAuthorizationMessage"), ("EncodedMessage", encoded.as_str())];
    assert_eq!(root.query("sts", &decode).await.status, 200);
    let r = other.query("sts", &decode).await;
    assert_eq!(r.status, 400, "another account cannot read it: {}", r.text());
    // Allowed once a policy says so.
    let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}}"#;
    let put = [
        ("Action", "PutUserPolicy"),
        ("UserName", "alice"),
        ("PolicyName", "list"),
        ("PolicyDocument", policy),
    ];
    assert_eq!(root.query("iam", &put).await.status, 200);
    assert_eq!(alice.query("iam", &[("Action", "ListUsers")]).await.status, 200);
}

#[tokio::test]
async fn a_change_and_its_event_commit_together() {
    let h = Harness::new("commit").await;
    let (acme, root) = h.tenant("acme").await;
    let before = h.log(&acme).len();
    assert_eq!(
        root.query("iam", &[("Action", "CreateUser"), ("UserName", "bob")]).await.status,
        200
    );
    let log = h.log(&acme);
    assert_eq!(log.len(), before + 1);
    let event = log.last().unwrap();
    assert_eq!((event.event_name.as_str(), event.read_only), ("CreateUser", Some(false)));
    // A refused change leaves no user and one more event.
    let r = root.query("iam", &[("Action", "CreateUser"), ("UserName", "bob")]).await;
    assert_eq!(r.status, 409);
    assert_eq!(h.log(&acme).len(), before + 2);
}

#[tokio::test]
async fn an_unknown_service_is_refused_and_recorded() {
    let h = Harness::new("unknown").await;
    let (acme, root) = h.tenant("acme").await;
    let r = root.json("dynamodb", "DynamoDB_20120810.ListTables", json!({})).await;
    assert_eq!(r.status, 400);
    assert_eq!(json_of(&r)["__type"], "UnknownService");
    assert!(h.log(&acme).iter().any(|e| e.error_code.as_deref() == Some("UnknownService")));
}

#[tokio::test]
async fn an_invitation_is_redeemed_once_unsigned_and_never_by_the_operators_key() {
    let h = Harness::new("onboarding").await;
    let invited = h
        .operator()
        .json("hermetic", "HermeticOperator.InviteAccount", json!({ "AccountName": "acme" }))
        .await;
    assert_eq!(invited.status, 200, "{}", invited.text());
    let invited = json_of(&invited);
    assert!(invited.get("SecretAccessKey").is_none() && invited.get("AccessKeyId").is_none());
    let (account, code) =
        (invited["AccountId"].as_str().unwrap(), invited["InviteCode"].as_str().unwrap());
    // The operator's own credentials cannot redeem it.
    let r = h
        .operator()
        .json("hermetic", "HermeticOnboarding.RedeemInvitation", json!({ "InviteCode": code }))
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(refused_in(&h.log(account), "RedeemInvitation", OPERATOR_ARN), "the account's log");
    // A malformed code, a wrong one: refused, and nothing changes.
    assert_eq!(h.redeem("HINV-nonsense").await.status, 403);
    let wrong = format!("{}{}", &code[..code.len() - 2], "22");
    let wrong = if wrong == code { format!("{}{}", &code[..code.len() - 2], "33") } else { wrong };
    assert_eq!(h.redeem(&wrong).await.status, 403);
    // The tenant, unsigned: once.
    let r = h.redeem(code).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(json_of(&r)["AccountId"], account);
    let again = h.redeem(code).await;
    assert_eq!(again.status, 400);
    assert_eq!(json_of(&again)["__type"], "InvitationAlreadyRedeemedException");
    // Invited, refused, redeemed: the account's log, in that order.
    let names: Vec<(String, Option<String>)> =
        h.log(account).into_iter().map(|e| (e.event_name, e.error_code)).collect();
    let redeemed = names.iter().position(|(n, e)| n == "RedeemInvitation" && e.is_none()).unwrap();
    assert_eq!(names[0], ("InviteAccount".to_string(), None));
    assert_eq!(names[1..redeemed].len(), 2, "the operator's and the wrong code's: {names:?}");
}
