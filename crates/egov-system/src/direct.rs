//! A system's direct gRPC contract (`egov.v1.Labor`, `egov.v1.Esobes`,
//! `egov.v1.QueueRegister`…), for teams that call one system without the gateway,
//! e.g. to test their own client against it.
//!
//! The body of a direct call is the plain request message, but the system still
//! needs to know who signed it: the request's signed [`Envelope`] travels in the
//! binary metadata entry [`ENVELOPE_METADATA`], with its payload either left empty
//! (detached: the body's encoding is what was signed) or equal to the body. The call
//! then takes the same path as a message the gateway forwards — full verification,
//! the handler, a signed answer — and the answer envelope comes back in the same
//! metadata entry, beside the plain response. A refusal is a gRPC status whose
//! message starts with the wire code (`ESRV002: …`), also in `egov-status-code`.
//!
//! What the direct path does not do is the gateway's part: access rights, replay
//! protection and the message log. Flows between systems go through the gateway.

use egov_core::StatusCode;
use egov_core::envelope::{SignError, Signer};
use egov_proto::v1::{Envelope, Header};
use prost::Message;
use tonic::metadata::{BinaryMetadataValue, MetadataMap};

use crate::caller::{CallError, accepted};
use crate::fault::Fault;
use crate::receiver::EnvelopeReceiver;

/// Binary metadata entry carrying the signed envelope of a direct call and of its answer.
pub const ENVELOPE_METADATA: &str = "egov-envelope-bin";

/// Metadata entry carrying the wire status code of a refused direct call.
pub const STATUS_CODE_METADATA: &str = "egov-status-code";

/// Builds a direct call: `message` as the body, sealed by `signer` under `header`, the
/// envelope (payload detached) in [`ENVELOPE_METADATA`].
pub fn signed_request<M: Message + prost::Name>(
    signer: &Signer,
    header: &Header,
    message: M,
) -> Result<tonic::Request<M>, SignError> {
    let mut header = header.clone();
    header.payload_type = M::type_url();
    let envelope = signer.seal(&header, message.encode_to_vec())?;
    Ok(request(&envelope, message))
}

/// Builds a direct call from an envelope already signed (and countersigned) over
/// `message`: the body is `message`, the envelope goes in [`ENVELOPE_METADATA`] with its
/// payload detached.
pub fn request<M: Message>(envelope: &Envelope, message: M) -> tonic::Request<M> {
    let detached = Envelope {
        payload: Default::default(),
        ..envelope.clone()
    };
    let mut request = tonic::Request::new(message);
    put_envelope(request.metadata_mut(), &detached);
    request
}

/// Reads the signed answer envelope a direct call's response (or refusal) carries.
pub fn answer_envelope(metadata: &MetadataMap) -> Option<Envelope> {
    let value = metadata.get_bin(ENVELOPE_METADATA)?;
    let bytes = value.to_bytes().ok()?;
    Envelope::decode(bytes.as_ref()).ok()
}

/// Serves one direct call on `receiver`: checks that the envelope in the metadata is for
/// `service_id` and signs this body, handles it like a gateway-forwarded request and
/// returns the plain answer with the signed answer envelope in its metadata.
pub async fn serve<Req, Resp, E>(
    receiver: &E,
    service_id: &str,
    request: tonic::Request<Req>,
) -> Result<tonic::Response<Resp>, tonic::Status>
where
    Req: Message + Default + PartialEq,
    Resp: Message + prost::Name + Default,
    E: EnvelopeReceiver,
{
    let envelope = request_envelope(service_id, request).map_err(refusal)?;
    let answer = receiver.handle_envelope(envelope).await.map_err(refusal)?;
    let header = match accepted(&answer) {
        Ok(header) => header,
        // The system's signed refusal: its code as the status, its envelope beside it.
        Err(CallError::Fault(fault)) => {
            let mut status = refusal(fault);
            put_envelope(status.metadata_mut(), &answer);
            return Err(status);
        }
        Err(error) => {
            return Err(refusal(Fault::new(
                StatusCode::Internal,
                format!("the system's answer does not decode: {error}"),
            )));
        }
    };
    let body = Resp::decode(&answer.payload[..]).map_err(|error| {
        refusal(Fault::new(
            StatusCode::Internal,
            format!(
                "the system answered {:?}, not a {}: {error}",
                header.payload_type,
                Resp::full_name()
            ),
        ))
    })?;
    let mut response = tonic::Response::new(body);
    put_envelope(response.metadata_mut(), &answer);
    Ok(response)
}

