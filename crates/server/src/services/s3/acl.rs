//! S3 access control lists, the pure part: what a request asks an ACL to be (a canned ACL,
//! `x-amz-grant-*` headers, or an `AccessControlPolicy` body), its grantees resolved, the ACL
//! as S3 answers it, and the ACL as what it is to the evaluator: **resource-policy statements**
//! evaluated with the bucket policy by `policy::evaluate` (AWS describes ACLs as resource-based
//! permissions), never a check of its own (STYLE 13, decision 018).
//!
//! The translation, per grant (AWS's mapping of ACL permissions to policy actions):
//!
//! | grantee | `Principal` |
//! |---|---|
//! | an account (canonical id = account id) | `{"AWS": "arn:aws:iam::ID:root"}` |
//! | `AllUsers` | `"*"` |
//! | `AuthenticatedUsers` | `"*"`, with `"Null": {"aws:PrincipalAccount": "false"}` (only signed callers of an account have that key) |
//! | `LogDelivery` | `{"Service": "logging.s3.amazonaws.com"}` |
//!
//! | permission | on a bucket | on an object |
//! |---|---|---|
//! | `READ` | `s3:ListBucket`, `s3:ListBucketVersions`, `s3:ListBucketMultipartUploads` | `s3:GetObject`, `s3:GetObjectVersion` |
//! | `WRITE` | `s3:PutObject`, `s3:DeleteObject` on `BUCKET/*` | nothing |
//! | `READ_ACP` | `s3:GetBucketAcl` | `s3:GetObjectAcl`, `s3:GetObjectVersionAcl` |
//! | `WRITE_ACP` | `s3:PutBucketAcl` | `s3:PutObjectAcl`, `s3:PutObjectVersionAcl` |
//! | `FULL_CONTROL` | all of the above | all of the above |
//!
//! A grant to the owner's own account adds nothing the evaluator does not already give (its
//! root user needs no policy, its IAM identities need their own allow either way), so it
//! becomes no statement. Cross-account grants then work as any resource policy does: the other
//! account's root user is allowed, its IAM identities need their own allow too, and a Deny
//! anywhere still wins.

use super::input::AclHeaders;
use super::{s3err, xml};
use crate::error::ApiError;
use crate::pipeline::identity::OPERATOR_ACCOUNT;
use crate::records::s3::{Acl, AclGroup, Grant, Grantee, Permission};
use serde_json::{json, Map, Value};

/// The most grants one ACL may have (S3's limit).
pub const MAX_GRANTS: usize = 100;

/// The service principal S3's `LogDelivery` group stands for.
const LOG_DELIVERY: &str = "logging.s3.amazonaws.com";

/// XML Schema instance namespace, for `Grantee`'s `xsi:type`.
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// A grantee as a request names it, before it is resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Named {
    /// `id="..."`, `<ID>`: a canonical id.
    Id(String),
    /// `uri="..."`, `<URI>`: a group.
    Uri(String),
    /// `emailAddress="..."`, `<EmailAddress>`.
    Email(String),
}

/// An ACL as a request gives it, its grantees not yet resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Requested {
    /// Each grant, in order.
    pub grants: Vec<(Named, Permission)>,
    /// The canned ACL it came from, if it did (`bucket-owner-full-control` decides who an
    /// object is written for under `BucketOwnerPreferred`).
    pub canned: Option<String>,
}

impl Requested {
    /// Whether it gives exactly `owner` full control and nothing else (what a bucket whose
    /// ACLs are disabled accepts).
    pub fn is_owner_full_control(&self, owner: &str) -> bool {
        !self.grants.is_empty()
            && self.grants.iter().all(|(named, permission)| {
                matches!(named, Named::Id(id) if id == owner)
                    && *permission == Permission::FullControl
            })
    }
}

fn invalid_argument(message: impl Into<String>) -> ApiError {
    s3err(400, "InvalidArgument", message)
}

