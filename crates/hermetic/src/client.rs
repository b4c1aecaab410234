//! A small client of the operator and onboarding APIs, for `hermetic account ...`: signs
//! operator calls with the operator's credentials file (`--credentials-file`, by default the
//! copy in the data directory) (a redeem is
//! unsigned: the tenant has no credential yet) and speaks HTTP/1.1 over TCP, or over TLS for an
//! `https://` endpoint, trusting the certificates of `--ca-bundle`, else `AWS_CA_BUNDLE`, else
//! the system's bundle.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The endpoint is not `http(s)://host[:port]`.
    #[error("the endpoint `{0}` must look like http://127.0.0.1:4566 or https://host:port")]
    Endpoint(String),
    /// The operator credentials are missing or unreadable.
    #[error("cannot read the operator credentials `{0}`: start the server once with this data directory, or name the operator's copy with --credentials-file")]
    Credentials(String),
    /// The CA bundle cannot be read or holds no certificate.
    #[error("cannot use the CA bundle `{0}`: {1}")]
    CaBundle(String, String),
    /// Network or TLS trouble.
    #[error("cannot reach the server at `{endpoint}`: {source}")]
    Io {
        /// Where.
        endpoint: String,
        /// What.
        source: std::io::Error,
    },
    /// The server answered with an error.
    #[error("{code}: {message}")]
    Api {
        /// AWS error code.
        code: String,
        /// Message.
        message: String,
    },
    /// The answer could not be read.
    #[error("the server's answer could not be read")]
    Response,
}
fn amz_date(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Where and how to reach the server.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `http://host:port` or `https://host:port`.
    pub url: String,
    /// PEM certificates to trust for `https://` (else `AWS_CA_BUNDLE`, else the system's).
    pub ca_bundle: Option<PathBuf>,
}

/// The system's CA bundle (Debian's path).
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// (tls, host, authority with port) of an endpoint URL.
fn parse_endpoint(url: &str) -> Result<(bool, String, String), ClientError> {
    let bad = || ClientError::Endpoint(url.to_string());
    let (tls, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
        (Some(rest), _) => (false, rest),
        (_, Some(rest)) => (true, rest),
        _ => return Err(bad()),
    };
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        return Err(bad());
    }
    let default = if tls { 443 } else { 80 };
    let port_of = |p: &str| p.parse::<u16>().map_err(|_| bad());
    let (host, port, bracketed) = match authority.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => port_of(p)?,
                None if after.is_empty() => default,
                None => return Err(bad()),
            };
            (host, port, true)
        }
        None => match authority.rsplit_once(':') {
            Some((host, p)) => (host, port_of(p)?, false),
            None => (authority, default, false),
        },
    };
    if host.is_empty() {
        return Err(bad());
    }
    let with_port = if bracketed { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    Ok((tls, host.to_string(), with_port))
}

fn tls_config(endpoint: &Endpoint) -> Result<rustls::ClientConfig, ClientError> {
    let path = endpoint
        .ca_bundle
        .clone()
        .or_else(|| std::env::var_os("AWS_CA_BUNDLE").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(SYSTEM_BUNDLE));
    let shown = path.display().to_string();
    let pem =
        std::fs::read(&path).map_err(|e| ClientError::CaBundle(shown.clone(), e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| ClientError::CaBundle(shown.clone(), e.to_string()))?;
        // A bundle may hold certificates this TLS library does not accept; skip those.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(ClientError::CaBundle(shown, "no certificate in it".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::CaBundle(shown, e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Sends one request and reads the whole answer.
fn exchange(endpoint: &Endpoint, request: &[u8]) -> Result<Vec<u8>, ClientError> {
    let (tls, host, authority) = parse_endpoint(&endpoint.url)?;
    let io = |source| ClientError::Io { endpoint: endpoint.url.clone(), source };
    let mut tcp = TcpStream::connect(&authority).map_err(io)?;
    tcp.set_read_timeout(Some(Duration::from_secs(30))).map_err(io)?;
    let mut raw = Vec::new();
    if tls {
        let name = rustls::pki_types::ServerName::try_from(host)
            .map_err(|_| ClientError::Endpoint(endpoint.url.clone()))?;
        let conn = rustls::ClientConnection::new(Arc::new(tls_config(endpoint)?), name)
            .map_err(|e| io(std::io::Error::other(e)))?;
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        stream.write_all(request).map_err(io)?;
        // The server closes after its answer; a close without TLS close_notify still ends it.
        match stream.read_to_end(&mut raw) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
            Err(e) => return Err(io(e)),
        }
    } else {
        tcp.write_all(request).map_err(io)?;
        tcp.read_to_end(&mut raw).map_err(io)?;
    }
    Ok(raw)
}

/// Who signs a request, for which service and region.
pub struct Signer<'a> {
    /// The access key id.
    pub key_id: &'a str,
    /// Its secret.
    pub secret: &'a sigv4::Secret,
    /// The session token of temporary credentials.
    pub token: Option<&'a str>,
    /// The service the request is signed for (`hermetic`, `cloudtrail`).
    pub service: &'a str,
    /// The region it is signed for.
    pub region: &'a str,
}

