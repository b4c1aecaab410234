"""What the test scripts share: boto3 clients for the server under test, and expecting an AWS
error from a boto3 call."""

import hashlib
import hmac
import json
import os
import struct
import subprocess

import boto3
import botocore.exceptions


def clients(url, **extra):
    """A factory of boto3 clients for the server at `url`: `client(service, key, secret,
    token=None)` (`extra` goes to each, e.g. `config=` or `verify=`)."""
    def client(service, key, secret, token=None):
        return boto3.client(
            service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
            aws_secret_access_key=secret, aws_session_token=token, **extra,
        )
    return client


def fails(code, call, *args, **kwargs):
    """Calls `call` and checks it fails with the AWS error `code`; returns the error response
    (`["Error"]["Message"]` is its message)."""
    try:
        call(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {e}"
        return e.response
    raise AssertionError(f"expected {code}, the call succeeded")


def totp(seed, step):
    """The RFC 6238 code (SHA-1, 6 digits) of `seed` (bytes) at time step `step`, computed
    here independently of the server's implementation."""
    digest = hmac.new(seed, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[19] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (value % 1_000_000)


def cloudtrail_policy(account, bucket, prefix=None, trails="main"):
    """The bucket policy AWS documents for CloudTrail's delivery to `bucket`, for `account`'s
    trails that `trails` matches (a name or a pattern)."""
    path = f"{prefix}/AWSLogs/{account}/*" if prefix else f"AWSLogs/{account}/*"
    source = {"aws:SourceArn": f"arn:aws:cloudtrail:us-east-1:{account}:trail/{trails}"}
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": source}},
        {"Sid": "Write", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/{path}",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"},
                       "StringLike": source}},
    ]})


def vote(hermetic, url, who, arn, answer):
    """`hermetic approvals vote ARN --approve|--reject` as the IAM user whose access key `who`
    is; returns (succeeded, output)."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=who["AccessKeyId"],
               AWS_SECRET_ACCESS_KEY=who["SecretAccessKey"])
    env.pop("AWS_SESSION_TOKEN", None)
    out = subprocess.run([hermetic, "approvals", "vote", arn, f"--{answer}", "--endpoint", url],
                         capture_output=True, text=True, env=env)
    return out.returncode == 0, out.stdout + out.stderr
