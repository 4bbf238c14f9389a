//! egov-backoffice: the provider back office (көрсетілетін қызметті беруші / услугодатель) as
//! a process, run by `egov up` with the flags of every system (`--grpc-listen`, `--data-dir`,
//! `--pki-endpoint`, …); `--dump-config` prints the merged config; `accounts …` manages the
//! worklist's sign-in accounts and API tokens.

use clap::{Parser, Subcommand};
use egov_backoffice::{BackOffice, Config, web};
use egov_bus::service::ServiceArgs;
use egov_system::runtime;

/// The provider back office: cases of services A–F through clerk, head and executor.
#[derive(Debug, Parser)]
#[command(name = "egov-backoffice", version, about)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// What to do instead of serving.
#[derive(Debug, Subcommand)]
enum Command {
    /// Manages the worklist's accounts and API tokens (passwords are read from stdin).
    #[command(subcommand)]
    Accounts(egov_signin::cli::AccountsCommand),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Args { service, command } = Args::parse();
    let config: Config = runtime::load_config(&service)?;
    match command {
        Some(Command::Accounts(command)) => web::accounts(&config, &command).await?,
        None if service.dump_config => print!("{}", egov_core::config::dump(&config)?),
        None => runtime::serve_process::<BackOffice>(config).await?,
    }
    Ok(())
}
