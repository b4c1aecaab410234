//! STS operations that issue temporary credentials: `AssumeRole` (trust policy, session
//! policies, session tags with transitive keys, external id, source identity, MFA) and
//! `GetSessionToken` (MFA), and reading a session back when its credentials sign a request.

use super::{AssumeRole, GetSessionToken};
use crate::error::ApiError;
use crate::pipeline::events;
use crate::pipeline::identity::Session;
use crate::pipeline::service::{Check, Ctx, Effect};
use crate::pipeline::State;
use crate::protocol::query;
use crate::protocol::xml;
use crate::services::sts;
use crate::support::ids;
use serde_json::{json, Value};

/// Most session tags one `AssumeRole` may pass (AWS's limit).
pub const MAX_SESSION_TAGS: usize = 50;
/// Most managed session policies (`PolicyArns`).
pub const MAX_POLICY_ARNS: usize = 10;

fn validation(message: impl Into<String>) -> ApiError {
    ApiError::sender(400, "ValidationError", message)
}

fn check_session_text(value: &str, what: &str) -> Result<(), ApiError> {
    let ok = (2..=64).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(validation(format!("{what} must be 2 to 64 characters of [\\w+=,.@-]")))
    }
}

/// Reads the session behind temporary credentials from its record.
pub(crate) fn session_of(body: &Value) -> Session {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let policies = body
        .get("SessionPolicies")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some((p.get(0)?.as_str()?.to_string(), p.get(1)?.as_str()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let role = match (text("RoleArn"), text("RoleId")) {
        (Some(arn), Some(id)) => Some((arn, id)),
        _ => None,
    };
    Session {
        issued_ms: body.get("IssuedMs").and_then(Value::as_i64).unwrap_or(0),
        mfa_ms: body.get("MfaMs").and_then(Value::as_i64),
        policies,
        tags: crate::services::iam::tags::of(body),
        transitive_keys: body
            .get("TransitiveTagKeys")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
        source_identity: text("SourceIdentity"),
        approved_access: text("ApprovalSession"),
        origin: text("Origin"),
        origin_key_ms: body.get("OriginKeyCreatedMs").and_then(Value::as_i64),
        role,
    }
}

/// Checks `SerialNumber` + `TokenCode` when given: the device must be the calling user's and
/// the code current. Returns the device and the code's time step, consumed when the session is
/// issued so that a code works once. Reads through [`Ctx::read`]: in the request's snapshot
/// while authorizing, in a short transaction of its own once that has ended.
fn mfa_of(
    ctx: &Ctx<'_>,
    (serial, code): (Option<&str>, Option<&str>),
    now_ms: i64,
) -> Result<Option<(String, u64)>, ApiError> {
    let (state, caller) = (ctx.state, ctx.caller);
    let Some(serial) = serial else {
        return match code {
            Some(_) => Err(validation("TokenCode requires SerialNumber")),
            None => Ok(None),
        };
    };
    let code = code.ok_or_else(|| validation("SerialNumber requires TokenCode"))?;
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(validation("TokenCode must be 6 digits"));
    }
    let user = crate::services::iam::caller_user_name(caller).filter(|_| caller.session.is_none());
    let step = ctx.read(|tx| {
        crate::services::iam::mfa::check_code(
            tx,
            &state.root,
            &caller.account,
            serial,
            user.as_deref(),
            code,
            now_ms,
        )
    })?;
    Ok(Some((serial.to_string(), step)))
}

/// What `AssumeRole` found and checked before it is authorized, for [`assume_role`] to issue.
pub(crate) struct Prepared {
    role: crate::records::Stored<crate::records::iam::Role>,
    role_account: String,
    role_name: String,
    session_name: String,
    duration: i64,
    session_policies: Vec<(String, String)>,
    tags: Vec<(String, String)>,
    transitive: Vec<String>,
    source_identity: Option<String>,
    mfa: Option<(String, u64)>,
    /// CloudTrail's request parameters.
    pub parameters: Value,
}

/// The account and name of a role ARN (`arn:aws:iam::ACCOUNT:role/PATH/NAME`).
pub(crate) fn role_of(role_arn: &str) -> Option<(&str, &str)> {
    let mut parts = role_arn.splitn(6, ':');
    let (account, resource) = (parts.nth(4)?, parts.next()?);
    let name = resource.strip_prefix("role/").and_then(|r| r.rsplit('/').next())?;
    Some((account, name))
}

/// `sts:AssumeRole`, first half: the role (one that does not exist is refused like one that
/// does not trust the caller), the session's policies, tags, source identity and MFA, and the
/// checks: the caller's identity policies and the role's trust policy must allow
/// `sts:AssumeRole` (and `sts:TagSession` / `sts:SetSourceIdentity` when it passes tags or a
/// source identity). Every read goes through [`Ctx::read`], in the request's snapshot (STS
/// [`crate::pipeline::service::Service::SHARES_READS`]), and none opens a transaction of its
/// own.
pub(crate) fn prepare_assume_role(
    ctx: &Ctx<'_>,
    input: &AssumeRole,
) -> Result<(Prepared, Vec<Check>), ApiError> {
    let caller = ctx.caller;
    let role_arn = input.role_arn.as_str();
    let session_name = input.role_session_name.as_str();
    check_session_text(session_name, "RoleSessionName")?;
    let denied = || {
        ApiError::sender(
            403,
            "AccessDenied",
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                caller.arn
            ),
        )
    };
    let (account, role_name) = role_of(role_arn).ok_or_else(denied)?;
    // A role that does not exist is refused like one that does not trust the caller; a fault
    // (a role row that failed its integrity check) stays what it is.
    let role = ctx
        .read(|tx| crate::services::iam::roles::get_role(tx, account, role_name))
        .map_err(|e| if e.sender_fault { denied() } else { e })?;
    let max = role.body.max_session_duration;
    // A chained session (a role session assuming a role) lasts at most an hour.
    let ceiling =
        if caller.session.as_ref().is_some_and(|s| s.role.is_some()) { 3600 } else { max };
    let duration = match input.duration_seconds {
        Some(d) => Some(d).filter(|d| (900..=ceiling).contains(d)).ok_or_else(|| {
            validation(format!("The requested DurationSeconds exceeds the MaxSessionDuration set for this role ({ceiling})."))
        })?,
        None => 3600.min(ceiling),
    };

    // Session policies: an inline one and up to ten managed ones, packed into the session.
    let mut session_policies: Vec<(String, String)> = Vec::new();
    if let Some(p) = input.policy.as_deref() {
        let findings = policy::validate::validate(p, policy::validate::PolicyKind::Identity);
        if let Some(err) = findings.iter().find(|f| f.severity == policy::validate::Severity::Error)
        {
            return Err(ApiError::sender(400, "MalformedPolicyDocument", err.message.clone()));
        }
        if p.chars().filter(|c| !c.is_whitespace()).count() > 2048 {
            return Err(ApiError::sender(
                400,
                "PackedPolicyTooLarge",
                "The session policy is larger than 2048 characters.",
            ));
        }
        session_policies.push(("session policy".into(), p.to_string()));
    }
    let policy_arns: Vec<String> = input.policy_arns.iter().filter_map(|p| p.arn.clone()).collect();
    if policy_arns.len() > MAX_POLICY_ARNS {
        return Err(validation(format!("at most {MAX_POLICY_ARNS} PolicyArns are allowed")));
    }
    if !policy_arns.is_empty() {
        let docs = ctx.read(|tx| {
            let mut docs = Vec::with_capacity(policy_arns.len());
            for arn in &policy_arns {
                let doc = crate::services::iam::managed::default_document(tx, account, arn)
                    .map_err(|_| {
                        validation(format!("Policy {arn} does not exist or is not attachable."))
                    })?;
                docs.push(doc);
            }
            Ok(docs)
        })?;
        for (arn, doc) in policy_arns.iter().zip(docs) {
            session_policies.push((format!("session policy {arn}"), doc));
        }
    }

    // Session tags: the request's, plus the caller's transitive ones, which cannot be replaced.
    let request_tags: Vec<(String, String)> =
        input.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
    if request_tags.len() > MAX_SESSION_TAGS {
        return Err(validation(format!("at most {MAX_SESSION_TAGS} session tags are allowed")));
    }
    let mut seen: Vec<String> = Vec::new();
    for (k, _) in &request_tags {
        if seen.contains(&k.to_lowercase()) {
            return Err(ApiError::sender(
                400,
                "InvalidParameterValue",
                format!("Duplicate tag keys found: {k}"),
            ));
        }
        seen.push(k.to_lowercase());
    }
    let transitive_request = input.transitive_tag_keys.clone();
    for key in &transitive_request {
        if !seen.contains(&key.to_lowercase()) {
            return Err(ApiError::sender(
                400,
                "InvalidParameterValue",
                format!("The transitive tag key {key} is not one of the session tags."),
            ));
        }
    }
    let mut tags = request_tags.clone();
    let mut transitive = transitive_request.clone();
    if let Some(s) = &caller.session {
        for key in &s.transitive_keys {
            if seen.contains(&key.to_lowercase()) {
                return Err(ApiError::sender(
                    400,
                    "InvalidParameterValue",
                    format!("The transitive session tag {key} cannot be changed."),
                ));
            }
            if let Some((k, v)) = s.tags.iter().find(|(k, _)| k == key) {
                tags.push((k.clone(), v.clone()));
                transitive.push(k.clone());
            }
        }
    }

    // Source identity: set once, carried through every chained session.
    let requested_source = input.source_identity.as_deref();
    if let Some(si) = requested_source {
        check_session_text(si, "SourceIdentity")?;
        if si.to_ascii_lowercase().starts_with("aws:") {
            return Err(validation("SourceIdentity cannot start with the prefix aws:"));
        }
    }
    let inherited_source = caller.session.as_ref().and_then(|s| s.source_identity.clone());
    if let (Some(old), Some(new)) = (&inherited_source, requested_source) {
        if old != new {
            return Err(ApiError::sender(
                403,
                "AccessDenied",
                "The source identity of a session cannot be changed.",
            ));
        }
    }
    let source_identity = inherited_source.or(requested_source.map(str::to_string));

    let mfa =
        mfa_of(ctx, (input.serial_number.as_deref(), input.token_code.as_deref()), ctx.now())?;
    let mut context = vec![("sts:RoleSessionName".to_string(), session_name.to_string())];
    if let Some(e) = input.external_id.as_deref() {
        if !(2..=1224).contains(&e.len()) {
            return Err(validation("ExternalId must be 2 to 1224 characters"));
        }
        context.push(("sts:ExternalId".to_string(), e.to_string()));
    }
    if mfa.is_some() {
        context.push(("aws:MultiFactorAuthPresent".into(), "true".into()));
        context.push(("aws:MultiFactorAuthAge".into(), "0".into()));
    }
    if let Some(si) = requested_source {
        context.push(("sts:SourceIdentity".into(), si.to_string()));
    }
    let mut multi = Vec::new();
    for (k, v) in &request_tags {
        context.push((format!("aws:RequestTag/{k}"), v.clone()));
    }
    if !request_tags.is_empty() {
        multi.push((
            "aws:TagKeys".to_string(),
            request_tags.iter().map(|(k, _)| k.clone()).collect(),
        ));
    }
    if !transitive_request.is_empty() {
        multi.push(("sts:TransitiveTagKeys".to_string(), transitive_request.clone()));
    }
    let mut actions = vec!["sts:AssumeRole"];
    if !request_tags.is_empty() {
        actions.push("sts:TagSession");
    }
    if requested_source.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    let checks = actions
        .iter()
        .map(|action| Check {
            owner: Some(account.to_string()),
            resource_policy: Some(role.body.assume_role_policy_document.clone()),
            context: context.clone(),
            multi: multi.clone(),
            ..Check::new(*action, role.body.arn.clone())
        })
        .collect();
    let parameters = json!({
        "roleArn": role_arn, "roleSessionName": session_name, "durationSeconds": duration,
        "serialNumber": mfa.as_ref().map(|(s, _)| s.clone()),
        "sourceIdentity": requested_source,
        "tags": request_tags.iter().map(|(k, v)| json!({ "key": k, "value": v })).collect::<Vec<_>>(),
        "transitiveTagKeys": transitive_request,
        "policyArns": policy_arns.iter().map(|a| json!({ "arn": a })).collect::<Vec<_>>(),
    });
    let prepared = Prepared {
        role_account: account.to_string(),
        role_name: role_name.to_string(),
        role,
        session_name: session_name.to_string(),
        duration,
        session_policies,
        tags,
        transitive,
        source_identity,
        mfa,
        parameters,
    };
    Ok((prepared, checks))
}

