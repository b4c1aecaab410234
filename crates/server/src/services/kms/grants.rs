//! KMS grants: a further way to allow key operations, to one grantee, for listed operations,
//! optionally only with a given encryption context. Grants take effect at once here (the store
//! is strongly consistent), so grant tokens are accepted but add nothing.

use super::input::{CreateGrant, Input, Paging};
use super::{err, load, resolve, Call, KeyRecord};
use crate::error::ApiError;
use crate::pipeline::identity::Caller;
use crate::pipeline::service::{Ctx, Effect};
use crate::records::kms::Grant;
use crate::records::Stored;
use base64::Engine;
use serde_json::{json, Value};
use store::PutMode;

/// A grant as stored.
type GrantRecord = Stored<Grant>;

/// Operations a grant can allow.
pub const GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "DeriveSharedSecret",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
];

/// Operations that take an encryption context (the only ones a constrained grant may allow).
const WITH_CONTEXT: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "CreateGrant",
    "RetireGrant",
];

/// Grants per key (AWS's quota).
pub const MAX_GRANTS_PER_KEY: usize = 50_000;

/// Whether `caller` is the grantee principal `grantee`: the same ARN, or a session of the role
/// it names, or the account's root user when it names the account.
fn is_principal(caller: &Caller, grantee: &str) -> bool {
    if grantee.is_empty() {
        return false;
    }
    if caller.arn == grantee {
        return true;
    }
    if let Some((role_arn, _)) = caller.session.as_ref().and_then(|s| s.role.as_ref()) {
        // A role ARN may carry a path; grants may name the role either way.
        let bare = |arn: &str| -> String {
            match arn.split_once(":role/") {
                Some((prefix, rest)) => {
                    format!("{prefix}:role/{}", rest.rsplit('/').next().unwrap_or(rest))
                }
                None => arn.to_string(),
            }
        };
        if bare(role_arn) == bare(grantee) {
            return true;
        }
    }
    false
}

fn constraints_hold(grant: &Grant, context: Option<&[(String, String)]>) -> bool {
    let Some(constraints) = &grant.constraints else { return true };
    let ec = context.unwrap_or_default();
    let pairs = |m: &super::input::Context| -> Vec<(String, String)> {
        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    if let Some(equals) = &constraints.encryption_context_equals {
        // The map is in key order.
        let mut given = ec.to_vec();
        given.sort();
        if pairs(equals) != given {
            return false;
        }
    }
    if let Some(subset) = &constraints.encryption_context_subset {
        if !pairs(subset).iter().all(|p| ec.contains(p)) {
            return false;
        }
    }
    true
}

/// Whether a grant names `operation`.
fn names(grant: &Grant, operation: &str) -> bool {
    grant.operations.iter().any(|o| o == operation)
}

fn grants_of(tx: &mut dyn store::ReadTx, key: &KeyRecord) -> Result<Vec<GrantRecord>, ApiError> {
    grants_in(tx, &key.account, &key.key)
}

fn grants_in(
    tx: &mut dyn store::ReadTx,
    account: &str,
    key_id: &str,
) -> Result<Vec<GrantRecord>, ApiError> {
    GrantRecord::list(tx, account, &format!("{key_id}/"), MAX_GRANTS_PER_KEY)
}

/// Whether a grant on `key` lets `caller` do `operation` with `context`.
pub(crate) fn allows(
    ctx: &Ctx<'_>,
    account: &str,
    key_id: &str,
    operation: &str,
    context: Option<&[(String, String)]>,
) -> Result<bool, ApiError> {
    if !GRANT_OPERATIONS.contains(&operation) {
        return Ok(false);
    }
    let caller = ctx.caller;
    Ok(ctx.read(|tx| grants_in(tx, account, key_id))?.iter().any(|g| {
        is_principal(caller, &g.body.grantee_principal)
            && names(&g.body, operation)
            && constraints_hold(&g.body, context)
    }))
}

/// A grant as `ListGrants` answers it (without its token's digest).
fn entry(grant: &GrantRecord) -> Result<Value, ApiError> {
    let mut out = serde_json::to_value(&grant.body)
        .map_err(|_| ApiError::internal("a grant cannot be written"))?;
    if let Some(obj) = out.as_object_mut() {
        obj.remove("TokenSha256");
    }
    Ok(out)
}

fn parse_token(token: &str) -> Option<(String, String, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split('|');
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("hg1"), Some(a), Some(k), Some(g), Some(_)) => Some((a.into(), k.into(), g.into())),
        _ => None,
    }
}

