//! Connection-level limits: how many connections the process holds, how long a request body may
//! take, and protocol switches the gateway does not speak. An authenticated client must not be
//! able to pin connections (and file descriptors) until the process cannot accept `/healthz`.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::dev::Extensions;
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web;
use futures_util::StreamExt;
use tokio::time::Instant;

use super::error::ApiError;
use crate::config::Settings;

/// `Retry-After` of a 503 for a full connection table: about one body timeout, when pinned
/// connections have been cut.
const CAPACITY_RETRY_AFTER_SECS: u64 = 10;

/// The limits, shared by every worker (registered as app data).
#[derive(Debug)]
pub struct EdgeLimits {
    open: Arc<AtomicUsize>,
    /// Open connections above which Graph requests are answered 503 (`/healthz`, `/readyz` and
    /// the 503s themselves use the rest, up to the hard cap).
    soft_cap: usize,
    body_timeout: Duration,
    body_min_bytes_per_sec: u64,
}

impl EdgeLimits {
    /// The limits of `settings`.
    pub fn new(settings: &Settings) -> Self {
        let max = settings.http_max_connections.max(1);
        Self {
            open: Arc::new(AtomicUsize::new(0)),
            soft_cap: max - max / 8,
            body_timeout: Duration::from_secs(settings.http_body_timeout_secs.max(1)),
            body_min_bytes_per_sec: settings.http_body_min_bytes_per_sec.max(1),
        }
    }

    /// The `HttpServer::on_connect` callback: counts the connection until it closes (its
    /// extensions, holding the guard, are dropped with it).
    pub fn on_connect(&self) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync + 'static {
        let open = self.open.clone();
        move |_, extensions| {
            open.fetch_add(1, Ordering::SeqCst);
            extensions.insert(ConnectionGuard(open.clone()));
        }
    }

    /// Open connections now.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }
}

/// Decrements the open-connection count when its connection ends.
struct ConnectionGuard(Arc<AtomicUsize>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The per-worker hard cap for actix's `max_connections` (actix counts per worker; the setting is
/// for the whole process, which is what the file-descriptor limit counts).
pub fn per_worker_cap(settings: &Settings) -> usize {
    let workers = settings
        .workers
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
        .max(1);
    (settings.http_max_connections.max(1) / workers).max(1)
}

fn limits(req: &HttpRequest) -> Option<&EdgeLimits> {
    req.app_data::<web::Data<EdgeLimits>>()
        .map(web::Data::get_ref)
}

/// Refuses what would turn the connection into something that never ends: `CONNECT` (its
/// payload is the rest of the connection) and protocol upgrades (`Upgrade: websocket`, `h2c`).
pub fn refuse_protocol_switch(req: &HttpRequest) -> Result<(), ApiError> {
    if req.method() == Method::CONNECT {
        return Err(ApiError::MethodNotAllowed);
    }
    if asks_for_upgrade(req.headers()) {
        return Err(ApiError::BadRequest(
            "Protocol upgrades (the Upgrade header) are not supported.".to_owned(),
        ));
    }
    Ok(())
}

fn asks_for_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        || headers.get_all(header::CONNECTION).any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|option| option.trim().eq_ignore_ascii_case("upgrade"))
            })
        })
}

/// A Graph 503 when the connection table is nearly full, so that the remaining connections stay
/// free for health checks and for these quick refusals.
pub fn check_capacity(req: &HttpRequest) -> Result<(), ApiError> {
    match limits(req) {
        Some(l) if l.open_connections() > l.soft_cap => {
            Err(ApiError::ServiceUnavailable(CAPACITY_RETRY_AFTER_SECS))
        }
        _ => Ok(()),
    }
}

/// Reads the body up to `limit` bytes, at most `body_timeout` plus one second per
/// `body_min_bytes_per_sec` already received: a client trickling or withholding its body is cut
/// off with a 408.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let (timeout, rate) = limits(req).map_or((Duration::from_secs(10), 32 * 1024), |l| {
        (l.body_timeout, l.body_min_bytes_per_sec)
    });
    let started = Instant::now();
    let mut body = web::BytesMut::new();
    loop {
        let earned = Duration::from_secs(u64::try_from(body.len()).unwrap_or(u64::MAX) / rate);
        let deadline = started + timeout + earned;
        let Ok(next) = tokio::time::timeout_at(deadline, payload.next()).await else {
            return Err(ApiError::RequestTimeout);
        };
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| {
            ApiError::BadRequest(format!("The request body could not be read: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    #[test]
    fn recognises_upgrade_requests() {
        let mut headers = HeaderMap::new();
        assert!(!asks_for_upgrade(&headers));
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        assert!(asks_for_upgrade(&headers));
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert!(asks_for_upgrade(&headers));
    }

    #[test]
    fn splits_the_connection_cap_over_workers() {
        let settings = Settings {
            workers: Some(2),
            http_max_connections: 512,
            ..Settings::default()
        };
        assert_eq!(per_worker_cap(&settings), 256);
        let limits = EdgeLimits::new(&settings);
        assert_eq!(limits.soft_cap, 448);
    }
}
