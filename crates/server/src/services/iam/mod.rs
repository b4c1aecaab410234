//! IAM (query protocol, namespace `https://iam.amazonaws.com/doc/2010-05-08/`): users, their
//! access keys and inline policies. Each operation runs in one store transaction together with
//! its audit event.

pub(crate) mod account;
pub(crate) mod aws_policies;
pub(crate) mod groups;
pub(crate) mod inline;
pub(crate) mod input;
pub(crate) mod managed;
pub(crate) mod mfa;
pub(crate) mod profiles;
pub(crate) mod quotas;
pub(crate) mod reports;
pub(crate) mod roles;
pub(crate) mod simulate;
pub(crate) mod tags;
mod users;

use crate::error::ApiError;
use crate::pipeline::authorize::iam_tag_context;
use crate::pipeline::identity::Caller;
use crate::pipeline::service::{
    operations, Access, Authorization, Check, Ctx, Effect, Named, Operation, Request, Service,
    Unrouted,
};
use crate::pipeline::Reply;
use crate::protocol::xml::{self, Xml};
use crate::records::iam::User;
use crate::records::{Body, PutError, Stored};
use input::Input;

use serde_json::{json, Value};
use store::{PutMode, Record, StoreError, Tx};

/// The IAM XML namespace.
pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// Access keys a user may have at once (AWS's quota).
pub const MAX_KEYS_PER_USER: usize = 2;

pub(crate) fn no_such(what: &str) -> ApiError {
    ApiError::sender(404, "NoSuchEntity", what.to_string())
}

pub(crate) fn required<'a>(input: &'a Input, name: &str) -> Result<&'a str, ApiError> {
    input.text(name).filter(|v| !v.is_empty()).ok_or_else(|| {
        ApiError::sender(400, "ValidationError", format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(name)))
    })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// IAM names: 1–64 of `[A-Za-z0-9+=,.@_-]` (AWS's pattern for user and policy names).
pub(crate) fn check_name(name: &str, what: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::sender(400, "ValidationError", format!("The specified value for {what} is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-")))
    }
}

