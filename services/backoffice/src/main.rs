//! egov-backoffice: the provider back office (көрсетілетін қызметті беруші / услугодатель) as
//! a process. `egov up` runs it as `egov-backoffice --grpc-listen 127.0.0.1:7170 --http-listen
//! 127.0.0.1:7171 --data-dir <dir> --pki-endpoint http://127.0.0.1:7110 --gateway-endpoint
//! http://127.0.0.1:7100`; `--dump-config` prints the merged config; `accounts …` manages the
//! worklist's sign-in accounts and API tokens.

use clap::{Parser, Subcommand};
use egov_backoffice::Config;
use egov_bus::service::ServiceArgs;

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
    let config: Config = egov_system::runtime::load_config(&service)?;
    match command {
        Some(Command::Accounts(command)) => {
            egov_backoffice::web::accounts(&config, &command).await?
        }
        None if service.dump_config => print!("{}", egov_core::config::dump(&config)?),
        None => egov_system::runtime::serve_process::<egov_backoffice::BackOffice>(config).await?,
    }
    Ok(())
}
