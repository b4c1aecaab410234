//! Checks against the catalog of AWS services, actions, resource types and condition keys:
//! unknown services and actions, wildcards that match no action, resource ARNs that fit no
//! resource type of their service or of the statement's actions, and tag conditions on services
//! that do not support them.
//!
//! The checks read the catalog through [`ServiceCatalog`], so they do not depend on how the
//! catalog is stored (`catalog_adapter.rs` implements it for `crate::catalog::Catalog`) and the
//! tests can use a small fake catalog.

use super::glob;
use super::keys::{KeyInfo, KeyKind, Presence};
use super::{label, Ctx, Findings};
use crate::ast::{ActionPattern, Effect, ResourcePattern, Statement};
use crate::pattern::Tok;

/// What the validator needs from a catalog of AWS services.
pub(crate) trait ServiceCatalog {
    /// The service with this prefix (any case).
    fn service(&self, prefix: &str) -> Option<&dyn ServiceInfo>;
    /// A condition key (global or of a service; tag keys like `aws:RequestTag/${TagKey}` match
    /// concrete keys), with its type and whether it is multivalued.
    fn condition_key(&self, key: &str) -> Option<(KeyKind, bool)>;
}

/// One service of the catalog.
pub(crate) trait ServiceInfo {
    /// The action names, as documented (`GetObject`).
    fn action_names(&self) -> Vec<&str>;
    /// An action by name (any case).
    fn action(&self, name: &str) -> Option<ActionInfo<'_>>;
    /// The resource types: `(name, ARN format)`, the format with `${...}` placeholders.
    fn resource_types(&self) -> Vec<(&str, &str)>;
    /// The condition keys the service documents: its own, the global ones it supports, and
    /// those of its resource types.
    fn condition_keys(&self) -> Vec<&str>;
}

/// One action of the catalog.
pub(crate) struct ActionInfo<'a> {
    /// The resource types the action acts on (none: only `*`).
    pub(crate) resource_types: Vec<&'a str>,
    /// The condition keys the action supports.
    pub(crate) condition_keys: Vec<&'a str>,
}

/// A condition key as the catalog knows it.
pub(crate) fn key_info(catalog: &dyn ServiceCatalog, key: &str) -> Option<KeyInfo> {
    catalog.condition_key(key).map(|(kind, multi)| KeyInfo {
        name: "",
        kind,
        multi,
        presence: Presence::Sometimes,
        identifies_caller: false,
    })
}

/// Actions resolved against the catalog: for each pattern, the matching action names.
struct Resolved<'c> {
    /// `(service, action names)` per pattern; `None` when a pattern could not be resolved
    /// (`*`, a wildcard prefix, an unknown service).
    patterns: Option<Vec<(&'c dyn ServiceInfo, Vec<&'c str>)>>,
}

/// Every catalog check of one statement.
pub(crate) fn check(cx: &Ctx, st: &Statement, out: &mut Findings) {
    let Some(catalog) = cx.catalog else { return };
    let resolved = actions(catalog, st, out);
    if let Some(r) = &st.resource {
        for x in &r.resources {
            let valid = arn_of_service(cx, catalog, x, out);
            if valid && !r.negated && !st.action.negated {
                if let Some(patterns) = &resolved.patterns {
                    fits_actions(cx, st, x, patterns, out);
                }
            }
        }
    }
    tag_conditions(catalog, st, out);
}

