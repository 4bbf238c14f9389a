//! `egov record export <correlation-id> [--out file.toml]`: reads an exchange the gateway
//! recorded (a route with `record = true`) from its log and writes it as a scenario file that
//! `egov scenario run` replays.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use egov_scenario::Contracts;

/// Exports `correlation_id` from the gateway at `gateway`, asked as the operator whose bearer
/// `token` it is, to `out` (standard output when absent).
pub async fn export(
    gateway: &str,
    correlation_id: &str,
    token: &str,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let contracts = Contracts::egov()?;
    let scenario = match egov_scenario::export(gateway, correlation_id, token, &contracts).await {
        Ok(scenario) => scenario,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let text = format!(
        "# Replay with `egov scenario run <this file>`. Matchers (\"<uuid>\", \"<timestamp>\",\n\
         # \"<pattern:…>\", \"<any>\") stand for values that change on every run.\n{}",
        scenario
            .to_toml()
            .context("cannot write the scenario as TOML")?
    );
    match out {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote {} ({} step(s))",
                path.display(),
                scenario.steps.len()
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
