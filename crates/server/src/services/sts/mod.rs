//! STS (query protocol, namespace `https://sts.amazonaws.com/doc/2011-06-15/`).

pub(crate) mod sessions;

use crate::error::ApiError;
use crate::pipeline::identity::Caller;
use crate::pipeline::service::{
    operations, Authorization, Check, Ctx, Effect, Named, Operation, Request, Service, Unrouted,
};
use crate::pipeline::Reply;
use crate::protocol::input::{parse, Rules, Source};
use crate::protocol::model::Api;
use crate::protocol::query::response;
use crate::protocol::xml;
use serde::Deserialize;
use serde_json::{json, Value};

/// The STS XML namespace.
pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Answers `GetCallerIdentity` or `GetAccessKeyInfo` (of `key`) for an authenticated caller;
/// returns the XML body. `lookup_account` finds the account of an access key id.
fn identity(
    caller: &Caller,
    key: Option<&str>,
    request_id: &str,
    lookup_account: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ApiError> {
    match key {
        None => Ok(response(
            "GetCallerIdentity",
            NAMESPACE,
            &xml::build(|w| {
                w.text("Arn", &caller.arn)
                    .text("UserId", &caller.user_id)
                    .text("Account", &caller.account);
            }),
            request_id,
        )),
        Some(key) => {
            // AWS answers with the account of any well-formed key id; ours are AKIA/ASIA + 16.
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
                &xml::build(|w| {
                    w.text("Account", &account);
                }),
                request_id,
            ))
        }
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

/// An STS call: the operation, its typed input and, for `AssumeRole`, what authorizing it
/// found.
pub(crate) struct Call {
    operation: StsOperation,
    input: Input,
    prepared: Option<sessions::Prepared>,
}

/// One STS operation's input.
#[derive(Debug)]
pub(crate) enum Input {
    AssumeRole(AssumeRole),
    DecodeAuthorizationMessage(DecodeAuthorizationMessage),
    GetAccessKeyInfo(GetAccessKeyInfo),
    GetCallerIdentity,
    GetSessionToken(GetSessionToken),
}

/// `AssumeRole`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AssumeRole {
    pub role_arn: String,
    pub role_session_name: String,
    #[serde(default)]
    pub policy_arns: Vec<PolicyDescriptor>,
    pub policy: Option<String>,
    pub duration_seconds: Option<i64>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub transitive_tag_keys: Vec<String>,
    pub external_id: Option<String>,
    pub serial_number: Option<String>,
    pub token_code: Option<String>,
    pub source_identity: Option<String>,
}

/// A managed session policy.
#[derive(Debug, Deserialize)]
pub(crate) struct PolicyDescriptor {
    pub arn: Option<String>,
}

/// A session tag.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub key: String,
    pub value: String,
}

/// `DecodeAuthorizationMessage`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DecodeAuthorizationMessage {
    pub encoded_message: String,
}

/// `GetAccessKeyInfo`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetAccessKeyInfo {
    pub access_key_id: String,
}

/// `GetSessionToken`'s input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetSessionToken {
    pub duration_seconds: Option<i64>,
    pub serial_number: Option<String>,
    pub token_code: Option<String>,
}

impl Input {
    fn parse(operation: StsOperation, params: &[(String, String)]) -> Result<Input, ApiError> {
        let name = operation.name();
        let source = Source::Query(params);
        Ok(match operation {
            StsOperation::AssumeRole => {
                Input::AssumeRole(parse(Api::Sts, name, source, Rules::All)?)
            }
            StsOperation::DecodeAuthorizationMessage => {
                Input::DecodeAuthorizationMessage(parse(Api::Sts, name, source, Rules::All)?)
            }
            StsOperation::GetAccessKeyInfo => {
                Input::GetAccessKeyInfo(parse(Api::Sts, name, source, Rules::All)?)
            }
            StsOperation::GetCallerIdentity => Input::GetCallerIdentity,
            StsOperation::GetSessionToken => {
                Input::GetSessionToken(parse(Api::Sts, name, source, Rules::All)?)
            }
        })
    }
}

impl Service for Sts {
    type Operation = StsOperation;
    type Call = Call;
    const EVENT_SOURCE: &'static str = "sts.amazonaws.com";
    const TENANT_ONLY: bool = false;
    /// Authorization reads only through [`Ctx::read`] (`AssumeRole`'s role, managed session
    /// policies and MFA device; the policies of the checks), none nested in another.
    const SHARES_READS: bool = true;

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
        let input =
            Input::parse(operation, &req.params).map_err(|e| Unrouted::input(operation, e))?;
        Ok(Call { operation, input, prepared: None })
    }

    fn operation(call: &Call) -> StsOperation {
        call.operation
    }

    fn named(_: &Request<'_>, call: Option<&Call>) -> Vec<Named> {
        match call.map(|c| &c.input) {
            Some(Input::AssumeRole(i)) => sessions::role_of(&i.role_arn)
                .map(|(account, _)| vec![Named::Account(account.to_string())])
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn parameters(_: &Request<'_>, call: &Call) -> Option<Value> {
        match call.operation {
            StsOperation::AssumeRole => Some(match &call.prepared {
                Some(p) => p.parameters.clone(),
                None => match &call.input {
                    Input::AssumeRole(i) => {
                        json!({ "roleArn": i.role_arn, "roleSessionName": i.role_session_name })
                    }
                    _ => json!({}),
                },
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
                let Input::AssumeRole(input) = &call.input else {
                    return Err(ApiError::internal("the input is not AssumeRole's"));
                };
                let (prepared, checks) = sessions::prepare_assume_role(ctx, input)?;
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
        let body = match &call.input {
            Input::AssumeRole(_) => match call.prepared {
                Some(prepared) => sessions::assume_role(ctx, prepared, effect)?,
                None => return Err(ApiError::internal("the role was not prepared")),
            },
            Input::GetSessionToken(input) => sessions::get_session_token(ctx, input, effect)?,
            Input::DecodeAuthorizationMessage(input) => {
                let encoded = input.encoded_message.as_str();
                let decoded = crate::pipeline::authorize::decode_message(
                    ctx.state,
                    &ctx.caller.account,
                    encoded,
                )?;
                response(
                    "DecodeAuthorizationMessage",
                    NAMESPACE,
                    &xml::build(|w| {
                        w.text("DecodedMessage", &decoded);
                    }),
                    id,
                )
            }
            Input::GetCallerIdentity | Input::GetAccessKeyInfo(_) => {
                // `GetAccessKeyInfo` reads in the snapshot it was authenticated in
                // (`keeps_reads`), and nothing else.
                let lookup = |key: &str| -> Option<String> {
                    let mut tx = ctx.take_reads().ok()?;
                    tx.get_access_key(key).ok().flatten().map(|k| k.account)
                };
                let key = match &call.input {
                    Input::GetAccessKeyInfo(i) => Some(i.access_key_id.as_str()),
                    _ => None,
                };
                identity(ctx.caller, key, id, &lookup)?
            }
        };
        Ok(Reply::xml(body))
    }

    fn keeps_reads(operation: StsOperation) -> bool {
        // Its one read, the key's account, is in the request's snapshot. Every other operation
        // ends the snapshot before it runs: `AssumeRole` and `GetSessionToken` begin a writer
        // (a thread never holds two of the store's connections).
        operation == StsOperation::GetAccessKeyInfo
    }
}
