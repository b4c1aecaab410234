#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `hermetic policy validate` as a user runs it: findings with positions, JSON output, and the
//! exit status (non-zero on ERROR only).

use std::path::PathBuf;
use std::process::Command;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies").join(name)
}

fn run(args: &[&std::ffi::OsStr]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hermetic"))
        .arg("policy")
        .arg("validate")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn warnings_are_reported_with_positions_and_do_not_fail() {
    let file = example("too-broad.json");
    let (ok, stdout, _) = run(&[file.as_os_str()]);
    assert!(ok, "{stdout}");
    assert!(
        stdout.contains("too-broad.json:7:18: SECURITY_WARNING PASS_ROLE_WITH_STAR_IN_RESOURCE"),
        "{stdout}"
    );
    assert!(stdout.contains("ALLOW_WITH_NOT_ACTION"), "{stdout}");
    let clean = example("read-own-prefix.json");
    let (ok, stdout, _) = run(&[clean.as_os_str()]);
    assert!(ok);
    assert!(stdout.contains("no findings"), "{stdout}");
}

#[test]
fn errors_fail_and_json_is_structured() {
    let dir = std::env::temp_dir().join(format!("hermetic-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\",\"Condition\":{\"StringEqualz\":{\"a\":\"b\"}}}}").unwrap();
    let (ok, stdout, _) = run(&[bad.as_os_str()]);
    assert!(!ok, "an ERROR must fail: {stdout}");
    assert!(stdout.contains("ERROR UNKNOWN_CONDITION_OPERATOR"), "{stdout}");
    let json = std::ffi::OsString::from("--json");
    let (ok, stdout, _) = run(&[bad.as_os_str(), json.as_os_str()]);
    assert!(!ok);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let finding = &doc[0]["findings"][0];
    assert_eq!(finding["findingType"], "ERROR");
    assert_eq!(finding["issueCode"], "UNKNOWN_CONDITION_OPERATOR");
    assert_eq!(finding["locations"][0]["span"]["start"]["line"], 1);
    // A principal in an identity policy is an error for --type identity, fine for resource.
    let with_principal = dir.join("principal.json");
    std::fs::write(&with_principal, "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}}").unwrap();
    let (ok, _, _) = run(&[with_principal.as_os_str()]);
    assert!(!ok);
    let t = std::ffi::OsString::from("--type");
    let r = std::ffi::OsString::from("resource");
    let (ok, stdout, _) = run(&[with_principal.as_os_str(), t.as_os_str(), r.as_os_str()]);
    assert!(ok, "{stdout}");
    // An unknown type is a usage error.
    let x = std::ffi::OsString::from("bogus");
    let (ok, _, stderr) = run(&[bad.as_os_str(), t.as_os_str(), x.as_os_str()]);
    assert!(!ok);
    assert!(stderr.contains("unknown policy type `bogus`"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
