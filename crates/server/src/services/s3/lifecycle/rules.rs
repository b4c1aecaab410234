//! Which lifecycle rule makes an object, a version or an upload due: a pure function of the
//! rules, what is known of the thing, the time and the length of a lifecycle day (STYLE 1: no
//! store, no clock). The pass asks it once to plan and again under its locks before it
//! acts.
//!
//! As in S3: only `Enabled` rules act; a rule applies to the keys its legacy `Prefix` or its
//! `Filter` (prefix, tag, size, or all of an `And`'s) selects; `Days` count from when the
//! object was written (a noncurrent version's from when it became noncurrent: when the next
//! newer version was written), rounded up to the next midnight UTC when a day is a real day;
//! a `Date` expires every current version it applies to from that midnight;
//! `NewerNoncurrentVersions` keeps that many of the newest noncurrent versions whatever their
//! age; `ExpiredObjectDeleteMarker` removes a delete marker that is its key's only version.
//! `Days`/`Date` never act on a delete marker. Uploads have no size or tags yet: a rule with a
//! size or tag condition never aborts one.

use crate::records::s3::{
    Lifecycle, LifecycleAnd, LifecycleExpiration, LifecycleFilter, LifecycleRule, LifecycleTag,
    RuleStatus,
};
use std::collections::BTreeMap;

/// A real day, in milliseconds.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// What a rule is asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Subject {
    /// A key's current version (not a delete marker), written at `last_modified_ms`.
    Current { last_modified_ms: i64 },
    /// A noncurrent version (or noncurrent delete marker): noncurrent since `since_ms`, with
    /// `newer` noncurrent versions newer than it.
    Noncurrent { since_ms: i64, newer: usize },
    /// A delete marker that is its key's current and only version.
    LoneMarker,
    /// A multipart upload begun at `created_ms`.
    Upload { created_ms: i64 },
}

/// What a rule's filter sees of the thing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Facts<'a> {
    /// The object key.
    pub key: &'a str,
    /// Its size in bytes; none for an upload (no size condition holds for it).
    pub size: Option<u64>,
    /// Its tags (none for an upload or a delete marker).
    pub tags: &'a BTreeMap<String, String>,
}

/// The first `Enabled` rule of `lifecycle` under which `subject` is due at `now_ms`, a
/// lifecycle day lasting `day_ms`; none if nothing is due.
pub(crate) fn due<'r>(
    lifecycle: &'r Lifecycle,
    subject: Subject,
    facts: Facts<'_>,
    now_ms: i64,
    day_ms: i64,
) -> Option<&'r LifecycleRule> {
    lifecycle.rules.iter().find(|rule| {
        rule.status == RuleStatus::Enabled
            && selects(rule, facts)
            && acts(rule, subject, now_ms, day_ms)
    })
}

/// What version `index` of a key's versions is to the rules; `newest_first` holds each
/// version's last-modified time and whether it is a delete marker, newest first. The newest is
/// the current version: a lone marker when it is a delete marker and the only version, else
/// nothing here (a current object is judged from its object record). Each older one has been
/// noncurrent since the next newer one was written.
pub(crate) fn version_subject(newest_first: &[(i64, bool)], index: usize) -> Option<Subject> {
    let (_, marker) = *newest_first.get(index)?;
    let Some(newer_index) = index.checked_sub(1) else {
        return (marker && newest_first.len() == 1).then_some(Subject::LoneMarker);
    };
    let (since_ms, _) = *newest_first.get(newer_index)?;
    Some(Subject::Noncurrent { since_ms, newer: newer_index })
}

/// When something `days` lifecycle days after `start_ms` is due: with real days, the next
/// midnight UTC at or after that instant, as S3 rounds; with another day length (tests), that
/// instant.
pub(crate) fn after_days(start_ms: i64, days: u32, day_ms: i64) -> i64 {
    let at = start_ms.saturating_add(i64::from(days).saturating_mul(day_ms));
    if day_ms != DAY_MS {
        return at;
    }
    let past_midnight = at.rem_euclid(DAY_MS) != 0;
    at.div_euclid(DAY_MS).saturating_add(i64::from(past_midnight)).saturating_mul(DAY_MS)
}

