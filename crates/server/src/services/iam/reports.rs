//! Account-wide IAM reports: `GetAccountSummary` (entity counts and quotas) and
//! `GetAccountAuthorizationDetails` (every user, group, role and managed policy with its
//! policies, for audits and for automated reasoning over the account).

use crate::error::ApiError;
use crate::protocol::xml::{self, Xml};
use crate::records::iam::{Group, Role, User};
use crate::records::Stored;
use crate::services::iam::inline::Owner;
use crate::services::iam::input::Input;
use crate::services::iam::quotas;
use crate::services::iam::IamOperation::{self, self as Op};

use serde_json::Value;

/// IAM's default quotas, as `GetAccountSummary` reports them.
const QUOTAS: &[(&str, usize)] = &[
    ("UsersQuota", quotas::USERS),
    ("GroupsQuota", quotas::GROUPS),
    ("RolesQuota", quotas::ROLES),
    ("PoliciesQuota", quotas::POLICIES),
    ("ServerCertificatesQuota", 20),
    ("InstanceProfilesQuota", 1000),
    ("UserPolicySizeQuota", quotas::USER_POLICY_SIZE),
    ("GroupPolicySizeQuota", quotas::GROUP_POLICY_SIZE),
    ("RolePolicySizeQuota", quotas::ROLE_POLICY_SIZE),
    ("PolicySizeQuota", quotas::POLICY_SIZE),
    ("AssumeRolePolicySizeQuota", quotas::TRUST_POLICY_SIZE),
    ("GroupsPerUserQuota", quotas::GROUPS_PER_USER),
    ("SigningCertificatesPerUserQuota", 2),
    ("AccessKeysPerUserQuota", crate::services::iam::MAX_KEYS_PER_USER),
    ("AttachedPoliciesPerUserQuota", crate::services::iam::managed::MAX_ATTACHED),
    ("AttachedPoliciesPerGroupQuota", crate::services::iam::managed::MAX_ATTACHED),
    ("AttachedPoliciesPerRoleQuota", crate::services::iam::managed::MAX_ATTACHED),
    ("VersionsPerPolicyQuota", crate::services::iam::managed::MAX_VERSIONS),
    ("PolicyVersionsInUseQuota", 10000),
];

const ALL: usize = 1_000_000;

fn text<'a>(body: &'a Value, key: &str) -> &'a str {
    body.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A policy document as IAM answers it (URL-encoded).
fn encoded(document: &str) -> String {
    sigv4::encode::uri_encode(document, false).into_owned()
}

/// `GetAccountSummary`'s `<SummaryMap>`.
fn summary(tx: &mut dyn store::ReadTx, account: &str) -> Result<Xml, ApiError> {
    let count = |tx: &mut dyn store::ReadTx, kind: &str| -> Result<usize, ApiError> {
        Ok(crate::support::records::list(tx, account, kind, "", ALL)?.len())
    };
    let policies = crate::support::records::list(tx, account, "policy", "", ALL)?;
    let in_use: usize = policies
        .iter()
        .filter(|p| p.body.get("AttachmentCount").and_then(Value::as_i64).unwrap_or(0) > 0)
        .count();
    let devices = crate::support::records::list(tx, account, "mfa", "", ALL)?;
    let devices_in_use = devices.iter().filter(|d| d.body.get("UserName").is_some()).count();
    let root_keys = tx.list_access_keys(account, "root", account)?.len();
    let entries = [
        ("Users", count(tx, "user")?),
        ("Groups", count(tx, "group")?),
        ("Roles", count(tx, "role")?),
        ("Policies", policies.len()),
        ("PolicyVersionsInUse", in_use),
        ("MFADevices", devices.len()),
        ("MFADevicesInUse", devices_in_use),
        ("AccountMFAEnabled", 0),
        ("AccountAccessKeysPresent", usize::from(root_keys > 0)),
        ("AccountPasswordPresent", 0),
        ("AccountSigningCertificatesPresent", 0),
        ("ServerCertificates", 0),
        ("InstanceProfiles", 0),
        ("Providers", 0),
        ("GlobalEndpointTokenVersion", 1),
    ];
    Ok(xml::build(|w| {
        w.elem("SummaryMap", |w| {
            for (key, value) in entries.iter().chain(QUOTAS.iter()) {
                w.elem("entry", |w| {
                    w.text("key", key).value("value", value);
                });
            }
        });
    }))
}

