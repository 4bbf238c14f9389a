//! The direct `egov.v1.Labor` gRPC contract, for teams that call the Labour Market IS
//! without the gateway: each call carries its signed envelope in metadata and takes the
//! same path as a message the gateway forwards ([`egov_system::direct`]).

use egov_proto::v1::labor_server::{Labor, LaborServer};
use egov_proto::v1::{
    ApplicationRegistered, ApplyUnemployedCertificateRequest, GetApplicationResultRequest,
    ServiceResult,
};

use crate::certificate::{APPLY_SERVICE_ID, RESULT_SERVICE_ID};

egov_system::direct_contract! {
    /// The tonic service over the system's receiver.
    LaborService: LaborServer, Labor {
        apply_unemployed_certificate(ApplyUnemployedCertificateRequest)
            -> ApplicationRegistered = APPLY_SERVICE_ID;
        get_application_result(GetApplicationResultRequest) -> ServiceResult = RESULT_SERVICE_ID;
    }
}
