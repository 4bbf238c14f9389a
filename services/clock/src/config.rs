//! The clock authority's configuration.
//!
//! Loaded through `egov_core::config`: defaults, then the TOML file, then
//! `EGOV_CLOCK__<KEY>` env vars, then CLI flags, then [`Validate::validate`].

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use egov_core::config::{ConfigError, Validate};
use serde::{Deserialize, Serialize};

/// The service name: the config loader's env prefix (`EGOV_CLOCK__`) and the health and log name.
pub const SERVICE: &str = "clock";

/// Default NATS URL, the one `egov up` starts.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// The shortest operator token accepted, so a guessable one is refused at start.
pub const MIN_TOKEN_LEN: usize = 16;

/// The clock authority's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the gRPC server binds (`egov.v1.StackClock`, health, reflection).
    pub grpc_listen: SocketAddr,
    /// Address the HTTP server binds (`/clock`, `/health`, `/metrics`).
    pub http_listen: SocketAddr,
    /// NATS server URL: the clock's KV buckets live there.
    pub nats_url: String,
    /// The bearer token operator actions (advance, set) need; unset refuses them all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_token: Option<String>,
    /// The margin, in milliseconds, between the two checks that the stack is quiet after a
    /// stop (followers there and idle, no async message in flight), so a report that crossed
    /// the in-flight count is seen before the next deadline is chosen.
    pub settle_ms: u64,
    /// How long, in milliseconds, the stack may take to turn quiet after a stop before the
    /// authority logs who held it and goes on, not waiting for those followers again that move.
    pub ack_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 7200)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 7201)),
            nats_url: DEFAULT_NATS_URL.to_owned(),
            operator_token: None,
            settle_ms: 5,
            ack_timeout_ms: 2000,
        }
    }
}

impl Config {
    /// Loads the config through every layer: defaults, `file`, `EGOV_CLOCK__*` in `env`,
    /// then `overrides` as `(key, value)` pairs from flags.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        egov_core::config::load(SERVICE, file, env, overrides)
    }

    /// Returns the settle window.
    pub fn settle(&self) -> Duration {
        Duration::from_millis(self.settle_ms)
    }

    /// Returns how long a follower may take to reach a step.
    pub fn ack_timeout(&self) -> Duration {
        Duration::from_millis(self.ack_timeout_ms)
    }
}

impl Validate for Config {
    fn validate(&self) -> Result<(), String> {
        if let Some(token) = &self.operator_token
            && token.len() < MIN_TOKEN_LEN
        {
            return Err(format!(
                "`operator_token` has {} characters; it needs at least {MIN_TOKEN_LEN}",
                token.len()
            ));
        }
        if self.ack_timeout_ms == 0 {
            return Err("`ack_timeout_ms` must be at least 1, found 0".into());
        }
        egov_bus::service::check_listeners(self.grpc_listen, self.http_listen)
    }
}
