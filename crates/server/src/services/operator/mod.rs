//! The operator API (JSON 1.1 protocol, signing service `hermetic`, target prefix
//! `HermeticOperator.`): invite, list, suspend and reactivate tenant accounts. Only the operator
//! may call it. The operator never receives a tenant credential: `InviteAccount` makes an
//! account in state `invited` and answers a single-use code (stored only as its SHA-256) that
//! the tenant redeems with the server itself for its root access key
//! (`services::onboarding`).

use crate::error::ApiError;
use crate::pipeline::service::{
    operations, Authorization, Ctx, Effect, Named, Operation, Request, Service, Unrouted,
};
use crate::pipeline::Reply;
use crate::records::accounts::{Invitation, INVITATION_KEY};
use crate::records::Stored;
use serde_json::{json, Value};
use store::{Account, AccountStatus, StoreError};

/// The `X-Amz-Target` prefix of operator operations.
pub const TARGET_PREFIX: &str = "HermeticOperator.";

/// How long an invitation may be redeemed unless the operator says otherwise: 7 days.
const DEFAULT_INVITATION_SECS: i64 = 7 * 86_400;
/// The longest an invitation may be redeemable: 30 days.
const MAX_INVITATION_SECS: i64 = 30 * 86_400;
/// The shortest and longest operator access a request may ask for: 5 seconds (shorter is only
/// safer) to 12 hours.
const MIN_ACCESS_SECS: i64 = 5;
const MAX_ACCESS_SECS: i64 = 43_200;
/// The longest break-glass access: an hour.
const MAX_BREAK_GLASS_SECS: i64 = 3_600;
/// The services none of whose actions break-glass access may take: identities, credentials,
/// approvals and the operator's own.
const BREAK_GLASS_NEVER: [&str; 5] = ["iam", "sts", "mpa", "hermetic", "organizations"];
/// The tag of an operator-access team by which its account allows break-glass access.
pub(crate) const BREAK_GLASS_TAG: (&str, &str) = ("hermetic:break-glass", "enabled");
/// The alphabet of an invitation code's secret part (base32, no padding).
const CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::AlreadyExists => ApiError::sender(
            400,
            "DuplicateAccountException",
            "an account with that name already exists",
        ),
        StoreError::NotFound => {
            ApiError::sender(400, "AccountNotFoundException", "no such account")
        }
        other => other.into(),
    }
}

