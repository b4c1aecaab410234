#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The validator's tests: the fixture table in `tests/data/validate/cases.txt` (every code in
//! [`CHECKS`] is produced by some case), generated cases for the quotas, and locations.

use super::*;
use std::collections::BTreeSet;

const CASES: &str = include_str!("../../tests/data/validate/cases.txt");

struct Case {
    name: String,
    kind: PolicyKind,
    limits: Limits,
    catalog: Catalog,
    expect: Vec<String>,
    absent: Vec<String>,
    text: String,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for block in CASES.split("\n### ").map(|b| b.trim_start_matches("### ")) {
        let (head, text) = block.split_once("\n---\n").expect("a case has a `---` line");
        let mut lines = head.lines();
        let name = lines.next().unwrap().trim().to_string();
        let mut kind = None;
        let mut limits = None;
        let mut catalog = Catalog::Default;
        let mut expect = Vec::new();
        let mut absent = Vec::new();
        for line in lines {
            let (key, value) = line.split_once(':').expect("`key: value`");
            let words = value.split_whitespace().map(String::from);
            match key.trim() {
                "kind" => kind = Some(value.trim().parse::<PolicyKind>().unwrap()),
                "limits" => {
                    limits = Some(match value.trim() {
                        "sqs" => Limits::SQS_QUEUE,
                        other => panic!("unknown limits `{other}`"),
                    })
                }
                "catalog" => {
                    catalog = match value.trim() {
                        "fake" => Catalog::Fake,
                        "none" => Catalog::None,
                        other => panic!("unknown catalog `{other}`"),
                    }
                }
                "expect" => expect.extend(words),
                "absent" => absent.extend(words),
                other => panic!("unknown key `{other}` in case `{name}`"),
            }
        }
        let kind = kind.unwrap_or_else(|| panic!("case `{name}` has no kind"));
        out.push(Case {
            limits: limits.unwrap_or_else(|| Limits::for_kind(kind)),
            catalog,
            kind,
            expect,
            absent,
            text: text.to_string(),
            name,
        });
    }
    out
}

/// Cases too large to write out: quotas.
fn generated() -> Vec<(PolicyKind, Limits, String, &'static str)> {
    let actions: Vec<String> = (0..600).map(|i| format!("\"s3:GetObjectVersion{i}\"")).collect();
    let big = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": [{}], "Resource": "*"}}]}}"#,
        actions.join(", ")
    );
    let statements: Vec<String> = (0..21)
        .map(|i| {
            format!(
                r#"{{"Sid": "S{i}", "Effect": "Allow", "Principal": {{"AWS": "111122223333"}}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q{i}"}}"#
            )
        })
        .collect();
    let many = format!(r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#, statements.join(", "));
    vec![
        (PolicyKind::Identity, Limits::MANAGED, big, "POLICY_SIZE_EXCEEDED"),
        (PolicyKind::Resource, Limits::SQS_QUEUE, many, "TOO_MANY_STATEMENTS"),
    ]
}

/// Which service catalog a case is validated with.
#[derive(Clone, Copy)]
enum Catalog {
    /// The one `validate` uses.
    Default,
    /// The tests' small fake.
    Fake,
    /// None: the checks that need one are skipped.
    None,
}

fn run_case(case: &Case, kind: PolicyKind, limits: &Limits) -> Vec<Finding> {
    match case.catalog {
        Catalog::Default => validate_with(&case.text, kind, limits),
        Catalog::Fake => {
            validate_with_catalog(&case.text, kind, limits, Some(&catalog_checks::fake::Fake))
        }
        Catalog::None => validate_with_catalog(&case.text, kind, limits, None),
    }
}

fn codes(findings: &[Finding]) -> BTreeSet<&'static str> {
    findings.iter().map(|f| f.code).collect()
}

fn show(findings: &[Finding]) -> String {
    findings.iter().map(|f| format!("\n  {f}")).collect()
}

