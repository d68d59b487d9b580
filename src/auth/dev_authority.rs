//! The built-in development token issuer: a local RSA key that mints Entra-shaped tokens.

use std::fmt::{self, Write as _};
use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::ids::TenantId;

const KEY_FILE: &str = "dev-authority-key.pem";
/// Issuer of dev tokens; `{tenantid}` is replaced by the token's `tid`.
pub(crate) const DEV_ISSUER_TEMPLATE: &str =
    "https://dev-authority.dep-gateway.invalid/{tenantid}/v2.0";
const DEV_APP_ID: &str = "dep-gateway-dev";
const DEFAULT_SCOPE: &str = "DeviceManagementServiceConfig.ReadWrite.All";

/// What a dev token should carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The token's `tid`.
    pub tenant: TenantId,
    /// Delegated scopes (`scp`); `ReadWrite` when empty and `roles` is empty too.
    pub scopes: Vec<String>,
    /// App roles; non-empty makes an app-only token.
    pub roles: Vec<String>,
    /// Lifetime in seconds.
    pub ttl_secs: u64,
}

/// The development token authority (private key kept in the data directory).
#[derive(Clone)]
pub struct DevAuthority {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    audience: String,
    public_pem: String,
}

impl fmt::Debug for DevAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevAuthority")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl DevAuthority {
    /// Loads `<data_dir>/dev-authority-key.pem`, creating an RSA-2048 key (mode 0600) on first start.
    pub fn load_or_create(data_dir: &Path, audience: &str) -> anyhow::Result<DevAuthority> {
        let path = data_dir.join(KEY_FILE);
        let key = if path.exists() {
            let pem = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            PKey::private_key_from_pem(&pem)
                .with_context(|| format!("parsing {}", path.display()))?
        } else {
            let key = PKey::from_rsa(Rsa::generate(2048)?)?;
            write_private(data_dir, &path, &key.private_key_to_pem_pkcs8()?)?;
            tracing::info!(path = %path.display(), "created the development token authority key");
            key
        };
        Self::from_key(&key, audience)
    }

    fn from_key(key: &PKey<Private>, audience: &str) -> anyhow::Result<Self> {
        let rsa = key.rsa().context("the dev authority key must be RSA")?;
        anyhow::ensure!(
            rsa.size() * 8 >= 2048,
            "the dev authority key must have at least 2048 bits"
        );
        let public_der = key.public_key_to_der()?;
        let kid = hex16(&Sha256::digest(&public_der));
        Ok(Self {
            encoding: EncodingKey::from_rsa_der(&rsa.private_key_to_der()?),
            decoding: DecodingKey::from_rsa_raw_components(&rsa.n().to_vec(), &rsa.e().to_vec()),
            kid,
            audience: audience.to_owned(),
            public_pem: String::from_utf8(key.public_key_to_pem()?)?,
        })
    }

    /// The key id (first 16 hex digits of the SHA-256 of the public key DER).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The `iss` of dev tokens for a tenant.
    pub fn issuer_for(&self, tenant: &TenantId) -> String {
        DEV_ISSUER_TEMPLATE.replace("{tenantid}", &tenant.to_string())
    }

    /// The public key as SPKI PEM.
    pub fn public_key_pem(&self) -> String {
        self.public_pem.clone()
    }

    pub(crate) fn decoding_key(&self) -> DecodingKey {
        self.decoding.clone()
    }

    /// Mints a delegated (scopes) or app-only (roles) token for the configured audience.
    pub fn mint(&self, req: &TokenRequest) -> anyhow::Result<String> {
        let now = jsonwebtoken::get_current_timestamp();
        let oid = Uuid::new_v4().to_string();
        let mut claims = json!({
            "aud": self.audience, "iss": self.issuer_for(&req.tenant), "tid": req.tenant.to_string(),
            "oid": oid, "sub": oid, "appid": DEV_APP_ID, "azp": DEV_APP_ID, "ver": "2.0",
            "iat": now, "nbf": now, "exp": now.saturating_add(req.ttl_secs),
            "uti": Uuid::new_v4().simple().to_string(), "jti": Uuid::new_v4().to_string(),
        });
        if req.roles.is_empty() {
            let scp = if req.scopes.is_empty() {
                DEFAULT_SCOPE.to_owned()
            } else {
                req.scopes.join(" ")
            };
            claims["scp"] = json!(scp);
        } else {
            claims["roles"] = json!(req.roles);
            claims["idtyp"] = json!("app");
        }
        self.sign_claims(&claims)
    }

    /// Signs arbitrary claims with RS256 and this authority's `kid`.
    pub fn sign_claims(&self, claims: &serde_json::Value) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }
}

fn hex16(digest: &[u8]) -> String {
    digest
        .iter()
        .take(8)
        .fold(String::with_capacity(16), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// Writes the key atomically (temp file with mode 0600, then rename).
fn write_private(dir: &Path, path: &Path, pem: &[u8]) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".{KEY_FILE}.{}.tmp", Uuid::new_v4().simple()));
    let written = write_new_private(&tmp, pem).and_then(|()| {
        fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
    });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

fn write_new_private(tmp: &Path, pem: &[u8]) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(pem)?;
    file.sync_all()?;
    Ok(())
}
