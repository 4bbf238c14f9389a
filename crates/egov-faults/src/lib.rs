//! Faults injected at run time into the exchanges the gateway carries, so a team can see how
//! its flows behave when a system is slow, wrong or down.
//!
//! A [`Fault`] has an id, a match (a system id, a service id, or both: every field given
//! must equal the route's), a [`FaultKind`], and optionally a limit (the next N matching
//! messages, then it is spent) and a probability (each matching message is hit with it).
//! Faults are plain serde data, the same in JSON (the gateway's admin API) and TOML
//! (scenario files):
//!
//! ```toml
//! id = "labor-slow"
//! system = "labor"
//! kind = { latency = { distribution = "uniform", min_ms = 1000, max_ms = 3000 } }
//! limit = 5
//! ```
//!
//! The command line spells the same with [`parse_duration`] and [`Latency::parse`]:
//! `3s` (fixed), `1s..3s` (uniform), `2s~500ms` (normal: mean ~ standard deviation).
//!
//! [`admin::FaultAdmin`] sets and clears them through the gateway's admin API, for
//! `egov fault` and the scenario runner alike.

pub mod admin;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use egov_core::StatusCode;
use serde::{Deserialize, Serialize};

/// Longest latency a fault may add: beyond it a test hangs rather than shows a slow system.
pub const MAX_LATENCY: Duration = Duration::from_secs(600);

/// Longest message an injected error answer carries.
pub const MAX_MESSAGE_CHARS: usize = 512;

/// A bad fault: the field that was wrong and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FaultError {
    /// The field, as a path (`kind.latency.max_ms`).
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FaultError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> FaultError {
        FaultError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// One fault to inject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Its id (1 to 64 of `A-Z a-z 0-9 - _`); the gateway makes one when it is left empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The system it hits: the route's target (for deliveries, the receiver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The service id it hits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// What it does.
    pub kind: FaultKind,
    /// How many more matching messages it hits; none means every one until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The chance, above 0 and at most 1, that a matching message is hit; none means always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// The target answers (or a delivery arrives) this much later; past the route's timeout
    /// the sender gets the gateway's timeout code.
    Latency(Latency),
    /// The target answers with this status code and message instead of its own answer.
    Error {
        /// The code the sender gets.
        #[serde(with = "status_code")]
        code: StatusCode,
        /// The message it comes with.
        #[serde(default)]
        message: String,
    },
    /// The target never answers within the route's timeout.
    Timeout,
    /// The system is down: its endpoint refuses connections, its inbox takes nothing.
    Down,
    /// Async deliveries to the system are lost on the way (and so offered again later).
    DropDeliveries,
    /// Async deliveries to the system arrive twice.
    DuplicateDeliveries,
    /// From now on, this party's certificate is treated as revoked on the matching routes.
    RevokeCertificate(Party),
}

/// Whose certificate a [`FaultKind::RevokeCertificate`] revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The system calling the route: its requests are refused.
    Sender,
    /// The route's target: its answers are refused.
    Target,
}

impl Party {
    /// Returns the name used in JSON, TOML and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Party::Sender => "sender",
            Party::Target => "target",
        }
    }
}

impl FromStr for Party {
    type Err = FaultError;

    fn from_str(text: &str) -> Result<Party, FaultError> {
        match text {
            "sender" => Ok(Party::Sender),
            "target" => Ok(Party::Target),
            other => Err(FaultError::new(
                "kind.revoke_certificate",
                format!("{other:?} is neither \"sender\" nor \"target\""),
            )),
        }
    }
}

/// How much latency a fault adds, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "distribution", rename_all = "snake_case", deny_unknown_fields)]
pub enum Latency {
    /// Always the same.
    Fixed {
        /// The delay.
        ms: u64,
    },
    /// Anywhere between the two, each as likely.
    Uniform {
        /// The least delay.
        min_ms: u64,
        /// The greatest delay.
        max_ms: u64,
    },
    /// Around a mean (a bell curve, cut at zero).
    Normal {
        /// The mean delay.
        mean_ms: u64,
        /// The standard deviation.
        stddev_ms: u64,
    },
}

