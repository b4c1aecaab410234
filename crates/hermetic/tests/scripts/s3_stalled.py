"""Streamed uploads and downloads that stall.

Eight signed PUTs that announce 4 MiB and send 1 MiB hold every streaming slot; sixteen GETs of
the large object BIG that are never read hold every download thread. Other requests still
answer while all of them are held (before any stalled upload is answered): streamed bodies
hold threads of their own lanes, not the store threads every request needs. A ninth, complete,
large PUT waits for a slot and a seventeenth, ranged GET for a download thread; after the idle
timeout (20 s) the eight PUTs are answered 400 RequestTimeout and store nothing, the sixteen
GETs end short, and the waiting PUT and GET then go through.

Usage: s3_stalled.py URL KEY SECRET BUCKET BIG
"""

import select
import socket
import sys
import threading
import time
import urllib.parse

import boto3
import botocore.exceptions
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

URL, KEY, SECRET, BUCKET, BIG = sys.argv[1:6]
host, port = urllib.parse.urlsplit(URL).hostname, urllib.parse.urlsplit(URL).port
s3 = boto3.client("s3", endpoint_url=URL, region_name="us-east-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET)


def open_signed(method, key, body=b"", sent=b"", rcvbuf=None):
    """A connection that has sent a request signed for `body` (botocore hashes it into
    x-amz-content-sha256) and, of the body, only `sent`; `rcvbuf` shrinks its receive buffer."""
    headers = {"Content-Length": str(len(body))} if body else {}
    req = AWSRequest(method=method, url=f"{URL}/{BUCKET}/{key}", data=body, headers=headers)
    S3SigV4Auth(Credentials(KEY, SECRET), "s3", "us-east-1").add_auth(req)
    conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    conn.connect((host, port))
    headers = dict(req.headers.items())
    headers.setdefault("Host", f"{host}:{port}")
    head = f"{method} /{BUCKET}/{key} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    conn.sendall(head.encode() + sent)
    return conn


def start(key, announced, sent):
    """A PUT that announces `announced` bytes and sends `sent` of them."""
    return open_signed("PUT", key, b"x" * announced, b"x" * sent)


def stall_get(key):
    """A signed GET of `key` whose answer is never read (a small receive buffer)."""
    return open_signed("GET", key, rcvbuf=4096)


def drain(conn, timeout):
    """Every byte `conn` is sent until the server closes it."""
    conn.settimeout(timeout)
    total = 0
    while True:
        try:
            chunk = conn.recv(1 << 20)
        except ConnectionResetError:
            return total
        if not chunk:
            return total
        total += len(chunk)


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


big = s3.head_object(Bucket=BUCKET, Key=BIG)["ContentLength"]
assert big > 64 << 20, big
stalled = [start(f"stalled-{i}", 4 << 20, 1 << 20) for i in range(8)]
t = time.time()
readers = [stall_get(BIG) for _ in range(16)]
time.sleep(2)
# Every upload slot and download thread is held; the store threads are not.
sts = boto3.client("sts", endpoint_url=URL, region_name="us-east-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET)
assert sts.get_caller_identity()["Account"]
assert s3.head_object(Bucket=BUCKET, Key=BIG)["ContentLength"] == big
assert s3.list_objects_v2(Bucket=BUCKET, MaxKeys=1)["KeyCount"] == 1
small = s3.get_object(Bucket=BUCKET, Key=BIG, Range="bytes=0-99")["Body"].read()
assert len(small) == 100
answered, _, _ = select.select(stalled, [], [], 0)
assert not answered, "other requests waited for the stalled uploads"
waiting = start("waited", 2 << 20, 2 << 20)
ranged = {}


def read_range():
    body = s3.get_object(Bucket=BUCKET, Key=BIG, Range=f"bytes=0-{(8 << 20) - 1}")["Body"].read()
    ranged["length"] = len(body)


waiting_get = threading.Thread(target=read_range)
waiting_get.start()
for conn in stalled:
    text = answer(conn, 60)
    assert "<Code>RequestTimeout</Code>" in text, text
# Every reader has been stalled (since t + 2) for longer than the idle timeout: each answer
# ends short, the server having cut the stalled reader off (a whole answer would keep the
# connection open, and the read time out).
time.sleep(max(0.0, t + 30 - time.time()))
for conn in readers:
    got = drain(conn, 60)
    assert got < big, got
    conn.close()
waiting_get.join(60)
assert ranged.get("length") == 8 << 20, ranged
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
