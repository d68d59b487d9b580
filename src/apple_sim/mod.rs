//! The bundled Apple DEP simulator (`dep-gateway apple-sim`): the server side of Apple's Device
//! Assignment web service, written from the protocol description
//! (`reference/apple-dep-protocol.md` §1-§7, §11), in memory behind one mutex, optionally
//! persisted to a JSON state file.
//!
//! # Apple endpoints
//! `GET /session` (OAuth 1.0a HMAC-SHA1, verified for real), `GET /account`,
//! `POST /server/devices`, `POST /devices/sync`, `POST /devices`, `POST /devices/disown`,
//! `POST /profile`, `GET /profile?profile_uuid=`, `POST`/`PUT`/`DELETE /profile/devices`.
//! Every call needs a `User-Agent` (`400 USER_AGENT_MISSING` / `USER_AGENT_INVALID`); service
//! calls also need `X-Server-Protocol-Version` (`400 SERVER_PROTOCOL_VERSION_MISSING`, a
//! simulator code) and a live `X-ADM-Auth-Session` (`401 UNAUTHORIZED`); non-empty bodies need
//! a JSON `Content-Type` (`415 UNSUPPORTED_MEDIA_TYPE`, a simulator code). Unsigned terms give
//! `403 T_C_NOT_SIGNED` everywhere, an expired server token `401`. Error bodies are bare codes
//! (`text/plain`), or JSON-quoted strings with `depsim_compat`.
//!
//! # Admin API (JSON, no authentication; `{server}` is a server id or name)
//! | route | body → answer |
//! |---|---|
//! | `POST /admin/servers` | `{"name", "devices"?: N, "org_name"?, "org_email"?, "org_phone"?, "org_address"?, "org_id"?, "org_type"?, "admin_id"?, "access_token_expiry"?}` → `201` new / `200` existing (unchanged): server info |
//! | `GET /admin/servers`, `GET /admin/servers/{server}` | → `{"servers": [info]}` / info: `id`, `name`, `device_count`, `devices_by_family`, `profile_count`, `change_log_length`, `terms_signed`, `credentials` {`consumer_key`, `consumer_secret`, `access_token`, `access_secret`, `access_token_expiry`}, `account` {`server_name`, `server_uuid`, `admin_id`, `org_name`, `org_email`, `org_phone`, `org_address`, `org_id`, `org_id_hash`, `org_type`, `org_version`}, `requests` {endpoint: n} |
//! | `GET /admin/state` | → `{"servers": [info], "requests": {endpoint: n}, "total_requests", "live_sessions", "pending_failures", "disowned_devices", "settings"}` |
//! | `GET /admin/servers/{server}/devices` | → `{"devices": [Device]}` |
//! | `POST /admin/servers/{server}/devices` | `{"count"?: N, "devices"?: [{"serial_number"?, "model"?, "description"?, "color"?, "asset_tag"?, "os"?, "device_family"?}]}` → `{"devices": [added]}` (sync: `added`) |
//! | `POST /admin/servers/{server}/devices/modify` | `{"serials"?: [..], "count"?: N random others, "set"?: {fields, "profile_status"?; "" clears}}` (no `set`: new asset tag) → `{"changed", "not_found"}` (sync: `modified`) |
//! | `POST /admin/servers/{server}/devices/delete` | `{"serials": [..], "disown"?: bool}` → `{"changed", "not_found"}` (sync: `deleted`; `disown`: gone from the organisation) |
//! | `POST /admin/devices/move` | `{"serials": [..], "to": server, "as_modified"?: bool}` → `{"changed", "not_found"}` (source: `deleted`; target: `added`, or `modified` + `removed`; same server: profile removed) |
//! | `POST /admin/servers/{server}/assign-outcomes` | `{"serials": [..], "outcome": "FAILED"｜"THROTTLED"｜"SUCCESS", "retry_after_seconds"?}` → `{"overrides": n}` |
//! | `POST /admin/servers/{server}/token` | `{"access_token_expiry"?, "expire"?: bool, "renew"?: bool}` → info |
//! | `POST /admin/servers/{server}/terms` | `{"signed": bool}` → info |
//! | `POST /admin/servers/{server}/p7m?cipher=aes256｜des3&encoding=ber｜der` | PEM certificate or public key → the `.p7m` text |
//! | `POST /admin/sessions/expire` | `{"server"?}` → `{"expired": n}` |
//! | `POST /admin/failures` | `{"endpoint"?: name or "METHOD /path" (absent: any), "server"?, "count"?: N (1), "response"?: catalogue name, "status"?, "body"?, "retry_after"?: seconds or HTTP date}` → `201` rule |
//! | `GET` / `DELETE /admin/failures` | pending rules / clear |
//! | `GET /admin/requests?limit=&server=` | → `{"requests": [{at, endpoint, method, path, server, status, cursor?, limit?, user_agent, protocol_version}]}` (last 1000) |
//! | `DELETE /admin/requests` | clears the log and all counters |
//! | `GET` / `PATCH /admin/settings` | `session_ttl_secs`, `cursor_max_age_secs`, `timestamp_window_secs`, `limit_default`, `limit_max`, `max_serials_per_request`, `depsim_compat`, `rotate_session_tokens`, `rejected_user_agents` |
//!
//! Endpoint names: `session`, `account`, `server_devices`, `devices_sync`, `devices`,
//! `devices_disown`, `profile_define`, `profile_get`, `profile_assign`, `profile_remove`.
//! Catalogue responses (reference §11.2): `bad_request`, `bad_request_<code>` (→ `400 <CODE>`,
//! e.g. `bad_request_invalid_cursor`, `bad_request_expired_cursor`), `unauthorized`,
//! `forbidden`, `forbidden_access_denied`, `forbidden_t_c_not_signed`, `invalid_method`,
//! `too_many_requests` (`Retry-After: 1`), `internal_server_error`, `service_unavailable`,
//! `session_expired` (drops the caller's session, `401`), `same_cursor` (fetch/sync echo the
//! request cursor with `more_to_follow: true`), and per-serial `success`, `not_found`,
//! `not_accessible`, `failed`, `throttled`.