fn malformed() -> ApiError {
    s3err(
        400,
        "MalformedACLError",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// The grants of canned ACL `name` for a resource `owner` owns: the owner's full control and
/// what the name adds. `bucket-owner-read` and `bucket-owner-full-control` add nothing here
/// (the bucket owner owns every object, decision 018); `aws-exec-read`'s grant is to EC2,
/// which has no principal here, so it adds nothing either.
pub(crate) fn canned(name: &str, owner: &str) -> Result<Requested, ApiError> {
    let all = || Named::Uri(AclGroup::AllUsers.uri().to_string());
    let added: Vec<(Named, Permission)> = match name {
        "private" | "bucket-owner-read" | "bucket-owner-full-control" | "aws-exec-read" => {
            Vec::new()
        }
        "public-read" => vec![(all(), Permission::Read)],
        "public-read-write" => vec![(all(), Permission::Read), (all(), Permission::Write)],
        "authenticated-read" => {
            vec![(Named::Uri(AclGroup::AuthenticatedUsers.uri().to_string()), Permission::Read)]
        }
        "log-delivery-write" => {
            let log = || Named::Uri(AclGroup::LogDelivery.uri().to_string());
            vec![(log(), Permission::Write), (log(), Permission::ReadAcp)]
        }
        other => return Err(invalid_argument(format!("Invalid canned ACL: `{other}`"))),
    };
    let mut grants = vec![(Named::Id(owner.to_string()), Permission::FullControl)];
    grants.extend(added);
    Ok(Requested { grants, canned: Some(name.to_string()) })
}

/// The grantees of one `x-amz-grant-*` header: `id="..."`, `uri="..."` or
/// `emailAddress="..."`, comma-separated (quotes optional).
fn header_grantees(value: &str) -> Result<Vec<Named>, ApiError> {
    let invalid = || invalid_argument(format!("Invalid grant header: `{value}`"));
    value
        .split(',')
        .map(|part| {
            let (kind, text) = part.trim().split_once('=').ok_or_else(invalid)?;
            let text = text.trim().trim_matches('"').to_string();
            if text.is_empty() {
                return Err(invalid());
            }
            match kind.trim().to_ascii_lowercase().as_str() {
                "id" => Ok(Named::Id(text)),
                "uri" => Ok(Named::Uri(text)),
                "emailaddress" => Ok(Named::Email(text)),
                _ => Err(invalid()),
            }
        })
        .collect()
}

/// What a request's `x-amz-acl` and `x-amz-grant-*` headers ask for a resource `owner` owns;
/// `None` when it sends neither. Both at once are refused, as S3 refuses them.
pub(crate) fn from_headers(
    headers: &AclHeaders,
    owner: &str,
) -> Result<Option<Requested>, ApiError> {
    match (&headers.acl, headers.grants.is_empty()) {
        (Some(_), false) => Err(s3err(
            400,
            "InvalidRequest",
            "Specifying both Canned ACLs and Header Grants is not allowed",
        )),
        (Some(name), true) => canned(name, owner).map(Some),
        (None, false) => {
            let mut grants = Vec::new();
            for (permission, value) in &headers.grants {
                for named in header_grantees(value)? {
                    grants.push((named, *permission));
                }
            }
            Ok(Some(Requested { grants, canned: None }))
        }
        (None, true) => Ok(None),
    }
}

/// Reads an `AccessControlPolicy` body (PutBucketAcl, PutObjectAcl). Its `Owner` is not read:
/// the owner is the bucket owner's whatever a body says.
pub(crate) fn read_policy(body: &[u8]) -> Result<Requested, ApiError> {
    let policy =
        xml::sections(body, "AccessControlPolicy").into_iter().next().ok_or_else(malformed)?;
    let mut grants = Vec::new();
    for list in xml::sections(policy.as_bytes(), "AccessControlList") {
        for grant in xml::sections(list.as_bytes(), "Grant") {
            let grant = grant.as_bytes();
            let grantee =
                xml::sections(grant, "Grantee").into_iter().next().ok_or_else(malformed)?;
            let grantee = grantee.as_bytes();
            let member = |name: &str| xml::element(grantee, name).map(|v| v.trim().to_string());
            let named = if let Some(id) = member("ID") {
                Named::Id(id)
            } else if let Some(uri) = member("URI") {
                Named::Uri(uri)
            } else if let Some(email) = member("EmailAddress") {
                Named::Email(email)
            } else {
                return Err(malformed());
            };
            let permission = xml::element(grant, "Permission")
                .and_then(|p| Permission::parse(p.trim()))
                .ok_or_else(malformed)?;
            grants.push((named, permission));
        }
    }
    Ok(Requested { grants, canned: None })
}

/// Resolves a requested ACL for a resource `owner` owns: an id must be `owner` or name an
/// account (`known`, asked once per other id), a URI one of S3's groups; e-mail grantees are
/// refused (no account here has an address). Repeated grants count once.
pub(crate) fn resolve(
    requested: &Requested,
    owner: &str,
    mut known: impl FnMut(&str) -> Result<bool, ApiError>,
) -> Result<Acl, ApiError> {
    if requested.grants.len() > MAX_GRANTS {
        return Err(malformed());
    }
    let mut acl = Acl { owner: owner.to_string(), grants: Vec::new() };
    let mut checked: Vec<String> = Vec::new();
    for (named, permission) in &requested.grants {
        let grantee = match named {
            Named::Id(id) if id == owner => Grantee::CanonicalUser(id.clone()),
            Named::Id(id) => {
                let well_formed = id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit());
                let exists = checked.contains(id)
                    || (well_formed && id != OPERATOR_ACCOUNT && known(id.as_str())?);
                if !exists {
                    return Err(invalid_argument("Invalid id"));
                }
                checked.push(id.clone());
                Grantee::CanonicalUser(id.clone())
            }
            Named::Uri(uri) => Grantee::Group(
                AclGroup::from_uri(uri)
                    .ok_or_else(|| invalid_argument(format!("Invalid group uri: `{uri}`")))?,
            ),
            Named::Email(_) => {
                return Err(s3err(
                    400,
                    "UnresolvableGrantByEmailAddress",
                    "The e-mail address you provided does not match any account on record.",
                ))
            }
        };
        let grant = Grant { grantee, permission: *permission };
        if !acl.grants.contains(&grant) {
            acl.grants.push(grant);
        }
    }
    Ok(acl)
}

/// Gives `writer` full control of an object it wrote into another account's bucket (what its
/// ownership of the object would give it in AWS, decision 018), unless the ACL already does.
pub(crate) fn grant_writer(acl: &mut Acl, writer: &str) {
    let grant = Grant {
        grantee: Grantee::CanonicalUser(writer.to_string()),
        permission: Permission::FullControl,
    };
    if writer != acl.owner && !acl.grants.contains(&grant) {
        acl.grants.push(grant);
    }
}

/// An ACL as S3 answers it (`AccessControlPolicy`): owners and grantees by `ID` only (AWS
/// stopped answering `DisplayName`), groups by `URI`.
pub(crate) fn document(acl: &Acl) -> String {
    xml::document("AccessControlPolicy", xml::NS, |w| {
        w.elem("Owner", |w| {
            w.text("ID", &acl.owner);
        });
        w.elem("AccessControlList", |w| {
            for grant in &acl.grants {
                w.elem("Grant", |w| {
                    let (kind, member, value) = match &grant.grantee {
                        Grantee::CanonicalUser(id) => ("CanonicalUser", "ID", id.as_str()),
                        Grantee::Group(group) => ("Group", "URI", group.uri()),
                    };
                    let attributes = [("xmlns:xsi", XSI), ("xsi:type", kind)];
                    w.with_attributes("Grantee", &attributes, |w| {
                        w.text(member, value);
                    });
                    w.text("Permission", grant.permission.as_str());
                });
            }
        });
    })
}

/// Whose ACL it is: a bucket's (its grants reach the bucket and its objects) or one object's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum On {
    /// A bucket's ACL.
    Bucket,
    /// An object's (or one version's) ACL.
    Object,
}

