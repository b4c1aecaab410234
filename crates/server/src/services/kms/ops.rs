//! KMS cryptographic operations: Encrypt, Decrypt, ReEncrypt, data keys and key pairs, random
//! bytes, Sign/Verify, GenerateMac/VerifyMac, and the import of key material. None of them
//! changes state, so their events join the group commit; plaintext never enters an event.

use super::input::{pairs, Input};
use super::keys::{material, usable};
use super::{b64, err, Call, KeyRecord};
use crate::error::ApiError;
use crate::pipeline::service::{Ctx, Effect, Operation};
use crate::pipeline::State;
use crate::records::kms::{
    ExpirationModel, ImportParameters, Key, KeyState, KeyUsage, KeyVersion, VersionType,
};
use base64::Engine;
use crypto::kms::asymmetric::{
    self, AsymmetricSpec, EncryptionAlgorithm, MessageType, SigningAlgorithm,
};
use crypto::kms::blob as kblob;
use crypto::kms::mac::{self, MacAlgorithm, MacSpec};
use crypto::RootOfTrust;
use serde_json::{json, Value};

fn invalid_usage(arn: &str, usage: &str, operation: &str) -> ApiError {
    err(
        "InvalidKeyUsageException",
        format!("{arn} key usage is {usage} which is not valid for {operation}."),
    )
}

fn number_of_bytes(given: Option<i64>, name: &str, max: i64) -> Result<Option<usize>, ApiError> {
    match given {
        None => Ok(None),
        Some(n) => Some(n)
            .filter(|n| (1..=max).contains(n))
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                err("ValidationException", format!("{name} must be between 1 and {max}."))
            }),
    }
}

fn random(n: usize) -> crypto::SecretBytes {
    let mut bytes = vec![0u8; n];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    crypto::SecretBytes::new(bytes)
}

/// Seals `plaintext` under a symmetric key's current version.
pub(super) fn seal_with(
    state: &State,
    record: &KeyRecord,
    context: &[(String, String)],
    plaintext: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let version = record
        .body
        .current_version()
        .ok_or_else(|| err("KMSInvalidStateException", "The key has no key material."))?;
    let key = material(&state.root, record, version)?;
    let header =
        kblob::Header { account: record.account.clone(), key_id: record.key.clone(), version };
    kblob::seal(&key, &header, context, plaintext).map_err(|e| match e {
        kblob::BlobError::PlaintextSize => {
            err("ValidationException", "Plaintext must be 1 to 4096 bytes.")
        }
        _ => ApiError::internal("encryption failed"),
    })
}

fn asym_spec(record: &KeyRecord) -> Result<AsymmetricSpec, ApiError> {
    AsymmetricSpec::parse(&record.body.key_spec)
        .ok_or_else(|| ApiError::internal("the key's spec is not asymmetric"))
}

fn public_key(record: &KeyRecord) -> Result<Vec<u8>, ApiError> {
    b64()
        .decode(record.body.public_key.as_deref().unwrap_or_default())
        .map_err(|_| ApiError::internal("the stored public key is malformed"))
}

/// Encrypts for `Encrypt` and `ReEncrypt`'s destination: (ciphertext, algorithm).
fn encrypt_with(
    state: &State,
    record: &KeyRecord,
    algorithm: &str,
    context: &[(String, String)],
    plaintext: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let arn = &record.body.arn;
    let usage = record.body.key_usage;
    if usage != KeyUsage::EncryptDecrypt {
        return Err(invalid_usage(arn, usage.as_str(), "Encrypt"));
    }
    if record.body.symmetric() {
        if algorithm != "SYMMETRIC_DEFAULT" {
            return Err(err(
                "InvalidKeyUsageException",
                format!("{algorithm} is not valid for {arn}."),
            ));
        }
        return seal_with(state, record, context, plaintext);
    }
    let alg = EncryptionAlgorithm::parse(algorithm).ok_or_else(|| {
        err("InvalidKeyUsageException", format!("{algorithm} is not valid for {arn}."))
    })?;
    if !context.is_empty() {
        return Err(err(
            "ValidationException",
            "Asymmetric keys do not take an encryption context.",
        ));
    }
    asymmetric::encrypt(asym_spec(record)?, &public_key(record)?, alg, plaintext).map_err(|_| {
        err("ValidationException", "The plaintext is too large for this key and algorithm.")
    })
}

