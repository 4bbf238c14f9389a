//! docker-compose.yml: checked as a file in every run (its structure against the README's
//! ports table and the local registry, and by `compose config` when a compose command runs),
//! and, when a Docker engine answers, built, brought up and sent one signed request through
//! the gateway from outside the containers.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use egov_citizens::PERSON_GET;
use egov_citizens::fixtures::{GUARDIAN, PARENT_OF_CHILD_UNDER_7};
use egov_core::clock::SystemClock;
use egov_core::systems;
use egov_proto::v1::certification_centre_client::CertificationCentreClient;
use egov_proto::v1::{GetPersonRequest, GetPersonResponse};
use egov_system::GatewayCaller;
use egov_system::identity::{
    Enrolment, EnrolmentProof, SystemIdentity, ca_certificates, enrol_holder,
};
use egov_tests::docker::{self, Compose};
use egov_tests::{assert_nats_server_accepts, repo_root};
use serde_yaml_ng::Value;

/// The services docker-compose.yml runs besides NATS and the PostgreSQL profile.
const SERVICES: &[&str] = &[
    "gateway",
    "pki",
    "citizens",
    "notary",
    "labor",
    "esobes",
    "queue",
    "backoffice",
    "signer",
    "portal",
    "con",
    "rshep",
];

/// Returns the binary a service runs (`egov-<it>`), whose variables it reads
/// (`EGOV_<IT>__…`): its own name, but the regional gateway runs the gateway's binary.
fn binary_of(name: &str) -> &str {
    if name == systems::REGIONAL_GATEWAY.id {
        "gateway"
    } else {
        name
    }
}

/// The services that take no part in the bus (no NATS user, as under `egov up`): the
/// citizen's external signer.
const OFF_THE_BUS: &[&str] = &["signer"];

/// The services that are no system of the gateway, so hold no enrolment token: the signer
/// enrols people's keys under the registration desk's registrar account.
const NOT_SYSTEMS: &[&str] = &["signer"];

/// The registrar account the centre's container makes on first start.
const REGISTRAR: &str = "registration-desk";

/// How long the whole stack may take to report healthy after `up`.
const HEALTHY_DEADLINE: Duration = Duration::from_secs(180);

fn compose_file() -> Value {
    let text = std::fs::read_to_string(repo_root().join("docker-compose.yml"))
        .expect("docker-compose.yml at the repository root");
    let mut value: Value = serde_yaml_ng::from_str(&text).expect("docker-compose.yml is YAML");
    value.apply_merge().expect("its `<<:` merges resolve");
    value
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    compose
        .get("services")
        .and_then(|services| services.get(name))
        .unwrap_or_else(|| panic!("docker-compose.yml has no service {name}"))
}

/// Returns a service's `environment:` mapping.
fn environment<'a>(compose: &'a Value, name: &str) -> &'a serde_yaml_ng::Mapping {
    service(compose, name)
        .get("environment")
        .and_then(Value::as_mapping)
        .unwrap_or_else(|| panic!("{name} has no environment"))
}

/// Returns one variable of a service's environment, if set.
fn variable<'a>(compose: &'a Value, name: &str, key: &str) -> Option<&'a str> {
    environment(compose, name).get(key).and_then(Value::as_str)
}

/// Returns a service's volumes as (source, target, read-only) triples.
fn volumes(compose: &Value, name: &str) -> Vec<(String, String, bool)> {
    service(compose, name)
        .get("volumes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|volume| {
            let parts: Vec<&str> = volume.split(':').collect();
            (
                parts[0].to_owned(),
                parts.get(1).copied().unwrap_or_default().to_owned(),
                parts.get(2) == Some(&"ro"),
            )
        })
        .collect()
}

/// Returns the services that use the bus, each a NATS user of its own.
fn on_the_bus() -> impl Iterator<Item = &'static str> {
    SERVICES
        .iter()
        .copied()
        .filter(|name| !OFF_THE_BUS.contains(name))
}

