"""MFA, session tags, source identity, DecodeAuthorizationMessage, last-used keys and the
audit trail of sessions, driven by boto3 against a running `hermetic serve`.

Usage: mfa_sessions.py URL ACCOUNT ROOT_KEY ROOT_SECRET. Exits non-zero on the first failed
check. TOTP codes are computed here with the standard library (RFC 6238), independently of the
server's implementation.
"""

import base64
import hashlib
import hmac
import json
import struct
import sys
import time

import boto3
from checks import fails

URL, ACCOUNT, ROOT_KEY, ROOT_SECRET = sys.argv[1:5]


def client(service, key, secret, token=None):
    return boto3.client(
        service,
        endpoint_url=URL,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def creds_of(response):
    c = response["Credentials"]
    return c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]


def totp(seed, step):
    digest = hmac.new(seed, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[19] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1_000_000)


iam = client("iam", ROOT_KEY, ROOT_SECRET)
sts_root = client("sts", ROOT_KEY, ROOT_SECRET)

# Alice may read herself; listing users needs MFA.
iam.create_user(UserName="alice")
iam.put_user_policy(
    UserName="alice",
    PolicyName="base",
    PolicyDocument=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["iam:GetUser", "sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": "iam:ListUsers",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                },
            ],
        }
    ),
)
key = iam.create_access_key(UserName="alice")["AccessKey"]
alice_iam = client("iam", key["AccessKeyId"], key["SecretAccessKey"])
alice_sts = client("sts", key["AccessKeyId"], key["SecretAccessKey"])

# A virtual MFA device: the seed comes back once, as base32 text.
device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")["VirtualMFADevice"]
serial = device["SerialNumber"]
assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/alice-phone", serial
seed_text = device["Base32StringSeed"].decode()
seed = base64.b32decode(seed_text + "=" * (-len(seed_text) % 8))
fails("EntityAlreadyExists", iam.create_virtual_mfa_device, VirtualMFADeviceName="alice-phone")

step = int(time.time()) // 30
fails(
    "InvalidAuthenticationCode",
    iam.enable_mfa_device,
    UserName="alice",
    SerialNumber=serial,
    AuthenticationCode1=totp(seed, step - 1),
    AuthenticationCode2=totp(seed, step - 3),
)
iam.enable_mfa_device(
    UserName="alice",
    SerialNumber=serial,
    AuthenticationCode1=totp(seed, step - 2),
    AuthenticationCode2=totp(seed, step - 1),
)
devices = iam.list_mfa_devices(UserName="alice")["MFADevices"]
assert [d["SerialNumber"] for d in devices] == [serial], devices
assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
assert assigned[0]["User"]["UserName"] == "alice", assigned
assert iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"] == []

# Long-term keys carry no MFA: the conditional allow does not apply.
message = fails("AccessDenied", alice_iam.list_users)["Error"]["Message"]
assert "because no identity-based policy allows the iam:ListUsers action" in message, message
encoded = message.split("Encoded authorization failure message: ")[1]
decoded = json.loads(sts_root.decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
assert decoded["allowed"] is False and decoded["explicitDeny"] is False, decoded
assert decoded["context"]["action"] == "iam:ListUsers", decoded
assert decoded["context"]["principal"]["arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice", decoded
fails(
    "InvalidAuthorizationMessageException",
    sts_root.decode_authorization_message,
    EncodedMessage=encoded[:-4] + ("AAAA" if not encoded.endswith("AAAA") else "BBBB"),
)
# Alice has no permission to decode.
fails("AccessDenied", alice_sts.decode_authorization_message, EncodedMessage=encoded)

# GetSessionToken without MFA: the session cannot call IAM at all.
plain = client("iam", *creds_of(alice_sts.get_session_token(DurationSeconds=900)))
fails("AccessDenied", plain.get_user)

# With MFA (the next code): the session is MFA-authenticated; a code works once.
mfa_creds = creds_of(
    alice_sts.get_session_token(SerialNumber=serial, TokenCode=totp(seed, step))
)
fails(
    "AccessDenied",
    alice_sts.get_session_token,
    SerialNumber=serial,
    TokenCode=totp(seed, step),
)
fails("AccessDenied", alice_sts.get_session_token, SerialNumber=serial, TokenCode="000000")
mfa_iam = client("iam", *mfa_creds)
names = [u["UserName"] for u in mfa_iam.list_users()["Users"]]
assert names == ["alice"], names

# A role that demands MFA, takes session tags and a source identity.
trust = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    ],
}
iam.create_role(RoleName="admin", AssumeRolePolicyDocument=json.dumps(trust))
role_arn = f"arn:aws:iam::{ACCOUNT}:role/admin"
iam.put_role_policy(
    RoleName="admin",
    PolicyName="by-team",
    PolicyDocument=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iam:ListUsers",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}},
                },
                {
                    "Effect": "Allow",
                    "Action": "iam:GetRole",
                    "Resource": "*",
                    "Condition": {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}},
                },
                {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": "*"},
            ],
        }
    ),
)
fails("AccessDenied", alice_sts.assume_role, RoleArn=role_arn, RoleSessionName="no-mfa")
assumed = alice_sts.assume_role(
    RoleArn=role_arn,
    RoleSessionName="alice-admin",
    SerialNumber=serial,
    TokenCode=totp(seed, step + 1),
    Tags=[{"Key": "team", "Value": "blue"}, {"Key": "project", "Value": "x"}],
    TransitiveTagKeys=["team"],
    SourceIdentity="alice",
)
assert assumed["SourceIdentity"] == "alice", assumed
assert 0 < assumed["PackedPolicySize"] <= 100, assumed
role_iam = client("iam", *creds_of(assumed))
role_sts = client("sts", *creds_of(assumed))
assert [u["UserName"] for u in role_iam.list_users()["Users"]] == ["alice"]
assert role_iam.get_role(RoleName="admin")["Role"]["Arn"] == role_arn

