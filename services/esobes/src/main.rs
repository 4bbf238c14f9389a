//! egov-esobes: the social-protection IS («Е-собес» АЖ), service C's target system, as a
//! process. `egov up` runs it as `egov-esobes --grpc-listen 127.0.0.1:7150
//! --http-listen 127.0.0.1:7151 --data-dir <dir> --pki-endpoint http://127.0.0.1:7110
//! --gateway-endpoint http://127.0.0.1:7100`; `--dump-config` prints the merged config.

use clap::Parser;
use egov_bus::service::ServiceArgs;

/// E-sobes: registers applications for the home-schooling compensation (service C).
#[derive(Debug, Parser)]
#[command(name = "egov-esobes", version, about)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    egov_system::runtime::main::<egov_esobes::Esobes>(Args::parse().service).await?;
    Ok(())
}
