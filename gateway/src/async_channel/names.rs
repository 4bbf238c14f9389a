//! Names the async channel gives its JetStream objects and NATS subjects:
//! the delivery and notification streams, the delivery-state bucket, the
//! per-system consumers and the push-mode inbox subject.

use egov_bus::BusError;

/// The file-stored stream holding every async message until it is delivered
/// (subjects `egov.gw.deliver.*`).
pub const DELIVER_STREAM: &str = "EGOV_DELIVER";

/// The file-stored stream holding delivery notifications for senders
/// (subjects `egov.gw.notify.*`), so a sender that is down still gets them.
pub const NOTIFY_STREAM: &str = "EGOV_NOTIFY";

/// The key-value bucket of delivery states, keyed by message id.
pub const STATE_BUCKET: &str = "EGOV_DELIVERY";

/// The prefix of a system's own subjects; its push inbox is `egov.sys.<system>.inbox`.
pub const SYSTEM_PREFIX: &str = "egov.sys";

/// The prefix of a system's durable delivery consumer, `deliver-<system>`.
pub const CONSUMER_PREFIX: &str = "deliver-";

/// The server advisory published when a message of a delivery consumer
/// exhausted its deliveries.
pub const MAX_DELIVERIES_ADVISORY: &str =
    "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.EGOV_DELIVER.*";

/// Returns `egov.sys.<system_id>.inbox`, where the gateway pushes a push-mode
/// system's messages as NATS requests; any reply means received.
pub fn inbox(system_id: &str) -> Result<String, BusError> {
    // Validated by egov-bus's builder so every subject token follows one rule.
    egov_bus::subjects::deliver(system_id)?;
    Ok(format!("{SYSTEM_PREFIX}.{system_id}.inbox"))
}

/// Returns `deliver-<system_id>`, the durable consumer of one system's
/// messages, or `None` if the id cannot name a JetStream consumer.
pub fn consumer(system_id: &str) -> Option<String> {
    let valid = !system_id.is_empty()
        && system_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then(|| format!("{CONSUMER_PREFIX}{system_id}"))
}

/// Returns whether a message id can serve as a bucket key and a header value:
/// 1 to 128 characters of `A-Z a-z 0-9 - _ =` (a UUID qualifies).
pub fn is_valid_message_id(message_id: &str) -> bool {
    (1..=128).contains(&message_id.len())
        && message_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_is_per_system_and_refuses_ids_that_would_split_the_subject() {
        assert_eq!(
            inbox("notary").ok().as_deref(),
            Some("egov.sys.notary.inbox")
        );
        for bad in ["", "a.b", "*", ">", "a b"] {
            assert!(inbox(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn advisory_subject_names_the_delivery_stream() {
        assert!(MAX_DELIVERIES_ADVISORY.ends_with(&format!(".{DELIVER_STREAM}.*")));
    }

    #[test]
    fn consumer_names_only_accept_plain_system_ids() {
        assert_eq!(consumer("esobes").as_deref(), Some("deliver-esobes"));
        assert_eq!(consumer("a/b"), None);
        assert_eq!(consumer(""), None);
    }

    #[test]
    fn message_ids_must_be_bucket_keys_and_header_values() {
        assert!(is_valid_message_id("0190f2a4-7c1e-7b3a-9f00-123456789abc"));
        for bad in ["", "a.b", "a\r\nb", "a b", "*", &"x".repeat(129)] {
            assert!(!is_valid_message_id(bad), "{bad:?} accepted");
        }
    }
}
