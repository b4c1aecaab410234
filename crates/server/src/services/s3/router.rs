//! S3's operations and the router that finds one from a request's method, path and
//! sub-resource. Routing is exact: a request naming a sub-resource of S3's model that this
//! server does not implement is refused with `NotImplemented`, never taken for the plain
//! bucket or object operation (a `DELETE /bucket?website` must never delete the bucket).

use super::s3err;
use crate::error::ApiError;
use crate::pipeline::service::{Access, Operation};

/// Where in S3's namespace a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// The path names a bucket.
    Bucket,
    /// The path names an object.
    Object,
}

use Level::{Bucket, Object};

/// Every (method, level, sub-resource, operation) of S3's model (botocore 1.44.18's `s3`
/// service model: the `?name` each operation's request URI carries; where two operations share
/// one, the first by name).
pub(crate) const MODEL_SUBRESOURCES: &[(&str, Level, &str, &str)] = &[
    ("GET", Bucket, "abac", "GetBucketAbac"),
    ("PUT", Bucket, "abac", "PutBucketAbac"),
    ("GET", Bucket, "accelerate", "GetBucketAccelerateConfiguration"),
    ("PUT", Bucket, "accelerate", "PutBucketAccelerateConfiguration"),
    ("GET", Bucket, "acl", "GetBucketAcl"),
    ("PUT", Bucket, "acl", "PutBucketAcl"),
    ("GET", Object, "acl", "GetObjectAcl"),
    ("PUT", Object, "acl", "PutObjectAcl"),
    ("DELETE", Bucket, "analytics", "DeleteBucketAnalyticsConfiguration"),
    ("GET", Bucket, "analytics", "GetBucketAnalyticsConfiguration"),
    ("PUT", Bucket, "analytics", "PutBucketAnalyticsConfiguration"),
    ("DELETE", Object, "annotation", "DeleteObjectAnnotation"),
    ("GET", Object, "annotation", "GetObjectAnnotation"),
    ("PUT", Object, "annotation", "PutObjectAnnotation"),
    ("GET", Object, "attributes", "GetObjectAttributes"),
    ("DELETE", Bucket, "cors", "DeleteBucketCors"),
    ("GET", Bucket, "cors", "GetBucketCors"),
    ("PUT", Bucket, "cors", "PutBucketCors"),
    ("GET", Bucket, "default-storage-class", "GetBucketDefaultStorageClass"),
    ("PUT", Bucket, "default-storage-class", "PutBucketDefaultStorageClass"),
    ("POST", Bucket, "delete", "DeleteObjects"),
    ("DELETE", Bucket, "encryption", "DeleteBucketEncryption"),
    ("GET", Bucket, "encryption", "GetBucketEncryption"),
    ("PUT", Bucket, "encryption", "PutBucketEncryption"),
    ("PUT", Object, "encryption", "UpdateObjectEncryption"),
    ("DELETE", Bucket, "intelligent-tiering", "DeleteBucketIntelligentTieringConfiguration"),
    ("GET", Bucket, "intelligent-tiering", "GetBucketIntelligentTieringConfiguration"),
    ("PUT", Bucket, "intelligent-tiering", "PutBucketIntelligentTieringConfiguration"),
    ("DELETE", Bucket, "inventory", "DeleteBucketInventoryConfiguration"),
    ("GET", Bucket, "inventory", "GetBucketInventoryConfiguration"),
    ("PUT", Bucket, "inventory", "PutBucketInventoryConfiguration"),
    ("GET", Object, "legal-hold", "GetObjectLegalHold"),
    ("PUT", Object, "legal-hold", "PutObjectLegalHold"),
    ("DELETE", Bucket, "lifecycle", "DeleteBucketLifecycle"),
    ("GET", Bucket, "lifecycle", "GetBucketLifecycle"),
    ("PUT", Bucket, "lifecycle", "PutBucketLifecycle"),
    ("GET", Bucket, "list-type", "ListObjectsV2"),
    ("GET", Bucket, "location", "GetBucketLocation"),
    ("GET", Bucket, "logging", "GetBucketLogging"),
    ("PUT", Bucket, "logging", "PutBucketLogging"),
    ("PUT", Bucket, "metadataAnnotationTable", "UpdateBucketMetadataAnnotationTableConfiguration"),
    ("DELETE", Bucket, "metadataConfiguration", "DeleteBucketMetadataConfiguration"),
    ("GET", Bucket, "metadataConfiguration", "GetBucketMetadataConfiguration"),
    ("POST", Bucket, "metadataConfiguration", "CreateBucketMetadataConfiguration"),
    ("PUT", Bucket, "metadataInventoryTable", "UpdateBucketMetadataInventoryTableConfiguration"),
    ("PUT", Bucket, "metadataJournalTable", "UpdateBucketMetadataJournalTableConfiguration"),
    ("DELETE", Bucket, "metadataTable", "DeleteBucketMetadataTableConfiguration"),
    ("GET", Bucket, "metadataTable", "GetBucketMetadataTableConfiguration"),
    ("POST", Bucket, "metadataTable", "CreateBucketMetadataTableConfiguration"),
    ("DELETE", Bucket, "metrics", "DeleteBucketMetricsConfiguration"),
    ("GET", Bucket, "metrics", "GetBucketMetricsConfiguration"),
    ("PUT", Bucket, "metrics", "PutBucketMetricsConfiguration"),
    ("GET", Bucket, "notification", "GetBucketNotification"),
    ("PUT", Bucket, "notification", "PutBucketNotification"),
    ("GET", Bucket, "object-lock", "GetObjectLockConfiguration"),
    ("PUT", Bucket, "object-lock", "PutObjectLockConfiguration"),
    ("DELETE", Bucket, "ownershipControls", "DeleteBucketOwnershipControls"),
    ("GET", Bucket, "ownershipControls", "GetBucketOwnershipControls"),
    ("PUT", Bucket, "ownershipControls", "PutBucketOwnershipControls"),
    ("GET", Object, "part", "GetPart"),
    ("DELETE", Bucket, "policy", "DeleteBucketPolicy"),
    ("GET", Bucket, "policy", "GetBucketPolicy"),
    ("PUT", Bucket, "policy", "PutBucketPolicy"),
    ("GET", Bucket, "policyStatus", "GetBucketPolicyStatus"),
    ("DELETE", Bucket, "publicAccessBlock", "DeletePublicAccessBlock"),
    ("GET", Bucket, "publicAccessBlock", "GetPublicAccessBlock"),
    ("PUT", Bucket, "publicAccessBlock", "PutPublicAccessBlock"),
    ("PUT", Object, "renameObject", "RenameObject"),
    ("DELETE", Bucket, "replication", "DeleteBucketReplication"),
    ("GET", Bucket, "replication", "GetBucketReplication"),
    ("PUT", Bucket, "replication", "PutBucketReplication"),
    ("GET", Bucket, "requestPayment", "GetBucketRequestPayment"),
    ("PUT", Bucket, "requestPayment", "PutBucketRequestPayment"),
    ("POST", Object, "restore", "RestoreObject"),
    ("GET", Object, "retention", "GetObjectRetention"),
    ("PUT", Object, "retention", "PutObjectRetention"),
    ("POST", Object, "select", "SelectObjectContent"),
    ("GET", Bucket, "session", "CreateSession"),
    ("DELETE", Bucket, "tagging", "DeleteBucketTagging"),
    ("GET", Bucket, "tagging", "GetBucketTagging"),
    ("PUT", Bucket, "tagging", "PutBucketTagging"),
    ("DELETE", Object, "tagging", "DeleteObjectTagging"),
    ("GET", Object, "tagging", "GetObjectTagging"),
    ("PUT", Object, "tagging", "PutObjectTagging"),
    ("GET", Object, "torrent", "GetObjectTorrent"),
    ("GET", Bucket, "uploads", "ListMultipartUploads"),
    ("POST", Object, "uploads", "CreateMultipartUpload"),
    ("GET", Bucket, "versioning", "GetBucketVersioning"),
    ("PUT", Bucket, "versioning", "PutBucketVersioning"),
    ("GET", Bucket, "versions", "ListObjectVersions"),
    ("DELETE", Bucket, "website", "DeleteBucketWebsite"),
    ("GET", Bucket, "website", "GetBucketWebsite"),
    ("PUT", Bucket, "website", "PutBucketWebsite"),
];

