//! egov-bus: the NATS/JetStream and gRPC plumbing every egov-stack service shares.
//!
//! A service's `main` calls [`telemetry::init`], binds its listeners, then serves through
//! [`grpc::serve`] and [`http::serve_http`] until [`shutdown::shutdown_signal`] resolves;
//! NATS subjects and headers come from [`subjects`], trace context from [`trace_context`].
//!
//! # Layout
//! - [`grpc`]: serves a service's tonic routes with grpc.health.v1 and reflection.
//! - [`http`]: the operational HTTP routes (`/health`, `/metrics`) and their server.
//! - [`telemetry`]: tracing, optional OTLP export and the Prometheus recorder.
//! - [`service`]: the flags every service binary takes, binding its listeners and serving both.
//! - [`shutdown`]: the Ctrl-C / SIGTERM future every server stops on, and [`shutdown::Stop`].
//! - [`trace_context`]: W3C `traceparent` in tonic metadata and NATS headers.
//! - [`subjects`]: NATS subject builders and header names.
//! - [`nats_accounts`]: NATS users with per-system permissions, and connecting as one.
//! - [`clock`]: the stack-wide virtual clock in NATS KV and [`clock::service_clock`].
//! - [`clock_authority`]: a client of the clock authority, reading and moving that clock.
//! - [`error`]: [`BusError`], what can fail while serving.

pub mod clock;
pub mod clock_authority;
pub mod error;
pub mod grpc;
pub mod http;
pub mod nats_accounts;
pub mod nats_tls;
pub mod service;
pub mod shutdown;
pub mod subjects;
pub mod telemetry;
pub mod trace_context;

pub use error::BusError;
pub use telemetry::{TelemetryError, TelemetryGuard};
