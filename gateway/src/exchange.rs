//! The gateway's core: admitting a signed envelope (verification, replay,
//! route, access rights, identity) and the sync exchange that forwards it to
//! the target and verifies the signed answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use egov_core::clock::Clock;
use egov_core::envelope::{
    RevocationSource, Signer, Verified, Verifier, VerifyError, VerifyPolicy, sha256,
};
use egov_core::{Iin, StatusCode};
use egov_proto::v1::message_receiver_client::MessageReceiverClient;
use egov_proto::v1::{Envelope, Header, MessageType};
use prost::Message;
use tonic::transport::Endpoint;

use crate::async_channel::names::is_valid_message_id;
use crate::message_log::{Direction, LogRecord, MessageLog, RefusalRecord};
use crate::registry::{Registry, RegistryHandle, ServiceRoute, Transport};
use crate::replay::ReplayGuard;

/// A refusal: the status code and the reason naming what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    /// The code.
    pub code: StatusCode,
    /// The reason.
    pub message: String,
}

/// Longest reason a refusal carries: reasons quote header fields the sender
/// chose, which must not grow answers, log rows or log lines without bound.
pub const MAX_REASON_CHARS: usize = 512;

/// Longest header field a log line quotes.
pub const MAX_LOGGED_FIELD_CHARS: usize = 128;

/// Default window around the gateway's clock in which a message time is accepted.
pub const DEFAULT_MESSAGE_TIME_WINDOW: Duration = Duration::from_secs(300);

/// How many admitted message ids pass between two prunings of the replay table.
const PRUNE_EVERY_CLAIMS: u64 = 4096;

/// Returns `text` cut to at most `max` characters, marked with `…` when cut.
pub fn clip(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}…", &text[..end])),
    }
}

impl Refusal {
    /// Creates a refusal; its reason is clipped to [`MAX_REASON_CHARS`].
    pub fn new(code: StatusCode, message: impl Into<String>) -> Refusal {
        let message = message.into();
        let message = match clip(&message, MAX_REASON_CHARS) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(clipped) => clipped,
        };
        Refusal { code, message }
    }

    /// Converts to the gRPC status the sender receives.
    pub fn to_grpc(&self) -> tonic::Status {
        let mut status = self.code.to_grpc(&self.message);
        if let Ok(value) = self.code.as_str().parse() {
            status.metadata_mut().insert(STATUS_CODE_METADATA, value);
        }
        status
    }
}

impl From<VerifyError> for Refusal {
    fn from(err: VerifyError) -> Refusal {
        Refusal::new(err.status(), err.to_string())
    }
}

/// gRPC metadata key carrying the gateway status code of a refusal.
pub const STATUS_CODE_METADATA: &str = "egov-status-code";

/// Which channel a message came in on, as the log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// gRPC `SendMessage`.
    Sync,
    /// JetStream `SendAsyncMessage`.
    Async,
}

impl ChannelKind {
    /// Returns the logged name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Sync => "SYNC",
            ChannelKind::Async => "ASYNC",
        }
    }
}

/// An envelope that passed every check at the gateway's door.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// The verified header and signers.
    pub verified: Verified,
    /// Its route.
    pub route: Arc<ServiceRoute>,
    /// The registry table it was admitted under.
    pub registry: Arc<Registry>,
}

/// An envelope as the log keeps it: the body's digest and the signers'
/// subjects are worked out once and shared by every hop of the envelope.
#[derive(Debug, Clone)]
pub struct Logged<'a> {
    /// The envelope.
    pub envelope: &'a Envelope,
    body_sha256: Bytes,
    signers: Vec<String>,
}