/// S3's operations served here, each with its IAM action and CloudTrail category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub(crate) enum S3Operation {
    ListBuckets,
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    ListObjects,
    ListObjectsV2,
    ListObjectVersions,
    ListMultipartUploads,
    GetBucketLocation,
    GetBucketVersioning,
    PutBucketVersioning,
    GetBucketPolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    GetBucketEncryption,
    PutBucketEncryption,
    DeleteBucketEncryption,
    GetPublicAccessBlock,
    PutPublicAccessBlock,
    DeletePublicAccessBlock,
    GetBucketAcl,
    PutBucketAcl,
    GetBucketOwnershipControls,
    PutBucketOwnershipControls,
    DeleteBucketOwnershipControls,
    /// The account's Block Public Access (S3 Control's `GetPublicAccessBlock`).
    GetAccountPublicAccessBlock,
    /// S3 Control's `PutPublicAccessBlock`.
    PutAccountPublicAccessBlock,
    /// S3 Control's `DeletePublicAccessBlock`.
    DeleteAccountPublicAccessBlock,
    GetBucketTagging,
    PutBucketTagging,
    DeleteBucketTagging,
    GetBucketPolicyStatus,
    /// Also what the legacy `PutBucketLifecycle` sends (the same request).
    PutBucketLifecycleConfiguration,
    GetBucketLifecycleConfiguration,
    DeleteBucketLifecycle,
    GetObjectAttributes,
    GetObject,
    HeadObject,
    PutObject,
    CopyObject,
    DeleteObject,
    DeleteObjects,
    GetObjectAcl,
    PutObjectAcl,
    GetObjectTagging,
    PutObjectTagging,
    DeleteObjectTagging,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    ListParts,
    AbortMultipartUpload,
    CompleteMultipartUpload,
    GetObjectLockConfiguration,
    PutObjectLockConfiguration,
    GetObjectRetention,
    PutObjectRetention,
    GetObjectLegalHold,
    PutObjectLegalHold,
    GetBucketCors,
    PutBucketCors,
    DeleteBucketCors,
    /// A browser upload: a `POST` of a form to the bucket, whose fields name the key and
    /// carry the object's headers, the policy and its signature.
    PostObject,
    /// A browser's CORS preflight (`OPTIONS` on a bucket or a key), answered from the bucket's
    /// CORS rules alone. No IAM action authorizes it (browsers never sign a preflight):
    /// anyone may ask, as in S3; its "action" names it only in the operator guardrail's
    /// refusal.
    PreflightRequest,
}

