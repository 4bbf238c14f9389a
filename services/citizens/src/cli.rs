//! The citizens-DB's command line: serving (with `--regenerate`), `--dump-config`, and
//! `generate`, which loads a population and times the load and the look-ups.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use egov_citizens::{Config, Registry, Store, load};
use tokio::net::TcpListener;

/// The citizens-DB: persons, families and legal entities by IIN / BIN.
#[derive(Debug, Parser)]
#[command(name = "egov-citizens", version, about)]
pub struct Args {
    /// TOML config file; `EGOV_CITIZENS__<KEY>` env vars and the flags below override it.
    #[arg(long, env = "EGOV_CITIZENS_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Address of the gRPC server (MessageReceiver, Citizens, health, reflection).
    #[arg(long)]
    grpc_listen: Option<SocketAddr>,
    /// Address of the HTTP server (/health, /metrics).
    #[arg(long)]
    http_listen: Option<SocketAddr>,
    /// Directory of the database.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// NATS server URL (the gateway's async channel).
    #[arg(long)]
    nats_url: Option<String>,
    /// gRPC endpoint of the certification centre.
    #[arg(long)]
    pki_endpoint: Option<String>,
    /// Replaces the stored population with a freshly generated one before serving.
    #[arg(long)]
    regenerate: bool,
    /// Prints the merged config as TOML and exits.
    #[arg(long)]
    dump_config: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generates a population into the database (replacing what it holds), prints the load
    /// time and rows per second, then times look-ups by IIN.
    Generate {
        /// Number of generated persons.
        #[arg(long)]
        population: Option<usize>,
        /// Seed of the population.
        #[arg(long)]
        seed: Option<String>,
        /// Database URL, e.g. `sqlite:///tmp/citizens.db?mode=rwc` or
        /// `postgres://user:password@host/citizens`.
        #[arg(long)]
        database_url: Option<String>,
        /// Number of timed look-ups by IIN after the load (0 skips them).
        #[arg(long, default_value_t = 10_000)]
        lookups: u32,
    },
}

/// Runs the command line: serves, or generates with `generate`.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let (generate, lookups) = match &args.command {
        Some(Command::Generate {
            population,
            seed,
            database_url,
            lookups,
        }) => (
            vec![
                ("population", population.map(|p| p.to_string())),
                ("seed", seed.clone()),
                ("database_url", database_url.clone()),
            ],
            *lookups,
        ),
        None => (Vec::new(), 0),
    };
    let overrides: Vec<(String, String)> = [
        ("grpc_listen", args.grpc_listen.map(|a| a.to_string())),
        ("http_listen", args.http_listen.map(|a| a.to_string())),
        ("data_dir", args.data_dir.map(|d| d.display().to_string())),
        ("nats_url", args.nats_url),
        ("pki_endpoint", args.pki_endpoint),
    ]
    .into_iter()
    .chain(generate)
    .filter_map(|(key, value)| Some((key.to_owned(), value?)))
    .collect();
    let config = Config::load(args.config.as_deref(), std::env::vars(), &overrides)?;
    if args.dump_config {
        print!("{}", egov_core::config::dump(&config)?);
        return Ok(());
    }
    let telemetry = egov_bus::telemetry::init(egov_citizens::config::SERVICE)?;
    if args.command.is_some() {
        return generate_and_time(&config, lookups).await;
    }
    if args.regenerate {
        egov_citizens::load::prepare(&config, true).await?;
    }
    let grpc = TcpListener::bind(config.grpc_listen)
        .await
        .context("binding grpc_listen")?;
    let http = TcpListener::bind(config.http_listen)
        .await
        .context("binding http_listen")?;
    egov_citizens::run(config, grpc, http, egov_bus::shutdown::shutdown_signal()).await?;
    telemetry.shutdown().await;
    Ok(())
}

/// Runs `generate`: the load, its timing, then `lookups` timed look-ups by IIN.
async fn generate_and_time(config: &Config, lookups: u32) -> anyhow::Result<()> {
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).context("creating data_dir")?;
    }
    let url = config.database_url();
    let report = load::generate(&url, &config.seed, config.population).await?;
    let secs = report.total.as_secs_f64();
    println!(
        "generated and loaded {} persons, {} documents, {} family links, {} legal entities \
         into {} in {secs:.2} s (inserts {:.2} s, indexes {:.2} s): {:.0} persons/s, {:.0} rows/s",
        report.persons,
        report.documents,
        report.links,
        report.legal_entities,
        egov_store::redact(&url),
        report.insert.as_secs_f64(),
        report.index.as_secs_f64(),
        report.persons_per_second(),
        report.rows_per_second(),
    );
    if lookups > 0 {
        let registry = Registry::new(Store::open(&url).await?);
        let latency = registry.time_person_lookups(lookups).await?;
        println!("{latency}");
        registry.store().close().await;
    }
    Ok(())
}
