//! The request being authorized: who (a principal derived from its ARN), what (action), on what
//! (resource and the account that owns it), and the request context (condition keys).

use crate::fasthash::FastMap as HashMap;
use crate::pattern::Variables;
use std::fmt;

/// The value of one context key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextValue {
    /// The values (one for single-valued keys).
    pub values: Vec<String>,
    /// Whether the key was given as a set (multivalued keys cannot be policy variables).
    pub multi: bool,
}

/// The request context: condition keys (case-insensitive) and their values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    entries: HashMap<String, ContextValue>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.entries
            .insert(key.to_lowercase(), ContextValue { values: vec![value.into()], multi: false });
    }

    /// Sets a multivalued key.
    pub fn set_multi(&mut self, key: &str, values: Vec<String>) {
        self.entries.insert(key.to_lowercase(), ContextValue { values, multi: true });
    }

    /// Sets a key unless it is already present.
    fn set_default(&mut self, key: &str, value: impl Into<String>) {
        let lower = key.to_lowercase();
        self.entries
            .entry(lower)
            .or_insert_with(|| ContextValue { values: vec![value.into()], multi: false });
    }

    /// The value of a key, by its lowercased name.
    pub fn get(&self, key_lower: &str) -> Option<&ContextValue> {
        self.entries.get(key_lower)
    }

    /// Every key (lowercased) and value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl Variables for Context {
    fn variable(&self, key_lower: &str) -> Option<&str> {
        match self.entries.get(key_lower) {
            Some(ContextValue { values, multi: false }) if values.len() == 1 => {
                values.first().map(String::as_str)
            }
            _ => None,
        }
    }
}

/// The kinds of principal a request can come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    /// An IAM user (`arn:aws:iam::A:user/NAME`).
    User,
    /// An IAM role acting directly (`arn:aws:iam::A:role/NAME`); rare, sessions are the norm.
    Role,
    /// A role session (`arn:aws:sts::A:assumed-role/ROLE/SESSION`).
    AssumedRole,
    /// A federated user session from GetFederationToken (`arn:aws:sts::A:federated-user/NAME`).
    FederatedUser,
    /// The account root user (`arn:aws:iam::A:root`).
    Root,
    /// An AWS service principal (`s3.amazonaws.com`).
    Service,
    /// A web-identity or SAML identity provider, before a role is assumed.
    WebIdentity,
    /// An unauthenticated caller.
    Anonymous,
}

/// Hosts of well-known web identity providers (named in `Federated` principals).
pub const WEB_IDENTITY_PROVIDERS: &[&str] = &[
    "cognito-identity.amazonaws.com",
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
];

/// Who makes the request, with every identity the principal can be named by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// What kind of principal.
    pub kind: PrincipalType,
    /// The ARN (or service / provider name, or `*` for anonymous) as given.
    pub arn: String,
    /// The AWS partition (`aws` for non-ARN principals).
    pub partition: String,
    /// The 12-digit account, for IAM principals.
    pub account: Option<String>,
    /// For a role session, the role's ARN (without path, as the session ARN does not carry it).
    pub role_arn: Option<String>,
    /// The user, role or session name where there is one.
    pub name: Option<String>,
}

/// Why a principal string is not usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a principal: expected an IAM user, role, session, root, federated user ARN, a service or identity provider name, or `*` for anonymous")]
pub struct PrincipalError(pub String);

impl Principal {
    /// Derives the principal type from its ARN or name.
    pub fn parse(text: &str) -> Result<Principal, PrincipalError> {
        let bad = || PrincipalError(text.to_string());
        if text == "*" || text.eq_ignore_ascii_case("anonymous") {
            return Ok(Principal::simple(PrincipalType::Anonymous, text, None));
        }
        if WEB_IDENTITY_PROVIDERS.contains(&text) {
            return Ok(Principal::simple(PrincipalType::WebIdentity, text, None));
        }
        if !text.starts_with("arn:") {
            let service_like =
                text.ends_with(".amazonaws.com") || text.ends_with(".amazonaws.com.cn");
            if service_like && !text.contains(char::is_whitespace) && !text.contains(':') {
                return Ok(Principal::simple(PrincipalType::Service, text, None));
            }
            return Err(bad());
        }
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let [_, partition, service, _region, account, resource] = parts.as_slice() else {
            return Err(bad());
        };
        if partition.is_empty()
            || account.len() != 12
            || !account.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let account = Some((*account).to_string());
        let mk = |kind, name: Option<&str>, role_arn: Option<String>| Principal {
            kind,
            arn: text.to_string(),
            partition: (*partition).to_string(),
            account: account.clone(),
            role_arn,
            name: name.map(str::to_string),
        };
        match (*service, *resource) {
            ("iam", "root") => Ok(mk(PrincipalType::Root, None, None)),
            ("iam", r) if r.starts_with("user/") => {
                Ok(mk(PrincipalType::User, r.rsplit('/').next().filter(|n| !n.is_empty()), None))
            }
            ("iam", r) if r.starts_with("role/") => {
                Ok(mk(PrincipalType::Role, r.rsplit('/').next().filter(|n| !n.is_empty()), None))
            }
            ("iam", r) if r.starts_with("saml-provider/") || r.starts_with("oidc-provider/") => {
                Ok(mk(PrincipalType::WebIdentity, None, None))
            }
            ("sts", r) if r.starts_with("assumed-role/") => {
                let mut it = r.splitn(3, '/').skip(1);
                match (it.next(), it.next()) {
                    (Some(role), Some(session)) if !role.is_empty() && !session.is_empty() => {
                        let role_arn = format!(
                            "arn:{partition}:iam::{}:role/{role}",
                            account.as_deref().unwrap_or("")
                        );
                        Ok(mk(PrincipalType::AssumedRole, Some(session), Some(role_arn)))
                    }
                    _ => Err(bad()),
                }
            }
            ("sts", r) if r.starts_with("federated-user/") => {
                let name = r.get("federated-user/".len()..).filter(|n| !n.is_empty());
                name.map(|n| mk(PrincipalType::FederatedUser, Some(n), None)).ok_or_else(bad)
            }
            _ => Err(bad()),
        }
    }

