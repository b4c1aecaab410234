//! Rules AWS applies whatever the policies say, kept as data in one place so the evaluator
//! ([`crate::evaluate`]), the validator and the `reason` crate's encoding read the same lists:
//!
//! - actions that need no permission at all ([`NO_PERMISSION_ACTIONS`]);
//! - resources AWS owns, which no tenant can change whatever its policies allow
//!   ([`AWS_OWNED`]);
//! - the services resource control policies apply to ([`RCP_SERVICES`]).

use crate::pattern::Glob;
use crate::request::Request;
use std::fmt;

/// Actions (lowercase) AWS lets every authenticated caller perform without any permission.
///
/// `sts:GetCallerIdentity`: "No permissions are required to perform this operation. If an
/// administrator attaches a policy to your identity that explicitly denies access to the
/// sts:GetCallerIdentity action, you can still perform this operation" (STS API reference).
pub const NO_PERMISSION_ACTIONS: &[&str] = &["sts:getcalleridentity"];

/// Whether AWS allows `request` without looking at any policy: an authenticated caller (an
/// IAM user, role, role session, federated user or root user) performing one of
/// [`NO_PERMISSION_ACTIONS`] on `*`. These actions have no resource type, so a request AWS
/// makes for them names no resource; one that names a resource is evaluated as usual.
pub fn needs_no_permission(request: &Request) -> bool {
    request.principal.has_identity_policies()
        && request.resource == "*"
        && NO_PERMISSION_ACTIONS.contains(&request.action_lower.as_str())
}

/// The kinds of AWS-owned resource tenants cannot change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AwsOwned {
    /// An AWS managed policy (`arn:aws:iam::aws:policy/...`): "you cannot change the
    /// permissions defined in AWS managed policies" (IAM user guide).
    ManagedPolicy,
    /// A service-linked role (`role/aws-service-role/...`): only its service changes or
    /// deletes it; its description can be edited and `DeleteServiceLinkedRole` deletes it.
    ServiceLinkedRole,
    /// A role AWS reserves for its services (`role/aws-reserved/...`, IAM Identity Center).
    ReservedRole,
    /// An alias of an AWS managed KMS key (`alias/aws/...`, reserved for AWS).
    ManagedKeyAlias,
}

impl AwsOwned {
    /// What the resource is, with its article (`an AWS managed policy`).
    pub fn phrase(self) -> &'static str {
        match self {
            AwsOwned::ManagedPolicy => "an AWS managed policy",
            AwsOwned::ServiceLinkedRole => "a service-linked role",
            AwsOwned::ReservedRole => "a role reserved for AWS (path /aws-reserved/)",
            AwsOwned::ManagedKeyAlias => "an alias of an AWS managed key (alias/aws/)",
        }
    }
}

impl fmt::Display for AwsOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.phrase())
    }
}

/// One kind of AWS-owned resource: the resource pattern (matched as a `Resource` element
/// matches, part by part) and the actions (lowercase) no tenant may perform on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OwnedRule {
    /// The kind of resource.
    pub owned: AwsOwned,
    /// The resource pattern (`arn:*:iam::aws:policy/*`).
    pub resource: &'static str,
    /// The actions refused on it, lowercase.
    pub actions: &'static [&'static str],
}

/// The role actions refused on reserved roles: every action that creates, changes, tags,
/// passes or deletes a role.
const RESERVED_ROLE_ACTIONS: &[&str] = &[
    "iam:attachrolepolicy",
    "iam:createrole",
    "iam:createservicelinkedrole",
    "iam:deleterole",
    "iam:deleterolepermissionsboundary",
    "iam:deleterolepolicy",
    "iam:deleteservicelinkedrole",
    "iam:detachrolepolicy",
    "iam:passrole",
    "iam:putrolepermissionsboundary",
    "iam:putrolepolicy",
    "iam:tagrole",
    "iam:untagrole",
    "iam:updateassumerolepolicy",
    "iam:updaterole",
    "iam:updateroledescription",
];

/// The same on service-linked roles, less what AWS supports on them: `CreateServiceLinkedRole`
/// and `DeleteServiceLinkedRole` (how a tenant creates and deletes one), `UpdateRole` and
/// `UpdateRoleDescription` (the description is editable).
const SERVICE_LINKED_ROLE_ACTIONS: &[&str] = &[
    "iam:attachrolepolicy",
    "iam:createrole",
    "iam:deleterole",
    "iam:deleterolepermissionsboundary",
    "iam:deleterolepolicy",
    "iam:detachrolepolicy",
    "iam:passrole",
    "iam:putrolepermissionsboundary",
    "iam:putrolepolicy",
    "iam:tagrole",
    "iam:untagrole",
    "iam:updateassumerolepolicy",
];

