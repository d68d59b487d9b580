//! Spans outside the request path: the root span of each piece of background work (a sync run,
//! an assignment push, a notification delivery batch, a token-health check), each its own trace,
//! and a client span per Apple call, child of whatever span is current (the request's or the
//! background work's), so that the call's `traceparent` names it. Nothing is made when traces
//! are off: an incoming context then still reaches Apple unchanged.

use std::fmt::Display;
use std::future::Future;

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;

/// Starts spans with the instance's tracer; cheap to clone; does nothing when traces are off.
#[derive(Clone, Debug, Default)]
pub struct Spans {
    tracer: Option<SdkTracer>,
}

impl Spans {
    /// No spans.
    pub fn off() -> Self {
        Self::default()
    }

    pub(super) fn new(tracer: SdkTracer) -> Self {
        Self {
            tracer: Some(tracer),
        }
    }

    /// Runs `work` as the root span `name` of a new trace, with `attributes`; an `Err` marks the
    /// span failed. Its Apple calls are its children.
    pub async fn root<T, E: Display>(
        &self,
        name: &'static str,
        attributes: Vec<KeyValue>,
        work: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let Some(tracer) = &self.tracer else {
            return work.await;
        };
        let span = tracer
            .span_builder(name)
            .with_kind(SpanKind::Internal)
            .with_attributes(attributes)
            .start_with_context(tracer, &Context::new());
        let cx = Context::new().with_span(span);
        let out = work.with_context(cx.clone()).await;
        let span = cx.span();
        if let Err(e) = &out {
            span.set_status(Status::error(e.to_string()));
        }
        span.end();
        out
    }

    /// Runs `work` (one call to Apple's `endpoint`) as a client span `apple {endpoint}`, child
    /// of the current span; `outcome` names the result's attributes (outcome, status).
    pub async fn apple_call<T, E: Display>(
        &self,
        endpoint: &'static str,
        work: impl Future<Output = Result<T, E>>,
        outcome: impl FnOnce(&Result<T, E>) -> Vec<KeyValue>,
    ) -> Result<T, E> {
        let Some(tracer) = &self.tracer else {
            return work.await;
        };
        let parent = Context::current();
        let span = tracer
            .span_builder(format!("apple {endpoint}"))
            .with_kind(SpanKind::Client)
            .with_attributes([KeyValue::new("apple.endpoint", endpoint)])
            .start_with_context(tracer, &parent);
        let cx = parent.with_span(span);
        let out = work.with_context(cx.clone()).await;
        let span = cx.span();
        span.set_attributes(outcome(&out));
        if let Err(e) = &out {
            span.set_status(Status::error(e.to_string()));
        }
        span.end();
        out
    }
}
