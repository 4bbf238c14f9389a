//! Certificates stored once: a logged signature keeps its certificate chain
//! as the SHA-256 digests of the certificates, and each certificate's DER is
//! stored once in the `certificate` table, by its digest.
//!
//! The same few system and person certificates sign every message, so the
//! chains were most of a logged row's signature bytes (about 1 KiB of each
//! signed row). Reading a row puts the chains back, so a [`LogRecord`]'s
//! `signatures` are the encoded `egov.v1.Signature`s exactly as they travelled.
//!
//! [`LogRecord`]: super::LogRecord

use std::collections::{HashMap, HashSet};

use bytes::Bytes;

use egov_core::envelope::sha256;
use egov_proto::v1::Signature;
use prost::Message as _;

/// A certificate's digest: SHA-256 of its DER.
pub type Digest = [u8; 32];

/// The `signatures` column: a protobuf message, so `protoc --decode_raw` reads it.
///
/// Field 1 holds the encoded `egov.v1.Signature`s; rows written since
/// certificates are stored apart add field 2, one digest list per signature,
/// and their field-1 signatures carry no certificate chain. An empty digest
/// list (and every row written before) means the signature is stored whole.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StoredSignatures {
    /// The encoded signatures, each without its chain when its digest list is not empty.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub signatures: Vec<Vec<u8>>,
    /// Per signature, the digests of its chain's certificates, signer first.
    #[prost(message, repeated, tag = "2")]
    pub chains: Vec<ChainDigests>,
}

/// The digests of one signature's certificate chain, in chain order.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ChainDigests {
    /// SHA-256 of each certificate's DER.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub sha256: Vec<Vec<u8>>,
}

/// Splits encoded signatures into their stored form and the certificates
/// they carried (each digest once, in first-seen order).
///
/// A signature that does not decode, or whose bytes are not the canonical
/// encoding a chain can be put back into byte for byte, is stored whole.
pub fn split(signatures: Vec<Vec<u8>>) -> (StoredSignatures, Vec<(Digest, Vec<u8>)>) {
    let mut stored = StoredSignatures {
        signatures: Vec::with_capacity(signatures.len()),
        chains: Vec::with_capacity(signatures.len()),
    };
    let mut certificates: Vec<(Digest, Vec<u8>)> = Vec::new();
    for bytes in signatures {
        let Ok(mut signature) = Signature::decode(bytes.as_slice()) else {
            stored.signatures.push(bytes);
            stored.chains.push(ChainDigests::default());
            continue;
        };
        if signature.certificate_chain.is_empty() || signature.encode_to_vec() != bytes {
            stored.signatures.push(bytes);
            stored.chains.push(ChainDigests::default());
            continue;
        }
        let chain = std::mem::take(&mut signature.certificate_chain);
        let mut digests = Vec::with_capacity(chain.len());
        for der in chain {
            let digest = sha256(&der);
            digests.push(digest.to_vec());
            if !certificates.iter().any(|(known, _)| *known == digest) {
                // The decoded chain owns its bytes: handing them over copies nothing.
                certificates.push((digest, Vec::from(der)));
            }
        }
        stored.signatures.push(signature.encode_to_vec());
        stored.chains.push(ChainDigests { sha256: digests });
    }
    (stored, certificates)
}

/// The digests a stored column needs looked up.
pub fn wanted(stored: &StoredSignatures, into: &mut HashSet<Digest>) {
    for digest in stored.chains.iter().flat_map(|chain| &chain.sha256) {
        if let Ok(digest) = Digest::try_from(digest.as_slice()) {
            into.insert(digest);
        }
    }
}

