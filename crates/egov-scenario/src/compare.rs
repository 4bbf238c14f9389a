//! Expected values against an answer, field by field. An expected string written as a
//! matcher stands for a value that changes from run to run:
//!
//! | matcher | matches |
//! | --- | --- |
//! | `"<any>"` | any value that is there |
//! | `"<uuid>"` | a UUID (message ids) |
//! | `"<timestamp>"` | an RFC 3339 time (message times, dates of decisions) |
//! | `"<digits>"` | a non-empty string of digits, or a number |
//! | `"<pattern:REGEX>"` | text the regular expression matches whole (generated numbers) |
//!
//! Any other string is a value compared as written. A field in the answer that the
//! expectation does not name is a difference too: the answer must be exactly as expected.

use std::fmt;

/// One field whose answer differs from the expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The field path, e.g. `person.address.street` or `links[2].kinship`.
    pub path: String,
    /// What was expected, as written in TOML (`"…"`, a matcher, or `nothing`).
    pub expected: String,
    /// What the answer had, as TOML (or `nothing`).
    pub actual: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.path, self.expected, self.actual
        )
    }
}

/// A matcher the expectation names, or `None` for a value compared as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// `<any>`.
    Any,
    /// `<uuid>`.
    Uuid,
    /// `<timestamp>`.
    Timestamp,
    /// `<digits>`.
    Digits,
    /// `<pattern:REGEX>`.
    Pattern(String),
}

impl Matcher {
    /// Reads a matcher from an expected string.
    pub fn parse(text: &str) -> Option<Matcher> {
        match text {
            "<any>" => Some(Matcher::Any),
            "<uuid>" => Some(Matcher::Uuid),
            "<timestamp>" => Some(Matcher::Timestamp),
            "<digits>" => Some(Matcher::Digits),
            _ => text
                .strip_prefix("<pattern:")
                .and_then(|rest| rest.strip_suffix('>'))
                .map(|pattern| Matcher::Pattern(pattern.to_owned())),
        }
    }

    /// Returns the matcher as written in a scenario file.
    pub fn text(&self) -> String {
        match self {
            Matcher::Any => "<any>".into(),
            Matcher::Uuid => "<uuid>".into(),
            Matcher::Timestamp => "<timestamp>".into(),
            Matcher::Digits => "<digits>".into(),
            Matcher::Pattern(pattern) => format!("<pattern:{pattern}>"),
        }
    }

    /// Returns whether a value matches.
    pub fn matches(&self, value: &toml::Value) -> bool {
        let text = match value {
            toml::Value::String(text) => text.clone(),
            toml::Value::Integer(number) => number.to_string(),
            toml::Value::Datetime(at) => at.to_string(),
            _ => return matches!(self, Matcher::Any),
        };
        match self {
            Matcher::Any => true,
            Matcher::Uuid => is_uuid(&text),
            Matcher::Timestamp => is_timestamp(&text),
            Matcher::Digits => !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()),
            Matcher::Pattern(pattern) => regex::Regex::new(&format!("^(?:{pattern})$"))
                .map(|regex| regex.is_match(&text))
                .unwrap_or(false),
        }
    }
}

/// Returns whether text is a UUID (8-4-4-4-12 hex digits).
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Returns whether text is an RFC 3339 time.
pub fn is_timestamp(text: &str) -> bool {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
}

/// Returns the error of a `<pattern:…>` that is not a valid regular expression, if any
/// matcher in `table` has one, with the field path.
pub fn invalid_patterns(table: &toml::Table, prefix: &str) -> Option<(String, String)> {
    for (key, value) in table {
        let path = join(prefix, key);
        if let Some(found) = invalid_pattern_in(value, &path) {
            return Some(found);
        }
    }
    None
}

fn invalid_pattern_in(value: &toml::Value, path: &str) -> Option<(String, String)> {
    match value {
        toml::Value::String(text) => match Matcher::parse(text) {
            Some(Matcher::Pattern(pattern)) => regex::Regex::new(&pattern)
                .err()
                .map(|err| (path.to_owned(), err.to_string())),
            _ => None,
        },
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| invalid_pattern_in(item, &format!("{path}[{index}]"))),
        toml::Value::Table(table) => invalid_patterns(table, path),
        _ => None,
    }
}

