//! Registering a power of attorney by an operator of the registry (БНАЖ / ЕНИС): the JSON
//! body of `POST /powers-of-attorney`, checked field by field before anything is stored.
//!
//! Every bad field is reported, each by its name, so one answer tells the operator all
//! there is to fix.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Map, Value};
use time::Date;

use crate::power_of_attorney::{
    MAX_NOTARY_NAME_LEN, MAX_SERVICE_IDS, PowerOfAttorney, check_number, check_service_id,
    format_date, parse_date,
};

/// The fields a registration body may carry.
pub const FIELDS: [&str; 8] = [
    "number",
    "principal_iin",
    "representative_iin",
    "service_ids",
    "notary_name",
    "issue_date",
    "expiry_date",
    "revoked",
];

/// One refused field of a registration, named as the JSON names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The JSON field (or `body` when the body is not a JSON object).
    pub field: String,
    /// Why its value was refused.
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

/// The registration body as JSON, the form the answer echoes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PowerOfAttorneyJson {
    /// Registration number.
    pub number: String,
    /// The principal's IIN.
    pub principal_iin: String,
    /// The representative's IIN.
    pub representative_iin: String,
    /// Service ids or codes A–F covered; empty covers all.
    pub service_ids: Vec<String>,
    /// The certifying notary.
    pub notary_name: String,
    /// Issue date, `YYYY-MM-DD`.
    pub issue_date: String,
    /// Expiry date (inclusive), `YYYY-MM-DD`.
    pub expiry_date: String,
    /// Whether it is revoked.
    pub revoked: bool,
}

impl From<&PowerOfAttorney> for PowerOfAttorneyJson {
    fn from(power: &PowerOfAttorney) -> PowerOfAttorneyJson {
        PowerOfAttorneyJson {
            number: power.number.clone(),
            principal_iin: power.principal_iin.to_string(),
            representative_iin: power.representative_iin.to_string(),
            service_ids: power.service_ids.clone(),
            notary_name: power.notary_name.clone(),
            issue_date: format_date(power.issue_date),
            expiry_date: format_date(power.expiry_date),
            revoked: power.revoked,
        }
    }
}

/// Parses and checks a registration body against `today` (Kazakhstan's date): every
/// field's refusal, or the power to store.
pub fn parse(body: &[u8], today: Date) -> Result<PowerOfAttorney, Vec<FieldError>> {
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err(vec![FieldError::new("body", "must be a JSON object")]),
        Err(error) => {
            return Err(vec![FieldError::new(
                "body",
                format!("is not JSON: {error}"),
            )]);
        }
    };
    let mut errors: Vec<FieldError> = object
        .keys()
        .filter(|key| !FIELDS.contains(&key.as_str()))
        .map(|key| {
            FieldError::new(
                key,
                format!("is not a field of a power of attorney; expected one of {FIELDS:?}"),
            )
        })
        .collect();
    let number = keep(
        &mut errors,
        "number",
        string(&object, "number").and_then(|n| check_number(&n).map(|()| n)),
    );
    let principal = keep(
        &mut errors,
        "principal_iin",
        string(&object, "principal_iin").and_then(|v| iin(&v)),
    );
    let representative = keep(
        &mut errors,
        "representative_iin",
        string(&object, "representative_iin").and_then(|v| iin(&v)),
    );
    let service_ids = keep(&mut errors, "service_ids", service_ids(&object));
    let notary_name = keep(
        &mut errors,
        "notary_name",
        string(&object, "notary_name").and_then(notary),
    );
    let issue_date = keep(
        &mut errors,
        "issue_date",
        string(&object, "issue_date")
            .and_then(|v| parse_date(&v))
            .and_then(|date| {
                if date > today {
                    Err(format!(
                        "{} is after today ({}): a power is registered once certified",
                        format_date(date),
                        format_date(today)
                    ))
                } else {
                    Ok(date)
                }
            }),
    );
    let expiry_date = keep(
        &mut errors,
        "expiry_date",
        string(&object, "expiry_date").and_then(|v| parse_date(&v)),
    );
    let revoked = keep(
        &mut errors,
        "revoked",
        match object.get("revoked") {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(revoked)) => Ok(*revoked),
            Some(_) => Err("must be true or false".to_owned()),
        },
    );
    // Checks across fields run only once both sides parsed, so a field is named once.
    if let (Some(principal), Some(representative)) = (&principal, &representative)
        && principal == representative
    {
        keep(
            &mut errors,
            "representative_iin",
            Err::<(), _>(format!(
                "{representative} is also the principal: a person needs no power of attorney for themselves"
            )),
        );
    }
    if let (Some(issue), Some(expiry)) = (issue_date, expiry_date)
        && expiry < issue
    {
        keep(
            &mut errors,
            "expiry_date",
            Err::<(), _>(format!(
                "{} is before the issue date {}",
                format_date(expiry),
                format_date(issue)
            )),
        );
    }

    match (
        number,
        principal,
        representative,
        service_ids,
        notary_name,
        issue_date,
        expiry_date,
        revoked,
    ) {
        (
            Some(number),
            Some(principal_iin),
            Some(representative_iin),
            Some(service_ids),
            Some(notary_name),
            Some(issue_date),
            Some(expiry_date),
            Some(revoked),
        ) if errors.is_empty() => Ok(PowerOfAttorney {
            number,
            principal_iin,
            representative_iin,
            service_ids,
            notary_name,
            issue_date,
            expiry_date,
            revoked,
        }),
        _ => Err(errors),
    }
}

