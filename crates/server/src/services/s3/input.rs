//! S3's inputs: what a request says, read once at routing from its headers, query string and
//! XML body into the members each operation uses, named as botocore's S3 shapes name them
//! (`ContentType`, `SSECustomerKey`, `VersionId`, `Delete.Objects`, ...). Handlers and checks
//! take these structs, never the request's headers, query or body.
//!
//! What S3 answers for a malformed member is kept where S3 answers it: a member that does not
//! read is carried as what it is (`None`, or the text) and refused by the operation with S3's
//! code (`InvalidArgument`, `MalformedXML`, ...), after authorization, as before.

use super::router::S3Operation;
use super::xml;
use crate::error::ApiError;
use crate::pipeline::service::Request;
use crate::records::s3::{ChecksumAlgorithm, Lifecycle, Permission, PublicAccessBlock};
use std::collections::BTreeMap;

/// SSE-C headers (`SSECustomerAlgorithm`, `SSECustomerKey`, `SSECustomerKeyMD5`), for the
/// object itself or a copy's source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CustomerKeyHeaders {
    pub algorithm: Option<String>,
    pub key: Option<String>,
    pub key_md5: Option<String>,
}

impl CustomerKeyHeaders {
    fn read(req: &Request<'_>, prefix: &str) -> CustomerKeyHeaders {
        let header = |name: &str| req.header(&format!("{prefix}{name}")).map(str::to_string);
        CustomerKeyHeaders {
            algorithm: header("algorithm"),
            key: header("key"),
            key_md5: header("key-MD5"),
        }
    }

    /// Whether the request sends any of them.
    pub fn any(&self) -> bool {
        self.algorithm.is_some() || self.key.is_some() || self.key_md5.is_some()
    }
}

/// How a write asks its data to be encrypted: `ServerSideEncryption`, `SSEKMSKeyId`,
/// `BucketKeyEnabled`, and SSE-C.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Encryption {
    pub server_side_encryption: Option<String>,
    pub ssekms_key_id: Option<String>,
    /// `x-amz-server-side-encryption-bucket-key-enabled`, as given (`true` or `false`; another
    /// value is refused by the write).
    pub bucket_key_enabled: Option<String>,
    pub customer: CustomerKeyHeaders,
}

impl Encryption {
    fn read(req: &Request<'_>) -> Encryption {
        Encryption {
            server_side_encryption: req.header("x-amz-server-side-encryption").map(str::to_string),
            ssekms_key_id: req
                .header("x-amz-server-side-encryption-aws-kms-key-id")
                .map(str::to_string),
            bucket_key_enabled: req
                .header("x-amz-server-side-encryption-bucket-key-enabled")
                .map(|v| v.trim().to_string()),
            customer: CustomerKeyHeaders::read(req, super::sse::CUSTOMER),
        }
    }
}

/// The canned ACL and grant headers of a write (`ACL`, `GrantFullControl`, ...), as given
/// (read into an ACL by `super::acl`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AclHeaders {
    /// `x-amz-acl`.
    pub acl: Option<String>,
    /// Each `x-amz-grant-read`, `-write`, `-read-acp`, `-write-acp` and `-full-control`
    /// header: the permission and its value (`id="..."`, `uri="..."`, comma-separated).
    pub grants: Vec<(Permission, String)>,
}

impl AclHeaders {
    fn read(req: &Request<'_>) -> AclHeaders {
        AclHeaders {
            acl: req.header("x-amz-acl").map(|a| a.trim().to_string()),
            grants: req
                .headers
                .iter()
                .filter_map(|(name, value)| {
                    Permission::from_header(name).map(|p| (p, (*value).to_string()))
                })
                .collect(),
        }
    }
}

/// What an object is written with: its system metadata, user metadata and tags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ObjectFields {
    pub content_type: String,
    pub cache_control: String,
    pub content_disposition: String,
    /// Without `aws-chunked`, which is the request's framing, not the object's.
    pub content_encoding: String,
    pub content_language: String,
    /// `Expires`, as given.
    pub expires: String,
    /// `x-amz-meta-*`, names lower-cased.
    pub metadata: BTreeMap<String, String>,
    /// `Tagging` (`x-amz-tagging`, a query string).
    pub tagging: BTreeMap<String, String>,
}

impl ObjectFields {
    fn read(req: &Request<'_>) -> ObjectFields {
        let header = |name: &str| req.header(name).unwrap_or_default().to_string();
        ObjectFields {
            content_type: header("content-type"),
            cache_control: header("cache-control"),
            content_disposition: header("content-disposition"),
            content_encoding: req
                .header("content-encoding")
                .unwrap_or_default()
                .split(',')
                .filter(|e| !e.trim().is_empty() && !e.trim().eq_ignore_ascii_case("aws-chunked"))
                .collect::<Vec<_>>()
                .join(",")
                .trim()
                .to_string(),
            content_language: header("content-language"),
            expires: header("expires"),
            metadata: req
                .headers
                .iter()
                .filter_map(|(name, value)| {
                    let lower = name.to_ascii_lowercase();
                    lower.strip_prefix("x-amz-meta-").map(|k| (k.to_string(), (*value).to_string()))
                })
                .collect(),
            tagging: req.header("x-amz-tagging").map(tags_from_query).unwrap_or_default(),
        }
    }
}

