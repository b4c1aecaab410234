"""Protected operations (issue 18): once the tenant has a ProtectedOperations team, a protected
call of any of its principals is held, not run: it answers `PendingApproval` naming a session
on the team; M-1 approvals leave it held; the M-th runs it as its original caller, with the
original request, authorized again then (a caller whose permission went meanwhile is refused);
rejected or unanswered, it never runs. Team changes, deletion and baselines go through the
team. Every step is in the tenant's own log, the run under the approval session.

The server runs with `--approval-voting-secs 20`.

Usage: approval_protected.py URL ACCOUNT ROOT_KEY ROOT_SECRET OTHER_ACCOUNT OTHER_KEY OTHER_SECRET OP_KEY OP_SECRET HERMETIC
Prints "ok" when every check held.
"""

import json
import re
import sys
import time

import checks
from checks import cloudtrail_policy, clients, fails

(URL, ACCOUNT, KEY, SECRET, OTHER, OTHER_KEY, OTHER_SECRET, OP_KEY, OP_SECRET,
 HERMETIC) = sys.argv[1:11]
PROTECTED = "arn:aws:mpa:::aws:policy/hermetic/ProtectedOperations/$DEFAULT"
SOURCE = f"arn:aws:mpa:us-east-1:{ACCOUNT}:identity-source/iam"
VOTING_SECS = 20

client = clients(URL)


def vote(who, arn, answer):
    return checks.vote(HERMETIC, URL, who, arn, answer)


def held(call, *args, **kwargs):
    """Calls a protected operation and returns the session it waits in."""
    error = fails("PendingApproval", call, *args, **kwargs)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409, error
    found = re.search(r"arn:aws:mpa:us-east-1:\d{12}:session/[a-z0-9]+/[a-z0-9]+",
                      error["Error"]["Message"])
    assert found, error
    return found.group(0)


def approve(arn, *who):
    for name in who:
        ok, out = vote(creds[name], arn, "approve")
        assert ok, out
    return out


root = {n: client(n, KEY, SECRET) for n in ["iam", "mpa", "s3", "kms", "cloudtrail"]}
iam, mpa = root["iam"], root["mpa"]

# Approvers alice, bob and carol; ops, an administrator who may do anything.
creds = {}
for name in ["alice", "bob", "carol", "ops"]:
    iam.create_user(UserName=name)
    creds[name] = iam.create_access_key(UserName=name)["AccessKey"]
iam.put_user_policy(UserName="ops", PolicyName="admin", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
for name in ["alice", "bob", "carol"]:
    iam.put_user_policy(UserName=name, PolicyName="approve", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["mpa:VoteOnSession", "mpa:GetSession"], "Resource": "*"}]}))
arns = {n: iam.get_user(UserName=n)["User"]["Arn"] for n in creds}
time.sleep(0.2)
ops = {n: client(n, creds["ops"]["AccessKeyId"], creds["ops"]["SecretAccessKey"])
       for n in ["s3", "kms", "cloudtrail", "mpa"]}

# What ops will change: a key, a bucket with a policy, a trail.
key_id = ops["kms"].create_key(Description="payments")["KeyMetadata"]["KeyId"]
key_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}"
BUCKET = f"ledger-{ACCOUNT}"
ops["s3"].create_bucket(Bucket=BUCKET)
TRAILS = f"trail-{ACCOUNT}"
ops["s3"].create_bucket(Bucket=TRAILS)
ops["s3"].put_bucket_policy(Bucket=TRAILS, Policy=cloudtrail_policy(ACCOUNT, TRAILS))
ops["cloudtrail"].create_trail(Name="main", S3BucketName=TRAILS)
ops["cloudtrail"].start_logging(Name="main")
# Before the team, ops acts alone.
ops["kms"].disable_key(KeyId=key_id)
ops["kms"].enable_key(KeyId=key_id)

team = mpa.create_approval_team(
    ApprovalStrategy={"MofN": {"MinApprovalsRequired": 2}},
    Approvers=[{"PrimaryIdentityId": arns[n], "PrimaryIdentitySourceArn": SOURCE}
               for n in ["alice", "bob", "carol"]],
    Description="two-person rule", Policies=[{"PolicyArn": PROTECTED}], Name="guard")
team_arn = team["Arn"]

