//! Parsing a request's SigV4 authentication (header or presigned query) and verifying it.
//!
//! Two steps, so the key lookup stays with the caller: [`parse`] extracts the access key id and
//! scope without any secret; [`Unverified::verify`] takes the secret (looked up by the caller),
//! the current time and the payload, and returns the verified identity facts or an error.

use crate::encode::{
    canonical_query, hex, hex_into, normalize_path, percent_decode, unhex32, uri_encode,
};
use crate::error::Error;
use crate::key::{sha256, signatures_equal, KeyCache, Secret, SigningKey};
use crate::time::{parse_amz_date, parse_http_date};

/// The only signing algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Largest clock difference accepted for header-signed requests (15 minutes).
pub const MAX_SKEW_SECONDS: i64 = 15 * 60;
/// Longest presigned URL lifetime (7 days).
pub const MAX_EXPIRES_SECONDS: i64 = 7 * 24 * 3600;
/// SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The parts of an HTTP request that SigV4 signs, as received.
#[derive(Clone, Copy, Debug)]
pub struct HttpRequest<'a> {
    /// Method, e.g. `GET`.
    pub method: &'a str,
    /// The path as sent on the wire (percent-encoded), e.g. `/bucket/my%20key`.
    pub path: &'a str,
    /// The raw query string without `?` (empty when none).
    pub query: &'a str,
    /// Every header, in the order received (names in any case, repeated names kept).
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> HttpRequest<'a> {
    /// Every value of a header, in order, by case-insensitive name.
    pub fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    /// The first value of a query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|part| {
            let (n, v) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(n) == name).then(|| percent_decode(v).into_owned())
        })
    }
}

/// The body, when the caller has it.
#[derive(Clone, Copy, Debug)]
pub enum Payload<'a> {
    /// The whole body: its hash is computed and checked against `x-amz-content-sha256`.
    Bytes(&'a [u8]),
    /// The body is streamed later: the declared `x-amz-content-sha256` is signed as is and the
    /// caller must check the body against [`PayloadMode`].
    Deferred,
}

/// How the path is canonicalized: S3 signs the path encoded once, without normalization; every
/// other service normalizes it and encodes it a second time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Canonicalization {
    /// Remove `.`/`..`/empty segments.
    pub normalize_path: bool,
    /// Encode the (already encoded) wire path again, as non-S3 services do.
    pub double_encode: bool,
}

impl Canonicalization {
    /// The rules for a signing service name.
    pub fn for_service(service: &str) -> Canonicalization {
        let s3 = service == "s3";
        Canonicalization { normalize_path: !s3, double_encode: !s3 }
    }
}

/// Where the signature came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The `Authorization` header.
    Header,
    /// A presigned URL with its lifetime in seconds.
    Presigned {
        /// `X-Amz-Expires`.
        expires: i64,
    },
}

/// The credential scope: `AKID/20150830/us-east-1/service/aws4_request`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// The access key id.
    pub access_key_id: String,
    /// `YYYYMMDD`.
    pub date: String,
    /// The region.
    pub region: String,
    /// The signing service name.
    pub service: String,
}

impl Credential {
    /// `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!("{}/{}/{}/aws4_request", self.date, self.region, self.service)
    }
}

/// A request's authentication, parsed but not yet verified.
#[derive(Clone, Debug)]
pub struct Unverified<'a> {
    request: HttpRequest<'a>,
    /// Header or presigned.
    pub form: Form,
    /// The credential scope.
    pub credential: Credential,
    /// The signed header names, lowercase, as listed.
    pub signed_headers: Vec<String>,
    signature: [u8; 32],
    /// The request time as signed (`20150830T123600Z`).
    pub amz_date: String,
    /// The request time, in seconds since the epoch.
    pub timestamp: i64,
    /// The session token, if sent.
    pub session_token: Option<String>,
}

/// What the caller must still check about the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayloadMode {
    /// The body was given and its hash verified (or it was signed as computed).
    Verified,
    /// The body must hash (SHA-256) to this value; reject it otherwise.
    Sha256([u8; 32]),
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: decode with a [`crate::ChunkDecoder`].
    SignedChunks(crate::chunked::ChunkSeed),
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: unsigned chunks with a trailing checksum.
    UnsignedChunks,
}

