//! A gRPC service called as an operator: its URL, read once, and the bearer header every call
//! carries. The gateway's log ([`crate::LiveLog`]) and the provider's office
//! ([`crate::OfficeClient`]) are called so.

use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};

/// Why an operator's endpoint cannot be called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EndpointError {
    /// The URL does not read; why.
    BadUrl(String),
    /// The token cannot go in a header.
    BadToken,
}

/// A gRPC endpoint and the operator's bearer header.
#[derive(Debug, Clone)]
pub(crate) struct OperatorEndpoint {
    url: String,
    endpoint: Endpoint,
    bearer: MetadataValue<Ascii>,
}

impl OperatorEndpoint {
    /// Reads `url` and makes the `Authorization: Bearer <token>` header; connects nothing.
    pub(crate) fn new(url: &str, token: &str) -> Result<OperatorEndpoint, EndpointError> {
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|err| EndpointError::BadUrl(err.to_string()))?;
        let bearer = format!("Bearer {token}")
            .parse()
            .map_err(|_| EndpointError::BadToken)?;
        Ok(OperatorEndpoint {
            url: url.to_owned(),
            endpoint,
            bearer,
        })
    }

    /// Returns the URL as given.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Connects a channel to it.
    pub(crate) async fn connect(&self) -> Result<Channel, tonic::transport::Error> {
        self.endpoint.connect().await
    }

    /// Wraps `message` in a request carrying the operator's bearer header.
    pub(crate) fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", self.bearer.clone());
        request
    }
}
