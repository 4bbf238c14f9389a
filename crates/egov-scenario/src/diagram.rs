//! A scenario's exchanges as one Mermaid sequence diagram, drawn from the gateway's message
//! log, and its comparison with the golden diagram a person holds against the seed's: the
//! flow matrix and `egov scenario run` draw and compare them alike.
//!
//! The rows a scenario added are put in the order calls nest (see `in_call_order`), drawn
//! by the gateway's own Mermaid drawing, and what changes from run to run (durations, ids,
//! numbers, dates) replaced by placeholders ([`normalise`]). A mismatch is shown side by side
//! ([`side_by_side`]).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use egov_core::systems;
use egov_gateway::message_log::LogRecord;
use egov_gateway::message_log::mermaid::sequence_diagram;
use egov_system::cabinet::CABINET_NOTIFY_SERVICE_ID;

use crate::run::ScenarioReport;

/// A log row's key: its message id and its direction.
pub type RowKey = (String, String);

/// Why a scenario's diagram is not its golden one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoldenError {
    /// There is no golden diagram beside the scenario.
    #[error(
        "no golden diagram {path} ({reason}); write it (the flow matrix: EGOV_UPDATE_GOLDEN=1) \
         and read it against the seed's diagram. This run drew:\n{drawn}"
    )]
    Missing {
        /// The golden's path.
        path: String,
        /// Why it does not read.
        reason: String,
        /// The diagram this run drew.
        drawn: String,
    },
    /// The exchanges differ from the golden diagram.
    #[error("the exchanges differ from the golden diagram {path}:\n{side_by_side}")]
    Differs {
        /// The golden's path.
        path: String,
        /// Expected and actual, side by side.
        side_by_side: String,
    },
}

/// Returns the golden diagram's path of a scenario file: beside it, `.mmd`.
pub fn golden_path(scenario: &Path) -> std::path::PathBuf {
    scenario.with_extension("mmd")
}

/// Compares `drawn` with the golden diagram beside `scenario`.
pub fn check_golden(scenario: &Path, drawn: &str) -> Result<(), GoldenError> {
    let golden = golden_path(scenario);
    match std::fs::read_to_string(&golden) {
        Ok(want) if want == drawn => Ok(()),
        Ok(want) => Err(GoldenError::Differs {
            path: golden.display().to_string(),
            side_by_side: side_by_side(&want, drawn),
        }),
        Err(err) => Err(GoldenError::Missing {
            path: golden.display().to_string(),
            reason: err.to_string(),
            drawn: drawn.to_owned(),
        }),
    }
}

/// How long the log must stay unchanged before a scenario's rows are read: the back office's
/// outbox sends the cabinet's statuses on its own, just after the call that caused them
/// answered, so a scenario's last rows may still be on their way when its last step returns.
pub const SETTLE: Duration = Duration::from_millis(100);

/// The most times [`settled`] reads the log before it takes what it has.
const SETTLE_ROUNDS: usize = 50;

/// Reads the log with `read` until its newest row stays the same for [`SETTLE`], and returns
/// that read (after [`SETTLE`] × 50 it returns the last one).
pub async fn settled<E>(
    mut read: impl AsyncFnMut() -> Result<Vec<LogRecord>, E>,
) -> Result<Vec<LogRecord>, E> {
    let newest = |rows: &[LogRecord]| (rows.len(), rows.last().map(row_key));
    let mut rows = read().await?;
    for _ in 0..SETTLE_ROUNDS {
        tokio::time::sleep(SETTLE).await;
        let again = read().await?;
        if newest(&again) == newest(&rows) {
            return Ok(again);
        }
        rows = again;
    }
    Ok(rows)
}

