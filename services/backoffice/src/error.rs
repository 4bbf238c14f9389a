//! [`BackOfficeError`]: every way the back office refuses a request or fails, and its
//! mappings to a gateway [`Fault`](egov_system::Fault), a gRPC status and a status code.

use egov_core::StatusCode;
use egov_system::SystemError;

use crate::catalogue::CatalogueError;

/// Describes why the back office refused a request or failed.
#[derive(Debug, thiserror::Error)]
pub enum BackOfficeError {
    /// A request field is missing or malformed; the message starts with the field's name.
    #[error("{field}: {reason}")]
    InvalidArgument {
        /// The request field, as the .proto names it.
        field: &'static str,
        /// Why the value was refused.
        reason: String,
    },
    /// The application names a service the catalogue does not hold.
    #[error("service_code: unknown service {code:?}; the catalogue holds {known:?}")]
    UnknownService {
        /// The code asked for.
        code: String,
        /// The codes the catalogue holds.
        known: Vec<String>,
    },
    /// The service is not offered on the application's channel.
    #[error("channel: service {code} is not offered through {channel}; it is through {offered:?}")]
    ChannelNotOffered {
        /// The service code.
        code: String,
        /// The application's channel.
        channel: &'static str,
        /// The channels the service is offered through.
        offered: Vec<&'static str>,
    },
    /// No case has this id.
    #[error("case_id: no case {id:?}")]
    CaseNotFound {
        /// The id asked for.
        id: String,
    },
    /// The case is closed: its result was issued, nothing more can be done to it.
    #[error("case {id} is closed: its result was issued at {closed_at}")]
    CaseClosed {
        /// The case.
        id: String,
        /// When it closed.
        closed_at: time::OffsetDateTime,
    },
    /// The acting role is not the current step's.
    #[error("role: step {step} of case {case} ({action}) is the {expected}'s, not the {got}'s")]
    WrongRole {
        /// The case.
        case: String,
        /// The current step's index.
        step: usize,
        /// The current step's action.
        action: String,
        /// The step's role.
        expected: &'static str,
        /// The acting role.
        got: &'static str,
    },
    /// The action is not the current step's.
    #[error(
        "action: {got:?} is not an action of step {step} of case {case}; it takes {expected:?}"
    )]
    WrongAction {
        /// The case.
        case: String,
        /// The current step's index.
        step: usize,
        /// The actions the step takes.
        expected: Vec<String>,
        /// The action asked.
        got: String,
    },
    /// A refusal names no ground, or one that is not an item-10 ground of the service.
    #[error(
        "refusal_ground: {reason}; service {service}'s item-10 grounds at this step are {grounds:?}"
    )]
    RefusalGround {
        /// The service code.
        service: String,
        /// What was wrong: no ground given, or which unknown one.
        reason: String,
        /// The codes of the grounds the step may refuse on.
        grounds: Vec<String>,
    },
    /// The catalogue could not be loaded.
    #[error("catalogue: {0}")]
    Catalogue(#[from] CatalogueError),
    /// The head's signing credential could not be obtained or used.
    #[error("head credential: {0}")]
    Head(String),
    /// The back office is stopping and takes no more changes.
    #[error("the back office is shutting down")]
    ShuttingDown,
    /// The store, enrolment, gateway, config or servers failed.
    #[error(transparent)]
    System(#[from] SystemError),
}

egov_system::system_error!(BackOfficeError, "the back office", invalid, grpc);

impl BackOfficeError {
    /// Returns the gateway-style status code of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            BackOfficeError::InvalidArgument { .. }
            | BackOfficeError::UnknownService { .. }
            | BackOfficeError::ChannelNotOffered { .. }
            | BackOfficeError::CaseClosed { .. }
            | BackOfficeError::WrongRole { .. }
            | BackOfficeError::WrongAction { .. }
            | BackOfficeError::RefusalGround { .. } => StatusCode::InvalidRequest,
            BackOfficeError::CaseNotFound { .. } => StatusCode::DataNotFound,
            BackOfficeError::ShuttingDown => StatusCode::TargetUnavailable,
            _ => StatusCode::Internal,
        }
    }

    /// Builds the error of an unusable configuration; the message names the key.
    pub fn config(message: impl Into<String>) -> BackOfficeError {
        BackOfficeError::System(SystemError::Config(message.into()))
    }
}

#[cfg(test)]
mod tests {
    use egov_system::Fault;

    use super::*;

    #[test]
    fn an_unknown_service_becomes_edat002_naming_the_code() {
        let fault = Fault::from(BackOfficeError::UnknownService {
            code: "Z".into(),
            known: vec!["A".into(), "B".into()],
        });
        assert_eq!(fault.code, StatusCode::InvalidRequest);
        assert!(fault.message.contains("\"Z\""), "{}", fault.message);
    }

    #[test]
    fn an_internal_failure_hides_its_details() {
        let status = tonic::Status::from(BackOfficeError::config("secret detail"));
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(!status.message().contains("secret"), "{}", status.message());
    }
}
