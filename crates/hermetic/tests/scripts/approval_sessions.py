"""Approval sessions (issue 18): the operator asks for access to a tenant account with
`hermetic access request`; the request is a session on the tenant's operator-access team, which
the tenant sees with boto3's `mpa` client (GetSession, ListSessions) and its approvers answer
with `hermetic approvals vote` under their own IAM credentials: M-1 approvals are not enough, an
approver's second answer does not count, a non-approver is refused, M approvals approve,
rejections that leave M out of reach fail it, the tenant cancels one; another tenant and the
operator see none of it; every step is in the tenant's own log.

Usage: approval_sessions.py URL ACCOUNT ROOT_KEY ROOT_SECRET OTHER_ACCOUNT OTHER_KEY OTHER_SECRET OP_KEY OP_SECRET HERMETIC DATA_DIR
Prints "ok" when every check held.
"""

import json
import subprocess
import sys
import time

import checks
from checks import clients, fails

(URL, ACCOUNT, KEY, SECRET, OTHER, OTHER_KEY, OTHER_SECRET, OP_KEY, OP_SECRET, HERMETIC,
 DATA_DIR) = sys.argv[1:12]
OPERATOR_ACCESS = "arn:aws:mpa:::aws:policy/hermetic/OperatorAccess/$DEFAULT"
SOURCE = f"arn:aws:mpa:us-east-1:{ACCOUNT}:identity-source/iam"


client = clients(URL)


def hermetic(*args, env=None):
    out = subprocess.run([HERMETIC, *args], capture_output=True, text=True, env=env)
    return out.returncode == 0, out.stdout + out.stderr


BUCKET = f"logs-{ACCOUNT}"
KEY_ARN = {}


def request(justification="support case 42", duration="900"):
    ok, out = hermetic("access", "request", "--account", ACCOUNT, "--actions",
                       "s3:ListBucket,s3:GetObject,kms:DescribeKey", "--resources",
                       f"arn:aws:s3:::{BUCKET},arn:aws:s3:::{BUCKET}/*,{KEY_ARN['arn']}",
                       "--duration-secs", duration, "--justification", justification, "--json",
                       "--endpoint", URL, "--data-dir", DATA_DIR)
    assert ok, out
    return json.loads(out)["SessionArn"]


def credentials(arn):
    return hermetic("access", "credentials", arn, "--json", "--endpoint", URL,
                    "--data-dir", DATA_DIR)


def as_operator(service, c):
    return client(service, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def vote(who, arn, answer):
    return checks.vote(HERMETIC, URL, who, arn, answer)


mpa = client("mpa", KEY, SECRET)
iam = client("iam", KEY, SECRET)

# Without a team for operator access, the operator has no way in.
ok, out = hermetic("access", "request", "--account", ACCOUNT, "--actions", "s3:ListBucket",
                   "--resources", f"arn:aws:s3:::logs-{ACCOUNT}", "--duration-secs", "900",
                   "--justification", "no team yet", "--json", "--endpoint", URL,
                   "--data-dir", DATA_DIR)
assert not ok and "ResourceNotFoundException" in out, out
# Nor with bad scopes.
for bad in [["--actions", "s3:*"], ["--resources", "*"], ["--duration-secs", "4"],
            ["--resources", f"arn:aws:kms:us-east-1:{OTHER}:key/k"]]:
    args = {"--actions": "s3:ListBucket", "--resources": f"arn:aws:s3:::logs-{ACCOUNT}",
            "--duration-secs": "900"}
    args[bad[0]] = bad[1]
    flat = [x for kv in args.items() for x in kv]
    ok, out = hermetic("access", "request", "--account", ACCOUNT, *flat, "--justification", "x",
                       "--endpoint", URL, "--data-dir", DATA_DIR)
    assert not ok and "ValidationException" in out, (bad, out)

# The team: three approvers, two needed; each may answer sessions.
creds = {}
for name in ["alice", "bob", "carol", "dave"]:
    iam.create_user(UserName=name)
    creds[name] = iam.create_access_key(UserName=name)["AccessKey"]
    iam.put_user_policy(UserName=name, PolicyName="approve", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["mpa:VoteOnSession", "mpa:GetSession"], "Resource": "*"}]}))
arns = {n: iam.get_user(UserName=n)["User"]["Arn"] for n in creds}
team = mpa.create_approval_team(
    ApprovalStrategy={"MofN": {"MinApprovalsRequired": 2}},
    Approvers=[{"PrimaryIdentityId": arns[n], "PrimaryIdentitySourceArn": SOURCE}
               for n in ["alice", "bob", "carol"]],
    Description="support access", Policies=[{"PolicyArn": OPERATOR_ACCESS}], Name="support")