/// Whether `rule` applies to the thing. A rule with both or neither of `Prefix` and `Filter`
/// was not put through `PutBucketLifecycleConfiguration`: it applies to nothing.
fn selects(rule: &LifecycleRule, facts: Facts<'_>) -> bool {
    match (&rule.prefix, &rule.filter) {
        (Some(prefix), None) => facts.key.starts_with(prefix.as_str()),
        (None, Some(filter)) => filter_selects(filter, facts),
        _ => false,
    }
}

fn filter_selects(filter: &LifecycleFilter, facts: Facts<'_>) -> bool {
    filter.prefix.as_deref().is_none_or(|p| facts.key.starts_with(p))
        && filter.tag.as_ref().is_none_or(|t| has_tag(facts, t))
        && filter.object_size_greater_than.is_none_or(|n| facts.size.is_some_and(|s| s > n))
        && filter.object_size_less_than.is_none_or(|n| facts.size.is_some_and(|s| s < n))
        && filter.and.as_ref().is_none_or(|and| and_selects(and, facts))
}

fn and_selects(and: &LifecycleAnd, facts: Facts<'_>) -> bool {
    and.prefix.as_deref().is_none_or(|p| facts.key.starts_with(p))
        && and.tags.iter().all(|t| has_tag(facts, t))
        && and.object_size_greater_than.is_none_or(|n| facts.size.is_some_and(|s| s > n))
        && and.object_size_less_than.is_none_or(|n| facts.size.is_some_and(|s| s < n))
}

fn has_tag(facts: Facts<'_>, tag: &LifecycleTag) -> bool {
    facts.tags.get(&tag.key) == Some(&tag.value)
}

