//! Traces: one OpenTelemetry span per Graph request, exported over OTLP/HTTP (protobuf) when an
//! endpoint is configured (`otlp_endpoint`, else `OTEL_EXPORTER_OTLP_ENDPOINT`).
//!
//! W3C `traceparent`/`tracestate` on the request make the span a child of the caller's; the
//! request's context is current while it runs, so the Apple client's requests carry a
//! `traceparent` of the same trace (`apple::client`). Without an endpoint no span is made and no
//! exporter runs: an incoming context is passed through to Apple unchanged.
//!
//! Why the OpenTelemetry API directly rather than a `tracing-opentelemetry` layer: a `tracing`
//! subscriber is process-wide, while each [`crate::Application`] (and each API test, many of
//! which share one process) owns its exporter, as it owns its metrics registry. The `tracing`
//! request span still carries the same ids for the logs.

use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The instance's tracer: off (no endpoint) or exporting.
#[derive(Debug, Default)]
pub struct Tracing {
    exporting: Option<(SdkTracerProvider, SdkTracer)>,
}

/// The trace context of one request: what its work runs under, and its span to end.
#[derive(Debug)]
pub struct RequestTrace {
    cx: Option<Context>,
    recording: bool,
}

/// What a request span records when it ends.
#[derive(Debug)]
pub struct RequestOutcome<'a> {
    /// The Graph operation id from the operation table (`none` when no row matched).
    pub operation: &'a str,
    /// The response status.
    pub status: u16,
    /// The caller's tenant, once authenticated.
    pub tenant: Option<String>,
}

impl Tracing {
    /// No spans, no exporter.
    pub fn off() -> Self {
        Self::default()
    }

    /// Exports to `{endpoint}/v1/traces` (OTLP/HTTP, protobuf) in batches, over our reqwest on
    /// the current tokio runtime; `None` is [`Tracing::off`].
    pub fn new(endpoint: Option<&str>) -> anyhow::Result<Self> {
        let Some(endpoint) = endpoint.map(str::trim).filter(|e| !e.is_empty()) else {
            return Ok(Self::off());
        };
        let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        let host = url::Url::parse(&url)
            .with_context(|| format!("otlp_endpoint {endpoint} is not a URL"))?
            .host_str()
            .map(str::to_owned);
        let client = RuntimeClient {
            http: reqwest::Client::builder().timeout(EXPORT_TIMEOUT).build()?,
            runtime: tokio::runtime::Handle::try_current()
                .context("the OTLP exporter needs a tokio runtime")?,
        };
        let exporter = SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_endpoint(url)
            .build()
            .context("building the OTLP span exporter")?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name("dep-gateway").build())
            .build();
        let tracer = provider.tracer("dep-gateway");
        tracing::info!(host, "exporting traces over OTLP/HTTP");
        Ok(Self {
            exporting: Some((provider, tracer)),
        })
    }

    /// Whether spans are exported.
    pub fn is_exporting(&self) -> bool {
        self.exporting.is_some()
    }

    /// Starts background work's root spans and Apple calls' child spans with this tracer.
    pub fn spans(&self) -> super::Spans {
        self.exporting
            .as_ref()
            .map_or_else(super::Spans::off, |(_, tracer)| {
                super::Spans::new(tracer.clone())
            })
    }

    /// Starts the request's trace: a server span, child of the W3C context in `traceparent` and
    /// `tracestate` when they are valid, carrying Graph's request ids.
    pub fn start_request(
        &self,
        headers: &TraceHeaders<'_>,
        method: &str,
        path: &str,
        request_id: &str,
        client_request_id: &str,
    ) -> RequestTrace {
        let parent = headers.parent();
        let Some((_, tracer)) = &self.exporting else {
            let valid = parent
                .as_ref()
                .is_some_and(|p| p.span().span_context().is_valid());
            return RequestTrace {
                cx: parent.filter(|_| valid),
                recording: false,
            };
        };
        let span = tracer
            .span_builder(method.to_owned())
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", method.to_owned()),
                KeyValue::new("url.path", path.to_owned()),
                KeyValue::new("request_id", request_id.to_owned()),
                KeyValue::new("client_request_id", client_request_id.to_owned()),
            ])
            .start_with_context(tracer, &parent.unwrap_or_default());
        RequestTrace {
            cx: Some(Context::current_with_span(span)),
            recording: true,
        }
    }

    /// Exports what is buffered and stops the exporter (a no-op when off). Blocks on the
    /// export: call it off the async workers.
    pub fn shutdown(&self) {
        if let Some((provider, _)) = &self.exporting
            && let Err(e) = provider.shutdown()
            && !matches!(e, OTelSdkError::AlreadyShutdown)
        {
            tracing::warn!(error = %e, "flushing the trace exporter failed");
        }
    }
}

