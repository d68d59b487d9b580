//! The gateway's client of Apple's DEP web service (reference §1-§7): one [`DepClient`] per
//! server token, with a lazily opened, single-flight auth session, re-authentication once on
//! `401`, retries with backoff on `429` and 5xx, and Apple's errors mapped to [`AppleError`].
//! It talks to `https://mdmenrollment.apple.com` or, in tests and demos, the bundled simulator.

mod retry;
mod transport;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use url::Url;

use super::error::AppleError;
use super::token_file::ServerTokenCredentials;
use super::types::{
    Account, AssignProfileResponse, DefineProfileResponse, DepProfile, Device, DevicePage,
    DevicesMap, SerialResults,
};
use crate::clock::{Clock, SystemClock};

/// Apple's production base URL.
pub const APPLE_BASE_URL: &str = "https://mdmenrollment.apple.com";

/// The `X-Server-Protocol-Version` sent by default: 10, the highest version of the feature map
/// (reference §6). It opts into per-device `THROTTLED` (9) with `retry_after_seconds` (10),
/// which assignment cooldowns need, plus `iPadOS` (7) and `mdm_migration_deadline` (8); every
/// lower version's fields are a subset.
pub const DEFAULT_PROTOCOL_VERSION: &str = "10";

/// How a [`DepClient`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// `User-Agent` (Apple rejects requests without one; keep it distinctive).
    pub user_agent: String,
    /// `X-Server-Protocol-Version`.
    pub protocol_version: String,
    /// Retries of one call after `429`, `500`, `502`, `503` or `504`.
    pub max_retries: u32,
    /// Longest wait between retries, whatever `Retry-After` says.
    pub max_backoff: Duration,
    /// Timeout of each HTTP request.
    pub request_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            user_agent: concat!("dep-gateway/", env!("CARGO_PKG_VERSION")).to_owned(),
            protocol_version: DEFAULT_PROTOCOL_VERSION.to_owned(),
            max_retries: 3,
            max_backoff: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// The auth session slot of one server token: `None` until a session is opened. Clients of the
/// same token share it ([`DepClient::with_session`]), so every job of a token uses one session
/// and its lock makes opening (or re-opening) the session single-flight across all of them.
pub type SharedSession = Arc<tokio::sync::Mutex<Option<String>>>;

/// A client for one server token. Share it (e.g. in an `Arc`) so calls reuse its session.
pub struct DepClient {
    http: reqwest::Client,
    base_url: Url,
    credentials: ServerTokenCredentials,
    options: ClientOptions,
    /// The auth session token; the lock also makes opening a session single-flight.
    session: SharedSession,
    requests: AtomicU64,
    /// Waits out `Retry-After` and backoff (a fake clock in tests).
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for DepClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DepClient")
            .field("base_url", &self.base_url.as_str())
            .field("credentials", &self.credentials)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct PageRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
}

impl<'a> PageRequest<'a> {
    fn new(cursor: Option<&'a str>, limit: u32) -> Self {
        Self {
            cursor,
            limit: (limit > 0).then_some(limit),
        }
    }
}

#[derive(Serialize)]
struct SerialsRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    profile_uuid: Option<&'a str>,
    devices: Vec<&'a str>,
}

impl<'a> SerialsRequest<'a> {
    fn new<S: AsRef<str>>(profile_uuid: Option<&'a str>, serials: &'a [S]) -> Self {
        Self {
            profile_uuid,
            devices: serials.iter().map(AsRef::as_ref).collect(),
        }
    }
}

