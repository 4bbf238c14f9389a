//! The message log over gRPC (`egov.v1.GatewayLog`): the same queries as the
//! HTTP JSON routes, for tools that speak gRPC (`egov diagram`, grpcurl); both calls need an
//! operator's bearer token in the metadata entry `authorization`.

use std::sync::Arc;

use egov_core::envelope::{RevocationSource, to_timestamp};
use egov_proto::v1::gateway_log_server::{GatewayLog, GatewayLogServer};
use egov_proto::v1::get_messages_request::Key;
use egov_proto::v1::{
    GetDiagramRequest, GetDiagramResponse, GetMessagesRequest, GetMessagesResponse, LoggedMessage,
    Signature, Status as StatusMessage,
};
use egov_signin::operator::Role;
use prost::Message;
use tonic::{Request, Response, Status};

use crate::exchange::{Gateway, Refusal};
use crate::message_log::mermaid::{GatewayParticipant, sequence_diagram_with};
use crate::message_log::{Direction, LogRecord, RecentFilter};
use egov_core::StatusCode;

/// Serves `egov.v1.GatewayLog` over a gateway's message log.
pub struct LogService<R> {
    gateway: Arc<Gateway<R>>,
}

impl<R: RevocationSource + 'static> LogService<R> {
    /// Wraps a gateway.
    pub fn new(gateway: Arc<Gateway<R>>) -> LogService<R> {
        LogService { gateway }
    }

    /// Returns the tonic server.
    pub fn into_server(self) -> GatewayLogServer<Self> {
        GatewayLogServer::new(self)
    }
}

/// Draws records as this gateway's diagram, the gateway named by its system id.
pub fn diagram(system_id: &str, records: &[LogRecord]) -> String {
    let label = egov_core::systems::by_id(system_id).map_or(system_id, |system| system.name);
    sequence_diagram_with(
        records,
        GatewayParticipant {
            alias: system_id,
            label,
        },
    )
}

fn store_failure(err: impl std::fmt::Display) -> Status {
    tracing::error!(error = %err, "message log query failed");
    Refusal::new(StatusCode::Internal, "message log query failed").to_grpc()
}

/// The most hops one `recent` query returns.
pub const MAX_RECENT: u32 = 10_000;

/// Reads a logged hop back as the log keeps it, e.g. to draw hops read over gRPC; `None` when
/// its direction or time is missing or unknown.
pub fn from_proto(message: LoggedMessage) -> Option<LogRecord> {
    let direction = Direction::parse(&message.direction)?;
    let received_at = egov_core::envelope::from_timestamp(message.received_at.as_ref()?)?;
    let (status_code, status_message) = message
        .status
        .map(|status| (status.code, status.message))
        .unwrap_or_default();
    Some(LogRecord {
        message_id: message.message_id,
        correlation_id: message.correlation_id,
        in_reply_to: message.in_reply_to,
        service_id: message.service_id,
        sender: message.sender,
        receiver: message.receiver,
        message_type: message.message_type,
        channel: message.channel,
        direction,
        status_code,
        status_message,
        header: message.header.into(),
        body: message.body_stored.then(|| message.body.into()),
        body_sha256: message.body_sha256.into(),
        signatures: message
            .signatures
            .iter()
            .map(Message::encode_to_vec)
            .collect(),
        signers: message.signers,
        received_at,
        duration_us: message.duration_us,
    })
}

fn to_proto(record: LogRecord) -> LoggedMessage {
    let status_code = record
        .status_code
        .parse::<StatusCode>()
        .unwrap_or(StatusCode::Internal);
    LoggedMessage {
        message_id: record.message_id,
        correlation_id: record.correlation_id,
        in_reply_to: record.in_reply_to,
        service_id: record.service_id,
        sender: record.sender,
        receiver: record.receiver,
        message_type: record.message_type,
        channel: record.channel,
        direction: record.direction.as_str().to_owned(),
        status: Some(StatusMessage {
            code: status_code.as_str().to_owned(),
            message: record.status_message,
        }),
        header: record.header.into(),
        body_stored: record.body.is_some(),
        body: record.body.map(Vec::from).unwrap_or_default(),
        body_sha256: record.body_sha256.into(),
        signatures: record
            .signatures
            .iter()
            .filter_map(|bytes| Signature::decode(bytes.as_slice()).ok())
            .collect(),
        signers: record.signers,
        received_at: Some(to_timestamp(record.received_at)),
        duration_us: record.duration_us,
    }
}

#[tonic::async_trait]
impl<R: RevocationSource + 'static> GatewayLog for LogService<R> {
    async fn get_messages(
        &self,
        request: Request<GetMessagesRequest>,
    ) -> Result<Response<GetMessagesResponse>, Status> {
        self.gateway
            .operators()
            .authorize_grpc(request.metadata(), Role::Operator)
            .await?;
        let log = self.gateway.log();
        let records = match request.into_inner().key {
            Some(Key::MessageId(id)) => log.by_message_id(&id).await,
            Some(Key::CorrelationId(id)) => log.by_correlation_id(&id).await,
            Some(Key::Recent(count)) => {
                if !(1..=MAX_RECENT).contains(&count) {
                    return Err(Refusal::new(
                        StatusCode::InvalidRequest,
                        format!("recent must be 1 to {MAX_RECENT} hops, not {count}"),
                    )
                    .to_grpc());
                }
                log.recent(&RecentFilter::default(), count)
                    .await
                    .map(|mut newest_first| {
                        newest_first.reverse();
                        newest_first
                    })
            }
            None => {
                return Err(Refusal::new(
                    StatusCode::InvalidRequest,
                    "give a message_id, a correlation_id or a number of recent hops",
                )
                .to_grpc());
            }
        }
        .map_err(store_failure)?;
        Ok(Response::new(GetMessagesResponse {
            messages: records.into_iter().map(to_proto).collect(),
        }))
    }

    async fn get_diagram(
        &self,
        request: Request<GetDiagramRequest>,
    ) -> Result<Response<GetDiagramResponse>, Status> {
        self.gateway
            .operators()
            .authorize_grpc(request.metadata(), Role::Operator)
            .await?;
        let correlation_id = request.into_inner().correlation_id;
        let records = self
            .gateway
            .log()
            .by_correlation_id(&correlation_id)
            .await
            .map_err(store_failure)?;
        if records.is_empty() {
            return Err(Refusal::new(
                StatusCode::UnknownMessage,
                format!("no exchange with correlation id {correlation_id:?}"),
            )
            .to_grpc());
        }
        Ok(Response::new(GetDiagramResponse {
            mermaid: diagram(&self.gateway.system_id, &records),
        }))
    }
}
