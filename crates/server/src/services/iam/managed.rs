//! Managed policies: customer-managed policies with up to five versions, the AWS-managed
//! job-function policies (for the services Hermetic has), and their attachment to users, groups
//! and roles.

use crate::error::ApiError;
use crate::pipeline::service::Operation;
use crate::protocol::xml::{self, Xml};
use crate::records::iam::{Principal, Role, User};
use crate::records::Stored;
use crate::services::iam::aws_policies::{self, AwsPolicy};
use crate::services::iam::input::Input;
use crate::services::iam::wrapped;
use crate::services::iam::IamOperation::{self, self as Op};
use crate::services::iam::{check_name, create_entity, no_such, required};
use serde_json::{json, Value};
use store::{PutMode, Record, Tx};

/// Most versions a managed policy keeps (AWS's quota).
pub const MAX_VERSIONS: usize = 5;
/// Most managed policies attached to one user, group or role (AWS's default quota).
pub const MAX_ATTACHED: usize = 10;

fn aws_managed(arn: &str) -> Option<&'static str> {
    aws_policies::by_arn(arn).map(|p| p.document.as_str())
}

/// How many users, groups and roles of `account` each AWS managed policy is attached to (AWS
/// counts per account); policies attached nowhere are absent.
pub(crate) fn aws_attachment_counts(
    tx: &mut dyn store::ReadTx,
    account: &str,
) -> Result<std::collections::HashMap<String, i64>, ApiError> {
    let mut counts = std::collections::HashMap::new();
    for owner_kind in ["user", "group", "role"] {
        let kind = format!("attached_{owner_kind}");
        for link in crate::support::records::list(tx, account, &kind, "", 1_000_000)? {
            let arn = link.body.get("PolicyArn").and_then(Value::as_str).unwrap_or_default();
            if aws_policies::is_aws_arn(arn) {
                *counts.entry(arn.to_string()).or_insert(0) += 1;
            }
        }
    }
    Ok(counts)
}

/// A customer policy's name from its ARN, when it is in `account`.
fn local_name<'a>(account: &str, arn: &'a str) -> Option<&'a str> {
    let rest = arn.strip_prefix(&format!("arn:aws:iam::{account}:policy/"))?;
    rest.rsplit('/').next()
}

pub(crate) fn policy_xml(body: &Value) -> Xml {
    let f = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
    let n = |k: &str| body.get(k).and_then(Value::as_i64).unwrap_or(0);
    xml::build(|w| {
        w.text("PolicyName", f("PolicyName"))
            .text("PolicyId", f("PolicyId"))
            .text("Arn", f("Arn"))
            .text("Path", f("Path"))
            .text("DefaultVersionId", f("DefaultVersionId"))
            .value("AttachmentCount", n("AttachmentCount"))
            .value("IsAttachable", true)
            .opt("Description", body.get("Description").and_then(Value::as_str))
            .text("CreateDate", f("CreateDate"))
            .text("UpdateDate", f("UpdateDate"));
    })
}

/// A customer policy with its tags, as `CreatePolicy` and `GetPolicy` answer it.
fn policy_with_tags(body: &Value) -> Xml {
    let tags: Vec<crate::records::iam::Tag> = crate::services::iam::tags::of(body)
        .into_iter()
        .map(|(key, value)| crate::records::iam::Tag { key, value })
        .collect();
    wrapped("Policy", &[&policy_xml(body), &crate::services::iam::tags::xml(&tags)])
}

pub(crate) fn aws_policy_xml(policy: &AwsPolicy, attachments: i64) -> Xml {
    xml::build(|w| {
        w.text("PolicyName", &policy.name)
            .text("PolicyId", &policy.id())
            .text("Arn", &policy.arn())
            .text("Path", &policy.path)
            .text("DefaultVersionId", &policy.version)
            .value("AttachmentCount", attachments)
            .value("IsAttachable", true)
            .text("CreateDate", &policy.created)
            .text("UpdateDate", &policy.updated);
    })
}

