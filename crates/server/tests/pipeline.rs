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
        ("DELETE", "/acme-data?website"),
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

/// An unsigned `OPTIONS` (a browser's CORS preflight) with `headers`.
async fn preflight(h: &Harness, path: &str, headers: &[(&str, &str)]) -> server::testing::Response {
    let mut all = vec![("host".to_string(), "127.0.0.1:4566".to_string())];
    all.extend(headers.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    h.app.send("OPTIONS", path, &all, Vec::new()).await
}

/// A CORS preflight is unsigned and needs no permission: it is answered from the bucket's CORS
/// rules alone (the same whether the key it names exists or not), and it is recorded in the
/// bucket owner's log as a read-only data event.
#[tokio::test]
async fn a_cors_preflight_is_answered_unsigned_from_the_rules_and_recorded() {
    let h = Harness::new("cors-preflight").await;
    let (acme, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-web", b"").await.status, 200);
    let asked = [("origin", "https://app.example"), ("access-control-request-method", "PUT")];
    let refused = |r: &server::testing::Response, status: u16, code: &str, message: &str| {
        assert_eq!(r.status, status, "{}", r.text());
        assert!(r.text().contains(&format!("<Code>{code}</Code>")), "{}", r.text());
        assert!(r.text().contains(message), "{}", r.text());
        assert!(r.header("access-control-allow-origin").is_none());
    };
    // No origin; an unknown method; no bucket; no configuration.
    let r = preflight(&h, "/acme-web/k", &[("access-control-request-method", "GET")]).await;
    refused(&r, 400, "BadRequest", "Origin request header needed.");
    let r = preflight(
        &h,
        "/acme-web/k",
        &[("origin", "https://app.example"), ("access-control-request-method", "BLAH")],
    )
    .await;
    refused(&r, 400, "BadRequest", "Invalid Access-Control-Request-Method: BLAH");
    refused(
        &preflight(&h, "/no-such-web/k", &asked).await,
        403,
        "AccessForbidden",
        "CORSResponse: Bucket not found",
    );
    refused(
        &preflight(&h, "/acme-web/k", &asked).await,
        403,
        "AccessForbidden",
        "CORS is not enabled for this bucket.",
    );
    let r = root.s3("GET", "/acme-web?cors", b"").await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.text().contains("<Code>NoSuchCORSConfiguration</Code>"), "{}", r.text());

    let rules = b"<CORSConfiguration><CORSRule><AllowedOrigin>https://app.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>";
    assert_eq!(root.s3("PUT", "/acme-web?cors", rules).await.status, 200);
    let r = root.s3("GET", "/acme-web?cors", b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("<CORSRule><AllowedHeader>x-amz-*</AllowedHeader><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedOrigin>https://app.example</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>"), "{}", r.text());

    // Allowed, on a key that does not exist and on one that does: the same answer.
    let with_headers = [
        asked[0],
        asked[1],
        ("access-control-request-headers", "X-Amz-Date, x-amz-content-sha256"),
    ];
    let missing = preflight(&h, "/acme-web/k", &with_headers).await;
    assert_eq!(root.s3("PUT", "/acme-web/k", b"there").await.status, 200);
    let present = preflight(&h, "/acme-web/k", &with_headers).await;
    for r in [&missing, &present] {
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.body.is_empty());
        for (name, value) in [
            ("access-control-allow-origin", "https://app.example"),
            ("access-control-allow-methods", "GET, PUT"),
            ("access-control-allow-headers", "X-Amz-Date, x-amz-content-sha256"),
            ("access-control-expose-headers", "ETag"),
            ("access-control-max-age", "600"),
            ("access-control-allow-credentials", "true"),
            ("vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
        ] {
            assert_eq!(r.header(name), Some(value), "{name}");
        }
    }
    // Another origin, a method or a header the rule does not allow.
    let not_allowed = "CORSResponse: This CORS request is not allowed.";
    let r = preflight(&h, "/acme-web/k", &[("origin", "https://evil.example"), asked[1]]).await;
    refused(&r, 403, "AccessForbidden", not_allowed);
    let r =
        preflight(&h, "/acme-web", &[asked[0], ("access-control-request-method", "DELETE")]).await;
    refused(&r, 403, "AccessForbidden", not_allowed);
    let r = preflight(
        &h,
        "/acme-web/k",
        &[asked[0], asked[1], ("access-control-request-headers", "range")],
    )
    .await;
    refused(&r, 403, "AccessForbidden", not_allowed);

    // An actual request from the origin gets the headers, allowed or refused; another origin's
    // gets none.
    let app = [("origin", "https://app.example")];
    let r = root.send("s3", "GET", "/acme-web/k", &app, b"").await;
    assert_eq!((r.status, r.body.as_slice()), (200, b"there".as_slice()));
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example"));
    assert_eq!(r.header("access-control-allow-methods"), Some("GET, PUT"));
    assert_eq!(r.header("access-control-expose-headers"), Some("ETag"));
    let r = root.send("s3", "GET", "/acme-web/gone", &app, b"").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("access-control-allow-origin"), Some("https://app.example"));
    let evil = [("origin", "https://evil.example")];
    let r = root.send("s3", "GET", "/acme-web/k", &evil, b"").await;
    assert!(r.header("access-control-allow-origin").is_none());

    // In the owner's log: the allowed preflights, anonymous, read-only data events.
    let log = h.log(&acme);
    let allowed: Vec<_> = log
        .iter()
        .filter(|e| e.event_name == "PreflightRequest" && e.error_code.is_none())
        .collect();
    assert_eq!(allowed.len(), 2);
    assert!(allowed.iter().all(|e| e.read_only == Some(true) && !e.management_event));
    assert!(log.iter().any(|e| e.event_name == "PreflightRequest"
        && e.error_code.as_deref() == Some("AccessForbidden")));

    // Deleted (204, and again when there is none): preflights are refused again.
    assert_eq!(root.s3("DELETE", "/acme-web?cors", b"").await.status, 204);
    assert_eq!(root.s3("DELETE", "/acme-web?cors", b"").await.status, 204);
    refused(
        &preflight(&h, "/acme-web/k", &asked).await,
        403,
        "AccessForbidden",
        "CORS is not enabled for this bucket.",
    );
}
