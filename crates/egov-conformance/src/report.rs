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
    /// Every reason the answer does not conform; empty when it conforms.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(check: &str, reasons: &[&str]) -> Verdict {
        Verdict {
            service_id: "citizens.person.get".into(),
            check: check.into(),
            elapsed: Duration::from_millis(2),
            reasons: reasons.iter().map(|reason| (*reason).to_owned()).collect(),
        }
    }

    fn report() -> Report {
        Report {
            system: "citizens".into(),
            endpoint: "http://127.0.0.1:7120".into(),
            verdicts: vec![
                verdict("known IIN", &[]),
                verdict(
                    "unknown IIN",
                    &["wrong status code: expected EDAT001, got EDAT002"],
                ),
                verdict("empty IIN", &[]),
                verdict("bad IIN", &[]),
            ],
        }
    }

    #[test]
    fn the_score_is_the_share_of_conforming_checks() {
        let report = report();
        assert_eq!(report.score_percent(), 75.0);
        assert!(!report.conforms());
    }

    #[test]
    fn each_check_prints_as_conforming_or_not_with_its_reason() {
        let printed = report().to_string();
        assert!(printed.contains("citizens.person.get — known IIN: conforming"));
        assert!(printed.contains(
            "citizens.person.get — unknown IIN: NOT conforming: wrong status code: expected EDAT001, got EDAT002"
        ));
        assert!(printed.ends_with("score: 75.0 % (3 of 4 checks conforming)"));
    }

    #[test]
    fn junit_has_one_case_per_check_and_a_failure_per_nonconforming_one() {
        let xml = report().to_junit().to_xml();
        assert!(xml.contains(r#"<testsuite name="citizens conformance" tests="4" failures="1""#));
        assert!(
            xml.contains(r#"<failure message="wrong status code: expected EDAT001, got EDAT002">"#)
        );
    }

    #[test]
    fn several_reasons_are_joined_in_one_line() {
        let verdict = verdict(
            "known IIN",
            &["unsigned answer", "missing field person.iin"],
        );
        assert_eq!(
            verdict.reason(),
            "unsigned answer; missing field person.iin"
        );
    }
}
