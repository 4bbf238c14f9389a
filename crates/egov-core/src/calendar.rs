//! Kazakhstan's working-day calendar (өндірістік күнтізбе / производственный календарь) for a
//! five-day working week: weekends, public holidays, holidays moved off weekends, and the
//! day-off moves ordered for each year.
//!
//! Each year's data is a TOML file under `crates/egov-core/calendar/`, embedded at build time.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{LazyLock, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use time::macros::offset;
use time::{Date, Month, OffsetDateTime, UtcOffset, Weekday};

/// Kazakhstan's single time zone since 1 March 2024 (UTC+5); working days are counted in it.
pub const KAZAKHSTAN_OFFSET: UtcOffset = offset!(+5);

/// The embedded per-year files; add a year by adding its file here.
const YEAR_FILES: [&str; 4] = [
    include_str!("../calendar/kz-2024.toml"),
    include_str!("../calendar/kz-2025.toml"),
    include_str!("../calendar/kz-2026.toml"),
    include_str!("../calendar/kz-2027.toml"),
];

/// Holidays fixed by date, used for years that have no file: (month, day, kk, ru, en, transfers).
/// Kurban Ait is absent because its date follows the lunar calendar. Constitution Day moved
/// with the Constitution of 2026 (see [`fixed_holiday_years`]).
const FIXED_HOLIDAYS: [(u8, u8, &str, &str, &str, bool); 15] = [
    (1, 1, "Жаңа жыл", "Новый год", "New Year", true),
    (1, 2, "Жаңа жыл", "Новый год", "New Year", true),
    (
        1,
        7,
        "Православиелік Рождество",
        "Православное Рождество",
        "Orthodox Christmas",
        false,
    ),
    (
        3,
        8,
        "Халықаралық әйелдер күні",
        "Международный женский день",
        "International Women's Day",
        true,
    ),
    (
        3,
        15,
        "Қазақстан Республикасының Конституциясы күні",
        "День Конституции Республики Казахстан",
        "Constitution Day",
        true,
    ),
    (3, 21, "Наурыз мейрамы", "Наурыз мейрамы", "Nauryz", true),
    (3, 22, "Наурыз мейрамы", "Наурыз мейрамы", "Nauryz", true),
    (3, 23, "Наурыз мейрамы", "Наурыз мейрамы", "Nauryz", true),
    (
        5,
        1,
        "Қазақстан халқының бірлігі мерекесі",
        "Праздник единства народа Казахстана",
        "Unity Day of the People of Kazakhstan",
        true,
    ),
    (
        5,
        7,
        "Отан қорғаушы күні",
        "День защитника Отечества",
        "Defender of the Fatherland Day",
        true,
    ),
    (5, 9, "Жеңіс күні", "День Победы", "Victory Day", true),
    (7, 6, "Астана күні", "День Столицы", "Capital Day", true),
    (
        8,
        30,
        "Қазақстан Республикасының Конституциясы күні",
        "День Конституции Республики Казахстан",
        "Constitution Day",
        true,
    ),
    (
        10,
        25,
        "Республика күні",
        "День Республики",
        "Republic Day",
        true,
    ),
    (
        12,
        16,
        "Тәуелсіздік күні",
        "День Независимости",
        "Independence Day",
        true,
    ),
];

/// Returns the years a fixed-date holiday is kept in; most are kept in every year.
///
/// Constitution Day was 30 August (the referendum of 1995) up to 2025. The Constitution
/// adopted at the referendum of 15 March 2026 makes the day of its adoption the holiday
/// (art. 94); the Ministry of Labour kept neither date in 2026 and 15 March from 2027.
fn fixed_holiday_years(month: u8, day: u8) -> std::ops::RangeInclusive<i32> {
    match (month, day) {
        (8, 30) => i32::MIN..=2025,
        (3, 15) => 2027..=i32::MAX,
        _ => i32::MIN..=i32::MAX,
    }
}

/// The fixed holidays as values, built once so lookups can hand out references.
static FIXED: LazyLock<Vec<(u8, u8, Holiday)>> = LazyLock::new(|| {
    FIXED_HOLIDAYS
        .iter()
        .map(|&(month, day, kk, ru, en, transfers)| {
            let name = HolidayName {
                kk: kk.to_owned(),
                ru: ru.to_owned(),
                en: en.to_owned(),
            };
            (month, day, Holiday { name, transfers })
        })
        .collect()
});

