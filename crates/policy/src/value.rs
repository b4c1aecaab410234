//! Typed condition values: numbers, dates, IP ranges, booleans and base64 binaries, parsed
//! without a clock or any library beyond std.

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A point in time: seconds since the Unix epoch and nanoseconds within the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    pub secs: i64,
    /// Nanoseconds, 0..1e9.
    pub nanos: u32,
}

impl Timestamp {
    /// Parses ISO 8601 (`2024-01-31`, `2024-01-31T12:00:00Z`, `2024-01-31T12:00:00.5+02:00`,
    /// also the basic form `20240131T120000Z`) or an epoch time in seconds (`1706702400`).
    pub fn parse(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        if !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_digit() || b == b'-')
            && !text.get(1..).unwrap_or_default().contains('-')
        {
            return text.parse::<i64>().ok().map(|secs| Timestamp { secs, nanos: 0 });
        }
        parse_iso8601(text)
    }
}

fn take_digits(s: &mut &str, n: usize) -> Option<i64> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    *s = s.get(n..)?;
    head.parse().ok()
}

fn eat(s: &mut &str, c: char) -> bool {
    match s.strip_prefix(c) {
        Some(rest) => {
            *s = rest;
            true
        }
        None => false,
    }
}

fn parse_iso8601(text: &str) -> Option<Timestamp> {
    let mut s = text;
    let year = take_digits(&mut s, 4)?;
    let extended = eat(&mut s, '-');
    let month = take_digits(&mut s, 2)?;
    if extended && !eat(&mut s, '-') {
        return None;
    }
    let day = take_digits(&mut s, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (mut hour, mut minute, mut second, mut nanos, mut offset) = (0, 0, 0, 0u32, 0i64);
    if eat(&mut s, 'T') || eat(&mut s, 't') || eat(&mut s, ' ') {
        hour = take_digits(&mut s, 2)?;
        if extended && !eat(&mut s, ':') {
            return None;
        }
        minute = take_digits(&mut s, 2)?;
        if (extended && eat(&mut s, ':'))
            || (!extended && s.starts_with(|c: char| c.is_ascii_digit()))
        {
            second = take_digits(&mut s, 2)?;
            if eat(&mut s, '.') || eat(&mut s, ',') {
                let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
                if digits.is_empty() {
                    return None;
                }
                s = s.get(digits.len()..)?;
                let mut scaled = digits.chars().take(9).collect::<String>();
                while scaled.len() < 9 {
                    scaled.push('0');
                }
                nanos = scaled.parse().ok()?;
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        if eat(&mut s, 'Z') || eat(&mut s, 'z') {
        } else if let Some(sign) = s.chars().next().filter(|c| *c == '+' || *c == '-') {
            s = s.get(1..)?;
            let oh = take_digits(&mut s, 2)?;
            eat(&mut s, ':');
            let om = if s.is_empty() { 0 } else { take_digits(&mut s, 2)? };
            if oh > 23 || om > 59 {
                return None;
            }
            offset = (oh * 60 + om) * 60 * if sign == '-' { -1 } else { 1 };
        }
    }
    if !s.is_empty() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset;
    Some(Timestamp { secs, nanos })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a number the way IAM's Numeric operators accept it: an integer or a decimal.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let valid = !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && body.bytes().filter(|b| *b == b'.').count() <= 1
        && body.bytes().any(|b| b.is_ascii_digit());
    if valid {
        t.parse().ok()
    } else {
        None
    }
}

/// Compares two parsed numbers; NaN never occurs because `parse_number` rejects it.
pub fn cmp_numbers(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// Parses `true` / `false`, case-insensitively.
pub fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// An IPv4 or IPv6 network in CIDR notation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpNet {
    /// An IPv4 network: address bits and prefix length.
    V4(u32, u8),
    /// An IPv6 network: address bits and prefix length.
    V6(u128, u8),
}

impl IpNet {
    /// Parses `203.0.113.0/24`, `2001:db8::/32` or a bare address (a /32 or /128).
    pub fn parse(text: &str) -> Option<IpNet> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 3 {
                    return None;
                }
                (a, Some(p.parse::<u8>().ok()?))
            }
            None => (text, None),
        };
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => {
                let p = prefix.unwrap_or(32);
                (p <= 32).then(|| IpNet::V4(mask4(u32::from(a), p), p))
            }
            IpAddr::V6(a) => {
                let p = prefix.unwrap_or(128);
                (p <= 128).then(|| IpNet::V6(mask6(u128::from(a), p), p))
            }
        }
    }

    /// Whether the address (or every address of a network) `other` lies in this network.
    pub fn contains(&self, other: &IpNet) -> bool {
        match (*self, *other) {
            (IpNet::V4(net, p), IpNet::V4(addr, q)) => q >= p && mask4(addr, p) == net,
            (IpNet::V6(net, p), IpNet::V6(addr, q)) => q >= p && mask6(addr, p) == net,
            (IpNet::V6(net, p), IpNet::V4(addr, q)) => {
                // An IPv4 caller also matches an IPv4-mapped IPv6 range (::ffff:0:0/96).
                let mapped = u128::from(Ipv4Addr::from(addr).to_ipv6_mapped());
                q + 96 >= p && mask6(mapped, p) == net
            }
            (IpNet::V4(..), IpNet::V6(addr, q)) => match Ipv6Addr::from(addr).to_ipv4_mapped() {
                Some(v4) if q >= 96 => self.contains(&IpNet::V4(u32::from(v4), q - 96)),
                _ => false,
            },
        }
    }
}

