//! Handlers of `/deviceManagement` and the depOnboardingSettings collection.

use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::api::error::ApiError;
use crate::api::json_object;
use crate::api::response::{self, Expanded, GraphResponse};
use crate::api::table::Call;
use crate::domain::onboarding::ODATA_TYPE;
use crate::odata::{EntitySpec, Field, FieldKind};
use crate::service::onboarding::{self, Expansion};
use crate::storage::onboarding_settings::SPEC;

const SET_PATH: &str = "deviceManagement/depOnboardingSettings";

/// Properties of the deviceManagement singleton that this gateway serves.
static DEVICE_MANAGEMENT: EntitySpec = EntitySpec {
    entity: "microsoft.graph.deviceManagement",
    fields: &[
        Field {
            name: "id",
            column: "",
            kind: FieldKind::Id,
            nullable: false,
            filterable: false,
            sortable: false,
        },
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
    types: &[],
};

/// `GET /deviceManagement`: the DEP-related members of the singleton.
pub async fn get_device_management(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, &DEVICE_MANAGEMENT)?;
    // The gateway has one Intune account per tenant; its id is the tenant id.
    // GRAPH-COMPAT: `entity.id` is not nullable and Graph sends one for the singleton; the
    // gateway's is the tenant's GUID, stable across calls and instances (issue 13).
    let body = json!({
        "id": tenant.to_string(),
        "intuneAccountId": tenant.to_string(),
        "maximumDepTokens": st.max_dep_tokens,
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
pub async fn list_dep_onboarding_settings(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, &SPEC)?;
    let plan = onboarding::plan_expand(q.expand.as_deref(), st.max_page_size)?;
    let page = onboarding::list(st, tenant, q).await?;
    let ids: Vec<String> = page.items.iter().map(|s| s.id.clone()).collect();
    let expanded = Expanded {
        context: plan.iter().map(Expansion::context).collect(),
        values: onboarding::expand_page(st, tenant, &ids, &plan).await?,
    };
    Ok(response::collection_expanded(
        ctx,
        SET_PATH,
        Some(ODATA_TYPE),
        &page,
        q,
        select.as_deref(),
        expanded,
    ))
}

/// `GET /deviceManagement/depOnboardingSettings/$count`.
pub async fn count_dep_onboarding_settings(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, tenant) = (c.services, c.tenant);
    let q = &c.query;
    Ok(GraphResponse::count(
        onboarding::count(st, tenant, q).await?,
    ))
}

/// `GET /deviceManagement/depOnboardingSettings/{id}`.
pub async fn get_dep_onboarding_setting(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let id = &c.params.setting();
    let q = &c.query;
    let select = response::selected(q, &SPEC)?;
    let plan = onboarding::plan_expand(q.expand.as_deref(), st.max_page_size)?;
    let setting = onboarding::get(st, tenant, id).await?;
    let expanded = Expanded {
        context: plan.iter().map(Expansion::context).collect(),
        values: onboarding::expand_page(st, tenant, std::slice::from_ref(&setting.id), &plan)
            .await?,
    };
    Ok(response::entity_expanded(
        ctx,
        StatusCode::OK,
        SET_PATH,
        Some(ODATA_TYPE),
        &setting,
        select.as_deref(),
        &expanded,
    ))
}

/// `POST /deviceManagement/depOnboardingSettings` → 201 with the new setting.
pub async fn create_dep_onboarding_setting(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let body = json_object(c.body)?;
    let setting = onboarding::create(st, tenant, body).await?;
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
pub async fn update_dep_onboarding_setting(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, tenant) = (c.services, c.tenant);
    let id = &c.params.setting();
    let body = json_object(c.body)?;
    onboarding::update(st, tenant, id, body).await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE /deviceManagement/depOnboardingSettings/{id}` → 204.
pub async fn delete_dep_onboarding_setting(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, tenant) = (c.services, c.tenant);
    let id = &c.params.setting();
    onboarding::delete(st, tenant, id).await?;
    Ok(GraphResponse::no_content())
}
