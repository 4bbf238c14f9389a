//! [`CitizensError`]: every way the citizens-DB refuses a look-up or fails, and its
//! one mapping to a status code, a signed [`Fault`] and a gRPC status.

use egov_core::StatusCode;
use egov_core::iin::{BinError, IinError};
use egov_system::Fault;

/// Describes why the citizens-DB refused a request or failed.
#[derive(Debug, thiserror::Error)]
pub enum CitizensError {
    /// The request's IIN is malformed (length, digits, birth date or check digit).
    #[error("{field}: {source}")]
    InvalidIin {
        /// The request field, as the .proto names it.
        field: &'static str,
        /// What the IIN check found.
        #[source]
        source: IinError,
    },
    /// The request's BIN is malformed.
    #[error("{field}: {source}")]
    InvalidBin {
        /// The request field, as the .proto names it.
        field: &'static str,
        /// What the BIN check found.
        #[source]
        source: BinError,
    },
    /// No person with this IIN is in the database ("the data cannot be obtained").
    #[error("no person with IIN {iin} in the state database of individuals")]
    PersonNotFound {
        /// The IIN asked for.
        iin: String,
    },
    /// No legal entity with this BIN is in the database.
    #[error("no legal entity with BIN {bin} in the state database of legal entities")]
    LegalEntityNotFound {
        /// The BIN asked for.
        bin: String,
    },
    /// A stored row does not read back (a hand-edited or corrupted database).
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// What was being read, e.g. "person 880412399992".
        what: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The population could not be generated.
    #[error("population generation failed: {0}")]
    Generate(String),
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
    /// Enrolment with the certification centre failed.
    #[error("identity")]
    Identity(#[from] egov_system::identity::IdentityError),
    /// The gRPC or HTTP server stopped with an error.
    #[error("server failed")]
    Serve(#[from] egov_bus::BusError),
}

impl CitizensError {
    /// Builds an [`CitizensError::InvalidIin`] for a request field.
    pub fn invalid_iin(field: &'static str, source: IinError) -> CitizensError {
        CitizensError::InvalidIin { field, source }
    }

    /// Builds an [`CitizensError::InvalidBin`] for a request field.
    pub fn invalid_bin(field: &'static str, source: BinError) -> CitizensError {
        CitizensError::InvalidBin { field, source }
    }

    /// Returns the gateway-style status code of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            CitizensError::InvalidIin { .. } | CitizensError::InvalidBin { .. } => {
                StatusCode::InvalidRequest
            }
            CitizensError::PersonNotFound { .. } | CitizensError::LegalEntityNotFound { .. } => {
                StatusCode::DataNotFound
            }
            _ => StatusCode::Internal,
        }
    }

    /// Returns the message a caller may see: the error itself for a refusal, a generic
    /// line for an internal failure, whose details go to the log here.
    fn public_message(&self) -> String {
        if self.status() == StatusCode::Internal {
            tracing::error!(error = %self, source = ?std::error::Error::source(self), "look-up failed");
            return "internal error of the citizens-DB".to_owned();
        }
        self.to_string()
    }
}

impl From<CitizensError> for Fault {
    /// Maps through [`CitizensError::status`]: EDAT001 for a missing person or entity,
    /// EDAT002 for a malformed IIN / BIN, EINT001 otherwise.
    fn from(error: CitizensError) -> Fault {
        Fault::new(error.status(), error.public_message())
    }
}

impl From<CitizensError> for tonic::Status {
    /// Maps through [`CitizensError::status`], so the message starts with the wire code
    /// (`EDAT002: iin: …`) and clients can recover it with `StatusCode::from_grpc`.
    fn from(error: CitizensError) -> tonic::Status {
        error.status().to_grpc(error.public_message())
    }
}
