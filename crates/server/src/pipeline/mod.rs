//! The request pipeline: the one path every request takes, whatever its service.

pub mod authenticate;
pub mod authorize;
pub mod events;
pub mod group_commit;
pub mod identity;
pub mod reply;

pub(crate) use reply::{Producer, Reply};

use crate::bootstrap;
use crate::config::Config;
use crate::error::ApiError;
use crate::protocol::query;
use crate::services::{cloudtrail, iam, operator as accounts, sts, sts::sessions};
use authenticate::authenticate;
use authorize::{authorize, iam_tag_context, AuthzExtra};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use identity::{Caller, Keys, OPERATOR_ACCOUNT};
use reply::{error_reply, respond, Body};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Shared server state.
pub struct State {
    /// Settings.
    pub config: Config,
    /// The operator's key (held in memory, never in the store).
    pub keys: Keys,
    /// Persistence: accounts, keys, records, audit logs.
    pub store: Arc<dyn store::Store>,
    /// Group commit for audit-only appends.
    pub audit: crate::pipeline::group_commit::AuditWriter,
    /// Threads for store work.
    pub pool: crate::support::pool::Pool,
    /// The root of trust that wraps stored secrets.
    pub root: bootstrap::Root,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("config", &self.config).finish_non_exhaustive()
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

/// The service a request is signed for, read from its credential scope before the body is
/// read (S3 takes larger bodies and answers errors in its own XML).
fn signing_service(req: &Request<Incoming>) -> Option<String> {
    let scope = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .map(|c| c.split([',', ' ']).next().unwrap_or_default().to_string())
        .or_else(|| {
            req.uri().query().and_then(|q| {
                q.split('&').find_map(|p| {
                    p.strip_prefix("X-Amz-Credential=")
                        .map(|c| sigv4::encode::percent_decode(c).into_owned())
                })
            })
        })?;
    scope.split('/').nth(3).map(str::to_string)
}

/// What a TLS connection negotiated (CloudTrail's `tlsDetails`).
#[derive(Clone, Debug, Default)]
pub struct TlsSession {
    /// `TLSv1.3` or `TLSv1.2`.
    pub version: String,
    /// The IANA name of the cipher suite.
    pub cipher_suite: String,
}

/// Runs one request through the pipeline.
pub(crate) async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
    peer: std::net::SocketAddr,
    tls: Option<Arc<TlsSession>>,
) -> Response<Body> {
    let id = crate::support::ids::uuid();
    let service = signing_service(&req);
    // JSON errors: the JSON protocols (X-Amz-Target) and rest-json services.
    let json =
        req.headers().contains_key("x-amz-target") || service.as_deref() == Some("access-analyzer");
    let s3 =
        service.as_deref() == Some("s3") || (service.is_none() && !json && req.uri().path() != "/");
    let head = req.method() == hyper::Method::HEAD;
    let reply = match pipeline(&state, req, &id, peer, tls, s3).await {
        Ok(reply) => reply,
        Err(e) => {
            let mut r = error_reply(&e, json, s3, &id);
            if head {
                r.raw = Some(Vec::new());
            }
            r
        }
    };
    respond(&state, reply, &id)
}

/// Reads a whole request body of at most `limit` bytes. A longer one is refused (and, unread
/// and so unauthenticated, recorded in the operator realm's log).
async fn collect_body(
    state: &Arc<State>,
    body: Incoming,
    limit: usize,
    id: &str,
    peer: std::net::SocketAddr,
) -> Result<Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => {
            let e = ApiError::sender(413, "RequestEntityTooLarge", "the request body is too large");
            Err(refused_unread(state, e, id, peer).await)
        }
    }
}