impl<'a> Logged<'a> {
    /// Takes both from a verification of this envelope: every signature's
    /// payload digest was checked against the body, so no hashing is repeated.
    pub fn verified(envelope: &'a Envelope, verified: &Verified) -> Logged<'a> {
        let body_sha256 = envelope
            .signatures
            .first()
            .map(|sig| sig.payload_sha256.clone())
            .filter(|digest| digest.len() == 32)
            .unwrap_or_else(|| Bytes::copy_from_slice(&sha256(&envelope.payload)));
        Logged {
            envelope,
            body_sha256,
            signers: verified
                .signers
                .iter()
                .map(|signer| signer.subject.clone())
                .collect(),
        }
    }
}

/// The parts of the gateway that every channel shares.
pub struct Gateway<R> {
    /// This gateway's system id (the participant in diagrams).
    pub system_id: String,
    registry: Arc<RegistryHandle>,
    verifier: Verifier<R>,
    replay: ReplayGuard,
    log: MessageLog,
    clock: Arc<dyn Clock>,
    max_message_bytes: usize,
    message_time_window: Duration,
    claims: AtomicU64,
    targets: TargetPool,
    nats: Option<async_nats::Client>,
    seal: Option<Arc<Signer>>,
    signers: SubjectCache,
    operators: egov_signin::operator::Operators,
    faults: Arc<crate::faults::FaultTable>,
    replica_id: String,
}

/// Names this process among the gateway's replicas (see [`Gateway::replica_id`]).
fn replica_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "gateway".to_owned());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}-{}", &suffix[..8])
}

impl<R> std::fmt::Debug for Gateway<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("system_id", &self.system_id)
            .finish_non_exhaustive()
    }
}

/// What a gateway is built from.
pub struct GatewayParts<R> {
    /// This gateway's system id.
    pub system_id: String,
    /// The live registry.
    pub registry: Arc<RegistryHandle>,
    /// The verifier (trusted roots and cached revocation).
    pub verifier: Verifier<R>,
    /// Replay protection.
    pub replay: ReplayGuard,
    /// The message log.
    pub log: MessageLog,
    /// The clock stamping log records.
    pub clock: Arc<dyn Clock>,
    /// Largest envelope accepted.
    pub max_message_bytes: usize,
    /// NATS, for NATS-routed services.
    pub nats: Option<async_nats::Client>,
}

impl<R: RevocationSource> Gateway<R> {
    /// Assembles a gateway.
    pub fn new(parts: GatewayParts<R>) -> Gateway<R> {
        Gateway {
            system_id: parts.system_id,
            registry: parts.registry,
            verifier: parts.verifier,
            replay: parts.replay,
            log: parts.log,
            clock: parts.clock,
            max_message_bytes: parts.max_message_bytes,
            message_time_window: DEFAULT_MESSAGE_TIME_WINDOW,
            claims: AtomicU64::new(0),
            targets: TargetPool::default(),
            nats: parts.nats,
            seal: None,
            signers: SubjectCache::default(),
            operators: egov_signin::operator::Operators::default(),
            faults: Arc::default(),
            replica_id: replica_id(),
        }
    }

    /// Returns this process's name among the gateway's replicas: its host name (a
    /// container's or pod's) and a random suffix, so two processes on one host differ.
    pub fn replica_id(&self) -> &str {
        &self.replica_id
    }

    /// Sets how far a message time may lie from the gateway's clock, either way.
    pub fn with_message_time_window(mut self, window: Duration) -> Gateway<R> {
        self.message_time_window = window;
        self
    }

    /// Returns the largest envelope accepted, in bytes.
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    /// Returns the window around the gateway's clock in which a message time is accepted.
    pub fn message_time_window(&self) -> Duration {
        self.message_time_window
    }

    /// Admits these operators to the message log (OPERATOR) and the registry reload (ADMIN);
    /// without them no one is admitted.
    pub fn with_operators(mut self, operators: egov_signin::operator::Operators) -> Gateway<R> {
        self.operators = operators;
        self
    }

    /// Returns who may read the log and reload the registry.
    pub fn operators(&self) -> &egov_signin::operator::Operators {
        &self.operators
    }

