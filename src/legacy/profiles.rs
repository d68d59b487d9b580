//! `/deviceManagement/enrollmentProfiles`: the tenant's profiles across all tokens in the old
//! shapes; a profile id carries its token, a new profile goes to the legacy default token.

use actix_web::http::StatusCode;
use serde_json::{Map, Value};

use super::convert::{old_profile_type, profile_body_from_old, profile_to_old};
use super::resolve::require_default;
use crate::api::error::ApiError;
use crate::api::handlers::profiles as current;
use crate::api::json_object;
use crate::api::response::{self, GraphResponse};
use crate::api::table::{Call, PROFILE_ID, SETTING_ID};
use crate::domain::ids::ProfileId;
use crate::domain::profiles;
use crate::odata;
use crate::service::Services;
use crate::service::{Entity, ServiceError, legacy, paging, profiles as service};

const SET_PATH: &str = "deviceManagement/enrollmentProfiles";

/// The old API's 404 of a profile (also when the token its id names is unknown).
pub fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "The enrollmentProfile with id '{id}' was not found."
    ))
}

/// The profile id split once into token and guid; a malformed id is the profile's 404 (and an
/// unknown token of the id is too, not the token's).
fn profile_id(id: &str) -> Result<ProfileId, ApiError> {
    ProfileId::parse(id).ok_or_else(|| not_found(id))
}

fn profile_error(id: &str, e: ServiceError) -> ApiError {
    match e {
        ServiceError::NotFound { .. } => not_found(id),
        other => other.into(),
    }
}

/// Every profile of the tenant with an old shape, converted.
async fn all_old(
    st: &Services,
    tenant: crate::domain::ids::TenantId,
) -> Result<Vec<Value>, ApiError> {
    Ok(legacy::profiles(st, tenant, profile_to_old).await?)
}

/// `GET /deviceManagement/enrollmentProfiles`: aggregated over the tenant's tokens, filtered,
/// sorted and paged like any profile list.
pub async fn list(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, service::spec())?;
    let items = all_old(st, tenant).await?;
    let svc = st;
    let page = paging::page_in_memory(
        service::spec(),
        "legacy/enrollmentProfiles",
        q,
        &svc.paging_key,
        svc.max_page_size,
        &["displayName"],
        items,
    )?;
    Ok(response::collection(
        ctx,
        SET_PATH,
        None,
        &page,
        q,
        select.as_deref(),
    ))
}

