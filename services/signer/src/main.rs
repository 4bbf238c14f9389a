//! egov-signer: the citizen's external signer (like NCALayer) as a process. `egov up` runs it
//! as `egov-signer --grpc-listen 127.0.0.1:7210 --http-listen 127.0.0.1:7211 --data-dir <dir>
//! --pki-endpoint http://127.0.0.1:7110`; `--dump-config` prints the merged config.

use clap::Parser;
use egov_bus::service::ServiceArgs;

/// The external signer: keeps citizens' keys and signs the requests the portal prepared.
#[derive(Debug, Parser)]
#[command(name = "egov-signer", version, about)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse().service;
    let config = egov_signer::Config::from_args(&args)?;
    if args.dump_config {
        print!("{}", egov_core::config::dump(&config)?);
        return Ok(());
    }
    let telemetry = egov_bus::telemetry::init(egov_signer::config::SERVICE)?;
    let (grpc, http) = egov_bus::service::bind(config.grpc_listen, config.http_listen).await?;
    let centre = egov_signer::PkiCentre::for_config(&config)?;
    egov_signer::serve(
        config,
        std::sync::Arc::new(centre),
        egov_bus::service::Listeners { grpc, http },
        egov_bus::shutdown::shutdown_signal(),
    )
    .await?;
    telemetry.shutdown().await;
    Ok(())
}
