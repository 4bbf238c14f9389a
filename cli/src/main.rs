//! `egov`: the egov-stack command line. Brings the local stack up as processes (nats-server
//! plus every built service), reports its health, stops it again, and draws an exchange
//! from the gateway's message log, and shows or moves the stack's virtual clock.
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
    Up {
        /// `virtual` starts the clock authority first: one virtual clock for the whole stack.
        #[arg(long, env = "EGOV_CLOCK", value_enum, default_value_t)]
        clock: commands::up::StackTime,
    },
    /// Shows each service's gRPC health; exits non-zero if any is not serving.
    Status,
    /// Stops the stack `egov up` started with this data dir.
    Down,
    /// Shows or moves the stack's virtual clock (`egov up --clock virtual`).
    Clock {
        /// The clock authority's gRPC endpoint.
        #[arg(long, env = "EGOV_CLOCK_ENDPOINT", default_value = stack::CLOCK_ENDPOINT)]
        endpoint: String,
        /// The operator's bearer token; by default the one `egov up` wrote in the data dir.
        #[arg(long, env = "EGOV_CLOCK_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[command(subcommand)]
        action: commands::clock::Action,
    },
    /// Prints one exchange, from the gateway's message log, as a Mermaid sequence diagram.
    Diagram {
        /// The exchange's correlation id (the first request's message id).
        correlation_id: String,
        /// The gateway's gRPC endpoint.
        #[arg(long, env = "EGOV_GATEWAY", default_value = stack::GATEWAY_ENDPOINT)]
        gateway: String,
        /// The operator's bearer token; by default the one `egov up` wrote in the data dir.
        #[arg(long, env = "EGOV_OPERATOR_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Runs one system's contract from the conformance kit against an endpoint; exits
    /// non-zero below 100 %.
    Conformance {
        /// The system whose contract to run: citizens, notary, labor, esobes, backoffice, or shep (the gateway).
        system: String,
        /// The endpoint (host:port) of the system's MessageReceiver.
        #[arg(long)]
        endpoint: String,
        /// Also writes the checks as JUnit XML to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// The certification centre that certifies the kit's seal and whose root it trusts.
        #[arg(long, env = "EGOV_PKI", default_value = stack::PKI_ENDPOINT)]
        pki: String,
        /// A registrar's login; by default the kit makes its own account in the local stack.
        #[arg(long, env = "EGOV_REGISTRAR_LOGIN", requires = "registrar_password")]
        registrar_login: Option<String>,
        /// The registrar's password.
        #[arg(
            long,
            env = "EGOV_REGISTRAR_PASSWORD",
            hide_env_values = true,
            requires = "registrar_login"
        )]
        registrar_password: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Up { clock } => commands::up::run(&cli.data_dir, clock).await,
        Command::Status => commands::status::run(&cli.data_dir).await,
        Command::Down => commands::down::run(&cli.data_dir).await,
        Command::Clock {
            endpoint,
            token,
            action,
        } => commands::clock::run(&cli.data_dir, &endpoint, token, action).await,
        Command::Diagram {
            correlation_id,
            gateway,
            token,
        } => {
            let token = commands::up::operator_token(&cli.data_dir, token)?;
            commands::diagram::run(&gateway, &correlation_id, &token).await
        }
        Command::Conformance {
            system,
            endpoint,
            junit,
            pki,
            registrar_login,
            registrar_password,
        } => {
            let options = commands::conformance::Options {
                system,
                endpoint,
                junit,
                pki,
                registrar: registrar_login.zip(registrar_password),
            };
            commands::conformance::run(&cli.data_dir, options).await
        }
    }
}
