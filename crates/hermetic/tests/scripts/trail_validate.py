"""`aws cloudtrail validate-logs`, unmodified, on the files a trail delivered (the trail of
`trail_delivery.py setup`, its server started with short delivery and digest intervals): valid
as delivered, then INVALID after each kind of tampering the bucket's owner (or anyone who can
write to it) could do — a log file modified, a log file deleted, a digest modified, a digest
deleted, a digest inserted — and valid again once each is undone.

Usage: trail_validate.py URL ACCOUNT KEY SECRET AWS_CLI
Prints "ok" when every check held.
"""

import gzip
import json
import os
import subprocess
import sys
import time

import boto3

URL, ACCOUNT, KEY, SECRET, AWS = sys.argv[1:6]
LOGS = f"trail-logs-{ACCOUNT}"
ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"
DIGESTS = f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/"

s3 = boto3.client("s3", endpoint_url=URL, region_name="us-east-1",
                  aws_access_key_id=KEY, aws_secret_access_key=SECRET)
ct = boto3.client("cloudtrail", endpoint_url=URL, region_name="us-east-1",
                  aws_access_key_id=KEY, aws_secret_access_key=SECRET)
START = ct.get_trail_status(Name="main")["StartLoggingTime"].strftime("%Y-%m-%dT%H:%M:%SZ")


def validate():
    """Runs validate-logs up to now; (exit code, output)."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_ENDPOINT_URL_S3=URL, AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_DEFAULT_REGION="us-east-1")
    env.pop("AWS_SESSION_TOKEN", None)
    run = subprocess.run(
        [AWS, "cloudtrail", "validate-logs", "--trail-arn", ARN, "--start-time", START,
         "--endpoint-url", URL, "--verbose"],
        env=env, capture_output=True, text=True, timeout=300)
    return run.returncode, run.stdout + run.stderr


def valid():
    code, out = validate()
    assert code == 0 and "INVALID" not in out, out
    return out


def invalid(expect):
    code, out = validate()
    assert code != 0 and expect in out, f"expected INVALID with {expect!r}:\n{out}"


def digests():
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=LOGS, Prefix=DIGESTS):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return sorted(keys)


def fetch(key):
    got = s3.get_object(Bucket=LOGS, Key=key)
    return got["Body"].read(), got["Metadata"]


def restore(key, body, metadata):
    s3.put_object(Bucket=LOGS, Key=key, Body=body, Metadata=metadata)


def signers():
    """The fingerprints of the keys that signed the digests."""
    return {json.loads(gzip.decompress(fetch(k)[0]))["digestPublicKeyFingerprint"]
            for k in digests()}


# Digests that list log files, at least one after them, and digests signed by two keys (the
# server's key rotates every few seconds here).
deadline = time.time() + 60
while True:
    keys = digests()
    listing = [k for k in keys[:-1]
               if json.loads(gzip.decompress(fetch(k)[0]))["logFiles"]]
    if (listing and len(signers()) >= 2) or time.time() > deadline:
        break
    time.sleep(0.5)
assert listing, f"no digest lists a log file: {keys}"
out = valid()
assert "digest files valid" in out and "log files valid" in out, out
# ListPublicKeys serves every key of the range, the retired ones too.
keys = ct.list_public_keys(StartTime=ct.get_trail_status(Name="main")["StartLoggingTime"])["PublicKeyList"]
prints = signers()
assert len(prints) >= 2 and prints <= {k["Fingerprint"] for k in keys}, (prints, keys)
assert f"s3://{LOGS}/{listing[0]}\tvalid" in out, out

# --- a log file modified, then deleted
digest = json.loads(gzip.decompress(fetch(listing[0])[0]))
log = digest["logFiles"][0]["s3Object"]
body, metadata = fetch(log)
records = json.loads(gzip.decompress(body))
records["Records"][0]["eventName"] = "NothingHappened"
s3.put_object(Bucket=LOGS, Key=log, Body=gzip.compress(json.dumps(records).encode()))
invalid("INVALID: hash value doesn't match")
restore(log, body, metadata)
valid()
s3.delete_object(Bucket=LOGS, Key=log)
invalid("INVALID: not found")
restore(log, body, metadata)
valid()

# --- a digest modified (its signature kept), then deleted
key = listing[0]
body, metadata = fetch(key)
doc = json.loads(gzip.decompress(body))
doc["logFiles"] = doc["logFiles"][1:]
restore(key, gzip.compress(json.dumps(doc).encode()), metadata)
invalid("INVALID: signature verification failed")
restore(key, body, metadata)
valid()
s3.delete_object(Bucket=LOGS, Key=key)
invalid("INVALID: not found")
restore(key, body, metadata)
valid()

# --- a digest inserted after the last one: signed by no key the trail has
last = digests()[-1]
body, metadata = fetch(last)
doc = json.loads(gzip.decompress(body))
# Newer than every real one (validate-logs starts from the newest digest up to an hour ahead).
later = time.gmtime(time.time() + 1800)
forged = last[:-24] + time.strftime("%Y%m%dT%H%M%SZ", later) + ".json.gz"
doc["digestS3Object"] = forged
doc["digestEndTime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", later)
restore(forged, gzip.compress(json.dumps(doc).encode()), metadata)
invalid(f"s3://{LOGS}/{forged}\tINVALID: signature verification failed")
s3.delete_object(Bucket=LOGS, Key=forged)
valid()
print("ok")
