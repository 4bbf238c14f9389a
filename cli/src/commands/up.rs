//! `egov up`: starts nats-server and every built service, waits until each is healthy,
//! prints where to reach them, and stops them all on Ctrl-C or SIGTERM.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;

use crate::health::{self, Health};
use crate::process::{LOG_TAIL_LINES, Supervisor, log_tail};
use crate::stack::{self, NATS_NAME, SERVICES, ServiceSpec};
use crate::state::{self, NatsProcess, ServiceProcess, StackState};

/// How long nats-server gets to accept connections.
const NATS_READY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long each service gets to answer SERVING.
const SERVICE_READY_TIMEOUT: Duration = Duration::from_secs(15);

/// How often readiness and unexpected exits are checked.
const POLL: Duration = Duration::from_millis(200);

/// Which time the stack runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum StackTime {
    /// The wall clock (the default).
    #[default]
    Real,
    /// One virtual clock for the whole stack, kept by the clock authority (started first).
    Virtual,
}

/// How `egov up` starts the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpOptions {
    /// Which time the stack runs on.
    pub time: StackTime,
    /// Whether nats-server admits only TLS clients (a new local CA and server certificate).
    pub nats_tls: bool,
    /// How long a newly made operator token is admitted.
    pub operator_token_lifetime: time::Duration,
}

/// Runs `egov up` with its data, logs and state under `data_dir`.
pub async fn run(data_dir: &Path, options: UpOptions) -> anyhow::Result<ExitCode> {
    let time = options.time;
    let logs = data_dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let data_dir = data_dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", data_dir.display()))?;
    if let Some(running) = state::read(&data_dir)?
        && crate::process::runs(running.supervisor_pid, "egov")
    {
        bail!(
            "a stack from {} is already running (egov up, pid {}); stop it with `egov down`",
            data_dir.display(),
            running.supervisor_pid
        );
    }

    let nats_binary = egov_testkit::find_nats_server()?;
    let bin_dir = bin_dir()?;
    let (mut present, skipped): (Vec<&ServiceSpec>, Vec<&ServiceSpec>) = SERVICES
        .iter()
        .partition(|spec| bin_dir.join(spec.binary).is_file());
    if time == StackTime::Virtual {
        if !bin_dir.join(stack::CLOCK.binary).is_file() {
            bail!(
                "virtual time needs the clock authority, but {} is not built in {}",
                stack::CLOCK.binary,
                bin_dir.display()
            );
        }
        // First, so every service finds the stack's time already kept.
        present.insert(0, &stack::CLOCK);
    }

    // Listening from the start: a Ctrl-C during a slow start must still stop the
    // children, which sit in their own process groups and do not see it.
    let shutdown = egov_bus::shutdown::shutdown_signal();
    tokio::pin!(shutdown);
    let mut supervisor = Supervisor::default();
    let started = tokio::select! {
        started = start(&mut supervisor, &data_dir, &nats_binary, &bin_dir, &present, options) => Some(started),
        () = &mut shutdown => None,
    };
    let outcome = match started {
        Some(Ok((state, operator_expires))) => {
            print_stack(&state, &skipped, &bin_dir);
            println!(
                "operator token (role admin; `Authorization: Bearer …` on the log and every operator write): {}",
                data_dir.join(stack::OPERATOR_TOKEN_FILE).display()
            );
            println!(
                "  it expires at {} (wall clock); `egov up` makes a new one after that",
                egov_signin::operator::rfc3339(operator_expires)
            );
            if options.nats_tls {
                println!(
                    "NATS admits only TLS clients; its CA: {}",
                    data_dir.join(NATS_TLS_DIR).join("nats-ca.pem").display()
                );
            }
            watch(&mut supervisor, shutdown).await
        }
        Some(Err(error)) => Err(error),
        None => Ok(()),
    };
    println!("stopping the stack…");
    supervisor.stop_all().await;
    state::remove(&data_dir)?;
    outcome.map(|()| ExitCode::SUCCESS)
}

