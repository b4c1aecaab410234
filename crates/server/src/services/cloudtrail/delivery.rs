//! Delivery of trails' files (issue 17): each logging trail gets the events its selectors
//! choose from its account's log, as gzip JSON `{"Records": [...]}` objects in its bucket under
//! AWS's key layout, and — with log file validation — signed digest files that
//! `aws cloudtrail validate-logs` checks.
//!
//! Every file is written **through the S3 path** as the service principal
//! `cloudtrail.amazonaws.com` (`aws:SourceArn` the trail, `aws:SourceAccount` its account): the
//! bucket's policy must allow it, the object is encrypted like every object, and the write is
//! recorded like every request. Where the trail stands ([`TrailDelivery`]) is written in the
//! transaction that writes the file ([`run::serve_with`]): a file and the cursor past its events
//! commit together or not at all, so what was committed to the log is delivered once, in order,
//! whatever crashes between.

use super::keys;
use crate::error::ApiError;
use crate::pipeline::events::{self, RequestFacts};
use crate::pipeline::identity::Caller;
use crate::pipeline::run::{self, Pending};
use crate::pipeline::service::Request;
use crate::pipeline::State;
use crate::records::cloudtrail::{DigestChain, LogFile, Trail, TrailDelivery};
use crate::records::Stored;
use crate::services::s3::S3;
use crate::support::time::iso8601;
use audit::event::{EventCategory, EventRecord};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use store::PutMode;

/// Most events of the log read for one file.
const SCAN: u64 = 2000;
/// Most files one trail gets in one pass (the next pass goes on).
const FILES_PER_PASS: usize = 50;
/// Services whose events are global: a single-region trail gets them when it includes global
/// service events.
const GLOBAL_SOURCES: &[&str] = &["iam.amazonaws.com", "sts.amazonaws.com"];

/// `StartLogging` and `StopLogging`: where the trail's delivery starts or stops, in the
/// transaction that changes the trail. A trail that starts again before the last events of
/// its stop were delivered keeps them, and skips what was logged while it was stopped.
pub(crate) fn logging_changed(
    tx: &mut dyn store::Tx,
    account: &str,
    trail: &Trail,
    start: bool,
    now: i64,
) -> Result<(), ApiError> {
    // The request's own event takes the next position (its account's head is locked when it
    // is appended in this transaction).
    let head = tx.audit_head(account)?.size;
    // A record of another trail of this name (none should outlive its trail) starts over.
    let (mut record, mode) =
        match Stored::<TrailDelivery>::get_for_update(tx, account, &trail.name)? {
            Some(record) if record.body.trail_arn == trail.trail_arn => (record, PutMode::Update),
            other => {
                let fresh = TrailDelivery {
                    trail_arn: trail.trail_arn.clone(),
                    next: head,
                    ..TrailDelivery::default()
                };
                let mode = if other.is_some() { PutMode::Update } else { PutMode::Create };
                (Stored::new(account, &trail.name, fresh, now), mode)
            }
        };
    let d = &mut record.body;
    if start && trail.log_file_validation_enabled {
        d.chains
            .entry(trail.home_region.clone())
            .or_insert_with(|| DigestChain { start_ms: now, ..DigestChain::default() });
    }
    if start {
        if let Some(until) = d.until.take() {
            if head > until {
                d.skip.push((until, head));
            }
        }
    } else {
        // The StopLogging event is the last one the trail delivers.
        d.until = Some(head + 1);
    }
    record.updated_at_ms = now;
    record.put(tx, mode).map_err(ApiError::from)
}

/// One pass of deliveries (or of digests), on the store's threads; the events of requests
/// that failed (a refusal has no transaction) then join the group commit.
pub(crate) async fn pass(state: &std::sync::Arc<State>, digest: bool) {
    let inner = state.clone();
    let now = crate::support::time::now_ms();
    let pending = state
        .pool
        .run(move || {
            let mut pending = Vec::new();
            if digest {
                digest_all(&inner, now, &mut pending);
            } else {
                deliver_all(&inner, now, &mut pending);
            }
            pending
        })
        .await
        .unwrap_or_default();
    let _ = crate::pipeline::record(state, pending).await;
}

