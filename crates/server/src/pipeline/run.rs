//! One authenticated request through a service: route, the operator guardrail, authorize,
//! execute, and the audit events to every account the request touched (STYLE 13).

use super::events::{self, RequestFacts};
use super::identity::{Caller, OPERATOR_ACCOUNT};
use super::service::{
    Access, Authorization, Ctx, Effect, Named, Operation, Request, Service, ServiceCall, Unrouted,
};
use super::{Reply, State};
use crate::error::ApiError;
use crate::records::s3::BucketName;
use crate::records::Stored;
use audit::event::EventRecord;

/// Events waiting for the group commit: (account, event).
pub(crate) type Pending = Vec<(String, EventRecord)>;

/// A change the server itself makes together with a request's (a trail's delivery cursor
/// with the object that delivers its events): run in the request's transaction before its
/// events are appended, so both commit or neither does.
pub(crate) type Also<'h> = &'h dyn Fn(&mut dyn store::Tx) -> Result<(), ApiError>;

/// Serves one request of service `S` for an authenticated `caller`. Every outcome, allowed or
/// refused at any step, is recorded in the caller's log and in the log of every account whose
/// resource the request named or touched; a change commits together with those events. `also`
/// is committed in the request's transaction (a request the server makes itself). An operation that ends without a transaction, or an `also` that fails, fails the
/// request: nothing of it commits. `labels` get the service's name and the operation's, both
/// `&'static` names from the code, never the request's text.
#[allow(clippy::too_many_arguments)]
pub(crate) fn serve_with<S: Service>(
    state: &State,
    caller: &Caller,
    req: &Request<'_>,
    mut facts: RequestFacts,
    reads: Option<Box<dyn store::ReadTx + '_>>,
    pending: &mut Pending,
    also: Option<Also<'_>>,
    labels: &mut crate::observe::RequestLabels,
) -> Result<Reply, ApiError> {
    facts.event_source = S::EVENT_SOURCE.to_string();
    labels.service =
        crate::observe::metrics::service_label(S::EVENT_SOURCE.strip_suffix(".amazonaws.com"));
    let routed = S::route(req);
    let operation = match &routed {
        Ok(call) => Some(S::operation(call)),
        Err(unrouted) => unrouted.operation,
    };
    if let Err(Unrouted { name: Some(name), .. }) = &routed {
        facts.event_name = (*name).to_string();
        labels.operation = *name;
    }
    if let Some(op) = operation {
        labels.operation = op.name();
        facts.event_name = op.name().to_string();
        facts.read_only = op.access() == Access::Read;
        if let Some(source) = op.event_source() {
            facts.event_source = source.to_string();
        }
    }
    let named = S::named(req, routed.as_ref().ok());
    let ctx = Ctx::new(state, caller, &facts, reads);
    if !S::SHARES_READS {
        ctx.end_reads();
    }
    let mut effect = Effect::with_blobs(&state.blobs);
    let mut parameters = None;
    let mut answer_headers = Vec::new();
    let result = match routed {
        Err(unrouted) => Err(unrouted.error),
        Ok(mut call) => {
            let protected = operation.is_some_and(|op| {
                crate::services::mpa::protected::is_protected(S::EVENT_SOURCE, op.name())
            });
            let authorized = authorize::<S>(&ctx, req, &named, operation, &mut call, protected);
            // What authorization found (a role's session parameters, a key) joins the event.
            parameters = S::parameters(req, &call);
            effect.resources = S::resources(&call);
            answer_headers = S::answer_headers(req, &call);
            // Authorization's reads end here unless the operation reads on in the same
            // snapshot (and then takes the transaction): a thread never holds two of the
            // store's connections.
            if !operation.is_some_and(S::keeps_reads) {
                ctx.end_reads();
            }
            authorized.and_then(|checked| {
                // A protected operation waits for its account's approval team, unless this is
                // its approved run.
                let held = match (operation, checked) {
                    (Some(op), Some((resource, owner))) if ctx.facts.approval.is_none() => {
                        let account = owner.unwrap_or_else(|| ctx.caller.account.clone());
                        crate::services::mpa::protected::hold(
                            &ctx,
                            req,
                            S::EVENT_SOURCE,
                            op.name(),
                            op.action(),
                            &resource,
                            &account,
                            &mut effect,
                        )?
                    }
                    _ => None,
                };
                match held {
                    Some(pending_approval) => Err(pending_approval),
                    None => S::execute(&ctx, req, call, &mut effect),
                }
            })
        }
    };
    ctx.end_reads();
    let data_event = operation.is_some_and(Operation::data_event);
    let result = match (result, also) {
        (Ok(reply), Some(also)) => {
            // What the server changes with the request commits with it, even when the
            // request itself changed nothing.
            let tx = match effect.tx.as_mut() {
                Some(tx) => tx,
                None => effect.tx.insert(state.store.begin()?),
            };
            also(tx.as_mut()).map(|()| reply)
        }
        (result, _) => result,
    };
    let approved = std::mem::take(&mut effect.approved);
    let mut result = finish(&ctx, result, effect, parameters, &named, data_event, pending);
    // What the service adds to every answer of the call (S3's CORS headers), refusals too.
    match &mut result {
        Ok(reply) => reply.headers.extend(answer_headers),
        Err(e) => e.headers.extend(answer_headers),
    }
    if result.is_ok() {
        for (account, arn) in approved {
            // Its outcome is the session's (EXECUTED or FAILED) and its own event's; the
            // server's own failure leaves it for the sweep.
            let _ = crate::services::mpa::protected::run_approved(state, &account, &arn, pending);
        }
    }
    result
}

