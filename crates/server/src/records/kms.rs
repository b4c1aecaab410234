//! KMS: keys (kind `kms_key`, keyed by key id), aliases (`kms_alias`, by alias name) and grants
//! (`kms_grant`, by `{key id}/{grant id}`).
//!
//! Times KMS answers with are kept as it answers them (seconds since the epoch, with
//! milliseconds, as a JSON number); times the server computes with are milliseconds.

use super::Body;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A key's state (`KeyState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
    PendingImport,
}

impl KeyState {
    /// KMS's name of the state.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Enabled => "Enabled",
            KeyState::Disabled => "Disabled",
            KeyState::PendingDeletion => "PendingDeletion",
            KeyState::PendingImport => "PendingImport",
        }
    }
}

/// What a key is for (`KeyUsage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum KeyUsage {
    EncryptDecrypt,
    SignVerify,
    GenerateVerifyMac,
    KeyAgreement,
}

impl KeyUsage {
    /// KMS's name of the usage.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsage::EncryptDecrypt => "ENCRYPT_DECRYPT",
            KeyUsage::SignVerify => "SIGN_VERIFY",
            KeyUsage::GenerateVerifyMac => "GENERATE_VERIFY_MAC",
            KeyUsage::KeyAgreement => "KEY_AGREEMENT",
        }
    }

    /// The usage KMS names `name`.
    pub fn parse(name: &str) -> Option<KeyUsage> {
        [
            KeyUsage::EncryptDecrypt,
            KeyUsage::SignVerify,
            KeyUsage::GenerateVerifyMac,
            KeyUsage::KeyAgreement,
        ]
        .into_iter()
        .find(|u| u.as_str() == name)
    }
}

/// Where a key's material comes from (`Origin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Origin {
    AwsKms,
    External,
}

impl Origin {
    /// KMS's name of the origin.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::AwsKms => "AWS_KMS",
            Origin::External => "EXTERNAL",
        }
    }
}

/// Who manages a key (`KeyManager`): only the account's `aws/s3` key records `AWS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum KeyManager {
    Aws,
    Customer,
}

/// How a backing version came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum VersionType {
    /// Made with the key.
    Initial,
    /// Imported (an `EXTERNAL` key's only version).
    Imported,
    /// Automatic rotation.
    Automatic,
    /// `RotateKeyOnDemand`.
    OnDemand,
}

/// One backing version of a key: its material, sealed by the root of trust to the key's ARN
/// and the version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyVersion {
    pub version: u32,
    pub created_ms: i64,
    /// The sealed material, base64.
    pub sealed: String,
    #[serde(rename = "Type")]
    pub kind: VersionType,
}

/// A key's tag (KMS spells the members `TagKey` and `TagValue`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyTag {
    pub tag_key: String,
    pub tag_value: String,
}

/// What `GetParametersForImport` handed out, for `ImportKeyMaterial` to use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ImportParameters {
    /// The wrapping algorithm.
    pub algorithm: String,
    /// The wrapping key's spec.
    pub spec: String,
    /// The wrapping key's private half, sealed, base64.
    pub sealed: String,
    /// SHA-256 of the import token, hex.
    pub token_sha256: String,
    pub valid_to_ms: i64,
}

/// Whether imported material expires (`ExpirationModel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ExpirationModel {
    KeyMaterialExpires,
    KeyMaterialDoesNotExpire,
}

impl ExpirationModel {
    /// KMS's name of the model.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpirationModel::KeyMaterialExpires => "KEY_MATERIAL_EXPIRES",
            ExpirationModel::KeyMaterialDoesNotExpire => "KEY_MATERIAL_DOES_NOT_EXPIRE",
        }
    }
}

/// A KMS key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Key {
    pub key_id: String,
    pub arn: String,
    /// Seconds since the epoch, as `KeyMetadata` answers it.
    pub creation_date: f64,
    pub creation_ms: i64,
    pub description: String,
    pub key_usage: KeyUsage,
    /// `SYMMETRIC_DEFAULT`, `RSA_2048`, ... (checked when the key is made).
    pub key_spec: String,
    pub origin: Origin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_manager: Option<KeyManager>,
    pub key_state: KeyState,
    /// The key policy.
    #[serde(default)]
    pub policy: String,
    /// Backing versions, oldest first; the last is current.
    #[serde(default)]
    pub versions: Vec<KeyVersion>,
    /// The aliases that point at it.
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub tags: Vec<KeyTag>,
    /// An asymmetric key's public key (DER, base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// When a scheduled deletion happens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_window_in_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_rotation_ms: Option<i64>,
    /// Outstanding import parameters (an `EXTERNAL` key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportParameters>,
    /// SHA-256 of the imported material, sealed, base64: reimports must bring the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub material_digest_sealed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<ExpirationModel>,
    /// When imported material expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to_ms: Option<i64>,
}

impl Key {
    /// The backing version new ciphertexts use, if the key has material.
    pub fn current_version(&self) -> Option<u32> {
        self.versions.last().map(|v| v.version)
    }

    /// Whether a key scheduled for deletion has reached its deletion date.
    pub fn deleted(&self, now_ms: i64) -> bool {
        self.key_state == KeyState::PendingDeletion && self.deletion_ms.is_some_and(|d| now_ms >= d)
    }

