//! The shared core of egov-stack: what every system needs to speak to another.
//!
//! A message between two systems is a signed [`envelope`]; its signer holds an
//! X.509 certificate of Kazakhstan's PKI profile ([`pki`]); people and
//! organisations are keyed by [`iin`] (ЖСН / ИИН) and BIN (БСН / БИН); time comes
//! from one [`clock`] and working days from [`calendar`].
//!
//! # Layout
//! - [`iin`]: IIN and BIN parsing, validation, derivation and generation.
//! - [`pki`]: the certificate profile (roles, key usage, SERIALNUMBER / OU rules), parsing and issuing.
//! - [`envelope`]: signing and verifying envelopes, revocation checks.
//! - [`status`]: the gateway-style status codes (`SCSS001` …) and their gRPC mapping.
//! - [`clock`]: the real and the virtual clock.
//! - [`calendar`]: Kazakhstan's working-day calendar.
//! - [`config`]: layered configuration loading (defaults, TOML, `EGOV_` env, flags).
//! - [`systems`]: the stack's information systems, their ids and BINs.

pub mod calendar;
pub mod clock;
pub mod config;
pub mod envelope;
pub mod iin;
pub mod pki;
pub mod providers;
pub mod status;
pub mod systems;

pub use iin::{Bin, Iin};
pub use status::StatusCode;
