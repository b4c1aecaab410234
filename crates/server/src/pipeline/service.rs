//! What a service gives the pipeline: its operations (enums carrying their metadata), a router
//! that parses a request into one operation's typed call, the authorization checks that call
//! needs, and its execution. Everything else (authentication, the operator guardrail, policy
//! evaluation, the audit events and their commit, error rendering) is the pipeline's.

use super::events::RequestFacts;
use super::identity::{Caller, OPERATOR_ACCOUNT};
use super::{Reply, State};
use crate::error::ApiError;
use crate::protocol::payload::BodyStream;
use serde_json::{Map, Value};
use std::cell::RefCell;

/// What an operation does, as CloudTrail and the audit commit see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads only (`readOnly: true`); its event joins the group commit.
    Read,
    /// Changes something; its event commits with the change.
    Write,
}

/// One operation of a service: an enum variant that carries its metadata (STYLE 14).
pub(crate) trait Operation: Copy + std::fmt::Debug {
    /// AWS's name of the operation, the event's `eventName`.
    fn name(self) -> &'static str;
    /// The IAM action it is authorized as.
    fn action(self) -> &'static str;
    /// Whether it reads or writes.
    fn access(self) -> Access;
    /// Whether CloudTrail records it as a data event (S3 object operations).
    fn data_event(self) -> bool {
        false
    }
    /// The event source when it is not the service's (`s3-control.amazonaws.com`).
    fn event_source(self) -> Option<&'static str> {
        None
    }
}

/// Declares a service's operation enum and its metadata, one line per operation:
/// `Name => "prefix:Action", Read|Write;`.
macro_rules! operations {
    ($(#[$meta:meta])* $name:ident { $($op:ident => $action:literal, $access:ident;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum $name {
            $(
                #[doc = concat!("`", stringify!($op), "` (`", $action, "`).")]
                $op,
            )*
        }

        impl $name {
            /// Every operation.
            #[allow(dead_code)]
            pub(crate) const ALL: &'static [$name] = &[$($name::$op,)*];

            /// The operation AWS names `name`.
            #[allow(dead_code)]
            pub(crate) fn from_name(name: &str) -> Option<$name> {
                match name {
                    $(stringify!($op) => Some($name::$op),)*
                    _ => None,
                }
            }
        }

        impl $crate::pipeline::service::Operation for $name {
            fn name(self) -> &'static str {
                match self {
                    $($name::$op => stringify!($op),)*
                }
            }

            fn action(self) -> &'static str {
                match self {
                    $($name::$op => $action,)*
                }
            }

            fn access(self) -> $crate::pipeline::service::Access {
                match self {
                    $($name::$op => $crate::pipeline::service::Access::$access,)*
                }
            }
        }
    };
}
pub(crate) use operations;

/// A request as the pipeline decoded it, before any service looked at it.
pub(crate) struct Request<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path, not percent-decoded.
    pub path: &'a str,
    /// Every header, names as sent.
    pub headers: &'a [(&'a str, &'a str)],
    /// `X-Amz-Target` (the JSON protocols).
    pub target: Option<&'a str>,
    /// The query protocol's parameters: a POST's form body, else the query string.
    pub params: Vec<(String, String)>,
    /// The query string's parameters.
    pub query_params: Vec<(String, String)>,
    /// The body as it arrived (S3 decodes `aws-chunked` framing itself); empty when it
    /// streams.
    pub body: &'a [u8],
    /// How the signature covers the payload (what decoding it must verify).
    pub payload: sigv4::PayloadMode,
    /// A large S3 body not read yet, for the operation that consumes it.
    pub stream: RefCell<Option<BodyStream>>,
}

impl Request<'_> {
    /// A header's value (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    /// A query-protocol parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        crate::protocol::query::param(&self.params, name)
    }

    /// The JSON body of a JSON-protocol request (empty means `{}`).
    pub fn json(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Ok(Value::Object(Map::new()));
        }
        serde_json::from_slice(self.body).map_err(|_| {
            ApiError::sender(400, "SerializationException", "the request body is not valid JSON")
        })
    }
}

