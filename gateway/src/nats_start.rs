//! The gateway's parts that live on NATS — the async channel and the fault table shared by
//! the replicas — started when the gateway starts or, when NATS or JetStream is not there yet,
//! later in the background: the sync channel serves meanwhile, the async calls are refused as
//! unavailable until their channel is up, and nothing waits for a restart.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use egov_core::envelope::RevocationSource;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::async_channel::{AsyncChannel, AsyncSettings};
use crate::exchange::Gateway;

/// The first pause before asking NATS again; it doubles up to [`MAX_PAUSE`].
pub const FIRST_PAUSE: Duration = Duration::from_millis(500);

/// The longest pause between two attempts.
pub const MAX_PAUSE: Duration = Duration::from_secs(30);

/// The async channel as the gateway's calls and console see it: empty until it has started,
/// which may be after the gateway began to serve.
pub struct AsyncChannelSlot<R>(Arc<OnceLock<Arc<AsyncChannel<R>>>>);

impl<R> AsyncChannelSlot<R> {
    /// An empty slot: async calls are refused until a channel is put in.
    pub fn empty() -> AsyncChannelSlot<R> {
        AsyncChannelSlot(Arc::new(OnceLock::new()))
    }

    /// A slot holding a started channel.
    pub fn holding(channel: Arc<AsyncChannel<R>>) -> AsyncChannelSlot<R> {
        let slot = AsyncChannelSlot::empty();
        let _ = slot.0.set(channel);
        slot
    }

    /// Returns the channel once it has started.
    pub fn get(&self) -> Option<&Arc<AsyncChannel<R>>> {
        self.0.get()
    }
}

impl<R> Clone for AsyncChannelSlot<R> {
    fn clone(&self) -> Self {
        AsyncChannelSlot(self.0.clone())
    }
}

impl<R> std::fmt::Debug for AsyncChannelSlot<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AsyncChannelSlot")
            .field(&self.get().is_some())
            .finish()
    }
}

/// What is still to start on NATS.
struct Pending<R> {
    gateway: Arc<Gateway<R>>,
    client: async_nats::Client,
    settings: AsyncSettings,
    slot: AsyncChannelSlot<R>,
}

impl<R: RevocationSource + 'static> Pending<R> {
    /// Starts what has not started yet; the error names the first part that failed.
    async fn attempt(&self) -> Result<(), String> {
        if self.slot.get().is_none() {
            let channel = AsyncChannel::start(
                self.gateway.clone(),
                self.client.clone(),
                self.settings.clone(),
            )
            .await
            .map_err(|err| format!("async channel: {err}"))?;
            let _ = self.slot.0.set(channel);
        }
        if !self.gateway.faults().is_shared() {
            let jetstream = async_nats::jetstream::new(self.client.clone());
            self.gateway
                .faults()
                .share(&jetstream, self.settings.replicas)
                .await
                .map_err(|err| format!("shared fault table: {err}"))?;
        }
        Ok(())
    }
}

/// Starts the async channel into `slot` and shares the fault table: at once when NATS is
/// connected, and what could not start then in a background task that asks again, pausing
/// [`FIRST_PAUSE`] doubling up to [`MAX_PAUSE`], until everything runs or `stop` turns true.
/// Returns that task, if one was needed.
pub async fn start<R: RevocationSource + 'static>(
    gateway: Arc<Gateway<R>>,
    client: async_nats::Client,
    settings: AsyncSettings,
    slot: AsyncChannelSlot<R>,
    mut stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    let pending = Pending {
        gateway,
        client,
        settings,
        slot,
    };
    // Not connected yet: JetStream's calls would only wait out their timeouts.
    if pending.client.connection_state() == async_nats::connection::State::Connected {
        match pending.attempt().await {
            Ok(()) => return None,
            Err(reason) => tracing::warn!(
                %reason,
                "not started on NATS yet, asking again in the background; async calls are refused meanwhile"
            ),
        }
    } else {
        tracing::warn!(
            "NATS not connected yet: the async channel and the shared fault table start once it is; async calls are refused meanwhile"
        );
    }
    Some(tokio::spawn(async move {
        let mut pause = FIRST_PAUSE;
        let mut attempts = 1u32;
        loop {
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            attempts += 1;
            if let Err(reason) = pending.attempt().await {
                pause = pause.saturating_mul(2).min(MAX_PAUSE);
                tracing::warn!(attempts, %reason, next_in = ?pause, "not started on NATS yet");
                continue;
            }
            tracing::info!(attempts, "started on NATS: the async channel serves");
            return;
        }
    }))
}