/// A trail and where its delivery stands, as one pass found them.
struct Found {
    account: String,
    trail: Trail,
    delivery: TrailDelivery,
}

/// Every trail with a delivery state, in every account (one whose rows do not authenticate
/// left out).
fn found(state: &State) -> Result<Vec<Found>, ApiError> {
    let mut out = Vec::new();
    let mut tx = state.store.read()?;
    for account in crate::checkpoints::accounts(tx.as_mut())? {
        // An account whose rows do not authenticate (edited in the database) gets nothing
        // delivered; the others go on.
        let Ok(deliveries) = Stored::<TrailDelivery>::list(tx.as_mut(), &account, "", 100) else {
            continue;
        };
        for d in deliveries {
            let Ok(Some(trail)) = Stored::<Trail>::get(tx.as_mut(), &account, &d.key) else {
                continue;
            };
            if trail.body.trail_arn == d.body.trail_arn {
                out.push(Found { account: account.clone(), trail: trail.body, delivery: d.body });
            }
        }
    }
    Ok(out)
}

/// One delivery pass: every trail gets the events logged since its last file. A trail that
/// fails (its bucket's policy no longer allows CloudTrail, a conflict with another server)
/// is tried again on the next pass; the others go on.
pub(crate) fn deliver_all(state: &State, now: i64, pending: &mut Pending) -> usize {
    let Ok(trails) = found(state) else { return 0 };
    let mut files = 0;
    for f in trails {
        // Up to the log's head as the pass found it: events logged meanwhile wait for the next
        // pass (rather than make a file of each handful).
        let mut head = None;
        for _ in 0..FILES_PER_PASS {
            match deliver_one(state, &f.account, &f.trail.name, &mut head, now, pending) {
                Ok(Some(wrote)) => files += usize::from(wrote),
                Ok(None) => break,
                Err(e) => {
                    failed(state, &f, &e, false, now);
                    break;
                }
            }
        }
    }
    files
}

/// One digest pass: every trail with log file validation gets a signed digest of the files
/// delivered since its last one, in each region it has delivered to.
pub(crate) fn digest_all(state: &State, now: i64, pending: &mut Pending) -> usize {
    let Ok(trails) = found(state) else { return 0 };
    let mut digests = 0;
    for f in trails {
        if !f.trail.log_file_validation_enabled {
            continue;
        }
        let logging = f.trail.is_logging;
        for (region, chain) in &f.delivery.chains {
            if !logging && chain.files.is_empty() {
                continue;
            }
            match digest_one(state, &f, region, chain, now, pending) {
                Ok(()) => digests += 1,
                Err(e) => failed(state, &f, &e, true, now),
            }
        }
    }
    digests
}

/// Records why a trail's delivery (or digest) failed, for `GetTrailStatus`, when the cause is
/// the trail's (its bucket's policy, a missing bucket, its KMS key): the tenant's to fix.
/// Failures of the server (a conflict with another server, the store) are retried quietly.
fn failed(state: &State, f: &Found, e: &ApiError, digest: bool, now: i64) {
    if e.status >= 500 {
        return;
    }
    let record = || -> Result<(), ApiError> {
        let mut tx = state.store.begin()?;
        let Some(mut record) =
            Stored::<TrailDelivery>::get_for_update(tx.as_mut(), &f.account, &f.trail.name)?
                .filter(|r| r.body.trail_arn == f.trail.trail_arn)
        else {
            return Ok(());
        };
        let slot =
            if digest { &mut record.body.digest_error } else { &mut record.body.delivery_error };
        if slot.as_deref() == Some(e.code.as_str()) {
            return Ok(());
        }
        *slot = Some(e.code.clone());
        record.updated_at_ms = now;
        record.put(tx.as_mut(), PutMode::Update).map_err(ApiError::from)?;
        tx.commit().map_err(|_| ApiError::unavailable("the change could not be committed"))?;
        Ok(())
    };
    let _ = record();
}

/// The region a trail files `event` under, if the trail takes it.
fn file_region(trail: &Trail, event: &EventRecord) -> Option<String> {
    if trail.is_multi_region_trail || event.aws_region == trail.home_region {
        return Some(event.aws_region.clone());
    }
    (trail.include_global_service_events && GLOBAL_SOURCES.contains(&event.event_source.as_str()))
        .then(|| trail.home_region.clone())
}

