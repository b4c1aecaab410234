"""GetAccountSummary, GetAccountAuthorizationDetails, SimulatePrincipalPolicy,
SimulateCustomPolicy, list pagination and IAM quotas, driven by boto3 against a running
`hermetic serve`, one feature per run.

Usage: reports.py URL ACCOUNT ROOT_KEY ROOT_SECRET FEATURE. FEATURE names one of the functions
in FEATURES (at the bottom); each makes what it needs, so it runs alone on a fresh server, and
prints "ok" when every check held.
"""

import json
import sys
import urllib.parse

import boto3
from checks import fails

URL, ACCOUNT, ROOT_KEY, ROOT_SECRET, FEATURE = sys.argv[1:6]


# --- shared setup

iam = boto3.client(
    "iam",
    endpoint_url=URL,
    region_name="us-east-1",
    aws_access_key_id=ROOT_KEY,
    aws_secret_access_key=ROOT_SECRET,
)


read_users = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["iam:GetUser", "iam:ListUsers"], "Resource": "*"},
        {
            "Sid": "MfaDelete",
            "Effect": "Allow",
            "Action": "iam:DeleteUser",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        },
    ],
}


def populate():
    """Seven users (the odd ones under /staff/), user1 in the group readers (whose inline policy
    is read_users), user2 with the managed policies deny-delete and ReadOnlyAccess, and the role
    ops tagged tier=1. Returns deny-delete's ARN."""
    for n in range(7):
        iam.create_user(UserName=f"user{n}", Path="/staff/" if n % 2 else "/")
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName="user1")
    iam.put_group_policy(GroupName="readers", PolicyName="read", PolicyDocument=json.dumps(read_users))
    arn = iam.create_policy(
        PolicyName="deny-delete",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:Delete*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="user2", PolicyArn=arn)
    iam.attach_user_policy(UserName="user2", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="ops", AssumeRolePolicyDocument=json.dumps(trust), Tags=[{"Key": "tier", "Value": "1"}])
    return arn


# --- features


def pagination():
    """Users page by paginator and by hand and filter by path; bad markers refused; attached local policies."""
    populate()
    pages = list(iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2}))
    assert len(pages) == 4, [len(p["Users"]) for p in pages]
    assert [u["UserName"] for p in pages for u in p["Users"]] == [f"user{n}" for n in range(7)]
    first = iam.list_users(MaxItems=3)
    assert first["IsTruncated"] and len(first["Users"]) == 3, first
    rest = iam.list_users(Marker=first["Marker"])
    assert not rest["IsTruncated"] and len(rest["Users"]) == 4, rest
    staff = iam.list_users(PathPrefix="/staff/")["Users"]
    assert [u["UserName"] for u in staff] == ["user1", "user3", "user5"], staff
    fails("ValidationError", iam.list_users, Marker="not-a-marker")
    local = iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]
    assert [p["PolicyName"] for p in local] == ["deny-delete"], local


def account_summary():
    """The account summary counts what exists, beside AWS's quotas."""
    populate()
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Users"] == 7 and summary["Groups"] == 1 and summary["Roles"] == 1, summary
    assert summary["Policies"] == 1 and summary["UsersQuota"] == 5000, summary
    assert summary["AccessKeysPerUserQuota"] == 2 and summary["AccountAccessKeysPresent"] == 1


def authorization_details():
    """Authorization details: everything, with documents; a filter; pages."""
    arn = populate()
    details = iam.get_account_authorization_details()
    users = {u["UserName"]: u for u in details["UserDetailList"]}
    assert users["user1"]["GroupList"] == ["readers"], users["user1"]
    attached = {p["PolicyArn"] for p in users["user2"]["AttachedManagedPolicies"]}
    assert attached == {arn, "arn:aws:iam::aws:policy/ReadOnlyAccess"}, attached
    group = details["GroupDetailList"][0]
    doc = group["GroupPolicyList"][0]["PolicyDocument"]
    doc = json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc
    assert doc == read_users, doc
    role = details["RoleDetailList"][0]
    assert role["RoleName"] == "ops" and role["Tags"] == [{"Key": "tier", "Value": "1"}], role
    names = sorted(p["PolicyName"] for p in details["Policies"])
    assert names == ["ReadOnlyAccess", "deny-delete"], names
    only_roles = iam.get_account_authorization_details(Filter=["Role"])
    assert only_roles["UserDetailList"] == [] and len(only_roles["RoleDetailList"]) == 1
    collected = []
    for page in iam.get_paginator("get_account_authorization_details").paginate(
        PaginationConfig={"PageSize": 3}
    ):
        collected.extend(u["UserName"] for u in page["UserDetailList"])
    assert collected == [f"user{n}" for n in range(7)], collected
    fails("ValidationError", iam.get_account_authorization_details, Filter=["Nope"])