/// Tags as `x-amz-tagging` gives them (a query string; a key given twice keeps its last value).
pub(crate) fn tags_from_query(text: &str) -> BTreeMap<String, String> {
    crate::protocol::query::parse_form(text).into_iter().collect()
}

/// What a body declares about itself: `ContentMD5`, the `Checksum*` members, and its length
/// (`x-amz-decoded-content-length` for `aws-chunked` bodies, else `Content-Length`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BodyDigests {
    pub content_md5: Option<String>,
    /// (`x-amz-checksum-*` header, lower-cased; its value).
    pub checksums: Vec<(String, String)>,
    /// The checksum an `aws-chunked` body carries as a trailer (`x-amz-trailer`), whose value
    /// the body's decoder checks as the last chunk arrives.
    pub trailer: Option<ChecksumAlgorithm>,
    /// The declared length, if one reads as a number.
    pub length: Option<u64>,
}

impl BodyDigests {
    fn read(req: &Request<'_>) -> BodyDigests {
        BodyDigests {
            content_md5: req.header("content-md5").map(|m| m.trim().to_string()),
            checksums: req
                .headers
                .iter()
                .filter_map(|(name, value)| {
                    let lower = name.to_ascii_lowercase();
                    sigv4::checksum::Checksum::for_header(&lower)?;
                    Some((lower, value.trim().to_string()))
                })
                .collect(),
            trailer: req.header("x-amz-trailer").and_then(ChecksumAlgorithm::from_header),
            length: req
                .header("x-amz-decoded-content-length")
                .or_else(|| req.header("content-length"))
                .and_then(|n| n.trim().parse::<u64>().ok()),
        }
    }
}

/// `PutObject`, and what `CreateMultipartUpload` shares with it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PutObject {
    pub fields: ObjectFields,
    pub acl: AclHeaders,
    pub encryption: Encryption,
    pub digests: BodyDigests,
    /// A conditional write: `If-Match` (the current object's ETag) and `If-None-Match` (`*`:
    /// only if there is none).
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    /// Its Object Lock headers.
    pub lock: LockHeaders,
    /// `ChecksumAlgorithm` of CreateMultipartUpload and CopyObject (`x-amz-checksum-algorithm`)
    /// and CreateMultipartUpload's `ChecksumType` (`x-amz-checksum-type`), as given.
    pub checksum_algorithm: Option<String>,
    pub checksum_type: Option<String>,
}

/// A write's Object Lock headers: `x-amz-object-lock-mode`, `-retain-until-date` and
/// `-legal-hold`, as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LockHeaders {
    pub mode: Option<String>,
    pub retain_until: Option<String>,
    pub legal_hold: Option<String>,
}

impl LockHeaders {
    fn read(req: &Request<'_>) -> LockHeaders {
        let header = |name: &str| req.header(name).map(|v| v.trim().to_string());
        LockHeaders {
            mode: header("x-amz-object-lock-mode"),
            retain_until: header("x-amz-object-lock-retain-until-date"),
            legal_hold: header("x-amz-object-lock-legal-hold"),
        }
    }

    /// Whether any is given.
    pub fn any(&self) -> bool {
        self.mode.is_some() || self.retain_until.is_some() || self.legal_hold.is_some()
    }
}

/// `PutObjectLockConfiguration`'s body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ObjectLockConfiguration {
    /// `ObjectLockEnabled`.
    pub enabled: Option<String>,
    /// Whether there is a `Rule`.
    pub rule: bool,
    /// `DefaultRetention`'s `Mode`, `Days` and `Years`, as given.
    pub mode: Option<String>,
    pub days: Option<String>,
    pub years: Option<String>,
}

/// Whether `x-amz-bypass-governance-retention` says `true`.
fn bypass(req: &Request<'_>) -> bool {
    req.header("x-amz-bypass-governance-retention")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

impl PutObject {
    fn read(req: &Request<'_>) -> PutObject {
        PutObject {
            fields: ObjectFields::read(req),
            acl: AclHeaders::read(req),
            encryption: Encryption::read(req),
            digests: BodyDigests::read(req),
            if_match: req.header("if-match").map(str::to_string),
            if_none_match: req.header("if-none-match").map(str::to_string),
            lock: LockHeaders::read(req),
            checksum_algorithm: req.header("x-amz-checksum-algorithm").map(str::to_string),
            checksum_type: req.header("x-amz-checksum-type").map(str::to_string),
        }
    }
}

/// `CopyObject` and `UploadPartCopy`'s source: `CopySource` (`[/]bucket/key[?versionId=ID]`,
/// URL-encoded), `CopySourceRange`, and its SSE-C key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CopySource {
    pub copy_source: String,
    pub copy_source_range: Option<String>,
    pub customer: CustomerKeyHeaders,
}

impl CopySource {
    fn read(req: &Request<'_>) -> CopySource {
        CopySource {
            copy_source: req.header("x-amz-copy-source").unwrap_or_default().to_string(),
            copy_source_range: req.header("x-amz-copy-source-range").map(str::to_string),
            customer: CustomerKeyHeaders::read(req, super::sse::COPY_SOURCE),
        }
    }
}

/// `CopyObject`: the source, the directives, and the write's own members (used for what the
/// directives say to replace).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CopyObject {
    pub source: CopySource,
    /// `MetadataDirective` is `REPLACE`.
    pub replace_metadata: bool,
    /// `TaggingDirective` is `REPLACE`.
    pub replace_tagging: bool,
    pub put: PutObject,
}

