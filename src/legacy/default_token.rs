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
use crate::api::error::ApiError;
use crate::api::json_object;
use crate::api::response::GraphResponse;
use crate::api::table::Call;
use crate::domain::ValidationError;
use crate::domain::ids::SettingId;
use crate::service::legacy::designate;

/// `GET`: the designated setting (if any) and the one old calls go to now (if decided).
pub async fn get(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let (ids, designated) = resolve::tokens(st, tenant).await?;
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
pub async fn set(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, tenant) = (c.services, c.tenant);
    let body = json_object(c.body)?;
    if let Some(other) = body
        .keys()
        .find(|k| *k != "depOnboardingSettingId" && !k.contains('@'))
    {
        return Err(
            ValidationError::unknown_property(other, "depGateway.legacyDefaultToken").into(),
        );
    }
    match body.get("depOnboardingSettingId") {
        Some(Value::String(id)) => designate(st, tenant, Some(SettingId::new(id))).await?,
        Some(Value::Null) => designate(st, tenant, None).await?,
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
pub async fn clear(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let (st, tenant) = (c.services, c.tenant);
    designate(st, tenant, None).await?;
    Ok(GraphResponse::no_content())
}