/// Delivers the next file of one trail. `Some(true)`: a file was written; `Some(false)`: the
/// cursor moved past events the trail does not take; `None`: nothing is left.
fn deliver_one(
    state: &State,
    account: &str,
    name: &str,
    head: &mut Option<u64>,
    now: i64,
    pending: &mut Pending,
) -> Result<Option<bool>, ApiError> {
    let mut tx = state.store.read()?;
    let Some(trail) = Stored::<Trail>::get(tx.as_mut(), account, name)? else { return Ok(None) };
    let Some(delivery) = Stored::<TrailDelivery>::get(tx.as_mut(), account, name)? else {
        return Ok(None);
    };
    let (trail, d) = (trail.body, delivery.body);
    if d.trail_arn != trail.trail_arn {
        return Ok(None);
    }
    let head = match *head {
        Some(h) => h,
        None => *head.insert(tx.audit_head(account)?.size),
    };
    let end = head.min(d.until.unwrap_or(u64::MAX)).min(d.next.saturating_add(SCAN));
    if d.next >= end {
        return Ok(None);
    }
    // The events of one region, from the first the trail takes until one of another region.
    let mut region: Option<String> = None;
    let mut records: Vec<u8> = Vec::new();
    let (mut oldest, mut newest) = (i64::MAX, i64::MIN);
    let mut upto = end;
    'scan: for stored in tx.audit_events(account, d.next..end)? {
        if d.skip.iter().any(|(from, to)| (*from..*to).contains(&stored.seq)) {
            continue;
        }
        let mut event = EventRecord::from_canonical_bytes(&stored.event)
            .map_err(|_| ApiError::unavailable("an audit event could not be read"))?;
        let Some(r) = file_region(&trail, &event).filter(|_| selected(&trail, &event)) else {
            continue;
        };
        match &region {
            Some(current) if *current != r => {
                upto = stored.seq;
                break 'scan;
            }
            Some(_) => {}
            None => region = Some(r),
        }
        events::opened(state, tx.as_mut(), &mut event, account)?;
        let ms = i64::try_from(event.event_time.unix_seconds()).unwrap_or(0) * 1000;
        oldest = oldest.min(ms);
        newest = newest.max(ms);
        // The event's canonical JSON, as the file's next record.
        records.push(if records.is_empty() { b'[' } else { b',' });
        records.extend(
            event
                .canonical_bytes()
                .map_err(|_| ApiError::unavailable("an audit event could not be encoded"))?,
        );
    }
    drop(tx);
    let from = d.next;
    let Some(region) = region else {
        // Nothing the trail takes: the cursor moves on alone.
        let mut tx = state.store.begin()?;
        advance(tx.as_mut(), account, &trail, from, upto, None, now)?;
        tx.commit().map_err(|_| ApiError::unavailable("the change could not be committed"))?;
        return Ok(Some(false));
    };
    let mut content = b"{\"Records\":".to_vec();
    content.extend(records);
    content.extend(b"]}");
    let key = format!(
        "{}{account}_CloudTrail_{region}_{}Z_{}.json.gz",
        folder(&trail, account, "CloudTrail", &region, now),
        compact(now).get(0..13).unwrap_or_default(),
        crate::support::ids::random_text(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            16
        ),
    );
    let file = LogFile {
        bucket: trail.s3_bucket_name.clone(),
        key: key.clone(),
        sha256: hex(&Sha256::digest(&content)),
        oldest_ms: oldest,
        newest_ms: newest,
    };
    let filed = (region.as_str(), file);
    let also =
        |tx: &mut dyn store::Tx| advance(tx, account, &trail, from, upto, Some(filed.clone()), now);
    put(state, account, &trail, &key, &gzip(&content)?, &[], now, &also, pending)?;
    Ok(Some(true))
}

