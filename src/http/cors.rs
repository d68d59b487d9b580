//! CORS for browser-hosted Graph clients (an admin SPA, a Graph-Explorer-like tool):
//! `cors_allowed_origins` names the origins allowed to call the gateway (`*`: any).
//!
//! A browser asks first with a preflight: `OPTIONS` carrying `Origin` and
//! `Access-Control-Request-Method`, never a token — so the preflight is answered here, before
//! authentication, with 204 and the allowed methods and headers. The actual request then
//! carries the token as usual; its response (an error and a 401 included) names the origin in
//! `Access-Control-Allow-Origin` and exposes Graph's headers a client reads (`request-id`,
//! `client-request-id`, `Location` after a create, `Retry-After` when throttled).
//!
//! A disallowed origin gets no CORS headers at all, and its preflight goes on to the normal
//! handling (a 401 or 405): the browser refuses it either way, and nothing is revealed. No
//! credentials mode: the gateway authenticates by bearer token, not by cookies, so
//! `Access-Control-Allow-Credentials` is never sent. The origin is echoed even under `*`,
//! because a wildcard would not cover the `Authorization` request header.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

/// Methods the Graph API serves.
const METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
/// Response headers a browser script may read.
const EXPOSE: &str = "request-id, client-request-id, Location, Retry-After";
/// How long a browser may cache a preflight, in seconds (Chromium caps it at two hours).
const MAX_AGE: &str = "7200";
/// Request headers allowed when a preflight lists none it needs.
const DEFAULT_HEADERS: &str = "Authorization, Content-Type, client-request-id, Prefer, ConsistencyLevel, If-Match, If-None-Match, SdkVersion";

/// The allowed origins, normalised (`scheme://host[:port]`, lower case).
#[derive(Debug, Clone, Default)]
pub struct CorsPolicy {
    any: bool,
    origins: Vec<String>,
}

impl CorsPolicy {
    /// The policy of `cors_allowed_origins`; an entry that is not an origin (a path, a
    /// missing scheme) is a start-up error naming it.
    pub fn new(origins: &[String]) -> Result<Self, String> {
        let mut policy = Self::default();
        for entry in origins {
            let entry = entry.trim();
            if entry == "*" {
                policy.any = true;
                continue;
            }
            let url = url::Url::parse(entry).map_err(|e| {
                format!("cors_allowed_origins: '{entry}' is not an origin like https://admin.example.com ({e})")
            })?;
            let origin = url.origin();
            let has_path = !matches!(url.path(), "" | "/");
            if !origin.is_tuple() || has_path || url.query().is_some() {
                return Err(format!(
                    "cors_allowed_origins: '{entry}' is not an origin (scheme://host[:port], no path)"
                ));
            }
            policy.origins.push(origin.ascii_serialization());
        }
        Ok(policy)
    }

    /// Whether CORS is on at all.
    pub fn enabled(&self) -> bool {
        self.any || !self.origins.is_empty()
    }

    /// The request's `Origin` when it is allowed.
    fn allowed<'a>(&self, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
        let value = headers.get(header::ORIGIN)?;
        let origin = value.to_str().ok()?;
        // `null` (sandboxed frames, file://) is no origin to trust, even under `*`.
        if origin == "null" {
            return None;
        }
        (self.any || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))).then_some(value)
    }
}

/// Whether `req` is a CORS preflight.
fn is_preflight(req: &ServiceRequest) -> bool {
    req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The middleware (wrapped around the whole app): answers allowed preflights, and adds the
/// CORS headers to every response to an allowed origin.
pub async fn handle(
    policy: Arc<CorsPolicy>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if !policy.enabled() {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let origin = policy.allowed(req.headers()).cloned();
    if let Some(origin) = origin.as_ref().filter(|_| is_preflight(&req)) {
        let response = preflight(origin, req.headers());
        return Ok(req.into_response(response));
    }
    match next.call(req).await {
        Ok(mut res) => {
            add_headers(res.headers_mut(), origin);
            Ok(res.map_into_boxed_body())
        }
        // An error out of the app is rendered here, so it carries the headers too. (The
        // request cannot be kept for `ServiceResponse::from_err`: routing needs it unshared.)
        Err(e) => {
            let mut rendered = e.error_response();
            add_headers(rendered.headers_mut(), origin);
            Err(InternalError::from_response(e, rendered).into())
        }
    }
}

/// `Vary: Origin` always (the answer depends on it); the origin and the exposed headers when
/// it is allowed.
fn add_headers(headers: &mut HeaderMap, origin: Option<HeaderValue>) {
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE),
        );
    }
}

/// 204 for an allowed preflight: the methods, the request headers asked for (when they are
/// well-formed header names; else the ones Graph clients send), and how long to cache it.
fn preflight(origin: &HeaderValue, headers: &HeaderMap) -> HttpResponse {
    let requested = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .filter(|v| {
            v.to_str().is_ok_and(|s| {
                s.split(',')
                    .map(str::trim)
                    .all(|h| h.is_empty() || HeaderName::from_bytes(h.as_bytes()).is_ok())
            })
        })
        .filter(|v| !v.is_empty())
        .cloned()
        .unwrap_or(HeaderValue::from_static(DEFAULT_HEADERS));
    HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, METHODS))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, requested))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, MAX_AGE))
        .insert_header((
            header::VARY,
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        h
    }

    #[test]
    fn origins_are_normalised_and_matched_exactly() {
        let p = CorsPolicy::new(&[
            "https://Admin.Example.com/".into(),
            "http://localhost:3000".into(),
        ])
        .unwrap();
        assert!(p.allowed(&headers("https://admin.example.com")).is_some());
        assert!(p.allowed(&headers("http://localhost:3000")).is_some());
        assert!(p.allowed(&headers("http://localhost:3001")).is_none());
        assert!(
            p.allowed(&headers("https://admin.example.com.evil.test"))
                .is_none()
        );
        assert!(p.allowed(&headers("null")).is_none());
        assert!(p.allowed(&HeaderMap::new()).is_none());
    }

    #[test]
    fn star_allows_any_origin_but_not_null() {
        let p = CorsPolicy::new(&["*".into()]).unwrap();
        assert!(p.allowed(&headers("https://anything.test")).is_some());
        assert!(p.allowed(&headers("null")).is_none());
        assert!(!CorsPolicy::new(&[]).unwrap().enabled());
    }

    #[test]
    fn entries_that_are_not_origins_are_refused() {
        for bad in [
            "admin.example.com",
            "https://admin.example.com/app",
            "https://a.test/?x=1",
        ] {
            let err = CorsPolicy::new(&[bad.into()]).unwrap_err();
            assert!(err.starts_with("cors_allowed_origins:"), "{err}");
        }
    }
}
