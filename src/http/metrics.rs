//! `GET /metrics`: the Prometheus text exposition of the instance's [`crate::telemetry::Metrics`],
//! with the values read at scrape time. Served on the main listener without a Graph token, or
//! on its own listener (`metrics_bind`); with `metrics_token` set it needs that static bearer and
//! answers anything else with Graph's 401 envelope.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use super::SharedState;
use super::error::ApiError;
use crate::service::token_health;

/// The exposition format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`.
pub async fn metrics(req: HttpRequest, st: SharedState) -> HttpResponse {
    if let Some(expected) = &st.metrics_token
        && !bearer_matches(&req, expected)
    {
        let refused = ApiError::Unauthenticated(
            "Access token validation failure. The metrics endpoint needs its configured bearer token."
                .to_owned(),
        );
        return super::graph_error_response(&req, &st.public_url, &refused);
    }
    let snapshot = token_health::metrics_snapshot(&st.services).await;
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(st.services.metrics.render(&snapshot))
}

/// Whether the request carries exactly one `Authorization: Bearer <expected>`, compared in time
/// independent of where the values differ.
fn bearer_matches(req: &HttpRequest, expected: &str) -> bool {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let Some(given) = value.to_str().ok().and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    }) else {
        return false;
    };
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
