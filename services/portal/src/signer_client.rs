//! The portal's side of the external signer: hands it the exact request bytes and asks for
//! the signature once the person signed. Only a signature comes back, never a key.

use axum::body::Body;
use egov_proto::v1::Signature;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use serde::{Deserialize, Serialize};

use crate::PortalError;

/// The longest answer read from the signer.
const MAX_ANSWER_BYTES: usize = 1 << 20;

#[derive(Serialize)]
struct NewRequest<'a> {
    header_hex: String,
    payload_hex: String,
    return_url: &'a str,
    title: &'a str,
}

#[derive(Deserialize)]
struct Created {
    id: String,
    sign_path: String,
}

#[derive(Deserialize)]
struct RequestState {
    state: String,
    signature_hex: String,
}

/// What became of a request handed to the signer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not signed yet.
    Waiting,
    /// The person declined.
    Declined,
    /// Signed.
    Signed(Signature),
}

/// A client of the signer's API at its base URL.
#[derive(Debug, Clone)]
pub struct SignerClient {
    base: String,
    public_base: String,
    client: Client<HttpConnector, Body>,
}

impl SignerClient {
    /// Talks to the signer at `base` (`http://127.0.0.1:7211`), whose pages the person's
    /// browser reaches at the same address.
    pub fn new(base: &str) -> SignerClient {
        SignerClient::with_public_base(base, base)
    }

    /// Talks to the signer at `base` and sends the person to its pages at `public_base`: the
    /// two differ where the portal and the browser reach the signer by different names
    /// (containers).
    pub fn with_public_base(base: &str, public_base: &str) -> SignerClient {
        SignerClient {
            base: base.trim_end_matches('/').to_owned(),
            public_base: public_base.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Returns the signer's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn exchange(
        &self,
        method: http::Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(u16, Vec<u8>), PortalError> {
        let unreachable = |reason: String| PortalError::Signer(reason);
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if body.is_some() {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .map_err(|error| unreachable(error.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| unreachable(error.to_string()))?;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(Body::new(response.into_body()), MAX_ANSWER_BYTES)
            .await
            .map_err(|error| unreachable(error.to_string()))?;
        Ok((status, bytes.to_vec()))
    }

    /// Hands over the exact bytes; returns the signer's request id and the page to send the
    /// person to (on the signer's public address).
    pub async fn hand_over(
        &self,
        header: &[u8],
        payload: &[u8],
        return_url: &str,
        title: &str,
    ) -> Result<(String, String), PortalError> {
        let body = serde_json::to_string(&NewRequest {
            header_hex: hex::encode(header),
            payload_hex: hex::encode(payload),
            return_url,
            title,
        })
        .map_err(|error| PortalError::Signer(error.to_string()))?;
        let (status, answer) = self
            .exchange(http::Method::POST, "/api/requests", Some(body))
            .await?;
        if status != 201 {
            return Err(PortalError::Signer(format!(
                "the signer answered {status}: {}",
                String::from_utf8_lossy(&answer)
            )));
        }
        let created: Created = serde_json::from_slice(&answer)
            .map_err(|error| PortalError::Signer(error.to_string()))?;
        Ok((
            created.id,
            format!("{}{}", self.public_base, created.sign_path),
        ))
    }

    /// Asks what became of a request.
    pub async fn outcome(&self, id: &str) -> Result<Outcome, PortalError> {
        let (status, answer) = self
            .exchange(http::Method::GET, &format!("/api/requests/{id}"), None)
            .await?;
        if status != 200 {
            return Err(PortalError::Signer(format!(
                "the signer does not know request {id} ({status})"
            )));
        }
        let state: RequestState = serde_json::from_slice(&answer)
            .map_err(|error| PortalError::Signer(error.to_string()))?;
        match state.state.as_str() {
            "signed" => {
                let bytes = hex::decode(&state.signature_hex)
                    .map_err(|_| PortalError::Signer("signature_hex is not hex".into()))?;
                let signature = Signature::decode(bytes.as_slice())
                    .map_err(|error| PortalError::Signer(error.to_string()))?;
                Ok(Outcome::Signed(signature))
            }
            "declined" => Ok(Outcome::Declined),
            _ => Ok(Outcome::Waiting),
        }
    }
}
