//! The S3 object format's hot paths: sealing a 1 MiB object, opening it whole, and opening a
//! 1 MiB range of a stored object through an `Opener` (what a streamed GET does per chunk).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use crypto::object::{decrypt, encrypt, new_data_key, Opener, HEADER_LEN};

const MIB: usize = 1 << 20;
const IDENTITY: &[u8] = b"arn:aws:s3:::bench-bucket/bench-key#version";

fn object(c: &mut Criterion) {
    let key = new_data_key();
    let plaintext = vec![0x5au8; MIB];
    let sealed = encrypt(&key, IDENTITY, &plaintext).unwrap();
    let mut group = c.benchmark_group("object");
    group.throughput(Throughput::Bytes(MIB as u64));
    group.bench_function("encrypt_1MiB", |b| {
        b.iter(|| encrypt(&key, IDENTITY, black_box(&plaintext)).unwrap())
    });
    group.bench_function("decrypt_1MiB", |b| {
        b.iter(|| decrypt(&key, IDENTITY, black_box(&sealed)).unwrap())
    });
    // A 1 MiB chunk from the middle of a 64 MiB object: the span is copied in (as a file read
    // would) and opened in place.
    let big = encrypt(&key, IDENTITY, &vec![0xa5u8; 64 * MIB]).unwrap();
    let first = 31 * MIB as u64;
    let last = first + MIB as u64 - 1;
    group.bench_function("open_1MiB_chunk_of_64MiB", |b| {
        b.iter(|| {
            let mut opener =
                Opener::new(&key, IDENTITY, &big[..HEADER_LEN], big.len() as u64).unwrap();
            let (offset, len) = opener.span(first, last).unwrap();
            let mut buf = big[offset as usize..(offset + len) as usize].to_vec();
            opener.open(first, last, &mut buf).unwrap();
            buf
        })
    });
    group.finish();
}

criterion_group!(benches, object);
criterion_main!(benches);
