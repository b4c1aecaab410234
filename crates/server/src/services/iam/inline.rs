//! Inline policies of users and roles (`Put/Get/List/DeleteUserPolicy`, `...RolePolicy`): one
//! implementation for both owners.

use crate::error::ApiError;
use crate::protocol::xml::{self, Xml};
use crate::services::iam::input::Input;
use crate::services::iam::IamOperation::{self, self as Op};
use crate::services::iam::{check_name, no_such, required};
use serde_json::{json, Value};
use store::{PutMode, Record, Tx};

/// Whose inline policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// An IAM user (`UserName`).
    User,
    /// An IAM role (`RoleName`).
    Role,
    /// An IAM group (`GroupName`).
    Group,
}

impl Owner {
    fn kind(self) -> &'static str {
        match self {
            Owner::User => "user_policy",
            Owner::Role => "role_policy",
            Owner::Group => "group_policy",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Owner::User => "user",
            Owner::Role => "role",
            Owner::Group => "group",
        }
    }

    fn param(self) -> &'static str {
        match self {
            Owner::User => "UserName",
            Owner::Role => "RoleName",
            Owner::Group => "GroupName",
        }
    }
}

/// Refuses a document the validator finds an ERROR in, with IAM's `MalformedPolicyDocument`.
pub fn check_document(document: &str, kind: policy::validate::PolicyKind) -> Result<(), ApiError> {
    let findings = policy::validate::validate(document, kind);
    match findings.iter().find(|f| f.severity == policy::validate::Severity::Error) {
        Some(err) => Err(ApiError::sender(400, "MalformedPolicyDocument", err.message.clone())),
        None => Ok(()),
    }
}

/// The inline policies of a user or role, as (name, document) pairs: identity policies its
/// requests are evaluated against.
pub fn list(
    tx: &mut dyn store::ReadTx,
    account: &str,
    owner: Owner,
    name: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let prefix = format!("{name}/");
    Ok(crate::support::records::list(tx, account, owner.kind(), &prefix, 1000)?
        .into_iter()
        .map(|r| {
            let policy = r.key.strip_prefix(&prefix).unwrap_or(&r.key).to_string();
            let doc = r
                .body
                .get("PolicyDocument")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            (policy, doc)
        })
        .collect())
}

fn owner_exists(tx: &mut dyn Tx, account: &str, owner: Owner, name: &str) -> Result<(), ApiError> {
    match tx.get_record(account, owner.noun(), name)? {
        Some(_) => Ok(()),
        None => Err(no_such(&format!("The {} with name {name} cannot be found.", owner.noun()))),
    }
}

/// Runs an inline-policy action; `None` when `action` is not one.
pub fn handle(
    operation: IamOperation,
    tx: &mut dyn Tx,
    account: &str,
    input: &Input,
    now: i64,
) -> Result<Option<Xml>, ApiError> {
    let (owner, verb) = match operation {
        Op::PutUserPolicy => (Owner::User, "Put"),
        Op::GetUserPolicy => (Owner::User, "Get"),
        Op::ListUserPolicies => (Owner::User, "List"),
        Op::DeleteUserPolicy => (Owner::User, "Delete"),
        Op::PutRolePolicy => (Owner::Role, "Put"),
        Op::GetRolePolicy => (Owner::Role, "Get"),
        Op::ListRolePolicies => (Owner::Role, "List"),
        Op::DeleteRolePolicy => (Owner::Role, "Delete"),
        Op::PutGroupPolicy => (Owner::Group, "Put"),
        Op::GetGroupPolicy => (Owner::Group, "Get"),
        Op::ListGroupPolicies => (Owner::Group, "List"),
        Op::DeleteGroupPolicy => (Owner::Group, "Delete"),
        _ => return Err(ApiError::internal("not an operation of this family")),
    };
    let mut run = || -> Result<Option<Xml>, ApiError> {
        let name = required(input, owner.param())?;
        if verb == "List" {
            owner_exists(tx, account, owner, name)?;
            let members: Vec<Xml> = list(tx, account, owner, name)?
                .iter()
                .map(|(n, _)| {
                    xml::build(|w| {
                        w.text("member", n);
                    })
                })
                .collect();
            return Ok(Some(crate::services::iam::paged(input, "PolicyNames", members)?));
        }
        let policy_name = required(input, "PolicyName")?;
        let key = format!("{name}/{policy_name}");
        let missing = || {
            no_such(&format!(
                "The {} policy with name {policy_name} cannot be found.",
                owner.noun()
            ))
        };
        match verb {
            "Put" => {
                check_name(policy_name, "policyName")?;
                let document = required(input, "PolicyDocument")?;
                owner_exists(tx, account, owner, name)?;
                check_document(document, policy::validate::PolicyKind::Identity)?;
                let others: Vec<(String, String)> = list(tx, account, owner, name)?
                    .into_iter()
                    .filter(|(n, _)| n != policy_name)
                    .collect();
                let quota = match owner {
                    Owner::User => crate::services::iam::quotas::USER_POLICY_SIZE,
                    Owner::Group => crate::services::iam::quotas::GROUP_POLICY_SIZE,
                    Owner::Role => crate::services::iam::quotas::ROLE_POLICY_SIZE,
                };
                crate::services::iam::quotas::check_aggregate(
                    &others,
                    document,
                    quota,
                    owner.noun(),
                    name,
                )?;
                let record = Record {
                    mac: Vec::new(),
                    account: account.into(),
                    kind: owner.kind().into(),
                    key,
                    format_version: 1,
                    body: json!({ "PolicyDocument": document }),
                    updated_at_ms: now,
                };
                tx.put_record(&record, PutMode::Upsert)?;
                Ok(None)
            }
            "Get" => {
                let record = tx.get_record(account, owner.kind(), &key)?.ok_or_else(missing)?;
                let doc =
                    record.body.get("PolicyDocument").and_then(Value::as_str).unwrap_or_default();
                Ok(Some(xml::build(|w| {
                    w.text(owner.param(), name)
                        .text("PolicyName", policy_name)
                        .text("PolicyDocument", &sigv4::encode::uri_encode(doc, false));
                })))
            }
            _ => {
                if tx.get_record(account, owner.kind(), &key)?.is_none() {
                    return Err(missing());
                }
                tx.delete_record(account, owner.kind(), &key)?;
                Ok(None)
            }
        }
    };
    run()
}
