//! A small client of the operator API, for `hermetic account ...`: signs with the operator's
//! credentials from the data directory and speaks HTTP/1.1 over a plain TCP connection (the
//! operator API is reached on the local endpoint).

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The endpoint is not `http://host:port`.
    #[error("the endpoint `{0}` must look like http://127.0.0.1:4566")]
    Endpoint(String),
    /// The operator credentials are missing or unreadable.
    #[error("cannot read the operator credentials `{0}`: start the server once with this data directory")]
    Credentials(String),
    /// Network trouble.
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

/// Calls `HermeticOperator.{operation}` with `input`, as the operator of `data_dir`.
pub fn call(
    endpoint: &str,
    data_dir: &Path,
    operation: &str,
    input: &Value,
) -> Result<Value, ClientError> {
    let authority = endpoint
        .strip_prefix("http://")
        .map(|r| r.trim_end_matches('/'))
        .filter(|r| !r.is_empty() && !r.contains('/'))
        .ok_or_else(|| ClientError::Endpoint(endpoint.to_string()))?;
    let creds_path = data_dir.join("operator-credentials.json");
    let creds: Value = std::fs::read_to_string(&creds_path)
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
    let body = input.to_string();
    let target = format!("HermeticOperator.{operation}");
    let headers = [
        ("host", authority),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target.as_str()),
    ];
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let date = amz_date(now);
    let signing = sigv4::sign::SigningInput {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: body.as_bytes(),
        access_key_id: key_id,
        secret: &secret,
        region: "us-east-1",
        service: "hermetic",
        amz_date: &date,
        session_token: None,
        content_sha256_header: false,
    };
    let added = sigv4::sign::sign(&signing).map_err(|_| ClientError::Response)?;
    let mut request = String::from("POST / HTTP/1.1\r\n");
    for (n, v) in headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).chain(added) {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()));
    let io = |source| ClientError::Io { endpoint: endpoint.to_string(), source };
    let mut stream = TcpStream::connect(authority).map_err(io)?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(io)?;
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;
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

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(super::amz_date(0), "19700101T000000Z");
    }
}