fn mask4(addr: u32, prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        addr & (u32::MAX << (32 - u32::from(prefix)))
    }
}

fn mask6(addr: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        addr & (u128::MAX << (128 - u32::from(prefix)))
    }
}

/// Decodes standard base64 (with or without padding); `None` if it is not base64.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let trimmed = text.trim_end_matches('=');
    if text.len() - trimmed.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for b in trimmed.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    if bits >= 6 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let t = |s| Timestamp::parse(s).unwrap().secs;
        assert_eq!(t("1970-01-01"), 0);
        assert_eq!(t("2020-01-01T00:00:00Z"), 1_577_836_800);
        assert_eq!(t("2020-01-01T02:00:00+02:00"), 1_577_836_800);
        assert_eq!(t("20200101T000000Z"), 1_577_836_800);
        assert_eq!(t("1577836800"), 1_577_836_800);
        assert_eq!(Timestamp::parse("2020-01-01T00:00:00.5Z").unwrap().nanos, 500_000_000);
        for bad in ["2020-13-01", "2020-02-30", "yesterday", "2020-01-01T25:00:00Z", ""] {
            assert!(Timestamp::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ips() {
        let net = IpNet::parse("203.0.113.0/24").unwrap();
        assert!(net.contains(&IpNet::parse("203.0.113.7").unwrap()));
        assert!(!net.contains(&IpNet::parse("203.0.114.7").unwrap()));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(&IpNet::parse("2001:db8:1::1").unwrap()));
        assert!(!v6.contains(&IpNet::parse("2001:db9::1").unwrap()));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(&IpNet::parse("1.2.3.4").unwrap()));
        assert!(IpNet::parse("1.2.3.4/33").is_none());
        assert!(IpNet::parse("nope").is_none());
    }

    #[test]
    fn numbers_bools_base64() {
        assert_eq!(parse_number("10"), Some(10.0));
        assert_eq!(parse_number("-2.5"), Some(-2.5));
        assert_eq!(parse_number("1e3"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(decode_base64("QmluYXJ5"), Some(b"Binary".to_vec()));
        assert_eq!(decode_base64("QQ=="), Some(b"A".to_vec()));
        assert_eq!(decode_base64("Q"), None);
    }
}
