//! What a service's end-to-end tests share around the sandbox: quiet logs, a known start
//! of virtual time, port-0 listeners, plain HTTP/1.1 requests to the service and the
//! attached documents an application carries.

use std::net::SocketAddr;

use egov_proto::v1::AttachedDocument;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The bearer token of the tests' operator (role ADMIN, so also OPERATOR).
pub const OPERATOR_TOKEN: &str = "egov_testkit_operator_0123456789abcdef0123456789abcdef";

/// The bearer token of a test account with the OPERATOR role only.
pub const PLAIN_OPERATOR_TOKEN: &str = "egov_testkit_plain_operator_0123456789abcdef012345";

/// Returns the operators the sandbox and the test stack admit: [`OPERATOR_TOKEN`] as ADMIN,
/// [`PLAIN_OPERATOR_TOKEN`] as OPERATOR.
pub fn operators() -> egov_signin::operator::Operators {
    use egov_signin::operator::{Operators, Role};
    Operators::default()
        .with_token("test-admin", &[Role::Admin], OPERATOR_TOKEN)
        .with_token("test-operator", &[Role::Operator], PLAIN_OPERATOR_TOKEN)
}

/// Returns a gRPC request carrying the test operator's bearer token ([`OPERATOR_TOKEN`]).
pub fn as_operator<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let bearer = format!("Bearer {OPERATOR_TOKEN}");
    request
        .metadata_mut()
        .insert("authorization", bearer.parse().expect("an ASCII token"));
    request
}

/// Writes the operators file (`operators.toml`, digests only) admitting the same tokens as
/// [`operators`] into a service's data directory.
pub fn write_operators_file(data_dir: &std::path::Path) {
    let digest = egov_signin::secret::digest;
    let text = format!(
        "[[token]]\nlogin = \"test-admin\"\nroles = [\"admin\"]\nsha256 = \"{}\"\n\n\
         [[token]]\nlogin = \"test-operator\"\nroles = [\"operator\"]\nsha256 = \"{}\"\n",
        digest(OPERATOR_TOKEN),
        digest(PLAIN_OPERATOR_TOKEN)
    );
    std::fs::create_dir_all(data_dir).expect("data dir");
    std::fs::write(data_dir.join(egov_signin::operator::OPERATORS_FILE), text)
        .expect("operators file");
}

/// Installs logs at `filter` (e.g. `"error"`) once per test process, named `name`:
/// a service's serve() reuses the first subscriber of the process.
pub fn quiet_logs(name: &str, filter: &str) {
    let quiet = egov_bus::telemetry::TelemetryConfig {
        log_filter: filter.into(),
        json: false,
        otlp_endpoint: None,
    };
    egov_bus::telemetry::init_with(name, &quiet).expect("telemetry");
}

/// Returns 09:00 in Astana on the first Monday after today: the sandbox's certificates are
/// valid around the real today, so virtual time starts near it, at a known working hour.
pub fn next_monday_morning() -> OffsetDateTime {
    let mut day = OffsetDateTime::now_utc().date();
    loop {
        day = day.next_day().expect("a next day");
        if day.weekday() == time::Weekday::Monday {
            return day.with_hms(4, 0, 0).expect("04:00").assume_utc();
        }
    }
}

/// Binds a service's two listeners, gRPC then HTTP, on loopback port 0.
pub async fn loopback_listeners() -> (TcpListener, TcpListener) {
    let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind gRPC");
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind HTTP");
    (grpc, http)
}

/// Sends one HTTP/1.1 request with a JSON `body` to `addr` (as `Host: host`) and returns the
/// status and the body of the answer.
pub async fn http_request(
    addr: SocketAddr,
    host: &str,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    http_request_as(addr, host, method, path, body, None).await
}

/// Sends one HTTP/1.1 request like [`http_request`] as an operator: with the test operator's
/// bearer token ([`OPERATOR_TOKEN`], role ADMIN, which the sandbox and test stack admit).
pub async fn operator_request(
    addr: SocketAddr,
    host: &str,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    http_request_as(addr, host, method, path, body, Some(OPERATOR_TOKEN)).await
}

/// Sends one HTTP/1.1 request like [`http_request`], with `Authorization: Bearer <token>`
/// when a token is given.
pub async fn http_request_as(
    addr: SocketAddr,
    host: &str,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect HTTP");
    let authorization = token.map_or(String::new(), |token| {
        format!("Authorization: Bearer {token}\r\n")
    });
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         {authorization}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8(response).expect("UTF-8 answer");
    let (head, body) = response.split_once("\r\n\r\n").expect("end of headers");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status code");
    (status, body.to_owned())
}

/// Returns an attached item-9 document of a kind.
pub fn document(kind: &str) -> AttachedDocument {
    AttachedDocument {
        kind: kind.into(),
        file_name: format!("{kind}.pdf"),
        content_type: "application/pdf".into(),
        ..AttachedDocument::default()
    }
}
