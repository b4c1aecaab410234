#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Requests signed by AWS's own Rust signer (the `aws-sigv4` crate, as the AWS SDK for Rust
//! uses it) verify, for every payload mode and both signature locations.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use sigv4::{parse, ChunkDecoder, KeyCache, Payload, PayloadMode, Secret};
use std::time::{Duration, UNIX_EPOCH};

const AKID: &str = "AKIDRUSTSDK0EXAMPLE";
const SECRET: &str = "rust/sdk+secret/EXAMPLEKEY0123456789abcd";
const NOW: u64 = 1_764_000_000;

struct Signed {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

fn sign_with(
    service: &str,
    method: &str,
    url: &str,
    extra_headers: &[(&str, &str)],
    body: SignableBody<'_>,
    location: SignatureLocation,
    token: Option<&str>,
) -> Signed {
    let identity: Identity =
        Credentials::new(AKID, SECRET, token.map(str::to_string), None, "test").into();
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    settings.expires_in = Some(Duration::from_secs(600));
    if service == "s3" {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(UNIX_EPOCH + Duration::from_secs(NOW))
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let host = url.split('/').nth(2).unwrap().to_string();
    let mut headers: Vec<(String, String)> = vec![("host".into(), host)];
    headers.extend(extra_headers.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        body,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let (path_and_query, _) = (url.splitn(4, '/').nth(3).unwrap_or_default(), ());
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let mut query = query.to_string();
    for (name, value) in instructions.params() {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&format!(
            "{}={}",
            sigv4::encode::uri_encode(name, false),
            sigv4::encode::uri_encode(value, false)
        ));
    }
    for (name, value) in instructions.headers() {
        headers.push((name.to_string(), value.to_string()));
    }
    Signed { method: method.into(), path: format!("/{path}"), query, headers }
}

fn verify(s: &Signed, body: &[u8]) -> Result<sigv4::Verified, sigv4::Error> {
    let refs: Vec<(&str, &str)> = s.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let request =
        sigv4::HttpRequest { method: &s.method, path: &s.path, query: &s.query, headers: &refs };
    parse(&request)?.verify(
        &Secret::new(SECRET),
        NOW as i64 + 1,
        Payload::Bytes(body),
        &mut KeyCache::default(),
    )
}

#[test]
fn every_payload_mode_and_location_verifies() {
    let body = b"{\"KeyId\":\"alias/app\"}";
    let header = SignatureLocation::Headers;
    let query = SignatureLocation::QueryParams;
    let cases: Vec<(&str, Signed, &[u8], PayloadMode)> = vec![
        (
            "s3 signed payload",
            sign_with(
                "s3",
                "PUT",
                "https://s3.us-east-1.amazonaws.com/bucket/a%20b/c.txt",
                &[],
                SignableBody::Bytes(body),
                header,
                None,
            ),
            body,
            PayloadMode::Verified,
        ),
        (
            "s3 unsigned payload with token",
            sign_with(
                "s3",
                "PUT",
                "https://s3.us-east-1.amazonaws.com/bucket/k",
                &[],
                SignableBody::UnsignedPayload,
                header,
                Some("token/abc=="),
            ),
            body,
            PayloadMode::Unsigned,
        ),
        (
            "s3 precomputed hash",
            sign_with(
                "s3",
                "PUT",
                "https://s3.us-east-1.amazonaws.com/bucket/k",
                &[],
                SignableBody::Precomputed(sigv4::encode::hex(&sigv4::key::sha256(body))),
                header,
                None,
            ),
            body,
            PayloadMode::Verified,
        ),
        (
            "s3 presigned get",
            sign_with(
                "s3",
                "GET",
                "https://s3.us-east-1.amazonaws.com/bucket/report.csv?versionId=3",
                &[],
                SignableBody::UnsignedPayload,
                query,
                Some("tok"),
            ),
            b"",
            PayloadMode::Unsigned,
        ),
        (
            "s3 streaming unsigned payload trailer",
            sign_with(
                "s3",
                "PUT",
                "https://s3.us-east-1.amazonaws.com/bucket/k",
                &[("content-encoding", "aws-chunked"), ("x-amz-trailer", "x-amz-checksum-crc32")],
                SignableBody::StreamingUnsignedPayloadTrailer,
                header,
                None,
            ),
            b"",
            PayloadMode::UnsignedChunks,
        ),
        (
            "kms json body",
            sign_with(
                "kms",
                "POST",
                "https://kms.us-east-1.amazonaws.com/",
                &[
                    ("content-type", "application/x-amz-json-1.1"),
                    ("x-amz-target", "TrentService.Encrypt"),
                ],
                SignableBody::Bytes(body),
                header,
                Some("session-token"),
            ),
            body,
            PayloadMode::Verified,
        ),
        (
            "iam presigned query",
            sign_with(
                "iam",
                "GET",
                "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
                &[],
                SignableBody::Bytes(b""),
                query,
                None,
            ),
            b"",
            PayloadMode::Verified,
        ),
    ];
    for (name, signed, body, mode) in cases {
        let verified = verify(&signed, body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verified.payload, mode, "{name}");
        assert_eq!(verified.credential.access_key_id, AKID);
        let mut tampered = signed;
        tampered.path.push('x');
        assert!(verify(&tampered, body).is_err(), "{name}: tampered path accepted");
    }
}

/// Verifies a streaming request's seed signature and returns what the chunk decoder needs.
fn chunk_seed(seed_request: &Signed) -> sigv4::ChunkSeed {
    let refs: Vec<(&str, &str)> =
        seed_request.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let request =
        sigv4::HttpRequest { method: "PUT", path: &seed_request.path, query: "", headers: &refs };
    let verified = parse(&request)
        .unwrap()
        .verify(&Secret::new(SECRET), NOW as i64, Payload::Deferred, &mut KeyCache::default())
        .unwrap();
    let PayloadMode::SignedChunks(seed) = verified.payload else {
        panic!("expected signed chunks")
    };
    seed
}

/// The S3 signing key of the test scope, derived by the SDK itself.
fn sdk_signing_key() -> Vec<u8> {
    let key =
        v4::generate_signing_key(SECRET, UNIX_EPOCH + Duration::from_secs(NOW), "us-east-1", "s3");
    key.as_ref().to_vec()
}

#[test]
fn signed_chunks_chained_with_the_sdk_signing_key_verify() {
    let seed_request = sign_with(
        "s3",
        "PUT",
        "https://s3.us-east-1.amazonaws.com/bucket/chunked",
        &[("content-encoding", "aws-chunked"), ("x-amz-decoded-content-length", "70000")],
        SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into()),
        SignatureLocation::Headers,
        None,
    );
    let seed = chunk_seed(&seed_request);
    // Chunk signatures computed with the SDK's own key derivation and HMAC.
    let key = sdk_signing_key();
    let date = seed.amz_date.clone();
    let scope = seed.scope.clone();
    let mut previous = sigv4::encode::hex(&seed.seed_signature);
    let mut wire = Vec::new();
    let data = vec![7u8; 70000];
    for chunk in data.chunks(65536).chain(std::iter::once(&[][..])) {
        let to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{date}\n{scope}\n{previous}\n{}\n{}",
            sigv4::verify::EMPTY_SHA256,
            sigv4::encode::hex(&sigv4::key::sha256(chunk))
        );
        let signature = v4::calculate_signature(&key, to_sign.as_bytes());
        wire.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        wire.extend_from_slice(chunk);
        wire.extend_from_slice(b"\r\n");
        previous = signature;
    }
    let mut decoder = ChunkDecoder::signed(seed);
    let mut out = Vec::new();
    for piece in wire.chunks(1000) {
        decoder.push(piece, &mut out).unwrap();
    }
    decoder.finish().unwrap();
    assert_eq!(out, data);
}

