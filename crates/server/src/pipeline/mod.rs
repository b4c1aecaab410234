//! The request pipeline: the one path every request takes, whatever its service.

pub mod authenticate;
pub mod authorize;
pub mod events;
pub mod group_commit;
pub mod identity;
pub mod reply;
pub(crate) mod run;
pub(crate) mod service;

pub(crate) use reply::{Producer, Reply};

use crate::bootstrap;
use crate::config::Config;
use crate::error::ApiError;
use crate::protocol::query;
use crate::services::access_analyzer::AccessAnalyzer;
use crate::services::cloudtrail::CloudTrail;
use crate::services::iam::Iam;
use crate::services::kms::Kms;
use crate::services::mpa::Mpa;
use crate::services::onboarding::Onboarding;
use crate::services::operator::Operator;
use crate::services::s3::S3;
use crate::services::sts::Sts;
use crate::support::time::now_ms;
use authenticate::authenticate;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::{Request, Response};
use identity::{Keys, OPERATOR_ACCOUNT};
use reply::{error_reply, respond, Body};
use std::sync::Arc;

/// Shared server state.
pub struct State {
    /// Settings.
    pub config: Config,
    /// The operator's key, opened at start from its row in the store (wrapped by the root of
    /// trust, MAC'd: `bootstrap::operator_credentials`) and held in memory.
    pub keys: Keys,
    /// Persistence: accounts, keys, records, audit logs.
    pub store: Arc<dyn store::Store>,
    /// Group commit for audit-only appends.
    pub audit: crate::pipeline::group_commit::AuditWriter,
    /// Threads for store work, and for streamed bodies (lanes of their own).
    pub pool: crate::support::pool::Pool,
    /// The root of trust that wraps stored secrets.
    pub root: bootstrap::Root,
    /// Each account's sealing key, opened once (audit parameters, object metadata).
    pub account_keys: crate::support::account_keys::AccountKeys,
    /// The key that signs the audit logs' checkpoints (opened from its sealed file).
    pub checkpoint_key: Arc<audit::note::SigningKey>,
    /// Where object data lives (files in the data directory, or an S3-compatible bucket).
    pub blobs: Arc<dyn store::BlobStore>,
    /// S3 Bucket Keys, held in memory only for a few minutes (`services::s3::bucket_keys`).
    pub(crate) bucket_keys: crate::services::s3::bucket_keys::BucketKeys,
    /// What the server measures (requests, the group commit, checkpoints).
    pub metrics: Arc<crate::observe::Metrics>,
}

impl State {
    /// The state of a server over what [`crate::listener`] opened.
    pub(crate) fn new(parts: crate::listener::Parts) -> State {
        let (config, keys, store, root, audit, pool, account_keys, checkpoint_key, blobs, metrics) =
            parts;
        State {
            config,
            keys,
            store,
            root,
            audit,
            pool,
            account_keys,
            checkpoint_key,
            blobs,
            bucket_keys: Default::default(),
            metrics,
        }
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("config", &self.config).finish_non_exhaustive()
    }
}

/// The service a request is signed for, read from its credential scope before the body is
/// read (S3 takes larger bodies and answers errors in its own XML).
fn signing_service<B>(req: &Request<B>) -> Option<String> {
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

/// A request body the pipeline can read: hyper's, or a whole one (the in-process harness).
pub(crate) trait RequestBody:
    http_body::Body<Data = Bytes, Error = Self::Failure> + Send + Unpin + 'static
{
    /// The body's error.
    type Failure: Into<Box<dyn std::error::Error + Send + Sync>>;
}

impl<B> RequestBody for B
where
    B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Failure = B::Error;
}

/// Runs one request through the pipeline, in a span whose `request_id` is the id its audit
/// event's `requestID` carries; measures it and writes its access line.
pub(crate) async fn handle<B: RequestBody>(
    state: Arc<State>,
    req: Request<B>,
    peer: std::net::SocketAddr,
    tls: Option<Arc<TlsSession>>,
) -> Response<Body> {
    use tracing::Instrument;
    let id = crate::support::ids::uuid();
    let span = tracing::info_span!("request", request_id = %id);
    handle_as(state, req, peer, tls, id).instrument(span).await
}

