//! [`NotaryError`]: every way the notary registry (БНАЖ / ЕНИС) refuses or fails, and its
//! mappings to a gateway [`Fault`](egov_system::Fault), a gRPC status and a status code.

use egov_core::StatusCode;
use egov_system::SystemError;

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
    /// The store, enrolment, gateway, config or servers failed.
    #[error(transparent)]
    System(#[from] SystemError),
}

egov_system::system_error!(NotaryError, "the notary registry", invalid, grpc);

impl NotaryError {
    /// Returns the gateway-style status code of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            NotaryError::InvalidArgument { .. } => StatusCode::InvalidRequest,
            NotaryError::Duplicate { .. } => StatusCode::ServiceRefused,
            NotaryError::System(_) => StatusCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use egov_system::Fault;

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
        let fault = Fault::from(NotaryError::from(SystemError::Config(
            "secret detail".into(),
        )));
        assert_eq!(fault.code, StatusCode::Internal);
        assert!(!fault.message.contains("secret"), "{}", fault.message);
    }
}
