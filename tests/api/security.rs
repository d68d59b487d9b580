//! The access-token security matrix over HTTP: every defect is a 401 with Graph's challenge,
//! every missing permission a 403 with Intune's sentence.

use dep_gateway::domain::ids::TenantId;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{AUDIENCE, Backend, READ, READ_WRITE, TestApp, assert_graph_error};
use crate::on_both_backends;

const SETTINGS: &str = "/beta/deviceManagement/depOnboardingSettings";

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(app: &TestApp) -> Value {
    json!({
        "aud": AUDIENCE, "iss": app.authority.issuer_for(&app.tenant), "tid": app.tenant.to_string(),
        "scp": READ_WRITE, "oid": Uuid::new_v4().to_string(), "ver": "2.0",
        "iat": now(), "nbf": now(), "exp": now() + 600,
    })
}

fn with(app: &TestApp, patch: &Value) -> String {
    let mut c = claims(app);
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    app.authority.sign_claims(&c).unwrap()
}

async fn call(app: &TestApp, authorization: Option<String>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{SETTINGS}", app.base));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    req.send().await.unwrap()
}

async fn assert_401(resp: reqwest::Response, case: &str) {
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        challenge.is_some_and(|c| c.starts_with("Bearer ")),
        "{case}: missing WWW-Authenticate"
    );
    let msg = assert_graph_error(resp, 401, "InvalidAuthenticationToken").await;
    assert!(!msg.is_empty(), "{case}");
}

#[expect(clippy::too_many_lines, reason = "one table of attack cases")]
async fn invalid_tokens_are_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let valid = with(&app, &json!({}));
    assert_eq!(
        call(&app, Some(format!("Bearer {valid}"))).await.status(),
        200,
        "control"
    );

    let (header, payload, signature) = {
        let mut parts = valid.split('.');
        (
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
            parts.next().unwrap().to_owned(),
        )
    };
    let hs256 = {
        use hmac::{Hmac, Mac};
        let head = b64(
            json!({"alg": "HS256", "typ": "JWT", "kid": app.authority.kid()})
                .to_string()
                .as_bytes(),
        );
        let signing_input = format!("{head}.{payload}");
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(app.authority.public_key_pem().as_bytes())
                .unwrap();
        mac.update(signing_input.as_bytes());
        format!("{signing_input}.{}", b64(&mac.finalize().into_bytes()))
    };
    let none = format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#));
    let unknown_kid = format!(
        "{}.{payload}.{signature}",
        b64(json!({"alg": "RS256", "typ": "JWT", "kid": "nope"})
            .to_string()
            .as_bytes())
    );
    let tampered = {
        let mut c = claims(&app);
        c["tid"] = json!(Uuid::new_v4().to_string());
        format!("{header}.{}.{signature}", b64(c.to_string().as_bytes()))
    };
    let other_tenant = TenantId::new(Uuid::new_v4());
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("empty bearer", Some("Bearer ".into())),
        ("basic scheme", Some("Basic dXNlcjpwYXNz".into())),
        ("malformed", Some("Bearer not.a.jwt".into())),
        ("alg none", Some(format!("Bearer {none}"))),
        ("HS256 with the public key", Some(format!("Bearer {hs256}"))),
        ("unknown kid", Some(format!("Bearer {unknown_kid}"))),
        ("tampered payload", Some(format!("Bearer {tampered}"))),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                with(&app, &json!({"exp": now() - 3600, "nbf": now() - 7200}))
            )),
        ),
        (
            "future nbf",
            Some(format!(
                "Bearer {}",
                with(&app, &json!({"nbf": now() + 3600, "exp": now() + 7200}))
            )),
        ),
        (
            "iat ten years in the future",
            Some(format!(
                "Bearer {}",
                with(&app, &json!({"iat": now() + 10 * 365 * 86_400}))
            )),
        ),
        (
            "100-year lifetime",
            Some(format!(
                "Bearer {}",
                with(&app, &json!({"exp": now() + 100 * 365 * 86_400}))
            )),
        ),
        (
            "25-hour lifetime counted from nbf without iat",
            Some(format!(
                "Bearer {}",
                with(&app, &json!({"iat": null, "exp": now() + 25 * 3600}))
            )),
        ),
        (
            "exp as string",
            Some(format!(
                "Bearer {}",
                with(&app, &json!({"exp": (now() + 600).to_string()}))
            )),
        ),
        (
            "missing exp",
            Some(format!("Bearer {}", with(&app, &json!({"exp": null})))),
        ),
        (
            "wrong aud",
            Some(format!(
                "Bearer {}",
                with(&app, &json!({"aud": "https://graph.microsoft.com"}))
            )),
        ),
        (
            "missing aud",
            Some(format!("Bearer {}", with(&app, &json!({"aud": null})))),
        ),
        (
            "wrong iss",
            Some(format!(
                "Bearer {}",
                with(&app, &json!({"iss": "https://evil.example/v2.0"}))
            )),
        ),
        (
            "iss of another tenant",
            Some(format!(
                "Bearer {}",
                with(
                    &app,
                    &json!({"iss": app.authority.issuer_for(&other_tenant)})
                )
            )),
        ),
        (
            "tid not a GUID",
            Some(format!("Bearer {}", with(&app, &json!({"tid": "contoso"})))),
        ),
        ("oversized", Some(format!("Bearer {}", "a".repeat(20_000)))),
    ];
    for (case, authorization) in cases {
        assert_401(call(&app, authorization).await, case).await;
    }
    let expired = call(
        &app,
        Some(format!(
            "Bearer {}",
            with(&app, &json!({"exp": now() - 3600, "nbf": now() - 7200}))
        )),
    )
    .await;
    let msg = assert_graph_error(expired, 401, "InvalidAuthenticationToken").await;
    assert_eq!(msg, "Lifetime validation failed, the token is expired.");
    let twice = app
        .client
        .get(format!("{}{SETTINGS}", app.base))
        .header("authorization", format!("Bearer {valid}"))
        .header("authorization", "Bearer other")
        .send()
        .await
        .unwrap();
    assert_401(twice, "two Authorization headers").await;
    let empty = assert_graph_error(call(&app, None).await, 401, "InvalidAuthenticationToken").await;
    assert_eq!(empty, "Access token is empty.");
}

