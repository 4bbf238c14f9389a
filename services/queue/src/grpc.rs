//! The direct `egov.v1.QueueRegister` gRPC contract, for teams that call the queue register
//! without the gateway: each call carries its signed envelope in metadata and takes the
//! same path as a message the gateway forwards ([`egov_system::direct`]).

use egov_proto::v1::queue_register_server::{QueueRegister, QueueRegisterServer};
use egov_proto::v1::{GetQueuePositionRequest, PlaceInQueueRequest, PlaceInQueueResponse};

use crate::placement::{PLACE_SERVICE_ID, POSITION_SERVICE_ID};

egov_system::direct_contract! {
    /// The tonic service over the register's receiver.
    QueueRegisterService: QueueRegisterServer, QueueRegister {
        place_in_queue(PlaceInQueueRequest) -> PlaceInQueueResponse = PLACE_SERVICE_ID;
        get_queue_position(GetQueuePositionRequest) -> PlaceInQueueResponse = POSITION_SERVICE_ID;
    }
}
