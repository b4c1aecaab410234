//! `Principal` and `NotPrincipal`: where they are allowed, the form of every value, and grants to
//! everyone.

use super::keys;
use super::resource::{is_account_id, is_partition};
use super::{label, Ctx, Findings, PolicyKind};
use crate::ast::{Effect, PrincipalEntry, PrincipalKind, PrincipalSet, Statement};
use crate::condition::OpKind;

/// Web identity providers that are named by host rather than by provider ARN.
const WEB_IDENTITY_HOSTS: &[&str] = &[
    "cognito-identity.amazonaws.com",
    "www.amazon.com",
    "graph.facebook.com",
    "accounts.google.com",
];

/// Every principal check of one statement.
pub(crate) fn check(cx: &Ctx, st: &Statement, out: &mut Findings) {
    let Some(p) = &st.principal else {
        if matches!(cx.kind, PolicyKind::Resource | PolicyKind::Trust | PolicyKind::ResourceControl)
        {
            out.emit(
                "MISSING_PRINCIPAL",
                &st.location,
                format!(
                    "{} has no `Principal`; {} must name who the statement applies to",
                    label(st),
                    cx.kind.describe()
                ),
            );
        }
        return;
    };
    let element = if p.negated { "NotPrincipal" } else { "Principal" };
    match cx.kind {
        PolicyKind::Identity | PolicyKind::PermissionsBoundary => {
            out.emit(
                "UNSUPPORTED_PRINCIPAL",
                &p.location,
                format!(
                    "{} cannot have `{element}`: they apply to the identity they are attached to",
                    cx.kind.describe()
                ),
            );
            return;
        }
        PolicyKind::ServiceControl => {
            out.emit(
                "SCP_SYNTAX_ERROR_PRINCIPAL",
                &p.location,
                format!(
                    "service control policies cannot have `{element}`: to limit who a statement \
                     applies to, use a condition on `aws:PrincipalArn`"
                ),
            );
            return;
        }
        PolicyKind::ResourceControl => {
            if p.negated {
                out.emit(
                    "RCP_UNSUPPORTED_ELEMENT",
                    &p.location,
                    "resource control policies cannot have `NotPrincipal`: use `\"Principal\": \
                     \"*\"` and a condition on `aws:PrincipalArn`"
                        .into(),
                );
            } else if p.set != PrincipalSet::Any {
                out.emit(
                    "RCP_PRINCIPAL_NOT_STAR",
                    &p.location,
                    "the `Principal` of a resource control policy must be `\"*\"`: narrow it with \
                     conditions such as `aws:PrincipalAccount`"
                        .into(),
                );
            }
            return;
        }
        PolicyKind::Resource | PolicyKind::Trust => {}
    }
    if p.negated {
        if cx.kind == PolicyKind::Trust {
            out.emit(
                "UNSUPPORTED_NOT_PRINCIPAL",
                &p.location,
                "role trust policies cannot have `NotPrincipal`: name the principals that may \
                 assume the role in `Principal`"
                    .into(),
            );
        } else if st.effect == Effect::Allow {
            out.emit(
                "ALLOW_WITH_NOT_PRINCIPAL",
                &p.location,
                format!(
                    "`Allow` with `NotPrincipal` grants access to every principal not listed, \
                     anonymous callers included: name the principals in `Principal` ({})",
                    label(st)
                ),
            );
        } else {
            out.emit(
                "AVOID_NOT_PRINCIPAL",
                &p.location,
                "`NotPrincipal` is hard to get right (it must list every session and account \
                 ARN involved): prefer `\"Principal\": \"*\"` with a condition on \
                 `aws:PrincipalArn`"
                    .into(),
            );
        }
    }
    if let PrincipalSet::Named(entries) = &p.set {
        for e in entries {
            entry(e, out);
        }
    }
    if !p.negated && st.effect == Effect::Allow {
        public(cx, st, out);
    }
}