/// The guardrail, then the service's checks, each through the one evaluator. For a
/// `protected` operation, returns the first check's resource and its owner (what its session
/// names when it is held).
fn authorize<S: Service>(
    ctx: &Ctx<'_>,
    req: &Request<'_>,
    named: &[Named],
    operation: Option<S::Operation>,
    call: &mut S::Call,
    protected: bool,
) -> Result<Option<(String, Option<String>)>, ApiError> {
    guardrail::<S>(ctx, named, operation)?;
    match S::authorization(ctx, req, call).map_err(S::refusal)? {
        Authorization::Checks(checks) if checks.is_empty() => {
            Err(ApiError::internal("the operation names no authorization"))
        }
        Authorization::Checks(checks) => {
            checks.iter().try_for_each(|check| ctx.authorize(check).map_err(S::refusal))?;
            Ok(checks.first().filter(|_| protected).map(|c| (c.resource.clone(), c.owner.clone())))
        }
        Authorization::Operator if !ctx.is_operator() => {
            Err(ApiError::internal("only the operator may call this"))
        }
        // No check names a resource: a protected operation is still held (fail closed).
        Authorization::Operator
        | Authorization::AnyCaller
        | Authorization::ByResource
        | Authorization::PerItem => Ok(protected.then(|| ("*".to_string(), None))),
    }
}

/// The operator guardrail, before anything is read: operator principals are refused every
/// call of a service that serves only tenants (S3, KMS), and every call that names a tenant's
/// resource, whatever any policy says. [`super::authorize::evaluate`] applies it again to
/// every check.
fn guardrail<S: Service>(
    ctx: &Ctx<'_>,
    named: &[Named],
    operation: Option<S::Operation>,
) -> Result<(), ApiError> {
    if !ctx.is_operator() || S::OPERATOR_API {
        return Ok(());
    }
    let tenant = S::TENANT_ONLY
        || named.iter().any(|n| match n {
            Named::Account(account) => account != OPERATOR_ACCOUNT,
            Named::Bucket(_) => true,
        });
    if !tenant {
        return Ok(());
    }
    let action = operation.map_or("*", Operation::action);
    Err(S::refusal(super::authorize::guardrail_denial(&ctx.caller.arn, action, None)))
}

/// The accounts that own what `named` names and exist here (a refused request's event goes to
/// them; an allowed one's service touched them as it found them).
fn owners(state: &State, named: &[Named]) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    if named.is_empty() {
        return Ok(out);
    }
    let unavailable = ApiError::from;
    let mut tx = state.store.read().map_err(unavailable)?;
    for n in named {
        match n {
            Named::Account(account) => {
                if tx.get_account(account).map_err(unavailable)?.is_some() {
                    out.push(account.clone());
                }
            }
            Named::Bucket(bucket) => {
                let index = Stored::<BucketName>::get(tx.as_mut(), OPERATOR_ACCOUNT, bucket)?;
                out.extend(index.map(|i| i.body.account));
            }
        }
    }
    Ok(out)
}

