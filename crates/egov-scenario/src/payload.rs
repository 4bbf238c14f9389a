//! Payloads as readable fields: a protobuf payload decodes to a TOML table (the protobuf JSON
//! mapping with the `.proto` field names: enums by name, timestamps as RFC 3339 text, 64-bit
//! integers as numbers, default values left out), and a table encodes back to the bytes.

use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};

/// Returns the type URL `Header.payload_type` carries for a message's full name, as the stack's
/// systems write it (`prost::Name::type_url`: no domain, `/egov.v1.GetPersonRequest`).
pub fn type_url(full_name: &str) -> String {
    format!("/{}", type_name(full_name))
}

/// Why a payload could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The descriptors compiled into `egov-proto` do not load (a build fault).
    #[error("the contracts' descriptors do not load: {0}")]
    Descriptors(String),
    /// No message of the contracts has this name.
    #[error("unknown payload type {0:?}: no message of proto/egov/v1 has this name")]
    UnknownType(String),
    /// The fields do not fit the message type.
    #[error("fields do not fit {type_name}: {message}")]
    Fields {
        /// The message type.
        type_name: String,
        /// What did not fit, naming the field.
        message: String,
    },
    /// The bytes are not a message of this type.
    #[error("bytes are not a {type_name}: {message}")]
    Bytes {
        /// The message type.
        type_name: String,
        /// The decoder's message.
        message: String,
    },
}

/// The message types of `proto/egov/v1`, to read and write payloads by their type name.
#[derive(Debug, Clone)]
pub struct Contracts {
    pool: DescriptorPool,
}

/// Returns the full message name of a type URL (whatever its domain) or of a name
/// (`egov.v1.GetPersonRequest`).
pub fn type_name(url_or_name: &str) -> &str {
    url_or_name
        .rsplit_once('/')
        .map_or(url_or_name, |(_, name)| name)
}

impl Contracts {
    /// Loads the descriptors `egov-proto` compiled from `proto/egov/v1` at build time.
    pub fn egov() -> Result<Contracts, PayloadError> {
        DescriptorPool::decode(egov_proto::FILE_DESCRIPTOR_SET)
            .map(|pool| Contracts { pool })
            .map_err(|err| PayloadError::Descriptors(err.to_string()))
    }

    /// Returns the message type named by a full name or a type URL.
    pub fn message(&self, url_or_name: &str) -> Result<MessageDescriptor, PayloadError> {
        let name = type_name(url_or_name);
        self.pool
            .get_message_by_name(name)
            .ok_or_else(|| PayloadError::UnknownType(name.to_owned()))
    }

    /// Encodes readable fields as a payload of the named type; an unknown field is an error.
    pub fn encode(&self, url_or_name: &str, fields: &toml::Table) -> Result<Vec<u8>, PayloadError> {
        let descriptor = self.message(url_or_name)?;
        let json = table_to_json(fields);
        let message = DynamicMessage::deserialize(descriptor.clone(), json).map_err(|err| {
            PayloadError::Fields {
                type_name: descriptor.full_name().to_owned(),
                message: err.to_string(),
            }
        })?;
        Ok(message.encode_to_vec())
    }

    /// Decodes a payload of the named type as readable fields.
    pub fn decode(&self, url_or_name: &str, bytes: &[u8]) -> Result<toml::Table, PayloadError> {
        let descriptor = self.message(url_or_name)?;
        let bytes_error = |message: String| PayloadError::Bytes {
            type_name: descriptor.full_name().to_owned(),
            message,
        };
        let message = DynamicMessage::decode(descriptor.clone(), bytes)
            .map_err(|err| bytes_error(err.to_string()))?;
        let options = SerializeOptions::new()
            .use_proto_field_name(true)
            .stringify_64_bit_integers(false);
        let json = message
            .serialize_with_options(serde_json::value::Serializer, &options)
            .map_err(|err| bytes_error(err.to_string()))?;
        match json_to_toml(json) {
            Some(toml::Value::Table(table)) => Ok(table),
            _ => Ok(toml::Table::new()),
        }
    }
}

