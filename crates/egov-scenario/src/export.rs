//! A recorded exchange, as the gateway's log returns it (`GatewayLog.GetMessages` by correlation
//! id), written as a scenario: one step per request the gateway admitted, its payload as
//! readable fields, the answer as the expectation. Values that change on every run (message
//! ids, times, generated numbers) are written as matchers; the rest as recorded.

use egov_proto::v1::get_messages_request::Key;
use egov_proto::v1::{Header, LoggedMessage};
use prost::Message as _;

use crate::compare::{Matcher, is_timestamp, is_uuid};
use crate::file::{Expect, Scenario, Send, Step};
use crate::live_log::{LiveLog, LiveLogError};
use crate::payload::{Contracts, PayloadError};

/// Why an exchange could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The log has no hop with this correlation id.
    #[error("no exchange with correlation id {0:?} in the gateway's log")]
    UnknownExchange(String),
    /// The exchange's route did not record it: the log kept only digests of its bodies.
    #[error(
        "exchange {correlation_id:?} was not recorded: the log kept only the digest of the {what} \
         on route {service_id:?}; set `record = true` on the route in the gateway's registry and send it again"
    )]
    NotRecorded {
        /// The correlation id.
        correlation_id: String,
        /// The route.
        service_id: String,
        /// `request` or `answer`.
        what: &'static str,
    },
    /// The exchange went by the async channel, which the runner does not replay yet.
    #[error(
        "exchange {correlation_id:?} went by the async channel (service {service_id:?}); scenarios replay sync exchanges only so far"
    )]
    Async {
        /// The correlation id.
        correlation_id: String,
        /// The route.
        service_id: String,
    },
    /// A recorded envelope's bytes are not the ones its signatures cover: the log was altered.
    #[error(
        "recorded message {message_id:?} does not match its signatures: {reason}; the recording cannot be trusted"
    )]
    NotAsSigned {
        /// The message id.
        message_id: String,
        /// What does not match.
        reason: String,
    },
    /// A logged header did not decode.
    #[error("logged header of message {message_id:?} does not decode: {reason}")]
    Header {
        /// The message id.
        message_id: String,
        /// The decoder's message.
        reason: String,
    },
    /// The gateway could not be reached.
    #[error("cannot reach the gateway at {endpoint}: {reason}")]
    Unreachable {
        /// The gateway's gRPC URL.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The gateway refused to hand out its log: no operator signed in, or not one it admits.
    #[error("the gateway refused to read its log: {0} (pass an operator's bearer token)")]
    NotAnOperator(String),
    /// The gateway failed to answer the query.
    #[error("the gateway's log answered {code:?}: {message}")]
    Log {
        /// The gRPC code.
        code: String,
        /// The gateway's reason.
        message: String,
    },
    /// A logged body did not decode as its type.
    #[error("message {message_id:?}: {source}")]
    Payload {
        /// The message id.
        message_id: String,
        /// Why.
        source: PayloadError,
    },
}

const INBOUND: &str = "INBOUND";

/// Reads one exchange from the gateway's log (`GatewayLog.GetMessages`), asked as the operator
/// whose bearer `token` it is, and turns it into a scenario.
pub async fn export(
    gateway: &str,
    correlation_id: &str,
    token: &str,
    contracts: &Contracts,
) -> Result<Scenario, ExportError> {
    let unreachable = |reason: String| ExportError::Unreachable {
        endpoint: gateway.to_owned(),
        reason,
    };
    let log = LiveLog::new(gateway, token).map_err(|err| match err {
        LiveLogError::BadToken => {
            ExportError::NotAnOperator("the operator token is not ASCII".into())
        }
        LiveLogError::BadUrl { reason, .. } => unreachable(format!("not a gateway URL: {reason}")),
        other => unreachable(other.to_string()),
    })?;
    let messages = log
        .messages(Key::CorrelationId(correlation_id.to_owned()))
        .await
        .map_err(|err| match err {
            LiveLogError::Refused {
                code: tonic::Code::Unauthenticated | tonic::Code::PermissionDenied,
                message,
                ..
            } => ExportError::NotAnOperator(message),
            LiveLogError::Refused { code, message, .. } => ExportError::Log {
                code: format!("{code:?}"),
                message,
            },
            LiveLogError::Unreachable { reason, .. } => unreachable(reason),
            other => unreachable(other.to_string()),
        })?;
    scenario_of_exchange(correlation_id, &messages, contracts)
}