/// The identity facts of a verified request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The credential scope (access key id, date, region, service).
    pub credential: Credential,
    /// Header or presigned.
    pub form: Form,
    /// The signed header names.
    pub signed_headers: Vec<String>,
    /// The request time, in seconds since the epoch.
    pub timestamp: i64,
    /// The session token, if sent.
    pub session_token: Option<String>,
    /// Whether the session token was covered by the signature.
    pub session_token_signed: bool,
    /// What remains to check about the body.
    pub payload: PayloadMode,
}

fn incomplete(msg: &str) -> Error {
    Error::Incomplete(msg.to_string())
}

/// Extracts the SigV4 parameters from the `Authorization` header or the presigned query.
pub fn parse<'a>(request: &HttpRequest<'a>) -> Result<Unverified<'a>, Error> {
    let authorization = request.header("authorization");
    let presigned = request.query_param("X-Amz-Algorithm");
    match (authorization, presigned) {
        (Some(_), Some(_)) => Err(Error::Malformed(
            "only one auth mechanism allowed: the authorization header or the query string".into(),
        )),
        (Some(auth), None) => parse_header(request, auth),
        (None, Some(algorithm)) => parse_presigned(request, &algorithm),
        (None, None) => Err(Error::Missing),
    }
}

fn parse_header<'a>(request: &HttpRequest<'a>, auth: &str) -> Result<Unverified<'a>, Error> {
    let auth = auth.trim();
    let (algorithm, rest) = auth.split_once(' ').unwrap_or((auth, ""));
    if algorithm != ALGORITHM {
        return Err(Error::UnsupportedAlgorithm(algorithm.to_string()));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(Error::Malformed(format!(
                "authorization header component `{part}` is not a key=value pair"
            )));
        };
        let slot = match name.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            other => {
                return Err(Error::Malformed(format!(
                    "unknown authorization header component `{other}`"
                )))
            }
        };
        if slot.replace(value.trim()).is_some() {
            return Err(Error::Malformed(format!("`{}` appears twice", name.trim())));
        }
    }
    let credential = credential
        .ok_or_else(|| incomplete("authorization header requires a `Credential` parameter"))?;
    let signed = signed
        .ok_or_else(|| incomplete("authorization header requires a `SignedHeaders` parameter"))?;
    let signature = signature
        .ok_or_else(|| incomplete("authorization header requires a `Signature` parameter"))?;
    let (amz_date, timestamp) = match request.header("x-amz-date") {
        Some(d) => {
            let t = parse_amz_date(d.trim()).ok_or_else(|| {
                Error::Malformed(format!("`x-amz-date` value `{d}` is not an ISO 8601 basic date"))
            })?;
            (d.trim().to_string(), t)
        }
        None => match request.header("date") {
            Some(d) => {
                let (t, iso) = parse_http_date(d.trim()).ok_or_else(|| {
                    Error::Malformed(format!("`date` value `{d}` is not an HTTP date"))
                })?;
                (iso, t)
            }
            None => {
                return Err(incomplete(
                    "authorization requires a valid `x-amz-date` or `date` header",
                ))
            }
        },
    };
    Ok(Unverified {
        request: *request,
        form: Form::Header,
        credential: parse_credential(credential)?,
        signed_headers: parse_signed_headers(signed)?,
        signature: parse_signature(signature)?,
        amz_date,
        timestamp,
        session_token: request.header("x-amz-security-token").map(|t| t.trim().to_string()),
    })
}

fn parse_presigned<'a>(
    request: &HttpRequest<'a>,
    algorithm: &str,
) -> Result<Unverified<'a>, Error> {
    if algorithm != ALGORITHM {
        return Err(Error::UnsupportedAlgorithm(algorithm.to_string()));
    }
    let need = |name: &str| {
        request.query_param(name).ok_or_else(|| {
            Error::Incomplete(format!("query-string authentication requires `{name}`"))
        })
    };
    let credential = need("X-Amz-Credential")?;
    let amz_date = need("X-Amz-Date")?;
    let expires_text = need("X-Amz-Expires")?;
    let signed = need("X-Amz-SignedHeaders")?;
    let signature = need("X-Amz-Signature")?;
    let timestamp = parse_amz_date(&amz_date).ok_or_else(|| {
        Error::Malformed(format!("`X-Amz-Date` value `{amz_date}` is not an ISO 8601 basic date"))
    })?;
    let expires = match expires_text.parse::<i64>() {
        Ok(e) if (1..=MAX_EXPIRES_SECONDS).contains(&e) => e,
        Ok(e) if e > MAX_EXPIRES_SECONDS => {
            return Err(Error::Malformed(
                "X-Amz-Expires must be less than a week (in seconds) that is 604800".into(),
            ))
        }
        _ => {
            return Err(Error::Malformed(format!(
                "`X-Amz-Expires` value `{expires_text}` must be a positive number of seconds"
            )))
        }
    };
    Ok(Unverified {
        request: *request,
        form: Form::Presigned { expires },
        credential: parse_credential(&credential)?,
        signed_headers: parse_signed_headers(&signed)?,
        signature: parse_signature(&signature)?,
        amz_date,
        timestamp,
        session_token: request.query_param("X-Amz-Security-Token"),
    })
}