/// Runs a grant operation, authorized (its key is in `call.keys`, but for `RetireGrant`, which
/// the grant itself authorizes).
pub(super) fn run<'s>(
    ctx: &Ctx<'s>,
    call: &Call,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    let (state, caller) = (ctx.state, ctx.caller);
    let now = ctx.now();
    match &call.input {
        Input::ListRetirableGrants(input) => {
            let retiring = input.retiring_principal.as_deref().ok_or_else(|| {
                err("ValidationException", "1 validation error detected: Value null at 'retiringPrincipal' failed to satisfy constraint: Member must not be null")
            })?;
            let mut tx = state.store.read()?;
            let grants: Vec<Value> =
                GrantRecord::list(tx.as_mut(), &caller.account, "", 1_000_000)?
                    .iter()
                    .filter(|g| {
                        g.body.retiring_principal.as_deref().unwrap_or_default() == retiring
                    })
                    .map(entry)
                    .collect::<Result<_, _>>()?;
            Ok(paged(&input.paging, grants)?)
        }
        Input::RetireGrant(input) => {
            let (account, key_id, grant_id) = match (
                input.grant_token.as_deref(),
                input.key_id.as_deref(),
                input.grant_id.as_deref(),
            ) {
                (Some(t), _, _) => parse_token(t).ok_or_else(|| {
                    err("InvalidGrantTokenException", "The grant token is not valid.")
                })?,
                (None, Some(k), Some(g)) => {
                    let mut tx = state.store.read()?;
                    let key_ref = resolve(tx.as_mut(), &caller.account, k)?;
                    (key_ref.account, key_ref.key_id, g.to_string())
                }
                _ => {
                    return Err(err(
                        "ValidationException",
                        "Specify GrantToken, or KeyId and GrantId.",
                    ))
                }
            };
            let mut tx = state.store.begin()?;
            let key_ref =
                super::KeyRef { account: account.clone(), key_id: key_id.clone(), alias: None };
            ctx.touch(&key_ref.account);
            let key = load(tx.as_mut(), &key_ref, now)?;
            effect.resources = vec![super::keys::resource(&key)];
            let grant = GrantRecord::get_for_update(
                tx.as_mut(),
                &account,
                &format!("{key_id}/{grant_id}"),
            )?
            .ok_or_else(|| err("NotFoundException", format!("Grant ID {grant_id} not found")))?;
            if let Some(t) = input.grant_token.as_deref() {
                let presented = sigv4::encode::hex(&sigv4::key::sha256(t.as_bytes()));
                if presented != grant.body.token_sha256 {
                    return Err(err("InvalidGrantTokenException", "The grant token is not valid."));
                }
            }
            let may =
                is_principal(caller, grant.body.retiring_principal.as_deref().unwrap_or_default())
                    || (is_principal(caller, &grant.body.grantee_principal)
                        && names(&grant.body, "RetireGrant"))
                    || caller.arn == format!("arn:aws:iam::{account}:root");
            if !may {
                return Err(err(
                    "AccessDeniedException",
                    format!("User: {} is not allowed to retire grant {grant_id}", caller.arn),
                ));
            }
            effect.param("keyId", json!(key.body.arn));
            effect.param("grantId", json!(grant_id));
            GrantRecord::delete(tx.as_mut(), &account, &format!("{key_id}/{grant_id}"))?;
            effect.tx = Some(tx);
            Ok(json!({}))
        }
        other => {
            let key_id = other.key_id().ok_or_else(|| ApiError::internal("no key named"))?;
            effect.param("keyId", json!(key_id));
            let (_, key) = call.key(0)?;
            let mut tx = state.store.begin()?;
            match other {
                Input::ListGrants(input) => {
                    let grant_id = input.grant_id.as_deref();
                    let grantee = input.grantee_principal.as_deref();
                    let grants: Vec<Value> = grants_of(tx.as_mut(), key)?
                        .iter()
                        .filter(|g| grant_id.is_none_or(|id| g.body.grant_id == id))
                        .filter(|g| grantee.is_none_or(|p| g.body.grantee_principal == p))
                        .map(entry)
                        .collect::<Result<_, _>>()?;
                    paged(&input.paging, grants)
                }
                Input::RevokeGrant(input) => {
                    let grant_id = input.grant_id.as_str();
                    effect.param("grantId", json!(grant_id));
                    let k = format!("{}/{grant_id}", key.key);
                    if GrantRecord::get(tx.as_mut(), &key.account, &k)?.is_none() {
                        return Err(err(
                            "NotFoundException",
                            format!("Grant ID {grant_id} not found"),
                        ));
                    }
                    GrantRecord::delete(tx.as_mut(), &key.account, &k)?;
                    effect.tx = Some(tx);
                    Ok(json!({}))
                }
                Input::CreateGrant(input) => create(ctx, input, effect, tx, key),
                _ => Err(ApiError::internal("not a grant operation")),
            }
        }
    }
}

