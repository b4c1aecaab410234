//! Account-wide IAM reports: `GetAccountSummary` (entity counts and quotas) and
//! `GetAccountAuthorizationDetails` (every user, group, role and managed policy with its
//! policies, for audits and for automated reasoning over the account).

use crate::error::ApiError;
use crate::protocol::query::xml_escape;
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

fn encoded(document: &str) -> String {
    xml_escape(&sigv4::encode::uri_encode(document, false))
}

fn entry(key: &str, value: usize) -> String {
    format!("<entry><key>{key}</key><value>{value}</value></entry>")
}

/// `GetAccountSummary`'s `<SummaryMap>`.
fn summary(tx: &mut dyn store::ReadTx, account: &str) -> Result<String, ApiError> {
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
    let mut out = String::new();
    for (key, value) in [
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
    ] {
        out.push_str(&entry(key, value));
    }
    for (key, value) in QUOTAS {
        out.push_str(&entry(key, *value));
    }
    Ok(format!("<SummaryMap>{out}</SummaryMap>"))
}

fn policy_list(wrapper: &str, policies: &[(String, String)]) -> String {
    let members: String = policies
        .iter()
        .map(|(name, doc)| {
            format!(
                "<member><PolicyName>{}</PolicyName><PolicyDocument>{}</PolicyDocument></member>",
                xml_escape(name),
                encoded(doc)
            )
        })
        .collect();
    format!("<{wrapper}>{members}</{wrapper}>")
}

fn attached_list(
    tx: &mut dyn store::ReadTx,
    account: &str,
    kind: &str,
    name: &str,
) -> Result<(String, Vec<String>), ApiError> {
    let links = crate::services::iam::managed::attachments(tx, account, kind, name)?;
    let arns: Vec<String> = links.iter().map(|l| text(&l.body, "PolicyArn").to_string()).collect();
    let members: String = links
        .iter()
        .map(|l| {
            format!(
                "<member><PolicyName>{}</PolicyName><PolicyArn>{}</PolicyArn></member>",
                xml_escape(text(&l.body, "PolicyName")),
                xml_escape(text(&l.body, "PolicyArn"))
            )
        })
        .collect();
    Ok((format!("<AttachedManagedPolicies>{members}</AttachedManagedPolicies>"), arns))
}

fn tags_xml(tags: &[crate::records::iam::Tag]) -> String {
    let members: String = tags
        .iter()
        .map(|t| {
            format!(
                "<member><Key>{}</Key><Value>{}</Value></member>",
                xml_escape(&t.key),
                xml_escape(&t.value)
            )
        })
        .collect();
    format!("<Tags>{members}</Tags>")
}

/// `GetAccountAuthorizationDetails`: the entities `Filter` names (all by default), one page of
/// the users, groups, roles and policies together.
fn details(tx: &mut dyn store::ReadTx, account: &str, input: &Input) -> Result<String, ApiError> {
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
    let mut items: Vec<(u8, String)> = Vec::new();
    let mut attached_aws: Vec<String> = Vec::new();
    for user in Stored::<User>::list(tx, account, "", ALL)? {
        let name = user.key.clone();
        let inline = crate::services::iam::inline::list(tx, account, Owner::User, &name)?;
        let groups: String = crate::services::iam::groups::groups_of(tx, account, &name)?
            .iter()
            .map(|g| format!("<member>{}</member>", xml_escape(g)))
            .collect();
        let (attached, arns) = attached_list(tx, account, "user", &name)?;
        attached_aws.extend(arns);
        if wants("User") {
            items.push((
                0,
                format!(
                    "<member>{}{}<GroupList>{groups}</GroupList>{attached}{}</member>",
                    crate::services::iam::user_xml(&user.body),
                    policy_list("UserPolicyList", &inline),
                    tags_xml(&user.body.tags)
                ),
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
                format!(
                    "<member>{}{}{attached}</member>",
                    crate::services::iam::groups::group_xml(&group.body),
                    policy_list("GroupPolicyList", &inline)
                ),
            ));
        }
    }
    for role in Stored::<Role>::list(tx, account, "", ALL)? {
        let name = role.key.clone();
        let inline = crate::services::iam::inline::list(tx, account, Owner::Role, &name)?;
        let (attached, arns) = attached_list(tx, account, "role", &name)?;
        attached_aws.extend(arns);
        if wants("Role") {
            items.push((
                2,
                format!(
                    "<member>{}<InstanceProfileList></InstanceProfileList>{}{attached}{}</member>",
                    crate::services::iam::roles::role_xml(&role.body),
                    policy_list("RolePolicyList", &inline),
                    tags_xml(&role.body.tags)
                ),
            ));
        }
    }
    if wants("AWSManagedPolicy") {
        for (name, doc) in crate::services::iam::managed::AWS_MANAGED {
            let arn = format!("arn:aws:iam::aws:policy/{name}");
            if !attached_aws.contains(&arn) {
                continue;
            }
            items.push((3, format!(
                "<member>{}<PolicyVersionList><member><Document>{}</Document><VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion><CreateDate>2015-02-06T18:39:46Z</CreateDate></member></PolicyVersionList></member>",
                crate::services::iam::managed::aws_policy_xml(name),
                encoded(doc)
            )));
        }
    }
    if wants("LocalManagedPolicy") {
        for policy in crate::support::records::list(tx, account, "policy", "", ALL)? {
            let default = text(&policy.body, "DefaultVersionId").to_string();
            let versions: String = crate::services::iam::managed::versions(tx, account, &policy.key)?
                .iter()
                .map(|v| {
                    let id = text(&v.body, "VersionId");
                    format!(
                        "<member><Document>{}</Document><VersionId>{id}</VersionId><IsDefaultVersion>{}</IsDefaultVersion><CreateDate>{}</CreateDate></member>",
                        encoded(text(&v.body, "Document")),
                        id == default,
                        xml_escape(text(&v.body, "CreateDate"))
                    )
                })
                .collect();
            items.push((
                3,
                format!(
                    "<member>{}<PolicyVersionList>{versions}</PolicyVersionList></member>",
                    crate::services::iam::managed::policy_xml(&policy.body)
                ),
            ));
        }
    }
    // One window over all four lists; each list shows its part of the window.
    let (start, limit) = crate::services::iam::page_window(input)?;
    let window: Vec<&(u8, String)> = items.iter().skip(start).take(limit).collect();
    let list = |n: u8, wrapper: &str| -> String {
        let members: String =
            window.iter().filter(|(i, _)| *i == n).map(|(_, m)| m.as_str()).collect();
        format!("<{wrapper}>{members}</{wrapper}>")
    };
    let tail = crate::services::iam::page_tail(start, limit, items.len());
    Ok(format!(
        "{}{}{}{}{tail}",
        list(0, "UserDetailList"),
        list(1, "GroupDetailList"),
        list(2, "RoleDetailList"),
        list(3, "Policies")
    ))
}

/// Runs a report; `None` when `action` is not one.
pub fn handle(
    operation: IamOperation,
    tx: &mut dyn store::ReadTx,
    account: &str,
    input: &Input,
) -> Result<Option<String>, ApiError> {
    match operation {
        Op::GetAccountSummary => summary(tx, account).map(Some),
        Op::GetAccountAuthorizationDetails => details(tx, account, input).map(Some),
        _ => Err(ApiError::internal("not a report")),
    }
}
