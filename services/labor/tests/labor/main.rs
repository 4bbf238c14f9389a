//! egov-labor end to end: the Labour Market AIS («Еңбек нарығы» ААЖ) behind a sandbox gateway
//! on a virtual clock, with the real citizens-DB, notary registry and back office, asked by the
//! portal and the State Corporation exactly as in the stack — one test per branch of service B
//! in FLOWS.md, each checking the exact status code or result kind.
//! Run with `cargo test -p egov-labor`.

mod bad_input;
mod common;
mod conformance;
mod direct;
mod employment;
mod service_b;