fn policy_list(w: &mut xml::Writer, wrapper: &'static str, policies: &[(String, String)]) {
    w.elem(wrapper, |w| {
        for (name, doc) in policies {
            w.elem("member", |w| {
                w.text("PolicyName", name).text("PolicyDocument", &encoded(doc));
            });
        }
    });
}

/// A user's, group's or role's `AttachedManagedPolicies`, and the ARNs they name.
fn attached_list(
    tx: &mut dyn store::ReadTx,
    account: &str,
    kind: &str,
    name: &str,
) -> Result<(Xml, Vec<String>), ApiError> {
    let links = crate::services::iam::managed::attachments(tx, account, kind, name)?;
    let arns: Vec<String> = links.iter().map(|l| text(&l.body, "PolicyArn").to_string()).collect();
    let list = xml::build(|w| {
        w.elem("AttachedManagedPolicies", |w| {
            for l in &links {
                w.elem("member", |w| {
                    w.text("PolicyName", text(&l.body, "PolicyName"))
                        .text("PolicyArn", text(&l.body, "PolicyArn"));
                });
            }
        });
    });
    Ok((list, arns))
}

fn tags_xml(w: &mut xml::Writer, tags: &[crate::records::iam::Tag]) {
    w.elem("Tags", |w| {
        for t in tags {
            w.elem("member", |w| {
                w.text("Key", &t.key).text("Value", &t.value);
            });
        }
    });
}

/// One policy version as `PolicyVersionList` lists it.
fn version(w: &mut xml::Writer, document: &str, id: &str, default: bool, created: &str) {
    w.elem("member", |w| {
        w.text("Document", &encoded(document))
            .text("VersionId", id)
            .value("IsDefaultVersion", default)
            .text("CreateDate", created);
    });
}

