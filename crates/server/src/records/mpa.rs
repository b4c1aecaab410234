//! Multi-party approval's records: approval teams and their sessions (issue 18, decision 014).

use super::Body;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One approver of a team: an IAM user of the team's account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Approver {
    /// The approver's id within the team.
    pub approver_id: String,
    /// The IAM user's ARN.
    pub primary_identity_id: String,
    /// The IAM user's unique id when it joined: a user deleted and made again under the same
    /// name is another user, and no approver.
    #[serde(default)]
    pub user_id: String,
    /// The identity source it comes from (the account's built-in one).
    pub primary_identity_source_arn: String,
    /// When the approver joined the team.
    pub added_ms: i64,
}

/// An approval team (kind `mpa_team`, keyed by its id, in its account).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Team {
    pub name: String,
    pub arn: String,
    pub description: String,
    /// The policy ARNs the team approves for (one team per policy in an account).
    pub policies: Vec<String>,
    pub approvers: Vec<Approver>,
    /// M of the M-of-N strategy.
    pub min_approvals: u32,
    pub version_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// A change waiting for the team's approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_update: Option<PendingUpdate>,
    /// The team's deletion: waiting for the team's approval, or approved and under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion: Option<Deletion>,
}

/// A team's deletion (`StartActiveApprovalTeamDeletion`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Deletion {
    /// The session on the team that decides it.
    pub session_arn: String,
    pub initiated_ms: i64,
    /// Days from the approval until the team is gone (`PendingWindowDays`).
    pub days: u32,
    /// When the team approved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_ms: Option<i64>,
}

/// Where a team stands (MPA's `ApprovalTeamStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TeamStatus {
    Active,
    /// Its deletion is approved and its pending window runs: it still approves.
    Deleting,
    /// Deleted: it approves nothing, and its policies are free for another team.
    Inactive,
}

/// A day, in milliseconds.
pub(crate) const DAY_MS: i64 = 86_400_000;

impl Team {
    /// The team's status at `now`.
    pub fn status(&self, now: i64) -> TeamStatus {
        match self.deletion.as_ref().and_then(|d| d.approved_ms.map(|at| (at, d.days))) {
            Some((at, days)) if now >= at.saturating_add(i64::from(days) * DAY_MS) => {
                TeamStatus::Inactive
            }
            Some(_) => TeamStatus::Deleting,
            None => TeamStatus::Active,
        }
    }
}

/// A team as an approved update leaves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TeamUpdate {
    pub description: String,
    pub min_approvals: u32,
    pub approvers: Vec<Approver>,
    pub version_id: String,
}

/// An update of a team and the session on the team that decides it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PendingUpdate {
    pub session_arn: String,
    pub update: TeamUpdate,
    pub initiated_ms: i64,
}

impl Body for Team {
    const KIND: &'static str = "mpa_team";
}

/// Where a session stands (MPA's `SessionStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum SessionStatus {
    Pending,
    Approved,
    Failed,
    Cancelled,
}

impl SessionStatus {
    /// MPA's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "PENDING",
            SessionStatus::Approved => "APPROVED",
            SessionStatus::Failed => "FAILED",
            SessionStatus::Cancelled => "CANCELLED",
        }
    }
}

/// One approver's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Vote {
    /// `APPROVE` or `REJECT`.
    pub response: String,
    pub time_ms: i64,
}

/// What an operator access request asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Access {
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    pub duration_secs: i64,
}

/// An approval session (kind `mpa_session`, keyed by `TEAM_ID/SESSION_ID`, in the account of
/// the team it runs on). It keeps the team's approvers and M as they were when it started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Session {
    pub arn: String,
    pub team_arn: String,
    pub team_name: String,
    /// What is asked (`hermetic:OperatorAccess`).
    pub action_name: String,
    pub protected_resource_arn: String,
    pub requester_principal_arn: String,
    pub requester_account_id: String,
    pub requester_comment: String,
    /// The person behind the requester (the user that began its chain of role sessions): it
    /// does not answer the session either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_origin: Option<String>,
    pub approvers: Vec<Approver>,
    pub min_approvals: u32,
    /// Each approver's answer, by approver id.
    #[serde(default)]
    pub votes: BTreeMap<String, Vote>,
    pub status: SessionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    pub initiated_ms: i64,
    /// Votes are taken until then.
    pub expires_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_ms: Option<i64>,
    /// An operator access request's scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Access>,
    /// A team update's result, applied when the session is approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_update: Option<TeamUpdate>,
    /// A protected operation held for approval, run when the session is approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected: Option<Held>,
    /// A deletion of the team, done when the session is approved: the days before the team
    /// is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_deletion_days: Option<u32>,
    /// An operator's emergency access, open without approval because the tenant allowed it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub break_glass: bool,
}

/// A protected operation's request, kept until its session is decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Held {
    /// The request and its caller, sealed under the account's key for this session (they
    /// carry the tenant's data: a bucket policy, a key policy).
    pub sealed: String,
    /// What became of it once the session was approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<Execution>,
}

/// A held operation's run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Execution {
    /// `RUNNING` (claimed by one runner), then `EXECUTED` or `FAILED` (MPA's
    /// `SessionExecutionStatus`; `RUNNING` shows as `PENDING`).
    pub status: String,
    /// The runner's claim while `RUNNING`: `SERVER_INSTANCE:TOKEN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// The error it ended with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub time_ms: i64,
}

impl Body for Session {
    const KIND: &'static str = "mpa_session";
}
