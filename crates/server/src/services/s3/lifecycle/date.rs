//! Lifecycle dates: an ISO 8601 `Date` of a rule, which S3 requires to be a midnight UTC.

use super::rules::DAY_MS;
use crate::error::ApiError;
use crate::services::s3::s3err;
use crate::support::time::parse_iso8601;

/// A lifecycle `Date` (ISO 8601), which must be a midnight UTC (not before 1970), in
/// milliseconds since the epoch.
///
/// # Errors
/// `InvalidArgument` for anything else (`20200101`, which botocore sends as the epoch second
/// it reads as, included).
pub(super) fn midnight(text: &str) -> Result<i64, ApiError> {
    date_ms(text.trim())
        .filter(|ms| *ms >= 0 && ms.rem_euclid(DAY_MS) == 0)
        .ok_or_else(|| s3err(400, "InvalidArgument", "'Date' must be at midnight GMT"))
}

/// `YYYY-MM-DD`, or a date-time as [`parse_iso8601`] reads it (with `Z` or `±HH:MM`), in
/// milliseconds since the epoch.
fn date_ms(text: &str) -> Option<i64> {
    if text.len() == 10 {
        return parse_iso8601(&format!("{text}T00:00:00Z"));
    }
    parse_iso8601(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Dates: midnights UTC in the forms ISO 8601 allows; anything else is refused.
    #[test]
    fn dates_must_be_midnights_utc() {
        let day = 1_506_470_400_000; // 2017-09-27
        for text in [
            "2017-09-27",
            "2017-09-27T00:00:00Z",
            "2017-09-27T00:00:00.000Z",
            "2017-09-27T00:00:00+00:00",
            "2017-09-27T02:00:00+02:00",
            "2017-09-26T22:00:00-02:00",
        ] {
            assert_eq!(midnight(text).unwrap(), day, "{text}");
        }
        for text in [
            "2017-09-27T00:00:01Z",
            "2017-09-27T00:00:00.001Z",
            "2017-09-27T01:00:00Z",
            "2017-09-27T00:00:00+01:00",
            "20170927",
            "2017-02-30",
            "2017-13-01",
            "2017-9-27",
            "",
            "tomorrow",
        ] {
            assert!(midnight(text).is_err(), "{text}");
        }
        assert_eq!(midnight("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(midnight("2000-02-29").unwrap(), 951_782_400_000);
        assert!(midnight("1969-12-31").is_err(), "before the epoch");
    }
}
