//! The organization-scoped depOnboardingSettings (old shape) and the collection-bound
//! `uploadDepToken`, `syncWithAppleDeviceEnrollmentProgram` and `getEncryptionPublicKey`.

use actix_web::http::{Method, StatusCode};
use serde_json::json;

use super::convert::{setting_body_from_old, setting_to_old};
use super::resolve::{self, DefaultToken, require_default};
use super::routes::CollectionOp;
use crate::auth::Permission;
use crate::domain::ids::TenantId;
use crate::http::context::RequestCtx;
use crate::http::error::ApiError;
use crate::http::response::{self, GraphResponse, primitive};
use crate::http::routes::GraphRequest;
use crate::http::{AppState, json_object, optional_json_object};
use crate::odata::QueryOptions;
use crate::service::legacy::{self, ByKeyRefused, SETTING_SPEC as SPEC};
use crate::service::paging::{self, Page};
use crate::service::{apple, onboarding};

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
pub async fn list(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    org: &str,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Read)?;
    check_organization(ctx, org)?;
    let q = QueryOptions::parse(&req.query)?;
    let select = response::selected(&q, &SPEC)?;
    let page = onboarding::list(&st.services, tenant, &q).await?;
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
        &q,
        select.as_deref(),
    ))
}

/// `GET /organization/{org}/depOnboardingSettings/{id}`.
pub async fn get(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    org: &str,
    id: &str,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Read)?;
    check_organization(ctx, org)?;
    let q = QueryOptions::parse(&req.query)?;
    q.ensure_only(paging::ENTITY_OPTIONS)?;
    let select = response::selected(&q, &SPEC)?;
    let setting = onboarding::get(&st.services, tenant, id).await?;
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
pub async fn create(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    org: &str,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Write)?;
    check_organization(ctx, org)?;
    let body = setting_body_from_old(json_object(&req.body)?)?;
    let setting = onboarding::create(&st.services, tenant, body).await?;
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
pub async fn update(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    org: &str,
    id: &str,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Write)?;
    check_organization(ctx, org)?;
    let body = setting_body_from_old(json_object(&req.body)?)?;
    onboarding::update(&st.services, tenant, id, body).await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE /organization/{org}/depOnboardingSettings/{id}` → 204.
pub async fn delete(
    st: &AppState,
    ctx: &RequestCtx,
    org: &str,
    id: &str,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Write)?;
    check_organization(ctx, org)?;
    onboarding::delete(&st.services, tenant, id).await?;
    Ok(GraphResponse::no_content())
}

/// Runs a collection-bound operation on the token it goes to.
pub async fn collection_operation(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    op: CollectionOp,
    method: &Method,
) -> Result<GraphResponse, ApiError> {
    let svc = &st.services;
    match (op, method) {
        (CollectionOp::GetEncryptionPublicKey, &Method::GET) => {
            let tenant = ctx.require(Permission::Read)?;
            let setting = key_setting(st, tenant).await?;
            Ok(primitive(
                ctx,
                &json!(apple::get_key(svc, tenant, &setting).await?),
            ))
        }
        (CollectionOp::SyncWithAppleDeviceEnrollmentProgram, &Method::POST) => {
            let tenant = ctx.require(Permission::Write)?;
            optional_json_object(&req.body)?;
            let setting = require_default(
                svc,
                tenant,
                "POST /beta/deviceManagement/depOnboardingSettings/{id}/syncWithAppleDeviceEnrollmentProgram",
            )
            .await?;
            crate::service::sync::trigger(svc, tenant, &setting).await?;
            Ok(GraphResponse::no_content())
        }
        (CollectionOp::UploadDepToken, &Method::POST) => {
            let tenant = ctx.require(Permission::Write)?;
            let body = json_object(&req.body)?;
            upload(st, tenant, apple::parse_upload(&body)?).await?;
            Ok(GraphResponse::no_content())
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// The setting whose key the old "download the public key" step returns: the legacy default
/// token, or on a tenant without any token a new one (see [`legacy::key_setting`]).
async fn key_setting(st: &AppState, tenant: TenantId) -> Result<String, ApiError> {
    let per_token =
        "GET /beta/deviceManagement/depOnboardingSettings/{id}/getEncryptionPublicKey()";
    match legacy::key_setting(&st.services, tenant).await? {
        DefaultToken::One(id) => Ok(id),
        DefaultToken::Ambiguous(n) => Err(resolve::ambiguous(n, per_token)),
        DefaultToken::NoToken => Err(resolve::no_token()),
    }
}

/// Collection-bound `uploadDepToken`: to the setting whose key decrypts the token (see
/// [`legacy::upload_by_key`]).
async fn upload(st: &AppState, tenant: TenantId, upload: apple::Upload) -> Result<(), ApiError> {
    legacy::upload_by_key(&st.services, tenant, upload)
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
