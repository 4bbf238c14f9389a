//! The desk's JSON API beside its pages, for programs that act as an operator (the scenario
//! runner's `desk` steps): the same [`Desk`] calls, behind the same sign-in and role check. A
//! state-changing call on a session carries the session's CSRF token in the
//! [`egov_signin::CSRF_HEADER`] header, as the pages' forms carry it in a field; `GET
//! /api/desk` gives it to the signed-in operator. A caller with an API token needs none.
//!
//! - `POST /api/kiosk/tickets`: takes a ticket, as the hall's kiosk (no sign-in).
//! - `GET /api/desk`: who is signed in, the session's CSRF token, how many wait.
//! - `POST /api/desk/call`: calls the next ticket (`{"ticket": null}` when nobody waits).
//! - `POST /api/desk/tickets/{id}`: files the request form ([`FilingForm`] as JSON) for a called ticket
//!   and answers what it came to ([`OutcomeJson`]); 400 with the outcome when the form is
//!   invalid or the consent is missing, as the pages answer.
//! - `POST /api/desk/filings/{id}/result`: asks the provider for a sent filing's result, as the
//!   filing's page does, and answers the filing ([`FilingJson`]; `ready` tells whether the
//!   result is there).
//! - `POST /api/desk/filings/{id}/hand-over`: records that the operator handed the result over
//!   to the recipient; answers the filing; 409 when there is no result yet or it was handed
//!   over already.
//!
//! Refusals are [`ErrorJson`] `{code, message}` with the pages' HTTP status.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use egov_signin::Caller;
use serde::{Deserialize, Serialize};

use crate::ConError;
use crate::desk::{Desk, FilingForm, Outcome, ResultRead};
use crate::store::{Filing, Ticket};

/// The path of the kiosk's ticket as JSON.
pub const KIOSK_TICKETS_PATH: &str = "/api/kiosk/tickets";

/// The path of the signed-in operator's desk as JSON.
pub const DESK_API_PATH: &str = "/api/desk";

/// The path that calls the next ticket.
pub const CALL_API_PATH: &str = "/api/desk/call";

/// Returns the path that files the request of the ticket `id`.
pub fn filing_path(id: &str) -> String {
    format!("/api/desk/tickets/{id}")
}

/// Returns the path that records the hand-over of the filing `id`'s result.
pub fn hand_over_path(id: &str) -> String {
    format!("/api/desk/filings/{id}/hand-over")
}

/// Returns the routes behind sign-in (the caller puts them behind [`egov_signin::Signin`]).
pub fn protected(desk: Desk) -> Router {
    Router::new()
        .route(DESK_API_PATH, get(desk_json))
        .route(CALL_API_PATH, post(call_next))
        .route("/api/desk/tickets/{id}", post(file))
        .route("/api/desk/filings/{id}/result", post(fetch_result))
        .route("/api/desk/filings/{id}/hand-over", post(hand_over))
        .with_state(desk)
}

/// Returns the routes open to all: the kiosk.
pub fn open(desk: Desk) -> Router {
    Router::new()
        .route(KIOSK_TICKETS_PATH, post(take_ticket))
        .with_state(desk)
}

/// A refusal or failure: the stack's status code and a message that names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorJson {
    /// The gateway-style status code, e.g. `EACC001`.
    pub code: String,
    /// What was wrong.
    pub message: String,
}

/// Answers an error as [`ErrorJson`] with the pages' HTTP status.
fn refused(error: &ConError) -> Response {
    let body = ErrorJson {
        code: error.status().as_str().to_owned(),
        message: error.public_message(),
    };
    (error.http_status(), Json(body)).into_response()
}

/// A ticket of the electronic queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketJson {
    /// Its id, `YYYYMMDD-NNN`.
    pub id: String,
    /// The number the board shows.
    pub number: String,
}

impl From<&Ticket> for TicketJson {
    fn from(ticket: &Ticket) -> TicketJson {
        TicketJson {
            id: ticket.id.clone(),
            number: ticket.number(),
        }
    }
}

