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
//! The contracts: the citizens-DB, the notary registry, the Labour Market AIS, E-sobes, the
//! queue register and the back office at their `MessageReceiver`, and the national gateway's
//! own `Gateway.SendMessage` ([`SYSTEMS`]).
//!
//! ```no_run
//! # async fn demo(kit: egov_conformance::Kit<egov_core::envelope::StaticRevocation>) {
//! let contract = egov_conformance::Contract::of("citizens").expect("a contract");
//! let report = kit.run(&contract, "127.0.0.1:7120").await.expect("the kit runs");
//! println!("{report}"); // each check, conforming or not with the reason, and the score
//! report.to_junit().write("citizens.xml".as_ref()).expect("written");
//! # }
//! ```
//!
//! # Layout
//! - [`check`]: [`Check`] (built from a [`Call`]), [`Expect`], [`Tamper`] and [`Shape`], the
//!   answer's required fields.
//! - [`contracts`]: [`Contract`], its [`Signatory`] and [`Via`], and each system's checks.
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
