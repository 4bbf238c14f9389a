//! A system's side of the gateway's async channel: the [`Inbox`] hands every
//! async message to the same [`EnvelopeReceiver`] the sync path serves (same
//! verification, same handler) and sends each request's signed answer back to
//! the requester through the gateway (`SendAsyncMessage`).
//!
//! Two ways in, both optional ([`Inbox::launch`] starts what [`InboxSettings`] asks):
//! - push: a core NATS subscription on `egov.sys.<system>.inbox`
//!   ([`egov_bus::subjects::inbox`]) in queue group `<system>`, so replicas share
//!   the load. The gateway sends each message as a NATS request and takes any
//!   reply as DELIVERED, so the reply goes out only once the message is settled:
//!   handled and its answer stored, or refused for good (a message that fails
//!   verification would fail again, so it is settled too).
//! - pull: [`Inbox::pull`] loops `FetchMessages` (with a signed NOTIFICATION
//!   proof) and `AcknowledgeMessages` after handling, for systems registered
//!   `delivery = "pull"`.
//!
//! While a message is handled the system holds its clock ([`Clock::hold`]), so on the stack
//! clock the authority waits for the handling (and the timers it sets) before it moves on.
//!
//! Delivery is at least once: a message whose answer the gateway could not
//! store for now stays unsettled and comes again. A message this process
//! already answered that comes again (its reply was lost, or the gateway's
//! push timeout was shorter than the handler) is settled without being handled
//! twice; one still being handled is left for the next redelivery.
//!
//! The answer travels on the requester's reply route, service id
//! `<requester>.async.reply` ([`reply_service_id`]) unless
//! [`Inbox::with_reply_service`] says otherwise: the gateway routes every
//! message by its service id, and the request's own route leads to this system.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use egov_core::StatusCode;
use egov_core::clock::Clock;
use egov_proto::v1::{Envelope, Header};
use futures::StreamExt;
use prost::Message;
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tracing::Instrument as _;

use crate::caller::{CallError, GatewayCaller};
use crate::fault::Fault;
use crate::identity::SystemIdentity;
use crate::receiver::EnvelopeReceiver;

/// The last token of a system's reply route: `<requester>.async.reply`.
pub const REPLY_SERVICE_SUFFIX: &str = "async.reply";

/// Pause between fetches that found nothing.
pub const DEFAULT_PULL_INTERVAL: Duration = Duration::from_secs(1);

/// The longest pause after failed fetches (the gateway down, the system unregistered).
const MAX_PULL_BACKOFF: Duration = Duration::from_secs(30);

/// Messages asked for per fetch.
const FETCH_BATCH: u32 = 100;

/// Pushed messages handled at once; more wait in the subscription.
const MAX_IN_FLIGHT: usize = 32;

/// Answered message ids remembered to recognise a redelivery.
const REMEMBERED: usize = 10_000;

/// How long a stop waits for messages being handled before abandoning them
/// (unsettled, so the gateway delivers them again).
const STOP_GRACE: Duration = Duration::from_secs(10);

/// First and longest pause between attempts to reach a NATS that was down at start.
const NATS_RETRY_MIN: Duration = Duration::from_millis(200);
const NATS_RETRY_MAX: Duration = Duration::from_secs(10);

/// Returns `<requester>.async.reply`, the service id an async answer to `requester` travels on.
pub fn reply_service_id(requester: &str) -> String {
    format!("{requester}.{REPLY_SERVICE_SUFFIX}")
}

/// Failures setting up the push inbox.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The system id cannot name a NATS subject.
    #[error("system id {system_id:?} cannot name a NATS inbox: {reason}")]
    Subject {
        /// The system id.
        system_id: String,
        /// Why it was refused.
        reason: String,
    },
    /// NATS refused or lost the subscription.
    #[error("NATS subscription to {subject}: {reason}")]
    Subscribe {
        /// The subject.
        subject: String,
        /// What failed.
        reason: String,
    },
}

