//! STS (query protocol, namespace `https://sts.amazonaws.com/doc/2011-06-15/`).

pub(crate) mod sessions;

use crate::error::ApiError;
use crate::pipeline::identity::Caller;
use crate::pipeline::service::{
    operations, Authorization, Check, Ctx, Effect, Named, Request, Service, Unrouted,
};
use crate::pipeline::Reply;
use crate::protocol::query::{param, response, xml_escape};
use serde_json::{json, Value};

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

operations! {
    /// STS's operations.
    StsOperation {
        AssumeRole => "sts:AssumeRole", Write;
        DecodeAuthorizationMessage => "sts:DecodeAuthorizationMessage", Read;
        GetAccessKeyInfo => "sts:GetAccessKeyInfo", Read;
        GetCallerIdentity => "sts:GetCallerIdentity", Read;
        GetSessionToken => "sts:GetSessionToken", Write;
    }
}

/// STS (query protocol).
pub(crate) struct Sts;

/// An STS call: the operation, its parameters and, for `AssumeRole`, what authorizing it
/// found.
pub(crate) struct Call {
    operation: StsOperation,
    params: Vec<(String, String)>,
    prepared: Option<sessions::Prepared>,
}

impl Service for Sts {
    type Operation = StsOperation;
    type Call = Call;
    const EVENT_SOURCE: &'static str = "sts.amazonaws.com";
    const TENANT_ONLY: bool = false;

    fn route(req: &Request<'_>) -> Result<Call, Unrouted<StsOperation>> {
        let operation = match req.param("Action") {
            Some(name) => StsOperation::from_name(name).ok_or_else(|| {
                Unrouted::unknown(ApiError::sender(
                    400,
                    "InvalidAction",
                    format!("The action {name} is not valid for this web service."),
                ))
            })?,
            None => {
                return Err(Unrouted::unknown(ApiError::sender(
                    400,
                    "MissingAction",
                    "The request must contain the parameter Action.",
                )))
            }
        };
        Ok(Call { operation, params: req.params.clone(), prepared: None })
    }

    fn operation(call: &Call) -> StsOperation {
        call.operation
    }

    fn named(_: &Request<'_>, call: Option<&Call>) -> Vec<Named> {
        match call {
            Some(c) if c.operation == StsOperation::AssumeRole => param(&c.params, "RoleArn")
                .and_then(sessions::role_of)
                .map(|(account, _)| vec![Named::Account(account.to_string())])
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn parameters(_: &Request<'_>, call: &Call) -> Option<Value> {
        match call.operation {
            StsOperation::AssumeRole => Some(match &call.prepared {
                Some(p) => p.parameters.clone(),
                None => json!({
                    "roleArn": param(&call.params, "RoleArn"),
                    "roleSessionName": param(&call.params, "RoleSessionName"),
                }),
            }),
            StsOperation::GetSessionToken => None,
            _ => Some(json!({})),
        }
    }

    fn authorization(
        ctx: &Ctx<'_>,
        _: &Request<'_>,
        call: &mut Call,
    ) -> Result<Authorization, ApiError> {
        Ok(match call.operation {
            StsOperation::AssumeRole => {
                let (prepared, checks) = sessions::prepare_assume_role(ctx, &call.params)?;
                call.prepared = Some(prepared);
                Authorization::Checks(checks)
            }
            StsOperation::DecodeAuthorizationMessage => {
                Authorization::Checks(vec![Check::new("sts:DecodeAuthorizationMessage", "*")])
            }
            // As in AWS: who the caller is needs no permission, and neither do credentials
            // that carry exactly the caller's own permissions.
            StsOperation::GetCallerIdentity
            | StsOperation::GetAccessKeyInfo
            | StsOperation::GetSessionToken => Authorization::AnyCaller,
        })
    }

    fn execute<'s>(
        ctx: &Ctx<'s>,
        _: &Request<'_>,
        call: Call,
        effect: &mut Effect<'s>,
    ) -> Result<Reply, ApiError> {
        let id = &ctx.facts.request_id;
        let body = match call.operation {
            StsOperation::AssumeRole => match call.prepared {
                Some(prepared) => sessions::assume_role(ctx, prepared, effect)?,
                None => return Err(ApiError::internal("the role was not prepared")),
            },
            StsOperation::GetSessionToken => {
                sessions::get_session_token(ctx, &call.params, effect)?
            }
            StsOperation::DecodeAuthorizationMessage => {
                let encoded = crate::services::iam::required(&call.params, "EncodedMessage")?;
                let decoded = crate::pipeline::authorize::decode_message(
                    ctx.state,
                    &ctx.caller.account,
                    encoded,
                )?;
                response(
                    "DecodeAuthorizationMessage",
                    NAMESPACE,
                    &format!("<DecodedMessage>{}</DecodedMessage>", xml_escape(&decoded)),
                    id,
                )
            }
            StsOperation::GetCallerIdentity | StsOperation::GetAccessKeyInfo => {
                let lookup = |key: &str| -> Option<String> {
                    let mut tx = ctx.state.store.read().ok()?;
                    tx.get_access_key(key).ok().flatten().map(|k| k.account)
                };
                handle(ctx.caller, &call.params, id, &lookup)?
            }
        };
        Ok(Reply::xml(body))
    }
}
