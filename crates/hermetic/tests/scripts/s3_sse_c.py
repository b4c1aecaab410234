"""SSE-C (customer-provided keys) through boto3 against `hermetic serve` over HTTPS: put, get,
ranges and head with the key; refusals without it, with another key, a wrong MD5 or algorithm,
and on objects that are not SSE-C; copies between SSE-C and SSE-KMS; multipart uploads and
part copies; an IAM user with no KMS permission at all; a bucket policy on
s3:x-amz-server-side-encryption-customer-algorithm. Prints the keys it used (base64, one per
line) and then "ok", so that the caller can look for them on disk.

Usage: s3_sse_c.py URL CA_BUNDLE KEY SECRET
"""

import base64
import hashlib
import json
import os
import sys

import boto3
from checks import fails

URL, CA, KEY, SECRET = sys.argv[1:5]


def client(service, key, secret):
    return boto3.client(service, endpoint_url=URL, region_name="us-east-1", verify=CA,
                        aws_access_key_id=key, aws_secret_access_key=secret)


def b64(data):
    return base64.b64encode(data).decode()


s3 = client("s3", KEY, SECRET)
iam = client("iam", KEY, SECRET)
k1, k2 = os.urandom(32), os.urandom(32)
c1 = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": k1}
c2 = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": k2}
md5_1 = b64(hashlib.md5(k1).digest())

s3.create_bucket(Bucket="sse-c")
body = os.urandom(200_000)
put = s3.put_object(Bucket="sse-c", Key="secret", Body=body, **c1)
assert put["SSECustomerAlgorithm"] == "AES256" and put["SSECustomerKeyMD5"] == md5_1, put
assert "ServerSideEncryption" not in put, put
# The ETag is not the plaintext's MD5 (nothing stored hashes it without a key), and without the
# key not even a precondition is answered.
assert put["ETag"].strip('"') != hashlib.md5(body).hexdigest(), put
fails("InvalidRequest", s3.get_object, Bucket="sse-c", Key="secret", IfMatch='"0000"')
fails("PreconditionFailed", s3.get_object, Bucket="sse-c", Key="secret", IfMatch='"0000"', **c1)
assert s3.get_object(Bucket="sse-c", Key="secret", IfMatch=put["ETag"], **c1)["ETag"] == put["ETag"]
got = s3.get_object(Bucket="sse-c", Key="secret", **c1)
assert got["Body"].read() == body
assert got["SSECustomerAlgorithm"] == "AES256" and got["SSECustomerKeyMD5"] == md5_1
part = s3.get_object(Bucket="sse-c", Key="secret", Range="bytes=70000-140000", **c1)
assert part["Body"].read() == body[70000:140001]
head = s3.head_object(Bucket="sse-c", Key="secret", **c1)
assert head["ContentLength"] == len(body) and head["SSECustomerKeyMD5"] == md5_1

# Without the key, with another key, with a key that does not match its MD5, with another
# algorithm, or with a short key: refused, and nothing is read.
fails("InvalidRequest", s3.get_object, Bucket="sse-c", Key="secret")
fails("400", s3.head_object, Bucket="sse-c", Key="secret")
fails("AccessDenied", s3.get_object, Bucket="sse-c", Key="secret", **c2)
fails("403", s3.head_object, Bucket="sse-c", Key="secret", **c2)
fails("InvalidArgument", s3.get_object, Bucket="sse-c", Key="secret", SSECustomerAlgorithm="AES256",
      SSECustomerKey=b64(k1), SSECustomerKeyMD5=b64(hashlib.md5(k2).digest()))
fails("InvalidEncryptionAlgorithmError", s3.get_object, Bucket="sse-c", Key="secret",
      SSECustomerAlgorithm="AES128", SSECustomerKey=k1)
fails("InvalidArgument", s3.put_object, Bucket="sse-c", Key="short", Body=b"x",
      SSECustomerAlgorithm="AES256", SSECustomerKey=os.urandom(16))
fails("InvalidArgument", s3.put_object, Bucket="sse-c", Key="both", Body=b"x",
      ServerSideEncryption="aws:kms", **c1)
# SSE-C parameters on an object that is not SSE-C.
s3.put_object(Bucket="sse-c", Key="plain", Body=b"plain")
fails("InvalidRequest", s3.get_object, Bucket="sse-c", Key="plain", **c1)
assert s3.get_object(Bucket="sse-c", Key="plain")["ServerSideEncryption"] == "AES256"

# Copies: SSE-C to SSE-C under a new key, SSE-C to SSE-S3, SSE-S3 to SSE-C.
copy = s3.copy_object(Bucket="sse-c", Key="copy", CopySource={"Bucket": "sse-c", "Key": "secret"},
                      CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=k1, **c2)