impl RequestTrace {
    /// The context the request's work runs under (set as current around each poll), if any.
    pub fn context(&self) -> Option<&Context> {
        self.cx.as_ref()
    }

    /// Ends the span (named `METHOD operation`, as HTTP server spans are named after routes)
    /// with the outcome's attributes; 5xx marks it failed.
    pub fn end(self, method: &str, outcome: &RequestOutcome<'_>) {
        let Some(cx) = self.cx.filter(|_| self.recording) else {
            return;
        };
        let span = cx.span();
        span.update_name(format!("{method} {}", outcome.operation));
        span.set_attribute(KeyValue::new("operation_id", outcome.operation.to_owned()));
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(outcome.status),
        ));
        if let Some(tenant) = &outcome.tenant {
            span.set_attribute(KeyValue::new("tenant_id", tenant.clone()));
        }
        if outcome.status >= 500 {
            span.set_status(Status::error(format!("HTTP {}", outcome.status)));
        }
        span.end();
    }
}

/// The W3C trace-context headers of a request.
#[derive(Debug, Default, Clone, Copy)]
pub struct TraceHeaders<'a> {
    /// `traceparent`.
    pub traceparent: Option<&'a str>,
    /// `tracestate`.
    pub tracestate: Option<&'a str>,
}

impl TraceHeaders<'_> {
    /// The remote parent they describe (`None` without a `traceparent`; an invalid one yields
    /// an invalid, ignored context).
    fn parent(&self) -> Option<Context> {
        self.traceparent?;
        Some(TraceContextPropagator::new().extract(self))
    }
}

impl Extractor for TraceHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => self.traceparent,
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// The exporter's HTTP client: the gateway's reqwest, run on the runtime it was built on (the
/// batch processor exports from its own thread, outside any runtime).
#[derive(Debug)]
struct RuntimeClient {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for RuntimeClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let http = self.http.clone();
        let answer = self.runtime.spawn(async move {
            let resp = http.execute(request).await?;
            let mut out = Response::builder().status(resp.status());
            for (name, value) in resp.headers() {
                out = out.header(name, value);
            }
            let body = resp.bytes().await?;
            Ok::<_, HttpError>(out.body(body)?)
        });
        answer.await?
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TraceContextExt;

    use super::*;

    const PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn off_without_an_endpoint() {
        assert!(!Tracing::new(None).unwrap().is_exporting());
        assert!(!Tracing::new(Some("  ")).unwrap().is_exporting());
    }

    #[test]
    fn off_passes_a_valid_parent_through_and_drops_a_bad_one() {
        let off = Tracing::off();
        let start = |traceparent| {
            let headers = TraceHeaders {
                traceparent,
                tracestate: Some("vendor=abc"),
            };
            off.start_request(&headers, "GET", "/beta", "r", "c")
        };
        let trace = start(Some(PARENT));
        let cx = trace.context().expect("the caller's context");
        let span = cx.span();
        let sc = span.span_context();
        assert_eq!(
            sc.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(sc.span_id().to_string(), "b7ad6b7169203331");
        assert_eq!(sc.trace_state().header(), "vendor=abc");
        assert!(start(Some("00-zz-b7ad6b7169203331-01")).context().is_none());
        assert!(start(None).context().is_none());
    }
}
