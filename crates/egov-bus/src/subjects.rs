//! NATS subjects and header names, kept once so every service spells them alike.
//!
//! The gateway stores each async message for a system on its own subject under
//! [`deliver`] ([`deliver_message`]), pushes it to a push-mode system's [`inbox`] and
//! stores its final state, which is also the sender's notification, on its own subject
//! under [`notify`] ([`notify_message`]); the virtual clock's state travels on [`CLOCK`].

use crate::BusError;

/// The subject the virtual clock publishes its state on.
pub const CLOCK: &str = "egov.clock";

/// The prefix of the gateway's per-system delivery subjects.
pub const DELIVER_PREFIX: &str = "egov.gw.deliver";

/// The prefix of the gateway's per-system notification subjects.
pub const NOTIFY_PREFIX: &str = "egov.gw.notify";

/// The prefix of a system's own subjects; its push inbox is `egov.sys.<system>.inbox`.
pub const SYSTEM_PREFIX: &str = "egov.sys";

/// Matches every message on every system's delivery subjects (for the gateway's stream).
pub const DELIVER_ALL: &str = "egov.gw.deliver.*.*";

/// Matches every final state on every sender's notification subjects (for the gateway's stream).
pub const NOTIFY_ALL: &str = "egov.gw.notify.*.*";

/// The header carrying the envelope's message id.
pub const MESSAGE_ID_HEADER: &str = "Egov-Message-Id";

/// The header carrying the envelope's correlation id (the id of the request answered).
pub const CORRELATION_ID_HEADER: &str = "Egov-Correlation-Id";

/// JetStream's de-duplication header; set to the message id so a resend is stored once.
pub const NATS_MSG_ID_HEADER: &str = "Nats-Msg-Id";

/// The W3C trace context header, as carried in NATS headers and gRPC metadata.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// Returns `egov.gw.deliver.<system_id>`, under which the gateway stores messages for a system.
pub fn deliver(system_id: &str) -> Result<String, BusError> {
    Ok(format!("{DELIVER_PREFIX}.{}", token(system_id)?))
}

/// Returns `egov.gw.deliver.<system_id>.<message_id>`, the one subject a message for a
/// system is stored on, so the stream finds it by its id.
pub fn deliver_message(system_id: &str, message_id: &str) -> Result<String, BusError> {
    Ok(format!(
        "{DELIVER_PREFIX}.{}.{}",
        token(system_id)?,
        token(message_id)?
    ))
}

/// Returns `egov.gw.notify.<system_id>`, under which the gateway reports final states to a sender
/// (a subscriber takes `egov.gw.notify.<system_id>.*`).
pub fn notify(system_id: &str) -> Result<String, BusError> {
    Ok(format!("{NOTIFY_PREFIX}.{}", token(system_id)?))
}

/// Returns `egov.gw.notify.<sender>.<message_id>`, where a message's one final state is stored
/// and its sender notified.
pub fn notify_message(sender: &str, message_id: &str) -> Result<String, BusError> {
    Ok(format!(
        "{NOTIFY_PREFIX}.{}.{}",
        token(sender)?,
        token(message_id)?
    ))
}

/// Returns `egov.sys.<system_id>.inbox`, where the gateway pushes a push-mode system's
/// async messages as NATS requests; any reply means received.
pub fn inbox(system_id: &str) -> Result<String, BusError> {
    Ok(format!("{SYSTEM_PREFIX}.{}.inbox", token(system_id)?))
}

/// Checks that `value` is one subject token, so an id cannot widen or split a subject.
fn token(value: &str) -> Result<&str, BusError> {
    let bad = value.is_empty()
        || value
            .chars()
            .any(|c| matches!(c, '.' | '*' | '>') || c.is_whitespace());
    if bad {
        return Err(BusError::InvalidSubjectToken {
            token: value.to_owned(),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliver_and_notify_append_the_system_id() {
        assert_eq!(
            deliver("notary").ok().as_deref(),
            Some("egov.gw.deliver.notary")
        );
        assert_eq!(
            notify("esobes").ok().as_deref(),
            Some("egov.gw.notify.esobes")
        );
    }

    #[test]
    fn each_message_and_each_final_state_has_its_own_subject() {
        assert_eq!(
            deliver_message("notary", "m-1").ok().as_deref(),
            Some("egov.gw.deliver.notary.m-1")
        );
        assert_eq!(
            notify_message("portal", "m-1").ok().as_deref(),
            Some("egov.gw.notify.portal.m-1")
        );
        for bad in ["", "a.b", "*", ">"] {
            assert!(deliver_message("notary", bad).is_err(), "{bad:?} accepted");
            assert!(notify_message("portal", bad).is_err(), "{bad:?} accepted");
        }
    }

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
    fn system_ids_that_would_split_or_widen_a_subject_are_refused() {
        for bad in ["", "a.b", "*", ">", "a b", "tab\t"] {
            assert!(
                matches!(deliver(bad), Err(BusError::InvalidSubjectToken { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn wildcards_match_the_builders_prefixes() {
        assert_eq!(DELIVER_ALL, format!("{DELIVER_PREFIX}.*.*"));
        assert_eq!(NOTIFY_ALL, format!("{NOTIFY_PREFIX}.*.*"));
    }
}
