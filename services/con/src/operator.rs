//! The State Corporation's operators (Мемлекеттік корпорация операторы / оператор
//! Государственной корпорации) as signers: each operator's employee certificate, in the
//! operator's IIN and the State Corporation's BIN, signs the requests the operator files
//! (FLOWS.md, State Corporation process 5). The sign-in account says who is at the desk; the
//! config's `operators` says which IIN that login is.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use egov_core::envelope::Signer;
use egov_core::systems;
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_proto::v1::{
    CertificateRole, GetCaCertificatesRequest, IssueCertificateRequest, KeyUsage,
};
use egov_signin::Person;
use egov_system::identity::IdentityError;
use tonic::transport::Endpoint;

use crate::ConError;

/// The sign-in role of an operator.
pub const OPERATOR_ROLE: &str = "operator";

/// The operators' signers, by sign-in login.
#[derive(Debug, Clone, Default)]
pub struct Operators {
    by_login: BTreeMap<String, Arc<Signer>>,
}

impl Operators {
    /// Returns operators from signers already issued (tests, or keys kept elsewhere).
    pub fn new(signers: impl IntoIterator<Item = (String, Signer)>) -> Operators {
        Operators {
            by_login: signers
                .into_iter()
                .map(|(login, signer)| (login, Arc::new(signer)))
                .collect(),
        }
    }

    /// Enrolls every configured operator (login → IIN) with the certification centre: an
    /// employee's SIGN certificate with the State Corporation's BIN, whose key the centre
    /// derives, retrying for a few seconds while the centre starts.
    pub async fn enroll(
        pki_endpoint: &str,
        operators: &BTreeMap<String, String>,
    ) -> Result<Operators, IdentityError> {
        let centre = |reason: String| IdentityError::Centre {
            endpoint: pki_endpoint.to_owned(),
            reason,
        };
        let channel = Endpoint::from_shared(pki_endpoint.to_owned())
            .map_err(|error| IdentityError::Endpoint {
                endpoint: pki_endpoint.to_owned(),
                reason: error.to_string(),
            })?
            .connect_lazy();
        let mut client = CertificationCentreClient::new(channel);
        let mut cas = None;
        let mut last = String::new();
        for _ in 0..50 {
            match client
                .get_ca_certificates(GetCaCertificatesRequest {})
                .await
            {
                Ok(answer) => {
                    cas = Some(answer.into_inner());
                    break;
                }
                Err(status) => last = status.message().to_owned(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let cas = cas.ok_or_else(|| centre(last))?;
        let mut by_login = BTreeMap::new();
        for (login, iin) in operators {
            let issued = client
                .issue_certificate(IssueCertificateRequest {
                    surname: login.to_uppercase(),
                    given_name: "OPERATOR".into(),
                    iin: iin.clone(),
                    bin: systems::STATE_CORPORATION.bin.to_owned(),
                    organization: systems::STATE_CORPORATION.name.to_owned(),
                    role: CertificateRole::Employee as i32,
                    key_usage: KeyUsage::Sign as i32,
                    ..IssueCertificateRequest::default()
                })
                .await
                .map_err(|status| centre(status.message().to_owned()))?
                .into_inner();
            let chain = vec![issued.certificate_der, cas.intermediate_der.clone()];
            let signer = Signer::new(&issued.private_key_pkcs8, chain)
                .map_err(|error| IdentityError::Credential(error.to_string()))?;
            by_login.insert(login.clone(), Arc::new(signer));
        }
        Ok(Operators { by_login })
    }

    /// Returns the signer of a signed-in operator: the person must hold the operator role and
    /// have an IIN in the config.
    pub fn signer(&self, person: &Person) -> Result<&Arc<Signer>, ConError> {
        person
            .require_role(OPERATOR_ROLE)
            .map_err(|_| ConError::NotAnOperator {
                login: person.login.clone(),
            })?;
        self.by_login
            .get(&person.login)
            .ok_or_else(|| ConError::NotAnOperator {
                login: person.login.clone(),
            })
    }

    /// Returns how many operators can sign.
    pub fn len(&self) -> usize {
        self.by_login.len()
    }

    /// Returns whether no operator can sign.
    pub fn is_empty(&self) -> bool {
        self.by_login.is_empty()
    }
}
