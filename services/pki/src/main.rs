//! egov-pki: the national certification centre (ҰКО / НУЦ) as a process (flags as every
//! service's); `accounts add <login>` and `tokens --out <dir>` are the operator's commands.

use clap::Parser;
use egov_bus::service::ServiceArgs;
use egov_pki::Config;
use egov_pki::registrar::Command;

/// The certification centre: issues, revokes and answers the status of X.509 certificates.
#[derive(Debug, Parser)]
#[command(name = "egov-pki", version, about)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Args {
        service: args,
        command,
    } = Args::parse();
    let config = Config::load(args.config.as_deref(), std::env::vars(), &args.overrides())?;
    if let Some(command) = command {
        let (mut input, mut out) = (std::io::stdin().lock(), std::io::stdout());
        return Ok(command.run(&config, &mut input, &mut out).await?);
    }
    if args.dump_config {
        print!("{}", egov_core::config::dump(&config)?);
        return Ok(());
    }
    let telemetry = egov_bus::telemetry::init(egov_pki::config::SERVICE)?;
    let (grpc, http) = egov_bus::service::bind(config.grpc_listen, config.http_listen).await?;
    egov_pki::run(config, grpc, http, egov_bus::shutdown::shutdown_signal()).await?;
    telemetry.shutdown().await;
    Ok(())
}