/// Records a request refused before it was read (so unauthenticated) in the operator realm's
/// log and returns the refusal, or the audit failure (fail closed).
async fn refused_unread(
    state: &Arc<State>,
    e: ApiError,
    id: &str,
    peer: std::net::SocketAddr,
) -> ApiError {
    let facts = events::RequestFacts {
        request_id: id.to_string(),
        event_source: "hermetic.amazonaws.com".into(),
        event_name: "Unknown".into(),
        region: "us-east-1".into(),
        source_ip: peer.ip().to_string(),
        time_ms: now_ms(),
        ..Default::default()
    };
    let event = match events::event(&facts, None, OPERATOR_ACCOUNT, None, None, Some(&e)) {
        Ok(event) => event,
        Err(failure) => return failure,
    };
    let bytes = match event.canonical_bytes() {
        Ok(bytes) => bytes,
        Err(_) => return ApiError::unavailable("the audit event could not be encoded"),
    };
    match state.audit.append(OPERATOR_ACCOUNT, bytes).await {
        Ok(()) => e,
        Err(failure) => failure,
    }
}

async fn pipeline(
    state: &Arc<State>,
    req: Request<Incoming>,
    id: &str,
    peer: std::net::SocketAddr,
    tls: Option<Arc<TlsSession>>,
    s3: bool,
) -> Result<Reply, ApiError> {
    let (parts, body) = req.into_parts();
    // A large S3 PUT streams: its bytes go to the store thread as they arrive, decoded and
    // verified there, and are never held whole.
    let declared = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let streamed = s3
        && parts.method == hyper::Method::PUT
        && !parts.headers.contains_key("x-amz-copy-source")
        && declared.is_some_and(|n| n > crate::services::s3::STREAM_ABOVE);
    let (body, stream) = if streamed {
        match crate::protocol::payload::BodyStream::start(body, 8).await {
            Ok(stream) => (Bytes::new(), Some(stream)),
            Err(e) => return Err(refused_unread(state, e, id, peer).await),
        }
    } else {
        let limit = if s3 { crate::services::s3::MAX_BODY } else { state.config.max_body };
        (collect_body(state, body, limit, id, peer).await?, None)
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let query_text = parts.uri.query().unwrap_or("").to_string();
    let path = parts.uri.path().to_string();
    let method = parts.method.as_str().to_string();
    // Store work is synchronous: run the rest on this worker, allowing it to block.
    let (result, pending) = {
        let state2 = state.clone();
        let id = id.to_string();
        state
            .pool
            .run(move || {
                let mut pending = Vec::new();
                let result = decide(
                    &state2,
                    &method,
                    &path,
                    &query_text,
                    &headers,
                    (&body, stream),
                    &id,
                    (peer, tls),
                    s3,
                    &mut pending,
                );
                (result, pending)
            })
            .await
            .unwrap_or_else(|| (Err(ApiError::unavailable("the store is unavailable")), Vec::new()))
    };
    // The request's own event, if it had no transaction of its own, commits (in a batch with
    // other requests' events) before anyone sees the answer. Fail closed.
    for (account, event) in pending {
        let bytes = audit::event::EventRecord::canonical_bytes(&event)
            .map_err(|_| ApiError::unavailable("the audit event could not be encoded"))?;
        state.audit.append(&account, bytes).await?;
    }
    result
}

/// Authenticate, handle, audit: the synchronous part of the pipeline.
#[allow(clippy::too_many_arguments)]
fn decide(
    state: &State,
    method: &str,
    path: &str,
    query_text: &str,
    headers: &[(String, String)],
    (body, stream): (&[u8], Option<crate::protocol::payload::BodyStream>),
    id: &str,
    (peer, tls): (std::net::SocketAddr, Option<Arc<TlsSession>>),
    s3: bool,
    pending: &mut Vec<(String, audit::event::EventRecord)>,
) -> Result<Reply, ApiError> {
    let header_refs: Vec<(&str, &str)> =
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let target = header_refs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-target"))
        .map(|(_, v)| v.to_string());
    let json = target.is_some();
    let form_text = if method == "POST" && !json {
        String::from_utf8_lossy(body).into_owned()
    } else {
        query_text.to_string()
    };
    let params = query::parse_form(&form_text);
    let now = now_ms();
    let mut facts = events::RequestFacts {
        request_id: id.to_string(),
        source_ip: peer.ip().to_string(),
        user_agent: header_refs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
            .map(|(_, v)| v.to_string()),
        time_ms: now,
        region: "us-east-1".into(),
        secure: tls.is_some(),
        tls: tls.map(|t| {
            let host = header_refs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("host"))
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            (t.version.clone(), t.cipher_suite.clone(), host)
        }),
        ..Default::default()
    };
    let signed = sigv4::HttpRequest { method, path, query: query_text, headers: &header_refs };

    // Authenticate. Failures are audited too, in the account the credential names when known.
    let payload_given =
        if stream.is_some() { sigv4::Payload::Deferred } else { sigv4::Payload::Bytes(body) };
    let auth = authenticate(state, &signed, payload_given, now);
    let (caller, service, payload) = match auth {
        Ok((caller, service, region, key, payload)) => {
            facts.region = region;
            facts.access_key_id = Some(key);
            (caller, service, payload)
        }
        // S3 serves unsigned requests as the anonymous principal: only a bucket policy that
        // grants to everyone (and that Block Public Access lets through) can allow them.
        Err(failure)
            if s3 && failure.0.code == "MissingAuthenticationToken" && failure.2.is_none() =>
        {
            (
                crate::pipeline::identity::Caller::anonymous(),
                "s3".to_string(),
                sigv4::PayloadMode::Unsigned,
            )
        }
        Err(failure) => {
            let (e, account, key, service) = *failure;
            facts.access_key_id = key;
            facts.event_source =
                format!("{}.amazonaws.com", service.as_deref().unwrap_or("unknown"));
            facts.event_name = operation_name(&target, &params);
            let event = events::event(
                &facts,
                None,
                account.as_deref().unwrap_or(OPERATOR_ACCOUNT),
                None,
                None,
                Some(&e),
            )?;
            pending.push((account.unwrap_or_else(|| OPERATOR_ACCOUNT.to_string()), event));
            return Err(e);
        }
    };
    facts.event_source = format!("{service}.amazonaws.com");
    facts.event_name = operation_name(&target, &params);
    facts.presigned = query::param(&query::parse_form(query_text), "X-Amz-Signature").is_some();
    let amz_date = header_refs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-date"))
        .map(|(_, v)| v.to_string())
        .or_else(|| query::param(&query::parse_form(query_text), "X-Amz-Date").map(str::to_string));
    facts.signature_age_ms = amz_date
        .and_then(|d| sigv4::time::parse_amz_date(&d))
        .map(|secs| (now - secs * 1000).max(0));

    let outcome = || -> Result<Reply, ApiError> {
        match (service.as_str(), &target) {
            ("hermetic", Some(t)) => {
                let operation = t.strip_prefix(accounts::TARGET_PREFIX).unwrap_or(t).to_string();
                let input = json_input(body)?;
                facts.read_only =
                    operation.starts_with("List") || operation.starts_with("Describe");
                match accounts::handle(
                    state.store.as_ref(),
                    &state.root,
                    &caller,
                    &operation,
                    &input,
                    &facts,
                ) {
                    Ok(output) => Ok(Reply {
                        status: 200,
                        json: true,
                        body: output.to_string(),
                        ..Default::default()
                    }),
                    Err(e) => {
                        let event = events::event(
                            &facts,
                            Some(&caller),
                            &caller.account,
                            Some(input),
                            None,
                            Some(&e),
                        )?;
                        pending.push((caller.account.clone(), event));
                        Err(e)
                    }
                }
            }
            ("s3", _) => {
                let (content, reader) = match stream {
                    Some(stream) => (
                        Vec::new(),
                        Some(crate::protocol::payload::PayloadReader::new(
                            stream,
                            payload,
                            &header_refs,
                        )?),
                    ),
                    None => {
                        (crate::protocol::payload::decode_whole(payload, &header_refs, body)?, None)
                    }
                };
                crate::services::s3::handle(
                    state,
                    &caller,
                    method,
                    path,
                    query_text,
                    &header_refs,
                    (content, reader),
                    &mut facts,
                    pending,
                )
            }
            ("kms", Some(t)) => {
                let operation =
                    t.strip_prefix(crate::services::kms::TARGET_PREFIX).unwrap_or(t).to_string();
                let input = json_input(body)?;
                crate::services::kms::handle(
                    state, &caller, &operation, &input, &mut facts, pending,
                )
                .map(|v| Reply {
                    status: 200,
                    json: true,
                    body: v.to_string(),
                    ..Default::default()
                })
            }
            ("access-analyzer", None) => {
                facts.read_only = true;
                let input = json_input(body)?;
                // An unknown operation is refused (and recorded by the catch-all below).
                let Some(operation) = crate::services::access_analyzer::operation(method, path)
                else {
                    return Err(ApiError::sender(
                        404,
                        "UnknownOperationException",
                        format!("`{method} {path}` is not an operation served here"),
                    ));
                };
                facts.event_name = operation.to_string();
                // The policies a check reads are the caller's data: the event names the
                // operation, not the documents.
                let query = query::parse_form(query_text);
                read_only_json(state, &caller, &facts, pending, "access-analyzer", None, || {
                    crate::services::access_analyzer::respond(operation, &input, &query)
                })
            }
            ("cloudtrail", Some(t)) => {
                facts.read_only = true;
                let input = json_input(body)?;
                // `facts.event_name` is this operation's name already (`operation_name`).
                let operation = t.rsplit('.').next().unwrap_or(t).to_string();
                read_only_json(
                    state,
                    &caller,
                    &facts,
                    pending,
                    "cloudtrail",
                    Some(input.clone()),
                    || match operation.as_str() {
                        "LookupEvents" => {
                            cloudtrail::lookup_events(state.store.as_ref(), &caller.account, &input)
                        }
                        other => Err(ApiError::sender(
                            400,
                            "UnknownOperationException",
                            format!("unknown operation `{other}`"),
                        )),
                    },
                )
            }
            ("iam", None) => {
                let (action, mut resource) = iam::action_and_resource(&caller, &params);
                if action == "iam:GetAccessKeyLastUsed" {
                    // The key's owner is the resource.
                    let owner = query::param(&params, "AccessKeyId").and_then(|k| {
                        let mut tx = state.store.read().ok()?;
                        tx.get_access_key(k).ok().flatten()
                    });
                    if let Some(k) =
                        owner.filter(|k| k.account == caller.account && k.owner_kind == "user")
                    {
                        resource = format!("arn:aws:iam::{}:user/{}", caller.account, k.owner_key);
                    }
                }
                // As in AWS, GetSessionToken credentials reach IAM only with MFA.
                if caller.session.as_ref().is_some_and(|s| s.role.is_none() && s.mfa_ms.is_none()) {
                    return Err(ApiError::sender(
                        403,
                        "AccessDenied",
                        format!("User: {} is not authorized to perform: {action} on resource: {resource} because GetSessionToken credentials need MFA to call IAM", caller.arn),
                    ));
                }
                facts.read_only =
                    ["Get", "List", "Simulate"].iter().any(|p| facts.event_name.starts_with(p));
                let result = iam_tag_context(state, &caller, &params, &resource)
                    .and_then(|extra| authorize(state, &caller, &action, &resource, &facts, &extra))
                    .and_then(|()| {
                        iam::handle(
                            state.store.as_ref(),
                            &state.root,
                            &caller,
                            &params,
                            &facts,
                            pending,
                        )
                    });
                match result {
                    Ok(body) => Ok(Reply { status: 200, json: false, body, ..Default::default() }),
                    Err(e) => {
                        let event = events::event(
                            &facts,
                            Some(&caller),
                            &caller.account,
                            None,
                            None,
                            Some(&e),
                        )?;
                        pending.push((caller.account.clone(), event));
                        Err(e)
                    }
                }
            }
            ("sts", None) if query::param(&params, "Action") == Some("GetSessionToken") => {
                facts.read_only = false;
                sessions::get_session_token(state, &caller, &params, &facts).map(|body| Reply {
                    status: 200,
                    json: false,
                    body,
                    ..Default::default()
                })
            }
            ("sts", None) if query::param(&params, "Action") == Some("AssumeRole") => {
                facts.read_only = false;
                sessions::assume_role(state, &caller, &params, &facts, pending).map(|body| Reply {
                    status: 200,
                    json: false,
                    body,
                    ..Default::default()
                })
            }
            ("sts", None) => {
                facts.read_only = true;
                let result =
                    if query::param(&params, "Action") == Some("DecodeAuthorizationMessage") {
                        authorize(
                            state,
                            &caller,
                            "sts:DecodeAuthorizationMessage",
                            "*",
                            &facts,
                            &AuthzExtra::default(),
                        )
                        .and_then(|()| {
                            let encoded = iam::required(&params, "EncodedMessage")?;
                            let decoded = crate::pipeline::authorize::decode_message(
                                state,
                                &caller.account,
                                encoded,
                            )?;
                            Ok(query::response(
                                "DecodeAuthorizationMessage",
                                sts::NAMESPACE,
                                &format!(
                                    "<DecodedMessage>{}</DecodedMessage>",
                                    query::xml_escape(&decoded)
                                ),
                                id,
                            ))
                        })
                    } else {
                        let lookup = |key: &str| -> Option<String> {
                            let mut tx = state.store.read().ok()?;
                            tx.get_access_key(key).ok().flatten().map(|k| k.account)
                        };
                        sts::handle(&caller, &params, id, &lookup)
                    };
                let error = result.as_ref().err();
                let event = events::event(
                    &facts,
                    Some(&caller),
                    &caller.account,
                    Some(serde_json::json!({})),
                    None,
                    error,
                )?;
                pending.push((caller.account.clone(), event));
                result.map(|body| Reply { status: 200, json: false, body, ..Default::default() })
            }
            (other, _) => {
                let e = ApiError::sender(
                    400,
                    "UnknownService",
                    format!("the service `{other}` is not served here yet"),
                );
                let event =
                    events::event(&facts, Some(&caller), &caller.account, None, None, Some(&e))?;
                pending.push((caller.account.clone(), event));
                Err(e)
            }
        }
    };
    let result = outcome();
    // Whatever refused the request (malformed input included) is recorded too.
    if let (Err(e), true) = (&result, pending.is_empty()) {
        let event = events::event(&facts, Some(&caller), &caller.account, None, None, Some(e))?;
        pending.push((caller.account.clone(), event));
    }
    result
}

