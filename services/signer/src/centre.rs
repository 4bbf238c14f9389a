//! Who certifies a citizen's public key: the certification centre (НУЦ). The signer sends
//! a certification request (PKCS#10) signed with the key it made
//! (`IssueCertificateRequest.certification_request_der`), so the private key never leaves it;
//! it enrols under a registrar account, as a registration desk does after checking the person.

use std::future::Future;
use std::pin::Pin;

use egov_core::Iin;
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_proto::v1::{
    CertificateRole, GetCaCertificatesRequest, IssueCertificateRequest, KeyUsage,
};
use tonic::transport::{Channel, Endpoint};

use crate::SignerError;

/// A certificate the centre issued for a public key: the chain a signature attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// DER chain: the certificate, then the issuing intermediate.
    pub chain: Vec<Vec<u8>>,
}

/// Who the certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    /// IIN (SERIALNUMBER=IIN…).
    pub iin: Iin,
    /// Surname.
    pub surname: String,
    /// Given name.
    pub given_name: String,
    /// Validity in days.
    pub days: u32,
}

/// A future of an issued certificate.
pub type IssueFuture<'a> = Pin<Box<dyn Future<Output = Result<Issued, SignerError>> + Send + 'a>>;

/// Certifies an individual's SIGN key from its certification request (PKCS#10 DER).
pub trait CertificationCentre: Send + Sync + 'static {
    /// Issues an individual's SIGN certificate for the key the request proves.
    fn issue<'a>(
        &'a self,
        applicant: &'a Applicant,
        certification_request_der: Vec<u8>,
    ) -> IssueFuture<'a>;
}

/// The certification centre over its gRPC contract (`egov.v1.CertificationCentre`).
#[derive(Debug, Clone)]
pub struct PkiCentre {
    endpoint: String,
    client: CertificationCentreClient<Channel>,
    registrar: Option<(String, String)>,
}

impl PkiCentre {
    /// Connects lazily to the centre at `endpoint`.
    pub fn new(endpoint: &str) -> Result<PkiCentre, SignerError> {
        let channel = Endpoint::from_shared(endpoint.to_owned())
            .map_err(|error| SignerError::Centre {
                endpoint: endpoint.to_owned(),
                reason: error.to_string(),
            })?
            .connect_lazy();
        Ok(PkiCentre {
            endpoint: endpoint.to_owned(),
            client: CertificationCentreClient::new(channel),
            registrar: None,
        })
    }

    /// Connects to the config's centre, enrolling under its registrar account if it names one.
    pub fn for_config(config: &crate::Config) -> Result<PkiCentre, SignerError> {
        let centre = PkiCentre::new(&config.pki_endpoint)?;
        let password =
            config
                .registrar_password()
                .map_err(|source| SignerError::RegistrarPassword {
                    path: config
                        .registrar_password_file
                        .as_deref()
                        .map(|file| file.display().to_string())
                        .unwrap_or_default(),
                    source,
                })?;
        Ok(match (&config.registrar_login, password) {
            (Some(login), Some(password)) => centre.with_registrar(login.clone(), password),
            _ => centre,
        })
    }

    /// Enrols under this registrar account (login, password).
    pub fn with_registrar(mut self, login: String, password: String) -> PkiCentre {
        self.registrar = Some((login, password));
        self
    }
}

impl CertificationCentre for PkiCentre {
    fn issue<'a>(
        &'a self,
        applicant: &'a Applicant,
        certification_request_der: Vec<u8>,
    ) -> IssueFuture<'a> {
        Box::pin(async move {
            let refused = |reason: String| SignerError::Centre {
                endpoint: self.endpoint.clone(),
                reason,
            };
            let mut client = self.client.clone();
            let cas = client
                .get_ca_certificates(GetCaCertificatesRequest {})
                .await
                .map_err(|status| refused(status.message().to_owned()))?
                .into_inner();
            let mut request = tonic::Request::new(IssueCertificateRequest {
                surname: applicant.surname.clone(),
                given_name: applicant.given_name.clone(),
                iin: applicant.iin.to_string(),
                role: CertificateRole::Individual as i32,
                key_usage: KeyUsage::Sign as i32,
                certification_request_der,
                validity_days: applicant.days,
                ..IssueCertificateRequest::default()
            });
            if let Some((login, password)) = &self.registrar {
                for (key, value) in [
                    (egov_core::pki::request::REGISTRAR_LOGIN_METADATA, login),
                    (
                        egov_core::pki::request::REGISTRAR_PASSWORD_METADATA,
                        password,
                    ),
                ] {
                    let value = value
                        .parse()
                        .map_err(|_| refused(format!("{key} is not a valid header value")))?;
                    request.metadata_mut().insert(key, value);
                }
            }
            let issued = client
                .issue_certificate(request)
                .await
                .map_err(|status| refused(status.message().to_owned()))?
                .into_inner();
            Ok(Issued {
                chain: vec![issued.certificate_der, cas.intermediate_der],
            })
        })
    }
}
