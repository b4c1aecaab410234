#!/usr/bin/env bash
# Load run (not a test): what a logging trail costs, and how fast it delivers. For each store
# (SQLite, then the local PostgreSQL), two fresh servers: one whose tenant has no trail, one
# whose tenant has a trail logging management events and S3 data events on the load bucket
# (delivery every second). On each: S3 PUT and GET of 4 KiB objects and tenant STS
# GetCallerIdentity, replayed with wrk. On the trail's server, after the load: how long until
# every event is delivered, and the delivery's throughput (events delivered / time from the
# load's start to the last one delivered).
# Usage: bench/trail-load.sh HERMETIC_BIN [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:?usage: bench/trail-load.sh HERMETIC_BIN [SECONDS] [CONNECTIONS]}")"
secs="${2:-10}"
conns="${3:-8}"
python="${HERMETIC_PYTHON:-.venv/bin/python}"
pg="postgres://postgres@127.0.0.1:5432/test"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
port=4870
for store in sqlite postgres; do
    for trail in off on; do
        port=$((port + 1))
        dir=$(mktemp -d "/tmp/hermetic-trail-load-$store-$trail-XXXX")
        schema="tl_${trail}_$$"
        args=(serve --listen "127.0.0.1:$port" --data-dir "$dir" --trail-delivery-secs 1 --trail-digest-secs 60)
        if [ "$store" = postgres ]; then
            args+=(--database-url "$pg" --database-schema "$schema")
        fi
        "$bin" "${args[@]}" >"$dir.log" 2>&1 &
        server=$!
        for _ in $(seq 100); do
            grep -q "listening" "$dir.log" 2>/dev/null && break
            sleep 0.1
        done
        url="http://127.0.0.1:$port"
        invite=$("$bin" account invite "trail-load" --json --endpoint "$url" --data-dir "$dir")
        code=$(printf '%s' "$invite" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["InviteCode"])')
        tenant=$("$bin" account redeem "$code" --json --endpoint "$url")
        work=$(mktemp -d)
        "$python" - "$url" "$tenant" "$work" "$trail" <<'PY'
import json, os, sys
import boto3
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, tenant, work, trail = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
account = tenant["AccountId"]
creds = Credentials(tenant["AccessKeyId"], tenant["SecretAccessKey"])
kw = dict(endpoint_url=url, region_name="us-east-1",
          aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key)
s3, ct = boto3.client("s3", **kw), boto3.client("cloudtrail", **kw)
bucket, logs = f"load-{account}", f"logs-{account}"
s3.create_bucket(Bucket=bucket)
body = os.urandom(4096)
s3.put_object(Bucket=bucket, Key="obj", Body=body)
open(f"{work}/body.bin", "wb").write(body)
if trail == "on":
    arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/load"
    s3.create_bucket(Bucket=logs)
    s3.put_bucket_policy(Bucket=logs, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{logs}"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{logs}/AWSLogs/{account}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                        "aws:SourceArn": arn}}}]}))
    ct.create_trail(Name="load", S3BucketName=logs, EnableLogFileValidation=True)
    ct.put_event_selectors(TrailName="load", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{bucket}/"]}]}])
    ct.start_logging(Name="load")
done = '''
done = function(summary, latency, requests)
  io.write(string.format("%.1f req/s, p50 %.2f ms, p99 %.2f ms, non-2xx %d\\n", summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status))
end
'''
def script(name, method, path, service, data=None, headers=None, extra=""):
    req = AWSRequest(method=method, url=url + path, data=data, headers=headers or {})
    (S3SigV4Auth if service == "s3" else SigV4Auth)(creds, service, "us-east-1").add_auth(req)
    with open(f"{work}/{name}.lua", "w") as l:
        l.write(f'wrk.method = "{method}"\nwrk.path = "{path}"\n' + extra)
        for k, v in req.headers.items():
            if k.lower() not in ("host", "content-length"):
                v = v if isinstance(v, str) else v.decode()
                l.write("wrk.headers[%s] = %s\n" % (json.dumps(k), json.dumps(v)))
        l.write(done)
unsigned = {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
script("put", "PUT", f"/{bucket}/obj", "s3", body, dict(unsigned),
       f'local f = io.open("{work}/body.bin", "rb"); wrk.body = f:read("*all"); f:close()\n')
script("get", "GET", f"/{bucket}/obj", "s3", None, dict(unsigned))
gci = "Action=GetCallerIdentity&Version=2011-06-15"
script("sts", "POST", "/", "sts", gci,
       {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
       f"wrk.body = {json.dumps(gci)}\n")
PY
        echo "### $store trail-$trail"
        start=$(date +%s.%N)
        for op in put get sts; do
            printf '%s: ' "$op"
            wrk -t2 -c"$conns" -d"${secs}s" -s "$work/$op.lua" "$url" | tail -n 1
        done
        if [ "$trail" = on ]; then
            ended=$(date +%s.%N)
            "$python" - "$url" "$tenant" "$start" "$ended" <<'PY'
import gzip, json, sys, time
import boto3
url, tenant, start, ended = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
account = tenant["AccountId"]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id=tenant["AccessKeyId"],
          aws_secret_access_key=tenant["SecretAccessKey"])
s3 = boto3.client("s3", **kw)
logs = f"logs-{account}"
# Delivered when a file holds an event made after the load ended (this marker's).
marker = f"marker-{time.time_ns()}"
s3.put_object(Bucket=f"load-{account}", Key=marker, Body=b"")
seen, count, last = set(), 0, None
while last is None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=logs, Prefix=f"AWSLogs/{account}/CloudTrail/"):
        for o in page.get("Contents", []):
            if o["Key"] in seen:
                continue
            seen.add(o["Key"])
            records = json.loads(gzip.decompress(s3.get_object(Bucket=logs, Key=o["Key"])["Body"].read()))["Records"]
            count += len(records)
            if any(r.get("requestParameters", {}).get("key") == marker for r in records):
                last = time.time()
    time.sleep(0.2)
print(f"delivered {count} events in {len(seen)} files; caught up {last - ended:.1f} s after the load; "
      f"{count / (last - start):.0f} events/s")
PY
        fi
        rm -rf "$work"
        kill "$server"
        wait "$server" 2>/dev/null || true
        rm -rf "$dir" "$dir.log"
        if [ "$store" = postgres ]; then
            PGOPTIONS="--client-min-messages=warning" psql -q -h 127.0.0.1 -U postgres -d test -c "drop schema if exists $schema cascade" >/dev/null
        fi
    done
done
