//! `egov-gateway`: the national (ШЭП) or regional (РШЭП) e-government gateway.
//!
//! Run: `egov-gateway --registry deploy/local/registry.toml`; `--dump-config`
//! prints the effective configuration; `accounts …` manages the operator console's accounts.

use clap::{Parser, Subcommand};
use egov_bus::service::ServiceArgs;
use egov_gateway::{Config, Listeners};

// why: an exchange allocates and frees many short-lived buffers on every
// worker; glibc malloc spent about a fifth of the gateway's CPU on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Command-line flags; each overrides the config file and `EGOV_GATEWAY__*`.
#[derive(Debug, Parser)]
#[command(name = "egov-gateway", version, about)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
    /// The registry file.
    #[arg(long)]
    registry: Option<String>,
    /// `national` or `regional`.
    #[arg(long)]
    role: Option<String>,
    /// This gateway's system id.
    #[arg(long)]
    system_id: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

/// What to do instead of serving.
#[derive(Debug, Subcommand)]
enum Command {
    /// Manages the operator console's accounts (passwords are read from stdin).
    #[command(subcommand)]
    Accounts(egov_signin::cli::AccountsCommand),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut overrides = args.service.overrides();
    overrides.extend(
        [
            ("registry", args.registry),
            ("role", args.role),
            ("system_id", args.system_id),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key.to_owned(), value?))),
    );
    let config: Config = egov_core::config::load(
        "gateway",
        args.service.config.as_deref(),
        std::env::vars(),
        &overrides,
    )?;
    if let Some(Command::Accounts(command)) = &args.command {
        return Ok(egov_gateway::console::signin::accounts(&config, command).await?);
    }
    if args.service.dump_config {
        print!("{}", egov_core::config::dump(&config)?);
        return Ok(());
    }
    let telemetry = egov_bus::telemetry::init("egov-gateway")?;
    let (grpc, http) = egov_bus::service::bind(config.grpc_listen, config.http_listen).await?;
    egov_gateway::run(
        config,
        Listeners { grpc, http },
        egov_bus::shutdown::shutdown_signal(),
    )
    .await?;
    telemetry.shutdown().await;
    Ok(())
}
