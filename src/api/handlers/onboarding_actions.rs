//! Handlers of a depOnboardingSetting's bound operations: encryption keys, server-token upload,
//! sync with Apple, School Data Sync sharing.

use serde_json::json;

use crate::api::context::RequestCtx;
use crate::api::error::ApiError;
use crate::api::response::{GraphResponse, primitive};
use crate::api::table::Call;
use crate::api::{json_object, optional_json_object};
use crate::auth::Permission;
use crate::domain::ids::{SettingId, TenantId};
use crate::service::Services;
use crate::service::dep_tokens::{self, Sharing};

/// `POST …/{id}/generateEncryptionPublicKey` → `{"value": "<PEM>"}`.
pub async fn generate_encryption_public_key(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    optional_json_object(c.body)?;
    let key = dep_tokens::generate_key(c.services, c.tenant, &c.params.setting()).await?;
    Ok(primitive(c.ctx, &json!(key)))
}

/// `GET …/{id}/getEncryptionPublicKey()` → `{"value": "<PEM>"}`.
pub async fn get_encryption_public_key(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let key = download_key(c.services, c.ctx, c.tenant, &c.params.setting()).await?;
    Ok(primitive(c.ctx, &json!(key)))
}

/// The certificate `getEncryptionPublicKey` returns: the setting's current (else staged) key. A
/// setting without one gets a key pair generated — the old "download the public key" first step —
/// but that is a write: a read-only caller gets the 403 naming `ReadWrite` and nothing is generated
/// (issue 12: Read permission changes no state).
pub async fn download_key(
    services: &Services,
    ctx: &RequestCtx,
    tenant: TenantId,
    setting: &SettingId,
) -> Result<String, ApiError> {
    if let Some(certificate) = dep_tokens::current_key(services, tenant, setting).await? {
        return Ok(certificate);
    }
    ctx.require(Permission::Write)?;
    Ok(dep_tokens::generate_key(services, tenant, setting).await?)
}

/// `POST …/{id}/uploadDepToken` → 204.
pub async fn upload_dep_token(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let upload = dep_tokens::parse_upload(&json_object(c.body)?)?;
    dep_tokens::upload(c.services, c.tenant, &c.params.setting(), upload).await?;
    Ok(GraphResponse::no_content())
}

/// `POST …/{id}/shareForSchoolDataSyncService` → 204.
pub async fn share_for_school_data_sync_service(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    school_data_sync(c, Sharing::Shared).await
}

/// `POST …/{id}/unshareForSchoolDataSyncService` → 204.
pub async fn unshare_for_school_data_sync_service(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    school_data_sync(c, Sharing::Unshared).await
}

async fn school_data_sync(c: Call<'_>, share: Sharing) -> Result<GraphResponse, ApiError> {
    optional_json_object(c.body)?;
    let setting = &c.params.setting();
    dep_tokens::share_with_school_data_sync(c.services, c.tenant, setting, share).await?;
    Ok(GraphResponse::no_content())
}

/// `POST …/{id}/syncWithAppleDeviceEnrollmentProgram` → 204.
pub async fn sync_with_apple_device_enrollment_program(
    c: Call<'_>,
) -> Result<GraphResponse, ApiError> {
    optional_json_object(c.body)?;
    crate::service::sync::trigger(c.services, c.tenant, &c.params.setting()).await?;
    Ok(GraphResponse::no_content())
}

/// `POST …/{id}/releaseAppleDevices` → 204.
pub async fn release_apple_devices(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let release = dep_tokens::parse_release(&json_object(c.body)?)?;
    dep_tokens::release(c.services, c.tenant, &c.params.setting(), release).await?;
    Ok(GraphResponse::no_content())
}
