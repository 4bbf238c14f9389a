//! egov-queue: the kindergarten queue management IS and electronic register, service D's
//! target system, as a process. `egov up` runs it as `egov-queue --grpc-listen 127.0.0.1:7160
//! --http-listen 127.0.0.1:7161 --data-dir <dir> --pki-endpoint http://127.0.0.1:7110
//! --gateway-endpoint http://127.0.0.1:7100`; `--dump-config` prints the merged config.

use clap::Parser;
use egov_bus::service::ServiceArgs;

/// The kindergarten queue register: places pre-school children in the queue (service D).
#[derive(Debug, Parser)]
#[command(name = "egov-queue", version, about)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    egov_system::runtime::main::<egov_queue::Queue>(Args::parse().service).await?;
    Ok(())
}
