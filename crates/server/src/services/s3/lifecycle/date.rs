//! Lifecycle dates: an ISO 8601 `Date` of a rule, which S3 requires to be a midnight UTC.

use super::rules::DAY_MS;
use crate::error::ApiError;
use crate::services::s3::s3err;

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

/// `YYYY-MM-DD`, optionally `THH:MM:SS[.fff]` and `Z` or `±HH:MM`, in milliseconds since the
/// epoch.
fn date_ms(text: &str) -> Option<i64> {
    let (date, time) = match text.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut fields = date.split('-');
    let (y, m, d) = (fields.next()?, fields.next()?, fields.next()?);
    if fields.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d) = (digits(y)?, digits(m)?, digits(d)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let day = days_from_civil(y, m, d).checked_mul(DAY_MS)?;
    let Some(time) = time else { return Some(day) };
    let (clock, offset_ms) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else if let Some(at) = time.rfind(['+', '-']) {
        let (clock, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (h, mi) = zone.get(1..)?.split_once(':')?;
        if h.len() != 2 || mi.len() != 2 {
            return None;
        }
        (clock, sign * (digits(h)? * 3_600_000 + digits(mi)? * 60_000))
    } else {
        (time, 0)
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let mut parts = hms.split(':');
    let (h, mi, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || h.len() != 2 || mi.len() != 2 || s.len() != 2 {
        return None;
    }
    let (h, mi, s) = (digits(h)?, digits(mi)?, digits(s)?);
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut ms = h * 3_600_000 + mi * 60_000 + s * 1000;
    if let Some(f) = fraction {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Milliseconds; a finer fraction is not a time S3 keeps.
        let (millis, finer) = f.split_at(f.len().min(3));
        if finer.bytes().any(|b| b != b'0') {
            return None;
        }
        for (digit, unit) in millis.bytes().zip([100, 10, 1]) {
            ms += i64::from(digit - b'0') * unit;
        }
    }
    day.checked_add(ms)?.checked_sub(offset_ms)
}

/// A field of ASCII digits as a number.
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
