//! The operator console on the gateway's HTTP port: server-rendered pages, no script needed,
//! behind the console's own operator sign-in ([`signin`]).
//!
//! - `GET /console?service=&system=&status=&correlation_id=`: the newest messages the gateway
//!   logged, filtered (an empty filter matches all), each async message with its delivery
//!   state; above them, per service, the messages taken in over the last 15 minutes, their
//!   rate per minute and the refusal codes among them.
//! - `GET /console/exchanges/{correlation_id}`: one exchange's hops drawn as a sequence
//!   diagram (SVG, [`svg`]), the hops as a table, and the async messages' delivery states.
//!
//! Every page needs a session of an account with the role [`signin::OPERATOR_ROLE`] (403
//! without it); a visitor without a session is sent to `/login`.

pub mod signin;
pub mod svg;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode as HttpStatus;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use egov_core::envelope::RevocationSource;
use egov_signin::pages::{Lang, escape, logout_form, percent_encode};
use egov_signin::{Forbidden, SignedIn, Signin};
use time::format_description::well_known::Rfc3339;

use crate::exchange::Gateway;
use crate::message_log::{Direction, LogRecord, MessageLogError, RecentFilter, ServiceCount};
use crate::nats_start::AsyncChannelSlot;

/// The path of the console's main page.
pub const CONSOLE_PATH: &str = "/console";

/// The path prefix of one exchange's page: `/console/exchanges/{correlation_id}`.
pub const EXCHANGE_PATH: &str = "/console/exchanges";

/// The most messages the main page lists.
pub const RECENT_LIMIT: u32 = 100;

/// The window the per-service rates are counted over.
pub const RATE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// What the console's handlers share.
struct ConsoleState<R> {
    gateway: Arc<Gateway<R>>,
    channel: AsyncChannelSlot<R>,
}

impl<R> Clone for ConsoleState<R> {
    fn clone(&self) -> Self {
        ConsoleState {
            gateway: self.gateway.clone(),
            channel: self.channel.clone(),
        }
    }
}

/// Returns the console's routes behind `signin` (which adds `/login` and `/logout`).
pub fn router<R: RevocationSource + 'static>(
    gateway: Arc<Gateway<R>>,
    channel: AsyncChannelSlot<R>,
    signin: &Signin,
) -> Router {
    let routes = Router::new()
        .route(CONSOLE_PATH, get(console_page::<R>))
        .route(
            &format!("{EXCHANGE_PATH}/{{correlation_id}}"),
            get(exchange_page::<R>),
        )
        .with_state(ConsoleState { gateway, channel });
    signin.protect(routes)
}

/// Why a console page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The account lacks the operator role.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The message log could not be read.
    #[error(transparent)]
    Log(#[from] MessageLogError),
    /// No exchange has this correlation id.
    #[error("no exchange with correlation id {0}")]
    NoExchange(String),
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let status = match &self {
            ConsoleError::Forbidden(_) => HttpStatus::FORBIDDEN,
            ConsoleError::NoExchange(_) => HttpStatus::NOT_FOUND,
            ConsoleError::Log(error) => {
                tracing::error!(%error, "console: message log query failed");
                HttpStatus::INTERNAL_SERVER_ERROR
            }
        };
        let message = match &self {
            ConsoleError::Log(_) => "the message log could not be read".to_owned(),
            other => other.to_string(),
        };
        let body = layout(
            "Console",
            None,
            &format!(
                r#"<p class="error" id="error">{}</p><p><a href="{CONSOLE_PATH}">Back to the console</a></p>"#,
                escape(&message)
            ),
        );
        (status, Html(body)).into_response()
    }
}

/// A message's async delivery state and attempts, as the state bucket holds them.
type States = HashMap<String, (String, u32)>;

async fn console_page<R: RevocationSource + 'static>(
    State(state): State<ConsoleState<R>>,
    signed_in: SignedIn,
    Query(filter): Query<RecentFilter>,
) -> Result<Html<String>, ConsoleError> {
    signed_in.person.require_role(signin::OPERATOR_ROLE)?;
    let log = state.gateway.log();
    let records = log.recent(&filter, RECENT_LIMIT).await?;
    let since = state.gateway.clock().now() - RATE_WINDOW;
    let counts = log.counts_since(since).await?;
    let states = delivery_states(&state, &records).await;

    let mut body = String::new();
    body.push_str(&filter_form(&filter));
    body.push_str(&rates_table(&counts));
    let _ = write!(
        body,
        r#"<h2>Recent messages <small>({} shown, newest first)</small></h2>"#,
        records.len()
    );
    body.push_str(&messages_table(&records, &states, true));
    Ok(Html(layout("Operator console", Some(&signed_in), &body)))
}

