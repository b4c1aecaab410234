#!/usr/bin/env bash
# Load run (not a test): authenticated IAM reads (GetUser), IAM writes (TagUser: a record update
# and its audit event in one transaction) and STS GetCallerIdentity, as a tenant, against a
# running `hermetic serve`. Creates a tenant account and a user, signs one request per operation
# with botocore (valid for the 15-minute SigV4 window) and replays each with wrk; the server
# verifies, authorizes, executes and audits every copy.
# Usage: bench/iam-load.sh [URL] [DATA_DIR] [SECONDS] [CONNECTIONS]
set -euo pipefail
url="${1:-http://127.0.0.1:4566}"
data_dir="${2:-hermetic-data}"
secs="${3:-15}"
conns="${4:-32}"
python="${HERMETIC_PYTHON:-.venv/bin/python}"
hermetic="${HERMETIC_BIN:-target/release/hermetic}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
invite=$("$hermetic" account invite "load-$(date +%s%N)" --json --endpoint "$url" --data-dir "$data_dir")
code=$(printf '%s' "$invite" | "$python" -c 'import json, sys; print(json.load(sys.stdin)["InviteCode"])')
tenant=$("$hermetic" account redeem "$code" --json --endpoint "$url")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" - "$url" "$tenant" "$work" <<'PY'
import json, sys
import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, tenant, work = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
creds = Credentials(tenant["AccessKeyId"], tenant["SecretAccessKey"])
boto3.client("iam", endpoint_url=url, region_name="us-east-1",
             aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key
             ).create_user(UserName="load")
ops = {
    "iam-read": ("iam", "Action=GetUser&Version=2010-05-08&UserName=load"),
    "iam-write": ("iam", "Action=TagUser&Version=2010-05-08&UserName=load"
                         "&Tags.member.1.Key=team&Tags.member.1.Value=blue"),
    "sts": ("sts", "Action=GetCallerIdentity&Version=2011-06-15"),
}
for name, (service, body) in ops.items():
    req = AWSRequest(method="POST", url=url + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(creds, service, "us-east-1").add_auth(req)
    with open(f"{work}/{name}.lua", "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write("wrk.body = %s\n" % json.dumps(body))
        for k, v in req.headers.items():
            if k.lower() != "host":
                v = v if isinstance(v, str) else v.decode()
                f.write("wrk.headers[%s] = %s\n" % (json.dumps(k), json.dumps(v)))
        f.write('''
done = function(summary, latency, requests)
  io.write(string.format("requests/s: %.0f\\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("p50: %.3f ms, p99: %.3f ms\\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("non-2xx: %d, errors: %d\\n", summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
''')
PY
for op in iam-read iam-write sts; do
    echo "== $op ($conns connections, ${secs}s)"
    # LOAD_HOOK (bench/capacity.sh) samples CPU and WAL counters around each run.
    [ -z "${LOAD_HOOK:-}" ] || "$LOAD_HOOK" before "$op"
    wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$work/$op.lua" "$url/" | tail -n 3
    [ -z "${LOAD_HOOK:-}" ] || "$LOAD_HOOK" after "$op"
done
