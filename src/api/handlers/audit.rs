//! Handlers of `deviceManagement/auditEvents` on `/beta` and `/v1.0` (v1.0 renders v1.0's
//! smaller actor and resource shape): list, `$count`, get, `getAuditCategories()` and
//! `getAuditActivityTypes(category='…')`.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::api::context::RequestCtx;
use crate::api::error::ApiError;
use crate::api::path::unquote;
use crate::api::response::{self, Body, GraphResponse};
use crate::api::table::Call;
use crate::service::audit as service;
use crate::service::paging::Page;
use crate::storage::audit::{AuditEvent, SPEC};

const SET_PATH: &str = "deviceManagement/auditEvents";
/// Component name of `microsoft.graph.auditEvent` in the `OpenAPI` document.
pub const AUDIT_EVENT: &str = "microsoft.graph.auditEvent";
/// `{auditEvent-id}`.
pub const AUDIT_EVENT_ID: &str = "auditEvent-id";

/// Members v1.0's CSDL does not have (audit-events.md §2.6).
const BETA_ONLY_ACTOR: &[&str] = &[
    "type",
    "remoteTenantId",
    "remoteUserId",
    "userRoleScopeTags",
];
const BETA_ONLY_RESOURCE: &[&str] = &["type"];

/// Whether the request came in under `/v1.0`.
fn is_v1(ctx: &RequestCtx) -> bool {
    ctx.url
        .get(ctx.public_url.len()..)
        .is_some_and(|path| path.to_ascii_lowercase().starts_with("/v1.0/"))
}

/// The event in v1.0's shape.
fn v1_shape(event: &AuditEvent) -> Value {
    let mut v = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Some(actor) = v.get_mut("actor").and_then(Value::as_object_mut) {
        for k in BETA_ONLY_ACTOR {
            actor.remove(*k);
        }
    }
    if let Some(resources) = v.get_mut("resources").and_then(Value::as_array_mut) {
        for r in resources.iter_mut().filter_map(Value::as_object_mut) {
            for k in BETA_ONLY_RESOURCE {
                r.remove(*k);
            }
        }
    }
    v
}

/// Points the context URL and next link of a v1.0 answer at `/v1.0`.
fn on_version(ctx: &RequestCtx, mut resp: GraphResponse) -> GraphResponse {
    if is_v1(ctx)
        && let Body::Json(bytes, _) = &mut resp.body
    {
        let (beta, v1) = (
            format!("{}/beta/", ctx.public_url),
            format!("{}/v1.0/", ctx.public_url),
        );
        let text = String::from_utf8_lossy(bytes).replace(&beta, &v1);
        *bytes = text.into_bytes();
    }
    resp
}

/// `GET /deviceManagement/auditEvents`.
pub async fn list_audit_events(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, &SPEC)?;
    let page = service::list(st, tenant, q).await?;
    let resp = if is_v1(ctx) {
        let page = Page {
            items: page.items.iter().map(v1_shape).collect(),
            skiptoken: page.skiptoken,
            count: page.count,
        };
        response::collection(ctx, SET_PATH, None, &page, q, select.as_deref())
    } else {
        response::collection(ctx, SET_PATH, None, &page, q, select.as_deref())
    };
    Ok(on_version(ctx, resp))
}

/// `GET /deviceManagement/auditEvents/$count`.
pub async fn count_audit_events(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    Ok(GraphResponse::count(
        service::count(c.services, c.tenant, &c.query).await?,
    ))
}

/// `GET /deviceManagement/auditEvents/{id}`.
pub async fn get_audit_event(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let select = response::selected(&c.query, &SPEC)?;
    let event = service::get(st, tenant, c.params.get(AUDIT_EVENT_ID)).await?;
    let resp = if is_v1(ctx) {
        let shaped = v1_shape(&event);
        response::entity(
            ctx,
            StatusCode::OK,
            SET_PATH,
            None,
            &shaped,
            select.as_deref(),
        )
    } else {
        response::entity(
            ctx,
            StatusCode::OK,
            SET_PATH,
            None,
            &event,
            select.as_deref(),
        )
    };
    Ok(on_version(ctx, resp))
}

/// `{"@odata.context": "…#Collection(Edm.String)", "value": [...]}`.
fn strings(ctx: &RequestCtx, values: &[String]) -> GraphResponse {
    let body = json!({
        "@odata.context": format!("{}/beta/$metadata#Collection(Edm.String)", ctx.public_url),
        "value": values,
    });
    on_version(ctx, GraphResponse::json(StatusCode::OK, &body))
}

/// `GET /deviceManagement/auditEvents/getAuditCategories()`.
pub async fn get_audit_categories(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let values: Vec<String> = service::CATEGORIES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    Ok(strings(c.ctx, &values))
}

/// `GET /deviceManagement/auditEvents/getAuditActivityTypes(category='…')`.
pub async fn get_audit_activity_types(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let category = category(c.params.args.as_deref())?;
    let values = service::activity_types(c.services, c.tenant, &category).await?;
    Ok(strings(c.ctx, &values))
}

/// The `category` argument: `category='Enrollment'` (the name may be left out).
fn category(args: Option<&str>) -> Result<String, ApiError> {
    let missing = || {
        ApiError::BadRequest(
            "The parameter 'category' of getAuditActivityTypes is required, e.g. \
             getAuditActivityTypes(category='Enrollment')."
                .to_owned(),
        )
    };
    let args = args
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .ok_or_else(missing)?;
    let value = match args.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("category") => value.trim(),
        Some(_) => return Err(missing()),
        None => args,
    };
    if !(value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'')) {
        return Err(ApiError::BadRequest(format!(
            "The parameter 'category' must be a quoted string, e.g. category='Enrollment'; got {value}."
        )));
    }
    Ok(unquote(value))
}
