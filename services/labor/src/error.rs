//! [`LaborError`]: every way the Labour Market AIS («Еңбек нарығы» ААЖ) refuses or fails
//! outside the intake's own refusals, and its mapping to a gateway [`Fault`].

use egov_core::StatusCode;
use egov_system::SystemError;

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
    /// The store, enrolment, gateway, config or servers failed.
    #[error(transparent)]
    System(#[from] SystemError),
}

egov_system::system_error!(LaborError, "the Labour Market AIS", invalid);

impl LaborError {
    /// Returns the gateway-style status code of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            LaborError::InvalidArgument { .. } => StatusCode::InvalidRequest,
            LaborError::EmploymentNotFound { .. } => StatusCode::DataNotFound,
            LaborError::System(_) => StatusCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use egov_system::Fault;

    use super::*;

    #[test]
    fn an_invalid_field_becomes_edat002_naming_the_field() {
        let fault = Fault::from(LaborError::invalid("iin", "is empty"));
        assert_eq!(fault.code, StatusCode::InvalidRequest);
        assert_eq!(fault.message, "iin: is empty");
    }

    #[test]
    fn an_internal_failure_hides_its_details() {
        let fault = Fault::from(LaborError::from(SystemError::Config(
            "secret detail".into(),
        )));
        assert_eq!(fault.code, StatusCode::Internal);
        assert!(!fault.message.contains("secret"), "{}", fault.message);
    }
}