fn valid_name(name: &str) -> bool {
    (1..=50).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn new_account_id() -> String {
    loop {
        let digits = crate::support::ids::random_text(b"01234567890123456789012345678901", 12);
        if !digits.starts_with('0') {
            return digits;
        }
    }
}

operations! {
    /// The operator API's operations.
    OperatorOperation {
        InviteAccount => "hermetic:InviteAccount", Write;
        ListAccounts => "hermetic:ListAccounts", Read;
        SuspendAccount => "hermetic:SuspendAccount", Write;
        ReactivateAccount => "hermetic:ReactivateAccount", Write;
        RequestAccess => "hermetic:RequestAccess", Write;
        GetAccessCredentials => "hermetic:GetAccessCredentials", Write;
    }
}

/// The operator API (JSON 1.1, signing service `hermetic`).
pub(crate) struct Operator;

/// An operator call: the operation and its typed input.
pub(crate) struct Call {
    operation: OperatorOperation,
    input: Input,
}

/// One operator operation's input (the API is Hermetic's own: no AWS model).
pub(crate) enum Input {
    /// `InviteAccount`: a new account's name, and how long its code may be redeemed.
    Invite { name: String, expires_in_secs: i64 },
    /// `ListAccounts`.
    List,
    /// `SuspendAccount` and `ReactivateAccount`: the account.
    Status { id: String },
    /// `RequestAccess`: an approval session on the account's operator-access team.
    Access {
        id: String,
        access: crate::records::mpa::Access,
        justification: String,
        /// Emergency access without approval, where the account allows it.
        break_glass: bool,
    },
    /// `GetAccessCredentials`: credentials for an approved session (in account `id`).
    Credentials { id: String, session_arn: String },
}

impl Input {
    fn parse(operation: OperatorOperation, body: &Value) -> Result<Input, ApiError> {
        let field = |name: &str| -> Result<String, ApiError> {
            body.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
                ApiError::sender(
                    400,
                    "ValidationException",
                    format!("`{name}` is required and must be a string"),
                )
            })
        };
        Ok(match operation {
            OperatorOperation::InviteAccount => {
                let name = field("AccountName")?;
                if !valid_name(&name) {
                    return Err(ApiError::sender(
                        400,
                        "ValidationException",
                        "`AccountName` must be 1 to 50 lowercase letters, digits or hyphens",
                    ));
                }
                let expires_in_secs = match body.get("ExpiresInSeconds") {
                    None | Some(Value::Null) => DEFAULT_INVITATION_SECS,
                    Some(v) => v
                        .as_i64()
                        .filter(|n| (1..=MAX_INVITATION_SECS).contains(n))
                        .ok_or_else(|| {
                            ApiError::sender(
                                400,
                                "ValidationException",
                                format!("`ExpiresInSeconds` must be an integer from 1 to {MAX_INVITATION_SECS}"),
                            )
                        })?,
                };
                Input::Invite { name, expires_in_secs }
            }
            OperatorOperation::ListAccounts => Input::List,
            OperatorOperation::SuspendAccount | OperatorOperation::ReactivateAccount => {
                Input::Status { id: field("AccountId")? }
            }
            OperatorOperation::GetAccessCredentials => {
                let session_arn = field("SessionArn")?;
                // arn:aws:mpa:REGION:ACCOUNT:session/TEAM/ID
                let id = session_arn
                    .split(':')
                    .nth(4)
                    .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| {
                        ApiError::sender(
                            400,
                            "ValidationException",
                            "`SessionArn` is not a session's ARN",
                        )
                    })?
                    .to_string();
                Input::Credentials { id, session_arn }
            }
            OperatorOperation::RequestAccess => {
                let invalid = |m: &str| ApiError::sender(400, "ValidationException", m.to_string());
                let list = |name: &str| -> Result<Vec<String>, ApiError> {
                    let items: Vec<String> = body
                        .get(name)
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                        .unwrap_or_default();
                    if items.is_empty() || items.len() > 50 {
                        return Err(invalid(&format!("`{name}` must list 1 to 50 strings")));
                    }
                    Ok(items)
                };
                let actions = list("Actions")?;
                if actions.iter().any(|a| {
                    let mut parts = a.splitn(2, ':');
                    !matches!((parts.next(), parts.next()), (Some(s), Some(n)) if !s.is_empty() && !n.is_empty() && !a.contains('*'))
                }) {
                    return Err(invalid("each of `Actions` is one action, `service:Action`, without wildcards"));
                }
                let id = field("AccountId")?;
                let resources = list("Resources")?;
                // An ARN of the account (or of no account: S3's), never `*` alone.
                let foreign = |r: &String| {
                    let mut parts = r.splitn(6, ':');
                    let (arn, _, _, _, account) =
                        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next());
                    arn != Some("arn")
                        || parts.next().is_none()
                        || !matches!(account, Some(a) if a.is_empty() || a == id)
                };
                if resources.iter().any(foreign) {
                    return Err(invalid(
                        "each of `Resources` is an ARN of the account's (or of no account's, as S3's)",
                    ));
                }
                let duration_secs = body
                    .get("DurationSeconds")
                    .and_then(Value::as_i64)
                    .filter(|d| (MIN_ACCESS_SECS..=MAX_ACCESS_SECS).contains(d))
                    .ok_or_else(|| {
                        invalid(&format!(
                            "`DurationSeconds` must be an integer from {MIN_ACCESS_SECS} to {MAX_ACCESS_SECS}"
                        ))
                    })?;
                let justification = field("Justification")?;
                if justification.trim().is_empty() || justification.len() > 1000 {
                    return Err(invalid("`Justification` must be 1 to 1000 characters"));
                }
                let break_glass = body.get("BreakGlass").and_then(Value::as_bool).unwrap_or(false);
                if break_glass && duration_secs > MAX_BREAK_GLASS_SECS {
                    return Err(invalid(&format!(
                        "break-glass access lasts at most {MAX_BREAK_GLASS_SECS} seconds"
                    )));
                }
                // Emergency access repairs; it never makes identities, credentials or
                // approvals that would outlast it.
                if break_glass
                    && actions.iter().any(|a| {
                        let service = a.split(':').next().unwrap_or_default().to_ascii_lowercase();
                        BREAK_GLASS_NEVER.contains(&service.as_str())
                    })
                {
                    return Err(invalid(&format!(
                        "break-glass access takes no action of {}",
                        BREAK_GLASS_NEVER.join(", ")
                    )));
                }
                Input::Access {
                    id,
                    access: crate::records::mpa::Access { actions, resources, duration_secs },
                    justification,
                    break_glass,
                }
            }
        })
    }
}

