//! Telemetry for a service process: `tracing` logs, optional OTLP trace export, Prometheus metrics.
//!
//! - Log filter from `RUST_LOG` (default `info`); JSON lines when `EGOV_LOG_FORMAT=json`.
//! - Traces exported over OTLP/gRPC only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//! - One Prometheus recorder per process; its handle feeds [`crate::http`]'s `/metrics`.

use std::io::IsTerminal as _;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The variable holding the log filter, in `tracing_subscriber::EnvFilter` syntax.
pub const LOG_FILTER_ENV: &str = "RUST_LOG";

/// The variable selecting the log format: `json` for JSON lines, anything else for text.
pub const LOG_FORMAT_ENV: &str = "EGOV_LOG_FORMAT";

/// The variable holding the OTLP/gRPC collector endpoint; unset means no trace export.
pub const OTLP_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The log filter used when `RUST_LOG` is unset.
pub const DEFAULT_LOG_FILTER: &str = "info";

/// The process-wide Prometheus handle: a global recorder can be installed only once.
static PROMETHEUS: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Describes what failed while setting up telemetry.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `RUST_LOG` did not parse as a filter directive.
    #[error("invalid log filter {filter:?} in RUST_LOG")]
    LogFilter {
        /// The filter as given.
        filter: String,
        /// Why it did not parse.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// The OTLP exporter needs a tokio runtime (its tonic channel lives there).
    #[error("OTLP export to {endpoint} needs a tokio runtime: call telemetry::init inside one")]
    NoRuntime {
        /// The configured endpoint.
        endpoint: String,
    },
    /// The OTLP exporter could not be built.
    #[error("OTLP exporter for {endpoint} could not be built")]
    Otlp {
        /// The configured endpoint.
        endpoint: String,
        /// Why the build failed.
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// Another recorder already owns the global `metrics` slot.
    #[error("Prometheus recorder could not be installed: {reason}")]
    MetricsRecorder {
        /// The installer's message.
        reason: String,
    },
}

/// Holds how telemetry should behave; [`TelemetryConfig::from_env`] reads it from the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// The `EnvFilter` directives, e.g. `info,egov_gateway=debug`.
    pub log_filter: String,
    /// Whether log lines are JSON objects rather than text.
    pub json: bool,
    /// The OTLP/gRPC endpoint, if traces are exported.
    pub otlp_endpoint: Option<String>,
}

impl TelemetryConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the configuration through `lookup`, so tests pass a map instead of the process env.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |key: &str| lookup(key).filter(|value| !value.trim().is_empty());
        Self {
            log_filter: non_empty(LOG_FILTER_ENV).unwrap_or_else(|| DEFAULT_LOG_FILTER.to_owned()),
            json: non_empty(LOG_FORMAT_ENV).is_some_and(|v| v.eq_ignore_ascii_case("json")),
            otlp_endpoint: non_empty(OTLP_ENDPOINT_ENV),
        }
    }
}

/// Keeps telemetry alive for the process; dropping it flushes and stops the trace exporter.
#[derive(Debug)]
pub struct TelemetryGuard {
    metrics: PrometheusHandle,
    tracer_provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Returns the Prometheus handle that renders this process's metrics.
    pub fn metrics(&self) -> PrometheusHandle {
        self.metrics.clone()
    }

    /// Returns whether spans are exported over OTLP.
    pub fn exports_traces(&self) -> bool {
        self.tracer_provider.is_some()
    }

    /// Flushes and stops the trace exporter, waiting for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(provider) = self.tracer_provider.take() {
            // shutdown() blocks on the exporter; on a current-thread runtime a direct
            // call would starve the export task and time out after 5 s.
            let result = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(error)) = result {
                tracing::warn!(%error, "trace exporter did not shut down cleanly");
            }
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let Some(provider) = self.tracer_provider.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(move || provider.shutdown());
            }
            Err(_) => {
                let _ = provider.shutdown();
            }
        }
    }
}

/// Sets up telemetry for `service_name` from the process environment.
///
/// Callable more than once per process (tests): later calls keep the first
/// subscriber and recorder, and return a guard with the same metrics handle.
pub fn init(service_name: &str) -> Result<TelemetryGuard, TelemetryError> {
    init_with(service_name, &TelemetryConfig::from_env())
}