/// Moves `trail`'s cursor from `from` (where the pass found it: anything else is another
/// server's delivery, and this one is undone) to `to`, listing `file` for its region's next
/// digest when the trail validates its files.
fn advance(
    tx: &mut dyn store::Tx,
    account: &str,
    trail: &Trail,
    from: u64,
    to: u64,
    file: Option<(&str, LogFile)>,
    now: i64,
) -> Result<(), ApiError> {
    let mut record = Stored::<TrailDelivery>::get_for_update(tx, account, &trail.name)?
        .filter(|r| r.body.trail_arn == trail.trail_arn && r.body.next == from)
        .ok_or_else(conflict)?;
    let d = &mut record.body;
    d.next = to;
    d.skip.retain(|(_, end)| *end > to);
    if file.is_some() {
        d.last_delivery_ms = Some(now);
        d.delivery_error = None;
    }
    if let (Some((region, file)), true) = (file, trail.log_file_validation_enabled) {
        let start = trail.start_logging_ms.unwrap_or(now);
        d.chains
            .entry(region.to_string())
            .or_insert_with(|| DigestChain { start_ms: start, ..DigestChain::default() })
            .files
            .push(file);
    }
    record.updated_at_ms = now;
    record.put(tx, PutMode::Update).map_err(ApiError::from)
}

fn conflict() -> ApiError {
    ApiError::unavailable("the trail's delivery moved on meanwhile")
}

/// Writes one digest of `region`'s chain: the files delivered since the last digest, signed
/// with the current digest key over the previous digest's signature.
fn digest_one(
    state: &State,
    f: &Found,
    region: &str,
    chain: &DigestChain,
    now: i64,
    pending: &mut Pending,
) -> Result<(), ApiError> {
    let (account, trail) = (f.account.as_str(), &f.trail);
    let end = now / 1000 * 1000;
    let key = format!(
        "{}{account}_CloudTrail-Digest_{region}_{}_{}_{}.json.gz",
        folder(trail, account, "CloudTrail-Digest", region, end),
        trail.name,
        trail.home_region,
        compact(end),
    );
    if chain.previous.as_ref().is_some_and(|(_, k, _)| *k == key) || end <= chain.start_ms {
        // Within the second of the last digest: the next pass writes it.
        return Ok(());
    }
    let signer = keys::current(state, now)?;
    let bucket = &trail.s3_bucket_name;
    let times = |pick: fn(&LogFile) -> i64| chain.files.iter().map(pick);
    let log_files: Vec<Value> = chain
        .files
        .iter()
        .map(|l| {
            json!({
                "s3Bucket": l.bucket,
                "s3Object": l.key,
                "hashValue": l.sha256,
                "hashAlgorithm": "SHA-256",
                "newestEventTime": iso8601(l.newest_ms),
                "oldestEventTime": iso8601(l.oldest_ms),
            })
        })
        .collect();
    let (previous_bucket, previous_key, previous_signature) = match &chain.previous {
        Some((b, k, s)) => (json!(b), json!(k), json!(s)),
        None => (Value::Null, Value::Null, Value::Null),
    };
    let document = json!({
        "awsAccountId": account,
        "digestStartTime": iso8601(chain.start_ms),
        "digestEndTime": iso8601(end),
        "digestS3Bucket": bucket,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": signer.fingerprint,
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": times(|l| l.newest_ms).max().map(iso8601),
        "oldestEventTime": times(|l| l.oldest_ms).min().map(iso8601),
        "previousDigestS3Bucket": previous_bucket,
        "previousDigestS3Object": previous_key,
        "previousDigestSignature": previous_signature,
        "logFiles": log_files,
    });
    let content = serde_json::to_vec(&document)
        .map_err(|_| ApiError::internal("the digest could not be encoded"))?;
    // What aws-cli verifies: end time, location, the digest's hash, the previous signature.
    let to_sign = format!(
        "{}\n{bucket}/{key}\n{}\n{}",
        iso8601(end),
        hex(&Sha256::digest(&content)),
        chain.previous.as_ref().map_or("null", |(_, _, s)| s.as_str()),
    );
    let signature = hex(&signer.sign(state, to_sign.as_bytes())?);
    let expected = chain.clone();
    let (region_name, signed) =
        (region.to_string(), (bucket.clone(), key.clone(), signature.clone()));
    let also = |tx: &mut dyn store::Tx| {
        let mut record = Stored::<TrailDelivery>::get_for_update(tx, account, &trail.name)?
            .filter(|r| r.body.trail_arn == trail.trail_arn)
            .ok_or_else(conflict)?;
        let chain = record.body.chains.get_mut(&region_name).ok_or_else(conflict)?;
        // Files delivered meanwhile stay for the next digest.
        if chain.start_ms != expected.start_ms
            || chain.previous != expected.previous
            || !chain.files.starts_with(&expected.files)
        {
            return Err(conflict());
        }
        chain.files.drain(..expected.files.len());
        chain.start_ms = end;
        chain.previous = Some(signed.clone());
        record.body.last_digest_ms = Some(now);
        record.body.digest_error = None;
        record.updated_at_ms = now;
        record.put(tx, PutMode::Update).map_err(ApiError::from)
    };
    let metadata = [
        ("x-amz-meta-signature", signature.as_str()),
        ("x-amz-meta-signature-algorithm", "SHA256withRSA"),
    ];
    put(state, account, trail, &key, &gzip(&content)?, &metadata, now, &also, pending)
}