/// [`handle`] for the request whose id is `id`.
async fn handle_as<B: RequestBody>(
    state: Arc<State>,
    req: Request<B>,
    peer: std::net::SocketAddr,
    tls: Option<Arc<TlsSession>>,
    id: String,
) -> Response<Body> {
    let started = std::time::Instant::now();
    let service = signing_service(&req);
    let mut labels = crate::observe::RequestLabels::signed_for(service.as_deref());
    // JSON errors: the JSON protocols (X-Amz-Target) and rest-json services.
    let json = req.headers().contains_key("x-amz-target")
        || matches!(service.as_deref(), Some("access-analyzer" | "mpa"));
    let s3 =
        service.as_deref() == Some("s3") || (service.is_none() && !json && req.uri().path() != "/");
    let head = req.method() == hyper::Method::HEAD;
    let (reply, outcome) = match pipeline(&state, req, &id, peer, tls, s3, &mut labels).await {
        Ok(reply) => (reply, crate::observe::Outcome::Ok),
        Err(e) => {
            let mut r = error_reply(&e, json, s3, &id);
            if head {
                r.raw = Some(Vec::new());
            }
            (r, crate::observe::Outcome::of(&e))
        }
    };
    let took = started.elapsed();
    state.metrics.request(labels, outcome, took);
    // Fixed names and numbers only: never the request's own text (decision 019).
    tracing::info!(
        target: "hermetic::access",
        request_id = %id,
        service = labels.service,
        operation = labels.operation,
        status = reply.status,
        outcome = outcome.as_str(),
        duration_ms = took.as_secs_f64() * 1000.0,
        "request"
    );
    respond(&state, reply, &id)
}

/// Reads a whole request body of at most `limit` bytes. A longer one is refused (and, unread
/// and so unauthenticated, recorded in the operator realm's log).
async fn collect_body<B: RequestBody>(
    state: &Arc<State>,
    body: B,
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

/// The request through the pipeline; `labels` learn its operation once a service routed it.
async fn pipeline<B: RequestBody>(
    state: &Arc<State>,
    req: Request<B>,
    id: &str,
    peer: std::net::SocketAddr,
    tls: Option<Arc<TlsSession>>,
    s3: bool,
    labels: &mut crate::observe::RequestLabels,
) -> Result<Reply, ApiError> {
    let (parts, body) = req.into_parts();
    // A large S3 PUT streams: its bytes go to its thread as they arrive, decoded and
    // verified there, and are never held whole.
    // SDKs that frame an upload as `aws-chunked` over HTTP chunked transfer send no
    // `Content-Length` (botocore since 1.36): the object's size is `x-amz-decoded-content-length`.
    // Such a body streams only when it is too large to hold: a refusal made before a streamed
    // body is read closes the connection, which clients report as a broken pipe, not the error.
    let length_of = |name: &str| {
        parts.headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())
    };
    let large = match length_of("content-length") {
        Some(n) => n > crate::services::s3::STREAM_ABOVE,
        None => length_of("x-amz-decoded-content-length")
            .is_some_and(|n| n > crate::services::s3::MAX_BODY as u64 / 2),
    };
    let streamed = s3
        && parts.method == hyper::Method::PUT
        && !parts.headers.contains_key("x-amz-copy-source")
        && large;
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
    // Store work is synchronous: run the rest on this worker, allowing it to block (in the
    // request's span: what it logs carries the request id).
    let (result, pending) = {
        let state2 = state.clone();
        let id = id.to_string();
        let span = tracing::Span::current();
        let mut found = *labels;
        // A streamed body holds its thread while it arrives: on the upload lane, never one
        // of the store threads every request needs.
        let lane = match stream {
            Some(_) => crate::support::pool::Lane::Upload,
            None => crate::support::pool::Lane::Store,
        };
        let (result, pending, found) = state
            .pool
            .run_in(lane, move || {
                let _span = span.enter();
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
                    &mut found,
                );
                (result, pending, found)
            })
            .await
            .unwrap_or_else(|| {
                (Err(ApiError::unavailable("the store is unavailable")), Vec::new(), *labels)
            });
        *labels = found;
        (result, pending)
    };
    // The request's own event, if it had no transaction of its own, commits (in a batch with
    // other requests' events) before anyone sees the answer. Fail closed.
    record(state, pending).await?;
    result
}

/// Appends events a request (or the server's own work) left for the group commit, each to its
/// account's log. The first failure is the answer (fail closed); the other events are still
/// appended.
pub(crate) async fn record(state: &State, pending: run::Pending) -> Result<(), ApiError> {
    let mut outcome = Ok(());
    for (account, event) in pending {
        let appended = match audit::event::EventRecord::canonical_bytes(&event) {
            Ok(bytes) => state.audit.append(&account, bytes).await,
            Err(_) => Err(ApiError::unavailable("the audit event could not be encoded")),
        };
        if let (Err(e), Ok(())) = (appended, &outcome) {
            outcome = Err(e);
        }
    }
    outcome
}

