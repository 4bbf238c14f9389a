//! Calling another system through the gateway: the request is signed with
//! the system's seal (countersigned, when a person authored it) and the
//! answer decoded, a signed [`Fault`] turned back into an error.

use std::sync::Arc;

use egov_core::StatusCode;
use egov_core::clock::Clock;
use egov_core::envelope::{SignError, request_header};
use egov_proto::v1::gateway_client::GatewayClient;
use egov_proto::v1::{Envelope, Header, SendMessageRequest};
use prost::Message;
use tonic::transport::{Channel, Endpoint};

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

/// Signs and sends requests to other systems through the gateway.
#[derive(Clone)]
pub struct GatewayCaller {
    identity: Arc<SystemIdentity>,
    client: GatewayClient<Channel>,
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
            client: GatewayClient::new(channel),
            clock,
        })
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
            .map_err(|status| CallError::Refused {
                code: StatusCode::from_grpc(&status).unwrap_or(StatusCode::TargetUnavailable),
                message: status.message().to_owned(),
            })?
            .into_inner();
        answer.envelope.ok_or_else(|| CallError::Refused {
            code: StatusCode::MalformedMessage,
            message: "gateway answered without an envelope".into(),
        })
    }
}

/// Decodes a signed answer: a `Fault` payload becomes [`CallError::Fault`].
pub fn decode_answer<Resp: Message + prost::Name + Default>(
    answer: &Envelope,
) -> Result<Resp, CallError> {
    let header = Header::decode(answer.header.as_slice())
        .map_err(|err| CallError::Decode(format!("answer header: {err}")))?;
    if header.payload_type == <egov_proto::v1::Fault as prost::Name>::type_url() {
        let fault = egov_proto::v1::Fault::decode(answer.payload.as_slice())
            .map_err(|err| CallError::Decode(format!("fault: {err}")))?;
        return Err(CallError::Fault(Fault::from_proto(&fault)));
    }
    if header.payload_type != Resp::type_url() {
        return Err(CallError::Decode(format!(
            "expected a {} answer, got {:?}",
            Resp::full_name(),
            header.payload_type
        )));
    }
    Resp::decode(answer.payload.as_slice())
        .map_err(|err| CallError::Decode(format!("{}: {err}", Resp::full_name())))
}
