//! KMS (JSON 1.1, `X-Amz-Target: TrentService.*`): tenant keys whose material the operator can
//! never use. Key material is stored only sealed by the root of trust, bound to the key's ARN
//! and backing version; ciphertexts are `crypto::kms::blob`s naming account, key and version.
//!
//! Authorization is `policy::evaluate` with the key policy as the resource policy (it must
//! allow, directly or by delegating to the account's IAM policies), the KMS condition keys, and
//! grants as a further allow; the operator is refused every KMS operation before anything else.
//! Every call is audited with CloudTrail's KMS request parameters, never plaintext.

mod aliases;
mod checks;
mod grants;
mod input;
mod keys;
mod ops;

use crate::error::ApiError;
use crate::pipeline::events::{self, RequestFacts};
use crate::pipeline::identity::Caller;
use crate::pipeline::service::{
    operations, Authorization, Check, Ctx, Effect, Named, Request, Service, ServiceCall, Unrouted,
};
use crate::pipeline::{Reply, State};

use crate::records::kms::{
    Alias, Key, KeyManager, KeyState, KeyUsage, KeyVersion, Origin, VersionType,
};
use crate::records::Stored;
use serde_json::{json, Map, Value};

/// A key as stored.
pub(crate) type KeyRecord = Stored<Key>;

/// The JSON target prefix of KMS operations.
pub const TARGET_PREFIX: &str = "TrentService.";

/// A KMS error (KMS answers 400 for all client errors).
pub(crate) fn err(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::sender(400, code, message)
}

pub(crate) fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
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
        let alias = Stored::<Alias>::get(tx, &account, &rest)?.ok_or_else(|| {
            err(
                "NotFoundException",
                format!("Alias arn:aws:kms:us-east-1:{account}:{rest} is not found."),
            )
        })?;
        return Ok(KeyRef { account, key_id: alias.body.target_key_id, alias: Some(rest) });
    }
    Err(not_found())
}

/// A key's record; one that does not exist (or whose deletion date has passed) is
/// `NotFoundException`.
pub(crate) fn load(
    tx: &mut dyn store::ReadTx,
    key: &KeyRef,
    now_ms: i64,
) -> Result<KeyRecord, ApiError> {
    let record = KeyRecord::get(tx, &key.account, &key.key_id)?;
    match record {
        Some(r) if !r.body.deleted(now_ms) => Ok(r),
        _ => Err(err(
            "NotFoundException",
            format!(
                "Key 'arn:aws:kms:us-east-1:{}:key/{}' does not exist",
                key.account, key.key_id
            ),
        )),
    }
}

/// The check of `kms:{operation}` on a key: its policy as the resource policy (it must allow,
/// directly or by delegating to the account's IAM policies), its grants as a further allow,
/// and the KMS condition keys (the key's spec, usage, origin, aliases and tags, how the caller
/// named it, and the request's encryption context).
pub(crate) fn key_check(
    caller: &Caller,
    operation: &str,
    key: &KeyRecord,
    key_ref: &KeyRef,
    mut context: Vec<(String, String)>,
    encryption_context: Option<&[(String, String)]>,
) -> Check {
    let body = &key.body;
    let mut multi = Vec::new();
    add_request_keys(caller, &mut context, &mut multi, encryption_context);
    context.push(("kms:KeySpec".into(), body.key_spec.clone()));
    context.push(("kms:KeyUsage".into(), body.key_usage.as_str().to_string()));
    context.push(("kms:KeyOrigin".into(), body.origin.as_str().to_string()));
    if let Some(alias) = &key_ref.alias {
        context.push(("kms:RequestAlias".into(), alias.clone()));
    }
    multi.push(("kms:ResourceAliases".into(), body.aliases.clone()));
    for t in &body.tags {
        context.push((format!("aws:ResourceTag/{}", t.tag_key), t.tag_value.clone()));
    }
    let (account, key_id, op) = (key.account.clone(), key.key.clone(), operation.to_string());
    let ec = encryption_context.map(<[(String, String)]>::to_vec);
    Check {
        owner: Some(key.account.clone()),
        resource_policy: Some(body.policy.clone()),
        context,
        multi,
        granted: Some(Box::new(move |ctx| {
            grants::allows(ctx, &account, &key_id, &op, ec.as_deref())
        })),
        ..Check::new(format!("kms:{operation}"), body.arn.clone())
    }
}

