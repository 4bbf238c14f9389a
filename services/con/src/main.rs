//! egov-con: the State Corporation operator workstation (ХҚО / ЦОН) as a process. `egov up`
//! runs it as `egov-con --grpc-listen 127.0.0.1:7190 --http-listen 127.0.0.1:7191 --data-dir
//! <dir> --pki-endpoint http://127.0.0.1:7110 --gateway-endpoint http://127.0.0.1:7100`;
//! `--dump-config` prints the merged config; `accounts …` manages the operators' accounts.

use clap::{Parser, Subcommand};
use egov_bus::service::ServiceArgs;
use egov_con::Config;

/// The State Corporation workstation: electronic queue and operator-signed requests.
#[derive(Debug, Parser)]
#[command(name = "egov-con", version, about)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

/// What to do instead of serving.
#[derive(Debug, Subcommand)]
enum Command {
    /// Manages the operators' accounts (passwords are read from stdin).
    #[command(subcommand)]
    Accounts(egov_signin::cli::AccountsCommand),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Args { service, command } = Args::parse();
    if let Some(Command::Accounts(command)) = command {
        let config: Config = egov_system::runtime::load_config(&service)?;
        return Ok(egov_con::system::accounts(&config, &command).await?);
    }
    egov_system::runtime::main::<egov_con::Con>(service).await?;
    Ok(())
}