/// A bucket's `READ`: listing it.
const BUCKET_READ: &[&str] =
    &["s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"];
/// A bucket's `WRITE`: writing and deleting any object in it. (AWS adds
/// `s3:DeleteObjectVersion` only for a grant to the bucket owner, which needs no statement.)
const BUCKET_WRITE: &[&str] = &["s3:PutObject", "s3:DeleteObject"];
/// An object's `READ`.
const OBJECT_READ: &[&str] = &["s3:GetObject", "s3:GetObjectVersion"];
/// An object's `READ_ACP`.
const OBJECT_READ_ACP: &[&str] = &["s3:GetObjectAcl", "s3:GetObjectVersionAcl"];
/// An object's `WRITE_ACP`.
const OBJECT_WRITE_ACP: &[&str] = &["s3:PutObjectAcl", "s3:PutObjectVersionAcl"];

/// The actions `permission` allows where its ACL is: (on the bucket itself, on objects).
fn actions(permission: Permission, on: On) -> (Vec<&'static str>, Vec<&'static str>) {
    let mut bucket: Vec<&'static str> = Vec::new();
    let mut objects: Vec<&'static str> = Vec::new();
    let every = permission == Permission::FullControl;
    match on {
        On::Bucket => {
            if every || permission == Permission::Read {
                bucket.extend_from_slice(BUCKET_READ);
            }
            if every || permission == Permission::ReadAcp {
                bucket.push("s3:GetBucketAcl");
            }
            if every || permission == Permission::WriteAcp {
                bucket.push("s3:PutBucketAcl");
            }
            if every || permission == Permission::Write {
                objects.extend_from_slice(BUCKET_WRITE);
            }
        }
        On::Object => {
            if every || permission == Permission::Read {
                objects.extend_from_slice(OBJECT_READ);
            }
            if every || permission == Permission::ReadAcp {
                objects.extend_from_slice(OBJECT_READ_ACP);
            }
            if every || permission == Permission::WriteAcp {
                objects.extend_from_slice(OBJECT_WRITE_ACP);
            }
        }
    }
    (bucket, objects)
}

