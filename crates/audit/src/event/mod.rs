//! The CloudTrail event record (`eventVersion` 1.11): what every request to the service, allowed
//! or denied, leaves in the affected account's audit log.
//!
//! Field names are CloudTrail's exactly (see AWS's "CloudTrail record contents" and
//! "CloudTrail userIdentity element"); optional fields are left out when absent, as CloudTrail
//! does. Free-form request and response data enter only through [`Redacted`], which removes
//! secret-bearing keys first.
//!
//! # Canonical encoding (the log's leaf bytes)
//!
//! [`EventRecord::canonical_bytes`] is the entry hashed into the Merkle log. It is compact JSON
//! (no insignificant whitespace), UTF-8, written by serde_json, with:
//!
//! 1. the record's fields in this fixed order, each present only when set: `eventVersion`,
//!    `userIdentity`, `eventTime`, `eventSource`, `eventName`, `awsRegion`, `sourceIPAddress`,
//!    `userAgent`, `errorCode`, `errorMessage`, `requestParameters`, `responseElements`,
//!    `additionalEventData`, `requestID`, `eventID`, `readOnly`, `resources`, `eventType`,
//!    `apiVersion`, `managementEvent`, `recipientAccountId`, `sharedEventID`, `vpcEndpointId`,
//!    `eventCategory`, `tlsDetails`;
//! 2. `userIdentity` as `type`, `principalId`, `arn`, `accountId`, `accessKeyId`, `userName`,
//!    `sessionContext` (`sessionIssuer` {`type`, `principalId`, `arn`, `accountId`,
//!    `userName`}, `webIdFederationData`, `attributes` {`creationDate`, `mfaAuthenticated`},
//!    `sourceIdentity`),
//!    `invokedBy`; each resource as `accountId`, `type`, `ARN`; `tlsDetails` as `tlsVersion`,
//!    `cipherSuite`, `clientProvidedHostHeader`;
//! 3. the free-form values (`requestParameters`, `responseElements`, `additionalEventData`,
//!    `webIdFederationData`) with every object's keys in byte order of their UTF-8, at every depth;
//! 4. times as `YYYY-MM-DDTHH:MM:SSZ`; `mfaAuthenticated` as the string `"true"` or `"false"`
//!    (CloudTrail's form); strings escaped as serde_json does (only `"`, `\` and control
//!    characters; everything else literal UTF-8).
//!
//! The encoding is stored as written and hashed as stored; [`EventRecord::from_canonical_bytes`]
//! refuses input that is not already canonical, so a record cannot have two leaf encodings.

mod redact;
mod time;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::merkle::{self, Hash};

pub use redact::{is_secret_key, redact, Redacted, SECRET_KEYS, SECRET_KEY_SUFFIXES};
pub use time::EventTime;

/// The `eventVersion` this crate writes.
pub const EVENT_VERSION: &str = "1.11";

/// What went wrong building, encoding or decoding an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// A time that is not `YYYY-MM-DDTHH:MM:SSZ` or names no real instant.
    #[error("`{0}` is not a UTC time like `2024-01-31T23:59:59Z`")]
    BadTime(String),
    /// A time before 1970 or after 9999.
    #[error("time is outside 1970-01-01 to 9999-12-31")]
    TimeOutOfRange,
    /// JSON that does not decode as an event record, or a record that does not encode.
    #[error("event record json: {0}")]
    Json(String),
    /// Bytes that decode as an event but are not its canonical encoding.
    #[error("event record is not in canonical form")]
    NotCanonical,
}

/// `userIdentity.type`: the kind of principal that made the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdentityType {
    /// The account's root user.
    Root,
    /// An IAM user.
    #[serde(rename = "IAMUser")]
    IamUser,
    /// Temporary credentials from `sts:AssumeRole*`.
    AssumedRole,
    /// A role acting without a session (rare in CloudTrail, kept for completeness).
    Role,
    /// Temporary credentials from `sts:GetFederationToken`.
    FederatedUser,
    /// Another AWS account.
    #[serde(rename = "AWSAccount")]
    AwsAccount,
    /// An AWS service principal.
    #[serde(rename = "AWSService")]
    AwsService,
    /// A caller that could not be authenticated (requests denied at authentication).
    Unknown,
}

/// `eventType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// An API call: every request the service answers.
    AwsApiCall,
    /// An event the service generated, not a caller's request.
    AwsServiceEvent,
    /// A console action that is not an API call.
    AwsConsoleAction,
    /// A console sign-in.
    AwsConsoleSignIn,
}

/// `eventCategory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventCategory {
    /// Control-plane operations (IAM, STS, KMS key management, bucket configuration).
    Management,
    /// Data-plane operations (object reads and writes, KMS cryptographic operations on data).
    Data,
}

/// `userIdentity`: who made the request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// `type`.
    #[serde(rename = "type")]
    pub identity_type: IdentityType,
    /// `principalId`: the principal's unique id (`AIDA…`, `AROA…:session`, the account id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// `arn`: the principal's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// `accountId`: the principal's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `accessKeyId`: the access key that signed the request (never its secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// `userName`: for IAM users and the root user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// `sessionContext`: for temporary credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_context: Option<SessionContext>,
    /// `invokedBy`: the service that made the request on the principal's behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
}

