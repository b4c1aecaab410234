//! CORS: a bucket's CORS configuration (`PutBucketCors`, `GetBucketCors`, `DeleteBucketCors`),
//! the preflights browsers send before a cross-origin request (`OPTIONS` on a bucket or a key),
//! and the `Access-Control-*` headers of the actual requests the rules allow.
//!
//! A preflight is unsigned and needs no permission, as in S3: browsers never sign one. It goes
//! through the one pipeline like every request (routed as `PreflightRequest`, authorized as
//! `Authorization::AnyCaller`, recorded in the bucket owner's log as a read-only data event),
//! and it is answered from the bucket's CORS rules alone: no object, version or upload is read,
//! so the answer says nothing about them, not even whether the key it names exists. The rules
//! are part of the bucket's record, which is row-MAC'd: an operator who writes the database
//! cannot plant or widen them.

use super::input::Input;
use super::{empty, lock_bucket, s3err, too_big, xml, xml_reply, Bucket, S3Request};
use crate::error::ApiError;
use crate::pipeline::service::{Effect, Request};
use crate::pipeline::{Reply, State};
use crate::records::s3::{CorsMethod, CorsRule};
use store::PutMode;

/// Most rules in one configuration, as in S3.
const MAX_RULES: usize = 100;
/// The largest configuration S3 takes: 64 KB.
const MAX_SIZE: usize = 64 * 1024;
/// The longest rule `ID`.
const MAX_ID: usize = 255;
/// The elements a `CORSRule` may have.
const RULE_ELEMENTS: &[&str] =
    &["ID", "AllowedHeader", "AllowedMethod", "AllowedOrigin", "ExposeHeader", "MaxAgeSeconds"];
/// The `Access-Control-Request-Method`s S3 takes in a preflight (`PATCH` and `OPTIONS`, which
/// no rule can allow, are refused as not allowed; anything else as invalid).
const PREFLIGHT_METHODS: &[&str] = &["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"];
/// What an answer a rule allowed varies with.
const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";
/// S3's refusal of a preflight no rule allows (its spelling).
const NOT_ALLOWED: &str = "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