fn actions<'c>(
    catalog: &'c dyn ServiceCatalog,
    st: &Statement,
    out: &mut Findings,
) -> Resolved<'c> {
    let mut patterns = Some(Vec::new());
    for a in &st.action.actions {
        if a.raw == "*" || a.service.contains(['*', '?']) {
            patterns = None;
            continue;
        }
        let Some(service) = catalog.service(&a.service) else {
            out.emit(
                "UNKNOWN_SERVICE",
                &a.location,
                format!("`{}`: no AWS service has the prefix `{}`", a.raw, a.service),
            );
            patterns = None;
            continue;
        };
        let matched: Vec<&str> =
            service.action_names().into_iter().filter(|n| matches(a, n)).collect();
        if matched.is_empty() {
            if a.pattern.has_wildcard() {
                out.emit(
                    "ACTION_WILDCARD_MATCHES_NOTHING",
                    &a.location,
                    format!("`{}` matches no action of `{}`", a.raw, a.service),
                );
            } else {
                let hint = closest(&a.name, &service.action_names())
                    .map(|n| format!(": did you mean `{}:{n}`?", a.service))
                    .unwrap_or_default();
                out.emit(
                    "UNKNOWN_ACTION",
                    &a.location,
                    format!("`{}` is not an action of `{}`{hint}", a.raw, a.service),
                );
            }
        }
        if let Some(p) = &mut patterns {
            p.push((service, matched));
        }
    }
    Resolved { patterns }
}

fn matches(a: &ActionPattern, name: &str) -> bool {
    a.pattern.matches(&format!("{}:{}", a.service, name.to_lowercase()))
}

/// The action name closest to `name` by edit distance, when it is close.
fn closest<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    let len = name.chars().count();
    let budget = (len / 4).clamp(1, 3);
    names
        .iter()
        .filter(|n| n.chars().count().abs_diff(len) <= budget)
        .map(|n| (edit_distance(name, &n.to_lowercase()), *n))
        .filter(|(d, _)| *d <= budget)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let cost = prev + usize::from(ca != *cb);
            let v = cost.min(above.saturating_add(1)).min(left.saturating_add(1));
            prev = above;
            if let Some(c) = row.get_mut(j + 1) {
                *c = v;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// The six fields of an ARN or ARN pattern, as tokens; `${...}` in a catalog format stands for
/// a non-empty value (but for `${Account}`), in a policy for any value.
fn fields(text: &str, catalog_format: bool) -> Option<Vec<Vec<Tok>>> {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    if parts.len() != 6 {
        return None;
    }
    Some(parts.into_iter().map(|p| field_toks(p, catalog_format)).collect())
}

fn field_toks(text: &str, catalog_format: bool) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.extend(glob::toks(rest.get(..i).unwrap_or_default()));
        let after = rest.get(i + 2..).unwrap_or_default();
        let Some(end) = after.find('}') else {
            rest = after;
            break;
        };
        // `${Account}` may be empty: resources AWS owns (public SSM documents, AMIs) have no
        // account in their ARNs.
        if catalog_format && !after.starts_with("Account}") {
            out.extend([Tok::One, Tok::Star]);
        } else {
            out.push(Tok::Star);
        }
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.extend(glob::toks(rest));
    out
}

/// Whether a policy resource can name a resource of the given ARN format (assumed when the
/// work budget is spent, so that no finding rests on a comparison not made).
fn fits(cx: &Ctx, resource: &[Vec<Tok>], format: &str) -> bool {
    let Some(format) = fields(format, true) else { return false };
    resource
        .iter()
        .zip(&format)
        .all(|(a, b)| !cx.afford(a.len(), b.len()) || glob::intersects(a, b))
}

