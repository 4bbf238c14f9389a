//! egov-esobes end to end: E-sobes («Е-собес» АЖ) behind a sandbox gateway on a virtual clock,
//! with the real citizens-DB, notary registry and back office, asked by the portal and the
//! State Corporation exactly as in the stack — one test per branch of service C in FLOWS.md,
//! each checking the exact status code or result kind. Run with `cargo test -p egov-esobes`.

mod bad_input;
mod common;
mod conformance;
mod service_c;
