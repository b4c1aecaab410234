"""Sign requests with botocore (the signer inside boto3 and aws-cli) and print them as JSON.

Every payload mode botocore produces: S3 header auth with a SHA-256 payload hash, S3 with
UNSIGNED-PAYLOAD, S3 presigned URLs (with and without a session token), non-S3 header auth
(query protocol, JSON protocol) whose payload hash is computed from the body, and non-S3
presigned URLs. The Rust test verifies each one with the sigv4 crate.
"""
import json
import sys
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AKID = "AKIDBOTOCORE0EXAMPLE"
SECRET = "botocore/secret+key/EXAMPLE0123456789abcd"
TOKEN = "FwoGZXIvYXdzEBoaDEXAMPLETOKEN//////////wEaDO+/=="


def dump(name, request, service, body=b""):
    parts = urlsplit(request.url)
    headers = [[k, v.decode() if isinstance(v, bytes) else v] for k, v in request.headers.items()]
    if not any(k.lower() == "host" for k, _ in headers):
        headers.append(["host", parts.netloc])
    return {
        "name": name,
        "service": service,
        "method": request.method,
        "path": parts.path or "/",
        "query": parts.query,
        "headers": headers,
        "body": body.decode("latin-1"),
        "secret": SECRET,
    }


def main():
    out = []
    creds = Credentials(AKID, SECRET)
    session_creds = Credentials(AKID, SECRET, TOKEN)

    # S3, header auth, signed payload hash; a key that needs encoding.
    for name, key, body in [
        ("s3-put-signed-payload", "/bucket/dir/my%20file%2Bv1.txt", b"hello hermetic"),
        ("s3-get-unicode-key", "/bucket/caf%C3%A9/%E2%9C%93.txt", b""),
    ]:
        req = AWSRequest(method="PUT" if body else "GET",
                         url=f"https://s3.us-east-1.amazonaws.com{key}", data=body)
        S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
        out.append(dump(name, req, "s3", body))

    # S3, UNSIGNED-PAYLOAD (what botocore sends over TLS with payload signing off).
    req = AWSRequest(method="PUT", url="https://s3.us-east-1.amazonaws.com/bucket/big.bin", data=b"x" * 1000,
                     headers={"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="})
    req.context["has_streaming_input"] = True
    S3SigV4Auth(session_creds, "s3", "us-east-1").add_auth(req)
    out.append(dump("s3-put-unsigned-payload-with-token", req, "s3", b"x" * 1000))

    # S3, list with query parameters that need encoding.
    req = AWSRequest(method="GET", url="https://s3.us-east-1.amazonaws.com/bucket?list-type=2&prefix=a%2Fb%20c&max-keys=5")
    S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    out.append(dump("s3-list-objects-v2", req, "s3"))

    # S3 presigned GET, with and without a session token.
    for name, c in [("s3-presigned-get", creds), ("s3-presigned-get-with-token", session_creds)]:
        req = AWSRequest(method="GET", url="https://s3.us-east-1.amazonaws.com/bucket/report.csv")
        S3SigV4QueryAuth(c, "s3", "us-east-1", expires=900).add_auth(req)
        out.append(dump(name, req, "s3"))

    # Query protocol (IAM/STS), form body: the payload hash is computed from the body.
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    req = AWSRequest(method="POST", url="https://sts.amazonaws.com/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(session_creds, "sts", "us-east-1").add_auth(req)
    out.append(dump("sts-query-protocol-with-token", req, "sts", body))

    # JSON protocol (KMS).
    body = b'{"KeyId": "alias/app", "Plaintext": "aGVsbG8="}'
    req = AWSRequest(method="POST", url="https://kms.us-east-1.amazonaws.com/", data=body,
                     headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.Encrypt"})
    SigV4Auth(creds, "kms", "us-east-1").add_auth(req)
    out.append(dump("kms-json-protocol", req, "kms", body))

    # Non-S3 presigned URL.
    req = AWSRequest(method="GET", url="https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08")
    SigV4QueryAuth(creds, "iam", "us-east-1", expires=300).add_auth(req)
    out.append(dump("iam-presigned-get", req, "iam"))

    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
