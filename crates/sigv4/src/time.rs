//! The two date formats SigV4 requests carry, as seconds since the Unix epoch.

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn epoch(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    let valid = (1..=12).contains(&mo)
        && (1..=31).contains(&d)
        && (0..=23).contains(&h)
        && (0..=59).contains(&mi)
        && (0..=60).contains(&s);
    valid.then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// Parses the ISO 8601 basic form `20150830T123600Z`.
pub fn parse_amz_date(text: &str) -> Option<i64> {
    if text.len() != 16 || text.get(8..9) != Some("T") || text.get(15..) != Some("Z") {
        return None;
    }
    epoch(
        digits(text.get(0..4)?)?,
        digits(text.get(4..6)?)?,
        digits(text.get(6..8)?)?,
        digits(text.get(9..11)?)?,
        digits(text.get(11..13)?)?,
        digits(text.get(13..15)?)?,
    )
}

/// Parses an RFC 7231 IMF-fixdate (`Sun, 30 Aug 2015 12:36:00 GMT`) and returns the epoch
/// seconds and the same instant in the basic ISO form SigV4 signs.
pub fn parse_http_date(text: &str) -> Option<(i64, String)> {
    let mut parts = text.split_whitespace();
    let _weekday = parts.next()?;
    let day = digits(parts.next()?)?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year = digits(parts.next()?)?;
    let mut hms = parts.next()?.split(':');
    let (h, mi, s) = (digits(hms.next()?)?, digits(hms.next()?)?, digits(hms.next()?)?);
    if parts.next()? != "GMT" || parts.next().is_some() || hms.next().is_some() {
        return None;
    }
    let secs = epoch(year, month, day, h, mi, s)?;
    Some((secs, format!("{year:04}{month:02}{day:02}T{h:02}{mi:02}{s:02}Z")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse_amz_date("20150830T123600"), None);
        assert_eq!(parse_amz_date("2015083OT123600Z"), None);
        assert_eq!(
            parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"),
            Some((1_440_938_160, "20150830T123600Z".to_string()))
        );
    }
}
