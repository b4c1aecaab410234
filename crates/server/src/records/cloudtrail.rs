//! CloudTrail's records: trails.

use super::Body;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A tag on a trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TrailTag {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A trail (kind `trail`, keyed by its name, in its account).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Trail {
    pub name: String,
    pub trail_arn: String,
    pub home_region: String,
    pub s3_bucket_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    pub include_global_service_events: bool,
    pub is_multi_region_trail: bool,
    pub log_file_validation_enabled: bool,
    /// The KMS key's ARN, when the trail's files are to be encrypted with it (SSE-KMS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// Whether events are being recorded for delivery (`StartLogging`/`StopLogging`).
    pub is_logging: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_logging_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_logging_ms: Option<i64>,
    /// Basic event selectors as `PutEventSelectors` took them; `None`: the default (all
    /// management events, no data events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_selectors: Option<Vec<Value>>,
    /// Advanced event selectors; exclusive with `event_selectors`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_event_selectors: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TrailTag>,
}

impl Body for Trail {
    const KIND: &'static str = "trail";
}

/// Where a trail's delivery stands (kind `trail_delivery`, keyed by the trail's name, in its
/// account): written only together with what it describes, in one transaction (the log file
/// that delivered events, the digest that signed files), so a crash never delivers an event
/// twice or loses one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TrailDelivery {
    /// The trail's ARN (a record moved to another trail no longer matches it).
    pub trail_arn: String,
    /// The next event of the account's log to consider: every one before it is delivered or
    /// was not selected.
    pub next: u64,
    /// Set when logging stopped: events from here on are not the trail's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<u64>,
    /// Ranges `[from, to)` of the log while the trail was not logging (stopped, then started
    /// again before the delivery caught up): skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<(u64, u64)>,
    /// Each region's digest chain (trails with log file validation).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub chains: std::collections::BTreeMap<String, DigestChain>,
    /// When a log file, and a digest, was last delivered (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_digest_ms: Option<i64>,
    /// The error code of the last delivery (or digest) that failed since the last that did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest_error: Option<String>,
}

impl Body for TrailDelivery {
    const KIND: &'static str = "trail_delivery";
}

/// One region's digest chain: the log files delivered since the last digest, and that
/// digest (the next one names it and signs over its signature).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DigestChain {
    /// Where the next digest's period starts (ms since the epoch).
    pub start_ms: i64,
    /// Log files delivered since the last digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<LogFile>,
    /// The last digest: bucket, key and hex signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<(String, String, String)>,
}

/// A delivered log file as its digest lists it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LogFile {
    pub bucket: String,
    pub key: String,
    /// SHA-256 of the file's uncompressed content, hex.
    pub sha256: String,
    pub oldest_ms: i64,
    pub newest_ms: i64,
}

/// A key that signs digest files (kind `digest_key`, in the operator realm, keyed by its
/// fingerprint): its public half, and its private half sealed by the root of trust for this
/// fingerprint (never in the clear on disk).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DigestKey {
    /// PKCS #1 `RSAPublicKey` DER, base64.
    pub public_key: String,
    /// The PKCS #8 private key as the root of trust sealed it, base64; empty when the root of
    /// trust holds the key itself (an HSM: `held_label`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sealed_private_key: String,
    /// The label of the private key in the HSM that made it (non-extractable, signs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_label: Option<String>,
    /// When it started signing, and when the next key takes over (ms since the epoch).
    pub valid_from_ms: i64,
    pub valid_until_ms: i64,
}

impl Body for DigestKey {
    const KIND: &'static str = "digest_key";
}
