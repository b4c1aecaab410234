"""Held operations across a crash (issue 18): the server is killed while approvals of held
DisableKey calls are in flight; after a restart every approved one has run exactly once (the
sweep runs what the stop left approved but not run), no unapproved one has, and each run is in
the tenant's log once.

Usage:
  approval_crash.py setup URL ACCOUNT ROOT_KEY ROOT_SECRET N
      prints {"alice": {AccessKeyId, SecretAccessKey}, "holds": [[SESSION_ARN, KEY_ID], ...]}, ok
  approval_crash.py vote URL HERMETIC ALICE_KEY ALICE_SECRET ARN...
      approves each session, 8 at a time; prints each ARN whose approval was answered
  approval_crash.py check URL ROOT_KEY ROOT_SECRET HOLDS_JSON
      prints "ok" when every check held
"""

import json
import sys
import threading
import time

import checks
from checks import clients, fails

PROTECTED = "arn:aws:mpa:::aws:policy/hermetic/ProtectedOperations/$DEFAULT"
mode, URL = sys.argv[1:3]
client = clients(URL)

if mode == "setup":
    ACCOUNT, KEY, SECRET, N = sys.argv[3:7]
    iam, mpa, kms = (client(s, KEY, SECRET) for s in ["iam", "mpa", "kms"])
    iam.create_user(UserName="alice")
    alice = iam.create_access_key(UserName="alice")["AccessKey"]
    iam.put_user_policy(UserName="alice", PolicyName="approve", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "mpa:VoteOnSession", "Resource": "*"}]}))
    keys = [kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(int(N))]
    mpa.create_approval_team(
        ApprovalStrategy={"MofN": {"MinApprovalsRequired": 1}},
        Approvers=[{"PrimaryIdentityId": iam.get_user(UserName="alice")["User"]["Arn"],
                    "PrimaryIdentitySourceArn":
                        f"arn:aws:mpa:us-east-1:{ACCOUNT}:identity-source/iam"}],
        Description="guard", Policies=[{"PolicyArn": PROTECTED}], Name="guard")
    holds = []
    for key in keys:
        message = fails("PendingApproval", kms.disable_key, KeyId=key)["Error"]["Message"]
        holds.append([message.split("in session ")[1].split(",")[0], key])
    print(json.dumps({"alice": {"AccessKeyId": alice["AccessKeyId"],
                                "SecretAccessKey": alice["SecretAccessKey"]}, "holds": holds}))
    print("ok")

elif mode == "vote":
    HERMETIC, ALICE_KEY, ALICE_SECRET = sys.argv[3:6]
    arns = sys.argv[6:]
    alice = {"AccessKeyId": ALICE_KEY, "SecretAccessKey": ALICE_SECRET}
    lock = threading.Lock()

    def run(part):
        for arn in part:
            ok, _ = checks.vote(HERMETIC, URL, alice, arn, "approve")
            if ok:
                with lock:
                    print(arn, flush=True)

    threads = [threading.Thread(target=run, args=(arns[i::8],)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]

elif mode == "check":
    KEY, SECRET, HOLDS = sys.argv[3:6]
    holds = json.loads(HOLDS)
    mpa, kms, ct = (client(s, KEY, SECRET) for s in ["mpa", "kms", "cloudtrail"])
    # The sweep runs at start, then every checkpoint interval (1 s here).
    deadline = time.time() + 30
    while True:
        sessions = {arn: mpa.get_session(SessionArn=arn) for arn, _ in holds}
        waiting = [a for a, s in sessions.items()
                   if s["Status"] == "APPROVED" and s.get("ExecutionStatus") != "EXECUTED"]
        if not waiting or time.time() > deadline:
            break
        time.sleep(0.5)
    assert not waiting, f"approved but never run: {waiting}"
    runs = {}
    for page in ct.get_paginator("lookup_events").paginate(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "DisableKey"}]):
        for e in page["Events"]:
            event = json.loads(e["CloudTrailEvent"])
            arn = (event.get("additionalEventData") or {}).get("approvalSession")
            if arn:
                runs[arn] = runs.get(arn, 0) + 1
    approved = 0
    for arn, key in holds:
        s = sessions[arn]
        enabled = kms.describe_key(KeyId=key)["KeyMetadata"]["Enabled"]
        if s["Status"] == "APPROVED":
            approved += 1
            assert s["ExecutionStatus"] == "EXECUTED" and not enabled, (s, enabled)
            assert runs.get(arn) == 1, (arn, runs.get(arn))
        else:
            assert s["Status"] == "PENDING" and enabled and arn not in runs, (s, enabled)
    print(json.dumps({"approved": approved, "pending": len(holds) - approved}))
    print("ok")