/// Starts nats-server, then each service, writes the state file and waits for health.
async fn start(
    supervisor: &mut Supervisor,
    data_dir: &Path,
    nats_binary: &Path,
    bin_dir: &Path,
    present: &[&ServiceSpec],
    options: UpOptions,
) -> anyhow::Result<(StackState, time::OffsetDateTime)> {
    let time = options.time;
    let log_of = |name: &str| data_dir.join("logs").join(format!("{name}.log"));
    let nats_addr = stack::nats_addr();
    let systems: Vec<&str> = present
        .iter()
        .map(|spec| spec.name)
        .filter(|name| ![NATS_GATEWAY, stack::CLOCK.name].contains(name))
        .filter(|name| !OFF_THE_BUS.contains(name))
        .collect();
    let nats_users = egov_bus::nats_accounts::stack_users(&systems);
    // A new CA and server certificate on each start, like the users' passwords.
    let nats_tls = options
        .nats_tls
        .then(|| egov_bus::nats_tls::LocalTls::create(&data_dir.join(NATS_TLS_DIR)))
        .transpose()?;
    let nats_config = write_nats_config(data_dir, &nats_users, nats_tls.as_ref())?;
    let nats_args = [
        "-c".into(),
        nats_config.display().to_string(),
        "-js".into(),
        "-a".into(),
        stack::HOST.to_string(),
        "-p".into(),
        stack::NATS_PORT.to_string(),
        "-sd".into(),
        data_dir.join("nats").display().to_string(),
    ];
    let nats = supervisor.spawn(NATS_NAME, nats_binary, &nats_args, &[], &log_of(NATS_NAME))?;
    // One fresh enrolment token per system for this run: the centre gets their digests, each
    // system only its own token(s). A system that kept its seal from an earlier run re-uses it.
    let tokens = egov_pki::enrolment::stack_tokens()?;
    let registrar = if present
        .iter()
        .any(|spec| spec.name == egov_pki::config::SERVICE)
    {
        let desk = registration_desk(bin_dir, &data_dir.join(egov_pki::config::SERVICE))?;
        keep_registrar_password(data_dir, &desk.1)?;
        Some(desk)
    } else {
        None
    };
    let mut state = StackState {
        supervisor_pid: std::process::id(),
        nats: NatsProcess {
            pid: nats.pid(),
            addr: nats_addr,
            log: nats.log.clone(),
        },
        services: Vec::new(),
    };
    wait_ready(supervisor, NATS_NAME, NATS_READY_TIMEOUT, || {
        health::tcp(nats_addr, POLL)
    })
    .await?;

    let (operators, operator_expires) = operators_entry(
        data_dir,
        options.operator_token_lifetime,
        time::OffsetDateTime::now_utc(),
    )?;
    for spec in present {
        let service_dir = data_dir.join(spec.name);
        std::fs::create_dir_all(&service_dir)
            .with_context(|| format!("cannot create {}", service_dir.display()))?;
        // Every service admits the one operator of the local stack, by its token's digest.
        let operators_file = service_dir.join(egov_signin::operator::OPERATORS_FILE);
        std::fs::write(&operators_file, &operators)
            .with_context(|| format!("cannot write {}", operators_file.display()))?;
        if let Some(shipped) = spec.shipped_registry() {
            // The operator's edits survive restarts: the shipped table is only the first copy.
            let registry = service_dir.join(stack::REGISTRY_FILE);
            if !registry.exists() {
                std::fs::write(&registry, shipped)
                    .with_context(|| format!("cannot write {}", registry.display()))?;
            }
        }
        let mut args: Vec<String> = vec![
            "--grpc-listen".into(),
            spec.grpc_addr().to_string(),
            "--http-listen".into(),
            spec.http_addr().to_string(),
        ];
        // Each service signs in to NATS as its own user; the URL carries the password, so it
        // goes in the environment (`EGOV_<SERVICE>__NATS_URL`), not on the command line.
        let env: Vec<(String, String)> = if OFF_THE_BUS.contains(&spec.name) {
            Vec::new()
        } else {
            let user = nats_users
                .iter()
                .find(|user| user.name == spec.name)
                .with_context(|| format!("no NATS user for {}", spec.name))?;
            vec![(
                format!(
                    "EGOV_{}__NATS_URL",
                    spec.name.to_uppercase().replace('-', "_")
                ),
                service_nats_url(user, nats_addr, nats_tls.as_ref()),
            )]
        };
        if spec.name == stack::CLOCK.name {
            // The clock keeps its state in NATS; its directory holds only its config.
            let config = clock_config(&service_dir)?;
            args.extend(["--config".into(), config.display().to_string()]);
        } else {
            args.extend(["--data-dir".into(), service_dir.display().to_string()]);
        }
        args.extend(spec.extra_args.iter().map(|arg| (*arg).to_owned()));
        let binary = bin_dir.join(spec.binary);
        let mut env = env;
        env.extend(enrolment_env(spec.name, &tokens));
        env.extend(clock_env(spec.name, time));
        if let Some((login, password)) = &registrar
            && REGISTRAR_USERS.contains(&spec.name)
        {
            let prefix = format!("EGOV_{}__", spec.name.to_ascii_uppercase());
            env.push((format!("{prefix}REGISTRAR_LOGIN"), login.clone()));
            env.push((format!("{prefix}REGISTRAR_PASSWORD"), password.clone()));
        }
        let env = under_config_name(spec, env);
        let child = supervisor.spawn(spec.name, &binary, &args, &env, &log_of(spec.name))?;
        state.services.push(ServiceProcess {
            name: spec.name.into(),
            binary: spec.binary.into(),
            pid: child.pid(),
            grpc: spec.grpc_addr(),
            http: spec.http_addr(),
            log: child.log.clone(),
        });
    }
    // Written before the health waits, so `egov down` can stop a stack stuck starting.
    state::write(data_dir, &state)?;

    for spec in present {
        let addr = spec.grpc_addr();
        wait_ready(supervisor, spec.name, SERVICE_READY_TIMEOUT, || {
            health::grpc(addr, Duration::from_secs(1))
        })
        .await?;
    }
    Ok((state, operator_expires))
}

