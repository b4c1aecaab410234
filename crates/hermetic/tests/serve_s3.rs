#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! S3 driven by boto3, aws-cli and rclone against `hermetic serve`, on both stores. Each
//! feature of `scripts/s3.py` (buckets, objects, presigned URLs, streamed bodies, multipart,
//! Object Ownership, ACLs, copy and tagging, listing, KMS as the caller, bucket policies,
//! versioning, Block Public Access, the operator's refusal, the trail, CORS, Object Lock,
//! lifecycle rules, S3 Bucket Keys, additional checksums) is a test of its own on a fresh
//! server; so are aws-cli's and rclone's high-level commands, the zero-plaintext check (no file
//! under the data directory and no database row holds uploaded content, nor a checksum of it)
//! and the data events in the audit log. Every such test ends by checking that no blob is left
//! that no record names and that the trail verifies. Then, on SQLite only, a 1 GiB round trip
//! through aws-cli.

mod common;

use common::{start_on, Backend, Server, Tenant};
use std::path::Path;
use std::process::Command;

/// A server as every S3 test here starts it, with the tenants acme and globex.
fn serve(backend: Backend) -> (Server, Tenant, Tenant) {
    serve_with(backend, &[])
}

/// [`serve`] with `extra` flags.
fn serve_with(backend: Backend, extra: &[&str]) -> (Server, Tenant, Tenant) {
    let mut flags = vec!["--checkpoint-interval-secs", "1"];
    flags.extend_from_slice(extra);
    let server = start_on("s3", backend, &flags);
    let a = common::create_tenant(&server, "acme");
    let b = common::create_tenant(&server, "globex");
    (server, a, b)
}

/// Checks what every S3 test here leaves: deletes, overwrites, aborted uploads and completed
/// ones removed the blobs they dropped once they committed (the sweeper's grace period, an
/// hour, has not passed), and the trail verifies against its checkpoints.
fn after_checks(mut server: Server, a: &Tenant, b: &Tenant) {
    common::assert_no_unnamed_blobs(&server, &[&a.account, &b.account]);
    common::stop_and_verify_trail(&mut server);
}

/// Runs `scripts/s3.py` with its feature `name` on a fresh server, then the after-checks.
fn feature(name: &str, backend: Backend) {
    feature_with(name, backend, &[]);
}

/// [`feature`] on a server started with `extra` flags.
fn feature_with(name: &str, backend: Backend, extra: &[&str]) {
    let (server, a, b) = serve_with(backend, extra);
    run_feature(&server, &a, &b, name);
    after_checks(server, &a, &b);
}

/// Runs `scripts/s3.py FEATURE` as acme, with globex as the other account and the operator's
/// credentials.
fn run_feature(server: &Server, a: &Tenant, b: &Tenant, name: &str) {
    common::run_with_tenants(server, "s3", a, b, &[name]);
}

#[test]
fn s3_buckets_on_sqlite() {
    feature("buckets", Backend::Sqlite);
}

#[test]
fn s3_buckets_on_postgres() {
    feature("buckets", Backend::Postgres);
}

#[test]
fn s3_objects_on_sqlite() {
    feature("objects", Backend::Sqlite);
}

#[test]
fn s3_objects_on_postgres() {
    feature("objects", Backend::Postgres);
}

#[test]
fn s3_objects_on_postgres_and_an_s3_blob_store() {
    feature("objects", Backend::PostgresS3);
}

#[test]
fn s3_presigned_urls_on_sqlite() {
    feature("presigned_urls", Backend::Sqlite);
}

#[test]
fn s3_presigned_urls_on_postgres() {
    feature("presigned_urls", Backend::Postgres);
}

#[test]
fn s3_streamed_bodies_on_sqlite() {
    feature("streamed_bodies", Backend::Sqlite);
}

#[test]
fn s3_streamed_bodies_on_postgres() {
    feature("streamed_bodies", Backend::Postgres);
}

#[test]
fn s3_streamed_bodies_on_postgres_and_an_s3_blob_store() {
    feature("streamed_bodies", Backend::PostgresS3);
}

