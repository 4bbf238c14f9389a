//! egov-notary end to end: the registry (БНАЖ / ЕНИС) started in-process on loopback port 0
//! behind a sandbox gateway, asked by the State Corporation (`con`) and the portal exactly
//! as in the stack. Run with `cargo test -p egov-notary`.

mod async_inbox;
mod common;
mod conformance;
mod direct;
mod lookups;
mod postgres;
mod registration;
mod virtual_time;
