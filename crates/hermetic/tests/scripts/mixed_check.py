"""Checks through one node that every write mixed_load.py acknowledged is there (three_nodes.rs).

Usage: mixed_check.py URL KEY SECRET BUCKET RACED < the driver's lines

Every acknowledged user exists and (when its TagUser was acknowledged) carries the tag
mixed=NAME; every acknowledged key exists and is enabled; every acknowledged ciphertext
decrypts, under its key, to its plaintext; every acknowledged object reads back with its MD5,
and ranged GETs of the 3 MiB and multipart objects return the right bytes; the raced name is
listed exactly once. Lines of other kinds (`lost`, `error`) are not writes and are skipped.
Prints the counts, then `ok`; the first failures and a non-zero exit otherwise.
"""

import base64
import hashlib
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

URL, KEY, SECRET, BUCKET, RACED = sys.argv[1:6]
MIB = 1024 * 1024

config = Config(retries={"total_max_attempts": 3, "mode": "standard"}, max_pool_connections=8)
session = boto3.session.Session()
iam, kms, s3 = (
    session.client(
        service,
        endpoint_url=URL,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        config=config,
    )
    for service in ("iam", "kms", "s3")
)

users, tagged, keys, encs, objs = [], set(), [], [], []
for line in sys.stdin.read().splitlines():
    fields = line.split()
    if not fields:
        continue
    kind = fields[0]
    if kind == "user":
        users.append(fields[1])
    elif kind == "tag":
        tagged.add(fields[1])
    elif kind == "key":
        keys.append(fields[1])
    elif kind == "enc":
        encs.append((fields[1], base64.b64decode(fields[2]), base64.b64decode(fields[3])))
    elif kind == "obj":
        objs.append((fields[1], fields[2]))


def check_user(name):
    got = iam.get_user(UserName=name)["User"]["UserName"]
    assert got == name, f"user {name}: GetUser answered {got}"
    tags = iam.list_user_tags(UserName=name)["Tags"]
    if name in tagged:
        assert {"Key": "mixed", "Value": name} in tags, f"user {name}: tags {tags}"


def check_key(key_id):
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyId"] == key_id, f"key {key_id}: DescribeKey answered {meta['KeyId']}"
    assert meta["KeyState"] == "Enabled", f"key {key_id}: {meta['KeyState']}"


def check_enc(enc):
    key_id, ciphertext, plaintext = enc
    r = kms.decrypt(CiphertextBlob=ciphertext, KeyId=key_id)
    assert r["Plaintext"] == plaintext, f"ciphertext under {key_id}: another plaintext"
    assert r["KeyId"].endswith(key_id), f"ciphertext under {key_id}: decrypted by {r['KeyId']}"


def check_range(key, body, first, last):
    r = s3.get_object(Bucket=BUCKET, Key=key, Range=f"bytes={first}-{last}")
    part = r["Body"].read()
    assert part == body[first : last + 1], f"object {key}: bytes {first}-{last} differ"
    assert r["ContentRange"] == f"bytes {first}-{last}/{len(body)}", f"{key}: {r['ContentRange']}"


def check_obj(obj):
    key, md5 = obj
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert hashlib.md5(body).hexdigest() == md5, f"object {key}: another MD5 ({len(body)} bytes)"
    if key.endswith("/big"):
        # Across the server's 1 MiB stream chunks.
        check_range(key, body, MIB - 100, 2 * MIB + 100)
    elif key.endswith("/multi"):
        # Across the first parts' boundary, and the last (small) part.
        check_range(key, body, 5 * MIB - 100, 5 * MIB + 100)
        check_range(key, body, 10 * MIB - 10, len(body) - 1)


failures = []


def run(check, items):
    def one(item):
        try:
            check(item)
        except Exception as e:  # each failure reported, not only the first
            failures.append(f"{check.__name__}: {e!r}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, items))


run(check_user, users)
run(check_key, keys)
run(check_enc, encs)
run(check_obj, objs)

listed = [
    u["UserName"]
    for page in iam.get_paginator("list_users").paginate()
    for u in page["Users"]
]
if listed.count(RACED) != 1:
    failures.append(f"{RACED} is listed {listed.count(RACED)} times")
missing = set(users) - set(listed)
if missing:
    failures.append(f"acknowledged users ListUsers does not list: {sorted(missing)[:10]}")

print(
    f"{URL}: {len(users)} users ({len(tagged)} tagged), {len(keys)} keys, "
    f"{len(encs)} ciphertexts, {len(objs)} objects, {len(listed)} users listed"
)
if failures:
    print(f"{len(failures)} failures:")
    for f in failures[:30]:
        print(f)
    sys.exit(1)
print("ok")