/// The answer of `POST /api/desk/call`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalledJson {
    /// The ticket called, or none when nobody waits.
    pub ticket: Option<TicketJson>,
}

/// The answer of `GET /api/desk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskJson {
    /// The operator's login.
    pub login: String,
    /// The operator's name, as the journal and receipts record it.
    pub name: String,
    /// The session's CSRF token for the state-changing calls; absent for an API token.
    pub csrf: Option<String>,
    /// How many tickets wait.
    pub waiting: i64,
}

/// `POST /api/kiosk/tickets`.
async fn take_ticket(State(desk): State<Desk>) -> Response {
    match desk.take_ticket().await {
        Ok(ticket) => (StatusCode::CREATED, Json(TicketJson::from(&ticket))).into_response(),
        Err(error) => refused(&error),
    }
}

/// `GET /api/desk`.
async fn desk_json(State(desk): State<Desk>, caller: Caller) -> Response {
    let waiting = match desk.store().waiting().await {
        Ok(waiting) => waiting,
        Err(error) => return refused(&error),
    };
    let person = caller.person();
    Json(DeskJson {
        login: person.login.clone(),
        name: person.name.clone(),
        csrf: match &caller {
            Caller::Session(signed_in) => Some(signed_in.csrf.clone()),
            Caller::Api(_) => None,
        },
        waiting,
    })
    .into_response()
}

/// `POST /api/desk/call`.
async fn call_next(State(desk): State<Desk>, caller: Caller) -> Response {
    match desk.call_next(caller.person()).await {
        Ok(ticket) => Json(CalledJson {
            ticket: ticket.as_ref().map(TicketJson::from),
        })
        .into_response(),
        Err(error) => refused(&error),
    }
}

/// What a filing came to, as a `desk` step of a scenario file compares it: `outcome` always;
/// the filing's fields when one was stored; the receipt of refusal, or the fields' errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeJson {
    /// `invalid`, `consent_missing`, `already_filed`, `data_unavailable`, `refused`,
    /// `receipt` or `sent`.
    pub outcome: String,
    /// The filing's id, for its page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing_id: Option<String>,
    /// What the desk or the target said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The system the request was sent to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_system: Option<String>,
    /// The target's registration number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_number: Option<String>,
    /// The result's kind, when the target answered with one at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_kind: Option<String>,
    /// The result's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_text: Option<String>,
    /// The receipt of refusal's id, for its page and PDF (beside the receipt: a step compares
    /// the receipt's own fields whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_id: Option<String>,
    /// The receipt of refusal to accept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<ReceiptJson>,
    /// The fields' problems of an invalid form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldErrorJson>>,
}