# --- DisableKey: held; M-1 approvals leave it held; the M-th runs it.
disable = held(ops["kms"].disable_key, KeyId=key_id)
assert ops["kms"].describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"] is True
got = mpa.get_session(SessionArn=disable)
assert got["Status"] == "PENDING" and got["ExecutionStatus"] == "PENDING", got
assert got["ActionName"] == "kms:DisableKey" and got["ProtectedResourceArn"] == key_arn, got
assert got["RequesterPrincipalArn"] == arns["ops"] and got["ApprovalTeamArn"] == team_arn, got
assert got["ActionCompletionStrategy"] == "AUTO_COMPLETION_UPON_APPROVAL", got
out = approve(disable, "alice")
assert '"PENDING"' in out, out
ok, out = vote(creds["alice"], disable, "approve")
assert not ok and "ConflictException" in out, out
ok, out = vote(creds["ops"], disable, "approve")
assert not ok and "AccessDeniedException" in out, out
assert ops["kms"].describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"] is True
out = approve(disable, "bob")
assert '"APPROVED"' in out, out
assert ops["kms"].describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"] is False
got = mpa.get_session(SessionArn=disable)
assert got["Status"] == "APPROVED" and got["ExecutionStatus"] == "EXECUTED", got
# Unprotected operations run as ever.
ops["kms"].enable_key(KeyId=key_id)
ops["s3"].put_object(Bucket=BUCKET, Key="entry", Body=b"1")

# --- PutBucketPolicy: the request that runs is the one that was held, byte for byte.
document = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "held", "Effect": "Deny",
    "Principal": "*", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]})
put_policy = held(ops["s3"].put_bucket_policy, Bucket=BUCKET, Policy=document)
fails("NoSuchBucketPolicy", ops["s3"].get_bucket_policy, Bucket=BUCKET)
approve(put_policy, "carol", "alice")
assert json.loads(ops["s3"].get_bucket_policy(Bucket=BUCKET)["Policy"]) == json.loads(document)

# --- Authorized again when it runs: ops loses its permission meanwhile, and the run is refused.
delete_policy = held(ops["s3"].delete_bucket_policy, Bucket=BUCKET)
iam.delete_user_policy(UserName="ops", PolicyName="admin")
approve(delete_policy, "alice", "bob")
got = mpa.get_session(SessionArn=delete_policy)
assert got["Status"] == "APPROVED" and got["ExecutionStatus"] == "FAILED", got
assert "AccessDenied" in got["StatusMessage"], got
assert root["s3"].get_bucket_policy(Bucket=BUCKET)["Policy"], "the policy stays"
iam.put_user_policy(UserName="ops", PolicyName="admin", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
time.sleep(0.2)

# --- Two persons: an approver who asks does not answer its own request, whether it asked as
# itself or through a role it assumed.
keys_policy = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["kms:*", "sts:AssumeRole"], "Resource": "*"}]})
iam.put_user_policy(UserName="alice", PolicyName="keys", PolicyDocument=keys_policy)
role_arn = iam.create_role(RoleName="keyadmin", AssumeRolePolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": arns["alice"]},
                                            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
iam.put_role_policy(RoleName="keyadmin", PolicyName="keys", PolicyDocument=keys_policy)
time.sleep(0.2)
alice_kms = client("kms", creds["alice"]["AccessKeyId"], creds["alice"]["SecretAccessKey"])
own = held(alice_kms.disable_key, KeyId=key_id)
ok, out = vote(creds["alice"], own, "approve")
assert not ok and "AccessDeniedException" in out and "requester" in out, out
as_role = client("sts", creds["alice"]["AccessKeyId"], creds["alice"]["SecretAccessKey"]).assume_role(
    RoleArn=role_arn, RoleSessionName="alice")["Credentials"]
role_kms = client("kms", as_role["AccessKeyId"], as_role["SecretAccessKey"], as_role["SessionToken"])
via_role = held(role_kms.disable_key, KeyId=key_id)
assert mpa.get_session(SessionArn=via_role)["RequesterPrincipalArn"].endswith(":assumed-role/keyadmin/alice")
ok, out = vote(creds["alice"], via_role, "approve")
assert not ok and "AccessDeniedException" in out and "requester" in out, out
mpa.cancel_session(SessionArn=via_role)
# Credentials made after the session began (an administrator's new key for an approver) do not
# answer it.
fresh = iam.create_access_key(UserName="bob")["AccessKey"]
time.sleep(0.2)
ok, out = vote(fresh, own, "approve")
assert not ok and "AccessDeniedException" in out and "made after" in out, out
iam.delete_access_key(UserName="bob", AccessKeyId=fresh["AccessKeyId"])
assert '"APPROVED"' in approve(own, "bob", "carol")
assert ops["kms"].describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"] is False
ops["kms"].enable_key(KeyId=key_id)
iam.delete_user_policy(UserName="alice", PolicyName="keys")
# What an approval ran cannot be cancelled after the fact.
fails("ConflictException", mpa.cancel_session, SessionArn=own)

# --- Rejected: ScheduleKeyDeletion never runs.
schedule = held(ops["kms"].schedule_key_deletion, KeyId=key_id, PendingWindowInDays=7)
ok, out = vote(creds["alice"], schedule, "reject")
assert ok and '"PENDING"' in out, out
ok, out = vote(creds["carol"], schedule, "reject")
assert ok and '"FAILED"' in out, out
got = mpa.get_session(SessionArn=schedule)
assert got["Status"] == "FAILED" and got["StatusCode"] == "REJECTED", got
assert "ExecutionStatus" not in got, got
assert ops["kms"].describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"

# --- The root user is held too; StopLogging and the public access block are protected.
stop = held(root["cloudtrail"].stop_logging, Name="main")
assert root["cloudtrail"].get_trail_status(Name="main")["IsLogging"] is True
pab = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
       "RestrictPublicBuckets": False}
