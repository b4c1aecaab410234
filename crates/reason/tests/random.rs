#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Soundness over random small policies (`policy::arb`): every `yes` of `compare` replays
//! through the evaluator, and every `no` agrees with brute-force enumeration of the evaluator
//! over the finite request space built from the pair's own constants (tests/common). Answers
//! the encoder leaves unknown are skipped; `random_pairs_are_mostly_decided` shows they are
//! the exception, so the property is not vacuous.

mod common;

use arbitrary::{Arbitrary, Unstructured};
use policy::arb::ArbPolicy;
use proptest::prelude::*;
use reason::{compare_in, view_allows, Answer, View, Z3};

/// The resource view's owner: the account `policy::arb`'s resources name.
const OWNER: &str = "111111111111";

/// Most requests one brute-force check enumerates.
const CAP: usize = 20_000;

/// The operators and values a condition on each of `policy::arb`'s keys is given here: one
/// type of value per key, as real policies have (`policy::arb` mixes them freely, and a key
/// compared as two types is answered unknown).
fn typed(key: &str, resource: bool) -> (&'static [&'static str], &'static [&'static str]) {
    const STRING_OPS: &[&str] = &[
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringNotLike",
        "StringEqualsIgnoreCase",
        "StringEqualsIfExists",
    ];
    match key {
        "aws:SourceIp" => {
            (&["IpAddress", "NotIpAddress"], &["10.0.0.0/8", "2001:db8::/32", "10.1.0.0/16"])
        }
        "aws:SecureTransport" => (&["Bool"], &["true", "false"]),
        "aws:CurrentTime" => (
            &["DateGreaterThan", "DateLessThan"],
            &["2024-01-01T00:00:00Z", "2025-06-01T00:00:00Z"],
        ),
        "aws:MultiFactorAuthAge" => {
            (&["NumericLessThan", "NumericGreaterThanEquals"], &["3600", "60"])
        }
        "aws:TagKeys" => {
            (&["ForAnyValue:StringEquals", "ForAllValues:StringLike"], &["team-a", "a*", "alice"])
        }
        "aws:PrincipalArn" if resource => (
            &["ArnLike", "ArnNotEquals", "StringLike"],
            &[
                "arn:aws:iam::111111111111:*",
                "arn:aws:iam::222222222222:root",
                "arn:aws:sts::222222222222:assumed-role/Admin/*",
            ],
        ),
        "aws:PrincipalArn" => (
            &["ArnEquals", "ArnNotEquals", "StringEquals"],
            &["arn:aws:iam::111122223333:user/bob", "arn:aws:iam::111122223333:user/alice"],
        ),
        _ if resource => (STRING_OPS, &["alice", "a*", "home/*", "team-a"]),
        // Identity policies also compare with values the request fills in.
        _ => (
            STRING_OPS,
            &[
                "alice",
                "a*",
                "home/*",
                "team-a",
                "home/${aws:username}/*",
                "${aws:PrincipalTag/team}",
            ],
        ),
    }
}

/// A random policy for `view`: identity policies lose their principals, resource policies
/// name `*` where they had none; conditions get operators and values of their key's type
/// (policy variables in values only in identity policies: the resource view does not encode a
/// variable naming the caller).
fn random_policy(bytes: &[u8], resource: bool) -> Option<policy::Policy> {
    let mut p = ArbPolicy::arbitrary(&mut Unstructured::new(bytes)).ok()?;
    for s in &mut p.statements {
        if !resource {
            s.principal = None;
        } else if s.principal.is_none() {
            s.principal = Some((false, Vec::new()));
        }
        for (op, key, values) in &mut s.conditions {
            if op == "Null" {
                continue;
            }
            let (ops, domain) = typed(key, resource);
            let pick = |text: &str, from: &[&str]| {
                let n = text
                    .bytes()
                    .fold(7usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b)));
                from[n % from.len()].to_string()
            };
            *op = pick(&format!("{op}{values:?}"), ops);
            for v in values.iter_mut() {
                *v = pick(v, domain);
            }
            values.dedup();
        }
        let mut seen: Vec<(String, String)> = Vec::new();
        s.conditions.retain(|(op, key, _)| {
            let id = (op.clone(), key.to_lowercase());
            let fresh = !seen.contains(&id);
            seen.push(id);
            fresh
        });
    }
    policy::parse_policy(&p.to_json()).ok()
}

