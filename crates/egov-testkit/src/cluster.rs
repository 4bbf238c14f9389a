//! A throw-away NATS cluster with JetStream for one test: loopback `nats-server` processes
//! routed to each other, any of which the test can kill; all are killed when dropped.
//!
//! ```no_run
//! let mut cluster = egov_testkit::NatsCluster::start(3)?;
//! println!("connect to {}", cluster.url(0));
//! cluster.kill(2);
//! # Ok::<(), egov_testkit::TestkitError>(())
//! ```

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::TestkitError;
use crate::nats::{find_nats_server, log_tail};
use crate::ports::free_port;

/// How long the cluster may take until every node reports JetStream healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How many log lines an error quotes.
const LOG_TAIL_LINES: usize = 20;

/// The cluster's name, in every node's `--cluster_name`.
const CLUSTER_NAME: &str = "egov-test";

/// Times a whole cluster is started on fresh ports before giving up.
const START_ATTEMPTS: u32 = 3;

/// One node: its process (until killed) and its three ports.
#[derive(Debug)]
struct Node {
    child: Option<Child>,
    port: u16,
    monitor_port: u16,
}

/// Running `nats-server` nodes on `127.0.0.1`, routed into one JetStream cluster, each with
/// its store in a temp dir. Node `n` is named [`NatsCluster::name`]`(n)`.
#[derive(Debug)]
pub struct NatsCluster {
    nodes: Vec<Node>,
    // Declared last so it is removed after the processes are gone (Drop runs first).
    dir: TempDir,
}

impl NatsCluster {
    /// Starts `size` nodes, and waits until each answers its health check with JetStream up
    /// (which needs a meta leader, so a quorum of the cluster).
    ///
    /// A free port can be taken by another process between choosing it and the node
    /// binding it (tests run in parallel), so a cluster that does not come up is
    /// started again on fresh ports, up to [`START_ATTEMPTS`] times.
    pub fn start(size: usize) -> Result<NatsCluster, TestkitError> {
        let mut attempt = 1;
        loop {
            match Self::start_once(size) {
                Ok(cluster) => return Ok(cluster),
                Err(TestkitError::NatsServerNotReady {
                    reason, log_tail, ..
                }) => {
                    if attempt == START_ATTEMPTS {
                        return Err(TestkitError::NatsServerNotReady {
                            attempts: attempt,
                            reason,
                            log_tail,
                        });
                    }
                    attempt += 1;
                }
                Err(other) => return Err(other),
            }
        }
    }

    fn start_once(size: usize) -> Result<NatsCluster, TestkitError> {
        let binary = find_nats_server()?;
        let dir = tempfile::Builder::new()
            .prefix("egov-nats-cluster-")
            .tempdir()
            .map_err(|source| TestkitError::Io {
                action: "create a temp dir for the NATS cluster".into(),
                source,
            })?;
        let cluster_ports: Vec<u16> = (0..size).map(|_| free_port()).collect();
        let routes = cluster_ports
            .iter()
            .map(|port| format!("nats-route://127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut cluster = NatsCluster {
            nodes: Vec::with_capacity(size),
            dir,
        };
        for (index, cluster_port) in cluster_ports.iter().enumerate() {
            let (port, monitor_port) = (free_port(), free_port());
            let node_dir = cluster.dir.path().join(Self::name(index));
            let child = spawn(
                &binary,
                &node_dir,
                &[
                    "--jetstream",
                    "--server_name",
                    &Self::name(index),
                    "--addr",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                    "--http_port",
                    &monitor_port.to_string(),
                    "--cluster_name",
                    CLUSTER_NAME,
                    "--cluster",
                    &format!("nats://127.0.0.1:{cluster_port}"),
                    "--routes",
                    &routes,
                ],
            )?;
            cluster.nodes.push(Node {
                child: Some(child),
                port,
                monitor_port,
            });
        }
        cluster.wait_ready()?;
        Ok(cluster)
    }

    /// Returns node `index`'s server name, `n<index>`.
    pub fn name(index: usize) -> String {
        format!("n{index}")
    }

    /// Returns the index of the node with this server name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        (0..self.nodes.len()).find(|index| Self::name(*index) == name)
    }

    /// Returns node `index`'s client URL, `nats://127.0.0.1:<port>`.
    pub fn url(&self, index: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[index].port)
    }

    /// Kills node `index` (SIGKILL: no lame-duck mode, as in a crash); its store stays.
    pub fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.nodes[index].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Returns the file node `index` logs to.
    pub fn log_path(&self, index: usize) -> PathBuf {
        self.dir
            .path()
            .join(Self::name(index))
            .join("nats-server.log")
    }

    fn wait_ready(&mut self) -> Result<(), TestkitError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        for index in 0..self.nodes.len() {
            let monitor_port = self.nodes[index].monitor_port;
            loop {
                if let Some(child) = self.nodes[index].child.as_mut()
                    && let Ok(Some(status)) = child.try_wait()
                {
                    return Err(self.not_ready(index, format!("exited with {status}")));
                }
                if healthy(monitor_port) {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(self.not_ready(
                        index,
                        format!("JetStream not healthy within {}s", READY_TIMEOUT.as_secs()),
                    ));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    }

    fn not_ready(&self, index: usize, reason: String) -> TestkitError {
        TestkitError::NatsServerNotReady {
            attempts: 1,
            reason: format!("cluster node {}: {reason}", Self::name(index)),
            log_tail: log_tail(&self.log_path(index), LOG_TAIL_LINES),
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for index in 0..self.nodes.len() {
            self.kill(index);
        }
    }
}

/// Returns whether the node's monitoring endpoint reports it and JetStream healthy.
fn healthy(monitor_port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, monitor_port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    // The full check: JetStream enabled, and its meta group has a leader this node follows.
    let request = "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}

fn spawn(binary: &Path, dir: &Path, args: &[&str]) -> Result<Child, TestkitError> {
    let io_error = |action: &str| {
        let action = action.to_owned();
        move |source| TestkitError::Io { action, source }
    };
    std::fs::create_dir_all(dir).map_err(io_error("create a cluster node's dir"))?;
    let log = File::create(dir.join("nats-server.log"))
        .map_err(io_error("create a cluster node's log"))?;
    let log_err = log
        .try_clone()
        .map_err(io_error("open a cluster node's log"))?;
    Command::new(binary)
        .args(args)
        .arg("--store_dir")
        .arg(dir.join("jetstream"))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(io_error(&format!("spawn {}", binary.display())))
}
