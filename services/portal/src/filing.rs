//! Filing a request (FLOWS.md, common portal flow processes 3–5): the request for the
//! service's target system built from the checked form, its exact bytes, then — once the
//! external signer hands back the signature — condition 2 (certificate valid, not revoked,
//! IIN in the request = IIN in the certificate; else process 4, *EDS authenticity not
//! confirmed*) and the signed request through the gateway (process 5).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use egov_core::clock::Clock;
use egov_core::envelope::{
    IdentityRule, RevocationSource, Verified, Verifier, VerifyError, VerifyPolicy,
};
use egov_core::pki::Role;
use egov_proto::v1::{
    ApplicationRegistered, ApplyHomeSchoolingCompensationRequest,
    ApplyUnemployedCertificateRequest, Envelope, Header, PlaceInQueueRequest, PlaceInQueueResponse,
    ResultKind, ServiceApplication, Signature,
};
use egov_system::GatewayCaller;
use egov_system::caller::{accepted, decode_answer};
use prost::Message;

use crate::PortalError;

/// Where a service's portal request goes: the system the national gateway hands it to and
/// the service id that applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// The receiver the request names: the target system, or the regional gateway (РШЭП)
    /// that relays it to the provider's workstation.
    pub system: &'static str,
    /// The service id that applies.
    pub service_id: &'static str,
}

/// Returns where a service's request goes from the portal, if the portal files it:
/// B to the Labour Market AIS, C to E-sobes (FLOWS.md, services B, C); A, D and F through the
/// national gateway to the regional one, which relays A and F to the provider's workstation
/// (seed `003_…` item 9 process 5: «через ШЭП в РШЭП АРМ»; seed `004_…` annex 2: the request
/// is registered in «ЭҮАШ АЖО») and D to the queue register (seed `002_…` item 7).
pub fn target_of(service_code: &str) -> Option<Target> {
    match service_code {
        "A" => Some(Target {
            system: egov_core::systems::REGIONAL_GATEWAY.id,
            service_id: "backoffice.adoption-candidate.apply",
        }),
        "B" => Some(Target {
            system: egov_core::systems::LABOR.id,
            service_id: "labor.unemployed-certificate.apply",
        }),
        "C" => Some(Target {
            system: egov_core::systems::ESOBES.id,
            service_id: "esobes.home-schooling.apply",
        }),
        // Seed 002_… item 7: «электрондық үкіметтің шлюзі / өңірлік шлюзі арқылы» to the register.
        "D" => Some(Target {
            system: egov_core::systems::REGIONAL_GATEWAY.id,
            service_id: "queue.place",
        }),
        "F" => Some(Target {
            system: egov_core::systems::REGIONAL_GATEWAY.id,
            service_id: "backoffice.guardianship.apply",
        }),
        _ => None,
    }
}

/// What the target system answered a filed request with.
#[derive(Debug, Clone, PartialEq)]
pub struct Filed {
    /// Its registration: the number (for service D, the register's `DQ-` number), when, the
    /// term.
    pub registered: ApplicationRegistered,
    /// Service D with no free place: the child's position in the queue when placed, shown
    /// beside the number, since no referral was issued yet.
    pub queue_position: Option<u32>,
}

impl Filed {
    /// Reads the queue register's answer to a placement (service D): the request keeps the
    /// register's registration number whatever the answer, since the executor's signed result
    /// (seed `002_…` item 9, 2): «... "жеке кабинетіне" жолданады (отыз минуттан аспайды)»)
    /// and a referral issued later, when a place frees, reach the cabinet under it; a child
    /// queued without a free place also keeps its position. A register that sends no number
    /// leaves the referral's, as before it carried one.
    pub fn of_placement(placed: PlaceInQueueResponse) -> Filed {
        let queue_position = (placed.kind() == ResultKind::Notification).then_some(placed.position);
        let number = if placed.registration_number.is_empty() {
            placed.referral_number
        } else {
            placed.registration_number
        };
        Filed {
            registered: ApplicationRegistered {
                registration_number: number,
                registered_at: placed.queued_at,
                due_at: None,
            },
            queue_position,
        }
    }
}

/// A request ready to be signed: its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The encoded header.
    pub header: Vec<u8>,
    /// The encoded payload.
    pub payload: Vec<u8>,
}

/// Builds the exact header and payload bytes of an application, in the name of `filer_iin`
/// (header `user_iin`: the IIN the signature must carry).
pub fn prepare(
    caller: &GatewayCaller,
    target: Target,
    application: ServiceApplication,
    filer_iin: &str,
) -> Prepared {
    let (mut header, payload) = match application.service_code.as_str() {
        "B" => (
            caller.header::<ApplyUnemployedCertificateRequest>(target.service_id, target.system),
            ApplyUnemployedCertificateRequest {
                application: Some(application),
            }
            .encode_to_vec(),
        ),
        "C" => (
            caller
                .header::<ApplyHomeSchoolingCompensationRequest>(target.service_id, target.system),
            ApplyHomeSchoolingCompensationRequest {
                application: Some(application),
            }
            .encode_to_vec(),
        ),
        // The provider's workstation takes the application as it is.
        "A" | "F" => (
            caller.header::<ServiceApplication>(target.service_id, target.system),
            application.encode_to_vec(),
        ),
        _ => {
            let district = application
                .fields
                .get("district")
                .cloned()
                .unwrap_or_default();
            let kindergarten_bin = application
                .fields
                .get("kindergarten_bin")
                .cloned()
                .unwrap_or_default();
            (
                caller.header::<PlaceInQueueRequest>(target.service_id, target.system),
                PlaceInQueueRequest {
                    application: Some(application),
                    district,
                    kindergarten_bin,
                }
                .encode_to_vec(),
            )
        }
    };
    header.user_iin = filer_iin.to_owned();
    Prepared {
        header: header.encode_to_vec(),
        payload,
    }
}

