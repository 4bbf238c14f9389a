//! The `egov.v1.CertificationCentre` gRPC service: moves requests between tonic
//! and the [`Centre`], and errors through the one `From<PkiError> for Status`.

use std::sync::Arc;

use egov_proto::v1::certification_centre_server::{CertificationCentre, CertificationCentreServer};
use egov_proto::v1::{
    GetCaCertificatesRequest, GetCaCertificatesResponse, GetCertificateStatusRequest,
    GetCertificateStatusResponse, IssueCertificateRequest, IssueCertificateResponse,
    RevokeCertificateRequest, RevokeCertificateResponse,
};
use tonic::{Request, Response, Status};

use crate::centre::Centre;
use crate::enrolment::CallerCredential;

/// The tonic service over a shared [`Centre`].
#[derive(Debug, Clone)]
pub struct CentreService {
    centre: Arc<Centre>,
}

impl CentreService {
    /// Wraps a centre.
    pub fn new(centre: Arc<Centre>) -> CentreService {
        CentreService { centre }
    }

    /// Returns the generated tonic server, ready to add to the routes.
    pub fn into_server(self) -> CertificationCentreServer<CentreService> {
        CertificationCentreServer::new(self)
    }
}

#[tonic::async_trait]
impl CertificationCentre for CentreService {
    async fn issue_certificate(
        &self,
        request: Request<IssueCertificateRequest>,
    ) -> Result<Response<IssueCertificateResponse>, Status> {
        let credential = CallerCredential::from_metadata(request.metadata());
        Ok(Response::new(
            self.centre.issue(request.into_inner(), &credential).await?,
        ))
    }

    async fn revoke_certificate(
        &self,
        request: Request<RevokeCertificateRequest>,
    ) -> Result<Response<RevokeCertificateResponse>, Status> {
        let credential = CallerCredential::from_metadata(request.metadata());
        let request = request.into_inner();
        Ok(Response::new(
            self.centre
                .revoke(&request.serial, request.reason, &credential)
                .await?,
        ))
    }

    async fn get_certificate_status(
        &self,
        request: Request<GetCertificateStatusRequest>,
    ) -> Result<Response<GetCertificateStatusResponse>, Status> {
        Ok(Response::new(
            self.centre.status(&request.into_inner().serial).await?,
        ))
    }

    async fn get_ca_certificates(
        &self,
        _request: Request<GetCaCertificatesRequest>,
    ) -> Result<Response<GetCaCertificatesResponse>, Status> {
        Ok(Response::new(self.centre.ca_certificates()))
    }
}