impl DepClient {
    /// A client of `base_url` (Apple's [`APPLE_BASE_URL`] or a simulator, optionally with a
    /// path prefix) for one server token. Nothing is sent until the first call.
    pub fn new(
        http: reqwest::Client,
        mut base_url: Url,
        credentials: ServerTokenCredentials,
        options: ClientOptions,
    ) -> Self {
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        Self {
            http,
            base_url,
            credentials,
            options,
            session: SharedSession::default(),
            requests: AtomicU64::new(0),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same client waiting between retries on `clock` instead of the wall clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same client using `session`, the slot other clients of the same token share.
    #[must_use]
    pub fn with_session(mut self, session: SharedSession) -> Self {
        self.session = session;
        self
    }

    /// HTTP requests sent so far (sessions, retries and replays included).
    pub fn requests_made(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The base URL (ending in `/`).
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// `GET /account`.
    pub async fn account(&self) -> Result<Account, AppleError> {
        self.call(Method::GET, "account", None::<&()>).await
    }

    /// `POST /server/devices`: one page of the full device list; no cursor starts a fetch.
    /// `limit` 0 leaves the page size to Apple.
    pub async fn fetch_devices(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<DevicePage, AppleError> {
        let body = PageRequest::new(cursor, limit);
        self.call(Method::POST, "server/devices", Some(&body)).await
    }

    /// `POST /devices/sync`: the changes after `cursor` (from a fetch or an earlier sync).
    pub async fn sync_devices(&self, cursor: &str, limit: u32) -> Result<DevicePage, AppleError> {
        let body = PageRequest::new(Some(cursor), limit);
        self.call(Method::POST, "devices/sync", Some(&body)).await
    }

    /// `POST /devices`: details per serial; each carries `response_status` (`SUCCESS`,
    /// `NOT_FOUND`, …) and failed ones little else.
    pub async fn device_details<S: AsRef<str>>(
        &self,
        serials: &[S],
    ) -> Result<BTreeMap<String, Device>, AppleError> {
        let body = SerialsRequest::new(None, serials);
        let map: DevicesMap<Device> = self.call(Method::POST, "devices", Some(&body)).await?;
        Ok(map.devices)
    }

    /// `POST /profile`: defines a new (immutable) profile, assigning its `devices` if any.
    pub async fn define_profile(
        &self,
        profile: &DepProfile,
    ) -> Result<DefineProfileResponse, AppleError> {
        self.call(Method::POST, "profile", Some(profile)).await
    }

    /// `POST /profile/devices`: assigns a profile to at most 1000 serials.
    pub async fn assign_profile<S: AsRef<str>>(
        &self,
        profile_uuid: &str,
        serials: &[S],
    ) -> Result<AssignProfileResponse, AppleError> {
        let body = SerialsRequest::new(Some(profile_uuid), serials);
        self.call(Method::POST, "profile/devices", Some(&body))
            .await
    }

    /// `DELETE /profile/devices` (with a body): removes the profile from serials; they stay
    /// assigned to the server and can get another profile.
    pub async fn remove_profile<S: AsRef<str>>(
        &self,
        serials: &[S],
    ) -> Result<SerialResults, AppleError> {
        let body = SerialsRequest::new(None, serials);
        let map: DevicesMap<_> = self
            .call(Method::DELETE, "profile/devices", Some(&body))
            .await?;
        Ok(map.devices)
    }

    /// `POST /devices/disown`: **permanently** removes serials from the organisation. Only on
    /// an explicit administrator request, never automatically.
    pub async fn disown<S: AsRef<str>>(&self, serials: &[S]) -> Result<SerialResults, AppleError> {
        let body = SerialsRequest::new(None, serials);
        let map: DevicesMap<_> = self
            .call(Method::POST, "devices/disown", Some(&body))
            .await?;
        Ok(map.devices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets_and_base_url_gets_a_trailing_slash() {
        let creds = ServerTokenCredentials::generate(chrono::Utc::now());
        let base = Url::parse("http://127.0.0.1:9/proxy/dep1").unwrap();
        let client = DepClient::new(
            reqwest::Client::new(),
            base,
            creds.clone(),
            ClientOptions::default(),
        );
        let shown = format!("{client:?}");
        assert!(!shown.contains(&creds.consumer_secret) && !shown.contains(&creds.access_secret));
        assert!(!shown.contains(&creds.access_token));
        assert_eq!(client.base_url().as_str(), "http://127.0.0.1:9/proxy/dep1/");
        assert_eq!(client.requests_made(), 0);
        assert!(
            ClientOptions::default()
                .user_agent
                .starts_with("dep-gateway/")
        );
    }
}
