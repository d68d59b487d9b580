//! The organization-scoped depOnboardingSettings and the collection-bound token actions of the
//! single-token API, over the upstream's `/deviceManagement/depOnboardingSettings`.

use actix_web::http::StatusCode;
use reqwest::Method;
use serde_json::{Value, json};

use super::UpCall;
use super::fanout::{self, SETTINGS, on_token, require_default, seg};
use super::merge::{self, Sources};
use crate::api::error::ApiError;
use crate::api::response::{self, GraphResponse, primitive};
use crate::api::table::{ORGANIZATION_ID, SETTING_ID};
use crate::api::{json_object, optional_json_object};
use crate::legacy::convert::{setting_body_from_old, setting_json_to_old};
use crate::legacy::settings::check_organization;
use crate::service::legacy::{DefaultToken, SETTING_SPEC as SPEC};

const ODATA_TYPE: &str = "#microsoft.graph.depOnboardingSetting";

fn set_path(org: &str) -> String {
    format!("organization('{org}')/depOnboardingSettings")
}

/// The organization of the path, checked against the caller's tenant.
fn organization<'a>(c: &'a UpCall<'_>) -> Result<&'a str, ApiError> {
    let org = c.params.get(ORGANIZATION_ID);
    check_organization(c.ctx, org)?;
    Ok(org)
}

fn old(value: &Value) -> Value {
    Value::Object(setting_json_to_old(
        value.as_object().unwrap_or(&serde_json::Map::new()),
    ))
}

/// `GET /organization/{org}/depOnboardingSettings`: the upstream's pages, converted.
pub async fn list(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let org = organization(&c)?;
    let select = response::selected(&c.query, &SPEC)?;
    let sources = Sources::One(c.up.http.beta(SETTINGS));
    let page = merge::page(&c, "legacy/depOnboardingSettings", &SPEC, sources, |s| {
        Value::Object(setting_json_to_old(s))
    })
    .await?;
    Ok(response::collection(
        c.ctx,
        &set_path(org),
        Some(ODATA_TYPE),
        &page,
        &c.query,
        select.as_deref(),
    ))
}

/// `GET /organization/{org}/depOnboardingSettings/{id}`.
pub async fn get(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let org = organization(&c)?;
    let select = response::selected(&c.query, &SPEC)?;
    let setting =
        c.up.http
            .get_json(c.ctx, &on_token(&c, c.params.get(SETTING_ID), ""))
            .await?;
    Ok(response::entity(
        c.ctx,
        StatusCode::OK,
        &set_path(org),
        Some(ODATA_TYPE),
        &old(&setting),
        select.as_deref(),
    ))
}

/// `POST /organization/{org}/depOnboardingSettings` → 201 in the old shape.
pub async fn create(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let org = organization(&c)?;
    let body = Value::Object(setting_body_from_old(json_object(c.body)?)?);
    let created =
        c.up.http
            .call(c.ctx, Method::POST, &c.up.http.beta(SETTINGS), Some(&body))
            .await?
            .json();
    let setting = old(&created);
    let mut resp = response::entity(
        c.ctx,
        StatusCode::CREATED,
        &set_path(org),
        Some(ODATA_TYPE),
        &setting,
        None,
    );
    if let Some(id) = setting["id"].as_str() {
        resp.headers.push((
            "Location",
            format!("{}/beta/{}/{}", c.ctx.public_url, set_path(org), seg(id)),
        ));
    }
    Ok(resp)
}

/// `PATCH /organization/{org}/depOnboardingSettings/{id}` → 204.
pub async fn update(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    organization(&c)?;
    let body = Value::Object(setting_body_from_old(json_object(c.body)?)?);
    let url = on_token(&c, c.params.get(SETTING_ID), "");
    c.up.http
        .call(c.ctx, Method::PATCH, &url, Some(&body))
        .await?;
    Ok(GraphResponse::no_content())
}

/// `DELETE /organization/{org}/depOnboardingSettings/{id}` → 204.
pub async fn delete(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    organization(&c)?;
    let url = on_token(&c, c.params.get(SETTING_ID), "");
    c.up.http.call(c.ctx, Method::DELETE, &url, None).await?;
    Ok(GraphResponse::no_content())
}

