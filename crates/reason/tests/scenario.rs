#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Whole scenarios for one caller (`can-access`, `effective`): identity policies with a
//! boundary, a session policy, SCP and RCP levels, resource policies with the cross-account,
//! trust-policy and KMS key rules; every `yes` replayed with the scenario itself, every `no`
//! checked against the evaluator over contexts built from the policies' constants.

use policy::{NamedPolicy, OrgLevel, PolicySet, Principal};
use reason::scenario::{decide, effective};
use reason::{Answer, Z3};

fn policy(statements: &str) -> policy::Policy {
    policy::parse_policy(&format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#))
        .unwrap()
}

const USER: &str = "arn:aws:iam::111122223333:user/alice";

fn principal(arn: &str) -> Principal {
    Principal::parse(arn).unwrap()
}

#[test]
fn mfa_conditions_split_some_and_all_contexts() {
    let id = policy(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}"#,
    );
    let set =
        PolicySet { identity: vec![NamedPolicy { name: "id", policy: &id }], ..Default::default() };
    let alice = principal(USER);
    let r = "arn:aws:s3:::bucket/key";
    let Answer::Yes(w) = decide(&set, &alice, "s3:GetObject", r, None, true, &mut Z3::default())
    else {
        panic!()
    };
    assert_eq!(
        w.context,
        [("aws:multifactorauthpresent".to_string(), vec!["true".to_string()], false)]
    );
    // Not under every context: a denying one exists.
    let Answer::Yes(w) = decide(&set, &alice, "s3:GetObject", r, None, false, &mut Z3::default())
    else {
        panic!()
    };
    assert!(w.context.iter().all(|(_, v, _)| v[0] != "true"), "{w:?}");
    assert_eq!(
        decide(&set, &alice, "iam:CreateUser", r, None, true, &mut Z3::default()),
        Answer::No
    );
}

#[test]
fn boundaries_scps_and_sessions_cut_down_effective_permissions() {
    let id = policy(r#"{"Effect":"Allow","Action":["s3:*","sqs:SendMessage"],"Resource":"*"}"#);
    let boundary = policy(
        r#"{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:PutObject"],"Resource":"*"}"#,
    );
    let scp = policy(
        r#"{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}"#,
    );
    let set = PolicySet {
        identity: vec![NamedPolicy { name: "id", policy: &id }],
        boundaries: vec![NamedPolicy { name: "boundary", policy: &boundary }],
        service_control: vec![OrgLevel {
            org_identifier: "r-root",
            policies: vec![NamedPolicy { name: "scp", policy: &scp }],
        }],
        ..Default::default()
    };
    let e = effective(&set, &principal(USER), "arn:aws:s3:::bucket/*", None, &mut Z3::default())
        .unwrap();
    assert!(e.always.contains(&"s3:getobject".to_string()), "{e:?}");
    assert!(e.always.iter().all(|a| a.starts_with("s3:get") || a.starts_with("s3:list")), "{e:?}");
    let sometimes: Vec<&String> = e.sometimes.iter().flat_map(|(a, _)| a).collect();
    assert_eq!(sometimes, [&"s3:putobject".to_string()], "{e:?}");
    let (_, w) = &e.sometimes[0];
    assert!(
        w.context.iter().any(|(k, v, _)| k == "aws:requestedregion" && v[0] == "eu-west-1"),
        "{w:?}"
    );
    assert!(!e.always.contains(&"sqs:sendmessage".to_string()));
    let doc = e.policy("arn:aws:s3:::bucket/*");
    assert_eq!(doc["Statement"][1]["Sid"], "Conditional", "{doc}");
}

#[test]
fn cross_account_trust_and_key_policies() {
    let id = policy(
        r#"{"Effect":"Allow","Action":["s3:GetObject","sts:AssumeRole","kms:Decrypt"],"Resource":"*"}"#,
    );
    let bucket = policy(
        r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}"#,
    );
    let alice = principal(USER);
    fn with<'a>(id: &'a policy::Policy, resource: Option<&'a policy::Policy>) -> PolicySet<'a> {
        PolicySet {
            identity: vec![NamedPolicy { name: "id", policy: id }],
            resource: resource.map(|p| NamedPolicy { name: "resource", policy: p }),
            ..Default::default()
        }
    }
    let other = "444455556666";
    // Another account's bucket: only with its bucket policy.
    let r = "arn:aws:s3:::shared/x";
    assert!(matches!(
        decide(
            &with(&id, Some(&bucket)),
            &alice,
            "s3:GetObject",
            r,
            Some(other),
            true,
            &mut Z3::default()
        ),
        Answer::Yes(_)
    ));
    assert_eq!(
        decide(&with(&id, None), &alice, "s3:GetObject", r, Some(other), true, &mut Z3::default()),
        Answer::No
    );
    // A role of the same account: identity policies are not enough without the trust policy.
    let role = "arn:aws:iam::111122223333:role/admin";
    assert_eq!(
        decide(&with(&id, None), &alice, "sts:AssumeRole", role, None, true, &mut Z3::default()),
        Answer::No
    );
    let trust = policy(
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}"#,
    );
    assert!(matches!(
        decide(
            &with(&id, Some(&trust)),
            &alice,
            "sts:AssumeRole",
            role,
            None,
            true,
            &mut Z3::default()
        ),
        Answer::Yes(_)
    ));
    // A KMS key: only if its key policy lets the account's policies in.
    let key = "arn:aws:kms:us-east-1:111122223333:key/k1";
    assert_eq!(
        decide(&with(&id, None), &alice, "kms:Decrypt", key, None, true, &mut Z3::default()),
        Answer::No
    );
    let key_policy = policy(
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#,
    );
    assert!(matches!(
        decide(
            &with(&id, Some(&key_policy)),
            &alice,
            "kms:Decrypt",
            key,
            None,
            true,
            &mut Z3::default()
        ),
        Answer::Yes(_)
    ));
}