/// Whether `rule`'s action for `subject` is due at `now_ms`.
fn acts(rule: &LifecycleRule, subject: Subject, now_ms: i64, day_ms: i64) -> bool {
    match subject {
        Subject::Current { last_modified_ms } => match rule.expiration {
            Some(LifecycleExpiration::Days(days)) => {
                now_ms >= after_days(last_modified_ms, days, day_ms)
            }
            Some(LifecycleExpiration::DateMs(date)) => now_ms >= date,
            Some(LifecycleExpiration::ExpiredObjectDeleteMarker(_)) | None => false,
        },
        Subject::Noncurrent { since_ms, newer } => {
            rule.noncurrent_version_expiration.is_some_and(|n| {
                let kept = n
                    .newer_noncurrent_versions
                    .map_or(0, |k| usize::try_from(k).unwrap_or(usize::MAX));
                newer >= kept && now_ms >= after_days(since_ms, n.noncurrent_days, day_ms)
            })
        }
        Subject::LoneMarker => {
            rule.expiration == Some(LifecycleExpiration::ExpiredObjectDeleteMarker(true))
        }
        Subject::Upload { created_ms } => rule
            .abort_incomplete_multipart_upload
            .is_some_and(|a| now_ms >= after_days(created_ms, a.days_after_initiation, day_ms)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::records::s3::{AbortIncompleteMultipartUpload, NoncurrentVersionExpiration};

    /// A test day: ten seconds, as ceph's `rgw_lc_debug_interval` makes one.
    const DAY: i64 = 10_000;

    fn rule(id: &str) -> LifecycleRule {
        LifecycleRule {
            id: id.into(),
            status: RuleStatus::Enabled,
            prefix: Some(String::new()),
            filter: None,
            expiration: None,
            noncurrent_version_expiration: None,
            abort_incomplete_multipart_upload: None,
        }
    }

    fn expire_after(id: &str, days: u32) -> LifecycleRule {
        LifecycleRule { expiration: Some(LifecycleExpiration::Days(days)), ..rule(id) }
    }

    fn of(rules: Vec<LifecycleRule>) -> Lifecycle {
        Lifecycle { rules }
    }

    static NO_TAGS: BTreeMap<String, String> = BTreeMap::new();

    fn object(key: &str) -> Facts<'_> {
        Facts { key, size: Some(100), tags: &NO_TAGS }
    }

    fn current(at: i64) -> Subject {
        Subject::Current { last_modified_ms: at }
    }

    /// The rule's id when due, for short assertions.
    fn due_id(
        lifecycle: &Lifecycle,
        subject: Subject,
        facts: Facts<'_>,
        now: i64,
    ) -> Option<String> {
        due(lifecycle, subject, facts, now, DAY).map(|r| r.id.clone())
    }

    #[test]
    fn days_count_from_the_write() {
        let rules = of(vec![expire_after("r", 2)]);
        assert_eq!(due_id(&rules, current(1000), object("k"), 1000 + 2 * DAY - 1), None);
        assert_eq!(
            due_id(&rules, current(1000), object("k"), 1000 + 2 * DAY).as_deref(),
            Some("r")
        );
    }

    /// With real days, S3 rounds to the next midnight UTC.
    #[test]
    fn real_days_round_up_to_midnight() {
        let written = 3 * DAY_MS + 10 * 3_600_000; // day 3, 10:00
        assert_eq!(after_days(written, 1, DAY_MS), 5 * DAY_MS);
        assert_eq!(after_days(3 * DAY_MS, 1, DAY_MS), 4 * DAY_MS, "a midnight stays");
        let rules = of(vec![expire_after("r", 1)]);
        let due_at = |now| due(&rules, current(written), object("k"), now, DAY_MS).is_some();
        assert!(!due_at(4 * DAY_MS + 10 * 3_600_000));
        assert!(!due_at(5 * DAY_MS - 1));
        assert!(due_at(5 * DAY_MS));
        assert_eq!(after_days(i64::MAX - 5, 3, DAY), i64::MAX, "no overflow");
    }

    #[test]
    fn a_date_expires_every_current_version_from_that_midnight() {
        let date = 20 * DAY_MS;
        let rules = of(vec![LifecycleRule {
            expiration: Some(LifecycleExpiration::DateMs(date)),
            ..rule("d")
        }]);
        assert_eq!(due_id(&rules, current(date + 5), object("k"), date - 1), None);
        assert_eq!(due_id(&rules, current(date + 5), object("k"), date).as_deref(), Some("d"));
        assert_eq!(due_id(&rules, current(0), object("k"), date + 1).as_deref(), Some("d"));
    }

    #[test]
    fn disabled_rules_never_act() {
        let rules =
            of(vec![LifecycleRule { status: RuleStatus::Disabled, ..expire_after("r", 1) }]);
        assert_eq!(due_id(&rules, current(0), object("k"), 1000 * DAY), None);
        let marker = LifecycleRule {
            status: RuleStatus::Disabled,
            expiration: Some(LifecycleExpiration::ExpiredObjectDeleteMarker(true)),
            ..rule("m")
        };
        assert_eq!(due_id(&of(vec![marker]), Subject::LoneMarker, object("k"), 0), None);
    }

    /// The first enabled rule that makes the thing due names the action.
    #[test]
    fn the_first_rule_due_is_named() {
        let rules = of(vec![
            LifecycleRule { status: RuleStatus::Disabled, ..expire_after("off", 1) },
            LifecycleRule { prefix: Some("other/".into()), ..expire_after("elsewhere", 1) },
            expire_after("late", 5),
            expire_after("early", 2),
            expire_after("also", 1),
        ]);
        assert_eq!(due_id(&rules, current(0), object("k"), 2 * DAY).as_deref(), Some("early"));
        assert_eq!(due_id(&rules, current(0), object("k"), DAY).as_deref(), Some("also"));
        assert_eq!(due_id(&rules, current(0), object("k"), 9 * DAY).as_deref(), Some("late"));
    }

    #[test]
    fn the_legacy_prefix_selects_keys() {
        let rules =
            of(vec![LifecycleRule { prefix: Some("logs/".into()), ..expire_after("r", 1) }]);
        assert!(due_id(&rules, current(0), object("logs/a"), DAY).is_some());
        assert!(due_id(&rules, current(0), object("logs"), DAY).is_none());
        assert!(due_id(&rules, current(0), object("data/logs/a"), DAY).is_none());
    }

    fn filtered(filter: LifecycleFilter) -> Lifecycle {
        of(vec![LifecycleRule { prefix: None, filter: Some(filter), ..expire_after("f", 1) }])
    }

    fn tag(key: &str, value: &str) -> LifecycleTag {
        LifecycleTag { key: key.into(), value: value.into() }
    }

    #[test]
    fn filters_select_by_prefix_tag_and_size() {
        let tags: BTreeMap<String, String> =
            [("team".to_string(), "blue".to_string()), ("tmp".to_string(), String::new())]
                .into_iter()
                .collect();
        let facts = |key, size| Facts { key, size: Some(size), tags: &tags };
        let is_due =
            |lifecycle: &Lifecycle, f: Facts<'_>| due_id(lifecycle, current(0), f, DAY).is_some();

        let everything = filtered(LifecycleFilter::default());
        assert!(is_due(&everything, object("any")));

        let prefix = filtered(LifecycleFilter { prefix: Some("a/".into()), ..Default::default() });
        assert!(is_due(&prefix, object("a/b")) && !is_due(&prefix, object("b/a")));

        let blue =
            filtered(LifecycleFilter { tag: Some(tag("team", "blue")), ..Default::default() });
        assert!(is_due(&blue, facts("k", 1)));
        assert!(!is_due(&blue, object("k")), "no tags");
        let red = filtered(LifecycleFilter { tag: Some(tag("team", "red")), ..Default::default() });
        assert!(!is_due(&red, facts("k", 1)), "another value");
        let empty = filtered(LifecycleFilter { tag: Some(tag("tmp", "")), ..Default::default() });
        assert!(is_due(&empty, facts("k", 1)), "an empty value is a value");

        let big =
            filtered(LifecycleFilter { object_size_greater_than: Some(100), ..Default::default() });
        assert!(!is_due(&big, facts("k", 100)) && is_due(&big, facts("k", 101)));
        let small =
            filtered(LifecycleFilter { object_size_less_than: Some(100), ..Default::default() });
        assert!(is_due(&small, facts("k", 99)) && !is_due(&small, facts("k", 100)));

        let and = filtered(LifecycleFilter {
            and: Some(LifecycleAnd {
                prefix: Some("a/".into()),
                tags: vec![tag("team", "blue"), tag("tmp", "")],
                object_size_greater_than: Some(10),
                object_size_less_than: Some(1000),
            }),
            ..Default::default()
        });
        assert!(is_due(&and, facts("a/k", 500)));
        assert!(!is_due(&and, facts("b/k", 500)), "prefix");
        assert!(!is_due(&and, Facts { key: "a/k", size: Some(500), tags: &NO_TAGS }), "tags");
        assert!(!is_due(&and, facts("a/k", 5)), "too small");
        assert!(!is_due(&and, facts("a/k", 5000)), "too big");
    }

    /// A rule stored with both or neither of `Prefix` and `Filter` (never put through the
    /// API) applies to nothing.
    #[test]
    fn a_rule_without_one_scope_applies_to_nothing() {
        let neither = of(vec![LifecycleRule { prefix: None, ..expire_after("r", 1) }]);
        assert_eq!(due_id(&neither, current(0), object("k"), 10 * DAY), None);
        let both = of(vec![LifecycleRule {
            filter: Some(LifecycleFilter::default()),
            ..expire_after("r", 1)
        }]);
        assert_eq!(due_id(&both, current(0), object("k"), 10 * DAY), None);
    }

    fn noncurrent(days: u32, kept: Option<u32>) -> Lifecycle {
        of(vec![LifecycleRule {
            noncurrent_version_expiration: Some(NoncurrentVersionExpiration {
                noncurrent_days: days,
                newer_noncurrent_versions: kept,
            }),
            ..rule("n")
        }])
    }

    /// Noncurrent days count from when the version became noncurrent, not from its write.
    #[test]
    fn noncurrent_days_count_from_the_next_newer_version() {
        let rules = noncurrent(2, None);
        let since = 50 * DAY;
        let version = Subject::Noncurrent { since_ms: since, newer: 0 };
        assert!(due_id(&rules, version, object("k"), since + 2 * DAY - 1).is_none());
        assert!(due_id(&rules, version, object("k"), since + 2 * DAY).is_some());
        // The same rule does nothing to current versions.
        assert!(due_id(&rules, current(0), object("k"), 1000 * DAY).is_none());
        // Nor does an expiration to noncurrent ones.
        let expiration = of(vec![expire_after("e", 1)]);
        assert!(due_id(&expiration, version, object("k"), 1000 * DAY).is_none());
    }

    #[test]
    fn newer_noncurrent_versions_are_kept() {
        let rules = noncurrent(1, Some(2));
        let at = |newer| Subject::Noncurrent { since_ms: 0, newer };
        assert!(due_id(&rules, at(0), object("k"), 10 * DAY).is_none());
        assert!(due_id(&rules, at(1), object("k"), 10 * DAY).is_none());
        assert!(due_id(&rules, at(2), object("k"), 10 * DAY).is_some());
        assert!(due_id(&rules, at(3), object("k"), 10 * DAY).is_some());
        // Kept or not, nothing goes before its days.
        assert!(due_id(&rules, at(3), object("k"), DAY - 1).is_none());
    }

    #[test]
    fn a_versions_subject_follows_from_its_place() {
        // Newest first: a marker, then two versions.
        let versions = [(300, true), (200, false), (100, false)];
        assert_eq!(version_subject(&versions, 0), None, "current but not alone");
        assert_eq!(
            version_subject(&versions, 1),
            Some(Subject::Noncurrent { since_ms: 300, newer: 0 })
        );
        assert_eq!(
            version_subject(&versions, 2),
            Some(Subject::Noncurrent { since_ms: 200, newer: 1 })
        );
        assert_eq!(version_subject(&versions, 3), None);
        assert_eq!(version_subject(&[(5, true)], 0), Some(Subject::LoneMarker));
        assert_eq!(version_subject(&[(5, false)], 0), None, "a current object");
        assert_eq!(version_subject(&[], 0), None);
    }

    /// `ExpiredObjectDeleteMarker` removes only a marker left alone, and `Days` never
    /// removes a marker.
    #[test]
    fn expired_delete_markers() {
        let markers = of(vec![LifecycleRule {
            expiration: Some(LifecycleExpiration::ExpiredObjectDeleteMarker(true)),
            ..rule("m")
        }]);
        let marker = Facts { key: "k", size: Some(0), tags: &NO_TAGS };
        assert_eq!(due_id(&markers, Subject::LoneMarker, marker, 0).as_deref(), Some("m"));
        assert!(due_id(&markers, current(0), object("k"), 1000 * DAY).is_none());
        let off = of(vec![LifecycleRule {
            expiration: Some(LifecycleExpiration::ExpiredObjectDeleteMarker(false)),
            ..rule("m")
        }]);
        assert!(due_id(&off, Subject::LoneMarker, marker, 0).is_none());
        let days = of(vec![expire_after("d", 1)]);
        assert!(due_id(&days, Subject::LoneMarker, marker, 1000 * DAY).is_none());
        let elsewhere = of(vec![LifecycleRule {
            prefix: Some("other/".into()),
            expiration: Some(LifecycleExpiration::ExpiredObjectDeleteMarker(true)),
            ..rule("m")
        }]);
        assert!(due_id(&elsewhere, Subject::LoneMarker, marker, 0).is_none());
    }

    #[test]
    fn uploads_are_aborted_after_their_days() {
        let abort = |filter: Option<LifecycleFilter>| {
            of(vec![LifecycleRule {
                prefix: if filter.is_some() { None } else { Some("up/".into()) },
                filter,
                abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload {
                    days_after_initiation: 3,
                }),
                ..rule("a")
            }])
        };
        let upload = |key| Facts { key, size: None, tags: &NO_TAGS };
        let begun = Subject::Upload { created_ms: 7 };
        let rules = abort(None);
        assert!(due_id(&rules, begun, upload("up/x"), 7 + 3 * DAY - 1).is_none());
        assert!(due_id(&rules, begun, upload("up/x"), 7 + 3 * DAY).is_some());
        assert!(due_id(&rules, begun, upload("down/x"), 7 + 3 * DAY).is_none());
        // No size is known of an upload: a size condition never holds.
        let sized =
            abort(Some(LifecycleFilter { object_size_less_than: Some(10), ..Default::default() }));
        assert!(due_id(&sized, begun, upload("up/x"), 100 * DAY).is_none());
        // Expirations do not abort uploads.
        assert!(due_id(&of(vec![expire_after("e", 1)]), begun, upload("up/x"), 100 * DAY).is_none());
    }
}
