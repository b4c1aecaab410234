//! KMS keys and what hangs off them: creation (every key spec), description, listing, enable
//! and disable, scheduled deletion, aliases, tags, key policies, rotation, public keys, and
//! importing key material (BYOK).

use super::input::{CreateKey, Input, Paging, Tag};
use super::{b64, err, plain_check, Call, KeyRecord, KmsOperation};
use crate::error::ApiError;
use crate::pipeline::identity::Caller;
use crate::pipeline::service::{Access, Check, Ctx, Effect, Operation};
use crate::records::kms::{
    ExpirationModel, Key, KeyState, KeyTag, KeyUsage, KeyVersion, Origin, VersionType,
};
use base64::Engine;
use crypto::RootOfTrust;
use serde_json::{json, Value};
use store::PutMode;

/// Most on-demand rotations of one key (AWS's quota).
pub const MAX_ON_DEMAND_ROTATIONS: usize = 10;

/// The algorithms a key spec and usage allow, as `KeyMetadata` lists them.
pub(crate) fn algorithms(
    spec: &str,
    usage: KeyUsage,
) -> (Vec<&'static str>, Vec<&'static str>, Vec<&'static str>) {
    let (mut enc, mut sig, mut mac) = (Vec::new(), Vec::new(), Vec::new());
    match (spec, usage) {
        ("SYMMETRIC_DEFAULT", _) => enc.push("SYMMETRIC_DEFAULT"),
        (s, KeyUsage::EncryptDecrypt) if s.starts_with("RSA_") => {
            enc.extend(["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
        }
        (s, KeyUsage::SignVerify) if s.starts_with("RSA_") => sig.extend([
            "RSASSA_PSS_SHA_256",
            "RSASSA_PSS_SHA_384",
            "RSASSA_PSS_SHA_512",
            "RSASSA_PKCS1_V1_5_SHA_256",
            "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512",
        ]),
        (s, KeyUsage::KeyAgreement) if s.starts_with("ECC_") => {}
        ("ECC_NIST_P256", _) => sig.push("ECDSA_SHA_256"),
        ("ECC_NIST_P384", _) => sig.push("ECDSA_SHA_384"),
        ("HMAC_224", _) => mac.push("HMAC_SHA_224"),
        ("HMAC_256", _) => mac.push("HMAC_SHA_256"),
        ("HMAC_384", _) => mac.push("HMAC_SHA_384"),
        ("HMAC_512", _) => mac.push("HMAC_SHA_512"),
        _ => {}
    }
    (enc, sig, mac)
}

/// `KeyMetadata` of a key.
pub(crate) fn metadata(record: &KeyRecord) -> Value {
    let b = &record.body;
    let spec = b.key_spec.as_str();
    let (enc, sig, mac) = algorithms(spec, b.key_usage);
    let state = b.key_state.as_str();
    let mut m = json!({
        "AWSAccountId": record.account, "KeyId": record.key, "Arn": b.arn,
        "CreationDate": b.creation_date,
        "Enabled": b.key_state == KeyState::Enabled, "Description": b.description,
        "KeyUsage": b.key_usage.as_str(), "KeyState": state, "Origin": b.origin.as_str(),
        "KeyManager": "CUSTOMER", "CustomerMasterKeySpec": spec, "KeySpec": spec,
        "MultiRegion": false,
    });
    if let Some(obj) = m.as_object_mut() {
        if !enc.is_empty() {
            obj.insert("EncryptionAlgorithms".into(), json!(enc));
        }
        if !sig.is_empty() {
            obj.insert("SigningAlgorithms".into(), json!(sig));
        }
        if !mac.is_empty() {
            obj.insert("MacAlgorithms".into(), json!(mac));
        }
        if b.key_usage == KeyUsage::KeyAgreement {
            obj.insert("KeyAgreementAlgorithms".into(), json!(["ECDH"]));
        }
        if let Some(d) = b.deletion_ms {
            obj.insert("DeletionDate".into(), crate::support::time::epoch_seconds(d));
            obj.insert("PendingDeletionWindowInDays".into(), json!(b.pending_window_in_days));
        }
        if b.origin == Origin::External {
            let model = b.expiration_model.unwrap_or(ExpirationModel::KeyMaterialDoesNotExpire);
            obj.insert("ExpirationModel".into(), json!(model.as_str()));
            if let Some(v) = b.valid_to_ms {
                obj.insert("ValidTo".into(), crate::support::time::epoch_seconds(v));
            }
        }
        if let Some(v) = b.current_version() {
            obj.insert("CurrentKeyMaterialId".into(), json!(material_id(b, v)));
        }
    }
    m
}

/// A public identifier of a backing version (not derived from the material).
fn material_id(key: &Key, version: u32) -> String {
    let digest = sigv4::key::sha256(format!("{}/{version}", key.arn).as_bytes());
    sigv4::encode::hex(&digest)
}

fn seal_context(arn: &str, version: u32) -> Vec<u8> {
    format!("hermetic:kms-key:{arn}:{version}").into_bytes()
}

/// Seals key material for `arn` at `version` with the root of trust.
pub(crate) fn seal_material(
    root: &dyn RootOfTrust,
    arn: &str,
    version: u32,
    material: &[u8],
) -> Result<String, ApiError> {
    root.wrap(&seal_context(arn, version), material)
        .map(|w| b64().encode(w))
        .map_err(|_| ApiError::unavailable("the root of trust is unavailable"))
}

/// Opens the material of `version` of a key (bound to the key's ARN: material moved to another
/// key or account does not open).
pub(crate) fn material(
    root: &dyn RootOfTrust,
    record: &KeyRecord,
    version: u32,
) -> Result<crypto::SecretBytes, ApiError> {
    let key = &record.body;
    let sealed =
        key.versions.iter().find(|v| v.version == version).map(|v| &v.sealed).ok_or_else(|| {
            err(
                "InvalidCiphertextException",
                "The ciphertext refers to key material this key does not have.",
            )
        })?;
    let bytes =
        b64().decode(sealed).map_err(|_| ApiError::internal("stored key material is malformed"))?;
    root.unwrap(&seal_context(&key.arn, version), &bytes)
        .map_err(|_| ApiError::internal("stored key material cannot be opened for this key"))
}

/// Refuses keys that cannot be used for cryptography now.
pub(crate) fn usable(record: &KeyRecord, now_ms: i64) -> Result<(), ApiError> {
    let key = &record.body;
    let arn = &key.arn;
    match key.key_state {
        KeyState::Enabled => {}
        KeyState::Disabled => return Err(err("DisabledException", format!("{arn} is disabled."))),
        other => {
            return Err(err("KMSInvalidStateException", format!("{arn} is {}.", other.as_str())));
        }
    }
    if key.valid_to_ms.is_some_and(|v| now_ms >= v) {
        return Err(err(
            "KMSInvalidStateException",
            format!("{arn} is pending import: its imported key material expired."),
        ));
    }
    Ok(())
}

fn default_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
            "Action": "kms:*",
            "Resource": "*",
        }],
    })
    .to_string()
}

