//! S3's records: buckets (and the account's Block Public Access settings), objects, their
//! versions, multipart uploads and their parts, and the completions of uploads (answered to a
//! repeated CompleteMultipartUpload).

use super::Body;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Block Public Access settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct PublicAccessBlock {
    #[serde(default)]
    pub block_public_acls: bool,
    #[serde(default)]
    pub ignore_public_acls: bool,
    #[serde(default)]
    pub block_public_policy: bool,
    #[serde(default)]
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// Everything blocked: what AWS sets on new buckets.
    pub const ALL: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    /// Either setting blocking.
    pub fn or(self, other: PublicAccessBlock) -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }
}

/// A bucket's versioning state; a bucket that never had versioning has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Versioning {
    Enabled,
    Suspended,
}

impl Versioning {
    /// As S3 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Versioning::Enabled => "Enabled",
            Versioning::Suspended => "Suspended",
        }
    }
}

/// Object Ownership (`OwnershipControls`): whether the bucket's ACLs and its objects' count.
/// A bucket whose controls were deleted has none (`Bucket::object_ownership` is `None`), which
/// S3 treats as `ObjectWriter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ObjectOwnership {
    /// ACLs are disabled: they read as the owner's full control and grant nothing (what AWS
    /// sets on new buckets).
    BucketOwnerEnforced,
    /// ACLs are enabled; a write that says `bucket-owner-full-control` is the bucket owner's.
    BucketOwnerPreferred,
    /// ACLs are enabled; in AWS the writer owns what it writes (here the bucket owner does,
    /// decision 018).
    ObjectWriter,
}

impl ObjectOwnership {
    /// Every setting, as S3 lists them.
    pub const ALL: [ObjectOwnership; 3] = [
        ObjectOwnership::BucketOwnerEnforced,
        ObjectOwnership::BucketOwnerPreferred,
        ObjectOwnership::ObjectWriter,
    ];

    /// As S3 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }

    /// The setting S3 names `text` (exactly), if any.
    pub fn parse(text: &str) -> Option<ObjectOwnership> {
        ObjectOwnership::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// A permission an ACL grants (`Permission`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Permission {
    FullControl,
    Write,
    WriteAcp,
    Read,
    ReadAcp,
}

impl Permission {
    /// Every permission, in the order S3 documents them.
    pub const ALL: [Permission; 5] = [
        Permission::FullControl,
        Permission::Write,
        Permission::WriteAcp,
        Permission::Read,
        Permission::ReadAcp,
    ];

    /// As S3 writes it (`FULL_CONTROL`, `READ_ACP`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::FullControl => "FULL_CONTROL",
            Permission::Write => "WRITE",
            Permission::WriteAcp => "WRITE_ACP",
            Permission::Read => "READ",
            Permission::ReadAcp => "READ_ACP",
        }
    }

    /// The permission S3 names `text` (exactly, upper case), if any.
    pub fn parse(text: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// The header that grants it on a write (`x-amz-grant-read`, ...).
    pub fn header(self) -> &'static str {
        match self {
            Permission::FullControl => "x-amz-grant-full-control",
            Permission::Write => "x-amz-grant-write",
            Permission::WriteAcp => "x-amz-grant-write-acp",
            Permission::Read => "x-amz-grant-read",
            Permission::ReadAcp => "x-amz-grant-read-acp",
        }
    }

    /// The permission whose header `name` (any case) is.
    pub fn from_header(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.header().eq_ignore_ascii_case(name.trim()))
    }
}

/// One of S3's predefined groups an ACL can grant to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum AclGroup {
    /// Everyone, signed or not.
    AllUsers,
    /// Every signed request, of any account.
    AuthenticatedUsers,
    /// S3's server access log delivery (a service principal nothing here acts as).
    LogDelivery,
}

impl AclGroup {
    /// Every group.
    pub const ALL: [AclGroup; 3] =
        [AclGroup::AllUsers, AclGroup::AuthenticatedUsers, AclGroup::LogDelivery];

    /// The group's URI, as S3 names it.
    pub fn uri(self) -> &'static str {
        match self {
            AclGroup::AllUsers => "http://acs.amazonaws.com/groups/global/AllUsers",
            AclGroup::AuthenticatedUsers => {
                "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
            }
            AclGroup::LogDelivery => "http://acs.amazonaws.com/groups/s3/LogDelivery",
        }
    }

    /// The group `uri` names (exactly), if any.
    pub fn from_uri(uri: &str) -> Option<AclGroup> {
        AclGroup::ALL.into_iter().find(|g| g.uri() == uri)
    }

    /// Whether a grant to it is public (AWS's definition: `AllUsers` and
    /// `AuthenticatedUsers`).
    pub fn is_public(self) -> bool {
        matches!(self, AclGroup::AllUsers | AclGroup::AuthenticatedUsers)
    }
}

