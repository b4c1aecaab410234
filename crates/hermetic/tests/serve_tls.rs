#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `hermetic serve --tls-cert --tls-key`: aws-cli talks HTTPS to it, verifying the certificate,
//! and policies see `aws:SecureTransport` = true.

mod common;

use common::{aws, start_with, unique_dir};

#[test]
fn https_with_a_verified_certificate_and_secure_transport() {
    let dir = unique_dir("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = common::self_signed_cert(&dir);
    let data = dir.join("data");
    let (mut child, url, _) = start_with(
        &data,
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
    );
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let created = common::create_account_over_tls(&url, &cert, &data, "tls");
    let (k, s) =
        (created["AccessKeyId"].as_str().unwrap(), created["SecretAccessKey"].as_str().unwrap());

    let ca = cert.to_str().unwrap();
    let with_ca = |args: &[&str]| {
        let mut all = vec!["--ca-bundle", ca];
        all.extend_from_slice(args);
        aws(&url, k, s, &all)
    };
    let (ok, out, err) = with_ca(&["sts", "get-caller-identity"]);
    assert!(ok, "{err}");
    assert!(out.contains(created["AccountId"].as_str().unwrap()));
    // A policy that requires TLS allows over HTTPS: aws:SecureTransport is true here.
    assert!(with_ca(&["iam", "create-user", "--user-name", "t"]).0);
    assert!(with_ca(&["iam", "put-user-policy", "--user-name", "t", "--policy-name", "tls", "--policy-document",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}"#]).0);
    let (ok, out, _) = with_ca(&["iam", "create-access-key", "--user-name", "t"]);
    assert!(ok);
    let tk: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (ok, _, err) = aws(
        &url,
        tk["AccessKey"]["AccessKeyId"].as_str().unwrap(),
        tk["AccessKey"]["SecretAccessKey"].as_str().unwrap(),
        &["--ca-bundle", ca, "iam", "list-users"],
    );
    assert!(ok, "{err}");
    // The trail records how each request was protected (CloudTrail's tlsDetails).
    let (ok, out, err) = with_ca(&[
        "cloudtrail",
        "lookup-events",
        "--lookup-attributes",
        "AttributeKey=EventName,AttributeValue=ListUsers",
    ]);
    assert!(ok, "{err}");
    let events: serde_json::Value = serde_json::from_str(&out).unwrap();
    let record: serde_json::Value =
        serde_json::from_str(events["Events"][0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    let tls = &record["tlsDetails"];
    assert!(matches!(tls["tlsVersion"].as_str(), Some("TLSv1.3" | "TLSv1.2")), "{record}");
    assert!(tls["cipherSuite"].as_str().unwrap().starts_with("TLS"), "{record}");
    assert_eq!(tls["clientProvidedHostHeader"], url.trim_start_matches("https://"), "{record}");
    // Without trusting the certificate, the client refuses the connection.
    let (ok, _, err) = aws(&url, k, s, &["sts", "get-caller-identity"]);
    assert!(!ok && err.to_lowercase().contains("ssl"), "{err}");
    let _ = child.kill();
    let _ = child.wait();
    std::fs::remove_dir_all(&dir).ok();
}
