//! Listings: `ListObjects`, `ListObjectsV2` and `ListMultipartUploads` (`ListObjectVersions`
//! is [`super::versions::list`]).

use super::input::{ListBuckets, ListObjects};
use super::multipart::UploadRecord;
use super::objects::ObjectRecord;
use super::{s3err, xml, xml_reply, Bucket};
use crate::error::ApiError;
use crate::pipeline::service::Ctx;
use crate::pipeline::Reply;
use base64::Engine;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// `ListBuckets`: the caller's buckets in name order, `prefix` and `bucket-region` filtering,
/// pages of `max-buckets` (1 to 10,000; all without it) after a `continuation-token`.
pub(super) fn buckets(ctx: &Ctx<'_>, input: &ListBuckets) -> Result<Reply, ApiError> {
    let account = &ctx.caller.account;
    let max = match input.max_buckets.as_deref() {
        None => usize::MAX,
        Some(m) => {
            m.parse::<usize>().ok().filter(|m| (1..=10_000).contains(m)).ok_or_else(|| {
                s3err(
                    400,
                    "InvalidArgument",
                    "Argument max-buckets must be an integer between 1 and 10000",
                )
            })?
        }
    };
    let after = match input.continuation_token.as_deref() {
        None => None,
        Some(t) => {
            Some(b64().decode(t).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| {
                s3err(400, "InvalidArgument", "The continuation token provided is incorrect")
            })?)
        }
    };
    let prefix = input.prefix.as_deref().unwrap_or("");
    let mut tx = ctx.state.store.read()?;
    let all = Bucket::list(tx.as_mut(), account, prefix, 100_000)?;
    let matching: Vec<&Bucket> = all
        .iter()
        .filter(|b| after.as_deref().is_none_or(|a| b.key.as_str() > a))
        .filter(|b| input.bucket_region.as_deref().is_none_or(|r| b.body.region == r))
        .collect();
    let page: Vec<&&Bucket> = matching.iter().take(max).collect();
    let next =
        (matching.len() > page.len()).then(|| page.last().map(|b| b64().encode(&b.key))).flatten();
    Ok(xml_reply(
        200,
        xml::document("ListAllMyBucketsResult", xml::NS, |w| {
            w.elem("Owner", |w| {
                w.text("ID", account);
            });
            w.elem("Buckets", |w| {
                for b in &page {
                    w.elem("Bucket", |w| {
                        w.text("Name", &b.key)
                            .text("CreationDate", &crate::support::time::iso8601(b.body.created_ms))
                            .text("BucketRegion", &b.body.region);
                    });
                }
            });
            w.opt("ContinuationToken", next.as_deref()).opt("Prefix", input.prefix.as_deref());
        }),
    ))
}

/// `ListMultipartUploads`.
pub(super) fn uploads(ctx: &Ctx<'_>, bucket: &Bucket) -> Result<Reply, ApiError> {
    let name = &bucket.key;
    let mut tx = ctx.state.store.read()?;
    let uploads = UploadRecord::list(tx.as_mut(), &bucket.account, &format!("{name}/"), 10_000)?;
    Ok(xml_reply(
        200,
        xml::document("ListMultipartUploadsResult", xml::NS, |w| {
            w.text("Bucket", name).value("IsTruncated", false);
            for u in &uploads {
                w.elem("Upload", |w| {
                    w.text("Key", &u.body.key)
                        .text("UploadId", &u.body.upload_id)
                        .text("Initiated", &crate::support::time::iso8601(u.body.created_ms))
                        .text("StorageClass", "STANDARD");
                });
            }
        }),
    ))
}

/// `MaxKeys` as a number (`InvalidArgument` if it is not one), at most 1,000.
fn max_keys(input: &ListObjects) -> Result<usize, ApiError> {
    let max_keys: usize = match &input.max_keys {
        Some(m) => {
            m.parse().map_err(|_| s3err(400, "InvalidArgument", "max-keys must be an integer"))?
        }
        None => 1000,
    };
    Ok(max_keys.min(1000))
}

/// The condition keys of a listing: `s3:prefix`, `s3:max-keys` and `s3:delimiter`.
pub(super) fn list_context(input: &ListObjects) -> Result<Vec<(String, String)>, ApiError> {
    let mut context = vec![
        ("s3:prefix".to_string(), input.prefix.clone()),
        ("s3:max-keys".to_string(), max_keys(input)?.to_string()),
    ];
    if !input.delimiter.is_empty() {
        context.push(("s3:delimiter".into(), input.delimiter.clone()));
    }
    Ok(context)
}