/// A receipt of refusal to accept (service D, seed `002_…` item 9.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptJson {
    /// The recipient's IIN.
    pub recipient_iin: String,
    /// The recipient's name as the application states it.
    pub recipient_name: String,
    /// The operator who issued it.
    pub operator_name: String,
    /// The missing item-9 documents' names.
    pub missing: Vec<String>,
}

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldErrorJson {
    /// The form field's name.
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl From<&Outcome> for OutcomeJson {
    fn from(outcome: &Outcome) -> OutcomeJson {
        let name = match outcome {
            Outcome::Invalid(_) => "invalid",
            Outcome::ConsentMissing => "consent_missing",
            Outcome::AlreadyFiled(_) => "already_filed",
            Outcome::DataUnavailable(_) => "data_unavailable",
            Outcome::Refused(_) => "refused",
            Outcome::Receipt(..) => "receipt",
            Outcome::Sent(_) => "sent",
        };
        let filing = outcome.filing();
        let of = |field: fn(&crate::store::Filing) -> &String| filing.map(|f| field(f).clone());
        OutcomeJson {
            outcome: name.to_owned(),
            filing_id: of(|f| &f.id),
            message: of(|f| &f.message),
            target_system: of(|f| &f.target_system),
            registration_number: of(|f| &f.registration_number),
            result_kind: of(|f| &f.result_kind),
            result_text: of(|f| &f.result_text),
            receipt_id: match outcome {
                Outcome::Receipt(_, receipt) => Some(receipt.id.clone()),
                _ => None,
            },
            receipt: match outcome {
                Outcome::Receipt(_, receipt) => Some(ReceiptJson {
                    recipient_iin: receipt.recipient_iin.clone(),
                    recipient_name: receipt.recipient_name.clone(),
                    operator_name: receipt.operator_name.clone(),
                    missing: receipt.missing.lines().map(str::to_owned).collect(),
                }),
                _ => None,
            },
            errors: match outcome {
                Outcome::Invalid(errors) => Some(
                    errors
                        .iter()
                        .map(|error| FieldErrorJson {
                            field: error.field.to_owned(),
                            problem: format!("{:?}", error.problem),
                        })
                        .collect(),
                ),
                _ => None,
            },
        }
    }
}

/// `POST /api/desk/tickets/{id}`.
async fn file(
    State(desk): State<Desk>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<FilingForm>, JsonRejection>,
) -> Response {
    let filed = match body {
        Ok(Json(form)) => FilingForm {
            ticket_id: id,
            ..form
        },
        Err(rejection) => {
            return refused(&ConError::invalid("body", rejection.body_text()));
        }
    };
    match desk.file(caller.person(), &filed).await {
        Ok(outcome) => {
            let status = match outcome {
                Outcome::Invalid(_) | Outcome::ConsentMissing => StatusCode::BAD_REQUEST,
                _ => StatusCode::OK,
            };
            (status, Json(OutcomeJson::from(&outcome))).into_response()
        }
        Err(error) => refused(&error),
    }
}

/// A sent filing's result as the desk holds it, as a `desk` step that reads a filing compares
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingJson {
    /// The filing's id.
    pub filing_id: String,
    /// The service's code.
    pub service_code: String,
    /// The target's registration number.
    pub registration_number: String,
    /// Whether the result is there.
    pub ready: bool,
    /// The result's kind (`RESULT_KIND_CERTIFICATE` …), or empty.
    pub result_kind: String,
    /// The result's text, or empty.
    pub result_text: String,
    /// The subject of the certificate that signed the result (see
    /// [`crate::store::Filing::result_signer`]), or empty.
    pub result_signer: String,
    /// The login of the operator who handed the result over, or empty.
    pub handed_over_by: String,
    /// The correlation id of the request this read sent to the provider, if it sent one (the
    /// message log's key for its hops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

impl FilingJson {
    /// The filing as read, with the correlation id of the read's request.
    pub fn of(filing: &Filing, ready: bool, correlation_id: Option<String>) -> FilingJson {
        FilingJson {
            filing_id: filing.id.clone(),
            service_code: filing.service_code.clone(),
            registration_number: filing.registration_number.clone(),
            ready,
            result_kind: filing.result_kind.clone(),
            result_text: filing.result_text.clone(),
            result_signer: filing.result_signer.clone(),
            handed_over_by: filing.handed_over_by.clone(),
            correlation_id,
        }
    }
}

impl From<&ResultRead> for FilingJson {
    fn from(read: &ResultRead) -> FilingJson {
        FilingJson::of(&read.filing, read.ready, read.correlation_id.clone())
    }
}

/// `POST /api/desk/filings/{id}/result`.
async fn fetch_result(
    State(desk): State<Desk>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    match desk.fetch_result(caller.person(), &id).await {
        Ok(read) => Json(FilingJson::from(&read)).into_response(),
        Err(error) => refused(&error),
    }
}

/// `POST /api/desk/filings/{id}/hand-over`.
async fn hand_over(State(desk): State<Desk>, caller: Caller, Path(id): Path<String>) -> Response {
    match desk.hand_over(caller.person(), &id).await {
        Ok(filing) => Json(FilingJson::of(&filing, true, None)).into_response(),
        Err(error) => refused(&error),
    }
}
