//! The Docker engine and compose, driven through their command lines as an operator would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// What failed while driving Docker or compose.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// Neither `docker compose` (v2 plugin) nor `docker-compose` (v1) runs.
    #[error("neither `docker compose` nor `docker-compose` runs; install the compose plugin")]
    NoCompose,
    /// A command could not be started.
    #[error("could not run {command}: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why it did not start.
        #[source]
        source: std::io::Error,
    },
    /// A command exited with a failure.
    #[error("{command} failed ({status}):\n{output}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stdout and stderr.
        output: String,
    },
    /// A service's container is unhealthy, or stopped, or not healthy by the deadline.
    #[error("service {service} is {state} after {waited:?}; its last log lines:\n{logs}")]
    NotHealthy {
        /// The compose service.
        service: String,
        /// Its last seen state (`unhealthy`, `starting`, `exited`, `missing`).
        state: String,
        /// How long it was waited for.
        waited: Duration,
        /// The end of its log.
        logs: String,
    },
}

/// Returns the engine's server version when a Docker engine answers, else why it does not.
pub fn engine() -> Result<String, String> {
    let output = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .map_err(|err| format!("the docker command does not run: {err}"))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if output.status.success() && !version.is_empty() {
        Ok(version)
    } else {
        Err(format!(
            "no Docker engine answers: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Returns the compose command line: `docker compose` when the v2 plugin runs, else
/// `docker-compose` (v1), else `None`.
pub fn compose_command() -> Option<Vec<String>> {
    let runs = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if runs("docker", &["compose", "version"]) {
        Some(vec!["docker".into(), "compose".into()])
    } else if runs("docker-compose", &["version"]) {
        Some(vec!["docker-compose".into()])
    } else {
        None
    }
}

/// Runs a command and returns its stdout, or an error quoting everything it printed.
pub fn run(command: &mut Command) -> Result<String, DockerError> {
    let line = format!("{command:?}");
    let output: Output = command.output().map_err(|source| DockerError::Spawn {
        command: line.clone(),
        source,
    })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(DockerError::Failed {
            command: line,
            status: output.status.to_string(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }
}

/// A compose project made of compose files in one directory; once [`Compose::up`] has run,
/// dropping it takes the project down with its volumes.
#[derive(Debug)]
pub struct Compose {
    command: Vec<String>,
    project: String,
    dir: PathBuf,
    files: Vec<PathBuf>,
    profiles: Vec<String>,
    started: bool,
}

impl Compose {
    /// Describes the project `project` of `files` (relative to `dir`), run from `dir`.
    pub fn new(dir: &Path, files: &[&str], project: &str) -> Result<Compose, DockerError> {
        Ok(Compose {
            command: compose_command().ok_or(DockerError::NoCompose)?,
            project: project.to_owned(),
            dir: dir.to_owned(),
            files: files.iter().map(|file| dir.join(file)).collect(),
            profiles: Vec::new(),
            started: false,
        })
    }

    /// Enables a compose profile (e.g. `postgres`).
    pub fn with_profile(mut self, profile: &str) -> Compose {
        self.profiles.push(profile.to_owned());
        self
    }

    /// Runs `compose <args>` for this project and returns its stdout.
    pub fn run(&self, args: &[&str]) -> Result<String, DockerError> {
        let (program, leading) = self.command.split_first().ok_or(DockerError::NoCompose)?;
        let mut command = Command::new(program);
        command
            .current_dir(&self.dir)
            .args(leading)
            .args(["--project-name", &self.project]);
        for file in &self.files {
            command.arg("--file").arg(file);
        }
        for profile in &self.profiles {
            command.args(["--profile", profile]);
        }
        run(command.args(args))
    }

    /// Checks the files with `compose config --quiet`: syntax, references, merged result.
    pub fn validate(&self) -> Result<(), DockerError> {
        self.run(&["config", "--quiet"]).map(drop)
    }

    /// Starts the project detached (`up -d`); from here on dropping it takes it down.
    pub fn up(&mut self) -> Result<(), DockerError> {
        self.started = true;
        self.run(&["up", "--detach", "--no-build"]).map(drop)
    }

    /// Waits until every service's container reports `healthy`; fails at once on one that is
    /// `unhealthy` or has stopped, and with the last state seen once `deadline` has passed.
    pub fn wait_healthy(&self, services: &[String], deadline: Duration) -> Result<(), DockerError> {
        let started = Instant::now();
        let mut waiting: Vec<String> = services.to_vec();
        loop {
            let mut still = Vec::new();
            for service in waiting {
                match self.health(&service)?.as_str() {
                    "healthy" => {}
                    // Missing: `up` has returned, so every container exists unless it was removed.
                    state @ ("unhealthy" | "exited" | "dead" | "missing") => {
                        return Err(self.not_healthy(&service, state, started.elapsed()));
                    }
                    _ => still.push(service),
                }
            }
            waiting = still;
            let Some(service) = waiting.first() else {
                return Ok(());
            };
            if started.elapsed() > deadline {
                let state = self.health(service)?;
                return Err(self.not_healthy(service, &state, started.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Returns a service's health (`healthy`, `starting`, `unhealthy`), its run state when it
    /// is not running (`exited`), or `missing` when it has no container.
    pub fn health(&self, service: &str) -> Result<String, DockerError> {
        let id = self.run(&["ps", "--quiet", service])?.trim().to_owned();
        if id.is_empty() {
            return Ok("missing".into());
        }
        let state = run(Command::new("docker").args([
            "inspect",
            "--format",
            "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
            &id,
        ]))?;
        let mut words = state.split_whitespace();
        let status = words.next().unwrap_or("missing").to_owned();
        let health = words.next().unwrap_or("none").to_owned();
        Ok(if status == "running" { health } else { status })
    }

    /// Returns the last lines a service logged.
    pub fn logs(&self, service: &str) -> String {
        self.run(&["logs", "--no-color", "--tail", "40", service])
            .unwrap_or_else(|err| format!("(no logs: {err})"))
    }

    fn not_healthy(&self, service: &str, state: &str, waited: Duration) -> DockerError {
        DockerError::NotHealthy {
            service: service.to_owned(),
            state: state.to_owned(),
            waited,
            logs: self.logs(service),
        }
    }
}

impl Drop for Compose {
    fn drop(&mut self) {
        if self.started
            && let Err(err) = self.run(&["down", "--volumes", "--remove-orphans", "--timeout", "5"])
        {
            eprintln!("compose down of {} failed: {err}", self.project);
        }
    }
}
