//! KMS cryptographic operations: Encrypt, Decrypt, ReEncrypt, data keys and key pairs, random
//! bytes, Sign/Verify, GenerateMac/VerifyMac, and the import of key material. None of them
//! changes state, so their events join the group commit; plaintext never enters an event.

use super::keys::{current_version, material, str_of, usable};
use super::{
    b64, check, context_of, db, epoch, err, load, required, resolve, text, Check, KeyRef, Outcome,
};
use crate::error::ApiError;
use crate::pipeline::events::RequestFacts;
use crate::pipeline::identity::Caller;
use crate::pipeline::State;
use base64::Engine;
use crypto::kms::asymmetric::{
    self, AsymmetricSpec, EncryptionAlgorithm, MessageType, SigningAlgorithm,
};
use crypto::kms::blob as kblob;
use crypto::kms::mac::{self, MacAlgorithm, MacSpec};
use crypto::RootOfTrust;
use serde_json::{json, Value};
use store::Record;

/// Operations that change nothing.
pub const READ_ONLY: &[&str] = &[
    "Encrypt",
    "Decrypt",
    "ReEncrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateRandom",
    "Sign",
    "Verify",
    "GenerateMac",
    "VerifyMac",
];

fn invalid_usage(arn: &str, usage: &str, operation: &str) -> ApiError {
    err(
        "InvalidKeyUsageException",
        format!("{arn} key usage is {usage} which is not valid for {operation}."),
    )
}

/// `GrantTokens`: at most 10, each 1 to 8192 characters (grants take effect at once here, so
/// a token adds nothing beyond its grant).
fn check_grant_tokens(input: &Value) -> Result<(), ApiError> {
    let Some(tokens) = input.get("GrantTokens") else { return Ok(()) };
    let list = tokens
        .as_array()
        .ok_or_else(|| err("InvalidGrantTokenException", "GrantTokens must be a list."))?;
    let ok = list.len() <= 10
        && list.iter().all(|t| t.as_str().is_some_and(|s| (1..=8192).contains(&s.len())));
    if ok {
        Ok(())
    } else {
        Err(err("InvalidGrantTokenException", "The grant token is not valid."))
    }
}

fn number_of_bytes(input: &Value, name: &str, max: u64) -> Result<Option<usize>, ApiError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
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

/// A key for a cryptographic operation: resolved (any account), loaded and usable.
pub(super) fn use_key(
    state: &State,
    caller: &Caller,
    key_id: &str,
    now: i64,
    outcome: &mut Outcome<'_>,
) -> Result<(KeyRef, Record), ApiError> {
    let mut tx = state.store.read().map_err(db)?;
    let key_ref = resolve(tx.as_mut(), &caller.account, key_id)?;
    let record = load(tx.as_mut(), &key_ref, now)?;
    outcome.key(&record);
    Ok((key_ref, record))
}