team_arn = team["Arn"]
# What the operator will ask to read: a bucket with an object, and a key whose policy names
# only alice (it does not delegate to the account's IAM policies).
s3 = client("s3", KEY, SECRET)
s3.create_bucket(Bucket=BUCKET)
s3.put_object(Bucket=BUCKET, Key="app.log", Body=b"line 1\n")
kms = client("kms", KEY, SECRET)
KEY_ARN["arn"] = kms.create_key(BypassPolicyLockoutSafetyCheck=True, Policy=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": arns["alice"]}, "Action": "kms:*", "Resource": "*"}]}))["KeyMetadata"]["Arn"]
time.sleep(0.2)

# A request, seen by the tenant.
first = request()
assert first.startswith(f"arn:aws:mpa:us-east-1:{ACCOUNT}:session/"), first
listed = mpa.list_sessions(ApprovalTeamArn=team_arn)["Sessions"]
assert [s["SessionArn"] for s in listed] == [first], listed
got = mpa.get_session(SessionArn=first)
assert got["Status"] == "PENDING", got
assert got["RequesterComment"] == "support case 42", got
assert got["RequesterPrincipalArn"] == "arn:aws:iam::000000000000:user/operator", got
assert got["ApprovalStrategy"] == {"MofN": {"MinApprovalsRequired": 2}}, got
assert sorted(r["Response"] for r in got["ApproverResponses"]) == ["NO_RESPONSE"] * 3, got
assert got["Metadata"]["Actions"] == "s3:ListBucket,s3:GetObject,kms:DescribeKey", got
ok, out = credentials(first)
assert not ok and "PENDING" in out, out

# M-1 approvals are not enough; a second answer does not count; a non-approver is refused.
ok, out = vote(creds["alice"], first, "approve")
assert ok and '"PENDING"' in out, out
ok, out = vote(creds["alice"], first, "approve")
assert not ok and "ConflictException" in out, out
ok, out = vote(creds["dave"], first, "approve")
assert not ok and "AccessDeniedException" in out, out
assert mpa.get_session(SessionArn=first)["Status"] == "PENDING"
# The M-th approval approves.
ok, out = vote(creds["bob"], first, "approve")
assert ok and '"APPROVED"' in out, out
got = mpa.get_session(SessionArn=first)
assert got["Status"] == "APPROVED" and "CompletionTime" in got, got
answers = {r["IdentityId"]: r["Response"] for r in got["ApproverResponses"]}
assert answers == {arns["alice"]: "APPROVE", arns["bob"]: "APPROVE", arns["carol"]: "NO_RESPONSE"}, answers
ok, out = vote(creds["carol"], first, "reject")
assert not ok and "ConflictException" in out, out

# The approved access: a principal of the tenant account, exactly the approved scope.
ok, out = credentials(first)
assert ok, out
access = json.loads(out)
assert sorted(access) == ["AccessKeyId", "Expiration", "SecretAccessKey", "SessionToken"], access
session_id = first.rsplit("/", 1)[1]
who = as_operator("sts", access).get_caller_identity()
assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/HermeticOperatorAccess/{session_id}", who
assert who["Account"] == ACCOUNT, who
op_s3 = as_operator("s3", access)
assert [o["Key"] for o in op_s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["app.log"]
assert op_s3.get_object(Bucket=BUCKET, Key="app.log")["Body"].read() == b"line 1\n"
fails("AccessDenied", op_s3.put_object, Bucket=BUCKET, Key="x", Body=b"x")
fails("AccessDenied", as_operator("iam", access).list_users)
# Approval never bypasses a key policy.
fails("AccessDeniedException", as_operator("kms", access).describe_key, KeyId=KEY_ARN["arn"])

# Rejections that leave M out of reach fail the session.
second = request("another case")
ok, out = vote(creds["carol"], second, "reject")
assert ok and '"PENDING"' in out, out
ok, out = vote(creds["bob"], second, "reject")
assert ok and '"FAILED"' in out, out
got = mpa.get_session(SessionArn=second)
assert got["Status"] == "FAILED" and got["StatusCode"] == "REJECTED", got

ok, out = credentials(second)
assert not ok and "FAILED" in out, out

# The tenant cancels the approved access: the next request with its credentials is refused.
mpa.cancel_session(SessionArn=first)
fails("ExpiredToken", op_s3.list_objects_v2, Bucket=BUCKET)
ok, out = credentials(first)
assert not ok and "CANCELLED" in out, out

# An approved access ends with its duration: the next request is refused, and no new
# credentials are given.
brief = request("a brief look", duration="5")
for who in ["alice", "carol"]:
    ok, out = vote(creds[who], brief, "approve")
    assert ok, out
ok, out = credentials(brief)
assert ok, out
brief_s3 = as_operator("s3", json.loads(out))
assert brief_s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1
time.sleep(6)
fails("ExpiredToken", brief_s3.list_objects_v2, Bucket=BUCKET)
ok, out = credentials(brief)
assert not ok and "has ended" in out, out

# The tenant cancels a request; no answer is taken after.
third = request("a third case")
mpa.cancel_session(SessionArn=third)
assert mpa.get_session(SessionArn=third)["Status"] == "CANCELLED"
ok, out = vote(creds["alice"], third, "approve")
assert not ok and "ConflictException" in out, out
fails("ConflictException", mpa.cancel_session, SessionArn=third)
assert len(mpa.list_sessions(ApprovalTeamArn=team_arn)["Sessions"]) == 4
ok, out = credentials(third)
assert not ok and "CANCELLED" in out, out

# Changing the team needs the team: an update waits for M of the approvers the team has now.
before = mpa.get_approval_team(Arn=team_arn)
upd = mpa.update_approval_team(
    Arn=team_arn, ApprovalStrategy={"MofN": {"MinApprovalsRequired": 1}},
    Approvers=[{"PrimaryIdentityId": arns[n], "PrimaryIdentitySourceArn": SOURCE}
               for n in ["alice", "dave"]])
assert upd["VersionId"] == "2", upd
t = mpa.get_approval_team(Arn=team_arn)
assert t["ApprovalStrategy"] == {"MofN": {"MinApprovalsRequired": 2}}, t
assert t["NumberOfApprovers"] == 3 and t["VersionId"] == before["VersionId"], t
assert t["StatusCode"] == "UPDATE_PENDING_APPROVAL", t
assert t["PendingUpdate"]["NumberOfApprovers"] == 2, t
update_session = t["UpdateSessionArn"]
assert mpa.get_session(SessionArn=update_session)["ActionName"] == "mpa:UpdateApprovalTeam"
fails("ConflictException", mpa.update_approval_team, Arn=team_arn, Description="again")
# Its proposed approver has no say yet; one current approver is not enough, two are.
ok, out = vote(creds["dave"], update_session, "approve")
assert not ok and "AccessDeniedException" in out, out
ok, out = vote(creds["alice"], update_session, "approve")
assert ok and '"PENDING"' in out, out
ok, out = vote(creds["carol"], update_session, "approve")
assert ok and '"APPROVED"' in out, out
t = mpa.get_approval_team(Arn=team_arn)
assert t["ApprovalStrategy"] == {"MofN": {"MinApprovalsRequired": 1}}, t
assert sorted(a["PrimaryIdentityId"] for a in t["Approvers"]) == sorted([arns["alice"], arns["dave"]]), t
assert t["VersionId"] == "2" and "PendingUpdate" not in t and "UpdateSessionArn" not in t, t
alice_id = [a["ApproverId"] for a in before["Approvers"] if a["PrimaryIdentityId"] == arns["alice"]]
assert alice_id == [a["ApproverId"] for a in t["Approvers"] if a["PrimaryIdentityId"] == arns["alice"]]
# A cancelled update changes nothing, and the next may start.
mpa.update_approval_team(Arn=team_arn, Description="cancelled change")
pending = mpa.get_approval_team(Arn=team_arn)["UpdateSessionArn"]
mpa.cancel_session(SessionArn=pending)
t = mpa.get_approval_team(Arn=team_arn)
assert t["Description"] == "support access" and "PendingUpdate" not in t, t
# The new team decides the next request: one of alice and dave.
fourth = request("after the update")
ok, out = vote(creds["dave"], fourth, "approve")
assert ok and '"APPROVED"' in out, out
ok, out = vote(creds["bob"], fourth, "approve")
assert not ok, out

# An approver is the user, not its name: dave deleted and made again (by an administrator who
# then holds the new dave's keys) is no approver.
iam.delete_user_policy(UserName="dave", PolicyName="approve")
iam.delete_access_key(UserName="dave", AccessKeyId=creds["dave"]["AccessKeyId"])
iam.delete_user(UserName="dave")
iam.create_user(UserName="dave")
iam.put_user_policy(UserName="dave", PolicyName="approve", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["mpa:VoteOnSession"], "Resource": "*"}]}))
impostor = iam.create_access_key(UserName="dave")["AccessKey"]
time.sleep(0.2)
fifth = request("after dave was replaced")
ok, out = vote(impostor, fifth, "approve")
assert not ok and "AccessDeniedException" in out, out
ok, out = vote(creds["alice"], fifth, "approve")
assert ok and '"APPROVED"' in out, out

