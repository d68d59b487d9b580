//! JWKS discovery, rotation, rate limiting and fetch failures against a tiny local OIDC server.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::get_current_timestamp as now;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use serde_json::{Value, json};

use super::{AUD, OTHER_TENANT, READ, TENANT, dev, http, rs256, settings};
use crate::auth::jwks::parse_jwks;
use crate::auth::{AuthError, Authenticator, CallerKind};
use crate::config::IssuerSettings;

#[derive(Default)]
struct ServerState {
    jwks: String,
    fail: bool,
    requests: usize,
}

/// Serves `/.well-known/openid-configuration` and `/keys` from `state`; returns the issuer URL.
fn serve(state: Arc<Mutex<ServerState>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = base.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut lines = BufReader::new(stream.try_clone().unwrap()).lines();
            let first = lines.next().and_then(Result::ok).unwrap_or_default();
            while lines
                .next()
                .and_then(Result::ok)
                .is_some_and(|l| !l.is_empty())
            {}
            let path = first
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let (status, body) = {
                let mut s = state.lock().unwrap();
                s.requests += 1;
                match path.as_str() {
                    _ if s.fail => (500, String::new()),
                    "/.well-known/openid-configuration" => (
                        200,
                        json!({"issuer": base, "jwks_uri": format!("{base}/keys")}).to_string(),
                    ),
                    "/keys" => (200, s.jwks.clone()),
                    _ => (404, String::new()),
                }
            };
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(format!("{head}{body}").as_bytes());
        }
    });
    issuer
}

fn key(bits: u32) -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(bits).unwrap()).unwrap()
}

fn keys() -> &'static (PKey<Private>, PKey<Private>) {
    static KEYS: OnceLock<(PKey<Private>, PKey<Private>)> = OnceLock::new();
    KEYS.get_or_init(|| (key(2048), key(2048)))
}

