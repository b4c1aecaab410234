//! What each KMS operation is authorized as: the keys it names, read on a snapshot before any
//! transaction begins, and the checks on them, which the pipeline evaluates (STYLE 13). What
//! authorization read is kept in the call for the execution.

use super::input::{pairs, CreateGrant, Input};
use super::ops::Ciphertext;
use super::KeyRecord;
use super::{err, key_check, keys, load, plain_check, resolve, Call, KeyRef, KmsOperation};
use crate::error::ApiError;
use crate::pipeline::service::{Authorization, Check, Ctx, Operation};
use crate::records::kms::Alias;
use crate::records::Stored;
use crypto::kms::blob as kblob;

/// The checks of one call (see the module's documentation).
pub(super) fn authorization(ctx: &Ctx<'_>, call: &mut Call) -> Result<Authorization, ApiError> {
    use KmsOperation as K;
    let caller = ctx.caller;
    let op = call.operation;
    let name = op.name();
    let checks = match op {
        K::CreateKey => match &call.input {
            Input::CreateKey(input) => vec![keys::create_key_check(caller, input)?],
            _ => return Err(ApiError::internal("the input is not CreateKey's")),
        },
        K::ListKeys | K::GenerateRandom | K::ListRetirableGrants => {
            vec![plain_check(caller, name, Vec::new(), Vec::new())]
        }
        // Who may retire a grant is the grant's to say (its retiring principal, a grantee
        // allowed `RetireGrant`, or the key's account), not a policy's.
        K::RetireGrant => return Ok(Authorization::ByResource),
        K::ListAliases => match call.input.key_id() {
            Some(k) => {
                let (key_ref, record) = read_key(ctx, k)?;
                let check = key_check(caller, name, &record, &key_ref, Vec::new(), None);
                call.keys.push((key_ref, record));
                vec![check]
            }
            None => vec![plain_check(caller, name, Vec::new(), Vec::new())],
        },
        K::CreateAlias | K::UpdateAlias | K::DeleteAlias => alias_checks(ctx, call)?,
        K::Decrypt => {
            let Input::Decrypt(input) = &call.input else {
                return Err(ApiError::internal("the input is not Decrypt's"));
            };
            let source = Ciphertext::of_decrypt(input);
            let (key_ref, record, check) = decrypt_check(ctx, &source, name)?;
            call.keys.push((key_ref, record));
            vec![check]
        }
        K::ReEncrypt => {
            let Input::ReEncrypt(input) = &call.input else {
                return Err(ApiError::internal("the input is not ReEncrypt's"));
            };
            let from_source = Ciphertext::of_re_encrypt(input);
            let (source_ref, source, from) = decrypt_check(ctx, &from_source, "ReEncryptFrom")?;
            let (dest_ref, dest) = read_key(ctx, &input.destination_key_id)?;
            let algorithm =
                input.destination_encryption_algorithm.as_deref().unwrap_or("SYMMETRIC_DEFAULT");
            let context = vec![
                ("kms:EncryptionAlgorithm".into(), algorithm.to_string()),
                ("kms:ReEncryptOnSameKey".into(), (source.key == dest.key).to_string()),
            ];
            let dest_context = pairs(&input.destination_encryption_context);
            let to =
                key_check(caller, "ReEncryptTo", &dest, &dest_ref, context, Some(&dest_context));
            call.keys.push((source_ref, source));
            call.keys.push((dest_ref, dest));
            vec![from, to]
        }
        _ => {
            let key_id = call.input.key_id().ok_or_else(|| {
                err("ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
            })?;
            let (key_ref, record) = read_key(ctx, key_id)?;
            // Cross-account callers may only use keys; management stays with the owner.
            let cross_allowed = [K::DescribeKey, K::GetPublicKey, K::GetKeyRotationStatus];
            let managing = !matches!(
                op,
                K::Encrypt
                    | K::GenerateDataKey
                    | K::GenerateDataKeyWithoutPlaintext
                    | K::GenerateDataKeyPair
                    | K::GenerateDataKeyPairWithoutPlaintext
                    | K::Sign
                    | K::Verify
                    | K::DeriveSharedSecret
                    | K::GenerateMac
                    | K::VerifyMac
                    | K::CreateGrant
                    | K::ListGrants
                    | K::RevokeGrant
            );
            if managing && key_ref.account != caller.account && !cross_allowed.contains(&op) {
                return Err(err("AccessDeniedException", format!("User: {} is not authorized to perform: kms:{name} on resource: {} because it is in another account", caller.arn, record.body.arn)));
            }
            let (context, multi, encryption_context) = keyed_context(&call.input);
            let mut check =
                key_check(caller, name, &record, &key_ref, context, encryption_context.as_deref());
            check.multi.extend(multi);
            call.keys.push((key_ref, record));
            vec![check]
        }
    };
    Ok(Authorization::Checks(checks))
}

/// A key `KeyId` names, resolved (any account) and read on a snapshot; `NotFoundException` if
/// it does not exist or its deletion date has passed. Its owner's log gets the request's event.
pub(super) fn read_key(ctx: &Ctx<'_>, key_id: &str) -> Result<(KeyRef, KeyRecord), ApiError> {
    ctx.read(|tx| {
        let key_ref = resolve(tx, &ctx.caller.account, key_id)?;
        ctx.touch(&key_ref.account);
        let record = load(tx, &key_ref, ctx.now())?;
        Ok((key_ref, record))
    })
}

/// The condition keys an operation on one key adds: single-valued, multivalued, and the
/// encryption context it is made with.
type Keyed = (Vec<(String, String)>, Vec<(String, Vec<String>)>, Option<Vec<(String, String)>>);

fn keyed_context(input: &Input) -> Keyed {
    let one = |key: &str, value: String| vec![(key.to_string(), value)];
    match input {
        Input::Encrypt(i) => (
            one(
                "kms:EncryptionAlgorithm",
                i.encryption_algorithm.clone().unwrap_or_else(|| "SYMMETRIC_DEFAULT".into()),
            ),
            Vec::new(),
            Some(pairs(&i.encryption_context)),
        ),
        Input::GenerateDataKey(i) => (Vec::new(), Vec::new(), Some(pairs(&i.encryption_context))),
        Input::GenerateDataKeyPair(i) => (
            one("kms:DataKeyPairSpec", i.key_pair_spec.clone()),
            Vec::new(),
            Some(pairs(&i.encryption_context)),
        ),
        Input::SignVerify(i) => (
            vec![
                ("kms:SigningAlgorithm".into(), i.signing_algorithm.clone()),
                ("kms:MessageType".into(), i.message_type.clone().unwrap_or_else(|| "RAW".into())),
            ],
            Vec::new(),
            None,
        ),
        Input::Mac(i) => (one("kms:MacAlgorithm", i.mac_algorithm.clone()), Vec::new(), None),
        Input::CreateGrant(i) => {
            let (context, multi) = grant_keys(i);
            (context, multi, None)
        }
        Input::ScheduleKeyDeletion(i) => (
            one(
                "kms:ScheduleKeyDeletionPendingWindowInDays",
                i.pending_window_in_days.unwrap_or(30).to_string(),
            ),
            Vec::new(),
            None,
        ),
        Input::EnableKeyRotation(i) => (
            one("kms:RotationPeriodInDays", i.rotation_period_in_days.unwrap_or(365).to_string()),
            Vec::new(),
            None,
        ),
        Input::KeyPolicy(i) if i.policy.is_some() => (
            one(
                "kms:BypassPolicyLockoutSafetyCheck",
                i.bypass_policy_lockout_safety_check.to_string(),
            ),
            Vec::new(),
            None,
        ),
        Input::GetParametersForImport(i) => (
            vec![
                ("kms:WrappingAlgorithm".into(), i.wrapping_algorithm.clone()),
                ("kms:WrappingKeySpec".into(), i.wrapping_key_spec.clone()),
            ],
            Vec::new(),
            None,
        ),
        Input::ImportKeyMaterial(i) => (
            one(
                "kms:ExpirationModel",
                i.expiration_model.clone().unwrap_or_else(|| "KEY_MATERIAL_EXPIRES".into()),
            ),
            Vec::new(),
            None,
        ),
        _ => (Vec::new(), Vec::new(), None),
    }
}

/// `CreateGrant`'s condition keys: the grant's operations, grantee, retiring principal and
/// constraint types.
fn grant_keys(input: &CreateGrant) -> crate::pipeline::authorize::Keys {
    let mut context = vec![(
        "kms:GranteePrincipal".to_string(),
        input.grantee_principal.clone().unwrap_or_default(),
    )];
    let mut multi = vec![("kms:GrantOperations".to_string(), input.operations.clone())];
    if let Some(retiring) = input.retiring_principal.as_deref().filter(|r| !r.is_empty()) {
        context.push(("kms:RetiringPrincipal".into(), retiring.to_string()));
    }
    context.push(("kms:GrantIsForAWSResource".into(), "false".into()));
    let mut types = Vec::new();
    if let Some(c) = &input.constraints {
        if c.encryption_context_equals.is_some() {
            types.push("EncryptionContextEquals".to_string());
        }
        if c.encryption_context_subset.is_some() {
            types.push("EncryptionContextSubset".to_string());
        }
    }
    if !types.is_empty() {
        multi.push(("kms:GrantConstraintType".into(), types));
    }
    (context, multi)
}

/// The key a ciphertext is decrypted with, and the check of `operation` on it: a symmetric
/// ciphertext names its key (a `KeyId` given too must be that key); an asymmetric one needs
/// its `KeyId`.
fn decrypt_check(
    ctx: &Ctx<'_>,
    source: &Ciphertext<'_>,
    operation: &str,
) -> Result<(KeyRef, KeyRecord, Check), ApiError> {
    let ciphertext =
        source.blob.ok_or_else(|| err("ValidationException", "CiphertextBlob is required."))?;
    let algorithm = source.algorithm;
    let algorithm_key = vec![("kms:EncryptionAlgorithm".to_string(), algorithm.to_string())];
    if algorithm == "SYMMETRIC_DEFAULT" {
        let header = kblob::parse_header(ciphertext).map_err(|_| invalid_ciphertext())?;
        let named =
            KeyRef { account: header.account.clone(), key_id: header.key_id.clone(), alias: None };
        let (key_ref, record) = ctx.read(|tx| {
            let key_ref = match source.key_id {
                Some(k) => {
                    let given = resolve(tx, &ctx.caller.account, k)?;
                    if given.key_id != named.key_id || given.account != named.account {
                        return Err(err("IncorrectKeyException", "The key ID in the request does not identify the key that encrypted the ciphertext."));
                    }
                    given
                }
                None => named,
            };
            ctx.touch(&key_ref.account);
            let record = load(tx, &key_ref, ctx.now())?;
            Ok((key_ref, record))
        })?;
        let check = key_check(
            ctx.caller,
            operation,
            &record,
            &key_ref,
            algorithm_key,
            Some(&source.context),
        );
        return Ok((key_ref, record, check));
    }
    crypto::kms::asymmetric::EncryptionAlgorithm::parse(algorithm).ok_or_else(|| {
        err("ValidationException", format!("EncryptionAlgorithm {algorithm} is not valid."))
    })?;
    let key_id = source.key_id.ok_or_else(|| {
        err("ValidationException", "KeyId is required to decrypt with an asymmetric key.")
    })?;
    let (key_ref, record) = read_key(ctx, key_id)?;
    let check = key_check(ctx.caller, operation, &record, &key_ref, algorithm_key, None);
    Ok((key_ref, record, check))
}

pub(super) fn invalid_ciphertext() -> ApiError {
    err(
        "InvalidCiphertextException",
        "The ciphertext is invalid or was not made for this key and encryption context.",
    )
}

/// An alias change is authorized by identity policies on the alias's ARN, and by the key
/// policy of each key it touches: the new target, and the old target it leaves.
fn alias_checks(ctx: &Ctx<'_>, call: &mut Call) -> Result<Vec<Check>, ApiError> {
    use KmsOperation as K;
    let (caller, op) = (ctx.caller, call.operation);
    let account = caller.account.clone();
    let Input::Alias(input) = &call.input else {
        return Err(ApiError::internal("the input is not an alias operation's"));
    };
    let name = input.alias_name.clone();
    super::aliases::check_alias_name(&name)?;
    let alias_arn = super::aliases::alias_arn(&ctx.facts.region, &account, &name);
    let existing = ctx.read(|tx| Stored::<Alias>::get(tx, &account, &name))?;
    let mut checks = Vec::new();
    if op == K::CreateAlias && existing.is_some() {
        return Err(err(
            "AlreadyExistsException",
            format!("An alias with the name {alias_arn} already exists"),
        ));
    }
    let alias = match (op, existing) {
        (K::CreateAlias, _) => None,
        (_, Some(alias)) => Some(alias),
        (_, None) => {
            return Err(err("NotFoundException", format!("Alias {alias_arn} is not found.")))
        }
    };
    if op != K::DeleteAlias {
        let target = input.target_key_id.as_deref().ok_or_else(|| {
            err("ValidationException", "1 validation error detected: Value null at 'targetKeyId' failed to satisfy constraint: Member must not be null")
        })?;
        let key_ref = ctx.read(|tx| resolve(tx, &account, target))?;
        if key_ref.alias.is_some() || key_ref.account != account {
            return Err(err(
                "ValidationException",
                "TargetKeyId must be a key id or key ARN of this account.",
            ));
        }
        let record = ctx
            .read(|tx| load(tx, &key_ref, ctx.now()))
            .map_err(|_| err("NotFoundException", format!("Key '{target}' does not exist")))?;
        checks.push(key_check(caller, op.name(), &record, &key_ref, Vec::new(), None));
        call.keys.push((key_ref, record));
    }
    if let Some(alias) = alias {
        let key_ref = KeyRef {
            account: account.clone(),
            key_id: alias.body.target_key_id.clone(),
            alias: (op == K::DeleteAlias).then(|| name.clone()),
        };
        if let Some(old) = ctx.read(|tx| KeyRecord::get(tx, &account, &key_ref.key_id))? {
            checks.push(key_check(caller, op.name(), &old, &key_ref, Vec::new(), None));
            call.keys.push((key_ref, old));
        }
    }
    // The alias itself first, by identity policies on its ARN.
    checks.insert(0, Check::new(format!("kms:{}", op.name()), alias_arn));
    Ok(checks)
}
