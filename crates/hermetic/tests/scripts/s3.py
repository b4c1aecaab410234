"""S3 through boto3 against a running `hermetic serve`, one feature per run: buckets, objects
(0 B, 1 B, 5 MiB + 1 multipart, ranges, conditions, metadata, checksums, copy, tagging, batch
delete), presigned URLs, streamed bodies, listing with prefixes, delimiters and pages, Object
Ownership and ACLs, bucket policies, default encryption, KMS as the caller, versioning, Block
Public Access, cross-account access, the operator's refusal, the trail, CORS, Object Lock,
lifecycle rules, S3 Bucket Keys and additional checksums.

Usage: s3.py URL ACCOUNT KEY SECRET OTHER_ACCOUNT OTHER_KEY OTHER_SECRET OP_KEY OP_SECRET FEATURE

FEATURE names one of the functions in FEATURES (at the bottom). Each makes the buckets, keys,
users and objects it needs under names of its own, so it runs alone on a fresh server; it
prints "ok" when every check held.
"""

import base64
import hashlib
import io
import json
import os
import sys
import time
import urllib.error
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor

import boto3
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from checks import clients, fails

URL, ACCOUNT, KEY, SECRET, OTHER, OTHER_KEY, OTHER_SECRET, OP_KEY, OP_SECRET, FEATURE = sys.argv[1:11]


# --- shared setup


client = clients(URL)


def presigner_for(key, secret):
    return boto3.client("s3", endpoint_url=URL, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret, config=Config(signature_version="s3v4"))


s3 = client("s3", KEY, SECRET)
other = client("s3", OTHER_KEY, OTHER_SECRET)
operator = client("s3", OP_KEY, OP_SECRET)
kms = client("kms", KEY, SECRET)
iam = client("iam", KEY, SECRET)

SIZES = {"empty": 0, "one": 1, "small": 1000, "segments": 3 * 65536 + 7}


def put_payloads(bucket):
    """Creates `bucket` and writes objects/{empty,one,small,segments} of SIZES with metadata;
    returns their contents by name."""
    s3.create_bucket(Bucket=bucket)
    payloads = {name: os.urandom(n) for name, n in SIZES.items()}
    for name, data in payloads.items():
        s3.put_object(Bucket=bucket, Key=f"objects/{name}", Body=data, Metadata={"owner": "acme"}, ContentType="application/x-test")
    return payloads


def make_bob():
    """Creates the IAM user bob, whose own policy allows s3:* and kms:*; returns his S3 client
    and access key."""
    iam.create_user(UserName="bob")
    iam.put_user_policy(UserName="bob", PolicyName="s3", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "kms:*"], "Resource": "*"}]}))
    bk = iam.create_access_key(UserName="bob")["AccessKey"]
    return client("s3", bk["AccessKeyId"], bk["SecretAccessKey"]), bk


def shared_key():
    """A KMS key whose policy lets the other account decrypt and generate data keys; its ARN."""
    return kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}]}))["KeyMetadata"]["Arn"]


def encrypt_bucket_with(bucket, key_arn):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]})


def share_with_other(bucket):
    """A bucket policy that lets the other account get and list `bucket`."""
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}))


# --- features


def buckets():
    """Buckets are created once, with valid names, and are listed, headed and located."""
    s3.create_bucket(Bucket="acme-buckets")
    # The owner's repeated create: 200 in us-east-1 (nothing changes), BucketAlreadyOwnedByYou
    # elsewhere, as in S3.
    s3.create_bucket(Bucket="acme-buckets")
    s3.create_bucket(Bucket="acme-west", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    fails("BucketAlreadyOwnedByYou", s3.create_bucket, Bucket="acme-west",
          CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.delete_bucket(Bucket="acme-west")
    fails("BucketAlreadyExists", other.create_bucket, Bucket="acme-buckets")
    fails("InvalidBucketName", s3.create_bucket, Bucket="Bad_Name")
    assert "acme-buckets" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket="acme-buckets")
    fails("404", s3.head_bucket, Bucket="no-such-bucket-here")
    assert s3.get_bucket_location(Bucket="acme-buckets")["LocationConstraint"] is None


def objects():
    """Objects of 0 B to 192 KiB read back whole, in ranges, under conditions; checksums; no SSE-C over HTTP."""
    s3.create_bucket(Bucket="acme-objects")
    payloads = {name: os.urandom(n) for name, n in SIZES.items()}
    for name, data in payloads.items():
        put = s3.put_object(Bucket="acme-objects", Key=f"objects/{name}", Body=data, Metadata={"owner": "acme"}, ContentType="application/x-test")
        assert put["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(), put
        assert put["ServerSideEncryption"] == "AES256", put  # SSE-S3, what S3 gives a write that asks for nothing
    for name, data in payloads.items():
        got = s3.get_object(Bucket="acme-objects", Key=f"objects/{name}")
        assert got["Body"].read() == data, name
        assert got["Metadata"] == {"owner": "acme"} and got["ContentType"] == "application/x-test", got
        assert got["ContentLength"] == len(data)
    big = payloads["segments"]
    for first, last in [(0, 0), (65530, 65545), (100, 150000), (len(big) - 10, len(big) - 1)]:
        part = s3.get_object(Bucket="acme-objects", Key="objects/segments", Range=f"bytes={first}-{last}")
        assert part["Body"].read() == big[first:last + 1], (first, last)
        assert part["ContentRange"] == f"bytes {first}-{last}/{len(big)}", part["ContentRange"]
    assert s3.get_object(Bucket="acme-objects", Key="objects/segments", Range="bytes=-5")["Body"].read() == big[-5:]
    fails("InvalidRange", s3.get_object, Bucket="acme-objects", Key="objects/small", Range="bytes=5000-6000")
    head = s3.head_object(Bucket="acme-objects", Key="objects/small")
    assert head["ContentLength"] == 1000 and head["ETag"] == '"%s"' % hashlib.md5(payloads["small"]).hexdigest()
    fails("404", s3.head_object, Bucket="acme-objects", Key="objects/none")
    fails("NoSuchKey", s3.get_object, Bucket="acme-objects", Key="objects/none")
    fails("304", s3.get_object, Bucket="acme-objects", Key="objects/small", IfNoneMatch=head["ETag"])
    fails("PreconditionFailed", s3.get_object, Bucket="acme-objects", Key="objects/small", IfMatch='"0000"')
    # Checksums (botocore sends a CRC32 trailer by default; these are explicit).
    s3.put_object(Bucket="acme-objects", Key="sum", Body=b"checked", ChecksumAlgorithm="SHA256")
    s3.put_object(Bucket="acme-objects", Key="md5", Body=b"checked", ContentMD5=base64.b64encode(hashlib.md5(b"checked").digest()).decode())
    fails("BadDigest", s3.put_object, Bucket="acme-objects", Key="md5", Body=b"checked", ContentMD5=base64.b64encode(hashlib.md5(b"other").digest()).decode())
    # SSE-C is refused over plain HTTP (serve_s3_sse_c.rs covers it over TLS).
    fails("InvalidRequest", s3.put_object, Bucket="acme-objects", Key="sse-c", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=os.urandom(32))


def presigned_urls():
    """Presigned URLs GET and PUT without the SDK and open no other key."""
    payloads = put_payloads("acme-presigned")
    presigner = presigner_for(KEY, SECRET)
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": "acme-presigned", "Key": "objects/small"}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    assert urllib.request.urlopen(url).read() == payloads["small"]
    put_url = presigner.generate_presigned_url("put_object", Params={"Bucket": "acme-presigned", "Key": "presigned"}, ExpiresIn=300)
    urllib.request.urlopen(urllib.request.Request(put_url, data=b"via a presigned URL", method="PUT")).read()
    assert s3.get_object(Bucket="acme-presigned", Key="presigned")["Body"].read() == b"via a presigned URL"
    tampered = url.replace("objects/small", "objects/one")
    try:
        urllib.request.urlopen(tampered)
        raise AssertionError("a presigned URL must not open another key")
    except urllib.error.HTTPError as e:
        assert e.code == 403, e.code


def streamed_bodies():
    """Bodies over 1 MiB are verified as they stream in; nothing is stored unless all is right."""
    s3.create_bucket(Bucket="acme-streamed")
    big = os.urandom(3 * 1024 * 1024 + 5)
    s3.put_object(Bucket="acme-streamed", Key="streamed/ok", Body=big)
    assert s3.get_object(Bucket="acme-streamed", Key="streamed/ok")["Body"].read() == big
    assert s3.get_object(Bucket="acme-streamed", Key="streamed/ok", Range="bytes=1048570-2097160")["Body"].read() == big[1048570:2097161]
    fails("BadDigest", s3.put_object, Bucket="acme-streamed", Key="streamed/bad-md5", Body=big, ContentMD5=base64.b64encode(hashlib.md5(b"other").digest()).decode())
    fails("NoSuchKey", s3.get_object, Bucket="acme-streamed", Key="streamed/bad-md5")
    # Signed for one body, sent with another of the same length: the payload hash fails at the end.
    signed = AWSRequest(method="PUT", url=f"{URL}/acme-streamed/streamed/swapped", data=big, headers={"x-amz-content-sha256": hashlib.sha256(big).hexdigest()})
    S3SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(signed)
    swapped = bytes(reversed(big))
    try:
        urllib.request.urlopen(urllib.request.Request(signed.url, data=swapped, headers=dict(signed.headers.items()), method="PUT"))
        raise AssertionError("a body that does not match its signed hash must be refused")
    except urllib.error.HTTPError as e:
        assert e.code == 400 and b"XAmzContentSHA256Mismatch" in e.read()
    fails("NoSuchKey", s3.get_object, Bucket="acme-streamed", Key="streamed/swapped")
    s3.delete_object(Bucket="acme-streamed", Key="streamed/ok")


def multipart():
    """Multipart uploads: two parts through boto3, listed, aborted, parts replaced, too-small parts refused."""
    s3.create_bucket(Bucket="acme-multipart")
    data = os.urandom(5 * 1024 * 1024 + 1)
    s3.upload_fileobj(io.BytesIO(data), "acme-multipart", "multi/big", Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
    head = s3.head_object(Bucket="acme-multipart", Key="multi/big")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-2"'), head
    assert s3.get_object(Bucket="acme-multipart", Key="multi/big")["Body"].read() == data
    assert s3.get_object(Bucket="acme-multipart", Key="multi/big", Range="bytes=5242870-5242890")["Body"].read() == data[5242870:5242891]
    upload = s3.create_multipart_upload(Bucket="acme-multipart", Key="multi/aborted")
    s3.upload_part(Bucket="acme-multipart", Key="multi/aborted", UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 10)
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket="acme-multipart")["Uploads"]] == ["multi/aborted"]
    assert len(s3.list_parts(Bucket="acme-multipart", Key="multi/aborted", UploadId=upload["UploadId"])["Parts"]) == 1
    s3.abort_multipart_upload(Bucket="acme-multipart", Key="multi/aborted", UploadId=upload["UploadId"])
    fails("NoSuchUpload", s3.list_parts, Bucket="acme-multipart", Key="multi/aborted", UploadId=upload["UploadId"])
    small = s3.create_multipart_upload(Bucket="acme-multipart", Key="multi/small")
    e1 = s3.upload_part(Bucket="acme-multipart", Key="multi/small", UploadId=small["UploadId"], PartNumber=1, Body=b"a" * 10)["ETag"]
    e2 = s3.upload_part(Bucket="acme-multipart", Key="multi/small", UploadId=small["UploadId"], PartNumber=2, Body=b"b" * 10)["ETag"]
    # A part uploaded again under its number replaces the earlier one (whose blob goes: the test
    # that drives this script checks that no blob is left that no record names).
    e2 = s3.upload_part(Bucket="acme-multipart", Key="multi/small", UploadId=small["UploadId"], PartNumber=2, Body=b"c" * 10)["ETag"]
    assert [p["ETag"] for p in s3.list_parts(Bucket="acme-multipart", Key="multi/small", UploadId=small["UploadId"])["Parts"]] == [e1, e2]
    fails("EntityTooSmall", s3.complete_multipart_upload, Bucket="acme-multipart", Key="multi/small", UploadId=small["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    s3.complete_multipart_upload(Bucket="acme-multipart", Key="multi/small", UploadId=small["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}]})
    assert s3.get_object(Bucket="acme-multipart", Key="multi/small")["Body"].read() == b"c" * 10
    fails("NoSuchUpload", s3.upload_part, Bucket="acme-multipart", Key="multi/small", UploadId=small["UploadId"], PartNumber=3, Body=b"d")


