//! KMS (JSON 1.1, `X-Amz-Target: TrentService.*`): tenant keys whose material the operator can
//! never use. Key material is stored only sealed by the root of trust, bound to the key's ARN
//! and backing version; ciphertexts are `crypto::kms::blob`s naming account, key and version.
//!
//! Authorization is `policy::evaluate` with the key policy as the resource policy (it must
//! allow, directly or by delegating to the account's IAM policies), the KMS condition keys, and
//! grants as a further allow; the operator is refused every KMS operation before anything else.
//! Every call is audited with CloudTrail's KMS request parameters, never plaintext.

mod grants;
mod keys;
mod ops;

use crate::error::ApiError;
use crate::pipeline::authorize::{authorize, AuthzExtra};
use crate::pipeline::events::{self, RequestFacts};
use crate::pipeline::identity::{Caller, OPERATOR_ACCOUNT};
use crate::pipeline::State;
use base64::Engine;
use serde_json::{json, Map, Value};
use store::{Record, Tx};

/// The JSON target prefix of KMS operations.
pub const TARGET_PREFIX: &str = "TrentService.";

/// A KMS error (KMS answers 400 for all client errors).
pub(crate) fn err(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::sender(400, code, message)
}

pub(crate) fn db(_: store::StoreError) -> ApiError {
    ApiError::unavailable("the store is unavailable")
}

pub(crate) fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Seconds since the epoch as KMS's JSON dates (floating point seconds).
pub(crate) fn epoch(ms: i64) -> Value {
    // Millisecond precision survives the conversion to f64 for any realistic date.
    #[allow(clippy::cast_precision_loss)]
    let secs = ms as f64 / 1000.0;
    json!(secs)
}

/// A string member of the request.
pub(crate) fn text<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

/// A required string member.
pub(crate) fn required<'a>(input: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    text(input, name).filter(|v| !v.is_empty()).ok_or_else(|| {
        err("ValidationException", format!("1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"))
    })
}

/// A base64 blob member, decoded.
pub(crate) fn blob(input: &Value, name: &str) -> Result<Option<Vec<u8>>, ApiError> {
    match text(input, name) {
        None => Ok(None),
        Some(t) => b64()
            .decode(t)
            .map(Some)
            .map_err(|_| err("ValidationException", format!("{name} is not valid base64"))),
    }
}

/// An encryption context member: string to string, sorted by key.
pub(crate) fn context_of(input: &Value, name: &str) -> Result<Vec<(String, String)>, ApiError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => {
            let mut out = Vec::new();
            for (k, v) in map {
                let v = v.as_str().ok_or_else(|| {
                    err("ValidationException", format!("{name} values must be strings"))
                })?;
                out.push((k.clone(), v.to_string()));
            }
            out.sort();
            Ok(out)
        }
        Some(_) => Err(err("ValidationException", format!("{name} must be a map of strings"))),
    }
}