pub(crate) fn get_policy(
    tx: &mut dyn store::ReadTx,
    account: &str,
    arn: &str,
) -> Result<Record, ApiError> {
    let missing = || no_such(&format!("Policy {arn} does not exist or is not attachable."));
    let name = local_name(account, arn).ok_or_else(missing)?;
    tx.get_record(account, "policy", name)?.ok_or_else(missing)
}

pub(crate) fn versions(
    tx: &mut dyn store::ReadTx,
    account: &str,
    name: &str,
) -> Result<Vec<Record>, ApiError> {
    crate::support::records::list(tx, account, "policy_version", &format!("{name}/"), 100)
}

/// The attachment records of an owner (`user`, `group` or `role`).
pub(crate) fn attachments(
    tx: &mut dyn store::ReadTx,
    account: &str,
    owner_kind: &str,
    owner: &str,
) -> Result<Vec<Record>, ApiError> {
    crate::support::records::list(
        tx,
        account,
        &format!("attached_{owner_kind}"),
        &format!("{owner}/"),
        100,
    )
}

/// The documents of the managed policies attached to an owner (`user`, `group` or `role`), as
/// (name, document) pairs, each its default version.
pub fn attached(
    tx: &mut dyn store::ReadTx,
    account: &str,
    owner_kind: &str,
    owner: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let links = attachments(tx, account, owner_kind, owner)?;
    let mut out = Vec::new();
    for link in links {
        let arn =
            link.body.get("PolicyArn").and_then(Value::as_str).unwrap_or_default().to_string();
        let doc = default_document(tx, account, &arn)?;
        out.push((arn, doc));
    }
    Ok(out)
}

/// The default version's document of a managed policy (AWS-managed or this account's). A
/// dangling reference denies rather than silently dropping a policy.
pub fn default_document(
    tx: &mut dyn store::ReadTx,
    account: &str,
    arn: &str,
) -> Result<String, ApiError> {
    if let Some(doc) = aws_managed(arn) {
        return Ok(doc.to_string());
    }
    let unreadable = || ApiError::unavailable("an attached policy could not be read");
    let policy = get_policy(tx, account, arn).map_err(|_| unreadable())?;
    let name = policy.body.get("PolicyName").and_then(Value::as_str).unwrap_or_default();
    let default = policy.body.get("DefaultVersionId").and_then(Value::as_str).unwrap_or_default();
    let version = tx
        .get_record(account, "policy_version", &format!("{name}/{default}"))?
        .ok_or_else(unreadable)?;
    Ok(version.body.get("Document").and_then(Value::as_str).unwrap_or_default().to_string())
}

/// The `<PermissionsBoundary>` element of a user or role, empty when it has none.
pub fn boundary_xml(arn: Option<&str>) -> Xml {
    xml::build(|w| {
        if let Some(arn) = arn {
            w.elem("PermissionsBoundary", |w| {
                w.text("PermissionsBoundaryType", "Policy").text("PermissionsBoundaryArn", arn);
            });
        }
    })
}

fn version_record(account: &str, name: &str, id: &str, document: &str, now: i64) -> Record {
    Record {
        mac: Vec::new(),
        account: account.into(),
        kind: "policy_version".into(),
        key: format!("{name}/{id}"),
        format_version: 1,
        body: json!({ "VersionId": id, "Document": document, "CreateDate": crate::support::time::iso8601(now) }),
        updated_at_ms: now,
    }
}

fn set_count(
    tx: &mut dyn Tx,
    account: &str,
    arn: &str,
    delta: i64,
    now: i64,
) -> Result<(), ApiError> {
    if aws_managed(arn).is_some() {
        return Ok(());
    }
    let mut policy = get_policy(tx, account, arn)?;
    let count = policy.body.get("AttachmentCount").and_then(Value::as_i64).unwrap_or(0) + delta;
    if let Some(obj) = policy.body.as_object_mut() {
        obj.insert("AttachmentCount".into(), count.max(0).into());
    }
    policy.updated_at_ms = now;
    tx.put_record(&policy, PutMode::Update).map_err(ApiError::from)
}

