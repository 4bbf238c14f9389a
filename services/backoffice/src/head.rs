//! The provider's head (басшы / руководитель) as a signing person: every result document
//! carries the EDS of the provider's authorised person (FLOWS.md, "What every flow has in
//! common"), so the back office holds the head's HEAD-role certificate with its own BIN.

use egov_core::envelope::Signer;
use egov_core::pki::authority::Holder;
use egov_core::pki::{KeyPurpose, Role};
use egov_core::systems;
use egov_core::{Bin, Iin};
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_system::KeyFiles;
use egov_system::identity::{ca_certificates, enrol_holder, read_token};
use time::OffsetDateTime;
use tonic::transport::Endpoint;

use crate::BackOfficeError;
use crate::config::Config;

/// The file name (without extension) of the head's key and certificate in the data dir.
pub const HEAD_FILES: &str = "head";

/// Enrolls the head named in `config` with the certification centre: a SIGN certificate with
/// the HEAD role and the back office's BIN for a key made here and kept in the data dir
/// (`head.key`, mode 0600), asked with the head's one-time enrolment token; a kept certificate
/// is re-used while it is valid at `now`, the back office's clock's time.
pub async fn enroll(config: &Config, now: OffsetDateTime) -> Result<Signer, BackOfficeError> {
    let head = |reason: String| BackOfficeError::Head(format!("{}: {reason}", config.pki_endpoint));
    let channel = Endpoint::from_shared(config.pki_endpoint.clone())
        .map_err(|error| head(error.to_string()))?
        .connect_lazy();
    let mut client = CertificationCentreClient::new(channel);
    let (_, intermediate_der) = ca_certificates(&config.pki_endpoint, &mut client)
        .await
        .map_err(|error| head(error.to_string()))?;
    let holder = Holder {
        surname: config.head_surname.clone(),
        given_name: config.head_given_name.clone(),
        iin: Iin::parse(&config.head_iin).map_err(|error| head(format!("head_iin: {error}")))?,
        bin: Some(
            Bin::parse(systems::BACKOFFICE.bin)
                .map_err(|error| BackOfficeError::config(format!("back office BIN: {error}")))?,
        ),
        organization: Some(systems::BACKOFFICE.name.to_owned()),
        role: Role::Head,
        purpose: KeyPurpose::Sign,
    };
    let token = read_token(
        config.head_enrolment_token.as_deref(),
        config.head_enrolment_token_file.as_deref(),
    )
    .map_err(|error| head(error.to_string()))?;
    let files = KeyFiles::in_dir(&config.data_dir, HEAD_FILES);
    let signer = enrol_holder(
        &config.pki_endpoint,
        &mut client,
        &holder,
        token
            .as_deref()
            .map(egov_system::identity::EnrolmentProof::Token),
        Some(&files),
        &intermediate_der,
        now,
    )
    .await
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
