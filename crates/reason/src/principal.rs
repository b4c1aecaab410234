//! Callers as formulas (decision 006, §4.2): the kinds of principal a resource-view question
//! ranges over, the shape of their ARNs, how a `Principal` element names them, and which
//! context keys AWS derives from them. One query per kind keeps the kind concrete; the rest of
//! the caller is one string variable `p` (for a role session, the role's ARN) and, for a
//! session, its name `s`. Callers are in the `aws` partition.

use crate::ir::{Formula, Re, Var};
use crate::solver::Model;
use policy::ast::{PrincipalEntry, PrincipalKind, PrincipalSet};
use policy::evaluate::account_of;
use policy::Policy;

/// The kinds of caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    User,
    AssumedRole,
    FederatedUser,
    Root,
    Service,
    WebIdentity,
    Anonymous,
}

impl Kind {
    /// Every kind a resource policy can face.
    pub const ALL: [Kind; 7] = [
        Kind::Anonymous,
        Kind::User,
        Kind::AssumedRole,
        Kind::Root,
        Kind::FederatedUser,
        Kind::Service,
        Kind::WebIdentity,
    ];

    /// Callers with an account and identity policies.
    pub fn is_iam(self) -> bool {
        matches!(self, Kind::User | Kind::AssumedRole | Kind::FederatedUser | Kind::Root)
    }

    /// How the caller's ARN (its role's, for a session) starts, up to its account.
    pub fn arn_prefix(self) -> Option<&'static str> {
        match self {
            Kind::User | Kind::AssumedRole | Kind::Root => Some("arn:aws:iam::"),
            Kind::FederatedUser => Some("arn:aws:sts::"),
            _ => None,
        }
    }

    /// The value of `aws:PrincipalType`.
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::AssumedRole => "AssumedRole",
            Kind::FederatedUser => "FederatedUser",
            Kind::Root => "Account",
            Kind::Service => "Service",
            Kind::WebIdentity => "WebIdentityUser",
            Kind::Anonymous => "Anonymous",
        }
    }
}

/// Every named entry of the policies' `Principal`/`NotPrincipal` elements.
pub fn entries<'a>(policies: &[&'a Policy]) -> impl Iterator<Item = &'a PrincipalEntry> + 'a {
    let statements: Vec<&'a policy::Statement> =
        policies.iter().flat_map(|p| p.statements.iter()).collect();
    statements.into_iter().flat_map(|s| match s.principal.as_ref().map(|c| &c.set) {
        Some(PrincipalSet::Named(entries)) => entries.iter(),
        _ => [].iter(),
    })
}

/// The values of the entries of `kind` that `keep` accepts, each once, in order.
pub fn named(
    policies: &[&Policy],
    kind: PrincipalKind,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in entries(policies) {
        if e.kind == kind && keep(&e.value) && !out.contains(&e.value) {
            out.push(e.value.clone());
        }
    }
    out
}

/// The 12-digit runs of a text (the account ids it may name).
pub fn account_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|run| run.len() == 12)
}

/// Twelve digits.
pub fn account_digits() -> Re {
    Re::Concat(vec![Re::Range('0', '9'); 12])
}

/// An IAM name: `[A-Za-z0-9+=,.@_-]+`.
pub fn name() -> Re {
    let c = Re::Union(vec![
        Re::Range('a', 'z'),
        Re::Range('A', 'Z'),
        Re::Range('0', '9'),
        Re::Lit("+".into()),
        Re::Lit("=".into()),
        Re::Lit(",".into()),
        Re::Lit(".".into()),
        Re::Lit("@".into()),
        Re::Lit("_".into()),
        Re::Lit("-".into()),
    ]);
    Re::Concat(vec![c.clone(), Re::Star(Box::new(c))])
}

/// How a derived key's value sits in the caller's variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrap {
    /// The whole variable.
    Whole,
    /// The account part of an ARN that starts with this text (`arn:aws:iam::`).
    Account(&'static str),
    /// The last `/`-separated part (a user's name after its path).
    LastSegment,
}

impl Wrap {
    /// The variable's values whose derived value is in `re`.
    pub fn apply(self, re: Re) -> Re {
        match self {
            Wrap::Whole => re,
            Wrap::Account(prefix) => Re::concat(vec![
                Re::Lit(prefix.into()),
                Re::inter(vec![re, account_digits()]),
                Re::Lit(":".into()),
                Re::all(),
            ]),
            Wrap::LastSegment => {
                Re::concat(vec![Re::all(), Re::Lit("/".into()), Re::inter(vec![re, name()])])
            }
        }
    }
}