/// How a system takes part in the async channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxSettings {
    /// gRPC endpoint of the gateway answers are sent to and fetches go to.
    pub gateway_endpoint: String,
    /// NATS server of the push inbox; `None` leaves push off.
    pub nats_url: Option<String>,
    /// Whether to fetch from the gateway (systems registered `delivery = "pull"`).
    pub pull: bool,
}

impl InboxSettings {
    /// Builds settings from a service's config keys; an empty `nats_url` leaves push off.
    pub fn new(gateway_endpoint: &str, nats_url: &str, pull: bool) -> InboxSettings {
        let nats_url = nats_url.trim();
        InboxSettings {
            gateway_endpoint: gateway_endpoint.to_owned(),
            nats_url: (!nats_url.is_empty()).then(|| nats_url.to_owned()),
            pull,
        }
    }
}

/// What became of one async message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// A request was handled and the gateway stored its answer for the requester.
    Answered {
        /// The answer's message id.
        answer_id: String,
    },
    /// A request was handled but the gateway refused its answer for good (no
    /// reply route, access denied); handling again would not change that.
    Unanswered(CallError),
    /// The system refused the message without an answer: not an envelope, a
    /// signature or certificate that fails, not addressed here, not a request.
    Refused(Fault),
    /// Already answered by this process: a redelivery, not handled again.
    Repeated,
    /// Handled, but the answer could not be stored for now; left for redelivery.
    Retry(CallError),
    /// Being handled right now; left for redelivery.
    Busy,
}

impl Handled {
    /// Returns whether the message is done with: reply to the push, or acknowledge the fetch.
    pub fn settled(&self) -> bool {
        !matches!(self, Handled::Retry(_) | Handled::Busy)
    }

    /// Returns the status code the outcome is reported with.
    pub fn code(&self) -> StatusCode {
        match self {
            Handled::Answered { .. } | Handled::Repeated | Handled::Busy => StatusCode::Success,
            Handled::Unanswered(err) | Handled::Retry(err) => err.code(),
            Handled::Refused(fault) => fault.code,
        }
    }

    fn outcome(&self) -> &'static str {
        match self {
            Handled::Answered { .. } => "answered",
            Handled::Unanswered(_) => "unanswered",
            Handled::Refused(_) => "refused",
            Handled::Repeated => "repeated",
            Handled::Retry(_) => "retry",
            Handled::Busy => "busy",
        }
    }
}

/// A system's async inbox: hands async messages to its receiver and answers through the gateway.
pub struct Inbox<E> {
    receiver: E,
    caller: GatewayCaller,
    reply_service: fn(&Header) -> String,
    pull_interval: Duration,
    seen: Arc<Seen>,
}

impl<E: Clone> Clone for Inbox<E> {
    fn clone(&self) -> Self {
        Inbox {
            receiver: self.receiver.clone(),
            caller: self.caller.clone(),
            reply_service: self.reply_service,
            pull_interval: self.pull_interval,
            seen: self.seen.clone(),
        }
    }
}

impl<E> std::fmt::Debug for Inbox<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("system_id", &self.system_id())
            .field("pull_interval", &self.pull_interval)
            .finish_non_exhaustive()
    }
}

/// Returns the requester's reply route, the default of [`Inbox::with_reply_service`].
fn default_reply_service(request: &Header) -> String {
    reply_service_id(&request.sender_system_id)
}

impl<E> Inbox<E> {
    /// Returns the system id whose messages this inbox takes.
    pub fn system_id(&self) -> &str {
        &self.caller.identity().system_id
    }
}

impl<E: EnvelopeReceiver> Inbox<E> {
    /// Creates an inbox handing messages to `receiver` and answering through `caller`,
    /// whose identity is the system's.
    pub fn new(receiver: E, caller: GatewayCaller) -> Inbox<E> {
        Inbox {
            receiver,
            caller,
            reply_service: default_reply_service,
            pull_interval: DEFAULT_PULL_INTERVAL,
            seen: Arc::new(Seen::default()),
        }
    }