/// POSTs a JSON 1.1 request with `target`, signed when `signer` is given, and reads the JSON
/// answer.
/// A principal's credentials from the usual AWS environment variables (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`).
pub struct Credentials {
    /// The access key id.
    pub key_id: String,
    /// Its secret.
    pub secret: sigv4::Secret,
    /// The session token of temporary credentials.
    pub token: Option<String>,
    /// The region (default `us-east-1`).
    pub region: String,
}

impl Credentials {
    /// The credentials the environment holds.
    ///
    /// # Errors
    /// Which variable is missing.
    pub fn from_env() -> Result<Credentials, String> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let key_id = var("AWS_ACCESS_KEY_ID").ok_or("AWS_ACCESS_KEY_ID is not set")?;
        let secret = var("AWS_SECRET_ACCESS_KEY").ok_or("AWS_SECRET_ACCESS_KEY is not set")?;
        Ok(Credentials {
            key_id,
            secret: sigv4::Secret::new(&secret),
            token: var("AWS_SESSION_TOKEN"),
            region: var("AWS_REGION")
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .unwrap_or("us-east-1".into()),
        })
    }

    /// A signer for `service`.
    #[must_use]
    pub fn signer<'a>(&'a self, service: &'a str) -> Signer<'a> {
        Signer {
            key_id: &self.key_id,
            secret: &self.secret,
            token: self.token.as_deref(),
            service,
            region: &self.region,
        }
    }
}

/// What one request is, but for its body.
struct Http<'a> {
    method: &'a str,
    /// The path, percent-encoded as sent.
    path: &'a str,
    /// The query string as sent (`Vote`), or empty.
    query: &'a str,
    content_type: &'a str,
    target: Option<&'a str>,
}

/// POSTs `input` to a JSON 1.1 `target`, signed by `signer` when given.
fn post(
    endpoint: &Endpoint,
    target: &str,
    input: &Value,
    signer: Option<Signer<'_>>,
) -> Result<Value, ClientError> {
    let http = Http {
        method: "POST",
        path: "/",
        query: "",
        content_type: "application/x-amz-json-1.1",
        target: Some(target),
    };
    send(endpoint, &http, input, signer)
}

/// Sends one JSON request and reads its JSON answer (an error answer as [`ClientError::Api`]).
fn send(
    endpoint: &Endpoint,
    http: &Http<'_>,
    input: &Value,
    signer: Option<Signer<'_>>,
) -> Result<Value, ClientError> {
    let (_, _, authority) = parse_endpoint(&endpoint.url)?;
    let host = endpoint
        .url
        .split_once("://")
        .map(|(_, r)| r.trim_end_matches('/').to_string())
        .unwrap_or(authority);
    let body = input.to_string();
    let mut headers = vec![("host", host.as_str()), ("content-type", http.content_type)];
    if let Some(target) = http.target {
        headers.push(("x-amz-target", target));
    }
    let mut added = Vec::new();
    if let Some(signer) = signer {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let date = amz_date(now);
        let signing = sigv4::sign::SigningInput {
            method: http.method,
            path: http.path,
            query: http.query,
            headers: &headers,
            body: body.as_bytes(),
            access_key_id: signer.key_id,
            secret: signer.secret,
            region: signer.region,
            service: signer.service,
            amz_date: &date,
            session_token: signer.token,
            content_sha256_header: false,
        };
        added = sigv4::sign::sign(&signing).map_err(|_| ClientError::Response)?;
    }
    let target = if http.query.is_empty() {
        http.path.to_string()
    } else {
        format!("{}?{}", http.path, http.query)
    };
    let mut request = format!("{} {target} HTTP/1.1\r\n", http.method);
    for (n, v) in headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).chain(added) {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()));
    let raw = exchange(endpoint, request.as_bytes())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or(ClientError::Response)?;
    let status: u16 =
        head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or(ClientError::Response)?;
    let doc: Value = serde_json::from_str(body).map_err(|_| ClientError::Response)?;
    if status != 200 {
        let field = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        return Err(ClientError::Api { code: field("__type"), message: field("message") });
    }
    Ok(doc)
}