pub(crate) fn parse_credential(text: &str) -> Result<Credential, Error> {
    let parts: Vec<&str> = text.split('/').collect();
    let [akid, date, region, service, terminator] = parts.as_slice() else {
        return Err(Error::Malformed(format!(
            "credential `{text}` must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request"
        )));
    };
    if *terminator != "aws4_request" {
        return Err(Error::Malformed(format!(
            "credential scope must end in `aws4_request`, not `{terminator}`"
        )));
    }
    if akid.is_empty() || region.is_empty() || service.is_empty() {
        return Err(Error::Malformed(format!("credential `{text}` has an empty component")));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Malformed(format!("credential date `{date}` is not YYYYMMDD")));
    }
    Ok(Credential {
        access_key_id: (*akid).to_string(),
        date: (*date).to_string(),
        region: (*region).to_string(),
        service: (*service).to_string(),
    })
}

fn parse_signed_headers(text: &str) -> Result<Vec<String>, Error> {
    let names: Vec<String> = text.split(';').map(str::to_string).collect();
    for (i, name) in names.iter().enumerate() {
        let valid = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase() && b != b':');
        if !valid {
            return Err(Error::Malformed(format!(
                "signed header `{name}` must be a lowercase header name"
            )));
        }
        if names.get(..i).is_some_and(|before| before.contains(name)) {
            return Err(Error::Malformed(format!("signed header `{name}` is listed twice")));
        }
    }
    Ok(names)
}

pub(crate) fn parse_signature(text: &str) -> Result<[u8; 32], Error> {
    unhex32(text)
        .ok_or_else(|| Error::Malformed("the signature must be 64 hexadecimal digits".into()))
}

/// A header value as canonicalized: trimmed, inner whitespace runs (and folded lines) collapsed.
fn canonical_value(value: &str, out: &mut String) {
    let mut first = true;
    for word in value.split([' ', '\t', '\r', '\n']).filter(|w| !w.is_empty()) {
        if !first {
            out.push(' ');
        }
        first = false;
        out.push_str(word);
    }
}

impl<'a> Unverified<'a> {
    /// The access key id, for the caller's secret lookup.
    pub fn access_key_id(&self) -> &str {
        &self.credential.access_key_id
    }

    /// Whether the request is signed for S3 (whose canonicalization and error codes differ).
    pub fn is_s3(&self) -> bool {
        self.credential.service == "s3"
    }

    /// The canonical request for a payload hash, with the service's canonicalization rules.
    pub fn canonical_request(&self, payload_hash: &str, rules: Canonicalization) -> String {
        self.canonical_request_skipping(payload_hash, rules, false)
    }

