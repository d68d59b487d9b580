//! Metering of Apple calls at the [`AppleConnector`] seam: [`MeteredConnector`] wraps the real
//! connector (or a test fake) and every [`DepApi`] it makes, so each call is counted by endpoint
//! and outcome with its latency, device pages count the devices received, and assignment answers
//! count Apple's per-serial results; with traces on, each call is a client span, child of the
//! request's or the background work's span (`Spans::apple_call`). The services do not know.

use std::sync::Arc;
use std::time::Instant;

use futures_util::future::BoxFuture;

use opentelemetry::KeyValue;

use super::Spans;
use super::metrics::{CallOutcome, Metrics};
use crate::apple::client::ClientOptions;
use crate::apple::error::AppleError;
use crate::apple::token_file::ServerTokenCredentials;
use crate::apple::types::{
    Account, AssignProfileResponse, DefineProfileResponse, DepProfile, DevicePage, DeviceStatus,
    SerialResults,
};
use crate::apple::{AppleConnector, DepApi};

/// An [`AppleConnector`] whose clients are metered into `metrics`.
pub struct MeteredConnector {
    inner: Arc<dyn AppleConnector>,
    metrics: Arc<Metrics>,
    spans: Spans,
}

impl MeteredConnector {
    /// Meters the clients `inner` makes.
    pub fn new(inner: Arc<dyn AppleConnector>, metrics: Arc<Metrics>) -> Self {
        Self {
            inner,
            metrics,
            spans: Spans::off(),
        }
    }

    /// Also makes each call a span with `spans`.
    #[must_use]
    pub fn with_spans(mut self, spans: Spans) -> Self {
        self.spans = spans;
        self
    }
}

impl AppleConnector for MeteredConnector {
    fn connect(
        &self,
        credentials: ServerTokenCredentials,
        options: ClientOptions,
    ) -> Arc<dyn DepApi> {
        Arc::new(Metered {
            inner: self.inner.connect(credentials, options),
            metrics: Arc::clone(&self.metrics),
            spans: self.spans.clone(),
        })
    }
}

struct Metered {
    inner: Arc<dyn DepApi>,
    metrics: Arc<Metrics>,
    spans: Spans,
}

/// The HTTP status Apple's final answer had, where the result tells it.
fn status<T>(result: &Result<T, AppleError>) -> Option<i64> {
    match result {
        Ok(_) => Some(200),
        Err(AppleError::Unauthorized) => Some(401),
        Err(AppleError::TermsNotSigned) => Some(403),
        Err(AppleError::RateLimited { .. }) => Some(429),
        Err(
            AppleError::CursorExpired
            | AppleError::CursorInvalid
            | AppleError::CursorExhausted
            | AppleError::CursorRequired,
        ) => Some(400),
        Err(AppleError::Upstream { status, .. }) => Some(i64::from(*status)),
        Err(_) => None,
    }
}

/// A call span's attributes: its outcome (as the metrics label it) and Apple's status.
fn span_outcome<T>(result: &Result<T, AppleError>) -> Vec<KeyValue> {
    let mut out = vec![KeyValue::new("outcome", outcome(result).label())];
    if let Some(code) = status(result) {
        out.push(KeyValue::new("http.response.status_code", code));
    }
    out
}

fn outcome<T>(result: &Result<T, AppleError>) -> CallOutcome {
    match result {
        Ok(_) => CallOutcome::Ok,
        Err(AppleError::RateLimited { .. }) => CallOutcome::Throttled,
        Err(AppleError::Transport(_)) => CallOutcome::Transport,
        Err(_) => CallOutcome::Error,
    }
}

/// Apple's spelling of a per-serial result (the label of the outcome counter).
fn status_label(status: DeviceStatus) -> &'static str {
    match status {
        DeviceStatus::Success => "SUCCESS",
        DeviceStatus::NotAccessible => "NOT_ACCESSIBLE",
        DeviceStatus::Failed => "FAILED",
        DeviceStatus::Throttled => "THROTTLED",
        DeviceStatus::NotFound => "NOT_FOUND",
        DeviceStatus::Unknown => "UNKNOWN",
    }
}

impl Metered {
    fn record<T>(&self, endpoint: &str, started: Instant, result: &Result<T, AppleError>) {
        self.metrics
            .apple_call(endpoint, outcome(result), started.elapsed());
    }

    fn page(
        &self,
        endpoint: &str,
        started: Instant,
        result: Result<DevicePage, AppleError>,
    ) -> Result<DevicePage, AppleError> {
        self.record(endpoint, started, &result);
        if let Ok(page) = &result {
            self.metrics.devices_fetched(endpoint, page.devices.len());
        }
        result
    }

    fn serials(&self, results: &SerialResults) {
        for status in results.values() {
            self.metrics.serial_outcome(status_label(*status));
        }
    }
}

impl DepApi for Metered {
    fn account(&self) -> BoxFuture<'_, Result<Account, AppleError>> {
        Box::pin(async move {
            let started = Instant::now();
            let result = self
                .spans
                .apple_call("account", self.inner.account(), span_outcome)
                .await;
            self.record("account", started, &result);
            result
        })
    }

    fn fetch_devices<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: u32,
    ) -> BoxFuture<'a, Result<DevicePage, AppleError>> {
        Box::pin(async move {
            let started = Instant::now();
            let result = self
                .spans
                .apple_call(
                    "fetch_devices",
                    self.inner.fetch_devices(cursor, limit),
                    span_outcome,
                )
                .await;
            self.page("fetch_devices", started, result)
        })
    }

    fn sync_devices<'a>(
        &'a self,
        cursor: &'a str,
        limit: u32,
    ) -> BoxFuture<'a, Result<DevicePage, AppleError>> {
        Box::pin(async move {
            let started = Instant::now();
            let result = self
                .spans
                .apple_call(
                    "sync_devices",
                    self.inner.sync_devices(cursor, limit),
                    span_outcome,
                )
                .await;
            self.page("sync_devices", started, result)
        })
    }

    fn define_profile<'a>(
        &'a self,
        profile: &'a DepProfile,
    ) -> BoxFuture<'a, Result<DefineProfileResponse, AppleError>> {
        Box::pin(async move {
            let started = Instant::now();
            let result = self
                .spans
                .apple_call(
                    "define_profile",
                    self.inner.define_profile(profile),
                    span_outcome,
                )
                .await;
            self.record("define_profile", started, &result);
            result
        })
    }

    fn assign_profile<'a>(
        &'a self,
        profile_uuid: &'a str,
        serials: &'a [String],
    ) -> BoxFuture<'a, Result<AssignProfileResponse, AppleError>> {
        Box::pin(async move {
            let started = Instant::now();
            let result = self
                .spans
                .apple_call(
                    "assign_profile",
                    self.inner.assign_profile(profile_uuid, serials),
                    span_outcome,
                )
                .await;
            self.record("assign_profile", started, &result);
            if let Ok(answer) = &result {
                self.serials(&answer.devices);
            }
            result
        })
    }

    fn disown<'a>(
        &'a self,
        serials: &'a [String],
    ) -> BoxFuture<'a, Result<SerialResults, AppleError>> {
        Box::pin(async move {
            let started = Instant::now();
            let result = self
                .spans
                .apple_call("disown", self.inner.disown(serials), span_outcome)
                .await;
            self.record("disown", started, &result);
            result
        })
    }

    fn requests_made(&self) -> u64 {
        self.inner.requests_made()
    }
}
