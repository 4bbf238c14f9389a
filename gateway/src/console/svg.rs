//! One exchange's hops drawn as an SVG sequence diagram, server-side, for the console page:
//! the same reading as the Mermaid export ([`crate::message_log::mermaid`]) — an INBOUND
//! record runs from its sender to the gateway, an OUTBOUND one from the gateway to its
//! receiver; responses are dashed, async-channel hops drawn in blue, and a refusal adds a
//! red arrow from the gateway back to whoever asked, with its code and reason.

use std::fmt::Write as _;

use egov_core::StatusCode;
use egov_signin::pages::escape;

use crate::message_log::{Direction, LogRecord};

/// Horizontal distance between two lifelines.
const COLUMN: usize = 200;
/// Left margin before the first lifeline.
const LEFT: usize = 110;
/// Height of the participant boxes' band.
const TOP: usize = 60;
/// Vertical room per arrow.
const ROW: usize = 52;
/// Longest label drawn, in characters; the table beside the diagram has the rest.
const MAX_LABEL: usize = 60;

/// One arrow of the diagram.
struct Arrow {
    from: usize,
    to: usize,
    label: String,
    note: String,
    dashed: bool,
    asynchronous: bool,
    refusal: bool,
}

/// Returns whether a status code is a refusal (anything but success).
pub fn is_refusal(status_code: &str) -> bool {
    !status_code.is_empty() && status_code != StatusCode::Success.as_str()
}

/// Draws one exchange's records as an `<svg>` element with `gateway` in the middle.
pub fn sequence_diagram(records: &[LogRecord], gateway: &str) -> String {
    let mut participants: Vec<String> = Vec::new();
    let mut index = |name: &str| -> usize {
        match participants.iter().position(|p| p == name) {
            Some(at) => at,
            None => {
                participants.push(name.to_owned());
                participants.len() - 1
            }
        }
    };
    let mut arrows = Vec::new();
    for record in records {
        let response = record.message_type.eq_ignore_ascii_case("RESPONSE");
        let asynchronous = record.channel.eq_ignore_ascii_case("ASYNC");
        let (from, to) = match record.direction {
            Direction::Inbound => (index(&record.sender), index(gateway)),
            Direction::Outbound => (index(gateway), index(&record.receiver)),
        };
        arrows.push(Arrow {
            from,
            to,
            label: format!("{} ({})", record.service_id, record.message_type),
            note: format!(
                "{}, {}",
                record.status_code,
                crate::console::millis(record.duration_us)
            ),
            dashed: response,
            asynchronous,
            refusal: false,
        });
        if is_refusal(&record.status_code) {
            let requester = if response {
                &record.receiver
            } else {
                &record.sender
            };
            arrows.push(Arrow {
                from: index(gateway),
                to: index(requester),
                label: format!("{} {}", record.status_code, record.status_message),
                note: String::new(),
                dashed: true,
                asynchronous: false,
                refusal: true,
            });
        }
    }

    let width = LEFT * 2 + COLUMN * participants.len().saturating_sub(1);
    let height = TOP + ROW * (arrows.len() + 1);
    let x = |at: usize| LEFT + COLUMN * at;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="sequence diagram"><defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs><style>text{{font:12px sans-serif}} .who{{font-weight:bold}} .note{{fill:#555;font-size:11px}}</style>"##
    );
    for (at, name) in participants.iter().enumerate() {
        let cx = x(at);
        let fill = if name == gateway {
            "#fde9c8"
        } else {
            "#e4ecf7"
        };
        let _ = write!(
            svg,
            r##"<g class="participant" data-name="{name}"><rect x="{left}" y="10" width="150" height="30" rx="4" fill="{fill}" stroke="#444"/><text class="who" x="{cx}" y="30" text-anchor="middle">{name}</text><line x1="{cx}" y1="40" x2="{cx}" y2="{bottom}" stroke="#999" stroke-dasharray="4 4"/></g>"##,
            left = cx.saturating_sub(75),
            name = escape(name),
            bottom = height - 10,
        );
    }
    for (row, arrow) in arrows.iter().enumerate() {
        let y = TOP + ROW * (row + 1);
        let (x1, x2) = (x(arrow.from), x(arrow.to));
        let colour = match (arrow.refusal, arrow.asynchronous) {
            (true, _) => "#c0392b",
            (false, true) => "#1f6fb2",
            (false, false) => "#222",
        };
        let dash = if arrow.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let mid = (x1 + x2) / 2;
        let _ = write!(
            svg,
            r##"<g class="hop{refused}"><line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{colour}" stroke-width="1.6"{dash} marker-end="url(#head)"/><text x="{mid}" y="{label_y}" text-anchor="middle" fill="{colour}">{label}</text><text class="note" x="{mid}" y="{note_y}" text-anchor="middle">{note}</text></g>"##,
            refused = if arrow.refusal { " refusal" } else { "" },
            label_y = y - 6,
            note_y = y + 14,
            label = escape(&clip(&arrow.label)),
            note = escape(&arrow.note),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Clips a label to [`MAX_LABEL`] characters.
fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_LABEL) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;

    fn record(direction: Direction, message_type: &str, status: &str) -> LogRecord {
        LogRecord {
            message_id: "m1".into(),
            correlation_id: "c1".into(),
            in_reply_to: String::new(),
            service_id: "labor.apply".into(),
            sender: "portal".into(),
            receiver: "labor".into(),
            message_type: message_type.into(),
            channel: "SYNC".into(),
            direction,
            status_code: status.into(),
            status_message: "no route <x>".into(),
            header: Default::default(),
            body: None,
            body_sha256: Default::default(),
            signatures: Vec::new(),
            signers: Vec::new(),
            received_at: OffsetDateTime::UNIX_EPOCH,
            duration_us: 1_500,
        }
    }

    #[test]
    fn a_forwarded_request_draws_sender_gateway_and_target_in_order() {
        let svg = sequence_diagram(
            &[
                record(Direction::Inbound, "REQUEST", "SCSS001"),
                record(Direction::Outbound, "REQUEST", "SCSS001"),
            ],
            "shep",
        );
        let portal = svg.find(r#"data-name="portal""#).expect("portal");
        let shep = svg.find(r#"data-name="shep""#).expect("gateway");
        let labor = svg.find(r#"data-name="labor""#).expect("labor");
        assert!(portal < shep && shep < labor, "{svg}");
        assert_eq!(svg.matches(r#"class="hop""#).count(), 2);
        assert!(svg.contains("SCSS001, 1.5 ms"));
    }

    #[test]
    fn a_refusal_adds_a_red_arrow_back_to_the_sender_with_its_reason_escaped() {
        let svg = sequence_diagram(&[record(Direction::Inbound, "REQUEST", "EROUT001")], "shep");
        assert_eq!(svg.matches(r#"class="hop refusal""#).count(), 1);
        assert!(svg.contains("EROUT001 no route &lt;x&gt;"), "{svg}");
        assert!(!svg.contains("<x>"));
    }
}