impl Service for Operator {
    type Operation = OperatorOperation;
    type Call = Call;
    const EVENT_SOURCE: &'static str = "hermetic.amazonaws.com";
    const TENANT_ONLY: bool = false;
    /// The operator's own API: the accounts it names are what the operator administers.
    const OPERATOR_API: bool = true;

    fn route(req: &Request<'_>) -> Result<Call, Unrouted<OperatorOperation>> {
        let target = req.target.unwrap_or_default();
        let name = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
        let operation =
            OperatorOperation::from_name(name).ok_or_else(|| Unrouted::unknown_operation(name))?;
        let input = req
            .json()
            .and_then(|body| Input::parse(operation, &body))
            .map_err(|e| Unrouted::input(operation, e))?;
        Ok(Call { operation, input })
    }

    fn operation(call: &Call) -> OperatorOperation {
        call.operation
    }

    /// The account an operation acts on: its log gets the event even when the call is refused.
    fn named(_: &Request<'_>, call: Option<&Call>) -> Vec<Named> {
        match call.map(|c| &c.input) {
            Some(
                Input::Status { id } | Input::Access { id, .. } | Input::Credentials { id, .. },
            ) => {
                vec![Named::Account(id.clone())]
            }
            _ => Vec::new(),
        }
    }

    fn parameters(_: &Request<'_>, call: &Call) -> Option<Value> {
        Some(match &call.input {
            Input::Invite { name, expires_in_secs } => {
                json!({ "accountName": name, "expiresInSeconds": expires_in_secs })
            }
            Input::List => json!({}),
            Input::Status { id } => json!({ "accountId": id }),
            Input::Credentials { id, session_arn } => {
                json!({ "accountId": id, "sessionArn": session_arn })
            }
            Input::Access { id, access, justification, break_glass } => json!({
                "accountId": id,
                "actions": access.actions,
                "resources": access.resources,
                "durationSeconds": access.duration_secs,
                "justification": justification,
                "breakGlass": break_glass,
            }),
        })
    }

    fn authorization(
        ctx: &Ctx<'_>,
        _: &Request<'_>,
        call: &mut Call,
    ) -> Result<Authorization, ApiError> {
        if !ctx.is_operator() {
            return Err(ApiError::sender(
                403,
                "AccessDenied",
                format!(
                    "User: {} is not authorized to perform: {} because only the operator may manage accounts",
                    ctx.caller.arn,
                    call.operation.action()
                ),
            ));
        }
        Ok(Authorization::Operator)
    }

