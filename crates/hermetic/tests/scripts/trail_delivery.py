"""A trail's delivery through boto3 against a running `hermetic serve` (started with short
`--trail-delivery-secs` and `--trail-digest-secs`).

Usage: trail_delivery.py URL ACCOUNT KEY SECRET PHASE
  setup    the log bucket (CloudTrail's bucket policy), a data bucket, trail `main` with log
           file validation, management events and S3 data events on the data bucket; logging
  traffic  management events (IAM) and data events (objects written to the data bucket)
  burst    traffic over and over until the server goes away
  files    checks no event was delivered twice; prints the number of files delivered
  check    waits until the delivered files hold every management event LookupEvents lists since
           logging started, then checks each event is delivered exactly once, in the log's
           order within a file, every data event written is delivered, the files sit under
           AWS's key layout and are encrypted (the data events of the delivery itself aside)
Prints "ok" when every check held.
"""

import gzip
import json
import re
import sys
import time
import uuid

import boto3

URL, ACCOUNT, KEY, SECRET, PHASE = sys.argv[1:6]
LOGS = f"trail-logs-{ACCOUNT}"
DATA = f"trail-data-{ACCOUNT}"
ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"


def client(service):
    return boto3.client(
        service, endpoint_url=URL, region_name="us-east-1",
        aws_access_key_id=KEY, aws_secret_access_key=SECRET,
    )


ct, s3, iam = client("cloudtrail"), client("s3"), client("iam")


def setup():
    s3.create_bucket(Bucket=LOGS)
    s3.create_bucket(Bucket=DATA)
    source = {"aws:SourceArn": ARN}
    s3.put_bucket_policy(Bucket=LOGS, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{LOGS}",
         "Condition": {"StringEquals": source}},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{LOGS}/AWSLogs/{ACCOUNT}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source}}},
    ]}))
    ct.create_trail(Name="main", S3BucketName=LOGS, EnableLogFileValidation=True)
    ct.put_event_selectors(TrailName="main", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{DATA}/"]}],
    }])
    ct.start_logging(Name="main")


def traffic():
    for i in range(5):
        name = f"u-{uuid.uuid4().hex[:10]}"
        iam.create_user(UserName=name)
        iam.get_user(UserName=name)
        iam.delete_user(UserName=name)
        s3.put_object(Bucket=DATA, Key=f"obj/{name}", Body=b"x" * i)


def burst():
    try:
        while True:
            traffic()
    except Exception:  # the server was killed: that is the point
        pass


def files():
    ids = [r["eventID"] for records, _ in delivered().values() for r in records]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    print(f"files {len(delivered())}")


def delivered():
    """Every delivered log file: key -> its records."""
    files = {}
    for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=LOGS, Prefix=f"AWSLogs/{ACCOUNT}/CloudTrail/"):
        for o in page.get("Contents", []):
            got = s3.get_object(Bucket=LOGS, Key=o["Key"])
            files[o["Key"]] = (json.loads(gzip.decompress(got["Body"].read()))["Records"], got)
    return files


def since_logging():
    """The ids of the management events LookupEvents lists from the trail's StartLogging on."""
    start = int(ct.get_trail_status(Name="main")["StartLoggingTime"].timestamp())
    events, token = [], None
    while True:
        kw = {"StartTime": start, "MaxResults": 50}
        if token:
            kw["NextToken"] = token
        page = ct.lookup_events(**kw)
        events.extend(page["Events"])
        token = page.get("NextToken")
        if not token:
            break
    # Newest first: what precedes the (first) StartLogging in the same second is not the trail's.
    starts = [i for i, e in enumerate(events) if e["EventName"] == "StartLogging"]
    assert starts, "no StartLogging event"
    return [e["EventId"] for e in events[: starts[-1] + 1]]


def check():
    wanted = set(since_logging())
    assert wanted, "LookupEvents lists nothing since logging started"
    deadline = time.time() + 60
    while True:
        files = delivered()
        ids = [r["eventID"] for records, _ in files.values() for r in records]
        missing = wanted - set(ids)
        if not missing or time.time() > deadline:
            break
        time.sleep(0.5)
    assert not missing, f"{len(missing)} of {len(wanted)} events never delivered"
    dups = {i for i in ids if ids.count(i) > 1}
    assert not dups, f"events delivered twice: {sorted(dups)[:5]}"
    layout = re.compile(
        rf"^AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/\d{{4}}/\d\d/\d\d/"
        rf"{ACCOUNT}_CloudTrail_us-east-1_\d{{8}}T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz$")
    written = set()
    for key, (records, got) in files.items():
        assert layout.match(key), key
        assert got["ServerSideEncryption"] in ("AES256", "aws:kms"), got
        assert records, f"an empty file: {key}"
        for r in records:
            assert r["recipientAccountId"] == ACCOUNT, r
            if r["eventCategory"] == "Data":
                # Only the data bucket's: the delivery's own writes to the log bucket are not
                # selected.
                arns = [x["ARN"] for x in r.get("resources", [])]
                assert any(a.startswith(f"arn:aws:s3:::{DATA}/") for a in arns), r
                if r["eventName"] == "PutObject" and "errorCode" not in r:
                    written.add(r["requestParameters"]["key"])
            else:
                assert r["managementEvent"] is True, r
    objects = {o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=DATA)
               for o in p.get("Contents", [])}
    assert objects <= written, f"data events not delivered: {sorted(objects - written)[:5]}"
    # Management events delivered are LookupEvents' (what LookupEvents lists after the wait
    # may be newer than the last file).
    management = {r["eventID"] for records, _ in files.values() for r in records
                  if r["eventCategory"] == "Management"}
    assert management <= set(since_logging()), "a delivered event LookupEvents lacks"
    status = ct.get_trail_status(Name="main")
    assert "LatestDeliveryTime" in status and "LatestDeliveryError" not in status, status
    deadline = time.time() + 30
    while "LatestDigestDeliveryTime" not in status and time.time() < deadline:
        time.sleep(0.5)
        status = ct.get_trail_status(Name="main")
    assert "LatestDigestDeliveryTime" in status and "LatestDigestDeliveryError" not in status, status
    print(f"{len(files)} files, {len(ids)} events")


{"setup": setup, "traffic": traffic, "burst": burst, "files": files, "check": check}[PHASE]()
print("ok")