#[test]
fn s3_sse_kms_etags_on_sqlite() {
    feature("sse_kms_etags", Backend::Sqlite);
}

#[test]
fn s3_sse_kms_etags_on_postgres() {
    feature("sse_kms_etags", Backend::Postgres);
}

#[test]
fn s3_sse_kms_etags_on_postgres_and_an_s3_blob_store() {
    feature("sse_kms_etags", Backend::PostgresS3);
}

#[test]
fn s3_multipart_on_sqlite() {
    feature("multipart", Backend::Sqlite);
}

#[test]
fn s3_multipart_on_postgres() {
    feature("multipart", Backend::Postgres);
}

#[test]
fn s3_multipart_on_postgres_and_an_s3_blob_store() {
    feature("multipart", Backend::PostgresS3);
}

#[test]
fn s3_object_ownership_on_sqlite() {
    feature("object_ownership", Backend::Sqlite);
}

#[test]
fn s3_object_ownership_on_postgres() {
    feature("object_ownership", Backend::Postgres);
}

#[test]
fn s3_acls_on_sqlite() {
    feature("acls", Backend::Sqlite);
}

#[test]
fn s3_acls_on_postgres() {
    feature("acls", Backend::Postgres);
}

#[test]
fn s3_copy_tagging_delete_on_sqlite() {
    feature("copy_tagging_delete", Backend::Sqlite);
}

#[test]
fn s3_copy_tagging_delete_on_postgres() {
    feature("copy_tagging_delete", Backend::Postgres);
}

#[test]
fn s3_copy_tagging_delete_on_postgres_and_an_s3_blob_store() {
    feature("copy_tagging_delete", Backend::PostgresS3);
}

#[test]
fn s3_listing_on_sqlite() {
    feature("listing", Backend::Sqlite);
}

#[test]
fn s3_listing_on_postgres() {
    feature("listing", Backend::Postgres);
}

#[test]
fn s3_kms_as_caller_on_sqlite() {
    feature("kms_as_caller", Backend::Sqlite);
}

#[test]
fn s3_kms_as_caller_on_postgres() {
    feature("kms_as_caller", Backend::Postgres);
}

#[test]
fn s3_bucket_policies_on_sqlite() {
    feature("bucket_policies", Backend::Sqlite);
}

#[test]
fn s3_bucket_policies_on_postgres() {
    feature("bucket_policies", Backend::Postgres);
}

#[test]
fn s3_versioning_on_sqlite() {
    feature("versioning", Backend::Sqlite);
}

#[test]
fn s3_versioning_on_postgres() {
    feature("versioning", Backend::Postgres);
}

#[test]
fn s3_versioning_on_postgres_and_an_s3_blob_store() {
    feature("versioning", Backend::PostgresS3);
}

#[test]
fn s3_null_versions_on_sqlite() {
    feature("null_versions", Backend::Sqlite);
}

#[test]
fn s3_null_versions_on_postgres() {
    feature("null_versions", Backend::Postgres);
}

#[test]
fn s3_null_versions_on_postgres_and_an_s3_blob_store() {
    feature("null_versions", Backend::PostgresS3);
}

#[test]
fn s3_version_listing_on_sqlite() {
    feature("version_listing", Backend::Sqlite);
}

#[test]
fn s3_version_listing_on_postgres() {
    feature("version_listing", Backend::Postgres);
}

#[test]
fn s3_block_public_access_on_sqlite() {
    feature("block_public_access", Backend::Sqlite);
}

#[test]
fn s3_block_public_access_on_postgres() {
    feature("block_public_access", Backend::Postgres);
}

#[test]
fn s3_operator_refused_on_sqlite() {
    feature("operator_refused", Backend::Sqlite);
}

#[test]
fn s3_operator_refused_on_postgres() {
    feature("operator_refused", Backend::Postgres);
}

/// Lifecycle rules, on a server whose lifecycle day is 2 s and whose pass runs every second
/// (`--lifecycle-day-secs` is for tests only).
const LIFECYCLE_FLAGS: &[&str] = &["--lifecycle-day-secs", "2", "--lifecycle-interval-secs", "1"];

