"""MFA, session tags, source identity, DecodeAuthorizationMessage, last-used keys and the
audit trail of sessions, driven by boto3 against a running `hermetic serve`, one feature per
run.

Usage: mfa_sessions.py URL ACCOUNT ROOT_KEY ROOT_SECRET FEATURE. FEATURE names one of the
functions in FEATURES (at the bottom); each makes the users, devices and roles it needs, so it
runs alone on a fresh server. Exits non-zero on the first failed check, prints "ok" when every
check held. TOTP codes are computed here with the standard library (RFC 6238), independently of
the server's implementation.
"""

import base64
import json
import sys
import time

import boto3
from checks import fails, totp

URL, ACCOUNT, ROOT_KEY, ROOT_SECRET, FEATURE = sys.argv[1:6]


# --- shared setup


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


iam = client("iam", ROOT_KEY, ROOT_SECRET)
sts_root = client("sts", ROOT_KEY, ROOT_SECRET)
role_arn = f"arn:aws:iam::{ACCOUNT}:role/admin"


def make_alice():
    """Alice may read herself; listing users needs MFA. Returns her access key and her IAM and
    STS clients."""
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
    return key, alice_iam, alice_sts


def alice_device():
    """Alice's virtual MFA device alice-phone, enabled with the two codes before the current
    one. Returns its serial, its seed as base32 text and as bytes, and the current TOTP step."""
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")["VirtualMFADevice"]
    serial = device["SerialNumber"]
    seed_text = device["Base32StringSeed"].decode()
    seed = base64.b32decode(seed_text + "=" * (-len(seed_text) % 8))
    step = int(time.time()) // 30
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=serial,
        AuthenticationCode1=totp(seed, step - 2),
        AuthenticationCode2=totp(seed, step - 1),
    )
    return serial, seed_text, seed, step


def admin_role():
    """A role that demands MFA, takes session tags and a source identity; it may list users for
    sessions tagged team=blue and read roles."""
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


def assume_admin(alice_sts, serial, seed, step):
    """Alice's session in the admin role, with MFA (the code after the current one), the tags
    team=blue (transitive) and project=x, and the source identity alice."""
    return alice_sts.assume_role(
        RoleArn=role_arn,
        RoleSessionName="alice-admin",
        SerialNumber=serial,
        TokenCode=totp(seed, step + 1),
        Tags=[{"Key": "team", "Value": "blue"}, {"Key": "project", "Value": "x"}],
        TransitiveTagKeys=["team"],
        SourceIdentity="alice",
    )


# --- features


def virtual_mfa_device():
    """A virtual MFA device: seed shown once, enabled by two consecutive codes, listed as assigned."""
    make_alice()
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


def decode_authorization_message():
    """Long-term keys carry no MFA; the denial's message decodes only for callers allowed to, untampered."""
    _, alice_iam, alice_sts = make_alice()
    alice_device()
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


def session_tokens():
    """GetSessionToken: without MFA no IAM at all; with MFA an MFA session, each code used once."""
    _, _, alice_sts = make_alice()
    serial, _, seed, step = alice_device()
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


def role_with_mfa_tags_source_identity():
    """A role demanding MFA is assumed with MFA, session tags and a source identity its policy checks."""
    _, _, alice_sts = make_alice()
    serial, _, seed, step = alice_device()
    admin_role()
    fails("AccessDenied", alice_sts.assume_role, RoleArn=role_arn, RoleSessionName="no-mfa")
    assumed = assume_admin(alice_sts, serial, seed, step)
    assert assumed["SourceIdentity"] == "alice", assumed
    assert 0 < assumed["PackedPolicySize"] <= 100, assumed
    role_iam = client("iam", *creds_of(assumed))
    assert [u["UserName"] for u in role_iam.list_users()["Users"]] == ["alice"]
    assert role_iam.get_role(RoleName="admin")["Role"]["Arn"] == role_arn


def role_chaining():
    """Chained sessions keep the transitive tag, the source identity and MFA, and cannot change them."""
    _, _, alice_sts = make_alice()
    serial, _, seed, step = alice_device()
    admin_role()
    role_sts = client("sts", *creds_of(assume_admin(alice_sts, serial, seed, step)))
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


def access_key_last_used():
    """An access key's last use is known: by whom, for which service, where and when."""
    key, alice_iam, _ = make_alice()
    alice_iam.get_user()
    last = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert last["UserName"] == "alice", last
    assert last["AccessKeyLastUsed"]["ServiceName"] in ("iam", "sts"), last
    assert last["AccessKeyLastUsed"]["Region"] == "us-east-1", last
    assert "LastUsedDate" in last["AccessKeyLastUsed"], last


def deletion_conflicts():
    """MFA devices in use cannot be deleted, nor their users; a deactivated device is deleted once."""
    key, _, _ = make_alice()
    serial, _, _, _ = alice_device()
    fails("DeleteConflict", iam.delete_virtual_mfa_device, SerialNumber=serial)
    iam.delete_user_policy(UserName="alice", PolicyName="base")
    iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
    fails("DeleteConflict", iam.delete_user, UserName="alice")
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    fails("NoSuchEntity", iam.delete_virtual_mfa_device, SerialNumber=serial)


def trail():
    """Role sessions are AssumedRole with MFA and source identity in the trail; no seed or secret is."""
    _, _, alice_sts = make_alice()
    serial, seed_text, seed, step = alice_device()
    mfa_creds = creds_of(
        alice_sts.get_session_token(SerialNumber=serial, TokenCode=totp(seed, step))
    )
    client("iam", *mfa_creds).list_users()
    admin_role()
    role_iam = client("iam", *creds_of(assume_admin(alice_sts, serial, seed, step)))
    role_iam.list_users()
    cloudtrail = client("cloudtrail", ROOT_KEY, ROOT_SECRET)
    events = []
    for page in cloudtrail.get_paginator("lookup_events").paginate():
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


FEATURES = {f.__name__: f for f in [
    virtual_mfa_device, decode_authorization_message, session_tokens,
    role_with_mfa_tags_source_identity, role_chaining, access_key_last_used,
    deletion_conflicts, trail,
]}

if __name__ == "__main__":
    if FEATURE not in FEATURES:
        sys.exit(f"unknown feature {FEATURE!r}; one of {', '.join(FEATURES)}")
    FEATURES[FEATURE]()
    print("ok")
