//! [`CitizensError`]: every way the citizens-DB refuses a look-up or fails, and its
//! one mapping to a status code, a signed [`Fault`](egov_system::Fault) and a gRPC status.

use egov_core::StatusCode;
use egov_core::iin::{BinError, IinError};
use egov_system::SystemError;

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
    /// The population could not be generated.
    #[error("population generation failed: {0}")]
    Generate(String),
    /// The store, enrolment, gateway, config or servers failed.
    #[error(transparent)]
    System(#[from] SystemError),
}

egov_system::system_error!(CitizensError, "the citizens-DB", grpc);

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
}
