//! A sandbox: a test certification centre and a real gateway in-process on
//! loopback, so a system's tests go through the gateway exactly as in the
//! stack — signed requests, routes, access rights, signed answers. Started
//! with [`Sandbox::start_with_nats`], the gateway also runs its async channel.
//!
//! ```no_run
//! # async fn demo() {
//! let sandbox = egov_testkit::Sandbox::start().await;
//! let citizens = sandbox.system("citizens", "050840001233");
//! // Every system a route names, target or sender, is registered before the route.
//! let portal = sandbox.caller("portal", "120140000057");
//! // start the system with `citizens` and `sandbox.verifier()`, on a port-0 listener, then:
//! # let addr: std::net::SocketAddr = "127.0.0.1:1".parse().unwrap();
//! sandbox.route("citizens.person.get", "citizens", addr, &["portal"]);
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use egov_core::clock::{Clock, SystemClock};
use egov_core::envelope::{Signer, StaticRevocation, Verifier};
use egov_core::pki::authority::{CaHierarchy, Credential, Holder};
use egov_core::pki::{KeyPurpose, Role};
use egov_core::{Bin, Iin};
use egov_gateway::message_log::MessageLog;
use egov_gateway::registry::RegistryHandle;
use egov_gateway::replay::ReplayGuard;
use egov_gateway::{Gateway, GatewayParts, Listeners};
use egov_system::{GatewayCaller, SystemIdentity};
use tempfile::TempDir;
use time::OffsetDateTime;
use time::macros::datetime;

/// The async channel's tuning, for [`Sandbox::start_with_nats`].
pub use egov_gateway::AsyncSettings;

/// The seed the sandbox's certification centre derives every key from.
pub const SANDBOX_SEED: &[u8] = b"egov-sandbox";

/// IIN of the person responsible for every sandbox system's seal.
pub const SEAL_HOLDER_IIN: &str = "900715400349";

/// The verifier every sandbox participant uses.
pub type SandboxVerifier = Verifier<Arc<StaticRevocation>>;

#[derive(Default)]
struct Table {
    systems: BTreeMap<String, String>,
    // Systems the async channel pushes to; the others fetch.
    push: BTreeSet<String>,
    routes: BTreeMap<String, (String, SocketAddr, Vec<String>)>,
    // Routes whose exchanges the gateway records (`record = true`).
    recorded: BTreeSet<String>,
    // Routes whose timeout is not the registry's default.
    timeouts: BTreeMap<String, Duration>,
}

/// A certification centre and a gateway, in-process.
pub struct Sandbox {
    dir: TempDir,
    ca: Arc<CaHierarchy>,
    revocation: Arc<StaticRevocation>,
    verifier: Arc<SandboxVerifier>,
    gateway: Arc<Gateway<Arc<StaticRevocation>>>,
    gateway_addr: SocketAddr,
    gateway_http: SocketAddr,
    registry_path: PathBuf,
    table: Mutex<Table>,
    serial: Arc<Mutex<u32>>,
    clock: Arc<dyn Clock>,
}

impl Sandbox {
    /// Starts a sandbox on the real clock.
    pub async fn start() -> Sandbox {
        Sandbox::start_with_clock(SystemClock::shared()).await
    }

    /// Starts a sandbox whose gateway reads the given clock.
    ///
    /// Panics when the gateway cannot start: a sandbox is test scaffolding.
    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> Sandbox {
        Sandbox::start_inner(clock, None).await
    }

    /// Starts a sandbox on the real clock whose gateway runs the async channel
    /// on the NATS server at `nats_url` (JetStream on) with `settings`.
    ///
    /// Panics when NATS or the gateway cannot start: a sandbox is test scaffolding.
    pub async fn start_with_nats(nats_url: &str, settings: AsyncSettings) -> Sandbox {
        let client = async_nats::connect(nats_url)
            .await
            .expect("sandbox gateway's NATS connection");
        Sandbox::start_inner(SystemClock::shared(), Some((client, settings))).await
    }

