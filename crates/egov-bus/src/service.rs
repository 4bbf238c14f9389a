//! What every service binary shares at its edge: the common flags (each one
//! an override of the layered config) and binding the two listeners.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use tokio::net::TcpListener;

use crate::BusError;
use crate::grpc::GrpcRoutes;
use crate::shutdown::Stop;

/// The flags every service takes; each overrides its config file and
/// `EGOV_<SERVICE>__<KEY>` env vars. Flatten it into a binary's own parser.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServiceArgs {
    /// TOML config file; `EGOV_<SERVICE>__<KEY>` env vars and the flags below override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Address of the gRPC server (the system's contract, MessageReceiver, health, reflection).
    #[arg(long)]
    pub grpc_listen: Option<SocketAddr>,
    /// Address of the HTTP server (`/health`, `/metrics` and the service's own pages).
    #[arg(long)]
    pub http_listen: Option<SocketAddr>,
    /// Directory of the service's state (its SQLite database).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// NATS server URL (the gateway's async channel).
    #[arg(long)]
    pub nats_url: Option<String>,
    /// gRPC endpoint of the certification centre to enroll with.
    #[arg(long)]
    pub pki_endpoint: Option<String>,
    /// gRPC endpoint of the gateway other systems are called through (where the service calls any).
    #[arg(long)]
    pub gateway_endpoint: Option<String>,
    /// Prints the merged config as TOML and exits.
    #[arg(long)]
    pub dump_config: bool,
}

impl ServiceArgs {
    /// Returns the given flags as `(config key, value)` overrides for `egov_core::config::load`.
    pub fn overrides(&self) -> Vec<(String, String)> {
        [
            ("grpc_listen", self.grpc_listen.map(|a| a.to_string())),
            ("http_listen", self.http_listen.map(|a| a.to_string())),
            (
                "data_dir",
                self.data_dir.as_ref().map(|d| d.display().to_string()),
            ),
            ("nats_url", self.nats_url.clone()),
            ("pki_endpoint", self.pki_endpoint.clone()),
            ("gateway_endpoint", self.gateway_endpoint.clone()),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key.to_owned(), value?)))
        .collect()
    }
}

/// The two listeners a service serves on, bound by the caller (port 0 in tests).
#[derive(Debug)]
pub struct Listeners {
    /// gRPC: the service's contracts, health, reflection.
    pub grpc: TcpListener,
    /// HTTP: the service's own routes, `/health`, `/metrics`.
    pub http: TcpListener,
}

/// Binds a service's gRPC and HTTP listeners, naming the address that failed.
pub async fn bind(
    grpc: SocketAddr,
    http: SocketAddr,
) -> Result<(TcpListener, TcpListener), BusError> {
    let bind = |addr: SocketAddr, what: &'static str| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|source| BusError::Bind { what, addr, source })
    };
    Ok((
        bind(grpc, "grpc_listen").await?,
        bind(http, "http_listen").await?,
    ))
}

/// Serves a service's gRPC `routes` (with health and reflection) on `grpc` and its HTTP
/// `router` on `http` until `stop` says stop; the first server to fail ends both.
pub async fn serve_grpc_and_http(
    grpc: TcpListener,
    routes: impl Into<GrpcRoutes>,
    http: TcpListener,
    router: Router,
    stop: &Stop,
) -> Result<(), BusError> {
    let grpc_server = crate::grpc::serve(grpc, routes, stop.stopped());
    let http_server = crate::http::serve_http(http, router, stop.stopped());
    tokio::try_join!(grpc_server, http_server).map(|((), ())| ())
}

/// Checks that the `grpc_listen` and `http_listen` keys name different addresses (port 0
/// twice is fine: each bind gets its own port), returning a config's validation message.
pub fn check_listeners(grpc: SocketAddr, http: SocketAddr) -> Result<(), String> {
    if grpc == http && grpc.port() != 0 {
        return Err(format!("`grpc_listen` and `http_listen` are both {grpc}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_given_flags_become_overrides() {
        let args = ServiceArgs {
            grpc_listen: Some(SocketAddr::from(([127, 0, 0, 1], 7140))),
            pki_endpoint: Some("http://127.0.0.1:7110".into()),
            ..ServiceArgs::default()
        };
        assert_eq!(
            args.overrides(),
            vec![
                ("grpc_listen".to_owned(), "127.0.0.1:7140".to_owned()),
                (
                    "pki_endpoint".to_owned(),
                    "http://127.0.0.1:7110".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn the_same_listen_address_twice_is_refused_unless_port_zero() {
        let addr: SocketAddr = "127.0.0.1:7140".parse().expect("addr");
        let error = check_listeners(addr, addr).expect_err("clash");
        assert!(
            error.contains("grpc_listen") && error.contains("http_listen"),
            "{error}"
        );
        let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        check_listeners(any, any).expect("port 0 twice");
    }
}
