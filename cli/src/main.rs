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
        /// Makes nats-server TLS-only: a new local CA and server certificate in the data dir,
        /// and each service's NATS URL verifies the server against that CA.
        #[arg(long, env = "EGOV_NATS_TLS")]
        nats_tls: bool,
        /// How many days a newly made operator token is admitted (wall clock); a kept token
        /// is replaced once it has expired.
        #[arg(long, env = "EGOV_OPERATOR_TOKEN_DAYS", default_value_t = 7,
              value_parser = clap::value_parser!(u16).range(1..))]
        operator_token_days: u16,
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
    /// Exchanges the gateway recorded (routes with `record = true`).
    Record {
        #[command(subcommand)]
        action: RecordAction,
    },
    /// Replays scenario files against a running stack.
    Scenario {
        // Boxed: its flags would make every command as large as it.
        #[command(subcommand)]
        action: Box<ScenarioAction>,
    },
    /// Sets, lists and clears the faults the gateway injects (latency, errors, systems down, …).
    Fault {
        /// The gateway's HTTP address (its admin API).
        #[arg(long, env = "EGOV_GATEWAY_HTTP", default_value = stack::GATEWAY_HTTP)]
        gateway_http: String,
        /// The administrator's bearer token; by default the one `egov up` wrote in the data dir.
        #[arg(long, env = "EGOV_OPERATOR_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[command(subcommand)]
        action: commands::fault::Action,
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
        /// The registrar account the kit's keys are certified under.
        #[arg(long, env = "EGOV_REGISTRAR_LOGIN", default_value = commands::up::REGISTRAR_LOGIN)]
        registrar_login: String,
        /// Its password; by default the one `egov up` kept in the data dir.
        #[arg(long, env = "EGOV_REGISTRAR_PASSWORD", hide_env_values = true)]
        registrar_password: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum RecordAction {
    /// Writes a recorded exchange as a scenario file.
    Export {
        /// The exchange's correlation id (the first request's message id).
        correlation_id: String,
        /// The file to write; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The gateway's gRPC endpoint.
        #[arg(long, env = "EGOV_GATEWAY", default_value = stack::GATEWAY_ENDPOINT)]
        gateway: String,
        /// The operator's bearer token; by default the one `egov up` wrote in the data dir.
        #[arg(long, env = "EGOV_OPERATOR_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ScenarioAction {
    /// Replays each file's steps through the gateway and compares the answers field by field.
    Run {
        /// The scenario files; a directory runs every `.toml` file under it, in path order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The host of a running stack whose services listen on the standard ports (README's
        /// port table), e.g. 10.0.0.5: every endpoint below not given is taken there
        /// (without it, the local stack's, 127.0.0.1).
        #[arg(long, env = "EGOV_STACK")]
        stack: Option<String>,
        /// The gateway's gRPC endpoint [default: http://127.0.0.1:7100].
        #[arg(long, env = "EGOV_GATEWAY")]
        gateway: Option<String>,
        /// The certification centre's gRPC endpoint, which certifies the runner's keys
        /// [default: http://127.0.0.1:7110].
        #[arg(long, env = "EGOV_PKI")]
        pki: Option<String>,
        /// The registrar account the runner's keys are certified under.
        #[arg(long, env = "EGOV_REGISTRAR_LOGIN", default_value = commands::up::REGISTRAR_LOGIN)]
        registrar_login: String,
        /// Its password; by default the one `egov up` kept in the data dir.
        #[arg(long, env = "EGOV_REGISTRAR_PASSWORD", hide_env_values = true)]
        registrar_password: Option<String>,
        /// Writes a JUnit XML report here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Runs only the scenarios whose name or file path contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// The gateway's HTTP address, whose admin API sets the scenarios' faults
        /// [default: 127.0.0.1:7101].
        #[arg(long, env = "EGOV_GATEWAY_HTTP")]
        gateway_http: Option<String>,
        /// The administrator's bearer token for faults; by default the one `egov up` wrote.
        #[arg(long, env = "EGOV_OPERATOR_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The clock authority's gRPC endpoint, for clock steps [default: http://127.0.0.1:7200].
        #[arg(long, env = "EGOV_CLOCK_ENDPOINT")]
        clock: Option<String>,
        /// The clock's operator token; by default the one `egov up --clock virtual` wrote.
        #[arg(long, env = "EGOV_CLOCK_TOKEN", hide_env_values = true)]
        clock_token: Option<String>,
        /// The portal's HTTP address (e.g. http://127.0.0.1:7181), for cabinet steps; taken
        /// from `--stack` when given there.
        #[arg(long, env = "EGOV_PORTAL")]
        portal: Option<String>,
        /// The password cabinet steps sign citizens in with (registering them with it first
        /// when the portal does not know them).
        #[arg(long, env = "EGOV_PORTAL_PASSWORD", hide_env_values = true,
              default_value = egov_scenario::portal::DEFAULT_CITIZEN_PASSWORD)]
        portal_password: String,
        /// The State Corporation desk's HTTP address (egov-con's pages and JSON API), where
        /// `[step.desk]` steps take a ticket and file as the operator `--desk-operator`.
        /// [default: http://127.0.0.1:7191]
        #[arg(long, env = "EGOV_DESK")]
        desk: Option<String>,
        /// The login of the ЦОН operator desk steps file as (an account made with `egov-con
        /// accounts add <login> --role operator`); without it, a scenario with desk steps is
        /// refused. The password is read from `--desk-password-file`, else from the
        /// environment variable EGOV_DESK_PASSWORD; never from the command line.
        #[arg(long, env = "EGOV_DESK_OPERATOR")]
        desk_operator: Option<String>,
        /// A file holding the desk operator's password (its first line).
        #[arg(long, env = "EGOV_DESK_PASSWORD_FILE")]
        desk_password_file: Option<PathBuf>,
        /// The back office's gRPC URL (e.g. http://127.0.0.1:7170), the provider's office
        /// where `[step.office]` steps hand paper applications in and read their cases; taken
        /// from `--stack` when given there; without either, a scenario with office steps is
        /// refused.
        #[arg(long, env = "EGOV_OFFICE")]
        office: Option<String>,
        /// An operator's bearer token the back office admits, for office steps; by default the
        /// operator token `egov up` wrote.
        #[arg(long, env = "EGOV_OFFICE_TOKEN", hide_env_values = true)]
        office_token: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Up {
            clock,
            nats_tls,
            operator_token_days,
        } => {
            let options = commands::up::UpOptions {
                time: clock,
                nats_tls,
                operator_token_lifetime: time::Duration::days(i64::from(operator_token_days)),
            };
            commands::up::run(&cli.data_dir, options).await
        }
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
        Command::Record {
            action:
                RecordAction::Export {
                    correlation_id,
                    out,
                    gateway,
                    token,
                },
        } => {
            let token = commands::up::operator_token(&cli.data_dir, token)?;
            commands::record::export(&gateway, &correlation_id, &token, out.as_deref()).await
        }
        Command::Scenario { action } => {
            let ScenarioAction::Run {
                files,
                stack,
                gateway,
                pki,
                registrar_login,
                registrar_password,
                junit,
                filter,
                gateway_http,
                token,
                clock,
                clock_token,
                portal,
                portal_password,
                desk,
                desk_operator,
                desk_password_file,
                office,
                office_token,
            } = *action;
            let registrar_password =
                commands::up::registrar_password(&cli.data_dir, registrar_password)?;
            // Tokens are only needed by scenarios with faults or clock steps; without them
            // such a scenario fails naming what is missing.
            let admin_token = commands::up::operator_token(&cli.data_dir, token).ok();
            let clock_token =
                clock_token.or_else(|| commands::clock::stored_token(&cli.data_dir).ok());
            let desk_operator = desk_operator
                .map(|login| {
                    commands::scenario::desk_password(desk_password_file.as_deref())
                        .map(|password| commands::scenario::DeskOperator { login, password })
                })
                .transpose()?;
            let stack = stack
                .as_deref()
                .map(commands::scenario::StackHost::parse)
                .transpose()?;
            // The back office admits the operator token `egov up` wrote, as the gateway does.
            let office_token = office_token.or_else(|| admin_token.clone());
            let office_given = office.is_some();
            let endpoints = commands::scenario::GivenEndpoints {
                gateway,
                gateway_http,
                pki,
                clock,
                desk,
                portal,
                office,
            }
            .resolve(stack.as_ref());
            commands::scenario::run(commands::scenario::Options {
                files,
                gateway: endpoints.gateway,
                pki: endpoints.pki,
                registrar_login,
                registrar_password,
                junit,
                filter,
                gateway_http: endpoints.gateway_http,
                admin_token,
                clock: endpoints.clock,
                clock_token,
                portal: endpoints.portal,
                portal_password,
                desk: endpoints.desk,
                desk_operator,
                // The stack's office without a token would refuse every run: only where one
                // is known, or the office was named.
                office: endpoints
                    .office
                    .filter(|_| office_given || office_token.is_some()),
                office_token,
            })
            .await
        }
        Command::Fault {
            gateway_http,
            token,
            action,
        } => {
            let token = commands::up::operator_token(&cli.data_dir, token)?;
            commands::fault::run(&gateway_http, &token, action).await
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
                registrar_login,
                registrar_password,
            };
            commands::conformance::run(&cli.data_dir, options).await
        }
    }
}