fn checksum_of(name: &str, data: &[u8]) -> String {
    let mut c = sigv4::checksum::Checksum::for_header(name).unwrap();
    c.update(data);
    c.finish_base64()
}

#[test]
fn signed_chunks_with_a_signed_checksum_trailer_verify() {
    let seed_request = sign_with(
        "s3",
        "PUT",
        "https://s3.us-east-1.amazonaws.com/bucket/trailer",
        &[("content-encoding", "aws-chunked"), ("x-amz-trailer", "x-amz-checksum-crc32c")],
        SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER".into()),
        SignatureLocation::Headers,
        None,
    );
    let seed = chunk_seed(&seed_request);
    assert!(seed.trailer);
    let key = sdk_signing_key();
    let data = b"hello trailing checksum".repeat(100);
    let build = |checksum: &str, tamper_trailer_sig: bool| {
        let mut previous = sigv4::encode::hex(&seed.seed_signature);
        let mut wire = Vec::new();
        for chunk in [&data[..], &[][..]] {
            let to_sign = format!(
                "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{previous}\n{}\n{}",
                seed.amz_date,
                seed.scope,
                sigv4::verify::EMPTY_SHA256,
                sigv4::encode::hex(&sigv4::key::sha256(chunk))
            );
            let signature = v4::calculate_signature(&key, to_sign.as_bytes());
            wire.extend_from_slice(
                format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
            );
            if !chunk.is_empty() {
                wire.extend_from_slice(chunk);
                wire.extend_from_slice(b"\r\n");
            }
            previous = signature;
        }
        let trailer = format!("x-amz-checksum-crc32c:{checksum}\n");
        let to_sign = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{previous}\n{}",
            seed.amz_date,
            seed.scope,
            sigv4::encode::hex(&sigv4::key::sha256(trailer.as_bytes()))
        );
        let mut trailer_signature = v4::calculate_signature(&key, to_sign.as_bytes());
        if tamper_trailer_sig {
            trailer_signature = "0".repeat(64);
        }
        wire.extend_from_slice(
            format!("x-amz-checksum-crc32c:{checksum}\r\nx-amz-trailer-signature:{trailer_signature}\r\n\r\n").as_bytes(),
        );
        wire
    };
    let good = checksum_of("x-amz-checksum-crc32c", &data);
    let run = |wire: Vec<u8>| -> Result<Vec<u8>, sigv4::Error> {
        let mut decoder =
            ChunkDecoder::signed(seed.clone()).expect_checksum("x-amz-checksum-crc32c")?;
        let mut out = Vec::new();
        for piece in wire.chunks(333) {
            decoder.push(piece, &mut out)?;
        }
        let trailers = decoder.finish()?;
        assert_eq!(trailers.len(), 1);
        Ok(out)
    };
    assert_eq!(run(build(&good, false)).unwrap(), data);
    assert_eq!(run(build(&good, true)), Err(sigv4::Error::ChunkSignatureDoesNotMatch));
    assert!(matches!(run(build("AAAAAA==", false)), Err(sigv4::Error::Chunk(_))));
}

#[test]
fn unsigned_chunks_with_a_checksum_trailer_decode() {
    let data = b"0123456789".repeat(7000);
    let build = |checksum: &str| {
        let mut wire = Vec::new();
        for chunk in data.chunks(65536) {
            wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            wire.extend_from_slice(chunk);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(format!("0\r\nx-amz-checksum-sha256:{checksum}\r\n\r\n").as_bytes());
        wire
    };
    let decode = |wire: Vec<u8>| -> Result<Vec<u8>, sigv4::Error> {
        let mut decoder =
            ChunkDecoder::unsigned_trailer().expect_checksum("x-amz-checksum-sha256")?;
        let mut out = Vec::new();
        for piece in wire.chunks(4096) {
            decoder.push(piece, &mut out)?;
        }
        decoder.finish()?;
        Ok(out)
    };
    assert_eq!(decode(build(&checksum_of("x-amz-checksum-sha256", &data))).unwrap(), data);
    assert!(decode(build(&checksum_of("x-amz-checksum-sha256", b"other"))).is_err());
}
