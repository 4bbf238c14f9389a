//! What a service's end-to-end tests share around the sandbox: quiet logs, a known start
//! of virtual time, port-0 listeners, plain HTTP/1.1 requests to the service and the
//! attached documents an application carries.

use std::net::SocketAddr;

use egov_proto::v1::AttachedDocument;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
    let mut stream = TcpStream::connect(addr).await.expect("connect HTTP");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
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
