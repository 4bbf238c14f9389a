//! A system's identity: the seal certificate (legal-entity role, OU=BIN…) it
//! signs every message with, and the root it trusts, both from the
//! certification centre.

use std::sync::Arc;
use std::time::Duration;

use egov_core::envelope::{CachedRevocation, Signer, Verifier};
use egov_core::iin::{BinError, IinError};
use egov_core::pki::CertificateInfo;
use egov_core::pki::authority::Credential;
use egov_core::systems::SystemInfo;
use egov_core::{Bin, Iin};
use egov_pki::client::RemoteRevocation;
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_proto::v1::{
    CertificateRole, GetCaCertificatesRequest, IssueCertificateRequest, KeyUsage,
};
use tonic::transport::{Channel, Endpoint};

/// Failures obtaining a system's identity.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The centre's endpoint is not a URL.
    #[error("certification centre endpoint {endpoint:?}: {reason}")]
    Endpoint {
        /// The endpoint.
        endpoint: String,
        /// Why it was refused.
        reason: String,
    },
    /// The centre did not answer (after retries) or refused.
    #[error("certification centre at {endpoint}: {reason}")]
    Centre {
        /// The endpoint.
        endpoint: String,
        /// What it said, or why it could not be reached.
        reason: String,
    },
    /// The issued certificate or key could not be used.
    #[error("issued credential is unusable: {0}")]
    Credential(String),
}

/// What a system asks the certification centre for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The system id in the gateway registry.
    pub system_id: String,
    /// The operating organisation's BIN.
    pub bin: Bin,
    /// The organisation's name (O).
    pub organization: String,
    /// IIN of the person responsible for the system's seal.
    pub responsible_iin: Iin,
}

/// Why a system's [`Enrolment`] could not be put together from its registry entry and config.
#[derive(Debug, thiserror::Error)]
pub enum EnrolmentError {
    /// The registry's BIN of the system is malformed.
    #[error("{system} BIN: {source}")]
    Bin {
        /// The system id.
        system: String,
        /// Why the BIN was refused.
        #[source]
        source: BinError,
    },
    /// The config's `responsible_iin` is malformed.
    #[error("responsible_iin: {0}")]
    ResponsibleIin(#[source] IinError),
}

impl Enrolment {
    /// Returns the enrolment of `system` as the registry lists it, its seal in the name of
    /// `responsible_iin`.
    pub fn of(system: &SystemInfo, responsible_iin: &str) -> Result<Enrolment, EnrolmentError> {
        Ok(Enrolment {
            system_id: system.id.to_owned(),
            bin: Bin::parse(system.bin).map_err(|source| EnrolmentError::Bin {
                system: system.id.to_owned(),
                source,
            })?,
            organization: system.name.to_owned(),
            responsible_iin: Iin::parse(responsible_iin).map_err(EnrolmentError::ResponsibleIin)?,
        })
    }
}

/// A system's signing identity and trust anchor.
#[derive(Debug)]
pub struct SystemIdentity {
    /// The system id.
    pub system_id: String,
    /// The organisation's BIN, in the seal's OU.
    pub bin: Bin,
    /// Signs with the seal.
    pub signer: Signer,
    /// The trusted root.
    pub root: CertificateInfo,
}

impl SystemIdentity {
    /// Builds an identity from an issued credential (tests, or keys kept on disk).
    pub fn from_credential(
        system_id: &str,
        bin: Bin,
        credential: &Credential,
        root: CertificateInfo,
    ) -> Result<SystemIdentity, IdentityError> {
        let signer = Signer::new(credential.key.pkcs8(), credential.chain.clone())
            .map_err(|err| IdentityError::Credential(err.to_string()))?;
        Ok(SystemIdentity {
            system_id: system_id.to_owned(),
            bin,
            signer,
            root,
        })
    }

    /// Enrolls with the certification centre: fetches its root and a seal
    /// certificate whose key the centre derives deterministically, retrying
    /// for a few seconds while the centre starts.
    pub async fn enroll(
        pki_endpoint: &str,
        enrolment: &Enrolment,
    ) -> Result<SystemIdentity, IdentityError> {
        let channel = channel(pki_endpoint)?;
        let mut client = CertificationCentreClient::new(channel);
        let centre = |reason: String| IdentityError::Centre {
            endpoint: pki_endpoint.to_owned(),
            reason,
        };
        let mut last = String::new();
        for _ in 0..50 {
            match client
                .get_ca_certificates(GetCaCertificatesRequest {})
                .await
            {
                Ok(cas) => {
                    let cas = cas.into_inner();
                    let root = CertificateInfo::from_der(&cas.root_der)
                        .map_err(|err| centre(format!("root certificate: {err}")))?;
                    let issued = client
                        .issue_certificate(IssueCertificateRequest {
                            surname: enrolment.system_id.to_uppercase(),
                            given_name: "SEAL".into(),
                            iin: enrolment.responsible_iin.to_string(),
                            bin: enrolment.bin.to_string(),
                            organization: enrolment.organization.clone(),
                            role: CertificateRole::LegalEntity as i32,
                            key_usage: KeyUsage::Sign as i32,
                            ..IssueCertificateRequest::default()
                        })
                        .await
                        .map_err(|status| centre(status.message().to_owned()))?
                        .into_inner();
                    let chain = vec![issued.certificate_der, cas.intermediate_der];
                    let signer = Signer::new(&issued.private_key_pkcs8, chain)
                        .map_err(|err| IdentityError::Credential(err.to_string()))?;
                    return Ok(SystemIdentity {
                        system_id: enrolment.system_id.clone(),
                        bin: enrolment.bin,
                        signer,
                        root,
                    });
                }
                Err(status) => last = status.message().to_owned(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(centre(last))
    }

    /// Builds a verifier that trusts this identity's root and asks the
    /// centre for revocation, caching answers for `freshness`.
    pub fn remote_verifier(
        &self,
        pki_endpoint: &str,
        freshness: Duration,
    ) -> Result<Arc<Verifier<CachedRevocation<RemoteRevocation>>>, IdentityError> {
        let revocation =
            CachedRevocation::new(RemoteRevocation::new(channel(pki_endpoint)?), freshness);
        Ok(Arc::new(Verifier::new(vec![self.root.clone()], revocation)))
    }
}

fn channel(endpoint: &str) -> Result<Channel, IdentityError> {
    Ok(Endpoint::from_shared(endpoint.to_owned())
        .map_err(|err| IdentityError::Endpoint {
            endpoint: endpoint.to_owned(),
            reason: err.to_string(),
        })?
        .connect_lazy())
}

#[cfg(test)]
mod tests {
    use egov_core::systems;

    use super::*;

    #[test]
    fn an_enrolment_is_the_registry_entry_with_the_responsible_iin() {
        let enrolment = Enrolment::of(&systems::LABOR, "751204400013").expect("enrolment");
        assert_eq!(enrolment.system_id, systems::LABOR.id);
        assert_eq!(enrolment.organization, systems::LABOR.name);
        assert_eq!(enrolment.bin.to_string(), systems::LABOR.bin);
    }

    #[test]
    fn a_bad_responsible_iin_is_refused_naming_the_key() {
        let error = Enrolment::of(&systems::LABOR, "123").expect_err("refused");
        assert!(
            error.to_string().starts_with("responsible_iin: "),
            "{error}"
        );
    }
}
