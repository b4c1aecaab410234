"""Credentials that must stop working, through boto3 against a running `hermetic serve`:

- a role session outlives its role only as a refusal: delete the role, make one with the same
  name (and the same policies), and the old session's calls and presigned URLs are refused,
  while a session of the new role works (sessions are bound to the role's unique id, as in AWS);
- a user's session (GetSessionToken) is bound to the user's unique id the same way: delete the
  user, make one of the same name, and the old session is refused;
- a long-term key (the tenant's root key, a user's key) sent with a session token is refused
  (`InvalidClientTokenId`; S3 answers `InvalidToken`), as AWS refuses it.

Prints "ok" when every check holds; any other outcome raises.

Usage: stale_credentials.py URL ACCOUNT KEY SECRET
"""

import json
import sys
import urllib.error
import urllib.request

import boto3
import botocore.config
import botocore.exceptions

URL, ACCOUNT, KEY, SECRET = sys.argv[1:5]
CONFIG = botocore.config.Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"})
# Presigned S3 URLs with SigV4 (botocore presigns S3 with SigV2 unless told).
S3_CONFIG = CONFIG.merge(botocore.config.Config(signature_version="s3v4"))


def client(service, key, secret, token=None):
    return boto3.client(service, endpoint_url=URL, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token,
                        config=S3_CONFIG if service == "s3" else CONFIG)


def refused(expected, call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
        assert code == expected, (call, code, e.response["Error"])
        return
    raise AssertionError(f"{call} was not refused")


def get_status(url):
    try:
        with urllib.request.urlopen(url) as answer:
            return answer.status
    except urllib.error.HTTPError as e:
        return e.code


iam = client("iam", KEY, SECRET)
sts = client("sts", KEY, SECRET)
s3 = client("s3", KEY, SECRET)
s3.create_bucket(Bucket="stale-creds")
s3.put_object(Bucket="stale-creds", Key="k", Body=b"tenant bytes")

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["s3:GetObject", "iam:ListUsers"], "Resource": "*"}]})


def make_role():
    arn = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName="reader", PolicyName="read", PolicyDocument=POLICY)
    return arn


def session(role_arn):
    c = sts.assume_role(RoleArn=role_arn, RoleSessionName="s1")["Credentials"]
    return c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]


# --- a role session bound to its role's unique id
role_arn = make_role()
old = session(role_arn)
client("iam", *old).list_users()
old_s3 = client("s3", *old)
assert old_s3.get_object(Bucket="stale-creds", Key="k")["Body"].read() == b"tenant bytes"
presigned = old_s3.generate_presigned_url("get_object", Params={"Bucket": "stale-creds", "Key": "k"},
                                          ExpiresIn=3600)
assert get_status(presigned) == 200

iam.delete_role_policy(RoleName="reader", PolicyName="read")
iam.delete_role(RoleName="reader")
refused("InvalidClientTokenId", client("iam", *old).list_users)
refused("InvalidClientTokenId", client("sts", *old).get_caller_identity)

assert make_role() == role_arn
new = session(role_arn)
client("iam", *new).list_users()
assert client("s3", *new).get_object(Bucket="stale-creds", Key="k")["Body"].read() == b"tenant bytes"
# The old session, same role name, same ARN, same policies: refused everywhere.
refused("InvalidClientTokenId", client("iam", *old).list_users)
refused("InvalidClientTokenId", client("sts", *old).get_caller_identity)
refused("InvalidClientTokenId", client("s3", *old).get_object, Bucket="stale-creds", Key="k")
assert get_status(presigned) == 403, "a presigned URL of the old session still works"

# --- long-term keys with a stray session token
user_key = iam.create_access_key(UserName=iam.create_user(UserName="u")["User"]["UserName"])["AccessKey"]
for key, secret in [(KEY, SECRET), (user_key["AccessKeyId"], user_key["SecretAccessKey"])]:
    refused("InvalidClientTokenId", client("sts", key, secret, "stray-token").get_caller_identity)
    refused("InvalidClientTokenId", client("iam", key, secret, "stray-token").list_users)
    refused("InvalidClientTokenId", client("kms", key, secret, "stray-token").list_keys)
    refused("InvalidToken", client("s3", key, secret, "stray-token").list_buckets)
    # The same another session's real token.
    refused("InvalidClientTokenId", client("sts", key, secret, new[2]).get_caller_identity)
# --- a user's session bound to the user's unique id
USER_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["s3:GetObject", "sts:GetCallerIdentity"], "Resource": "*"}]})


def make_user():
    iam.create_user(UserName="carol")
    iam.put_user_policy(UserName="carol", PolicyName="read", PolicyDocument=USER_POLICY)
    return iam.create_access_key(UserName="carol")["AccessKey"]


carol = make_user()
c = client("sts", carol["AccessKeyId"], carol["SecretAccessKey"]).get_session_token()["Credentials"]
carol_session = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
assert client("s3", *carol_session).get_object(Bucket="stale-creds", Key="k")["Body"].read() == b"tenant bytes"
iam.delete_access_key(UserName="carol", AccessKeyId=carol["AccessKeyId"])
iam.delete_user_policy(UserName="carol", PolicyName="read")
iam.delete_user(UserName="carol")
make_user()
refused("InvalidClientTokenId", client("s3", *carol_session).get_object, Bucket="stale-creds", Key="k")
refused("InvalidClientTokenId", client("sts", *carol_session).get_caller_identity)
# The root user's own session is not a user's: it keeps working.
r = sts.get_session_token()["Credentials"]
client("sts", r["AccessKeyId"], r["SecretAccessKey"], r["SessionToken"]).get_caller_identity()

# Without the token the keys work.
client("sts", KEY, SECRET).get_caller_identity()
print("ok")