    /// Gives the gateway its own seal, which countersigns the answers it relays
    /// when another gateway forwards to it (the regional role).
    pub fn with_seal(mut self, seal: Arc<Signer>) -> Gateway<R> {
        self.seal = Some(seal);
        self
    }

    /// Relays a request another gateway forwarded here: the same exchange as
    /// [`Gateway::send_message`], with the answer countersigned by this
    /// gateway's seal so the forwarding gateway sees it signed by its target.
    pub async fn relay(&self, envelope: Envelope) -> Result<Envelope, Refusal> {
        let mut answer = self.send_message(envelope).await?;
        if let Some(seal) = &self.seal {
            seal.countersign(&mut answer).map_err(|err| {
                Refusal::new(
                    StatusCode::Internal,
                    format!("countersigning the answer: {err}"),
                )
            })?;
        }
        Ok(answer)
    }

    /// Returns the live registry.
    pub fn registry(&self) -> &Arc<RegistryHandle> {
        &self.registry
    }

    /// Returns the message log.
    pub fn log(&self) -> &MessageLog {
        &self.log
    }

    /// Returns the verifier.
    pub fn verifier(&self) -> &Verifier<R> {
        &self.verifier
    }

    /// Returns the clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Returns the faults an operator injected (see [`crate::faults`]).
    pub fn faults(&self) -> &Arc<crate::faults::FaultTable> {
        &self.faults
    }

    /// Returns the NATS connection, if there is one (the async channel runs on it).
    pub fn nats(&self) -> Option<&async_nats::Client> {
        self.nats.as_ref()
    }

    /// Checks an envelope at the door: size, signatures, header, replay,
    /// route, access rights and the identity rules.
    pub async fn admit(&self, envelope: &Envelope) -> Result<Admitted, Refusal> {
        let size = envelope.encoded_len();
        if size > self.max_message_bytes {
            return Err(Refusal::new(
                StatusCode::MessageTooLarge,
                format!(
                    "envelope is {size} bytes, the limit is {}",
                    self.max_message_bytes
                ),
            ));
        }
        // Certificates are judged at the gateway's own time: the message time
        // is the sender's word, bounded below but never trusted for validity.
        let now = self.clock.now();
        let verified = self
            .verifier
            .verify_at(envelope, &VerifyPolicy::any(), now)
            .await?;
        let header = &verified.header;
        self.check_message_time(verified.message_time, now)?;
        check_header(header)?;
        check_ids(header)?;
        self.claim(&header.message_id, now).await?;
        let registry = self.registry.current();
        let route = registry.route(&header.service_id).cloned().ok_or_else(|| {
            Refusal::new(
                StatusCode::UnknownService,
                format!("no route for service id {:?}", header.service_id),
            )
        })?;
        if let Some(limit) = route.max_message_bytes
            && size > limit
        {
            return Err(Refusal::new(
                StatusCode::MessageTooLarge,
                format!(
                    "envelope is {size} bytes, service {} accepts {limit}",
                    route.service_id
                ),
            ));
        }
        let sender = registry
            .system(&header.sender_system_id)
            .filter(|_| route.allows(&header.sender_system_id))
            .ok_or_else(|| {
                Refusal::new(
                    StatusCode::AccessDenied,
                    format!(
                        "system {:?} may not call service {}",
                        header.sender_system_id, route.service_id
                    ),
                )
            })?;
        // A request may name the route's target, or this gateway itself when
        // another gateway relays it here (national ШЭП → regional РШЭП).
        if header.receiver_system_id != route.target && header.receiver_system_id != self.system_id
        {
            return Err(Refusal::new(
                StatusCode::MalformedMessage,
                format!(
                    "receiver {:?} does not serve {}; its target is {}",
                    header.receiver_system_id, route.service_id, route.target
                ),
            ));
        }
        if !verified.signed_by_bin(&sender.bin) {
            return Err(Refusal::new(
                StatusCode::IinMismatch,
                format!(
                    "no signature carries BIN {} of sender system {}",
                    sender.bin, sender.id
                ),
            ));
        }
        check_user_iin(&verified)?;
        self.check_injected_revocation(
            &route,
            crate::faults::Party::Sender,
            &header.sender_system_id,
        )
        .await?;
        Ok(Admitted {
            verified,
            route,
            registry,
        })
    }