    async fn start_inner(
        clock: Arc<dyn Clock>,
        nats: Option<(async_nats::Client, AsyncSettings)>,
    ) -> Sandbox {
        let dir = tempfile::tempdir().expect("sandbox temp dir");
        let ca = CaHierarchy::generate(
            SANDBOX_SEED,
            datetime!(2000-01-01 0:00 UTC),
            datetime!(2060-01-01 0:00 UTC),
        )
        .expect("sandbox CA");
        let revocation = Arc::new(StaticRevocation::new());
        let verifier = Arc::new(Verifier::new(
            vec![ca.root.certificate().clone()],
            revocation.clone(),
        ));
        let registry_path = dir.path().join("registry.toml");
        std::fs::write(&registry_path, "").expect("sandbox registry");
        let log_url = format!("sqlite://{}?mode=rwc", dir.path().join("log.db").display());
        let gateway = Arc::new(
            Gateway::new(GatewayParts {
                system_id: "shep".into(),
                registry: Arc::new(RegistryHandle::open(registry_path.clone()).expect("registry")),
                verifier: Verifier::new(vec![ca.root.certificate().clone()], revocation.clone()),
                replay: ReplayGuard::new(Duration::from_secs(600), 1_000_000),
                log: MessageLog::connect(&log_url).await.expect("message log"),
                clock: clock.clone(),
                max_message_bytes: 4 * 1024 * 1024,
                nats: nats.as_ref().map(|(client, _)| client.clone()),
            })
            .with_operators(crate::service::operators()),
        );
        let grpc = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let http = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let gateway_addr = grpc.local_addr().expect("addr");
        let gateway_http = http.local_addr().expect("addr");
        let settings = nats.map(|(_, settings)| settings).unwrap_or_default();
        tokio::spawn(egov_gateway::serve_with(
            gateway.clone(),
            settings,
            Listeners { grpc, http },
            std::future::pending(),
        ));
        Sandbox {
            dir,
            ca: Arc::new(ca),
            revocation,
            verifier,
            gateway,
            gateway_addr,
            gateway_http,
            registry_path,
            table: Mutex::new(Table::default()),
            serial: Arc::new(Mutex::new(0)),
            clock,
        }
    }

    /// Returns the verifier trusting the sandbox's root.
    pub fn verifier(&self) -> Arc<SandboxVerifier> {
        self.verifier.clone()
    }

    /// Returns the revocation list, to revoke a certificate in a test.
    pub fn revocation(&self) -> &Arc<StaticRevocation> {
        &self.revocation
    }

    /// Returns the clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Returns the gateway's gRPC endpoint URL.
    pub fn gateway_endpoint(&self) -> String {
        format!("http://{}", self.gateway_addr)
    }

    /// Returns the gateway's HTTP address (message log, diagrams).
    pub fn gateway_http(&self) -> SocketAddr {
        self.gateway_http
    }

    /// Returns the gateway, e.g. to read its message log.
    pub fn gateway(&self) -> &Arc<Gateway<Arc<StaticRevocation>>> {
        &self.gateway
    }

