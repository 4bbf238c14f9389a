//! Whose head may sign a result: every receiver of the back office's results (the intakes'
//! `verify_decision`, the portal's cabinet, the State Corporation's inbox) refuses a result
//! signed by the head of an organisation that does not decide its service, the same way.

use egov_core::StatusCode;
use egov_core::pki::{CertificateInfo, Role};
use egov_core::providers::{self, ResultSigner};

use crate::Fault;

/// Checks that `author` may have decided a result of `service_code`: its certificate has the
/// head role (else `CertificateNotAuthorized`) and is of the organisation that decides the
/// service ([`check_result_signer`]). The intakes' `verify_decision` and the State
/// Corporation's desk, which require a head, check this way.
pub fn check_result_author(service_code: &str, author: &CertificateInfo) -> Result<(), Fault> {
    if !author.has_role(Role::Head) {
        return Err(Fault::new(
            StatusCode::CertificateNotAuthorized,
            format!(
                "a result must be signed by the provider's head; {} lacks the head role",
                author.subject
            ),
        ));
    }
    check_result_signer(service_code, author)
}

/// Checks that `signer`, the author of a result of `service_code`, is a head of the
/// organisation that decides the service ([`providers::result_signer`]); a head of another
/// organisation is refused with `ESIG009`, naming both BINs.
pub fn check_result_signer(service_code: &str, signer: &CertificateInfo) -> Result<(), Fault> {
    let expected = providers::result_signer(service_code);
    let signed = signer
        .bin
        .as_ref()
        .map(|bin| bin.to_string())
        .unwrap_or_default();
    if signed == expected.bin() {
        return Ok(());
    }
    let signed_by = match providers::by_bin(&signed) {
        Some(organisation) => organisation.name_ru,
        None if signed.is_empty() => "no organisation",
        None => "an organisation that provides no service",
    };
    let decides = match expected {
        ResultSigner::Head(_) => "is decided by",
        ResultSigner::BackOffice => "is signed, as before, by the head of",
    };
    Err(Fault::new(
        StatusCode::SignerNotProvider,
        format!(
            "the result of service {service_code} {decides} {} (BIN {}), but it is signed by {} of {signed_by} (BIN {})",
            expected.name(),
            expected.bin(),
            signer.subject,
            if signed.is_empty() { "-" } else { &signed },
        ),
    ))
}

#[cfg(test)]
mod tests {
    use egov_core::pki::Role;
    use egov_core::systems;

    use super::*;

    /// A HEAD certificate of the sandbox's centre, for a head of the organisation `bin`.
    async fn head_of(bin: &str) -> CertificateInfo {
        let sandbox = egov_testkit::Sandbox::start().await;
        sandbox
            .person(providers::EMPLOYMENT_CENTRE.head.iin, Role::Head, Some(bin))
            .certificate()
            .clone()
    }

    #[tokio::test]
    async fn a_result_of_b_signed_by_the_employment_centres_head_passes() {
        let signer = head_of(providers::EMPLOYMENT_CENTRE.bin).await;
        assert!(signer.has_role(Role::Head));
        check_result_signer("B", &signer).expect("the provider's head");
    }

    #[tokio::test]
    async fn a_result_of_b_signed_by_another_providers_head_is_refused_naming_both_bins() {
        let signer = head_of(providers::SOCIAL_PROTECTION_DEPARTMENT.bin).await;
        let fault = check_result_signer("B", &signer).expect_err("refused");
        assert_eq!(fault.code, StatusCode::SignerNotProvider);
        assert!(
            fault.message.contains(providers::EMPLOYMENT_CENTRE.bin),
            "{}",
            fault.message
        );
        assert!(
            fault
                .message
                .contains(providers::SOCIAL_PROTECTION_DEPARTMENT.bin),
            "{}",
            fault.message
        );
    }

    #[tokio::test]
    async fn a_result_of_d_stays_signed_by_the_back_offices_head() {
        check_result_signer("D", &head_of(systems::BACKOFFICE.bin).await).expect("as before");
        let fault = check_result_signer("D", &head_of(providers::EMPLOYMENT_CENTRE.bin).await)
            .expect_err("refused");
        assert_eq!(fault.code, StatusCode::SignerNotProvider);
    }
}
