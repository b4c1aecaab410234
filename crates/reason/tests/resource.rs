#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Resource policies: `public` against the known answers of AWS's documentation, and
//! `compare_in` the resource view against brute-force enumeration of the evaluator over
//! callers of every kind built from the policies' own constants.

use reason::encode::Actions;
use reason::{compare_in, grants_in, public, view_allows, Answer, View, Witness, Z3};

const OWNER: &str = "111122223333";

fn policy(statements: &str) -> policy::Policy {
    policy::parse_policy(&format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#))
        .unwrap()
}

fn bucket(principal: &str, condition: &str) -> String {
    let condition =
        if condition.is_empty() { String::new() } else { format!(r#","Condition":{condition}"#) };
    format!(
        r#"{{"Effect":"Allow","Principal":{principal},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"{condition}}}"#
    )
}

fn is_public(statements: &str) -> Answer {
    public(&policy(statements), OWNER, &[], &[], &mut Z3::default())
}

#[test]
fn a_bucket_open_to_everyone_is_public() {
    let Answer::Yes(w) = is_public(&bucket(r#""*""#, "")) else { panic!() };
    assert!(w.resource.starts_with("arn:aws:s3:::bucket/"), "{w:?}");
    let Answer::Yes(_) = is_public(&bucket(r#"{"AWS":"*"}"#, "")) else { panic!() };
}

#[test]
fn an_organization_condition_makes_it_private() {
    let org = r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#;
    assert_eq!(is_public(&bucket(r#""*""#, org)), Answer::No);
    let not_org = r#"{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#;
    assert!(matches!(is_public(&bucket(r#""*""#, not_org)), Answer::Yes(_)));
    let any_org = r#"{"StringLike":{"aws:PrincipalOrgID":"o-*"}}"#;
    assert!(matches!(is_public(&bucket(r#""*""#, any_org)), Answer::Yes(_)));
}

#[test]
fn source_ranges_and_accounts() {
    let everywhere = r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#;
    assert!(matches!(is_public(&bucket(r#""*""#, everywhere)), Answer::Yes(_)));
    let office = r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#;
    assert_eq!(is_public(&bucket(r#""*""#, office)), Answer::No);
    // Ranges that cover every address leave no fresh one: the key is absent instead, and an
    // unconditional grant beside them is still public.
    let halves = format!(
        "{},{}",
        bucket(r#""*""#, r#"{"IpAddress":{"aws:SourceIp":["::/1","8000::/1"]}}"#)
            .replace("GetObject", "PutObject"),
        bucket(r#""*""#, "")
    );
    assert!(matches!(is_public(&halves), Answer::Yes(_)));
    let outside_office = r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#;
    assert!(matches!(is_public(&bucket(r#""*""#, outside_office)), Answer::Yes(_)));
    let account = r#"{"StringEquals":{"aws:PrincipalAccount":"444455556666"}}"#;
    assert_eq!(is_public(&bucket(r#""*""#, account)), Answer::No);
    assert_eq!(is_public(&bucket(r#"{"AWS":"444455556666"}"#, "")), Answer::No);
    assert_eq!(
        is_public(&bucket(r#"{"AWS":"arn:aws:iam::444455556666:user/bob"}"#, "")),
        Answer::No
    );
    assert_eq!(is_public(&bucket(r#"{"Service":"cloudtrail.amazonaws.com"}"#, "")), Answer::No);
    // A condition on a key that does not fix the caller leaves it public.
    let tls = r#"{"Bool":{"aws:SecureTransport":"true"}}"#;
    let Answer::Yes(w) = is_public(&bucket(r#""*""#, tls)) else { panic!() };
    assert!(w.context.iter().any(|(k, v, _)| k == "aws:securetransport" && v[0] == "true"));
}

#[test]
fn not_principal_with_deny() {
    // Everyone is allowed, then everyone but one user of the owner account is denied: only that
    // user (and only if the account is listed too) gets through, so nothing is public.
    let deny_others = format!(
        r#"{},{{"Effect":"Deny","NotPrincipal":{{"AWS":["arn:aws:iam::{OWNER}:user/admin","arn:aws:iam::{OWNER}:root"]}},"Action":"s3:*","Resource":"arn:aws:s3:::bucket/*"}}"#,
        bucket(r#""*""#, "")
    );
    assert_eq!(is_public(&deny_others), Answer::No);
    let p = policy(&deny_others);
    let Answer::Yes(w) = grants_in(
        &View::Resource { owner: OWNER.into() },
        &p,
        &["s3:GetObject"],
        &[],
        &mut Z3::default(),
    ) else {
        panic!()
    };
    assert_eq!(w.principal, format!("arn:aws:iam::{OWNER}:user/admin"), "{w:?}");
}

#[test]
fn trust_policies() {
    let open = r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}"#;
    let Answer::Yes(w) = public(
        &policy(open),
        OWNER,
        &["sts:AssumeRole*"],
        &["arn:aws:iam::*:role/*"],
        &mut Z3::default(),
    ) else {
        panic!()
    };
    assert!(w.action.starts_with("sts:assumerole"), "{w:?}");
    let pinned = r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::444455556666:role/ci"}}}"#;
    assert_eq!(
        public(&policy(pinned), OWNER, &["sts:AssumeRole*"], &[], &mut Z3::default()),
        Answer::No
    );
}

/// Resource policies compared pairwise in the resource view, every `no` checked against every
/// caller, action, resource and context built from the pair's constants.
#[test]
fn resource_view_agrees_with_brute_force() {
    let corpus = [
        bucket(r#""*""#, ""),
        bucket(r#"{"AWS":"444455556666"}"#, ""),
        bucket(r#"{"AWS":"arn:aws:iam::444455556666:user/bob"}"#, ""),
        bucket(r#"{"AWS":"arn:aws:iam::111122223333:root"}"#, ""),
        bucket(r#"{"AWS":"arn:aws:iam::444455556666:role/reader"}"#, ""),
        bucket(r#""*""#, r#"{"StringEquals":{"aws:PrincipalAccount":"444455556666"}}"#),
        bucket(r#""*""#, r#"{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/read*"}}"#),
        bucket(r#"{"Service":"cloudtrail.amazonaws.com"}"#, ""),
        format!(
            "{},{}",
            bucket(r#""*""#, ""),
            r#"{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/bob","444455556666"]},"Action":"s3:*","Resource":"*"}"#
        ),
        bucket(r#""*""#, r#"{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}"#),
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"*","Resource":"*"}"#.to_string(),
        r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}"#.to_string(),
    ];
    let policies: Vec<policy::Policy> = corpus.iter().map(|s| policy(s)).collect();
    let view = View::Resource { owner: OWNER.into() };
    let mut pairs = 0;
    for (i, a) in policies.iter().enumerate() {
        for b in policies.iter().skip(i + 1) {
            let c = compare_in(&view, a, b, &mut Z3::default());
            for (x, y, answer) in [(a, b, &c.a_not_b), (b, a, &c.b_not_a)] {
                match answer {
                    Answer::Yes(w) => {
                        assert!(view_allows(&view, x, w).unwrap());
                        assert!(!view_allows(&view, y, w).unwrap());
                    }
                    Answer::No => {
                        for w in requests(&[x, y]) {
                            let (ax, ay) = (
                                view_allows(&view, x, &w).unwrap(),
                                view_allows(&view, y, &w).unwrap(),
                            );
                            assert!(!ax || ay, "a `no` with a counterexample: {w:?}\n{x:?}\n{y:?}");
                        }
                    }
                    other => panic!("{other:?}"),
                }
            }
            pairs += 1;
        }
    }
    assert_eq!(pairs, corpus.len() * (corpus.len() - 1) / 2);
}

fn requests(policies: &[&policy::Policy]) -> Vec<Witness> {
    let actions: Vec<String> =
        Actions::new(policies, &[]).classes.iter().filter_map(|c| c.first().cloned()).collect();
    let mut principals =
        vec!["*".to_string(), "cloudtrail.amazonaws.com".into(), "x.amazonaws.com".into()];
    for account in [OWNER, "444455556666", "999988887777"] {
        for p in [
            format!("arn:aws:iam::{account}:root"),
            format!("arn:aws:iam::{account}:user/bob"),
            format!("arn:aws:iam::{account}:user/path/bob"),
            format!("arn:aws:iam::{account}:user/eve"),
            format!("arn:aws:sts::{account}:assumed-role/reader/s"),
            format!("arn:aws:sts::{account}:assumed-role/other/s"),
            format!("arn:aws:sts::{account}:federated-user/bob"),
        ] {
            principals.push(p);
        }
    }
    let resources = [
        "*",
        "arn:aws:s3:::bucket/x",
        "arn:aws:s3:::other/x",
        "arn:aws:iam::111122223333:role/r",
        "arn:aws:kms:us-east-1:111122223333:key/k",
    ];
    let mut out = Vec::new();
    for principal in &principals {
        for action in &actions {
            for resource in resources {
                out.push(Witness {
                    principal: principal.clone(),
                    action: action.clone(),
                    resource: resource.into(),
                    context: Vec::new(),
                });
            }
        }
    }
    out
}

#[test]
fn external_access_findings() {
    let p = policy(
        r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}},
           {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"},
           {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::555566667777:role/r"},"Action":"s3:PutObject","Resource":"*"},
           {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/local"},"Action":"s3:DeleteObject","Resource":"*"},
           {"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"s3:GetObject","Resource":"*"}"#,
    );
    let findings = reason::external::external(&p, OWNER, &[], &mut Z3::default()).unwrap();
    let find = |kind: &str, who: &str| {
        findings
            .iter()
            .filter(|f| f.principal == (kind.to_string(), who.to_string()))
            .collect::<Vec<_>>()
    };
    let anyone = find("AWS", "*");
    assert_eq!(anyone.len(), 1, "{findings:#?}");
    assert!(anyone[0].is_public);
    assert_eq!(anyone[0].actions, ["s3:getobject"]);
    assert_eq!(anyone[0].condition, [("aws:principalorgid".to_string(), vec!["o-1".to_string()])]);
    let account = find("AWS", "444455556666");
    assert_eq!(account.len(), 1, "{findings:#?}");
    assert_eq!(account[0].actions, ["s3:getobject", "s3:listbucket"]);
    assert!(account[0].condition.is_empty());
    let role = find("AWS", "arn:aws:iam::555566667777:role/r");
    assert_eq!(role.len(), 1, "{findings:#?}");
    assert_eq!(role[0].actions, ["s3:putobject"]);
    assert_eq!(find("Federated", "cognito-identity.amazonaws.com").len(), 1, "{findings:#?}");
    // The owner's own role is inside the zone of trust.
    assert!(
        findings.iter().all(|f| !f.actions.contains(&"s3:deleteobject".to_string())),
        "{findings:#?}"
    );
    // Trusting the other accounts leaves the organisation finding and the provider.
    let trusted = reason::external::external(
        &p,
        OWNER,
        &["444455556666".into(), "555566667777".into()],
        &mut Z3::default(),
    )
    .unwrap();
    assert_eq!(trusted.len(), 2, "{trusted:#?}");
}

/// Regressions from review: SAML/OIDC providers are callers; the caller of a scenario keeps
/// whatever shape it has; numbers beyond 10^15; actions the catalog does not know.
#[test]
fn review_regressions() {
    let view = View::Resource { owner: OWNER.into() };
    let trust = |condition: &str| {
        policy(&format!(
            r#"{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{OWNER}:oidc-provider/token.actions.githubusercontent.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{condition}}}"#
        ))
    };
    let main = trust(
        r#"{"StringEquals":{"token.actions.githubusercontent.com:sub":"repo:o/r:ref:refs/heads/main"}}"#,
    );
    let any = trust(r#"{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}}"#);
    let c = compare_in(&view, &any, &main, &mut Z3::default());
    assert_eq!(c.verdict(), reason::Verdict::MorePermissive, "{c:?}");

    let big = |op: &str| {
        policy(&format!(
            r#"{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{{"{op}":{{"s3:max-keys":"1000000000000000"}}}}}}"#
        ))
    };
    let c = compare_in(
        &view,
        &big("NumericGreaterThan"),
        &big("NumericGreaterThanEquals"),
        &mut Z3::default(),
    );
    assert_eq!(c.verdict(), reason::Verdict::LessPermissive, "{c:?}");
    let nothing = policy(r#"{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}"#);
    let c = compare_in(&view, &big("NumericGreaterThan"), &nothing, &mut Z3::default());
    assert_eq!(c.verdict(), reason::Verdict::MorePermissive, "{c:?}");

    let unknown_service = policy(r#"{"Effect":"Allow","Action":"newsvc:*","Resource":"*"}"#);
    let get = policy(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#);
    let c = reason::compare(&unknown_service, &get, &mut Z3::default());
    assert_eq!(c.verdict(), reason::Verdict::Incomparable, "{c:?}");

    let id = policy(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#);
    let set = policy::PolicySet {
        identity: vec![policy::NamedPolicy { name: "id", policy: &id }],
        ..Default::default()
    };
    let odd = policy::Principal::parse("arn:aws:iam::111122223333:user/dev!ops/alice").unwrap();
    let answer = reason::scenario::decide(
        &set,
        &odd,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        None,
        true,
        &mut Z3::default(),
    );
    assert!(matches!(answer, Answer::Yes(_)), "{answer:?}");
    let gov = policy::Principal::parse("arn:aws-us-gov:iam::111122223333:user/alice").unwrap();
    let answer = reason::scenario::decide(
        &set,
        &gov,
        "s3:GetObject",
        "arn:aws-us-gov:s3:::b/k",
        None,
        true,
        &mut Z3::default(),
    );
    assert!(matches!(answer, Answer::Unknown(_)), "{answer:?}");
}

/// Regressions from the review of the statement-driven `external`: a condition only some
/// caller kinds cannot be encoded for; `0.0.0.0/0` holds for everyone; escaping several
/// `Deny`s stays bounded.
#[test]
fn external_review_regressions() {
    let run = |statements: &str| {
        Z3::default().session(|s| reason::external::external(&policy(statements), OWNER, &[], s))
    };
    // A Null test on aws:PrincipalAccount cannot be encoded for web identities, which this
    // policy never lets in: the answer stands.
    let findings = run(
        r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Null":{"aws:PrincipalAccount":"false"}}}"#,
    )
    .unwrap();
    assert!(findings.iter().any(|f| f.principal == ("AWS".into(), "*".into())), "{findings:#?}");
    // Everywhere is unconditional, and subsumes an account's grant of the same action.
    let findings = run(&format!(
        "{},{}",
        bucket(r#""*""#, r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#),
        bucket(r#"{"AWS":"222222222222"}"#, "")
    ))
    .unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(findings[0].is_public && findings[0].condition.is_empty(), "{findings:#?}");
    // Three Denies unless one of four values each: bounded findings.
    let findings = run(
        r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
           {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringNotEquals":{"aws:SourceVpce":["vpce-1","vpce-2","vpce-3","vpce-4"]}}},
           {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","172.16.0.0/12","192.168.0.0/16","203.0.113.0/24"]}}},
           {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":["o-1","o-2","o-3","o-4"]}}}"#,
    )
    .unwrap();
    assert!(!findings.is_empty() && findings.len() <= 17, "{findings:#?}");
    // Everyone's statement reaches one account only: through a NotPrincipal Deny, or a
    // condition on the caller's account. That account gets a finding of its own.
    for statements in [
        format!(
            "{},{}",
            bucket(r#""*""#, ""),
            r#"{"Effect":"Deny","NotPrincipal":{"AWS":"222222222222"},"Action":"s3:GetObject","Resource":"*"}"#
        ),
        bucket(r#""*""#, r#"{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}"#),
    ] {
        let findings = run(&statements).unwrap();
        assert!(
            findings.iter().any(|f| f.principal.1 == "222222222222"
                && f.actions.contains(&"s3:getobject".to_string())),
            "{findings:#?}"
        );
    }
    // A provider's callers get what everyone's statement gives web identities only: the
    // provider's finding lists it (anyone's callers are never web identities).
    let findings = run(
        r#"{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"s3:ListBucket","Resource":"*"},
           {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalType":"WebIdentityUser"}}},
           {"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}},
           {"Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}"#,
    )
    .unwrap();
    assert!(
        findings.iter().any(
            |f| f.principal.0 == "Federated" && f.actions.contains(&"s3:getobject".to_string())
        ),
        "{findings:#?}"
    );
    // A principal ARN of the owner's account that names another account's id elsewhere is
    // inside the zone of trust.
    let findings = run(
        r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/444455556666","444455556666"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
    )
    .unwrap();
    assert!(
        findings.iter().all(|f| f.principal.1 != "arn:aws:iam::111122223333:user/444455556666"),
        "{findings:#?}"
    );
}

/// An `Allow` with `NotPrincipal` grants to every caller it does not name: the user it lists is
/// left out even though its account is not listed.
#[test]
fn allow_with_not_principal_leaves_out_the_named_caller() {
    let view = View::Resource { owner: OWNER.into() };
    let all_but_alice = policy(
        r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}"#,
    );
    let everyone = policy(&bucket(r#""*""#, ""));
    let c = compare_in(&view, &all_but_alice, &everyone, &mut Z3::default());
    assert_eq!(c.a_not_b, Answer::No, "{c:?}");
    let Answer::Yes(w) = &c.b_not_a else { panic!("{c:?}") };
    assert_eq!(w.principal, "arn:aws:iam::111122223333:user/alice", "{w:?}");
}
