//! The kit: signs each check's request on its own side, sends it to the system's
//! `MessageReceiver.Receive` as the gateway would forward it, and judges the answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egov_core::StatusCode;
use egov_core::clock::{Clock, SystemClock};
use egov_core::envelope::{RevocationSource, Signer, Verifier, VerifyPolicy, request_header};
use egov_proto::v1::gateway_client::GatewayClient;
use egov_proto::v1::message_receiver_client::MessageReceiverClient;
use egov_proto::v1::{Envelope, Fault, Header, MessageType, SendMessageRequest};
use egov_system::SystemIdentity;
use prost::Message;
use tonic::transport::{Channel, Endpoint};

use crate::check::{Check, Expect, Tamper};
use crate::contracts::{Contract, Signatory, Via};
use crate::report::{Report, Verdict};

/// How long the kit waits to connect to an endpoint.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a run could not start (a check that fails is a [`Verdict`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// No contract exists for the system named.
    #[error("no contract for system {0:?}; the kit knows {known}", known = crate::SYSTEMS.join(", "))]
    UnknownSystem(String),
    /// The endpoint is not `host:port` or a URL.
    #[error("endpoint {endpoint:?} is not host:port or an http URL: {reason}")]
    Endpoint {
        /// The endpoint given.
        endpoint: String,
        /// Why it was refused.
        reason: String,
    },
    /// Nothing answered at the endpoint.
    #[error("cannot connect to {endpoint}: {reason}")]
    Connect {
        /// The endpoint.
        endpoint: String,
        /// The transport's error.
        reason: String,
    },
    /// The contract's requests need a signatory the kit was not given.
    #[error(
        "the {system} contract's requests are signed by the State Corporation's operator; give the kit an operator's certificate"
    )]
    NoOperator {
        /// The system of the contract.
        system: String,
    },
    /// The kit could not sign a request with its certificate.
    #[error("cannot sign the request of {check:?}: {reason}")]
    Sign {
        /// The check.
        check: String,
        /// The signer's error.
        reason: String,
    },
}

/// Runs contracts, signing as the identity it holds and trusting the verifier's roots.
pub struct Kit<R> {
    identity: Arc<SystemIdentity>,
    operator: Option<Signer>,
    verifier: Arc<Verifier<R>>,
    clock: Arc<dyn Clock>,
}

