//! [`ConError`]: every way the State Corporation workstation fails or refuses outside the
//! answers of the systems it asks, and its mapping to an HTTP answer.

use egov_core::StatusCode;
use egov_system::SystemError;

/// Describes why the workstation refused an action or failed.
#[derive(Debug, thiserror::Error)]
pub enum ConError {
    /// A form field or parameter is missing or malformed; the message names it.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The field.
        field: &'static str,
        /// Why the value was refused.
        reason: String,
    },
    /// No ticket, filing or receipt has the id.
    #[error("{what} {id} is not found")]
    NotFound {
        /// What was asked for.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// The signed-in person is not an operator with an IIN in the config's `operators`.
    #[error(
        "{login} is not an operator of the State Corporation: add the login to `operators` with the operator's IIN"
    )]
    NotAnOperator {
        /// The login.
        login: String,
    },
    /// The action does not fit the state it is asked in (e.g. a hand-over before a result).
    #[error("{0}")]
    Conflict(String),
    /// The receipt could not be made into a PDF.
    #[error("receipt PDF: {0}")]
    Pdf(String),
    /// The store, enrolment, gateway, config or servers failed.
    #[error(transparent)]
    System(#[from] SystemError),
}

egov_system::system_error!(ConError, "the State Corporation workstation");

impl ConError {
    /// Builds a [`ConError::InvalidArgument`] for a field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> ConError {
        ConError::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    /// Returns the gateway-style status code of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            ConError::InvalidArgument { .. } => StatusCode::InvalidRequest,
            ConError::NotFound { .. } => StatusCode::DataNotFound,
            ConError::NotAnOperator { .. } => StatusCode::AccessDenied,
            ConError::Conflict(_) => StatusCode::InvalidRequest,
            ConError::Pdf(_) | ConError::System(_) => StatusCode::Internal,
        }
    }

    /// Returns the HTTP status the pages answer with.
    pub fn http_status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode as Http;
        match self {
            ConError::InvalidArgument { .. } => Http::BAD_REQUEST,
            ConError::NotFound { .. } => Http::NOT_FOUND,
            ConError::NotAnOperator { .. } => Http::FORBIDDEN,
            ConError::Conflict(_) => Http::CONFLICT,
            ConError::Pdf(_) | ConError::System(_) => Http::INTERNAL_SERVER_ERROR,
        }
    }
}
