//! `/beta/deviceManagement/depGateway.legacyDefaultToken`: the gateway's own resource that
//! reads and designates the tenant's legacy default token (not a Graph entity: it lives in the
//! `depGateway` namespace so that Graph's shapes stay untouched).
//!
//! GET → `{"designatedDepOnboardingSettingId", "effectiveDepOnboardingSettingId"}`;
//! PUT (or PATCH) `{"depOnboardingSettingId": "…"}` designates (`null` clears) → 204;
//! DELETE clears → 204.

use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::resolve::{self, DefaultToken};
use crate::auth::Permission;
use crate::domain::ValidationError;
use crate::http::context::RequestCtx;
use crate::http::error::ApiError;
use crate::http::response::GraphResponse;
use crate::http::routes::GraphRequest;
use crate::http::{AppState, json_object};
use crate::service::legacy::designate;

/// `GET`: the designated setting (if any) and the one old calls go to now (if decided).
pub async fn get(st: &AppState, ctx: &RequestCtx) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Read)?;
    let (ids, designated) = resolve::tokens(&st.services, tenant).await?;
    let effective = match resolve::pick(&ids, designated.as_deref()) {
        DefaultToken::One(id) => Some(id),
        DefaultToken::NoToken | DefaultToken::Ambiguous(_) => None,
    };
    Ok(GraphResponse::json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{}/beta/$metadata#depGateway.legacyDefaultToken", ctx.public_url),
            "designatedDepOnboardingSettingId": designated,
            "effectiveDepOnboardingSettingId": effective,
            "depOnboardingSettingCount": ids.len(),
        }),
    ))
}

/// `PUT`/`PATCH` with `{"depOnboardingSettingId": id | null}` → 204.
pub async fn set(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Write)?;
    let body = json_object(&req.body)?;
    if let Some(other) = body
        .keys()
        .find(|k| *k != "depOnboardingSettingId" && !k.contains('@'))
    {
        return Err(
            ValidationError::unknown_property(other, "depGateway.legacyDefaultToken").into(),
        );
    }
    match body.get("depOnboardingSettingId") {
        Some(Value::String(id)) => designate(&st.services, tenant, Some(id.clone())).await?,
        Some(Value::Null) => designate(&st.services, tenant, None).await?,
        Some(other) => {
            return Err(
                ValidationError::wrong_type("depOnboardingSettingId", "Edm.String", other).into(),
            );
        }
        None => {
            return Err(ApiError::BadRequest(
                "The property 'depOnboardingSettingId' is required (a depOnboardingSetting id, or null to clear)."
                    .to_owned(),
            ));
        }
    }
    Ok(GraphResponse::no_content())
}

/// `DELETE` → 204: no designation (the only token, if there is one, stays the default).
pub async fn clear(st: &AppState, ctx: &RequestCtx) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Write)?;
    designate(&st.services, tenant, None).await?;
    Ok(GraphResponse::no_content())
}
