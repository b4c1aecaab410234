//! Removing secrets from the free-form parts of an event (`requestParameters`,
//! `responseElements`, `additionalEventData`) before the event is built, and putting their keys
//! in canonical (sorted) order.
//!
//! A key is secret-bearing, and removed with its whole value at any depth (inside nested objects
//! and arrays too), when, compared case-insensitively (ASCII):
//!
//! * it is one of [`SECRET_KEYS`]: `secretAccessKey` (STS and IAM credentials), `plaintext`
//!   (KMS `Decrypt`/`GenerateDataKey` output, `Encrypt` input), `secretString` and
//!   `secretBinary` (secret values), `tokenCode` (an MFA one-time code); or
//! * it ends with one of [`SECRET_KEY_SUFFIXES`]: `secret` (`clientSecret`, …), `token`
//!   (`sessionToken`, `SessionToken`, `webIdentityToken`, also pagination's `nextToken`, which
//!   costs nothing to drop), `password` (`password`, `newPassword`, `oldPassword`) and
//!   `privateKey` (certificate uploads).
//!
//! The key is removed rather than masked, so no length or shape of a secret leaks. [`Redacted`]
//! is the only way to put a value into an event, so an event cannot carry an unredacted one.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Keys removed wherever they appear, compared in ASCII lowercase.
pub const SECRET_KEYS: &[&str] =
    &["secretaccesskey", "plaintext", "secretstring", "secretbinary", "tokencode"];

/// Key endings that mark a key as secret-bearing, compared in ASCII lowercase.
pub const SECRET_KEY_SUFFIXES: &[&str] = &["secret", "token", "password", "privatekey"];

/// Whether `key` names a secret-bearing field (see the module documentation for the list).
#[must_use]
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str()) || SECRET_KEY_SUFFIXES.iter().any(|s| key.ends_with(s))
}

/// `value` without its secret-bearing keys, at every depth, with every object's keys in byte
/// order.
#[must_use]
pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map
                .into_iter()
                .filter(|(k, _)| !is_secret_key(k))
                .map(|(k, v)| (k, redact(v)))
                .collect();
            // Sorting here, not relying on the map type, keeps the order canonical even if
            // serde_json's `preserve_order` feature is switched on somewhere in the build.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect::<Map<String, Value>>())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

/// A JSON value that has been through [`redact`]: secret-free, keys sorted. Deserializing one
/// redacts too.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Redacted(Value);

impl Redacted {
    /// Redacts `value`.
    #[must_use]
    pub fn new(value: Value) -> Self {
        Self(redact(value))
    }

    /// The redacted value.
    #[must_use]
    pub fn as_value(&self) -> &Value {
        &self.0
    }

    /// The redacted value, owned.
    #[must_use]
    pub fn into_value(self) -> Value {
        self.0
    }
}

impl From<Value> for Redacted {
    fn from(value: Value) -> Self {
        Self::new(value)
    }
}

impl<'de> Deserialize<'de> for Redacted {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_are_matched_case_insensitively() {
        for k in [
            "secretAccessKey",
            "SecretAccessKey",
            "sessionToken",
            "SessionToken",
            "password",
            "Password",
            "newPassword",
            "plaintext",
            "Plaintext",
            "clientSecret",
            "ClientSECRET",
            "webIdentityToken",
            "SecretString",
            "tokenCode",
            "PrivateKey",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in
            ["accessKeyId", "AccessKeyId", "userName", "keyId", "secretId", "tokens", "Expiration"]
        {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn nested_secrets_are_removed_and_keys_sorted() {
        let v = json!({
            "roleSessionName": "s",
            "credentials": {
                "accessKeyId": "ASIAEXAMPLE",
                "secretAccessKey": "wJalr",
                "sessionToken": "FwoG",
                "expiration": "2024-01-01T00:00:00Z"
            },
            "list": [{"Password": "x", "b": 1, "a": 2}],
            "Plaintext": "AAAA"
        });
        let got = serde_json::to_string(&redact(v)).unwrap_or_default();
        assert_eq!(
            got,
            r#"{"credentials":{"accessKeyId":"ASIAEXAMPLE","expiration":"2024-01-01T00:00:00Z"},"list":[{"a":2,"b":1}],"roleSessionName":"s"}"#
        );
    }
}
