#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Multi-party approval (issue 18) driven by boto3's `mpa` client (`scripts/approval_teams.py`)
//! against `hermetic serve`, on both stores: the built-in identity source, teams of the
//! account's IAM users, AWS's errors, IAM authorization, another tenant and the operator kept
//! out, and the calls in the tenant's log.

mod common;

use common::{start_on, Backend};

fn teams(backend: Backend) {
    let server = start_on("approvals", backend, &[]);
    let a = common::create_tenant(&server, "acme");
    let b = common::create_tenant(&server, "globex");
    common::run_with_tenants(&server, "approval_teams", &a, &b, &[]);
    // aws-cli, unmodified: its own serializer, the ARN as a path label.
    let aws = |args: &[&str]| {
        let (ok, out, err) = common::aws(&server.url, &a.key, &a.secret, args);
        assert!(ok, "aws {args:?}: {err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let listed = aws(&["mpa", "list-approval-teams"]);
    let teams = listed["ApprovalTeams"].as_array().unwrap();
    assert_eq!(teams.len(), 2, "{listed}");
    for team in teams {
        let arn = team["Arn"].as_str().unwrap();
        let got = aws(&["mpa", "get-approval-team", "--arn", arn]);
        assert_eq!(got["Arn"], team["Arn"], "{got}");
        assert_eq!(got["Status"], "ACTIVE", "{got}");
    }
    let sources = aws(&["mpa", "list-identity-sources"]);
    let expected = format!("arn:aws:mpa:us-east-1:{}:identity-source/iam", a.account);
    assert_eq!(sources["IdentitySources"][0]["IdentitySourceArn"], expected.as_str(), "{sources}");

    // The operator, with write access to the database, lowers the team's M to 1: the team's
    // row fails its MAC and is refused, never acted on.
    common::edit_database(
        &server,
        &format!(
            "update records set body = replace(body, '\"MinApprovals\":2', '\"MinApprovals\":1') where account = '{}' and kind = 'mpa_team'",
            a.account
        ),
    );
    let arn = teams.iter().find(|t| t["Name"] == "support").unwrap()["Arn"].as_str().unwrap();
    let (ok, _, err) =
        common::aws(&server.url, &a.key, &a.secret, &["mpa", "get-approval-team", "--arn", arn]);
    assert!(!ok && err.contains("integrity check"), "{err}");
}

#[test]
fn approval_teams_on_sqlite() {
    teams(Backend::Sqlite);
}

#[test]
fn approval_teams_on_postgres() {
    teams(Backend::Postgres);
}

/// Approval sessions (`scripts/approval_sessions.py`): the operator's access request, the
/// tenant's view of it, votes with `hermetic approvals vote`, cancel, all in the tenant's log.
fn sessions(backend: Backend) {
    let server = start_on("approval-sessions", backend, &[]);
    let a = common::create_tenant(&server, "acme");
    let b = common::create_tenant(&server, "globex");
    let data_dir = server.dir.display().to_string();
    let extra = [env!("CARGO_BIN_EXE_hermetic"), data_dir.as_str()];
    common::run_with_tenants(&server, "approval_sessions", &a, &b, &extra);

    // The operator, with write access to the database, marks its rejected request approved:
    // the session's row fails its MAC and is refused, never acted on.
    let (ok, out, err) =
        common::aws(&server.url, &a.key, &a.secret, &["mpa", "list-approval-teams"]);
    assert!(ok, "{err}");
    let teams: serde_json::Value = serde_json::from_str(&out).unwrap();
    let team = teams["ApprovalTeams"][0]["Arn"].as_str().unwrap().to_string();
    let list = ["mpa", "list-sessions", "--approval-team-arn", team.as_str()];
    assert!(common::aws(&server.url, &a.key, &a.secret, &list).0);
    common::edit_database(
        &server,
        &format!(
            "update records set body = replace(body, '\"Status\":\"FAILED\"', '\"Status\":\"APPROVED\"') where account = '{}' and kind = 'mpa_session'",
            a.account
        ),
    );
    let (ok, _, err) = common::aws(&server.url, &a.key, &a.secret, &list);
    assert!(!ok && err.contains("integrity check"), "{err}");
}

#[test]
fn approval_sessions_on_sqlite() {
    sessions(Backend::Sqlite);
}

#[test]
fn approval_sessions_on_postgres() {
    sessions(Backend::Postgres);
}

/// Protected operations (`scripts/approval_protected.py`): held for the tenant's
/// ProtectedOperations team, run as their caller once approved, never when rejected or
/// expired, team changes through the team, all in the tenant's log. Then the operator, with
/// write access to the database, tries to get a held operation run without the team.
fn protected(backend: Backend) {
    let server = start_on(
        "approval-protected",
        backend,
        &["--approval-voting-secs", "20", "--checkpoint-interval-secs", "1"],
    );
    let a = common::create_tenant(&server, "acme");
    let b = common::create_tenant(&server, "globex");
    let out = common::run_with_tenants(
        &server,
        "approval_protected",
        &a,
        &b,
        &[env!("CARGO_BIN_EXE_hermetic")],
    );
    let left: serde_json::Value = serde_json::from_str(
        out.lines().find(|l| l.starts_with('{')).expect("the script names what it left"),
    )
    .unwrap();
    let waiting = left["waiting"].as_str().unwrap();
    let bucket = left["bucket"].as_str().unwrap();
    let policy_is_there = || {
        let (ok, out, err) = common::aws(
            &server.url,
            &a.key,
            &a.secret,
            &["s3api", "get-bucket-policy", "--bucket", bucket],
        );
        (ok, out, err)
    };
    assert!(policy_is_there().0);

    // The operator marks the waiting session approved: its row fails its MAC, the session is
    // refused, and nothing runs.
    common::edit_database(
        &server,
        &format!(
            "update records set body = replace(body, '\"Status\":\"PENDING\"', '\"Status\":\"APPROVED\"') where account = '{}' and kind = 'mpa_session'",
            a.account
        ),
    );
    let (ok, _, err) = common::aws(
        &server.url,
        &a.key,
        &a.secret,
        &["mpa", "get-session", "--session-arn", waiting],
    );
    assert!(!ok && err.contains("integrity check"), "{err}");
    let (ok, out, err) = policy_is_there();
    assert!(ok, "the held DeleteBucketPolicy did not run: {out} {err}");

    // The operator deletes the team's row, so that protected calls would run at once: the
    // account's manifest misses it, and the next protected call is refused, not run.
    common::edit_database(
        &server,
        &format!("delete from records where account = '{}' and kind = 'mpa_team'", a.account),
    );
    let (ok, _, err) = common::aws(
        &server.url,
        &a.key,
        &a.secret,
        &["s3api", "delete-bucket-policy", "--bucket", bucket],
    );
    assert!(!ok, "a protected call ran without its team: {err}");
    let (ok, out, err) = policy_is_there();
    assert!(ok, "the bucket policy is still there: {out} {err}");
}

#[test]
fn approval_protected_operations_on_sqlite() {
    protected(Backend::Sqlite);
}

#[test]
fn approval_protected_operations_on_postgres() {
    protected(Backend::Postgres);
}

/// Held operations across kill -9 (`scripts/approval_crash.py`): approvals of 24 held
/// DisableKey calls in flight when the server dies; after a restart every approved one has run
/// exactly once (the sweep runs what the stop left approved and not run), no other has, and
/// the audit log verifies.
fn held_across_a_crash(backend: Backend) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let mut server = start_on("approval-crash", backend, &[]);
    let a = common::create_tenant(&server, "acme");
    let out = common::run_script(
        "approval_crash",
        &["setup", &server.url, &a.account, &a.key, &a.secret, "24"],
    );
    let setup: serde_json::Value =
        serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    let alice = &setup["alice"];
    let holds = setup["holds"].as_array().unwrap();
    let mut voter = Command::new(common::python())
        .arg(format!("{}/tests/scripts/approval_crash.py", env!("CARGO_MANIFEST_DIR")))
        .args(["vote", &server.url, env!("CARGO_BIN_EXE_hermetic")])
        .args([alice["AccessKeyId"].as_str().unwrap(), alice["SecretAccessKey"].as_str().unwrap()])
        .args(holds.iter().map(|h| h[0].as_str().unwrap()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut answered = BufReader::new(voter.stdout.take().unwrap()).lines();
    // Once a few approvals are answered, others are in flight: kill -9.
    let started = Instant::now();
    let mut seen = 0;
    while seen < 6 && started.elapsed() < Duration::from_secs(60) {
        if answered.next().is_some() {
            seen += 1;
        }
    }
    Command::new("kill").args(["-9", &server.child.id().to_string()]).status().unwrap();
    let _ = server.child.wait();
    let _ = voter.wait();
    assert!(seen >= 6, "only {seen} approvals were answered before the kill");

    let mut args: Vec<&str> = server.db_args.iter().map(String::as_str).collect();
    args.extend(["--checkpoint-interval-secs", "1"]);
    let (child, url, second) = common::start_with(&server.dir, &args);
    assert!(second.ends_with("(existing)"), "{second}");
    server.child = child;
    server.url = url;
    let holds = serde_json::to_string(holds).unwrap();
    let out =
        common::run_script("approval_crash", &["check", &server.url, &a.key, &a.secret, &holds]);
    let counts: serde_json::Value =
        serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    assert!(counts["approved"].as_u64().unwrap() >= 6, "{counts}");
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn approval_held_operations_survive_kill_9_on_sqlite() {
    held_across_a_crash(Backend::Sqlite);
}

#[test]
fn approval_held_operations_survive_kill_9_on_postgres() {
    held_across_a_crash(Backend::Postgres);
}
