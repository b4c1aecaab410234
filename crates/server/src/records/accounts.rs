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
    /// `CODE_SHA256:EXPIRES_MS` sealed by the root of trust for this account (base64): an
    /// operator who writes another hash (of a code it chose) or moves an invitation between
    /// accounts cannot make a seal that opens, and the redeem is refused.
    pub seal: String,
}

impl Invitation {
    /// The context an invitation of `account` is sealed for.
    pub fn context(account: &str) -> Vec<u8> {
        format!("hermetic:invitation:{account}").into_bytes()
    }

    /// What the seal holds.
    pub fn sealed_text(code_sha256: &str, expires_ms: i64) -> String {
        format!("{code_sha256}:{expires_ms}")
    }
}

impl Body for Invitation {
    const KIND: &'static str = "invitation";
}