/// The directory, in the data dir, of the local NATS CA and server certificate (`--nats-tls`).
const NATS_TLS_DIR: &str = "nats-tls";

/// Returns the NATS URL a service is handed: its user's credentials and, with TLS, the CA it
/// verifies the server against (`tls://…?tls_ca=…`, read by `nats_accounts::connect`).
fn service_nats_url(
    user: &egov_bus::nats_accounts::NatsUser,
    nats_addr: std::net::SocketAddr,
    tls: Option<&egov_bus::nats_tls::LocalTls>,
) -> String {
    let url = user.url(&stack::nats_url(nats_addr));
    match tls {
        Some(tls) => egov_bus::nats_tls::tls_url(&url, &tls.ca, None),
        None => url,
    }
}

/// Returns `env` with each `EGOV_<NAME>__` key renamed to the prefix the binary reads
/// (`EGOV_GATEWAY__` for the regional gateway): the values stay the service's own (its NATS
/// user, its enrolment token), only the names follow the binary.
fn under_config_name(spec: &ServiceSpec, env: Vec<(String, String)>) -> Vec<(String, String)> {
    let own = format!("EGOV_{}__", env_name(spec.name));
    let read = format!("EGOV_{}__", env_name(spec.config_name()));
    env.into_iter()
        .map(|(key, value)| match key.strip_prefix(&own) {
            Some(rest) => (format!("{read}{rest}"), value),
            None => (key, value),
        })
        .collect()
}

