//! [`AppError`]: the one place the back office's typed errors, and sign-in's refusal of a
//! person without the role, become HTTP — a status, a snake_case code and the message — for
//! the JSON API (`{code, message}`) and the pages (which show the code's translated title
//! above the message).

use axum::Json;
use axum::http::StatusCode as HttpStatus;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use egov_signin::Forbidden;

use crate::BackOfficeError;

/// A refused or failed worklist request; wraps the workflow's error so the mapping is made once.
#[derive(Debug)]
pub enum AppError {
    /// The workflow refused or failed.
    Office(BackOfficeError),
    /// The signed-in person lacks the role the page or action needs (403).
    Forbidden(Forbidden),
}

/// The JSON body of a refused API request.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    /// What kind of refusal it is, e.g. `wrong_role`; the pages translate it as `error-<code>`.
    pub code: &'static str,
    /// What was wrong, naming the field or the case; generic for internal failures.
    pub message: String,
}

impl AppError {
    /// Builds the refusal of a malformed request field (a bad `role`, an unreadable body).
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> AppError {
        AppError::Office(BackOfficeError::invalid(field, reason))
    }

    /// Returns the HTTP status: 400 for a bad request, 404 for an unknown case, 409 for an
    /// action the case's state does not allow (closed, another role's or another action's step),
    /// 403 for a person without the role.
    pub fn status(&self) -> HttpStatus {
        let error = match self {
            AppError::Office(error) => error,
            AppError::Forbidden(_) => return HttpStatus::FORBIDDEN,
        };
        match error {
            BackOfficeError::InvalidArgument { .. }
            | BackOfficeError::UnknownService { .. }
            | BackOfficeError::ChannelNotOffered { .. }
            | BackOfficeError::RefusalGround { .. } => HttpStatus::BAD_REQUEST,
            BackOfficeError::CaseNotFound { .. } => HttpStatus::NOT_FOUND,
            BackOfficeError::CaseClosed { .. }
            | BackOfficeError::WrongRole { .. }
            | BackOfficeError::WrongAction { .. } => HttpStatus::CONFLICT,
            BackOfficeError::ShuttingDown => HttpStatus::SERVICE_UNAVAILABLE,
            _ => HttpStatus::INTERNAL_SERVER_ERROR,
        }
    }

    /// Returns the refusal's code, e.g. `case_closed`; `internal` for every internal failure.
    pub fn code(&self) -> &'static str {
        let error = match self {
            AppError::Office(error) => error,
            AppError::Forbidden(_) => return "forbidden",
        };
        match error {
            BackOfficeError::InvalidArgument { .. } => "invalid_argument",
            BackOfficeError::UnknownService { .. } => "unknown_service",
            BackOfficeError::ChannelNotOffered { .. } => "channel_not_offered",
            BackOfficeError::CaseNotFound { .. } => "case_not_found",
            BackOfficeError::CaseClosed { .. } => "case_closed",
            BackOfficeError::WrongRole { .. } => "wrong_role",
            BackOfficeError::WrongAction { .. } => "wrong_action",
            BackOfficeError::RefusalGround { .. } => "refusal_ground",
            BackOfficeError::ShuttingDown => "shutting_down",
            _ => "internal",
        }
    }

    /// Returns the body a caller sees; an internal failure is logged here and reads generic.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: match self {
                AppError::Office(error) => error.public_message(),
                AppError::Forbidden(forbidden) => forbidden.to_string(),
            },
        }
    }
}

impl From<BackOfficeError> for AppError {
    fn from(error: BackOfficeError) -> AppError {
        AppError::Office(error)
    }
}

impl From<Forbidden> for AppError {
    fn from(forbidden: Forbidden) -> AppError {
        AppError::Forbidden(forbidden)
    }
}

impl IntoResponse for AppError {
    /// Answers the JSON API: the status and `{code, message}`.
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_role_is_a_conflict_and_a_missing_ground_a_bad_request() {
        let wrong_role = AppError::Office(BackOfficeError::WrongRole {
            case: "c".into(),
            step: 0,
            action: "register".into(),
            expected: "clerk",
            got: "head",
        });
        assert_eq!(wrong_role.status(), HttpStatus::CONFLICT);
        assert_eq!(wrong_role.code(), "wrong_role");
        let ground = AppError::Office(BackOfficeError::RefusalGround {
            service: "B".into(),
            reason: "a refusal needs an item-10 ground".into(),
            grounds: vec!["documents_do_not_match_item_9".into()],
        });
        assert_eq!(ground.status(), HttpStatus::BAD_REQUEST);
        assert!(ground.body().message.contains("needs an item-10 ground"));
    }

    #[test]
    fn an_unknown_case_is_not_found_and_an_internal_failure_hides_its_details() {
        let missing = AppError::Office(BackOfficeError::CaseNotFound { id: "x".into() });
        assert_eq!(missing.status(), HttpStatus::NOT_FOUND);
        let internal = AppError::Office(BackOfficeError::config("secret detail"));
        assert_eq!(internal.status(), HttpStatus::INTERNAL_SERVER_ERROR);
        assert_eq!(internal.code(), "internal");
        assert!(!internal.body().message.contains("secret"));
    }

    #[test]
    fn a_person_without_the_role_is_forbidden_naming_the_role() {
        let forbidden = AppError::from(Forbidden {
            login: "aigul".into(),
            role: "head".into(),
        });
        assert_eq!(forbidden.status(), HttpStatus::FORBIDDEN);
        assert_eq!(forbidden.code(), "forbidden");
        assert!(forbidden.body().message.contains("\"head\""));
    }
}
