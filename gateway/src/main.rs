//! `egov-gateway`: the national (ШЭП) or regional (РШЭП) e-government gateway.
//!
//! Run: `egov-gateway --registry gateway/registry.toml`; `--dump-config` prints
//! the effective configuration.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use egov_gateway::{Config, Listeners};

/// Command-line flags; each overrides the config file and `EGOV_GATEWAY__*`.
#[derive(Debug, Parser)]
#[command(name = "egov-gateway", version, about)]
struct Args {
    /// TOML config file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// gRPC listen address.
    #[arg(long)]
    grpc_listen: Option<String>,
    /// HTTP listen address.
    #[arg(long)]
    http_listen: Option<String>,
    /// Data directory (SQLite store, default registry path).
    #[arg(long)]
    data_dir: Option<String>,
    /// NATS URL.
    #[arg(long)]
    nats_url: Option<String>,
    /// The registry file.
    #[arg(long)]
    registry: Option<String>,
    /// `national` or `regional`.
    #[arg(long)]
    role: Option<String>,
    /// This gateway's system id.
    #[arg(long)]
    system_id: Option<String>,
    /// The certification centre's gRPC endpoint.
    #[arg(long)]
    pki_endpoint: Option<String>,
    /// Prints the effective configuration and exits.
    #[arg(long)]
    dump_config: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let overrides: Vec<(String, String)> = [
        ("grpc_listen", args.grpc_listen),
        ("http_listen", args.http_listen),
        ("data_dir", args.data_dir),
        ("nats_url", args.nats_url),
        ("registry", args.registry),
        ("role", args.role),
        ("system_id", args.system_id),
        ("pki_endpoint", args.pki_endpoint),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|v| (key.to_owned(), v)))
    .collect();
    let config: Config = egov_core::config::load(
        "gateway",
        args.config.as_deref(),
        std::env::vars(),
        &overrides,
    )?;
    if args.dump_config {
        print!("{}", egov_core::config::dump(&config)?);
        return Ok(());
    }
    let _telemetry = egov_bus::telemetry::init("egov-gateway")?;
    let listeners = Listeners {
        grpc: tokio::net::TcpListener::bind(config.grpc_listen)
            .await
            .with_context(|| format!("binding gRPC on {}", config.grpc_listen))?,
        http: tokio::net::TcpListener::bind(config.http_listen)
            .await
            .with_context(|| format!("binding HTTP on {}", config.http_listen))?,
    };
    egov_gateway::run(config, listeners, egov_bus::shutdown::shutdown_signal()).await?;
    Ok(())
}