/// Turns the logged hops of one exchange (oldest first) into a scenario.
pub fn scenario_of_exchange(
    correlation_id: &str,
    messages: &[LoggedMessage],
    contracts: &Contracts,
) -> Result<Scenario, ExportError> {
    if messages.is_empty() {
        return Err(ExportError::UnknownExchange(correlation_id.to_owned()));
    }
    let requests = messages
        .iter()
        .filter(|hop| hop.direction == INBOUND && hop.message_type == "REQUEST");
    let mut steps = Vec::new();
    for request in requests {
        steps.push(toml::Spanned::new(
            0..0,
            step_of(correlation_id, request, messages, contracts)?,
        ));
    }
    if steps.is_empty() {
        return Err(ExportError::UnknownExchange(correlation_id.to_owned()));
    }
    let first = messages
        .first()
        .map(|hop| hop.service_id.clone())
        .unwrap_or_default();
    Ok(Scenario {
        name: format!("{first}, as recorded"),
        description: Some(format!(
            "Recorded by the gateway, exchange {correlation_id}; exported by `egov record export`."
        )),
        faults: Vec::new(),
        steps,
    })
}

/// Checks that a recorded envelope is the one that was signed: it has signatures, and each
/// covers exactly the logged header and body bytes (the gateway verified the signatures
/// themselves when it admitted the message).
fn check_as_signed(hop: &LoggedMessage) -> Result<(), ExportError> {
    let fail = |reason: String| ExportError::NotAsSigned {
        message_id: hop.message_id.clone(),
        reason,
    };
    if hop.signatures.is_empty() {
        return Err(fail("it was logged without its signatures".into()));
    }
    let header = egov_core::envelope::sha256(&hop.header);
    let body = egov_core::envelope::sha256(&hop.body);
    for (index, signature) in hop.signatures.iter().enumerate() {
        if signature.header_sha256[..] != header {
            return Err(fail(format!(
                "signature {} covers another header",
                index + 1
            )));
        }
        if signature.payload_sha256[..] != body {
            return Err(fail(format!("signature {} covers another body", index + 1)));
        }
    }
    Ok(())
}

fn header_of(hop: &LoggedMessage) -> Result<Header, ExportError> {
    Header::decode(&hop.header[..]).map_err(|err| ExportError::Header {
        message_id: hop.message_id.clone(),
        reason: err.to_string(),
    })
}