/// The check of `kms:{operation}` on no key (`*`), by the caller's identity policies.
pub(crate) fn plain_check(
    caller: &Caller,
    operation: &str,
    mut context: Vec<(String, String)>,
    mut multi: Vec<(String, Vec<String>)>,
) -> Check {
    add_request_keys(caller, &mut context, &mut multi, None);
    Check { context, multi, ..Check::new(format!("kms:{operation}"), "*") }
}

fn add_request_keys(
    caller: &Caller,
    context: &mut Vec<(String, String)>,
    multi: &mut Vec<(String, Vec<String>)>,
    encryption_context: Option<&[(String, String)]>,
) {
    context.push(("kms:CallerAccount".into(), caller.account.clone()));
    if let Some(ec) = encryption_context {
        for (k, v) in ec {
            context.push((format!("kms:EncryptionContext:{k}"), v.clone()));
        }
        multi.push((
            "kms:EncryptionContextKeys".into(),
            ec.iter().map(|(k, _)| k.clone()).collect(),
        ));
    }
}

operations! {
    /// KMS's operations served here.
    KmsOperation {
        CancelKeyDeletion => "kms:CancelKeyDeletion", Write;
        CreateAlias => "kms:CreateAlias", Write;
        CreateGrant => "kms:CreateGrant", Write;
        CreateKey => "kms:CreateKey", Write;
        Decrypt => "kms:Decrypt", Read;
        DeleteAlias => "kms:DeleteAlias", Write;
        DeleteImportedKeyMaterial => "kms:DeleteImportedKeyMaterial", Write;
        DescribeKey => "kms:DescribeKey", Read;
        DisableKey => "kms:DisableKey", Write;
        DisableKeyRotation => "kms:DisableKeyRotation", Write;
        EnableKey => "kms:EnableKey", Write;
        EnableKeyRotation => "kms:EnableKeyRotation", Write;
        Encrypt => "kms:Encrypt", Read;
        GenerateDataKey => "kms:GenerateDataKey", Read;
        GenerateDataKeyPair => "kms:GenerateDataKeyPair", Read;
        GenerateDataKeyPairWithoutPlaintext => "kms:GenerateDataKeyPairWithoutPlaintext", Read;
        GenerateDataKeyWithoutPlaintext => "kms:GenerateDataKeyWithoutPlaintext", Read;
        GenerateMac => "kms:GenerateMac", Read;
        GenerateRandom => "kms:GenerateRandom", Read;
        GetKeyPolicy => "kms:GetKeyPolicy", Read;
        GetKeyRotationStatus => "kms:GetKeyRotationStatus", Read;
        GetParametersForImport => "kms:GetParametersForImport", Write;
        DeriveSharedSecret => "kms:DeriveSharedSecret", Read;
        GetPublicKey => "kms:GetPublicKey", Read;
        ImportKeyMaterial => "kms:ImportKeyMaterial", Write;
        ListAliases => "kms:ListAliases", Read;
        ListGrants => "kms:ListGrants", Read;
        ListKeyPolicies => "kms:ListKeyPolicies", Read;
        ListKeyRotations => "kms:ListKeyRotations", Read;
        ListKeys => "kms:ListKeys", Read;
        ListResourceTags => "kms:ListResourceTags", Read;
        ListRetirableGrants => "kms:ListRetirableGrants", Read;
        PutKeyPolicy => "kms:PutKeyPolicy", Write;
        ReEncrypt => "kms:ReEncrypt", Read;
        RetireGrant => "kms:RetireGrant", Write;
        RevokeGrant => "kms:RevokeGrant", Write;
        RotateKeyOnDemand => "kms:RotateKeyOnDemand", Write;
        ScheduleKeyDeletion => "kms:ScheduleKeyDeletion", Write;
        Sign => "kms:Sign", Read;
        TagResource => "kms:TagResource", Write;
        UntagResource => "kms:UntagResource", Write;
        UpdateAlias => "kms:UpdateAlias", Write;
        UpdateKeyDescription => "kms:UpdateKeyDescription", Write;
        Verify => "kms:Verify", Read;
        VerifyMac => "kms:VerifyMac", Read;
    }
}

