//! AWS Multi-party Approval (`mpa`, rest-json): approval teams whose approvers are the
//! account's IAM users, in the account's built-in identity source (issue 18, decision 014).
//! Teams are records of their account (`mpa_team`: MAC'd and in the manifest), so no one who
//! can only write the database adds an approver or lowers a team's M.

pub(crate) mod protected;

use std::collections::BTreeMap;

use crate::error::ApiError;
use crate::pipeline::identity::Caller;
use crate::pipeline::service::{
    operations, Authorization, Check, Ctx, Effect, Named, Operation, Request, Service, Unrouted,
};
use crate::pipeline::Reply;
use crate::records::iam::User;
use crate::records::mpa::{
    Access, Approver, Deletion, Held, PendingUpdate, Session, SessionStatus, Team, TeamStatus,
    TeamUpdate, Vote, DAY_MS,
};
use crate::records::{PutError, Stored};
use crate::support::time::iso8601;
use serde::Deserialize;
use serde_json::{json, Value};

/// The region MPA's ARNs name (its resources are global to the account here).
const REGION: &str = "us-east-1";
/// The team policy for operator access requests to the account.
pub(crate) const OPERATOR_ACCESS_POLICY: &str =
    "arn:aws:mpa:::aws:policy/hermetic/OperatorAccess/$DEFAULT";
/// The team policy for the account's protected operations.
pub(crate) const PROTECTED_OPERATIONS_POLICY: &str =
    "arn:aws:mpa:::aws:policy/hermetic/ProtectedOperations/$DEFAULT";
/// The most tags a team carries.
const MAX_TAGS: usize = 50;
/// Days a deleted team stays in its pending window when the deletion names none.
const DEFAULT_DELETION_DAYS: u32 = 7;
/// The longest pending window of a team's deletion.
const MAX_DELETION_DAYS: i64 = 90;

/// How long a session's approvers have to answer (`serve --approval-voting-secs`).
pub(crate) fn voting_ms(ctx: &Ctx<'_>) -> i64 {
    i64::try_from(ctx.state.config.approval_voting.as_millis()).unwrap_or(i64::MAX)
}

/// The account's built-in identity source: its IAM users.
pub(crate) fn identity_source(account: &str) -> String {
    format!("arn:aws:mpa:{REGION}:{account}:identity-source/iam")
}

fn team_arn(account: &str, id: &str) -> String {
    format!("arn:aws:mpa:{REGION}:{account}:approval-team/{id}")
}

operations! {
    /// The Multi-party Approval operations served here.
    MpaOperation {
        CreateApprovalTeam => "mpa:CreateApprovalTeam", Write;
        GetApprovalTeam => "mpa:GetApprovalTeam", Read;
        ListApprovalTeams => "mpa:ListApprovalTeams", Read;
        ListIdentitySources => "mpa:ListIdentitySources", Read;
        GetIdentitySource => "mpa:GetIdentitySource", Read;
        ListPolicies => "mpa:ListPolicies", Read;
        ListPolicyVersions => "mpa:ListPolicyVersions", Read;
        GetPolicyVersion => "mpa:GetPolicyVersion", Read;
        TagResource => "mpa:TagResource", Write;
        UntagResource => "mpa:UntagResource", Write;
        ListTagsForResource => "mpa:ListTagsForResource", Read;
        GetSession => "mpa:GetSession", Read;
        ListSessions => "mpa:ListSessions", Read;
        CancelSession => "mpa:CancelSession", Write;
        VoteOnSession => "mpa:VoteOnSession", Write;
        UpdateApprovalTeam => "mpa:UpdateApprovalTeam", Write;
        StartActiveApprovalTeamDeletion => "mpa:StartActiveApprovalTeamDeletion", Write;
        DeleteInactiveApprovalTeamVersion => "mpa:DeleteInactiveApprovalTeamVersion", Write;
        StartApprovalTeamBaseline => "mpa:StartApprovalTeamBaseline", Write;
    }
}

impl MpaOperation {
    /// The operation a request's method, path segments (percent-decoded) and query name, with
    /// the path's labels.
    fn of(
        method: &str,
        segments: &[String],
        query: &[(String, String)],
    ) -> Option<(MpaOperation, Vec<(&'static str, String)>)> {
        use MpaOperation as O;
        let list = query.iter().any(|(k, _)| k == "List");
        let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
        let label = |name: &'static str, v: &str| vec![(name, v.to_string())];
        Some(match (method, segs.as_slice()) {
            ("POST", ["approval-teams"]) if !list => (O::CreateApprovalTeam, Vec::new()),
            ("POST", ["approval-teams", ""]) if list => (O::ListApprovalTeams, Vec::new()),
            ("GET", ["approval-teams", arn]) if !arn.is_empty() => {
                (O::GetApprovalTeam, label("Arn", arn))
            }
            ("PATCH", ["approval-teams", arn]) if !arn.is_empty() => {
                (O::UpdateApprovalTeam, label("Arn", arn))
            }
            ("POST", ["approval-teams", arn])
                if !arn.is_empty() && query.iter().any(|(k, _)| k == "Delete") =>
            {
                (O::StartActiveApprovalTeamDeletion, label("Arn", arn))
            }
            ("DELETE", ["approval-teams", arn, version]) if !arn.is_empty() => (
                O::DeleteInactiveApprovalTeamVersion,
                vec![("Arn", arn.to_string()), ("VersionId", version.to_string())],
            ),
            ("POST", ["approval-teams", arn, "baseline"]) if !arn.is_empty() => {
                (O::StartApprovalTeamBaseline, label("Arn", arn))
            }
            ("POST", ["identity-sources", ""]) if list => (O::ListIdentitySources, Vec::new()),
            ("GET", ["identity-sources", arn]) if !arn.is_empty() => {
                (O::GetIdentitySource, label("IdentitySourceArn", arn))
            }
            ("POST", ["policies", ""]) if list => (O::ListPolicies, Vec::new()),
            ("POST", ["policies", arn, ""]) if list && !arn.is_empty() => {
                (O::ListPolicyVersions, label("PolicyArn", arn))
            }
            ("GET", ["policy-versions", arn]) if !arn.is_empty() => {
                (O::GetPolicyVersion, label("PolicyVersionArn", arn))
            }
            ("GET", ["tags", arn]) => (O::ListTagsForResource, label("ResourceArn", arn)),
            ("PUT", ["tags", arn]) => (O::TagResource, label("ResourceArn", arn)),
            ("POST", ["tags", arn]) => (O::UntagResource, label("ResourceArn", arn)),
            ("GET", ["sessions", arn]) => (O::GetSession, label("SessionArn", arn)),
            ("PUT", ["sessions", arn]) => (O::CancelSession, label("SessionArn", arn)),
            ("POST", ["sessions", arn]) if query.iter().any(|(k, _)| k == "Vote") => {
                (O::VoteOnSession, label("SessionArn", arn))
            }
            ("POST", ["approval-teams", arn, "sessions", ""]) if list => {
                (O::ListSessions, label("ApprovalTeamArn", arn))
            }
            _ => return None,
        })
    }
}

/// A path's segments, each percent-decoded after the split (an ARN label arrives with its `/`
/// as `%2F`).
fn segments(path: &str) -> Vec<String> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| sigv4::encode::percent_decode(s).into_owned())
        .collect()
}

/// Multi-party Approval (rest-json, signing name `mpa`).
pub(crate) struct Mpa;

/// An MPA call: the operation, its typed input, and the id a new team gets.
pub(crate) struct Call {
    operation: MpaOperation,
    input: Input,
    new_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MofN {
    min_approvals_required: u32,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Strategy {
    #[serde(rename = "MofN")]
    mof_n: Option<MofN>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ApproverInput {
    primary_identity_id: String,
    primary_identity_source_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PolicyRef {
    policy_arn: String,
}

/// `CreateApprovalTeam`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateApprovalTeam {
    approval_strategy: Strategy,
    approvers: Vec<ApproverInput>,
    description: String,
    policies: Vec<PolicyRef>,
    name: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// An input naming one resource by ARN (under the member name the operation uses).
#[derive(Debug, Deserialize)]
pub(crate) struct ByArn {
    #[serde(
        alias = "Arn",
        alias = "IdentitySourceArn",
        alias = "ResourceArn",
        alias = "SessionArn",
        alias = "PolicyArn",
        alias = "PolicyVersionArn"
    )]
    arn: String,
}

/// A listing's paging.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Paging {
    max_results: Option<usize>,
    next_token: Option<String>,
}

/// `TagResource`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagResource {
    resource_arn: String,
    tags: BTreeMap<String, String>,
}

/// `UntagResource`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagResource {
    resource_arn: String,
    tag_keys: Vec<String>,
}