fn step_of(
    correlation_id: &str,
    request: &LoggedMessage,
    messages: &[LoggedMessage],
    contracts: &Contracts,
) -> Result<Step, ExportError> {
    let not_recorded = |what| ExportError::NotRecorded {
        correlation_id: correlation_id.to_owned(),
        service_id: request.service_id.clone(),
        what,
    };
    let payload_error = |hop: &LoggedMessage| {
        let message_id = hop.message_id.clone();
        move |source| ExportError::Payload { message_id, source }
    };
    if request.channel == "ASYNC" {
        return Err(ExportError::Async {
            correlation_id: correlation_id.to_owned(),
            service_id: request.service_id.clone(),
        });
    }
    if !request.body_stored {
        return Err(not_recorded("request"));
    }
    check_as_signed(request)?;
    let header = header_of(request)?;
    let payload = contracts
        .decode(&header.payload_type, &request.body)
        .map_err(payload_error(request))?;
    let (represented_iin, represented_bin) = match header.represented_party.and_then(|p| p.id) {
        Some(egov_proto::v1::party::Id::Iin(iin)) => (Some(iin), None),
        Some(egov_proto::v1::party::Id::Bin(bin)) => (None, Some(bin)),
        None => (None, None),
    };
    let send = Send {
        sender: request.sender.clone(),
        service: request.service_id.clone(),
        receiver: request.receiver.clone(),
        user_iin: (!header.user_iin.is_empty()).then_some(header.user_iin),
        signed_by: None,
        represented_iin,
        represented_bin,
        payload_type: crate::payload::type_name(&header.payload_type).to_owned(),
        payload: toml::Spanned::new(0..0, payload.clone()),
    };

    let answer = messages.iter().find(|hop| {
        hop.direction == INBOUND
            && hop.message_type == "RESPONSE"
            && hop.in_reply_to == request.message_id
    });
    let expect = match answer {
        Some(answer) => {
            if !answer.body_stored {
                return Err(not_recorded("answer"));
            }
            check_as_signed(answer)?;
            let answer_header = header_of(answer)?;
            let mut fields = contracts
                .decode(&answer_header.payload_type, &answer.body)
                .map_err(payload_error(answer))?;
            let status =
                if crate::payload::type_name(&answer_header.payload_type) == "egov.v1.Fault" {
                    fields
                        .get("code")
                        .and_then(toml::Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                } else {
                    egov_core::StatusCode::Success.as_str().to_owned()
                };
            let request_values = leaf_texts(&payload);
            mark_volatile(&mut fields, &request_values);
            let mut header_fields = contracts
                .decode("egov.v1.Header", &answer.header)
                .map_err(payload_error(answer))?;
            // The payload type is `expect.type`, the rest of the header is compared as below.
            header_fields.remove("payload_type");
            for key in ["message_id", "correlation_id", "in_reply_to"] {
                if let Some(value) = header_fields.get_mut(key) {
                    *value = matcher_for_id(value).into();
                }
            }
            for key in ["message_time", "session_id"] {
                if header_fields.contains_key(key) {
                    header_fields.insert(key.to_owned(), volatile_text(key));
                }
            }
            Expect {
                status,
                payload_type: Some(
                    crate::payload::type_name(&answer_header.payload_type).to_owned(),
                ),
                header: header_fields,
                payload: fields,
            }
        }
        // No answer came back: the gateway refused on the way (timeout, unreachable target).
        None => {
            let refusal = messages
                .iter()
                .filter(|hop| hop.message_id == request.message_id)
                .filter_map(|hop| hop.status.as_ref())
                .map(|status| status.code.clone())
                .find(|code| code != egov_core::StatusCode::Success.as_str())
                .unwrap_or_else(|| egov_core::StatusCode::Success.as_str().to_owned());
            Expect {
                status: refusal,
                ..Expect::default()
            }
        }
    };
    let name = format!("{} asks {} ({})", send.sender, send.receiver, send.service);
    Ok(Step::sending(Some(name), send, expect))
}

fn volatile_text(key: &str) -> toml::Value {
    match key {
        "message_time" => Matcher::Timestamp.text().into(),
        _ => Matcher::Any.text().into(),
    }
}

fn matcher_for_id(value: &toml::Value) -> String {
    match value.as_str() {
        Some(text) if is_uuid(text) => Matcher::Uuid.text(),
        _ => Matcher::Any.text(),
    }
}

/// Every text and number in the request, as text: a value the answer repeats from the request
/// is stable, whatever its field is called.
fn leaf_texts(table: &toml::Table) -> Vec<String> {
    let mut texts = Vec::new();
    fn walk(value: &toml::Value, texts: &mut Vec<String>) {
        match value {
            toml::Value::String(text) => texts.push(text.clone()),
            toml::Value::Integer(number) => texts.push(number.to_string()),
            toml::Value::Array(items) => items.iter().for_each(|item| walk(item, texts)),
            toml::Value::Table(table) => table.values().for_each(|item| walk(item, texts)),
            _ => {}
        }
    }
    table.values().for_each(|value| walk(value, &mut texts));
    texts
}

/// Fields in which the stack's systems give a new number or id to what a request creates (a
/// registration, a referral, a case, an application); the same field names in other contracts
/// hold stable data only when the request gave the value.
const GENERATED_FIELDS: &[&str] = &[
    "registration_number",
    "referral_number",
    "application_number",
    "application_id",
    "case_id",
    "serial",
];

/// Whether a field's name says it holds a number or id the answering system generates.
fn names_a_generated_value(key: &str) -> bool {
    GENERATED_FIELDS.contains(&key)
}

/// Replaces the answer's volatile values by matchers: UUIDs, RFC 3339 times, and the numbers
/// and ids of [`GENERATED_FIELDS`] the request did not give. A document's number or a date of
/// birth stays a value: a recording of a look-up must see the same data again.
fn mark_volatile(table: &mut toml::Table, request_values: &[String]) {
    for (key, value) in table.iter_mut() {
        mark_value(key, value, request_values);
    }
}

fn mark_value(key: &str, value: &mut toml::Value, request_values: &[String]) {
    match value {
        toml::Value::Table(table) => mark_volatile(table, request_values),
        toml::Value::Array(items) => items
            .iter_mut()
            .for_each(|item| mark_value(key, item, request_values)),
        toml::Value::String(text) => {
            if request_values.contains(text) {
                return;
            }
            if is_uuid(text) {
                *value = Matcher::Uuid.text().into();
            } else if is_timestamp(text) {
                *value = Matcher::Timestamp.text().into();
            } else if names_a_generated_value(key) {
                *value = Matcher::Pattern(pattern_of(text)).text().into();
            }
        }
        toml::Value::Integer(number)
            if names_a_generated_value(key) && !request_values.contains(&number.to_string()) =>
        {
            *value = Matcher::Digits.text().into();
        }
        _ => {}
    }
}

/// A pattern of the same shape as a generated value: each run of digits becomes `\d{n}`,
/// the rest stays as written (`APP-2026-000123` → `APP-\d{4}-\d{6}`).
pub fn pattern_of(text: &str) -> String {
    let mut pattern = String::new();
    let mut digits = 0;
    let mut literal = String::new();
    let flush_digits = |pattern: &mut String, digits: &mut usize| {
        if *digits > 0 {
            pattern.push_str(&format!("\\d{{{digits}}}"));
            *digits = 0;
        }
    };
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            if !literal.is_empty() {
                pattern.push_str(&regex::escape(&literal));
                literal.clear();
            }
            digits += 1;
        } else {
            flush_digits(&mut pattern, &mut digits);
            literal.push(ch);
        }
    }
    flush_digits(&mut pattern, &mut digits);
    pattern.push_str(&regex::escape(&literal));
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_number_becomes_a_pattern_of_its_shape() {
        assert_eq!(pattern_of("APP-2026-000123"), "APP\\-\\d{4}\\-\\d{6}");
        let matcher = Matcher::Pattern(pattern_of("APP-2026-000123"));
        assert!(matcher.matches(&"APP-2027-000999".into()));
        assert!(!matcher.matches(&"APP-27-000999".into()));
    }

    #[test]
    fn an_answer_keeps_stable_values_and_marks_changing_ones() {
        let mut answer: toml::Table = toml::from_str(
            r#"
            iin = "950703300125"
            application_id = "A-17"
            documents = [{ number = "041234567" }]
            decided_at = "2026-12-06T20:13:29Z"
            birth_date = { year = 1995, month = 7, day = 3 }
            trace = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
            "#,
        )
        .expect("toml");
        mark_volatile(&mut answer, &["950703300125".to_owned()]);
        let text = |key: &str| {
            answer
                .get(key)
                .and_then(toml::Value::as_str)
                .unwrap_or_default()
        };
        assert_eq!(text("iin"), "950703300125");
        assert_eq!(text("application_id"), "<pattern:A\\-\\d{2}>");
        assert_eq!(text("decided_at"), "<timestamp>");
        assert_eq!(text("trace"), "<uuid>");
        assert_eq!(
            answer
                .get("documents")
                .map(ToString::to_string)
                .unwrap_or_default(),
            "[{ number = \"041234567\" }]"
        );
        assert_eq!(
            answer
                .get("birth_date")
                .map(ToString::to_string)
                .unwrap_or_default(),
            "{ day = 3, month = 7, year = 1995 }"
        );
    }

    fn recorded_request(body: &[u8], signed_body: &[u8]) -> LoggedMessage {
        let header = Header {
            message_id: "m1".into(),
            correlation_id: "m1".into(),
            payload_type: "/egov.v1.GetPersonRequest".into(),
            ..Header::default()
        }
        .encode_to_vec();
        LoggedMessage {
            message_id: "m1".into(),
            correlation_id: "m1".into(),
            service_id: "citizens.person.get".into(),
            sender: "portal".into(),
            receiver: "citizens".into(),
            message_type: "REQUEST".into(),
            direction: INBOUND.into(),
            channel: "SYNC".into(),
            signatures: vec![egov_proto::v1::Signature {
                header_sha256: egov_core::envelope::sha256(&header).to_vec().into(),
                payload_sha256: egov_core::envelope::sha256(signed_body).to_vec().into(),
                ..Default::default()
            }],
            header,
            body: body.to_vec(),
            body_stored: true,
            ..LoggedMessage::default()
        }
    }

    #[test]
    fn a_recording_whose_body_is_not_the_signed_one_is_refused() {
        let contracts = Contracts::egov().expect("contracts");
        let signed = egov_proto::v1::GetPersonRequest {
            iin: "950703390123".into(),
        }
        .encode_to_vec();
        let altered = egov_proto::v1::GetPersonRequest {
            iin: "950703390124".into(),
        }
        .encode_to_vec();
        let err = scenario_of_exchange("m1", &[recorded_request(&altered, &signed)], &contracts)
            .expect_err("altered");
        assert!(err.to_string().contains("covers another body"), "{err}");
        // The same recording, unaltered, exports (here without an answer logged).
        let scenario =
            scenario_of_exchange("m1", &[recorded_request(&signed, &signed)], &contracts)
                .expect("exports");
        assert_eq!(scenario.steps.len(), 1);
    }

    #[test]
    fn an_async_exchange_is_not_exported_as_a_sync_step() {
        let contracts = Contracts::egov().expect("contracts");
        let body = egov_proto::v1::GetPersonRequest {
            iin: "950703390123".into(),
        }
        .encode_to_vec();
        let request = LoggedMessage {
            channel: "ASYNC".into(),
            ..recorded_request(&body, &body)
        };
        let err = scenario_of_exchange("m1", &[request], &contracts).expect_err("async");
        assert!(matches!(err, ExportError::Async { .. }), "{err}");
    }

    #[test]
    fn export_of_an_unknown_correlation_id_names_it() {
        let contracts = Contracts::egov().expect("contracts");
        let err = scenario_of_exchange("no-such-exchange", &[], &contracts).expect_err("unknown");
        assert!(err.to_string().contains("\"no-such-exchange\""), "{err}");
    }
}
