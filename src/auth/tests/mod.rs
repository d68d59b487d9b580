//! Security matrix of the authenticator, signed with the dev authority.

mod claims;
mod oidc;
mod principal;

use std::path::PathBuf;
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::get_current_timestamp as now;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_json::{Value, json};
use uuid::Uuid;

use super::token_cache::TokenCache;
use super::*;
use crate::config::AuthSettings;
use crate::domain::ids::TenantId;

const AUD: &str = "api://dep-gateway";
const TENANT: &str = "8f1c2a8e-3b5d-4c6e-9f70-1a2b3c4d5e6f";
const OTHER_TENANT: &str = "0b7e9d51-2f0a-4c1d-8e3b-6a5f4d3c2b1a";
const READ: &str = "DeviceManagementServiceConfig.Read.All";
const READ_WRITE: &str = "DeviceManagementServiceConfig.ReadWrite.All";

/// One dev authority for the whole test binary (RSA generation is slow).
fn dev_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("dep-gateway-auth-{}", Uuid::new_v4()));
        DevAuthority::load_or_create(&dir, AUD).unwrap();
        dir
    })
}

fn dev() -> DevAuthority {
    DevAuthority::load_or_create(dev_dir(), AUD).unwrap()
}

fn tenant() -> TenantId {
    TENANT.parse().unwrap()
}

fn settings() -> AuthSettings {
    AuthSettings {
        audiences: vec![AUD.to_owned()],
        ..AuthSettings::default()
    }
}

/// A client that never goes through a proxy (the tests talk to 127.0.0.1).
pub(super) fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn authenticator() -> Authenticator {
    Authenticator::new(&settings(), Some(dev()), http())
        .await
        .unwrap()
}

async fn check(token: &str) -> Result<Principal, AuthError> {
    authenticator()
        .await
        .authenticate(Some(&format!("Bearer {token}")))
        .await
}

/// Valid delegated claims of the dev issuer, then `edit` applied.
fn claims_with(edit: impl FnOnce(&mut Value)) -> Value {
    let t = now();
    let mut claims = json!({
        "aud": AUD, "iss": dev().issuer_for(&tenant()), "tid": TENANT, "oid": "o-1",
        "azp": "client-1", "scp": READ, "iat": t, "nbf": t, "exp": t + 600,
    });
    edit(&mut claims);
    claims
}