/// Whether the statement names everyone: `"*"` or `{"AWS": "*"}`.
pub(crate) fn is_public(st: &Statement) -> bool {
    match st.principal.as_ref().map(|p| (p.negated, &p.set)) {
        Some((false, PrincipalSet::Any)) => true,
        Some((false, PrincipalSet::Named(entries))) => {
            entries.iter().any(|e| e.kind == PrincipalKind::Aws && e.value == "*")
        }
        _ => false,
    }
}

fn public(cx: &Ctx, st: &Statement, out: &mut Findings) {
    if !is_public(st) {
        return;
    }
    let Some(p) = &st.principal else { return };
    let what = if cx.kind == PolicyKind::Trust {
        "anyone, in any AWS account, can assume this role"
    } else {
        "anyone, anonymous callers included, gets the access this statement allows"
    };
    if st.conditions.is_empty() {
        out.emit(
            "PUBLIC_PRINCIPAL",
            &p.location,
            format!(
                "{} allows every principal (`*`) without a condition: {what}; name the principals \
                 or add a condition such as `aws:PrincipalOrgID` or `aws:SourceAccount`",
                label(st)
            ),
        );
        return;
    }
    let restricted = st.conditions.iter().any(|c| {
        !c.operator.if_exists
            && !c.operator.kind.is_negated()
            && c.operator.kind != OpKind::Null
            && identifies_caller(&c.key_lower)
    });
    if !restricted {
        out.emit(
            "PUBLIC_PRINCIPAL_UNRESTRICTED_CONDITION",
            &p.location,
            format!(
                "{} allows every principal (`*`) and its conditions do not limit who the caller \
                 is: {what}; add a condition such as `aws:PrincipalOrgID`, `aws:PrincipalAccount` \
                 or `aws:SourceArn`",
                label(st)
            ),
        );
    }
}

/// Whether a positive condition on the key narrows who the caller can be.
fn identifies_caller(key_lower: &str) -> bool {
    const SERVICE_KEYS: &[&str] = &[
        "kms:calleraccount",
        "sts:externalid",
        "s3:dataaccesspointaccount",
        "s3:dataaccesspointarn",
    ];
    if let Some(k) = keys::global(key_lower) {
        return k.identifies_caller;
    }
    let prefix = key_lower.split_once(':').map_or("", |(p, _)| p);
    SERVICE_KEYS.contains(&key_lower) || prefix.contains('.') || prefix == "saml"
}

fn entry(e: &PrincipalEntry, out: &mut Findings) {
    let v = e.value.as_str();
    if v.contains("${") {
        // Reported by the JSON-level check.
        return;
    }
    let wildcard = v.contains(['*', '?']);
    if wildcard && !(e.kind == PrincipalKind::Aws && v == "*") {
        out.emit(
            "UNSUPPORTED_WILDCARD_IN_PRINCIPAL",
            &e.location,
            format!(
                "`{v}`: `{}` principals cannot contain wildcards; name the principal exactly, or \
                 use `\"*\"` with a condition such as `aws:PrincipalArn` and `ArnLike`",
                e.kind.as_str()
            ),
        );
        return;
    }
    match e.kind {
        PrincipalKind::Aws => aws_principal(e, out),
        PrincipalKind::Service => {
            if !is_service_principal(v) {
                out.emit(
                    "INVALID_SERVICE_PRINCIPAL_FORMAT",
                    &e.location,
                    format!(
                        "`{v}` is not a service principal: use the service's name such as \
                         `ec2.amazonaws.com`"
                    ),
                );
            }
        }
        PrincipalKind::Federated => {
            if provider_arn(v).is_none() && !WEB_IDENTITY_HOSTS.contains(&v) {
                out.emit(
                    "INVALID_FEDERATED_PRINCIPAL",
                    &e.location,
                    format!(
                        "`{v}` is not an identity provider: use a SAML or OIDC provider ARN \
                         (`arn:aws:iam::111122223333:oidc-provider/...`) or a web identity \
                         provider such as `cognito-identity.amazonaws.com`"
                    ),
                );
            }
        }
        PrincipalKind::CanonicalUser => {
            if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                out.emit(
                    "INVALID_PRINCIPAL_FORMAT",
                    &e.location,
                    format!("`{v}` is not a canonical user id (64 hexadecimal digits)"),
                );
            }
        }
    }
}

