#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Explanations use the words of AWS's AccessDenied messages and name the deciding statements.

use policy::{
    evaluate, parse_policy, AwsRule, Context, Decision, NamedPolicy, OrgLevel, PolicySet,
    PolicyType, Principal, Request,
};

fn request(principal: &str, context: Context) -> Request {
    Request::new(
        Principal::parse(principal).unwrap(),
        "s3:GetObject",
        "arn:aws:s3:::bucket/key",
        Some("111122223333"),
        context,
    )
}

fn p(text: &str) -> policy::Policy {
    parse_policy(text).unwrap()
}

#[test]
fn implicit_deny_names_the_policy_type_that_lacked_an_allow() {
    let r = request("arn:aws:iam::111122223333:user/alice", Context::new());
    let e = evaluate(&r, &PolicySet::default());
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.missing_allow, Some(PolicyType::Identity));
    assert_eq!(
        e.access_denied_message(&r),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:GetObject on \
         resource: arn:aws:s3:::bucket/key because no identity-based policy allows the s3:GetObject action"
    );

    let allow = p(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
    );
    let deny_all = p(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}"#,
    );
    let named = |policy| NamedPolicy { name: "n", policy };
    for (set, missing) in [
        (
            PolicySet {
                identity: vec![named(&allow)],
                boundaries: vec![named(&deny_all)],
                ..Default::default()
            },
            "no permissions boundary allows",
        ),
        (
            PolicySet {
                identity: vec![named(&allow)],
                session: vec![named(&deny_all)],
                ..Default::default()
            },
            "no session policy allows",
        ),
        (
            PolicySet {
                identity: vec![named(&allow)],
                service_control: vec![OrgLevel {
                    org_identifier: "r-root",
                    policies: vec![named(&deny_all)],
                }],
                ..Default::default()
            },
            "no service control policy allows",
        ),
        (
            PolicySet {
                identity: vec![named(&allow)],
                resource_control: vec![OrgLevel {
                    org_identifier: "r-root",
                    policies: vec![named(&deny_all)],
                }],
                ..Default::default()
            },
            "no resource control policy allows",
        ),
    ] {
        let e = evaluate(&r, &set);
        assert_eq!(e.decision, Decision::ImplicitlyDenied);
        assert!(e.reason(&r).contains(missing), "{} vs {missing}", e.reason(&r));
    }
}

#[test]
fn explicit_deny_names_the_statement() {
    let r = request("arn:aws:iam::111122223333:user/alice", Context::new());
    let allow = p(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
    );
    let deny = p(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"},{"Sid":"NoS3","Effect":"Deny","Action":"s3:Get*","Resource":"*"}]}"#,
    );
    let set = PolicySet {
        identity: vec![NamedPolicy { name: "AllowS3", policy: &allow }],
        boundaries: vec![NamedPolicy { name: "Boundary", policy: &deny }],
        ..Default::default()
    };
    let e = evaluate(&r, &set);
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(e.reason(&r), "with an explicit deny in a permissions boundary");
    assert_eq!(e.statements.len(), 1);
    assert_eq!(e.statements[0].index, 1);
    assert_eq!(e.statements[0].sid.as_deref(), Some("NoS3"));
    assert!(e.explain(&r).contains("permissions boundary `Boundary` statement 1 (Sid `NoS3`)"));
}

#[test]
fn allow_lists_the_granting_statements_and_errors_deny() {
    let mut ctx = Context::new();
    ctx.set("s3:max-keys", "not-a-number");
    let r = request("arn:aws:iam::111122223333:user/alice", ctx);
    let allow = p(
        r#"{"Version":"2012-10-17","Statement":{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}}"#,
    );
    let guarded_deny = p(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NumericGreaterThan":{"s3:max-keys":"100"}}}}"#,
    );
    let only_allow = PolicySet {
        identity: vec![NamedPolicy { name: "Read", policy: &allow }],
        ..Default::default()
    };
    let e = evaluate(&r, &only_allow);
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.statements[0].sid.as_deref(), Some("Read"));
    // The Deny cannot read the request value: it denies (fail closed) and says why.
    let with_deny = PolicySet {
        identity: vec![
            NamedPolicy { name: "Read", policy: &allow },
            NamedPolicy { name: "Guard", policy: &guarded_deny },
        ],
        ..Default::default()
    };
    let e = evaluate(&r, &with_deny);
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(e.errors.len(), 1);
    assert!(e.errors[0].contains("`not-a-number` is not a number"), "{:?}", e.errors);
}

#[test]
fn aws_rules_decide_without_the_policies_and_say_so() {
    let alice = || Principal::parse("arn:aws:iam::111122223333:user/alice").unwrap();
    let deny_all =
        p(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#);
    let allow_all =
        p(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#);
    let named = |policy| NamedPolicy { name: "n", policy };

    // GetCallerIdentity needs no permission: even a deny of everything does not stop it.
    let who = Request::new(alice(), "sts:GetCallerIdentity", "*", None, Context::new());
    let e = evaluate(&who, &PolicySet { identity: vec![named(&deny_all)], ..Default::default() });
    assert_eq!(e.decision, Decision::Allowed);
    assert_eq!(e.rule, Some(AwsRule::NoPermissionRequired));
    assert!(e.statements.is_empty());
    assert!(e.reason(&who).contains("needs no permission"), "{}", e.reason(&who));
    // An anonymous caller gets no such pass.
    let anonymous = Request::new(
        Principal::parse("*").unwrap(),
        "sts:GetCallerIdentity",
        "*",
        None,
        Context::new(),
    );
    assert_eq!(evaluate(&anonymous, &PolicySet::default()).decision, Decision::ImplicitlyDenied);

    // An AWS managed policy is AWS's: refused whatever the identity policy allows.
    let delete = Request::new(
        alice(),
        "iam:DeletePolicy",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        Some("111122223333"),
        Context::new(),
    );
    let e =
        evaluate(&delete, &PolicySet { identity: vec![named(&allow_all)], ..Default::default() });
    assert_eq!(e.decision, Decision::ImplicitlyDenied);
    assert_eq!(e.rule, Some(AwsRule::AwsOwned(policy::aws_rules::AwsOwned::ManagedPolicy)));
    assert_eq!(e.missing_allow, None);
    assert!(
        e.access_denied_message(&delete).ends_with(
            "because the resource is an AWS managed policy, which only AWS can change: no policy \
             can allow the iam:DeletePolicy action on it"
        ),
        "{}",
        e.access_denied_message(&delete)
    );
    // An explicit deny is still reported as one.
    let e = evaluate(
        &delete,
        &PolicySet { identity: vec![named(&allow_all), named(&deny_all)], ..Default::default() },
    );
    assert_eq!(e.decision, Decision::ExplicitlyDenied);
    assert_eq!(e.rule, None);
}
