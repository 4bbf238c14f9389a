//! `egov`: the egov-stack command line. Brings the local stack up as processes (nats-server
//! plus every built service), reports its health, stops it again, and draws an exchange
//! from the gateway's message log.
//!
//! Run `./dev up` (builds every binary, then runs `egov up`); from another terminal,
//! `cargo run -p egov-cli -- status` or `-- down`. See `cli/README.md`.

mod commands;
mod health;
mod process;
mod stack;
mod state;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Brings the egov-stack up, reports its health, and stops it.
#[derive(Debug, Parser)]
#[command(name = "egov", version, about)]
struct Cli {
    /// Where the stack keeps its data, logs and state file.
    #[arg(long, global = true, env = "EGOV_DATA_DIR", default_value = stack::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Starts nats-server and every built service; stops them all on Ctrl-C or SIGTERM.
    Up,
    /// Shows each service's gRPC health; exits non-zero if any is not serving.
    Status,
    /// Stops the stack `egov up` started with this data dir.
    Down,
    /// Prints one exchange, from the gateway's message log, as a Mermaid sequence diagram.
    Diagram {
        /// The exchange's correlation id (the first request's message id).
        correlation_id: String,
        /// The gateway's gRPC endpoint.
        #[arg(long, env = "EGOV_GATEWAY", default_value = stack::GATEWAY_ENDPOINT)]
        gateway: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Up => commands::up::run(&cli.data_dir).await,
        Command::Status => commands::status::run(&cli.data_dir).await,
        Command::Down => commands::down::run(&cli.data_dir).await,
        Command::Diagram {
            correlation_id,
            gateway,
        } => commands::diagram::run(&gateway, &correlation_id).await,
    }
}