/// `PutObject` of one file into the trail's bucket, as CloudTrail: through the pipeline, with
/// `also` in its transaction.
#[allow(clippy::too_many_arguments)]
fn put(
    state: &State,
    account: &str,
    trail: &Trail,
    key: &str,
    body: &[u8],
    metadata: &[(&str, &str)],
    now: i64,
    also: run::Also<'_>,
    pending: &mut Pending,
) -> Result<(), ApiError> {
    let principal = super::trails::SERVICE_PRINCIPAL;
    let caller = Caller {
        account: account.to_string(),
        arn: principal.to_string(),
        user_id: principal.to_string(),
        session: None,
    };
    let length = body.len().to_string();
    let mut headers: Vec<(&str, &str)> = vec![
        ("host", "s3.amazonaws.com"),
        ("content-type", "application/json"),
        ("content-length", length.as_str()),
        ("x-amz-acl", "bucket-owner-full-control"),
    ];
    if let Some(k) = trail.kms_key_id.as_deref() {
        headers.push(("x-amz-server-side-encryption", "aws:kms"));
        headers.push(("x-amz-server-side-encryption-aws-kms-key-id", k));
    }
    headers.extend_from_slice(metadata);
    let path = format!("/{}/{key}", trail.s3_bucket_name);
    let request = Request {
        method: "PUT",
        path: &path,
        headers: &headers,
        target: None,
        params: Vec::new(),
        query_params: Vec::new(),
        body,
        payload: sigv4::PayloadMode::Verified,
        stream: std::cell::RefCell::new(None),
    };
    // The pipeline names the event's source and operation from the request, as for any.
    let facts = RequestFacts {
        request_id: crate::support::ids::uuid(),
        region: trail.home_region.clone(),
        source_ip: principal.to_string(),
        user_agent: Some(principal.to_string()),
        time_ms: now,
        secure: true,
        source: Some((trail.trail_arn.clone(), account.to_string())),
        ..RequestFacts::default()
    };
    // The server's own request: not one a client made, so not counted among them.
    let mut labels = crate::observe::RequestLabels::signed_for(None);
    run::serve_with::<S3>(state, &caller, &request, facts, None, pending, Some(also), &mut labels)
        .map(|_| ())
}

/// Where a trail's files of `kind` (`CloudTrail`, `CloudTrail-Digest`) for `region` and the day
/// of `ms` go: `[prefix/]AWSLogs/ACCOUNT/KIND/REGION/YYYY/MM/DD/`.
fn folder(trail: &Trail, account: &str, kind: &str, region: &str, ms: i64) -> String {
    let prefix = trail.s3_key_prefix.as_deref().filter(|p| !p.is_empty());
    let prefix = prefix.map(|p| format!("{p}/")).unwrap_or_default();
    let day = iso8601(ms);
    let part = |r: std::ops::Range<usize>| day.get(r).unwrap_or_default().to_string();
    format!(
        "{prefix}AWSLogs/{account}/{kind}/{region}/{}/{}/{}/",
        part(0..4),
        part(5..7),
        part(8..10)
    )
}

