//! Which token an old call goes to: ids that carry their token route themselves, identities are
//! looked up in the tenant, and tenant-wide writes go to the legacy default token (the only
//! token, or the one an admin designated), never to a guess.

use crate::api::error::ApiError;
use crate::domain::ids::TenantId;
use crate::service::{ServiceError, Services};
use crate::storage::{devices, legacy_defaults};

/// The tenant's legacy default token, as far as it can be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultToken {
    /// The tenant has no token.
    NoToken,
    /// The token old calls go to.
    One(String),
    /// Several tokens and none designated: how many.
    Ambiguous(usize),
}

/// Decides the default from the tenant's setting ids and its designation (if any).
pub fn pick(ids: &[String], designated: Option<&str>) -> DefaultToken {
    match (designated, ids) {
        (Some(id), _) if ids.iter().any(|i| i == id) => DefaultToken::One(id.to_owned()),
        (_, []) => DefaultToken::NoToken,
        (_, [only]) => DefaultToken::One(only.clone()),
        (_, many) => DefaultToken::Ambiguous(many.len()),
    }
}

/// The tenant's setting ids (oldest first) and its designated default, if any.
pub async fn tokens(
    svc: &Services,
    tenant: TenantId,
) -> Result<(Vec<String>, Option<String>), ServiceError> {
    svc.db
        .run(move |c| {
            Ok::<_, ServiceError>((
                legacy_defaults::setting_ids(c, tenant)?,
                legacy_defaults::designated(c, tenant)?,
            ))
        })
        .await
}

/// The tenant's legacy default token.
pub async fn default_token(svc: &Services, tenant: TenantId) -> Result<DefaultToken, ServiceError> {
    let (ids, designated) = tokens(svc, tenant).await?;
    Ok(pick(&ids, designated.as_deref()))
}

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
) -> Result<String, ApiError> {
    match default_token(svc, tenant).await? {
        DefaultToken::One(id) => Ok(id),
        DefaultToken::NoToken => Err(no_token()),
        DefaultToken::Ambiguous(n) => Err(ambiguous(n, per_token_call)),
    }
}

/// The token part of a profile id (`{tokenId}_{guid}`), if it has one.
pub fn token_of_profile(id: &str) -> Option<&str> {
    id.split_once('_')
        .map(|(token, _)| token)
        .filter(|t| !t.is_empty())
}

/// The token that holds the tenant's identity `id` (404 when the tenant has none).
pub async fn token_of_device(
    svc: &Services,
    tenant: TenantId,
    id: &str,
) -> Result<String, ApiError> {
    let key = id.to_owned();
    let found = svc
        .db
        .run(move |c| Ok::<_, ServiceError>(devices::setting_of(c, tenant, &key)?))
        .await?;
    found.ok_or_else(|| {
        ApiError::NotFound(format!(
            "The importedAppleDeviceIdentity with id '{id}' was not found."
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("s{i}")).collect()
    }

    #[test]
    fn the_only_token_or_the_designated_one_is_the_default() {
        assert_eq!(pick(&ids(0), None), DefaultToken::NoToken);
        assert_eq!(pick(&ids(1), None), DefaultToken::One("s0".into()));
        assert_eq!(pick(&ids(3), None), DefaultToken::Ambiguous(3));
        assert_eq!(pick(&ids(3), Some("s2")), DefaultToken::One("s2".into()));
        // A designation that names no token of the tenant is no designation.
        assert_eq!(pick(&ids(2), Some("gone")), DefaultToken::Ambiguous(2));
    }

    #[test]
    fn profile_ids_carry_their_token() {
        assert_eq!(token_of_profile("abc_def"), Some("abc"));
        assert_eq!(token_of_profile("plain-guid"), None);
        assert_eq!(token_of_profile("_x"), None);
    }
}
