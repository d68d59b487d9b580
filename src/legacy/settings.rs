//! The organization-scoped depOnboardingSettings (old shape) and the collection-bound
//! `uploadDepToken`, `syncWithAppleDeviceEnrollmentProgram` and `getEncryptionPublicKey`.

use actix_web::http::StatusCode;
use serde_json::json;

use super::convert::{setting_body_from_old, setting_to_old};
use super::resolve::{self, DefaultToken, require_default};
use crate::api::context::RequestCtx;
use crate::api::error::ApiError;
use crate::api::handlers::onboarding_actions;
use crate::api::response::{self, GraphResponse, primitive};
use crate::api::table::{Call, ORGANIZATION_ID};
use crate::api::{json_object, optional_json_object};
use crate::auth::Permission;
use crate::domain::ids::{SettingId, TenantId};
use crate::service::Services;
use crate::service::legacy::{self, ByKeyRefused, SETTING_SPEC as SPEC};
use crate::service::paging::Page;
use crate::service::{dep_tokens, onboarding};

const ODATA_TYPE: &str = "#microsoft.graph.depOnboardingSetting";

/// The organization of an old path must be the caller's tenant (Graph's organization id is the
/// tenant id); any other is a 404, whoever it belongs to.
pub fn check_organization(ctx: &RequestCtx, org: &str) -> Result<TenantId, ApiError> {
    let tenant = ctx.tenant()?;
    if org.eq_ignore_ascii_case(&tenant.to_string()) {
        Ok(tenant)
    } else {
        Err(ApiError::NotFound(format!(
            "The organization with id '{org}' was not found."
        )))
    }
}

fn set_path(org: &str) -> String {
    format!("organization('{org}')/depOnboardingSettings")
}

/// `GET /organization/{org}/depOnboardingSettings`.
pub async fn list(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let org = c.params.get(ORGANIZATION_ID);
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    check_organization(ctx, org)?;
    let q = &c.query;
    let select = response::selected(q, &SPEC)?;
    let page = onboarding::list(st, tenant, q).await?;
    let old = Page {
        items: page.items.iter().map(setting_to_old).collect::<Vec<_>>(),
        skiptoken: page.skiptoken,
        count: page.count,
    };
    Ok(response::collection(
        ctx,
        &set_path(org),
        Some(ODATA_TYPE),
        &old,
        q,
        select.as_deref(),
    ))
}

/// `GET /organization/{org}/depOnboardingSettings/{id}`.
pub async fn get(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let org = c.params.get(ORGANIZATION_ID);
    let id = &c.params.setting();
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    check_organization(ctx, org)?;
    let q = &c.query;
    let select = response::selected(q, &SPEC)?;
    let setting = onboarding::get(st, tenant, id).await?;
    Ok(response::entity(
        ctx,
        StatusCode::OK,
        &set_path(org),
        Some(ODATA_TYPE),
        &setting_to_old(&setting),
        select.as_deref(),
    ))
}

/// `POST /organization/{org}/depOnboardingSettings` → 201 in the old shape.
pub async fn create(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let org = c.params.get(ORGANIZATION_ID);
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    check_organization(ctx, org)?;
    let body = setting_body_from_old(json_object(c.body)?)?;
    let setting = onboarding::create(st, tenant, body).await?;
    let mut resp = response::entity(
        ctx,
        StatusCode::CREATED,
        &set_path(org),
        Some(ODATA_TYPE),
        &setting_to_old(&setting),
        None,
    );
    resp.headers.push((
        "Location",
        format!("{}/beta/{}/{}", ctx.public_url, set_path(org), setting.id),
    ));
    Ok(resp)
}