# Chaining: the transitive tag and the source identity carry over and cannot be changed.
iam.create_role(
    RoleName="auditor",
    AssumeRolePolicyDocument=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                }
            ],
        }
    ),
)
iam.put_role_policy(
    RoleName="auditor",
    PolicyName="read",
    PolicyDocument=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iam:ListUsers",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "aws:PrincipalTag/team": "blue",
                            "aws:SourceIdentity": "alice",
                            "aws:MultiFactorAuthPresent": "true",
                        }
                    },
                }
            ],
        }
    ),
)
auditor_arn = f"arn:aws:iam::{ACCOUNT}:role/auditor"
fails(
    "InvalidParameterValue",
    role_sts.assume_role,
    RoleArn=auditor_arn,
    RoleSessionName="chained",
    Tags=[{"Key": "team", "Value": "red"}],
)
fails(
    "AccessDenied",
    role_sts.assume_role,
    RoleArn=auditor_arn,
    RoleSessionName="chained",
    SourceIdentity="mallory",
)
chained = role_sts.assume_role(RoleArn=auditor_arn, RoleSessionName="chained")
assert chained["SourceIdentity"] == "alice", chained
chained_iam = client("iam", *creds_of(chained))
assert [u["UserName"] for u in chained_iam.list_users()["Users"]] == ["alice"]
chained_sts = client("sts", *creds_of(chained))
assert chained_sts.get_caller_identity()["Arn"] == (
    f"arn:aws:sts::{ACCOUNT}:assumed-role/auditor/chained"
)

# Last use of alice's key is known.
last = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
assert last["UserName"] == "alice", last
assert last["AccessKeyLastUsed"]["ServiceName"] in ("iam", "sts"), last
assert last["AccessKeyLastUsed"]["Region"] == "us-east-1", last
assert "LastUsedDate" in last["AccessKeyLastUsed"], last

# Devices in use cannot be deleted, nor their users.
fails("DeleteConflict", iam.delete_virtual_mfa_device, SerialNumber=serial)
iam.delete_user_policy(UserName="alice", PolicyName="base")
iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
fails("DeleteConflict", iam.delete_user, UserName="alice")
iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
iam.delete_virtual_mfa_device(SerialNumber=serial)
fails("NoSuchEntity", iam.delete_virtual_mfa_device, SerialNumber=serial)

# The trail: the role session's calls are AssumedRole with MFA and the source identity; no
# event holds the seed.
trail = client("cloudtrail", ROOT_KEY, ROOT_SECRET)
events = []
for page in trail.get_paginator("lookup_events").paginate():
    events.extend(page["Events"])
records = [json.loads(e["CloudTrailEvent"]) for e in events]
by_role = [
    r
    for r in records
    if r["eventName"] == "ListUsers"
    and r["userIdentity"].get("arn", "").endswith("assumed-role/admin/alice-admin")
]
assert by_role, "the role session's ListUsers is in the trail"
identity = by_role[0]["userIdentity"]
assert identity["type"] == "AssumedRole", identity
assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "true", identity
assert identity["sessionContext"]["sourceIdentity"] == "alice", identity
assert identity["sessionContext"]["sessionIssuer"]["arn"] == role_arn, identity
assume_events = [r for r in records if r["eventName"] == "AssumeRole" and "errorCode" not in r]
assert any(r["requestParameters"].get("serialNumber") == serial for r in assume_events)
everything = json.dumps(records)
assert seed_text not in everything, "the MFA seed never reaches the trail"
assert mfa_creds[1] not in everything and mfa_creds[2] not in everything
print("ok")