/// Decrypts for `Decrypt` and `ReEncrypt`'s source with the key authorization found.
fn decrypt_with(
    state: &State,
    record: &KeyRecord,
    source: &Ciphertext<'_>,
    now: i64,
) -> Result<crypto::SecretBytes, ApiError> {
    let invalid = super::checks::invalid_ciphertext;
    let ciphertext =
        source.blob.ok_or_else(|| err("ValidationException", "CiphertextBlob is required."))?;
    let algorithm = source.algorithm;
    usable(record, now)?;
    if algorithm == "SYMMETRIC_DEFAULT" {
        let header = kblob::parse_header(ciphertext).map_err(|_| invalid())?;
        let key = material(&state.root, record, header.version).map_err(|_| invalid())?;
        return kblob::open(&key, ciphertext, &source.context).map_err(|_| invalid());
    }
    let alg = EncryptionAlgorithm::parse(algorithm).ok_or_else(|| {
        err("ValidationException", format!("EncryptionAlgorithm {algorithm} is not valid."))
    })?;
    if record.body.key_usage != KeyUsage::EncryptDecrypt || record.body.symmetric() {
        return Err(err(
            "InvalidKeyUsageException",
            format!("{algorithm} is not valid for this key."),
        ));
    }
    let private = material(&state.root, record, 1)?;
    asymmetric::decrypt(asym_spec(record)?, private.expose(), alg, ciphertext)
        .map_err(|_| invalid())
}