/// `UpdateApprovalTeam`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateApprovalTeam {
    arn: String,
    approval_strategy: Option<Strategy>,
    approvers: Option<Vec<ApproverInput>>,
    description: Option<String>,
}

/// `ListSessions`' input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSessions {
    approval_team_arn: String,
    max_results: Option<usize>,
    next_token: Option<String>,
    #[serde(default)]
    filters: Vec<Filter>,
}

/// One of `ListSessions`' filters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Filter {
    field_name: String,
    operator: String,
    value: String,
}

/// `StartActiveApprovalTeamDeletion`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StartDeletion {
    arn: String,
    pending_window_days: Option<i64>,
}

/// `DeleteInactiveApprovalTeamVersion`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeleteVersion {
    arn: String,
    version_id: String,
}

/// `StartApprovalTeamBaseline`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StartBaseline {
    arn: String,
    #[serde(default)]
    approver_ids: Vec<String>,
}

/// An approver's answer to a session (`VoteOnSession`, Hermetic's own operation: AWS has its
/// approvers answer in a portal).
#[derive(Debug)]
pub(crate) struct VoteOnSession {
    session_arn: String,
    approve: bool,
}

/// One operation's input.
#[derive(Debug)]
pub(crate) enum Input {
    Create(CreateApprovalTeam),
    Update(UpdateApprovalTeam),
    Sessions(ListSessions),
    Vote(VoteOnSession),
    Arn(ByArn),
    List(Paging),
    Tag(TagResource),
    Untag(UntagResource),
    StartDeletion(StartDeletion),
    DeleteVersion(DeleteVersion),
    Baseline(StartBaseline),
}

impl Input {
    fn parse(
        operation: MpaOperation,
        req: &Request<'_>,
        labels: &[(&'static str, String)],
    ) -> Result<Input, ApiError> {
        use crate::protocol::input::{parse, Rules, Source};
        use crate::protocol::model::Api;
        use MpaOperation as O;
        let body = req.json()?;
        let source = Source::RestJson(&body, &req.query_params, labels);
        let name = operation.name();
        let s = Api::Mpa;
        Ok(match operation {
            O::CreateApprovalTeam => Input::Create(parse(s, name, source, Rules::All)?),
            O::UpdateApprovalTeam => Input::Update(parse(s, name, source, Rules::All)?),
            O::GetApprovalTeam
            | O::GetIdentitySource
            | O::ListTagsForResource
            | O::GetSession
            | O::CancelSession
            | O::ListPolicyVersions
            | O::GetPolicyVersion => Input::Arn(parse(s, name, source, Rules::All)?),
            O::ListSessions => Input::Sessions(parse(s, name, source, Rules::All)?),
            O::VoteOnSession => {
                let approve = match body.get("Response").and_then(Value::as_str) {
                    Some("APPROVE") => true,
                    Some("REJECT") => false,
                    _ => return Err(validation("Response must be APPROVE or REJECT")),
                };
                let session_arn = labels.first().map(|(_, v)| v.clone()).unwrap_or_default();
                Input::Vote(VoteOnSession { session_arn, approve })
            }
            O::ListApprovalTeams | O::ListIdentitySources | O::ListPolicies => {
                Input::List(parse(s, name, source, Rules::All)?)
            }
            O::TagResource => Input::Tag(parse(s, name, source, Rules::All)?),
            O::StartActiveApprovalTeamDeletion => {
                Input::StartDeletion(parse(s, name, source, Rules::All)?)
            }
            O::DeleteInactiveApprovalTeamVersion => {
                Input::DeleteVersion(parse(s, name, source, Rules::All)?)
            }
            O::StartApprovalTeamBaseline => Input::Baseline(parse(s, name, source, Rules::All)?),
            O::UntagResource => Input::Untag(parse(s, name, source, Rules::All)?),
        })
    }
}

fn not_found(what: &str) -> ApiError {
    ApiError::sender(404, "ResourceNotFoundException", format!("{what} does not exist"))
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::sender(400, "ValidationException", message)
}

/// The id of `account`'s team that `arn` names; another account's, or not a team's ARN, is
/// not found (teams are not shared across accounts).
fn team_id<'a>(account: &str, arn: &'a str) -> Result<&'a str, ApiError> {
    arn.strip_prefix(&format!("arn:aws:mpa:{REGION}:{account}:approval-team/"))
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or_else(|| not_found("the approval team"))
}

impl Service for Mpa {
    type Operation = MpaOperation;
    type Call = Call;
    const EVENT_SOURCE: &'static str = "mpa.amazonaws.com";
    /// The operator has no approval teams of its own, and no say in a tenant's.
    const TENANT_ONLY: bool = true;

    fn route(req: &Request<'_>) -> Result<Call, Unrouted<MpaOperation>> {
        let (operation, labels) =
            MpaOperation::of(req.method, &segments(req.path), &req.query_params).ok_or_else(
                || {
                    Unrouted::unknown(ApiError::sender(
                        404,
                        "UnknownOperationException",
                        format!("`{} {}` is not an operation served here", req.method, req.path),
                    ))
                },
            )?;
        let input =
            Input::parse(operation, req, &labels).map_err(|e| Unrouted::input(operation, e))?;
        Ok(Call { operation, input, new_id: String::new() })
    }

    fn operation(call: &Call) -> MpaOperation {
        call.operation
    }

    fn named(_: &Request<'_>, _: Option<&Call>) -> Vec<Named> {
        Vec::new()
    }

    fn parameters(_: &Request<'_>, call: &Call) -> Option<Value> {
        Some(match &call.input {
            Input::Create(c) => json!({
                "name": c.name,
                "approvers": c.approvers.iter().map(|a| &a.primary_identity_id).collect::<Vec<_>>(),
                "minApprovalsRequired": c.approval_strategy.mof_n.as_ref().map(|m| m.min_approvals_required),
                "policies": c.policies.iter().map(|p| &p.policy_arn).collect::<Vec<_>>(),
            }),
            Input::Arn(a) => json!({ "arn": a.arn }),
            Input::Update(u) => json!({
                "arn": u.arn,
                "approvers": u.approvers.as_ref().map(|a| a.iter().map(|a| &a.primary_identity_id).collect::<Vec<_>>()),
                "minApprovalsRequired": u.approval_strategy.as_ref().and_then(|s| s.mof_n.as_ref()).map(|m| m.min_approvals_required),
            }),
            Input::List(_) => json!({}),
            Input::Tag(t) => {
                json!({ "resourceArn": t.resource_arn, "tagKeys": t.tags.keys().collect::<Vec<_>>() })
            }
            Input::Untag(u) => json!({ "resourceArn": u.resource_arn, "tagKeys": u.tag_keys }),
            Input::Sessions(l) => json!({ "approvalTeamArn": l.approval_team_arn }),
            Input::Vote(v) => json!({
                "sessionArn": v.session_arn,
                "response": if v.approve { "APPROVE" } else { "REJECT" },
            }),
            Input::StartDeletion(d) => {
                json!({ "arn": d.arn, "pendingWindowDays": d.pending_window_days })
            }
            Input::DeleteVersion(d) => json!({ "arn": d.arn, "versionId": d.version_id }),
            Input::Baseline(b) => json!({ "arn": b.arn, "approverIds": b.approver_ids }),
        })
    }

    fn authorization(
        ctx: &Ctx<'_>,
        _: &Request<'_>,
        call: &mut Call,
    ) -> Result<Authorization, ApiError> {
        let account = &ctx.caller.account;
        let action = call.operation.action();
        let mut check = match &call.input {
            Input::Create(c) => {
                call.new_id =
                    crate::support::ids::random_text(b"abcdefghijklmnopqrstuvwxyz0123456789", 20);
                let mut check = Check::new(action, team_arn(account, &call.new_id));
                request_tags(&mut check, &c.tags);
                check
            }
            Input::Arn(a) => Check::new(action, a.arn.clone()),
            Input::Update(u) => Check::new(action, u.arn.clone()),
            Input::List(_) => Check::new(action, "*"),
            Input::Tag(t) => {
                let mut check = Check::new(action, t.resource_arn.clone());
                request_tags(&mut check, &t.tags);
                check
            }
            Input::Untag(u) => {
                let mut check = Check::new(action, u.resource_arn.clone());
                check.multi.push(("aws:TagKeys".into(), u.tag_keys.clone()));
                check
            }
            Input::Sessions(l) => Check::new(action, l.approval_team_arn.clone()),
            Input::Vote(v) => Check::new(action, v.session_arn.clone()),
            Input::StartDeletion(d) => Check::new(action, d.arn.clone()),
            Input::DeleteVersion(d) => Check::new(action, d.arn.clone()),
            Input::Baseline(b) => Check::new(action, b.arn.clone()),
        };
        check.owner = Some(account.clone());
        Ok(Authorization::Checks(vec![check]))
    }

