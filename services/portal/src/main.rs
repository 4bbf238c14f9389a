//! egov-portal: the e-gov portal (ЭҮП) as a process. `egov up` runs it as `egov-portal
//! --grpc-listen 127.0.0.1:7180 --http-listen 127.0.0.1:7181 --data-dir <dir> --pki-endpoint
//! http://127.0.0.1:7110 --gateway-endpoint http://127.0.0.1:7100`; `--dump-config` prints
//! the merged config.

use clap::Parser;
use egov_bus::service::ServiceArgs;

/// The e-gov portal: registration, sign-in, request forms, the personal cabinet.
#[derive(Debug, Parser)]
#[command(name = "egov-portal", version, about)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    egov_system::runtime::main::<egov_portal::Portal>(Args::parse().service).await?;
    Ok(())
}
