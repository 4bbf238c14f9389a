//! [`Norm`]: a regulation's step duration as the catalogue writes it (`"15 min"`, `"1 cd"`,
//! `"6 wd"`, `"30 s"`), and the due time it gives a step started at a given instant.

use std::fmt;
use std::str::FromStr;

use egov_core::calendar::{KAZAKHSTAN_OFFSET, WorkingCalendar};
use time::{Duration, OffsetDateTime, UtcOffset};

/// The longest norm accepted, in seconds (a year): longer is a typo, and it keeps every due
/// time far inside the representable range.
const MAX_SECONDS: u64 = 366 * 86_400;

/// A step's regulation duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Norm {
    /// Seconds (`s`): the State Corporation's and the portal's steps.
    Seconds(u32),
    /// Minutes (`min`, минут / минута).
    Minutes(u32),
    /// Hours (`h`, сағат / час).
    Hours(u32),
    /// Calendar days (`cd`, күнтізбелік күн / календарный день).
    CalendarDays(u32),
    /// Working days (`wd`, жұмыс күні / рабочий день) on Kazakhstan's calendar.
    WorkingDays(u32),
}

/// Why a norm string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad duration {input:?}: {reason}")]
pub struct NormError {
    /// The text given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Norm {
    /// Returns the number of units.
    pub fn count(self) -> u32 {
        match self {
            Norm::Seconds(n)
            | Norm::Minutes(n)
            | Norm::Hours(n)
            | Norm::CalendarDays(n)
            | Norm::WorkingDays(n) => n,
        }
    }

    /// Returns the unit as the catalogue writes it.
    pub fn unit(self) -> &'static str {
        match self {
            Norm::Seconds(_) => "s",
            Norm::Minutes(_) => "min",
            Norm::Hours(_) => "h",
            Norm::CalendarDays(_) => "cd",
            Norm::WorkingDays(_) => "wd",
        }
    }

    /// Returns when a step started at `start` is due: seconds, minutes, hours and calendar
    /// days are added; working days move to the same Kazakh time of day `n` working days
    /// later on `calendar`. `None` only past the representable time.
    pub fn due(self, start: OffsetDateTime, calendar: &WorkingCalendar) -> Option<OffsetDateTime> {
        let n = i64::from(self.count());
        let added = |step: Duration| start.checked_add(step.checked_mul(n.try_into().ok()?)?);
        match self {
            Norm::Seconds(_) => added(Duration::SECOND),
            Norm::Minutes(_) => added(Duration::MINUTE),
            Norm::Hours(_) => added(Duration::HOUR),
            Norm::CalendarDays(_) => added(Duration::DAY),
            Norm::WorkingDays(n) => {
                // The day is read in Kazakhstan's zone: 20:00 UTC on a Friday is already Saturday.
                let local = start.checked_to_offset(KAZAKHSTAN_OFFSET)?;
                calendar
                    .add_working_days_at(local, n)
                    .checked_to_offset(UtcOffset::UTC)
            }
        }
    }

    fn seconds(self) -> u64 {
        let per_unit: u64 = match self {
            Norm::Seconds(_) => 1,
            Norm::Minutes(_) => 60,
            Norm::Hours(_) => 3_600,
            // A working day spans at least a calendar day.
            Norm::CalendarDays(_) | Norm::WorkingDays(_) => 86_400,
        };
        u64::from(self.count()) * per_unit
    }
}

impl FromStr for Norm {
    type Err = NormError;

    fn from_str(input: &str) -> Result<Norm, NormError> {
        let refuse = |reason: &str| NormError {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = input.split_whitespace();
        let (Some(count), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(refuse(
                "expected `<count> <unit>`, e.g. `15 min`, `1 cd`, `6 wd`, `30 s`",
            ));
        };
        let count: u32 = count
            .parse()
            .map_err(|_| refuse("the count is not a whole number"))?;
        if count == 0 {
            return Err(refuse("a norm of 0 is no norm: leave the norm out"));
        }
        let norm = match unit {
            "s" => Norm::Seconds(count),
            "min" => Norm::Minutes(count),
            "h" => Norm::Hours(count),
            "cd" => Norm::CalendarDays(count),
            "wd" => Norm::WorkingDays(count),
            _ => return Err(refuse("the unit is not one of s, min, h, cd, wd")),
        };
        if norm.seconds() > MAX_SECONDS {
            return Err(refuse("longer than a year"));
        }
        Ok(norm)
    }
}

impl fmt::Display for Norm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.count(), self.unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn due(norm: &str, start: OffsetDateTime) -> OffsetDateTime {
        norm.parse::<Norm>()
            .expect("norm parses")
            .due(start, WorkingCalendar::kazakhstan())
            .expect("representable")
    }

    #[test]
    fn every_unit_of_the_seeds_parses_and_prints_back() {
        for text in ["15 min", "1 cd", "6 wd", "30 s", "2 h", "28 cd"] {
            assert_eq!(text.parse::<Norm>().expect(text).to_string(), text);
        }
    }

    #[test]
    fn a_bad_duration_is_refused_naming_it() {
        for text in [
            "",
            "15",
            "15 minutes",
            "x min",
            "0 min",
            "-1 cd",
            "1 cd extra",
            "400 cd",
        ] {
            let error = text.parse::<Norm>().expect_err(text);
            assert_eq!(error.input, text);
            assert!(error.to_string().contains(&format!("{text:?}")), "{error}");
        }
    }

    #[test]
    fn minutes_seconds_and_calendar_days_are_added() {
        let start = datetime!(2025-03-07 04:00 UTC);
        assert_eq!(due("15 min", start), datetime!(2025-03-07 04:15 UTC));
        assert_eq!(due("30 s", start), datetime!(2025-03-07 04:00:30 UTC));
        // Calendar days run through weekends and holidays.
        assert_eq!(due("28 cd", start), datetime!(2025-04-04 04:00 UTC));
    }

    #[test]
    fn a_working_day_started_on_friday_before_a_holiday_is_due_the_next_working_day() {
        // Friday 7 March 2025, 09:15 in Astana: 8 March is Saturday, moved to Monday 10 March.
        let start = datetime!(2025-03-07 04:15 UTC);
        assert_eq!(due("1 wd", start), datetime!(2025-03-11 04:15 UTC));
    }

    #[test]
    fn working_days_are_counted_in_kazakh_time() {
        // 20:00 UTC on Friday 7 March 2025 is Saturday 01:00 in Astana.
        let start = datetime!(2025-03-07 20:00 UTC);
        assert_eq!(due("1 wd", start), datetime!(2025-03-10 20:00 UTC));
    }
}
