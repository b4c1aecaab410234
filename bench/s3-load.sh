#!/usr/bin/env bash
# Load run (not a test): S3 PUT and GET throughput for 4 KiB, 1 MiB and 64 MiB objects as a
# tenant against a running `hermetic serve` (encryption, KMS as the caller and audit on), and the
# physical reference: the same sizes written (with fsync) and read as plain local files in the
# data directory's file system. Signs one request per operation with botocore and replays it
# with wrk. Usage: [S3_LOAD_ENCRYPTION=kms|kms-bucket-key] bench/s3-load.sh [URL] [DATA_DIR]
# [SECONDS] [CONNECTIONS]
set -euo pipefail
url="${1:-http://127.0.0.1:4566}"
data_dir="${2:-hermetic-data}"
secs="${3:-10}"
conns="${4:-8}"
python="${HERMETIC_PYTHON:-.venv/bin/python}"
hermetic="${HERMETIC_BIN:-target/release/hermetic}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
invite=$("$hermetic" account invite "s3-load-$(date +%s%N)" --json --endpoint "$url" --data-dir "$data_dir")
code=$(printf '%s' "$invite" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["InviteCode"])')
tenant=$("$hermetic" account redeem "$code" --json --endpoint "$url")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" - "$url" "$tenant" "$work" "$data_dir" <<'PY'
import json, os, sys, time
import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, tenant, work, data_dir = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
creds = Credentials(tenant["AccessKeyId"], tenant["SecretAccessKey"])
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key)
bucket = "load-" + tenant["AccountId"]
s3.create_bucket(Bucket=bucket)
# S3_LOAD_ENCRYPTION: the bucket's default encryption: unset (SSE-S3, S3's default), `kms` (a
# customer managed KMS key), or `kms-bucket-key` (the same, with S3 Bucket Keys).
encryption = os.environ.get("S3_LOAD_ENCRYPTION", "")
if encryption in ("kms", "kms-bucket-key"):
    kms = boto3.client("kms", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
        "BucketKeyEnabled": encryption == "kms-bucket-key"}]})
sizes = {"4KiB": 4096, "1MiB": 1 << 20, "64MiB": 64 << 20}
with open(f"{work}/sizes", "w") as f:
    for name, n in sizes.items():
        body = os.urandom(n)
        s3.put_object(Bucket=bucket, Key=f"obj-{name}", Body=body)
        with open(f"{work}/{name}.bin", "wb") as b:
            b.write(body)
        f.write(f"{name} {n}\n")
        for op in ("get", "put"):
            method = "GET" if op == "get" else "PUT"
            req = AWSRequest(method=method, url=f"{url}/{bucket}/obj-{name}",
                             data=(body if op == "put" else None),
                             headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
            S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
            with open(f"{work}/{op}-{name}.lua", "w") as l:
                l.write(f'wrk.method = "{method}"\n')
                l.write(f'wrk.path = "/{bucket}/obj-{name}"\n')
                if op == "put":
                    l.write(f'local f = io.open("{work}/{name}.bin", "rb"); wrk.body = f:read("*all"); f:close()\n')
                for k, v in req.headers.items():
                    if k.lower() not in ("host", "content-length"):
                        v = v if isinstance(v, str) else v.decode()
                        l.write("wrk.headers[%s] = %s\n" % (json.dumps(k), json.dumps(v)))
                l.write('''
done = function(summary, latency, requests)
  io.write(string.format("%.1f req/s, p50 %.2f ms, p99 %.2f ms, non-2xx %d\\n", summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status))
end
''')
# The physical reference: plain files of the same sizes, written with fsync and read back.
ref_dir = os.path.join(data_dir, "reference-io")
os.makedirs(ref_dir, exist_ok=True)
print("== local-file reference (same file system as the data directory)")
for name, n in sizes.items():
    body = open(f"{work}/{name}.bin", "rb").read()
    count = max(3, min(2000, (256 << 20) // n))
    t = time.perf_counter()
    for i in range(count):
        with open(f"{ref_dir}/f{i}", "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
    w = time.perf_counter() - t
    t = time.perf_counter()
    for i in range(count):
        with open(f"{ref_dir}/f{i}", "rb") as f:
            f.read()
    r = time.perf_counter() - t
    for i in range(count):
        os.remove(f"{ref_dir}/f{i}")
    print(f"{name}: write {count * n / w / (1 << 20):.1f} MiB/s, read {count * n / r / (1 << 20):.1f} MiB/s")
os.rmdir(ref_dir)
PY
while read -r name bytes; do
    for op in get put; do
        line=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$work/$op-$name.lua" "$url/" | tail -n 1)
        rps=${line%% req/s*}
        mibs=$(awk -v r="$rps" -v b="$bytes" 'BEGIN { printf "%.1f", r * b / 1048576 }')
        echo "$op $name ($conns connections, ${secs}s): $line => $mibs MiB/s"
    done
done < "$work/sizes"
