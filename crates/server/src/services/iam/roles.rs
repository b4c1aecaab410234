//! IAM roles: trust policies, inline role policies, and the lookups STS needs to assume them.

use crate::error::ApiError;
use crate::protocol::query::xml_escape;
use crate::services::iam::input::Input;
use crate::services::iam::IamOperation::{self, self as Op};
use crate::services::iam::{check_name, create_entity, members, no_such, required};
use serde_json::{json, Value};
use store::{PutMode, Record, Tx};

/// Longest session a role allows unless it says otherwise (seconds).
pub const DEFAULT_MAX_SESSION: i64 = 3600;

pub(crate) fn role_xml(body: &Value) -> String {
    let f = |k: &str| xml_escape(body.get(k).and_then(Value::as_str).unwrap_or_default());
    let max = body.get("MaxSessionDuration").and_then(Value::as_i64).unwrap_or(DEFAULT_MAX_SESSION);
    format!(
        "<Path>{}</Path><RoleName>{}</RoleName><RoleId>{}</RoleId><Arn>{}</Arn><CreateDate>{}</CreateDate>\
         <AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument><MaxSessionDuration>{max}</MaxSessionDuration>{}",
        f("Path"),
        f("RoleName"),
        f("RoleId"),
        f("Arn"),
        f("CreateDate"),
        xml_escape(&sigv4::encode::uri_encode(
            body.get("AssumeRolePolicyDocument").and_then(Value::as_str).unwrap_or_default(),
            false
        )),
        crate::services::iam::managed::boundary_xml(body)
    )
}

/// A role's record.
pub fn get_role(tx: &mut dyn store::ReadTx, account: &str, name: &str) -> Result<Record, ApiError> {
    tx.get_record(account, "role", name)?
        .ok_or_else(|| no_such(&format!("The role with name {name} cannot be found.")))
}

/// The inline policies of a role, as (name, document) pairs.
pub fn role_policies(
    tx: &mut dyn store::ReadTx,
    account: &str,
    role: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = crate::services::iam::inline::list(
        tx,
        account,
        crate::services::iam::inline::Owner::Role,
        role,
    )?;
    out.extend(crate::services::iam::managed::attached(tx, account, "role", role)?);
    Ok(out)
}

/// Runs a role action; `None` when `action` is not one.
pub fn handle(
    operation: IamOperation,
    tx: &mut dyn Tx,
    account: &str,
    input: &Input,
    now: i64,
) -> Result<Option<String>, ApiError> {
    let mut run = || -> Result<Option<String>, ApiError> {
        Ok(match operation {
            Op::CreateRole => {
                let name = required(input, "RoleName")?;
                check_name(name, "roleName")?;
                let trust = required(input, "AssumeRolePolicyDocument")?;
                crate::services::iam::inline::check_document(
                    trust,
                    policy::validate::PolicyKind::Trust,
                )?;
                crate::services::iam::quotas::check_size(
                    trust,
                    crate::services::iam::quotas::TRUST_POLICY_SIZE,
                    "ACLSizePerRole",
                )?;
                crate::services::iam::quotas::check_count(
                    tx,
                    account,
                    "role",
                    crate::services::iam::quotas::ROLES,
                    "RolesPerAccount",
                )?;
                let path = input.text("Path").unwrap_or("/");
                let max = match input.number("MaxSessionDuration") {
                    Some(v) => {
                        Some(v).filter(|m| (3600..=43_200).contains(m)).ok_or_else(|| {
                            ApiError::sender(
                                400,
                                "ValidationError",
                                "MaxSessionDuration must be between 3600 and 43200 seconds",
                            )
                        })?
                    }
                    None => DEFAULT_MAX_SESSION,
                };
                let id = format!(
                    "AROA{}",
                    crate::support::ids::random_text(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 17)
                );
                let mut body = json!({
                    "RoleName": name, "RoleId": id, "Path": path,
                    "Arn": format!("arn:aws:iam::{account}:role{path}{name}"), "CreateDate": crate::support::time::iso8601(now),
                    "AssumeRolePolicyDocument": trust, "MaxSessionDuration": max,
                });
                crate::services::iam::tags::merge(
                    &mut body,
                    &crate::services::iam::tags::request_tags(input)?,
                )?;
                let record = Record {
                    account: account.into(),
                    kind: "role".into(),
                    key: name.into(),
                    format_version: 1,
                    body: body.clone(),
                    updated_at_ms: now,
                };
                create_entity(tx, &record, format!("Role with name {name} already exists."))?;
                Some(format!("<Role>{}</Role>", role_xml(&body)))
            }
            Op::GetRole => {
                let role = get_role(tx, account, required(input, "RoleName")?)?;
                Some(format!(
                    "<Role>{}{}</Role>",
                    role_xml(&role.body),
                    crate::services::iam::tags::xml(&role.body)
                ))
            }
            Op::ListRoles => {
                let prefix = input.text("PathPrefix").unwrap_or("/");
                let roles: Vec<Record> =
                    crate::support::records::list(tx, account, "role", "", 100_000)?
                        .into_iter()
                        .filter(|r| {
                            r.body
                                .get("Path")
                                .and_then(Value::as_str)
                                .unwrap_or("/")
                                .starts_with(prefix)
                        })
                        .collect();
                Some(crate::services::iam::paged(input, "Roles", members(&roles, role_xml))?)
            }
            Op::DeleteRole => {
                let name = required(input, "RoleName")?;
                get_role(tx, account, name)?;
                if !role_policies(tx, account, name)?.is_empty() {
                    return Err(ApiError::sender(
                        409,
                        "DeleteConflict",
                        "Cannot delete entity, must delete policies first.",
                    ));
                }
                tx.delete_record(account, "role", name)?;
                None
            }
            Op::UpdateAssumeRolePolicy => {
                let name = required(input, "RoleName")?;
                let trust = required(input, "PolicyDocument")?;
                crate::services::iam::inline::check_document(
                    trust,
                    policy::validate::PolicyKind::Trust,
                )?;
                crate::services::iam::quotas::check_size(
                    trust,
                    crate::services::iam::quotas::TRUST_POLICY_SIZE,
                    "ACLSizePerRole",
                )?;
                let mut role = get_role(tx, account, name)?;
                if let Some(obj) = role.body.as_object_mut() {
                    obj.insert("AssumeRolePolicyDocument".into(), Value::String(trust.into()));
                }
                role.updated_at_ms = now;
                tx.put_record(&role, PutMode::Update)?;
                None
            }
            _ => return Err(ApiError::internal("not a role operation")),
        })
    };
    run()
}
