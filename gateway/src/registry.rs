//! The registry: which service id goes to which system over which transport,
//! who may call it, and which certificate (BIN) each system signs with.
//!
//! It is a TOML file an operator edits; pointing one route at another
//! endpoint swaps a simulated system for a real one. The gateway re-reads it
//! on SIGHUP or an admin call, swapping the whole table at once so in-flight
//! messages finish on the table they started with.
//!
//! ```toml
//! [systems.portal]
//! bin = "120140000057"
//! name = "ЭҮП / Портал"
//!
//! [services."citizens.person.get"]
//! target = "citizens"
//! grpc = "http://127.0.0.1:7120"
//! timeout_ms = 5000
//! allowed_senders = ["portal", "con"]
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use egov_core::Bin;
use serde::Deserialize;

/// Default time a target has to answer a sync request.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// Failures loading the registry; each names the file and the entry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file could not be read.
    #[error("registry {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the registry's shape (unknown keys included).
    #[error("registry {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, naming the key.
        message: String,
    },
    /// An entry is inconsistent.
    #[error("registry {path}: {entry}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The entry, e.g. `services."citizens.person.get".target`.
        entry: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default)]
    systems: BTreeMap<String, SystemFile>,
    #[serde(default)]
    services: BTreeMap<String, ServiceFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemFile {
    bin: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    delivery: Delivery,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    target: String,
    grpc: Option<String>,
    nats: Option<String>,
    timeout_ms: Option<u64>,
    #[serde(default)]
    allowed_senders: Vec<String>,
    // Off unless the route says so: bodies carry personal data.
    #[serde(default)]
    store_body: bool,
    // Off unless the route says so: a recording keeps whole exchanges.
    #[serde(default)]
    record: bool,
    max_message_bytes: Option<usize>,
}

/// How the async channel hands messages to a system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// The system fetches its messages (`FetchMessages`).
    #[default]
    Pull,
    /// The gateway pushes each message to the system's NATS inbox.
    Push,
}

/// A system known to the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemEntry {
    /// The system id.
    pub id: String,
    /// The BIN its signing certificate must carry in OU.
    pub bin: Bin,
    /// Human-readable name.
    pub name: String,
    /// How async messages reach it.
    pub delivery: Delivery,
}

/// How a route reaches its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// gRPC `MessageReceiver.Receive` at this endpoint URL.
    Grpc(String),
    /// NATS request-reply on this subject.
    Nats(String),
}

/// A route: one service id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRoute {
    /// The service id.
    pub service_id: String,
    /// The target system id.
    pub target: String,
    /// How to reach it.
    pub transport: Transport,
    /// How long the target has to answer.
    pub timeout: Duration,
    /// Systems that may call it; nobody else may (deny by default).
    pub allowed_senders: Vec<String>,
    /// Whether the message log keeps bodies (else only their hash); off unless
    /// the registry sets `store_body = true` for the route.
    pub store_body: bool,
    /// Whether the gateway records each exchange on the route whole (request and answer
    /// envelopes, their signatures checked) for `egov record export`; `record = true` in the
    /// registry, off by default. A recorded route keeps bodies whatever `store_body` says.
    pub record: bool,
    /// A tighter size limit than the gateway's, if set.
    pub max_message_bytes: Option<usize>,
}

impl ServiceRoute {
    /// Returns whether the message log keeps the bodies of this route's messages: when the
    /// route stores bodies or records its exchanges.
    pub fn keeps_bodies(&self) -> bool {
        self.store_body || self.record
    }

    /// Returns whether a sender system may call this route.
    pub fn allows(&self, sender: &str) -> bool {
        self.allowed_senders.iter().any(|allowed| allowed == sender)
    }
}

/// The whole registry, immutable once loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    /// Systems by id.
    pub systems: HashMap<String, SystemEntry>,
    /// Routes by service id.
    pub services: HashMap<String, Arc<ServiceRoute>>,
}

