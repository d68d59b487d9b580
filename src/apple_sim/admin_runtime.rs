//! Admin routes about the simulator itself: settings, auth sessions and the request log.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::admin::{AdminError, AdminResult, server_id};
use super::gate::Sim;
use super::persist;
use super::state::RequestRecord;

/// Registers the routes of this module.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/settings", web::get().to(get_settings))
        .route("/admin/settings", web::patch().to(update_settings))
        .route("/admin/sessions/expire", web::post().to(expire_sessions))
        .route("/admin/requests", web::get().to(list_requests))
        .route("/admin/requests", web::delete().to(reset_requests));
}

async fn get_settings(sim: web::Data<Sim>) -> AdminResult {
    Ok(HttpResponse::Ok().json(sim.lock().settings.clone()))
}

/// `PATCH /admin/settings`: merges the given fields (unknown fields are rejected).
async fn update_settings(
    sim: web::Data<Sim>,
    body: web::Json<serde_json::Map<String, serde_json::Value>>,
) -> AdminResult {
    let settings = {
        let mut st = sim.lock();
        let mut merged = serde_json::to_value(&st.settings).map_err(anyhow::Error::from)?;
        if let Some(fields) = merged.as_object_mut() {
            fields.extend(body.into_inner());
        }
        st.settings =
            serde_json::from_value(merged).map_err(|e| AdminError::BadRequest(e.to_string()))?;
        st.touch();
        st.settings.clone()
    };
    persist::save(&sim).await;
    Ok(HttpResponse::Ok().json(settings))
}

#[derive(Debug, Default, Deserialize)]
struct ExpireSessions {
    #[serde(default)]
    server: Option<String>,
}

#[derive(Serialize)]
struct ExpiredOut {
    expired: usize,
}

/// `POST /admin/sessions/expire`: drops every auth session (of one server, if given).
async fn expire_sessions(
    sim: web::Data<Sim>,
    body: Option<web::Json<ExpireSessions>>,
) -> AdminResult {
    let mut st = sim.lock();
    let only = match body.and_then(|b| b.into_inner().server) {
        Some(key) => Some(server_id(&st, &key)?),
        None => None,
    };
    let before = st.rt.sessions.len();
    st.rt
        .sessions
        .retain(|_, s| only.as_ref().is_some_and(|id| *id != s.server));
    Ok(HttpResponse::Ok().json(ExpiredOut {
        expired: before - st.rt.sessions.len(),
    }))
}

#[derive(Debug, Deserialize)]
struct RequestsQuery {
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    server: Option<String>,
}

#[derive(Serialize)]
struct RequestsOut {
    requests: Vec<RequestRecord>,
}

/// `GET /admin/requests?limit=&server=`: the most recent requests, oldest first.
async fn list_requests(sim: web::Data<Sim>, query: web::Query<RequestsQuery>) -> AdminResult {
    let st = sim.lock();
    let server = match &query.server {
        Some(key) => Some(server_id(&st, key)?),
        None => None,
    };
    let matching: Vec<&RequestRecord> = st
        .rt
        .requests
        .iter()
        .filter(|r| server.is_none() || r.server == server)
        .collect();
    let skip = matching
        .len()
        .saturating_sub(query.limit.unwrap_or(usize::MAX));
    let requests = matching.into_iter().skip(skip).cloned().collect();
    Ok(HttpResponse::Ok().json(RequestsOut { requests }))
}

/// `DELETE /admin/requests`: clears the request log and every counter.
async fn reset_requests(sim: web::Data<Sim>) -> AdminResult {
    let mut st = sim.lock();
    st.rt.requests.clear();
    st.rt.counters.clear();
    st.rt.server_counters.clear();
    Ok(HttpResponse::NoContent().finish())
}
