//! The Mermaid `sequenceDiagram` of one exchange (one correlation id), drawn
//! from its log records: who sent what through the gateway, what the gateway
//! answered, and how long each hop took.
//!
//! Arrows follow each record's own header: an INBOUND record runs from its
//! `sender` to the gateway, an OUTBOUND one from the gateway to its
//! `receiver`. Requests and notifications are solid (`->>`), responses dotted
//! (`-->>`), async-channel messages open-headed (`-)`, `--)`). A refused
//! record adds `gateway--x<requester>: <code> <message>`, where the requester
//! is a request's sender or a response's receiver. The output depends on the
//! records only (durations, never wall-clock times), so it can be compared as text.

use std::collections::HashSet;
use std::fmt::Write as _;

use egov_core::status::StatusCode;

use super::record::{Direction, LogRecord};

/// The gateway as a diagram participant: its Mermaid alias and shown label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayParticipant<'a> {
    /// The identifier arrows use; made Mermaid-safe if it is not.
    pub alias: &'a str,
    /// The name shown in the participant box.
    pub label: &'a str,
}

/// The national gateway (ЭҮШ / ШЭП).
pub const NATIONAL_GATEWAY: GatewayParticipant<'static> = GatewayParticipant {
    alias: "shep",
    label: "ШЭП",
};

/// The regional gateway (ЭҮАШ / РШЭП).
pub const REGIONAL_GATEWAY: GatewayParticipant<'static> = GatewayParticipant {
    alias: "rshep",
    label: "РШЭП",
};

/// Words Mermaid's sequence-diagram grammar reserves (matched case-insensitively);
/// a participant alias equal to one would break the diagram.
const KEYWORDS: &[&str] = &[
    "sequencediagram",
    "participant",
    "actor",
    "as",
    "loop",
    "rect",
    "opt",
    "alt",
    "else",
    "par",
    "par_over",
    "and",
    "end",
    "critical",
    "option",
    "break",
    "box",
    "note",
    "over",
    "left",
    "right",
    "of",
    "title",
    "accTitle",
    "accDescr",
    "activate",
    "deactivate",
    "autonumber",
    "off",
    "create",
    "destroy",
    "links",
    "link",
    "properties",
    "details",
];

/// Returns the diagram of one exchange with the national gateway in the middle.
pub fn sequence_diagram(records: &[LogRecord]) -> String {
    sequence_diagram_with(records, NATIONAL_GATEWAY)
}

/// Returns the diagram of one exchange, in the records' order, with `gateway` in the middle.
pub fn sequence_diagram_with(records: &[LogRecord], gateway: GatewayParticipant<'_>) -> String {
    let mut participants = Participants::default();
    let mut body = String::new();
    for record in records {
        let system = match record.direction {
            Direction::Inbound => &record.sender,
            Direction::Outbound => &record.receiver,
        };
        // Declared in order of first appearance along the arrows, so the
        // first sender stands left of the gateway.
        let (from, to) = match record.direction {
            Direction::Inbound => (participants.system(system), participants.gateway(gateway)),
            Direction::Outbound => (participants.gateway(gateway), participants.system(system)),
        };
        let response = record.message_type.eq_ignore_ascii_case("RESPONSE");
        let asynchronous = record.channel.eq_ignore_ascii_case("ASYNC");
        let arrow = match (response, asynchronous) {
            (false, false) => "->>",
            (true, false) => "-->>",
            (false, true) => "-)",
            (true, true) => "--)",
        };
        let _ = writeln!(
            body,
            "    {from}{arrow}{to}: {} ({})",
            text(&record.service_id),
            text(&record.message_type)
        );
        let _ = writeln!(
            body,
            "    Note over {from},{to}: {}, {}",
            text(&record.status_code),
            millis(record.duration_us)
        );
        if is_refusal(&record.status_code) {
            let requester = if response {
                &record.receiver
            } else {
                &record.sender
            };
            let requester = participants.system(requester);
            let gateway = participants.gateway(gateway);
            let reason = if record.status_message.is_empty() {
                text(&record.status_code)
            } else {
                format!(
                    "{} {}",
                    text(&record.status_code),
                    text(&record.status_message)
                )
            };
            let _ = writeln!(body, "    {gateway}--x{requester}: {reason}");
        }
    }
    // An empty exchange still shows the gateway, so the diagram renders.
    participants.gateway(gateway);

    let mut diagram = String::from("sequenceDiagram\n");
    for (alias, label) in &participants.declared {
        let _ = writeln!(diagram, "    participant {alias} as {}", text(label));
    }
    diagram.push_str(&body);
    diagram
}

/// Returns whether a status code is a refusal (anything but success; an
/// empty code means the gateway gave none yet).
fn is_refusal(status_code: &str) -> bool {
    !status_code.is_empty() && status_code != StatusCode::Success.as_str()
}