/// `GetObject` and `HeadObject`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GetObject {
    pub version_id: Option<String>,
    pub range: Option<String>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    /// `IfModifiedSince`, in milliseconds (a date that does not read is ignored, as S3 does).
    pub if_modified_since: Option<i64>,
    pub if_unmodified_since: Option<i64>,
    pub customer: CustomerKeyHeaders,
    /// Whether the request carries a write's encryption headers (`x-amz-server-side-encryption`
    /// or its KMS key id), which S3 refuses on reads.
    pub write_encryption: bool,
    /// `partNumber`: one part of a multipart object (part 1 of any other is all of it).
    pub part_number: Option<String>,
    /// GetObjectAttributes: `x-amz-object-attributes` (each trimmed), `x-amz-max-parts`,
    /// `x-amz-part-number-marker`.
    pub object_attributes: Vec<String>,
    pub max_parts: Option<String>,
    pub part_number_marker: Option<String>,
    /// `response-content-type` and its kin: (header, value) the answer is to carry instead.
    pub overrides: Vec<(String, String)>,
    /// `ChecksumMode` is `ENABLED` (`x-amz-checksum-mode`): the answer carries the object's
    /// checksum.
    pub checksum_mode: bool,
}

/// `ListBuckets`: `max-buckets`, `continuation-token`, `prefix`, `bucket-region`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ListBuckets {
    pub max_buckets: Option<String>,
    pub continuation_token: Option<String>,
    pub prefix: Option<String>,
    pub bucket_region: Option<String>,
}

/// `ListObjects` and `ListObjectsV2`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ListObjects {
    pub prefix: String,
    pub delimiter: String,
    /// `MaxKeys` as given: `InvalidArgument` if it does not read as a number.
    pub max_keys: Option<String>,
    pub marker: Option<String>,
    pub continuation_token: Option<String>,
    pub start_after: Option<String>,
    /// `encoding-type`: `url` asks for keys and prefixes percent-encoded.
    pub encoding_type: Option<String>,
    /// `fetch-owner` (ListObjectsV2): each key's owner too.
    pub fetch_owner: bool,
}

/// `ListObjectVersions`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ListObjectVersions {
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Empty markers are no markers.
    pub key_marker: Option<String>,
    pub version_id_marker: Option<String>,
    /// At most 1,000; a value that does not read is the default.
    pub max_keys: usize,
}

/// `DeleteObjects`' `Delete`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DeleteObjects {
    /// (`Key`, `VersionId`) of each `Object`.
    pub objects: Vec<(String, Option<String>)>,
    pub quiet: bool,
    /// `x-amz-bypass-governance-retention: true`.
    pub bypass: bool,
}

/// `UploadPart` and `UploadPartCopy`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct UploadPart {
    pub upload_id: String,
    /// `PartNumber`, if it reads as one (1 to 10,000 is checked by the operation).
    pub part_number: Option<u32>,
    pub customer: CustomerKeyHeaders,
    pub digests: BodyDigests,
    /// `UploadPartCopy`'s source.
    pub source: Option<CopySource>,
}

/// `CompleteMultipartUpload`'s `MultipartUpload`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CompleteMultipartUpload {
    pub upload_id: String,
    /// Each `Part`'s `PartNumber` that reads as a number.
    pub part_numbers: Vec<u32>,
    /// Each `Part`'s `ETag`.
    pub etags: Vec<String>,
    /// (`PartNumber`, algorithm, value) of each `Part` that gives a number and a `Checksum*`
    /// member (the first it gives).
    pub part_checksums: Vec<(u32, ChecksumAlgorithm, String)>,
    /// The whole object's checksum the request gives (`x-amz-checksum-*`, the first).
    pub checksum: Option<(ChecksumAlgorithm, String)>,
    /// `ChecksumType` (`x-amz-checksum-type`), as given.
    pub checksum_type: Option<String>,
    /// A conditional write, as `PutObject`'s.
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

/// `PutBucketAcl` and `PutObjectAcl`: the headers, and the `AccessControlPolicy` body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PutAcl {
    pub acl: AclHeaders,
    /// The body's `AccessControlPolicy` as it reads (none without a body), or S3's refusal of
    /// it (answered once the request is authorized).
    pub policy: Option<Result<super::acl::Requested, ApiError>>,
    /// `versionId` (PutObjectAcl).
    pub version_id: Option<String>,
}

