//! The direct `egov.v1.Notary` gRPC contract of the registry (БНАЖ / ЕНИС), for teams that
//! call it without the gateway: each call carries the caller's signed envelope in the metadata
//! entry `egov-envelope-bin` and takes the same path as a message the gateway forwards
//! ([`egov_system::direct`]); an unsigned call is refused with `ESIG001`, so no power of
//! attorney (names, IINs) is shown to an unknown caller.

use egov_proto::v1::notary_server::{Notary, NotaryServer};
use egov_proto::v1::{
    FindPowerOfAttorneyRequest, GetPowerOfAttorneyRequest, PowerOfAttorneyResponse,
};

use crate::handler::{FIND_SERVICE_ID, GET_SERVICE_ID};

egov_system::direct_contract! {
    /// The tonic service over the registry's receiver.
    NotaryService: NotaryServer, Notary {
        get_power_of_attorney(GetPowerOfAttorneyRequest) -> PowerOfAttorneyResponse = GET_SERVICE_ID;
        find_power_of_attorney(FindPowerOfAttorneyRequest) -> PowerOfAttorneyResponse = FIND_SERVICE_ID;
    }
}