/// Checks the organization of the `/organization/{org}/…` forms of the collection actions.
fn check_owner(c: &UpCall<'_>) -> Result<(), ApiError> {
    if c.params.keys.iter().any(|(n, _)| *n == ORGANIZATION_ID) {
        organization(c)?;
    }
    Ok(())
}

/// Collection-bound `uploadDepToken`: to the legacy default token.
// GRAPH-COMPAT: local mode sends the token to the setting whose key decrypts it; the upstream
// keeps its keys, so upstream mode sends it to the legacy default token (the upstream refuses a
// token encrypted to another setting's key).
pub async fn upload_dep_token(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    check_owner(&c)?;
    let body = Value::Object(json_object(c.body)?);
    let token = require_default(
        &c,
        "POST /beta/deviceManagement/depOnboardingSettings/{id}/uploadDepToken",
    )
    .await?;
    c.up.http
        .call(
            c.ctx,
            Method::POST,
            &on_token(&c, &token, "/uploadDepToken"),
            Some(&body),
        )
        .await?;
    Ok(GraphResponse::no_content())
}

/// Collection-bound `syncWithAppleDeviceEnrollmentProgram`: syncs the legacy default token.
pub async fn sync(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    check_owner(&c)?;
    optional_json_object(c.body)?;
    let per_token = "POST /beta/deviceManagement/depOnboardingSettings/{id}/syncWithAppleDeviceEnrollmentProgram";
    let token = require_default(&c, per_token).await?;
    let url = on_token(&c, &token, "/syncWithAppleDeviceEnrollmentProgram");
    c.up.http.call(c.ctx, Method::POST, &url, None).await?;
    Ok(GraphResponse::no_content())
}

/// Collection-bound `getEncryptionPublicKey()`: the key of the legacy default token; on a
/// tenant without any token, of a new one (the old download-key → upload flow from scratch).
pub async fn get_encryption_public_key(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    check_owner(&c)?;
    let token = match fanout::default_token(&c).await?.1 {
        DefaultToken::One(id) => id,
        DefaultToken::NoToken => {
            let url = c.up.http.beta(SETTINGS);
            let created =
                c.up.http
                    .call(c.ctx, Method::POST, &url, Some(&json!({})))
                    .await?
                    .json();
            created["id"].as_str().map(str::to_owned).ok_or_else(|| {
                ApiError::BadGateway(
                    "The upstream created a depOnboardingSetting without an id.".to_owned(),
                )
            })?
        }
        DefaultToken::Ambiguous(n) => {
            return Err(fanout::ambiguous(
                n,
                "GET /beta/deviceManagement/depOnboardingSettings/{id}/getEncryptionPublicKey()",
            ));
        }
    };
    let key =
        c.up.http
            .get_json(c.ctx, &on_token(&c, &token, "/getEncryptionPublicKey()"))
            .await?;
    Ok(primitive(c.ctx, &key["value"]))
}

/// `GET /deviceManagement/depGateway.legacyDefaultToken`: what the header or the configuration
/// designates, and where old calls go now.
pub async fn default_token(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    let (ids, decided) = fanout::default_token(&c).await?;
    let effective = match decided {
        DefaultToken::One(id) => Some(id),
        DefaultToken::NoToken | DefaultToken::Ambiguous(_) => None,
    };
    Ok(GraphResponse::json(
        StatusCode::OK,
        &json!({
            "@odata.context": format!("{}/beta/$metadata#depGateway.legacyDefaultToken", c.ctx.public_url),
            "designatedDepOnboardingSettingId": c.designated(),
            "effectiveDepOnboardingSettingId": effective,
            "depOnboardingSettingCount": ids.len(),
        }),
    ))
}

/// PUT / PATCH / DELETE of the default-token resource: upstream mode keeps no state, so the
/// answer says where the designation lives instead (the configuration, or the request header).
pub async fn designate_refused(c: UpCall<'_>) -> Result<GraphResponse, ApiError> {
    Err(ApiError::BadRequest(format!(
        "This gateway runs in upstream mode and keeps no state, so the legacy default token cannot \
         be set through the API. Name it in the gateway's configuration ([upstream.default_tokens] \
         \"{}\" = \"<depOnboardingSetting id>\") or per request with the {} header; without either, \
         a tenant's only token is the default.",
        c.tenant,
        crate::http::DEFAULT_TOKEN_HEADER
    )))
}
