//! [`QueueError`]: every way the kindergarten queue register refuses or fails outside the
//! intake's own refusals, and its mapping to a gateway [`Fault`](egov_system::Fault).

use egov_core::StatusCode;
use egov_system::SystemError;

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
    /// The store, enrolment, gateway, config or servers failed.
    #[error(transparent)]
    System(#[from] SystemError),
}

egov_system::system_error!(QueueError, "the queue register", invalid);

impl QueueError {
    /// Returns the gateway-style status code of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            QueueError::InvalidArgument { .. } => StatusCode::InvalidRequest,
            QueueError::AlreadyQueued { .. } => StatusCode::ServiceRefused,
            QueueError::UnknownKindergarten { .. } => StatusCode::DataNotFound,
            _ => StatusCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use egov_system::Fault;

    use super::*;

    #[test]
    fn an_invalid_field_becomes_edat002_naming_the_field() {
        let fault = Fault::from(QueueError::invalid("iin", "is empty"));
        assert_eq!(fault.code, StatusCode::InvalidRequest);
        assert_eq!(fault.message, "iin: is empty");
    }

    #[test]
    fn an_internal_failure_hides_its_details() {
        let fault = Fault::from(QueueError::from(SystemError::Config(
            "secret detail".into(),
        )));
        assert_eq!(fault.code, StatusCode::Internal);
        assert!(!fault.message.contains("secret"), "{}", fault.message);
    }
}