/// IAM paths: `/`, or `/` then 1–510 printable ASCII characters ending in `/` (AWS's pattern).
pub(crate) fn check_path(path: &str) -> Result<&str, ApiError> {
    let ok = path == "/"
        || (path.len() <= 512
            && path.len() > 2
            && path.starts_with('/')
            && path.ends_with('/')
            && path.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    if ok {
        Ok(path)
    } else {
        Err(ApiError::sender(400, "ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters."))
    }
}

/// `<member>` elements, one per record, rendered by `xml`.
pub(crate) fn members(records: &[Record], xml: impl Fn(&Value) -> Xml) -> Vec<Xml> {
    records.iter().map(|r| member(&xml(&r.body))).collect()
}

/// One `<member>` holding `content`.
pub(crate) fn member(content: &Xml) -> Xml {
    xml::build(|w| {
        w.elem("member", |w| {
            w.fragment(content);
        });
    })
}

/// `<member>` elements, one per typed record, rendered by `xml`.
pub(crate) fn typed_members<T>(records: &[Stored<T>], xml: impl Fn(&T) -> Xml) -> Vec<Xml> {
    records.iter().map(|r| member(&xml(&r.body))).collect()
}

/// Most items one page holds (IAM's `MaxItems` bound) and the default page size.
pub const MAX_ITEMS: usize = 1000;
const DEFAULT_ITEMS: usize = 100;

/// The window a list request asks for: from its `Marker` (an offset this server handed out)
/// and `MaxItems` (1 to 1000, default 100).
pub(crate) fn page_window(input: &Input) -> Result<(usize, usize), ApiError> {
    let limit =
        match input.number("MaxItems") {
            Some(m) => usize::try_from(m).ok().filter(|m| (1..=MAX_ITEMS).contains(m)).ok_or_else(
                || ApiError::sender(400, "ValidationError", "MaxItems must be between 1 and 1000"),
            )?,
            None => DEFAULT_ITEMS,
        };
    let start = match input.text("Marker") {
        Some(m) => {
            m.strip_prefix("hm1.").and_then(|n| n.parse::<usize>().ok()).ok_or_else(|| {
                ApiError::sender(400, "ValidationError", "Marker is not one this service returned")
            })?
        }
        None => 0,
    };
    Ok((start, limit))
}

/// One page of `items` (each a `<member>`), in `<{wrapper}>`, followed by `IsTruncated` and,
/// when more follow, the `Marker` that fetches them.
pub(crate) fn paged(
    input: &Input,
    wrapper: &'static str,
    items: Vec<Xml>,
) -> Result<Xml, ApiError> {
    let (start, limit) = page_window(input)?;
    let total = items.len();
    Ok(xml::build(|w| {
        w.elem(wrapper, |w| {
            w.fragments(items.iter().skip(start).take(limit));
        });
        page_tail(w, start, limit, total);
    }))
}

/// `IsTruncated`, and the `Marker` of the next page when there is one.
pub(crate) fn page_tail(w: &mut xml::Writer, start: usize, limit: usize, total: usize) {
    let next = start.saturating_add(limit);
    if next < total {
        w.value("IsTruncated", true).text("Marker", &format!("hm1.{next}"));
    } else {
        w.value("IsTruncated", false);
    }
}

/// Creates a new typed user, role or group; one that exists already is IAM's
/// `EntityAlreadyExists` (409) with `exists_message`.
pub(crate) fn create<T: Body>(
    tx: &mut dyn Tx,
    entity: &Stored<T>,
    exists_message: String,
) -> Result<(), ApiError> {
    entity.put(tx, PutMode::Create).map_err(|e| match e {
        PutError::Store(StoreError::AlreadyExists) => {
            ApiError::sender(409, "EntityAlreadyExists", exists_message)
        }
        other => other.into(),
    })
}

/// Creates a new policy or MFA device; one that exists already is IAM's
/// `EntityAlreadyExists` (409) with `exists_message`.
pub(crate) fn create_entity(
    tx: &mut dyn Tx,
    record: &Record,
    exists_message: String,
) -> Result<(), ApiError> {
    tx.put_record(record, PutMode::Create).map_err(|e| match e {
        StoreError::AlreadyExists => ApiError::sender(409, "EntityAlreadyExists", exists_message),
        other => ApiError::from(other),
    })
}

/// The IAM entity behind the caller: `("user", name)` for a user, `("role", name)` for a role
/// session; names without their path.
pub(crate) fn caller_entity(caller: &Caller) -> Option<(&'static str, String)> {
    if let Some((_, path_and_name)) = caller.arn.rsplit_once(":user/") {
        return path_and_name.rsplit('/').next().map(|n| ("user", n.to_string()));
    }
    let (_, rest) = caller.arn.split_once(":assumed-role/")?;
    rest.split('/').next().map(|n| ("role", n.to_string()))
}

/// The name of the calling IAM user, if the caller is one.
pub(crate) fn caller_user_name(caller: &Caller) -> Option<String> {
    caller_entity(caller).filter(|(kind, _)| *kind == "user").map(|(_, name)| name)
}

/// `UserName`, or the calling user's own name, as IAM defaults it.
fn user_name_or_caller(input: &Input, caller: &Caller) -> Result<String, ApiError> {
    match input.text("UserName") {
        Some(n) => Ok(n.to_string()),
        None => caller_user_name(caller).ok_or_else(|| {
            ApiError::sender(
                400,
                "ValidationError",
                "Must specify userName when calling with non-User credentials",
            )
        }),
    }
}

/// The action and resource ARN an IAM request is authorized as.
pub(crate) fn action_and_resource(
    caller: &Caller,
    operation: IamOperation,
    input: &Input,
) -> (String, String) {
    let action = operation.name().to_string();
    let user = input.text("UserName").map(str::to_string).or_else(|| caller_user_name(caller));
    if let (Some(arn), true) = (
        input.text("PolicyArn"),
        action.contains("Polic") && !action.starts_with("Attach") && !action.starts_with("Detach"),
    ) {
        return (format!("iam:{action}"), arn.to_string());
    }
    if let (Some(name), "CreatePolicy") = (input.text("PolicyName"), action.as_str()) {
        return (format!("iam:{action}"), format!("arn:aws:iam::{}:policy/{name}", caller.account));
    }
    if let ("CreateVirtualMFADevice", Some(name)) =
        (action.as_str(), input.text("VirtualMFADeviceName"))
    {
        let path = input.text("Path").unwrap_or("/");
        return (
            format!("iam:{action}"),
            format!("arn:aws:iam::{}:mfa{path}{name}", caller.account),
        );
    }
    if let ("DeleteVirtualMFADevice", Some(serial)) = (action.as_str(), input.text("SerialNumber"))
    {
        return (format!("iam:{action}"), serial.to_string());
    }
    if let (true, Some(source)) = (
        ["SimulatePrincipalPolicy", "GetContextKeysForPrincipalPolicy"].contains(&action.as_str()),
        input.text("PolicySourceArn"),
    ) {
        return (format!("iam:{action}"), source.to_string());
    }
    const ACCOUNT_WIDE: &[&str] = &[
        "GetAccountSummary",
        "GetAccountAuthorizationDetails",
        "SimulateCustomPolicy",
        "GetContextKeysForCustomPolicy",
        "ListPolicies",
        "CreateAccountAlias",
        "DeleteAccountAlias",
        "ListAccountAliases",
        "UpdateAccountPasswordPolicy",
        "GetAccountPasswordPolicy",
        "DeleteAccountPasswordPolicy",
    ];
    if ACCOUNT_WIDE.contains(&action.as_str()) {
        return (format!("iam:{action}"), "*".into());
    }
    if action == "ListGroups" {
        return (format!("iam:{action}"), format!("arn:aws:iam::{}:group/", caller.account));
    }
    if let Some(profile) = input.text("InstanceProfileName") {
        return (
            format!("iam:{action}"),
            format!("arn:aws:iam::{}:instance-profile/{profile}", caller.account),
        );
    }
    if action == "ListInstanceProfiles" {
        return (
            format!("iam:{action}"),
            format!("arn:aws:iam::{}:instance-profile/", caller.account),
        );
    }
    if action == "ListVirtualMFADevices" {
        return (format!("iam:{action}"), format!("arn:aws:iam::{}:mfa/", caller.account));
    }
    if let Some(role) = input.text("RoleName") {
        return (format!("iam:{action}"), format!("arn:aws:iam::{}:role/{role}", caller.account));
    }
    if let (Some(group), false) = (input.text("GroupName"), action.ends_with("User")) {
        return (format!("iam:{action}"), format!("arn:aws:iam::{}:group/{group}", caller.account));
    }
    let resource = match (action.as_str(), user) {
        ("ListUsers", _) => format!("arn:aws:iam::{}:user/", caller.account),
        ("ListRoles", _) => format!("arn:aws:iam::{}:role/", caller.account),
        (_, Some(u)) => format!("arn:aws:iam::{}:user/{u}", caller.account),
        _ => "*".to_string(),
    };
    (format!("iam:{action}"), resource)
}

pub(crate) fn user_xml(user: &User) -> Xml {
    xml::build(|w| {
        w.text("Path", &user.path)
            .text("UserName", &user.user_name)
            .text("UserId", &user.user_id)
            .text("Arn", &user.arn)
            .text("CreateDate", &user.create_date)
            .fragment(&managed::boundary_xml(user.permissions_boundary_arn.as_deref()));
    })
}

/// `<{action}Response>` with its result (if any) and request id.
fn wrap(action: &str, result: Option<Xml>, request_id: &str) -> String {
    let mut w = xml::Writer::new();
    w.elem_named(&format!("{action}Response"), &[("xmlns", NAMESPACE)], |w| {
        if let Some(r) = &result {
            w.elem_named(&format!("{action}Result"), &[], |w| {
                w.fragment(r);
            });
        }
        w.elem("ResponseMetadata", |w| {
            w.text("RequestId", request_id);
        });
    });
    w.finish()
}

/// `<name>` holding `content`, as a fragment.
pub(crate) fn wrapped(name: &'static str, content: &[&Xml]) -> Xml {
    xml::build(|w| {
        w.elem(name, |w| {
            w.fragments(content.iter().copied());
        });
    })
}

fn get_user(tx: &mut dyn Tx, account: &str, name: &str) -> Result<Stored<User>, ApiError> {
    Stored::<User>::get(tx, account, name)?
        .ok_or_else(|| no_such(&format!("The user with name {name} cannot be found.")))
}

/// The identity policies a user's requests are evaluated against, as (name, document) pairs:
/// its inline policies and those of every group it belongs to.
pub fn user_policies(
    tx: &mut dyn store::ReadTx,
    account: &str,
    user: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = crate::services::iam::inline::list(
        tx,
        account,
        crate::services::iam::inline::Owner::User,
        user,
    )?;
    out.extend(crate::services::iam::managed::attached(tx, account, "user", user)?);
    for group in crate::services::iam::groups::groups_of(tx, account, user)? {
        for (name, doc) in crate::services::iam::inline::list(
            tx,
            account,
            crate::services::iam::inline::Owner::Group,
            &group,
        )? {
            out.push((format!("group {group}: {name}"), doc));
        }
        out.extend(crate::services::iam::managed::attached(tx, account, "group", &group)?);
    }
    Ok(out)
}

/// The key IAM changes of an account lock ([`handle`]): a kind no record is stored under.
const IAM_LOCK: (&str, &str) = ("iam_lock", "changes");

operations! {
    /// IAM's operations served here.
    IamOperation {
        AddRoleToInstanceProfile => "iam:AddRoleToInstanceProfile", Write;
        AddUserToGroup => "iam:AddUserToGroup", Write;
        AttachGroupPolicy => "iam:AttachGroupPolicy", Write;
        AttachRolePolicy => "iam:AttachRolePolicy", Write;
        AttachUserPolicy => "iam:AttachUserPolicy", Write;
        CreateAccessKey => "iam:CreateAccessKey", Write;
        CreateAccountAlias => "iam:CreateAccountAlias", Write;
        CreateGroup => "iam:CreateGroup", Write;
        CreateInstanceProfile => "iam:CreateInstanceProfile", Write;
        CreatePolicy => "iam:CreatePolicy", Write;
        CreatePolicyVersion => "iam:CreatePolicyVersion", Write;
        CreateRole => "iam:CreateRole", Write;
        CreateUser => "iam:CreateUser", Write;
        CreateVirtualMFADevice => "iam:CreateVirtualMFADevice", Write;
        DeactivateMFADevice => "iam:DeactivateMFADevice", Write;
        DeleteAccessKey => "iam:DeleteAccessKey", Write;
        DeleteAccountAlias => "iam:DeleteAccountAlias", Write;
        DeleteAccountPasswordPolicy => "iam:DeleteAccountPasswordPolicy", Write;
        DeleteGroup => "iam:DeleteGroup", Write;
        DeleteGroupPolicy => "iam:DeleteGroupPolicy", Write;
        DeleteInstanceProfile => "iam:DeleteInstanceProfile", Write;
        DeletePolicy => "iam:DeletePolicy", Write;
        DeletePolicyVersion => "iam:DeletePolicyVersion", Write;
        DeleteRole => "iam:DeleteRole", Write;
        DeleteRolePermissionsBoundary => "iam:DeleteRolePermissionsBoundary", Write;
        DeleteRolePolicy => "iam:DeleteRolePolicy", Write;
        DeleteUser => "iam:DeleteUser", Write;
        DeleteUserPermissionsBoundary => "iam:DeleteUserPermissionsBoundary", Write;
        DeleteUserPolicy => "iam:DeleteUserPolicy", Write;
        DeleteVirtualMFADevice => "iam:DeleteVirtualMFADevice", Write;
        DetachGroupPolicy => "iam:DetachGroupPolicy", Write;
        DetachRolePolicy => "iam:DetachRolePolicy", Write;
        DetachUserPolicy => "iam:DetachUserPolicy", Write;
        EnableMFADevice => "iam:EnableMFADevice", Write;
        GetAccessKeyLastUsed => "iam:GetAccessKeyLastUsed", Read;
        GetAccountAuthorizationDetails => "iam:GetAccountAuthorizationDetails", Read;
        GetAccountPasswordPolicy => "iam:GetAccountPasswordPolicy", Read;
        GetAccountSummary => "iam:GetAccountSummary", Read;
        GetContextKeysForCustomPolicy => "iam:GetContextKeysForCustomPolicy", Read;
        GetContextKeysForPrincipalPolicy => "iam:GetContextKeysForPrincipalPolicy", Read;
        GetGroup => "iam:GetGroup", Read;
        GetGroupPolicy => "iam:GetGroupPolicy", Read;
        GetInstanceProfile => "iam:GetInstanceProfile", Read;
        GetMFADevice => "iam:GetMFADevice", Read;
        GetPolicy => "iam:GetPolicy", Read;
        GetPolicyVersion => "iam:GetPolicyVersion", Read;
        GetRole => "iam:GetRole", Read;
        GetRolePolicy => "iam:GetRolePolicy", Read;
        GetUser => "iam:GetUser", Read;
        GetUserPolicy => "iam:GetUserPolicy", Read;
        ListAccessKeys => "iam:ListAccessKeys", Read;
        ListAccountAliases => "iam:ListAccountAliases", Read;
        ListAttachedGroupPolicies => "iam:ListAttachedGroupPolicies", Read;
        ListAttachedRolePolicies => "iam:ListAttachedRolePolicies", Read;
        ListAttachedUserPolicies => "iam:ListAttachedUserPolicies", Read;
        ListEntitiesForPolicy => "iam:ListEntitiesForPolicy", Read;
        ListGroupPolicies => "iam:ListGroupPolicies", Read;
        ListGroups => "iam:ListGroups", Read;
        ListGroupsForUser => "iam:ListGroupsForUser", Read;
        ListInstanceProfileTags => "iam:ListInstanceProfileTags", Read;
        ListInstanceProfiles => "iam:ListInstanceProfiles", Read;
        ListInstanceProfilesForRole => "iam:ListInstanceProfilesForRole", Read;
        ListMFADevices => "iam:ListMFADevices", Read;
        ListPolicies => "iam:ListPolicies", Read;
        ListPolicyTags => "iam:ListPolicyTags", Read;
        ListPolicyVersions => "iam:ListPolicyVersions", Read;
        ListRolePolicies => "iam:ListRolePolicies", Read;
        ListRoleTags => "iam:ListRoleTags", Read;
        ListRoles => "iam:ListRoles", Read;
        ListUserPolicies => "iam:ListUserPolicies", Read;
        ListUserTags => "iam:ListUserTags", Read;
        ListUsers => "iam:ListUsers", Read;
        ListVirtualMFADevices => "iam:ListVirtualMFADevices", Read;
        PutGroupPolicy => "iam:PutGroupPolicy", Write;
        PutRolePermissionsBoundary => "iam:PutRolePermissionsBoundary", Write;
        PutRolePolicy => "iam:PutRolePolicy", Write;
        PutUserPermissionsBoundary => "iam:PutUserPermissionsBoundary", Write;
        PutUserPolicy => "iam:PutUserPolicy", Write;
        RemoveRoleFromInstanceProfile => "iam:RemoveRoleFromInstanceProfile", Write;
        RemoveUserFromGroup => "iam:RemoveUserFromGroup", Write;
        ResyncMFADevice => "iam:ResyncMFADevice", Write;
        SetDefaultPolicyVersion => "iam:SetDefaultPolicyVersion", Write;
        SimulateCustomPolicy => "iam:SimulateCustomPolicy", Read;
        SimulatePrincipalPolicy => "iam:SimulatePrincipalPolicy", Read;
        TagInstanceProfile => "iam:TagInstanceProfile", Write;
        TagPolicy => "iam:TagPolicy", Write;
        TagRole => "iam:TagRole", Write;
        TagUser => "iam:TagUser", Write;
        UntagInstanceProfile => "iam:UntagInstanceProfile", Write;
        UntagPolicy => "iam:UntagPolicy", Write;
        UntagRole => "iam:UntagRole", Write;
        UntagUser => "iam:UntagUser", Write;
        UpdateAccessKey => "iam:UpdateAccessKey", Write;
        UpdateAccountPasswordPolicy => "iam:UpdateAccountPasswordPolicy", Write;
        UpdateAssumeRolePolicy => "iam:UpdateAssumeRolePolicy", Write;
        UpdateGroup => "iam:UpdateGroup", Write;
        UpdateRole => "iam:UpdateRole", Write;
        UpdateRoleDescription => "iam:UpdateRoleDescription", Write;
        UpdateUser => "iam:UpdateUser", Write;
    }
}

/// IAM (query protocol).
pub(crate) struct Iam;

/// Which module handles an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Users,
    Inline,
    Roles,
    Groups,
    Managed,
    Tags,
    Mfa,
    Reports,
    Simulate,
    Profiles,
    Account,
}

