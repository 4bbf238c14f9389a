//! [`LaborError`]: every way the Labour Market AIS («Еңбек нарығы» ААЖ) refuses or fails
//! outside the intake's own refusals, and its mapping to a gateway [`Fault`].

use egov_core::StatusCode;
use egov_system::Fault;

/// Describes why the Labour Market AIS refused a request or failed.
#[derive(Debug, thiserror::Error)]
pub enum LaborError {
    /// A request field is missing or malformed; the message starts with the field's name.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The field, as the JSON body or the .proto names it.
        field: &'static str,
        /// Why the value was refused.
        reason: String,
    },
    /// No employment is recorded for the IIN.
    #[error("iin: no employment of {iin} is recorded")]
    EmploymentNotFound {
        /// The IIN asked.
        iin: String,
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

impl LaborError {
    /// Builds a [`LaborError::InvalidArgument`] for a field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> LaborError {
        LaborError::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    /// Returns the gateway-style status code of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            LaborError::InvalidArgument { .. } => StatusCode::InvalidRequest,
            LaborError::EmploymentNotFound { .. } => StatusCode::DataNotFound,
            _ => StatusCode::Internal,
        }
    }

    /// Logs an internal failure and returns the text a caller may see: the refusal itself,
    /// or a generic line for internal failures, whose details stay in the log.
    pub fn public_message(&self) -> String {
        if self.status() == StatusCode::Internal {
            tracing::error!(error = %self, source = ?std::error::Error::source(self), "request failed");
            return "internal error of the Labour Market AIS".to_owned();
        }
        self.to_string()
    }
}

impl From<LaborError> for Fault {
    /// Keeps the code and the field-first message.
    fn from(error: LaborError) -> Fault {
        Fault::new(error.status(), error.public_message())
    }
}

impl From<egov_system::intake_sql::IntakeSqlError> for LaborError {
    fn from(error: egov_system::intake_sql::IntakeSqlError) -> LaborError {
        use egov_system::intake_sql::IntakeSqlError;
        match error {
            IntakeSqlError::Corrupt { what, reason } => LaborError::Corrupt { what, reason },
            IntakeSqlError::Database(error) => LaborError::Database(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_field_becomes_edat002_naming_the_field() {
        let fault = Fault::from(LaborError::invalid("iin", "is empty"));
        assert_eq!(fault.code, StatusCode::InvalidRequest);
        assert_eq!(fault.message, "iin: is empty");
    }

    #[test]
    fn an_internal_failure_hides_its_details() {
        let fault = Fault::from(LaborError::Config("secret detail".into()));
        assert_eq!(fault.code, StatusCode::Internal);
        assert!(!fault.message.contains("secret"), "{}", fault.message);
    }
}
