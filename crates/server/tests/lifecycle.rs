#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! S3 Lifecycle in-process: the configuration's API, and the pass the server's timer runs,
//! driven here at chosen times (a lifecycle day of one second) so that nothing waits. Each
//! action is S3's own, in the bucket owner's log.

mod common;

use common::{Client, Harness};

/// A lifecycle day in these tests, in milliseconds.
const DAY: i64 = 1000;

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis(),
    )
    .unwrap()
}

/// A `LifecycleConfiguration` of `rules` (each a `Rule`'s inner XML).
fn configuration(rules: &[&str]) -> Vec<u8> {
    let rules: String = rules.iter().map(|r| format!("<Rule>{r}</Rule>")).collect();
    format!(
        "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{rules}</LifecycleConfiguration>"
    )
    .into_bytes()
}

async fn put_rules(root: &Client<'_>, bucket: &str, rules: &[&str]) {
    let r = root.s3("PUT", &format!("/{bucket}?lifecycle"), &configuration(rules)).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

async fn versioning(root: &Client<'_>, bucket: &str, status: &str) {
    let body =
        format!("<VersioningConfiguration><Status>{status}</Status></VersioningConfiguration>");
    let r = root.s3("PUT", &format!("/{bucket}?versioning"), body.as_bytes()).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// The events of `log` named `name`.
fn named<'a>(
    log: &'a [audit::event::EventRecord],
    name: &str,
) -> Vec<&'a audit::event::EventRecord> {
    log.iter().filter(|e| e.event_name == name).collect()
}

/// The blob files of `account`.
fn blobs(h: &Harness, account: &str) -> usize {
    std::fs::read_dir(h.dir.join("blobs").join(account)).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test]
async fn the_configuration_is_put_answered_as_given_and_deleted() {
    let h = Harness::new("lc-api").await;
    let (_, root) = h.tenant("acme").await;
    let (_, other) = h.tenant("globex").await;
    assert_eq!(root.s3("PUT", "/acme-lc", b"").await.status, 200);
    let r = root.s3("GET", "/acme-lc?lifecycle", b"").await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.text().contains("<Code>NoSuchLifecycleConfiguration</Code>"), "{}", r.text());
    // DELETE answers 204 even when there is none.
    assert_eq!(root.s3("DELETE", "/acme-lc?lifecycle", b"").await.status, 204);
    put_rules(
        &root,
        "acme-lc",
        &[
            "<ID>old</ID><Prefix>logs/</Prefix><Status>Enabled</Status><Expiration><Days>31</Days></Expiration>",
            "<Filter><And><Prefix>tmp/</Prefix><Tag><Key>t</Key><Value>1</Value></Tag></And></Filter><Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>",
        ],
    )
    .await;
    let r = root.s3("GET", "/acme-lc?lifecycle", b"").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(
        text.contains("<Rule><ID>old</ID><Prefix>logs/</Prefix><Status>Enabled</Status><Expiration><Days>31</Days></Expiration></Rule>"),
        "{text}"
    );
    assert!(text.contains("<Filter><And><Prefix>tmp/</Prefix><Tag><Key>t</Key><Value>1</Value></Tag></And></Filter>"), "{text}");
    assert!(text.contains("<Date>2030-01-01T00:00:00Z</Date>"), "{text}");
    // The rule put without an ID got one.
    assert_eq!(text.matches("<ID>").count(), 2, "{text}");
    assert!(!text.contains("<ID></ID>"), "{text}");
    // Refusals, and the configuration is unchanged by them.
    let r = root
        .s3(
            "PUT",
            "/acme-lc?lifecycle",
            &configuration(&[
                "<ID>r</ID><Prefix>p</Prefix><Status>enabled</Status><Expiration><Days>1</Days></Expiration>",
            ]),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("<Code>MalformedXML</Code>"), "{}", r.text());
    let r = root
        .s3(
            "PUT",
            "/acme-lc?lifecycle",
            &configuration(&[
                "<ID>r</ID><Prefix>p</Prefix><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>",
            ]),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("<Code>InvalidRequest</Code>"), "{}", r.text());
    assert_eq!(root.s3("GET", "/acme-lc?lifecycle", b"").await.text(), text);
    // Another account may not read or change it.
    assert_eq!(other.s3("GET", "/acme-lc?lifecycle", b"").await.status, 403);
    assert_eq!(other.s3("DELETE", "/acme-lc?lifecycle", b"").await.status, 403);
    assert_eq!(root.s3("DELETE", "/acme-lc?lifecycle", b"").await.status, 204);
    assert_eq!(root.s3("GET", "/acme-lc?lifecycle", b"").await.status, 404);
}

