#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Requests signed by real clients verify: botocore (inside boto3 and aws-cli), run as a
//! subprocess, for every payload mode it produces.

use serde_json::Value;
use sigv4::{parse, KeyCache, Payload, PayloadMode, Secret};
use std::process::Command;

fn python() -> String {
    std::env::var("HERMETIC_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
fn botocore_signed_requests_verify() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/botocore_sign.py");
    let out = Command::new(python()).arg(script).output().expect("python runs");
    assert!(
        out.status.success(),
        "botocore signer failed (is botocore installed? ./scripts/test.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests: Value = serde_json::from_slice(&out.stdout).unwrap();
    let requests = requests.as_array().unwrap();
    assert_eq!(requests.len(), 9, "every botocore payload mode");
    let mut cache = KeyCache::default();
    for r in requests {
        let name = r["name"].as_str().unwrap();
        let headers: Vec<(String, String)> = r["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h[0].as_str().unwrap().to_string(), h[1].as_str().unwrap().to_string()))
            .collect();
        let refs: Vec<(&str, &str)> =
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let body: Vec<u8> = r["body"].as_str().unwrap().chars().map(|c| c as u8).collect();
        let request = sigv4::HttpRequest {
            method: r["method"].as_str().unwrap(),
            path: r["path"].as_str().unwrap(),
            query: r["query"].as_str().unwrap(),
            headers: &refs,
        };
        let unverified = parse(&request).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(unverified.credential.service, r["service"].as_str().unwrap(), "{name}");
        let now = unverified.timestamp + 5;
        let secret = Secret::new(r["secret"].as_str().unwrap());
        let verified = unverified
            .clone()
            .verify(&secret, now, Payload::Bytes(&body), &mut cache)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        if name.contains("unsigned-payload")
            || name.contains("presigned-get") && name.starts_with("s3")
        {
            assert_eq!(verified.payload, PayloadMode::Unsigned, "{name}");
        } else {
            assert_eq!(verified.payload, PayloadMode::Verified, "{name}");
        }
        if name.contains("with-token") {
            assert!(verified.session_token.is_some() && verified.session_token_signed, "{name}");
        }
        // The wrong secret fails.
        let wrong = Secret::new("not-the-secret");
        assert!(
            unverified.verify(&wrong, now, Payload::Bytes(&body), &mut cache).is_err(),
            "{name}"
        );
    }
}