/// Returns the variable that holds a NATS user's password, for the server and the service.
fn password_variable(user: &str) -> String {
    format!("EGOV_NATS_{}_PASSWORD", user.to_uppercase())
}

/// Returns the README's ports table: service name to its (gRPC, HTTP) ports.
fn readme_ports() -> BTreeMap<String, (u16, Option<u16>)> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
            let [name, grpc, http] = cells.as_slice() else {
                return None;
            };
            let grpc = grpc.trim().parse().ok()?;
            let name = name.split_whitespace().next()?.to_lowercase();
            Some((name, (grpc, http.trim().parse().ok())))
        })
        .collect()
}

/// Returns a service's published ports as (host, container) pairs.
fn published_ports(service: &Value) -> BTreeSet<(String, u16, u16)> {
    service
        .get("ports")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .map(|port| {
            let text = port.as_str().expect("ports are \"host:port:port\" strings");
            let parts: Vec<&str> = text.split(':').collect();
            let [host, published, target] = parts.as_slice() else {
                panic!("port {text:?} does not name its host address");
            };
            (
                (*host).to_owned(),
                published.parse().expect("published port"),
                target.parse().expect("container port"),
            )
        })
        .collect()
}

#[test]
fn every_service_of_the_stack_has_its_own_container() {
    let compose = compose_file();
    for name in SERVICES.iter().chain(&["nats", "postgres"]) {
        let service = service(&compose, name);
        assert!(
            service.get("image").and_then(Value::as_str).is_some(),
            "{name} names no image"
        );
    }
    let profiles = service(&compose, "postgres").get("profiles");
    assert_eq!(
        profiles.and_then(Value::as_sequence).map(Vec::len),
        Some(1),
        "PostgreSQL runs only under its profile"
    );
}

#[test]
fn every_container_has_a_health_check_and_waits_for_healthy_dependencies() {
    let compose = compose_file();
    let services = compose
        .get("services")
        .and_then(Value::as_mapping)
        .expect("services");
    for (name, service) in services {
        let name = name.as_str().expect("service name");
        let test = service
            .get("healthcheck")
            .and_then(|check| check.get("test"))
            .and_then(Value::as_sequence);
        assert!(
            test.is_some_and(|test| !test.is_empty()),
            "{name} has no health check"
        );
        let depends_on = service.get("depends_on").and_then(Value::as_mapping);
        for (dependency, condition) in depends_on.into_iter().flatten() {
            assert_eq!(
                condition.get("condition").and_then(Value::as_str),
                Some("service_healthy"),
                "{name} starts before {dependency:?} is healthy"
            );
        }
    }
    for name in SERVICES.iter().filter(|name| **name != "pki") {
        let depends_on = service(&compose, name)
            .get("depends_on")
            .and_then(Value::as_mapping)
            .expect("depends_on");
        for needed in ["nats", "pki"] {
            assert!(
                depends_on.contains_key(needed),
                "{name} does not wait for {needed}"
            );
        }
    }
}

#[test]
fn published_ports_are_the_readme_table_on_loopback() {
    let compose = compose_file();
    let table = readme_ports();
    for name in SERVICES {
        let (grpc, http) = table
            .get(*name)
            .copied()
            .unwrap_or_else(|| panic!("the README's ports table has no row for {name}"));
        let http = http.unwrap_or_else(|| panic!("the README gives {name} no HTTP port"));
        let expected: BTreeSet<_> = [grpc, http]
            .into_iter()
            .map(|port| ("127.0.0.1".to_owned(), port, port))
            .collect();
        assert_eq!(
            published_ports(service(&compose, name)),
            expected,
            "{name}'s ports"
        );
    }
    let nats = table.get("nats").expect("the README's NATS row").0;
    assert!(published_ports(service(&compose, "nats")).contains(&(
        "127.0.0.1".to_owned(),
        nats,
        4222
    )));
}