/// An encryption context as the JSON object CloudTrail records.
pub(crate) fn context_json(context: &[(String, String)]) -> Value {
    Value::Object(context.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// The key a `KeyId` names, and how it was named.
#[derive(Debug, Clone)]
pub(crate) struct KeyRef {
    /// The account that owns the key.
    pub account: String,
    /// The key id (UUID).
    pub key_id: String,
    /// The alias it was named by (`alias/...`), if any: `kms:RequestAlias`.
    pub alias: Option<String>,
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            if [8, 13, 18, 23].contains(&i) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

/// Resolves a `KeyId` (key id, key ARN, alias name or alias ARN) to a key.
pub(crate) fn resolve(
    tx: &mut dyn store::ReadTx,
    caller_account: &str,
    key_id: &str,
) -> Result<KeyRef, ApiError> {
    let not_found = || err("NotFoundException", format!("Key '{key_id}' does not exist"));
    let (account, rest) = match key_id.strip_prefix("arn:aws:kms:") {
        Some(arn) => {
            // REGION:ACCOUNT:key/ID or REGION:ACCOUNT:alias/NAME
            let mut parts = arn.splitn(3, ':');
            let (_region, account, resource) = (parts.next(), parts.next(), parts.next());
            match (account, resource) {
                (Some(a), Some(r)) => (a.to_string(), r.to_string()),
                _ => return Err(not_found()),
            }
        }
        None => (caller_account.to_string(), key_id.to_string()),
    };
    if let Some(id) =
        rest.strip_prefix("key/").or_else(|| Some(rest.as_str()).filter(|r| is_uuid(r)))
    {
        if !is_uuid(id) {
            return Err(not_found());
        }
        return Ok(KeyRef { account, key_id: id.to_ascii_lowercase(), alias: None });
    }
    if rest.starts_with("alias/") {
        let alias = tx.get_record(&account, "kms_alias", &rest).map_err(db)?.ok_or_else(|| {
            err(
                "NotFoundException",
                format!("Alias arn:aws:kms:us-east-1:{account}:{rest} is not found."),
            )
        })?;
        let target = alias.body.get("TargetKeyId").and_then(Value::as_str).unwrap_or_default();
        return Ok(KeyRef { account, key_id: target.to_string(), alias: Some(rest) });
    }
    Err(not_found())
}

/// A key's record; one that does not exist (or whose deletion date has passed) is
/// `NotFoundException`.
pub(crate) fn load(
    tx: &mut dyn store::ReadTx,
    key: &KeyRef,
    now_ms: i64,
) -> Result<Record, ApiError> {
    let record = tx.get_record(&key.account, "kms_key", &key.key_id).map_err(db)?;
    match record {
        Some(r) if !keys::deleted(&r.body, now_ms) => Ok(r),
        _ => Err(err(
            "NotFoundException",
            format!(
                "Key 'arn:aws:kms:us-east-1:{}:key/{}' does not exist",
                key.account, key.key_id
            ),
        )),
    }
}

/// What an operation needs besides the caller: the key it acts on and KMS condition keys.
#[derive(Default)]
pub(crate) struct Check<'a> {
    /// The key's record (its ARN, policy, tags).
    pub key: Option<&'a Record>,
    /// How the caller named it.
    pub key_ref: Option<&'a KeyRef>,
    /// Single-valued condition keys.
    pub context: Vec<(String, String)>,
    /// Multivalued condition keys.
    pub multi: Vec<(String, Vec<String>)>,
    /// The encryption context of the request (grants' constraints test it).
    pub encryption_context: Option<&'a [(String, String)]>,
}

/// Authorizes `kms:{operation}` for `caller`: on the key (its policy must allow; a grant can
/// allow too) or, for operations without a key, on `*` by identity policies.
pub(crate) fn check(
    state: &State,
    caller: &Caller,
    operation: &str,
    facts: &RequestFacts,
    check: &Check<'_>,
) -> Result<(), ApiError> {
    let action = format!("kms:{operation}");
    let mut context = check.context.clone();
    context.push(("kms:CallerAccount".into(), caller.account.clone()));
    let mut multi = check.multi.clone();
    if let Some(ec) = check.encryption_context {
        for (k, v) in ec {
            context.push((format!("kms:EncryptionContext:{k}"), v.clone()));
        }
        multi.push((
            "kms:EncryptionContextKeys".into(),
            ec.iter().map(|(k, _)| k.clone()).collect(),
        ));
    }
    let result = match check.key {
        None => authorize(
            state,
            caller,
            &action,
            "*",
            facts,
            &AuthzExtra { context, multi, ..AuthzExtra::default() },
        ),
        Some(key) => {
            let body = &key.body;
            let arn = body.get("Arn").and_then(Value::as_str).unwrap_or_default();
            context.push(("kms:KeySpec".into(), keys::str_of(body, "KeySpec")));
            context.push(("kms:KeyUsage".into(), keys::str_of(body, "KeyUsage")));
            context.push(("kms:KeyOrigin".into(), keys::str_of(body, "Origin")));
            if let Some(alias) = check.key_ref.and_then(|k| k.alias.as_ref()) {
                context.push(("kms:RequestAlias".into(), alias.clone()));
            }
            multi.push(("kms:ResourceAliases".into(), keys::aliases_of(body)));
            for (k, v) in keys::tags_of(body) {
                context.push((format!("aws:ResourceTag/{k}"), v));
            }
            let grant = || grants::allows(state, caller, key, operation, check.encryption_context);
            let policy = keys::str_of(body, "Policy");
            authorize(
                state,
                caller,
                &action,
                arn,
                facts,
                &AuthzExtra {
                    resource_account: Some(&key.account),
                    resource_policy: Some(&policy),
                    context,
                    multi,
                    granted: Some(&grant),
                },
            )
        }
    };
    // KMS names its refusal AccessDeniedException (400).
    result.map_err(|e| {
        if e.code == "AccessDenied" {
            err("AccessDeniedException", e.message)
        } else {
            e
        }
    })
}

/// Handles one KMS operation: the effect and its event commit together (reads and refusals
/// through the group commit), in the caller's log and, across accounts, the key owner's.
pub fn handle(
    state: &State,
    caller: &Caller,
    operation: &str,
    input: &Value,
    facts: &mut RequestFacts,
    pending: &mut Vec<(String, audit::event::EventRecord)>,
) -> Result<Value, ApiError> {
    facts.read_only = ops::READ_ONLY.contains(&operation) || keys::READ_ONLY.contains(&operation);
    let mut outcome = Outcome::default();
    let result = if caller.account == OPERATOR_ACCOUNT {
        // The operator is denied every key operation, always.
        Err(err(
            "AccessDeniedException",
            format!("User: {} is not authorized to perform: kms:{operation} with an explicit deny in the Hermetic operator guardrail", caller.arn),
        ))
    } else {
        run(state, caller, operation, input, facts, &mut outcome)
    };
    let mut request_parameters = outcome.request_parameters.take().unwrap_or_default();
    if request_parameters.is_empty() {
        for name in ["keyId", "KeyId"] {
            if let Some(v) = text(input, name) {
                request_parameters.insert("keyId".into(), Value::String(v.to_string()));
            }
        }
    }
    let mut logs = vec![caller.account.clone()];
    if let Some(owner) = &outcome.key_account {
        if owner != &caller.account {
            logs.push(owner.clone());
        }
    }
    // Audit heads are locked in account order in every transaction (`events::append`).
    logs.sort();
    let resources = outcome.key_arn.as_ref().map(|arn| {
        vec![audit::event::Resource {
            account_id: outcome.key_account.clone(),
            resource_type: Some("AWS::KMS::Key".into()),
            arn: Some(arn.clone()),
        }]
    });
    let error = result.as_ref().err();
    let mut tx = outcome.tx.take();
    for log in logs {
        let mut event = events::event(
            facts,
            Some(caller),
            &log,
            Some(Value::Object(request_parameters.clone())),
            outcome.response_elements.clone(),
            error,
        )?;
        event.resources = resources.clone();
        match (&mut tx, error) {
            (Some(t), None) => {
                events::append(t.as_mut(), &log, &event)?;
            }
            _ => pending.push((log, event)),
        }
    }
    if let (Some(t), None) = (tx, error) {
        t.commit().map_err(|_| ApiError::unavailable("the change could not be committed"))?;
    }
    result
}

/// What an operation leaves for its audit event: the transaction holding its effect (for
/// mutations), the key it touched, and CloudTrail's request parameters.
#[derive(Default)]
pub(crate) struct Outcome<'s> {
    pub tx: Option<Box<dyn Tx + 's>>,
    pub key_account: Option<String>,
    pub key_arn: Option<String>,
    pub request_parameters: Option<Map<String, Value>>,
    pub response_elements: Option<Value>,
}

impl Outcome<'_> {
    /// Records the key for the event.
    pub fn key(&mut self, record: &Record) {
        self.key_account = Some(record.account.clone());
        self.key_arn = record.body.get("Arn").and_then(Value::as_str).map(str::to_string);
    }

    /// Sets a request parameter of the event.
    pub fn param(&mut self, name: &str, value: Value) {
        self.request_parameters.get_or_insert_with(Map::new).insert(name.into(), value);
    }
}