/// Runs a managed-policy action; `None` when `action` is not one.
pub fn handle(
    operation: IamOperation,
    tx: &mut dyn Tx,
    account: &str,
    input: &Input,
    now: i64,
) -> Result<Option<Xml>, ApiError> {
    let action = operation.name();
    let mut run = || -> Result<Option<Xml>, ApiError> {
        Ok(match operation {
            Op::CreatePolicy => {
                let name = required(input, "PolicyName")?;
                check_name(name, "policyName")?;
                let document = required(input, "PolicyDocument")?;
                crate::services::iam::inline::check_document(
                    document,
                    policy::validate::PolicyKind::Identity,
                )?;
                crate::services::iam::quotas::check_size(
                    document,
                    crate::services::iam::quotas::POLICY_SIZE,
                    "PolicySize",
                )?;
                crate::services::iam::quotas::check_count(
                    tx,
                    account,
                    "policy",
                    crate::services::iam::quotas::POLICIES,
                    "PoliciesPerAccount",
                )?;
                let path = input.text("Path").unwrap_or("/");
                let id = crate::support::ids::iam_id("ANPA");
                let mut body = json!({
                    "PolicyName": name, "PolicyId": id, "Path": path, "DefaultVersionId": "v1",
                    "Arn": format!("arn:aws:iam::{account}:policy{path}{name}"), "AttachmentCount": 0,
                    "CreateDate": crate::support::time::iso8601(now), "UpdateDate": crate::support::time::iso8601(now), "NextVersion": 2,
                });
                if let (Some(d), Some(obj)) = (input.text("Description"), body.as_object_mut()) {
                    obj.insert("Description".into(), d.into());
                }
                crate::services::iam::tags::merge(
                    &mut body,
                    &crate::services::iam::tags::request_tags(input)?,
                )?;
                let record = Record {
                    mac: Vec::new(),
                    account: account.into(),
                    kind: "policy".into(),
                    key: name.into(),
                    format_version: 1,
                    body: body.clone(),
                    updated_at_ms: now,
                };
                create_entity(
                    tx,
                    &record,
                    format!(
                        "A policy called {name} already exists. Duplicate names are not allowed."
                    ),
                )?;
                tx.put_record(
                    &version_record(account, name, "v1", document, now),
                    PutMode::Create,
                )?;
                Some(policy_with_tags(&body))
            }
            Op::GetPolicy => {
                let arn = required(input, "PolicyArn")?;
                if let Some(p) = aws_policies::by_arn(arn) {
                    let count = aws_attachment_counts(tx, account)?.get(arn).copied().unwrap_or(0);
                    Some(wrapped("Policy", &[&aws_policy_xml(p, count)]))
                } else {
                    Some(policy_with_tags(&get_policy(tx, account, arn)?.body))
                }
            }
            Op::ListPolicies => {
                let scope = input.text("Scope").unwrap_or("All");
                if !["All", "AWS", "Local"].contains(&scope) {
                    return Err(ApiError::sender(
                        400,
                        "ValidationError",
                        "Scope must be one of All, AWS, Local",
                    ));
                }
                let only_attached = input.flag("OnlyAttached") == Some(true);
                let prefix = input.text("PathPrefix").unwrap_or("/");
                let mut members = Vec::new();
                if scope == "All" || scope == "AWS" {
                    let counts = aws_attachment_counts(tx, account)?;
                    for p in aws_policies::all() {
                        let count = counts.get(&p.arn()).copied().unwrap_or(0);
                        if p.path.starts_with(prefix) && (!only_attached || count > 0) {
                            members.push(crate::services::iam::member(&aws_policy_xml(p, count)));
                        }
                    }
                }
                if scope == "All" || scope == "Local" {
                    let local: Vec<Record> =
                        crate::support::records::list(tx, account, "policy", "", 100_000)?
                            .into_iter()
                            .filter(|r| {
                                let count = r.body.get("AttachmentCount").and_then(Value::as_i64);
                                let path =
                                    r.body.get("Path").and_then(Value::as_str).unwrap_or("/");
                                path.starts_with(prefix)
                                    && (!only_attached || count.unwrap_or(0) > 0)
                            })
                            .collect();
                    members.extend(crate::services::iam::members(&local, policy_xml));
                }
                Some(crate::services::iam::paged(input, "Policies", members)?)
            }
            Op::DeletePolicy => {
                let arn = required(input, "PolicyArn")?;
                let policy = get_policy(tx, account, arn)?;
                let name = policy.key.clone();
                if policy.body.get("AttachmentCount").and_then(Value::as_i64).unwrap_or(0) > 0 {
                    return Err(ApiError::sender(
                        409,
                        "DeleteConflict",
                        "Cannot delete a policy attached to entities.",
                    ));
                }
                if versions(tx, account, &name)?.len() > 1 {
                    return Err(ApiError::sender(409, "DeleteConflict", "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy."));
                }
                for v in versions(tx, account, &name)? {
                    tx.delete_record(account, "policy_version", &v.key)?;
                }
                tx.delete_record(account, "policy", &name)?;
                None
            }
            Op::CreatePolicyVersion => {
                let arn = required(input, "PolicyArn")?;
                let document = required(input, "PolicyDocument")?;
                crate::services::iam::inline::check_document(
                    document,
                    policy::validate::PolicyKind::Identity,
                )?;
                crate::services::iam::quotas::check_size(
                    document,
                    crate::services::iam::quotas::POLICY_SIZE,
                    "PolicySize",
                )?;
                let mut policy = get_policy(tx, account, arn)?;
                let name = policy.key.clone();
                if versions(tx, account, &name)?.len() >= MAX_VERSIONS {
                    return Err(ApiError::sender(409, "LimitExceeded", format!("A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version.")));
                }
                let next = policy.body.get("NextVersion").and_then(Value::as_i64).unwrap_or(2);
                let id = format!("v{next}");
                tx.put_record(
                    &version_record(account, &name, &id, document, now),
                    PutMode::Create,
                )?;
                let set_default = input.flag("SetAsDefault") == Some(true);
                if let Some(obj) = policy.body.as_object_mut() {
                    obj.insert("NextVersion".into(), (next + 1).into());
                    obj.insert("UpdateDate".into(), crate::support::time::iso8601(now).into());
                    if set_default {
                        obj.insert("DefaultVersionId".into(), id.clone().into());
                    }
                }
                policy.updated_at_ms = now;
                tx.put_record(&policy, PutMode::Update)?;
                Some(xml::build(|w| {
                    w.elem("PolicyVersion", |w| {
                        w.text("VersionId", &id)
                            .value("IsDefaultVersion", set_default)
                            .text("CreateDate", &crate::support::time::iso8601(now));
                    });
                }))
            }
            Op::GetPolicyVersion | Op::DeletePolicyVersion | Op::SetDefaultPolicyVersion => {
                let arn = required(input, "PolicyArn")?;
                let id = required(input, "VersionId")?;
                // An AWS managed policy: its default version only (older ones are not in the
                // data); changing one is refused at authorization.
                if let (Op::GetPolicyVersion, Some(p)) = (operation, aws_policies::by_arn(arn)) {
                    if id != p.version {
                        return Err(no_such(&format!(
                            "Policy {arn} version {id} does not exist or is not attachable."
                        )));
                    }
                    return Ok(Some(xml::build(|w| {
                        w.elem("PolicyVersion", |w| {
                            w.text("Document", &sigv4::encode::uri_encode(&p.document, false))
                                .text("VersionId", &p.version)
                                .value("IsDefaultVersion", true)
                                .text("CreateDate", &p.updated);
                        });
                    })));
                }
                let mut policy = get_policy(tx, account, arn)?;
                let name = policy.key.clone();
                let default = policy
                    .body
                    .get("DefaultVersionId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let version = tx
                    .get_record(account, "policy_version", &format!("{name}/{id}"))?
                    .ok_or_else(|| {
                        no_such(&format!(
                            "Policy {arn} version {id} does not exist or is not attachable."
                        ))
                    })?;
                match operation {
                    Op::GetPolicyVersion => {
                        let doc = version
                            .body
                            .get("Document")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        let created = version
                            .body
                            .get("CreateDate")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        Some(xml::build(|w| {
                            w.elem("PolicyVersion", |w| {
                                w.text("Document", &sigv4::encode::uri_encode(doc, false))
                                    .text("VersionId", id)
                                    .value("IsDefaultVersion", id == default)
                                    .text("CreateDate", created);
                            });
                        }))
                    }
                    Op::DeletePolicyVersion => {
                        if id == default {
                            return Err(ApiError::sender(
                                409,
                                "DeleteConflict",
                                "Cannot delete the default version of a policy.",
                            ));
                        }
                        tx.delete_record(account, "policy_version", &version.key)?;
                        None
                    }
                    _ => {
                        if let Some(obj) = policy.body.as_object_mut() {
                            obj.insert("DefaultVersionId".into(), id.into());
                            obj.insert(
                                "UpdateDate".into(),
                                crate::support::time::iso8601(now).into(),
                            );
                        }
                        policy.updated_at_ms = now;
                        tx.put_record(&policy, PutMode::Update)?;
                        None
                    }
                }
            }
            Op::ListPolicyVersions => {
                let arn = required(input, "PolicyArn")?;
                if let Some(p) = aws_policies::by_arn(arn) {
                    let member = xml::build(|w| {
                        w.elem("member", |w| {
                            w.text("VersionId", &p.version)
                                .value("IsDefaultVersion", true)
                                .text("CreateDate", &p.updated);
                        });
                    });
                    return Ok(Some(crate::services::iam::paged(input, "Versions", vec![member])?));
                }
                let policy = get_policy(tx, account, arn)?;
                let default = policy
                    .body
                    .get("DefaultVersionId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let members: Vec<Xml> = versions(tx, account, &policy.key)?
                    .iter()
                    .map(|v| {
                        let f = |k: &str| v.body.get(k).and_then(Value::as_str).unwrap_or_default();
                        xml::build(|w| {
                            w.elem("member", |w| {
                                w.text("VersionId", f("VersionId"))
                                    .value("IsDefaultVersion", f("VersionId") == default)
                                    .text("CreateDate", f("CreateDate"));
                            });
                        })
                    })
                    .collect();
                Some(crate::services::iam::paged(input, "Versions", members)?)
            }
            Op::PutUserPermissionsBoundary
            | Op::DeleteUserPermissionsBoundary
            | Op::PutRolePermissionsBoundary
            | Op::DeleteRolePermissionsBoundary => {
                if action.contains("User") {
                    set_boundary::<User>(
                        tx,
                        account,
                        required(input, "UserName")?,
                        input,
                        action,
                        now,
                    )?;
                } else {
                    set_boundary::<Role>(
                        tx,
                        account,
                        required(input, "RoleName")?,
                        input,
                        action,
                        now,
                    )?;
                }
                None
            }
            Op::ListEntitiesForPolicy => Some(entities_for_policy(tx, account, input)?),
            _ => {
                // Attach/Detach/ListAttached for users, groups and roles.
                let (owner_kind, owner_param) = if action.contains("User") {
                    ("user", "UserName")
                } else if action.contains("Group") {
                    ("group", "GroupName")
                } else {
                    ("role", "RoleName")
                };
                let owner = required(input, owner_param)?;
                if tx.get_record(account, owner_kind, owner)?.is_none() {
                    return Err(no_such(&format!(
                        "The {owner_kind} with name {owner} cannot be found."
                    )));
                }
                let kind = format!("attached_{owner_kind}");
                if action.starts_with("ListAttached") {
                    let links = attachments(tx, account, owner_kind, owner)?;
                    let members: Vec<Xml> = links
                        .iter()
                        .map(|l| {
                            let f =
                                |k: &str| l.body.get(k).and_then(Value::as_str).unwrap_or_default();
                            xml::build(|w| {
                                w.elem("member", |w| {
                                    w.text("PolicyName", f("PolicyName"))
                                        .text("PolicyArn", f("PolicyArn"));
                                });
                            })
                        })
                        .collect();
                    return Ok(Some(crate::services::iam::paged(
                        input,
                        "AttachedPolicies",
                        members,
                    )?));
                }
                let arn = required(input, "PolicyArn")?;
                let policy_name = if let Some(p) = aws_policies::by_arn(arn) {
                    p.name.clone()
                } else {
                    get_policy(tx, account, arn)?.key
                };
                let key = format!("{owner}/{arn}");
                let linked = tx.get_record(account, &kind, &key)?.is_some();
                if action.starts_with("Attach") {
                    if !linked {
                        let count = attachments(tx, account, owner_kind, owner)?.len();
                        if count >= MAX_ATTACHED {
                            return Err(ApiError::sender(
                                409,
                                "LimitExceeded",
                                format!(
                                    "Cannot exceed quota for PoliciesPer{}: {MAX_ATTACHED}",
                                    if owner_kind == "user" {
                                        "User"
                                    } else if owner_kind == "group" {
                                        "Group"
                                    } else {
                                        "Role"
                                    }
                                ),
                            ));
                        }
                        let link = Record {
                            mac: Vec::new(),
                            account: account.into(),
                            kind: kind.clone(),
                            key,
                            format_version: 1,
                            body: json!({ "PolicyArn": arn, "PolicyName": policy_name }),
                            updated_at_ms: now,
                        };
                        tx.put_record(&link, PutMode::Create)?;
                        set_count(tx, account, arn, 1, now)?;
                    }
                } else {
                    if !linked {
                        return Err(no_such(&format!("Policy {arn} was not found.")));
                    }
                    tx.delete_record(account, &kind, &key)?;
                    set_count(tx, account, arn, -1, now)?;
                }
                None
            }
        })
    };
    run()
}

/// The permissions boundary a request names (`PermissionsBoundary`), checked to be a managed
/// policy that exists; `None` when it names none.
pub(crate) fn requested_boundary(
    tx: &mut dyn store::ReadTx,
    account: &str,
    input: &Input,
) -> Result<Option<String>, ApiError> {
    let Some(arn) = input.text("PermissionsBoundary") else { return Ok(None) };
    default_document(tx, account, arn)
        .map_err(|_| ApiError::sender(400, "InvalidInput", format!("ARN {arn} is not valid.")))?;
    Ok(Some(arn.to_string()))
}

/// `Put`/`Delete` `User`/`Role` `PermissionsBoundary` on user or role `owner`.
fn set_boundary<T: Principal>(
    tx: &mut dyn Tx,
    account: &str,
    owner: &str,
    input: &Input,
    action: &str,
    now: i64,
) -> Result<(), ApiError> {
    let kind = T::KIND;
    let mut entity = Stored::<T>::get(tx, account, owner)?
        .ok_or_else(|| no_such(&format!("The {kind} with name {owner} cannot be found.")))?;
    if action.starts_with("Put") {
        required(input, "PermissionsBoundary")?;
        *entity.body.boundary_mut() = requested_boundary(tx, account, input)?;
    } else if entity.body.boundary_mut().take().is_none() {
        return Err(no_such(&format!("The {kind} {owner} has no permissions boundary.")));
    }
    entity.updated_at_ms = now;
    entity.put(tx, PutMode::Update)?;
    Ok(())
}

/// `ListEntitiesForPolicy`: the users, groups and roles a managed policy is attached to (or
/// bounds), one page over the three lists in that order.
fn entities_for_policy(tx: &mut dyn Tx, account: &str, input: &Input) -> Result<Xml, ApiError> {
    let arn = required(input, "PolicyArn")?;
    if aws_policies::by_arn(arn).is_none() {
        get_policy(tx, account, arn)?;
    }
    let filter = input.text("EntityFilter");
    let usage = input.text("PolicyUsageFilter");
    let prefix = input.text("PathPrefix").unwrap_or("/");
    let wanted = |kind: &str| filter.is_none_or(|f| f.eq_ignore_ascii_case(kind));
    let attached_to = |tx: &mut dyn Tx, owner_kind: &str| -> Result<Vec<String>, ApiError> {
        if usage == Some("PermissionsBoundary") {
            return Ok(Vec::new());
        }
        let suffix = format!("/{arn}");
        Ok(crate::support::records::list(
            tx,
            account,
            &format!("attached_{owner_kind}"),
            "",
            1_000_000,
        )?
        .into_iter()
        .filter_map(|r| r.key.strip_suffix(&suffix).map(str::to_string))
        .collect())
    };
    let bounds = usage != Some("PermissionsPolicy");
    // (list, name, id) of every entity, in list order.
    let mut items: Vec<(u8, String, String)> = Vec::new();
    if wanted("Group") {
        for name in attached_to(tx, "group")? {
            if let Some(g) = Stored::<crate::records::iam::Group>::get(tx, account, &name)? {
                if g.body.path.starts_with(prefix) {
                    items.push((0, g.body.group_name, g.body.group_id));
                }
            }
        }
    }
    if wanted("User") {
        let mut names = attached_to(tx, "user")?;
        for u in Stored::<User>::list(tx, account, "", 1_000_000)? {
            if bounds && u.body.permissions_boundary_arn.as_deref() == Some(arn) {
                names.push(u.key.clone());
            }
        }
        names.sort();
        names.dedup();
        for name in names {
            if let Some(u) = Stored::<User>::get(tx, account, &name)? {
                if u.body.path.starts_with(prefix) {
                    items.push((1, u.body.user_name, u.body.user_id));
                }
            }
        }
    }
    if wanted("Role") {
        let mut names = attached_to(tx, "role")?;
        for r in Stored::<Role>::list(tx, account, "", 1_000_000)? {
            if bounds && r.body.permissions_boundary_arn.as_deref() == Some(arn) {
                names.push(r.key.clone());
            }
        }
        names.sort();
        names.dedup();
        for name in names {
            if let Some(r) = Stored::<Role>::get(tx, account, &name)? {
                if r.body.path.starts_with(prefix) {
                    items.push((2, r.body.role_name, r.body.role_id));
                }
            }
        }
    }
    let (start, limit) = crate::services::iam::page_window(input)?;
    let page: Vec<&(u8, String, String)> = items.iter().skip(start).take(limit).collect();
    let lists = [
        ("PolicyGroups", "GroupName", "GroupId"),
        ("PolicyUsers", "UserName", "UserId"),
        ("PolicyRoles", "RoleName", "RoleId"),
    ];
    Ok(xml::build(|w| {
        for (i, (list, name, id)) in (0u8..).zip(lists) {
            w.elem(list, |w| {
                for (_, n, d) in page.iter().filter(|(l, _, _)| *l == i) {
                    w.elem("member", |w| {
                        w.text(name, n).text(id, d);
                    });
                }
            });
        }
        crate::services::iam::page_tail(w, start, limit, items.len());
    }))
}