/// `YYYYMMDDTHHMMSSZ`.
fn compact(ms: i64) -> String {
    iso8601(ms).chars().filter(|c| *c != '-' && *c != ':').collect()
}

/// Lowercase hex.
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn gzip(content: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(content)
        .and_then(|()| encoder.finish())
        .map_err(|_| ApiError::internal("a trail file could not be compressed"))
}

/// Whether the trail's selectors take `event` (without selectors: every management event).
pub(crate) fn selected(trail: &Trail, event: &EventRecord) -> bool {
    if let Some(advanced) = &trail.advanced_event_selectors {
        return advanced.iter().any(|s| advanced_selected(s, event));
    }
    match &trail.event_selectors {
        Some(basic) => basic.iter().any(|s| basic_selected(s, event)),
        None => event.management_event,
    }
}

fn is_data(event: &EventRecord) -> bool {
    event.event_category == EventCategory::Data
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn basic_selected(selector: &Value, event: &EventRecord) -> bool {
    let read_write = selector.get("ReadWriteType").and_then(Value::as_str).unwrap_or("All");
    let read_only = event.read_only.unwrap_or(false);
    let kind_ok = match read_write {
        "ReadOnly" => read_only,
        "WriteOnly" => !read_only,
        _ => true,
    };
    if !kind_ok {
        return false;
    }
    if !is_data(event) {
        let include =
            selector.get("IncludeManagementEvents").and_then(Value::as_bool).unwrap_or(true);
        let excluded = strings(selector.get("ExcludeManagementEventSources"));
        return event.management_event
            && include
            && !excluded.contains(&event.event_source.as_str());
    }
    let resources = selector.get("DataResources").and_then(Value::as_array);
    resources.into_iter().flatten().any(|r| {
        let kind = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        let values = strings(r.get("Values"));
        super::resources(event)
            .any(|(t, arn)| t == kind && values.iter().any(|v| arn.starts_with(v)))
    })
}

/// The values an advanced selector's field has in `event`.
fn field_values(event: &EventRecord, field: &str) -> Vec<String> {
    let one = |s: &str| vec![s.to_string()];
    match field {
        "eventCategory" => one(if is_data(event) { "Data" } else { "Management" }),
        "readOnly" => one(if event.read_only.unwrap_or(false) { "true" } else { "false" }),
        "eventSource" => one(&event.event_source),
        "eventName" => one(&event.event_name),
        "eventType" => one("AwsApiCall"),
        "errorCode" => event.error_code.iter().cloned().collect(),
        "userIdentity.arn" => event.user_identity.arn.iter().cloned().collect(),
        "sessionCredentialFromConsole" => one("false"),
        "resources.type" => super::resources(event).map(|(t, _)| t.to_string()).collect(),
        "resources.ARN" => super::resources(event).map(|(_, a)| a.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// An advanced selector takes an event when every one of its field selectors matches: some
/// value of the field equals, starts or ends with one the selector names (if it names any),
/// and none equals, starts or ends with one it excludes.
fn advanced_selected(selector: &Value, event: &EventRecord) -> bool {
    let fields = selector.get("FieldSelectors").and_then(Value::as_array);
    fields.into_iter().flatten().all(|f| {
        let field = f.get("Field").and_then(Value::as_str).unwrap_or_default();
        let values = field_values(event, field);
        let test = |op: &str, v: &str, p: &str| match op {
            "Equals" | "NotEquals" => v == p,
            "StartsWith" | "NotStartsWith" => v.starts_with(p),
            _ => v.ends_with(p),
        };
        let positive = ["Equals", "StartsWith", "EndsWith"];
        let negative = ["NotEquals", "NotStartsWith", "NotEndsWith"];
        let named = positive.iter().any(|op| f.get(*op).is_some());
        let hit = positive
            .iter()
            .any(|op| strings(f.get(*op)).iter().any(|p| values.iter().any(|v| test(op, v, p))));
        let excluded = negative
            .iter()
            .any(|op| strings(f.get(*op)).iter().any(|p| values.iter().any(|v| test(op, v, p))));
        (!named || hit) && !excluded
    })
}