    /// Whether it is a symmetric encryption key.
    pub fn symmetric(&self) -> bool {
        self.key_spec == "SYMMETRIC_DEFAULT"
    }
}

impl Body for Key {
    const KIND: &'static str = "kms_key";
}

/// An alias.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Alias {
    pub alias_name: String,
    pub alias_arn: String,
    pub target_key_id: String,
    pub creation_date: f64,
    pub last_updated_date: f64,
}

impl Body for Alias {
    const KIND: &'static str = "kms_alias";
}

/// An encryption context: string keys and values, in key order.
pub(crate) type Context = BTreeMap<String, String>;

/// A grant's constraints on the encryption context.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct GrantConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<Context>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<Context>,
}

/// A grant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Grant {
    /// The key's ARN.
    pub key_id: String,
    pub grant_id: String,
    /// Empty when the grant has no name.
    pub name: String,
    pub creation_date: f64,
    pub grantee_principal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring_principal: Option<String>,
    pub issuing_account: String,
    pub operations: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<GrantConstraints>,
    /// SHA-256 of the grant token, hex (never listed).
    #[serde(default)]
    pub token_sha256: String,
}

impl Body for Grant {
    const KIND: &'static str = "kms_grant";
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::records::Stored;

    fn record(kind: &str, body: serde_json::Value) -> store::Record {
        store::Record {
            mac: Vec::new(),
            account: "111122223333".into(),
            kind: kind.into(),
            key: "k".into(),
            format_version: 1,
            body,
            updated_at_ms: 1,
        }
    }

    /// The layouts are the ones the server has always written.
    #[test]
    fn kms_records_read_as_written_before_records_were_typed() {
        let key = serde_json::json!({
            "KeyId": "k", "Arn": "arn:aws:kms:us-east-1:111122223333:key/k",
            "CreationDate": 1_765_000_000.5, "CreationMs": 1_765_000_000_500_i64,
            "Description": "", "KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT",
            "Origin": "AWS_KMS", "KeyState": "Enabled", "Policy": "{}",
            "Versions": [
                { "Version": 1, "CreatedMs": 5, "Sealed": "AAAA", "Type": "INITIAL" },
                { "Version": 2, "CreatedMs": 6, "Sealed": "BBBB", "Type": "ON_DEMAND" },
            ],
            "Aliases": ["alias/a"], "Tags": [{ "TagKey": "t", "TagValue": "v" }],
            "RotationEnabled": true, "RotationPeriodInDays": 365, "NextRotationMs": 9,
        });
        let typed = Stored::<Key>::from_record(record("kms_key", key.clone())).unwrap();
        assert_eq!(typed.body.current_version(), Some(2));
        assert_eq!(typed.body.versions[1].kind, VersionType::OnDemand);
        assert_eq!(typed.to_record().unwrap().body, key);
        let external = serde_json::json!({
            "KeyId": "k", "Arn": "a", "CreationDate": 1.0, "CreationMs": 1000,
            "Description": "d", "KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT",
            "Origin": "EXTERNAL", "KeyState": "PendingImport", "Policy": "{}",
            "Versions": [], "Aliases": [], "Tags": [],
            "Import": { "Algorithm": "RSAES_OAEP_SHA_256", "Spec": "RSA_2048", "Sealed": "x",
                        "TokenSha256": "ab", "ValidToMs": 7 },
            "ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidToMs": 8,
        });
        let typed = Stored::<Key>::from_record(record("kms_key", external.clone())).unwrap();
        assert_eq!(typed.to_record().unwrap().body, external);
        let grant = serde_json::json!({
            "KeyId": "a", "GrantId": "g", "Name": "", "CreationDate": 2.5,
            "GranteePrincipal": "arn:aws:iam::111122223333:role/r",
            "IssuingAccount": "arn:aws:iam::111122223333:root", "Operations": ["Decrypt"],
            "Constraints": { "EncryptionContextSubset": { "k": "v" } }, "TokenSha256": "cd",
        });
        let typed = Stored::<Grant>::from_record(record("kms_grant", grant.clone())).unwrap();
        assert_eq!(typed.to_record().unwrap().body, grant);
        let alias = serde_json::json!({
            "AliasName": "alias/a", "AliasArn": "arn:aws:kms:us-east-1:111122223333:alias/a",
            "TargetKeyId": "k", "CreationDate": 1.0, "LastUpdatedDate": 2.0,
        });
        let typed = Stored::<Alias>::from_record(record("kms_alias", alias.clone())).unwrap();
        assert_eq!(typed.to_record().unwrap().body, alias);
    }

    /// A key whose state or usage is not one KMS has does not read (fail closed).
    #[test]
    fn an_unknown_state_is_refused() {
        let key = serde_json::json!({
            "KeyId": "k", "Arn": "a", "CreationDate": 1.0, "CreationMs": 1000,
            "Description": "", "KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT",
            "Origin": "AWS_KMS", "KeyState": "Enabledish", "Policy": "{}",
        });
        assert!(Stored::<Key>::from_record(record("kms_key", key)).is_err());
    }
}