/// One line of two texts aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aligned<'a> {
    /// In both.
    Same(&'a str),
    /// Only in the expected text.
    Expected(&'a str),
    /// Only in the actual text.
    Actual(&'a str),
}

/// Aligns the lines of `want` and `got` by their longest common subsequence: the diagrams
/// are a few dozen lines.
fn align<'a>(want: &'a str, got: &'a str) -> Vec<Aligned<'a>> {
    let (a, b): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let mut common = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            common[i][j] = if a[i] == b[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(Aligned::Same(a[i]));
            (i, j) = (i + 1, j + 1);
        } else if j < b.len() && (i == a.len() || common[i][j + 1] >= common[i + 1][j]) {
            out.push(Aligned::Actual(b[j]));
            j += 1;
        } else {
            out.push(Aligned::Expected(a[i]));
            i += 1;
        }
    }
    out
}

/// The widest the expected column grows; longer lines are cut with `…`.
const COLUMN: usize = 64;

/// Returns `want` (expected) and `got` (actual) side by side, line against line: a line only
/// one side has stands opposite an empty cell and is marked `<` (expected only) or `>`
/// (actual only).
pub fn side_by_side(want: &str, got: &str) -> String {
    let aligned = align(want, got);
    let width = aligned
        .iter()
        .map(|line| match line {
            Aligned::Same(text) | Aligned::Expected(text) => text.chars().count(),
            Aligned::Actual(_) => 0,
        })
        .max()
        .unwrap_or(0)
        .clamp("expected (golden)".len(), COLUMN);
    let cell = |text: &str| {
        let count = text.chars().count();
        if count <= width {
            format!("{text}{}", " ".repeat(width - count))
        } else {
            let cut: String = text.chars().take(width - 1).collect();
            format!("{cut}…")
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "  {} | actual (this run)", cell("expected (golden)"));
    let _ = writeln!(out, "  {}-+-{}", "-".repeat(width), "-".repeat(17));
    for line in aligned {
        let _ = match line {
            Aligned::Same(text) => writeln!(out, "  {} | {text}", cell(text)),
            Aligned::Expected(text) => writeln!(out, "< {} |", cell(text)),
            Aligned::Actual(text) => writeln!(out, "> {} | {text}", cell("")),
        };
    }
    out
}

/// Replaces what changes from run to run in a diagram by placeholders: hop durations,
/// registration numbers, dates and times, UUIDs.
pub fn normalise(diagram: &str) -> String {
    let rules = [
        (r"\d+\.\d ms", "«duration»"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "«uuid»",
        ),
        (r"\b[A-Z]{2,4}-\d{4}-\d{6}\b", "«registration number»"),
        (
            r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?",
            "«date»",
        ),
    ];
    rules
        .iter()
        .fold(diagram.to_owned(), |text, (pattern, placeholder)| {
            regex::Regex::new(pattern)
                .expect("placeholder pattern")
                .replace_all(&text, *placeholder)
                .into_owned()
        })
}

/// Returns the diagram of the rows a scenario added to the log, leaving out the requests of
/// waiting steps that were asked again (their number depends on timing).
pub fn scenario_diagram(
    before: &HashSet<RowKey>,
    after: &[LogRecord],
    report: &ScenarioReport,
) -> String {
    let retried: HashSet<&str> = report
        .steps
        .iter()
        .flat_map(|step| step.retried.iter().map(String::as_str))
        .collect();
    let rows: Vec<LogRecord> = after
        .iter()
        .filter(|row| !before.contains(&row_key(row)))
        .filter(|row| !retried.contains(row.correlation_id.as_str()))
        .cloned()
        .collect();
    let sent: HashSet<&str> = report
        .steps
        .iter()
        .map(|step| step.correlation_id.as_str())
        .collect();
    normalise(&sequence_diagram(&in_call_order(rows, &sent)))
}

/// One exchange (a correlation id) of the log: its rows in log order and where they stand.
struct Exchange {
    rows: Vec<LogRecord>,
    first: usize,
    last: usize,
}

impl Exchange {
    /// Whether it is a status or result the back office put in a citizen's cabinet: a message
    /// its outbox sends on its own, inside no call.
    fn is_cabinet_delivery(&self) -> bool {
        self.rows
            .first()
            .is_some_and(|row| row.service_id == CABINET_NOTIFY_SERVICE_ID)
    }

    /// The system that made the request, and the one it was for.
    fn parties(&self) -> (&str, &str) {
        self.rows
            .first()
            .map_or(("", ""), |row| (row.sender.as_str(), row.receiver.as_str()))
    }
}

/// Returns the rows as calls nest: each exchange's request hops, then the exchanges its
/// receiver made while answering it, then its answer hops; exchanges that nest in none by
/// the stack time they began, at one instant those a system began (a decision delivered when
/// the clock moved) before those the scenario `sent`, and the cabinet's statuses and results
/// last. The back office's outbox sends those on its own, one after another, as soon as a
/// case moves: the "registered" status may leave before the call that opened the case has
/// answered, so it nests in no call. The log's own order is the order rows were written (a
/// forwarded request when its answer came back), and two exchanges in flight at once
/// interleave by chance; this order does not.
fn in_call_order(rows: Vec<LogRecord>, sent: &HashSet<&str>) -> Vec<LogRecord> {
    let mut exchanges: Vec<Exchange> = Vec::new();
    for (index, row) in rows.into_iter().enumerate() {
        match exchanges
            .iter_mut()
            .find(|exchange| exchange.rows[0].correlation_id == row.correlation_id)
        {
            Some(exchange) => {
                exchange.last = index;
                exchange.rows.push(row);
            }
            None => exchanges.push(Exchange {
                rows: vec![row],
                first: index,
                last: index,
            }),
        }
    }
    // The exchange each one nests in: the latest begun before it and still open, whose
    // receiver (or the system the regional gateway relayed it to) made it.
    let parents: Vec<Option<usize>> = (0..exchanges.len())
        .map(|child| {
            if exchanges[child].is_cabinet_delivery() {
                return None;
            }
            let (sender, _) = exchanges[child].parties();
            (0..child).rev().find(|&parent| {
                let outer = &exchanges[parent];
                works_for(sender, outer.parties().1)
                    && outer.first < exchanges[child].first
                    && exchanges[child].first < outer.last
            })
        })
        .collect();
    let mut roots: Vec<usize> = (0..exchanges.len())
        .filter(|&index| parents[index].is_none())
        .collect();
    roots.sort_by_key(|&index| {
        let first = &exchanges[index].rows[0];
        let rank = match (
            exchanges[index].is_cabinet_delivery(),
            sent.contains(first.correlation_id.as_str()),
        ) {
            (true, _) => 2,
            (false, true) => 1,
            (false, false) => 0,
        };
        (first.received_at, rank, index)
    });
    let mut ordered = Vec::new();
    for root in roots {
        emit(root, &exchanges, &parents, &mut ordered);
    }
    ordered
}

/// The systems the regional gateway (РШЭП) relays to in the stack's routes
/// (`deploy/local/registry-regional.toml`): D's queue register, and A's and F's provider
/// workstation (the back office).
pub const BEHIND_THE_REGIONAL_GATEWAY: &[&str] = &[systems::QUEUE.id, systems::BACKOFFICE.id];

/// Returns whether `sender` works on requests addressed to `receiver`: it is the receiver, or
/// the regional gateway relays them to it. The national log names the regional gateway as a
/// request's receiver, not the system behind it (seed `002_…` item 7).
fn works_for(sender: &str, receiver: &str) -> bool {
    sender == receiver
        || (receiver == systems::REGIONAL_GATEWAY.id
            && BEHIND_THE_REGIONAL_GATEWAY.contains(&sender))
}

fn emit(index: usize, exchanges: &[Exchange], parents: &[Option<usize>], out: &mut Vec<LogRecord>) {
    let is_request = |row: &&LogRecord| !row.message_type.eq_ignore_ascii_case("RESPONSE");
    let rows = &exchanges[index].rows;
    out.extend(rows.iter().filter(is_request).cloned());
    for child in (0..exchanges.len()).filter(|&child| parents[child] == Some(index)) {
        emit(child, exchanges, parents, out);
    }
    out.extend(rows.iter().filter(|row| !is_request(row)).cloned());
}

/// Returns the key of a log row: its message id and direction (a message crosses the gateway
/// twice, in and out).
pub fn row_key(row: &LogRecord) -> RowKey {
    (row.message_id.clone(), row.direction.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_puts_a_missing_hop_opposite_an_empty_cell() {
        let want = "sequenceDiagram\n    a->>b: x (REQUEST)\n    b-->>a: x (RESPONSE)\n";
        let got = "sequenceDiagram\n    a->>b: x (REQUEST)\n    b-->>a: y (RESPONSE)\n";
        let shown = side_by_side(want, got);
        let lines: Vec<&str> = shown.lines().collect();
        assert!(lines[0].contains("expected (golden)"), "{shown}");
        assert!(lines[0].ends_with("actual (this run)"), "{shown}");
        assert!(lines[2].starts_with("  sequenceDiagram"), "{shown}");
        assert!(lines[2].ends_with("| sequenceDiagram"), "{shown}");
        let expected_only = lines
            .iter()
            .find(|line| line.starts_with("< "))
            .expect("a line only the golden has");
        assert!(expected_only.contains("x (RESPONSE)") && expected_only.ends_with('|'));
        let actual_only = lines
            .iter()
            .find(|line| line.starts_with("> "))
            .expect("a line only this run has");
        assert!(
            actual_only.ends_with("|     b-->>a: y (RESPONSE)"),
            "{shown}"
        );
        let marked = |text: &str| {
            text.lines()
                .filter(|line| line.starts_with('<') || line.starts_with('>'))
                .count()
        };
        assert_eq!(marked(&shown), 2);
        assert_eq!(marked(&side_by_side(want, want)), 0);
    }

    #[test]
    fn what_changes_from_run_to_run_becomes_a_placeholder() {
        let drawn = "    Note over a,b: SCSS001, 12.3 ms\n    b: LM-2026-000017 at 2026-12-07T10:00:00Z for 0190c1de-1a2b-7c3d-8e4f-0a1b2c3d4e5f";
        assert_eq!(
            normalise(drawn),
            "    Note over a,b: SCSS001, «duration»\n    b: «registration number» at «date» for «uuid»"
        );
    }
}
