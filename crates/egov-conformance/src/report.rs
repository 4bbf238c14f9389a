//! What a run of the kit found: one [`Verdict`] per check, a score, and JUnit XML.

use std::fmt;
use std::time::Duration;

use egov_junit::{Suite, TestCase};

/// How one check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The service id called.
    pub service_id: String,
    /// What the check establishes.
    pub check: String,
    /// How long the system took to answer.
    pub elapsed: Duration,
    /// `None` when the answer conforms, else every reason it does not.
    pub reasons: Vec<String>,
}

impl Verdict {
    /// Whether the answer conforms.
    pub fn conforms(&self) -> bool {
        self.reasons.is_empty()
    }

    /// The reasons as one line.
    pub fn reason(&self) -> String {
        self.reasons.join("; ")
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.conforms() {
            write!(f, "{} — {}: conforming", self.service_id, self.check)
        } else {
            write!(
                f,
                "{} — {}: NOT conforming: {}",
                self.service_id,
                self.check,
                self.reason()
            )
        }
    }
}

/// Every check of one run against one system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The system the contract is of (`citizens`, `notary`, …).
    pub system: String,
    /// The endpoint that was checked.
    pub endpoint: String,
    /// One verdict per check, in the contract's order.
    pub verdicts: Vec<Verdict>,
}

impl Report {
    /// The conforming checks as a share of all checks, in per cent.
    pub fn score_percent(&self) -> f64 {
        self.to_junit().score_percent()
    }

    /// Whether every check conforms.
    pub fn conforms(&self) -> bool {
        self.verdicts.iter().all(Verdict::conforms)
    }

    /// The verdict of the check named `check`, if the contract has it.
    pub fn verdict(&self, check: &str) -> Option<&Verdict> {
        self.verdicts.iter().find(|verdict| verdict.check == check)
    }

    /// The report as a JUnit suite: one case per check, grouped by service id.
    pub fn to_junit(&self) -> Suite {
        let mut suite = Suite::new(format!("{} conformance", self.system));
        for verdict in &self.verdicts {
            suite.push(if verdict.conforms() {
                TestCase::passed(&verdict.service_id, &verdict.check, verdict.elapsed)
            } else {
                TestCase::failed(
                    &verdict.service_id,
                    &verdict.check,
                    verdict.elapsed,
                    verdict.reason(),
                )
            });
        }
        suite
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} contract at {}", self.system, self.endpoint)?;
        for verdict in &self.verdicts {
            writeln!(f, "  {verdict}")?;
        }
        let conforming = self.verdicts.iter().filter(|v| v.conforms()).count();
        write!(
            f,
            "score: {:.1} % ({conforming} of {} checks conforming)",
            self.score_percent(),
            self.verdicts.len()
        )
    }
}
