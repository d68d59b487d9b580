//! Bearer-token validation against the configured issuers (entra-jwt.md §2).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::dev_authority::DEV_ISSUER_TEMPLATE;
use super::jwks::{JwksSource, KeyMap, VerifyKey};
use super::token_cache::TokenCache;
use super::{AuthError, DevAuthority, Principal};
use crate::config::{AuthSettings, IssuerSettings};
use crate::domain::ids::TenantId;

const MAX_KID_CHARS: usize = 128;
const CACHE_CAPACITY: usize = 10_000;

type Claims = Map<String, Value>;

/// How a trusted issuer's `iss` and tenant are checked.
enum IssuerRule {
    /// `iss` = template with `{tenantid}` → `tid`; the tenant is `tid`.
    Template(String),
    /// `iss` = this exact value; the tenant is the named claim.
    Exact {
        issuer: String,
        tenant_claim: String,
    },
}

enum KeySource {
    Static(KeyMap),
    Jwks(JwksSource),
}

struct TrustedIssuer {
    rule: IssuerRule,
    /// Allowed tenants; empty allows all.
    allowed: Vec<Uuid>,
    keys: KeySource,
}

impl TrustedIssuer {
    /// Whether this issuer is the one the (not yet verified) claims name.
    fn names(&self, iss: &str, claims: &Claims) -> bool {
        match &self.rule {
            IssuerRule::Template(template) => claim_str(claims, "tid")
                .is_some_and(|tid| template.replace("{tenantid}", tid) == iss),
            IssuerRule::Exact { issuer, .. } => issuer == iss,
        }
    }

    /// The tenant of verified claims: a hyphenated GUID, in the allow-list if there is one.
    fn tenant(&self, claims: &Claims) -> Result<TenantId, AuthError> {
        let claim = match &self.rule {
            IssuerRule::Template(_) => "tid",
            IssuerRule::Exact { tenant_claim, .. } => tenant_claim,
        };
        let tenant = claim_str(claims, claim)
            .filter(|raw| raw.len() == 36)
            .and_then(|raw| Uuid::try_parse(raw).ok())
            .ok_or(AuthError::BadTenant)?;
        if !self.allowed.is_empty() && !self.allowed.contains(&tenant) {
            return Err(AuthError::BadTenant);
        }
        Ok(TenantId::new(tenant))
    }

    fn cached(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        match &self.keys {
            KeySource::Static(keys) => keys.get(kid).cloned(),
            KeySource::Jwks(source) => source.cached(kid),
        }
    }

    async fn refreshed(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        match &self.keys {
            KeySource::Static(_) => None,
            KeySource::Jwks(source) => source.refreshed(kid).await,
        }
    }
}

/// Validates bearer tokens and caches the outcome; cheap to share behind an `Arc`.
pub struct Authenticator {
    issuers: Vec<TrustedIssuer>,
    validation: Validation,
    max_token_bytes: usize,
    lifetime: LifetimeRule,
    cache: TokenCache,
}

/// The checks on `iat` and the total lifetime that `jsonwebtoken` does not make.
#[derive(Clone, Copy)]
struct LifetimeRule {
    leeway_secs: u64,
    max_lifetime_secs: u64,
}

impl LifetimeRule {
    /// Refuses an `iat` beyond the leeway in the future and a lifetime over the maximum. The
    /// lifetime starts at `iat`, or at `nbf` (required) when a token carries no `iat`.
    fn check(self, claims: &Claims, now: u64) -> Result<(), AuthError> {
        let number = |name: &str| match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| AuthError::InvalidClaim(name.to_owned())),
        };
        let iat = number("iat")?;
        if iat.is_some_and(|iat| iat > now.saturating_add(self.leeway_secs)) {
            return Err(AuthError::IssuedInFuture);
        }
        let start = match iat {
            Some(iat) => iat,
            None => number("nbf")?.ok_or_else(|| AuthError::InvalidClaim("nbf".to_owned()))?,
        };
        let exp = number("exp")?.ok_or_else(|| AuthError::InvalidClaim("exp".to_owned()))?;
        if exp.saturating_sub(start) > self.max_lifetime_secs {
            return Err(AuthError::LifetimeTooLong);
        }
        Ok(())
    }
}

