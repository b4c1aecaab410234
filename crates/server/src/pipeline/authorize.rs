//! Authorization: one decision per request with `policy::evaluate`, over the caller's identity
//! policies, boundary and session policy and the resource's policy, after the operator guardrail.

use crate::error::ApiError;
use crate::pipeline::events;
use crate::pipeline::identity::{Caller, OPERATOR_ACCOUNT};
use crate::pipeline::service::{Check, Ctx};
use crate::pipeline::State;
use crate::records::iam::{Group, InstanceProfile, Role, Tag, User};
use crate::records::Stored;
use crate::services::iam;

/// Condition keys a service adds to a check: single-valued and multivalued.
pub(crate) type Keys = (Vec<(String, String)>, Vec<(String, Vec<String>)>);

/// The tag condition keys of an IAM request: `aws:RequestTag/*` and `aws:TagKeys` from the
/// request, `aws:ResourceTag/*` from the user or role it acts on.
pub(crate) fn iam_tag_context(
    ctx: &Ctx<'_>,
    input: &crate::services::iam::input::Input,
    resource: &str,
) -> Result<Keys, ApiError> {
    let caller = ctx.caller;
    let (mut context, mut multi) = (Vec::new(), Vec::new());
    let tags = crate::services::iam::tags::request_tags(input)?;
    let mut keys: Vec<String> = tags.iter().map(|(k, _)| k.clone()).collect();
    keys.extend(crate::services::iam::tags::request_tag_keys(input));
    for (k, v) in &tags {
        context.push((format!("aws:RequestTag/{k}"), v.clone()));
    }
    if !keys.is_empty() {
        multi.push(("aws:TagKeys".into(), keys));
    }
    let prefix = format!("arn:aws:iam::{}:", caller.account);
    if let Some(rest) = resource.strip_prefix(&prefix) {
        let target = ["user/", "role/", "instance-profile/", "policy/"]
            .into_iter()
            .find_map(|kind| rest.strip_prefix(kind).map(|r| (kind, r)));
        if let Some((kind, path_and_name)) = target {
            let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
            let account = caller.account.as_str();
            let tags = ctx.read(|tx| {
                Ok(match kind {
                    "user/" => Stored::<User>::get(tx, account, name)?.map(|u| u.body.tags),
                    "role/" => Stored::<Role>::get(tx, account, name)?.map(|r| r.body.tags),
                    "instance-profile/" => {
                        Stored::<InstanceProfile>::get(tx, account, name)?.map(|p| p.body.tags)
                    }
                    _ => tx.get_record(account, "policy", name)?.map(|p| {
                        crate::services::iam::tags::of(&p.body)
                            .into_iter()
                            .map(|(key, value)| Tag { key, value })
                            .collect()
                    }),
                })
            })?;
            for t in tags.unwrap_or_default() {
                context.push((format!("aws:ResourceTag/{}", t.key), t.value));
            }
        }
    }
    Ok((context, multi))
}

pub(crate) fn parse_stored(
    name: &str,
    document: &str,
) -> Result<(String, policy::Policy), ApiError> {
    // A stored policy that no longer parses could hide a Deny: refuse rather than skip it.
    policy::parse_policy(document)
        .map(|p| (name.to_string(), p))
        .map_err(|_| ApiError::unavailable("a stored policy could not be read"))
}

/// The policies an IAM identity (user, role or group) is evaluated against.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// Identity policies as (name, document): inline and attached, the user's groups' too.
    pub identity: Vec<(String, String)>,
    /// The permissions boundary as (ARN, default version's document).
    pub boundary: Option<(String, String)>,
    /// The entity's tags (`aws:PrincipalTag/*`).
    pub tags: Vec<(String, String)>,
}