/// Converts TOML to the JSON the protobuf JSON mapping reads (a date-time becomes its text).
pub fn table_to_json(table: &toml::Table) -> serde_json::Value {
    serde_json::Value::Object(
        table
            .iter()
            .map(|(key, value)| (key.clone(), toml_to_json(value)))
            .collect(),
    )
}

fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(text) => serde_json::Value::String(text.clone()),
        toml::Value::Integer(number) => serde_json::Value::from(*number),
        toml::Value::Float(number) => serde_json::Value::from(*number),
        toml::Value::Boolean(flag) => serde_json::Value::Bool(*flag),
        toml::Value::Datetime(at) => serde_json::Value::String(at.to_string()),
        toml::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(toml_to_json).collect())
        }
        toml::Value::Table(table) => table_to_json(table),
    }
}

/// Converts JSON to TOML, which has no null: a null (an absent value) is left out.
fn json_to_toml(value: serde_json::Value) -> Option<toml::Value> {
    Some(match value {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(flag) => toml::Value::Boolean(flag),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(integer) => toml::Value::Integer(integer),
            // Above i64 (a large uint64) TOML keeps the digits as text.
            None if number.is_u64() => toml::Value::String(number.to_string()),
            None => toml::Value::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(text) => toml::Value::String(text),
        serde_json::Value::Array(items) => {
            toml::Value::Array(items.into_iter().filter_map(json_to_toml).collect())
        }
        serde_json::Value::Object(fields) => toml::Value::Table(
            fields
                .into_iter()
                .filter_map(|(key, value)| json_to_toml(value).map(|value| (key, value)))
                .collect(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_proto::v1::{GetPersonRequest, Header, MessageType};

    fn contracts() -> Contracts {
        Contracts::egov().expect("descriptors")
    }

    #[test]
    fn a_payload_reads_as_its_fields_and_writes_back_to_the_same_bytes() {
        let request = GetPersonRequest {
            iin: "950703300125".into(),
        };
        let bytes = request.encode_to_vec();
        let fields = contracts()
            .decode("type.googleapis.com/egov.v1.GetPersonRequest", &bytes)
            .expect("decodes");
        assert_eq!(
            fields.get("iin").and_then(|v| v.as_str()),
            Some("950703300125")
        );
        let again = contracts()
            .encode("egov.v1.GetPersonRequest", &fields)
            .expect("encodes");
        assert_eq!(again, bytes);
    }

    #[test]
    fn enums_read_by_name_and_timestamps_as_text() {
        let header = Header {
            message_type: MessageType::Response as i32,
            message_time: Some(prost_types::Timestamp {
                seconds: 1_800_000_000,
                nanos: 0,
            }),
            ..Header::default()
        };
        let fields = contracts()
            .decode("egov.v1.Header", &header.encode_to_vec())
            .expect("decodes");
        assert_eq!(
            fields.get("message_type").and_then(|v| v.as_str()),
            Some("MESSAGE_TYPE_RESPONSE")
        );
        assert_eq!(
            fields.get("message_time").and_then(|v| v.as_str()),
            Some("2027-01-15T08:00:00Z")
        );
    }

    #[test]
    fn a_field_the_type_does_not_have_is_named() {
        let mut fields = toml::Table::new();
        fields.insert("iinn".into(), "950703300125".into());
        let err = contracts()
            .encode("egov.v1.GetPersonRequest", &fields)
            .expect_err("unknown field");
        assert!(err.to_string().contains("iinn"), "{err}");
    }

    #[test]
    fn type_urls_are_written_as_the_systems_write_them_and_read_from_any_domain() {
        assert_eq!(
            type_url("egov.v1.GetPersonRequest"),
            egov_proto::type_url::<GetPersonRequest>()
        );
        assert_eq!(
            type_name("type.googleapis.com/egov.v1.Fault"),
            "egov.v1.Fault"
        );
        assert_eq!(type_name("/egov.v1.Fault"), "egov.v1.Fault");
    }

    #[test]
    fn an_unknown_type_is_named() {
        let err = contracts()
            .encode("egov.v1.NoSuchRequest", &toml::Table::new())
            .expect_err("unknown type");
        assert!(err.to_string().contains("egov.v1.NoSuchRequest"), "{err}");
    }
}
