"""Uploads objects to a bucket until killed (or N seconds pass): single PUTs of various sizes and
multipart uploads of two parts. Prints `KEY MD5` for every upload the server acknowledged.
Usage: s3_burst.py URL KEY SECRET BUCKET SECONDS
"""

import hashlib
import io
import os
import sys
import time

import boto3
from boto3.s3.transfer import TransferConfig

url, key, secret, bucket, seconds = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
                  aws_secret_access_key=secret)
config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
deadline = time.time() + float(seconds)
i = 0
while time.time() < deadline:
    i += 1
    size = [0, 1, 70_000, 300_000, 5 * 1024 * 1024 + 3][i % 5]
    data = os.urandom(size)
    name = f"burst/{i:05d}"
    try:
        if size > 5 * 1024 * 1024:
            s3.upload_fileobj(io.BytesIO(data), bucket, name, Config=config)
        else:
            s3.put_object(Bucket=bucket, Key=name, Body=data)
    except Exception:
        break
    print(name, hashlib.md5(data).hexdigest(), flush=True)
