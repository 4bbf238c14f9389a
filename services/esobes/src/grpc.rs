//! The direct `egov.v1.Esobes` gRPC contract, for teams that call E-sobes without the
//! gateway: each call carries its signed envelope in metadata and takes the same path as a
//! message the gateway forwards ([`egov_system::direct`]).

use egov_proto::v1::esobes_server::{Esobes, EsobesServer};
use egov_proto::v1::{
    ApplicationRegistered, ApplyHomeSchoolingCompensationRequest, GetApplicationResultRequest,
    ServiceResult,
};

use crate::compensation::{APPLY_SERVICE_ID, RESULT_SERVICE_ID};

egov_system::direct_contract! {
    /// The tonic service over the system's receiver.
    EsobesService: EsobesServer, Esobes {
        apply_home_schooling_compensation(ApplyHomeSchoolingCompensationRequest)
            -> ApplicationRegistered = APPLY_SERVICE_ID;
        get_application_result(GetApplicationResultRequest) -> ServiceResult = RESULT_SERVICE_ID;
    }
}
