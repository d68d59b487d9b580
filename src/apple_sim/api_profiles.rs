//! `POST /profile`, `GET /profile`, `POST`/`PUT /profile/devices` and
//! `DELETE /profile/devices` (reference §2.6-§2.9). Profiles are immutable and scoped to the
//! server that defined them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::api_devices::{ResultsOut, SerialsRequest, serials};
use super::endpoint::Endpoint;
use super::gate::{self, Sim, json_body};
use super::generate;
use super::profiles::{self, Results};
use super::reply::{Reply, SimError};
use super::state::SimState;

#[derive(Debug, Serialize)]
struct AssignOut {
    profile_uuid: String,
    devices: Results,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct AssignRequest {
    #[serde(default)]
    profile_uuid: Option<String>,
    #[serde(default)]
    devices: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct ProfileQuery {
    #[serde(default)]
    profile_uuid: Option<String>,
}

/// `PROFILE_NOT_FOUND`: 404 as seen from Apple, 400 in depsim's catalogue.
fn profile_not_found(st: &SimState) -> SimError {
    let status = if st.settings.depsim_compat {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::NOT_FOUND
    };
    SimError::new(status, "PROFILE_NOT_FOUND")
}

/// `POST /profile`: validates, stores, and assigns the optional `devices`.
pub(crate) async fn define_profile(
    sim: web::Data<Sim>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    gate::serve(&sim, &req, &body, Endpoint::ProfileDefine, |st, ctx| {
        let mut profile: Map<String, Value> = json_body(&req, &body)?;
        profiles::validate(&profile)?;
        let devices: Vec<String> = match profile.remove("devices") {
            Some(list) => serde_json::from_value(list)
                .map_err(|_| SimError::bad_request("MALFORMED_REQUEST_BODY"))?,
            None => Vec::new(),
        };
        if devices.len() > st.settings.max_serials_per_request {
            return Err(SimError::bad_request("TOO_MANY_DEVICES"));
        }
        let uuid = generate::hex_id(if st.settings.depsim_compat { 16 } else { 32 });
        profile.insert("profile_uuid".to_owned(), Value::String(uuid.clone()));
        let server = st
            .servers
            .get_mut(&ctx.server)
            .ok_or_else(SimError::internal)?;
        server.profiles.insert(uuid.clone(), profile);
        let (devices, retry_after_seconds) = profiles::assign(
            server,
            &uuid,
            &devices,
            ctx.quirk.as_ref(),
            ctx.version,
            ctx.now,
        );
        Reply::json(&AssignOut {
            profile_uuid: uuid,
            devices,
            retry_after_seconds,
        })
    })
}

/// `GET /profile?profile_uuid=…`.
pub(crate) async fn get_profile(sim: web::Data<Sim>, req: HttpRequest) -> HttpResponse {
    gate::serve(&sim, &req, &[], Endpoint::ProfileGet, |st, ctx| {
        let query = web::Query::<ProfileQuery>::from_query(req.query_string())
            .map_err(|_| SimError::bad_request("MALFORMED_REQUEST_BODY"))?;
        let uuid = query
            .profile_uuid
            .as_deref()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| SimError::bad_request("PROFILE_UUID_REQUIRED"))?;
        let server = st.servers.get(&ctx.server).ok_or_else(SimError::internal)?;
        let profile = server
            .profiles
            .get(uuid)
            .ok_or_else(|| profile_not_found(st))?;
        Reply::json(profile)
    })
}

/// `POST` and `PUT /profile/devices`.
pub(crate) async fn assign_profile(
    sim: web::Data<Sim>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    gate::serve(&sim, &req, &body, Endpoint::ProfileAssign, |st, ctx| {
        let request: AssignRequest = json_body(&req, &body)?;
        let uuid = request
            .profile_uuid
            .filter(|u| !u.is_empty())
            .ok_or_else(|| SimError::bad_request("PROFILE_UUID_REQUIRED"))?;
        let list = serials(request.devices, st)?;
        let not_found = profile_not_found(st);
        let server = st
            .servers
            .get_mut(&ctx.server)
            .ok_or_else(SimError::internal)?;
        if !server.profiles.contains_key(&uuid) {
            return Err(not_found);
        }
        let (devices, retry_after_seconds) = profiles::assign(
            server,
            &uuid,
            &list,
            ctx.quirk.as_ref(),
            ctx.version,
            ctx.now,
        );
        Reply::json(&AssignOut {
            profile_uuid: uuid,
            devices,
            retry_after_seconds,
        })
    })
}

/// `DELETE /profile/devices` (JSON body; `profile_uuid` in it is ignored).
pub(crate) async fn remove_profile(
    sim: web::Data<Sim>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    gate::serve(&sim, &req, &body, Endpoint::ProfileRemove, |st, ctx| {
        let request: SerialsRequest = json_body(&req, &body)?;
        let list = serials(request.devices, st)?;
        let server = st
            .servers
            .get_mut(&ctx.server)
            .ok_or_else(SimError::internal)?;
        let devices = profiles::remove(server, &list, ctx.quirk.as_ref(), ctx.now);
        Reply::json(&ResultsOut { devices })
    })
}