/// `GET /deviceManagement/enrollmentProfiles/$count`.
pub async fn count(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, tenant) = (c.services, c.tenant);
    let q = &c.query;
    let predicate = paging::effective_filter(q, &["displayName"])?
        .map(|f| odata::compile_predicate(&f, service::spec()))
        .transpose()?;
    let items = all_old(st, tenant).await?;
    let n = items
        .iter()
        .filter(|i| predicate.as_ref().is_none_or(|p| p.matches(i)))
        .count();
    Ok(GraphResponse::count(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// `GET /deviceManagement/enrollmentProfiles/{id}`.
pub async fn get(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let id = c.params.get(PROFILE_ID);
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, service::spec())?;
    let pid = profile_id(id)?;
    let profile = service::get(st, tenant, pid.setting(), pid.clone(), None)
        .await
        .map_err(|e| profile_error(id, e))?;
    let old = profile_to_old(&profile).ok_or_else(|| not_found(id))?;
    Ok(response::entity(
        ctx,
        StatusCode::OK,
        SET_PATH,
        None,
        &old,
        select.as_deref(),
    ))
}

/// `POST /deviceManagement/enrollmentProfiles` → 201: created on the legacy default token with
/// the type the old `@odata.type` names (an old `depEnrollmentProfile` stays one: one profile
/// for iOS and macOS, visible as such through the new API).
pub async fn create(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let body = create_body(json_object(c.body)?)?;
    let setting = require_default(
        st,
        tenant,
        "POST /beta/deviceManagement/depOnboardingSettings/{id}/enrollmentProfiles",
    )
    .await?;
    let profile = service::create(st, tenant, &setting, body).await?;
    let old = profile_to_old(&profile).unwrap_or(profile);
    let mut resp = response::entity(ctx, StatusCode::CREATED, SET_PATH, None, &old, None);
    if let Some(id) = old["id"].as_str() {
        resp.headers.push((
            "Location",
            format!("{}/beta/{SET_PATH}/{id}", ctx.public_url),
        ));
    }
    Ok(resp)
}

/// An old create body as the current create body of the type the old `@odata.type` names
/// (both back ends).
pub fn create_body(mut body: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    let ty = profiles::create_type(&body)?;
    if old_profile_type(ty.name) != Some(ty.name) {
        return Err(ApiError::BadRequest(format!(
            "'{}' is not an enrollment profile type of the single-token API; use \
             '#microsoft.graph.depEnrollmentProfile' or '#microsoft.graph.enrollmentProfile', or \
             POST /beta/deviceManagement/depOnboardingSettings/{{id}}/enrollmentProfiles.",
            ty.odata_type()
        )));
    }
    // GRAPH-COMPAT: the old documented create body sends a placeholder configurationEndpointUrl;
    // the service issues its own (it is server-managed), so the placeholder is dropped.
    body.remove("configurationEndpointUrl");
    Ok(profile_body_from_old(ty, &body)?)
}

/// `PATCH /deviceManagement/enrollmentProfiles/{id}` → 204: old names mapped onto the stored
/// type's own.
// GRAPH-COMPAT: Intune answers PATCH with 204 (graph-dep-api.md §6), not the documented 200.
pub async fn update(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let id = c.params.get(PROFILE_ID);
    let (st, tenant) = (c.services, c.tenant);
    let body = json_object(c.body)?;
    let pid = profile_id(id)?;
    let current = service::get(st, tenant, pid.setting(), pid.clone(), None)
        .await
        .map_err(|e| profile_error(id, e))?;
    let ty = current["@odata.type"]
        .as_str()
        .and_then(profiles::find_profile_type)
        .ok_or_else(|| not_found(id))?;
    let body: Map<String, Value> = profile_body_from_old(ty, &body)?;
    service::update(st, tenant, pid.setting(), pid.clone(), body)
        .await
        .map_err(|e| profile_error(id, e))?;
    Ok(GraphResponse::no_content())
}

/// `DELETE /deviceManagement/enrollmentProfiles/{id}` → 204.
pub async fn delete(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let id = c.params.get(PROFILE_ID);
    let (st, tenant) = (c.services, c.tenant);
    let pid = profile_id(id)?;
    service::delete(st, tenant, pid.setting(), pid.clone())
        .await
        .map_err(|e| profile_error(id, e))?;
    Ok(GraphResponse::no_content())
}

/// `exportMobileConfig()`: the current handler, on the token the profile id names.
pub async fn export_mobile_config(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    on_token(c, current::export_mobile_config).await
}

/// `setDefaultProfile`: the current handler, on the token the profile id names.
pub async fn set_default_profile(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    on_token(c, current::set_default_profile).await
}

/// `updateDeviceProfileAssignment`: the current handler, on the token the profile id names.
pub async fn update_device_profile_assignment(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    on_token(c, current::update_device_profile_assignment).await
}

/// Runs the multi-token `handler` with the token the profile id names; the token's 404 is
/// the profile's.
async fn on_token<'a, F>(
    c: Call<'a>,
    handler: impl FnOnce(Call<'a>) -> F,
) -> Result<GraphResponse, ApiError>
where
    F: Future<Output = Result<GraphResponse, ApiError>>,
{
    let id = c.params.get(PROFILE_ID).to_owned();
    let pid = profile_id(&id)?;
    let params = c.params.clone().with(SETTING_ID, pid.setting().as_str());
    handler(Call { params, ..c }).await.map_err(|e| match e {
        // The token named in the id does not exist: to the old API, the profile does not.
        ApiError::EntityNotFound {
            entity: Entity::OnboardingSetting,
            ..
        } => not_found(&id),
        other => other,
    })
}
