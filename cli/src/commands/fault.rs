//! `egov fault add|list|clear`: sets, shows and clears the faults the gateway injects at run
//! time, through its admin API (`/admin/faults`, an administrator's bearer token).
//!
//! ```text
//! egov fault add --system labor --latency 3s
//! egov fault add --service citizens.person.get --error EDAT001 --message "no such person"
//! egov fault add --system citizens --down
//! egov fault list
//! egov fault clear f-1a2b3c4d      # or: egov fault clear --all
//! ```

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use comfy_table::Table;
use egov_core::StatusCode;
use egov_faults::admin::{AdminError, FaultAdmin};
use egov_faults::{Fault, FaultKind, Latency, Party};

/// What to do with the faults.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Sets a fault on a system, a service id, or both.
    Add(AddArgs),
    /// Lists the faults in force.
    List,
    /// Clears one fault by its id, or every fault with `--all`.
    Clear {
        /// The fault's id, as `egov fault list` shows it.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Clears every fault.
        #[arg(long)]
        all: bool,
    },
}

/// A fault to set: what it matches, what it does, how often.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("kind").required(true).args([
    "latency", "error", "timeout", "down", "drop", "duplicate", "revoke",
])))]
pub struct AddArgs {
    /// Its id (1 to 64 of A-Z a-z 0-9 - _); the gateway makes one when none is given.
    #[arg(long)]
    id: Option<String>,
    /// The system it hits (the route's target; for deliveries, the receiver).
    #[arg(long, required_unless_present = "service")]
    system: Option<String>,
    /// The service id it hits.
    #[arg(long)]
    service: Option<String>,
    /// Adds latency: `3s` fixed, `1s..3s` uniform, `2s~500ms` normal (mean ~ stddev).
    #[arg(long)]
    latency: Option<String>,
    /// Answers with this status code instead of the target (e.g. ETRG002, EDAT001).
    #[arg(long)]
    error: Option<String>,
    /// The message of the `--error` answer.
    #[arg(long, requires = "error")]
    message: Option<String>,
    /// The target never answers within the route's timeout.
    #[arg(long)]
    timeout: bool,
    /// The system is down: its endpoint refuses connections, its inbox takes nothing.
    #[arg(long)]
    down: bool,
    /// Async deliveries to the system are dropped (and offered again later).
    #[arg(long)]
    drop: bool,
    /// Async deliveries to the system arrive twice.
    #[arg(long)]
    duplicate: bool,
    /// Treats this party's certificate as revoked from now on: `sender` or `target`.
    #[arg(long)]
    revoke: Option<String>,
    /// Hits only the next N matching messages.
    #[arg(long)]
    limit: Option<u32>,
    /// Hits each matching message with this chance (above 0, at most 1).
    #[arg(long)]
    probability: Option<f64>,
}

impl AddArgs {
    /// Builds the fault, refusing bad input with the flag that was wrong.
    fn fault(self) -> anyhow::Result<Fault> {
        let kind = if let Some(latency) = &self.latency {
            FaultKind::Latency(Latency::parse(latency).context("--latency")?)
        } else if let Some(code) = &self.error {
            let code: StatusCode = code.parse().context("--error")?;
            FaultKind::Error {
                code,
                message: self.message.clone().unwrap_or_default(),
            }
        } else if self.timeout {
            FaultKind::Timeout
        } else if self.down {
            FaultKind::Down
        } else if self.drop {
            FaultKind::DropDeliveries
        } else if self.duplicate {
            FaultKind::DuplicateDeliveries
        } else if let Some(party) = &self.revoke {
            FaultKind::RevokeCertificate(party.parse::<Party>().context("--revoke")?)
        } else {
            bail!(
                "give what the fault does: --latency, --error, --timeout, --down, --drop, --duplicate or --revoke"
            );
        };
        let fault = Fault {
            id: self.id.unwrap_or_default(),
            system: self.system,
            service: self.service,
            kind,
            limit: self.limit,
            probability: self.probability,
        };
        fault
            .check()
            .map_err(|err| anyhow::anyhow!("--{}", err.to_string().replace('_', "-")))?;
        Ok(fault)
    }
}

