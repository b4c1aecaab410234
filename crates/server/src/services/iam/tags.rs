//! Tags on users and roles (`TagUser`, `UntagUser`, `ListUserTags`, and the role twins), and the
//! condition keys they feed: `aws:PrincipalTag/*`, `aws:RequestTag/*`, `aws:TagKeys`,
//! `aws:ResourceTag/*`.

use crate::error::ApiError;
use crate::pipeline::service::Operation;
use crate::protocol::xml::{self, Xml};
use crate::records::iam::{Role, Tag, Tagged, User};
use crate::records::Stored;
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

/// Tags as IAM's `member` elements (`ListUserTags`, and `Tags` of `GetUser`).
fn members(tags: &[Tag]) -> Vec<Xml> {
    tags.iter()
        .map(|t| {
            xml::build(|w| {
                w.elem("member", |w| {
                    w.text("Key", &t.key).text("Value", &t.value);
                });
            })
        })
        .collect()
}

/// The `Tags` element of `GetUser` and `GetRole` (none when the entity has no tags, as IAM
/// leaves it out).
pub(crate) fn xml(tags: &[Tag]) -> Xml {
    let members = members(tags);
    xml::build(|w| {
        if !members.is_empty() {
            w.elem("Tags", |w| {
                w.fragments(&members);
            });
        }
    })
}

/// Tags as (key, value) pairs.
pub(crate) fn as_pairs(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect()
}

/// The tags stored on a record body that is not yet typed (an MFA device, a session).
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

/// Merges `new` into `tags` (same key: replaced), enforcing the quota.
pub(crate) fn merge_into(tags: &mut Vec<Tag>, new: &[(String, String)]) -> Result<(), ApiError> {
    let mut merged = tags.clone();
    for (k, v) in new {
        match merged.iter_mut().find(|t| &t.key == k) {
            Some(t) => t.value = v.clone(),
            None => merged.push(Tag { key: k.clone(), value: v.clone() }),
        }
    }
    if merged.len() > MAX_TAGS {
        return Err(ApiError::sender(
            409,
            "LimitExceeded",
            format!("Cannot exceed quota for TagsPerEntity: {MAX_TAGS}"),
        ));
    }
    *tags = merged;
    Ok(())
}

/// Merges `new` into the tags of a record body that is not yet typed (an MFA device).
pub fn merge(body: &mut Value, new: &[(String, String)]) -> Result<(), ApiError> {
    let mut tags: Vec<Tag> = of(body).into_iter().map(|(key, value)| Tag { key, value }).collect();
    merge_into(&mut tags, new)?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "Tags".into(),
            tags.iter().map(|t| json!({ "Key": t.key, "Value": t.value })).collect(),
        );
    }
    Ok(())
}

/// Runs a tag action on a user or role.
pub fn handle(
    operation: IamOperation,
    tx: &mut dyn Tx,
    account: &str,
    input: &Input,
    now: i64,
) -> Result<Option<Xml>, ApiError> {
    match operation {
        Op::TagUser | Op::UntagUser | Op::ListUserTags => {
            edit::<User>(operation, tx, account, required(input, "UserName")?, input, now)
        }
        Op::TagRole | Op::UntagRole | Op::ListRoleTags => {
            edit::<Role>(operation, tx, account, required(input, "RoleName")?, input, now)
        }
        Op::TagPolicy | Op::UntagPolicy | Op::ListPolicyTags => {
            let arn = required(input, "PolicyArn")?;
            let mut policy = crate::services::iam::managed::get_policy(tx, account, arn)?;
            if operation == Op::ListPolicyTags {
                let tags: Vec<Tag> =
                    of(&policy.body).into_iter().map(|(key, value)| Tag { key, value }).collect();
                return Ok(Some(crate::services::iam::paged(input, "Tags", members(&tags))?));
            }
            if operation == Op::TagPolicy {
                merge(&mut policy.body, &request_tags(input)?)?;
            } else {
                let remove = request_tag_keys(input);
                let kept: Vec<Value> = of(&policy.body)
                    .into_iter()
                    .filter(|(k, _)| !remove.contains(k))
                    .map(|(k, v)| json!({ "Key": k, "Value": v }))
                    .collect();
                if let Some(obj) = policy.body.as_object_mut() {
                    obj.insert("Tags".into(), Value::Array(kept));
                }
            }
            policy.updated_at_ms = now;
            tx.put_record(&policy, PutMode::Update)?;
            Ok(None)
        }
        _ => Err(ApiError::internal("not an operation of this family")),
    }
}

/// Lists, adds or removes the tags of user or role `name`.
pub(crate) fn edit<T: Tagged>(
    operation: IamOperation,
    tx: &mut dyn Tx,
    account: &str,
    name: &str,
    input: &Input,
    now: i64,
) -> Result<Option<Xml>, ApiError> {
    let kind = T::KIND;
    let mut entity = Stored::<T>::get(tx, account, name)?
        .ok_or_else(|| no_such(&format!("The {kind} with name {name} cannot be found.")))?;
    let action = operation.name();
    if action.starts_with("List") {
        return Ok(Some(crate::services::iam::paged(input, "Tags", members(entity.body.tags()))?));
    }
    if action.starts_with("Tag") {
        merge_into(entity.body.tags_mut(), &request_tags(input)?)?;
    } else {
        let remove = request_tag_keys(input);
        entity.body.tags_mut().retain(|t| !remove.contains(&t.key));
    }
    entity.updated_at_ms = now;
    entity.put(tx, PutMode::Update)?;
    Ok(None)
}
