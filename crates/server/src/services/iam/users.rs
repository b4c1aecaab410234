//! IAM users and their access keys: create, get, list, delete users; create, list, update,
//! delete access keys (whose secrets are sealed by the root of trust and shown once) and their
//! last use.

use super::input::Input;
use super::{
    caller_user_name, check_name, create, get_user, member, no_such, paged, required, tags,
    typed_members, user_name_or_caller, user_policies, user_xml, wrapped, IamOperation,
    MAX_KEYS_PER_USER,
};
use crate::error::ApiError;
use crate::pipeline::identity::{issue_access_key, Caller, KeyOwner};
use crate::protocol::xml::{self, Xml};
use crate::records::iam::User;
use crate::records::Stored;
use crypto::RootOfTrust;
use store::{AccessKeyStatus, Tx};

/// Runs a user or access-key operation; a new key's id goes to `secret_out` (for the event's
/// response elements, never its secret).
pub(super) fn handle(
    operation: IamOperation,
    tx: &mut dyn Tx,
    (root, caller): (&dyn RootOfTrust, &Caller),
    account: &str,
    input: &Input,
    now: i64,
    secret_out: &mut Option<String>,
) -> Result<Option<Xml>, ApiError> {
    Ok(match operation {
        IamOperation::CreateUser => {
            let name = required(input, "UserName")?;
            check_name(name, "userName")?;
            crate::services::iam::quotas::check_count(
                tx,
                account,
                "user",
                crate::services::iam::quotas::USERS,
                "UsersPerAccount",
            )?;
            let path = input.text("Path").unwrap_or("/");
            let id = crate::support::ids::iam_id("AIDA");
            let mut user = User {
                user_name: name.to_string(),
                user_id: id,
                path: path.to_string(),
                arn: format!("arn:aws:iam::{account}:user{path}{name}"),
                create_date: crate::support::time::iso8601(now),
                tags: Vec::new(),
                permissions_boundary_arn: crate::services::iam::managed::requested_boundary(
                    tx, account, input,
                )?,
            };
            tags::merge_into(&mut user.tags, &tags::request_tags(input)?)?;
            let user = Stored::new(account, name, user, now);
            create(tx, &user, format!("User with name {name} already exists."))?;
            Some(wrapped("User", &[&user_xml(&user.body)]))
        }
        IamOperation::GetUser => {
            let name = user_name_or_caller(input, caller)?;
            let user = get_user(tx, account, &name)?;
            Some(wrapped("User", &[&user_xml(&user.body), &tags::xml(&user.body.tags)]))
        }
        IamOperation::ListUsers => {
            let prefix = input.text("PathPrefix").unwrap_or("/");
            let users: Vec<Stored<User>> = Stored::<User>::list(tx, account, "", 100_000)?
                .into_iter()
                .filter(|r| r.body.path.starts_with(prefix))
                .collect();
            Some(paged(input, "Users", typed_members(&users, user_xml))?)
        }
        IamOperation::UpdateUser => {
            let name = required(input, "UserName")?;
            let user = get_user(tx, account, name)?;
            let new_name = input.text("NewUserName").unwrap_or(name);
            check_name(new_name, "newUserName")?;
            let path =
                crate::services::iam::check_path(input.text("NewPath").unwrap_or(&user.body.path))?;
            let mut body = user.body.clone();
            body.user_name = new_name.to_string();
            body.path = path.to_string();
            body.arn = format!("arn:aws:iam::{account}:user{path}{new_name}");
            if new_name == name {
                let mut user = user;
                user.body = body;
                user.updated_at_ms = now;
                user.put(tx, store::PutMode::Update)?;
            } else {
                rename_user(tx, root, account, name, body, now)?;
            }
            None
        }
        IamOperation::DeleteUser => {
            let name = required(input, "UserName")?;
            get_user(tx, account, name)?;
            let keys = tx.list_access_keys(account, "user", name)?;
            let policies = user_policies(tx, account, name)?;
            let groups = crate::services::iam::groups::groups_of(tx, account, name)?;
            let devices = crate::services::iam::mfa::devices_of(tx, account, name)?;
            if !keys.is_empty() || !policies.is_empty() || !groups.is_empty() || !devices.is_empty()
            {
                return Err(ApiError::sender(
                    409,
                    "DeleteConflict",
                    "Cannot delete entity, must delete policies and access keys first.",
                ));
            }
            Stored::<User>::delete(tx, account, name)?;
            None
        }
        IamOperation::CreateAccessKey => {
            let (kind, name) = key_owner(input, caller, account)?;
            if kind == "user" {
                get_user(tx, account, &name)?;
            }
            if tx.list_access_keys(account, kind, &name)?.len() >= MAX_KEYS_PER_USER {
                return Err(ApiError::sender(
                    409,
                    "LimitExceeded",
                    format!("Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"),
                ));
            }
            let owner = if kind == "root" { KeyOwner::Root } else { KeyOwner::User(&name) };
            let (key_id, secret) = issue_access_key(tx, root, account, owner, now)?;
            let secret_text = String::from_utf8_lossy(secret.expose()).into_owned();
            let xml = xml::build(|w| {
                w.elem("AccessKey", |w| {
                    // The root user has no user name.
                    if kind == "user" {
                        w.text("UserName", &name);
                    }
                    w.text("AccessKeyId", &key_id)
                        .text("Status", "Active")
                        .text("SecretAccessKey", &secret_text)
                        .text("CreateDate", &crate::support::time::iso8601(now));
                });
            });
            *secret_out = Some(key_id);
            Some(xml)
        }
        IamOperation::GetAccessKeyLastUsed => {
            let key_id = required(input, "AccessKeyId")?;
            let key = tx
                .get_access_key(key_id)?
                .filter(|k| {
                    k.account == account && matches!(k.owner_kind.as_str(), "user" | "root")
                })
                .ok_or_else(|| {
                    no_such(&format!("The Access Key with id {key_id} cannot be found."))
                })?;
            Some(xml::build(|w| {
                if key.owner_kind == "user" {
                    w.text("UserName", &key.owner_key);
                }
                w.elem("AccessKeyLastUsed", |w| match key.last_used_at_ms {
                    Some(at) => {
                        w.text("LastUsedDate", &crate::support::time::iso8601(at))
                            .text("ServiceName", key.last_used_service.as_deref().unwrap_or("N/A"))
                            .text("Region", key.last_used_region.as_deref().unwrap_or("N/A"));
                    }
                    None => {
                        w.text("ServiceName", "N/A").text("Region", "N/A");
                    }
                });
            }))
        }
        IamOperation::ListAccessKeys => {
            let (kind, name) = match input.text("UserName") {
                None if is_root(caller, account) => ("root", account.to_string()),
                Some(n) => ("user", n.to_string()),
                None => ("user", caller_user_name(caller).unwrap_or_default()),
            };
            if kind == "user" {
                get_user(tx, account, &name)?;
            }
            let keys = tx.list_access_keys(account, kind, &name)?;
            let items: Vec<Xml> = keys
                .iter()
                .map(|k| {
                    member(&xml::build(|w| {
                        let status =
                            if k.status == AccessKeyStatus::Active { "Active" } else { "Inactive" };
                        if kind == "user" {
                            w.text("UserName", &name);
                        }
                        w.text("AccessKeyId", &k.access_key_id)
                            .text("Status", status)
                            .text("CreateDate", &crate::support::time::iso8601(k.created_at_ms));
                    }))
                })
                .collect();
            Some(paged(input, "AccessKeyMetadata", items)?)
        }
        IamOperation::DeleteAccessKey | IamOperation::UpdateAccessKey => {
            let key_id = required(input, "AccessKeyId")?;
            // The named user's key, or (without `UserName`) the caller's own: a user's, or the
            // root user's (AWS's rule; the root user manages its own keys).
            let (kind, owner) = key_owner(input, caller, account)?;
            let found = tx
                .get_access_key(key_id)?
                .filter(|k| k.account == account && k.owner_kind == kind && k.owner_key == owner);
            if found.is_none() {
                return Err(no_such(&format!("The Access Key with id {key_id} cannot be found.")));
            }
            if operation == IamOperation::DeleteAccessKey {
                tx.delete_access_key(key_id)?;
            } else {
                let status = match required(input, "Status")? {
                    "Active" => AccessKeyStatus::Active,
                    "Inactive" => AccessKeyStatus::Inactive,
                    other => {
                        return Err(ApiError::sender(
                            400,
                            "ValidationError",
                            format!("Value '{other}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"),
                        ))
                    }
                };
                tx.set_access_key_status(key_id, status)?;
            }
            None
        }
        _ => return Err(ApiError::internal("not a user operation")),
    })
}

