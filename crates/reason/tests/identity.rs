#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The identity view's questions against Z3: known answers, and agreement with brute-force
//! enumeration of the evaluator over requests built from the policies' own constants.

use reason::{compare, grants, identity_view_allows, Answer, Verdict, Witness, Z3};

fn policy(statements: &str) -> policy::Policy {
    policy::parse_policy(&format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#))
        .unwrap()
}

fn allow(action: &str, resource: &str) -> String {
    format!(r#"{{"Effect":"Allow","Action":{action},"Resource":{resource}}}"#)
}

fn deny(action: &str, resource: &str) -> String {
    format!(r#"{{"Effect":"Deny","Action":{action},"Resource":{resource}}}"#)
}

#[test]
fn s3_star_is_more_permissive_than_s3_get_star() {
    let all = policy(&allow(r#""s3:*""#, r#""*""#));
    let get = policy(&allow(r#""s3:Get*""#, r#""*""#));
    let c = compare(&all, &get, &mut Z3::default());
    assert_eq!(c.verdict(), Verdict::MorePermissive, "{c:?}");
    let Answer::Yes(w) = &c.a_not_b else { panic!("{c:?}") };
    assert!(w.action.starts_with("s3:") && !w.action.starts_with("s3:get"), "{w:?}");
}

#[test]
fn a_subsumed_statement_changes_nothing() {
    let a = policy(&allow(r#""s3:GetObject""#, r#""arn:aws:s3:::bucket/*""#));
    let b = policy(&format!(
        "{},{}",
        allow(r#""s3:GetObject""#, r#""arn:aws:s3:::bucket/*""#),
        allow(r#""s3:GetObject""#, r#""arn:aws:s3:::bucket/public/*""#)
    ));
    assert_eq!(compare(&a, &b, &mut Z3::default()).verdict(), Verdict::Equivalent);
}

#[test]
fn a_deny_makes_a_policy_less_permissive() {
    let open = policy(&allow(r#""s3:*""#, r#""*""#));
    let guarded = policy(&format!(
        "{},{}",
        allow(r#""s3:*""#, r#""*""#),
        deny(r#""s3:DeleteObject""#, r#""arn:aws:s3:::prod/*""#)
    ));
    let c = compare(&guarded, &open, &mut Z3::default());
    assert_eq!(c.verdict(), Verdict::LessPermissive, "{c:?}");
    let Answer::Yes(w) = &c.b_not_a else { panic!("{c:?}") };
    assert_eq!(w.action, "s3:deleteobject");
    assert!(w.resource.starts_with("arn:aws:s3:::prod/"), "{w:?}");
}

#[test]
fn arn_wildcards_do_not_cross_colons() {
    // `us-*-1` matches one region, never a region and an account.
    let narrow = policy(&allow(r#""sqs:SendMessage""#, r#""arn:aws:sqs:us-*-1:*:orders""#));
    let plain = policy(&allow(r#""sqs:SendMessage""#, r#""arn:aws:sqs:us-*""#));
    let c = compare(&plain, &narrow, &mut Z3::default());
    assert_eq!(c.verdict(), Verdict::MorePermissive, "{c:?}");
    let Answer::Yes(w) = &c.a_not_b else { panic!("{c:?}") };
    assert!(!narrow_matches(&w.resource), "{w:?}");
}

fn narrow_matches(resource: &str) -> bool {
    policy::pattern::Glob::new("arn:aws:sqs:us-*-1:*:orders", true).matches_arn(resource)
}

#[test]
fn not_action_and_not_resource() {
    let all_but_iam =
        policy(r#"{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::secret/*"}"#);
    assert!(matches!(
        grants(&all_but_iam, &["iam:CreateUser"], &[], &mut Z3::default()),
        Answer::No
    ));
    assert!(matches!(
        grants(&all_but_iam, &["s3:GetObject"], &["arn:aws:s3:::secret/*"], &mut Z3::default()),
        Answer::No
    ));
    let Answer::Yes(w) =
        grants(&all_but_iam, &["s3:GetObject"], &["arn:aws:s3:::*"], &mut Z3::default())
    else {
        panic!()
    };
    assert!(!w.resource.starts_with("arn:aws:s3:::secret/"), "{w:?}");
}

#[test]
fn access_not_granted_checks() {
    let reader = policy(&allow(r#""s3:GetObject""#, r#""arn:aws:s3:::bucket/*""#));
    assert_eq!(grants(&reader, &["s3:PutObject"], &[], &mut Z3::default()), Answer::No);
    assert!(matches!(
        grants(&reader, &["s3:Get*"], &["arn:aws:s3:::bucket/secret/*"], &mut Z3::default()),
        Answer::Yes(_)
    ));
    assert_eq!(
        grants(&reader, &["s3:GetObject"], &["arn:aws:s3:::other/*"], &mut Z3::default()),
        Answer::No
    );
}

#[test]
fn unsupported_constructs_are_unknown_with_the_reason() {
    let conditional = policy(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"x:k":"${aws:PrincipalTag/n}"}}}"#,
    );
    let plain = policy(&allow(r#""s3:*""#, r#""*""#));
    let c = compare(&conditional, &plain, &mut Z3::default());
    assert!(matches!(&c.a_not_b, Answer::Unknown(why) if why.contains("policy variable")), "{c:?}");
    assert_eq!(c.verdict(), Verdict::Unknown);
}

/// Every pair of a small corpus: each `no` is checked against every request built from the
/// policies' constants (wildcards filled in several ways), and each `yes` replayed (`compare`
/// replays its witnesses itself; a `Bug` fails here).
#[test]
fn compare_agrees_with_brute_force() {
    let corpus = [
        allow(r#""s3:*""#, r#""*""#),
        allow(r#""s3:Get*""#, r#""*""#),
        allow(r#""s3:GetObject""#, r#""arn:aws:s3:::bucket/*""#),
        allow(r#"["s3:GetObject","s3:PutObject"]"#, r#""arn:aws:s3:::bucket/*""#),
        format!("{},{}", allow(r#""s3:*""#, r#""*""#), deny(r#""s3:Put*""#, r#""*""#)),
        allow(r#""s3:GetObject""#, r#""arn:aws:s3:::bucket/public/*""#),
        r#"{"Effect":"Allow","NotAction":"s3:Delete*","Resource":"arn:aws:s3:::*"}"#.to_string(),
        allow(r#""s3:GetObject""#, r#""arn:aws:s3:::bucket/?""#),
        allow(r#""*""#, r#""arn:aws:s3:::*/*""#),
        allow(r#""s3:GetObject""#, r#""arn:aws:s3:::b*t/*""#),
        allow(r#""sqs:*""#, r#""arn:aws:sqs:us-*-1:*:orders""#),
    ];
    let policies: Vec<policy::Policy> = corpus.iter().map(|s| policy(s)).collect();
    let actions = [
        "s3:getobject",
        "s3:putobject",
        "s3:deleteobject",
        "s3:listbucket",
        "s3:getbucketpolicy",
        "sqs:sendmessage",
        "iam:createuser",
    ];
    let resources = [
        "*",
        "arn:aws:s3:::bucket/x",
        "arn:aws:s3:::bucket/public/x",
        "arn:aws:s3:::bucket/xy",
        "arn:aws:s3:::bucket",
        "arn:aws:s3:::bat/x",
        "arn:aws:s3:::other/x",
        "arn:aws:sqs:us-east-1:111122223333:orders",
        "arn:aws:sqs:us-east:1:orders",
    ];
    let mut pairs = 0;
    for a in &policies {
        for b in &policies {
            let c = compare(a, b, &mut Z3::default());
            for answer in [&c.a_not_b, &c.b_not_a] {
                assert!(!matches!(answer, Answer::Bug(_) | Answer::Unknown(_)), "{answer:?}");
            }
            for (x, y, answer) in [(a, b, &c.a_not_b), (b, a, &c.b_not_a)] {
                if *answer != Answer::No {
                    continue;
                }
                for action in actions {
                    for resource in resources {
                        let w = Witness {
                            principal: "arn:aws:iam::111122223333:user/analyst".into(),
                            action: action.into(),
                            resource: resource.into(),
                            context: Vec::new(),
                        };
                        let (ax, ay) = (
                            identity_view_allows(x, &w).unwrap(),
                            identity_view_allows(y, &w).unwrap(),
                        );
                        assert!(!ax || ay, "a `no` with a counterexample: {w:?}");
                    }
                }
            }
            pairs += 1;
        }
    }
    assert_eq!(pairs, corpus.len() * corpus.len());
}
