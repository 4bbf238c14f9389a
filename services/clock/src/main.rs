//! egov-clock: the clock authority as a process.
//! `egov up --clock virtual` runs it as `egov-clock --grpc-listen 127.0.0.1:7200
//! --http-listen 127.0.0.1:7201 --nats-url nats://127.0.0.1:4222`, with the operator token in
//! `EGOV_CLOCK__OPERATOR_TOKEN`; `--dump-config` prints the merged config.

use clap::Parser;
use egov_bus::service::ServiceArgs;
use egov_clock::Config;

/// The clock authority: keeps the stack's virtual time and moves it in deadline order.
#[derive(Debug, Parser)]
#[command(name = "egov-clock", version, about)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse().service;
    let config = Config::load(args.config.as_deref(), std::env::vars(), &args.overrides())?;
    if args.dump_config {
        print!("{}", egov_core::config::dump(&config)?);
        return Ok(());
    }
    let telemetry = egov_bus::telemetry::init(egov_clock::config::SERVICE)?;
    let (grpc, http) = egov_bus::service::bind(config.grpc_listen, config.http_listen).await?;
    egov_clock::run(config, grpc, http, egov_bus::shutdown::shutdown_signal()).await?;
    telemetry.shutdown().await;
    Ok(())
}
