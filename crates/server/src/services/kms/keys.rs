//! KMS keys and what hangs off them: creation (every key spec), description, listing, enable
//! and disable, scheduled deletion, aliases, tags, key policies, rotation, public keys, and
//! importing key material (BYOK).

use super::input::{CreateKey, Input, Paging, Tag};
use super::{b64, err, plain_check, Call, KmsOperation};
use crate::error::ApiError;
use crate::pipeline::identity::Caller;
use crate::pipeline::service::{Access, Check, Ctx, Effect, Operation};
use base64::Engine;
use crypto::RootOfTrust;
use serde_json::{json, Value};
use store::{PutMode, Record};

/// Most on-demand rotations of one key (AWS's quota).
pub const MAX_ON_DEMAND_ROTATIONS: usize = 10;

/// A string field of a key body (empty when missing).
pub(crate) fn str_of(body: &Value, key: &str) -> String {
    body.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Whether a key scheduled for deletion has reached its deletion date.
pub(crate) fn deleted(body: &Value, now_ms: i64) -> bool {
    str_of(body, "KeyState") == "PendingDeletion"
        && body.get("DeletionMs").and_then(Value::as_i64).is_some_and(|d| now_ms >= d)
}

/// The aliases that point at a key (`kms:ResourceAliases`).
pub(crate) fn aliases_of(body: &Value) -> Vec<String> {
    body.get("Aliases")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// A key's tags (`TagKey`/`TagValue`, as KMS spells them).
pub(crate) fn tags_of(body: &Value) -> Vec<(String, String)> {
    crate::services::iam::tags::pairs(body, "TagKey", "TagValue")
}

/// The algorithms a key spec and usage allow, as `KeyMetadata` lists them.
pub(crate) fn algorithms(
    spec: &str,
    usage: &str,
) -> (Vec<&'static str>, Vec<&'static str>, Vec<&'static str>) {
    let (mut enc, mut sig, mut mac) = (Vec::new(), Vec::new(), Vec::new());
    match (spec, usage) {
        ("SYMMETRIC_DEFAULT", _) => enc.push("SYMMETRIC_DEFAULT"),
        (s, "ENCRYPT_DECRYPT") if s.starts_with("RSA_") => {
            enc.extend(["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
        }
        (s, "SIGN_VERIFY") if s.starts_with("RSA_") => sig.extend([
            "RSASSA_PSS_SHA_256",
            "RSASSA_PSS_SHA_384",
            "RSASSA_PSS_SHA_512",
            "RSASSA_PKCS1_V1_5_SHA_256",
            "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512",
        ]),
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

/// `KeyMetadata` of a key record.
pub(crate) fn metadata(record: &Record) -> Value {
    let b = &record.body;
    let spec = str_of(b, "KeySpec");
    let usage = str_of(b, "KeyUsage");
    let (enc, sig, mac) = algorithms(&spec, &usage);
    let state = str_of(b, "KeyState");
    let mut m = json!({
        "AWSAccountId": record.account, "KeyId": record.key, "Arn": str_of(b, "Arn"),
        "CreationDate": b.get("CreationDate").cloned().unwrap_or(Value::Null),
        "Enabled": state == "Enabled", "Description": str_of(b, "Description"),
        "KeyUsage": usage, "KeyState": state, "Origin": str_of(b, "Origin"),
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
        if let Some(d) = b.get("DeletionMs").and_then(Value::as_i64) {
            obj.insert("DeletionDate".into(), crate::support::time::epoch_seconds(d));
            obj.insert(
                "PendingDeletionWindowInDays".into(),
                b.get("PendingWindowInDays").cloned().unwrap_or(Value::Null),
            );
        }
        if str_of(b, "Origin") == "EXTERNAL" {
            let model = b
                .get("ExpirationModel")
                .and_then(Value::as_str)
                .unwrap_or("KEY_MATERIAL_DOES_NOT_EXPIRE");
            obj.insert("ExpirationModel".into(), json!(model));
            if let Some(v) = b.get("ValidToMs").and_then(Value::as_i64) {
                obj.insert("ValidTo".into(), crate::support::time::epoch_seconds(v));
            }
        }
        if let Some(v) = current_version(b) {
            obj.insert("CurrentKeyMaterialId".into(), json!(material_id(record, v)));
        }
    }
    m
}

/// The backing version new ciphertexts use, if the key has material.
pub(crate) fn current_version(body: &Value) -> Option<u32> {
    body.get("Versions")
        .and_then(Value::as_array)
        .and_then(|v| v.last())
        .and_then(|v| v.get("Version"))
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
}

/// A public identifier of a backing version (not derived from the material).
fn material_id(record: &Record, version: u32) -> String {
    let digest =
        sigv4::key::sha256(format!("{}/{version}", str_of(&record.body, "Arn")).as_bytes());
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
    record: &Record,
    version: u32,
) -> Result<crypto::SecretBytes, ApiError> {
    let arn = str_of(&record.body, "Arn");
    let sealed = record
        .body
        .get("Versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter().find(|v| v.get("Version").and_then(Value::as_u64) == Some(u64::from(version)))
        })
        .and_then(|v| v.get("Sealed"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            err(
                "InvalidCiphertextException",
                "The ciphertext refers to key material this key does not have.",
            )
        })?;
    let bytes =
        b64().decode(sealed).map_err(|_| ApiError::internal("stored key material is malformed"))?;
    root.unwrap(&seal_context(&arn, version), &bytes)
        .map_err(|_| ApiError::internal("stored key material cannot be opened for this key"))
}

/// Refuses keys that cannot be used for cryptography now.
pub(crate) fn usable(record: &Record, now_ms: i64) -> Result<(), ApiError> {
    let arn = str_of(&record.body, "Arn");
    match str_of(&record.body, "KeyState").as_str() {
        "Enabled" => {}
        "Disabled" => return Err(err("DisabledException", format!("{arn} is disabled."))),
        other => {
            return Err(err("KMSInvalidStateException", format!("{arn} is {other}.")));
        }
    }
    if record.body.get("ValidToMs").and_then(Value::as_i64).is_some_and(|v| now_ms >= v) {
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
    record: &Record,
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
    if let Some(obj) = trial.body.as_object_mut() {
        obj.insert("Policy".into(), json!(policy_text));
    }
    // A question about the new policy, not the request's authorization: it touches no log.
    let key_ref =
        super::KeyRef { account: record.account.clone(), key_id: record.key.clone(), alias: None };
    let question = super::key_check(ctx.caller, "PutKeyPolicy", &trial, &key_ref, Vec::new(), None);
    crate::pipeline::authorize::evaluate(ctx.state, ctx.caller, ctx.facts, &question).map_err(
        |_| {
            err(
                "MalformedPolicyDocumentException",
                "The new key policy will not allow you to update the key policy in the future.",
            )
        },
    )
}

fn tags_input(tags: &[Tag]) -> Result<Vec<(String, String)>, ApiError> {
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
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

fn set_tags(body: &mut Value, tags: &[(String, String)]) -> Result<(), ApiError> {
    if tags.len() > 50 {
        return Err(err("TagException", "A key can have at most 50 tags."));
    }
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "Tags".into(),
            tags.iter().map(|(k, v)| json!({ "TagKey": k, "TagValue": v })).collect(),
        );
    }
    Ok(())
}

fn set(body: &mut Value, key: &str, value: Value) {
    if let Some(obj) = body.as_object_mut() {
        obj.insert(key.into(), value);
    }
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

fn paged(name: &str, (items, next): (Vec<Value>, Option<String>)) -> Value {
    let mut out = json!({ name: items, "Truncated": next.is_some() });
    if let (Some(m), Some(obj)) = (next, out.as_object_mut()) {
        obj.insert("NextMarker".into(), json!(m));
    }
    out
}

pub(super) fn check_alias_name(name: &str) -> Result<(), ApiError> {
    let ok = name.starts_with("alias/")
        && name.len() > 6
        && name.len() <= 256
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-:".contains(&b));
    if !ok {
        return Err(err(
            "ValidationException",
            format!("Alias must be alias/ followed by 1 to 250 of [a-zA-Z0-9/_-]: {name}"),
        ));
    }
    if name.starts_with("alias/aws/") {
        return Err(err(
            "NotAuthorizedException",
            "Alias names starting with alias/aws/ are reserved for AWS.",
        ));
    }
    Ok(())
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
            let keys: Vec<Value> =
                crate::support::records::list(tx.as_mut(), &account, "kms_key", "", 1_000_000)?
                    .iter()
                    .filter(|r| !deleted(&r.body, now))
                    .map(|r| json!({ "KeyId": r.key, "KeyArn": str_of(&r.body, "Arn") }))
                    .collect();
            let paging = match &call.input {
                Input::ListKeys(p) => p.clone(),
                _ => Paging::default(),
            };
            Ok(paged("Keys", page(&paging, keys, 100)?))
        }
        K::ListAliases => {
            let filter = call.keys.first().map(|(key_ref, _)| key_ref.key_id.clone());
            let mut tx = state.store.read()?;
            let aliases: Vec<Value> =
                crate::support::records::list(tx.as_mut(), &account, "kms_alias", "", 1_000_000)?
                    .iter()
                    .filter(|r| {
                        filter.as_deref().is_none_or(|k| str_of(&r.body, "TargetKeyId") == k)
                    })
                    .map(|r| r.body.clone())
                    .collect();
            let paging = match &call.input {
                Input::ListAliases(i) => i.paging.clone(),
                _ => Paging::default(),
            };
            Ok(paged("Aliases", page(&paging, aliases, 50)?))
        }
        K::CreateAlias | K::UpdateAlias | K::DeleteAlias => alias_change(ctx, call, effect),
        _ => key_operation(ctx, call, effect),
    }
}

/// What `CreateKey` asks for, checked.
struct KeyPlan {
    spec: String,
    usage: String,
    origin: String,
    description: String,
    tags: Vec<(String, String)>,
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
    let usage = input.key_usage.as_deref().unwrap_or(default_usage).to_string();
    let valid = match spec.as_str() {
        "SYMMETRIC_DEFAULT" => usage == "ENCRYPT_DECRYPT",
        "RSA_2048" | "RSA_3072" | "RSA_4096" => {
            usage == "ENCRYPT_DECRYPT" || usage == "SIGN_VERIFY"
        }
        "ECC_NIST_P256" | "ECC_NIST_P384" => usage == "SIGN_VERIFY",
        "HMAC_224" | "HMAC_256" | "HMAC_384" | "HMAC_512" => usage == "GENERATE_VERIFY_MAC",
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
    if !valid {
        return Err(err(
            "ValidationException",
            format!("KeyUsage {usage} is not valid for KeySpec {spec}."),
        ));
    }
    let origin = input.origin.as_deref().unwrap_or("AWS_KMS").to_string();
    match origin.as_str() {
        "AWS_KMS" => {}
        "EXTERNAL" if spec == "SYMMETRIC_DEFAULT" => {}
        "EXTERNAL" => {
            return Err(err(
                "UnsupportedOperationException",
                "Imported key material is supported for SYMMETRIC_DEFAULT keys.",
            ))
        }
        _ => {
            return Err(err(
                "UnsupportedOperationException",
                format!("Origin {origin} is not supported."),
            ))
        }
    }
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
    for (k, v) in &plan.tags {
        context.push((format!("aws:RequestTag/{k}"), v.clone()));
    }
    if !plan.tags.is_empty() {
        multi.push(("aws:TagKeys".to_string(), plan.tags.iter().map(|(k, _)| k.clone()).collect()));
    }
    context.push(("kms:KeySpec".into(), plan.spec));
    context.push(("kms:KeyUsage".into(), plan.usage));
    context.push(("kms:KeyOrigin".into(), plan.origin));
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
    let mut body = json!({
        "KeyId": key_id, "Arn": arn, "CreationDate": crate::support::time::epoch_seconds(now), "CreationMs": now,
        "Description": description, "KeyUsage": usage, "KeySpec": spec, "Origin": origin,
        "KeyState": if origin == "EXTERNAL" { "PendingImport" } else { "Enabled" },
        "Versions": [], "Aliases": [], "Tags": [],
    });
    set_tags(&mut body, &tags)?;
    let mut record = Record {
        account: account.clone(),
        kind: "kms_key".into(),
        key: key_id.clone(),
        format_version: 1,
        body,
        updated_at_ms: now,
    };
    let policy_text = match input.policy.as_deref() {
        Some(p) => {
            check_policy(ctx, &record, p, input.bypass_policy_lockout_safety_check)?;
            p.to_string()
        }
        None => default_policy(&account),
    };
    set(&mut record.body, "Policy", json!(policy_text));
    if origin == "AWS_KMS" {
        let (material, public) = new_material(&spec)?;
        let sealed = seal_material(&state.root, &arn, 1, material.expose())?;
        set(
            &mut record.body,
            "Versions",
            json!([{ "Version": 1, "CreatedMs": now, "Sealed": sealed, "Type": "INITIAL" }]),
        );
        if let Some(p) = public {
            set(&mut record.body, "PublicKey", json!(b64().encode(p)));
        }
    }
    let mut tx = state.store.begin()?;
    tx.put_record(&record, PutMode::Create)?;
    effect.tx = Some(tx);
    effect.resources = vec![resource(&record)];
    effect.param("keySpec", json!(spec));
    effect.param("keyUsage", json!(usage));
    effect.param("origin", json!(origin));
    effect.param("description", json!(str_of(&record.body, "Description")));
    effect.response = Some(json!({ "keyMetadata": { "keyId": key_id, "arn": arn } }));
    Ok(json!({ "KeyMetadata": metadata(&record) }))
}

/// CloudTrail's `resources` entry of a key.
pub(super) fn resource(record: &Record) -> audit::event::Resource {
    audit::event::Resource {
        account_id: Some(record.account.clone()),
        resource_type: Some("AWS::KMS::Key".into()),
        arn: Some(str_of(&record.body, "Arn")),
    }
}

/// An alias's ARN.
pub(super) fn alias_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:kms:{region}:{account}:{name}")
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

fn alias_change<'s>(
    ctx: &Ctx<'s>,
    call: &Call,
    effect: &mut Effect<'s>,
) -> Result<Value, ApiError> {
    use KmsOperation as K;
    let (state, op) = (ctx.state, call.operation);
    let Input::Alias(input) = &call.input else {
        return Err(ApiError::internal("the input is not an alias operation's"));
    };
    let now = ctx.now();
    let account = ctx.caller.account.clone();
    let name = input.alias_name.clone();
    let alias_arn = alias_arn(&ctx.facts.region, &account, &name);
    effect.param("aliasName", json!(name));
    let mut tx = state.store.begin()?;
    let existing = tx.get_record_for_update(&account, "kms_alias", &name)?;
    // A key authorization read, read again under its lock.
    let lock = |tx: &mut dyn store::Tx, key_id: &str| -> Result<Option<Record>, ApiError> {
        Ok(tx
            .get_record_for_update(&account, "kms_key", key_id)?
            .filter(|r| !deleted(&r.body, now)))
    };
    // The key an alias pointed at when it was authorized may have changed since (a concurrent
    // UpdateAlias): the one it points at now is checked too.
    let recheck = |key: &Record, key_ref: &super::KeyRef| -> Result<(), ApiError> {
        let authorized = call.keys.iter().any(|(_, r)| r.key == key.key);
        if authorized {
            return Ok(());
        }
        ctx.authorize(&super::key_check(ctx.caller, op.name(), key, key_ref, Vec::new(), None))
            .map_err(super::denied)
    };
    let mut touched: Vec<Record> = Vec::new();
    let target = input.target_key_id.as_deref().unwrap_or_default();
    match op {
        K::CreateAlias | K::UpdateAlias => {
            let mut alias = match (op, existing) {
                (K::CreateAlias, Some(_)) => {
                    return Err(err(
                        "AlreadyExistsException",
                        format!("An alias with the name {alias_arn} already exists"),
                    ))
                }
                (K::CreateAlias, None) => None,
                (_, Some(alias)) => Some(alias),
                (_, None) => {
                    return Err(err(
                        "NotFoundException",
                        format!("Alias {alias_arn} is not found."),
                    ))
                }
            };
            let (key_ref, _) = call.key(0)?;
            let mut new_key = lock(tx.as_mut(), &key_ref.key_id)?.ok_or_else(|| {
                err("NotFoundException", format!("Key '{target}' does not exist"))
            })?;
            effect.param("targetKeyId", json!(target));
            match &mut alias {
                None => {
                    if str_of(&new_key.body, "KeyState") == "PendingDeletion" {
                        return Err(err(
                            "KMSInvalidStateException",
                            "The key is pending deletion.",
                        ));
                    }
                    let record = Record {
                        account: account.clone(),
                        kind: "kms_alias".into(),
                        key: name.clone(),
                        format_version: 1,
                        body: json!({
                            "AliasName": name, "AliasArn": alias_arn, "TargetKeyId": key_ref.key_id,
                            "CreationDate": crate::support::time::epoch_seconds(now), "LastUpdatedDate": crate::support::time::epoch_seconds(now),
                        }),
                        updated_at_ms: now,
                    };
                    tx.put_record(&record, PutMode::Create)?;
                }
                Some(alias) => {
                    let old_ref = super::KeyRef {
                        account: account.clone(),
                        key_id: str_of(&alias.body, "TargetKeyId"),
                        alias: None,
                    };
                    if let Some(mut old) = lock(tx.as_mut(), &old_ref.key_id)? {
                        recheck(&old, &old_ref)?;
                        let same_kind = str_of(&old.body, "KeyUsage")
                            == str_of(&new_key.body, "KeyUsage")
                            && (str_of(&old.body, "KeySpec") == "SYMMETRIC_DEFAULT")
                                == (str_of(&new_key.body, "KeySpec") == "SYMMETRIC_DEFAULT");
                        if !same_kind {
                            return Err(err(
                                "ValidationException",
                                "An alias can only move to a key of the same type and usage.",
                            ));
                        }
                        let kept: Vec<String> =
                            aliases_of(&old.body).into_iter().filter(|a| a != &name).collect();
                        set(&mut old.body, "Aliases", json!(kept));
                        touched.push(old);
                    }
                    set(&mut alias.body, "TargetKeyId", json!(key_ref.key_id));
                    set(
                        &mut alias.body,
                        "LastUpdatedDate",
                        crate::support::time::epoch_seconds(now),
                    );
                    alias.updated_at_ms = now;
                    tx.put_record(alias, PutMode::Update)?;
                }
            }
            let mut aliases = aliases_of(&new_key.body);
            aliases.push(name.clone());
            set(&mut new_key.body, "Aliases", json!(aliases));
            touched.push(new_key);
        }
        _ => {
            let alias = existing.ok_or_else(|| {
                err("NotFoundException", format!("Alias {alias_arn} is not found."))
            })?;
            let key_ref = super::KeyRef {
                account: account.clone(),
                key_id: str_of(&alias.body, "TargetKeyId"),
                alias: Some(name.clone()),
            };
            if let Some(mut key) = lock(tx.as_mut(), &key_ref.key_id)? {
                recheck(&key, &key_ref)?;
                let kept: Vec<String> =
                    aliases_of(&key.body).into_iter().filter(|a| a != &name).collect();
                set(&mut key.body, "Aliases", json!(kept));
                touched.push(key);
            }
            tx.delete_record(&account, "kms_alias", &name)?;
        }
    }
    for mut record in touched {
        record.updated_at_ms = now;
        tx.put_record(&record, PutMode::Update)?;
        effect.resources = vec![resource(&record)];
    }
    effect.tx = Some(tx);
    Ok(json!({}))
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
    let (mut tx, mut record): (Option<Box<dyn store::Tx + 's>>, Record) = if read_only {
        (None, authorized.clone())
    } else {
        let mut tx = state.store.begin()?;
        let record = tx
            .get_record_for_update(&key_ref.account, "kms_key", &key_ref.key_id)?
            .filter(|r| !deleted(&r.body, now))
            .ok_or_else(|| err("NotFoundException", format!("Key '{key_id}' does not exist")))?;
        (Some(tx), record)
    };
    let arn = str_of(&record.body, "Arn");
    let state_now = str_of(&record.body, "KeyState");
    let symmetric = str_of(&record.body, "KeySpec") == "SYMMETRIC_DEFAULT";
    let external = str_of(&record.body, "Origin") == "EXTERNAL";
    let invalid_state = || err("KMSInvalidStateException", format!("{arn} is {state_now}."));
    let mut body = record.body.clone();
    let mut changed = true;
    let response = match operation {
        "DescribeKey" => {
            changed = false;
            json!({ "KeyMetadata": metadata(&record) })
        }
        "EnableKey" => {
            match state_now.as_str() {
                "Enabled" | "Disabled" => set(&mut body, "KeyState", json!("Enabled")),
                _ => return Err(invalid_state()),
            }
            json!({})
        }
        "DisableKey" => {
            match state_now.as_str() {
                "Enabled" | "Disabled" => set(&mut body, "KeyState", json!("Disabled")),
                _ => return Err(invalid_state()),
            }
            json!({})
        }
        "ScheduleKeyDeletion" => {
            if state_now == "PendingDeletion" {
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
            set(&mut body, "KeyState", json!("PendingDeletion"));
            set(&mut body, "DeletionMs", json!(when));
            set(&mut body, "PendingWindowInDays", json!(days));
            effect.param("pendingWindowInDays", json!(days));
            json!({ "KeyId": arn, "DeletionDate": crate::support::time::epoch_seconds(when), "KeyState": "PendingDeletion", "PendingWindowInDays": days })
        }
        "CancelKeyDeletion" => {
            if state_now != "PendingDeletion" {
                return Err(invalid_state());
            }
            let next = if current_version(&body).is_some() { "Disabled" } else { "PendingImport" };
            set(&mut body, "KeyState", json!(next));
            if let Some(obj) = body.as_object_mut() {
                obj.remove("DeletionMs");
                obj.remove("PendingWindowInDays");
            }
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
            set(&mut body, "Description", json!(d));
            json!({})
        }
        "TagResource" => {
            let mut tags = tags_of(&body);
            let given = match input {
                Input::TagResource(i) => i.tags.as_slice(),
                _ => &[],
            };
            for (k, v) in tags_input(given)? {
                match tags.iter_mut().find(|(key, _)| *key == k) {
                    Some(t) => t.1 = v,
                    None => tags.push((k, v)),
                }
            }
            set_tags(&mut body, &tags)?;
            json!({})
        }
        "UntagResource" => {
            let remove: Vec<&str> = match input {
                Input::UntagResource(i) => i.tag_keys.iter().map(String::as_str).collect(),
                _ => Vec::new(),
            };
            let kept: Vec<(String, String)> =
                tags_of(&body).into_iter().filter(|(k, _)| !remove.contains(&k.as_str())).collect();
            set_tags(&mut body, &kept)?;
            json!({})
        }
        "ListResourceTags" => {
            changed = false;
            let tags: Vec<Value> =
                tags_of(&body).iter().map(|(k, v)| json!({ "TagKey": k, "TagValue": v })).collect();
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
                    json!({ "Policy": str_of(&body, "Policy"), "PolicyName": "default" })
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
                    set(&mut body, "Policy", json!(p));
                    effect.param("policyName", json!("default"));
                    json!({})
                }
            }
        }
        "EnableKeyRotation" | "DisableKeyRotation" | "RotateKeyOnDemand" => {
            if !symmetric || external {
                return Err(err("UnsupportedOperationException", format!("{arn} does not support automatic or on-demand rotation (only symmetric keys with AWS_KMS origin do).")));
            }
            if state_now != "Enabled" && state_now != "Disabled" {
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
                    set(&mut body, "RotationEnabled", json!(true));
                    set(&mut body, "RotationPeriodInDays", json!(days));
                    set(&mut body, "NextRotationMs", json!(now + days * 86_400_000));
                    effect.param("rotationPeriodInDays", json!(days));
                    json!({})
                }
                "DisableKeyRotation" => {
                    set(&mut body, "RotationEnabled", json!(false));
                    if let Some(obj) = body.as_object_mut() {
                        obj.remove("NextRotationMs");
                    }
                    json!({})
                }
                _ => {
                    let on_demand = body.get("Versions").and_then(Value::as_array).map_or(0, |v| {
                        v.iter()
                            .filter(|x| x.get("Type").and_then(Value::as_str) == Some("ON_DEMAND"))
                            .count()
                    });
                    if on_demand >= MAX_ON_DEMAND_ROTATIONS {
                        return Err(err("LimitExceededException", format!("A key can be rotated on demand at most {MAX_ON_DEMAND_ROTATIONS} times.")));
                    }
                    rotate(&state.root, &record, &mut body, now, "ON_DEMAND")?;
                    json!({ "KeyId": arn })
                }
            }
        }
        "GetKeyRotationStatus" => {
            changed = false;
            let enabled = body.get("RotationEnabled").and_then(Value::as_bool).unwrap_or(false);
            let mut out = json!({ "KeyRotationEnabled": enabled, "KeyId": arn });
            if enabled {
                set(
                    &mut out,
                    "RotationPeriodInDays",
                    body.get("RotationPeriodInDays").cloned().unwrap_or(Value::Null),
                );
                if let Some(n) = body.get("NextRotationMs").and_then(Value::as_i64) {
                    set(&mut out, "NextRotationDate", crate::support::time::epoch_seconds(n));
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
                .get("Versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|v| v.get("Type").and_then(Value::as_str) != Some("INITIAL"))
                .map(|v| {
                    json!({
                        "KeyId": arn,
                        "RotationDate": crate::support::time::epoch_seconds(v.get("CreatedMs").and_then(Value::as_i64).unwrap_or(0)),
                        "RotationType": v.get("Type").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect();
            paged("Rotations", page(&paging_of(input), rotations, 100)?)
        }
        "GetPublicKey" => {
            changed = false;
            let public = str_of(&body, "PublicKey");
            if public.is_empty() {
                return Err(err(
                    "UnsupportedOperationException",
                    format!("{arn} is not an asymmetric key."),
                ));
            }
            if state_now == "PendingDeletion" {
                return Err(invalid_state());
            }
            if state_now == "Disabled" {
                return Err(err("DisabledException", format!("{arn} is disabled.")));
            }
            let spec = str_of(&body, "KeySpec");
            let usage = str_of(&body, "KeyUsage");
            let (enc, sig, _) = algorithms(&spec, &usage);
            let mut out = json!({ "KeyId": arn, "PublicKey": public, "KeySpec": spec, "CustomerMasterKeySpec": spec, "KeyUsage": usage });
            if !enc.is_empty() {
                set(&mut out, "EncryptionAlgorithms", json!(enc));
            }
            if !sig.is_empty() {
                set(&mut out, "SigningAlgorithms", json!(sig));
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
        record.body = body;
        record.updated_at_ms = now;
        tx.put_record(&record, PutMode::Update)?;
        effect.tx = Some(tx);
    }
    Ok(response)
}

/// Adds a new backing version (rotation): new material, sealed; old versions stay for
/// decryption.
pub(crate) fn rotate(
    root: &dyn RootOfTrust,
    record: &Record,
    body: &mut Value,
    now: i64,
    kind: &str,
) -> Result<(), ApiError> {
    let next = current_version(body).unwrap_or(0) + 1;
    let mut bytes = vec![0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    let material = crypto::SecretBytes::new(bytes);
    let sealed = seal_material(root, &str_of(&record.body, "Arn"), next, material.expose())?;
    let mut versions = body.get("Versions").and_then(Value::as_array).cloned().unwrap_or_default();
    versions.push(json!({ "Version": next, "CreatedMs": now, "Sealed": sealed, "Type": kind }));
    set(body, "Versions", json!(versions));
    if body.get("RotationEnabled").and_then(Value::as_bool) == Some(true) {
        let days = body.get("RotationPeriodInDays").and_then(Value::as_i64).unwrap_or(365);
        set(body, "NextRotationMs", json!(now + days * 86_400_000));
    }
    Ok(())
}
