//! IAM groups: membership, and (through `inline`) group policies, which apply to every member.

use crate::error::ApiError;
use crate::protocol::xml::{self, Xml};
use crate::records::iam::{Group, User};
use crate::records::{Body, Stored};
use crate::services::iam::input::Input;
use crate::services::iam::IamOperation::{self, self as Op};
use crate::services::iam::{check_name, create, no_such, required, typed_members, wrapped};
use serde_json::json;
use store::{PutMode, Record, Tx};

pub(crate) fn group_xml(group: &Group) -> Xml {
    xml::build(|w| {
        w.text("Path", &group.path)
            .text("GroupName", &group.group_name)
            .text("GroupId", &group.group_id)
            .text("Arn", &group.arn)
            .text("CreateDate", &group.create_date);
    })
}

fn keys_with_prefix(
    tx: &mut dyn store::ReadTx,
    account: &str,
    kind: &str,
    owner: &str,
) -> Result<Vec<String>, ApiError> {
    let prefix = format!("{owner}/");
    Ok(crate::support::records::list(tx, account, kind, &prefix, 1000)?
        .into_iter()
        .map(|r| r.key.strip_prefix(&prefix).unwrap_or(&r.key).to_string())
        .collect())
}

/// The groups a user belongs to.
pub fn groups_of(
    tx: &mut dyn store::ReadTx,
    account: &str,
    user: &str,
) -> Result<Vec<String>, ApiError> {
    keys_with_prefix(tx, account, "user_group", user)
}

fn get<T: Body>(tx: &mut dyn Tx, account: &str, name: &str) -> Result<Stored<T>, ApiError> {
    Stored::<T>::get(tx, account, name)?
        .ok_or_else(|| no_such(&format!("The {} with name {name} cannot be found.", T::KIND)))
}

fn membership(account: &str, kind: &str, key: String, now: i64) -> Record {
    Record {
        mac: Vec::new(),
        account: account.into(),
        kind: kind.into(),
        key,
        format_version: 1,
        body: json!({}),
        updated_at_ms: now,
    }
}

