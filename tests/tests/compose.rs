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
use egov_proto::v1::{GetPersonRequest, GetPersonResponse};
use egov_system::GatewayCaller;
use egov_system::identity::{Enrolment, SystemIdentity};
use egov_tests::docker::{self, Compose};
use egov_tests::repo_root;
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
];

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
        let prefix = format!("EGOV_{}__", name.to_uppercase());
        for key in ["GRPC_LISTEN", "HTTP_LISTEN", "DATA_DIR", "NATS_URL"] {
            assert!(
                environment.contains_key(format!("{prefix}{key}").as_str()),
                "{name} does not set {prefix}{key}"
            );
        }
    }
}

#[test]
fn the_compose_registry_is_the_local_registry_with_container_names() {
    let read = |path: &str| -> toml::Table {
        let text = std::fs::read_to_string(repo_root().join(path)).expect(path);
        toml::from_str(&text).expect(path)
    };
    let mut local = read("deploy/local/registry.toml");
    let compose = read("deploy/compose/registry.toml");
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
    let services = local
        .get_mut("services")
        .and_then(toml::Value::as_table_mut)
        .expect("[services]");
    for (_, route) in services.iter_mut() {
        if let Some(grpc) = route.get_mut("grpc") {
            let endpoint = grpc.as_str().expect("grpc is a string").to_owned();
            *grpc = toml::Value::String(hosts.get(&endpoint).cloned().unwrap_or(endpoint));
        }
    }
    assert_eq!(local, compose);
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

    // From outside the containers: the published ports, as the portal would call them.
    let portal = systems::by_id("portal").expect("the portal in the system table");
    // The portal's one-time token, from the file the centre's generator step wrote.
    let token = compose
        .run(&[
            "exec",
            "-T",
            "pki",
            "cat",
            "/var/lib/egov-enrolment/portal.token",
        ])
        .unwrap_or_else(|err| panic!("the portal's enrolment token: {err}"));
    let enrolment = Enrolment::of(&portal, GUARDIAN)
        .expect("the portal's enrolment")
        .with_token(Some(token.trim().to_owned()));
    let identity = SystemIdentity::enroll("http://127.0.0.1:7110", &enrolment)
        .await
        .expect("the portal's seal from the containerised certification centre");
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
    tokio::task::spawn_blocking(move || drop(compose))
        .await
        .expect("compose down");
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
    for name in SERVICES.iter().filter(|name| **name != "pki") {
        let key = format!("EGOV_{}__ENROLMENT_TOKEN_FILE", name.to_uppercase());
        let file = service(&compose, name)
            .get("environment")
            .and_then(|environment| environment.get(key.as_str()))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name} does not set {key}"));
        assert_eq!(file, format!("{dir}/{name}.token"), "{name}'s own token");
    }
}