async fn exchange_page<R: RevocationSource + 'static>(
    State(state): State<ConsoleState<R>>,
    signed_in: SignedIn,
    Path(correlation_id): Path<String>,
) -> Result<Html<String>, ConsoleError> {
    signed_in.person.require_role(signin::OPERATOR_ROLE)?;
    let records = state
        .gateway
        .log()
        .by_correlation_id(&correlation_id)
        .await?;
    if records.is_empty() {
        return Err(ConsoleError::NoExchange(correlation_id));
    }
    let states = delivery_states(&state, &records).await;
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<p><a href="{CONSOLE_PATH}" id="back">← All messages</a> · <a href="/correlations/{id}/diagram">Mermaid text</a></p><h2>Exchange <code id="correlation-id">{shown}</code></h2><div class="diagram" id="diagram">{svg}</div><h2>Hops</h2>"#,
        id = percent_encode(&correlation_id),
        shown = escape(&correlation_id),
        svg = svg::sequence_diagram(&records, &state.gateway.system_id),
    );
    body.push_str(&messages_table(&records, &states, false));
    Ok(Html(layout("Exchange", Some(&signed_in), &body)))
}

/// Reads the delivery state of every async message among `records`.
async fn delivery_states<R: RevocationSource + 'static>(
    state: &ConsoleState<R>,
    records: &[LogRecord],
) -> States {
    let mut states = States::new();
    let Some(channel) = state.channel.get() else {
        return states;
    };
    for record in records {
        let asynchronous = record.channel.eq_ignore_ascii_case("ASYNC");
        if !asynchronous || states.contains_key(&record.message_id) {
            continue;
        }
        let shown = match channel.status(&record.message_id).await {
            Ok(delivery) => (delivery.state.as_str().to_owned(), delivery.attempts),
            // A refused async send never got a state.
            Err(_) => ("—".to_owned(), 0),
        };
        states.insert(record.message_id.clone(), shown);
    }
    states
}

/// Renders the filter form: a GET, so filtered views can be bookmarked.
fn filter_form(filter: &RecentFilter) -> String {
    let field = |name: &str, label: &str, value: &str| {
        format!(
            r#"<label>{label} <input type="text" name="{name}" id="filter-{name}" value="{value}"></label> "#,
            value = escape(value)
        )
    };
    format!(
        r#"<form method="get" action="{CONSOLE_PATH}" id="filters" class="filters">{}{}{}{}<button type="submit" id="apply-filters">Filter</button> <a href="{CONSOLE_PATH}">Clear</a></form>"#,
        field("service", "Service", &filter.service),
        field("system", "System", &filter.system),
        field("status", "Status", &filter.status),
        field("correlation_id", "Correlation id", &filter.correlation_id),
    )
}

/// One service's messages taken in, and its refusals by code.
type ServiceLine<'a> = (i64, Vec<(&'a str, i64)>);

