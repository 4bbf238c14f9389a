//! The heads (басшы / руководитель) as signing persons: every result document carries the EDS
//! of the provider's authorised person (FLOWS.md, "What every flow has in common"), and each
//! provider organisation (egov_core::providers) is its own legal entity with its own head. The
//! back office holds one HEAD-role certificate per organisation, under that organisation's
//! BIN, and signs a result with the head of the organisation that decides its service; D,
//! whose regulation names no head, keeps the back office's own head under its BIN.

use std::collections::BTreeMap;
use std::sync::Arc;

use egov_core::envelope::Signer;
use egov_core::pki::authority::Holder;
use egov_core::pki::{KeyPurpose, Role};
use egov_core::providers::{self, Organisation, ResultSigner};
use egov_core::systems;
use egov_core::{Bin, Iin};
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_proto::v1::{Envelope, Header};
use egov_system::KeyFiles;
use egov_system::identity::{EnrolmentProof, ca_certificates, enrol_holder, read_token};
use time::OffsetDateTime;
use tonic::transport::{Channel, Endpoint};

use crate::BackOfficeError;
use crate::config::Config;

/// The file name (without extension) of the back office's own head's key and certificate in
/// the data dir; a provider organisation's head's are `head-<organisation key>`.
pub const HEAD_FILES: &str = "head";

/// The signing heads: the back office's own, and one per provider organisation that signs.
#[derive(Clone)]
pub struct Heads {
    back_office: Arc<Signer>,
    providers: BTreeMap<&'static str, (Organisation, Arc<Signer>)>,
}

impl std::fmt::Debug for Heads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heads")
            .field("back_office", &self.back_office.certificate().subject)
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Heads {
    /// Holds the back office's own head and the organisations' heads as given; [`Heads::check`]
    /// judges them.
    pub fn new(
        back_office: Signer,
        providers: impl IntoIterator<Item = (Organisation, Signer)>,
    ) -> Heads {
        Heads {
            back_office: Arc::new(back_office),
            providers: providers
                .into_iter()
                .map(|(organisation, head)| (organisation.key, (organisation, Arc::new(head))))
                .collect(),
        }
    }

    /// Returns the head who signs the results of a service: its provider's head, or the back
    /// office's own for D and a service no organisation provides.
    pub fn for_service(&self, service_code: &str) -> Result<&Arc<Signer>, BackOfficeError> {
        match providers::result_signer(service_code) {
            ResultSigner::BackOffice => Ok(&self.back_office),
            ResultSigner::Head(organisation) => self
                .providers
                .get(organisation.key)
                .map(|(_, head)| head)
                .ok_or_else(|| {
                    BackOfficeError::Head(format!(
                        "no head of {} (BIN {}) is enrolled to sign service {service_code}",
                        organisation.name_ru, organisation.bin
                    ))
                }),
        }
    }

    /// Has the head who signs `service_code`'s results author `result` under `header`, the
    /// head's IIN written into the header's `user_iin` (a result is the head's document).
    pub fn author(
        &self,
        service_code: &str,
        mut header: Header,
        result: Vec<u8>,
    ) -> Result<Envelope, BackOfficeError> {
        let head = self.for_service(service_code)?;
        if let Some(iin) = &head.certificate().iin {
            header.user_iin = iin.to_string();
        }
        head.seal(&header, result).map_err(|error| {
            BackOfficeError::Head(format!(
                "the head of service {service_code} could not sign its result: {error}"
            ))
        })
    }

    /// Refuses heads that could not sign results: each must carry the HEAD role and its own
    /// organisation's BIN (the back office's own head the back office's BIN), and every
    /// organisation of [`providers::SIGNING`] must have one, or every receiver would reject
    /// the results they sign.
    pub fn check(&self) -> Result<(), BackOfficeError> {
        check(
            &self.back_office,
            systems::BACKOFFICE.bin,
            "the back office",
        )?;
        for organisation in providers::SIGNING {
            let (_, head) = self.providers.get(organisation.key).ok_or_else(|| {
                BackOfficeError::Head(format!(
                    "no head of {} (BIN {}) is enrolled",
                    organisation.name_ru, organisation.bin
                ))
            })?;
            check(head, organisation.bin, organisation.name_ru)?;
        }
        Ok(())
    }

    /// Returns every head's certificate subject, for the start's log line.
    pub fn subjects(&self) -> Vec<String> {
        std::iter::once(&self.back_office)
            .chain(self.providers.values().map(|(_, head)| head))
            .map(|head| head.certificate().subject.clone())
            .collect()
    }
}