    fn simple(kind: PrincipalType, text: &str, account: Option<String>) -> Principal {
        Principal {
            kind,
            arn: text.to_string(),
            partition: "aws".into(),
            account,
            role_arn: None,
            name: None,
        }
    }

    /// The account root ARN of the principal's account.
    pub fn account_root_arn(&self) -> Option<String> {
        self.account.as_ref().map(|a| format!("arn:{}:iam::{a}:root", self.partition))
    }

    /// The value of `aws:PrincipalType`.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            PrincipalType::User => "User",
            PrincipalType::Role | PrincipalType::AssumedRole => "AssumedRole",
            PrincipalType::FederatedUser => "FederatedUser",
            PrincipalType::Root => "Account",
            PrincipalType::Service => "Service",
            PrincipalType::WebIdentity => "WebIdentityUser",
            PrincipalType::Anonymous => "Anonymous",
        }
    }

    /// Whether identity-based policies can exist for this principal.
    pub fn has_identity_policies(&self) -> bool {
        matches!(
            self.kind,
            PrincipalType::User
                | PrincipalType::Role
                | PrincipalType::AssumedRole
                | PrincipalType::FederatedUser
                | PrincipalType::Root
        )
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// The 12-digit account part of an ARN (its fifth `:`-separated part), if it has one.
pub fn account_in_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

/// A request to authorize.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Who.
    pub principal: Principal,
    /// The action as given (`s3:GetObject`).
    pub action: String,
    /// The action lowercased, for case-insensitive matching.
    pub action_lower: String,
    /// The action's service in the policy indexes' service masks.
    pub service_bit: u64,
    /// The resource ARN (or `*` for actions without a resource).
    pub resource: String,
    /// The account that owns the resource.
    pub resource_account: Option<String>,
    /// The request context, including the keys derived from the request.
    pub context: Context,
}

impl Request {
    /// Builds a request and adds the context keys AWS derives from it (`aws:PrincipalArn`,
    /// `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:username`, `aws:userid`,
    /// `aws:ResourceAccount`, `aws:PrincipalIsAWSService`, `aws:PrincipalServiceName`), unless the
    /// given context already has them. The resource account defaults to the account in the
    /// resource ARN, then to the principal's account.
    pub fn new(
        principal: Principal,
        action: &str,
        resource: &str,
        resource_account: Option<&str>,
        mut context: Context,
    ) -> Request {
        let resource_account = resource_account
            .or_else(|| account_in_arn(resource))
            .map(str::to_string)
            .or_else(|| principal.account.clone());
        match principal.kind {
            PrincipalType::Service => {
                context.set_default("aws:PrincipalIsAWSService", "true");
                context.set_default("aws:PrincipalServiceName", principal.arn.clone());
            }
            PrincipalType::Anonymous => {
                context.set_default("aws:PrincipalType", "Anonymous");
            }
            _ => {
                context.set_default("aws:PrincipalIsAWSService", "false");
                // For a role session, aws:PrincipalArn is the role's ARN, not the session's.
                let principal_arn =
                    principal.role_arn.clone().unwrap_or_else(|| principal.arn.clone());
                context.set_default("aws:PrincipalArn", principal_arn);
                context.set_default("aws:PrincipalType", principal.type_name());
                if let Some(account) = &principal.account {
                    context.set_default("aws:PrincipalAccount", account.clone());
                }
                match (principal.kind, &principal.name, &principal.account) {
                    (PrincipalType::User, Some(name), _) => {
                        context.set_default("aws:username", name.clone());
                    }
                    (PrincipalType::Root, _, Some(account)) => {
                        context.set_default("aws:userid", account.clone());
                    }
                    (PrincipalType::FederatedUser, Some(name), Some(account)) => {
                        context.set_default("aws:userid", format!("{account}:{name}"));
                    }
                    _ => {}
                }
            }
        }
        if let Some(account) = &resource_account {
            context.set_default("aws:ResourceAccount", account.clone());
        }
        let action_lower = action.to_lowercase();
        Request {
            service_bit: crate::index::service_bit(
                action_lower.split(':').next().unwrap_or_default(),
            ),
            action_lower,
            action: action.to_string(),
            resource: resource.to_string(),
            resource_account,
            principal,
            context,
        }
    }

    /// The service prefix of the action, lowercased (`s3`).
    pub fn service(&self) -> &str {
        self.action_lower.split(':').next().unwrap_or_default()
    }

    /// Whether the principal and the resource are in different accounts.
    pub fn is_cross_account(&self) -> bool {
        match (&self.principal.account, &self.resource_account) {
            (Some(p), Some(r)) => p != r,
            _ => true,
        }
    }
}
