"""KMS through boto3 against a running `hermetic serve`, one feature per run: key lifecycle,
aliases, tags, key policies, grants, encryption with context, data keys, rotation, asymmetric
and HMAC keys, imported key material, deletion windows, cross-account use, the operator's
refusal, tampering, and the trail.

Usage: kms.py URL ACCOUNT ROOT_KEY ROOT_SECRET OTHER_ACCOUNT OTHER_KEY OTHER_SECRET OP_KEY OP_SECRET FEATURE

FEATURE names one of the functions in FEATURES (at the bottom). Each makes the keys, users and
ciphertexts it needs, so it runs alone on a fresh server; it prints "ok" when every check held.
"""

import base64
import json
import os
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from checks import clients, fails

URL, ACCOUNT, KEY, SECRET, OTHER, OTHER_KEY, OTHER_SECRET, OP_KEY, OP_SECRET, FEATURE = sys.argv[1:11]


# --- shared setup


client = clients(URL)


kms = client("kms", KEY, SECRET)
iam = client("iam", KEY, SECRET)
other = client("kms", OTHER_KEY, OTHER_SECRET)
operator = client("kms", OP_KEY, OP_SECRET)
root_arn = f"arn:aws:iam::{ACCOUNT}:root"
ctx = {"order": "42", "tenant": "acme"}


def orders_key():
    """A symmetric key with the default policy, described "orders", tagged team=blue, under
    alias/orders; its id and ARN."""
    created = kms.create_key(Description="orders", Tags=[{"TagKey": "team", "TagValue": "blue"}])["KeyMetadata"]
    kms.create_alias(AliasName="alias/orders", TargetKeyId=created["KeyId"])
    return created["KeyId"], created["Arn"]


def make_bob():
    """Creates the IAM user bob, whose own policy allows kms:*; returns his KMS client and ARN."""
    iam.create_user(UserName="bob")
    iam.put_user_policy(UserName="bob", PolicyName="kms", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}))
    bk = iam.create_access_key(UserName="bob")["AccessKey"]
    return client("kms", bk["AccessKeyId"], bk["SecretAccessKey"]), f"arn:aws:iam::{ACCOUNT}:user/bob"


def policy_shared_with_other(key_id):
    """The key's policy with a statement that lets the other account use it."""
    shared_policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    shared_policy["Statement"].append({
        "Sid": "Other account may use", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], "Resource": "*",
    })
    return shared_policy


def import_material(key_id, raw, **extra):
    """Imports `raw` as the material of the EXTERNAL key `key_id`, wrapped with RSA-OAEP."""
    params = kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    wrapping = serialization.load_der_public_key(params["PublicKey"])
    wrapped = wrapping.encrypt(raw, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    return kms.import_key_material(KeyId=key_id, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE", **extra)


def trail_records():
    """Every event LookupEvents returns to the account, parsed."""
    trail = client("cloudtrail", KEY, SECRET)
    records = []
    for page in trail.get_paginator("lookup_events").paginate():
        records.extend(json.loads(e["CloudTrailEvent"]) for e in page["Events"])
    return records


# --- features


def key_metadata_aliases_tags():
    """A symmetric key's metadata, description, default policy, aliases and tags."""
    created = kms.create_key(
        Description="orders", Tags=[{"TagKey": "team", "TagValue": "blue"}]
    )["KeyMetadata"]
    key_id, key_arn = created["KeyId"], created["Arn"]
    assert key_arn == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}", created
    assert created["KeyState"] == "Enabled" and created["KeySpec"] == "SYMMETRIC_DEFAULT", created
    assert created["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"], created
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "orders"
    kms.update_key_description(KeyId=key_id, Description="orders, card data")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "orders, card data"
    assert key_id in [k["KeyId"] for k in kms.list_keys()["Keys"]]
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"]["AWS"] == root_arn, policy
    assert kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]
    kms.create_alias(AliasName="alias/orders", TargetKeyId=key_id)
    fails("AlreadyExistsException", kms.create_alias, AliasName="alias/orders", TargetKeyId=key_id)
    fails("NotAuthorizedException", kms.create_alias, AliasName="alias/aws/nope", TargetKeyId=key_id)
    aliases = kms.list_aliases(KeyId=key_id)["Aliases"]
    assert [a["AliasName"] for a in aliases] == ["alias/orders"], aliases
    assert kms.describe_key(KeyId="alias/orders")["KeyMetadata"]["KeyId"] == key_id
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "env", "TagValue": "test"}])
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key_id)["Tags"]}
    assert tags == {"team": "blue", "env": "test"}, tags
    kms.untag_resource(KeyId=key_id, TagKeys=["env"])
    assert len(kms.list_resource_tags(KeyId=key_id)["Tags"]) == 1