/// A future of a verification.
pub type VerifyFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Verified, VerifyError>> + Send + 'a>>;

/// Checks a signature the way condition 2 asks, whatever the verifier's revocation source.
pub trait SignatureCheck: Send + Sync + 'static {
    /// Verifies the envelope's signatures and the policy at `at`.
    fn check<'a>(
        &'a self,
        envelope: &'a Envelope,
        policy: &'a VerifyPolicy,
        at: time::OffsetDateTime,
    ) -> VerifyFuture<'a>;
}

impl<R: RevocationSource + 'static> SignatureCheck for Verifier<R> {
    fn check<'a>(
        &'a self,
        envelope: &'a Envelope,
        policy: &'a VerifyPolicy,
        at: time::OffsetDateTime,
    ) -> VerifyFuture<'a> {
        Box::pin(self.verify_at(envelope, policy, at))
    }
}

/// Checks condition 2 and sends the signed request through the gateway.
#[derive(Clone)]
pub struct Filing {
    /// Calls through the gateway as the portal.
    pub caller: GatewayCaller,
    /// Checks signatures.
    pub check: Arc<dyn SignatureCheck>,
    /// The stack's clock.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Filing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filing").finish_non_exhaustive()
    }
}

impl Filing {
    /// Condition 2: the certificate valid now, not revoked, an individual's, and its IIN the
    /// header's `user_iin` — the IIN of the person the request names as signing it.
    pub async fn condition_2(
        &self,
        prepared: &Prepared,
        signature: Signature,
    ) -> Result<Envelope, PortalError> {
        let envelope = Envelope {
            header: prepared.header.clone().into(),
            payload: prepared.payload.clone().into(),
            signatures: vec![signature],
        };
        let policy = VerifyPolicy::any()
            .with_role(Role::Individual)
            .with_identity(IdentityRule::HeaderUserIin);
        self.check
            .check(&envelope, &policy, self.clock.now())
            .await
            .map_err(|error| PortalError::EdsNotConfirmed(error.to_string()))?;
        Ok(envelope)
    }

    /// Process 5: countersigns with the portal's seal and sends through the gateway; returns
    /// the target system's registration. The queue register answers D's placement at once
    /// (the position, or a referral): its referral number, if any, is the request's number,
    /// else the position is kept ([`Filed::of_placement`]).
    pub async fn send(&self, envelope: Envelope) -> Result<Filed, PortalError> {
        let answer = self
            .caller
            .forward(envelope)
            .await
            .map_err(|error| PortalError::Refused(error.to_string()))?;
        let refused = |error: egov_system::CallError| PortalError::Refused(error.to_string());
        let header = accepted(&answer).map_err(refused)?;
        if header.payload_type == <PlaceInQueueResponse as prost::Name>::type_url() {
            let placed: PlaceInQueueResponse = decode_answer(&answer).map_err(refused)?;
            return Ok(Filed::of_placement(placed));
        }
        Ok(Filed {
            registered: decode_answer(&answer).map_err(refused)?,
            queue_position: None,
        })
    }
}

/// Decodes a stored header, for the pages.
pub fn header_of(bytes: &[u8]) -> Option<Header> {
    Header::decode(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placement_keeps_the_registers_number_and_without_a_free_place_the_position() {
        let queued = Filed::of_placement(PlaceInQueueResponse {
            kind: ResultKind::Notification as i32,
            position: 3,
            registration_number: "DQ-2026-000003".into(),
            ..PlaceInQueueResponse::default()
        });
        assert_eq!(queued.queue_position, Some(3));
        assert_eq!(queued.registered.registration_number, "DQ-2026-000003");
        let referred = Filed::of_placement(PlaceInQueueResponse {
            kind: ResultKind::Referral as i32,
            referral_number: "REF-2026-000001".into(),
            registration_number: "DQ-2026-000004".into(),
            ..PlaceInQueueResponse::default()
        });
        assert_eq!(referred.queue_position, None);
        assert_eq!(referred.registered.registration_number, "DQ-2026-000004");
    }

    #[test]
    fn a_referral_from_a_register_that_sends_no_number_keeps_the_referrals() {
        let referred = Filed::of_placement(PlaceInQueueResponse {
            kind: ResultKind::Referral as i32,
            referral_number: "REF-2026-000001".into(),
            ..PlaceInQueueResponse::default()
        });
        assert_eq!(referred.registered.registration_number, "REF-2026-000001");
    }

    #[test]
    fn a_placement_registered_for_the_providers_refusal_keeps_its_registration_number() {
        let refused = Filed::of_placement(PlaceInQueueResponse {
            kind: ResultKind::Unspecified as i32,
            registration_number: "DQ-2026-000007".into(),
            ..PlaceInQueueResponse::default()
        });
        assert_eq!(refused.queue_position, None);
        assert_eq!(refused.registered.registration_number, "DQ-2026-000007");
    }
}
