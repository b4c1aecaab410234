"""Creates users PREFIX-0 .. PREFIX-(N-1), then tries to create `shared`; prints one line per
outcome of `shared` (`created` or the error code). Usage: create_users.py URL KEY SECRET PREFIX N
"""

import sys

import boto3
import botocore.exceptions

url, key, secret, prefix, n = sys.argv[1:6]
iam = boto3.client(
    "iam", endpoint_url=url, region_name="us-east-1",
    aws_access_key_id=key, aws_secret_access_key=secret,
)
for i in range(int(n)):
    iam.create_user(UserName=f"{prefix}-{i}")
try:
    iam.create_user(UserName="shared")
    print("created")
except botocore.exceptions.ClientError as e:
    print(e.response["Error"]["Code"])
