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