fn run<'s>(
    state: &'s State,
    caller: &Caller,
    operation: &str,
    input: &Value,
    facts: &RequestFacts,
    outcome: &mut Outcome<'s>,
) -> Result<Value, ApiError> {
    if let Some(result) = keys::handle(state, caller, operation, input, facts, outcome) {
        return result;
    }
    if let Some(result) = ops::handle(state, caller, operation, input, facts, outcome) {
        return result;
    }
    if let Some(result) = grants::handle(state, caller, operation, input, facts, outcome) {
        return result;
    }
    Err(err(
        "UnsupportedOperationException",
        format!("The operation {operation} is not supported."),
    ))
}

/// Automatic rotation: every key with rotation enabled whose next rotation date has passed
/// gets a new backing version, each in a transaction with its `RotateKey` event (invoked by
/// `kms.amazonaws.com`, as CloudTrail records it). Returns how many keys were rotated.
pub fn rotate_due(state: &State, now_ms: i64) -> Result<usize, ApiError> {
    let mut rotated = 0;
    let mut after: Option<String> = None;
    loop {
        let page = {
            let mut tx = state.store.read().map_err(db)?;
            tx.list_accounts(after.as_deref(), 500).map_err(db)?
        };
        for account in &page.items {
            let due: Vec<String> = {
                let mut tx = state.store.read().map_err(db)?;
                crate::services::iam::records(tx.as_mut(), &account.id, "kms_key", "", 1_000_000)?
                    .iter()
                    .filter(|r| {
                        r.body.get("RotationEnabled").and_then(Value::as_bool) == Some(true)
                    })
                    .filter(|r| {
                        r.body
                            .get("NextRotationMs")
                            .and_then(Value::as_i64)
                            .is_some_and(|n| n <= now_ms)
                    })
                    .map(|r| r.key.clone())
                    .collect()
            };
            for key_id in due {
                let mut tx = state.store.begin().map_err(db)?;
                let Some(mut record) =
                    tx.get_record_for_update(&account.id, "kms_key", &key_id).map_err(db)?
                else {
                    continue;
                };
                let still_due = record
                    .body
                    .get("NextRotationMs")
                    .and_then(Value::as_i64)
                    .is_some_and(|n| n <= now_ms)
                    && matches!(
                        keys::str_of(&record.body, "KeyState").as_str(),
                        "Enabled" | "Disabled"
                    );
                if !still_due {
                    continue;
                }
                let mut body = record.body.clone();
                keys::rotate(&state.root, &record, &mut body, now_ms, "AUTOMATIC")?;
                record.body = body;
                record.updated_at_ms = now_ms;
                tx.put_record(&record, store::PutMode::Update).map_err(db)?;
                let facts = RequestFacts {
                    request_id: crate::support::ids::uuid(),
                    event_source: "kms.amazonaws.com".into(),
                    event_name: "RotateKey".into(),
                    region: "us-east-1".into(),
                    source_ip: "kms.amazonaws.com".into(),
                    time_ms: now_ms,
                    ..RequestFacts::default()
                };
                let mut event = events::event(&facts, None, &account.id, None, None, None)?;
                event.user_identity.identity_type = audit::event::IdentityType::AwsService;
                event.user_identity.invoked_by = Some("kms.amazonaws.com".into());
                event.resources = Some(vec![audit::event::Resource {
                    account_id: Some(account.id.clone()),
                    resource_type: Some("AWS::KMS::Key".into()),
                    arn: Some(keys::str_of(&record.body, "Arn")),
                }]);
                events::append(tx.as_mut(), &account.id, &event)?;
                tx.commit()
                    .map_err(|_| ApiError::unavailable("the rotation could not be committed"))?;
                rotated += 1;
            }
        }
        match (page.truncated, page.items.last()) {
            (true, Some(last)) => after = Some(last.id.clone()),
            _ => return Ok(rotated),
        }
    }
}