impl Authenticator {
    /// Builds the validator; JWKS are fetched lazily, so unreachable providers do not fail start-up.
    #[expect(
        clippy::unused_async,
        reason = "stable async constructor; may warm JWKS caches later"
    )]
    pub async fn new(
        settings: &AuthSettings,
        dev_authority: Option<DevAuthority>,
        http: reqwest::Client,
    ) -> anyhow::Result<Authenticator> {
        let min_interval = Duration::from_secs(settings.jwks_refresh_min_interval_secs);
        let mut issuers: Vec<TrustedIssuer> =
            dev_authority.as_ref().map(dev_issuer).into_iter().collect();
        for issuer in &settings.issuers {
            issuers.push(configured_issuer(issuer, &http, min_interval)?);
        }
        if settings.audiences.is_empty() {
            tracing::warn!("no accepted audiences configured: every token will be refused");
        }
        Ok(Self {
            issuers,
            validation: validation(settings),
            max_token_bytes: settings.max_token_bytes,
            lifetime: LifetimeRule {
                leeway_secs: settings.leeway_secs,
                max_lifetime_secs: settings.max_token_lifetime_secs,
            },
            cache: TokenCache::new(CACHE_CAPACITY, settings.leeway_secs),
        })
    }

    /// Validates the `Authorization` header value and returns the caller.
    pub async fn authenticate(
        &self,
        authorization_header: Option<&str>,
    ) -> Result<Principal, AuthError> {
        let token = bearer_token(authorization_header, self.max_token_bytes)?;
        let key = TokenCache::key(token);
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(hit) = self.cache.get(&key, now) {
            return hit;
        }
        let kid = match parse_header(token) {
            Ok(kid) => kid,
            Err(err) => {
                tracing::debug!(reason = %err, "access token rejected");
                return Err(err);
            }
        };
        let (principal, exp) = self.validate(token, &kid, now).await.inspect_err(|err| {
            tracing::debug!(kid = %kid, reason = %err, "access token rejected");
        })?;
        self.cache.insert(key, principal.clone(), exp, now);
        Ok(principal)
    }

    async fn validate(
        &self,
        token: &str,
        kid: &str,
        now: u64,
    ) -> Result<(Principal, u64), AuthError> {
        let unverified = unverified_claims(token)?;
        let iss = claim_str(&unverified, "iss").ok_or(AuthError::BadIssuer)?;
        let candidates: Vec<&TrustedIssuer> = self
            .issuers
            .iter()
            .filter(|i| i.names(iss, &unverified))
            .collect();
        if candidates.is_empty() {
            return Err(AuthError::BadIssuer);
        }
        let (issuer, key) = find_key(&candidates, kid)
            .await
            .ok_or(AuthError::UnknownKey)?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation)?.claims;
        // The verified payload is byte-identical to the one routed on, so `iss` still names `issuer`.
        if !key.allows_issuer(iss, claim_str(&claims, "tid").unwrap_or_default()) {
            return Err(AuthError::BadIssuer);
        }
        let tenant = issuer.tenant(&claims)?;
        self.lifetime.check(&claims, now)?;
        let exp = claims.get("exp").and_then(Value::as_u64);
        let exp = exp.ok_or_else(|| AuthError::InvalidClaim("exp".to_owned()))?;
        Ok((Principal::from_claims(tenant, &claims), exp))
    }

    #[cfg(test)]
    pub(crate) fn cache(&self) -> &TokenCache {
        &self.cache
    }
}

/// Looks the key up in every candidate's cache first, then refreshes them in turn.
async fn find_key<'a>(
    candidates: &[&'a TrustedIssuer],
    kid: &str,
) -> Option<(&'a TrustedIssuer, Arc<VerifyKey>)> {
    if let Some(found) = candidates
        .iter()
        .find_map(|i| i.cached(kid).map(|k| (*i, k)))
    {
        return Some(found);
    }
    for issuer in candidates {
        if let Some(key) = issuer.refreshed(kid).await {
            return Some((issuer, key));
        }
    }
    None
}

