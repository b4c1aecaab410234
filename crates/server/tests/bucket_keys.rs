#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! S3 Bucket Keys, in-process: KMS's cryptography is done once per bucket key, its
//! authorization on every request, and what the server keeps in memory opens nothing for a
//! caller KMS would refuse.

mod common;

use common::{json_of, Harness};
use serde_json::json;

const BUCKET_KEY: &str = "x-amz-server-side-encryption-bucket-key-enabled";

/// The KMS calls S3 made as the caller that `log` records, by operation.
fn kms_calls(log: &[audit::event::EventRecord], name: &str) -> usize {
    log.iter()
        .filter(|e| e.event_source == "kms.amazonaws.com" && e.event_name == name)
        .filter(|e| e.user_identity.invoked_by.as_deref() == Some("s3.amazonaws.com"))
        .count()
}

/// A default encryption of SSE-KMS under `key` with a bucket key.
fn bucket_key_config(key: &str) -> String {
    format!(
        "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>{key}</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>"
    )
}

#[tokio::test]
async fn bucket_keys_spare_kms_cryptography_not_authorization() {
    let h = Harness::new("bucket-keys").await;
    let (acme, root) = h.tenant("acme").await;
    let created = root.json("kms", "TrentService.CreateKey", json!({})).await;
    let key_arn = json_of(&created)["KeyMetadata"]["Arn"].as_str().unwrap().to_string();
    let key_id = json_of(&created)["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    assert_eq!(root.s3("PUT", "/acme-bk", b"").await.status, 200);
    // A new bucket answers S3's default, without a bucket key.
    let got = root.s3("GET", "/acme-bk?encryption", b"").await;
    assert!(got.text().contains("<BucketKeyEnabled>false</BucketKeyEnabled>"), "{}", got.text());
    let config = bucket_key_config(&key_arn);
    let r = root.s3("PUT", "/acme-bk?encryption", config.as_bytes()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let got = root.s3("GET", "/acme-bk?encryption", b"").await.text();
    assert!(got.contains("<SSEAlgorithm>aws:kms</SSEAlgorithm>"), "{got}");
    assert!(got.contains(&format!("<KMSMasterKeyID>{key_arn}</KMSMasterKeyID>")), "{got}");
    assert!(got.contains("<BucketKeyEnabled>true</BucketKeyEnabled>"), "{got}");

    // Five objects (two with the same content): one GenerateDataKey in all, each object its
    // own data key (the keyed ETags of equal contents differ).
    let before = kms_calls(&h.log(&acme), "GenerateDataKey");
    let mut etags = Vec::new();
    for i in 0..5 {
        let body = if i < 2 { "same".to_string() } else { format!("object {i}") };
        let r = root.s3("PUT", &format!("/acme-bk/k{i}"), body.as_bytes()).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header(BUCKET_KEY), Some("true"));
        assert_eq!(r.header("x-amz-server-side-encryption"), Some("aws:kms"));
        assert_eq!(r.header("x-amz-server-side-encryption-aws-kms-key-id"), Some(&*key_arn));
        etags.push(r.header("etag").unwrap().to_string());
    }
    assert_ne!(etags[0], etags[1], "objects under one bucket key have keys of their own");
    let log = h.log(&acme);
    assert_eq!(kms_calls(&log, "GenerateDataKey") - before, 1, "one bucket key for five objects");
    for i in 0..5 {
        let r = root.s3("GET", &format!("/acme-bk/k{i}"), b"").await;
        assert_eq!(r.status, 200, "{}", r.text());
        let want = if i < 2 { "same".to_string() } else { format!("object {i}") };
        assert_eq!(r.text(), want);
        assert_eq!(r.header(BUCKET_KEY), Some("true"));
        let head = root.s3("HEAD", &format!("/acme-bk/k{i}"), b"").await;
        assert_eq!(head.header(BUCKET_KEY), Some("true"));
    }
    let log = h.log(&acme);
    assert_eq!(kms_calls(&log, "Decrypt"), 0, "the bucket key made for the writes opens them");

    // bob may use S3 but not the key: right after the owner read the objects, he still cannot.
    assert_eq!(
        root.query("iam", &[("Action", "CreateUser"), ("UserName", "bob")]).await.status,
        200
    );
    let s3_only =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
    let put = [
        ("Action", "PutUserPolicy"),
        ("UserName", "bob"),
        ("PolicyName", "s3"),
        ("PolicyDocument", s3_only),
    ];
    assert_eq!(root.query("iam", &put).await.status, 200);
    let key = root.query("iam", &[("Action", "CreateAccessKey"), ("UserName", "bob")]).await;
    let text = key.text();
    let field = |name: &str| {
        let start = text.find(&format!("<{name}>")).unwrap() + name.len() + 2;
        text[start..].split('<').next().unwrap().to_string()
    };
    let bob = common::Client {
        app: &h.app,
        key: field("AccessKeyId"),
        secret: field("SecretAccessKey"),
        token: None,
    };
    assert_eq!(root.s3("GET", "/acme-bk/k2", b"").await.status, 200);
    let r = bob.s3("GET", "/acme-bk/k2", b"").await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("AccessDenied"), "{}", r.text());
    let r = bob.s3("PUT", "/acme-bk/bobs", b"x").await;
    assert_eq!(r.status, 403, "a write needs kms:GenerateDataKey too: {}", r.text());
    assert_eq!(bob.s3("HEAD", "/acme-bk/k2", b"").await.status, 200, "metadata needs no key");

    // A disabled key refuses the owner too, bucket key in memory or not; enabled, it reads.
    let disable = root.json("kms", "TrentService.DisableKey", json!({ "KeyId": key_id })).await;
    assert_eq!(disable.status, 200, "{}", disable.text());
    let r = root.s3("GET", "/acme-bk/k2", b"").await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("KMS.DisabledException"), "{}", r.text());
    assert_eq!(root.s3("PUT", "/acme-bk/k9", b"x").await.status, 400);
    let enable = root.json("kms", "TrentService.EnableKey", json!({ "KeyId": key_id })).await;
    assert_eq!(enable.status, 200, "{}", enable.text());
    assert_eq!(root.s3("GET", "/acme-bk/k2", b"").await.text(), "object 2");

    // The request's header says otherwise: an object of its own data key, no bucket key.
    let before = kms_calls(&h.log(&acme), "GenerateDataKey");
    let off = [(BUCKET_KEY, "false")];
    let r = root.send("s3", "PUT", "/acme-bk/own", &off, b"own").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header(BUCKET_KEY), None);
    assert_eq!(r.header("x-amz-server-side-encryption"), Some("aws:kms"));
    assert_eq!(kms_calls(&h.log(&acme), "GenerateDataKey") - before, 1);
    assert_eq!(root.s3("GET", "/acme-bk/own", b"").await.text(), "own");
    let r = root.send("s3", "PUT", "/acme-bk/bad", &[(BUCKET_KEY, "maybe")], b"x").await;
    assert_eq!(r.status, 400, "{}", r.text());

    // Deleting the configuration drops the bucket key with it.
    assert_eq!(root.s3("DELETE", "/acme-bk?encryption", b"").await.status, 204);
    let got = root.s3("GET", "/acme-bk?encryption", b"").await.text();
    assert!(got.contains("<BucketKeyEnabled>false</BucketKeyEnabled>"), "{got}");
    assert!(got.contains("<SSEAlgorithm>AES256</SSEAlgorithm>"), "{got}");
    // SSE-S3 objects never use a bucket key, even when asked.
    let r = root.send("s3", "PUT", "/acme-bk/s3", &[(BUCKET_KEY, "true")], b"plain").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-amz-server-side-encryption"), Some("AES256"));
    assert_eq!(r.header(BUCKET_KEY), None);
    // Objects sealed with the bucket key still read.
    assert_eq!(root.s3("GET", "/acme-bk/k3", b"").await.text(), "object 3");
}