/// The resource-policy statements equivalent to `acl`'s grants on `bucket` (see the module's
/// documentation); with `ignore_public` (`IgnorePublicAcls`), public grants give none. An
/// object's statements name no resource of their own (`*`): they are evaluated only in the
/// checks of that object, and its key could hold wildcard characters.
pub(crate) fn statements(acl: &Acl, on: On, bucket: &str, ignore_public: bool) -> Vec<Value> {
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let objects_arn = match on {
        On::Bucket => format!("{bucket_arn}/*"),
        On::Object => "*".to_string(),
    };
    let mut out = Vec::new();
    for grant in &acl.grants {
        let (principal, condition) = match &grant.grantee {
            Grantee::CanonicalUser(id) if *id == acl.owner => continue,
            Grantee::CanonicalUser(id) => {
                (json!({ "AWS": format!("arn:aws:iam::{id}:root") }), None)
            }
            Grantee::Group(group) if ignore_public && group.is_public() => continue,
            Grantee::Group(AclGroup::AllUsers) => (json!("*"), None),
            Grantee::Group(AclGroup::AuthenticatedUsers) => {
                (json!("*"), Some(json!({ "Null": { "aws:PrincipalAccount": "false" } })))
            }
            Grantee::Group(AclGroup::LogDelivery) => (json!({ "Service": LOG_DELIVERY }), None),
        };
        let (on_bucket, on_objects) = actions(grant.permission, on);
        for (list, resource) in [(on_bucket, &bucket_arn), (on_objects, &objects_arn)] {
            if list.is_empty() {
                continue;
            }
            let mut statement = Map::new();
            statement.insert("Effect".into(), json!("Allow"));
            statement.insert("Principal".into(), principal.clone());
            statement.insert("Action".into(), json!(list));
            statement.insert("Resource".into(), json!(resource));
            if let Some(condition) = &condition {
                statement.insert("Condition".into(), condition.clone());
            }
            out.push(Value::Object(statement));
        }
    }
    out
}