/// Callers of every kind for the resource view.
fn callers() -> Vec<String> {
    let mut out = vec!["*".to_string(), "s3.amazonaws.com".into(), "x.amazonaws.com".into()];
    for account in [OWNER, "222222222222", "999988887777"] {
        out.extend([
            format!("arn:aws:iam::{account}:root"),
            format!("arn:aws:iam::{account}:user/alice"),
            format!("arn:aws:iam::{account}:user/path/alice"),
            format!("arn:aws:iam::{account}:role/Admin"),
            format!("arn:aws:sts::{account}:assumed-role/Admin/s1"),
            format!("arn:aws:sts::{account}:assumed-role/other/s1"),
            format!("arn:aws:sts::{account}:federated-user/alice"),
        ]);
    }
    out
}

#[derive(Debug, PartialEq)]
enum Outcome {
    /// Both directions decided and checked (the number of requests enumerated).
    Checked(usize),
    /// An answer was unknown, or the request space too large to enumerate (why).
    Skipped(String),
}

/// Compares `a` and `b` in `view` and checks both answers against the evaluator.
fn check_pair(view: &View, a: &policy::Policy, b: &policy::Policy) -> Outcome {
    // One session, as the CLI and the server run a question: checks reuse Z3's solvers.
    let c = Z3::default().session(|s| compare_in(view, a, b, s));
    let callers = callers();
    let mut checked = 0;
    for (x, y, answer) in [(a, b, &c.a_not_b), (b, a, &c.b_not_a)] {
        match answer {
            Answer::Yes(w) => {
                assert!(view_allows(view, x, w).unwrap(), "{w:?} not allowed by\n{x:?}");
                assert!(!view_allows(view, y, w).unwrap(), "{w:?} allowed by\n{y:?}");
            }
            Answer::No => {
                let given = match view {
                    View::Identity => common::Callers::Identity,
                    _ => common::Callers::Given(&callers),
                };
                let Some(space) = common::requests(&[x, y], given, CAP) else {
                    return Outcome::Skipped("more requests than the cap".into());
                };
                for w in &space {
                    let (ax, ay) =
                        (view_allows(view, x, w).unwrap(), view_allows(view, y, w).unwrap());
                    assert!(!ax || ay, "a `no` with a counterexample: {w:?}\n{x:?}\n{y:?}");
                }
                checked += space.len();
            }
            Answer::Unknown(why) => return Outcome::Skipped(why.clone()),
            Answer::Bug(why) => panic!("{why}\n{x:?}\n{y:?}"),
        }
    }
    Outcome::Checked(checked)
}

fn pair(a: &[u8], b: &[u8], resource: bool) -> Outcome {
    let (Some(pa), Some(pb)) = (random_policy(a, resource), random_policy(b, resource)) else {
        return Outcome::Skipped("no valid policy from these bytes".into());
    };
    let view = if resource { View::Resource { owner: OWNER.into() } } else { View::Identity };
    check_pair(&view, &pa, &pb)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn identity_answers_agree_with_the_evaluator(
        a in proptest::collection::vec(any::<u8>(), 32..256),
        b in proptest::collection::vec(any::<u8>(), 32..256),
    ) {
        pair(&a, &b, false);
    }

    #[test]
    fn resource_answers_agree_with_the_evaluator(
        a in proptest::collection::vec(any::<u8>(), 32..256),
        b in proptest::collection::vec(any::<u8>(), 32..256),
    ) {
        pair(&a, &b, true);
    }
}

