//! Shared setup of the gateway's in-process tests: a certification centre's
//! hierarchy and the systems' credentials, a signed echo target, a registry
//! and a gateway on loopback over a SQLite message log in a temporary dir.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use egov_core::StatusCode;
use egov_core::clock::SystemClock;
use egov_core::envelope::{RevocationSource, Verifier, request_header};
use egov_core::pki::Role;
use egov_core::pki::authority::{CaHierarchy, Credential, Holder};
use egov_gateway::exchange::STATUS_CODE_METADATA;
use egov_gateway::message_log::MessageLog;
use egov_gateway::registry::RegistryHandle;
use egov_gateway::replay::ReplayGuard;
use egov_gateway::{Gateway, GatewayParts, Listeners};
use egov_proto::v1::gateway_client::GatewayClient;
use egov_proto::v1::{Envelope, Header, SendMessageRequest};
use egov_testkit::credentials;
use prost::Message;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tonic::transport::Channel;

/// Seed of the test hierarchy's and holders' keys.
pub const SEED: &[u8] = b"gateway-trust-tests";
/// The portal's BIN (the sending system).
pub const PORTAL_BIN: &str = "120140000057";
/// The citizens-DB's BIN (the target system).
pub const CITIZENS_BIN: &str = "050840001233";
/// The notary's BIN (a registered system that may not call the route).
pub const NOTARY_BIN: &str = "991240007774";
/// A citizen who signs requests on the portal.
pub const CITIZEN_IIN: &str = "850102300131";
/// The person responsible for the systems' seals.
pub const OPERATOR_IIN: &str = "900715400349";
/// The sync route to the echo target.
pub const PERSON_GET: &str = "citizens.person.get";
/// The same target, on a route that keeps bodies.
pub const PERSON_GET_KEPT: &str = "citizens.person.get.kept";
/// An async route from the portal to the citizens-DB.
pub const TO_CITIZENS: &str = "citizens.async.echo";

pub use egov_testkit::credentials::{holder, signer};

/// The test hierarchy and the credentials of the systems and the citizen.
pub struct Pki {
    /// Root and issuing intermediate.
    pub ca: CaHierarchy,
    /// The portal's seal.
    pub portal: Credential,
    /// The citizens-DB's seal.
    pub citizens: Credential,
    /// The notary's seal.
    pub notary: Credential,
    /// The citizen's signing key.
    pub citizen: Credential,
}

impl Pki {
    /// Generates the hierarchy and issues every credential, valid around now.
    pub fn new() -> Pki {
        let ca = credentials::test_ca(SEED);
        let issue = |holder: &Holder, serial: u8| {
            credentials::issue_valid(&ca, holder, SEED, &[0x30, serial])
        };
        let portal = issue(
            &holder(OPERATOR_IIN, Some(PORTAL_BIN), Role::LegalEntity),
            1,
        );
        let citizens = issue(
            &holder(OPERATOR_IIN, Some(CITIZENS_BIN), Role::LegalEntity),
            2,
        );
        let notary = issue(
            &holder(OPERATOR_IIN, Some(NOTARY_BIN), Role::LegalEntity),
            3,
        );
        let citizen = issue(&holder(CITIZEN_IIN, None, Role::Individual), 4);
        Pki {
            ca,
            portal,
            citizens,
            notary,
            citizen,
        }
    }

    /// Returns a verifier trusting the root, with this revocation source.
    pub fn verifier<R: RevocationSource>(&self, revocation: R) -> Verifier<R> {
        Verifier::new(vec![self.ca.root.certificate().clone()], revocation)
    }

    /// A citizen's request on `service_id`, its header shaped by `edit`,
    /// signed by the citizen and countersigned by the portal.
    pub fn portal_request(&self, service_id: &str, edit: impl FnOnce(&mut Header)) -> Envelope {
        let mut header =
            request_header(service_id, "portal", "citizens", OffsetDateTime::now_utc());
        header.user_iin = CITIZEN_IIN.into();
        edit(&mut header);
        let mut envelope = signer(&self.citizen)
            .seal(&header, b"GetPersonRequest bytes".to_vec())
            .expect("seal");
        signer(&self.portal)
            .countersign(&mut envelope)
            .expect("countersign");
        envelope
    }
}