/// Sets up telemetry for `service_name` from an explicit configuration.
pub fn init_with(
    service_name: &str,
    config: &TelemetryConfig,
) -> Result<TelemetryGuard, TelemetryError> {
    let filter =
        EnvFilter::try_new(&config.log_filter).map_err(|source| TelemetryError::LogFilter {
            filter: config.log_filter.clone(),
            source,
        })?;
    let metrics = prometheus_handle()?;
    let mut tracer_provider = match &config.otlp_endpoint {
        Some(endpoint) => Some(tracer_provider(service_name, endpoint)?),
        None => None,
    };

    // Logs go to stderr, leaving stdout to the program (e.g. `--dump-config`); colour
    // only on a terminal, since `egov up` sends each service's output to a log file.
    let fmt_layer = if config.json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .boxed()
    };
    let otel_layer = tracer_provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer(service_name.to_owned()))
    });
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .with(otel_layer)
        .try_init();

    match installed {
        Ok(()) => {
            opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
            if let Some(provider) = &tracer_provider {
                opentelemetry::global::set_tracer_provider(provider.clone());
            }
            tracing::debug!(service = service_name, otlp = ?config.otlp_endpoint, "telemetry ready");
        }
        Err(_) => {
            // A subscriber is already set (a second init in one test binary): keep it.
            // A provider built for this call has no subscriber feeding it; the guard
            // would only shut it down, so let the drop below do that now.
            drop(TelemetryGuard {
                metrics: metrics.clone(),
                tracer_provider: tracer_provider.take(),
            });
        }
    }

    Ok(TelemetryGuard {
        metrics,
        tracer_provider,
    })
}

/// Returns the process's Prometheus handle, installing the recorder on first use.
pub fn prometheus_handle() -> Result<PrometheusHandle, TelemetryError> {
    PROMETHEUS
        .get_or_init(|| {
            PrometheusBuilder::new()
                .install_recorder()
                .map_err(|error| error.to_string())
        })
        .clone()
        .map_err(|reason| TelemetryError::MetricsRecorder { reason })
}

/// Builds a batch OTLP/gRPC trace pipeline to `endpoint`; must run inside tokio.
fn tracer_provider(
    service_name: &str,
    endpoint: &str,
) -> Result<SdkTracerProvider, TelemetryError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| TelemetryError::NoRuntime {
        endpoint: endpoint.to_owned(),
    })?;
    // with_tonic() creates its channel lazily on the current runtime.
    let _entered = runtime.enter();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|source| TelemetryError::Otlp {
            endpoint: endpoint.to_owned(),
            source,
        })?;
    let resource = Resource::builder()
        .with_service_name(service_name.to_owned())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> TelemetryConfig {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TelemetryConfig::from_lookup(|key| env.get(key).cloned())
    }

    #[test]
    fn an_empty_environment_means_info_text_logs_and_no_export() {
        assert_eq!(
            config(&[]),
            TelemetryConfig {
                log_filter: "info".into(),
                json: false,
                otlp_endpoint: None,
            }
        );
    }

    #[test]
    fn the_environment_selects_filter_json_and_endpoint() {
        let config = config(&[
            ("RUST_LOG", "debug,hyper=warn"),
            ("EGOV_LOG_FORMAT", "JSON"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
        ]);
        assert_eq!(config.log_filter, "debug,hyper=warn");
        assert!(config.json);
        assert_eq!(
            config.otlp_endpoint.as_deref(),
            Some("http://127.0.0.1:4317")
        );
    }

    #[test]
    fn a_bad_filter_is_refused_with_its_text() {
        let error = init_with("test", &config(&[("RUST_LOG", "info,[=")])).err();
        assert!(
            matches!(error, Some(TelemetryError::LogFilter { ref filter, .. }) if filter == "info,[=")
        );
    }

    #[tokio::test]
    async fn init_twice_reuses_the_recorder_and_builds_the_exporter_in_the_runtime()
    -> Result<(), TelemetryError> {
        let first = init_with("test", &config(&[]))?;
        let second = init_with(
            "test",
            &config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")]),
        )?;
        metrics::counter!("egov_bus_telemetry_test_total").increment(1);
        assert!(
            first
                .metrics()
                .render()
                .contains("egov_bus_telemetry_test_total")
        );
        assert!(
            second
                .metrics()
                .render()
                .contains("egov_bus_telemetry_test_total")
        );
        assert!(!first.exports_traces());
        first.shutdown().await;
        second.shutdown().await;
        Ok(())
    }

    #[test]
    fn otlp_export_outside_a_runtime_is_refused() {
        let error = init_with(
            "test",
            &config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")]),
        )
        .err();
        assert!(matches!(error, Some(TelemetryError::NoRuntime { .. })));
    }
}
