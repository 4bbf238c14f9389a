//! The requests the portal hands over to be signed: the exact header and payload bytes, who
//! is expected to sign (the IIN the request names) and where to send the person back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use egov_proto::v1::{Header, Signature};
use prost::Message;
use serde::{Deserialize, Serialize};

use crate::SignerError;

/// The most requests kept waiting at once; the oldest go first.
const MAX_WAITING: usize = 1_000;

/// What the portal sends: `POST /api/requests`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewRequest {
    /// The encoded `egov.v1.Header`, hex.
    pub header_hex: String,
    /// The encoded payload, hex.
    pub payload_hex: String,
    /// Where the browser goes once signed (or declined): the portal's page.
    pub return_url: String,
    /// A one-line description the page shows (the service's name).
    pub title: String,
}

/// What the signer answers: the id and the page where the person signs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Created {
    /// The request's id.
    pub id: String,
    /// The signer's page for it, relative to the signer's address.
    pub sign_path: String,
}

/// The state of a request: `GET /api/requests/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestState {
    /// `waiting`, `signed` or `declined`.
    pub state: String,
    /// The encoded `egov.v1.Signature`, hex, once signed.
    pub signature_hex: String,
}

/// A request waiting for its signature.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The exact header bytes.
    pub header: Vec<u8>,
    /// The decoded header, for the page.
    pub decoded: Header,
    /// The exact payload bytes.
    pub payload: Vec<u8>,
    /// Where to send the browser back.
    pub return_url: String,
    /// What the page calls it.
    pub title: String,
    /// The form's one-time token.
    pub nonce: String,
    /// The signature, once made.
    pub signature: Option<Signature>,
    /// Whether the person declined.
    pub declined: bool,
    order: u64,
}

/// The requests, by id; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Requests {
    inner: Arc<Mutex<(u64, HashMap<String, Pending>)>>,
}

/// Returns `n` random bytes as hex.
pub fn random_hex(n: usize) -> Result<String, SignerError> {
    let mut bytes = vec![0u8; n];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| SignerError::Key("the system's random source failed".into()))?;
    Ok(hex::encode(bytes))
}

impl Requests {
    /// Keeps a new request; its return URL must be http(s) and its bytes a valid header.
    pub fn create(&self, request: NewRequest) -> Result<Created, SignerError> {
        let header = hex::decode(&request.header_hex)
            .map_err(|_| SignerError::BadRequest("header_hex is not hex".into()))?;
        let payload = hex::decode(&request.payload_hex)
            .map_err(|_| SignerError::BadRequest("payload_hex is not hex".into()))?;
        let decoded = Header::decode(header.as_slice())
            .map_err(|error| SignerError::BadRequest(format!("header: {error}")))?;
        if !(request.return_url.starts_with("http://")
            || request.return_url.starts_with("https://"))
        {
            return Err(SignerError::BadRequest(
                "return_url must be an http(s) URL".into(),
            ));
        }
        let id = random_hex(16)?;
        let nonce = random_hex(16)?;
        let mut inner = self.lock();
        inner.0 += 1;
        let order = inner.0;
        if inner.1.len() >= MAX_WAITING
            && let Some(oldest) = inner
                .1
                .iter()
                .min_by_key(|(_, pending)| pending.order)
                .map(|(id, _)| id.clone())
        {
            inner.1.remove(&oldest);
        }
        inner.1.insert(
            id.clone(),
            Pending {
                header,
                decoded,
                payload,
                return_url: request.return_url,
                title: request.title.chars().take(300).collect(),
                nonce,
                signature: None,
                declined: false,
                order,
            },
        );
        Ok(Created {
            sign_path: format!("/sign/{id}"),
            id,
        })
    }

    /// Returns a request.
    pub fn get(&self, id: &str) -> Option<Pending> {
        self.lock().1.get(id).cloned()
    }

    /// Records the signature of a waiting request.
    pub fn signed(&self, id: &str, signature: Signature) -> Result<(), SignerError> {
        let mut inner = self.lock();
        let pending = inner
            .1
            .get_mut(id)
            .filter(|pending| pending.signature.is_none() && !pending.declined)
            .ok_or_else(|| SignerError::UnknownRequest(id.to_owned()))?;
        pending.signature = Some(signature);
        Ok(())
    }

    /// Records that the person declined to sign.
    pub fn declined(&self, id: &str) -> Result<(), SignerError> {
        let mut inner = self.lock();
        let pending = inner
            .1
            .get_mut(id)
            .filter(|pending| pending.signature.is_none())
            .ok_or_else(|| SignerError::UnknownRequest(id.to_owned()))?;
        pending.declined = true;
        Ok(())
    }

    /// Returns the state the portal polls.
    pub fn state(&self, id: &str) -> Option<RequestState> {
        self.get(id).map(|pending| RequestState {
            state: match (&pending.signature, pending.declined) {
                (Some(_), _) => "signed",
                (None, true) => "declined",
                (None, false) => "waiting",
            }
            .to_owned(),
            signature_hex: pending
                .signature
                .map(|signature| hex::encode(signature.encode_to_vec()))
                .unwrap_or_default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<String, Pending>)> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
