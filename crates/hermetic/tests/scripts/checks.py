"""What the test scripts share: expecting an AWS error from a boto3 call."""

import botocore.exceptions


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