/// Enrolls every head with the certification centre: the back office's own head named in
/// `config` and the head of each organisation of [`providers::SIGNING`], each a SIGN
/// certificate with the HEAD role and its organisation's BIN for a key made here and kept in
/// the data dir (mode 0600), asked with its own one-time enrolment token; a kept certificate
/// is re-used while it is valid at `now`, the back office's clock's time.
pub async fn enroll(config: &Config, now: OffsetDateTime) -> Result<Heads, BackOfficeError> {
    let head = |reason: String| BackOfficeError::Head(format!("{}: {reason}", config.pki_endpoint));
    let channel = Endpoint::from_shared(config.pki_endpoint.clone())
        .map_err(|error| head(error.to_string()))?
        .connect_lazy();
    let mut client = CertificationCentreClient::new(channel);
    let (_, intermediate_der) = ca_certificates(&config.pki_endpoint, &mut client)
        .await
        .map_err(|error| head(error.to_string()))?;
    let own = Holder {
        surname: config.head_surname.clone(),
        given_name: config.head_given_name.clone(),
        iin: Iin::parse(&config.head_iin).map_err(|error| head(format!("head_iin: {error}")))?,
        bin: Some(parse_bin(systems::BACKOFFICE.bin)?),
        organization: Some(systems::BACKOFFICE.name.to_owned()),
        role: Role::Head,
        purpose: KeyPurpose::Sign,
    };
    let token = read_token(
        config.head_enrolment_token.as_deref(),
        config.head_enrolment_token_file.as_deref(),
    )
    .map_err(|error| head(error.to_string()))?;
    let mut enrolment = Enrolment {
        config,
        client: &mut client,
        intermediate_der: &intermediate_der,
        now,
    };
    let back_office = enrolment.enrol(&own, token, HEAD_FILES).await?;
    let mut heads = Vec::new();
    for organisation in providers::SIGNING {
        let holder = Holder {
            surname: organisation.head.surname.to_owned(),
            given_name: organisation.head.given_name.to_owned(),
            iin: Iin::parse(organisation.head.iin)
                .map_err(|error| head(format!("head of {}: {error}", organisation.key)))?,
            bin: Some(parse_bin(organisation.bin)?),
            organization: Some(organisation.name_ru.to_owned()),
            role: Role::Head,
            purpose: KeyPurpose::Sign,
        };
        let token = read_token(
            config
                .head_enrolment_tokens
                .get(organisation.key)
                .map(String::as_str),
            config
                .head_enrolment_token_files
                .get(organisation.key)
                .map(std::path::PathBuf::as_path),
        )
        .map_err(|error| head(format!("head of {}: {error}", organisation.key)))?;
        let files = format!("{HEAD_FILES}-{}", organisation.key);
        heads.push((organisation, enrolment.enrol(&holder, token, &files).await?));
    }
    let heads = Heads::new(back_office, heads);
    heads.check()?;
    Ok(heads)
}

/// What every head's enrolment shares.
struct Enrolment<'a> {
    config: &'a Config,
    client: &'a mut CertificationCentreClient<Channel>,
    intermediate_der: &'a [u8],
    now: OffsetDateTime,
}

impl Enrolment<'_> {
    /// Enrolls one head, keeping its key and certificate as `files` in the data dir.
    async fn enrol(
        &mut self,
        holder: &Holder,
        token: Option<String>,
        files: &str,
    ) -> Result<Signer, BackOfficeError> {
        let files = KeyFiles::in_dir(&self.config.data_dir, files);
        enrol_holder(
            &self.config.pki_endpoint,
            self.client,
            holder,
            token.as_deref().map(EnrolmentProof::Token),
            Some(&files),
            self.intermediate_der,
            self.now,
        )
        .await
        .map_err(|error| {
            BackOfficeError::Head(format!(
                "{}: head of {}: {error}",
                self.config.pki_endpoint,
                holder.organization.as_deref().unwrap_or("?")
            ))
        })
    }
}

fn parse_bin(bin: &str) -> Result<Bin, BackOfficeError> {
    Bin::parse(bin).map_err(|error| BackOfficeError::config(format!("BIN {bin}: {error}")))
}

/// Refuses a head credential that could not sign for `organisation`: it must carry the HEAD
/// role and the organisation's BIN.
pub fn check(signer: &Signer, bin: &str, organisation: &str) -> Result<(), BackOfficeError> {
    let certificate = signer.certificate();
    if !certificate.has_role(Role::Head) {
        return Err(BackOfficeError::Head(format!(
            "the head of {organisation}: certificate {} lacks the head role",
            certificate.subject
        )));
    }
    let bin = parse_bin(bin)?;
    if certificate.bin.as_ref() != Some(&bin) {
        return Err(BackOfficeError::Head(format!(
            "the head of {organisation}: certificate {} carries BIN {}, not the organisation's BIN {bin}",
            certificate.subject,
            certificate
                .bin
                .as_ref()
                .map_or_else(|| "none".to_owned(), ToString::to_string),
        )));
    }
    Ok(())
}