/// Kazakhstan's calendar from the embedded files, parsed on first use.
static KAZAKHSTAN: LazyLock<WorkingCalendar> = LazyLock::new(|| {
    match WorkingCalendar::from_toml_years(YEAR_FILES) {
        Ok(calendar) => calendar,
        Err(error) => {
            // The files are ours and a unit test parses them, so this is a build defect; the
            // rule-only calendar keeps services running while the error says what to fix.
            tracing::error!(%error, "embedded working-day calendar is invalid, using the holiday rule only");
            WorkingCalendar::rule_only()
        }
    }
});

/// Longest run of days a transferred day off may be searched over before giving up.
const TRANSFER_SEARCH_DAYS: usize = 31;

/// A holiday's name in the three languages the portal speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayName {
    /// Kazakh name.
    pub kk: String,
    /// Russian name.
    pub ru: String,
    /// English name.
    pub en: String,
}

/// A public holiday (мереке күні / праздничный день).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    /// The holiday's name.
    pub name: HolidayName,
    /// Whether a weekend occurrence moves the day off to the next working day; false for the
    /// religious holidays (Orthodox Christmas, Kurban Ait).
    pub transfers: bool,
}

/// What a calendar day is, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind<'a> {
    /// An ordinary Monday–Friday working day.
    Working,
    /// A Saturday or Sunday.
    Weekend,
    /// A public holiday.
    Holiday(&'a Holiday),
    /// A working day made a day off because `holiday` on date `from` fell on a weekend.
    TransferredDayOff {
        /// The holiday that fell on a weekend.
        holiday: &'a Holiday,
        /// The date of that holiday.
        from: Date,
    },
    /// A weekday made a day off by the year's order moving days off.
    OrderedDayOff,
    /// A Saturday or Sunday made a working day by the year's order moving days off.
    OrderedWorkingDay,
}

impl DayKind<'_> {
    /// Returns whether people work on such a day.
    pub fn is_working(&self) -> bool {
        matches!(self, Self::Working | Self::OrderedWorkingDay)
    }
}

/// Why a calendar file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The text is not TOML of the calendar's shape.
    #[error("calendar file does not parse: {message}")]
    Parse {
        /// The TOML parser's message.
        message: String,
    },
    /// A value is a date-time or a time where a plain date is expected.
    #[error("calendar {year}: `{field}` holds {value}, which is not a plain date")]
    NotADate {
        /// The file's year.
        year: i32,
        /// The field holding the value.
        field: &'static str,
        /// The value found.
        value: String,
    },
    /// A date belongs to another year than the file's.
    #[error("calendar {year}: `{field}` lists {date}, which is outside the file's year")]
    OutsideYear {
        /// The file's year.
        year: i32,
        /// The field holding the date.
        field: &'static str,
        /// The date found.
        date: Date,
    },
    /// A date appears twice, or in two lists that exclude each other.
    #[error("calendar {year}: {date} is listed twice (in `{field}`)")]
    Duplicate {
        /// The file's year.
        year: i32,
        /// The field of the second listing.
        field: &'static str,
        /// The date listed twice.
        date: Date,
    },
    /// A working weekend day is not a Saturday or Sunday.
    #[error(
        "calendar {year}: `working_weekend_days` lists {date}, a {weekday}, which is not a weekend day"
    )]
    NotWeekend {
        /// The file's year.
        year: i32,
        /// The date found.
        date: Date,
        /// Its weekday.
        weekday: Weekday,
    },
    /// An extra day off falls on a Saturday or Sunday, where it changes nothing.
    #[error(
        "calendar {year}: `extra_days_off` lists {date}, a {weekday}, which is already a weekend day"
    )]
    DayOffOnWeekend {
        /// The file's year.
        year: i32,
        /// The date found.
        date: Date,
        /// Its weekday.
        weekday: Weekday,
    },
    /// Two files describe the same year.
    #[error("calendar {year} is given by two files")]
    DuplicateYear {
        /// The year given twice.
        year: i32,
    },
    /// A date falls in a year the calendar has no data for, so its holidays (Kurban Ait, the
    /// ordered moves) are unknown.
    #[error(
        "the working-day calendar has no data for {year} (it covers {covered}); add crates/egov-core/calendar/kz-{year}.toml"
    )]
    UncoveredYear {
        /// The year asked about.
        year: i32,
        /// The years the calendar covers, e.g. `2024–2027`.
        covered: String,
    },
}