    /// The canonical request; with `skip_token`, a presigned `X-Amz-Security-Token` added after
    /// signing is left out.
    pub fn canonical_request_skipping(
        &self,
        payload_hash: &str,
        rules: Canonicalization,
        skip_token: bool,
    ) -> String {
        let r = &self.request;
        let mut out = String::with_capacity(512);
        out.push_str(r.method);
        out.push('\n');
        let path = if r.path.is_empty() { "/" } else { r.path };
        if rules.double_encode {
            let normalized;
            let p = if rules.normalize_path {
                normalized = normalize_path(path);
                normalized.as_str()
            } else {
                path
            };
            out.push_str(&uri_encode(p, true));
        } else {
            let decoded = percent_decode(path);
            let p =
                if rules.normalize_path { normalize_path(&decoded) } else { decoded.into_owned() };
            out.push_str(&uri_encode(&p, true));
        }
        out.push('\n');
        let presigned = matches!(self.form, Form::Presigned { .. });
        let mut skip: Vec<&str> = Vec::with_capacity(2);
        if presigned {
            skip.push("X-Amz-Signature");
        }
        if presigned && skip_token {
            skip.push("X-Amz-Security-Token");
        }
        out.push_str(&canonical_query(r.query, &skip));
        out.push('\n');
        for name in &self.signed_headers {
            out.push_str(name);
            out.push(':');
            let mut first = true;
            for value in r.header_values(name) {
                if !first {
                    out.push(',');
                }
                first = false;
                canonical_value(value, &mut out);
            }
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.signed_headers.join(";"));
        out.push('\n');
        out.push_str(payload_hash);
        out
    }

    /// The string to sign for a canonical request.
    pub fn string_to_sign(&self, canonical_request: &str) -> String {
        let c = &self.credential;
        let mut out = String::with_capacity(160);
        out.push_str(ALGORITHM);
        out.push('\n');
        out.push_str(&self.amz_date);
        out.push('\n');
        for part in [c.date.as_str(), "/", &c.region, "/", &c.service, "/aws4_request\n"] {
            out.push_str(part);
        }
        hex_into(&sha256(canonical_request.as_bytes()), &mut out);
        out
    }

    /// Verifies with the default canonicalization of the signing service.
    pub fn verify(
        self,
        secret: &Secret,
        now: i64,
        payload: Payload<'_>,
        cache: &mut KeyCache,
    ) -> Result<Verified, Error> {
        let rules = Canonicalization::for_service(&self.credential.service);
        self.verify_with(secret, now, payload, cache, rules)
    }

    /// Verifies with explicit canonicalization rules.
    pub fn verify_with(
        self,
        secret: &Secret,
        now: i64,
        payload: Payload<'_>,
        cache: &mut KeyCache,
        rules: Canonicalization,
    ) -> Result<Verified, Error> {
        self.check_time(now)?;
        if self.amz_date.get(..8) != Some(self.credential.date.as_str()) {
            return Err(Error::Malformed(format!(
                "the credential date `{}` is not the date of the request time `{}`",
                self.credential.date, self.amz_date
            )));
        }
        self.check_signed_headers()?;
        let (payload_hash, mode) = self.payload_hash(payload)?;
        let canonical = self.canonical_request(&payload_hash, rules);
        let to_sign = self.string_to_sign(&canonical);
        let c = &self.credential;
        let key = cache.get(secret, &c.date, &c.region, &c.service);
        let expected = key.sign(to_sign.as_bytes());
        drop((canonical, to_sign));
        let mut token_signed = self.session_token.is_some();
        if !signatures_equal(&expected, &self.signature) {
            // Outside S3, a presigned URL's session token may be appended after signing (the
            // signing suite's `post-sts-header-after`): accept the signature without it.
            let token_added_later = matches!(self.form, Form::Presigned { .. })
                && self.session_token.is_some()
                && !self.is_s3();
            let without_token = token_added_later && {
                let canonical = self.canonical_request_skipping(&payload_hash, rules, true);
                let expected = key.sign(self.string_to_sign(&canonical).as_bytes());
                signatures_equal(&expected, &self.signature)
            };
            if !without_token {
                return Err(Error::SignatureDoesNotMatch);
            }
            token_signed = false;
        }
        let session_token_signed = match self.form {
            Form::Header => self.signed_headers.iter().any(|h| h == "x-amz-security-token"),
            Form::Presigned { .. } => token_signed,
        };
        let payload = match mode {
            Mode::Done(m) => m,
            Mode::Chunks { trailer } => PayloadMode::SignedChunks(crate::chunked::ChunkSeed {
                key,
                scope: self.credential.scope(),
                amz_date: self.amz_date,
                seed_signature: self.signature,
                trailer,
            }),
        };
        Ok(Verified {
            credential: self.credential,
            form: self.form,
            signed_headers: self.signed_headers,
            timestamp: self.timestamp,
            session_token: self.session_token,
            session_token_signed,
            payload,
        })
    }