/// Who an ACL grant is to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Grantee {
    /// An account, by its canonical id (its 12-digit account id here).
    CanonicalUser(String),
    /// One of S3's groups.
    Group(AclGroup),
}

/// One grant of an ACL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

/// An access control list (`AccessControlPolicy`): its owner and its grants, as a bucket or an
/// object keeps it. Its grants count only while the bucket's Object Ownership enables ACLs;
/// they are evaluated as resource-policy statements with the bucket policy
/// (`services::s3::acl`). A record without one has S3's default: the owner's full control.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Acl {
    /// The owner's canonical id: the bucket owner's account id (objects included, decision 018).
    pub owner: String,
    /// The grants, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
}

impl Acl {
    /// S3's default ACL (the `private` canned ACL): the owner's full control.
    pub fn private(owner: &str) -> Acl {
        Acl {
            owner: owner.to_string(),
            grants: vec![Grant {
                grantee: Grantee::CanonicalUser(owner.to_string()),
                permission: Permission::FullControl,
            }],
        }
    }

    /// Whether it is the default ACL exactly.
    pub fn is_private(&self) -> bool {
        *self == Acl::private(&self.owner)
    }

    /// Whether it grants nothing to anyone but its owner (what `BucketOwnerEnforced` allows).
    pub fn grants_only_owner(&self) -> bool {
        self.grants
            .iter()
            .all(|g| matches!(&g.grantee, Grantee::CanonicalUser(id) if *id == self.owner))
    }

    /// Whether a grant is public (to `AllUsers` or `AuthenticatedUsers`).
    pub fn is_public(&self) -> bool {
        self.grants.iter().any(|g| matches!(g.grantee, Grantee::Group(group) if group.is_public()))
    }
}

/// An Object Lock retention mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum RetentionMode {
    /// Shortened or removed only with `s3:BypassGovernanceRetention` and the bypass header.
    Governance,
    /// Never shortened or removed before it ends.
    Compliance,
}

impl RetentionMode {
    /// As S3 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Governance => "GOVERNANCE",
            RetentionMode::Compliance => "COMPLIANCE",
        }
    }

    /// The mode S3 names `text` (exactly, upper case), if any.
    pub fn parse(text: &str) -> Option<RetentionMode> {
        match text {
            "GOVERNANCE" => Some(RetentionMode::Governance),
            "COMPLIANCE" => Some(RetentionMode::Compliance),
            _ => None,
        }
    }
}

/// A bucket's default retention (`ObjectLockConfiguration`'s `Rule`): exactly one of `days`
/// and `years`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DefaultRetention {
    pub mode: RetentionMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<u32>,
}

/// A bucket's Object Lock: present once enabled (it is never disabled again).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ObjectLockConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_retention: Option<DefaultRetention>,
}

/// An object version's (or an upload's, for the object it will make) Object Lock state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectLock {
    #[serde(default, rename = "ObjectLockMode", skip_serializing_if = "Option::is_none")]
    pub mode: Option<RetentionMode>,
    /// When the retention ends (milliseconds since the epoch).
    #[serde(default, rename = "ObjectLockRetainUntilMs", skip_serializing_if = "Option::is_none")]
    pub retain_until_ms: Option<i64>,
    /// The legal hold: `None` if never set, else whether it is on.
    #[serde(default, rename = "ObjectLockLegalHold", skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<bool>,
}

impl ObjectLock {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == ObjectLock::default()
    }
}

/// An additional checksum's algorithm (`ChecksumAlgorithm`), as S3 names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ChecksumAlgorithm {
    #[serde(rename = "CRC32")]
    Crc32,
    #[serde(rename = "CRC32C")]
    Crc32c,
    #[serde(rename = "CRC64NVME")]
    Crc64Nvme,
    #[serde(rename = "SHA1")]
    Sha1,
    #[serde(rename = "SHA256")]
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm, in the order S3 lists them.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// As S3 writes it (`CRC32`, ..., `SHA256`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The algorithm `text` names (case-insensitively, as S3 reads `x-amz-checksum-algorithm`).
    pub fn parse(text: &str) -> Option<ChecksumAlgorithm> {
        ChecksumAlgorithm::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The header that carries its value (`x-amz-checksum-crc32`, ...).
    pub fn header(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The algorithm whose value header `name` (any case) is.
    pub fn from_header(name: &str) -> Option<ChecksumAlgorithm> {
        ChecksumAlgorithm::ALL.into_iter().find(|a| a.header().eq_ignore_ascii_case(name.trim()))
    }

    /// The member that carries its value in S3's XML and botocore's shapes (`ChecksumCRC32`).
    pub fn member(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "ChecksumCRC32",
            ChecksumAlgorithm::Crc32c => "ChecksumCRC32C",
            ChecksumAlgorithm::Crc64Nvme => "ChecksumCRC64NVME",
            ChecksumAlgorithm::Sha1 => "ChecksumSHA1",
            ChecksumAlgorithm::Sha256 => "ChecksumSHA256",
        }
    }

    /// Whether it is a CRC (whose parts' values combine into the whole object's).
    pub fn is_crc(self) -> bool {
        matches!(
            self,
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c | ChecksumAlgorithm::Crc64Nvme
        )
    }
}

