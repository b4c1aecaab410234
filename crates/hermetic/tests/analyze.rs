#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `hermetic analyze`: compare, the Access Analyzer checks, public, external, can-access and
//! effective on policy files, with their JSON answers and exit codes (0 PASS/answered, 1 FAIL
//! or "no", 3 unknown, 2 bad input); and the Access Analyzer API from aws-cli.

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
    let unencodable = write(
        &dir,
        "unencodable.json",
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"${aws:PrincipalTag/n}"}}}"#,
    );

    let (code, json, out) = analyze(&["compare", &writer, &reader, "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json["verdict"], "more permissive", "{json}");
    assert_eq!(json["onlyFirst"]["witness"]["action"], "s3:putobject", "{json}");
    assert_eq!(json["onlySecond"]["answer"], "no", "{json}");
    let (code, _, out) = analyze(&["compare", &reader, &guarded]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with(&format!("{reader} and {guarded} are incomparable\n")), "{out}");

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
        analyze(&["check-no-new-access", &unencodable, "--reference", &reader, "--json"]);
    assert_eq!(code, 3, "{json}");
    assert!(json["reason"].as_str().unwrap().contains("policy variable"), "{json}");
    // Bad input.
    let (code, _, out) =
        analyze(&["compare", &reader, &dir.join("missing.json").display().to_string()]);
    assert_eq!(code, 2, "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn analyze_resource_policies_and_scenarios() {
    let dir = common::unique_dir("analyze-resource");
    std::fs::create_dir_all(&dir).unwrap();
    let open = write(
        &dir,
        "open.json",
        r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}"#,
    );
    let org = write(
        &dir,
        "org.json",
        r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}},
           {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket"}"#,
    );
    let owner = ["--owner", "111122223333"];

    // public: yes with a witness caller, or proved no.
    let (code, json, out) = analyze(&["public", &open, "--json", owner[0], owner[1]]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json["public"]["answer"], "yes", "{json}");
    let (_, json, _) = analyze(&["public", &org, "--json", owner[0], owner[1]]);
    assert_eq!(json["public"]["answer"], "no", "{json}");
    let (code, json, out) =
        analyze(&["check-no-public-access", &open, "--resource-type", "AWS::S3::Bucket", "--json"]);
    assert_eq!((code, json["result"].as_str()), (1, Some("FAIL")), "{out}");
    let (code, _, out) =
        analyze(&["check-no-public-access", &org, "--resource-type", "AWS::S3::Bucket"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("PASS"), "{out}");
    let (code, _, out) =
        analyze(&["check-no-public-access", &org, "--resource-type", "AWS::Nope::Thing"]);
    assert_eq!(code, 2, "{out}");

    // compare in the resource view: the organisation condition narrows the grant.
    let (code, json, out) =
        analyze(&["compare", &open, &org, "--type", "resource", "--json", owner[0], owner[1]]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json["verdict"], "incomparable", "{json}");

    // external: the organisation grant and the account grant, with their conditions.
    let (code, json, out) = analyze(&["external", &org, "--json", owner[0], owner[1]]);
    assert_eq!(code, 0, "{out}");
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{json}");
    assert_eq!(findings[0]["principal"]["AWS"], "*", "{json}");
    assert_eq!(findings[0]["condition"]["aws:principalorgid"][0], "o-1", "{json}");
    assert_eq!(findings[1]["principal"]["AWS"], "444455556666", "{json}");
    assert_eq!(findings[1]["action"][0], "s3:listbucket", "{json}");

    // can-access and effective over a scenario file (policy simulate's keys).
    let scenario = dir.join("scenario.json");
    std::fs::write(
        &scenario,
        r#"{"identityPolicies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}],
            "permissionBoundaries":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}]}"#,
    )
    .unwrap();
    let scenario = scenario.display().to_string();
    let user = "arn:aws:iam::111122223333:user/alice";
    let ask = |action: &str, all: bool| {
        let mut args = vec![
            "can-access",
            "--policies",
            &scenario,
            "--principal",
            user,
            "--action",
            action,
            "--resource",
            "arn:aws:s3:::bucket/k",
            "--json",
        ];
        if all {
            args.push("--all-contexts");
        }
        analyze(&args)
    };
    let (code, json, out) = ask("s3:GetObject", false);
    assert_eq!((code, json["answer"].as_str()), (0, Some("yes")), "{out}");
    assert_eq!(json["witness"]["context"]["aws:multifactorauthpresent"], "true", "{json}");
    let (code, json, out) = ask("s3:GetObject", true);
    assert_eq!((code, json["answer"].as_str()), (1, Some("no")), "{out}");
    let (code, json, out) = ask("s3:PutObject", false);
    assert_eq!((code, json["answer"].as_str()), (1, Some("no")), "{out}");
    let (code, json, out) = ask("s3:ListBucket", true);
    assert_eq!((code, json["answer"].as_str()), (0, Some("yes")), "{out}");
    let (code, json, out) = analyze(&[
        "effective",
        "--policies",
        &scenario,
        "--principal",
        user,
        "--resource",
        "arn:aws:s3:::bucket/*",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}");
    let statements = json["policy"]["Statement"].as_array().unwrap();
    assert_eq!(statements[0]["Sid"], "Always", "{json}");
    assert_eq!(statements[0]["Action"], serde_json::json!(["s3:listbucket"]), "{json}");
    assert_eq!(statements[1]["Sid"], "Conditional", "{json}");
    assert!(statements[1]["Action"].as_array().unwrap().contains(&"s3:getobject".into()), "{json}");
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
    let unencodable = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"${aws:PrincipalTag/n}"}}}]}"#;

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
    // Resource policies: CheckNoNewAccess in the resource view, and CheckNoPublicAccess.
    let open_bucket = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#;
    let org_bucket = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}"#;
    let (ok, out, err) = aws(&[
        "accessanalyzer",
        "check-no-new-access",
        "--new-policy-document",
        open_bucket,
        "--existing-policy-document",
        org_bucket,
        "--policy-type",
        "RESOURCE_POLICY",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("\"FAIL\""), "{out}");
    let public = |policy: &str| {
        aws(&[
            "accessanalyzer",
            "check-no-public-access",
            "--policy-document",
            policy,
            "--resource-type",
            "AWS::S3::Bucket",
        ])
    };
    let (ok, out, err) = public(open_bucket);
    assert!(ok, "{err}");
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["result"], "FAIL", "{answer}");
    assert_eq!(answer["reasons"][0]["statementIndex"], 0, "{answer}");
    let (ok, out, err) = public(org_bucket);
    assert!(ok && out.contains("\"PASS\""), "{out}{err}");
    let (ok, _, err) = aws(&[
        "accessanalyzer",
        "check-no-public-access",
        "--policy-document",
        open_bucket,
        "--resource-type",
        "AWS::CloudTrail::Dashboard",
    ]);
    assert!(!ok && err.contains("ValidationException"), "{err}");

    // Not yet analyzable: refused, never guessed; bad input: a validation error.
    let (ok, _, err) = no_new_access(unencodable, reader);
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

