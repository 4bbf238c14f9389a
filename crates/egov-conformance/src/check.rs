//! One check of a contract: the call, its input, and what the answer must be.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use egov_core::StatusCode;
use prost::Message;

/// How long a system may take to answer one call unless a check says otherwise: the local
/// registry's route timeout, so a slower system would time out behind the gateway.
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(5);

/// Judges an answer's payload: the list of what is missing or malformed, empty when it conforms.
type ShapeFn = Arc<dyn Fn(&[u8]) -> Vec<String> + Send + Sync>;

/// What an answer must be.
#[derive(Clone)]
pub enum Expect {
    /// A successful answer (`SCSS001`) of this payload type whose fields pass the shape.
    Answer {
        /// The answer's payload type URL.
        payload_type: String,
        /// The answer's required fields.
        shape: ShapeFn,
    },
    /// A signed refusal (`egov.v1.Fault`) with this code and a reason.
    Refusal(StatusCode),
}

impl Expect {
    /// The status code the answer must carry.
    pub fn code(&self) -> StatusCode {
        match self {
            Expect::Answer { .. } => StatusCode::Success,
            Expect::Refusal(code) => *code,
        }
    }
}

impl fmt::Debug for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Answer { payload_type, .. } => write!(f, "Answer({payload_type})"),
            Expect::Refusal(code) => write!(f, "Refusal({code})"),
        }
    }
}

/// What the kit does to a request after signing it, to see it refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Sent as signed.
    None,
    /// Sent without its signature.
    Unsigned,
    /// Its payload changed after signing.
    PayloadChanged,
    /// Sent twice with the same message id; the second sending is judged.
    SentTwice,
}

/// One call of a system's contract with one input, and the answer it must get.
#[derive(Debug, Clone)]
pub struct Check {
    /// What the check establishes, e.g. "a known IIN is answered with the person's record".
    pub name: String,
    /// The catalogue service id called, as the envelope's header names it.
    pub service_id: String,
    /// The payload type URL the request's header names.
    pub payload_type: String,
    /// The encoded request payload.
    pub payload: Vec<u8>,
    /// What the answer must be.
    pub expect: Expect,
    /// The longest the system may take to answer.
    pub within: Duration,
    /// What is done to the signed request before it is sent.
    pub tamper: Tamper,
}

/// A call of a contract before its expected answer is said: [`Check::call`], then
/// [`Call::answered_with`] or [`Call::refused_with`].
#[derive(Debug, Clone)]
pub struct Call {
    name: String,
    service_id: String,
    payload_type: String,
    payload: Vec<u8>,
}

impl Call {
    /// Expects a successful answer of type `A` whose fields `shape` accepts.
    pub fn answered_with<A: Message + prost::Name + Default>(
        self,
        shape: impl Fn(&A, &mut Shape) + Send + Sync + 'static,
    ) -> Check {
        self.expecting(Expect::Answer {
            payload_type: A::type_url(),
            shape: Arc::new(move |bytes: &[u8]| match A::decode(bytes) {
                Ok(answer) => {
                    let mut judged = Shape::default();
                    shape(&answer, &mut judged);
                    judged.problems
                }
                Err(error) => vec![format!(
                    "the payload is not a valid {}: {error}",
                    A::full_name()
                )],
            }),
        })
    }

    /// Expects a signed refusal with `code` (a gateway's own refusal, for the gateway's contract).
    pub fn refused_with(self, code: StatusCode) -> Check {
        self.expecting(Expect::Refusal(code))
    }

    fn expecting(self, expect: Expect) -> Check {
        Check {
            name: self.name,
            service_id: self.service_id,
            payload_type: self.payload_type,
            payload: self.payload,
            expect,
            within: DEFAULT_WITHIN,
            tamper: Tamper::None,
        }
    }
}

impl Check {
    /// A call of `service_id` with `request` as its payload; its answer is said next.
    pub fn call<M: Message + prost::Name>(
        service_id: &str,
        name: impl Into<String>,
        request: &M,
    ) -> Call {
        Call {
            name: name.into(),
            service_id: service_id.to_owned(),
            payload_type: M::type_url(),
            payload: request.encode_to_vec(),
        }
    }

    /// Tampers with the signed request before sending it.
    pub fn tampered(mut self, tamper: Tamper) -> Check {
        self.tamper = tamper;
        self
    }
}

/// The required fields of an answer: what is missing or malformed, by field path.
#[derive(Debug, Default)]
pub struct Shape {
    problems: Vec<String>,
}