    /// MPA names its refusal `AccessDeniedException` (403).
    fn refusal(e: ApiError) -> ApiError {
        e.denied_as_exception(403)
    }

    fn execute<'s>(
        ctx: &Ctx<'s>,
        _: &Request<'_>,
        call: Call,
        effect: &mut Effect<'s>,
    ) -> Result<Reply, ApiError> {
        let account = ctx.caller.account.clone();
        let out = match (call.operation, &call.input) {
            (MpaOperation::CreateApprovalTeam, Input::Create(c)) => {
                create(ctx, &account, &call.new_id, c, effect)?
            }
            (MpaOperation::UpdateApprovalTeam, Input::Update(u)) => {
                update(ctx, &account, u, effect)?
            }
            (MpaOperation::GetApprovalTeam, Input::Arn(a)) => {
                let id = team_id(&account, &a.arn)?;
                let now = ctx.now();
                let team = ctx.read(|tx| {
                    let Some(mut team) = Stored::<Team>::get(tx, &account, id)? else {
                        return Ok(None);
                    };
                    forget_undecided(tx, &account, &mut team.body, now)?;
                    Ok(Some(team))
                })?;
                let team = team.ok_or_else(|| not_found("the approval team"))?;
                describe(&team.body, true, now)
            }
            (MpaOperation::ListApprovalTeams, Input::List(p)) => {
                let limit = p.max_results.unwrap_or(20).clamp(1, 20);
                let page = ctx.read(|tx| {
                    Stored::<Team>::page(tx, &account, "", p.next_token.as_deref(), limit)
                })?;
                let teams: Vec<Value> =
                    page.items.iter().map(|t| describe(&t.body, false, ctx.now())).collect();
                let mut out = serde_json::Map::new();
                out.insert("ApprovalTeams".into(), Value::Array(teams));
                if let (true, Some(last)) = (page.truncated, page.items.last()) {
                    out.insert("NextToken".into(), json!(last.key));
                }
                Value::Object(out)
            }
            (MpaOperation::ListIdentitySources, Input::List(_)) => {
                json!({ "IdentitySources": [identity_source_view(&account)] })
            }
            (MpaOperation::GetIdentitySource, Input::Arn(a)) => {
                if a.arn != identity_source(&account) {
                    return Err(not_found("the identity source"));
                }
                identity_source_view(&account)
            }
            (MpaOperation::ListPolicies, Input::List(_)) => {
                let policies: Vec<Value> = [OPERATOR_ACCESS_POLICY, PROTECTED_OPERATIONS_POLICY]
                    .iter()
                    .map(|arn| {
                        let unqualified = arn.trim_end_matches("/$DEFAULT");
                        json!({
                            "Arn": unqualified,
                            "DefaultVersion": 1,
                            "PolicyType": "AWS_MANAGED",
                            "Name": unqualified.rsplit('/').next().unwrap_or_default(),
                        })
                    })
                    .collect();
                json!({ "Policies": policies })
            }
            (MpaOperation::ListPolicyVersions, Input::Arn(a)) => {
                let version = policy_version(&a.arn, false)?;
                json!({ "PolicyVersions": [version] })
            }
            (MpaOperation::GetPolicyVersion, Input::Arn(a)) => {
                json!({ "PolicyVersion": policy_version(&a.arn, true)? })
            }
            (MpaOperation::ListTagsForResource, Input::Arn(a)) => {
                let id = team_id(&account, &a.arn)?;
                let team = ctx
                    .read(|tx| Stored::<Team>::get(tx, &account, id))?
                    .ok_or_else(|| not_found("the approval team"))?;
                json!({ "Tags": team.body.tags })
            }
            (MpaOperation::TagResource, Input::Tag(t)) => {
                retag(ctx, &account, &t.resource_arn, effect, |tags| {
                    tags.extend(t.tags.clone());
                })?
            }
            (MpaOperation::UntagResource, Input::Untag(u)) => {
                retag(ctx, &account, &u.resource_arn, effect, |tags| {
                    for k in &u.tag_keys {
                        tags.remove(k);
                    }
                })?
            }
            (MpaOperation::GetSession, Input::Arn(a)) => {
                let key = session_key(&account, &a.arn)?;
                let mut session = ctx
                    .read(|tx| Stored::<Session>::get(tx, &account, &key))?
                    .ok_or_else(|| not_found("the session"))?;
                settle(&mut session.body, ctx.now());
                session_view(&session.body, true)
            }
            (MpaOperation::ListSessions, Input::Sessions(l)) => {
                let id = team_id(&account, &l.approval_team_arn)?;
                let filters =
                    l.filters.iter().map(SessionFilter::of).collect::<Result<Vec<_>, _>>()?;
                let limit = l.max_results.unwrap_or(20).clamp(1, 20);
                let prefix = format!("{id}/");
                let page = ctx.read(|tx| {
                    Stored::<Session>::page(tx, &account, &prefix, l.next_token.as_deref(), limit)
                })?;
                let now = ctx.now();
                let next = page.items.last().map(|s| s.key.clone()).filter(|_| page.truncated);
                let sessions: Vec<Value> = page
                    .items
                    .into_iter()
                    .filter_map(|mut s| {
                        settle(&mut s.body, now);
                        filters
                            .iter()
                            .all(|f| f.admits(&s.body))
                            .then(|| session_view(&s.body, false))
                    })
                    .collect();
                let mut out = serde_json::Map::new();
                out.insert("Sessions".into(), Value::Array(sessions));
                if let Some(next) = next {
                    out.insert("NextToken".into(), json!(next));
                }
                Value::Object(out)
            }
            (MpaOperation::CancelSession, Input::Arn(a)) => {
                change_session(ctx, &account, &a.arn, effect, |session, now| {
                    // An approved session is cancelled only while it grants access (an
                    // operator's); what else it approved is done.
                    let cancellable = match session.status {
                        SessionStatus::Pending => true,
                        SessionStatus::Approved => session.access.is_some(),
                        _ => false,
                    };
                    if !cancellable {
                        return Err(conflict(session));
                    }
                    session.status = SessionStatus::Cancelled;
                    session.completed_ms = Some(now);
                    Ok(())
                })?;
                json!({})
            }
            (MpaOperation::VoteOnSession, Input::Vote(v)) => {
                let (caller, caller_id) = (ctx.caller.arn.clone(), ctx.caller.user_id.clone());
                let key_ms = match ctx.caller.session.as_ref() {
                    Some(session) => session.origin_key_ms,
                    None => ctx.facts.access_key_created_ms,
                };
                // A deleted team's sessions take no answer.
                let key = session_key(&account, &v.session_arn)?;
                let team_id = key.split('/').next().unwrap_or_default();
                let team = ctx.read(|tx| Stored::<Team>::get(tx, &account, team_id))?;
                if team.is_none_or(|t| t.body.status(ctx.now()) == TeamStatus::Inactive) {
                    return Err(ApiError::sender(
                        409,
                        "ConflictException",
                        "the session's approval team is deleted",
                    ));
                }
                let session = change_session(
                    ctx,
                    &account,
                    &v.session_arn,
                    effect,
                    |session, now| {
                        if session.status != SessionStatus::Pending {
                            return Err(conflict(session));
                        }
                        // Two persons: whoever asked (or began the chain of roles that asked)
                        // does not answer, even as an approver.
                        if session.requester_principal_arn == caller
                            || session.requester_origin.as_deref() == Some(caller.as_str())
                        {
                            return Err(ApiError::sender(
                                403,
                                "AccessDeniedException",
                                "the requester of a session cannot answer it",
                            ));
                        }
                        // Credentials made after the session began (a key an administrator
                        // made for an approver meanwhile) do not answer it.
                        if key_ms.is_none_or(|made| made >= session.initiated_ms) {
                            return Err(ApiError::sender(
                                403,
                                "AccessDeniedException",
                                "these credentials were made after the session began: answer it with credentials older than the session",
                            ));
                        }
                        let approver = session
                            .approvers
                            .iter()
                            .find(|a| a.primary_identity_id == caller && a.user_id == caller_id)
                            .map(|a| a.approver_id.clone())
                            .ok_or_else(|| {
                                ApiError::sender(
                                    403,
                                    "AccessDeniedException",
                                    format!("{caller} is not an approver of this session"),
                                )
                            })?;
                        if session.votes.contains_key(&approver) {
                            return Err(ApiError::sender(
                            409,
                            "ConflictException",
                            "this approver has answered the session already; an answer counts once",
                        ));
                        }
                        let response = if v.approve { "APPROVE" } else { "REJECT" };
                        session
                            .votes
                            .insert(approver, Vote { response: response.into(), time_ms: now });
                        settle(session, now);
                        Ok(())
                    },
                )?;
                // An approved protected operation runs once this vote has committed.
                if session.status == SessionStatus::Approved && session.protected.is_some() {
                    effect.approved.push((account.clone(), session.arn.clone()));
                }
                json!({ "SessionArn": session.arn, "Status": session.status.as_str() })
            }
            (MpaOperation::StartActiveApprovalTeamDeletion, Input::StartDeletion(d)) => {
                start_deletion(ctx, &account, d, effect)?
            }
            (MpaOperation::DeleteInactiveApprovalTeamVersion, Input::DeleteVersion(d)) => {
                delete_version(ctx, &account, d, effect)?
            }
            (MpaOperation::StartApprovalTeamBaseline, Input::Baseline(b)) => {
                baseline(ctx, &account, b, effect)?
            }
            _ => return Err(ApiError::internal("the call's input does not fit its operation")),
        };
        Ok(Reply::json(&out))
    }
}

