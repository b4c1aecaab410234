//! XML: a writer that escapes every text it is given (responses are built with it, element by
//! element, never by formatting strings), S3's namespace, and reading elements of a request
//! body.

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

/// Builds XML. Element names are the code's (`&'static str`); every text and attribute value
/// is data and is escaped, so a tenant's key, tag or policy can never close an element or open
/// another.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

/// A piece of XML a [`Writer`] made, to be put into another ([`Writer::fragment`]). Only a
/// writer makes one, so a fragment never carries unescaped data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Xml(String);

impl Xml {
    /// The XML.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The XML, to send.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What `content` writes, as a fragment.
pub fn build(content: impl FnOnce(&mut Writer)) -> Xml {
    let mut w = Writer::new();
    content(&mut w);
    w.into_xml()
}

impl Writer {
    /// An empty document fragment.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// `<name>text</name>`, the text escaped.
    pub fn text(&mut self, name: &'static str, text: &str) -> &mut Writer {
        self.open(name);
        crate::protocol::query::xml_escape_into(&mut self.out, text);
        self.close(name)
    }

    /// `<name>value</name>` for a number, a boolean or anything else that displays (escaped).
    pub fn value(&mut self, name: &'static str, value: impl std::fmt::Display) -> &mut Writer {
        self.text(name, &value.to_string())
    }

    /// [`Writer::text`] when there is a text.
    pub fn opt(&mut self, name: &'static str, text: Option<&str>) -> &mut Writer {
        if let Some(t) = text {
            self.text(name, t);
        }
        self
    }

    /// `<name>...</name>` with what `content` writes inside.
    pub fn elem(&mut self, name: &'static str, content: impl FnOnce(&mut Writer)) -> &mut Writer {
        self.open(name);
        content(self);
        self.close(name)
    }

    /// `<name xmlns="ns">...</name>`.
    pub fn root(
        &mut self,
        name: &'static str,
        ns: &'static str,
        content: impl FnOnce(&mut Writer),
    ) -> &mut Writer {
        self.with_attributes(name, &[("xmlns", ns)], content)
    }

    /// `<name a="v" ...>...</name>`, each value escaped.
    pub fn with_attributes(
        &mut self,
        name: &'static str,
        attributes: &[(&'static str, &str)],
        content: impl FnOnce(&mut Writer),
    ) -> &mut Writer {
        self.elem_named(name, attributes, content)
    }

    /// Text inside the element being written, escaped (`<LocationConstraint>eu-west-1</...>`).
    pub fn chars(&mut self, text: &str) -> &mut Writer {
        crate::protocol::query::xml_escape_into(&mut self.out, text);
        self
    }

    /// XML another writer made (a fragment shared by several answers).
    pub fn fragment(&mut self, xml: &Xml) -> &mut Writer {
        self.out.push_str(&xml.0);
        self
    }

    /// Each fragment, in order.
    pub fn fragments<'x>(&mut self, xml: impl IntoIterator<Item = &'x Xml>) -> &mut Writer {
        for x in xml {
            self.fragment(x);
        }
        self
    }

    /// An element whose name the code makes from its own names (`{Operation}Response`, from
    /// the operation's name; never from request data), with `attributes` (values escaped).
    pub fn elem_named(
        &mut self,
        name: &str,
        attributes: &[(&'static str, &str)],
        content: impl FnOnce(&mut Writer),
    ) -> &mut Writer {
        self.out.push('<');
        self.out.push_str(name);
        for (attribute, value) in attributes {
            self.out.push(' ');
            self.out.push_str(attribute);
            self.out.push_str("=\"");
            crate::protocol::query::xml_escape_into(&mut self.out, value);
            self.out.push('"');
        }
        self.out.push('>');
        content(self);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// What was written, as a fragment.
    pub fn into_xml(self) -> Xml {
        Xml(self.out)
    }

    /// The XML written.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    fn open(&mut self, name: &'static str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    fn close(&mut self, name: &'static str) -> &mut Writer {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }
}

/// A document whose root `name` (in namespace `ns`) has what `content` writes.
pub fn document(name: &'static str, ns: &'static str, content: impl FnOnce(&mut Writer)) -> String {
    Writer::new().root(name, ns, content).finish()
}

/// The text of the first `<name>` element of `body` (namespaces and attributes ignored).
pub fn element(body: &[u8], name: &str) -> Option<String> {
    elements(body, name).into_iter().next()
}

/// The texts of every `<name>` element of `body`, in order.
pub fn elements(body: &[u8], name: &str) -> Vec<String> {
    raw_elements(body, name).iter().map(|inner| unescape(inner)).collect()
}

/// The inner XML of every `<name>` element of `body`, in order and still escaped: to read the
/// members of each (a lifecycle configuration's `Rule`s, a CORS configuration's `CORSRule`s) with [`element`] and [`elements`],
/// which unescape their texts once.
pub fn sections(body: &[u8], name: &str) -> Vec<String> {
    raw_elements(body, name)
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
        if !after.starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace()) {
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        // An empty element: `<Name/>`, or `<Name />` as Python's ElementTree (botocore) writes
        // an empty structure or string.
        if after.get(..gt).is_some_and(|tag| tag.ends_with('/')) {
            out.push(String::new());
            rest = after.get(gt + 1..).unwrap_or_default();
            continue;
        }
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
    fn writes_escaped_text_only() {
        let xml = document("ListBucketResult", NS, |w| {
            w.text("Name", "b").value("MaxKeys", 1000).value("IsTruncated", false);
            w.elem("Contents", |w| {
                w.text("Key", "</Key><Key>evil&").opt("ETag", None).opt("Owner", Some("o'1"));
            });
        });
        assert_eq!(
            xml,
            format!(
                "<ListBucketResult xmlns=\"{NS}\"><Name>b</Name><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>&lt;/Key&gt;&lt;Key&gt;evil&amp;</Key><Owner>o&apos;1</Owner></Contents></ListBucketResult>"
            )
        );
        let part = build(|w| {
            w.text("A", "1");
        });
        assert_eq!(
            Writer::new()
                .elem("B", |w| {
                    w.fragment(&part);
                })
                .finish(),
            "<B><A>1</A></B>"
        );
    }

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
        // botocore's empty elements have a space: `<Filter />`, `<Prefix />`.
        let rule = b"<Rule><Filter /><Prefix /><ID>r</ID></Rule>";
        assert_eq!(sections(rule, "Filter"), vec![String::new()]);
        assert_eq!(element(rule, "Prefix").as_deref(), Some(""));
        assert_eq!(element(rule, "ID").as_deref(), Some("r"));
        assert_eq!(sections(b"<Filter>\n<Prefix>p</Prefix></Filter>", "Filter").len(), 1);
    }
}