#[tokio::test]
async fn current_objects_expire_in_a_bucket_without_versioning() {
    let h = Harness::new("lc-expire").await;
    let (acme, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-exp", b"").await.status, 200);
    let written = now_ms();
    assert_eq!(root.s3("PUT", "/acme-exp/logs/a", b"old").await.status, 200);
    assert_eq!(root.s3("PUT", "/acme-exp/keep/b", b"kept").await.status, 200);
    put_rules(
        &root,
        "acme-exp",
        &["<ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration>"],
    )
    .await;
    assert_eq!(blobs(&h, &acme), 2);
    assert_eq!(h.app.lifecycle_pass(written + DAY, DAY).unwrap(), 0, "not due yet");
    assert_eq!(root.s3("GET", "/acme-exp/logs/a", b"").await.status, 200);
    assert_eq!(h.app.lifecycle_pass(written + 10 * DAY, DAY).unwrap(), 1);
    assert_eq!(root.s3("GET", "/acme-exp/logs/a", b"").await.status, 404);
    let kept = root.s3("GET", "/acme-exp/keep/b", b"").await;
    assert_eq!((kept.status, kept.body.as_slice()), (200, b"kept".as_slice()));
    assert_eq!(blobs(&h, &acme), 1, "the expired object's blob went with it");
    assert_eq!(h.app.lifecycle_pass(written + 11 * DAY, DAY).unwrap(), 0, "nothing twice");

    let log = h.log(&acme);
    let events = named(&log, "S3LifecycleExpiration");
    assert_eq!(events.len(), 1);
    let event = events[0];
    assert_eq!(event.event_source, "s3.amazonaws.com");
    assert_eq!(event.event_type, audit::event::EventType::AwsServiceEvent);
    assert_eq!(event.user_identity.identity_type, audit::event::IdentityType::AwsService);
    assert_eq!(event.user_identity.invoked_by.as_deref(), Some("s3.amazonaws.com"));
    assert_eq!(event.recipient_account_id, acme);
    let arns: Vec<&str> =
        event.resources.iter().flatten().filter_map(|r| r.arn.as_deref()).collect();
    assert_eq!(arns, ["arn:aws:s3:::acme-exp/logs/a", "arn:aws:s3:::acme-exp"]);
}

#[tokio::test]
async fn versioned_objects_get_a_marker_then_their_old_versions_and_the_marker_go() {
    let h = Harness::new("lc-versions").await;
    let (acme, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-ver", b"").await.status, 200);
    versioning(&root, "acme-ver", "Enabled").await;
    let written = now_ms();
    assert_eq!(root.s3("PUT", "/acme-ver/k", b"v1").await.status, 200);
    put_rules(
        &root,
        "acme-ver",
        &[
            "<ID>current</ID><Filter></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>",
            "<ID>old</ID><Filter></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>",
            "<ID>markers</ID><Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>",
        ],
    )
    .await;
    // The current version expires: a delete marker; the data stays as a noncurrent version.
    let expired_at = written + 5 * DAY;
    assert_eq!(h.app.lifecycle_pass(expired_at, DAY).unwrap(), 1);
    let r = root.s3("GET", "/acme-ver/k", b"").await;
    assert_eq!((r.status, r.header("x-amz-delete-marker")), (404, Some("true")));
    let listing = root.s3("GET", "/acme-ver?versions", b"").await.text();
    assert_eq!(
        (listing.matches("<Version>").count(), listing.matches("<DeleteMarker>").count()),
        (1, 1),
        "{listing}"
    );
    assert_eq!(blobs(&h, &acme), 1);
    // Noncurrent for a day from the marker's time, not from its write.
    assert_eq!(h.app.lifecycle_pass(expired_at + DAY - 1, DAY).unwrap(), 0);
    assert_eq!(h.app.lifecycle_pass(expired_at + DAY, DAY).unwrap(), 1);
    let listing = root.s3("GET", "/acme-ver?versions", b"").await.text();
    assert_eq!(
        (listing.matches("<Version>").count(), listing.matches("<DeleteMarker>").count()),
        (0, 1),
        "{listing}"
    );
    assert_eq!(blobs(&h, &acme), 0, "the expired version's blob went");
    // Now the marker is the key's only version: it goes too.
    assert_eq!(h.app.lifecycle_pass(expired_at + DAY + 1, DAY).unwrap(), 1);
    let listing = root.s3("GET", "/acme-ver?versions", b"").await.text();
    assert!(!listing.contains("<DeleteMarker>") && !listing.contains("<Version>"), "{listing}");

    let log = h.log(&acme);
    for name in [
        "S3LifecycleExpiration",
        "S3LifecycleNoncurrentExpiration",
        "S3LifecycleExpiredDeleteMarker",
    ] {
        assert_eq!(named(&log, name).len(), 1, "{name}");
    }
}

#[tokio::test]
async fn newer_noncurrent_versions_are_kept() {
    let h = Harness::new("lc-newer").await;
    let (_, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-newer", b"").await.status, 200);
    versioning(&root, "acme-newer", "Enabled").await;
    let written = now_ms();
    for body in [b"v1", b"v2", b"v3", b"v4"] {
        assert_eq!(root.s3("PUT", "/acme-newer/k", body).await.status, 200);
    }
    put_rules(
        &root,
        "acme-newer",
        &["<ID>keep2</ID><Prefix></Prefix><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>"],
    )
    .await;
    // v1, v2 and v3 are noncurrent; the two newest of them stay.
    assert_eq!(h.app.lifecycle_pass(written + 10 * DAY, DAY).unwrap(), 1);
    let listing = root.s3("GET", "/acme-newer?versions", b"").await.text();
    assert_eq!(listing.matches("<Version>").count(), 3, "{listing}");
    let r = root.s3("GET", "/acme-newer/k", b"").await;
    assert_eq!(r.body, b"v4");
}

#[tokio::test]
async fn a_suspended_bucket_gets_the_null_marker() {
    let h = Harness::new("lc-suspended").await;
    let (acme, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-susp", b"").await.status, 200);
    versioning(&root, "acme-susp", "Suspended").await;
    let written = now_ms();
    assert_eq!(root.s3("PUT", "/acme-susp/k", b"null version").await.status, 200);
    put_rules(
        &root,
        "acme-susp",
        &["<ID>r</ID><Prefix>k</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"],
    )
    .await;
    assert_eq!(h.app.lifecycle_pass(written + 2 * DAY, DAY).unwrap(), 1);
    let r = root.s3("GET", "/acme-susp/k", b"").await;
    assert_eq!((r.status, r.header("x-amz-delete-marker")), (404, Some("true")));
    // The null marker replaced the null version, whose data went.
    let listing = root.s3("GET", "/acme-susp?versions", b"").await.text();
    assert!(!listing.contains("<Version>"), "{listing}");
    assert!(listing.contains("<VersionId>null</VersionId>"), "{listing}");
    assert_eq!(blobs(&h, &acme), 0);
}

#[tokio::test]
async fn incomplete_uploads_are_aborted() {
    let h = Harness::new("lc-uploads").await;
    let (acme, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-up", b"").await.status, 200);
    let begun = now_ms();
    let mut ids = Vec::new();
    for key in ["big/a", "small/b"] {
        let r = root.s3("POST", &format!("/acme-up/{key}?uploads"), b"").await;
        assert_eq!(r.status, 200, "{}", r.text());
        let text = r.text();
        let id = text.split("<UploadId>").nth(1).unwrap().split('<').next().unwrap().to_string();
        let part = format!("/acme-up/{key}?partNumber=1&uploadId={id}");
        assert_eq!(root.s3("PUT", &part, b"part").await.status, 200);
        ids.push(id);
    }
    put_rules(
        &root,
        "acme-up",
        &["<ID>abort</ID><Prefix>big/</Prefix><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload>"],
    )
    .await;
    assert_eq!(h.app.lifecycle_pass(begun + DAY, DAY).unwrap(), 0);
    assert_eq!(h.app.lifecycle_pass(begun + 10 * DAY, DAY).unwrap(), 1);
    let uploads = root.s3("GET", "/acme-up?uploads", b"").await.text();
    assert!(!uploads.contains(&ids[0]) && uploads.contains(&ids[1]), "{uploads}");
    assert_eq!(blobs(&h, &acme), 1, "the aborted upload's part went");
    let log = h.log(&acme);
    assert_eq!(named(&log, "S3LifecycleAbortMultipartUpload").len(), 1);
}

#[tokio::test]
async fn disabled_or_deleted_rules_do_nothing() {
    let h = Harness::new("lc-disabled").await;
    let (acme, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-off", b"").await.status, 200);
    let written = now_ms();
    assert_eq!(root.s3("PUT", "/acme-off/k", b"kept").await.status, 200);
    put_rules(
        &root,
        "acme-off",
        &["<ID>off</ID><Prefix></Prefix><Status>Disabled</Status><Expiration><Days>1</Days></Expiration>"],
    )
    .await;
    assert_eq!(h.app.lifecycle_pass(written + 100 * DAY, DAY).unwrap(), 0);
    put_rules(
        &root,
        "acme-off",
        &["<ID>on</ID><Prefix></Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"],
    )
    .await;
    assert_eq!(root.s3("DELETE", "/acme-off?lifecycle", b"").await.status, 204);
    assert_eq!(h.app.lifecycle_pass(written + 100 * DAY, DAY).unwrap(), 0);
    assert_eq!(root.s3("GET", "/acme-off/k", b"").await.status, 200);
    assert!(h.log(&acme).iter().all(|e| !e.event_name.starts_with("S3Lifecycle")));
}

/// With real days, an object is due at the midnight UTC after its days, not before.
#[tokio::test]
async fn real_days_round_to_midnight() {
    const REAL_DAY: i64 = 86_400_000;
    let h = Harness::new("lc-midnight").await;
    let (_, root) = h.tenant("acme").await;
    assert_eq!(root.s3("PUT", "/acme-mid", b"").await.status, 200);
    let after = now_ms();
    assert_eq!(root.s3("PUT", "/acme-mid/k", b"x").await.status, 200);
    let before = now_ms();
    put_rules(
        &root,
        "acme-mid",
        &["<ID>r</ID><Prefix></Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"],
    )
    .await;
    let next_midnight = |t: i64| (t.div_euclid(REAL_DAY) + 1) * REAL_DAY;
    // A day after the write has passed, but not the midnight after that (unless a midnight
    // fell while the object was written, which leaves nothing to check here).
    if next_midnight(after + REAL_DAY) > before + REAL_DAY {
        assert_eq!(h.app.lifecycle_pass(before + REAL_DAY, REAL_DAY).unwrap(), 0);
    }
    assert_eq!(h.app.lifecycle_pass(next_midnight(before + REAL_DAY), REAL_DAY).unwrap(), 1);
}

/// Object Lock outranks lifecycle rules: a version on legal hold or under retention is never
/// expired for good (the current one still gets its delete marker, as in S3); once the hold is
/// lifted, the next pass expires it.
#[tokio::test]
async fn locked_versions_are_not_expired() {
    let h = Harness::new("lc-lock").await;
    let (acme, root) = h.tenant("acme").await;
    let lock = [("x-amz-bucket-object-lock-enabled", "true")];
    assert_eq!(root.send("s3", "PUT", "/acme-lock", &lock, b"").await.status, 200);
    let written = now_ms();
    let held = [("x-amz-object-lock-legal-hold", "ON")];
    let r = root.send("s3", "PUT", "/acme-lock/k", &held, b"v1").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v1 = r.header("x-amz-version-id").unwrap().to_string();
    assert_eq!(root.s3("PUT", "/acme-lock/k", b"v2").await.status, 200);
    put_rules(
        &root,
        "acme-lock",
        &["<ID>old</ID><Filter></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>"],
    )
    .await;
    assert_eq!(h.app.lifecycle_pass(written + 10 * DAY, DAY).unwrap(), 0);
    let listing = root.s3("GET", "/acme-lock?versions", b"").await.text();
    assert!(listing.contains(&v1), "the held version stays: {listing}");
    assert!(named(&h.log(&acme), "S3LifecycleNoncurrentExpiration").is_empty());
    let off = b"<LegalHold><Status>OFF</Status></LegalHold>";
    let r = root.s3("PUT", &format!("/acme-lock/k?legal-hold&versionId={v1}"), off).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(h.app.lifecycle_pass(written + 11 * DAY, DAY).unwrap(), 1);
    let listing = root.s3("GET", "/acme-lock?versions", b"").await.text();
    assert!(!listing.contains(&v1), "{listing}");
}