impl Registry {
    /// Parses and checks registry text; `path` is only used in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Registry, RegistryError> {
        let file: RegistryFile = toml::from_str(text).map_err(|err| RegistryError::Parse {
            path: path.to_owned(),
            message: err.to_string().trim_end().to_owned(),
        })?;
        let invalid = |entry: String, message: String| RegistryError::Invalid {
            path: path.to_owned(),
            entry,
            message,
        };

        let mut systems = HashMap::new();
        for (id, system) in file.systems {
            let bin = Bin::parse(&system.bin)
                .map_err(|err| invalid(format!("systems.{id}.bin"), err.to_string()))?;
            systems.insert(
                id.clone(),
                SystemEntry {
                    id,
                    bin,
                    name: system.name,
                    delivery: system.delivery,
                },
            );
        }

        let mut services = HashMap::new();
        for (service_id, service) in file.services {
            let entry = |field: &str| format!("services.\"{service_id}\".{field}");
            if !systems.contains_key(&service.target) {
                return Err(invalid(
                    entry("target"),
                    format!("unknown system {:?}", service.target),
                ));
            }
            for sender in &service.allowed_senders {
                if !systems.contains_key(sender) {
                    return Err(invalid(
                        entry("allowed_senders"),
                        format!("unknown system {sender:?}"),
                    ));
                }
            }
            let transport = match (service.grpc, service.nats) {
                (Some(url), None) if url.starts_with("http://") || url.starts_with("https://") => {
                    Transport::Grpc(url)
                }
                (Some(url), None) => {
                    return Err(invalid(
                        entry("grpc"),
                        format!("{url:?} is not an http:// or https:// URL"),
                    ));
                }
                (None, Some(subject)) if !subject.trim().is_empty() => Transport::Nats(subject),
                (None, Some(_)) => {
                    return Err(invalid(entry("nats"), "subject is empty".into()));
                }
                (None, None) => {
                    return Err(invalid(
                        entry("grpc"),
                        "one of `grpc` or `nats` is required".into(),
                    ));
                }
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        entry("nats"),
                        "`grpc` and `nats` are exclusive".into(),
                    ));
                }
            };
            let timeout_ms = service.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
            if timeout_ms == 0 {
                return Err(invalid(entry("timeout_ms"), "must be above 0".into()));
            }
            services.insert(
                service_id.clone(),
                Arc::new(ServiceRoute {
                    service_id,
                    target: service.target,
                    transport,
                    timeout: Duration::from_millis(timeout_ms),
                    allowed_senders: service.allowed_senders,
                    store_body: service.store_body,
                    record: service.record,
                    max_message_bytes: service.max_message_bytes,
                }),
            );
        }
        Ok(Registry { systems, services })
    }

    /// Reads and checks a registry file.
    pub fn load(path: &Path) -> Result<Registry, RegistryError> {
        let text = std::fs::read_to_string(path).map_err(|source| RegistryError::Read {
            path: path.to_owned(),
            source,
        })?;
        Registry::parse(&text, path)
    }

    /// Returns the route of a service id.
    pub fn route(&self, service_id: &str) -> Option<&Arc<ServiceRoute>> {
        self.services.get(service_id)
    }

    /// Returns a system by id.
    pub fn system(&self, id: &str) -> Option<&SystemEntry> {
        self.systems.get(id)
    }
}

/// The live registry: read per message, swapped whole on reload.
#[derive(Debug)]
pub struct RegistryHandle {
    path: PathBuf,
    // A std RwLock over an Arc: readers clone the Arc and let go at once.
    current: RwLock<Arc<Registry>>,
}

impl RegistryHandle {
    /// Loads the registry file.
    pub fn open(path: PathBuf) -> Result<RegistryHandle, RegistryError> {
        let registry = Registry::load(&path)?;
        Ok(RegistryHandle {
            path,
            current: RwLock::new(Arc::new(registry)),
        })
    }

