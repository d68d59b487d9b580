//! How bearer tokens are validated (`[auth]`).

use serde::{Deserialize, Serialize};

/// How bearer tokens are validated.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Accepted `aud` values: the gateway's own client id and/or App ID URI.
    pub audiences: Vec<String>,
    /// The built-in development token authority. Unset: on when `bind` is a loopback address.
    pub dev_authority: Option<bool>,
    /// External issuers (Entra ID, any OIDC provider).
    pub issuers: Vec<IssuerSettings>,
    /// Minimum seconds between two JWKS refreshes triggered by an unknown `kid`.
    pub jwks_refresh_min_interval_secs: u64,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// Longest accepted bearer token, in bytes.
    pub max_token_bytes: usize,
    /// Longest accepted token lifetime (`exp - iat`, or `exp - nbf` when `iat` is absent), in
    /// seconds: a stolen long-lived token stays useful for too long.
    pub max_token_lifetime_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            audiences: vec!["api://dep-gateway".to_owned()],
            dev_authority: None,
            issuers: Vec::new(),
            jwks_refresh_min_interval_secs: 300,
            leeway_secs: 60,
            max_token_bytes: 16 * 1024,
            max_token_lifetime_secs: 24 * 3600,
        }
    }
}

/// One trusted token issuer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum IssuerSettings {
    /// Entra ID, multi-tenant: `iss` must equal `issuer_template` with `{tenantid}` replaced by
    /// the token's `tid`.
    Entra {
        /// e.g. `https://login.microsoftonline.com/{tenantid}/v2.0`.
        #[serde(default = "default_entra_issuer")]
        issuer_template: String,
        /// OpenID discovery document that names the JWKS.
        #[serde(default = "default_entra_discovery")]
        discovery_url: String,
        /// Tenants allowed in; empty allows every tenant.
        #[serde(default)]
        allowed_tenants: Vec<String>,
    },
    /// Any OpenID Connect provider with a fixed issuer; the tenant comes from `tenant_claim`.
    Oidc {
        /// Exact `iss` value.
        issuer: String,
        /// Discovery document; defaults to `<issuer>/.well-known/openid-configuration`.
        #[serde(default)]
        discovery_url: Option<String>,
        /// Claim holding the tenant GUID.
        #[serde(default = "default_tenant_claim")]
        tenant_claim: String,
        /// Tenants allowed in; empty allows every tenant.
        #[serde(default)]
        allowed_tenants: Vec<String>,
    },
}

fn default_entra_issuer() -> String {
    "https://login.microsoftonline.com/{tenantid}/v2.0".to_owned()
}

fn default_entra_discovery() -> String {
    "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration".to_owned()
}

fn default_tenant_claim() -> String {
    "tid".to_owned()
}
