//! Authentication: a SigV4 signature verified against the access key it names.

use super::identity::{Caller, KeyEntry};
use super::State;
use crate::error::ApiError;
use crate::services::sts::sessions;

/// How fresh an access key's last-used time is kept (IAM reports it to the minute or so).
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

pub(crate) type AuthFailure = Box<(ApiError, Option<String>, Option<String>, Option<String>)>;

/// Who sent a request, as its signature proves.
pub(crate) struct Authenticated<'s> {
    pub caller: Caller,
    /// The service and region the signature is scoped to.
    pub service: String,
    pub region: String,
    pub access_key_id: String,
    /// When the access key was made (ms; `None` for a key the server holds itself).
    pub access_key_created_ms: Option<i64>,
    /// How the signature covers the payload.
    pub payload: sigv4::PayloadMode,
    /// The read transaction the caller was found in, still open, for the rest of the request's
    /// reads (one snapshot: authorization sees the store as authentication did). `None` for a
    /// key the server holds itself.
    pub reads: Option<Box<dyn store::ReadTx + 's>>,
}

/// Verifies the signature and finds the caller, or the error with the account, key and
/// service it names when known.
pub(crate) fn authenticate<'s>(
    state: &'s State,
    signed: &sigv4::HttpRequest<'_>,
    body: sigv4::Payload<'_>,
    now_ms: i64,
) -> Result<Authenticated<'s>, AuthFailure> {
    let unverified = sigv4::parse(signed)
        .map_err(|e| Box::new((ApiError::from_sigv4(&e, false), None, None, None)))?;
    let credential = unverified.credential.clone();
    let token = unverified.session_token.clone();
    let found = find_caller(state, &credential, token, now_ms)?;
    let mut cache = sigv4::KeyCache::new(1);
    let s3 = credential.service == "s3";
    let verified = unverified
        .verify(&found.secret, now_ms / 1000, body, &mut cache)
        .map_err(|e| found.failure(ApiError::from_sigv4(&e, s3)))?;
    Ok(found.authenticated(state, verified.payload, now_ms))
}

/// Verifies a browser upload form's signature (S3's POST object: the signature is over the
/// form's policy document) and finds the caller, as [`authenticate`] does for a signed request.
pub(crate) fn authenticate_post<'s>(
    state: &'s State,
    post: &sigv4::post::PostSignature,
    now_ms: i64,
) -> Result<Authenticated<'s>, AuthFailure> {
    let found = find_caller(state, &post.credential, post.session_token.clone(), now_ms)?;
    post.verify(&found.secret).map_err(|e| found.failure(ApiError::from_sigv4(&e, true)))?;
    Ok(found.authenticated(state, sigv4::PayloadMode::Verified, now_ms))
}

/// The caller a credential names, with its secret, before the signature is checked.
struct Found<'s> {
    secret: sigv4::Secret,
    caller: Caller,
    key_id: String,
    service: String,
    region: String,
    /// For keys from the store: when the key was last used, and made.
    last_used: Option<Option<i64>>,
    key_created_ms: Option<i64>,
    reads: Option<Box<dyn store::ReadTx + 's>>,
}

impl<'s> Found<'s> {
    /// A refusal after the caller was found: it goes to the caller's account's log.
    fn failure(&self, e: ApiError) -> AuthFailure {
        Box::new((
            e,
            Some(self.caller.account.clone()),
            Some(self.key_id.clone()),
            Some(self.service.clone()),
        ))
    }

    /// The request's authentication, once its signature held (the key's last use noted).
    fn authenticated(
        mut self,
        state: &'s State,
        payload: sigv4::PayloadMode,
        now_ms: i64,
    ) -> Authenticated<'s> {
        if let Some(previous) = self.last_used {
            if previous.is_none_or(|at| now_ms - at >= LAST_USED_GRANULARITY_MS) {
                // The reads end first: a thread never holds two of the store's connections.
                self.reads = None;
                // Bookkeeping, not a tenant mutation: a failure here does not fail the request.
                if let Ok(mut tx) = state.store.begin() {
                    if tx
                        .set_access_key_last_used(&self.key_id, now_ms, &self.service, &self.region)
                        .is_ok()
                    {
                        let _ = tx.commit();
                    }
                }
            }
        }
        Authenticated {
            caller: self.caller,
            service: self.service,
            region: self.region,
            access_key_id: self.key_id,
            access_key_created_ms: self.key_created_ms,
            payload,
            reads: self.reads,
        }
    }
}

