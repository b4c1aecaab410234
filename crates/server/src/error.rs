//! The one place errors become AWS error codes and HTTP statuses.

/// An error a request ends with, as the client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// AWS error code (`SignatureDoesNotMatch`, `InvalidAction`, ...).
    pub code: String,
    /// Lowercase-free AWS-style message; never contains secrets.
    pub message: String,
    /// Whether the client (`Sender`) or the service (`Receiver`) is at fault.
    pub sender_fault: bool,
    /// Headers the error answer carries (S3's `ETag` on a 304, `x-amz-delete-marker` on a
    /// 404 of a deleted key); never secrets.
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    /// A refusal (`AccessDenied`) under the name the JSON services give it,
    /// `AccessDeniedException`, with their `status` (KMS and CloudTrail 400, MPA 403); any other
    /// error as it is.
    pub fn denied_as_exception(self, status: u16) -> ApiError {
        if self.code == "AccessDenied" {
            ApiError::sender(status, "AccessDeniedException", self.message)
        } else {
            self
        }
    }

    /// A client error.
    pub fn sender(status: u16, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            sender_fault: true,
            headers: Vec::new(),
        }
    }

    /// The same error, its answer carrying header `name: value` too.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> ApiError {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// A service-side error.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 500,
            code: "InternalFailure".into(),
            message: message.into(),
            sender_fault: false,
            headers: Vec::new(),
        }
    }

    /// The service cannot complete the request safely (the audit log is unavailable).
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 503,
            code: "ServiceUnavailable".into(),
            message: message.into(),
            sender_fault: false,
            headers: Vec::new(),
        }
    }

    /// From a signature verification failure.
    pub fn from_sigv4(e: &sigv4::Error, s3: bool) -> ApiError {
        ApiError::sender(e.http_status(), e.aws_code(s3), e.to_string())
    }
}

impl From<store::StoreError> for ApiError {
    /// The one mapping of a store failure: the request cannot be served safely now (503). A
    /// failure a caller must answer otherwise (a record that exists already) is matched before
    /// it gets here.
    ///
    /// A row that failed its integrity check ([`store::StoreError::Forged`]) is refused as an
    /// internal failure, and said in the server log: an edited database is an alarm, not an
    /// outage. The request's event (in the affected account's log) carries the error.
    fn from(e: store::StoreError) -> ApiError {
        match e {
            store::StoreError::Forged { account, row } => {
                tracing::error!(
                    account = %account,
                    "ALARM: {} of account {account} failed its integrity check: refused (an edited, moved or copied row?)",
                    crate::observe::logs::loggable_row(&row)
                );
                ApiError::internal(
                    "a stored record failed its integrity check; the request is refused",
                )
            }
            _ => ApiError::unavailable("the store is unavailable"),
        }
    }
}
