//! deploy/: the three-node NATS cluster config and the Kubernetes manifests, checked for the
//! shape operators rely on (probes, PostgreSQL stores, three NATS nodes, R3 JetStream).

use std::collections::BTreeMap;
use std::path::Path;

use egov_tests::{assert_nats_server_accepts, repo_root};
use serde::Deserialize as _;
use serde_yaml_ng::Value;

/// Every egov service and its (gRPC, HTTP) ports, as in the README's table.
const SERVICES: &[(&str, u16, u16)] = &[
    ("gateway", 7100, 7101),
    ("pki", 7110, 7111),
    ("citizens", 7120, 7121),
    ("notary", 7130, 7131),
    ("labor", 7140, 7141),
    ("esobes", 7150, 7151),
    ("queue", 7160, 7161),
    ("backoffice", 7170, 7171),
    ("portal", 7180, 7181),
    ("con", 7190, 7191),
    ("signer", 7210, 7211),
    ("rshep", 7220, 7221),
];

/// Returns the binary a service runs (`egov-<it>`), whose variables it reads
/// (`EGOV_<IT>__…`): its own name, but the regional gateway runs the gateway's binary.
fn binary_of(name: &str) -> &str {
    if name == "rshep" { "gateway" } else { name }
}

/// The services that keep no database: the signer keeps the citizens' keys as files.
const WITHOUT_DATABASE: &[&str] = &["signer"];

/// Returns every object of every `*.yaml` under deploy/kubernetes, keyed by "Kind/name".
fn manifests() -> BTreeMap<String, Value> {
    let dir = repo_root().join("deploy/kubernetes");
    let mut objects = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("deploy/kubernetes")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("manifest");
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let value = Value::deserialize(document)
                .unwrap_or_else(|err| panic!("{} is not YAML: {err}", path.display()));
            let kind = value.get("kind").and_then(Value::as_str);
            let name = value
                .get("metadata")
                .and_then(|meta| meta.get("name"))
                .and_then(Value::as_str);
            if let (Some(kind), Some(name)) = (kind, name) {
                objects.insert(format!("{kind}/{name}"), value);
            }
        }
    }
    objects
}

fn object<'a>(objects: &'a BTreeMap<String, Value>, key: &str) -> &'a Value {
    objects
        .get(key)
        .unwrap_or_else(|| panic!("deploy/kubernetes has no {key}"))
}

fn containers(workload: &Value) -> &Vec<Value> {
    workload
        .get("spec")
        .and_then(|spec| spec.get("template"))
        .and_then(|template| template.get("spec"))
        .and_then(|spec| spec.get("containers"))
        .and_then(Value::as_sequence)
        .expect("spec.template.spec.containers")
}

fn env_of(container: &Value) -> BTreeMap<String, Value> {
    container
        .get("env")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|var| {
            let name = var.get("name")?.as_str()?.to_owned();
            let value = var.get("value").or_else(|| var.get("valueFrom")).cloned()?;
            Some((name, value))
        })
        .collect()
}

#[test]
fn every_workload_has_readiness_and_liveness_probes() {
    let objects = manifests();
    let workloads: Vec<_> = objects
        .iter()
        .filter(|(key, _)| key.starts_with("Deployment/") || key.starts_with("StatefulSet/"))
        .collect();
    assert!(
        workloads.len() >= SERVICES.len() + 2,
        "too few workloads: {}",
        workloads.len()
    );
    for (key, workload) in workloads {
        for container in containers(workload) {
            for probe in ["readinessProbe", "livenessProbe"] {
                assert!(
                    container.get(probe).is_some_and(Value::is_mapping),
                    "{key} has a container without a {probe}"
                );
            }
        }
    }
}

#[test]
fn every_service_has_a_deployment_and_a_service_on_its_ports() {
    let objects = manifests();
    for (name, grpc, http) in SERVICES {
        let deployment = object(&objects, &format!("Deployment/{name}"));
        let command = containers(deployment)[0]
            .get("command")
            .and_then(Value::as_sequence)
            .and_then(|command| command.first())
            .and_then(Value::as_str);
        assert_eq!(command, Some(format!("egov-{}", binary_of(name)).as_str()));
        let service = object(&objects, &format!("Service/{name}"));
        let ports: Vec<u64> = service
            .get("spec")
            .and_then(|spec| spec.get("ports"))
            .and_then(Value::as_sequence)
            .expect("Service ports")
            .iter()
            .filter_map(|port| port.get("port").and_then(Value::as_u64))
            .collect();
        assert_eq!(ports, vec![u64::from(*grpc), u64::from(*http)], "{name}");
    }
}

