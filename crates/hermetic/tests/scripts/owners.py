"""Refused requests that name another account's resources, through boto3 against a running
`hermetic serve`: the owner's log must record each one (checked by the Rust test that runs this
script, which reads the owner's log from the store).

The owner (tenant A) makes a bucket with an object, a KMS key and a ciphertext under it, a role
that trusts only itself, and a user. Then the operator and a second tenant (B) each try, and are
refused, every kind of call that names one of them: S3 object, bucket, sub-resource, copy-source
and SSE-KMS-key requests; KMS calls by key ARN and by ciphertext; AssumeRole of the role and of a
role that does not exist; an IAM simulation of A's user; the operator API naming A.

Prints one JSON line per refused call: {"caller": "operator"|"other", "source", "name", "code"},
then "ok".

Usage: owners.py URL ACCOUNT KEY SECRET OTHER_ACCOUNT OTHER_KEY OTHER_SECRET OP_KEY OP_SECRET
"""

import json
import sys

import boto3
import botocore.config
import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

URL, ACCOUNT, KEY, SECRET, OTHER, OTHER_KEY, OTHER_SECRET, OP_KEY, OP_SECRET = sys.argv[1:10]
CONFIG = botocore.config.Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"})


def client(service, key, secret):
    return boto3.client(service, endpoint_url=URL, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, config=CONFIG)


# --- what tenant A owns
s3 = client("s3", KEY, SECRET)
kms = client("kms", KEY, SECRET)
iam = client("iam", KEY, SECRET)
s3.create_bucket(Bucket="owned-by-a")
s3.put_object(Bucket="owned-by-a", Key="k", Body=b"secret bytes")
key_arn = kms.create_key(Description="a's key")["KeyMetadata"]["Arn"]
blob = kms.encrypt(KeyId=key_arn, Plaintext=b"a's plaintext")["CiphertextBlob"]
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
role_arn = iam.create_role(RoleName="a-only", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
user_arn = iam.create_user(UserName="alice")["User"]["Arn"]

# B's own bucket, for a copy from A's object and a write under A's key.
client("s3", OTHER_KEY, OTHER_SECRET).create_bucket(Bucket="owned-by-b")


def refused(who, source, name, call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
        # A HEAD answer has no body: the client sees only its status.
        code = {"403": "AccessDenied", "404": "NoSuchKey"}.get(code, code)
        print(json.dumps({"caller": who, "source": source, "name": name, "code": code}))
        return
    raise SystemExit(f"{who} {name} {kwargs} was allowed")


def operator_api(who, key, secret, target, body):
    """A raw call of the operator API (JSON 1.1, signing service `hermetic`)."""
    req = AWSRequest(method="POST", url=URL + "/", data=json.dumps(body).encode(), headers={
        "X-Amz-Target": f"HermeticOperator.{target}", "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials(key, secret), "hermetic", "us-east-1").add_auth(req)
    import urllib.error
    import urllib.request
    r = urllib.request.Request(req.url, data=req.body, headers=dict(req.headers.items()), method="POST")
    try:
        urllib.request.urlopen(r).read()
    except urllib.error.HTTPError as e:
        code = json.loads(e.read().decode())["__type"]
        print(json.dumps({"caller": who, "source": "hermetic.amazonaws.com", "name": target, "code": code}))
        return
    raise SystemExit(f"{who} {target} was allowed")


for who, key, secret in [("operator", OP_KEY, OP_SECRET), ("other", OTHER_KEY, OTHER_SECRET)]:
    s3x, kmsx, stsx, iamx = (client(s, key, secret) for s in ("s3", "kms", "sts", "iam"))
    S, K = "s3.amazonaws.com", "kms.amazonaws.com"
    refused(who, S, "GetObject", s3x.get_object, Bucket="owned-by-a", Key="k")
    refused(who, S, "HeadObject", s3x.head_object, Bucket="owned-by-a", Key="k")
    refused(who, S, "PutObject", s3x.put_object, Bucket="owned-by-a", Key="new", Body=b"x")
    refused(who, S, "DeleteObject", s3x.delete_object, Bucket="owned-by-a", Key="k")
    refused(who, S, "ListObjectsV2", s3x.list_objects_v2, Bucket="owned-by-a")
    refused(who, S, "GetBucketPolicy", s3x.get_bucket_policy, Bucket="owned-by-a")
    refused(who, S, "DeleteBucket", s3x.delete_bucket, Bucket="owned-by-a")
    # A bucket's sub-resource (its CORS configuration, the owner's alone) names the bucket too.
    refused(who, S, "GetBucketCors", s3x.get_bucket_cors, Bucket="owned-by-a")
    refused(who, K, "Encrypt", kmsx.encrypt, KeyId=key_arn, Plaintext=b"x")
    refused(who, K, "DescribeKey", kmsx.describe_key, KeyId=key_arn)
    refused(who, K, "GenerateDataKey", kmsx.generate_data_key, KeyId=key_arn, KeySpec="AES_256")
    # The ciphertext names the key that made it.
    refused(who, K, "Decrypt", kmsx.decrypt, CiphertextBlob=blob)
    refused(who, "sts.amazonaws.com", "AssumeRole", stsx.assume_role, RoleArn=role_arn, RoleSessionName="s1")
    refused(who, "sts.amazonaws.com", "AssumeRole", stsx.assume_role,
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/no-such-role", RoleSessionName="s1")
    refused(who, "iam.amazonaws.com", "SimulatePrincipalPolicy", iamx.simulate_principal_policy,
            PolicySourceArn=user_arn, ActionNames=["s3:GetObject"])
    if who == "other":
        # A copy into B's own bucket from A's object; a write into B's bucket under A's key.
        refused(who, S, "CopyObject", s3x.copy_object, Bucket="owned-by-b", Key="copy",
                CopySource={"Bucket": "owned-by-a", "Key": "k"})
        refused(who, S, "PutObject", s3x.put_object, Bucket="owned-by-b", Key="sealed", Body=b"x",
                ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)
        operator_api(who, key, secret, "SuspendAccount", {"AccountId": ACCOUNT})

# Nothing of A's changed.
assert s3.get_object(Bucket="owned-by-a", Key="k")["Body"].read() == b"secret bytes"
assert [o["Key"] for o in s3.list_objects_v2(Bucket="owned-by-a")["Contents"]] == ["k"]
print("ok")