/// `aws:RequestTag/K` and `aws:TagKeys` of a request that sets `tags`.
fn request_tags(check: &mut Check, tags: &BTreeMap<String, String>) {
    for (k, v) in tags {
        check.context.push((format!("aws:RequestTag/{k}"), v.clone()));
    }
    check.multi.push(("aws:TagKeys".into(), tags.keys().cloned().collect()));
}

/// The one version of the team policy `arn` names (unqualified, or qualified with `1` or
/// `$DEFAULT`): what it has its team approve, as an IAM-style document of the actions. `full`
/// adds the document (`GetPolicyVersion`).
fn policy_version(arn: &str, full: bool) -> Result<Value, ApiError> {
    let unqualified = arn.trim_end_matches("/$DEFAULT").trim_end_matches("/1");
    let (name, actions): (&str, Vec<String>) = if format!("{unqualified}/$DEFAULT")
        == OPERATOR_ACCESS_POLICY
    {
        (
            "OperatorAccess",
            vec!["hermetic:OperatorAccess".into(), "hermetic:BreakGlassAccess".into()],
        )
    } else if format!("{unqualified}/$DEFAULT") == PROTECTED_OPERATIONS_POLICY {
        let mut actions: Vec<String> = protected::PROTECTED
            .iter()
            .map(|(source, op)| format!("{}:{op}", source.trim_end_matches(".amazonaws.com")))
            .collect();
        actions.extend(
            ["UpdateApprovalTeam", "StartActiveApprovalTeamDeletion"].map(|op| format!("mpa:{op}")),
        );
        ("ProtectedOperations", actions)
    } else {
        return Err(not_found("the policy"));
    };
    // The policies are Hermetic's, fixed since issue 18.
    let since = iso8601(1_796_083_200_000);
    let mut out = json!({
        "Arn": format!("{unqualified}/1"),
        "PolicyArn": unqualified,
        "VersionId": 1,
        "PolicyType": "AWS_MANAGED",
        "IsDefault": true,
        "Name": name,
        "Status": "ATTACHABLE",
        "CreationTime": since,
        "LastUpdatedTime": since,
    });
    if full {
        let document = json!({
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }],
        });
        if let Some(fields) = out.as_object_mut() {
            fields.insert("Document".into(), json!(document.to_string()));
        }
    }
    Ok(out)
}

fn identity_source_view(account: &str) -> Value {
    json!({
        "IdentitySourceArn": identity_source(account),
        "IdentitySourceType": "IAM",
        "Status": "ACTIVE",
    })
}

/// Drops from `team` (as shown, not stored) the changes whose sessions ended without
/// approval and so were never concluded (expired unanswered).
fn forget_undecided(
    tx: &mut dyn store::ReadTx,
    account: &str,
    team: &mut Team,
    now: i64,
) -> Result<(), ApiError> {
    let mut ended = |arn: &str| -> Result<bool, ApiError> {
        Ok(settled(tx, account, arn, now)?.is_none_or(|s| {
            s.status != SessionStatus::Pending && s.status != SessionStatus::Approved
        }))
    };
    if let Some(p) = &team.pending_update {
        if ended(&p.session_arn)? {
            team.pending_update = None;
        }
    }
    if let Some(d) = team.deletion.as_ref().filter(|d| d.approved_ms.is_none()) {
        if ended(&d.session_arn)? {
            team.deletion = None;
        }
    }
    Ok(())
}

/// A team as `GetApprovalTeam` (`full`) or `ListApprovalTeams` shows it at `now`.
fn describe(team: &Team, full: bool, now: i64) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("CreationTime".into(), json!(iso8601(team.created_ms)));
    out.insert(
        "ApprovalStrategy".into(),
        json!({ "MofN": { "MinApprovalsRequired": team.min_approvals } }),
    );
    out.insert("NumberOfApprovers".into(), json!(team.approvers.len()));
    out.insert("Arn".into(), json!(team.arn));
    out.insert("Name".into(), json!(team.name));
    out.insert("Description".into(), json!(team.description));
    let status = match team.status(now) {
        TeamStatus::Active => "ACTIVE",
        TeamStatus::Deleting => "DELETING",
        TeamStatus::Inactive => "INACTIVE",
    };
    out.insert("Status".into(), json!(status));
    if let Some(d) = team.deletion.as_ref().filter(|d| d.approved_ms.is_none()) {
        out.insert("StatusCode".into(), json!("DELETE_PENDING_APPROVAL"));
        out.insert(
            "StatusMessage".into(),
            json!(format!("the deletion waits for approval in {}", d.session_arn)),
        );
    }
    if full {
        out.insert("VersionId".into(), json!(team.version_id));
        out.insert("LastUpdateTime".into(), json!(iso8601(team.updated_ms)));
        let policies: Vec<Value> =
            team.policies.iter().map(|p| json!({ "PolicyArn": p })).collect();
        out.insert("Policies".into(), Value::Array(policies));
        let approvers: Vec<Value> = team
            .approvers
            .iter()
            .map(|a| {
                json!({
                    "ApproverId": a.approver_id,
                    "ResponseTime": iso8601(a.added_ms),
                    "PrimaryIdentityId": a.primary_identity_id,
                    "PrimaryIdentitySourceArn": a.primary_identity_source_arn,
                    "PrimaryIdentityStatus": "ACCEPTED",
                })
            })
            .collect();
        out.insert("Approvers".into(), Value::Array(approvers));
        if let Some(p) = &team.pending_update {
            out.insert("StatusCode".into(), json!("UPDATE_PENDING_APPROVAL"));
            out.insert("UpdateSessionArn".into(), json!(p.session_arn));
            let approvers: Vec<Value> = p
                .update
                .approvers
                .iter()
                .map(|a| {
                    json!({
                        "ApproverId": a.approver_id,
                        "PrimaryIdentityId": a.primary_identity_id,
                        "PrimaryIdentitySourceArn": a.primary_identity_source_arn,
                    })
                })
                .collect();
            out.insert(
                "PendingUpdate".into(),
                json!({
                    "VersionId": p.update.version_id,
                    "Description": p.update.description,
                    "ApprovalStrategy": { "MofN": { "MinApprovalsRequired": p.update.min_approvals } },
                    "NumberOfApprovers": p.update.approvers.len(),
                    "Status": "PENDING",
                    "StatusCode": "UPDATE_PENDING_APPROVAL",
                    "Approvers": approvers,
                    "UpdateInitiationTime": iso8601(p.initiated_ms),
                }),
            );
        }
    }
    Value::Object(out)
}

/// The record key (`TEAM_ID/SESSION_ID`) of `account`'s session `arn` names.
fn session_key(account: &str, arn: &str) -> Result<String, ApiError> {
    arn.strip_prefix(&format!("arn:aws:mpa:{REGION}:{account}:session/"))
        .filter(|k| {
            let mut parts = k.split('/');
            matches!((parts.next(), parts.next(), parts.next()), (Some(t), Some(s), None) if !t.is_empty() && !s.is_empty())
        })
        .map(str::to_string)
        .ok_or_else(|| not_found("the session"))
}

/// When the access an approved session grants ends: its approval plus the duration asked for.
pub(crate) fn access_ends_ms(session: &Session) -> Option<i64> {
    match (session.status, session.completed_ms, &session.access) {
        (SessionStatus::Approved, Some(at), Some(access)) => {
            Some(at.saturating_add(access.duration_secs.saturating_mul(1000)))
        }
        _ => None,
    }
}

