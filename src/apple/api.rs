//! The Apple seam of the services: [`DepApi`] is what they call on Apple's DEP web service for
//! one server token, and [`AppleConnector`] makes one from a token's OAuth credentials. The real
//! pair is [`DepClient`] (reqwest) made by [`HttpConnector`]; unit tests of the services plug in
//! an in-process fake instead, and nothing outside the connector calls `DepClient::new`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use url::Url;

use super::client::{ClientOptions, DepClient, SharedSession};
use super::error::AppleError;
use super::token_file::ServerTokenCredentials;
use super::types::{
    Account, AssignProfileResponse, DefineProfileResponse, DepProfile, DevicePage, SerialResults,
};
use crate::clock::Clock;

/// Apple's DEP web service for one server token, as the services use it. Object safe (boxed
/// futures) so it can be shared as `Arc<dyn DepApi>`.
pub trait DepApi: Send + Sync {
    /// `GET /account`.
    fn account(&self) -> BoxFuture<'_, Result<Account, AppleError>>;

    /// `POST /server/devices`: one page of the full fetch; no cursor starts it; `limit` 0
    /// leaves the page size to Apple.
    fn fetch_devices<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: u32,
    ) -> BoxFuture<'a, Result<DevicePage, AppleError>>;

    /// `POST /devices/sync`: the changes after `cursor`.
    fn sync_devices<'a>(
        &'a self,
        cursor: &'a str,
        limit: u32,
    ) -> BoxFuture<'a, Result<DevicePage, AppleError>>;

    /// `POST /profile`: defines a new profile.
    fn define_profile<'a>(
        &'a self,
        profile: &'a DepProfile,
    ) -> BoxFuture<'a, Result<DefineProfileResponse, AppleError>>;

    /// `POST /profile/devices`: assigns a profile to at most 1000 serials.
    fn assign_profile<'a>(
        &'a self,
        profile_uuid: &'a str,
        serials: &'a [String],
    ) -> BoxFuture<'a, Result<AssignProfileResponse, AppleError>>;

    /// `POST /devices/disown`: permanently removes serials from the organisation.
    fn disown<'a>(
        &'a self,
        serials: &'a [String],
    ) -> BoxFuture<'a, Result<SerialResults, AppleError>>;

    /// HTTP requests sent so far (for logs).
    fn requests_made(&self) -> u64;
}

/// Makes the [`DepApi`] of a server token. Held by the services as `Arc<dyn AppleConnector>`.
pub trait AppleConnector: Send + Sync {
    /// A client for the token with `credentials`, behaving as `options` say.
    fn connect(
        &self,
        credentials: ServerTokenCredentials,
        options: ClientOptions,
    ) -> Arc<dyn DepApi>;
}

/// The production connector: [`DepClient`]s of one base URL (Apple or the simulator) sharing one
/// reqwest client, waiting out `Retry-After` on the injected clock, and sharing one auth session
/// per server token: the upload check, each sync, each assignment push and each disown of a
/// token connect separately, and Apple would otherwise see a `/session` call from each.
#[derive(Debug, Clone)]
pub struct HttpConnector {
    http: reqwest::Client,
    base_url: Url,
    clock: Arc<dyn Clock>,
    sessions: Sessions,
}

impl HttpConnector {
    /// A connector to `base_url` over `http`.
    pub fn new(http: reqwest::Client, base_url: Url, clock: Arc<dyn Clock>) -> Self {
        Self {
            http,
            base_url,
            clock,
            sessions: Sessions::default(),
        }
    }
}

/// The session slot of each server token this process has connected, keyed by the token's
/// OAuth consumer key and access token (a renewed token gets a new slot and a new session).
/// Entries live as long as the connector: one small slot per token the process serves.
#[derive(Clone, Default)]
struct Sessions(Arc<Mutex<HashMap<(String, String), SharedSession>>>);

impl Sessions {
    fn of(&self, credentials: &ServerTokenCredentials) -> SharedSession {
        let key = (
            credentials.consumer_key.clone(),
            credentials.access_token.clone(),
        );
        // A panic while holding this lock cannot leave the map inconsistent (one insert).
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(key).or_default())
    }
}

/// Never prints keys or session tokens: they are credentials.
impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tokens = self.0.lock().map_or(0, |m| m.len());
        f.debug_struct("Sessions").field("tokens", &tokens).finish()
    }
}

impl AppleConnector for HttpConnector {
    fn connect(
        &self,
        credentials: ServerTokenCredentials,
        options: ClientOptions,
    ) -> Arc<dyn DepApi> {
        let session = self.sessions.of(&credentials);
        Arc::new(
            DepClient::new(
                self.http.clone(),
                self.base_url.clone(),
                credentials,
                options,
            )
            .with_clock(Arc::clone(&self.clock))
            .with_session(session),
        )
    }
}

impl DepApi for DepClient {
    fn account(&self) -> BoxFuture<'_, Result<Account, AppleError>> {
        Box::pin(DepClient::account(self))
    }

    fn fetch_devices<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: u32,
    ) -> BoxFuture<'a, Result<DevicePage, AppleError>> {
        Box::pin(DepClient::fetch_devices(self, cursor, limit))
    }

    fn sync_devices<'a>(
        &'a self,
        cursor: &'a str,
        limit: u32,
    ) -> BoxFuture<'a, Result<DevicePage, AppleError>> {
        Box::pin(DepClient::sync_devices(self, cursor, limit))
    }

    fn define_profile<'a>(
        &'a self,
        profile: &'a DepProfile,
    ) -> BoxFuture<'a, Result<DefineProfileResponse, AppleError>> {
        Box::pin(DepClient::define_profile(self, profile))
    }

    fn assign_profile<'a>(
        &'a self,
        profile_uuid: &'a str,
        serials: &'a [String],
    ) -> BoxFuture<'a, Result<AssignProfileResponse, AppleError>> {
        Box::pin(DepClient::assign_profile(self, profile_uuid, serials))
    }

    fn disown<'a>(
        &'a self,
        serials: &'a [String],
    ) -> BoxFuture<'a, Result<SerialResults, AppleError>> {
        Box::pin(DepClient::disown(self, serials))
    }

    fn requests_made(&self) -> u64 {
        DepClient::requests_made(self)
    }
}