use S3Operation as Op;

impl Operation for S3Operation {
    fn name(self) -> &'static str {
        match self {
            Op::ListBuckets => "ListBuckets",
            Op::CreateBucket => "CreateBucket",
            Op::DeleteBucket => "DeleteBucket",
            Op::HeadBucket => "HeadBucket",
            Op::ListObjects => "ListObjects",
            Op::ListObjectsV2 => "ListObjectsV2",
            Op::ListObjectVersions => "ListObjectVersions",
            Op::ListMultipartUploads => "ListMultipartUploads",
            Op::GetBucketLocation => "GetBucketLocation",
            Op::GetBucketVersioning => "GetBucketVersioning",
            Op::PutBucketVersioning => "PutBucketVersioning",
            Op::GetBucketPolicy => "GetBucketPolicy",
            Op::PutBucketPolicy => "PutBucketPolicy",
            Op::DeleteBucketPolicy => "DeleteBucketPolicy",
            Op::GetBucketEncryption => "GetBucketEncryption",
            Op::PutBucketEncryption => "PutBucketEncryption",
            Op::DeleteBucketEncryption => "DeleteBucketEncryption",
            Op::GetPublicAccessBlock | Op::GetAccountPublicAccessBlock => "GetPublicAccessBlock",
            Op::PutPublicAccessBlock | Op::PutAccountPublicAccessBlock => "PutPublicAccessBlock",
            Op::DeletePublicAccessBlock | Op::DeleteAccountPublicAccessBlock => {
                "DeletePublicAccessBlock"
            }
            Op::GetBucketAcl => "GetBucketAcl",
            Op::PutBucketAcl => "PutBucketAcl",
            Op::GetBucketOwnershipControls => "GetBucketOwnershipControls",
            Op::PutBucketOwnershipControls => "PutBucketOwnershipControls",
            Op::DeleteBucketOwnershipControls => "DeleteBucketOwnershipControls",
            Op::GetBucketTagging => "GetBucketTagging",
            Op::PutBucketTagging => "PutBucketTagging",
            Op::DeleteBucketTagging => "DeleteBucketTagging",
            Op::GetBucketPolicyStatus => "GetBucketPolicyStatus",
            Op::PutBucketLifecycleConfiguration => "PutBucketLifecycleConfiguration",
            Op::GetBucketLifecycleConfiguration => "GetBucketLifecycleConfiguration",
            Op::DeleteBucketLifecycle => "DeleteBucketLifecycle",
            Op::GetObjectAttributes => "GetObjectAttributes",
            Op::GetObject => "GetObject",
            Op::HeadObject => "HeadObject",
            Op::PutObject => "PutObject",
            Op::CopyObject => "CopyObject",
            Op::DeleteObject => "DeleteObject",
            Op::DeleteObjects => "DeleteObjects",
            Op::GetObjectAcl => "GetObjectAcl",
            Op::PutObjectAcl => "PutObjectAcl",
            Op::GetObjectTagging => "GetObjectTagging",
            Op::PutObjectTagging => "PutObjectTagging",
            Op::DeleteObjectTagging => "DeleteObjectTagging",
            Op::CreateMultipartUpload => "CreateMultipartUpload",
            Op::UploadPart => "UploadPart",
            Op::UploadPartCopy => "UploadPartCopy",
            Op::ListParts => "ListParts",
            Op::AbortMultipartUpload => "AbortMultipartUpload",
            Op::CompleteMultipartUpload => "CompleteMultipartUpload",
            Op::GetObjectLockConfiguration => "GetObjectLockConfiguration",
            Op::PutObjectLockConfiguration => "PutObjectLockConfiguration",
            Op::GetObjectRetention => "GetObjectRetention",
            Op::PutObjectRetention => "PutObjectRetention",
            Op::GetObjectLegalHold => "GetObjectLegalHold",
            Op::PutObjectLegalHold => "PutObjectLegalHold",
            Op::GetBucketCors => "GetBucketCors",
            Op::PutBucketCors => "PutBucketCors",
            Op::DeleteBucketCors => "DeleteBucketCors",
            Op::PreflightRequest => "PreflightRequest",
            Op::PostObject => "PostObject",
        }
    }

    fn action(self) -> &'static str {
        match self {
            Op::ListBuckets => "s3:ListAllMyBuckets",
            Op::ListObjects | Op::ListObjectsV2 | Op::HeadBucket => "s3:ListBucket",
            Op::CreateBucket => "s3:CreateBucket",
            Op::DeleteBucket => "s3:DeleteBucket",
            Op::GetBucketLocation => "s3:GetBucketLocation",
            Op::GetBucketVersioning => "s3:GetBucketVersioning",
            Op::PutBucketVersioning => "s3:PutBucketVersioning",
            Op::ListObjectVersions => "s3:ListBucketVersions",
            Op::PutBucketPolicy => "s3:PutBucketPolicy",
            Op::GetBucketPolicy => "s3:GetBucketPolicy",
            Op::DeleteBucketPolicy => "s3:DeleteBucketPolicy",
            Op::PutBucketEncryption | Op::DeleteBucketEncryption => "s3:PutEncryptionConfiguration",
            Op::GetBucketEncryption => "s3:GetEncryptionConfiguration",
            Op::GetBucketAcl => "s3:GetBucketAcl",
            Op::PutBucketAcl => "s3:PutBucketAcl",
            Op::GetObjectAcl => "s3:GetObjectAcl",
            Op::PutObjectAcl => "s3:PutObjectAcl",
            Op::GetBucketOwnershipControls => "s3:GetBucketOwnershipControls",
            Op::PutBucketOwnershipControls | Op::DeleteBucketOwnershipControls => {
                "s3:PutBucketOwnershipControls"
            }
            Op::PutPublicAccessBlock | Op::DeletePublicAccessBlock => {
                "s3:PutBucketPublicAccessBlock"
            }
            Op::GetPublicAccessBlock => "s3:GetBucketPublicAccessBlock",
            Op::GetAccountPublicAccessBlock => "s3:GetAccountPublicAccessBlock",
            Op::PutAccountPublicAccessBlock | Op::DeleteAccountPublicAccessBlock => {
                "s3:PutAccountPublicAccessBlock"
            }
            Op::ListMultipartUploads => "s3:ListBucketMultipartUploads",
            Op::GetBucketTagging => "s3:GetBucketTagging",
            Op::PutBucketTagging | Op::DeleteBucketTagging => "s3:PutBucketTagging",
            Op::GetBucketPolicyStatus => "s3:GetBucketPolicyStatus",
            Op::PutBucketLifecycleConfiguration | Op::DeleteBucketLifecycle => {
                "s3:PutLifecycleConfiguration"
            }
            Op::GetBucketLifecycleConfiguration => "s3:GetLifecycleConfiguration",
            Op::GetObjectAttributes => "s3:GetObjectAttributes",
            Op::GetObject | Op::HeadObject => "s3:GetObject",
            Op::DeleteObject | Op::DeleteObjects => "s3:DeleteObject",
            Op::AbortMultipartUpload => "s3:AbortMultipartUpload",
            Op::ListParts => "s3:ListMultipartUploadParts",
            Op::PutObjectTagging => "s3:PutObjectTagging",
            Op::GetObjectTagging => "s3:GetObjectTagging",
            Op::DeleteObjectTagging => "s3:DeleteObjectTagging",
            Op::GetObjectLockConfiguration => "s3:GetBucketObjectLockConfiguration",
            Op::PutObjectLockConfiguration => "s3:PutBucketObjectLockConfiguration",
            Op::GetObjectRetention => "s3:GetObjectRetention",
            Op::PutObjectRetention => "s3:PutObjectRetention",
            Op::GetObjectLegalHold => "s3:GetObjectLegalHold",
            Op::PutObjectLegalHold => "s3:PutObjectLegalHold",
            Op::PutObject
            | Op::PostObject
            | Op::CopyObject
            | Op::CreateMultipartUpload
            | Op::UploadPart
            | Op::UploadPartCopy
            | Op::CompleteMultipartUpload => "s3:PutObject",
            Op::GetBucketCors => "s3:GetBucketCORS",
            Op::PutBucketCors | Op::DeleteBucketCors => "s3:PutBucketCORS",
            Op::PreflightRequest => "s3:PreflightRequest",
        }
    }

    fn access(self) -> Access {
        let name = self.name();
        if self == Op::PreflightRequest
            || name.starts_with("Get")
            || name.starts_with("List")
            || name.starts_with("Head")
        {
            Access::Read
        } else {
            Access::Write
        }
    }

    /// Object-level operations are CloudTrail data events.
    fn data_event(self) -> bool {
        self.level() == Some(Object)
            || matches!(
                self,
                Op::ListObjects
                    | Op::ListObjectsV2
                    | Op::ListObjectVersions
                    | Op::ListMultipartUploads
                    | Op::DeleteObjects
                    // Anyone's, unsigned, and as frequent as a browser's requests: out of
                    // trails that do not select data events (AWS records preflights in no trail).
                    | Op::PreflightRequest
            )
    }

    fn event_source(self) -> Option<&'static str> {
        matches!(
            self,
            Op::GetAccountPublicAccessBlock
                | Op::PutAccountPublicAccessBlock
                | Op::DeleteAccountPublicAccessBlock
        )
        .then_some("s3-control.amazonaws.com")
    }
}

