//! STS (query protocol, namespace `https://sts.amazonaws.com/doc/2011-06-15/`).

use crate::error::ApiError;
use crate::identity::Caller;
use crate::query::{param, response, xml_escape};

/// The STS XML namespace.
pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Handles one STS action for an authenticated caller; returns the XML body.
pub fn handle(
    caller: &Caller,
    params: &[(String, String)],
    request_id: &str,
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
