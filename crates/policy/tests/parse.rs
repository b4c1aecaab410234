#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The parser: every accepted form, every rejection with its code and location.

use policy::ast::{PrincipalKind, PrincipalSet};
use policy::condition::{OpKind, SetQualifier};
use policy::{parse_policy, Effect, Version};

fn codes(text: &str) -> Vec<&'static str> {
    parse_policy(text).expect_err("should be rejected").0.iter().map(|e| e.code).collect()
}

#[test]
fn accepts_every_element_in_string_and_array_forms() {
    let p = parse_policy(
        r#"{
  "Version": "2012-10-17",
  "Id": "doc-1",
  "Statement": [
    {
      "Sid": "A1",
      "Effect": "Allow",
      "Principal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:user/a"], "Service": "s3.amazonaws.com",
                    "Federated": "accounts.google.com", "CanonicalUser": "79a59df900b949e55d96a1e698fbaced"},
      "Action": ["s3:GetObject", "s3:List*"],
      "Resource": "arn:aws:s3:::b/*",
      "Condition": {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", "b"]}, "NumericLessThan": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": true}}
    },
    {"Effect": "Deny", "NotPrincipal": "*", "NotAction": "iam:*", "NotResource": ["arn:aws:iam::*:role/x"]}
  ]
}"#,
    )
    .unwrap();
    assert_eq!(p.version, Version::V2012_10_17);
    assert_eq!(p.id.as_deref(), Some("doc-1"));
    assert_eq!(p.statements.len(), 2);
    let s0 = &p.statements[0];
    assert_eq!(s0.sid.as_deref(), Some("A1"));
    assert_eq!(s0.effect, Effect::Allow);
    let PrincipalSet::Named(entries) = &s0.principal.as_ref().unwrap().set else { panic!() };
    let kinds: Vec<_> = entries.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            PrincipalKind::Aws,
            PrincipalKind::Aws,
            PrincipalKind::Service,
            PrincipalKind::Federated,
            PrincipalKind::CanonicalUser
        ]
    );
    assert_eq!(s0.conditions.len(), 3);
    let c = &s0.conditions[0];
    assert_eq!(c.operator.kind, OpKind::StringLike);
    assert_eq!(c.operator.qualifier, SetQualifier::ForAnyValue);
    assert!(c.operator.if_exists);
    assert_eq!(c.values.len(), 2);
    assert_eq!(s0.conditions[1].values[0].raw, "10");
    assert_eq!(s0.conditions[1].values[0].json_kind, "number");
    assert_eq!(s0.conditions[2].values[0].raw, "true");
    let s1 = &p.statements[1];
    assert!(s1.principal.as_ref().unwrap().negated);
    assert!(s1.action.negated);
    assert!(s1.resource.as_ref().unwrap().negated);
    // Locations: line, column and JSON path.
    assert_eq!(s0.location.path, "$.Statement[0]");
    assert_eq!(s0.location.pos.line, 5);
    assert_eq!(s0.action.actions[1].location.path, "$.Statement[0].Action[1]");
    assert_eq!(s0.action.actions[1].location.pos.line, 10);
    assert_eq!(
        c.key_location.path,
        "$.Statement[0].Condition.ForAnyValue:StringLikeIfExists.aws:TagKeys"
    );
}

#[test]
fn statement_as_single_object_and_default_version() {
    let p = parse_policy(r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#)
        .unwrap();
    assert!(!p.statement_is_array);
    assert!(!p.version_explicit);
    assert_eq!(p.version, Version::V2008_10_17);
    // Variables are literal text in 2008-10-17.
    let p = parse_policy(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}"}}"#,
    )
    .unwrap();
    assert!(!p.statements[0].resource.as_ref().unwrap().resources[0].template.has_variables());
}