/// `userIdentity.sessionContext`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    /// `sessionIssuer`: the role or user the session came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_issuer: Option<SessionIssuer>,
    /// `webIdFederationData`: the identity provider and claims of a web-identity session
    /// (redacted like the other free-form values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_id_federation_data: Option<Redacted>,
    /// `attributes`: when the session began and whether it used MFA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<SessionAttributes>,
    /// `sourceIdentity`: the source identity set when the role was assumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
}

/// `userIdentity.sessionContext.sessionIssuer`. CloudTrail writes it empty (`{}`) for sessions
/// that no role or user issued, hence every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    /// `type`: `Role`, `IAMUser` or `Root`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub issuer_type: Option<String>,
    /// `principalId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// `arn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// `accountId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `userName`: the role or user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
}

/// `userIdentity.sessionContext.attributes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// `creationDate`: when the temporary credentials were issued.
    pub creation_date: EventTime,
    /// `mfaAuthenticated`: written as the string `"true"` or `"false"`, as CloudTrail does.
    #[serde(with = "bool_string")]
    pub mfa_authenticated: bool,
}

/// One entry of `resources`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// `accountId`: the resource's owner.
    #[serde(rename = "accountId", default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `type`: e.g. `AWS::S3::Bucket`, `AWS::KMS::Key`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// `ARN`.
    #[serde(rename = "ARN", default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

/// `tlsDetails`: the TLS connection the request arrived on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails {
    /// `tlsVersion`, e.g. `TLSv1.3`.
    pub tls_version: String,
    /// `cipherSuite`, e.g. `TLS_AES_128_GCM_SHA256`.
    pub cipher_suite: String,
    /// `clientProvidedHostHeader`: the Host header the client sent.
    pub client_provided_host_header: String,
}

/// One CloudTrail event record. Field order is the canonical encoding's (module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    /// `eventVersion`: [`EVENT_VERSION`] for records this crate makes.
    pub event_version: String,
    /// `userIdentity`.
    pub user_identity: UserIdentity,
    /// `eventTime`: when the request completed.
    pub event_time: EventTime,
    /// `eventSource`: the service's endpoint name, e.g. `iam.amazonaws.com`.
    pub event_source: String,
    /// `eventName`: the API action, e.g. `CreateUser`.
    pub event_name: String,
    /// `awsRegion`.
    pub aws_region: String,
    /// `sourceIPAddress`: the caller's IP, or a service's name for calls made by a service.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    /// `userAgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// `errorCode`: the AWS error code of a failed request (`AccessDenied`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `errorMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// `requestParameters`, redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_parameters: Option<Redacted>,
    /// `responseElements`, redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_elements: Option<Redacted>,
    /// `additionalEventData`, redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_event_data: Option<Redacted>,
    /// `requestID`: the id the service returned to the caller.
    #[serde(rename = "requestID", default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `eventID`: this record's unique id (a UUID the caller generates).
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// `readOnly`: whether the operation only reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    /// `resources`: the resources the request touched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<Resource>>,
    /// `eventType`.
    pub event_type: EventType,
    /// `apiVersion`: for services that version their API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// `managementEvent`: whether this is a management (control-plane) event.
    pub management_event: bool,
    /// `recipientAccountId`: the account whose log receives the event.
    pub recipient_account_id: String,
    /// `sharedEventID`: links the copies of a cross-account event in each account's log.
    #[serde(rename = "sharedEventID", default, skip_serializing_if = "Option::is_none")]
    pub shared_event_id: Option<String>,
    /// `vpcEndpointId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_endpoint_id: Option<String>,
    /// `eventCategory`.
    pub event_category: EventCategory,
    /// `tlsDetails`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_details: Option<TlsDetails>,
}

impl EventRecord {
    /// The canonical encoding (module docs): the bytes of this event's log entry.
    ///
    /// # Errors
    /// [`EventError::Json`] if serde_json fails, which it does not for these types.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, EventError> {
        serde_json::to_vec(self).map_err(|e| EventError::Json(e.to_string()))
    }

    /// The RFC 6962 leaf hash of [`Self::canonical_bytes`].
    ///
    /// # Errors
    /// As [`Self::canonical_bytes`].
    pub fn leaf_hash(&self) -> Result<Hash, EventError> {
        Ok(merkle::leaf_hash(&self.canonical_bytes()?))
    }

    /// Decodes a record from its canonical encoding, refusing any other encoding of it.
    ///
    /// # Errors
    /// [`EventError::Json`] if `bytes` is not a record; [`EventError::NotCanonical`] if it is
    /// one but not in canonical form (whitespace, key order, unknown fields, secrets).
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, EventError> {
        let record: Self =
            serde_json::from_slice(bytes).map_err(|e| EventError::Json(e.to_string()))?;
        if record.canonical_bytes()? == bytes {
            Ok(record)
        } else {
            Err(EventError::NotCanonical)
        }
    }
}

/// CloudTrail writes `mfaAuthenticated` as a string.
mod bool_string {
    use super::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if *value { "true" } else { "false" })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        match String::deserialize(d)?.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(serde::de::Error::custom(format_args!(
                "`{other}` is not \"true\" or \"false\""
            ))),
        }
    }
}
