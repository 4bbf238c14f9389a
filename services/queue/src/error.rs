//! [`QueueError`]: every way the kindergarten queue register refuses or fails outside the
//! intake's own refusals, and its mapping to a gateway [`Fault`].

use egov_core::StatusCode;
use egov_system::Fault;

/// Describes why the queue register refused a request or failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A request field is missing or malformed; the message starts with the field's name.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The field, as the JSON body or the .proto names it.
        field: &'static str,
        /// Why the value was refused.
        reason: String,
    },
    /// The child already has an active entry in the queue (waiting or referred).
    #[error("child {child_iin} is already in the queue under {registration_number} ({status})")]
    AlreadyQueued {
        /// The child.
        child_iin: String,
        /// The registration number of the active entry.
        registration_number: String,
        /// Its status, `waiting` or `referred`.
        status: String,
    },
    /// No kindergarten with this BIN is in the register.
    #[error("kindergarten_bin: no kindergarten {bin} is in the register")]
    UnknownKindergarten {
        /// The BIN asked.
        bin: String,
    },
    /// A stored row does not read back (a hand-edited or corrupted database).
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// What was being read.
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
    /// The gateway endpoint is unusable.
    #[error("gateway: {0}")]
    Gateway(#[from] egov_system::CallError),
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

impl QueueError {
    /// Builds a [`QueueError::InvalidArgument`] for a field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> QueueError {
        QueueError::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    /// Returns the gateway-style status code of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            QueueError::InvalidArgument { .. } => StatusCode::InvalidRequest,
            QueueError::AlreadyQueued { .. } => StatusCode::ServiceRefused,
            QueueError::UnknownKindergarten { .. } => StatusCode::DataNotFound,
            _ => StatusCode::Internal,
        }
    }

    /// Logs an internal failure and returns the text a caller may see: the refusal itself,
    /// or a generic line for internal failures, whose details stay in the log.
    pub fn public_message(&self) -> String {
        if self.status() == StatusCode::Internal {
            tracing::error!(error = %self, source = ?std::error::Error::source(self), "request failed");
            return "internal error of the queue register".to_owned();
        }
        self.to_string()
    }
}

impl From<QueueError> for Fault {
    /// Keeps the code and the field-first message.
    fn from(error: QueueError) -> Fault {
        Fault::new(error.status(), error.public_message())
    }
}

impl From<egov_system::intake_sql::IntakeSqlError> for QueueError {
    fn from(error: egov_system::intake_sql::IntakeSqlError) -> QueueError {
        use egov_system::intake_sql::IntakeSqlError;
        match error {
            IntakeSqlError::Corrupt { what, reason } => QueueError::Corrupt { what, reason },
            IntakeSqlError::Database(error) => QueueError::Database(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_field_becomes_edat002_naming_the_field() {
        let fault = Fault::from(QueueError::invalid("iin", "is empty"));
        assert_eq!(fault.code, StatusCode::InvalidRequest);
        assert_eq!(fault.message, "iin: is empty");
    }

    #[test]
    fn an_internal_failure_hides_its_details() {
        let fault = Fault::from(QueueError::Config("secret detail".into()));
        assert_eq!(fault.code, StatusCode::Internal);
        assert!(!fault.message.contains("secret"), "{}", fault.message);
    }
}