#[test]
fn every_durable_store_is_on_postgresql() {
    let objects = manifests();
    object(&objects, "StatefulSet/postgres");
    let secret = object(&objects, "Secret/egov-postgres");
    for (name, _, _) in SERVICES
        .iter()
        .filter(|(name, _, _)| !WITHOUT_DATABASE.contains(name))
    {
        let env = env_of(&containers(object(&objects, &format!("Deployment/{name}")))[0]);
        let variable = format!("EGOV_{}__DATABASE_URL", binary_of(name).to_uppercase());
        let key = env
            .get(&variable)
            .and_then(|from| from.get("secretKeyRef"))
            .and_then(|secret| secret.get("key"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name} takes no {variable} from a secret"));
        let url = secret
            .get("stringData")
            .and_then(|data| data.get(key))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("the example secret has no {key}"));
        assert!(url.starts_with("postgres://"), "{name}'s store: {url}");
    }
}

#[test]
fn nats_runs_three_nodes_and_the_gateway_replicates_its_streams_three_times() {
    let objects = manifests();
    let nats = object(&objects, "StatefulSet/nats");
    assert_eq!(
        nats.get("spec")
            .and_then(|spec| spec.get("replicas"))
            .and_then(Value::as_u64),
        Some(3)
    );
    let gateway = env_of(&containers(object(&objects, "Deployment/gateway"))[0]);
    assert_eq!(
        gateway
            .get("EGOV_GATEWAY__JETSTREAM_REPLICAS")
            .and_then(Value::as_str),
        Some("3")
    );
}

#[test]
fn the_cluster_config_routes_to_three_nodes_with_jetstream() {
    let config = std::fs::read_to_string(repo_root().join("deploy/nats/cluster.conf"))
        .expect("deploy/nats/cluster.conf");
    let routes: Vec<&str> = config
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("nats-route://"))
        .collect();
    assert_eq!(routes.len(), 3, "{routes:?}");
    assert!(config.contains("jetstream {"), "JetStream is off");
    assert!(
        config
            .lines()
            .any(|line| line.trim() == "include ./accounts.conf"),
        "the cluster admits anyone: it does not include the users of accounts.conf"
    );
    // nats-server's own check, when the binary is there, with every password set.
    let passwords = on_the_bus().map(|user| (password_variable(user), "dev-only-check".to_owned()));
    assert_nats_server_accepts(
        "deploy/nats/cluster.conf",
        passwords.chain([("SERVER_NAME".to_owned(), "nats-0".to_owned())]),
    );
}

/// The services that sign in to NATS: all but the signer.
fn on_the_bus() -> impl Iterator<Item = &'static str> {
    SERVICES
        .iter()
        .map(|(name, _, _)| *name)
        .filter(|name| *name != "signer")
}

/// The variable that holds a NATS user's password, for the server and the service.
fn password_variable(user: &str) -> String {
    format!("EGOV_NATS_{}_PASSWORD", user.to_uppercase())
}

/// The (secret, key) a `valueFrom` reads, if it reads a secret.
fn secret_key(value: &Value) -> Option<(String, String)> {
    let reference = value.get("secretKeyRef")?;
    Some((
        reference.get("name")?.as_str()?.to_owned(),
        reference.get("key")?.as_str()?.to_owned(),
    ))
}

#[test]
fn every_kubernetes_service_signs_in_to_nats_as_its_own_user_with_a_password_from_the_secret() {
    let objects = manifests();
    let nats = env_of(&containers(object(&objects, "StatefulSet/nats"))[0]);
    for user in on_the_bus() {
        let variable = password_variable(user);
        let from_secret = Some(("egov-nats".to_owned(), user.to_owned()));
        assert_eq!(
            nats.get(&variable).and_then(secret_key),
            from_secret,
            "the NATS nodes do not read {variable} from the secret egov-nats"
        );
        let service = env_of(&containers(object(&objects, &format!("Deployment/{user}")))[0]);
        assert_eq!(
            service.get(&variable).and_then(secret_key),
            from_secret,
            "{user} does not read {variable} from the secret egov-nats"
        );
        let key = format!("EGOV_{}__NATS_URL", binary_of(user).to_uppercase());
        let url = service
            .get(&key)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{user} sets no {key}"));
        // Kubernetes expands $(VAR) from the variables defined before it in the same list.
        assert_eq!(
            url,
            format!("nats://{user}:$({variable})@nats:4222"),
            "{user}'s {key}"
        );
    }
    let secret = object(&objects, "Secret/egov-nats");
    for user in on_the_bus() {
        assert!(
            secret
                .get("stringData")
                .and_then(|data| data.get(user))
                .is_some(),
            "the example secret egov-nats has no password for {user}"
        );
    }
}

