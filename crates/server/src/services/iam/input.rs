//! IAM's typed inputs: one struct per input shape of botocore's model
//! (`crates/server/models/iam.json`), parsed once at routing (`protocol::input`).
//!
//! Written by `scripts/gen-inputs.py iam` from the model: edit the script, not this file.
#![allow(dead_code, clippy::struct_field_names)]

use super::IamOperation as Op;
use crate::error::ApiError;
use crate::protocol::input::{parse, Rules, Source};
use crate::protocol::model::Api;
use serde::Deserialize;
#[allow(unused_imports)]
use std::collections::BTreeMap;

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct AddUserToGroupRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
    #[serde(rename = "UserName")]
    pub user_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct AttachGroupPolicyRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct AttachRolePolicyRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct AttachUserPolicyRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct CreateAccessKeyRequest {
    #[serde(rename = "UserName")]
    pub user_name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct CreateGroupRequest {
    #[serde(rename = "Path")]
    pub path: Option<String>,
    #[serde(rename = "GroupName")]
    pub group_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct CreatePolicyRequest {
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
    #[serde(rename = "Path")]
    pub path: Option<String>,
    #[serde(rename = "PolicyDocument")]
    pub policy_document: String,
    #[serde(rename = "Description")]
    pub description: Option<String>,
    #[serde(rename = "Tags", default)]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct CreatePolicyVersionRequest {
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
    #[serde(rename = "PolicyDocument")]
    pub policy_document: String,
    #[serde(rename = "SetAsDefault")]
    pub set_as_default: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct CreateRoleRequest {
    #[serde(rename = "Path")]
    pub path: Option<String>,
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "AssumeRolePolicyDocument")]
    pub assume_role_policy_document: String,
    #[serde(rename = "Description")]
    pub description: Option<String>,
    #[serde(rename = "MaxSessionDuration")]
    pub max_session_duration: Option<i64>,
    #[serde(rename = "MaxSigninSessionDuration")]
    pub max_signin_session_duration: Option<i64>,
    #[serde(rename = "PermissionsBoundary")]
    pub permissions_boundary: Option<String>,
    #[serde(rename = "Tags", default)]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct CreateUserRequest {
    #[serde(rename = "Path")]
    pub path: Option<String>,
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "PermissionsBoundary")]
    pub permissions_boundary: Option<String>,
    #[serde(rename = "Tags", default)]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct CreateVirtualMFADeviceRequest {
    #[serde(rename = "Path")]
    pub path: Option<String>,
    #[serde(rename = "VirtualMFADeviceName")]
    pub virtual_mfa_device_name: String,
    #[serde(rename = "Tags", default)]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeactivateMFADeviceRequest {
    #[serde(rename = "UserName")]
    pub user_name: Option<String>,
    #[serde(rename = "SerialNumber")]
    pub serial_number: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteAccessKeyRequest {
    #[serde(rename = "UserName")]
    pub user_name: Option<String>,
    #[serde(rename = "AccessKeyId")]
    pub access_key_id: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteGroupRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteGroupPolicyRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeletePolicyRequest {
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeletePolicyVersionRequest {
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
    #[serde(rename = "VersionId")]
    pub version_id: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteRoleRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteRolePermissionsBoundaryRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteRolePolicyRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteUserRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteUserPermissionsBoundaryRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteUserPolicyRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteVirtualMFADeviceRequest {
    #[serde(rename = "SerialNumber")]
    pub serial_number: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DetachGroupPolicyRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DetachRolePolicyRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DetachUserPolicyRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct EnableMFADeviceRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "SerialNumber")]
    pub serial_number: String,
    #[serde(rename = "AuthenticationCode1")]
    pub authentication_code1: String,
    #[serde(rename = "AuthenticationCode2")]
    pub authentication_code2: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetAccessKeyLastUsedRequest {
    #[serde(rename = "AccessKeyId")]
    pub access_key_id: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetAccountAuthorizationDetailsRequest {
    #[serde(rename = "Filter", default)]
    pub filter: Vec<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetGroupRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetGroupPolicyRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetPolicyRequest {
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetPolicyVersionRequest {
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
    #[serde(rename = "VersionId")]
    pub version_id: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetRoleRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetRolePolicyRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetUserRequest {
    #[serde(rename = "UserName")]
    pub user_name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetUserPolicyRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListAccessKeysRequest {
    #[serde(rename = "UserName")]
    pub user_name: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListAttachedGroupPoliciesRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
    #[serde(rename = "PathPrefix")]
    pub path_prefix: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListAttachedRolePoliciesRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "PathPrefix")]
    pub path_prefix: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListAttachedUserPoliciesRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "PathPrefix")]
    pub path_prefix: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListGroupPoliciesRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListGroupsRequest {
    #[serde(rename = "PathPrefix")]
    pub path_prefix: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListGroupsForUserRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListMFADevicesRequest {
    #[serde(rename = "UserName")]
    pub user_name: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListPoliciesRequest {
    #[serde(rename = "Scope")]
    pub scope: Option<String>,
    #[serde(rename = "OnlyAttached")]
    pub only_attached: Option<bool>,
    #[serde(rename = "PathPrefix")]
    pub path_prefix: Option<String>,
    #[serde(rename = "PolicyUsageFilter")]
    pub policy_usage_filter: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListPolicyVersionsRequest {
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListRolePoliciesRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListRoleTagsRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListRolesRequest {
    #[serde(rename = "PathPrefix")]
    pub path_prefix: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListUserPoliciesRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListUserTagsRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListUsersRequest {
    #[serde(rename = "PathPrefix")]
    pub path_prefix: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListVirtualMFADevicesRequest {
    #[serde(rename = "AssignmentStatus")]
    pub assignment_status: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PutGroupPolicyRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
    #[serde(rename = "PolicyDocument")]
    pub policy_document: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PutRolePermissionsBoundaryRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "PermissionsBoundary")]
    pub permissions_boundary: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PutRolePolicyRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
    #[serde(rename = "PolicyDocument")]
    pub policy_document: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PutUserPermissionsBoundaryRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "PermissionsBoundary")]
    pub permissions_boundary: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PutUserPolicyRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
    #[serde(rename = "PolicyDocument")]
    pub policy_document: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct RemoveUserFromGroupRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
    #[serde(rename = "UserName")]
    pub user_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ResyncMFADeviceRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "SerialNumber")]
    pub serial_number: String,
    #[serde(rename = "AuthenticationCode1")]
    pub authentication_code1: String,
    #[serde(rename = "AuthenticationCode2")]
    pub authentication_code2: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct SetDefaultPolicyVersionRequest {
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
    #[serde(rename = "VersionId")]
    pub version_id: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct SimulateCustomPolicyRequest {
    #[serde(rename = "PolicyInputList")]
    pub policy_input_list: Vec<String>,
    #[serde(rename = "PermissionsBoundaryPolicyInputList", default)]
    pub permissions_boundary_policy_input_list: Vec<String>,
    #[serde(rename = "OrderedOrganizationPolicyInputList", default)]
    pub ordered_organization_policy_input_list: Vec<OrderedOrganizationPolicyType>,
    #[serde(rename = "ActionNames")]
    pub action_names: Vec<String>,
    #[serde(rename = "ResourceArns", default)]
    pub resource_arns: Vec<String>,
    #[serde(rename = "ResourcePolicy")]
    pub resource_policy: Option<String>,
    #[serde(rename = "ResourceOwner")]
    pub resource_owner: Option<String>,
    #[serde(rename = "CallerArn")]
    pub caller_arn: Option<String>,
    #[serde(rename = "ContextEntries", default)]
    pub context_entries: Vec<ContextEntry>,
    #[serde(rename = "ResourceHandlingOption")]
    pub resource_handling_option: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct SimulatePrincipalPolicyRequest {
    #[serde(rename = "PolicySourceArn")]
    pub policy_source_arn: String,
    #[serde(rename = "PolicyInputList", default)]
    pub policy_input_list: Vec<String>,
    #[serde(rename = "PermissionsBoundaryPolicyInputList", default)]
    pub permissions_boundary_policy_input_list: Vec<String>,
    #[serde(rename = "PolicyExclusionList", default)]
    pub policy_exclusion_list: Vec<PolicyIdentifier>,
    #[serde(rename = "ActionNames")]
    pub action_names: Vec<String>,
    #[serde(rename = "ResourceArns", default)]
    pub resource_arns: Vec<String>,
    #[serde(rename = "ResourcePolicy")]
    pub resource_policy: Option<String>,
    #[serde(rename = "ResourceOwner")]
    pub resource_owner: Option<String>,
    #[serde(rename = "CallerArn")]
    pub caller_arn: Option<String>,
    #[serde(rename = "ContextEntries", default)]
    pub context_entries: Vec<ContextEntry>,
    #[serde(rename = "ResourceHandlingOption")]
    pub resource_handling_option: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct TagRoleRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "Tags")]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct TagUserRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "Tags")]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct UntagRoleRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "TagKeys")]
    pub tag_keys: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct UntagUserRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "TagKeys")]
    pub tag_keys: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct UpdateAccessKeyRequest {
    #[serde(rename = "UserName")]
    pub user_name: Option<String>,
    #[serde(rename = "AccessKeyId")]
    pub access_key_id: String,
    #[serde(rename = "Status")]
    pub status: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct UpdateAssumeRolePolicyRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "PolicyDocument")]
    pub policy_document: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct UpdateRoleRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "Description")]
    pub description: Option<String>,
    #[serde(rename = "MaxSessionDuration")]
    pub max_session_duration: Option<i64>,
    #[serde(rename = "MaxSigninSessionDuration")]
    pub max_signin_session_duration: Option<i64>,
    #[serde(rename = "ResetMaxSigninSessionDuration")]
    pub reset_max_signin_session_duration: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct UpdateRoleDescriptionRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "Description")]
    pub description: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct CreateInstanceProfileRequest {
    #[serde(rename = "InstanceProfileName")]
    pub instance_profile_name: String,
    #[serde(rename = "Path")]
    pub path: Option<String>,
    #[serde(rename = "Tags", default)]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetInstanceProfileRequest {
    #[serde(rename = "InstanceProfileName")]
    pub instance_profile_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteInstanceProfileRequest {
    #[serde(rename = "InstanceProfileName")]
    pub instance_profile_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListInstanceProfilesRequest {
    #[serde(rename = "PathPrefix")]
    pub path_prefix: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct AddRoleToInstanceProfileRequest {
    #[serde(rename = "InstanceProfileName")]
    pub instance_profile_name: String,
    #[serde(rename = "RoleName")]
    pub role_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct RemoveRoleFromInstanceProfileRequest {
    #[serde(rename = "InstanceProfileName")]
    pub instance_profile_name: String,
    #[serde(rename = "RoleName")]
    pub role_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListInstanceProfilesForRoleRequest {
    #[serde(rename = "RoleName")]
    pub role_name: String,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct TagInstanceProfileRequest {
    #[serde(rename = "InstanceProfileName")]
    pub instance_profile_name: String,
    #[serde(rename = "Tags")]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct UntagInstanceProfileRequest {
    #[serde(rename = "InstanceProfileName")]
    pub instance_profile_name: String,
    #[serde(rename = "TagKeys")]
    pub tag_keys: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListInstanceProfileTagsRequest {
    #[serde(rename = "InstanceProfileName")]
    pub instance_profile_name: String,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct UpdateUserRequest {
    #[serde(rename = "UserName")]
    pub user_name: String,
    #[serde(rename = "NewPath")]
    pub new_path: Option<String>,
    #[serde(rename = "NewUserName")]
    pub new_user_name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct UpdateGroupRequest {
    #[serde(rename = "GroupName")]
    pub group_name: String,
    #[serde(rename = "NewPath")]
    pub new_path: Option<String>,
    #[serde(rename = "NewGroupName")]
    pub new_group_name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct TagPolicyRequest {
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
    #[serde(rename = "Tags")]
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct UntagPolicyRequest {
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
    #[serde(rename = "TagKeys")]
    pub tag_keys: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListPolicyTagsRequest {
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListEntitiesForPolicyRequest {
    #[serde(rename = "PolicyArn")]
    pub policy_arn: String,
    #[serde(rename = "EntityFilter")]
    pub entity_filter: Option<String>,
    #[serde(rename = "PathPrefix")]
    pub path_prefix: Option<String>,
    #[serde(rename = "PolicyUsageFilter")]
    pub policy_usage_filter: Option<String>,
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct CreateAccountAliasRequest {
    #[serde(rename = "AccountAlias")]
    pub account_alias: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct DeleteAccountAliasRequest {
    #[serde(rename = "AccountAlias")]
    pub account_alias: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ListAccountAliasesRequest {
    #[serde(rename = "Marker")]
    pub marker: Option<String>,
    #[serde(rename = "MaxItems")]
    pub max_items: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct UpdateAccountPasswordPolicyRequest {
    #[serde(rename = "MinimumPasswordLength")]
    pub minimum_password_length: Option<i64>,
    #[serde(rename = "RequireSymbols")]
    pub require_symbols: Option<bool>,
    #[serde(rename = "RequireNumbers")]
    pub require_numbers: Option<bool>,
    #[serde(rename = "RequireUppercaseCharacters")]
    pub require_uppercase_characters: Option<bool>,
    #[serde(rename = "RequireLowercaseCharacters")]
    pub require_lowercase_characters: Option<bool>,
    #[serde(rename = "AllowUsersToChangePassword")]
    pub allow_users_to_change_password: Option<bool>,
    #[serde(rename = "MaxPasswordAge")]
    pub max_password_age: Option<i64>,
    #[serde(rename = "PasswordReusePrevention")]
    pub password_reuse_prevention: Option<i64>,
    #[serde(rename = "HardExpiry")]
    pub hard_expiry: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetContextKeysForCustomPolicyRequest {
    #[serde(rename = "PolicyInputList")]
    pub policy_input_list: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetContextKeysForPrincipalPolicyRequest {
    #[serde(rename = "PolicySourceArn")]
    pub policy_source_arn: String,
    #[serde(rename = "PolicyInputList", default)]
    pub policy_input_list: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct GetMFADeviceRequest {
    #[serde(rename = "SerialNumber")]
    pub serial_number: String,
    #[serde(rename = "UserName")]
    pub user_name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Tag {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct OrderedOrganizationPolicyType {
    #[serde(rename = "ServiceControlPolicyInputList", default)]
    pub service_control_policy_input_list: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ContextEntry {
    #[serde(rename = "ContextKeyName")]
    pub context_key_name: Option<String>,
    #[serde(rename = "ContextKeyValues", default)]
    pub context_key_values: Vec<String>,
    #[serde(rename = "ContextKeyType")]
    pub context_key_type: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PolicyIdentifier {
    #[serde(rename = "PolicyType")]
    pub policy_type: Option<String>,
    #[serde(rename = "PolicyArn")]
    pub policy_arn: Option<String>,
    #[serde(rename = "InlinePolicyIdentifier")]
    pub inline_policy_identifier: Option<InlinePolicyIdentifierType>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct InlinePolicyIdentifierType {
    #[serde(rename = "PolicyName")]
    pub policy_name: String,
    #[serde(rename = "AttachmentType")]
    pub attachment_type: String,
    #[serde(rename = "AttachmentName")]
    pub attachment_name: String,
}

/// One operation's input.
#[derive(Clone, Debug)]
pub(crate) enum Input {
    AddUserToGroup(AddUserToGroupRequest),
    AttachGroupPolicy(AttachGroupPolicyRequest),
    AttachRolePolicy(AttachRolePolicyRequest),
    AttachUserPolicy(AttachUserPolicyRequest),
    CreateAccessKey(CreateAccessKeyRequest),
    CreateGroup(CreateGroupRequest),
    CreatePolicy(CreatePolicyRequest),
    CreatePolicyVersion(CreatePolicyVersionRequest),
    CreateRole(CreateRoleRequest),
    CreateUser(CreateUserRequest),
    CreateVirtualMFADevice(CreateVirtualMFADeviceRequest),
    DeactivateMFADevice(DeactivateMFADeviceRequest),
    DeleteAccessKey(DeleteAccessKeyRequest),
    DeleteGroup(DeleteGroupRequest),
    DeleteGroupPolicy(DeleteGroupPolicyRequest),
    DeletePolicy(DeletePolicyRequest),
    DeletePolicyVersion(DeletePolicyVersionRequest),
    DeleteRole(DeleteRoleRequest),
    DeleteRolePermissionsBoundary(DeleteRolePermissionsBoundaryRequest),
    DeleteRolePolicy(DeleteRolePolicyRequest),
    DeleteUser(DeleteUserRequest),
    DeleteUserPermissionsBoundary(DeleteUserPermissionsBoundaryRequest),
    DeleteUserPolicy(DeleteUserPolicyRequest),
    DeleteVirtualMFADevice(DeleteVirtualMFADeviceRequest),
    DetachGroupPolicy(DetachGroupPolicyRequest),
    DetachRolePolicy(DetachRolePolicyRequest),
    DetachUserPolicy(DetachUserPolicyRequest),
    EnableMFADevice(EnableMFADeviceRequest),
    GetAccessKeyLastUsed(GetAccessKeyLastUsedRequest),
    GetAccountAuthorizationDetails(GetAccountAuthorizationDetailsRequest),
    GetAccountSummary,
    GetGroup(GetGroupRequest),
    GetGroupPolicy(GetGroupPolicyRequest),
    GetPolicy(GetPolicyRequest),
    GetPolicyVersion(GetPolicyVersionRequest),
    GetRole(GetRoleRequest),
    GetRolePolicy(GetRolePolicyRequest),
    GetUser(GetUserRequest),
    GetUserPolicy(GetUserPolicyRequest),
    ListAccessKeys(ListAccessKeysRequest),
    ListAttachedGroupPolicies(ListAttachedGroupPoliciesRequest),
    ListAttachedRolePolicies(ListAttachedRolePoliciesRequest),
    ListAttachedUserPolicies(ListAttachedUserPoliciesRequest),
    ListGroupPolicies(ListGroupPoliciesRequest),
    ListGroups(ListGroupsRequest),
    ListGroupsForUser(ListGroupsForUserRequest),
    ListMFADevices(ListMFADevicesRequest),
    ListPolicies(ListPoliciesRequest),
    ListPolicyVersions(ListPolicyVersionsRequest),
    ListRolePolicies(ListRolePoliciesRequest),
    ListRoleTags(ListRoleTagsRequest),
    ListRoles(ListRolesRequest),
    ListUserPolicies(ListUserPoliciesRequest),
    ListUserTags(ListUserTagsRequest),
    ListUsers(ListUsersRequest),
    ListVirtualMFADevices(ListVirtualMFADevicesRequest),
    PutGroupPolicy(PutGroupPolicyRequest),
    PutRolePermissionsBoundary(PutRolePermissionsBoundaryRequest),
    PutRolePolicy(PutRolePolicyRequest),
    PutUserPermissionsBoundary(PutUserPermissionsBoundaryRequest),
    PutUserPolicy(PutUserPolicyRequest),
    RemoveUserFromGroup(RemoveUserFromGroupRequest),
    ResyncMFADevice(ResyncMFADeviceRequest),
    SetDefaultPolicyVersion(SetDefaultPolicyVersionRequest),
    SimulateCustomPolicy(SimulateCustomPolicyRequest),
    SimulatePrincipalPolicy(SimulatePrincipalPolicyRequest),
    TagRole(TagRoleRequest),
    TagUser(TagUserRequest),
    UntagRole(UntagRoleRequest),
    UntagUser(UntagUserRequest),
    UpdateAccessKey(UpdateAccessKeyRequest),
    UpdateAssumeRolePolicy(UpdateAssumeRolePolicyRequest),
    UpdateRole(UpdateRoleRequest),
    UpdateRoleDescription(UpdateRoleDescriptionRequest),
    CreateInstanceProfile(CreateInstanceProfileRequest),
    GetInstanceProfile(GetInstanceProfileRequest),
    DeleteInstanceProfile(DeleteInstanceProfileRequest),
    ListInstanceProfiles(ListInstanceProfilesRequest),
    AddRoleToInstanceProfile(AddRoleToInstanceProfileRequest),
    RemoveRoleFromInstanceProfile(RemoveRoleFromInstanceProfileRequest),
    ListInstanceProfilesForRole(ListInstanceProfilesForRoleRequest),
    TagInstanceProfile(TagInstanceProfileRequest),
    UntagInstanceProfile(UntagInstanceProfileRequest),
    ListInstanceProfileTags(ListInstanceProfileTagsRequest),
    UpdateUser(UpdateUserRequest),
    UpdateGroup(UpdateGroupRequest),
    TagPolicy(TagPolicyRequest),
    UntagPolicy(UntagPolicyRequest),
    ListPolicyTags(ListPolicyTagsRequest),
    ListEntitiesForPolicy(ListEntitiesForPolicyRequest),
    CreateAccountAlias(CreateAccountAliasRequest),
    DeleteAccountAlias(DeleteAccountAliasRequest),
    ListAccountAliases(ListAccountAliasesRequest),
    UpdateAccountPasswordPolicy(UpdateAccountPasswordPolicyRequest),
    GetAccountPasswordPolicy,
    DeleteAccountPasswordPolicy,
    GetContextKeysForCustomPolicy(GetContextKeysForCustomPolicyRequest),
    GetContextKeysForPrincipalPolicy(GetContextKeysForPrincipalPolicyRequest),
    GetMFADevice(GetMFADeviceRequest),
}

impl Input {
    /// Parses `operation`'s input from the request's parameters.
    pub(crate) fn parse(operation: Op, source: Source<'_>) -> Result<Input, ApiError> {
        Ok(match operation {
            Op::AddUserToGroup => {
                Input::AddUserToGroup(parse(Api::Iam, "AddUserToGroup", source, Rules::All)?)
            }
            Op::AttachGroupPolicy => {
                Input::AttachGroupPolicy(parse(Api::Iam, "AttachGroupPolicy", source, Rules::All)?)
            }
            Op::AttachRolePolicy => {
                Input::AttachRolePolicy(parse(Api::Iam, "AttachRolePolicy", source, Rules::All)?)
            }
            Op::AttachUserPolicy => {
                Input::AttachUserPolicy(parse(Api::Iam, "AttachUserPolicy", source, Rules::All)?)
            }
            Op::CreateAccessKey => {
                Input::CreateAccessKey(parse(Api::Iam, "CreateAccessKey", source, Rules::All)?)
            }
            Op::CreateGroup => {
                Input::CreateGroup(parse(Api::Iam, "CreateGroup", source, Rules::All)?)
            }
            Op::CreatePolicy => {
                Input::CreatePolicy(parse(Api::Iam, "CreatePolicy", source, Rules::All)?)
            }
            Op::CreatePolicyVersion => Input::CreatePolicyVersion(parse(
                Api::Iam,
                "CreatePolicyVersion",
                source,
                Rules::All,
            )?),
            Op::CreateRole => Input::CreateRole(parse(Api::Iam, "CreateRole", source, Rules::All)?),
            Op::CreateUser => Input::CreateUser(parse(Api::Iam, "CreateUser", source, Rules::All)?),
            Op::CreateVirtualMFADevice => Input::CreateVirtualMFADevice(parse(
                Api::Iam,
                "CreateVirtualMFADevice",
                source,
                Rules::All,
            )?),
            Op::DeactivateMFADevice => Input::DeactivateMFADevice(parse(
                Api::Iam,
                "DeactivateMFADevice",
                source,
                Rules::All,
            )?),
            Op::DeleteAccessKey => {
                Input::DeleteAccessKey(parse(Api::Iam, "DeleteAccessKey", source, Rules::All)?)
            }
            Op::DeleteGroup => {
                Input::DeleteGroup(parse(Api::Iam, "DeleteGroup", source, Rules::All)?)
            }
            Op::DeleteGroupPolicy => {
                Input::DeleteGroupPolicy(parse(Api::Iam, "DeleteGroupPolicy", source, Rules::All)?)
            }
            Op::DeletePolicy => {
                Input::DeletePolicy(parse(Api::Iam, "DeletePolicy", source, Rules::All)?)
            }
            Op::DeletePolicyVersion => Input::DeletePolicyVersion(parse(
                Api::Iam,
                "DeletePolicyVersion",
                source,
                Rules::All,
            )?),
            Op::DeleteRole => Input::DeleteRole(parse(Api::Iam, "DeleteRole", source, Rules::All)?),
            Op::DeleteRolePermissionsBoundary => Input::DeleteRolePermissionsBoundary(parse(
                Api::Iam,
                "DeleteRolePermissionsBoundary",
                source,
                Rules::All,
            )?),
            Op::DeleteRolePolicy => {
                Input::DeleteRolePolicy(parse(Api::Iam, "DeleteRolePolicy", source, Rules::All)?)
            }
            Op::DeleteUser => Input::DeleteUser(parse(Api::Iam, "DeleteUser", source, Rules::All)?),
            Op::DeleteUserPermissionsBoundary => Input::DeleteUserPermissionsBoundary(parse(
                Api::Iam,
                "DeleteUserPermissionsBoundary",
                source,
                Rules::All,
            )?),
            Op::DeleteUserPolicy => {
                Input::DeleteUserPolicy(parse(Api::Iam, "DeleteUserPolicy", source, Rules::All)?)
            }
            Op::DeleteVirtualMFADevice => Input::DeleteVirtualMFADevice(parse(
                Api::Iam,
                "DeleteVirtualMFADevice",
                source,
                Rules::All,
            )?),
            Op::DetachGroupPolicy => {
                Input::DetachGroupPolicy(parse(Api::Iam, "DetachGroupPolicy", source, Rules::All)?)
            }
            Op::DetachRolePolicy => {
                Input::DetachRolePolicy(parse(Api::Iam, "DetachRolePolicy", source, Rules::All)?)
            }
            Op::DetachUserPolicy => {
                Input::DetachUserPolicy(parse(Api::Iam, "DetachUserPolicy", source, Rules::All)?)
            }
            Op::EnableMFADevice => {
                Input::EnableMFADevice(parse(Api::Iam, "EnableMFADevice", source, Rules::All)?)
            }
            Op::GetAccessKeyLastUsed => Input::GetAccessKeyLastUsed(parse(
                Api::Iam,
                "GetAccessKeyLastUsed",
                source,
                Rules::All,
            )?),
            Op::GetAccountAuthorizationDetails => Input::GetAccountAuthorizationDetails(parse(
                Api::Iam,
                "GetAccountAuthorizationDetails",
                source,
                Rules::All,
            )?),
            Op::GetAccountSummary => Input::GetAccountSummary,
            Op::GetGroup => Input::GetGroup(parse(Api::Iam, "GetGroup", source, Rules::All)?),
            Op::GetGroupPolicy => {
                Input::GetGroupPolicy(parse(Api::Iam, "GetGroupPolicy", source, Rules::All)?)
            }
            Op::GetPolicy => Input::GetPolicy(parse(Api::Iam, "GetPolicy", source, Rules::All)?),
            Op::GetPolicyVersion => {
                Input::GetPolicyVersion(parse(Api::Iam, "GetPolicyVersion", source, Rules::All)?)
            }
            Op::GetRole => Input::GetRole(parse(Api::Iam, "GetRole", source, Rules::All)?),
            Op::GetRolePolicy => {
                Input::GetRolePolicy(parse(Api::Iam, "GetRolePolicy", source, Rules::All)?)
            }
            Op::GetUser => Input::GetUser(parse(Api::Iam, "GetUser", source, Rules::All)?),
            Op::GetUserPolicy => {
                Input::GetUserPolicy(parse(Api::Iam, "GetUserPolicy", source, Rules::All)?)
            }
            Op::ListAccessKeys => {
                Input::ListAccessKeys(parse(Api::Iam, "ListAccessKeys", source, Rules::All)?)
            }
            Op::ListAttachedGroupPolicies => Input::ListAttachedGroupPolicies(parse(
                Api::Iam,
                "ListAttachedGroupPolicies",
                source,
                Rules::All,
            )?),
            Op::ListAttachedRolePolicies => Input::ListAttachedRolePolicies(parse(
                Api::Iam,
                "ListAttachedRolePolicies",
                source,
                Rules::All,
            )?),
            Op::ListAttachedUserPolicies => Input::ListAttachedUserPolicies(parse(
                Api::Iam,
                "ListAttachedUserPolicies",
                source,
                Rules::All,
            )?),
            Op::ListGroupPolicies => {
                Input::ListGroupPolicies(parse(Api::Iam, "ListGroupPolicies", source, Rules::All)?)
            }
            Op::ListGroups => Input::ListGroups(parse(Api::Iam, "ListGroups", source, Rules::All)?),
            Op::ListGroupsForUser => {
                Input::ListGroupsForUser(parse(Api::Iam, "ListGroupsForUser", source, Rules::All)?)
            }
            Op::ListMFADevices => {
                Input::ListMFADevices(parse(Api::Iam, "ListMFADevices", source, Rules::All)?)
            }
            Op::ListPolicies => {
                Input::ListPolicies(parse(Api::Iam, "ListPolicies", source, Rules::All)?)
            }
            Op::ListPolicyVersions => Input::ListPolicyVersions(parse(
                Api::Iam,
                "ListPolicyVersions",
                source,
                Rules::All,
            )?),
            Op::ListRolePolicies => {
                Input::ListRolePolicies(parse(Api::Iam, "ListRolePolicies", source, Rules::All)?)
            }
            Op::ListRoleTags => {
                Input::ListRoleTags(parse(Api::Iam, "ListRoleTags", source, Rules::All)?)
            }
            Op::ListRoles => Input::ListRoles(parse(Api::Iam, "ListRoles", source, Rules::All)?),
            Op::ListUserPolicies => {
                Input::ListUserPolicies(parse(Api::Iam, "ListUserPolicies", source, Rules::All)?)
            }
            Op::ListUserTags => {
                Input::ListUserTags(parse(Api::Iam, "ListUserTags", source, Rules::All)?)
            }
            Op::ListUsers => Input::ListUsers(parse(Api::Iam, "ListUsers", source, Rules::All)?),
            Op::ListVirtualMFADevices => Input::ListVirtualMFADevices(parse(
                Api::Iam,
                "ListVirtualMFADevices",
                source,
                Rules::All,
            )?),
            Op::PutGroupPolicy => {
                Input::PutGroupPolicy(parse(Api::Iam, "PutGroupPolicy", source, Rules::All)?)
            }
            Op::PutRolePermissionsBoundary => Input::PutRolePermissionsBoundary(parse(
                Api::Iam,
                "PutRolePermissionsBoundary",
                source,
                Rules::All,
            )?),
            Op::PutRolePolicy => {
                Input::PutRolePolicy(parse(Api::Iam, "PutRolePolicy", source, Rules::All)?)
            }
            Op::PutUserPermissionsBoundary => Input::PutUserPermissionsBoundary(parse(
                Api::Iam,
                "PutUserPermissionsBoundary",
                source,
                Rules::All,
            )?),
            Op::PutUserPolicy => {
                Input::PutUserPolicy(parse(Api::Iam, "PutUserPolicy", source, Rules::All)?)
            }
            Op::RemoveUserFromGroup => Input::RemoveUserFromGroup(parse(
                Api::Iam,
                "RemoveUserFromGroup",
                source,
                Rules::All,
            )?),
            Op::ResyncMFADevice => {
                Input::ResyncMFADevice(parse(Api::Iam, "ResyncMFADevice", source, Rules::All)?)
            }
            Op::SetDefaultPolicyVersion => Input::SetDefaultPolicyVersion(parse(
                Api::Iam,
                "SetDefaultPolicyVersion",
                source,
                Rules::All,
            )?),
            Op::SimulateCustomPolicy => Input::SimulateCustomPolicy(parse(
                Api::Iam,
                "SimulateCustomPolicy",
                source,
                Rules::All,
            )?),
            Op::SimulatePrincipalPolicy => Input::SimulatePrincipalPolicy(parse(
                Api::Iam,
                "SimulatePrincipalPolicy",
                source,
                Rules::All,
            )?),
            Op::TagRole => Input::TagRole(parse(Api::Iam, "TagRole", source, Rules::All)?),
            Op::TagUser => Input::TagUser(parse(Api::Iam, "TagUser", source, Rules::All)?),
            Op::UntagRole => Input::UntagRole(parse(Api::Iam, "UntagRole", source, Rules::All)?),
            Op::UntagUser => Input::UntagUser(parse(Api::Iam, "UntagUser", source, Rules::All)?),
            Op::UpdateAccessKey => {
                Input::UpdateAccessKey(parse(Api::Iam, "UpdateAccessKey", source, Rules::All)?)
            }
            Op::UpdateAssumeRolePolicy => Input::UpdateAssumeRolePolicy(parse(
                Api::Iam,
                "UpdateAssumeRolePolicy",
                source,
                Rules::All,
            )?),
            Op::UpdateRole => Input::UpdateRole(parse(Api::Iam, "UpdateRole", source, Rules::All)?),
            Op::UpdateRoleDescription => Input::UpdateRoleDescription(parse(
                Api::Iam,
                "UpdateRoleDescription",
                source,
                Rules::All,
            )?),
            Op::CreateInstanceProfile => Input::CreateInstanceProfile(parse(
                Api::Iam,
                "CreateInstanceProfile",
                source,
                Rules::All,
            )?),
            Op::GetInstanceProfile => Input::GetInstanceProfile(parse(
                Api::Iam,
                "GetInstanceProfile",
                source,
                Rules::All,
            )?),
            Op::DeleteInstanceProfile => Input::DeleteInstanceProfile(parse(
                Api::Iam,
                "DeleteInstanceProfile",
                source,
                Rules::All,
            )?),
            Op::ListInstanceProfiles => Input::ListInstanceProfiles(parse(
                Api::Iam,
                "ListInstanceProfiles",
                source,
                Rules::All,
            )?),
            Op::AddRoleToInstanceProfile => Input::AddRoleToInstanceProfile(parse(
                Api::Iam,
                "AddRoleToInstanceProfile",
                source,
                Rules::All,
            )?),
            Op::RemoveRoleFromInstanceProfile => Input::RemoveRoleFromInstanceProfile(parse(
                Api::Iam,
                "RemoveRoleFromInstanceProfile",
                source,
                Rules::All,
            )?),
            Op::ListInstanceProfilesForRole => Input::ListInstanceProfilesForRole(parse(
                Api::Iam,
                "ListInstanceProfilesForRole",
                source,
                Rules::All,
            )?),
            Op::TagInstanceProfile => Input::TagInstanceProfile(parse(
                Api::Iam,
                "TagInstanceProfile",
                source,
                Rules::All,
            )?),
            Op::UntagInstanceProfile => Input::UntagInstanceProfile(parse(
                Api::Iam,
                "UntagInstanceProfile",
                source,
                Rules::All,
            )?),
            Op::ListInstanceProfileTags => Input::ListInstanceProfileTags(parse(
                Api::Iam,
                "ListInstanceProfileTags",
                source,
                Rules::All,
            )?),
            Op::UpdateUser => Input::UpdateUser(parse(Api::Iam, "UpdateUser", source, Rules::All)?),
            Op::UpdateGroup => {
                Input::UpdateGroup(parse(Api::Iam, "UpdateGroup", source, Rules::All)?)
            }
            Op::TagPolicy => Input::TagPolicy(parse(Api::Iam, "TagPolicy", source, Rules::All)?),
            Op::UntagPolicy => {
                Input::UntagPolicy(parse(Api::Iam, "UntagPolicy", source, Rules::All)?)
            }
            Op::ListPolicyTags => {
                Input::ListPolicyTags(parse(Api::Iam, "ListPolicyTags", source, Rules::All)?)
            }
            Op::ListEntitiesForPolicy => Input::ListEntitiesForPolicy(parse(
                Api::Iam,
                "ListEntitiesForPolicy",
                source,
                Rules::All,
            )?),
            Op::CreateAccountAlias => Input::CreateAccountAlias(parse(
                Api::Iam,
                "CreateAccountAlias",
                source,
                Rules::All,
            )?),
            Op::DeleteAccountAlias => Input::DeleteAccountAlias(parse(
                Api::Iam,
                "DeleteAccountAlias",
                source,
                Rules::All,
            )?),
            Op::ListAccountAliases => Input::ListAccountAliases(parse(
                Api::Iam,
                "ListAccountAliases",
                source,
                Rules::All,
            )?),
            Op::UpdateAccountPasswordPolicy => Input::UpdateAccountPasswordPolicy(parse(
                Api::Iam,
                "UpdateAccountPasswordPolicy",
                source,
                Rules::All,
            )?),
            Op::GetAccountPasswordPolicy => Input::GetAccountPasswordPolicy,
            Op::DeleteAccountPasswordPolicy => Input::DeleteAccountPasswordPolicy,
            Op::GetContextKeysForCustomPolicy => Input::GetContextKeysForCustomPolicy(parse(
                Api::Iam,
                "GetContextKeysForCustomPolicy",
                source,
                Rules::All,
            )?),
            Op::GetContextKeysForPrincipalPolicy => Input::GetContextKeysForPrincipalPolicy(parse(
                Api::Iam,
                "GetContextKeysForPrincipalPolicy",
                source,
                Rules::All,
            )?),
            Op::GetMFADevice => {
                Input::GetMFADevice(parse(Api::Iam, "GetMFADevice", source, Rules::All)?)
            }
        })
    }
}

impl Input {
    /// A string member of the input, by its model name (for what spans every
    /// operation: the resource an operation acts on, the event's parameters).
    pub(crate) fn text(&self, member: &str) -> Option<&str> {
        match (self, member) {
            (Input::AddUserToGroup(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::AddUserToGroup(i), "UserName") => Some(i.user_name.as_str()),
            (Input::AttachGroupPolicy(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::AttachGroupPolicy(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::AttachRolePolicy(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::AttachRolePolicy(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::AttachUserPolicy(i), "UserName") => Some(i.user_name.as_str()),
            (Input::AttachUserPolicy(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::CreateAccessKey(i), "UserName") => i.user_name.as_deref(),
            (Input::CreateGroup(i), "Path") => i.path.as_deref(),
            (Input::CreateGroup(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::CreatePolicy(i), "PolicyName") => Some(i.policy_name.as_str()),
            (Input::CreatePolicy(i), "Path") => i.path.as_deref(),
            (Input::CreatePolicy(i), "PolicyDocument") => Some(i.policy_document.as_str()),
            (Input::CreatePolicy(i), "Description") => i.description.as_deref(),
            (Input::CreatePolicyVersion(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::CreatePolicyVersion(i), "PolicyDocument") => Some(i.policy_document.as_str()),
            (Input::CreateRole(i), "Path") => i.path.as_deref(),
            (Input::CreateRole(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::CreateRole(i), "AssumeRolePolicyDocument") => {
                Some(i.assume_role_policy_document.as_str())
            }
            (Input::CreateRole(i), "Description") => i.description.as_deref(),
            (Input::CreateRole(i), "PermissionsBoundary") => i.permissions_boundary.as_deref(),
            (Input::CreateUser(i), "Path") => i.path.as_deref(),
            (Input::CreateUser(i), "UserName") => Some(i.user_name.as_str()),
            (Input::CreateUser(i), "PermissionsBoundary") => i.permissions_boundary.as_deref(),
            (Input::CreateVirtualMFADevice(i), "Path") => i.path.as_deref(),
            (Input::CreateVirtualMFADevice(i), "VirtualMFADeviceName") => {
                Some(i.virtual_mfa_device_name.as_str())
            }
            (Input::DeactivateMFADevice(i), "UserName") => i.user_name.as_deref(),
            (Input::DeactivateMFADevice(i), "SerialNumber") => Some(i.serial_number.as_str()),
            (Input::DeleteAccessKey(i), "UserName") => i.user_name.as_deref(),
            (Input::DeleteAccessKey(i), "AccessKeyId") => Some(i.access_key_id.as_str()),
            (Input::DeleteGroup(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::DeleteGroupPolicy(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::DeleteGroupPolicy(i), "PolicyName") => Some(i.policy_name.as_str()),
            (Input::DeletePolicy(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::DeletePolicyVersion(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::DeletePolicyVersion(i), "VersionId") => Some(i.version_id.as_str()),
            (Input::DeleteRole(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::DeleteRolePermissionsBoundary(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::DeleteRolePolicy(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::DeleteRolePolicy(i), "PolicyName") => Some(i.policy_name.as_str()),
            (Input::DeleteUser(i), "UserName") => Some(i.user_name.as_str()),
            (Input::DeleteUserPermissionsBoundary(i), "UserName") => Some(i.user_name.as_str()),
            (Input::DeleteUserPolicy(i), "UserName") => Some(i.user_name.as_str()),
            (Input::DeleteUserPolicy(i), "PolicyName") => Some(i.policy_name.as_str()),
            (Input::DeleteVirtualMFADevice(i), "SerialNumber") => Some(i.serial_number.as_str()),
            (Input::DetachGroupPolicy(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::DetachGroupPolicy(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::DetachRolePolicy(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::DetachRolePolicy(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::DetachUserPolicy(i), "UserName") => Some(i.user_name.as_str()),
            (Input::DetachUserPolicy(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::EnableMFADevice(i), "UserName") => Some(i.user_name.as_str()),
            (Input::EnableMFADevice(i), "SerialNumber") => Some(i.serial_number.as_str()),
            (Input::EnableMFADevice(i), "AuthenticationCode1") => {
                Some(i.authentication_code1.as_str())
            }
            (Input::EnableMFADevice(i), "AuthenticationCode2") => {
                Some(i.authentication_code2.as_str())
            }
            (Input::GetAccessKeyLastUsed(i), "AccessKeyId") => Some(i.access_key_id.as_str()),
            (Input::GetAccountAuthorizationDetails(i), "Marker") => i.marker.as_deref(),
            (Input::GetGroup(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::GetGroup(i), "Marker") => i.marker.as_deref(),
            (Input::GetGroupPolicy(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::GetGroupPolicy(i), "PolicyName") => Some(i.policy_name.as_str()),
            (Input::GetPolicy(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::GetPolicyVersion(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::GetPolicyVersion(i), "VersionId") => Some(i.version_id.as_str()),
            (Input::GetRole(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::GetRolePolicy(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::GetRolePolicy(i), "PolicyName") => Some(i.policy_name.as_str()),
            (Input::GetUser(i), "UserName") => i.user_name.as_deref(),
            (Input::GetUserPolicy(i), "UserName") => Some(i.user_name.as_str()),
            (Input::GetUserPolicy(i), "PolicyName") => Some(i.policy_name.as_str()),
            (Input::ListAccessKeys(i), "UserName") => i.user_name.as_deref(),
            (Input::ListAccessKeys(i), "Marker") => i.marker.as_deref(),
            (Input::ListAttachedGroupPolicies(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::ListAttachedGroupPolicies(i), "PathPrefix") => i.path_prefix.as_deref(),
            (Input::ListAttachedGroupPolicies(i), "Marker") => i.marker.as_deref(),
            (Input::ListAttachedRolePolicies(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::ListAttachedRolePolicies(i), "PathPrefix") => i.path_prefix.as_deref(),
            (Input::ListAttachedRolePolicies(i), "Marker") => i.marker.as_deref(),
            (Input::ListAttachedUserPolicies(i), "UserName") => Some(i.user_name.as_str()),
            (Input::ListAttachedUserPolicies(i), "PathPrefix") => i.path_prefix.as_deref(),
            (Input::ListAttachedUserPolicies(i), "Marker") => i.marker.as_deref(),
            (Input::ListGroupPolicies(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::ListGroupPolicies(i), "Marker") => i.marker.as_deref(),
            (Input::ListGroups(i), "PathPrefix") => i.path_prefix.as_deref(),
            (Input::ListGroups(i), "Marker") => i.marker.as_deref(),
            (Input::ListGroupsForUser(i), "UserName") => Some(i.user_name.as_str()),
            (Input::ListGroupsForUser(i), "Marker") => i.marker.as_deref(),
            (Input::ListMFADevices(i), "UserName") => i.user_name.as_deref(),
            (Input::ListMFADevices(i), "Marker") => i.marker.as_deref(),
            (Input::ListPolicies(i), "Scope") => i.scope.as_deref(),
            (Input::ListPolicies(i), "PathPrefix") => i.path_prefix.as_deref(),
            (Input::ListPolicies(i), "PolicyUsageFilter") => i.policy_usage_filter.as_deref(),
            (Input::ListPolicies(i), "Marker") => i.marker.as_deref(),
            (Input::ListPolicyVersions(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::ListPolicyVersions(i), "Marker") => i.marker.as_deref(),
            (Input::ListRolePolicies(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::ListRolePolicies(i), "Marker") => i.marker.as_deref(),
            (Input::ListRoleTags(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::ListRoleTags(i), "Marker") => i.marker.as_deref(),
            (Input::ListRoles(i), "PathPrefix") => i.path_prefix.as_deref(),
            (Input::ListRoles(i), "Marker") => i.marker.as_deref(),
            (Input::ListUserPolicies(i), "UserName") => Some(i.user_name.as_str()),
            (Input::ListUserPolicies(i), "Marker") => i.marker.as_deref(),
            (Input::ListUserTags(i), "UserName") => Some(i.user_name.as_str()),
            (Input::ListUserTags(i), "Marker") => i.marker.as_deref(),
            (Input::ListUsers(i), "PathPrefix") => i.path_prefix.as_deref(),
            (Input::ListUsers(i), "Marker") => i.marker.as_deref(),
            (Input::ListVirtualMFADevices(i), "AssignmentStatus") => i.assignment_status.as_deref(),
            (Input::ListVirtualMFADevices(i), "Marker") => i.marker.as_deref(),
            (Input::PutGroupPolicy(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::PutGroupPolicy(i), "PolicyName") => Some(i.policy_name.as_str()),
            (Input::PutGroupPolicy(i), "PolicyDocument") => Some(i.policy_document.as_str()),
            (Input::PutRolePermissionsBoundary(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::PutRolePermissionsBoundary(i), "PermissionsBoundary") => {
                Some(i.permissions_boundary.as_str())
            }
            (Input::PutRolePolicy(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::PutRolePolicy(i), "PolicyName") => Some(i.policy_name.as_str()),
            (Input::PutRolePolicy(i), "PolicyDocument") => Some(i.policy_document.as_str()),
            (Input::PutUserPermissionsBoundary(i), "UserName") => Some(i.user_name.as_str()),
            (Input::PutUserPermissionsBoundary(i), "PermissionsBoundary") => {
                Some(i.permissions_boundary.as_str())
            }
            (Input::PutUserPolicy(i), "UserName") => Some(i.user_name.as_str()),
            (Input::PutUserPolicy(i), "PolicyName") => Some(i.policy_name.as_str()),
            (Input::PutUserPolicy(i), "PolicyDocument") => Some(i.policy_document.as_str()),
            (Input::RemoveUserFromGroup(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::RemoveUserFromGroup(i), "UserName") => Some(i.user_name.as_str()),
            (Input::ResyncMFADevice(i), "UserName") => Some(i.user_name.as_str()),
            (Input::ResyncMFADevice(i), "SerialNumber") => Some(i.serial_number.as_str()),
            (Input::ResyncMFADevice(i), "AuthenticationCode1") => {
                Some(i.authentication_code1.as_str())
            }
            (Input::ResyncMFADevice(i), "AuthenticationCode2") => {
                Some(i.authentication_code2.as_str())
            }
            (Input::SetDefaultPolicyVersion(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::SetDefaultPolicyVersion(i), "VersionId") => Some(i.version_id.as_str()),
            (Input::SimulateCustomPolicy(i), "ResourcePolicy") => i.resource_policy.as_deref(),
            (Input::SimulateCustomPolicy(i), "ResourceOwner") => i.resource_owner.as_deref(),
            (Input::SimulateCustomPolicy(i), "CallerArn") => i.caller_arn.as_deref(),
            (Input::SimulateCustomPolicy(i), "ResourceHandlingOption") => {
                i.resource_handling_option.as_deref()
            }
            (Input::SimulateCustomPolicy(i), "Marker") => i.marker.as_deref(),
            (Input::SimulatePrincipalPolicy(i), "PolicySourceArn") => {
                Some(i.policy_source_arn.as_str())
            }
            (Input::SimulatePrincipalPolicy(i), "ResourcePolicy") => i.resource_policy.as_deref(),
            (Input::SimulatePrincipalPolicy(i), "ResourceOwner") => i.resource_owner.as_deref(),
            (Input::SimulatePrincipalPolicy(i), "CallerArn") => i.caller_arn.as_deref(),
            (Input::SimulatePrincipalPolicy(i), "ResourceHandlingOption") => {
                i.resource_handling_option.as_deref()
            }
            (Input::SimulatePrincipalPolicy(i), "Marker") => i.marker.as_deref(),
            (Input::TagRole(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::TagUser(i), "UserName") => Some(i.user_name.as_str()),
            (Input::UntagRole(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::UntagUser(i), "UserName") => Some(i.user_name.as_str()),
            (Input::UpdateAccessKey(i), "UserName") => i.user_name.as_deref(),
            (Input::UpdateAccessKey(i), "AccessKeyId") => Some(i.access_key_id.as_str()),
            (Input::UpdateAccessKey(i), "Status") => Some(i.status.as_str()),
            (Input::UpdateAssumeRolePolicy(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::UpdateAssumeRolePolicy(i), "PolicyDocument") => {
                Some(i.policy_document.as_str())
            }
            (Input::UpdateRole(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::UpdateRole(i), "Description") => i.description.as_deref(),
            (Input::UpdateRoleDescription(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::UpdateRoleDescription(i), "Description") => Some(i.description.as_str()),
            (Input::CreateInstanceProfile(i), "InstanceProfileName") => {
                Some(i.instance_profile_name.as_str())
            }
            (Input::CreateInstanceProfile(i), "Path") => i.path.as_deref(),
            (Input::GetInstanceProfile(i), "InstanceProfileName") => {
                Some(i.instance_profile_name.as_str())
            }
            (Input::DeleteInstanceProfile(i), "InstanceProfileName") => {
                Some(i.instance_profile_name.as_str())
            }
            (Input::ListInstanceProfiles(i), "PathPrefix") => i.path_prefix.as_deref(),
            (Input::ListInstanceProfiles(i), "Marker") => i.marker.as_deref(),
            (Input::AddRoleToInstanceProfile(i), "InstanceProfileName") => {
                Some(i.instance_profile_name.as_str())
            }
            (Input::AddRoleToInstanceProfile(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::RemoveRoleFromInstanceProfile(i), "InstanceProfileName") => {
                Some(i.instance_profile_name.as_str())
            }
            (Input::RemoveRoleFromInstanceProfile(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::ListInstanceProfilesForRole(i), "RoleName") => Some(i.role_name.as_str()),
            (Input::ListInstanceProfilesForRole(i), "Marker") => i.marker.as_deref(),
            (Input::TagInstanceProfile(i), "InstanceProfileName") => {
                Some(i.instance_profile_name.as_str())
            }
            (Input::UntagInstanceProfile(i), "InstanceProfileName") => {
                Some(i.instance_profile_name.as_str())
            }
            (Input::ListInstanceProfileTags(i), "InstanceProfileName") => {
                Some(i.instance_profile_name.as_str())
            }
            (Input::ListInstanceProfileTags(i), "Marker") => i.marker.as_deref(),
            (Input::UpdateUser(i), "UserName") => Some(i.user_name.as_str()),
            (Input::UpdateUser(i), "NewPath") => i.new_path.as_deref(),
            (Input::UpdateUser(i), "NewUserName") => i.new_user_name.as_deref(),
            (Input::UpdateGroup(i), "GroupName") => Some(i.group_name.as_str()),
            (Input::UpdateGroup(i), "NewPath") => i.new_path.as_deref(),
            (Input::UpdateGroup(i), "NewGroupName") => i.new_group_name.as_deref(),
            (Input::TagPolicy(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::UntagPolicy(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::ListPolicyTags(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::ListPolicyTags(i), "Marker") => i.marker.as_deref(),
            (Input::ListEntitiesForPolicy(i), "PolicyArn") => Some(i.policy_arn.as_str()),
            (Input::ListEntitiesForPolicy(i), "EntityFilter") => i.entity_filter.as_deref(),
            (Input::ListEntitiesForPolicy(i), "PathPrefix") => i.path_prefix.as_deref(),
            (Input::ListEntitiesForPolicy(i), "PolicyUsageFilter") => {
                i.policy_usage_filter.as_deref()
            }
            (Input::ListEntitiesForPolicy(i), "Marker") => i.marker.as_deref(),
            (Input::CreateAccountAlias(i), "AccountAlias") => Some(i.account_alias.as_str()),
            (Input::DeleteAccountAlias(i), "AccountAlias") => Some(i.account_alias.as_str()),
            (Input::ListAccountAliases(i), "Marker") => i.marker.as_deref(),
            (Input::GetContextKeysForPrincipalPolicy(i), "PolicySourceArn") => {
                Some(i.policy_source_arn.as_str())
            }
            (Input::GetMFADevice(i), "SerialNumber") => Some(i.serial_number.as_str()),
            (Input::GetMFADevice(i), "UserName") => i.user_name.as_deref(),
            _ => None,
        }
    }

    /// An integer member of the input, by its model name.
    pub(crate) fn number(&self, member: &str) -> Option<i64> {
        match (self, member) {
            (Input::CreateRole(i), "MaxSessionDuration") => i.max_session_duration,
            (Input::CreateRole(i), "MaxSigninSessionDuration") => i.max_signin_session_duration,
            (Input::GetAccountAuthorizationDetails(i), "MaxItems") => i.max_items,
            (Input::GetGroup(i), "MaxItems") => i.max_items,
            (Input::ListAccessKeys(i), "MaxItems") => i.max_items,
            (Input::ListAttachedGroupPolicies(i), "MaxItems") => i.max_items,
            (Input::ListAttachedRolePolicies(i), "MaxItems") => i.max_items,
            (Input::ListAttachedUserPolicies(i), "MaxItems") => i.max_items,
            (Input::ListGroupPolicies(i), "MaxItems") => i.max_items,
            (Input::ListGroups(i), "MaxItems") => i.max_items,
            (Input::ListGroupsForUser(i), "MaxItems") => i.max_items,
            (Input::ListMFADevices(i), "MaxItems") => i.max_items,
            (Input::ListPolicies(i), "MaxItems") => i.max_items,
            (Input::ListPolicyVersions(i), "MaxItems") => i.max_items,
            (Input::ListRolePolicies(i), "MaxItems") => i.max_items,
            (Input::ListRoleTags(i), "MaxItems") => i.max_items,
            (Input::ListRoles(i), "MaxItems") => i.max_items,
            (Input::ListUserPolicies(i), "MaxItems") => i.max_items,
            (Input::ListUserTags(i), "MaxItems") => i.max_items,
            (Input::ListUsers(i), "MaxItems") => i.max_items,
            (Input::ListVirtualMFADevices(i), "MaxItems") => i.max_items,
            (Input::SimulateCustomPolicy(i), "MaxItems") => i.max_items,
            (Input::SimulatePrincipalPolicy(i), "MaxItems") => i.max_items,
            (Input::UpdateRole(i), "MaxSessionDuration") => i.max_session_duration,
            (Input::UpdateRole(i), "MaxSigninSessionDuration") => i.max_signin_session_duration,
            (Input::ListInstanceProfiles(i), "MaxItems") => i.max_items,
            (Input::ListInstanceProfilesForRole(i), "MaxItems") => i.max_items,
            (Input::ListInstanceProfileTags(i), "MaxItems") => i.max_items,
            (Input::ListPolicyTags(i), "MaxItems") => i.max_items,
            (Input::ListEntitiesForPolicy(i), "MaxItems") => i.max_items,
            (Input::ListAccountAliases(i), "MaxItems") => i.max_items,
            (Input::UpdateAccountPasswordPolicy(i), "MinimumPasswordLength") => {
                i.minimum_password_length
            }
            (Input::UpdateAccountPasswordPolicy(i), "MaxPasswordAge") => i.max_password_age,
            (Input::UpdateAccountPasswordPolicy(i), "PasswordReusePrevention") => {
                i.password_reuse_prevention
            }
            _ => None,
        }
    }

    /// A boolean member of the input, by its model name.
    pub(crate) fn flag(&self, member: &str) -> Option<bool> {
        match (self, member) {
            (Input::CreatePolicyVersion(i), "SetAsDefault") => i.set_as_default,
            (Input::ListPolicies(i), "OnlyAttached") => i.only_attached,
            (Input::UpdateRole(i), "ResetMaxSigninSessionDuration") => {
                i.reset_max_signin_session_duration
            }
            (Input::UpdateAccountPasswordPolicy(i), "RequireSymbols") => i.require_symbols,
            (Input::UpdateAccountPasswordPolicy(i), "RequireNumbers") => i.require_numbers,
            (Input::UpdateAccountPasswordPolicy(i), "RequireUppercaseCharacters") => {
                i.require_uppercase_characters
            }
            (Input::UpdateAccountPasswordPolicy(i), "RequireLowercaseCharacters") => {
                i.require_lowercase_characters
            }
            (Input::UpdateAccountPasswordPolicy(i), "AllowUsersToChangePassword") => {
                i.allow_users_to_change_password
            }
            (Input::UpdateAccountPasswordPolicy(i), "HardExpiry") => i.hard_expiry,
            _ => None,
        }
    }

    /// A list-of-strings member of the input, by its model name (empty when absent).
    pub(crate) fn list(&self, member: &str) -> &[String] {
        match (self, member) {
            (Input::GetAccountAuthorizationDetails(i), "Filter") => &i.filter,
            (Input::SimulateCustomPolicy(i), "PolicyInputList") => &i.policy_input_list,
            (Input::SimulateCustomPolicy(i), "PermissionsBoundaryPolicyInputList") => {
                &i.permissions_boundary_policy_input_list
            }
            (Input::SimulateCustomPolicy(i), "ActionNames") => &i.action_names,
            (Input::SimulateCustomPolicy(i), "ResourceArns") => &i.resource_arns,
            (Input::SimulatePrincipalPolicy(i), "PolicyInputList") => &i.policy_input_list,
            (Input::SimulatePrincipalPolicy(i), "PermissionsBoundaryPolicyInputList") => {
                &i.permissions_boundary_policy_input_list
            }
            (Input::SimulatePrincipalPolicy(i), "ActionNames") => &i.action_names,
            (Input::SimulatePrincipalPolicy(i), "ResourceArns") => &i.resource_arns,
            (Input::UntagRole(i), "TagKeys") => &i.tag_keys,
            (Input::UntagUser(i), "TagKeys") => &i.tag_keys,
            (Input::UntagInstanceProfile(i), "TagKeys") => &i.tag_keys,
            (Input::UntagPolicy(i), "TagKeys") => &i.tag_keys,
            (Input::GetContextKeysForCustomPolicy(i), "PolicyInputList") => &i.policy_input_list,
            (Input::GetContextKeysForPrincipalPolicy(i), "PolicyInputList") => &i.policy_input_list,
            _ => &[],
        }
    }

    /// The tags the request sets (`Tags`), if it sets any.
    pub(crate) fn tags(&self) -> &[Tag] {
        match self {
            Input::CreatePolicy(i) => &i.tags,
            Input::CreateRole(i) => &i.tags,
            Input::CreateUser(i) => &i.tags,
            Input::CreateVirtualMFADevice(i) => &i.tags,
            Input::TagRole(i) => &i.tags,
            Input::TagUser(i) => &i.tags,
            Input::CreateInstanceProfile(i) => &i.tags,
            Input::TagInstanceProfile(i) => &i.tags,
            Input::TagPolicy(i) => &i.tags,
            _ => &[],
        }
    }

    /// The tag keys the request names (`TagKeys`), if any.
    pub(crate) fn tag_keys(&self) -> &[String] {
        match self {
            Input::UntagRole(i) => &i.tag_keys,
            Input::UntagUser(i) => &i.tag_keys,
            Input::UntagInstanceProfile(i) => &i.tag_keys,
            Input::UntagPolicy(i) => &i.tag_keys,
            _ => &[],
        }
    }
}
