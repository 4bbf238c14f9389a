//! egov-backoffice: the provider back office (көрсетілетін қызметті беруші / услугодатель) as
//! a process. `egov up` runs it as `egov-backoffice --grpc-listen 127.0.0.1:7170 --http-listen
//! 127.0.0.1:7171 --data-dir <dir> --pki-endpoint http://127.0.0.1:7110 --gateway-endpoint
//! http://127.0.0.1:7100`; `--dump-config` prints the merged config.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use egov_backoffice::Config;
use tokio::net::TcpListener;

/// The provider back office: cases of services A–F through clerk, head and executor.
#[derive(Debug, Parser)]
#[command(name = "egov-backoffice", version, about)]
struct Args {
    /// TOML config file; `EGOV_BACKOFFICE__<KEY>` env vars and the flags below override it.
    #[arg(long, env = "EGOV_BACKOFFICE_CONFIG")]
    config: Option<PathBuf>,
    /// Address of the gRPC server (MessageReceiver, BackOffice, health, reflection) [default: 127.0.0.1:7170].
    #[arg(long)]
    grpc_listen: Option<SocketAddr>,
    /// Address of the HTTP server (worklist pages and API, /health, /metrics) [default: 127.0.0.1:7171].
    #[arg(long)]
    http_listen: Option<SocketAddr>,
    /// Directory of the back office's database.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// NATS server URL (accepted, not used yet).
    #[arg(long)]
    nats_url: Option<String>,
    /// gRPC endpoint of the certification centre to enroll the seal and the head with.
    #[arg(long)]
    pki_endpoint: Option<String>,
    /// gRPC endpoint of the gateway results are sent through [default: http://127.0.0.1:7100].
    #[arg(long)]
    gateway_endpoint: Option<String>,
    /// Prints the merged config as TOML and exits.
    #[arg(long)]
    dump_config: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let overrides: Vec<(String, String)> = [
        ("grpc_listen", args.grpc_listen.map(|a| a.to_string())),
        ("http_listen", args.http_listen.map(|a| a.to_string())),
        ("data_dir", args.data_dir.map(|d| d.display().to_string())),
        ("nats_url", args.nats_url),
        ("pki_endpoint", args.pki_endpoint),
        ("gateway_endpoint", args.gateway_endpoint),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key.to_owned(), value?)))
    .collect();
    let config = Config::load(args.config.as_deref(), std::env::vars(), &overrides)?;
    if args.dump_config {
        print!("{}", egov_core::config::dump(&config)?);
        return Ok(());
    }
    let telemetry = egov_bus::telemetry::init(egov_backoffice::config::SERVICE)?;
    let grpc = TcpListener::bind(config.grpc_listen)
        .await
        .context("binding grpc_listen")?;
    let http = TcpListener::bind(config.http_listen)
        .await
        .context("binding http_listen")?;
    egov_backoffice::run(config, grpc, http, egov_bus::shutdown::shutdown_signal()).await?;
    telemetry.shutdown().await;
    Ok(())
}
