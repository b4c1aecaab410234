//! Multi-party approval's records: approval teams (issue 18, decision 014).

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
}

impl Body for Team {
    const KIND: &'static str = "mpa_team";
}