    /// Refuses a message time further than the window from the gateway's clock.
    fn check_message_time(
        &self,
        message_time: time::OffsetDateTime,
        now: time::OffsetDateTime,
    ) -> Result<(), Refusal> {
        let skew = message_time - now;
        if skew.unsigned_abs() > self.message_time_window {
            return Err(Refusal::new(
                StatusCode::MessageTimeOutOfWindow,
                format!(
                    "message_time {message_time} is {} s {} the gateway's time {now}; at most {} s either way is accepted",
                    skew.whole_seconds().unsigned_abs(),
                    if skew.is_negative() {
                        "before"
                    } else {
                        "after"
                    },
                    self.message_time_window.as_secs()
                ),
            ));
        }
        Ok(())
    }

    /// Admits a message id once: first the in-memory guard (a cheap answer to a
    /// burst of replays), then the durable table every replica shares, which
    /// also remembers ids across restarts.
    async fn claim(&self, message_id: &str, now: time::OffsetDateTime) -> Result<(), Refusal> {
        let replayed = || {
            Refusal::new(
                StatusCode::DuplicateMessageId,
                format!("message id {message_id} was already received"),
            )
        };
        if !self.replay.first_time(message_id) {
            return Err(replayed());
        }
        let first = self
            .log
            .claim_message_id(message_id, now)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "replay table unavailable");
                Refusal::new(
                    StatusCode::Internal,
                    "the gateway cannot check the message id for replay now; retry later",
                )
            })?;
        if !first {
            return Err(replayed());
        }
        if self
            .claims
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PRUNE_EVERY_CLAIMS)
        {
            // An id seen more than two windows ago can only come back with a
            // message time outside the window, which is refused anyway.
            let before = now - self.message_time_window * 2 - time::Duration::MINUTE;
            let log = self.log.clone();
            tokio::spawn(async move {
                if let Err(err) = log.forget_message_ids_before(before).await {
                    tracing::warn!(error = %err, "pruning the replay table failed");
                }
            });
        }
        Ok(())
    }

    /// Runs one sync exchange: admit, forward, verify the answer, log every hop.
    pub async fn send_message(&self, envelope: Envelope) -> Result<Envelope, Refusal> {
        let started = Instant::now();
        let received_at = self.clock.now();
        let admitted = match self.admit(&envelope).await {
            Ok(admitted) => admitted,
            Err(refusal) => {
                self.log_refused(&envelope, ChannelKind::Sync, &refusal, received_at, started)
                    .await;
                return Err(refusal);
            }
        };
        let route = admitted.route.clone();
        let header = &admitted.verified.header;
        let request = Logged::verified(&envelope, &admitted.verified);
        self.log_hop(
            &request,
            header,
            Direction::Inbound,
            ChannelKind::Sync,
            &route,
            StatusCode::Success,
            "",
            received_at,
            0,
        )
        .await;

        let forwarded_at = self.clock.now();
        let forward_started = Instant::now();
        let (forwarded, injected) = self.forward_with_faults(&route, envelope.clone()).await;
        let outcome = match forwarded {
            Ok(answer) => self.check_answer(&admitted, answer).await,
            Err(refusal) => Err(refusal),
        };
        let forward_us = elapsed_us(forward_started);
        match outcome {
            Ok((answer, verified_answer)) => {
                let answer_header = &verified_answer.header;
                // The log names the hop's real peer: a header addressed to this
                // gateway (a relay) still went on to the route's target.
                let forwarded = Header {
                    receiver_system_id: route.target.clone(),
                    ..header.clone()
                };
                let answered = Header {
                    sender_system_id: route.target.clone(),
                    ..answer_header.clone()
                };
                self.log_hop(
                    &request,
                    &forwarded,
                    Direction::Outbound,
                    ChannelKind::Sync,
                    &route,
                    StatusCode::Success,
                    &injected,
                    forwarded_at,
                    forward_us,
                )
                .await;
                let answered_at = self.clock.now();
                let logged_answer = Logged::verified(&answer, &verified_answer);
                self.log_hop(
                    &logged_answer,
                    &answered,
                    Direction::Inbound,
                    ChannelKind::Sync,
                    &route,
                    StatusCode::Success,
                    "",
                    answered_at,
                    0,
                )
                .await;
                self.log_hop(
                    &logged_answer,
                    answer_header,
                    Direction::Outbound,
                    ChannelKind::Sync,
                    &route,
                    StatusCode::Success,
                    "",
                    answered_at,
                    elapsed_us(started),
                )
                .await;
                metrics::counter!("gateway_requests_total", "service" => route.service_id.clone(), "code" => StatusCode::Success.as_str()).increment(1);
                metrics::histogram!("gateway_request_duration_seconds", "service" => route.service_id.clone())
                    .record(started.elapsed().as_secs_f64());
                Ok(answer)
            }
            Err(refusal) => {
                let forwarded = Header {
                    receiver_system_id: route.target.clone(),
                    ..header.clone()
                };
                self.log_hop(
                    &request,
                    &forwarded,
                    Direction::Outbound,
                    ChannelKind::Sync,
                    &route,
                    refusal.code,
                    &refusal.message,
                    forwarded_at,
                    forward_us,
                )
                .await;
                metrics::counter!("gateway_requests_total", "service" => route.service_id.clone(), "code" => refusal.code.as_str()).increment(1);
                Err(refusal)
            }
        }
    }

    /// Sends the envelope to the route's target and returns its answer.
    pub(crate) async fn forward(
        &self,
        route: &ServiceRoute,
        envelope: Envelope,
    ) -> Result<Envelope, Refusal> {
        match &route.transport {
            Transport::Grpc(endpoint) => {
                let mut client = self.targets.client(endpoint)?;
                let call = client.receive(envelope);
                match tokio::time::timeout(route.timeout, call).await {
                    Err(_) => Err(timeout_refusal(route)),
                    Ok(Ok(answer)) => Ok(answer.into_inner()),
                    Ok(Err(status)) => Err(target_status_refusal(route, &status)),
                }
            }
            Transport::Nats(subject) => {
                let nats = self.nats.as_ref().ok_or_else(|| {
                    Refusal::new(
                        StatusCode::TargetUnavailable,
                        format!(
                            "service {} is routed over NATS, which is not connected",
                            route.service_id
                        ),
                    )
                })?;
                let request = nats.request_with_headers(
                    subject.clone(),
                    egov_bus::trace_context::current_headers(),
                    envelope.encode_to_vec().into(),
                );
                match tokio::time::timeout(route.timeout, request).await {
                    Err(_) => Err(timeout_refusal(route)),
                    Ok(Err(err)) => Err(Refusal::new(
                        StatusCode::TargetUnavailable,
                        format!("target {} on {subject}: {err}", route.target),
                    )),
                    Ok(Ok(reply)) => Envelope::decode(reply.payload.as_ref()).map_err(|err| {
                        Refusal::new(
                            StatusCode::MalformedMessage,
                            format!(
                                "target {} answered bytes that are not an envelope: {err}",
                                route.target
                            ),
                        )
                    }),
                }
            }
        }
    }

    /// Verifies the target's answer: signed by the target system, a response to this request.
    async fn check_answer(
        &self,
        admitted: &Admitted,
        answer: Envelope,
    ) -> Result<(Envelope, Verified), Refusal> {
        let route = &admitted.route;
        let request = &admitted.verified.header;
        let verified = self
            .verifier
            .verify_at(&answer, &VerifyPolicy::any(), self.clock.now())
            .await
            .map_err(|err| {
                Refusal::new(
                    err.status(),
                    format!("answer of target {}: {err}", route.target),
                )
            })?;
        let target = admitted.registry.system(&route.target).ok_or_else(|| {
            Refusal::new(
                StatusCode::Internal,
                format!("target {} left the registry", route.target),
            )
        })?;
        if !verified.signed_by_bin(&target.bin) {
            return Err(Refusal::new(
                StatusCode::IinMismatch,
                format!(
                    "answer of target {} carries no signature with its BIN {}",
                    target.id, target.bin
                ),
            ));
        }
        self.check_injected_revocation(route, crate::faults::Party::Target, &route.target)
            .await?;
        let header = &verified.header;
        if header.message_type != MessageType::Response as i32
            || header.correlation_id != request.correlation_id
        {
            return Err(Refusal::new(
                StatusCode::MalformedMessage,
                format!(
                    "answer of target {} is not a response with correlation id {}",
                    route.target, request.correlation_id
                ),
            ));
        }
        Ok((answer, verified))
    }

    /// Logs an envelope refused at the door in the refusal table: the digest
    /// of its header bytes and the reason only. A refused envelope proved
    /// nothing, so it is never stored with its body nor under the message or
    /// correlation id it claims, and log lines quote its fields clipped.
    pub async fn log_refused(
        &self,
        envelope: &Envelope,
        channel: ChannelKind,
        refusal: &Refusal,
        received_at: time::OffsetDateTime,
        started: Instant,
    ) {
        let header = Header::decode(&envelope.header[..]).unwrap_or_default();
        let field = |text: &str| clip(text, MAX_LOGGED_FIELD_CHARS).into_owned();
        tracing::info!(
            message_id = %field(&header.message_id),
            correlation_id = %field(&header.correlation_id),
            service_id = %field(&header.service_id),
            sender = %field(&header.sender_system_id),
            code = %refusal.code,
            reason = %refusal.message,
            duration_us = elapsed_us(started),
            "message refused"
        );
        // Labelled by the route only when there is one: a label per claimed
        // service id would let a sender grow the metrics without bound.
        let service = if self.registry.current().route(&header.service_id).is_some() {
            header.service_id
        } else {
            "(unknown)".to_owned()
        };
        metrics::counter!("gateway_requests_total", "service" => service, "code" => refusal.code.as_str()).increment(1);
        let record = RefusalRecord {
            header_sha256: sha256(&envelope.header).to_vec(),
            channel: channel.as_str().to_owned(),
            status_code: refusal.code.as_str().to_owned(),
            status_message: refusal.message.clone(),
            received_at,
        };
        if let Err(err) = self.log.record_refusal(&record).await {
            tracing::error!(error = %err, "refusal table append failed");
        }
    }

    /// Prepares an envelope that was not verified here (refused, or read back
    /// from the delivery stream) for the log: hashes its body and reads its
    /// signers' subjects from their certificates.
    pub fn logged<'a>(&self, envelope: &'a Envelope) -> Logged<'a> {
        Logged {
            envelope,
            body_sha256: Bytes::copy_from_slice(&sha256(&envelope.payload)),
            signers: self.signers.subjects(envelope),
        }
    }

    /// Logs one hop of an admitted message.
    #[allow(clippy::too_many_arguments)]
    pub async fn log_hop(
        &self,
        envelope: &Logged<'_>,
        header: &Header,
        direction: Direction,
        channel: ChannelKind,
        route: &ServiceRoute,
        code: StatusCode,
        message: &str,
        received_at: time::OffsetDateTime,
        duration_us: i64,
    ) {
        let record = record(
            envelope,
            header,
            direction,
            channel,
            route.keeps_bodies(),
            code,
            message,
            received_at,
            duration_us,
        );
        self.append(record).await;
    }

    async fn append(&self, record: LogRecord) {
        if let Err(err) = self.log.append(record).await {
            tracing::error!(error = %err, "message log append failed");
        }
    }
}