/// How an object's checksum covers it (`ChecksumType`): the checksum of all its bytes
/// (`FULL_OBJECT`), or of its parts' checksums (`COMPOSITE`, a multipart upload's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ChecksumType {
    Composite,
    FullObject,
}

impl ChecksumType {
    /// As S3 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumType::Composite => "COMPOSITE",
            ChecksumType::FullObject => "FULL_OBJECT",
        }
    }

    /// The type `text` names (exactly, upper case), if any.
    pub fn parse(text: &str) -> Option<ChecksumType> {
        match text.trim() {
            "COMPOSITE" => Some(ChecksumType::Composite),
            "FULL_OBJECT" => Some(ChecksumType::FullObject),
            _ => None,
        }
    }
}

/// A bucket (kind `s3_bucket`, keyed by its name, in its owner's account).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Bucket {
    pub name: String,
    pub region: String,
    /// When it was made: a bucket deleted and made again is another bucket.
    pub created_ms: i64,
    /// Its Object Ownership; none once `DeleteBucketOwnershipControls` removed it (S3 then
    /// treats the bucket as `ObjectWriter`). Every bucket written before ACLs could be enabled
    /// says `BucketOwnerEnforced`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_ownership: Option<ObjectOwnership>,
    /// The bucket's ACL, when one other than the default (the owner's full control) was set
    /// while ACLs were enabled. Kept (and ignored) while they are disabled, as S3 keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Acl>,
    /// The bucket's own Block Public Access; none once deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The default key of SSE-KMS (`PutBucketEncryption`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// The default encryption `PutBucketEncryption` asked for (`AES256`, `aws:kms`,
    /// `aws:kms:dsse`); none: SSE-S3, as in S3 (or SSE-KMS for a bucket written before this
    /// was kept and that has a default key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_algorithm: Option<String>,
    /// `BucketKeyEnabled` of the default encryption, as `PutBucketEncryption` set it: SSE-KMS
    /// writes that do not say otherwise use an S3 Bucket Key (`services::s3::sse`). Left out
    /// when false, so buckets written before this read as they were.
    #[serde(default, skip_serializing_if = "is_false")]
    pub bucket_key_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<Versioning>,
    /// The bucket's tags (`PutBucketTagging`), by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Object Lock, once enabled (at creation, or later on a versioned bucket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_lock: Option<ObjectLockConfig>,
    /// The bucket's CORS rules (`PutBucketCors`), in the order given; none without a
    /// configuration. Part of the row-MAC'd record, so no one but the owner sets them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Vec<CorsRule>>,
    /// The lifecycle rules the owner set (`PutBucketLifecycleConfiguration`), which S3 applies
    /// itself (`services::s3::lifecycle`). They live in this record, which the store
    /// authenticates: a rule written into the row behind the server's back is refused, never
    /// applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
}

impl Body for Bucket {
    const KIND: &'static str = "s3_bucket";
}

impl Bucket {
    /// Whether its ACLs (and its objects') count: Object Ownership is not
    /// `BucketOwnerEnforced` (no ownership controls count as `ObjectWriter`, as in S3).
    pub fn acls_enabled(&self) -> bool {
        self.object_ownership != Some(ObjectOwnership::BucketOwnerEnforced)
    }
}

/// A method a CORS rule allows (`AllowedMethod`): S3 knows these five.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum CorsMethod {
    Get,
    Put,
    Head,
    Post,
    Delete,
}

impl CorsMethod {
    /// The method S3 names `name` (exactly, upper case).
    pub fn parse(name: &str) -> Option<CorsMethod> {
        Some(match name {
            "GET" => CorsMethod::Get,
            "PUT" => CorsMethod::Put,
            "HEAD" => CorsMethod::Head,
            "POST" => CorsMethod::Post,
            "DELETE" => CorsMethod::Delete,
            _ => return None,
        })
    }

    /// As S3 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CorsMethod::Get => "GET",
            CorsMethod::Put => "PUT",
            CorsMethod::Head => "HEAD",
            CorsMethod::Post => "POST",
            CorsMethod::Delete => "DELETE",
        }
    }
}

/// One rule of a bucket's CORS configuration (`CORSRule`), as the owner gave it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CorsRule {
    /// `ID`, at most 255 characters.
    #[serde(rename = "ID", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `AllowedHeader`s: what `Access-Control-Request-Headers` may name (each with at most one
    /// `*`; compared case-insensitively).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
    /// `AllowedMethod`s, at least one.
    pub allowed_methods: Vec<CorsMethod>,
    /// `AllowedOrigin`s, at least one, each with at most one `*`.
    pub allowed_origins: Vec<String>,
    /// `ExposeHeader`s: response headers a browser script may read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// `MaxAgeSeconds`: how long a browser may cache the preflight's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i64>,
}

