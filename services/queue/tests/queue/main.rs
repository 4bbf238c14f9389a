//! egov-queue end to end: the kindergarten queue register behind a sandbox gateway on a virtual
//! clock, with the real citizens-DB, notary registry and back office, asked by the portal and
//! the State Corporation exactly as in the stack — one test per branch of service D in
//! FLOWS.md, each checking the exact status code or result kind.
//! Run with `cargo test -p egov-queue`.

mod bad_input;
mod cabinet;
mod common;
mod conformance;
mod service_d;