def encryption_context():
    """The encryption context binds a ciphertext: tampering, wrong contexts and keys fail; ReEncrypt moves it."""
    key_id, key_arn = orders_key()
    enc = kms.encrypt(KeyId="alias/orders", Plaintext=b"card 4111", EncryptionContext=ctx)
    assert enc["KeyId"] == key_arn, enc
    blob = enc["CiphertextBlob"]
    dec = kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
    assert dec["Plaintext"] == b"card 4111" and dec["KeyId"] == key_arn, dec
    fails("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob)
    fails("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext={"order": "43", "tenant": "acme"})
    flipped = bytearray(blob)
    flipped[-5] ^= 0x01
    fails("InvalidCiphertextException", kms.decrypt, CiphertextBlob=bytes(flipped), EncryptionContext=ctx)
    fails("InvalidCiphertextException", kms.decrypt, CiphertextBlob=b"not a ciphertext at all, not at all")
    second = kms.create_key(Description="second")["KeyMetadata"]["KeyId"]
    fails("IncorrectKeyException", kms.decrypt, CiphertextBlob=blob, EncryptionContext=ctx, KeyId=second)
    re = kms.re_encrypt(
        CiphertextBlob=blob, SourceEncryptionContext=ctx, DestinationKeyId=second,
        DestinationEncryptionContext={"moved": "yes"},
    )
    assert re["SourceKeyId"] == key_arn and re["KeyId"].endswith(second), re
    assert kms.decrypt(CiphertextBlob=re["CiphertextBlob"], EncryptionContext={"moved": "yes"})["Plaintext"] == b"card 4111"


def data_keys():
    """Data keys with and without plaintext, and random bytes."""
    key_id, _ = orders_key()
    dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=ctx)
    assert len(dk["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=ctx)["Plaintext"] == dk["Plaintext"]
    dk2 = kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=64)
    assert "Plaintext" not in dk2
    assert len(kms.decrypt(CiphertextBlob=dk2["CiphertextBlob"])["Plaintext"]) == 64
    fails("ValidationException", kms.generate_data_key, KeyId=key_id, KeySpec="AES_256", NumberOfBytes=32)
    assert len(kms.generate_random(NumberOfBytes=17)["Plaintext"]) == 17


def disable_and_rotation():
    """A disabled key encrypts nothing; rotation (on demand) keeps old ciphertexts decrypting."""
    key_id, _ = orders_key()
    blob = kms.encrypt(KeyId="alias/orders", Plaintext=b"card 4111", EncryptionContext=ctx)["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    fails("DisabledException", kms.encrypt, KeyId=key_id, Plaintext=b"x")
    kms.enable_key(KeyId=key_id)
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] and status["RotationPeriodInDays"] == 90, status
    kms.rotate_key_on_demand(KeyId=key_id)
    rotations = kms.list_key_rotations(KeyId=key_id)["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"], rotations
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)["Plaintext"] == b"card 4111"
    new_blob = kms.encrypt(KeyId=key_id, Plaintext=b"after")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=new_blob)["Plaintext"] == b"after"
    kms.disable_key_rotation(KeyId=key_id)
    assert not kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]


