//! Signing, for Hermetic's own clients (the `hermetic` command calling the operator API). It
//! reuses the verifier's canonicalization, so what this signs is exactly what `verify` checks.

use crate::encode::hex;
use crate::key::{sha256, Secret, SigningKey};
use crate::verify::{parse, Canonicalization, HttpRequest};
use crate::Error;

/// What to sign.
#[derive(Clone, Copy, Debug)]
pub struct SigningInput<'a> {
    /// Method.
    pub method: &'a str,
    /// Path as it will be sent (percent-encoded).
    pub path: &'a str,
    /// Query string without `?`.
    pub query: &'a str,
    /// Headers to send and sign; must include `host`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body.
    pub body: &'a [u8],
    /// Access key id.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret: &'a Secret,
    /// Region.
    pub region: &'a str,
    /// Signing service name.
    pub service: &'a str,
    /// Request time, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
    /// Session token, for temporary credentials.
    pub session_token: Option<&'a str>,
    /// Whether to send and sign `x-amz-content-sha256` (S3 requires it).
    pub content_sha256_header: bool,
}

/// Signs a request; returns the headers to add (`x-amz-date`, optionally
/// `x-amz-content-sha256` and `x-amz-security-token`, and `authorization`).
pub fn sign(input: &SigningInput<'_>) -> Result<Vec<(String, String)>, Error> {
    let payload_hash = hex(&sha256(input.body));
    let mut added: Vec<(String, String)> = vec![("x-amz-date".into(), input.amz_date.into())];
    if input.content_sha256_header {
        added.push(("x-amz-content-sha256".into(), payload_hash.clone()));
    }
    if let Some(token) = input.session_token {
        added.push(("x-amz-security-token".into(), token.into()));
    }
    let mut names: Vec<String> = input
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .chain(added.iter().map(|(n, _)| n.clone()))
        .collect();
    names.sort();
    names.dedup();
    let date = input.amz_date.get(..8).unwrap_or_default();
    let scope =
        format!("{}/{date}/{}/{}/aws4_request", input.access_key_id, input.region, input.service);
    let placeholder = format!(
        "AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={}, Signature={}",
        names.join(";"),
        "0".repeat(64)
    );
    let mut all: Vec<(&str, &str)> = input.headers.to_vec();
    all.extend(added.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    all.push(("authorization", &placeholder));
    let request =
        HttpRequest { method: input.method, path: input.path, query: input.query, headers: &all };
    let unverified = parse(&request)?;
    let canonical =
        unverified.canonical_request(&payload_hash, Canonicalization::for_service(input.service));
    let to_sign = unverified.string_to_sign(&canonical);
    let key = SigningKey::derive(input.secret, date, input.region, input.service);
    let signature = hex(&key.sign(to_sign.as_bytes()));
    added.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={}, Signature={signature}",
            names.join(";")
        ),
    ));
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyCache, Payload};

    #[test]
    fn signs_what_verify_accepts_and_matches_the_suite() {
        // The suite's get-vanilla case: host and x-amz-date signed, no payload header.
        let secret = Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let input = SigningInput {
            method: "GET",
            path: "/",
            query: "",
            headers: &[("Host", "example.amazonaws.com")],
            body: b"",
            access_key_id: "AKIDEXAMPLE",
            secret: &secret,
            region: "us-east-1",
            service: "service",
            amz_date: "20150830T123600Z",
            session_token: None,
            content_sha256_header: false,
        };
        let added = sign(&input).unwrap();
        let auth = &added.iter().find(|(n, _)| n == "authorization").unwrap().1;
        assert!(auth.ends_with(
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        ));
        // And a JSON-protocol call with a token verifies.
        let body = br#"{"AccountName":"acme"}"#;
        let headers =
            [("host", "127.0.0.1:4566"), ("x-amz-target", "HermeticOperator.CreateAccount")];
        let input = SigningInput {
            method: "POST",
            headers: &headers,
            body,
            service: "hermetic",
            session_token: Some("tok"),
            content_sha256_header: true,
            ..input
        };
        let added = sign(&input).unwrap();
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        all.extend(added.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let request = HttpRequest { method: "POST", path: "/", query: "", headers: &all };
        let now = crate::time::parse_amz_date("20150830T123600Z").unwrap();
        let verified = parse(&request)
            .unwrap()
            .verify(&secret, now, Payload::Bytes(body), &mut KeyCache::default())
            .unwrap();
        assert!(verified.session_token_signed);
    }
}