/// Refuses headers that miss what routing needs.
fn check_header(header: &Header) -> Result<(), Refusal> {
    let missing = [
        ("message_id", &header.message_id),
        ("correlation_id", &header.correlation_id),
        ("service_id", &header.service_id),
        ("sender_system_id", &header.sender_system_id),
    ]
    .into_iter()
    .find(|(_, value)| value.is_empty());
    if let Some((field, _)) = missing {
        return Err(Refusal::new(
            StatusCode::MalformedMessage,
            format!("header field {field} is empty"),
        ));
    }
    match MessageType::try_from(header.message_type) {
        Ok(MessageType::Unspecified) | Err(_) => Err(Refusal::new(
            StatusCode::MalformedMessage,
            format!(
                "header message_type {} is not a known type",
                header.message_type
            ),
        )),
        Ok(_) => Ok(()),
    }
}

/// Refuses message, correlation and reply ids that could not serve as keys:
/// 1 to 128 characters of `A-Z a-z 0-9 - _ =` (a UUID qualifies), on the sync
/// and the async path alike.
fn check_ids(header: &Header) -> Result<(), Refusal> {
    let ids = [
        ("message_id", &header.message_id),
        ("correlation_id", &header.correlation_id),
        ("in_reply_to", &header.in_reply_to),
    ];
    for (field, value) in ids {
        if (field != "in_reply_to" || !value.is_empty()) && !is_valid_message_id(value) {
            return Err(Refusal::new(
                StatusCode::InvalidMessageId,
                format!(
                    "header {field} {:?} ({} bytes) is not 1 to 128 characters of A-Z a-z 0-9 - _ =",
                    clip(value, 64),
                    value.len()
                ),
            ));
        }
    }
    Ok(())
}