impl Family {
    fn of(operation: IamOperation) -> Family {
        use IamOperation as Op;
        match operation {
            Op::CreateUser
            | Op::GetUser
            | Op::ListUsers
            | Op::DeleteUser
            | Op::CreateAccessKey
            | Op::GetAccessKeyLastUsed
            | Op::ListAccessKeys
            | Op::DeleteAccessKey
            | Op::UpdateAccessKey
            | Op::UpdateUser => Family::Users,
            Op::PutUserPolicy
            | Op::GetUserPolicy
            | Op::ListUserPolicies
            | Op::DeleteUserPolicy
            | Op::PutRolePolicy
            | Op::GetRolePolicy
            | Op::ListRolePolicies
            | Op::DeleteRolePolicy
            | Op::PutGroupPolicy
            | Op::GetGroupPolicy
            | Op::ListGroupPolicies
            | Op::DeleteGroupPolicy => Family::Inline,
            Op::CreateRole
            | Op::GetRole
            | Op::ListRoles
            | Op::DeleteRole
            | Op::UpdateAssumeRolePolicy
            | Op::UpdateRole
            | Op::UpdateRoleDescription => Family::Roles,
            Op::CreateGroup
            | Op::GetGroup
            | Op::ListGroups
            | Op::DeleteGroup
            | Op::AddUserToGroup
            | Op::RemoveUserFromGroup
            | Op::ListGroupsForUser
            | Op::UpdateGroup => Family::Groups,
            Op::CreatePolicy
            | Op::GetPolicy
            | Op::ListPolicies
            | Op::DeletePolicy
            | Op::CreatePolicyVersion
            | Op::GetPolicyVersion
            | Op::ListPolicyVersions
            | Op::SetDefaultPolicyVersion
            | Op::DeletePolicyVersion
            | Op::AttachUserPolicy
            | Op::DetachUserPolicy
            | Op::ListAttachedUserPolicies
            | Op::AttachGroupPolicy
            | Op::DetachGroupPolicy
            | Op::ListAttachedGroupPolicies
            | Op::AttachRolePolicy
            | Op::DetachRolePolicy
            | Op::ListAttachedRolePolicies
            | Op::PutUserPermissionsBoundary
            | Op::DeleteUserPermissionsBoundary
            | Op::PutRolePermissionsBoundary
            | Op::DeleteRolePermissionsBoundary
            | Op::ListEntitiesForPolicy => Family::Managed,
            Op::TagUser
            | Op::UntagUser
            | Op::ListUserTags
            | Op::TagRole
            | Op::UntagRole
            | Op::ListRoleTags
            | Op::TagPolicy
            | Op::UntagPolicy
            | Op::ListPolicyTags => Family::Tags,
            Op::CreateVirtualMFADevice
            | Op::DeleteVirtualMFADevice
            | Op::EnableMFADevice
            | Op::ResyncMFADevice
            | Op::DeactivateMFADevice
            | Op::ListMFADevices
            | Op::ListVirtualMFADevices
            | Op::GetMFADevice => Family::Mfa,
            Op::GetAccountSummary | Op::GetAccountAuthorizationDetails => Family::Reports,
            Op::SimulatePrincipalPolicy
            | Op::SimulateCustomPolicy
            | Op::GetContextKeysForCustomPolicy
            | Op::GetContextKeysForPrincipalPolicy => Family::Simulate,
            Op::CreateInstanceProfile
            | Op::GetInstanceProfile
            | Op::DeleteInstanceProfile
            | Op::ListInstanceProfiles
            | Op::AddRoleToInstanceProfile
            | Op::RemoveRoleFromInstanceProfile
            | Op::ListInstanceProfilesForRole
            | Op::TagInstanceProfile
            | Op::UntagInstanceProfile
            | Op::ListInstanceProfileTags => Family::Profiles,
            Op::CreateAccountAlias
            | Op::DeleteAccountAlias
            | Op::ListAccountAliases
            | Op::UpdateAccountPasswordPolicy
            | Op::GetAccountPasswordPolicy
            | Op::DeleteAccountPasswordPolicy => Family::Account,
        }
    }
}