    fn check_time(&self, now: i64) -> Result<(), Error> {
        match self.form {
            Form::Header => {
                if (now - self.timestamp).abs() > MAX_SKEW_SECONDS {
                    return Err(Error::RequestTimeTooSkewed);
                }
            }
            Form::Presigned { expires } => {
                if self.timestamp - now > MAX_SKEW_SECONDS {
                    return Err(Error::NotYetValid);
                }
                if now > self.timestamp + expires {
                    return Err(Error::Expired);
                }
            }
        }
        Ok(())
    }

    /// `host` must be signed; for S3 every `x-amz-*` header sent must be signed; for other
    /// services every `x-amz-*` header but `x-amz-security-token` (which AWS lets clients add
    /// after signing, as the signing test suite's `post-sts-header-after` case shows).
    fn check_signed_headers(&self) -> Result<(), Error> {
        let signed = |name: &str| self.signed_headers.iter().any(|h| h == name);
        if !signed("host") && !signed(":authority") {
            return Err(Error::UnsignedHeader("host".into()));
        }
        for (name, _) in self.request.headers {
            let amz = name.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("x-amz-"));
            if !amz || self.signed_headers.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                continue;
            }
            if !self.is_s3() && name.eq_ignore_ascii_case("x-amz-security-token") {
                continue;
            }
            return Err(Error::UnsignedHeader(name.to_ascii_lowercase()));
        }
        Ok(())
    }

    fn payload_hash(&self, payload: Payload<'_>) -> Result<(String, Mode), Error> {
        let declared = self.request.header("x-amz-content-sha256").map(str::trim);
        let computed = |body: &[u8]| hex(&sha256(body));
        match (self.form, declared) {
            (_, Some("UNSIGNED-PAYLOAD")) => {
                Ok(("UNSIGNED-PAYLOAD".into(), Mode::Done(PayloadMode::Unsigned)))
            }
            (Form::Header, Some(s @ "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) => {
                Ok((s.into(), Mode::Chunks { trailer: false }))
            }
            (Form::Header, Some(s @ "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")) => {
                Ok((s.into(), Mode::Chunks { trailer: true }))
            }
            (Form::Header, Some(s @ "STREAMING-UNSIGNED-PAYLOAD-TRAILER")) => {
                Ok((s.into(), Mode::Done(PayloadMode::UnsignedChunks)))
            }
            (_, Some(h)) => {
                let Some(want) = unhex32(h) else {
                    return Err(Error::Malformed(format!(
                        "`x-amz-content-sha256` value `{h}` is not a SHA-256 hex digest or a known payload mode"
                    )));
                };
                match payload {
                    Payload::Bytes(body) => {
                        if !signatures_equal(&sha256(body), &want) {
                            return Err(Error::ContentSha256Mismatch);
                        }
                        Ok((h.to_ascii_lowercase(), Mode::Done(PayloadMode::Verified)))
                    }
                    Payload::Deferred => {
                        Ok((h.to_ascii_lowercase(), Mode::Done(PayloadMode::Sha256(want))))
                    }
                }
            }
            (Form::Presigned { .. }, None) if self.is_s3() => {
                Ok(("UNSIGNED-PAYLOAD".into(), Mode::Done(PayloadMode::Unsigned)))
            }
            (Form::Header, None) if self.is_s3() => Err(Error::MissingContentSha256(
                "s3 requests signed in the authorization header need `x-amz-content-sha256`".into(),
            )),
            (_, None) => match payload {
                Payload::Bytes(body) => Ok((computed(body), Mode::Done(PayloadMode::Verified))),
                Payload::Deferred => Err(Error::MissingContentSha256(
                    "the payload hash is needed: send `x-amz-content-sha256`".into(),
                )),
            },
        }
    }
}

enum Mode {
    Done(PayloadMode),
    Chunks { trailer: bool },
}

/// A one-call convenience for callers that hold the body: parse, then verify with `secret`.
pub fn verify_request(
    request: &HttpRequest<'_>,
    secret: &Secret,
    now: i64,
    body: &[u8],
    cache: &mut KeyCache,
) -> Result<Verified, Error> {
    parse(request)?.verify(secret, now, Payload::Bytes(body), cache)
}

/// The signing key for a verified request's scope (used by the chunk decoder).
pub fn signing_key(secret: &Secret, credential: &Credential) -> SigningKey {
    SigningKey::derive(secret, &credential.date, &credential.region, &credential.service)
}
