//! S3's records: buckets (and the account's Block Public Access settings).

use super::Body;
use serde::{Deserialize, Serialize};

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

/// Object Ownership: always `BucketOwnerEnforced` here (ACLs disabled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ObjectOwnership {
    BucketOwnerEnforced,
}

/// A bucket (kind `s3_bucket`, keyed by its name, in its owner's account).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Bucket {
    pub name: String,
    pub region: String,
    /// When it was made: a bucket deleted and made again is another bucket.
    pub created_ms: i64,
    pub object_ownership: ObjectOwnership,
    /// The bucket's own Block Public Access; none once deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The default key of SSE-KMS (`PutBucketEncryption`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<Versioning>,
}

impl Body for Bucket {
    const KIND: &'static str = "s3_bucket";
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::records::Stored;

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
        assert_eq!(bucket.to_record().unwrap().body, written);
        // Another kind, or a body that does not read, is refused.
        let other = store::Record { kind: "s3_object".into(), ..record.clone() };
        assert!(Stored::<Bucket>::from_record(other).is_err());
        let broken = store::Record { body: serde_json::json!({ "Name": 7 }), ..record };
        assert!(Stored::<Bucket>::from_record(broken).is_err());
    }
}