# Break-glass: refused unless the tenant allowed it in advance (a tag on its operator-access
# team); then open at once, for at most an hour, listed as break-glass, its approvers named in
# the tenant's log; the tenant can still cancel it.
def break_glass(duration):
    return hermetic("access", "request", "--account", ACCOUNT, "--actions", "s3:ListBucket",
                    "--resources", f"arn:aws:s3:::{BUCKET}", "--duration-secs", duration,
                    "--justification", "outage: the tenant's pager is down", "--break-glass",
                    "--json", "--endpoint", URL, "--data-dir", DATA_DIR)


ok, out = break_glass("600")
assert not ok and "AccessDeniedException" in out and "break-glass" in out, out
mpa.tag_resource(ResourceArn=team_arn, Tags={"hermetic:break-glass": "enabled"})
ok, out = break_glass("3601")
assert not ok and "ValidationException" in out, out
ok, out = hermetic("access", "request", "--account", ACCOUNT, "--actions", "iam:CreateAccessKey",
                   "--resources", f"arn:aws:iam::{ACCOUNT}:user/alice", "--duration-secs", "600",
                   "--justification", "x", "--break-glass", "--endpoint", URL, "--data-dir", DATA_DIR)
assert not ok and "ValidationException" in out and "iam" in out, out
ok, out = break_glass("600")
assert ok, out
glass = json.loads(out)["SessionArn"]
ok, out = break_glass("600")
assert not ok and "ConflictException" in out, out
got = mpa.get_session(SessionArn=glass)
assert got["Status"] == "APPROVED" and got["ActionName"] == "hermetic:BreakGlassAccess", got
assert got["Description"].startswith("BREAK-GLASS"), got
assert all(r["Response"] == "NO_RESPONSE" for r in got["ApproverResponses"]), got
listed = mpa.list_sessions(ApprovalTeamArn=team_arn, Filters=[
    {"FieldName": "ActionName", "Operator": "EQ", "Value": "hermetic:BreakGlassAccess"}])