def object_ownership():
    """BucketOwnerEnforced (every new bucket's): ACLs read as the owner's and grant no more; unknown sub-resources are refused."""
    s3.create_bucket(Bucket="acme-ownership")
    acl = s3.get_bucket_acl(Bucket="acme-ownership")
    assert acl["Owner"]["ID"] == ACCOUNT and [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"], acl
    assert s3.get_bucket_ownership_controls(Bucket="acme-ownership")["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    # Setting it again changes nothing (the other settings are the acls feature's).
    s3.put_bucket_ownership_controls(Bucket="acme-ownership", OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_bucket_acl(Bucket="acme-ownership", ACL="private")
    fails("AccessControlListNotSupported", s3.put_bucket_acl, Bucket="acme-ownership", ACL="public-read")
    fails("AccessControlListNotSupported", s3.put_bucket_acl, Bucket="acme-ownership", GrantRead=f'id="{OTHER}"')
    fails("AccessControlListNotSupported", s3.put_object, Bucket="acme-ownership", Key="acl", Body=b"x", ACL="public-read")
    fails("AccessControlListNotSupported", s3.put_object, Bucket="acme-ownership", Key="acl", Body=b"x", GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')
    s3.put_object(Bucket="acme-ownership", Key="acl", Body=b"x", ACL="bucket-owner-full-control")
    assert [g["Permission"] for g in s3.get_object_acl(Bucket="acme-ownership", Key="acl")["Grants"]] == ["FULL_CONTROL"]
    fails("AccessControlListNotSupported", s3.put_object_acl, Bucket="acme-ownership", Key="acl", ACL="public-read")
    fails("NoSuchKey", s3.get_object_acl, Bucket="acme-ownership", Key="no-such-key")
    s3.delete_object(Bucket="acme-ownership", Key="acl")
    fails("InvalidBucketAclWithObjectOwnership", s3.create_bucket, Bucket="acme-acl", ACL="public-read")
    # Sub-resources this server does not implement are refused, never taken for another operation.
    fails("NotImplemented", s3.get_bucket_website, Bucket="acme-ownership")
    s3.head_bucket(Bucket="acme-ownership")


ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def acl_grants(answer):
    """A GetBucketAcl or GetObjectAcl answer's grants, as a set of (ID or URI, permission)."""
    return {(g["Grantee"].get("ID") or g["Grantee"].get("URI"), g["Permission"]) for g in answer["Grants"]}


def acls():
    """ACLs where Object Ownership enables them (decision 018): the ownership controls round
    trip; Block Public Access refuses public ACLs (BlockPublicAcls) and makes them count for
    nothing (IgnorePublicAcls); a public-read bucket ACL lets an unsigned client list; object
    ACL grants let the other account read (its IAM users with their own allow too), each form
    (canned, grant headers, AccessControlPolicy), a version's own ACL; a bucket's WRITE grant
    lets the other account write (the bucket owner owns what it writes); a copy gets the
    request's ACL and its source's ACL grants the read; an explicit Deny wins over a grant;
    BucketOwnerEnforced refuses ACLs again and their grants stop counting."""
    anon = boto3.client("s3", endpoint_url=URL, region_name="us-east-1", config=Config(signature_version=UNSIGNED))
    off = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    b = "acme-acls"

    def rules(bucket=b):
        return s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]

    def owned_as(setting, bucket=b):
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": setting}]})

    # Ownership controls: each setting round-trips; deleted, there are none (404) and ACLs are
    # enabled, as under ObjectWriter; bucket configuration stays the owner's.
    s3.create_bucket(Bucket=b)
    assert rules() == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    for setting in ["BucketOwnerPreferred", "BucketOwnerEnforced", "ObjectWriter"]:
        owned_as(setting)
        assert rules() == [{"ObjectOwnership": setting}], setting
    fails("MalformedXML", owned_as, "Nobody")
    fails("AccessDenied", other.put_bucket_ownership_controls, Bucket=b, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.delete_bucket_ownership_controls(Bucket=b)
    fails("OwnershipControlsNotFoundError", s3.get_bucket_ownership_controls, Bucket=b)
    s3.delete_bucket_ownership_controls(Bucket=b)
    s3.put_bucket_acl(Bucket=b, ACL="private")
    owned_as("ObjectWriter")
    # CreateBucket takes x-amz-object-ownership; a new bucket blocks public ACLs, and one that
    # keeps ACLs disabled refuses any that grants others.
    s3.create_bucket(Bucket="acme-acls-writer", ObjectOwnership="ObjectWriter")
    assert rules("acme-acls-writer") == [{"ObjectOwnership": "ObjectWriter"}]
    fails("AccessDenied", s3.create_bucket, Bucket="acme-acls-public", ObjectOwnership="ObjectWriter", ACL="public-read")
    fails("InvalidBucketAclWithObjectOwnership", s3.create_bucket, Bucket="acme-acls-public", ACL="public-read")
    fails("InvalidArgument", s3.create_bucket, Bucket="acme-acls-public", ObjectOwnership="Nobody")
    fails("404", s3.head_bucket, Bucket="acme-acls-public")

    # BlockPublicAcls (on for every new bucket) refuses public ACLs, whatever their form.
    s3.put_object(Bucket=b, Key="doc", Body=b"shared")
    fails("AccessDenied", s3.put_bucket_acl, Bucket=b, ACL="public-read")
    fails("AccessDenied", s3.put_object_acl, Bucket=b, Key="doc", ACL="public-read")
    fails("AccessDenied", s3.put_object, Bucket=b, Key="public", Body=b"x", GrantRead=f'uri="{ALL_USERS}"')
    fails("AccessDenied", s3.put_object, Bucket=b, Key="public", Body=b"x", ACL="authenticated-read")
    fails("404", s3.head_object, Bucket=b, Key="public")

    # Block Public Access off: a public-read bucket ACL lets anyone list, not read.
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=off)
    fails("AccessDenied", anon.list_objects_v2, Bucket=b)
    s3.put_bucket_acl(Bucket=b, ACL="public-read")
    answer = s3.get_bucket_acl(Bucket=b)
    assert answer["Owner"] == {"ID": ACCOUNT}, answer
    assert acl_grants(answer) == {(ACCOUNT, "FULL_CONTROL"), (ALL_USERS, "READ")}, answer
    assert [o["Key"] for o in anon.list_objects_v2(Bucket=b)["Contents"]] == ["doc"]
    fails("AccessDenied", anon.get_object, Bucket=b, Key="doc")
    fails("AccessDenied", anon.get_bucket_acl, Bucket=b)
    # IgnorePublicAcls: the public grant counts for nothing.
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={**off, "IgnorePublicAcls": True})
    fails("AccessDenied", anon.list_objects_v2, Bucket=b)
    # BlockPublicAcls refuses new public ACLs; one set before still counts.
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={**off, "BlockPublicAcls": True})
    assert [o["Key"] for o in anon.list_objects_v2(Bucket=b)["Contents"]] == ["doc"]
    fails("AccessDenied", s3.put_object_acl, Bucket=b, Key="doc", ACL="public-read")
    s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration=off)

    # An object ACL's grant to the other account: refused before it, allowed after.
    fails("AccessDenied", other.get_object, Bucket=b, Key="doc")
    s3.put_object_acl(Bucket=b, Key="doc", GrantRead=f'id="{OTHER}"', GrantFullControl=f'id="{ACCOUNT}"')
    assert acl_grants(s3.get_object_acl(Bucket=b, Key="doc")) == {(OTHER, "READ"), (ACCOUNT, "FULL_CONTROL")}
    assert other.get_object(Bucket=b, Key="doc")["Body"].read() == b"shared"
    fails("AccessDenied", other.get_object_acl, Bucket=b, Key="doc")
    fails("AccessDenied", anon.get_object, Bucket=b, Key="doc")
    # The other account's IAM user needs its own allow too, as with any resource policy.
    other_iam = client("iam", OTHER_KEY, OTHER_SECRET)
    other_iam.create_user(UserName="acl-reader")
    rk = other_iam.create_access_key(UserName="acl-reader")["AccessKey"]
    reader = client("s3", rk["AccessKeyId"], rk["SecretAccessKey"])
    fails("AccessDenied", reader.get_object, Bucket=b, Key="doc")
    other_iam.put_user_policy(UserName="acl-reader", PolicyName="read", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    assert reader.get_object(Bucket=b, Key="doc")["Body"].read() == b"shared"
    # The AccessControlPolicy form replaces the ACL; grantees S3 cannot resolve are refused.
    s3.put_object_acl(Bucket=b, Key="doc", AccessControlPolicy={"Owner": {"ID": ACCOUNT}, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": OTHER}, "Permission": "READ_ACP"}]})
    fails("AccessDenied", other.get_object, Bucket=b, Key="doc")
    answer = other.get_object_acl(Bucket=b, Key="doc")
    assert answer["Owner"] == {"ID": ACCOUNT} and acl_grants(answer) == {(OTHER, "READ_ACP")}, answer
    fails("UnresolvableGrantByEmailAddress", s3.put_object_acl, Bucket=b, Key="doc", GrantRead='emailAddress="nobody@example.com"')
    fails("InvalidArgument", s3.put_object_acl, Bucket=b, Key="doc", GrantRead='id="999999999999"')
    fails("InvalidRequest", s3.put_object_acl, Bucket=b, Key="doc", ACL="private", GrantRead=f'id="{OTHER}"')
    fails("InvalidArgument", s3.put_object_acl, Bucket=b, Key="doc", ACL="no-such-canned-acl")

    # A bucket's WRITE grant: the other account writes and deletes (not lists); what it writes
    # is the bucket owner's, with full control for the writer.
    s3.put_bucket_acl(Bucket=b, GrantWrite=f'id="{OTHER}"', GrantFullControl=f'id="{ACCOUNT}"')
    other.put_object(Bucket=b, Key="from-other", Body=b"theirs")
    answer = s3.get_object_acl(Bucket=b, Key="from-other")
    assert answer["Owner"] == {"ID": ACCOUNT}, answer
    assert acl_grants(answer) == {(ACCOUNT, "FULL_CONTROL"), (OTHER, "FULL_CONTROL")}, answer
    assert other.get_object(Bucket=b, Key="from-other")["Body"].read() == b"theirs"
    assert s3.get_object(Bucket=b, Key="from-other")["Body"].read() == b"theirs"
    fails("AccessDenied", other.list_objects_v2, Bucket=b)
    other.delete_object(Bucket=b, Key="from-other")
    fails("404", s3.head_object, Bucket=b, Key="from-other")

    # A public object; a copy gets the request's ACL, not its source's; the source's ACL
    # grants the copy's read; a multipart upload's ACL is the completed object's.
    s3.put_object_acl(Bucket=b, Key="doc", ACL="public-read")
    assert anon.get_object(Bucket=b, Key="doc")["Body"].read() == b"shared"
    s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "doc"})
    fails("AccessDenied", anon.get_object, Bucket=b, Key="copy")
    s3.copy_object(Bucket=b, Key="public-copy", CopySource={"Bucket": b, "Key": "doc"}, ACL="public-read")
    assert anon.get_object(Bucket=b, Key="public-copy")["Body"].read() == b"shared"
    other.create_bucket(Bucket="globex-acls")
    other.copy_object(Bucket="globex-acls", Key="copied", CopySource={"Bucket": b, "Key": "doc"})
    fails("AccessDenied", other.copy_object, Bucket="globex-acls", Key="copied", CopySource={"Bucket": b, "Key": "copy"})
    upload = s3.create_multipart_upload(Bucket=b, Key="multi", ACL="public-read")
    etag = s3.upload_part(Bucket=b, Key="multi", UploadId=upload["UploadId"], PartNumber=1, Body=b"m")["ETag"]
    s3.complete_multipart_upload(Bucket=b, Key="multi", UploadId=upload["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert anon.get_object(Bucket=b, Key="multi")["Body"].read() == b"m"

    # An explicit Deny wins over a grant; a user of the account with no policy at all is
    # "everyone" to the public grant.
    iam.create_user(UserName="acl-denied")
    iam.put_user_policy(UserName="acl-denied", PolicyName="deny", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{b}/*"}]}))
    dk = iam.create_access_key(UserName="acl-denied")["AccessKey"]
    fails("AccessDenied", client("s3", dk["AccessKeyId"], dk["SecretAccessKey"]).get_object, Bucket=b, Key="doc")
    iam.create_user(UserName="acl-nobody")
    nk = iam.create_access_key(UserName="acl-nobody")["AccessKey"]
    assert client("s3", nk["AccessKeyId"], nk["SecretAccessKey"]).get_object(Bucket=b, Key="doc")["Body"].read() == b"shared"

    # A version has its own ACL.
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=b, Key="versioned", Body=b"one")["VersionId"]
    s3.put_object(Bucket=b, Key="versioned", Body=b"two")
    s3.put_object_acl(Bucket=b, Key="versioned", VersionId=v1, GrantRead=f'id="{OTHER}"')
    assert other.get_object(Bucket=b, Key="versioned", VersionId=v1)["Body"].read() == b"one"
    fails("AccessDenied", other.get_object, Bucket=b, Key="versioned")
    assert acl_grants(s3.get_object_acl(Bucket=b, Key="versioned", VersionId=v1)) == {(OTHER, "READ")}
    assert acl_grants(s3.get_object_acl(Bucket=b, Key="versioned")) == {(ACCOUNT, "FULL_CONTROL")}

    # ACLs disabled again: only once the bucket's own grants nobody else; then the grants kept
    # count for nothing and ACLs are refused; enabled again, they count again, as in S3.
    fails("InvalidBucketAclWithObjectOwnership", owned_as, "BucketOwnerEnforced")
    s3.put_bucket_acl(Bucket=b, ACL="private")
    owned_as("BucketOwnerEnforced")
    fails("AccessDenied", anon.get_object, Bucket=b, Key="doc")
    fails("AccessDenied", other.get_object, Bucket=b, Key="versioned", VersionId=v1)
    assert acl_grants(s3.get_object_acl(Bucket=b, Key="doc")) == {(ACCOUNT, "FULL_CONTROL")}
    fails("AccessControlListNotSupported", s3.put_object_acl, Bucket=b, Key="doc", ACL="public-read")
    fails("AccessControlListNotSupported", s3.put_bucket_acl, Bucket=b, ACL="public-read")
    fails("AccessControlListNotSupported", s3.put_object, Bucket=b, Key="x", Body=b"x", GrantRead=f'id="{OTHER}"')
    owned_as("ObjectWriter")
    assert anon.get_object(Bucket=b, Key="doc")["Body"].read() == b"shared"


def copy_tagging_delete():
    """Copies keep or replace metadata and tags; tags read back; batch and single deletes."""
    payloads = put_payloads("acme-copy")
    s3.copy_object(Bucket="acme-copy", Key="copies/small", CopySource={"Bucket": "acme-copy", "Key": "objects/small"})
    copied = s3.get_object(Bucket="acme-copy", Key="copies/small")
    assert copied["Body"].read() == payloads["small"] and copied["Metadata"] == {"owner": "acme"}
    s3.put_object_tagging(Bucket="acme-copy", Key="copies/small", Tagging={"TagSet": [{"Key": "class", "Value": "secret"}]})
    assert s3.get_object_tagging(Bucket="acme-copy", Key="copies/small")["TagSet"] == [{"Key": "class", "Value": "secret"}]
    # A copy keeps the source's metadata and tags unless told to replace them; its ETag is its own.
    s3.put_object(Bucket="acme-copy", Key="copies/src", Body=b"tagged", ContentType="text/plain", Metadata={"k": "v"}, Tagging="a=1&b=two%20words")
    kept = s3.copy_object(Bucket="acme-copy", Key="copies/kept", CopySource={"Bucket": "acme-copy", "Key": "copies/src"})
    assert kept["CopyObjectResult"]["ETag"] == '"' + hashlib.md5(b"tagged").hexdigest() + '"', kept
    head = s3.head_object(Bucket="acme-copy", Key="copies/kept")
    assert head["ContentType"] == "text/plain" and head["Metadata"] == {"k": "v"}, head
    assert sorted((t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket="acme-copy", Key="copies/kept")["TagSet"]) == [("a", "1"), ("b", "two words")]
    s3.copy_object(Bucket="acme-copy", Key="copies/replaced", CopySource={"Bucket": "acme-copy", "Key": "copies/src"},
                   MetadataDirective="REPLACE", Metadata={"new": "yes"}, TaggingDirective="REPLACE", Tagging="c=3")
    head = s3.head_object(Bucket="acme-copy", Key="copies/replaced")
    assert head["Metadata"] == {"new": "yes"} and head["ContentType"] != "text/plain", head
    assert s3.get_object_tagging(Bucket="acme-copy", Key="copies/replaced")["TagSet"] == [{"Key": "c", "Value": "3"}]
    # The request's own digests describe no body of a copy and are not held against it.
    s3.copy_object(Bucket="acme-copy", Key="copies/digest", CopySource={"Bucket": "acme-copy", "Key": "copies/src"}, ChecksumAlgorithm="SHA256")
    s3.delete_objects(Bucket="acme-copy", Delete={"Objects": [{"Key": k} for k in ["copies/src", "copies/kept", "copies/replaced", "copies/digest"]]})
    s3.delete_object(Bucket="acme-copy", Key="copies/small")
    fails("NoSuchKey", s3.get_object, Bucket="acme-copy", Key="copies/small")


def listing():
    """Listing 2,500 keys by prefix, delimiter and page (v2 and v1); racing writers; BucketNotEmpty."""
    # Beside the 2,500 keys under many/: four keys under objects/, one under multi/, three at
    # the top, for the delimiter listing.
    put_payloads("acme-listing")
    for key in ["multi/small", "md5", "presigned", "sum"]:
        s3.put_object(Bucket="acme-listing", Key=key, Body=b"x")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket="acme-listing", Key=f"many/{i:05d}", Body=b""), range(2500)))
    # Writers of one new key at once (as a client's retry races its first try): on PostgreSQL each
    # used to find the key absent, and the last one's record replaced the others' unseen, keeping
    # their blobs (the test that drives this script checks that no blob is left unnamed).
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket="acme-listing", Key=f"race/{i // 8:02d}", Body=b"r%d" % i), range(160)))
    assert s3.list_objects_v2(Bucket="acme-listing", Prefix="race/")["KeyCount"] == 20
    s3.delete_objects(Bucket="acme-listing", Delete={"Objects": [{"Key": f"race/{j:02d}"} for j in range(20)]})
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="acme-listing", Prefix="many/"):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    assert keys == [f"many/{i:05d}" for i in range(2500)], len(keys)
    first = s3.list_objects_v2(Bucket="acme-listing", Prefix="many/", MaxKeys=10)
    assert first["IsTruncated"] and first["KeyCount"] == 10 and "NextContinuationToken" in first
    top = s3.list_objects_v2(Bucket="acme-listing", Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["many/", "multi/", "objects/"], top.get("CommonPrefixes")
    assert [o["Key"] for o in top["Contents"]] == ["md5", "presigned", "sum"], top["Contents"]
    v1 = s3.list_objects(Bucket="acme-listing", Prefix="objects/")
    assert [o["Key"] for o in v1["Contents"]] == ["objects/empty", "objects/one", "objects/segments", "objects/small"]
    deleted = s3.delete_objects(Bucket="acme-listing", Delete={"Objects": [{"Key": f"many/{i:05d}"} for i in range(1000)]})
    assert len(deleted["Deleted"]) == 1000
    assert s3.list_objects_v2(Bucket="acme-listing", Prefix="many/")["KeyCount"] == 1000
    v1_keys = [o["Key"] for p in s3.get_paginator("list_objects").paginate(Bucket="acme-listing", Prefix="many/") for o in p.get("Contents", [])]
    assert v1_keys == [f"many/{i:05d}" for i in range(1000, 2500)], len(v1_keys)
    fails("BucketNotEmpty", s3.delete_bucket, Bucket="acme-listing")


def kms_as_caller():
    """A bucket key that admits only the root user refuses bob's reads and writes, not his HEAD."""
    payloads = put_payloads("acme-kms-caller")
    bob, _ = make_bob()
    assert bob.get_object(Bucket="acme-kms-caller", Key="objects/one")["Body"].read() == payloads["one"]  # the aws/s3 key admits the account through S3
    strict = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalType": "Account"}}}]}))["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket="acme-strict")
    encrypt_bucket_with("acme-strict", strict)
    enc = s3.get_bucket_encryption(Bucket="acme-strict")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert enc["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == strict, enc
    assert enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms", enc
    put = s3.put_object(Bucket="acme-strict", Key="k", Body=b"root only")
    assert put["SSEKMSKeyId"] == strict and put["ServerSideEncryption"] == "aws:kms", put
    fails("AccessDenied", bob.get_object, Bucket="acme-strict", Key="k")   # no kms:Decrypt on the bucket key
    fails("AccessDenied", bob.put_object, Bucket="acme-strict", Key="k2", Body=b"x")  # no kms:GenerateDataKey
    bob.head_object(Bucket="acme-strict", Key="k")  # metadata needs no key


def sse_kms_etags():
    """SSE-KMS objects' ETags are not their MD5 (as S3 documents); SSE-S3 ones are; both work in conditions."""
    s3.create_bucket(Bucket="acme-etags")
    plain = s3.get_bucket_encryption(Bucket="acme-etags")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert plain["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", plain
    data = b"the same bytes twice"
    md5 = '"%s"' % hashlib.md5(data).hexdigest()
    s3_put = s3.put_object(Bucket="acme-etags", Key="s3", Body=data)
    assert s3_put["ETag"] == md5 and s3_put["ServerSideEncryption"] == "AES256", s3_put
    kms_put = s3.put_object(Bucket="acme-etags", Key="kms", Body=data, ServerSideEncryption="aws:kms")
    assert kms_put["ServerSideEncryption"] == "aws:kms" and kms_put["ETag"] != md5, kms_put
    again = s3.put_object(Bucket="acme-etags", Key="kms2", Body=data, ServerSideEncryption="aws:kms")
    assert again["ETag"] != kms_put["ETag"], "each object's ETag is keyed by its own data key"
    got = s3.get_object(Bucket="acme-etags", Key="kms", IfMatch=kms_put["ETag"])
    assert got["Body"].read() == data and got["ETag"] == kms_put["ETag"] and got["ServerSideEncryption"] == "aws:kms", got
    head = s3.head_object(Bucket="acme-etags", Key="kms")
    assert head["ETag"] == kms_put["ETag"] and head["ServerSideEncryption"] == "aws:kms", head
    assert s3.head_object(Bucket="acme-etags", Key="s3")["ServerSideEncryption"] == "AES256"
    listed = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket="acme-etags")["Contents"]}
    assert listed["kms"] == kms_put["ETag"] and listed["s3"] == md5, listed
    # The bucket's default made SSE-KMS: a write that asks for nothing is SSE-KMS, keyed ETag.
    s3.put_bucket_encryption(Bucket="acme-etags", ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    default_kms = s3.put_object(Bucket="acme-etags", Key="default", Body=data)
    assert default_kms["ServerSideEncryption"] == "aws:kms" and default_kms["ETag"] != md5, default_kms
    # Multipart SSE-KMS: part ETags keyed too, and the upload completes with them.
    up = s3.create_multipart_upload(Bucket="acme-etags", Key="multi", ServerSideEncryption="aws:kms")
    part = s3.upload_part(Bucket="acme-etags", Key="multi", UploadId=up["UploadId"], PartNumber=1, Body=data)
    assert part["ETag"] != md5, part
    s3.complete_multipart_upload(Bucket="acme-etags", Key="multi", UploadId=up["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.get_object(Bucket="acme-etags", Key="multi")["Body"].read() == data
    # Back to SSE-S3 by deleting the configuration.
    s3.delete_bucket_encryption(Bucket="acme-etags")
    assert s3.put_object(Bucket="acme-etags", Key="s3-again", Body=data)["ETag"] == md5


def bucket_policies():
    """Bucket policies deny by prefix, object tag and auth type; cross-account reads need both policies."""
    put_payloads("acme-policies")
    s3.put_object(Bucket="acme-policies", Key="multi/small", Body=b"c" * 10)
    bob, bk = make_bob()
    s3.put_object(Bucket="acme-policies", Key="tagged/secret", Body=b"classified", Tagging="class=secret")
    s3.put_bucket_policy(Bucket="acme-policies", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-policies/objects/*"},
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-policies/*", "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "secret"}}},
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-policies/multi/*", "Condition": {"StringEquals": {"s3:authType": "REST-QUERY-STRING"}}},
    ]}))
    fails("AccessDenied", bob.get_object, Bucket="acme-policies", Key="objects/one")
    fails("AccessDenied", bob.get_object, Bucket="acme-policies", Key="tagged/secret")  # s3:ExistingObjectTag
    assert bob.get_object(Bucket="acme-policies", Key="multi/small")["Body"].read() == b"c" * 10
    bob_presigner = presigner_for(bk["AccessKeyId"], bk["SecretAccessKey"])
    try:
        urllib.request.urlopen(bob_presigner.generate_presigned_url("get_object", Params={"Bucket": "acme-policies", "Key": "multi/small"}, ExpiresIn=60))
        raise AssertionError("s3:authType REST-QUERY-STRING must be denied")
    except urllib.error.HTTPError as e:
        assert e.code == 403, e.code
    assert json.loads(s3.get_bucket_policy(Bucket="acme-policies")["Policy"])["Statement"][0]["Effect"] == "Deny"
    fails("MalformedPolicy", s3.put_bucket_policy, Bucket="acme-policies", Policy="{not json")
    s3.delete_bucket_policy(Bucket="acme-policies")
    fails("NoSuchBucketPolicy", s3.get_bucket_policy, Bucket="acme-policies")
    fails("AccessDenied", other.get_object, Bucket="acme-policies", Key="objects/one")  # no bucket policy
    shared = shared_key()
    s3.create_bucket(Bucket="acme-shared")
    encrypt_bucket_with("acme-shared", shared)
    s3.put_object(Bucket="acme-shared", Key="report", Body=b"for globex")
    fails("AccessDenied", other.get_object, Bucket="acme-shared", Key="report")
    share_with_other("acme-shared")
    assert other.get_object(Bucket="acme-shared", Key="report")["Body"].read() == b"for globex"
    assert [o["Key"] for o in other.list_objects_v2(Bucket="acme-shared")["Contents"]] == ["report"]
    fails("AccessDenied", other.put_object, Bucket="acme-shared", Key="x", Body=b"x")
    fails("AccessDenied", other.get_object, Bucket="acme-policies", Key="objects/one")


def versioning():
    """Versioning keeps every version: delete markers, reads, deletes and copies by id, suspension."""
    s3.create_bucket(Bucket="acme-versions")
    assert "Status" not in s3.get_bucket_versioning(Bucket="acme-versions")
    s3.put_bucket_versioning(Bucket="acme-versions", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="acme-versions")["Status"] == "Enabled"
    v1 = s3.put_object(Bucket="acme-versions", Key="doc", Body=b"first")["VersionId"]
    v2 = s3.put_object(Bucket="acme-versions", Key="doc", Body=b"second")["VersionId"]
    assert v1 != v2
    assert s3.get_object(Bucket="acme-versions", Key="doc")["Body"].read() == b"second"
    assert s3.get_object(Bucket="acme-versions", Key="doc", VersionId=v1)["Body"].read() == b"first"
    marker = s3.delete_object(Bucket="acme-versions", Key="doc")
    assert marker["DeleteMarker"] is True, marker
    fails("NoSuchKey", s3.get_object, Bucket="acme-versions", Key="doc")
    assert s3.get_object(Bucket="acme-versions", Key="doc", VersionId=v2)["Body"].read() == b"second"
    listed = s3.list_object_versions(Bucket="acme-versions")
    assert [v["VersionId"] for v in listed["Versions"]] == [v2, v1], listed
    assert listed["DeleteMarkers"][0]["IsLatest"] is True, listed
    s3.delete_object(Bucket="acme-versions", Key="doc", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket="acme-versions", Key="doc")["Body"].read() == b"second"
    s3.delete_object(Bucket="acme-versions", Key="doc", VersionId=v2)
    assert s3.get_object(Bucket="acme-versions", Key="doc")["Body"].read() == b"first"
    fails("NoSuchVersion", s3.get_object, Bucket="acme-versions", Key="doc", VersionId=v2)
    # Copies from a version (CopyObject and UploadPartCopy), which name it in their answer.
    copied = s3.copy_object(Bucket="acme-versions", Key="doc-v1", CopySource={"Bucket": "acme-versions", "Key": "doc", "VersionId": v1})
    assert copied["CopySourceVersionId"] == v1, copied
    assert s3.get_object(Bucket="acme-versions", Key="doc-v1")["Body"].read() == b"first"
    fails("NoSuchVersion", s3.copy_object, Bucket="acme-versions", Key="doc-x", CopySource={"Bucket": "acme-versions", "Key": "doc", "VersionId": "0" * 32})
    mp = s3.create_multipart_upload(Bucket="acme-versions", Key="doc-parts")
    pc = s3.upload_part_copy(Bucket="acme-versions", Key="doc-parts", UploadId=mp["UploadId"], PartNumber=1, CopySource={"Bucket": "acme-versions", "Key": "doc", "VersionId": v1})
    s3.complete_multipart_upload(Bucket="acme-versions", Key="doc-parts", UploadId=mp["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": pc["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket="acme-versions", Key="doc-parts")["Body"].read() == b"first"
    # Suspended: writes get the null version (which, as in S3, their answers do not name;
    # reads do).
    s3.put_bucket_versioning(Bucket="acme-versions", VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket="acme-versions", Key="doc", Body=b"null one").get("VersionId") is None
    assert s3.head_object(Bucket="acme-versions", Key="doc")["VersionId"] == "null"
    # A second write while suspended replaces the null version (whose data goes); the versions
    # from before suspension stay.
    assert s3.put_object(Bucket="acme-versions", Key="doc", Body=b"null two").get("VersionId") is None
    assert s3.get_object(Bucket="acme-versions", Key="doc", VersionId="null")["Body"].read() == b"null two"
    assert s3.get_object(Bucket="acme-versions", Key="doc", VersionId=v1)["Body"].read() == b"first"
    nulls = [v for v in s3.list_object_versions(Bucket="acme-versions", Prefix="doc")["Versions"] if v["VersionId"] == "null"]
    assert len(nulls) == 1, nulls
    fails("BucketNotEmpty", s3.delete_bucket, Bucket="acme-versions")


def null_versions():
    """Objects from before versioning survive as the null version; DeleteObjects by version id.
    A bucket never versioned lists each object as its null version, which deletes for good; a
    bucket holding only unfinished uploads is deleted with them."""
    s3.create_bucket(Bucket="acme-never-versioned")
    s3.put_object(Bucket="acme-never-versioned", Key="a", Body=b"a")
    s3.put_object(Bucket="acme-never-versioned", Key="b/c", Body=b"bc")
    listed = s3.list_object_versions(Bucket="acme-never-versioned")
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [("a", "null", True), ("b/c", "null", True)], listed
    assert s3.head_object(Bucket="acme-never-versioned", Key="a", VersionId="null")["ContentLength"] == 1
    rolled = s3.list_object_versions(Bucket="acme-never-versioned", Delimiter="/")
    assert [v["Key"] for v in rolled["Versions"]] == ["a"] and [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["b/"], rolled
    first = s3.list_object_versions(Bucket="acme-never-versioned", MaxKeys=1)
    assert first["IsTruncated"] and (first["NextKeyMarker"], first["NextVersionIdMarker"]) == ("a", "null"), first
    rest = s3.list_object_versions(Bucket="acme-never-versioned", KeyMarker="a", VersionIdMarker="null")
    assert [v["Key"] for v in rest["Versions"]] == ["b/c"], rest
    deleted = s3.delete_objects(Bucket="acme-never-versioned", Delete={"Objects": [{"Key": "a", "VersionId": "null"}]})
    assert deleted["Deleted"] == [{"Key": "a", "VersionId": "null"}], deleted
    fails("NoSuchKey", s3.get_object, Bucket="acme-never-versioned", Key="a")
    # A page's markers still lead on once what the page named is deleted (a cleanup's way).
    again = s3.list_object_versions(Bucket="acme-never-versioned", KeyMarker="a", VersionIdMarker="null")
    assert [v["Key"] for v in again["Versions"]] == ["b/c"], again
    s3.delete_object(Bucket="acme-never-versioned", Key="b/c", VersionId="null")
    fails("NoSuchKey", s3.get_object, Bucket="acme-never-versioned", Key="b/c")
    assert "Versions" not in s3.list_object_versions(Bucket="acme-never-versioned")
    s3.delete_bucket(Bucket="acme-never-versioned")
    s3.create_bucket(Bucket="acme-only-uploads")
    upload = s3.create_multipart_upload(Bucket="acme-only-uploads", Key="half")
    s3.upload_part(Bucket="acme-only-uploads", Key="half", UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 10)
    s3.delete_bucket(Bucket="acme-only-uploads")
    fails("NoSuchBucket", s3.list_objects_v2, Bucket="acme-only-uploads")
    s3.create_bucket(Bucket="acme-late-versions")
    s3.put_object(Bucket="acme-late-versions", Key="k", Body=b"before")
    s3.put_object(Bucket="acme-late-versions", Key="gone", Body=b"kept too")
    s3.put_bucket_versioning(Bucket="acme-late-versions", VersioningConfiguration={"Status": "Enabled"})
    after = s3.put_object(Bucket="acme-late-versions", Key="k", Body=b"after")
    s3.delete_object(Bucket="acme-late-versions", Key="gone")
    assert s3.get_object(Bucket="acme-late-versions", Key="k")["Body"].read() == b"after"
    assert s3.get_object(Bucket="acme-late-versions", Key="k", VersionId="null")["Body"].read() == b"before"
    assert s3.get_object(Bucket="acme-late-versions", Key="gone", VersionId="null")["Body"].read() == b"kept too"
    late = s3.list_object_versions(Bucket="acme-late-versions")
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in late["Versions"]] == [("gone", "null", False), ("k", after["VersionId"], True), ("k", "null", False)], late["Versions"]
    fails("InvalidArgument", s3.list_object_versions, Bucket="acme-late-versions", KeyMarker="k", VersionIdMarker="no-such-version")
    # DeleteObjects with version ids deletes those versions for good (the current object follows).
    deleted = s3.delete_objects(Bucket="acme-late-versions", Delete={"Objects": [{"Key": "k", "VersionId": after["VersionId"]}]})
    assert deleted["Deleted"] == [{"Key": "k", "VersionId": after["VersionId"]}], deleted
    assert s3.get_object(Bucket="acme-late-versions", Key="k")["Body"].read() == b"before"
    marked = s3.delete_objects(Bucket="acme-late-versions", Delete={"Objects": [{"Key": "k"}]})["Deleted"][0]
    assert marked["DeleteMarker"] and marked["DeleteMarkerVersionId"], marked
    unmarked = s3.delete_objects(Bucket="acme-late-versions", Delete={"Objects": [{"Key": "k", "VersionId": marked["DeleteMarkerVersionId"]}]})["Deleted"][0]
    assert unmarked["DeleteMarker"], unmarked
    assert s3.get_object(Bucket="acme-late-versions", Key="k")["Body"].read() == b"before"
    assert not s3.list_object_versions(Bucket="acme-late-versions", MaxKeys=0)["IsTruncated"]


def version_listing():
    """ListObjectVersions pages and delimiters, newest first within a key."""
    s3.create_bucket(Bucket="acme-version-pages")
    s3.put_bucket_versioning(Bucket="acme-version-pages", VersioningConfiguration={"Status": "Enabled"})
    for name in ["pages/a", "pages/b", "pages/dir/c", "pages/dir/d", "pages/e"]:
        for n in range(3):
            s3.put_object(Bucket="acme-version-pages", Key=name, Body=f"{name} {n}".encode())
    s3.delete_object(Bucket="acme-version-pages", Key="pages/b")
    whole = s3.list_object_versions(Bucket="acme-version-pages", Prefix="pages/")
    assert not whole["IsTruncated"] and len(whole["Versions"]) == 15 and len(whole["DeleteMarkers"]) == 1, whole
    paged_versions, paged_markers = [], []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket="acme-version-pages", Prefix="pages/", PaginationConfig={"PageSize": 2}):
        assert len(page.get("Versions", [])) + len(page.get("DeleteMarkers", [])) <= 2, page
        paged_versions += page.get("Versions", [])
        paged_markers += page.get("DeleteMarkers", [])

    def ids(entries):
        return [(e["Key"], e["VersionId"], e["IsLatest"]) for e in entries]

    assert ids(paged_versions) == ids(whole["Versions"]), (ids(paged_versions), ids(whole["Versions"]))
    assert ids(paged_markers) == ids(whole["DeleteMarkers"])
    assert sum(e["IsLatest"] for e in whole["Versions"]) == 4  # pages/b's latest is its delete marker
    # Newest first within a key, even for writes in the same millisecond.
    a_versions = [v for v in whole["Versions"] if v["Key"] == "pages/a"]
    bodies = [s3.get_object(Bucket="acme-version-pages", Key="pages/a", VersionId=v["VersionId"])["Body"].read() for v in a_versions]
    assert bodies == [b"pages/a 2", b"pages/a 1", b"pages/a 0"], bodies
    assert a_versions[0]["IsLatest"] and s3.get_object(Bucket="acme-version-pages", Key="pages/a")["Body"].read() == b"pages/a 2"
    rolled = s3.list_object_versions(Bucket="acme-version-pages", Prefix="pages/", Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["pages/dir/"], rolled
    assert {v["Key"] for v in rolled["Versions"]} == {"pages/a", "pages/b", "pages/e"}
    fails("InvalidArgument", s3.list_object_versions, Bucket="acme-version-pages", VersionIdMarker="x")


def block_public_access():
    """Block Public Access by default, anonymous access once it is off, and the account-level setting."""
    anon = boto3.client("s3", endpoint_url=URL, region_name="us-east-1", config=Config(signature_version=UNSIGNED))
    s3.create_bucket(Bucket="acme-private")
    s3.create_bucket(Bucket="acme-public")
    public_policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": ["arn:aws:s3:::acme-public", "arn:aws:s3:::acme-public/*"]}]})
    assert s3.get_public_access_block(Bucket="acme-public")["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    fails("AccessDenied", s3.put_bucket_policy, Bucket="acme-public", Policy=public_policy)
    fails("AccessDenied", anon.list_objects_v2, Bucket="acme-public")
    s3.put_public_access_block(Bucket="acme-public", PublicAccessBlockConfiguration={"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    s3.put_bucket_policy(Bucket="acme-public", Policy=public_policy)
    s3.put_object(Bucket="acme-public", Key="hello", Body=b"hi")
    assert [o["Key"] for o in anon.list_objects_v2(Bucket="acme-public")["Contents"]] == ["hello"]
    # SSE-S3 (the default) is S3's own: the public reads it, as in AWS; SSE-KMS needs a key
    # anonymous callers cannot be given.
    assert anon.get_object(Bucket="acme-public", Key="hello")["Body"].read() == b"hi"
    s3.put_object(Bucket="acme-public", Key="kms", Body=b"k", ServerSideEncryption="aws:kms")
    fails("AccessDenied", anon.get_object, Bucket="acme-public", Key="kms")
    s3.delete_object(Bucket="acme-public", Key="kms")
    fails("AccessDenied", anon.put_object, Bucket="acme-private", Key="x", Body=b"x")
    fails("AccessDenied", anon.list_objects_v2, Bucket="acme-private")

    def control(method, body=b""):
        req = AWSRequest(method=method, url=f"{URL}/v20180820/configuration/publicAccessBlock", data=body, headers={"x-amz-account-id": ACCOUNT})
        S3SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(req)
        r = urllib.request.Request(req.url, data=body or None, headers=dict(req.headers.items()), method=method)
        try:
            return urllib.request.urlopen(r).status, b""
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    # Account-level Block Public Access (S3 Control) restricts the public bucket again.
    status, _ = control("PUT", b'<PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>')
    assert status == 200, status
    fails("AccessDenied", anon.list_objects_v2, Bucket="acme-public")
    assert control("GET")[0] == 200
    assert control("DELETE")[0] == 204
    assert [o["Key"] for o in anon.list_objects_v2(Bucket="acme-public")["Contents"]] == ["hello"]


def operator_refused():
    """The operator is refused everything, even reading a tenant's object."""
    put_payloads("acme-operator")
    fails("AccessDenied", operator.list_buckets)
    fails("AccessDenied", operator.get_object, Bucket="acme-operator", Key="objects/one")


def trail():
    """Bucket management is in LookupEvents; object (data) events are not, as in AWS."""
    s3.create_bucket(Bucket="acme-trail")
    encrypt_bucket_with("acme-trail", shared_key())
    share_with_other("acme-trail")
    s3.put_object(Bucket="acme-trail", Key="k", Body=b"in the log, not in LookupEvents")
    s3.get_object(Bucket="acme-trail", Key="k")["Body"].read()
    cloudtrail = client("cloudtrail", KEY, SECRET)
    records = []
    for page in cloudtrail.get_paginator("lookup_events").paginate():
        records.extend(json.loads(e["CloudTrailEvent"]) for e in page["Events"])
    names = {r["eventName"] for r in records}
    assert {"CreateBucket", "PutBucketPolicy", "PutBucketEncryption"} <= names, names
    assert "GetObject" not in names and "PutObject" not in names, names


def data_events():
    """An object read by its owner and by another account, for serve_s3.rs's data-event checks."""
    s3.create_bucket(Bucket="acme-events")
    encrypt_bucket_with("acme-events", shared_key())
    share_with_other("acme-events")
    s3.put_object(Bucket="acme-events", Key="report", Body=b"for globex")
    assert s3.get_object(Bucket="acme-events", Key="report")["Body"].read() == b"for globex"
    assert other.get_object(Bucket="acme-events", Key="report")["Body"].read() == b"for globex"


def bucket_keys():
    """S3 Bucket Keys: the default encryption reads back as set; objects sealed with a bucket key
    say so on every answer and read back; KMS makes fewer data keys than objects are written, with
    the bucket's ARN as encryption context; a user without kms:Decrypt reads nothing, even right
    after the owner read it; the request's header asks for one (or none); SSE-S3 is unaffected."""
    key_arn = kms.create_key(Description="bucket keys")["KeyMetadata"]["Arn"]
    b = "acme-bucket-keys"
    s3.create_bucket(Bucket=b)
    default = s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert default == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}, default
    s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
        "BucketKeyEnabled": True}]})
    rule = s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                    "BucketKeyEnabled": True}, rule

    payloads = {f"k{i}": os.urandom(100 + i) for i in range(8)}
    for k, data in payloads.items():
        put = s3.put_object(Bucket=b, Key=k, Body=data)
        assert put["BucketKeyEnabled"] is True and put["ServerSideEncryption"] == "aws:kms", put
        assert put["SSEKMSKeyId"] == key_arn, put
    for k, data in payloads.items():
        got = s3.get_object(Bucket=b, Key=k)
        assert got["Body"].read() == data and got["BucketKeyEnabled"] is True, got
        assert s3.head_object(Bucket=b, Key=k)["BucketKeyEnabled"] is True
    # Multipart uploads and copies too.
    up = s3.create_multipart_upload(Bucket=b, Key="multi")
    assert up["BucketKeyEnabled"] is True, up
    part = s3.upload_part(Bucket=b, Key="multi", UploadId=up["UploadId"], PartNumber=1, Body=b"p" * 10)
    assert part["BucketKeyEnabled"] is True, part
    done = s3.complete_multipart_upload(Bucket=b, Key="multi", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["BucketKeyEnabled"] is True, done
    assert s3.get_object(Bucket=b, Key="multi")["Body"].read() == b"p" * 10
    copied = s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "k0"})
    assert copied["BucketKeyEnabled"] is True, copied
    assert s3.get_object(Bucket=b, Key="copy")["Body"].read() == payloads["k0"]
    # Equal contents, keys of their own: keyed ETags differ.
    e1 = s3.put_object(Bucket=b, Key="same1", Body=b"same")["ETag"]
    e2 = s3.put_object(Bucket=b, Key="same2", Body=b"same")["ETag"]
    assert e1 != e2, (e1, e2)

    # KMS, as CloudTrail shows its calls through S3: fewer data keys than objects, each made for
    # the bucket (its ARN the encryption context), by acme through S3.
    cloudtrail = client("cloudtrail", KEY, SECRET)
    records = []
    for page in cloudtrail.get_paginator("lookup_events").paginate():
        records.extend(json.loads(e["CloudTrailEvent"]) for e in page["Events"])
    through_s3 = [r for r in records if r["eventSource"] == "kms.amazonaws.com"
                  and r["userIdentity"].get("invokedBy") == "s3.amazonaws.com"
                  and any(x.get("ARN") == key_arn for x in r.get("resources", []))]
    made = [r for r in through_s3 if r["eventName"] == "GenerateDataKey"]
    written = len(payloads) + 5  # the objects, the upload, the copy and the two equal ones
    assert 1 <= len(made) < written, (len(made), written)
    for r in through_s3:
        assert r["requestParameters"]["encryptionContext"] == {"aws:s3:arn": f"arn:aws:s3:::{b}"}, r
        assert r["userIdentity"]["accountId"] == ACCOUNT and r["sourceIPAddress"] == "s3.amazonaws.com", r
    assert made[0]["requestParameters"]["keyId"] == key_arn, made[0]

    # A user who may use S3 but not the key reads nothing, right after the owner read it, and
    # writes nothing; the object's metadata needs no key.
    iam.create_user(UserName="carol")
    iam.put_user_policy(UserName="carol", PolicyName="s3", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    ck = iam.create_access_key(UserName="carol")["AccessKey"]
    carol = client("s3", ck["AccessKeyId"], ck["SecretAccessKey"])
    assert s3.get_object(Bucket=b, Key="k1")["Body"].read() == payloads["k1"]
    fails("AccessDenied", carol.get_object, Bucket=b, Key="k1")
    fails("AccessDenied", carol.get_object, Bucket=b, Key="multi")
    fails("AccessDenied", carol.put_object, Bucket=b, Key="carol", Body=b"x")
    assert carol.head_object(Bucket=b, Key="k1")["BucketKeyEnabled"] is True

    # The request's header: a bucket key in a bucket without one, none in a bucket with one.
    plain = "acme-bucket-keys-plain"
    s3.create_bucket(Bucket=plain)
    asked = s3.put_object(Bucket=plain, Key="asked", Body=b"asked", ServerSideEncryption="aws:kms",
                          SSEKMSKeyId=key_arn, BucketKeyEnabled=True)
    assert asked["BucketKeyEnabled"] is True and asked["SSEKMSKeyId"] == key_arn, asked
    got = s3.get_object(Bucket=plain, Key="asked")
    assert got["Body"].read() == b"asked" and got["BucketKeyEnabled"] is True, got
    fails("AccessDenied", carol.get_object, Bucket=plain, Key="asked")
    kms_only = s3.put_object(Bucket=plain, Key="kms", Body=b"kms", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn)
    assert kms_only["ServerSideEncryption"] == "aws:kms" and "BucketKeyEnabled" not in kms_only, kms_only
    own = s3.put_object(Bucket=b, Key="own", Body=b"own", BucketKeyEnabled=False)
    assert own["ServerSideEncryption"] == "aws:kms" and "BucketKeyEnabled" not in own, own
    assert s3.get_object(Bucket=b, Key="own")["Body"].read() == b"own"
    # SSE-S3 never uses one, asked or not.
    sse_s3 = s3.put_object(Bucket=plain, Key="s3", Body=b"s3", BucketKeyEnabled=True)
    assert sse_s3["ServerSideEncryption"] == "AES256" and "BucketKeyEnabled" not in sse_s3, sse_s3
    assert carol.get_object(Bucket=plain, Key="s3")["Body"].read() == b"s3"
    s3.put_bucket_encryption(Bucket=plain, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]})
    rule = s3.get_bucket_encryption(Bucket=plain)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}, rule
    assert "BucketKeyEnabled" not in s3.put_object(Bucket=plain, Key="s3-default", Body=b"d")

    # Deleting the configuration drops the bucket key; what was sealed with it still reads.
    s3.delete_bucket_encryption(Bucket=b)
    rule = s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["BucketKeyEnabled"] is False, rule
    assert s3.get_object(Bucket=b, Key="k2")["Body"].read() == payloads["k2"]


def from_origin(origin):
    """An S3 client of acme's whose requests carry `Origin: ORIGIN`, as a browser's do."""
    browser = client("s3", KEY, SECRET)

    def add_origin(request, **_):
        request.headers["Origin"] = origin
    browser.meta.events.register("before-sign.s3", add_origin)
    return browser


def preflight(path, headers):
    """An unsigned OPTIONS of URL + `path` with `headers`, as a browser sends it before a
    cross-origin request: (status, headers, body)."""
    request = urllib.request.Request(URL + path, headers=headers, method="OPTIONS")
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def cors_headers(headers):
    """The CORS headers of an answer (`Access-Control-*` and `Vary`), names lower-cased."""
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("access-control-") or k.lower() == "vary"}


def cors():
    """CORS: the configuration (put, read back as given, deleted, S3's refusals, the owner's
    alone); unsigned preflights answered from the rules alone (first matching rule, origins with
    a wildcard, headers case-insensitive; the same answer whether the key exists or not); the
    headers of actual requests from an allowed origin, which allow nothing themselves."""
    s3.create_bucket(Bucket="acme-cors")
    fails("NoSuchCORSConfiguration", s3.get_bucket_cors, Bucket="acme-cors")
    s3.delete_bucket_cors(Bucket="acme-cors")  # 204, even with no configuration

    def refused(answer, status, code, message):
        got, headers, body = answer
        assert got == status and f"<Code>{code}</Code>".encode() in body and message.encode() in body, (got, body)
        assert not cors_headers(headers), dict(headers)

    app = {"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"}
    refused(preflight("/acme-cors/k", app), 403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")
    refused(preflight("/acme-cors/k", {"Access-Control-Request-Method": "PUT"}), 400, "BadRequest", "Insufficient information. Origin request header needed.")
    refused(preflight("/acme-cors", {"Origin": "https://app.example"}), 400, "BadRequest", "Invalid Access-Control-Request-Method: null")
    refused(preflight("/acme-no-such-cors/k", app), 403, "AccessForbidden", "CORSResponse: Bucket not found")

    rules = [
        {"ID": "app", "AllowedHeaders": ["x-amz-*", "Content-Type"], "AllowedMethods": ["GET", "PUT"],
         "AllowedOrigins": ["https://app.example"], "ExposeHeaders": ["ETag", "x-amz-version-id"], "MaxAgeSeconds": 600},
        {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["http://*.example.org"]},
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]},
    ]
    s3.put_bucket_cors(Bucket="acme-cors", CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket="acme-cors")["CORSRules"] == rules

    # What S3 refuses; the configuration stays as it was.
    def bad(code, *given):
        return fails(code, s3.put_bucket_cors, Bucket="acme-cors", CORSConfiguration={"CORSRules": list(given)})
    e = bad("InvalidRequest", {"AllowedMethods": ["GET", "PATCH"], "AllowedOrigins": ["*"]})
    assert e["Error"]["Message"] == "Found unsupported HTTP method in CORS config. Unsupported method is PATCH", e
    bad("InvalidRequest", {"AllowedMethods": ["GET"], "AllowedOrigins": ["https://*.*.example"]})
    bad("InvalidRequest", {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "AllowedHeaders": ["x-*-*"]})
    bad("InvalidArgument", {"ID": "i" * 256, "AllowedMethods": ["GET"], "AllowedOrigins": ["*"]})
    bad("MalformedXML")
    bad("MalformedXML", *[{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}] * 101)
    # The owner's alone.
    fails("AccessDenied", other.get_bucket_cors, Bucket="acme-cors")
    fails("AccessDenied", other.put_bucket_cors, Bucket="acme-cors", CORSConfiguration={"CORSRules": rules[2:]})
    fails("AccessDenied", operator.delete_bucket_cors, Bucket="acme-cors")
    assert s3.get_bucket_cors(Bucket="acme-cors")["CORSRules"] == rules

    # Allowed: the same answer for a key that exists and one that does not.
    s3.put_object(Bucket="acme-cors", Key="k", Body=b"shared")
    asked = dict(app, **{"Access-Control-Request-Headers": "X-Amz-Date, content-type"})
    answers = [preflight(path, asked) for path in ["/acme-cors/k", "/acme-cors/missing"]]
    assert [(status, body) for status, _, body in answers] == [(200, b""), (200, b"")], answers
    expected = {
        "access-control-allow-origin": "https://app.example",
        "access-control-allow-methods": "GET, PUT",
        "access-control-allow-headers": "X-Amz-Date, content-type",
        "access-control-expose-headers": "ETag, x-amz-version-id",
        "access-control-max-age": "600",
        "access-control-allow-credentials": "true",
        "vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
    }
    assert cors_headers(answers[0][1]) == cors_headers(answers[1][1]) == expected, answers
    # A wildcard origin; the first rule that matches wins; a rule for any origin answers `*`
    # and no credentials.
    status, headers, _ = preflight("/acme-cors", {"Origin": "http://www.example.org", "Access-Control-Request-Method": "HEAD"})
    assert status == 200 and cors_headers(headers) == {
        "access-control-allow-origin": "http://www.example.org", "access-control-allow-methods": "GET, HEAD",
        "access-control-allow-credentials": "true", "vary": expected["vary"]}, (status, dict(headers))
    status, headers, _ = preflight("/acme-cors/k", {"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert status == 200 and cors_headers(headers)["access-control-allow-origin"] == "https://app.example", dict(headers)
    status, headers, _ = preflight("/acme-cors/k", {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})
    assert status == 200 and cors_headers(headers) == {
        "access-control-allow-origin": "*", "access-control-allow-methods": "GET", "vary": expected["vary"]}, dict(headers)
    # Not allowed: another scheme, a method, a header.
    not_allowed = "CORSResponse: This CORS request is not allowed."
    refused(preflight("/acme-cors/k", {"Origin": "https://www.example.org", "Access-Control-Request-Method": "HEAD"}), 403, "AccessForbidden", not_allowed)
    refused(preflight("/acme-cors/k", dict(app, **{"Access-Control-Request-Method": "DELETE"})), 403, "AccessForbidden", not_allowed)
    refused(preflight("/acme-cors/k", dict(app, **{"Access-Control-Request-Headers": "x-amz-date, range"})), 403, "AccessForbidden", not_allowed)
    refused(preflight("/acme-cors/k", {"Origin": "http://a.example.org", "Access-Control-Request-Method": "HEAD", "Access-Control-Request-Headers": "x-amz-date"}), 403, "AccessForbidden", not_allowed)

    # Actual requests from an allowed origin carry the headers, answered or refused; CORS lets a
    # browser read an answer, it allows no request (a PUT no rule allows for the origin succeeds,
    # without the headers).
    browser = from_origin("https://app.example")
    got = browser.get_object(Bucket="acme-cors", Key="k")
    h = got["ResponseMetadata"]["HTTPHeaders"]
    assert got["Body"].read() == b"shared", got
    assert (h["access-control-allow-origin"], h["access-control-allow-methods"], h["access-control-expose-headers"]) == ("https://app.example", "GET, PUT", "ETag, x-amz-version-id"), h
    missing = fails("NoSuchKey", browser.get_object, Bucket="acme-cors", Key="missing")
    assert missing["ResponseMetadata"]["HTTPHeaders"]["access-control-allow-origin"] == "https://app.example", missing
    elsewhere = from_origin("https://elsewhere.example")
    h = elsewhere.get_object(Bucket="acme-cors", Key="k")["ResponseMetadata"]["HTTPHeaders"]
    assert h["access-control-allow-origin"] == "*" and "access-control-allow-credentials" not in h, h
    h = elsewhere.put_object(Bucket="acme-cors", Key="k2", Body=b"no rule")["ResponseMetadata"]["HTTPHeaders"]
    assert "access-control-allow-origin" not in h, h
    s3.delete_object(Bucket="acme-cors", Key="k2")

    s3.delete_bucket_cors(Bucket="acme-cors")
    fails("NoSuchCORSConfiguration", s3.get_bucket_cors, Bucket="acme-cors")
    refused(preflight("/acme-cors/k", app), 403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")
    assert "access-control-allow-origin" not in browser.get_object(Bucket="acme-cors", Key="k")["ResponseMetadata"]["HTTPHeaders"]
    # Left for serve_s3.rs's aws-cli check.
    s3.put_bucket_cors(Bucket="acme-cors", CORSConfiguration={"CORSRules": rules[:1]})


def conformance():
    """What the ceph s3-tests showed (issue 19): bucket tagging and policy status, listing
    encodings and markers, the answers of writes (versions, encryption), refusals S3 makes
    (SSE headers on reads, tag limits, a copy onto itself, a copy range past the source),
    Content-Encoding, and a 16 MiB upload sent the way botocore sends it (no Content-Length)."""
    b = "acme-conformance"
    s3.create_bucket(Bucket=b)
    # Bucket tagging.
    fails("NoSuchTagSet", s3.get_bucket_tagging, Bucket=b)
    s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "team", "Value": "blue"}, {"Key": "env", "Value": "prod"}]})
    assert sorted((t["Key"], t["Value"]) for t in s3.get_bucket_tagging(Bucket=b)["TagSet"]) == [("env", "prod"), ("team", "blue")]
    fails("InvalidTag", s3.put_bucket_tagging, Bucket=b, Tagging={"TagSet": [{"Key": "k" * 129, "Value": "v"}]})
    fails("InvalidTag", s3.put_bucket_tagging, Bucket=b, Tagging={"TagSet": [{"Key": "aws:x", "Value": "v"}]})
    fails("InvalidTag", s3.put_bucket_tagging, Bucket=b, Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(51)]})
    fails("AccessDenied", other.get_bucket_tagging, Bucket=b)
    s3.delete_bucket_tagging(Bucket=b)
    fails("NoSuchTagSet", s3.get_bucket_tagging, Bucket=b)
    # Policy status: none without a policy; not public with an account-only one.
    fails("NoSuchBucketPolicy", s3.get_bucket_policy_status, Bucket=b)
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{b}/*"}]}))
    assert s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"] is False
    s3.delete_bucket_policy(Bucket=b)
    # Listing: url encoding (botocore asks for it and decodes), markers past a common prefix,
    # max-keys=0, owners.
    for k in ["asdf+b", "a b/c", "boo/bar", "boo/baz/xyzzy", "cquux/thud", "cquux/bla"]:
        s3.put_object(Bucket=b, Key=k, Body=b"x")
    listed = s3.list_objects(Bucket=b, Prefix="a b")
    assert [c["Key"] for c in listed["Contents"]] == ["a b/c"] and listed["Prefix"] == "a b", listed
    listed = s3.list_objects_v2(Bucket=b, Prefix="asdf+")
    assert [c["Key"] for c in listed["Contents"]] == ["asdf+b"] and listed["Prefix"] == "asdf+", listed
    page = s3.list_objects(Bucket=b, Delimiter="/", Marker="boo/")
    assert [p["Prefix"] for p in page.get("CommonPrefixes", [])] == ["cquux/"] and not page["IsTruncated"], page
    page = s3.list_objects_v2(Bucket=b, Delimiter="/", StartAfter="boo/")
    assert [p["Prefix"] for p in page.get("CommonPrefixes", [])] == ["cquux/"], page
    zero = s3.list_objects_v2(Bucket=b, MaxKeys=0)
    assert zero["KeyCount"] == 0 and zero["IsTruncated"] is False, zero
    assert all(c["Owner"]["ID"] == ACCOUNT for c in s3.list_objects(Bucket=b)["Contents"])
    assert "Owner" not in s3.list_objects_v2(Bucket=b)["Contents"][0]
    assert s3.list_objects_v2(Bucket=b, FetchOwner=True)["Contents"][0]["Owner"]["ID"] == ACCOUNT
    # Reads refuse a write's encryption headers; AES256 with a KMS key id is refused.
    sse_read = client("s3", KEY, SECRET)
    sse_read.meta.events.register("before-sign.s3.HeadObject", lambda request, **_: request.headers.__setitem__("x-amz-server-side-encryption", "AES256"))
    fails("400", sse_read.head_object, Bucket=b, Key="boo/bar")
    fails("InvalidArgument", s3.put_object, Bucket=b, Key="enc", Body=b"x", ServerSideEncryption="AES256", SSEKMSKeyId="alias/aws/s3")
    # Tags: key and value lengths.
    fails("InvalidTag", s3.put_object_tagging, Bucket=b, Key="boo/bar", Tagging={"TagSet": [{"Key": "k" * 129, "Value": "v"}]})
    fails("InvalidTag", s3.put_object_tagging, Bucket=b, Key="boo/bar", Tagging={"TagSet": [{"Key": "k", "Value": "v" * 257}]})
    # A copy onto itself must change something; a copy range must lie within the source.
    fails("InvalidRequest", s3.copy_object, Bucket=b, Key="boo/bar", CopySource={"Bucket": b, "Key": "boo/bar"})
    s3.copy_object(Bucket=b, Key="boo/bar", CopySource={"Bucket": b, "Key": "boo/bar"}, MetadataDirective="REPLACE", Metadata={"m": "1"})
    assert s3.head_object(Bucket=b, Key="boo/bar")["Metadata"] == {"m": "1"}
    mp = s3.create_multipart_upload(Bucket=b, Key="ranged")
    fails("InvalidRange", s3.upload_part_copy, Bucket=b, Key="ranged", UploadId=mp["UploadId"], PartNumber=1,
          CopySource={"Bucket": b, "Key": "boo/bar"}, CopySourceRange="bytes=0-5")
    s3.abort_multipart_upload(Bucket=b, Key="ranged", UploadId=mp["UploadId"])
    # Complete answers the encryption and (versioned) the version, as PutObject does.
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    mp = s3.create_multipart_upload(Bucket=b, Key="parts", ServerSideEncryption="AES256")
    part = s3.upload_part(Bucket=b, Key="parts", UploadId=mp["UploadId"], PartNumber=1, Body=b"p")
    done = s3.complete_multipart_upload(Bucket=b, Key="parts", UploadId=mp["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert done["ServerSideEncryption"] == "AES256" and done["VersionId"] == s3.head_object(Bucket=b, Key="parts")["VersionId"], done
    # One part of an object by partNumber (GET and HEAD); GetObjectAttributes.
    first, second = os.urandom(5 * 1024 * 1024), b"tail"
    mp = s3.create_multipart_upload(Bucket=b, Key="two")
    p1 = s3.upload_part(Bucket=b, Key="two", UploadId=mp["UploadId"], PartNumber=1, Body=first)
    p3 = s3.upload_part(Bucket=b, Key="two", UploadId=mp["UploadId"], PartNumber=3, Body=second)
    s3.complete_multipart_upload(Bucket=b, Key="two", UploadId=mp["UploadId"], MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 3, "ETag": p3["ETag"]}]})
    got = s3.get_object(Bucket=b, Key="two", PartNumber=3)
    assert got["Body"].read() == second and got["PartsCount"] == 2, got
    assert got["ContentRange"] == f"bytes {len(first)}-{len(first) + 3}/{len(first) + 4}", got
    head = s3.head_object(Bucket=b, Key="two", PartNumber=1)
    assert head["ContentLength"] == len(first) and head["PartsCount"] == 2, head
    fails("InvalidPartNumber", s3.get_object, Bucket=b, Key="two", PartNumber=2)
    fails("InvalidRequest", s3.get_object, Bucket=b, Key="two", PartNumber=1, Range="bytes=0-1")
    assert s3.get_object(Bucket=b, Key="boo/bar", PartNumber=1)["Body"].read() == b"x"
    attrs = s3.get_object_attributes(Bucket=b, Key="two", ObjectAttributes=["ETag", "ObjectSize", "StorageClass", "ObjectParts"], MaxParts=1)
    assert attrs["ObjectSize"] == len(first) + 4 and attrs["StorageClass"] == "STANDARD", attrs
    assert attrs["ETag"] == s3.head_object(Bucket=b, Key="two")["ETag"].strip('"'), attrs
    parts = attrs["ObjectParts"]
    assert parts["TotalPartsCount"] == 2 and parts["IsTruncated"] and parts["Parts"] == [{"PartNumber": 1, "Size": len(first)}], parts
    rest = s3.get_object_attributes(Bucket=b, Key="two", ObjectAttributes=["ObjectParts"], PartNumberMarker=parts["NextPartNumberMarker"])
    assert rest["ObjectParts"]["Parts"] == [{"PartNumber": 3, "Size": 4}] and not rest["ObjectParts"]["IsTruncated"], rest
    plain = s3.get_object_attributes(Bucket=b, Key="boo/bar", ObjectAttributes=["ObjectSize", "ObjectParts"])
    assert plain["ObjectSize"] == 1 and "ObjectParts" not in plain and "VersionId" not in plain, plain
    fails("NoSuchKey", s3.get_object_attributes, Bucket=b, Key="nothing", ObjectAttributes=["ETag"])
    fails("AccessDenied", other.get_object_attributes, Bucket=b, Key="two", ObjectAttributes=["ETag"])
    # ListBuckets pages and prefixes.
    for extra in ["acme-conformance-a", "acme-conformance-b"]:
        s3.create_bucket(Bucket=extra)
    first = s3.list_buckets(Prefix="acme-conformance", MaxBuckets=2)
    assert [x["Name"] for x in first["Buckets"]] == [b, "acme-conformance-a"] and first["Prefix"] == "acme-conformance", first
    rest = s3.list_buckets(Prefix="acme-conformance", MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [x["Name"] for x in rest["Buckets"]] == ["acme-conformance-b"] and "ContinuationToken" not in rest, rest
    assert rest["Buckets"][0]["BucketRegion"] == "us-east-1", rest
    for extra in ["acme-conformance-a", "acme-conformance-b"]:
        s3.delete_bucket(Bucket=extra)
    # Conditional writes (S3's subset): If-None-Match: * and If-Match: ETAG.
    made = s3.put_object(Bucket=b, Key="once", Body=b"1", IfNoneMatch="*")
    fails("PreconditionFailed", s3.put_object, Bucket=b, Key="once", Body=b"2", IfNoneMatch="*")
    fails("PreconditionFailed", s3.put_object, Bucket=b, Key="once", Body=b"2", IfMatch='"0123"')
    s3.put_object(Bucket=b, Key="once", Body=b"2", IfMatch=made["ETag"])
    assert s3.get_object(Bucket=b, Key="once")["Body"].read() == b"2"
    fails("NoSuchKey", s3.put_object, Bucket=b, Key="never", Body=b"x", IfMatch=made["ETag"])
    fails("NotImplemented", s3.put_object, Bucket=b, Key="once", Body=b"3", IfNoneMatch=made["ETag"])
    for target, ok in [("once", False), ("fresh", True)]:
        mp = s3.create_multipart_upload(Bucket=b, Key=target)
        part = s3.upload_part(Bucket=b, Key=target, UploadId=mp["UploadId"], PartNumber=1, Body=b"p")
        complete = dict(Bucket=b, Key=target, UploadId=mp["UploadId"], IfNoneMatch="*",
                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
        if ok:
            s3.complete_multipart_upload(**complete)
        else:
            fails("PreconditionFailed", s3.complete_multipart_upload, **complete)
            s3.abort_multipart_upload(Bucket=b, Key=target, UploadId=mp["UploadId"])
    # Expires and the other system metadata, also through a multipart upload; response-*
    # overrides on GET.
    s3.put_object(Bucket=b, Key="exp", Body=b"x", Expires="Wed, 21 Oct 2037 07:28:00 GMT")
    assert s3.head_object(Bucket=b, Key="exp")["ExpiresString"] == "Wed, 21 Oct 2037 07:28:00 GMT"
    mp = s3.create_multipart_upload(Bucket=b, Key="mp-meta", ContentDisposition="attachment", CacheControl="no-cache", ContentLanguage="fr")
    part = s3.upload_part(Bucket=b, Key="mp-meta", UploadId=mp["UploadId"], PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(Bucket=b, Key="mp-meta", UploadId=mp["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    head = s3.head_object(Bucket=b, Key="mp-meta")
    assert (head["ContentDisposition"], head["CacheControl"], head["ContentLanguage"]) == ("attachment", "no-cache", "fr"), head
    got = s3.get_object(Bucket=b, Key="exp", ResponseContentType="text/plain", ResponseContentDisposition="inline")
    assert got["ContentType"] == "text/plain" and got["ContentDisposition"] == "inline", got
    # Object Lock headers on a bucket without Object Lock are refused, never ignored.
    fails("InvalidRequest", s3.put_object, Bucket=b, Key="locked", Body=b"x", ObjectLockLegalHoldStatus="ON")
    fails("InvalidRequest", s3.create_multipart_upload, Bucket=b, Key="locked", ObjectLockMode="GOVERNANCE",
          ObjectLockRetainUntilDate="2030-01-01T00:00:00Z")
    # A CRC-64/NVME checksum is checked like the others.
    s3.put_object(Bucket=b, Key="crc64", Body=b"123456789", ChecksumCRC64NVME="rosUhgp5mIg=")
    fails("BadDigest", s3.put_object, Bucket=b, Key="crc64", Body=b"123456780", ChecksumCRC64NVME="rosUhgp5mIg=")
    # Content-Encoding keeps what the client meant, not the aws-chunked framing.
    for given, stored in [("deflate, gzip", "deflate, gzip"), ("aws-chunked, gzip", "gzip"), ("gzip", "gzip")]:
        s3.put_object(Bucket=b, Key="gz", Body=b"not really gzip", ContentEncoding=given)
        assert s3.head_object(Bucket=b, Key="gz")["ContentEncoding"] == stored, given
    s3.put_object(Bucket=b, Key="unframed", Body=b"x", ContentEncoding="aws-chunked")
    assert "ContentEncoding" not in s3.head_object(Bucket=b, Key="unframed")
    # Error answers that name what they refer to: a 304's ETag, a deleted key's marker.
    etag = s3.head_object(Bucket=b, Key="gz")["ETag"]
    not_modified = fails("304", s3.head_object, Bucket=b, Key="gz", IfNoneMatch=etag)
    assert not_modified["ResponseMetadata"]["HTTPHeaders"]["etag"] == etag, not_modified
    marker = s3.delete_object(Bucket=b, Key="gz")
    gone = fails("404", s3.head_object, Bucket=b, Key="gz")
    headers = gone["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true" and headers["x-amz-version-id"] == marker["VersionId"], headers
    by_id = fails("405", s3.head_object, Bucket=b, Key="gz", VersionId=marker["VersionId"])
    assert by_id["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true", by_id
    # 16 MiB and more, as botocore sends it (chunked, no Content-Length), streams.
    big = os.urandom(16 * 1024 * 1024 + 5)
    s3.put_object(Bucket=b, Key="big", Body=big)
    got = s3.get_object(Bucket=b, Key="big")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(big).digest()
    # A condition on s3:x-amz-server-side-encryption with Null: a write without the header has
    # no such key (the bucket's default encrypts it), as in S3.
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{b}/*",
        "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}]}))
    fails("AccessDenied", s3.put_object, Bucket=b, Key="plain", Body=b"x")
    s3.put_object(Bucket=b, Key="plain", Body=b"x", ServerSideEncryption="AES256")
    s3.delete_bucket_policy(Bucket=b)
    # SSE-S3 is S3's own encryption: another account a bucket policy admits reads and writes
    # SSE-S3 objects with no KMS permission of its own (SSE-KMS under aws/s3 stays the
    # account's, as in AWS).
    s3.put_bucket_policy(Bucket=b, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{b}/*"}]}))
    assert other.get_object(Bucket=b, Key="plain")["Body"].read() == b"x"
    other.put_object(Bucket=b, Key="from-other", Body=b"theirs")
    assert s3.get_object(Bucket=b, Key="from-other")["Body"].read() == b"theirs"
    s3.put_object(Bucket=b, Key="kms-managed", Body=b"k", ServerSideEncryption="aws:kms")
    fails("AccessDenied", other.get_object, Bucket=b, Key="kms-managed")
    s3.delete_bucket_policy(Bucket=b)


def object_lock():
    """Object Lock: a bucket's lock and default retention, each version's retention (GOVERNANCE
    gives way only to a caller who asks and may, COMPLIANCE to no one until it ends) and legal
    hold; protected versions are not deleted for good (a delete marker still may be written)."""
    import datetime
    import time
    utc = datetime.timezone.utc
    # Without Object Lock: refused, and never turned on while versioning is not Enabled.
    s3.create_bucket(Bucket="acme-plain")
    s3.put_object(Bucket="acme-plain", Key="k", Body=b"x")
    conf = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}}
    fails("InvalidBucketState", s3.put_object_lock_configuration, Bucket="acme-plain", ObjectLockConfiguration=conf)
    fails("ObjectLockConfigurationNotFoundError", s3.get_object_lock_configuration, Bucket="acme-plain")
    fails("InvalidRequest", s3.put_object_retention, Bucket="acme-plain", Key="k",
          Retention={"Mode": "GOVERNANCE", "RetainUntilDate": datetime.datetime(2030, 1, 1, tzinfo=utc)})
    fails("InvalidRequest", s3.get_object_legal_hold, Bucket="acme-plain", Key="k")
    s3.put_bucket_versioning(Bucket="acme-plain", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket="acme-plain", ObjectLockConfiguration=conf)
    assert s3.get_object_lock_configuration(Bucket="acme-plain")["ObjectLockConfiguration"] == conf

    # A bucket made with Object Lock is versioned, and stays so.
    b = "acme-lock"
    s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    assert s3.get_bucket_versioning(Bucket=b)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    fails("InvalidBucketState", s3.put_bucket_versioning, Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    made = s3.put_object(Bucket=b, Key="free", Body=b"x")
    fails("NoSuchObjectLockConfiguration", s3.get_object_retention, Bucket=b, Key="free")
    fails("NoSuchObjectLockConfiguration", s3.get_object_legal_hold, Bucket=b, Key="free")
    for bad, code in [({"Mode": "GOVERNANCE", "Days": 1, "Years": 1}, "MalformedXML"),
                      ({"Mode": "GOVERNANCE", "Days": 0}, "InvalidRetentionPeriod"),
                      ({"Mode": "governance", "Days": 1}, "MalformedXML")]:
        fails(code, s3.put_object_lock_configuration, Bucket=b,
              ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": bad}})
    s3.delete_object(Bucket=b, Key="free", VersionId=made["VersionId"])

    # The default retention applies to new versions (PutObject, CopyObject, multipart).
    s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=conf)
    before = datetime.datetime.now(utc)
    gov = s3.put_object(Bucket=b, Key="gov", Body=b"governed")
    head = s3.head_object(Bucket=b, Key="gov")
    assert head["ObjectLockMode"] == "GOVERNANCE", head
    until = head["ObjectLockRetainUntilDate"]
    assert before + datetime.timedelta(hours=23) < until < before + datetime.timedelta(hours=25), until
    copied = s3.copy_object(Bucket=b, Key="copied", CopySource={"Bucket": "acme-plain", "Key": "k"})
    assert s3.get_object_retention(Bucket=b, Key="copied")["Retention"]["Mode"] == "GOVERNANCE"
    # GOVERNANCE: no delete of the version, no shortening, without the bypass; a marker is fine.
    fails("AccessDenied", s3.delete_object, Bucket=b, Key="gov", VersionId=gov["VersionId"])
    marker = s3.delete_object(Bucket=b, Key="gov")
    assert marker["DeleteMarker"], marker
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": until - datetime.timedelta(hours=1)}
    fails("AccessDenied", s3.put_object_retention, Bucket=b, Key="gov", VersionId=gov["VersionId"], Retention=shorter)
    longer = {"Mode": "GOVERNANCE", "RetainUntilDate": datetime.datetime(2140, 1, 1, tzinfo=utc)}
    s3.put_object_retention(Bucket=b, Key="gov", VersionId=gov["VersionId"], Retention=longer)
    assert s3.get_object_retention(Bucket=b, Key="gov", VersionId=gov["VersionId"])["Retention"] == longer
    fails("AccessDenied", s3.put_object_retention, Bucket=b, Key="gov", VersionId=gov["VersionId"],
          Retention={"Mode": "COMPLIANCE", "RetainUntilDate": longer["RetainUntilDate"]})
    # A user who may do everything but bypass governance retention cannot, nor see it.
    bob, _ = make_bob()
    iam.put_user_policy(UserName="bob", PolicyName="no-bypass", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": ["s3:BypassGovernanceRetention", "s3:GetObjectRetention"], "Resource": "*"}]}))
    time.sleep(0.2)
    fails("AccessDenied", bob.delete_object, Bucket=b, Key="gov", VersionId=gov["VersionId"], BypassGovernanceRetention=True)
    assert "ObjectLockMode" not in bob.head_object(Bucket=b, Key="gov", VersionId=gov["VersionId"])
    s3.put_object_retention(Bucket=b, Key="gov", VersionId=gov["VersionId"], Retention=shorter, BypassGovernanceRetention=True)
    s3.delete_object(Bucket=b, Key="gov", VersionId=gov["VersionId"], BypassGovernanceRetention=True)
    s3.delete_object(Bucket=b, Key="copied", VersionId=copied["VersionId"], BypassGovernanceRetention=True)

    # COMPLIANCE: only extended, never bypassed, until it ends.
    soon = datetime.datetime.now(utc) + datetime.timedelta(seconds=6)
    comp = s3.put_object(Bucket=b, Key="comp", Body=b"kept", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=soon)
    later = soon + datetime.timedelta(seconds=2)
    fails("AccessDenied", s3.put_object_retention, Bucket=b, Key="comp", BypassGovernanceRetention=True,
          Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later})
    fails("AccessDenied", s3.put_object_retention, Bucket=b, Key="comp", BypassGovernanceRetention=True,
          Retention={"Mode": "COMPLIANCE", "RetainUntilDate": soon - datetime.timedelta(seconds=1)})
    s3.put_object_retention(Bucket=b, Key="comp", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later})
    fails("AccessDenied", s3.delete_object, Bucket=b, Key="comp", VersionId=comp["VersionId"], BypassGovernanceRetention=True)
    batch = s3.delete_objects(Bucket=b, BypassGovernanceRetention=True, Delete={"Objects": [{"Key": "comp", "VersionId": comp["VersionId"]}]})
    assert batch["Errors"][0]["Code"] == "AccessDenied" and "Deleted" not in batch, batch
    time.sleep(max(0.0, (later - datetime.datetime.now(utc)).total_seconds()) + 0.5)
    s3.delete_object(Bucket=b, Key="comp", VersionId=comp["VersionId"])

    # Writes that ask for a lock: both mode and date, a date to come, a known mode.
    for args, code in [({"ObjectLockMode": "GOVERNANCE"}, "InvalidArgument"),
                       ({"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": datetime.datetime(2000, 1, 1, tzinfo=utc)}, "InvalidArgument"),
                       ({"ObjectLockLegalHoldStatus": "MAYBE"}, "InvalidArgument")]:
        fails(code, s3.put_object, Bucket=b, Key="bad", Body=b"x", **args)
    fails("MalformedXML", s3.put_object_legal_hold, Bucket=b, Key="gov2", LegalHold={"Status": "abc"})

    # A legal hold: no delete of the version, bypass or not, until it is lifted.
    mp = s3.create_multipart_upload(Bucket=b, Key="held", ObjectLockLegalHoldStatus="ON",
                                    ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=datetime.datetime(2030, 1, 1, tzinfo=utc))
    part = s3.upload_part(Bucket=b, Key="held", UploadId=mp["UploadId"], PartNumber=1, Body=b"held data")
    held = s3.complete_multipart_upload(Bucket=b, Key="held", UploadId=mp["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    head = s3.head_object(Bucket=b, Key="held")
    assert (head["ObjectLockLegalHoldStatus"], head["ObjectLockMode"]) == ("ON", "GOVERNANCE"), head
    assert head["ObjectLockRetainUntilDate"] == datetime.datetime(2030, 1, 1, tzinfo=utc), head
    assert s3.get_object_legal_hold(Bucket=b, Key="held")["LegalHold"] == {"Status": "ON"}
    fails("AccessDenied", s3.delete_object, Bucket=b, Key="held", VersionId=held["VersionId"], BypassGovernanceRetention=True)
    plain = s3.put_object(Bucket=b, Key="plain", Body=b"p", ObjectLockLegalHoldStatus="OFF")
    batch = s3.delete_objects(Bucket=b, BypassGovernanceRetention=True, Delete={"Objects": [
        {"Key": "held", "VersionId": held["VersionId"]}, {"Key": "plain", "VersionId": plain["VersionId"]}]})
    # "plain" got the default retention (GOVERNANCE), which the bypass lets go.
    assert [d["Key"] for d in batch["Deleted"]] == ["plain"], batch
    assert [(e["Key"], e["Code"]) for e in batch["Errors"]] == [("held", "AccessDenied")], batch
    # "held" stays on hold: the operator's test edits its rows next.
    print(json.dumps({"held": held["VersionId"]}))
def until(check, what, timeout=30):
    """Waits (polling) until `check()` holds, at most `timeout` seconds."""
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.5)


def lifecycle():
    """Lifecycle rules are put, answered as given, refused as S3 refuses them and deleted; and S3
    applies them itself (the server runs with `--lifecycle-day-secs 2 --lifecycle-interval-secs
    1`): objects expire (gone without versioning; with it a delete marker, then the noncurrent
    version, then the marker left alone), uploads are aborted, what no rule selects stays, and
    each action is S3's own event in the trail."""
    b = "acme-lifecycle"
    s3.create_bucket(Bucket=b)
    fails("NoSuchLifecycleConfiguration", s3.get_bucket_lifecycle_configuration, Bucket=b)
    # DELETE answers 204 even when there is nothing to delete.
    assert s3.delete_bucket_lifecycle(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 204
    # Rules with the legacy Prefix are answered with it (no Filter added), as ceph's
    # test_lifecycle_get compares.
    legacy = [{"ID": "test1/", "Expiration": {"Days": 31}, "Prefix": "test1/", "Status": "Enabled"},
              {"ID": "test2/", "Expiration": {"Days": 120}, "Prefix": "test2/", "Status": "Enabled"}]
    put = s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": legacy})
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"] == legacy
    filtered = [
        {"ID": "and", "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "t", "Value": "1"}], "ObjectSizeGreaterThan": 10}},
         "Status": "Disabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 2, "NewerNoncurrentVersions": 3}},
        {"ID": "markers", "Filter": {"Prefix": "foo"}, "Status": "Enabled", "Expiration": {"ExpiredObjectDeleteMarker": True}},
        {"ID": "uploads", "Filter": {}, "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}},
        {"ID": "tagged", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Status": "Enabled", "Expiration": {"Days": 5}},
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": filtered})
    assert s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"] == filtered
    # A Date at midnight UTC is taken and answered as that instant.
    dated = [{"ID": "d", "Expiration": {"Date": "2017-09-27"}, "Prefix": "test1/", "Status": "Enabled"}]
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": dated})
    got = s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"][0]["Expiration"]["Date"]
    assert got.isoformat() == "2017-09-27T00:00:00+00:00", got
    # Rules put without an ID get one.
    unnamed = [{"Expiration": {"Days": 31}, "Prefix": "test1/", "Status": "Enabled"},
               {"Expiration": {"Days": 120}, "Prefix": "test2/", "Status": "Enabled"}]
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": unnamed})
    ids = [r.get("ID") for r in s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]]
    assert all(ids) and len(set(ids)) == 2, ids

    def refused(code, rules, call=s3.put_bucket_lifecycle_configuration):
        fails(code, call, Bucket=b, LifecycleConfiguration={"Rules": rules})

    refused("InvalidArgument", [{"ID": "a" * 256, "Expiration": {"Days": 2}, "Prefix": "p", "Status": "Enabled"}])
    refused("InvalidArgument", [{"ID": "same", "Expiration": {"Days": 1}, "Prefix": "a", "Status": "Enabled"},
                                {"ID": "same", "Expiration": {"Days": 2}, "Prefix": "b", "Status": "Enabled"}])
    for status in ["enabled", "disabled", "invalid"]:
        refused("MalformedXML", [{"ID": "r", "Expiration": {"Days": 2}, "Prefix": "p", "Status": status}])
    # The legacy PutBucketLifecycle sends the same request.
    refused("MalformedXML", [{"ID": "r", "Expiration": {"Days": 2}, "Prefix": "p", "Status": "disabled"}],
            call=s3.put_bucket_lifecycle)
    # botocore sends "20200101" as the epoch second it reads as: not a midnight.
    refused("InvalidArgument", [{"ID": "r", "Expiration": {"Date": "20200101"}, "Prefix": "p", "Status": "Enabled"}])
    refused("InvalidArgument", [{"ID": "r", "Expiration": {"Days": 0}, "Prefix": "p", "Status": "Enabled"}])
    # No storage classes here: transitions are refused (a bad transition date first, as such).
    refused("InvalidArgument", [{"ID": "r", "Expiration": {"Date": "2023-09-27"}, "Prefix": "p", "Status": "Enabled",
                                 "Transitions": [{"Date": "20220927", "StorageClass": "GLACIER"}]}])
    refused("InvalidRequest", [{"ID": "r", "Prefix": "p", "Status": "Enabled",
                                "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}])
    refused("MalformedXML", [{"ID": "r", "Prefix": "p", "Status": "Enabled"}])
    refused("InvalidRequest", [{"ID": "r", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Status": "Enabled",
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}])
    # Refusals change nothing; another account may not read the rules.
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]) == 2
    fails("AccessDenied", other.get_bucket_lifecycle_configuration, Bucket=b)
    assert s3.delete_bucket_lifecycle(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 204
    fails("NoSuchLifecycleConfiguration", s3.get_bucket_lifecycle_configuration, Bucket=b)

    # Enforcement: a lifecycle day is 2 s here.
    plain, versioned = "acme-lc-plain", "acme-lc-versioned"
    s3.create_bucket(Bucket=plain)
    s3.put_object(Bucket=plain, Key="logs/old", Body=b"expires")
    s3.put_object(Bucket=plain, Key="keep/new", Body=b"stays")
    expiring = s3.create_multipart_upload(Bucket=plain, Key="logs/upload")["UploadId"]
    s3.upload_part(Bucket=plain, Key="logs/upload", UploadId=expiring, PartNumber=1, Body=b"part")
    staying = s3.create_multipart_upload(Bucket=plain, Key="keep/upload")["UploadId"]
    s3.put_bucket_lifecycle_configuration(Bucket=plain, LifecycleConfiguration={"Rules": [
        {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 1},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
    s3.create_bucket(Bucket=versioned)
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=versioned, Key="v/k", Body=b"versioned")
    s3.put_object(Bucket=versioned, Key="other/k", Body=b"stays")
    s3.put_bucket_lifecycle_configuration(Bucket=versioned, LifecycleConfiguration={"Rules": [
        {"ID": "current", "Filter": {"Prefix": "v/"}, "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "noncurrent", "Filter": {"Prefix": "v/"}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
        {"ID": "markers", "Filter": {"Prefix": "v/"}, "Status": "Enabled",
         "Expiration": {"ExpiredObjectDeleteMarker": True}}]})

    def keys(bucket):
        return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]

    def uploads(bucket):
        return [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]

    def versions(bucket):
        listing = s3.list_object_versions(Bucket=bucket)
        return ([(v["Key"]) for v in listing.get("Versions", [])],
                [(m["Key"]) for m in listing.get("DeleteMarkers", [])])

    until(lambda: keys(plain) == ["keep/new"], "logs/old expired")
    until(lambda: uploads(plain) == [staying], "the logs/ upload aborted")
    assert s3.get_object(Bucket=plain, Key="keep/new")["Body"].read() == b"stays"
    fails("NoSuchUpload", s3.list_parts, Bucket=plain, Key="logs/upload", UploadId=expiring)
    # Versioned: a delete marker first (the data kept as a noncurrent version)...
    until(lambda: "v/k" in versions(versioned)[1], "a delete marker for v/k")
    fails("NoSuchKey", s3.get_object, Bucket=versioned, Key="v/k")
    # ... then the noncurrent version a day after it became noncurrent, then the marker alone.
    until(lambda: versions(versioned) == (["other/k"], []), "v/k's version and marker removed")
    assert s3.get_object(Bucket=versioned, Key="other/k")["Body"].read() == b"stays"
    s3.abort_multipart_upload(Bucket=plain, Key="keep/upload", UploadId=staying)

    # Each action is S3's own, in the owner's trail, naming the object and the rule.
    cloudtrail = client("cloudtrail", KEY, SECRET)
    records = []
    for page in cloudtrail.get_paginator("lookup_events").paginate():
        records.extend(json.loads(e["CloudTrailEvent"]) for e in page["Events"])
    by_name = {}
    for r in records:
        by_name.setdefault(r["eventName"], []).append(r)
    for name in ["S3LifecycleExpiration", "S3LifecycleNoncurrentExpiration",
                 "S3LifecycleExpiredDeleteMarker", "S3LifecycleAbortMultipartUpload"]:
        assert name in by_name, (name, sorted(by_name))
    expired = [r for r in by_name["S3LifecycleExpiration"] if r["requestParameters"]["key"] == "logs/old"]
    assert len(expired) == 1, by_name["S3LifecycleExpiration"]
    event = expired[0]
    assert event["eventSource"] == "s3.amazonaws.com" and event["eventType"] == "AwsServiceEvent", event
    assert event["userIdentity"]["type"] == "AWSService", event
    assert event["userIdentity"]["invokedBy"] == "s3.amazonaws.com", event
    assert event["requestParameters"]["bucketName"] == plain, event
    assert event["requestParameters"]["lifecycleRuleId"] == "logs", event
    aborted = by_name["S3LifecycleAbortMultipartUpload"][0]["requestParameters"]
    assert (aborted["key"], aborted["uploadId"]) == ("logs/upload", expiring), aborted
    marker = [r for r in by_name["S3LifecycleExpiration"] if r["requestParameters"]["key"] == "v/k"]
    assert marker and marker[0]["responseElements"]["deleteMarker"] is True, marker
    # Nothing outside the rules' prefixes was touched.
    touched = {r["requestParameters"]["key"] for n, rs in by_name.items() if n.startswith("S3Lifecycle") for r in rs}
    assert touched == {"logs/old", "logs/upload", "v/k"}, touched


# --- additional checksums


def crc_table(poly):
    """The byte-at-a-time table of the bit-reflected CRC whose reflected polynomial is `poly`."""
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C = (crc_table(0x82F63B78), 2**32 - 1, 4)
CRC64NVME = (crc_table(0x9A6C9329AC4BC9B5), 2**64 - 1, 8)


def crc_register(crc, data, register=None):
    """The register of CRC `crc` (CRC32C or CRC64NVME: table, all-ones mask, bytes) run over
    `data` from `register` (all ones to start): a reference computed here, independently of
    the server's (Python's zlib has only CRC-32)."""
    table, mask, _ = crc
    register = mask if register is None else register
    for b in data:
        register = table[(register ^ b) & 0xFF] ^ (register >> 8)
    return register


def crc_b64(crc, register):
    """A CRC's register as the checksum headers carry it (base64 of the big-endian value)."""
    _, mask, size = crc
    return b64((register ^ mask).to_bytes(size, "big"))


def b64(raw):
    return base64.b64encode(raw).decode()


def checksums():
    """Additional checksums kept and answered: each algorithm on PutObject (HEAD answers it only
    with ChecksumMode, GET and GetObjectAttributes, never for a range), multipart COMPOSITE and
    FULL_OBJECT (compared with values computed here), parts' checksums in UploadPart, ListParts,
    GET partNumber and GetObjectAttributes, S3's refusals, copies, and CompleteMultipartUpload
    sent again. Prints the checksums it made: serve_s3.rs looks for them in the clear."""
    b = "acme-checksums"
    s3.create_bucket(Bucket=b)
    # The references, checked against the CRC catalogue's check values.
    assert crc_register(CRC32C, b"123456789") ^ CRC32C[1] == 0xE3069283
    assert crc_register(CRC64NVME, b"123456789") ^ CRC64NVME[1] == 0xAE8B14860A799888
    made = []

    # PutObject with each algorithm (values given, so botocore needs no CRT for the CRCs).
    data = os.urandom(100_000)
    expected = {
        "CRC32": b64(zlib.crc32(data).to_bytes(4, "big")),
        "CRC32C": crc_b64(CRC32C, crc_register(CRC32C, data)),
        "CRC64NVME": crc_b64(CRC64NVME, crc_register(CRC64NVME, data)),
        "SHA1": b64(hashlib.sha1(data).digest()),
        "SHA256": b64(hashlib.sha256(data).digest()),
    }
    for algorithm, value in expected.items():
        key, member = f"whole/{algorithm}", f"Checksum{algorithm}"
        put = s3.put_object(Bucket=b, Key=key, Body=data, **{member: value})
        assert put[member] == value and put["ChecksumType"] == "FULL_OBJECT", put
        head = s3.head_object(Bucket=b, Key=key)
        assert member not in head and "ChecksumType" not in head, head
        head = s3.head_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
        assert (head[member], head["ChecksumType"]) == (value, "FULL_OBJECT"), head
        # botocore checks the body it reads against a CRC-32, SHA-1 or SHA-256 it is answered.
        got = s3.get_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
        assert got[member] == value and got["Body"].read() == data, got
        ranged = s3.get_object(Bucket=b, Key=key, Range="bytes=0-9", ChecksumMode="ENABLED")
        assert member not in ranged and ranged["Body"].read() == data[:10], ranged
        attributes = s3.get_object_attributes(Bucket=b, Key=key, ObjectAttributes=["Checksum"])
        assert attributes["Checksum"] == {member: value, "ChecksumType": "FULL_OBJECT"}, attributes
        fails("BadDigest", s3.put_object, Bucket=b, Key=key, Body=data + b"!", **{member: value})
        assert s3.head_object(Bucket=b, Key=key, ChecksumMode="ENABLED")[member] == value
        made.append(value)
    # botocore sends a CRC-32 of its own by default, and computes a SHA-256 when asked.
    assert s3.put_object(Bucket=b, Key="default", Body=data)["ChecksumCRC32"] == expected["CRC32"]
    asked = s3.put_object(Bucket=b, Key="asked", Body=data, ChecksumAlgorithm="SHA256")
    assert asked["ChecksumSHA256"] == expected["SHA256"], asked

    # Multipart, COMPOSITE: the SHA-256 of the parts' SHA-256s, with -2.
    plain = clients(URL, config=Config(request_checksum_calculation="when_required",
                                       response_checksum_validation="when_required"))("s3", KEY, SECRET)
    part1, part2 = os.urandom(5 * 1024 * 1024), os.urandom(1000)
    sha = [b64(hashlib.sha256(p).digest()) for p in (part1, part2)]
    composite = b64(hashlib.sha256(hashlib.sha256(part1).digest() + hashlib.sha256(part2).digest()).digest()) + "-2"
    key = "multi/composite"
    up = s3.create_multipart_upload(Bucket=b, Key=key, ChecksumAlgorithm="SHA256")
    assert (up["ChecksumAlgorithm"], up["ChecksumType"]) == ("SHA256", "COMPOSITE"), up
    uid = up["UploadId"]
    # A part must carry the upload's checksum; one sent with none gets it computed.
    fails("InvalidRequest", s3.upload_part, Bucket=b, Key=key, UploadId=uid, PartNumber=1, Body=b"x", ChecksumAlgorithm="CRC32")
    p1 = s3.upload_part(Bucket=b, Key=key, UploadId=uid, PartNumber=1, Body=part1, ChecksumAlgorithm="SHA256")
    assert p1["ChecksumSHA256"] == sha[0], p1
    p2 = plain.upload_part(Bucket=b, Key=key, UploadId=uid, PartNumber=2, Body=part2)
    assert p2["ChecksumSHA256"] == sha[1], p2
    listed = s3.list_parts(Bucket=b, Key=key, UploadId=uid)
    assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == ("SHA256", "COMPOSITE"), listed
    assert [p["ChecksumSHA256"] for p in listed["Parts"]] == sha, listed
    parts = [{"PartNumber": 1, "ETag": p1["ETag"], "ChecksumSHA256": sha[0]},
             {"PartNumber": 2, "ETag": p2["ETag"], "ChecksumSHA256": sha[1]}]
    wrong = [parts[0], dict(parts[1], ChecksumSHA256=sha[0])]
    fails("InvalidPart", s3.complete_multipart_upload, Bucket=b, Key=key, UploadId=uid, MultipartUpload={"Parts": wrong})
    fails("BadDigest", s3.complete_multipart_upload, Bucket=b, Key=key, UploadId=uid, MultipartUpload={"Parts": parts}, ChecksumSHA256=sha[0])
    fails("InvalidRequest", s3.complete_multipart_upload, Bucket=b, Key=key, UploadId=uid, MultipartUpload={"Parts": parts}, ChecksumType="FULL_OBJECT")
    done = s3.complete_multipart_upload(Bucket=b, Key=key, UploadId=uid, MultipartUpload={"Parts": parts}, ChecksumSHA256=composite)
    assert (done["ChecksumSHA256"], done["ChecksumType"]) == (composite, "COMPOSITE"), done
    # Sent again, the completion is answered as it was; with other parts, the upload is gone.
    again = s3.complete_multipart_upload(Bucket=b, Key=key, UploadId=uid, MultipartUpload={"Parts": parts})
    assert (again["ETag"], again["ChecksumSHA256"], again["ChecksumType"]) == (done["ETag"], composite, "COMPOSITE"), again
    fails("NoSuchUpload", s3.complete_multipart_upload, Bucket=b, Key=key, UploadId=uid, MultipartUpload={"Parts": parts[:1]})
    head = s3.head_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
    assert (head["ChecksumSHA256"], head["ChecksumType"]) == (composite, "COMPOSITE"), head
    first = s3.get_object(Bucket=b, Key=key, PartNumber=1, ChecksumMode="ENABLED")
    assert (first["ChecksumSHA256"], first["ChecksumType"]) == (sha[0], "COMPOSITE"), first
    assert first["Body"].read() == part1
    whole = s3.get_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
    assert whole["ChecksumSHA256"] == composite and whole["Body"].read() == part1 + part2
    attributes = s3.get_object_attributes(Bucket=b, Key=key, ObjectAttributes=["Checksum", "ObjectParts"])
    assert attributes["Checksum"] == {"ChecksumSHA256": composite, "ChecksumType": "COMPOSITE"}, attributes
    assert [p["ChecksumSHA256"] for p in attributes["ObjectParts"]["Parts"]] == sha, attributes
    made += [composite] + sha

    # Multipart, FULL_OBJECT: the CRC of the whole object, combined from the parts' CRCs.
    fails("InvalidRequest", s3.create_multipart_upload, Bucket=b, Key="multi/bad", ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT")
    fails("InvalidRequest", s3.create_multipart_upload, Bucket=b, Key="multi/bad", ChecksumType="COMPOSITE")
    whole_crc32 = b64(zlib.crc32(part1 + part2).to_bytes(4, "big"))
    register = crc_register(CRC32C, part1)
    crc32c = [crc_b64(CRC32C, register), crc_b64(CRC32C, crc_register(CRC32C, part2))]
    whole_crc32c = crc_b64(CRC32C, crc_register(CRC32C, part2, register))
    register = crc_register(CRC64NVME, part1)
    crc64 = [crc_b64(CRC64NVME, register), crc_b64(CRC64NVME, crc_register(CRC64NVME, part2))]
    whole_crc64 = crc_b64(CRC64NVME, crc_register(CRC64NVME, part2, register))
    for algorithm, uploads, whole_value in [
        # Parts whose CRC botocore computes; parts sent with none (the server computes them);
        # parts whose CRC is given.
        ("CRC32", [{"ChecksumAlgorithm": "CRC32"}] * 2, whole_crc32),
        ("CRC32C", [{}, {}], whole_crc32c),
        ("CRC64NVME", [{"ChecksumCRC64NVME": v} for v in crc64], whole_crc64),
    ]:
        key, member = f"multi/{algorithm}", f"Checksum{algorithm}"
        extra = {} if algorithm == "CRC64NVME" else {"ChecksumType": "FULL_OBJECT"}
        up = s3.create_multipart_upload(Bucket=b, Key=key, ChecksumAlgorithm=algorithm, **extra)
        assert (up["ChecksumAlgorithm"], up["ChecksumType"]) == (algorithm, "FULL_OBJECT"), up
        client = s3 if algorithm != "CRC32C" else plain
        sent = [client.upload_part(Bucket=b, Key=key, UploadId=up["UploadId"], PartNumber=n + 1, Body=body, **args)
                for n, (body, args) in enumerate(zip((part1, part2), uploads))]
        if algorithm == "CRC32C":
            assert [p[member] for p in sent] == crc32c, sent
        named = [{"PartNumber": n + 1, "ETag": p["ETag"], member: p[member]} for n, p in enumerate(sent)]
        done = s3.complete_multipart_upload(Bucket=b, Key=key, UploadId=up["UploadId"], ChecksumType="FULL_OBJECT",
                                            MultipartUpload={"Parts": named}, **{member: whole_value})
        assert (done[member], done["ChecksumType"]) == (whole_value, "FULL_OBJECT"), done
        got = s3.get_object(Bucket=b, Key=key, ChecksumMode="ENABLED")
        assert (got[member], got["ChecksumType"]) == (whole_value, "FULL_OBJECT"), got
        assert got["Body"].read() == part1 + part2
        made += [whole_value, sent[0][member], sent[1][member]]

    # Copies: of the source's algorithm over the bytes copied, or of the one asked for; a part
    # copied into an upload gets the upload's.
    copied = s3.copy_object(Bucket=b, Key="copies/crc32", CopySource={"Bucket": b, "Key": "multi/CRC32"})
    result = copied["CopyObjectResult"]
    assert (result["ChecksumCRC32"], result["ChecksumType"]) == (whole_crc32, "FULL_OBJECT"), copied
    copied = s3.copy_object(Bucket=b, Key="copies/sha256", CopySource={"Bucket": b, "Key": "multi/composite"})
    whole_sha = b64(hashlib.sha256(part1 + part2).digest())
    assert copied["CopyObjectResult"]["ChecksumSHA256"] == whole_sha, copied
    copied = s3.copy_object(Bucket=b, Key="copies/sha1", CopySource={"Bucket": b, "Key": "whole/CRC32"}, ChecksumAlgorithm="SHA1")
    assert copied["CopyObjectResult"]["ChecksumSHA1"] == expected["SHA1"], copied
    assert s3.head_object(Bucket=b, Key="copies/sha1", ChecksumMode="ENABLED")["ChecksumSHA1"] == expected["SHA1"]
    up = s3.create_multipart_upload(Bucket=b, Key="copies/part", ChecksumAlgorithm="SHA256")
    part = s3.upload_part_copy(Bucket=b, Key="copies/part", UploadId=up["UploadId"], PartNumber=1, CopySource={"Bucket": b, "Key": "whole/SHA1"})
    assert part["CopyPartResult"]["ChecksumSHA256"] == expected["SHA256"], part
    s3.abort_multipart_upload(Bucket=b, Key="copies/part", UploadId=up["UploadId"])
    made.append(whole_sha)

    # A completion is answered again only while the object it made is there.
    s3.put_object(Bucket=b, Key="multi/composite", Body=b"replaced")
    fails("NoSuchUpload", s3.complete_multipart_upload, Bucket=b, Key="multi/composite", UploadId=uid, MultipartUpload={"Parts": parts})
    print(json.dumps({"checksums": made}))


def post_form(url, fields, filename, data, file_type="text/plain"):
    """POSTs a browser upload form (the file last, as browsers and S3 want it); returns the
    status, the headers and the body."""
    boundary = "----hermetic" + os.urandom(8).hex()
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\nContent-Type: {file_type}\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    req = urllib.request.Request(url, data=b"".join(parts), method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def post_object():
    """Browser uploads (POST object) with SigV4 forms as boto3's generate_presigned_post makes
    them: the policy's conditions hold the form to what was signed; the write is a PutObject,
    authorized as one."""
    b = "acme-post"
    s3.create_bucket(Bucket=b)
    # Forms signed with SigV4 (a client configured for s3v4, as the AWS SDKs sign them today).
    signer = presigner_for(KEY, SECRET)
    conditions = [["starts-with", "$key", "uploads/"], {"Content-Type": "text/plain"},
                  {"x-amz-meta-who": "browser"}, ["content-length-range", 1, 1000]]
    fields = {"Content-Type": "text/plain", "x-amz-meta-who": "browser"}
    post = signer.generate_presigned_post(Bucket=b, Key="uploads/${filename}", Fields=fields,
                                      Conditions=conditions, ExpiresIn=300)
    status, headers, body = post_form(post["url"], post["fields"], "hello.txt", b"hello from a form")
    assert status == 204, (status, headers, body, post)
    got = s3.get_object(Bucket=b, Key="uploads/hello.txt")
    assert got["Body"].read() == b"hello from a form"
    assert got["ContentType"] == "text/plain" and got["Metadata"] == {"who": "browser"}, got
    assert headers["etag"] == got["ETag"], headers
    # success_action_status 201 answers where the object is.
    post201 = signer.generate_presigned_post(Bucket=b, Key="uploads/created", Fields={**fields, "success_action_status": "201"},
                                         Conditions=conditions + [{"success_action_status": "201"}], ExpiresIn=300)
    status, _, body = post_form(post201["url"], post201["fields"], "c.txt", b"created")
    assert status == 201 and b"<Key>uploads/created</Key>" in body, (status, body)

    def refused(form, data=b"data", name="f.txt"):
        status, _, body = post_form(post["url"], form, name, data)
        return status, body.decode(errors="replace")
    # What the policy does not allow: another value, an extra field, the wrong size, another key.
    status, body = refused({**post["fields"], "Content-Type": "text/html"})
    assert status == 403 and "AccessDenied" in body and "Policy Condition failed" in body, body
    status, body = refused({**post["fields"], "x-amz-meta-extra": "1"})
    assert status == 403 and "Extra input fields" in body, body
    status, body = refused(post["fields"], data=b"x" * 1001)
    assert status == 400 and "EntityTooLarge" in body, body
    status, body = refused({**post["fields"], "key": "elsewhere/f"})
    assert status == 403 and "AccessDenied" in body, body
    # A signature that is not the policy's, and a policy past its expiration.
    status, body = refused({**post["fields"], "x-amz-signature": "0" * 64})
    assert status == 403 and "SignatureDoesNotMatch" in body, body
    expired = signer.generate_presigned_post(Bucket=b, Key="uploads/late", Conditions=[], ExpiresIn=-10)
    status, _, body = post_form(expired["url"], expired["fields"], "f", b"late")
    assert status == 403 and b"Policy expired" in body, body
    # SigV2 forms (what a client left on SigV2 makes) are refused, as S3 refuses them for
    # buckets made since 2020.
    v2 = s3.generate_presigned_post(Bucket=b, Key="uploads/v2", ExpiresIn=300) if "signature" in s3.generate_presigned_post(Bucket=b, Key="k")["fields"] else None
    status, body = refused(v2["fields"] if v2 else {"key": "uploads/v2", "AWSAccessKeyId": KEY, "policy": "e30=", "signature": "abc"})
    assert status == 400 and "InvalidRequest" in body and "AWS4-HMAC-SHA256" in body, body
    # An unsigned form is anonymous: refused unless a bucket policy lets anyone write.
    status, body = refused({"key": "uploads/anon"})
    assert status == 403 and "AccessDenied" in body, body
    # A valid form of a user whose own policy does not allow the write is refused.
    bob, bob_key = make_bob()
    iam.put_user_policy(UserName="bob", PolicyName="no-uploads", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{b}/uploads/*"}]}))
    import time
    time.sleep(0.2)
    bobs = presigner_for(bob_key["AccessKeyId"], bob_key["SecretAccessKey"]).generate_presigned_post(Bucket=b, Key="uploads/bob", Conditions=[], ExpiresIn=300)
    status, _, body = post_form(bobs["url"], bobs["fields"], "f", b"bob")
    assert status == 403 and b"AccessDenied" in body, body
    fails("404", s3.head_object, Bucket=b, Key="uploads/bob")
    for key in ["uploads/elsewhere", "uploads/anon", "uploads/v2", "uploads/late"]:
        fails("404", s3.head_object, Bucket=b, Key=key)


FEATURES = {f.__name__: f for f in [
    buckets, objects, presigned_urls, streamed_bodies, multipart, object_ownership, sse_kms_etags,
    copy_tagging_delete, listing, kms_as_caller, bucket_policies, versioning, null_versions,
    version_listing, block_public_access, operator_refused, trail, data_events, conformance,
    object_lock, cors, lifecycle, bucket_keys, checksums, post_object, acls,
]}

if __name__ == "__main__":
    if FEATURE not in FEATURES:
        sys.exit(f"unknown feature {FEATURE!r}; one of {', '.join(FEATURES)}")
    FEATURES[FEATURE]()
    print("ok")
