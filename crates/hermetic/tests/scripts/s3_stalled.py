"""Streamed uploads that stall: eight signed PUTs that announce 4 MiB and send 1 MiB hold every
streaming slot; a ninth, complete, large PUT waits for a slot; after the idle timeout (20 s) the
eight are answered 400 RequestTimeout and store nothing, and the ninth then goes through.

Usage: s3_stalled.py URL KEY SECRET BUCKET
"""

import socket
import sys
import time
import urllib.parse

import boto3
import botocore.exceptions
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

URL, KEY, SECRET, BUCKET = sys.argv[1:5]
host, port = urllib.parse.urlsplit(URL).hostname, urllib.parse.urlsplit(URL).port
s3 = boto3.client("s3", endpoint_url=URL, region_name="us-east-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET)


def start(key, announced, sent):
    # Signed for the whole announced body (botocore hashes it into x-amz-content-sha256).
    req = AWSRequest(method="PUT", url=f"{URL}/{BUCKET}/{key}", data=b"x" * announced,
                     headers={"Content-Length": str(announced)})
    S3SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(req)
    conn = socket.create_connection((host, port))
    headers = dict(req.headers.items())
    headers.setdefault("Host", f"{host}:{port}")
    head = f"PUT /{BUCKET}/{key} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    conn.sendall(head.encode() + b"x" * sent)
    return conn


def answer(conn, timeout):
    conn.settimeout(timeout)
    data = b""
    try:
        while b"</Error>" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    return data.decode(errors="replace")


stalled = [start(f"stalled-{i}", 4 << 20, 1 << 20) for i in range(8)]
time.sleep(1)
t = time.time()
waiting = start("waited", 2 << 20, 2 << 20)
for conn in stalled:
    text = answer(conn, 60)
    assert "<Code>RequestTimeout</Code>" in text, text
waiting.settimeout(60)
reply = waiting.recv(65536).decode(errors="replace")
status = reply.splitlines()[0]
assert " 200 " in status, reply
assert 15 < time.time() - t < 60, time.time() - t
assert s3.head_object(Bucket=BUCKET, Key="waited")["ContentLength"] == 2 << 20
for i in range(8):
    try:
        s3.head_object(Bucket=BUCKET, Key=f"stalled-{i}")
        raise AssertionError("a stalled upload must store nothing")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "404", e
s3.put_object(Bucket=BUCKET, Key="after-stall", Body=b"y" * (2 << 20))
print("ok")