fn paged(paging: &Paging, grants: Vec<Value>) -> Result<Value, ApiError> {
    let (items, next) = super::keys::page(paging, grants, 50)?;
    let mut out = json!({ "Grants": items, "Truncated": next.is_some() });
    if let (Some(m), Some(obj)) = (next, out.as_object_mut()) {
        obj.insert("NextMarker".into(), json!(m));
    }
    Ok(out)
}

fn create<'s>(
    ctx: &Ctx<'s>,
    input: &CreateGrant,
    effect: &mut Effect<'s>,
    mut tx: Box<dyn store::Tx + 's>,
    key: &KeyRecord,
) -> Result<Value, ApiError> {
    let (caller, now) = (ctx.caller, ctx.now());
    let grantee = input.grantee_principal.clone().unwrap_or_default();
    if grantee.is_empty() || !grantee.starts_with("arn:aws:") {
        return Err(err(
            "ValidationException",
            "GranteePrincipal must be the ARN of an AWS principal.",
        ));
    }
    let retiring = input.retiring_principal.clone().unwrap_or_default();
    let operations = input.operations.clone();
    if operations.is_empty() {
        return Err(err("ValidationException", "Operations must list at least one operation."));
    }
    if let Some(bad) = operations.iter().find(|o| !GRANT_OPERATIONS.contains(&o.as_str())) {
        return Err(err("ValidationException", format!("{bad} is not a grant operation.")));
    }
    let constraints = input.constraints.clone();
    if constraints.is_some() {
        if let Some(op) = operations.iter().find(|o| !WITH_CONTEXT.contains(&o.as_str())) {
            return Err(err("ValidationException", format!("Grant constraints cannot be used with {op}, which takes no encryption context.")));
        }
    }
    let name = input.name.clone().unwrap_or_default();
    effect.param("granteePrincipal", json!(grantee));
    effect.param("operations", json!(operations));
    if !retiring.is_empty() {
        effect.param("retiringPrincipal", json!(retiring));
    }
    if let Some(c) = &constraints {
        effect.param(
            "constraints",
            serde_json::to_value(c).map_err(|_| ApiError::internal("constraints unwritable"))?,
        );
    }
    // A key's grants are created one at a time, so the quota and a named grant's idempotency
    // hold against concurrent CreateGrants (a client's retry racing its first try).
    KeyRecord::get_for_update(tx.as_mut(), &key.account, &key.key)?;
    let existing = grants_of(tx.as_mut(), key)?;
    if existing.len() >= MAX_GRANTS_PER_KEY {
        return Err(err("LimitExceededException", "The key has too many grants."));
    }
    // A named grant with the same parameters is the same grant (CreateGrant is idempotent).
    if !name.is_empty() {
        if let Some(same) = existing.iter().find(|g| {
            g.body.name == name
                && g.body.grantee_principal == grantee
                && g.body.operations == operations
        }) {
            let id = same.body.grant_id.clone();
            return Ok(
                json!({ "GrantId": id, "GrantToken": reissue(&key.account, &key.key, &id) }),
            );
        }
    }
    let grant_id = sigv4::encode::hex(&sigv4::key::sha256(crate::support::ids::uuid().as_bytes()));
    let token = reissue(&key.account, &key.key, &grant_id);
    let grant = Grant {
        key_id: key.body.arn.clone(),
        grant_id: grant_id.clone(),
        name,
        creation_date: crate::support::time::epoch_seconds_f64(now),
        grantee_principal: grantee,
        retiring_principal: Some(retiring).filter(|r| !r.is_empty()),
        issuing_account: format!("arn:aws:iam::{}:root", caller.account),
        operations,
        constraints,
        token_sha256: sigv4::encode::hex(&sigv4::key::sha256(token.as_bytes())),
    };
    GrantRecord::new(&key.account, &format!("{}/{grant_id}", key.key), grant, now)
        .put(tx.as_mut(), PutMode::Create)?;
    effect.tx = Some(tx);
    effect.response = Some(json!({ "grantId": grant_id }));
    Ok(json!({ "GrantId": grant_id, "GrantToken": token }))
}

/// A grant token names the grant; it is deterministic per grant so that an idempotent
/// `CreateGrant` can answer with the same token.
fn reissue(account: &str, key_id: &str, grant_id: &str) -> String {
    let tag = sigv4::encode::hex(&sigv4::key::sha256(
        format!("{account}|{key_id}|{grant_id}").as_bytes(),
    ));
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("hg1|{account}|{key_id}|{grant_id}|{}", tag.get(..16).unwrap_or_default()))
}