/// The signature of a browser upload form: a `POST` of `multipart/form-data` to a bucket, not
/// otherwise signed, whose fields hold a SigV4 signature of its policy (`None` for any other
/// request, or a form that is not signed: that one is anonymous). A form signed with SigV2
/// (`AWSAccessKeyId`, `signature`) is refused, as S3 refuses SigV2 for buckets made since 2020.
pub(crate) fn post_form_signature(
    method: &str,
    query_text: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Result<sigv4::post::PostSignature, authenticate::AuthFailure>> {
    let header =
        |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v);
    if method != "POST" || !query_text.is_empty() || header("authorization").is_some() {
        return None;
    }
    let boundary = crate::protocol::form::boundary(header("content-type")?)?;
    let fields = crate::protocol::form::parse(&boundary, body).ok()?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| String::from_utf8_lossy(&f.value).into_owned())
    };
    let refuse = |e: ApiError| Box::new((e, None, None, Some("s3".to_string())));
    if field("x-amz-signature").is_some() {
        return Some(sigv4::post::parse(field).map_err(|e| refuse(ApiError::from_sigv4(&e, true))));
    }
    if field("awsaccesskeyid").is_some() || field("signature").is_some() {
        return Some(Err(refuse(ApiError::sender(
            400,
            "InvalidRequest",
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
        ))));
    }
    None
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
    labels: &mut crate::observe::RequestLabels,
) -> Result<Reply, ApiError> {
    let header_refs: Vec<(&str, &str)> =
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let target = header_refs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-target"))
        .map(|(_, v)| v.to_string());
    let json = target.is_some();
    let onboarding = target
        .as_deref()
        .is_some_and(|t| t.starts_with(crate::services::onboarding::TARGET_PREFIX));
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
    // A browser upload form (S3's POST object) carries its signature in its fields.
    let auth =
        match s3.then(|| post_form_signature(method, query_text, &header_refs, body)).flatten() {
            Some(Ok(post)) => authenticate::authenticate_post(state, &post, now),
            Some(Err(failure)) => Err(failure),
            None => authenticate(state, &signed, payload_given, now),
        };
    let (caller, service, payload, reads) = match auth {
        Ok(found) => {
            facts.region = found.region;
            facts.access_key_id = Some(found.access_key_id);
            facts.access_key_created_ms = found.access_key_created_ms;
            (found.caller, found.service, found.payload, found.reads)
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
                None,
            )
        }
        // A tenant redeeming its invitation has no credential yet: the code is its proof.
        Err(failure)
            if onboarding
                && failure.0.code == "MissingAuthenticationToken"
                && failure.2.is_none() =>
        {
            (
                crate::pipeline::identity::Caller::anonymous(),
                "hermetic".to_string(),
                sigv4::PayloadMode::Unsigned,
                None,
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

    let query_params = query::parse_form(query_text);
    let request = service::Request {
        method,
        path,
        headers: &header_refs,
        target: target.as_deref(),
        params: params.clone(),
        query_params,
        body,
        payload,
        stream: std::cell::RefCell::new(stream),
    };
    // One pipeline for every service: each only routes, names its checks and executes.
    dispatch(state, &service, &caller, &request, facts, reads, pending, None, labels)
}

/// Serves `request` with the service whose signing name is `service`, for `caller`, through
/// [`run::serve_with`] (`also` committed with its change; `labels` get its service and
/// operation): the one table of services, for requests that arrive and for held ones run after
/// their approval.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dispatch(
    state: &State,
    service: &str,
    caller: &identity::Caller,
    request: &service::Request<'_>,
    facts: events::RequestFacts,
    reads: Option<Box<dyn store::ReadTx + '_>>,
    pending: &mut Vec<(String, audit::event::EventRecord)>,
    also: Option<run::Also<'_>>,
    labels: &mut crate::observe::RequestLabels,
) -> Result<Reply, ApiError> {
    let target = request.target;
    let onboarding =
        target.is_some_and(|t| t.starts_with(crate::services::onboarding::TARGET_PREFIX));
    match (service, target.is_some()) {
        ("hermetic", true) if onboarding => run::serve_with::<Onboarding>(
            state, caller, request, facts, reads, pending, also, labels,
        ),
        ("s3", _) => {
            run::serve_with::<S3>(state, caller, request, facts, reads, pending, also, labels)
        }
        ("kms", true) => {
            run::serve_with::<Kms>(state, caller, request, facts, reads, pending, also, labels)
        }
        ("iam", false) => {
            run::serve_with::<Iam>(state, caller, request, facts, reads, pending, also, labels)
        }
        ("sts", false) => {
            run::serve_with::<Sts>(state, caller, request, facts, reads, pending, also, labels)
        }
        ("hermetic", true) => {
            run::serve_with::<Operator>(state, caller, request, facts, reads, pending, also, labels)
        }
        ("cloudtrail", true) => run::serve_with::<CloudTrail>(
            state, caller, request, facts, reads, pending, also, labels,
        ),
        ("access-analyzer", false) => run::serve_with::<AccessAnalyzer>(
            state, caller, request, facts, reads, pending, also, labels,
        ),
        ("mpa", false) => {
            run::serve_with::<Mpa>(state, caller, request, facts, reads, pending, also, labels)
        }
        (other, _) => {
            let e = ApiError::sender(
                400,
                "UnknownService",
                format!("the service `{other}` is not served here yet"),
            );
            run::refuse(caller, &facts, e, pending)
        }
    }
}

fn operation_name(target: &Option<String>, params: &[(String, String)]) -> String {
    match target {
        Some(t) => t.rsplit('.').next().unwrap_or(t).to_string(),
        None => query::param(params, "Action").unwrap_or("Unknown").to_string(),
    }
}
