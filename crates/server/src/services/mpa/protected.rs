//! The two-person rule for a tenant's own sensitive operations (issue 18, decision 014): once
//! an account has a `ProtectedOperations` team, each protected operation its principals call
//! is held, not run. The caller is answered `PendingApproval`, naming a new session on the
//! team; the request and its caller are kept in the session, sealed under the account's key.
//! When M of the team's approvers approve, the request runs through the pipeline as its
//! original caller, authorized again then. An unapproved request expires with its session and
//! never runs.

use super::{
    new_session_id, open_session, session_key, settle, team_for, voting_ms, SessionAsk,
    PROTECTED_OPERATIONS_POLICY,
};
use crate::error::ApiError;
use crate::pipeline::events::RequestFacts;
use crate::pipeline::identity::Caller;
use crate::pipeline::run::Pending;
use crate::pipeline::service::{Ctx, Effect, Request};
use crate::pipeline::State;
use crate::records::iam::{Role, User};
use crate::records::mpa::{Execution, Held, Session, SessionStatus};
use crate::records::Stored;
use crate::support::account_keys::{open_text, seal_text};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The operations a `ProtectedOperations` team holds for approval: (event source, operation).
/// Changes to a team's approvers, M and deletion go through that team itself in any case.
pub(crate) const PROTECTED: &[(&str, &str)] = &[
    ("kms.amazonaws.com", "ScheduleKeyDeletion"),
    ("kms.amazonaws.com", "DisableKey"),
    ("kms.amazonaws.com", "PutKeyPolicy"),
    ("kms.amazonaws.com", "DeleteImportedKeyMaterial"),
    ("s3.amazonaws.com", "DeleteBucket"),
    ("s3.amazonaws.com", "PutBucketPolicy"),
    ("s3.amazonaws.com", "DeleteBucketPolicy"),
    ("s3.amazonaws.com", "PutPublicAccessBlock"),
    ("s3.amazonaws.com", "DeletePublicAccessBlock"),
    ("cloudtrail.amazonaws.com", "DeleteTrail"),
    ("cloudtrail.amazonaws.com", "StopLogging"),
    ("cloudtrail.amazonaws.com", "UpdateTrail"),
    ("cloudtrail.amazonaws.com", "PutEventSelectors"),
    ("mpa.amazonaws.com", "CreateApprovalTeam"),
    ("mpa.amazonaws.com", "TagResource"),
    ("mpa.amazonaws.com", "UntagResource"),
];

/// Whether `operation` of the service whose events come from `event_source` is protected.
pub(crate) fn is_protected(event_source: &str, operation: &str) -> bool {
    PROTECTED.iter().any(|(s, o)| *s == event_source && *o == operation)
}

/// A held request as it is sealed into its session: enough to run it again as it came.
#[derive(Serialize, Deserialize)]
struct HeldRequest {
    /// The signing name of the service it was for (`kms`, `s3`).
    service: String,
    caller: Caller,
    method: String,
    path: String,
    /// The query string's parameters.
    query_params: Vec<(String, String)>,
    /// The query protocol's parameters.
    params: Vec<(String, String)>,
    /// Its headers, without its signature and session token.
    headers: Vec<(String, String)>,
    /// Its body, base64.
    body: String,
    /// Whether its body arrived as unsigned `aws-chunked` frames (S3 decodes them).
    unsigned_chunks: bool,
    region: String,
    source_ip: String,
    user_agent: Option<String>,
    access_key_id: Option<String>,
    secure: bool,
}

fn sealing_context(account: &str, session_arn: &str) -> String {
    format!("hermetic:held-request/v1\0{account}\0{session_arn}")
}

