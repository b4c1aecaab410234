//! The global condition keys (`aws:*` and the few service keys AWS documents as global), with
//! their types and the facts the validator needs about them: whether they are multivalued,
//! whether every request carries them, whether they name the caller.
//!
//! Source: IAM User Guide, "AWS global condition context keys". Service-specific keys come from
//! the service catalog instead.

/// The type of a condition key's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// Text.
    String,
    /// An ARN (String operators work too).
    Arn,
    /// A number.
    Numeric,
    /// A date (`aws:EpochTime` also accepts Numeric operators).
    Date,
    /// `true` / `false`.
    Bool,
    /// An IP address.
    Ip,
    /// Base64 bytes.
    Binary,
    /// A type the validator does not check operators against.
    Any,
}

impl KeyKind {
    /// The operator family to suggest for the key type.
    pub(crate) fn operators(self) -> &'static str {
        match self {
            KeyKind::String => "a String operator (`StringEquals`, `StringLike`, ...)",
            KeyKind::Arn => "an ARN operator (`ArnEquals`, `ArnLike`, ...) or a String operator",
            KeyKind::Numeric => "a Numeric operator (`NumericEquals`, `NumericLessThan`, ...)",
            KeyKind::Date => "a Date operator (`DateGreaterThan`, `DateLessThan`, ...)",
            KeyKind::Bool => "the `Bool` operator",
            KeyKind::Ip => "`IpAddress` or `NotIpAddress`",
            KeyKind::Binary => "`BinaryEquals`",
            KeyKind::Any => "any operator",
        }
    }

    /// The type's name in the service authorization reference.
    pub(crate) fn name(self) -> &'static str {
        match self {
            KeyKind::String => "String",
            KeyKind::Arn => "ARN",
            KeyKind::Numeric => "Numeric",
            KeyKind::Date => "Date",
            KeyKind::Bool => "Bool",
            KeyKind::Ip => "IPAddress",
            KeyKind::Binary => "Binary",
            KeyKind::Any => "Other",
        }
    }
}

/// Which requests carry a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Presence {
    /// Some requests.
    Sometimes,
    /// Every signed (non-anonymous) request.
    Signed,
    /// Every request.
    Always,
}

/// What the validator knows about one condition key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyInfo {
    /// The key's canonical spelling (for tag keys, the prefix up to and including `/`).
    pub(crate) name: &'static str,
    /// The value type.
    pub(crate) kind: KeyKind,
    /// Whether the key can carry several values (an `ArrayOf...` key).
    pub(crate) multi: bool,
    /// Which requests carry the key.
    pub(crate) presence: Presence,
    /// Whether a positive condition on the key narrows *who* can make the request (used to tell
    /// a public grant from one limited to some callers).
    pub(crate) identifies_caller: bool,
}

const fn key(name: &'static str, kind: KeyKind) -> KeyInfo {
    KeyInfo { name, kind, multi: false, presence: Presence::Sometimes, identifies_caller: false }
}

const fn multi(k: KeyInfo) -> KeyInfo {
    KeyInfo { multi: true, ..k }
}

const fn always(k: KeyInfo) -> KeyInfo {
    KeyInfo { presence: Presence::Always, ..k }
}

const fn signed(k: KeyInfo) -> KeyInfo {
    KeyInfo { presence: Presence::Signed, ..k }
}

const fn caller(k: KeyInfo) -> KeyInfo {
    KeyInfo { identifies_caller: true, ..k }
}

use KeyKind::{Arn, Bool, Date, Ip, Numeric, String as Str};