#[test]
fn rejects_what_iam_rejects() {
    let cases: &[(&str, &str)] = &[
        ("not json", "INVALID_JSON"),
        ("[]", "NOT_AN_OBJECT"),
        (r#"{"Version":"2012-10-17"}"#, "MISSING_STATEMENT"),
        (r#"{"Version":"2012-10-17","Statement":[]}"#, "MISSING_STATEMENT"),
        (
            r#"{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            "INVALID_VERSION",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"*","Resource":"*"}}"#,
            "INVALID_EFFECT",
        ),
        (r#"{"Version":"2012-10-17","Statement":{"Action":"*","Resource":"*"}}"#, "MISSING_EFFECT"),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}"#,
            "MISSING_ACTION",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}}"#,
            "ACTION_AND_NOTACTION",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}"#,
            "RESOURCE_AND_NOTRESOURCE",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"*","Resource":"*"}}"#,
            "PRINCIPAL_AND_NOTPRINCIPAL",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3GetObject","Resource":"*"}}"#,
            "INVALID_ACTION",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"bucket"}}"#,
            "INVALID_RESOURCE",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}}"#,
            "UNKNOWN_CONDITION_OPERATOR",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"a":"true"}}}}"#,
            "UNKNOWN_CONDITION_OPERATOR",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Extra":1}}"#,
            "UNKNOWN_ELEMENT",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"effect":"Allow","Action":"*","Resource":"*"}}"#,
            "UNKNOWN_ELEMENT",
        ),
        (
            r#"{"Version":"2012-10-17","Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            "DUPLICATE_ELEMENT",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}"#,
            "DUPLICATE_SID",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#,
            "EMPTY_ARRAY",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[1],"Resource":"*"}}"#,
            "INVALID_TYPE",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"me","Action":"*","Resource":"*"}}"#,
            "INVALID_PRINCIPAL",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{},"Action":"*","Resource":"*"}}"#,
            "EMPTY_PRINCIPAL",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":{"b":"c"}}}}}"#,
            "INVALID_CONDITION_VALUE",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":"b","A":"c"}}}}"#,
            "DUPLICATE_ELEMENT",
        ),
        (r#"{"Version":"2012-10-17","Statement":"x"}"#, "INVALID_STATEMENT"),
    ];
    for (text, code) in cases {
        assert!(codes(text).contains(code), "{text} should give {code}, gave {:?}", codes(text));
    }
}

#[test]
fn errors_point_at_the_element() {
    let err = parse_policy("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\n    \"Effect\": \"Permit\",\n    \"Action\": \"*\", \"Resource\": \"*\"\n  }\n}")
        .unwrap_err();
    let e = &err.0[0];
    assert_eq!(e.code, "INVALID_EFFECT");
    assert_eq!(e.location.path, "$.Statement.Effect");
    assert_eq!((e.location.pos.line, e.location.pos.column), (4, 15));
    assert!(e.message.contains("`Permit`"), "{}", e.message);
}

#[test]
fn reports_every_error_not_just_the_first() {
    let errs = codes(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"nope","Resource":"*"}]}"#,
    );
    assert_eq!(errs, ["INVALID_EFFECT", "INVALID_ACTION"]);
}

#[test]
fn lenient_parse_keeps_what_aws_still_evaluates() {
    let text = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["s3:GetObject,PutObject","s3:","s3:ListBucket"],"Resource":"*"},
        {"Effect":"Allow","Principal":"arn:aws:iam::111122223333:role/r","Action":"s3:GetObject","Resource":"*"}]}"#;
    assert_eq!(codes(text), ["INVALID_ACTION", "INVALID_ACTION", "INVALID_PRINCIPAL"]);
    let (p, findings) = policy::parse_policy_lenient(text).unwrap();
    let found: Vec<&str> = findings.iter().map(|f| f.code).collect();
    assert_eq!(found, ["INVALID_ACTION", "INVALID_ACTION", "INVALID_PRINCIPAL"]);
    assert!(findings.iter().all(|f| f.severity == policy::validate::Severity::Warning));
    assert!(findings[0].message.contains("matches nothing"), "{}", findings[0].message);
    let never: Vec<bool> = p.statements[0].action.actions.iter().map(|a| a.never).collect();
    assert_eq!(never, [true, true, false]);
    match &p.statements[1].principal.as_ref().unwrap().set {
        PrincipalSet::Named(entries) => {
            assert_eq!(entries.len(), 1);
            assert_eq!(entries[0].kind, PrincipalKind::Aws);
            assert_eq!(entries[0].value, "arn:aws:iam::111122223333:role/r");
        }
        PrincipalSet::Any => panic!("a bare ARN is not `*`"),
    }

    let empty = r#"{"Version":"2012-10-17","Statement":[]}"#;
    assert_eq!(codes(empty), ["MISSING_STATEMENT"]);
    let (p, findings) = policy::parse_policy_lenient(empty).unwrap();
    assert!(p.statements.is_empty());
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].code, "MISSING_STATEMENT");

    // What AWS gives no meaning to stays refused.
    let no_service = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}"#;
    assert!(policy::parse_policy_lenient(no_service).is_err());
    let number = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":7,"Action":"*","Resource":"*"}]}"#;
    assert!(policy::parse_policy_lenient(number).is_err());
}
