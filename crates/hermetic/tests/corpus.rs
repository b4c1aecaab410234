#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The policy-evaluation corpus (`crates/policy/tests/data/cases/*.json`), run through the same
//! loader `hermetic policy simulate` uses, and the CLI itself on the bundled example.

use std::path::PathBuf;
use std::process::Command;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policy/tests/data/cases")
}

#[test]
fn every_corpus_case_gets_its_expected_decision() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut passed = 0;
    let mut failures = Vec::new();
    let mut names = std::collections::HashSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable corpus file");
        let cases = hermetic::simulate::load_cases(&text).expect("a JSON array of cases");
        for c in cases.iter().flatten() {
            assert!(names.insert(c.name.clone()), "case name `{}` is not unique", c.name);
            assert!(c.expected.is_some(), "case `{}` has no expected response", c.name);
        }
        let report = hermetic::simulate::run_cases(&text, true).expect("cases load");
        passed += report.passed;
        for f in report.failures {
            failures
                .push(format!("{}: {f}", file.file_name().unwrap_or_default().to_string_lossy()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(passed >= 200, "the corpus must hold at least 200 cases, it has {passed}");
}

#[test]
fn simulate_check_reports_totals_and_fails_on_mismatch() {
    let bin = env!("CARGO_BIN_EXE_hermetic");
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/cases.json");
    let out = Command::new(bin)
        .args(["policy", "simulate"])
        .arg(&example)
        .arg("--check")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.trim_end().ends_with("5 passed, 0 failed"), "{stdout}");

    // Flip one expectation: the command must list the mismatch and exit non-zero.
    let text = std::fs::read_to_string(&example).unwrap();
    let flipped =
        text.replacen("\"response\": \"Allowed\"", "\"response\": \"ExplicitlyDenied\"", 1);
    let dir = std::env::temp_dir().join(format!("hermetic-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cases.json");
    std::fs::write(&path, flipped).unwrap();
    let out =
        Command::new(bin).args(["policy", "simulate"]).arg(&path).arg("--check").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("alice-reads-her-home-prefix: expected ExplicitlyDenied but got Allowed"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("4 passed, 1 failed"), "{stdout}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn simulate_reads_cases_leniently_and_warns() {
    let text = r#"[{"name": "lenient",
        "request": {"principal": {"type": "Anonymous"}, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"},
        "identityPolicies": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject,PutObject", "Resource": "*"}]}],
        "resourcePolicy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]},
        "expected": {"response": "Allowed"}}]"#;
    let report = hermetic::simulate::run_cases(text, true).unwrap();
    assert_eq!((report.passed, report.failed), (1, 0), "{}", report.output);
    assert!(
        report.output.contains("warning: identity policy 1: WARNING INVALID_ACTION"),
        "{}",
        report.output
    );
    // Only the anonymous object form is accepted.
    let other = text.replace(r#"{"type": "Anonymous"}"#, r#"{"type": "User"}"#);
    let report = hermetic::simulate::run_cases(&other, true).unwrap();
    assert_eq!(report.failed, 1, "{}", report.output);
    assert!(report.output.contains(r#"or {"type": "Anonymous"}"#), "{}", report.output);
}