impl<R: RevocationSource + 'static> Kit<R> {
    /// A kit that signs with `identity` (a seal the stack's certification centre issued) and
    /// verifies answers with `verifier` (the stack's root and its revocation list).
    pub fn new(identity: Arc<SystemIdentity>, verifier: Arc<Verifier<R>>) -> Kit<R> {
        Kit {
            identity,
            operator: None,
            verifier,
            clock: SystemClock::shared(),
        }
    }

    /// Signs the requests of contracts whose signatory is the State Corporation's operator
    /// with `operator` (an employee's certificate of the ЦОН's BIN), countersigned by the seal.
    pub fn with_operator(mut self, operator: Signer) -> Kit<R> {
        self.operator = Some(operator);
        self
    }

    /// Stamps requests with `clock`'s time (a stack on a virtual clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Kit<R> {
        self.clock = clock;
        self
    }

    /// Runs every check of `contract` against `endpoint`: the system's `MessageReceiver`, or
    /// a gateway's `Gateway` service for the gateway's contract.
    pub async fn run(
        &self,
        contract: &Contract,
        endpoint: &str,
    ) -> Result<Report, ConformanceError> {
        if contract.signatory == Signatory::Operator && self.operator.is_none() {
            return Err(ConformanceError::NoOperator {
                system: contract.system.id.to_owned(),
            });
        }
        let url = endpoint_url(endpoint)?;
        let channel = Endpoint::from_shared(url.clone())
            .map_err(|error| ConformanceError::Endpoint {
                endpoint: endpoint.to_owned(),
                reason: error.to_string(),
            })?
            .connect_timeout(CONNECT_TIMEOUT)
            .connect()
            .await
            .map_err(|error| ConformanceError::Connect {
                endpoint: url.clone(),
                reason: error.to_string(),
            })?;
        let mut transport = match contract.via {
            Via::Receiver => Transport::Receiver(MessageReceiverClient::new(channel)),
            Via::Gateway { .. } => Transport::Gateway(GatewayClient::new(channel)),
        };
        let mut verdicts = Vec::with_capacity(contract.checks.len());
        for check in &contract.checks {
            verdicts.push(self.check(&mut transport, contract, check).await?);
        }
        Ok(Report {
            system: contract.system.id.to_owned(),
            endpoint: url,
            verdicts,
        })
    }

    /// Runs one check: signs its request, tampers with it as the check says, sends it, and
    /// judges the answer.
    async fn check(
        &self,
        transport: &mut Transport,
        contract: &Contract,
        check: &Check,
    ) -> Result<Verdict, ConformanceError> {
        let mut header = request_header(
            &check.service_id,
            contract.caller.id,
            contract.answerer().id,
            self.clock.now(),
        );
        header.payload_type = check.payload_type.clone();
        let unsigned = |error: egov_core::envelope::SignError| ConformanceError::Sign {
            check: check.name.clone(),
            reason: error.to_string(),
        };
        let mut envelope = match (contract.signatory, &self.operator) {
            (Signatory::Operator, Some(operator)) => {
                header.user_iin = operator
                    .certificate()
                    .iin
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let mut envelope = operator
                    .seal(&header, check.payload.clone())
                    .map_err(unsigned)?;
                self.identity
                    .signer
                    .countersign(&mut envelope)
                    .map_err(unsigned)?;
                envelope
            }
            _ => self
                .identity
                .signer
                .seal(&header, check.payload.clone())
                .map_err(unsigned)?,
        };
        match check.tamper {
            Tamper::None => {}
            Tamper::Unsigned => envelope.signatures.clear(),
            // One byte more after signing: the payload no longer has the signed digest.
            Tamper::PayloadChanged => {
                let mut payload = Vec::from(std::mem::take(&mut envelope.payload));
                payload.push(0);
                envelope.payload = payload.into();
            }
            Tamper::SentTwice => {
                // The first sending is the good request; only the second is judged.
                let _ = transport.send(envelope.clone()).await;
            }
        }
        let started = Instant::now();
        let answer = transport.send(envelope).await;
        let elapsed = started.elapsed();
        let mut reasons = match answer {
            Ok(answer) => self.judge(contract, check, &header, answer).await,
            Err(refused) => refused.judge(transport.relays(), check.expect.code()),
        };
        if elapsed > check.within {
            reasons.push(format!(
                "too slow: answered in {} ms, the contract allows {} ms",
                elapsed.as_millis(),
                check.within.as_millis()
            ));
        }
        Ok(Verdict {
            service_id: check.service_id.clone(),
            check: check.name.clone(),
            elapsed,
            reasons,
        })
    }

    /// Every way `answer` departs from what `check` expects of an answer to `request`.
    async fn judge(
        &self,
        contract: &Contract,
        check: &Check,
        request: &Header,
        answer: Envelope,
    ) -> Vec<String> {
        let mut reasons = Vec::new();
        if answer.signatures.is_empty() {
            reasons.push("unsigned answer: the answer envelope carries no signature".to_owned());
        } else {
            match self.verifier.verify(&answer, &VerifyPolicy::any()).await {
                Err(error) => {
                    reasons.push(format!("badly signed answer ({}): {error}", error.status()))
                }
                Ok(verified)
                    if verified
                        .signer
                        .bin
                        .as_ref()
                        .map(ToString::to_string)
                        .as_deref()
                        != Some(contract.answerer().bin) =>
                {
                    reasons.push(format!(
                        "answer signed by {:?}, not by a certificate with BIN {} of system {}",
                        verified.signer.subject,
                        contract.answerer().bin,
                        contract.answerer().id
                    ));
                }
                Ok(_) => {}
            }
        }
        let header = match Header::decode(&answer.header[..]) {
            Ok(header) => header,
            Err(error) => {
                reasons.push(format!("the answer's header does not decode: {error}"));
                return reasons;
            }
        };
        if header.message_type != MessageType::Response as i32 {
            reasons.push(format!(
                "the answer's message type is {}, not RESPONSE",
                header.message_type
            ));
        }
        if header.sender_system_id != request.receiver_system_id
            || header.receiver_system_id != request.sender_system_id
        {
            reasons.push(format!(
                "the answer goes from {:?} to {:?}, not from {:?} back to {:?}",
                header.sender_system_id,
                header.receiver_system_id,
                request.receiver_system_id,
                request.sender_system_id
            ));
        }
        if header.correlation_id != request.correlation_id {
            reasons.push(format!(
                "the answer's correlation id {:?} is not the request's {:?}",
                header.correlation_id, request.correlation_id
            ));
        }
        if header.in_reply_to != request.message_id {
            reasons.push(format!(
                "the answer's in_reply_to {:?} is not the request's message id {:?}",
                header.in_reply_to, request.message_id
            ));
        }
        let (code, fault) = if header.payload_type == <Fault as prost::Name>::type_url() {
            match Fault::decode(&answer.payload[..]) {
                Ok(fault) => match fault.code.parse::<StatusCode>() {
                    Ok(code) => (code, Some(fault)),
                    Err(_) => {
                        reasons.push(format!(
                            "the refusal's code {:?} is not a status code of the stack",
                            fault.code
                        ));
                        return reasons;
                    }
                },
                Err(error) => {
                    reasons.push(format!("the refusal's payload does not decode: {error}"));
                    return reasons;
                }
            }
        } else {
            (StatusCode::Success, None)
        };
        let wanted = check.expect.code();
        if code != wanted {
            let why = fault
                .map(|fault| format!(" ({})", fault.message))
                .unwrap_or_default();
            reasons.push(format!(
                "wrong status code: expected {wanted}, got {code}{why}"
            ));
            return reasons;
        }
        match (&check.expect, fault) {
            (
                Expect::Answer {
                    payload_type,
                    shape,
                },
                _,
            ) => {
                if &header.payload_type != payload_type {
                    reasons.push(format!(
                        "wrong payload type: expected {payload_type}, got {:?}",
                        header.payload_type
                    ));
                } else {
                    reasons.extend(shape(&answer.payload));
                }
            }
            (Expect::Refusal(_), Some(fault)) if fault.message.trim().is_empty() => {
                reasons.push("missing field fault.message: the refusal names no reason".into());
            }
            (Expect::Refusal(_), _) => {}
        }
        reasons
    }
}

