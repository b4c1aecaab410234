"""What the test scripts share: boto3 clients for the server under test, and expecting an AWS
error from a boto3 call."""

import boto3
import botocore.exceptions


def clients(url, **extra):
    """A factory of boto3 clients for the server at `url`: `client(service, key, secret,
    token=None)` (`extra` goes to each, e.g. `config=` or `verify=`)."""
    def client(service, key, secret, token=None):
        return boto3.client(
            service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
            aws_secret_access_key=secret, aws_session_token=token, **extra,
        )
    return client


def fails(code, call, *args, **kwargs):
    """Calls `call` and checks it fails with the AWS error `code`; returns the error response
    (`["Error"]["Message"]` is its message)."""
    try:
        call(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {e}"
        return e.response
    raise AssertionError(f"expected {code}, the call succeeded")
