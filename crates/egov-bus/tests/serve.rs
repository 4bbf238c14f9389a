//! Serves health, reflection and the ops HTTP routes the way a service does, and probes them.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use egov_bus::grpc::GrpcRoutes;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tower::ServiceExt as _;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const BODY_LIMIT: usize = 1 << 20;

/// A stand-in for a generated tonic server: answers every call UNIMPLEMENTED.
#[derive(Clone)]
struct Dummy;

impl tonic::server::NamedService for Dummy {
    const NAME: &'static str = "egov.test.Dummy";
}

impl tower::Service<axum::http::Request<tonic::body::Body>> for Dummy {
    type Response = axum::http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: axum::http::Request<tonic::body::Body>) -> Self::Future {
        std::future::ready(Ok(tonic::Status::unimplemented("dummy").into_http()))
    }
}

#[tokio::test]
async fn grpc_health_reports_the_server_and_its_services_serving() -> TestResult {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let routes = GrpcRoutes::new().add_service(Dummy);
    assert_eq!(routes.service_names(), ["egov.test.Dummy"]);

    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(egov_bus::grpc::serve(listener, routes, async {
        let _ = stopped.await;
    }));

    let channel = Endpoint::from_shared(url)?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await?;
    let mut client = HealthClient::new(channel);
    for service in ["", "egov.test.Dummy"] {
        let response = client
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await?;
        assert_eq!(
            response.into_inner().status(),
            ServingStatus::Serving,
            "{service:?}"
        );
    }
    let unknown = client
        .check(HealthCheckRequest {
            service: "egov.v1.Nothing".into(),
        })
        .await;
    assert_eq!(unknown.err().map(|s| s.code()), Some(tonic::Code::NotFound));

    let _ = stop.send(());
    server.await??;
    Ok(())
}

#[tokio::test]
async fn a_service_added_twice_is_refused_before_serving() -> TestResult {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let routes = GrpcRoutes::new().add_service(Dummy).add_service(Dummy);
    let result = egov_bus::grpc::serve(listener, routes, std::future::pending()).await;
    assert!(matches!(
        result,
        Err(egov_bus::BusError::DuplicateService {
            name: "egov.test.Dummy"
        })
    ));

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let (_, health) = tonic_health::server::health_reporter();
    let routes = GrpcRoutes::new().add_service(health);
    let result = egov_bus::grpc::serve(listener, routes, std::future::pending()).await;
    assert!(matches!(
        result,
        Err(egov_bus::BusError::DuplicateService { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn reflection_lists_only_the_served_services() -> TestResult {
    let names = list_services(GrpcRoutes::new().add_service(Dummy)).await?;
    assert_eq!(
        names,
        [
            "egov.test.Dummy",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ]
    );
    Ok(())
}

#[tokio::test]
async fn reflection_over_unnamed_routes_lists_every_contract() -> TestResult {
    let names = list_services(tonic::service::Routes::default().into()).await?;
    assert!(
        names.iter().any(|n| n == "grpc.health.v1.Health"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.starts_with("egov.v1.")), "{names:?}");
    Ok(())
}

/// Serves `routes` and returns the sorted service names reflection lists.
async fn list_services(routes: GrpcRoutes) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(egov_bus::grpc::serve(listener, routes, async {
        let _ = stopped.await;
    }));

    let channel = Endpoint::from_shared(url)?.connect().await?;
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::once(request))
        .await?
        .into_inner();
    let answer = answers.message().await?.and_then(|a| a.message_response);
    let Some(MessageResponse::ListServicesResponse(list)) = answer else {
        return Err(format!("unexpected reflection answer {answer:?}").into());
    };
    let mut names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();

    let _ = stop.send(());
    server.await??;
    Ok(names)
}

#[tokio::test]
async fn health_endpoint_answers_ok_with_the_service_name() -> TestResult {
    let guard = egov_bus::telemetry::init("egov-test")?;
    let app = egov_bus::http::router("egov-test", guard.metrics(), axum::Router::new());

    let response = app
        .oneshot(Request::get("/health").body(Body::empty())?)
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), BODY_LIMIT).await?;
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    assert_eq!(
        json,
        serde_json::json!({ "status": "ok", "service": "egov-test" })
    );
    Ok(())
}

#[tokio::test]
async fn metrics_endpoint_renders_prometheus_text() -> TestResult {
    let guard = egov_bus::telemetry::init("egov-test")?;
    metrics::counter!("egov_bus_http_test_requests_total").increment(3);
    let app = egov_bus::http::router("egov-test", guard.metrics(), axum::Router::new());

    let response = app
        .oneshot(Request::get("/metrics").body(Body::empty())?)
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(
        content_type.as_deref(),
        Some(egov_bus::http::PROMETHEUS_CONTENT_TYPE)
    );
    let body = axum::body::to_bytes(response.into_body(), BODY_LIMIT).await?;
    let text = String::from_utf8(body.to_vec())?;
    assert!(
        text.contains("egov_bus_http_test_requests_total 3"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn service_routes_are_kept_next_to_the_ops_routes() -> TestResult {
    let guard = egov_bus::telemetry::init("egov-test")?;
    let own = axum::Router::new().route("/hello", axum::routing::get(|| async { "hi" }));
    let app = egov_bus::http::router("egov-test", guard.metrics(), own);

    let response = app
        .clone()
        .oneshot(Request::get("/hello").body(Body::empty())?)
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let missing = app
        .oneshot(Request::get("/nope").body(Body::empty())?)
        .await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    Ok(())
}

#[tokio::test]
async fn the_http_server_stops_when_shutdown_resolves() -> TestResult {
    let guard = egov_bus::telemetry::init("egov-test")?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let app = egov_bus::http::router("egov-test", guard.metrics(), axum::Router::new());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(egov_bus::http::serve_http(listener, app, async {
        let _ = stopped.await;
    }));
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(5), server).await???;
    Ok(())
}
