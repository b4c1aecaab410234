//! The analyzer's hot paths (issue 7's figures): one check on a 10-statement identity policy
//! (`grants`, Access Analyzer's CheckAccessNotGranted) and a `compare` of two 50-statement
//! policies that differ in one statement, both proved by Z3 and replayed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{criterion_group, criterion_main, Criterion};
use reason::{compare, grants, Answer, Verdict, Z3};

const ACTIONS: [&str; 6] = [
    "s3:GetObject",
    "s3:PutObject",
    "sqs:SendMessage",
    "dynamodb:GetItem",
    "kms:Decrypt",
    "s3:List*",
];

/// `n` statements over distinct resources of several services, every fifth a Deny.
fn statements(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let action = ACTIONS[i % ACTIONS.len()];
            let resource = match action.split(':').next().unwrap() {
                "s3" => format!("arn:aws:s3:::bucket-{i}/*"),
                "sqs" => format!("arn:aws:sqs:us-*-1:*:queue-{i}"),
                "dynamodb" => format!("arn:aws:dynamodb:*:*:table/t{i}"),
                _ => format!("arn:aws:kms:*:111122223333:key/k{i}-*"),
            };
            let effect = if i % 5 == 4 { "Deny" } else { "Allow" };
            format!(r#"{{"Effect":"{effect}","Action":"{action}","Resource":"{resource}"}}"#)
        })
        .collect()
}

fn policy(statements: &[String]) -> policy::Policy {
    policy::parse_policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    ))
    .unwrap()
}

fn questions(c: &mut Criterion) {
    let ten = policy(&statements(10));
    c.bench_function("reason/grants_10_statements", |b| {
        b.iter(|| {
            let answer = Z3::default()
                .session(|s| grants(&ten, &["s3:DeleteObject"], &["arn:aws:s3:::bucket-*/*"], s));
            assert_eq!(answer, Answer::No);
        })
    });
    // The same check where the resources decide, so Z3 must prove it (the one above folds to
    // `false` before any solver call: no statement allows s3:DeleteObject).
    c.bench_function("reason/grants_10_statements_solved", |b| {
        b.iter(|| {
            let answer = Z3::default()
                .session(|s| grants(&ten, &["s3:GetObject"], &["arn:aws:s3:::other-*/*"], s));
            assert_eq!(answer, Answer::No);
        })
    });
    // The part of a query before Z3: classifying the catalog's actions by the patterns.
    c.bench_function("reason/action_classes_10_statements", |b| {
        b.iter(|| reason::encode::Actions::new(&[&ten], &[]).classes.len())
    });
    let fifty = statements(50);
    let mut widened = fifty.clone();
    widened[7] =
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::bucket-7/*"}"#.into();
    let (a, b) = (policy(&widened), policy(&fifty));
    c.bench_function("reason/compare_50_statements", |bench| {
        bench.iter(|| {
            let verdict = Z3::default().session(|s| compare(&a, &b, s)).verdict();
            assert_eq!(verdict, Verdict::MorePermissive);
        })
    });
}

/// A bucket policy of `n` statements: grants to accounts, roles and `*` under organisation,
/// network and transport conditions, every seventh a Deny.
fn resource_statements(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let (principal, condition) = match i % 4 {
                0 => (format!(r#"{{"AWS":"4444555{i:05}"}}"#), String::new()),
                1 => (
                    format!(r#"{{"AWS":"arn:aws:iam::5555666{i:05}:role/r{i}"}}"#),
                    r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#.to_string(),
                ),
                2 => (
                    r#""*""#.to_string(),
                    format!(r#","Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"o-{i}"}}}}"#),
                ),
                _ => (
                    r#""*""#.to_string(),
                    format!(r#","Condition":{{"IpAddress":{{"aws:SourceIp":"10.{i}.0.0/16"}}}}"#),
                ),
            };
            let action = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:Get*"][i % 4];
            let effect = if i % 7 == 6 { "Deny" } else { "Allow" };
            format!(
                r#"{{"Effect":"{effect}","Principal":{principal},"Action":"{action}","Resource":"arn:aws:s3:::bucket/p{i}/*"{condition}}}"#
            )
        })
        .collect()
}

fn resource_questions(c: &mut Criterion) {
    // A conditional identity check: 10 statements, half of them under conditions.
    let conditional: Vec<String> = statements(10)
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            if i % 2 == 0 {
                s.replace(
                    r#""}"#,
                    r#"","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}"#,
                )
            } else {
                s
            }
        })
        .collect();
    let conditional = policy(&conditional);
    c.bench_function("reason/grants_10_statements_conditional", |b| {
        b.iter(|| {
            let answer = Z3::default().session(|s| {
                grants(&conditional, &["s3:GetObject"], &["arn:aws:s3:::other-*/*"], s)
            });
            assert_eq!(answer, Answer::No);
        })
    });
    let hundred = policy(&resource_statements(100));
    c.bench_function("reason/public_100_statements", |b| {
        b.iter(|| {
            let answer =
                Z3::default().session(|s| reason::public(&hundred, "111122223333", &[], &[], s));
            assert_eq!(answer, Answer::No);
        })
    });
    // `external` over the same 100 statements: 86 findings, one per `Allow` (anyone under
    // each organisation and address range, each account, each role).
    c.bench_function("reason/external_100_statements", |b| {
        b.iter(|| {
            let findings = Z3::default()
                .session(|s| reason::external::external(&hundred, "111122223333", &[], s))
                .unwrap();
            assert_eq!(findings.len(), 86);
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = questions, resource_questions
}
criterion_main!(benches);
