//! The gateway's gRPC face: `egov.v1.Gateway`. The sync channel is served
//! here; the async calls go to [`crate::async_channel`] when NATS is connected.

use std::sync::Arc;

use egov_core::StatusCode;
use egov_core::envelope::{RevocationSource, to_timestamp};
use egov_proto::v1::gateway_server::Gateway as GatewayApi;
use egov_proto::v1::{
    AcknowledgeMessagesRequest, AcknowledgeMessagesResponse, CancelMessageRequest,
    CancelMessageResponse, FetchMessagesRequest, FetchMessagesResponse, GetMessageStatusRequest,
    GetMessageStatusResponse, SendAsyncMessageRequest, SendAsyncMessageResponse,
    SendAsyncMessagesRequest, SendAsyncMessagesResponse, SendMessageRequest, SendMessageResponse,
};
use egov_system::caller::{
    ACKNOWLEDGE_PROOF_SERVICE_ID, CALLER_PROOF_METADATA, CANCEL_PROOF_SERVICE_ID,
    STATUS_PROOF_SERVICE_ID,
};
use prost::Message;
use tonic::{Request, Response, Status};

use crate::async_channel::AsyncChannel;
use crate::exchange::{Gateway, Refusal};
use crate::nats_start::AsyncChannelSlot;

/// The most envelopes one `SendAsyncMessages` call may carry.
pub const MAX_SEND_BATCH: usize = 1000;

/// Serves `egov.v1.Gateway` over a shared [`Gateway`].
pub struct GatewayService<R> {
    gateway: Arc<Gateway<R>>,
    // Empty while NATS (or JetStream) is not there: the async calls then refuse.
    async_channel: AsyncChannelSlot<R>,
}

impl<R> GatewayService<R> {
    /// Wraps a gateway, without the async channel.
    pub fn new(gateway: Arc<Gateway<R>>) -> GatewayService<R> {
        GatewayService {
            gateway,
            async_channel: AsyncChannelSlot::empty(),
        }
    }

    /// Serves the async calls from this channel.
    pub fn with_async_channel(self, channel: Arc<AsyncChannel<R>>) -> GatewayService<R> {
        self.with_async_slot(AsyncChannelSlot::holding(channel))
    }

    /// Serves the async calls from the channel in `slot` once it has started there.
    pub fn with_async_slot(mut self, slot: AsyncChannelSlot<R>) -> GatewayService<R> {
        self.async_channel = slot;
        self
    }

    fn async_channel(&self) -> Result<&Arc<AsyncChannel<R>>, Status> {
        self.async_channel.get().ok_or_else(async_unavailable)
    }
}

/// Reads a control call's proof from its metadata; a proof that does not
/// decode is refused, an absent one is left to the check (which names it).
fn proof_of<T>(request: &Request<T>) -> Result<Option<egov_proto::v1::Envelope>, Status> {
    let Some(value) = request.metadata().get_bin(CALLER_PROOF_METADATA) else {
        return Ok(None);
    };
    let bytes = value.to_bytes().map_err(|err| {
        Refusal::new(
            StatusCode::MalformedMessage,
            format!("metadata {CALLER_PROOF_METADATA} is not base64: {err}"),
        )
        .to_grpc()
    })?;
    egov_proto::v1::Envelope::decode(bytes.as_ref())
        .map(Some)
        .map_err(|err| {
            Refusal::new(
                StatusCode::MalformedMessage,
                format!("metadata {CALLER_PROOF_METADATA} is not an envelope: {err}"),
            )
            .to_grpc()
        })
}

fn missing_envelope() -> Status {
    Refusal::new(StatusCode::MalformedMessage, "request carries no envelope").to_grpc()
}

fn async_unavailable() -> Status {
    Refusal::new(
        StatusCode::TargetUnavailable,
        "the async channel is not available on this gateway (NATS or JetStream is not there yet)",
    )
    .to_grpc()
}

