//! [`NotaryError`]: every way the notary registry (БНАЖ / ЕНИС) refuses or fails, and its
//! mappings to a gateway [`Fault`], a gRPC status and a status code.

use egov_core::StatusCode;
use egov_system::Fault;

/// Describes why the notary registry refused a request or failed.
#[derive(Debug, thiserror::Error)]
pub enum NotaryError {
    /// A request field is missing or malformed; the message starts with the field's name.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The request field, as the .proto (or the registration JSON) names it.
        field: &'static str,
        /// Why the value was refused.
        reason: String,
    },
    /// A power of attorney with this number is already registered; numbers are unique.
    #[error("number: power of attorney {number} is already registered")]
    Duplicate {
        /// The number asked to register.
        number: String,
    },
    /// A stored row does not read back (a hand-edited or corrupted database).
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// What was being read, e.g. "power of attorney ENIS-000101".
        what: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The database could not be opened or queried.
    #[error("database failed")]
    Database(#[from] sqlx::Error),
    /// The schema migrations could not be applied.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The store named by `database_url` could not be opened: an unsupported scheme, an
    /// unreachable server, a failed migration.
    #[error("store: {0}")]
    Store(#[from] egov_store::StoreError),
    /// Enrolling with the certification centre or building the verifier failed.
    #[error("identity: {0}")]
    Identity(#[from] egov_system::identity::IdentityError),
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
    /// The gRPC or HTTP server stopped with an error.
    #[error("server failed")]
    Serve(#[from] egov_bus::BusError),
}

impl NotaryError {
    /// Builds a [`NotaryError::InvalidArgument`] for a request field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> NotaryError {
        NotaryError::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    /// Returns the gateway-style status code of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            NotaryError::InvalidArgument { .. } => StatusCode::InvalidRequest,
            NotaryError::Duplicate { .. } => StatusCode::ServiceRefused,
            _ => StatusCode::Internal,
        }
    }

    /// Logs an internal failure and returns the text a caller may see: the refusal itself,
    /// or a generic line for internal failures, whose details stay in the log.
    pub(crate) fn public_message(&self) -> String {
        if self.status() == StatusCode::Internal {
            tracing::error!(error = %self, source = ?std::error::Error::source(self), "request failed");
            return "internal error of the notary registry".to_owned();
        }
        self.to_string()
    }
}

impl From<NotaryError> for Fault {
    /// Keeps the code and the field-first message, so the gateway's caller sees `EDAT002: principal_iin: …`.
    fn from(error: NotaryError) -> Fault {
        Fault::new(error.status(), error.public_message())
    }
}

impl From<NotaryError> for tonic::Status {
    /// Maps through [`NotaryError::status`], so the message starts with the wire code
    /// (`EDAT002: number: …`) and clients can recover it with `StatusCode::from_grpc`.
    fn from(error: NotaryError) -> tonic::Status {
        let code = error.status();
        code.to_grpc(error.public_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_field_becomes_edat002_naming_the_field() {
        let fault = Fault::from(NotaryError::invalid("principal_iin", "is empty"));
        assert_eq!(fault.code, StatusCode::InvalidRequest);
        assert_eq!(fault.message, "principal_iin: is empty");
        let status = tonic::Status::from(NotaryError::invalid("number", "must not be empty"));
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "EDAT002: number: must not be empty");
    }

    #[test]
    fn an_internal_failure_hides_its_details() {
        let fault = Fault::from(NotaryError::Config("secret detail".into()));
        assert_eq!(fault.code, StatusCode::Internal);
        assert!(!fault.message.contains("secret"), "{}", fault.message);
    }
}
