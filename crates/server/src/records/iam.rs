//! IAM's identities: users, roles and groups (kinds `user`, `role`, `group`, keyed by name).

use super::Body;
use serde::{Deserialize, Serialize};

/// A tag on a user or role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub key: String,
    pub value: String,
}

/// A user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct User {
    pub user_name: String,
    pub user_id: String,
    pub path: String,
    pub arn: String,
    pub create_date: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary_arn: Option<String>,
}

impl Body for User {
    const KIND: &'static str = "user";
}

/// A role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Role {
    pub role_name: String,
    pub role_id: String,
    pub path: String,
    pub arn: String,
    pub create_date: String,
    /// The trust policy.
    pub assume_role_policy_document: String,
    /// How long its sessions may last, in seconds.
    #[serde(default = "default_max_session")]
    pub max_session_duration: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// AWS's default `MaxSessionDuration`: an hour.
pub(crate) const DEFAULT_MAX_SESSION: i64 = 3600;

fn default_max_session() -> i64 {
    DEFAULT_MAX_SESSION
}

impl Body for Role {
    const KIND: &'static str = "role";
}

/// A group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Group {
    pub group_name: String,
    pub group_id: String,
    pub path: String,
    pub arn: String,
    pub create_date: String,
}

impl Body for Group {
    const KIND: &'static str = "group";
}

/// An instance profile: a container for one role, named by EC2 instances (kind
/// `instance_profile`, keyed by name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct InstanceProfile {
    pub instance_profile_name: String,
    pub instance_profile_id: String,
    pub path: String,
    pub arn: String,
    pub create_date: String,
    /// The names of its roles (at most one, AWS's quota).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

impl Body for InstanceProfile {
    const KIND: &'static str = "instance_profile";
}

/// An account's alias (kind `account_alias`, key `alias`), and, in the operator realm, the
/// index that keeps aliases unique across accounts (kind `account_alias_index`, keyed by alias).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccountAlias {
    pub alias: String,
    pub account: String,
}

impl Body for AccountAlias {
    const KIND: &'static str = "account_alias";
}

/// The operator-realm entry that reserves an alias for one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AliasIndex {
    pub account: String,
}

impl Body for AliasIndex {
    const KIND: &'static str = "account_alias_index";
}

/// An account's password policy (kind `password_policy`, key `policy`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PasswordPolicy {
    pub minimum_password_length: i64,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    /// Days a password lasts; 0 when passwords do not expire.
    pub max_password_age: i64,
    /// Earlier passwords a user may not reuse; 0 when reuse is not checked.
    pub password_reuse_prevention: i64,
    pub hard_expiry: bool,
}

impl Body for PasswordPolicy {
    const KIND: &'static str = "password_policy";
}

/// What carries tags: users, roles and instance profiles.
pub(crate) trait Tagged: Body {
    /// Its tags.
    fn tags(&self) -> &[Tag];
    /// Its tags, to change.
    fn tags_mut(&mut self) -> &mut Vec<Tag>;
}

/// What users and roles share: tags and a permissions boundary.
pub(crate) trait Principal: Tagged {
    /// Its permissions boundary's ARN, to change.
    fn boundary_mut(&mut self) -> &mut Option<String>;
}

macro_rules! tagged {
    ($($t:ty),*) => {$(
        impl Tagged for $t {
            fn tags(&self) -> &[Tag] {
                &self.tags
            }
            fn tags_mut(&mut self) -> &mut Vec<Tag> {
                &mut self.tags
            }
        }
    )*};
}
tagged!(User, Role, InstanceProfile);

impl Principal for User {
    fn boundary_mut(&mut self) -> &mut Option<String> {
        &mut self.permissions_boundary_arn
    }
}

impl Principal for Role {
    fn boundary_mut(&mut self) -> &mut Option<String> {
        &mut self.permissions_boundary_arn
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::records::Stored;

    fn record(kind: &str, body: serde_json::Value) -> store::Record {
        store::Record {
            mac: Vec::new(),
            account: "111122223333".into(),
            kind: kind.into(),
            key: "k".into(),
            format_version: 1,
            body,
            updated_at_ms: 1,
        }
    }

    /// The layouts are the ones the server has always written.
    #[test]
    fn identities_read_as_written_before_records_were_typed() {
        let user = serde_json::json!({
            "UserName": "alice", "UserId": "AIDAX", "Path": "/", "Arn": "arn:aws:iam::111122223333:user/alice",
            "CreateDate": "2026-12-06T00:00:00Z", "Tags": [{ "Key": "team", "Value": "blue" }],
            "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/b",
        });
        let typed = Stored::<User>::from_record(record("user", user.clone())).unwrap();
        assert_eq!(typed.body.tags, [Tag { key: "team".into(), value: "blue".into() }]);
        assert_eq!(typed.to_record().unwrap().body, user);
        let role = serde_json::json!({
            "RoleName": "r", "RoleId": "AROAX", "Path": "/", "Arn": "arn:aws:iam::111122223333:role/r",
            "CreateDate": "2026-12-06T00:00:00Z", "AssumeRolePolicyDocument": "{}", "MaxSessionDuration": 3600,
        });
        let typed = Stored::<Role>::from_record(record("role", role.clone())).unwrap();
        assert_eq!(typed.to_record().unwrap().body, role);
        let group = serde_json::json!({
            "GroupName": "g", "GroupId": "AGPAX", "Path": "/", "Arn": "arn:aws:iam::111122223333:group/g",
            "CreateDate": "2026-12-06T00:00:00Z",
        });
        let typed = Stored::<Group>::from_record(record("group", group.clone())).unwrap();
        assert_eq!(typed.to_record().unwrap().body, group);
    }
}