/// Finds the caller `credential` names (and the token, for temporary credentials), or the
/// error with the account, key and service it names when known.
fn find_caller<'s>(
    state: &'s State,
    credential: &sigv4::Credential,
    session_token: Option<String>,
    now_ms: i64,
) -> Result<Found<'s>, AuthFailure> {
    let service = credential.service.clone();
    let region = credential.region.clone();
    let key_id = credential.access_key_id.clone();
    let fail = |e: ApiError, account: Option<String>| {
        Box::new((e, account, Some(key_id.clone()), Some(service.clone())))
    };
    // A store failure; a row that failed its integrity check goes to its account's log.
    let store_fail = |e: store::StoreError| {
        let account = match &e {
            store::StoreError::Forged { account, .. } => Some(account.clone()),
            _ => None,
        };
        fail(ApiError::from(e), account)
    };
    let invalid = || {
        ApiError::sender(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
    };
    // A long-term key with a session token is refused, as AWS refuses it: a token belongs to
    // temporary credentials only, and a stray one must not be silently ignored.
    let stray_token = || {
        if service == "s3" {
            ApiError::sender(
                400,
                "InvalidToken",
                "The provided token is malformed or otherwise invalid.",
            )
        } else {
            invalid()
        }
    };
    let has_token = session_token.as_deref().is_some_and(|t| !t.is_empty());
    // For keys from the store: when the key was last used (refreshed at most once a minute).
    let mut last_used: Option<Option<i64>> = None;
    let mut key_created_ms: Option<i64> = None;
    let mut reads: Option<Box<dyn store::ReadTx + 's>> = None;
    let (secret, caller) = match state.keys.get(&key_id) {
        Some(KeyEntry { secret, caller }) => {
            if has_token {
                return Err(fail(stray_token(), Some(caller.account.clone())));
            }
            (secret, caller)
        }
        None => {
            let tx = reads.insert(state.store.read().map_err(store_fail)?);
            let key = tx
                .get_access_key(&key_id)
                .map_err(store_fail)?
                .ok_or_else(|| fail(invalid(), None))?;
            let account = tx
                .get_account(&key.account)
                .map_err(store_fail)?
                .ok_or_else(|| fail(invalid(), None))?;
            if key.status != store::AccessKeyStatus::Active
                || account.status != store::AccountStatus::Active
            {
                return Err(fail(invalid(), Some(key.account.clone())));
            }
            last_used = Some(key.last_used_at_ms);
            key_created_ms = Some(key.created_at_ms);
            let context = crate::pipeline::identity::secret_context(
                &key.account,
                &key.owner_kind,
                &key.owner_key,
                &key_id,
            );
            let secret = crypto::RootOfTrust::unwrap(&state.root, &context, &key.secret_wrapped)
                .map_err(|e| {
                    let refused = match e {
                        // The row does not open where it stands: moved to another account or
                        // owner, or edited. Refused, and said loudly: the event in the account's
                        // log carries this error, and the server log says it.
                        crypto::EnvelopeError::Unauthentic | crypto::EnvelopeError::Malformed => {
                            // The owner's kind, not its name: a user's name is tenant data.
                            tracing::error!(
                                account = %key.account,
                                access_key_id = %key_id,
                                "ALARM: access key {key_id} of account {} (a {}'s) failed its integrity check: refused (a moved or edited row?)",
                                key.account,
                                crate::observe::logs::owner_kind(&key.owner_kind),
                            );
                            ApiError::internal(
                                "a stored credential failed its integrity check; the request is refused",
                            )
                        }
                        _ => ApiError::unavailable("the root of trust cannot open the key"),
                    };
                    fail(refused, Some(key.account.clone()))
                })?;
            if has_token && key.owner_kind != "session" {
                return Err(fail(stray_token(), Some(key.account.clone())));
            }
            let caller = match key.owner_kind.as_str() {
                "user" => {
                    let user = crate::records::Stored::<crate::records::iam::User>::get(
                        tx.as_mut(),
                        &key.account,
                        &key.owner_key,
                    )
                    .map_err(|e: ApiError| fail(e, Some(key.account.clone())))?
                    .ok_or_else(|| fail(invalid(), Some(key.account.clone())))?;
                    Caller {
                        arn: user.body.arn,
                        user_id: user.body.user_id,
                        account: key.account.clone(),
                        session: None,
                    }
                }
                "session" => {
                    // Temporary credentials: the session must exist, be unexpired, and the
                    // request must carry its token.
                    let session = tx
                        .get_record(&key.account, "session", &key_id)
                        .map_err(store_fail)?
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
                    let presented = session_token.clone().unwrap_or_default();
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
                    let session = sessions::session_of(body);
                    // An operator's approved access holds only while its approval does: a
                    // session cancelled, failed or past its approved duration refuses the next
                    // request.
                    if let Some(approval) = &session.approved_access {
                        crate::services::mpa::check_approved(
                            tx.as_mut(),
                            &key.account,
                            approval,
                            now_ms,
                        )
                        .map_err(|e| fail(e, Some(key.account.clone())))?;
                    }
                    // A role session is bound to the role's unique id: once the role is deleted
                    // (even if one of the same name is made again) its sessions are refused.
                    if let Some((role_arn, role_id)) = &session.role {
                        let current = sessions::role_of(role_arn)
                            .filter(|(account, _)| *account == key.account)
                            .map(|(_, name)| {
                                crate::records::Stored::<crate::records::iam::Role>::get(
                                    tx.as_mut(),
                                    &key.account,
                                    name,
                                )
                            })
                            .transpose()
                            .map_err(|e: ApiError| fail(e, Some(key.account.clone())))?
                            .flatten();
                        if current.is_none_or(|role| role.body.role_id != *role_id) {
                            return Err(fail(invalid(), Some(key.account.clone())));
                        }
                    }
                    // A user's session (GetSessionToken) is bound to the user's unique id the
                    // same way: a user deleted and made again under its name is a new user.
                    let user_name = text("Arn")
                        .strip_prefix(&format!("arn:aws:iam::{}:user/", key.account))
                        .and_then(|path| path.rsplit('/').next().map(str::to_string));
                    if let (None, Some(name)) = (&session.role, user_name) {
                        let current = crate::records::Stored::<crate::records::iam::User>::get(
                            tx.as_mut(),
                            &key.account,
                            &name,
                        )
                        .map_err(|e: ApiError| fail(e, Some(key.account.clone())))?;
                        if current.is_none_or(|user| user.body.user_id != text("UserId")) {
                            return Err(fail(invalid(), Some(key.account.clone())));
                        }
                    }
                    Caller {
                        arn: text("Arn"),
                        user_id: text("UserId"),
                        account: key.account.clone(),
                        session: Some(session),
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
    Ok(Found { secret, caller, key_id, service, region, last_used, key_created_ms, reads })
}