/// KMS (JSON 1.1).
pub(crate) struct Kms;

/// A KMS call: the operation, its typed input, and the keys authorizing it found.
pub(crate) struct Call {
    pub operation: KmsOperation,
    pub input: input::Input,
    /// The keys the checks were about (read on a snapshot), in the order they were found:
    /// the key `KeyId` names; for `ReEncrypt` the source, then the destination; for aliases
    /// the alias's keys.
    pub keys: Vec<(KeyRef, KeyRecord)>,
}

impl Call {
    /// The `n`th key authorization found.
    pub fn key(&self, n: usize) -> Result<&(KeyRef, KeyRecord), ApiError> {
        self.keys.get(n).ok_or_else(|| ApiError::internal("the key was not authorized"))
    }
}

impl Service for Kms {
    type Operation = KmsOperation;
    type Call = Call;
    const EVENT_SOURCE: &'static str = "kms.amazonaws.com";
    /// The operator is denied every key operation, always.
    const TENANT_ONLY: bool = true;
    const SHARES_READS: bool = true;

    fn route(req: &Request<'_>) -> Result<Call, Unrouted<KmsOperation>> {
        let target = req.target.unwrap_or_default();
        let name = target.strip_prefix(TARGET_PREFIX).unwrap_or(target);
        let operation = KmsOperation::from_name(name).ok_or_else(|| {
            Unrouted::unknown(err(
                "UnsupportedOperationException",
                format!("The operation {name} is not supported."),
            ))
        })?;
        let input = req
            .json()
            .and_then(|body| input::Input::parse(operation, &body))
            .map_err(|e| Unrouted::input(operation, e))?;
        Ok(Call { operation, input, keys: Vec::new() })
    }

    fn operation(call: &Call) -> KmsOperation {
        call.operation
    }

    /// A key named by its ARN names its account; a ciphertext names the key that made it.
    fn named(_: &Request<'_>, call: Option<&Call>) -> Vec<Named> {
        let Some(call) = call else { return Vec::new() };
        let mut accounts: Vec<String> = call
            .input
            .key_names()
            .into_iter()
            .filter_map(|id| id.strip_prefix("arn:aws:kms:"))
            .filter_map(|arn| arn.split(':').nth(1))
            .map(str::to_string)
            .collect();
        if let Some(header) =
            call.input.ciphertext().and_then(|c| crypto::kms::blob::parse_header(c).ok())
        {
            accounts.push(header.account);
        }
        accounts.into_iter().map(Named::Account).collect()
    }

    fn parameters(_: &Request<'_>, call: &Call) -> Option<Value> {
        let mut params = Map::new();
        if let Some(v) = call.input.key_id() {
            params.insert("keyId".into(), Value::String(v.to_string()));
        }
        Some(Value::Object(params))
    }

    /// The key the call acts on (for `ReEncrypt`, the destination).
    fn resources(call: &Call) -> Vec<audit::event::Resource> {
        call.keys
            .last()
            .map(|(_, record)| {
                vec![audit::event::Resource {
                    account_id: Some(record.account.clone()),
                    resource_type: Some("AWS::KMS::Key".into()),
                    arn: Some(record.body.arn.clone()),
                }]
            })
            .unwrap_or_default()
    }

