#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The S3 documentation's SigV4 examples (`tests/data/s3-examples.json`): header-signed GET and
//! PUT, presigned GET, and an aws-chunked upload with its seed and chunk signatures.

use serde_json::Value;
use sigv4::{parse, ChunkDecoder, Error, KeyCache, Payload, PayloadMode, Secret};

fn data() -> Value {
    serde_json::from_str(include_str!("data/s3-examples.json")).unwrap()
}

fn headers(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| (h[0].as_str().unwrap().to_string(), h[1].as_str().unwrap().to_string()))
        .collect()
}

fn now(d: &Value) -> i64 {
    sigv4::time::parse_amz_date(d["now"].as_str().unwrap()).unwrap()
}

#[test]
fn published_s3_requests_verify_and_tampering_fails() {
    let d = data();
    let secret = Secret::new(d["secret"].as_str().unwrap());
    let mut cache = KeyCache::default();
    for r in d["requests"].as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        let hs = headers(&r["headers"]);
        let refs: Vec<(&str, &str)> = hs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let body = r["body"].as_str().unwrap().as_bytes();
        let request = sigv4::HttpRequest {
            method: r["method"].as_str().unwrap(),
            path: r["path"].as_str().unwrap(),
            query: r["query"].as_str().unwrap(),
            headers: &refs,
        };
        let unverified = parse(&request).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(unverified.is_s3());
        let verified = unverified
            .clone()
            .verify(&secret, now(&d), Payload::Bytes(body), &mut cache)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(verified.credential.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        // Deferred payloads leave the body check to the caller.
        let deferred =
            unverified.clone().verify(&secret, now(&d), Payload::Deferred, &mut cache).unwrap();
        if name == "presigned-get-object" {
            assert_eq!(deferred.payload, PayloadMode::Unsigned);
            let late = now(&d) + 86_401;
            assert_eq!(
                unverified.verify(&secret, late, Payload::Deferred, &mut cache),
                Err(Error::Expired)
            );
        } else {
            assert!(matches!(deferred.payload, PayloadMode::Sha256(_)), "{name}");
            // A body that does not match x-amz-content-sha256 is refused.
            assert_eq!(
                unverified.clone().verify(
                    &secret,
                    now(&d),
                    Payload::Bytes(b"tampered"),
                    &mut cache
                ),
                Err(Error::ContentSha256Mismatch),
                "{name}"
            );
        }
        // A changed path (S3 signs the key encoded once) fails.
        let other_path = format!("{}x", request.path);
        let tampered = sigv4::HttpRequest { path: &other_path, ..request };
        assert_eq!(
            parse(&tampered).unwrap().verify(&secret, now(&d), Payload::Bytes(body), &mut cache),
            Err(Error::SignatureDoesNotMatch),
            "{name}"
        );
        // An x-amz-* header added after signing is refused (S3 requires them all signed).
        let mut extra = refs.clone();
        extra.push(("x-amz-meta-added", "1"));
        let with_extra = sigv4::HttpRequest { headers: &extra, ..request };
        assert_eq!(
            parse(&with_extra).unwrap().verify(&secret, now(&d), Payload::Bytes(body), &mut cache),
            Err(Error::UnsignedHeader("x-amz-meta-added".into())),
            "{name}"
        );
    }
}

fn chunked_body(d: &Value) -> (Vec<u8>, Vec<u8>) {
    let mut wire = Vec::new();
    let mut plain = Vec::new();
    for c in d["chunked"]["chunks"].as_array().unwrap() {
        let size = c["size"].as_u64().unwrap() as usize;
        let data = c["byte"].as_str().unwrap().repeat(size);
        wire.extend_from_slice(
            format!("{size:x};chunk-signature={}\r\n", c["signature"].as_str().unwrap()).as_bytes(),
        );
        wire.extend_from_slice(data.as_bytes());
        wire.extend_from_slice(b"\r\n");
        plain.extend_from_slice(data.as_bytes());
    }
    (wire, plain)
}

fn chunk_seed(d: &Value) -> sigv4::ChunkSeed {
    let c = &d["chunked"];
    let hs = headers(&c["headers"]);
    let refs: Vec<(&str, &str)> = hs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let request = sigv4::HttpRequest {
        method: c["method"].as_str().unwrap(),
        path: c["path"].as_str().unwrap(),
        query: "",
        headers: &refs,
    };
    let verified = parse(&request)
        .unwrap()
        .verify(
            &Secret::new(d["secret"].as_str().unwrap()),
            now(d),
            Payload::Deferred,
            &mut KeyCache::default(),
        )
        .unwrap();
    match verified.payload {
        PayloadMode::SignedChunks(seed) => seed,
        other => panic!("expected signed chunks, got {other:?}"),
    }
}

#[test]
fn published_chunked_upload_verifies_in_any_split() {
    let d = data();
    let (wire, plain) = chunked_body(&d);
    assert_eq!(wire.len(), 66824, "the published Content-Length");
    for split in [1usize, 7, 100, 4096, 65_600, wire.len()] {
        let mut decoder = ChunkDecoder::signed(chunk_seed(&d));
        let mut out = Vec::new();
        for piece in wire.chunks(split) {
            decoder.push(piece, &mut out).unwrap();
        }
        assert!(decoder.finish().is_ok(), "split {split}");
        assert_eq!(out, plain, "split {split}");
    }
}

#[test]
fn a_bad_chunk_stops_the_stream_before_its_data_is_released() {
    let d = data();
    let (mut wire, _) = chunked_body(&d);
    // Flip one data byte of the second chunk.
    let second_data = wire.len() - (1024 + 2) - (86 + 2 + 2) + 10;
    wire[second_data] = b'b';
    let mut decoder = ChunkDecoder::signed(chunk_seed(&d));
    let mut out = Vec::new();
    let result = decoder.push(&wire, &mut out);
    assert_eq!(result, Err(Error::ChunkSignatureDoesNotMatch));
    assert_eq!(out.len(), 65536, "only the first, verified chunk is released");
    assert!(decoder.push(b"", &mut out).is_err() || decoder.finish().is_err());
    // Truncated body: never finishes.
    let (wire, _) = chunked_body(&d);
    let mut decoder = ChunkDecoder::signed(chunk_seed(&d));
    decoder.push(&wire[..wire.len() - 5], &mut Vec::new()).unwrap();
    assert!(decoder.finish().is_err());
    // Chunks reordered (a valid signature in the wrong place): refused.
    let mut decoder = ChunkDecoder::signed(chunk_seed(&d));
    let c = &d["chunked"]["chunks"];
    let second = format!(
        "400;chunk-signature={}\r\n{}\r\n",
        c[1]["signature"].as_str().unwrap(),
        "a".repeat(1024)
    );
    assert_eq!(
        decoder.push(second.as_bytes(), &mut Vec::new()),
        Err(Error::ChunkSignatureDoesNotMatch)
    );
}
