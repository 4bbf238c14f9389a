//! egov-conformance: the conformance kit. A team replacing one simulated system (the
//! citizens-DB, the notary registry, …) with its real one runs the kit against its endpoint
//! and learns whether it speaks the contract exactly as the simulated one does.
//!
//! The contract of each system is data ([`Contract`]): a list of [`Check`]s, each naming the
//! call as the gateway forwards it to the system's `MessageReceiver.Receive` (service id and
//! payload type), its input and what the answer must be — the status code, the answer's payload
//! type and required fields, a signature by a certificate of the system's BIN, the request's
//! correlation id, within a stated time. The [`Kit`] signs each request on its own side with a
//! certificate it holds, verifies the answers against the stack's CA and returns a [`Report`].
//!
//! The simulated systems' own tests run the same contracts in-process: one definition of the
//! contract.
//!
//! # Layout
//! - [`check`]: [`Check`], [`Expect`] and [`Shape`], the answer's required fields.
//! - [`contracts`]: [`Contract`] and each system's checks.
//! - [`kit`]: [`Kit`], which runs a contract against an endpoint.
//! - [`report`]: [`Report`] and [`Verdict`], printed, scored and written as JUnit XML.

pub mod check;
pub mod contracts;
pub mod kit;
pub mod report;

pub use check::{Call, Check, Expect, Shape, Tamper};
pub use contracts::{Contract, SYSTEMS, Signatory, Via};
pub use kit::{ConformanceError, Kit};
pub use report::{Report, Verdict};