/// Returns the value of a field's check, recording its refusal under the field's name.
fn keep<T>(errors: &mut Vec<FieldError>, field: &str, result: Result<T, String>) -> Option<T> {
    result
        .map_err(|message| errors.push(FieldError::new(field, message)))
        .ok()
}

/// Reads a required string field.
fn string(object: &Map<String, Value>, field: &str) -> Result<String, String> {
    match object.get(field) {
        None | Some(Value::Null) => Err("is required".into()),
        Some(Value::String(value)) => Ok(value.clone()),
        Some(other) => Err(format!("must be a string, found {other}")),
    }
}

/// Parses an IIN, keeping the check's own explanation.
fn iin(value: &str) -> Result<egov_core::Iin, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    egov_core::Iin::parse(value).map_err(|error| error.to_string())
}

/// Checks the notary's name: present, not padded, not too long, printable.
fn notary(name: String) -> Result<String, String> {
    if name.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if name.trim() != name {
        return Err(format!("{name:?} has leading or trailing spaces"));
    }
    if name.chars().count() > MAX_NOTARY_NAME_LEN {
        return Err(format!("is longer than {MAX_NOTARY_NAME_LEN} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("{name:?} holds a control character"));
    }
    Ok(name)
}

/// Reads the optional list of covered services: absent, null or empty covers all.
fn service_ids(object: &Map<String, Value>) -> Result<Vec<String>, String> {
    let items = match object.get("service_ids") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(format!("must be a list of strings, found {other}")),
    };
    if items.len() > MAX_SERVICE_IDS {
        return Err(format!(
            "lists {} services, at most {MAX_SERVICE_IDS} are allowed",
            items.len()
        ));
    }
    let mut seen = HashSet::new();
    let mut ids = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Value::String(id) = item else {
            return Err(format!("item {index} must be a string, found {item}"));
        };
        check_service_id(id).map_err(|reason| format!("item {index}: {reason}"))?;
        if !seen.insert(id.as_str()) {
            return Err(format!("item {index}: {id:?} is listed twice"));
        }
        ids.push(id.clone());
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 11 - 25);

    fn good() -> Value {
        json!({
            "number": "ENIS-000501",
            "principal_iin": "850102300131",
            "representative_iin": "751204400013",
            "service_ids": ["B", "labor.certificate.issue"],
            "notary_name": "Ахметова Гульнара Сериковна",
            "issue_date": "2026-11-20",
            "expiry_date": "2027-11-19",
        })
    }

    fn fields(body: &Value) -> Vec<String> {
        let bytes = serde_json::to_vec(body).unwrap();
        parse(&bytes, TODAY)
            .expect_err("refused")
            .into_iter()
            .map(|error| error.field)
            .collect()
    }

    #[test]
    fn a_good_body_parses_into_the_power() {
        let bytes = serde_json::to_vec(&good()).unwrap();
        let power = parse(&bytes, TODAY).expect("parses");
        assert_eq!(power.number, "ENIS-000501");
        assert_eq!(power.service_ids, ["B", "labor.certificate.issue"]);
        assert_eq!(power.expiry_date, date!(2027 - 11 - 19));
        assert!(!power.revoked);
        let json = serde_json::to_value(PowerOfAttorneyJson::from(&power)).unwrap();
        assert_eq!(json["issue_date"], "2026-11-20");
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let body = json!({
            "number": "",
            "principal_iin": "850102300132",
            "representative_iin": 881111300454u64,
            "service_ids": ["G"],
            "notary_name": "  ",
            "issue_date": "2026-13-01",
            "expiry_date": "tomorrow",
            "revoked": "no",
            "colour": "blue",
        });
        let mut named = fields(&body);
        named.sort();
        assert_eq!(
            named,
            [
                "colour",
                "expiry_date",
                "issue_date",
                "notary_name",
                "number",
                "principal_iin",
                "representative_iin",
                "revoked",
                "service_ids"
            ]
        );
    }

    #[test]
    fn cross_field_rules_name_the_later_field() {
        let mut body = good();
        body["representative_iin"] = json!("850102300131");
        assert_eq!(fields(&body), ["representative_iin"]);
        let mut body = good();
        body["expiry_date"] = json!("2026-11-19");
        assert_eq!(fields(&body), ["expiry_date"]);
        let mut body = good();
        body["issue_date"] = json!("2026-11-26");
        body["expiry_date"] = json!("2027-11-26");
        assert_eq!(fields(&body), ["issue_date"]);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_named_body() {
        assert_eq!(
            parse(b"[1]", TODAY).unwrap_err()[0].field,
            "body".to_owned()
        );
        assert_eq!(parse(b"{", TODAY).unwrap_err()[0].field, "body".to_owned());
    }

    #[test]
    fn a_service_listed_twice_is_refused() {
        let mut body = good();
        body["service_ids"] = json!(["C", "C"]);
        assert_eq!(fields(&body), ["service_ids"]);
    }
}