fn malformed() -> ApiError {
    s3err(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// A preflight refused (403 `AccessForbidden`, S3's `CORSResponse: ...` message).
fn forbidden(why: &str) -> ApiError {
    s3err(403, "AccessForbidden", format!("CORSResponse: {why}"))
}

/// A preflight's answer for a bucket that does not exist.
pub(super) fn no_bucket() -> ApiError {
    forbidden("Bucket not found")
}

fn no_configuration() -> ApiError {
    s3err(404, "NoSuchCORSConfiguration", "The CORS configuration does not exist")
}

/// The opening tags of `text`, each with its depth (the root's is 0), when its tags nest (each
/// closing tag closes the last one open, and all are closed); the XML declaration, processing
/// instructions and comments are skipped.
fn opening_tags(text: &str) -> Option<Vec<(usize, &str)>> {
    let mut open: Vec<&str> = Vec::new();
    let mut tags = Vec::new();
    let mut rest = text;
    while let Some(lt) = rest.find('<') {
        let after = rest.get(lt + 1..)?;
        let gt = after.find('>')?;
        let tag = after.get(..gt)?;
        rest = after.get(gt + 1..)?;
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(closing) = tag.strip_prefix('/') {
            if open.pop() != Some(closing.trim()) {
                return None;
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let name = tag.trim_end_matches('/').split_whitespace().next()?;
        tags.push((open.len(), name));
        if !self_closing {
            open.push(name);
        }
    }
    open.is_empty().then_some(tags)
}

/// The rules a `PutBucketCors` body gives, or S3's refusal of it: `MalformedXML` for a body
/// that is not a `CORSConfiguration` of 1 to 100 `CORSRule`s, each with only its own elements
/// and at least one `AllowedMethod` and `AllowedOrigin`; then each rule as [`read_rule`]
/// checks it.
pub(crate) fn read_configuration(body: &[u8]) -> Result<Vec<CorsRule>, ApiError> {
    if body.len() > MAX_SIZE {
        return Err(too_big());
    }
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    let tags = opening_tags(text).ok_or_else(malformed)?;
    let mut roots = tags.iter().filter(|(depth, _)| *depth == 0);
    if roots.next().map(|(_, name)| *name) != Some("CORSConfiguration") || roots.next().is_some() {
        return Err(malformed());
    }
    let schema = tags.iter().all(|(depth, name)| match *depth {
        0 => true,
        1 => *name == "CORSRule",
        2 => RULE_ELEMENTS.contains(name),
        _ => false,
    });
    let count = tags.iter().filter(|(depth, _)| *depth == 1).count();
    let sections = xml::sections(body, "CORSRule");
    if !schema || count == 0 || count > MAX_RULES || sections.len() != count {
        return Err(malformed());
    }
    sections.iter().map(|rule| read_rule(rule.as_bytes())).collect()
}

/// One `CORSRule` (its inner XML), checked as S3 checks it: an `ID` of at most 255
/// characters, at least one `AllowedMethod` (each one S3 knows) and `AllowedOrigin`, at most
/// one `*` in an origin or an allowed header, and a whole number of `MaxAgeSeconds`.
fn read_rule(rule: &[u8]) -> Result<CorsRule, ApiError> {
    let id = xml::element(rule, "ID");
    if id.as_ref().is_some_and(|id| id.chars().count() > MAX_ID) {
        return Err(s3err(
            400,
            "InvalidArgument",
            "ID length should not exceed allowed limit of 255",
        ));
    }
    let names = xml::elements(rule, "AllowedMethod");
    let origins = xml::elements(rule, "AllowedOrigin");
    if names.is_empty() || origins.is_empty() {
        return Err(malformed());
    }
    let max_age_seconds = match xml::element(rule, "MaxAgeSeconds") {
        Some(text) => Some(text.trim().parse::<i64>().map_err(|_| malformed())?),
        None => None,
    };
    let mut methods = Vec::new();
    for name in &names {
        let method = CorsMethod::parse(name).ok_or_else(|| {
            s3err(
                400,
                "InvalidRequest",
                format!(
                    "Found unsupported HTTP method in CORS config. Unsupported method is {name}"
                ),
            )
        })?;
        methods.push(method);
    }
    let headers = xml::elements(rule, "AllowedHeader");
    for origin in &origins {
        one_wildcard("AllowedOrigin", origin)?;
    }
    for header in &headers {
        one_wildcard("AllowedHeader", header)?;
    }
    Ok(CorsRule {
        id,
        allowed_headers: headers,
        allowed_methods: methods,
        allowed_origins: origins,
        expose_headers: xml::elements(rule, "ExposeHeader"),
        max_age_seconds,
    })
}

/// Refuses a value of `element` with more than one `*`, as S3 does.
fn one_wildcard(element: &str, value: &str) -> Result<(), ApiError> {
    if value.matches('*').count() > 1 {
        return Err(s3err(
            400,
            "InvalidRequest",
            format!("{element} \"{value}\" can not have more than one wildcard."),
        ));
    }
    Ok(())
}

/// The configuration as `GetBucketCors` answers it: each rule as it was given, its elements in
/// S3's order.
fn configuration_xml(rules: &[CorsRule]) -> String {
    xml::document("CORSConfiguration", xml::NS, |w| {
        for rule in rules {
            w.elem("CORSRule", |w| {
                w.opt("ID", rule.id.as_deref());
                for header in &rule.allowed_headers {
                    w.text("AllowedHeader", header);
                }
                for method in &rule.allowed_methods {
                    w.text("AllowedMethod", method.as_str());
                }
                for origin in &rule.allowed_origins {
                    w.text("AllowedOrigin", origin);
                }
                for header in &rule.expose_headers {
                    w.text("ExposeHeader", header);
                }
                if let Some(age) = rule.max_age_seconds {
                    w.value("MaxAgeSeconds", age);
                }
            });
        }
    })
}

/// `GetBucketCors`, `PutBucketCors` and `DeleteBucketCors` (the owner's alone, checked before).
/// A change applies to the bucket as it is now, locked, as the other configuration does.
pub(super) fn config<'s>(
    state: &'s State,
    operation: &str,
    req: &S3Request<'_>,
    bucket: Bucket,
    now: i64,
    effect: &mut Effect<'s>,
) -> Result<Reply, ApiError> {
    let rules = match (operation, req.input) {
        ("GetBucketCors", _) => {
            let rules = bucket.body.cors.as_deref().ok_or_else(no_configuration)?;
            return Ok(xml_reply(200, configuration_xml(rules)));
        }
        ("PutBucketCors", Input::PutBucketCors(rules)) => Some(rules.clone()?),
        ("DeleteBucketCors", _) => None,
        _ => return Err(ApiError::internal("the input is not a CORS configuration's")),
    };
    let mut tx = state.store.begin()?;
    let mut bucket = lock_bucket(tx.as_mut(), &bucket)?;
    bucket.body.cors = rules;
    bucket.updated_at_ms = now;
    bucket.put(tx.as_mut(), PutMode::Update)?;
    effect.tx = Some(tx);
    // S3 answers a deletion with 204, even of no configuration.
    Ok(empty(if operation == "DeleteBucketCors" { 204 } else { 200 }, Vec::new()))
}

/// A preflight's question: `Origin`, `Access-Control-Request-Method`, and each name of
/// `Access-Control-Request-Headers` (trimmed, in the order and case given).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Preflight {
    pub origin: Option<String>,
    pub method: Option<String>,
    pub headers: Vec<String>,
}

impl Preflight {
    /// Reads a preflight's question from its headers.
    pub fn read(req: &Request<'_>) -> Preflight {
        Preflight {
            origin: req.header("origin").map(str::to_string),
            method: req.header("access-control-request-method").map(str::to_string),
            headers: req
                .header("access-control-request-headers")
                .map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|h| !h.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The origin and method asked about, or S3's 400 (`BadRequest`) for a preflight that does
    /// not say them: asked before the bucket is read, as S3 answers it whatever the path.
    pub fn asked(&self) -> Result<(&str, &str), ApiError> {
        let Some(origin) = self.origin.as_deref() else {
            return Err(s3err(
                400,
                "BadRequest",
                "Insufficient information. Origin request header needed.",
            ));
        };
        let method = self.method.as_deref();
        match method {
            Some(m) if PREFLIGHT_METHODS.contains(&m) => Ok((origin, m)),
            _ => Err(s3err(
                400,
                "BadRequest",
                format!("Invalid Access-Control-Request-Method: {}", method.unwrap_or("null")),
            )),
        }
    }
}

/// Whether `pattern` (with at most one `*`, which stands for any run of characters, none
/// included) matches `text`.
fn wildcard(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, suffix)) => {
            text.len() >= prefix.len() + suffix.len()
                && text.starts_with(prefix)
                && text.ends_with(suffix)
        }
    }
}

/// The first rule that allows `method` from `origin` with every header of `headers` (header
/// names compare case-insensitively; origins and methods exactly), as S3 picks it.
fn find<'r>(
    rules: &'r [CorsRule],
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<&'r CorsRule> {
    rules.iter().find(|rule| {
        rule.allowed_origins.iter().any(|o| wildcard(o, origin))
            && rule.allowed_methods.iter().any(|m| m.as_str() == method)
            && headers.iter().all(|h| {
                let h = h.to_ascii_lowercase();
                rule.allowed_headers.iter().any(|a| wildcard(&a.to_ascii_lowercase(), &h))
            })
    })
}