fn env_name(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

/// The name of the gateway's service, whose NATS user may do everything.
const NATS_GATEWAY: &str = egov_bus::nats_accounts::GATEWAY_USER;

/// Writes nats-server's config (its users, with their permissions and passwords: owner read
/// and write only; with `tls`, the block that makes it TLS-only), new on every start, and
/// returns its path.
fn write_nats_config(
    data_dir: &Path,
    users: &[egov_bus::nats_accounts::NatsUser],
    tls: Option<&egov_bus::nats_tls::LocalTls>,
) -> anyhow::Result<PathBuf> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    let path = data_dir.join(stack::NATS_CONFIG_FILE);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let mut config = egov_bus::nats_accounts::authorization_block(users);
    if let Some(tls) = tls {
        config.push_str(&tls.config_block());
    }
    file.write_all(config.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Returns what a service is handed of the enrolment tokens: the centre every grant
/// (`EGOV_PKI__ENROLMENT_GRANTS`), any other service only its own `EGOV_<SERVICE>__*` tokens.
fn enrolment_env(
    service: &str,
    tokens: &[egov_pki::enrolment::IssuedToken],
) -> Vec<(String, String)> {
    if service == egov_pki::config::SERVICE {
        let grants = egov_pki::enrolment::grants_text(tokens);
        return vec![("EGOV_PKI__ENROLMENT_GRANTS".to_owned(), grants)];
    }
    let prefix = format!("EGOV_{}__", service.to_ascii_uppercase());
    tokens
        .iter()
        .filter(|token| token.env.starts_with(&prefix))
        .map(|token| (token.env.clone(), token.token.clone()))
        .collect()
}

/// Returns what puts a service on the stack's time: in virtual time every service on the bus
/// follows the clock authority (`EGOV_<SERVICE>__CLOCK=stack`); the authority keeps the time
/// itself, and a service off the bus has no clock to set.
fn clock_env(service: &str, time: StackTime) -> Option<(String, String)> {
    let follows = time == StackTime::Virtual
        && service != stack::CLOCK.name
        && !OFF_THE_BUS.contains(&service);
    follows.then(|| {
        (
            format!("EGOV_{}__CLOCK", service.to_uppercase().replace('-', "_")),
            "stack".to_owned(),
        )
    })
}

/// The services that take no part in the bus: no NATS user, no NATS URL (the citizen's
/// external signer talks only to the browser and the certification centre).
const OFF_THE_BUS: &[&str] = &["signer"];

/// The services that enrol people's keys under the registration desk's registrar account:
/// the ЦОН its operators, the external signer the citizens it keeps keys for.
const REGISTRAR_USERS: &[&str] = &["con", "signer"];

/// The registrar account `egov up` keeps in the centre for the local stack's registration desk.
pub const REGISTRAR_LOGIN: &str = "registration-desk";

/// Gives the centre a registrar account with a fresh password for this run (`egov-pki
/// accounts add`, the password on its standard input) and returns its login and password.
fn registration_desk(bin_dir: &Path, pki_dir: &Path) -> anyhow::Result<(String, String)> {
    registrar_account(bin_dir, pki_dir, REGISTRAR_LOGIN)
}

/// Returns the directory the `egov` executable and the services' binaries are built into.
fn bin_dir() -> anyhow::Result<PathBuf> {
    std::env::current_exe()
        .context("cannot locate the egov executable")?
        .parent()
        .map(Path::to_path_buf)
        .context("the egov executable has no parent dir")
}

/// Gives the centre whose data dir is `pki_dir` the registrar account `login` with a fresh
/// password (`egov-pki accounts add`, the password on its standard input) and returns the
/// login and password.
fn registrar_account(
    bin_dir: &Path,
    pki_dir: &Path,
    login: &str,
) -> anyhow::Result<(String, String)> {
    use std::io::Write as _;

    let password = egov_signin::secret::random_hex(24)?;
    let binary = bin_dir.join("egov-pki");
    let mut child = std::process::Command::new(&binary)
        .arg("--data-dir")
        .arg(pki_dir)
        .args(["accounts", "add", login])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        writeln!(stdin, "{password}").context("cannot hand egov-pki the registrar's password")?;
    }
    let output = child
        .wait_with_output()
        .context("egov-pki accounts add did not finish")?;
    if !output.status.success() {
        bail!(
            "egov-pki accounts add {login} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok((login.to_owned(), password))
}

/// Keeps this run's registrar password in `<data_dir>/registrar.password` (owner read/write
/// only): `egov scenario run` enrols the keys it signs replayed requests with under it.
fn keep_registrar_password(data_dir: &Path, password: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    let path = data_dir.join(stack::REGISTRAR_PASSWORD_FILE);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "{password}").with_context(|| format!("cannot write {}", path.display()))
}

/// Returns the registrar's password: `given`, else the one `egov up` kept in the data dir.
pub fn registrar_password(data_dir: &Path, given: Option<String>) -> anyhow::Result<String> {
    kept_secret(
        data_dir,
        given,
        stack::REGISTRAR_PASSWORD_FILE,
        "no registrar password: pass --registrar-password or run `egov up` to create",
    )
}

/// Returns the clock authority's config file, writing it with a fresh operator token (owner
/// read/write only) on first use; the token is not printed, `egov clock` reads it from there.
fn clock_config(dir: &Path) -> anyhow::Result<PathBuf> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    let path = dir.join(stack::CLOCK_CONFIG_FILE);
    if path.exists() {
        return Ok(path);
    }
    // Two v4 UUIDs: 244 random bits from the OS's generator.
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "operator_token = \"{token}\"")
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// The file beside the operator token that says when it expires (RFC 3339).
const OPERATOR_TOKEN_EXPIRY_FILE: &str = "operator.token.expires";

/// Returns the `[[token]]` entry (a digest) admitting the stack's operator and when it expires.
///
/// The token lives in `<data_dir>/operator.token` (owner read/write only) and its expiry beside
/// it; it is kept across runs until it expires, then replaced by a new one admitted for
/// `lifetime` from `now` (the wall clock: an operator token is a person's credential, not a
/// thing of the stack's possibly virtual time). A token from before expiries existed (no
/// expiry file) is given one `lifetime` from the first run that reads it.
fn operators_entry(
    data_dir: &Path,
    lifetime: time::Duration,
    now: time::OffsetDateTime,
) -> anyhow::Result<(String, time::OffsetDateTime)> {
    use time::format_description::well_known::Rfc3339;

    let path = data_dir.join(stack::OPERATOR_TOKEN_FILE);
    let expiry_path = data_dir.join(OPERATOR_TOKEN_EXPIRY_FILE);
    let kept = match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => Some(token.trim().to_owned()),
        Ok(_) => None,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
    };
    let kept_expiry = match std::fs::read_to_string(&expiry_path) {
        Ok(text) => Some(
            time::OffsetDateTime::parse(text.trim(), &Rfc3339)
                .with_context(|| format!("{} is not an RFC 3339 time", expiry_path.display()))?,
        ),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read {}", expiry_path.display()));
        }
    };
    let renewed = now
        .checked_add(lifetime)
        .context("the operator token's lifetime reaches past the last representable time")?;
    let (token, expires_at) = match (kept, kept_expiry) {
        (Some(token), Some(expires_at)) if expires_at > now => (token, expires_at),
        (Some(token), None) => {
            write_owner_only(&expiry_path, &egov_signin::operator::rfc3339(renewed))?;
            (token, renewed)
        }
        _ => {
            let (token, _) = egov_signin::operator::new_token(
                "operator",
                &[egov_signin::operator::Role::Admin],
                renewed,
            )?;
            write_owner_only(&path, &token)?;
            write_owner_only(&expiry_path, &egov_signin::operator::rfc3339(renewed))?;
            (token, renewed)
        }
    };
    let entry = egov_signin::operator::token_entry(
        "operator",
        &[egov_signin::operator::Role::Admin],
        &egov_signin::secret::digest(&token),
        expires_at,
    );
    Ok((
        format!(
            "# The operator of the local stack; its token is in {} (owner-only).\n{entry}",
            stack::OPERATOR_TOKEN_FILE
        ),
        expires_at,
    ))
}

