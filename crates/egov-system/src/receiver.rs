//! The receiving side of a system: verifies each request the gateway
//! forwards, hands it to the system's [`Handler`] and signs the answer — a
//! result, or a [`Fault`] — with the system's seal.

use std::future::Future;
use std::sync::Arc;

use egov_core::StatusCode;
use egov_core::clock::Clock;
use egov_core::envelope::{RevocationSource, Verified, Verifier, VerifyPolicy, response_header};
use egov_proto::v1::message_receiver_server::{MessageReceiver, MessageReceiverServer};
use egov_proto::v1::{Envelope, Header, MessageType};
use prost::Message;

use crate::fault::Fault;
use crate::identity::SystemIdentity;

/// A verified request as a handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The verified header and signers.
    pub verified: Verified,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

impl Request {
    /// Returns the header.
    pub fn header(&self) -> &Header {
        &self.verified.header
    }

    /// Decodes the payload as `M`, refusing a payload of another type.
    pub fn decode<M: Message + prost::Name + Default>(&self) -> Result<M, Fault> {
        let header = self.header();
        if header.payload_type != M::type_url() {
            return Err(Fault::invalid(format!(
                "service {} expects a {} payload, got {:?}",
                header.service_id,
                M::full_name(),
                header.payload_type
            )));
        }
        M::decode(&self.payload[..]).map_err(|err| {
            Fault::invalid(format!("payload is not a valid {}: {err}", M::full_name()))
        })
    }
}

/// A handler's successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The payload's type URL.
    pub payload_type: String,
    /// The encoded payload.
    pub payload: Vec<u8>,
}

impl Reply {
    /// Encodes a message as the reply.
    pub fn message<M: Message + prost::Name>(message: &M) -> Reply {
        Reply {
            payload_type: M::type_url(),
            payload: message.encode_to_vec(),
        }
    }
}

/// What a system does with a verified request.
pub trait Handler: Send + Sync + 'static {
    /// Handles one request; a [`Fault`] becomes a signed refusal.
    fn handle(&self, request: Request) -> impl Future<Output = Result<Reply, Fault>> + Send;
}

/// Answers one signed envelope the way the sync path does: a [`Receiver`],
/// or a wrapper of one; the async [`Inbox`](crate::inbox::Inbox) hands it
/// what the gateway pushes or the system fetches.
pub trait EnvelopeReceiver: Clone + Send + Sync + 'static {
    /// Verifies and handles one envelope: the signed answer, or the refusal.
    fn handle_envelope(
        &self,
        envelope: Envelope,
    ) -> impl Future<Output = Result<Envelope, Fault>> + Send;
}

/// Verifies, dispatches and signs: a system's `MessageReceiver`.
pub struct Receiver<H, R> {
    identity: Arc<SystemIdentity>,
    verifier: Arc<Verifier<R>>,
    handler: Arc<H>,
    clock: Arc<dyn Clock>,
    aliases: Arc<Vec<String>>,
}

impl<H, R> Clone for Receiver<H, R> {
    fn clone(&self) -> Self {
        Receiver {
            identity: self.identity.clone(),
            verifier: self.verifier.clone(),
            handler: self.handler.clone(),
            clock: self.clock.clone(),
            aliases: self.aliases.clone(),
        }
    }
}

impl<H: Handler, R: RevocationSource + 'static> Receiver<H, R> {
    /// Creates a receiver for a system.
    pub fn new(
        identity: Arc<SystemIdentity>,
        verifier: Arc<Verifier<R>>,
        handler: Arc<H>,
        clock: Arc<dyn Clock>,
    ) -> Receiver<H, R> {
        Receiver {
            identity,
            verifier,
            handler,
            clock,
            aliases: Arc::new(Vec::new()),
        }
    }

    /// Also accepts messages addressed to another system id: a workstation
    /// (АРМ / АЖО) behind the regional gateway receives what is addressed to it.
    pub fn also_addressed_as(mut self, system_id: &str) -> Receiver<H, R> {
        Arc::make_mut(&mut self.aliases).push(system_id.to_owned());
        self
    }

    /// Returns the tonic server to add to the system's gRPC routes.
    pub fn into_server(self) -> MessageReceiverServer<Self> {
        MessageReceiverServer::new(self)
    }

    /// Handles one envelope: a request that fails verification or is not
    /// addressed to this system is refused without an answer envelope (its
    /// sender is not proven); anything else gets a signed answer.
    pub async fn handle_envelope(&self, envelope: Envelope) -> Result<Envelope, Fault> {
        let verified = self
            .verifier
            .verify(&envelope, &VerifyPolicy::any())
            .await
            .map_err(|err| Fault::new(err.status(), err.to_string()))?;
        let header = &verified.header;
        if header.receiver_system_id != self.identity.system_id
            && !self.aliases.contains(&header.receiver_system_id)
        {
            return Err(Fault::new(
                StatusCode::MalformedMessage,
                format!(
                    "message is addressed to {:?}, this is {}",
                    header.receiver_system_id, self.identity.system_id
                ),
            ));
        }
        if header.message_type != MessageType::Request as i32 {
            return Err(Fault::new(
                StatusCode::MalformedMessage,
                format!("message type {} is not a REQUEST", header.message_type),
            ));
        }
        let request_header = header.clone();
        let service_id = request_header.service_id.clone();
        let outcome = self
            .handler
            .handle(Request {
                verified,
                payload: envelope.payload.into(),
            })
            .await;
        let code = outcome
            .as_ref()
            .err()
            .map_or(StatusCode::Success, |f| f.code);
        metrics::counter!(
            "system_requests_total",
            "system" => self.identity.system_id.clone(),
            "service" => service_id,
            "code" => code.as_str()
        )
        .increment(1);
        let reply = outcome.unwrap_or_else(|fault| Reply::message(&fault.to_proto()));
        let mut header = response_header(&request_header, self.clock.now());
        header.payload_type = reply.payload_type;
        self.identity
            .signer
            .seal(&header, reply.payload)
            .map_err(|err| Fault::new(StatusCode::Internal, format!("signing the answer: {err}")))
    }
}

impl<H: Handler, R: RevocationSource + 'static> EnvelopeReceiver for Receiver<H, R> {
    async fn handle_envelope(&self, envelope: Envelope) -> Result<Envelope, Fault> {
        Receiver::handle_envelope(self, envelope).await
    }
}

#[tonic::async_trait]
impl<H: Handler, R: RevocationSource + 'static> MessageReceiver for Receiver<H, R> {
    async fn receive(
        &self,
        request: tonic::Request<Envelope>,
    ) -> Result<tonic::Response<Envelope>, tonic::Status> {
        self.handle_envelope(request.into_inner())
            .await
            .map(tonic::Response::new)
            .map_err(|fault| fault.code.to_grpc(&fault.message))
    }
}