/// Runs a cryptographic operation, authorized (its keys are in `call.keys`).
pub(super) fn run(ctx: &Ctx<'_>, call: &Call, effect: &mut Effect<'_>) -> Result<Value, ApiError> {
    let state = ctx.state;
    let operation = call.operation.name();
    let now = ctx.now();
    let default = |alg: &Option<String>| alg.as_deref().unwrap_or("SYMMETRIC_DEFAULT").to_string();
    match &call.input {
        Input::GenerateRandom(i) => {
            let n = number_of_bytes(i.number_of_bytes, "NumberOfBytes", 1024)?.unwrap_or(32);
            effect.param("numberOfBytes", json!(n));
            Ok(json!({ "Plaintext": b64().encode(random(n).expose()) }))
        }
        Input::Encrypt(i) => {
            let key_id = &i.key_id;
            let plaintext = &i.plaintext.0;
            let context = pairs(&i.encryption_context);
            let algorithm = default(&i.encryption_algorithm);
            let algorithm = algorithm.as_str();
            effect.param("keyId", json!(key_id));
            effect.param("encryptionAlgorithm", json!(algorithm));
            if !context.is_empty() {
                effect.param("encryptionContext", super::context_json(&context));
            }
            if plaintext.is_empty() || plaintext.len() > kblob::MAX_PLAINTEXT {
                return Err(err("ValidationException", "Plaintext must be 1 to 4096 bytes."));
            }
            let (_, record) = call.key(0)?;
            usable(record, now)?;
            let ciphertext = encrypt_with(state, record, algorithm, &context, plaintext)?;
            Ok(json!({
                "CiphertextBlob": b64().encode(ciphertext),
                "KeyId": record.body.arn,
                "EncryptionAlgorithm": algorithm,
            }))
        }
        Input::Decrypt(i) => {
            let source = Ciphertext::of_decrypt(i);
            let algorithm = source.algorithm;
            effect.param("encryptionAlgorithm", json!(algorithm));
            if let Some(k) = &i.key_id {
                effect.param("keyId", json!(k));
            }
            if !source.context.is_empty() {
                effect.param("encryptionContext", super::context_json(&source.context));
            }
            let (_, record) = call.key(0)?;
            let plain = decrypt_with(state, record, &source, now)?;
            Ok(json!({
                "KeyId": record.body.arn,
                "Plaintext": b64().encode(plain.expose()),
                "EncryptionAlgorithm": algorithm,
            }))
        }
        Input::ReEncrypt(i) => {
            let from = Ciphertext::of_re_encrypt(i);
            let dest_context = pairs(&i.destination_encryption_context);
            let source_alg = from.algorithm;
            let dest_alg = default(&i.destination_encryption_algorithm);
            let dest_alg = dest_alg.as_str();
            effect.param("destinationKeyId", json!(i.destination_key_id));
            let (_, source) = call.key(0)?;
            let plain = decrypt_with(state, source, &from, now)?;
            let (_, dest) = call.key(1)?;
            usable(dest, now)?;
            let out = encrypt_with(state, dest, dest_alg, &dest_context, plain.expose())?;
            Ok(json!({
                "CiphertextBlob": b64().encode(out),
                "SourceKeyId": source.body.arn,
                "KeyId": dest.body.arn,
                "SourceEncryptionAlgorithm": source_alg,
                "DestinationEncryptionAlgorithm": dest_alg,
            }))
        }
        Input::GenerateDataKey(i) => {
            let key_id = &i.key_id;
            let context = pairs(&i.encryption_context);
            let n = match (
                number_of_bytes(i.number_of_bytes, "NumberOfBytes", 1024)?,
                i.key_spec.as_deref(),
            ) {
                (Some(_), Some(_)) => {
                    return Err(err(
                        "ValidationException",
                        "Specify either KeySpec or NumberOfBytes, not both.",
                    ))
                }
                (Some(n), None) => n,
                (None, Some("AES_256")) => 32,
                (None, Some("AES_128")) => 16,
                (None, Some(other)) => {
                    return Err(err(
                        "ValidationException",
                        format!("KeySpec {other} is not valid."),
                    ))
                }
                (None, None) => {
                    return Err(err("ValidationException", "Specify KeySpec or NumberOfBytes."))
                }
            };
            effect.param("keyId", json!(key_id));
            effect.param("numberOfBytes", json!(n));
            if !context.is_empty() {
                effect.param("encryptionContext", super::context_json(&context));
            }
            let (_, record) = call.key(0)?;
            usable(record, now)?;
            if !record.body.symmetric() {
                return Err(invalid_usage(&record.body.arn, &record.body.key_spec, operation));
            }
            let data_key = random(n);
            let ciphertext = seal_with(state, record, &context, data_key.expose())?;
            let mut out =
                json!({ "CiphertextBlob": b64().encode(ciphertext), "KeyId": record.body.arn });
            if operation == "GenerateDataKey" {
                if let Some(obj) = out.as_object_mut() {
                    obj.insert("Plaintext".into(), json!(b64().encode(data_key.expose())));
                }
            }
            Ok(out)
        }
        Input::GenerateDataKeyPair(i) => {
            let key_id = &i.key_id;
            let context = pairs(&i.encryption_context);
            let pair_spec = i.key_pair_spec.as_str();
            let spec = AsymmetricSpec::parse(pair_spec).ok_or_else(|| {
                err("ValidationException", format!("KeyPairSpec {pair_spec} is not valid."))
            })?;
            effect.param("keyId", json!(key_id));
            effect.param("keyPairSpec", json!(pair_spec));
            let (_, record) = call.key(0)?;
            usable(record, now)?;
            if !record.body.symmetric() {
                return Err(invalid_usage(&record.body.arn, &record.body.key_spec, operation));
            }
            let (private, public) = asymmetric::generate_pair(spec)
                .map_err(|_| ApiError::internal("key pair generation failed"))?;
            let sealed = seal_with(state, record, &context, private.expose())?;
            let mut out = json!({
                "PrivateKeyCiphertextBlob": b64().encode(sealed),
                "PublicKey": b64().encode(public),
                "KeyId": record.body.arn,
                "KeyPairSpec": pair_spec,
            });
            if operation == "GenerateDataKeyPair" {
                if let Some(obj) = out.as_object_mut() {
                    obj.insert("PrivateKeyPlaintext".into(), json!(b64().encode(private.expose())));
                }
            }
            Ok(out)
        }
        Input::DeriveSharedSecret(i) => {
            effect.param("keyId", json!(i.key_id));
            effect.param("keyAgreementAlgorithm", json!(i.key_agreement_algorithm));
            let (_, record) = call.key(0)?;
            usable(record, now)?;
            let arn = &record.body.arn;
            let usage = record.body.key_usage;
            if usage != KeyUsage::KeyAgreement {
                return Err(invalid_usage(arn, usage.as_str(), operation));
            }
            if i.key_agreement_algorithm != "ECDH" {
                return Err(err(
                    "ValidationException",
                    format!("KeyAgreementAlgorithm {} is not valid.", i.key_agreement_algorithm),
                ));
            }
            // A secret sealed to an enclave's attestation: no enclaves here, and the secret
            // is never answered in the clear to a request that asked for it sealed.
            if i.recipient.is_some() {
                return Err(err(
                    "UnsupportedOperationException",
                    "Recipient (Nitro Enclaves attestation) is not supported here.",
                ));
            }
            if i.dry_run == Some(true) {
                return Err(err(
                    "DryRunOperationException",
                    "The request would have succeeded, but the DryRun option is set.",
                ));
            }
            let spec = asym_spec(record)?;
            let private = material(&state.root, record, 1)?;
            let secret =
                asymmetric::ecdh(spec, private.expose(), &i.public_key.0).map_err(|_| {
                    err(
                        "ValidationException",
                        format!(
                            "PublicKey is not a valid public key of {}'s curve.",
                            record.body.key_spec
                        ),
                    )
                })?;
            Ok(json!({
                "KeyId": arn, "SharedSecret": b64().encode(secret.expose()),
                "KeyAgreementAlgorithm": "ECDH", "KeyOrigin": record.body.origin.as_str(),
            }))
        }
        Input::SignVerify(i) => {
            let key_id = &i.key_id;
            let message = &i.message.0;
            let algorithm = i.signing_algorithm.as_str();
            let message_type = i.message_type.as_deref().unwrap_or("RAW");
            let kind = match message_type {
                "RAW" => MessageType::Raw,
                "DIGEST" => MessageType::Digest,
                other => {
                    return Err(err(
                        "ValidationException",
                        format!("MessageType {other} is not valid."),
                    ))
                }
            };
            effect.param("keyId", json!(key_id));
            effect.param("signingAlgorithm", json!(algorithm));
            effect.param("messageType", json!(message_type));
            if message.is_empty() || message.len() > 4096 {
                return Err(err("ValidationException", "Message must be 1 to 4096 bytes."));
            }
            let (_, record) = call.key(0)?;
            usable(record, now)?;
            let arn = &record.body.arn;
            let usage = record.body.key_usage;
            if usage != KeyUsage::SignVerify {
                return Err(invalid_usage(arn, usage.as_str(), operation));
            }
            let alg = SigningAlgorithm::parse(algorithm)
                .filter(|a| asym_spec(record).is_ok_and(|s| s.signing_algorithms().contains(a)))
                .ok_or_else(|| {
                    err("InvalidKeyUsageException", format!("{algorithm} is not valid for {arn}."))
                })?;
            let spec = asym_spec(record)?;
            if operation == "Sign" {
                let private = material(&state.root, record, 1)?;
                let signature = asymmetric::sign(spec, private.expose(), alg, message, kind)
                    .map_err(|_| {
                        err(
                            "ValidationException",
                            "The message cannot be signed with this algorithm and message type.",
                        )
                    })?;
                return Ok(
                    json!({ "KeyId": arn, "Signature": b64().encode(signature), "SigningAlgorithm": algorithm }),
                );
            }
            let signature = i
                .signature
                .as_ref()
                .ok_or_else(|| err("ValidationException", "Signature is required."))?;
            let valid =
                asymmetric::verify(spec, &public_key(record)?, alg, message, kind, &signature.0)
                    .unwrap_or(false);
            if !valid {
                return Err(err("KMSInvalidSignatureException", "The signature is not valid."));
            }
            Ok(json!({ "KeyId": arn, "SignatureValid": true, "SigningAlgorithm": algorithm }))
        }
        Input::Mac(i) => {
            let key_id = &i.key_id;
            let message = &i.message.0;
            let algorithm = i.mac_algorithm.as_str();
            effect.param("keyId", json!(key_id));
            effect.param("macAlgorithm", json!(algorithm));
            if message.is_empty() || message.len() > 4096 {
                return Err(err("ValidationException", "Message must be 1 to 4096 bytes."));
            }
            let (_, record) = call.key(0)?;
            usable(record, now)?;
            let arn = &record.body.arn;
            let spec = MacSpec::parse(&record.body.key_spec);
            let alg = MacAlgorithm::parse(algorithm);
            let (Some(spec), Some(alg)) = (spec, alg) else {
                return Err(invalid_usage(arn, record.body.key_usage.as_str(), operation));
            };
            if spec.algorithm() != alg {
                return Err(err(
                    "InvalidKeyUsageException",
                    format!("{algorithm} is not valid for {arn}."),
                ));
            }
            let key = material(&state.root, record, 1)?;
            if operation == "GenerateMac" {
                let tag = mac::mac(spec, key.expose(), alg, message)
                    .map_err(|_| err("ValidationException", "The MAC cannot be computed."))?;
                return Ok(
                    json!({ "Mac": b64().encode(tag), "MacAlgorithm": algorithm, "KeyId": arn }),
                );
            }
            let tag =
                i.mac.as_ref().ok_or_else(|| err("ValidationException", "Mac is required."))?;
            if !mac::verify(spec, key.expose(), alg, message, &tag.0).unwrap_or(false) {
                return Err(err("KMSInvalidMacException", "The MAC is not valid."));
            }
            Ok(json!({ "KeyId": arn, "MacValid": true, "MacAlgorithm": algorithm }))
        }
        _ => Err(ApiError::internal("not a cryptographic operation")),
    }
}