/// Writes `text` and a newline to `path`, owner read/write only, replacing what was there.
fn write_owner_only(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};

    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    writeln!(file, "{text}").with_context(|| format!("cannot write {}", path.display()))
}

/// Returns the operator's bearer token: `given`, else the one `egov up` wrote in the data dir.
pub fn operator_token(data_dir: &Path, given: Option<String>) -> anyhow::Result<String> {
    kept_secret(
        data_dir,
        given,
        stack::OPERATOR_TOKEN_FILE,
        "no operator token: pass --token or run `egov up` once to create",
    )
}

/// Returns `given`, else the secret `egov up` kept in `<data_dir>/<file>`, trimmed; a missing
/// file is reported as `missing` followed by its path.
fn kept_secret(
    data_dir: &Path,
    given: Option<String>,
    file: &str,
    missing: &str,
) -> anyhow::Result<String> {
    if let Some(secret) = given {
        return Ok(secret);
    }
    let path = data_dir.join(file);
    std::fs::read_to_string(&path)
        .map(|secret| secret.trim().to_owned())
        .with_context(|| format!("{missing} {}", path.display()))
}

/// Polls `probe` until it says SERVING; fails with the log tail if `name` exits or times out.
async fn wait_ready<F, P>(
    supervisor: &mut Supervisor,
    name: &str,
    timeout: Duration,
    probe: P,
) -> anyhow::Result<()>
where
    P: Fn() -> F,
    F: Future<Output = Health>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some((managed, status)) = supervisor.first_exited() {
            let during = if managed.name == name {
                String::new()
            } else {
                format!(" while {name} was starting")
            };
            bail!(
                "{} exited ({status}){during}; end of {}:\n{}",
                managed.name,
                managed.log.display(),
                log_tail(&managed.log, LOG_TAIL_LINES)
            );
        }
        let health = probe().await;
        if health.is_serving() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let log = log_path(supervisor, name);
            bail!(
                "{name} is {health} after {}s; end of {}:\n{}",
                timeout.as_secs(),
                log.display(),
                log_tail(&log, LOG_TAIL_LINES)
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits for Ctrl-C / SIGTERM, or fails as soon as a child exits on its own.
async fn watch(
    supervisor: &mut Supervisor,
    mut shutdown: Pin<&mut impl Future<Output = ()>>,
) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            () = shutdown.as_mut() => return Ok(()),
            () = tokio::time::sleep(POLL) => {
                if let Some((managed, status)) = supervisor.first_exited() {
                    bail!(
                        "{} exited ({status}); end of {}:\n{}",
                        managed.name,
                        managed.log.display(),
                        log_tail(&managed.log, LOG_TAIL_LINES)
                    );
                }
            }
        }
    }
}