/// An IAM call: the operation and its typed input.
pub(crate) struct Call {
    operation: IamOperation,
    input: Input,
}

impl Service for Iam {
    type Operation = IamOperation;
    type Call = Call;
    const EVENT_SOURCE: &'static str = "iam.amazonaws.com";
    const TENANT_ONLY: bool = false;
    const SHARES_READS: bool = true;

    fn route(req: &Request<'_>) -> Result<Call, Unrouted<IamOperation>> {
        let name = req.param("Action").unwrap_or_default();
        let operation = IamOperation::from_name(name).ok_or_else(|| {
            Unrouted::unknown(ApiError::sender(
                400,
                "InvalidAction",
                format!("The action {name} is not valid for this web service."),
            ))
        })?;
        let input = Input::parse(operation, crate::protocol::input::Source::Query(&req.params))
            .map_err(|e| Unrouted::input(operation, e))?;
        Ok(Call { operation, input })
    }

    fn operation(call: &Call) -> IamOperation {
        call.operation
    }

    /// IAM acts in the caller's own account, but a parameter may name another account's
    /// principal or policy (`PolicySourceArn`, a policy ARN to attach).
    fn named(_: &Request<'_>, call: Option<&Call>) -> Vec<Named> {
        let Some(call) = call else { return Vec::new() };
        ["PolicySourceArn", "PolicyArn", "PermissionsBoundary", "CallerArn", "ResourceOwner"]
            .iter()
            .filter_map(|member| call.input.text(member))
            .filter_map(|v| v.strip_prefix("arn:aws:iam::"))
            .filter_map(|rest| rest.split(':').next())
            .filter(|account| account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
            .map(|account| Named::Account(account.to_string()))
            .collect()
    }

    /// Parameters minus secrets and policy text.
    fn parameters(req: &Request<'_>, call: &Call) -> Option<Value> {
        let _ = &call.input;
        let mut request_parameters = serde_json::Map::new();
        for (k, v) in &req.params {
            // Not the policy texts (documents, simulation inputs) nor MFA codes.
            let omitted = ["Action", "Version", "PolicyDocument", "ResourcePolicy"]
                .contains(&k.as_str())
                || k.starts_with("AuthenticationCode")
                || k.contains("PolicyInputList");
            if !omitted {
                request_parameters.insert(lower_first(k), Value::String(v.clone()));
            }
        }
        Some(Value::Object(request_parameters))
    }

    fn authorization(
        ctx: &Ctx<'_>,
        _: &Request<'_>,
        call: &mut Call,
    ) -> Result<Authorization, ApiError> {
        let (caller, input) = (ctx.caller, &call.input);
        let (action, mut resource) = action_and_resource(caller, call.operation, input);
        if call.operation == IamOperation::GetAccessKeyLastUsed {
            // The key's owner is the resource.
            let owner = input.text("AccessKeyId").and_then(|k| {
                ctx.read(|tx| Ok(tx.get_access_key(k).ok().flatten())).ok().flatten()
            });
            if let Some(k) = owner.filter(|k| k.account == caller.account && k.owner_kind == "user")
            {
                resource = format!("arn:aws:iam::{}:user/{}", caller.account, k.owner_key);
            }
        }
        // As in AWS, GetSessionToken credentials reach IAM only with MFA.
        if caller.session.as_ref().is_some_and(|s| s.role.is_none() && s.mfa_ms.is_none()) {
            return Err(ApiError::sender(
                403,
                "AccessDenied",
                format!("User: {} is not authorized to perform: {action} on resource: {resource} because GetSessionToken credentials need MFA to call IAM", caller.arn),
            ));
        }
        let (mut context, multi) = iam_tag_context(ctx, input, &resource)?;
        // The boundary a request would set (CreateUser, CreateRole, Put*PermissionsBoundary):
        // what delegated administrators' policies condition on.
        if let Some(boundary) = input.text("PermissionsBoundary") {
            context.push(("iam:PermissionsBoundary".into(), boundary.to_string()));
        }
        let mut checks = vec![Check { context, multi, ..Check::new(action, resource) }];
        // As in AWS, putting a role in an instance profile also needs `iam:PassRole` on it.
        if let (IamOperation::AddRoleToInstanceProfile, Some(role)) =
            (call.operation, input.text("RoleName"))
        {
            let role = format!("arn:aws:iam::{}:role/{role}", caller.account);
            checks.push(Check::new("iam:PassRole", role));
        }
        Ok(Authorization::Checks(checks))
    }

    fn execute<'s>(
        ctx: &Ctx<'s>,
        _: &Request<'_>,
        call: Call,
        effect: &mut Effect<'s>,
    ) -> Result<Reply, ApiError> {
        handle(ctx, call.operation, &call.input, effect).map(Reply::xml)
    }

