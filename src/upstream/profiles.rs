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
use crate::odata;
use crate::service::paging;
use crate::service::profiles as service;

const SET_PATH: &str = "deviceManagement/enrollmentProfiles";
const RESOURCE: &str = "legacy/enrollmentProfiles";
/// What `$search` looks in (as in local mode).
const SEARCHED: [&str; 1] = ["displayName"];

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

/// Every profile of every token that the old API can show, in the old shapes (each token's
/// pages in turn; a token deleted meanwhile has none).
async fn all_old(c: &UpCall<'_>) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    for token in fanout::tokens(c).await? {
        let mut url = on_token(c, &token, "/enrollmentProfiles");
        loop {
            let page = match c.up.http.get_json(c.ctx, &url).await {
                Ok(page) => page,
                Err(ApiError::Upstream(e)) if e.status == StatusCode::NOT_FOUND => break,
                Err(e) => return Err(e),
            };
            out.extend(
                page["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(profile_to_old),
            );
            match page["@odata.nextLink"].as_str() {
                Some(next) => url = c.up.checked_link(next)?,
                None => break,
            }
        }
    }
    Ok(out)
}

/// `GET /deviceManagement/enrollmentProfiles`: every token's, in the old shapes, filtered,
/// sorted and paged in memory exactly as local mode does (a token holds few profiles, and the
/// old shapes — what `$filter` and `$orderby` see — exist only here).
pub async fn list(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let select = response::selected(&c.query, service::spec())?;
    let items = all_old(&c).await?;
    let page = paging::page_in_memory(
        service::spec(),
        RESOURCE,
        &c.query,
        &c.up.paging_key,
        c.up.max_page_size,
        &SEARCHED,
        items,
    )?;
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
    let predicate = paging::effective_filter(&c.query, &SEARCHED)?
        .map(|f| odata::compile_predicate(&f, service::spec()))
        .transpose()?;
    let n = all_old(&c)
        .await?
        .iter()
        .filter(|i| predicate.as_ref().is_none_or(|p| p.matches(i)))
        .count();
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