/// A ciphertext to decrypt and how: `Decrypt`'s, or `ReEncrypt`'s source.
pub(super) struct Ciphertext<'a> {
    pub blob: Option<&'a [u8]>,
    pub key_id: Option<&'a str>,
    pub algorithm: &'a str,
    pub context: Vec<(String, String)>,
}

impl<'a> Ciphertext<'a> {
    pub(super) fn of_decrypt(i: &'a super::input::Decrypt) -> Ciphertext<'a> {
        Ciphertext {
            blob: i.ciphertext_blob.as_ref().map(|b| b.0.as_slice()),
            key_id: i.key_id.as_deref(),
            algorithm: i.encryption_algorithm.as_deref().unwrap_or("SYMMETRIC_DEFAULT"),
            context: pairs(&i.encryption_context),
        }
    }

    pub(super) fn of_re_encrypt(i: &'a super::input::ReEncrypt) -> Ciphertext<'a> {
        Ciphertext {
            blob: i.ciphertext_blob.as_ref().map(|b| b.0.as_slice()),
            key_id: i.source_key_id.as_deref(),
            algorithm: i.source_encryption_algorithm.as_deref().unwrap_or("SYMMETRIC_DEFAULT"),
            context: pairs(&i.source_encryption_context),
        }
    }
}

fn import_context(arn: &str) -> Vec<u8> {
    format!("hermetic:kms-import:{arn}").into_bytes()
}

fn digest_context(arn: &str) -> Vec<u8> {
    format!("hermetic:kms-import-digest:{arn}").into_bytes()
}

/// `GetParametersForImport`, `ImportKeyMaterial`, `DeleteImportedKeyMaterial` on an EXTERNAL
/// key: the new `body` is written by the caller.
pub(crate) fn import(
    state: &State,
    input: &Input,
    record: &KeyRecord,
    body: &mut Key,
    now: i64,
    effect: &mut Effect<'_>,
) -> Result<Value, ApiError> {
    let arn = record.body.arn.clone();
    let key_state = record.body.key_state;
    match input {
        Input::GetParametersForImport(i) => {
            let algorithm = i.wrapping_algorithm.as_str();
            let spec_name = i.wrapping_key_spec.as_str();
            let alg = EncryptionAlgorithm::parse(algorithm).ok_or_else(|| {
                err("UnsupportedOperationException", format!("WrappingAlgorithm {algorithm} is not supported (RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256 are)."))
            })?;
            let spec =
                AsymmetricSpec::parse(spec_name).filter(|s| s.is_rsa()).ok_or_else(|| {
                    err("ValidationException", format!("WrappingKeySpec {spec_name} is not valid."))
                })?;
            if key_state == KeyState::PendingDeletion {
                return Err(err("KMSInvalidStateException", format!("{arn} is pending deletion.")));
            }
            effect.param("wrappingAlgorithm", json!(algorithm));
            effect.param("wrappingKeySpec", json!(spec_name));
            let (private, public) = asymmetric::generate_pair(spec)
                .map_err(|_| ApiError::internal("wrapping key generation failed"))?;
            let sealed = state
                .root
                .wrap(&import_context(&arn), private.expose())
                .map_err(|_| ApiError::unavailable("the root of trust is unavailable"))?;
            let token = random(32);
            let valid_to = now + 24 * 3_600_000;
            body.import = Some(ImportParameters {
                algorithm: alg.as_str().to_string(),
                spec: spec.as_str().to_string(),
                sealed: b64().encode(sealed),
                token_sha256: sigv4::encode::hex(&sigv4::key::sha256(token.expose())),
                valid_to_ms: valid_to,
            });
            Ok(json!({
                "KeyId": arn,
                "ImportToken": b64().encode(token.expose()),
                "PublicKey": b64().encode(public),
                "ParametersValidTo": crate::support::time::epoch_seconds(valid_to),
            }))
        }
        Input::ImportKeyMaterial(i) => {
            let token = &i.import_token.0;
            let wrapped = &i.encrypted_key_material.0;
            let params = record.body.import.clone().ok_or_else(|| {
                err(
                    "InvalidImportTokenException",
                    "There are no import parameters for this key: call GetParametersForImport.",
                )
            })?;
            let expected = params.token_sha256.as_str();
            let presented = sigv4::encode::hex(&sigv4::key::sha256(token));
            let matches: bool =
                subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), expected.as_bytes()).into();
            if !matches {
                return Err(err(
                    "InvalidImportTokenException",
                    "The import token is not valid for this key.",
                ));
            }
            if now >= params.valid_to_ms {
                return Err(err("ExpiredImportTokenException", "The import token has expired."));
            }
            let spec = AsymmetricSpec::parse(&params.spec)
                .ok_or_else(|| ApiError::internal("stored import parameters are malformed"))?;
            let alg = EncryptionAlgorithm::parse(&params.algorithm)
                .ok_or_else(|| ApiError::internal("stored import parameters are malformed"))?;
            let sealed = b64()
                .decode(&params.sealed)
                .map_err(|_| ApiError::internal("stored import parameters are malformed"))?;
            let private = state
                .root
                .unwrap(&import_context(&arn), &sealed)
                .map_err(|_| ApiError::internal("the wrapping key cannot be opened"))?;
            let material_bytes = asymmetric::decrypt(spec, private.expose(), alg, wrapped)
                .map_err(|_| {
                    err(
                        "InvalidCiphertextException",
                        "The encrypted key material cannot be decrypted with the wrapping key.",
                    )
                })?;
            if material_bytes.len() != 32 {
                return Err(err(
                    "IncorrectKeyMaterialException",
                    "Key material for a SYMMETRIC_DEFAULT key must be 256 bits.",
                ));
            }
            let digest = sigv4::key::sha256(material_bytes.expose());
            if let Some(previous) = record.body.material_digest_sealed.as_deref() {
                let sealed_digest = b64()
                    .decode(previous)
                    .map_err(|_| ApiError::internal("stored digest is malformed"))?;
                let old = state
                    .root
                    .unwrap(&digest_context(&arn), &sealed_digest)
                    .map_err(|_| ApiError::internal("stored digest cannot be opened"))?;
                let same: bool =
                    subtle::ConstantTimeEq::ct_eq(old.expose(), digest.as_slice()).into();
                if !same {
                    return Err(err(
                        "IncorrectKeyMaterialException",
                        "The key material is not the material this key had before.",
                    ));
                }
            }
            let model = i.expiration_model.as_deref();
            let valid_to = i.valid_to;
            let (model, valid_to_ms) = match (model, valid_to) {
                (Some("KEY_MATERIAL_DOES_NOT_EXPIRE"), None) | (None, None) => {
                    (ExpirationModel::KeyMaterialDoesNotExpire, None)
                }
                (Some("KEY_MATERIAL_EXPIRES") | None, Some(v)) => {
                    #[allow(clippy::cast_possible_truncation)]
                    let ms = (v * 1000.0) as i64;
                    if ms <= now || ms > now + 365 * 86_400_000 {
                        return Err(err(
                            "ValidationException",
                            "ValidTo must be in the future and at most 365 days away.",
                        ));
                    }
                    (ExpirationModel::KeyMaterialExpires, Some(ms))
                }
                _ => {
                    return Err(err(
                        "ValidationException",
                        "ExpirationModel and ValidTo do not agree.",
                    ))
                }
            };
            effect.param("expirationModel", json!(model.as_str()));
            let sealed_material =
                super::keys::seal_material(&state.root, &arn, 1, material_bytes.expose())?;
            let sealed_digest = state
                .root
                .wrap(&digest_context(&arn), &digest)
                .map_err(|_| ApiError::unavailable("the root of trust is unavailable"))?;
            body.versions = vec![KeyVersion {
                version: 1,
                created_ms: now,
                sealed: sealed_material,
                kind: VersionType::Imported,
            }];
            body.material_digest_sealed = Some(b64().encode(sealed_digest));
            body.expiration_model = Some(model);
            body.import = None;
            body.valid_to_ms = valid_to_ms;
            if key_state == KeyState::PendingImport {
                body.key_state = KeyState::Enabled;
            }
            Ok(json!({}))
        }
        _ => {
            // DeleteImportedKeyMaterial
            body.versions.clear();
            body.valid_to_ms = None;
            if key_state != KeyState::PendingDeletion {
                body.key_state = KeyState::PendingImport;
            }
            Ok(json!({}))
        }
    }
}