/// A bucket's lifecycle configuration: its rules, each as the owner gave it (a rule given
/// with the legacy rule-level `Prefix` keeps it, one given with a `Filter` keeps that), so
/// that `GetBucketLifecycleConfiguration` answers what was put.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Lifecycle {
    pub rules: Vec<LifecycleRule>,
}

/// Whether a lifecycle rule acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum RuleStatus {
    Enabled,
    Disabled,
}

impl RuleStatus {
    /// As S3 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Enabled => "Enabled",
            RuleStatus::Disabled => "Disabled",
        }
    }
}

/// One lifecycle rule (`LifecycleRule`): which objects (the legacy `Prefix`, or a `Filter`)
/// and what happens to them. Transitions are never stored: there are no storage classes here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LifecycleRule {
    /// The rule's `ID` (one is made for a rule put without).
    #[serde(rename = "ID")]
    pub id: String,
    pub status: RuleStatus,
    /// The legacy rule-level `Prefix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<LifecycleFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<LifecycleExpiration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_incomplete_multipart_upload: Option<AbortIncompleteMultipartUpload>,
}

/// A rule's `Filter`: at most one of its members (several go in `And`); none matches every
/// object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LifecycleFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<LifecycleTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_size_greater_than: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_size_less_than: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub and: Option<LifecycleAnd>,
}

/// A filter's `And`: every condition it names holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LifecycleAnd {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<LifecycleTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_size_greater_than: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_size_less_than: Option<u64>,
}

/// A tag a filter names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct LifecycleTag {
    pub key: String,
    pub value: String,
}

/// A rule's `Expiration`: exactly one of its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum LifecycleExpiration {
    /// Current versions expire this many days after they were written.
    Days(u32),
    /// Current versions expire from this midnight (UTC, milliseconds since the epoch).
    DateMs(i64),
    /// A delete marker that is its key's only version is removed (when `true`).
    ExpiredObjectDeleteMarker(bool),
}

/// A rule's `NoncurrentVersionExpiration`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct NoncurrentVersionExpiration {
    /// Days after a version became noncurrent.
    pub noncurrent_days: u32,
    /// How many of the newest noncurrent versions are kept whatever their age.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_noncurrent_versions: Option<u32>,
}

/// A rule's `AbortIncompleteMultipartUpload`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AbortIncompleteMultipartUpload {
    /// Days after an upload began.
    pub days_after_initiation: u32,
}

/// The global bucket-name index (kind `s3_bucket_name`, in the operator realm): which account
/// owns a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BucketName {
    pub account: String,
}

impl Body for BucketName {
    const KIND: &'static str = "s3_bucket_name";
}

/// An account's own Block Public Access (kind `s3_account_config`, key `publicAccessBlock`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct AccountConfig {
    pub public_access_block: PublicAccessBlock,
}

impl Body for AccountConfig {
    const KIND: &'static str = "s3_account_config";
}

/// One sealed part of an object's data: a blob file (`crypto::object` format) under the
/// object's data key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SealedPart {
    /// The blob file's name (in the account's blob directory).
    pub blob: String,
    /// Plaintext bytes.
    pub size: u64,
    /// What the blob's encryption is bound to (`{object ARN}|{write}|{part number}`).
    pub identity: String,
    /// The plaintext's MD5, hex (for SSE-C, a keyed digest instead): the part's ETag.
    #[serde(rename = "MD5")]
    pub md5: String,
    /// A multipart upload's part: its additional checksum (algorithm and value) sealed under the
    /// account's key (`services::s3::checksums`); none for a part sent without one in an
    /// upload that asks for none, for a whole object's only part (its object keeps the sum),
    /// and in records written before checksums were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// How an object's (or upload's) data key is kept: wrapped by KMS (`WrappedKey`, the KMS
/// ciphertext, and the key's ARN), derived from an S3 Bucket Key (`WrappedKey` is then the
/// bucket key's KMS ciphertext, made with the bucket's ARN as encryption context, and
/// `BucketKeySalt` the object's salt), or wrapped by the customer's key (SSE-C).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct WrappedDataKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapped_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_wrapped_key: Option<String>,
    /// The encryption the object was written with, as S3 reports it (`AES256` for SSE-S3,
    /// `aws:kms`, `aws:kms:dsse`); none for SSE-C and for objects written before this was kept
    /// (reported as `aws:kms`, which they are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<String>,
    /// For an object sealed with an S3 Bucket Key: the 32 random bytes (base64) its data key
    /// was derived with from the bucket key (`crypto::derive::object_key`). None for every
    /// other object, those written before bucket keys included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_key_salt: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// An object: the current object of a key (kind `s3_object`, keyed `{bucket}/{key}`), or one
