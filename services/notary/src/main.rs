//! egov-notary: the unified notary information system (БНАЖ / ЕНИС) as a process.
//! `egov up` runs it as `egov-notary --grpc-listen 127.0.0.1:7130 --http-listen
//! 127.0.0.1:7131 --data-dir <dir> --pki-endpoint http://127.0.0.1:7110`; `--dump-config`
//! prints the merged config.

use clap::Parser;
use egov_bus::service::ServiceArgs;

/// The notary registry: answers look-ups of powers of attorney through the gateway.
#[derive(Debug, Parser)]
#[command(name = "egov-notary", version, about)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    egov_system::runtime::main::<egov_notary::Notary>(Args::parse().service).await?;
    Ok(())
}
