//! Virtual MFA devices (TOTP, RFC 6238): create, enable with two consecutive codes, resync,
//! deactivate, delete, list; and checking a code when STS is asked for an MFA-authenticated
//! session. A device's seed is sealed by the root of trust; it leaves the server once, in the
//! `CreateVirtualMFADevice` answer.

use crate::error::ApiError;
use crate::protocol::xml::{self, Xml};
use crate::services::iam::input::Input;
use crate::services::iam::IamOperation::{self, self as Op};
use crate::services::iam::{create_entity, no_such, required};
use base64::Engine;
use crypto::RootOfTrust;
use serde_json::{json, Value};
use store::{PutMode, Record, Tx};

/// MFA devices one user may have enabled at once (AWS's quota).
pub const MAX_DEVICES_PER_USER: usize = 8;

fn seed_context(account: &str, name: &str) -> Vec<u8> {
    format!("hermetic:mfa-seed:{account}:{name}").into_bytes()
}

fn invalid_code() -> ApiError {
    ApiError::sender(
        403,
        "InvalidAuthenticationCode",
        "Authentication code for device is not valid.",
    )
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The device name a serial number of `account` names (`arn:aws:iam::ACCOUNT:mfa/PATH/NAME`).
fn name_of<'a>(account: &str, serial: &'a str) -> Option<&'a str> {
    let rest = serial.strip_prefix(&format!("arn:aws:iam::{account}:mfa/"))?;
    rest.rsplit('/').next().filter(|n| !n.is_empty())
}

fn device(tx: &mut dyn store::ReadTx, account: &str, serial: &str) -> Result<Record, ApiError> {
    let missing = || no_such(&format!("MFA device with serial number {serial} not found."));
    let name = name_of(account, serial).ok_or_else(missing)?;
    tx.get_record(account, "mfa", name)?.ok_or_else(missing)
}

/// [`device`], held against concurrent writers until `tx` ends (STS's [`consume`] advances the
/// device's `LastStep` under the same lock).
fn locked_device(tx: &mut dyn Tx, account: &str, serial: &str) -> Result<Record, ApiError> {
    let missing = || no_such(&format!("MFA device with serial number {serial} not found."));
    let name = name_of(account, serial).ok_or_else(missing)?;
    tx.get_record_for_update(account, "mfa", name)?.ok_or_else(missing)
}

fn seed(
    root: &dyn RootOfTrust,
    account: &str,
    body: &Value,
) -> Result<crypto::SecretBytes, ApiError> {
    let unreadable = || ApiError::unavailable("the MFA device's seed cannot be opened");
    let name = body.get("Name").and_then(Value::as_str).unwrap_or_default();
    let sealed = b64()
        .decode(body.get("SeedSealed").and_then(Value::as_str).unwrap_or_default())
        .map_err(|_| unreadable())?;
    root.unwrap(&seed_context(account, name), &sealed).map_err(|_| unreadable())
}

fn last_step(body: &Value) -> u64 {
    body.get("LastStep").and_then(Value::as_u64).unwrap_or(0)
}

fn now_step(now_ms: i64) -> u64 {
    crypto::totp::step_of(u64::try_from(now_ms / 1000).unwrap_or(0))
}

/// Checks two consecutive codes (enable, resync): the step of the second.
fn check_pair(
    seed: &[u8],
    code1: &str,
    code2: &str,
    after: u64,
    now_ms: i64,
) -> Result<u64, ApiError> {
    let now = now_step(now_ms);
    // The first code may be a few steps old (the user reads two codes off the app in turn).
    let from = now.saturating_sub(10).max(after.saturating_add(1));
    let first = crypto::totp::find_step(seed, code1, from, now + 1).ok_or_else(invalid_code)?;
    if crypto::totp::find_step(seed, code2, first + 1, first + 1).is_none() {
        return Err(invalid_code());
    }
    Ok(first + 1)
}

/// Checks an STS `TokenCode` for `serial` in `account`: the device must be enabled for `user`
/// (the caller; root and role callers have no virtual devices here) and the code current and
/// unused. Returns the code's time step for [`consume`].
pub fn check_code(
    tx: &mut dyn store::ReadTx,
    root: &dyn RootOfTrust,
    account: &str,
    serial: &str,
    user: Option<&str>,
    code: &str,
    now_ms: i64,
) -> Result<u64, ApiError> {
    let failed = || {
        ApiError::sender(
            403,
            "AccessDenied",
            "MultiFactorAuthentication failed with invalid MFA one time pass code.",
        )
    };
    let record = device(tx, account, serial).map_err(|_| failed())?;
    let owner = record.body.get("UserName").and_then(Value::as_str);
    if owner.is_none() || owner != user {
        return Err(failed());
    }
    let seed = seed(root, account, &record.body)?;
    let now = now_step(now_ms);
    let from = now.saturating_sub(1).max(last_step(&record.body).saturating_add(1));
    crypto::totp::find_step(seed.expose(), code, from, now + 1).ok_or_else(failed)
}