/// A key policy must be a valid resource policy, and (unless the caller bypasses the check)
/// must still let the caller change it.
fn check_policy(
    ctx: &Ctx<'_>,
    record: &KeyRecord,
    policy_text: &str,
    bypass: bool,
) -> Result<(), ApiError> {
    if policy_text.chars().filter(|c| !c.is_whitespace()).count() > 32_768 {
        return Err(err("LimitExceededException", "The key policy is larger than 32 KB."));
    }
    let findings = policy::validate::validate(policy_text, policy::validate::PolicyKind::Resource);
    if let Some(e) = findings.iter().find(|f| f.severity == policy::validate::Severity::Error) {
        return Err(err("MalformedPolicyDocumentException", e.message.clone()));
    }
    if bypass {
        return Ok(());
    }
    let mut trial = record.clone();
    trial.body.policy = policy_text.to_string();
    // A question about the new policy, not the request's authorization: it touches no log.
    let key_ref =
        super::KeyRef { account: record.account.clone(), key_id: record.key.clone(), alias: None };
    let question = super::key_check(ctx.caller, "PutKeyPolicy", &trial, &key_ref, Vec::new(), None);
    crate::pipeline::authorize::evaluate(ctx, &question).map_err(|_| {
        err(
            "MalformedPolicyDocumentException",
            "The new key policy will not allow you to update the key policy in the future.",
        )
    })
}