/// Keys matched by their whole (lowercased) name.
const KEYS: &[KeyInfo] = &[
    signed(caller(key("aws:PrincipalArn", Arn))),
    signed(caller(key("aws:PrincipalAccount", Str))),
    caller(multi(key("aws:PrincipalOrgPaths", Str))),
    caller(key("aws:PrincipalOrgID", Str)),
    signed(key("aws:PrincipalIsAWSService", Bool)),
    caller(key("aws:PrincipalServiceName", Str)),
    caller(multi(key("aws:PrincipalServiceNamesList", Str))),
    signed(key("aws:PrincipalType", Str)),
    signed(caller(key("aws:userid", Str))),
    caller(key("aws:username", Str)),
    key("aws:AssumedRoot", Bool),
    key("aws:CalledViaAWSMCP", Str),
    key("aws:IsMcpServiceAction", Bool),
    key("aws:SignInSessionArn", Arn),
    key("aws:ViaAWSMCPService", Bool),
    caller(key("aws:FederatedProvider", Str)),
    key("aws:TokenIssueTime", Date),
    key("aws:MultiFactorAuthAge", Numeric),
    key("aws:MultiFactorAuthPresent", Bool),
    key("aws:ChatbotSourceArn", Arn),
    key("aws:Ec2InstanceSourceVpc", Str),
    key("aws:Ec2InstanceSourcePrivateIPv4", Ip),
    key("aws:SourceIdentity", Str),
    key("ec2:RoleDelivery", Numeric),
    key("ec2:SourceInstanceArn", Arn),
    key("glue:RoleAssumedBy", Str),
    key("glue:CredentialIssuingService", Str),
    key("lambda:SourceFunctionArn", Arn),
    key("ssm:SourceInstanceArn", Arn),
    key("identitystore:UserId", Str),
    caller(key("aws:SourceIp", Ip)),
    caller(key("aws:SourceVpc", Str)),
    caller(key("aws:SourceVpcArn", Arn)),
    caller(key("aws:SourceVpce", Str)),
    caller(key("aws:VpcSourceIp", Ip)),
    caller(key("aws:VpceAccount", Str)),
    caller(key("aws:VpceOrgID", Str)),
    caller(multi(key("aws:VpceOrgPaths", Str))),
    key("aws:ResourceAccount", Str),
    key("aws:ResourceOrgID", Str),
    multi(key("aws:ResourceOrgPaths", Str)),
    multi(key("aws:CalledVia", Str)),
    key("aws:CalledViaFirst", Str),
    key("aws:CalledViaLast", Str),
    always(key("aws:ViaAWSService", Bool)),
    always(key("aws:CurrentTime", Date)),
    always(key("aws:EpochTime", Date)),
    key("aws:referer", Str),
    key("aws:RequestedRegion", Str),
    multi(key("aws:TagKeys", Str)),
    key("aws:SecureTransport", Bool),
    caller(key("aws:SourceAccount", Str)),
    caller(key("aws:SourceArn", Arn)),
    caller(key("aws:SourceOrgID", Str)),
    caller(multi(key("aws:SourceOrgPaths", Str))),
    caller(key("aws:SourceOwner", Str)),
    key("aws:UserAgent", Str),
    caller(key("aws:ARN", Arn)),
];

/// Tag keys: the prefix is followed by `/` and a tag key.
const TAG_KEYS: &[KeyInfo] = &[
    caller(key("aws:PrincipalTag/", Str)),
    key("aws:RequestTag/", Str),
    key("aws:ResourceTag/", Str),
];

/// The global key named `key` (any case), if it is one.
pub(crate) fn global(key: &str) -> Option<KeyInfo> {
    if let Some(k) = KEYS.iter().find(|k| k.name.eq_ignore_ascii_case(key)) {
        return Some(*k);
    }
    TAG_KEYS.iter().copied().find(|k| {
        key.get(..k.name.len()).is_some_and(|p| p.eq_ignore_ascii_case(k.name))
            && key.len() > k.name.len()
    })
}

/// Whether `key` is a tag-key prefix written without its tag key (`aws:ResourceTag`,
/// `aws:RequestTag/`, `s3:ExistingObjectTag`, ...).
pub(crate) fn is_tag_prefix_without_key(key: &str) -> bool {
    let Some((_, name)) = key.split_once(':') else { return false };
    let bare = name.strip_suffix('/').unwrap_or(name);
    bare.len() > 3 && !bare.contains('/') && bare.to_ascii_lowercase().ends_with("tag")
}

/// Whether the key's prefix (before `:`) is `aws`.
pub(crate) fn is_aws_key(key: &str) -> bool {
    key.split_once(':').is_some_and(|(p, _)| p.eq_ignore_ascii_case("aws"))
}

/// The multivalued keys IAM never substitutes as policy variables.
pub(crate) fn is_multivalued(key: &str) -> bool {
    global(key).is_some_and(|k| k.multi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(global("AWS:SOURCEIP").map(|k| k.kind), Some(KeyKind::Ip));
        assert!(global("aws:TagKeys").is_some_and(|k| k.multi));
        assert!(global("aws:ResourceTag/team").is_some());
        assert!(global("aws:ResourceTag/").is_none());
        assert!(global("aws:Nope").is_none());
        assert!(is_tag_prefix_without_key("aws:ResourceTag"));
        assert!(is_tag_prefix_without_key("s3:ExistingObjectTag/"));
        assert!(!is_tag_prefix_without_key("aws:ResourceTag/team"));
        assert!(!is_tag_prefix_without_key("aws:TagKeys"));
    }
}
