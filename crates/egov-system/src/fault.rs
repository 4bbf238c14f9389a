//! A refusal a system answers with: a status code and a reason, sent as the
//! signed payload of a RESPONSE (`egov.v1.Fault`).

use egov_core::StatusCode;

/// A system's refusal of a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Fault {
    /// The status code.
    pub code: StatusCode,
    /// The reason, naming what was wrong.
    pub message: String,
}

impl Fault {
    /// Creates a fault.
    pub fn new(code: StatusCode, message: impl Into<String>) -> Fault {
        Fault {
            code,
            message: message.into(),
        }
    }

    /// The key asked has no data ("the data cannot be obtained").
    pub fn not_found(message: impl Into<String>) -> Fault {
        Fault::new(StatusCode::DataNotFound, message)
    }

    /// The request's content is invalid.
    pub fn invalid(message: impl Into<String>) -> Fault {
        Fault::new(StatusCode::InvalidRequest, message)
    }

    /// Returns the wire message.
    pub fn to_proto(&self) -> egov_proto::v1::Fault {
        egov_proto::v1::Fault {
            code: self.code.as_str().to_owned(),
            message: self.message.clone(),
        }
    }

    /// Reads a wire fault; an unknown code is kept as [`StatusCode::Internal`] with the code named.
    pub fn from_proto(fault: &egov_proto::v1::Fault) -> Fault {
        match fault.code.parse::<StatusCode>() {
            Ok(code) => Fault::new(code, fault.message.clone()),
            Err(_) => Fault::new(
                StatusCode::Internal,
                format!("unknown code {:?}: {}", fault.code, fault.message),
            ),
        }
    }
}