    fn execute<'s>(
        ctx: &Ctx<'s>,
        _: &Request<'_>,
        call: Call,
        effect: &mut Effect<'s>,
    ) -> Result<Reply, ApiError> {
        let state = ctx.state;
        let now = ctx.now();
        let output = match &call.input {
            Input::Invite { name, expires_in_secs } => {
                let mut tx = state.store.begin().map_err(store_error)?;
                let id = new_account_id();
                tx.create_account(&Account {
                    mac: Vec::new(),
                    id: id.clone(),
                    name: name.to_string(),
                    status: AccountStatus::Invited,
                    created_at_ms: now,
                })
                .map_err(store_error)?;
                crate::support::account_keys::ensure(tx.as_mut(), &state.root, &id, now)
                    .map_err(store_error)?;
                let code = format!(
                    "{}{id}-{}",
                    crate::services::onboarding::CODE_PREFIX,
                    crate::support::ids::random_text(CODE_ALPHABET, 40)
                );
                let code_sha256 = crate::services::onboarding::code_hash(&code);
                let expires_ms = now + expires_in_secs * 1000;
                let sealed = state
                    .root
                    .wrap(
                        &Invitation::context(&id),
                        Invitation::sealed_text(&code_sha256, expires_ms).as_bytes(),
                    )
                    .map_err(|_| ApiError::unavailable("the root of trust is unavailable"))?;
                let invitation = Invitation {
                    code_sha256,
                    expires_ms,
                    redeemed_ms: None,
                    seal: base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        sealed,
                    ),
                };
                Stored::new(&id, INVITATION_KEY, invitation, now)
                    .put(tx.as_mut(), store::PutMode::Create)?;
                effect.tx = Some(tx);
                // The new account's log starts with the event that made it.
                ctx.touch(&id);
                // The event records the account, never the code.
                effect.response = Some(json!({ "AccountId": id }));
                json!({ "AccountId": id, "InviteCode": code })
            }
            Input::List => {
                let mut tx = state.store.read().map_err(store_error)?;
                let page = tx.list_accounts(None, 1000).map_err(store_error)?;
                let accounts: Vec<Value> = page
                    .items
                    .iter()
                    .map(|a| json!({ "Id": a.id, "Name": a.name, "Status": a.status.as_str().to_uppercase(), "CreatedAt": a.created_at_ms / 1000 }))
                    .collect();
                json!({ "Accounts": accounts })
            }
            Input::Status { id } => {
                let id = id.clone();
                let status = if call.operation == OperatorOperation::SuspendAccount {
                    AccountStatus::Suspended
                } else {
                    AccountStatus::Active
                };
                let mut tx = state.store.begin().map_err(store_error)?;
                let current = tx.get_account(&id).map_err(store_error)?.ok_or_else(|| {
                    ApiError::sender(400, "AccountNotFoundException", "no such account")
                })?;
                // An invitation is redeemed by the tenant, never made active by the operator.
                if current.status == AccountStatus::Invited {
                    return Err(ApiError::sender(
                        400,
                        "InvalidAccountStateException",
                        "the account is invited: it becomes active when the tenant redeems its invitation",
                    ));
                }
                tx.set_account_status(&id, status).map_err(store_error)?;
                effect.tx = Some(tx);
                ctx.touch(&id);
                effect.response = Some(json!({}));
                json!({})
            }
            Input::Access { id, access, justification, break_glass } => {
                request_access(ctx, id, access, justification, *break_glass, effect)?
            }
            Input::Credentials { id, session_arn } => {
                access_credentials(ctx, id, session_arn, effect)?
            }
        };
        if effect.response.is_none() {
            effect.response = Some(output.clone());
        }
        Ok(Reply::json(&output))
    }
}

