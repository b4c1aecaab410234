//! Tags on users and roles (`TagUser`, `UntagUser`, `ListUserTags`, and the role twins), and the
//! condition keys they feed: `aws:PrincipalTag/*`, `aws:RequestTag/*`, `aws:TagKeys`,
//! `aws:ResourceTag/*`.

use crate::error::ApiError;
use crate::protocol::query::xml_escape;
use crate::services::iam::{no_such, required};
use serde_json::{json, Value};
use store::{PutMode, Tx};

/// Most tags on one user or role (AWS's quota).
pub const MAX_TAGS: usize = 50;

/// `Tags.member.N.Key` / `Tags.member.N.Value` pairs of a query request, in order.
pub fn request_tags(params: &[(String, String)]) -> Result<Vec<(String, String)>, ApiError> {
    let mut out: Vec<(usize, Option<String>, Option<String>)> = Vec::new();
    for (k, v) in params {
        let Some(rest) = k.strip_prefix("Tags.member.") else { continue };
        let Some((n, field)) = rest.split_once('.') else { continue };
        let Ok(n) = n.parse::<usize>() else { continue };
        let slot = match out.iter_mut().position(|(i, _, _)| *i == n) {
            Some(p) => p,
            None => {
                out.push((n, None, None));
                out.len() - 1
            }
        };
        if let Some(entry) = out.get_mut(slot) {
            match field {
                "Key" => entry.1 = Some(v.clone()),
                "Value" => entry.2 = Some(v.clone()),
                _ => {}
            }
        }
    }
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter()
        .map(|(_, k, v)| {
            let key = k.filter(|k| (1..=128).contains(&k.chars().count())).ok_or_else(|| {
                ApiError::sender(400, "ValidationError", "a tag key must be 1 to 128 characters")
            })?;
            let value = v.unwrap_or_default();
            if value.chars().count() > 256 {
                return Err(ApiError::sender(
                    400,
                    "ValidationError",
                    "a tag value must be at most 256 characters",
                ));
            }
            Ok((key, value))
        })
        .collect()
}

/// `TagKeys.member.N` of a query request.
pub fn request_tag_keys(params: &[(String, String)]) -> Vec<String> {
    params
        .iter()
        .filter(|(k, _)| k.starts_with("TagKeys.member."))
        .map(|(_, v)| v.clone())
        .collect()
}

/// A record body's tags as IAM's `member` elements (`ListUserTags`, and `Tags` of `GetUser`).
fn members(body: &Value) -> Vec<String> {
    of(body)
        .iter()
        .map(|(k, v)| {
            format!("<member><Key>{}</Key><Value>{}</Value></member>", xml_escape(k), xml_escape(v))
        })
        .collect()
}

/// The `Tags` element of `GetUser` and `GetRole` (none when the entity has no tags, as IAM
/// leaves it out).
pub fn xml(body: &Value) -> String {
    let members = members(body);
    if members.is_empty() {
        String::new()
    } else {
        format!("<Tags>{}</Tags>", members.concat())
    }
}

/// The tags stored on a record body.
pub fn of(body: &Value) -> Vec<(String, String)> {
    pairs(body, "Key", "Value")
}

/// The `Tags` list of a record body, with its key and value members named as the service
/// names them (IAM `Key`/`Value`, KMS `TagKey`/`TagValue`).
pub fn pairs(body: &Value, key: &str, value: &str) -> Vec<(String, String)> {
    body.get("Tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(|t| {
                    Some((t.get(key)?.as_str()?.to_string(), t.get(value)?.as_str()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Merges `new` into a record body's tags (same key: replaced), enforcing the quota.
pub fn merge(body: &mut Value, new: &[(String, String)]) -> Result<(), ApiError> {
    let mut tags = of(body);
    for (k, v) in new {
        match tags.iter_mut().find(|(key, _)| key == k) {
            Some(t) => t.1 = v.clone(),
            None => tags.push((k.clone(), v.clone())),
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(ApiError::sender(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for TagsPerEntity: {MAX_TAGS}"),
        ));
    }
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "Tags".into(),
            tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect(),
        );
    }
    Ok(())
}

/// Runs a tag action on a user or role; `None` when `action` is not one.
pub fn handle(
    action: &str,
    tx: &mut dyn Tx,
    account: &str,
    params: &[(String, String)],
    now: i64,
) -> Option<Result<Option<String>, ApiError>> {
    let (kind, name_param) = match action {
        "TagUser" | "UntagUser" | "ListUserTags" => ("user", "UserName"),
        "TagRole" | "UntagRole" | "ListRoleTags" => ("role", "RoleName"),
        _ => return None,
    };
    let mut run = || -> Result<Option<String>, ApiError> {
        let name = required(params, name_param)?;
        let mut record = tx
            .get_record(account, kind, name)?
            .ok_or_else(|| no_such(&format!("The {kind} with name {name} cannot be found.")))?;
        if action.starts_with("List") {
            return Ok(Some(crate::services::iam::paged(params, "Tags", members(&record.body))?));
        }
        if action.starts_with("Tag") {
            merge(&mut record.body, &request_tags(params)?)?;
        } else {
            let remove = request_tag_keys(params);
            let kept: Vec<Value> = of(&record.body)
                .into_iter()
                .filter(|(k, _)| !remove.contains(k))
                .map(|(k, v)| json!({ "Key": k, "Value": v }))
                .collect();
            if let Some(obj) = record.body.as_object_mut() {
                obj.insert("Tags".into(), Value::Array(kept));
            }
        }
        record.updated_at_ms = now;
        tx.put_record(&record, PutMode::Update)?;
        Ok(None)
    };
    Some(run())
}
