//! Signing envelopes with a key and its certificate chain.

use std::sync::Arc;

use bytes::Bytes;
use egov_proto::v1::{Envelope, Header, Signature, SignatureAlgorithm};
use prost::Message;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};

use super::{sha256, signed_bytes};
use crate::pki::{CertificateError, CertificateInfo, KeyAlgorithm};

/// Failures preparing a signer.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The chain is empty: a signer needs at least its own certificate.
    #[error("certificate chain is empty")]
    EmptyChain,
    /// A certificate of the chain does not parse.
    #[error("certificate {index} of the chain: {source}")]
    Certificate {
        /// Position in the chain (0 = signer).
        index: usize,
        /// What failed.
        source: CertificateError,
    },
    /// The private key does not parse, or is not the certificate's key.
    #[error("private key does not match the certificate's {algorithm:?} key: {reason}")]
    KeyMismatch {
        /// The certificate's key algorithm.
        algorithm: KeyAlgorithm,
        /// Why it was refused.
        reason: String,
    },
    /// RSA keys are accepted for verification only.
    #[error("signing with {0:?} keys is not supported; use Ed25519 or ECDSA P-256")]
    UnsupportedAlgorithm(KeyAlgorithm),
    /// The platform random source failed (ECDSA only).
    #[error("random source failed while signing")]
    Random,
}

enum SigningKey {
    Ed25519(Ed25519KeyPair),
    EcdsaP256(EcdsaKeyPair, SystemRandom),
}

/// Signs envelopes as one certificate holder (a citizen, an operator, a system).
pub struct Signer {
    key: SigningKey,
    chain_der: Vec<Bytes>,
    certificate: Arc<CertificateInfo>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("subject", &self.certificate.subject)
            .field("serial", &self.certificate.serial)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Builds a signer from a PKCS#8 private key and its chain (signer's
    /// certificate first, then its issuers, without the root).
    pub fn new(pkcs8: &[u8], chain_der: Vec<Vec<u8>>) -> Result<Signer, SignError> {
        let leaf = chain_der.first().ok_or(SignError::EmptyChain)?;
        for (index, der) in chain_der.iter().enumerate().skip(1) {
            CertificateInfo::from_der(der)
                .map_err(|source| SignError::Certificate { index, source })?;
        }
        let certificate = CertificateInfo::from_der(leaf)
            .map_err(|source| SignError::Certificate { index: 0, source })?;
        let mismatch = |reason: String| SignError::KeyMismatch {
            algorithm: certificate.key_algorithm,
            reason,
        };
        let key = match certificate.key_algorithm {
            KeyAlgorithm::Ed25519 => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
                    .map_err(|err| mismatch(err.to_string()))?;
                SigningKey::Ed25519(pair)
            }
            KeyAlgorithm::EcdsaP256 => {
                let rng = SystemRandom::new();
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
                    .map_err(|err| mismatch(err.to_string()))?;
                SigningKey::EcdsaP256(pair, rng)
            }
            KeyAlgorithm::Rsa => return Err(SignError::UnsupportedAlgorithm(KeyAlgorithm::Rsa)),
        };
        let public = match &key {
            SigningKey::Ed25519(pair) => ring::signature::KeyPair::public_key(pair).as_ref(),
            SigningKey::EcdsaP256(pair, _) => ring::signature::KeyPair::public_key(pair).as_ref(),
        };
        if public != certificate.public_key.as_slice() {
            return Err(mismatch("the public keys differ".into()));
        }
        Ok(Signer {
            key,
            chain_der: chain_der.into_iter().map(Bytes::from).collect(),
            certificate: Arc::new(certificate),
        })
    }

    /// Returns the signer's certificate.
    pub fn certificate(&self) -> &CertificateInfo {
        &self.certificate
    }

    /// Returns the chain the signer attaches.
    pub fn chain_der(&self) -> &[Bytes] {
        &self.chain_der
    }

    /// Returns the algorithm the signer signs with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self.key {
            SigningKey::Ed25519(_) => SignatureAlgorithm::Ed25519,
            SigningKey::EcdsaP256(..) => SignatureAlgorithm::EcdsaP256Sha256,
        }
    }

    /// Signs a header and an encoded payload into an envelope.
    pub fn seal(&self, header: &Header, payload: impl Into<Bytes>) -> Result<Envelope, SignError> {
        let header = header.encode_to_vec();
        let payload = payload.into();
        let signature = self.signature(&header, &payload)?;
        Ok(Envelope {
            header: header.into(),
            payload,
            signatures: vec![signature],
        })
    }

    /// Signs a header and a payload message into an envelope.
    pub fn seal_message<M: Message>(
        &self,
        header: &Header,
        payload: &M,
    ) -> Result<Envelope, SignError> {
        self.seal(header, payload.encode_to_vec())
    }

    /// Adds this signer's signature to an already signed envelope (co-signing).
    pub fn countersign(&self, envelope: &mut Envelope) -> Result<(), SignError> {
        let signature = self.signature(&envelope.header, &envelope.payload)?;
        envelope.signatures.push(signature);
        Ok(())
    }

    /// Returns a signature over exact header and payload bytes.
    pub fn signature(&self, header: &[u8], payload: &[u8]) -> Result<Signature, SignError> {
        let header_sha256 = sha256(header);
        let payload_sha256 = sha256(payload);
        let message = signed_bytes(&header_sha256, &payload_sha256);
        let value = match &self.key {
            SigningKey::Ed25519(pair) => pair.sign(&message).as_ref().to_vec(),
            SigningKey::EcdsaP256(pair, rng) => pair
                .sign(rng, &message)
                .map_err(|_| SignError::Random)?
                .as_ref()
                .to_vec(),
        };
        Ok(Signature {
            algorithm: self.algorithm() as i32,
            certificate_chain: self.chain_der.clone(),
            header_sha256: Bytes::copy_from_slice(&header_sha256),
            payload_sha256: Bytes::copy_from_slice(&payload_sha256),
            value: value.into(),
        })
    }
}
