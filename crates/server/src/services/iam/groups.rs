//! IAM groups: membership, and (through `inline`) group policies, which apply to every member.

use crate::error::ApiError;
use crate::protocol::query::xml_escape;
use crate::services::iam::input::Input;
use crate::services::iam::IamOperation::{self, self as Op};
use crate::services::iam::{check_name, create_entity, members, no_such, required};
use serde_json::{json, Value};
use store::{PutMode, Record, Tx};

pub(crate) fn group_xml(body: &Value) -> String {
    let f = |k: &str| xml_escape(body.get(k).and_then(Value::as_str).unwrap_or_default());
    format!(
        "<Path>{}</Path><GroupName>{}</GroupName><GroupId>{}</GroupId><Arn>{}</Arn><CreateDate>{}</CreateDate>",
        f("Path"),
        f("GroupName"),
        f("GroupId"),
        f("Arn"),
        f("CreateDate")
    )
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

fn get(tx: &mut dyn Tx, account: &str, kind: &str, name: &str) -> Result<Record, ApiError> {
    tx.get_record(account, kind, name)?
        .ok_or_else(|| no_such(&format!("The {kind} with name {name} cannot be found.")))
}

fn membership(account: &str, kind: &str, key: String, now: i64) -> Record {
    Record {
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
) -> Result<Option<String>, ApiError> {
    let mut run = || -> Result<Option<String>, ApiError> {
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
                let id = format!(
                    "AGPA{}",
                    crate::support::ids::random_text(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 17)
                );
                let body = json!({
                    "GroupName": name, "GroupId": id, "Path": path,
                    "Arn": format!("arn:aws:iam::{account}:group{path}{name}"), "CreateDate": crate::support::time::iso8601(now),
                });
                let record = Record {
                    account: account.into(),
                    kind: "group".into(),
                    key: name.into(),
                    format_version: 1,
                    body: body.clone(),
                    updated_at_ms: now,
                };
                create_entity(tx, &record, format!("Group with name {name} already exists."))?;
                Some(format!("<Group>{}</Group>", group_xml(&body)))
            }
            Op::GetGroup => {
                let name = required(input, "GroupName")?;
                let group = get(tx, account, "group", name)?;
                let mut users = Vec::new();
                for user in keys_with_prefix(tx, account, "group_member", name)? {
                    users.extend(tx.get_record(account, "user", &user)?);
                }
                let users = members(&users, crate::services::iam::user_xml);
                Some(format!(
                    "<Group>{}</Group>{}",
                    group_xml(&group.body),
                    crate::services::iam::paged(input, "Users", users)?
                ))
            }
            Op::ListGroups => {
                let groups = crate::support::records::list(tx, account, "group", "", 100_000)?;
                Some(crate::services::iam::paged(input, "Groups", members(&groups, group_xml))?)
            }
            Op::DeleteGroup => {
                let name = required(input, "GroupName")?;
                get(tx, account, "group", name)?;
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
                tx.delete_record(account, "group", name)?;
                None
            }
            Op::AddUserToGroup | Op::RemoveUserFromGroup => {
                let group = required(input, "GroupName")?;
                let user = required(input, "UserName")?;
                get(tx, account, "group", group)?;
                get(tx, account, "user", user)?;
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
                get(tx, account, "user", user)?;
                let mut members = Vec::new();
                for group in groups_of(tx, account, user)? {
                    if let Some(g) = tx.get_record(account, "group", &group)? {
                        members.push(format!("<member>{}</member>", group_xml(&g.body)));
                    }
                }
                Some(crate::services::iam::paged(input, "Groups", members)?)
            }
        })
    };
    run()
}