fn log_path(supervisor: &Supervisor, name: &str) -> PathBuf {
    supervisor.log_of(name).unwrap_or_default()
}

/// Prints where each process listens and logs, and which services were not built.
fn print_stack(state: &StackState, skipped: &[&ServiceSpec], bin_dir: &Path) {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_header(["SERVICE", "gRPC", "HTTP", "LOG"]);
    table.add_row([
        NATS_NAME.to_owned(),
        stack::nats_url(state.nats.addr),
        "-".to_owned(),
        state.nats.log.display().to_string(),
    ]);
    for service in &state.services {
        table.add_row([
            service.name.clone(),
            service.grpc.to_string(),
            format!("http://{0}/health  http://{0}/metrics", service.http),
            service.log.display().to_string(),
        ]);
    }
    println!("{table}");
    for spec in skipped {
        println!(
            "skipped {}: {} is not built in {}",
            spec.name,
            spec.binary,
            bin_dir.display()
        );
    }
    println!("the stack is up; Ctrl-C stops it (or `egov down` from another terminal)");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_gets_only_its_own_enrolment_tokens_and_the_centre_their_digests() {
        let tokens = egov_pki::enrolment::stack_tokens().expect("tokens");
        let labor = enrolment_env("labor", &tokens);
        assert_eq!(labor.len(), 1);
        assert_eq!(labor[0].0, "EGOV_LABOR__ENROLMENT_TOKEN");
        assert_eq!(
            enrolment_env("backoffice", &tokens).len(),
            2 + egov_core::providers::SIGNING.len(),
            "seal, its own head and each provider organisation's head"
        );
        let pki = enrolment_env("pki", &tokens);
        assert!(tokens.iter().all(|token| !pki[0].1.contains(&token.token)));
        assert!(
            tokens
                .iter()
                .all(|token| pki[0].1.contains(&token.grant.token_sha256))
        );
    }

    #[test]
    fn the_regional_gateway_gets_its_own_token_and_nats_user_under_the_gateways_config_names() {
        let tokens = egov_pki::enrolment::stack_tokens().expect("tokens");
        let rshep = SERVICES
            .iter()
            .find(|spec| spec.name == stack::REGIONAL_GATEWAY_NAME)
            .expect("rshep");
        let own = enrolment_env(rshep.name, &tokens);
        assert_eq!(own.len(), 1, "its seal's token only");
        let env = vec![
            own[0].clone(),
            (
                "EGOV_RSHEP__NATS_URL".to_owned(),
                "nats://rshep:pw@h:1".to_owned(),
            ),
        ];
        let env = under_config_name(rshep, env);
        assert_eq!(
            env[0],
            ("EGOV_GATEWAY__ENROLMENT_TOKEN".to_owned(), own[0].1.clone())
        );
        assert_eq!(
            env[1],
            (
                "EGOV_GATEWAY__NATS_URL".to_owned(),
                "nats://rshep:pw@h:1".to_owned()
            )
        );
        let national = enrolment_env("gateway", &tokens);
        assert_ne!(national[0].1, own[0].1, "not the national gateway's token");
    }

    #[test]
    fn egov_up_gives_the_operator_token_one_lifetime_and_keeps_it_until_it_expires() {
        let dir = tempfile::tempdir().expect("temp dir");
        let now = time::macros::datetime!(2026-12-07 09:00 UTC);
        let week = time::Duration::days(7);
        let (entry, expires) = operators_entry(dir.path(), week, now).expect("made");
        assert_eq!(expires, now + week);
        assert!(entry.contains("expires = 2026-12-14T09:00:00Z"), "{entry}");
        let token = operator_token(dir.path(), None).expect("kept");
        assert!(!entry.contains(&token), "the digest only");

        let (_, kept) =
            operators_entry(dir.path(), week, now + time::Duration::days(6)).expect("read again");
        assert_eq!(kept, expires, "a later run keeps the token and its expiry");
        assert_eq!(operator_token(dir.path(), None).expect("kept"), token);

        let later = now + week;
        let (_, renewed) = operators_entry(dir.path(), week, later).expect("renewed");
        assert_eq!(renewed, later + week);
        assert_ne!(
            operator_token(dir.path(), None).expect("new"),
            token,
            "an expired token is replaced, not extended"
        );
    }

    #[test]
    fn an_operator_token_from_before_expiries_gets_one_lifetime_from_the_run_that_reads_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(stack::OPERATOR_TOKEN_FILE), "egov_old\n").expect("old");
        let now = time::macros::datetime!(2026-12-07 09:00 UTC);
        let (entry, expires) =
            operators_entry(dir.path(), time::Duration::days(2), now).expect("read");
        assert_eq!(expires, now + time::Duration::days(2));
        assert!(entry.contains(&egov_signin::secret::digest("egov_old")));
        let (_, again) = operators_entry(
            dir.path(),
            time::Duration::days(2),
            now + time::Duration::days(1),
        )
        .expect("read again");
        assert_eq!(
            again, expires,
            "the first reading starts the lifetime, once"
        );
    }

    #[test]
    fn with_nats_tls_the_server_is_tls_only_and_each_service_verifies_it_against_the_ca() {
        let dir = tempfile::tempdir().expect("temp dir");
        let tls =
            egov_bus::nats_tls::LocalTls::create(&dir.path().join(NATS_TLS_DIR)).expect("tls");
        let users = egov_bus::nats_accounts::stack_users(&["labor"]);
        let config = write_nats_config(dir.path(), &users, Some(&tls)).expect("written");
        let text = std::fs::read_to_string(config).expect("read");
        assert!(text.contains("tls {"), "{text}");
        let labor = users
            .iter()
            .find(|user| user.name == "labor")
            .expect("labor");
        let url = service_nats_url(labor, stack::nats_addr(), Some(&tls));
        let (address, settings) = egov_bus::nats_tls::split_tls(&url).expect("parses");
        assert!(address.starts_with("tls://labor:"), "{address}");
        assert!(settings.required);
        assert_eq!(settings.ca.as_deref(), Some(tls.ca.as_path()));
        assert!(
            service_nats_url(labor, stack::nats_addr(), None).starts_with("nats://"),
            "plain without --nats-tls"
        );
    }

    #[test]
    fn virtual_time_puts_every_service_on_the_bus_on_the_stack_clock() {
        for spec in SERVICES
            .iter()
            .filter(|spec| !OFF_THE_BUS.contains(&spec.name))
        {
            let expected = format!("EGOV_{}__CLOCK", spec.name.to_uppercase());
            assert_eq!(
                clock_env(spec.name, StackTime::Virtual),
                Some((expected, "stack".to_owned())),
                "{}",
                spec.name
            );
            assert_eq!(
                clock_env(spec.name, StackTime::Real),
                None,
                "real by default"
            );
        }
        assert_eq!(
            clock_env(stack::CLOCK.name, StackTime::Virtual),
            None,
            "the authority"
        );
        assert_eq!(clock_env("signer", StackTime::Virtual), None, "off the bus");
    }
}
