//! The listener and the request pipeline.

use crate::authz::{authorize, iam_tag_context, AuthzExtra};
use crate::bootstrap;
use crate::config::Config;
use crate::error::ApiError;
use crate::identity::{Caller, KeyEntry, Keys, OPERATOR_ACCOUNT};
use crate::{accounts, audit_trail, sessions};
use crate::{cloudtrail, iam, query, sts};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Shared server state.
pub struct State {
    /// Settings.
    pub config: Config,
    /// The operator's key (held in memory, never in the store).
    pub keys: Keys,
    /// Persistence: accounts, keys, records, audit logs.
    pub store: Arc<dyn store::Store>,
    /// Group commit for audit-only appends.
    pub audit: crate::group_commit::AuditWriter,
    /// Threads for store work.
    pub pool: crate::pool::Pool,
    /// The root of trust that wraps stored secrets.
    pub root: bootstrap::Root,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Data directory trouble.
    #[error(transparent)]
    Bootstrap(#[from] bootstrap::BootstrapError),
    /// The store could not be opened.
    #[error("cannot open the store: {0}")]
    Store(#[from] store::StoreError),
    /// The TLS certificate or key cannot be used.
    #[error("tls: {0}")]
    Tls(String),
    /// Listening failed.
    #[error("cannot listen on `{addr}`: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The error.
        source: std::io::Error,
    },
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

/// A response body with its protocol.
/// Produces a streamed response body on a store thread: it hands each chunk to the sender,
/// and stops when the sender says the client has gone.
pub(crate) type Producer = Box<dyn FnOnce(&mut dyn FnMut(Vec<u8>) -> bool) + Send>;

/// A response body: whole, or streamed from a [`Producer`].
pub(crate) type Body = http_body_util::Either<Full<Bytes>, ChannelBody>;

/// The streamed half of [`Body`]: chunks from a channel.
pub(crate) struct ChannelBody {
    rx: tokio::sync::mpsc::Receiver<Bytes>,
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.rx.poll_recv(cx).map(|chunk| chunk.map(|b| Ok(http_body::Frame::data(b))))
    }
}

#[derive(Default)]
pub(crate) struct Reply {
    pub status: u16,
    pub json: bool,
    pub body: String,
    /// A raw body (S3 objects) instead of `body`, with its own headers.
    pub raw: Option<Vec<u8>>,
    /// Extra response headers (S3: ETag, Content-Type, x-amz-*).
    pub headers: Vec<(String, String)>,
    /// A body produced while it is sent (large S3 objects), instead of `raw`.
    pub stream: Option<Producer>,
}

fn respond(state: &Arc<State>, mut reply: Reply, request_id: &str) -> Response<Body> {
    let has_raw = reply.raw.is_some() || reply.stream.is_some();
    let body = match reply.stream.take() {
        Some(producer) => {
            // The producer runs on a store thread; a full channel holds it back until the
            // client reads (at most four chunks in flight).
            let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
            let pool = state.pool.clone();
            tokio::spawn(async move {
                let _ = pool
                    .run(move || {
                        let mut send =
                            |chunk: Vec<u8>| tx.blocking_send(Bytes::from(chunk)).is_ok();
                        producer(&mut send);
                    })
                    .await;
            });
            http_body_util::Either::Right(ChannelBody { rx })
        }
        None => http_body_util::Either::Left(Full::new(match reply.raw.take() {
            Some(raw) => Bytes::from(raw),
            None => Bytes::from(std::mem::take(&mut reply.body)),
        })),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    if !has_raw {
        let content_type = if reply.json { "application/x-amz-json-1.1" } else { "text/xml" };
        headers.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(content_type),
        );
    }
    for (name, value) in &reply.headers {
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    if let Ok(v) = hyper::header::HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v.clone());
        headers.insert("x-amz-request-id", v);
    }
    resp
}

