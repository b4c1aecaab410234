#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Conditions, derived keys and policy variables in the identity view: known answers, and every
//! pair of each group of a corpus compared both ways, each `no` checked against brute-force
//! enumeration of the evaluator over requests built from the pair's own constants (callers,
//! actions, resources, context values and lists), each `yes` replayed.

use policy::condition::{OpKind, SetQualifier, Typed};
use policy::pattern::{Piece, Tok};
use policy::value::IpNet;
use reason::encode::Actions;
use reason::{compare, identity_view_allows, Answer, Verdict, Witness, Z3};
use std::collections::BTreeMap;

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
fn unsupported_conditions_are_unknown() {
    let binary = allow_if("s3:*", "*", r#"{"BinaryEquals":{"x:k":"QUJD"}}"#);
    let (v, c) = verdict(&binary, &allow("s3:*", "*"));
    assert_eq!(v, Verdict::Unknown, "{c:?}");
    let variable =
        allow_if("s3:*", "*", r#"{"StringEquals":{"s3:prefix":"home/${aws:username}"}}"#);
    let (v, c) = verdict(&variable, &allow("s3:*", "*"));
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
    vec![strings, typed, sets, callers, arns]
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
    let actions: Vec<String> =
        Actions::new(policies, &[]).classes.iter().filter_map(|c| c.first().cloned()).collect();
    let mut users = vec!["analyst".to_string(), "bob".to_string(), "a".to_string()];
    let mut keys: BTreeMap<String, (Vec<String>, bool)> = BTreeMap::new();
    let mut resources = vec!["*".to_string(), "arn:aws:s3:::other/x".to_string()];
    let mut patterns: Vec<Vec<Piece>> = Vec::new();
    for p in policies {
        for s in &p.statements {
            for r in s.resource.iter().flat_map(|c| c.resources.iter()) {
                patterns.push(r.template.pieces().to_vec());
            }
            for c in &s.conditions {
                let multi =
                    c.operator.qualifier != SetQualifier::Single || c.key_lower == "aws:tagkeys";
                let entry = keys.entry(c.key_lower.clone()).or_insert((Vec::new(), multi));
                entry.1 |= multi;
                for v in &c.values {
                    let values = domain(c.operator.kind, &v.raw, &v.typed);
                    if c.key_lower == "aws:username" {
                        users.extend(
                            values.iter().filter(|u| !u.is_empty() && !u.contains('/')).cloned(),
                        );
                    }
                    entry.0.extend(values);
                }
            }
        }
    }
    // Variables draw from the users and a few values of their keys.
    let team_values = ["analyst", "none", "t"];
    for pieces in &patterns {
        for user in &users {
            for team in team_values {
                let mut text = Vec::new();
                for piece in pieces {
                    match piece {
                        Piece::Toks(t) => text.extend(t.iter().cloned()),
                        Piece::Var { key_lower, .. } => {
                            let v = if key_lower == "aws:username" { user.as_str() } else { team };
                            text.extend(v.chars().map(Tok::Char));
                        }
                        Piece::Invalid(_) => {}
                    }
                }
                resources.extend(instantiate(&text));
            }
        }
    }
    resources.sort();
    resources.dedup();
    users.sort();
    users.dedup();
    // Context assignments: each key absent, or one value (single), or lists of one or two.
    let mut contexts: Vec<Vec<(String, Vec<String>, bool)>> = vec![Vec::new()];
    let team_key = (
        "aws:principaltag/team".to_string(),
        team_values.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        false,
    );
    let mut all_keys: Vec<(String, Vec<String>, bool)> = keys
        .into_iter()
        .filter(|(k, _)| {
            !matches!(k.as_str(), "aws:username" | "aws:principalarn" | "aws:principaltype")
        })
        .map(|(k, (mut v, multi))| {
            v.sort();
            v.dedup();
            (k, v, multi)
        })
        .collect();
    if patterns
        .iter()
        .flatten()
        .any(|p| matches!(p, Piece::Var { key_lower, .. } if key_lower == "aws:principaltag/team"))
    {
        all_keys.push(team_key);
    }
    for (key, values, multi) in all_keys {
        let mut options: Vec<Option<Vec<String>>> = vec![None];
        for v in &values {
            options.push(Some(vec![v.clone()]));
        }
        if multi {
            for v in &values {
                for w in &values {
                    if v < w {
                        options.push(Some(vec![v.clone(), w.clone()]));
                    }
                }
            }
        }
        let mut next = Vec::new();
        for ctx in &contexts {
            for o in &options {
                let mut c = ctx.clone();
                if let Some(values) = o {
                    c.push((key.clone(), values.clone(), multi));
                }
                next.push(c);
            }
        }
        contexts = next;
    }
    let mut out = Vec::new();
    for user in &users {
        for action in &actions {
            for resource in &resources {
                for context in &contexts {
                    out.push(Witness {
                        principal: format!("arn:aws:iam::111122223333:user/{user}"),
                        action: action.clone(),
                        resource: resource.clone(),
                        context: context.clone(),
                    });
                }
            }
        }
    }
    assert!(out.len() <= 400_000, "{}", out.len());
    out
}

/// Texts a pattern's wildcards can stand for.
fn instantiate(toks: &[Tok]) -> Vec<String> {
    let mut out = vec![String::new()];
    for t in toks {
        let options: &[&str] = match t {
            Tok::Char(_) => &[""],
            Tok::Star => &["", "x", "x:y"],
            Tok::One => &["x"],
        };
        let mut next = Vec::new();
        for prefix in &out {
            for o in options {
                let mut p = prefix.clone();
                match t {
                    Tok::Char(c) => p.push(*c),
                    _ => p.push_str(o),
                }
                next.push(p);
            }
        }
        out = next;
        out.truncate(200);
    }
    out
}

/// Request values near a condition value: the value itself, its instantiations and case
/// variants, neighbours of numbers and dates, addresses at the edges of ranges, malformed text.
fn domain(kind: OpKind, raw: &str, typed: &Typed) -> Vec<String> {
    let mut out = vec!["zz".to_string(), "x".to_string()];
    match typed {
        Typed::Number(n) => {
            for d in [-1.0, -0.25, 0.0, 0.25, 1.0] {
                out.push(format!("{}", n + d));
            }
        }
        Typed::Date(t) => {
            for d in [-1, 0, 1] {
                out.push((t.secs + d).to_string());
            }
        }
        Typed::Bool(_) => out.extend(["true".to_string(), "false".to_string()]),
        Typed::Ip(net) => match net {
            IpNet::V4(a, p) => {
                let last = a | (u32::MAX.checked_shr(u32::from(*p)).unwrap_or(0));
                for x in [*a, last, a.wrapping_sub(1), last.wrapping_add(1)] {
                    out.push(std::net::Ipv4Addr::from(x).to_string());
                }
                out.push(format!("::ffff:{}", std::net::Ipv4Addr::from(*a)));
            }
            IpNet::V6(a, p) => {
                let last = a | (u128::MAX.checked_shr(u32::from(*p)).unwrap_or(0));
                for x in [*a, last, a.wrapping_sub(1)] {
                    out.push(std::net::Ipv6Addr::from(x).to_string());
                }
            }
        },
        _ => {
            let toks: Vec<Tok> = if kind.has_wildcards() {
                policy::pattern::Glob::new(raw, true).toks().to_vec()
            } else {
                raw.chars().map(Tok::Char).collect()
            };
            for s in instantiate(&toks) {
                out.push(s.to_uppercase());
                out.push(s.to_lowercase());
                out.push(s);
            }
        }
    }
    out
}
