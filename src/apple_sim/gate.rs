//! The pipeline every simulated Apple endpoint runs through: `User-Agent` and
//! `X-Server-Protocol-Version` checks, authentication (OAuth on `/session`, the
//! `X-ADM-Auth-Session` elsewhere), injected failures, terms and token expiry, the handler,
//! then counters and the request log — all under the one state lock.

use std::sync::{Mutex, MutexGuard, PoisonError};

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, USER_AGENT};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::endpoint::Endpoint;
use super::failures::{self, FailureAction};
use super::model::now_secs;
use super::oauth;
use super::persist::Persist;
use super::reply::{JSON_UTF8, Outcome, SimError};
use super::state::{RequestRecord, SimState};

/// Header carrying the auth session token.
pub(crate) const SESSION_HEADER: &str = "X-ADM-Auth-Session";
/// Header carrying the client's protocol version.
pub(crate) const VERSION_HEADER: &str = "X-Server-Protocol-Version";

/// The shared simulator: state plus optional persistence.
pub(crate) struct Sim {
    state: Mutex<SimState>,
    pub persist: Option<Persist>,
}

impl Sim {
    /// Wraps a loaded or fresh state.
    pub(crate) fn new(state: SimState, persist: Option<Persist>) -> Self {
        Self {
            state: Mutex::new(state),
            persist,
        }
    }

    /// Locks the state (a panicked handler cannot leave it half-written: handlers validate
    /// before mutating, so a poisoned lock is still usable).
    pub(crate) fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a handler knows about the caller.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub server: String,
    pub version: u32,
    pub now: DateTime<Utc>,
    /// A handler-level injected behaviour (`SameCursor`, `DeviceStatus`).
    pub quirk: Option<FailureAction>,
}

/// Runs `handler` for `endpoint` behind the common checks and renders the answer.
pub(crate) fn serve(
    sim: &Sim,
    req: &HttpRequest,
    body: &[u8],
    endpoint: Endpoint,
    handler: impl FnOnce(&mut SimState, &Ctx) -> Outcome,
) -> HttpResponse {
    let now = now_secs();
    let mut st = sim.lock();
    let identified = identify(&mut st, req, endpoint, now);
    let server = identified.as_ref().ok().map(|(s, _)| s.clone());
    let outcome = identified.and_then(|(server, version)| {
        let ctx = admit(&mut st, req, endpoint, server, version, now)?;
        handler(&mut st, &ctx)
    });
    let resp = match outcome {
        Ok(reply) => {
            if endpoint.mutates() {
                st.touch();
            }
            let mut resp = HttpResponse::Ok();
            resp.content_type(JSON_UTF8);
            if st.settings.rotate_session_tokens && endpoint != Endpoint::Session {
                let server = server.as_deref().unwrap_or_default();
                resp.insert_header((SESSION_HEADER, st.issue_session(server, now)));
            }
            resp.body(reply.body)
        }
        Err(e) => e.render(st.settings.depsim_compat),
    };
    st.count(endpoint, server.as_deref());
    st.log_request(record(
        req,
        body,
        Some(endpoint),
        server,
        resp.status(),
        now,
    ));
    resp
}

/// Header checks and authentication; returns the server id and protocol version.
fn identify(
    st: &mut SimState,
    req: &HttpRequest,
    endpoint: Endpoint,
    now: DateTime<Utc>,
) -> Result<(String, u32), SimError> {
    check_user_agent(st, req)?;
    let version = protocol_version(req, endpoint)?;
    let server = if endpoint == Endpoint::Session {
        check_session_content_type(st, req)?;
        oauth::verify_session_request(st, req, now)?
    } else {
        session_server(st, req, now)?
    };
    Ok((server, version))
}

