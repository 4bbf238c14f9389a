//! egov-pki: the national certification centre (ҰКО / НУЦ), which issues the X.509
//! certificates every signed envelope carries, revokes them and answers their status.
//! FLOWS.md: every signature check (validity, revocation, IIN match) ends here.
//! Run it with `cargo run -p egov-pki -- --data-dir .egov/pki` (or `egov up`).
//!
//! # Layout
//! - [`config`]: [`Config`], its defaults and loading.
//! - [`store`]: the SQL state (CA, certificates, revocations, counters).
//! - [`centre`]: [`Centre`], issuing, revoking, status and the revocation list.
//! - [`grpc`]: the `egov.v1.CertificationCentre` tonic service.
//! - [`http`]: `GET /crl`, `/ca/root.der`, `/ca/intermediate.der`, `/health`, `/metrics`.
//! - [`enrolment`]: who may enrol: enrolment tokens and their grants, registrar credentials.
//! - [`registrar`]: `egov-pki accounts` and `egov-pki tokens`, the operator's commands.
//! - [`secret`]: the owner-only data dir, database and `ca.secret`.
//! - [`client`]: [`RemoteRevocation`], a revocation source over the gRPC status call.
//! - [`server`]: [`run`], which serves both until shutdown.
//! - [`error`]: [`PkiError`] and its gRPC mapping.

pub mod centre;
pub mod client;
pub mod config;
pub mod enrolment;
pub mod error;
pub mod grpc;
pub mod http;
pub mod registrar;
pub mod secret;
pub mod server;
pub mod store;

pub use centre::Centre;
pub use client::RemoteRevocation;
pub use config::Config;
pub use error::PkiError;
pub use server::{run, run_with_clock};