/// The approved session `arn` of `account`, read in `tx`: refused unless it is approved and
/// its access has not ended (the check every request with its credentials passes).
pub(crate) fn check_approved(
    tx: &mut dyn store::ReadTx,
    account: &str,
    arn: &str,
    now_ms: i64,
) -> Result<Session, ApiError> {
    let ended = |why: String| {
        ApiError::sender(
            403,
            "ExpiredToken",
            format!("the approval behind these credentials {why}"),
        )
    };
    let session =
        settled(tx, account, arn, now_ms)?.ok_or_else(|| ended("does not exist".into()))?;
    match access_ends_ms(&session) {
        Some(end) if now_ms < end => Ok(session),
        Some(_) => Err(ended("has ended (its approved duration is over)".into())),
        None => Err(ended(format!("is {}", session.status.as_str()))),
    }
}

/// `account`'s session `arn` names, read in `tx` and settled at `now`; `None` when there is no
/// such session of the account.
fn settled(
    tx: &mut dyn store::ReadTx,
    account: &str,
    arn: &str,
    now: i64,
) -> Result<Option<Session>, ApiError> {
    let Ok(key) = session_key(account, arn) else { return Ok(None) };
    Ok(Stored::<Session>::get(tx, account, &key)?.map(|mut s| {
        settle(&mut s.body, now);
        s.body
    }))
}

/// A session's ARN.
pub(crate) fn session_arn(account: &str, team_id: &str, id: &str) -> String {
    format!("arn:aws:mpa:{REGION}:{account}:session/{team_id}/{id}")
}

/// Decides a pending session from its votes and the time: `APPROVED` at M approvals, `FAILED`
/// (`REJECTED`) once M can no longer be reached, `FAILED` (`EXPIRED`) after its deadline. Only
/// the approvers the session started with count.
pub(crate) fn settle(session: &mut Session, now: i64) {
    if session.status != SessionStatus::Pending {
        return;
    }
    let count = |answer: &str| {
        session
            .approvers
            .iter()
            .filter(|a| session.votes.get(&a.approver_id).is_some_and(|v| v.response == answer))
            .count()
    };
    let (approvals, rejections) = (count("APPROVE"), count("REJECT"));
    let m = usize::try_from(session.min_approvals).unwrap_or(usize::MAX);
    let n = session.approvers.len();
    let outcome = if approvals >= m {
        Some((SessionStatus::Approved, None))
    } else if rejections > n.saturating_sub(m) {
        Some((SessionStatus::Failed, Some("REJECTED")))
    } else if now >= session.expires_ms {
        Some((SessionStatus::Failed, Some("EXPIRED")))
    } else {
        None
    };
    if let Some((status, code)) = outcome {
        session.status = status;
        session.status_code = code.map(str::to_string);
        session.completed_ms = Some(now.min(session.expires_ms));
    }
}

fn conflict(session: &Session) -> ApiError {
    ApiError::sender(
        409,
        "ConflictException",
        format!("the session is {}", session.status.as_str()),
    )
}

/// A session as `GetSession` (`full`) or `ListSessions` shows it.
fn session_view(s: &Session, full: bool) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("SessionArn".into(), json!(s.arn));
    out.insert("ApprovalTeamArn".into(), json!(s.team_arn));
    out.insert("ApprovalTeamName".into(), json!(s.team_name));
    out.insert("ProtectedResourceArn".into(), json!(s.protected_resource_arn));
    out.insert("InitiationTime".into(), json!(iso8601(s.initiated_ms)));
    out.insert("ExpirationTime".into(), json!(iso8601(s.expires_ms)));
    if let Some(ms) = s.completed_ms {
        out.insert("CompletionTime".into(), json!(iso8601(ms)));
    }
    out.insert("ActionName".into(), json!(s.action_name));
    out.insert("RequesterPrincipalArn".into(), json!(s.requester_principal_arn));
    out.insert("RequesterAccountId".into(), json!(s.requester_account_id));
    out.insert("RequesterRegion".into(), json!(REGION));
    out.insert("RequesterComment".into(), json!(s.requester_comment));
    out.insert("Status".into(), json!(s.status.as_str()));
    if let Some(code) = &s.status_code {
        out.insert("StatusCode".into(), json!(code));
    }
    out.insert("ActionCompletionStrategy".into(), json!("AUTO_COMPLETION_UPON_APPROVAL"));
    if s.break_glass {
        out.insert(
            "Description".into(),
            json!("BREAK-GLASS: emergency operator access opened without approval, as the account allows"),
        );
        out.insert("StatusCode".into(), json!("BREAK_GLASS"));
    }
    let execution = s.protected.as_ref().map(|h| h.execution.as_ref());
    if let Some(Some(e)) = execution {
        if let Some(m) = &e.message {
            out.insert("StatusMessage".into(), json!(m));
        }
    }
    if full {
        match (execution, s.status) {
            (Some(Some(e)), _) => {
                let status = if e.status == "RUNNING" { "PENDING" } else { e.status.as_str() };
                out.insert("ExecutionStatus".into(), json!(status));
            }
            (Some(None), SessionStatus::Pending | SessionStatus::Approved) => {
                out.insert("ExecutionStatus".into(), json!("PENDING"));
            }
            _ => {}
        }
        out.insert(
            "ApprovalStrategy".into(),
            json!({ "MofN": { "MinApprovalsRequired": s.min_approvals } }),
        );
        out.insert("NumberOfApprovers".into(), json!(s.approvers.len()));
        let responses: Vec<Value> = s
            .approvers
            .iter()
            .map(|a| {
                let vote = s.votes.get(&a.approver_id);
                let mut r = serde_json::Map::new();
                r.insert("ApproverId".into(), json!(a.approver_id));
                r.insert("IdentitySourceArn".into(), json!(a.primary_identity_source_arn));
                r.insert("IdentityId".into(), json!(a.primary_identity_id));
                r.insert(
                    "Response".into(),
                    json!(vote.map_or("NO_RESPONSE", |v| v.response.as_str())),
                );
                if let Some(v) = vote {
                    r.insert("ResponseTime".into(), json!(iso8601(v.time_ms)));
                }
                Value::Object(r)
            })
            .collect();
        out.insert("ApproverResponses".into(), Value::Array(responses));
        if let Some(access) = &s.access {
            out.insert(
                "Metadata".into(),
                json!({
                    "Actions": access.actions.join(","),
                    "Resources": access.resources.join(","),
                    "DurationSeconds": access.duration_secs.to_string(),
                }),
            );
        }
    }
    Value::Object(out)
}

/// A change to the session `arn` names, read under the writers' lock and settled first.
fn change_session<'s>(
    ctx: &Ctx<'s>,
    account: &str,
    arn: &str,
    effect: &mut Effect<'s>,
    change: impl FnOnce(&mut Session, i64) -> Result<(), ApiError>,
) -> Result<Session, ApiError> {
    let key = session_key(account, arn)?;
    let now = ctx.now();
    let mut tx = ctx.state.store.begin()?;
    let mut session = Stored::<Session>::get_for_update(tx.as_mut(), account, &key)?
        .ok_or_else(|| not_found("the session"))?;
    settle(&mut session.body, now);
    change(&mut session.body, now)?;
    session.updated_at_ms = now;
    session.put(tx.as_mut(), store::PutMode::Update)?;
    let changes_team =
        session.body.team_update.is_some() || session.body.team_deletion_days.is_some();
    if changes_team && session.body.status != SessionStatus::Pending {
        let team_id = key.split('/').next().unwrap_or_default();
        conclude_team_change(tx.as_mut(), account, team_id, &session.body, now)?;
    }
    effect.tx = Some(tx);
    Ok(session.body)
}

/// A decided session that changes its team, in its transaction. An update approved, the team
/// becomes what it says (a new version); a deletion approved, the team's pending window
/// starts. Otherwise the change is dropped.
fn conclude_team_change(
    tx: &mut dyn store::Tx,
    account: &str,
    team_id: &str,
    session: &Session,
    now: i64,
) -> Result<(), ApiError> {
    let Some(mut team) = Stored::<Team>::get_for_update(tx, account, team_id)? else {
        return Ok(());
    };
    let approved = session.status == SessionStatus::Approved;
    let at = session.completed_ms.unwrap_or(now);
    if team.body.pending_update.as_ref().is_some_and(|p| p.session_arn == session.arn) {
        let pending = team.body.pending_update.take();
        if let (true, Some(pending)) = (approved, pending) {
            let u = pending.update;
            team.body.description = u.description;
            team.body.min_approvals = u.min_approvals;
            team.body.approvers = u.approvers;
            team.body.version_id = u.version_id;
            team.body.updated_ms = now;
        }
    } else if team
        .body
        .deletion
        .as_ref()
        .is_some_and(|d| d.session_arn == session.arn && d.approved_ms.is_none())
    {
        match (approved, team.body.deletion.as_mut()) {
            (true, Some(deletion)) => deletion.approved_ms = Some(at),
            _ => team.body.deletion = None,
        }
    } else {
        return Ok(());
    }
    team.updated_at_ms = now;
    team.put(tx, store::PutMode::Update)?;
    Ok(())
}