/// Checks a resource against the resource types of the service its ARN names; returns whether
/// it fits one (or cannot be checked).
fn arn_of_service(
    cx: &Ctx,
    catalog: &dyn ServiceCatalog,
    r: &ResourcePattern,
    out: &mut Findings,
) -> bool {
    let Some(resource) = fields(&r.raw, false) else { return true };
    let parts: Vec<&str> = r.raw.splitn(6, ':').collect();
    let [_, _, service, region, account, rest] = parts.as_slice() else { return true };
    // Upper case and wildcards in the service are findings of their own.
    if service.contains(['*', '?', '$']) || service.bytes().any(|b| b.is_ascii_uppercase()) {
        return true;
    }
    let Some(info) = catalog.service(service) else { return true };
    let types = info.resource_types();
    if types.is_empty() || types.iter().any(|(_, f)| fits(cx, &resource, f)) {
        return true;
    }
    if !super::resource::known_field_problems(service, region, account, rest).is_empty() {
        // Reported without the catalog.
        return false;
    }
    let all = |field: usize, empty: bool| {
        types.iter().all(|(_, f)| f.split(':').nth(field).is_some_and(|x| x.is_empty() == empty))
    };
    let (code, why) = if !region.is_empty() && all(3, true) {
        ("ARN_REGION_NOT_ALLOWED", format!("`{service}` ARNs have an empty region field"))
    } else if region.is_empty() && all(3, false) {
        ("MISSING_ARN_REGION", format!("`{service}` ARNs need a region (or `*`)"))
    } else if !account.is_empty() && all(4, true) {
        ("ARN_ACCOUNT_NOT_ALLOWED", format!("`{service}` ARNs have an empty account field"))
    } else if account.is_empty() && all(4, false) {
        ("MISSING_ARN_ACCOUNT", format!("`{service}` ARNs need the account id (or `*`)"))
    } else {
        let mut names: Vec<&str> = types.iter().map(|(n, _)| *n).take(8).collect();
        if types.len() > names.len() {
            names.push("...");
        }
        (
            "INVALID_ARN_RESOURCE",
            format!("it fits none of the resource types of `{service}` ({})", names.join(", ")),
        )
    };
    out.emit(code, &r.location, format!("`{}`: {why}", r.raw));
    false
}

/// Checks a resource against the resource types the statement's actions act on.
fn fits_actions(
    cx: &Ctx,
    st: &Statement,
    r: &ResourcePattern,
    patterns: &[(&dyn ServiceInfo, Vec<&str>)],
    out: &mut Findings,
) {
    if r.raw == "*" {
        return;
    }
    let Some(resource) = fields(&r.raw, false) else { return };
    let mut formats: Vec<&str> = Vec::new();
    let mut any_action = false;
    for (service, names) in patterns {
        if names.len() > 512 {
            return;
        }
        let types = service.resource_types();
        for n in names {
            let Some(action) = service.action(n) else { continue };
            any_action = true;
            for t in action.resource_types {
                if let Some((_, f)) = types.iter().find(|(name, _)| name.eq_ignore_ascii_case(t)) {
                    formats.push(f);
                }
            }
        }
    }
    if !any_action || formats.iter().any(|f| fits(cx, &resource, f)) {
        return;
    }
    let message = if formats.is_empty() {
        format!(
            "the actions of {} do not support resource-level permissions, so `{}` matches \
             nothing: use `\"Resource\": \"*\"`",
            label(st),
            r.raw
        )
    } else {
        format!(
            "no action of {} acts on `{}`: it fits none of the resource types they act on",
            label(st),
            r.raw
        )
    };
    out.emit("RESOURCE_TYPE_MISMATCH", &r.location, message);
}

