//! The HTTP layer: one entry point for `/beta/…` that applies Graph's conventions (URL
//! normalisation, request ids, error envelope, auth, throttling, `$batch`) and hands each
//! Graph request to the operation table (`crate::api`).

pub mod batch;
pub mod cors;
pub mod docs;
pub mod edge;
pub mod guard;
pub mod health;
pub mod metrics;
pub mod serve;
pub mod throttle;
pub mod upstream;
mod version;

use version::{Version, is_v1_audit, v1_refusal, version_path};
pub mod wire;

pub use health::{healthz, readyz};

// The request plumbing lives with the operation table; these names keep `http::error` & co.
// working for the modules of this layer.
pub use crate::api::{context, error, path, response};

use std::sync::Arc;
use std::time::Instant;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{ConnectionType, Method, StatusCode};
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use opentelemetry::context::FutureExt as _;
use tracing::Instrument;
use tracing::field::Empty;

use self::context::RequestCtx;
use self::error::ApiError;
use self::path::Segment;
use self::response::{Body, GraphResponse};
use self::throttle::{Scope, Throttle};
use crate::api::GraphRequest;
use crate::auth::Authenticator;
use crate::service::Services;
use crate::telemetry::traces::{RequestOutcome, TraceHeaders};

/// Shared state of every request.
pub struct AppState {
    /// Use cases.
    pub services: Services,
    /// Access-token validation.
    pub auth: Authenticator,
    /// Public base URL without a trailing slash.
    pub public_url: String,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Per-tenant and per-app request limits.
    pub throttle: Throttle,
    /// Whether the legacy single-token API is served (`crate::legacy`).
    pub legacy_api: bool,
    /// The static bearer `GET /metrics` requires, if any.
    pub metrics_token: Option<String>,
    /// The Apple reachability check of `/readyz`, when `readyz_apple` is on.
    pub apple_probe: Option<health::AppleProbe>,
    /// Request spans and their export (`crate::telemetry::traces`).
    pub tracing: Arc<crate::telemetry::Tracing>,
    /// Upstream mode: the Graph service requests are translated onto or passed through to.
    pub upstream: Option<Arc<dyn upstream::Upstream>>,
}

/// The `operation` label of a request no row matched (unauthenticated, unknown path, …).
pub const NO_OPERATION: &str = "none";
/// The `operation` label of a `$batch` envelope (its items count as their own operations).
pub const BATCH_OPERATION: &str = "$batch";

/// Upstream mode: the header naming the legacy default token of a request.
pub const DEFAULT_TOKEN_HEADER: &str = "depGateway-LegacyDefaultToken";

/// Shared handle on [`AppState`].
pub type SharedState = web::Data<Arc<AppState>>;

// GRAPH-COMPAT: clients only log x-ms-ags-diagnostic, but it must be valid JSON
// (graph-http-conventions.md §2).
const AGS_DIAGNOSTIC: &str = r#"{"ServerInfo":{"DataCenter":"dep-gateway","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"dep-gateway"}}"#;