/// A request the router could not take, with what it could tell about it.
#[derive(Debug)]
pub(crate) struct Unrouted<O> {
    /// The operation, when the request named one this service has.
    pub operation: Option<O>,
    /// The AWS name of an operation the request is that is not served here, for its event.
    pub name: Option<&'static str>,
    /// Why it was refused.
    pub error: ApiError,
}

impl<O> Unrouted<O> {
    /// A request for `operation` whose input is refused.
    pub fn input(operation: O, error: ApiError) -> Unrouted<O> {
        Unrouted { operation: Some(operation), name: None, error }
    }

    /// A request that names no operation of the service.
    pub fn unknown(error: ApiError) -> Unrouted<O> {
        Unrouted { operation: None, name: None, error }
    }

    /// An operation name a JSON-protocol service does not have (`UnknownOperationException`).
    pub fn unknown_operation(name: &str) -> Unrouted<O> {
        Unrouted::unknown(ApiError::sender(
            400,
            "UnknownOperationException",
            format!("unknown operation `{name}`"),
        ))
    }
}

/// A resource a request names, whose owner's log gets the request's event (allowed or not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Named {
    /// An account named outright (an ARN's account).
    Account(String),
    /// An S3 bucket; its owner is found through the global bucket-name index.
    Bucket(String),
}

/// A further allow consulted only when the policies deny implicitly (a KMS grant).
pub(crate) type Grant = Box<dyn Fn(&Ctx<'_>) -> Result<bool, ApiError>>;

/// One authorization question: may the caller perform `action` on `resource`?
pub(crate) struct Check {
    /// The IAM action (`s3:GetObject`).
    pub action: String,
    /// The resource's ARN (`*` for actions on no resource).
    pub resource: String,
    /// The account that owns the resource; the caller's when `None`.
    pub owner: Option<String>,
    /// The resource's own policy (a bucket policy, a key policy, a trust policy).
    pub resource_policy: Option<String>,
    /// Single-valued condition keys the service adds.
    pub context: Vec<(String, String)>,
    /// Multivalued condition keys (`aws:TagKeys`).
    pub multi: Vec<(String, Vec<String>)>,
    /// Consulted after an implicit deny (an explicit deny still wins).
    pub granted: Option<Grant>,
}

impl Check {
    /// `action` on `resource` in the caller's own account, with no condition keys of its own.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Check {
        Check {
            action: action.into(),
            resource: resource.into(),
            owner: None,
            resource_policy: None,
            context: Vec::new(),
            multi: Vec::new(),
            granted: None,
        }
    }
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("action", &self.action)
            .field("resource", &self.resource)
            .field("owner", &self.owner)
            .field("context", &self.context)
            .field("multi", &self.multi)
            .field("granted", &self.granted.is_some())
            .finish_non_exhaustive()
    }
}

/// How an operation is authorized.
#[derive(Debug)]
pub(crate) enum Authorization {
    /// The pipeline evaluates each check in order; the first refusal refuses the request. An
    /// empty list is refused (fail closed).
    Checks(Vec<Check>),
    /// AWS lets every caller do this, with no permission: any authenticated caller
    /// (`sts:GetCallerIdentity`), or anyone at all where AWS serves unsigned requests so (S3's
    /// CORS preflight, which browsers never sign). The operator guardrail still applies.
    AnyCaller,
    /// Only operator principals, as who they are: the operator API (no tenant policy applies
    /// to the operator realm's administration of accounts).
    Operator,
    /// The resource itself names who may act on it, and the service decides in `execute` (a
    /// KMS grant names its retiring principal); anyone else is refused there.
    ByResource,
    /// The operation acts on several items and authorizes each one as it comes to it, through
    /// [`Ctx::authorize`], answering a refusal per item (`DeleteObjects`).
    PerItem,
}

