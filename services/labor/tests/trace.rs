//! One trace across every hop: an unemployed-certificate application on the portal crosses the
//! gateway to the Labour Market AIS, which asks the citizens-DB and opens the back office's
//! case, each through the gateway; later the back office's outbox sends the decision back
//! through the gateway to the Labour Market AIS. Every service's spans, read from an
//! in-memory exporter, share the portal's trace id, the outbox's late send included. A binary
//! of its own, since the span collector is the process's one global subscriber.

#[allow(dead_code, unused_imports)] // the labor suite's stack, of which this test uses only a part
#[path = "labor/common.rs"]
mod common;

use std::collections::BTreeSet;

use egov_citizens::fixtures::UNEMPLOYED_ADULT;
use egov_core::systems;
use egov_proto::v1::Channel;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::common::{Stack, application};

/// Installs the process's subscriber: every info span goes to an in-memory exporter.
fn collect_spans() -> (SdkTracerProvider, InMemorySpanExporter) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("egov-labor-trace-test"))
        .with_filter(LevelFilter::INFO);
    tracing_subscriber::registry()
        .with(layer)
        .try_init()
        .expect("the first subscriber of this test binary");
    (provider, exporter)
}

/// Returns the finished spans once one named `name` is among them: the back office's
/// send ends just after its answer, which the result may overtake.
async fn finished_with(
    provider: &SdkTracerProvider,
    exporter: &InMemorySpanExporter,
    name: &str,
) -> Vec<SpanData> {
    for _ in 0..500 {
        provider.force_flush().expect("spans flushed");
        let spans = exporter.get_finished_spans().expect("finished spans");
        if spans.iter().any(|span| span.name == name) {
            return spans;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no span {name} finished");
}

/// Returns the finished spans once every server span of the trace has its parent among them,
/// or the last ones read after five seconds: a server span can end just after the answer that
/// let its children's caller go on, so a child may be exported before its parent.
async fn parents_finished(
    provider: &SdkTracerProvider,
    exporter: &InMemorySpanExporter,
    trace_id: opentelemetry::trace::TraceId,
    mut spans: Vec<SpanData>,
) -> Vec<SpanData> {
    for _ in 0..500 {
        let in_trace: Vec<&SpanData> = spans
            .iter()
            .filter(|span| span.span_context.trace_id() == trace_id)
            .collect();
        let ids: std::collections::HashSet<_> =
            in_trace.iter().map(|s| s.span_context.span_id()).collect();
        if in_trace
            .iter()
            .filter(|s| s.name.starts_with('/'))
            .all(|s| ids.contains(&s.parent_span_id))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        provider.force_flush().expect("spans flushed");
        spans = exporter.get_finished_spans().expect("finished spans");
    }
    spans
}

/// Returns the `egov.service` attribute of a span, if it has one.
fn service_of(span: &SpanData) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == "egov.service")
        .map(|kv| kv.value.to_string())
}

#[tokio::test]
async fn one_trace_spans_portal_gateway_labor_citizens_and_the_back_offices_later_send() {
    let (provider, exporter) = collect_spans();
    let stack = Stack::start().await;

    let portal = tracing::info_span!("portal.apply", egov.service = systems::PORTAL.id);
    let trace_id = portal.context().span().span_context().trace_id();
    let registered = stack
        .apply_on_portal(
            UNEMPLOYED_ADULT,
            application(UNEMPLOYED_ADULT, Channel::Portal),
        )
        .instrument(portal.clone())
        .await
        .expect("registered");
    drop(portal);
    // The case walks its steps on the virtual clock; the outbox then sends the decision.
    stack.wait_for_result(&registered.registration_number).await;
    let spans = finished_with(&provider, &exporter, "backoffice.deliver").await;
    let spans = parents_finished(&provider, &exporter, trace_id, spans).await;
    let in_trace: Vec<&SpanData> = spans
        .iter()
        .filter(|span| span.span_context.trace_id() == trace_id)
        .collect();
    let services: BTreeSet<String> = in_trace.iter().filter_map(|s| service_of(s)).collect();
    for service in [
        systems::PORTAL.id,
        systems::GATEWAY.id,
        systems::LABOR.id,
        systems::CITIZENS.id,
        systems::BACKOFFICE.id,
    ] {
        assert!(
            services.contains(service),
            "{service} missing from trace {trace_id}: {services:?}"
        );
    }
    // Every server span of the trace hangs under a span of the same trace: no hop started afresh.
    let span_ids: std::collections::HashSet<_> =
        in_trace.iter().map(|s| s.span_context.span_id()).collect();
    for span in in_trace.iter().filter(|s| s.name.starts_with('/')) {
        assert!(
            span_ids.contains(&span.parent_span_id),
            "server span {} has a parent outside the trace",
            span.name
        );
    }
    // The outbox's send, long after the request ended, continues its trace, and the Labour
    // Market AIS takes the decision in it: its second server span.
    assert!(
        in_trace.iter().any(|s| s.name == "backoffice.deliver"),
        "the back office's send is not in the trace"
    );
    let labor_calls = in_trace
        .iter()
        .filter(|s| service_of(s).as_deref() == Some(systems::LABOR.id) && s.name.starts_with('/'))
        .count();
    assert!(
        labor_calls >= 2,
        "labor's server spans in the trace: {labor_calls}"
    );
    // The gateway forwards the application and the labor system's two calls: three exchanges.
    let gateway_calls = in_trace
        .iter()
        .filter(|s| {
            service_of(s).as_deref() == Some(systems::GATEWAY.id)
                && s.name == "/egov.v1.Gateway/SendMessage"
        })
        .count();
    assert!(
        gateway_calls >= 3,
        "gateway calls in the trace: {gateway_calls}"
    );
}
