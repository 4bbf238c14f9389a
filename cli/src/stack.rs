//! The table of the stack's services: the one place a new service is added.

use std::net::{Ipv4Addr, SocketAddr};

/// The data dir `egov` uses when `--data-dir` is not given.
pub const DEFAULT_DATA_DIR: &str = ".egov";

/// The interface every local process listens on.
pub const HOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// nats-server's client port.
pub const NATS_PORT: u16 = 4222;

/// The name nats-server goes by in tables, logs and the state file.
pub const NATS_NAME: &str = "nats";

/// Describes one service of the stack: its binary and its two ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceSpec {
    /// The short name, also the name of its data dir and log file.
    pub name: &'static str,
    /// The binary's file name, looked up next to the `egov` executable.
    pub binary: &'static str,
    /// The gRPC port (health, reflection, the system's contract).
    pub grpc_port: u16,
    /// The HTTP port (`/health`, `/metrics`, any web UI).
    pub http_port: u16,
    /// Flags beyond the common four (listeners, data dir, NATS).
    pub extra_args: &'static [&'static str],
}

impl ServiceSpec {
    /// Returns the name the binary reads its config under (`EGOV_<NAME>__*`): the binary's
    /// own, so a second process of one binary (the regional gateway) is configured like it.
    pub fn config_name(&self) -> &'static str {
        self.binary.strip_prefix("egov-").unwrap_or(self.name)
    }

    /// Returns the registry shipped for this service, if it is a gateway: written to its
    /// data dir on first start, kept after (the operator's edits survive restarts).
    pub fn shipped_registry(&self) -> Option<&'static str> {
        match self.name {
            "gateway" => Some(LOCAL_REGISTRY),
            name if name == REGIONAL_GATEWAY_NAME => Some(REGIONAL_REGISTRY),
            _ => None,
        }
    }

    /// Returns the loopback gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        SocketAddr::from((HOST, self.grpc_port))
    }

    /// Returns the loopback HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        SocketAddr::from((HOST, self.http_port))
    }
}

/// The certification centre's gRPC endpoint, which every other service enrolls with.
pub const PKI_ENDPOINT: &str = "http://127.0.0.1:7110";

/// The gateway's gRPC endpoint, through which systems call each other.
pub const GATEWAY_ENDPOINT: &str = "http://127.0.0.1:7100";

/// The gateway's HTTP address: its log, diagrams and admin API (faults among them).
pub const GATEWAY_HTTP: &str = "127.0.0.1:7101";

/// The State Corporation desk's HTTP address (egov-con's pages and JSON API).
pub const DESK_URL: &str = "http://127.0.0.1:7191";

/// nats-server's config in the data dir: its users and their permissions (owner-only).
pub const NATS_CONFIG_FILE: &str = "nats.conf";

/// The file in the data dir holding the operator's bearer token (owner-only).
pub const OPERATOR_TOKEN_FILE: &str = "operator.token";

/// The file (in the data dir) holding this run's registrar password, owner-only.
pub const REGISTRAR_PASSWORD_FILE: &str = "registrar.password";

/// The registry file name the gateway reads in its data dir.
pub const REGISTRY_FILE: &str = "registry.toml";

/// The local stack's registry, written to the gateway's data dir on first `egov up`.
pub const LOCAL_REGISTRY: &str = include_str!("../../deploy/local/registry.toml");

/// The regional gateway's registry (services A and F to the provider's workstation), written
/// to its data dir on first `egov up`.
pub const REGIONAL_REGISTRY: &str = include_str!("../../deploy/local/registry-regional.toml");

/// The regional gateway's service name: its system id in the registries.
pub const REGIONAL_GATEWAY_NAME: &str = "rshep";

/// The clock authority, started first (after NATS) when `egov up --clock virtual` asks for
/// one virtual clock for the whole stack; not started in real time.
pub const CLOCK: ServiceSpec = ServiceSpec {
    name: "clock",
    binary: "egov-clock",
    grpc_port: 7200,
    http_port: 7201,
    extra_args: &[],
};

/// The clock authority's gRPC endpoint.
pub const CLOCK_ENDPOINT: &str = "http://127.0.0.1:7200";

/// The clock authority's config file in its data dir: `egov up` writes the operator token
/// there (readable by the owner only) and `egov clock` reads it back.
pub const CLOCK_CONFIG_FILE: &str = "clock.toml";