fn error_reply(e: &ApiError, json: bool, s3: bool, request_id: &str) -> Reply {
    let body = if json {
        serde_json::json!({ "__type": e.code, "message": e.message }).to_string()
    } else if s3 {
        crate::s3::error_xml(e, request_id)
    } else {
        query::error_response(e, sts::NAMESPACE, request_id)
    };
    Reply { status: e.status, json, body, ..Default::default() }
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
async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
    peer: std::net::SocketAddr,
    tls: Option<Arc<TlsSession>>,
) -> Response<Body> {
    let id = bootstrap::uuid();
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
    let facts = audit_trail::RequestFacts {
        request_id: id.to_string(),
        event_source: "hermetic.amazonaws.com".into(),
        event_name: "Unknown".into(),
        region: "us-east-1".into(),
        source_ip: peer.ip().to_string(),
        time_ms: now_ms(),
        ..Default::default()
    };
    let event = match audit_trail::event(&facts, None, OPERATOR_ACCOUNT, None, None, Some(&e)) {
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
        && declared.is_some_and(|n| n > crate::s3::STREAM_ABOVE);
    let (body, stream) = if streamed {
        match crate::body::BodyStream::start(body, 8).await {
            Ok(stream) => (Bytes::new(), Some(stream)),
            Err(e) => return Err(refused_unread(state, e, id, peer).await),
        }
    } else {
        let limit = if s3 { crate::s3::MAX_BODY } else { state.config.max_body };
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
    (body, stream): (&[u8], Option<crate::body::BodyStream>),
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
    let mut facts = audit_trail::RequestFacts {
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
            (crate::identity::Caller::anonymous(), "s3".to_string(), sigv4::PayloadMode::Unsigned)
        }
        Err(failure) => {
            let (e, account, key, service) = *failure;
            facts.access_key_id = key;
            facts.event_source =
                format!("{}.amazonaws.com", service.as_deref().unwrap_or("unknown"));
            facts.event_name = operation_name(&target, &params);
            let event = audit_trail::event(
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
                        let event = audit_trail::event(
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
                        Some(crate::body::PayloadReader::new(stream, payload, &header_refs)?),
                    ),
                    None => (crate::body::decode_whole(payload, &header_refs, body)?, None),
                };
                crate::s3::handle(
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
                let operation = t.strip_prefix(crate::kms::TARGET_PREFIX).unwrap_or(t).to_string();
                let input = json_input(body)?;
                crate::kms::handle(state, &caller, &operation, &input, &mut facts, pending).map(
                    |v| Reply {
                        status: 200,
                        json: true,
                        body: v.to_string(),
                        ..Default::default()
                    },
                )
            }
            ("access-analyzer", None) => {
                facts.read_only = true;
                let input = json_input(body)?;
                // An unknown operation is refused (and recorded by the catch-all below).
                let Some(operation) = crate::analyzer::operation(method, path) else {
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
                    crate::analyzer::respond(operation, &input, &query)
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
                        let event = audit_trail::event(
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
                            let decoded =
                                crate::authz::decode_message(state, &caller.account, encoded)?;
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
                let event = audit_trail::event(
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
                let event = audit_trail::event(
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
    };
    let result = outcome();
    // Whatever refused the request (malformed input included) is recorded too.
    if let (Err(e), true) = (&result, pending.is_empty()) {
        let event =
            audit_trail::event(&facts, Some(&caller), &caller.account, None, None, Some(e))?;
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
    facts: &audit_trail::RequestFacts,
    pending: &mut Vec<(String, audit::event::EventRecord)>,
    service: &str,
    parameters: Option<serde_json::Value>,
    run: impl FnOnce() -> Result<serde_json::Value, ApiError>,
) -> Result<Reply, ApiError> {
    let action = format!("{service}:{}", facts.event_name);
    let result =
        authorize(state, caller, &action, "*", facts, &AuthzExtra::default()).and_then(|()| run());
    let event = audit_trail::event(
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

/// How fresh an access key's last-used time is kept (IAM reports it to the minute or so).
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

type AuthFailure = Box<(ApiError, Option<String>, Option<String>, Option<String>)>;

/// Verifies the signature and finds the caller: (caller, service, region, access key id), or
/// the error with the account and key it names when known.
fn authenticate(
    state: &State,
    signed: &sigv4::HttpRequest<'_>,
    body: sigv4::Payload<'_>,
    now_ms: i64,
) -> Result<(Caller, String, String, String, sigv4::PayloadMode), AuthFailure> {
    let unverified = sigv4::parse(signed)
        .map_err(|e| Box::new((ApiError::from_sigv4(&e, false), None, None, None)))?;
    let service = unverified.credential.service.clone();
    let region = unverified.credential.region.clone();
    let key_id = unverified.access_key_id().to_string();
    let fail = |e: ApiError, account: Option<String>| {
        Box::new((e, account, Some(key_id.clone()), Some(service.clone())))
    };
    let invalid = || {
        ApiError::sender(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
    };
    // For keys from the store: when the key was last used (refreshed at most once a minute).
    let mut last_used: Option<Option<i64>> = None;
    let (secret, caller) = match state.keys.get(&key_id) {
        Some(KeyEntry { secret, caller }) => (secret, caller),
        None => {
            let mut tx = state
                .store
                .read()
                .map_err(|_| fail(ApiError::unavailable("the store is unavailable"), None))?;
            let key = tx
                .get_access_key(&key_id)
                .map_err(|_| fail(ApiError::unavailable("the store is unavailable"), None))?
                .ok_or_else(|| fail(invalid(), None))?;
            let account = tx
                .get_account(&key.account)
                .map_err(|_| fail(ApiError::unavailable("the store is unavailable"), None))?
                .ok_or_else(|| fail(invalid(), None))?;
            if key.status != store::AccessKeyStatus::Active
                || account.status != store::AccountStatus::Active
            {
                return Err(fail(invalid(), Some(key.account.clone())));
            }
            last_used = Some(key.last_used_at_ms);
            let secret = crypto::RootOfTrust::unwrap(
                &state.root,
                &accounts::secret_context(&key_id),
                &key.secret_wrapped,
            )
            .map_err(|_| {
                fail(
                    ApiError::unavailable("the root of trust cannot open the key"),
                    Some(key.account.clone()),
                )
            })?;
            let caller = match key.owner_kind.as_str() {
                "user" => {
                    let user = tx
                        .get_record(&key.account, "user", &key.owner_key)
                        .map_err(|_| fail(ApiError::unavailable("the store is unavailable"), None))?
                        .ok_or_else(|| fail(invalid(), Some(key.account.clone())))?;
                    let field = |k: &str| {
                        user.body
                            .get(k)
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    Caller {
                        arn: field("Arn"),
                        user_id: field("UserId"),
                        account: key.account.clone(),
                        session: None,
                    }
                }
                "session" => {
                    // Temporary credentials: the session must exist, be unexpired, and the
                    // request must carry its token.
                    let session = tx
                        .get_record(&key.account, "session", &key_id)
                        .map_err(|_| fail(ApiError::unavailable("the store is unavailable"), None))?
                        .ok_or_else(|| fail(invalid(), Some(key.account.clone())))?;
                    let body = &session.body;
                    let text = |k: &str| {
                        body.get(k)
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    let expires =
                        body.get("ExpirationMs").and_then(serde_json::Value::as_i64).unwrap_or(0);
                    if now_ms >= expires {
                        return Err(fail(
                            ApiError::sender(
                                403,
                                "ExpiredToken",
                                "The security token included in the request is expired",
                            ),
                            Some(key.account.clone()),
                        ));
                    }
                    let presented = unverified.session_token.clone().unwrap_or_default();
                    let presented_hash =
                        sigv4::encode::hex(&sigv4::key::sha256(presented.as_bytes()));
                    let stored_hash = text("TokenSha256");
                    let matches: bool = subtle::ConstantTimeEq::ct_eq(
                        presented_hash.as_bytes(),
                        stored_hash.as_bytes(),
                    )
                    .into();
                    if presented.is_empty() || !matches {
                        return Err(fail(invalid(), Some(key.account.clone())));
                    }
                    Caller {
                        arn: text("Arn"),
                        user_id: text("UserId"),
                        account: key.account.clone(),
                        session: Some(sessions::session_of(body)),
                    }
                }
                "root" if key.owner_key == key.account => Caller {
                    arn: format!("arn:aws:iam::{}:root", key.account),
                    user_id: key.account.clone(),
                    account: key.account.clone(),
                    session: None,
                },
                // Any other owner is not a principal this server knows: refuse (fail closed).
                _ => return Err(fail(invalid(), Some(key.account.clone()))),
            };
            (sigv4::Secret::new(String::from_utf8_lossy(secret.expose()).into_owned()), caller)
        }
    };
    let account = Some(caller.account.clone());
    let mut cache = sigv4::KeyCache::new(1);
    let s3 = service == "s3";
    let verified = unverified
        .verify(&secret, now_ms / 1000, body, &mut cache)
        .map_err(|e| fail(ApiError::from_sigv4(&e, s3), account))?;
    if let Some(previous) = last_used {
        if previous.is_none_or(|at| now_ms - at >= LAST_USED_GRANULARITY_MS) {
            // Bookkeeping, not a tenant mutation: a failure here does not fail the request.
            if let Ok(mut tx) = state.store.begin() {
                if tx.set_access_key_last_used(&key_id, now_ms, &service, &region).is_ok() {
                    let _ = tx.commit();
                }
            }
        }
    }
    Ok((caller, service, region, key_id, verified.payload))
}

/// Serves until `shutdown` completes; in-flight requests finish first.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()>,
    ready: impl FnOnce(std::net::SocketAddr, &bootstrap::OperatorCredentials),
) -> Result<(), ServeError> {
    let (root, creds) = bootstrap::init_with(&config.data_dir, config.pkcs11.as_ref())?;
    let keys = Keys::default();
    keys.insert(&creds.access_key_id, bootstrap::operator_key(&creds));
    let pool = crate::pool::Pool::new(16);
    let (url, schema, sqlite_path) = (
        config.database_url.clone(),
        config.database_schema.clone(),
        config.data_dir.join("hermetic.db"),
    );
    let store: Arc<dyn store::Store> = pool
        .run(move || -> Result<Arc<dyn store::Store>, store::StoreError> {
            Ok(match url {
                Some(url) => {
                    Arc::new(store::PostgresStore::connect_with(&store::PostgresOptions {
                        url,
                        schema,
                        connections: 8,
                    })?)
                }
                None => Arc::new(store::SqliteStore::open(sqlite_path)?),
            })
        })
        .await
        .ok_or_else(|| {
            ServeError::Store(store::StoreError::Backend("the store thread failed".into()))
        })??;
    let audit = crate::group_commit::AuditWriter::start(store.clone());
    let checkpoint_key = Arc::new(
        crate::trail::load_or_create_key(&config.data_dir)
            .map_err(|e| ServeError::Bootstrap(bootstrap::BootstrapError::CheckpointKey(e)))?,
    );
    {
        // Signed checkpoints at least once per interval.
        let (store, key, every, pool) =
            (store.clone(), checkpoint_key.clone(), config.checkpoint_interval, pool.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let (store, key) = (store.clone(), key.clone());
                let _ = pool
                    .run(move || crate::trail::checkpoint_all(store.as_ref(), &key, now_ms()))
                    .await;
            }
        });
    }
    let tls = match &config.tls {
        Some((cert, key)) => Some(tls_acceptor(cert, key)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    ready(addr, &creds);
    let state = Arc::new(State { config, keys, store, root, audit, pool });
    {
        // KMS keys due for automatic rotation, checked as often as checkpoints are written.
        let (state, every) = (state.clone(), state.config.checkpoint_interval);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let inner = state.clone();
                let _ = state.pool.run(move || crate::kms::rotate_due(&inner, now_ms())).await;
            }
        });
    }
    {
        // Blobs no record names (a crash mid-upload), swept at start and then every half
        // grace period (at most hourly).
        let grace = state.config.blob_grace;
        let every = (grace / 2).clamp(Duration::from_secs(1), Duration::from_secs(3600));
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let inner = state.clone();
                let now = std::time::SystemTime::now();
                let _ = state.pool.run(move || crate::s3::sweep::sweep(&inner, now, grace)).await;
            }
        });
    }
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let state = state.clone();
                let service = move |session: Option<Arc<TlsSession>>| {
                    hyper::service::service_fn(move |req| {
                        let (state, session) = (state.clone(), session.clone());
                        async move {
                            Ok::<_, std::convert::Infallible>(handle(state, req, peer, session).await)
                        }
                    })
                };
                let watcher = graceful.watcher();
                match tls.clone() {
                    None => {
                        let conn = hyper::server::conn::http1::Builder::new()
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service(None));
                        tokio::spawn(async move {
                            let _ = watcher.watch(conn).await;
                        });
                    }
                    Some(acceptor) => {
                        tokio::spawn(async move {
                            // A failed handshake is the client's problem; nothing was requested.
                            let Ok(stream) = acceptor.accept(stream).await else { return };
                            let (_, connection) = stream.get_ref();
                            let session = TlsSession {
                                version: match connection.protocol_version() {
                                    Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".into(),
                                    Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".into(),
                                    Some(other) => format!("{other:?}"),
                                    None => String::new(),
                                },
                                cipher_suite: connection
                                    .negotiated_cipher_suite()
                                    .and_then(|c| c.suite().as_str())
                                    .unwrap_or_default()
                                    .to_string(),
                            };
                            let conn = hyper::server::conn::http1::Builder::new().serve_connection(
                                hyper_util::rt::TokioIo::new(stream),
                                service(Some(Arc::new(session))),
                            );
                            let _ = watcher.watch(conn).await;
                        });
                    }
                }
            }
            () = &mut shutdown => break,
        }
    }
    graceful.shutdown().await;
    // A last checkpoint covers everything answered before shutdown.
    let (store, key) = (state.store.clone(), checkpoint_key.clone());
    let _ =
        state.pool.run(move || crate::trail::checkpoint_all(store.as_ref(), &key, now_ms())).await;
    Ok(())
}

fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor, ServeError> {
    let bad = |what: String| ServeError::Tls(what);
    let certs: Vec<_> = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(cert).map_err(|e| bad(format!("{}: {e}", cert.display())))?,
    ))
    .collect::<Result<_, _>>()
    .map_err(|e| bad(format!("{}: {e}", cert.display())))?;
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(key).map_err(|e| bad(format!("{}: {e}", key.display())))?,
    ))
    .map_err(|e| bad(format!("{}: {e}", key.display())))?
    .ok_or_else(|| bad(format!("{}: no private key", key.display())))?;
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| bad(e.to_string()))?;
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

/// Serves until SIGINT or SIGTERM, printing where it listens and where the operator's
/// credentials are (never the secret itself).
pub fn serve(config: Config) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    runtime.block_on(run(config, shutdown_signal(), |addr, creds| {
        // A closed stdout (the reader went away) must not stop the server.
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "hermetic listening on {scheme}://{addr}");
        let _ = writeln!(
            out,
            "operator credentials: {} ({})",
            creds.path.display(),
            if creds.created { "created" } else { "existing" }
        );
        let _ = out.flush();
    }))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
