"""S3 routing is exact, checked against botocore's own S3 model and a running `hermetic serve`:
every operation the model gives a sub-resource (`?website`, `?metadataConfiguration`,
`?annotation`, ...) that this server does not serve is refused with 501 NotImplemented, and none
of them changes anything (the bucket and its object stay as they were: a `DELETE
/bucket?metadataConfiguration` must not delete the bucket, a `PUT /bucket/key?encryption` must
not overwrite the object).

Usage: s3_router.py URL KEY SECRET
"""

import sys

import boto3
import botocore.session
import urllib.error
import urllib.request
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

URL, KEY, SECRET = sys.argv[1:4]

# The operations with a sub-resource this server serves (the rest must be NotImplemented).
SERVED = {
    "GetBucketAcl", "PutBucketAcl", "GetObjectAcl", "PutObjectAcl",
    "GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls",
    "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy",
    "GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock",
    "GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption",
    "GetBucketLocation", "GetBucketVersioning", "PutBucketVersioning", "ListObjectVersions",
    "ListMultipartUploads", "ListObjectsV2", "DeleteObjects",
    "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging", "CreateMultipartUpload",
    "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging", "GetBucketPolicyStatus",
    "GetObjectAttributes", "GetObjectLockConfiguration", "PutObjectLockConfiguration",
    "GetObjectRetention", "PutObjectRetention", "GetObjectLegalHold", "PutObjectLegalHold",
    "GetBucketCors", "PutBucketCors", "DeleteBucketCors",
    "GetBucketLifecycle", "GetBucketLifecycleConfiguration", "PutBucketLifecycle",
    "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle",
}

s3 = boto3.client("s3", endpoint_url=URL, region_name="us-east-1", aws_access_key_id=KEY,
                  aws_secret_access_key=SECRET)
s3.create_bucket(Bucket="routed")
s3.put_object(Bucket="routed", Key="k", Body=b"unchanged")
etag = s3.head_object(Bucket="routed", Key="k")["ETag"]

model = botocore.session.get_session().get_service_model("s3")
refused = 0
for name in model.operation_names:
    http = model.operation_model(name).http
    path, _, query = http["requestUri"].partition("?")
    subs = [q for q in query.split("&") if q and not q.startswith("x-id")]
    if not subs or name in SERVED:
        continue
    target = path.replace("{Bucket}", "routed").replace("{Key+}", "k")
    url = f"{URL}{target}?{'&'.join(subs)}"
    body = b"<Anything/>" if http["method"] in ("PUT", "POST") else b""
    req = AWSRequest(method=http["method"], url=url, data=body)
    S3SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(req)
    prepared = urllib.request.Request(req.url, data=body or None, headers=dict(req.headers.items()),
                                      method=http["method"])
    try:
        urllib.request.urlopen(prepared).read()
        raise SystemExit(f"{name}: {http['method']} {url} was served")
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        if e.code != 501 or "<Code>NotImplemented</Code>" not in text:
            raise SystemExit(f"{name}: {http['method']} {url}: {e.code} {text}")
    refused += 1

assert refused >= 50, refused
# Nothing changed: the bucket and its one object are as they were.
s3.head_bucket(Bucket="routed")
assert [o["Key"] for o in s3.list_objects_v2(Bucket="routed")["Contents"]] == ["k"]
got = s3.get_object(Bucket="routed", Key="k")
assert got["Body"].read() == b"unchanged" and got["ETag"] == etag
print(f"{refused} unserved sub-resource operations refused")
print("ok")