/// version of it ([`Version`]), which may be a delete marker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Object {
    pub key: String,
    /// Its version id, in a bucket that has had versioning (`null` once suspended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// A delete marker has no data.
    #[serde(default, skip_serializing_if = "is_false")]
    pub delete_marker: bool,
    pub last_modified_ms: i64,
    #[serde(default)]
    pub size: u64,
    #[serde(default, rename = "ETag", skip_serializing_if = "String::is_empty")]
    pub etag: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_type: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cache_control: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_disposition: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_encoding: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_language: String,
    /// `Expires`, as the writer gave it (an HTTP date).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub expires: String,
    /// User metadata (`x-amz-meta-*`, names lower-cased) of a record written before metadata
    /// was sealed; empty in new ones.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// User metadata sealed under the account's key (`services::s3::metadata`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_metadata: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The sealed parts, in order (one unless it was uploaded in parts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<SealedPart>,
    #[serde(flatten)]
    pub data_key: WrappedDataKey,
    /// Its Object Lock retention and legal hold.
    #[serde(flatten)]
    pub lock: ObjectLock,
    /// Its additional checksum (algorithm and value) sealed under the account's key
    /// (`services::s3::checksums`): a checksum of the plaintext is not kept in the clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// How `checksum` covers the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<ChecksumType>,
    /// Its ACL, when one other than the default (the bucket owner's full control) was set
    /// while its bucket had ACLs enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Acl>,
}

impl Body for Object {
    const KIND: &'static str = "s3_object";
}

/// One version of a key (kind `s3_version`, keyed so that a key's versions list newest
/// first): the object as it was written, or a delete marker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Version(pub Object);

impl Body for Version {
    const KIND: &'static str = "s3_version";
}

/// A multipart upload in progress (kind `s3_upload`, keyed `{bucket}/{key}/{upload id}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Upload {
    pub key: String,
    pub upload_id: String,
    pub created_ms: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_type: String,
    /// The other system metadata the completed object will have.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cache_control: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_disposition: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_encoding: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_language: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub expires: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// User metadata sealed under the account's key, as the object's will be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_metadata: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The data key every part is sealed under, and the completed object's.
    #[serde(flatten)]
    pub data_key: WrappedDataKey,
    /// The Object Lock the completed object will have.
    #[serde(flatten)]
    pub lock: ObjectLock,
    /// The checksum every part carries (`x-amz-checksum-algorithm`), if the upload asked for
    /// one, and how the completed object's covers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<ChecksumType>,
    /// The ACL the completed object will have (CreateMultipartUpload's), when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Acl>,
}

impl Body for Upload {
    const KIND: &'static str = "s3_upload";
}

/// An uploaded part (kind `s3_part`, keyed `{upload key}/{part number, 5 digits}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Part {
    pub part_number: u32,
    pub part: SealedPart,
    pub last_modified_ms: i64,
}

impl Body for Part {
    const KIND: &'static str = "s3_part";
}

/// A multipart upload that was completed (kind `s3_completed_upload`, keyed as its upload was,
/// `{bucket}/{key}/{upload id}`), kept for [`CompletedUpload::KEPT_MS`] so that a repeated
/// CompleteMultipartUpload is answered as the first was while the object it made is still
/// there. It names no blob: the object it made (found by its version) names its parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CompletedUpload {
    pub key: String,
    pub upload_id: String,
    pub completed_ms: i64,
    /// The version the completion made, in a bucket that has had versioning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// The object's ETag, as answered.
    #[serde(rename = "ETag")]
    pub etag: String,
}

impl CompletedUpload {
    /// How long a completion is kept: a day.
    pub const KEPT_MS: i64 = 24 * 60 * 60 * 1000;
}

impl Body for CompletedUpload {
    const KIND: &'static str = "s3_completed_upload";
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::records::Stored;

    fn record(kind: &str, body: serde_json::Value) -> store::Record {
        store::Record {
            mac: Vec::new(),
            account: "111122223333".into(),
            kind: kind.into(),
            key: "k".into(),
            format_version: 1,
            body,
            updated_at_ms: 1,
        }
    }

    /// The layout is the one the server has always written.
    #[test]
    fn a_bucket_reads_as_written_before_records_were_typed() {
        let written = serde_json::json!({
            "Name": "b", "Region": "us-east-1", "CreatedMs": 5,
            "ObjectOwnership": "BucketOwnerEnforced",
            "PublicAccessBlock": { "BlockPublicAcls": true, "IgnorePublicAcls": true,
                                   "BlockPublicPolicy": true, "RestrictPublicBuckets": true },
            "Versioning": "Suspended", "KmsKeyId": "alias/x",
        });
        let record = store::Record {
            mac: Vec::new(),
            account: "111122223333".into(),
            kind: "s3_bucket".into(),
            key: "b".into(),
            format_version: 1,
            body: written.clone(),
            updated_at_ms: 5,
        };
        let bucket = Stored::<Bucket>::from_record(record.clone()).unwrap();
        assert_eq!(bucket.body.versioning, Some(Versioning::Suspended));
        assert_eq!(bucket.body.public_access_block, Some(PublicAccessBlock::ALL));
        assert!(!bucket.body.bucket_key_enabled, "no bucket key unless set");
        assert_eq!(bucket.to_record().unwrap().body, written);
        // Another kind, or a body that does not read, is refused.
        let other = store::Record { kind: "s3_object".into(), ..record.clone() };
        assert!(Stored::<Bucket>::from_record(other).is_err());
        let broken = store::Record { body: serde_json::json!({ "Name": 7 }), ..record };
        assert!(Stored::<Bucket>::from_record(broken).is_err());
    }