/// The events of the calls the service made to others as the caller while serving the request
/// (S3's to KMS), each with the accounts whose logs get it: the caller's identity, `invokedBy`
/// the calling service, as CloudTrail records a forward access session's calls.
fn call_events(ctx: &Ctx<'_>) -> Result<Vec<(Vec<String>, EventRecord)>, ApiError> {
    ctx.take_calls()
        .into_iter()
        .map(|call: ServiceCall| {
            let facts = RequestFacts {
                request_id: crate::support::ids::uuid(),
                event_source: call.event_source.to_string(),
                event_name: call.event_name.to_string(),
                source_ip: call.invoked_by.to_string(),
                user_agent: Some(call.invoked_by.to_string()),
                read_only: true,
                tls: None,
                ..ctx.facts.clone()
            };
            let mut event =
                events::event(&facts, Some(ctx.caller), "", Some(call.parameters), None, None)?;
            event.user_identity.invoked_by = Some(call.invoked_by.to_string());
            event.resources = Some(call.resources);
            Ok((call.accounts, event))
        })
        .collect()
}

/// Records the request: one event, in account order, to the caller's log and to every
/// account touched (or, for a refusal, named), and beside it in each of those logs the events
/// of the calls it made to other services as the caller that concern the account; committed
/// with the change when there is one, else through the group commit before the answer. Fail
/// closed: an event that cannot be recorded fails the request.
fn finish(
    ctx: &Ctx<'_>,
    result: Result<Reply, ApiError>,
    mut effect: Effect<'_>,
    parameters: Option<serde_json::Value>,
    named: &[Named],
    data_event: bool,
    pending: &mut Pending,
) -> Result<Reply, ApiError> {
    if result.is_err() {
        for owner in owners(ctx.state, named)? {
            ctx.touch(&owner);
        }
    }
    let mut accounts = ctx.touched();
    if !ctx.caller.is_anonymous() {
        accounts.push(ctx.caller.account.clone());
    }
    if accounts.is_empty() {
        // An anonymous request that names nothing of anyone's is the operator realm's record.
        accounts.push(OPERATOR_ACCOUNT.to_string());
    }
    // Audit heads are locked in account order in every transaction (`events::append`).
    accounts.sort();
    accounts.dedup();
    let error = result.as_ref().err();
    let parameters = effect.parameters.take().map(serde_json::Value::Object).or(parameters);
    let mut event =
        events::event(ctx.facts, Some(ctx.caller), "", parameters, effect.response.take(), error)?;
    if !effect.resources.is_empty() {
        event.resources = Some(std::mem::take(&mut effect.resources));
    }
    if data_event {
        event.event_category = audit::event::EventCategory::Data;
        event.management_event = false;
    }
    // Each account gets the events of the calls that concern it, then the request's own.
    let calls = call_events(ctx)?;
    // A request held for approval answers an error, and its session commits with its event.
    match effect.tx.take() {
        Some(mut tx) if error.is_none() || effect.held => {
            for account in &accounts {
                let mine = calls.iter().filter(|(to, _)| to.contains(account)).map(|(_, e)| e);
                for one in mine.chain([&event]) {
                    let e = events::for_account(ctx.state, Some(tx.as_mut()), one, account)?;
                    events::append(tx.as_mut(), account, &e)?;
                }
            }
            effect.commit(tx)?;
        }
        _ => {
            for account in &accounts {
                let mine = calls.iter().filter(|(to, _)| to.contains(account)).map(|(_, e)| e);
                for one in mine.chain([&event]) {
                    let e = events::for_account(ctx.state, None, one, account)?;
                    pending.push((account.clone(), e));
                }
            }
        }
    }
    result
}

/// Records a request refused before any service took it (no such service), in the caller's
/// log.
pub(crate) fn refuse(
    caller: &Caller,
    facts: &RequestFacts,
    e: ApiError,
    pending: &mut Pending,
) -> Result<Reply, ApiError> {
    let account =
        if caller.is_anonymous() { OPERATOR_ACCOUNT.to_string() } else { caller.account.clone() };
    let event = events::event(facts, Some(caller), &account, None, None, Some(&e))?;
    pending.push((account, event));
    Err(e)
}
