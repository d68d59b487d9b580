//! `/deviceManagement/enrollmentProfiles` over the upstream: a profile id carries its token
//! (`{token}_{guid}`) and routes directly; the list walks every token; new profiles go to the
//! legacy default token.

use actix_web::http::StatusCode;
use reqwest::Method;
use serde_json::Value;

use super::UpCall;
use super::fanout::{self, on_token, require_default, seg};
use crate::api::error::ApiError;
use crate::api::json_object;
use crate::api::response::{self, GraphResponse};
use crate::api::table::PROFILE_ID;
use crate::domain::ids::ProfileId;
use crate::domain::profiles;
use crate::legacy::convert::{profile_body_from_old, profile_to_old};
use crate::legacy::profiles::{create_body, not_found};
use crate::service::profiles as service;

const SET_PATH: &str = "deviceManagement/enrollmentProfiles";
const RESOURCE: &str = "legacy/enrollmentProfiles";

/// The id of the path and the upstream URL of that profile (the token its id names).
fn profile_url(c: &UpCall<'_>) -> Result<(String, String), ApiError> {
    let id = c.params.get(PROFILE_ID).to_owned();
    let pid = ProfileId::parse(&id).ok_or_else(|| not_found(&id))?;
    let url = on_token(
        c,
        pid.setting().as_str(),
        &format!("/enrollmentProfiles/{}", seg(&id)),
    );
    Ok((id, url))
}

/// An upstream 404 (of the profile, or of the token its id names) is the profile's 404.
fn profile_error(id: &str, e: ApiError) -> ApiError {
    match e {
        ApiError::Upstream(u) if u.status == StatusCode::NOT_FOUND => not_found(id),
        other => other,
    }
}

async fn sources(c: &UpCall<'_>) -> Result<Vec<String>, ApiError> {
    Ok(fanout::tokens(c)
        .await?
        .iter()
        .map(|t| on_token(c, t, "/enrollmentProfiles"))
        .collect())
}

fn old(profile: &serde_json::Map<String, Value>) -> Option<Value> {
    profile_to_old(&Value::Object(profile.clone()))
}

/// `GET /deviceManagement/enrollmentProfiles`: every token's, in the old shapes.
pub async fn list(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let select = response::selected(&c.query, service::spec())?;
    let page = fanout::page(&c, RESOURCE, &sources(&c).await?, old).await?;
    Ok(response::collection(
        c.ctx,
        SET_PATH,
        None,
        &page,
        &c.query,
        select.as_deref(),
    ))
}

/// `GET /deviceManagement/enrollmentProfiles/$count`: the profiles the old API shows.
pub async fn count(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let sources = sources(&c).await?;
    let mut n = 0usize;
    let mut page_call = UpCall {
        query: c.query.clone(),
        ..c
    };
    page_call.query.top = None;
    loop {
        let page = fanout::page(&page_call, RESOURCE, &sources, old).await?;
        n += page.items.len();
        match page.skiptoken {
            Some(token) => page_call.query.skiptoken = Some(token),
            None => break,
        }
    }
    Ok(GraphResponse::count(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// `GET /deviceManagement/enrollmentProfiles/{id}`.
pub async fn get(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let select = response::selected(&c.query, service::spec())?;
    let (id, url) = profile_url(&c)?;
    let profile =
        c.up.http
            .get_json(c.ctx, &url)
            .await
            .map_err(|e| profile_error(&id, e))?;
    let old = profile_to_old(&profile).ok_or_else(|| not_found(&id))?;
    Ok(response::entity(
        c.ctx,
        StatusCode::OK,
        SET_PATH,
        None,
        &old,
        select.as_deref(),
    ))
}

/// `POST /deviceManagement/enrollmentProfiles` → 201, on the legacy default token.
pub async fn create(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let body = Value::Object(create_body(json_object(c.body)?)?);
    let token = require_default(
        &c,
        "POST /beta/deviceManagement/depOnboardingSettings/{id}/enrollmentProfiles",
    )
    .await?;
    let url = on_token(&c, &token, "/enrollmentProfiles");
    let created =
        c.up.http
            .call(c.ctx, Method::POST, &url, Some(&body))
            .await?
            .json();
    let old = profile_to_old(&created).unwrap_or(created);
    let mut resp = response::entity(c.ctx, StatusCode::CREATED, SET_PATH, None, &old, None);
    if let Some(id) = old["id"].as_str() {
        resp.headers.push((
            "Location",
            format!("{}/beta/{SET_PATH}/{}", c.ctx.public_url, seg(id)),
        ));
    }
    Ok(resp)
}

/// `PATCH /deviceManagement/enrollmentProfiles/{id}` → 204: old names mapped onto the stored
/// type's own (read first, as in local mode).
pub async fn update(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let body = json_object(c.body)?;
    let (id, url) = profile_url(&c)?;
    let current =
        c.up.http
            .get_json(c.ctx, &url)
            .await
            .map_err(|e| profile_error(&id, e))?;
    let ty = current["@odata.type"]
        .as_str()
        .and_then(profiles::find_profile_type)
        .ok_or_else(|| not_found(&id))?;
    let body = Value::Object(profile_body_from_old(ty, &body)?);
    c.up.http
        .call(c.ctx, Method::PATCH, &url, Some(&body))
        .await
        .map_err(|e| profile_error(&id, e))?;
    Ok(GraphResponse::no_content())
}

/// `DELETE /deviceManagement/enrollmentProfiles/{id}` → 204.
pub async fn delete(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let (id, url) = profile_url(&c)?;
    c.up.http
        .call(c.ctx, Method::DELETE, &url, None)
        .await
        .map_err(|e| profile_error(&id, e))?;
    Ok(GraphResponse::no_content())
}

/// `exportMobileConfig()`, `setDefaultProfile`, `updateDeviceProfileAssignment`: the same
/// action on the token the profile id names; the upstream's answer comes back as is.
pub async fn action(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let (id, url) = profile_url(&c)?;
    let action = c.row.path.rsplit('/').next().unwrap_or_default();
    let mut url = format!("{url}/{action}");
    if !c.raw_query.is_empty() {
        url = format!("{url}?{}", c.raw_query);
    }
    let (method, body) = if action.ends_with("()") {
        (Method::GET, None)
    } else {
        (
            Method::POST,
            Some(crate::api::optional_json_object(c.body).map(Value::Object)?),
        )
    };
    let reply =
        c.up.http
            .call(c.ctx, method, &url, body.as_ref())
            .await
            .map_err(|e| profile_error(&id, e))?;
    Ok(reply.into_response())
}