/// Marks `step` used on the device, inside the transaction that issues the session; a code
/// used meanwhile by another request fails this one.
pub fn consume(
    tx: &mut dyn Tx,
    account: &str,
    serial: &str,
    step: u64,
    now_ms: i64,
) -> Result<(), ApiError> {
    let name = name_of(account, serial).ok_or_else(invalid_code)?;
    let mut record = tx.get_record_for_update(account, "mfa", name)?.ok_or_else(invalid_code)?;
    if last_step(&record.body) >= step {
        return Err(ApiError::sender(
            403,
            "AccessDenied",
            "MultiFactorAuthentication failed with invalid MFA one time pass code.",
        ));
    }
    if let Some(obj) = record.body.as_object_mut() {
        obj.insert("LastStep".into(), step.into());
    }
    record.updated_at_ms = now_ms;
    tx.put_record(&record, PutMode::Update).map_err(ApiError::from)
}

/// The devices enabled for `user`.
pub fn devices_of(
    tx: &mut dyn store::ReadTx,
    account: &str,
    user: &str,
) -> Result<Vec<Record>, ApiError> {
    Ok(crate::support::records::list(tx, account, "mfa", "", 10_000)?
        .into_iter()
        .filter(|r| r.body.get("UserName").and_then(Value::as_str) == Some(user))
        .collect())
}

fn user_exists(
    tx: &mut dyn store::ReadTx,
    account: &str,
    user: &str,
) -> Result<crate::records::Stored<crate::records::iam::User>, ApiError> {
    crate::records::Stored::<crate::records::iam::User>::get(tx, account, user)?
        .ok_or_else(|| no_such(&format!("The user with name {user} cannot be found.")))
}

fn text<'a>(body: &'a Value, key: &str) -> &'a str {
    body.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Runs an MFA action; `None` when `action` is not one.