/// Answers an approval session (`mpa`'s `VoteOnSession`: `POST /sessions/{SessionArn}?Vote`)
/// as `signer`, an approver with its own credentials.
pub fn vote(
    endpoint: &Endpoint,
    session_arn: &str,
    approve: bool,
    signer: Signer<'_>,
) -> Result<Value, ClientError> {
    parse_endpoint(&endpoint.url)?;
    let path = format!("/sessions/{}", sigv4::encode::uri_encode(session_arn, false));
    let http = Http {
        method: "POST",
        path: &path,
        query: "Vote",
        content_type: "application/json",
        target: None,
    };
    let input = serde_json::json!({ "Response": if approve { "APPROVE" } else { "REJECT" } });
    send(endpoint, &http, &input, Some(signer))
}

/// Calls `HermeticOperator.{operation}` with `input`, as the operator whose credentials are in
/// the file `creds_path` (`operator-credentials.json`, which every node writes to its data
/// directory).
pub fn call(
    endpoint: &Endpoint,
    creds_path: &Path,
    operation: &str,
    input: &Value,
) -> Result<Value, ClientError> {
    parse_endpoint(&endpoint.url)?;
    let creds: Value = std::fs::read_to_string(creds_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| ClientError::Credentials(creds_path.display().to_string()))?;
    let (Some(key_id), Some(secret)) = (
        creds.get("AccessKeyId").and_then(Value::as_str),
        creds.get("SecretAccessKey").and_then(Value::as_str),
    ) else {
        return Err(ClientError::Credentials(creds_path.display().to_string()));
    };
    let secret = sigv4::Secret::new(secret);
    let signer =
        Signer { key_id, secret: &secret, token: None, service: "hermetic", region: "us-east-1" };
    post(endpoint, &format!("HermeticOperator.{operation}"), input, Some(signer))
}

/// Calls `{target}` (a JSON 1.1 operation) with `input`, signed by `signer` (a tenant's
/// credentials).
pub fn call_as(
    endpoint: &Endpoint,
    target: &str,
    input: &Value,
    signer: Signer<'_>,
) -> Result<Value, ClientError> {
    parse_endpoint(&endpoint.url)?;
    post(endpoint, target, input, Some(signer))
}

/// Redeems an invitation code (`HermeticOnboarding.RedeemInvitation`, unsigned): the new
/// account's id and root access key.
pub fn redeem(endpoint: &Endpoint, code: &str) -> Result<Value, ClientError> {
    post(
        endpoint,
        "HermeticOnboarding.RedeemInvitation",
        &serde_json::json!({ "InviteCode": code }),
        None,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoints() {
        use super::parse_endpoint as p;
        assert_eq!(
            p("http://127.0.0.1:4566").unwrap(),
            (false, "127.0.0.1".into(), "127.0.0.1:4566".into())
        );
        assert_eq!(
            p("https://h.example/").unwrap(),
            (true, "h.example".into(), "h.example:443".into())
        );
        assert_eq!(p("http://[::1]:80").unwrap(), (false, "::1".into(), "[::1]:80".into()));
        assert_eq!(p("https://[::1]").unwrap(), (true, "::1".into(), "[::1]:443".into()));
        assert!(p("ftp://h").is_err());
        assert!(p("http://").is_err());
        assert!(p("http://h/x").is_err());
        assert!(p("http://h:port").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(super::amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(super::amz_date(0), "19700101T000000Z");
    }
}