    /// Returns a directory for the test's own files.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    fn next_serial(&self) -> Vec<u8> {
        next_serial(&self.serial)
    }

    /// Returns a handle that issues certificates for holders' own public keys, usable from
    /// another task (an external signer's certification centre in a test).
    pub fn key_issuer(&self) -> KeyIssuer {
        KeyIssuer {
            ca: self.ca.clone(),
            serial: self.serial.clone(),
        }
    }

    /// Issues a credential valid from a year ago for ten years.
    pub fn credential(&self, holder: &Holder) -> Credential {
        let now = OffsetDateTime::now_utc();
        self.ca
            .issue_derived(
                holder,
                SANDBOX_SEED,
                &self.next_serial(),
                now - time::Duration::days(365),
                now + time::Duration::days(3650),
            )
            .expect("sandbox credential")
    }

    /// Returns a signer for a person (a citizen, an operator, a clerk).
    pub fn person(&self, iin: &str, role: Role, bin: Option<&str>) -> Signer {
        let holder = Holder {
            surname: "ТЕСТ".into(),
            given_name: iin.to_owned(),
            iin: Iin::parse(iin).expect("person IIN"),
            bin: bin.map(|b| Bin::parse(b).expect("person BIN")),
            organization: bin.map(|b| format!("organisation {b}")),
            role,
            purpose: KeyPurpose::Sign,
        };
        let credential = self.credential(&holder);
        Signer::new(credential.key.pkcs8(), credential.chain).expect("person signer")
    }

    /// Registers a system and returns its seal identity.
    pub fn system(&self, system_id: &str, bin: &str) -> Arc<SystemIdentity> {
        let bin = Bin::parse(bin).expect("system BIN");
        let holder = Holder {
            surname: system_id.to_uppercase(),
            given_name: "SEAL".into(),
            iin: Iin::parse(SEAL_HOLDER_IIN).expect("seal IIN"),
            bin: Some(bin),
            organization: Some(system_id.to_owned()),
            role: Role::LegalEntity,
            purpose: KeyPurpose::Sign,
        };
        let credential = self.credential(&holder);
        {
            let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
            table.systems.insert(system_id.to_owned(), bin.to_string());
        }
        self.reload();
        Arc::new(
            SystemIdentity::from_credential(
                system_id,
                bin,
                &credential,
                self.ca.root.certificate().clone(),
            )
            .expect("system identity"),
        )
    }

    /// Registers a system and returns a caller that sends through the gateway as it.
    pub fn caller(&self, system_id: &str, bin: &str) -> GatewayCaller {
        let identity = self.system(system_id, bin);
        GatewayCaller::new(identity, &self.gateway_endpoint(), self.clock.clone())
            .expect("gateway caller")
    }

    /// Has the async channel push a system's messages to its NATS inbox
    /// (`delivery = "push"`); registered systems fetch them otherwise.
    pub fn deliver_by_push(&self, system_id: &str) {
        {
            let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
            table.push.insert(system_id.to_owned());
        }
        self.reload();
    }

    /// Routes a service id to a system's gRPC address for the given senders.
    pub fn route(&self, service_id: &str, target: &str, addr: SocketAddr, senders: &[&str]) {
        {
            let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
            table.routes.insert(
                service_id.to_owned(),
                (
                    target.to_owned(),
                    addr,
                    senders.iter().map(|s| (*s).to_owned()).collect(),
                ),
            );
        }
        self.reload();
    }

    /// Turns recording on or off for a route (`record = true` in the registry), reloading the
    /// registry as an operator would at run time.
    pub fn record(&self, service_id: &str, on: bool) {
        {
            let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
            if on {
                table.recorded.insert(service_id.to_owned());
            } else {
                table.recorded.remove(service_id);
            }
        }
        self.reload();
    }

    /// Sets how long the gateway waits for the target of a route (the registry's
    /// `timeout_ms`), so a test of a slow target need not wait the default.
    pub fn route_timeout(&self, service_id: &str, timeout: Duration) {
        {
            let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
            table.timeouts.insert(service_id.to_owned(), timeout);
        }
        self.reload();
    }

    /// Starts a regional gateway (ЭҮАШ / РШЭП) beside the sandbox's national one, as the
    /// stack runs it: its own seal (system `rshep`), registry, message log and listeners, on
    /// the sandbox's clock and trust. Each route `(service id, target, address, senders)`
    /// goes on the regional registry to `target`, and on the national one to the regional
    /// gateway for the same senders; the targets and senders must be registered systems.
    pub async fn start_regional_gateway(&self, routes: &[RegionalRoute<'_>]) -> RegionalGateway {
        let id = egov_core::systems::REGIONAL_GATEWAY.id;
        let identity = Arc::try_unwrap(self.system(id, egov_core::systems::REGIONAL_GATEWAY.bin))
            .unwrap_or_else(|_| panic!("the regional gateway's seal is its own"));
        let registry_path = self.dir.path().join("regional-registry.toml");
        let text = {
            let table = self.table.lock().unwrap_or_else(|p| p.into_inner());
            let mut named = BTreeSet::from([id]);
            for (_, target, _, senders) in routes {
                named.insert(target);
                named.extend(senders.iter().copied());
            }
            let mut text = String::new();
            for system in named {
                let bin = table
                    .systems
                    .get(system)
                    .unwrap_or_else(|| panic!("{system} is not a registered system"));
                text.push_str(&format!("[systems.{system}]\nbin = \"{bin}\"\n\n"));
            }
            for (service, target, addr, senders) in routes {
                let senders: Vec<String> = senders.iter().map(|s| format!("{s:?}")).collect();
                text.push_str(&format!(
                    "[services.\"{service}\"]\ntarget = \"{target}\"\ngrpc = \"http://{addr}\"\nallowed_senders = [{}]\n\n",
                    senders.join(", ")
                ));
            }
            text
        };
        std::fs::write(&registry_path, text).expect("regional registry");
        let log_url = format!(
            "sqlite://{}?mode=rwc",
            self.dir.path().join("regional-log.db").display()
        );
        let gateway = Arc::new(
            Gateway::new(GatewayParts {
                system_id: id.into(),
                registry: Arc::new(RegistryHandle::open(registry_path).expect("registry")),
                verifier: Verifier::new(vec![identity.root.clone()], self.revocation.clone()),
                replay: ReplayGuard::new(Duration::from_secs(600), 100_000),
                log: MessageLog::connect(&log_url)
                    .await
                    .expect("regional message log"),
                clock: self.clock.clone(),
                max_message_bytes: 4 * 1024 * 1024,
                nats: None,
            })
            .with_operators(crate::service::operators())
            .with_seal(Arc::new(identity.signer)),
        );
        let grpc = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let http = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = grpc.local_addr().expect("addr");
        tokio::spawn(egov_gateway::serve(
            gateway.clone(),
            Listeners { grpc, http },
            std::future::pending(),
        ));
        for (service, _, _, senders) in routes {
            self.route(service, id, addr, senders);
        }
        RegionalGateway { gateway, addr }
    }

    fn reload(&self) {
        let text = {
            let table = self.table.lock().unwrap_or_else(|p| p.into_inner());
            let mut text = String::new();
            for (id, bin) in &table.systems {
                let delivery = if table.push.contains(id) {
                    "push"
                } else {
                    "pull"
                };
                text.push_str(&format!(
                    "[systems.{id}]\nbin = \"{bin}\"\ndelivery = \"{delivery}\"\n\n"
                ));
            }
            for (service, (target, addr, senders)) in &table.routes {
                let senders: Vec<String> = senders.iter().map(|s| format!("{s:?}")).collect();
                text.push_str(&format!(
                    "[services.\"{service}\"]\ntarget = \"{target}\"\ngrpc = \"http://{addr}\"\nallowed_senders = [{}]\nrecord = {}\n",
                    senders.join(", "),
                    table.recorded.contains(service)
                ));
                if let Some(timeout) = table.timeouts.get(service) {
                    text.push_str(&format!("timeout_ms = {}\n", timeout.as_millis()));
                }
                text.push('\n');
            }
            text
        };
        std::fs::write(&self.registry_path, text).expect("write sandbox registry");
        self.gateway
            .registry()
            .reload()
            .expect("sandbox registry reload");
    }
}