/// Loads an identity's policies, boundary and tags; one that does not exist has none.
pub(crate) fn load_entity(
    tx: &mut dyn store::ReadTx,
    account: &str,
    kind: &str,
    name: &str,
) -> Result<Loaded, ApiError> {
    // The entity's boundary and tags; a group has neither.
    let (boundary, tags) = match kind {
        "user" => match Stored::<User>::get(tx, account, name)? {
            Some(u) => (u.body.permissions_boundary_arn, u.body.tags),
            None => return Ok(Loaded::default()),
        },
        "role" => match Stored::<Role>::get(tx, account, name)? {
            Some(r) => (r.body.permissions_boundary_arn, r.body.tags),
            None => return Ok(Loaded::default()),
        },
        _ => match Stored::<Group>::get(tx, account, name)? {
            Some(_) => (None, Vec::new()),
            None => return Ok(Loaded::default()),
        },
    };
    let identity = match kind {
        "user" => iam::user_policies(tx, account, name)?,
        "role" => crate::services::iam::roles::role_policies(tx, account, name)?,
        _ => {
            let mut out = crate::services::iam::inline::list(
                tx,
                account,
                crate::services::iam::inline::Owner::Group,
                name,
            )?;
            out.extend(crate::services::iam::managed::attached(tx, account, "group", name)?);
            out
        }
    };
    let boundary = match boundary {
        Some(arn) => {
            let document = crate::services::iam::managed::default_document(tx, account, &arn)?;
            Some((arn, document))
        }
        None => None,
    };
    Ok(Loaded { identity, boundary, tags: crate::services::iam::tags::as_pairs(&tags) })
}

fn iso(ms: i64) -> Option<String> {
    audit::event::EventTime::from_unix_millis(u64::try_from(ms).ok()?).ok().map(|t| t.to_string())
}

/// The global condition keys of a request that do not depend on the policies: the request's
/// (`aws:SourceIp`, `aws:SecureTransport`, `aws:RequestedRegion`, `aws:CurrentTime`,
/// `aws:EpochTime`) and the caller's (`aws:userid`, and for temporary credentials
/// `aws:TokenIssueTime`, `aws:MultiFactorAuthPresent`, `aws:MultiFactorAuthAge`,
/// `aws:SourceIdentity`). Keys derived from the principal's ARN are added by `policy`.
pub(crate) fn base_context(caller: &Caller, facts: &events::RequestFacts) -> policy::Context {
    let mut context = policy::Context::new();
    context.set("aws:SourceIp", facts.source_ip.clone());
    context.set("aws:SecureTransport", if facts.secure { "true" } else { "false" });
    context.set("aws:RequestedRegion", facts.region.clone());
    context.set("aws:EpochTime", (facts.time_ms / 1000).to_string());
    if let Some(t) = iso(facts.time_ms) {
        context.set("aws:CurrentTime", t);
    }
    context.set("aws:userid", caller.user_id.clone());
    if let Some((arn, account)) = &facts.source {
        context.set("aws:SourceArn", arn.clone());
        context.set("aws:SourceAccount", account.clone());
    }
    // Long-term keys carry no MFA context at all (as in AWS: the keys are absent, so only
    // `...IfExists` and `Null` conditions can test them).
    if let Some(session) = &caller.session {
        if let Some(t) = iso(session.issued_ms) {
            context.set("aws:TokenIssueTime", t);
        }
        context.set(
            "aws:MultiFactorAuthPresent",
            if session.mfa_ms.is_some() { "true" } else { "false" },
        );
        if let Some(mfa) = session.mfa_ms {
            context
                .set("aws:MultiFactorAuthAge", ((facts.time_ms - mfa) / 1000).max(0).to_string());
        }
        if let Some(source) = &session.source_identity {
            context.set("aws:SourceIdentity", source.clone());
        }
    }
    context
}

/// The operator guardrail's refusal: an explicit deny no policy can override.
pub(crate) fn guardrail_denial(arn: &str, action: &str, resource: Option<&str>) -> ApiError {
    let on = resource.map(|r| format!(" on resource: {r}")).unwrap_or_default();
    ApiError::sender(
        403,
        "AccessDenied",
        format!(
            "User: {arn} is not authorized to perform: {action}{on} with an explicit deny in the Hermetic operator guardrail"
        ),
    )
}

/// Evaluates one [`Check`] for `caller` with `policy::evaluate`: the caller's identity policies
/// (a user's, or the role's behind a session; the root user needs none), its boundary and
/// session policy, and the resource's policy, after the operator guardrail. Fail closed. A
/// denial's message names the policy type, as AWS's do, and carries an encoded message only
/// the account can decode (`sts:DecodeAuthorizationMessage`).
pub(crate) fn evaluate(ctx: &Ctx<'_>, check: &Check) -> Result<(), ApiError> {
    let grant = check.granted.as_ref().map(|g| move || g(ctx));
    decide(
        ctx,
        Question {
            action: &check.action,
            resource: &check.resource,
            owner: check.owner.as_deref(),
            resource_policy: check.resource_policy.as_deref(),
            context: &check.context,
            multi: &check.multi,
        },
        grant.as_ref().map(|g| g as &dyn Fn() -> Result<bool, ApiError>),
    )
}

