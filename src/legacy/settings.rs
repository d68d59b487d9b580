//! The organization-scoped depOnboardingSettings (old shape) and the collection-bound
//! `uploadDepToken`, `syncWithAppleDeviceEnrollmentProgram` and `getEncryptionPublicKey`.

use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use super::convert::{setting_body_from_old, setting_to_old};
use super::resolve::{self, DefaultToken, require_default};
use crate::api::context::RequestCtx;
use crate::api::error::ApiError;
use crate::api::response::{self, GraphResponse, primitive};
use crate::api::table::{Call, ORGANIZATION_ID, SETTING_ID};
use crate::api::{json_object, optional_json_object};
use crate::domain::ids::TenantId;
use crate::domain::onboarding::OnboardingSetting;
use crate::domain::time::now_ticks;
use crate::service::Services;
use crate::service::paging::Page;
use crate::service::{ServiceError, apple, onboarding};
use crate::storage::legacy_defaults;
use crate::storage::onboarding_settings::{self, SPEC};
use uuid::Uuid;

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
    let id = c.params.get(SETTING_ID);
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
    let id = c.params.get(SETTING_ID);
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    check_organization(ctx, org)?;
    let body = setting_body_from_old(json_object(c.body)?)?;
    onboarding::update(st, tenant, id, body).await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE /organization/{org}/depOnboardingSettings/{id}` → 204.
pub async fn delete(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let org = c.params.get(ORGANIZATION_ID);
    let id = c.params.get(SETTING_ID);
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    check_organization(ctx, org)?;
    onboarding::delete(st, tenant, id).await?;
    Ok(GraphResponse::no_content())
}

/// Collection-bound `getEncryptionPublicKey()`: the key of the legacy default token (made on
/// a tenant without any token, see [`key_setting`]).
pub async fn get_encryption_public_key(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (svc, tenant) = (c.services, c.tenant);
    let setting = key_setting(svc, tenant).await?;
    Ok(primitive(
        c.ctx,
        &json!(apple::get_key(svc, tenant, &setting).await?),
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
    apple::parse_upload(&body)?;
    upload(c.services, c.tenant, &body).await?;
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
/// token; on a tenant without any token, a new setting, designated as the legacy default (so
/// that the old download-key → upload flow works from scratch, and keeps working when tokens
/// are added through the multi-token API later).
async fn key_setting(st: &Services, tenant: TenantId) -> Result<String, ApiError> {
    let per_token =
        "GET /beta/deviceManagement/depOnboardingSettings/{id}/getEncryptionPublicKey()";
    match resolve::default_token(st, tenant).await? {
        DefaultToken::One(id) => return Ok(id),
        DefaultToken::Ambiguous(n) => return Err(resolve::ambiguous(n, per_token)),
        DefaultToken::NoToken => {}
    }
    // Decided again under the tenant's write lock, so that concurrent first calls end with one
    // setting: the first creates and designates it, the others find it designated.
    let fresh = OnboardingSetting::new(Uuid::new_v4().to_string(), now_ticks());
    let max_tokens = st.max_dep_tokens;
    let decided = st
        .db
        .write(tenant, move |c| {
            let ids = legacy_defaults::setting_ids(c, tenant)?;
            let designated = legacy_defaults::designated(c, tenant)?;
            if !ids.is_empty() {
                return Ok::<_, ServiceError>(resolve::pick(&ids, designated.as_deref()));
            }
            if max_tokens < 1 {
                return Err(crate::domain::ValidationError::new(
                    "maximumDepTokens is 0: this gateway accepts no DEP token.",
                )
                .into());
            }
            onboarding_settings::insert(c, tenant, &fresh, now_ticks())?;
            legacy_defaults::designate(c, tenant, &fresh.id)?;
            Ok(DefaultToken::One(fresh.id))
        })
        .await?;
    match decided {
        DefaultToken::One(id) => Ok(id),
        DefaultToken::Ambiguous(n) => Err(resolve::ambiguous(n, per_token)),
        DefaultToken::NoToken => Err(resolve::no_token()),
    }
}

/// Whether an upload failed only because the setting's keys did not decrypt the token (the
/// token was made for another setting's key), so the next setting may be tried.
fn wrong_key(e: &ServiceError) -> bool {
    // The messages of service::apple's key checks: "not encrypted to this setting's public key"
    // and "has no encryption key yet". The tests of the collection-bound upload pin them.
    matches!(e, ServiceError::Validation(v)
        if v.message.contains("not encrypted to this setting's public key")
            || v.message.contains("has no encryption key yet"))
}

/// Whether an upload failed because the setting's key decrypted a token of another Apple MDM
/// server than the one it holds (the admin registered the same certificate with a second
/// server): the single-token API then gets a new setting for that server.
fn other_server(e: &ServiceError) -> bool {
    // service::apple::check_holder's message; the legacy upload tests pin it.
    matches!(e, ServiceError::Validation(v) if v.message.contains("a renewal must come from the same server"))
}

/// A new setting (within `maximumDepTokens`) that shares `key_owner`'s key and holds the
/// uploaded token; removed again if the upload fails, so a refused upload leaves nothing.
async fn upload_to_new_setting(
    st: &Services,
    tenant: TenantId,
    key_owner: &str,
    body: &Map<String, Value>,
) -> Result<(), ApiError> {
    let svc = st;
    let created = onboarding::create(svc, tenant, Map::new()).await?.id;
    let result = async {
        apple::stage_key_of(svc, tenant, key_owner, &created).await?;
        apple::upload(svc, tenant, &created, apple::parse_upload(body)?).await
    }
    .await;
    if let Err(e) = result {
        if let Err(cleanup) = onboarding::delete(svc, tenant, &created).await {
            tracing::error!(error = %cleanup, setting = %created, "removing the setting of a failed legacy upload");
        }
        return Err(e.into());
    }
    Ok(())
}

/// Collection-bound `uploadDepToken`: the token goes to the setting whose key decrypts it (the
/// default first) — a renewal of the Apple MDM server it already holds, or the first token of
/// a setting that `getEncryptionPublicKey` created; a token of another Apple MDM server made
/// with that key gets a new setting. Nothing is created for a token no key of the tenant
/// decrypts.
async fn upload(
    st: &Services,
    tenant: TenantId,
    body: &Map<String, Value>,
) -> Result<(), ApiError> {
    let svc = st;
    let (mut ids, designated) = resolve::tokens(svc, tenant).await?;
    if ids.is_empty() {
        return Err(resolve::no_token());
    }
    if let DefaultToken::One(first) = resolve::pick(&ids, designated.as_deref()) {
        ids.retain(|i| *i != first);
        ids.insert(0, first);
    }
    // A setting whose key decrypts a token of another server is remembered, and the others
    // still tried: one of them may hold that server with a copy of the same key (a renewal).
    let mut key_owner = None;
    for setting in &ids {
        match apple::upload(svc, tenant, setting, apple::parse_upload(body)?).await {
            Ok(()) => return Ok(()),
            Err(e) if wrong_key(&e) => {}
            Err(e) if other_server(&e) => {
                key_owner.get_or_insert(setting.clone());
            }
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(owner) = key_owner {
        return upload_to_new_setting(st, tenant, &owner, body).await;
    }
    Err(ApiError::BadRequest(
        "The server token was not encrypted to the public key of any of this tenant's DEP tokens: \
         download the certificate from GET /beta/deviceManagement/depOnboardingSettings/getEncryptionPublicKey, \
         upload it to Apple Business Manager, and download a new token."
            .to_owned(),
    ))
}
