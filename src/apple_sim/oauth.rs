//! `GET /session` authentication: real OAuth 1.0a HMAC-SHA1 verification (RFC 5849) with a
//! per-consumer nonce cache and a timestamp window. Problems follow Apple's error page
//! (reference §1.2): malformed, missing, duplicated or unsupported parameters are `400`;
//! unknown consumer key, wrong or expired token, bad signature, stale timestamp and reused nonce
//! are `401 UNAUTHORIZED`. The RFC 5849 problem name is in `WWW-Authenticate`.

use std::collections::HashMap;

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use chrono::{DateTime, Utc};
use url::Url;

use super::reply::SimError;
use super::state::SimState;
use crate::apple::oauth::{SIGNATURE_METHOD, parse_authorization_header, verify_request_signature};
use crate::apple::token_file::ServerTokenCredentials;

const SIGNED: [&str; 6] = [
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_version",
];

/// The protocol parameters of a `/session` request.
struct OAuthRequest {
    fields: HashMap<String, String>,
    /// What the signature covers: every `oauth_*` parameter but the signature.
    signed: Vec<(String, String)>,
    signature: String,
}

impl OAuthRequest {
    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

fn bad(problem: &str) -> SimError {
    let mut e = SimError::bad_request("BAD_REQUEST");
    e.headers.push((
        "WWW-Authenticate".to_owned(),
        format!("OAuth realm=\"ADM\", oauth_problem=\"{problem}\""),
    ));
    e
}

fn parse(req: &HttpRequest) -> Result<OAuthRequest, SimError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad("parameter_absent"))?;
    let params = parse_authorization_header(header).map_err(|_| bad("parameter_rejected"))?;
    let mut fields = HashMap::new();
    for (name, value) in params {
        let known = name == "realm" || name == "oauth_signature" || SIGNED.contains(&name.as_str());
        if !known || fields.insert(name, value).is_some() {
            return Err(bad("parameter_rejected"));
        }
    }
    let required = SIGNED.iter().take(5).chain(&["oauth_signature"]);
    if required.into_iter().any(|n| !fields.contains_key(*n)) {
        return Err(bad("parameter_absent"));
    }
    let signed = SIGNED
        .iter()
        .filter_map(|n| fields.get(*n).map(|v| ((*n).to_owned(), v.clone())))
        .collect();
    let signature = fields.remove("oauth_signature").unwrap_or_default();
    Ok(OAuthRequest {
        fields,
        signed,
        signature,
    })
}

/// The URL the client signed, rebuilt from the request (scheme, `Host`, path and query).
fn request_url(req: &HttpRequest) -> Result<Url, SimError> {
    let info = req.connection_info();
    Url::parse(&format!("{}://{}{}", info.scheme(), info.host(), req.uri()))
        .map_err(|_| bad("parameter_rejected"))
}

/// Signature method, version and timestamp format; returns the timestamp.
fn check_protocol(oauth: &OAuthRequest) -> Result<i64, SimError> {
    if oauth.get("oauth_signature_method") != SIGNATURE_METHOD {
        return Err(bad("signature_method_rejected"));
    }
    if oauth
        .fields
        .get("oauth_version")
        .is_some_and(|v| v != "1.0")
    {
        return Err(bad("version_rejected"));
    }
    oauth
        .get("oauth_timestamp")
        .parse()
        .map_err(|_| bad("parameter_rejected"))
}

fn check_signature(
    req: &HttpRequest,
    oauth: &OAuthRequest,
    creds: &ServerTokenCredentials,
) -> Result<(), SimError> {
    let url = request_url(req)?;
    let valid = verify_request_signature(
        "GET",
        &url,
        &oauth.signed,
        &creds.consumer_secret,
        &creds.access_secret,
        &oauth.signature,
    );
    if valid {
        Ok(())
    } else {
        Err(SimError::unauthorized(Some("signature_invalid")))
    }
}

/// Remembers the nonce for the timestamp window; a nonce seen in it again is refused.
fn check_nonce(
    st: &mut SimState,
    consumer_key: &str,
    oauth: &OAuthRequest,
    timestamp: i64,
    now: i64,
) -> Result<(), SimError> {
    let window = st.settings.timestamp_window_secs;
    let seen = st.rt.nonces.entry(consumer_key.to_owned()).or_default();
    seen.retain(|_, ts| (now - *ts).abs() <= window);
    if seen
        .insert(oauth.get("oauth_nonce").to_owned(), timestamp)
        .is_some()
    {
        return Err(SimError::unauthorized(Some("nonce_used")));
    }
    Ok(())
}

/// Verifies the OAuth `Authorization` of a `/session` request; returns the server id.
pub(crate) fn verify_session_request(
    st: &mut SimState,
    req: &HttpRequest,
    now: DateTime<Utc>,
) -> Result<String, SimError> {
    let oauth = parse(req)?;
    let timestamp = check_protocol(&oauth)?;
    let server_id = st
        .server_for_consumer_key(oauth.get("oauth_consumer_key"))
        .ok_or_else(|| SimError::unauthorized(Some("consumer_key_unknown")))?;
    let creds = st
        .servers
        .get(&server_id)
        .map(|s| s.credentials.clone())
        .ok_or_else(SimError::internal)?;
    if creds.access_token != oauth.get("oauth_token") {
        return Err(SimError::unauthorized(Some("token_rejected")));
    }
    if (now.timestamp() - timestamp).abs() > st.settings.timestamp_window_secs {
        return Err(SimError::unauthorized(Some("timestamp_refused")));
    }
    check_signature(req, &oauth, &creds)?;
    check_nonce(st, &creds.consumer_key, &oauth, timestamp, now.timestamp())?;
    if creds.access_token_expiry <= now {
        return Err(SimError::unauthorized(Some("token_expired")));
    }
    Ok(server_id)
}

#[cfg(test)]
#[path = "oauth_tests.rs"]
mod tests;
