"""IAM operations real tools call (issue 19): instance profiles (every Terraform destroy of a role
calls ListInstanceProfilesForRole), UpdateUser and UpdateGroup renames, policy descriptions and
tags, account aliases, the password policy, ListEntitiesForPolicy, GetContextKeysFor*Policy,
GetMFADevice, AWS's full managed policy set, and what tenants may not change (AWS managed
policies, service-linked role paths).

Usage: iam_tools.py URL ACCOUNT ROOT_KEY ROOT_SECRET OTHER_ACCOUNT OTHER_KEY OTHER_SECRET OP_KEY OP_SECRET
Prints "ok" when every check held.
"""

import base64
import json
import sys
import time

from checks import clients, fails, totp

URL, ACCOUNT, KEY, SECRET, OTHER, OTHER_KEY, OTHER_SECRET = sys.argv[1:8]
client = clients(URL)
iam = client("iam", KEY, SECRET)
other_iam = client("iam", OTHER_KEY, OTHER_SECRET)
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def doc(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def user_with_keys(name, statements=None):
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=doc(statements))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return k["AccessKeyId"], k["SecretAccessKey"]


# --- instance profiles, as Terraform makes and destroys them
iam.create_role(RoleName="web", AssumeRolePolicyDocument=TRUST)
made = iam.create_instance_profile(InstanceProfileName="web-profile", Path="/app/",
                                   Tags=[{"Key": "team", "Value": "blue"}])["InstanceProfile"]
assert made["Arn"] == f"arn:aws:iam::{ACCOUNT}:instance-profile/app/web-profile", made
assert made["InstanceProfileId"].startswith("AIPA") and made["Roles"] == [], made
fails("EntityAlreadyExists", iam.create_instance_profile, InstanceProfileName="web-profile")
fails("ValidationError", iam.create_instance_profile, InstanceProfileName="x", Path="app")
iam.add_role_to_instance_profile(InstanceProfileName="web-profile", RoleName="web")
got = iam.get_instance_profile(InstanceProfileName="web-profile")["InstanceProfile"]
assert [r["RoleName"] for r in got["Roles"]] == ["web"], got
assert got["Tags"] == [{"Key": "team", "Value": "blue"}], got
iam.create_role(RoleName="db", AssumeRolePolicyDocument=TRUST)
fails("LimitExceeded", iam.add_role_to_instance_profile, InstanceProfileName="web-profile",
      RoleName="db")
fails("NoSuchEntity", iam.add_role_to_instance_profile, InstanceProfileName="nothing", RoleName="db")
fails("NoSuchEntity", iam.add_role_to_instance_profile, InstanceProfileName="web-profile",
      RoleName="nobody")
