//! Serves a service's tonic routes together with grpc.health.v1 and gRPC reflection.
//!
//! ```no_run
//! # async fn run(listener: tokio::net::TcpListener) -> Result<(), egov_bus::BusError> {
//! # let my_service = tonic_health::server::health_reporter().1;
//! let routes = egov_bus::grpc::GrpcRoutes::new().add_service(my_service);
//! egov_bus::grpc::serve(listener, routes, egov_bus::shutdown::shutdown_signal()).await
//! # }
//! ```

use std::convert::Infallible;
use std::future::Future;

use tokio::net::TcpListener;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::BusError;

/// The fully qualified name of the gRPC health service.
pub const HEALTH_SERVICE_NAME: &str = "grpc.health.v1.Health";

/// The reflection services' names, advertised next to the served ones.
const REFLECTION_SERVICE_NAMES: [&str; 2] = [
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// The overall server health entry of grpc.health.v1 (the empty service name).
pub const OVERALL_HEALTH: &str = "";

/// Holds a service's tonic routes and the names of the services they serve.
///
/// The names are kept because [`Routes`] forgets them, and both the health
/// service (SERVING per name) and reflection (which names to advertise) need them.
#[derive(Debug, Clone)]
pub struct GrpcRoutes {
    routes: Routes,
    names: Vec<&'static str>,
    health: HealthReporter,
    /// A name added twice, or one [`serve`] adds itself; kept to fail in `serve`
    /// with a Result, where axum would panic on the overlapping route.
    duplicate: Option<&'static str>,
    /// The system serving these routes, named on each call's server span.
    system: Option<String>,
}

impl GrpcRoutes {
    /// Creates an empty set of routes with its own health reporter.
    pub fn new() -> Self {
        Self {
            routes: Routes::default(),
            names: Vec::new(),
            health: HealthReporter::new(),
            duplicate: None,
            system: None,
        }
    }

    /// Adds a generated tonic server and remembers its service name.
    ///
    /// A name added twice (or health / reflection, which [`serve`] adds) is not
    /// routed; [`serve`] then refuses to start.
    pub fn add_service<S>(mut self, svc: S) -> Self
    where
        S: tower::Service<http::Request<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: axum::response::IntoResponse,
        S::Future: Send + 'static,
    {
        let reserved =
            S::NAME == HEALTH_SERVICE_NAME || REFLECTION_SERVICE_NAMES.contains(&S::NAME);
        if reserved || self.names.contains(&S::NAME) {
            self.duplicate.get_or_insert(S::NAME);
            return self;
        }
        self.routes = self.routes.add_service(svc);
        self.names.push(S::NAME);
        self
    }

    /// Names the system serving these routes (e.g. `labor`): every call's server span
    /// carries it as `egov.service`, so one trace tells its services apart.
    pub fn system(mut self, name: impl Into<String>) -> Self {
        self.system = Some(name.into());
        self
    }

    /// Returns the fully qualified names of the services added so far.
    pub fn service_names(&self) -> &[&'static str] {
        &self.names
    }

    /// Returns the health reporter, so a service can flip itself NOT_SERVING (e.g. NATS lost).
    pub fn health_reporter(&self) -> HealthReporter {
        self.health.clone()
    }
}

impl Default for GrpcRoutes {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Routes> for GrpcRoutes {
    /// Wraps prebuilt routes; only the overall health entry is reported, and
    /// reflection advertises every contract since the names are unknown.
    fn from(routes: Routes) -> Self {
        Self {
            routes,
            names: Vec::new(),
            health: HealthReporter::new(),
            duplicate: None,
            system: None,
        }
    }
}

/// Serves `routes` plus health and reflection on `listener` until `shutdown` resolves.
///
/// Health and reflection are added here; adding either to `routes` as well, or
/// any service twice, fails with [`BusError::DuplicateService`].
///
/// Every added service, and the overall entry, is SERVING while the server runs and
/// NOT_SERVING once `shutdown` resolves, so probes see the drain before the socket closes.
pub async fn serve<F>(
    listener: TcpListener,
    routes: impl Into<GrpcRoutes>,
    shutdown: F,
) -> Result<(), BusError>
where
    F: Future<Output = ()> + Send,
{
    let GrpcRoutes {
        routes,
        names,
        health,
        duplicate,
        system,
    } = routes.into();
    if let Some(name) = duplicate {
        return Err(BusError::DuplicateService { name });
    }

    let reflection_v1 = reflection_builder(&names).build_v1()?;
    let reflection_v1alpha = reflection_builder(&names).build_v1alpha()?;
    let health_service = tonic_health::pb::health_server::HealthServer::new(
        tonic_health::server::HealthService::from_health_reporter(health.clone()),
    );

    set_all(&health, &names, ServingStatus::Serving).await;

    let routes = routes
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);

    let drained = async {
        shutdown.await;
        set_all(&health, &names, ServingStatus::NotServing).await;
    };

    // Unnamed routes are told apart by their first contract (e.g. `egov.v1.Gateway`).
    let system = system
        .or_else(|| names.first().map(|name| (*name).to_owned()))
        .unwrap_or_else(|| "grpc".to_owned());
    tracing::info!(addr = ?listener.local_addr().ok(), services = ?names, "gRPC server listening");
    Server::builder()
        // Each call runs in a server span continuing the caller's `traceparent`.
        .trace_fn(move |request| crate::trace_context::grpc_server_span(&system, request))
        .add_routes(routes)
        // Without TCP_NODELAY small gRPC frames wait on delayed ACKs (a 40 ms p99 stall).
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            drained,
        )
        .await?;
    Ok(())
}

/// Returns a reflection builder over egov's contracts and grpc.health.v1.
fn reflection_builder(names: &[&'static str]) -> tonic_reflection::server::Builder<'static> {
    let mut builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(egov_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET);
    // Advertise only what this server answers: egov_proto holds every system's
    // contract, and listing foreign ones would send grpcurl users astray.
    if !names.is_empty() {
        let extra = std::iter::once(HEALTH_SERVICE_NAME).chain(REFLECTION_SERVICE_NAMES);
        for name in names.iter().copied().chain(extra) {
            builder = builder.with_service_name(name);
        }
    }
    builder
}

/// Sets the overall entry and every named service to `status`.
async fn set_all(health: &HealthReporter, names: &[&'static str], status: ServingStatus) {
    health.set_service_status(OVERALL_HEALTH, status).await;
    for name in names {
        health.set_service_status(name, status).await;
    }
}
