//! The queue register's HTTP side for operators, next to egov-bus's `/health` and `/metrics`:
//!
//! - `GET /places`: every kindergarten's free places by age group.
//! - `POST /places`: frees places, `{"kindergarten_bin", "age_group": "middle", "count"?: 1}`;
//!   the freed places go at once, in queue order, to the children waiting for that kindergarten
//!   (or for any of its district) as referrals. `200` with the places left and the referrals
//!   issued, `400` (`EDAT002`) naming every bad field, `404` (`EDAT001`) for an unknown
//!   kindergarten.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode as HttpStatus;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use egov_core::clock::Clock;
use egov_core::{Bin, StatusCode};
use egov_proto::v1::AgeGroup;
use egov_signin::operator::{Operators, Role};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::{Deserialize, Serialize};

use crate::QueueError;
use crate::cabinet::CabinetNotices;
use crate::entry::{age_group_name, parse_age_group};
use crate::store::Store;

/// The path of the places.
pub const PLACES_PATH: &str = "/places";

/// The most places one request may free.
pub const MAX_FREED: u32 = 1000;

/// What the handlers share.
#[derive(Debug, Clone)]
struct Http {
    store: Store,
    clock: Arc<dyn Clock>,
    /// Told when freed places gave referrals, which go to the citizens' cabinets.
    notices: CabinetNotices,
}

/// Returns the register's routes merged with `/health` and `/metrics`.
pub fn router(
    store: Store,
    clock: Arc<dyn Clock>,
    notices: CabinetNotices,
    operators: &Operators,
    metrics: PrometheusHandle,
) -> Router {
    let routes = Router::new()
        .route(PLACES_PATH, get(list).post(free))
        .with_state(Http {
            store,
            clock,
            notices,
        });
    // Operator writes (and the operator's views) need an OPERATOR or ADMIN token.
    let routes = operators.require(Role::Operator, routes);
    egov_bus::http::router(crate::config::SERVICE, metrics, routes)
}

/// The body of `POST /places`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FreeBody {
    kindergarten_bin: Option<String>,
    age_group: Option<String>,
    count: Option<u32>,
}

/// One refused field.
#[derive(Debug, Serialize)]
struct FieldError {
    field: String,
    message: String,
}

/// The body of a refusal: the status code, one line for people, every field for programs.
#[derive(Debug, Serialize)]
struct Refusal {
    code: &'static str,
    message: String,
    errors: Vec<FieldError>,
}

/// One kindergarten group's free places.
#[derive(Debug, Serialize)]
struct PlacesJson {
    kindergarten_bin: String,
    district: String,
    name: String,
    age_group: &'static str,
    free: i64,
}

/// A referral issued to a freed place.
#[derive(Debug, Serialize)]
struct ReferralJson {
    child_iin: String,
    registration_number: String,
    referral_number: String,
}

/// The body of a `200` to `POST /places`.
#[derive(Debug, Serialize)]
struct Freed {
    kindergarten_bin: String,
    age_group: &'static str,
    free: u64,
    referrals: Vec<ReferralJson>,
}

async fn list(State(http): State<Http>) -> Response {
    match http.store.places().await {
        Ok(rows) => {
            let places: Vec<PlacesJson> = rows
                .into_iter()
                .map(|row| PlacesJson {
                    age_group: i32::try_from(row.age_group)
                        .ok()
                        .and_then(|group| AgeGroup::try_from(group).ok())
                        .map_or("unspecified", age_group_name),
                    kindergarten_bin: row.bin,
                    district: row.district,
                    name: row.name,
                    free: row.free,
                })
                .collect();
            Json(places).into_response()
        }
        Err(error) => failure(&error),
    }
}

async fn free(State(http): State<Http>, body: Bytes) -> Response {
    let body: FreeBody = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(error) => {
            return refuse(
                HttpStatus::BAD_REQUEST,
                StatusCode::InvalidRequest,
                vec![field_error(
                    "body",
                    format!("is not a places body: {error}"),
                )],
            );
        }
    };
    let mut errors = Vec::new();
    let bin = body.kindergarten_bin.unwrap_or_default();
    if let Err(error) = Bin::parse(&bin) {
        errors.push(field_error("kindergarten_bin", error.to_string()));
    }
    let group_name = body.age_group.unwrap_or_default();
    let group = parse_age_group(&group_name);
    if group.is_none() {
        errors.push(field_error(
            "age_group",
            format!(
                "{group_name:?} is not one of infant, early, junior, middle, senior, preschool"
            ),
        ));
    }
    let count = body.count.unwrap_or(1);
    if count == 0 || count > MAX_FREED {
        errors.push(field_error(
            "count",
            format!("{count} is not between 1 and {MAX_FREED}"),
        ));
    }
    let Some(group) = group.filter(|_| errors.is_empty()) else {
        return refuse(HttpStatus::BAD_REQUEST, StatusCode::InvalidRequest, errors);
    };
    match http
        .store
        .free_places(&bin, group, count, http.clock.now())
        .await
    {
        Ok(freed) => {
            if !freed.referred.is_empty() {
                http.notices.wake();
            }
            tracing::info!(kindergarten = %bin, age_group = age_group_name(group), count, referred = freed.referred.len(), "places freed");
            Json(Freed {
                kindergarten_bin: bin,
                age_group: age_group_name(group),
                free: freed.free,
                referrals: freed
                    .referred
                    .into_iter()
                    .map(|entry| ReferralJson {
                        referral_number: entry
                            .referral
                            .map(|referral| referral.number)
                            .unwrap_or_default(),
                        child_iin: entry.child_iin,
                        registration_number: entry.registration_number,
                    })
                    .collect(),
            })
            .into_response()
        }
        Err(error @ QueueError::UnknownKindergarten { .. }) => refuse(
            HttpStatus::NOT_FOUND,
            StatusCode::DataNotFound,
            vec![field_error("kindergarten_bin", error.to_string())],
        ),
        Err(error) => failure(&error),
    }
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Answers an internal failure with a generic line; the details go to the log.
fn failure(error: &QueueError) -> Response {
    let body = Refusal {
        code: error.status().as_str(),
        message: error.public_message(),
        errors: Vec::new(),
    };
    (HttpStatus::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

/// Answers a refusal naming each field, with one joined line for people.
fn refuse(status: HttpStatus, code: StatusCode, errors: Vec<FieldError>) -> Response {
    let message = errors
        .iter()
        .map(|error| format!("{}: {}", error.field, error.message))
        .collect::<Vec<_>>()
        .join("; ");
    let body = Refusal {
        code: code.as_str(),
        message,
        errors,
    };
    (status, Json(body)).into_response()
}