impl Shape {
    /// Requires `present`, naming the field `path` when it is not.
    pub fn present(&mut self, path: &str, present: bool) -> &mut Shape {
        if !present {
            self.problems.push(format!("missing field {path}"));
        }
        self
    }

    /// Requires a non-empty string field.
    pub fn text(&mut self, path: &str, value: &str) -> &mut Shape {
        self.present(path, !value.is_empty())
    }

    /// Requires `value` to equal `expected`, naming both when it does not.
    pub fn equals<T: PartialEq + fmt::Debug>(
        &mut self,
        path: &str,
        value: T,
        expected: T,
    ) -> &mut Shape {
        if value != expected {
            self.problems
                .push(format!("field {path} is {value:?}, expected {expected:?}"));
        }
        self
    }

    /// Requires `ok`, reporting `problem` (a malformed field) when it does not hold.
    pub fn holds(&mut self, ok: bool, problem: impl FnOnce() -> String) -> &mut Shape {
        if !ok {
            self.problems.push(problem());
        }
        self
    }

    /// Requires a well-formed IIN in `path`.
    pub fn iin(&mut self, path: &str, value: &str) -> &mut Shape {
        if value.is_empty() {
            return self.present(path, false);
        }
        match egov_core::Iin::parse(value) {
            Ok(_) => self,
            Err(error) => self.holds(false, || {
                format!("field {path} is not a well-formed IIN ({value:?}: {error})")
            }),
        }
    }

    /// Requires a well-formed BIN in `path`.
    pub fn bin(&mut self, path: &str, value: &str) -> &mut Shape {
        if value.is_empty() {
            return self.present(path, false);
        }
        match egov_core::Bin::parse(value) {
            Ok(_) => self,
            Err(error) => self.holds(false, || {
                format!("field {path} is not a well-formed BIN ({value:?}: {error})")
            }),
        }
    }

    /// Requires a date in `path` that is a real calendar date.
    pub fn date(&mut self, path: &str, value: Option<&egov_proto::v1::Date>) -> &mut Shape {
        match value {
            None => self.present(path, false),
            Some(date) => {
                let real = u8::try_from(date.month)
                    .ok()
                    .and_then(|month| time::Month::try_from(month).ok())
                    .zip(u8::try_from(date.day).ok())
                    .is_some_and(|(month, day)| {
                        time::Date::from_calendar_date(date.year, month, day).is_ok()
                    });
                self.holds(real, || {
                    format!(
                        "field {path} is not a calendar date ({}-{}-{})",
                        date.year, date.month, date.day
                    )
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use egov_proto::v1::Date;

    use super::*;

    fn problems(judge: impl FnOnce(&mut Shape)) -> Vec<String> {
        let mut shape = Shape::default();
        judge(&mut shape);
        shape.problems
    }

    #[test]
    fn an_empty_required_field_is_named_missing() {
        assert_eq!(
            problems(|shape| {
                shape.text("person.surname", "");
            }),
            ["missing field person.surname"]
        );
    }

    #[test]
    fn a_malformed_iin_is_named_with_its_value() {
        let found = problems(|shape| {
            shape.iin("person.iin", "880412399993");
        });
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("field person.iin is not a well-formed IIN (\"880412399993\""),
            "{found:?}"
        );
    }

    #[test]
    fn a_date_that_is_not_in_the_calendar_is_malformed() {
        let february_30 = Date {
            year: 2024,
            month: 2,
            day: 30,
        };
        assert_eq!(
            problems(|shape| {
                shape.date("person.birth_date", Some(&february_30));
            }),
            ["field person.birth_date is not a calendar date (2024-2-30)"]
        );
        assert_eq!(
            problems(|shape| {
                shape.date("person.birth_date", None);
            }),
            ["missing field person.birth_date"]
        );
    }

    #[test]
    fn an_answer_that_does_not_decode_is_named_by_its_type() {
        let check = Check::call(
            "citizens.person.get",
            "known",
            &egov_proto::v1::GetPersonRequest::default(),
        )
        .answered_with(|_: &egov_proto::v1::GetPersonResponse, _| {});
        let Expect::Answer { shape, .. } = check.expect else {
            panic!("an answer is expected");
        };
        let found = shape(&[0xff, 0xff]);
        assert!(
            found[0].starts_with("the payload is not a valid egov.v1.GetPersonResponse"),
            "{found:?}"
        );
    }
}
