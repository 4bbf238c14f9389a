//! The gateway's message log: every message in both directions, with its
//! signatures, header, status and timings, in a durable store, queryable by
//! message id and by correlation id, and drawable as a Mermaid diagram.
//!
//! # Layout
//! - [`record`]: [`LogRecord`], one logged hop.
//! - [`store`]: [`MessageLog`], the SQLite / PostgreSQL store with a batching writer.
//! - [`certificates`]: signatures stored without their chains, each certificate once.
//! - [`mermaid`]: the sequence-diagram export of one correlation id.

pub mod certificates;
pub mod mermaid;
pub mod record;
pub mod store;

pub use record::{Direction, LogRecord};
pub use store::{MessageLog, MessageLogError, RecentFilter, RefusalRecord, ServiceCount};