/// AWS-owned resources and the actions refused on them, for every principal (the root user
/// included). An explicit deny still wins over this refusal.
pub const AWS_OWNED: &[OwnedRule] = &[
    OwnedRule {
        owned: AwsOwned::ManagedPolicy,
        resource: "arn:*:iam::aws:policy/*",
        actions: &[
            "iam:createpolicy",
            "iam:createpolicyversion",
            "iam:deletepolicy",
            "iam:deletepolicyversion",
            "iam:setdefaultpolicyversion",
            "iam:tagpolicy",
            "iam:untagpolicy",
        ],
    },
    OwnedRule {
        owned: AwsOwned::ServiceLinkedRole,
        resource: "arn:*:iam::*:role/aws-service-role/*",
        actions: SERVICE_LINKED_ROLE_ACTIONS,
    },
    OwnedRule {
        owned: AwsOwned::ReservedRole,
        resource: "arn:*:iam::*:role/aws-reserved/*",
        actions: RESERVED_ROLE_ACTIONS,
    },
    OwnedRule {
        owned: AwsOwned::ManagedKeyAlias,
        resource: "arn:*:kms:*:*:alias/aws/*",
        actions: &["kms:createalias", "kms:deletealias", "kms:updatealias"],
    },
];

/// The AWS-owned resource `action_lower` (lowercase `service:action`) would change on
/// `resource`, if any.
pub fn aws_owned(action_lower: &str, resource: &str) -> Option<AwsOwned> {
    AWS_OWNED
        .iter()
        .filter(|rule| rule.actions.contains(&action_lower))
        .find(|rule| Glob::new(rule.resource, true).matches_resource(resource))
        .map(|rule| rule.owned)
}

/// The services (prefixes) resource control policies apply to; for an action of any other
/// service, RCPs are not evaluated at all (no deny, no level that must allow).
///
/// AWS Organizations user guide, "Resource control policies (RCPs)", list of supported
/// services: at launch Amazon S3, AWS STS, AWS KMS, Amazon SQS and AWS Secrets Manager, since
/// joined by Amazon ECR, Amazon OpenSearch Serverless, Amazon Cognito (identity pools and user
/// pools), Amazon CloudWatch Logs, Amazon DynamoDB and IAM Roles Anywhere. Keep this list in
/// step with that page.
pub const RCP_SERVICES: &[&str] = &[
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "ecr",
    "aoss",
    "cognito-identity",
    "cognito-idp",
    "logs",
    "dynamodb",
    "rolesanywhere",
];

/// Whether resource control policies apply to actions of `service` (a lowercase prefix).
pub fn rcp_covers(service: &str) -> bool {
    RCP_SERVICES.contains(&service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_resources_by_action_and_arn() {
        let policy = "arn:aws:iam::aws:policy/AdministratorAccess";
        assert_eq!(aws_owned("iam:deletepolicy", policy), Some(AwsOwned::ManagedPolicy));
        assert_eq!(aws_owned("iam:getpolicy", policy), None);
        assert_eq!(aws_owned("iam:deletepolicy", "arn:aws:iam::111122223333:policy/Mine"), None);
        let slr = "arn:aws:iam::111122223333:role/aws-service-role/ec2.amazonaws.com/ForEC2";
        assert_eq!(aws_owned("iam:putrolepolicy", slr), Some(AwsOwned::ServiceLinkedRole));
        assert_eq!(aws_owned("iam:updateroledescription", slr), None);
        assert_eq!(aws_owned("iam:createservicelinkedrole", slr), None);
        let reserved = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/SSO_x";
        assert_eq!(aws_owned("iam:updateroledescription", reserved), Some(AwsOwned::ReservedRole));
        let alias = "arn:aws:kms:us-east-1:111122223333:alias/aws/s3";
        assert_eq!(aws_owned("kms:deletealias", alias), Some(AwsOwned::ManagedKeyAlias));
        let mine = "arn:aws:kms:us-east-1:111122223333:alias/mine";
        assert_eq!(aws_owned("kms:deletealias", mine), None);
    }

    #[test]
    fn rcp_scope() {
        assert!(rcp_covers("s3"));
        assert!(!rcp_covers("ec2"));
        assert!(!rcp_covers("iam"));
    }
}
