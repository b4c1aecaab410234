//! The lifecycle configuration document: `PutBucketLifecycleConfiguration`'s body read into
//! [`Lifecycle`] and checked as S3 checks it, and `GetBucketLifecycleConfiguration`'s answer,
//! each rule in the shape it was given (a rule put with the legacy rule-level `Prefix` is
//! answered with it, one put with a `Filter` with that filter).

use super::date::midnight;
use crate::error::ApiError;
use crate::pipeline::Reply;
use crate::protocol::xml;
use crate::records::s3::{
    AbortIncompleteMultipartUpload, Lifecycle, LifecycleAnd, LifecycleExpiration, LifecycleFilter,
    LifecycleRule, LifecycleTag, NoncurrentVersionExpiration, RuleStatus,
};
use crate::services::s3::{s3err, xml_reply, Bucket};
use std::collections::BTreeSet;

/// Most rules in one configuration (S3's quota).
const MAX_RULES: usize = 1000;
/// The longest rule `ID`, in characters.
const MAX_ID: usize = 255;
/// Most noncurrent versions a rule may keep (`NewerNoncurrentVersions`).
const MAX_NEWER_NONCURRENT: u32 = 100;

fn malformed() -> ApiError {
    s3err(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

fn invalid(message: &str) -> ApiError {
    s3err(400, "InvalidArgument", message)
}

fn invalid_request(message: &str) -> ApiError {
    s3err(400, "InvalidRequest", message)
}

/// Reads a `LifecycleConfiguration` (also what the legacy `PutBucketLifecycle` sends): its
/// `Rule`s, each checked as S3 does. A rule put without an `ID` has an empty one here;
/// [`with_ids`] names it when it is stored.
///
/// # Errors
/// `MalformedXML` for what does not read as the schema says (no rule, more than 1,000, a
/// `Status` other than `Enabled` or `Disabled`, both or neither of `Prefix` and `Filter`, a
/// filter or an expiration with several members, a rule with no action); `InvalidArgument`
/// for an `ID` over 255 characters or given twice, a day count below 1, a `Date` that is not
/// a midnight UTC; `InvalidRequest` for transitions (there are no storage classes here) and
/// for tag filters with an action S3 does not allow them with.
pub(crate) fn read(body: &[u8]) -> Result<Lifecycle, ApiError> {
    if xml::sections(body, "LifecycleConfiguration").is_empty() {
        return Err(malformed());
    }
    let sections = xml::sections(body, "Rule");
    if sections.is_empty() || sections.len() > MAX_RULES {
        return Err(malformed());
    }
    let rules = sections.iter().map(|r| rule(r)).collect::<Result<Vec<_>, _>>()?;
    let mut seen = BTreeSet::new();
    for r in rules.iter().filter(|r| !r.id.is_empty()) {
        if !seen.insert(r.id.as_str()) {
            return Err(invalid("Rule ID must be unique. Found same ID for more than one rule"));
        }
    }
    Ok(Lifecycle { rules })
}

/// `lifecycle` with an `ID` made for each rule put without one, as S3 makes them.
pub(crate) fn with_ids(mut lifecycle: Lifecycle) -> Lifecycle {
    for rule in lifecycle.rules.iter_mut().filter(|r| r.id.is_empty()) {
        rule.id = crate::support::ids::uuid();
    }
    lifecycle
}

/// `GetBucketLifecycleConfiguration`: the bucket's rules as they were put.
///
/// # Errors
/// `NoSuchLifecycleConfiguration` (404) when the bucket has none.
pub(crate) fn get(bucket: &Bucket) -> Result<Reply, ApiError> {
    let Some(lifecycle) = &bucket.body.lifecycle else {
        return Err(s3err(
            404,
            "NoSuchLifecycleConfiguration",
            "The lifecycle configuration does not exist",
        ));
    };
    Ok(xml_reply(200, document(lifecycle)))
}

/// The `LifecycleConfiguration` document of `lifecycle`.
fn document(lifecycle: &Lifecycle) -> String {
    xml::document("LifecycleConfiguration", xml::NS, |w| {
        for rule in &lifecycle.rules {
            w.elem("Rule", |w| write_rule(w, rule));
        }
    })
}

fn write_rule(w: &mut xml::Writer, rule: &LifecycleRule) {
    w.text("ID", &rule.id);
    if let Some(prefix) = &rule.prefix {
        w.text("Prefix", prefix);
    }
    if let Some(filter) = &rule.filter {
        w.elem("Filter", |w| write_filter(w, filter));
    }
    w.text("Status", rule.status.as_str());
    if let Some(expiration) = rule.expiration {
        w.elem("Expiration", |w| match expiration {
            LifecycleExpiration::Days(days) => {
                w.value("Days", days);
            }
            LifecycleExpiration::DateMs(ms) => {
                w.text("Date", &crate::support::time::iso8601(ms));
            }
            LifecycleExpiration::ExpiredObjectDeleteMarker(on) => {
                w.value("ExpiredObjectDeleteMarker", on);
            }
        });
    }
    if let Some(noncurrent) = rule.noncurrent_version_expiration {
        w.elem("NoncurrentVersionExpiration", |w| {
            w.value("NoncurrentDays", noncurrent.noncurrent_days);
            if let Some(n) = noncurrent.newer_noncurrent_versions {
                w.value("NewerNoncurrentVersions", n);
            }
        });
    }
    if let Some(abort) = rule.abort_incomplete_multipart_upload {
        w.elem("AbortIncompleteMultipartUpload", |w| {
            w.value("DaysAfterInitiation", abort.days_after_initiation);
        });
    }
}

fn write_filter(w: &mut xml::Writer, filter: &LifecycleFilter) {
    if let Some(prefix) = &filter.prefix {
        w.text("Prefix", prefix);
    }
    if let Some(tag) = &filter.tag {
        write_tag(w, tag);
    }
    if let Some(n) = filter.object_size_greater_than {
        w.value("ObjectSizeGreaterThan", n);
    }
    if let Some(n) = filter.object_size_less_than {
        w.value("ObjectSizeLessThan", n);
    }
    if let Some(and) = &filter.and {
        w.elem("And", |w| {
            if let Some(prefix) = &and.prefix {
                w.text("Prefix", prefix);
            }
            for tag in &and.tags {
                write_tag(w, tag);
            }
            if let Some(n) = and.object_size_greater_than {
                w.value("ObjectSizeGreaterThan", n);
            }
            if let Some(n) = and.object_size_less_than {
                w.value("ObjectSizeLessThan", n);
            }
        });
    }
}

fn write_tag(w: &mut xml::Writer, tag: &LifecycleTag) {
    w.elem("Tag", |w| {
        w.text("Key", &tag.key).text("Value", &tag.value);
    });
}

/// The text of the one `<name>` element of `text`, if there is one; several are malformed.
fn one(text: &str, name: &str) -> Result<Option<String>, ApiError> {
    let mut found = xml::elements(text.as_bytes(), name);
    if found.len() > 1 {
        return Err(malformed());
    }
    Ok(found.pop())
}

/// The inner XML of the one `<name>` element of `text`, if there is one; several are
/// malformed.
fn one_section(text: &str, name: &str) -> Result<Option<String>, ApiError> {
    let mut found = xml::sections(text.as_bytes(), name);
    if found.len() > 1 {
        return Err(malformed());
    }
    Ok(found.pop())
}

/// `text` without its `<name>` elements and what they hold: a rule's own `Prefix` apart from
/// its filter's, a filter's own members apart from its `And`'s.
fn without(text: &str, name: &str) -> String {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(&open) {
        let after = rest.get(start + open.len()..).unwrap_or_default();
        if !after.starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace()) {
            // `<NameSuffix`: another element, kept.
            out.push_str(rest.get(..start + open.len()).unwrap_or_default());
            rest = after;
            continue;
        }
        out.push_str(rest.get(..start).unwrap_or_default());
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        rest = if after.get(..gt).is_some_and(|tag| tag.ends_with('/')) {
            // Empty: `<Name/>`, `<Name />`.
            after.get(gt + 1..).unwrap_or_default()
        } else {
            match after.find(&close) {
                Some(end) => after.get(end + close.len()..).unwrap_or_default(),
                None => "",
            }
        };
    }
    out.push_str(rest);
    out
}

/// A whole number of days, at least 1: `message` (InvalidArgument) otherwise; MalformedXML if
/// it is not a number.
fn days(text: &str, message: &str) -> Result<u32, ApiError> {
    let n: i64 = text.trim().parse().map_err(|_| malformed())?;
    u32::try_from(n).ok().filter(|d| *d >= 1).ok_or_else(|| invalid(message))
}

/// A size in bytes, if given.
fn size(text: Option<String>) -> Result<Option<u64>, ApiError> {
    text.map(|t| t.trim().parse::<u64>().map_err(|_| malformed())).transpose()
}

/// One `LifecycleRule`.
fn rule(inner: &str) -> Result<LifecycleRule, ApiError> {
    // The rule's own members, apart from those of its parts (a filter has a `Prefix` too).
    let own = [
        "Filter",
        "Expiration",
        "Transition",
        "NoncurrentVersionTransition",
        "NoncurrentVersionExpiration",
        "AbortIncompleteMultipartUpload",
    ]
    .iter()
    .fold(inner.to_string(), |text, name| without(&text, name));
    let id = one(&own, "ID")?.unwrap_or_default();
    if id.chars().count() > MAX_ID {
        return Err(invalid("ID length should not exceed allowed limit of 255"));
    }
    let status = match one(&own, "Status")?.as_deref() {
        Some("Enabled") => RuleStatus::Enabled,
        Some("Disabled") => RuleStatus::Disabled,
        _ => return Err(malformed()),
    };
    let prefix = one(&own, "Prefix")?;
    let filter = one_section(inner, "Filter")?.map(|f| filter(&f)).transpose()?;
    if prefix.is_some() == filter.is_some() {
        return Err(malformed());
    }
    // A transition's date is checked first (S3 refuses a bad one as such); then transitions
    // are refused: there is one storage class here.
    let transitions: Vec<String> = ["Transition", "NoncurrentVersionTransition"]
        .iter()
        .flat_map(|name| xml::sections(inner.as_bytes(), name))
        .collect();
    for transition in &transitions {
        if let Some(date) = one(transition, "Date")? {
            midnight(&date)?;
        }
    }
    if !transitions.is_empty() {
        return Err(invalid_request(
            "Transitions are not supported: this server has a single storage class.",
        ));
    }
    let expiration = one_section(inner, "Expiration")?.map(|e| expiration(&e)).transpose()?;
    let noncurrent_version_expiration =
        one_section(inner, "NoncurrentVersionExpiration")?.map(|n| noncurrent(&n)).transpose()?;
    let abort_incomplete_multipart_upload = one_section(inner, "AbortIncompleteMultipartUpload")?
        .map(|a| -> Result<AbortIncompleteMultipartUpload, ApiError> {
            let text = one(&a, "DaysAfterInitiation")?.ok_or_else(malformed)?;
            Ok(AbortIncompleteMultipartUpload {
                days_after_initiation: days(
                    &text,
                    "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
                )?,
            })
        })
        .transpose()?;
    if expiration.is_none()
        && noncurrent_version_expiration.is_none()
        && abort_incomplete_multipart_upload.is_none()
    {
        return Err(malformed());
    }
    let tagged = filter
        .as_ref()
        .is_some_and(|f| f.tag.is_some() || f.and.as_ref().is_some_and(|a| !a.tags.is_empty()));
    if tagged && expiration == Some(LifecycleExpiration::ExpiredObjectDeleteMarker(true)) {
        return Err(invalid_request("ExpiredObjectDeleteMarker cannot be specified with Tags."));
    }
    if tagged && abort_incomplete_multipart_upload.is_some() {
        return Err(invalid_request(
            "AbortIncompleteMultipartUpload cannot be specified with Tags.",
        ));
    }
    Ok(LifecycleRule {
        id,
        status,
        prefix,
        filter,
        expiration,
        noncurrent_version_expiration,
        abort_incomplete_multipart_upload,
    })
}

/// A rule's `Filter`: at most one member (several conditions go in `And`); none matches
/// every object.
fn filter(inner: &str) -> Result<LifecycleFilter, ApiError> {
    let and = one_section(inner, "And")?.map(|a| and(&a)).transpose()?;
    let own = without(inner, "And");
    let prefix = one(&own, "Prefix")?;
    let tag = one_section(&own, "Tag")?.map(|t| tag(&t)).transpose()?;
    let object_size_greater_than = size(one(&own, "ObjectSizeGreaterThan")?)?;
    let object_size_less_than = size(one(&own, "ObjectSizeLessThan")?)?;
    let members = [
        prefix.is_some(),
        tag.is_some(),
        object_size_greater_than.is_some(),
        object_size_less_than.is_some(),
        and.is_some(),
    ];
    if members.iter().filter(|m| **m).count() > 1 {
        return Err(malformed());
    }
    Ok(LifecycleFilter { prefix, tag, object_size_greater_than, object_size_less_than, and })
}

/// A filter's `And`.
fn and(inner: &str) -> Result<LifecycleAnd, ApiError> {
    let tags = xml::sections(inner.as_bytes(), "Tag")
        .iter()
        .map(|t| tag(t))
        .collect::<Result<Vec<_>, _>>()?;
    let mut keys = BTreeSet::new();
    if !tags.iter().all(|t| keys.insert(t.key.as_str())) {
        return Err(invalid("Duplicate Tag Keys are not allowed."));
    }
    let and = LifecycleAnd {
        prefix: one(&without(inner, "Tag"), "Prefix")?,
        tags,
        object_size_greater_than: size(one(inner, "ObjectSizeGreaterThan")?)?,
        object_size_less_than: size(one(inner, "ObjectSizeLessThan")?)?,
    };
    if let (Some(greater), Some(less)) = (and.object_size_greater_than, and.object_size_less_than) {
        if less <= greater {
            return Err(invalid("ObjectSizeLessThan must be greater than ObjectSizeGreaterThan"));
        }
    }
    Ok(and)
}

/// A filter's `Tag`: a key of 1 to 128 characters, a value of at most 256.
fn tag(inner: &str) -> Result<LifecycleTag, ApiError> {
    let key = one(inner, "Key")?.ok_or_else(malformed)?;
    let value = one(inner, "Value")?.unwrap_or_default();
    if !(1..=128).contains(&key.chars().count()) {
        return Err(s3err(400, "InvalidTag", "The TagKey you have provided is invalid"));
    }
    if value.chars().count() > 256 {
        return Err(s3err(400, "InvalidTag", "The TagValue you have provided is invalid"));
    }
    Ok(LifecycleTag { key, value })
}

/// A rule's `Expiration`: exactly one of `Days`, `Date` and `ExpiredObjectDeleteMarker`.
fn expiration(inner: &str) -> Result<LifecycleExpiration, ApiError> {
    let days_text = one(inner, "Days")?;
    let date = one(inner, "Date")?;
    let marker = one(inner, "ExpiredObjectDeleteMarker")?;
    match (days_text, date, marker) {
        (Some(d), None, None) => Ok(LifecycleExpiration::Days(days(
            &d,
            "'Days' for Expiration action must be a positive integer",
        )?)),
        (None, Some(t), None) => Ok(LifecycleExpiration::DateMs(midnight(&t)?)),
        (None, None, Some(m)) => match m.trim() {
            "true" => Ok(LifecycleExpiration::ExpiredObjectDeleteMarker(true)),
            "false" => Ok(LifecycleExpiration::ExpiredObjectDeleteMarker(false)),
            _ => Err(malformed()),
        },
        _ => Err(malformed()),
    }
}

/// A rule's `NoncurrentVersionExpiration`.
fn noncurrent(inner: &str) -> Result<NoncurrentVersionExpiration, ApiError> {
    let text = one(inner, "NoncurrentDays")?.ok_or_else(malformed)?;
    let noncurrent_days = days(
        &text,
        "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
    )?;
    let newer_noncurrent_versions = match one(inner, "NewerNoncurrentVersions")? {
        None => None,
        Some(text) => {
            let n: i64 = text.trim().parse().map_err(|_| malformed())?;
            Some(
                u32::try_from(n)
                    .ok()
                    .filter(|n| (1..=MAX_NEWER_NONCURRENT).contains(n))
                    .ok_or_else(|| {
                        invalid("'NewerNoncurrentVersions' must be an integer from 1 to 100")
                    })?,
            )
        }
    };
    Ok(NoncurrentVersionExpiration { noncurrent_days, newer_noncurrent_versions })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// A configuration of `rules` (each a `<Rule>`'s inner XML), as botocore sends it.
    fn configuration<S: AsRef<str>>(rules: &[S]) -> Vec<u8> {
        let mut body = format!("<LifecycleConfiguration xmlns=\"{}\">", xml::NS);
        for r in rules {
            body.push_str(&format!("<Rule>{}</Rule>", r.as_ref()));
        }
        body.push_str("</LifecycleConfiguration>");
        body.into_bytes()
    }

    fn code<S: AsRef<str>>(rules: &[S]) -> String {
        read(&configuration(rules)).unwrap_err().code
    }

    const DAYS_1: &str = "<Expiration><Days>1</Days></Expiration>";

    /// The rules of ceph's `test_lifecycle_get`, with the legacy `Prefix`, read and answered
    /// as given: no `Filter` is added.
    #[test]
    fn legacy_prefix_rules_are_answered_as_given() {
        let body = configuration(&[
            "<Expiration><Days>31</Days></Expiration><ID>test1/</ID><Prefix>test1/</Prefix><Status>Enabled</Status>",
            "<Expiration><Days>120</Days></Expiration><ID>test2/</ID><Prefix>test2/</Prefix><Status>Enabled</Status>",
        ]);
        let lifecycle = read(&body).unwrap();
        assert_eq!(lifecycle.rules.len(), 2);
        let first = &lifecycle.rules[0];
        assert_eq!(first.id, "test1/");
        assert_eq!(first.prefix.as_deref(), Some("test1/"));
        assert_eq!(first.filter, None);
        assert_eq!(first.expiration, Some(LifecycleExpiration::Days(31)));
        let answer = document(&lifecycle);
        assert_eq!(
            answer,
            format!(
                "<LifecycleConfiguration xmlns=\"{}\"><Rule><ID>test1/</ID><Prefix>test1/</Prefix><Status>Enabled</Status><Expiration><Days>31</Days></Expiration></Rule><Rule><ID>test2/</ID><Prefix>test2/</Prefix><Status>Enabled</Status><Expiration><Days>120</Days></Expiration></Rule></LifecycleConfiguration>",
                xml::NS
            )
        );
        // What is answered reads back as the same rules.
        assert_eq!(read(answer.as_bytes()).unwrap(), lifecycle);
    }

    /// A filter keeps its shape: a prefix inside it is not the rule's, an `And` keeps its
    /// members, an empty filter stays empty.
    #[test]
    fn filters_are_answered_as_given() {
        let lifecycle = read(&configuration(&[
            "<ID>f</ID><Filter><Prefix>foo</Prefix></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>",
            "<ID>e</ID><Filter></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>",
            "<ID>a</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>k1</Key><Value>v1</Value></Tag><Tag><Key>k2</Key><Value></Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>99</ObjectSizeLessThan></And></Filter><Status>Disabled</Status><Expiration><Days>3</Days></Expiration>",
            "<ID>t</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays><NewerNoncurrentVersions>5</NewerNoncurrentVersions></NoncurrentVersionExpiration>",
            "<ID>s</ID><Filter><ObjectSizeGreaterThan>1024</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>",
            "<ID>d</ID><Prefix></Prefix><Status>Enabled</Status><Expiration><Date>2017-09-27T00:00:00Z</Date></Expiration>",
        ]))
        .unwrap();
        let rules = &lifecycle.rules;
        assert_eq!(rules[0].prefix, None);
        assert_eq!(rules[0].filter.as_ref().unwrap().prefix.as_deref(), Some("foo"));
        assert_eq!(rules[1].filter, Some(LifecycleFilter::default()));
        let and = rules[2].filter.as_ref().unwrap().and.as_ref().unwrap();
        assert_eq!(and.prefix.as_deref(), Some("logs/"));
        assert_eq!(
            and.tags,
            vec![
                LifecycleTag { key: "k1".into(), value: "v1".into() },
                LifecycleTag { key: "k2".into(), value: String::new() },
            ]
        );
        assert_eq!((and.object_size_greater_than, and.object_size_less_than), (Some(10), Some(99)));
        assert_eq!(rules[2].status, RuleStatus::Disabled);
        assert_eq!(rules[2].filter.as_ref().unwrap().prefix, None, "the And's prefix");
        assert_eq!(
            rules[3].noncurrent_version_expiration,
            Some(NoncurrentVersionExpiration {
                noncurrent_days: 2,
                newer_noncurrent_versions: Some(5)
            })
        );
        assert_eq!(rules[4].filter.as_ref().unwrap().object_size_greater_than, Some(1024));
        assert_eq!(
            rules[4].abort_incomplete_multipart_upload,
            Some(AbortIncompleteMultipartUpload { days_after_initiation: 7 })
        );
        assert_eq!(rules[5].prefix.as_deref(), Some(""));
        assert_eq!(rules[5].expiration, Some(LifecycleExpiration::DateMs(1_506_470_400_000)));
        // Answered and read again: the same rules.
        assert_eq!(read(document(&lifecycle).as_bytes()).unwrap(), lifecycle);
    }

    /// Text is unescaped once: a prefix with `&` and `<` reads as itself and is answered
    /// escaped.
    #[test]
    fn texts_are_escaped_once() {
        let lifecycle = read(&configuration(&[
            "<ID>a&amp;b</ID><Filter><Prefix>x&lt;/Prefix&gt;y</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>",
        ]))
        .unwrap();
        assert_eq!(lifecycle.rules[0].id, "a&b");
        assert_eq!(
            lifecycle.rules[0].filter.as_ref().unwrap().prefix.as_deref(),
            Some("x</Prefix>y")
        );
        assert_eq!(read(document(&lifecycle).as_bytes()).unwrap(), lifecycle);
    }

    /// A rule without an `ID` gets one when it is stored; given ones are kept.
    #[test]
    fn rules_without_an_id_are_named() {
        let lifecycle = read(&configuration(&[
            &format!("<Prefix>test1/</Prefix><Status>Enabled</Status>{DAYS_1}"),
            &format!("<ID></ID><Prefix>test2/</Prefix><Status>Enabled</Status>{DAYS_1}"),
            &format!("<ID>kept</ID><Prefix>test3/</Prefix><Status>Enabled</Status>{DAYS_1}"),
        ]))
        .unwrap();
        assert!(lifecycle.rules[0].id.is_empty() && lifecycle.rules[1].id.is_empty());
        let named = with_ids(lifecycle);
        assert!(!named.rules[0].id.is_empty() && !named.rules[1].id.is_empty());
        assert_ne!(named.rules[0].id, named.rules[1].id);
        assert_eq!(named.rules[2].id, "kept");
    }

    /// The refusals of ceph's s3-tests: an `ID` too long or given twice, a `Status` not exactly
    /// `Enabled` or `Disabled`, a date that is not a midnight, `Days` of 0.
    #[test]
    fn what_s3_tests_expect_refused() {
        let long = format!(
            "<ID>{}</ID><Prefix>test1/</Prefix><Status>Enabled</Status>{DAYS_1}",
            "a".repeat(256)
        );
        assert_eq!(code(&[&long]), "InvalidArgument");
        let at_limit = format!(
            "<ID>{}</ID><Prefix>p</Prefix><Status>Enabled</Status>{DAYS_1}",
            "a".repeat(255)
        );
        assert!(read(&configuration(&[&at_limit])).is_ok());
        let same = format!("<ID>rule1</ID><Prefix>test1/</Prefix><Status>Enabled</Status>{DAYS_1}");
        assert_eq!(code(&[&same, &same.replace("test1/", "test2/")]), "InvalidArgument");
        for status in ["enabled", "disabled", "invalid", ""] {
            let r = format!("<ID>r</ID><Prefix>p</Prefix><Status>{status}</Status>{DAYS_1}");
            assert_eq!(code(&[&r]), "MalformedXML", "{status}");
        }
        assert_eq!(code(&[&format!("<ID>r</ID><Prefix>p</Prefix>{DAYS_1}")]), "MalformedXML");
        // botocore sends `20200101` as the epoch second it reads as: not a midnight.
        let bad_date = "<ID>r</ID><Prefix>p</Prefix><Status>Enabled</Status><Expiration><Date>1970-08-22T19:15:01Z</Date></Expiration>";
        assert_eq!(code(&[bad_date]), "InvalidArgument");
        assert_eq!(
            code(&[&bad_date.replace("1970-08-22T19:15:01Z", "20200101")]),
            "InvalidArgument"
        );
        let days0 = "<ID>r</ID><Prefix>p</Prefix><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>";
        assert_eq!(code(&[days0]), "InvalidArgument");
        assert_eq!(code(&[&days0.replace(">0<", ">-3<")]), "InvalidArgument");
        assert_eq!(code(&[&days0.replace(">0<", ">x<")]), "MalformedXML");
    }

    /// Transitions are refused (one storage class); a bad transition date is refused first,
    /// as ceph's `test_lifecycle_transition_set_invalid_date` expects (any 400).
    #[test]
    fn transitions_are_refused() {
        let transition = "<ID>r</ID><Prefix>p</Prefix><Status>Enabled</Status><Expiration><Date>2023-09-27T00:00:00Z</Date></Expiration><Transition><Date>1970-08-22T19:15:20Z</Date><StorageClass>GLACIER</StorageClass></Transition>";
        assert_eq!(code(&[transition]), "InvalidArgument");
        let good = transition.replace("1970-08-22T19:15:20Z", "2022-09-27T00:00:00Z");
        assert_eq!(code(&[&good]), "InvalidRequest");
        let noncurrent = "<ID>r</ID><Prefix>p</Prefix><Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>3</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>";
        assert_eq!(code(&[noncurrent]), "InvalidRequest");
        // The rule's own Expiration is not taken for a transition's, nor the reverse.
        let only_expiration = "<ID>r</ID><Prefix>p</Prefix><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays></NoncurrentVersionExpiration>";
        assert!(read(&configuration(&[only_expiration])).is_ok());
    }

    /// What does not read as S3's schema: no rule, too many rules, both or neither of
    /// `Prefix` and `Filter`, several filter or expiration members, no action.
    #[test]
    fn malformed_configurations() {
        assert_eq!(
            read(b"<LifecycleConfiguration></LifecycleConfiguration>").unwrap_err().code,
            "MalformedXML"
        );
        assert_eq!(read(b"<Other><Rule></Rule></Other>").unwrap_err().code, "MalformedXML");
        let rule = format!("<Prefix>p</Prefix><Status>Enabled</Status>{DAYS_1}");
        let many: Vec<&str> = std::iter::repeat_n(rule.as_str(), 1001).collect();
        assert_eq!(code(&many), "MalformedXML");
        let thousand: Vec<&str> = std::iter::repeat_n(rule.as_str(), 1000).collect();
        assert_eq!(read(&configuration(&thousand)).unwrap().rules.len(), 1000);
        let both = format!(
            "<Prefix>p</Prefix><Filter><Prefix>p</Prefix></Filter><Status>Enabled</Status>{DAYS_1}"
        );
        assert_eq!(code(&[&both]), "MalformedXML");
        assert_eq!(code(&[&format!("<Status>Enabled</Status>{DAYS_1}")]), "MalformedXML");
        let two = format!("<Filter><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>{DAYS_1}");
        assert_eq!(code(&[&two]), "MalformedXML");
        let expiration = "<Prefix>p</Prefix><Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>";
        assert_eq!(code(&[expiration]), "MalformedXML");
        assert_eq!(code(&["<Prefix>p</Prefix><Status>Enabled</Status>"]), "MalformedXML");
        assert_eq!(
            code(&["<Prefix>p</Prefix><Status>Enabled</Status><Expiration></Expiration>"]),
            "MalformedXML"
        );
        let marker = "<Prefix>p</Prefix><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker></Expiration>";
        assert_eq!(code(&[marker]), "MalformedXML");
    }

    /// The other limits: noncurrent days and kept versions, days after initiation, tags with
    /// actions S3 does not allow them with, sizes, tag keys.
    #[test]
    fn other_limits() {
        let noncurrent = |inner: &str| {
            format!("<Prefix>p</Prefix><Status>Enabled</Status><NoncurrentVersionExpiration>{inner}</NoncurrentVersionExpiration>")
        };
        assert_eq!(code(&[&noncurrent("<NoncurrentDays>0</NoncurrentDays>")]), "InvalidArgument");
        assert_eq!(
            code(&[&noncurrent("<NewerNoncurrentVersions>2</NewerNoncurrentVersions>")]),
            "MalformedXML"
        );
        let kept = |n: &str| {
            noncurrent(&format!("<NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>{n}</NewerNoncurrentVersions>"))
        };
        assert_eq!(code(&[&kept("0")]), "InvalidArgument");
        assert_eq!(code(&[&kept("101")]), "InvalidArgument");
        assert!(read(&configuration(&[&kept("100")])).is_ok());
        let abort = "<Prefix>p</Prefix><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>";
        assert_eq!(code(&[abort]), "InvalidArgument");
        let tagged_abort = "<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>";
        assert_eq!(code(&[tagged_abort]), "InvalidRequest");
        let tagged_marker = "<Filter><And><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>";
        assert_eq!(code(&[tagged_marker]), "InvalidRequest");
        let sizes = format!("<Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>{DAYS_1}");
        assert_eq!(code(&[&sizes]), "InvalidArgument");
        let twice = format!("<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter><Status>Enabled</Status>{DAYS_1}");
        assert_eq!(code(&[&twice]), "InvalidArgument");
        let empty_key = format!("<Filter><Tag><Key></Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>{DAYS_1}");
        assert_eq!(code(&[&empty_key]), "InvalidTag");
    }

    #[test]
    fn without_removes_only_the_named_elements() {
        assert_eq!(without("<A>1</A><Filter><A>2</A></Filter><B/>", "Filter"), "<A>1</A><B/>");
        assert_eq!(without("<Filter/><FilterX>1</FilterX>", "Filter"), "<FilterX>1</FilterX>");
        assert_eq!(without("<Filter>open", "Filter"), "");
        assert_eq!(without("<Filter /><Prefix>p</Prefix>", "Filter"), "<Prefix>p</Prefix>");
    }

    /// What botocore sends: empty elements as `<Filter />` and `<Prefix />`.
    #[test]
    fn botocore_empty_elements_read() {
        let body = b"<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ID>r</ID><Filter /><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule><Rule><Filter><Prefix /></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule><Rule><Prefix /><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>";
        let lifecycle = read(body).unwrap();
        assert_eq!(lifecycle.rules[0].filter, Some(LifecycleFilter::default()));
        assert_eq!(lifecycle.rules[1].filter.as_ref().unwrap().prefix.as_deref(), Some(""));
        assert_eq!(lifecycle.rules[2].prefix.as_deref(), Some(""));
        assert_eq!(lifecycle.rules[2].filter, None);
        // botocore's `20200101`, as it sends it.
        let date = b"<LifecycleConfiguration><Rule><Filter><Prefix /></Filter><Status>Enabled</Status><Expiration><Date>1970-08-22T19:08:21Z</Date></Expiration></Rule></LifecycleConfiguration>";
        assert_eq!(read(date).unwrap_err().code, "InvalidArgument");
    }
}