#[tonic::async_trait]
impl<R: RevocationSource + 'static> GatewayApi for GatewayService<R> {
    async fn send_message(
        &self,
        request: Request<SendMessageRequest>,
    ) -> Result<Response<SendMessageResponse>, Status> {
        let envelope = request.into_inner().envelope.ok_or_else(missing_envelope)?;
        let answer = self
            .gateway
            .send_message(envelope)
            .await
            .map_err(|refusal| refusal.to_grpc())?;
        Ok(Response::new(SendMessageResponse {
            status: Some(StatusCode::Success.to_proto("")),
            envelope: Some(answer),
        }))
    }

    async fn send_async_message(
        &self,
        request: Request<SendAsyncMessageRequest>,
    ) -> Result<Response<SendAsyncMessageResponse>, Status> {
        let channel = self.async_channel()?;
        let envelope = request.into_inner().envelope.ok_or_else(missing_envelope)?;
        let message_id = channel.send(&envelope).await.map_err(|r| r.to_grpc())?;
        Ok(Response::new(SendAsyncMessageResponse {
            status: Some(StatusCode::Success.to_proto("")),
            message_id,
        }))
    }

    async fn send_async_messages(
        &self,
        request: Request<SendAsyncMessagesRequest>,
    ) -> Result<Response<SendAsyncMessagesResponse>, Status> {
        let channel = self.async_channel()?;
        let envelopes = request.into_inner().envelopes;
        if envelopes.len() > MAX_SEND_BATCH {
            return Err(Refusal::new(
                StatusCode::MessageTooLarge,
                format!(
                    "{} envelopes in one SendAsyncMessages call; at most {MAX_SEND_BATCH} are accepted",
                    envelopes.len()
                ),
            )
            .to_grpc());
        }
        let results = channel
            .send_many(envelopes)
            .await
            .into_iter()
            .map(|(message_id, outcome)| match outcome {
                Ok(()) => SendAsyncMessageResponse {
                    status: Some(StatusCode::Success.to_proto("")),
                    message_id,
                },
                Err(refusal) => SendAsyncMessageResponse {
                    status: Some(refusal.code.to_proto(&refusal.message)),
                    message_id,
                },
            })
            .collect();
        Ok(Response::new(SendAsyncMessagesResponse { results }))
    }

    async fn get_message_status(
        &self,
        request: Request<GetMessageStatusRequest>,
    ) -> Result<Response<GetMessageStatusResponse>, Status> {
        let channel = self.async_channel()?;
        let proof = proof_of(&request)?;
        let request = request.into_inner();
        let caller = channel
            .prove_caller(
                None,
                proof.as_ref(),
                STATUS_PROOF_SERVICE_ID,
                Some(&request.encode_to_vec()),
            )
            .await
            .map_err(|r| r.to_grpc())?;
        let record = channel
            .status(&request.message_id)
            .await
            .map_err(|r| r.to_grpc())?;
        // A message's state is its sender's and receiver's business only.
        if record.sender != caller && record.receiver != caller {
            return Err(Refusal::new(
                StatusCode::AccessDenied,
                format!(
                    "system {caller:?} neither sent nor receives message {}",
                    request.message_id
                ),
            )
            .to_grpc());
        }
        Ok(Response::new(GetMessageStatusResponse {
            status: Some(StatusCode::Success.to_proto("")),
            state: record.state.to_proto() as i32,
            attempts: record.attempts,
            changed_at: Some(to_timestamp(record.changed_at)),
        }))
    }

    async fn fetch_messages(
        &self,
        request: Request<FetchMessagesRequest>,
    ) -> Result<Response<FetchMessagesResponse>, Status> {
        let channel = self.async_channel()?;
        let request = request.into_inner();
        let handed = channel
            .fetch(
                &request.system_id,
                request.max_messages,
                request.proof.as_ref(),
            )
            .await
            .map_err(|r| r.to_grpc())?;
        let (envelopes, traceparents) = handed
            .into_iter()
            .map(|message| (message.envelope, message.traceparent))
            .unzip();
        Ok(Response::new(FetchMessagesResponse {
            status: Some(StatusCode::Success.to_proto("")),
            envelopes,
            traceparents,
        }))
    }

    async fn acknowledge_messages(
        &self,
        request: Request<AcknowledgeMessagesRequest>,
    ) -> Result<Response<AcknowledgeMessagesResponse>, Status> {
        let channel = self.async_channel()?;
        let proof = proof_of(&request)?;
        let request = request.into_inner();
        channel
            .prove_caller(
                Some(&request.system_id),
                proof.as_ref(),
                ACKNOWLEDGE_PROOF_SERVICE_ID,
                Some(&request.encode_to_vec()),
            )
            .await
            .map_err(|r| r.to_grpc())?;
        channel
            .acknowledge(&request.system_id, &request.message_ids)
            .await
            .map_err(|r| r.to_grpc())?;
        Ok(Response::new(AcknowledgeMessagesResponse {
            status: Some(StatusCode::Success.to_proto("")),
        }))
    }

    async fn cancel_message(
        &self,
        request: Request<CancelMessageRequest>,
    ) -> Result<Response<CancelMessageResponse>, Status> {
        let channel = self.async_channel()?;
        let proof = proof_of(&request)?;
        let request = request.into_inner();
        channel
            .prove_caller(
                Some(&request.system_id),
                proof.as_ref(),
                CANCEL_PROOF_SERVICE_ID,
                Some(&request.encode_to_vec()),
            )
            .await
            .map_err(|r| r.to_grpc())?;
        let record = channel
            .cancel(&request.message_id, &request.system_id)
            .await
            .map_err(|r| r.to_grpc())?;
        // A message already final keeps its state: the answer says which.
        let note = if record.state == crate::async_channel::DeliveryState::DeliveryStopped {
            String::new()
        } else {
            format!(
                "message is {}; its state is unchanged",
                record.state.as_str()
            )
        };
        Ok(Response::new(CancelMessageResponse {
            status: Some(StatusCode::Success.to_proto(note)),
            state: record.state.to_proto() as i32,
        }))
    }
}

/// Serves `egov.v1.MessageReceiver`, so another gateway can route to this one
/// like to any system (the national gateway to a regional one).
pub struct RelayService<R> {
    gateway: Arc<Gateway<R>>,
}

impl<R> RelayService<R> {
    /// Wraps a gateway.
    pub fn new(gateway: Arc<Gateway<R>>) -> RelayService<R> {
        RelayService { gateway }
    }
}

#[tonic::async_trait]
impl<R: RevocationSource + 'static> egov_proto::v1::message_receiver_server::MessageReceiver
    for RelayService<R>
{
    async fn receive(
        &self,
        request: Request<egov_proto::v1::Envelope>,
    ) -> Result<Response<egov_proto::v1::Envelope>, Status> {
        self.gateway
            .relay(request.into_inner())
            .await
            .map(Response::new)
            .map_err(|refusal| refusal.to_grpc())
    }
}
