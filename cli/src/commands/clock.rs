//! `egov clock show|advance <step>|set <rfc3339>`: reads or moves the stack's virtual clock
//! through the clock authority; moving it needs the operator's bearer token.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use egov_bus::clock::{format_instant, parse_instant};
use egov_bus::clock_authority::ClockAuthority;
use egov_core::clock::Step;
use egov_core::envelope::from_timestamp;
use egov_proto::v1::ClockState;

use crate::stack;

/// What to do with the clock.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Prints the stack's time and the processes following it.
    Show,
    /// Moves the stack's time forward: `3d`, `28d`, `2h`, `6wd` (working days).
    Advance {
        /// A number and a unit: s, m, h, d, w, or wd for working days on Kazakhstan's calendar.
        step: String,
    },
    /// Moves the stack's time forward to an RFC 3339 instant (never backwards).
    Set {
        /// The instant, e.g. `2027-03-05T09:00:00+05:00`.
        to: String,
    },
}

/// Runs `egov clock` against the authority at `endpoint`.
pub async fn run(
    data_dir: &Path,
    endpoint: &str,
    token: Option<String>,
    action: Action,
) -> anyhow::Result<ExitCode> {
    // Bad input is refused before any connection, naming what was wrong.
    enum Move {
        Show,
        Advance(Step),
        Set(time::OffsetDateTime),
    }
    let request = match &action {
        Action::Show => Move::Show,
        Action::Advance { step } => Move::Advance(step.parse::<Step>()?),
        Action::Set { to } => Move::Set(
            parse_instant(to).with_context(|| format!("`{to}` is not an RFC 3339 instant"))?,
        ),
    };
    let token = match (&request, token) {
        (Move::Show, _) => None,
        (_, Some(token)) => Some(token),
        (_, None) => Some(stored_token(data_dir)?),
    };
    let authority = ClockAuthority::connect(endpoint, token).await?;
    let answer = match request {
        Move::Show => authority.show().await,
        Move::Advance(step) => authority.advance(step).await,
        Move::Set(to) => authority.set(to).await,
    };
    match answer {
        Ok(state) => {
            print_state(&state);
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Reads the operator token `egov up` wrote into the clock's config.
pub fn stored_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir
        .join(stack::CLOCK.name)
        .join(stack::CLOCK_CONFIG_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "no operator token: pass --token (or EGOV_CLOCK_TOKEN), or run `egov up --clock virtual` to write {}",
            path.display()
        )
    })?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("{} is not TOML", path.display()))?;
    match table.get("operator_token").and_then(toml::Value::as_str) {
        Some(token) => Ok(token.to_owned()),
        None => bail!("{} has no `operator_token`", path.display()),
    }
}

/// Prints the clock's state: its time (UTC and Astana), the move, and the followers.
fn print_state(state: &ClockState) {
    let show = |ts: Option<&prost_types::Timestamp>| {
        ts.and_then(from_timestamp)
            .map(|t| {
                let astana = t.to_offset(egov_core::calendar::KAZAKHSTAN_OFFSET);
                format!("{} (Astana {})", format_instant(t), astana.date())
            })
            .unwrap_or_else(|| "-".to_owned())
    };
    println!("now: {}", show(state.now.as_ref()));
    if state.stops > 0 {
        println!(
            "moved from {} in {} stop(s)",
            show(state.from.as_ref()),
            state.stops
        );
    }
    if state.followers.is_empty() {
        println!("no service follows the stack clock");
    }
    for follower in &state.followers {
        println!(
            "  {}: at {}, next deadline {}",
            follower.key,
            show(follower.seen.as_ref()),
            show(follower.next_deadline.as_ref())
        );
    }
}
