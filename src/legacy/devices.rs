//! `/deviceManagement/importedAppleDeviceIdentities`: the tenant's identities across all tokens
//! in the old shape; an identity is found in the tenant, new ones go to the legacy default token.

use actix_web::http::StatusCode;
use serde_json::{Map, Value};

use super::convert::{device_body_from_old, device_to_old};
use super::resolve::{require_default, token_of_device};
use crate::api::error::ApiError;
use crate::api::json_object;
use crate::api::response::{self, GraphResponse};
use crate::api::table::Call;
use crate::domain::ids::{SettingId, TenantId};
use crate::service::Services;
use crate::service::devices as service;
use crate::service::legacy::{self, DEVICE_SPEC as SPEC};
use crate::service::paging::Page;

const SET_PATH: &str = "deviceManagement/importedAppleDeviceIdentities";
const ODATA_TYPE: &str = "#microsoft.graph.importedAppleDeviceIdentity";
const RESULT_ODATA_TYPE: &str = "#microsoft.graph.importedAppleDeviceIdentityResult";

/// `GET /deviceManagement/importedAppleDeviceIdentities`: one keyset-paged SQL query over all
/// the tenant's tokens (`$filter`, `$orderby`, `$top`, `$count`, `$search` on serials).
pub async fn list(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, &SPEC)?;
    let page = legacy::identities(st, tenant, q).await?;
    let old = Page {
        items: page.items.iter().map(device_to_old).collect::<Vec<_>>(),
        skiptoken: page.skiptoken,
        count: page.count,
    };
    Ok(response::collection(
        ctx,
        SET_PATH,
        Some(ODATA_TYPE),
        &old,
        q,
        select.as_deref(),
    ))
}

/// `GET /deviceManagement/importedAppleDeviceIdentities/$count`.
pub async fn count(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, tenant) = (c.services, c.tenant);
    let q = &c.query;
    let n = legacy::count_identities(st, tenant, q).await?;
    Ok(GraphResponse::count(n))
}

/// `GET /deviceManagement/importedAppleDeviceIdentities/{id}`.
pub async fn get(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let id = c.params.identity();
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, &SPEC)?;
    let setting = token_of_device(st, tenant, &id).await?;
    let device = service::get(st, tenant, setting, id).await?;
    Ok(response::entity(
        ctx,
        StatusCode::OK,
        SET_PATH,
        Some(ODATA_TYPE),
        &device_to_old(&device),
        select.as_deref(),
    ))
}

/// `POST /deviceManagement/importedAppleDeviceIdentities` → 201, on the legacy default token.
pub async fn create(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let body = device_body_from_old(json_object(c.body)?)?;
    let setting = default_for(st, tenant, "importedAppleDeviceIdentities").await?;
    let device = service::create(st, tenant, &setting, body).await?;
    let mut resp = response::entity(
        ctx,
        StatusCode::CREATED,
        SET_PATH,
        Some(ODATA_TYPE),
        &device_to_old(&device),
        None,
    );
    resp.headers.push((
        "Location",
        format!("{}/beta/{SET_PATH}/{}", ctx.public_url, device.id),
    ));
    Ok(resp)
}

async fn default_for(st: &Services, tenant: TenantId, tail: &str) -> Result<SettingId, ApiError> {
    require_default(
        st,
        tenant,
        &format!("POST /beta/deviceManagement/depOnboardingSettings/{{id}}/{tail}"),
    )
    .await
}

/// `PATCH /deviceManagement/importedAppleDeviceIdentities/{id}` → 204.
// GRAPH-COMPAT: Intune answers PATCH with 204 (graph-dep-api.md §6), not the documented 200.
pub async fn update(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let id = c.params.identity();
    let (st, tenant) = (c.services, c.tenant);
    let body = device_body_from_old(json_object(c.body)?)?;
    let setting = token_of_device(st, tenant, &id).await?;
    service::update(st, tenant, setting, id, body).await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE /deviceManagement/importedAppleDeviceIdentities/{id}` → 204.
pub async fn delete(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let id = c.params.identity();
    let (st, tenant) = (c.services, c.tenant);
    let setting = token_of_device(st, tenant, &id).await?;
    service::delete(st, tenant, setting, id).await?;
    Ok(GraphResponse::no_content())
}

/// `POST …/importedAppleDeviceIdentities/importAppleDeviceIdentityList`, on the legacy default
/// token; results in the old shape.
pub async fn import(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let body = json_object(c.body)?;
    if let Some(Value::Array(items)) = body.get("importedAppleDeviceIdentities") {
        for (i, item) in items.iter().enumerate() {
            if let Value::Object(item) = item {
                device_body_from_old(item.clone()).map_err(|e| {
                    ApiError::BadRequest(format!(
                        "importedAppleDeviceIdentities[{i}]: {}",
                        e.message
                    ))
                })?;
            }
        }
    }
    let request = service::parse_import(&body, st.clock.now_ticks())?;
    let setting = default_for(
        st,
        tenant,
        "importedAppleDeviceIdentities/importAppleDeviceIdentityList",
    )
    .await?;
    let results = service::import(st, tenant, &setting, request).await?;
    let value: Vec<Value> = results
        .iter()
        .map(|r| {
            let mut out = Map::new();
            out.insert(
                "@odata.type".to_owned(),
                Value::String(RESULT_ODATA_TYPE.to_owned()),
            );
            out.extend(device_to_old(&r.identity));
            out.insert("status".to_owned(), Value::Bool(r.status));
            Value::Object(out)
        })
        .collect();
    Ok(GraphResponse::json(
        StatusCode::OK,
        &serde_json::json!({
            "@odata.context": format!(
                "{}/beta/$metadata#Collection(microsoft.graph.importedAppleDeviceIdentityResult)",
                ctx.public_url
            ),
            "value": value,
        }),
    ))
}