/// Holds the authorized request `req` for `action` on `resource` of `account` when
/// `operation` is protected and the account has a `ProtectedOperations` team: opens the
/// session in a transaction of `effect` and returns the `PendingApproval` answer (the request
/// then commits the session with its event and answers that error). `None`: run it now.
#[allow(clippy::too_many_arguments)]
pub(crate) fn hold<'s>(
    ctx: &Ctx<'s>,
    req: &Request<'_>,
    event_source: &str,
    operation: &str,
    action: &str,
    resource: &str,
    account: &str,
    effect: &mut Effect<'s>,
) -> Result<Option<ApiError>, ApiError> {
    if !is_protected(event_source, operation) {
        return Ok(None);
    }
    if account.is_empty() {
        return Err(ApiError::sender(
            403,
            "AccessDenied",
            "a protected operation must name an account's resource",
        ));
    }
    let now = ctx.now();
    let found = ctx.read(|tx| team_for(tx, account, PROTECTED_OPERATIONS_POLICY, now))?;
    if found.is_none() {
        return Ok(None);
    }
    let unsigned_chunks = match req.payload {
        sigv4::PayloadMode::Verified
        | sigv4::PayloadMode::Unsigned
        | sigv4::PayloadMode::Sha256(_) => false,
        sigv4::PayloadMode::UnsignedChunks => true,
        sigv4::PayloadMode::SignedChunks(_) => {
            return Err(ApiError::sender(
                400,
                "InvalidRequest",
                "a protected operation is held for approval and cannot be held with a chunk-signed body: send it with a signed or unsigned payload",
            ))
        }
    };
    if req.stream.borrow().is_some() {
        return Err(ApiError::sender(
            400,
            "InvalidRequest",
            "a protected operation's body is too large to be held for approval",
        ));
    }
    let facts = ctx.facts;
    let held = HeldRequest {
        service: event_source.trim_end_matches(".amazonaws.com").to_string(),
        caller: ctx.caller.clone(),
        method: req.method.to_string(),
        path: req.path.to_string(),
        query_params: req.query_params.clone(),
        params: req.params.clone(),
        headers: req
            .headers
            .iter()
            .filter(|(n, _)| {
                !n.eq_ignore_ascii_case("authorization")
                    && !n.eq_ignore_ascii_case("x-amz-security-token")
            })
            .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
            .collect(),
        body: base64::engine::general_purpose::STANDARD.encode(req.body),
        unsigned_chunks,
        region: facts.region.clone(),
        source_ip: facts.source_ip.clone(),
        user_agent: facts.user_agent.clone(),
        access_key_id: facts.access_key_id.clone(),
        secure: facts.secure,
    };
    // Held, it does not execute: the request's reads end before its transaction begins.
    ctx.end_reads();
    let mut tx = ctx.state.store.begin()?;
    // The team again, under the writers' lock.
    let team = team_for(tx.as_mut(), account, PROTECTED_OPERATIONS_POLICY, now)?
        .ok_or_else(|| ApiError::unavailable("the protected operations team changed; retry"))?;
    let id = new_session_id();
    let arn = super::session_arn(account, &team.key, &id);
    let key = ctx.state.account_keys.get(tx.as_mut(), &ctx.state.root, account)?;
    let sealed = seal_text(&key, &sealing_context(account, &arn), &held, "held request")?;
    let ask = SessionAsk {
        id,
        action_name: action.to_string(),
        protected_resource_arn: resource.to_string(),
        voting_ms: voting_ms(ctx),
        protected: Some(Held { sealed, execution: None }),
        ..SessionAsk::default()
    };
    let opened = open_session(tx.as_mut(), &team, ctx.caller, ask, now)?;
    effect.tx = Some(tx);
    effect.held = true;
    ctx.touch(account);
    Ok(Some(ApiError::sender(
        409,
        "PendingApproval",
        format!(
            "{action} on {resource} is protected by the approval team {}: it waits for approval in session {opened}, and runs as you once approved",
            team.body.arn
        ),
    )))
}

/// This server process's name in the claims of the runs it makes: a claim of another process
/// (one stopped mid-run) is stale.
fn instance() -> &'static str {
    static INSTANCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    INSTANCE.get_or_init(crate::support::ids::uuid)
}

/// How long a claim of this process holds before another runner may take the run over.
const CLAIM_MS: i64 = 300_000;

/// Whether a held request's run is waiting for a runner: never claimed, or claimed by a
/// runner that is gone (another process, or this one too long ago).
fn runnable(execution: Option<&Execution>, now: i64) -> bool {
    match execution {
        None => true,
        Some(e) if e.status == "RUNNING" => {
            let mine = e.claim.as_deref().is_some_and(|c| c.starts_with(instance()));
            !mine || now - e.time_ms >= CLAIM_MS
        }
        Some(_) => false,
    }
}