impl Latency {
    /// Parses `3s` (fixed), `1s..3s` (uniform between) or `2s~500ms` (normal: mean ~ stddev).
    pub fn parse(text: &str) -> Result<Latency, FaultError> {
        let ms = |part: &str| -> Result<u64, FaultError> {
            let duration = parse_duration(part).map_err(|err| FaultError {
                field: "kind.latency".into(),
                ..err
            })?;
            Ok(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
        };
        let latency = if let Some((min, max)) = text.split_once("..") {
            Latency::Uniform {
                min_ms: ms(min)?,
                max_ms: ms(max)?,
            }
        } else if let Some((mean, stddev)) = text.split_once('~') {
            Latency::Normal {
                mean_ms: ms(mean)?,
                stddev_ms: ms(stddev)?,
            }
        } else {
            Latency::Fixed { ms: ms(text)? }
        };
        latency.check()?;
        Ok(latency)
    }

    /// Draws one delay; `roll` returns numbers in `[0, 1)`.
    pub fn sample(&self, mut roll: impl FnMut() -> f64) -> Duration {
        let ms = match *self {
            Latency::Fixed { ms } => ms as f64,
            Latency::Uniform { min_ms, max_ms } => {
                min_ms as f64 + roll() * (max_ms.saturating_sub(min_ms)) as f64
            }
            Latency::Normal { mean_ms, stddev_ms } => {
                // Box–Muller: two uniform draws make one standard normal one.
                let u1 = roll().max(f64::MIN_POSITIVE);
                let u2 = roll();
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                mean_ms as f64 + z * stddev_ms as f64
            }
        };
        Duration::from_millis(ms.max(0.0) as u64).min(MAX_LATENCY)
    }

    fn check(&self) -> Result<(), FaultError> {
        let max = u64::try_from(MAX_LATENCY.as_millis()).unwrap_or(u64::MAX);
        let too_long = |field: &str, ms: u64| {
            (ms > max).then(|| {
                FaultError::new(
                    format!("kind.latency.{field}"),
                    format!("{ms} ms is more than the {max} ms a fault may add"),
                )
            })
        };
        let error = match *self {
            Latency::Fixed { ms } => too_long("ms", ms),
            Latency::Uniform { min_ms, max_ms } if min_ms > max_ms => Some(FaultError::new(
                "kind.latency.max_ms",
                format!("{max_ms} ms is less than min_ms {min_ms} ms"),
            )),
            Latency::Uniform { max_ms, .. } => too_long("max_ms", max_ms),
            Latency::Normal { mean_ms, stddev_ms } => {
                too_long("mean_ms", mean_ms).or_else(|| too_long("stddev_ms", stddev_ms))
            }
        };
        error.map_or(Ok(()), Err)
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Latency::Fixed { ms } => write!(f, "{ms} ms"),
            Latency::Uniform { min_ms, max_ms } => write!(f, "{min_ms}..{max_ms} ms"),
            Latency::Normal { mean_ms, stddev_ms } => write!(f, "{mean_ms}~{stddev_ms} ms"),
        }
    }
}

