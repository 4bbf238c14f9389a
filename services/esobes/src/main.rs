//! egov-esobes: the social-protection IS («Е-собес» АЖ), service C's target system, as a
//! process. `egov up` runs it as `egov-esobes --grpc-listen 127.0.0.1:7150
//! --http-listen 127.0.0.1:7151 --data-dir <dir> --pki-endpoint http://127.0.0.1:7110
//! --gateway-endpoint http://127.0.0.1:7100`; `--dump-config` prints the merged config.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use egov_esobes::Config;
use tokio::net::TcpListener;

/// E-sobes: registers applications for the home-schooling compensation (service C).
#[derive(Debug, Parser)]
#[command(name = "egov-esobes", version, about)]
struct Args {
    /// TOML config file; `EGOV_ESOBES__<KEY>` env vars and the flags below override it.
    #[arg(long, env = "EGOV_ESOBES_CONFIG")]
    config: Option<PathBuf>,
    /// Address of the gRPC server (MessageReceiver, health, reflection).
    #[arg(long)]
    grpc_listen: Option<SocketAddr>,
    /// Address of the HTTP server (/health, /metrics).
    #[arg(long)]
    http_listen: Option<SocketAddr>,
    /// Directory of the system's database.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// NATS server URL (accepted, not used yet).
    #[arg(long)]
    nats_url: Option<String>,
    /// gRPC endpoint of the certification centre to enroll with.
    #[arg(long)]
    pki_endpoint: Option<String>,
    /// gRPC endpoint of the gateway other systems are called through.
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
    let telemetry = egov_bus::telemetry::init(egov_esobes::config::SERVICE)?;
    let grpc = TcpListener::bind(config.grpc_listen)
        .await
        .context("binding grpc_listen")?;
    let http = TcpListener::bind(config.http_listen)
        .await
        .context("binding http_listen")?;
    egov_esobes::run(config, grpc, http, egov_bus::shutdown::shutdown_signal()).await?;
    telemetry.shutdown().await;
    Ok(())
}