/// The shape of one `kz-YYYY.toml` file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    year: i32,
    #[serde(default)]
    extra_days_off: Vec<toml::value::Datetime>,
    #[serde(default)]
    working_weekend_days: Vec<toml::value::Datetime>,
    #[serde(default, rename = "holiday")]
    holidays: Vec<HolidayFile>,
}

/// The shape of one `[[holiday]]` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    date: toml::value::Datetime,
    kk: String,
    ru: String,
    en: String,
    transfers: bool,
}

/// One year's days, as a file gives them plus the transfers the rule derives.
#[derive(Debug, Default)]
struct YearDays {
    holidays: BTreeMap<Date, Holiday>,
    /// Day off → the weekend holiday it replaces.
    transfers: BTreeMap<Date, Date>,
    extra_days_off: BTreeSet<Date>,
    working_weekend_days: BTreeSet<Date>,
}

/// Returns whether a date is a Saturday or Sunday.
fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Reads a TOML value that must be a plain date of `year`.
fn plain_date(
    year: i32,
    field: &'static str,
    value: &toml::value::Datetime,
) -> Result<Date, CalendarError> {
    let not_a_date = || CalendarError::NotADate {
        year,
        field,
        value: value.to_string(),
    };
    let (Some(d), None, None) = (value.date, value.time, value.offset) else {
        return Err(not_a_date());
    };
    let month = Month::try_from(d.month).map_err(|_| not_a_date())?;
    let date =
        Date::from_calendar_date(i32::from(d.year), month, d.day).map_err(|_| not_a_date())?;
    if date.year() != year {
        return Err(CalendarError::OutsideYear { year, field, date });
    }
    Ok(date)
}

impl YearFile {
    /// Checks the file and turns it into the year's days (transfers still empty).
    fn into_days(self) -> Result<YearDays, CalendarError> {
        let year = self.year;
        let mut days = YearDays::default();
        for entry in self.holidays {
            let date = plain_date(year, "holiday.date", &entry.date)?;
            let holiday = Holiday {
                name: HolidayName {
                    kk: entry.kk,
                    ru: entry.ru,
                    en: entry.en,
                },
                transfers: entry.transfers,
            };
            if days.holidays.insert(date, holiday).is_some() {
                return Err(CalendarError::Duplicate {
                    year,
                    field: "holiday",
                    date,
                });
            }
        }
        for value in &self.extra_days_off {
            let date = plain_date(year, "extra_days_off", value)?;
            if is_weekend(date) {
                return Err(CalendarError::DayOffOnWeekend {
                    year,
                    date,
                    weekday: date.weekday(),
                });
            }
            if days.holidays.contains_key(&date) || !days.extra_days_off.insert(date) {
                return Err(CalendarError::Duplicate {
                    year,
                    field: "extra_days_off",
                    date,
                });
            }
        }
        for value in &self.working_weekend_days {
            let date = plain_date(year, "working_weekend_days", value)?;
            if !is_weekend(date) {
                return Err(CalendarError::NotWeekend {
                    year,
                    date,
                    weekday: date.weekday(),
                });
            }
            if days.holidays.contains_key(&date) || !days.working_weekend_days.insert(date) {
                return Err(CalendarError::Duplicate {
                    year,
                    field: "working_weekend_days",
                    date,
                });
            }
        }
        Ok(days)
    }
}

/// Kazakhstan's working-day calendar: which days are worked, and date arithmetic over them.
///
/// Years with a file use it; other years fall back to the fixed-date holidays and the transfer
/// rule, without Kurban Ait (a lunar date) and without ordered moves, and log a warning once;
/// the `try_*` functions return [`CalendarError::UncoveredYear`] for them instead.
pub struct WorkingCalendar {
    years: BTreeMap<i32, YearDays>,
    /// Years already warned about, so the fallback warning appears once per year. A std Mutex
    /// is enough: it is held only to insert a number, never across an await.
    warned: Mutex<BTreeSet<i32>>,
}

