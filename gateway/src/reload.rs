//! The registry reload across replicas. Behind one address an operator's
//! `POST /admin/registry/reload` lands on one replica; reloading only that one would leave
//! the others routing by the old table. The replica asked re-reads its file first (a bad
//! file is refused there and nowhere else changes), then announces the reload on
//! `egov.gw.registry.reload.<gateway>`; every other replica of the same gateway re-reads
//! its own copy and answers what it now holds, and the operator gets each replica's answer.
//! A replica that does not answer within [`ANSWER_WINDOW`] is not in the answer: it is
//! stopped, or cut off from NATS, and keeps its table until it is reloaded itself.

use std::sync::Arc;
use std::time::Duration;

use egov_core::envelope::RevocationSource;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::exchange::Gateway;
use crate::registry::RegistryError;

/// How long the replica asked collects the other replicas' answers.
pub const ANSWER_WINDOW: Duration = Duration::from_millis(500);

/// The announcement: which replica asked, so it does not reload twice.
#[derive(Debug, Serialize, Deserialize)]
struct Announcement {
    origin: String,
}

/// One replica's outcome of a reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaReload {
    /// The replica (see [`Gateway::replica_id`]).
    pub replica: String,
    /// Systems in its table after the reload.
    pub systems: usize,
    /// Services in its table after the reload.
    pub services: usize,
    /// Why its file was refused; its previous table stays in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Returns the subject a gateway's replicas announce reloads on, or `None` when the id
/// cannot be one subject token.
pub fn subject(gateway_id: &str) -> Option<String> {
    crate::async_channel::names::is_name_token(gateway_id)
        .then(|| format!("egov.gw.registry.reload.{gateway_id}"))
}

/// Re-reads this replica's registry, then every other replica's; returns each replica's
/// outcome, this one first. A file this replica refuses is an error and nothing is announced.
pub async fn reload_everywhere<R: RevocationSource + 'static>(
    gateway: &Gateway<R>,
) -> Result<Vec<ReplicaReload>, RegistryError> {
    let registry = gateway.registry().reload()?;
    tracing::info!(
        services = registry.services.len(),
        "registry reloaded by an operator"
    );
    let mut outcomes = vec![ReplicaReload {
        replica: gateway.replica_id().to_owned(),
        systems: registry.systems.len(),
        services: registry.services.len(),
        error: None,
    }];
    if let Some(client) = gateway.nats() {
        outcomes.extend(announce(gateway, client).await);
    }
    Ok(outcomes)
}

/// Announces the reload and gathers the answers that arrive within [`ANSWER_WINDOW`].
async fn announce<R: RevocationSource + 'static>(
    gateway: &Gateway<R>,
    client: &async_nats::Client,
) -> Vec<ReplicaReload> {
    let Some(subject) = subject(&gateway.system_id) else {
        return Vec::new();
    };
    let announcement = Announcement {
        origin: gateway.replica_id().to_owned(),
    };
    // A struct of one string always serializes.
    let payload = serde_json::to_vec(&announcement).unwrap_or_default();
    let inbox = client.new_inbox();
    let mut answers = match client.subscribe(inbox.clone()).await {
        Ok(answers) => answers,
        Err(err) => {
            tracing::warn!(error = %err, "registry reload not announced to the other replicas");
            return Vec::new();
        }
    };
    if let Err(err) = client
        .publish_with_reply(subject, inbox, payload.into())
        .await
    {
        tracing::warn!(error = %err, "registry reload not announced to the other replicas");
        return Vec::new();
    }
    let mut outcomes = Vec::new();
    let deadline = tokio::time::Instant::now() + ANSWER_WINDOW;
    while let Ok(Some(answer)) = tokio::time::timeout_at(deadline, answers.next()).await {
        match serde_json::from_slice::<ReplicaReload>(&answer.payload) {
            Ok(outcome) => outcomes.push(outcome),
            Err(err) => tracing::warn!(error = %err, "a replica's reload answer is not JSON"),
        }
    }
    outcomes
}

/// Reloads on every announcement another replica of this gateway makes, answering what
/// this replica's table holds now.
pub async fn serve_announcements<R: RevocationSource + 'static>(
    gateway: Arc<Gateway<R>>,
    client: async_nats::Client,
    mut announcements: async_nats::Subscriber,
) {
    while let Some(message) = announcements.next().await {
        let origin = match serde_json::from_slice::<Announcement>(&message.payload) {
            Ok(announcement) => announcement.origin,
            Err(err) => {
                tracing::warn!(error = %err, "registry reload announcement is not JSON; ignored");
                continue;
            }
        };
        if origin == gateway.replica_id() {
            continue;
        }
        let outcome = match gateway.registry().reload() {
            Ok(registry) => {
                tracing::info!(services = registry.services.len(), %origin, "registry reloaded as another replica asked");
                ReplicaReload {
                    replica: gateway.replica_id().to_owned(),
                    systems: registry.systems.len(),
                    services: registry.services.len(),
                    error: None,
                }
            }
            Err(err) => {
                tracing::error!(error = %err, %origin, "registry reload another replica asked for failed; the previous table stays in force");
                let current = gateway.registry().current();
                ReplicaReload {
                    replica: gateway.replica_id().to_owned(),
                    systems: current.systems.len(),
                    services: current.services.len(),
                    error: Some(err.to_string()),
                }
            }
        };
        let Some(reply) = message.reply else {
            continue;
        };
        // Strings and counts always serialize.
        let payload = serde_json::to_vec(&outcome).unwrap_or_default();
        if let Err(err) = client.publish(reply, payload.into()).await {
            tracing::warn!(error = %err, "answer to a registry reload announcement was lost");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reload_subject_is_the_gateways_own_and_refuses_ids_that_widen_it() {
        assert_eq!(
            subject("shep").as_deref(),
            Some("egov.gw.registry.reload.shep")
        );
        assert_eq!(subject("shep.>"), None);
        assert_eq!(subject(""), None);
    }
}