/// Injected failures, terms and token expiry for an identified caller.
fn admit(
    st: &mut SimState,
    req: &HttpRequest,
    endpoint: Endpoint,
    server: String,
    version: u32,
    now: DateTime<Utc>,
) -> Result<Ctx, SimError> {
    let quirk = match failures::take(&mut st.rt.failures, endpoint, &server) {
        Some(FailureAction::ExpireSession) => {
            if let Some(token) = header(req, SESSION_HEADER) {
                st.rt.sessions.remove(token);
            }
            return Err(SimError::unauthorized(None));
        }
        Some(action) => match action.as_error() {
            Some(e) => return Err(e),
            None => Some(action),
        },
        None => None,
    };
    let s = st.servers.get(&server).ok_or_else(SimError::internal)?;
    if !s.terms_signed {
        return Err(SimError::forbidden("T_C_NOT_SIGNED"));
    }
    if s.credentials.access_token_expiry <= now {
        return Err(SimError::unauthorized(Some("token_expired")));
    }
    Ok(Ctx {
        server,
        version,
        now,
        quirk,
    })
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn check_user_agent(st: &SimState, req: &HttpRequest) -> Result<(), SimError> {
    let ua = header(req, USER_AGENT.as_str())
        .filter(|ua| !ua.is_empty())
        .ok_or_else(|| SimError::bad_request("USER_AGENT_MISSING"))?;
    if st
        .settings
        .rejected_user_agents
        .iter()
        .any(|p| ua.starts_with(p.as_str()))
    {
        return Err(SimError::bad_request("USER_AGENT_INVALID"));
    }
    Ok(())
}

/// The announced protocol version. Required on service calls; optional on `/session`
/// (`NanoDEP` sends it there too, other clients do not).
fn protocol_version(req: &HttpRequest, endpoint: Endpoint) -> Result<u32, SimError> {
    match header(req, VERSION_HEADER) {
        None if endpoint == Endpoint::Session => Ok(1),
        None => Err(SimError::bad_request("SERVER_PROTOCOL_VERSION_MISSING")),
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| SimError::bad_request("SERVER_PROTOCOL_VERSION_INVALID")),
    }
}

/// depsim rejects `/session` without exactly `application/json;charset=UTF8`.
fn check_session_content_type(st: &SimState, req: &HttpRequest) -> Result<(), SimError> {
    let exact = header(req, CONTENT_TYPE.as_str()) == Some(JSON_UTF8);
    if st.settings.depsim_compat && !exact {
        return Err(SimError::bad_request(""));
    }
    Ok(())
}

/// The server of a live auth session. Missing or expired: `401`; unknown: `401`, or
/// `403 FORBIDDEN` in depsim mode (its answer after a restart).
fn session_server(
    st: &mut SimState,
    req: &HttpRequest,
    now: DateTime<Utc>,
) -> Result<String, SimError> {
    let token = header(req, SESSION_HEADER).ok_or_else(|| SimError::unauthorized(None))?;
    match st.rt.sessions.get(token) {
        Some(s) if s.expires > now && st.servers.contains_key(&s.server) => Ok(s.server.clone()),
        Some(_) => {
            st.rt.sessions.remove(token);
            Err(SimError::unauthorized(None))
        }
        None if st.settings.depsim_compat => Err(SimError::forbidden("FORBIDDEN")),
        None => Err(SimError::unauthorized(None)),
    }
}

/// Parses a JSON request body. An empty body counts as `{}`; a non-empty one needs a JSON
/// `Content-Type` (`415 UNSUPPORTED_MEDIA_TYPE`) and valid JSON (`400 MALFORMED_REQUEST_BODY`).
pub(crate) fn json_body<T: DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, SimError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_slice(b"{}")
            .map_err(|_| SimError::bad_request("MALFORMED_REQUEST_BODY"));
    }
    let media = header(req, CONTENT_TYPE.as_str())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(SimError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        ));
    }
    serde_json::from_slice(body).map_err(|_| SimError::bad_request("MALFORMED_REQUEST_BODY"))
}

/// A request-log entry (`cursor` and `limit` are taken from JSON bodies when present).
pub(crate) fn record(
    req: &HttpRequest,
    body: &[u8],
    endpoint: Option<Endpoint>,
    server: Option<String>,
    status: StatusCode,
    now: DateTime<Utc>,
) -> RequestRecord {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| json.as_ref().and_then(|j| j.get(name)).cloned();
    RequestRecord {
        at: now,
        endpoint,
        method: req.method().to_string(),
        path: req.uri().to_string(),
        server,
        status: status.as_u16(),
        cursor: field("cursor").and_then(|c| c.as_str().map(str::to_owned)),
        limit: field("limit").and_then(|l| l.as_i64()),
        user_agent: header(req, USER_AGENT.as_str()).map(str::to_owned),
        protocol_version: header(req, VERSION_HEADER).map(str::to_owned),
    }
}