#[test]
fn services_are_configured_through_their_egov_variables() {
    let compose = compose_file();
    for name in SERVICES {
        let environment = service(&compose, name)
            .get("environment")
            .and_then(Value::as_mapping)
            .unwrap_or_else(|| panic!("{name} has no environment"));
        let prefix = format!("EGOV_{}__", binary_of(name).to_uppercase());
        for key in ["GRPC_LISTEN", "HTTP_LISTEN", "DATA_DIR"] {
            assert!(
                environment.contains_key(format!("{prefix}{key}").as_str()),
                "{name} does not set {prefix}{key}"
            );
        }
        assert_eq!(
            environment.contains_key(format!("{prefix}NATS_URL").as_str()),
            !OFF_THE_BUS.contains(name),
            "{name}: a NATS URL exactly when it uses the bus"
        );
    }
}

/// Asserts that a compose registry is the local one with each system's container name.
fn assert_local_registry_with_container_names(local: &str, compose: &str) {
    let read = |path: &str| -> toml::Table {
        let text = std::fs::read_to_string(repo_root().join(path)).expect(path);
        toml::from_str(&text).expect(path)
    };
    let mut local_table = read(local);
    let compose_table = read(compose);
    let hosts: BTreeMap<String, String> = SERVICES
        .iter()
        .filter_map(|name| {
            let (grpc, _) = readme_ports().get(*name).copied()?;
            Some((
                format!("http://127.0.0.1:{grpc}"),
                format!("http://{name}:{grpc}"),
            ))
        })
        .collect();
    let services = local_table
        .get_mut("services")
        .and_then(toml::Value::as_table_mut)
        .expect("[services]");
    for (_, route) in services.iter_mut() {
        if let Some(grpc) = route.get_mut("grpc") {
            let endpoint = grpc.as_str().expect("grpc is a string").to_owned();
            *grpc = toml::Value::String(hosts.get(&endpoint).cloned().unwrap_or(endpoint));
        }
    }
    assert_eq!(local_table, compose_table, "{compose} is not {local}");
}

#[test]
fn the_compose_registry_is_the_local_registry_with_container_names() {
    assert_local_registry_with_container_names(
        "deploy/local/registry.toml",
        "deploy/compose/registry.toml",
    );
}

#[test]
fn the_compose_regional_registry_is_the_local_one_with_container_names() {
    assert_local_registry_with_container_names(
        "deploy/local/registry-regional.toml",
        "deploy/compose/registry-regional.toml",
    );
}

/// Returns the host file a gateway container's registry is, through the read-only directory
/// mount it lies in; `None` when it is not in one (a single-file mount, or none).
fn registry_source(compose: &Value, name: &str) -> Option<String> {
    let registry = variable(compose, name, "EGOV_GATEWAY__REGISTRY")?;
    volumes(compose, name)
        .into_iter()
        .filter(|(_, _, read_only)| *read_only)
        .find_map(|(source, target, _)| {
            let file = registry.strip_prefix(&format!("{target}/"))?;
            Some(format!("{source}/{file}"))
        })
}

#[test]
fn both_gateways_read_their_registry_through_a_directory_mount_so_an_edit_reaches_the_reload() {
    // `sed -i` and most editors write a new file in place of the old; a single-file bind
    // mount keeps the old file's inode, so the README's "edit, then reload" would re-read
    // the old routes. A directory mount shows the new file.
    let compose = compose_file();
    assert_eq!(
        registry_source(&compose, "gateway").as_deref(),
        Some("./deploy/compose/registry.toml")
    );
    assert_eq!(
        registry_source(&compose, systems::REGIONAL_GATEWAY.id).as_deref(),
        Some("./deploy/compose/registry-regional.toml")
    );
}