#[test]
fn s3_lifecycle_on_sqlite() {
    feature_with("lifecycle", Backend::Sqlite, LIFECYCLE_FLAGS);
}

#[test]
fn s3_lifecycle_on_postgres() {
    feature_with("lifecycle", Backend::Postgres, LIFECYCLE_FLAGS);
}

#[test]
fn s3_bucket_keys_on_sqlite() {
    feature("bucket_keys", Backend::Sqlite);
}

#[test]
fn s3_bucket_keys_on_postgres() {
    feature("bucket_keys", Backend::Postgres);
}

#[test]
fn s3_trail_on_sqlite() {
    feature("trail", Backend::Sqlite);
}

#[test]
fn s3_trail_on_postgres() {
    feature("trail", Backend::Postgres);
}

/// CORS through boto3 and unsigned preflights (`s3.py cors`), then aws-cli reads back the
/// configuration the script left.
fn cors(backend: Backend) {
    let (server, a, b) = serve(backend);
    run_feature(&server, &a, &b, "cors");
    let (ok, out, err) = common::aws(
        &server.url,
        &a.key,
        &a.secret,
        &["s3api", "get-bucket-cors", "--bucket", "acme-cors"],
    );
    assert!(ok, "{err}");
    let got: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rule = &got["CORSRules"][0];
    assert_eq!(rule["AllowedOrigins"], serde_json::json!(["https://app.example"]), "{got}");
    assert_eq!(rule["AllowedMethods"], serde_json::json!(["GET", "PUT"]), "{got}");
    assert_eq!(rule["MaxAgeSeconds"], 600, "{got}");
    after_checks(server, &a, &b);
}

#[test]
fn s3_cors_on_sqlite() {
    cors(Backend::Sqlite);
}

#[test]
fn s3_cors_on_postgres() {
    cors(Backend::Postgres);
}

/// Content that is easy to find (the zero-plaintext check looks for it).
const MARKER: &[u8] = b"ZERO-PLAINTEXT-MARKER-7f3a9c1e-known-content-";

/// A 9 MiB file (aws-cli uploads it in parts) and a small one under `WORK/up`, both made of
/// the marker; returns the big file's content.
fn marker_files(work: &Path) -> Vec<u8> {
    std::fs::create_dir_all(work.join("up")).unwrap();
    let mut content = Vec::new();
    while content.len() < 9 * 1024 * 1024 {
        content.extend_from_slice(MARKER);
    }
    std::fs::write(work.join("up/big.bin"), &content).unwrap();
    std::fs::write(work.join("up/small.txt"), MARKER).unwrap();
    content
}