/// Every service `egov up` knows, in start order (the certification centre
/// first: everyone enrolls with it); one row per service.
pub const SERVICES: &[ServiceSpec] = &[
    ServiceSpec {
        name: "pki",
        binary: "egov-pki",
        grpc_port: 7110,
        http_port: 7111,
        extra_args: &[],
    },
    ServiceSpec {
        name: "gateway",
        binary: "egov-gateway",
        grpc_port: 7100,
        http_port: 7101,
        extra_args: &["--pki-endpoint", PKI_ENDPOINT],
    },
    // The regional gateway (ЭҮАШ / РШЭП): the same binary in its regional role, its own
    // ports, registry, message log and seal; the national registry routes A and F to it.
    ServiceSpec {
        name: REGIONAL_GATEWAY_NAME,
        binary: "egov-gateway",
        grpc_port: 7220,
        http_port: 7221,
        extra_args: &[
            "--pki-endpoint",
            PKI_ENDPOINT,
            "--role",
            "regional",
            "--system-id",
            REGIONAL_GATEWAY_NAME,
        ],
    },
    ServiceSpec {
        name: "citizens",
        binary: "egov-citizens",
        grpc_port: 7120,
        http_port: 7121,
        extra_args: &["--pki-endpoint", PKI_ENDPOINT],
    },
    ServiceSpec {
        name: "notary",
        binary: "egov-notary",
        grpc_port: 7130,
        http_port: 7131,
        extra_args: &["--pki-endpoint", PKI_ENDPOINT],
    },
    ServiceSpec {
        name: "backoffice",
        binary: "egov-backoffice",
        grpc_port: 7170,
        http_port: 7171,
        extra_args: &[
            "--pki-endpoint",
            PKI_ENDPOINT,
            "--gateway-endpoint",
            GATEWAY_ENDPOINT,
        ],
    },
    ServiceSpec {
        name: "labor",
        binary: "egov-labor",
        grpc_port: 7140,
        http_port: 7141,
        extra_args: &[
            "--pki-endpoint",
            PKI_ENDPOINT,
            "--gateway-endpoint",
            GATEWAY_ENDPOINT,
        ],
    },
    ServiceSpec {
        name: "esobes",
        binary: "egov-esobes",
        grpc_port: 7150,
        http_port: 7151,
        extra_args: &[
            "--pki-endpoint",
            PKI_ENDPOINT,
            "--gateway-endpoint",
            GATEWAY_ENDPOINT,
        ],
    },
    ServiceSpec {
        name: "queue",
        binary: "egov-queue",
        grpc_port: 7160,
        http_port: 7161,
        extra_args: &[
            "--pki-endpoint",
            PKI_ENDPOINT,
            "--gateway-endpoint",
            GATEWAY_ENDPOINT,
        ],
    },
    // The citizen's external signer (like NCALayer): not a system of the gateway; it asks
    // the certification centre to certify the keys it makes.
    ServiceSpec {
        name: "signer",
        binary: "egov-signer",
        grpc_port: 7210,
        http_port: 7211,
        extra_args: &["--pki-endpoint", PKI_ENDPOINT],
    },
    ServiceSpec {
        name: "portal",
        binary: "egov-portal",
        grpc_port: 7180,
        http_port: 7181,
        extra_args: &[
            "--pki-endpoint",
            PKI_ENDPOINT,
            "--gateway-endpoint",
            GATEWAY_ENDPOINT,
        ],
    },
    ServiceSpec {
        name: "con",
        binary: "egov-con",
        grpc_port: 7190,
        http_port: 7191,
        extra_args: &[
            "--pki-endpoint",
            PKI_ENDPOINT,
            "--gateway-endpoint",
            GATEWAY_ENDPOINT,
        ],
    },
];

/// Returns nats-server's client address.
pub fn nats_addr() -> SocketAddr {
    SocketAddr::from((HOST, NATS_PORT))
}

/// Returns the client URL of a nats-server at `addr`.
pub fn nats_url(addr: SocketAddr) -> String {
    format!("nats://{addr}")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn no_two_services_share_a_name_a_binary_with_its_flags_or_a_port() {
        let mut names = HashSet::new();
        let mut binaries = HashSet::new();
        let mut ports = HashSet::from([NATS_PORT]);
        for service in SERVICES.iter().chain([&CLOCK]) {
            assert!(names.insert(service.name), "{}", service.name);
            assert!(
                binaries.insert((service.binary, service.extra_args)),
                "{}",
                service.binary
            );
            assert!(ports.insert(service.grpc_port), "{}", service.grpc_port);
            assert!(ports.insert(service.http_port), "{}", service.http_port);
        }
    }

    #[test]
    fn the_regional_gateway_is_the_gateway_binary_in_its_regional_role() {
        let rshep = SERVICES
            .iter()
            .find(|spec| spec.name == REGIONAL_GATEWAY_NAME)
            .expect("rshep in the stack");
        assert_eq!(rshep.binary, "egov-gateway");
        assert_eq!(rshep.config_name(), "gateway");
        assert!(
            rshep
                .extra_args
                .windows(2)
                .any(|w| w == ["--role", "regional"])
        );
        assert!(
            rshep
                .extra_args
                .windows(2)
                .any(|w| w == ["--system-id", "rshep"])
        );
        assert_eq!(rshep.shipped_registry(), Some(REGIONAL_REGISTRY));
    }

    #[test]
    fn the_national_registry_hands_a_d_and_f_to_the_regional_gateway_which_relays_them_on() {
        let national: toml::Value = toml::from_str(LOCAL_REGISTRY).expect("national registry");
        let regional: toml::Value = toml::from_str(REGIONAL_REGISTRY).expect("regional registry");
        let rshep = SERVICES
            .iter()
            .find(|spec| spec.name == REGIONAL_GATEWAY_NAME)
            .expect("rshep");
        let spec = |name: &str| {
            SERVICES
                .iter()
                .find(|spec| spec.name == name)
                .unwrap_or_else(|| panic!("{name} in the stack"))
        };
        for (service, target) in [
            ("backoffice.adoption-candidate.apply", "backoffice"),
            ("backoffice.guardianship.apply", "backoffice"),
            ("queue.place", "queue"),
        ] {
            let there = &national["services"][service];
            assert_eq!(
                there["target"].as_str(),
                Some(REGIONAL_GATEWAY_NAME),
                "{service}"
            );
            assert_eq!(
                there["grpc"].as_str(),
                Some(format!("http://{}", rshep.grpc_addr()).as_str()),
                "{service}"
            );
            let on = &regional["services"][service];
            assert_eq!(on["target"].as_str(), Some(target), "{service}");
            assert_eq!(
                on["grpc"].as_str(),
                Some(format!("http://{}", spec(target).grpc_addr()).as_str()),
                "{service}"
            );
            // The regional hop answers before the national one gives up.
            assert!(
                on["timeout_ms"].as_integer() < there["timeout_ms"].as_integer(),
                "{service}"
            );
        }
    }
}
