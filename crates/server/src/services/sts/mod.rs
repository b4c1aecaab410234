//! STS (query protocol, namespace `https://sts.amazonaws.com/doc/2011-06-15/`).

pub(crate) mod sessions;

use crate::error::ApiError;
use crate::pipeline::identity::Caller;
use crate::protocol::query::{param, response, xml_escape};

/// The STS XML namespace.
pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Handles one read-only STS action for an authenticated caller; returns the XML body.
/// `lookup_account` finds the account of an access key id (for `GetAccessKeyInfo`).
pub fn handle(
    caller: &Caller,
    params: &[(String, String)],
    request_id: &str,
    lookup_account: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ApiError> {
    match param(params, "Action") {
        Some("GetCallerIdentity") => Ok(response(
            "GetCallerIdentity",
            NAMESPACE,
            &format!(
                "<Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account>",
                xml_escape(&caller.arn),
                xml_escape(&caller.user_id),
                xml_escape(&caller.account)
            ),
            request_id,
        )),
        Some("GetAccessKeyInfo") => {
            // AWS answers with the account of any well-formed key id; ours are AKIA/ASIA + 16.
            let key = param(params, "AccessKeyId").unwrap_or_default();
            let well_formed = key.len() == 20
                && (key.starts_with("AKIA") || key.starts_with("ASIA"))
                && key.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if !well_formed {
                return Err(ApiError::sender(
                    400,
                    "ValidationError",
                    "AccessKeyId must be a 20-character access key id",
                ));
            }
            let account = lookup_account(key).unwrap_or_else(|| caller.account.clone());
            Ok(response(
                "GetAccessKeyInfo",
                NAMESPACE,
                &format!("<Account>{}</Account>", xml_escape(&account)),
                request_id,
            ))
        }
        Some(other) => Err(ApiError::sender(
            400,
            "InvalidAction",
            format!("The action {other} is not valid for this web service."),
        )),
        None => Err(ApiError::sender(
            400,
            "MissingAction",
            "The request must contain the parameter Action.",
        )),
    }
}
