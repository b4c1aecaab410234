#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `hermetic serve --tls-cert --tls-key`: aws-cli talks HTTPS to it, verifying the certificate,
//! and policies see `aws:SecureTransport` = true.

mod common;

use common::{aws, start_with, unique_dir};
use std::process::Command;

#[test]
fn https_with_a_verified_certificate_and_secure_transport() {
    let dir = unique_dir("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let data = dir.join("data");
    let (mut child, url, _) = start_with(
        &data,
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
    );
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    // `hermetic account` speaks plain HTTP to the local endpoint; over TLS, sign the operator
    // call with botocore and verify the server's certificate.
    let (ok_key, ok_secret) = common::operator_creds(&data);
    let script = format!(
        "import botocore.session, json\n\
         from botocore.auth import SigV4Auth\n\
         from botocore.awsrequest import AWSRequest\n\
         from botocore.credentials import Credentials\n\
         import urllib.request, ssl\n\
         ctx = ssl.create_default_context(cafile='{cert}')\n\
         req = AWSRequest(method='POST', url='{url}/', data=b'{{\"AccountName\": \"tls\"}}', headers={{'X-Amz-Target': 'HermeticOperator.CreateAccount', 'Content-Type': 'application/x-amz-json-1.1'}})\n\
         SigV4Auth(Credentials('{ok_key}', '{ok_secret}'), 'hermetic', 'us-east-1').add_auth(req)\n\
         r = urllib.request.Request(req.url, data=req.body, headers=dict(req.headers.items()), method='POST')\n\
         print(urllib.request.urlopen(r, context=ctx).read().decode())\n",
        cert = cert.display()
    );
    let out = Command::new(common::python()).arg("-c").arg(script).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
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