fn tags_input(tags: &[Tag]) -> Result<Vec<KeyTag>, ApiError> {
    let mut out = Vec::new();
    for t in tags {
        let (k, v) = (t.tag_key.as_str(), t.tag_value.as_str());
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(err(
                "TagException",
                "Tag keys must be 1 to 128 characters and values at most 256.",
            ));
        }
        if k.starts_with("aws:") {
            return Err(err("TagException", "Tag keys cannot start with aws:"));
        }
        out.push(KeyTag { tag_key: k.to_string(), tag_value: v.to_string() });
    }
    Ok(out)
}

fn set_tags(key: &mut Key, tags: Vec<KeyTag>) -> Result<(), ApiError> {
    if tags.len() > 50 {
        return Err(err("TagException", "A key can have at most 50 tags."));
    }
    key.tags = tags;
    Ok(())
}

/// Pages of a KMS list: `Limit` (1 to 1000, default 100 or 50 for aliases) and `Marker`.
pub(crate) fn page(
    paging: &Paging,
    items: Vec<Value>,
    default_limit: usize,
) -> Result<(Vec<Value>, Option<String>), ApiError> {
    let limit = match paging.limit {
        None => default_limit,
        Some(l) => usize::try_from(l)
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| err("ValidationException", "Limit must be between 1 and 1000"))?,
    };
    let start = match paging.marker.as_deref() {
        None => 0,
        Some(m) => m
            .strip_prefix("hm1.")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| err("InvalidMarkerException", "The marker is not one KMS returned."))?,
    };
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(start).take(limit).collect();
    let next = (start + limit < total).then(|| format!("hm1.{}", start + limit));
    Ok((page, next))
}

/// The paging members of an input that has them.
fn paging_of(input: &Input) -> Paging {
    match input {
        Input::KeyPage(i) => i.paging.clone(),
        Input::KeyPolicy(i) => i.paging.clone(),
        Input::ListKeys(p) => p.clone(),
        Input::ListAliases(i) => i.paging.clone(),
        _ => Paging::default(),
    }
}

pub(super) fn paged(name: &str, (items, next): (Vec<Value>, Option<String>)) -> Value {
    let mut out = json!({ name: items, "Truncated": next.is_some() });
    if let (Some(m), Some(obj)) = (next, out.as_object_mut()) {
        obj.insert("NextMarker".into(), json!(m));
    }
    out
}

/// Runs a key operation, authorized (the keys its checks were about are in `call.keys`).
pub(super) fn run<'s>(
    ctx: &Ctx<'s>,
    call: &Call,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    use KmsOperation as K;
    let (state, now) = (ctx.state, ctx.now());
    let account = ctx.caller.account.clone();
    match call.operation {
        K::CreateKey => match &call.input {
            Input::CreateKey(input) => create_key(ctx, input, effect),
            _ => Err(ApiError::internal("the input is not CreateKey's")),
        },
        K::ListKeys => {
            let mut tx = state.store.read()?;
            let keys: Vec<Value> = KeyRecord::list(tx.as_mut(), &account, "", 1_000_000)?
                .iter()
                .filter(|r| !r.body.deleted(now))
                .map(|r| json!({ "KeyId": r.key, "KeyArn": r.body.arn }))
                .collect();
            let paging = match &call.input {
                Input::ListKeys(p) => p.clone(),
                _ => Paging::default(),
            };
            Ok(paged("Keys", page(&paging, keys, 100)?))
        }
        K::ListAliases => super::aliases::list(ctx, call),
        K::CreateAlias | K::UpdateAlias | K::DeleteAlias => {
            super::aliases::change(ctx, call, effect)
        }
        _ => key_operation(ctx, call, effect),
    }
}

