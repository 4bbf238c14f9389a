//! The provider's office (кеңсе / канцелярия) through the back office's own gRPC API, for
//! `office` steps: the clerk's intake of a paper application (`OpenCase`, on the provider
//! channel, as the clerk enters what the recipient hands in) and the case as the office keeps
//! it (`GetCase`), each call with an operator's bearer token. The same client serves the flow
//! matrix in process and `egov scenario run --office` against a running stack.

use std::future::Future;
use std::pin::Pin;

use egov_core::pki::CertificateInfo;
use egov_proto::v1::back_office_client::BackOfficeClient;
use egov_proto::v1::{
    AttachedDocument, Case, Channel, Envelope, GetCaseRequest, OpenCaseRequest, ServiceApplication,
};
use prost::Message as _;

use crate::file::Office as OfficeForm;
use crate::operator_endpoint::{EndpointError, OperatorEndpoint};
use crate::run::ProviderOffice;

/// Why the office could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// The back office's URL does not read.
    #[error("the provider's office URL {url:?} does not read: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The operator's token cannot go in a header.
    #[error("the office operator's token is not a header value")]
    BadToken,
    /// The back office refused or could not be reached.
    #[error("the provider's office at {url} refused {what}: {status}")]
    Refused {
        /// Its URL.
        url: String,
        /// What was asked.
        what: String,
        /// The gRPC status.
        status: String,
    },
}

/// The back office at `url`, used as its office clerk with an operator's token.
#[derive(Debug, Clone)]
pub struct OfficeClient(OperatorEndpoint);

impl OfficeClient {
    /// Creates a client of the back office's gRPC API at `url` calling with `token`; nothing
    /// is asked until the first step.
    pub fn new(url: &str, token: &str) -> Result<OfficeClient, OfficeError> {
        OperatorEndpoint::new(url, token)
            .map(OfficeClient)
            .map_err(|err| match err {
                EndpointError::BadUrl(reason) => OfficeError::BadUrl {
                    url: url.to_owned(),
                    reason,
                },
                EndpointError::BadToken => OfficeError::BadToken,
            })
    }

    /// Hands `form` in: the clerk registers a paper application on the provider channel.
    pub async fn file_form(&self, form: &OfficeForm) -> Result<Case, OfficeError> {
        let application = ServiceApplication {
            service_code: form.service.clone(),
            channel: Channel::Provider as i32,
            recipient_iin: form.recipient_iin.clone(),
            documents: form
                .documents
                .iter()
                .map(|kind| AttachedDocument {
                    kind: kind.clone(),
                    ..AttachedDocument::default()
                })
                .collect(),
            ..ServiceApplication::default()
        };
        let what = format!("the application for service {}", form.service);
        let mut client = self.client(&what).await?;
        client
            .open_case(self.0.request(OpenCaseRequest {
                application: Some(application),
                ..OpenCaseRequest::default()
            }))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| self.refused(&what, status.to_string()))
    }

    /// Reads the case `id` as the office keeps it.
    pub async fn case_of(&self, id: &str) -> Result<Case, OfficeError> {
        let what = format!("case {id}");
        let mut client = self.client(&what).await?;
        client
            .get_case(self.0.request(GetCaseRequest { id: id.to_owned() }))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| self.refused(&what, status.to_string()))
    }

    async fn client(
        &self,
        what: &str,
    ) -> Result<BackOfficeClient<tonic::transport::Channel>, OfficeError> {
        let channel = self
            .0
            .connect()
            .await
            .map_err(|err| self.refused(what, err.to_string()))?;
        Ok(BackOfficeClient::new(channel))
    }

    fn refused(&self, what: &str, status: String) -> OfficeError {
        OfficeError::Refused {
            url: self.0.url().to_owned(),
            what: what.to_owned(),
            status,
        }
    }
}

/// Returns a case as `office` steps compare it: `case`, `registration_number`, `service`,
/// `closed`, `steps = [{ role, action, norm, late }]` and, once decided, `result = { kind,
/// refusal_ground, text, fields, signed_by }`: `signed_by` is the subject of the certificate
/// of whoever signed the paper result the office keeps ("" when it keeps none). The office
/// shows it as the paper carries it; the back office's tests verify the signature itself.
pub fn case_table(case: &Case) -> toml::Table {
    let text = |value: &str| toml::Value::String(value.to_owned());
    let mut table = toml::Table::new();
    table.insert("case".into(), text(&case.id));
    table.insert(
        "registration_number".into(),
        text(&case.registration_number),
    );
    table.insert("service".into(), text(&case.service_code));
    table.insert("closed".into(), toml::Value::Boolean(case.closed));
    let steps = case
        .steps
        .iter()
        .map(|step| {
            toml::Value::Table(toml::Table::from_iter([
                ("role".to_owned(), text(step.role().as_str_name())),
                ("action".to_owned(), text(&step.action)),
                ("norm".to_owned(), text(&step.norm)),
                ("late".to_owned(), toml::Value::Boolean(step.late)),
            ]))
        })
        .collect();
    table.insert("steps".into(), toml::Value::Array(steps));
    if let Some(result) = &case.result {
        let fields = result
            .fields
            .iter()
            .map(|(key, value)| (key.clone(), text(value)))
            .collect();
        table.insert(
            "result".into(),
            toml::Value::Table(toml::Table::from_iter([
                ("kind".to_owned(), text(result.kind().as_str_name())),
                ("refusal_ground".to_owned(), text(&result.refusal_ground)),
                ("text".to_owned(), text(&result.text)),
                ("fields".to_owned(), toml::Value::Table(fields)),
                ("signed_by".to_owned(), text(&signed_by(&result.evidence))),
            ])),
        );
    }
    table
}

/// Returns the subject of the first signer's certificate of an encoded envelope, or a note
/// saying why there is none to show.
fn signed_by(document: &[u8]) -> String {
    if document.is_empty() {
        return String::new();
    }
    let Ok(envelope) = Envelope::decode(document) else {
        return "(the signed document does not decode)".to_owned();
    };
    envelope
        .signatures
        .first()
        .and_then(|signature| signature.certificate_chain.first())
        .and_then(|der| CertificateInfo::from_der(der).ok())
        .map_or_else(
            || "(the signed document carries no readable certificate)".to_owned(),
            |certificate| certificate.subject,
        )
}

impl ProviderOffice for OfficeClient {
    fn file<'a>(
        &'a self,
        form: &'a OfficeForm,
    ) -> Pin<Box<dyn Future<Output = Result<toml::Table, String>> + std::marker::Send + 'a>> {
        Box::pin(async move {
            self.file_form(form)
                .await
                .map(|case| case_table(&case))
                .map_err(|err| err.to_string())
        })
    }

    fn case<'a>(
        &'a self,
        id: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<toml::Table, String>> + std::marker::Send + 'a>> {
        Box::pin(async move {
            self.case_of(id)
                .await
                .map(|case| case_table(&case))
                .map_err(|err| err.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_office_url_must_read_and_its_token_go_in_a_header() {
        assert!(OfficeClient::new("http://127.0.0.1:7191", "token").is_ok());
        assert!(matches!(
            OfficeClient::new("not a url", "token"),
            Err(OfficeError::BadUrl { .. })
        ));
        assert!(matches!(
            OfficeClient::new("http://127.0.0.1:7191", "line\nbreak"),
            Err(OfficeError::BadToken)
        ));
    }
}