    /// A bucket's `BucketKeyEnabled` is kept when set and left out when not; an object sealed
    /// with a bucket key keeps its salt beside the wrapped bucket key, and an object without
    /// one reads with none.
    #[test]
    fn bucket_keys_are_kept_and_older_records_read_without_them() {
        let written = serde_json::json!({
            "Name": "b", "Region": "us-east-1", "CreatedMs": 5,
            "ObjectOwnership": "BucketOwnerEnforced", "KmsKeyId": "alias/x",
            "SseAlgorithm": "aws:kms", "BucketKeyEnabled": true,
        });
        let bucket = Stored::<Bucket>::from_record(record("s3_bucket", written.clone())).unwrap();
        assert!(bucket.body.bucket_key_enabled);
        assert_eq!(bucket.to_record().unwrap().body, written);
        let mut off = bucket.clone();
        off.body.bucket_key_enabled = false;
        assert!(off.to_record().unwrap().body.get("BucketKeyEnabled").is_none());

        let sealed = serde_json::json!({
            "Key": "k", "Size": 1, "ETag": "\"ab\"", "LastModifiedMs": 7,
            "WrappedKey": "d2s=", "KmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/k",
            "Sse": "aws:kms", "BucketKeySalt": "c2FsdA==",
        });
        let typed = Stored::<Object>::from_record(record("s3_object", sealed.clone())).unwrap();
        assert_eq!(typed.body.data_key.bucket_key_salt.as_deref(), Some("c2FsdA=="));
        assert_eq!(typed.to_record().unwrap().body, sealed);
        let upload = serde_json::json!({
            "Key": "k", "UploadId": "u", "CreatedMs": 9, "WrappedKey": "d2s=",
            "KmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/k", "Sse": "aws:kms",
            "BucketKeySalt": "c2FsdA==",
        });
        let typed = Stored::<Upload>::from_record(record("s3_upload", upload.clone())).unwrap();
        assert_eq!(typed.body.data_key.bucket_key_salt.as_deref(), Some("c2FsdA=="));
        assert_eq!(typed.to_record().unwrap().body, upload);

        let older = serde_json::json!({
            "Key": "k", "Size": 1, "ETag": "\"ab\"", "LastModifiedMs": 7,
            "WrappedKey": "d2s=", "KmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/k",
        });
        let typed = Stored::<Object>::from_record(record("s3_object", older.clone())).unwrap();
        assert_eq!(typed.body.data_key.bucket_key_salt, None);
        assert_eq!(typed.to_record().unwrap().body, older);
    }

