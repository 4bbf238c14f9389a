//! The clock authority's HTTP side, next to egov-bus's `/health` and `/metrics`.
//!
//! - `GET /clock`: the stack's time and its followers, as JSON.
//! - `POST /clock/advance?step=3d`: moves the time by a step (`Authorization: Bearer …`).
//! - `POST /clock/set?to=2026-03-02T04:00:00Z`: moves the time to an instant (same header).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use egov_bus::clock::{ClockError, format_instant, parse_instant};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::{Deserialize, Serialize};

use crate::authority::{Authority, AuthorityError, Moved};

/// The path of the clock's state.
pub const CLOCK_PATH: &str = "/clock";

/// The path of an advance.
pub const ADVANCE_PATH: &str = "/clock/advance";

/// The path of a set.
pub const SET_PATH: &str = "/clock/set";

/// Returns the authority's routes merged with `/health` and `/metrics`.
pub fn router(authority: Arc<Authority>, metrics: PrometheusHandle) -> Router {
    let routes = Router::new()
        .route(CLOCK_PATH, get(show))
        .route(ADVANCE_PATH, post(advance))
        .route(SET_PATH, post(set))
        .with_state(authority);
    egov_bus::http::router(crate::config::SERVICE, metrics, routes)
}

/// One follower in the JSON answer.
#[derive(Debug, Serialize)]
struct FollowerJson {
    key: String,
    seen: String,
    next_deadline: Option<String>,
}

/// The JSON answer.
#[derive(Debug, Serialize)]
struct StateJson {
    now: String,
    from: String,
    stops: u32,
    followers: Vec<FollowerJson>,
}

/// `?step=` of an advance.
#[derive(Debug, Deserialize)]
struct AdvanceQuery {
    step: String,
}

/// `?to=` of a set.
#[derive(Debug, Deserialize)]
struct SetQuery {
    to: String,
}

fn state(authority: &Authority, moved: &Moved) -> Json<StateJson> {
    let followers = authority
        .followers()
        .into_iter()
        .map(|(key, report)| FollowerJson {
            key,
            seen: format_instant(report.seen),
            next_deadline: report.next.map(format_instant),
        })
        .collect();
    Json(StateJson {
        now: format_instant(moved.now),
        from: format_instant(moved.from),
        stops: moved.stops,
        followers,
    })
}

fn refusal(error: AuthorityError) -> Response {
    let status = match &error {
        AuthorityError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        AuthorityError::Step(_) => StatusCode::BAD_REQUEST,
        AuthorityError::Clock(ClockError::Backwards { .. }) => StatusCode::CONFLICT,
        AuthorityError::Clock(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, error.to_string()).into_response()
}

fn authorize(authority: &Authority, headers: &HeaderMap) -> Result<(), AuthorityError> {
    let header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    authority.authorize(header)
}

async fn show(State(authority): State<Arc<Authority>>) -> Response {
    match authority.now().await {
        Ok(now) => state(
            &authority,
            &Moved {
                from: now,
                now,
                stops: 0,
            },
        )
        .into_response(),
        Err(error) => refusal(error.into()),
    }
}

async fn advance(
    State(authority): State<Arc<Authority>>,
    headers: HeaderMap,
    Query(query): Query<AdvanceQuery>,
) -> Response {
    if let Err(refused) = authorize(&authority, &headers) {
        return refusal(refused);
    }
    let step = match query.step.parse() {
        Ok(step) => step,
        Err(error) => return refusal(AuthorityError::Step(error)),
    };
    match authority.advance(step).await {
        Ok(moved) => state(&authority, &moved).into_response(),
        Err(error) => refusal(error),
    }
}

async fn set(
    State(authority): State<Arc<Authority>>,
    headers: HeaderMap,
    Query(query): Query<SetQuery>,
) -> Response {
    if let Err(refused) = authorize(&authority, &headers) {
        return refusal(refused);
    }
    let Some(to) = parse_instant(&query.to) else {
        return (
            StatusCode::BAD_REQUEST,
            format!("`to` = {:?} is not an RFC 3339 instant", query.to),
        )
            .into_response();
    };
    match authority.set(to).await {
        Ok(moved) => state(&authority, &moved).into_response(),
        Err(error) => refusal(error),
    }
}
