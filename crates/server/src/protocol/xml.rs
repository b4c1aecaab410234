//! The little XML S3 needs: escaping, its namespace, and reading one element of a request body.

/// S3's XML namespace.
pub const NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Escapes text for XML.
pub fn escape(text: &str) -> String {
    crate::protocol::query::xml_escape(text)
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The text of the first `<name>` element of `body` (namespaces and attributes ignored).
pub fn element(body: &[u8], name: &str) -> Option<String> {
    elements(body, name).into_iter().next()
}

/// The texts of every `<name>` element of `body`, in order.
pub fn elements(body: &[u8], name: &str) -> Vec<String> {
    raw_elements(body, name).iter().map(|inner| unescape(inner)).collect()
}

/// `(Key, VersionId)` of each `<Object>` of a `<Delete>` request.
pub fn delete_objects(body: &[u8]) -> Vec<(String, Option<String>)> {
    raw_elements(body, "Object")
        .iter()
        .map(|inner| {
            let key = element(inner.as_bytes(), "Key").unwrap_or_default();
            (key, element(inner.as_bytes(), "VersionId").filter(|v| !v.is_empty()))
        })
        .collect()
}

/// The inner XML of every `<name>` element, still escaped.
fn raw_elements(body: &[u8], name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    let open = format!("<{name}");
    let close = format!("</{name}>");
    while let Some(start) = rest.find(&open) {
        let after = rest.get(start + open.len()..).unwrap_or_default();
        // `<NameSuffix` is another element.
        if !after.starts_with('>') && !after.starts_with(' ') && !after.starts_with('/') {
            rest = after;
            continue;
        }
        if after.starts_with("/>") {
            out.push(String::new());
            rest = after.get(2..).unwrap_or_default();
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        let inner_start = after.get(gt + 1..).unwrap_or_default();
        let Some(end) = inner_start.find(&close) else { break };
        out.push(inner_start.get(..end).unwrap_or_default().to_string());
        rest = inner_start.get(end + close.len()..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements() {
        let body = b"<?xml version=\"1.0\"?><Delete xmlns=\"x\"><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId>1</VersionId></Object><Quiet>true</Quiet></Delete>";
        assert_eq!(elements(body, "Key"), vec!["a&b".to_string(), "c".to_string()]);
        assert_eq!(element(body, "Quiet").as_deref(), Some("true"));
        assert_eq!(elements(body, "Object").len(), 2);
        let objects = delete_objects(b"<Delete><Object><Key>a&amp;lt;b</Key></Object><Object><Key>c</Key><VersionId>v1</VersionId></Object></Delete>");
        assert_eq!(
            objects,
            vec![("a&lt;b".to_string(), None), ("c".to_string(), Some("v1".to_string()))]
        );
        assert_eq!(element(b"<A><KeyMarker>x</KeyMarker></A>", "Key"), None);
        assert_eq!(element(b"<LocationConstraint/>", "LocationConstraint").as_deref(), Some(""));
    }
}