/// What a new session asks its team to approve.
#[derive(Default)]
pub(crate) struct SessionAsk {
    /// The session's id ([`new_session_id`]).
    pub id: String,
    /// `ActionName` (`mpa:UpdateApprovalTeam`, `hermetic:OperatorAccess`, `kms:DisableKey`).
    pub action_name: String,
    pub protected_resource_arn: String,
    /// The requester's comment (an access request's justification).
    pub comment: String,
    /// How long votes are taken.
    pub voting_ms: i64,
    pub access: Option<Access>,
    pub team_update: Option<TeamUpdate>,
    pub protected: Option<Held>,
    pub team_deletion_days: Option<u32>,
    /// Who answers, when not the whole team (a baseline): every one of them must approve.
    pub approvers: Option<Vec<Approver>>,
    /// Open without votes: an operator's emergency access the tenant allowed in advance.
    pub break_glass: bool,
}

/// A new session's id.
pub(crate) fn new_session_id() -> String {
    crate::support::ids::random_text(b"abcdefghijklmnopqrstuvwxyz0123456789", 20)
}

/// Every team of `account`, read in `tx`, page by page.
fn all_teams(tx: &mut dyn store::ReadTx, account: &str) -> Result<Vec<Stored<Team>>, ApiError> {
    let mut out: Vec<Stored<Team>> = Vec::new();
    loop {
        let after = out.last().map(|t| t.key.clone());
        let page = Stored::<Team>::page(tx, account, "", after.as_deref(), 1000)?;
        let more = page.truncated && !page.items.is_empty();
        out.extend(page.items);
        if !more {
            return Ok(out);
        }
    }
}

/// The team of `account` that approves for `policy` and is not deleted, read in `tx`.
pub(crate) fn team_for(
    tx: &mut dyn store::ReadTx,
    account: &str,
    policy: &str,
    now: i64,
) -> Result<Option<Stored<Team>>, ApiError> {
    Ok(all_teams(tx, account)?.into_iter().find(|t| {
        t.body.status(now) != TeamStatus::Inactive && t.body.policies.iter().any(|p| p == policy)
    }))
}

/// The person behind `caller`: the principal that began its chain of sessions (a user or the
/// root user), or the caller itself.
pub(crate) fn origin_of(caller: &Caller) -> String {
    caller.session.as_ref().and_then(|s| s.origin.clone()).unwrap_or_else(|| caller.arn.clone())
}

/// Opens a session on `team` in `tx`, asked by `requester`, with the approvers and M the team
/// has now; returns the session's ARN.
pub(crate) fn open_session(
    tx: &mut dyn store::Tx,
    team: &Stored<Team>,
    requester: &Caller,
    ask: SessionAsk,
    now: i64,
) -> Result<String, ApiError> {
    let id = if ask.id.is_empty() { new_session_id() } else { ask.id };
    let arn = session_arn(&team.account, &team.key, &id);
    let (approvers, min_approvals) = match ask.approvers {
        Some(some) => {
            let m = u32::try_from(some.len()).unwrap_or(u32::MAX);
            (some, m)
        }
        None => (team.body.approvers.clone(), team.body.min_approvals),
    };
    let (status, completed_ms) = if ask.break_glass {
        (SessionStatus::Approved, Some(now))
    } else {
        (SessionStatus::Pending, None)
    };
    let session = Session {
        arn: arn.clone(),
        team_arn: team.body.arn.clone(),
        team_name: team.body.name.clone(),
        action_name: ask.action_name,
        protected_resource_arn: ask.protected_resource_arn,
        requester_principal_arn: requester.arn.clone(),
        requester_account_id: requester.account.clone(),
        requester_origin: Some(origin_of(requester)),
        requester_comment: ask.comment,
        approvers,
        min_approvals,
        votes: BTreeMap::new(),
        status,
        status_code: None,
        initiated_ms: now,
        expires_ms: now.saturating_add(ask.voting_ms),
        completed_ms,
        access: ask.access,
        team_update: ask.team_update,
        protected: ask.protected,
        team_deletion_days: ask.team_deletion_days,
        break_glass: ask.break_glass,
    };
    Stored::new(&team.account, &format!("{}/{id}", team.key), session, now)
        .put(tx, store::PutMode::Create)?;
    Ok(arn)
}

/// `UpdateApprovalTeam`: the change waits for the team's own approval, as a session on the
/// team with the approvers and M it has now; one update at a time.
fn update<'s>(
    ctx: &Ctx<'s>,
    account: &str,
    u: &UpdateApprovalTeam,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    let id = team_id(account, &u.arn)?;
    let now = ctx.now();
    let mut tx = ctx.state.store.begin()?;
    let mut team = Stored::<Team>::get_for_update(tx.as_mut(), account, id)?
        .ok_or_else(|| not_found("the approval team"))?;
    unchanging(tx.as_mut(), account, &team.body, now)?;
    let approvers = match &u.approvers {
        Some(inputs) => approvers_of(tx.as_mut(), account, inputs, &team.body.approvers, now)?,
        None => team.body.approvers.clone(),
    };
    let min = match &u.approval_strategy {
        Some(strategy) => strategy_min(strategy, approvers.len())?,
        None if usize::try_from(team.body.min_approvals).unwrap_or(usize::MAX)
            > approvers.len() =>
        {
            return Err(validation("MinApprovalsRequired exceeds the number of approvers"))
        }
        None => team.body.min_approvals,
    };
    let version_id =
        (team.body.version_id.parse::<u64>().unwrap_or(0).saturating_add(1)).to_string();
    let update = TeamUpdate {
        description: u.description.clone().unwrap_or_else(|| team.body.description.clone()),
        min_approvals: min,
        approvers,
        version_id: version_id.clone(),
    };
    let ask = SessionAsk {
        action_name: "mpa:UpdateApprovalTeam".into(),
        protected_resource_arn: team.body.arn.clone(),
        voting_ms: voting_ms(ctx),
        team_update: Some(update.clone()),
        ..SessionAsk::default()
    };
    let arn = open_session(tx.as_mut(), &team, ctx.caller, ask, now)?;
    team.body.pending_update = Some(PendingUpdate { session_arn: arn, update, initiated_ms: now });
    team.updated_at_ms = now;
    team.put(tx.as_mut(), store::PutMode::Update)?;
    effect.tx = Some(tx);
    Ok(json!({ "VersionId": version_id }))
}

/// Refuses a change to `team` while another waits for its approval or it is being deleted:
/// one change at a time, each decided by the team as it is.
fn unchanging(
    tx: &mut dyn store::ReadTx,
    account: &str,
    team: &Team,
    now: i64,
) -> Result<(), ApiError> {
    let busy = |what: &str| ApiError::sender(409, "ConflictException", what.to_string());
    if team.status(now) == TeamStatus::Inactive {
        return Err(not_found("the approval team"));
    }
    if team.deletion.as_ref().is_some_and(|d| d.approved_ms.is_some()) {
        return Err(busy("the approval team is being deleted"));
    }
    let waiting = [
        team.pending_update.as_ref().map(|p| p.session_arn.as_str()),
        team.deletion.as_ref().map(|d| d.session_arn.as_str()),
    ];
    for arn in waiting.into_iter().flatten() {
        let pending =
            settled(tx, account, arn, now)?.is_some_and(|s| s.status == SessionStatus::Pending);
        if pending {
            return Err(busy(&format!("a change of the team waits for approval in {arn}")));
        }
    }
    Ok(())
}

/// `StartActiveApprovalTeamDeletion`: the deletion waits for the team's own approval; once
/// approved, the team goes on approving for its pending window, then is inactive.
fn start_deletion<'s>(
    ctx: &Ctx<'s>,
    account: &str,
    d: &StartDeletion,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    let id = team_id(account, &d.arn)?;
    let days = match d.pending_window_days {
        None => DEFAULT_DELETION_DAYS,
        Some(n) if (0..=MAX_DELETION_DAYS).contains(&n) => u32::try_from(n).unwrap_or(0),
        Some(_) => {
            return Err(validation(format!(
                "PendingWindowDays must be between 0 and {MAX_DELETION_DAYS}"
            )))
        }
    };
    let now = ctx.now();
    let mut tx = ctx.state.store.begin()?;
    let mut team = Stored::<Team>::get_for_update(tx.as_mut(), account, id)?
        .ok_or_else(|| not_found("the approval team"))?;
    unchanging(tx.as_mut(), account, &team.body, now)?;
    let ask = SessionAsk {
        action_name: "mpa:StartActiveApprovalTeamDeletion".into(),
        protected_resource_arn: team.body.arn.clone(),
        voting_ms: voting_ms(ctx),
        team_deletion_days: Some(days),
        ..SessionAsk::default()
    };
    let arn = open_session(tx.as_mut(), &team, ctx.caller, ask, now)?;
    team.body.deletion =
        Some(Deletion { session_arn: arn, initiated_ms: now, days, approved_ms: None });
    team.updated_at_ms = now;
    team.put(tx.as_mut(), store::PutMode::Update)?;
    effect.tx = Some(tx);
    Ok(json!({
        "DeletionStartTime": iso8601(now),
        "DeletionCompletionTime": iso8601(now.saturating_add(i64::from(days) * DAY_MS)),
    }))
}