impl S3Operation {
    /// Whether the operation acts on an object (`None`: the service or an account).
    pub(crate) fn level(self) -> Option<Level> {
        match self {
            Op::ListBuckets
            | Op::GetAccountPublicAccessBlock
            | Op::PutAccountPublicAccessBlock
            | Op::DeleteAccountPublicAccessBlock => None,
            Op::GetObject
            | Op::HeadObject
            | Op::GetObjectAttributes
            | Op::PutObject
            | Op::PostObject
            | Op::CopyObject
            | Op::DeleteObject
            | Op::GetObjectAcl
            | Op::PutObjectAcl
            | Op::GetObjectTagging
            | Op::PutObjectTagging
            | Op::DeleteObjectTagging
            | Op::CreateMultipartUpload
            | Op::UploadPart
            | Op::UploadPartCopy
            | Op::ListParts
            | Op::AbortMultipartUpload
            | Op::CompleteMultipartUpload
            | Op::GetObjectRetention
            | Op::PutObjectRetention
            | Op::GetObjectLegalHold
            | Op::PutObjectLegalHold => Some(Object),
            _ => Some(Bucket),
        }
    }
}

/// The operation a sub-resource names at `(method, level)`, among those served here.
fn with_subresource(method: &str, level: Level, sub: &str) -> Option<S3Operation> {
    Some(match (method, level, sub) {
        ("GET", Bucket, "acl") => Op::GetBucketAcl,
        ("PUT", Bucket, "acl") => Op::PutBucketAcl,
        ("GET", Object, "acl") => Op::GetObjectAcl,
        ("PUT", Object, "acl") => Op::PutObjectAcl,
        ("GET", Bucket, "ownershipControls") => Op::GetBucketOwnershipControls,
        ("PUT", Bucket, "ownershipControls") => Op::PutBucketOwnershipControls,
        ("DELETE", Bucket, "ownershipControls") => Op::DeleteBucketOwnershipControls,
        ("GET", Bucket, "policy") => Op::GetBucketPolicy,
        ("PUT", Bucket, "policy") => Op::PutBucketPolicy,
        ("DELETE", Bucket, "policy") => Op::DeleteBucketPolicy,
        ("GET", Bucket, "publicAccessBlock") => Op::GetPublicAccessBlock,
        ("PUT", Bucket, "publicAccessBlock") => Op::PutPublicAccessBlock,
        ("DELETE", Bucket, "publicAccessBlock") => Op::DeletePublicAccessBlock,
        ("GET", Bucket, "encryption") => Op::GetBucketEncryption,
        ("PUT", Bucket, "encryption") => Op::PutBucketEncryption,
        ("DELETE", Bucket, "encryption") => Op::DeleteBucketEncryption,
        ("GET", Bucket, "location") => Op::GetBucketLocation,
        ("GET", Bucket, "tagging") => Op::GetBucketTagging,
        ("PUT", Bucket, "tagging") => Op::PutBucketTagging,
        ("DELETE", Bucket, "tagging") => Op::DeleteBucketTagging,
        ("GET", Bucket, "policyStatus") => Op::GetBucketPolicyStatus,
        ("GET", Bucket, "lifecycle") => Op::GetBucketLifecycleConfiguration,
        ("PUT", Bucket, "lifecycle") => Op::PutBucketLifecycleConfiguration,
        ("DELETE", Bucket, "lifecycle") => Op::DeleteBucketLifecycle,
        ("GET", Bucket, "versioning") => Op::GetBucketVersioning,
        ("PUT", Bucket, "versioning") => Op::PutBucketVersioning,
        ("GET", Bucket, "versions") => Op::ListObjectVersions,
        ("GET", Bucket, "uploads") => Op::ListMultipartUploads,
        ("GET", Bucket, "list-type") => Op::ListObjectsV2,
        ("POST", Bucket, "delete") => Op::DeleteObjects,
        ("GET", Object, "tagging") => Op::GetObjectTagging,
        ("GET", Object, "attributes") => Op::GetObjectAttributes,
        ("PUT", Object, "tagging") => Op::PutObjectTagging,
        ("DELETE", Object, "tagging") => Op::DeleteObjectTagging,
        ("POST", Object, "uploads") => Op::CreateMultipartUpload,
        ("GET", Bucket, "object-lock") => Op::GetObjectLockConfiguration,
        ("PUT", Bucket, "object-lock") => Op::PutObjectLockConfiguration,
        ("GET", Object, "retention") => Op::GetObjectRetention,
        ("PUT", Object, "retention") => Op::PutObjectRetention,
        ("GET", Object, "legal-hold") => Op::GetObjectLegalHold,
        ("PUT", Object, "legal-hold") => Op::PutObjectLegalHold,
        ("GET", Bucket, "cors") => Op::GetBucketCors,
        ("PUT", Bucket, "cors") => Op::PutBucketCors,
        ("DELETE", Bucket, "cors") => Op::DeleteBucketCors,
        _ => return None,
    })
}