for_role = iam.list_instance_profiles_for_role(RoleName="web")["InstanceProfiles"]
assert [p["InstanceProfileName"] for p in for_role] == ["web-profile"], for_role
assert iam.list_instance_profiles_for_role(RoleName="db")["InstanceProfiles"] == []
fails("NoSuchEntity", iam.list_instance_profiles_for_role, RoleName="nobody")
assert [p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/app/")["InstanceProfiles"]] == ["web-profile"]
assert iam.list_instance_profiles(PathPrefix="/other/")["InstanceProfiles"] == []
fails("DeleteConflict", iam.delete_role, RoleName="web")
fails("DeleteConflict", iam.delete_instance_profile, InstanceProfileName="web-profile")
iam.tag_instance_profile(InstanceProfileName="web-profile", Tags=[{"Key": "env", "Value": "prod"}])
iam.untag_instance_profile(InstanceProfileName="web-profile", TagKeys=["team"])
assert iam.list_instance_profile_tags(InstanceProfileName="web-profile")["Tags"] == [
    {"Key": "env", "Value": "prod"}]
details = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
web = [r for r in details if r["RoleName"] == "web"][0]
assert [p["InstanceProfileName"] for p in web["InstanceProfileList"]] == ["web-profile"], web
# Putting a role in a profile needs iam:PassRole on the role, as in AWS.
pk, ps = user_with_keys("profiler", [{"Effect": "Allow", "Action": [
    "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
    "iam:CreateInstanceProfile"], "Resource": "*"}])
time.sleep(0.2)
profiler = client("iam", pk, ps)
profiler.create_instance_profile(InstanceProfileName="db-profile")
fails("AccessDenied", profiler.add_role_to_instance_profile, InstanceProfileName="db-profile",
      RoleName="db")
iam.put_user_policy(UserName="profiler", PolicyName="pass", PolicyDocument=doc([{
    "Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/db"}]))
time.sleep(0.2)
profiler.add_role_to_instance_profile(InstanceProfileName="db-profile", RoleName="db")
# The destroy: remove the role, delete the profile, delete the role.
iam.remove_role_from_instance_profile(InstanceProfileName="web-profile", RoleName="web")
fails("NoSuchEntity", iam.remove_role_from_instance_profile, InstanceProfileName="web-profile",
      RoleName="web")
iam.delete_instance_profile(InstanceProfileName="web-profile")
fails("NoSuchEntity", iam.get_instance_profile, InstanceProfileName="web-profile")
iam.delete_role(RoleName="web")
# Another account sees none of it.
fails("NoSuchEntity", other_iam.get_instance_profile, InstanceProfileName="db-profile")
assert other_iam.list_instance_profiles()["InstanceProfiles"] == []

# --- UpdateUser: a rename carries the user's keys, policies, groups and MFA device
rk, rs = user_with_keys("carol", [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}])
iam.create_group(GroupName="staff")
iam.add_user_to_group(GroupName="staff", UserName="carol")
iam.attach_user_policy(UserName="carol",
                       PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="carol-phone")["VirtualMFADevice"]["SerialNumber"]
