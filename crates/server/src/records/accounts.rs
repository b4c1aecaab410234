//! Account-level records: a tenant's invitation (kind `invitation`, key `root`, in the invited
//! account).

use super::Body;
use serde::{Deserialize, Serialize};

/// The key of an account's invitation record.
pub(crate) const INVITATION_KEY: &str = "root";

/// An invitation the operator made and only the tenant can redeem: the code itself is never
/// stored, only its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Invitation {
    /// Lowercase hex SHA-256 of the code.
    pub code_sha256: String,
    /// When it stops being redeemable.
    pub expires_ms: i64,
    /// When it was redeemed (an invitation works once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redeemed_ms: Option<i64>,
}

impl Body for Invitation {
    const KIND: &'static str = "invitation";
}