/// The alias of each account's default key for S3 (AWS's managed key `aws/s3`).
pub const S3_DEFAULT_ALIAS: &str = "alias/aws/s3";

/// The ARN of the account's default S3 key, created (with AWS's managed-key policy: usable by
/// any principal of the account through S3 only) the first time it is needed.
pub fn s3_default_key(
    state: &State,
    account: &str,
    region: &str,
    now_ms: i64,
) -> Result<String, ApiError> {
    {
        let mut tx = state.store.read().map_err(db)?;
        if let Some(alias) = tx.get_record(account, "kms_alias", S3_DEFAULT_ALIAS).map_err(db)? {
            let id = keys::str_of(&alias.body, "TargetKeyId");
            return Ok(format!("arn:aws:kms:{region}:{account}:key/{id}"));
        }
    }
    let key_id = crate::support::ids::uuid();
    let arn = format!("arn:aws:kms:{region}:{account}:key/{key_id}");
    let policy = json!({
        "Version": "2012-10-17",
        "Id": "auto-s3-2",
        "Statement": [
            {
                "Sid": "Allow access through S3 for all principals in the account that are authorized to use S3",
                "Effect": "Allow", "Principal": { "AWS": "*" },
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": { "StringEquals": {
                    "kms:CallerAccount": account, "kms:ViaService": format!("s3.{region}.amazonaws.com"),
                } },
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow", "Principal": { "AWS": format!("arn:aws:iam::{account}:root") },
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"], "Resource": "*",
            },
        ],
    })
    .to_string();
    let mut material = vec![0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut material);
    let sealed = keys::seal_material(&state.root, &arn, 1, &material)?;
    let record = Record {
        account: account.to_string(),
        kind: "kms_key".into(),
        key: key_id.clone(),
        format_version: 1,
        body: json!({
            "KeyId": key_id, "Arn": arn, "CreationDate": epoch(now_ms), "CreationMs": now_ms,
            "Description": "Default key that protects my S3 objects when no other key is defined",
            "KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT", "Origin": "AWS_KMS",
            "KeyManager": "AWS", "KeyState": "Enabled", "Policy": policy,
            "Versions": [{ "Version": 1, "CreatedMs": now_ms, "Sealed": sealed, "Type": "INITIAL" }],
            "Aliases": [S3_DEFAULT_ALIAS], "Tags": [],
        }),
        updated_at_ms: now_ms,
    };
    let alias = Record {
        account: account.to_string(),
        kind: "kms_alias".into(),
        key: S3_DEFAULT_ALIAS.into(),
        format_version: 1,
        body: json!({
            "AliasName": S3_DEFAULT_ALIAS, "AliasArn": format!("arn:aws:kms:{region}:{account}:{S3_DEFAULT_ALIAS}"),
            "TargetKeyId": key_id, "CreationDate": epoch(now_ms), "LastUpdatedDate": epoch(now_ms),
        }),
        updated_at_ms: now_ms,
    };
    let mut tx = state.store.begin().map_err(db)?;
    match tx.put_record(&alias, store::PutMode::Create) {
        Ok(()) => {}
        // Another request created it meanwhile: use that one.
        Err(store::StoreError::AlreadyExists) => {
            drop(tx);
            return s3_default_key(state, account, region, now_ms);
        }
        Err(e) => return Err(db(e)),
    }
    tx.put_record(&record, store::PutMode::Create).map_err(db)?;
    let facts = RequestFacts {
        request_id: crate::support::ids::uuid(),
        event_source: "kms.amazonaws.com".into(),
        event_name: "CreateKey".into(),
        region: region.to_string(),
        source_ip: "s3.amazonaws.com".into(),
        time_ms: now_ms,
        ..RequestFacts::default()
    };
    let mut event = events::event(&facts, None, account, None, None, None)?;
    event.user_identity.identity_type = audit::event::IdentityType::AwsService;
    event.user_identity.invoked_by = Some("s3.amazonaws.com".into());
    events::append(tx.as_mut(), account, &event)?;
    tx.commit().map_err(|_| ApiError::unavailable("the default S3 key could not be created"))?;
    Ok(arn)
}

