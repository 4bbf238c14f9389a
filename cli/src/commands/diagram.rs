//! `egov diagram <correlation-id>`: asks the gateway's message log for one
//! exchange and prints it as a Mermaid sequence diagram, the shape of the
//! regulations' interaction diagrams.

use std::process::ExitCode;

use anyhow::Context as _;
use egov_proto::v1::GetDiagramRequest;
use egov_proto::v1::gateway_log_client::GatewayLogClient;

/// Prints the diagram of `correlation_id` from the gateway at `gateway`, asked as the
/// operator whose bearer `token` it is (the log needs the OPERATOR role).
pub async fn run(gateway: &str, correlation_id: &str, token: &str) -> anyhow::Result<ExitCode> {
    let channel = tonic::transport::Endpoint::from_shared(gateway.to_owned())
        .with_context(|| format!("{gateway:?} is not a gateway URL"))?
        .connect()
        .await
        .with_context(|| format!("cannot reach the gateway at {gateway}"))?;
    let mut request = tonic::Request::new(GetDiagramRequest {
        correlation_id: correlation_id.to_owned(),
    });
    let bearer = format!("Bearer {token}")
        .parse()
        .context("the operator token is not ASCII")?;
    request.metadata_mut().insert("authorization", bearer);
    let answer = GatewayLogClient::new(channel).get_diagram(request).await;
    match answer {
        Ok(diagram) => {
            println!("{}", diagram.into_inner().mermaid);
            Ok(ExitCode::SUCCESS)
        }
        Err(status) => {
            eprintln!("error: {}", status.message());
            Ok(ExitCode::FAILURE)
        }
    }
}