/// The flow's identity rule: a request made by a person carries their IIN,
/// and the author's certificate must name the same IIN.
fn check_user_iin(verified: &Verified) -> Result<(), Refusal> {
    let user_iin = &verified.header.user_iin;
    if user_iin.is_empty() {
        return Ok(());
    }
    if Iin::parse(user_iin).is_err() {
        return Err(Refusal::new(
            StatusCode::MalformedMessage,
            format!("header user_iin {user_iin:?} is not a valid IIN"),
        ));
    }
    if verified.signer.iin.as_ref().map(Iin::as_str) != Some(user_iin.as_str()) {
        return Err(VerifyError::IinMismatch {
            request: user_iin.clone(),
            certificate: verified
                .signer
                .iin
                .as_ref()
                .map_or_else(|| "none".to_owned(), Iin::to_string),
        }
        .into());
    }
    Ok(())
}

/// The refusal of a target that did not answer within its route's timeout.
pub(crate) fn timeout_refusal(route: &ServiceRoute) -> Refusal {
    Refusal::new(
        StatusCode::TargetTimeout,
        format!(
            "target {} did not answer within {} ms",
            route.target,
            route.timeout.as_millis()
        ),
    )
}

fn target_status_refusal(route: &ServiceRoute, status: &tonic::Status) -> Refusal {
    let code = StatusCode::from_grpc(status).unwrap_or(match status.code() {
        tonic::Code::DeadlineExceeded => StatusCode::TargetTimeout,
        _ => StatusCode::TargetUnavailable,
    });
    Refusal::new(
        code,
        format!("target {}: {}", route.target, status.message()),
    )
}

