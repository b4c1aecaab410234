#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Conditions, derived keys and policy variables in the identity view: known answers, and every
//! pair of each group of a corpus compared both ways, each `no` checked against brute-force
//! enumeration of the evaluator over requests built from the pair's own constants (callers,
//! actions, resources, context values and lists), each `yes` replayed.

mod common;

use policy::value::IpNet;

use reason::{compare, identity_view_allows, Answer, Verdict, Witness, Z3};

fn policy(statements: &str) -> policy::Policy {
    policy::parse_policy(&format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#))
        .unwrap()
}

fn allow_if(action: &str, resource: &str, condition: &str) -> String {
    format!(
        r#"{{"Effect":"Allow","Action":"{action}","Resource":"{resource}","Condition":{condition}}}"#
    )
}

fn allow(action: &str, resource: &str) -> String {
    format!(r#"{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}"#)
}

fn deny_if(action: &str, resource: &str, condition: &str) -> String {
    format!(
        r#"{{"Effect":"Deny","Action":"{action}","Resource":"{resource}","Condition":{condition}}}"#
    )
}

fn verdict(a: &str, b: &str) -> (Verdict, reason::Comparison) {
    let c = compare(&policy(a), &policy(b), &mut Z3::default());
    (c.verdict(), c)
}

#[test]
fn username_in_a_resource_is_per_caller() {
    let own = allow("s3:GetObject", "arn:aws:s3:::bucket/home/${aws:username}/*");
    let fixed = allow("s3:GetObject", "arn:aws:s3:::bucket/home/analyst/*");
    let all = allow("s3:GetObject", "arn:aws:s3:::bucket/home/*");
    let (v, c) = verdict(&own, &fixed);
    assert_eq!(v, Verdict::Incomparable, "{c:?}");
    let Answer::Yes(w) = &c.a_not_b else { panic!() };
    assert!(!w.principal.ends_with("/analyst"), "{w:?}");
    let (v, c) = verdict(&all, &own);
    assert_eq!(v, Verdict::MorePermissive, "{c:?}");
}

#[test]
fn string_like_is_wider_than_arn_like_on_arns() {
    let arn = allow_if("sqs:*", "*", r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sqs:u*1:orders"}}"#);
    let string =
        allow_if("sqs:*", "*", r#"{"StringLike":{"aws:SourceArn":"arn:aws:sqs:u*1:orders"}}"#);
    let (v, c) = verdict(&string, &arn);
    assert_eq!(v, Verdict::MorePermissive, "{c:?}");
    let Answer::Yes(w) = &c.a_not_b else { panic!() };
    let value = &w.context.iter().find(|(k, _, _)| k == "aws:sourcearn").unwrap().1[0];
    assert!(value.matches(':').count() > 4, "{w:?}");
}

#[test]
fn a_deny_on_insecure_transport_needs_the_key() {
    let open = allow("s3:*", "*");
    let guarded = format!(
        "{},{}",
        allow("s3:*", "*"),
        deny_if("s3:*", "*", r#"{"Bool":{"aws:SecureTransport":"false"}}"#)
    );
    let (v, c) = verdict(&guarded, &open);
    assert_eq!(v, Verdict::LessPermissive, "{c:?}");
    let Answer::Yes(w) = &c.b_not_a else { panic!() };
    // Denied when the key says false, or is malformed (fail closed).
    let value = &w.context.iter().find(|(k, _, _)| k == "aws:securetransport").unwrap().1[0];
    assert!(value == "false" || value == "x", "{w:?}");
}

#[test]
fn numbers_and_dates_compare_exactly() {
    let below_ten = allow_if("s3:*", "*", r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#);
    let at_most_nine_and_a_half =
        allow_if("s3:*", "*", r#"{"NumericLessThanEquals":{"s3:max-keys":"9.5"}}"#);
    let (v, c) = verdict(&below_ten, &at_most_nine_and_a_half);
    assert_eq!(v, Verdict::MorePermissive, "{c:?}");
    let Answer::Yes(w) = &c.a_not_b else { panic!() };
    let n: f64 = w.context[0].1[0].parse().unwrap();
    assert!(n > 9.5 && n < 10.0, "{w:?}");
    let after =
        allow_if("s3:*", "*", r#"{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}"#);
    let after_epoch =
        allow_if("s3:*", "*", r#"{"DateGreaterThan":{"aws:CurrentTime":"1704067200"}}"#);
    assert_eq!(verdict(&after, &after_epoch).0, Verdict::Equivalent);
}

#[test]
fn ip_ranges_nest() {
    let ten = allow_if("s3:*", "*", r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#);
    let ten_one = allow_if("s3:*", "*", r#"{"IpAddress":{"aws:SourceIp":["10.1.0.0/16"]}}"#);
    let (v, c) = verdict(&ten, &ten_one);
    assert_eq!(v, Verdict::MorePermissive, "{c:?}");
    let Answer::Yes(w) = &c.a_not_b else { panic!() };
    let ip = &w.context[0].1[0];
    let net = IpNet::parse("10.0.0.0/8").unwrap();
    let sub = IpNet::parse("10.1.0.0/16").unwrap();
    let addr = IpNet::parse(ip).unwrap();
    assert!(net.contains(&addr) && !sub.contains(&addr), "{w:?}");
}

#[test]
fn binary_values_compare_decoded() {
    // `QQ==` and `QR` both decode to the byte `A` (the last character's low bits are unused).
    let padded = allow_if("s3:*", "*", r#"{"BinaryEquals":{"x:blob":"QQ=="}}"#);
    let bare = allow_if("s3:*", "*", r#"{"BinaryEquals":{"x:blob":"QR"}}"#);
    let (v, c) = verdict(&padded, &bare);
    assert_eq!(v, Verdict::Equivalent, "{c:?}");
    // As text they differ.
    let text = allow_if("s3:*", "*", r#"{"StringEquals":{"x:blob":"QQ=="}}"#);
    let (v, c) = verdict(&padded, &text);
    assert_eq!(v, Verdict::MorePermissive, "{c:?}");
    let Answer::Yes(w) = &c.a_not_b else { panic!("{c:?}") };
    let value = &w.context.iter().find(|(k, _, _)| k == "x:blob").unwrap().1[0];
    assert_ne!(value, "QQ==", "{w:?}");
    assert_eq!(policy::value::decode_base64(value), Some(b"A".to_vec()), "{w:?}");
}

#[test]
fn variables_in_condition_values_relate_keys() {
    // A home prefix per user is narrower than any prefix under home/.
    let own =
        allow_if("s3:ListBucket", "*", r#"{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}"#);
    let any = allow_if("s3:ListBucket", "*", r#"{"StringLike":{"s3:prefix":"home/*"}}"#);
    let (v, c) = verdict(&own, &any);
    assert_eq!(v, Verdict::LessPermissive, "{c:?}");
    let Answer::Yes(w) = &c.b_not_a else { panic!("{c:?}") };
    let user = w.principal.rsplit('/').next().unwrap();
    let prefix = &w.context.iter().find(|(k, _, _)| k == "s3:prefix").unwrap().1[0];
    assert!(!prefix.starts_with(&format!("home/{user}/")), "{w:?}");
    // ABAC: the resource's team tag must equal the caller's.
    let abac = allow_if(
        "s3:ListBucket",
        "*",
        r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}"#,
    );
    let (v, c) = verdict(&abac, &allow("s3:ListBucket", "*"));
    assert_eq!(v, Verdict::LessPermissive, "{c:?}");
    let Answer::Yes(w) = &c.b_not_a else { panic!("{c:?}") };
    let tag = |k: &str| w.context.iter().find(|(key, _, _)| key == k).map(|(_, v, _)| v.clone());
    let resource_tag = tag("aws:resourcetag/team");
    assert!(resource_tag.is_none() || resource_tag != tag("aws:principaltag/team"), "{w:?}");
    // With both tags present and equal it is allowed.
    let same = Witness {
        context: vec![
            ("aws:resourcetag/team".into(), vec!["red".into()], false),
            ("aws:principaltag/team".into(), vec!["red".into()], false),
        ],
        ..w.clone()
    };
    assert!(identity_view_allows(&policy(&abac), &same).unwrap());
}

#[test]
fn unsupported_conditions_are_unknown() {
    let typed_variable =
        allow_if("s3:*", "*", r#"{"NumericLessThan":{"s3:max-keys":"${aws:PrincipalTag/n}"}}"#);
    let (v, c) = verdict(&typed_variable, &allow("s3:*", "*"));
    assert_eq!(v, Verdict::Unknown, "{c:?}");
    // The identity view's caller has a fixed account and no path: conditions that name another
    // account or match paths are refused rather than decided for that one caller.
    for condition in [
        r#"{"StringEquals":{"aws:ResourceAccount":"123456789012"}}"#,
        r#"{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/admins/*"}}"#,
    ] {
        let (v, c) = verdict(&allow_if("s3:*", "*", condition), &allow("s3:ListAllMyBuckets", "*"));
        assert_eq!(v, Verdict::Unknown, "{c:?}");
    }
}

/// Groups of policies over shared keys; every ordered pair within a group is compared.
fn corpus() -> Vec<Vec<String>> {
    let c = |cond: &str| allow_if("s3:GetObject", "*", cond);
    let strings = vec![
        c(r#"{"StringEquals":{"aws:SourceVpce":"vpce-1"}}"#),
        c(r#"{"StringLike":{"aws:SourceVpce":"vpce-*"}}"#),
        c(r#"{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}"#),
        c(r#"{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}"#),
        c(r#"{"StringEqualsIgnoreCase":{"aws:SourceVpce":"VPCE-1"}}"#),
        allow("s3:GetObject", "*"),
        format!(
            "{},{}",
            allow("s3:GetObject", "*"),
            deny_if("s3:*", "*", r#"{"StringNotLike":{"aws:SourceVpce":"vpce-*"}}"#)
        ),
    ];
    let a = |cond: &str| allow_if("s3:*", "*", cond);
    let typed = vec![
        a(r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#),
        a(r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#),
        a(r#"{"DateLessThanEquals":{"aws:CurrentTime":"2030-01-01"}}"#),
        a(r#"{"DateLessThan":{"aws:CurrentTime":"1893456000"}}"#),
        a(r#"{"NumericGreaterThanEquals":{"s3:max-keys":["9.5","20"]}}"#),
        a(r#"{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}"#),
        a(
            r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01"},"Bool":{"aws:SecureTransport":"true"}}"#,
        ),
        a(r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#),
        a(r#"{"NotIpAddress":{"aws:SourceIp":["10.1.0.0/16","2001:db8::/32"]}}"#),
        a(r#"{"Null":{"aws:SourceIp":"false"}}"#),
        format!(
            "{},{}",
            allow("s3:*", "*"),
            deny_if("s3:*", "*", r#"{"Bool":{"aws:SecureTransport":"false"}}"#)
        ),
        format!(
            "{},{}",
            allow("s3:*", "*"),
            deny_if("s3:Put*", "*", r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#)
        ),
    ];
    let t = |cond: &str| allow_if("s3:PutObject", "*", cond);
    let sets = vec![
        t(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#),
        t(r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"a"}}"#),
        t(r#"{"ForAllValues:StringLike":{"aws:TagKeys":"a*"}}"#),
        allow("s3:PutObject", "*"),
        t(r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}"#),
        t(r#"{"StringEquals":{"aws:TagKeys":"a"}}"#),
        t(
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]},"Null":{"aws:TagKeys":"false"}}"#,
        ),
    ];
    let callers = vec![
        allow("s3:GetObject", "arn:aws:s3:::bucket/home/${aws:username}/*"),
        allow("s3:GetObject", "arn:aws:s3:::bucket/home/analyst/*"),
        allow("s3:GetObject", "arn:aws:s3:::bucket/home/*"),
        allow_if(
            "s3:GetObject",
            "*",
            r#"{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/analyst"}}"#,
        ),
        allow_if("s3:GetObject", "*", r#"{"StringEquals":{"aws:username":"analyst"}}"#),
        allow("s3:GetObject", "arn:aws:s3:::bucket/home/${aws:PrincipalTag/team, 'none'}/*"),
        allow_if(
            "s3:GetObject",
            "*",
            r#"{"StringNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/bob"},"StringEquals":{"aws:PrincipalType":"User"}}"#,
        ),
    ];
    let arns = vec![
        allow_if("sqs:*", "*", r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sqs:u*1:orders"}}"#),
        allow_if("sqs:*", "*", r#"{"StringLike":{"aws:SourceArn":"arn:aws:sqs:u*1:orders"}}"#),
        allow_if(
            "sqs:*",
            "*",
            r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:sqs:us-east-1:111122223333:orders"}}"#,
        ),
        allow_if("sqs:*", "*", r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:sqs:*:*:o*"}}"#),
    ];
    let b = |cond: &str| allow_if("s3:GetObject", "*", cond);
    let binary = vec![
        b(r#"{"BinaryEquals":{"x:blob":"QUJD"}}"#),
        b(r#"{"BinaryEquals":{"x:blob":["QUJD","QUJE"]}}"#),
        b(r#"{"BinaryEqualsIfExists":{"x:blob":"QUI="}}"#),
        b(r#"{"StringEquals":{"x:blob":"QUJD"}}"#),
        allow("s3:GetObject", "*"),
        format!(
            "{},{}",
            allow("s3:GetObject", "*"),
            deny_if("s3:*", "*", r#"{"BinaryEquals":{"x:blob":"QUJE"}}"#)
        ),
    ];
    let v = |cond: &str| allow_if("s3:ListBucket", "*", cond);
    let variables = vec![
        v(r#"{"StringEquals":{"s3:prefix":"home/${aws:username}"}}"#),
        v(r#"{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}"#),
        v(r#"{"StringLike":{"s3:prefix":["home/*","${aws:username}"]}}"#),
        v(r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}"#),
        v(r#"{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team, 'none'}"}}"#),
        v(r#"{"StringNotEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}"#),
        allow("s3:ListBucket", "*"),
    ];
    vec![strings, typed, sets, callers, arns, binary, variables]
}

#[test]
fn conditions_agree_with_brute_force() {
    let mut pairs = 0;
    let mut checked = 0u64;
    for group in corpus() {
        let policies: Vec<policy::Policy> = group.iter().map(|s| policy(s)).collect();
        for (i, a) in policies.iter().enumerate() {
            for b in policies.iter().skip(i + 1) {
                let c = compare(a, b, &mut Z3::default());
                for (x, y, answer) in [(a, b, &c.a_not_b), (b, a, &c.b_not_a)] {
                    match answer {
                        Answer::Yes(w) => {
                            assert!(identity_view_allows(x, w).unwrap());
                            assert!(!identity_view_allows(y, w).unwrap());
                        }
                        Answer::No => {
                            for w in requests(&[x, y]) {
                                checked += 1;
                                let (ax, ay) = (
                                    identity_view_allows(x, &w).unwrap(),
                                    identity_view_allows(y, &w).unwrap(),
                                );
                                assert!(
                                    !ax || ay,
                                    "a `no` with a counterexample: {w:?}\n{x:?}\n{y:?}"
                                );
                            }
                        }
                        other => panic!("{other:?} for\n{x:?}\n{y:?}"),
                    }
                }
                pairs += 1;
            }
        }
    }
    assert!(pairs >= 60, "{pairs}");
    assert!(checked > 10_000, "{checked}");
}

/// The finite request space of decision 006 §7 for these policies.
fn requests(policies: &[&policy::Policy]) -> Vec<Witness> {
    common::requests(policies, common::Callers::Identity, 400_000).unwrap()
}

/// Found by `random::identity_answers_agree_with_the_evaluator` in CI: a key compared with a
/// pattern holding its own variable (`${aws:PrincipalTag/team}`) and a caller-derived one
/// (`home/${aws:username}/*`).
#[test]
fn a_key_compared_with_its_own_variable() {
    let a = r#"{"Effect":"Deny","Action":["iam:Delete*","ec2:RunInstances"],"Resource":"arn:aws:s3:::b?cket/${*}"},
      {"Effect":"Allow","Action":["kms:Decrypt","iam:PutObject"],"Resource":"arn:aws:s3:::*",
       "Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["team-a","a*"]}}}"#;
    let b = r#"{"Effect":"Deny","Action":["sts:Delete*","ec2:Get*","iam:*"],
       "Resource":["arn:aws:s3:::b?cket/${*}","arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'none'}/*"],
       "Condition":{"StringLike":{"aws:PrincipalTag/team":["home/${aws:username}/*","${aws:PrincipalTag/team}"]}}},
      {"Effect":"Deny","Action":["s?:Get*","s3:PassRole"],
       "Resource":["arn:aws:kms:us-east-1:111111111111:key/*","arn:aws:iam::111111111111:role/*"]},
      {"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b?cket/${*}"}"#;
    let (v, c) = verdict(a, b);
    assert!(!matches!(c.a_not_b, Answer::Bug(_)) && !matches!(c.b_not_a, Answer::Bug(_)), "{c:?}");
    assert_eq!(v, Verdict::Incomparable, "{c:?}");
}
