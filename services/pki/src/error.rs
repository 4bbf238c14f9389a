//! [`PkiError`]: every way the certification centre refuses or fails, and its
//! one mapping to a gRPC status.

use time::OffsetDateTime;

use egov_core::StatusCode;

/// Describes why the certification centre refused a request or failed.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// A request field is missing or malformed; the message starts with the field's name.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The request field, as the .proto names it.
        field: &'static str,
        /// Why the value was refused.
        reason: String,
    },
    /// The caller may not enrol or revoke: no credential, an unknown or used token, a token
    /// for another subject, or a registrar whose password failed.
    #[error("{0}")]
    Unauthorized(String),
    /// The enrolment token was valid for this subject but its lifetime has run out on the
    /// centre's clock; the holder needs a new one.
    #[error(
        "the enrolment token expired at {}; ask the operator for a new one",
        crate::enrolment::rfc3339(*expired_at)
    )]
    EnrolmentTokenExpired {
        /// When it stopped enrolling.
        expired_at: OffsetDateTime,
    },
    /// The certification request is missing, malformed, unsigned or for an unsupported key.
    #[error("certification_request_der: {0}")]
    BadRequest(String),
    /// The certification request names another subject than the request's fields.
    #[error("certification_request_der: {0}")]
    SubjectMismatch(String),
    /// No certificate with this serial was issued here.
    #[error("certificate {serial} was not issued by this centre")]
    NotFound {
        /// The serial asked for, lowercase hex.
        serial: String,
    },
    /// The certificate is already revoked; revocation is final.
    #[error("certificate {serial} was already revoked at {revoked_at}")]
    AlreadyRevoked {
        /// The serial, lowercase hex.
        serial: String,
        /// When it was revoked.
        revoked_at: OffsetDateTime,
    },
    /// A stored row does not read back (a hand-edited or corrupted database).
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// What was being read, e.g. "CA certificate".
        what: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// The database could not be opened, migrated or queried.
    #[error("database failed")]
    Database(#[from] sqlx::Error),
    /// The schema migrations could not be applied.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The store named by `database_url` could not be opened: an unsupported scheme, an
    /// unreachable server, a failed migration.
    #[error("store: {0}")]
    Store(#[from] egov_store::StoreError),
    /// Building a certificate or a revocation list failed.
    #[error("certificate authority failed")]
    Authority(#[from] egov_core::pki::authority::AuthorityError),
    /// A file-system step (e.g. creating the data dir) failed.
    #[error("could not {action}")]
    Io {
        /// What was being done.
        action: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is unusable; the message names the key.
    #[error("config: {0}")]
    Config(String),
    /// The stack clock the config asks for (`clock = "stack"`) could not be followed.
    #[error("clock: {0}")]
    Clock(#[from] egov_bus::clock::ClockError),
    /// The gRPC or HTTP server stopped with an error.
    #[error("server failed")]
    Serve(#[from] egov_bus::BusError),
}

impl PkiError {
    /// Builds an [`PkiError::InvalidArgument`] for a request field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> PkiError {
        PkiError::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    /// Returns the gateway-style status code of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            PkiError::InvalidArgument { .. } => StatusCode::InvalidRequest,
            PkiError::NotFound { .. } => StatusCode::DataNotFound,
            PkiError::AlreadyRevoked { .. } => StatusCode::ServiceRefused,
            PkiError::Unauthorized(_) | PkiError::EnrolmentTokenExpired { .. } => {
                StatusCode::EnrolmentUnauthorized
            }
            PkiError::BadRequest(_) => StatusCode::CertificationRequestInvalid,
            PkiError::SubjectMismatch(_) => StatusCode::CertificationSubjectMismatch,
            _ => StatusCode::Internal,
        }
    }
}

impl From<PkiError> for tonic::Status {
    /// Maps through [`PkiError::status`], so the message starts with the wire code
    /// (`EDAT002: iin: …`) and clients can recover it with `StatusCode::from_grpc`.
    fn from(error: PkiError) -> tonic::Status {
        let code = error.status();
        if code == StatusCode::Internal {
            // Internal details stay in the log; the caller only learns it may retry.
            tracing::error!(error = %error, source = ?std::error::Error::source(&error), "request failed");
            return code.to_grpc("internal error of the certification centre");
        }
        code.to_grpc(&error)
    }
}
