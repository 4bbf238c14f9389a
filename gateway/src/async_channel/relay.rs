//! Acknowledgements across replicas: behind one address, a system may fetch a message
//! through one gateway replica and acknowledge it through another. The replica that
//! handed the message over holds its JetStream delivery (whose ack settles it); the
//! replica asked relays the acknowledgement to it over NATS, and the holder settles the
//! message as if asked itself. A holder that stopped holds nothing: JetStream offers
//! its messages again after `ack_wait`, through any replica.

use std::sync::Arc;
use std::time::Duration;

use egov_core::StatusCode;
use egov_core::envelope::RevocationSource;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::{AsyncChannel, lock};
use crate::exchange::Refusal;

/// How long a replica waits for the one holding a fetched message to answer a relayed
/// acknowledgement; no answer means no replica holds it.
const RELAY_WAIT: Duration = Duration::from_secs(1);

/// An acknowledgement relayed to the replica holding the fetched message.
#[derive(Debug, Serialize, Deserialize)]
struct RelayedAck {
    system_id: String,
    message_id: String,
}

/// The holder's answer: a status code and its reason.
#[derive(Debug, Serialize, Deserialize)]
struct RelayAnswer {
    code: String,
    message: String,
}

/// Returns the subject a gateway's replicas relay acknowledgements on,
/// `egov.gw.acknowledge.<gateway>`, or `None` if the id cannot be one subject token.
pub fn subject(gateway_id: &str) -> Option<String> {
    super::names::is_name_token(gateway_id).then(|| format!("egov.gw.acknowledge.{gateway_id}"))
}

impl<R: RevocationSource + 'static> AsyncChannel<R> {
    /// Answers the acknowledgements other replicas relay for messages fetched here;
    /// stays silent on the others, which some other replica (or none) holds.
    pub(super) async fn serve_relayed_acks(self: Arc<Self>, mut requests: async_nats::Subscriber) {
        while let Some(request) = requests.next().await {
            let Some(reply) = request.reply.clone() else {
                continue;
            };
            let ack = match serde_json::from_slice::<RelayedAck>(&request.payload) {
                Ok(ack) => ack,
                Err(err) => {
                    tracing::warn!(error = %err, "relayed acknowledgement is not JSON; ignored");
                    continue;
                }
            };
            if !lock(&self.fetched).contains_key(&ack.message_id) {
                continue;
            }
            let channel = self.clone();
            self.spawn_until_stopped(async move {
                let outcome = channel
                    .acknowledge_one(&ack.system_id, &ack.message_id)
                    .await;
                let answer = match outcome {
                    Ok(()) => RelayAnswer {
                        code: StatusCode::Success.as_str().to_owned(),
                        message: String::new(),
                    },
                    Err(refusal) => RelayAnswer {
                        code: refusal.code.as_str().to_owned(),
                        message: refusal.message,
                    },
                };
                // A struct of two strings always serializes.
                let payload = serde_json::to_vec(&answer).unwrap_or_default();
                if let Err(err) = channel.client.publish(reply, payload.into()).await {
                    tracing::warn!(message_id = ack.message_id, error = %err, "answer to a relayed acknowledgement was lost");
                }
            });
        }
    }

    /// Asks the replica that handed `message_id` over to settle it; `None` when no
    /// replica answered (none holds it: never fetched, or its fetch expired).
    pub(super) async fn relay_acknowledgement(
        &self,
        system_id: &str,
        message_id: &str,
    ) -> Option<Result<(), Refusal>> {
        let subject = subject(&self.gateway.system_id)?;
        let request = RelayedAck {
            system_id: system_id.to_owned(),
            message_id: message_id.to_owned(),
        };
        let payload = serde_json::to_vec(&request).ok()?;
        let answer = tokio::time::timeout(RELAY_WAIT, self.client.request(subject, payload.into()))
            .await
            .ok()?
            .ok()?;
        let answer: RelayAnswer = match serde_json::from_slice(&answer.payload) {
            Ok(answer) => answer,
            Err(err) => {
                return Some(Err(Refusal::new(
                    StatusCode::Internal,
                    format!(
                        "acknowledgement of {message_id} relayed to the replica that handed it over: unreadable answer: {err}"
                    ),
                )));
            }
        };
        let code = answer
            .code
            .parse::<StatusCode>()
            .unwrap_or(StatusCode::Internal);
        Some(if code == StatusCode::Success {
            Ok(())
        } else {
            Err(Refusal::new(code, answer.message))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_subjects_are_one_token_per_gateway() {
        assert_eq!(subject("shep").as_deref(), Some("egov.gw.acknowledge.shep"));
        assert_eq!(subject("a.b"), None);
        assert_eq!(subject(""), None);
    }
}