/// Formats microseconds as milliseconds with one decimal, e.g. `12.3 ms`.
fn millis(duration_us: i64) -> String {
    let us = duration_us.max(0);
    format!("{}.{} ms", us / 1_000, (us % 1_000) / 100)
}

/// Makes free text safe on one Mermaid line: line breaks become spaces and
/// the characters Mermaid reads as syntax become its `#code;` entities.
fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            _ => out.push(c),
        }
    }
    out
}

/// The participants met so far, with their unique Mermaid-safe aliases.
#[derive(Default)]
struct Participants {
    /// (alias, label) in order of first appearance.
    declared: Vec<(String, String)>,
    /// System id → alias, looked up linearly: an exchange has a handful.
    systems: Vec<(String, String)>,
    /// The gateway's alias, once it appeared.
    gateway: Option<String>,
    used: HashSet<String>,
}

impl Participants {
    fn system(&mut self, id: &str) -> String {
        if let Some((_, alias)) = self.systems.iter().find(|(known, _)| known == id) {
            return alias.clone();
        }
        // A refused envelope whose header did not decode names no system.
        let alias = if id.is_empty() {
            self.declare("unknown", "(unknown)")
        } else {
            // The other gateway, met as a system (ШЭП → РШЭП), keeps its gateway's name.
            let label = [NATIONAL_GATEWAY, REGIONAL_GATEWAY]
                .iter()
                .find(|gateway| gateway.alias == id)
                .map_or(id, |gateway| gateway.label);
            self.declare(id, label)
        };
        self.systems.push((id.to_owned(), alias.clone()));
        alias
    }

    fn gateway(&mut self, gateway: GatewayParticipant<'_>) -> String {
        if let Some(alias) = &self.gateway {
            return alias.clone();
        }
        let alias = self.declare(gateway.alias, gateway.label);
        self.gateway = Some(alias.clone());
        alias
    }

    fn declare(&mut self, wanted: &str, label: &str) -> String {
        let base = safe_alias(wanted);
        let mut alias = base.clone();
        let mut n = 2;
        while self.used.contains(&alias) {
            alias = format!("{base}_{n}");
            n += 1;
        }
        self.used.insert(alias.clone());
        self.declared.push((alias.clone(), label.to_owned()));
        alias
    }
}

