//! egov-esobes: the social-protection IS («Е-собес» АЖ), service C's target system, as a
//! process. `egov up` runs it as `egov-esobes --grpc-listen 127.0.0.1:7150
//! --http-listen 127.0.0.1:7151 --data-dir <dir> --pki-endpoint http://127.0.0.1:7110
//! --gateway-endpoint http://127.0.0.1:7100`; `--dump-config` prints the merged config.

use clap::Parser;
use egov_bus::service::ServiceArgs;
use egov_esobes::Config;

/// E-sobes: registers applications for the home-schooling compensation (service C).
#[derive(Debug, Parser)]
#[command(name = "egov-esobes", version, about)]
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
    let telemetry = egov_bus::telemetry::init(egov_esobes::config::SERVICE)?;
    let (grpc, http) = egov_bus::service::bind(config.grpc_listen, config.http_listen).await?;
    egov_esobes::run(config, grpc, http, egov_bus::shutdown::shutdown_signal()).await?;
    telemetry.shutdown().await;
    Ok(())
}
