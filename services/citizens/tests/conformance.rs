//! The citizens-DB against its contract in the conformance kit: the simulated system scores
//! 100 %, and a deliberately broken one in front of it (a wrong status code, an unsigned
//! answer, an answer missing a required field) is caught with the reason named.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use egov_conformance::contracts::citizens::{KNOWN_PERSON, UNKNOWN_PERSON};
use egov_conformance::{Contract, Kit, Report};
use egov_core::StatusCode;
use egov_core::systems;
use egov_proto::v1::message_receiver_client::MessageReceiverClient;
use egov_proto::v1::message_receiver_server::{MessageReceiver, MessageReceiverServer};
use egov_proto::v1::{Envelope, Fault, GetPersonResponse, Header};
use egov_system::SystemIdentity;
use egov_test_stack::CitizensDb;
use egov_testkit::Sandbox;
use prost::Message;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tonic::transport::Channel;

/// Generated persons besides the fixtures: the contract asks only for fixtures.
const POPULATION: usize = 200;

/// A citizens-DB served on a port-0 listener, with the seal it signs with.
struct Running {
    sandbox: Sandbox,
    citizens: Arc<SystemIdentity>,
    addr: SocketAddr,
    _dir: TempDir,
}

impl Running {
    async fn start() -> Running {
        egov_testkit::service::quiet_logs("egov-citizens-conformance", "warn");
        let dir = tempfile::tempdir().expect("temp dir");
        let sandbox = Sandbox::start().await;
        let db = CitizensDb::start(&sandbox, dir.path(), POPULATION, sandbox.clock()).await;
        let (citizens, addr) = (db.identity, db.grpc);
        Running {
            sandbox,
            citizens,
            addr,
            _dir: dir,
        }
    }

    /// Runs the citizens-DB's contract against `addr`, signed as the portal.
    async fn check(&self, addr: SocketAddr) -> Report {
        let contract = Contract::of(systems::CITIZENS.id).expect("a contract");
        self.check_with(&contract, addr).await
    }

    /// Runs `contract` against `addr`, signed as the portal.
    async fn check_with(&self, contract: &Contract, addr: SocketAddr) -> Report {
        let portal = self.sandbox.system(systems::PORTAL.id, systems::PORTAL.bin);
        Kit::new(portal, self.sandbox.verifier())
            .run(contract, &addr.to_string())
            .await
            .expect("the kit runs")
    }

    /// Serves `defect` in front of the real citizens-DB, the way a broken replacement would.
    async fn broken(&self, defect: Defect) -> SocketAddr {
        let real = MessageReceiverClient::connect(format!("http://{}", self.addr))
            .await
            .expect("connects to the real citizens-DB");
        let seal = match defect {
            // Another registered system's seal, from the same certification centre.
            Defect::SignedByAnotherSystem => {
                self.sandbox.system(systems::NOTARY.id, systems::NOTARY.bin)
            }
            _ => self.citizens.clone(),
        };
        let broken = Broken { real, seal, defect };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(MessageReceiverServer::new(broken))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        addr
    }
}

/// What the broken system gets wrong.
#[derive(Debug, Clone, Copy)]
enum Defect {
    /// Refuses a person not found with EDAT002 instead of EDAT001.
    WrongStatusCode,
    /// Sends its answers without a signature.
    Unsigned,
    /// Leaves the person's surname out.
    MissingSurname,
    /// Signs its answers with another system's seal.
    SignedByAnotherSystem,
    /// Answers only after a pause.
    Slow(Duration),
}

/// A replacement citizens-DB with one defect, answering through the real one.
struct Broken {
    real: MessageReceiverClient<Channel>,
    seal: Arc<SystemIdentity>,
    defect: Defect,
}

