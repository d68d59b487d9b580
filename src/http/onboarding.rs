//! Handlers of `/deviceManagement` and the depOnboardingSettings collection.

use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use super::context::RequestCtx;
use super::error::ApiError;
use super::response::{self, GraphResponse};
use super::routes::GraphRequest;
use super::{AppState, json_object};
use crate::auth::Permission;
use crate::domain::onboarding::ODATA_TYPE;
use crate::odata::{EntitySpec, Field, FieldKind, QueryOptions};
use crate::service::{onboarding, paging};
use crate::storage::onboarding_settings::SPEC;

const SET_PATH: &str = "deviceManagement/depOnboardingSettings";

/// Properties of the deviceManagement singleton that this gateway serves.
static DEVICE_MANAGEMENT: EntitySpec = EntitySpec {
    entity: "microsoft.graph.deviceManagement",
    fields: &[
        Field {
            name: "intuneAccountId",
            column: "",
            kind: FieldKind::Id,
            nullable: false,
            filterable: false,
            sortable: false,
        },
        Field {
            name: "maximumDepTokens",
            column: "",
            kind: FieldKind::Int,
            nullable: false,
            filterable: false,
            sortable: false,
        },
    ],
};

/// `GET /deviceManagement`: the DEP-related members of the singleton.
pub fn get_device_management(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Read)?;
    let q = QueryOptions::parse(&req.query)?;
    q.ensure_only(paging::ENTITY_OPTIONS)?;
    let select = response::selected(&q, &DEVICE_MANAGEMENT)?;
    // The gateway has one Intune account per tenant; its id is the tenant id.
    let body = json!({
        "intuneAccountId": tenant.to_string(),
        "maximumDepTokens": st.services.max_dep_tokens,
    });
    let mut out = Map::new();
    let context = match &select {
        Some(s) => format!(
            "{}/beta/$metadata#deviceManagement({})",
            ctx.public_url,
            s.join(",")
        ),
        None => format!("{}/beta/$metadata#deviceManagement", ctx.public_url),
    };
    out.insert("@odata.context".into(), Value::String(context));
    out.insert(
        "@odata.type".into(),
        Value::String("#microsoft.graph.deviceManagement".into()),
    );
    if let Value::Object(props) = body {
        out.extend(
            props
                .into_iter()
                .filter(|(k, _)| select.as_ref().is_none_or(|s| s.contains(&k.as_str()))),
        );
    }
    Ok(GraphResponse::json(StatusCode::OK, &Value::Object(out)))
}

/// `GET /deviceManagement/depOnboardingSettings`.
pub async fn list_dep_onboarding_settings(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Read)?;
    let q = QueryOptions::parse(&req.query)?;
    let select = response::selected(&q, &SPEC)?;
    let page = onboarding::list(&st.services, tenant, &q).await?;
    Ok(response::collection(
        ctx,
        SET_PATH,
        Some(ODATA_TYPE),
        &page,
        &q,
        select.as_deref(),
    ))
}

/// `GET /deviceManagement/depOnboardingSettings/$count`.
pub async fn count_dep_onboarding_settings(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Read)?;
    let q = QueryOptions::parse(&req.query)?;
    Ok(GraphResponse::count(
        onboarding::count(&st.services, tenant, &q).await?,
    ))
}

/// `GET /deviceManagement/depOnboardingSettings/{id}`.
pub async fn get_dep_onboarding_setting(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    id: &str,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Read)?;
    let q = QueryOptions::parse(&req.query)?;
    q.ensure_only(paging::EXPANDABLE_ENTITY_OPTIONS)?;
    let select = response::selected(&q, &SPEC)?;
    let expand = q
        .expand
        .as_deref()
        .map(onboarding::expand_names)
        .transpose()?
        .unwrap_or_default();
    let setting = onboarding::get(&st.services, tenant, id).await?;
    let expanded = onboarding::expand(&st.services, tenant, id, &expand).await?;
    Ok(response::entity_expanded(
        ctx,
        StatusCode::OK,
        SET_PATH,
        Some(ODATA_TYPE),
        &setting,
        select.as_deref(),
        expanded,
    ))
}

/// `POST /deviceManagement/depOnboardingSettings` → 201 with the new setting.
pub async fn create_dep_onboarding_setting(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Write)?;
    let body = json_object(&req.body)?;
    let setting = onboarding::create(&st.services, tenant, body).await?;
    let mut resp = response::entity(
        ctx,
        StatusCode::CREATED,
        SET_PATH,
        Some(ODATA_TYPE),
        &setting,
        None,
    );
    resp.headers.push((
        "Location",
        format!("{}/beta/{SET_PATH}/{}", ctx.public_url, setting.id),
    ));
    Ok(resp)
}

/// `PATCH /deviceManagement/depOnboardingSettings/{id}` → 204.
// GRAPH-COMPAT: real Intune answers PATCH with 204, not the documented 200 + entity
// (graph-dep-api.md §6; IntuneCD expects 204).
pub async fn update_dep_onboarding_setting(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    id: &str,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Write)?;
    let body = json_object(&req.body)?;
    onboarding::update(&st.services, tenant, id, body).await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE /deviceManagement/depOnboardingSettings/{id}` → 204.
pub async fn delete_dep_onboarding_setting(
    st: &AppState,
    ctx: &RequestCtx,
    id: &str,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Write)?;
    onboarding::delete(&st.services, tenant, id).await?;
    Ok(GraphResponse::no_content())
}