pub fn handle(
    operation: IamOperation,
    tx: &mut dyn Tx,
    root: &dyn RootOfTrust,
    account: &str,
    input: &Input,
    now: i64,
) -> Result<Option<Xml>, ApiError> {
    let mut run = || -> Result<Option<Xml>, ApiError> {
        Ok(match operation {
            Op::CreateVirtualMFADevice => {
                let name = required(input, "VirtualMFADeviceName")?;
                let ok = (1..=226).contains(&name.len())
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
                if !ok {
                    return Err(ApiError::sender(
                        400,
                        "ValidationError",
                        "VirtualMFADeviceName must be 1 to 226 characters of [\\w+=,.@-]",
                    ));
                }
                let path = input.text("Path").unwrap_or("/");
                if !(path.starts_with('/') && path.ends_with('/') && path.len() <= 512) {
                    return Err(ApiError::sender(
                        400,
                        "ValidationError",
                        "Path must begin and end with /",
                    ));
                }
                let secret = crypto::totp::new_seed();
                let sealed = root
                    .wrap(&seed_context(account, name), secret.expose())
                    .map_err(|_| ApiError::unavailable("the root of trust is unavailable"))?;
                let serial = format!("arn:aws:iam::{account}:mfa{path}{name}");
                let mut body = json!({
                    "Name": name, "Path": path, "SerialNumber": serial,
                    "SeedSealed": b64().encode(sealed), "CreateDate": crate::support::time::iso8601(now), "LastStep": 0,
                });
                crate::services::iam::tags::merge(
                    &mut body,
                    &crate::services::iam::tags::request_tags(input)?,
                )?;
                let record = Record {
                    mac: Vec::new(),
                    account: account.into(),
                    kind: "mfa".into(),
                    key: name.into(),
                    format_version: 1,
                    body,
                    updated_at_ms: now,
                };
                create_entity(
                    tx,
                    &record,
                    "MFADevice entity at the same path and name already exists.".into(),
                )?;
                // The seed goes out once, as the base32 text authenticator apps take (a blob,
                // so base64 on the wire).
                let seed_text = crypto::totp::base32(secret.expose());
                Some(xml::build(|w| {
                    w.elem("VirtualMFADevice", |w| {
                        w.text("SerialNumber", &serial)
                            .text("Base32StringSeed", &b64().encode(seed_text.as_bytes()));
                    });
                }))
            }
            Op::DeleteVirtualMFADevice => {
                let serial = required(input, "SerialNumber")?;
                let record = locked_device(tx, account, serial)?;
                if record.body.get("UserName").and_then(Value::as_str).is_some() {
                    return Err(ApiError::sender(
                        409,
                        "DeleteConflict",
                        "MFA device is in use and cannot be deleted: deactivate it first.",
                    ));
                }
                tx.delete_record(account, "mfa", &record.key)?;
                None
            }
            Op::EnableMFADevice | Op::ResyncMFADevice => {
                let user = required(input, "UserName")?;
                let serial = required(input, "SerialNumber")?;
                let code1 = required(input, "AuthenticationCode1")?;
                let code2 = required(input, "AuthenticationCode2")?;
                user_exists(tx, account, user)?;
                let mut record = locked_device(tx, account, serial)?;
                let owner = record.body.get("UserName").and_then(Value::as_str).map(str::to_string);
                if operation == Op::EnableMFADevice {
                    if owner.is_some() {
                        return Err(ApiError::sender(
                            409,
                            "EntityAlreadyExists",
                            "MFA device is already in use.",
                        ));
                    }
                    if devices_of(tx, account, user)?.len() >= MAX_DEVICES_PER_USER {
                        return Err(ApiError::sender(
                            409,
                            "LimitExceeded",
                            format!(
                                "Cannot exceed quota for MFADevicesPerUser: {MAX_DEVICES_PER_USER}"
                            ),
                        ));
                    }
                } else if owner.as_deref() != Some(user) {
                    return Err(no_such(&format!(
                        "MFA device with serial number {serial} is not enabled for user {user}."
                    )));
                }
                let secret = seed(root, account, &record.body)?;
                let step = check_pair(secret.expose(), code1, code2, last_step(&record.body), now)?;
                if let Some(obj) = record.body.as_object_mut() {
                    obj.insert("LastStep".into(), step.into());
                    if operation == Op::EnableMFADevice {
                        obj.insert("UserName".into(), user.into());
                        obj.insert("EnableDate".into(), crate::support::time::iso8601(now).into());
                    }
                }
                record.updated_at_ms = now;
                tx.put_record(&record, PutMode::Update)?;
                None
            }
            Op::DeactivateMFADevice => {
                let serial = required(input, "SerialNumber")?;
                let mut record = locked_device(tx, account, serial)?;
                let owner = record.body.get("UserName").and_then(Value::as_str).map(str::to_string);
                let named = input.text("UserName");
                if owner.is_none() || (named.is_some() && named != owner.as_deref()) {
                    return Err(no_such(&format!(
                        "MFA device with serial number {serial} is not enabled for that user."
                    )));
                }
                if let Some(obj) = record.body.as_object_mut() {
                    obj.remove("UserName");
                    obj.remove("EnableDate");
                }
                record.updated_at_ms = now;
                tx.put_record(&record, PutMode::Update)?;
                None
            }
            Op::GetMFADevice => {
                let serial = required(input, "SerialNumber")?;
                let record = device(tx, account, serial)?;
                let owner = record.body.get("UserName").and_then(Value::as_str);
                // A device that is not enabled, or is another user's, is not found.
                let missing =
                    || no_such(&format!("MFA device with serial number {serial} not found."));
                let owner = owner.ok_or_else(missing)?;
                if input.text("UserName").is_some_and(|u| u != owner) {
                    return Err(missing());
                }
                Some(xml::build(|w| {
                    w.text("UserName", owner)
                        .text("SerialNumber", text(&record.body, "SerialNumber"))
                        .text("EnableDate", text(&record.body, "EnableDate"));
                }))
            }
            Op::ListMFADevices => {
                let user = required(input, "UserName")?;
                user_exists(tx, account, user)?;
                let members: Vec<Xml> = devices_of(tx, account, user)?
                    .iter()
                    .map(|r| {
                        xml::build(|w| {
                            w.elem("member", |w| {
                                w.text("UserName", user)
                                    .text("SerialNumber", text(&r.body, "SerialNumber"))
                                    .text("EnableDate", text(&r.body, "EnableDate"));
                            });
                        })
                    })
                    .collect();
                Some(crate::services::iam::paged(input, "MFADevices", members)?)
            }
            _ => {
                // ListVirtualMFADevices
                let status = input.text("AssignmentStatus").unwrap_or("Any");
                if !["Assigned", "Unassigned", "Any"].contains(&status) {
                    return Err(ApiError::sender(
                        400,
                        "ValidationError",
                        "AssignmentStatus must be one of Assigned, Unassigned, Any",
                    ));
                }
                let mut out = Vec::new();
                for r in crate::support::records::list(tx, account, "mfa", "", 10_000)? {
                    let owner = r.body.get("UserName").and_then(Value::as_str);
                    let wanted = match status {
                        "Assigned" => owner.is_some(),
                        "Unassigned" => owner.is_none(),
                        _ => true,
                    };
                    if !wanted {
                        continue;
                    }
                    let user = match owner {
                        Some(user) => user_exists(tx, account, user).ok(),
                        None => None,
                    };
                    out.push(xml::build(|w| {
                        w.elem("member", |w| {
                            w.text("SerialNumber", text(&r.body, "SerialNumber"));
                            if let Some(u) = &user {
                                w.elem("User", |w| {
                                    w.fragment(&crate::services::iam::user_xml(&u.body));
                                });
                            }
                            if owner.is_some() {
                                w.text("EnableDate", text(&r.body, "EnableDate"));
                            }
                        });
                    }));
                }
                Some(crate::services::iam::paged(input, "VirtualMFADevices", out)?)
            }
        })
    };
    run()
}
