//! Instance profiles: named containers for one role (`CreateInstanceProfile`,
//! `AddRoleToInstanceProfile`, `ListInstanceProfilesForRole`, which every Terraform destroy of a
//! role calls, and their tags).

use crate::error::ApiError;
use crate::protocol::xml::{self, Xml};
use crate::records::iam::InstanceProfile;
use crate::records::Stored;
use crate::services::iam::input::Input;
use crate::services::iam::roles::{get_role, role_xml};
use crate::services::iam::IamOperation::{self, self as Op};
use crate::services::iam::{check_name, create, member, no_such, paged, required, wrapped};
use store::{PutMode, Tx};

/// Most roles in one instance profile (AWS's quota, `InstanceSessionsPerInstanceProfile`).
pub const MAX_ROLES: usize = 1;

fn get(
    tx: &mut dyn store::ReadTx,
    account: &str,
    name: &str,
) -> Result<Stored<InstanceProfile>, ApiError> {
    Stored::<InstanceProfile>::get(tx, account, name)?
        .ok_or_else(|| no_such(&format!("Instance Profile {name} cannot be found.")))
}

/// Every instance profile of an account.
fn all(
    tx: &mut dyn store::ReadTx,
    account: &str,
) -> Result<Vec<Stored<InstanceProfile>>, ApiError> {
    Stored::<InstanceProfile>::list(tx, account, "", 100_000)
}

/// The instance profiles that hold role `role`.
pub(crate) fn holding(
    tx: &mut dyn store::ReadTx,
    account: &str,
    role: &str,
) -> Result<Vec<Stored<InstanceProfile>>, ApiError> {
    Ok(all(tx, account)?.into_iter().filter(|p| p.body.roles.iter().any(|r| r == role)).collect())
}

/// An instance profile with its roles in full, as IAM answers it.
pub(crate) fn profile_xml(
    tx: &mut dyn store::ReadTx,
    account: &str,
    p: &InstanceProfile,
) -> Result<Xml, ApiError> {
    let mut roles = Vec::new();
    for name in &p.roles {
        // DeleteRole refuses a role still in a profile: a missing one is a damaged store.
        let role = get_role(tx, account, name)
            .map_err(|_| ApiError::unavailable("an instance profile's role could not be read"))?;
        roles.push(member(&role_xml(&role.body)));
    }
    Ok(xml::build(|w| {
        w.text("Path", &p.path)
            .text("InstanceProfileName", &p.instance_profile_name)
            .text("InstanceProfileId", &p.instance_profile_id)
            .text("Arn", &p.arn)
            .text("CreateDate", &p.create_date)
            .elem("Roles", |w| {
                w.fragments(&roles);
            })
            .fragment(&crate::services::iam::tags::xml(&p.tags));
    }))
}

/// Runs an instance profile action.
pub fn handle(
    operation: IamOperation,
    tx: &mut dyn Tx,
    account: &str,
    input: &Input,
    now: i64,
) -> Result<Option<Xml>, ApiError> {
    Ok(match operation {
        Op::CreateInstanceProfile => {
            let name = required(input, "InstanceProfileName")?;
            check_name(name, "instanceProfileName")?;
            crate::services::iam::quotas::check_count(
                tx,
                account,
                "instance_profile",
                crate::services::iam::quotas::INSTANCE_PROFILES,
                "InstanceProfilesPerAccount",
            )?;
            let path = crate::services::iam::check_path(input.text("Path").unwrap_or("/"))?;
            let id = crate::support::ids::iam_id("AIPA");
            let mut profile = InstanceProfile {
                instance_profile_name: name.to_string(),
                instance_profile_id: id,
                path: path.to_string(),
                arn: format!("arn:aws:iam::{account}:instance-profile{path}{name}"),
                create_date: crate::support::time::iso8601(now),
                roles: Vec::new(),
                tags: Vec::new(),
            };
            crate::services::iam::tags::merge_into(
                &mut profile.tags,
                &crate::services::iam::tags::request_tags(input)?,
            )?;
            let profile = Stored::new(account, name, profile, now);
            create(tx, &profile, format!("Instance Profile {name} already exists."))?;
            Some(wrapped("InstanceProfile", &[&profile_xml(tx, account, &profile.body)?]))
        }
        Op::GetInstanceProfile => {
            let profile = get(tx, account, required(input, "InstanceProfileName")?)?;
            Some(wrapped("InstanceProfile", &[&profile_xml(tx, account, &profile.body)?]))
        }
        Op::DeleteInstanceProfile => {
            let name = required(input, "InstanceProfileName")?;
            if !get(tx, account, name)?.body.roles.is_empty() {
                return Err(ApiError::sender(
                    409,
                    "DeleteConflict",
                    "Cannot delete entity, must remove roles from instance profile first.",
                ));
            }
            Stored::<InstanceProfile>::delete(tx, account, name)?;
            None
        }
        Op::ListInstanceProfiles | Op::ListInstanceProfilesForRole => {
            let profiles = if operation == Op::ListInstanceProfiles {
                let prefix = input.text("PathPrefix").unwrap_or("/");
                all(tx, account)?.into_iter().filter(|p| p.body.path.starts_with(prefix)).collect()
            } else {
                let role = required(input, "RoleName")?;
                get_role(tx, account, role)?;
                holding(tx, account, role)?
            };
            let mut members = Vec::new();
            for p in &profiles {
                members.push(member(&profile_xml(tx, account, &p.body)?));
            }
            Some(paged(input, "InstanceProfiles", members)?)
        }
        Op::AddRoleToInstanceProfile | Op::RemoveRoleFromInstanceProfile => {
            let name = required(input, "InstanceProfileName")?;
            let role = required(input, "RoleName")?;
            let mut profile = get(tx, account, name)?;
            let held = profile.body.roles.iter().any(|r| r == role);
            if operation == Op::AddRoleToInstanceProfile {
                get_role(tx, account, role)?;
                if profile.body.roles.len() >= MAX_ROLES {
                    return Err(ApiError::sender(
                        409,
                        "LimitExceeded",
                        format!("Cannot exceed quota for InstanceSessionsPerInstanceProfile: {MAX_ROLES}"),
                    ));
                }
                profile.body.roles.push(role.to_string());
            } else {
                if !held {
                    return Err(no_such(&format!(
                        "The role with name {role} cannot be found in instance profile {name}."
                    )));
                }
                profile.body.roles.retain(|r| r != role);
            }
            profile.updated_at_ms = now;
            profile.put(tx, PutMode::Update)?;
            None
        }
        Op::TagInstanceProfile | Op::UntagInstanceProfile | Op::ListInstanceProfileTags => {
            crate::services::iam::tags::edit::<InstanceProfile>(
                operation,
                tx,
                account,
                required(input, "InstanceProfileName")?,
                input,
                now,
            )?
        }
        _ => return Err(ApiError::internal("not an instance profile operation")),
    })
}
