//! KMS aliases: `CreateAlias`, `UpdateAlias`, `DeleteAlias` and `ListAliases`. An alias names
//! one key of its account; the key keeps the list of its aliases (`kms:ResourceAliases`).

use super::input::{Input, Paging};
use super::keys::{page, paged, resource};
use super::{err, Call, KeyRecord, KmsOperation};
use crate::error::ApiError;
use crate::pipeline::service::{Ctx, Effect, Operation};
use crate::records::kms::{Alias, KeyState};
use crate::records::Stored;
use serde_json::{json, Value};
use store::PutMode;

/// `ListAliases` (of the account, or of the key `KeyId` names).
pub(super) fn list(ctx: &Ctx<'_>, call: &Call) -> Result<Value, ApiError> {
    let (state, account) = (ctx.state, ctx.caller.account.clone());

    let filter = call.keys.first().map(|(key_ref, _)| key_ref.key_id.clone());
    let mut tx = state.store.read()?;
    let aliases: Vec<Value> = Stored::<Alias>::list(tx.as_mut(), &account, "", 1_000_000)?
        .into_iter()
        .filter(|r| filter.as_deref().is_none_or(|k| r.body.target_key_id == k))
        .map(|r| serde_json::to_value(r.body))
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::internal("an alias cannot be written"))?;
    let paging = match &call.input {
        Input::ListAliases(i) => i.paging.clone(),
        _ => Paging::default(),
    };
    Ok(paged("Aliases", page(&paging, aliases, 50)?))
}

pub(super) fn check_alias_name(name: &str) -> Result<(), ApiError> {
    let ok = name.starts_with("alias/")
        && name.len() > 6
        && name.len() <= 256
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-:".contains(&b));
    if !ok {
        return Err(err(
            "ValidationException",
            format!("Alias must be alias/ followed by 1 to 250 of [a-zA-Z0-9/_-]: {name}"),
        ));
    }
    if name.starts_with("alias/aws/") {
        return Err(err(
            "NotAuthorizedException",
            "Alias names starting with alias/aws/ are reserved for AWS.",
        ));
    }
    Ok(())
}

/// An alias's ARN.
pub(super) fn alias_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:{name}")
}

pub(super) fn change<'s>(
    ctx: &Ctx<'s>,
    call: &Call,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    use KmsOperation as K;
    let (state, op) = (ctx.state, call.operation);
    let Input::Alias(input) = &call.input else {
        return Err(ApiError::internal("the input is not an alias operation's"));
    };
    let now = ctx.now();
    let account = ctx.caller.account.clone();
    let name = input.alias_name.clone();
    let alias_arn = alias_arn(&ctx.facts.region, &account, &name);
    effect.param("aliasName", json!(name));
    let mut tx = state.store.begin()?;
    let existing = Stored::<Alias>::get_for_update(tx.as_mut(), &account, &name)?;
    // A key authorization read, read again under its lock.
    let lock = |tx: &mut dyn store::Tx, key_id: &str| -> Result<Option<KeyRecord>, ApiError> {
        Ok(KeyRecord::get_for_update(tx, &account, key_id)?.filter(|r| !r.body.deleted(now)))
    };
    // The key an alias pointed at when it was authorized may have changed since (a concurrent
    // UpdateAlias): the one it points at now is checked too.
    let recheck = |key: &KeyRecord, key_ref: &super::KeyRef| -> Result<(), ApiError> {
        let authorized = call.keys.iter().any(|(_, r)| r.key == key.key);
        if authorized {
            return Ok(());
        }
        ctx.authorize(&super::key_check(ctx.caller, op.name(), key, key_ref, Vec::new(), None))
            .map_err(|e| e.denied_as_exception(400))
    };
    let mut touched: Vec<KeyRecord> = Vec::new();
    let target = input.target_key_id.as_deref().unwrap_or_default();
    match op {
        K::CreateAlias | K::UpdateAlias => {
            let mut alias = match (op, existing) {
                (K::CreateAlias, Some(_)) => {
                    return Err(err(
                        "AlreadyExistsException",
                        format!("An alias with the name {alias_arn} already exists"),
                    ))
                }
                (K::CreateAlias, None) => None,
                (_, Some(alias)) => Some(alias),
                (_, None) => {
                    return Err(err(
                        "NotFoundException",
                        format!("Alias {alias_arn} is not found."),
                    ))
                }
            };
            let (key_ref, _) = call.key(0)?;
            let mut new_key = lock(tx.as_mut(), &key_ref.key_id)?.ok_or_else(|| {
                err("NotFoundException", format!("Key '{target}' does not exist"))
            })?;
            effect.param("targetKeyId", json!(target));
            match &mut alias {
                None => {
                    if new_key.body.key_state == KeyState::PendingDeletion {
                        return Err(err(
                            "KMSInvalidStateException",
                            "The key is pending deletion.",
                        ));
                    }
                    let created = crate::support::time::epoch_seconds_f64(now);
                    let alias = Alias {
                        alias_name: name.clone(),
                        alias_arn: alias_arn.clone(),
                        target_key_id: key_ref.key_id.clone(),
                        creation_date: created,
                        last_updated_date: created,
                    };
                    Stored::new(&account, &name, alias, now).put(tx.as_mut(), PutMode::Create)?;
                }
                Some(alias) => {
                    let old_ref = super::KeyRef {
                        account: account.clone(),
                        key_id: alias.body.target_key_id.clone(),
                        alias: None,
                    };
                    if let Some(mut old) = lock(tx.as_mut(), &old_ref.key_id)? {
                        recheck(&old, &old_ref)?;
                        let same_kind = old.body.key_usage == new_key.body.key_usage
                            && old.body.symmetric() == new_key.body.symmetric();
                        if !same_kind {
                            return Err(err(
                                "ValidationException",
                                "An alias can only move to a key of the same type and usage.",
                            ));
                        }
                        old.body.aliases.retain(|a| a != &name);
                        touched.push(old);
                    }
                    alias.body.target_key_id = key_ref.key_id.clone();
                    alias.body.last_updated_date = crate::support::time::epoch_seconds_f64(now);
                    alias.updated_at_ms = now;
                    alias.put(tx.as_mut(), PutMode::Update)?;
                }
            }
            new_key.body.aliases.push(name.clone());
            touched.push(new_key);
        }
        _ => {
            let alias = existing.ok_or_else(|| {
                err("NotFoundException", format!("Alias {alias_arn} is not found."))
            })?;
            let key_ref = super::KeyRef {
                account: account.clone(),
                key_id: alias.body.target_key_id.clone(),
                alias: Some(name.clone()),
            };
            if let Some(mut key) = lock(tx.as_mut(), &key_ref.key_id)? {
                recheck(&key, &key_ref)?;
                key.body.aliases.retain(|a| a != &name);
                touched.push(key);
            }
            Stored::<Alias>::delete(tx.as_mut(), &account, &name)?;
        }
    }
    for mut record in touched {
        record.updated_at_ms = now;
        record.put(tx.as_mut(), PutMode::Update)?;
        effect.resources = vec![resource(&record)];
    }
    effect.tx = Some(tx);
    Ok(json!({}))
}
