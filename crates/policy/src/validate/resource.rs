//! `Resource` and `NotResource`: the shape of every ARN (fields, partition, region, account),
//! resources of a service the statement's actions do not act on, and redundant entries.

use super::glob;
use super::{label, Ctx, Findings};
use crate::ast::{ResourcePattern, Statement};

/// Partitions that exist.
const PARTITIONS: &[&str] =
    &["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];

/// `(action service, ARN service)` pairs where one service's actions act on another's resources.
const CROSS_SERVICE: &[(&str, &str)] = &[
    ("sts", "iam"),
    ("ssm", "ec2"),
    ("ec2-instance-connect", "ec2"),
    ("ssm-guiconnect", "ec2"),
    ("rds-data", "rds"),
    ("redshift-data", "redshift"),
    ("redshift-data", "redshift-serverless"),
    ("servicecatalog", "catalog"),
    ("codestar-connections", "codeconnections"),
    ("codeconnections", "codestar-connections"),
    ("s3-object-lambda", "s3"),
    ("kafka-cluster", "kafka"),
];

/// S3 resource kinds whose ARNs carry a region and account (buckets and objects carry neither).
const S3_REGIONAL: &[&str] =
    &["accesspoint", "job", "storage-lens", "storage-lens-group", "async-request", "access-grants"];

/// Whether actions of `action_service` can act on resources (or use condition keys) of
/// `other`.
pub(crate) fn related(action_service: &str, other: &str) -> bool {
    action_service == other
        || CROSS_SERVICE.iter().any(|(x, y)| *x == action_service && *y == other)
}

/// Whether `p` is a partition.
pub(crate) fn is_partition(p: &str) -> bool {
    PARTITIONS.contains(&p)
}

/// Whether `s` is a 12-digit account id.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` has the shape of a region name (`us-east-1`, `us-gov-west-1`, `eusc-de-east-1`).
pub(crate) fn is_region(s: &str) -> bool {
    let mut parts = s.split('-');
    let Some(first) = parts.next() else { return false };
    let rest: Vec<&str> = parts.collect();
    let Some((last, middle)) = rest.split_last() else { return false };
    (2..=4).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !middle.is_empty()
        && middle.iter().all(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// Whether an ARN field is a pattern rather than literal text.
fn is_pattern(field: &str) -> bool {
    field.contains(['*', '?']) || field.contains("${")
}

/// Every resource check of one statement.
pub(crate) fn check(cx: &Ctx, st: &Statement, out: &mut Findings) {
    let Some(clause) = &st.resource else { return };
    for r in &clause.resources {
        arn(r, out);
    }
    if !clause.negated {
        for r in &clause.resources {
            service_mismatch(cx, st, r, out);
        }
    }
    redundant(cx, &clause.resources, out);
}

fn arn(r: &ResourcePattern, out: &mut Findings) {
    let raw = r.raw.as_str();
    if raw == "*" {
        return;
    }
    let parts: Vec<&str> = raw.splitn(6, ':').collect();
    let [_, partition, service, region, account, resource] = parts.as_slice() else {
        out.emit(
            "MISSING_ARN_FIELD",
            &r.location,
            format!(
                "`{raw}` has {} of the six fields of an ARN \
                 (`arn:partition:service:region:account:resource`)",
                parts.len()
            ),
        );
        return;
    };
    let missing = |field: &str| format!("`{raw}` has an empty {field} field");
    if !is_pattern(partition) && !is_partition(partition) {
        out.emit(
            "INVALID_PARTITION",
            &r.location,
            format!(
                "`{raw}`: `{partition}` is not a partition; use `aws`, `aws-cn` or `aws-us-gov` \
                 (or another partition that exists)"
            ),
        );
    }
    if service.is_empty() {
        out.emit("MISSING_ARN_FIELD", &r.location, missing("service"));
    } else if service.bytes().any(|b| b.is_ascii_uppercase()) {
        out.emit(
            "INVALID_ARN_SERVICE_CASE",
            &r.location,
            format!("`{raw}`: the service `{service}` must be written in lowercase"),
        );
    } else if service.contains(['*', '?']) {
        out.emit(
            "WILDCARD_IN_SERVICE_NAME",
            &r.location,
            format!(
                "`{raw}` has a wildcard in its service, which can match services you did not \
                 mean, including future ones"
            ),
        );
    }
    if !region.is_empty() && !is_pattern(region) && !is_region(region) {
        out.emit(
            "INVALID_ARN_REGION",
            &r.location,
            format!("`{raw}`: `{region}` is not a region name such as `us-east-1`"),
        );
    }
    if !account.is_empty() && !is_pattern(account) && !is_account_id(account) && *account != "aws" {
        out.emit(
            "INVALID_ARN_ACCOUNT",
            &r.location,
            format!("`{raw}`: `{account}` is not a 12-digit account id"),
        );
    }
    if resource.is_empty() {
        out.emit("MISSING_ARN_FIELD", &r.location, missing("resource"));
    }
    for (code, why) in known_field_problems(service, region, account, resource) {
        out.emit(code, &r.location, format!("`{raw}`: {why}"));
    }
}

/// Region and account problems of IAM and S3 ARNs, which are known without the catalog.
pub(crate) fn known_field_problems(
    service: &str,
    region: &str,
    account: &str,
    resource: &str,
) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    match service {
        "iam" => {
            if !region.is_empty() {
                out.push((
                    "ARN_REGION_NOT_ALLOWED",
                    "IAM is global, its ARNs have an empty region field",
                ));
            }
            if account.is_empty() {
                out.push(("MISSING_ARN_ACCOUNT", "IAM ARNs need the account id (or `*`)"));
            }
        }
        "s3" => {
            let kind = resource.split('/').next().unwrap_or_default();
            if !S3_REGIONAL.contains(&kind) && !resource.starts_with('*') {
                if !region.is_empty() && region != "*" {
                    out.push((
                        "ARN_REGION_NOT_ALLOWED",
                        "S3 bucket and object ARNs have an empty region field",
                    ));
                }
                if !account.is_empty() && account != "*" {
                    out.push((
                        "ARN_ACCOUNT_NOT_ALLOWED",
                        "S3 bucket and object ARNs have an empty account field (bucket names are \
                         global); to limit the owner, use the `aws:ResourceAccount` condition key",
                    ));
                }
            }
        }
        _ => {}
    }
    out
}

/// A resource of a service none of the statement's actions belongs to (without the service
/// catalog, so only literal service prefixes are compared).
fn service_mismatch(cx: &Ctx, st: &Statement, r: &ResourcePattern, out: &mut Findings) {
    if cx.catalog.is_some() || st.action.negated {
        return;
    }
    let Some(service) = r.raw.split(':').nth(2) else { return };
    if service.is_empty() || is_pattern(service) || r.raw.splitn(6, ':').count() < 6 {
        return;
    }
    let service = service.to_ascii_lowercase();
    let actions = &st.action.actions;
    if actions.is_empty() || actions.iter().any(|a| a.service.contains(['*', '?'])) {
        return;
    }
    if actions.iter().any(|a| related(&a.service, &service)) {
        return;
    }
    let mut services: Vec<&str> = actions.iter().map(|a| a.service.as_str()).collect();
    services.dedup();
    out.emit(
        "RESOURCE_SERVICE_MISMATCH",
        &r.location,
        format!(
            "`{}` is a resource of `{service}`, but {} only has actions of `{}`: the resource \
             matches none of them",
            r.raw,
            label(st),
            services.join("`, `")
        ),
    );
}

/// Entries already covered by another entry of the same element.
fn redundant(cx: &Ctx, resources: &[ResourcePattern], out: &mut Findings) {
    if resources.len() > super::redundancy::MAX_ENTRIES {
        return;
    }
    for (i, a) in resources.iter().enumerate() {
        let by = resources.iter().enumerate().find(|(j, b)| {
            *j != i && {
                let same = a.raw == b.raw;
                // Of two identical entries, the later one is reported.
                (same && *j < i) || (!same && covers(cx, b, a))
            }
        });
        if let Some((_, b)) = by {
            out.emit(
                "REDUNDANT_RESOURCE",
                &a.location,
                format!("`{}` is already covered by `{}`: remove it", a.raw, b.raw),
            );
        }
    }
}

fn covers(cx: &Ctx, b: &ResourcePattern, a: &ResourcePattern) -> bool {
    match (b.template.fixed(), a.template.fixed()) {
        (Some(gb), Some(ga)) => {
            cx.afford(gb.toks().len(), ga.toks().len())
                && glob::covers(gb.toks(), ga.toks(), gb.is_match_all())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for r in ["us-east-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1", "us-isob-east-1"] {
            assert!(is_region(r), "{r}");
        }
        for r in ["us-east", "useast1", "US-EAST-1", "us--1", "-east-1", "u-east-1"] {
            assert!(!is_region(r), "{r}");
        }
    }
}