/// rclone (Debian's package) with the tenant's credentials: (success, stdout, stderr).
fn rclone(server: &Server, tenant: &Tenant, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("rclone")
        .args(["-q", "--config", "/dev/null"])
        .args(args)
        .env("RCLONE_CONFIG_H_TYPE", "s3")
        .env("RCLONE_CONFIG_H_PROVIDER", "Other")
        .env("RCLONE_CONFIG_H_ENDPOINT", &server.url)
        .env("RCLONE_CONFIG_H_REGION", "us-east-1")
        .env("RCLONE_CONFIG_H_ACCESS_KEY_ID", &tenant.key)
        .env("RCLONE_CONFIG_H_SECRET_ACCESS_KEY", &tenant.secret)
        .env_remove("AWS_CA_BUNDLE")
        .output()
        .expect("rclone runs (apt-get install rclone; ./scripts/test.sh installs it)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// aws-cli's high-level commands: cp (multipart above 8 MiB), ls, sync.
fn aws_cli(backend: Backend) {
    let (server, a, b) = serve(backend);
    let work = common::unique_dir("s3cli");
    let content = marker_files(&work);
    let aws = |args: &[&str]| common::aws(&server.url, &a.key, &a.secret, args);
    let (ok, _, err) = aws(&["s3", "mb", "s3://acme-cli"]);
    assert!(ok, "{err}");
    let up = work.join("up").display().to_string();
    let (ok, _, err) = aws(&["s3", "sync", &up, "s3://acme-cli/synced"]);
    assert!(ok, "{err}");
    let (ok, out, err) = aws(&["s3", "ls", "s3://acme-cli/synced/"]);
    assert!(ok && out.contains("big.bin") && out.contains("small.txt"), "{out}{err}");
    let down = work.join("down.bin").display().to_string();
    let (ok, _, err) = aws(&["s3", "cp", "s3://acme-cli/synced/big.bin", &down]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read(work.join("down.bin")).unwrap(), content);
    after_checks(server, &a, &b);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn s3_aws_cli_on_sqlite() {
    aws_cli(Backend::Sqlite);
}

#[test]
fn s3_aws_cli_on_postgres() {
    aws_cli(Backend::Postgres);
}

#[test]
fn s3_aws_cli_on_postgres_and_an_s3_blob_store() {
    aws_cli(Backend::PostgresS3);
}

/// rclone as a third client: make a bucket, copy, list, read, check.
fn rclone_client(backend: Backend) {
    let (server, a, b) = serve(backend);
    let work = common::unique_dir("s3rclone");
    marker_files(&work);
    let up = work.join("up").display().to_string();
    let (ok, _, err) = rclone(&server, &a, &["mkdir", "h:acme-rclone"]);
    assert!(ok, "{err}");
    let (ok, _, err) = rclone(&server, &a, &["copy", &up, "h:acme-rclone/dir"]);
    assert!(ok, "{err}");
    let (ok, out, err) = rclone(&server, &a, &["ls", "h:acme-rclone"]);
    assert!(ok && out.contains("dir/big.bin") && out.contains("dir/small.txt"), "{out}{err}");
    let (ok, out, err) = rclone(&server, &a, &["cat", "h:acme-rclone/dir/small.txt"]);
    assert!(ok && out.as_bytes() == MARKER, "{out}{err}");
    let (ok, _, err) = rclone(&server, &a, &["check", &up, "h:acme-rclone/dir"]);
    assert!(ok, "{err}");
    after_checks(server, &a, &b);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn s3_rclone_on_sqlite() {
    rclone_client(Backend::Sqlite);
}

#[test]
fn s3_rclone_on_postgres() {
    rclone_client(Backend::Postgres);
}

#[test]
fn s3_rclone_on_postgres_and_an_s3_blob_store() {
    rclone_client(Backend::PostgresS3);
}

/// Zero plaintext: after the marker went up through aws-cli (in parts and whole) and rclone,
/// it is nowhere in the data directory (blobs, SQLite files) nor in any PostgreSQL row.
fn zero_plaintext(backend: Backend) {
    let (server, a, b) = serve(backend);
    let work = common::unique_dir("s3plain");
    marker_files(&work);
    let up = work.join("up").display().to_string();
    let aws = |args: &[&str]| common::aws(&server.url, &a.key, &a.secret, args);
    let (ok, _, err) = aws(&["s3", "mb", "s3://acme-cli"]);
    assert!(ok, "{err}");
    let (ok, _, err) = aws(&["s3", "sync", &up, "s3://acme-cli/synced"]);
    assert!(ok, "{err}");
    let (ok, _, err) = rclone(&server, &a, &["mkdir", "h:acme-rclone"]);
    assert!(ok, "{err}");
    let (ok, _, err) = rclone(&server, &a, &["copy", &up, "h:acme-rclone/dir"]);
    assert!(ok, "{err}");
    fn walk(dir: &Path, marker: &[u8]) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, marker);
            } else if let Ok(bytes) = std::fs::read(&path) {
                assert!(
                    !bytes.windows(marker.len()).any(|w| w == marker),
                    "plaintext found in {}",
                    path.display()
                );
            }
        }
    }
    walk(&server.dir, MARKER);
    if let Some(url) = common::flag(&server.blob_args, "--blob-store") {
        // The blob store: every key, every object's metadata and every byte of every object.
        let bucket = url.trim_start_matches("s3://").split('/').next().unwrap();
        let found = common::moto::s3_call(&format!(
            "marker = {marker:?}.encode()\nfound = []\nn = 0\n\
             for page in s3.get_paginator('list_objects_v2').paginate(Bucket={bucket:?}):\n\
             \x20   for o in page.get('Contents', []):\n\
             \x20       n += 1\n\
             \x20       got = s3.get_object(Bucket={bucket:?}, Key=o['Key'])\n\
             \x20       if marker in got['Body'].read() or marker in o['Key'].encode() or marker in repr(got.get('Metadata')).encode():\n\
             \x20           found.append(o['Key'])\n\
             print(n, found)",
            marker = String::from_utf8_lossy(MARKER)
        ));
        assert!(found.trim().ends_with("[]") && !found.starts_with("0 "), "{found}");
    }
    if let Some(schema) = &server.schema {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-tAc"])
            .arg(format!(
                "select count(*) from {schema}.records where body::text like '%ZERO-PLAINTEXT-MARKER%'"
            ))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    }
    after_checks(server, &a, &b);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn s3_zero_plaintext_on_sqlite() {
    zero_plaintext(Backend::Sqlite);
}

#[test]
fn s3_zero_plaintext_on_postgres() {
    zero_plaintext(Backend::Postgres);
}

#[test]
fn s3_zero_plaintext_on_postgres_and_an_s3_blob_store() {
    zero_plaintext(Backend::PostgresS3);
}

/// Data events: in the log (not in LookupEvents, which `scripts/s3.py trail` checks), category
/// Data, with their resources, and another account's reads in the bucket owner's log.
fn data_events(backend: Backend) {
    let (server, a, b) = serve(backend);
    run_feature(&server, &a, &b, "data_events");
    let store = common::open_store(&server);
    let mut tx = store.read().unwrap();
    let head = tx.audit_head(&a.account).unwrap();
    let events: Vec<audit::event::EventRecord> = tx
        .audit_events(&a.account, 0..head.size)
        .unwrap()
        .iter()
        .map(|e| audit::event::EventRecord::from_canonical_bytes(&e.event).unwrap())
        .collect();
    let get = events
        .iter()
        .find(|e| e.event_name == "GetObject" && e.error_code.is_none())
        .expect("a GetObject event");
    assert_eq!(get.event_category, audit::event::EventCategory::Data);
    assert!(!get.management_event);
    let resources = get.resources.as_ref().unwrap();
    assert!(resources.iter().any(|r| r.resource_type.as_deref() == Some("AWS::S3::Object")));
    assert!(events.iter().any(|e| e.event_name == "GetObject"
        && e.user_identity.account_id.as_deref() == Some(b.account.as_str())));
    drop(tx);
    drop(store);
    after_checks(server, &a, &b);
}

#[test]
fn s3_data_events_on_sqlite() {
    data_events(Backend::Sqlite);
}

#[test]
fn s3_data_events_on_postgres() {
    data_events(Backend::Postgres);
}

/// A 1 GiB object through aws-cli's multipart upload (128 parts of 8 MiB, ten at a time) and
/// its parallel ranged download; both files compared byte for byte, and a range across a part
/// boundary read back. Then one 300 MiB PUT, which streams, and server-side copies of both.
#[test]
fn one_gib_multipart_round_trip() {
    const MIB: usize = 1 << 20;
    let server = common::start("s3gib");
    let a = common::create_tenant(&server, "acme");
    let work = common::unique_dir("s3gib-files");
    std::fs::create_dir_all(&work).unwrap();
    let up = work.join("up.bin");
    {
        // Every MiB different (xorshift seeded by its index), so a misplaced part shows.
        use std::io::Write;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&up).unwrap());
        let mut block = vec![0u8; MIB];
        for index in 0..1024u64 {
            let mut x = index.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            for chunk in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes());
            }
            file.write_all(&block).unwrap();
        }
    }
    let aws = |args: &[&str]| common::aws(&server.url, &a.key, &a.secret, args);
    let (ok, _, err) = aws(&["s3", "mb", "s3://acme-gib"]);
    assert!(ok, "{err}");
    let (ok, _, err) = aws(&["s3", "cp", up.to_str().unwrap(), "s3://acme-gib/one.gib"]);
    assert!(ok, "{err}");
    let (ok, out, err) = aws(&["s3api", "head-object", "--bucket", "acme-gib", "--key", "one.gib"]);
    assert!(ok, "{err}");
    let head: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(head["ContentLength"], 1u64 << 30, "{head}");
    assert!(head["ETag"].as_str().unwrap().ends_with("-128\""), "{head}");
    let down = work.join("down.bin");
    let (ok, _, err) = aws(&["s3", "cp", "s3://acme-gib/one.gib", down.to_str().unwrap()]);
    assert!(ok, "{err}");
    {
        use std::io::Read;
        let (mut x, mut y) =
            (std::fs::File::open(&up).unwrap(), std::fs::File::open(&down).unwrap());
        assert_eq!(x.metadata().unwrap().len(), y.metadata().unwrap().len());
        let (mut bx, mut by) = (vec![0u8; 8 * MIB], vec![0u8; 8 * MIB]);
        for chunk in 0..128 {
            x.read_exact(&mut bx).unwrap();
            y.read_exact(&mut by).unwrap();
            assert!(bx == by, "chunk {chunk} differs");
        }
    }
    // One PUT above the old 256 MiB buffer: 300 MiB, streamed to its blob as it arrives.
    let single = work.join("single.bin");
    {
        use std::io::Read;
        let mut head = Vec::with_capacity(300 * MIB);
        std::fs::File::open(&up).unwrap().take(300 * MIB as u64).read_to_end(&mut head).unwrap();
        std::fs::write(&single, &head).unwrap();
    }
    let (ok, _, err) = aws(&[
        "s3api",
        "put-object",
        "--bucket",
        "acme-gib",
        "--key",
        "single.bin",
        "--body",
        single.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let single_down = work.join("single-down.bin");
    let (ok, _, err) =
        aws(&["s3", "cp", "s3://acme-gib/single.bin", single_down.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(std::fs::read(&single).unwrap() == std::fs::read(&single_down).unwrap());

    // A server-side copy of the 1 GiB object (aws-cli: UploadPartCopy of 8 MiB ranges) and of
    // the 300 MiB one (CopyObject), both streamed from blob to blob.
    let (ok, _, err) = aws(&["s3", "cp", "s3://acme-gib/one.gib", "s3://acme-gib/one-copy.gib"]);
    assert!(ok, "{err}");
    let (ok, _, err) = aws(&[
        "s3api",
        "copy-object",
        "--bucket",
        "acme-gib",
        "--key",
        "single-copy.bin",
        "--copy-source",
        "acme-gib/single.bin",
    ]);
    assert!(ok, "{err}");
    for (key, size) in [("one-copy.gib", 1u64 << 30), ("single-copy.bin", 300 << 20)] {
        let (ok, out, err) = aws(&["s3api", "head-object", "--bucket", "acme-gib", "--key", key]);
        assert!(ok, "{err}");
        let head: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(head["ContentLength"], size, "{key}: {head}");
    }

    // A range across a part boundary, from the object and from both copies.
    let whole = {
        use std::io::{Read, Seek};
        let mut f = std::fs::File::open(&up).unwrap();
        f.seek(std::io::SeekFrom::Start(8_388_000)).unwrap();
        let mut b = vec![0u8; 1001];
        f.read_exact(&mut b).unwrap();
        b
    };
    let range = work.join("range.bin");
    for key in ["one.gib", "one-copy.gib", "single-copy.bin"] {
        let (ok, _, err) = aws(&[
            "s3api",
            "get-object",
            "--bucket",
            "acme-gib",
            "--key",
            key,
            "--range",
            "bytes=8388000-8389000",
            range.to_str().unwrap(),
        ]);
        assert!(ok, "{err}");
        assert_eq!(std::fs::read(&range).unwrap(), whole, "{key}");
    }
    // Stalled streamed uploads and downloads: at most eight uploads stream at once (the ninth
    // waits for a slot) and sixteen downloads (the seventeenth waits), other requests answer
    // while they are all held, and each is cut off after 20 idle seconds (an upload with
    // RequestTimeout, storing nothing; a download ends short).
    common::run_script("s3_stalled", &[&server.url, &a.key, &a.secret, "acme-gib", "one.gib"]);
    common::assert_no_unnamed_blobs(&server, &[&a.account]);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn s3_post_object_on_sqlite() {
    feature("post_object", Backend::Sqlite);
}

#[test]
fn s3_post_object_on_postgres() {
    feature("post_object", Backend::Postgres);
}

#[test]
fn s3_conformance_on_sqlite() {
    feature("conformance", Backend::Sqlite);
}

#[test]
fn s3_conformance_on_postgres() {
    feature("conformance", Backend::Postgres);
}

/// Object Lock through boto3 (`s3.py object_lock`), then as the operator: a legal hold lifted
/// by editing the version's rows in the database does not let the version be deleted; the rows
/// no longer pass their integrity check, and the delete is refused.
fn object_lock(backend: Backend) {
    let (mut server, a, b) = serve(backend);
    let out = common::run_with_tenants(&server, "s3", &a, &b, &["object_lock"]);
    let held: serde_json::Value = out
        .lines()
        .find(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .expect("the script names the held version");
    let version = held["held"].as_str().unwrap();
    common::assert_no_unnamed_blobs(&server, &[&a.account, &b.account]);
    let delete = ["s3api", "delete-object", "--bucket", "acme-lock", "--key", "held"];
    let delete: Vec<&str> = delete.iter().copied().chain(["--version-id", version]).collect();
    let (ok, _, err) = common::aws(&server.url, &a.key, &a.secret, &delete);
    assert!(!ok && err.contains("AccessDenied"), "{err}");
    common::edit_database(
        &server,
        &format!(
            "update records set body = replace(body, '\"ObjectLockLegalHold\":true', '\"ObjectLockLegalHold\":false') where account = '{}' and kind in ('s3_object', 's3_version')",
            a.account
        ),
    );
    let (ok, _, err) = common::aws(&server.url, &a.key, &a.secret, &delete);
    assert!(!ok && err.contains("integrity check"), "{err}");
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn s3_object_lock_on_sqlite() {
    object_lock(Backend::Sqlite);
}

#[test]
fn s3_object_lock_on_postgres() {
    object_lock(Backend::Postgres);
}

/// Additional checksums through boto3 (`s3.py checksums`), then as the operator: no checksum
/// the script made (of whole objects, parts and multipart objects) is in the clear in any file
/// of the data directory or any PostgreSQL row. A checksum of the plaintext would let whoever
/// reads the database confirm a guess of an object's content; they are sealed under the
/// account's key, as user metadata is.
fn checksums(backend: Backend) {
    let (server, a, b) = serve(backend);
    let out = common::run_with_tenants(&server, "s3", &a, &b, &["checksums"]);
    let made: serde_json::Value = out
        .lines()
        .find(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .expect("the script names the checksums it made");
    let values: Vec<String> = made["checksums"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(values.len() >= 15, "{made}");
    // One pass over each file: only where a value's first byte is are the values compared.
    let mut first = [false; 256];
    for value in &values {
        first[usize::from(value.as_bytes()[0])] = true;
    }
    fn walk(dir: &Path, values: &[String], first: &[bool; 256]) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, values, first);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let found = (0..bytes.len())
                    .filter(|&i| first[usize::from(bytes[i])])
                    .find_map(|i| values.iter().find(|v| bytes[i..].starts_with(v.as_bytes())));
                assert!(found.is_none(), "checksum {found:?} in the clear in {}", path.display());
            }
        }
    }
    walk(&server.dir, &values, &first);
    if let Some(schema) = &server.schema {
        for value in &values {
            let out = Command::new("psql")
                .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-tAc"])
                .arg(format!(
                    "select count(*) from {schema}.records where body::text like '%{value}%'"
                ))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "{value}");
        }
    }
    after_checks(server, &a, &b);
}

#[test]
fn s3_checksums_on_sqlite() {
    checksums(Backend::Sqlite);
}

#[test]
fn s3_checksums_on_postgres() {
    checksums(Backend::Postgres);
}