#[test]
fn the_regional_gateway_runs_the_gateway_in_its_regional_role_with_its_own_registry() {
    let compose = compose_file();
    let rshep = systems::REGIONAL_GATEWAY.id;
    assert_eq!(
        variable(&compose, rshep, "EGOV_GATEWAY__ROLE"),
        Some("regional")
    );
    assert_eq!(
        variable(&compose, rshep, "EGOV_GATEWAY__SYSTEM_ID"),
        Some(rshep)
    );
    assert_eq!(
        registry_source(&compose, rshep).as_deref(),
        Some("./deploy/compose/registry-regional.toml"),
        "rshep does not read deploy/compose/registry-regional.toml"
    );
    assert_ne!(
        variable(&compose, rshep, "EGOV_GATEWAY__DATA_DIR"),
        variable(&compose, "gateway", "EGOV_GATEWAY__DATA_DIR"),
        "the two gateways share a data dir"
    );
    // The national registry hands A and F to it by its container name.
    let national: toml::Table = toml::from_str(
        &std::fs::read_to_string(repo_root().join("deploy/compose/registry.toml"))
            .expect("registry"),
    )
    .expect("TOML");
    let grpc = readme_ports().get(rshep).expect("rshep's ports").0;
    for service in [
        "backoffice.adoption-candidate.apply",
        "backoffice.guardianship.apply",
    ] {
        let route = &national["services"][service];
        assert_eq!(route["target"].as_str(), Some(rshep), "{service}");
        assert_eq!(
            route["grpc"].as_str(),
            Some(format!("http://{rshep}:{grpc}").as_str()),
            "{service}"
        );
    }
}

#[test]
fn compose_config_accepts_the_files() {
    let root = repo_root();
    let Some(_) = docker::compose_command() else {
        println!("skipped `compose config`: neither `docker compose` nor `docker-compose` runs");
        return;
    };
    Compose::new(&root, &["docker-compose.yml"], "egov-config-check")
        .expect("compose")
        .validate()
        .expect("docker-compose.yml is valid");
    Compose::new(
        &root,
        &["docker-compose.yml", "deploy/compose/postgres.yml"],
        "egov-config-check",
    )
    .expect("compose")
    .with_profile("postgres")
    .validate()
    .expect("docker-compose.yml with the PostgreSQL overlay is valid");
}

#[test]
fn the_compose_nats_admits_each_service_as_its_own_user_with_the_permissions_of_egov_up() {
    use egov_bus::nats_accounts::{GATEWAY_USER, NatsUser, authorization_block};

    let placeholder = |user: &str| format!("password-of-{user}");
    let users: Vec<NatsUser> = on_the_bus()
        .map(|name| {
            if name == GATEWAY_USER {
                NatsUser::gateway(placeholder(name))
            } else {
                NatsUser::system(name, placeholder(name))
            }
        })
        .collect();
    // The passwords are no part of the file: nats-server reads each from its variable.
    let mut expected = authorization_block(&users);
    for user in &users {
        expected = expected.replace(
            &format!("{:?}", user.password),
            &format!("${}", password_variable(&user.name)),
        );
    }
    let text = std::fs::read_to_string(repo_root().join("deploy/nats/accounts.conf"))
        .expect("deploy/nats/accounts.conf");
    let block: String = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        block, expected,
        "deploy/nats/accounts.conf is not egov_bus::nats_accounts' users; it should read:\n{expected}"
    );
    // nats-server's own check, when the binary is there, with every password it reads set.
    assert_nats_server_accepts(
        "deploy/nats/accounts.conf",
        users
            .iter()
            .map(|user| (password_variable(&user.name), "dev-only-check")),
    );
}

