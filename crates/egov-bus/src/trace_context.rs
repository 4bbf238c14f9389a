//! W3C trace context (`traceparent`, `tracestate`) in tonic metadata and NATS headers.
//!
//! The propagator is used directly rather than through the global one, so
//! propagation works even when telemetry was never initialised (tests, tools).

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tonic::metadata::{KeyRef, MetadataKey, MetadataMap, MetadataValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Returns the OpenTelemetry context of the current `tracing` span.
pub fn current_context() -> Context {
    tracing::Span::current().context()
}

/// Writes `cx`'s trace context into gRPC request or response metadata.
pub fn inject_metadata(cx: &Context, metadata: &mut MetadataMap) {
    TraceContextPropagator::new().inject_context(cx, &mut MetadataInjector(metadata));
}

/// Reads the trace context from gRPC metadata; an absent or malformed one yields an empty context.
pub fn extract_metadata(metadata: &MetadataMap) -> Context {
    TraceContextPropagator::new().extract(&MetadataExtractor(metadata))
}

/// Writes `cx`'s trace context into NATS message headers.
pub fn inject_headers(cx: &Context, headers: &mut async_nats::HeaderMap) {
    TraceContextPropagator::new().inject_context(cx, &mut HeaderInjector(headers));
}

/// Reads the trace context from NATS headers; an absent or malformed one yields an empty context.
pub fn extract_headers(headers: &async_nats::HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&HeaderExtractor(headers))
}

/// Sets the current span's context on an outgoing request; use as a tonic client interceptor.
///
/// ```no_run
/// # fn demo(channel: tonic::transport::Channel) {
/// use tonic_health::pb::health_client::HealthClient;
/// let client = HealthClient::with_interceptor(channel, egov_bus::trace_context::propagate);
/// # }
/// ```
pub fn propagate(mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    inject_metadata(&current_context(), request.metadata_mut());
    Ok(request)
}

/// Reads the trace context from an HTTP request's headers (gRPC metadata travels in them).
pub fn extract_http(headers: &http::HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&HttpExtractor(headers))
}

/// Returns NATS headers holding the current span's trace context, for a publish.
pub fn current_headers() -> async_nats::HeaderMap {
    let mut headers = async_nats::HeaderMap::new();
    inject_headers(&current_context(), &mut headers);
    headers
}

/// Returns the current span's `traceparent` header value, or `""` when no span is traced;
/// for a store that keeps it beside work done later (an outbox row).
pub fn current_traceparent() -> String {
    let mut carrier = std::collections::HashMap::new();
    TraceContextPropagator::new().inject_context(&current_context(), &mut carrier);
    carrier
        .remove(crate::subjects::TRACEPARENT_HEADER)
        .unwrap_or_default()
}

/// Reads a stored `traceparent` value; an empty or malformed one yields an empty context.
pub fn from_traceparent(traceparent: &str) -> Context {
    let carrier = std::collections::HashMap::from([(
        crate::subjects::TRACEPARENT_HEADER.to_owned(),
        traceparent.to_owned(),
    )]);
    TraceContextPropagator::new().extract(&carrier)
}

/// Makes `span` a child of `parent` when `parent` carries a valid remote span; an
/// empty context leaves it a root, so a message without `traceparent` starts a trace.
pub fn adopt(span: &tracing::Span, parent: Context) {
    use opentelemetry::trace::TraceContextExt as _;
    if parent.span().span_context().is_valid() {
        // Fails only when the span already started, which a fresh span has not.
        let _ = span.set_parent(parent);
    }
}

/// Opens the server span of one gRPC call to `service` (the system serving it, e.g.
/// `labor`), a child of the caller's `traceparent` when the request carries one.
pub fn grpc_server_span(service: &str, request: &http::Request<()>) -> tracing::Span {
    let path = request.uri().path();
    let (rpc_service, rpc_method) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path, ""));
    let span = tracing::info_span!(
        "grpc.server",
        otel.name = %path,
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.service = %rpc_service,
        rpc.method = %rpc_method,
        egov.service = %service,
    );
    adopt(&span, extract_http(request.headers()));
    span
}

/// Opens the span of a NATS message taken in by `service` (`operation`: e.g.
/// `deliver`, `inbox`), a child of the publisher's `traceparent` when it has one.
pub fn nats_consumer_span(
    service: &str,
    operation: &'static str,
    subject: &str,
    headers: Option<&async_nats::HeaderMap>,
) -> tracing::Span {
    let span = tracing::info_span!(
        "nats.consume",
        otel.name = %format_args!("{operation} {subject}"),
        otel.kind = "consumer",
        messaging.system = "nats",
        messaging.destination.name = %subject,
        egov.service = %service,
    );
    if let Some(headers) = headers {
        adopt(&span, extract_headers(headers));
    }
    span
}