mod admin;
mod admin_changes;
mod admin_devices;
mod admin_failures;
mod admin_runtime;
mod admin_token;
mod api_devices;
mod api_profiles;
mod api_session;
mod cursor;
mod endpoint;
mod failures;
mod gate;
mod generate;
mod model;
mod oauth;
mod paging;
mod persist;
mod profiles;
mod reply;
mod routes;
mod server;
mod state;
mod tools;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tokio::sync::watch;

use gate::Sim;
use persist::Persist;
use state::SimState;
pub use tools::{make_dep_token, serve_until_ctrl_c, server_credentials};

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Listen address; port 0 picks a free port.
    pub bind: String,
    /// JSON state file: loaded at start, rewritten atomically on changes.
    pub state_file: Option<PathBuf>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:0".to_owned(),
            state_file: None,
        }
    }
}

/// A running simulator. Dropping it stops the server (without the final save of `stop`).
pub struct SimHandle {
    addr: SocketAddr,
    server: ServerHandle,
    sim: web::Data<Sim>,
    stop_saver: watch::Sender<bool>,
    saver: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, the base URL to give a DEP client instead of Apple's.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving, waits for in-flight requests and writes the state file one last time.
    pub async fn stop(mut self) {
        self.server.stop(true).await;
        let _ = self.stop_saver.send(true);
        if let Some(saver) = self.saver.take() {
            let _ = saver.await;
        }
        persist::save(&self.sim).await;
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; the returned future only waits.
        drop(self.server.stop(false));
        let _ = self.stop_saver.send(true);
    }
}

/// Binds `config.bind`, loads the state file if any, and serves in the background on the
/// current Tokio runtime (a `#[tokio::test]` or `#[actix_web::main]` runtime both work).
pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
    let state = match config.state_file.clone() {
        Some(path) => tokio::task::spawn_blocking(move || Persist::load(&path))
            .await??
            .unwrap_or_default(),
        None => SimState::default(),
    };
    let sim = web::Data::new(Sim::new(state, config.state_file.map(Persist::new)));
    let listener =
        TcpListener::bind(&config.bind).with_context(|| format!("binding {}", config.bind))?;
    let addr = listener.local_addr()?;
    let data = sim.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .configure(routes::configure)
            .default_service(web::to(routes::not_found))
    })
    .workers(2)
    .disable_signals()
    .shutdown_timeout(2)
    .listen(listener)?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    let (stop_saver, stopped) = watch::channel(false);
    let saver = tokio::spawn(persist::saver(sim.clone(), stopped));
    tracing::info!(%addr, "Apple DEP simulator listening");
    Ok(SimHandle {
        addr,
        server: handle,
        sim,
        stop_saver,
        saver: Some(saver),
    })
}