/// `ListObjects` and `ListObjectsV2`.
pub(super) fn objects(
    ctx: &Ctx<'_>,
    operation: &str,
    input: &ListObjects,
    bucket: &Bucket,
) -> Result<Reply, ApiError> {
    let state = ctx.state;
    let name = &bucket.key;
    let prefix = input.prefix.clone();
    let delimiter = input.delimiter.clone();
    let max_keys = max_keys(input)?;
    let v2 = operation == "ListObjectsV2";
    let start_after = if v2 {
        match input.continuation_token.as_deref() {
            Some(t) => Some(
                String::from_utf8(b64().decode(t).map_err(|_| {
                    s3err(400, "InvalidArgument", "The continuation token provided is incorrect")
                })?)
                .map_err(|_| {
                    s3err(400, "InvalidArgument", "The continuation token provided is incorrect")
                })?,
            ),
            None => input.start_after.clone(),
        }
    } else {
        input.marker.clone()
    };
    let url = match input.encoding_type.as_deref() {
        None => false,
        Some("url") => true,
        Some(_) => {
            return Err(s3err(
                400,
                "InvalidArgument",
                "Invalid Encoding Method specified in Request",
            ))
        }
    };
    // `encoding-type=url`: every byte but the unreserved ones and `/` percent-encoded.
    let enc =
        |s: &str| if url { sigv4::encode::uri_encode(s, true).into_owned() } else { s.to_string() };
    let mut contents: Vec<ObjectRecord> = Vec::new();
    let mut common: Vec<String> = Vec::new();
    let mut after = start_after.clone().map(|s| format!("{name}/{s}"));
    let full_prefix = format!("{name}/{prefix}");
    let mut truncated = false;
    let mut last_seen: Option<String> = None;
    // `max-keys=0` lists nothing and is not truncated.
    'outer: loop {
        if max_keys == 0 {
            break;
        }
        let page = {
            let mut tx = state.store.read()?;
            ObjectRecord::page(tx.as_mut(), &bucket.account, &full_prefix, after.as_deref(), 1000)?
        };
        for record in &page.items {
            let key =
                record.key.strip_prefix(&format!("{name}/")).unwrap_or(&record.key).to_string();
            if contents.len() + common.len() >= max_keys {
                truncated = true;
                break 'outer;
            }
            if !delimiter.is_empty() {
                if let Some(pos) = key.get(prefix.len()..).and_then(|rest| rest.find(&delimiter)) {
                    let cp =
                        key.get(..prefix.len() + pos + delimiter.len()).unwrap_or(&key).to_string();
                    // A common prefix at or before the marker was listed on an earlier page.
                    if start_after.as_deref().is_some_and(|m| cp.as_str() <= m) {
                        after = Some(format!("{name}/{cp}\u{10FFFF}"));
                        continue 'outer;
                    }
                    if common.last() != Some(&cp) {
                        common.push(cp.clone());
                    }
                    last_seen = Some(cp.clone());
                    // Skip every key under this common prefix.
                    after = Some(format!("{name}/{cp}\u{10FFFF}"));
                    continue 'outer;
                }
            }
            last_seen = Some(key.clone());
            contents.push(record.clone());
        }
        if !page.truncated {
            break;
        }
        after = page.items.last().map(|r| r.key.clone());
    }
    let owner = !v2 || input.fetch_owner;
    let body = xml::document("ListBucketResult", xml::NS, |w| {
        // botocore decodes a V1 listing's keys, markers and common prefixes, and a V2
        // listing's prefix too: `Prefix` is encoded only in V2.
        w.text("Name", name).text("Prefix", &if v2 { enc(&prefix) } else { prefix.clone() });
        if !v2 {
            w.text("Marker", &enc(input.marker.as_deref().unwrap_or_default()));
        }
        if !delimiter.is_empty() {
            w.text("Delimiter", &enc(&delimiter));
        }
        if url {
            w.text("EncodingType", "url");
        }
        w.value("MaxKeys", max_keys);
        if v2 {
            w.value("KeyCount", contents.len() + common.len());
        }
        w.value("IsTruncated", truncated);
        let next = last_seen.as_deref().filter(|_| truncated);
        if v2 {
            w.opt("ContinuationToken", input.continuation_token.as_deref())
                .opt("NextContinuationToken", next.map(|l| b64().encode(l)).as_deref())
                .opt("StartAfter", input.start_after.as_deref().map(enc).as_deref());
        } else {
            w.opt("NextMarker", next.map(enc).as_deref());
        }
        for r in &contents {
            w.elem("Contents", |w| {
                w.text("Key", &enc(&r.body.key))
                    .text("LastModified", &crate::support::time::iso8601(r.body.last_modified_ms))
                    .text("ETag", &r.body.etag)
                    .value("Size", r.body.size)
                    .text("StorageClass", "STANDARD");
                // Objects are the bucket owner's (Object Ownership `BucketOwnerEnforced`).
                if owner {
                    w.elem("Owner", |w| {
                        w.text("ID", &bucket.account);
                    });
                }
            });
        }
        for p in &common {
            w.elem("CommonPrefixes", |w| {
                w.text("Prefix", &enc(p));
            });
        }
    });
    Ok(xml_reply(200, body))
}