/// Seals `plaintext` under a symmetric key's current version.
pub(super) fn seal_with(
    state: &State,
    record: &Record,
    context: &[(String, String)],
    plaintext: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let version = current_version(&record.body)
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

fn asym_spec(record: &Record) -> Result<AsymmetricSpec, ApiError> {
    AsymmetricSpec::parse(&str_of(&record.body, "KeySpec"))
        .ok_or_else(|| ApiError::internal("the key's spec is not asymmetric"))
}

fn public_key(record: &Record) -> Result<Vec<u8>, ApiError> {
    b64()
        .decode(str_of(&record.body, "PublicKey"))
        .map_err(|_| ApiError::internal("the stored public key is malformed"))
}

/// Encrypts for `Encrypt` and `ReEncrypt`'s destination: (ciphertext, algorithm).
fn encrypt_with(
    state: &State,
    record: &Record,
    algorithm: &str,
    context: &[(String, String)],
    plaintext: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let arn = str_of(&record.body, "Arn");
    let usage = str_of(&record.body, "KeyUsage");
    if usage != "ENCRYPT_DECRYPT" {
        return Err(invalid_usage(&arn, &usage, "Encrypt"));
    }
    if str_of(&record.body, "KeySpec") == "SYMMETRIC_DEFAULT" {
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

/// Decrypts for `Decrypt` and `ReEncrypt`'s source: (key, plaintext, algorithm).
#[allow(clippy::too_many_arguments)]
fn decrypt_with(
    state: &State,
    caller: &Caller,
    operation: &str,
    ciphertext: &[u8],
    key_id: Option<&str>,
    algorithm: &str,
    context: &[(String, String)],
    facts: &RequestFacts,
    outcome: &mut Outcome<'_>,
) -> Result<(Record, crypto::SecretBytes), ApiError> {
    let now = facts.time_ms;
    let invalid = || {
        err(
            "InvalidCiphertextException",
            "The ciphertext is invalid or was not made for this key and encryption context.",
        )
    };
    if algorithm == "SYMMETRIC_DEFAULT" {
        let header = kblob::parse_header(ciphertext).map_err(|_| invalid())?;
        let named =
            KeyRef { account: header.account.clone(), key_id: header.key_id.clone(), alias: None };
        let mut tx = state.store.read().map_err(db)?;
        let key_ref = match key_id {
            Some(k) => {
                let given = resolve(tx.as_mut(), &caller.account, k)?;
                if given.key_id != named.key_id || given.account != named.account {
                    return Err(err("IncorrectKeyException", "The key ID in the request does not identify the key that encrypted the ciphertext."));
                }
                given
            }
            None => named,
        };
        let record = load(tx.as_mut(), &key_ref, now)?;
        drop(tx);
        outcome.key(&record);
        usable(&record, now)?;
        let extra = Check {
            key: Some(&record),
            key_ref: Some(&key_ref),
            context: vec![("kms:EncryptionAlgorithm".into(), algorithm.to_string())],
            encryption_context: Some(context),
            ..Check::default()
        };
        check(state, caller, operation, facts, &extra)?;
        let key = material(&state.root, &record, header.version).map_err(|_| invalid())?;
        let plain = kblob::open(&key, ciphertext, context).map_err(|_| invalid())?;
        return Ok((record, plain));
    }
    let alg = EncryptionAlgorithm::parse(algorithm).ok_or_else(|| {
        err("ValidationException", format!("EncryptionAlgorithm {algorithm} is not valid."))
    })?;
    let key_id = key_id.ok_or_else(|| {
        err("ValidationException", "KeyId is required to decrypt with an asymmetric key.")
    })?;
    let (key_ref, record) = use_key(state, caller, key_id, now, outcome)?;
    usable(&record, now)?;
    if str_of(&record.body, "KeyUsage") != "ENCRYPT_DECRYPT"
        || str_of(&record.body, "KeySpec") == "SYMMETRIC_DEFAULT"
    {
        return Err(err(
            "InvalidKeyUsageException",
            format!("{algorithm} is not valid for this key."),
        ));
    }
    let extra = Check {
        key: Some(&record),
        key_ref: Some(&key_ref),
        context: vec![("kms:EncryptionAlgorithm".into(), algorithm.to_string())],
        ..Check::default()
    };
    check(state, caller, operation, facts, &extra)?;
    let private = material(&state.root, &record, 1)?;
    let plain = asymmetric::decrypt(asym_spec(&record)?, private.expose(), alg, ciphertext)
        .map_err(|_| invalid())?;
    Ok((record, plain))
}

/// Runs a cryptographic operation; `None` when `operation` is not one of them.
pub fn handle<'s>(
    state: &'s State,
    caller: &Caller,
    operation: &str,
    input: &Value,
    facts: &RequestFacts,
    outcome: &mut Outcome<'s>,
) -> Option<Result<Value, ApiError>> {
    if !READ_ONLY.contains(&operation) {
        return None;
    }
    Some(
        check_grant_tokens(input)
            .and_then(|()| run(state, caller, operation, input, facts, outcome)),
    )
}

fn run(
    state: &State,
    caller: &Caller,
    operation: &str,
    input: &Value,
    facts: &RequestFacts,
    outcome: &mut Outcome<'_>,
) -> Result<Value, ApiError> {
    let now = facts.time_ms;
    match operation {
        "GenerateRandom" => {
            let n = number_of_bytes(input, "NumberOfBytes", 1024)?.unwrap_or(32);
            outcome.param("numberOfBytes", json!(n));
            check(state, caller, operation, facts, &Check::default())?;
            Ok(json!({ "Plaintext": b64().encode(random(n).expose()) }))
        }
        "Encrypt" => {
            let key_id = required(input, "KeyId")?;
            let plaintext = super::blob(input, "Plaintext")?.unwrap_or_default();
            let context = context_of(input, "EncryptionContext")?;
            let algorithm = text(input, "EncryptionAlgorithm").unwrap_or("SYMMETRIC_DEFAULT");
            outcome.param("keyId", json!(key_id));
            outcome.param("encryptionAlgorithm", json!(algorithm));
            if !context.is_empty() {
                outcome.param("encryptionContext", super::context_json(&context));
            }
            if plaintext.is_empty() || plaintext.len() > kblob::MAX_PLAINTEXT {
                return Err(err("ValidationException", "Plaintext must be 1 to 4096 bytes."));
            }
            let (key_ref, record) = use_key(state, caller, key_id, now, outcome)?;
            usable(&record, now)?;
            let extra = Check {
                key: Some(&record),
                key_ref: Some(&key_ref),
                context: vec![("kms:EncryptionAlgorithm".into(), algorithm.to_string())],
                encryption_context: Some(&context),
                ..Check::default()
            };
            check(state, caller, operation, facts, &extra)?;
            let ciphertext = encrypt_with(state, &record, algorithm, &context, &plaintext)?;
            Ok(json!({
                "CiphertextBlob": b64().encode(ciphertext),
                "KeyId": str_of(&record.body, "Arn"),
                "EncryptionAlgorithm": algorithm,
            }))
        }
        "Decrypt" => {
            let ciphertext = super::blob(input, "CiphertextBlob")?
                .ok_or_else(|| err("ValidationException", "CiphertextBlob is required."))?;
            let context = context_of(input, "EncryptionContext")?;
            let algorithm = text(input, "EncryptionAlgorithm").unwrap_or("SYMMETRIC_DEFAULT");
            outcome.param("encryptionAlgorithm", json!(algorithm));
            if let Some(k) = text(input, "KeyId") {
                outcome.param("keyId", json!(k));
            }
            if !context.is_empty() {
                outcome.param("encryptionContext", super::context_json(&context));
            }
            let (record, plain) = decrypt_with(
                state,
                caller,
                operation,
                &ciphertext,
                text(input, "KeyId"),
                algorithm,
                &context,
                facts,
                outcome,
            )?;
            Ok(json!({
                "KeyId": str_of(&record.body, "Arn"),
                "Plaintext": b64().encode(plain.expose()),
                "EncryptionAlgorithm": algorithm,
            }))
        }
        "ReEncrypt" => {
            let ciphertext = super::blob(input, "CiphertextBlob")?
                .ok_or_else(|| err("ValidationException", "CiphertextBlob is required."))?;
            let source_context = context_of(input, "SourceEncryptionContext")?;
            let dest_context = context_of(input, "DestinationEncryptionContext")?;
            let source_alg =
                text(input, "SourceEncryptionAlgorithm").unwrap_or("SYMMETRIC_DEFAULT");
            let dest_alg =
                text(input, "DestinationEncryptionAlgorithm").unwrap_or("SYMMETRIC_DEFAULT");
            let dest_id = required(input, "DestinationKeyId")?;
            outcome.param("destinationKeyId", json!(dest_id));
            let (source, plain) = decrypt_with(
                state,
                caller,
                "ReEncryptFrom",
                &ciphertext,
                text(input, "SourceKeyId"),
                source_alg,
                &source_context,
                facts,
                outcome,
            )?;
            let (dest_ref, dest) = use_key(state, caller, dest_id, now, outcome)?;
            usable(&dest, now)?;
            let extra = Check {
                key: Some(&dest),
                key_ref: Some(&dest_ref),
                context: vec![
                    ("kms:EncryptionAlgorithm".into(), dest_alg.to_string()),
                    ("kms:ReEncryptOnSameKey".into(), (source.key == dest.key).to_string()),
                ],
                encryption_context: Some(&dest_context),
                ..Check::default()
            };
            check(state, caller, "ReEncryptTo", facts, &extra)?;
            let out = encrypt_with(state, &dest, dest_alg, &dest_context, plain.expose())?;
            Ok(json!({
                "CiphertextBlob": b64().encode(out),
                "SourceKeyId": str_of(&source.body, "Arn"),
                "KeyId": str_of(&dest.body, "Arn"),
                "SourceEncryptionAlgorithm": source_alg,
                "DestinationEncryptionAlgorithm": dest_alg,
            }))
        }
        "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => {
            let key_id = required(input, "KeyId")?;
            let context = context_of(input, "EncryptionContext")?;
            let n = match (number_of_bytes(input, "NumberOfBytes", 1024)?, text(input, "KeySpec")) {
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
            outcome.param("keyId", json!(key_id));
            outcome.param("numberOfBytes", json!(n));
            if !context.is_empty() {
                outcome.param("encryptionContext", super::context_json(&context));
            }
            let (key_ref, record) = use_key(state, caller, key_id, now, outcome)?;
            usable(&record, now)?;
            if str_of(&record.body, "KeySpec") != "SYMMETRIC_DEFAULT" {
                return Err(invalid_usage(
                    &str_of(&record.body, "Arn"),
                    &str_of(&record.body, "KeySpec"),
                    operation,
                ));
            }
            let extra = Check {
                key: Some(&record),
                key_ref: Some(&key_ref),
                encryption_context: Some(&context),
                ..Check::default()
            };
            check(state, caller, operation, facts, &extra)?;
            let data_key = random(n);
            let ciphertext = seal_with(state, &record, &context, data_key.expose())?;
            let mut out = json!({ "CiphertextBlob": b64().encode(ciphertext), "KeyId": str_of(&record.body, "Arn") });
            if operation == "GenerateDataKey" {
                if let Some(obj) = out.as_object_mut() {
                    obj.insert("Plaintext".into(), json!(b64().encode(data_key.expose())));
                }
            }
            Ok(out)
        }
        "GenerateDataKeyPair" | "GenerateDataKeyPairWithoutPlaintext" => {
            let key_id = required(input, "KeyId")?;
            let context = context_of(input, "EncryptionContext")?;
            let pair_spec = required(input, "KeyPairSpec")?;
            let spec = AsymmetricSpec::parse(pair_spec).ok_or_else(|| {
                err("ValidationException", format!("KeyPairSpec {pair_spec} is not valid."))
            })?;
            outcome.param("keyId", json!(key_id));
            outcome.param("keyPairSpec", json!(pair_spec));
            let (key_ref, record) = use_key(state, caller, key_id, now, outcome)?;
            usable(&record, now)?;
            if str_of(&record.body, "KeySpec") != "SYMMETRIC_DEFAULT" {
                return Err(invalid_usage(
                    &str_of(&record.body, "Arn"),
                    &str_of(&record.body, "KeySpec"),
                    operation,
                ));
            }
            let extra = Check {
                key: Some(&record),
                key_ref: Some(&key_ref),
                context: vec![("kms:DataKeyPairSpec".into(), pair_spec.to_string())],
                encryption_context: Some(&context),
                ..Check::default()
            };
            check(state, caller, operation, facts, &extra)?;
            let (private, public) = asymmetric::generate_pair(spec)
                .map_err(|_| ApiError::internal("key pair generation failed"))?;
            let sealed = seal_with(state, &record, &context, private.expose())?;
            let mut out = json!({
                "PrivateKeyCiphertextBlob": b64().encode(sealed),
                "PublicKey": b64().encode(public),
                "KeyId": str_of(&record.body, "Arn"),
                "KeyPairSpec": pair_spec,
            });
            if operation == "GenerateDataKeyPair" {
                if let Some(obj) = out.as_object_mut() {
                    obj.insert("PrivateKeyPlaintext".into(), json!(b64().encode(private.expose())));
                }
            }
            Ok(out)
        }
        "Sign" | "Verify" => {
            let key_id = required(input, "KeyId")?;
            let message = super::blob(input, "Message")?.unwrap_or_default();
            let algorithm = required(input, "SigningAlgorithm")?;
            let kind = match text(input, "MessageType").unwrap_or("RAW") {
                "RAW" => MessageType::Raw,
                "DIGEST" => MessageType::Digest,
                other => {
                    return Err(err(
                        "ValidationException",
                        format!("MessageType {other} is not valid."),
                    ))
                }
            };
            outcome.param("keyId", json!(key_id));
            outcome.param("signingAlgorithm", json!(algorithm));
            outcome.param("messageType", json!(text(input, "MessageType").unwrap_or("RAW")));
            if message.is_empty() || message.len() > 4096 {
                return Err(err("ValidationException", "Message must be 1 to 4096 bytes."));
            }
            let (key_ref, record) = use_key(state, caller, key_id, now, outcome)?;
            usable(&record, now)?;
            let arn = str_of(&record.body, "Arn");
            let usage = str_of(&record.body, "KeyUsage");
            if usage != "SIGN_VERIFY" {
                return Err(invalid_usage(&arn, &usage, operation));
            }
            let alg = SigningAlgorithm::parse(algorithm)
                .filter(|a| asym_spec(&record).is_ok_and(|s| s.signing_algorithms().contains(a)))
                .ok_or_else(|| {
                    err("InvalidKeyUsageException", format!("{algorithm} is not valid for {arn}."))
                })?;
            let extra = Check {
                key: Some(&record),
                key_ref: Some(&key_ref),
                context: vec![
                    ("kms:SigningAlgorithm".into(), algorithm.to_string()),
                    (
                        "kms:MessageType".into(),
                        text(input, "MessageType").unwrap_or("RAW").to_string(),
                    ),
                ],
                ..Check::default()
            };
            check(state, caller, operation, facts, &extra)?;
            let spec = asym_spec(&record)?;
            if operation == "Sign" {
                let private = material(&state.root, &record, 1)?;
                let signature = asymmetric::sign(spec, private.expose(), alg, &message, kind)
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
            let signature = super::blob(input, "Signature")?
                .ok_or_else(|| err("ValidationException", "Signature is required."))?;
            let valid =
                asymmetric::verify(spec, &public_key(&record)?, alg, &message, kind, &signature)
                    .unwrap_or(false);
            if !valid {
                return Err(err("KMSInvalidSignatureException", "The signature is not valid."));
            }
            Ok(json!({ "KeyId": arn, "SignatureValid": true, "SigningAlgorithm": algorithm }))
        }
        _ => {
            // GenerateMac / VerifyMac
            let key_id = required(input, "KeyId")?;
            let message = super::blob(input, "Message")?.unwrap_or_default();
            let algorithm = required(input, "MacAlgorithm")?;
            outcome.param("keyId", json!(key_id));
            outcome.param("macAlgorithm", json!(algorithm));
            if message.is_empty() || message.len() > 4096 {
                return Err(err("ValidationException", "Message must be 1 to 4096 bytes."));
            }
            let (key_ref, record) = use_key(state, caller, key_id, now, outcome)?;
            usable(&record, now)?;
            let arn = str_of(&record.body, "Arn");
            let usage = str_of(&record.body, "KeyUsage");
            let spec = MacSpec::parse(&str_of(&record.body, "KeySpec"));
            let alg = MacAlgorithm::parse(algorithm);
            let (Some(spec), Some(alg)) = (spec, alg) else {
                return Err(invalid_usage(&arn, &usage, operation));
            };
            if spec.algorithm() != alg {
                return Err(err(
                    "InvalidKeyUsageException",
                    format!("{algorithm} is not valid for {arn}."),
                ));
            }
            let extra = Check {
                key: Some(&record),
                key_ref: Some(&key_ref),
                context: vec![("kms:MacAlgorithm".into(), algorithm.to_string())],
                ..Check::default()
            };
            check(state, caller, operation, facts, &extra)?;
            let key = material(&state.root, &record, 1)?;
            if operation == "GenerateMac" {
                let tag = mac::mac(spec, key.expose(), alg, &message)
                    .map_err(|_| err("ValidationException", "The MAC cannot be computed."))?;
                return Ok(
                    json!({ "Mac": b64().encode(tag), "MacAlgorithm": algorithm, "KeyId": arn }),
                );
            }
            let tag = super::blob(input, "Mac")?
                .ok_or_else(|| err("ValidationException", "Mac is required."))?;
            if !mac::verify(spec, key.expose(), alg, &message, &tag).unwrap_or(false) {
                return Err(err("KMSInvalidMacException", "The MAC is not valid."));
            }
            Ok(json!({ "KeyId": arn, "MacValid": true, "MacAlgorithm": algorithm }))
        }
    }
}

fn import_context(arn: &str) -> Vec<u8> {
    format!("hermetic:kms-import:{arn}").into_bytes()
}

fn digest_context(arn: &str) -> Vec<u8> {
    format!("hermetic:kms-import-digest:{arn}").into_bytes()
}

fn set(body: &mut Value, key: &str, value: Value) {
    if let Some(obj) = body.as_object_mut() {
        obj.insert(key.into(), value);
    }
}

/// `GetParametersForImport`, `ImportKeyMaterial`, `DeleteImportedKeyMaterial` on an EXTERNAL
/// key: the new `body` is written by the caller.
pub(crate) fn import(
    state: &State,
    operation: &str,
    input: &Value,
    record: &Record,
    body: &mut Value,
    now: i64,
    outcome: &mut Outcome<'_>,
) -> Result<Value, ApiError> {
    let arn = str_of(&record.body, "Arn");
    let key_state = str_of(&record.body, "KeyState");
    match operation {
        "GetParametersForImport" => {
            let algorithm = required(input, "WrappingAlgorithm")?;
            let spec_name = required(input, "WrappingKeySpec")?;
            let alg = EncryptionAlgorithm::parse(algorithm).ok_or_else(|| {
                err("UnsupportedOperationException", format!("WrappingAlgorithm {algorithm} is not supported (RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256 are)."))
            })?;
            let spec =
                AsymmetricSpec::parse(spec_name).filter(|s| s.is_rsa()).ok_or_else(|| {
                    err("ValidationException", format!("WrappingKeySpec {spec_name} is not valid."))
                })?;
            if key_state == "PendingDeletion" {
                return Err(err("KMSInvalidStateException", format!("{arn} is pending deletion.")));
            }
            outcome.param("wrappingAlgorithm", json!(algorithm));
            outcome.param("wrappingKeySpec", json!(spec_name));
            let (private, public) = asymmetric::generate_pair(spec)
                .map_err(|_| ApiError::internal("wrapping key generation failed"))?;
            let sealed = state
                .root
                .wrap(&import_context(&arn), private.expose())
                .map_err(|_| ApiError::unavailable("the root of trust is unavailable"))?;
            let token = random(32);
            let valid_to = now + 24 * 3_600_000;
            set(
                body,
                "Import",
                json!({
                    "Algorithm": alg.as_str(), "Spec": spec.as_str(), "Sealed": b64().encode(sealed),
                    "TokenSha256": sigv4::encode::hex(&sigv4::key::sha256(token.expose())), "ValidToMs": valid_to,
                }),
            );
            Ok(json!({
                "KeyId": arn,
                "ImportToken": b64().encode(token.expose()),
                "PublicKey": b64().encode(public),
                "ParametersValidTo": epoch(valid_to),
            }))
        }
        "ImportKeyMaterial" => {
            let token = super::blob(input, "ImportToken")?
                .ok_or_else(|| err("ValidationException", "ImportToken is required."))?;
            let wrapped = super::blob(input, "EncryptedKeyMaterial")?
                .ok_or_else(|| err("ValidationException", "EncryptedKeyMaterial is required."))?;
            let params = record.body.get("Import").cloned().ok_or_else(|| {
                err(
                    "InvalidImportTokenException",
                    "There are no import parameters for this key: call GetParametersForImport.",
                )
            })?;
            let expected = params.get("TokenSha256").and_then(Value::as_str).unwrap_or_default();
            let presented = sigv4::encode::hex(&sigv4::key::sha256(&token));
            let matches: bool =
                subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), expected.as_bytes()).into();
            if !matches {
                return Err(err(
                    "InvalidImportTokenException",
                    "The import token is not valid for this key.",
                ));
            }
            if params.get("ValidToMs").and_then(Value::as_i64).is_some_and(|v| now >= v) {
                return Err(err("ExpiredImportTokenException", "The import token has expired."));
            }
            let spec = AsymmetricSpec::parse(
                params.get("Spec").and_then(Value::as_str).unwrap_or_default(),
            )
            .ok_or_else(|| ApiError::internal("stored import parameters are malformed"))?;
            let alg = EncryptionAlgorithm::parse(
                params.get("Algorithm").and_then(Value::as_str).unwrap_or_default(),
            )
            .ok_or_else(|| ApiError::internal("stored import parameters are malformed"))?;
            let sealed = b64()
                .decode(params.get("Sealed").and_then(Value::as_str).unwrap_or_default())
                .map_err(|_| ApiError::internal("stored import parameters are malformed"))?;
            let private = state
                .root
                .unwrap(&import_context(&arn), &sealed)
                .map_err(|_| ApiError::internal("the wrapping key cannot be opened"))?;
            let material_bytes = asymmetric::decrypt(spec, private.expose(), alg, &wrapped)
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
            if let Some(previous) = record.body.get("MaterialDigestSealed").and_then(Value::as_str)
            {
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
            let model = text(input, "ExpirationModel");
            let valid_to = input.get("ValidTo").and_then(Value::as_f64);
            let (model, valid_to_ms) = match (model, valid_to) {
                (Some("KEY_MATERIAL_DOES_NOT_EXPIRE"), None) | (None, None) => {
                    ("KEY_MATERIAL_DOES_NOT_EXPIRE", None)
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
                    ("KEY_MATERIAL_EXPIRES", Some(ms))
                }
                _ => {
                    return Err(err(
                        "ValidationException",
                        "ExpirationModel and ValidTo do not agree.",
                    ))
                }
            };
            outcome.param("expirationModel", json!(model));
            let sealed_material =
                super::keys::seal_material(&state.root, &arn, 1, material_bytes.expose())?;
            let sealed_digest = state
                .root
                .wrap(&digest_context(&arn), &digest)
                .map_err(|_| ApiError::unavailable("the root of trust is unavailable"))?;
            set(
                body,
                "Versions",
                json!([{ "Version": 1, "CreatedMs": now, "Sealed": sealed_material, "Type": "IMPORTED" }]),
            );
            set(body, "MaterialDigestSealed", json!(b64().encode(sealed_digest)));
            set(body, "ExpirationModel", json!(model));
            if let Some(obj) = body.as_object_mut() {
                obj.remove("Import");
                match valid_to_ms {
                    Some(v) => {
                        obj.insert("ValidToMs".into(), json!(v));
                    }
                    None => {
                        obj.remove("ValidToMs");
                    }
                }
            }
            if key_state == "PendingImport" {
                set(body, "KeyState", json!("Enabled"));
            }
            Ok(json!({}))
        }
        _ => {
            // DeleteImportedKeyMaterial
            set(body, "Versions", json!([]));
            if let Some(obj) = body.as_object_mut() {
                obj.remove("ValidToMs");
            }
            if key_state != "PendingDeletion" {
                set(body, "KeyState", json!("PendingImport"));
            }
            Ok(json!({}))
        }
    }
}
