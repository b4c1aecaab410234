//! Verifying a typical signed GET (the S3 documentation's GET-object request) with a warm key
//! cache, and one aws-chunked 64 KiB chunk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use sigv4::{parse, KeyCache, Payload, Secret};

fn bench(c: &mut Criterion) {
    let headers = [
        ("Host", "examplebucket.s3.amazonaws.com"),
        ("Range", "bytes=0-9"),
        ("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("x-amz-date", "20130524T000000Z"),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    ];
    let request =
        sigv4::HttpRequest { method: "GET", path: "/test.txt", query: "", headers: &headers };
    let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let now = sigv4::time::parse_amz_date("20130524T000000Z").unwrap();
    let mut cache = KeyCache::default();
    parse(&request).unwrap().verify(&secret, now, Payload::Deferred, &mut cache).unwrap();
    let mut group = c.benchmark_group("sigv4");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_signed_get_warm_cache", |b| {
        b.iter(|| {
            parse(black_box(&request))
                .unwrap()
                .verify(&secret, now, Payload::Deferred, &mut cache)
                .unwrap()
        })
    });
    group.finish();

    let seed = sigv4::ChunkSeed {
        key: sigv4::SigningKey::derive(&secret, "20130524", "us-east-1", "s3"),
        amz_date: "20130524T000000Z".into(),
        scope: "20130524/us-east-1/s3/aws4_request".into(),
        seed_signature: [0; 32],
        trailer: false,
    };
    let data = vec![b'a'; 65536];
    let mut group = c.benchmark_group("sigv4_chunk");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("verify_64KiB_chunk", |b| {
        b.iter(|| {
            // The chunk signature is wrong (zero seed), so this measures hashing and the check.
            let mut decoder = sigv4::ChunkDecoder::signed(seed.clone());
            let mut wire = format!("10000;chunk-signature={}\r\n", "0".repeat(64)).into_bytes();
            wire.extend_from_slice(&data);
            wire.extend_from_slice(b"\r\n");
            let _ = decoder.push(black_box(&wire), &mut Vec::new());
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