#[test]
fn sessions_and_resource_control_policies() {
    let id = policy(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#);
    let session =
        policy(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}"#);
    let rcp = policy(
        r#"{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}}"#,
    );
    let set = PolicySet {
        identity: vec![NamedPolicy { name: "id", policy: &id }],
        session: vec![NamedPolicy { name: "session", policy: &session }],
        resource_control: vec![OrgLevel {
            org_identifier: "r-root",
            policies: vec![NamedPolicy { name: "rcp", policy: &rcp }],
        }],
        ..Default::default()
    };
    let role = principal("arn:aws:sts::111122223333:assumed-role/app/s1");
    let Answer::Yes(w) = decide(
        &set,
        &role,
        "s3:GetObject",
        "arn:aws:s3:::bucket/k",
        None,
        true,
        &mut Z3::default(),
    ) else {
        panic!()
    };
    // The RCP denies unless the organisation id is there and matches (IfExists makes the
    // negated test true on an absent key).
    assert_eq!(w.context, [("aws:principalorgid".to_string(), vec!["o-1".to_string()], false)]);
    assert_eq!(
        decide(
            &set,
            &role,
            "s3:PutObject",
            "arn:aws:s3:::bucket/k",
            None,
            true,
            &mut Z3::default()
        ),
        Answer::No
    );
    // Brute force over the organisation id: never allowed with another value.
    for (org, expect) in
        [(None, false), (Some("o-1"), true), (Some("o-2"), false), (Some("x"), false)]
    {
        let mut context = policy::Context::new();
        if let Some(o) = org {
            context.set("aws:PrincipalOrgID", o);
        }
        let request = policy::Request::new(
            role.clone(),
            "s3:GetObject",
            "arn:aws:s3:::bucket/k",
            None,
            context,
        );
        assert_eq!(
            policy::evaluate(&request, &set).decision == policy::Decision::Allowed,
            expect,
            "{org:?}"
        );
    }
}

/// AWS's own rules (`policy::aws_rules`), encoded as the evaluator applies them.
#[test]
fn aws_rules_hold_in_scenarios() {
    let all = policy(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let deny_all = policy(r#"{"Effect":"Deny","Action":"*","Resource":"*"}"#);
    let alice = principal(USER);
    let ask = |set: &PolicySet<'_>, action: &str, resource: &str, allowed: bool| {
        decide(set, &alice, action, resource, None, allowed, &mut Z3::default())
    };

    // GetCallerIdentity needs no permission: allowed on `*` (the resource its requests name),
    // whatever the policies deny. (`*` as a question's resource is a pattern: any resource.)
    let denied = PolicySet {
        identity: vec![NamedPolicy { name: "deny", policy: &deny_all }],
        ..Default::default()
    };
    let Answer::Yes(w) = ask(&denied, "sts:GetCallerIdentity", "*", true) else { panic!() };
    assert_eq!(w.resource, "*", "{w:?}");
    assert_eq!(ask(&denied, "sts:GetSessionToken", "*", true), Answer::No);

    // An AWS managed policy is AWS's to change, even for a caller allowed everything.
    let allowed = PolicySet {
        identity: vec![NamedPolicy { name: "all", policy: &all }],
        ..Default::default()
    };
    let managed = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    assert_eq!(ask(&allowed, "iam:DeletePolicy", managed, true), Answer::No);
    assert!(matches!(ask(&allowed, "iam:GetPolicy", managed, true), Answer::Yes(_)));
    let own = "arn:aws:iam::111122223333:policy/Mine";
    assert!(matches!(ask(&allowed, "iam:DeletePolicy", own, true), Answer::Yes(_)));

    // RCPs bind only the services they cover: a deny-everything RCP leaves EC2 alone.
    let rcp = policy(
        r#"{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}"#,
    );
    let with_rcp = PolicySet {
        identity: vec![NamedPolicy { name: "all", policy: &all }],
        resource_control: vec![OrgLevel {
            org_identifier: "r-root",
            policies: vec![NamedPolicy { name: "rcp", policy: &rcp }],
        }],
        ..Default::default()
    };
    // (On an EC2 resource: `*` would also stand for a KMS key, whose key policy must allow.)
    let instance = "arn:aws:ec2:us-east-1:111122223333:instance/i-1";
    assert_eq!(ask(&with_rcp, "ec2:RunInstances", instance, false), Answer::No);
    assert_eq!(ask(&with_rcp, "s3:GetObject", "arn:aws:s3:::bucket/k", true), Answer::No);
}
