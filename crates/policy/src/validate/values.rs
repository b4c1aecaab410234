//! Condition values: values that do not parse for their operator's type, variables where they
//! cannot be used, duplicates, wildcards without a `Like` operator, redundant numeric bounds and
//! IP ranges (host bits, private ranges with `aws:SourceIp`).

use super::condition::type_name;
use super::{Ctx, Findings};
use crate::ast::{Condition, ConditionValue, Statement, Version};
use crate::condition::{OpKind, Typed, ValueType};
use crate::value::IpNet;
use std::net::IpAddr;

/// Every value check of one statement.
pub(crate) fn check(cx: &Ctx, st: &Statement, out: &mut Findings) {
    let substitutes = cx.policy.version == Version::V2012_10_17;
    for c in &st.conditions {
        one(c, substitutes, out);
    }
}

fn one(c: &Condition, substitutes: bool, out: &mut Findings) {
    let vt = c.operator.kind.value_type();
    let textual = matches!(vt, ValueType::String | ValueType::Arn);
    for v in &c.values {
        if substitutes && v.raw.contains("${") && !textual {
            out.emit(
                "INVALID_VARIABLE_FOR_OPERATOR",
                &v.location,
                format!(
                    "`{}`: policy variables work only with String and ARN operators, not `{}`",
                    v.raw, c.operator_raw
                ),
            );
            continue;
        }
        typed(c, v, vt, out);
        if v.raw.is_empty() {
            out.emit(
                "EMPTY_CONDITION_VALUE",
                &v.location,
                format!(
                    "an empty value for `{}` matches only an empty request value, which is \
                     rarely meant: remove it, or use `Null` to test whether the key is present",
                    c.key
                ),
            );
        }
        if matches!(
            c.operator.kind,
            OpKind::StringEquals
                | OpKind::StringNotEquals
                | OpKind::StringEqualsIgnoreCase
                | OpKind::StringNotEqualsIgnoreCase
        ) && strip_variables(&v.raw).contains(['*', '?'])
        {
            out.emit(
                "WILDCARD_WITHOUT_LIKE_OPERATOR",
                &v.location,
                format!(
                    "`{}` has `*` or `?`, which `{}` compares literally: if you meant a \
                     wildcard, use `StringLike` or `StringNotLike`",
                    v.raw, c.operator_raw
                ),
            );
        }
    }
    duplicates(c, out);
    booleans(c, out);
    numeric_bounds(c, out);
    if vt == ValueType::Ip {
        ip_ranges(c, out);
    }
}