    /// Objects, versions, uploads and parts read as written before they were typed (empty
    /// strings and maps are left out when written again, which reads back the same).
    #[test]
    fn lifecycle_rules_round_trip() {
        let written = serde_json::json!({
            "Name": "b", "Region": "us-east-1", "CreatedMs": 5,
            "ObjectOwnership": "BucketOwnerEnforced",
            "Lifecycle": { "Rules": [
                { "ID": "old", "Status": "Enabled", "Prefix": "logs/",
                  "Expiration": { "Days": 30 } },
                { "ID": "new", "Status": "Disabled",
                  "Filter": { "And": { "Prefix": "a/", "Tags": [{ "Key": "k", "Value": "v" }],
                                       "ObjectSizeGreaterThan": 10 } },
                  "Expiration": { "DateMs": 1_506_470_400_000_i64 },
                  "NoncurrentVersionExpiration": { "NoncurrentDays": 2,
                                                   "NewerNoncurrentVersions": 3 },
                  "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": 7 } },
                { "ID": "markers", "Status": "Enabled", "Filter": {},
                  "Expiration": { "ExpiredObjectDeleteMarker": true } },
            ] },
        });
        let bucket = Stored::<Bucket>::from_record(record("s3_bucket", written.clone())).unwrap();
        let rules = &bucket.body.lifecycle.as_ref().unwrap().rules;
        assert_eq!(rules[0].prefix.as_deref(), Some("logs/"));
        assert_eq!(rules[0].filter, None);
        assert_eq!(rules[1].expiration, Some(LifecycleExpiration::DateMs(1_506_470_400_000)));
        assert_eq!(rules[2].filter, Some(LifecycleFilter::default()));
        assert_eq!(bucket.to_record().unwrap().body, written);
    }

    /// Objects, versions, uploads and parts read as written before they were typed (empty
    /// strings and maps are left out when written again, which reads back the same).
    #[test]
    fn objects_read_as_written_before_records_were_typed() {
        let part =
            serde_json::json!({ "Blob": "b1", "Size": 5, "Identity": "arn|w|1", "MD5": "ab" });
        let object = serde_json::json!({
            "Key": "k", "Size": 5, "ETag": "\"ab\"", "LastModifiedMs": 7,
            "ContentType": "text/plain", "CacheControl": "", "ContentDisposition": "",
            "ContentEncoding": "", "ContentLanguage": "", "Metadata": { "a": "1" },
            "Tags": { "t": "v" }, "Parts": [part.clone()],
            "WrappedKey": "d2s=", "KmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/k",
            "VersionId": "null",
        });
        let typed = Stored::<Object>::from_record(record("s3_object", object)).unwrap();
        assert_eq!(typed.body.parts[0].md5, "ab");
        assert_eq!(
            typed.body.data_key.kms_key_arn.as_deref(),
            Some("arn:aws:kms:us-east-1:111122223333:key/k")
        );
        assert_eq!(typed.body.metadata.get("a").map(String::as_str), Some("1"));
        let again = Stored::<Object>::from_record(typed.to_record().unwrap()).unwrap();
        assert_eq!(again, typed);

        let marker = serde_json::json!({ "Key": "k", "VersionId": "v", "DeleteMarker": true, "LastModifiedMs": 8 });
        let typed = Stored::<Version>::from_record(record("s3_version", marker.clone())).unwrap();
        assert!(typed.body.0.delete_marker);
        assert_eq!(
            typed.to_record().unwrap().body,
            serde_json::json!({
                "Key": "k", "VersionId": "v", "DeleteMarker": true, "LastModifiedMs": 8, "Size": 0,
            })
        );

        let upload = serde_json::json!({
            "Key": "k", "UploadId": "u", "CreatedMs": 9, "ContentType": "", "Metadata": {},
            "Tags": {}, "CustomerWrappedKey": "c2s=",
        });
        let typed = Stored::<Upload>::from_record(record("s3_upload", upload)).unwrap();
        assert_eq!(typed.body.data_key.customer_wrapped_key.as_deref(), Some("c2s="));
        let again = Stored::<Upload>::from_record(typed.to_record().unwrap()).unwrap();
        assert_eq!(again, typed);

        let part_record = serde_json::json!({ "PartNumber": 1, "Part": part, "LastModifiedMs": 3 });
        let typed = Stored::<Part>::from_record(record("s3_part", part_record.clone())).unwrap();
        assert_eq!(typed.to_record().unwrap().body, part_record);
    }

    /// Records written before checksums were kept read with none, and are written again as
    /// they were; the checksum fields, when present, are sealed text and the clear enums.
    #[test]
    fn checksums_are_optional_and_sealed_in_records() {
        let part =
            serde_json::json!({ "Blob": "b1", "Size": 5, "Identity": "arn|u|1", "MD5": "ab" });
        let old = serde_json::json!({
            "Key": "k", "Size": 5, "ETag": "\"ab-1\"", "LastModifiedMs": 7, "Parts": [part],
        });
        let typed = Stored::<Object>::from_record(record("s3_object", old.clone())).unwrap();
        assert_eq!((typed.body.checksum.as_ref(), typed.body.checksum_type), (None, None));
        assert_eq!(typed.body.parts[0].checksum, None);
        assert_eq!(typed.to_record().unwrap().body, old);

        let sealed = serde_json::json!({
            "Blob": "b1", "Size": 5, "Identity": "arn|u|1", "MD5": "ab", "Checksum": "c2VhbGVk",
        });
        let new = serde_json::json!({
            "Key": "k", "Size": 5, "ETag": "\"ab-1\"", "LastModifiedMs": 7, "Parts": [sealed],
            "Checksum": "b2JqZWN0", "ChecksumType": "FULL_OBJECT",
        });
        let typed = Stored::<Object>::from_record(record("s3_object", new.clone())).unwrap();
        assert_eq!(typed.body.checksum.as_deref(), Some("b2JqZWN0"));
        assert_eq!(typed.body.checksum_type, Some(ChecksumType::FullObject));
        assert_eq!(typed.body.parts[0].checksum.as_deref(), Some("c2VhbGVk"));
        assert_eq!(typed.to_record().unwrap().body, new);

        let upload = serde_json::json!({
            "Key": "k", "UploadId": "u", "CreatedMs": 9,
            "ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "COMPOSITE",
        });
        let typed = Stored::<Upload>::from_record(record("s3_upload", upload.clone())).unwrap();
        assert_eq!(typed.body.checksum_algorithm, Some(ChecksumAlgorithm::Crc64Nvme));
        assert_eq!(typed.body.checksum_type, Some(ChecksumType::Composite));
        assert_eq!(typed.to_record().unwrap().body, upload);

        let completed = serde_json::json!({
            "Key": "k", "UploadId": "u", "CompletedMs": 10, "VersionId": "v1", "ETag": "\"e-2\"",
        });
        let typed = Stored::<CompletedUpload>::from_record(record(
            "s3_completed_upload",
            completed.clone(),
        ))
        .unwrap();
        assert_eq!(typed.body.version_id.as_deref(), Some("v1"));
        assert_eq!(typed.to_record().unwrap().body, completed);
    }

    /// Buckets written before ACLs could be enabled read as `BucketOwnerEnforced` with no
    /// ACL and are written again as they were; deleted controls, an ACL and an object's ACL
    /// round-trip in the layout S3's names give them.
    #[test]
    fn ownership_and_acls_round_trip() {
        let old = serde_json::json!({
            "Name": "b", "Region": "us-east-1", "CreatedMs": 5,
            "ObjectOwnership": "BucketOwnerEnforced",
        });
        let bucket = Stored::<Bucket>::from_record(record("s3_bucket", old.clone())).unwrap();
        assert_eq!(bucket.body.object_ownership, Some(ObjectOwnership::BucketOwnerEnforced));
        assert!(!bucket.body.acls_enabled() && bucket.body.acl.is_none());
        assert_eq!(bucket.to_record().unwrap().body, old);

        let open = serde_json::json!({
            "Name": "b", "Region": "us-east-1", "CreatedMs": 5,
            "Acl": { "Owner": "111122223333", "Grants": [
                { "Grantee": { "CanonicalUser": "111122223333" }, "Permission": "FULL_CONTROL" },
                { "Grantee": { "Group": "AllUsers" }, "Permission": "READ" },
                { "Grantee": { "CanonicalUser": "444455556666" }, "Permission": "WRITE_ACP" },
            ] },
        });
        let bucket = Stored::<Bucket>::from_record(record("s3_bucket", open.clone())).unwrap();
        assert_eq!(bucket.body.object_ownership, None, "deleted controls");
        assert!(bucket.body.acls_enabled(), "no controls count as ObjectWriter");
        let acl = bucket.body.acl.clone().unwrap();
        assert!(acl.is_public() && !acl.grants_only_owner() && !acl.is_private());
        assert_eq!(acl.grants.get(2).map(|g| g.permission), Some(Permission::WriteAcp));
        assert_eq!(bucket.to_record().unwrap().body, open);
        let mut preferred = bucket.clone();
        preferred.body.object_ownership = Some(ObjectOwnership::BucketOwnerPreferred);
        assert_eq!(
            preferred.to_record().unwrap().body.get("ObjectOwnership"),
            Some(&serde_json::json!("BucketOwnerPreferred"))
        );
        for o in ObjectOwnership::ALL {
            assert_eq!(ObjectOwnership::parse(o.as_str()), Some(o));
        }
        assert_eq!(ObjectOwnership::parse("bucketownerenforced"), None);

        let object = serde_json::json!({
            "Key": "k", "Size": 1, "ETag": "\"ab\"", "LastModifiedMs": 7,
            "Acl": { "Owner": "111122223333", "Grants": [
                { "Grantee": { "Group": "AuthenticatedUsers" }, "Permission": "READ" },
            ] },
        });
        let typed = Stored::<Object>::from_record(record("s3_object", object.clone())).unwrap();
        assert!(typed.body.acl.as_ref().unwrap().is_public());
        assert_eq!(typed.to_record().unwrap().body, object);
        assert!(Acl::private("111122223333").is_private());
        assert!(Acl::private("111122223333").grants_only_owner());
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            assert_eq!(Permission::from_header(&p.header().to_ascii_uppercase()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), serde_json::json!(p.as_str()));
        }
        for g in AclGroup::ALL {
            assert_eq!(AclGroup::from_uri(g.uri()), Some(g));
        }
    }

    /// The names S3 gives algorithms and types read both ways.
    #[test]
    fn checksum_names_read_as_s3_writes_them() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(ChecksumAlgorithm::parse(a.as_str()), Some(a));
            assert_eq!(ChecksumAlgorithm::parse(&a.as_str().to_ascii_lowercase()), Some(a));
            assert_eq!(ChecksumAlgorithm::from_header(a.header()), Some(a));
            assert_eq!(a.member(), format!("Checksum{}", a.as_str()));
            assert_eq!(serde_json::to_value(a).unwrap(), serde_json::json!(a.as_str()));
        }
        assert_eq!(ChecksumAlgorithm::parse("MD5"), None);
        for t in [ChecksumType::Composite, ChecksumType::FullObject] {
            assert_eq!(ChecksumType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), serde_json::json!(t.as_str()));
        }
    }
}