/// `sts:AssumeRole`, second half, once authorized: the session's credentials and record, in
/// the transaction its events commit with (the role's account's log and the caller's).
pub(crate) fn assume_role<'s>(
    ctx: &Ctx<'s>,
    p: Prepared,
    effect: &mut Effect<'s>,
) -> Result<String, ApiError> {
    let (state, caller, facts) = (ctx.state, ctx.caller, ctx.facts);
    let (role_name, session_name) = (&p.role_name, &p.session_name);
    let assumed_arn =
        format!("arn:aws:sts::{}:assumed-role/{role_name}/{session_name}", p.role_account);
    let role_id = p.role.body.role_id.clone();
    let mfa_ms = match &p.mfa {
        Some(_) => Some(facts.time_ms),
        None => caller.session.as_ref().and_then(|s| s.mfa_ms),
    };
    let (mut tx, issued) = issue_session(
        state,
        &p.role_account,
        json!({
            "Kind": "role",
            "RoleName": role_name, "RoleArn": p.role.body.arn, "RoleId": role_id,
            "SessionName": session_name, "Arn": assumed_arn,
            "UserId": format!("{role_id}:{session_name}"),
            "SessionPolicies": p.session_policies.iter().map(|(n, d)| json!([n, d])).collect::<Vec<_>>(),
            "Tags": p.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect::<Vec<_>>(),
            "TransitiveTagKeys": p.transitive,
            "SourceIdentity": p.source_identity,
            "MfaMs": mfa_ms,
            "Origin": crate::services::mpa::origin_of(caller),
        }),
        p.duration,
        facts,
    )?;
    if let Some((serial, step)) = &p.mfa {
        crate::services::iam::mfa::consume(
            tx.as_mut(),
            &caller.account,
            serial,
            *step,
            facts.time_ms,
        )?;
    }
    effect.tx = Some(tx);
    ctx.touch(&p.role_account);
    let packed_size = packed_percent(&p.session_policies, &p.tags);
    effect.response = Some(json!({
        "assumedRoleUser": { "arn": assumed_arn, "assumedRoleId": format!("{role_id}:{session_name}") },
        "credentials": { "accessKeyId": issued.key_id, "expiration": issued.expiration },
        "packedPolicySize": packed_size,
        "sourceIdentity": p.source_identity,
    }));
    let packed = !(p.session_policies.is_empty() && p.tags.is_empty());
    let result = xml::build(|w| {
        issued.credentials_xml(w);
        w.elem("AssumedRoleUser", |w| {
            w.text("AssumedRoleId", &format!("{role_id}:{session_name}")).text("Arn", &assumed_arn);
        });
        if packed {
            w.value("PackedPolicySize", packed_size);
        }
        w.opt("SourceIdentity", p.source_identity.as_deref());
    });
    Ok(query::response("AssumeRole", sts::NAMESPACE, &result, &facts.request_id))
}

