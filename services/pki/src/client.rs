//! [`RemoteRevocation`]: asks the certification centre over gRPC whether a
//! certificate is revoked, so a verifier (e.g. the gateway, wrapped in
//! `CachedRevocation`) checks against the live centre.

use egov_core::envelope::{RevocationError, RevocationSource, RevocationStatus, from_timestamp};
use egov_core::pki::CertificateInfo;
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_proto::v1::{CertificateStatus, GetCertificateStatusRequest, RevocationReason};
use tonic::transport::Channel;

use crate::centre::reason_name;

/// A [`RevocationSource`] over the centre's `GetCertificateStatus`.
#[derive(Debug, Clone)]
pub struct RemoteRevocation {
    client: CertificationCentreClient<Channel>,
}

impl RemoteRevocation {
    /// Creates a source over a channel to the centre's gRPC address.
    pub fn new(channel: Channel) -> RemoteRevocation {
        RemoteRevocation {
            client: CertificationCentreClient::new(channel),
        }
    }
}

impl RevocationSource for RemoteRevocation {
    async fn status(
        &self,
        certificate: &CertificateInfo,
    ) -> Result<RevocationStatus, RevocationError> {
        // A tonic client is a cheap handle; cloning it lets calls run concurrently.
        let mut client = self.client.clone();
        let answer = client
            .get_certificate_status(GetCertificateStatusRequest {
                serial: certificate.serial.clone(),
            })
            .await
            .map_err(|status| {
                RevocationError(format!(
                    "certification centre did not answer for {}: {} ({:?})",
                    certificate.serial,
                    status.message(),
                    status.code()
                ))
            })?
            .into_inner();
        match answer.status() {
            CertificateStatus::Good => Ok(RevocationStatus::Good),
            CertificateStatus::Unknown => Ok(RevocationStatus::Unknown),
            CertificateStatus::Revoked => {
                let revoked_at = answer
                    .revoked_at
                    .as_ref()
                    .and_then(from_timestamp)
                    .ok_or_else(|| {
                        RevocationError(format!(
                            "certification centre answered REVOKED for {} without a valid revoked_at",
                            certificate.serial
                        ))
                    })?;
                let reason = RevocationReason::try_from(answer.reason)
                    .unwrap_or(RevocationReason::Unspecified);
                Ok(RevocationStatus::Revoked {
                    revoked_at,
                    reason: reason_name(reason).to_owned(),
                })
            }
            CertificateStatus::Unspecified => Err(RevocationError(format!(
                "certification centre answered no status for {}",
                certificate.serial
            ))),
        }
    }
}