/// Claims the run of `account`'s session `key` for one runner: the session must be approved
/// and its run waiting. Returns the claim, or `None` when it is not this runner's to run.
fn claim(state: &State, account: &str, key: &str, now: i64) -> Result<Option<String>, ApiError> {
    let mut tx = state.store.begin()?;
    let Some(mut session) = Stored::<Session>::get_for_update(tx.as_mut(), account, key)? else {
        return Ok(None);
    };
    settle(&mut session.body, now);
    if session.body.status != SessionStatus::Approved {
        return Ok(None);
    }
    let Some(held) = session.body.protected.as_mut() else { return Ok(None) };
    if !runnable(held.execution.as_ref(), now) {
        return Ok(None);
    }
    let token = format!("{}:{}", instance(), crate::support::ids::uuid());
    held.execution = Some(Execution {
        status: "RUNNING".into(),
        claim: Some(token.clone()),
        message: None,
        time_ms: now,
    });
    session.updated_at_ms = now;
    session.put(tx.as_mut(), store::PutMode::Update)?;
    tx.commit().map_err(|_| ApiError::unavailable("the change could not be committed"))?;
    Ok(Some(token))
}

/// Runs the held request of `account`'s approved session `arn`, once: through the pipeline as
/// its original caller, authorized now, its event naming the session. One runner claims the
/// run first (a vote's and a sweep's never both run it); its change commits with the session's
/// `EXECUTED` mark, and a refusal or failure is marked `FAILED` with its error. A session not
/// approved, already run or claimed, or with nothing held is left as it is. A failure of the
/// server itself (503) leaves the claim to go stale, for [`sweep`] to run it again.
pub(crate) fn run_approved(
    state: &State,
    account: &str,
    arn: &str,
    pending: &mut Pending,
) -> Result<(), ApiError> {
    let key = session_key(account, arn)?;
    let now = crate::support::time::now_ms();
    let Some(token) = claim(state, account, &key, now)? else { return Ok(()) };
    let session = {
        let mut tx = state.store.read()?;
        Stored::<Session>::get(tx.as_mut(), account, &key)?
    };
    let Some(sealed) = session.and_then(|s| s.body.protected.map(|h| h.sealed)) else {
        return Ok(());
    };
    let account_key = state.account_keys.of(state.store.as_ref(), &state.root, account)?;
    let held: HeldRequest =
        open_text(&account_key, &sealing_context(account, arn), &sealed, "a held request")?;
    let facts = RequestFacts {
        request_id: crate::support::ids::uuid(),
        region: held.region.clone(),
        source_ip: held.source_ip.clone(),
        user_agent: held.user_agent.clone(),
        access_key_id: held.access_key_id.clone(),
        time_ms: now,
        secure: held.secure,
        approval: Some(arn.to_string()),
        ..RequestFacts::default()
    };
    let current = {
        let mut tx = state.store.read()?;
        // A suspended account runs nothing, as it is refused everything.
        let accounts_active = active(tx.as_mut(), account)?
            && (held.caller.account.is_empty() || active(tx.as_mut(), &held.caller.account)?);
        accounts_active && principal_current(tx.as_mut(), &held.caller, now)?
    };
    let result = if current {
        let body = base64::engine::general_purpose::STANDARD
            .decode(&held.body)
            .map_err(|_| ApiError::internal("a held request's body does not decode"))?;
        let headers: Vec<(&str, &str)> =
            held.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let target = held
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-target"))
            .map(|(_, v)| v.as_str());
        let request = Request {
            method: &held.method,
            path: &held.path,
            headers: &headers,
            target,
            params: held.params.clone(),
            query_params: held.query_params.clone(),
            body: &body,
            payload: if held.unsigned_chunks {
                sigv4::PayloadMode::UnsignedChunks
            } else {
                sigv4::PayloadMode::Verified
            },
            stream: std::cell::RefCell::new(None),
        };
        let mark = |tx: &mut dyn store::Tx| {
            finish_run(tx, account, &key, &token, now, None).and_then(|marked| {
                if marked {
                    Ok(())
                } else {
                    Err(ApiError::sender(409, "ConflictException", "the held request has run"))
                }
            })
        };
        crate::pipeline::dispatch(
            state,
            &held.service,
            &held.caller,
            &request,
            facts,
            None,
            pending,
            Some(&mark),
            // The held run is the approving request's work, measured under its labels.
            &mut crate::observe::RequestLabels::signed_for(None),
        )
        .map(|_| ())
    } else {
        let e = ApiError::sender(
            403,
            "AccessDenied",
            "the principal that asked for the held operation no longer exists, or its account is not active; it does not run",
        );
        crate::pipeline::run::refuse(&held.caller, &facts, e.clone(), pending).map(|_| ())
    };
    match result {
        Ok(()) => Ok(()),
        // The server's own trouble: the claim goes stale, for the sweep to run it again.
        Err(e) if !e.sender_fault => Err(e),
        Err(e) => {
            let mut tx = state.store.begin()?;
            if finish_run(tx.as_mut(), account, &key, &token, now, Some(&e))? {
                tx.commit()
                    .map_err(|_| ApiError::unavailable("the change could not be committed"))?;
            }
            Ok(())
        }
    }
}

