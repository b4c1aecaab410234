//! Building the CloudTrail event every request yields, and appending it to the affected
//! account's log. Fail closed: if the event cannot be appended, the request fails.

use crate::error::ApiError;
use crate::pipeline::identity::Caller;
use audit::event::{
    EventCategory, EventRecord, EventTime, EventType, IdentityType, Redacted, SessionAttributes,
    SessionContext, SessionIssuer, TlsDetails, UserIdentity,
};
use serde_json::Value;

/// What the pipeline knows about a request when it records it.
#[derive(Clone, Debug, Default)]
pub struct RequestFacts {
    /// The request id.
    pub request_id: String,
    /// `iam.amazonaws.com`, `sts.amazonaws.com`, ...
    pub event_source: String,
    /// The action (`GetCallerIdentity`).
    pub event_name: String,
    /// The signed region.
    pub region: String,
    /// The client's address.
    pub source_ip: String,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// The access key the request was signed with.
    pub access_key_id: Option<String>,
    /// When that key was made (ms), as authentication found it.
    pub access_key_created_ms: Option<i64>,
    /// Whether the action only reads.
    pub read_only: bool,
    /// Time of the request, ms since the epoch.
    pub time_ms: i64,
    /// Whether the request came over TLS.
    pub secure: bool,
    /// For TLS: (version, cipher suite, Host header), CloudTrail's `tlsDetails`.
    pub tls: Option<(String, String, String)>,
    /// Whether the request was signed in its query string (a presigned URL).
    pub presigned: bool,
    /// How old the signature was when the request arrived, in milliseconds.
    pub signature_age_ms: Option<i64>,
    /// For a request a service makes on a resource's behalf (CloudTrail delivering a trail's
    /// files): the resource and its account, `aws:SourceArn` and `aws:SourceAccount`.
    pub source: Option<(String, String)>,
    /// For a protected operation run once its approval session was approved (issue 18): the
    /// session's ARN. The run is not held for approval again, and its event names the session.
    pub approval: Option<String>,
}

fn identity(caller: Option<&Caller>, access_key_id: Option<&str>) -> UserIdentity {
    let session = caller.and_then(|c| c.session.as_ref());
    if caller.is_some_and(Caller::is_anonymous) {
        return UserIdentity {
            identity_type: IdentityType::AwsAccount,
            principal_id: Some(String::new()),
            arn: None,
            account_id: Some("ANONYMOUS_PRINCIPAL".into()),
            access_key_id: None,
            user_name: None,
            session_context: None,
            invoked_by: None,
        };
    }
    // A service principal acting on its own (CloudTrail writing a trail's files).
    if let Some(service) = caller.map(|c| c.arn.as_str()).filter(|a| is_service_principal(a)) {
        return UserIdentity {
            identity_type: IdentityType::AwsService,
            principal_id: None,
            arn: None,
            account_id: None,
            access_key_id: None,
            user_name: None,
            session_context: None,
            invoked_by: Some(service.to_string()),
        };
    }
    let kind = match (caller, session) {
        (None, _) => IdentityType::Unknown,
        (Some(_), Some(s)) if s.role.is_some() => IdentityType::AssumedRole,
        (Some(c), _) if c.arn.ends_with(":root") => IdentityType::Root,
        (Some(_), _) => IdentityType::IamUser,
    };
    let session_context = session.map(|s| SessionContext {
        session_issuer: s.role.as_ref().map(|(arn, id)| SessionIssuer {
            issuer_type: Some("Role".into()),
            principal_id: Some(id.clone()),
            arn: Some(arn.clone()),
            account_id: caller.map(|c| c.account.clone()),
            user_name: arn.rsplit('/').next().map(str::to_string),
        }),
        web_id_federation_data: None,
        attributes: EventTime::from_unix_millis(u64::try_from(s.issued_ms).unwrap_or(0)).ok().map(
            |creation_date| SessionAttributes {
                creation_date,
                mfa_authenticated: s.mfa_ms.is_some(),
            },
        ),
        source_identity: s.source_identity.clone(),
    });
    UserIdentity {
        identity_type: kind,
        principal_id: caller.map(|c| c.user_id.clone()),
        arn: caller.map(|c| c.arn.clone()),
        account_id: caller.map(|c| c.account.clone()),
        access_key_id: access_key_id.map(str::to_string),
        user_name: caller.and_then(crate::services::iam::caller_user_name),
        session_context,
        invoked_by: None,
    }
}

/// The approval session a request acts under, which its event names: the one that approved
/// a protected operation's run, or the one behind an operator's approved access.
fn approval_session<'a>(facts: &'a RequestFacts, caller: Option<&'a Caller>) -> Option<&'a str> {
    facts.approval.as_deref().or_else(|| {
        caller.and_then(|c| c.session.as_ref()).and_then(|s| s.approved_access.as_deref())
    })
}

/// Whether `arn` names an AWS service principal (`cloudtrail.amazonaws.com`), not an ARN.
pub fn is_service_principal(arn: &str) -> bool {
    !arn.starts_with("arn:") && arn.ends_with(".amazonaws.com")
}