/// A request's input: the operation's members.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Input {
    /// An operation with no members beyond its bucket and key.
    #[default]
    None,
    CreateBucket {
        location_constraint: Option<String>,
        acl: AclHeaders,
        /// `x-amz-object-ownership`, as given.
        object_ownership: Option<String>,
        /// `x-amz-bucket-object-lock-enabled: true`: the bucket has Object Lock (and
        /// versioning) from the start.
        object_lock: bool,
    },
    ListBuckets(ListBuckets),
    ListObjects(ListObjects),
    ListObjectVersions(ListObjectVersions),
    PutBucketVersioning {
        /// `Status`, when there is one.
        status: Option<String>,
    },
    PutBucketPolicy {
        /// The policy document (the body), if it is UTF-8.
        policy: Option<String>,
    },
    PutBucketEncryption {
        sse_algorithm: String,
        kms_master_key_id: Option<String>,
        /// The rule's `BucketKeyEnabled`, as given (none: false).
        bucket_key_enabled: Option<String>,
    },
    /// `PutPublicAccessBlock` (bucket or account): `None` when the body has no
    /// `PublicAccessBlockConfiguration`.
    PutPublicAccessBlock(Option<PublicAccessBlock>),
    PutAcl(PutAcl),
    PutBucketOwnershipControls {
        object_ownership: Option<String>,
    },
    /// `PutBucketLifecycleConfiguration`'s `LifecycleConfiguration` as it reads, or what S3
    /// answers a configuration that does not (refused after authorization, as any input).
    PutBucketLifecycle(Result<Lifecycle, ApiError>),
    GetObject(GetObject),
    PutObject(PutObject),
    CopyObject(CopyObject),
    DeleteObject {
        version_id: Option<String>,
        /// `x-amz-bypass-governance-retention: true`.
        bypass: bool,
    },
    PutObjectLockConfiguration(ObjectLockConfiguration),
    /// `PutObjectRetention`: the `Retention`'s `Mode` and `RetainUntilDate` (neither: remove).
    PutObjectRetention {
        version_id: Option<String>,
        mode: Option<String>,
        retain_until: Option<String>,
        bypass: bool,
    },
    /// `PutObjectLegalHold`: the `LegalHold`'s `Status`.
    PutObjectLegalHold {
        version_id: Option<String>,
        status: Option<String>,
    },
    /// `GetObjectRetention`, `GetObjectLegalHold` and `GetObjectAcl`.
    ObjectVersion {
        version_id: Option<String>,
    },
    DeleteObjects(DeleteObjects),
    PutObjectTagging {
        /// Each `Tag`'s `Key` and `Value`, in order.
        tags: Vec<(String, String)>,
    },
    CreateMultipartUpload(PutObject),
    UploadPart(UploadPart),
    /// `ListParts` and `AbortMultipartUpload`.
    Upload {
        upload_id: String,
    },
    CompleteMultipartUpload(CompleteMultipartUpload),
    /// `PutBucketCors`: the rules, or S3's refusal of the configuration (answered once the
    /// request is authorized).
    PutBucketCors(Result<Vec<crate::records::s3::CorsRule>, crate::error::ApiError>),
    /// A CORS preflight's question (`OPTIONS`).
    Preflight(super::cors::Preflight),
    /// A browser upload's form.
    PostObject(Box<PostObject>),
}

/// A browser upload (`POST` of a form to the bucket): the form's fields, read as S3 reads
/// them, and the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PostObject {
    /// Whether the body reads as a form at all.
    pub readable: bool,
    /// Every field before the file (names as sent, values as text), for the policy's checks.
    pub fields: Vec<(String, String)>,
    /// `key`, with `${filename}` replaced by the file's name.
    pub key: Option<String>,
    /// The file's bytes, if the form has a `file` field.
    pub file: Option<Vec<u8>>,
    /// The base64 policy document, if any.
    pub policy: Option<String>,
    pub success_action_status: Option<String>,
    pub success_action_redirect: Option<String>,
    /// What the form's fields say of the object, as a PutObject's headers would.
    pub put: PutObject,
}

