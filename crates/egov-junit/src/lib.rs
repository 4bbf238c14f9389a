//! JUnit XML reports, the format CI servers read: one `<testsuite>` per run of the
//! conformance kit (`egov conformance`) or the scenario runner (`egov scenario run`),
//! one `<testcase>` per check or step.
//!
//! ```
//! use egov_junit::{Suite, TestCase};
//! use std::time::Duration;
//!
//! let mut suite = Suite::new("citizens conformance");
//! suite.push(TestCase::passed("GetPerson", "known IIN answers its record", Duration::from_millis(3)));
//! suite.push(TestCase::failed("GetPerson", "unknown IIN", Duration::ZERO, "expected SCSS002, got SCSS001"));
//! assert_eq!(suite.failures(), 1);
//! assert!(suite.to_xml().contains(r#"<failure message="expected SCSS002, got SCSS001">"#));
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// One check or step and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    /// The group the case belongs to (a gRPC method, a scenario file).
    pub classname: String,
    /// What the case checks.
    pub name: String,
    /// How long it took.
    pub time: Duration,
    /// How it ended.
    pub outcome: Outcome,
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It held.
    Passed,
    /// It did not hold, for this reason.
    Failed(String),
    /// It was not run, for this reason.
    Skipped(String),
}

impl TestCase {
    /// A case that held.
    pub fn passed(
        classname: impl Into<String>,
        name: impl Into<String>,
        time: Duration,
    ) -> TestCase {
        TestCase::new(classname, name, time, Outcome::Passed)
    }

    /// A case that did not hold, with the reason.
    pub fn failed(
        classname: impl Into<String>,
        name: impl Into<String>,
        time: Duration,
        reason: impl Into<String>,
    ) -> TestCase {
        TestCase::new(classname, name, time, Outcome::Failed(reason.into()))
    }

    /// A case that was not run, with the reason.
    pub fn skipped(
        classname: impl Into<String>,
        name: impl Into<String>,
        reason: impl Into<String>,
    ) -> TestCase {
        TestCase::new(
            classname,
            name,
            Duration::ZERO,
            Outcome::Skipped(reason.into()),
        )
    }

    /// A case with the given outcome.
    pub fn new(
        classname: impl Into<String>,
        name: impl Into<String>,
        time: Duration,
        outcome: Outcome,
    ) -> TestCase {
        TestCase {
            classname: classname.into(),
            name: name.into(),
            time,
            outcome,
        }
    }
}

/// A run's cases, written as one `<testsuite>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Suite {
    /// The suite's name.
    pub name: String,
    /// Its cases, in the order they ran.
    pub cases: Vec<TestCase>,
}

impl Suite {
    /// An empty suite.
    pub fn new(name: impl Into<String>) -> Suite {
        Suite {
            name: name.into(),
            cases: Vec::new(),
        }
    }

    /// Adds a case.
    pub fn push(&mut self, case: TestCase) {
        self.cases.push(case);
    }

    /// How many cases failed.
    pub fn failures(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Failed(_)))
    }

    /// How many cases were skipped.
    pub fn skipped(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Skipped(_)))
    }

    /// How many cases passed.
    pub fn passed(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Passed))
    }

    /// Passed cases as a share of the cases run (skipped ones left out), in per cent;
    /// 100 for a suite that ran nothing.
    pub fn score_percent(&self) -> f64 {
        let run = self.passed() + self.failures();
        if run == 0 {
            100.0
        } else {
            self.passed() as f64 * 100.0 / run as f64
        }
    }

    fn count(&self, pick: impl Fn(&Outcome) -> bool) -> usize {
        self.cases.iter().filter(|case| pick(&case.outcome)).count()
    }

    /// The suite as JUnit XML.
    pub fn to_xml(&self) -> String {
        let total: Duration = self.cases.iter().map(|case| case.time).sum();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        // Writing into a String cannot fail.
        let _ = writeln!(
            xml,
            r#"<testsuite name="{}" tests="{}" failures="{}" errors="0" skipped="{}" time="{:.3}">"#,
            escape(&self.name),
            self.cases.len(),
            self.failures(),
            self.skipped(),
            total.as_secs_f64()
        );
        for case in &self.cases {
            let _ = write!(
                xml,
                r#"  <testcase classname="{}" name="{}" time="{:.3}""#,
                escape(&case.classname),
                escape(&case.name),
                case.time.as_secs_f64()
            );
            match &case.outcome {
                Outcome::Passed => xml.push_str("/>\n"),
                Outcome::Failed(reason) => {
                    let _ = writeln!(
                        xml,
                        ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>",
                        escape(first_line(reason)),
                        escape(reason)
                    );
                }
                Outcome::Skipped(reason) => {
                    let _ = writeln!(
                        xml,
                        ">\n    <skipped message=\"{}\"/>\n  </testcase>",
                        escape(reason)
                    );
                }
            }
        }
        xml.push_str("</testsuite>\n");
        xml
    }

    /// Writes the suite as JUnit XML to `path`.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_xml())
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// Escapes text for an XML attribute or element; drops characters XML 1.0 cannot hold.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\r' | '\t' => out.push(ch),
            ch if (ch as u32) < 0x20 => {}
            ch => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_counts_failures_and_skips_and_escapes_reasons() {
        let mut suite = Suite::new("queue <register>");
        suite.push(TestCase::passed(
            "PlaceInQueue",
            "places a child",
            Duration::from_millis(1500),
        ));
        suite.push(TestCase::failed(
            "PlaceInQueue",
            "refuses a duplicate",
            Duration::ZERO,
            "expected \"SCSS003\"\nanswer: a & b",
        ));
        suite.push(TestCase::skipped("GetQueuePosition", "timing", "no clock"));
        let xml = suite.to_xml();
        assert!(xml.contains(
            r#"<testsuite name="queue &lt;register&gt;" tests="3" failures="1" errors="0" skipped="1" time="1.500">"#
        ));
        assert!(xml.contains(r#"<failure message="expected &quot;SCSS003&quot;">"#));
        assert!(xml.contains("answer: a &amp; b</failure>"));
        assert!(xml.contains(r#"<skipped message="no clock"/>"#));
        assert_eq!(suite.score_percent(), 50.0);
    }

    #[test]
    fn control_characters_that_xml_cannot_hold_are_dropped() {
        assert_eq!(escape("a\u{1}b\tc"), "ab\tc");
    }
}