/// Renders the per-service counts: messages, rate per minute, refusal codes.
fn rates_table(counts: &[ServiceCount]) -> String {
    let mut by_service: BTreeMap<&str, ServiceLine<'_>> = BTreeMap::new();
    for count in counts {
        let entry = by_service.entry(&count.service_id).or_default();
        if count.direction == Direction::Inbound {
            entry.0 += count.count;
        }
        // A refusal at the door is on the INBOUND hop, a target's failure on the OUTBOUND one.
        if svg::is_refusal(&count.status_code) {
            entry.1.push((&count.status_code, count.count));
        }
    }
    let minutes = RATE_WINDOW.as_secs() / 60;
    let mut html = format!(
        r#"<h2>Services <small>(last {minutes} minutes)</small></h2><table id="rates"><thead><tr><th>Service</th><th>Messages</th><th>Per minute</th><th>Refusals by code</th></tr></thead><tbody>"#
    );
    if by_service.is_empty() {
        html.push_str(r#"<tr><td colspan="4">No messages in this window.</td></tr>"#);
    }
    for (service, (total, errors)) in by_service {
        let errors = errors
            .iter()
            .map(|(code, n)| format!(r#"<span class="code">{}</span> × {n}"#, escape(code)))
            .collect::<Vec<_>>()
            .join(", ");
        // One decimal of messages per minute, in integers so nothing rounds oddly.
        let tenths = total.saturating_mul(10) / i64::try_from(minutes.max(1)).unwrap_or(1);
        let _ = write!(
            html,
            r#"<tr data-service="{s}"><td><a href="{CONSOLE_PATH}?service={q}">{s}</a></td><td>{total}</td><td>{}.{}</td><td>{errors}</td></tr>"#,
            tenths / 10,
            tenths % 10,
            s = escape(service),
            q = percent_encode(service),
        );
    }
    html.push_str("</tbody></table>");
    html
}

/// Renders log records as a table; `link` makes each correlation id open its exchange.
fn messages_table(records: &[LogRecord], states: &States, link: bool) -> String {
    let mut html = String::from(
        r#"<table id="messages"><thead><tr><th>Received</th><th>Correlation id</th><th>Message id</th><th>Service</th><th>From → to</th><th>Hop</th><th>Type</th><th>Channel</th><th>Status</th><th>Delivery</th><th>Took</th></tr></thead><tbody>"#,
    );
    if records.is_empty() {
        html.push_str(r#"<tr><td colspan="11">No messages match.</td></tr>"#);
    }
    for record in records {
        let correlation = if link {
            format!(
                r#"<a class="exchange" href="{EXCHANGE_PATH}/{}">{}</a>"#,
                percent_encode(&record.correlation_id),
                escape(&record.correlation_id)
            )
        } else {
            escape(&record.correlation_id)
        };
        let delivery = states
            .get(&record.message_id)
            .map(|(state, attempts)| format!("{} ({attempts})", escape(state)))
            .unwrap_or_default();
        let status = if record.status_message.is_empty() {
            escape(&record.status_code)
        } else {
            format!(
                r#"<span title="{}">{}</span>"#,
                escape(&record.status_message),
                escape(&record.status_code)
            )
        };
        let class = if svg::is_refusal(&record.status_code) {
            " class=\"refused\""
        } else {
            ""
        };
        let _ = write!(
            html,
            r#"<tr{class}><td>{received}</td><td>{correlation}</td><td><code>{message_id}</code></td><td>{service}</td><td>{sender} → {receiver}</td><td>{hop}</td><td>{kind}</td><td>{channel}</td><td class="status">{status}</td><td class="delivery">{delivery}</td><td>{took}</td></tr>"#,
            received = escape(
                &record
                    .received_at
                    .format(&Rfc3339)
                    .unwrap_or_else(|_| record.received_at.to_string())
            ),
            message_id = escape(&record.message_id),
            service = escape(&record.service_id),
            sender = escape(&record.sender),
            receiver = escape(&record.receiver),
            hop = match record.direction {
                Direction::Inbound => "in",
                Direction::Outbound => "out",
            },
            kind = escape(&record.message_type),
            channel = escape(&record.channel),
            took = millis(record.duration_us),
        );
    }
    html.push_str("</tbody></table>");
    html
}

/// Formats microseconds as milliseconds with one decimal, e.g. `12.3 ms`.
pub(crate) fn millis(duration_us: i64) -> String {
    let us = duration_us.max(0);
    format!("{}.{} ms", us / 1_000, (us % 1_000) / 100)
}

/// Wraps a page body in the console's layout, naming who is signed in.
fn layout(title: &str, signed_in: Option<&SignedIn>, body: &str) -> String {
    let who = signed_in
        .map(|signed_in| {
            format!(
                r#"<div class="who">Signed in as <strong id="operator">{}</strong> {}</div>"#,
                escape(&signed_in.person.name),
                logout_form(&signed_in.csrf, Lang::En)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} · egov gateway</title><style>
body{{font:14px sans-serif;margin:1.5em;color:#222}} header{{display:flex;justify-content:space-between;align-items:center}}
.who form{{display:inline}} table{{border-collapse:collapse;margin:.5em 0 1.5em}} th,td{{border:1px solid #ccc;padding:3px 6px;text-align:left;font-size:13px}}
th{{background:#f2f2f2}} tr.refused td{{background:#fdecea}} .filters input{{width:11em}} small{{color:#666;font-weight:normal}}
.diagram{{overflow-x:auto;border:1px solid #ddd;padding:.5em;background:#fff}} .error{{color:#c0392b}} code{{font-size:12px}}
</style></head><body><header><h1>{title}</h1>{who}</header>{body}</body></html>"#,
        title = escape(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_count_a_service_and_name_its_refusal_codes() {
        let counts = [
            ServiceCount {
                service_id: "labor.apply".into(),
                direction: Direction::Inbound,
                status_code: "SCSS001".into(),
                count: 30,
            },
            ServiceCount {
                service_id: "labor.apply".into(),
                direction: Direction::Outbound,
                status_code: "SCSS001".into(),
                count: 27,
            },
            ServiceCount {
                service_id: "labor.apply".into(),
                direction: Direction::Outbound,
                status_code: "EROUT001".into(),
                count: 3,
            },
        ];
        let html = rates_table(&counts);
        // 30 messages in 15 minutes: 2.0 a minute.
        assert!(html.contains("<td>30</td><td>2.0</td>"), "{html}");
        assert!(html.contains(r#"<span class="code">EROUT001</span> × 3"#));
        assert!(!html.contains("SCSS001"));
    }

    #[test]
    fn the_filter_form_keeps_the_filters_escaped() {
        let html = filter_form(&RecentFilter {
            service: "a\"><script>".into(),
            ..RecentFilter::default()
        });
        assert!(html.contains("value=\"a&quot;&gt;&lt;script&gt;\""));
        assert!(!html.contains("<script>"));
    }
}
