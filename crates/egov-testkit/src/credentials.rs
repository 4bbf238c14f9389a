//! Certificates for tests that build their own certification centre: a test hierarchy, the
//! holders and signers of its credentials, and a target system that echoes every request
//! with a signed answer.

use std::net::SocketAddr;
use std::time::Duration;

use egov_core::envelope::{Signer, response_header};
use egov_core::pki::authority::{CaHierarchy, Credential, Holder};
use egov_core::pki::{KeyPurpose, Role};
use egov_core::{Bin, Iin};
use egov_proto::v1::message_receiver_server::{MessageReceiver, MessageReceiverServer};
use egov_proto::v1::{Envelope, Header};
use prost::Message;
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::net::TcpListener;

/// Returns the holder of a SIGN certificate: a person by `iin`, for the organisation of
/// `bin` when one is given, in `role`.
pub fn holder(iin: &str, bin: Option<&str>, role: Role) -> Holder {
    Holder {
        surname: "ТЕСТОВ".into(),
        given_name: "ТЕСТ".into(),
        iin: Iin::parse(iin).expect("iin"),
        bin: bin.map(|b| Bin::parse(b).expect("bin")),
        organization: bin.map(|_| "Test organisation".to_owned()),
        role,
        purpose: KeyPurpose::Sign,
    }
}

/// Returns a signer of a credential.
pub fn signer(credential: &Credential) -> Signer {
    Signer::new(credential.key.pkcs8(), credential.chain.clone()).expect("signer")
}

/// Generates a CA hierarchy from `seed`, valid 2020–2045.
pub fn test_ca(seed: &[u8]) -> CaHierarchy {
    CaHierarchy::generate(
        seed,
        datetime!(2020-01-01 0:00 UTC),
        datetime!(2045-01-01 0:00 UTC),
    )
    .expect("ca")
}

/// A month ago: the start of a credential valid now.
pub fn valid_from() -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::days(30)
}

/// A year ahead: the end of a credential valid now.
pub fn valid_to() -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::days(365)
}

/// Issues `holder` a credential derived from `seed` and `derivation`, valid from a month
/// ago for a year.
pub fn issue_valid(
    ca: &CaHierarchy,
    holder: &Holder,
    seed: &[u8],
    derivation: &[u8],
) -> Credential {
    ca.issue_derived(holder, seed, derivation, valid_from(), valid_to())
        .expect("credential")
}

/// A target system that answers every request with a signed echo, after a delay.
pub struct EchoTarget {
    signer: Signer,
    delay: Duration,
}

impl EchoTarget {
    /// Returns a target answering signed by `signer` after `delay` (zero for none).
    pub fn new(signer: Signer, delay: Duration) -> EchoTarget {
        EchoTarget { signer, delay }
    }
}

#[tonic::async_trait]
impl MessageReceiver for EchoTarget {
    async fn receive(
        &self,
        request: tonic::Request<Envelope>,
    ) -> Result<tonic::Response<Envelope>, tonic::Status> {
        // No timer at all without a delay: benchmarks serve this target too.
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let envelope = request.into_inner();
        let header = Header::decode(&envelope.header[..])
            .map_err(|err| tonic::Status::invalid_argument(err.to_string()))?;
        let answer = self
            .signer
            .seal(
                &response_header(&header, OffsetDateTime::now_utc()),
                envelope.payload,
            )
            .map_err(|err| tonic::Status::internal(err.to_string()))?;
        Ok(tonic::Response::new(answer))
    }
}

/// Starts, on loopback, a target that echoes every request signed by `signer` after
/// `delay` (zero for none); returns its address.
pub async fn start_echo_target(signer: Signer, delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = MessageReceiverServer::new(EchoTarget::new(signer, delay));
    tokio::spawn(egov_bus::grpc::serve(
        listener,
        egov_bus::grpc::GrpcRoutes::new().add_service(server),
        std::future::pending(),
    ));
    addr
}