/// `PATCH /organization/{org}/depOnboardingSettings/{id}` → 204.
// GRAPH-COMPAT: Intune answers PATCH with 204 (graph-dep-api.md §6), not the documented 200.
pub async fn update(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let org = c.params.get(ORGANIZATION_ID);
    let id = &c.params.setting();
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    check_organization(ctx, org)?;
    let body = setting_body_from_old(json_object(c.body)?)?;
    onboarding::update(st, tenant, id, body).await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE /organization/{org}/depOnboardingSettings/{id}` → 204.
pub async fn delete(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let org = c.params.get(ORGANIZATION_ID);
    let id = &c.params.setting();
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    check_organization(ctx, org)?;
    onboarding::delete(st, tenant, id).await?;
    Ok(GraphResponse::no_content())
}

/// Collection-bound `getEncryptionPublicKey()`: the key of the legacy default token (made on
/// a tenant without any token, see [`key_setting`]).
pub async fn get_encryption_public_key(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (svc, tenant) = (c.services, c.tenant);
    let setting = key_setting(svc, c.ctx, tenant).await?;
    Ok(primitive(
        c.ctx,
        &json!(onboarding_actions::download_key(svc, c.ctx, tenant, &setting).await?),
    ))
}

/// Collection-bound `syncWithAppleDeviceEnrollmentProgram`: syncs the legacy default token.
pub async fn sync_with_apple_device_enrollment_program(
    c: Call<'_>,
) -> Result<GraphResponse, ApiError> {
    let (svc, tenant) = (c.services, c.tenant);
    optional_json_object(c.body)?;
    let setting = require_default(
        svc,
        tenant,
        "POST /beta/deviceManagement/depOnboardingSettings/{id}/syncWithAppleDeviceEnrollmentProgram",
    )
    .await?;
    crate::service::sync::trigger(svc, tenant, &setting).await?;
    Ok(GraphResponse::no_content())
}

/// Collection-bound `uploadDepToken`: see [`upload`].
pub async fn upload_dep_token(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let body = json_object(c.body)?;
    upload(c.services, c.tenant, dep_tokens::parse_upload(&body)?).await?;
    Ok(GraphResponse::no_content())
}

/// `/organization/{org}/getEncryptionPublicKey()`.
pub async fn org_get_encryption_public_key(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    check_organization(c.ctx, c.params.get(ORGANIZATION_ID))?;
    get_encryption_public_key(c).await
}

/// `/organization/{org}/syncWithAppleDeviceEnrollmentProgram`.
pub async fn org_sync_with_apple_device_enrollment_program(
    c: Call<'_>,
) -> Result<GraphResponse, ApiError> {
    check_organization(c.ctx, c.params.get(ORGANIZATION_ID))?;
    sync_with_apple_device_enrollment_program(c).await
}

/// `/organization/{org}/uploadDepToken`.
pub async fn org_upload_dep_token(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    check_organization(c.ctx, c.params.get(ORGANIZATION_ID))?;
    upload_dep_token(c).await
}

/// The setting whose key the old "download the public key" step returns: the legacy default
/// token, or on a tenant without any token a new one (see [`legacy::key_setting`]).
///
/// The row only needs Read (reading the key of an existing token is a read), but creating the
/// tenant's first token is a write: a read-only caller on an empty tenant gets the 403 that
/// names `ReadWrite`, and nothing is created (issue 12).
async fn key_setting(
    st: &Services,
    ctx: &RequestCtx,
    tenant: TenantId,
) -> Result<SettingId, ApiError> {
    let per_token =
        "GET /beta/deviceManagement/depOnboardingSettings/{id}/getEncryptionPublicKey()";
    let decided = match legacy::default_token(st, tenant).await? {
        DefaultToken::NoToken => {
            ctx.require(Permission::Write)?;
            legacy::key_setting(st, tenant).await?
        }
        decided => decided,
    };
    match decided {
        DefaultToken::One(id) => Ok(SettingId::from(id)),
        DefaultToken::Ambiguous(n) => Err(resolve::ambiguous(n, per_token)),
        DefaultToken::NoToken => Err(resolve::no_token()),
    }
}

/// Collection-bound `uploadDepToken`: to the setting whose key decrypts the token (see
/// [`legacy::upload_by_key`]).
async fn upload(
    st: &Services,
    tenant: TenantId,
    upload: dep_tokens::Upload,
) -> Result<(), ApiError> {
    legacy::upload_by_key(st, tenant, upload)
        .await
        .map_err(|e| match e {
            ByKeyRefused::NoToken => resolve::no_token(),
            ByKeyRefused::NoKeyDecrypts => ApiError::BadRequest(
                "The server token was not encrypted to the public key of any of this tenant's DEP tokens: \
                 download the certificate from GET /beta/deviceManagement/depOnboardingSettings/getEncryptionPublicKey, \
                 upload it to Apple Business Manager, and download a new token."
                    .to_owned(),
            ),
            ByKeyRefused::Failed(e) => e.into(),
        })
}