/// What `CreateKey` asks for, checked.
struct KeyPlan {
    spec: String,
    usage: KeyUsage,
    origin: Origin,
    description: String,
    tags: Vec<KeyTag>,
}

fn key_plan(input: &CreateKey) -> Result<KeyPlan, ApiError> {
    let spec = input
        .key_spec
        .as_deref()
        .or(input.customer_master_key_spec.as_deref())
        .unwrap_or("SYMMETRIC_DEFAULT")
        .to_string();
    let default_usage = if spec.starts_with("HMAC_") {
        "GENERATE_VERIFY_MAC"
    } else if spec.starts_with("ECC_") {
        "SIGN_VERIFY"
    } else {
        "ENCRYPT_DECRYPT"
    };
    let usage_name = input.key_usage.as_deref().unwrap_or(default_usage);
    let usage = KeyUsage::parse(usage_name);
    let valid = match spec.as_str() {
        "SYMMETRIC_DEFAULT" => usage == Some(KeyUsage::EncryptDecrypt),
        "RSA_2048" | "RSA_3072" | "RSA_4096" => {
            matches!(usage, Some(KeyUsage::EncryptDecrypt | KeyUsage::SignVerify))
        }
        "ECC_NIST_P256" | "ECC_NIST_P384" => {
            matches!(usage, Some(KeyUsage::SignVerify | KeyUsage::KeyAgreement))
        }
        "HMAC_224" | "HMAC_256" | "HMAC_384" | "HMAC_512" => {
            usage == Some(KeyUsage::GenerateVerifyMac)
        }
        "ECC_SECG_P256K1" | "ECC_NIST_P521" | "SM2" | "ML_DSA_44" | "ML_DSA_65" | "ML_DSA_87" => {
            return Err(err(
                "UnsupportedOperationException",
                format!("KeySpec {spec} is not supported here."),
            ));
        }
        _ => {
            return Err(err(
                "ValidationException",
                format!("KeySpec {spec} is not a valid key spec."),
            ))
        }
    };
    let usage = usage.filter(|_| valid).ok_or_else(|| {
        err(
            "ValidationException",
            format!("KeyUsage {usage_name} is not valid for KeySpec {spec}."),
        )
    })?;
    let origin_name = input.origin.as_deref().unwrap_or("AWS_KMS");
    let origin = match origin_name {
        "AWS_KMS" => Origin::AwsKms,
        "EXTERNAL" if spec == "SYMMETRIC_DEFAULT" => Origin::External,
        "EXTERNAL" => {
            return Err(err(
                "UnsupportedOperationException",
                "Imported key material is supported for SYMMETRIC_DEFAULT keys.",
            ))
        }
        _ => {
            return Err(err(
                "UnsupportedOperationException",
                format!("Origin {origin_name} is not supported."),
            ))
        }
    };
    if input.multi_region {
        return Err(err("UnsupportedOperationException", "Multi-Region keys are not supported."));
    }
    let description = input.description.clone().unwrap_or_default();
    if description.chars().count() > 8192 {
        return Err(err("ValidationException", "Description is at most 8192 characters."));
    }
    let tags = tags_input(&input.tags)?;
    Ok(KeyPlan { spec, usage, origin, description, tags })
}

