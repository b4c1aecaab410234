//! KMS's inputs, one typed struct per operation, parsed once at routing against botocore's
//! shapes (`protocol::input`): required members are there, types and bounds checked, blobs
//! decoded. Members this server does not use are left out (the model still checks them).

use super::KmsOperation;
use crate::error::ApiError;
use crate::protocol::input::{parse, Rules, Source};
use crate::protocol::model::Api;
use serde::{Deserialize, Deserializer};

/// A base64 blob member, decoded.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Blob(pub Vec<u8>);

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Blob, D::Error> {
        use base64::Engine;
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Blob)
            .map_err(|_| serde::de::Error::custom("a blob is not valid base64"))
    }
}

/// An encryption context: string keys and values, in key order.
pub(crate) use crate::records::kms::Context;

/// The context as sorted pairs.
pub(crate) fn pairs(context: &Option<Context>) -> Vec<(String, String)> {
    context.iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// A key's tag.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

/// A grant's constraints (stored with the grant as they are given).
pub(crate) use crate::records::kms::GrantConstraints;

/// `KeyId` alone.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyOnly {
    pub key_id: String,
}

/// A page of a list: `Limit` and `Marker`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Paging {
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateKey {
    pub policy: Option<String>,
    pub description: Option<String>,
    pub key_usage: Option<String>,
    pub customer_master_key_spec: Option<String>,
    pub key_spec: Option<String>,
    pub origin: Option<String>,
    #[serde(default)]
    pub bypass_policy_lockout_safety_check: bool,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub multi_region: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Alias {
    pub alias_name: String,
    pub target_key_id: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListAliases {
    pub key_id: Option<String>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyPage {
    pub key_id: String,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScheduleKeyDeletion {
    pub key_id: String,
    pub pending_window_in_days: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EnableKeyRotation {
    pub key_id: String,
    pub rotation_period_in_days: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UpdateKeyDescription {
    pub key_id: String,
    pub description: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TagResource {
    pub key_id: String,
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct UntagResource {
    pub key_id: String,
    pub tag_keys: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyPolicy {
    pub key_id: String,
    pub policy_name: Option<String>,
    pub policy: Option<String>,
    #[serde(default)]
    pub bypass_policy_lockout_safety_check: bool,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GetParametersForImport {
    pub key_id: String,
    pub wrapping_algorithm: String,
    pub wrapping_key_spec: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ImportKeyMaterial {
    pub key_id: String,
    pub import_token: Blob,
    pub encrypted_key_material: Blob,
    pub valid_to: Option<f64>,
    pub expiration_model: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Encrypt {
    pub key_id: String,
    pub plaintext: Blob,
    pub encryption_context: Option<Context>,
    pub encryption_algorithm: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Decrypt {
    pub ciphertext_blob: Option<Blob>,
    pub encryption_context: Option<Context>,
    pub key_id: Option<String>,
    pub encryption_algorithm: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ReEncrypt {
    pub ciphertext_blob: Option<Blob>,
    pub source_encryption_context: Option<Context>,
    pub source_key_id: Option<String>,
    pub destination_key_id: String,
    pub destination_encryption_context: Option<Context>,
    pub source_encryption_algorithm: Option<String>,
    pub destination_encryption_algorithm: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKey {
    pub key_id: String,
    pub encryption_context: Option<Context>,
    pub number_of_bytes: Option<i64>,
    pub key_spec: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateDataKeyPair {
    pub key_id: String,
    pub encryption_context: Option<Context>,
    pub key_pair_spec: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GenerateRandom {
    pub number_of_bytes: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SignVerify {
    pub key_id: String,
    pub message: Blob,
    pub message_type: Option<String>,
    pub signing_algorithm: String,
    pub signature: Option<Blob>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DeriveSharedSecret {
    pub key_id: String,
    pub key_agreement_algorithm: String,
    pub public_key: Blob,
    /// An enclave's attestation: the secret would go back sealed to it (not served here).
    pub recipient: Option<serde_json::Value>,
    pub dry_run: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Mac {
    pub key_id: String,
    pub message: Blob,
    pub mac_algorithm: String,
    pub mac: Option<Blob>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CreateGrant {
    pub key_id: String,
    pub grantee_principal: Option<String>,
    pub retiring_principal: Option<String>,
    pub operations: Vec<String>,
    pub constraints: Option<GrantConstraints>,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListGrants {
    pub key_id: String,
    pub grant_id: Option<String>,
    pub grantee_principal: Option<String>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListRetirableGrants {
    pub retiring_principal: Option<String>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RetireGrant {
    pub grant_token: Option<String>,
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RevokeGrant {
    pub key_id: String,
    pub grant_id: String,
}

/// One KMS operation's input.
#[derive(Clone, Debug)]
pub(crate) enum Input {
    CreateKey(CreateKey),
    ListKeys(Paging),
    ListAliases(ListAliases),
    Alias(Alias),
    Key(KeyOnly),
    KeyPage(KeyPage),
    ScheduleKeyDeletion(ScheduleKeyDeletion),
    EnableKeyRotation(EnableKeyRotation),
    UpdateKeyDescription(UpdateKeyDescription),
    TagResource(TagResource),
    UntagResource(UntagResource),
    KeyPolicy(KeyPolicy),
    GetParametersForImport(GetParametersForImport),
    ImportKeyMaterial(ImportKeyMaterial),
    Encrypt(Encrypt),
    Decrypt(Decrypt),
    ReEncrypt(ReEncrypt),
    GenerateDataKey(GenerateDataKey),
    GenerateDataKeyPair(GenerateDataKeyPair),
    GenerateRandom(GenerateRandom),
    SignVerify(SignVerify),
    DeriveSharedSecret(DeriveSharedSecret),
    Mac(Mac),
    CreateGrant(CreateGrant),
    ListGrants(ListGrants),
    ListRetirableGrants(ListRetirableGrants),
    RetireGrant(RetireGrant),
    RevokeGrant(RevokeGrant),
}

impl Input {
    /// Parses `operation`'s input from its JSON body.
    pub(crate) fn parse(
        operation: KmsOperation,
        body: &serde_json::Value,
    ) -> Result<Input, ApiError> {
        use KmsOperation as K;
        let name = crate::pipeline::service::Operation::name(operation);
        let source = Source::Json(body);
        macro_rules! as_ {
            ($variant:ident) => {
                Input::$variant(parse(Api::Kms, name, source, Rules::All)?)
            };
        }
        Ok(match operation {
            K::CreateKey => as_!(CreateKey),
            K::ListKeys => as_!(ListKeys),
            K::ListAliases => as_!(ListAliases),
            K::CreateAlias | K::UpdateAlias | K::DeleteAlias => as_!(Alias),
            K::DescribeKey
            | K::EnableKey
            | K::DisableKey
            | K::CancelKeyDeletion
            | K::DisableKeyRotation
            | K::GetKeyRotationStatus
            | K::RotateKeyOnDemand
            | K::GetPublicKey
            | K::DeleteImportedKeyMaterial => as_!(Key),
            K::ListResourceTags | K::ListKeyRotations => as_!(KeyPage),
            K::ScheduleKeyDeletion => as_!(ScheduleKeyDeletion),
            K::EnableKeyRotation => as_!(EnableKeyRotation),
            K::UpdateKeyDescription => as_!(UpdateKeyDescription),
            K::TagResource => as_!(TagResource),
            K::UntagResource => as_!(UntagResource),
            K::GetKeyPolicy | K::PutKeyPolicy | K::ListKeyPolicies => as_!(KeyPolicy),
            K::GetParametersForImport => as_!(GetParametersForImport),
            K::ImportKeyMaterial => as_!(ImportKeyMaterial),
            K::Encrypt => as_!(Encrypt),
            K::Decrypt => as_!(Decrypt),
            K::ReEncrypt => as_!(ReEncrypt),
            K::GenerateDataKey | K::GenerateDataKeyWithoutPlaintext => as_!(GenerateDataKey),
            K::GenerateDataKeyPair | K::GenerateDataKeyPairWithoutPlaintext => {
                as_!(GenerateDataKeyPair)
            }
            K::GenerateRandom => as_!(GenerateRandom),
            K::Sign | K::Verify => as_!(SignVerify),
            K::DeriveSharedSecret => as_!(DeriveSharedSecret),
            K::GenerateMac | K::VerifyMac => as_!(Mac),
            K::CreateGrant => as_!(CreateGrant),
            K::ListGrants => as_!(ListGrants),
            K::ListRetirableGrants => as_!(ListRetirableGrants),
            K::RetireGrant => as_!(RetireGrant),
            K::RevokeGrant => as_!(RevokeGrant),
        })
    }

    /// The key the input names with `KeyId`, if it has the member.
    pub(crate) fn key_id(&self) -> Option<&str> {
        match self {
            Input::Key(i) => Some(&i.key_id),
            Input::KeyPage(i) => Some(&i.key_id),
            Input::ListAliases(i) => i.key_id.as_deref(),
            Input::ScheduleKeyDeletion(i) => Some(&i.key_id),
            Input::EnableKeyRotation(i) => Some(&i.key_id),
            Input::UpdateKeyDescription(i) => Some(&i.key_id),
            Input::TagResource(i) => Some(&i.key_id),
            Input::UntagResource(i) => Some(&i.key_id),
            Input::KeyPolicy(i) => Some(&i.key_id),
            Input::GetParametersForImport(i) => Some(&i.key_id),
            Input::ImportKeyMaterial(i) => Some(&i.key_id),
            Input::Encrypt(i) => Some(&i.key_id),
            Input::Decrypt(i) => i.key_id.as_deref(),
            Input::GenerateDataKey(i) => Some(&i.key_id),
            Input::GenerateDataKeyPair(i) => Some(&i.key_id),
            Input::SignVerify(i) => Some(&i.key_id),
            Input::DeriveSharedSecret(i) => Some(&i.key_id),
            Input::Mac(i) => Some(&i.key_id),
            Input::CreateGrant(i) => Some(&i.key_id),
            Input::ListGrants(i) => Some(&i.key_id),
            Input::RetireGrant(i) => i.key_id.as_deref(),
            Input::RevokeGrant(i) => Some(&i.key_id),
            Input::CreateKey(_)
            | Input::ListKeys(_)
            | Input::Alias(_)
            | Input::ReEncrypt(_)
            | Input::GenerateRandom(_)
            | Input::ListRetirableGrants(_) => None,
        }
    }

    /// Every key id or ARN the input names (the accounts of ARNs get the request's event).
    pub(crate) fn key_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.key_id().into_iter().collect();
        match self {
            Input::ReEncrypt(i) => {
                out.push(&i.destination_key_id);
                out.extend(i.source_key_id.as_deref());
            }
            Input::Alias(i) => out.extend(i.target_key_id.as_deref()),
            _ => {}
        }
        out
    }

    /// The ciphertext the input carries, if any (it names the key that made it).
    pub(crate) fn ciphertext(&self) -> Option<&[u8]> {
        match self {
            Input::Decrypt(i) => i.ciphertext_blob.as_ref().map(|b| b.0.as_slice()),
            Input::ReEncrypt(i) => i.ciphertext_blob.as_ref().map(|b| b.0.as_slice()),
            _ => None,
        }
    }
}