/// What one decision is about.
struct Question<'q> {
    action: &'q str,
    resource: &'q str,
    owner: Option<&'q str>,
    resource_policy: Option<&'q str>,
    context: &'q [(String, String)],
    multi: &'q [(String, Vec<String>)],
}

fn decide(
    ctx: &Ctx<'_>,
    q: Question<'_>,
    granted: Option<&dyn Fn() -> Result<bool, ApiError>>,
) -> Result<(), ApiError> {
    let (state, caller, facts) = (ctx.state, ctx.caller, ctx.facts);
    let (action, resource) = (q.action, q.resource);
    let resource_account = q.owner.unwrap_or(&caller.account);
    // The operator guardrail, before any policy: operator principals have no access to tenant
    // resources, whatever a tenant's policies say.
    if caller.account == OPERATOR_ACCOUNT && resource_account != OPERATOR_ACCOUNT {
        return Err(guardrail_denial(&caller.arn, action, Some(resource)));
    }
    let principal = policy::Principal::parse(&caller.arn)
        .map_err(|_| ApiError::sender(403, "AccessDenied", "the caller cannot be authorized"))?;
    let mut context = base_context(caller, facts);
    // The user, or the role behind a session: its tags, its policies and its boundary.
    let loaded = match (caller.session.as_ref(), iam::caller_entity(caller)) {
        // An operator's approved access: exactly what its tenant's approvers approved (its
        // session policy), and no entity of the account behind it.
        (Some(s), _) if s.approved_access.is_some() => {
            Loaded { identity: s.policies.clone(), ..Loaded::default() }
        }
        (_, Some((kind, name))) => ctx.read(|tx| load_entity(tx, &caller.account, kind, &name))?,
        (_, None) => Loaded::default(),
    };
    for (k, v) in &loaded.tags {
        context.set(&format!("aws:PrincipalTag/{k}"), v.clone());
    }
    // Session tags win over the role's tags of the same key.
    for (k, v) in caller.session.iter().flat_map(|s| s.tags.iter()) {
        context.set(&format!("aws:PrincipalTag/{k}"), v.clone());
    }
    for (k, v) in q.context {
        context.set(k, v.clone());
    }
    for (k, v) in q.multi {
        context.set_multi(k, v.clone());
    }
    let request =
        policy::Request::new(principal, action, resource, Some(resource_account), context);
    let identity: Vec<(String, policy::Policy)> =
        loaded.identity.iter().map(|(n, d)| parse_stored(n, d)).collect::<Result<_, _>>()?;
    let boundaries: Vec<(String, policy::Policy)> = loaded
        .boundary
        .iter()
        .map(|(arn, doc)| parse_stored(arn, doc))
        .collect::<Result<_, _>>()?;
    let session: Vec<(String, policy::Policy)> = match caller.session.as_ref() {
        Some(s) if !s.policies.is_empty() => {
            vec![parse_stored("session policy", &merge_session_policies(&s.policies)?)?]
        }
        _ => Vec::new(),
    };
    let resource_policy = match q.resource_policy {
        Some(d) => Some(parse_stored("resource policy", d)?),
        None => None,
    };
    let set = policy::PolicySet {
        identity: identity.iter().map(named).collect(),
        boundaries: boundaries.iter().map(named).collect(),
        session: session.iter().map(named).collect(),
        resource: resource_policy.as_ref().map(named),
        ..policy::PolicySet::default()
    };
    let evaluation = policy::evaluate(&request, &set);
    if evaluation.decision == policy::Decision::Allowed {
        return Ok(());
    }
    if let (policy::Decision::ImplicitlyDenied, Some(grant)) = (evaluation.decision, granted) {
        if grant()? {
            return Ok(());
        }
    }
    let message = evaluation.access_denied_message(&request);
    let encoded = encode_message(state, &caller.account, &evaluation, &request)?;
    Err(ApiError::sender(
        403,
        "AccessDenied",
        format!("{message}. Encoded authorization failure message: {encoded}"),
    ))
}

/// A session's inline and managed session policies act as one session policy: their
/// statements together (AWS: the session's permissions are the identity policies' intersected
/// with what the session policies allow).
pub(crate) fn merge_session_policies(policies: &[(String, String)]) -> Result<String, ApiError> {
    if let [(_, only)] = policies {
        return Ok(only.clone());
    }
    let unreadable = || ApiError::unavailable("a stored policy could not be read");
    let mut statements = Vec::new();
    let mut modern = true;
    for (_, doc) in policies {
        let value: serde_json::Value = serde_json::from_str(doc).map_err(|_| unreadable())?;
        modern &= value.get("Version").and_then(|v| v.as_str()) == Some("2012-10-17");
        match value.get("Statement") {
            Some(serde_json::Value::Array(list)) => statements.extend(list.iter().cloned()),
            Some(one) => statements.push(one.clone()),
            None => return Err(unreadable()),
        }
    }
    let merged = if modern {
        serde_json::json!({ "Version": "2012-10-17", "Statement": statements })
    } else {
        serde_json::json!({ "Statement": statements })
    };
    Ok(merged.to_string())
}