open_up = held(ops["s3"].put_public_access_block, Bucket=BUCKET,
               PublicAccessBlockConfiguration=pab)
held(ops["s3"].delete_public_access_block, Bucket=BUCKET)
held(ops["cloudtrail"].delete_trail, Name="main")
held(ops["s3"].delete_bucket, Bucket=TRAILS)
held(ops["cloudtrail"].update_trail, Name="main", S3KeyPrefix="elsewhere")
held(ops["cloudtrail"].put_event_selectors, TrailName="main", EventSelectors=[
    {"ReadWriteType": "All", "IncludeManagementEvents": False}])
# A new team (an operator-access one, break-glass on) is a change of the account's approvals.
held(ops["mpa"].create_approval_team,
     ApprovalStrategy={"MofN": {"MinApprovalsRequired": 1}},
     Approvers=[{"PrimaryIdentityId": arns["ops"], "PrimaryIdentitySourceArn": SOURCE}],
     Description="mine", Name="mine", Tags={"hermetic:break-glass": "enabled"},
     Policies=[{"PolicyArn": "arn:aws:mpa:::aws:policy/hermetic/OperatorAccess/$DEFAULT"}])
assert [t["Name"] for t in mpa.list_approval_teams()["ApprovalTeams"]] == ["guard"]
held(ops["kms"].put_key_policy, KeyId=key_id, PolicyName="default", Policy=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": arns["ops"]}, "Action": "kms:*", "Resource": "*"}]}))
# Changes to the team itself: its tags, its members, its deletion wait for the team.
held(ops["mpa"].tag_resource, ResourceArn=team_arn, Tags={"owner": "ops"})
assert mpa.list_tags_for_resource(ResourceArn=team_arn)["Tags"] == {}
# ListSessions filters.
listed = mpa.list_sessions(ApprovalTeamArn=team_arn, Filters=[
    {"FieldName": "ActionName", "Operator": "EQ", "Value": "cloudtrail:StopLogging"}])["Sessions"]
assert [s["SessionArn"] for s in listed] == [stop], listed
listed = mpa.list_sessions(ApprovalTeamArn=team_arn, Filters=[
    {"FieldName": "SessionStatus", "Operator": "EQ", "Value": "FAILED"}])["Sessions"]
assert [s["SessionArn"] for s in listed] == [schedule], listed
listed = mpa.list_sessions(ApprovalTeamArn=team_arn, Filters=[
    {"FieldName": "ActionName", "Operator": "CONTAINS", "Value": "s3:"},
    {"FieldName": "InitiationTime", "Operator": "GT", "Value": "2020-01-01T00:00:00Z"}])["Sessions"]
assert len(listed) == 5, listed
fails("ValidationException", mpa.list_sessions, ApprovalTeamArn=team_arn, Filters=[
    {"FieldName": "SessionStatus", "Operator": "GT", "Value": "x"}])

# --- Unanswered until the voting window ends: expired, never run, no answer taken after.
time.sleep(VOTING_SECS + 1)
got = mpa.get_session(SessionArn=stop)
assert got["Status"] == "FAILED" and got["StatusCode"] == "EXPIRED", got
ok, out = vote(creds["alice"], stop, "approve")
assert not ok and "ConflictException" in out, out
assert root["cloudtrail"].get_trail_status(Name="main")["IsLogging"] is True
assert mpa.get_session(SessionArn=open_up)["Status"] == "FAILED"
assert TRAILS in [b["Name"] for b in ops["s3"].list_buckets()["Buckets"]]

# --- A baseline: every approver answers.
baseline = mpa.start_approval_team_baseline(Arn=team_arn)["BaselineSessionArn"]
assert '"PENDING"' in approve(baseline, "alice", "bob")
assert '"APPROVED"' in approve(baseline, "carol")

# --- Deleting the team needs the team; then protected operations run at once again.
deletion = mpa.start_active_approval_team_deletion(Arn=team_arn, PendingWindowDays=0)
assert "DeletionCompletionTime" in deletion, deletion
t = mpa.get_approval_team(Arn=team_arn)
assert t["Status"] == "ACTIVE" and t["StatusCode"] == "DELETE_PENDING_APPROVAL", t
fails("ConflictException", mpa.update_approval_team, Arn=team_arn, Description="meanwhile")
fails("ConflictException", mpa.delete_inactive_approval_team_version, Arn=team_arn,
      VersionId=t["VersionId"])
deleting = [s["SessionArn"] for s in mpa.list_sessions(ApprovalTeamArn=team_arn, Filters=[
    {"FieldName": "ActionName", "Operator": "EQ",
     "Value": "mpa:StartActiveApprovalTeamDeletion"}])["Sessions"]]
assert len(deleting) == 1, deleting
held(ops["kms"].disable_key, KeyId=key_id)
assert '"APPROVED"' in approve(deleting[0], "bob", "carol")
assert mpa.get_approval_team(Arn=team_arn)["Status"] == "INACTIVE"
ops["kms"].disable_key(KeyId=key_id)
assert ops["kms"].describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"] is False
mpa.delete_inactive_approval_team_version(Arn=team_arn, VersionId=t["VersionId"])
fails("ResourceNotFoundException", mpa.get_approval_team, Arn=team_arn)

# A new team guards the account again (left for the operator's attempts that follow).
guard = mpa.create_approval_team(
    ApprovalStrategy={"MofN": {"MinApprovalsRequired": 1}},
    Approvers=[{"PrimaryIdentityId": arns["alice"], "PrimaryIdentitySourceArn": SOURCE}],
    Description="again", Policies=[{"PolicyArn": PROTECTED}], Name="guard2")
waiting = held(ops["s3"].delete_bucket_policy, Bucket=BUCKET)

# Another tenant and the operator see none of it.
fails("ResourceNotFoundException", client("mpa", OTHER_KEY, OTHER_SECRET).get_session,
      SessionArn=disable)
fails("AccessDeniedException", client("mpa", OP_KEY, OP_SECRET).get_session, SessionArn=disable)

# --- All in the tenant's log: the held call (PendingApproval), the votes, and the run, as ops,
# under the approval session.
ct = root["cloudtrail"]


def events(name):
    return [json.loads(e["CloudTrailEvent"]) for page in ct.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])
        for e in page["Events"]]


disables = events("DisableKey")
pending = [e for e in disables if e.get("errorCode") == "PendingApproval"]
assert len(pending) == 4, pending
assert sorted(e["userIdentity"]["arn"] for e in pending)[:3] == sorted(
    [arns["ops"], arns["ops"], arns["alice"]]), pending
runs = [e for e in disables
        if (e.get("additionalEventData") or {}).get("approvalSession") == disable]
assert len(runs) == 1 and "errorCode" not in runs[0], disables
assert runs[0]["userIdentity"]["arn"] == arns["ops"], runs
refused = [e for e in events("DeleteBucketPolicy")
           if (e.get("additionalEventData") or {}).get("approvalSession") == delete_policy]
assert len(refused) == 1 and refused[0]["errorCode"] == "AccessDenied", refused
assert len(events("VoteOnSession")) >= 15
assert [e for e in events("StopLogging") if e.get("errorCode") == "PendingApproval"]
print(json.dumps({"waiting": waiting, "guard": guard["Arn"], "key": key_id, "bucket": BUCKET}))
print("ok")