#[tonic::async_trait]
impl MessageReceiver for Broken {
    async fn receive(
        &self,
        request: tonic::Request<Envelope>,
    ) -> Result<tonic::Response<Envelope>, tonic::Status> {
        if let Defect::Slow(pause) = self.defect {
            tokio::time::sleep(pause).await;
        }
        let mut answer = self
            .real
            .clone()
            .receive(request.into_inner())
            .await?
            .into_inner();
        let header = Header::decode(&answer.header[..]).expect("the real header");
        let reseal = |payload: Vec<u8>| {
            self.seal
                .signer
                .seal(&header, payload)
                .expect("re-sealed answer")
        };
        match self.defect {
            Defect::Unsigned => answer.signatures.clear(),
            Defect::WrongStatusCode if header.payload_type == egov_proto::type_url::<Fault>() => {
                let mut fault = Fault::decode(&answer.payload[..]).expect("a fault");
                if fault.code == StatusCode::DataNotFound.as_str() {
                    fault.code = StatusCode::InvalidRequest.as_str().to_owned();
                    answer = reseal(fault.encode_to_vec());
                }
            }
            Defect::MissingSurname
                if header.payload_type == egov_proto::type_url::<GetPersonResponse>() =>
            {
                let mut person = GetPersonResponse::decode(&answer.payload[..]).expect("a person");
                if let Some(person) = person.person.as_mut() {
                    person.surname.clear();
                }
                answer = reseal(person.encode_to_vec());
            }
            Defect::SignedByAnotherSystem => answer = reseal(answer.payload.into()),
            Defect::WrongStatusCode | Defect::MissingSurname | Defect::Slow(_) => {}
        }
        Ok(tonic::Response::new(answer))
    }
}

/// The reason the kit gave for `check`, failing the test if it found none.
fn reason(report: &Report, check: &str) -> String {
    let verdict = report.verdict(check).expect("the check ran");
    assert!(!verdict.conforms(), "{check} should not conform:\n{report}");
    assert!(report.score_percent() < 100.0, "{report}");
    verdict.reason()
}

#[tokio::test]
async fn the_simulated_citizens_db_conforms_to_its_contract() {
    let citizens = Running::start().await;
    let report = citizens.check(citizens.addr).await;
    assert!(report.conforms(), "{report}");
    assert_eq!(report.score_percent(), 100.0);
}

#[tokio::test]
async fn conformance_kit_names_a_wrong_status_code() {
    let citizens = Running::start().await;
    let broken = citizens.broken(Defect::WrongStatusCode).await;
    let report = citizens.check(broken).await;
    assert_eq!(
        reason(&report, UNKNOWN_PERSON).split(" (").next(),
        Some("wrong status code: expected EDAT001, got EDAT002"),
        "{report}"
    );
    assert!(report.verdict(KNOWN_PERSON).expect("ran").conforms());
}

#[tokio::test]
async fn conformance_kit_names_an_unsigned_answer() {
    let citizens = Running::start().await;
    let broken = citizens.broken(Defect::Unsigned).await;
    let report = citizens.check(broken).await;
    assert_eq!(
        reason(&report, KNOWN_PERSON),
        "unsigned answer: the answer envelope carries no signature"
    );
    assert!(report.verdicts.iter().all(|verdict| !verdict.conforms()));
}

#[tokio::test]
async fn conformance_kit_names_a_missing_field() {
    let citizens = Running::start().await;
    let broken = citizens.broken(Defect::MissingSurname).await;
    let report = citizens.check(broken).await;
    assert_eq!(
        reason(&report, KNOWN_PERSON),
        "missing field person.surname"
    );
    assert!(report.verdict(UNKNOWN_PERSON).expect("ran").conforms());
}

#[tokio::test]
async fn conformance_kit_names_an_answer_signed_by_another_systems_seal() {
    let citizens = Running::start().await;
    let broken = citizens.broken(Defect::SignedByAnotherSystem).await;
    let report = citizens.check(broken).await;
    let reason = reason(&report, KNOWN_PERSON);
    assert!(
        reason.starts_with("answer signed by ")
            && reason.ends_with("not by a certificate with BIN 040340001055 of system citizens"),
        "{reason}"
    );
}

#[tokio::test]
async fn conformance_kit_names_an_answer_slower_than_the_contract_allows() {
    let citizens = Running::start().await;
    let broken = citizens
        .broken(Defect::Slow(Duration::from_millis(300)))
        .await;
    // The known-person check alone, allowed a third of the pause.
    let mut contract = Contract::of(systems::CITIZENS.id).expect("a contract");
    contract.checks.retain(|check| check.name == KNOWN_PERSON);
    contract.checks[0].within = Duration::from_millis(100);
    let report = citizens.check_with(&contract, broken).await;
    let reason = reason(&report, KNOWN_PERSON);
    assert!(
        reason.starts_with("too slow: answered in ")
            && reason.ends_with(" ms, the contract allows 100 ms"),
        "{reason}"
    );
}