impl PostObject {
    /// Reads a form body; the fields that are an object's headers (`Content-Type`,
    /// `x-amz-meta-*`, `acl`, `tagging`, encryption, Object Lock, ...) are read as a PutObject
    /// reads its headers.
    fn read(req: &Request<'_>, body: &[u8]) -> PostObject {
        let Some(fields) = req
            .header("content-type")
            .and_then(crate::protocol::form::boundary)
            .and_then(|b| crate::protocol::form::parse(&b, body).ok())
        else {
            return PostObject::default();
        };
        let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
        let file = fields.iter().find(|f| f.name.eq_ignore_ascii_case("file"));
        let named: Vec<(String, String)> = fields
            .iter()
            .filter(|f| !f.name.eq_ignore_ascii_case("file"))
            .map(|f| (f.name.clone(), text(&f.value)))
            .collect();
        let field = |name: &str| {
            named.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
        };
        let filename = file.and_then(|f| f.filename.clone()).unwrap_or_default();
        // The headers a PutObject of this form would send.
        let mut headers: Vec<(String, String)> = named
            .iter()
            .filter_map(|(name, value)| {
                let lower = name.to_ascii_lowercase();
                let header = match lower.as_str() {
                    "acl" => "x-amz-acl".to_string(),
                    "tagging" => {
                        let tags: Vec<(String, String)> = xml::elements(value.as_bytes(), "Key")
                            .into_iter()
                            .zip(xml::elements(value.as_bytes(), "Value"))
                            .collect();
                        let query = tags
                            .iter()
                            .map(|(k, v)| {
                                format!(
                                    "{}={}",
                                    sigv4::encode::uri_encode(k, true),
                                    sigv4::encode::uri_encode(v, true)
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("&");
                        return Some(("x-amz-tagging".to_string(), query));
                    }
                    "content-type"
                    | "cache-control"
                    | "content-disposition"
                    | "content-encoding"
                    | "content-language"
                    | "expires"
                    | "content-md5" => lower,
                    _ if lower.starts_with("x-amz-") => lower,
                    _ => return None,
                };
                Some((header, value.clone()))
            })
            .collect();
        if field("content-type").is_none() {
            if let Some(t) = file.and_then(|f| f.content_type.clone()) {
                headers.push(("content-type".into(), t));
            }
        }
        let refs: Vec<(&str, &str)> =
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let as_put = Request {
            method: "PUT",
            path: req.path,
            headers: &refs,
            target: None,
            params: Vec::new(),
            query_params: Vec::new(),
            body: &[],
            payload: sigv4::PayloadMode::Verified,
            stream: std::cell::RefCell::new(None),
        };
        PostObject {
            readable: true,
            key: field("key").map(|k| k.replace("${filename}", &filename)),
            file: file.map(|f| f.value.clone()),
            policy: field("policy"),
            success_action_status: field("success_action_status"),
            success_action_redirect: field("success_action_redirect").or_else(|| field("redirect")),
            put: PutObject::read(&as_put),
            fields: named,
        }
    }
}

impl Input {
    /// Reads `op`'s members from the request (its body decoded).
    pub fn read(op: S3Operation, req: &Request<'_>, body: &[u8]) -> Input {
        use S3Operation as Op;
        let param = |name: &str| {
            req.query_params.iter().find(|(k, _)| k == name).map(|(_, v)| v.to_string())
        };
        let non_empty = |name: &str| param(name).filter(|v| !v.is_empty());
        match op {
            Op::CreateBucket => Input::CreateBucket {
                location_constraint: xml::element(body, "LocationConstraint"),
                acl: AclHeaders::read(req),
                object_ownership: req.header("x-amz-object-ownership").map(str::to_string),
                object_lock: req
                    .header("x-amz-bucket-object-lock-enabled")
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            },
            Op::ListObjects | Op::ListObjectsV2 => Input::ListObjects(ListObjects {
                prefix: param("prefix").unwrap_or_default(),
                delimiter: param("delimiter").unwrap_or_default(),
                max_keys: param("max-keys"),
                marker: param("marker"),
                continuation_token: param("continuation-token"),
                start_after: param("start-after"),
                encoding_type: param("encoding-type"),
                fetch_owner: param("fetch-owner").is_some_and(|v| v == "true"),
            }),
            Op::ListObjectVersions => Input::ListObjectVersions(ListObjectVersions {
                prefix: param("prefix").unwrap_or_default(),
                delimiter: param("delimiter"),
                key_marker: non_empty("key-marker"),
                version_id_marker: non_empty("version-id-marker"),
                max_keys: param("max-keys")
                    .and_then(|m| m.parse::<usize>().ok())
                    .unwrap_or(1000)
                    .min(1000),
            }),
            Op::PutBucketVersioning => {
                Input::PutBucketVersioning { status: xml::element(body, "Status") }
            }
            Op::PutBucketPolicy => {
                Input::PutBucketPolicy { policy: String::from_utf8(body.to_vec()).ok() }
            }
            Op::PutBucketEncryption => Input::PutBucketEncryption {
                sse_algorithm: xml::element(body, "SSEAlgorithm").unwrap_or_default(),
                kms_master_key_id: xml::element(body, "KMSMasterKeyID"),
                bucket_key_enabled: xml::element(body, "BucketKeyEnabled")
                    .map(|v| v.trim().to_string()),
            },
            Op::PutPublicAccessBlock | Op::PutAccountPublicAccessBlock => {
                Input::PutPublicAccessBlock(public_access_block(body))
            }
            Op::PutBucketAcl | Op::PutObjectAcl => Input::PutAcl(PutAcl {
                acl: AclHeaders::read(req),
                policy: (!body.iter().all(u8::is_ascii_whitespace))
                    .then(|| super::acl::read_policy(body)),
                version_id: param("versionId"),
            }),
            Op::PutBucketOwnershipControls => Input::PutBucketOwnershipControls {
                object_ownership: xml::element(body, "ObjectOwnership"),
            },
            Op::PutBucketLifecycleConfiguration => {
                Input::PutBucketLifecycle(super::lifecycle::read(body))
            }
            Op::GetObject | Op::HeadObject | Op::GetObjectAttributes => {
                Input::GetObject(GetObject {
                    version_id: param("versionId"),
                    range: req.header("range").map(str::to_string),
                    if_match: req.header("if-match").map(str::to_string),
                    if_none_match: req.header("if-none-match").map(str::to_string),
                    if_modified_since: req
                        .header("if-modified-since")
                        .and_then(super::objects::parse_http_date),
                    if_unmodified_since: req
                        .header("if-unmodified-since")
                        .and_then(super::objects::parse_http_date),
                    customer: CustomerKeyHeaders::read(req, super::sse::CUSTOMER),
                    write_encryption: req.header("x-amz-server-side-encryption").is_some()
                        || req.header("x-amz-server-side-encryption-aws-kms-key-id").is_some(),
                    part_number: param("partNumber"),
                    object_attributes: req
                        .headers
                        .iter()
                        .filter(|(n, _)| n.eq_ignore_ascii_case("x-amz-object-attributes"))
                        .flat_map(|(_, v)| v.split(','))
                        .map(|a| a.trim().to_string())
                        .filter(|a| !a.is_empty())
                        .collect(),
                    max_parts: req.header("x-amz-max-parts").map(str::to_string),
                    part_number_marker: req.header("x-amz-part-number-marker").map(str::to_string),
                    overrides: [
                        ("response-content-type", "content-type"),
                        ("response-content-language", "content-language"),
                        ("response-expires", "expires"),
                        ("response-cache-control", "cache-control"),
                        ("response-content-disposition", "content-disposition"),
                        ("response-content-encoding", "content-encoding"),
                    ]
                    .into_iter()
                    .filter_map(|(p, h)| param(p).map(|v| (h.to_string(), v)))
                    .collect(),
                    checksum_mode: req
                        .header("x-amz-checksum-mode")
                        .is_some_and(|m| m.trim().eq_ignore_ascii_case("ENABLED")),
                })
            }
            Op::PutObject => Input::PutObject(PutObject::read(req)),
            Op::CopyObject => Input::CopyObject(CopyObject {
                source: CopySource::read(req),
                replace_metadata: req.header("x-amz-metadata-directive") == Some("REPLACE"),
                replace_tagging: req.header("x-amz-tagging-directive") == Some("REPLACE"),
                put: PutObject::read(req),
            }),
            Op::DeleteObject => {
                Input::DeleteObject { version_id: param("versionId"), bypass: bypass(req) }
            }
            Op::DeleteObjects => Input::DeleteObjects(DeleteObjects {
                objects: xml::delete_objects(body),
                quiet: xml::element(body, "Quiet").as_deref() == Some("true"),
                bypass: bypass(req),
            }),
            Op::PutObjectLockConfiguration => {
                Input::PutObjectLockConfiguration(ObjectLockConfiguration {
                    enabled: xml::element(body, "ObjectLockEnabled"),
                    rule: xml::element(body, "Rule").is_some(),
                    mode: xml::element(body, "Mode"),
                    days: xml::element(body, "Days"),
                    years: xml::element(body, "Years"),
                })
            }
            Op::PutObjectRetention => Input::PutObjectRetention {
                version_id: param("versionId"),
                mode: xml::element(body, "Mode"),
                retain_until: xml::element(body, "RetainUntilDate"),
                bypass: bypass(req),
            },
            Op::PutObjectLegalHold => Input::PutObjectLegalHold {
                version_id: param("versionId"),
                status: xml::element(body, "Status"),
            },
            Op::GetObjectRetention | Op::GetObjectLegalHold | Op::GetObjectAcl => {
                Input::ObjectVersion { version_id: param("versionId") }
            }
            Op::PutObjectTagging | Op::PutBucketTagging => Input::PutObjectTagging {
                tags: xml::elements(body, "Key")
                    .into_iter()
                    .zip(xml::elements(body, "Value"))
                    .collect(),
            },
            Op::CreateMultipartUpload => Input::CreateMultipartUpload(PutObject::read(req)),
            Op::UploadPart | Op::UploadPartCopy => Input::UploadPart(UploadPart {
                upload_id: param("uploadId").unwrap_or_default(),
                part_number: param("partNumber").and_then(|n| n.parse().ok()),
                customer: CustomerKeyHeaders::read(req, super::sse::CUSTOMER),
                digests: BodyDigests::read(req),
                source: (op == Op::UploadPartCopy).then(|| CopySource::read(req)),
            }),
            Op::ListParts | Op::AbortMultipartUpload => {
                Input::Upload { upload_id: param("uploadId").unwrap_or_default() }
            }
            Op::CompleteMultipartUpload => {
                Input::CompleteMultipartUpload(CompleteMultipartUpload {
                    upload_id: param("uploadId").unwrap_or_default(),
                    part_numbers: xml::elements(body, "PartNumber")
                        .iter()
                        .filter_map(|n| n.parse().ok())
                        .collect(),
                    etags: xml::elements(body, "ETag"),
                    part_checksums: part_checksums(body),
                    checksum: ChecksumAlgorithm::ALL
                        .into_iter()
                        .find_map(|a| req.header(a.header()).map(|v| (a, v.trim().to_string()))),
                    checksum_type: req.header("x-amz-checksum-type").map(str::to_string),
                    if_match: req.header("if-match").map(str::to_string),
                    if_none_match: req.header("if-none-match").map(str::to_string),
                })
            }
            Op::PutBucketCors => Input::PutBucketCors(super::cors::read_configuration(body)),
            Op::PreflightRequest => Input::Preflight(super::cors::Preflight::read(req)),
            Op::PostObject => Input::PostObject(Box::new(PostObject::read(req, body))),
            Op::ListBuckets => Input::ListBuckets(ListBuckets {
                max_buckets: param("max-buckets"),
                continuation_token: param("continuation-token"),
                prefix: param("prefix"),
                bucket_region: param("bucket-region"),
            }),
            _ => Input::None,
        }
    }
}

/// (`PartNumber`, algorithm, value) of each `Part` of a `CompleteMultipartUpload` that gives a
/// number and a `Checksum*` member.
fn part_checksums(body: &[u8]) -> Vec<(u32, ChecksumAlgorithm, String)> {
    xml::sections(body, "Part")
        .iter()
        .filter_map(|part| {
            let part = part.as_bytes();
            let number = xml::element(part, "PartNumber")?.trim().parse().ok()?;
            let (algorithm, value) = ChecksumAlgorithm::ALL
                .into_iter()
                .find_map(|a| xml::element(part, a.member()).map(|v| (a, v)))?;
            Some((number, algorithm, value.trim().to_string()))
        })
        .collect()
}

/// A `PublicAccessBlockConfiguration` (a flag is on when it says `true`).
fn public_access_block(body: &[u8]) -> Option<PublicAccessBlock> {
    xml::element(body, "PublicAccessBlockConfiguration")?;
    let on = |name: &str| {
        xml::element(body, name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    };
    Some(PublicAccessBlock {
        block_public_acls: on("BlockPublicAcls"),
        ignore_public_acls: on("IgnorePublicAcls"),
        block_public_policy: on("BlockPublicPolicy"),
        restrict_public_buckets: on("RestrictPublicBuckets"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::cell::RefCell;

    fn request<'a>(
        headers: &'a [(&'a str, &'a str)],
        query: &[(&str, &str)],
        body: &'a [u8],
    ) -> Request<'a> {
        Request {
            method: "PUT",
            path: "/b/k",
            headers,
            target: None,
            params: Vec::new(),
            query_params: query.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect(),
            body,
            payload: sigv4::PayloadMode::Verified,
            stream: RefCell::new(None),
        }
    }

    /// A PutObject's members are read from its headers, once, as botocore names them.
    #[test]
    fn put_object_reads_its_headers() {
        let headers = [
            ("Content-Type", "text/plain"),
            ("Content-Encoding", "aws-chunked"),
            ("X-Amz-Meta-Owner", "ann"),
            ("x-amz-tagging", "team=blue&team=red&x=y%20z"),
            ("x-amz-server-side-encryption", "aws:kms"),
            ("x-amz-server-side-encryption-aws-kms-key-id", "alias/k"),
            ("x-amz-server-side-encryption-bucket-key-enabled", " true"),
            ("x-amz-acl", "private"),
            ("x-amz-grant-read", "id=1"),
            ("Content-MD5", " bWQ1 "),
            ("x-amz-checksum-sha256", "c2hh"),
            ("x-amz-decoded-content-length", "5"),
            ("content-length", "99"),
        ];
        let req = request(&headers, &[], b"");
        let Input::PutObject(put) = Input::read(S3Operation::PutObject, &req, b"") else {
            panic!("not a PutObject input")
        };
        assert_eq!(put.fields.content_type, "text/plain");
        assert_eq!(put.fields.content_encoding, "", "aws-chunked is the request's framing");
        assert_eq!(put.fields.metadata.get("owner").map(String::as_str), Some("ann"));
        assert_eq!(put.fields.tagging.get("team").map(String::as_str), Some("red"));
        assert_eq!(put.fields.tagging.get("x").map(String::as_str), Some("y z"));
        assert_eq!(put.encryption.server_side_encryption.as_deref(), Some("aws:kms"));
        assert_eq!(put.encryption.ssekms_key_id.as_deref(), Some("alias/k"));
        assert_eq!(put.encryption.bucket_key_enabled.as_deref(), Some("true"));
        assert!(!put.encryption.customer.any());
        assert_eq!(
            put.acl,
            AclHeaders {
                acl: Some("private".into()),
                grants: vec![(Permission::Read, "id=1".into())]
            }
        );
        assert_eq!(put.digests.content_md5.as_deref(), Some("bWQ1"));
        assert_eq!(
            put.digests.checksums,
            [("x-amz-checksum-sha256".to_string(), "c2hh".to_string())]
        );
        assert_eq!(put.digests.length, Some(5), "the decoded length, not the framed one");
        assert_eq!(put.digests.trailer, None);
        // A trailing checksum is named by `x-amz-trailer`; a multipart upload's by its headers.
        let headers = [
            ("x-amz-trailer", "x-amz-checksum-crc64nvme"),
            ("x-amz-checksum-algorithm", "sha1"),
            ("x-amz-checksum-type", "COMPOSITE"),
        ];
        let req = request(&headers, &[], b"");
        let Input::CreateMultipartUpload(create) =
            Input::read(S3Operation::CreateMultipartUpload, &req, b"")
        else {
            panic!("not a CreateMultipartUpload input")
        };
        assert_eq!(create.digests.trailer, Some(ChecksumAlgorithm::Crc64Nvme));
        assert_eq!(create.checksum_algorithm.as_deref(), Some("sha1"));
        assert_eq!(create.checksum_type.as_deref(), Some("COMPOSITE"));
    }

    /// Bodies are read into their members: a batch delete, a completion, a configuration.
    #[test]
    fn bodies_are_read_into_members() {
        let delete = b"<Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId>v1</VersionId></Object></Delete>";
        let req = request(&[], &[], delete);
        assert_eq!(
            Input::read(S3Operation::DeleteObjects, &req, delete),
            Input::DeleteObjects(DeleteObjects {
                objects: vec![("a&b".into(), None), ("c".into(), Some("v1".into()))],
                quiet: true,
                bypass: false,
            })
        );
        let complete = b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part><Part><PartNumber>x</PartNumber><ETag>\"e2\"</ETag></Part></CompleteMultipartUpload>";
        let req = request(&[], &[("uploadId", "u1")], complete);
        let Input::CompleteMultipartUpload(c) =
            Input::read(S3Operation::CompleteMultipartUpload, &req, complete)
        else {
            panic!("not a completion")
        };
        assert_eq!(c.upload_id, "u1");
        // A part number that does not read is left out, so the counts differ (MalformedXML).
        assert_eq!(c.part_numbers, [1]);
        assert_eq!(c.etags.len(), 2);
        assert!(c.part_checksums.is_empty() && c.checksum.is_none());
        let complete = b"<CompleteMultipartUpload><Part><ETag>e1</ETag><ChecksumSHA256>c2E=</ChecksumSHA256><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>e2</ETag></Part><Part><PartNumber>3</PartNumber><ChecksumCRC32C>Y3I=</ChecksumCRC32C></Part></CompleteMultipartUpload>";
        let headers =
            [("x-amz-checksum-sha256", " d2hvbGU=-3 "), ("x-amz-checksum-type", "COMPOSITE")];
        let req = request(&headers, &[("uploadId", "u1")], complete);
        let Input::CompleteMultipartUpload(c) =
            Input::read(S3Operation::CompleteMultipartUpload, &req, complete)
        else {
            panic!("not a completion")
        };
        assert_eq!(
            c.part_checksums,
            [
                (1, ChecksumAlgorithm::Sha256, "c2E=".to_string()),
                (3, ChecksumAlgorithm::Crc32c, "Y3I=".to_string())
            ]
        );
        assert_eq!(c.checksum, Some((ChecksumAlgorithm::Sha256, "d2hvbGU=-3".to_string())));
        assert_eq!(c.checksum_type.as_deref(), Some("COMPOSITE"));
        let block = b"<PublicAccessBlockConfiguration><BlockPublicAcls>TRUE</BlockPublicAcls></PublicAccessBlockConfiguration>";
        let req = request(&[], &[], block);
        let Input::PutPublicAccessBlock(Some(config)) =
            Input::read(S3Operation::PutPublicAccessBlock, &req, block)
        else {
            panic!("no configuration")
        };
        assert!(config.block_public_acls && !config.block_public_policy);
        assert_eq!(
            Input::read(S3Operation::PutPublicAccessBlock, &req, b"<Other/>"),
            Input::PutPublicAccessBlock(None)
        );
        let encryption = b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>";
        let req = request(&[], &[], encryption);
        assert_eq!(
            Input::read(S3Operation::PutBucketEncryption, &req, encryption),
            Input::PutBucketEncryption {
                sse_algorithm: "aws:kms".into(),
                kms_master_key_id: Some("alias/k".into()),
                bucket_key_enabled: Some("true".into()),
            }
        );
    }

    /// An ACL's members: the grant headers by permission, the body's `AccessControlPolicy`
    /// (none without a body, S3's refusal for one that does not read), the version; and
    /// CreateBucket's `x-amz-object-ownership`.
    #[test]
    fn acl_members_are_read() {
        let headers = [
            ("x-amz-grant-read-acp", "id=\"444455556666\""),
            ("X-Amz-Grant-Full-Control", "id=111122223333"),
            ("x-amz-grant-unknown", "id=1"),
        ];
        let req = request(&headers, &[("versionId", "v1")], b"");
        let Input::PutAcl(acl) = Input::read(S3Operation::PutObjectAcl, &req, b"") else {
            panic!("not an ACL input")
        };
        assert_eq!(
            acl.acl.grants,
            [
                (Permission::ReadAcp, "id=\"444455556666\"".to_string()),
                (Permission::FullControl, "id=111122223333".to_string())
            ]
        );
        assert_eq!((acl.policy, acl.version_id.as_deref()), (None, Some("v1")));
        let body = b"<AccessControlPolicy><AccessControlList><Grant><Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>";
        let req = request(&[], &[], body);
        let Input::PutAcl(acl) = Input::read(S3Operation::PutBucketAcl, &req, body) else {
            panic!("not an ACL input")
        };
        assert_eq!(acl.policy.unwrap().unwrap().grants.len(), 1);
        let Input::PutAcl(acl) = Input::read(S3Operation::PutBucketAcl, &req, b"<Nothing/>") else {
            panic!("not an ACL input")
        };
        assert_eq!(acl.policy.unwrap().unwrap_err().code, "MalformedACLError");
        let req = request(&[("x-amz-object-ownership", "ObjectWriter")], &[], b"");
        let Input::CreateBucket { object_ownership, .. } =
            Input::read(S3Operation::CreateBucket, &req, b"")
        else {
            panic!("not CreateBucket's input")
        };
        assert_eq!(object_ownership.as_deref(), Some("ObjectWriter"));
        let req = request(&[], &[("versionId", "v2")], b"");
        assert_eq!(
            Input::read(S3Operation::GetObjectAcl, &req, b""),
            Input::ObjectVersion { version_id: Some("v2".into()) }
        );
    }

    /// Query members: listings and versions.
    #[test]
    fn query_members_are_read() {
        let req = request(
            &[],
            &[
                ("prefix", "p/"),
                ("max-keys", "abc"),
                ("key-marker", ""),
                ("version-id-marker", "v"),
            ],
            b"",
        );
        let Input::ListObjectVersions(v) = Input::read(S3Operation::ListObjectVersions, &req, b"")
        else {
            panic!("not a version listing")
        };
        assert_eq!((v.prefix.as_str(), v.max_keys), ("p/", 1000));
        assert_eq!((v.key_marker, v.version_id_marker.as_deref()), (None, Some("v")));
        let Input::ListObjects(l) = Input::read(S3Operation::ListObjectsV2, &req, b"") else {
            panic!("not a listing")
        };
        // Refused by the operation (InvalidArgument), not dropped.
        assert_eq!(l.max_keys.as_deref(), Some("abc"));
    }
}
