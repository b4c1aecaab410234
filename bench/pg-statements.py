#!/usr/bin/env python3
"""Statement count (not a test): the SQL one request of each kind sends to PostgreSQL.

Starts BIN on the local PostgreSQL (trust auth, database `test`, a schema of its own), makes a
tenant with the user `load` and a KMS key, then for IAM GetUser, IAM TagUser, STS
GetCallerIdentity and KMS Encrypt sends one request as a warm-up and one with
`log_statement = 'all'` switched on around it (ALTER SYSTEM + pg_reload_conf: needs a superuser
and read access to the server's log), and prints the statements it logged.

Usage: .venv/bin/python bench/pg-statements.py BIN LABEL
"""
import json, os, subprocess, sys, time, tempfile, shutil
import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
import urllib.request
bin_, label = sys.argv[1], sys.argv[2]
port = 4901
url = f"http://127.0.0.1:{port}"
d = tempfile.mkdtemp()
schema = f"tr_{label}"
PSQL = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c"]
subprocess.run(PSQL + [f"drop schema if exists {schema} cascade"], check=True)
srv = subprocess.Popen([bin_, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", d,
    "--database-url", "postgres://postgres@127.0.0.1:5432/test", "--database-schema", schema],
    stdout=open(d + ".log", "w"), stderr=subprocess.STDOUT)
for _ in range(100):
    time.sleep(0.1)
    if "listening" in open(d + ".log").read():
        break
inv = json.loads(subprocess.check_output([bin_, "account", "invite", "t1", "--json", "--endpoint", url, "--data-dir", d]))
ten = json.loads(subprocess.check_output([bin_, "account", "redeem", inv["InviteCode"], "--json", "--endpoint", url]))
creds = Credentials(ten["AccessKeyId"], ten["SecretAccessKey"])
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key)
boto3.client("iam", **kw).create_user(UserName="load")
kms = boto3.client("kms", **kw)
key = kms.create_key()["KeyMetadata"]["KeyId"]
ops = {
    "iam-read": ("iam", "Action=GetUser&Version=2010-05-08&UserName=load", None),
    "iam-write": ("iam", "Action=TagUser&Version=2010-05-08&UserName=load&Tags.member.1.Key=team&Tags.member.1.Value=blue", None),
    "sts": ("sts", "Action=GetCallerIdentity&Version=2011-06-15", None),
    "kms-encrypt": ("kms", json.dumps({"KeyId": key, "Plaintext": "aGVsbG8="}), "TrentService.Encrypt"),
}
def send(service, body, target):
    h = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"} if not target else {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
    req = AWSRequest(method="POST", url=url + "/", data=body, headers=h)
    SigV4Auth(creds, service, "us-east-1").add_auth(req)
    r = urllib.request.Request(url + "/", data=body.encode(), headers=dict(req.headers.items()), method="POST")
    return urllib.request.urlopen(r).status
LOG = "/var/log/postgresql/postgresql-15-main.log"
for name, (svc, body, target) in ops.items():
    send(svc, body, target); time.sleep(0.3)
    subprocess.run(PSQL + ["alter system set log_statement='all'"], check=True)
    subprocess.run(PSQL + ["select pg_reload_conf()"], check=True, capture_output=True)
    time.sleep(0.5)
    start = os.path.getsize(LOG)
    send(svc, body, target)
    time.sleep(0.6)
    subprocess.run(PSQL + ["alter system reset log_statement"], check=True)
    subprocess.run(PSQL + ["select pg_reload_conf()"], check=True, capture_output=True)
    with open(LOG) as f:
        f.seek(start)
        lines = [l for l in f.read().splitlines() if "statement:" in l or "execute" in l]
    lines = [l for l in lines if "pg_reload_conf" not in l and "alter system" not in l]
    print(f"== {label} {name}: {len(lines)} statements")
    for l in lines:
        i = l.find("LOG:")
        print("   ", l[i+5:i+5+170])
srv.kill()
subprocess.run(PSQL + [f"drop schema if exists {schema} cascade"], check=True)
shutil.rmtree(d)
