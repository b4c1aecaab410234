"""IAM operations real tools call (issue 19): a role's Description and MaxSessionDuration
(CreateRole, UpdateRole, UpdateRoleDescription), and the permissions boundary CreateRole and
CreateUser set, which delegated administrators' policies condition on (`iam:PermissionsBoundary`).

Usage: iam_updates.py URL ACCOUNT ROOT_KEY ROOT_SECRET OTHER_ACCOUNT OTHER_KEY OTHER_SECRET OP_KEY OP_SECRET
Prints "ok" when every check held.
"""

import json
import sys
import time

from checks import clients, fails

URL, ACCOUNT, KEY, SECRET = sys.argv[1:5]
client = clients(URL)
iam = client("iam", KEY, SECRET)
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
BOUNDARY = iam.create_policy(PolicyName="boundary", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))["Policy"]["Arn"]

# --- a role's description and session length
made = iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST, Description="the app",
                       PermissionsBoundary=BOUNDARY)["Role"]
assert made["Description"] == "the app", made
assert made["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY, made
role = iam.get_role(RoleName="app")["Role"]
assert role["Description"] == "the app" and role["MaxSessionDuration"] == 3600, role
assert iam.update_role(RoleName="app", MaxSessionDuration=7200, Description="the app, v2") is not None
role = iam.get_role(RoleName="app")["Role"]
assert role["MaxSessionDuration"] == 7200 and role["Description"] == "the app, v2", role
updated = iam.update_role_description(RoleName="app", Description="v3")["Role"]
assert updated["Description"] == "v3" and updated["MaxSessionDuration"] == 7200, updated
fails("ValidationError", iam.update_role, RoleName="app", MaxSessionDuration=50000)
fails("NoSuchEntity", iam.update_role, RoleName="nobody", Description="x")
fails("NoSuchEntity", iam.update_role_description, RoleName="nobody", Description="x")
assert [r["Description"] for r in iam.list_roles()["Roles"] if r["RoleName"] == "app"] == ["v3"]

# --- boundaries set at creation, and refused when they name no policy
user = iam.create_user(UserName="dev", PermissionsBoundary=BOUNDARY)["User"]
assert user["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY, user
assert iam.get_user(UserName="dev")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY
missing = f"arn:aws:iam::{ACCOUNT}:policy/nothing"
fails("InvalidInput", iam.create_user, UserName="nobound", PermissionsBoundary=missing)
fails("InvalidInput", iam.create_role, RoleName="nobound", AssumeRolePolicyDocument=TRUST,
      PermissionsBoundary=missing)
fails("NoSuchEntity", iam.get_user, UserName="nobound")

# --- a delegated administrator may create users only with the boundary
iam.create_user(UserName="admin")
keys = iam.create_access_key(UserName="admin")["AccessKey"]
iam.put_user_policy(UserName="admin", PolicyName="delegated", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:CreateUser",
        "Resource": "*", "Condition": {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}}]}))
time.sleep(0.2)
admin = client("iam", keys["AccessKeyId"], keys["SecretAccessKey"])
fails("AccessDenied", admin.create_user, UserName="free")
bounded = admin.create_user(UserName="bounded", PermissionsBoundary=BOUNDARY)["User"]
assert bounded["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY, bounded

# --- in the account's log
ct = client("cloudtrail", KEY, SECRET)
names = {e["EventName"] for page in ct.get_paginator("lookup_events").paginate() for e in page["Events"]}
assert {"UpdateRole", "UpdateRoleDescription"} <= names, names
print("ok")
