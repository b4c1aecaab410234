"""The operator with the blob store's credentials (issue 20): it reads, swaps, corrupts,
truncates, deletes and plants blobs in the bucket behind a Hermetic node. Every such change is
seen (a failed read), never a wrong answer; nothing in the bucket is plaintext, a key, or a
tenant's name.

Usage: blob_operator.py URL A_ACCOUNT A_KEY A_SECRET B_ACCOUNT B_KEY B_SECRET OP_KEY OP_SECRET
       MOTO_ENDPOINT BUCKET PREFIX MOTO_KEY MOTO_SECRET
Prints "ok" last.
"""
import base64
import hashlib
import re
import sys

import boto3
from botocore.config import Config

(url, a_account, a_key, a_secret, b_account, b_key, b_secret, _op_key, _op_secret,
 moto_endpoint, blob_bucket, prefix, moto_key, moto_secret) = sys.argv[1:15]

once = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})


def tenant(key, secret):
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret, config=once)


a = tenant(a_key, a_secret)
b = tenant(b_key, b_secret)
blobs = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                     aws_access_key_id=moto_key, aws_secret_access_key=moto_secret, config=once)

CANARY = b"BLOB-OPERATOR-CANARY-5d1e"
META = "blob-operator-meta-canary-77"


def content(seed, size):
    out = bytearray()
    i = 0
    while len(out) < size:
        out += CANARY + hashlib.sha256(f"{seed}-{i}".encode()).digest()
        i += 1
    return bytes(out[:size])


def keys():
    out = []
    for page in blobs.get_paginator("list_objects_v2").paginate(Bucket=blob_bucket):
        out += [o["Key"] for o in page.get("Contents", [])]
    return set(out)


def put(client, bucket, key, body):
    """Puts an object; returns the one blob it added to the store."""
    before = keys()
    client.put_object(Bucket=bucket, Key=key, Body=body, Metadata={"m": META})
    added = keys() - before
    assert len(added) == 1, added
    return added.pop()


def read_blob(key):
    return blobs.get_object(Bucket=blob_bucket, Key=key)["Body"].read()


def write_blob(key, data):
    blobs.put_object(Bucket=blob_bucket, Key=key, Body=data)


def refused(call, what):
    try:
        got = call()
    except Exception as e:  # noqa: BLE001 - any error is a refusal; a wrong answer is not
        return str(e)
    raise AssertionError(f"{what}: answered {got!r:.200}")


def get(client, bucket, key, rng=None):
    kwargs = {"Bucket": bucket, "Key": key}
    if rng:
        kwargs["Range"] = rng
    return client.get_object(**kwargs)["Body"].read()


a.create_bucket(Bucket="acme-blobs")
b.create_bucket(Bucket="globex-blobs")
SIZE = 200 * 1024
body_a, body_b, body_c = content("a", SIZE), content("b", SIZE), content("c", 300 * 1024)
blob_a = put(a, "acme-blobs", "a.bin", body_a)
blob_b = put(a, "acme-blobs", "b.bin", body_b)
blob_c = put(a, "acme-blobs", "c.bin", body_c)
body_g = content("g", SIZE)
blob_g = put(b, "globex-blobs", "g.bin", body_g)
assert get(a, "acme-blobs", "a.bin") == body_a

# 1. What the operator reads: ciphertext under account ids and UUIDs, no metadata.
name = re.compile(rf"^{re.escape(prefix)}/blobs/\d{{12}}/[0-9a-f-]{{36}}$")
for key in keys():
    assert name.match(key), key
    assert a_account in key or b_account in key, key
    got = blobs.get_object(Bucket=blob_bucket, Key=key)
    data = got["Body"].read()
    assert got.get("Metadata", {}) == {}, got.get("Metadata")
    for marker in (CANARY, META.encode(), b"acme-blobs", b"a.bin", base64.b64encode(CANARY)):
        assert marker not in data and marker.decode() not in key, (key, marker)
assert f"/blobs/{a_account}/" in blob_a and f"/blobs/{b_account}/" in blob_g

# 2. Two blobs of one account swapped: neither object reads as the other, whole or ranged.
saved_a, saved_b = read_blob(blob_a), read_blob(blob_b)
write_blob(blob_a, saved_b)
write_blob(blob_b, saved_a)
refused(lambda: get(a, "acme-blobs", "a.bin"), "a swapped blob")
refused(lambda: get(a, "acme-blobs", "b.bin"), "a swapped blob")
refused(lambda: get(a, "acme-blobs", "a.bin", "bytes=0-99"), "a swapped blob, ranged")
# Another account's blob in its place: refused too.
write_blob(blob_a, read_blob(blob_g))
refused(lambda: get(a, "acme-blobs", "a.bin"), "another account's blob")
# Put back, both read again: the failures were the swap's.
write_blob(blob_a, saved_a)
write_blob(blob_b, saved_b)
assert get(a, "acme-blobs", "a.bin") == body_a and get(a, "acme-blobs", "b.bin") == body_b

# 3. A byte flipped mid-blob: the object and a range over that segment refuse, a range in an
# untouched segment (segments are 64 KiB, each authenticated) still reads.
saved_c = read_blob(blob_c)
flipped = bytearray(saved_c)
at = 17 + 3 * (65536 + 16) + 100  # inside the fourth segment
flipped[at] ^= 0x01
write_blob(blob_c, bytes(flipped))
refused(lambda: get(a, "acme-blobs", "c.bin"), "a flipped byte")
refused(lambda: get(a, "acme-blobs", "c.bin", "bytes=200000-200100"), "a flipped byte, ranged")
assert get(a, "acme-blobs", "c.bin", "bytes=0-1000") == body_c[:1001]
# Truncated: refused.
write_blob(blob_c, saved_c[:-20])
refused(lambda: get(a, "acme-blobs", "c.bin"), "a truncated blob")
write_blob(blob_c, saved_c)
assert get(a, "acme-blobs", "c.bin") == body_c

# 4. A blob deleted: the data is lost, visibly: GET fails, HEAD still answers (the metadata is
# in the database).
blobs.delete_object(Bucket=blob_bucket, Key=blob_b)
refused(lambda: get(a, "acme-blobs", "b.bin"), "a deleted blob")
assert a.head_object(Bucket="acme-blobs", Key="b.bin")["ContentLength"] == SIZE

# 5. A planted blob (a copy of a real one under a new name) is served as nothing: listing the
# bucket shows only the tenant's objects.
write_blob(f"{prefix}/blobs/{a_account}/00000000-0000-4000-8000-000000000000", saved_a)
listed = [o["Key"] for o in a.list_objects_v2(Bucket="acme-blobs").get("Contents", [])]
assert sorted(listed) == ["a.bin", "b.bin", "c.bin"], listed
print("ok")