/// `GetAccountAuthorizationDetails`: the entities `Filter` names (all by default), one page of
/// the users, groups, roles and policies together.
fn details(tx: &mut dyn store::ReadTx, account: &str, input: &Input) -> Result<Xml, ApiError> {
    const FILTERS: &[&str] = &["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"];
    let mut filter: Vec<String> = input.list("Filter").to_vec();
    if let Some(bad) = filter.iter().find(|f| !FILTERS.contains(&f.as_str())) {
        return Err(ApiError::sender(
            400,
            "ValidationError",
            format!("Value '{bad}' at 'filter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]"),
        ));
    }
    if filter.is_empty() {
        filter = FILTERS.iter().map(|f| (*f).to_string()).collect();
    }
    let wants = |f: &str| filter.iter().any(|x| x == f);
    // Every item tagged with its list, so that one page can span the lists in order.
    let mut items: Vec<(u8, Xml)> = Vec::new();
    let mut attached_aws: Vec<String> = Vec::new();
    for user in Stored::<User>::list(tx, account, "", ALL)? {
        let name = user.key.clone();
        let inline = crate::services::iam::inline::list(tx, account, Owner::User, &name)?;
        let groups = crate::services::iam::groups::groups_of(tx, account, &name)?;
        let (attached, arns) = attached_list(tx, account, "user", &name)?;
        attached_aws.extend(arns);
        if wants("User") {
            items.push((
                0,
                xml::build(|w| {
                    w.elem("member", |w| {
                        w.fragment(&crate::services::iam::user_xml(&user.body));
                        policy_list(w, "UserPolicyList", &inline);
                        w.elem("GroupList", |w| {
                            for g in &groups {
                                w.text("member", g);
                            }
                        });
                        w.fragment(&attached);
                        tags_xml(w, &user.body.tags);
                    });
                }),
            ));
        }
    }
    for group in Stored::<Group>::list(tx, account, "", ALL)? {
        let name = group.key.clone();
        let inline = crate::services::iam::inline::list(tx, account, Owner::Group, &name)?;
        let (attached, arns) = attached_list(tx, account, "group", &name)?;
        attached_aws.extend(arns);
        if wants("Group") {
            items.push((
                1,
                xml::build(|w| {
                    w.elem("member", |w| {
                        w.fragment(&crate::services::iam::groups::group_xml(&group.body));
                        policy_list(w, "GroupPolicyList", &inline);
                        w.fragment(&attached);
                    });
                }),
            ));
        }
    }
    for role in Stored::<Role>::list(tx, account, "", ALL)? {
        let name = role.key.clone();
        let inline = crate::services::iam::inline::list(tx, account, Owner::Role, &name)?;
        let (attached, arns) = attached_list(tx, account, "role", &name)?;
        attached_aws.extend(arns);
        let mut profiles = Vec::new();
        for p in crate::services::iam::profiles::holding(tx, account, &name)? {
            profiles.push(crate::services::iam::member(
                &crate::services::iam::profiles::profile_xml(tx, account, &p.body)?,
            ));
        }
        if wants("Role") {
            items.push((
                2,
                xml::build(|w| {
                    w.elem("member", |w| {
                        w.fragment(&crate::services::iam::roles::role_xml(&role.body));
                        w.elem("InstanceProfileList", |w| {
                            w.fragments(&profiles);
                        });
                        policy_list(w, "RolePolicyList", &inline);
                        w.fragment(&attached);
                        tags_xml(w, &role.body.tags);
                    });
                }),
            ));
        }
    }
    if wants("AWSManagedPolicy") {
        let mut counts = std::collections::HashMap::new();
        for arn in &attached_aws {
            *counts.entry(arn.clone()).or_insert(0_i64) += 1;
        }
        for p in crate::services::iam::aws_policies::all() {
            let Some(count) = counts.get(&p.arn()).copied() else { continue };
            items.push((
                3,
                xml::build(|w| {
                    w.elem("member", |w| {
                        w.fragment(&crate::services::iam::managed::aws_policy_xml(p, count));
                        w.elem("PolicyVersionList", |w| {
                            version(w, &p.document, &p.version, true, &p.updated);
                        });
                    });
                }),
            ));
        }
    }
    if wants("LocalManagedPolicy") {
        for policy in crate::support::records::list(tx, account, "policy", "", ALL)? {
            let default = text(&policy.body, "DefaultVersionId").to_string();
            let versions = crate::services::iam::managed::versions(tx, account, &policy.key)?;
            items.push((
                3,
                xml::build(|w| {
                    w.elem("member", |w| {
                        w.fragment(&crate::services::iam::managed::policy_xml(&policy.body));
                        w.elem("PolicyVersionList", |w| {
                            for v in &versions {
                                let id = text(&v.body, "VersionId");
                                let (doc, created) =
                                    (text(&v.body, "Document"), text(&v.body, "CreateDate"));
                                version(w, doc, id, id == default, created);
                            }
                        });
                    });
                }),
            ));
        }
    }
    // One window over all four lists; each list shows its part of the window.
    let (start, limit) = crate::services::iam::page_window(input)?;
    let window: Vec<&(u8, Xml)> = items.iter().skip(start).take(limit).collect();
    Ok(xml::build(|w| {
        for (n, wrapper) in
            [(0, "UserDetailList"), (1, "GroupDetailList"), (2, "RoleDetailList"), (3, "Policies")]
        {
            w.elem(wrapper, |w| {
                w.fragments(window.iter().filter(|(i, _)| *i == n).map(|(_, m)| m));
            });
        }
        crate::services::iam::page_tail(w, start, limit, items.len());
    }))
}

/// Runs a report; `None` when `action` is not one.
pub fn handle(
    operation: IamOperation,
    tx: &mut dyn store::ReadTx,
    account: &str,
    input: &Input,
) -> Result<Option<Xml>, ApiError> {
    match operation {
        Op::GetAccountSummary => summary(tx, account).map(Some),
        Op::GetAccountAuthorizationDetails => details(tx, account, input).map(Some),
        _ => Err(ApiError::internal("not a report")),
    }
}