    fn authorization(
        ctx: &Ctx<'_>,
        _: &Request<'_>,
        call: &mut Call,
    ) -> Result<Authorization, ApiError> {
        checks::authorization(ctx, call)
    }

    fn execute<'s>(
        ctx: &Ctx<'s>,
        _: &Request<'_>,
        call: Call,
        effect: &mut Effect<'s>,
    ) -> Result<Reply, ApiError> {
        use KmsOperation as K;
        let value = match call.operation {
            K::Encrypt
            | K::Decrypt
            | K::ReEncrypt
            | K::GenerateDataKey
            | K::GenerateDataKeyWithoutPlaintext
            | K::GenerateDataKeyPair
            | K::GenerateDataKeyPairWithoutPlaintext
            | K::GenerateRandom
            | K::Sign
            | K::Verify
            | K::DeriveSharedSecret
            | K::GenerateMac
            | K::VerifyMac => ops::run(ctx, &call, effect),
            K::CreateGrant
            | K::ListGrants
            | K::ListRetirableGrants
            | K::RetireGrant
            | K::RevokeGrant => grants::run(ctx, &call, effect),
            _ => keys::run(ctx, &call, effect),
        }?;
        Ok(Reply::json(&value))
    }

    /// KMS names its refusal `AccessDeniedException` (400).
    fn refusal(e: ApiError) -> ApiError {
        e.denied_as_exception(400)
    }
}

/// Automatic rotation: every key with rotation enabled whose next rotation date has passed
/// gets a new backing version, each in a transaction with its `RotateKey` event (invoked by
/// `kms.amazonaws.com`, as CloudTrail records it). Returns how many keys were rotated.
pub fn rotate_due(state: &State, now_ms: i64) -> Result<usize, ApiError> {
    let mut rotated = 0;
    let accounts = {
        let mut tx = state.store.read()?;
        crate::checkpoints::accounts(tx.as_mut())?
    };
    // The operator realm has no KMS keys.
    for account in
        accounts.iter().filter(|a| a.as_str() != crate::pipeline::identity::OPERATOR_ACCOUNT)
    {
        let due: Vec<String> = {
            let mut tx = state.store.read()?;
            KeyRecord::list(tx.as_mut(), account, "", 1_000_000)?
                .iter()
                .filter(|r| r.body.rotation_enabled == Some(true))
                .filter(|r| r.body.next_rotation_ms.is_some_and(|n| n <= now_ms))
                .map(|r| r.key.clone())
                .collect()
        };
        for key_id in due {
            let mut tx = state.store.begin()?;
            let Some(mut record) = KeyRecord::get_for_update(tx.as_mut(), account, &key_id)? else {
                continue;
            };
            let still_due = record.body.next_rotation_ms.is_some_and(|n| n <= now_ms)
                && matches!(record.body.key_state, KeyState::Enabled | KeyState::Disabled);
            if !still_due {
                continue;
            }
            keys::rotate(&state.root, &mut record.body, now_ms, VersionType::Automatic)?;
            record.updated_at_ms = now_ms;
            record.put(tx.as_mut(), store::PutMode::Update)?;
            let facts = RequestFacts {
                request_id: crate::support::ids::uuid(),
                event_source: "kms.amazonaws.com".into(),
                event_name: "RotateKey".into(),
                region: "us-east-1".into(),
                source_ip: "kms.amazonaws.com".into(),
                time_ms: now_ms,
                ..RequestFacts::default()
            };
            let mut event = events::event(&facts, None, account, None, None, None)?;
            event.user_identity.identity_type = audit::event::IdentityType::AwsService;
            event.user_identity.invoked_by = Some("kms.amazonaws.com".into());
            event.resources = Some(vec![audit::event::Resource {
                account_id: Some(account.clone()),
                resource_type: Some("AWS::KMS::Key".into()),
                arn: Some(record.body.arn.clone()),
            }]);
            events::append(tx.as_mut(), account, &event)?;
            tx.commit()
                .map_err(|_| ApiError::unavailable("the rotation could not be committed"))?;
            rotated += 1;
        }
    }
    Ok(rotated)
}

