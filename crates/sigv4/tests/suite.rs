#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The AWS SigV4 signing test suite (`shared/testdata/aws-signing-test-suite/v4`): for every
//! case, in header and query form, the verifier reproduces the canonical request and string to
//! sign byte for byte, accepts the signed request, and rejects it when a signed byte changes.

use sigv4::{parse, Canonicalization, KeyCache, Payload, Secret};
use std::path::{Path, PathBuf};

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/aws-signing-test-suite/v4")
}

/// A raw request: method, path, query, headers, body.
#[derive(Clone, Debug)]
struct Raw {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn parse_raw(text: &str) -> Raw {
    let (head, body) = match text.find("\n\n") {
        Some(i) => (&text[..i], text.as_bytes()[i + 2..].to_vec()),
        None => (text, Vec::new()),
    };
    let mut lines = head.lines();
    let request_line = lines.next().unwrap();
    // The target may hold literal spaces (`get-space-*`): it runs to the last ` HTTP/`.
    let (method, rest) = request_line.split_once(' ').unwrap();
    let method = method.to_string();
    let target = rest.rfind(" HTTP/").map_or(rest, |i| &rest[..i]);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // A folded continuation line belongs to the previous header.
            let last = headers.last_mut().unwrap();
            last.1.push('\n');
            last.1.push_str(line);
            continue;
        }
        let (n, v) = line.split_once(':').unwrap();
        headers.push((n.to_string(), v.to_string()));
    }
    Raw { method, path: path.to_string(), query: query.to_string(), headers, body }
}

struct Context {
    secret: String,
    region: String,
    service: String,
    now: i64,
    normalize: bool,
    omit_session_token: bool,
}

fn json_str(text: &str, key: &str) -> Option<String> {
    let at = text.find(&format!("\"{key}\""))?;
    let rest = &text[at + key.len() + 2..];
    let rest = &rest[rest.find(':')? + 1..];
    let rest = rest.trim_start();
    if let Some(s) = rest.strip_prefix('"') {
        Some(s[..s.find('"')?].to_string())
    } else {
        Some(rest.split([',', '\n', '}']).next()?.trim().to_string())
    }
}

fn context(dir: &Path) -> Context {
    match std::fs::read_to_string(dir.join("context.json")) {
        Ok(text) => {
            let ts = json_str(&text, "timestamp").unwrap();
            let compact: String = ts.chars().filter(|c| *c != '-' && *c != ':').collect();
            Context {
                secret: json_str(&text, "secret_access_key").unwrap(),
                region: json_str(&text, "region").unwrap(),
                service: json_str(&text, "service").unwrap(),
                now: sigv4::time::parse_amz_date(&compact).unwrap(),
                normalize: json_str(&text, "normalize").unwrap() == "true",
                omit_session_token: json_str(&text, "omit_session_token")
                    .is_some_and(|v| v == "true"),
            }
        }
        // `double-url-encode` ships without a context: Lambda, us-east-2, at its x-amz-date.
        Err(_) => Context {
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-2".into(),
            service: "lambda".into(),
            now: sigv4::time::parse_amz_date("20210511T154045Z").unwrap(),
            normalize: true,
            omit_session_token: false,
        },
    }
}

fn verify(raw: &Raw, dir: &Path, ctx: &Context) -> Result<(String, String), sigv4::Error> {
    let path = raw.path.clone();
    let headers: Vec<(&str, &str)> =
        raw.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let request = sigv4::HttpRequest {
        method: &raw.method,
        path: &path,
        query: &raw.query,
        headers: &headers,
    };
    let unverified = parse(&request)?;
    let rules = Canonicalization { normalize_path: ctx.normalize, double_encode: true };
    let payload_hash = sigv4::encode::hex(&sigv4::key::sha256(&raw.body));
    // A token added after signing (`omit_session_token`) is not part of a presigned URL's
    // canonical request.
    let canonical =
        unverified.canonical_request_skipping(&payload_hash, rules, ctx.omit_session_token);
    let to_sign = unverified.string_to_sign(&canonical);
    if std::env::var("SUITE_DEBUG").is_ok() {
        eprintln!("{}\n---\n{canonical}\n---\n{to_sign}", dir.display());
    }
    let mut cache = KeyCache::default();
    unverified.clone().verify_with(
        &Secret::new(ctx.secret.clone()),
        ctx.now,
        Payload::Bytes(&raw.body),
        &mut cache,
        rules,
    )?;
    assert_eq!(unverified.credential.region, ctx.region);
    assert_eq!(unverified.credential.service, ctx.service);
    Ok((canonical, to_sign))
}

