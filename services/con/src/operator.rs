//! The State Corporation's operators (Мемлекеттік корпорация операторы / оператор
//! Государственной корпорации) as signers: each operator's employee certificate, in the
//! operator's IIN and the State Corporation's BIN, signs the requests the operator files
//! (FLOWS.md, State Corporation process 5). The sign-in account says who is at the desk; the
//! config's `operators` says which IIN that login is.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use egov_core::envelope::Signer;
use egov_core::pki::authority::Holder;
use egov_core::pki::{KeyPurpose, Role};
use egov_core::systems;
use egov_core::{Bin, Iin};
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_signin::Person;
use egov_system::identity::{
    EnrolmentProof, IdentityError, KeyFiles, ca_certificates, enrol_holder,
};
use time::OffsetDateTime;
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
    /// employee's SIGN certificate with the State Corporation's BIN for a key made here and
    /// kept owner-only in `key_dir` (`operator-<login>.key`), asked with a certification
    /// request under the registrar account; a kept certificate that still fits (valid at
    /// `now`, the workstation's clock's time) is re-used.
    pub async fn enroll(
        pki_endpoint: &str,
        operators: &BTreeMap<String, String>,
        key_dir: &Path,
        registrar: Option<EnrolmentProof<'_>>,
        now: OffsetDateTime,
    ) -> Result<Operators, IdentityError> {
        let channel = Endpoint::from_shared(pki_endpoint.to_owned())
            .map_err(|error| IdentityError::Endpoint {
                endpoint: pki_endpoint.to_owned(),
                reason: error.to_string(),
            })?
            .connect_lazy();
        let mut client = CertificationCentreClient::new(channel);
        let (_, intermediate_der) = ca_certificates(pki_endpoint, &mut client).await?;
        let bin = Bin::parse(systems::STATE_CORPORATION.bin).map_err(|error| {
            IdentityError::Credential(format!("State Corporation BIN: {error}"))
        })?;
        let mut by_login = BTreeMap::new();
        for (login, iin) in operators {
            let holder = Holder {
                surname: login.to_uppercase(),
                given_name: "OPERATOR".into(),
                iin: Iin::parse(iin).map_err(|error| {
                    IdentityError::Credential(format!("operators.{login}: {error}"))
                })?,
                bin: Some(bin),
                organization: Some(systems::STATE_CORPORATION.name.to_owned()),
                role: Role::Employee,
                purpose: KeyPurpose::Sign,
            };
            let files = KeyFiles::in_dir(key_dir, &format!("operator-{login}"));
            let signer = enrol_holder(
                pki_endpoint,
                &mut client,
                &holder,
                registrar,
                Some(&files),
                &intermediate_der,
                now,
            )
            .await?;
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