/// SSE-S3: a data key wrapped under the bucket owner's `aws/s3` key, opened by S3 itself once S3
/// has authorized the read. AWS's SSE-S3 asks no KMS permission of the reader (anonymous and
/// other accounts' readers a bucket policy admits read it); any key but the owner's `aws/s3`
/// is refused here, so this opens nothing a caller could not read through S3 anyway.
pub(crate) fn decrypt_as_s3(
    ctx: &Ctx<'_>,
    wrapped: &[u8],
    context: &[(String, String)],
    owner: &str,
) -> Result<crypto::SecretBytes, ApiError> {
    let invalid = || ApiError::internal("an object's data key cannot be opened");
    let header = crypto::kms::blob::parse_header(wrapped).map_err(|_| invalid())?;
    let mut tx = ctx.state.store.read()?;
    let s3_key = Stored::<Alias>::get(tx.as_mut(), owner, S3_DEFAULT_ALIAS)?
        .map(|a| a.body.target_key_id)
        .ok_or_else(invalid)?;
    if header.account != owner || header.key_id != s3_key {
        return Err(invalid());
    }
    let key_ref =
        KeyRef { account: header.account.clone(), key_id: header.key_id.clone(), alias: None };
    let record = load(tx.as_mut(), &key_ref, ctx.now())?;
    drop(tx);
    keys::usable(&record, ctx.now())?;
    let material = keys::material(&ctx.state.root, &record, header.version)?;
    crypto::kms::blob::open(&material, wrapped, context).map_err(|_| invalid())
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
        let mut tx = state.store.read()?;
        if let Some(alias) = Stored::<Alias>::get(tx.as_mut(), account, S3_DEFAULT_ALIAS)? {
            let id = alias.body.target_key_id;
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
    let created = crate::support::time::epoch_seconds_f64(now_ms);
    let key = Key {
        key_id: key_id.clone(),
        arn: arn.clone(),
        creation_date: created,
        creation_ms: now_ms,
        description: "Default key that protects my S3 objects when no other key is defined".into(),
        key_usage: KeyUsage::EncryptDecrypt,
        key_spec: "SYMMETRIC_DEFAULT".into(),
        origin: Origin::AwsKms,
        key_manager: Some(KeyManager::Aws),
        key_state: KeyState::Enabled,
        policy,
        versions: vec![KeyVersion {
            version: 1,
            created_ms: now_ms,
            sealed,
            kind: VersionType::Initial,
        }],
        aliases: vec![S3_DEFAULT_ALIAS.into()],
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
    let record = KeyRecord::new(account, &key_id, key, now_ms);
    let alias = Stored::new(
        account,
        S3_DEFAULT_ALIAS,
        Alias {
            alias_name: S3_DEFAULT_ALIAS.into(),
            alias_arn: format!("arn:aws:kms:{region}:{account}:{S3_DEFAULT_ALIAS}"),
            target_key_id: key_id,
            creation_date: created,
            last_updated_date: created,
        },
        now_ms,
    );
    let mut tx = state.store.begin()?;
    match alias.put(tx.as_mut(), store::PutMode::Create) {
        Ok(()) => {}
        // Another request created it meanwhile: use that one.
        Err(crate::records::PutError::Store(store::StoreError::AlreadyExists)) => {
            drop(tx);
            return s3_default_key(state, account, region, now_ms);
        }
        Err(e) => return Err(e.into()),
    }
    record.put(tx.as_mut(), store::PutMode::Create)?;
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

/// A KMS key S3 may use for the caller in this request: the caller was authorized for one
/// operation through S3 (`kms:ViaService`) with one encryption context, and the key found
/// usable. Only the cryptography of that operation remains ([`generate_authorized`],
/// [`decrypt_authorized`]); what S3 keeps of such work (`services::s3::bucket_keys`) it may
/// use only once it holds this.
pub(crate) struct Authorized {
    /// The key's record, as authorization read it.
    record: KeyRecord,
    /// The encryption context the caller was authorized with.
    context: Vec<(String, String)>,
    /// For `kms:Decrypt`: the ciphertext the caller may open, and the key version it names.
    ciphertext: Option<(Vec<u8>, u32)>,
}

impl Authorized {
    /// The key's ARN.
    pub fn arn(&self) -> &str {
        &self.record.body.arn
    }
}

/// S3 authorizing the caller (a forward access session) for `kms:GenerateDataKey` on
/// `key_id`, with `kms:ViaService` = `via_service` and encryption context `context`, through
/// the pipeline's evaluator (the key's owner's log gets the request's event); the key must be
/// usable. Nothing is generated yet: see [`generate_authorized`].
pub(crate) fn authorize_generate(
    ctx: &Ctx<'_>,
    key_id: &str,
    context: &[(String, String)],
    via_service: &str,
) -> Result<Authorized, ApiError> {
    let (key_ref, record) = checks::read_key(ctx, key_id)?;
    keys::usable(&record, ctx.now())?;
    let via = vec![("kms:ViaService".into(), via_service.to_string())];
    let check = key_check(ctx.caller, "GenerateDataKey", &record, &key_ref, via, Some(context));
    ctx.authorize(&check).map_err(|e| e.denied_as_exception(400))?;
    Ok(Authorized { record, context: context.to_vec(), ciphertext: None })
}

/// A fresh 256-bit data key under an [`Authorized`] key, sealed with the encryption context
/// it was authorized with: (plaintext, KMS ciphertext). Recorded as the caller's
/// `GenerateDataKey` invoked by S3.
pub(crate) fn generate_authorized(
    ctx: &Ctx<'_>,
    key: &Authorized,
) -> Result<(crypto::SecretBytes, Vec<u8>), ApiError> {
    let data_key = crypto::object::new_data_key();
    let wrapped = ops::seal_with(ctx.state, &key.record, &key.context, data_key.expose())?;
    record_s3_call(ctx, "GenerateDataKey", &key.record, &key.context);
    Ok((data_key, wrapped))
}

/// S3 authorizing the caller (a forward access session) for `kms:Decrypt` of `wrapped` (a
/// ciphertext KMS made) with `kms:ViaService` = `via_service` and encryption context
/// `context`, through the pipeline's evaluator; the key that made it must exist, be usable and
/// have the version it names. Nothing is opened yet: see [`decrypt_authorized`].
pub(crate) fn authorize_decrypt(
    ctx: &Ctx<'_>,
    wrapped: &[u8],
    context: &[(String, String)],
    via_service: &str,
) -> Result<Authorized, ApiError> {
    let invalid = || ApiError::internal("an object's data key cannot be opened");
    let header = crypto::kms::blob::parse_header(wrapped).map_err(|_| invalid())?;
    let key_ref =
        KeyRef { account: header.account.clone(), key_id: header.key_id.clone(), alias: None };
    ctx.touch(&key_ref.account);
    let mut tx = ctx.state.store.read()?;
    let record = load(tx.as_mut(), &key_ref, ctx.now())?;
    drop(tx);
    keys::usable(&record, ctx.now())?;
    let via = vec![("kms:ViaService".into(), via_service.to_string())];
    let check = key_check(ctx.caller, "Decrypt", &record, &key_ref, via, Some(context));
    ctx.authorize(&check).map_err(|e| e.denied_as_exception(400))?;
    // What opening it would find first (`keys::material`), so that a cached opening is refused
    // where KMS would refuse.
    if !record.body.versions.iter().any(|v| v.version == header.version) {
        return Err(err(
            "InvalidCiphertextException",
            "The ciphertext refers to key material this key does not have.",
        ));
    }
    Ok(Authorized {
        record,
        context: context.to_vec(),
        ciphertext: Some((wrapped.to_vec(), header.version)),
    })
}

/// Opens the ciphertext an [`Authorized`] `kms:Decrypt` is for. Recorded as the caller's
/// `Decrypt` invoked by S3.
pub(crate) fn decrypt_authorized(
    ctx: &Ctx<'_>,
    key: &Authorized,
) -> Result<crypto::SecretBytes, ApiError> {
    let invalid = || ApiError::internal("an object's data key cannot be opened");
    let (wrapped, version) = key.ciphertext.as_ref().ok_or_else(invalid)?;
    let material = keys::material(&ctx.state.root, &key.record, *version)?;
    let plaintext =
        crypto::kms::blob::open(&material, wrapped, &key.context).map_err(|_| invalid())?;
    record_s3_call(ctx, "Decrypt", &key.record, &key.context);
    Ok(plaintext)
}

/// Records S3's call to KMS as the caller as CloudTrail shows one: a KMS event of its own, with
/// the caller's identity and `invokedBy` S3, in the caller's log and the key owner's (the
/// request's own event is in both too). CloudTrail's own deliveries (a service principal
/// writing a trail's files) are left out: each such event would be one more for the next
/// delivery to write.
fn record_s3_call(
    ctx: &Ctx<'_>,
    operation: &'static str,
    record: &KeyRecord,
    context: &[(String, String)],
) {
    if events::is_service_principal(&ctx.caller.arn) {
        return;
    }
    let mut parameters = Map::new();
    parameters.insert("encryptionContext".into(), context_json(context));
    if operation == "GenerateDataKey" {
        parameters.insert("keyId".into(), Value::String(record.body.arn.clone()));
        parameters.insert("keySpec".into(), Value::String("AES_256".into()));
    } else {
        parameters.insert("encryptionAlgorithm".into(), Value::String("SYMMETRIC_DEFAULT".into()));
    }
    ctx.record_call(ServiceCall {
        event_source: "kms.amazonaws.com",
        event_name: operation,
        invoked_by: "s3.amazonaws.com",
        parameters: Value::Object(parameters),
        resources: vec![keys::resource(record)],
        accounts: vec![ctx.caller.account.clone(), record.account.clone()],
    });
}

/// S3 calling KMS as the caller (a forward access session): a data key for an object under
/// `key_id`, authorized as `kms:GenerateDataKey` with `kms:ViaService` through the pipeline's
/// evaluator (the key's owner's log gets the request's event) and recorded as a KMS event.
/// Without a service (SSE-S3), S3's own key, asked of no caller and recorded as no KMS call
/// (see [`decrypt_as_s3`]). Returns (plaintext data key, its KMS ciphertext, the key's ARN).
pub(crate) fn data_key_for(
    ctx: &Ctx<'_>,
    key_id: &str,
    context: &[(String, String)],
    via_service: Option<&str>,
) -> Result<(crypto::SecretBytes, Vec<u8>, String), ApiError> {
    let Some(via_service) = via_service else {
        let (_, record) = checks::read_key(ctx, key_id)?;
        keys::usable(&record, ctx.now())?;
        let data_key = crypto::object::new_data_key();
        let wrapped = ops::seal_with(ctx.state, &record, context, data_key.expose())?;
        return Ok((data_key, wrapped, record.body.arn));
    };
    let key = authorize_generate(ctx, key_id, context, via_service)?;
    let (data_key, wrapped) = generate_authorized(ctx, &key)?;
    Ok((data_key, wrapped, key.record.body.arn))
}

/// S3 calling KMS as the caller to open an object's data key (`kms:Decrypt` with
/// `kms:ViaService`), through the pipeline's evaluator, recorded as a KMS event.
pub(crate) fn decrypt_for(
    ctx: &Ctx<'_>,
    wrapped: &[u8],
    context: &[(String, String)],
    via_service: &str,
) -> Result<crypto::SecretBytes, ApiError> {
    let key = authorize_decrypt(ctx, wrapped, context, via_service)?;
    decrypt_authorized(ctx, &key)
}
