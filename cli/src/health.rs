//! Probes: grpc.health.v1 for services, a TCP connect for nats-server.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// Describes what a probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// The health service answered SERVING (nats-server: the port accepted).
    Serving,
    /// The health service answered NOT_SERVING (the process is draining or degraded).
    NotServing,
    /// The health service answered UNKNOWN or something unexpected.
    Unknown,
    /// Nothing answered within the timeout.
    Down,
}

impl Health {
    /// Returns whether the probed process is up and serving.
    pub fn is_serving(self) -> bool {
        self == Self::Serving
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Serving => "SERVING",
            Self::NotServing => "NOT_SERVING",
            Self::Unknown => "UNKNOWN",
            Self::Down => "DOWN",
        })
    }
}

/// Asks the gRPC server at `addr` for its overall health, within `timeout`.
pub async fn grpc(addr: SocketAddr, timeout: Duration) -> Health {
    let probe = async {
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .ok()?
            .connect_timeout(timeout)
            .timeout(timeout)
            .connect()
            .await
            .ok()?;
        let answer = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .ok()?;
        Some(match answer.into_inner().status() {
            ServingStatus::Serving => Health::Serving,
            ServingStatus::NotServing => Health::NotServing,
            _ => Health::Unknown,
        })
    };
    tokio::time::timeout(timeout, probe)
        .await
        .ok()
        .flatten()
        .unwrap_or(Health::Down)
}

/// Checks that something accepts TCP connections at `addr` (nats-server has no gRPC health).
pub async fn tcp(addr: SocketAddr, timeout: Duration) -> Health {
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(_)) => Health::Serving,
        _ => Health::Down,
    }
}
