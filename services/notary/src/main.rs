//! egov-notary: the unified notary information system (БНАЖ / ЕНИС) as a process.
//! `egov up` runs it as `egov-notary --grpc-listen 127.0.0.1:7130 --http-listen
//! 127.0.0.1:7131 --data-dir <dir> --pki-endpoint http://127.0.0.1:7110`; `--dump-config`
//! prints the merged config.

use clap::Parser;
use egov_bus::service::ServiceArgs;
use egov_notary::Config;

/// The notary registry: answers look-ups of powers of attorney through the gateway.
#[derive(Debug, Parser)]
#[command(name = "egov-notary", version, about)]
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
    let telemetry = egov_bus::telemetry::init(egov_notary::config::SERVICE)?;
    let (grpc, http) = egov_bus::service::bind(config.grpc_listen, config.http_listen).await?;
    egov_notary::run(config, grpc, http, egov_bus::shutdown::shutdown_signal()).await?;
    telemetry.shutdown().await;
    Ok(())
}