/// `kms:CreateKey`, by identity policies, with the new key's spec, usage, origin and tags.
pub(super) fn create_key_check(caller: &Caller, input: &CreateKey) -> Result<Check, ApiError> {
    let plan = key_plan(input)?;
    let mut context = Vec::new();
    let mut multi = Vec::new();
    for t in &plan.tags {
        context.push((format!("aws:RequestTag/{}", t.tag_key), t.tag_value.clone()));
    }
    if !plan.tags.is_empty() {
        multi.push((
            "aws:TagKeys".to_string(),
            plan.tags.iter().map(|t| t.tag_key.clone()).collect(),
        ));
    }
    context.push(("kms:KeySpec".into(), plan.spec));
    context.push(("kms:KeyUsage".into(), plan.usage.as_str().into()));
    context.push(("kms:KeyOrigin".into(), plan.origin.as_str().into()));
    Ok(plain_check(caller, "CreateKey", context, multi))
}

fn create_key<'s>(
    ctx: &Ctx<'s>,
    input: &CreateKey,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    let (state, caller, facts) = (ctx.state, ctx.caller, ctx.facts);
    let now = facts.time_ms;
    let account = caller.account.clone();
    let KeyPlan { spec, usage, origin, description, tags } = key_plan(input)?;
    let key_id = crate::support::ids::uuid();
    let arn = format!("arn:aws:kms:{}:{account}:key/{key_id}", facts.region);
    let mut key = Key {
        key_id: key_id.clone(),
        arn: arn.clone(),
        creation_date: crate::support::time::epoch_seconds_f64(now),
        creation_ms: now,
        description,
        key_usage: usage,
        key_spec: spec.clone(),
        origin,
        key_manager: None,
        key_state: if origin == Origin::External {
            KeyState::PendingImport
        } else {
            KeyState::Enabled
        },
        policy: String::new(),
        versions: Vec::new(),
        aliases: Vec::new(),
        tags: Vec::new(),
        public_key: None,
        deletion_ms: None,
        pending_window_in_days: None,
        rotation_enabled: None,
        rotation_period_in_days: None,
        next_rotation_ms: None,
        import: None,
        material_digest_sealed: None,
        expiration_model: None,
        valid_to_ms: None,
    };
    set_tags(&mut key, tags)?;
    let mut record = KeyRecord::new(&account, &key_id, key, now);
    record.body.policy = match input.policy.as_deref() {
        Some(p) => {
            check_policy(ctx, &record, p, input.bypass_policy_lockout_safety_check)?;
            p.to_string()
        }
        None => default_policy(&account),
    };
    if origin == Origin::AwsKms {
        let (material, public) = new_material(&spec)?;
        let sealed = seal_material(&state.root, &arn, 1, material.expose())?;
        record.body.versions =
            vec![KeyVersion { version: 1, created_ms: now, sealed, kind: VersionType::Initial }];
        record.body.public_key = public.map(|p| b64().encode(p));
    }
    let mut tx = state.store.begin()?;
    record.put(tx.as_mut(), PutMode::Create)?;
    effect.tx = Some(tx);
    effect.resources = vec![resource(&record)];
    effect.param("keySpec", json!(spec));
    effect.param("keyUsage", json!(usage.as_str()));
    effect.param("origin", json!(origin.as_str()));
    effect.param("description", json!(record.body.description));
    effect.response = Some(json!({ "keyMetadata": { "keyId": key_id, "arn": arn } }));
    Ok(json!({ "KeyMetadata": metadata(&record) }))
}

/// CloudTrail's `resources` entry of a key.
pub(super) fn resource(record: &KeyRecord) -> audit::event::Resource {
    audit::event::Resource {
        account_id: Some(record.account.clone()),
        resource_type: Some("AWS::KMS::Key".into()),
        arn: Some(record.body.arn.clone()),
    }
}