impl fmt::Debug for WorkingCalendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkingCalendar")
            .field("years", &self.years.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl WorkingCalendar {
    /// Returns Kazakhstan's calendar built from the embedded files for 2024–2027.
    pub fn kazakhstan() -> &'static WorkingCalendar {
        &KAZAKHSTAN
    }

    /// Builds a calendar with no year files: every year follows the fixed holidays and the rule.
    pub fn rule_only() -> Self {
        Self {
            years: BTreeMap::new(),
            warned: Mutex::new(BTreeSet::new()),
        }
    }

    /// Builds a calendar from one year's TOML file.
    pub fn from_toml(text: &str) -> Result<Self, CalendarError> {
        Self::from_toml_years([text])
    }

    /// Builds a calendar from several year files, one TOML text per year.
    pub fn from_toml_years<'a>(
        texts: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, CalendarError> {
        let mut calendar = Self::rule_only();
        for text in texts {
            let file: YearFile = toml::from_str(text).map_err(|e| CalendarError::Parse {
                message: e.to_string().trim_end().to_owned(),
            })?;
            let year = file.year;
            let days = file.into_days()?;
            if calendar.years.insert(year, days).is_some() {
                return Err(CalendarError::DuplicateYear { year });
            }
        }
        // Transfers are derived once every year is known, since a late-December holiday can
        // move its day off into January of the next year.
        let derived: Vec<(i32, Vec<(Date, Date)>)> = calendar
            .years
            .iter()
            .map(|(&year, days)| {
                let weekend_holidays = days.holidays.iter().map(|(&d, h)| (d, h.transfers));
                (year, calendar.derive_transfers(weekend_holidays))
            })
            .collect();
        for (year, transfers) in derived {
            if let Some(days) = calendar.years.get_mut(&year) {
                days.transfers = transfers.into_iter().collect();
            }
        }
        Ok(calendar)
    }

    /// Returns the years that have their own file.
    pub fn years_with_data(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// Returns the holiday that falls on `date`, if any (not days off transferred from one).
    pub fn holiday(&self, date: Date) -> Option<&Holiday> {
        match self.years.get(&date.year()) {
            Some(days) => days.holidays.get(&date),
            None => fixed_holiday(date),
        }
    }

    /// Returns what kind of day `date` is.
    pub fn day_kind(&self, date: Date) -> DayKind<'_> {
        match self.years.get(&date.year()) {
            Some(days) => {
                if days.working_weekend_days.contains(&date) {
                    return DayKind::OrderedWorkingDay;
                }
                if let Some(holiday) = days.holidays.get(&date) {
                    return DayKind::Holiday(holiday);
                }
                if days.extra_days_off.contains(&date) {
                    return DayKind::OrderedDayOff;
                }
            }
            None => {
                self.warn_fallback(date.year());
                if let Some(holiday) = fixed_holiday(date) {
                    return DayKind::Holiday(holiday);
                }
            }
        }
        if let Some((from, holiday)) = self.transfer_source(date) {
            return DayKind::TransferredDayOff { holiday, from };
        }
        if is_weekend(date) {
            DayKind::Weekend
        } else {
            DayKind::Working
        }
    }

    /// Returns whether `date` is a working day.
    pub fn is_working_day(&self, date: Date) -> bool {
        self.day_kind(date).is_working()
    }

    /// Returns the `n`-th working day after `date` (`date` itself when `n` is 0), stopping at
    /// the last date `time` can represent.
    pub fn add_working_days(&self, date: Date, n: u32) -> Date {
        let mut day = date;
        let mut left = n;
        while left > 0 {
            let Some(next) = day.next_day() else {
                return day;
            };
            day = next;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Returns the same time of day, in the same offset, `n` working days after `at`.
    ///
    /// The date is read in `at`'s own offset; pass a time in [`KAZAKHSTAN_OFFSET`] so that
    /// evening hours in UTC count on the right Kazakh day.
    pub fn add_working_days_at(&self, at: OffsetDateTime, n: u32) -> OffsetDateTime {
        at.replace_date(self.add_working_days(at.date(), n))
    }

    /// Returns how many working days lie after `from` up to and including `to` (0 when `to`
    /// is not after `from`), so `add_working_days(a, n) == b` gives `working_days_between(a, b) == n`.
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut count: u32 = 0;
        let mut day = from;
        while day < to {
            let Some(next) = day.next_day() else {
                break;
            };
            day = next;
            if self.is_working_day(day) {
                count = count.saturating_add(1);
            }
        }
        count
    }

    /// Returns `Ok` when `year` has its own file, else [`CalendarError::UncoveredYear`].
    pub fn check_year(&self, year: i32) -> Result<(), CalendarError> {
        if self.years.contains_key(&year) {
            return Ok(());
        }
        let covered = match (self.years.keys().next(), self.years.keys().next_back()) {
            (Some(first), Some(last)) if first == last => first.to_string(),
            (Some(first), Some(last)) => format!("{first}–{last}"),
            _ => "no year".to_owned(),
        };
        Err(CalendarError::UncoveredYear { year, covered })
    }

    /// Returns what kind of day `date` is, or an error when its year has no data.
    pub fn try_day_kind(&self, date: Date) -> Result<DayKind<'_>, CalendarError> {
        self.check_year(date.year())?;
        Ok(self.day_kind(date))
    }

    /// Returns whether `date` is a working day, or an error when its year has no data.
    pub fn try_is_working_day(&self, date: Date) -> Result<bool, CalendarError> {
        Ok(self.try_day_kind(date)?.is_working())
    }

    /// Returns the `n`-th working day after `date` like [`Self::add_working_days`], or an
    /// error naming the first year on the way that has no data.
    pub fn try_add_working_days(&self, date: Date, n: u32) -> Result<Date, CalendarError> {
        self.check_year(date.year())?;
        let mut day = date;
        let mut left = n;
        while left > 0 {
            let Some(next) = day.next_day() else {
                return Ok(day);
            };
            day = next;
            if self.try_is_working_day(day)? {
                left -= 1;
            }
        }
        Ok(day)
    }

    /// Returns the same time of day `n` working days after `at` like
    /// [`Self::add_working_days_at`], or an error when a year on the way has no data.
    pub fn try_add_working_days_at(
        &self,
        at: OffsetDateTime,
        n: u32,
    ) -> Result<OffsetDateTime, CalendarError> {
        Ok(at.replace_date(self.try_add_working_days(at.date(), n)?))
    }

    /// Counts working days like [`Self::working_days_between`], or returns an error when a
    /// year from `from` to `to` has no data.
    pub fn try_working_days_between(&self, from: Date, to: Date) -> Result<u32, CalendarError> {
        if to > from {
            for year in from.year()..=to.year() {
                self.check_year(year)?;
            }
        }
        Ok(self.working_days_between(from, to))
    }

    /// Returns the weekend holiday whose day off was moved onto `date`, if any.
    fn transfer_source(&self, date: Date) -> Option<(Date, &Holiday)> {
        // A day off moves at most a few days, so only a January date can come from last year.
        let previous = (date.month() == Month::January).then(|| date.year() - 1);
        for year in std::iter::once(date.year()).chain(previous) {
            let from = match self.years.get(&year) {
                Some(days) => days.transfers.get(&date).copied(),
                None => self
                    .fallback_transfers(year)
                    .into_iter()
                    .find_map(|(day_off, from)| (day_off == date).then_some(from)),
            };
            if let Some(from) = from {
                return self.holiday(from).map(|holiday| (from, holiday));
            }
        }
        None
    }

    /// Derives the transferred days off of a year from its holidays, as `(day off, holiday)`.
    ///
    /// Holidays are taken in date order; each weekend holiday that transfers takes the first
    /// following weekday that is neither a holiday nor already taken (Nauryz on Saturday and
    /// Sunday thus gives Monday and Tuesday).
    fn derive_transfers(&self, holidays: impl Iterator<Item = (Date, bool)>) -> Vec<(Date, Date)> {
        let mut holidays: Vec<(Date, bool)> = holidays.collect();
        holidays.sort_unstable();
        let mut taken: Vec<(Date, Date)> = Vec::new();
        for (date, transfers) in holidays {
            if !transfers || !is_weekend(date) {
                continue;
            }
            let mut day = date;
            for _ in 0..TRANSFER_SEARCH_DAYS {
                let Some(next) = day.next_day() else {
                    break;
                };
                day = next;
                let free = !is_weekend(day)
                    && self.holiday(day).is_none()
                    && !taken.iter().any(|&(off, _)| off == day);
                if free {
                    taken.push((day, date));
                    break;
                }
            }
        }
        taken
    }

    /// Derives the transfers of a year without a file from the fixed holidays.
    fn fallback_transfers(&self, year: i32) -> Vec<(Date, Date)> {
        let holidays = FIXED.iter().filter_map(|(month, day, holiday)| {
            if !fixed_holiday_years(*month, *day).contains(&year) {
                return None;
            }
            let month = Month::try_from(*month).ok()?;
            let date = Date::from_calendar_date(year, month, *day).ok()?;
            Some((date, holiday.transfers))
        });
        self.derive_transfers(holidays)
    }

    /// Logs once per year that a year has no file and follows the rule only.
    fn warn_fallback(&self, year: i32) {
        let first_time = self
            .warned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(year);
        if first_time {
            tracing::warn!(
                year,
                "no working-day calendar file for this year; using fixed holidays and the transfer rule, without Kurban Ait or ordered moves"
            );
        }
    }
}