assert copy["SSECustomerKeyMD5"] == b64(hashlib.md5(k2).digest()), copy
assert s3.get_object(Bucket="sse-c", Key="copy", **c2)["Body"].read() == body
fails("AccessDenied", s3.get_object, Bucket="sse-c", Key="copy", **c1)
fails("InvalidRequest", s3.copy_object, Bucket="sse-c", Key="copy2", CopySource={"Bucket": "sse-c", "Key": "secret"})
fails("AccessDenied", s3.copy_object, Bucket="sse-c", Key="copy2", CopySource={"Bucket": "sse-c", "Key": "secret"},
      CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=k2)
s3.copy_object(Bucket="sse-c", Key="to-kms", CopySource={"Bucket": "sse-c", "Key": "secret"},
               CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=k1)
got = s3.get_object(Bucket="sse-c", Key="to-kms")
assert got["Body"].read() == body and got["ServerSideEncryption"] == "AES256"
s3.copy_object(Bucket="sse-c", Key="from-kms", CopySource={"Bucket": "sse-c", "Key": "plain"}, **c1)
assert s3.get_object(Bucket="sse-c", Key="from-kms", **c1)["Body"].read() == b"plain"

# Multipart: every part needs the upload's key; a part copy from an SSE-C source.
mp = s3.create_multipart_upload(Bucket="sse-c", Key="multi", **c1)
assert mp["SSECustomerKeyMD5"] == md5_1, mp
first = os.urandom(5 * 1024 * 1024)
fails("InvalidRequest", s3.upload_part, Bucket="sse-c", Key="multi", UploadId=mp["UploadId"], PartNumber=1, Body=first)
fails("AccessDenied", s3.upload_part, Bucket="sse-c", Key="multi", UploadId=mp["UploadId"], PartNumber=1, Body=first, **c2)
p1 = s3.upload_part(Bucket="sse-c", Key="multi", UploadId=mp["UploadId"], PartNumber=1, Body=first, **c1)
p2 = s3.upload_part_copy(Bucket="sse-c", Key="multi", UploadId=mp["UploadId"], PartNumber=2,
                         CopySource={"Bucket": "sse-c", "Key": "secret"},
                         CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=k1, **c1)
s3.complete_multipart_upload(Bucket="sse-c", Key="multi", UploadId=mp["UploadId"], MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
assert s3.get_object(Bucket="sse-c", Key="multi", **c1)["Body"].read() == first + body
fails("InvalidRequest", s3.get_object, Bucket="sse-c", Key="multi")

# SSE-C needs no KMS permission: a user allowed s3:* only.
iam.create_user(UserName="sse-c-user")
iam.put_user_policy(UserName="sse-c-user", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
created = iam.create_access_key(UserName="sse-c-user")["AccessKey"]
user = client("s3", created["AccessKeyId"], created["SecretAccessKey"])
user.put_object(Bucket="sse-c", Key="by-user", Body=b"user data", **c2)
assert user.get_object(Bucket="sse-c", Key="by-user", **c2)["Body"].read() == b"user data"
assert user.get_object(Bucket="sse-c", Key="secret", **c1)["Body"].read() == body

# A bucket policy that admits only SSE-C writes (s3:x-amz-server-side-encryption-customer-algorithm).
s3.create_bucket(Bucket="sse-c-only")
s3.put_bucket_policy(Bucket="sse-c-only", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::sse-c-only/*",
    "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "true"}}}]}))
fails("AccessDenied", s3.put_object, Bucket="sse-c-only", Key="k", Body=b"x")
s3.put_object(Bucket="sse-c-only", Key="k", Body=b"x", **c1)

# A bucket whose default is SSE-KMS with an S3 Bucket Key: SSE-C writes there use no bucket key
# (as in S3), and SSE-KMS copies of SSE-C sources do.
s3.create_bucket(Bucket="sse-c-bucket-key")
s3.put_bucket_encryption(Bucket="sse-c-bucket-key", ServerSideEncryptionConfiguration={"Rules": [
    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]})
put = s3.put_object(Bucket="sse-c-bucket-key", Key="c", Body=b"customer", BucketKeyEnabled=True, **c1)
assert "BucketKeyEnabled" not in put and put["SSECustomerKeyMD5"] == md5_1, put
got = s3.get_object(Bucket="sse-c-bucket-key", Key="c", **c1)
assert got["Body"].read() == b"customer" and "BucketKeyEnabled" not in got, got
copied = s3.copy_object(Bucket="sse-c-bucket-key", Key="kms", CopySource={"Bucket": "sse-c", "Key": "secret"},
                        CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=k1)
assert copied["BucketKeyEnabled"] is True and copied["ServerSideEncryption"] == "aws:kms", copied
assert s3.get_object(Bucket="sse-c-bucket-key", Key="kms")["Body"].read() == body

print(b64(k1))
print(b64(k2))
print("ok")
