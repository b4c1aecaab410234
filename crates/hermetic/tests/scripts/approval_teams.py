"""Multi-party approval teams through boto3's `mpa` client against a running `hermetic serve`:
the account's built-in identity source, the team policies, a team of the account's IAM users
(create, get, list, tags), AWS's validation and conflict errors, IAM authorization of each
operation, another tenant's team out of reach, the operator refused, and the calls in the
tenant's own log.

Usage: approval_teams.py URL ACCOUNT ROOT_KEY ROOT_SECRET OTHER_ACCOUNT OTHER_KEY OTHER_SECRET OP_KEY OP_SECRET
Prints "ok" when every check held.
"""

import json
import sys
import time

from checks import clients, fails

URL, ACCOUNT, KEY, SECRET, OTHER, OTHER_KEY, OTHER_SECRET, OP_KEY, OP_SECRET = sys.argv[1:10]
OPERATOR_ACCESS = "arn:aws:mpa:::aws:policy/hermetic/OperatorAccess/$DEFAULT"
PROTECTED = "arn:aws:mpa:::aws:policy/hermetic/ProtectedOperations/$DEFAULT"
SOURCE = f"arn:aws:mpa:us-east-1:{ACCOUNT}:identity-source/iam"


client = clients(URL)


mpa = client("mpa", KEY, SECRET)
iam = client("iam", KEY, SECRET)

# The built-in identity source and the team policies.
sources = mpa.list_identity_sources()["IdentitySources"]
assert [s["IdentitySourceArn"] for s in sources] == [SOURCE], sources
assert mpa.get_identity_source(IdentitySourceArn=SOURCE)["Status"] == "ACTIVE"
fails("ResourceNotFoundException", mpa.get_identity_source,
      IdentitySourceArn=f"arn:aws:mpa:us-east-1:{OTHER}:identity-source/iam")
names = sorted(p["Name"] for p in mpa.list_policies()["Policies"])
assert names == ["OperatorAccess", "ProtectedOperations"], names
versions = mpa.list_policy_versions(PolicyArn=OPERATOR_ACCESS.replace("/$DEFAULT", ""))
assert [v["VersionId"] for v in versions["PolicyVersions"]] == [1], versions
version = mpa.get_policy_version(PolicyVersionArn=PROTECTED.replace("$DEFAULT", "1"))["PolicyVersion"]
assert version["Name"] == "ProtectedOperations" and version["IsDefault"], version
assert "kms:ScheduleKeyDeletion" in json.loads(version["Document"])["Statement"][0]["Action"], version
fails("ResourceNotFoundException", mpa.get_policy_version,
      PolicyVersionArn="arn:aws:mpa:::aws:policy/hermetic/Nothing/1")

# Approvers are the account's IAM users.
users = {}
for name in ["alice", "bob", "carol"]:
    users[name] = iam.create_user(UserName=name)["User"]["Arn"]


def approvers(*names):
    return [{"PrimaryIdentityId": users[n], "PrimaryIdentitySourceArn": SOURCE} for n in names]


def create(**kwargs):
    args = {"ApprovalStrategy": {"MofN": {"MinApprovalsRequired": 2}},
            "Approvers": approvers("alice", "bob", "carol"),
            "Description": "support access", "Policies": [{"PolicyArn": OPERATOR_ACCESS}],
            "Name": "support"}
    args.update(kwargs)
    return mpa.create_approval_team(**args)


# AWS's validation: M above N, an unknown user, another source, a foreign policy, a duplicate.
fails("ValidationException", create, ApprovalStrategy={"MofN": {"MinApprovalsRequired": 4}})
fails("ValidationException", create, Approvers=[{
    "PrimaryIdentityId": f"arn:aws:iam::{ACCOUNT}:user/nobody", "PrimaryIdentitySourceArn": SOURCE}])
fails("ValidationException", create, Approvers=[{
    "PrimaryIdentityId": users["alice"],
    "PrimaryIdentitySourceArn": f"arn:aws:mpa:us-east-1:{OTHER}:identity-source/iam"}])