/// How full the packed session data is, as a percentage of what a session may carry (AWS's
/// `PackedPolicySize`): session policies against 2,048 characters each and tags against the
/// tag limit, whichever is fuller.
fn packed_percent(policies: &[(String, String)], tags: &[(String, String)]) -> i64 {
    let chars: usize =
        policies.iter().map(|(_, d)| d.chars().filter(|c| !c.is_whitespace()).count()).sum();
    let by_policy = chars * 100 / (2048 * (policies.len().max(1)));
    let by_tags = tags.len() * 100 / MAX_SESSION_TAGS;
    i64::try_from(by_policy.max(by_tags)).unwrap_or(100)
}

/// Temporary credentials just created, inside the transaction that records them.
pub(crate) struct Issued {
    pub key_id: String,
    pub secret: String,
    pub token: String,
    pub expiration: String,
}

impl Issued {
    /// The `<Credentials>` element STS answers with.
    fn credentials_xml(&self, w: &mut xml::Writer) {
        w.elem("Credentials", |w| {
            w.text("AccessKeyId", &self.key_id)
                .text("SecretAccessKey", &self.secret)
                .text("SessionToken", &self.token)
                .text("Expiration", &self.expiration);
        });
    }
}

/// Creates temporary credentials in `account`: an `ASIA` key whose secret is wrapped by the root
/// key, and a session record (`session` fields plus expiry and the token's SHA-256), in a
/// transaction the caller finishes with its audit events.
pub(crate) fn issue_session<'s>(
    state: &'s State,
    account: &str,
    session: serde_json::Value,
    duration_secs: i64,
    facts: &events::RequestFacts,
) -> Result<(Box<dyn store::Tx + 's>, Issued), ApiError> {
    let token =
        ids::random_text(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 160);
    let expires_ms = facts.time_ms + duration_secs * 1000;
    let mut tx = state.store.begin()?;
    let (key_id, secret) = crate::pipeline::identity::issue_access_key(
        tx.as_mut(),
        state.root.as_ref(),
        account,
        crate::pipeline::identity::KeyOwner::Session,
        facts.time_ms,
    )?;
    let mut body = session;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("ExpirationMs".into(), expires_ms.into());
        obj.insert("IssuedMs".into(), facts.time_ms.into());
        obj.insert(
            "TokenSha256".into(),
            sigv4::encode::hex(&sigv4::key::sha256(token.as_bytes())).into(),
        );
    }
    tx.put_record(
        &store::Record {
            mac: Vec::new(),
            account: account.to_string(),
            kind: "session".into(),
            key: key_id.clone(),
            format_version: 1,
            body,
            updated_at_ms: facts.time_ms,
        },
        store::PutMode::Create,
    )?;
    let expiration =
        audit::event::EventTime::from_unix_millis(u64::try_from(expires_ms).unwrap_or(0))
            .map(|t| t.to_string())
            .unwrap_or_default();
    let secret = String::from_utf8_lossy(secret.expose()).into_owned();
    Ok((tx, Issued { key_id, secret, token, expiration }))
}

