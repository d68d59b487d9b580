//! The simulator's whole state behind one mutex: persisted servers, devices and settings, plus
//! runtime-only sessions, nonces, injected failures, counters and the request log.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::endpoint::Endpoint;
use super::failures::InjectedFailure;
use super::generate;
use super::server::MdmServer;

/// Number of requests kept for `GET /admin/requests`.
const REQUEST_LOG_LEN: usize = 1000;

/// Tunables (`GET` / `PATCH /admin/settings`); persisted with the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SimSettings {
    /// Auth session lifetime. Apple does not document it (reference §5); 30 minutes here.
    pub session_ttl_secs: i64,
    /// Cursors older than this are `EXPIRED_CURSOR` (Apple: 7 days).
    pub cursor_max_age_secs: i64,
    /// Accepted clock skew of `oauth_timestamp`; also how long nonces are remembered.
    pub timestamp_window_secs: i64,
    /// Fetch/sync page size without `limit` (Apple docs: 100).
    pub limit_default: u32,
    /// Larger `limit`s are capped to this (Apple docs: 1000).
    pub limit_max: u32,
    /// Serials accepted per assign / remove / details / disown request (Apple: 1000).
    pub max_serials_per_request: usize,
    /// depsim compatibility: `403 FORBIDDEN` for unknown sessions, JSON-quoted error bodies,
    /// exact `Content-Type` on `/session`, 16-hex profile UUIDs, `PROFILE_NOT_FOUND` as 400,
    /// sync `fetched_until` = `0001-01-01T00:00:00Z`.
    pub depsim_compat: bool,
    /// Answer every service call with a fresh `X-ADM-Auth-Session` (the old one stays valid).
    pub rotate_session_tokens: bool,
    /// `User-Agent` prefixes answered with `400 USER_AGENT_INVALID` (nanodep #42).
    pub rejected_user_agents: Vec<String>,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            session_ttl_secs: 30 * 60,
            cursor_max_age_secs: 7 * 24 * 3600,
            timestamp_window_secs: 300,
            limit_default: 100,
            limit_max: 1000,
            max_serials_per_request: 1000,
            depsim_compat: false,
            rotate_session_tokens: false,
            rejected_user_agents: vec!["nanodep-godep/0".to_owned()],
        }
    }
}

/// An issued auth session token.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub server: String,
    pub expires: DateTime<Utc>,
}

/// One received request, for `GET /admin/requests`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RequestRecord {
    pub at: DateTime<Utc>,
    pub endpoint: Option<Endpoint>,
    pub method: String,
    pub path: String,
    pub server: Option<String>,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    pub user_agent: Option<String>,
    pub protocol_version: Option<String>,
}

/// State that is never persisted.
#[derive(Debug, Default)]
pub(crate) struct Runtime {
    pub sessions: HashMap<String, Session>,
    /// consumer key → nonce → `oauth_timestamp`.
    pub nonces: HashMap<String, HashMap<String, i64>>,
    pub failures: Vec<InjectedFailure>,
    pub next_failure_id: u64,
    pub counters: BTreeMap<Endpoint, u64>,
    pub server_counters: HashMap<String, BTreeMap<Endpoint, u64>>,
    pub requests: VecDeque<RequestRecord>,
    /// Bumped on every change; the saver writes a generation once.
    pub generation: u64,
    pub dirty: bool,
}

/// Everything the simulator knows.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SimState {
    #[serde(default)]
    pub settings: SimSettings,
    /// HMAC key of cursors.
    pub cursor_key: String,
    pub servers: BTreeMap<String, MdmServer>,
    /// Serials disowned through `POST /devices/disown`: gone from the organisation.
    #[serde(default)]
    pub disowned: BTreeSet<String>,
    #[serde(skip)]
    pub rt: Runtime,
}

impl Default for SimState {
    fn default() -> Self {
        Self {
            settings: SimSettings::default(),
            cursor_key: generate::hex_id(64),
            servers: BTreeMap::new(),
            disowned: BTreeSet::new(),
            rt: Runtime::default(),
        }
    }
}

impl SimState {
    /// Marks the state changed, for the saver.
    pub(crate) fn touch(&mut self) {
        self.rt.generation += 1;
        self.rt.dirty = true;
    }

    /// The id of the server with id or name `key`.
    pub(crate) fn find_server(&self, key: &str) -> Option<String> {
        if self.servers.contains_key(key) {
            return Some(key.to_owned());
        }
        self.servers
            .values()
            .find(|s| s.name == key)
            .map(|s| s.id.clone())
    }

    /// The id of the server whose token has `consumer_key`.
    pub(crate) fn server_for_consumer_key(&self, consumer_key: &str) -> Option<String> {
        self.servers
            .values()
            .find(|s| s.credentials.consumer_key == consumer_key)
            .map(|s| s.id.clone())
    }

    /// The id of the server currently holding `serial`.
    pub(crate) fn owner_of(&self, serial: &str) -> Option<String> {
        self.servers
            .values()
            .find(|s| s.devices.contains_key(serial))
            .map(|s| s.id.clone())
    }

    /// Whether `serial` exists anywhere (or was disowned).
    pub(crate) fn serial_taken(&self, serial: &str) -> bool {
        self.disowned.contains(serial) || self.owner_of(serial).is_some()
    }

    /// Issues an auth session token for `server`.
    pub(crate) fn issue_session(&mut self, server: &str, now: DateTime<Utc>) -> String {
        self.rt.sessions.retain(|_, s| s.expires > now);
        let token = generate::hex_id(128);
        let expires = now + Duration::seconds(self.settings.session_ttl_secs);
        self.rt.sessions.insert(
            token.clone(),
            Session {
                server: server.to_owned(),
                expires,
            },
        );
        token
    }

    /// Counts a request to `endpoint`.
    pub(crate) fn count(&mut self, endpoint: Endpoint, server: Option<&str>) {
        *self.rt.counters.entry(endpoint).or_default() += 1;
        if let Some(server) = server {
            let per = self
                .rt
                .server_counters
                .entry(server.to_owned())
                .or_default();
            *per.entry(endpoint).or_default() += 1;
        }
    }

    /// Appends to the bounded request log.
    pub(crate) fn log_request(&mut self, record: RequestRecord) {
        if self.rt.requests.len() == REQUEST_LOG_LEN {
            self.rt.requests.pop_front();
        }
        self.rt.requests.push_back(record);
    }
}