/// What the router needs of a request.
pub(crate) struct Target<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// Whether the path names a bucket, and an object in it.
    pub level: Option<Level>,
    /// The query string's parameter names.
    pub query: Vec<&'a str>,
    /// The `list-type` parameter.
    pub list_type: Option<&'a str>,
    /// Whether `x-amz-copy-source` is present.
    pub copy: bool,
    /// Whether the body is a `multipart/form-data` form (a browser upload).
    pub form: bool,
}

fn not_implemented(what: &str) -> ApiError {
    s3err(
        501,
        "NotImplemented",
        format!(
            "A header or query you provided implies functionality that is not implemented: {what}."
        ),
    )
}

fn method_not_allowed() -> ApiError {
    s3err(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
}

/// A request the router refuses: the S3 operation it is (one of S3's that is not served
/// here), when it is one, and the refusal.
#[derive(Debug)]
pub(crate) struct Refused {
    pub name: Option<&'static str>,
    pub error: ApiError,
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Refused {
        Refused { name: None, error }
    }
}

/// The operation a request is. A sub-resource S3's model knows is the operation it names at
/// this method and level, or `NotImplemented` when that is not served here; a method S3 has
/// no operation for is `MethodNotAllowed`. An `OPTIONS` on a bucket or a key is a CORS
/// preflight whatever its query (S3 answers it before it looks at the path's sub-resource).
pub(crate) fn route(t: &Target<'_>) -> Result<S3Operation, Refused> {
    let has = |name: &str| t.query.contains(&name);
    let Some(level) = t.level else {
        return match t.method {
            "GET" => Ok(Op::ListBuckets),
            _ => Err(method_not_allowed().into()),
        };
    };
    if t.method == "OPTIONS" {
        return Ok(Op::PreflightRequest);
    }
    let mut subs: Vec<&str> =
        MODEL_SUBRESOURCES.iter().map(|(_, _, sub, _)| *sub).filter(|sub| has(sub)).collect();
    subs.dedup();
    match subs.as_slice() {
        [] => {}
        [sub] => {
            if let Some(op) = with_subresource(t.method, level, sub) {
                // ListObjectsV2 is `list-type=2`; another list type is the first version.
                return Ok(match op {
                    Op::ListObjectsV2 if t.list_type != Some("2") => Op::ListObjects,
                    op => op,
                });
            }
            // S3 has such an operation and this server does not serve it; or S3 has none at
            // this method, and one at another that is served here.
            let modelled = MODEL_SUBRESOURCES
                .iter()
                .find(|(m, l, s, _)| *m == t.method && *l == level && s == sub)
                .map(|(_, _, _, name)| *name);
            return Err(match modelled {
                None if served_somewhere(sub) => {
                    Refused { name: None, error: method_not_allowed() }
                }
                name => Refused { name, error: not_implemented(&format!("?{sub}")) },
            });
        }
        several => {
            let error = not_implemented(&format!("?{}", several.join("&")));
            return Err(Refused { name: None, error });
        }
    }
    let multipart = has("uploadId");
    Ok(match (t.method, level) {
        ("GET", Bucket) => Op::ListObjects,
        ("PUT", Bucket) => Op::CreateBucket,
        ("HEAD", Bucket) => Op::HeadBucket,
        ("DELETE", Bucket) => Op::DeleteBucket,
        ("PUT", Object) if has("partNumber") && t.copy => Op::UploadPartCopy,
        ("PUT", Object) if has("partNumber") => Op::UploadPart,
        ("PUT", Object) if t.copy => Op::CopyObject,
        ("PUT", Object) => Op::PutObject,
        ("POST", Bucket) if t.form => Op::PostObject,
        ("GET", Object) if multipart => Op::ListParts,
        ("GET", Object) => Op::GetObject,
        ("HEAD", Object) => Op::HeadObject,
        ("DELETE", Object) if multipart => Op::AbortMultipartUpload,
        ("DELETE", Object) => Op::DeleteObject,
        ("POST", Object) if multipart => Op::CompleteMultipartUpload,
        _ => return Err(method_not_allowed().into()),
    })
}

/// Whether some method and level serve `sub` here (then another method on it is refused as
/// not allowed, as S3 does).
fn served_somewhere(sub: &str) -> bool {
    ["GET", "PUT", "DELETE", "POST"]
        .iter()
        .any(|m| [Bucket, Object].iter().any(|l| with_subresource(m, *l, sub).is_some()))
}

/// The account-level Block Public Access operation a method is.
pub(crate) fn account_operation(method: &str) -> Result<S3Operation, Refused> {
    match method {
        "GET" => Ok(Op::GetAccountPublicAccessBlock),
        "PUT" => Ok(Op::PutAccountPublicAccessBlock),
        "DELETE" => Ok(Op::DeleteAccountPublicAccessBlock),
        _ => Err(method_not_allowed().into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(method: &'a str, level: Level, query: &[&'a str]) -> Target<'a> {
        Target {
            method,
            level: Some(level),
            query: query.to_vec(),
            list_type: None,
            copy: false,
            form: false,
        }
    }

    /// Every sub-resource of S3's model, at every method and level the model names it, is
    /// either the operation the model says or refused with `NotImplemented`: never taken for
    /// the plain bucket or object operation.
    #[test]
    fn every_model_subresource_is_served_or_refused() {
        for (method, level, sub, name) in MODEL_SUBRESOURCES {
            let routed = route(&Target { list_type: Some("2"), ..target(method, *level, &[sub]) });
            match routed {
                Ok(op) => {
                    assert_eq!(with_subresource(method, *level, sub), Some(op), "{method} {sub}");
                    assert_eq!(op.level(), Some(*level), "{method} {sub}");
                }
                Err(e) => {
                    assert_eq!(e.error.code, "NotImplemented", "{method} {level:?} ?{sub}");
                    assert_eq!(e.name, Some(*name), "the event names the operation");
                }
            }
        }
    }

    /// A sub-resource at a method or level the model does not have is never a plain
    /// operation either.
    #[test]
    fn subresources_never_fall_through() {
        for (_, _, sub, _) in MODEL_SUBRESOURCES {
            for method in ["GET", "PUT", "DELETE", "POST", "HEAD"] {
                for level in [Bucket, Object] {
                    if let Ok(op) = route(&target(method, level, &[sub])) {
                        let expected = match with_subresource(method, level, sub) {
                            // `list-type` other than 2 is the first version of the listing.
                            Some(Op::ListObjectsV2) => Some(Op::ListObjects),
                            other => other,
                        };
                        assert_eq!(expected, Some(op), "{method} {level:?} ?{sub}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_examples_of_the_issue_are_refused() {
        let refused =
            |method, level, sub| route(&target(method, level, &[sub])).unwrap_err().error.code;
        assert_eq!(refused("DELETE", Bucket, "metadataConfiguration"), "NotImplemented");
        assert_eq!(refused("DELETE", Object, "annotation"), "NotImplemented");
        assert_eq!(refused("PUT", Object, "encryption"), "NotImplemented");
        assert_eq!(refused("DELETE", Bucket, "website"), "NotImplemented");
        assert_eq!(refused("PUT", Bucket, "replication"), "NotImplemented");
        assert_eq!(refused("GET", Bucket, "website"), "NotImplemented");
        assert_eq!(refused("DELETE", Bucket, "acl"), "MethodNotAllowed");
        assert_eq!(refused("POST", Bucket, "policy"), "MethodNotAllowed");
        assert_eq!(refused("POST", Bucket, "lifecycle"), "MethodNotAllowed");
        assert_eq!(refused("GET", Object, "lifecycle"), "MethodNotAllowed");
    }

    /// `?lifecycle` is the bucket's lifecycle configuration: the legacy PutBucketLifecycle
    /// (the same request) is PutBucketLifecycleConfiguration, and a delete needs the Put
    /// permission, as in AWS.
    #[test]
    fn lifecycle_operations() {
        let op = |method| route(&target(method, Bucket, &["lifecycle"])).unwrap();
        assert_eq!(op("PUT"), Op::PutBucketLifecycleConfiguration);
        assert_eq!(op("GET"), Op::GetBucketLifecycleConfiguration);
        assert_eq!(op("DELETE"), Op::DeleteBucketLifecycle);
        assert_eq!(op("PUT").action(), "s3:PutLifecycleConfiguration");
        assert_eq!(op("DELETE").action(), "s3:PutLifecycleConfiguration");
        assert_eq!(op("GET").action(), "s3:GetLifecycleConfiguration");
        assert_eq!(op("GET").access(), Access::Read);
        assert_eq!(op("DELETE").access(), Access::Write);
        assert!(!op("PUT").data_event());
    }

    #[test]
    fn plain_operations() {
        let op = |method, level, query: &[&'static str], copy| {
            route(&Target { copy, ..target(method, level, query) }).unwrap()
        };
        assert_eq!(op("GET", Bucket, &[], false), Op::ListObjects);
        assert_eq!(op("GET", Bucket, &["prefix", "max-keys"], false), Op::ListObjects);
        assert_eq!(op("PUT", Object, &["partNumber", "uploadId"], true), Op::UploadPartCopy);
        assert_eq!(op("PUT", Object, &["partNumber", "uploadId"], false), Op::UploadPart);
        assert_eq!(op("PUT", Object, &[], true), Op::CopyObject);
        assert_eq!(op("GET", Object, &["versionId"], false), Op::GetObject);
        assert_eq!(op("POST", Object, &["uploadId"], false), Op::CompleteMultipartUpload);
        assert_eq!(op("DELETE", Object, &["uploadId"], false), Op::AbortMultipartUpload);
        let v2 = route(&Target { list_type: Some("2"), ..target("GET", Bucket, &["list-type"]) });
        assert_eq!(v2.unwrap(), Op::ListObjectsV2);
        assert_eq!(route(&target("POST", Bucket, &[])).unwrap_err().error.code, "MethodNotAllowed");
        let form = Target { form: true, ..target("POST", Bucket, &[]) };
        assert_eq!(route(&form).unwrap(), Op::PostObject);
        let form_with_sub = Target { form: true, ..target("POST", Bucket, &["delete"]) };
        assert_eq!(route(&form_with_sub).unwrap(), Op::DeleteObjects);
    }

    /// `?cors` is served at GET, PUT and DELETE (bucket level only); an `OPTIONS` on a bucket
    /// or a key is a preflight whatever its query, and at the service root is not allowed.
    #[test]
    fn cors_and_preflights() {
        let op = |method, level, query: &[&'static str]| route(&target(method, level, query));
        assert_eq!(op("GET", Bucket, &["cors"]).unwrap(), Op::GetBucketCors);
        assert_eq!(op("PUT", Bucket, &["cors"]).unwrap(), Op::PutBucketCors);
        assert_eq!(op("DELETE", Bucket, &["cors"]).unwrap(), Op::DeleteBucketCors);
        assert_eq!(op("POST", Bucket, &["cors"]).unwrap_err().error.code, "MethodNotAllowed");
        assert_eq!(op("GET", Object, &["cors"]).unwrap_err().error.code, "MethodNotAllowed");
        for (level, query) in [(Bucket, &[][..]), (Object, &[][..]), (Bucket, &["cors"][..])] {
            assert_eq!(op("OPTIONS", level, query).unwrap(), Op::PreflightRequest);
        }
        let root = Target { level: None, ..target("OPTIONS", Bucket, &[]) };
        assert_eq!(route(&root).unwrap_err().error.code, "MethodNotAllowed");
        assert_eq!(Op::PreflightRequest.access(), Access::Read);
        assert_eq!(Op::DeleteBucketCors.action(), "s3:PutBucketCORS");
    }
}