fn validation(settings: &AuthSettings) -> Validation {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_nbf = true;
    validation.leeway = settings.leeway_secs;
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud"]);
    validation.set_audience(&settings.audiences);
    validation
}

/// The dev authority: its one key, its issuer template, any tenant.
fn dev_issuer(dev: &DevAuthority) -> TrustedIssuer {
    let key = VerifyKey {
        decoding: dev.decoding_key(),
        issuer: None,
    };
    TrustedIssuer {
        rule: IssuerRule::Template(DEV_ISSUER_TEMPLATE.to_owned()),
        allowed: Vec::new(),
        keys: KeySource::Static(KeyMap::from([(dev.kid().to_owned(), Arc::new(key))])),
    }
}

fn configured_issuer(
    settings: &IssuerSettings,
    http: &reqwest::Client,
    min_interval: Duration,
) -> anyhow::Result<TrustedIssuer> {
    let (rule, discovery_url, allowed) = match settings {
        IssuerSettings::Entra {
            issuer_template,
            discovery_url,
            allowed_tenants,
        } => (
            IssuerRule::Template(issuer_template.clone()),
            discovery_url.clone(),
            allowed_tenants,
        ),
        IssuerSettings::Oidc {
            issuer,
            discovery_url,
            tenant_claim,
            allowed_tenants,
        } => {
            let discovery = discovery_url.clone().unwrap_or_else(|| {
                format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                )
            });
            let rule = IssuerRule::Exact {
                issuer: issuer.clone(),
                tenant_claim: tenant_claim.clone(),
            };
            (rule, discovery, allowed_tenants)
        }
    };
    let allowed = allowed
        .iter()
        .map(|t| Uuid::try_parse(t).with_context(|| format!("allowed tenant {t:?} is not a GUID")))
        .collect::<anyhow::Result<_>>()?;
    let keys = KeySource::Jwks(JwksSource::new(discovery_url, http.clone(), min_interval));
    Ok(TrustedIssuer {
        rule,
        allowed,
        keys,
    })
}

/// The token of `Bearer <token>` (scheme case-insensitive), size-checked before any decoding.
fn bearer_token(header: Option<&str>, max_bytes: usize) -> Result<&str, AuthError> {
    let header = header.map(str::trim).unwrap_or_default();
    if header.is_empty() {
        return Err(AuthError::Missing);
    }
    let (scheme, token) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::UnsupportedScheme);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    if token.len() > max_bytes {
        return Err(AuthError::TooLarge);
    }
    Ok(token)
}

/// Checks the untrusted JOSE header (alg RS256, bounded `kid`, no `crit`) and returns the `kid`.
fn parse_header(token: &str) -> Result<String, AuthError> {
    let (encoded, _) = token
        .split_once('.')
        .ok_or(AuthError::Malformed("Not a JWT"))?;
    let header: Claims = decode_segment(encoded)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(AuthError::UnsupportedAlgorithm);
    }
    if header.contains_key("crit") {
        return Err(AuthError::Malformed(
            "Critical header parameters are not supported",
        ));
    }
    if let Some(typ) = header.get("typ") {
        let typ = typ.as_str().unwrap_or_default();
        if !typ.eq_ignore_ascii_case("JWT") && !typ.eq_ignore_ascii_case("at+jwt") {
            return Err(AuthError::Malformed("Unsupported token type"));
        }
    }
    match header.get("kid").and_then(Value::as_str) {
        Some(kid)
            if (1..=MAX_KID_CHARS).contains(&kid.len())
                && kid.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(kid.to_owned())
        }
        _ => Err(AuthError::Malformed("Missing or invalid key id")),
    }
}

/// The payload before signature verification; used only to route to an issuer.
fn unverified_claims(token: &str) -> Result<Claims, AuthError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(payload), Some(_), None) => decode_segment(payload),
        _ => Err(AuthError::Malformed("Not a JWT")),
    }
}

fn decode_segment(segment: &str) -> Result<Claims, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| AuthError::Malformed("Malformed token"))?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed("Malformed token"))
}

fn claim_str<'c>(claims: &'c Claims, name: &str) -> Option<&'c str> {
    claims.get(name).and_then(Value::as_str)
}
