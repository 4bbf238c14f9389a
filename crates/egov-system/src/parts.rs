//! What an enrolled system serves with: its seal, the verifier of what it is sent, its
//! store and the stack's clock.

use std::sync::Arc;

use egov_core::clock::Clock;
use egov_core::envelope::Verifier;

use crate::SystemIdentity;

/// What an enrolled system serves with, over its store `S`; generic over the verifier's
/// revocation source `R`, so tests pass a sandbox's verifier and production the centre's.
pub struct Parts<R, S> {
    /// The system's seal: it signs every answer and every call.
    pub identity: Arc<SystemIdentity>,
    /// Verifies every request the gateway forwards.
    pub verifier: Arc<Verifier<R>>,
    /// The database.
    pub store: S,
    /// The stack's clock.
    pub clock: Arc<dyn Clock>,
}