const READ_SENTENCE: &str = "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementServiceConfig.Read.All, DeviceManagementServiceConfig.ReadWrite.All - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: ";

async fn missing_permissions_are_403_with_intunes_sentence(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let unrelated = app.token_for(app.tenant, &["User.Read"]);
    let resp = app
        .client
        .get(format!("{}{SETTINGS}", app.base))
        .bearer_auth(&unrelated)
        .send()
        .await
        .unwrap();
    let msg = assert_graph_error(resp, 403, "Forbidden").await;
    let inner: Value = serde_json::from_str(&msg).expect("Intune's message is a JSON document");
    assert_eq!(inner["_version"], 3);
    assert!(
        inner["Message"]
            .as_str()
            .unwrap()
            .starts_with(READ_SENTENCE),
        "{msg}"
    );
    assert!(msg.contains("\r\n"), "Intune's inner JSON uses CRLF");

    let read_only = app.token_for(app.tenant, &[READ]);
    let ok = app
        .client
        .get(format!("{}{SETTINGS}", app.base))
        .bearer_auth(&read_only)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        let path = if method == Method::POST {
            SETTINGS.to_owned()
        } else {
            format!("{SETTINGS}/{}", Uuid::new_v4())
        };
        let resp = app
            .client
            .request(method.clone(), format!("{}{path}", app.base))
            .bearer_auth(&read_only)
            .json(&json!({"tokenName": "x"}))
            .send()
            .await
            .unwrap();
        let msg = assert_graph_error(resp, 403, "Forbidden").await;
        assert!(
            msg.contains("following scopes: DeviceManagementServiceConfig.ReadWrite.All - "),
            "{method}: {msg}"
        );
    }
    let list: Value = app.get(SETTINGS).await.json().await.unwrap();
    assert_eq!(list["value"], json!([]), "no write went through");
}

async fn app_only_tokens_use_roles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mint = |roles: &[&str]| {
        app.authority
            .mint(&dep_gateway::auth::TokenRequest {
                tenant: app.tenant,
                scopes: vec![],
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                ttl_secs: 600,
            })
            .unwrap()
    };
    let writer = mint(&[READ_WRITE]);
    let resp = app
        .client
        .post(format!("{}{SETTINGS}", app.base))
        .bearer_auth(&writer)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let nothing = mint(&["Directory.Read.All"]);
    let resp = app
        .client
        .get(format!("{}{SETTINGS}", app.base))
        .bearer_auth(&nothing)
        .send()
        .await
        .unwrap();
    assert_graph_error(resp, 403, "Forbidden").await;
    // A delegated scope name in `roles`-less app token must not count: scp is ignored for apps.
    let app_with_scp = with(
        &app,
        &json!({"idtyp": "app", "roles": [], "scp": READ_WRITE}),
    );
    let resp = call(&app, Some(format!("Bearer {app_with_scp}"))).await;
    assert_graph_error(resp, 403, "Forbidden").await;
}

on_both_backends!(
    invalid_tokens_are_401,
    missing_permissions_are_403_with_intunes_sentence,
    app_only_tokens_use_roles,
);