/// Runs `egov fault` against the gateway's HTTP address `gateway` as the administrator
/// whose bearer `token` it is.
pub async fn run(gateway: &str, token: &str, action: Action) -> anyhow::Result<ExitCode> {
    let admin = FaultAdmin::new(gateway, token);
    let done = match action {
        Action::Add(args) => {
            let fault = args.fault()?;
            admin.add(&fault).await.map(|fault| {
                println!(
                    "fault {} set: {} on {}",
                    fault.id,
                    fault.kind,
                    fault.target()
                );
            })
        }
        Action::List => admin.list().await.map(|faults| print_faults(&faults)),
        Action::Clear { id: Some(id), .. } => {
            if !egov_faults::is_valid_id(&id) {
                bail!("{id:?} is not a fault id (1 to 64 of A-Z a-z 0-9 - _)");
            }
            match admin.remove(&id).await {
                Ok(true) => {
                    println!("fault {id} cleared");
                    Ok(())
                }
                Ok(false) => Err(AdminError::Refused {
                    status: 404,
                    reason: format!("no fault with id {id:?}"),
                }),
                Err(err) => Err(err),
            }
        }
        Action::Clear { id: None, .. } => admin
            .clear()
            .await
            .map(|cleared| println!("{cleared} fault(s) cleared")),
    };
    match done {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err @ AdminError::Unreachable { .. }) => Err(err.into()),
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn print_faults(faults: &[Fault]) {
    if faults.is_empty() {
        println!("no faults in force");
        return;
    }
    let mut table = Table::new();
    table.set_header(["id", "hits", "does", "limit", "probability"]);
    for fault in faults {
        table.add_row([
            fault.id.clone(),
            fault.target(),
            fault.kind.to_string(),
            fault
                .limit
                .map_or("every message".into(), |n| format!("next {n}")),
            fault.probability.map_or("always".into(), |p| p.to_string()),
        ]);
    }
    println!("{table}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        action: Action,
    }

    fn added(args: &[&str]) -> anyhow::Result<Fault> {
        let cli = Cli::try_parse_from([&["egov-fault", "add"][..], args].concat())?;
        match cli.action {
            Action::Add(args) => args.fault(),
            other => bail!("not an add: {other:?}"),
        }
    }

    #[test]
    fn latency_on_a_system_reads_as_a_fixed_latency_fault() {
        let fault = added(&["--system", "labor", "--latency", "3s"]).expect("valid");
        assert_eq!(fault.system.as_deref(), Some("labor"));
        assert_eq!(fault.kind, FaultKind::Latency(Latency::Fixed { ms: 3000 }));
    }

    #[test]
    fn an_error_on_a_service_carries_its_code_and_message() {
        let fault = added(&[
            "--service",
            "citizens.person.get",
            "--error",
            "EDAT001",
            "--message",
            "no such person",
            "--limit",
            "2",
        ])
        .expect("valid");
        assert_eq!(
            fault.kind,
            FaultKind::Error {
                code: StatusCode::DataNotFound,
                message: "no such person".into()
            }
        );
        assert_eq!(fault.limit, Some(2));
    }

    #[test]
    fn bad_input_names_the_flag() {
        let err = added(&["--system", "labor", "--error", "NOPE"]).expect_err("unknown code");
        assert!(format!("{err:#}").starts_with("--error"), "{err:#}");
        let err = added(&["--system", "labor", "--down", "--probability", "2"])
            .expect_err("probability above 1");
        assert!(format!("{err:#}").starts_with("--probability"), "{err:#}");
        assert!(
            added(&["--down"]).is_err(),
            "a fault needs a system or a service"
        );
        assert!(
            added(&["--system", "labor", "--down", "--timeout"]).is_err(),
            "one kind per fault"
        );
    }
}
