#!/usr/bin/env bash
# Load run (not a test): authenticated STS GetCallerIdentity against a running `hermetic serve`.
# Signs one request with botocore (valid for the 15-minute SigV4 window) and replays it with wrk;
# the server verifies every copy. Usage: bench/sts-load.sh [URL] [DATA_DIR] [SECONDS] [CONNECTIONS]
set -euo pipefail
url="${1:-http://127.0.0.1:4566}"
data_dir="${2:-hermetic-data}"
secs="${3:-20}"
conns="${4:-64}"
python="${HERMETIC_PYTHON:-.venv/bin/python}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
lua=$(mktemp --suffix=.lua)
"$python" - "$url" "$data_dir/operator-credentials.json" > "$lua" <<'PY'
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, creds_path = sys.argv[1], sys.argv[2]
c = json.load(open(creds_path))
body = "Action=GetCallerIdentity&Version=2011-06-15"
req = AWSRequest(method="POST", url=url + "/", data=body,
                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
SigV4Auth(Credentials(c["AccessKeyId"], c["SecretAccessKey"]), "sts", "us-east-1").add_auth(req)
print('wrk.method = "POST"')
print('wrk.body = %s' % json.dumps(body))
for k, v in req.headers.items():
    if k.lower() == "host":
        continue
    print('wrk.headers[%s] = %s' % (json.dumps(k), json.dumps(v if isinstance(v, str) else v.decode())))
print('''
done = function(summary, latency, requests)
  io.write(string.format("requests/s: %.0f\\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("p50: %.3f ms, p99: %.3f ms\\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("non-2xx: %d, errors: %d\\n", summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end''')
PY
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$lua" "$url/" | tail -n 4
rm -f "$lua"