/// A call one service made to another **as the caller** while serving a request (a forward
/// access session: S3's `GenerateDataKey` and `Decrypt` calls to KMS), which the pipeline
/// records as an event of its own beside the request's, as CloudTrail shows such calls.
#[derive(Clone, Debug)]
pub(crate) struct ServiceCall {
    /// Where the call went (`kms.amazonaws.com`).
    pub event_source: &'static str,
    /// The operation called (`GenerateDataKey`).
    pub event_name: &'static str,
    /// The service that made the call for the caller (`s3.amazonaws.com`): the event's
    /// `invokedBy`, source address and user agent.
    pub invoked_by: &'static str,
    /// CloudTrail's `requestParameters` (never secrets).
    pub parameters: Value,
    /// CloudTrail's `resources`.
    pub resources: Vec<audit::event::Resource>,
    /// The accounts whose logs get the event (the caller's and the resource owner's); it is
    /// written only to those the request's own event goes to.
    pub accounts: Vec<String>,
}

/// What the pipeline hands a service while it authorizes and executes one request.
pub(crate) struct Ctx<'a> {
    /// The server.
    pub state: &'a State,
    /// Who is asking.
    pub caller: &'a Caller,
    /// The request, as the event records it.
    pub facts: &'a RequestFacts,
    /// Accounts whose resources the request touched: their logs get its event.
    touched: RefCell<Vec<String>>,
    /// The request's read transaction (authentication's, or opened by the first read): one
    /// snapshot for its authorization and, where the service keeps it, its execution.
    reads: RefCell<Option<Box<dyn store::ReadTx + 'a>>>,
    /// Set once the request's read transaction has ended: a read after that has a transaction
    /// of its own, closed when it is done.
    reads_ended: std::cell::Cell<bool>,
    /// Calls the service made to others as the caller: each becomes an event of its own.
    calls: RefCell<Vec<ServiceCall>>,
}

impl<'a> Ctx<'a> {
    /// The context of one request, with the read transaction authentication left open.
    pub fn new(
        state: &'a State,
        caller: &'a Caller,
        facts: &'a RequestFacts,
        reads: Option<Box<dyn store::ReadTx + 'a>>,
    ) -> Ctx<'a> {
        Ctx {
            state,
            caller,
            facts,
            touched: RefCell::new(Vec::new()),
            reads: RefCell::new(reads),
            reads_ended: std::cell::Cell::new(false),
            calls: RefCell::new(Vec::new()),
        }
    }

    /// Runs `f` in the request's read transaction (opened now if there is none). A read
    /// nested in another, or made once the transaction has ended, gets one of its own.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn store::ReadTx) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let slot = self.reads.try_borrow_mut().ok().filter(|_| !self.reads_ended.get());
        let Some(mut slot) = slot else {
            let mut tx = self.state.store.read()?;
            return f(tx.as_mut());
        };
        let tx = match slot.as_mut() {
            Some(tx) => tx,
            None => slot.insert(self.state.store.read()?),
        };
        f(tx.as_mut())
    }

    /// The request's read transaction itself, for an operation that reads on in it (one the
    /// service [`Service::keeps_reads`]); a new one if there is none. Reads after this have
    /// transactions of their own.
    pub fn take_reads(&self) -> Result<Box<dyn store::ReadTx + 'a>, ApiError> {
        self.reads_ended.set(true);
        match self.reads.try_borrow_mut().ok().and_then(|mut slot| slot.take()) {
            Some(tx) => Ok(tx),
            None => Ok(self.state.store.read()?),
        }
    }

    /// Ends the request's read transaction (before anything opens another); reads after this
    /// have transactions of their own.
    pub fn end_reads(&self) {
        self.reads_ended.set(true);
        if let Ok(mut slot) = self.reads.try_borrow_mut() {
            slot.take();
        }
    }

    /// The request's time, ms since the epoch.
    pub fn now(&self) -> i64 {
        self.facts.time_ms
    }

    /// Records that the request touched a resource of `account`, whose log then gets the event.
    pub fn touch(&self, account: &str) {
        let mut touched = self.touched.borrow_mut();
        if !account.is_empty() && !touched.iter().any(|a| a == account) {
            touched.push(account.to_string());
        }
    }

    /// The accounts touched so far.
    pub fn touched(&self) -> Vec<String> {
        self.touched.borrow().clone()
    }

    /// Records a call the service made to another as the caller (see [`ServiceCall`]); the
    /// pipeline writes its event with the request's.
    pub fn record_call(&self, call: ServiceCall) {
        self.calls.borrow_mut().push(call);
    }

    /// The calls recorded so far, taken.
    pub fn take_calls(&self) -> Vec<ServiceCall> {
        std::mem::take(&mut *self.calls.borrow_mut())
    }

    /// Evaluates one check: the operator guardrail, then the policies (the one evaluator every
    /// service's checks go through). The resource's owner is touched either way.
    pub fn authorize(&self, check: &Check) -> Result<(), ApiError> {
        if let Some(owner) = &check.owner {
            self.touch(owner);
        }
        super::authorize::evaluate(self, check)
    }

    /// Whether the caller is the operator.
    pub fn is_operator(&self) -> bool {
        self.caller.account == OPERATOR_ACCOUNT
    }
}

