#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Inputs are parsed once, at routing, against botocore's shapes: a request that breaks its
//! operation's model is refused with AWS's validation error before any check or handler runs,
//! and recorded like any refusal.

mod common;

use common::{json_of, Harness};
use serde_json::json;

#[tokio::test]
async fn an_iam_member_over_its_bound_is_a_validation_error() {
    let h = Harness::new("input-iam").await;
    let (acme, root) = h.tenant("acme").await;
    let long = "a".repeat(65);
    let r = root.query("iam", &[("Action", "CreateUser"), ("UserName", &long)]).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("<Code>ValidationError</Code>"), "{}", r.text());
    assert!(
        r.text().contains("1 validation error detected: Value at &apos;userName&apos; failed to satisfy constraint: Member must have length less than or equal to 64")
            || r.text().contains("1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains(&long), "the value is not echoed");
    // Refused and recorded; nothing made.
    assert!(h.log(&acme).iter().any(
        |e| e.event_name == "CreateUser" && e.error_code.as_deref() == Some("ValidationError")
    ));
    let users = root.query("iam", &[("Action", "ListUsers")]).await;
    assert!(!users.text().contains("<UserName>"), "{}", users.text());
}

#[tokio::test]
async fn a_missing_required_member_is_named() {
    let h = Harness::new("input-missing").await;
    let (_, root) = h.tenant("acme").await;
    let r = root.query("iam", &[("Action", "PutUserPolicy"), ("UserName", "alice")]).await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("Value null at"), "{}", r.text());
    assert!(r.text().contains("policyName"), "{}", r.text());
    assert!(r.text().contains("policyDocument"), "{}", r.text());
    assert!(r.text().contains("2 validation errors detected"), "{}", r.text());
}

#[tokio::test]
async fn kms_inputs_are_typed_and_enums_checked() {
    let h = Harness::new("input-kms").await;
    let (_, root) = h.tenant("acme").await;
    let r =
        root.json("kms", "TrentService.Encrypt", json!({ "KeyId": 7, "Plaintext": "aGk=" })).await;
    assert_eq!((r.status, json_of(&r)["__type"].as_str()), (400, Some("SerializationException")));
    let created = root.json("kms", "TrentService.CreateKey", json!({})).await;
    let key = json_of(&created)["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let r = root
        .json(
            "kms",
            "TrentService.Encrypt",
            json!({ "KeyId": key, "Plaintext": "aGk=", "EncryptionAlgorithm": "ROT13" }),
        )
        .await;
    assert_eq!(json_of(&r)["__type"], "ValidationException", "{}", r.text());
    assert!(r.text().contains("Member must satisfy enum value set"), "{}", r.text());
    // A blob over its bound: 4097 bytes of plaintext.
    use base64::Engine;
    let big = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 4097]);
    let r =
        root.json("kms", "TrentService.Encrypt", json!({ "KeyId": key, "Plaintext": big })).await;
    assert_eq!(json_of(&r)["__type"], "ValidationException", "{}", r.text());
    // A valid request still round-trips.
    let r = root
        .json("kms", "TrentService.Encrypt", json!({ "KeyId": key, "Plaintext": "aGk=" }))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let blob = json_of(&r)["CiphertextBlob"].as_str().unwrap().to_string();
    let r = root.json("kms", "TrentService.Decrypt", json!({ "CiphertextBlob": blob })).await;
    assert_eq!(json_of(&r)["Plaintext"], "aGk=");
}

#[tokio::test]
async fn sts_bounds_come_from_the_model() {
    let h = Harness::new("input-sts").await;
    let (acme, root) = h.tenant("acme").await;
    let role = format!("arn:aws:iam::{acme}:role/any");
    let r = root
        .query(
            "sts",
            &[
                ("Action", "AssumeRole"),
                ("RoleArn", &role),
                ("RoleSessionName", "s1"),
                ("DurationSeconds", "60"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("durationSeconds"), "{}", r.text());
    assert!(r.text().contains("greater than or equal to 900"), "{}", r.text());
}