/// The text without its `${...}` variables (whose escapes `${*}` and `${?}` are literal).
fn strip_variables(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i + 2..).unwrap_or_default();
        match after.find('}') {
            Some(end) => rest = after.get(end + 1..).unwrap_or_default(),
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

fn typed(c: &Condition, v: &ConditionValue, vt: ValueType, out: &mut Findings) {
    if v.typed == Typed::Invalid {
        let (code, want) = match vt {
            ValueType::Numeric => ("TYPE_MISMATCH_NUMBER", "a number such as `10` or `2.5`"),
            ValueType::Date => {
                ("TYPE_MISMATCH_DATE", "a date such as `2024-01-31` or `2024-01-31T12:00:00Z`")
            }
            ValueType::Bool => ("TYPE_MISMATCH_BOOLEAN", "`true` or `false`"),
            ValueType::Ip => {
                ("TYPE_MISMATCH_IP_RANGE", "an IP address or CIDR range such as `203.0.113.0/24`")
            }
            ValueType::Binary => ("TYPE_MISMATCH_BINARY", "base64-encoded bytes"),
            ValueType::Null => {
                ("INVALID_NULL_VALUE", "`true` (the key is absent) or `false` (the key is present)")
            }
            ValueType::String | ValueType::Arn => return,
        };
        out.emit(
            code,
            &v.location,
            format!(
                "`{}` is not a valid {} value for `{}`, so it never matches: use {want}",
                v.raw,
                type_name(vt),
                c.operator_raw
            ),
        );
        return;
    }
    if vt == ValueType::Date && v.raw.trim().bytes().all(|b| b.is_ascii_digit()) {
        out.emit(
            "INVALID_DATE_VALUE",
            &v.location,
            format!(
                "`{}` is read as seconds since 1970, which is easy to get wrong: write the date \
                 as ISO 8601, such as `2024-01-31T12:00:00Z`",
                v.raw
            ),
        );
    }
}

fn duplicates(c: &Condition, out: &mut Findings) {
    let fold = matches!(
        c.operator.kind,
        OpKind::StringEqualsIgnoreCase | OpKind::StringNotEqualsIgnoreCase
    );
    let same = |a: &str, b: &str| if fold { a.to_lowercase() == b.to_lowercase() } else { a == b };
    if c.values.len() > super::redundancy::MAX_ENTRIES {
        return;
    }
    for (i, v) in c.values.iter().enumerate() {
        if c.values.iter().take(i).any(|w| same(&w.raw, &v.raw)) {
            out.emit(
                "DUPLICATE_CONDITION_VALUE",
                &v.location,
                format!("`{}` is listed more than once for `{}`: remove the repeat", v.raw, c.key),
            );
        }
    }
}

fn booleans(c: &Condition, out: &mut Findings) {
    if c.operator.kind != OpKind::Bool {
        return;
    }
    let has = |b: bool| c.values.iter().any(|v| v.typed == Typed::Bool(b));
    if has(true) && has(false) {
        out.emit(
            "INVALID_CONDITION_MULTIPLE_BOOLEAN",
            &c.key_location,
            format!(
                "`{}` is given both `true` and `false`, so the condition holds whenever the key \
                 is present: keep one value",
                c.key
            ),
        );
    }
}

fn numeric_bounds(c: &Condition, out: &mut Findings) {
    let (less, name) = match c.operator.kind {
        OpKind::NumericLessThan | OpKind::NumericLessThanEquals => (true, "greatest"),
        OpKind::NumericGreaterThan | OpKind::NumericGreaterThanEquals => (false, "least"),
        _ => return,
    };
    let numbers: Vec<(f64, &str)> = c
        .values
        .iter()
        .filter_map(|v| match v.typed {
            Typed::Number(n) => Some((n, v.raw.as_str())),
            _ => None,
        })
        .collect();
    if numbers.len() < 2 {
        return;
    }
    let best = numbers.iter().copied().reduce(|a, b| {
        let better = if less { b.0 > a.0 } else { b.0 < a.0 };
        if better {
            b
        } else {
            a
        }
    });
    if let Some((_, raw)) = best {
        out.emit(
            "REDUNDANT_CONDITION_VALUE_NUM",
            &c.key_location,
            format!(
                "only the {name} value decides `{}` on `{}`: replace the values with `{raw}`",
                c.operator_raw, c.key
            ),
        );
    }
}

fn ip_ranges(c: &Condition, out: &mut Findings) {
    let mut private = 0usize;
    let mut public = 0usize;
    for v in &c.values {
        let Typed::Ip(net) = v.typed else { continue };
        if let Some(better) = host_bits(&v.raw, net) {
            out.emit(
                "IMPROVE_IP_RANGE",
                &v.location,
                format!(
                    "`{}` has bits set after its prefix, which are ignored: write `{better}`",
                    v.raw
                ),
            );
        }
        if is_private(&net) {
            private += 1;
        } else {
            public += 1;
        }
    }
    if c.key_lower != "aws:sourceip" || private == 0 {
        return;
    }
    let negated = c.operator.kind == OpKind::NotIpAddress;
    let (code, effect) = match (public == 0, negated) {
        (true, false) => ("PRIVATE_IP_ADDRESS", "the condition never holds"),
        (true, true) => ("PRIVATE_NOT_IP_ADDRESS", "the condition always holds"),
        (false, false) => ("PRIVATE_IP_ADDRESS_SUBSET", "the private ranges never match"),
        (false, true) => ("PRIVATE_NOT_IP_ADDRESS_SUBSET", "the private ranges exclude nothing"),
    };
    out.emit(
        code,
        &c.key_location,
        format!(
            "`aws:SourceIp` is the public address a request comes from, so {effect}: for \
             addresses inside a VPC use `aws:VpcSourceIp`"
        ),
    );
}

/// The range written without host bits, when the value has some.
fn host_bits(raw: &str, net: IpNet) -> Option<String> {
    let (addr, prefix) = raw.trim().split_once('/')?;
    let written: IpAddr = addr.parse().ok()?;
    let (same, canonical) = match (written, net) {
        (IpAddr::V4(a), IpNet::V4(bits, _)) => {
            (u32::from(a) == bits, std::net::Ipv4Addr::from(bits).to_string())
        }
        (IpAddr::V6(a), IpNet::V6(bits, _)) => {
            (u128::from(a) == bits, std::net::Ipv6Addr::from(bits).to_string())
        }
        _ => return None,
    };
    (!same).then(|| format!("{canonical}/{prefix}"))
}

fn is_private(net: &IpNet) -> bool {
    const PRIVATE: &[&str] = &[
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    ];
    PRIVATE.iter().filter_map(|p| IpNet::parse(p)).any(|p| p.contains(net))
}
