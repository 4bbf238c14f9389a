//! Calling another system through the gateway: the request is signed with
//! the system's seal (countersigned, when a person authored it) and the
//! answer decoded, a signed [`Fault`] turned back into an error. The async
//! channel's calls are here too: sending without waiting for the answer,
//! fetching what waits for this system, acknowledging it, asking a message's
//! state and cancelling it. Each of these control calls carries a proof of
//! the calling system: a NOTIFICATION to the gateway sealed with the system's
//! certificate, whose body is the request it proves (see [`caller_proof`]).

use std::sync::Arc;

use egov_core::StatusCode;
use egov_core::clock::Clock;
use egov_core::envelope::{SignError, Signer, request_header};
use egov_core::systems;
use egov_proto::v1::gateway_client::GatewayClient;
use egov_proto::v1::{
    AcknowledgeMessagesRequest, CancelMessageRequest, CancelMessageResponse, Envelope,
    FetchMessagesRequest, GetMessageStatusRequest, GetMessageStatusResponse, Header, MessageType,
    SendAsyncMessageRequest, SendMessageRequest,
};
use prost::Message;
use time::OffsetDateTime;
use tonic::transport::Endpoint;

use crate::fault::Fault;
use crate::identity::SystemIdentity;

/// Why a call through the gateway failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The gateway refused the request (or could not reach the target).
    #[error("gateway refused: {code}: {message}")]
    Refused {
        /// The gateway's code.
        code: StatusCode,
        /// The reason.
        message: String,
    },
    /// The target system answered with a signed refusal.
    #[error("target refused: {0}")]
    Fault(Fault),
    /// The answer did not decode as the expected type.
    #[error("answer does not decode: {0}")]
    Decode(String),
    /// The request could not be signed.
    #[error("request could not be signed: {0}")]
    Sign(String),
}

impl CallError {
    /// Returns the status code of the failure.
    pub fn code(&self) -> StatusCode {
        match self {
            CallError::Refused { code, .. } => *code,
            CallError::Fault(fault) => fault.code,
            CallError::Decode(_) => StatusCode::MalformedMessage,
            CallError::Sign(_) => StatusCode::Internal,
        }
    }
}

impl From<SignError> for CallError {
    fn from(err: SignError) -> CallError {
        CallError::Sign(err.to_string())
    }
}

/// The service id of the signed NOTIFICATION a system proves itself with when it fetches.
pub const FETCH_PROOF_SERVICE_ID: &str = "egov.gw.fetch";

/// The service id of the proof of an `AcknowledgeMessages` call.
pub const ACKNOWLEDGE_PROOF_SERVICE_ID: &str = "egov.gw.acknowledge";

/// The service id of the proof of a `CancelMessage` call.
pub const CANCEL_PROOF_SERVICE_ID: &str = "egov.gw.cancel";

/// The service id of the proof of a `GetMessageStatus` call.
pub const STATUS_PROOF_SERVICE_ID: &str = "egov.gw.status";

/// gRPC binary metadata key carrying the encoded proof envelope of a control
/// call (`AcknowledgeMessages`, `CancelMessage`, `GetMessageStatus`).
pub const CALLER_PROOF_METADATA: &str = "egov-caller-proof-bin";

/// Makes the proof that a control call comes from `system_id`: a NOTIFICATION
/// to the gateway for `service_id`, stamped `now`, whose body is the encoded
/// request, so the signature covers exactly this call and no other.
pub fn caller_proof(
    signer: &Signer,
    system_id: &str,
    service_id: &str,
    request: Vec<u8>,
    now: OffsetDateTime,
) -> Result<Envelope, SignError> {
    let mut header = request_header(service_id, system_id, systems::GATEWAY.id, now);
    header.message_type = MessageType::Notification as i32;
    signer.seal(&header, request)
}

/// Wraps a control call's request with its proof in the call's metadata.
pub fn proven<T>(request: T, proof: &Envelope) -> tonic::Request<T> {
    let mut request = tonic::Request::new(request);
    request.metadata_mut().insert_bin(
        CALLER_PROOF_METADATA,
        tonic::metadata::MetadataValue::from_bytes(&proof.encode_to_vec()),
    );
    request
}