/// `sts:GetSessionToken`: temporary credentials with exactly the calling user's permissions,
/// MFA-authenticated when `SerialNumber` and `TokenCode` are given.
pub(crate) fn get_session_token<'s>(
    ctx: &Ctx<'s>,
    input: &GetSessionToken,
    effect: &mut Effect<'s>,
) -> Result<String, ApiError> {
    let (state, caller, facts) = (ctx.state, ctx.caller, ctx.facts);
    if caller.temporary() {
        return Err(ApiError::sender(
            403,
            "AccessDenied",
            "Cannot call GetSessionToken with session credentials",
        ));
    }
    let is_root = caller.arn.ends_with(":root");
    let max = if is_root { 3600 } else { 129_600 };
    let duration = match input.duration_seconds {
        Some(d) => Some(d)
            .filter(|d| (900..=max).contains(d))
            .ok_or_else(|| validation(format!("DurationSeconds must be between 900 and {max}")))?,
        None => 43_200.min(max),
    };
    // When the long-term key asking was made (an approver's answer needs credentials older
    // than the session it answers).
    let origin_key_ms = facts.access_key_created_ms;
    let mfa =
        mfa_of(ctx, (input.serial_number.as_deref(), input.token_code.as_deref()), facts.time_ms)?;
    // Like AWS, GetSessionToken needs no permission: the credentials carry exactly the caller's.
    let (mut tx, issued) = issue_session(
        state,
        &caller.account,
        json!({
            "Kind": "user", "Arn": caller.arn, "UserId": caller.user_id,
            "MfaMs": mfa.as_ref().map(|_| facts.time_ms),
            "Origin": crate::services::mpa::origin_of(caller),
            "OriginKeyCreatedMs": origin_key_ms,
        }),
        duration,
        facts,
    )?;
    if let Some((serial, step)) = &mfa {
        crate::services::iam::mfa::consume(
            tx.as_mut(),
            &caller.account,
            serial,
            *step,
            facts.time_ms,
        )?;
    }
    effect.tx = Some(tx);
    effect.param("durationSeconds", json!(duration));
    effect.param("serialNumber", json!(mfa.as_ref().map(|(s, _)| s.clone())));
    effect.response = Some(json!({
        "credentials": { "accessKeyId": issued.key_id, "expiration": issued.expiration }
    }));
    let result = xml::build(|w| issued.credentials_xml(w));
    Ok(query::response("GetSessionToken", sts::NAMESPACE, &result, &facts.request_id))
}