/// What executing an operation leaves for the pipeline to finish.
#[derive(Default)]
pub(crate) struct Effect<'s> {
    /// The transaction holding a change: the request's events are appended to it and it is
    /// committed before the reply. Without one, the events join the group commit.
    pub tx: Option<Box<dyn store::Tx + 's>>,
    /// CloudTrail's `requestParameters`, when the operation records its own.
    pub parameters: Option<Map<String, Value>>,
    /// CloudTrail's `responseElements`.
    pub response: Option<Value>,
    /// CloudTrail's `resources`.
    pub resources: Vec<audit::event::Resource>,
    /// The blob store `garbage` and `fresh` are in (the server's; `None` only in unit tests
    /// that write no blob).
    pub blobs: Option<std::sync::Arc<dyn store::BlobStore>>,
    /// Blobs no record names once `tx` has committed: removed after the commit, never
    /// before (a failed commit must leave every object readable). Blobs a crash leaves behind
    /// are the sweeper's.
    pub garbage: Vec<store::BlobRef>,
    /// Blobs this request wrote, which only records in `tx` name: removed when the request
    /// ends without committing `tx` (an error after the blob was written, or a commit that
    /// lost a race), kept once it has committed. A commit whose outcome is unknown (a lost
    /// connection) keeps them: the sweeper removes them later if no record names them.
    pub fresh: Vec<store::BlobRef>,
    /// The request was held for approval (a protected operation): `tx` holds its session and
    /// commits with the event, though the request answers an error (`PendingApproval`).
    pub held: bool,
    /// Approval sessions (account, ARN) this request approved whose held operations run once
    /// it has committed.
    pub approved: Vec<(String, String)>,
}

impl Effect<'_> {
    /// An effect whose blobs are in `blobs`.
    pub fn with_blobs(blobs: &std::sync::Arc<dyn store::BlobStore>) -> Self {
        let mut effect = Effect::default();
        effect.blobs = Some(blobs.clone());
        effect
    }

    /// Removes blobs, best effort (what fails to go is the sweeper's).
    fn remove(&self, blobs: Vec<store::BlobRef>) {
        if let Some(store) = &self.blobs {
            for blob in blobs {
                let _ = store.delete(&blob);
            }
        }
    }

    /// Sets one request parameter of the event.
    pub fn param(&mut self, name: &str, value: Value) {
        self.parameters.get_or_insert_with(Map::new).insert(name.into(), value);
    }

    /// Commits `tx`, then removes the garbage it leaves; on failure the request's own blobs go
    /// (when the store says nothing was committed) and the request answers 503.
    ///
    /// A blob store whose reads fetch ranges as they go (S3) keeps dropped blobs for the read
    /// grace: `tx` queues them for deletion (`blob_garbage`), in the same commit as the change
    /// that drops them, and the deleter ([`crate::services::s3::sweep::delete_dropped`])
    /// removes them once no read that began before can still want them.
    pub fn commit(&mut self, mut tx: Box<dyn store::Tx + '_>) -> Result<(), ApiError> {
        let deferred = self.blobs.as_ref().is_some_and(|b| b.deferred_deletion());
        if deferred && !self.garbage.is_empty() {
            let queued: Vec<(String, String)> =
                self.garbage.iter().map(|b| (b.account.clone(), b.name.clone())).collect();
            let now = crate::support::time::now_ms();
            if tx.queue_blob_deletions(&queued, now).is_err() {
                return Err(ApiError::unavailable("the change could not be committed"));
            }
        }
        match tx.commit() {
            Ok(()) => {
                self.fresh.clear();
                let garbage = std::mem::take(&mut self.garbage);
                if !deferred {
                    self.remove(garbage);
                }
                Ok(())
            }
            Err(e) => {
                if !e.is_retryable() {
                    self.fresh.clear();
                }
                Err(ApiError::unavailable("the change could not be committed"))
            }
        }
    }
}

