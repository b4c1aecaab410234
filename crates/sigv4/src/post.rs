//! Browser-based uploads (S3's `POST` object): the form carries the signature, and what is
//! signed is the form's base64 `policy` document itself, with the signing key of the
//! credential's scope: `signature = hex(HMAC(kSigning, policy))`. The policy's own conditions
//! (expiration, which fields may hold what) are the service's to check once the signature
//! holds.

use crate::key::{signatures_equal, Secret, SigningKey};
use crate::verify::{parse_credential, parse_signature, Credential};
use crate::Error;

/// The signing algorithm a form must name.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// A form's signature, parsed but not yet verified.
#[derive(Clone, Debug)]
pub struct PostSignature {
    /// The credential scope (`x-amz-credential`).
    pub credential: Credential,
    /// `x-amz-date`, in seconds since the epoch.
    pub timestamp: i64,
    /// `x-amz-security-token`, if sent.
    pub session_token: Option<String>,
    policy: String,
    signature: [u8; 32],
}

/// Reads a form's SigV4 fields; `field` finds one by name (compared case-insensitively by the
/// caller, as S3 compares form field names).
///
/// # Errors
/// A missing field ([`Error::Incomplete`]), another algorithm, or a malformed credential,
/// date or signature.
pub fn parse(field: impl Fn(&str) -> Option<String>) -> Result<PostSignature, Error> {
    let required = |name: &str| {
        field(name).ok_or_else(|| Error::Incomplete(format!("the form has no `{name}` field")))
    };
    let algorithm = required("x-amz-algorithm")?;
    if algorithm != ALGORITHM {
        return Err(Error::UnsupportedAlgorithm(algorithm));
    }
    let credential = parse_credential(&required("x-amz-credential")?)?;
    let amz_date = required("x-amz-date")?;
    let timestamp = crate::time::parse_amz_date(&amz_date).ok_or_else(|| {
        Error::Malformed(format!("`x-amz-date` `{amz_date}` is not YYYYMMDDTHHMMSSZ"))
    })?;
    if !amz_date.starts_with(&credential.date) {
        return Err(Error::Malformed(
            "the credential's date is not the date of `x-amz-date`".into(),
        ));
    }
    let signature = parse_signature(&required("x-amz-signature")?)?;
    let policy = required("policy")?;
    Ok(PostSignature {
        credential,
        timestamp,
        session_token: field("x-amz-security-token"),
        policy,
        signature,
    })
}

impl PostSignature {
    /// The access key id, for the caller's secret lookup.
    pub fn access_key_id(&self) -> &str {
        &self.credential.access_key_id
    }

    /// The policy document as signed (base64).
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// Checks the signature over the policy with `secret` (in constant time).
    ///
    /// # Errors
    /// [`Error::SignatureDoesNotMatch`].
    pub fn verify(&self, secret: &Secret) -> Result<(), Error> {
        let c = &self.credential;
        let key = SigningKey::derive(secret, &c.date, &c.region, &c.service);
        let expected = key.sign(self.policy.as_bytes());
        if signatures_equal(&expected, &self.signature) {
            Ok(())
        } else {
            Err(Error::SignatureDoesNotMatch)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// AWS's documented example of a browser upload policy and its signature ("Example: Browser
    /// based upload using HTTP POST (using AWS Signature Version 4)").
    const POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    const SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";

    fn form<'a>(fields: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| (*v).to_string())
        }
    }

    fn example(signature: &str) -> Vec<(&str, &str)> {
        vec![
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"),
            ("X-Amz-Date", "20151229T000000Z"),
            ("Policy", POLICY),
            ("X-Amz-Signature", signature),
        ]
    }

    #[test]
    fn the_documented_example_verifies() {
        let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_string());
        let fields = example(SIGNATURE);
        let parsed = parse(form(&fields)).unwrap();
        assert_eq!(parsed.access_key_id(), "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(parsed.credential.region, "us-east-1");
        parsed.verify(&secret).unwrap();
        let wrong = Secret::new("another".to_string());
        assert_eq!(parsed.verify(&wrong), Err(Error::SignatureDoesNotMatch));
        let altered = SIGNATURE.replace('8', "9");
        assert!(parse(form(&example(&altered))).unwrap().verify(&secret).is_err());
    }

    #[test]
    fn incomplete_or_malformed_forms_are_refused() {
        let mut fields = example(SIGNATURE);
        fields.retain(|(n, _)| *n != "Policy");
        assert!(matches!(parse(form(&fields)), Err(Error::Incomplete(_))));
        let mut fields = example(SIGNATURE);
        fields[0].1 = "AWS4-HMAC-SHA1";
        assert!(matches!(parse(form(&fields)), Err(Error::UnsupportedAlgorithm(_))));
        let mut fields = example(SIGNATURE);
        fields[2].1 = "20151230T000000Z";
        assert!(matches!(parse(form(&fields)), Err(Error::Malformed(_))));
        let mut fields = example(SIGNATURE);
        fields[4].1 = "xyz";
        assert!(matches!(parse(form(&fields)), Err(Error::Malformed(_))));
    }
}
