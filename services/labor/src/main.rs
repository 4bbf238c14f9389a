//! egov-labor: the Labour Market automated IS («Еңбек нарығы» ААЖ), service B's target
//! system, as a process. `egov up` runs it as `egov-labor --grpc-listen 127.0.0.1:7140
//! --http-listen 127.0.0.1:7141 --data-dir <dir> --pki-endpoint http://127.0.0.1:7110
//! --gateway-endpoint http://127.0.0.1:7100`; `--dump-config` prints the merged config.

use clap::Parser;
use egov_bus::service::ServiceArgs;

/// The Labour Market AIS: registers applications for the unemployed certificate (service B).
#[derive(Debug, Parser)]
#[command(name = "egov-labor", version, about)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    egov_system::runtime::main::<egov_labor::Labor>(Args::parse().service).await?;
    Ok(())
}