/// New key material for a spec: (secret material, public key DER for asymmetric keys).
fn new_material(spec: &str) -> Result<(crypto::SecretBytes, Option<Vec<u8>>), ApiError> {
    let failed = |_| ApiError::internal("key generation failed");
    if spec == "SYMMETRIC_DEFAULT" {
        let mut bytes = vec![0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        return Ok((crypto::SecretBytes::new(bytes), None));
    }
    if let Some(mac_spec) = crypto::kms::mac::MacSpec::parse(spec) {
        return Ok((crypto::kms::mac::generate(mac_spec), None));
    }
    let asym = crypto::kms::asymmetric::AsymmetricSpec::parse(spec)
        .ok_or_else(|| err("ValidationException", format!("KeySpec {spec} is not valid.")))?;
    let private = crypto::kms::asymmetric::generate(asym).map_err(failed)?;
    let public = crypto::kms::asymmetric::public_key_der(asym, private.expose()).map_err(failed)?;
    Ok((private, Some(public)))
}

/// Operations on one key named by `KeyId`.
fn key_operation<'s>(
    ctx: &Ctx<'s>,
    call: &Call,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    let (state, facts, input) = (ctx.state, ctx.facts, &call.input);
    let operation = call.operation.name();
    let now = facts.time_ms;
    let key_id = input.key_id().ok_or_else(|| ApiError::internal("the input names no key"))?;
    effect.param("keyId", json!(key_id));
    let read_only = call.operation.access() == Access::Read;
    let (key_ref, authorized) = call.key(0)?;
    // A change works on the key as it is now, locked until it commits.
    let (mut tx, record): (Option<Box<dyn store::Tx + 's>>, KeyRecord) = if read_only {
        (None, authorized.clone())
    } else {
        let mut tx = state.store.begin()?;
        let record = KeyRecord::get_for_update(tx.as_mut(), &key_ref.account, &key_ref.key_id)?
            .filter(|r| !r.body.deleted(now))
            .ok_or_else(|| err("NotFoundException", format!("Key '{key_id}' does not exist")))?;
        (Some(tx), record)
    };
    let arn = record.body.arn.clone();
    let state_now = record.body.key_state;
    let symmetric = record.body.symmetric();
    let external = record.body.origin == Origin::External;
    let invalid_state =
        || err("KMSInvalidStateException", format!("{arn} is {}.", state_now.as_str()));
    let mut body = record.body.clone();
    let mut changed = true;
    let response = match operation {
        "DescribeKey" => {
            changed = false;
            json!({ "KeyMetadata": metadata(&record) })
        }
        "EnableKey" | "DisableKey" => {
            if !matches!(state_now, KeyState::Enabled | KeyState::Disabled) {
                return Err(invalid_state());
            }
            body.key_state =
                if operation == "EnableKey" { KeyState::Enabled } else { KeyState::Disabled };
            json!({})
        }
        "ScheduleKeyDeletion" => {
            if state_now == KeyState::PendingDeletion {
                return Err(invalid_state());
            }
            let days = match input {
                Input::ScheduleKeyDeletion(i) => i.pending_window_in_days.unwrap_or(30),
                _ => 30,
            };
            if !(7..=30).contains(&days) {
                return Err(err(
                    "ValidationException",
                    "PendingWindowInDays must be between 7 and 30.",
                ));
            }
            let when = now + days * 86_400_000;
            body.key_state = KeyState::PendingDeletion;
            body.deletion_ms = Some(when);
            body.pending_window_in_days = Some(days);
            effect.param("pendingWindowInDays", json!(days));
            json!({ "KeyId": arn, "DeletionDate": crate::support::time::epoch_seconds(when), "KeyState": "PendingDeletion", "PendingWindowInDays": days })
        }
        "CancelKeyDeletion" => {
            if state_now != KeyState::PendingDeletion {
                return Err(invalid_state());
            }
            body.key_state = if body.current_version().is_some() {
                KeyState::Disabled
            } else {
                KeyState::PendingImport
            };
            body.deletion_ms = None;
            body.pending_window_in_days = None;
            json!({ "KeyId": arn })
        }
        "UpdateKeyDescription" => {
            let d = match input {
                Input::UpdateKeyDescription(i) => i.description.as_str(),
                _ => "",
            };
            if d.chars().count() > 8192 {
                return Err(err("ValidationException", "Description is at most 8192 characters."));
            }
            body.description = d.to_string();
            json!({})
        }
        "TagResource" => {
            let mut tags = body.tags.clone();
            let given = match input {
                Input::TagResource(i) => i.tags.as_slice(),
                _ => &[],
            };
            for tag in tags_input(given)? {
                match tags.iter_mut().find(|t| t.tag_key == tag.tag_key) {
                    Some(t) => t.tag_value = tag.tag_value,
                    None => tags.push(tag),
                }
            }
            set_tags(&mut body, tags)?;
            json!({})
        }
        "UntagResource" => {
            let remove: Vec<&str> = match input {
                Input::UntagResource(i) => i.tag_keys.iter().map(String::as_str).collect(),
                _ => Vec::new(),
            };
            body.tags.retain(|t| !remove.contains(&t.tag_key.as_str()));
            json!({})
        }
        "ListResourceTags" => {
            changed = false;
            let tags: Vec<Value> = body
                .tags
                .iter()
                .map(|t| json!({ "TagKey": t.tag_key, "TagValue": t.tag_value }))
                .collect();
            paged("Tags", page(&paging_of(input), tags, 50)?)
        }
        "GetKeyPolicy" | "PutKeyPolicy" | "ListKeyPolicies" => {
            let policy_input = match input {
                Input::KeyPolicy(i) => Some(i),
                _ => None,
            };
            if let Some(name) = policy_input.and_then(|i| i.policy_name.as_deref()) {
                if name != "default" {
                    return Err(err("NotFoundException", format!("No such policy exists: {name}")));
                }
            }
            match operation {
                "GetKeyPolicy" => {
                    changed = false;
                    json!({ "Policy": body.policy, "PolicyName": "default" })
                }
                "ListKeyPolicies" => {
                    changed = false;
                    json!({ "PolicyNames": ["default"], "Truncated": false })
                }
                _ => {
                    let i = policy_input.ok_or_else(|| ApiError::internal("no policy input"))?;
                    let p = i.policy.as_deref().ok_or_else(|| {
                        err("ValidationException", "1 validation error detected: Value null at 'policy' failed to satisfy constraint: Member must not be null")
                    })?;
                    check_policy(ctx, &record, p, i.bypass_policy_lockout_safety_check)?;
                    body.policy = p.to_string();
                    effect.param("policyName", json!("default"));
                    json!({})
                }
            }
        }
        "EnableKeyRotation" | "DisableKeyRotation" | "RotateKeyOnDemand" => {
            if !symmetric || external {
                return Err(err("UnsupportedOperationException", format!("{arn} does not support automatic or on-demand rotation (only symmetric keys with AWS_KMS origin do).")));
            }
            if !matches!(state_now, KeyState::Enabled | KeyState::Disabled) {
                return Err(invalid_state());
            }
            match operation {
                "EnableKeyRotation" => {
                    let days = match input {
                        Input::EnableKeyRotation(i) => i.rotation_period_in_days,
                        _ => None,
                    }
                    .unwrap_or(365);
                    if !(90..=2560).contains(&days) {
                        return Err(err(
                            "ValidationException",
                            "RotationPeriodInDays must be between 90 and 2560.",
                        ));
                    }
                    body.rotation_enabled = Some(true);
                    body.rotation_period_in_days = Some(days);
                    body.next_rotation_ms = Some(now + days * 86_400_000);
                    effect.param("rotationPeriodInDays", json!(days));
                    json!({})
                }
                "DisableKeyRotation" => {
                    body.rotation_enabled = Some(false);
                    body.next_rotation_ms = None;
                    json!({})
                }
                _ => {
                    let on_demand =
                        body.versions.iter().filter(|v| v.kind == VersionType::OnDemand).count();
                    if on_demand >= MAX_ON_DEMAND_ROTATIONS {
                        return Err(err("LimitExceededException", format!("A key can be rotated on demand at most {MAX_ON_DEMAND_ROTATIONS} times.")));
                    }
                    rotate(&state.root, &mut body, now, VersionType::OnDemand)?;
                    json!({ "KeyId": arn })
                }
            }
        }
        "GetKeyRotationStatus" => {
            changed = false;
            let enabled = body.rotation_enabled.unwrap_or(false);
            let mut out = json!({ "KeyRotationEnabled": enabled, "KeyId": arn });
            if let (true, Some(obj)) = (enabled, out.as_object_mut()) {
                obj.insert("RotationPeriodInDays".into(), json!(body.rotation_period_in_days));
                if let Some(n) = body.next_rotation_ms {
                    obj.insert("NextRotationDate".into(), crate::support::time::epoch_seconds(n));
                }
            }
            out
        }
        "ListKeyRotations" => {
            changed = false;
            if !symmetric || external {
                return Err(err(
                    "UnsupportedOperationException",
                    format!("{arn} has no rotations."),
                ));
            }
            let rotations: Vec<Value> = body
                .versions
                .iter()
                .filter(|v| v.kind != VersionType::Initial)
                .map(|v| {
                    json!({
                        "KeyId": arn,
                        "RotationDate": crate::support::time::epoch_seconds(v.created_ms),
                        "RotationType": v.kind,
                    })
                })
                .collect();
            paged("Rotations", page(&paging_of(input), rotations, 100)?)
        }
        "GetPublicKey" => {
            changed = false;
            let Some(public) = body.public_key.clone().filter(|p| !p.is_empty()) else {
                return Err(err(
                    "UnsupportedOperationException",
                    format!("{arn} is not an asymmetric key."),
                ));
            };
            if state_now == KeyState::PendingDeletion {
                return Err(invalid_state());
            }
            if state_now == KeyState::Disabled {
                return Err(err("DisabledException", format!("{arn} is disabled.")));
            }
            let spec = body.key_spec.as_str();
            let usage = body.key_usage;
            let (enc, sig, _) = algorithms(spec, usage);
            let mut out = json!({ "KeyId": arn, "PublicKey": public, "KeySpec": spec, "CustomerMasterKeySpec": spec, "KeyUsage": usage.as_str() });
            if let Some(obj) = out.as_object_mut() {
                if !enc.is_empty() {
                    obj.insert("EncryptionAlgorithms".into(), json!(enc));
                }
                if !sig.is_empty() {
                    obj.insert("SigningAlgorithms".into(), json!(sig));
                }
                if usage == KeyUsage::KeyAgreement {
                    obj.insert("KeyAgreementAlgorithms".into(), json!(["ECDH"]));
                }
            }
            out
        }
        "GetParametersForImport" | "ImportKeyMaterial" | "DeleteImportedKeyMaterial" => {
            if !external {
                return Err(err(
                    "UnsupportedOperationException",
                    format!("{arn} does not have EXTERNAL origin."),
                ));
            }
            super::ops::import(state, input, &record, &mut body, now, effect)?
        }
        other => {
            return Err(err(
                "UnsupportedOperationException",
                format!("The operation {other} is not supported."),
            ))
        }
    };
    if let (true, Some(mut tx)) = (changed, tx.take()) {
        let record = KeyRecord { body, updated_at_ms: now, ..record };
        record.put(tx.as_mut(), PutMode::Update)?;
        effect.tx = Some(tx);
    }
    Ok(response)
}

/// Adds a new backing version (rotation): new material, sealed; old versions stay for
/// decryption.
pub(crate) fn rotate(
    root: &dyn RootOfTrust,
    key: &mut Key,
    now: i64,
    kind: VersionType,
) -> Result<(), ApiError> {
    let next = key.current_version().unwrap_or(0) + 1;
    let mut bytes = vec![0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    let material = crypto::SecretBytes::new(bytes);
    let sealed = seal_material(root, &key.arn, next, material.expose())?;
    key.versions.push(KeyVersion { version: next, created_ms: now, sealed, kind });
    if key.rotation_enabled == Some(true) {
        let days = key.rotation_period_in_days.unwrap_or(365);
        key.next_rotation_ms = Some(now + days * 86_400_000);
    }
    Ok(())
}