/// Whether the caller is this account's root user, with its long-term credentials.
fn is_root(caller: &Caller, account: &str) -> bool {
    caller.session.is_none()
        && caller.account == account
        && caller.arn == format!("arn:aws:iam::{account}:root")
}

/// Whose access keys a key operation acts on: the named user's, else the caller's own (the
/// root user's when it calls without `UserName`, as in AWS).
fn key_owner(
    input: &Input,
    caller: &Caller,
    account: &str,
) -> Result<(&'static str, String), ApiError> {
    if input.text("UserName").is_none() && is_root(caller, account) {
        return Ok(("root", account.to_string()));
    }
    Ok(("user", user_name_or_caller(input, caller)?))
}

/// Renames user `old` to `user.user_name`: the user and everything keyed by its name (inline
/// policies, attachments, group memberships, MFA devices, access keys, whose secrets are bound
/// to their owner and so are re-wrapped for the new name), in the one transaction.
fn rename_user(
    tx: &mut dyn Tx,
    root: &dyn RootOfTrust,
    account: &str,
    old: &str,
    user: User,
    now: i64,
) -> Result<(), ApiError> {
    let new = user.user_name.clone();
    create(
        tx,
        &Stored::new(account, &new, user, now),
        format!("User with name {new} already exists."),
    )?;
    Stored::<User>::delete(tx, account, old)?;
    let (old_prefix, new_prefix) = (format!("{old}/"), format!("{new}/"));
    for kind in ["user_policy", "attached_user", "user_group"] {
        for mut record in crate::support::records::list(tx, account, kind, &old_prefix, 1_000_000)?
        {
            tx.delete_record(account, kind, &record.key)?;
            record.key = format!("{new_prefix}{}", &record.key[old_prefix.len()..]);
            record.updated_at_ms = now;
            record.mac = Vec::new();
            tx.put_record(&record, store::PutMode::Create)?;
        }
    }
    for group in crate::services::iam::groups::groups_of(tx, account, &new)? {
        let old_key = format!("{group}/{old}");
        let mut record = tx
            .get_record(account, "group_member", &old_key)?
            .ok_or_else(|| ApiError::unavailable("a group membership could not be read"))?;
        tx.delete_record(account, "group_member", &old_key)?;
        record.key = format!("{group}/{new}");
        record.updated_at_ms = now;
        record.mac = Vec::new();
        tx.put_record(&record, store::PutMode::Create)?;
    }
    for mut device in crate::services::iam::mfa::devices_of(tx, account, old)? {
        if let Some(obj) = device.body.as_object_mut() {
            obj.insert("UserName".into(), new.clone().into());
        }
        device.updated_at_ms = now;
        tx.put_record(&device, store::PutMode::Update)?;
    }
    for key in tx.list_access_keys(account, "user", old)? {
        let unavailable = || ApiError::unavailable("the root of trust is unavailable");
        let old_context =
            crate::pipeline::identity::secret_context(account, "user", old, &key.access_key_id);
        let secret = root.unwrap(&old_context, &key.secret_wrapped).map_err(|_| unavailable())?;
        let new_context =
            crate::pipeline::identity::secret_context(account, "user", &new, &key.access_key_id);
        let wrapped = root.wrap(&new_context, secret.expose()).map_err(|_| unavailable())?;
        tx.delete_access_key(&key.access_key_id)?;
        tx.insert_access_key(&store::AccessKey {
            owner_key: new.clone(),
            secret_wrapped: wrapped,
            mac: Vec::new(),
            ..key
        })?;
    }
    Ok(())
}
