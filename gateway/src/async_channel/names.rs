//! Names the async channel gives its JetStream objects: the delivery and
//! state streams, the bucket of redelivery counts and the per-system
//! consumers. NATS subjects, the push inbox included, come from
//! `egov_bus::subjects`, which systems share.

/// The file-stored stream holding every async message, one subject each
/// (`egov.gw.deliver.<receiver>.<message id>`); the clock authority counts its receivers' pending messages.
pub const DELIVER_STREAM: &str = egov_bus::clock::DELIVER_STREAM;

/// The file-stored stream holding each message's one final state, which is also
/// its sender's notification (`egov.gw.notify.<sender>.<message id>`), so a sender
/// that is down still gets it.
pub const NOTIFY_STREAM: &str = "EGOV_NOTIFY";

/// The key-value bucket of redelivery counts, keyed by message id (written only
/// when a message is offered again).
pub const ATTEMPTS_BUCKET: &str = "EGOV_DELIVERY_ATTEMPTS";

/// The prefix of a system's durable delivery consumer, `deliver-<system>`.
pub const CONSUMER_PREFIX: &str = "deliver-";

/// The server advisory published when a message of a delivery consumer
/// exhausted its deliveries.
pub const MAX_DELIVERIES_ADVISORY: &str =
    "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.EGOV_DELIVER.*";

/// Returns `deliver-<system_id>`, the durable consumer of one system's
/// messages, or `None` if the id cannot name a JetStream consumer.
pub fn consumer(system_id: &str) -> Option<String> {
    is_name_token(system_id).then(|| format!("{CONSUMER_PREFIX}{system_id}"))
}

/// Returns whether `id` (a system's or gateway's id) can be one subject token and part of a
/// JetStream name: one or more of `A-Z a-z 0-9 - _`.
pub fn is_name_token(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
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