/// Starts the citizens-DB's echo target on loopback.
pub async fn start_target(pki: &Pki) -> SocketAddr {
    credentials::start_echo_target(signer(&pki.citizens), Duration::ZERO).await
}

/// Writes the registry: the portal may call the echo target on two routes,
/// one of which keeps bodies, and send async messages to the citizens-DB.
pub fn write_registry(dir: &Path, echo: SocketAddr) -> PathBuf {
    let path = dir.join("registry.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[systems.portal]
bin = "{PORTAL_BIN}"
[systems.citizens]
bin = "{CITIZENS_BIN}"
[systems.notary]
bin = "{NOTARY_BIN}"

[services."{PERSON_GET}"]
target = "citizens"
grpc = "http://{echo}"
allowed_senders = ["portal"]

[services."{PERSON_GET_KEPT}"]
target = "citizens"
grpc = "http://{echo}"
allowed_senders = ["portal"]
store_body = true

[services."{TO_CITIZENS}"]
target = "citizens"
grpc = "http://{echo}"
allowed_senders = ["portal"]
"#
        ),
    )
    .expect("registry");
    path
}

/// A gateway serving on loopback.
pub struct Running<R> {
    /// The gateway itself (its log, to flush and read).
    pub gateway: Arc<Gateway<R>>,
    /// A client of its gRPC face.
    pub client: GatewayClient<Channel>,
}

/// Largest envelope the test gateways accept.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Starts a gateway over the registry at `registry` and the SQLite log at
/// `log_path` (a second gateway on the same file is a restart, or a replica).
pub async fn start_gateway<R: RevocationSource + 'static>(
    registry: &Path,
    log_path: &Path,
    verifier: Verifier<R>,
    nats: Option<async_nats::Client>,
) -> Running<R> {
    let gateway = Arc::new(Gateway::new(GatewayParts {
        system_id: "shep".into(),
        registry: Arc::new(RegistryHandle::open(registry.to_owned()).expect("registry")),
        verifier,
        replay: ReplayGuard::new(Duration::from_secs(600), 100_000),
        log: MessageLog::connect(&format!("sqlite://{}?mode=rwc", log_path.display()))
            .await
            .expect("log"),
        clock: SystemClock::shared(),
        max_message_bytes: MAX_MESSAGE_BYTES,
        nats,
    }));
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let grpc_addr = grpc.local_addr().expect("addr");
    tokio::spawn(egov_gateway::serve(
        gateway.clone(),
        Listeners { grpc, http },
        std::future::pending(),
    ));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc_addr}"))
        .expect("endpoint")
        .connect_lazy();
    Running {
        gateway,
        client: GatewayClient::new(channel),
    }
}

/// Recovers our status code from a refusal, checking its metadata and gRPC code agree.
pub fn code_of(status: &tonic::Status) -> StatusCode {
    let code = StatusCode::from_grpc(status).expect("our code in the message");
    let meta = status
        .metadata()
        .get(STATUS_CODE_METADATA)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(meta.as_deref(), Some(code.as_str()), "{status:?}");
    assert_eq!(status.code(), code.grpc_code());
    code
}

/// Sends one sync envelope; returns the answer or the refusal's code and reason.
pub async fn send(
    client: &GatewayClient<Channel>,
    envelope: Envelope,
) -> Result<Envelope, (StatusCode, String)> {
    client
        .clone()
        .send_message(SendMessageRequest {
            envelope: Some(envelope),
        })
        .await
        .map(|answer| answer.into_inner().envelope.expect("answer envelope"))
        .map_err(|status| (code_of(&status), status.message().to_owned()))
}

/// Returns an envelope's header.
pub fn header_of(envelope: &Envelope) -> Header {
    Header::decode(&envelope.header[..]).expect("header")
}
