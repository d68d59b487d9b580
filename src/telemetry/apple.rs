//! Metering of Apple calls at the [`AppleConnector`] seam: [`MeteredConnector`] wraps the real
//! connector (or a test fake) and every [`DepApi`] it makes, so each call is counted by endpoint
//! and outcome with its latency, device pages count the devices received, and assignment answers
//! count Apple's per-serial results. The services do not know they are metered.

use std::sync::Arc;
use std::time::Instant;

use futures_util::future::BoxFuture;

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
}

impl MeteredConnector {
    /// Meters the clients `inner` makes.
    pub fn new(inner: Arc<dyn AppleConnector>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
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
        })
    }
}

struct Metered {
    inner: Arc<dyn DepApi>,
    metrics: Arc<Metrics>,
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
            let result = self.inner.account().await;
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
            let result = self.inner.fetch_devices(cursor, limit).await;
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
            let result = self.inner.sync_devices(cursor, limit).await;
            self.page("sync_devices", started, result)
        })
    }

    fn define_profile<'a>(
        &'a self,
        profile: &'a DepProfile,
    ) -> BoxFuture<'a, Result<DefineProfileResponse, AppleError>> {
        Box::pin(async move {
            let started = Instant::now();
            let result = self.inner.define_profile(profile).await;
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
            let result = self.inner.assign_profile(profile_uuid, serials).await;
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
            let result = self.inner.disown(serials).await;
            self.record("disown", started, &result);
            result
        })
    }

    fn requests_made(&self) -> u64 {
        self.inner.requests_made()
    }
}