/// Opens the span of a message `service` fetched from the gateway (pull mode), a child
/// of the `traceparent` the fetch answer carries for it, when it carries one.
pub fn fetched_span(service: &str, traceparent: &str) -> tracing::Span {
    let span = tracing::info_span!(
        "gateway.fetched",
        otel.name = "handle fetched",
        otel.kind = "consumer",
        egov.service = %service,
    );
    adopt(&span, from_traceparent(traceparent));
    span
}

struct HttpExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HttpExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|key| key.as_str()).collect()
    }
}

/// The type of [`propagate`] as a tonic interceptor, to name a traced client's type.
pub type Propagate = fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status>;

/// A tonic client whose every call carries the current span's `traceparent`.
pub type Traced =
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Propagate>;

/// Wraps `channel` so every call made through it carries the current span's `traceparent`.
pub fn traced(channel: tonic::transport::Channel) -> Traced {
    tonic::service::interceptor::InterceptedService::new(channel, propagate as Propagate)
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // The propagator only emits valid ASCII keys and values; a value that is
        // not (a corrupt tracestate) is dropped rather than failing the call.
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

struct MetadataExtractor<'a>(&'a MetadataMap);

impl Extractor for MetadataExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .keys()
            .map(|key| match key {
                KeyRef::Ascii(key) => key.as_str(),
                KeyRef::Binary(key) => key.as_str(),
            })
            .collect()
    }
}

struct HeaderInjector<'a>(&'a mut async_nats::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value);
    }
}

struct HeaderExtractor<'a>(&'a async_nats::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|value| value.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_ref()).collect()
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };

    use super::*;

    const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn remote_context() -> Context {
        let span = SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap_or(TraceId::INVALID),
            SpanId::from_hex("00f067aa0ba902b7").unwrap_or(SpanId::INVALID),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        Context::new().with_remote_span_context(span)
    }

    #[test]
    fn metadata_carries_traceparent_there_and_back() {
        let mut metadata = MetadataMap::new();
        inject_metadata(&remote_context(), &mut metadata);
        assert_eq!(
            metadata.get("traceparent").and_then(|v| v.to_str().ok()),
            Some(TRACEPARENT)
        );

        let extracted = extract_metadata(&metadata);
        let span = extracted.span();
        assert_eq!(span.span_context(), remote_context().span().span_context());
    }

    #[test]
    fn nats_headers_carry_traceparent_there_and_back() {
        let mut headers = async_nats::HeaderMap::new();
        inject_headers(&remote_context(), &mut headers);
        assert_eq!(
            headers
                .get(crate::subjects::TRACEPARENT_HEADER)
                .map(|v| v.as_str()),
            Some(TRACEPARENT)
        );

        let extracted = extract_headers(&headers);
        assert_eq!(
            extracted.span().span_context().trace_id(),
            remote_context().span().span_context().trace_id()
        );
        assert!(extracted.span().span_context().is_remote());
    }

    #[test]
    fn missing_or_malformed_traceparent_yields_an_invalid_span_context() {
        assert!(
            !extract_headers(&async_nats::HeaderMap::new())
                .span()
                .span_context()
                .is_valid()
        );

        let mut metadata = MetadataMap::new();
        metadata.insert(
            "traceparent",
            MetadataValue::from_static("00-not-a-trace-01"),
        );
        assert!(!extract_metadata(&metadata).span().span_context().is_valid());
    }

    #[test]
    fn an_empty_context_injects_nothing() {
        let mut metadata = MetadataMap::new();
        inject_metadata(&Context::new(), &mut metadata);
        assert!(metadata.get("traceparent").is_none());
    }

    #[test]
    fn a_stored_traceparent_reads_back_as_its_remote_span() {
        let extracted = from_traceparent(TRACEPARENT);
        assert_eq!(
            extracted.span().span_context(),
            remote_context().span().span_context()
        );
        assert!(!from_traceparent("").span().span_context().is_valid());
        assert_eq!(current_traceparent(), "", "no traced span, nothing stored");
    }

    #[test]
    fn the_interceptor_keeps_the_request_when_no_span_is_active() {
        let request = propagate(tonic::Request::new(()));
        assert!(request.is_ok());
    }
}