/// Signs and sends requests to other systems through the gateway.
#[derive(Clone)]
pub struct GatewayCaller {
    identity: Arc<SystemIdentity>,
    client: GatewayClient<egov_bus::trace_context::Traced>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for GatewayCaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayCaller")
            .field("system_id", &self.identity.system_id)
            .finish_non_exhaustive()
    }
}

impl GatewayCaller {
    /// Creates a caller for a system, connecting lazily to the gateway.
    pub fn new(
        identity: Arc<SystemIdentity>,
        gateway_endpoint: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<GatewayCaller, CallError> {
        let channel = Endpoint::from_shared(gateway_endpoint.to_owned())
            .map_err(|err| CallError::Refused {
                code: StatusCode::TargetUnavailable,
                message: format!("gateway endpoint {gateway_endpoint:?}: {err}"),
            })?
            .connect_lazy();
        Ok(GatewayCaller {
            identity,
            // Every call carries the current span's `traceparent` to the gateway.
            client: GatewayClient::new(egov_bus::trace_context::traced(channel)),
            clock,
        })
    }

    /// Returns the identity the caller signs with.
    pub fn identity(&self) -> &Arc<SystemIdentity> {
        &self.identity
    }

    /// Returns the clock the caller dates its messages by.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Returns a request header from this system, stamped now.
    pub fn header<Req: prost::Name>(&self, service_id: &str, receiver: &str) -> Header {
        let mut header = request_header(
            service_id,
            &self.identity.system_id,
            receiver,
            self.clock.now(),
        );
        header.payload_type = Req::type_url();
        header
    }

    /// Calls a service in the system's own name and decodes the answer.
    pub async fn call<Req, Resp>(
        &self,
        service_id: &str,
        receiver: &str,
        request: &Req,
    ) -> Result<Resp, CallError>
    where
        Req: Message + prost::Name,
        Resp: Message + prost::Name + Default,
    {
        let header = self.header::<Req>(service_id, receiver);
        let envelope = self.identity.signer.seal_message(&header, request)?;
        let answer = self.send(envelope).await?;
        decode_answer(&answer)
    }

    /// Countersigns a request a person already signed and sends it.
    pub async fn forward(&self, mut envelope: Envelope) -> Result<Envelope, CallError> {
        self.identity.signer.countersign(&mut envelope)?;
        self.send(envelope).await
    }

    /// Sends a signed envelope and returns the signed answer.
    pub async fn send(&self, envelope: Envelope) -> Result<Envelope, CallError> {
        let mut client = self.client.clone();
        let answer = client
            .send_message(SendMessageRequest {
                envelope: Some(envelope),
            })
            .await
            .map_err(refused)?
            .into_inner();
        answer.envelope.ok_or_else(|| CallError::Refused {
            code: StatusCode::MalformedMessage,
            message: "gateway answered without an envelope".into(),
        })
    }

    /// Hands a signed envelope to the gateway's async channel and returns its
    /// message id once the gateway stored it; the receiver gets it later.
    pub async fn send_async(&self, envelope: Envelope) -> Result<String, CallError> {
        let mut client = self.client.clone();
        let answer = client
            .send_async_message(SendAsyncMessageRequest {
                envelope: Some(envelope),
            })
            .await
            .map_err(refused)?
            .into_inner();
        Ok(answer.message_id)
    }

    /// Returns a fresh proof that a fetch comes from this system: a NOTIFICATION
    /// to the gateway, sealed with the system's certificate.
    pub fn fetch_proof(&self) -> Result<Envelope, CallError> {
        self.proof(FETCH_PROOF_SERVICE_ID, Vec::new())
    }

    /// Returns a fresh proof of one control call from this system, signing its request.
    fn proof(&self, service_id: &str, request: Vec<u8>) -> Result<Envelope, CallError> {
        Ok(caller_proof(
            &self.identity.signer,
            &self.identity.system_id,
            service_id,
            request,
            self.clock.now(),
        )?)
    }

    /// Fetches up to `max_messages` async messages waiting for this system
    /// (0 means the gateway's default), oldest first.
    pub async fn fetch(&self, max_messages: u32) -> Result<Vec<Envelope>, CallError> {
        Ok(self
            .fetch_traced(max_messages)
            .await?
            .into_iter()
            .map(|(envelope, _)| envelope)
            .collect())
    }

    /// Fetches like [`GatewayCaller::fetch`], each envelope with the `traceparent` the
    /// gateway handed it over in (empty when untraced), so its handling joins the sender's trace.
    pub async fn fetch_traced(
        &self,
        max_messages: u32,
    ) -> Result<Vec<(Envelope, String)>, CallError> {
        let proof = self.fetch_proof()?;
        let mut client = self.client.clone();
        let answer = client
            .fetch_messages(FetchMessagesRequest {
                system_id: self.identity.system_id.clone(),
                max_messages,
                proof: Some(proof),
            })
            .await
            .map_err(refused)?
            .into_inner();
        // A gateway that predates trace context in fetches sends none: untraced, not an error.
        let mut traceparents = answer.traceparents.into_iter();
        Ok(answer
            .envelopes
            .into_iter()
            .map(|envelope| (envelope, traceparents.next().unwrap_or_default()))
            .collect())
    }

    /// Confirms that fetched messages were processed, so the gateway marks
    /// them DELIVERED and does not offer them again.
    pub async fn acknowledge(&self, message_ids: Vec<String>) -> Result<(), CallError> {
        let request = AcknowledgeMessagesRequest {
            system_id: self.identity.system_id.clone(),
            message_ids,
        };
        let proof = self.proof(ACKNOWLEDGE_PROOF_SERVICE_ID, request.encode_to_vec())?;
        let mut client = self.client.clone();
        client
            .acknowledge_messages(proven(request, &proof))
            .await
            .map_err(refused)?;
        Ok(())
    }

    /// Asks the delivery state of an async message this system sent or receives.
    pub async fn message_status(
        &self,
        message_id: &str,
    ) -> Result<GetMessageStatusResponse, CallError> {
        let request = GetMessageStatusRequest {
            message_id: message_id.to_owned(),
        };
        let proof = self.proof(STATUS_PROOF_SERVICE_ID, request.encode_to_vec())?;
        let mut client = self.client.clone();
        Ok(client
            .get_message_status(proven(request, &proof))
            .await
            .map_err(refused)?
            .into_inner())
    }

    /// Cancels an async message this system sent, if it is not delivered yet.
    pub async fn cancel(&self, message_id: &str) -> Result<CancelMessageResponse, CallError> {
        let request = CancelMessageRequest {
            message_id: message_id.to_owned(),
            system_id: self.identity.system_id.clone(),
        };
        let proof = self.proof(CANCEL_PROOF_SERVICE_ID, request.encode_to_vec())?;
        let mut client = self.client.clone();
        Ok(client
            .cancel_message(proven(request, &proof))
            .await
            .map_err(refused)?
            .into_inner())
    }
}

/// Turns a gateway refusal into [`CallError::Refused`], keeping its code.
fn refused(status: tonic::Status) -> CallError {
    CallError::Refused {
        code: StatusCode::from_grpc(&status).unwrap_or(StatusCode::TargetUnavailable),
        message: status.message().to_owned(),
    }
}

/// Checks that a signed answer is not a refusal, whatever it carries: a `Fault` payload
/// becomes [`CallError::Fault`]. Returns the answer's header.
pub fn accepted(answer: &Envelope) -> Result<Header, CallError> {
    let header = Header::decode(&answer.header[..])
        .map_err(|err| CallError::Decode(format!("answer header: {err}")))?;
    if header.payload_type == <egov_proto::v1::Fault as prost::Name>::type_url() {
        let fault = egov_proto::v1::Fault::decode(&answer.payload[..])
            .map_err(|err| CallError::Decode(format!("fault: {err}")))?;
        return Err(CallError::Fault(Fault::from_proto(&fault)));
    }
    Ok(header)
}

/// Decodes a signed answer: a `Fault` payload becomes [`CallError::Fault`].
pub fn decode_answer<Resp: Message + prost::Name + Default>(
    answer: &Envelope,
) -> Result<Resp, CallError> {
    let header = accepted(answer)?;
    if header.payload_type != Resp::type_url() {
        return Err(CallError::Decode(format!(
            "expected a {} answer, got {:?}",
            Resp::full_name(),
            header.payload_type
        )));
    }
    Resp::decode(&answer.payload[..])
        .map_err(|err| CallError::Decode(format!("{}: {err}", Resp::full_name())))
}
