//! Handlers of a token's `enrollmentProfiles`, their operations and the default-profile
//! navigations.

use actix_web::http::StatusCode;
use serde_json::json;

use crate::api::error::ApiError;
use crate::api::response::{self, GraphResponse};
use crate::api::table::Call;
use crate::api::{json_object, optional_json_object};
use crate::domain::edm::EntityType;
use crate::domain::ids::SettingId;
use crate::domain::profiles::{self, Platform};
use crate::service::{devices, paging, profiles as service};

fn set_path(setting: &SettingId) -> String {
    format!("deviceManagement/depOnboardingSettings('{setting}')/enrollmentProfiles")
}

/// The platform whose default-profile navigation the row names.
fn platform(c: &Call<'_>) -> Result<Platform, ApiError> {
    Platform::ALL
        .into_iter()
        .find(|p| p.default_navigation() == c.params.member)
        .ok_or_else(|| ApiError::SegmentNotFound(c.params.member.to_owned()))
}

fn cast_type(cast: Option<&'static str>) -> Option<&'static EntityType> {
    cast.and_then(profiles::find_profile_type)
}

fn cast_path(setting: &SettingId, cast: Option<&'static str>) -> String {
    match cast {
        Some(name) => format!("{}/microsoft.graph.{name}", set_path(setting)),
        None => set_path(setting),
    }
}

/// `GET …/enrollmentProfiles[/microsoft.graph.{type}]`.
pub async fn list_enrollment_profiles(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let cast = c.params.cast;
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, service::spec())?;
    paging::check_no_navigations(q, service::spec().entity)?;
    let page = service::list(st, tenant, setting, q, cast_type(cast)).await?;
    Ok(response::collection(
        ctx,
        &cast_path(setting, cast),
        None,
        &page,
        q,
        select.as_deref(),
    ))
}

/// `GET …/enrollmentProfiles[/microsoft.graph.{type}]/$count`.
pub async fn count_enrollment_profiles(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let cast = c.params.cast;
    let (st, tenant) = (c.services, c.tenant);
    let q = &c.query;
    Ok(GraphResponse::count(
        service::count(st, tenant, setting, q, cast_type(cast)).await?,
    ))
}

/// `GET …/enrollmentProfiles/{id}[/microsoft.graph.{type}]`.
pub async fn get_enrollment_profile(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let id = c.params.profile()?;
    let cast = c.params.cast;
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, service::spec())?;
    paging::check_no_navigations(q, service::spec().entity)?;
    let profile = service::get(st, tenant, setting, id, cast_type(cast)).await?;
    // OData's context of a cast entity names the cast: `…/enrollmentProfiles/microsoft.graph.
    // depIOSEnrollmentProfile/$entity` (OData JSON format §10.2, `{/type-cast}`).
    Ok(response::entity(
        ctx,
        StatusCode::OK,
        &cast_path(setting, cast),
        None,
        &profile,
        select.as_deref(),
    ))
}

/// `POST …/enrollmentProfiles` → 201 with the profile of the requested `@odata.type`.
pub async fn create_enrollment_profile(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let body = json_object(c.body)?;
    let profile = service::create(st, tenant, setting, body).await?;
    let mut resp = response::entity(
        ctx,
        StatusCode::CREATED,
        &set_path(setting),
        None,
        &profile,
        None,
    );
    if let Some(id) = profile["id"].as_str() {
        resp.headers.push((
            "Location",
            format!("{}/beta/{}/{id}", ctx.public_url, set_path(setting)),
        ));
    }
    Ok(resp)
}

/// `PATCH …/enrollmentProfiles/{id}` → 204.
// GRAPH-COMPAT: Intune answers PATCH with 204 (graph-dep-api.md §6).
pub async fn update_enrollment_profile(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let id = c.params.profile()?;
    let (st, tenant) = (c.services, c.tenant);
    let body = json_object(c.body)?;
    service::update(st, tenant, setting, id, body).await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE …/enrollmentProfiles/{id}` → 204.
pub async fn delete_enrollment_profile(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let id = c.params.profile()?;
    let (st, tenant) = (c.services, c.tenant);
    service::delete(st, tenant, setting, id).await?;
    Ok(GraphResponse::no_content())
}

/// `GET …/{id}/exportMobileConfig()` → `{"value": "<mobileconfig>"}`.
pub async fn export_mobile_config(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let id = c.params.profile()?;
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let value = service::export_mobile_config(st, tenant, setting, id).await?;
    Ok(response::primitive(ctx, &json!(value)))
}

/// `POST …/{id}/setDefaultProfile` → 204.
pub async fn set_default_profile(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let id = c.params.profile()?;
    let (st, tenant) = (c.services, c.tenant);
    optional_json_object(c.body)?;
    service::set_default(st, tenant, setting, id).await?;
    Ok(GraphResponse::no_content())
}

/// `POST …/{id}/updateDeviceProfileAssignment` → 204.
pub async fn update_device_profile_assignment(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = c.params.setting();
    let (st, tenant) = (c.services, c.tenant);
    let body = json_object(c.body)?;
    let serials = devices::device_ids(&body)?;
    // Parsed after the body, as before: a malformed body is a 400 whatever the id.
    let id = c.params.profile()?;
    devices::assign_profile(st, tenant, setting, id, serials).await?;
    Ok(GraphResponse::no_content())
}

/// `GET …/default{Platform}EnrollmentProfile`: the token's default profile for the platform.
// GRAPH-COMPAT: with no default set, the navigation is empty; OData answers an empty
// single-valued navigation with 204, which the SDKs turn into null.
pub async fn get_default_profile(c: Call<'_>) -> Result<GraphResponse, ApiError> {
    let setting = &c.params.setting();
    let platform = platform(&c)?;
    let (st, ctx, tenant) = (c.services, c.ctx, c.tenant);
    let q = &c.query;
    let select = response::selected(q, service::spec())?;
    let path = format!(
        "deviceManagement/depOnboardingSettings('{setting}')/{}",
        platform.default_navigation()
    );
    Ok(
        match service::default_profile(st, tenant, setting, platform).await? {
            Some(profile) => response::entity(
                ctx,
                StatusCode::OK,
                &path,
                None,
                &profile,
                select.as_deref(),
            ),
            None => GraphResponse::no_content(),
        },
    )
}
