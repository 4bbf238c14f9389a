//! The flow matrix against the stack a newcomer brings up: every binary built, `egov up
//! --clock virtual` on its standard ports, a ЦОН operator's account added as the README says,
//! then `egov scenario run --stack 127.0.0.1 tests/scenarios`, every file under it, each
//! checked step by step and against its golden diagram, read from the running gateway's log.
//! The in-process matrix (`tests/flows.rs`) checks the same files on a stack of its own per
//! branch; this one checks that the same files hold for the stack as operators run it.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use egov_tests::repo_root;

/// The longest `egov up` may take to say the stack is up.
const UP_DEADLINE: Duration = Duration::from_secs(180);

/// The ЦОН operator the scenarios' receipts name: `madina`, whom the desk's default config
/// maps to the citizens-DB's operator IIN.
const DESK_OPERATOR: (&str, &str) = ("madina", "Әбілова Мадина");

/// The operator's password in this test.
const DESK_PASSWORD: &str = "ЦОН-operator-of-egov-up";

/// Returns the directory the workspace's binaries are built in: beside this test's own.
fn binaries() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps")
        .to_owned()
}

/// Builds every binary, as `./dev up` does; under `cargo test`, which holds the target dir's
/// lock while tests run, takes them as built.
fn build() {
    if std::env::var_os("NEXTEST").is_none() {
        return;
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--locked", "--bins"])
        .current_dir(repo_root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build --bins failed");
}

/// `egov up`, stopped with `egov down` when dropped.
struct Up {
    child: Child,
    data_dir: PathBuf,
    log: mpsc::Receiver<String>,
}

impl Up {
    fn start(data_dir: &Path) -> Up {
        let mut child = Command::new(binaries().join("egov"))
            .args(["up", "--clock", "virtual", "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("egov up starts");
        let (lines, log) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = lines.send(line);
                }
            });
        }
        let up = Up {
            child,
            data_dir: data_dir.to_owned(),
            log,
        };
        let deadline = std::time::Instant::now() + UP_DEADLINE;
        let mut seen = Vec::new();
        while std::time::Instant::now() < deadline {
            match up.log.recv_timeout(Duration::from_secs(1)) {
                Ok(line) if line.contains("the stack is up") => return up,
                Ok(line) => seen.push(line),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("egov up did not bring the stack up:\n{}", seen.join("\n"));
    }

    fn egov(&self) -> Command {
        let mut command = Command::new(binaries().join("egov"));
        command.arg("--data-dir").arg(&self.data_dir);
        command
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.egov().arg("down").status();
        let _ = self.child.wait();
    }
}

#[test]
fn every_scenario_passes_against_the_stack_egov_up_brings_up() {
    build();
    let dir = tempfile::tempdir().expect("temp dir");
    let up = Up::start(&dir.path().join(".egov"));

    // The ЦОН operator's account, as the README adds it (the password on standard input).
    let mut add = Command::new(binaries().join("egov-con"))
        .arg("--data-dir")
        .arg(dir.path().join(".egov/con"))
        .args([
            "accounts",
            "add",
            DESK_OPERATOR.0,
            "--name",
            DESK_OPERATOR.1,
        ])
        .args(["--role", "operator"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("egov-con runs");
    writeln!(add.stdin.take().expect("stdin"), "{DESK_PASSWORD}").expect("password written");
    assert!(add.wait().expect("egov-con ends").success());
    let password_file = dir.path().join("desk.password");
    std::fs::write(&password_file, DESK_PASSWORD).expect("password file");

    let scenarios = repo_root().join("tests/scenarios");
    let files = egov_scenario::file::scenario_files(std::slice::from_ref(&scenarios))
        .expect("the scenario files");
    let junit = dir.path().join("report.xml");
    let run = up
        .egov()
        .args(["scenario", "run", "--stack", "127.0.0.1"])
        .args(["--desk-operator", DESK_OPERATOR.0])
        .arg("--desk-password-file")
        .arg(&password_file)
        .arg("--junit")
        .arg(&junit)
        .arg(&scenarios)
        .current_dir(repo_root())
        .output()
        .expect("egov scenario run runs");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "egov scenario run failed:\n{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        out.contains(&format!("{} passed, 0 failed", files.len())),
        "{out}"
    );
    assert!(
        !out.contains("not compared"),
        "every golden diagram was compared:\n{out}"
    );
    let report = std::fs::read_to_string(&junit).expect("JUnit report");
    assert_eq!(
        report.matches("name=\"golden diagram\"").count(),
        files.len(),
        "one golden-diagram case per scenario"
    );
}
