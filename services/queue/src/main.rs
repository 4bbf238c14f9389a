//! egov-queue: the kindergarten queue management IS and electronic register, service D's
//! target system, as a process. `egov up` runs it as `egov-queue --grpc-listen 127.0.0.1:7160
//! --http-listen 127.0.0.1:7161 --data-dir <dir> --pki-endpoint http://127.0.0.1:7110
//! --gateway-endpoint http://127.0.0.1:7100`; `--dump-config` prints the merged config.

use clap::Parser;
use egov_bus::service::ServiceArgs;
use egov_queue::Config;

/// The kindergarten queue register: places pre-school children in the queue (service D).
#[derive(Debug, Parser)]
#[command(name = "egov-queue", version, about)]
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
    let telemetry = egov_bus::telemetry::init(egov_queue::config::SERVICE)?;
    let (grpc, http) = egov_bus::service::bind(config.grpc_listen, config.http_listen).await?;
    egov_queue::run(config, grpc, http, egov_bus::shutdown::shutdown_signal()).await?;
    telemetry.shutdown().await;
    Ok(())
}