/// `DeleteInactiveApprovalTeamVersion`: removes a team whose approved deletion has taken
/// effect, named with its version.
fn delete_version<'s>(
    ctx: &Ctx<'s>,
    account: &str,
    d: &DeleteVersion,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    let id = team_id(account, &d.arn)?;
    let now = ctx.now();
    let mut tx = ctx.state.store.begin()?;
    let team = Stored::<Team>::get_for_update(tx.as_mut(), account, id)?
        .filter(|t| t.body.version_id == d.version_id)
        .ok_or_else(|| not_found("the approval team version"))?;
    if team.body.status(now) != TeamStatus::Inactive {
        return Err(ApiError::sender(
            409,
            "ConflictException",
            "the approval team version is not inactive: delete the team first (StartActiveApprovalTeamDeletion)",
        ));
    }
    Stored::<Team>::delete(tx.as_mut(), account, id)?;
    effect.tx = Some(tx);
    Ok(json!({}))
}

/// `StartApprovalTeamBaseline`: a session every named approver (all, when none are named)
/// answers, to show they can still respond.
fn baseline<'s>(
    ctx: &Ctx<'s>,
    account: &str,
    b: &StartBaseline,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    let id = team_id(account, &b.arn)?;
    let now = ctx.now();
    let mut tx = ctx.state.store.begin()?;
    let team = Stored::<Team>::get_for_update(tx.as_mut(), account, id)?
        .filter(|t| t.body.status(now) != TeamStatus::Inactive)
        .ok_or_else(|| not_found("the approval team"))?;
    let approvers: Vec<Approver> = if b.approver_ids.is_empty() {
        team.body.approvers.clone()
    } else {
        b.approver_ids
            .iter()
            .map(|id| {
                team.body
                    .approvers
                    .iter()
                    .find(|a| a.approver_id == *id)
                    .cloned()
                    .ok_or_else(|| validation(format!("{id} is not an approver of the team")))
            })
            .collect::<Result<_, _>>()?
    };
    let ask = SessionAsk {
        action_name: "mpa:StartApprovalTeamBaseline".into(),
        protected_resource_arn: team.body.arn.clone(),
        voting_ms: voting_ms(ctx),
        approvers: Some(approvers),
        ..SessionAsk::default()
    };
    let arn = open_session(tx.as_mut(), &team, ctx.caller, ask, now)?;
    effect.tx = Some(tx);
    Ok(json!({ "BaselineSessionArn": arn }))
}

/// One `ListSessions` filter, checked.
struct SessionFilter<'f> {
    field: &'f str,
    operator: &'f str,
    value: &'f str,
    /// For `InitiationTime`: the bounds, ms.
    times: (i64, i64),
}

impl<'f> SessionFilter<'f> {
    fn of(f: &'f Filter) -> Result<SessionFilter<'f>, ApiError> {
        let (field, operator, value) =
            (f.field_name.as_str(), f.operator.as_str(), f.value.as_str());
        let supported = match field {
            "ActionName" | "ApprovalTeamName" => {
                matches!(operator, "EQ" | "NE" | "CONTAINS" | "NOT_CONTAINS")
            }
            "SessionStatus" => matches!(operator, "EQ" | "NE"),
            "InitiationTime" => matches!(operator, "GT" | "LT" | "GTE" | "LTE" | "BETWEEN"),
            _ => false,
        };
        if !supported {
            return Err(validation(format!(
                "the filter {field} {operator} is not supported (ActionName and ApprovalTeamName: EQ, NE, CONTAINS, NOT_CONTAINS; SessionStatus: EQ, NE; InitiationTime: GT, LT, GTE, LTE, BETWEEN)"
            )));
        }
        let mut times = (0, 0);
        if field == "InitiationTime" {
            let time = |t: &str| -> Result<i64, ApiError> {
                let t = t.trim();
                audit::event::EventTime::parse(t)
                    .map(|e| i64::try_from(e.unix_seconds()).unwrap_or(i64::MAX) * 1000)
                    .ok()
                    .or_else(|| t.parse::<f64>().ok().map(|secs| (secs * 1000.0) as i64))
                    .ok_or_else(|| validation(format!("{t} is not a time")))
            };
            times = if operator == "BETWEEN" {
                // ASCII lowercasing keeps every byte where it was.
                let at = value
                    .to_ascii_lowercase()
                    .find(" and ")
                    .ok_or_else(|| validation("BETWEEN takes `a AND b`"))?;
                (
                    time(value.get(..at).unwrap_or_default())?,
                    time(value.get(at + 5..).unwrap_or_default())?,
                )
            } else {
                let t = time(value)?;
                (t, t)
            };
        }
        Ok(SessionFilter { field, operator, value, times })
    }

    fn admits(&self, s: &Session) -> bool {
        let text = match self.field {
            "ActionName" => s.action_name.as_str(),
            "ApprovalTeamName" => s.team_name.as_str(),
            "SessionStatus" => s.status.as_str(),
            _ => {
                let t = s.initiated_ms;
                return match self.operator {
                    "GT" => t > self.times.0,
                    "LT" => t < self.times.0,
                    "GTE" => t >= self.times.0,
                    "LTE" => t <= self.times.0,
                    _ => t >= self.times.0 && t <= self.times.1,
                };
            }
        };
        match self.operator {
            "EQ" => text == self.value,
            "NE" => text != self.value,
            "CONTAINS" => text.contains(self.value),
            _ => !text.contains(self.value),
        }
    }
}

/// M of an M-of-N strategy over `n` approvers: given, and at most `n`.
fn strategy_min(strategy: &Strategy, n: usize) -> Result<u32, ApiError> {
    let min = strategy
        .mof_n
        .as_ref()
        .map(|m| m.min_approvals_required)
        .ok_or_else(|| validation("ApprovalStrategy must give MofN"))?;
    if usize::try_from(min).unwrap_or(usize::MAX) > n {
        return Err(validation(format!(
            "MinApprovalsRequired ({min}) exceeds the number of approvers ({n})"
        )));
    }
    Ok(min)
}

/// The approvers `inputs` name: each an existing IAM user of `account` in its identity source,
/// named once. One already in `current` keeps its id and the time it joined.
fn approvers_of(
    tx: &mut dyn store::Tx,
    account: &str,
    inputs: &[ApproverInput],
    current: &[Approver],
    now: i64,
) -> Result<Vec<Approver>, ApiError> {
    let source = identity_source(account);
    let mut approvers: Vec<Approver> = Vec::new();
    for a in inputs {
        if a.primary_identity_source_arn != source {
            return Err(validation(format!(
                "an approver's PrimaryIdentitySourceArn must be the account's identity source {source}"
            )));
        }
        let user = a
            .primary_identity_id
            .strip_prefix(&format!("arn:aws:iam::{account}:user/"))
            .and_then(|p| p.rsplit('/').next())
            .ok_or_else(|| {
                validation("an approver's PrimaryIdentityId must be an IAM user ARN of the account")
            })?;
        let found = Stored::<User>::get(tx, account, user)?
            .filter(|u| u.body.arn == a.primary_identity_id)
            .ok_or_else(|| {
                validation(format!(
                    "the approver {} is not an IAM user of the account",
                    a.primary_identity_id
                ))
            })?;
        if approvers.iter().any(|x| x.primary_identity_id == a.primary_identity_id) {
            return Err(validation(format!(
                "the approver {} is named twice",
                a.primary_identity_id
            )));
        }
        approvers.push(
            current
                .iter()
                .find(|x| {
                    x.primary_identity_id == a.primary_identity_id
                        && x.user_id == found.body.user_id
                })
                .cloned()
                .unwrap_or_else(|| Approver {
                    approver_id: crate::support::ids::uuid(),
                    primary_identity_id: a.primary_identity_id.clone(),
                    user_id: found.body.user_id.clone(),
                    primary_identity_source_arn: source.clone(),
                    added_ms: now,
                }),
        );
    }
    Ok(approvers)
}

/// `CreateApprovalTeam`: the policies ours, each held by no other team of the account; every
/// approver an existing IAM user of the account, once; M at most N.
fn create<'s>(
    ctx: &Ctx<'s>,
    account: &str,
    id: &str,
    c: &CreateApprovalTeam,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    let min = strategy_min(&c.approval_strategy, c.approvers.len())?;
    if c.tags.len() > MAX_TAGS {
        return Err(validation(format!("a team has at most {MAX_TAGS} tags")));
    }
    let mut policies: Vec<String> = c.policies.iter().map(|p| p.policy_arn.clone()).collect();
    policies.sort();
    policies.dedup();
    for p in &policies {
        if p != OPERATOR_ACCESS_POLICY && p != PROTECTED_OPERATIONS_POLICY {
            return Err(validation(format!(
                "the policy {p} is not one of {OPERATOR_ACCESS_POLICY} or {PROTECTED_OPERATIONS_POLICY}"
            )));
        }
    }
    let now = ctx.now();
    let mut tx = ctx.state.store.begin()?;
    let approvers = approvers_of(tx.as_mut(), account, &c.approvers, &[], now)?;
    // One team per policy in an account: the teams are read under the lock writers take. A
    // deleted team's policies are free.
    for team in all_teams(tx.as_mut(), account)? {
        if team.body.status(now) == TeamStatus::Inactive {
            continue;
        }
        if let Some(p) = team.body.policies.iter().find(|p| policies.contains(p)) {
            return Err(ApiError::sender(
                409,
                "ConflictException",
                format!("the approval team {} already approves for {p}", team.body.arn),
            ));
        }
    }
    let arn = team_arn(account, id);
    let team = Team {
        name: c.name.clone(),
        arn: arn.clone(),
        description: c.description.clone(),
        policies,
        approvers,
        min_approvals: min,
        version_id: "1".into(),
        created_ms: now,
        updated_ms: now,
        tags: c.tags.clone(),
        pending_update: None,
        deletion: None,
    };
    Stored::new(account, id, team.clone(), now).put(tx.as_mut(), store::PutMode::Create).map_err(
        |e| match e {
            PutError::Store(store::StoreError::AlreadyExists) => {
                ApiError::sender(409, "ConflictException", "the approval team exists")
            }
            other => other.into(),
        },
    )?;
    effect.tx = Some(tx);
    Ok(json!({
        "CreationTime": iso8601(now),
        "Arn": arn,
        "Name": team.name,
        "VersionId": team.version_id,
    }))
}

