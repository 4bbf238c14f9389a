//! `egov status`: probes nats-server and each service, prints a table, and fails if any is down.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;

use crate::health::{self, Health};
use crate::stack::{self, NATS_NAME, SERVICES};
use crate::state;

/// How long each probe waits for an answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Runs `egov status` for the stack recorded in `data_dir`, or the default ports if none is.
pub async fn run(data_dir: &Path) -> anyhow::Result<ExitCode> {
    // The state file names what `egov up` actually started; without one, every row
    // of the stack table is expected on its default ports.
    let state = state::read(data_dir)?;
    let nats_addr = state
        .as_ref()
        .map_or_else(stack::nats_addr, |s| s.nats.addr);
    let services: Vec<(String, SocketAddr, SocketAddr)> = match &state {
        Some(state) => state
            .services
            .iter()
            .map(|s| (s.name.clone(), s.grpc, s.http))
            .collect(),
        None => SERVICES
            .iter()
            .map(|s| (s.name.to_owned(), s.grpc_addr(), s.http_addr()))
            .collect(),
    };

    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_header(["SERVICE", "STATUS", "gRPC", "HTTP"]);
    let mut all_serving = true;

    let nats = health::tcp(nats_addr, PROBE_TIMEOUT).await;
    all_serving &= nats.is_serving();
    let nats_status = if nats.is_serving() { "UP" } else { "DOWN" };
    table.add_row([
        NATS_NAME.to_owned(),
        nats_status.to_owned(),
        stack::nats_url(nats_addr),
        "-".to_owned(),
    ]);

    for (name, grpc, http) in services {
        let health: Health = health::grpc(grpc, PROBE_TIMEOUT).await;
        all_serving &= health.is_serving();
        table.add_row([
            name,
            health.to_string(),
            grpc.to_string(),
            format!("http://{http}"),
        ]);
    }
    println!("{table}");

    Ok(if all_serving {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
