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

/// ISO 8601 in UTC with milliseconds (`2030-01-01T00:00:00.000Z`: S3's Object Lock dates).
pub(crate) fn iso8601_millis(ms: i64) -> String {
    let seconds = iso8601(ms);
    match seconds.strip_suffix('Z') {
        Some(head) => format!("{head}.{:03}Z", ms.rem_euclid(1000)),
        None => seconds,
    }
}

/// Reads an ISO 8601 date-time as clients write it (`2030-01-01T00:00:00Z`, with or without a
/// fraction of a second, in UTC or with an offset `+HH:MM`), in milliseconds since the epoch.
pub(crate) fn parse_iso8601(text: &str) -> Option<i64> {
    let text = text.trim();
    let (head, rest) = (text.get(..19)?, text.get(19..)?);
    let seconds = EventTime::parse(&format!("{head}Z")).ok()?.unix_seconds();
    let seconds = i64::try_from(seconds).ok()?;
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(after) => {
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            (after.get(..digits)?, after.get(digits..)?)
        }
        None => ("", rest),
    };
    if rest.starts_with('.') && fraction.is_empty() {
        return None;
    }
    let millis: i64 = format!("{fraction:0<3}").get(..3)?.parse().ok()?;
    let offset_minutes = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = zone.get(1..)?.split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 60 + m)
        }
    };
    Some((seconds - offset_minutes * 60) * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_dates_read_as_clients_write_them() {
        let new_year = 1_893_456_000_000; // 2030-01-01T00:00:00Z
        assert_eq!(parse_iso8601("2030-01-01T00:00:00Z"), Some(new_year));
        assert_eq!(parse_iso8601("2030-01-01T00:00:00.000Z"), Some(new_year));
        assert_eq!(parse_iso8601("2030-01-01T00:00:00.123456Z"), Some(new_year + 123));
        assert_eq!(parse_iso8601("2030-01-01T01:00:00+01:00"), Some(new_year));
        assert_eq!(parse_iso8601("2029-12-31T23:00:00-01:00"), Some(new_year));
        for bad in [
            "20300101",
            "2030-01-01",
            "2030-01-01T00:00:00",
            "2030-13-01T00:00:00Z",
            "2030-01-01T00:00:00.Z",
            "2030-01-01T00:00:00+1:00",
            "x",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
        assert_eq!(iso8601_millis(new_year + 7), "2030-01-01T00:00:00.007Z");
        assert_eq!(parse_iso8601(&iso8601_millis(new_year + 7)), Some(new_year + 7));
    }
}
