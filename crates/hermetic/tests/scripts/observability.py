"""A workload for the observability tests (tests/observability.rs), through boto3: an IAM read,
a call IAM denies, an STS session, an S3 PUT and GET, with every tenant-chosen name and value a
canary built from TAG (user, role, policy name and document, role session name, bucket, object
key, content, x-amz-meta-*, tag keys and values). Over HTTPS (CA_BUNDLE given), also an object
under a customer-provided key (SSE-C, which S3 takes only over TLS): put, got and headed with
it, and got with another key (refused).

Usage: observability.py URL ACCOUNT KEY SECRET TAG [CA_BUNDLE]

Prints one JSON object, {"canaries": {...}, "secrets": {...}, "customer_keys": {...},
"ids": {...}}: the canaries, the secrets the server handed out (the user's secret access key,
the session's secret and token) or was sent (the SSE-C keys' MD5s), the SSE-C keys as sent
(base64; none over HTTP), and the request id each call was answered with (named "Operation
outcome"); then "ok".
"""

import base64
import hashlib
import json
import os
import sys
import urllib.parse

from checks import clients, fails

URL, ACCOUNT, KEY, SECRET, TAG = sys.argv[1:6]
CA = sys.argv[6] if len(sys.argv) > 6 else None

client = clients(URL, verify=CA) if CA else clients(URL)
iam = client("iam", KEY, SECRET)
s3 = client("s3", KEY, SECRET)

canaries = {
    "user": f"cnryuser-{TAG}",
    "role": f"cnryrole-{TAG}",
    "policy": f"cnrypolicy-{TAG}",
    "sid": f"CnrySid{TAG}",
    "session": f"cnry-session-{TAG}",
    "bucket": f"cnrybucket-{TAG}",
    "key": f"cnry obj/key-{TAG}.txt",
    "content": f"cnry-content-{TAG}",
    "meta_key": f"cnrymetakey{TAG}",
    "meta_value": f"cnry-meta-value-{TAG}",
    "tag_key": f"cnrytagkey-{TAG}",
    "tag_value": f"cnry tag value {TAG}",
}
c = canaries
ids = {}


def rid(response):
    return response["ResponseMetadata"]["RequestId"]


# An IAM read the root user may make.
ids["ListUsers ok"] = rid(iam.list_users())

# A user whose only permission is to assume one role; its list of users is denied.
user_arn = iam.create_user(UserName=c["user"])["User"]["Arn"]
trust = {"Version": "2012-10-17", "Statement": [
    {"Sid": c["sid"] + "Trust", "Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"},
]}
role_arn = iam.create_role(RoleName=c["role"], AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
policy = {"Version": "2012-10-17", "Statement": [
    {"Sid": c["sid"], "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn},
]}
iam.put_user_policy(UserName=c["user"], PolicyName=c["policy"], PolicyDocument=json.dumps(policy))
key = iam.create_access_key(UserName=c["user"])["AccessKey"]
denied = fails("AccessDenied", client("iam", key["AccessKeyId"], key["SecretAccessKey"]).list_users)
ids["ListUsers denied"] = denied["ResponseMetadata"]["RequestId"]

# A role session, used once.
sts = client("sts", key["AccessKeyId"], key["SecretAccessKey"])
creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=c["session"])["Credentials"]
as_role = client("sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
ids["GetCallerIdentity ok"] = rid(as_role.get_caller_identity())

# An object with metadata and tags, in a tagged bucket, written and read back.
s3.create_bucket(Bucket=c["bucket"])
s3.put_bucket_tagging(Bucket=c["bucket"], Tagging={"TagSet": [{"Key": c["tag_key"], "Value": c["tag_value"]}]})
tagging = urllib.parse.urlencode({c["tag_key"]: c["tag_value"]}, quote_via=urllib.parse.quote)
put = s3.put_object(Bucket=c["bucket"], Key=c["key"], Body=c["content"].encode(),
                    Metadata={c["meta_key"]: c["meta_value"]}, Tagging=tagging)
ids["PutObject ok"] = rid(put)
got = s3.get_object(Bucket=c["bucket"], Key=c["key"])
assert got["Body"].read() == c["content"].encode()
assert got["Metadata"] == {c["meta_key"]: c["meta_value"]}, got["Metadata"]
ids["GetObject ok"] = rid(got)
tags = s3.get_object_tagging(Bucket=c["bucket"], Key=c["key"])["TagSet"]
assert tags == [{"Key": c["tag_key"], "Value": c["tag_value"]}], tags

secrets = {
    "user_secret": key["SecretAccessKey"],
    "session_secret": creds["SecretAccessKey"],
    "session_token": creds["SessionToken"],
}


def b64(data):
    return base64.b64encode(data).decode()


# SSE-C: the object's content under a customer key, written, read and headed with it (the
# server echoes the key's MD5, so it was sent), then read with another key: refused.
customer_keys = {}
if CA:
    k1, k2 = os.urandom(32), os.urandom(32)
    md5_1, md5_2 = b64(hashlib.md5(k1).digest()), b64(hashlib.md5(k2).digest())
    sse_c = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": k1}
    sealed = c["key"] + ".sse-c"
    put = s3.put_object(Bucket=c["bucket"], Key=sealed, Body=c["content"].encode(), **sse_c)
    assert put["SSECustomerKeyMD5"] == md5_1, put
    got = s3.get_object(Bucket=c["bucket"], Key=sealed, **sse_c)
    assert got["Body"].read() == c["content"].encode()
    assert got["SSECustomerKeyMD5"] == md5_1, got
    head = s3.head_object(Bucket=c["bucket"], Key=sealed, **sse_c)
    assert head["SSECustomerKeyMD5"] == md5_1, head
    ids["HeadObject ok"] = rid(head)
    fails("AccessDenied", s3.get_object, Bucket=c["bucket"], Key=sealed,
          SSECustomerAlgorithm="AES256", SSECustomerKey=k2)
    customer_keys = {"sse-c key": b64(k1), "sse-c other key": b64(k2)}
    secrets["sse-c key md5"] = md5_1
    secrets["sse-c other key md5"] = md5_2

print(json.dumps({"canaries": canaries, "secrets": secrets, "customer_keys": customer_keys,
                  "ids": ids}))
print("ok")