/// Returns a compose service's command, word by word (none when it has none).
fn command_of(service: &Value) -> Vec<&str> {
    service
        .get("command")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn each_service_signs_in_to_nats_as_its_own_user_with_the_password_nats_is_given() {
    let compose = compose_file();
    let nats = service(&compose, "nats");
    let command = command_of(nats);
    assert!(
        command
            .windows(2)
            .any(|pair| pair == ["--config", "/etc/nats/nats.conf"]),
        "NATS runs without the users' config: {command:?}"
    );
    assert!(
        volumes(&compose, "nats").contains(&(
            "./deploy/nats/accounts.conf".to_owned(),
            "/etc/nats/nats.conf".to_owned(),
            true
        )),
        "NATS does not mount deploy/nats/accounts.conf read-only"
    );
    let passwords = environment(&compose, "nats");
    for name in on_the_bus() {
        let key = format!("EGOV_{}__NATS_URL", binary_of(name).to_uppercase());
        let url = variable(&compose, name, &key).unwrap_or_else(|| panic!("{name} sets no {key}"));
        let (address, credentials) = egov_bus::nats_accounts::split_credentials(url);
        assert_eq!(address, "nats://nats:4222", "{name}'s NATS address");
        let (user, password) =
            credentials.unwrap_or_else(|| panic!("{name} signs in to NATS as no one"));
        assert_eq!(user, name, "{name} signs in as another service");
        let password_key = password_variable(name);
        assert_eq!(
            passwords.get(password_key.as_str()).and_then(Value::as_str),
            Some(password.as_str()),
            "{name}'s password is not the one NATS reads from {password_key}"
        );
        assert!(
            password.starts_with(&format!("${{{password_key}:-dev-only-")),
            "{name}'s password is not overridable through {password_key}, or its default not marked dev-only: {password}"
        );
    }
    assert_eq!(
        passwords.len(),
        on_the_bus().count(),
        "NATS is given exactly the passwords of the services on the bus"
    );
}

#[test]
fn the_centre_makes_the_operator_token_and_the_registrar_and_shares_each_only_where_needed() {
    let compose = compose_file();
    for name in SERVICES {
        let command = command_of(service(&compose, name));
        let binary = format!("egov-{}", binary_of(name));
        assert_eq!(
            command,
            ["egov-start", binary.as_str()],
            "{name} does not start through egov-start"
        );
    }
    let operators = variable(&compose, "pki", "EGOV_START_OPERATORS")
        .expect("the centre writes the operators entry");
    let token = variable(&compose, "pki", "EGOV_START_OPERATOR_TOKEN")
        .expect("the centre makes the operator token");
    assert!(
        token.starts_with("/var/lib/egov/"),
        "the operator token {token} is not in the centre's own volume"
    );
    for name in SERVICES.iter().filter(|name| !NOT_SYSTEMS.contains(name)) {
        assert_eq!(
            variable(&compose, name, "EGOV_START_OPERATORS"),
            Some(operators),
            "{name} does not admit the stack's operator"
        );
        let mounted = volumes(&compose, name)
            .into_iter()
            .find(|(source, _, _)| source == "operators")
            .unwrap_or_else(|| panic!("{name} does not mount the operators volume"));
        assert!(
            operators.starts_with(&mounted.1),
            "{name} mounts it elsewhere"
        );
        assert_eq!(
            mounted.2,
            *name != "pki",
            "only the centre writes {operators}"
        );
    }
    assert_eq!(
        variable(&compose, "pki", "EGOV_START_REGISTRAR"),
        Some(REGISTRAR)
    );
    let password = variable(&compose, "pki", "EGOV_START_REGISTRAR_PASSWORD")
        .expect("the centre writes the registrar's password");
    let holders: BTreeSet<&str> = SERVICES
        .iter()
        .copied()
        .filter(|name| {
            volumes(&compose, name)
                .iter()
                .any(|(source, _, _)| source == "registrar")
        })
        .collect();
    assert_eq!(
        holders,
        BTreeSet::from(["pki", "con", "signer"]),
        "the registrar's password reaches only the centre and the registration desk's users"
    );
    for name in ["con", "signer"] {
        let prefix = format!("EGOV_{}__", name.to_uppercase());
        assert_eq!(
            variable(&compose, name, &format!("{prefix}REGISTRAR_LOGIN")),
            Some(REGISTRAR)
        );
        assert_eq!(
            variable(&compose, name, &format!("{prefix}REGISTRAR_PASSWORD_FILE")),
            Some(password),
            "{name} reads the registrar's password where the centre wrote it"
        );
    }
}

#[test]
fn the_portal_calls_the_signer_by_its_container_and_sends_the_browser_to_the_published_ports() {
    let compose = compose_file();
    let table = readme_ports();
    let http = |name: &str| {
        table
            .get(name)
            .and_then(|ports| ports.1)
            .unwrap_or_else(|| panic!("the README gives {name} no HTTP port"))
    };
    let portal = |key: &str| variable(&compose, "portal", &format!("EGOV_PORTAL__{key}"));
    assert_eq!(
        portal("SIGNER_URL"),
        Some(format!("http://signer:{}", http("signer")).as_str())
    );
    assert_eq!(
        portal("SIGNER_PUBLIC_URL"),
        Some(format!("http://127.0.0.1:{}", http("signer")).as_str())
    );
    assert_eq!(
        portal("PUBLIC_URL"),
        Some(format!("http://127.0.0.1:{}", http("portal")).as_str())
    );
}

/// Builds the images: under nextest the script's own `cargo build` is safe; under
/// `cargo test`, which holds the target dir's lock while tests run, the script takes the
/// binaries this test was built beside.
fn build_images() {
    let mut command = Command::new(repo_root().join("deploy/images/build"));
    if std::env::var_os("NEXTEST").is_none() {
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target/<profile>/deps");
        command.arg("--bin-dir").arg(profile_dir);
    }
    if let Err(err) = docker::run(&mut command) {
        panic!("deploy/images/build: {err}");
    }
}

/// A seal of `system` for a key made here, certified by the containerised centre under the
/// registration desk's registrar account.
async fn registrar_certified_seal(system: &systems::SystemInfo, password: &str) -> SystemIdentity {
    const PKI: &str = "http://127.0.0.1:7110";
    let enrolment = Enrolment::of(system, GUARDIAN).expect("the seal's enrolment");
    let channel = tonic::transport::Endpoint::from_static(PKI).connect_lazy();
    let mut client = CertificationCentreClient::new(channel);
    let (root, intermediate) = ca_certificates(PKI, &mut client)
        .await
        .expect("the containerised centre's certificates");
    let proof = EnrolmentProof::Registrar {
        login: "registration-desk",
        password,
    };
    let signer = enrol_holder(
        PKI,
        &mut client,
        &enrolment.holder(),
        Some(proof),
        None,
        &intermediate,
        time::OffsetDateTime::now_utc(),
    )
    .await
    .expect("a seal from the containerised certification centre");
    SystemIdentity {
        system_id: system.id.to_owned(),
        bin: enrolment.bin,
        signer,
        root,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn compose_stack_answers_a_signed_request_through_the_gateway() {
    if let Err(reason) = docker::engine() {
        println!("skipped: {reason}");
        return;
    }
    if docker::compose_command().is_none() {
        println!("skipped: a Docker engine answers, but no compose command runs");
        return;
    }
    tokio::task::spawn_blocking(build_images)
        .await
        .expect("image build");
    let root = repo_root();
    let mut compose = Compose::new(
        &root,
        &["docker-compose.yml"],
        &format!("egov-test-{}", std::process::id()),
    )
    .expect("compose");
    // Not `config --services`: compose v1 lists services of inactive profiles there too.
    let services: Vec<String> = SERVICES
        .iter()
        .chain(&["nats"])
        .map(|name| (*name).to_owned())
        .collect();
    compose
        .up()
        .unwrap_or_else(|err| panic!("compose up: {err}"));
    let compose = tokio::task::spawn_blocking(move || {
        if let Err(err) = compose.wait_healthy(&services, HEALTHY_DEADLINE) {
            panic!("not every container became healthy: {err}");
        }
        compose
    })
    .await
    .expect("health wait");

    // From outside the containers: the published ports, as a system outside would call them.
    // Every system runs in a container and has spent its one-time token, so the test's seal (the
    // portal's BIN, a key made here) is certified under the registration desk's registrar
    // account, whose password the centre's first start wrote into the registrar volume.
    let password = compose
        .run(&[
            "exec",
            "-T",
            "pki",
            "cat",
            "/var/lib/egov-registrar/registration-desk.password",
        ])
        .unwrap_or_else(|err| panic!("the registration desk's password: {err}"));
    let identity = registrar_certified_seal(&systems::PORTAL, password.trim()).await;
    let caller = GatewayCaller::new(
        identity.into(),
        "http://127.0.0.1:7100",
        SystemClock::shared(),
    )
    .expect("caller");
    let answer = caller
        .call::<GetPersonRequest, GetPersonResponse>(
            PERSON_GET,
            systems::CITIZENS.id,
            &GetPersonRequest {
                iin: PARENT_OF_CHILD_UNDER_7.into(),
            },
        )
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(err) => panic!(
            "signed request through the gateway failed: {err}\ngateway:\n{}\ncitizens:\n{}",
            compose.logs("gateway"),
            compose.logs("citizens")
        ),
    };
    assert_eq!(
        answer.person.map(|person| person.iin),
        Some(PARENT_OF_CHILD_UNDER_7.to_owned())
    );

    // The front doors answer a browser on the host.
    for (name, port, path, shows) in [
        ("portal", 7181, "/login", "<form"),
        ("signer", 7211, "/", "<html"),
        ("con", 7191, "/kiosk", "<form"),
    ] {
        let (status, body) = http_get(port, path, None);
        assert_eq!(
            status,
            200,
            "{name}'s {path}: {body}\n{name}:\n{}",
            compose.logs(name)
        );
        assert!(
            body.contains(shows),
            "{name}'s {path} shows no {shows}: {body}"
        );
    }

    // NATS admits no client without a user, and a service's user with its password.
    let anonymous = async_nats::connect("nats://127.0.0.1:4222").await;
    assert!(
        anonymous.is_err(),
        "NATS admitted a client without credentials"
    );
    let password = std::env::var(password_variable("labor"))
        .unwrap_or_else(|_| "dev-only-labor-nats".to_owned());
    egov_bus::nats_accounts::connect(
        &format!("nats://labor:{password}@127.0.0.1:4222"),
        async_nats::ConnectOptions::new(),
    )
    .await
    .expect("NATS admits the labor service's user");

    // The operator token the centre's container made opens the gateway's message log.
    let token = compose
        .run(&["exec", "-T", "pki", "cat", "/var/lib/egov/operator.token"])
        .unwrap_or_else(|err| panic!("the operator token: {err}"));
    let (status, _) = http_get(7101, "/messages/no-such-message", None);
    assert_eq!(status, 401, "the message log without a token");
    let (status, body) = http_get(7101, "/messages/no-such-message", Some(token.trim()));
    assert!(
        status != 401 && status != 403,
        "the operator's token is refused ({status}): {body}\ngateway:\n{}",
        compose.logs("gateway")
    );

    // The provider's office, as `egov scenario run --office` uses it: the clerk enters a paper
    // application for E on the back office's gRPC API with the operator's token, and reads
    // the case back with its first step, the clerk's registration.
    let office = egov_scenario::OfficeClient::new("http://127.0.0.1:7170", token.trim())
        .expect("the office client");
    let form = egov_scenario::Office {
        service: "E".into(),
        recipient_iin: PARENT_OF_CHILD_UNDER_7.into(),
        documents: vec!["referral".into(), "child_health_passport".into()],
        case: None,
    };
    let filed = match office.file_form(&form).await {
        Ok(case) => case,
        Err(err) => panic!(
            "the office's intake failed: {err}\nbackoffice:\n{}",
            compose.logs("backoffice")
        ),
    };
    let read = egov_scenario::case_table(
        &office
            .case_of(&filed.id)
            .await
            .unwrap_or_else(|err| panic!("the office's case read failed: {err}")),
    );
    assert_eq!(read["service"].as_str(), Some("E"));
    assert_eq!(read["closed"].as_bool(), Some(false));
    let first = read["steps"]
        .as_array()
        .and_then(|steps| steps.first())
        .and_then(|step| step.as_table())
        .unwrap_or_else(|| panic!("the case has no step: {read}"));
    assert_eq!(first["action"].as_str(), Some("register"));
    assert_eq!(first["role"].as_str(), Some("BACK_OFFICE_ROLE_CLERK"));
    tokio::task::spawn_blocking(move || drop(compose))
        .await
        .expect("compose down");
}

/// GETs `path` on a published port of the host, as a browser would (HTTP/1.0: the answer
/// ends with the connection), with an operator's bearer token if given; returns the status
/// and the body.
fn http_get(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::{Read as _, Write as _};

    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|err| panic!("connect to 127.0.0.1:{port}: {err}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let authorization = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n{authorization}\r\n"
    )
    .expect("send the request");
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .unwrap_or_else(|err| panic!("read the answer of 127.0.0.1:{port}{path}: {err}"));
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status from 127.0.0.1:{port}{path}: {answer}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn every_system_reads_its_own_enrolment_token_from_the_centres_generator_step() {
    let compose = compose_file();
    let pki = service(&compose, "pki")
        .get("environment")
        .and_then(Value::as_mapping)
        .expect("pki environment");
    let dir = pki
        .get("EGOV_PKI__ENROLMENT_TOKENS_DIR")
        .and_then(Value::as_str)
        .expect("the centre writes the tokens");
    for name in SERVICES
        .iter()
        .filter(|name| **name != "pki" && !NOT_SYSTEMS.contains(name))
    {
        let key = format!(
            "EGOV_{}__ENROLMENT_TOKEN_FILE",
            binary_of(name).to_uppercase()
        );
        let file = service(&compose, name)
            .get("environment")
            .and_then(|environment| environment.get(key.as_str()))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name} does not set {key}"));
        assert_eq!(file, format!("{dir}/{name}.token"), "{name}'s own token");
    }
}

/// Runs `deploy/images/egov-start true` as the certification centre's container does, with
/// the operator token and its entry in `dir`; returns the token.
fn start_the_centre(dir: &std::path::Path) -> String {
    let status = Command::new(repo_root().join("deploy/images/egov-start"))
        .arg("true")
        .env("EGOV_START_OPERATOR_TOKEN", dir.join("operator.token"))
        .env("EGOV_START_OPERATORS", dir.join("operators.toml"))
        .status()
        .expect("egov-start runs");
    assert!(status.success(), "egov-start: {status}");
    std::fs::read_to_string(dir.join("operator.token")).expect("the token")
}

#[test]
fn the_compose_operator_token_expires_and_the_first_start_after_its_expiry_makes_a_new_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let entry = || std::fs::read_to_string(dir.path().join("operators.toml")).expect("entry");

    let first = start_the_centre(dir.path());
    let written = entry();
    let expires = written
        .lines()
        .find_map(|line| line.strip_prefix("expires = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("the entry names its expiry");
    let expires =
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
            .expect("RFC 3339");
    let days = (expires - time::OffsetDateTime::now_utc()).whole_days();
    assert!(
        (29..=30).contains(&days),
        "30 days by default, got {days}: {written}"
    );
    assert!(
        !written.contains(first.trim()),
        "the entry never holds the token"
    );

    assert_eq!(start_the_centre(dir.path()), first, "kept while valid");

    let expired = written.replace(
        &format!(
            "expires = \"{}\"",
            expires
                .format(&time::format_description::well_known::Rfc3339)
                .expect("format")
        ),
        "expires = \"2020-01-01T00:00:00Z\"",
    );
    assert_ne!(expired, written, "the test backdates the entry");
    std::fs::write(dir.path().join("operators.toml"), expired).expect("backdated");
    assert_ne!(
        start_the_centre(dir.path()),
        first,
        "a new token once expired"
    );
}
