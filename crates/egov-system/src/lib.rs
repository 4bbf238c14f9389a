//! The runtime every simulated information system shares (citizens-DB,
//! notary registry, Labour Market, E-sobes, queue register, back office).
//!
//! A system enrolls with the certification centre (НУЦ) for its seal
//! certificate, answers the requests the gateway forwards with signed
//! responses (sync over gRPC, async through its [`Inbox`]), and calls other
//! systems through the gateway.
//!
//! # Layout
//! - [`intake_sql`]: the intake's tables in SQLite, shared by every intake store.
//! - [`config`]: [`SystemConfig`], the keys every system shares, and their checks;
//!   [`system_config!`] declares a system with those keys only, [`system_settings!`] one with
//!   keys of its own.
//! - [`identity`]: [`SystemIdentity`], enrolment with the certification centre.
//! - [`parts`]: [`Parts`], what an enrolled system serves with.
//! - [`receiver`]: [`Receiver`], the `MessageReceiver` that verifies, dispatches and signs.
//! - [`caller`]: [`GatewayCaller`], signed calls to other systems through the gateway.
//! - [`inbox`]: [`Inbox`], the async channel's messages (NATS push, or pull) to the same receiver.
//! - [`cabinet`]: the citizen's cabinet's service id and notification fields.
//! - [`direct`]: a system's direct gRPC contract, a signed call without the gateway.
//! - [`fault`]: [`Fault`], a signed refusal with a status code.
//! - [`error`]: [`SystemError`], a system's failures outside its domain, and [`public_fault`].
//! - [`runtime`]: [`System`], what a system names, enrolls as and mounts, and [`runtime::run`],
//!   which enrolls, opens the store and serves it with its inbox until shutdown;
//!   [`runtime::load_config`] and [`runtime::main`] for a system's `main.rs`.
//! - [`intake`]: [`intake::Intake`], the application intake of the target systems (B, C, D).

pub mod cabinet;
pub mod caller;
pub mod config;
pub mod direct;
pub mod error;
pub mod fault;
pub mod identity;
pub mod inbox;
pub mod intake;
pub mod intake_sql;
pub mod parts;
pub mod provider;
pub mod receiver;
pub mod runtime;

pub use caller::{CallError, GatewayCaller};
pub use config::{SystemConfig, SystemDefaults};
pub use error::{SystemError, public_fault};
pub use fault::Fault;
pub use identity::{Enrolment, EnrolmentError, IdentityError, KeyFiles, SystemIdentity};
pub use inbox::{Handled, Inbox, InboxSettings, RunningInbox};
pub use parts::Parts;
pub use receiver::{EnvelopeReceiver, Handler, Receiver, Reply, Request};
pub use runtime::{Mount, Mounted, System, process_clock};