/// Returns an identifier Mermaid accepts: ASCII letters, digits and `_`,
/// starting with a letter, and no reserved word.
fn safe_alias(id: &str) -> String {
    let mut alias: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !alias.chars().any(|c| c.is_ascii_alphanumeric()) {
        alias = "system".to_owned();
    } else if !alias.starts_with(|c: char| c.is_ascii_alphabetic()) {
        alias.insert_str(0, "s_");
    }
    if KEYWORDS
        .iter()
        .any(|word| word.eq_ignore_ascii_case(&alias))
    {
        alias.push('_');
    }
    alias
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn record(
        message_id: &str,
        direction: Direction,
        message_type: &str,
        sender: &str,
        receiver: &str,
        duration_us: i64,
    ) -> LogRecord {
        LogRecord {
            message_id: message_id.into(),
            correlation_id: "c-1".into(),
            in_reply_to: String::new(),
            service_id: "citizens.person.get".into(),
            sender: sender.into(),
            receiver: receiver.into(),
            message_type: message_type.into(),
            channel: "SYNC".into(),
            direction,
            status_code: "SCSS001".into(),
            status_message: String::new(),
            header: vec![1].into(),
            body: None,
            body_sha256: vec![0; 32].into(),
            signatures: Vec::new(),
            signers: Vec::new(),
            received_at: datetime!(2026-03-02 10:00:00 UTC),
            duration_us,
        }
    }

    #[test]
    fn a_two_hop_exchange_draws_four_arrows_with_their_notes() {
        let records = [
            record(
                "m1",
                Direction::Inbound,
                "REQUEST",
                "portal",
                "citizens",
                42_500,
            ),
            record(
                "m1",
                Direction::Outbound,
                "REQUEST",
                "portal",
                "citizens",
                40_100,
            ),
            record(
                "m2",
                Direction::Inbound,
                "RESPONSE",
                "citizens",
                "portal",
                800,
            ),
            record(
                "m2",
                Direction::Outbound,
                "RESPONSE",
                "citizens",
                "portal",
                300,
            ),
        ];
        let expected = "\
sequenceDiagram
    participant portal as portal
    participant shep as ШЭП
    participant citizens as citizens
    portal->>shep: citizens.person.get (REQUEST)
    Note over portal,shep: SCSS001, 42.5 ms
    shep->>citizens: citizens.person.get (REQUEST)
    Note over shep,citizens: SCSS001, 40.1 ms
    citizens-->>shep: citizens.person.get (RESPONSE)
    Note over citizens,shep: SCSS001, 0.8 ms
    shep-->>portal: citizens.person.get (RESPONSE)
    Note over shep,portal: SCSS001, 0.3 ms
";
        assert_eq!(sequence_diagram(&records), expected);
    }

    #[test]
    fn a_refused_request_gets_a_crossed_arrow_back_to_its_sender() {
        let mut refused = record("m1", Direction::Inbound, "REQUEST", "portal", "land", 1_200);
        refused.service_id = "land.parcel.get".into();
        refused.status_code = "EACC001".into();
        refused.status_message = "sender portal may not call service land.parcel.get".into();
        let expected = "\
sequenceDiagram
    participant portal as portal
    participant shep as ШЭП
    portal->>shep: land.parcel.get (REQUEST)
    Note over portal,shep: EACC001, 1.2 ms
    shep--xportal: EACC001 sender portal may not call service land.parcel.get
";
        assert_eq!(sequence_diagram(&[refused]), expected);
    }

    #[test]
    fn a_refused_response_is_reported_to_the_original_requester() {
        let mut bad = record(
            "m2",
            Direction::Inbound,
            "RESPONSE",
            "citizens",
            "portal",
            500,
        );
        bad.status_code = "ESIG002".into();
        let diagram = sequence_diagram(&[bad]);
        assert!(
            diagram.ends_with("    shep--xportal: ESIG002\n"),
            "{diagram}"
        );
    }

    #[test]
    fn the_regional_gateway_met_as_a_system_is_drawn_as_the_rshep() {
        let relay = record("m1", Direction::Outbound, "REQUEST", "portal", "rshep", 0);
        let diagram = sequence_diagram(&[relay]);
        assert!(
            diagram.contains("    participant rshep as РШЭП\n"),
            "{diagram}"
        );
        assert!(diagram.contains("    shep->>rshep: "), "{diagram}");
    }

    #[test]
    fn async_messages_use_open_arrowheads() {
        let mut send = record("m1", Direction::Outbound, "REQUEST", "portal", "akimat", 0);
        send.channel = "ASYNC".into();
        let mut reply = record("m2", Direction::Inbound, "RESPONSE", "akimat", "portal", 0);
        reply.channel = "ASYNC".into();
        let diagram = sequence_diagram_with(&[send, reply], REGIONAL_GATEWAY);
        assert!(diagram.contains("    participant rshep as РШЭП\n"));
        assert!(diagram.contains("    rshep-)akimat: "));
        assert!(diagram.contains("    akimat--)rshep: "));
    }

    #[test]
    fn unsafe_system_ids_get_safe_unique_aliases_and_keep_their_labels() {
        let records = [
            record("m1", Direction::Inbound, "REQUEST", "citizens-db", "x", 0),
            record("m2", Direction::Outbound, "REQUEST", "x", "citizens_db", 0),
            record("m3", Direction::Outbound, "REQUEST", "x", "end", 0),
            record("m4", Direction::Outbound, "REQUEST", "x", "2gis;x", 0),
        ];
        let diagram = sequence_diagram(&records);
        assert!(diagram.contains("    participant citizens_db as citizens-db\n"));
        assert!(diagram.contains("    participant citizens_db_2 as citizens_db\n"));
        assert!(diagram.contains("    participant end_ as end\n"));
        assert!(diagram.contains("    participant s_2gis_x as 2gis#59;x\n"));
        assert!(diagram.contains("    shep->>end_: "));
    }

    #[test]
    fn status_messages_cannot_break_the_line() {
        let mut refused = record("m1", Direction::Inbound, "REQUEST", "portal", "x", 0);
        refused.status_code = "EMSG001".into();
        refused.status_message = "bad\nheader; <b>#1</b>".into();
        let diagram = sequence_diagram(&[refused]);
        assert!(
            diagram
                .ends_with("    shep--xportal: EMSG001 bad header#59; #60;b#62;#35;1#60;/b#62;\n"),
            "{diagram}"
        );
    }

    #[test]
    fn an_undecodable_sender_is_drawn_as_unknown() {
        let mut refused = record("", Direction::Inbound, "REQUEST", "", "", 0);
        refused.status_code = "EMSG001".into();
        let diagram = sequence_diagram(&[refused]);
        assert!(diagram.contains("    participant unknown as (unknown)\n"));
        assert!(
            diagram.ends_with("    shep--xunknown: EMSG001\n"),
            "{diagram}"
        );
    }

    #[test]
    fn no_records_still_draw_the_gateway() {
        assert_eq!(
            sequence_diagram(&[]),
            "sequenceDiagram\n    participant shep as ШЭП\n"
        );
    }
}