/// ValidatePolicy served as IAM Access Analyzer's API, driven by aws-cli: findings with their
/// paths and spans, pages, policy types, and refusals.
#[test]
fn validate_policy_from_aws_cli() {
    let server = common::start("validate-policy");
    let t = common::create_tenant(&server, "acme");
    let run = |key: &str, secret: &str, policy: &str, policy_type: &str, extra: &[&str]| {
        let mut args = vec![
            "accessanalyzer",
            "validate-policy",
            "--policy-type",
            policy_type,
            "--policy-document",
            policy,
        ];
        args.extend_from_slice(extra);
        let (ok, out, err) = common::aws(&server.url, key, secret, &args);
        (ok, serde_json::from_str(&out).unwrap_or(serde_json::Value::Null), err)
    };
    let validate = |policy: &str, policy_type: &str, extra: &[&str]| {
        let (ok, answer, err) = run(&t.key, &t.secret, policy, policy_type, extra);
        assert!(ok, "{err}");
        answer
    };
    let codes = |answer: &serde_json::Value| -> Vec<String> {
        answer["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["issueCode"].as_str().unwrap().to_string())
            .collect()
    };

    // A clean policy: no findings.
    let clean = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}"#;
    assert_eq!(validate(clean, "IDENTITY_POLICY", &[]), serde_json::json!({ "findings": [] }));

    // An unknown action: an ERROR located by path and by span (line from 1, column and offset
    // from 0, end exclusive, the quotes included).
    let bad = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": [\"s3:GetObject\", \"s3:GetObjectt\"],\n      \"Resource\": \"*\"\n    }\n  ]\n}";
    let answer = validate(bad, "IDENTITY_POLICY", &[]);
    assert_eq!(codes(&answer), ["UNKNOWN_ACTION"], "{answer}");
    let f = &answer["findings"][0];
    assert_eq!(f["findingType"], "ERROR");
    assert!(f["findingDetails"].as_str().unwrap().contains("s3:GetObjectt"), "{f}");
    assert!(f["learnMoreLink"].as_str().unwrap().starts_with("https://docs.aws.amazon.com/"));
    let location = &f["locations"][0];
    assert_eq!(
        location["path"],
        serde_json::json!([{ "value": "Statement" }, { "index": 0 }, { "value": "Action" }, { "index": 1 }])
    );
    let offset = bad.find("\"s3:GetObjectt\"").unwrap();
    let column = offset - bad[..offset].rfind('\n').unwrap() - 1;
    assert_eq!(
        location["span"],
        serde_json::json!({
            "start": { "line": 6, "column": column, "offset": offset },
            "end": { "line": 6, "column": column + 15, "offset": offset + 15 },
        })
    );
    // A bad Effect.
    let effect = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Action":"s3:GetObject","Resource":"*"}]}"#;
    let answer = validate(effect, "IDENTITY_POLICY", &[]);
    assert_eq!(codes(&answer), ["INVALID_EFFECT"], "{answer}");
    let start = effect.find("\"Permit\"").unwrap();
    let span = &answer["findings"][0]["locations"][0]["span"];
    assert_eq!(
        (span["start"]["offset"].as_u64(), span["end"]["offset"].as_u64()),
        (Some(start as u64), Some(start as u64 + 8))
    );
    // A finding about a member's name (a condition key): the path ends with a `key`, the span
    // covers the name.
    let unknown_key = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:NoSuchKey":"x"}}}]}"#;
    let answer = validate(unknown_key, "IDENTITY_POLICY", &[]);
    let f = answer["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["issueCode"] == "UNKNOWN_CONDITION_KEY")
        .unwrap_or_else(|| panic!("{answer}"));
    let location = &f["locations"][0];
    assert_eq!(
        location["path"],
        serde_json::json!([
            { "value": "Statement" }, { "index": 0 }, { "value": "Condition" },
            { "value": "StringEquals" }, { "key": "aws:NoSuchKey" }
        ]),
        "{answer}"
    );
    let start = unknown_key.find("\"aws:NoSuchKey\"").unwrap() as u64;
    assert_eq!(location["span"]["start"]["offset"].as_u64(), Some(start));
    assert_eq!(location["span"]["end"]["offset"].as_u64(), Some(start + 15));
    // Not JSON: findings (the syntax error), not an error.
    let answer = validate("{not json", "IDENTITY_POLICY", &[]);
    assert_eq!(codes(&answer), ["INVALID_JSON"], "{answer}");
    assert_eq!(answer["findings"][0]["locations"][0]["path"], serde_json::json!([]));

    // The example of aws-cli's documentation: the same path and span as AWS answers for the
    // empty Sid.
    let cognito = r#"{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "",
            "Effect": "Allow",
            "Principal": {
                "Federated": "cognito-identity.amazonaws.com"
            },
            "Action": [
                "sts:AssumeRole",
                "sts:TagSession"
            ],
            "Condition": {
                "StringEquals": {
                    "cognito-identity.amazonaws.com:aud": "us-west-2_EXAMPLE"
                }
            }
        }
    ]
}"#;
    let answer = validate(cognito, "RESOURCE_POLICY", &[]);
    let empty_sid = answer["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["issueCode"] == "EMPTY_SID_VALUE")
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(empty_sid["findingType"], "SUGGESTION");
    assert_eq!(
        empty_sid["locations"],
        serde_json::json!([{
            "path": [{ "value": "Statement" }, { "index": 0 }, { "value": "Sid" }],
            "span": {
                "start": { "line": 5, "column": 19, "offset": 79 },
                "end": { "line": 5, "column": 21, "offset": 81 },
            },
        }])
    );

    // Pages: aws-cli follows nextToken (--page-size is maxResults) or cuts (--max-items).
    let many = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Nope1","s3:Nope2","s3:Nope3"],"Resource":"*"}]}"#;
    let all = validate(many, "IDENTITY_POLICY", &[]);
    assert_eq!(codes(&all), ["UNKNOWN_ACTION"; 3], "{all}");
    assert_eq!(validate(many, "IDENTITY_POLICY", &["--page-size", "1"]), all);
    let first = validate(many, "IDENTITY_POLICY", &["--page-size", "1", "--max-items", "2"]);
    assert_eq!(first["findings"].as_array().unwrap()[..], all["findings"].as_array().unwrap()[..2]);
    let token = first["NextToken"].as_str().unwrap();
    let rest = validate(many, "IDENTITY_POLICY", &["--page-size", "1", "--starting-token", token]);
    assert_eq!(rest["findings"].as_array().unwrap()[..], all["findings"].as_array().unwrap()[2..]);
    // A token this operation did not hand out.
    let (ok, _, err) =
        run(&t.key, &t.secret, many, "IDENTITY_POLICY", &["--starting-token", "bogus"]);
    assert!(!ok && err.contains("ValidationException"), "{err}");

    // Policy types: resource policies need a principal; a role trust policy has no resource; an
    // SCP has no principal.
    let no_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}"#;
    let answer = validate(no_principal, "RESOURCE_POLICY", &[]);
    assert_eq!(codes(&answer), ["MISSING_PRINCIPAL"], "{answer}");
    assert_eq!(
        answer["findings"][0]["locations"][0]["path"],
        serde_json::json!([{ "value": "Statement" }, { "index": 0 }])
    );
    let public = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}"#;
    let answer = validate(
        public,
        "RESOURCE_POLICY",
        &["--validate-policy-resource-type", "AWS::S3::Bucket"],
    );
    assert!(codes(&answer).contains(&"PUBLIC_PRINCIPAL".to_string()), "{answer}");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}]}"#;
    let answer = validate(
        trust,
        "RESOURCE_POLICY",
        &["--validate-policy-resource-type", "AWS::IAM::AssumeRolePolicyDocument"],
    );
    assert!(codes(&answer).contains(&"TRUST_POLICY_WITH_RESOURCE".to_string()), "{answer}");
    let answer = validate(public, "SERVICE_CONTROL_POLICY", &[]);
    assert!(codes(&answer).contains(&"SCP_SYNTAX_ERROR_PRINCIPAL".to_string()), "{answer}");

    // Bad input: a validation error.
    let (ok, _, err) = run(&t.key, &t.secret, clean, "NOT_A_POLICY_TYPE", &[]);
    assert!(!ok && err.contains("ValidationException"), "{err}");
    let (ok, _, err) = run(
        &t.key,
        &t.secret,
        clean,
        "IDENTITY_POLICY",
        &["--validate-policy-resource-type", "AWS::S3::Bucket"],
    );
    assert!(!ok && err.contains("ValidationException"), "{err}");

    // Authorized as access-analyzer:ValidatePolicy.
    let (ok, _, err) = common::aws(
        &server.url,
        &t.key,
        &t.secret,
        &["iam", "create-user", "--user-name", "nobody"],
    );
    assert!(ok, "{err}");
    let (k, s) = common::create_user_key(&server.url, &t.key, &t.secret, "nobody");
    let (ok, _, err) = run(&k, &s, clean, "IDENTITY_POLICY", &[]);
    assert!(
        !ok && err.contains("AccessDenied") && err.contains("access-analyzer:ValidatePolicy"),
        "{err}"
    );
}