/// Entry point of every path that is not a health check.
pub async fn entry(req: HttpRequest, payload: web::Payload, st: SharedState) -> HttpResponse {
    let started = Instant::now();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let client_id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok());
    let mut ctx = RequestCtx::new(&st.public_url, &path_and_query, client_id);
    ctx.client_ip = req.peer_addr().map(|a| a.ip().to_string());
    let span = tracing::info_span!("request", request_id = %ctx.request_id,
        client_request_id = %ctx.client_request_id, method = %req.method(),
        path = %req.uri().path(), tenant = Empty, operation = Empty, status = Empty);
    let method = req.method().as_str();
    let trace = st.tracing.start_request(
        &trace_headers(&req),
        method,
        req.uri().path(),
        &ctx.request_id,
        &ctx.client_request_id,
    );
    let work = handle(&req, payload, &st, &mut ctx).instrument(span.clone());
    // The trace context is current while the request runs: Apple calls propagate it.
    let result = match trace.context() {
        Some(cx) => work.with_context(cx.clone()).await,
        None => work.await,
    };
    let response = result.unwrap_or_else(|e| e.render(&ctx));
    let (operation, status) = (
        ctx.operation.unwrap_or(NO_OPERATION),
        response.status.as_u16(),
    );
    st.services
        .metrics
        .http_request(operation, status, started.elapsed());
    span.record("operation", operation);
    span.record("status", status);
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "served"
        );
    });
    let tenant = ctx.principal.as_ref().map(|p| p.tenant.to_string());
    trace.end(
        method,
        &RequestOutcome {
            operation,
            status,
            tenant,
        },
    );
    let mut out = finish(response, &ctx);
    // A refused protocol switch, a full connection table or a body that timed out: the
    // connection is not reused (its unread body would be taken for the next request).
    if edge::refuse_protocol_switch(&req).is_err()
        || edge::check_capacity(&req).is_err()
        || out.status() == StatusCode::REQUEST_TIMEOUT
    {
        out.head_mut().set_connection_type(ConnectionType::Close);
    }
    out
}

/// The request's W3C trace-context headers (a non-ASCII value counts as absent).
fn trace_headers(req: &HttpRequest) -> TraceHeaders<'_> {
    let get = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    TraceHeaders {
        traceparent: get("traceparent"),
        tracestate: get("tracestate"),
    }
}

/// A Graph error envelope, with Graph's headers, for a route outside `entry` (the documents).
pub fn graph_error_response(req: &HttpRequest, public_url: &str, error: &ApiError) -> HttpResponse {
    let path_and_query = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let client_id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok());
    let ctx = RequestCtx::new(public_url, path_and_query, client_id);
    finish(error.render(&ctx), &ctx)
}

