//! The direct `egov.v1.Citizens` gRPC contract, for teams that call the citizens-DB without
//! the gateway: each call carries the caller's signed envelope in the metadata entry
//! `egov-envelope-bin` and takes the same path as a message the gateway forwards
//! ([`egov_system::direct`]); an unsigned call is refused with `ESIG001`, so no citizen's
//! record is shown to an unknown caller.

use egov_proto::v1::citizens_server::{Citizens, CitizensServer};
use egov_proto::v1::{
    GetFamilyRequest, GetFamilyResponse, GetLegalEntityRequest, GetLegalEntityResponse,
    GetPersonRequest, GetPersonResponse,
};

use crate::{FAMILY_GET, LEGAL_ENTITY_GET, PERSON_GET};

egov_system::direct_contract! {
    /// The tonic service over the citizens-DB's receiver.
    CitizensService: CitizensServer, Citizens {
        get_person(GetPersonRequest) -> GetPersonResponse = PERSON_GET;
        get_legal_entity(GetLegalEntityRequest) -> GetLegalEntityResponse = LEGAL_ENTITY_GET;
        get_family(GetFamilyRequest) -> GetFamilyResponse = FAMILY_GET;
    }
}
