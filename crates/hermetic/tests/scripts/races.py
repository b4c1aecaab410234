"""Requests that race each other, through boto3 against a running `hermetic serve`: each round
starts its requests at once (a barrier), lets each succeed or fail as AWS would, and then checks
that what was stored is what some order of the requests that succeeded would have left.

Usage: races.py URL KEY SECRET OTHER_KEY OTHER_SECRET (two tenants' root keys)
"""

import json
import sys
import threading

import boto3
import botocore.config
import botocore.exceptions

URL, KEY, SECRET, OTHER_KEY, OTHER_SECRET = sys.argv[1:6]
ROUNDS = 8
# No retries: a request that loses a race must fail as itself, not succeed on a later try.
CONFIG = botocore.config.Config(retries={"total_max_attempts": 1}, max_pool_connections=20)


def client(service, key=KEY, secret=SECRET):
    return boto3.client(service, endpoint_url=URL, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret, config=CONFIG)


iam, s3, kms = client("iam"), client("s3"), client("kms")


def race(*calls):
    """Runs the calls at once; returns, for each, its result or the AWS error code it failed with
    (as the string "error:CODE")."""
    barrier = threading.Barrier(len(calls))
    out = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            out[i] = call()
        except botocore.exceptions.ClientError as e:
            out[i] = "error:" + e.response["Error"]["Code"]

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def failed(result, *codes):
    return isinstance(result, str) and result.startswith("error:") and result[6:] in codes


# --- IAM: attachment counts. Eight users get one policy at once, then lose it at once.
doc = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}}'
arn = iam.create_policy(PolicyName="raced", PolicyDocument=doc)["Policy"]["Arn"]
users = [f"attach-{i}" for i in range(8)]
for u in users:
    iam.create_user(UserName=u)
for _ in range(ROUNDS // 2):
    results = race(*[lambda u=u: iam.attach_user_policy(UserName=u, PolicyArn=arn) for u in users])
    assert not any(isinstance(r, str) for r in results), results
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 8
    results = race(*[lambda u=u: iam.detach_user_policy(UserName=u, PolicyArn=arn) for u in users])
    assert not any(isinstance(r, str) for r in results), results
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
iam.delete_policy(PolicyArn=arn)
for u in users:
    iam.delete_user(UserName=u)

# --- IAM: a user deleted while a key is made for it. Either the key came first (the delete is
# refused) or the delete did (no key is made): never a key left for a user that is gone, which a
# new user of the same name would inherit.
for i in range(ROUNDS):
    name = f"leaver-{i}"
    iam.create_user(UserName=name)
    deleted, made = race(lambda: iam.delete_user(UserName=name), lambda: iam.create_access_key(UserName=name))
    assert failed(deleted, "DeleteConflict") != failed(made, "NoSuchEntity"), (deleted, made)
    if failed(deleted, "DeleteConflict"):
        keys = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
        assert [k["AccessKeyId"] for k in keys] == [made["AccessKey"]["AccessKeyId"]], keys
        iam.delete_access_key(UserName=name, AccessKeyId=keys[0]["AccessKeyId"])
        iam.delete_user(UserName=name)
    iam.create_user(UserName=name)
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"] == [], f"{name} inherited a key"
    iam.delete_user(UserName=name)

# --- IAM: a boundary and a tag put on one user at once: both stay.
bound = iam.create_policy(PolicyName="bound", PolicyDocument=doc)["Policy"]["Arn"]
iam.create_user(UserName="bounded")
for i in range(ROUNDS):
    results = race(
        lambda: iam.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=bound),
        lambda i=i: iam.tag_user(UserName="bounded", Tags=[{"Key": "round", "Value": str(i)}]),
    )
    assert not any(isinstance(r, str) for r in results), results
    user = iam.get_user(UserName="bounded")["User"]
    assert user.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") == bound, user
    assert {"Key": "round", "Value": str(i)} in user.get("Tags", []), user
    iam.delete_user_permissions_boundary(UserName="bounded")
iam.untag_user(UserName="bounded", TagKeys=["round"])
iam.delete_user(UserName="bounded")
iam.delete_policy(PolicyArn=bound)

# --- S3: three configuration changes of one bucket at once: all three stay.
s3.create_bucket(Bucket="race-config")
account = kms.create_key()["KeyMetadata"]["AWSAccountId"]
for i in range(ROUNDS * 4):
    block = {"BlockPublicAcls": i % 2 == 0, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": f"alias/round-{i}"}}
    bucket_policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": f"round{i}", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::race-config/*"}]})
    results = race(
        lambda: s3.put_public_access_block(Bucket="race-config", PublicAccessBlockConfiguration=block),
        lambda: s3.put_bucket_encryption(Bucket="race-config", ServerSideEncryptionConfiguration={"Rules": [rule]}),
        lambda: s3.put_bucket_policy(Bucket="race-config", Policy=bucket_policy),
    )
    assert not any(isinstance(r, str) for r in results), results
    assert s3.get_public_access_block(Bucket="race-config")["PublicAccessBlockConfiguration"] == block
    got = s3.get_bucket_encryption(Bucket="race-config")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert got["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID") == f"alias/round-{i}", got
    assert json.loads(s3.get_bucket_policy(Bucket="race-config")["Policy"])["Statement"][0]["Sid"] == f"round{i}"
s3.delete_bucket_encryption(Bucket="race-config")
s3.delete_bucket_policy(Bucket="race-config")
s3.delete_bucket(Bucket="race-config")