/// Parses a duration: a number with `ms`, `s` or `m` (`250ms`, `3s`, `1.5s`, `2m`).
pub fn parse_duration(text: &str) -> Result<Duration, FaultError> {
    let text = text.trim();
    let bad = |reason: &str| FaultError::new("duration", format!("{text:?} {reason}"));
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| bad("has no unit: write 250ms, 3s or 2m"))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| bad("does not start with a number"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(bad("has an unknown unit: write ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| bad("is out of range"))
}

impl FaultKind {
    /// Returns whether it acts on a sync exchange (forwarding to the target).
    pub const fn acts_on_exchanges(&self) -> bool {
        matches!(
            self,
            FaultKind::Latency(_) | FaultKind::Error { .. } | FaultKind::Timeout | FaultKind::Down
        )
    }

    /// Returns whether it acts on an async delivery to the receiving system.
    pub const fn acts_on_deliveries(&self) -> bool {
        matches!(
            self,
            FaultKind::Latency(_)
                | FaultKind::Down
                | FaultKind::DropDeliveries
                | FaultKind::DuplicateDeliveries
        )
    }

    fn check(&self) -> Result<(), FaultError> {
        match self {
            FaultKind::Latency(latency) => latency.check(),
            FaultKind::Error { code, .. } if code.is_success() => Err(FaultError::new(
                "kind.error.code",
                format!("{code} is success; an injected error needs a refusal code"),
            )),
            FaultKind::Error { message, .. } if message.chars().count() > MAX_MESSAGE_CHARS => {
                Err(FaultError::new(
                    "kind.error.message",
                    format!("longer than {MAX_MESSAGE_CHARS} characters"),
                ))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::Latency(latency) => write!(f, "latency {latency}"),
            FaultKind::Error { code, message } if message.is_empty() => write!(f, "error {code}"),
            FaultKind::Error { code, message } => write!(f, "error {code}: {message}"),
            FaultKind::Timeout => f.write_str("timeout"),
            FaultKind::Down => f.write_str("system down"),
            FaultKind::DropDeliveries => f.write_str("deliveries dropped"),
            FaultKind::DuplicateDeliveries => f.write_str("deliveries duplicated"),
            FaultKind::RevokeCertificate(party) => {
                write!(f, "certificate of the {} revoked", party.as_str())
            }
        }
    }
}

impl Fault {
    /// Returns a fault of `kind` on every message of `system`, without an id yet.
    pub fn on_system(system: &str, kind: FaultKind) -> Fault {
        Fault {
            id: String::new(),
            system: Some(system.to_owned()),
            service: None,
            kind,
            limit: None,
            probability: None,
        }
    }

    /// Returns a fault of `kind` on every message of service `service`, without an id yet.
    pub fn on_service(service: &str, kind: FaultKind) -> Fault {
        Fault {
            system: None,
            service: Some(service.to_owned()),
            ..Fault::on_system("", kind)
        }
    }

    /// Returns it with this id.
    pub fn with_id(mut self, id: &str) -> Fault {
        self.id = id.to_owned();
        self
    }

    /// Returns it limited to the next `limit` matching messages.
    pub fn with_limit(mut self, limit: u32) -> Fault {
        self.limit = Some(limit);
        self
    }

    /// Reads a fault from JSON and checks it; an error names the field that was wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Fault, FaultError> {
        let mut reader = serde_json::Deserializer::from_slice(bytes);
        let fault: Fault = serde_path_to_error::deserialize(&mut reader).map_err(|err| {
            let path = err.path().to_string();
            let field = if path == "." {
                "fault".to_owned()
            } else {
                path
            };
            FaultError::new(field, err.into_inner().to_string())
        })?;
        fault.check()?;
        Ok(fault)
    }

    /// Checks what serde cannot: the id's characters, a match, the limit, the
    /// probability and the kind's own fields.
    pub fn check(&self) -> Result<(), FaultError> {
        if !self.id.is_empty() && !is_valid_id(&self.id) {
            return Err(FaultError::new(
                "id",
                format!(
                    "{:?} is not 1 to 64 characters of A-Z a-z 0-9 - _",
                    self.id.chars().take(80).collect::<String>()
                ),
            ));
        }
        for (field, value) in [("system", &self.system), ("service", &self.service)] {
            if let Some(value) = value
                && (value.is_empty()
                    || value.len() > 128
                    || value.chars().any(|c| c.is_whitespace() || c.is_control()))
            {
                return Err(FaultError::new(
                    field,
                    "must be 1 to 128 characters without spaces",
                ));
            }
        }
        if self.system.is_none() && self.service.is_none() {
            return Err(FaultError::new(
                "system",
                "give a system id, a service id or both: a fault hits the messages they match",
            ));
        }
        if self.limit == Some(0) {
            return Err(FaultError::new("limit", "must be at least 1"));
        }
        if let Some(probability) = self.probability
            && !(probability > 0.0 && probability <= 1.0)
        {
            return Err(FaultError::new(
                "probability",
                format!("{probability} is not above 0 and at most 1"),
            ));
        }
        self.kind.check()
    }

    /// Returns whether it hits a message to `system` on service `service`.
    pub fn matches(&self, system: &str, service: &str) -> bool {
        self.system.as_deref().is_none_or(|s| s == system)
            && self.service.as_deref().is_none_or(|s| s == service)
    }

    /// Returns whether a matching message is hit, given a roll in `[0, 1)`.
    pub fn hits(&self, roll: f64) -> bool {
        self.probability.is_none_or(|p| roll < p)
    }

    /// Describes what it matches, for lists and log lines.
    pub fn target(&self) -> String {
        match (&self.system, &self.service) {
            (Some(system), Some(service)) => format!("system {system}, service {service}"),
            (Some(system), None) => format!("system {system}"),
            (None, Some(service)) => format!("service {service}"),
            (None, None) => "nothing".to_owned(),
        }
    }
}

/// Returns whether `id` may name a fault: 1 to 64 of `A-Z a-z 0-9 - _` (it is a bucket key).
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Makes a fresh fault id, `f-` and 8 hex digits.
pub fn new_id() -> String {
    let simple = uuid::Uuid::new_v4().simple().to_string();
    format!("f-{}", &simple[..8])
}

/// Returns a random number in `[0, 1)` (from the operating system's randomness).
pub fn roll() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() as u64;
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Status codes as their wire strings (`ETRG002`).
mod status_code {
    use egov_core::StatusCode;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(code: &StatusCode, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(code.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<StatusCode, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_reads_the_same_from_json_and_toml() {
        let json = br#"{"id":"labor-slow","system":"labor","kind":{"latency":{"distribution":"uniform","min_ms":1000,"max_ms":3000}},"limit":5}"#;
        let toml_text = r#"
            id = "labor-slow"
            system = "labor"
            kind = { latency = { distribution = "uniform", min_ms = 1000, max_ms = 3000 } }
            limit = 5
        "#;
        let from_json = Fault::from_json(json).expect("valid JSON fault");
        let from_toml: Fault = toml::from_str(toml_text).expect("valid TOML fault");
        assert_eq!(from_json, from_toml);
        assert_eq!(
            from_json.kind,
            FaultKind::Latency(Latency::Uniform {
                min_ms: 1000,
                max_ms: 3000
            })
        );
    }

    #[test]
    fn an_error_fault_carries_its_status_code_as_the_wire_string() {
        let fault = Fault::on_service(
            "citizens.person.get",
            FaultKind::Error {
                code: StatusCode::DataNotFound,
                message: "no such person".into(),
            },
        );
        let json = serde_json::to_string(&fault).expect("serialises");
        assert!(json.contains(StatusCode::DataNotFound.as_str()), "{json}");
        assert_eq!(Fault::from_json(json.as_bytes()), Ok(fault));
    }

    #[test]
    fn a_bad_field_is_named_in_the_error() {
        let unknown_code = br#"{"system":"labor","kind":{"error":{"code":"NOPE","message":"x"}}}"#;
        let err = Fault::from_json(unknown_code).expect_err("unknown code");
        assert_eq!(err.field, "kind.error.code");

        let bad_probability = br#"{"system":"labor","kind":"down","probability":1.5}"#;
        assert_eq!(
            Fault::from_json(bad_probability)
                .expect_err("probability above 1")
                .field,
            "probability"
        );

        let no_match = br#"{"kind":"timeout"}"#;
        assert_eq!(
            Fault::from_json(no_match).expect_err("no match").field,
            "system"
        );

        let bad_id = br#"{"id":"a b","system":"labor","kind":"timeout"}"#;
        assert_eq!(Fault::from_json(bad_id).expect_err("bad id").field, "id");

        let success = br#"{"system":"labor","kind":{"error":{"code":"SCSS001"}}}"#;
        assert_eq!(
            Fault::from_json(success).expect_err("success").field,
            "kind.error.code"
        );

        let zero_limit = br#"{"system":"labor","kind":"down","limit":0}"#;
        assert_eq!(
            Fault::from_json(zero_limit).expect_err("zero limit").field,
            "limit"
        );
    }

    #[test]
    fn latency_is_written_fixed_uniform_or_normal_on_the_command_line() {
        assert_eq!(Latency::parse("3s"), Ok(Latency::Fixed { ms: 3000 }));
        assert_eq!(
            Latency::parse("250ms..1.5s"),
            Ok(Latency::Uniform {
                min_ms: 250,
                max_ms: 1500
            })
        );
        assert_eq!(
            Latency::parse("2s~500ms"),
            Ok(Latency::Normal {
                mean_ms: 2000,
                stddev_ms: 500
            })
        );
        assert_eq!(
            Latency::parse("3s..1s").expect_err("reversed").field,
            "kind.latency.max_ms"
        );
        assert_eq!(
            Latency::parse("3 seconds").expect_err("bad unit").field,
            "kind.latency"
        );
    }

    #[test]
    fn sampled_latency_stays_in_its_distribution() {
        let uniform = Latency::Uniform {
            min_ms: 100,
            max_ms: 200,
        };
        for _ in 0..100 {
            let drawn = uniform.sample(roll);
            assert!(
                (Duration::from_millis(100)..=Duration::from_millis(200)).contains(&drawn),
                "{drawn:?}"
            );
        }
        // u1 = u2 = 0.5 draws z = -1.18: far below a 10 ms mean with a 1 s deviation.
        let mut low = || 0.5;
        assert_eq!(
            Latency::Normal {
                mean_ms: 10,
                stddev_ms: 1000
            }
            .sample(&mut low),
            Duration::ZERO,
            "a normal draw below zero is cut at zero"
        );
    }

    #[test]
    fn a_fault_matches_every_field_it_names() {
        let both = Fault {
            service: Some("labor.apply".into()),
            ..Fault::on_system("labor", FaultKind::Down)
        };
        assert!(both.matches("labor", "labor.apply"));
        assert!(!both.matches("labor", "labor.result"));
        assert!(!both.matches("esobes", "labor.apply"));
        let system = Fault::on_system("labor", FaultKind::Down);
        assert!(system.matches("labor", "labor.result"));
    }

    #[test]
    fn probability_decides_on_the_roll() {
        let fault = Fault {
            probability: Some(0.25),
            ..Fault::on_system("labor", FaultKind::Timeout)
        };
        assert!(fault.hits(0.1));
        assert!(!fault.hits(0.5));
        assert!(Fault::on_system("labor", FaultKind::Timeout).hits(0.99));
    }

    #[test]
    fn rolls_lie_between_zero_and_one() {
        for _ in 0..1000 {
            assert!((0.0..1.0).contains(&roll()));
        }
    }
}
