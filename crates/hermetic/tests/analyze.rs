#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `hermetic analyze`: compare, check-no-new-access and check-access-not-granted on policy
//! files, with their JSON answers and exit codes (0 PASS/answered, 1 FAIL, 3 unknown, 2 bad
//! input).

mod common;

use std::process::Command;

fn write(dir: &std::path::Path, name: &str, statements: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#))
        .unwrap();
    path.display().to_string()
}

fn analyze(args: &[&str]) -> (i32, serde_json::Value, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_hermetic")).arg("analyze").args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap(), json, stdout + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn analyze_answers_ci_gates() {
    let dir = common::unique_dir("analyze");
    std::fs::create_dir_all(&dir).unwrap();
    let reader = write(
        &dir,
        "reader.json",
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}"#,
    );
    let writer = write(
        &dir,
        "writer.json",
        r#"{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::data/*"}"#,
    );
    let guarded = write(
        &dir,
        "guarded.json",
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::data/*"}"#,
    );
    let conditional = write(
        &dir,
        "conditional.json",
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}"#,
    );
    let binary = write(
        &dir,
        "binary.json",
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"BinaryEquals":{"x:k":"QUJD"}}}"#,
    );

    let (code, json, out) = analyze(&["compare", &writer, &reader, "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json["verdict"], "more permissive", "{json}");
    assert_eq!(json["onlyFirst"]["witness"]["action"], "s3:putobject", "{json}");
    assert_eq!(json["onlySecond"]["answer"], "no", "{json}");
    let (code, _, out) = analyze(&["compare", &reader, &guarded]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("incomparable"), "{out}");

    // A CI gate: the new policy must grant nothing the old one did not.
    let (code, json, out) =
        analyze(&["check-no-new-access", &writer, "--reference", &reader, "--json"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(json["result"], "FAIL");
    assert_eq!(json["reasons"][0]["witness"]["action"], "s3:putobject", "{json}");
    let (code, json, _) =
        analyze(&["check-no-new-access", &reader, "--reference", &writer, "--json"]);
    assert_eq!((code, json["result"].as_str()), (0, Some("PASS")));

    let (code, json, _) = analyze(&[
        "check-access-not-granted",
        &guarded,
        "--actions",
        "s3:GetObject,s3:PutObject",
        "--resources",
        "arn:aws:s3:::data/*",
        "--json",
    ]);
    assert_eq!((code, json["result"].as_str()), (0, Some("PASS")), "{json}");
    let (code, json, _) =
        analyze(&["check-access-not-granted", &guarded, "--actions", "s3:DeleteObject", "--json"]);
    assert_eq!((code, json["result"].as_str()), (1, Some("FAIL")), "{json}");
    assert!(!json["reasons"][0]["witness"]["resource"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:s3:::data/"));

    // Conditions: the witness carries the context that lets it through.
    let (code, json, _) =
        analyze(&["check-no-new-access", &conditional, "--reference", &reader, "--json"]);
    assert_eq!((code, json["result"].as_str()), (1, Some("FAIL")), "{json}");
    assert_eq!(json["reasons"][0]["witness"]["context"]["aws:securetransport"], "true", "{json}");
    // Not yet encodable: unknown with the reason, never a guess.
    let (code, json, _) =
        analyze(&["check-no-new-access", &binary, "--reference", &reader, "--json"]);
    assert_eq!(code, 3, "{json}");
    assert!(json["reason"].as_str().unwrap().contains("BinaryEquals"), "{json}");
    // Bad input.
    let (code, _, out) =
        analyze(&["compare", &reader, &dir.join("missing.json").display().to_string()]);
    assert_eq!(code, 2, "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The same checks served as IAM Access Analyzer's API, driven by aws-cli.
#[test]
fn access_analyzer_api_from_aws_cli() {
    let server = common::start("analyzer");
    let t = common::create_tenant(&server, "acme");
    let aws = |args: &[&str]| common::aws(&server.url, &t.key, &t.secret, args);
    let reader = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}"#;
    let writer = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"},{"Sid":"Write","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::data/*"}]}"#;
    let conditional = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
    let binary = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"BinaryEquals":{"x:k":"QUJD"}}}]}"#;

    let no_new_access = |new: &str, existing: &str| {
        aws(&[
            "accessanalyzer",
            "check-no-new-access",
            "--new-policy-document",
            new,
            "--existing-policy-document",
            existing,
            "--policy-type",
            "IDENTITY_POLICY",
        ])
    };
    let not_granted = |key: &str, secret: &str, policy: &str, access: &str| {
        common::aws(
            &server.url,
            key,
            secret,
            &[
                "accessanalyzer",
                "check-access-not-granted",
                "--policy-document",
                policy,
                "--access",
                access,
                "--policy-type",
                "IDENTITY_POLICY",
            ],
        )
    };

    let (ok, out, err) = no_new_access(writer, reader);
    assert!(ok, "{err}");
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["result"], "FAIL", "{answer}");
    assert_eq!(answer["reasons"][0]["statementIndex"], 1, "{answer}");
    assert_eq!(answer["reasons"][0]["statementId"], "Write", "{answer}");
    let (ok, out, err) = no_new_access(reader, writer);
    assert!(ok, "{err}");
    assert!(out.contains("\"PASS\""), "{out}");

    let (ok, out, err) =
        not_granted(&t.key, &t.secret, reader, "actions=s3:PutObject,s3:DeleteObject");
    assert!(ok, "{err}");
    assert!(out.contains("\"PASS\""), "{out}");
    let access = "actions=s3:PutObject,resources=arn:aws:s3:::data/reports/*";
    let (ok, out, err) = not_granted(&t.key, &t.secret, writer, access);
    assert!(ok, "{err}");
    assert!(out.contains("\"FAIL\""), "{out}");

    // Conditions are analyzed; the reason names the context of the witness.
    let (ok, out, err) = no_new_access(conditional, reader);
    assert!(ok, "{err}");
    assert!(out.contains("\"FAIL\"") && out.contains("aws:securetransport"), "{out}");
    // Not yet analyzable: refused, never guessed; bad input: a validation error.
    let (ok, _, err) = no_new_access(binary, reader);
    assert!(!ok && err.contains("UnprocessableEntityException"), "{err}");
    let (ok, _, err) = no_new_access("{not json", reader);
    assert!(!ok && err.contains("ValidationException"), "{err}");

    // Authorized like any action: a user without access-analyzer permissions is refused.
    let (ok, _, err) = aws(&["iam", "create-user", "--user-name", "nobody"]);
    assert!(ok, "{err}");
    let (k, s) = common::create_user_key(&server.url, &t.key, &t.secret, "nobody");
    let (ok, _, err) = not_granted(&k, &s, reader, "actions=s3:PutObject");
    assert!(!ok && err.contains("AccessDenied"), "{err}");
}