/// Takes the signed envelope out of a direct call and joins it with the body.
fn request_envelope<Req: Message + Default + PartialEq>(
    service_id: &str,
    request: tonic::Request<Req>,
) -> Result<Envelope, Fault> {
    let value = request.metadata().get_bin(ENVELOPE_METADATA).ok_or_else(|| {
        Fault::new(
            StatusCode::SignatureMissing,
            format!("a direct call carries its signed envelope in the {ENVELOPE_METADATA} metadata entry; there is none"),
        )
    })?;
    let bytes = value.to_bytes().map_err(|error| {
        Fault::new(
            StatusCode::MalformedMessage,
            format!("{ENVELOPE_METADATA}: not base64: {error}"),
        )
    })?;
    let mut envelope = Envelope::decode(bytes.as_ref()).map_err(|error| {
        Fault::new(
            StatusCode::MalformedMessage,
            format!("{ENVELOPE_METADATA}: not an egov.v1.Envelope: {error}"),
        )
    })?;
    let header = Header::decode(&envelope.header[..]).map_err(|error| {
        Fault::new(
            StatusCode::MalformedMessage,
            format!("{ENVELOPE_METADATA}: header does not decode: {error}"),
        )
    })?;
    if header.service_id != service_id {
        return Err(Fault::new(
            StatusCode::MalformedMessage,
            format!(
                "the signed header names service {:?}, but this call is {service_id:?}",
                header.service_id
            ),
        ));
    }
    let body = request.into_inner();
    if envelope.payload.is_empty() {
        envelope.payload = body.encode_to_vec().into();
    } else if Req::decode(&envelope.payload[..]).ok().as_ref() != Some(&body) {
        return Err(Fault::new(
            StatusCode::MalformedMessage,
            "the call's body differs from the payload its envelope signs",
        ));
    }
    Ok(envelope)
}

/// Turns a fault into the gRPC status of a direct call, with the wire code in metadata.
fn refusal(fault: Fault) -> tonic::Status {
    let mut status = fault.code.to_grpc(&fault.message);
    if let Ok(code) = fault.code.as_str().parse() {
        status.metadata_mut().insert(STATUS_CODE_METADATA, code);
    }
    status
}

fn put_envelope(metadata: &mut MetadataMap, envelope: &Envelope) {
    metadata.insert_bin(
        ENVELOPE_METADATA,
        BinaryMetadataValue::from_bytes(&envelope.encode_to_vec()),
    );
}

/// Declares a system's direct gRPC contract as a tonic service over its receiver: each
/// method serves its request as the named service id through [`serve`], so a direct call
/// takes the same path as a message the gateway forwards.
#[macro_export]
macro_rules! direct_contract {
    (
        $(#[$doc:meta])*
        $service:ident: $server:ident, $contract:path {
            $( $method:ident($request:ty) -> $response:ty = $service_id:expr; )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $service<E> {
            receiver: E,
        }

        impl<E: $crate::EnvelopeReceiver> $service<E> {
            /// Wraps the receiver the gateway's messages go to.
            pub fn new(receiver: E) -> $service<E> {
                $service { receiver }
            }

            /// Returns the generated tonic server, ready to add to the routes.
            pub fn into_server(self) -> $server<$service<E>> {
                $server::new(self)
            }
        }

        #[$crate::direct::reexport::async_trait]
        impl<E: $crate::EnvelopeReceiver> $contract for $service<E> {
            $(
                async fn $method(
                    &self,
                    request: $crate::direct::reexport::Request<$request>,
                ) -> Result<
                    $crate::direct::reexport::Response<$response>,
                    $crate::direct::reexport::Status,
                > {
                    $crate::direct::serve(&self.receiver, $service_id, request).await
                }
            )*
        }
    };
}

/// What [`direct_contract!`] names, so a system's crate needs no tonic import for it.
#[doc(hidden)]
pub mod reexport {
    pub use tonic::async_trait;
    pub use tonic::{Request, Response, Status};
}
