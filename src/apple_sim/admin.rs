//! The admin API (`/admin/…`, JSON, no authentication — the simulator is a test peer): servers,
//! and the state summary. Settings, sessions and the request log are in
//! `admin_runtime`, devices in `admin_devices` and
//! `admin_changes`, token and terms in `admin_token`, failure injection in `admin_failures`. Routes are listed in the module
//! documentation of `apple_sim`.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::endpoint::Endpoint;
use super::gate::Sim;
use super::model::{Account, now_secs};
use super::persist;
use super::server::{MdmServer, OrgInput};
use super::state::{SimSettings, SimState};
use super::{admin_changes, admin_devices, admin_failures, admin_runtime, admin_token};
use crate::apple::token_file::ServerTokenCredentials;

/// Most devices one admin call may generate.
const MAX_GENERATED: u32 = 100_000;

/// An admin API error, rendered as `{"error": "…"}`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdminError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(ErrorOut {
            error: self.to_string(),
        })
    }
}

#[derive(Serialize)]
struct ErrorOut {
    error: String,
}

/// Result of admin handlers.
pub(crate) type AdminResult = Result<HttpResponse, AdminError>;

/// Registers every `/admin` route.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    let json = web::JsonConfig::default()
        .limit(16 * 1024 * 1024)
        .error_handler(|e, _| AdminError::BadRequest(e.to_string()).into());
    cfg.app_data(json)
        .route("/admin/state", web::get().to(get_state))
        .route("/admin/servers", web::get().to(list_servers))
        .route("/admin/servers", web::post().to(create_server))
        .route("/admin/servers/{server}", web::get().to(get_server))
        .route(
            "/admin/servers/{server}/profiles",
            web::get().to(list_profiles),
        )
        .configure(admin_devices::configure)
        .configure(admin_changes::configure)
        .configure(admin_token::configure)
        .configure(admin_failures::configure)
        .configure(admin_runtime::configure);
}

/// `GET /admin/servers/{server}/profiles`: every profile the server was sent, as received
/// (with its `profile_uuid`), so a test can see what Apple got — the `url` above all.
async fn list_profiles(sim: web::Data<Sim>, path: web::Path<String>) -> AdminResult {
    let st = sim.lock();
    let id = server_id(&st, &path)?;
    let profiles: Vec<_> = st
        .servers
        .get(&id)
        .map(|s| s.profiles.values().cloned().collect())
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "profiles": profiles })))
}

/// The id of server `key` (id or name), else 404.
pub(crate) fn server_id(st: &SimState, key: &str) -> Result<String, AdminError> {
    st.find_server(key)
        .ok_or_else(|| AdminError::NotFound(format!("no MDM server {key}")))
}

/// A server with its credentials, account, device counts and request counters.
#[derive(Debug, Serialize)]
pub(crate) struct ServerInfo {
    id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<bool>,
    device_count: usize,
    devices_by_family: BTreeMap<String, usize>,
    profile_count: usize,
    change_log_length: u64,
    terms_signed: bool,
    credentials: ServerTokenCredentials,
    account: Account,
    requests: BTreeMap<Endpoint, u64>,
}

/// Describes server `id`.
pub(crate) fn server_info(
    st: &SimState,
    id: &str,
    created: Option<bool>,
) -> Result<ServerInfo, AdminError> {
    let s = st
        .servers
        .get(id)
        .ok_or_else(|| AdminError::NotFound(format!("no MDM server {id}")))?;
    let mut by_family = BTreeMap::new();
    for d in s.devices.values() {
        *by_family
            .entry(d.device_family.clone().unwrap_or_default())
            .or_default() += 1;
    }
    Ok(ServerInfo {
        id: s.id.clone(),
        name: s.name.clone(),
        created,
        device_count: s.devices.len(),
        devices_by_family: by_family,
        profile_count: s.profiles.len(),
        change_log_length: s.last_seq(),
        terms_signed: s.terms_signed,
        credentials: s.credentials.clone(),
        account: s.account.clone(),
        requests: st.rt.server_counters.get(id).cloned().unwrap_or_default(),
    })
}

#[derive(Debug, Deserialize)]
struct CreateServer {
    name: String,
    #[serde(default)]
    devices: u32,
    #[serde(default)]
    access_token_expiry: Option<DateTime<Utc>>,
    #[serde(flatten)]
    org: OrgInput,
}

/// `POST /admin/servers`: create-or-get by name (an existing server is returned unchanged).
async fn create_server(sim: web::Data<Sim>, body: web::Json<CreateServer>) -> AdminResult {
    let body = body.into_inner();
    if body.name.trim().is_empty() || body.devices > MAX_GENERATED {
        return Err(AdminError::BadRequest(format!(
            "name is required, devices ≤ {MAX_GENERATED}"
        )));
    }
    let (info, created) = {
        let mut st = sim.lock();
        if let Some(id) = st.find_server(&body.name) {
            (server_info(&st, &id, Some(false))?, false)
        } else {
            let now = now_secs();
            let mut server = MdmServer::new(&body.name, body.org, now);
            if let Some(expiry) = body.access_token_expiry {
                server.credentials.access_token_expiry = expiry;
            }
            let id = server.id.clone();
            st.servers.insert(id.clone(), server);
            admin_devices::generate_into(&mut st, &id, body.devices as usize, now)?;
            st.touch();
            (server_info(&st, &id, Some(true))?, true)
        }
    };
    persist::save(&sim).await;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(info))
}

async fn get_server(sim: web::Data<Sim>, path: web::Path<String>) -> AdminResult {
    let st = sim.lock();
    let id = server_id(&st, &path)?;
    Ok(HttpResponse::Ok().json(server_info(&st, &id, None)?))
}

#[derive(Serialize)]
struct ServersOut {
    servers: Vec<ServerInfo>,
}

async fn list_servers(sim: web::Data<Sim>) -> AdminResult {
    let st = sim.lock();
    let servers = st
        .servers
        .keys()
        .map(|id| server_info(&st, id, None))
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(ServersOut { servers }))
}

#[derive(Serialize)]
struct StateOut {
    servers: Vec<ServerInfo>,
    requests: BTreeMap<Endpoint, u64>,
    total_requests: u64,
    live_sessions: usize,
    pending_failures: usize,
    disowned_devices: usize,
    settings: SimSettings,
}

/// `GET /admin/state`: summary with per-endpoint request counters (zeros included).
async fn get_state(sim: web::Data<Sim>) -> AdminResult {
    let st = sim.lock();
    let now = now_secs();
    let mut requests: BTreeMap<Endpoint, u64> = Endpoint::ALL.iter().map(|e| (*e, 0)).collect();
    requests.extend(st.rt.counters.iter().map(|(e, n)| (*e, *n)));
    let servers = st
        .servers
        .keys()
        .map(|id| server_info(&st, id, None))
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(StateOut {
        servers,
        total_requests: requests.values().sum(),
        requests,
        live_sessions: st.rt.sessions.values().filter(|s| s.expires > now).count(),
        pending_failures: st.rt.failures.len(),
        disowned_devices: st.disowned.len(),
        settings: st.settings.clone(),
    }))
}