#[test]
fn the_kubernetes_config_files_are_copies_of_the_sources() {
    let root = repo_root();
    let same = |copy: &str, source: &str| {
        let read = |path: &Path| std::fs::read_to_string(path).expect("config file");
        assert_eq!(
            read(&root.join(copy)),
            read(&root.join(source)),
            "{copy} differs from {source}: copy it again"
        );
    };
    same(
        "deploy/kubernetes/config/nats-cluster.conf",
        "deploy/nats/cluster.conf",
    );
    same(
        "deploy/kubernetes/config/nats-accounts.conf",
        "deploy/nats/accounts.conf",
    );
    same(
        "deploy/kubernetes/config/registry.toml",
        "deploy/compose/registry.toml",
    );
    same(
        "deploy/kubernetes/config/registry-regional.toml",
        "deploy/compose/registry-regional.toml",
    );
}

#[test]
fn the_regional_gateway_runs_the_gateway_in_its_regional_role_on_its_own_registry() {
    let objects = manifests();
    let rshep = object(&objects, "Deployment/rshep");
    let env = env_of(&containers(rshep)[0]);
    assert_eq!(
        env.get("EGOV_GATEWAY__ROLE").and_then(Value::as_str),
        Some("regional")
    );
    assert_eq!(
        env.get("EGOV_GATEWAY__SYSTEM_ID").and_then(Value::as_str),
        Some("rshep")
    );
    let config_map = rshep
        .get("spec")
        .and_then(|spec| spec.get("template"))
        .and_then(|template| template.get("spec"))
        .and_then(|spec| spec.get("volumes"))
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .find_map(|volume| volume.get("configMap"))
        .and_then(|map| map.get("name"))
        .and_then(Value::as_str);
    assert_eq!(config_map, Some("rshep-registry"));
    let kustomization =
        std::fs::read_to_string(repo_root().join("deploy/kubernetes/kustomization.yaml"))
            .expect("kustomization.yaml");
    let kustomization: Value = serde_yaml_ng::from_str(&kustomization).expect("YAML");
    let generated = kustomization
        .get("configMapGenerator")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .find(|map| map.get("name").and_then(Value::as_str) == Some("rshep-registry"))
        .and_then(|map| map.get("files"))
        .and_then(Value::as_sequence)
        .and_then(|files| files.first())
        .and_then(Value::as_str);
    assert_eq!(
        generated,
        Some("registry.toml=config/registry-regional.toml")
    );
    let resources: Vec<&str> = kustomization
        .get("resources")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(resources.contains(&"rshep.yaml"), "{resources:?}");
}

#[test]
fn the_signer_keeps_its_keys_on_a_claimed_volume_and_takes_no_part_in_the_bus() {
    let objects = manifests();
    let signer = object(&objects, "Deployment/signer");
    let claim = signer
        .get("spec")
        .and_then(|spec| spec.get("template"))
        .and_then(|template| template.get("spec"))
        .and_then(|spec| spec.get("volumes"))
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .find_map(|volume| volume.get("persistentVolumeClaim"))
        .and_then(|claim| claim.get("claimName"))
        .and_then(Value::as_str)
        .expect("the signer's data dir is a PersistentVolumeClaim");
    object(&objects, &format!("PersistentVolumeClaim/{claim}"));
    let env = env_of(&containers(signer)[0]);
    assert!(
        !env.contains_key("EGOV_SIGNER__NATS_URL"),
        "the signer is off the bus"
    );
}

#[test]
fn the_registration_desk_is_added_by_the_centre_and_used_by_the_con_and_the_signer() {
    let objects = manifests();
    let pki = object(&objects, "Deployment/pki");
    let init = pki
        .get("spec")
        .and_then(|spec| spec.get("template"))
        .and_then(|template| template.get("spec"))
        .and_then(|spec| spec.get("initContainers"))
        .and_then(Value::as_sequence)
        .and_then(|containers| containers.first())
        .expect("the centre's init container adds the registrar");
    let script = serde_yaml_ng::to_string(init.get("command").expect("its command")).expect("YAML");
    assert!(script.contains("egov-pki accounts add"), "{script}");
    let init_env = env_of(init);
    let password = init_env
        .get("REGISTRAR_PASSWORD")
        .and_then(secret_key)
        .expect("the registrar's password from a secret");
    object(&objects, &format!("Secret/{}", password.0));
    for name in ["con", "signer"] {
        let env = env_of(&containers(object(&objects, &format!("Deployment/{name}")))[0]);
        let upper = name.to_uppercase();
        assert_eq!(
            env.get(&format!("EGOV_{upper}__REGISTRAR_PASSWORD"))
                .and_then(secret_key),
            Some(password.clone()),
            "{name} enrols under the registrar the centre added"
        );
        assert_eq!(
            env.get(&format!("EGOV_{upper}__REGISTRAR_LOGIN"))
                .and_then(secret_key),
            init_env.get("REGISTRAR_LOGIN").and_then(secret_key),
            "{name}'s registrar login"
        );
    }
}