fn elapsed_us(since: Instant) -> i64 {
    i64::try_from(since.elapsed().as_micros()).unwrap_or(i64::MAX)
}

#[allow(clippy::too_many_arguments)]
fn record(
    logged: &Logged<'_>,
    header: &Header,
    direction: Direction,
    channel: ChannelKind,
    store_body: bool,
    code: StatusCode,
    message: &str,
    received_at: time::OffsetDateTime,
    duration_us: i64,
) -> LogRecord {
    let envelope = logged.envelope;
    // An OUTBOUND hop carries the very bytes and signatures its INBOUND hop
    // (same message id) already stored: keep them once, and only the hash here.
    let keep_bytes = direction == Direction::Inbound;
    LogRecord {
        message_id: header.message_id.clone(),
        correlation_id: header.correlation_id.clone(),
        in_reply_to: header.in_reply_to.clone(),
        service_id: header.service_id.clone(),
        sender: header.sender_system_id.clone(),
        receiver: header.receiver_system_id.clone(),
        message_type: MessageType::try_from(header.message_type)
            .map(|t| {
                t.as_str_name()
                    .trim_start_matches("MESSAGE_TYPE_")
                    .to_owned()
            })
            .unwrap_or_else(|_| header.message_type.to_string()),
        channel: channel.as_str().to_owned(),
        direction,
        status_code: code.as_str().to_owned(),
        status_message: message.to_owned(),
        header: envelope.header.clone(),
        body: (store_body && keep_bytes).then(|| envelope.payload.clone()),
        body_sha256: logged.body_sha256.clone(),
        signatures: if keep_bytes {
            envelope
                .signatures
                .iter()
                .map(Message::encode_to_vec)
                .collect()
        } else {
            Vec::new()
        },
        signers: logged.signers.clone(),
        received_at,
        duration_us,
    }
}