/// The direct path: version, token and body, then `$batch` or [`run`].
async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    st: &AppState,
    ctx: &mut RequestCtx,
) -> Result<GraphResponse, ApiError> {
    edge::refuse_protocol_switch(req)?;
    edge::check_capacity(req)?;
    let path = req.uri().path();
    let (version, rest) = version_path(path)?;
    if version == Version::Beta && docs::is_metadata(rest) {
        return docs::metadata(req.method());
    }
    if version == Version::Beta && docs::is_service_root(rest) {
        return docs::service_document(req.method(), &st.public_url);
    }
    let authorization = authorization(req)?;
    let principal = match st
        .upstream
        .as_ref()
        .and_then(|u| u.principal(authorization))
    {
        Some(principal) => principal?,
        None => st.auth.authenticate(authorization).await?,
    };
    tracing::Span::current().record("tenant", tracing::field::display(principal.tenant));
    ctx.principal = Some(principal);
    // Upstream mode passes every /v1.0 request through (the upstream's versions are its own).
    if version == Version::V1 && !is_v1_audit(rest) && st.upstream.is_none() {
        return Err(v1_refusal(rest));
    }
    if let Some(up) = &st.upstream {
        ctx.upstream = Some(context::UpstreamCaller {
            authorization: authorization.map(str::to_owned),
            default_token: req
                .headers()
                .get(DEFAULT_TOKEN_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        });
        let segments = path::split(rest)?;
        if version == Version::V1 || (!batch::is_batch(&segments) && !up.translates(&segments)) {
            throttle(st, ctx, req.method())?;
            return up.pass_through(req, payload, ctx).await;
        }
    }
    let body = edge::read_body(req, payload, st.max_body_bytes).await?;
    guard::check_path(rest)?;
    guard::check_query(req.uri().query().unwrap_or_default())?;
    let segments = path::split(rest)?;
    if batch::is_batch(&segments) {
        ctx.operation = Some(BATCH_OPERATION);
        if req.method() != Method::POST {
            return Err(ApiError::MethodNotAllowed);
        }
        // Each item's URL and body are checked on their own (batch.rs), so a NUL fails only
        // the item that holds it.
        return batch::execute(st, ctx, &body).await;
    }
    guard::check_body(&body)?;
    let graph_req = GraphRequest {
        method: req.method().clone(),
        segments,
        query: req.uri().query().unwrap_or_default().to_owned(),
        body,
    };
    run(st, ctx, &graph_req).await
}

/// Runs one authenticated Graph request: throttling, routing and the handler. Direct calls and
/// every `$batch` sub-request come through here, so both are authorised and counted alike.
pub async fn run(
    st: &AppState,
    ctx: &mut RequestCtx,
    req: &GraphRequest,
) -> Result<GraphResponse, ApiError> {
    throttle(st, ctx, &req.method)?;
    if req
        .segments
        .first()
        .is_some_and(|s: &Segment| s.is("$batch"))
    {
        return Err(ApiError::BadRequest(
            "A $batch request cannot contain another $batch request.".to_owned(),
        ));
    }
    if let Some(up) = &st.upstream {
        return up.run(st, ctx, req).await;
    }
    crate::api::dispatch::dispatch(
        crate::legacy::routes::table(),
        &st.services,
        st.legacy_api,
        ctx,
        req,
    )
    .await
}

/// The gateway's own per-tenant and per-app limits (429 with `Retry-After` when exhausted).
fn throttle(st: &AppState, ctx: &RequestCtx, method: &Method) -> Result<(), ApiError> {
    let principal = ctx
        .principal
        .as_ref()
        .ok_or_else(|| ApiError::Unauthenticated("Access token is empty.".to_owned()))?;
    let kind = if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        throttle::Kind::Read
    } else {
        throttle::Kind::Write
    };
    let app = principal.app_id.as_deref();
    if let Err(refused) = st.throttle.check(principal.tenant, app, kind) {
        let (identifier, scope) = match refused.scope {
            Scope::Tenant => (principal.tenant.to_string(), "tenant"),
            Scope::App => (
                format!("{}+{}", principal.tenant, app.unwrap_or_default()),
                "app",
            ),
        };
        st.services.metrics.throttled(scope);
        tracing::debug!(%identifier, retry_after = refused.retry_after_secs, "throttled");
        return Err(ApiError::TooManyRequests {
            identifier,
            retry_after_secs: refused.retry_after_secs,
        });
    }
    Ok(())
}

/// The one `Authorization` header, if any; several are refused rather than guessed between.
fn authorization(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::Unauthenticated(
            "Access token validation failure. Several Authorization headers.".into(),
        ));
    }
    first
        .map(HeaderValue::to_str)
        .transpose()
        .map_err(|_| ApiError::Unauthenticated("Access token validation failure.".into()))
}

/// The common headers of every response (and of every `$batch` sub-response).
fn common_headers(ctx: &RequestCtx) -> [(&'static str, &str); 5] {
    [
        ("request-id", ctx.request_id.as_str()),
        ("client-request-id", ctx.client_request_id.as_str()),
        ("x-ms-ags-diagnostic", AGS_DIAGNOSTIC),
        ("OData-Version", "4.0"),
        ("Cache-Control", "no-cache"),
    ]
}

/// Adds Graph's common headers and converts to an actix response.
fn finish(resp: GraphResponse, ctx: &RequestCtx) -> HttpResponse {
    let mut out = HttpResponseBuilder::new(resp.status);
    for (name, value) in common_headers(ctx) {
        out.insert_header((name, value));
    }
    for (name, value) in resp.headers {
        out.insert_header((name, value));
    }
    match resp.body {
        Body::Empty => out.finish(),
        Body::Json(bytes, content_type) => out.content_type(content_type).body(bytes),
        Body::Text(text) => out.content_type("text/plain").body(text),
        Body::Stream(body) => {
            if let Some(content_type) = body.content_type {
                out.insert_header((header::CONTENT_TYPE, content_type));
            }
            out.streaming(body.stream)
        }
    }
}