/// S3 calling KMS as the caller (a forward access session): a data key for an object under
/// `key_id`, authorized as `kms:GenerateDataKey` with `kms:ViaService`. Returns (plaintext data
/// key, its KMS ciphertext, the key's ARN).
pub fn data_key_for(
    state: &State,
    caller: &Caller,
    key_id: &str,
    context: &[(String, String)],
    via_service: &str,
    facts: &RequestFacts,
) -> Result<(crypto::SecretBytes, Vec<u8>, String), ApiError> {
    let mut outcome = Outcome::default();
    let (key_ref, record) = ops::use_key(state, caller, key_id, facts.time_ms, &mut outcome)?;
    keys::usable(&record, facts.time_ms)?;
    let extra = Check {
        key: Some(&record),
        key_ref: Some(&key_ref),
        context: vec![("kms:ViaService".into(), via_service.to_string())],
        encryption_context: Some(context),
        ..Check::default()
    };
    check(state, caller, "GenerateDataKey", facts, &extra)?;
    let data_key = crypto::object::new_data_key();
    let wrapped = ops::seal_with(state, &record, context, data_key.expose())?;
    Ok((data_key, wrapped, keys::str_of(&record.body, "Arn")))
}

/// S3 calling KMS as the caller to open an object's data key (`kms:Decrypt` with
/// `kms:ViaService`).
pub fn decrypt_for(
    state: &State,
    caller: &Caller,
    wrapped: &[u8],
    context: &[(String, String)],
    via_service: &str,
    facts: &RequestFacts,
) -> Result<crypto::SecretBytes, ApiError> {
    let invalid = || ApiError::internal("an object's data key cannot be opened");
    let header = crypto::kms::blob::parse_header(wrapped).map_err(|_| invalid())?;
    let key_ref =
        KeyRef { account: header.account.clone(), key_id: header.key_id.clone(), alias: None };
    let mut tx = state.store.read().map_err(db)?;
    let record = load(tx.as_mut(), &key_ref, facts.time_ms)?;
    drop(tx);
    keys::usable(&record, facts.time_ms)?;
    let extra = Check {
        key: Some(&record),
        key_ref: Some(&key_ref),
        context: vec![("kms:ViaService".into(), via_service.to_string())],
        encryption_context: Some(context),
        ..Check::default()
    };
    check(state, caller, "Decrypt", facts, &extra)?;
    let material = keys::material(&state.root, &record, header.version)?;
    crypto::kms::blob::open(&material, wrapped, context).map_err(|_| invalid())
}