/// A fixed stream of random pairs: most are decided and checked, so the property above is
/// not vacuous.
#[test]
fn random_pairs_are_mostly_decided() {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut bytes = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    };
    for resource in [false, true] {
        let (mut decided, mut skipped, mut requests) = (0, 0, 0);
        for _ in 0..24 {
            let (a, b) = (bytes(160), bytes(160));
            match pair(&a, &b, resource) {
                Outcome::Checked(n) => {
                    decided += 1;
                    requests += n;
                }
                Outcome::Skipped(why) => {
                    eprintln!("skipped: {why}");
                    skipped += 1;
                }
            }
        }
        eprintln!(
            "resource view {resource}: {decided} decided, {skipped} skipped, {requests} requests"
        );
        assert!(decided >= 12, "resource view {resource}: {decided} decided, {skipped} skipped");
        assert!(requests > 1_000, "{requests}");
    }
}

/// Whether a finding's principal covers `caller` (an outside caller's ARN, or `*`).
fn covers(finding: &reason::external::Finding, caller: &str) -> bool {
    let (kind, value) = (&finding.principal.0, &finding.principal.1);
    if kind != "AWS" {
        return false;
    }
    if value == "*" {
        return true;
    }
    let account = caller.split(':').nth(4).unwrap_or("");
    if value == account {
        return true;
    }
    // A role session is covered by its role's ARN.
    let role = caller
        .strip_prefix("arn:aws:sts::")
        .and_then(|rest| rest.split_once(":assumed-role/"))
        .and_then(|(acct, rest)| {
            rest.split('/').next().map(|r| format!("arn:aws:iam::{acct}:role/{r}"))
        });
    value == caller || role.as_deref() == Some(value.as_str())
}

/// `external` is complete: every request the evaluator allows to a caller outside the owner's
/// account is covered by a finding for that caller (or its account, or anyone) that lists the
/// action.
fn check_external(p: &policy::Policy) -> Outcome {
    let findings = match Z3::default().session(|s| reason::external::external(p, OWNER, &[], s)) {
        Ok(f) => f,
        Err(why) if why.starts_with("bug") => panic!("{why}\n{p:?}"),
        Err(why) => return Outcome::Skipped(why),
    };
    let view = View::Resource { owner: OWNER.into() };
    let callers: Vec<String> = callers()
        .into_iter()
        .filter(|c| c == "*" || (c.starts_with("arn:") && !c.contains(OWNER)))
        .collect();
    let Some(space) = common::requests(&[p], common::Callers::Given(&callers), 3 * CAP) else {
        return Outcome::Skipped("more requests than the cap".into());
    };
    let actions = reason::encode::Actions::new(&[p], &[]);
    for w in &space {
        if !view_allows(&view, p, w).unwrap() {
            continue;
        }
        let class = actions.classes.iter().position(|c| c.first() == Some(&w.action)).unwrap();
        let members = actions.members(class);
        assert!(
            findings
                .iter()
                .any(|f| covers(f, &w.principal) && f.actions.iter().any(|a| members.contains(a))),
            "no finding covers {w:?}\n{findings:#?}\n{p:?}"
        );
    }
    Outcome::Checked(space.len())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn external_findings_cover_what_the_evaluator_allows(
        a in proptest::collection::vec(any::<u8>(), 32..256),
    ) {
        if let Some(p) = random_policy(&a, true) {
            check_external(&p);
        }
    }
}

#[test]
fn random_external_checks_are_mostly_decided() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut decided, mut skipped) = (0, 0);
    for _ in 0..16 {
        let bytes: Vec<u8> = (0..160)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        let Some(p) = random_policy(&bytes, true) else { continue };
        match check_external(&p) {
            Outcome::Checked(_) => decided += 1,
            Outcome::Skipped(why) => {
                eprintln!("skipped: {why}");
                skipped += 1;
            }
        }
    }
    eprintln!("external: {decided} decided, {skipped} skipped");
    assert!(decided >= 7, "{decided} decided, {skipped} skipped");
}
