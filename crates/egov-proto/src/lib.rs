//! The contracts of egov-stack, generated at build time from `proto/egov/v1`.
//!
//! Every message between two systems is an [`egov::v1::Envelope`]; each system's
//! own request and response types travel inside it as payload.
//!
//! # Layout
//! - [`egov::v1`]: messages, tonic clients (`*_client`) and servers (`*_server`).
//! - [`FILE_DESCRIPTOR_SET`]: the compiled descriptors, for gRPC reflection.

/// The `egov` protobuf package tree.
pub mod egov {
    /// Version 1 of the contracts (`package egov.v1`).
    pub mod v1 {
        #![allow(missing_docs, clippy::all)]
        tonic::include_proto!("egov.v1");
    }
}

pub use egov::v1;

/// Encoded `FileDescriptorSet` of every contract, for tonic-reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("egov_descriptor");

/// Returns the protobuf type URL of a message, as `Header.payload_type` carries it.
pub fn type_url<M: prost::Name>() -> String {
    M::type_url()
}