assert [s["SessionArn"] for s in listed["Sessions"]] == [glass], listed
ok, out = credentials(glass)
assert ok, out
glass_s3 = as_operator("s3", json.loads(out))
assert glass_s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1
fails("AccessDenied", glass_s3.get_object, Bucket=BUCKET, Key="app.log")
mpa.cancel_session(SessionArn=glass)
fails("ExpiredToken", glass_s3.list_objects_v2, Bucket=BUCKET)
ct = client("cloudtrail", KEY, SECRET)
opened = [json.loads(e["CloudTrailEvent"]) for page in ct.get_paginator("lookup_events").paginate(
    LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "RequestAccess"}])
    for e in page["Events"]]
glass_events = [e for e in opened if (e.get("responseElements") or {}).get("BreakGlass")]
assert len(glass_events) == 1, opened
notified = glass_events[0]["responseElements"]["ApproversNotified"]
assert sorted(notified) == sorted(a["PrimaryIdentityId"] for a in mpa.get_approval_team(
    Arn=team_arn)["Approvers"]), glass_events
assert [e for e in opened if e.get("errorCode") == "AccessDeniedException"
        and e["requestParameters"]["breakGlass"]], opened

# Another tenant and the operator see none of it.
other = client("mpa", OTHER_KEY, OTHER_SECRET)
fails("ResourceNotFoundException", other.get_session, SessionArn=first)
fails("AccessDeniedException", client("mpa", OP_KEY, OP_SECRET).get_session, SessionArn=first)

# Every step is in the tenant's own log.
names = {}
for page in ct.get_paginator("lookup_events").paginate():
    for e in page["Events"]:
        names[e["EventName"]] = names.get(e["EventName"], 0) + 1
assert names.get("RequestAccess", 0) >= 9, names  # seven sessions, two refused
assert names.get("UpdateApprovalTeam", 0) >= 3, names
assert names.get("VoteOnSession", 0) >= 8, names
assert names.get("CancelSession", 0) >= 4, names
assert names.get("GetAccessCredentials", 0) >= 4, names
# What the operator did with the access is in the tenant's log, under the approval session.
refused = [json.loads(e["CloudTrailEvent"]) for page in ct.get_paginator("lookup_events").paginate(
    LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListUsers"}])
    for e in page["Events"]]
assert any(session_id in e["userIdentity"]["arn"] for e in refused), refused
print("ok")
