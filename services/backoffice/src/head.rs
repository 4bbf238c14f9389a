//! The provider's head (басшы / руководитель) as a signing person: every result document
//! carries the EDS of the provider's authorised person (FLOWS.md, "What every flow has in
//! common"), so the back office holds the head's HEAD-role certificate with its own BIN.

use egov_core::Bin;
use egov_core::envelope::Signer;
use egov_core::pki::Role;
use egov_core::systems;
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_proto::v1::{
    CertificateRole, GetCaCertificatesRequest, IssueCertificateRequest, KeyUsage,
};
use tonic::transport::Endpoint;

use crate::BackOfficeError;
use crate::config::Config;

/// Enrolls the head named in `config` with the certification centre: a SIGN certificate with
/// the HEAD role and the back office's BIN, whose key the centre derives from the head's IIN.
pub async fn enroll(config: &Config) -> Result<Signer, BackOfficeError> {
    let head = |reason: String| BackOfficeError::Head(format!("{}: {reason}", config.pki_endpoint));
    let channel = Endpoint::from_shared(config.pki_endpoint.clone())
        .map_err(|error| head(error.to_string()))?
        .connect_lazy();
    let mut client = CertificationCentreClient::new(channel);
    let cas = client
        .get_ca_certificates(GetCaCertificatesRequest {})
        .await
        .map_err(|status| head(status.message().to_owned()))?
        .into_inner();
    let issued = client
        .issue_certificate(IssueCertificateRequest {
            surname: config.head_surname.clone(),
            given_name: config.head_given_name.clone(),
            iin: config.head_iin.clone(),
            bin: systems::BACKOFFICE.bin.to_owned(),
            organization: systems::BACKOFFICE.name.to_owned(),
            role: CertificateRole::Head as i32,
            key_usage: KeyUsage::Sign as i32,
            ..IssueCertificateRequest::default()
        })
        .await
        .map_err(|status| head(status.message().to_owned()))?
        .into_inner();
    let signer = Signer::new(
        &issued.private_key_pkcs8,
        vec![issued.certificate_der, cas.intermediate_der],
    )
    .map_err(|error| head(error.to_string()))?;
    check(&signer)?;
    Ok(signer)
}

/// Refuses a head credential that could not sign results: it must carry the HEAD role and the
/// back office's BIN, or every receiver would reject the results it signs.
pub fn check(signer: &Signer) -> Result<(), BackOfficeError> {
    let certificate = signer.certificate();
    if !certificate.has_role(Role::Head) {
        return Err(BackOfficeError::Head(format!(
            "certificate {} lacks the head role",
            certificate.subject
        )));
    }
    let bin = Bin::parse(systems::BACKOFFICE.bin)
        .map_err(|error| BackOfficeError::config(format!("back office BIN: {error}")))?;
    if certificate.bin.as_ref() != Some(&bin) {
        return Err(BackOfficeError::Head(format!(
            "certificate {} does not carry the back office's BIN {bin}",
            certificate.subject
        )));
    }
    Ok(())
}
