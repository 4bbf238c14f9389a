//! [`EsobesError`]: every way E-sobes («Е-собес» АЖ) fails outside the intake's own
//! refusals, and its mapping to a gateway [`Fault`](egov_system::Fault).

use egov_core::StatusCode;
use egov_system::SystemError;

/// Describes why E-sobes refused a request or failed.
#[derive(Debug, thiserror::Error)]
pub enum EsobesError {
    /// A request field is missing or malformed; the message starts with the field's name.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The field, as the JSON body or the .proto names it.
        field: &'static str,
        /// Why the value was refused.
        reason: String,
    },
    /// The store, enrolment, gateway, config or servers failed.
    #[error(transparent)]
    System(#[from] SystemError),
}

egov_system::system_error!(EsobesError, "E-sobes", invalid);

impl EsobesError {
    /// Returns the gateway-style status code of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            EsobesError::InvalidArgument { .. } => StatusCode::InvalidRequest,
            EsobesError::System(_) => StatusCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use egov_system::Fault;

    use super::*;

    #[test]
    fn an_invalid_field_becomes_edat002_naming_the_field() {
        let fault = Fault::from(EsobesError::invalid("iin", "is empty"));
        assert_eq!(fault.code, StatusCode::InvalidRequest);
        assert_eq!(fault.message, "iin: is empty");
    }

    #[test]
    fn an_internal_failure_hides_its_details() {
        let fault = Fault::from(EsobesError::from(SystemError::Config(
            "secret detail".into(),
        )));
        assert_eq!(fault.code, StatusCode::Internal);
        assert!(!fault.message.contains("secret"), "{}", fault.message);
    }
}
