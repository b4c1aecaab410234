//! IAM roles: trust policies, inline role policies, and the lookups STS needs to assume them.

use crate::error::ApiError;
use crate::protocol::xml::{self, Xml};
use crate::records::iam::Role;
use crate::records::Stored;
use crate::services::iam::input::Input;
use crate::services::iam::IamOperation::{self, self as Op};
use crate::services::iam::{check_name, no_such, required};
use crate::services::iam::{create, typed_members, wrapped};
use store::{PutMode, Tx};

/// Longest session a role allows unless it says otherwise (seconds).
pub const DEFAULT_MAX_SESSION: i64 = crate::records::iam::DEFAULT_MAX_SESSION;

pub(crate) fn role_xml(role: &Role) -> Xml {
    xml::build(|w| {
        w.text("Path", &role.path)
            .text("RoleName", &role.role_name)
            .text("RoleId", &role.role_id)
            .text("Arn", &role.arn)
            .text("CreateDate", &role.create_date)
            .text(
                "AssumeRolePolicyDocument",
                &sigv4::encode::uri_encode(&role.assume_role_policy_document, false),
            )
            .value("MaxSessionDuration", role.max_session_duration)
            .opt("Description", role.description.as_deref())
            .fragment(&crate::services::iam::managed::boundary_xml(
                role.permissions_boundary_arn.as_deref(),
            ));
    })
}

/// `MaxSessionDuration` when the request gives it: an hour to twelve.
fn max_session(input: &Input) -> Result<Option<i64>, ApiError> {
    input
        .number("MaxSessionDuration")
        .map(|v| {
            Some(v).filter(|m| (3600..=43_200).contains(m)).ok_or_else(|| {
                ApiError::sender(
                    400,
                    "ValidationError",
                    "MaxSessionDuration must be between 3600 and 43200 seconds",
                )
            })
        })
        .transpose()
}

/// A role's record.
pub(crate) fn get_role(
    tx: &mut dyn store::ReadTx,
    account: &str,
    name: &str,
) -> Result<Stored<Role>, ApiError> {
    Stored::<Role>::get(tx, account, name)?
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
) -> Result<Option<Xml>, ApiError> {
    let mut run = || -> Result<Option<Xml>, ApiError> {
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
                let path = crate::services::iam::check_path(input.text("Path").unwrap_or("/"))?;
                // Service-linked and reserved roles are made only by AWS.
                if let Some(reserved) = ["/aws-service-role/", "/aws-reserved/"]
                    .into_iter()
                    .find(|p| path.starts_with(p))
                {
                    return Err(ApiError::sender(
                        400,
                        "InvalidInput",
                        format!("Path prefix '{reserved}' can only be used for AWS Service linked Roles"),
                    ));
                }
                let max = max_session(input)?.unwrap_or(DEFAULT_MAX_SESSION);
                let id = crate::support::ids::iam_id("AROA");
                let mut role = Role {
                    role_name: name.to_string(),
                    role_id: id,
                    path: path.to_string(),
                    arn: format!("arn:aws:iam::{account}:role{path}{name}"),
                    create_date: crate::support::time::iso8601(now),
                    assume_role_policy_document: trust.to_string(),
                    max_session_duration: max,
                    tags: Vec::new(),
                    permissions_boundary_arn: crate::services::iam::managed::requested_boundary(
                        tx, account, input,
                    )?,
                    description: input.text("Description").map(str::to_string),
                };
                crate::services::iam::tags::merge_into(
                    &mut role.tags,
                    &crate::services::iam::tags::request_tags(input)?,
                )?;
                let role = Stored::new(account, name, role, now);
                create(tx, &role, format!("Role with name {name} already exists."))?;
                Some(wrapped("Role", &[&role_xml(&role.body)]))
            }
            Op::GetRole => {
                let role = get_role(tx, account, required(input, "RoleName")?)?;
                Some(wrapped(
                    "Role",
                    &[&role_xml(&role.body), &crate::services::iam::tags::xml(&role.body.tags)],
                ))
            }
            Op::ListRoles => {
                let prefix = input.text("PathPrefix").unwrap_or("/");
                let roles: Vec<Stored<Role>> = Stored::<Role>::list(tx, account, "", 100_000)?
                    .into_iter()
                    .filter(|r| r.body.path.starts_with(prefix))
                    .collect();
                Some(crate::services::iam::paged(input, "Roles", typed_members(&roles, role_xml))?)
            }
            Op::DeleteRole => {
                let name = required(input, "RoleName")?;
                get_role(tx, account, name)?;
                if !crate::services::iam::profiles::holding(tx, account, name)?.is_empty() {
                    return Err(ApiError::sender(
                        409,
                        "DeleteConflict",
                        "Cannot delete entity, must remove roles from instance profile first.",
                    ));
                }
                if !role_policies(tx, account, name)?.is_empty() {
                    return Err(ApiError::sender(
                        409,
                        "DeleteConflict",
                        "Cannot delete entity, must delete policies first.",
                    ));
                }
                Stored::<Role>::delete(tx, account, name)?;
                None
            }
            Op::UpdateRole | Op::UpdateRoleDescription => {
                let mut role = get_role(tx, account, required(input, "RoleName")?)?;
                if let Some(description) = input.text("Description") {
                    role.body.description = Some(description.to_string());
                }
                if let Some(max) = max_session(input)? {
                    role.body.max_session_duration = max;
                }
                role.updated_at_ms = now;
                role.put(tx, PutMode::Update)?;
                // UpdateRole answers an empty result; UpdateRoleDescription the role.
                Some(if operation == Op::UpdateRoleDescription {
                    wrapped("Role", &[&role_xml(&role.body)])
                } else {
                    xml::build(|_| {})
                })
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
                role.body.assume_role_policy_document = trust.to_string();
                role.updated_at_ms = now;
                role.put(tx, PutMode::Update)?;
                None
            }
            _ => return Err(ApiError::internal("not a role operation")),
        })
    };
    run()
}