/// What an answer a rule allowed says: the origin allowed (`*` when the rule allows any), the
/// rule's methods, exposed headers and max age, credentials unless the rule allows any origin,
/// and `Vary`.
fn allowed(rule: &CorsRule, origin: &str) -> Vec<(String, String)> {
    let any = rule.allowed_origins.iter().any(|o| o == "*");
    let methods: Vec<&str> = rule.allowed_methods.iter().map(|m| m.as_str()).collect();
    let mut headers = vec![
        (
            "access-control-allow-origin".to_string(),
            if any { "*".to_string() } else { origin.to_string() },
        ),
        ("access-control-allow-methods".to_string(), methods.join(", ")),
    ];
    if !rule.expose_headers.is_empty() {
        headers.push(("access-control-expose-headers".into(), rule.expose_headers.join(", ")));
    }
    if let Some(age) = rule.max_age_seconds {
        headers.push(("access-control-max-age".into(), age.to_string()));
    }
    if !any {
        headers.push(("access-control-allow-credentials".into(), "true".into()));
    }
    headers.push(("vary".into(), VARY.into()));
    headers
}

/// Answers a preflight from `bucket`'s CORS rules alone: 200 with what the first rule that
/// matches allows (and the headers asked for), else 403 `AccessForbidden`.
pub(super) fn preflight(req: &S3Request<'_>, bucket: &Bucket) -> Result<Reply, ApiError> {
    let Input::Preflight(asked) = req.input else {
        return Err(ApiError::internal("the input is not a preflight's"));
    };
    let (origin, method) = asked.asked()?;
    let rules = bucket
        .body
        .cors
        .as_deref()
        .ok_or_else(|| forbidden("CORS is not enabled for this bucket."))?;
    let rule = find(rules, origin, method, &asked.headers).ok_or_else(|| forbidden(NOT_ALLOWED))?;
    let mut headers = allowed(rule, origin);
    if !asked.headers.is_empty() {
        headers.push(("access-control-allow-headers".into(), asked.headers.join(", ")));
    }
    Ok(empty(200, headers))
}

