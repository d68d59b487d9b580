//! Handlers of a token's `enrollmentProfiles`, their operations and the default-profile
//! navigations.

use actix_web::http::{Method, StatusCode};
use serde_json::json;

use super::context::RequestCtx;
use super::error::ApiError;
use super::response::{self, GraphResponse};
use super::routes::{GraphRequest, ProfileOp};
use super::{AppState, json_object, optional_json_object};
use crate::auth::Permission;
use crate::domain::edm::EntityType;
use crate::domain::profiles::{self, Platform};
use crate::odata::QueryOptions;
use crate::service::{devices, paging, profiles as service};

fn set_path(setting: &str) -> String {
    format!("deviceManagement/depOnboardingSettings('{setting}')/enrollmentProfiles")
}

fn cast_type(cast: Option<&'static str>) -> Option<&'static EntityType> {
    cast.and_then(profiles::find_profile_type)
}

fn cast_path(setting: &str, cast: Option<&'static str>) -> String {
    match cast {
        Some(name) => format!("{}/microsoft.graph.{name}", set_path(setting)),
        None => set_path(setting),
    }
}

/// `GET …/enrollmentProfiles[/microsoft.graph.{type}]`.
pub async fn list_enrollment_profiles(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    setting: &str,
    cast: Option<&'static str>,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Read)?;
    let q = QueryOptions::parse(&req.query)?;
    let select = response::selected(&q, service::spec())?;
    let page = service::list(&st.services, tenant, setting, &q, cast_type(cast)).await?;
    Ok(response::collection(
        ctx,
        &cast_path(setting, cast),
        None,
        &page,
        &q,
        select.as_deref(),
    ))
}

/// `GET …/enrollmentProfiles[/microsoft.graph.{type}]/$count`.
pub async fn count_enrollment_profiles(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    setting: &str,
    cast: Option<&'static str>,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Read)?;
    let q = QueryOptions::parse(&req.query)?;
    Ok(GraphResponse::count(
        service::count(&st.services, tenant, setting, &q, cast_type(cast)).await?,
    ))
}

/// `GET …/enrollmentProfiles/{id}[/microsoft.graph.{type}]`.
pub async fn get_enrollment_profile(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    setting: &str,
    id: &str,
    cast: Option<&'static str>,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Read)?;
    let q = QueryOptions::parse(&req.query)?;
    q.ensure_only(paging::ENTITY_OPTIONS)?;
    let select = response::selected(&q, service::spec())?;
    let profile = service::get(&st.services, tenant, setting, id, cast_type(cast)).await?;
    Ok(response::entity(
        ctx,
        StatusCode::OK,
        &set_path(setting),
        None,
        &profile,
        select.as_deref(),
    ))
}

/// `POST …/enrollmentProfiles` → 201 with the profile of the requested `@odata.type`.
pub async fn create_enrollment_profile(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    setting: &str,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Write)?;
    let body = json_object(&req.body)?;
    let endpoint = format!("{}/enroll", ctx.public_url);
    let profile = service::create(&st.services, tenant, setting, body, &endpoint).await?;
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
pub async fn update_enrollment_profile(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    setting: &str,
    id: &str,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Write)?;
    let body = json_object(&req.body)?;
    service::update(&st.services, tenant, setting, id, body).await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE …/enrollmentProfiles/{id}` → 204.
pub async fn delete_enrollment_profile(
    st: &AppState,
    ctx: &RequestCtx,
    setting: &str,
    id: &str,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Write)?;
    service::delete(&st.services, tenant, setting, id).await?;
    Ok(GraphResponse::no_content())
}

/// `exportMobileConfig()` (GET), `setDefaultProfile` and `updateDeviceProfileAssignment` (POST).
pub async fn profile_operation(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    (setting, id): (&str, &str),
    op: ProfileOp,
    method: &Method,
) -> Result<GraphResponse, ApiError> {
    match (op, method) {
        (ProfileOp::ExportMobileConfig, &Method::GET) => {
            let tenant = ctx.require(Permission::Read)?;
            let value = service::export_mobile_config(&st.services, tenant, setting, id).await?;
            Ok(response::primitive(ctx, &json!(value)))
        }
        (ProfileOp::SetDefaultProfile, &Method::POST) => {
            let tenant = ctx.require(Permission::Write)?;
            optional_json_object(&req.body)?;
            service::set_default(&st.services, tenant, setting, id).await?;
            Ok(GraphResponse::no_content())
        }
        (ProfileOp::UpdateDeviceProfileAssignment, &Method::POST) => {
            let tenant = ctx.require(Permission::Write)?;
            let body = json_object(&req.body)?;
            let serials = devices::device_ids(&body)?;
            devices::assign_profile(&st.services, tenant, setting, id, serials).await?;
            Ok(GraphResponse::no_content())
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// `GET …/default{Platform}EnrollmentProfile`: the token's default profile for the platform.
// GRAPH-COMPAT: with no default set, the navigation is empty; OData answers an empty
// single-valued navigation with 204, which the SDKs turn into null.
pub async fn get_default_profile(
    st: &AppState,
    ctx: &RequestCtx,
    req: &GraphRequest,
    setting: &str,
    platform: Platform,
) -> Result<GraphResponse, ApiError> {
    let tenant = ctx.require(Permission::Read)?;
    let q = QueryOptions::parse(&req.query)?;
    q.ensure_only(paging::ENTITY_OPTIONS)?;
    let select = response::selected(&q, service::spec())?;
    let path = format!(
        "deviceManagement/depOnboardingSettings('{setting}')/{}",
        platform.default_navigation()
    );
    Ok(
        match service::default_profile(&st.services, tenant, setting, platform).await? {
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
