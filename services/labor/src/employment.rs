//! [`Employment`]: a person in work as the Labour Market AIS («Еңбек нарығы» ААЖ) records it
//! (employer BIN, since when), and the operator's JSON body that records one, checked field by
//! field. An employed recipient is refused the certificate for an unemployed citizen (service B).

use egov_core::{Bin, Iin};
use serde::{Deserialize, Serialize};
use time::Date;

/// The longest employer name accepted.
pub const MAX_EMPLOYER_NAME_LEN: usize = 200;

/// A person's employment (жұмыспен қамтылу / занятость).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employment {
    /// The employed person.
    pub iin: Iin,
    /// The employer's BIN.
    pub employer_bin: Bin,
    /// The employer's name.
    pub employer_name: String,
    /// The first day of the employment.
    pub since: Date,
}

/// The JSON form of an employment, as `POST /employment` takes and answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmploymentJson {
    /// The employed person's IIN.
    pub iin: Option<String>,
    /// The employer's BIN.
    pub employer_bin: Option<String>,
    /// The employer's name.
    pub employer_name: Option<String>,
    /// The first day, `YYYY-MM-DD`; absent means today.
    pub since: Option<String>,
}

impl From<&Employment> for EmploymentJson {
    fn from(employment: &Employment) -> EmploymentJson {
        EmploymentJson {
            iin: Some(employment.iin.to_string()),
            employer_bin: Some(employment.employer_bin.to_string()),
            employer_name: Some(employment.employer_name.clone()),
            since: Some(format_date(employment.since)),
        }
    }
}

/// One refused field of a JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// Why it was refused.
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Parses an employment body, naming every bad field; `today` fills a missing `since`.
pub fn parse(body: &[u8], today: Date) -> Result<Employment, Vec<FieldError>> {
    let json: EmploymentJson = serde_json::from_slice(body).map_err(|error| {
        vec![FieldError::new(
            "body",
            format!("is not an employment: {error}"),
        )]
    })?;
    let mut errors = Vec::new();
    let iin = match json.iin.as_deref() {
        None | Some("") => {
            errors.push(FieldError::new("iin", "must not be empty"));
            None
        }
        Some(value) => Iin::parse(value)
            .map_err(|error| errors.push(FieldError::new("iin", error.to_string())))
            .ok(),
    };
    let employer_bin = match json.employer_bin.as_deref() {
        None | Some("") => {
            errors.push(FieldError::new("employer_bin", "must not be empty"));
            None
        }
        Some(value) => Bin::parse(value)
            .map_err(|error| errors.push(FieldError::new("employer_bin", error.to_string())))
            .ok(),
    };
    let employer_name = json.employer_name.unwrap_or_default().trim().to_owned();
    if employer_name.is_empty() {
        errors.push(FieldError::new("employer_name", "must not be empty"));
    } else if employer_name.chars().count() > MAX_EMPLOYER_NAME_LEN {
        errors.push(FieldError::new(
            "employer_name",
            format!("is longer than {MAX_EMPLOYER_NAME_LEN} characters"),
        ));
    }
    let since = match json.since.as_deref() {
        None | Some("") => Some(today),
        Some(value) => match parse_date(value) {
            Ok(date) if date > today => {
                errors.push(FieldError::new(
                    "since",
                    format!("{value} is after today, {}", format_date(today)),
                ));
                None
            }
            Ok(date) => Some(date),
            Err(message) => {
                errors.push(FieldError::new("since", message));
                None
            }
        },
    };
    match (iin, employer_bin, since) {
        (Some(iin), Some(employer_bin), Some(since)) if errors.is_empty() => Ok(Employment {
            iin,
            employer_bin,
            employer_name,
            since,
        }),
        _ => Err(errors),
    }
}

/// Parses an ISO date (`2026-11-25`).
pub fn parse_date(text: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).map_err(|_| format!("{text:?} is not a date in the form YYYY-MM-DD"))
}

/// Formats a date as ISO (`2026-11-25`), the form the store and the JSON use.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 11 - 25);

    #[test]
    fn a_complete_body_parses_and_since_defaults_to_today() {
        let body = r#"{"iin":"870225490134","employer_bin":"160240901053","employer_name":"ТОО «Сарыарқа Логистик»"}"#;
        let employment = parse(body.as_bytes(), TODAY).expect("parses");
        assert_eq!(employment.iin.as_str(), "870225490134");
        assert_eq!(employment.since, TODAY);
    }

    #[test]
    fn every_bad_field_is_named() {
        let body = br#"{"iin":"870225490135","employer_bin":"","since":"2030-01-01"}"#;
        let errors = parse(body, TODAY).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["iin", "employer_bin", "employer_name", "since"]);
    }

    #[test]
    fn an_unknown_field_refuses_the_body() {
        let errors = parse(br#"{"inn":"1"}"#, TODAY).expect_err("refused");
        assert_eq!(errors[0].field, "body");
    }
}