    /// Names the service id an answer travels on, from the request's header.
    pub fn with_reply_service(mut self, reply_service: fn(&Header) -> String) -> Inbox<E> {
        self.reply_service = reply_service;
        self
    }

    /// Sets the pause between fetches that found nothing.
    pub fn with_pull_interval(mut self, interval: Duration) -> Inbox<E> {
        self.pull_interval = interval;
        self
    }

    /// Starts a system's inbox as `settings` say: the push subscription when
    /// NATS is reachable, the pull loop when asked. Never fails: without NATS
    /// or a usable gateway endpoint it warns and runs what it can, since the
    /// sync path does not depend on it. `None` starts nothing.
    pub async fn launch(
        receiver: E,
        identity: Arc<SystemIdentity>,
        clock: Arc<dyn Clock>,
        settings: Option<&InboxSettings>,
    ) -> RunningInbox {
        let Some(settings) = settings else {
            return RunningInbox::idle();
        };
        let system_id = identity.system_id.clone();
        let caller = match GatewayCaller::new(identity, &settings.gateway_endpoint, clock) {
            Ok(caller) => caller,
            Err(error) => {
                tracing::error!(%system_id, %error, "async inbox off: the gateway endpoint is unusable");
                return RunningInbox::idle();
            }
        };
        let inbox = Inbox::new(receiver, caller);
        let (stop, stopped) = watch::channel(false);
        let mut running = RunningInbox {
            stop,
            tasks: Vec::new(),
            pushing: Arc::new(AtomicBool::new(false)),
            pulling: false,
        };
        if let Some(url) = &settings.nats_url {
            match connect_nats(url, &system_id).await {
                Ok(client) => match inbox.clone().serve_push(client, stopped.clone()).await {
                    Ok(task) => {
                        running.tasks.push(task);
                        running.pushing.store(true, Ordering::Release);
                    }
                    Err(error) => {
                        tracing::warn!(%system_id, %error, "async push inbox off; the sync path is unaffected");
                    }
                },
                Err(error) => {
                    // async-nats reconnects by itself only once it has connected: until then
                    // this task retries, so a NATS that comes up later still gets the inbox.
                    tracing::warn!(%system_id, %url, %error, "NATS unreachable: async push inbox waits for it; the sync path is unaffected");
                    running
                        .tasks
                        .push(tokio::spawn(inbox.clone().push_when_reachable(
                            url.clone(),
                            stopped.clone(),
                            running.pushing.clone(),
                        )));
                }
            }
        }
        if settings.pull {
            running.tasks.push(tokio::spawn(inbox.pull(stopped)));
            running.pulling = true;
            tracing::info!(%system_id, gateway = %settings.gateway_endpoint, "async pull started");
        }
        running
    }

