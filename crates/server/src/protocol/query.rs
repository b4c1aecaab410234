//! The AWS query protocol (IAM, STS): form-encoded parameters in, XML out.

use crate::error::ApiError;
use crate::protocol::xml::{Writer, Xml};

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
pub fn parse_form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    sigv4::encode::percent_decode(&s.replace('+', " ")).into_owned()
}

/// The first value of a parameter.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Escapes text for XML element content and attributes.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    xml_escape_into(&mut out, text);
    out
}

/// Appends `text` to `out`, escaped for XML element content and attributes.
pub fn xml_escape_into(out: &mut String, text: &str) {
    // Most texts (ids, ARNs, dates) have nothing to escape: copied whole.
    if !text.bytes().any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'')) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

/// A query-protocol success response: `<{Action}Response xmlns=..><{Action}Result>{result}..`.
pub fn response(action: &str, namespace: &str, result: &Xml, request_id: &str) -> String {
    let mut w = Writer::new();
    w.elem_named(&format!("{action}Response"), &[("xmlns", namespace)], |w| {
        w.elem_named(&format!("{action}Result"), &[], |w| {
            w.fragment(result);
        });
        w.elem("ResponseMetadata", |w| {
            w.text("RequestId", request_id);
        });
    });
    w.finish()
}

/// A query-protocol error response.
pub fn error_response(e: &ApiError, namespace: &str, request_id: &str) -> String {
    let mut w = Writer::new();
    w.elem_named("ErrorResponse", &[("xmlns", namespace)], |w| {
        w.elem("Error", |w| {
            w.text("Type", if e.sender_fault { "Sender" } else { "Receiver" })
                .text("Code", &e.code)
                .text("Message", &e.message);
        });
        w.text("RequestId", request_id);
    });
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_escaping() {
        let p = parse_form("Action=GetCallerIdentity&Version=2011-06-15&Name=a+b%2Fc&Empty=");
        assert_eq!(param(&p, "Action"), Some("GetCallerIdentity"));
        assert_eq!(param(&p, "Name"), Some("a b/c"));
        assert_eq!(param(&p, "Empty"), Some(""));
        assert_eq!(xml_escape("<a & 'b'>"), "&lt;a &amp; &apos;b&apos;&gt;");
    }
}
