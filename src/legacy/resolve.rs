//! Which token an old call goes to: ids that carry their token route themselves, identities are
//! looked up in the tenant, and tenant-wide writes go to the legacy default token (the only
//! token, or the one an admin designated), never to a guess.

use crate::api::error::ApiError;
use crate::domain::ids::{IdentityId, SettingId, TenantId};
use crate::service::Services;
use crate::service::legacy;

pub use crate::service::legacy::{DefaultToken, default_token, pick, tokens};

/// The 409 of an old tenant-wide call on a tenant with several tokens and no default: it names
/// the per-token call to make instead.
pub fn ambiguous(count: usize, per_token_call: &str) -> ApiError {
    ApiError::Conflict(format!(
        "This tenant has {count} DEP tokens and none is designated as the legacy default token, so \
         this single-token call cannot choose one. Use {per_token_call} with the id of the \
         token (GET /beta/deviceManagement/depOnboardingSettings lists them), or designate a \
         default with PUT /beta/deviceManagement/{}.",
        super::routes::DEFAULT_TOKEN_SEGMENT
    ))
}

/// The 400 of an old call that needs a token on a tenant that has none.
pub fn no_token() -> ApiError {
    ApiError::BadRequest(
        "This tenant has no DEP token yet: download the public key with GET \
         /beta/deviceManagement/depOnboardingSettings/getEncryptionPublicKey, then upload the \
         server token with POST /beta/deviceManagement/depOnboardingSettings/uploadDepToken."
            .to_owned(),
    )
}

/// The default token for a tenant-wide write, or the clear error that explains why there is none.
pub async fn require_default(
    svc: &Services,
    tenant: TenantId,
    per_token_call: &str,
) -> Result<SettingId, ApiError> {
    match default_token(svc, tenant).await? {
        DefaultToken::One(id) => Ok(SettingId::from(id)),
        DefaultToken::NoToken => Err(no_token()),
        DefaultToken::Ambiguous(n) => Err(ambiguous(n, per_token_call)),
    }
}

/// The token that holds the tenant's identity `id` (404 when the tenant has none).
pub async fn token_of_device(
    svc: &Services,
    tenant: TenantId,
    id: &IdentityId,
) -> Result<SettingId, ApiError> {
    legacy::token_of_device(svc, tenant, id.clone())
        .await?
        .map(SettingId::from)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "The importedAppleDeviceIdentity with id '{id}' was not found."
            ))
        })
}