/// A route of the regional gateway: service id, target system, its address, allowed senders.
pub type RegionalRoute<'a> = (&'a str, &'a str, SocketAddr, &'a [&'a str]);

/// A regional gateway started by [`Sandbox::start_regional_gateway`].
pub struct RegionalGateway {
    /// The gateway, for its message log.
    pub gateway: Arc<Gateway<Arc<StaticRevocation>>>,
    /// Its gRPC address.
    pub addr: SocketAddr,
}

/// Issues certificates from the sandbox's centre for holders' own public keys.
#[derive(Debug, Clone)]
pub struct KeyIssuer {
    ca: Arc<CaHierarchy>,
    serial: Arc<Mutex<u32>>,
}

impl KeyIssuer {
    /// Issues a certificate for a holder's public key (SubjectPublicKeyInfo DER), valid from
    /// a year ago for ten years, and returns the chain a signer attaches (the certificate,
    /// then the intermediate): the holder's private key never reaches the centre.
    pub fn issue_for_key(&self, holder: &Holder, public_key_der: &[u8]) -> Vec<Vec<u8>> {
        let now = OffsetDateTime::now_utc();
        let certificate = self
            .ca
            .intermediate
            .issue(
                holder,
                public_key_der,
                &next_serial(&self.serial),
                now - time::Duration::days(365),
                now + time::Duration::days(3650),
            )
            .expect("sandbox certificate for a public key");
        vec![
            certificate.der.to_vec(),
            self.ca.intermediate.certificate().der.to_vec(),
        ]
    }
}

fn next_serial(serial: &Mutex<u32>) -> Vec<u8> {
    let mut serial = serial.lock().unwrap_or_else(|p| p.into_inner());
    *serial += 1;
    let mut bytes = vec![0x01];
    bytes.extend_from_slice(&serial.to_be_bytes());
    bytes
}