/// The `Access-Control-*` headers S3 adds to the answer of an actual (not preflight) request
/// from a browser `origin` when one of `bucket`'s rules allows its `method`; none otherwise.
pub(crate) fn actual(bucket: &Bucket, origin: &str, method: &str) -> Vec<(String, String)> {
    bucket
        .body
        .cors
        .as_deref()
        .and_then(|rules| find(rules, origin, method, &[]))
        .map(|rule| allowed(rule, origin))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn rule(origins: &[&str], methods: &[CorsMethod], headers: &[&str]) -> CorsRule {
        CorsRule {
            allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
            allowed_methods: methods.to_vec(),
            allowed_headers: headers.iter().map(|h| h.to_string()).collect(),
            ..CorsRule::default()
        }
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// An origin matches exactly or around its one `*` (which may stand for nothing).
    #[test]
    fn origins_match_with_one_wildcard() {
        for (pattern, origin, expected) in [
            ("https://a.example", "https://a.example", true),
            ("https://a.example", "https://a.example:443", false),
            ("https://a.example", "HTTPS://A.EXAMPLE", false),
            ("*", "anything", true),
            ("*suffix", "foo.suffix", true),
            ("*suffix", "foo.suffix.get", false),
            ("start*end", "startend", true),
            ("start*end", "start12end", true),
            ("start*end", "0start12end", false),
            ("start*end", "startend0", false),
            ("abc*bcd", "abcd", false),
            ("prefix*", "prefix", true),
            ("prefix*", "bla.prefix", false),
            ("http://*.example.com", "http://www.example.com", true),
            ("http://*.example.com", "https://www.example.com", false),
        ] {
            assert_eq!(wildcard(pattern, origin), expected, "{pattern} {origin}");
        }
    }

    /// The first rule whose origin, method and every requested header match is the one; headers
    /// compare case-insensitively, with wildcards.
    #[test]
    fn the_first_matching_rule_wins() {
        use CorsMethod::{Get, Put};
        let rules = vec![
            rule(&["*.put"], &[Put], &[]),
            rule(&["https://a.example"], &[Get], &["X-Amz-*", "content-type"]),
            rule(&["*"], &[Get, Put], &[]),
        ];
        let pick = |origin, method, headers: &[&str]| {
            find(&rules, origin, method, &strings(headers)).map(|r| r.allowed_origins[0].clone())
        };
        assert_eq!(pick("foo.put", "PUT", &[]).as_deref(), Some("*.put"));
        // The first rule does not allow GET; the third allows any origin.
        assert_eq!(pick("foo.put", "GET", &[]).as_deref(), Some("*"));
        assert_eq!(pick("https://a.example", "GET", &[]).as_deref(), Some("https://a.example"));
        assert_eq!(
            pick("https://a.example", "GET", &["x-amz-date", "Content-Type"]).as_deref(),
            Some("https://a.example")
        );
        // One header the second rule does not allow: the third has no headers at all.
        assert_eq!(pick("https://a.example", "GET", &["x-amz-date", "range"]), None);
        assert_eq!(pick("https://b.example", "DELETE", &[]), None);
        assert_eq!(pick("https://b.example", "get", &[]), None, "methods compare exactly");
        assert_eq!(find(&[], "https://a.example", "GET", &[]), None);
    }

    /// A rule's answer: the origin (or `*`), its methods, exposed headers and max age, and
    /// credentials only for a named origin.
    #[test]
    fn what_a_rule_allows() {
        let mut named = rule(&["https://a.example"], &[CorsMethod::Get, CorsMethod::Head], &[]);
        named.expose_headers = strings(&["ETag", "x-amz-request-id"]);
        named.max_age_seconds = Some(3000);
        let headers = allowed(&named, "https://a.example");
        let get = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(get("access-control-allow-origin"), Some("https://a.example"));
        assert_eq!(get("access-control-allow-methods"), Some("GET, HEAD"));
        assert_eq!(get("access-control-expose-headers"), Some("ETag, x-amz-request-id"));
        assert_eq!(get("access-control-max-age"), Some("3000"));
        assert_eq!(get("access-control-allow-credentials"), Some("true"));
        assert_eq!(get("vary"), Some(VARY));
        let any = allowed(&rule(&["*"], &[CorsMethod::Get], &[]), "https://b.example");
        assert!(any.contains(&("access-control-allow-origin".into(), "*".into())));
        assert!(!any.iter().any(|(n, _)| n == "access-control-allow-credentials"));
        assert!(!any.iter().any(|(n, _)| n == "access-control-max-age"));
    }

    /// A configuration reads into its rules, as given, and writes back in S3's element order.
    #[test]
    fn a_configuration_reads_and_writes_back() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <AllowedOrigin>https://a.example</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
    <ExposeHeader>x-amz-server-side-encryption</ExposeHeader>
    <ID>first &amp; only</ID>
  </CORSRule>
  <CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>
</CORSConfiguration>"#;
        let rules = read_configuration(body).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(
            rules[0],
            CorsRule {
                id: Some("first & only".into()),
                allowed_headers: strings(&["*"]),
                allowed_methods: vec![CorsMethod::Put, CorsMethod::Get],
                allowed_origins: strings(&["https://a.example"]),
                expose_headers: strings(&["x-amz-server-side-encryption"]),
                max_age_seconds: Some(3000),
            }
        );
        assert_eq!(rules[1], rule(&["*"], &[CorsMethod::Get], &[]));
        let written = configuration_xml(&rules);
        assert!(written.contains("<CORSRule><ID>first &amp; only</ID><AllowedHeader>*</AllowedHeader><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedOrigin>https://a.example</AllowedOrigin><ExposeHeader>x-amz-server-side-encryption</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>"), "{written}");
        assert_eq!(read_configuration(written.as_bytes()).unwrap(), rules, "it reads back");
    }

    /// What S3 refuses, with its codes.
    #[test]
    fn invalid_configurations_are_refused() {
        let code = |body: &str| read_configuration(body.as_bytes()).unwrap_err().code;
        let one = |inner: &str| {
            format!("<CORSConfiguration><CORSRule>{inner}</CORSRule></CORSConfiguration>")
        };
        let ok = "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>";
        assert!(read_configuration(one(ok).as_bytes()).is_ok());
        let rule_xml = format!("<CORSRule>{ok}</CORSRule>");
        let rules =
            |n: usize| format!("<CORSConfiguration>{}</CORSConfiguration>", rule_xml.repeat(n));
        for body in [
            String::new(),
            "not xml".to_string(),
            "<CORSConfiguration></CORSConfiguration>".to_string(),
            "<CORSConfiguration><CORSRule>".to_string(),
            format!("<Other><CORSRule>{ok}</CORSRule></Other>"),
            format!("<CORSConfiguration><CORSRule>{ok}</CORSConfiguration></CORSRule>"),
            one("<AllowedOrigin>*</AllowedOrigin>"),
            one("<AllowedMethod>GET</AllowedMethod>"),
            one(&format!("{ok}<Unknown>x</Unknown>")),
            one(&format!("{ok}<MaxAgeSeconds>soon</MaxAgeSeconds>")),
            rules(101),
        ] {
            assert_eq!(code(&body), "MalformedXML", "{body}");
        }
        assert_eq!(read_configuration(rules(100).as_bytes()).unwrap().len(), 100);
        let e = read_configuration(
            one("<AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin>").as_bytes(),
        )
        .unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (400, "InvalidRequest"));
        assert_eq!(
            e.message,
            "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"
        );
        assert_eq!(
            code(&one("<AllowedMethod>get</AllowedMethod><AllowedOrigin>*</AllowedOrigin>")),
            "InvalidRequest"
        );
        let two = "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>http://*.*.a</AllowedOrigin>";
        assert_eq!(code(&one(two)), "InvalidRequest");
        assert_eq!(
            code(&one(&format!("{ok}<AllowedHeader>x-*-*</AllowedHeader>"))),
            "InvalidRequest"
        );
        assert_eq!(code(&one(&format!("{ok}<ID>{}</ID>", "i".repeat(256)))), "InvalidArgument");
        assert!(read_configuration(one(&format!("{ok}<ID>{}</ID>", "i".repeat(255))).as_bytes())
            .is_ok());
        let big = one(&format!("{ok}{}", "<ExposeHeader>x</ExposeHeader>".repeat(3000)));
        assert_eq!(code(&big), "MaxMessageLengthExceeded");
    }

    /// A preflight's question is read from its headers: the requested header names split,
    /// trimmed and kept as given.
    #[test]
    fn a_preflight_reads_its_headers() {
        let headers = [
            ("Origin", "https://a.example"),
            ("Access-Control-Request-Method", "PUT"),
            ("access-control-request-headers", " X-Amz-Date ,content-type,, "),
        ];
        let req = Request {
            method: "OPTIONS",
            path: "/b/k",
            headers: &headers,
            target: None,
            params: Vec::new(),
            query_params: Vec::new(),
            body: b"",
            payload: sigv4::PayloadMode::Unsigned,
            stream: std::cell::RefCell::new(None),
        };
        assert_eq!(
            Preflight::read(&req),
            Preflight {
                origin: Some("https://a.example".into()),
                method: Some("PUT".into()),
                headers: strings(&["X-Amz-Date", "content-type"]),
            }
        );
    }

    /// A preflight must say its origin and a method S3 knows; nothing else is checked before
    /// the bucket is read.
    #[test]
    fn a_preflight_names_its_origin_and_method() {
        let asked = |origin: Option<&str>, method: Option<&str>| Preflight {
            origin: origin.map(str::to_string),
            method: method.map(str::to_string),
            headers: Vec::new(),
        };
        let refused = |p: Preflight| {
            let e = p.asked().unwrap_err();
            assert_eq!((e.status, e.code.as_str()), (400, "BadRequest"));
            e.message
        };
        assert_eq!(
            refused(asked(None, Some("GET"))),
            "Insufficient information. Origin request header needed."
        );
        assert_eq!(
            refused(asked(Some("https://a.example"), None)),
            "Invalid Access-Control-Request-Method: null"
        );
        assert_eq!(
            refused(asked(Some("https://a.example"), Some("BLAH"))),
            "Invalid Access-Control-Request-Method: BLAH"
        );
        let fine = asked(Some("https://a.example"), Some("PUT"));
        assert_eq!(fine.asked().unwrap(), ("https://a.example", "PUT"));
        assert!(asked(Some("o"), Some("PATCH")).asked().is_ok(), "known, and allowed by no rule");
    }
}