def simulate_principal_policy():
    """SimulatePrincipalPolicy weighs a user's group and managed policies, with matches and missing context."""
    populate()
    user1 = f"arn:aws:iam::{ACCOUNT}:user/staff/user1"
    results = iam.simulate_principal_policy(
        PolicySourceArn=user1, ActionNames=["iam:GetUser", "iam:DeleteUser", "iam:CreateUser"]
    )["EvaluationResults"]
    decisions = {r["EvalActionName"]: r for r in results}
    assert decisions["iam:GetUser"]["EvalDecision"] == "allowed", decisions
    matched = decisions["iam:GetUser"]["MatchedStatements"][0]
    assert matched["SourcePolicyType"] == "group", matched
    assert matched["StartPosition"]["Line"] >= 1, matched
    assert decisions["iam:DeleteUser"]["EvalDecision"] == "implicitDeny", decisions
    assert decisions["iam:DeleteUser"]["MissingContextValues"] == ["aws:MultiFactorAuthPresent"]
    assert decisions["iam:CreateUser"]["EvalDecision"] == "implicitDeny"
    with_mfa = iam.simulate_principal_policy(
        PolicySourceArn=user1,
        ActionNames=["iam:DeleteUser"],
        ContextEntries=[
            {"ContextKeyName": "aws:MultiFactorAuthPresent", "ContextKeyValues": ["true"], "ContextKeyType": "boolean"}
        ],
    )["EvaluationResults"][0]
    assert with_mfa["EvalDecision"] == "allowed", with_mfa
    user2 = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/user2",
        ActionNames=["iam:DeleteRole", "iam:GetRole"],
        ResourceArns=[f"arn:aws:iam::{ACCOUNT}:role/ops"],
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in user2] == ["explicitDeny", "allowed"], user2
    assert user2[0]["MatchedStatements"][0]["SourcePolicyType"] == "user-managed", user2
    assert user2[1]["MatchedStatements"][0]["SourcePolicyType"] == "aws-managed", user2
    fails(
        "NoSuchEntity",
        iam.simulate_principal_policy,
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/nobody",
        ActionNames=["iam:GetUser"],
    )


def simulate_custom_policy():
    """SimulateCustomPolicy with a permissions boundary, in pages; malformed documents are refused."""
    custom = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps(read_users)],
        PermissionsBoundaryPolicyInputList=[
            json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})
        ],
        ActionNames=["iam:GetUser", "iam:ListUsers"],
    )["EvaluationResults"]
    assert [r["EvalDecision"] for r in custom] == ["allowed", "implicitDeny"], custom
    assert custom[1]["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"] is False
    paged = list(
        iam.get_paginator("simulate_custom_policy").paginate(
            PolicyInputList=[json.dumps(read_users)],
            ActionNames=["iam:GetUser", "iam:ListUsers", "iam:DeleteUser"],
            ResourceArns=["arn:aws:iam::111122223333:user/a", "arn:aws:iam::111122223333:user/b"],
            PaginationConfig={"PageSize": 4},
        )
    )
    assert [len(p["EvaluationResults"]) for p in paged] == [4, 2], paged
    fails(
        "MalformedPolicyDocument",
        iam.simulate_custom_policy,
        PolicyInputList=["{not json"],
        ActionNames=["iam:GetUser"],
    )


def quotas():
    """AWS's quotas: 2,048 characters of inline policy per user (replacing counts once), 10 groups per user."""
    iam.create_user(UserName="user3")
    iam.create_user(UserName="user4")
    names = ["u%04d" % i for i in range(130)]
    big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iam:GetUser",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:username": names}},
                }
            ],
        }
    )
    iam.put_user_policy(UserName="user3", PolicyName="one", PolicyDocument=big)
    fails("LimitExceeded", iam.put_user_policy, UserName="user3", PolicyName="two", PolicyDocument=big)
    iam.put_user_policy(UserName="user3", PolicyName="one", PolicyDocument=big)
    assert iam.list_user_policies(UserName="user3")["PolicyNames"] == ["one"]
    for g in range(11):
        iam.create_group(GroupName=f"g{g}")
    for g in range(10):
        iam.add_user_to_group(GroupName=f"g{g}", UserName="user4")
    iam.add_user_to_group(GroupName="g0", UserName="user4")
    fails("LimitExceeded", iam.add_user_to_group, GroupName="g10", UserName="user4")


FEATURES = {f.__name__: f for f in [
    pagination, account_summary, authorization_details, simulate_principal_policy,
    simulate_custom_policy, quotas,
]}

if __name__ == "__main__":
    if FEATURE not in FEATURES:
        sys.exit(f"unknown feature {FEATURE!r}; one of {', '.join(FEATURES)}")
    FEATURES[FEATURE]()
    print("ok")
