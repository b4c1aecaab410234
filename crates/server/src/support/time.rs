//! Time as the wire formats write it.

use audit::event::EventTime;

/// Now, in milliseconds since the epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

/// ISO 8601 in UTC, seconds precision (IAM's and S3's XML dates; empty if out of range).
pub(crate) fn iso8601(ms: i64) -> String {
    EventTime::from_unix_millis(u64::try_from(ms).unwrap_or(0))
        .map_or_else(|_| String::new(), |t| t.to_string())
}

/// Seconds since the epoch as a JSON number (KMS's and CloudTrail's JSON dates).
pub(crate) fn epoch_seconds(ms: i64) -> serde_json::Value {
    serde_json::json!(epoch_seconds_f64(ms))
}

/// Seconds since the epoch, with milliseconds, as a number.
pub(crate) fn epoch_seconds_f64(ms: i64) -> f64 {
    // Millisecond precision survives the conversion to f64 for any realistic date.
    #[allow(clippy::cast_precision_loss)]
    let secs = ms as f64 / 1000.0;
    secs
}