    /// Retries connecting to NATS at `url` with backoff until it answers, then serves the
    /// push inbox until `stop` turns true; `pushing` turns true once subscribed.
    async fn push_when_reachable(
        self,
        url: String,
        mut stop: watch::Receiver<bool>,
        pushing: Arc<AtomicBool>,
    ) {
        let system_id = self.system_id().to_owned();
        let mut pause = NATS_RETRY_MIN;
        loop {
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => return,
                () = tokio::time::sleep(pause) => {}
            }
            pause = pause.saturating_mul(2).min(NATS_RETRY_MAX);
            let client = match connect_nats(&url, &system_id).await {
                Ok(client) => client,
                Err(error) => {
                    tracing::debug!(%system_id, %url, %error, retry_in_ms = pause.as_millis(), "NATS still unreachable");
                    continue;
                }
            };
            match self.clone().serve_push(client, stop.clone()).await {
                Ok(task) => {
                    pushing.store(true, Ordering::Release);
                    tracing::info!(%system_id, %url, "NATS reachable: async push inbox on");
                    if let Err(error) = task.await {
                        tracing::warn!(%system_id, %error, "async push inbox task failed");
                    }
                    return;
                }
                Err(error) => {
                    tracing::warn!(%system_id, %error, retry_in_ms = pause.as_millis(), "async push inbox could not subscribe; retrying");
                }
            }
        }
    }

    /// Subscribes to the system's push inbox on `client` and serves it until
    /// `stop` turns true (or its sender is gone); the task returned ends then.
    pub async fn serve_push(
        self,
        client: async_nats::Client,
        stop: watch::Receiver<bool>,
    ) -> Result<JoinHandle<()>, InboxError> {
        let system_id = self.system_id().to_owned();
        let subject = egov_bus::subjects::inbox(&system_id).map_err(|err| InboxError::Subject {
            system_id: system_id.clone(),
            reason: err.to_string(),
        })?;
        let failed = |reason: String| InboxError::Subscribe {
            subject: subject.clone(),
            reason,
        };
        let subscriber = client
            .queue_subscribe(subject.clone(), system_id.clone())
            .await
            .map_err(|err| failed(err.to_string()))?;
        // Flushed, so the server has the subscription before the system reports it ready.
        client
            .flush()
            .await
            .map_err(|err| failed(err.to_string()))?;
        tracing::info!(%system_id, %subject, "async push inbox subscribed");
        Ok(tokio::spawn(self.push_loop(client, subscriber, stop)))
    }

    async fn push_loop(
        self,
        client: async_nats::Client,
        mut subscriber: async_nats::Subscriber,
        mut stop: watch::Receiver<bool>,
    ) {
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut tasks = JoinSet::new();
        loop {
            let next = tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => break,
                next = subscriber.next() => next,
            };
            let Some(message) = next else {
                tracing::warn!(
                    system_id = self.system_id(),
                    "async push inbox subscription ended"
                );
                break;
            };
            // Waits while MAX_IN_FLIGHT are handled: the rest queue in the subscription.
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let inbox = self.clone();
            let client = client.clone();
            tasks.spawn(async move {
                inbox.on_push(&client, message).await;
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
        }
        if let Err(error) = subscriber.unsubscribe().await {
            tracing::debug!(%error, "async push inbox unsubscribe failed; the connection closes anyway");
        }
        let drained = tokio::time::timeout(STOP_GRACE, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                system_id = self.system_id(),
                "async messages still being handled were abandoned; the gateway delivers them again"
            );
        }
    }

    /// Handles one pushed message and replies to the gateway once it is settled.
    async fn on_push(&self, client: &async_nats::Client, message: async_nats::Message) {
        // The handling continues the sender's trace, which the gateway's push carries.
        let span = egov_bus::trace_context::nats_consumer_span(
            self.system_id(),
            "inbox",
            message.subject.as_str(),
            message.headers.as_ref(),
        );
        self.on_push_traced(client, message).instrument(span).await;
    }

    async fn on_push_traced(&self, client: &async_nats::Client, message: async_nats::Message) {
        let handled = match Envelope::decode(message.payload.as_ref()) {
            Ok(envelope) => self.handle(envelope).await,
            Err(err) => self.report(
                None,
                Handled::Refused(Fault::new(
                    StatusCode::MalformedMessage,
                    format!("pushed bytes are not an envelope: {err}"),
                )),
            ),
        };
        if !handled.settled() {
            // No reply: the gateway's timeout schedules the redelivery.
            return;
        }
        if let Some(reply) = message.reply
            && let Err(error) = client.publish(reply, handled.code().as_str().into()).await
        {
            tracing::warn!(%error, "reply to a pushed message was lost; it will come again");
        }
    }

    /// Fetches and handles async messages until `stop` turns true (or its sender
    /// is gone), pausing when none wait and backing off while fetches fail.
    pub async fn pull(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = self.pull_interval;
        loop {
            if *stop.borrow() {
                break;
            }
            let pause = match self.pull_once().await {
                Ok(fetched) => {
                    backoff = self.pull_interval;
                    // A full batch may have more behind it.
                    if fetched > 0 {
                        Duration::ZERO
                    } else {
                        self.pull_interval
                    }
                }
                Err(error) => {
                    let pause = backoff;
                    backoff = backoff.saturating_mul(2).min(MAX_PULL_BACKOFF);
                    tracing::warn!(
                        system_id = self.system_id(),
                        code = %error.code(),
                        %error,
                        retry_in_ms = pause.as_millis(),
                        "fetching async messages failed"
                    );
                    pause
                }
            };
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Fetches one batch, handles it and acknowledges what is settled; returns how many came.
    pub async fn pull_once(&self) -> Result<usize, CallError> {
        let envelopes = self.caller.fetch_traced(FETCH_BATCH).await?;
        let fetched = envelopes.len();
        let mut settled = Vec::new();
        for (envelope, traceparent) in envelopes {
            // The gateway keys a fetched message by its header's message id.
            let message_id = Header::decode(&envelope.header[..])
                .map(|header| header.message_id)
                .unwrap_or_default();
            // A copy handed over twice in one batch (a duplicated delivery) is
            // acknowledged once: the gateway refuses a second acknowledgement.
            // The handling continues the sender's trace, as a pushed message's does.
            let span = egov_bus::trace_context::fetched_span(self.system_id(), &traceparent);
            if self.handle(envelope).instrument(span).await.settled()
                && !message_id.is_empty()
                && !settled.contains(&message_id)
            {
                settled.push(message_id);
            }
        }
        if !settled.is_empty() {
            self.caller.acknowledge(settled).await?;
        }
        Ok(fetched)
    }

    /// Handles one async message: verifies and handles it as the sync path
    /// does, and sends a request's signed answer back through the gateway.
    pub async fn handle(&self, envelope: Envelope) -> Handled {
        // Work in hand until the message is settled: on the stack clock the authority does
        // not move on meanwhile, so a timer this work sets is not overtaken.
        let _hold = self.caller.clock().hold();
        // Read unverified, only to name the message and recognise a repeat;
        // the receiver verifies it before anything is handled.
        let request = Header::decode(&envelope.header[..]).ok();
        let claim = match request.as_ref().map(|header| header.message_id.as_str()) {
            Some(message_id) if !message_id.is_empty() => match self.seen.claim(message_id) {
                Claimed::New(claim) => Some(claim),
                Claimed::Busy => return self.report(request.as_ref(), Handled::Busy),
                Claimed::Answered => return self.report(request.as_ref(), Handled::Repeated),
            },
            _ => None,
        };
        let handled = match self.receiver.handle_envelope(envelope).await {
            Err(fault) => Handled::Refused(fault),
            // The receiver answers only a request whose header decoded.
            Ok(answer) => match &request {
                Some(request) => match self.answer(request, answer).await {
                    Ok(answer_id) => Handled::Answered { answer_id },
                    Err(err) if is_transient(&err) => Handled::Retry(err),
                    Err(err) => Handled::Unanswered(err),
                },
                None => Handled::Refused(Fault::new(
                    StatusCode::Internal,
                    "answered a message whose header does not decode",
                )),
            },
        };
        if let Some(claim) = claim {
            claim.finish(matches!(
                handled,
                Handled::Answered { .. } | Handled::Unanswered(_)
            ));
        }
        self.report(request.as_ref(), handled)
    }

    /// Sends the receiver's signed answer to the requester on its reply route.
    async fn answer(&self, request: &Header, answer: Envelope) -> Result<String, CallError> {
        let mut header = Header::decode(&answer.header[..])
            .map_err(|err| CallError::Decode(format!("own answer header: {err}")))?;
        // The receiver answered on the request's service id, which routes back
        // here; the answer is sealed again on the reply route.
        header.service_id = (self.reply_service)(request);
        let answer = self
            .caller
            .identity()
            .signer
            .seal(&header, answer.payload)?;
        self.caller.send_async(answer).await
    }

    /// Logs and counts an outcome, then returns it.
    fn report(&self, request: Option<&Header>, handled: Handled) -> Handled {
        let system_id = self.system_id();
        let message_id = request.map_or("", |header| header.message_id.as_str());
        let service_id = request.map_or("", |header| header.service_id.as_str());
        let sender = request.map_or("", |header| header.sender_system_id.as_str());
        let code = handled.code();
        match &handled {
            Handled::Answered { answer_id } => {
                tracing::debug!(
                    system_id,
                    message_id,
                    service_id,
                    sender,
                    answer_id,
                    "async request answered"
                );
            }
            Handled::Repeated | Handled::Busy => {
                tracing::debug!(
                    system_id,
                    message_id,
                    outcome = handled.outcome(),
                    "async message redelivered"
                );
            }
            Handled::Refused(fault) => {
                tracing::warn!(system_id, message_id, service_id, sender, %code, reason = %fault.message, "async message refused");
            }
            Handled::Unanswered(error) => {
                tracing::warn!(system_id, message_id, service_id, sender, %code, %error, "answer to an async request was refused by the gateway");
            }
            Handled::Retry(error) => {
                tracing::info!(system_id, message_id, service_id, %code, %error, "answer to an async request not stored yet; it comes again");
            }
        }
        metrics::counter!(
            "system_async_messages_total",
            "system" => system_id.to_owned(),
            "outcome" => handled.outcome(),
            "code" => code.as_str()
        )
        .increment(1);
        handled
    }
}

/// Returns whether the gateway may store the answer on a later try.
fn is_transient(error: &CallError) -> bool {
    matches!(
        error,
        CallError::Refused {
            code: StatusCode::TargetUnavailable | StatusCode::TargetTimeout | StatusCode::Internal,
            ..
        }
    )
}

/// Connects to NATS once, naming the connection after the system.
async fn connect_nats(
    url: &str,
    system_id: &str,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    egov_bus::nats_accounts::connect(
        url,
        async_nats::ConnectOptions::new().name(format!("egov-{system_id}")),
    )
    .await
}

/// A started inbox; [`RunningInbox::stop`] ends it.
#[derive(Debug)]
pub struct RunningInbox {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    // Shared: a push inbox waiting for NATS turns it on later.
    pushing: Arc<AtomicBool>,
    pulling: bool,
}

impl RunningInbox {
    /// Returns an inbox that runs nothing (async off).
    pub fn idle() -> RunningInbox {
        RunningInbox {
            stop: watch::channel(false).0,
            tasks: Vec::new(),
            pushing: Arc::new(AtomicBool::new(false)),
            pulling: false,
        }
    }

    /// Returns whether the push subscription runs (false while NATS is awaited).
    pub fn is_pushing(&self) -> bool {
        self.pushing.load(Ordering::Acquire)
    }

    /// Returns whether the pull loop runs.
    pub fn is_pulling(&self) -> bool {
        self.pulling
    }

    /// Stops taking messages and waits briefly for those being handled;
    /// whatever is left unsettled the gateway delivers again.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        for mut task in self.tasks {
            if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

/// Message ids this process is handling or has answered.
#[derive(Debug, Default)]
struct Seen {
    state: Mutex<SeenState>,
}

#[derive(Debug, Default)]
struct SeenState {
    handling: HashSet<String>,
    answered: HashSet<String>,
    // Answered ids, oldest first, to forget beyond REMEMBERED.
    order: VecDeque<String>,
}

enum Claimed<'a> {
    New(Claim<'a>),
    Busy,
    Answered,
}

/// A message id being handled; dropped unfinished (a cancelled handling) it is released.
struct Claim<'a> {
    seen: &'a Seen,
    message_id: String,
    finished: bool,
}

impl Seen {
    fn lock(&self) -> std::sync::MutexGuard<'_, SeenState> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn claim(&self, message_id: &str) -> Claimed<'_> {
        let mut state = self.lock();
        if state.answered.contains(message_id) {
            return Claimed::Answered;
        }
        if !state.handling.insert(message_id.to_owned()) {
            return Claimed::Busy;
        }
        Claimed::New(Claim {
            seen: self,
            message_id: message_id.to_owned(),
            finished: false,
        })
    }
}

impl Claim<'_> {
    /// Releases the id, remembering it when it was answered.
    fn finish(mut self, answered: bool) {
        self.finished = true;
        let mut state = self.seen.lock();
        state.handling.remove(&self.message_id);
        if answered && state.answered.insert(self.message_id.clone()) {
            state.order.push_back(self.message_id.clone());
            while state.order.len() > REMEMBERED {
                if let Some(oldest) = state.order.pop_front() {
                    state.answered.remove(&oldest);
                }
            }
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.seen.lock().handling.remove(&self.message_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_route_is_the_requesters() {
        assert_eq!(reply_service_id("portal"), "portal.async.reply");
    }

    #[test]
    fn empty_nats_url_leaves_push_off() {
        let settings = InboxSettings::new("http://127.0.0.1:7100", " ", true);
        assert_eq!(settings.nats_url, None);
        assert!(settings.pull);
        let settings = InboxSettings::new("http://127.0.0.1:7100", "nats://127.0.0.1:4222", false);
        assert_eq!(settings.nats_url.as_deref(), Some("nats://127.0.0.1:4222"));
    }

    #[test]
    fn a_message_is_claimed_once_and_remembered_only_when_answered() {
        let seen = Seen::default();
        let Claimed::New(claim) = seen.claim("m1") else {
            panic!("first claim")
        };
        assert!(matches!(seen.claim("m1"), Claimed::Busy));
        claim.finish(false);
        let Claimed::New(claim) = seen.claim("m1") else {
            panic!("released after a refusal")
        };
        claim.finish(true);
        assert!(matches!(seen.claim("m1"), Claimed::Answered));
    }

    #[test]
    fn a_cancelled_handling_releases_its_claim() {
        let seen = Seen::default();
        let claimed = seen.claim("m1");
        assert!(matches!(claimed, Claimed::New(_)));
        drop(claimed);
        assert!(matches!(seen.claim("m1"), Claimed::New(_)));
    }

    #[test]
    fn answered_ids_are_forgotten_oldest_first() {
        let seen = Seen::default();
        for n in 0..=REMEMBERED {
            if let Claimed::New(claim) = seen.claim(&n.to_string()) {
                claim.finish(true);
            }
        }
        assert!(matches!(seen.claim("0"), Claimed::New(_)));
        assert!(matches!(
            seen.claim(&REMEMBERED.to_string()),
            Claimed::Answered
        ));
    }

    #[test]
    fn only_unsettled_outcomes_wait_for_redelivery() {
        let transient = CallError::Refused {
            code: StatusCode::TargetUnavailable,
            message: "gateway down".into(),
        };
        assert!(is_transient(&transient));
        assert!(!Handled::Retry(transient).settled());
        assert!(!Handled::Busy.settled());
        assert!(Handled::Repeated.settled());
        let refused = Handled::Refused(Fault::new(StatusCode::SignatureMissing, "unsigned"));
        assert!(refused.settled());
        assert_eq!(refused.code(), StatusCode::SignatureMissing);
        assert!(!is_transient(&CallError::Refused {
            code: StatusCode::UnknownService,
            message: "no reply route".into(),
        }));
    }
}