fails("ValidationException", create, Policies=[{"PolicyArn": "arn:aws:mpa:::aws:policy/other/X/$DEFAULT"}])
fails("ValidationException", create, Approvers=approvers("alice", "alice"))
assert mpa.list_approval_teams()["ApprovalTeams"] == [], "nothing was made by a refused call"

made = create(Tags={"team": "sre"})
arn = made["Arn"]
assert arn.startswith(f"arn:aws:mpa:us-east-1:{ACCOUNT}:approval-team/"), arn
assert made["Name"] == "support" and made["VersionId"]
team = mpa.get_approval_team(Arn=arn)
assert team["Status"] == "ACTIVE" and team["NumberOfApprovers"] == 3, team
assert team["ApprovalStrategy"] == {"MofN": {"MinApprovalsRequired": 2}}, team
assert sorted(a["PrimaryIdentityId"] for a in team["Approvers"]) == sorted(users.values()), team
assert all(a["ApproverId"] for a in team["Approvers"])
assert team["Policies"] == [{"PolicyArn": OPERATOR_ACCESS}], team
# Tags.
assert mpa.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "sre"}
mpa.tag_resource(ResourceArn=arn, Tags={"env": "prod"})
mpa.untag_resource(ResourceArn=arn, TagKeys=["team"])
assert mpa.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "prod"}

# One team per policy in an account.
fails("ConflictException", create, Name="second")
second = create(Name="guards", Policies=[{"PolicyArn": PROTECTED}],
                ApprovalStrategy={"MofN": {"MinApprovalsRequired": 1}}, Approvers=approvers("carol"))
listed = mpa.list_approval_teams()["ApprovalTeams"]
assert sorted(t["Name"] for t in listed) == ["guards", "support"], listed
# With a team for protected operations, a team's tags change only with its approval.
fails("PendingApproval", mpa.tag_resource, ResourceArn=arn, Tags={"env": "dev"})
assert mpa.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "prod"}
fails("ResourceNotFoundException", mpa.get_approval_team,
      Arn=f"arn:aws:mpa:us-east-1:{ACCOUNT}:approval-team/nosuchteam")

# IAM decides: a user with no policy is refused; one allowed to read teams reads, not writes.
iam.create_user(UserName="reader")
keys = iam.create_access_key(UserName="reader")["AccessKey"]
reader = client("mpa", keys["AccessKeyId"], keys["SecretAccessKey"])
time.sleep(0.2)
fails("AccessDeniedException", reader.list_approval_teams)
iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["mpa:GetApprovalTeam", "mpa:ListApprovalTeams"], "Resource": "*"}]}))
assert len(reader.list_approval_teams()["ApprovalTeams"]) == 2
assert reader.get_approval_team(Arn=arn)["Name"] == "support"
fails("AccessDeniedException", reader.tag_resource, ResourceArn=arn, Tags={"x": "y"})
fails("AccessDeniedException", reader.create_approval_team,
      ApprovalStrategy={"MofN": {"MinApprovalsRequired": 1}}, Approvers=approvers("alice"),
      Description="d", Policies=[{"PolicyArn": PROTECTED}], Name="mine")

# Another tenant sees none of it; the operator is refused.
other = client("mpa", OTHER_KEY, OTHER_SECRET)
assert other.list_approval_teams()["ApprovalTeams"] == []
fails("ResourceNotFoundException", other.get_approval_team, Arn=arn)
operator = client("mpa", OP_KEY, OP_SECRET)
fails("AccessDeniedException", operator.list_approval_teams)
fails("AccessDeniedException", operator.get_approval_team, Arn=arn)

# Every call is in the tenant's own log.
ct = client("cloudtrail", KEY, SECRET)
seen = set()
for page in ct.get_paginator("lookup_events").paginate(LookupAttributes=[
        {"AttributeKey": "EventSource", "AttributeValue": "mpa.amazonaws.com"}]):
    for e in page["Events"]:
        seen.add(e["EventName"])
for name in ["CreateApprovalTeam", "GetApprovalTeam", "ListApprovalTeams", "TagResource",
             "UntagResource", "ListIdentitySources"]:
    assert name in seen, (name, seen)
print("ok")