/// One lazily connected channel per target endpoint, reused by every request.
#[derive(Debug, Default)]
struct TargetPool {
    clients: RwLock<HashMap<String, MessageReceiverClient<egov_bus::trace_context::Traced>>>,
}

impl TargetPool {
    fn client(
        &self,
        endpoint: &str,
    ) -> Result<MessageReceiverClient<egov_bus::trace_context::Traced>, Refusal> {
        if let Some(client) = self
            .clients
            .read()
            .ok()
            .and_then(|c| c.get(endpoint).cloned())
        {
            return Ok(client);
        }
        let channel = Endpoint::from_shared(endpoint.to_owned())
            .map_err(|err| {
                Refusal::new(
                    StatusCode::TargetUnavailable,
                    format!("target endpoint {endpoint:?} is not a valid URL: {err}"),
                )
            })?
            .connect_lazy();
        let client =
            // The forwarded call carries the gateway's span as the target's parent.
            MessageReceiverClient::new(egov_bus::trace_context::traced(channel))
                .max_decoding_message_size(64 * 1024 * 1024);
        if let Ok(mut clients) = self.clients.write() {
            clients.insert(endpoint.to_owned(), client.clone());
        }
        Ok(client)
    }
}

/// Signers' certificate subjects by the digest of the certificate, so the log
/// does not parse the same certificates again for every hop.
#[derive(Debug, Default)]
struct SubjectCache {
    subjects: RwLock<HashMap<[u8; 32], Arc<str>>>,
}

impl SubjectCache {
    /// Most subjects kept; beyond it the cache starts afresh.
    const CAPACITY: usize = 10_000;

    /// Returns the subject of each signature's certificate, in order.
    fn subjects(&self, envelope: &Envelope) -> Vec<String> {
        envelope
            .signatures
            .iter()
            .filter_map(|sig| sig.certificate_chain.first())
            .map(|der| self.subject(der).to_string())
            .collect()
    }

    fn subject(&self, der: &[u8]) -> Arc<str> {
        let key = sha256(der);
        if let Some(subject) = self.subjects.read().ok().and_then(|s| s.get(&key).cloned()) {
            return subject;
        }
        let subject: Arc<str> = egov_core::pki::CertificateInfo::from_der(der)
            .map(|cert| cert.subject)
            .unwrap_or_else(|err| format!("(unreadable: {err})"))
            .into();
        if let Ok(mut subjects) = self.subjects.write() {
            if subjects.len() >= Self::CAPACITY {
                subjects.clear();
            }
            subjects.insert(key, subject.clone());
        }
        subject
    }
}