/// Every way to change one signed byte of a request.
fn mutations(raw: &Raw, signed_headers: &[String]) -> Vec<(String, Raw)> {
    let mut out = Vec::new();
    let mut m = raw.clone();
    m.method = if raw.method == "GET" { "PUT".into() } else { "GET".into() };
    out.push(("method".into(), m));
    let mut m = raw.clone();
    m.path.push('x');
    out.push(("path".into(), m));
    let mut m = raw.clone();
    m.query =
        if raw.query.is_empty() { "extra=1".into() } else { format!("{}&extra=1", raw.query) };
    out.push(("query".into(), m));
    for (i, (name, value)) in raw.headers.iter().enumerate() {
        let lower = name.to_ascii_lowercase();
        if !signed_headers.contains(&lower) {
            continue;
        }
        let mut m = raw.clone();
        let mut v = value.clone();
        // Change one byte, keeping dates parseable so the signature is what fails.
        let pos = v.rfind(|c: char| c.is_ascii_alphanumeric()).unwrap_or(0);
        let replacement = match v.as_bytes()[pos] {
            b'0'..=b'8' => (v.as_bytes()[pos] + 1) as char,
            b'9' => '8',
            b'a'..=b'y' | b'A'..=b'Y' => (v.as_bytes()[pos] + 1) as char,
            _ => 'a',
        };
        v.replace_range(pos..pos + 1, &replacement.to_string());
        m.headers[i].1 = v;
        out.push((format!("header {lower}"), m));
    }
    if !raw.body.is_empty() {
        let mut m = raw.clone();
        m.body[0] ^= 1;
        out.push(("body".into(), m));
    }
    out
}

/// `double-encode-path` has no context, no string to sign and a canonical request whose date
/// differs from its own request: it pins only the canonical path (API Gateway's `@` and `%3D`).
fn canonical_path_only(dir: &Path) {
    let raw = parse_raw(&std::fs::read_to_string(dir.join("header-signed-request.txt")).unwrap());
    let headers: Vec<(&str, &str)> =
        raw.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let request = sigv4::HttpRequest {
        method: &raw.method,
        path: &raw.path,
        query: &raw.query,
        headers: &headers,
    };
    let canonical = parse(&request).unwrap().canonical_request(
        sigv4::verify::EMPTY_SHA256,
        Canonicalization::for_service("execute-api"),
    );
    let want = std::fs::read_to_string(dir.join("header-canonical-request.txt")).unwrap();
    assert_eq!(canonical.lines().nth(1), want.lines().nth(1), "{}: canonical path", dir.display());
}

#[test]
fn every_suite_case_verifies_both_ways() {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(suite_dir()).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    assert!(dirs.len() >= 40, "expected the 40 suite cases, found {}", dirs.len());
    let mut checked = 0;
    for dir in &dirs {
        if !dir.join("header-string-to-sign.txt").exists() {
            canonical_path_only(dir);
            checked += 1;
            continue;
        }
        let ctx = context(dir);
        for form in ["header", "query"] {
            let Ok(signed) =
                std::fs::read_to_string(dir.join(format!("{form}-signed-request.txt")))
            else {
                continue;
            };
            let name = format!("{}/{form}", dir.file_name().unwrap().to_string_lossy());
            let raw = parse_raw(&signed);
            let (canonical, to_sign) =
                verify(&raw, dir, &ctx).unwrap_or_else(|e| panic!("{name}: rejected: {e}"));
            let want_canonical =
                std::fs::read_to_string(dir.join(format!("{form}-canonical-request.txt"))).unwrap();
            // Some files end with a newline that is not part of the signed text.
            assert_eq!(
                canonical,
                want_canonical.strip_suffix('\n').unwrap_or(&want_canonical),
                "{name}: canonical request"
            );
            let want_sts =
                std::fs::read_to_string(dir.join(format!("{form}-string-to-sign.txt"))).unwrap();
            assert_eq!(
                to_sign,
                want_sts.strip_suffix('\n').unwrap_or(&want_sts),
                "{name}: string to sign"
            );

            // Any signed byte changed: rejected.
            let headers: Vec<(&str, &str)> =
                raw.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let path = raw.path.clone();
            let request = sigv4::HttpRequest {
                method: &raw.method,
                path: &path,
                query: &raw.query,
                headers: &headers,
            };
            let signed_headers = parse(&request).unwrap().signed_headers;
            for (what, mutated) in mutations(&raw, &signed_headers) {
                assert!(
                    verify(&mutated, dir, &ctx).is_err(),
                    "{name}: a changed {what} was accepted"
                );
            }
            // A wrong secret, or a time 16 minutes off (header form), is rejected.
            let wrong = Context { secret: format!("{}x", ctx.secret), ..context(dir) };
            assert!(
                matches!(verify(&raw, dir, &wrong), Err(sigv4::Error::SignatureDoesNotMatch)),
                "{name}"
            );
            if form == "header" {
                let late = Context { now: ctx.now + 16 * 60, ..context(dir) };
                assert!(
                    matches!(verify(&raw, dir, &late), Err(sigv4::Error::RequestTimeTooSkewed)),
                    "{name}"
                );
            } else {
                let late = Context { now: ctx.now + 3601, ..context(dir) };
                assert!(matches!(verify(&raw, dir, &late), Err(sigv4::Error::Expired)), "{name}");
            }
            checked += 1;
        }
    }
    // 38 cases in both forms, `double-url-encode` in header form, `double-encode-path` path only.
    assert_eq!(checked, 78, "signed requests checked");
}