#[test]
fn fixtures_produce_their_codes() {
    let mut failures = Vec::new();
    for case in cases() {
        let findings = run_case(&case, case.kind, &case.limits);
        let got = codes(&findings);
        if case.expect == ["none"] {
            if !findings.is_empty() {
                failures.push(format!(
                    "{}: expected no findings, got{}",
                    case.name,
                    show(&findings)
                ));
            }
            continue;
        }
        for want in &case.expect {
            if !got.contains(want.as_str()) {
                failures.push(format!("{}: missing {want}; got{}", case.name, show(&findings)));
            }
        }
        for not in &case.absent {
            if got.contains(not.as_str()) {
                failures.push(format!("{}: unexpected {not}; got{}", case.name, show(&findings)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn generated_cases_produce_their_codes() {
    for (kind, limits, text, code) in generated() {
        let findings = validate_with(&text, kind, &limits);
        assert!(codes(&findings).contains(code), "missing {code}:{}", show(&findings));
    }
}

#[test]
fn every_check_is_exercised() {
    let mut exercised: BTreeSet<String> = BTreeSet::new();
    for case in cases() {
        exercised.extend(case.expect.iter().filter(|c| *c != "none").cloned());
    }
    exercised.extend(generated().into_iter().map(|(_, _, _, c)| c.to_string()));
    let listed: BTreeSet<String> = CHECKS.iter().map(|(c, _, _)| c.to_string()).collect();
    let unexercised: Vec<_> = listed.difference(&exercised).collect();
    assert!(unexercised.is_empty(), "codes no fixture expects: {unexercised:?}");
    let unlisted: Vec<_> = exercised.difference(&listed).collect();
    assert!(unlisted.is_empty(), "fixtures expect codes CHECKS lacks: {unlisted:?}");
}

#[test]
fn every_emitted_code_is_listed_and_messages_are_lowercase() {
    let listed: BTreeSet<&str> = CHECKS.iter().map(|(c, _, _)| *c).collect();
    let mut all = cases();
    for (kind, limits, text, _) in generated() {
        let (name, expect, absent) = (String::new(), Vec::new(), Vec::new());
        let catalog = Catalog::Default;
        all.push(Case { name, kind, limits, catalog, expect, absent, text });
    }
    for case in all {
        for k in PolicyKind::ALL {
            let limits = if k == case.kind { case.limits } else { Limits::for_kind(k) };
            for f in run_case(&case, k, &limits) {
                assert!(listed.contains(f.code), "{} is emitted but not in CHECKS", f.code);
                let first = f.message.chars().next().unwrap();
                assert!(!first.is_ascii_uppercase(), "message not lowercase: {f}");
                assert_eq!(f.severity, codes::severity(f.code), "{f}");
                assert!(f.learn_more.is_some_and(|u| u.starts_with("https://")), "{f}");
            }
        }
    }
}

#[test]
fn checks_table_is_well_formed() {
    let mut seen = BTreeSet::new();
    for (code, _, description) in CHECKS {
        assert!(seen.insert(*code), "{code} listed twice");
        assert!(code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'), "{code}");
        assert!(!description.is_empty() && !description.starts_with(char::is_uppercase));
    }
    assert!(CHECKS.len() >= 45, "{} checks", CHECKS.len());
}

#[test]
fn findings_are_sorted_and_located() {
    let text = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "read objects",
      "Effect": "Allow",
      "Principal": {"AWS": "111122223333"},
      "Action": ["s3:Get*", "s3:GetObject"],
      "Resource": "arn:aws:s3:::b/*",
      "Condition": {"StringEquals": {"aws:SourceIp": "203.0.113.7"}}
    }
  ]
}"#;
    let findings = validate(text, PolicyKind::Identity);
    let at = |code: &str| {
        let f = findings.iter().find(|f| f.code == code).unwrap_or_else(|| panic!("{code}"));
        (f.location.pos.line, f.location.pos.column, f.location.path.as_str())
    };
    assert_eq!(at("UNSUPPORTED_SID"), (5, 14, "$.Statement[0].Sid"));
    assert_eq!(at("UNSUPPORTED_PRINCIPAL"), (7, 20, "$.Statement[0].Principal"));
    assert_eq!(at("REDUNDANT_ACTION"), (8, 29, "$.Statement[0].Action[1]"));
    assert_eq!(at("TYPE_MISMATCH"), (10, 21, "$.Statement[0].Condition.StringEquals"));
    let positions: Vec<_> = findings.iter().map(|f| f.location.pos).collect();
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(positions, sorted);
}

#[test]
fn parse_errors_keep_their_code_and_location() {
    let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\"Effect\": \"Permit\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}\n}";
    let findings = validate(text, PolicyKind::Identity);
    let f = findings.iter().find(|f| f.code == "INVALID_EFFECT").expect("INVALID_EFFECT");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.location.path, "$.Statement.Effect");
    assert_eq!((f.location.pos.line, f.location.pos.column), (3, 27));
}

#[test]
fn kinds_and_severities_have_names() {
    for k in PolicyKind::ALL {
        assert_eq!(k.as_str().parse::<PolicyKind>(), Ok(k));
    }
    assert_eq!("SCP".parse::<PolicyKind>(), Ok(PolicyKind::ServiceControl));
    assert!("session".parse::<PolicyKind>().is_err());
    assert_eq!(Severity::SecurityWarning.to_string(), "SECURITY_WARNING");
    assert_eq!(Severity::Suggestion.to_string(), "SUGGESTION");
}

#[test]
fn odd_inputs_do_not_panic() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let long = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{}","Resource":"arn:aws:s3:::{}"}}}}"#,
        "s3:*".repeat(5_000),
        "*a".repeat(5_000)
    );
    for text in ["", "null", "{}", "\u{feff}{}", "{\"Statement\":[null]}", &deep, &long] {
        for k in PolicyKind::ALL {
            let _ = validate(text, k);
        }
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*".to_string()),
            Just("${aws:username}".to_string()),
            Just("${".to_string()),
            Just("arn:aws:s3:::b/".to_string()),
            Just("s3:Get".to_string()),
            "[a-zA-Z0-9:/*?${}' ,.-]{0,12}",
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(piece(), 1..4).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn validation_is_total(action in text(), resource in text(), value in text(), op in "[A-Za-z:]{0,30}") {
            let doc = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{}","Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":["{}","s3:*"],"Resource":["{}","*"],"Condition":{{"{}":{{"aws:SourceIp":"{}","aws:TagKeys":["{}"]}}}}}}]}}"#,
                value.replace(['"', '\\'], ""),
                resource.replace(['"', '\\'], ""),
                action.replace(['"', '\\'], ""),
                resource.replace(['"', '\\'], ""),
                op,
                value.replace(['"', '\\'], ""),
                action.replace(['"', '\\'], ""),
            );
            for k in PolicyKind::ALL {
                for f in validate(&doc, k) {
                    prop_assert!(CHECKS.iter().any(|(c, _, _)| *c == f.code), "{}", f.code);
                }
            }
        }
    }
}

#[test]
#[ignore = "prints every fixture's findings, for reviewing messages"]
fn print_fixture_findings() {
    for case in cases() {
        println!("== {} ({})", case.name, case.kind);
        for f in run_case(&case, case.kind, &case.limits) {
            println!("  {f}");
        }
    }
}
