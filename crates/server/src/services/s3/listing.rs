//! Listings: `ListObjects`, `ListObjectsV2` and `ListMultipartUploads` (`ListObjectVersions`
//! is [`super::versions::list`]).

use super::input::ListObjects;
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

/// `ListMultipartUploads`.
pub(super) fn uploads(ctx: &Ctx<'_>, bucket: &Bucket) -> Result<Reply, ApiError> {
    let name = &bucket.key;
    let mut tx = ctx.state.store.read()?;
    let uploads = UploadRecord::list(tx.as_mut(), &bucket.account, &format!("{name}/"), 10_000)?;
    let items: String = uploads
        .iter()
        .map(|u| format!("<Upload><Key>{}</Key><UploadId>{}</UploadId><Initiated>{}</Initiated><StorageClass>STANDARD</StorageClass></Upload>", xml::escape(&u.body.key), xml::escape(&u.body.upload_id), crate::support::time::iso8601(u.body.created_ms)))
        .collect();
    Ok(xml_reply(200, format!("<ListMultipartUploadsResult xmlns=\"{}\"><Bucket>{}</Bucket><IsTruncated>false</IsTruncated>{items}</ListMultipartUploadsResult>", xml::NS, xml::escape(name))))
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
    let mut contents: Vec<ObjectRecord> = Vec::new();
    let mut common: Vec<String> = Vec::new();
    let mut after = start_after.clone().map(|s| format!("{name}/{s}"));
    let full_prefix = format!("{name}/{prefix}");
    let mut truncated = false;
    let mut last_seen: Option<String> = None;
    'outer: loop {
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
    let entries: String = contents
        .iter()
        .map(|r| {
            format!(
                "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
                xml::escape(&r.body.key),
                crate::support::time::iso8601(r.body.last_modified_ms),
                xml::escape(&r.body.etag),
                r.body.size
            )
        })
        .collect();
    let prefixes: String = common
        .iter()
        .map(|p| format!("<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>", xml::escape(p)))
        .collect();
    let delim = if delimiter.is_empty() {
        String::new()
    } else {
        format!("<Delimiter>{}</Delimiter>", xml::escape(&delimiter))
    };
    let body = if v2 {
        let token = input
            .continuation_token
            .as_deref()
            .map(|t| format!("<ContinuationToken>{}</ContinuationToken>", xml::escape(t)))
            .unwrap_or_default();
        let next = match (truncated, &last_seen) {
            (true, Some(l)) => {
                format!("<NextContinuationToken>{}</NextContinuationToken>", b64().encode(l))
            }
            _ => String::new(),
        };
        let start = input
            .start_after
            .as_deref()
            .map(|s| format!("<StartAfter>{}</StartAfter>", xml::escape(s)))
            .unwrap_or_default();
        format!(
            "<ListBucketResult xmlns=\"{}\"><Name>{}</Name><Prefix>{}</Prefix>{delim}<MaxKeys>{max_keys}</MaxKeys><KeyCount>{}</KeyCount><IsTruncated>{truncated}</IsTruncated>{token}{next}{start}{entries}{prefixes}</ListBucketResult>",
            xml::NS, xml::escape(name), xml::escape(&prefix), contents.len() + common.len()
        )
    } else {
        let marker = input.marker.as_deref().unwrap_or_default();
        let next = match (truncated, &last_seen) {
            (true, Some(l)) => format!("<NextMarker>{}</NextMarker>", xml::escape(l)),
            _ => String::new(),
        };
        format!(
            "<ListBucketResult xmlns=\"{}\"><Name>{}</Name><Prefix>{}</Prefix><Marker>{}</Marker>{delim}<MaxKeys>{max_keys}</MaxKeys><IsTruncated>{truncated}</IsTruncated>{next}{entries}{prefixes}</ListBucketResult>",
            xml::NS, xml::escape(name), xml::escape(&prefix), xml::escape(marker)
        )
    };
    Ok(xml_reply(200, body))
}
