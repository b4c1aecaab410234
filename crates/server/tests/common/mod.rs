//! The in-process harness: an app over a temporary data directory, and clients that sign their
//! requests with AWS's own signer (the `aws-sigv4` crate), as an SDK would.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use server::testing::{App, Response};
use std::path::PathBuf;

/// The operator realm's account.
pub const OPERATOR: &str = "000000000000";

/// An app in a fresh temporary directory, removed on drop.
pub struct Harness {
    pub app: App,
    pub dir: PathBuf,
}

impl Drop for Harness {
    fn drop(&mut self) {
        // The development root key lives beside the data directory.
        let _ = std::fs::remove_file(server::bootstrap::root_key_path(&self.dir, None));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Harness {
    pub async fn new(tag: &str) -> Harness {
        Harness::with_blobs(tag, server::config::BlobStoreConfig::Local).await
    }

    /// An app whose object data lives in `blob_store`.
    pub async fn with_blobs(tag: &str, blob_store: server::config::BlobStoreConfig) -> Harness {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir()
            .join(format!("hermetic-inproc-{tag}-{}-{nanos}", std::process::id()));
        let config = server::Config { data_dir: dir.clone(), blob_store, ..Default::default() };
        let app = App::open_with(config).await.unwrap();
        Harness { app, dir }
    }

    /// The operator, as a client.
    pub fn operator(&self) -> Client<'_> {
        let (key, secret) = self.app.operator();
        Client { app: &self.app, key: key.to_string(), secret: secret.to_string(), token: None }
    }

    /// A new tenant account through the operator's invitation and the tenant's unsigned
    /// redeem: (account id, its root as a client).
    pub async fn tenant(&self, name: &str) -> (String, Client<'_>) {
        let r = self
            .operator()
            .json(
                "hermetic",
                "HermeticOperator.InviteAccount",
                serde_json::json!({ "AccountName": name }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let invited: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let r = self.redeem(invited["InviteCode"].as_str().unwrap()).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let client = Client {
            app: &self.app,
            key: v["AccessKeyId"].as_str().unwrap().to_string(),
            secret: v["SecretAccessKey"].as_str().unwrap().to_string(),
            token: None,
        };
        (v["AccountId"].as_str().unwrap().to_string(), client)
    }

    /// `HermeticOnboarding.RedeemInvitation`, unsigned, as a tenant with no credential sends it.
    pub async fn redeem(&self, code: &str) -> Response {
        let headers = [
            ("host".to_string(), "127.0.0.1:4566".to_string()),
            ("x-amz-target".to_string(), "HermeticOnboarding.RedeemInvitation".to_string()),
            ("content-type".to_string(), "application/x-amz-json-1.1".to_string()),
        ];
        let body = serde_json::json!({ "InviteCode": code }).to_string();
        self.app.send("POST", "/", &headers, body.into_bytes()).await
    }

    /// Every event in `account`'s log.
    pub fn log(&self, account: &str) -> Vec<audit::event::EventRecord> {
        let mut tx = self.app.store().read().unwrap();
        let size = tx.audit_head(account).unwrap().size;
        tx.audit_events(account, 0..size)
            .unwrap()
            .iter()
            .map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).unwrap())
            .collect()
    }
}

/// Credentials that sign requests.
pub struct Client<'a> {
    pub app: &'a App,
    pub key: String,
    pub secret: String,
    pub token: Option<String>,
}

impl Client<'_> {
    /// A signed request for `service`.
    pub async fn send(
        &self,
        service: &str,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let url = format!("http://127.0.0.1:4566{path_and_query}");
        let identity: Identity =
            Credentials::new(&self.key, &self.secret, self.token.clone(), None, "test").into();
        let mut settings = SigningSettings::default();
        if service == "s3" {
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name(service)
            .time(std::time::SystemTime::now())
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let mut all: Vec<(String, String)> = vec![("host".into(), "127.0.0.1:4566".into())];
        all.extend(headers.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        let signable = SignableRequest::new(
            method,
            &url,
            all.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        for (name, value) in instructions.headers() {
            all.push((name.to_string(), value.to_string()));
        }
        let mut uri = path_and_query.to_string();
        for (name, value) in instructions.params() {
            uri.push(if uri.contains('?') { '&' } else { '?' });
            uri.push_str(&format!("{name}={value}"));
        }
        self.app.send(method, &uri, &all, body.to_vec()).await
    }

    /// A query-protocol call (IAM, STS).
    pub async fn query(&self, service: &str, params: &[(&str, &str)]) -> Response {
        let version = if service == "sts" { "2011-06-15" } else { "2010-05-08" };
        let mut form: Vec<String> = vec![format!("Version={version}")];
        form.extend(params.iter().map(|(k, v)| format!("{k}={}", aws_smithy_percent(v))));
        let body = form.join("&");
        self.send(
            service,
            "POST",
            "/",
            &[("content-type", "application/x-www-form-urlencoded; charset=utf-8")],
            body.as_bytes(),
        )
        .await
    }

    /// A JSON-protocol call (KMS, CloudTrail, the operator API).
    pub async fn json(&self, service: &str, target: &str, input: serde_json::Value) -> Response {
        let body = input.to_string();
        self.send(
            service,
            "POST",
            "/",
            &[("x-amz-target", target), ("content-type", "application/x-amz-json-1.1")],
            body.as_bytes(),
        )
        .await
    }

    /// An S3 call.
    pub async fn s3(&self, method: &str, path_and_query: &str, body: &[u8]) -> Response {
        self.send("s3", method, path_and_query, &[], body).await
    }
}

/// Percent-encoding of a form value (unreserved characters kept).
fn aws_smithy_percent(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A JSON response's body.
pub fn json_of(r: &Response) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null)
}