def policies_and_grants():
    """A strict key policy refuses bob despite his IAM; constrained grants admit him until retired or revoked."""
    key_id, key_arn = orders_key()
    bob, bob_arn = make_bob()
    assert bob.encrypt(KeyId=key_id, Plaintext=b"ok")["KeyId"] == key_arn  # delegation to IAM
    strict = {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": root_arn}, "Action": "kms:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalType": "Account"}},
        }],
    }
    strict_key = kms.create_key(Policy=json.dumps(strict))["KeyMetadata"]["KeyId"]
    message = fails("AccessDeniedException", bob.encrypt, KeyId=strict_key, Plaintext=b"x")["Error"]["Message"]
    assert "kms:Encrypt" in message, message
    # A policy that would lock the caller out is refused unless the check is bypassed.
    lockout = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": bob_arn}, "Action": "kms:Encrypt", "Resource": "*"}]}
    fails("MalformedPolicyDocumentException", kms.put_key_policy, KeyId=strict_key, PolicyName="default", Policy=json.dumps(lockout))
    fails("MalformedPolicyDocumentException", kms.put_key_policy, KeyId=strict_key, PolicyName="default", Policy="{not json")
    grant = kms.create_grant(
        KeyId=strict_key, GranteePrincipal=bob_arn, Operations=["Encrypt", "Decrypt", "RetireGrant"],
        Constraints={"EncryptionContextSubset": {"app": "x"}}, Name="bob-app-x",
    )
    again = kms.create_grant(
        KeyId=strict_key, GranteePrincipal=bob_arn, Operations=["Encrypt", "Decrypt", "RetireGrant"],
        Constraints={"EncryptionContextSubset": {"app": "x"}}, Name="bob-app-x",
    )
    assert again["GrantId"] == grant["GrantId"], (grant, again)
    g_blob = bob.encrypt(KeyId=strict_key, Plaintext=b"granted", EncryptionContext={"app": "x", "n": "1"}, GrantTokens=[grant["GrantToken"]])["CiphertextBlob"]
    assert bob.decrypt(CiphertextBlob=g_blob, EncryptionContext={"app": "x", "n": "1"})["Plaintext"] == b"granted"
    fails("AccessDeniedException", bob.encrypt, KeyId=strict_key, Plaintext=b"x", EncryptionContext={"app": "y"})
    fails("AccessDeniedException", bob.generate_data_key, KeyId=strict_key, KeySpec="AES_256", EncryptionContext={"app": "x"})
    kms.create_grant(KeyId=strict_key, GranteePrincipal=bob_arn, RetiringPrincipal=root_arn, Operations=["DescribeKey"], Name="retirable")
    retirable = kms.list_retirable_grants(RetiringPrincipal=root_arn)["Grants"]
    assert [g["Name"] for g in retirable] == ["retirable"], retirable
    kms.retire_grant(KeyId=strict_key, GrantId=retirable[0]["GrantId"])
    grants = kms.list_grants(KeyId=strict_key)["Grants"]
    assert [g["GranteePrincipal"] for g in grants] == [bob_arn], grants
    bob.retire_grant(GrantToken=grant["GrantToken"])
    fails("AccessDeniedException", bob.encrypt, KeyId=strict_key, Plaintext=b"x", EncryptionContext={"app": "x"})
    g2 = kms.create_grant(KeyId=strict_key, GranteePrincipal=bob_arn, Operations=["Encrypt"])
    kms.revoke_grant(KeyId=strict_key, GrantId=g2["GrantId"])
    assert kms.list_grants(KeyId=strict_key)["Grants"] == []
    fails("ValidationException", kms.create_grant, KeyId=strict_key, GranteePrincipal=bob_arn, Operations=["DescribeKey"], Constraints={"EncryptionContextEquals": {"a": "b"}})


def cross_account():
    """Cross-account use needs the key policy to name the account, and shows in the owner's trail."""
    key_id, key_arn = orders_key()
    shared_policy = policy_shared_with_other(key_id)
    fails("AccessDeniedException", other.encrypt, KeyId=key_arn, Plaintext=b"x")
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(shared_policy))
    cross = other.encrypt(KeyId=key_arn, Plaintext=b"from the other side", EncryptionContext={"x": "1"})
    assert kms.decrypt(CiphertextBlob=cross["CiphertextBlob"], EncryptionContext={"x": "1"})["Plaintext"] == b"from the other side"
    assert other.decrypt(CiphertextBlob=cross["CiphertextBlob"], EncryptionContext={"x": "1"})["Plaintext"] == b"from the other side"
    fails("AccessDeniedException", other.disable_key, KeyId=key_arn)
    fails("NotFoundException", other.describe_key, KeyId=key_id)  # a bare id is looked up in the caller's account
    records = trail_records()
    assert any(r["eventName"] == "Encrypt" and r["recipientAccountId"] == ACCOUNT and r["userIdentity"]["accountId"] == OTHER for r in records), "the other account's use is in the key owner's trail"


