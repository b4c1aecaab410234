#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! CloudTrail trails driven by boto3 (`scripts/trails.py`) and aws-cli against `hermetic
//! serve`, on both stores: the bucket policy CreateTrail requires, the lifecycle, event
//! selectors, tags, AWS's errors and quota, IAM authorization, another tenant and the operator
//! kept out (the operator's attempt in the tenant's log), and the operations in the tenant's log. Each ends by checking that the trail verifies.

mod common;

use common::{start_on, Backend};

fn trails(backend: Backend) {
    let mut server = start_on("trails", backend, &[]);
    let a = common::create_tenant(&server, "acme");
    let b = common::create_tenant(&server, "globex");
    common::run_with_tenants(&server, "trails", &a, &b, &[]);
    // aws-cli, unmodified: the same operations through its own serializer.
    let bucket = format!("cli-trail-{}", a.account);
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": format!("arn:aws:s3:::{bucket}")},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/{}/*", a.account),
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]});
    let aws = |args: &[&str]| {
        let (ok, out, err) = common::aws(&server.url, &a.key, &a.secret, args);
        assert!(ok, "aws {args:?}: {err}");
        out
    };
    aws(&["s3api", "create-bucket", "--bucket", &bucket]);
    aws(&["s3api", "put-bucket-policy", "--bucket", &bucket, "--policy", &policy.to_string()]);
    let made: serde_json::Value = serde_json::from_str(&aws(&[
        "cloudtrail",
        "create-trail",
        "--name",
        "cli",
        "--s3-bucket-name",
        &bucket,
        "--enable-log-file-validation",
    ]))
    .unwrap();
    assert_eq!(made["LogFileValidationEnabled"], true, "{made}");
    aws(&["cloudtrail", "start-logging", "--name", "cli"]);
    let status: serde_json::Value =
        serde_json::from_str(&aws(&["cloudtrail", "get-trail-status", "--name", "cli"])).unwrap();
    assert_eq!(status["IsLogging"], true, "{status}");
    let listed: serde_json::Value =
        serde_json::from_str(&aws(&["cloudtrail", "describe-trails"])).unwrap();
    assert_eq!(listed["trailList"][0]["Name"], "cli", "{listed}");
    aws(&["cloudtrail", "delete-trail", "--name", "cli"]);
    common::stop_and_verify_trail(&mut server);
}

#[test]
fn trails_on_sqlite() {
    trails(Backend::Sqlite);
}

#[test]
fn trails_on_postgres() {
    trails(Backend::Postgres);
}