/// Puts the chains back: the encoded signatures as they travelled.
///
/// Fails naming the first digest with no stored certificate, or a stored
/// signature that does not decode.
pub fn join(
    stored: StoredSignatures,
    certificates: &HashMap<Digest, Vec<u8>>,
) -> Result<Vec<Vec<u8>>, String> {
    if stored.chains.is_empty() {
        return Ok(stored.signatures);
    }
    if stored.chains.len() != stored.signatures.len() {
        return Err(format!(
            "{} signatures but {} chains",
            stored.signatures.len(),
            stored.chains.len()
        ));
    }
    stored
        .signatures
        .into_iter()
        .zip(stored.chains)
        .map(|(bytes, chain)| {
            if chain.sha256.is_empty() {
                return Ok(bytes);
            }
            let mut signature = Signature::decode(bytes.as_slice())
                .map_err(|err| format!("a stored signature does not decode: {err}"))?;
            signature.certificate_chain = chain
                .sha256
                .iter()
                .map(|digest| {
                    Digest::try_from(digest.as_slice())
                        .ok()
                        .and_then(|digest| certificates.get(&digest))
                        .map(|der| Bytes::copy_from_slice(der))
                        .ok_or_else(|| format!("certificate {} is not stored", hex::encode(digest)))
                })
                .collect::<Result<_, _>>()?;
            Ok(signature.encode_to_vec())
        })
        .collect()
}

/// The digests the writer knows are committed, so each certificate is inserted
/// once per process rather than once per row; bounded, it starts afresh when full.
#[derive(Debug, Default)]
pub struct Known {
    digests: HashSet<Digest>,
}

impl Known {
    /// Most digests remembered.
    const CAPACITY: usize = 10_000;

    /// Whether the certificate is known to be stored.
    pub fn contains(&self, digest: &Digest) -> bool {
        self.digests.contains(digest)
    }

    /// Remembers certificates whose transaction committed.
    pub fn extend<'a>(&mut self, committed: impl IntoIterator<Item = &'a Digest>) {
        for digest in committed {
            if self.digests.len() >= Self::CAPACITY {
                self.digests.clear();
            }
            self.digests.insert(*digest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use egov_proto::v1::SignatureAlgorithm;

    fn signature(chain: &[&[u8]]) -> Vec<u8> {
        Signature {
            algorithm: SignatureAlgorithm::Ed25519 as i32,
            certificate_chain: chain
                .iter()
                .map(|der| Bytes::copy_from_slice(der))
                .collect(),
            header_sha256: vec![1; 32].into(),
            payload_sha256: vec![2; 32].into(),
            value: vec![3; 64].into(),
        }
        .encode_to_vec()
    }

    fn stored_certificates(certificates: &[(Digest, Vec<u8>)]) -> HashMap<Digest, Vec<u8>> {
        certificates.iter().cloned().collect()
    }

    #[test]
    fn a_signature_is_stored_without_its_chain_and_read_back_byte_for_byte() {
        let signatures = vec![
            signature(&[b"leaf-a", b"issuing-ca"]),
            signature(&[b"leaf-b", b"issuing-ca"]),
        ];
        let (stored, certificates) = split(signatures.clone());
        assert_eq!(certificates.len(), 3, "the shared CA is kept once");
        assert!(
            stored.signatures.iter().all(|bytes| bytes.len() < 200),
            "no chain bytes stay in the row"
        );
        let read = join(stored, &stored_certificates(&certificates)).unwrap();
        assert_eq!(read, signatures);
    }

    #[test]
    fn bytes_that_are_not_a_signature_are_stored_whole() {
        let signatures = vec![vec![0xff; 300], Vec::new(), signature(&[])];
        let (stored, certificates) = split(signatures.clone());
        assert!(certificates.is_empty());
        assert_eq!(stored.signatures, signatures);
        assert_eq!(join(stored, &HashMap::new()).unwrap(), signatures);
    }

    #[test]
    fn a_row_written_before_certificates_were_stored_apart_reads_as_it_was() {
        let signatures = vec![signature(&[b"leaf", b"ca"])];
        let old = StoredSignatures {
            signatures: signatures.clone(),
            chains: Vec::new(),
        };
        assert_eq!(join(old, &HashMap::new()).unwrap(), signatures);
    }

    #[test]
    fn a_missing_certificate_is_named_by_its_digest() {
        let (stored, _) = split(vec![signature(&[b"leaf"])]);
        let err = join(stored, &HashMap::new()).unwrap_err();
        assert!(
            err.contains(&hex::encode(sha256(b"leaf"))),
            "error names the digest: {err}"
        );
    }
}
