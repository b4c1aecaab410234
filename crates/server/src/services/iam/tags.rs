//! Tags on users and roles (`TagUser`, `UntagUser`, `ListUserTags`, and the role twins), and the
//! condition keys they feed: `aws:PrincipalTag/*`, `aws:RequestTag/*`, `aws:TagKeys`,
//! `aws:ResourceTag/*`.

use crate::error::ApiError;
use crate::pipeline::service::Operation;
use crate::protocol::query::xml_escape;
use crate::services::iam::input::Input;
use crate::services::iam::IamOperation::{self, self as Op};
use crate::services::iam::{no_such, required};
use serde_json::{json, Value};
use store::{PutMode, Tx};

/// Most tags on one user or role (AWS's quota).
pub const MAX_TAGS: usize = 50;

/// The tags a request sets (`Tags`), in order.
pub fn request_tags(input: &Input) -> Result<Vec<(String, String)>, ApiError> {
    input
        .tags()
        .iter()
        .map(|t| {
            if !(1..=128).contains(&t.key.chars().count()) {
                return Err(ApiError::sender(
                    400,
                    "ValidationError",
                    "a tag key must be 1 to 128 characters",
                ));
            }
            if t.value.chars().count() > 256 {
                return Err(ApiError::sender(
                    400,
                    "ValidationError",
                    "a tag value must be at most 256 characters",
                ));
            }
            Ok((t.key.clone(), t.value.clone()))
        })
        .collect()
}

/// The tag keys a request names (`TagKeys`).
pub fn request_tag_keys(input: &Input) -> Vec<String> {
    input.tag_keys().to_vec()
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
    operation: IamOperation,
    tx: &mut dyn Tx,
    account: &str,
    input: &Input,
    now: i64,
) -> Result<Option<String>, ApiError> {
    let action = operation.name();
    let (kind, name_param) = match operation {
        Op::TagUser | Op::UntagUser | Op::ListUserTags => ("user", "UserName"),
        Op::TagRole | Op::UntagRole | Op::ListRoleTags => ("role", "RoleName"),
        _ => return Err(ApiError::internal("not an operation of this family")),
    };
    let mut run = || -> Result<Option<String>, ApiError> {
        let name = required(input, name_param)?;
        let mut record = tx
            .get_record(account, kind, name)?
            .ok_or_else(|| no_such(&format!("The {kind} with name {name} cannot be found.")))?;
        if action.starts_with("List") {
            return Ok(Some(crate::services::iam::paged(input, "Tags", members(&record.body))?));
        }
        if action.starts_with("Tag") {
            merge(&mut record.body, &request_tags(input)?)?;
        } else {
            let remove = request_tag_keys(input);
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
    run()
}