/// Marks the run this runner claimed (`token`) as done (`error`: how it failed), in `tx`; false
/// when the claim is no longer its own.
fn finish_run(
    tx: &mut dyn store::Tx,
    account: &str,
    key: &str,
    token: &str,
    now: i64,
    error: Option<&ApiError>,
) -> Result<bool, ApiError> {
    let Some(mut session) = Stored::<Session>::get_for_update(tx, account, key)? else {
        return Ok(false);
    };
    let Some(held) = session.body.protected.as_mut().filter(|h| {
        h.execution
            .as_ref()
            .is_some_and(|e| e.status == "RUNNING" && e.claim.as_deref() == Some(token))
    }) else {
        return Ok(false);
    };
    held.execution = Some(Execution {
        status: if error.is_some() { "FAILED" } else { "EXECUTED" }.into(),
        claim: None,
        message: error.map(|e| format!("{}: {}", e.code, e.message)),
        time_ms: now,
    });
    session.updated_at_ms = now;
    session.put(tx, store::PutMode::Update)?;
    Ok(true)
}

/// Whether `account` exists and is active.
fn active(tx: &mut dyn store::ReadTx, account: &str) -> Result<bool, ApiError> {
    Ok(tx.get_account(account)?.is_some_and(|a| a.status == store::AccountStatus::Active))
}

/// Whether the principal `caller` names is the one that asked: the same user or role (by its
/// unique id, so one deleted and made again is another), or an operator's access still
/// approved.
fn principal_current(
    tx: &mut dyn store::ReadTx,
    caller: &Caller,
    now: i64,
) -> Result<bool, ApiError> {
    let account = caller.account.as_str();
    if let Some(session) = &caller.session {
        if let Some(approval) = &session.approved_access {
            return Ok(super::check_approved(tx, account, approval, now).is_ok());
        }
        if let Some((role_arn, role_id)) = &session.role {
            let name = role_arn.rsplit('/').next().unwrap_or_default();
            let role = Stored::<Role>::get(tx, account, name)?;
            return Ok(role.is_some_and(|r| r.body.role_id == *role_id && r.body.arn == *role_arn));
        }
    }
    if let Some(path) = caller.arn.strip_prefix(&format!("arn:aws:iam::{account}:user/")) {
        let name = path.rsplit('/').next().unwrap_or_default();
        let user = Stored::<User>::get(tx, account, name)?;
        return Ok(
            user.is_some_and(|u| u.body.user_id == caller.user_id && u.body.arn == caller.arn)
        );
    }
    // The account's root user, or the anonymous principal: nothing to have gone.
    Ok(caller.arn == format!("arn:aws:iam::{account}:root") || caller.is_anonymous())
}

/// Runs every approved session's held request that has not run (one the server stopped before
/// running, or whose run met the server's own failure), in every account.
pub(crate) fn sweep(state: &State, pending: &mut Pending) {
    let now = crate::support::time::now_ms();
    let due: Vec<(String, String)> = (|| -> Result<Vec<(String, String)>, ApiError> {
        let mut tx = state.store.read()?;
        let mut due = Vec::new();
        for account in crate::checkpoints::accounts(tx.as_mut())? {
            // An account whose rows do not authenticate runs nothing; the others go on.
            let Ok(sessions) = Stored::<Session>::list(tx.as_mut(), &account, "", 100_000) else {
                continue;
            };
            for mut s in sessions {
                settle(&mut s.body, now);
                let waiting =
                    s.body.protected.as_ref().is_some_and(|h| runnable(h.execution.as_ref(), now));
                if waiting && s.body.status == SessionStatus::Approved {
                    due.push((account.clone(), s.body.arn.clone()));
                }
            }
        }
        Ok(due)
    })()
    .unwrap_or_default();
    for (account, arn) in due {
        let _ = run_approved(state, &account, &arn, pending);
    }
}
