//! `multipart/form-data` bodies (RFC 7578), as browsers send an S3 POST-object form: each part
//! a field with its `name` (and a `filename` for a file), read whole. S3 reads the fields up to
//! and including the `file` field; what follows it is ignored, as S3 ignores it.

/// One field of a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The field's name, as sent.
    pub name: String,
    /// The file name a file field carries.
    pub filename: Option<String>,
    /// The part's own `Content-Type`, if it has one.
    pub content_type: Option<String>,
    /// The part's bytes.
    pub value: Vec<u8>,
}

/// Why a body is not a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAForm(pub &'static str);

/// The boundary a `Content-Type` of `multipart/form-data` names, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .find_map(|p| {
            let (name, value) = p.trim().split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| value.trim().trim_matches('"').to_string())
        })
        .filter(|b| !b.is_empty() && b.len() <= 70)
}

/// The fields of `body`, delimited by `boundary`, up to and including the one named `file`.
///
/// # Errors
/// A body that does not open with the boundary, a part without its headers' end or without a
/// `Content-Disposition: form-data; name=...`, or a body that ends before its closing boundary.
pub fn parse(boundary: &str, body: &[u8]) -> Result<Vec<Field>, NotAForm> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut rest = body;
    // The preamble, then the first delimiter.
    let start =
        find(rest, &delimiter).ok_or(NotAForm("the body does not open with its boundary"))?;
    rest = rest.get(start + delimiter.len()..).unwrap_or_default();
    let separator = [b"\r\n".as_slice(), &delimiter].concat();
    let mut fields = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(fields);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or(NotAForm("a boundary is not followed by a line end"))?;
        let end_of_headers =
            find(rest, b"\r\n\r\n").ok_or(NotAForm("a part's headers do not end"))?;
        let headers =
            String::from_utf8_lossy(rest.get(..end_of_headers).unwrap_or_default()).into_owned();
        rest = rest.get(end_of_headers + 4..).unwrap_or_default();
        let end =
            find(rest, &separator).ok_or(NotAForm("the body ends before its closing boundary"))?;
        let value = rest.get(..end).unwrap_or_default().to_vec();
        rest = rest.get(end + separator.len()..).unwrap_or_default();
        let field = field(&headers, value)?;
        let is_file = field.name.eq_ignore_ascii_case("file");
        fields.push(field);
        if is_file {
            return Ok(fields);
        }
    }
}

/// A part from its headers and bytes.
fn field(headers: &str, value: Vec<u8>) -> Result<Field, NotAForm> {
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    for line in headers.split("\r\n") {
        let Some((header, text)) = line.split_once(':') else { continue };
        let header = header.trim();
        if header.eq_ignore_ascii_case("content-type") {
            content_type = Some(text.trim().to_string());
        } else if header.eq_ignore_ascii_case("content-disposition") {
            let mut params = text.split(';');
            if !params.next().is_some_and(|k| k.trim().eq_ignore_ascii_case("form-data")) {
                return Err(NotAForm("a part is not form-data"));
            }
            for p in params {
                let Some((k, v)) = p.trim().split_once('=') else { continue };
                let v = v.trim().trim_matches('"').to_string();
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(v),
                    "filename" => filename = Some(v),
                    _ => {}
                }
            }
        }
    }
    let name = name.ok_or(NotAForm("a part has no name"))?;
    Ok(Field { name, filename, content_type, value })
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const BODY: &[u8] = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuser/${filename}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"x-amz-meta-tag\"\r\n\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nline one\r\n--not the boundary\r\n--XyZ\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nignored\r\n--XyZ--\r\n";

    #[test]
    fn fields_up_to_the_file_are_read() {
        assert_eq!(boundary("multipart/form-data; boundary=XyZ").as_deref(), Some("XyZ"));
        assert_eq!(
            boundary("Multipart/Form-Data; charset=utf-8; boundary=\"q r\"").as_deref(),
            Some("q r")
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        let fields = parse("XyZ", BODY).unwrap();
        assert_eq!(fields.len(), 3);
        assert_eq!(
            (fields[0].name.as_str(), fields[0].value.as_slice()),
            ("key", b"user/${filename}".as_slice())
        );
        assert!(fields[1].value.is_empty());
        assert_eq!(fields[2].filename.as_deref(), Some("a.txt"));
        assert_eq!(fields[2].content_type.as_deref(), Some("text/plain"));
        assert_eq!(fields[2].value, b"line one\r\n--not the boundary");
    }

    #[test]
    fn broken_forms_are_refused() {
        assert!(parse("other", BODY).is_err());
        let cut = &BODY[..BODY.len() / 2];
        assert!(parse("XyZ", cut).is_err());
        assert!(parse(
            "XyZ",
            b"--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--"
        )
        .is_err());
        assert!(parse("XyZ", b"--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--").is_err());
        assert_eq!(parse("XyZ", b"--XyZ--\r\n").unwrap(), Vec::new());
    }
}
