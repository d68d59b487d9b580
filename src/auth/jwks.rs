//! Signing keys of one issuer: discovery document → `jwks_uri` → RSA keys by `kid`.
//!
//! Keys are fetched lazily on first need; an unknown `kid` triggers at most one refresh per
//! minimum interval (single-flight); a failed fetch keeps the last good keys.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use jsonwebtoken::DecodingKey;
use serde::Deserialize;

/// Base64url that tolerates padding (some providers pad `n`/`e`).
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Retry delay while no key set was ever loaded (provider down at start).
const EMPTY_RETRY: Duration = Duration::from_secs(10);
const MIN_RSA_BITS: usize = 2048;

/// One trusted verification key.
pub(crate) struct VerifyKey {
    /// RS256 verification key.
    pub(crate) decoding: DecodingKey,
    /// The JWK `issuer` member (Entra; may contain `{tenantid}`).
    pub(crate) issuer: Option<String>,
}

impl VerifyKey {
    /// Whether the key may sign a token with this `iss` and `tid` (true when the key names no issuer).
    pub(crate) fn allows_issuer(&self, iss: &str, tid: &str) -> bool {
        self.issuer
            .as_ref()
            .is_none_or(|own| own.replace("{tenantid}", tid) == iss)
    }
}

/// Keys by `kid`.
pub(crate) type KeyMap = HashMap<String, Arc<VerifyKey>>;

#[derive(Deserialize)]
struct Discovery {
    jwks_uri: String,
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<RawJwk>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    issuer: Option<String>,
}

/// Keeps the usable keys of a JWKS document: RSA, `use` sig or absent, RS256 or no `alg`, ≥ 2048 bits.
pub(crate) fn parse_jwks(body: &[u8]) -> anyhow::Result<KeyMap> {
    let jwks: RawJwks = serde_json::from_slice(body).context("parsing JWKS")?;
    Ok(jwks.keys.into_iter().filter_map(usable_key).collect())
}

fn usable_key(jwk: RawJwk) -> Option<(String, Arc<VerifyKey>)> {
    let rsa_sig = jwk.kty.as_deref() == Some("RSA")
        && jwk.use_.as_deref().is_none_or(|u| u == "sig")
        && jwk.alg.as_deref().is_none_or(|a| a == "RS256");
    if !rsa_sig {
        return None;
    }
    let n = B64URL.decode(jwk.n?).ok()?;
    let e = B64URL.decode(jwk.e?).ok()?;
    if modulus_bits(&n) < MIN_RSA_BITS {
        tracing::warn!(kid = ?jwk.kid, "ignoring RSA key shorter than 2048 bits");
        return None;
    }
    let key = VerifyKey {
        decoding: DecodingKey::from_rsa_raw_components(&n, &e),
        issuer: jwk.issuer,
    };
    Some((jwk.kid?, Arc::new(key)))
}

fn non_empty(keys: KeyMap) -> anyhow::Result<KeyMap> {
    anyhow::ensure!(!keys.is_empty(), "the JWKS has no usable keys");
    Ok(keys)
}

fn modulus_bits(n: &[u8]) -> usize {
    let Some(first) = n.iter().position(|&b| b != 0) else {
        return 0;
    };
    (n.len() - first) * 8 - n[first].leading_zeros() as usize
}

/// The lazily fetched, rate-limited key cache of one issuer.
pub(crate) struct JwksSource {
    discovery_url: String,
    http: reqwest::Client,
    min_interval: Duration,
    keys: RwLock<Arc<KeyMap>>,
    /// Time of the last fetch attempt; the lock makes refreshes single-flight.
    refresh: tokio::sync::Mutex<Option<Instant>>,
}

impl JwksSource {
    /// A source with no keys yet.
    pub(crate) fn new(
        discovery_url: String,
        http: reqwest::Client,
        min_interval: Duration,
    ) -> Self {
        Self {
            discovery_url,
            http,
            min_interval,
            keys: RwLock::new(Arc::new(KeyMap::new())),
            refresh: tokio::sync::Mutex::new(None),
        }
    }

    fn current(&self) -> Arc<KeyMap> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The cached key, without any network access.
    pub(crate) fn cached(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        self.current().get(kid).cloned()
    }

    /// The key after a refresh, unless another refresh happened within the minimum interval.
    pub(crate) async fn refreshed(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        let mut last_attempt = self.refresh.lock().await;
        // Another request may have refreshed while this one waited for the lock.
        if let Some(key) = self.cached(kid) {
            return Some(key);
        }
        let interval = if self.current().is_empty() {
            self.min_interval.min(EMPTY_RETRY)
        } else {
            self.min_interval
        };
        if last_attempt.is_some_and(|at| at.elapsed() < interval) {
            return None;
        }
        *last_attempt = Some(Instant::now());
        let url = &self.discovery_url;
        match self.fetch().await.and_then(non_empty) {
            Ok(keys) => {
                tracing::info!(%url, keys = keys.len(), "loaded signing keys");
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
            }
            Err(err) => {
                tracing::warn!(%url, error = %format!("{err:#}"), "JWKS refresh failed; keeping the old keys");
            }
        }
        self.cached(kid)
    }

    async fn fetch(&self) -> anyhow::Result<KeyMap> {
        let discovery = self.discover().await?;
        let body = self
            .http
            .get(&discovery.jwks_uri)
            .timeout(HTTP_TIMEOUT)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .context("fetching JWKS")?
            .bytes()
            .await
            .context("reading JWKS")?;
        parse_jwks(&body)
    }

    async fn discover(&self) -> anyhow::Result<Discovery> {
        let response = self
            .http
            .get(&self.discovery_url)
            .timeout(HTTP_TIMEOUT)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .context("fetching the discovery document")?;
        response
            .json()
            .await
            .context("parsing the discovery document")
    }
}