fn signed(edit: impl FnOnce(&mut Value)) -> String {
    dev().sign_claims(&claims_with(edit)).unwrap()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Signs an arbitrary header + claims with RS256 (PKCS#1 v1.5, SHA-256).
pub(super) fn rs256(key: &PKey<Private>, header: &Value, claims: &Value) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
    signer.update(message.as_bytes()).unwrap();
    format!(
        "{message}.{}",
        URL_SAFE_NO_PAD.encode(signer.sign_to_vec().unwrap())
    )
}

fn dev_private_key() -> PKey<Private> {
    let pem = std::fs::read(dev_dir().join("dev-authority-key.pem")).unwrap();
    PKey::private_key_from_pem(&pem).unwrap()
}

#[tokio::test]
async fn valid_delegated_token_is_accepted() {
    let request = TokenRequest {
        tenant: tenant(),
        scopes: vec![READ.into()],
        roles: vec![],
        ttl_secs: 600,
    };
    let p = check(&dev().mint(&request).unwrap()).await.unwrap();
    assert_eq!((p.tenant, p.caller), (tenant(), CallerKind::Delegated));
    assert_eq!(p.app_id.as_deref(), Some("dep-gateway-dev"));
    assert!(p.object_id.is_some());
    assert_eq!(p.permissions(), [READ]);
}

#[tokio::test]
async fn valid_app_only_token_is_accepted() {
    let request = TokenRequest {
        tenant: tenant(),
        scopes: vec![],
        roles: vec![READ_WRITE.into()],
        ttl_secs: 600,
    };
    let p = check(&dev().mint(&request).unwrap()).await.unwrap();
    assert_eq!(p.caller, CallerKind::Application);
    assert_eq!(p.permissions(), [READ_WRITE]);
    assert!(p.require(Permission::Write).is_ok());
}

#[tokio::test]
async fn missing_or_empty_token_is_refused() {
    let auth = authenticator().await;
    for header in [None, Some(""), Some("Bearer"), Some("Bearer   ")] {
        assert_eq!(
            auth.authenticate(header).await,
            Err(AuthError::Missing),
            "{header:?}"
        );
    }
    assert_eq!(AuthError::Missing.message(), "Access token is empty.");
}

#[tokio::test]
async fn scheme_must_be_bearer_in_any_case() {
    let auth = authenticator().await;
    let token = signed(|_| {});
    let basic = auth.authenticate(Some(&format!("Basic {token}"))).await;
    assert_eq!(basic, Err(AuthError::UnsupportedScheme));
    assert!(
        auth.authenticate(Some(&format!("bEaReR {token}")))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn garbage_is_malformed() {
    for token in ["garbage", "a.b.c", "a.b", "..", "eyJhbGciOiJSUzI1NiJ9.e30"] {
        assert!(
            matches!(check(token).await, Err(AuthError::Malformed(_))),
            "{token}"
        );
    }
}

#[tokio::test]
async fn alg_none_is_refused() {
    let header = json!({"alg": "none", "typ": "JWT", "kid": dev().kid()});
    let token = format!("{}.{}.", b64(&header), b64(&claims_with(|_| {})));
    assert_eq!(check(&token).await, Err(AuthError::UnsupportedAlgorithm));
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(dev().kid().to_owned());
    let key = jsonwebtoken::EncodingKey::from_secret(dev().public_key_pem().as_bytes());
    let token = jsonwebtoken::encode(&header, &claims_with(|_| {}), &key).unwrap();
    assert_eq!(check(&token).await, Err(AuthError::UnsupportedAlgorithm));
}

#[tokio::test]
async fn unknown_kid_is_refused() {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "not-a-known-key"});
    let token = rs256(&dev_private_key(), &header, &claims_with(|_| {}));
    assert_eq!(check(&token).await, Err(AuthError::UnknownKey));
    let long_kid = json!({"alg": "RS256", "kid": "k".repeat(129)});
    let token = rs256(&dev_private_key(), &long_kid, &claims_with(|_| {}));
    assert!(matches!(check(&token).await, Err(AuthError::Malformed(_))));
}

#[tokio::test]
async fn tampered_payload_is_refused() {
    let token = signed(|_| {});
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64(&claims_with(|c| c["scp"] = json!(READ_WRITE)));
    let token = format!("{}.{forged}.{}", parts[0], parts[2]);
    assert_eq!(check(&token).await, Err(AuthError::BadSignature));
}

#[tokio::test]
async fn lifetime_is_enforced() {
    let t = now();
    let expired = signed(|c| (c["exp"], c["nbf"]) = (json!(t - 3600), json!(t - 7200)));
    assert_eq!(check(&expired).await, Err(AuthError::Expired));
    assert_eq!(
        AuthError::Expired.message(),
        "Lifetime validation failed, the token is expired."
    );
    let early = signed(|c| c["nbf"] = json!(t + 3600));
    assert_eq!(check(&early).await, Err(AuthError::NotYetValid));
    let no_nbf = signed(|c| drop(c.as_object_mut().unwrap().remove("nbf")));
    assert_eq!(
        check(&no_nbf).await,
        Err(AuthError::InvalidClaim("nbf".into()))
    );
}

#[tokio::test]
async fn iat_in_the_future_is_refused_beyond_the_leeway() {
    let t = now();
    let ten_years = 10 * 365 * 86_400;
    let future = signed(|c| c["iat"] = json!(t + ten_years));
    assert_eq!(check(&future).await, Err(AuthError::IssuedInFuture));
    let within_leeway = signed(|c| c["iat"] = json!(t + 30));
    assert!(check(&within_leeway).await.is_ok());
    let iat_string = signed(|c| c["iat"] = json!(t.to_string()));
    assert_eq!(
        check(&iat_string).await,
        Err(AuthError::InvalidClaim("iat".into()))
    );
    assert_eq!(
        AuthError::IssuedInFuture.message(),
        "Access token validation failure. Lifetime validation failed, the token is issued in the future."
    );
}

#[tokio::test]
async fn lifetime_beyond_the_maximum_is_refused() {
    let t = now();
    let day = AuthSettings::default().max_token_lifetime_secs;
    assert_eq!(day, 86_400);
    // `iat` and `nbf` pinned to `t`: the claims' own clock may have ticked since.
    let lasting = |secs: u64| {
        signed(|c| (c["iat"], c["nbf"], c["exp"]) = (json!(t), json!(t), json!(t + secs)))
    };
    let century = lasting(100 * 365 * 86_400);
    assert_eq!(check(&century).await, Err(AuthError::LifetimeTooLong));
    let just_over = lasting(day + 1);
    assert_eq!(check(&just_over).await, Err(AuthError::LifetimeTooLong));
    let exactly = lasting(day);
    assert!(check(&exactly).await.is_ok());
    // Without `iat` the lifetime counts from `nbf`.
    let no_iat_long = signed(|c| {
        c.as_object_mut().unwrap().remove("iat");
        (c["nbf"], c["exp"]) = (json!(t), json!(t + day + 60));
    });
    assert_eq!(check(&no_iat_long).await, Err(AuthError::LifetimeTooLong));
    let no_iat_short = signed(|c| drop(c.as_object_mut().unwrap().remove("iat")));
    assert!(check(&no_iat_short).await.is_ok());
    // An old `iat` with a fresh `exp` is still a long-lived token.
    let old_iat = signed(|c| c["iat"] = json!(t - day));
    assert_eq!(check(&old_iat).await, Err(AuthError::LifetimeTooLong));
    // The maximum is configurable.
    let strict = Authenticator::new(
        &AuthSettings {
            max_token_lifetime_secs: 300,
            ..settings()
        },
        Some(dev()),
        http(),
    )
    .await
    .unwrap();
    let ten_minutes = signed(|_| {});
    assert_eq!(
        strict
            .authenticate(Some(&format!("Bearer {ten_minutes}")))
            .await,
        Err(AuthError::LifetimeTooLong)
    );
}

#[test]
fn dev_token_default_ttl_is_within_the_maximum_lifetime() {
    use clap::Parser;
    let cli =
        crate::cli::Cli::try_parse_from(["dep-gateway", "token", "--tenant", TENANT]).unwrap();
    let crate::cli::Command::Token { ttl, .. } = cli.command else {
        panic!("not the token command");
    };
    assert!(ttl <= AuthSettings::default().max_token_lifetime_secs);
}