impl Drop for Effect<'_> {
    fn drop(&mut self) {
        let fresh = std::mem::take(&mut self.fresh);
        self.remove(fresh);
    }
}

/// A service behind the pipeline: route, checks, execute (STYLE 13).
pub(crate) trait Service {
    /// The service's operations.
    type Operation: Operation;
    /// One operation with its parsed input.
    type Call;

    /// `s3.amazonaws.com`: where its events come from.
    const EVENT_SOURCE: &'static str;
    /// Whether the service serves tenant data or keys only, so the operator is refused every
    /// call of it (S3, KMS) whatever it names.
    const TENANT_ONLY: bool;

    /// Whether this is the operator's own API (account administration), which the operator
    /// guardrail does not apply to: the accounts it names are not tenant resources.
    const OPERATOR_API: bool = false;

    /// Parses the request into one operation's call, or refuses it (the operation, when known,
    /// names the event).
    fn route(req: &Request<'_>) -> Result<Self::Call, Unrouted<Self::Operation>>;

    /// The operation a call is.
    fn operation(call: &Self::Call) -> Self::Operation;

    /// The resources the request names: their owners' logs get its event whether it is
    /// allowed or refused. `call` is `None` when routing refused the request.
    fn named(req: &Request<'_>, call: Option<&Self::Call>) -> Vec<Named>;

    /// CloudTrail's `requestParameters` for the call (never secrets or documents), asked after
    /// authorization (allowed or not), before execution.
    fn parameters(req: &Request<'_>, call: &Self::Call) -> Option<Value>;

    /// CloudTrail's `resources` for the call, asked with [`Service::parameters`]; what the
    /// execution sets in [`Effect::resources`] replaces them.
    fn resources(_call: &Self::Call) -> Vec<audit::event::Resource> {
        Vec::new()
    }

    /// Headers every answer to the call carries, allowed or refused (S3's CORS headers for a
    /// browser origin its bucket's rules allow), asked with [`Service::parameters`], once
    /// authorization has found what they depend on.
    fn answer_headers(_req: &Request<'_>, _call: &Self::Call) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The checks the call needs. It may read the store to find them (a bucket's policy, a
    /// key's) and keep what it read in the call for `execute`; it touches the owners it finds.
    fn authorization(
        ctx: &Ctx<'_>,
        req: &Request<'_>,
        call: &mut Self::Call,
    ) -> Result<Authorization, ApiError>;

    /// Runs an authorized call; a change is left in `effect.tx` for the pipeline to commit with
    /// the events.
    fn execute<'s>(
        ctx: &Ctx<'s>,
        req: &Request<'_>,
        call: Self::Call,
        effect: &mut Effect<'s>,
    ) -> Result<Reply, ApiError>;

    /// Whether the service's authorization reads only through [`Ctx::read`] (and what it
    /// calls opens no transaction of its own), so that it can read in the transaction
    /// authentication left open. Otherwise that transaction ends before routing.
    const SHARES_READS: bool = false;

    /// Whether `operation`'s execution reads in the request's read transaction, which it then
    /// takes with [`Ctx::take_reads`] and opens no other. Otherwise the transaction ends before
    /// execution.
    fn keeps_reads(_operation: Self::Operation) -> bool {
        false
    }

    /// The service's form of a refusal (KMS answers `AccessDeniedException`, 400).
    fn refusal(e: ApiError) -> ApiError {
        e
    }
}