/// The values the caller's variables take for `kind`; `services` are the service principals
/// the policies name (a fresh one is also possible).
pub fn shape(kind: Kind, p: Var, s: Var, services: &[String], providers: &[String]) -> Formula {
    let lit = |t: &str| Re::Lit(t.into());
    let re = match kind {
        Kind::User => Re::Concat(vec![
            lit("arn:aws:iam::"),
            account_digits(),
            lit(":user/"),
            Re::Star(Box::new(Re::Concat(vec![name(), lit("/")]))),
            name(),
        ]),
        Kind::AssumedRole => {
            Re::Concat(vec![lit("arn:aws:iam::"), account_digits(), lit(":role/"), name()])
        }
        Kind::FederatedUser => Re::Concat(vec![
            lit("arn:aws:sts::"),
            account_digits(),
            lit(":federated-user/"),
            name(),
        ]),
        Kind::Root => Re::Concat(vec![lit("arn:aws:iam::"), account_digits(), lit(":root")]),
        Kind::Service => {
            let mut options: Vec<Re> = services.iter().map(|s| lit(s)).collect();
            options.push(Re::Concat(vec![name(), lit(".amazonaws.com")]));
            Re::union(options)
        }
        Kind::WebIdentity => {
            // The well-known providers, the SAML and OIDC providers the policies name, and a
            // fresh one of each.
            let mut options: Vec<Re> =
                policy::request::WEB_IDENTITY_PROVIDERS.iter().map(|p| lit(p)).collect();
            options.extend(providers.iter().map(|p| lit(p)));
            for kind in [":saml-provider/", ":oidc-provider/"] {
                options.push(Re::Concat(vec![
                    lit("arn:aws:iam::"),
                    account_digits(),
                    lit(kind),
                    name(),
                ]));
            }
            Re::union(options)
        }
        Kind::Anonymous => Re::all(),
    };
    let mut parts = vec![Formula::In(p, re)];
    if kind == Kind::AssumedRole {
        parts.push(Formula::In(s, name()));
    }
    Formula::and(parts)
}

/// The caller's account is `account` (false for callers without one).
pub fn in_account(kind: Kind, p: Var, account: &str) -> Formula {
    match kind.arn_prefix() {
        Some(prefix) => Formula::In(p, Wrap::Account(prefix).apply(Re::Lit(account.into()))),
        None => Formula::False,
    }
}

/// How strongly one principal entry names a caller of `kind`: (direct, role, account), at
/// most one of them true, as `entry_names` in `policy::evaluate` decides.
pub fn entry(kind: Kind, p: Var, s: Var, entry: PrincipalKind, value: &str) -> [Formula; 3] {
    let none = || [Formula::False, Formula::False, Formula::False];
    match entry {
        PrincipalKind::Aws => {
            if value == "*" {
                return [Formula::True, Formula::False, Formula::False];
            }
            if kind == Kind::WebIdentity {
                // A SAML or OIDC provider has an account: an account entry names it (at account
                // level); its own ARN in an AWS entry does not (`entry_names`).
                return match account_of(value) {
                    Some(account) => [
                        Formula::False,
                        Formula::False,
                        Formula::In(
                            p,
                            Re::Concat(vec![
                                Re::Lit(format!("arn:aws:iam::{account}:")),
                                Re::all(),
                            ]),
                        ),
                    ],
                    None => none(),
                };
            }
            if matches!(kind, Kind::Service | Kind::Anonymous) {
                return none();
            }
            // The caller's own ARN.
            let direct = match kind {
                Kind::AssumedRole => session_arn(value)
                    .map(|(role, session)| {
                        Formula::and(vec![
                            Formula::In(p, Re::Lit(role)),
                            Formula::In(s, Re::Lit(session)),
                        ])
                    })
                    .unwrap_or(Formula::False),
                _ => Formula::In(p, Re::Lit(value.into())),
            };
            if let Some(account) = account_of(value) {
                let here = in_account(kind, p, account);
                return if kind == Kind::Root {
                    [Formula::or(vec![direct, here]), Formula::False, Formula::False]
                } else {
                    [direct, Formula::False, here]
                };
            }
            let role = match (kind, role_of(value)) {
                (Kind::AssumedRole, Some(role)) => Formula::In(p, Re::Lit(role)),
                _ => Formula::False,
            };
            // A value that is the caller's ARN is never also its role's.
            [direct.clone(), Formula::and(vec![direct.negate(), role]), Formula::False]
        }
        PrincipalKind::Service if kind == Kind::Service => {
            [Formula::In(p, Re::Lit(value.into())), Formula::False, Formula::False]
        }
        PrincipalKind::Federated if kind == Kind::WebIdentity => {
            [Formula::In(p, Re::Lit(value.into())), Formula::False, Formula::False]
        }
        _ => none(),
    }
}

/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` as (the role's ARN, the session name).
fn session_arn(value: &str) -> Option<(String, String)> {
    let rest = value.strip_prefix("arn:aws:sts::")?;
    let (account, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix("assumed-role/")?;
    let (role, session) = rest.split_once('/')?;
    Some((format!("arn:aws:iam::{account}:role/{role}"), session.to_string()))
}

/// The session-ARN form of a role a value names (`arn:aws:iam::A:role/path/NAME` →
/// `arn:aws:iam::A:role/NAME`), in the `aws` partition; the region part is ignored, as in
/// `same_role`.
fn role_of(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", "aws", "iam", _, account, resource] => {
            let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
            Some(format!("arn:aws:iam::{account}:role/{name}"))
        }
        _ => None,
    }
}

/// The caller's principal text in a model.
pub fn render(kind: Kind, model: &Model, p: Var, s: Var) -> String {
    match kind {
        Kind::Anonymous => "*".into(),
        Kind::AssumedRole => {
            let role = model.string(p);
            let (account, name) = role
                .strip_prefix("arn:aws:iam::")
                .and_then(|r| r.split_once(":role/"))
                .unwrap_or(("", ""));
            format!("arn:aws:sts::{account}:assumed-role/{name}/{}", model.string(s))
        }
        _ => model.string(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_the_evaluator_reads_them() {
        assert_eq!(
            role_of("arn:aws:iam::111122223333:role/path/admin"),
            Some("arn:aws:iam::111122223333:role/admin".into())
        );
        assert_eq!(
            session_arn("arn:aws:sts::111122223333:assumed-role/admin/s1"),
            Some(("arn:aws:iam::111122223333:role/admin".into(), "s1".into()))
        );
    }
}