/// A connection to the endpoint checked.
enum Transport {
    /// A system's `MessageReceiver`.
    Receiver(MessageReceiverClient<Channel>),
    /// A gateway's `Gateway` service.
    Gateway(GatewayClient<Channel>),
}

/// A request answered without an answer envelope.
struct Refused {
    /// The status code the refusal carries, if it names one.
    code: Option<StatusCode>,
    /// What it said.
    message: String,
}

impl Transport {
    /// Sends one envelope; the answer envelope, or the refusal.
    async fn send(&mut self, envelope: Envelope) -> Result<Envelope, Refused> {
        let refused = |status: tonic::Status| Refused {
            code: StatusCode::from_grpc(&status),
            message: format!("gRPC {:?}: {}", status.code(), status.message()),
        };
        match self {
            Transport::Receiver(client) => client
                .receive(envelope)
                .await
                .map(tonic::Response::into_inner)
                .map_err(refused),
            Transport::Gateway(client) => {
                let answer = client
                    .send_message(SendMessageRequest {
                        envelope: Some(envelope),
                    })
                    .await
                    .map_err(refused)?
                    .into_inner();
                let status = answer.status.unwrap_or_default();
                let code = status.code.parse::<StatusCode>().ok();
                match (code, answer.envelope) {
                    (Some(StatusCode::Success), Some(envelope)) => Ok(envelope),
                    (Some(StatusCode::Success), None) => Err(Refused {
                        code: None,
                        message: "SCSS001 without the target's answer envelope".into(),
                    }),
                    (_, _) => Err(Refused {
                        code,
                        message: format!("{}: {}", status.code, status.message),
                    }),
                }
            }
        }
    }

    /// Whether the endpoint is a gateway, whose own refusals travel without an envelope.
    fn relays(&self) -> bool {
        matches!(self, Transport::Gateway(_))
    }
}

impl Refused {
    /// Judges a refusal without an answer envelope against the code `wanted`: a gateway's own
    /// refusal conforms when its code is the one wanted; a system's refusals must be signed.
    fn judge(self, gateway: bool, wanted: StatusCode) -> Vec<String> {
        match self.code {
            Some(code) if gateway && code == wanted => Vec::new(),
            Some(code) if gateway => vec![format!(
                "wrong status code: expected {wanted}, got {code} ({})",
                self.message
            )],
            _ if gateway => vec![format!(
                "wrong status code: expected {wanted}, got a refusal naming no status code ({})",
                self.message
            )],
            _ => vec![format!(
                "no signed answer: refused at the transport with {}",
                self.message
            )],
        }
    }
}

/// Returns `endpoint` as an http URL: `host:port` gets `http://`.
fn endpoint_url(endpoint: &str) -> Result<String, ConformanceError> {
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Err(ConformanceError::Endpoint {
            endpoint: endpoint.to_owned(),
            reason: "it is empty".into(),
        });
    }
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        Ok(endpoint.to_owned())
    } else {
        Ok(format!("http://{endpoint}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_and_port_endpoint_is_called_over_http() {
        assert_eq!(
            endpoint_url("127.0.0.1:7120").expect("valid"),
            "http://127.0.0.1:7120"
        );
        assert_eq!(
            endpoint_url("https://citizens.example:443").expect("valid"),
            "https://citizens.example:443"
        );
    }

    #[test]
    fn an_empty_endpoint_is_refused() {
        assert!(matches!(
            endpoint_url("  "),
            Err(ConformanceError::Endpoint { .. })
        ));
    }
}