/// `RequestAccess`: a session on the tenant's operator-access team, in the tenant's account (its
/// log gets the event, its approvers see the session). Refused when the account has no such team:
/// without approval the operator has no access. Break-glass access, only where the team carries
/// the tag [`BREAK_GLASS_TAG`] (set by the tenant in advance), is approved as it opens, listed as
/// break-glass, and its event in the tenant's log names every approver it notifies.
fn request_access<'s>(
    ctx: &Ctx<'s>,
    account: &str,
    access: &crate::records::mpa::Access,
    justification: &str,
    break_glass: bool,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    use crate::services::mpa::{
        open_session, team_for, voting_ms, SessionAsk, OPERATOR_ACCESS_POLICY,
    };
    let now = ctx.now();
    let mut tx = ctx.state.store.begin().map_err(store_error)?;
    let known = tx.get_account(account).map_err(store_error)?;
    if known.map(|a| a.status) != Some(AccountStatus::Active) {
        return Err(ApiError::sender(400, "AccountNotFoundException", "no such active account"));
    }
    let team = team_for(tx.as_mut(), account, OPERATOR_ACCESS_POLICY, now)?.ok_or_else(|| {
            ApiError::sender(
                404,
                "ResourceNotFoundException",
                format!("the account {account} has no approval team for operator access: the operator has no access to it"),
            )
        })?;
    ctx.touch(account);
    let (tag, enabled) = BREAK_GLASS_TAG;
    if break_glass && team.body.tags.get(tag).map(String::as_str) != Some(enabled) {
        return Err(ApiError::sender(
            403,
            "AccessDeniedException",
            format!("the account {account} does not allow break-glass access (its operator-access team has no tag {tag}={enabled}); ask for approval"),
        ));
    }
    if break_glass {
        // One emergency access at a time.
        let prefix = format!("{}/", team.key);
        let open =
            Stored::<crate::records::mpa::Session>::list(tx.as_mut(), account, &prefix, 100_000)?
                .into_iter()
                .any(|mut s| {
                    crate::services::mpa::settle(&mut s.body, now);
                    s.body.break_glass
                        && crate::services::mpa::access_ends_ms(&s.body)
                            .is_some_and(|end| now < end)
                });
        if open {
            return Err(ApiError::sender(
                409,
                "ConflictException",
                "a break-glass access to this account is open already",
            ));
        }
    }
    let ask = SessionAsk {
        action_name: if break_glass {
            "hermetic:BreakGlassAccess"
        } else {
            "hermetic:OperatorAccess"
        }
        .into(),
        protected_resource_arn: format!("arn:aws:iam::{account}:root"),
        comment: justification.to_string(),
        voting_ms: voting_ms(ctx),
        access: Some(access.clone()),
        break_glass,
        ..SessionAsk::default()
    };
    let arn = open_session(tx.as_mut(), &team, ctx.caller, ask, now)?;
    effect.tx = Some(tx);
    if break_glass {
        let notified: Vec<&str> =
            team.body.approvers.iter().map(|a| a.primary_identity_id.as_str()).collect();
        effect.response = Some(json!({
            "SessionArn": arn,
            "BreakGlass": true,
            "ApproversNotified": notified,
        }));
    }
    Ok(json!({ "SessionArn": arn }))
}

/// The name of the session principal an approved access acts as, in the tenant account.
const ACCESS_ROLE: &str = "HermeticOperatorAccess";

/// `GetAccessCredentials`: temporary credentials of a session principal in the tenant account
/// (`assumed-role/HermeticOperatorAccess/SESSION_ID`) whose identity and session policy are
/// the approved actions on the approved resources, expiring when the approved access does.
/// Refused unless the session is approved and its access has not ended. The event keeps the
/// key id and expiry, never the secret or the token.
fn access_credentials<'s>(
    ctx: &Ctx<'s>,
    account: &str,
    session_arn: &str,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    let now = ctx.now();
    let session = {
        let mut tx = ctx.state.store.read().map_err(store_error)?;
        crate::services::mpa::check_approved(tx.as_mut(), account, session_arn, now).map_err(
            |e| ApiError::sender(403, "AccessDenied", format!("no credentials: {}", e.message)),
        )?
    };
    let (Some(access), Some(end)) =
        (session.access.as_ref(), crate::services::mpa::access_ends_ms(&session))
    else {
        return Err(ApiError::sender(403, "AccessDenied", "the session approves no access"));
    };
    let id = session_arn.rsplit('/').next().unwrap_or_default().to_string();
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": access.actions, "Resource": access.resources }],
    });
    let body = json!({
        "Kind": "operator-access",
        "Arn": format!("arn:aws:sts::{account}:assumed-role/{ACCESS_ROLE}/{id}"),
        "UserId": format!("{}:{id}", ACCESS_ROLE.to_uppercase()),
        "SessionName": id,
        "ApprovalSession": session_arn,
        "SessionPolicies": [["approved-access", policy.to_string()]],
    });
    let secs = ((end - now) / 1000).max(1);
    let (tx, issued) =
        crate::services::sts::sessions::issue_session(ctx.state, account, body, secs, ctx.facts)?;
    effect.tx = Some(tx);
    ctx.touch(account);
    effect.response =
        Some(json!({ "AccessKeyId": issued.key_id, "Expiration": issued.expiration }));
    Ok(json!({
        "AccessKeyId": issued.key_id,
        "SecretAccessKey": issued.secret,
        "SessionToken": issued.token,
        "Expiration": issued.expiration,
    }))
}