before = iam.get_user(UserName="carol")["User"]
iam.update_user(UserName="carol", NewUserName="caroline", NewPath="/staff/")
after = iam.get_user(UserName="caroline")["User"]
assert after["UserId"] == before["UserId"], (before, after)
assert after["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/staff/caroline", after
fails("NoSuchEntity", iam.get_user, UserName="carol")
assert iam.list_user_policies(UserName="caroline")["PolicyNames"] == ["p"]
assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="caroline")["Groups"]] == ["staff"]
assert [u["UserName"] for u in iam.get_group(GroupName="staff")["Users"]] == ["caroline"]
assert [p["PolicyName"] for p in iam.list_attached_user_policies(UserName="caroline")["AttachedPolicies"]] == ["AmazonS3ReadOnlyAccess"]
assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="caroline")["AccessKeyMetadata"]] == [rk]
time.sleep(0.2)
# Her old key still signs, as the renamed user.
me = client("sts", rk, rs).get_caller_identity()
assert me["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/staff/caroline", me
assert client("iam", rk, rs).get_user()["User"]["UserName"] == "caroline"
fails("EntityAlreadyExists", iam.update_user, UserName="caroline", NewUserName="profiler")
fails("NoSuchEntity", iam.update_user, UserName="nobody", NewUserName="x")
iam.update_user(UserName="caroline", NewPath="/")
assert iam.get_user(UserName="caroline")["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/caroline"
iam.delete_virtual_mfa_device(SerialNumber=serial)

# --- UpdateGroup
iam.put_group_policy(GroupName="staff", PolicyName="gp", PolicyDocument=doc([{
    "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]))
iam.update_group(GroupName="staff", NewGroupName="people", NewPath="/org/")
group = iam.get_group(GroupName="people")
assert group["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/org/people", group
assert [u["UserName"] for u in group["Users"]] == ["caroline"], group
assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="caroline")["Groups"]] == ["people"]
assert iam.list_group_policies(GroupName="people")["PolicyNames"] == ["gp"]
fails("NoSuchEntity", iam.get_group, GroupName="staff")
time.sleep(0.2)
# The group's policy still applies to its member under the new name.
client("s3", rk, rs).list_buckets()

# --- customer policies: description and tags; ListEntitiesForPolicy
policy = iam.create_policy(PolicyName="tagged", Description="what it is for",
                           Tags=[{"Key": "owner", "Value": "sec"}],
                           PolicyDocument=doc([{"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "*", "Condition": {"StringEquals": {
                                                    "aws:ResourceTag/stage": "prod"}}}]))["Policy"]
arn = policy["Arn"]
assert policy["Description"] == "what it is for" and policy["Tags"] == [{"Key": "owner", "Value": "sec"}], policy
got = iam.get_policy(PolicyArn=arn)["Policy"]
assert got["Description"] == "what it is for" and got["Tags"] == [{"Key": "owner", "Value": "sec"}], got
iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "tier", "Value": "1"}])
iam.untag_policy(PolicyArn=arn, TagKeys=["owner"])
assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "tier", "Value": "1"}]
iam.attach_user_policy(UserName="caroline", PolicyArn=arn)
iam.attach_group_policy(GroupName="people", PolicyArn=arn)
iam.create_role(RoleName="bounded", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=arn)
entities = iam.list_entities_for_policy(PolicyArn=arn)
assert [u["UserName"] for u in entities["PolicyUsers"]] == ["caroline"], entities
assert [g["GroupName"] for g in entities["PolicyGroups"]] == ["people"], entities
assert [r["RoleName"] for r in entities["PolicyRoles"]] == ["bounded"], entities
only = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role", PolicyUsageFilter="PermissionsPolicy")
assert only["PolicyRoles"] == [] and only["PolicyUsers"] == [], only
aws_users = iam.list_entities_for_policy(PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
assert [u["UserName"] for u in aws_users["PolicyUsers"]] == ["caroline"], aws_users
fails("NoSuchEntity", iam.list_entities_for_policy, PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/none")

# --- context keys
keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[doc([
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*",
     "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "Bool": {"aws:SecureTransport": "true"}}},
    {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
     "Condition": {"StringNotEquals": {"AWS:SourceIP": "1.2.3.4"}}}])])["ContextKeyNames"]
assert sorted(keys) == ["aws:SecureTransport", "aws:SourceIp"], keys
keys = iam.get_context_keys_for_principal_policy(
    PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/caroline")["ContextKeyNames"]
assert keys == ["aws:ResourceTag/stage"], keys

# --- GetMFADevice
iam.create_user(UserName="mfa-user")
device = iam.create_virtual_mfa_device(VirtualMFADeviceName="dev1")["VirtualMFADevice"]
fails("NoSuchEntity", iam.get_mfa_device, SerialNumber=device["SerialNumber"])  # not enabled yet
seed = base64.b32decode(device["Base32StringSeed"].decode() + "=" * (-len(device["Base32StringSeed"]) % 8))
step = int(time.time()) // 30
iam.enable_mfa_device(UserName="mfa-user", SerialNumber=device["SerialNumber"],
                      AuthenticationCode1=totp(seed, step - 2), AuthenticationCode2=totp(seed, step - 1))
got = iam.get_mfa_device(SerialNumber=device["SerialNumber"])
assert got["UserName"] == "mfa-user" and got["SerialNumber"] == device["SerialNumber"], got
assert "EnableDate" in got, got
fails("NoSuchEntity", iam.get_mfa_device, SerialNumber=device["SerialNumber"], UserName="caroline")

# --- account alias: one per account, unique across accounts
assert iam.list_account_aliases()["AccountAliases"] == []
iam.create_account_alias(AccountAlias="acme-prod")
assert iam.list_account_aliases()["AccountAliases"] == ["acme-prod"]
iam.create_account_alias(AccountAlias="acme-prod")  # again: nothing changes
fails("EntityAlreadyExists", other_iam.create_account_alias, AccountAlias="acme-prod")
fails("ValidationError", iam.create_account_alias, AccountAlias="Bad_Alias")
fails("ValidationError", iam.create_account_alias, AccountAlias="a--b")
iam.create_account_alias(AccountAlias="acme-main")  # replaces, freeing the old one
assert iam.list_account_aliases()["AccountAliases"] == ["acme-main"]
other_iam.create_account_alias(AccountAlias="acme-prod")
assert other_iam.list_account_aliases()["AccountAliases"] == ["acme-prod"]
fails("NoSuchEntity", iam.delete_account_alias, AccountAlias="acme-prod")
iam.delete_account_alias(AccountAlias="acme-main")
assert iam.list_account_aliases()["AccountAliases"] == []

# --- password policy
fails("NoSuchEntity", iam.get_account_password_policy)
iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True,
                                   MaxPasswordAge=90, PasswordReusePrevention=5)
pp = iam.get_account_password_policy()["PasswordPolicy"]
assert pp["MinimumPasswordLength"] == 14 and pp["RequireSymbols"] and not pp["RequireNumbers"], pp
assert pp["ExpirePasswords"] and pp["MaxPasswordAge"] == 90 and pp["PasswordReusePrevention"] == 5, pp
iam.update_account_password_policy(RequireNumbers=True)  # what is left out takes its default
pp = iam.get_account_password_policy()["PasswordPolicy"]
assert pp["MinimumPasswordLength"] == 8 and pp["RequireNumbers"] and not pp["ExpirePasswords"], pp
fails("NoSuchEntity", other_iam.get_account_password_policy)
iam.delete_account_password_policy()
fails("NoSuchEntity", iam.delete_account_password_policy)

# --- AWS's managed policies: the full set, read-only
everything = []
for page in iam.get_paginator("list_policies").paginate(Scope="AWS"):
    everything += page["Policies"]
assert len(everything) > 1000, len(everything)
names = {p["PolicyName"]: p for p in everything}
lam = names["AWSLambdaBasicExecutionRole"]
assert lam["Arn"] == "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", lam
s3ro = names["AmazonS3ReadOnlyAccess"]
assert s3ro["AttachmentCount"] == 1, s3ro
job = iam.list_policies(Scope="AWS", PathPrefix="/job-function/")["Policies"]
assert "ViewOnlyAccess" in [p["PolicyName"] for p in job], job
attached = iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
assert [p["PolicyName"] for p in attached] == ["AmazonS3ReadOnlyAccess"], attached
got = iam.get_policy(PolicyArn=s3ro["Arn"])["Policy"]
version = iam.get_policy_version(PolicyArn=s3ro["Arn"], VersionId=got["DefaultVersionId"])["PolicyVersion"]
assert "s3:Get*" in json.dumps(version["Document"]), version
fails("NoSuchEntity", iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
fails("NoSuchEntity", iam.attach_user_policy, UserName="mfa-user",
      PolicyArn="arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole")  # the path is part of it
iam.attach_role_policy(RoleName="db", PolicyArn=lam["Arn"])
# AmazonS3ReadOnlyAccess does what AWS's does: read, not write.
s3 = client("s3", KEY, SECRET)
s3.create_bucket(Bucket=f"tools-{ACCOUNT}")
s3.put_object(Bucket=f"tools-{ACCOUNT}", Key="k", Body=b"v")
iam.detach_group_policy(GroupName="people", PolicyArn=arn)
iam.detach_user_policy(UserName="caroline", PolicyArn=arn)
time.sleep(0.2)
reader = client("s3", rk, rs)
assert reader.get_object(Bucket=f"tools-{ACCOUNT}", Key="k")["Body"].read() == b"v"
fails("AccessDenied", reader.put_object, Bucket=f"tools-{ACCOUNT}", Key="k2", Body=b"x")
# No tenant changes an AWS managed policy, whatever its own policies allow.
for call, kwargs in [
    (iam.create_policy_version, {"PolicyDocument": doc([{"Effect": "Allow", "Action": "*", "Resource": "*"}]), "SetAsDefault": True}),
    (iam.delete_policy, {}),
    (iam.set_default_policy_version, {"VersionId": "v1"}),
    (iam.delete_policy_version, {"VersionId": "v1"}),
    (iam.tag_policy, {"Tags": [{"Key": "a", "Value": "b"}]}),
    (iam.untag_policy, {"TagKeys": ["a"]}),
]:
    fails("AccessDenied", call, PolicyArn=s3ro["Arn"], **kwargs)
# Service-linked and reserved role paths are AWS's.
for path in ["/aws-service-role/ec2.amazonaws.com/", "/aws-reserved/sso.amazonaws.com/"]:
    fails("InvalidInput", iam.create_role, RoleName="mine", Path=path, AssumeRolePolicyDocument=TRUST)

print("ok")