/// A call of a JSON service that reads (the caller has marked `facts` read-only): authorized as
/// `service:<facts.event_name>` on `*`, run, audited in the caller's log (with `parameters` as
/// the event's request parameters), and answered as JSON.
fn read_only_json(
    state: &State,
    caller: &Caller,
    facts: &events::RequestFacts,
    pending: &mut Vec<(String, audit::event::EventRecord)>,
    service: &str,
    parameters: Option<serde_json::Value>,
    run: impl FnOnce() -> Result<serde_json::Value, ApiError>,
) -> Result<Reply, ApiError> {
    let action = format!("{service}:{}", facts.event_name);
    let result =
        authorize(state, caller, &action, "*", facts, &AuthzExtra::default()).and_then(|()| run());
    let event = events::event(
        facts,
        Some(caller),
        &caller.account,
        parameters,
        None,
        result.as_ref().err(),
    )?;
    pending.push((caller.account.clone(), event));
    result.map(|v| Reply { status: 200, json: true, body: v.to_string(), ..Default::default() })
}

/// A JSON-protocol request body (empty means `{}`).
fn json_input(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    if body.is_empty() {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_slice(body).map_err(|_| {
        ApiError::sender(400, "SerializationException", "the request body is not valid JSON")
    })
}

fn operation_name(target: &Option<String>, params: &[(String, String)]) -> String {
    match target {
        Some(t) => t.rsplit('.').next().unwrap_or(t).to_string(),
        None => query::param(params, "Action").unwrap_or("Unknown").to_string(),
    }
}
