//! URI encoding and path normalization exactly as SigV4 canonicalization defines them.

use std::borrow::Cow;

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Percent-encodes every byte but the unreserved ones (`A-Z a-z 0-9 - _ . ~`), and `/` when
/// `keep_slash`; hex digits are uppercase.
pub fn uri_encode(input: &str, keep_slash: bool) -> Cow<'_, str> {
    if input.bytes().all(|b| is_unreserved(b) || (keep_slash && b == b'/')) {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len() + 16);
    for b in input.bytes() {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0')));
            out.push(char::from(HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0')));
        }
    }
    Cow::Owned(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (an invalid escape stays as written; `+` stays `+`). Invalid UTF-8 in
/// the result is replaced, which can only make a signature fail, never pass.
pub fn percent_decode(input: &str) -> Cow<'_, str> {
    if !input.contains('%') {
        return Cow::Borrowed(input);
    }
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex_value);
            let lo = bytes.get(i + 2).copied().and_then(hex_value);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Removes empty, `.` and `..` segments (RFC 3986 dot-segment removal plus slash collapsing),
/// keeping a trailing slash.
pub fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    out.push('/');
    out.push_str(&segments.join("/"));
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if trailing && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// The canonical query string: every parameter decoded then encoded once, sorted by name then
/// value, `name=value` joined by `&`; `skip` names parameters to leave out (the signature).
pub fn canonical_query(query: &str, skip: &[&str]) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        if skip.contains(&name) {
            continue;
        }
        pairs.push((
            uri_encode(&percent_decode(name), false).into_owned(),
            uri_encode(&percent_decode(value), false).into_owned(),
        ));
    }
    pairs.sort();
    let mut out = String::with_capacity(query.len() + 16);
    for (i, (n, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(n);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    hex_into(bytes, &mut out);
    out
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Appends lowercase hex to `out`.
pub fn hex_into(bytes: &[u8], out: &mut String) {
    for b in bytes {
        out.push(char::from(HEX_LOWER.get(usize::from(b >> 4)).copied().unwrap_or(b'0')));
        out.push(char::from(HEX_LOWER.get(usize::from(b & 15)).copied().unwrap_or(b'0')));
    }
}

/// Decodes exactly 64 lowercase-or-uppercase hex digits into 32 bytes.
pub fn unhex32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = pair.first().copied().and_then(hex_value)?;
        let lo = pair.get(1).copied().and_then(hex_value)?;
        *o = hi << 4 | lo;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(uri_encode("a b/c~", true), "a%20b/c~");
        assert_eq!(uri_encode("a b/c", false), "a%20b%2Fc");
        assert_eq!(uri_encode("ሴ", false), "%E1%88%B4");
        assert_eq!(percent_decode("a%20b%zz%2"), "a b%zz%2");
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/example/.."), "/");
        assert_eq!(normalize_path("/example/../.."), "/");
        assert_eq!(normalize_path("/./example/./"), "/example/");
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(normalize_path("/a/b/../c"), "/a/c");
    }

    #[test]
    fn query() {
        assert_eq!(canonical_query("b=2&a=1&a=0&c", &[]), "a=0&a=1&b=2&c=");
        assert_eq!(canonical_query("X-Amz-Signature=x&a=%7E", &["X-Amz-Signature"]), "a=~");
    }
}
