//! Telemetry for a service process: `tracing` logs, optional OTLP trace export, Prometheus metrics.
//!
//! - Log filter from `RUST_LOG` (default `info`); JSON lines when `EGOV_LOG_FORMAT=json`.
//! - Every log line written inside a traced span carries its `trace_id` and `span_id`
//!   (JSON fields, or a ` trace_id=… span_id=…` suffix on a text line), see [`TraceIds`].
//! - Spans at `info` and above always get W3C trace ids, so trace context travels and log
//!   lines name their trace; they are exported over OTLP/gRPC only when
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//! - One Prometheus recorder per process; its handle feeds [`crate::http`]'s `/metrics`.

use std::io::IsTerminal as _;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::{SpanId, TraceContextExt as _, TraceId, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::{Format, Json, JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
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
    let exporting = match &config.otlp_endpoint {
        Some(endpoint) => Some(tracer_provider(service_name, endpoint)?),
        None => None,
    };
    // Without an exporter spans still get trace ids: they travel to the next service and
    // name the trace in log lines; a provider without processors drops them when they end.
    let ids_only = exporting.is_none().then(|| {
        SdkTracerProvider::builder()
            .with_resource(resource(service_name))
            .build()
    });
    let mut tracer_provider = exporting;

    // Logs go to stderr, leaving stdout to the program (e.g. `--dump-config`); colour
    // only on a terminal, since `egov up` sends each service's output to a log file.
    let fmt_layer = log_layer(
        config.json,
        std::io::stderr().is_terminal(),
        std::io::stderr,
    )
    .with_filter(filter);
    let tracer = tracer_provider
        .as_ref()
        .or(ids_only.as_ref())
        .map(|provider| provider.tracer(service_name.to_owned()));
    // Traced at `info` whatever RUST_LOG keeps of the log lines: a quiet log still traces.
    let otel_layer = tracer.map(|tracer| {
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(LevelFilter::INFO)
    });
    let installed = tracing_subscriber::registry()
        .with(fmt_layer)
        .with(otel_layer)
        .try_init();

    match installed {
        Ok(()) => {
            opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
            if let Some(provider) = tracer_provider.as_ref().or(ids_only.as_ref()) {
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
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource(service_name))
        .build())
}

/// Names the service whose spans a provider makes.
fn resource(service_name: &str) -> Resource {
    Resource::builder()
        .with_service_name(service_name.to_owned())
        .build()
}

/// Returns the log layer writing to `writer`: JSON lines or text (coloured when `ansi`),
/// each line inside a traced span carrying its trace and span ids.
pub fn log_layer<S, W>(json: bool, ansi: bool, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let dispatch = RememberDispatch::default();
    if json {
        tracing_subscriber::fmt::layer()
            .fmt_fields(JsonFields::new())
            .event_format(TraceIds::json(&dispatch))
            .with_writer(writer)
            .and_then(dispatch)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .event_format(TraceIds::text(ansi, &dispatch))
            .with_ansi(ansi)
            .with_writer(writer)
            .and_then(dispatch)
            .boxed()
    }
}

/// Keeps the subscriber a log layer is part of: a formatter runs inside the dispatch,
/// where `tracing::dispatcher::get_default` answers no subscriber, and OpenTelemetry's
/// span context is read through it.
#[derive(Debug, Clone, Default)]
struct RememberDispatch(std::sync::Arc<OnceLock<tracing::dispatcher::WeakDispatch>>);

impl RememberDispatch {
    fn get(&self) -> Option<tracing::Dispatch> {
        self.0
            .get()
            .and_then(tracing::dispatcher::WeakDispatch::upgrade)
    }
}

impl<S: Subscriber> Layer<S> for RememberDispatch {
    fn on_register_dispatch(&self, subscriber: &tracing::Dispatch) {
        let _ = self.0.set(subscriber.downgrade());
    }
}

/// Formats a log line as `tracing_subscriber`'s JSON or text format does, adding the
/// trace and span ids of the innermost enclosing span that has an OpenTelemetry context,
/// so an operator goes from a log line to its trace.
#[derive(Debug)]
pub struct TraceIds<F> {
    inner: F,
    json: bool,
    dispatch: RememberDispatch,
}

impl TraceIds<Format<Json>> {
    /// JSON lines, each with `trace_id` and `span_id` fields when traced.
    fn json(dispatch: &RememberDispatch) -> Self {
        TraceIds {
            inner: tracing_subscriber::fmt::format().json(),
            json: true,
            dispatch: dispatch.clone(),
        }
    }
}

impl TraceIds<Format> {
    /// Text lines, each ending in ` trace_id=… span_id=…` when traced.
    fn text(ansi: bool, dispatch: &RememberDispatch) -> Self {
        TraceIds {
            // The line is formatted into a buffer first, whose writer knows no colour.
            #[allow(deprecated)]
            inner: tracing_subscriber::fmt::format().with_ansi(ansi),
            json: false,
            dispatch: dispatch.clone(),
        }
    }
}

impl<S, N, F> FormatEvent<S, N> for TraceIds<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let Some((trace_id, span_id)) = self.dispatch.get().and_then(|d| trace_ids(ctx, &d)) else {
            return self.inner.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        let body = line.trim_end_matches('\n');
        if self.json {
            // The JSON format writes one object per line; the ids go in before its close.
            let Some(object) = body.strip_suffix('}') else {
                return writer.write_str(&line);
            };
            writeln!(
                writer,
                "{object},\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\"}}"
            )
        } else {
            writeln!(writer, "{body} trace_id={trace_id} span_id={span_id}")
        }
    }
}

/// Returns the ids of the innermost span around the event that has a valid OpenTelemetry
/// context (spans below `info` have none, and lend their parent's).
fn trace_ids<S, N>(
    ctx: &FmtContext<'_, S, N>,
    dispatch: &tracing::Dispatch,
) -> Option<(TraceId, SpanId)>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    ctx.event_scope()?.find_map(|span| {
        let cx = tracing_opentelemetry::get_otel_context(&span.id(), dispatch)?;
        let otel_span = cx.span();
        let ids = otel_span.span_context();
        ids.is_valid().then(|| (ids.trace_id(), ids.span_id()))
    })
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

    /// A log destination the test reads back.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Captured {
        type Writer = Captured;

        fn make_writer(&'w self) -> Captured {
            self.clone()
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<String> {
            let bytes = self.0.lock().expect("log buffer").clone();
            String::from_utf8(bytes)
                .expect("utf-8 log")
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    /// Logs one line inside a traced span and one outside any, with the layers `init`
    /// installs; returns the lines and the span's ids as hex.
    fn log_in_a_span(json: bool) -> (Vec<String>, String, String) {
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let provider = SdkTracerProvider::builder().build();
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(log_layer(json, false, captured.clone()))
            .with(
                tracing_opentelemetry::layer()
                    .with_tracer(provider.tracer("test"))
                    .with_filter(LevelFilter::INFO),
            );
        let (trace_id, span_id) = tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("handling");
            let ids = span.context().span().span_context().clone();
            span.in_scope(|| {
                let inner = tracing::debug_span!("below info");
                inner.in_scope(|| tracing::info!(message_id = "m-1", "answered"));
            });
            tracing::info!("outside any span");
            (ids.trace_id().to_string(), ids.span_id().to_string())
        });
        (captured.lines(), trace_id, span_id)
    }

    #[test]
    fn a_json_line_inside_a_traced_span_carries_its_trace_and_span_ids() {
        let (lines, trace_id, span_id) = log_in_a_span(true);
        let [traced, untraced] = lines.as_slice() else {
            panic!("two lines expected: {lines:?}");
        };
        let traced: serde_json::Value = serde_json::from_str(traced).expect("JSON line");
        assert_eq!(traced["trace_id"], trace_id.as_str());
        assert_eq!(traced["span_id"], span_id.as_str());
        assert_eq!(traced["fields"]["message"], "answered");
        assert_eq!(traced["fields"]["message_id"], "m-1");
        let untraced: serde_json::Value = serde_json::from_str(untraced).expect("JSON line");
        assert!(untraced.get("trace_id").is_none(), "{untraced}");
    }

    #[test]
    fn a_text_line_inside_a_traced_span_ends_with_its_trace_and_span_ids() {
        let (lines, trace_id, span_id) = log_in_a_span(false);
        let [traced, untraced] = lines.as_slice() else {
            panic!("two lines expected: {lines:?}");
        };
        assert!(traced.contains("answered message_id=\"m-1\""), "{traced}");
        assert!(
            traced.ends_with(&format!(" trace_id={trace_id} span_id={span_id}")),
            "{traced}"
        );
        assert!(!untraced.contains("trace_id="), "{untraced}");
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