pub(crate) fn named((n, p): &(String, policy::Policy)) -> policy::NamedPolicy<'_> {
    policy::NamedPolicy { name: n.as_str(), policy: p }
}

fn message_context(account: &str) -> Vec<u8> {
    format!("hermetic:authorization-message:{account}").into_bytes()
}

/// The decoded form of a denial, in the shape `DecodeAuthorizationMessage` returns.
pub(crate) fn decision_json(
    evaluation: &policy::Evaluation,
    request: &policy::Request,
) -> serde_json::Value {
    use serde_json::json;
    let statements: Vec<serde_json::Value> = evaluation
        .statements
        .iter()
        .map(|s| {
            json!({
                "statementId": s.sid.clone().unwrap_or_default(),
                "effect": s.effect.to_string(),
                "policyType": s.policy_type.phrase(),
                "policyName": s.policy,
                "statementIndex": s.index,
            })
        })
        .collect();
    let mut conditions: Vec<(String, Vec<String>)> =
        request.context.iter().map(|(k, v)| (k.to_string(), v.values.clone())).collect();
    conditions.sort();
    let conditions: Vec<serde_json::Value> = conditions
        .into_iter()
        .map(|(k, values)| {
            let items: Vec<serde_json::Value> =
                values.into_iter().map(|v| json!({ "value": v })).collect();
            json!({ "key": k, "values": { "items": items } })
        })
        .collect();
    json!({
        "allowed": evaluation.decision == policy::Decision::Allowed,
        "explicitDeny": evaluation.decision == policy::Decision::ExplicitlyDenied,
        "matchedStatements": { "items": statements },
        "failures": { "items": evaluation.errors },
        "context": {
            "principal": { "arn": request.principal.arn },
            "action": request.action,
            "resource": request.resource,
            "conditions": { "items": conditions },
        },
    })
}

/// Seals the decoded form of a denial for `account` with the root of trust.
fn encode_message(
    state: &State,
    account: &str,
    evaluation: &policy::Evaluation,
    request: &policy::Request,
) -> Result<String, ApiError> {
    use base64::Engine;
    let text = decision_json(evaluation, request).to_string();
    let sealed = crypto::RootOfTrust::wrap(&state.root, &message_context(account), text.as_bytes())
        .map_err(|_| ApiError::unavailable("the root of trust is unavailable"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed))
}

/// `sts:DecodeAuthorizationMessage`: opens a message sealed for the caller's account.
pub(crate) fn decode_message(
    state: &State,
    account: &str,
    encoded: &str,
) -> Result<String, ApiError> {
    use base64::Engine;
    let invalid = || {
        ApiError::sender(
            400,
            "InvalidAuthorizationMessageException",
            "The encoded message is not valid for this account.",
        )
    };
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim())
        .map_err(|_| invalid())?;
    let opened = crypto::RootOfTrust::unwrap(&state.root, &message_context(account), &sealed)
        .map_err(|_| invalid())?;
    String::from_utf8(opened.expose().to_vec()).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_policies_act_as_one() {
        let inline = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}"#;
        let managed = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}"#;
        let one = merge_session_policies(&[("a".into(), inline.into())]).unwrap();
        assert_eq!(one, inline);
        let both =
            merge_session_policies(&[("a".into(), inline.into()), ("b".into(), managed.into())])
                .unwrap();
        let parsed = policy::parse_policy(&both).unwrap();
        assert_eq!(parsed.statements.len(), 2);
        assert_eq!(parsed.version, policy::Version::V2012_10_17);
        // Without a 2012 version everywhere, the merged policy keeps 2008 semantics.
        let old = r#"{"Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}"#;
        let mixed =
            merge_session_policies(&[("a".into(), old.into()), ("b".into(), managed.into())])
                .unwrap();
        assert!(!mixed.contains("2012-10-17"), "{mixed}");
        assert!(
            merge_session_policies(&[("a".into(), "{".into()), ("b".into(), old.into())]).is_err()
        );
    }
}
