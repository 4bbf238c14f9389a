//! The errors of serving gRPC and HTTP and of building NATS subjects.

/// Describes what failed while serving or while building a NATS subject.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The reflection service could not decode a registered descriptor set.
    #[error("gRPC reflection could not load the descriptor set")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// A gRPC service was added twice, or health / reflection was added by hand.
    #[error(
        "gRPC service {name} is registered twice (health and reflection are added by grpc::serve)"
    )]
    DuplicateService {
        /// The fully qualified service name.
        name: &'static str,
    },
    /// The gRPC server stopped with a transport error.
    #[error("gRPC server failed")]
    Grpc(#[from] tonic::transport::Error),
    /// The HTTP server stopped with an I/O error.
    #[error("HTTP server failed")]
    Http(#[source] std::io::Error),
    /// A listener could not be bound.
    #[error("cannot bind {what} on {addr}")]
    Bind {
        /// The config key of the address.
        what: &'static str,
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A subject token (a system id) was empty or held `.`, `*`, `>` or whitespace.
    #[error(
        "invalid NATS subject token {token:?}: must be non-empty without '.', '*', '>' or whitespace"
    )]
    InvalidSubjectToken {
        /// The token as given.
        token: String,
    },
}
