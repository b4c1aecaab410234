//! Arbitrary Authorization headers, dates and presigned queries through parse and verify:
//! never a panic, and nothing verifies without the right signature.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(4, '\n');
    let auth = parts.next().unwrap_or_default();
    let date = parts.next().unwrap_or_default();
    let query = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or("/");
    let headers = [("host", "example.com"), ("authorization", auth), ("x-amz-date", date)];
    let with_auth = sigv4::HttpRequest { method: "GET", path, query, headers: &headers };
    let without_auth = sigv4::HttpRequest { method: "GET", path, query, headers: &headers[..1] };
    for request in [with_auth, without_auth] {
        if let Ok(unverified) = sigv4::parse(&request) {
            let _ = unverified
                .canonical_request("UNSIGNED-PAYLOAD", sigv4::Canonicalization::for_service("s3"));
            let result = unverified.verify(
                &sigv4::Secret::new("secret"),
                1_700_000_000,
                sigv4::Payload::Bytes(b""),
                &mut sigv4::KeyCache::new(2),
            );
            // Random input must never carry a valid signature.
            assert!(result.is_err());
        }
    }
});
