//! An external OIDC issuer: discovery and JWKS served by a local server; signing keys rotate.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use dep_gateway::config::IssuerSettings;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use openssl::rsa::Rsa;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{AUDIENCE, Backend, READ_WRITE, TestApp, assert_graph_error};
use crate::on_both_backends;

struct SigningKey {
    kid: String,
    pem: Vec<u8>,
    jwk: Value,
}

fn signing_key(kid: &str) -> SigningKey {
    let rsa = Rsa::generate(2048).unwrap();
    let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    SigningKey {
        kid: kid.to_owned(),
        pem: rsa.private_key_to_pem().unwrap(),
        jwk: json!({"kty": "RSA", "use": "sig", "kid": kid, "n": b64(rsa.n().to_vec()), "e": b64(rsa.e().to_vec())}),
    }
}

/// What the fake identity provider serves.
struct Provider {
    issuer: String,
    keys: Vec<Value>,
    failing: bool,
}

fn spawn_provider() -> (String, Arc<Mutex<Provider>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new(Provider {
        issuer: format!("{base}/tenant"),
        keys: vec![],
        failing: false,
    }));
    let shared = web::Data::new(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .route(
                "/tenant/.well-known/openid-configuration",
                web::get().to(|p: web::Data<Arc<Mutex<Provider>>>| async move {
                    let p = p.lock().unwrap();
                    HttpResponse::Ok()
                        .json(json!({"issuer": p.issuer, "jwks_uri": format!("{}/keys", p.issuer)}))
                }),
            )
            .route(
                "/tenant/keys",
                web::get().to(|p: web::Data<Arc<Mutex<Provider>>>| async move {
                    let p = p.lock().unwrap();
                    if p.failing {
                        HttpResponse::InternalServerError().finish()
                    } else {
                        HttpResponse::Ok().json(json!({"keys": p.keys}))
                    }
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("{base}/tenant"), state)
}

fn token(key: &SigningKey, issuer: &str, tenant: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"aud": AUDIENCE, "iss": issuer, "tid": tenant, "scp": READ_WRITE,
        "iat": now, "nbf": now, "exp": now + 600});
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(&key.pem).unwrap(),
    )
    .unwrap()
}

async fn oidc_issuer_keys_rotate(backend: Backend) {
    let (issuer, provider) = spawn_provider();
    let (a, b) = (signing_key("key-a"), signing_key("key-b"));
    provider.lock().unwrap().keys = vec![a.jwk.clone()];
    let configured = issuer.clone();
    let app = TestApp::spawn_with(backend, move |s| {
        s.auth.dev_authority = Some(false);
        s.auth.jwks_refresh_min_interval_secs = 0;
        s.auth.issuers = vec![IssuerSettings::Oidc {
            issuer: configured,
            discovery_url: None,
            tenant_claim: "tid".into(),
            allowed_tenants: vec![],
        }];
    })
    .await;
    let tenant = Uuid::new_v4().to_string();
    let get = |t: String| {
        let app = &app;
        async move {
            app.client
                .get(format!(
                    "{}/beta/deviceManagement/depOnboardingSettings",
                    app.base
                ))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        get(token(&a, &issuer, &tenant)).await.status(),
        200,
        "key A"
    );

    // The provider rotates to key B: the unknown kid triggers a refresh.
    provider.lock().unwrap().keys = vec![b.jwk.clone()];
    assert_eq!(
        get(token(&b, &issuer, &tenant)).await.status(),
        200,
        "key B after rotation"
    );

    // The provider fails: the last good keys stay in use.
    provider.lock().unwrap().failing = true;
    assert_eq!(
        get(token(&b, &issuer, &tenant)).await.status(),
        200,
        "key B while the provider is down"
    );
    let unknown = signing_key("key-c");
    assert_graph_error(
        get(token(&unknown, &issuer, &tenant)).await,
        401,
        "InvalidAuthenticationToken",
    )
    .await;

    // A token from a different issuer signed with a trusted key is refused.
    assert_graph_error(
        get(token(&b, "https://other.example/tenant", &tenant)).await,
        401,
        "InvalidAuthenticationToken",
    )
    .await;
}

on_both_backends!(oidc_issuer_keys_rotate);
