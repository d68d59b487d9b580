//! Handlers of a token's `importedAppleDeviceIdentities`.

use actix_web::http::StatusCode;
use serde::Serialize;

use crate::api::error::ApiError;
use crate::api::json_object;
use crate::api::response::{self, GraphResponse};
use crate::api::table::Call;
use crate::domain::devices::{ImportedAppleDeviceIdentityResult, ODATA_TYPE, RESULT_ODATA_TYPE};
use crate::domain::ids::SettingId;
use crate::service::devices as service;
use crate::service::paging;
use crate::storage::devices::SPEC;

fn set_path(setting: &SettingId) -> String {
    format!("deviceManagement/depOnboardingSettings('{setting}')/importedAppleDeviceIdentities")
}

/// `GET …/importedAppleDeviceIdentities`.
pub async fn list_imported_devices(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, &SPEC)?;
    paging::check_no_navigations(q, SPEC.entity)?;
    let page = service::list(st, tenant, setting, q).await?;
    Ok(response::collection(
        ctx,
        &set_path(setting),
        Some(ODATA_TYPE),
        &page,
        q,
        select.as_deref(),
    ))
}

/// `GET …/importedAppleDeviceIdentities/$count`.
pub async fn count_imported_devices(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let (st, tenant) = (c.services, c.tenant);
    let q = &c.query;
    Ok(GraphResponse::count(
        service::count(st, tenant, setting, q).await?,
    ))
}

/// `GET …/importedAppleDeviceIdentities/{id}`.
pub async fn get_imported_device(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let id = c.params.identity();
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, &SPEC)?;
    paging::check_no_navigations(q, SPEC.entity)?;
    let device = service::get(st, tenant, setting.clone(), id).await?;
    Ok(response::entity(
        ctx,
        StatusCode::OK,
        &set_path(setting),
        Some(ODATA_TYPE),
        &device,
        select.as_deref(),
    ))
}

/// `POST …/importedAppleDeviceIdentities` → 201.
pub async fn create_imported_device(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let body = json_object(c.body)?;
    let device = service::create(st, tenant, setting, body).await?;
    let mut resp = response::entity(
        ctx,
        StatusCode::CREATED,
        &set_path(setting),
        Some(ODATA_TYPE),
        &device,
        None,
    );
    resp.headers.push((
        "Location",
        format!(
            "{}/beta/{}/{}",
            ctx.public_url,
            set_path(setting),
            device.id
        ),
    ));
    Ok(resp)
}

/// `PATCH …/importedAppleDeviceIdentities/{id}` → 204.
// GRAPH-COMPAT: Intune answers PATCH with 204 (graph-dep-api.md §6).
pub async fn update_imported_device(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (setting, id) = (c.params.setting(), c.params.identity());
    let (st, tenant) = (c.services, c.tenant);
    let body = json_object(c.body)?;
    service::update(st, tenant, setting, id, body).await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE …/importedAppleDeviceIdentities/{id}` → 204.
pub async fn delete_imported_device(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (setting, id) = (c.params.setting(), c.params.identity());
    let (st, tenant) = (c.services, c.tenant);
    service::delete(st, tenant, setting, id).await?;
    Ok(GraphResponse::no_content())
}

/// `POST …/importedAppleDeviceIdentities/importAppleDeviceIdentityList` →
/// `{"value": [importedAppleDeviceIdentityResult…]}`.
pub async fn import_apple_device_identity_list(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let body = json_object(c.body)?;
    let request = service::parse_import(&body, st.clock.now_ticks())?;
    let results = service::import(st, tenant, setting, request).await?;
    // Serialised straight to bytes: a 20,000-item answer never exists as a JSON tree.
    let body = ImportResponse {
        context: format!(
            "{}/beta/$metadata#Collection(microsoft.graph.importedAppleDeviceIdentityResult)",
            ctx.public_url
        ),
        value: results
            .iter()
            .map(|result| TypedResult {
                odata_type: RESULT_ODATA_TYPE,
                result,
            })
            .collect(),
    };
    Ok(GraphResponse::serialized(StatusCode::OK, &body))
}

#[derive(Serialize)]
struct ImportResponse<'a> {
    #[serde(rename = "@odata.context")]
    context: String,
    value: Vec<TypedResult<'a>>,
}

/// GRAPH-COMPAT: each result carries its derived @odata.type; without it the Python SDK
/// silently returns base objects (graph-dep-api.md §5.6).
#[derive(Serialize)]
struct TypedResult<'a> {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    #[serde(flatten)]
    result: &'a ImportedAppleDeviceIdentityResult,
}
