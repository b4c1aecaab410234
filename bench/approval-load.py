"""Load run (not a test): what the two-person rule costs a tenant (issue 18). Against a running
`hermetic serve`, as a new tenant: N DisableKey calls with no ProtectedOperations team (run at
once), then, with a team of one approver (M=1), N DisableKey calls held for approval
(`PendingApproval`: the request sealed into a new session) and the N approving votes, each of
which runs its held call as the caller before it answers. Sequential, one client: latencies,
not throughput.

Usage: .venv/bin/python bench/approval-load.py [URL] [DATA_DIR] [N]
(HERMETIC_BIN: the hermetic binary, default target/release/hermetic)
"""

import json
import os
import subprocess
import sys
import time

import boto3
import botocore.exceptions

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4566"
DATA_DIR = sys.argv[2] if len(sys.argv) > 2 else "hermetic-data"
N = int(sys.argv[3]) if len(sys.argv) > 3 else 200
HERMETIC = os.environ.get("HERMETIC_BIN", "target/release/hermetic")
PROTECTED = "arn:aws:mpa:::aws:policy/hermetic/ProtectedOperations/$DEFAULT"


def cli(*args):
    return json.loads(subprocess.run([HERMETIC, *args], check=True, capture_output=True,
                                     text=True).stdout)


invite = cli("account", "invite", f"approval-load-{time.time_ns()}", "--json", "--endpoint", URL,
             "--data-dir", DATA_DIR)
tenant = cli("account", "redeem", invite["InviteCode"], "--json", "--endpoint", URL)


def client(service, key, secret):
    return boto3.client(service, endpoint_url=URL, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret)


root = {s: client(s, tenant["AccessKeyId"], tenant["SecretAccessKey"])
        for s in ["iam", "kms", "mpa"]}
root["iam"].create_user(UserName="alice")
alice = root["iam"].create_access_key(UserName="alice")["AccessKey"]
root["iam"].put_user_policy(UserName="alice", PolicyName="approve", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "mpa:VoteOnSession",
                                            "Resource": "*"}]}))
alice_arn = root["iam"].get_user(UserName="alice")["User"]["Arn"]
keys = [root["kms"].create_key()["KeyMetadata"]["KeyId"] for _ in range(2 * N)]
time.sleep(0.2)

# The vote is our own operation (not in botocore's model): signed here and sent as is.
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402

alice_creds = Credentials(alice["AccessKeyId"], alice["SecretAccessKey"])


def vote(arn):
    url = f"{URL}/sessions/{urllib.parse.quote(arn, safe='')}?Vote"
    req = AWSRequest(method="POST", url=url, data=json.dumps({"Response": "APPROVE"}),
                     headers={"Content-Type": "application/json"})
    SigV4Auth(alice_creds, "mpa", "us-east-1").add_auth(req)
    prepared = req.prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    r = urllib.request.Request(prepared.url, data=body, method="POST",
                               headers=dict(prepared.headers))
    with urllib.request.urlopen(r) as answer:
        return json.loads(answer.read())


def timed(f, items):
    out = []
    for item in items:
        start = time.perf_counter()
        f(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(name, ms):
    ms = sorted(ms)
    print(f"{name}: n={len(ms)} p50={ms[len(ms) // 2]:.2f} ms p99={ms[int(len(ms) * 0.99)]:.2f} ms")


kms = root["kms"]
report("DisableKey, no team (runs at once)", timed(lambda k: kms.disable_key(KeyId=k), keys[:N]))
root["mpa"].create_approval_team(
    ApprovalStrategy={"MofN": {"MinApprovalsRequired": 1}},
    Approvers=[{"PrimaryIdentityId": alice_arn, "PrimaryIdentitySourceArn":
                f"arn:aws:mpa:us-east-1:{tenant['AccountId']}:identity-source/iam"}],
    Description="load", Policies=[{"PolicyArn": PROTECTED}], Name="load")
sessions = []


def hold(k):
    try:
        kms.disable_key(KeyId=k)
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "PendingApproval", e
        sessions.append(e.response["Error"]["Message"].split("in session ")[1].split(",")[0])
        return
    raise AssertionError("not held")


report("DisableKey held (PendingApproval, session opened)", timed(hold, keys[N:]))
report("VoteOnSession approving (and running the held DisableKey)",
       timed(lambda arn: vote(arn), sessions))
assert all(not kms.describe_key(KeyId=k)["KeyMetadata"]["Enabled"] for k in keys[N:N + 5])