# --- S3: a bucket deleted while objects are written to it. Either the delete is refused (the
# objects are there) or the writes find no bucket: never a deleted bucket that kept objects,
# which the owner would find again in a new bucket of the same name.
for i in range(ROUNDS):
    name = f"race-delete-{i}"
    s3.create_bucket(Bucket=name)
    results = race(lambda: s3.delete_bucket(Bucket=name), *[lambda k=k: s3.put_object(Bucket=name, Key=f"k{k}", Body=b"x" * k) for k in range(4)])
    deleted, writes = results[0], results[1:]
    for w in writes:
        assert not isinstance(w, str) or failed(w, "NoSuchBucket"), results
    written = [f"k{k}" for k, w in enumerate(writes) if not isinstance(w, str)]
    if failed(deleted, "BucketNotEmpty"):
        assert written, results
    else:
        assert not isinstance(deleted, str), results
        s3.create_bucket(Bucket=name)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", [])]
    assert listed == (written if failed(deleted, "BucketNotEmpty") else []), (results, listed)
    for key in listed:
        s3.delete_object(Bucket=name, Key=key)
    s3.delete_bucket(Bucket=name)

# --- S3: the two newest versions of a key deleted at once: the current object is the one left.
s3.create_bucket(Bucket="race-versions")
s3.put_bucket_versioning(Bucket="race-versions", VersioningConfiguration={"Status": "Enabled"})
for i in range(ROUNDS):
    key = f"v{i}"
    ids = [s3.put_object(Bucket="race-versions", Key=key, Body=body)["VersionId"] for body in (b"one", b"two", b"three")]
    results = race(*[lambda v=v: s3.delete_object(Bucket="race-versions", Key=key, VersionId=v) for v in ids[1:]])
    assert not any(isinstance(r, str) for r in results), results
    assert s3.get_object(Bucket="race-versions", Key=key)["Body"].read() == b"one"
    s3.delete_object(Bucket="race-versions", Key=key, VersionId=ids[0])
# Two batch deletes that name the same keys in opposite orders: both succeed (the keys are locked
# in key order, so the batches take turns instead of deadlocking).
for i in range(ROUNDS):
    keys = [f"batch{i}-a", f"batch{i}-b"]
    ids = {k: [s3.put_object(Bucket="race-versions", Key=k, Body=b"x")["VersionId"] for _ in range(2)] for k in keys}
    first = [{"Key": keys[0], "VersionId": ids[keys[0]][0]}, {"Key": keys[1], "VersionId": ids[keys[1]][0]}]
    second = [{"Key": keys[1], "VersionId": ids[keys[1]][1]}, {"Key": keys[0], "VersionId": ids[keys[0]][1]}]
    results = race(lambda: s3.delete_objects(Bucket="race-versions", Delete={"Objects": first}), lambda: s3.delete_objects(Bucket="race-versions", Delete={"Objects": second}))
    assert not any(isinstance(r, str) for r in results), results
    assert all(len(r["Deleted"]) == 2 and not r.get("Errors") for r in results), results
    for k in keys:
        assert "Versions" not in s3.list_object_versions(Bucket="race-versions", Prefix=k), k
s3.delete_bucket(Bucket="race-versions")

# --- KMS: one named grant asked for at once (a retry racing its first try): one grant.
key_id = kms.create_key()["KeyMetadata"]["KeyId"]
grantee = "arn:aws:iam::111122223333:role/reader"
for i in range(ROUNDS // 2):
    results = race(*[lambda: kms.create_grant(KeyId=key_id, GranteePrincipal=grantee, Operations=["Decrypt"], Name=f"same-{i}") for _ in range(6)])
    assert not any(isinstance(r, str) for r in results), results
    assert len({r["GrantId"] for r in results}) == 1, results
named = [g for g in kms.list_grants(KeyId=key_id)["Grants"] if g.get("Name", "").startswith("same-")]
assert len(named) == ROUNDS // 2, named

# --- Two accounts assume each other's roles at once: each AssumeRole appends to both accounts'
# logs in one transaction, and on PostgreSQL their heads were locked in opposite orders (role
# account, then caller), so the two deadlocked and one failed with 503.
sts_a, iam_b, sts_b = client("sts"), client("iam", OTHER_KEY, OTHER_SECRET), client("sts", OTHER_KEY, OTHER_SECRET)
a_id, b_id = sts_a.get_caller_identity()["Account"], sts_b.get_caller_identity()["Account"]


def trust(account):
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}]})


iam.create_role(RoleName="from-b", AssumeRolePolicyDocument=trust(b_id), Tags=[{"Key": "peer", "Value": b_id}])
assert iam.get_role(RoleName="from-b")["Role"]["Tags"] == [{"Key": "peer", "Value": b_id}]  # GetRole answers with tags
iam_b.create_role(RoleName="from-a", AssumeRolePolicyDocument=trust(a_id))
for i in range(ROUNDS):
    calls = []
    for _ in range(4):
        calls.append(lambda: sts_a.assume_role(RoleArn=f"arn:aws:iam::{b_id}:role/from-a", RoleSessionName="a"))
        calls.append(lambda: sts_b.assume_role(RoleArn=f"arn:aws:iam::{a_id}:role/from-b", RoleSessionName="b"))
    results = race(*calls)
    assert not any(isinstance(r, str) for r in results), results
iam.delete_role(RoleName="from-b")
iam_b.delete_role(RoleName="from-a")

print("ok")
