//! Log lines: `tracing` events on stderr, as text or one JSON object per line.
//!
//! What a line may say (decision 019): account ids, access key ids, request ids, service and
//! operation names, statuses, counts and the operator's own paths. Never what a tenant chose or
//! holds: user, role, policy, bucket and object names, tag keys and values, policy documents,
//! object content, `x-amz-meta-*`, secrets, session tokens, error messages (they quote input).
//! A request's lines are in its span, whose `request_id` is its audit event's `requestID`.

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Levels `--log-level` takes.
pub const LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace", "off"];

/// Writes the process's log lines to stderr in `format`, the least severe at `level`, unless
/// `RUST_LOG` says otherwise. Called once, before anything logs; a second call changes nothing.
pub fn init(format: LogFormat, level: &str) {
    let level = if LEVELS.contains(&level) { level } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(ansi).try_init(),
        LogFormat::Json => builder
            .json()
            .with_ansi(false)
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// What a log line may say of a stored row a store error names
/// ([`store::StoreError::Forged`]'s `row`): its kind, and the ids the operator has anyway
/// (account, access key id, sequence numbers), never a record's key (a user, role or bucket
/// name: tenant data). A description of another shape is `a row`.
pub fn loggable_row(row: &str) -> String {
    let words: Vec<&str> = row.split(' ').collect();
    match words.as_slice() {
        ["record", kind, ..] => format!("record {kind}"),
        ["access", "keys", "of", kind, ..] => format!("access keys of a {kind}"),
        ["access", "key", id] => format!("access key {id}"),
        ["account", id] => format!("account {id}"),
        ["audit", "event", seq] => format!("audit event {seq}"),
        ["audit", "event", seq, "(deleted)"] => format!("audit event {seq} (deleted)"),
        ["listing", "of", kind, "records"] => format!("listing of {kind} records"),
        ["manifest", "head"] => "manifest head".to_string(),
        ["the", "audit", "log's", "head", ..] => "the audit log's head".to_string(),
        _ => "a row".to_string(),
    }
}

/// What a log line may say of an access key's owner: its kind (`user`, `root`, `session`,
/// `operator`), never its name; another stored kind is `principal`.
pub fn owner_kind(kind: &str) -> &'static str {
    ["user", "root", "session", "operator"].into_iter().find(|k| *k == kind).unwrap_or("principal")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_is_logged_by_its_kind_from_a_fixed_set() {
        assert_eq!(owner_kind("user"), "user");
        assert_eq!(owner_kind("session"), "session");
        assert_eq!(owner_kind("alice"), "principal");
    }

    #[test]
    fn a_row_is_logged_by_its_kind_never_its_key() {
        assert_eq!(loggable_row("record iam_role Admin-canary"), "record iam_role");
        assert_eq!(loggable_row("record s3_object my bucket/secret key"), "record s3_object");
        assert_eq!(loggable_row("access keys of user alice-canary"), "access keys of a user");
        assert_eq!(loggable_row("access key AKIAEXAMPLE"), "access key AKIAEXAMPLE");
        assert_eq!(loggable_row("account 123456789012"), "account 123456789012");
        assert_eq!(loggable_row("audit event 7"), "audit event 7");
        assert_eq!(loggable_row("audit event 7 (deleted)"), "audit event 7 (deleted)");
        assert_eq!(loggable_row("listing of iam_user records"), "listing of iam_user records");
        assert_eq!(loggable_row("the audit log's head (size 9)"), "the audit log's head");
        assert_eq!(loggable_row("manifest head"), "manifest head");
        assert_eq!(loggable_row("account 1 and alice"), "a row");
        assert_eq!(loggable_row("something new with alice"), "a row");
    }
}