fn aws_principal(e: &PrincipalEntry, out: &mut Findings) {
    let v = e.value.as_str();
    if v == "*" || is_account_id(v) {
        return;
    }
    if v.len() == 21 && v.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        let (code, what) = match v.get(..4) {
            Some("AROA") => ("INVALID_ROLE_REFERENCE", "role"),
            Some("AIDA") => ("INVALID_USER_REFERENCE", "user"),
            _ => ("", ""),
        };
        if !code.is_empty() {
            out.emit(
                code,
                &e.location,
                format!(
                    "`{v}` is the unique id of an IAM {what}: use the {what}'s ARN, which keeps \
                     its meaning if the {what} is deleted and created again"
                ),
            );
            return;
        }
    }
    if let Some(problem) = aws_arn_problem(v) {
        out.emit(
            "INVALID_PRINCIPAL_FORMAT",
            &e.location,
            format!(
                "`{v}` is not a valid `AWS` principal: {problem}; use `*`, a 12-digit account id, \
                 or the ARN of an account root, user, role, assumed-role session or federated \
                 user"
            ),
        );
    }
}

/// Why an `AWS` principal ARN is malformed, if it is.
fn aws_arn_problem(v: &str) -> Option<&'static str> {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return Some("it is neither an account id nor an ARN");
    };
    if *arn != "arn" {
        return Some("it is neither an account id nor an ARN");
    }
    if !is_partition(partition) {
        return Some("the ARN's partition does not exist");
    }
    if !region.is_empty() {
        return Some("IAM and STS principal ARNs have no region");
    }
    if !is_account_id(account) {
        return Some("the ARN's account is not a 12-digit account id");
    }
    let (kind, rest) = resource.split_once('/').unwrap_or((resource, ""));
    let ok = match (*service, kind) {
        ("iam", "root") => rest.is_empty(),
        ("iam", "user" | "role") => !rest.is_empty(),
        ("iam", "group") => return Some("groups cannot be principals"),
        ("iam", "saml-provider" | "oidc-provider") => {
            return Some("identity providers go under `Federated`, not `AWS`")
        }
        ("sts", "assumed-role") => {
            rest.split_once('/').is_some_and(|(r, s)| !r.is_empty() && !s.is_empty())
        }
        ("sts", "federated-user") => !rest.is_empty(),
        ("iam" | "sts", _) => false,
        _ => return Some("only IAM and STS ARNs name principals"),
    };
    (!ok).then_some("the ARN does not name a principal")
}

/// A SAML or OIDC provider ARN: `(kind, name)`.
pub(crate) fn provider_arn(v: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return None;
    };
    if *arn != "arn" || !is_partition(partition) || *service != "iam" || !region.is_empty() {
        return None;
    }
    if !is_account_id(account) {
        return None;
    }
    let (kind, name) = resource.split_once('/')?;
    (matches!(kind, "saml-provider" | "oidc-provider") && !name.is_empty()).then_some((kind, name))
}

/// Whether a `Federated` principal is a web identity (OIDC) provider: its host, or `None` for
/// SAML and unrecognised values.
pub(crate) fn oidc_host(v: &str) -> Option<&str> {
    if WEB_IDENTITY_HOSTS.contains(&v) {
        return Some(v);
    }
    match provider_arn(v) {
        Some(("oidc-provider", host)) => Some(host),
        _ => None,
    }
}

fn is_service_principal(v: &str) -> bool {
    const SUFFIXES: &[&str] =
        &[".amazonaws.com", ".amazonaws.com.cn", ".amazon.com", ".c2s.ic.gov", ".sc2s.sgov.gov"];
    let Some(name) = SUFFIXES.iter().find_map(|s| v.strip_suffix(s)) else { return false };
    !name.is_empty()
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}
