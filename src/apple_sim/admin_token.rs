//! Admin routes about a server's token and terms: change or renew the token, expire it, flip
//! the terms-and-conditions flag, and download the token as a `.p7m` for a certificate.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::admin::{AdminError, AdminResult, server_id, server_info};
use super::gate::Sim;
use super::model::now_secs;
use super::persist;
use crate::apple::token_file::{self, ServerTokenCredentials, TokenCipher, TokenEncoding};

/// Registers the routes of this module.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin/servers/{server}/token",
        web::post().to(update_token),
    )
    .route("/admin/servers/{server}/terms", web::post().to(set_terms))
    .route(
        "/admin/servers/{server}/p7m",
        web::post().to(download_token),
    );
}

#[derive(Debug, Default, Deserialize)]
struct TokenChange {
    /// New `access_token_expiry`.
    #[serde(default)]
    access_token_expiry: Option<DateTime<Utc>>,
    /// Expire the token now.
    #[serde(default)]
    expire: bool,
    /// Issue a new access token and secret valid for a year (same consumer key), as
    /// downloading a new token in ABM does.
    #[serde(default)]
    renew: bool,
}

/// `POST /admin/servers/{server}/token`.
async fn update_token(
    sim: web::Data<Sim>,
    path: web::Path<String>,
    body: web::Json<TokenChange>,
) -> AdminResult {
    let change = body.into_inner();
    let info = {
        let mut st = sim.lock();
        let id = server_id(&st, &path)?;
        let now = now_secs();
        let server = st
            .servers
            .get_mut(&id)
            .ok_or_else(|| AdminError::NotFound(id.clone()))?;
        let creds = &mut server.credentials;
        if change.renew {
            let fresh = ServerTokenCredentials::generate(now + Duration::days(365));
            creds.access_token = fresh.access_token;
            creds.access_secret = fresh.access_secret;
            creds.access_token_expiry = fresh.access_token_expiry;
        }
        if let Some(expiry) = change.access_token_expiry {
            creds.access_token_expiry = expiry;
        }
        if change.expire {
            creds.access_token_expiry = now - Duration::seconds(1);
        }
        st.touch();
        server_info(&st, &id, None)?
    };
    persist::save(&sim).await;
    Ok(HttpResponse::Ok().json(info))
}

#[derive(Debug, Deserialize)]
struct Terms {
    signed: bool,
}

/// `POST /admin/servers/{server}/terms` `{"signed": false}`: while unsigned, every call
/// (`/session` included) answers `403 T_C_NOT_SIGNED`.
async fn set_terms(
    sim: web::Data<Sim>,
    path: web::Path<String>,
    body: web::Json<Terms>,
) -> AdminResult {
    let info = {
        let mut st = sim.lock();
        let id = server_id(&st, &path)?;
        if let Some(server) = st.servers.get_mut(&id) {
            server.terms_signed = body.signed;
        }
        st.touch();
        server_info(&st, &id, None)?
    };
    persist::save(&sim).await;
    Ok(HttpResponse::Ok().json(info))
}

#[derive(Debug, Default, Deserialize)]
struct P7mQuery {
    /// `aes256` (default) or `des3`.
    #[serde(default)]
    cipher: Option<String>,
    /// `ber` (default, as Apple) or `der`.
    #[serde(default)]
    encoding: Option<String>,
}

/// `POST /admin/servers/{server}/p7m?cipher=&encoding=` with a PEM certificate (or public key)
/// as body: the server token as ABM's "Download Token" gives it.
async fn download_token(
    sim: web::Data<Sim>,
    path: web::Path<String>,
    query: web::Query<P7mQuery>,
    pem: String,
) -> AdminResult {
    let creds = {
        let st = sim.lock();
        let id = server_id(&st, &path)?;
        st.servers
            .get(&id)
            .map(|s| s.credentials.clone())
            .ok_or_else(|| AdminError::NotFound(id))?
    };
    let cipher = match query.cipher.as_deref() {
        None | Some("aes256") => TokenCipher::Aes256Cbc,
        Some("des3") => TokenCipher::Des3Cbc,
        Some(other) => return Err(AdminError::BadRequest(format!("unknown cipher {other}"))),
    };
    let encoding = match query.encoding.as_deref() {
        None | Some("ber") => TokenEncoding::Ber,
        Some("der") => TokenEncoding::Der,
        Some(other) => return Err(AdminError::BadRequest(format!("unknown encoding {other}"))),
    };
    let p7m = token_file::make_server_token_p7m_with(&creds, &pem, cipher, encoding)
        .map_err(|e| AdminError::BadRequest(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/pkcs7-mime")
        .body(p7m))
}