/// The event of one request; `error` is the AWS error it ended with, if any.
pub fn event(
    facts: &RequestFacts,
    caller: Option<&Caller>,
    recipient_account: &str,
    request_parameters: Option<Value>,
    response_elements: Option<Value>,
    error: Option<&ApiError>,
) -> Result<EventRecord, ApiError> {
    let secs = u64::try_from(facts.time_ms / 1000).unwrap_or(0);
    let event_time = EventTime::from_unix_seconds(secs)
        .map_err(|_| ApiError::unavailable("the audit event time is out of range"))?;
    Ok(EventRecord {
        event_version: "1.11".into(),
        user_identity: identity(caller, facts.access_key_id.as_deref()),
        event_time,
        event_source: facts.event_source.clone(),
        event_name: facts.event_name.clone(),
        aws_region: facts.region.clone(),
        source_ip_address: facts.source_ip.clone(),
        user_agent: facts.user_agent.clone(),
        error_code: error.map(|e| e.code.clone()),
        error_message: error.map(|e| e.message.clone()),
        request_parameters: request_parameters.map(Redacted::new),
        response_elements: response_elements.map(Redacted::new),
        additional_event_data: approval_session(facts, caller)
            .map(|arn| Redacted::new(serde_json::json!({ "approvalSession": arn }))),
        request_id: Some(facts.request_id.clone()),
        event_id: crate::support::ids::uuid(),
        read_only: Some(facts.read_only),
        resources: None,
        event_type: EventType::AwsApiCall,
        api_version: None,
        management_event: true,
        recipient_account_id: recipient_account.to_string(),
        shared_event_id: None,
        vpc_endpoint_id: None,
        event_category: EventCategory::Management,
        tls_details: facts.tls.as_ref().map(|(version, suite, host)| TlsDetails {
            tls_version: version.clone(),
            cipher_suite: suite.clone(),
            client_provided_host_header: host.clone(),
        }),
    })
}

/// `event` as `account`'s log keeps it: addressed to the account, its request parameters and
/// response elements sealed under the account's key (bound to the account, the event's id and
/// which of the two it is), so that reading the database shows neither; the Merkle leaf is
/// computed over this sealed form, so the log's integrity is checked without opening them.
///
/// # Errors
/// `ServiceUnavailable` if the account's key cannot be had (the request then fails).
pub fn for_account(
    state: &crate::pipeline::State,
    tx: Option<&mut dyn store::Tx>,
    event: &EventRecord,
    account: &str,
) -> Result<EventRecord, ApiError> {
    let mut e = event.clone();
    e.recipient_account_id = account.to_string();
    if e.request_parameters.is_none() && e.response_elements.is_none() {
        return Ok(e);
    }
    // Read through the caller's transaction when it holds one (no second connection).
    let key = match tx {
        Some(tx) => state.account_keys.get(tx, &state.root, account)?,
        None => state.account_keys.of(state.store.as_ref(), &state.root, account)?,
    };
    for (slot, which) in
        [(&mut e.request_parameters, "request"), (&mut e.response_elements, "response")]
    {
        if let Some(value) = slot.take() {
            let context = parameters_context(account, &event.event_id, which);
            let sealed =
                crate::support::account_keys::seal_value(&key, &context, value.as_value())?;
            *slot = Some(Redacted::new(sealed));
        }
    }
    Ok(e)
}

fn parameters_context(account: &str, event_id: &str, which: &str) -> String {
    format!("hermetic:audit-parameters/v1\0{account}\0{event_id}\0{which}")
}

/// Opens what [`for_account`] sealed, for the account's own reading (`LookupEvents`).
///
/// # Errors
/// As [`crate::support::account_keys::open_value`].
pub fn opened(
    state: &crate::pipeline::State,
    tx: &mut dyn store::ReadTx,
    event: &mut EventRecord,
    account: &str,
) -> Result<(), ApiError> {
    open_parameters(&state.account_keys, &state.root, tx, event, account)
}

/// [`opened`] with the keys and root of trust given (for tools and tests that hold the
/// server's root of trust).
///
/// # Errors
/// As [`opened`].
pub fn open_parameters(
    keys: &crate::support::account_keys::AccountKeys,
    root: &dyn crypto::RootOfTrust,
    tx: &mut dyn store::ReadTx,
    event: &mut EventRecord,
    account: &str,
) -> Result<(), ApiError> {
    if event.request_parameters.is_none() && event.response_elements.is_none() {
        return Ok(());
    }
    let key = keys.get(tx, root, account)?;
    let id = event.event_id.clone();
    for (slot, which) in
        [(&mut event.request_parameters, "request"), (&mut event.response_elements, "response")]
    {
        if let Some(value) = slot.take() {
            let context = parameters_context(account, &id, which);
            let open = crate::support::account_keys::open_value(&key, &context, value.as_value())?;
            *slot = Some(Redacted::new(open));
        }
    }
    Ok(())
}

/// Appends `event` to `account`'s log inside `tx`, locking the log's head until `tx` ends. A
/// transaction that appends to several logs does so in account order, as every other one
/// does, so that two of them never hold each other's heads (on PostgreSQL that was a deadlock:
/// a cross-account S3 request locked caller then owner, AssumeRole role account then caller,
/// and the group commit arrival order).
pub fn append(tx: &mut dyn store::Tx, account: &str, event: &EventRecord) -> Result<u64, ApiError> {
    let bytes = event
        .canonical_bytes()
        .map_err(|_| ApiError::unavailable("the audit event could not be encoded"))?;
    let leaf = audit::merkle::leaf_hash(&bytes);
    tx.append_event(account, &bytes, &leaf).map_err(|e| match e {
        e @ store::StoreError::Forged { .. } => ApiError::from(e),
        _ => ApiError::unavailable("the audit log could not be written"),
    })
}
