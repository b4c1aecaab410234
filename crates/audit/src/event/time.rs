//! CloudTrail's time format: ISO 8601 in UTC to the second, `2024-01-31T23:59:59Z`. Computed
//! with Howard Hinnant's civil-calendar algorithms; no clock, no time zone database.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::EventError;

/// Seconds in a day.
const DAY: u64 = 86_400;
/// The last second of 9999-12-31, the end of four-digit years.
const MAX_UNIX_SECONDS: u64 = 253_402_300_799;

/// A UTC time to the second, from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z; its text form
/// (`Display`, serde) is CloudTrail's `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTime {
    unix_seconds: u64,
}

impl EventTime {
    /// The time `unix_seconds` seconds after the Unix epoch.
    ///
    /// # Errors
    /// [`EventError::TimeOutOfRange`] past 9999-12-31T23:59:59Z.
    pub fn from_unix_seconds(unix_seconds: u64) -> Result<Self, EventError> {
        if unix_seconds > MAX_UNIX_SECONDS {
            return Err(EventError::TimeOutOfRange);
        }
        Ok(Self { unix_seconds })
    }

    /// The time `unix_millis` milliseconds after the Unix epoch, truncated to the second.
    ///
    /// # Errors
    /// [`EventError::TimeOutOfRange`] past 9999-12-31T23:59:59Z.
    pub fn from_unix_millis(unix_millis: u64) -> Result<Self, EventError> {
        Self::from_unix_seconds(unix_millis / 1000)
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub fn unix_seconds(&self) -> u64 {
        self.unix_seconds
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` exactly (no fractions, no offsets, no leap seconds).
    ///
    /// # Errors
    /// [`EventError::BadTime`] if `text` is not that form or names no real date.
    pub fn parse(text: &str) -> Result<Self, EventError> {
        parse_fields(text).ok_or_else(|| EventError::BadTime(text.to_owned()))
    }
}

fn parse_fields(text: &str) -> Option<EventTime> {
    let b = text.as_bytes();
    if b.len() != 20 {
        return None;
    }
    let punct = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'Z')];
    if punct.iter().any(|&(i, c)| b.get(i) != Some(&c)) {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u64> {
        let digits = b.get(from..to)?;
        digits
            .iter()
            .try_fold(0u64, |acc, &d| d.is_ascii_digit().then(|| acc * 10 + u64::from(d - b'0')))
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if year < 1970 || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    EventTime::from_unix_seconds(days * DAY + hour * 3600 + minute * 60 + second).ok()
}

#[expect(
    clippy::manual_is_multiple_of,
    reason = "the workspace's rust-version is 1.85; `is_multiple_of` is 1.87"
)]
fn is_leap(year: u64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date on or after it (Hinnant's `days_from_civil`, with the era
/// arithmetic in unsigned integers since years here are at least 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = civil_from_days(self.unix_seconds / DAY);
        let secs = self.unix_seconds % DAY;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

impl Serialize for EventTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(secs: u64) -> String {
        EventTime::from_unix_seconds(secs).map(|t| t.to_string()).unwrap_or_default()
    }

    #[test]
    fn known_instants() {
        assert_eq!(show(0), "1970-01-01T00:00:00Z");
        assert_eq!(show(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(show(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(show(4_107_542_399), "2100-02-28T23:59:59Z");
        assert_eq!(show(MAX_UNIX_SECONDS), "9999-12-31T23:59:59Z");
        assert!(EventTime::from_unix_seconds(MAX_UNIX_SECONDS + 1).is_err());
    }

    #[test]
    fn parse_round_trips_and_rejects() {
        for s in [0, 59, 86_399, 951_782_400, 1_700_000_000, 4_107_542_399, MAX_UNIX_SECONDS] {
            let text = show(s);
            assert_eq!(EventTime::parse(&text).map(|t| t.unix_seconds()), Ok(s), "{text}");
        }
        for bad in [
            "2023-11-14T22:13:20",
            "2023-11-14T22:13:20.000Z",
            "2023-11-14 22:13:20Z",
            "2023-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-00-01T00:00:00Z",
            "2023-04-31T00:00:00Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T23:60:00Z",
            "2023-11-14T23:59:60Z",
            "1969-12-31T23:59:59Z",
            "+023-11-14T22:13:20Z",
        ] {
            assert!(EventTime::parse(bad).is_err(), "{bad}");
        }
    }
}