    fn keeps_reads(operation: IamOperation) -> bool {
        // A read is served from the snapshot it was authorized in (`handle`).
        operation.access() == Access::Read
    }
}

/// Runs one IAM action for an authorized caller; a change stays in `effect.tx`, to commit with
/// its audit event. Returns the XML body.
fn handle<'s>(
    ctx: &Ctx<'s>,
    operation: IamOperation,
    input: &Input,
    effect: &mut Effect<'s>,
) -> Result<String, ApiError> {
    let (store, root, caller) = (ctx.state.store.as_ref(), &ctx.state.root, ctx.caller);
    let action = operation.name();
    let account = caller.account.clone();
    let now = ctx.now();
    let read_only = operation.access() == Access::Read;
    // Reads run on a snapshot, without the write lock (the one authorization read in); their
    // event joins the group commit.
    let mut tx: Box<dyn Tx + '_> = if read_only {
        Box::new(store::ReadOnly(ctx.take_reads()?))
    } else {
        let mut tx = store.begin()?;
        // An account's IAM changes take turns, as on SQLite's single writer: each reads what
        // it checks (the user still exists, the policy's attachment count, a quota) and
        // writes what depends on it in one transaction, and on PostgreSQL's READ COMMITTED
        // two of them would otherwise both act on what the other is changing (an access key
        // created for a user being deleted, a lost attachment count, a boundary dropped by a
        // concurrent TagUser). The lock is held on a key no record has.
        tx.get_record_for_update(&account, IAM_LOCK.0, IAM_LOCK.1)?;
        tx
    };
    let mut secret_out: Option<String> = None;
    let result: Option<Xml> = {
        let (tx, account) = (tx.as_mut(), account.as_str());
        match Family::of(operation) {
            Family::Users => {
                let keys = (root.as_ref(), caller);
                users::handle(operation, tx, keys, account, input, now, &mut secret_out)?
            }
            Family::Inline => inline::handle(operation, tx, account, input, now)?,
            Family::Roles => roles::handle(operation, tx, account, input, now)?,
            Family::Groups => groups::handle(operation, tx, account, input, now)?,
            Family::Managed => managed::handle(operation, tx, account, input, now)?,
            Family::Tags => tags::handle(operation, tx, account, input, now)?,
            Family::Mfa => mfa::handle(operation, tx, root, account, input, now)?,
            Family::Reports => reports::handle(operation, tx, account, input)?,
            Family::Simulate => Some(simulate::handle(operation, tx, account, input)?),
            Family::Profiles => profiles::handle(operation, tx, account, input, now)?,
            Family::Account => account::handle(operation, tx, account, input, now)?,
        }
    };
    effect.response =
        secret_out.map(|id| json!({ "accessKey": { "accessKeyId": id, "status": "Active" } }));
    if !read_only {
        effect.tx = Some(tx);
    }
    Ok(wrap(action, result, &ctx.facts.request_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::input::Source;

    /// `operation`'s input from query parameters.
    fn input(operation: IamOperation, pairs: &[(&str, &str)]) -> Result<Input, ApiError> {
        let params: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect();
        Input::parse(operation, Source::Query(&params))
    }

    /// Every member the handlers read by name (`input.text`, `number`, `flag`, `list`) is one
    /// the model gives that kind: reading a boolean as text would find nothing, silently.
    #[test]
    fn members_are_read_as_their_kind() {
        use crate::protocol::model::{Api, Kind};
        let model = Api::Iam.model().unwrap();
        let kind_of = |member: &str| -> Vec<Kind> {
            model
                .operations
                .values()
                .filter_map(|op| op.input.as_ref())
                .filter_map(|input| model.shapes.get(input))
                .filter_map(|s| s.members.get(member))
                .filter_map(|m| model.shapes.get(&m.shape))
                .map(|s| s.kind)
                .collect()
        };
        let sources = [
            include_str!("mod.rs"),
            include_str!("groups.rs"),
            include_str!("inline.rs"),
            include_str!("managed.rs"),
            include_str!("mfa.rs"),
            include_str!("reports.rs"),
            include_str!("roles.rs"),
            include_str!("simulate.rs"),
            include_str!("tags.rs"),
            include_str!("users.rs"),
            include_str!("account.rs"),
            include_str!("profiles.rs"),
            include_str!("../../pipeline/authorize.rs"),
        ];
        let accessors = [
            ("input.text(\"", &[Kind::String][..]),
            ("required(input, \"", &[Kind::String][..]),
            ("input.number(\"", &[Kind::Integer, Kind::Long][..]),
            ("input.flag(\"", &[Kind::Boolean][..]),
            ("input.list(\"", &[Kind::List][..]),
        ];
        let mut checked = 0;
        for source in sources {
            for (accessor, kinds) in accessors {
                for rest in source.split(accessor).skip(1) {
                    let member = rest.split('"').next().unwrap();
                    let found = kind_of(member);
                    assert!(
                        !found.is_empty() && found.iter().all(|k| kinds.contains(k)),
                        "{member} is read with {accessor:?} but the model says {found:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "{checked}");
    }

    #[test]
    fn pages_follow_markers_to_the_end() {
        let list = |pairs: &[(&str, &str)]| input(IamOperation::ListUsers, pairs);
        let items: Vec<Xml> = (0..5)
            .map(|i| {
                xml::build(|w| {
                    w.value("member", i);
                })
            })
            .collect();
        let first =
            paged(&list(&[("MaxItems", "2")]).unwrap(), "L", items.clone()).unwrap().into_string();
        assert_eq!(
            first,
            "<L><member>0</member><member>1</member></L><IsTruncated>true</IsTruncated><Marker>hm1.2</Marker>"
        );
        let last =
            paged(&list(&[("MaxItems", "3"), ("Marker", "hm1.2")]).unwrap(), "L", items.clone())
                .unwrap()
                .into_string();
        assert_eq!(
            last,
            "<L><member>2</member><member>3</member><member>4</member></L><IsTruncated>false</IsTruncated>"
        );
        assert!(paged(&list(&[]).unwrap(), "L", items.clone())
            .unwrap()
            .as_str()
            .ends_with("<IsTruncated>false</IsTruncated>"));
        // Bounds are the model's (checked at parsing); a marker this server did not hand out is
        // the handler's.
        for bad in [("MaxItems", "0"), ("MaxItems", "1001"), ("MaxItems", "x")] {
            let e = list(&[bad]).unwrap_err();
            assert_eq!(e.code, "ValidationError", "{bad:?}");
        }
        let e = paged(&list(&[("Marker", "2")]).unwrap(), "L", items).unwrap_err();
        assert_eq!(e.code, "ValidationError");
    }

    #[test]
    fn mfa_devices_are_authorized_on_their_own_arn() {
        let caller = Caller {
            account: "111122223333".into(),
            arn: "arn:aws:iam::111122223333:user/alice".into(),
            user_id: "AIDA".into(),
            session: None,
        };
        let op = IamOperation::CreateVirtualMFADevice;
        let (action, resource) = action_and_resource(
            &caller,
            op,
            &input(op, &[("VirtualMFADeviceName", "phone")]).unwrap(),
        );
        assert_eq!(
            (action.as_str(), resource.as_str()),
            ("iam:CreateVirtualMFADevice", "arn:aws:iam::111122223333:mfa/phone")
        );
        let op = IamOperation::GetAccountSummary;
        let (_, resource) = action_and_resource(&caller, op, &input(op, &[]).unwrap());
        assert_eq!(resource, "*");
        let op = IamOperation::SimulatePrincipalPolicy;
        let (_, resource) = action_and_resource(
            &caller,
            op,
            &input(
                op,
                &[
                    ("PolicySourceArn", "arn:aws:iam::111122223333:user/bob"),
                    ("ActionNames.member.1", "s3:GetObject"),
                ],
            )
            .unwrap(),
        );
        assert_eq!(resource, "arn:aws:iam::111122223333:user/bob");
    }
}