/// The bucket's policy with `extra` statements after its own (its statements keep their
/// indexes), or a policy of those alone if it has none; the policy as it is without any. A
/// stored policy that does not read refuses the request, as the evaluator would.
pub(crate) fn merged_policy(
    policy: Option<&str>,
    extra: Vec<Value>,
) -> Result<Option<String>, ApiError> {
    if extra.is_empty() {
        return Ok(policy.map(str::to_string));
    }
    let Some(text) = policy else {
        return Ok(Some(json!({ "Version": "2012-10-17", "Statement": extra }).to_string()));
    };
    let unreadable = || ApiError::unavailable("a stored policy could not be read");
    let mut doc: Map<String, Value> = serde_json::from_str(text).map_err(|_| unreadable())?;
    let mut statements = match doc.remove("Statement") {
        Some(Value::Array(list)) => list,
        Some(one) => vec![one],
        None => return Err(unreadable()),
    };
    statements.extend(extra);
    doc.insert("Statement".into(), Value::Array(statements));
    Ok(Some(Value::Object(doc).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: &str = "111122223333";
    const OTHER: &str = "444455556666";

    fn headers(acl: Option<&str>, grants: &[(Permission, &str)]) -> AclHeaders {
        AclHeaders {
            acl: acl.map(str::to_string),
            grants: grants.iter().map(|(p, v)| (*p, (*v).to_string())).collect(),
        }
    }

    fn resolved(requested: &Requested) -> Result<Acl, ApiError> {
        resolve(requested, OWNER, |id| Ok(id == OTHER))
    }

    fn group(g: AclGroup, permission: Permission) -> Grant {
        Grant { grantee: Grantee::Group(g), permission }
    }

    fn user(id: &str, permission: Permission) -> Grant {
        Grant { grantee: Grantee::CanonicalUser(id.to_string()), permission }
    }

    /// Each canned ACL is the owner's full control and what its name adds.
    #[test]
    fn canned_acls_read_as_s3_documents_them() {
        let of = |name: &str| resolved(&canned(name, OWNER).unwrap()).unwrap();
        let owner = user(OWNER, Permission::FullControl);
        for name in ["private", "bucket-owner-read", "bucket-owner-full-control", "aws-exec-read"] {
            assert!(of(name).is_private(), "{name}");
        }
        assert_eq!(
            of("public-read").grants,
            [owner.clone(), group(AclGroup::AllUsers, Permission::Read)]
        );
        assert_eq!(
            of("public-read-write").grants,
            [
                owner.clone(),
                group(AclGroup::AllUsers, Permission::Read),
                group(AclGroup::AllUsers, Permission::Write)
            ]
        );
        assert_eq!(
            of("authenticated-read").grants,
            [owner.clone(), group(AclGroup::AuthenticatedUsers, Permission::Read)]
        );
        let log = of("log-delivery-write");
        assert_eq!(
            log.grants,
            [
                owner,
                group(AclGroup::LogDelivery, Permission::Write),
                group(AclGroup::LogDelivery, Permission::ReadAcp)
            ]
        );
        assert!(!log.is_public(), "log delivery is not the public");
        assert!(of("public-read").is_public() && of("authenticated-read").is_public());
        assert_eq!(canned("Public-Read", OWNER).unwrap_err().code, "InvalidArgument");
        assert_eq!(
            canned("bucket-owner-full-control", OWNER).unwrap().canned.as_deref(),
            Some("bucket-owner-full-control")
        );
    }

    /// Grant headers: several grantees each, quoted or not; a canned ACL with them is refused;
    /// grantees that name no account, an unknown group or an e-mail address are refused as S3
    /// refuses them.
    #[test]
    fn grant_headers_read_and_resolve() {
        let all = AclGroup::AllUsers.uri();
        let value = format!("id=\"{OTHER}\", uri=\"{all}\"");
        let asked =
            headers(None, &[(Permission::Read, value.as_str()), (Permission::WriteAcp, OTHER_ID)]);
        let requested = from_headers(&asked, OWNER).unwrap().unwrap();
        assert_eq!(requested.canned, None);
        let acl = resolved(&requested).unwrap();
        assert_eq!(
            acl.grants,
            [
                user(OTHER, Permission::Read),
                group(AclGroup::AllUsers, Permission::Read),
                user(OTHER, Permission::WriteAcp)
            ]
        );
        assert_eq!(acl.owner, OWNER);
        assert!(!acl.grants_only_owner());
        assert_eq!(from_headers(&headers(None, &[]), OWNER).unwrap(), None);
        let both = headers(Some("private"), &[(Permission::Read, OTHER_ID)]);
        assert_eq!(from_headers(&both, OWNER).unwrap_err().code, "InvalidRequest");
        for bad in ["", "id", "name=\"x\"", "id=\"\""] {
            let asked = headers(None, &[(Permission::Read, bad)]);
            assert_eq!(from_headers(&asked, OWNER).unwrap_err().code, "InvalidArgument", "{bad}");
        }
        let refused = |value: &str| {
            let asked = headers(None, &[(Permission::FullControl, value)]);
            resolved(&from_headers(&asked, OWNER).unwrap().unwrap()).unwrap_err().code
        };
        assert_eq!(refused("id=999999999999"), "InvalidArgument", "no such account");
        assert_eq!(refused("id=not-an-id"), "InvalidArgument");
        assert_eq!(refused("id=000000000000"), "InvalidArgument", "the operator realm");
        assert_eq!(refused("uri=http://acs.amazonaws.com/groups/global/Nobody"), "InvalidArgument");
        assert_eq!(refused("emailAddress=\"a@example.com\""), "UnresolvableGrantByEmailAddress");
        // The owner is never looked up; another account once however often it is named.
        let mut asked = 0;
        let twice = Requested {
            grants: vec![
                (Named::Id(OWNER.into()), Permission::FullControl),
                (Named::Id(OTHER.into()), Permission::Read),
                (Named::Id(OTHER.into()), Permission::Read),
                (Named::Id(OTHER.into()), Permission::ReadAcp),
            ],
            canned: None,
        };
        let acl = resolve(&twice, OWNER, |_| {
            asked += 1;
            Ok(true)
        })
        .unwrap();
        assert_eq!(asked, 1);
        assert_eq!(acl.grants.len(), 3, "a repeated grant counts once");
        let too_many = Requested {
            grants: vec![(Named::Id(OWNER.into()), Permission::Read); MAX_GRANTS + 1],
            canned: None,
        };
        assert_eq!(resolved(&too_many).unwrap_err().code, "MalformedACLError");
    }

    const OTHER_ID: &str = "id=444455556666";

    /// An `AccessControlPolicy` body as botocore writes it reads into its grants; a body that
    /// is not one is `MalformedACLError`.
    #[test]
    fn policy_bodies_read() {
        let body = format!(
            r#"<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>{OTHER}</ID></Grantee><Permission>READ</Permission></Grant><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>{}</URI></Grantee><Permission>READ_ACP</Permission></Grant><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="AmazonCustomerByEmail"><EmailAddress>a@example.com</EmailAddress></Grantee><Permission>WRITE</Permission></Grant></AccessControlList><Owner><ID>{OWNER}</ID></Owner></AccessControlPolicy>"#,
            AclGroup::AuthenticatedUsers.uri()
        );
        let requested = read_policy(body.as_bytes()).unwrap();
        assert_eq!(
            requested.grants,
            [
                (Named::Id(OTHER.into()), Permission::Read),
                (Named::Uri(AclGroup::AuthenticatedUsers.uri().into()), Permission::ReadAcp),
                (Named::Email("a@example.com".into()), Permission::Write),
            ]
        );
        // An empty list revokes everything, the owner's grant included.
        let empty = format!("<AccessControlPolicy><Owner><ID>{OWNER}</ID></Owner><AccessControlList/></AccessControlPolicy>");
        let requested = read_policy(empty.as_bytes()).unwrap();
        assert!(requested.grants.is_empty());
        assert!(!requested.is_owner_full_control(OWNER));
        assert!(resolved(&requested).unwrap().grants_only_owner());
        let owner_only = format!("<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>{OWNER}</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>");
        assert!(read_policy(owner_only.as_bytes()).unwrap().is_owner_full_control(OWNER));
        for bad in [
            "<Other/>".to_string(),
            "<AccessControlPolicy><AccessControlList><Grant><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>".to_string(),
            format!("<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>{OWNER}</ID></Grantee><Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>"),
        ] {
            assert_eq!(read_policy(bad.as_bytes()).unwrap_err().code, "MalformedACLError", "{bad}");
        }
    }

    /// The answer names grantees by ID or URI with their `xsi:type`, and no `DisplayName`.
    #[test]
    fn acls_answer_as_s3_writes_them() {
        let acl = Acl {
            owner: OWNER.into(),
            grants: vec![
                user(OWNER, Permission::FullControl),
                group(AclGroup::AllUsers, Permission::Read),
            ],
        };
        let text = document(&acl);
        assert!(text.contains(&format!("<Owner><ID>{OWNER}</ID></Owner>")), "{text}");
        assert!(text.contains(&format!("xsi:type=\"CanonicalUser\"><ID>{OWNER}</ID></Grantee><Permission>FULL_CONTROL</Permission>")), "{text}");
        assert!(
            text.contains(&format!(
                "xsi:type=\"Group\"><URI>{}</URI></Grantee><Permission>READ</Permission>",
                AclGroup::AllUsers.uri()
            )),
            "{text}"
        );
        assert!(!text.contains("DisplayName"));
        // What it answers reads back as the same grants.
        let again = resolved(&read_policy(text.as_bytes()).unwrap()).unwrap();
        assert_eq!(again, acl);
    }

    /// A writer of another account gets full control of what it writes; the owner never gets
    /// a second grant.
    #[test]
    fn writers_get_full_control() {
        let mut acl = Acl::private(OWNER);
        grant_writer(&mut acl, OTHER);
        grant_writer(&mut acl, OTHER);
        grant_writer(&mut acl, OWNER);
        assert_eq!(
            acl.grants,
            [user(OWNER, Permission::FullControl), user(OTHER, Permission::FullControl)]
        );
    }

    fn evaluate(document: &str, caller: &str, action: &str, resource: &str) -> policy::Decision {
        let principal = policy::Principal::parse(caller).unwrap();
        let request =
            policy::Request::new(principal, action, resource, Some(OWNER), policy::Context::new());
        let parsed = policy::parse_policy(document).unwrap();
        let set = policy::PolicySet {
            resource: Some(policy::NamedPolicy { name: "resource policy", policy: &parsed }),
            ..policy::PolicySet::default()
        };
        policy::evaluate(&request, &set).decision
    }

    /// Grants become statements the evaluator reads as AWS reads ACLs: the public by `*`,
    /// signed callers only for `AuthenticatedUsers`, another account's root directly and its
    /// users only with their own allow; nothing for the owner's own grant; a bucket's WRITE on
    /// its objects; `IgnorePublicAcls` drops the public grants.
    #[test]
    fn grants_become_resource_policy_statements() {
        use policy::Decision::{Allowed, ImplicitlyDenied};
        let acl = Acl {
            owner: OWNER.into(),
            grants: vec![
                user(OWNER, Permission::FullControl),
                group(AclGroup::AllUsers, Permission::Read),
                group(AclGroup::AuthenticatedUsers, Permission::ReadAcp),
                user(OTHER, Permission::Write),
            ],
        };
        let list = statements(&acl, On::Bucket, "b", false);
        assert_eq!(list.len(), 3, "{list:?}");
        let doc = merged_policy(None, list).unwrap().unwrap();
        let anonymous = "anonymous";
        let other_root = format!("arn:aws:iam::{OTHER}:root");
        let other_user = format!("arn:aws:iam::{OTHER}:user/bob");
        let bucket = "arn:aws:s3:::b";
        assert_eq!(evaluate(&doc, anonymous, "s3:ListBucket", bucket), Allowed);
        assert_eq!(evaluate(&doc, anonymous, "s3:ListBucketVersions", bucket), Allowed);
        assert_eq!(evaluate(&doc, anonymous, "s3:GetBucketAcl", bucket), ImplicitlyDenied);
        assert_eq!(evaluate(&doc, &other_root, "s3:GetBucketAcl", bucket), Allowed);
        assert_eq!(evaluate(&doc, anonymous, "s3:PutObject", "arn:aws:s3:::b/k"), ImplicitlyDenied);
        assert_eq!(evaluate(&doc, &other_root, "s3:PutObject", "arn:aws:s3:::b/k"), Allowed);
        assert_eq!(evaluate(&doc, &other_root, "s3:DeleteObject", "arn:aws:s3:::b/k"), Allowed);
        assert_eq!(
            evaluate(&doc, &other_root, "s3:PutObject", "arn:aws:s3:::c/k"),
            ImplicitlyDenied
        );
        assert_eq!(evaluate(&doc, &other_root, "s3:PutBucketAcl", bucket), ImplicitlyDenied);
        // Another account's user needs its own allow besides the grant.
        assert_eq!(
            evaluate(&doc, &other_user, "s3:PutObject", "arn:aws:s3:::b/k"),
            ImplicitlyDenied
        );

        let ignored = statements(&acl, On::Bucket, "b", true);
        assert_eq!(ignored.len(), 1, "only the account's grant is left: {ignored:?}");
        let doc = merged_policy(None, ignored).unwrap().unwrap();
        assert_eq!(evaluate(&doc, anonymous, "s3:ListBucket", bucket), ImplicitlyDenied);
        assert_eq!(evaluate(&doc, &other_root, "s3:PutObject", "arn:aws:s3:::b/k"), Allowed);

        // An object's READ and FULL_CONTROL; the owner's own grant gives no statement.
        let object = Acl {
            owner: OWNER.into(),
            grants: vec![user(OWNER, Permission::FullControl), user(OTHER, Permission::Read)],
        };
        let list = statements(&object, On::Object, "b", false);
        assert_eq!(list.len(), 1);
        let doc = merged_policy(None, list).unwrap().unwrap();
        let key = "arn:aws:s3:::b/a*b";
        assert_eq!(evaluate(&doc, &other_root, "s3:GetObject", key), Allowed);
        assert_eq!(evaluate(&doc, &other_root, "s3:GetObjectVersion", key), Allowed);
        assert_eq!(evaluate(&doc, &other_root, "s3:GetObjectAcl", key), ImplicitlyDenied);
        assert_eq!(evaluate(&doc, &other_root, "s3:PutObject", key), ImplicitlyDenied);
        let full = Acl { owner: OWNER.into(), grants: vec![user(OTHER, Permission::FullControl)] };
        let doc = merged_policy(None, statements(&full, On::Object, "b", false)).unwrap().unwrap();
        for action in [
            "s3:GetObject",
            "s3:GetObjectAcl",
            "s3:GetObjectVersionAcl",
            "s3:PutObjectAcl",
            "s3:PutObjectVersionAcl",
        ] {
            assert_eq!(evaluate(&doc, &other_root, action, key), Allowed, "{action}");
        }
        assert_eq!(evaluate(&doc, &other_root, "s3:DeleteObject", key), ImplicitlyDenied);
        assert!(statements(&Acl::private(OWNER), On::Bucket, "b", false).is_empty());
    }

    /// `AuthenticatedUsers` holds only for callers of an account: not the anonymous caller,
    /// not a service.
    #[test]
    fn authenticated_users_are_signed_callers() {
        use policy::Decision::{Allowed, ImplicitlyDenied};
        let acl = Acl {
            owner: OWNER.into(),
            grants: vec![group(AclGroup::AuthenticatedUsers, Permission::Read)],
        };
        let doc = merged_policy(None, statements(&acl, On::Object, "b", false)).unwrap().unwrap();
        let key = "arn:aws:s3:::b/k";
        assert_eq!(evaluate(&doc, "anonymous", "s3:GetObject", key), ImplicitlyDenied);
        assert_eq!(
            evaluate(&doc, "cloudtrail.amazonaws.com", "s3:GetObject", key),
            ImplicitlyDenied
        );
        assert_eq!(
            evaluate(&doc, &format!("arn:aws:iam::{OTHER}:root"), "s3:GetObject", key),
            Allowed
        );
        assert_eq!(
            evaluate(&doc, &format!("arn:aws:iam::{OWNER}:user/u"), "s3:GetObject", key),
            Allowed
        );
    }

    /// ACL statements join the bucket policy after its own, whatever its form, and a Deny of
    /// the policy still wins over a grant.
    #[test]
    fn statements_join_the_bucket_policy() {
        use policy::Decision::ExplicitlyDenied;
        let deny = format!(
            r#"{{"Version":"2012-10-17","Id":"p","Statement":{{"Sid":"no","Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::{OTHER}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}}}"#
        );
        let acl = Acl { owner: OWNER.into(), grants: vec![user(OTHER, Permission::Read)] };
        let merged =
            merged_policy(Some(&deny), statements(&acl, On::Object, "b", false)).unwrap().unwrap();
        let parsed = policy::parse_policy(&merged).unwrap();
        assert_eq!(parsed.statements.len(), 2);
        assert_eq!(parsed.statements.first().and_then(|s| s.sid.as_deref()), Some("no"));
        assert_eq!(
            evaluate(
                &merged,
                &format!("arn:aws:iam::{OTHER}:root"),
                "s3:GetObject",
                "arn:aws:s3:::b/k"
            ),
            ExplicitlyDenied
        );
        // Without statements to add, the policy is as stored.
        assert_eq!(merged_policy(Some(&deny), Vec::new()).unwrap().as_deref(), Some(deny.as_str()));
        assert_eq!(merged_policy(None, Vec::new()).unwrap(), None);
        assert_eq!(
            merged_policy(Some("{"), statements(&acl, On::Object, "b", false)).unwrap_err().status,
            503
        );
    }
}
