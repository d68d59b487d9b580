//! `/deviceManagement/importedAppleDeviceIdentities` over the upstream: the list and count walk
//! every token; an identity id does not name its token, so it is looked for token by token; new
//! identities go to the legacy default token.

use actix_web::http::StatusCode;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::UpCall;
use super::fanout::{self, on_token, require_default, seg};
use super::merge::{self, Sources};
use crate::api::error::ApiError;
use crate::api::json_object;
use crate::api::response::{self, GraphResponse};
use crate::api::table::DEVICE_ID;
use crate::legacy::convert::{
    check_old_import, device_body_from_old, device_json_to_old, import_result_to_old,
};
use crate::odata::QueryOption;
use crate::service::legacy::DEVICE_SPEC as SPEC;

const SET_PATH: &str = "deviceManagement/importedAppleDeviceIdentities";
const ODATA_TYPE: &str = "#microsoft.graph.importedAppleDeviceIdentity";
const TAIL: &str = "/importedAppleDeviceIdentities";

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "The importedAppleDeviceIdentity with id '{id}' was not found."
    ))
}

/// The upstream URL of the identity of the path, and the identity: the first token that has it.
async fn find(c: &UpCall<'_>) -> Result<(String, Value), ApiError> {
    let id = c.params.get(DEVICE_ID);
    for token in fanout::tokens(c).await? {
        let url = on_token(c, &token, &format!("{TAIL}/{}", seg(id)));
        match c.up.http.get_json(c.ctx, &url).await {
            Ok(device) => return Ok((url, device)),
            Err(ApiError::Upstream(e)) if e.status == StatusCode::NOT_FOUND => {}
            Err(other) => return Err(other),
        }
    }
    Err(not_found(id))
}

fn old(device: &Map<String, Value>) -> Value {
    Value::Object(device_json_to_old(device))
}

/// `GET /deviceManagement/importedAppleDeviceIdentities`: every token's, merged in the
/// request's order (as local mode's one query sorts them), in the old shape.
pub async fn list(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let select = response::selected(&c.query, &SPEC)?;
    let resource = "legacy/importedAppleDeviceIdentities";
    let page = merge::page(&c, resource, &SPEC, Sources::PerToken(TAIL), old).await?;
    Ok(response::collection(
        c.ctx,
        SET_PATH,
        Some(ODATA_TYPE),
        &page,
        &c.query,
        select.as_deref(),
    ))
}

/// `GET /deviceManagement/importedAppleDeviceIdentities/$count`: the sum of every token's.
pub async fn count(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let query = c
        .query
        .to_query_string_without(&[QueryOption::SkipToken, QueryOption::Skip]);
    let mut total = 0i64;
    for token in fanout::tokens(&c).await? {
        let mut url = on_token(&c, &token, &format!("{TAIL}/$count"));
        if !query.is_empty() {
            url = format!("{url}?{query}");
        }
        let reply = c.up.http.call(c.ctx, Method::GET, &url, None).await?;
        let n: i64 = String::from_utf8_lossy(&reply.body)
            .trim()
            .parse()
            .map_err(|_| {
                ApiError::BadGateway(
                    "The upstream answered $count with something other than a number.".to_owned(),
                )
            })?;
        total = total.saturating_add(n);
    }
    Ok(GraphResponse::count(total))
}

/// `GET /deviceManagement/importedAppleDeviceIdentities/{id}`.
pub async fn get(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let select = response::selected(&c.query, &SPEC)?;
    let (_, device) = find(&c).await?;
    let old = device_json_to_old(device.as_object().unwrap_or(&Map::new()));
    Ok(response::entity(
        c.ctx,
        StatusCode::OK,
        SET_PATH,
        Some(ODATA_TYPE),
        &old,
        select.as_deref(),
    ))
}

/// `POST /deviceManagement/importedAppleDeviceIdentities` → 201, on the legacy default token.
pub async fn create(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let body = Value::Object(device_body_from_old(json_object(c.body)?)?);
    let token = require_default(
        &c,
        "POST /beta/deviceManagement/depOnboardingSettings/{id}/importedAppleDeviceIdentities",
    )
    .await?;
    let created =
        c.up.http
            .call(
                c.ctx,
                Method::POST,
                &on_token(&c, &token, TAIL),
                Some(&body),
            )
            .await?
            .json();
    let old = device_json_to_old(created.as_object().unwrap_or(&Map::new()));
    let mut resp = response::entity(
        c.ctx,
        StatusCode::CREATED,
        SET_PATH,
        Some(ODATA_TYPE),
        &old,
        None,
    );
    if let Some(id) = old.get("id").and_then(Value::as_str) {
        resp.headers.push((
            "Location",
            format!("{}/beta/{SET_PATH}/{}", c.ctx.public_url, seg(id)),
        ));
    }
    Ok(resp)
}

/// `PATCH /deviceManagement/importedAppleDeviceIdentities/{id}` → 204.
pub async fn update(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let body = Value::Object(device_body_from_old(json_object(c.body)?)?);
    let (url, _) = find(&c).await?;
    c.up.http
        .call(c.ctx, Method::PATCH, &url, Some(&body))
        .await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE /deviceManagement/importedAppleDeviceIdentities/{id}` → 204.
pub async fn delete(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let (url, _) = find(&c).await?;
    c.up.http.call(c.ctx, Method::DELETE, &url, None).await?;
    Ok(GraphResponse::no_content())
}

/// `…/importAppleDeviceIdentityList` on the legacy default token; results in the old shape.
pub async fn import(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let body = json_object(c.body)?;
    check_old_import(&body)?;
    let per_token = "POST /beta/deviceManagement/depOnboardingSettings/{id}/importedAppleDeviceIdentities/importAppleDeviceIdentityList";
    let token = require_default(&c, per_token).await?;
    let url = on_token(&c, &token, &format!("{TAIL}/importAppleDeviceIdentityList"));
    let answer =
        c.up.http
            .call(c.ctx, Method::POST, &url, Some(&Value::Object(body)))
            .await?
            .json();
    let value: Vec<Value> = answer["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|r| import_result_to_old(r, r.get("status").and_then(Value::as_bool).unwrap_or(false)))
        .collect();
    Ok(GraphResponse::json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!(
                "{}/beta/$metadata#Collection(microsoft.graph.importedAppleDeviceIdentityResult)",
                c.ctx.public_url
            ),
            "value": value,
        }),
    ))
}