fn jwk(key: &PKey<Private>, kid: &str) -> Value {
    let rsa = key.rsa().unwrap();
    json!({"kty": "RSA", "use": "sig", "kid": kid, "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
        "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec())})
}

fn jwks(entries: &[Value]) -> String {
    json!({ "keys": entries }).to_string()
}

fn token(issuer: &str, key: &PKey<Private>, kid: &str, tenant: &str) -> String {
    let t = now();
    let claims = json!({"aud": AUD, "iss": issuer, "tid": TENANT, "tenant": tenant, "roles": [READ],
        "idtyp": "app", "jti": uuid::Uuid::new_v4().to_string(), "nbf": t, "exp": t + 600});
    rs256(
        key,
        &json!({"alg": "RS256", "typ": "JWT", "kid": kid}),
        &claims,
    )
}

/// A server publishing key A, and an authenticator trusting it plus the dev authority.
async fn setup(min_interval: u64) -> (Arc<Mutex<ServerState>>, String, Authenticator) {
    let state = Arc::new(Mutex::new(ServerState {
        jwks: jwks(&[jwk(&keys().0, "A")]),
        ..Default::default()
    }));
    let issuer = serve(Arc::clone(&state));
    let mut settings = settings();
    settings.jwks_refresh_min_interval_secs = min_interval;
    settings.issuers.push(IssuerSettings::Oidc {
        issuer: issuer.clone(),
        discovery_url: None,
        tenant_claim: "tenant".into(),
        allowed_tenants: vec![TENANT.into()],
    });
    let auth = Authenticator::new(&settings, Some(dev()), http())
        .await
        .unwrap();
    (state, issuer, auth)
}

async fn check(auth: &Authenticator, token: &str) -> Result<crate::auth::Principal, AuthError> {
    auth.authenticate(Some(&format!("Bearer {token}"))).await
}

#[tokio::test]
async fn rotated_key_is_fetched_on_unknown_kid() {
    let (state, issuer, auth) = setup(0).await;
    let (a, b) = keys();
    let p = check(&auth, &token(&issuer, a, "A", TENANT)).await.unwrap();
    assert_eq!(
        (p.tenant.to_string().as_str(), p.caller),
        (TENANT, CallerKind::Application)
    );
    state.lock().unwrap().jwks = jwks(&[jwk(b, "B")]);
    assert!(check(&auth, &token(&issuer, b, "B", TENANT)).await.is_ok());
    assert_eq!(
        check(&auth, &token(&issuer, a, "A", TENANT)).await,
        Err(AuthError::UnknownKey)
    );
}

#[tokio::test]
async fn unknown_kid_does_not_refetch_within_the_interval() {
    let (state, issuer, auth) = setup(3600).await;
    let (a, b) = keys();
    assert!(check(&auth, &token(&issuer, a, "A", TENANT)).await.is_ok());
    assert_eq!(state.lock().unwrap().requests, 2);
    state.lock().unwrap().jwks = jwks(&[jwk(b, "B")]);
    assert_eq!(
        check(&auth, &token(&issuer, b, "B", TENANT)).await,
        Err(AuthError::UnknownKey)
    );
    assert_eq!(state.lock().unwrap().requests, 2);
}

#[tokio::test]
async fn failed_refresh_keeps_the_last_good_keys() {
    let (state, issuer, auth) = setup(0).await;
    let (a, b) = keys();
    assert!(check(&auth, &token(&issuer, a, "A", TENANT)).await.is_ok());
    state.lock().unwrap().fail = true;
    assert_eq!(
        check(&auth, &token(&issuer, b, "B", TENANT)).await,
        Err(AuthError::UnknownKey)
    );
    assert_eq!(state.lock().unwrap().requests, 3);
    assert!(check(&auth, &token(&issuer, a, "A", TENANT)).await.is_ok());
}

#[tokio::test]
async fn tenant_claim_allow_list_and_issuer_binding_are_enforced() {
    let (_state, issuer, auth) = setup(0).await;
    let a = &keys().0;
    let other = check(&auth, &token(&issuer, a, "A", OTHER_TENANT)).await;
    assert_eq!(other, Err(AuthError::BadTenant));
    // Key A belongs to the OIDC issuer: it must not validate a token claiming the dev issuer.
    let dev_iss = dev().issuer_for(&TENANT.parse().unwrap());
    assert_eq!(
        check(&auth, &token(&dev_iss, a, "A", TENANT)).await,
        Err(AuthError::UnknownKey)
    );
}

#[tokio::test]
async fn unreachable_provider_does_not_fail_start_up() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut settings = settings();
    let issuer = format!("http://{closed}");
    settings.issuers.push(IssuerSettings::Oidc {
        issuer: issuer.clone(),
        discovery_url: None,
        tenant_claim: "tid".into(),
        allowed_tenants: vec![],
    });
    let auth = Authenticator::new(&settings, None, http()).await.unwrap();
    let result = check(&auth, &token(&issuer, &keys().0, "A", TENANT)).await;
    assert_eq!(result, Err(AuthError::UnknownKey));
}

#[test]
fn jwks_parsing_keeps_only_strong_rsa_signing_keys() {
    let (a, b) = keys();
    let mut enc = jwk(b, "enc");
    enc["use"] = json!("enc");
    let ec = json!({"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"});
    let body = jwks(&[jwk(a, "A"), jwk(&key(1024), "weak"), enc, ec]);
    let keys = parse_jwks(body.as_bytes()).unwrap();
    assert_eq!(keys.keys().collect::<Vec<_>>(), ["A"]);
}

#[test]
fn entra_key_issuer_must_match_the_token_issuer() {
    let mut entry = jwk(&keys().0, "A");
    entry["issuer"] = json!("https://login.microsoftonline.com/{tenantid}/v2.0");
    let keys = parse_jwks(jwks(&[entry]).as_bytes()).unwrap();
    let key = &keys["A"];
    let iss = format!("https://login.microsoftonline.com/{TENANT}/v2.0");
    assert!(key.allows_issuer(&iss, TENANT));
    assert!(!key.allows_issuer(&iss, OTHER_TENANT));
    assert!(!key.allows_issuer("https://evil.example/", TENANT));
}