/// Compares an answer's fields with the expected ones; `prefix` starts every path (empty for
/// the payload, `header` for the answer's header).
pub fn compare(expected: &toml::Table, actual: &toml::Table, prefix: &str) -> Vec<Difference> {
    let mut differences = Vec::new();
    compare_tables(expected, actual, prefix, &mut differences);
    differences
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn shown(value: Option<&toml::Value>) -> String {
    match value {
        None => "nothing".to_owned(),
        Some(value) => value.to_string(),
    }
}

fn compare_tables(
    expected: &toml::Table,
    actual: &toml::Table,
    prefix: &str,
    out: &mut Vec<Difference>,
) {
    for (key, want) in expected {
        compare_values(want, actual.get(key), &join(prefix, key), out);
    }
    for (key, got) in actual {
        if !expected.contains_key(key) {
            out.push(Difference {
                path: join(prefix, key),
                expected: "nothing".into(),
                actual: got.to_string(),
            });
        }
    }
}

/// Compares one value (a status code, a type, a field) with its expectation.
pub fn compare_value(
    expected: &toml::Value,
    actual: Option<&toml::Value>,
    path: &str,
) -> Vec<Difference> {
    let mut differences = Vec::new();
    compare_values(expected, actual, path, &mut differences);
    differences
}

fn compare_values(
    expected: &toml::Value,
    actual: Option<&toml::Value>,
    path: &str,
    out: &mut Vec<Difference>,
) {
    let differ = |out: &mut Vec<Difference>| {
        out.push(Difference {
            path: path.to_owned(),
            expected: expected.to_string(),
            actual: shown(actual),
        })
    };
    if let toml::Value::String(text) = expected
        && let Some(matcher) = Matcher::parse(text)
    {
        if !actual.is_some_and(|value| matcher.matches(value)) {
            differ(out);
        }
        return;
    }
    match (expected, actual) {
        (_, None) => differ(out),
        (toml::Value::Table(want), Some(toml::Value::Table(got))) => {
            compare_tables(want, got, path, out)
        }
        (toml::Value::Array(want), Some(toml::Value::Array(got))) => {
            for index in 0..want.len().max(got.len()) {
                let item_path = format!("{path}[{index}]");
                match want.get(index) {
                    Some(item) => compare_values(item, got.get(index), &item_path, out),
                    None => out.push(Difference {
                        path: item_path,
                        expected: "nothing".into(),
                        actual: shown(got.get(index)),
                    }),
                }
            }
        }
        (toml::Value::Integer(want), Some(toml::Value::Float(got)))
        | (toml::Value::Float(got), Some(toml::Value::Integer(want))) => {
            if (*want as f64 - got).abs() > f64::EPSILON {
                differ(out)
            }
        }
        (want, Some(got)) => {
            if want != got {
                differ(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).expect("table")
    }

    #[test]
    fn a_changed_field_is_named_by_its_path_with_both_values() {
        let expected = table("person = { address = { street = \"Абай 1\" } }");
        let actual = table("person = { address = { street = \"Абай 2\" } }");
        let differences = compare(&expected, &actual, "");
        assert_eq!(
            differences
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["person.address.street: expected \"Абай 1\", got \"Абай 2\""]
        );
    }

    #[test]
    fn missing_and_unexpected_fields_are_differences() {
        let expected = table("a = 1\nb = 2");
        let actual = table("a = 1\nc = 3");
        let paths: Vec<String> = compare(&expected, &actual, "")
            .into_iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            paths,
            ["b: expected 2, got nothing", "c: expected nothing, got 3"]
        );
    }

    #[test]
    fn matchers_accept_changing_values_of_their_shape_only() {
        let expected = table(
            "id = \"<uuid>\"\nat = \"<timestamp>\"\nn = \"<pattern:APP-\\\\d{4}>\"\nx = \"<any>\"\nd = \"<digits>\"",
        );
        let good = table(
            "id = \"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\"\nat = \"2026-12-06T20:13:29Z\"\nn = \"APP-2026\"\nx = [1]\nd = \"0042\"",
        );
        assert_eq!(compare(&expected, &good, ""), []);
        let bad = table("id = \"x\"\nat = \"yesterday\"\nn = \"APP-26\"\nd = \"4a\"");
        let paths: Vec<String> = compare(&expected, &bad, "")
            .into_iter()
            .map(|d| d.path)
            .collect();
        assert_eq!(paths, ["at", "d", "id", "n", "x"]);
    }

    #[test]
    fn list_items_are_compared_by_position() {
        let expected = table("links = [{ iin = \"1\" }, { iin = \"2\" }]");
        let actual = table("links = [{ iin = \"1\" }, { iin = \"3\" }, { iin = \"4\" }]");
        let differences: Vec<String> = compare(&expected, &actual, "")
            .into_iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            differences,
            [
                "links[1].iin: expected \"2\", got \"3\"",
                "links[2]: expected nothing, got { iin = \"4\" }"
            ]
        );
    }
}
