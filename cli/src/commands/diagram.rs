//! `egov diagram <correlation-id>`: asks the gateway's message log for one
//! exchange and prints it as a Mermaid sequence diagram, the shape of the
//! regulations' interaction diagrams.

use std::process::ExitCode;
/// Prints the diagram of `correlation_id` from the gateway at `gateway`, asked as the
/// operator whose bearer `token` it is (the log needs the OPERATOR role).
pub async fn run(gateway: &str, correlation_id: &str, token: &str) -> anyhow::Result<ExitCode> {
    let log = egov_scenario::LiveLog::new(gateway, token)?;
    match log.diagram(correlation_id).await {
        Ok(mermaid) => {
            println!("{mermaid}");
            Ok(ExitCode::SUCCESS)
        }
        Err(egov_scenario::LiveLogError::Refused { message, .. }) => {
            eprintln!("error: {message}");
            Ok(ExitCode::FAILURE)
        }
        Err(err) => Err(err.into()),
    }
}