def operator_refused():
    """The operator is denied every key operation."""
    orders_key()
    blob = kms.encrypt(KeyId="alias/orders", Plaintext=b"card 4111", EncryptionContext=ctx)["CiphertextBlob"]
    fails("AccessDeniedException", operator.list_keys)
    fails("AccessDeniedException", operator.create_key)
    fails("AccessDeniedException", operator.decrypt, CiphertextBlob=blob, EncryptionContext=ctx)


def asymmetric_keys():
    """Asymmetric keys and data key pairs, checked by an independent implementation (cryptography)."""
    key_id, _ = orders_key()
    rsa_sign = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    assert "RSASSA_PSS_SHA_256" in rsa_sign["SigningAlgorithms"], rsa_sign
    sig = kms.sign(KeyId=rsa_sign["KeyId"], Message=b"hello", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    assert kms.verify(KeyId=rsa_sign["KeyId"], Message=b"hello", Signature=sig, SigningAlgorithm="RSASSA_PSS_SHA_256")["SignatureValid"]
    fails("KMSInvalidSignatureException", kms.verify, KeyId=rsa_sign["KeyId"], Message=b"hellO", Signature=sig, SigningAlgorithm="RSASSA_PSS_SHA_256")
    pub = serialization.load_der_public_key(kms.get_public_key(KeyId=rsa_sign["KeyId"])["PublicKey"])
    pub.verify(sig, b"hello", padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    fails("InvalidKeyUsageException", kms.encrypt, KeyId=rsa_sign["KeyId"], Plaintext=b"x")
    ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"document")
    ecc_sig = kms.sign(KeyId=ecc, Message=digest.finalize(), MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    ecc_pub = serialization.load_der_public_key(kms.get_public_key(KeyId=ecc)["PublicKey"])
    ecc_pub.verify(ecc_sig, b"document", ec.ECDSA(hashes.SHA256()))
    fails("InvalidKeyUsageException", kms.sign, KeyId=ecc, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")
    rsa_enc = kms.create_key(KeySpec="RSA_3072", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    enc_pub = serialization.load_der_public_key(kms.get_public_key(KeyId=rsa_enc)["PublicKey"])
    local = enc_pub.encrypt(b"sealed locally", padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    assert kms.decrypt(KeyId=rsa_enc, CiphertextBlob=local, EncryptionAlgorithm="RSAES_OAEP_SHA_256")["Plaintext"] == b"sealed locally"
    server_side = kms.encrypt(KeyId=rsa_enc, Plaintext=b"x" * 100, EncryptionAlgorithm="RSAES_OAEP_SHA_1")["CiphertextBlob"]
    assert kms.decrypt(KeyId=rsa_enc, CiphertextBlob=server_side, EncryptionAlgorithm="RSAES_OAEP_SHA_1")["Plaintext"] == b"x" * 100
    fails("ValidationException", kms.create_key, KeySpec="ECC_NIST_P256", KeyUsage="ENCRYPT_DECRYPT")
    pair = kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec="ECC_NIST_P256", EncryptionContext={"p": "1"})
    opened = kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext={"p": "1"})["Plaintext"]
    assert opened == pair["PrivateKeyPlaintext"]
    private = serialization.load_der_private_key(opened, password=None)
    assert private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == pair["PublicKey"]
    assert "PrivateKeyPlaintext" not in kms.generate_data_key_pair_without_plaintext(KeyId=key_id, KeyPairSpec="RSA_2048")


def hmac_keys():
    """HMAC keys generate and verify MACs with their own algorithm only."""
    mac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    assert mac_key["MacAlgorithms"] == ["HMAC_SHA_256"], mac_key
    tag = kms.generate_mac(KeyId=mac_key["KeyId"], Message=b"msg", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert kms.verify_mac(KeyId=mac_key["KeyId"], Message=b"msg", Mac=tag, MacAlgorithm="HMAC_SHA_256")["MacValid"]
    fails("KMSInvalidMacException", kms.verify_mac, KeyId=mac_key["KeyId"], Message=b"msG", Mac=tag, MacAlgorithm="HMAC_SHA_256")
    fails("InvalidKeyUsageException", kms.generate_mac, KeyId=mac_key["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_512")


def imported_material():
    """Imported key material (BYOK): only the same material reopens; forged tokens, AWS-origin keys refused."""
    key_id, _ = orders_key()
    ext = kms.create_key(Origin="EXTERNAL", Description="byok")["KeyMetadata"]
    assert ext["KeyState"] == "PendingImport" and ext["Origin"] == "EXTERNAL", ext
    fails("KMSInvalidStateException", kms.encrypt, KeyId=ext["KeyId"], Plaintext=b"x")
    material = os.urandom(32)
    import_material(ext["KeyId"], material)
    assert kms.describe_key(KeyId=ext["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    byok_blob = kms.encrypt(KeyId=ext["KeyId"], Plaintext=b"byok")["CiphertextBlob"]
    kms.delete_imported_key_material(KeyId=ext["KeyId"])
    assert kms.describe_key(KeyId=ext["KeyId"])["KeyMetadata"]["KeyState"] == "PendingImport"
    fails("KMSInvalidStateException", kms.decrypt, CiphertextBlob=byok_blob)
    fails("IncorrectKeyMaterialException", import_material, ext["KeyId"], os.urandom(32))
    import_material(ext["KeyId"], material)
    assert kms.decrypt(CiphertextBlob=byok_blob)["Plaintext"] == b"byok"
    kms.get_parameters_for_import(KeyId=ext["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_1", WrappingKeySpec="RSA_2048")
    fails("InvalidImportTokenException", kms.import_key_material, KeyId=ext["KeyId"], ImportToken=b"forged token", EncryptedKeyMaterial=b"x" * 256, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    fails("UnsupportedOperationException", kms.get_parameters_for_import, KeyId=key_id, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")


def deletion_windows():
    """Deletion windows (7 days at least) stop a key's use until cancelled; aliases move and are deleted."""
    key_id, _ = orders_key()
    second = kms.create_key(Description="second")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId="alias/orders", Plaintext=b"card 4111", EncryptionContext=ctx)["CiphertextBlob"]
    re = kms.re_encrypt(
        CiphertextBlob=blob, SourceEncryptionContext=ctx, DestinationKeyId=second,
        DestinationEncryptionContext={"moved": "yes"},
    )
    rsa_enc = kms.create_key(KeySpec="RSA_3072", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    fails("ValidationException", kms.schedule_key_deletion, KeyId=second, PendingWindowInDays=6)
    scheduled = kms.schedule_key_deletion(KeyId=second, PendingWindowInDays=7)
    assert scheduled["KeyState"] == "PendingDeletion" and scheduled["PendingWindowInDays"] == 7, scheduled
    assert abs(scheduled["DeletionDate"].timestamp() - (time.time() + 7 * 86400)) < 120, scheduled
    fails("KMSInvalidStateException", kms.encrypt, KeyId=second, Plaintext=b"x")
    fails("KMSInvalidStateException", kms.decrypt, CiphertextBlob=re["CiphertextBlob"], EncryptionContext={"moved": "yes"})
    kms.cancel_key_deletion(KeyId=second)
    assert kms.describe_key(KeyId=second)["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=second)
    assert kms.decrypt(CiphertextBlob=re["CiphertextBlob"], EncryptionContext={"moved": "yes"})["Plaintext"] == b"card 4111"
    kms.update_alias(AliasName="alias/orders", TargetKeyId=second)
    assert kms.describe_key(KeyId="alias/orders")["KeyMetadata"]["KeyId"] == second
    fails("ValidationException", kms.update_alias, AliasName="alias/orders", TargetKeyId=rsa_enc)
    kms.delete_alias(AliasName="alias/orders")
    fails("NotFoundException", kms.describe_key, KeyId="alias/orders")


def trail():
    """KMS events carry CloudTrail's parameters and never plaintext, data keys or key material."""
    key_id, key_arn = orders_key()
    kms.encrypt(KeyId="alias/orders", Plaintext=b"card 4111", EncryptionContext=ctx)
    dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=ctx)
    pair = kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec="ECC_NIST_P256", EncryptionContext={"p": "1"})
    ext = kms.create_key(Origin="EXTERNAL", Description="byok")["KeyMetadata"]
    material = os.urandom(32)
    import_material(ext["KeyId"], material)
    records = trail_records()
    encrypts = [r for r in records if r["eventName"] == "Encrypt" and r.get("requestParameters", {}).get("encryptionContext") == ctx]
    assert encrypts and encrypts[0]["eventSource"] == "kms.amazonaws.com", encrypts[:1]
    assert encrypts[0]["resources"][0]["ARN"] == key_arn, encrypts[0]
    everything = json.dumps(records)
    for secret in [b"card 4111", dk["Plaintext"], pair["PrivateKeyPlaintext"], material]:
        assert base64.b64encode(secret).decode() not in everything
    assert "card 4111" not in everything


def key_agreement():
    """DeriveSharedSecret (ECDH) on KEY_AGREEMENT keys, checked against an independent ECDH
    (cryptography): both sides agree on the secret; wrong usage, curve or key refused."""
    for spec, curve in [("ECC_NIST_P256", ec.SECP256R1()), ("ECC_NIST_P384", ec.SECP384R1())]:
        meta = kms.create_key(KeySpec=spec, KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
        assert meta["KeyUsage"] == "KEY_AGREEMENT" and meta["KeyAgreementAlgorithms"] == ["ECDH"], meta
        assert "SigningAlgorithms" not in meta, meta
        public = kms.get_public_key(KeyId=meta["KeyId"])
        assert public["KeyAgreementAlgorithms"] == ["ECDH"], public
        kms_public = serialization.load_der_public_key(public["PublicKey"])
        mine = ec.generate_private_key(curve)
        my_public = mine.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        derived = kms.derive_shared_secret(KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=my_public)
        assert derived["KeyId"] == meta["Arn"] and derived["KeyAgreementAlgorithm"] == "ECDH", derived
        assert derived["SharedSecret"] == mine.exchange(ec.ECDH(), kms_public)
        other_curve = ec.generate_private_key(ec.SECP384R1() if spec == "ECC_NIST_P256" else ec.SECP256R1())
        fails("ValidationException", kms.derive_shared_secret, KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH",
              PublicKey=other_curve.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
        fails("DryRunOperationException", kms.derive_shared_secret, KeyId=meta["KeyId"], KeyAgreementAlgorithm="ECDH",
              PublicKey=my_public, DryRun=True)
        fails("InvalidKeyUsageException", kms.sign, KeyId=meta["KeyId"], Message=b"x", SigningAlgorithm="ECDSA_SHA_256")
    signing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    mine = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    fails("InvalidKeyUsageException", kms.derive_shared_secret, KeyId=signing, KeyAgreementAlgorithm="ECDH", PublicKey=mine)
    fails("ValidationException", kms.create_key, KeySpec="RSA_2048", KeyUsage="KEY_AGREEMENT")
    # Another account, without a key policy that lets it: refused.
    agreement = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["Arn"]
    fails("AccessDeniedException", other.derive_shared_secret, KeyId=agreement, KeyAgreementAlgorithm="ECDH", PublicKey=mine)


FEATURES = {f.__name__: f for f in [
    key_metadata_aliases_tags, encryption_context, data_keys, disable_and_rotation,
    policies_and_grants, cross_account, operator_refused, asymmetric_keys, hmac_keys,
    imported_material, deletion_windows, trail, key_agreement,
]}

if __name__ == "__main__":
    if FEATURE not in FEATURES:
        sys.exit(f"unknown feature {FEATURE!r}; one of {', '.join(FEATURES)}")
    FEATURES[FEATURE]()
    print("ok")
