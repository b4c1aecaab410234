//! Why a request's signature is not accepted, and the AWS error each reason maps to.

/// A verification failure. Messages are lowercase and never contain secrets or derived keys.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request carries no SigV4 authentication at all.
    #[error("the request is not signed")]
    Missing,
    /// The `Authorization` header or presigned query lacks a required part.
    #[error("{0}")]
    Incomplete(String),
    /// A part is present but malformed (credential scope, signed headers, signature, date).
    #[error("{0}")]
    Malformed(String),
    /// An algorithm other than `AWS4-HMAC-SHA256`.
    #[error("the signing algorithm `{0}` is not supported: use AWS4-HMAC-SHA256")]
    UnsupportedAlgorithm(String),
    /// The recomputed signature differs.
    #[error("the request signature we calculated does not match the signature you provided")]
    SignatureDoesNotMatch,
    /// The request time is more than 15 minutes from the server's.
    #[error("the difference between the request time and the current time is too large")]
    RequestTimeTooSkewed,
    /// A presigned URL past its expiry.
    #[error("request has expired")]
    Expired,
    /// A presigned URL whose date is in the future.
    #[error("request is not valid yet")]
    NotYetValid,
    /// A header that must be signed is not in `SignedHeaders`.
    #[error("there were headers present in the request which were not signed: `{0}`")]
    UnsignedHeader(String),
    /// `x-amz-content-sha256` does not match the body.
    #[error("the provided `x-amz-content-sha256` header does not match what was computed")]
    ContentSha256Mismatch,
    /// The payload hash is needed but neither declared nor computable.
    #[error("{0}")]
    MissingContentSha256(String),
    /// An `aws-chunked` body that is malformed or whose chunk signature does not match.
    #[error("{0}")]
    Chunk(String),
    /// A chunk signature that does not match.
    #[error("the chunk signature we calculated does not match the signature you provided")]
    ChunkSignatureDoesNotMatch,
}

impl Error {
    /// The AWS error code a client expects. `s3` selects S3's codes where they differ from the
    /// query/JSON services' codes.
    pub fn aws_code(&self, s3: bool) -> &'static str {
        match self {
            Error::Missing => {
                if s3 {
                    "AccessDenied"
                } else {
                    "MissingAuthenticationToken"
                }
            }
            Error::Incomplete(_) => {
                if s3 {
                    "AuthorizationHeaderMalformed"
                } else {
                    "IncompleteSignature"
                }
            }
            Error::Malformed(_) | Error::UnsupportedAlgorithm(_) => {
                if s3 {
                    "AuthorizationHeaderMalformed"
                } else {
                    "IncompleteSignature"
                }
            }
            Error::SignatureDoesNotMatch | Error::ChunkSignatureDoesNotMatch => {
                "SignatureDoesNotMatch"
            }
            Error::RequestTimeTooSkewed => "RequestTimeTooSkewed",
            Error::Expired | Error::NotYetValid => "AccessDenied",
            Error::UnsignedHeader(_) => {
                if s3 {
                    "AccessDenied"
                } else {
                    "IncompleteSignature"
                }
            }
            Error::ContentSha256Mismatch => "XAmzContentSHA256Mismatch",
            Error::MissingContentSha256(_) => "InvalidRequest",
            Error::Chunk(_) => "IncompleteBody",
        }
    }

    /// The HTTP status of the error.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Incomplete(_)
            | Error::Malformed(_)
            | Error::UnsupportedAlgorithm(_)
            | Error::ContentSha256Mismatch
            | Error::MissingContentSha256(_)
            | Error::Chunk(_) => 400,
            Error::Missing
            | Error::SignatureDoesNotMatch
            | Error::ChunkSignatureDoesNotMatch
            | Error::RequestTimeTooSkewed
            | Error::Expired
            | Error::NotYetValid
            | Error::UnsignedHeader(_) => 403,
        }
    }
}