/// Tag changes to the team `arn` names.
fn retag<'s>(
    ctx: &Ctx<'s>,
    account: &str,
    arn: &str,
    effect: &mut Effect<'s>,
    change: impl FnOnce(&mut BTreeMap<String, String>),
) -> Result<Value, ApiError> {
    let id = team_id(account, arn)?;
    let mut tx = ctx.state.store.begin()?;
    let mut team = Stored::<Team>::get_for_update(tx.as_mut(), account, id)?
        .ok_or_else(|| not_found("the approval team"))?;
    change(&mut team.body.tags);
    if team.body.tags.len() > MAX_TAGS {
        return Err(validation(format!("a team has at most {MAX_TAGS} tags")));
    }
    team.updated_at_ms = ctx.now();
    team.put(tx.as_mut(), store::PutMode::Update)?;
    effect.tx = Some(tx);
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn route(method: &str, path: &str, query: &[&str]) -> Option<(MpaOperation, Vec<String>)> {
        let query: Vec<(String, String)> =
            query.iter().map(|k| ((*k).to_string(), String::new())).collect();
        MpaOperation::of(method, &segments(path), &query)
            .map(|(op, labels)| (op, labels.into_iter().map(|(_, v)| v).collect()))
    }

    #[test]
    fn paths_route_as_botocore_writes_them() {
        let arn = "arn:aws:mpa:us-east-1:111122223333:approval-team/abc";
        let encoded = "arn%3Aaws%3Ampa%3Aus-east-1%3A111122223333%3Aapproval-team%2Fabc";
        assert_eq!(
            route("POST", "/approval-teams", &[]),
            Some((MpaOperation::CreateApprovalTeam, vec![]))
        );
        assert_eq!(
            route("POST", "/approval-teams/", &["List"]),
            Some((MpaOperation::ListApprovalTeams, vec![]))
        );
        assert_eq!(
            route("GET", &format!("/approval-teams/{encoded}"), &[]),
            Some((MpaOperation::GetApprovalTeam, vec![arn.to_string()]))
        );
        assert_eq!(
            route("PUT", &format!("/tags/{encoded}"), &[]),
            Some((MpaOperation::TagResource, vec![arn.to_string()]))
        );
        assert_eq!(route("GET", "/approval-teams/a/b", &[]), None);
        assert_eq!(route("POST", "/approval-teams/", &[]), None);
        assert_eq!(route("DELETE", "/approval-teams", &[]), None);
    }

    #[test]
    fn every_operation_has_its_input_in_the_model() {
        let model = crate::protocol::model::Api::Mpa.model().unwrap();
        // VoteOnSession is Hermetic's own (AWS's approvers answer in a portal): no model.
        for op in MpaOperation::ALL.iter().filter(|op| **op != MpaOperation::VoteOnSession) {
            let entry = model.operations.get(op.name()).unwrap_or_else(|| panic!("{op:?}"));
            assert!(entry.input.is_some(), "{op:?}");
        }
    }

    fn session(n: usize, m: u32) -> Session {
        let approvers = (0..n)
            .map(|i| Approver {
                approver_id: format!("a{i}"),
                primary_identity_id: format!("arn:aws:iam::111122223333:user/u{i}"),
                user_id: format!("AIDA{i}"),
                primary_identity_source_arn: identity_source("111122223333"),
                added_ms: 0,
            })
            .collect();
        Session {
            arn: String::new(),
            team_arn: String::new(),
            team_name: String::new(),
            action_name: String::new(),
            protected_resource_arn: String::new(),
            requester_principal_arn: String::new(),
            requester_account_id: String::new(),
            requester_comment: String::new(),
            approvers,
            min_approvals: m,
            votes: BTreeMap::new(),
            status: SessionStatus::Pending,
            status_code: None,
            initiated_ms: 0,
            expires_ms: 1000,
            completed_ms: None,
            access: None,
            team_update: None,
            requester_origin: None,
            protected: None,
            team_deletion_days: None,
            break_glass: false,
        }
    }

    fn vote(s: &mut Session, who: &str, answer: &str) {
        s.votes.insert(who.into(), Vote { response: answer.into(), time_ms: 1 });
        settle(s, 1);
    }

    #[test]
    fn a_session_is_decided_by_m_of_its_own_approvers() {
        // 2 of 3: one approval is not enough, the second approves.
        let mut s = session(3, 2);
        vote(&mut s, "a0", "APPROVE");
        assert_eq!(s.status, SessionStatus::Pending);
        // Someone not among the session's approvers does not count.
        vote(&mut s, "intruder", "APPROVE");
        assert_eq!(s.status, SessionStatus::Pending);
        vote(&mut s, "a1", "APPROVE");
        assert_eq!((s.status, s.completed_ms), (SessionStatus::Approved, Some(1)));
        // Decided sessions stay as they are.
        vote(&mut s, "a2", "REJECT");
        assert_eq!(s.status, SessionStatus::Approved);
        // 2 of 3: two rejections leave M out of reach.
        let mut s = session(3, 2);
        vote(&mut s, "a0", "REJECT");
        assert_eq!(s.status, SessionStatus::Pending);
        vote(&mut s, "a1", "REJECT");
        assert_eq!((s.status, s.status_code.as_deref()), (SessionStatus::Failed, Some("REJECTED")));
        // 3 of 3: any rejection fails it.
        let mut s = session(3, 3);
        vote(&mut s, "a2", "REJECT");
        assert_eq!(s.status, SessionStatus::Failed);
        // Unanswered by its deadline: expired.
        let mut s = session(2, 1);
        settle(&mut s, 999);
        assert_eq!(s.status, SessionStatus::Pending);
        settle(&mut s, 1000);
        assert_eq!((s.status, s.status_code.as_deref()), (SessionStatus::Failed, Some("EXPIRED")));
    }

    #[test]
    fn a_team_arn_names_a_team_of_the_account() {
        let account = "111122223333";
        assert_eq!(team_id(account, &team_arn(account, "abc")).unwrap(), "abc");
        assert!(team_id(account, &team_arn("444455556666", "abc")).is_err());
        assert!(team_id(account, &format!("{}/x", team_arn(account, "abc"))).is_err());
        assert!(team_id(account, &team_arn(account, "")).is_err());
    }
}
