//! egov-clock: the clock authority, one virtual clock for the whole stack.
//!
//! In virtual mode the stack's time lives in a NATS KV bucket that only this service writes
//! (compare-and-set, never backwards); every service follows it through
//! `egov_bus::clock::service_clock(ClockMode::Stack, …)`. An operator moves it with
//! `egov clock advance 3d|6wd` or `egov clock set <rfc3339>`, over gRPC (`egov.v1.StackClock`)
//! or HTTP (`/clock`), with a bearer token; the move stops at each follower's next deadline
//! so timers across the stack fire in order.
//!
//! # Layout
//! - [`config`]: [`Config`], its defaults (gRPC 7200, HTTP 7201) and loading.
//! - [`authority`]: [`Authority`], the deadline-by-deadline move and the token check.
//! - [`grpc`]: the `egov.v1.StackClock` tonic service.
//! - [`http`]: `GET /clock`, `POST /clock/advance`, `POST /clock/set`, `/health`, `/metrics`.
//! - [`server`]: [`run`], which serves both until shutdown.

pub mod authority;
pub mod config;
pub mod grpc;
pub mod http;
pub mod server;

pub use authority::{Authority, AuthorityError, Moved, Pacing};
pub use config::Config;
pub use server::run;