/// Runs a group action; `None` when `action` is not one.
pub fn handle(
    operation: IamOperation,
    tx: &mut dyn Tx,
    account: &str,
    input: &Input,
    now: i64,
) -> Result<Option<Xml>, ApiError> {
    let mut run = || -> Result<Option<Xml>, ApiError> {
        Ok(match operation {
            Op::CreateGroup => {
                let name = required(input, "GroupName")?;
                check_name(name, "groupName")?;
                crate::services::iam::quotas::check_count(
                    tx,
                    account,
                    "group",
                    crate::services::iam::quotas::GROUPS,
                    "GroupsPerAccount",
                )?;
                let path = input.text("Path").unwrap_or("/");
                let id = crate::support::ids::iam_id("AGPA");
                let group = Group {
                    group_name: name.to_string(),
                    group_id: id,
                    path: path.to_string(),
                    arn: format!("arn:aws:iam::{account}:group{path}{name}"),
                    create_date: crate::support::time::iso8601(now),
                };
                let group = Stored::new(account, name, group, now);
                create(tx, &group, format!("Group with name {name} already exists."))?;
                Some(wrapped("Group", &[&group_xml(&group.body)]))
            }
            Op::GetGroup => {
                let name = required(input, "GroupName")?;
                let group = get::<Group>(tx, account, name)?;
                let mut users = Vec::new();
                for user in keys_with_prefix(tx, account, "group_member", name)? {
                    users.extend(Stored::<User>::get(tx, account, &user)?);
                }
                let users = typed_members(&users, crate::services::iam::user_xml);
                let users = crate::services::iam::paged(input, "Users", users)?;
                Some(xml::build(|w| {
                    w.fragment(&wrapped("Group", &[&group_xml(&group.body)])).fragment(&users);
                }))
            }
            Op::ListGroups => {
                let groups = Stored::<Group>::list(tx, account, "", 100_000)?;
                Some(crate::services::iam::paged(
                    input,
                    "Groups",
                    typed_members(&groups, group_xml),
                )?)
            }
            Op::UpdateGroup => {
                let name = required(input, "GroupName")?;
                let group = get::<Group>(tx, account, name)?;
                let new_name = input.text("NewGroupName").unwrap_or(name).to_string();
                check_name(&new_name, "newGroupName")?;
                let path = crate::services::iam::check_path(
                    input.text("NewPath").unwrap_or(&group.body.path),
                )?
                .to_string();
                let mut body = group.body.clone();
                body.arn = format!("arn:aws:iam::{account}:group{path}{new_name}");
                body.group_name.clone_from(&new_name);
                body.path = path;
                if new_name == name {
                    let mut group = group;
                    group.body = body;
                    group.updated_at_ms = now;
                    group.put(tx, PutMode::Update)?;
                } else {
                    rename(tx, account, name, body, now)?;
                }
                None
            }
            Op::DeleteGroup => {
                let name = required(input, "GroupName")?;
                get::<Group>(tx, account, name)?;
                let has_members = !keys_with_prefix(tx, account, "group_member", name)?.is_empty();
                let has_policies = !crate::services::iam::inline::list(
                    tx,
                    account,
                    crate::services::iam::inline::Owner::Group,
                    name,
                )?
                .is_empty()
                    || !crate::services::iam::managed::attached(tx, account, "group", name)?
                        .is_empty();
                if has_members || has_policies {
                    return Err(ApiError::sender(
                        409,
                        "DeleteConflict",
                        "Cannot delete entity, must remove users and policies from group first.",
                    ));
                }
                Stored::<Group>::delete(tx, account, name)?;
                None
            }
            Op::AddUserToGroup | Op::RemoveUserFromGroup => {
                let group = required(input, "GroupName")?;
                let user = required(input, "UserName")?;
                get::<Group>(tx, account, group)?;
                get::<User>(tx, account, user)?;
                if operation == Op::AddUserToGroup {
                    let groups = groups_of(tx, account, user)?;
                    if !groups.iter().any(|g| g == group)
                        && groups.len() >= crate::services::iam::quotas::GROUPS_PER_USER
                    {
                        return Err(ApiError::sender(
                            409,
                            "LimitExceeded",
                            format!(
                                "Cannot exceed quota for GroupsPerUser: {}",
                                crate::services::iam::quotas::GROUPS_PER_USER
                            ),
                        ));
                    }
                    tx.put_record(
                        &membership(account, "group_member", format!("{group}/{user}"), now),
                        PutMode::Upsert,
                    )?;
                    tx.put_record(
                        &membership(account, "user_group", format!("{user}/{group}"), now),
                        PutMode::Upsert,
                    )?;
                } else {
                    if tx.get_record(account, "group_member", &format!("{group}/{user}"))?.is_none()
                    {
                        return Err(no_such(&format!(
                            "The user with name {user} is not in group {group}."
                        )));
                    }
                    tx.delete_record(account, "group_member", &format!("{group}/{user}"))?;
                    tx.delete_record(account, "user_group", &format!("{user}/{group}"))?;
                }
                None
            }
            _ => {
                // ListGroupsForUser
                let user = required(input, "UserName")?;
                get::<User>(tx, account, user)?;
                let mut members = Vec::new();
                for group in groups_of(tx, account, user)? {
                    if let Some(g) = Stored::<Group>::get(tx, account, &group)? {
                        members.push(crate::services::iam::member(&group_xml(&g.body)));
                    }
                }
                Some(crate::services::iam::paged(input, "Groups", members)?)
            }
        })
    };
    run()
}

/// Renames group `old` to `group.group_name`, with everything keyed by its name: inline
/// policies, attachments and both sides of each membership.
fn rename(
    tx: &mut dyn Tx,
    account: &str,
    old: &str,
    group: Group,
    now: i64,
) -> Result<(), ApiError> {
    let new = group.group_name.clone();
    create(
        tx,
        &Stored::new(account, &new, group, now),
        format!("Group with name {new} already exists."),
    )?;
    Stored::<Group>::delete(tx, account, old)?;
    let (old_prefix, new_prefix) = (format!("{old}/"), format!("{new}/"));
    let mut moves: Vec<(&str, String, String)> = Vec::new();
    for kind in ["group_policy", "attached_group", "group_member"] {
        for key in keys_with_prefix(tx, account, kind, old)? {
            moves.push((kind, format!("{old_prefix}{key}"), format!("{new_prefix}{key}")));
            if kind == "group_member" {
                moves.push(("user_group", format!("{key}/{old}"), format!("{key}/{new}")));
            }
        }
    }
    for (kind, from, to) in moves {
        let mut record = tx
            .get_record(account, kind, &from)?
            .ok_or_else(|| ApiError::unavailable("a group's record could not be read"))?;
        tx.delete_record(account, kind, &from)?;
        record.key = to;
        record.updated_at_ms = now;
        record.mac = Vec::new();
        tx.put_record(&record, PutMode::Create)?;
    }
    Ok(())
}
