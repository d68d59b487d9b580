//! `GET /session` (OAuth → auth session token) and `GET /account` (reference §1.2, §2.1).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::endpoint::Endpoint;
use super::gate::{self, Sim};
use super::reply::{Reply, SimError};
use super::state::SimSettings;

#[derive(Serialize)]
struct SessionOut {
    auth_session_token: String,
}

/// `GET /session`.
pub(crate) async fn get_session(sim: web::Data<Sim>, req: HttpRequest) -> HttpResponse {
    gate::serve(&sim, &req, &[], Endpoint::Session, |st, ctx| {
        let token = st.issue_session(&ctx.server, ctx.now);
        Reply::json(&SessionOut {
            auth_session_token: token,
        })
    })
}

#[derive(Serialize)]
struct Limit {
    default: u32,
    maximum: u32,
}

#[derive(Serialize)]
struct UrlOut {
    uri: &'static str,
    http_method: &'static [&'static str],
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<Limit>,
}

/// `AccountDetail`; `org_id*`, `org_type`, `org_version` and `urls` from protocol 3.
#[derive(Serialize)]
struct AccountOut<'a> {
    server_name: &'a str,
    server_uuid: &'a str,
    admin_id: &'a str,
    facilitator_id: &'a str,
    org_name: &'a str,
    org_email: &'a str,
    org_phone: &'a str,
    org_address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id_hash: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    urls: Option<Vec<UrlOut>>,
}

fn urls(settings: &SimSettings) -> Vec<UrlOut> {
    let paged = || {
        Some(Limit {
            default: settings.limit_default,
            maximum: settings.limit_max,
        })
    };
    let url = |uri, http_method, limit| UrlOut {
        uri,
        http_method,
        limit,
    };
    vec![
        url("/session", &["GET"], None),
        url("/account", &["GET"], None),
        url("/server/devices", &["POST"], paged()),
        url("/devices/sync", &["POST"], paged()),
        url("/devices", &["POST"], None),
        url("/devices/disown", &["POST"], None),
        url("/profile", &["GET", "POST"], None),
        url("/profile/devices", &["DELETE", "POST", "PUT"], None),
    ]
}

/// `GET /account`.
pub(crate) async fn get_account(sim: web::Data<Sim>, req: HttpRequest) -> HttpResponse {
    gate::serve(&sim, &req, &[], Endpoint::Account, |st, ctx| {
        let a = &st
            .servers
            .get(&ctx.server)
            .ok_or_else(SimError::internal)?
            .account;
        let modern = ctx.version >= 3;
        Reply::json(&AccountOut {
            server_name: &a.server_name,
            server_uuid: &a.server_uuid,
            admin_id: &a.admin_id,
            facilitator_id: &a.admin_id,
            org_name: &a.org_name,
            org_email: &a.org_email,
            org_phone: &a.org_phone,
            org_address: &a.org_address,
            org_id: modern.then_some(a.org_id.as_str()),
            org_id_hash: modern.then_some(a.org_id_hash.as_str()),
            org_type: modern.then_some(a.org_type.as_str()),
            org_version: modern.then_some(a.org_version.as_str()),
            urls: modern.then(|| urls(&st.settings)),
        })
    })
}