    /// Returns the current table.
    pub fn current(&self) -> Arc<Registry> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the file; on an error the current table stays in force.
    pub fn reload(&self) -> Result<Arc<Registry>, RegistryError> {
        let registry = Arc::new(Registry::load(&self.path)?);
        match self.current.write() {
            Ok(mut guard) => *guard = registry.clone(),
            Err(poisoned) => *poisoned.into_inner() = registry.clone(),
        }
        Ok(registry)
    }

    /// Returns the file path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
        [systems.portal]
        bin = "120140000057"
        [systems.citizens]
        bin = "050840001233"
        delivery = "push"

        [services."citizens.person.get"]
        target = "citizens"
        grpc = "http://127.0.0.1:7120"
        timeout_ms = 2000
        allowed_senders = ["portal"]
        store_body = false
    "#;

    fn parse(text: &str) -> Result<Registry, RegistryError> {
        Registry::parse(text, Path::new("registry.toml"))
    }

    #[test]
    fn local_stack_registry_parses_and_names_every_systems_bin() {
        let text = include_str!("../../deploy/local/registry.toml");
        let registry = parse(text).expect("deploy/local/registry.toml");
        for system in egov_core::systems::ALL {
            let entry = registry.system(system.id).expect(system.id);
            assert_eq!(entry.bin.as_str(), system.bin, "{}", system.id);
        }
        // The simulated systems run an async inbox; the portal and ЦОН fetch.
        for system in [
            "citizens",
            "notary",
            "labor",
            "esobes",
            "queue",
            "backoffice",
        ] {
            let entry = registry.system(system).expect(system);
            assert_eq!(entry.delivery, Delivery::Push, "{system}");
        }
        assert_eq!(
            registry.system("portal").map(|s| s.delivery),
            Some(Delivery::Pull)
        );
    }

    #[test]
    fn valid_registry_maps_service_to_target_and_senders() {
        let registry = parse(VALID).expect("valid");
        let route = registry.route("citizens.person.get").expect("route");
        assert_eq!(route.target, "citizens");
        assert_eq!(
            route.transport,
            Transport::Grpc("http://127.0.0.1:7120".into())
        );
        assert_eq!(route.timeout, Duration::from_millis(2000));
        assert!(route.allows("portal"));
        assert!(!route.allows("citizens"));
        assert!(!route.store_body);
        assert!(!route.record, "recording is off unless the route says so");
        assert_eq!(
            registry.system("citizens").map(|s| s.delivery),
            Some(Delivery::Push)
        );
    }

    #[test]
    fn a_recorded_route_keeps_its_bodies() {
        let registry = parse(&VALID.replace("store_body = false", "record = true")).expect("valid");
        let route = registry.route("citizens.person.get").expect("route");
        assert!(route.record);
        assert!(route.keeps_bodies());
    }

    #[test]
    fn unknown_key_stops_the_load_naming_it() {
        let err = parse(&VALID.replace("timeout_ms", "timeout_msec")).expect_err("typo");
        assert!(err.to_string().contains("timeout_msec"), "{err}");
    }

    #[test]
    fn route_to_unknown_system_is_refused() {
        let err = parse(&VALID.replace("target = \"citizens\"", "target = \"nobody\""))
            .expect_err("unknown target");
        assert!(err.to_string().contains("nobody"), "{err}");
    }

    #[test]
    fn system_with_invalid_bin_is_refused() {
        let err = parse(&VALID.replace("120140000057", "12014000005X")).expect_err("bad bin");
        assert!(err.to_string().contains("systems.portal.bin"), "{err}");
    }

    #[test]
    fn route_without_transport_is_refused() {
        let err = parse(&VALID.replace("grpc = \"http://127.0.0.1:7120\"", ""))
            .expect_err("no transport");
        assert!(err.to_string().contains("one of `grpc` or `nats`"), "{err}");
    }
}
