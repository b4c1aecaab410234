"""The AWS Encryption SDK for Python through Hermetic's KMS: a KMS keyring with an encryption
context, and a multi-keyring of two keys, each of which can decrypt alone.

Usage: esdk.py URL ACCOUNT KEY SECRET (the SDK's KMS clients find the server through
AWS_ENDPOINT_URL_KMS).
"""

import os
import sys

import boto3

URL, ACCOUNT, KEY, SECRET = sys.argv[1:5]
os.environ.update({
    "AWS_ENDPOINT_URL_KMS": URL, "AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET,
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
})
os.environ.pop("AWS_SESSION_TOKEN", None)

import aws_encryption_sdk  # noqa: E402
from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders  # noqa: E402
from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig  # noqa: E402
from aws_cryptographic_material_providers.mpl.models import (  # noqa: E402
    CreateAwsKmsKeyringInput,
    CreateAwsKmsMultiKeyringInput,
)
from aws_encryption_sdk import CommitmentPolicy  # noqa: E402

kms = boto3.client("kms")
first = kms.create_key(Description="esdk one")["KeyMetadata"]["Arn"]
second = kms.create_key(Description="esdk two")["KeyMetadata"]["Arn"]
sdk = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())

# Master key provider (the SDK's classic interface).
provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[first])
context = {"purpose": "test", "tenant": ACCOUNT}
data = os.urandom(10_000)
ciphertext, header = sdk.encrypt(source=data, key_provider=provider, encryption_context=context)
assert header.encryption_context["purpose"] == "test"
plaintext, _ = sdk.decrypt(source=ciphertext, key_provider=provider)
assert plaintext == data

# A KMS keyring, with the encryption context checked on the way back.
keyring = mpl.create_aws_kms_keyring(CreateAwsKmsKeyringInput(kms_key_id=first, kms_client=kms))
ciphertext, _ = sdk.encrypt(source=data, keyring=keyring, encryption_context=context)
plaintext, header = sdk.decrypt(source=ciphertext, keyring=keyring, encryption_context=context)
assert plaintext == data and header.encryption_context["tenant"] == ACCOUNT
try:
    sdk.decrypt(source=ciphertext, keyring=keyring, encryption_context={"purpose": "other"})
    raise AssertionError("a different encryption context must not decrypt")
except AssertionError:
    raise
except Exception:
    pass

# A multi-keyring of two keys: either key alone decrypts.
multi = mpl.create_aws_kms_multi_keyring(CreateAwsKmsMultiKeyringInput(generator=first, kms_key_ids=[second]))
ciphertext, _ = sdk.encrypt(source=data, keyring=multi, encryption_context=context)
for arn in (first, second):
    single = mpl.create_aws_kms_keyring(CreateAwsKmsKeyringInput(kms_key_id=arn, kms_client=kms))
    plaintext, _ = sdk.decrypt(source=ciphertext, keyring=single)
    assert plaintext == data, arn
# With the first key disabled, the second still opens the message.
kms.disable_key(KeyId=first)
single = mpl.create_aws_kms_keyring(CreateAwsKmsKeyringInput(kms_key_id=second, kms_client=kms))
plaintext, _ = sdk.decrypt(source=ciphertext, keyring=single)
assert plaintext == data
print("ok")
