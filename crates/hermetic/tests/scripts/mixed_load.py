"""A mixed IAM/KMS/S3 write load spread over several nodes of one Hermetic (three_nodes.rs).

Usage: mixed_load.py URL,URL,URL ACCOUNT KEY SECRET BUCKET SECONDS RACED [THREADS]

THREADS threads (6 by default) each send their calls round-robin over the endpoints, one call to
the next node: IAM CreateUser (unique names) and TagUser, KMS CreateKey (a few) and Encrypt, S3
PutObject of 4 KiB and of 3 MiB (which the server streams), and one multipart upload (two parts
of 5 MiB and a small one, each step on another node). Every thread first tries CreateUser of the
name RACED on every endpoint: exactly one of all those attempts may succeed.

Each acknowledged write is printed (and flushed) as one line, its RequestId last:

    user NAME REQUESTID
    tag NAME REQUESTID                      (the tag is mixed=NAME)
    key KEYID REQUESTID
    enc KEYID CIPHERTEXT_B64 PLAINTEXT_B64 REQUESTID
    obj KEY MD5 REQUESTID
    raced NAME REQUESTID

and beside them, answers that are not acknowledged writes:

    lost NAME REQUESTID                     (CreateUser of RACED refused: EntityAlreadyExists)
    error OPERATION CODE REQUESTID          (any other error a live node answered)

A node that cannot be reached (killed) fails the call fast and the thread goes on with the next
node; nothing is printed for that call: a write whose answer was lost may still have happened,
so what the caller checks is acknowledged ⊆ present. No call is retried by botocore (a retried
write could apply twice). After SECONDS the threads stop; `done` is printed last.
"""

import base64
import hashlib
import os
import random
import sys
import threading
import time
import traceback

import boto3
import botocore.exceptions
import urllib3.exceptions
from botocore.config import Config

ENDPOINTS = sys.argv[1].split(",")
ACCOUNT, KEY, SECRET, BUCKET = sys.argv[2:6]
SECONDS = float(sys.argv[6])
RACED = sys.argv[7]
THREADS = int(sys.argv[8]) if len(sys.argv) > 8 else 6

MIB = 1024 * 1024
# One attempt per call: a dead node fails fast, and no write is silently sent again.
CONFIG = Config(
    retries={"total_max_attempts": 1, "mode": "standard"},
    connect_timeout=2,
    read_timeout=30,
    max_pool_connections=THREADS * 2,
)
# What a node that is down (or went down mid-call) raises; a ClientError is an answer.
UNREACHABLE = (botocore.exceptions.BotoCoreError, urllib3.exceptions.HTTPError, OSError)

# Clients are thread-safe once made; making them is not, so they are made here, once.
_session = boto3.session.Session()
CLIENTS = [
    {
        service: _session.client(
            service,
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            config=CONFIG,
        )
        for service in ("iam", "kms", "s3")
    }
    for url in ENDPOINTS
]

_print_lock = threading.Lock()
FAILED = []


def emit(*fields):
    with _print_lock:
        print(" ".join(str(f) for f in fields), flush=True)


def request_id(response):
    return response.get("ResponseMetadata", {}).get("RequestId") or "-"


class Worker:
    def __init__(self, n):
        self.n = n
        self.at = n % len(ENDPOINTS)
        self.keys = []
        self.multipart_tries = 0
        self.multipart_done = False

    def call(self, service, operation, **kwargs):
        """Calls `operation` on the next endpoint: its answer, or None if the node could not
        be reached. A live node's error is printed as an `error` line and answers None too."""
        client = CLIENTS[self.at][service]
        self.at = (self.at + 1) % len(ENDPOINTS)
        try:
            return getattr(client, operation)(**kwargs)
        except botocore.exceptions.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "?")
            emit("error", operation, code, request_id(e.response))
            return None
        except UNREACHABLE:
            return None

    def race(self):
        """CreateUser of RACED once on every endpoint, starting at this thread's own."""
        for _ in ENDPOINTS:
            client = CLIENTS[self.at]["iam"]
            self.at = (self.at + 1) % len(ENDPOINTS)
            try:
                r = client.create_user(UserName=RACED)
                emit("raced", RACED, request_id(r))
            except botocore.exceptions.ClientError as e:
                code = e.response.get("Error", {}).get("Code", "?")
                if code == "EntityAlreadyExists":
                    emit("lost", RACED, request_id(e.response))
                else:
                    emit("error", "CreateUser", code, request_id(e.response))
            except UNREACHABLE:
                pass

    def put(self, key, data):
        r = self.call("s3", "put_object", Bucket=BUCKET, Key=key, Body=data)
        if r is not None:
            emit("obj", key, hashlib.md5(data).hexdigest(), request_id(r))

    def multipart(self, key):
        """One multipart upload, each step on the next node; abandoned if a node is down."""
        self.multipart_tries += 1
        parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(1000)]
        up = self.call("s3", "create_multipart_upload", Bucket=BUCKET, Key=key)
        if up is None:
            return
        done = []
        for number, body in enumerate(parts, start=1):
            r = self.call(
                "s3",
                "upload_part",
                Bucket=BUCKET,
                Key=key,
                UploadId=up["UploadId"],
                PartNumber=number,
                Body=body,
            )
            if r is None:
                return
            done.append({"PartNumber": number, "ETag": r["ETag"]})
        r = self.call(
            "s3",
            "complete_multipart_upload",
            Bucket=BUCKET,
            Key=key,
            UploadId=up["UploadId"],
            MultipartUpload={"Parts": done},
        )
        if r is not None:
            self.multipart_done = True
            emit("obj", key, hashlib.md5(b"".join(parts)).hexdigest(), request_id(r))

    def step(self, i):
        name = f"mixed-{self.n}-{i}"
        r = self.call("iam", "create_user", UserName=name)
        if r is not None:
            emit("user", name, request_id(r))
            r = self.call("iam", "tag_user", UserName=name, Tags=[{"Key": "mixed", "Value": name}])
            if r is not None:
                emit("tag", name, request_id(r))

        if not self.keys or i % 10 == 0:
            r = self.call("kms", "create_key", Description=f"mixed {self.n} {i}")
            if r is not None:
                key_id = r["KeyMetadata"]["KeyId"]
                self.keys.append(key_id)
                emit("key", key_id, request_id(r))
        if self.keys:
            key_id = random.choice(self.keys)
            plaintext = os.urandom(32)
            r = self.call("kms", "encrypt", KeyId=key_id, Plaintext=plaintext)
            if r is not None:
                emit(
                    "enc",
                    key_id,
                    base64.b64encode(r["CiphertextBlob"]).decode(),
                    base64.b64encode(plaintext).decode(),
                    request_id(r),
                )

        self.put(f"mixed/{self.n}/{i}/small", os.urandom(4096))
        if i % 4 == 1:
            self.put(f"mixed/{self.n}/{i}/big", os.urandom(3 * MIB))
        if i >= 2 and not self.multipart_done and self.multipart_tries < 3:
            self.multipart(f"mixed/{self.n}/{i}/multi")

    def run(self, deadline):
        try:
            self.race()
            i = 0
            while time.time() < deadline:
                self.step(i)
                i += 1
        except BaseException:  # a bug in this script, not a node down: fail the run
            FAILED.append(f"thread {self.n}:\n{traceback.format_exc()}")


def main():
    deadline = time.time() + SECONDS
    threads = [
        threading.Thread(target=Worker(n).run, args=(deadline,), daemon=True)
        for n in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if FAILED:
        sys.stderr.write("\n".join(FAILED))
        sys.exit(1)
    emit("done")


main()