/// `aws:ResourceTag/...` conditions on actions of services that never supply the key.
fn tag_conditions(catalog: &dyn ServiceCatalog, st: &Statement, out: &mut Findings) {
    let Some(c) = st.conditions.iter().find(|c| c.key_lower.starts_with("aws:resourcetag/")) else {
        return;
    };
    if st.action.negated {
        return;
    }
    let mut unsupported: Vec<&str> = Vec::new();
    for a in &st.action.actions {
        if a.raw == "*"
            || a.service.contains(['*', '?'])
            || unsupported.contains(&a.service.as_str())
        {
            continue;
        }
        let Some(service) = catalog.service(&a.service) else { continue };
        let own = format!("{}:resourcetag/", a.service);
        let tag_key = |k: &&str| {
            let k = k.to_lowercase();
            k.starts_with(&own) || k.starts_with("aws:resourcetag/")
        };
        let supports = service.condition_keys().iter().any(tag_key)
            || service
                .action_names()
                .iter()
                .any(|n| service.action(n).is_some_and(|x| x.condition_keys.iter().any(tag_key)));
        if !supports {
            unsupported.push(&a.service);
        }
    }
    if unsupported.is_empty() {
        return;
    }
    let list = unsupported.join("`, `");
    if st.effect == Effect::Deny {
        out.emit(
            "DENY_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
            &c.key_location,
            format!(
                "`{list}` requests never carry `{}`, so {} never denies them: move those actions \
                 to a statement that does not depend on the tag",
                c.key,
                label(st)
            ),
        );
    } else {
        out.emit(
            "ALLOW_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
            &c.key_location,
            format!(
                "`{list}` requests never carry `{}`, so {} never allows them: move those actions \
                 to a statement that does not depend on the tag",
                c.key,
                label(st)
            ),
        );
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A tiny catalog for the tests.

    use super::*;

    pub(crate) struct Fake;

    pub(crate) struct Service {
        prefix: &'static str,
        actions: &'static [(&'static str, &'static [&'static str], &'static [&'static str])],
        types: &'static [(&'static str, &'static str)],
        keys: &'static [(&'static str, KeyKind, bool)],
    }

    const S3: Service = Service {
        prefix: "s3",
        actions: &[
            ("GetObject", &["object"], &["s3:ExistingObjectTag/${TagKey}"]),
            ("PutObject", &["object"], &[]),
            ("ListBucket", &["bucket"], &["s3:prefix"]),
            ("ListAllMyBuckets", &[], &[]),
        ],
        types: &[
            ("bucket", "arn:${Partition}:s3:::${BucketName}"),
            ("object", "arn:${Partition}:s3:::${BucketName}/${ObjectName}"),
            (
                "accesspoint",
                "arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}",
            ),
        ],
        keys: &[("s3:prefix", KeyKind::String, false), ("s3:max-keys", KeyKind::Numeric, false)],
    };

    const EC2: Service = Service {
        prefix: "ec2",
        actions: &[
            ("StartInstances", &["instance"], &["aws:ResourceTag/${TagKey}"]),
            ("DescribeInstances", &[], &[]),
        ],
        types: &[("instance", "arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}")],
        keys: &[],
    };

    const LEGACY: Service = Service {
        prefix: "legacy",
        actions: &[("DeleteThing", &["thing"], &[])],
        types: &[("thing", "arn:${Partition}:legacy:${Region}:${Account}:thing/${Name}")],
        keys: &[],
    };

    const SERVICES: &[Service] = &[S3, EC2, LEGACY];

    impl ServiceCatalog for Fake {
        fn service(&self, prefix: &str) -> Option<&dyn ServiceInfo> {
            SERVICES.iter().find(|s| s.prefix.eq_ignore_ascii_case(prefix)).map(|s| s as _)
        }

        fn condition_key(&self, key: &str) -> Option<(KeyKind, bool)> {
            SERVICES
                .iter()
                .flat_map(|s| s.keys.iter())
                .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, kind, multi)| (*kind, *multi))
        }
    }

    impl ServiceInfo for Service {
        fn action_names(&self) -> Vec<&str> {
            self.actions.iter().map(|(n, _, _)| *n).collect()
        }

        fn action(&self, name: &str) -> Option<ActionInfo<'_>> {
            self.actions.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)).map(|(_, t, k)| {
                ActionInfo { resource_types: t.to_vec(), condition_keys: k.to_vec() }
            })
        }

        fn resource_types(&self) -> Vec<(&str, &str)> {
            self.types.to_vec()
        }

        fn condition_keys(&self) -> Vec<&str> {
            self.keys.iter().map(|(k, _, _)| *k).collect()
        }
    }

    #[test]
    fn closest_names() {
        assert_eq!(closest("getobjects", &["GetObject", "PutObject"]), Some("GetObject"));
        assert_eq!(closest("frobnicate", &["GetObject", "PutObject"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