/// Returns the fixed-date holiday on `date`, if any.
fn fixed_holiday(date: Date) -> Option<&'static Holiday> {
    let (month, day) = (u8::from(date.month()), date.day());
    FIXED
        .iter()
        .find(|(m, d, _)| *m == month && *d == day)
        .filter(|_| fixed_holiday_years(month, day).contains(&date.year()))
        .map(|(_, _, holiday)| holiday)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    fn kz() -> &'static WorkingCalendar {
        WorkingCalendar::kazakhstan()
    }

    fn days_off_in(calendar: &WorkingCalendar, from: Date, to: Date) -> Vec<Date> {
        let mut out = Vec::new();
        let mut day = from;
        while day <= to {
            if !calendar.is_working_day(day) {
                out.push(day);
            }
            day = day.next_day().unwrap();
        }
        out
    }

    fn working_days_in_year(calendar: &WorkingCalendar, year: i32) -> u32 {
        let first = Date::from_calendar_date(year, Month::January, 1).unwrap();
        let last = Date::from_calendar_date(year, Month::December, 31).unwrap();
        calendar.working_days_between(first.previous_day().unwrap(), last)
    }

    #[test]
    fn embedded_files_parse_and_cover_2024_to_2027() {
        let calendar = WorkingCalendar::from_toml_years(YEAR_FILES).unwrap();
        assert_eq!(
            calendar.years_with_data().collect::<Vec<_>>(),
            [2024, 2025, 2026, 2027]
        );
    }

    #[test]
    fn step_of_one_working_day_started_on_friday_7_march_2025_is_due_on_tuesday_11_march() {
        // 8 March is a Saturday, so Monday 10 March is the transferred day off.
        let due = kz().add_working_days(date!(2025 - 03 - 07), 1);
        assert_eq!(due, date!(2025 - 03 - 11));
        assert_eq!(due.weekday(), Weekday::Tuesday);
        assert!(matches!(
            kz().day_kind(date!(2025 - 03 - 10)),
            DayKind::TransferredDayOff { from, .. } if from == date!(2025 - 03 - 08)
        ));
    }

    #[test]
    fn nauryz_2025_on_friday_saturday_sunday_makes_24_and_25_march_days_off() {
        assert_eq!(
            days_off_in(kz(), date!(2025 - 03 - 20), date!(2025 - 03 - 27)),
            [
                date!(2025 - 03 - 21),
                date!(2025 - 03 - 22),
                date!(2025 - 03 - 23),
                date!(2025 - 03 - 24),
                date!(2025 - 03 - 25),
            ]
        );
        assert!(kz().is_working_day(date!(2025 - 03 - 26)));
    }

    #[test]
    fn nauryz_2026_on_saturday_sunday_monday_moves_to_tuesday_and_wednesday() {
        let off = days_off_in(kz(), date!(2026 - 03 - 20), date!(2026 - 03 - 27));
        assert_eq!(
            off,
            [
                date!(2026 - 03 - 21),
                date!(2026 - 03 - 22),
                date!(2026 - 03 - 23),
                date!(2026 - 03 - 24),
                date!(2026 - 03 - 25),
            ]
        );
    }

    #[test]
    fn kurban_ait_on_a_weekend_is_not_moved() {
        // 2024-06-16 and 2027-05-16 are Sundays; the following Mondays are worked.
        assert!(kz().holiday(date!(2024 - 06 - 16)).is_some());
        assert!(kz().is_working_day(date!(2024 - 06 - 17)));
        assert!(kz().holiday(date!(2027 - 05 - 16)).is_some());
        assert!(kz().is_working_day(date!(2027 - 05 - 17)));
    }

    #[test]
    fn kurban_ait_on_a_weekday_is_a_day_off() {
        let holiday = kz().holiday(date!(2025 - 06 - 06)).unwrap();
        assert_eq!(holiday.name.ru, "Курбан айт");
        assert!(!holiday.transfers);
        assert!(!kz().is_working_day(date!(2026 - 05 - 27)));
    }

    #[test]
    fn orthodox_christmas_on_a_sunday_is_not_moved() {
        assert!(kz().holiday(date!(2024 - 01 - 07)).is_some());
        assert!(kz().is_working_day(date!(2024 - 01 - 08)));
    }

    #[test]
    fn ordered_working_saturday_counts_as_a_working_day() {
        let saturday = date!(2024 - 05 - 04);
        assert_eq!(saturday.weekday(), Weekday::Saturday);
        assert_eq!(kz().day_kind(saturday), DayKind::OrderedWorkingDay);
        assert!(kz().is_working_day(saturday));
        // Friday 3 May + 1 working day is that Saturday.
        assert_eq!(kz().add_working_days(date!(2024 - 05 - 03), 1), saturday);
    }

    #[test]
    fn ordered_day_off_is_not_a_working_day() {
        assert_eq!(kz().day_kind(date!(2024 - 05 - 08)), DayKind::OrderedDayOff);
        assert_eq!(
            days_off_in(kz(), date!(2024 - 05 - 06), date!(2024 - 05 - 10)),
            [
                date!(2024 - 05 - 07),
                date!(2024 - 05 - 08),
                date!(2024 - 05 - 09)
            ]
        );
        assert!(!kz().is_working_day(date!(2025 - 01 - 03)));
        assert!(kz().is_working_day(date!(2025 - 01 - 05)));
    }

    #[test]
    fn weekend_holidays_of_2026_move_to_the_days_the_published_calendar_shows() {
        for day_off in [
            date!(2026 - 03 - 09),
            date!(2026 - 05 - 11),
            date!(2026 - 10 - 26),
        ] {
            assert!(
                matches!(kz().day_kind(day_off), DayKind::TransferredDayOff { .. }),
                "{day_off}"
            );
        }
    }

    #[test]
    fn year_2025_has_246_working_days_as_published() {
        assert_eq!(working_days_in_year(kz(), 2025), 246);
    }

    #[test]
    fn year_2026_has_247_working_days_once_constitution_day_left_30_august() {
        // The published 246 counted Monday 31 August, the day off of a Sunday 30 August.
        assert_eq!(working_days_in_year(kz(), 2026), 247);
    }

    #[test]
    fn constitution_day_is_not_kept_on_30_august_from_2026() {
        assert!(kz().holiday(date!(2026 - 08 - 30)).is_none());
        assert!(kz().is_working_day(date!(2026 - 08 - 31)));
        assert!(kz().holiday(date!(2027 - 08 - 30)).is_none());
        assert!(kz().is_working_day(date!(2027 - 08 - 30)));
        assert!(kz().holiday(date!(2025 - 08 - 30)).is_some());
    }

    #[test]
    fn constitution_day_is_15_march_from_2027() {
        let holiday = kz().holiday(date!(2027 - 03 - 15)).unwrap();
        assert_eq!(holiday.name.en, "Constitution Day");
        assert!(!kz().is_working_day(date!(2027 - 03 - 15)));
        assert!(kz().holiday(date!(2026 - 03 - 15)).is_none());
        // Years without a file follow the new date too.
        assert!(kz().holiday(date!(2028 - 03 - 15)).is_some());
        assert!(kz().holiday(date!(2028 - 08 - 30)).is_none());
    }

    #[test]
    fn year_without_calendar_data_is_an_error_for_try_functions() {
        let err = kz().try_is_working_day(date!(2028 - 01 - 05)).unwrap_err();
        assert_eq!(
            err,
            CalendarError::UncoveredYear {
                year: 2028,
                covered: "2024–2027".to_owned()
            }
        );
        assert!(err.to_string().contains("kz-2028.toml"), "{err}");
    }

    #[test]
    fn working_day_step_crossing_into_an_uncovered_year_is_an_error() {
        let err = kz()
            .try_add_working_days(date!(2027 - 12 - 28), 5)
            .unwrap_err();
        assert!(matches!(
            err,
            CalendarError::UncoveredYear { year: 2028, .. }
        ));
        assert_eq!(
            kz().try_add_working_days(date!(2027 - 03 - 12), 1),
            Ok(date!(2027 - 03 - 16))
        );
        assert!(
            kz().try_working_days_between(date!(2027 - 12 - 01), date!(2028 - 01 - 10))
                .is_err()
        );
    }

    #[test]
    fn year_without_a_file_follows_the_fixed_holidays_and_the_rule() {
        // 2028: New Year on Saturday and Sunday → Monday 3 and Tuesday 4 January off.
        let calendar = kz();
        assert!(!calendar.years_with_data().any(|y| y == 2028));
        assert_eq!(
            days_off_in(calendar, date!(2028 - 01 - 01), date!(2028 - 01 - 07)),
            [
                date!(2028 - 01 - 01),
                date!(2028 - 01 - 02),
                date!(2028 - 01 - 03),
                date!(2028 - 01 - 04),
                date!(2028 - 01 - 07),
            ]
        );
        assert_eq!(
            calendar.holiday(date!(2028 - 12 - 16)).unwrap().name.en,
            "Independence Day"
        );
    }

    #[test]
    fn file_calendar_and_rule_only_calendar_agree_on_holidays_that_follow_the_rule() {
        // Only Kurban Ait and ordered moves may differ between them.
        let rule = WorkingCalendar::rule_only();
        let kurban = [date!(2026 - 05 - 27)];
        let mut day = date!(2026 - 01 - 01);
        while day.year() == 2026 {
            if !kurban.contains(&day) {
                assert_eq!(kz().is_working_day(day), rule.is_working_day(day), "{day}");
            }
            day = day.next_day().unwrap();
        }
    }

    #[test]
    fn add_working_days_at_keeps_the_time_of_day_and_offset() {
        let start = datetime!(2025-03-07 15:30 +5);
        assert_eq!(
            kz().add_working_days_at(start, 1),
            datetime!(2025-03-11 15:30 +5)
        );
    }

    #[test]
    fn zero_working_days_leaves_the_date_unchanged_even_on_a_holiday() {
        assert_eq!(
            kz().add_working_days(date!(2025 - 03 - 22), 0),
            date!(2025 - 03 - 22)
        );
        assert_eq!(
            kz().working_days_between(date!(2025 - 03 - 22), date!(2025 - 03 - 01)),
            0
        );
    }

    #[test]
    fn stepping_past_the_last_representable_date_stops_there() {
        let last = Date::MAX;
        assert_eq!(kz().add_working_days(last, 5), last);
        assert_eq!(kz().working_days_between(last, last), 0);
    }

    #[test]
    fn file_with_a_date_of_another_year_is_refused() {
        let err = WorkingCalendar::from_toml(
            "year = 2025\n[[holiday]]\ndate = 2024-01-01\nkk = \"a\"\nru = \"b\"\nen = \"c\"\ntransfers = true\n",
        )
        .unwrap_err();
        assert_eq!(
            err,
            CalendarError::OutsideYear {
                year: 2025,
                field: "holiday.date",
                date: date!(2024 - 01 - 01)
            }
        );
    }

    #[test]
    fn file_with_an_unknown_field_is_refused_naming_it() {
        let err =
            WorkingCalendar::from_toml("year = 2025\nextra_day_off = [2025-01-03]\n").unwrap_err();
        assert!(err.to_string().contains("extra_day_off"), "{err}");
    }

    #[test]
    fn working_weekend_day_on_a_weekday_is_refused() {
        let err = WorkingCalendar::from_toml("year = 2025\nworking_weekend_days = [2025-01-06]\n")
            .unwrap_err();
        assert!(matches!(
            err,
            CalendarError::NotWeekend {
                weekday: Weekday::Monday,
                ..
            }
        ));
    }

    #[test]
    fn date_time_where_a_date_is_expected_is_refused() {
        let err =
            WorkingCalendar::from_toml("year = 2025\nextra_days_off = [2025-01-03T10:00:00]\n")
                .unwrap_err();
        assert!(matches!(err, CalendarError::NotADate { .. }), "{err}");
    }

    #[test]
    fn two_files_for_one_year_are_refused() {
        let err = WorkingCalendar::from_toml_years(["year = 2025", "year = 2025"]).unwrap_err();
        assert_eq!(err, CalendarError::DuplicateYear { year: 2025 });
    }

    proptest! {
        #[test]
        fn adding_working_days_lands_on_a_working_day_the_count_agrees_with(
            start in (date!(2023 - 06 - 01).to_julian_day()..date!(2028 - 06 - 01).to_julian_day())
                .prop_map(|d| Date::from_julian_day(d).unwrap()),
            n in 1u32..60,
        ) {
            let due = kz().add_working_days(start, n);
            prop_assert!(kz().is_working_day(due));
            prop_assert_eq!(kz().working_days_between(start, due), n);
        }
    }
}
